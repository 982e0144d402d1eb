/*
 * guard.c — the rights check of every endpoint (privacyIDEA's
 * check_base_action) and the realm restriction of admin lists.  Reads the
 * policies of the request's snapshot through lib/polctx; never writes,
 * holds no SQL.
 */
#include "guard.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "../http/route.h"
#include "../lib/app.h"
#include "../lib/policy.h"
#include "../lib/realm.h"
#include "../lib/snapshot.h"
#include "../lib/token.h"
#include "../lib/user.h"

int api_polctx(struct request *rq, struct polctx *p, struct error *err)
{
	memset(p, 0, sizeof(*p));
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	p->ps = policy_set_of(s);
	p->snap = s;
	p->c = request_db(rq, err);
	if (!p->c)
		return -1;
	p->client = rq->client_ip && *rq->client_ip ? rq->client_ip : "127.0.0.1";
	p->pinode = rq->app->node;
	if (rq->who.role == ROLE_ADMIN || rq->who.role == ROLE_USER)
		p->role = rq->who.role == ROLE_ADMIN ? "admin" : "user";
	if (rq->who.role == ROLE_ADMIN) {
		p->adminuser = rq->who.username;
		p->adminrealm = rq->who.realm;
	}
	p->req_ctx = rq;
	p->header = api_policy_header;
	p->environ = api_policy_environ;
	p->audit = rq->audit.policies;
	p->audit_len = sizeof(rq->audit.policies);
	return 0;
}

const struct polctx *api_request_polctx(struct request *rq, struct error *err)
{
	if (rq->pol)
		return rq->pol;
	struct polctx *p = malloc(sizeof(*p));
	if (!p) {
		err_internal(err, "out of memory");
		return NULL;
	}
	if (api_polctx(rq, p, err) < 0) {
		free(p);
		return NULL;
	}
	p->cache = polctx_cache_new(); /* NULL (out of memory): no caching */
	rq->pol = p;
	return p;
}

int api_polctx_cached(struct request *rq, struct polctx *p, struct error *err)
{
	const struct polctx *rp = api_request_polctx(rq, err);
	if (!rp)
		return -1;
	*p = *rp; /* shares the request's userinfo cache */
	return 0;
}

void api_request_polctx_free(struct polctx *p)
{
	if (!p)
		return;
	polctx_cache_free(p->cache);
	free(p);
}

const char *api_route_action(struct request *rq, char *buf, size_t len)
{
	const char *a = rq->route ? rq->route->action : NULL;
	if (!a || !strncmp(a, API_ACTION_FILTER, strlen(API_ACTION_FILTER)))
		return NULL; /* a list reduced by the handler, never a 403 */
	if (!strncmp(a, API_ACTION_ADMIN, strlen(API_ACTION_ADMIN))) {
		if (rq->who.role != ROLE_ADMIN)
			return NULL; /* users: their own objects only */
		a += strlen(API_ACTION_ADMIN);
	}
	const char *t = strstr(a, "<TYPE>");
	if (!t)
		return a;
	const char *type = param_str(rq, "type");
	if (!type || !*type)
		type = "hotp";
	size_t n = (size_t)(t - a);
	if (n + strlen(type) + 1 > len)
		n = 0;
	memcpy(buf, a, n);
	size_t i = n;
	for (const char *c = type; *c && i + 1 < len; c++)
		buf[i++] = (char)toupper((unsigned char)*c);
	buf[i] = '\0';
	return buf;
}

static const char *scope_of(struct request *rq)
{
	return rq->who.role == ROLE_ADMIN ? "admin" : "user";
}

static int denied(struct request *rq, const char *action, struct error *err)
{
	int admin = rq->who.role == ROLE_ADMIN;
	if (!strncmp(action, "enroll", 6) && action[6] && isupper((unsigned char)action[6]) &&
	    strcmp(action, "enrollpin"))
		return err_set(err, ERRK_POLICY, ERR_POLICY,
			       admin ? "Admin actions are defined, but you are not allowed to enroll this token type!"
				     : "User actions are defined, you are not allowed to enroll this token type!");
	if (admin && !strcmp(action, "importtokens")) /* privacyIDEA's check_token_upload */
		return err_set(err, ERRK_POLICY, ERR_POLICY,
			       "Admin actions are defined, but you are not allowed to upload token files.");
	return err_set(err, ERRK_POLICY, ERR_POLICY, "%s actions are defined, but the action %s is not allowed!",
		       admin ? "Admin" : "User", action);
}

/* The caller as a user (role user). */
static void caller_user(struct request *rq, struct user *u)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->login, sizeof(u->login), "%s", rq->who.username);
	snprintf(u->realm, sizeof(u->realm), "%s", rq->who.realm);
	snprintf(u->resolver, sizeof(u->resolver), "%s", rq->who.resolver);
}

