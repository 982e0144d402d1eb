/*
 * realm_int.h — what realm.c (the snapshot part) shares with
 * realm_write.c (the configuration writes).  Not for other modules.
 */
#ifndef TESSERA_REALM_INT_H
#define TESSERA_REALM_INT_H

#include <jansson.h>
#include "error.h"

struct app;
struct snapshot;

/* Stored resolverconfig rows {Key: {"Value", "Type", ...}} → *config
 * {Key: value} with password-type values decrypted, *censor the keys of
 * Type "password".  -1 when a value cannot be decrypted. */
int realm_decrypt_config(struct app *app, const json_t *rows, json_t **config, json_t **censor,
			 struct error *err);
/* Overwrite the values of `keys` in config in place (before freeing). */
void realm_wipe_secrets(json_t *config, json_t *keys);
/* The censor keys of a configured resolver (borrowed), NULL if none. */
const json_t *realm_resolver_censor_keys(const struct snapshot *s, const char *resolver_name);

#endif
