/*
 * sysconfig.h — privacyIDEA's system settings (the `config` table, the
 * /system endpoints), read from the configuration snapshot.
 *
 * Values are strings as privacyIDEA stores them; the typed getters apply
 * privacyIDEA's interpretation (is_true for booleans) and its defaults
 * (splitAtSign True, DefaultMaxFailCount 10, ...) from one table in
 * sysconfig.c.  Settings of type "password" are stored encrypted and are
 * decrypted only by sysconfig_get_secret.
 */
#ifndef TESSERA_SYSCONFIG_H
#define TESSERA_SYSCONFIG_H

#include <jansson.h>
#include "error.h"

struct app;
struct db_conn;
struct snapshot;

/* The setting's value, the documented default when unset, else def. */
const char *sysconfig_str(const struct snapshot *s, const char *key, const char *def);
long long sysconfig_int(const struct snapshot *s, const char *key, long long def);
int sysconfig_bool(const struct snapshot *s, const char *key, int def);
/* privacyIDEA's is_true(): 1, "1", "true", "True", "TRUE" (and booleans). */
int sysconfig_is_true(const char *v);

/* All settings as {key: value} (password-type values censored). New ref. */
json_t *sysconfig_all(const struct snapshot *s);

/* Writes (caller's transaction; each bumps the config timestamp).
 * sysconfig_set is privacyIDEA's set_privacyidea_config: returns 1 when
 * the key was inserted, 0 when it was updated, -1 on error.  type or
 * description NULL/"" keep the stored ones; a token setting without a
 * type gets its class's type (totp.hashlib → "public" ...).  The value of
 * a "password" setting is stored encrypted (config slot); writing back
 * "__CENSORED__" (what GET shows) keeps the stored secret.  Values are
 * not checked here: see sysconfig_check. */
int sysconfig_set(struct app *app, struct db_conn *c, const char *key, const char *value, const char *type,
		  const char *description, struct error *err);
/* 0 deleted, 1 absent. */
int sysconfig_delete(struct app *app, struct db_conn *c, const char *key, struct error *err);

/* What GET /system/ shows (privacyIDEA's get_from_config): the stored
 * settings — for a non-admin only those of type "public" — with
 * password-type values censored, plus "True" for the unset keys privacyIDEA
 * reports as true (PrependPin, splitAtSign, IncFailCountOnFalsePin,
 * ReturnSamlAttributes).  New reference. */
json_t *sysconfig_view(const struct snapshot *s, int admin);
/* Refuse what privacyIDEA would store and then fail on (ERR905, nothing
 * written): the key (empty, "__timestamp__", over 255 chars, control
 * characters), the value (over 2000 chars; integer settings such as
 * DefaultMaxFailCount must be integers in range, DefaultOtpLen 6 or 8,
 * booleans one of True/False/true/false/TRUE/FALSE/1/0, hashlib settings
 * sha1/sha256/sha512; type "int" needs an integer), type and description
 * length.  type may be NULL. */
int sysconfig_check(const char *key, const char *value, const char *type, const char *description,
		    struct error *err);
/* The stored Type of a setting ("" or NULL when untyped / unset). */
const char *sysconfig_type(const struct snapshot *s, const char *key);
/* The decrypted value of a "password" setting (malloc'd, free with
 * crypto_free_str), a copy of the value for other types, NULL + err when
 * unset or undecryptable. */
char *sysconfig_get_secret(struct app *app, const struct snapshot *s, const char *key, struct error *err);

#endif
