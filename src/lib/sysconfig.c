/*
 * sysconfig.c — system settings (sysconfig.h) and their snapshot part:
 * defaults, privacyIDEA's views of them (GET /system/), writes with the
 * encryption of password settings, and the checks of known values.
 * Plaintext of a password setting leaves this file only through
 * sysconfig_get_secret; nothing here logs.
 */
#include "sysconfig.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "crypto.h"
#include "snapshot.h"
#include "../db/store.h"

#define SYSCONFIG_CENSORED "__CENSORED__"
#define CONFIG_TIMESTAMP_KEY "__timestamp__"

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
	{ "ReturnSamlAttributes", "True" },
	{ "ReturnSamlAttributesOnFail", "False" },
	{ "ResetFailcounterOnPIN", "False" },
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
			json_object_set_new(out, k, json_string(SYSCONFIG_CENSORED));
		else
			json_object_set(out, k, json_object_get(e, "Value"));
	}
	return out;
}

/* The type a token class gives its settings when none is sent
 * (privacyIDEA's get_setting_type): readable by users. */
static const char *token_setting_type(const char *key)
{
	static const char *const public_keys[] = { "hotp.hashlib", "totp.hashlib", "totp.timeStep", "totp.timeWindow",
						   "u2f.appId", NULL };
	static const char *const public_prefixes[] = { "question.question.", "webauthn.", NULL };
	for (const char *const *p = public_keys; *p; p++)
		if (!strcmp(key, *p))
			return "public";
	for (const char *const *p = public_prefixes; *p; p++)
		if (!strncmp(key, *p, strlen(*p)))
			return "public";
	return NULL;
}

static const char *entry_str(const json_t *e, const char *field)
{
	return e ? json_string_value(json_object_get(e, field)) : NULL;
}

int sysconfig_set(struct app *app, struct db_conn *c, const char *key, const char *value, const char *type,
		  const char *description, struct error *err)
{
	json_t *all = NULL;
	char *enc = NULL;
	int rc = -1;
	if (!value)
		value = "";
	/* The row as it is now, inside the caller's transaction. */
	if (store_config_list(c, &all, err) < 0)
		return -1;
	const json_t *old = json_object_get(all, key);
	const char *old_type = entry_str(old, "Type");
	if (!type || !*type)
		type = token_setting_type(key);
	if ((!type || !*type) && old_type)
		type = old_type;
	if ((!description || !*description) && old)
		description = entry_str(old, "Description");
	const char *stored = value;
	if (type && !strcmp(type, "password")) {
		if (old && old_type && !strcmp(old_type, "password") && !strcmp(value, SYSCONFIG_CENSORED)) {
			stored = entry_str(old, "Value");
		} else {
			enc = crypto_encrypt_value(app->enckey, SLOT_CONFIG, value, strlen(value), err);
			if (!enc)
				goto out;
			stored = enc;
		}
	}
	if (store_config_set(c, key, stored, type, description, err) == 0 && store_config_touch(c, err) == 0)
		rc = old ? 0 : 1;
out:
	free(enc);
	json_decref(all);
	return rc;
}

int sysconfig_delete(struct app *app, struct db_conn *c, const char *key, struct error *err)
{
	int rc = store_config_delete(c, key, err);
	if (rc == 0 && store_config_touch(c, err) < 0)
		return -1;
	return rc;
}

json_t *sysconfig_view(const struct snapshot *s, int admin)
{
	static const char *const default_true[] = { "PrependPin", "splitAtSign", "IncFailCountOnFalsePin",
						    "ReturnSamlAttributes", NULL };
	json_t *out = sysconfig_all(s);
	if (!out)
		return NULL;
	if (!admin) {
		const json_t *all = snapshot_part(s, SNAP_SYSCONFIG);
		const char *k;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(out, tmp, k, v)
		{
			const char *type = entry_str(json_object_get(all, k), "Type");
			if (!type || strcmp(type, "public") != 0)
				json_object_del(out, k);
		}
	}
	for (const char *const *p = default_true; *p; p++)
		if (!json_object_get(out, *p))
			json_object_set_new(out, *p, json_string("True"));
	return out;
}

const char *sysconfig_type(const struct snapshot *s, const char *key)
{
	const json_t *all = snapshot_part(s, SNAP_SYSCONFIG);
	return all && key ? entry_str(json_object_get(all, key), "Type") : NULL;
}

char *sysconfig_get_secret(struct app *app, const struct snapshot *s, const char *key, struct error *err)
{
	const json_t *all = snapshot_part(s, SNAP_SYSCONFIG);
	const json_t *e = all && key ? json_object_get(all, key) : NULL;
	const char *value = entry_str(e, "Value"), *type = entry_str(e, "Type");
	if (!value || !strcmp(key, CONFIG_TIMESTAMP_KEY)) {
		err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, "The system setting %s is not set.", key ? key : "");
		return NULL;
	}
	if (type && !strcmp(type, "password"))
		return (char *)crypto_decrypt_value(app->enckey, SLOT_CONFIG, value, NULL, err);
	char *copy = strdup(value);
	if (!copy)
		err_internal(err, "out of memory");
	return copy;
}

/* ---- checking values before they are stored ---- */

