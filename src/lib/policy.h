/*
 * policy.h — privacyIDEA's policies: the compiled policy set of a
 * configuration snapshot, matching (PolicyClass.match_policies), combining
 * action values, the admin/user rights check, and writing policies.
 *
 * The set is built once per snapshot (SNAP_POLICIES) from the `policy`
 * and `policycondition` tables: comma lists split, regular expressions and
 * client networks compiled, time ranges parsed, policies ordered by
 * priority.  Requests never read policies from the database.
 *
 * Matching follows privacyIDEA 3.8 (../shared/spec/policies_events.md
 * §1.3–1.5, §2.2); where 3.8 has a plain defect Tessera does what was
 * intended (docs/compatibility.md, "Policies").
 *
 * Typical use by an endpoint (enforcement):
 *
 *     const struct policy_set *ps = policy_set_of(snap);
 *     struct policy_match m = { .scope = "admin", .action = "enable",
 *             .user = u.login, .realm = u.realm, .resolver = u.resolver,
 *             .adminuser = who->username, .adminrealm = who->realm,
 *             .client = rq->client_ip, .pinode = app->node };
 *     if (policy_check_right(ps, &m, &env, err) < 0) return -1;  // 403/303
 *
 *     m = (struct policy_match){ .scope = "authentication", .action = "otppin", ... };
 *     char *v; if (policy_action_unique(ps, &m, &env, 0, &v, NULL, err) < 0) ...
 */
#ifndef TESSERA_POLICY_H
#define TESSERA_POLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "error.h"

struct app;
struct db_conn;
struct snapshot;
struct store_policy;

struct policy;     /* one compiled policy */
struct policy_set; /* every policy of a snapshot */

/* The policy set of a snapshot (never NULL for a loaded snapshot). */
const struct policy_set *policy_set_of(const struct snapshot *s);
/* Build a set from rows (tests, benchmarks; the snapshot part uses it). */
struct policy_set *policy_set_build(const struct store_policy *rows, size_t n, struct error *err);
void policy_set_free(struct policy_set *ps);
size_t policy_set_size(const struct policy_set *ps);

/* ---- the matching context ---- */

/* Which extended conditions are evaluated (privacyIDEA's CONDITION_CHECK). */
enum policy_conditions {
	POLICY_COND_ALL = 0,  /* every section; missing data is a PolicyError */
	POLICY_COND_USERINFO, /* only userinfo conditions (rights of a logged-in user) */
	POLICY_COND_NONE,     /* none (rights of an admin, internal checks) */
};

/* What a request can tell the conditions; every member may be NULL. */
struct policy_env {
	void *ctx;
	/* The user object's attributes (resolver info + custom attributes);
	 * *info NULL when the request has no user.  Called at most once. */
	int (*userinfo)(void *ctx, const json_t **info, struct error *err);
	/* The request's token as privacyIDEA's Token.get(): columns (serial,
	 * tokentype, active, count, failcount, ...) plus "info" (tokeninfo
	 * dict); *token NULL when the request names no (existing) token. */
	int (*token)(void *ctx, const json_t **token, struct error *err);
	/* A request header (case-insensitive) or NULL. */
	const char *(*header)(void *ctx, const char *name);
	/* A WSGI environment variable (PATH_INFO, REQUEST_METHOD, REMOTE_ADDR,
	 * HTTP_<HEADER> ...) or NULL. */
	const char *(*environ)(void *ctx, const char *key);
	/* Every resolver of user in realm, by realm priority, NULL-terminated
	 * (check_all_resolvers); the array lives as long as ctx. */
	int (*user_resolvers)(void *ctx, const char *user, const char *realm, const char *const **list,
			      struct error *err);
};

/* A filter given as NULL is not applied; any other value (even "") is:
 * a policy passes when its list is empty or the value is found in it and
 * not excluded. */
struct policy_match {
	const char *scope;     /* required */
	const char *action;    /* the policy must contain this action (by key) */
	const char *user;      /* login name of the user acted upon */
	const char *realm;     /* realm of that user (lower case) */
	const char *resolver;  /* resolver of that user */
	const char *adminuser; /* scope admin only: the acting admin */
	const char *adminrealm;
	const char *client;    /* client IP; "" is an error (as privacyIDEA) */
	const char *pinode;    /* this node's name */
	time_t now;            /* 0: now; matched in server local time */
	enum policy_conditions conditions;
};

/* The matching policies, highest priority (lowest number) first. */
struct policy_hits {
	const struct policy **v;
	size_t n, cap;
	const struct policy *small[16];
};
void policy_hits_free(struct policy_hits *h);

/* ---- evaluation (all read-only on the set; safe from any thread) ---- */

/* Every active policy matching m.  0 ok, -1 error (PolicyError 303 from a
 * condition, ERR905 for an empty client). */
int policy_match(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
		 struct policy_hits *out, struct error *err);
/* 1 if any policy matches, 0 if none, -1 error. */
int policy_any(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
	       struct error *err);
/* Number of active policies in the scope (any client, time, user ...):
 * "is any policy defined in scope". */
size_t policy_scope_active(const struct policy_set *ps, const char *scope);
/* Match.allowed(): 1 when a matching policy contains the action, or when
 * the scope has no active policy at all; 0 denied; -1 error. */