static int check(struct request *rq, struct polctx *p, const char *action, const struct user *u, const char *realm,
		 struct token *t, struct error *err)
{
	struct polq q = { .scope = scope_of(rq), .action = action, .token = t };
	struct user me;
	if (rq->who.role == ROLE_ADMIN) {
		q.adminuser = rq->who.username;
		q.adminrealm = rq->who.realm;
		q.user = u;
		q.realm = realm;
		if (!u && !realm && !t)
			q.action_only = 1;
	} else {
		caller_user(rq, &me);
		q.user = &me;
	}
	int ok = polctx_allowed(p, &q, err);
	if (ok < 0)
		return -1;
	return ok ? 0 : denied(rq, action, err);
}

int api_check_right(struct request *rq, const char *action, const struct user *u, const char *realm,
		    struct error *err)
{
	struct polctx p;
	if (api_polctx_cached(rq, &p, err) < 0)
		return -1;
	if (!polctx_scope_active(&p, scope_of(rq)))
		return 0;
	return check(rq, &p, action, u && (u->login[0] || u->realm[0]) ? u : NULL, realm && *realm ? realm : NULL, NULL,
		     err);
}

/* policy: admin.<action> for a user of a resolver (the guard cannot see
 * it: the resolver decides the realm).  Allowed when the admin may act in
 * one of the realms containing the resolver; a resolver in no realm: the
 * user is matched with an empty realm.  Users: checked by the guard. */
int api_check_resolver_user_right(struct request *rq, const char *action, const char *login, const char *resolver,
				  struct error *err)
{
	if (rq->who.role != ROLE_ADMIN)
		return 0;
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	struct user u;
	memset(&u, 0, sizeof(u));
	snprintf(u.login, sizeof(u.login), "%s", login ? login : "");
	snprintf(u.resolver, sizeof(u.resolver), "%s", resolver ? resolver : "");
	json_t *realms = realm_of_resolver(s, resolver ? resolver : "");
	if (!json_array_size(realms)) {
		json_decref(realms);
		return api_check_right(rq, action, &u, NULL, err);
	}
	size_t i;
	json_t *r;
	int rc = -1;
	json_array_foreach(realms, i, r) {
		snprintf(u.realm, sizeof(u.realm), "%s", json_string_value(r));
		struct error e2 = { 0 };
		rc = api_check_right(rq, action, &u, NULL, &e2);
		if (rc == 0 || e2.kind != ERRK_POLICY) {
			*err = e2;
			break;
		}
		*err = e2;
	}
	json_decref(realms);
	return rc;
}

static int token_right(struct request *rq, struct polctx *p, const char *action, struct token *t,
		       struct error *err)
{
	if (rq->who.role != ROLE_ADMIN)
		return check(rq, p, action, NULL, NULL, t, err);
	/* An owner decides; else the token must be usable in one of its realms. */
	if (t->r.resolver && t->r.resolver[0] && t->r.user_id) {
		struct user owner;
		const char *rn = realm_name_by_id(p->snap, t->r.owner_realm_id);
		struct error e2 = { 0 };
		if (user_from_uid(p->snap, p->c, t->r.resolver, t->r.user_id, rn ? rn : "", &owner, &e2) == 0)
			return check(rq, p, action, &owner, NULL, t, err);
	}
	struct token_ctx x = { 0 };
	x.app = rq->app;
	x.c = p->c;
	x.snap = p->snap;
	json_t *realms = token_realms(&x, t, err);
	if (!realms)
		return -1;
	if (!json_array_size(realms)) {
		struct polq q = { .scope = "admin", .action = action, .token = t, .action_only = 1,
				  .adminuser = rq->who.username, .adminrealm = rq->who.realm };
		int ok = polctx_allowed(p, &q, err);
		if (ok < 0)
			return -1;
		return ok ? 0 : denied(rq, action, err);
	}
	size_t i;
	json_t *r;
	json_array_foreach(realms, i, r) {
		struct error e3 = { 0 };
		if (check(rq, p, action, NULL, json_string_value(r), t, &e3) == 0)
			return 0;
		if (e3.kind != ERRK_POLICY) {
			*err = e3;
			return -1;
		}
	}
	return denied(rq, action, err);
}

int api_check_token_right(struct request *rq, const char *action, struct token *t, struct error *err)
{
	struct polctx p;
	if (api_polctx_cached(rq, &p, err) < 0)
		return -1;
	if (!polctx_scope_active(&p, scope_of(rq)))
		return 0;
	return token_right(rq, &p, action, t, err);
}

/* privacyIDEA's realmadmin prepolicy (before the userlist check): an
 * admin whose userlist policies name realms and who gives no realm lists
 * the users of the first of them. */
static int realmadmin(struct request *rq, struct error *err)
{
	if (rq->who.role != ROLE_ADMIN || json_object_get(rq->params, "realm"))
		return 0;
	json_t *realms = NULL;
	if (api_allowed_realms(rq, "userlist", &realms, err) < 0)
		return -1;
	if (json_array_size(realms))
		json_object_set(rq->params, "realm", json_array_get(realms, 0));
	json_decref(realms);
	return 0;
}

