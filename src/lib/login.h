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
#include "user.h"

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

/* webui.login_mode: how a user of a realm proves who he is. */
enum login_mode {
	LOGIN_USERSTORE = 0, /* the user-store password (default)          */
	LOGIN_PRIVACYIDEA,   /* the user's tokens (PIN + OTP)               */
	LOGIN_DISABLE,       /* no login: PolicyError                       */
};

/* The policy questions of a login, answered by the API layer (NULL: no
 * policies, every user logs in with the user-store password). */
struct login_policy {
	void *ctx;
	/* The login_mode of the user (resolved, or only named when unknown). */
	int (*mode)(void *ctx, const struct user *u, enum login_mode *mode, struct error *err);
	/* privacyIDEA mode: check password as PIN+OTP of u's tokens.  1 ok,
	 * 0 rejected, -1 error. */
	int (*otp)(void *ctx, const struct user *u, const char *password, struct error *err);
};

/* 1 = authenticated (*r filled), 0 = wrong credentials (unknown user,
 * wrong password, user store unreachable: never told apart), -1 = error
 * (login_mode "disable": PolicyError 303 "The login for this user is
 * disabled.").  username as given ("login", "login@realm",
 * "realm\\login"); realm_param the `realm` parameter or NULL (its
 * existence is checked by the caller).  Local administrators are never
 * subject to login_mode.  Every failure costs one admin password
 * verification, so failures of existing and unknown names take the same
 * time. */
int login_password(struct app *app, struct snapshot *s, struct db_conn *c, const char *username,
		   const char *realm_param, const char *password, const struct login_policy *pol,
		   struct login_result *r, struct error *err);

/* The Web UI main menus opened by a list of rights (action names): the
 * union of the actions' "mainmenu" lists in the definitions of scope
 * ("admin" / "user"), in a fixed order.  New array. */
json_t *login_main_menus(const char *scope, const json_t *rights);

#endif
