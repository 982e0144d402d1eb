/*
 * login.c — deciding who logs in with POST /auth (login.h): first a local
 * administrator with that name and password, otherwise the user of the
 * realm (split from the name, the `realm` parameter or the default realm)
 * with the user-store password; users of a SUPERUSER_REALM become admins.
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
#include "realm.h"
#include "user.h"
#include "../db/store.h"

/* User-scope actions of privacyIDEA (static ones, then those of the token
 * types), as ui_get_rights lists them when no user policy exists. */
static const char *const user_actions[] = {
	"assign", "disable", "enable", "delete", "unassign", "resync", "revoke", "reset", "setpin",
	"setrandompin", "otp_pin_set_random", "setdescription", "enrollpin", "otp_pin_maxlength",
	"otp_pin_minlength", "otp_pin_contents", "auditlog", "auditlog_age", "hide_audit_columns", "userlist",
	"updateuser", "password_reset", "set_custom_user_attributes", "delete_custom_user_attributes",
	"hide_tokeninfo", "enrollHOTP", "enrollMOTP", "enrollSPASS", "enrollSSHKEY", "enrollTOTP",
	"enrollYUBICO", "enrollYUBIKEY", "enrollRADIUS", "enrollSMS", "enrollEMAIL", "enrollCERTIFICATE",
	"enrollTIQR", "enrollU2F", "enrollPAPER", "enrollQUESTION", "enrollTAN", "enrollPUSH",
	"enrollINDEXEDSECRET", "enrollWEBAUTHN", "hotp_hashlib", "hotp_otplen", "hotp_force_server_generate",
	"hotp_2step", "spass_otp_pin_maxlength", "spass_otp_pin_minlength", "spass_otp_pin_contents",
	"totp_timestep", "totp_hashlib", "totp_otplen", "totp_force_server_generate", "totp_2step",
	"sms_gateways", "certificate_trusted_Attestation_CA_path", "indexedsecret_force_attribute", NULL,
};

json_t *login_user_rights(void)
{
	json_t *a = json_array();
	for (const char *const *p = user_actions; a && *p; p++)
		json_array_append_new(a, json_string(*p));
	return a;
}

/* The main menus of those actions (tokens: token actions, audit: auditlog,
 * users: userlist/updateuser). */
json_t *login_user_menus(void)
{
	return json_pack("[s,s,s]", "audit", "users", "tokens");
}

static int superuser_realm(const struct app *app, const char *realm)
{
	for (char **r = app->superuser_realms; r && *r; r++)
		if (!strcasecmp(*r, realm))
			return 1;
	return 0;
}

int login_password(struct app *app, struct snapshot *s, struct db_conn *c, const char *username,
		   const char *realm_param, const char *password, struct login_result *r, struct error *err)
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
	if (found == 0) {
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