int api_guard(struct request *rq, struct error *err)
{
	char buf[80];
	const char *action = api_route_action(rq, buf, sizeof(buf));
	if (!action || rq->who.role == ROLE_NONE)
		return 0;
	struct polctx p;
	if (api_polctx_cached(rq, &p, err) < 0)
		return -1;
	if (!polctx_scope_active(&p, scope_of(rq)))
		return 0; /* no policy in the scope: everything is allowed */
	if (rq->who.role != ROLE_ADMIN)
		return check(rq, &p, action, NULL, NULL, NULL, err);

	if (!strcmp(action, "userlist") && realmadmin(rq, err) < 0)
		return -1;
	const char *login = param_str(rq, "user");
	const char *realm = param_str(rq, "realm");
	const char *resolver = param_str(rq, "resolver");
	const char *serial = param_str(rq, "serial");
	/* The user or realm acted upon, and the token named by serial: both
	 * must be allowed (assigning a realm-B token to a realm-A user, or
	 * overwriting it with /token/init, acts in realm B too). */
	int rc = 1; /* 1: nothing checked yet */
	if (login && *login && (!realm || !*realm) && resolver && *resolver) {
		/* the resolver decides the realm(s) (POST/PUT /user/) */
		rc = api_check_resolver_user_right(rq, action, login, resolver, err);
	} else if (login && *login) {
		struct user u;
		struct error e2 = { 0 };
		if (user_from_params(p.snap, p.c, login, realm, resolver, &u, &e2) != 0) {
			/* not resolvable (yet): match the names as given */
			memset(&u, 0, sizeof(u));
			snprintf(u.login, sizeof(u.login), "%s", login);
			const char *r = realm && *realm ? realm : realm_default(p.snap);
			snprintf(u.realm, sizeof(u.realm), "%s", r ? r : "");
			snprintf(u.resolver, sizeof(u.resolver), "%s", resolver ? resolver : "");
		}
		rc = check(rq, &p, action, &u, NULL, NULL, err);
	} else if (realm && *realm) {
		rc = check(rq, &p, action, NULL, realm, NULL, err);
	}
	if (rc < 0)
		return -1;
	if (serial && *serial) {
		struct token_ctx x = { 0 };
		x.app = rq->app;
		x.c = p.c;
		x.snap = p.snap;
		struct token *t = NULL;
		int found = token_load(&x, serial, &t, err);
		if (found < 0)
			return -1;
		if (found == 0) {
			found = token_right(rq, &p, action, t, err);
			token_free(t);
			return found;
		}
	}
	return rc == 0 ? 0 : check(rq, &p, action, NULL, NULL, NULL, err);
}

int api_allowed_realms(struct request *rq, const char *action, json_t **realms, struct error *err)
{
	*realms = NULL;
	if (rq->who.role != ROLE_ADMIN)
		return 0;
	struct polctx p;
	if (api_polctx_cached(rq, &p, err) < 0)
		return -1;
	if (!polctx_scope_active(&p, "admin"))
		return 0;
	struct polq q = { .scope = "admin", .action = action, .action_only = 1, .adminuser = rq->who.username,
			  .adminrealm = rq->who.realm, .conditions = POLICY_COND_NONE };
	struct policy_hits h;
	if (polctx_hits(&p, &q, &h, err) < 0)
		return -1;
	json_t *out = json_array();
	for (size_t i = 0; i < h.n; i++) {
		const json_t *pr = json_object_get(policy_json(h.v[i]), "realm");
		if (!json_array_size(pr)) {
			json_decref(out);
			out = NULL; /* a policy for every realm */
			break;
		}
		size_t k;
		json_t *r;
		json_array_foreach(pr, k, r) {
			int dup = 0;
			size_t j;
			json_t *o;
			json_array_foreach(out, j, o)
				dup |= json_equal(o, r);
			if (!dup)
				json_array_append(out, r);
		}
	}
	policy_hits_free(&h);
	*realms = out;
	return 0;
}

int api_realm_limit(struct request *rq, const char *action, struct store_realm_limit *lim, struct error *err)
{
	memset(lim, 0, sizeof(*lim));
	json_t *names = NULL;
	if (api_allowed_realms(rq, action, &names, err) < 0)
		return -1;
	if (!names)
		return 0;
	struct snapshot *s = request_snapshot(rq, err);
	if (!s) {
		json_decref(names);
		return -1;
	}
	lim->on = 1;
	size_t i;
	json_t *r;
	json_array_foreach(names, i, r) {
		long long id = realm_id(s, json_string_value(r));
		if (id <= 0)
			continue; /* a policy realm that does not exist holds no token */
		if (lim->n == STORE_REALM_LIMIT_MAX) {
			json_decref(names);
			return err_internal(err, "more than %d realms in the admin policies", STORE_REALM_LIMIT_MAX);
		}
		lim->ids[lim->n++] = id;
	}
	json_decref(names);
	return 0;
}
