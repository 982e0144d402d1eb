/*
 * polctx.c — privacyIDEA's Match constructors for the domain layer: turn
 * "which policy value applies to this user / realm / token" into a
 * policy_match plus the condition callbacks, and record the policies used
 * in the audit row.  Pure evaluation: never writes, never reads policies
 * from the database (they come compiled with the snapshot).
 */
#include "polctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "realm.h"
#include "token.h"
#include "user.h"

/* What the condition callbacks see while one query runs. */
struct qenv {
	const struct polctx *p;
	const struct polq *q;
	const struct user *u;   /* the user of the match (maybe the token owner) */
	json_t *userinfo;       /* cached lookups (owned) */
	int userinfo_done;
	json_t *tokendict;
	int token_done;
	struct policy_env env;
};

/* A few users per request at most: the caller, the user acted upon, a
 * token owner. */
#define CACHE_USERS 4

struct polctx_cache {
	struct {
		char key[800]; /* login \n realm \n resolver */
		json_t *info;
	} v[CACHE_USERS];
	int n;
};

struct polctx_cache *polctx_cache_new(void)
{
	return calloc(1, sizeof(struct polctx_cache));
}

void polctx_cache_free(struct polctx_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++)
		json_decref(c->v[i].info);
	free(c);
}

static int cb_userinfo(void *ctx, const json_t **info, struct error *err)
{
	struct qenv *e = ctx;
	*info = NULL;
	if (!e->u || !e->u->login[0] || !e->p->snap || !e->p->c)
		return 0;
	if (e->userinfo_done) {
		*info = e->userinfo;
		return 0;
	}
	struct polctx_cache *c = e->p->cache;
	char key[800];
	snprintf(key, sizeof(key), "%s\n%s\n%s", e->u->login, e->u->realm, e->u->resolver);
	for (int i = 0; c && i < c->n; i++)
		if (!strcmp(c->v[i].key, key)) {
			e->userinfo_done = 1;
			e->userinfo = json_incref(c->v[i].info);
			*info = e->userinfo;
			return 0;
		}
	e->userinfo_done = 1;
	if (user_info(e->p->snap, e->p->c, e->u, &e->userinfo, err) < 0)
		return -1;
	if (c && c->n < CACHE_USERS && e->userinfo) {
		snprintf(c->v[c->n].key, sizeof(c->v[c->n].key), "%s", key);
		c->v[c->n++].info = json_incref(e->userinfo);
	}
	*info = e->userinfo;
	return 0;
}

static int cb_token(void *ctx, const json_t **tok, struct error *err)
{
	struct qenv *e = ctx;
	*tok = NULL;
	struct token *t = e->q->token;
	if (!t)
		return 0;
	if (!e->token_done) {
		e->token_done = 1;
		struct token_ctx x = { 0 };
		x.c = e->p->c;
		x.snap = e->p->snap;
		json_t *d = x.c ? token_as_dict(&x, t, err) : NULL;
		if (!d && x.c)
			return -1;
		if (!d) { /* no connection: the columns and tokeninfo only */
			d = json_pack("{s:s,s:s,s:b,s:I,s:i,s:i,s:i,s:O}", "serial", t->r.serial, "tokentype",
				      t->r.tokentype ? t->r.tokentype : "", "active", t->r.active, "count",
				      (json_int_t)t->r.count, "failcount", t->r.failcount, "maxfail", t->r.maxfail, "otplen",
				      t->r.otplen, "info", t->info ? t->info : json_object());
		}
		e->tokendict = d;
	}
	*tok = e->tokendict;
	return 0;
}

static const char *cb_header(void *ctx, const char *name)
{
	struct qenv *e = ctx;
	return e->p->header ? e->p->header(e->p->req_ctx, name) : NULL;
}

static const char *cb_environ(void *ctx, const char *key)
{
	struct qenv *e = ctx;
	return e->p->environ ? e->p->environ(e->p->req_ctx, key) : NULL;
}

static int cb_user_resolvers(void *ctx, const char *user, const char *realm, const char *const **list,
			     struct error *err)
{
	(void)user;
	(void)err;
	struct qenv *e = ctx;
	*list = e->p->snap ? realm_resolvers(e->p->snap, realm) : NULL;
	return 0;
}

/* Owner of a token as a user (login resolved from the uid). */
struct owner {
	struct user u;
	int have;
};

/* Build the match for q.  *owner is filled when Match.token finds an
 * owner; single_realm receives the token's only realm. */
