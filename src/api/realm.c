/*
 * realm.c — the /realm and /defaultrealm blueprints: list, create/update
 * and delete realms, the SUPERUSER_REALM list, the default realm.  Admin
 * only.
 *
 * Parameters and rights here; the realm rules (lower-casing, priorities,
 * the first realm becoming the default) are lib/realm.c's.  No SQL, no
 * envelope.
 */
#include "api.h"
#include "guard.h"

#include <stdio.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/app.h"
#include "../lib/policy.h"
#include "../lib/realm.h"

/* privacyIDEA's get_realms_api + reduce_realms: the realms named by the
 * admin policies that match this admin (any action).  *keep = NULL: all
 * realms (no such policy, or one without realms). */
static int reduce_realms(struct request *rq, json_t **keep, struct error *err)
{
	*keep = NULL;
	if (rq->who.role != ROLE_ADMIN)
		return 0;
	struct polctx p;
	if (api_polctx_cached(rq, &p, err) < 0)
		return -1;
	struct polq q = { .scope = "admin", .action = NULL, .action_only = 1, .adminuser = rq->who.username,
			  .adminrealm = rq->who.realm, .conditions = POLICY_COND_NONE };
	struct policy_hits h;
	if (polctx_hits(&p, &q, &h, err) < 0)
		return -1;
	json_t *out = h.n ? json_array() : NULL;
	for (size_t i = 0; i < h.n && out; i++) {
		const json_t *pr = json_object_get(policy_json(h.v[i]), "realm");
		if (!json_array_size(pr)) {
			json_decref(out);
			out = NULL; /* a policy for all realms */
			break;
		}
		size_t k;
		json_t *r;
		json_array_foreach(pr, k, r)
			json_array_append(out, r);
	}
	policy_hits_free(&h);
	*keep = out;
	return 0;
}

/* GET /realm/ */
int api_realm_list(struct request *rq, json_t **value, struct error *err)
{
	/* policy: the list is reduced to the realms of the caller's matching
	 * admin policies (all realms when none restricts them). */
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	json_t *all = realm_list(s, NULL);
	if (!all)
		return err_internal(err, "out of memory");
	json_t *keep = NULL;
	if (reduce_realms(rq, &keep, err) < 0) {
		json_decref(all);
		return -1;
	}
	if (keep) {
		json_t *some = json_object();
		size_t i;
		json_t *r;
		json_array_foreach(keep, i, r) {
			json_t *v = json_object_get(all, json_string_value(r));
			if (v)
				json_object_set(some, json_string_value(r), v);
		}
		json_decref(keep);
		json_decref(all);
		all = some;
	}
	*value = all;
	rq->audit.success = 1;
	return 0;
}

/* GET /realm/superuser: SUPERUSER_REALM of pi.cfg, as configured. */
int api_realm_superuser(struct request *rq, json_t **value, struct error *err)
{
	json_t *a = json_array();
	for (char **r = rq->app->superuser_realms; a && r && *r; r++)
		json_array_append_new(a, json_string(*r));
	*value = a;
	rq->audit.success = 1;
	return a ? 0 : err_internal(err, "out of memory");
}

/* POST /realm/<realm>: value {"added": [...], "failed": []}. */
int api_realm_post(struct request *rq, json_t **value, struct error *err)
{
	/* policy: resolverwrite */
	const char *realm = param_str(rq, "realm");
	json_t *resolvers = json_object_get(rq->params, "resolvers");
	json_t *added = NULL;
	if (!resolvers || json_is_null(resolvers))
		return err_missing_param(err, "resolvers");
	struct db_conn *c = request_db(rq, err);
	if (!c)
		return -1;
	if (realm)
		snprintf(rq->audit.info, sizeof(rq->audit.info), "realm: '%s'", realm);
	if (db_begin_write(c, err) < 0 || realm_save(rq->app, c, realm, resolvers, rq->params, &added, err) < 0)
		return -1;
	if (db_commit(c, err) < 0) {
		json_decref(added);
		return -1;
	}
	*value = json_pack("{s:o,s:[]}", "added", added, "failed");
	return *value ? 0 : err_internal(err, "out of memory");
}

/* DELETE /realm/<realm>: value = the deleted realm's db id. */
int api_realm_delete(struct request *rq, json_t **value, struct error *err)
{
	/* policy: resolverdelete */
	const char *realm = param_str(rq, "realm");
	struct db_conn *c = request_db(rq, err);
	int64_t id = 0;
	if (!c)
		return -1;
	if (realm)
		snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", realm);
	if (db_begin_write(c, err) < 0 || realm_delete(rq->app, c, realm, &id, err) < 0 || db_commit(c, err) < 0)
		return -1;
	*value = json_integer(id);
	return 0;
}

/* GET /defaultrealm: {name: realm} or {} without a default realm. */
int api_defaultrealm_get(struct request *rq, json_t **value, struct error *err)
{
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	const char *def = realm_default(s);
	*value = def ? realm_list(s, def) : json_object();
	if (def)
		snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", def);
	rq->audit.success = 1;
	return *value ? 0 : err_internal(err, "out of memory");
}

/* POST /defaultrealm/<realm>: value = the realm's db id. */
int api_defaultrealm_post(struct request *rq, json_t **value, struct error *err)
{
	/* policy: resolverwrite */
	const char *realm = param_str(rq, "realm");
	struct db_conn *c = request_db(rq, err);
	int64_t id = 0;
	if (!c)
		return -1;
	if (realm)
		snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", realm);
	if (!realm)
		return err_missing_param(err, "realm");
	if (db_begin_write(c, err) < 0 || realm_set_default(rq->app, c, realm, &id, err) < 0 ||
	    db_commit(c, err) < 0)
		return -1;
	*value = json_integer(id);
	return 0;
}

/* DELETE /defaultrealm: value = the previous default's id, 0 if none. */
int api_defaultrealm_delete(struct request *rq, json_t **value, struct error *err)
{
	/* policy: resolverdelete */
	struct db_conn *c = request_db(rq, err);
	int64_t id = 0;
	if (!c)
		return -1;
	if (db_begin_write(c, err) < 0 || realm_set_default(rq->app, c, NULL, &id, err) < 0 ||
	    db_commit(c, err) < 0)
		return -1;
	rq->audit.success = 1;
	*value = json_integer(id);
	return 0;
}
