/*
 * store_caconnector.h — storage of CA connector definitions: privacyIDEA's
 * tables `caconnector` (id, name, catype) and `caconnectorconfig`
 * (caconnector_id, Key, Value, Type, Description).
 *
 * One function per query, on a borrowed connection; transactions are the
 * caller's.  Values are stored as given: encrypting "password" values,
 * validating definitions and bumping the config timestamp are
 * lib/caconnector_cfg.c's job.  Names are compared exactly, as
 * privacyIDEA's get_caconnector_list does.
 * Return convention: 0 = ok/found, 1 = not found (where stated), -1 = error.
 */
#ifndef TESSERA_STORE_CACONNECTOR_H
#define TESSERA_STORE_CACONNECTOR_H

#include <stdint.h>
#include <jansson.h>
#include "db.h"

/* Every connector with its configuration rows, in id order (new array):
 * [{"id": n, "name": s, "type": catype, "config": {Key: {"Value", "Type",
 * "Description"}}}] (values as stored; SQL NULL read as ""). */
int store_caconnector_list(struct db_conn *c, json_t **out, struct error *err);
/* One connector by exact name; 1 when there is none.  On 0 the wanted
 * outputs (each may be NULL) are set: *id, *type (malloc'd), *config (new
 * reference, shaped as in store_caconnector_list). */
int store_caconnector_get(struct db_conn *c, const char *name, int64_t *id, char **type, json_t **config,
			  struct error *err);
int store_caconnector_insert(struct db_conn *c, const char *name, const char *type, int64_t *id,
			     struct error *err);
/* Insert or overwrite one configuration row (unique per connector and Key). */
int store_caconnector_config_put(struct db_conn *c, int64_t caconnector_id, const char *key, const char *value,
				 const char *type, const char *description, struct error *err);
/* Deletes the connector and its configuration rows. */
int store_caconnector_delete(struct db_conn *c, int64_t id, struct error *err);

#endif