int policy_allowed(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
		   struct error *err);
/* The admin/user right check of every endpoint (check_base_action): 0 when
 * allowed, else -1 with PolicyError 303 "Admin actions are defined, but the
 * action X is not allowed!" (or "User actions ..."). */
int policy_check_right(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
		       struct error *err);

#define POLICY_UNIQUE 1u           /* only the highest priority; differing values there: PolicyError */
#define POLICY_ALLOW_WHITESPACE 2u /* the value is one text, not a blank-separated list */

/* extract_action_values: {value: [policy names ...]} in match order.
 * Values in single quotes lose the quotes and keep their blanks; other
 * values are split at whitespace unless POLICY_ALLOW_WHITESPACE.  Boolean
 * (bare) actions contribute no value.  POLICY_UNIQUE: only the policies of
 * the highest matching priority count, and more than one distinct value
 * among them is PolicyError 303 "There are policies with conflicting
 * actions: ['p1', 'p2']".  New object in *out. */
int policy_action_values(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
			 unsigned flags, json_t **out, struct error *err);
/* The one value of a unique action: 1 found (*value malloc'd; *policy,
 * if given, gets the first policy's name, a borrowed pointer valid as long
 * as the set), 0 no matching policy defines it, -1 error/conflict. */
int policy_action_unique(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
			 unsigned flags, char **value, const char **policy, struct error *err);
/* Numeric limits (max_token_per_user, <type>_max_active_token_per_user, ...):
 * the highest integer among all matching policies, priorities ignored.
 * 1 found, 0 none, -1 error. */
int policy_action_max_int(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
			  long long *out, struct error *err);
/* check_for_conflicts: the policies of the highest priority in hits must
 * agree on the value of action, else PolicyError "Contradicting <action>
 * policies." (passthru). */
int policy_check_conflicts(const struct policy_hits *hits, const char *action, struct error *err);

/* ui_get_rights: the action keys (and "key=value" for values) of every
 * admin (m->scope "admin", matched by adminuser/adminrealm/client, no
 * conditions) or user policy (scope "user", matched by user/realm/resolver
 * and userinfo conditions) that applies; every action of the scope when it
 * has no active policy.  New array in *out. */
int policy_rights(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
		  json_t **out, struct error *err);

/* ---- one matched policy ---- */
const char *policy_name(const struct policy *p);
int policy_priority(const struct policy *p);
/* 1 when the policy has the action key (exact), *value = its value or NULL
 * for a bare (boolean) action; 0 when absent. */
int policy_action_get(const struct policy *p, const char *action, const char **value);
/* The serialised form (GET /policy), borrowed. */
const json_t *policy_json(const struct policy *p);
/* Append the names of hits to an audit "policies" field (comma-separated,
 * each name once, never overflowing buf). */
void policy_hits_audit(const struct policy_hits *hits, char *buf, size_t len);
/* The same for one name (e.g. the policies behind an action value). */
void policy_audit_add(char *buf, size_t len, const char *name);

/* ---- listing (GET /policy) ---- */
/* list_policies(name, realm, scope, active): active -1 = any, 0/1. Sorted
 * by priority. New array of serialised policies. */
json_t *policy_list(const struct policy_set *ps, const char *name, const char *realm, const char *scope,
		    int active);

/* ---- writing (policy_write.c) ----
 * Each runs inside the caller's write transaction and bumps the
 * configuration timestamp. */

#define POLICY_WRITE_API 1u /* apply the REST API's name rules */

/* set_policy: create or update `name` from fields (an object with any of
 * scope, action (string, list or {action: true|value}), realm, resolver,
 * user, adminrealm, adminuser, pinode, client (string or list), time,
 * priority, active, check_all_resolvers, conditions ([[section, key,
 * comparator, value, active], ...])).  Everything is validated; fields not
 * given keep their stored value, except active (default true) and
 * check_all_resolvers (default false), as privacyIDEA.  *id gets the row
 * id.  Errors: ERR905 bad input, ERR302 "Invalid client definition!". */
int policy_write(struct db_conn *c, const char *name, const json_t *fields, unsigned flags, int64_t *id,
		 struct error *err);
/* enable/disable: 0 done, -1 error (404/601 when absent). */
int policy_enable(struct db_conn *c, const char *name, int active, int64_t *id, struct error *err);
/* 0 done, -1 error (404/601 "The requested Policy could not be found."). */
int policy_delete(struct db_conn *c, const char *name, int64_t *id, struct error *err);

/* ---- files (policy_io.c) ---- */
/* GET /policy/export: privacyIDEA's file ("[name]" sections of "key = value"
 * with Python literals), every policy of the set. malloc'd text. */
char *policy_export_cfg(const struct policy_set *ps);
/* POST /policy/import: parse such a file into [{field: value}] (each with
 * "name"); ERR905 when malformed or empty. */
int policy_parse_cfg(const char *text, json_t **policies, struct error *err);
/* pi-manage p_export: a Python literal {'policy': [policy dicts]}. */
char *policy_export_pylist(const struct policy_set *ps, const char *name);
/* Parse a Python literal (pi-manage files, `create` files) into JSON. */
json_t *policy_pyliteral_parse(const char *text, struct error *err);

#endif
