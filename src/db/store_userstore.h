/*
 * store_userstore.h — storage of the user-store configuration and of what
 * Tessera keeps about users: privacyIDEA's tables `resolver`,
 * `resolverconfig`, `realm`, `resolverrealm`, `usercache` and
 * `customuserattribute`.
 *
 * One function per query, on a borrowed connection; transactions are the
 * caller's.  Values are stored as given: encrypting password-type
 * resolver values and deciding what is valid is lib/realm.c's job.
 * Names are compared exactly unless a function says otherwise.
 * Return convention: 0 = ok/found, 1 = not found (where stated), -1 = error.
 */
#ifndef TESSERA_STORE_USERSTORE_H
#define TESSERA_STORE_USERSTORE_H

#include <stdint.h>
#include <jansson.h>
#include "db.h"

/* ---- resolver, resolverconfig ---- */

/* Every resolver with its configuration rows, in id order:
 * {name: {"id": n, "type": rtype, "config": {Key: {"Value", "Type",
 * "Description"}}}} (values as stored; NULL read as ""). */
int store_resolver_list(struct db_conn *c, json_t **out, struct error *err);
/* One resolver by name, compared case-insensitively as privacyIDEA's
 * save_resolver does (lname must already be lower case).  On 0, *id,
 * *name (the stored spelling, malloc'd), *rtype (malloc'd) and *config
 * (as in store_resolver_list) are set; any of them may be NULL. */
int store_resolver_get(struct db_conn *c, const char *lname, int64_t *id, char **name, char **rtype,
		       json_t **config, struct error *err);
int store_resolver_insert(struct db_conn *c, const char *name, const char *rtype, int64_t *id,
			  struct error *err);
/* Insert or overwrite one configuration row (unique per resolver and Key). */
int store_resolver_config_put(struct db_conn *c, int64_t resolver_id, const char *key, const char *value,
			      const char *type, const char *description, struct error *err);
/* Deletes the resolver and its configuration rows. */
int store_resolver_delete(struct db_conn *c, int64_t id, struct error *err);
/* Name of the first realm (by name) containing the resolver: 0 and
 * *realm malloc'd, 1 when it is in no realm. */
int store_resolver_first_realm(struct db_conn *c, int64_t resolver_id, char **realm, struct error *err);

/* ---- realm, resolverrealm ---- */

/* Every realm, in id order: {name: {"id": n, "option": s, "default": bool,
 * "resolver": [{"name", "type", "priority": int|null, "node": ""}]}} with
 * the resolvers in the order they were added. */
int store_realm_list(struct db_conn *c, json_t **out, struct error *err);
/* 0 and *id, 1 when there is no realm of that (exact) name. */
int store_realm_get_id(struct db_conn *c, const char *name, int64_t *id, struct error *err);
int store_realm_insert(struct db_conn *c, const char *name, int64_t *id, struct error *err);
int store_realm_count(struct db_conn *c, int64_t *n, struct error *err);
/* Remove every resolver from the realm. */
int store_realm_clear_resolvers(struct db_conn *c, int64_t realm_id, struct error *err);
/* Add a resolver; has_priority 0 stores SQL NULL. */
int store_realm_add_resolver(struct db_conn *c, int64_t realm_id, int64_t resolver_id, int has_priority,
			     int64_t priority, struct error *err);
/* Deletes the realm with its resolver and token-realm links and the custom
 * attributes of its users. */
int store_realm_delete(struct db_conn *c, int64_t id, struct error *err);
/* Number of token owners referring to the realm (they keep it alive). */
int store_realm_owner_count(struct db_conn *c, int64_t realm_id, int64_t *n, struct error *err);
/* Make realm `id` the default (0: no default).  *previous (may be NULL)
 * gets the id of the realm that was the default before, 0 if none. */
int store_realm_set_default(struct db_conn *c, int64_t id, int64_t *previous, struct error *err);

/* ---- usercache ---- */

/* Entries written at or after `not_before` (a DB_TS_LEN timestamp) count;
 * older ones are expired (kept until deleted, as privacyIDEA does). */
/* login as used → the resolved username and user id (both malloc'd). */
int store_usercache_by_login(struct db_conn *c, const char *used_login, const char *resolver,
			     const char *not_before, char **username, char **user_id, struct error *err);
/* user id → username (malloc'd). */
int store_usercache_by_uid(struct db_conn *c, const char *user_id, const char *resolver, const char *not_before,
			   char **username, struct error *err);
/* Replace the entry of (used_login, resolver) by a fresh one. */
int store_usercache_put(struct db_conn *c, const char *username, const char *used_login, const char *resolver,
			const char *user_id, struct error *err);
/* Drop every entry of a resolver. */
int store_usercache_delete_resolver(struct db_conn *c, const char *resolver, struct error *err);
/* Drop the entries of one user of a resolver, found by username or uid
 * (either may be NULL). */
int store_usercache_delete_user(struct db_conn *c, const char *resolver, const char *username,
				const char *user_id, struct error *err);

/* ---- customuserattribute ---- */

/* A user's custom attributes {Key: Value}; realm_id 0 means "no realm". */
int store_userattr_list(struct db_conn *c, const char *user_id, const char *resolver, int64_t realm_id,
			json_t **out, struct error *err);
/* Insert or overwrite; *id gets the row's id. */
int store_userattr_set(struct db_conn *c, const char *user_id, const char *resolver, int64_t realm_id,
		       const char *key, const char *value, const char *type, int64_t *id, struct error *err);
/* Delete one key (key NULL: all of the user's); *count (may be NULL) gets
 * the number of rows deleted. */
int store_userattr_delete(struct db_conn *c, const char *user_id, const char *resolver, int64_t realm_id,
			  const char *key, int64_t *count, struct error *err);
/* 1 when any custom attribute exists at all (cheap check before merging). */
int store_userattr_any(struct db_conn *c, int *any, struct error *err);

#endif
