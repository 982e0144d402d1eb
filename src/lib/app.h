/*
 * app.h — the process-wide, read-mostly context every request sees.
 *
 * Built once at start-up from pi.cfg (app_open) and never mutated while
 * the server runs; worker threads only read it.  Mutable shared state
 * (the system-config cache, policies) will hang off here as reference-
 * counted snapshots swapped atomically.
 */
#ifndef TESSERA_APP_H
#define TESSERA_APP_H

#include <stddef.h>
#include "config.h"
#include "crypto.h"
#include "error.h"

struct db;
struct snapshot_holder;

struct app {
	struct cfg *cfg;
	struct db *db;
	struct enckey *enckey;   /* NULL only for commands that do not need it */
	struct signer *signer;   /* NULL when PI_NO_RESPONSE_SIGN or key unreadable */
	char *secret_key;        /* SECRET_KEY (JWT) */
	char *pepper;            /* PI_PEPPER */
	size_t max_body;         /* TESSERA_MAX_BODY, default 1 MiB */
	int logout_time;         /* JWT lifetime shown in /auth (webui default 120) */
	int jwt_validity;        /* seconds, default 3600 */
	char **superuser_realms; /* SUPERUSER_REALM */
	char node[64];           /* PI_NODE / PI_AUDIT_SERVERNAME / "localnode" */
	struct snapshot_holder *snapshots; /* the current configuration snapshot */
};

enum app_needs {
	APP_NEED_DB = 1,
	APP_NEED_ENCKEY = 2,
	APP_NEED_SIGNER = 4,
	APP_NEED_SECRETS = 8,
	APP_MIGRATED = 16, /* refuse to start when the schema is behind */
};

/* Load config (see cfg_load) and open what `needs` asks for. NULL + err on failure. */
struct app *app_open(const char *config_path, unsigned needs, int pool_max, struct error *err);
void app_close(struct app *a);

/* "tessera 0.1.0" as shown in `version`, and the bare number. */
const char *app_version(void);
const char *app_version_number(void);

#endif
