/*
 * login.h — who is logging in with POST /auth and a password: a local
 * administrator (the `admin` table) or a user of a realm checked against
 * the user store, told apart exactly as privacyIDEA's get_auth_token does.
 * The JWT and the answer are built by src/api/auth.c.
 */
#ifndef TESSERA_LOGIN_H
#define TESSERA_LOGIN_H

#include <jansson.h>
#include "error.h"

struct app;
struct db_conn;
struct snapshot;

struct login_result {
	int admin;          /* role "admin" (local admin or SUPERUSER_REALM) */
	int local_admin;    /* from the admin table (realm "") */
	char username[256]; /* the login name (after realm splitting) */
	char realm[256];    /* "" for local admins */
	char resolver[256]; /* "" for local admins */
};

/* 1 = authenticated (*r filled), 0 = wrong credentials (unknown user,
 * wrong password, user store unreachable: never told apart), -1 = error.
 * username as given ("login", "login@realm", "realm\\login"); realm_param
 * the `realm` parameter or NULL (its existence is checked by the caller).
 * Every failure costs one admin password verification, so failures of
 * existing and unknown names take the same time. */
int login_password(struct app *app, struct snapshot *s, struct db_conn *c, const char *username,
		   const char *realm_param, const char *password, struct login_result *r, struct error *err);

/* The user-scope actions a user holds while no user policy exists (the
 * "rights" of /auth for users), and the Web UI menus they open.  Static
 * until the policy engine computes them.  New arrays. */
json_t *login_user_rights(void);
json_t *login_user_menus(void);

#endif
