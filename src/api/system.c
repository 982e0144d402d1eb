/*
 * system.c — the /system blueprint: reading and writing system settings
 * (GET /system/, /system/<key>, POST setConfig / setDefault, DELETE
 * /system/<key>), random key material, the security module status, the
 * configuration documentation and the name lists used by enrollment
 * dialogs.
 *
 * Handlers parse and check parameters and call src/lib (sysconfig.h,
 * system.h); no SQL here.  Values are checked before anything is written
 * (all or nothing); every write bumps the config timestamp through
 * sysconfig_set, so all processes reload.  Secrets (password settings,
 * random material) never go into the audit log.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../db/db.h"
#include "../lib/app.h"
#include "../lib/snapshot.h"
#include "../lib/sysconfig.h"
#include "../lib/system.h"

#define SETTING_KEY_MAX 255

static int is_admin(const struct request *rq)
{
	return rq->who.role == ROLE_ADMIN;
}

/* Append "key=value, " to the audit info as privacyIDEA does (it is
 * truncated by the column size like privacyIDEA's), the value censored
 * when the setting is or becomes a password. */
static void audit_add_setting(struct request *rq, struct snapshot *s, const char *key, const char *value,
			      const char *type)
{
	char *info = rq->audit.info;
	size_t used = strlen(info);
	const char *old_type = sysconfig_type(s, key);
	if ((type && !strcmp(type, "password")) || (old_type && !strcmp(old_type, "password")))
		value = "__CENSORED__";
	if (used < sizeof(rq->audit.info))
		snprintf(info + used, sizeof(rq->audit.info) - used, "%s=%s, ", key, value ? value : "");
}

/* ---- reading ---- */

/* GET /system/ — every setting visible to the caller. */
int api_system_get_all(struct request *rq, json_t **value, struct error *err)
{
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	*value = sysconfig_view(s, is_admin(rq));
	return *value ? 0 : err_internal(err, "out of memory");
}

/* GET /system/<key> — one value, null when unset or not visible. */
int api_system_get(struct request *rq, json_t **value, struct error *err)
{
	const char *key = param_str(rq, "key");
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	json_t *view = sysconfig_view(s, is_admin(rq));
	if (!view)
		return err_internal(err, "out of memory");
	json_t *v = key ? json_object_get(view, key) : NULL;
	*value = v ? json_incref(v) : json_null();
	json_decref(view);
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", key ? key : "");
	return 0;
}

/* ---- writing ---- */

/* "x.type" and "x.desc" describe x; they are not settings themselves
 * (privacyIDEA: the last dot-separated part decides, so "type" alone is
 * skipped too). */
static int is_companion(const char *key)
{
	const char *dot = strrchr(key, '.');
	const char *last = dot ? dot + 1 : key;
	return !strcmp(last, "type") || !strcmp(last, "desc");
}

/* The <key><suffix> parameter, or NULL. */
static const char *companion(struct request *rq, const char *key, const char *suffix)
{
	char name[SETTING_KEY_MAX + 8];
	snprintf(name, sizeof(name), "%s%s", key, suffix);
	return param_str(rq, name);
}

/* A setting's value as sent: strings, numbers and booleans as text
 * (JSON true → "True", as Python's str()); null is the empty value;
 * objects and lists are refused. */
static int setting_value(struct request *rq, const char *name, const char **out, struct error *err)
{
	json_t *v = json_object_get(rq->params, name);
	if (json_is_object(v) || json_is_array(v))
		return err_param(err, "The value of %s must be a string, a number or a boolean.", name);
	const char *s = param_str(rq, name);
	*out = s ? s : "";
	return 0;
}

/* Check one setting completely before anything is written. */
static int check_setting(struct request *rq, const char *key, struct error *err)
{
	const char *value = NULL;
	if (strlen(key) > SETTING_KEY_MAX)
		return sysconfig_check(key, "", NULL, NULL, err);
	if (setting_value(rq, key, &value, err) < 0)
		return -1;
	return sysconfig_check(key, value, companion(rq, key, ".type"), companion(rq, key, ".desc"), err);
}

