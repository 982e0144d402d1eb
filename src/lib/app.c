/*
 * app.c — building the process context from pi.cfg (see app.h).
 * Every failure here is a start-up failure: one clear message in err.
 */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "snapshot.h"
#include "../db/db.h"

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "0.0.0"
#endif

const char *app_version(void)
{
	return "tessera " TESSERA_VERSION;
}

const char *app_version_number(void)
{
	return TESSERA_VERSION;
}

/* pi.cfg keys Tessera reads; anything else is logged at debug level. */
static const char *const known_keys[] = {
	"SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PI_PEPPER", "PI_ENCFILE", "PI_AUDIT_KEY_PRIVATE",
	"PI_AUDIT_KEY_PUBLIC", "PI_LOGFILE", "PI_LOGLEVEL", "PI_NO_RESPONSE_SIGN", "TESSERA_MAX_BODY",
	"SUPERUSER_REALM", "PI_NODE", "PI_AUDIT_SERVERNAME", "TESSERA_DB_POOL", NULL,
};

static void log_unknown_keys(const struct cfg *c)
{
	for (size_t i = 0; i < cfg_count(c); i++) {
		const char *k = cfg_key_at(c, i);
		int known = 0;
		for (const char *const *p = known_keys; *p; p++)
			if (!strcmp(*p, k))
				known = 1;
		if (!known)
			log_debug("config: ignoring key %s (not used by Tessera)", k);
	}
}

static int open_secrets(struct app *a, struct error *err)
{
	const char *sk = cfg_get_str(a->cfg, "SECRET_KEY", NULL);
	if (!sk || !*sk) {
		char rnd[49];
		log_warning("SECRET_KEY not set in config. Generating a random key: logins do not survive a "
			    "restart.");
		if (crypto_random_hex(rnd, 24) < 0)
			return err_internal(err, "cannot generate a random SECRET_KEY");
		a->secret_key = strdup(rnd);
	} else {
		a->secret_key = strdup(sk);
	}
	const char *pep = cfg_get_str(a->cfg, "PI_PEPPER", NULL);
	/* privacyIDEA's default pepper is the literal "missing"; keep it so
	 * admin hashes imported from such an installation still verify. */
	if (!pep)
		log_warning("PI_PEPPER not set in config: using privacyIDEA's default pepper.");
	a->pepper = strdup(pep ? pep : "missing");
	if (!a->secret_key || !a->pepper)
		return err_internal(err, "out of memory");
	return 0;
}

static int open_signer(struct app *a, struct error *err)
{
	if (cfg_get_bool(a->cfg, "PI_NO_RESPONSE_SIGN", 0))
		return 0;
	const char *path = cfg_get_str(a->cfg, "PI_AUDIT_KEY_PRIVATE", NULL);
	if (!path || !*path)
		return err_set(err, ERRK_PI, ERR_GENERIC,
			       "PI_AUDIT_KEY_PRIVATE is not set in %s (set PI_NO_RESPONSE_SIGN = True to serve "
			       "unsigned responses)",
			       cfg_path(a->cfg));
	a->signer = crypto_signer_load(path, err);
	return a->signer ? 0 : -1;
}

struct app *app_open(const char *config_path, unsigned needs, int pool_max, struct error *err)
{
	struct app *a = calloc(1, sizeof(*a));
	if (!a) {
		err_internal(err, "out of memory");
		return NULL;
	}
	a->cfg = cfg_load(config_path, err);
	if (!a->cfg)
		goto fail;
	if (log_init((int)cfg_get_int(a->cfg, "PI_LOGLEVEL", LOG_INFO_), cfg_get_str(a->cfg, "PI_LOGFILE", NULL)) <
	    0) {
		err_set(err, ERRK_PI, ERR_GENERIC, "cannot open log file '%s'", cfg_get_str(a->cfg, "PI_LOGFILE", ""));
		goto fail;
	}
	log_unknown_keys(a->cfg);
	long long mb = cfg_get_int(a->cfg, "TESSERA_MAX_BODY", 1024 * 1024);
	a->max_body = mb > 0 ? (size_t)mb : 1024 * 1024;
	a->jwt_validity = 3600;
	a->logout_time = 120;
	a->superuser_realms = cfg_get_list(a->cfg, "SUPERUSER_REALM");
	const char *node = cfg_get_str(a->cfg, "PI_NODE", cfg_get_str(a->cfg, "PI_AUDIT_SERVERNAME", "localnode"));
	snprintf(a->node, sizeof(a->node), "%s", node);
	a->snapshots = snapshot_holder_new();
	if (!a->snapshots) {
		err_internal(err, "out of memory");
		goto fail;
	}

	if (needs & APP_NEED_SECRETS && open_secrets(a, err) < 0)
		goto fail;
	if (needs & APP_NEED_ENCKEY) {
		const char *p = cfg_get_str(a->cfg, "PI_ENCFILE", NULL);
		if (!p || !*p) {
			err_set(err, ERRK_PI, ERR_GENERIC, "PI_ENCFILE is not set in %s", cfg_path(a->cfg));
			goto fail;
		}
		a->enckey = crypto_load_enckey(p, err);
		if (!a->enckey)
			goto fail;
	}
	if (needs & APP_NEED_SIGNER && open_signer(a, err) < 0)
		goto fail;
	if (needs & APP_NEED_DB) {
		const char *uri = cfg_get_str(a->cfg, "SQLALCHEMY_DATABASE_URI", NULL);
		if (!uri || !*uri) {
			err_set(err, ERRK_PI, ERR_GENERIC, "SQLALCHEMY_DATABASE_URI is not set in %s",
				cfg_path(a->cfg));
			goto fail;
		}
		long long pool = cfg_get_int(a->cfg, "TESSERA_DB_POOL", pool_max);
		a->db = db_open(uri, pool > 0 ? (int)pool : 16, err);
		if (!a->db)
			goto fail;
		if (needs & APP_MIGRATED) {
			int v = 0;
			if (db_schema_version(a->db, &v, err) < 0)
				goto fail;
			if (v != db_schema_expected()) {
				err_set(err, ERRK_PI, ERR_GENERIC,
					"the database schema is at version %d, this tessera needs version %d: run "
					"'tessera createdb' first",
					v, db_schema_expected());
				goto fail;
			}
		}
	}
	return a;
fail:
	app_close(a);
	return NULL;
}

void app_close(struct app *a)
{
	if (!a)
		return;
	snapshot_holder_free(a->snapshots);
	if (a->db)
		db_close(a->db);
	crypto_free_enckey(a->enckey);
	crypto_signer_free(a->signer);
	if (a->secret_key)
		crypto_free_str(a->secret_key);
	if (a->pepper)
		crypto_free_str(a->pepper);
	cfg_list_free(a->superuser_realms);
	cfg_free(a->cfg);
	free(a);
}
