/*
 * store_system.h — read-only listings the /system endpoints need from
 * tables other modules own: RADIUS server identifiers (`radiusserver`)
 * and CA connector names and types (`caconnector`), for
 * GET /system/names/radius and /system/names/caconnector.
 */
#ifndef TESSERA_STORE_SYSTEM_H
#define TESSERA_STORE_SYSTEM_H

#include <jansson.h>
#include "db.h"

/* ["identifier", ...] ordered by identifier. New reference in *out. */
int store_radiusserver_identifiers(struct db_conn *c, json_t **out, struct error *err);
/* [{"name": .., "type": ..}, ...] ordered by name. New reference in *out. */
int store_caconnector_names(struct db_conn *c, json_t **out, struct error *err);

#endif