/* POST /system/setConfig — <key>=<value> pairs with optional <key>.type
 * and <key>.desc; answers {key: "insert"|"update"}. */
int api_system_set_config(struct request *rq, json_t **value, struct error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(rq->params, key, v)
	{
		if (!is_companion(key) && check_setting(rq, key, err) < 0)
			return -1;
	}
	/* the settings as they were: which ones are passwords (audit) */
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	json_t *result = json_object();
	struct db_conn *c = NULL;
	if (json_object_size(rq->params) > 0) {
		c = request_db(rq, err);
		if (!c || db_begin_write(c, err) < 0)
			goto fail;
	}
	json_object_foreach(rq->params, key, v)
	{
		if (is_companion(key))
			continue;
		const char *val = NULL, *type = companion(rq, key, ".type");
		if (setting_value(rq, key, &val, err) < 0)
			goto fail;
		int rc = sysconfig_set(rq->app, c, key, val, type, companion(rq, key, ".desc"), err);
		if (rc < 0)
			goto fail;
		json_object_set_new(result, key, json_string(rc == 1 ? "insert" : "update"));
		audit_add_setting(rq, s, key, val, type);
	}
	if (c && db_commit(c, err) < 0)
		goto fail;
	*value = result;
	return 0;
fail:
	json_decref(result);
	return -1;
}

/* POST /system/setDefault — the token defaults, parameter names in any
 * case (privacyIDEA lower-cases them). */
