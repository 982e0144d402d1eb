/*
 * policy.c — the /policy blueprint: list, read, set, delete, enable,
 * disable, check, definitions, export and import of policies.
 *
 * Handlers parse parameters and call src/lib/policy*.c; they hold no SQL
 * and build no envelope.  The admin rights (policyread, policywrite,
 * policydelete) are checked by the enforcement layer at the marked places.
 * This file also gives the request side of policy conditions (headers and
 * the WSGI-style environment) to every endpoint that matches policies.
 */
#include "api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../db/db.h"
#include "../lib/app.h"
#include "../lib/policy.h"
#include "../lib/policy_defs.h"
#include "../lib/snapshot.h"

/* ---- the request side of policy conditions ---- */

const char *api_policy_header(void *ctx, const char *name)
{
	return request_header(ctx, name);
}

const char *api_policy_environ(void *ctx, const char *key)
{
	struct request *rq = ctx;
	if (!strcmp(key, "PATH_INFO"))
		return rq->path;
	if (!strcmp(key, "REQUEST_METHOD"))
		return rq->method;
	if (!strcmp(key, "REMOTE_ADDR"))
		return rq->client_ip;
	if (!strcmp(key, "CONTENT_TYPE"))
		return request_header(rq, "Content-Type");
	if (!strcmp(key, "CONTENT_LENGTH"))
		return request_header(rq, "Content-Length");
	if (!strncmp(key, "HTTP_", 5) && strlen(key) < 128) {
		char name[128];
		size_t i = 0;
		for (const char *p = key + 5; *p; p++)
			name[i++] = *p == '_' ? '-' : *p;
		name[i] = '\0';
		return request_header(rq, name);
	}
	return NULL;
}

void api_policy_env(struct request *rq, struct policy_env *env)
{
	memset(env, 0, sizeof(*env));
	env->ctx = rq;
	env->header = api_policy_header;
	env->environ = api_policy_environ;
}

/* ---- helpers ---- */

/* privacyIDEA's getLowerParams: parameter names compared case-insensitively. */
static const char *lower_param(struct request *rq, const char *name)
{
	const char *k;
	json_t *v;
	json_object_foreach(rq->params, k, v)
	{
		if (!strcasecmp(k, name))
			return param_str(rq, k);
	}
	return NULL;
}

static const struct policy_set *request_policies(struct request *rq, struct error *err)
{
	struct snapshot *s = request_snapshot(rq, err);
	return s ? policy_set_of(s) : NULL;
}

static const char *or_none(const char *s)
{
	return s ? s : "None";
}

/* Run fn in one write transaction; the caller's error is kept on failure. */
static struct db_conn *begin(struct request *rq, struct error *err)
{
	struct db_conn *c = request_db(rq, err);
	if (c && db_begin_write(c, err) < 0)
		return NULL;
	return c;
}

/* ---- GET /policy/, GET /policy/<name> ---- */

static int list(struct request *rq, const char *name, json_t **value, struct error *err)
{
	/* policy: admin.policyread */
	const char *realm = lower_param(rq, "realm"), *scope = lower_param(rq, "scope");
	const char *active = lower_param(rq, "active");
	const struct policy_set *ps = request_policies(rq, err);
	if (!ps)
		return -1;
	int act = -1;
	if (active)
		act = !strcmp(active, "1") || !strcasecmp(active, "true");
	*value = policy_list(ps, name, realm, scope, act);
	snprintf(rq->audit.info, sizeof(rq->audit.info), "name = %s, realm = %s, scope = %s", or_none(name),
		 or_none(realm), or_none(scope));
	rq->audit.success = 1;
	return 0;
}

int api_policy_list(struct request *rq, json_t **value, struct error *err)
{
	return list(rq, NULL, value, err);
}

int api_policy_get(struct request *rq, json_t **value, struct error *err)
{
	return list(rq, param_str(rq, "name"), value, err);
}

/* ---- POST /policy/<name> ---- */

static const char *const set_fields[] = { "scope",	"action",    "realm",
					  "resolver",	"user",	     "time",
					  "client",	"active",    "check_all_resolvers",
					  "adminrealm", "adminuser", "priority",
					  "conditions", "pinode",    NULL };

int api_policy_set(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.policywrite */
	const char *name = param_str(rq, "name"), *scope, *action;
	if (param_req(rq, "scope", &scope, err) < 0 || param_req(rq, "action", &action, err) < 0)
		return -1;
	json_t *fields = json_object();
	for (int i = 0; set_fields[i]; i++) {
		json_t *v = json_object_get(rq->params, set_fields[i]);
		/* "active=" in a form means the default (privacyIDEA: active or True) */
		if (v && !(json_is_string(v) && !*json_string_value(v) && !strcmp(set_fields[i], "active")))
			json_object_set(fields, set_fields[i], v);
	}
	snprintf(rq->audit.action_detail, sizeof(rq->audit.action_detail), "%s", name);
	char *dump = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", dump ? dump : "");
	free(dump);
	int64_t id = 0;
	struct db_conn *c = begin(rq, err);
	int rc = c ? policy_write(c, name, fields, POLICY_WRITE_API, &id, err) : -1;
	json_decref(fields);
	if (rc < 0 || db_commit(c, err) < 0)
		return -1;
	char key[300];
	snprintf(key, sizeof(key), "setPolicy %s", name);
	*value = json_object();
	json_object_set_new(*value, key, json_integer(id));
	rq->audit.success = 1;
	return 0;
}

/* ---- enable, disable, delete ---- */

