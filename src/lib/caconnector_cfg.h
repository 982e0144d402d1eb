/*
 * caconnector_cfg.h — CA connector definitions (privacyIDEA's
 * lib/caconnector.py): the SNAP_CACONNECTORS part of the configuration
 * snapshot, the lookup the certificate token uses, the /caconnector/ views
 * and the configuration writes.
 *
 * The snapshot part holds every stored definition and one live instance per
 * connector (src/lib/caconnectors/caconnector.h), shared by all worker
 * threads.  An instance is reused by the next snapshot while the
 * connector's id, type and stored rows are unchanged, so the local CA's
 * cached key and configuration survive unrelated configuration changes.
 * Decrypted secrets live only inside the instances (the local CA keeps its
 * cakey_password in OpenSSL's secure heap), never in the views.
 *
 * ---- for the certificate token ----
 *     struct snapshot *s = request_snapshot(rq, err);
 *     struct caconnector *ca = caconnector_get(s, "localCA", err);
 *     if (!ca) return -1;             // 601 unknown / 503 unusable
 *     rc = ca->type->sign_request(ca, csr, &opt, &res, err);
 * The pointer stays valid for as long as the caller holds the snapshot (a
 * request holds its snapshot until it is answered); never free it.
 */
#ifndef TESSERA_CACONNECTOR_CFG_H
#define TESSERA_CACONNECTOR_CFG_H

#include <stdint.h>
#include <jansson.h>

#include "error.h"
#include "caconnectors/caconnector.h"

struct app;
struct db_conn;
struct snapshot;

/* One connector as a snapshot holds it (valid while the snapshot is). */
struct caconnector_def {
	int64_t id;
	const char *name;
	const char *type;          /* catype as stored */
	struct caconnector *inst;  /* NULL when the definition is unusable */
	const char *problem;       /* why inst is NULL; "" when it is not */
};

/* The connector of that name: the exact name first, else compared
 * case-insensitively as privacyIDEA's get_caconnector_object.  NULL when
 * there is none. */
const struct caconnector_def *caconnector_find(const struct snapshot *s, const char *name);
/* The live instance to work with.  NULL with err filled:
 *   ERRK_NOTFOUND 601 "The requested CAConnector could not be found."
 *   ERRK_PI 503 (CAError) when the definition cannot be instantiated
 *   (unknown type, missing parameter, undecryptable password ...).
 * err may be NULL. */
struct caconnector *caconnector_get(const struct snapshot *s, const char *name, struct error *err);

/* GET /caconnector/ (name NULL) and GET /caconnector/<name> (exact name):
 * [{"connectorname", "type", "data": {Key: Value, password values
 * "__CENSORED__"}, "templates": {...}}] in id order.  New reference. */
json_t *caconnector_list(const struct snapshot *s, const char *name);
/* GET /system/names/caconnector: the same without the data ("data": {}). */
json_t *caconnector_names(const struct snapshot *s);

/* A valid connector name (privacyIDEA's sanity_name_check: letters,
 * digits, "_", "-", "."). */
int caconnector_name_ok(const char *name);

/* POST /caconnector/<name> (privacyIDEA's save_caconnector), in the
 * caller's write transaction.  params: "caconnector" (the name), "type",
 * then the definition's keys; "type.<key>" / "desc.<key>" set a row's
 * Type / Description.  Creates the connector or updates the keys sent (the
 * type cannot change).  The resulting definition is checked against the
 * type's parameter table and instantiated once: a missing required key,
 * a bad integer/boolean, an unknown type or a bad name is ERR905 and
 * nothing is written.  Password-type values (the table's, or "type.<key>
 * = password" for other keys) are stored encrypted (config slot);
 * "__CENSORED__" (what GET shows) keeps the stored value.  Bumps the
 * config timestamp.  *id = the connector's database id. */
int caconnector_save(struct app *app, struct db_conn *c, const json_t *params, int64_t *id, struct error *err);
/* DELETE /caconnector/<name>: *id = the deleted id; 601 when there is no
 * connector of that exact name.  Bumps the config timestamp.  Tokens
 * using the connector are not checked (privacyIDEA does not either). */
int caconnector_delete(struct db_conn *c, const char *name, int64_t *id, struct error *err);
/* GET /caconnector/specific/<catype>: a throw-away instance from params,
 * then its get_specific_options ({} for "local").  ERR905 for an unknown
 * type, CAError 503 when params are not a usable definition. */
int caconnector_specific(const char *catype, const json_t *params, json_t **options, struct error *err);

/* ---- without a snapshot (the `tessera ca` command) ----
 * The SNAP_CACONNECTORS part on its own, read from the database.  The
 * accessors above work on it through caconnector_set_*. */
struct caconnector_set;
struct caconnector_set *caconnector_set_load(struct app *app, struct db_conn *c, struct error *err);
void caconnector_set_free(struct caconnector_set *set);
const struct caconnector_def *caconnector_set_find(const struct caconnector_set *set, const char *name);
/* As caconnector_list (with_data) / caconnector_names (!with_data). */
json_t *caconnector_set_view(const struct caconnector_set *set, const char *name, int with_data);

#endif
