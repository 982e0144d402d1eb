/*
 * user.h — users, as privacyIDEA's User object: a login name in a realm,
 * found in one of the realm's resolvers (by priority), with a user id.
 *
 * Tessera keeps no users; everything here goes through the resolvers of
 * the configuration snapshot (realm.c) and the optional user cache.
 * Implemented in user.c (users issue).
 */
#ifndef TESSERA_USER_H
#define TESSERA_USER_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "error.h"

struct app;
struct db_conn;
struct snapshot;

struct user {
	char login[256];    /* login name as given (after realm splitting) */
	char realm[256];    /* realm name, lower case; "" = no realm */
	char resolver[256]; /* resolver name; "" until resolved */
	char uid[256];      /* user id in that resolver; "" until resolved */
};

/* 1 when no user is meant (empty login and empty realm). */
int user_is_empty(const struct user *u);

/* privacyIDEA's get_user_from_param: from the request parameters `user`
 * (login, login@realm, realm\login per splitAtSign), `realm` (overrides),
 * `resolver` (pins the resolver); the default realm when no realm
 * results.  Resolves the user (resolver by realm priority, uid).
 * Returns 0 = user found; 1 = no user given (u is empty);
 * -1 = error: unknown realm / user not in any resolver of the realm
 * (ERR904 "The user can not be found in any resolver in this realm!"),
 * store failure. */
int user_from_params(struct snapshot *s, struct db_conn *c, const char *user, const char *realm,
		     const char *resolver, struct user *u, struct error *err);
/* Resolve login+realm (and optional resolver) into resolver+uid.
 * 0 found, 1 not found, -1 error. */
int user_resolve(struct snapshot *s, struct db_conn *c, struct user *u, struct error *err);
/* Build a user from resolver name + uid (token owners), realm given. */
int user_from_uid(struct snapshot *s, struct db_conn *c, const char *resolver, const char *uid,
		  const char *realm, struct user *u, struct error *err);

/* The user's attributes (userid, username, givenname, surname, email,
 * phone, mobile, description, ... plus custom attributes). New ref. */
int user_info(struct snapshot *s, struct db_conn *c, const struct user *u, json_t **info, struct error *err);
/* The user-store password: 1 right, 0 wrong, -1 store error. */
int user_check_password(struct snapshot *s, struct db_conn *c, const struct user *u, const char *password,
			struct error *err);
/* "login@realm" or "login" for audit/log lines. */
const char *user_display(const struct user *u, char *buf, unsigned len);

/* ---- users issue: additions ----
 * user_from_params returns 1 whenever no login is given (u->realm may
 * still hold the realm); a login of 256 bytes or more is a user that does
 * not exist (ERR904). */

/* privacyIDEA's split_user: "login@realm" (last '@', only when the part
 * after it is an existing realm) or "realm\login" (only without '@'),
 * both only with splitAtSign on; the name is stripped of blanks first.
 * realm gets "" when nothing was split off (not lower-cased). */
void user_split(const struct snapshot *s, const char *username, char *login, size_t login_len, char *realm,
		size_t realm_len);

/* The user's custom attributes {key: value} (new ref); {} for a user
 * that is not resolved. */
int user_attributes(struct snapshot *s, struct db_conn *c, const struct user *u, json_t **attrs,
		    struct error *err);
/* Set one custom attribute; *id = the attribute's db id. */
int user_set_attribute(struct snapshot *s, struct db_conn *c, const struct user *u, const char *key,
		       const char *value, const char *type, int64_t *id, struct error *err);
/* Delete one custom attribute (key NULL: all); *count = rows deleted. */
int user_delete_attribute(struct snapshot *s, struct db_conn *c, const struct user *u, const char *key,
			  int64_t *count, struct error *err);

/* GET /user/: users of a realm (and/or one resolver; neither: of every
 * realm) matching search ({attribute: pattern}, '*' wildcard), each with
 * "resolver", "editable", custom attributes and, when several realms are
 * searched, "realm".  A resolver that fails is logged and skipped, as in
 * privacyIDEA.  attributes (NULL = all): only these keys per user. */
int user_list(struct snapshot *s, struct db_conn *c, const char *realm, const char *resolver,
	      const json_t *search, const json_t *attributes, json_t **list, struct error *err);
/* The attribute keys a client may set for users of the resolver: the
 * standard ones and every key of its attribute mapping (new array). */
json_t *user_settable_keys(struct snapshot *s, const char *resolver);
/* 1 when the resolver exists and allows creating/changing users. */
int user_resolver_editable(struct snapshot *s, const char *resolver);
/* Create a user in an editable resolver: *uid malloc'd.  Unknown resolver
 * ERR904, not editable ERR907, store errors as the resolver reports them. */
int user_create(struct snapshot *s, struct db_conn *c, const char *resolver, const json_t *attrs, char **uid,
		struct error *err);
/* Change / delete a resolved user in its (editable) resolver; the user
 * cache entries of the user are dropped. */
int user_update(struct snapshot *s, struct db_conn *c, const struct user *u, const json_t *attrs,
		struct error *err);
int user_delete(struct snapshot *s, struct db_conn *c, const struct user *u, struct error *err);

#endif