static int set_active(struct request *rq, int active, json_t **value, struct error *err)
{
	/* policy: admin.policywrite */
	const char *name = param_str(rq, "name");
	int64_t id = 0;
	snprintf(rq->audit.action_detail, sizeof(rq->audit.action_detail), "%s", name);
	struct db_conn *c = begin(rq, err);
	if (!c || policy_enable(c, name, active, &id, err) < 0 || db_commit(c, err) < 0)
		return -1;
	*value = json_integer(id);
	rq->audit.success = 1;
	return 0;
}

int api_policy_enable(struct request *rq, json_t **value, struct error *err)
{
	return set_active(rq, 1, value, err);
}

int api_policy_disable(struct request *rq, json_t **value, struct error *err)
{
	return set_active(rq, 0, value, err);
}

int api_policy_delete(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.policydelete */
	const char *name = param_str(rq, "name");
	int64_t id = 0;
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", name);
	struct db_conn *c = begin(rq, err);
	if (!c || policy_delete(c, name, &id, err) < 0 || db_commit(c, err) < 0)
		return -1;
	*value = json_integer(id);
	rq->audit.success = 1;
	return 0;
}

/* ---- GET /policy/check ---- */

int api_policy_check(struct request *rq, json_t **value, struct error *err)
{
	const char *want[] = { "user", "realm", "scope", "action" };
	const char *got[4];
	for (int i = 0; i < 4; i++)
		if (!(got[i] = lower_param(rq, want[i])))
			return err_missing_param(err, want[i]);
	const char *client = lower_param(rq, "client");
	const struct policy_set *ps = request_policies(rq, err);
	if (!ps)
		return -1;
	struct policy_match m = {
		.scope = got[2],
		.action = got[3],
		.user = got[0],
		.realm = got[1],
		.resolver = lower_param(rq, "resolver"),
		.client = client ? client : rq->client_ip,
		.pinode = rq->app->node,
	};
	struct policy_env env;
	api_policy_env(rq, &env);
	struct policy_hits h;
	if (policy_match(ps, &m, &env, &h, err) < 0)
		return -1;
	json_t *v = json_object();
	if (h.n) {
		json_t *list = json_array(), *names = json_array();
		for (size_t i = 0; i < h.n; i++) {
			json_array_append(list, (json_t *)policy_json(h.v[i]));
			json_array_append_new(names, json_string(policy_name(h.v[i])));
		}
		json_object_set_new(v, "allowed", json_true());
		json_object_set_new(v, "policy", list);
		policy_hits_audit(&h, rq->audit.policies, sizeof(rq->audit.policies));
		char *n = json_dumps(names, JSON_COMPACT);
		snprintf(rq->audit.info, sizeof(rq->audit.info), "allowed by policy %s", n ? n : "");
		free(n);
		json_decref(names);
	} else {
		json_object_set_new(v, "allowed", json_false());
		json_object_set_new(v, "info", json_string("No policies found"));
	}
	policy_hits_free(&h);
	snprintf(rq->audit.action_detail, sizeof(rq->audit.action_detail), "action = %s, realm = %s, scope = %s",
		 got[3], got[1], got[2]);
	rq->audit.success = 1;
	*value = v;
	return 0;
}

/* ---- GET /policy/defs[/<scope>] ---- */

int api_policy_defs(struct request *rq, json_t **value, struct error *err)
{
	const char *scope = param_str(rq, "scope");
	if (scope && !strcmp(scope, "conditions")) {
		*value = policy_defs_conditions_json();
	} else if (scope && !strcmp(scope, "pinodes")) {
		*value = json_pack("[s]", rq->app->node);
	} else {
		/* Value lists that depend on the configuration (realms,
		 * resolvers, SMTP/RADIUS servers, CA connectors) come with
		 * the subsystems that hold them; until then they are empty. */
		json_t *d = policy_defs_json(scope, NULL);
		*value = d ? d : json_null();
	}
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", or_none(scope));
	rq->audit.success = 1;
	return 0;
}

/* ---- export, import ---- */

int api_policy_export(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.policyread */
	const struct policy_set *ps = request_policies(rq, err);
	if (!ps)
		return -1;
	char *text = policy_export_cfg(ps);
	if (!text)
		return err_internal(err, "out of memory");
	rq->raw_body = text;
	rq->raw_len = strlen(text);
	rq->raw_type = "text/plain";
	snprintf(rq->audit.info, sizeof(rq->audit.info), "name = None, realm = None, scope = None");
	rq->audit.success = 1;
	*value = json_null();
	return 0;
}

int api_policy_import(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.policywrite */
	const char *filename = param_str(rq, "filename"), *file;
	/* The upload's multipart field "file" (src/http/multipart.c makes it a
	 * parameter); a form or JSON field of that name works too. */
	if (param_req(rq, "file", &file, err) < 0)
		return -1;
	json_t *pols;
	if (policy_parse_cfg(file, &pols, err) < 0)
		return -1;
	struct db_conn *c = begin(rq, err);
	int rc = c ? 0 : -1;
	size_t count = 0;
	for (size_t i = 0; rc == 0 && i < json_array_size(pols); i++) {
		json_t *p = json_array_get(pols, i);
		const char *name = json_string_value(json_object_get(p, "name"));
		json_t *fields = json_deep_copy(p);
		json_object_del(fields, "name");
		rc = policy_write(c, name, fields, 0, NULL, err);
		json_decref(fields);
		count += rc == 0;
	}
	json_decref(pols);
	if (rc < 0 || db_commit(c, err) < 0)
		return -1;
	snprintf(rq->audit.info, sizeof(rq->audit.info), "imported %zu policies from file %s", count, filename);
	rq->audit.success = 1;
	*value = json_integer((json_int_t)count);
	return 0;
}
