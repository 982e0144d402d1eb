/*
 * polctx.h — one request's policy context for the domain layer, and the
 * privacyIDEA `Match` constructors on top of policy.h.
 *
 * The API layer fills a struct polctx once per request (api_polctx() in
 * src/api/guard.h) and hands it to the library (token_ctx.pol, …); the
 * library asks questions with a struct polq saying whom the question is
 * about.  Which fields of the match are applied follows privacyIDEA's
 * Match class (../shared/spec/policies_events.md §1.4):
 *
 *   polq.user set            → Match.user  (user, realm, resolver of that user)
 *   polq.realm set, no user  → Match.realm (realm only)
 *   polq.token set, no user/realm → Match.token (owner → user; else the
 *                              token's single realm; else action only)
 *   polq.action_only         → Match.action_only (no user/realm/resolver)
 *   none of them             → action only
 *   scope "admin"            → adminuser/adminrealm of polq (Match.admin)
 *
 * Extended conditions: userinfo from polq.user (looked up once, lazily),
 * token from polq.token, headers/environment from the request.  Matched
 * policy names are appended to the request's audit "policies" field.
 *
 * A NULL polctx (or one whose ps is NULL) behaves as "no policy defined":
 * every query finds nothing, polctx_allowed() says yes.
 */
#ifndef TESSERA_POLCTX_H
#define TESSERA_POLCTX_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"
#include "policy.h"

struct db_conn;
struct snapshot;
struct user;
struct token;

struct polctx {
	const struct policy_set *ps; /* the snapshot's policies; NULL = none */
	struct snapshot *snap;       /* for userinfo / check_all_resolvers */
	struct db_conn *c;
	const char *client;          /* client IP (never "") */
	const char *pinode;          /* this node's name */
	/* The caller (privacyIDEA's g.logged_in_user), for questions asked in
	 * the caller's own scope (Match.admin_or_user / Match.generic with
	 * scope=role): role "admin" or "user", NULL when none (CLI); an
	 * admin's name and realm. */
	const char *role;
	const char *adminuser;
	const char *adminrealm;
	/* Request side of conditions: ctx + header + environ (may be NULL). */
	void *req_ctx;
	const char *(*header)(void *req_ctx, const char *name);
	const char *(*environ)(void *req_ctx, const char *key);
	char *audit;                 /* the audit "policies" field, or NULL */
	size_t audit_len;
	/* Userinfo looked up for conditions, kept for the request (mutable
	 * behind a const polctx; NULL = look up on every question). */
	struct polctx_cache *cache;
};

/* A request's userinfo cache (polctx.cache): new / free (NULL is fine). */
struct polctx_cache *polctx_cache_new(void);
void polctx_cache_free(struct polctx_cache *c);

struct polq {
	const char *scope;          /* required */
	const char *action;         /* required */
	const struct user *user;    /* the user acted upon / authenticating, or NULL */
	const char *realm;          /* realm only (no user), or NULL */
	struct token *token;        /* Match.token and token conditions, or NULL */
	int action_only;            /* 1: user/realm/resolver filters not applied */
	const char *adminuser;      /* scope "admin": the logged-in admin */
	const char *adminrealm;
	enum policy_conditions conditions; /* POLICY_COND_ALL by default */
};

/* The matching policies (hits freed by the caller with policy_hits_free). */
int polctx_hits(const struct polctx *p, const struct polq *q, struct policy_hits *h, struct error *err);
/* 1 when any matching policy contains the action (boolean actions), 0 no,
 * -1 error. */
int polctx_any(const struct polctx *p, const struct polq *q, struct error *err);
/* The one value of a unique action (POLICY_UNIQUE implied; flags may add
 * POLICY_ALLOW_WHITESPACE): 1 found (*value malloc'd), 0 none, -1 error or
 * conflict (PolicyError 303). */
int polctx_value(const struct polctx *p, const struct polq *q, unsigned flags, char **value, struct error *err);
/* All values of all matching policies (unique=False): new array of
 * strings in match order without duplicates; empty when none. */
int polctx_values(const struct polctx *p, const struct polq *q, unsigned flags, json_t **out, struct error *err);
/* Highest integer among matching policies: 1 found, 0 none, -1 error. */
int polctx_max(const struct polctx *p, const struct polq *q, long long *out, struct error *err);
/* Match.allowed(): 1 allowed (a matching policy has the action, or the
 * scope has no active policy), 0 denied, -1 error. */
int polctx_allowed(const struct polctx *p, const struct polq *q, struct error *err);
/* Number of active policies of a scope (0 when p or p->ps is NULL). */
size_t polctx_scope_active(const struct polctx *p, const char *scope);

#endif
