/*
 * realm.h — resolvers and realms as configured (the `resolver`,
 * `resolverconfig`, `realm`, `resolverrealm` tables), held in the
 * configuration snapshot part SNAP_USERSTORE with live resolver
 * instances.  Implemented in realm.c (users issue).
 */
#ifndef TESSERA_REALM_H
#define TESSERA_REALM_H

#include <stdint.h>
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

/* ---- reading, in the shapes of the API (users issue) ---- */
/* Realms as GET /realm/ shows them: {name: {"id", "option", "default",
 * "resolver": [{"name", "type", "priority", "node"}]}}; name NULL = all,
 * else only that realm ({} when unknown).  New reference. */
json_t *realm_list(const struct snapshot *s, const char *name);
/* Names of all realms in creation order (new array). */
json_t *realm_names(const struct snapshot *s);
/* Resolvers as GET /resolver/ shows them: {name: {"resolvername", "type",
 * "censor_keys", "data"}}, password-type values as "__CENSORED__".
 * Filters (NULL / -1 = none): name (case-insensitive), type, editable
 * (the definition's Editable/EDITABLE flag).  New reference. */
json_t *resolver_list(const struct snapshot *s, const char *name, const char *type, int editable);
/* Type name of a configured resolver, NULL when there is none. */
const char *realm_resolver_type(const struct snapshot *s, const char *resolver_name);
/* The decrypted definition of a configured resolver (borrowed, lives as
 * long as the snapshot), NULL when there is none. */
const json_t *realm_resolver_config(const struct snapshot *s, const char *resolver_name);
/* 1 when users of the resolver may log in with several login names (an
 * LDAP LOGINNAMEATTRIBUTE list): the login is then mapped back to the
 * canonical username, as privacyIDEA's has_multiple_loginnames. */
int realm_resolver_multi_login(const struct snapshot *s, const char *resolver_name);

/* ---- writes (users issue) ----
 * All run in the caller's write transaction and bump the configuration
 * timestamp in it; nothing is written when they fail. */
/* POST /resolver/<name>: params are the request parameters ("resolver",
 * "type", the definition, optional type.<key> / desc.<key>).  Creates or
 * updates (keys not given keep their value; a password-type value
 * "__CENSORED__" keeps the stored one).  The merged definition must build
 * an instance (no connection is made).  *id = the resolver's db id. */
int resolver_save(struct app *app, struct db_conn *c, const json_t *params, int64_t *id, struct error *err);
/* 0 deleted (*id = its db id), 1 no such resolver (*id = -1); refused
 * (ERR302) while a realm contains it. */
int resolver_delete(struct app *app, struct db_conn *c, const char *name, int64_t *id, struct error *err);
/* POST /resolver/test: tests the definition in params without saving it
 * ("__CENSORED__" values of the resolver named by params "resolver" are
 * taken from the snapshot).  0 with *ok 1/0 and *desc (malloc'd), -1 on
 * bad input (type missing/unknown). */
int resolver_test(struct snapshot *s, const json_t *params, int *ok, char **desc, struct error *err);
/* POST /realm/<name>: the realm (lower-cased, blanks → '-') gets exactly
 * the resolvers given (JSON array or comma-separated string), with
 * priorities from params "priority.<resolver>".  A resolver that does not
 * exist is an error (ERR905) and nothing is written.  *added = new array
 * of the resolver names added.  The first realm becomes the default. */
int realm_save(struct app *app, struct db_conn *c, const char *realm, const json_t *resolvers,
	       const json_t *params, json_t **added, struct error *err);
/* DELETE /realm/<name>: *id = the deleted realm's id; unknown → 404/601.
 * When one realm is left and there is no default, it becomes the default. */
int realm_delete(struct app *app, struct db_conn *c, const char *realm, int64_t *id, struct error *err);
/* POST /defaultrealm/<name> (realm) or DELETE /defaultrealm (realm NULL):
 * *id = the new default's id, or when clearing the previous default's id
 * (0 if there was none).  Unknown realm → 404/601. */
int realm_set_default(struct app *app, struct db_conn *c, const char *realm, int64_t *id, struct error *err);

#endif
