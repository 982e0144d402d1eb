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
	rq->pol = p;
	return p;
}

const char *api_route_action(struct request *rq, char *buf, size_t len)
{
	const char *a = rq->route ? rq->route->action : NULL;
	if (!a)
		return NULL;
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
	if (api_polctx(rq, &p, err) < 0)
		return -1;
	if (!polctx_scope_active(&p, scope_of(rq)))
		return 0;
	return check(rq, &p, action, u && (u->login[0] || u->realm[0]) ? u : NULL, realm && *realm ? realm : NULL, NULL,
		     err);
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
	if (api_polctx(rq, &p, err) < 0)
		return -1;
	if (!polctx_scope_active(&p, scope_of(rq)))
		return 0;
	return token_right(rq, &p, action, t, err);
}

int api_guard(struct request *rq, struct error *err)
{
	char buf[80];
	const char *action = api_route_action(rq, buf, sizeof(buf));
	if (!action || rq->who.role == ROLE_NONE)
		return 0;
	struct polctx p;
	if (api_polctx(rq, &p, err) < 0)
		return -1;
	if (!polctx_scope_active(&p, scope_of(rq)))
		return 0; /* no policy in the scope: everything is allowed */
	if (rq->who.role != ROLE_ADMIN)
		return check(rq, &p, action, NULL, NULL, NULL, err);

	const char *login = param_str(rq, "user");
	const char *realm = param_str(rq, "realm");
	const char *resolver = param_str(rq, "resolver");
	const char *serial = param_str(rq, "serial");
	if (login && *login) {
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
		return check(rq, &p, action, &u, NULL, NULL, err);
	}
	if (realm && *realm)
		return check(rq, &p, action, NULL, realm, NULL, err);
	if (serial && *serial) {
		struct token_ctx x = { 0 };
		x.app = rq->app;
		x.c = p.c;
		x.snap = p.snap;
		struct token *t = NULL;
		int rc = token_load(&x, serial, &t, err);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			rc = token_right(rq, &p, action, t, err);
			token_free(t);
			return rc;
		}
	}
	return check(rq, &p, action, NULL, NULL, NULL, err);
}

int api_allowed_realms(struct request *rq, const char *action, json_t **realms, struct error *err)
{
	*realms = NULL;
	if (rq->who.role != ROLE_ADMIN)
		return 0;
	struct polctx p;
	if (api_polctx(rq, &p, err) < 0)
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