int api_system_set_default(struct request *rq, json_t **value, struct error *err)
{
	static const char *const keys[] = { "DefaultMaxFailCount", "DefaultSyncWindow", "DefaultCountWindow",
					    "DefaultOtpLen", "DefaultResetFailCount", NULL };
	const char *given[5] = { NULL };
	int n = 0;
	for (int i = 0; keys[i]; i++) {
		const char *k;
		json_t *v;
		/* privacyIDEA's getLowerParams: the last spelling wins */
		json_object_foreach(rq->params, k, v)
		{
			if (!strcasecmp(k, keys[i]))
				given[i] = k;
		}
		if (!given[i])
			continue;
		n++;
		const char *val = NULL;
		if (!param_str(rq, given[i])) {
			char lower[64];
			snprintf(lower, sizeof(lower), "%s", keys[i]);
			for (char *p = lower; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
			return err_missing_param(err, lower);
		}
		if (setting_value(rq, given[i], &val, err) < 0 || sysconfig_check(keys[i], val, NULL, NULL, err) < 0)
			return -1;
	}
	if (n == 0)
		return err_set(err, ERRK_PI, 77,
			       "Usage: parameters are: DefaultMaxFailCount, DefaultSyncWindow, DefaultCountWindow, "
			       "DefaultOtpLen, DefaultResetFailCount");
	struct snapshot *s = request_snapshot(rq, err);
	struct db_conn *c = s ? request_db(rq, err) : NULL;
	if (!c || db_begin_write(c, err) < 0)
		return -1;
	json_t *result = json_object();
	for (int i = 0; keys[i]; i++) {
		if (!given[i])
			continue;
		const char *val = param_str(rq, given[i]);
		int rc = sysconfig_set(rq->app, c, keys[i], val, NULL, NULL, err);
		if (rc < 0) {
			json_decref(result);
			return -1;
		}
		json_object_set_new(result, keys[i], json_string(rc == 1 ? "insert" : "update"));
		audit_add_setting(rq, s, keys[i], val, NULL);
	}
	if (db_commit(c, err) < 0) {
		json_decref(result);
		return -1;
	}
	*value = result;
	return 0;
}

/* DELETE /system/<key> — true when deleted, 0 when there was no such
 * setting (privacyIDEA's delete_privacyidea_config). */
int api_system_delete(struct request *rq, json_t **value, struct error *err)
{
	const char *key = param_str(rq, "key");
	if (!key || !*key)
		return err_param(err, "You need to provide the config key to delete.");
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", key);
	int rc = 1;
	if (strcmp(key, "__timestamp__") != 0) { /* the reload marker is not a setting */
		struct db_conn *c = request_db(rq, err);
		if (!c || db_begin_write(c, err) < 0)
			return -1;
		rc = sysconfig_delete(rq->app, c, key, err);
		if (rc < 0 || db_commit(c, err) < 0)
			return -1;
	}
	rq->audit.success = rc == 0;
	*value = rc == 0 ? json_true() : json_integer(0);
	return 0;
}

/* ---- the rest of the blueprint ---- */

/* GET /system/random?len=20&encode=hex|b64 */
int api_system_random(struct request *rq, json_t **value, struct error *err)
{
	long long len = 20;
	const char *l = param_str(rq, "len");
	if (l && *l && param_int(rq, "len", 20, &len, err) < 0)
		return -1;
	if (len < 0 || len > SYSTEM_RANDOM_MAX)
		return err_param(err, "Parameter 'len' must be an integer from 0 to %d.", SYSTEM_RANDOM_MAX);
	const char *encode = param_str(rq, "encode");
	if (encode && *encode && strcmp(encode, "hex") != 0 && strcmp(encode, "b64") != 0)
		return err_param(err, "Parameter 'encode' must be hex or b64.");
	int b64 = encode && !strcmp(encode, "b64");
	char *r = system_random((size_t)len, b64, err);
	if (!r)
		return -1;
	*value = json_string(r);
	crypto_free_str(r);
	snprintf(rq->audit.info, sizeof(rq->audit.info), "len=%lld, encode=%s", len, b64 ? "b64" : "hex");
	return 0;
}

/* GET /system/hsm — the key file is loaded at start-up, so the default
 * security module is always ready. */
int api_system_hsm_get(struct request *rq, json_t **value, struct error *err)
{
	*value = json_pack("{s:b}", "is_ready", rq->app->enckey != NULL);
	return 0;
}

/* POST /system/hsm — setting a password only makes sense for a module
 * that waits for one; privacyIDEA's answer for a ready module. */
int api_system_hsm_set(struct request *rq, json_t **value, struct error *err)
{
	const char *password;
	if (param_req(rq, "password", &password, err) < 0)
		return -1;
	return err_set(err, ERRK_PI, ERR_HSM, "HSM already set up.");
}

/* GET /system/documentation — text/plain reStructuredText. */
int api_system_documentation(struct request *rq, json_t **value, struct error *err)
{
	struct snapshot *s = request_snapshot(rq, err);
	struct db_conn *c = s ? request_db(rq, err) : NULL;
	if (!c)
		return -1;
	char *text = system_documentation(rq->app, c, s, err);
	if (!text)
		return -1;
	rq->raw_body = text;
	rq->raw_len = strlen(text);
	rq->raw_type = "text/plain; charset=utf-8";
	rq->audit.success = 1;
	*value = json_null();
	return 0;
}

/* GET /system/gpgkeys — Tessera has no GnuPG home: no keys. */
int api_system_gpgkeys(struct request *rq, json_t **value, struct error *err)
{
	*value = json_object();
	return 0;
}

/* GET /system/names/radius */
int api_system_names_radius(struct request *rq, json_t **value, struct error *err)
{
	struct db_conn *c = request_db(rq, err);
	if (!c)
		return -1;
	*value = system_radius_names(c, err);
	return *value ? 0 : -1;
}

/* GET /system/names/caconnector */
int api_system_names_caconnector(struct request *rq, json_t **value, struct error *err)
{
	struct db_conn *c = request_db(rq, err);
	if (!c)
		return -1;
	*value = system_caconnector_names(c, err);
	return *value ? 0 : -1;
}
