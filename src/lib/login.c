/*
 * login.c — deciding who logs in with POST /auth (login.h): first a local
 * administrator with that name and password, otherwise the user of the
 * realm (split from the name, the `realm` parameter or the default realm)
 * with the user-store password — or as webui.login_mode says (the API
 * layer answers the policy questions, struct login_policy); users of a
 * SUPERUSER_REALM become admins.  Also the main menus of a rights list.
 *
 * It must not tell the caller why a login failed (unknown name, wrong
 * password and an unreachable store all answer "wrong credentials") and
 * never logs a password.  Timing: privacyIDEA checks the admin table
 * without a dummy; Tessera verifies an admin password hash exactly once on
 * every failed login (the admin's real hash, or a dummy of the same cost),
 * so failures for existing admins, existing users and unknown names cost
 * the same, while a successful user login pays only its user-store check.
 */
#include "login.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "crypto.h"
#include "log.h"
#include "policy_defs.h"
#include "realm.h"
#include "user.h"
#include "../db/store.h"

/* ui_get_main_menus: every menu of every granted action.  privacyIDEA
 * returns a Python set (no defined order); Tessera lists them in this
 * order. */
json_t *login_main_menus(const char *scope, const json_t *rights)
{
	static const char *const order[] = { "audit", "config", "machines", "users", "components", "tokens", NULL };
	int seen[6] = { 0 };
	size_t i;
	json_t *r;
	json_array_foreach(rights, i, r) {
		const char *name = json_string_value(r);
		const struct policy_def *d = name ? policy_def_find(scope, name) : NULL;
		if (!d || !d->mainmenu)
			continue;
		for (size_t k = 0; order[k]; k++) {
			const char *m = strstr(d->mainmenu, order[k]);
			size_t l = strlen(order[k]);
			while (m && !((m == d->mainmenu || m[-1] == '|') && (m[l] == '\0' || m[l] == '|')))
				m = strstr(m + 1, order[k]);
			if (m)
				seen[k] = 1;
		}
	}
	json_t *a = json_array();
	for (size_t k = 0; a && order[k]; k++)
		if (seen[k])
			json_array_append_new(a, json_string(order[k]));
	return a;
}

static int superuser_realm(const struct app *app, const char *realm)
{
	for (char **r = app->superuser_realms; r && *r; r++)
		if (!strcasecmp(*r, realm))
			return 1;
	return 0;
}

int login_password(struct app *app, struct snapshot *s, struct db_conn *c, const char *username,
		   const char *realm_param, const char *password, const struct login_policy *pol,
		   struct login_result *r, struct error *err)
{
	struct store_admin a;
	memset(r, 0, sizeof(*r));
	if (!password)
		password = "";
	int admin = store_admin_get(c, username, &a, err);
	if (admin < 0)
		return -1;
	if (admin == 0) {
		int ok = crypto_verify_admin_password(app->pepper, password, a.password);
		memset(&a, 0, sizeof(a));
		if (ok == 1) {
			r->admin = r->local_admin = 1;
			snprintf(r->username, sizeof(r->username), "%s", username);
			return 1;
		}
	}

	/* A user of a realm; an empty realm parameter does not override the
	 * realm split from the name (privacyIDEA's `or`). */
	struct user u;
	struct error e = { 0 };
	int found = user_from_params(s, c, username, realm_param && *realm_param ? realm_param : NULL, NULL, &u, &e);
	int ok = 0;
	/* policy: webui.login_mode (privacyIDEA's login_mode decorator) */
	enum login_mode mode = LOGIN_USERSTORE;
	if (pol && pol->mode) {
		struct user named;
		const struct user *mu = &u;
		if (found != 0) { /* not resolvable: match the names as given */
			memset(&named, 0, sizeof(named));
			const char *at = strchr(username, '@');
			snprintf(named.login, sizeof(named.login), "%.*s", at ? (int)(at - username) : (int)strlen(username),
				 username);
			const char *rn = realm_param && *realm_param ? realm_param : at ? at + 1 : realm_default(s);
			snprintf(named.realm, sizeof(named.realm), "%s", rn ? rn : "");
			mu = &named;
		}
		if (pol->mode(pol->ctx, mu, &mode, err) < 0)
			return -1;
		if (mode == LOGIN_DISABLE)
			return err_set(err, ERRK_POLICY, ERR_POLICY, "The login for this user is disabled.");
	}
	if (found == 0 && mode == LOGIN_PRIVACYIDEA) {
		ok = pol->otp(pol->ctx, &u, password, &e);
		if (ok < 0) {
			log_warning("login of %s@%s: the token check failed: %s", u.login, u.realm, e.message);
			ok = 0;
		}
	} else if (found == 0) {
		ok = user_check_password(s, c, &u, password, &e);
		if (ok < 0)
			log_warning("login of %s@%s: the user store failed: %s", u.login, u.realm, e.message);
	} else if (found < 0 && e.kind != ERRK_PI) {
		log_warning("login: finding the user failed: %s", e.message);
	}
	if (ok == 1) {
		snprintf(r->username, sizeof(r->username), "%s", u.login);
		snprintf(r->realm, sizeof(r->realm), "%s", u.realm);
		snprintf(r->resolver, sizeof(r->resolver), "%s", u.resolver);
		r->admin = superuser_realm(app, u.realm);
		return 1;
	}
	if (found == 0) {
		snprintf(r->username, sizeof(r->username), "%s", u.login);
		snprintf(r->realm, sizeof(r->realm), "%s", u.realm);
		snprintf(r->resolver, sizeof(r->resolver), "%s", u.resolver);
	}
	if (admin == 1)
		crypto_dummy_verify(app->pepper, password);
	return 0;
}