static int build(const struct polctx *p, const struct polq *q, struct policy_match *m, struct qenv *e,
		 struct owner *own, struct error *err)
{
	memset(m, 0, sizeof(*m));
	memset(e, 0, sizeof(*e));
	e->p = p;
	e->q = q;
	e->env.ctx = e;
	e->env.userinfo = cb_userinfo;
	e->env.token = cb_token;
	e->env.header = cb_header;
	e->env.environ = cb_environ;
	e->env.user_resolvers = cb_user_resolvers;
	m->scope = q->scope;
	m->action = q->action;
	m->client = p->client && *p->client ? p->client : NULL;
	m->pinode = p->pinode;
	m->conditions = q->conditions;
	if (!strcmp(q->scope, "admin")) {
		m->adminuser = q->adminuser;
		m->adminrealm = q->adminrealm;
	}
	if (q->action_only)
		return 0;
	if (q->user && (q->user->login[0] || q->user->realm[0])) {
		m->user = q->user->login;
		m->realm = q->user->realm;
		m->resolver = q->user->resolver[0] ? q->user->resolver : NULL;
		e->u = q->user;
		return 0;
	}
	if (q->realm) {
		m->realm = q->realm;
		return 0;
	}
	if (q->token) {
		struct token *t = q->token;
		if (t->r.resolver && t->r.resolver[0] && t->r.user_id && p->snap && p->c) {
			const char *rn = realm_name_by_id(p->snap, t->r.owner_realm_id);
			struct error e2 = { 0 };
			if (user_from_uid(p->snap, p->c, t->r.resolver, t->r.user_id, rn ? rn : "", &own->u, &e2) == 0) {
				own->have = 1;
				m->user = own->u.login;
				m->realm = own->u.realm;
				m->resolver = own->u.resolver;
				e->u = &own->u;
				return 0;
			}
		}
		if (p->c) {
			struct token_ctx x = { 0 };
			x.c = p->c;
			x.snap = p->snap;
			json_t *realms = token_realms(&x, t, err);
			if (!realms)
				return -1;
			if (json_array_size(realms) == 1)
				m->realm = json_string_value(json_array_get(realms, 0));
		}
	}
	return 0;
}

static void qenv_free(struct qenv *e)
{
	json_decref(e->userinfo);
	json_decref(e->tokendict);
}

static int active(const struct polctx *p)
{
	return p && p->ps;
}

int polctx_hits(const struct polctx *p, const struct polq *q, struct policy_hits *h, struct error *err)
{
	memset(h, 0, sizeof(*h));
	if (!active(p))
		return 0;
	struct policy_match m;
	struct qenv e;
	struct owner own = { 0 };
	int rc = build(p, q, &m, &e, &own, err);
	if (rc == 0)
		rc = policy_match(p->ps, &m, &e.env, h, err);
	qenv_free(&e);
	if (rc == 0 && p->audit)
		policy_hits_audit(h, p->audit, p->audit_len);
	return rc;
}

int polctx_any(const struct polctx *p, const struct polq *q, struct error *err)
{
	struct policy_hits h;
	if (polctx_hits(p, q, &h, err) < 0)
		return -1;
	int any = h.n > 0;
	policy_hits_free(&h);
	return any;
}

/* Record the policies behind the values of an action_values result. */
static void audit_values(const struct polctx *p, const json_t *vals)
{
	if (!p->audit)
		return;
	const char *k;
	json_t *names;
	json_object_foreach((json_t *)vals, k, names) {
		size_t i;
		json_t *n;
		json_array_foreach(names, i, n)
			policy_audit_add(p->audit, p->audit_len, json_string_value(n));
	}
}

static int values_obj(const struct polctx *p, const struct polq *q, unsigned flags, json_t **out, struct error *err)
{
	*out = NULL;
	struct policy_match m;
	struct qenv e;
	struct owner own = { 0 };
	int rc = build(p, q, &m, &e, &own, err);
	if (rc == 0)
		rc = policy_action_values(p->ps, &m, &e.env, flags, out, err);
	qenv_free(&e);
	if (rc == 0)
		audit_values(p, *out);
	return rc;
}

int polctx_value(const struct polctx *p, const struct polq *q, unsigned flags, char **value, struct error *err)
{
	*value = NULL;
	if (!active(p))
		return 0;
	json_t *vals;
	if (values_obj(p, q, flags | POLICY_UNIQUE, &vals, err) < 0)
		return -1;
	int found = 0;
	void *it = json_object_iter(vals);
	if (it) {
		*value = strdup(json_object_iter_key(it));
		found = *value ? 1 : -1;
		if (found < 0)
			err_internal(err, "out of memory");
	}
	json_decref(vals);
	return found;
}

int polctx_values(const struct polctx *p, const struct polq *q, unsigned flags, json_t **out, struct error *err)
{
	*out = json_array();
	if (!*out)
		return err_internal(err, "out of memory");
	if (!active(p))
		return 0;
	json_t *vals;
	if (values_obj(p, q, flags & ~POLICY_UNIQUE, &vals, err) < 0) {
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	const char *k;
	json_t *names;
	json_object_foreach(vals, k, names)
		json_array_append_new(*out, json_string(k));
	json_decref(vals);
	return 0;
}

int polctx_max(const struct polctx *p, const struct polq *q, long long *out, struct error *err)
{
	*out = 0;
	if (!active(p))
		return 0;
	struct policy_match m;
	struct qenv e;
	struct owner own = { 0 };
	int rc = build(p, q, &m, &e, &own, err);
	if (rc == 0)
		rc = policy_action_max_int(p->ps, &m, &e.env, out, err);
	qenv_free(&e);
	return rc;
}

int polctx_allowed(const struct polctx *p, const struct polq *q, struct error *err)
{
	if (!active(p))
		return 1;
	struct policy_match m;
	struct qenv e;
	struct owner own = { 0 };
	int rc = build(p, q, &m, &e, &own, err);
	if (rc == 0)
		rc = policy_allowed(p->ps, &m, &e.env, err);
	qenv_free(&e);
	return rc;
}

size_t polctx_scope_active(const struct polctx *p, const char *scope)
{
	return active(p) ? policy_scope_active(p->ps, scope) : 0;
}