enum value_kind { VK_INT, VK_BOOL, VK_OTPLEN, VK_HASHLIB };

/* Settings Tessera reads with a meaning; any other key takes any text. */
static const struct {
	const char *key;
	enum value_kind kind;
	long long min, max;
} known[] = {
	{ "AutoResync", VK_BOOL, 0, 0 },
	{ "AutoResyncTimeout", VK_INT, 0, INT_MAX },
	{ "DefaultCountWindow", VK_INT, 0, INT_MAX },
	{ "DefaultMaxFailCount", VK_INT, 0, INT_MAX },
	{ "DefaultOtpLen", VK_OTPLEN, 6, 8 },
	{ "DefaultResetFailCount", VK_BOOL, 0, 0 },
	{ "DefaultSyncWindow", VK_INT, 0, INT_MAX },
	{ "IncFailCountOnFalsePin", VK_BOOL, 0, 0 },
	{ "PassOnUserNoToken", VK_BOOL, 0, 0 },
	{ "PassOnUserNotFound", VK_BOOL, 0, 0 },
	{ "PrependPin", VK_BOOL, 0, 0 },
	{ "ResetFailcounterOnPIN", VK_BOOL, 0, 0 },
	{ "ReturnSamlAttributes", VK_BOOL, 0, 0 },
	{ "ReturnSamlAttributesOnFail", VK_BOOL, 0, 0 },
	{ "SerialLength", VK_INT, 1, 32 },
	{ "UserCacheExpiration", VK_INT, 0, INT_MAX },
	{ "failcounter_clear_timeout", VK_INT, 0, INT_MAX },
	{ "hotp.hashlib", VK_HASHLIB, 0, 0 },
	{ "no_auth_counter", VK_BOOL, 0, 0 },
	{ "splitAtSign", VK_BOOL, 0, 0 },
	{ "totp.hashlib", VK_HASHLIB, 0, 0 },
	{ "totp.timeStep", VK_INT, 1, INT_MAX },
	{ "totp.timeWindow", VK_INT, 0, INT_MAX },
	{ NULL, VK_INT, 0, 0 },
};

/* A decimal integer as Python's int() reads a plain one: optional '-',
 * digits only (no spaces, no '+', no '_'). */
static int parse_int(const char *v, long long *out)
{
	const char *p = v;
	if (*p == '-')
		p++;
	if (!*p || strlen(p) > 18)
		return -1;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return -1;
	*out = strtoll(v, NULL, 10);
	return 0;
}

static int check_int(const char *key, const char *value, long long min, long long max, struct error *err)
{
	long long n;
	if (parse_int(value, &n) < 0 || n < min || n > max)
		return err_param(err, "The value of %s must be an integer from %lld to %lld.", key, min, max);
	return 0;
}

static int check_known(const char *key, const char *value, struct error *err)
{
	static const char *const bools[] = { "True", "False", "true", "false", "TRUE", "FALSE", "1", "0", NULL };
	static const char *const hashes[] = { "sha1", "sha256", "sha512", NULL };
	static const char suffix[] = "ChallengeValidityTime";
	size_t kl = strlen(key), sl = sizeof(suffix) - 1;
	if (kl > sl && !strcmp(key + kl - sl, suffix)) /* DefaultChallengeValidityTime, HotpChallenge... */
		return check_int(key, value, 0, INT_MAX, err);
	for (int i = 0; known[i].key; i++) {
		if (strcmp(known[i].key, key) != 0)
			continue;
		switch (known[i].kind) {
		case VK_INT:
			return check_int(key, value, known[i].min, known[i].max, err);
		case VK_OTPLEN:
			if (strcmp(value, "6") != 0 && strcmp(value, "8") != 0)
				return err_param(err, "The value of %s must be 6 or 8.", key);
			return 0;
		case VK_BOOL:
			for (const char *const *b = bools; *b; b++)
				if (!strcmp(value, *b))
					return 0;
			return err_param(err, "The value of %s must be a boolean (True, False, true, false, 1 or 0).",
					 key);
		case VK_HASHLIB:
			for (const char *const *h = hashes; *h; h++)
				if (!strcmp(value, *h))
					return 0;
			return err_param(err, "The value of %s must be sha1, sha256 or sha512.", key);
		}
	}
	return 0;
}

int sysconfig_check(const char *key, const char *value, const char *type, const char *description,
		    struct error *err)
{
	if (!key || !*key)
		return err_param(err, "A system setting needs a name.");
	if (strlen(key) > 255)
		return err_param(err, "The name of a system setting is limited to 255 characters.");
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return err_param(err, "The name of a system setting must not contain control characters.");
	if (!strcmp(key, CONFIG_TIMESTAMP_KEY))
		return err_param(err, "%s is not a system setting.", key);
	if (!value)
		value = "";
	if (strlen(value) > 2000)
		return err_param(err, "The value of %s is limited to 2000 characters.", key);
	if (type && strlen(type) > 100)
		return err_param(err, "The type of %s is limited to 100 characters.", key);
	if (description && strlen(description) > 2000)
		return err_param(err, "The description of %s is limited to 2000 characters.", key);
	if (type && !strcmp(type, "int") && check_int(key, value, INT_MIN, INT_MAX, err) < 0)
		return -1;
	return check_known(key, value, err);
}
