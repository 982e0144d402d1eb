/*
 * sysconfig.c — system settings (sysconfig.h) and their snapshot part.
 */
#include "sysconfig.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "crypto.h"
#include "snapshot.h"
#include "../db/store.h"

/* privacyIDEA's documented defaults for settings that are unset. */
static const struct {
	const char *key, *def;
} defaults[] = {
	{ "splitAtSign", "True" },
	{ "PrependPin", "True" },
	{ "IncFailCountOnFalsePin", "True" },
	{ "DefaultMaxFailCount", "10" },
	{ "DefaultSyncWindow", "1000" },
	{ "DefaultCountWindow", "10" },
	{ "DefaultOtpLen", "6" },
	{ "DefaultChallengeValidityTime", "120" },
	{ "DefaultResetFailCount", "True" },
	{ "AutoResync", "False" },
	{ "AutoResyncTimeout", "300" },
	{ "PassOnUserNotFound", "False" },
	{ "PassOnUserNoToken", "False" },
	{ "UserCacheExpiration", "0" },
	{ "failcounter_clear_timeout", "0" },
	{ "no_auth_counter", "False" },
	{ "SerialLength", "8" },
	{ NULL, NULL },
};

/* The part: {key: {"Value": .., "Type": ..}}. */
static void *load(struct app *app, struct db_conn *c, const void *previous, struct error *err)
{
	json_t *all = NULL;
	if (store_config_list(c, &all, err) < 0)
		return NULL;
	return all;
}

static void part_free(void *p)
{
	json_decref(p);
}

const struct snapshot_part_ops sysconfig_snapshot_ops = { "system config", load, part_free };

static const char *lookup(const struct snapshot *s, const char *key)
{
	const json_t *all = snapshot_part(s, SNAP_SYSCONFIG);
	json_t *e = all ? json_object_get(all, key) : NULL;
	json_t *v = e ? json_object_get(e, "Value") : NULL;
	if (json_is_string(v))
		return json_string_value(v);
	for (int i = 0; defaults[i].key; i++)
		if (!strcmp(defaults[i].key, key))
			return defaults[i].def;
	return NULL;
}

const char *sysconfig_str(const struct snapshot *s, const char *key, const char *def)
{
	const char *v = lookup(s, key);
	return v ? v : def;
}

long long sysconfig_int(const struct snapshot *s, const char *key, long long def)
{
	const char *v = lookup(s, key);
	if (!v || !*v)
		return def;
	char *end;
	long long n = strtoll(v, &end, 10);
	return *end ? def : n;
}

int sysconfig_is_true(const char *v)
{
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"));
}

int sysconfig_bool(const struct snapshot *s, const char *key, int def)
{
	const char *v = lookup(s, key);
	return v ? sysconfig_is_true(v) : def;
}

json_t *sysconfig_all(const struct snapshot *s)
{
	json_t *out = json_object();
	const json_t *all = snapshot_part(s, SNAP_SYSCONFIG);
	const char *k;
	json_t *e;
	json_object_foreach((json_t *)all, k, e)
	{
		if (!strcmp(k, "__timestamp__"))
			continue;
		const char *type = json_string_value(json_object_get(e, "Type"));
		if (type && !strcmp(type, "password"))
			json_object_set_new(out, k, json_string("__CENSORED__"));
		else
			json_object_set(out, k, json_object_get(e, "Value"));
	}
	return out;
}

int sysconfig_set(struct app *app, struct db_conn *c, const char *key, const char *value, const char *type,
		  const char *description, struct error *err)
{
	char *stored = NULL;
	if (type && !strcmp(type, "password")) {
		stored = crypto_encrypt_value(app->enckey, SLOT_CONFIG, value, strlen(value), err);
		if (!stored)
			return -1;
	}
	int rc = store_config_set(c, key, stored ? stored : value, type, description, err);
	free(stored);
	if (rc == 0)
		rc = store_config_touch(c, err);
	return rc;
}

int sysconfig_delete(struct app *app, struct db_conn *c, const char *key, struct error *err)
{
	int rc = store_config_delete(c, key, err);
	if (rc == 0 && store_config_touch(c, err) < 0)
		return -1;
	return rc;
}
