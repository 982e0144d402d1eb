/*
 * resolver.c — the /resolver blueprint: list, show, create/update, delete
 * and test user-store definitions ("UserIdResolvers").  Admin only.
 *
 * Parameters and rights here; the definitions, their validation,
 * encryption and censoring are lib/realm.c's.  No SQL, no envelope.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../http/route.h"
#include "../lib/realm.h"

/* GET /resolver/ and GET /resolver/<resolver>. */
int api_resolver_get(struct request *rq, json_t **value, struct error *err)
{
	/* policy: resolverread */
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	const char *name = param_str(rq, "resolver");
	int one = strcmp(rq->route->pattern, "/resolver/<resolver>") == 0;
	const char *type = one ? NULL : param_str(rq, "type");
	const char *ed = one ? NULL : param_str(rq, "editable");
	/* privacyIDEA compares "1" / "0"; anything else does not filter. */
	int editable = ed && !strcmp(ed, "1") ? 1 : ed && !strcmp(ed, "0") ? 0 : -1;
	*value = resolver_list(s, one ? name : NULL, type, editable);
	if (one && name)
		snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", name);
	rq->audit.success = 1;
	return *value ? 0 : err_internal(err, "out of memory");
}

/* POST /resolver/<resolver>: create or update; value = the db id. */
int api_resolver_post(struct request *rq, json_t **value, struct error *err)
{
	/* policy: resolverwrite */
	const char *name = param_str(rq, "resolver");
	struct db_conn *c = request_db(rq, err);
	int64_t id = 0;
	if (!c)
		return -1;
	if (name)
		snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", name);
	if (db_begin_write(c, err) < 0 || resolver_save(rq->app, c, rq->params, &id, err) < 0 ||
	    db_commit(c, err) < 0)
		return -1;
	*value = json_integer(id);
	return 0;
}

/* DELETE /resolver/<resolver>: value = the deleted resolver's db id, or
 * -1 when there was none (privacyIDEA's answer). */
int api_resolver_delete(struct request *rq, json_t **value, struct error *err)
{
	/* policy: resolverdelete */
	const char *name = param_str(rq, "resolver");
	struct db_conn *c = request_db(rq, err);
	int64_t id = -1;
	if (!c)
		return -1;
	if (name)
		snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", name);
	if (db_begin_write(c, err) < 0 || resolver_delete(rq->app, c, name, &id, err) < 0 || db_commit(c, err) < 0)
		return -1;
	rq->audit.success = id > 0;
	*value = json_integer(id);
	return 0;
}

/* POST /resolver/test: value true/false, detail.description. */
int api_resolver_test(struct request *rq, json_t **value, struct error *err)
{
	/* policy: resolverwrite */
	struct snapshot *s = request_snapshot(rq, err);
	int ok = 0;
	char *desc = NULL;
	if (!s || resolver_test(s, rq->params, &ok, &desc, err) < 0)
		return -1;
	rq->detail = json_pack("{s:s}", "description", desc ? desc : "");
	free(desc);
	*value = json_boolean(ok);
	return rq->detail ? 0 : err_internal(err, "out of memory");
}
