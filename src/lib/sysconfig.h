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

/* Writes (caller's transaction; each bumps the config timestamp). */
int sysconfig_set(struct app *app, struct db_conn *c, const char *key, const char *value, const char *type,
		  const char *description, struct error *err);
/* 0 deleted, 1 absent. */
int sysconfig_delete(struct app *app, struct db_conn *c, const char *key, struct error *err);

#endif
