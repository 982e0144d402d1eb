/*
 * realm.h — resolvers and realms as configured (the `resolver`,
 * `resolverconfig`, `realm`, `resolverrealm` tables), held in the
 * configuration snapshot part SNAP_USERSTORE with live resolver
 * instances.  Implemented in realm.c (users issue).
 */
#ifndef TESSERA_REALM_H
#define TESSERA_REALM_H

#include <jansson.h>
#include "error.h"

struct app;
struct db_conn;
struct snapshot;
struct resolver;

/* Realm names are case-insensitive; stored and compared lower case. */
int realm_exists(const struct snapshot *s, const char *realm);
/* The default realm's name or NULL. */
const char *realm_default(const struct snapshot *s);
/* Database id of a realm (for tokenrealm/tokenowner rows), -1 if unknown. */
long long realm_id(const struct snapshot *s, const char *realm);
/* Name of the realm with that id, or NULL. */
const char *realm_name_by_id(const struct snapshot *s, long long id);
/* The realm's resolver names in priority order (lowest number first, then
 * by name): NULL-terminated array valid as long as the snapshot. */
const char *const *realm_resolvers(const struct snapshot *s, const char *realm);
/* The live instance of a resolver (owned by the snapshot), or NULL. */
struct resolver *realm_resolver(const struct snapshot *s, const char *resolver_name);
/* The realms containing a resolver (new array of names). */
json_t *realm_of_resolver(const struct snapshot *s, const char *resolver_name);

#endif
