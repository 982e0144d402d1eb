/*
 * system.h — what the /system endpoints need besides the settings
 * themselves (sysconfig.h): the configuration documentation, the name
 * lists of RADIUS servers and CA connectors, random key material.
 * Implemented in system.c.
 */
#ifndef TESSERA_SYSTEM_H
#define TESSERA_SYSTEM_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"

struct app;
struct db_conn;
struct snapshot;

/* privacyIDEA's documentation.rst: a reStructuredText description of the
 * configuration (pi.cfg's PI_* settings with secrets redacted, local
 * admins, system settings with passwords censored).  malloc'd text. */
char *system_documentation(struct app *app, struct db_conn *c, const struct snapshot *s, struct error *err);
/* ["radius1", ...]: identifiers of the defined RADIUS servers. */
json_t *system_radius_names(struct db_conn *c, struct error *err);
/* [{"connectorname", "type", "data": {}, "templates": {}}, ...]: the CA
 * connectors without their configuration (templates come with the CA
 * connector module). */
json_t *system_caconnector_names(struct db_conn *c, struct error *err);

#define SYSTEM_RANDOM_MAX 4096
/* len random bytes (0..SYSTEM_RANDOM_MAX) as lower-case hex, or standard
 * padded base64 when b64.  malloc'd. */
char *system_random(size_t len, int b64, struct error *err);

#endif
