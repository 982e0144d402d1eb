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

#endif
