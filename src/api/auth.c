/*
 * auth.c — the /auth blueprint: POST /auth issues the JWT, GET
 * /auth/rights lists the token types the caller may enroll.
 * Local admins and users of realms (role "user"; "admin" for a
 * SUPERUSER_REALM) log in with a password; who is who is decided by
 * lib/login.c.
 */
#include "api.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/app.h"
#include "../lib/crypto.h"
#include "../lib/jwt.h"
#include "../lib/log.h"
#include "../lib/login.h"
#include "../lib/realm.h"
#include "../lib/rights.h"
#include "../lib/tokens/tokentype.h"

static const char WRONG_CREDENTIALS[] = "Authentication failure. Wrong credentials";

/* The Web UI settings privacyIDEA adds to /auth (defaults without webui
 * policies, as privacyIDEA 3.12 answers them). */
static void add_webui_settings(json_t *v, struct app *app)
{
	json_object_set_new(v, "logout_time", json_integer(app->logout_time));
	json_object_set_new(v, "audit_page_size", json_integer(10));
	json_object_set_new(v, "token_page_size", json_integer(15));
	json_object_set_new(v, "user_page_size", json_integer(15));
	json_object_set_new(v, "policy_template_url",
			    json_string("https://raw.githubusercontent.com/privacyidea/policy-templates/master/templates/"));
	json_object_set_new(v, "default_tokentype", json_string("hotp"));
	json_object_set_new(v, "default_container_type", json_string("generic"));
	static const char *const off[] = { "user_details", "token_wizard", "token_wizard_2nd", "admin_dashboard",
					   "dialog_no_token", "search_on_enter", NULL };
	for (const char *const *p = off; *p; p++)
		json_object_set_new(v, *p, json_false());
	json_object_set_new(v, "timeout_action", json_string("lockscreen"));
	json_object_set_new(v, "token_rollover", json_object());
	json_object_set_new(v, "hide_welcome", json_false());
	json_object_set_new(v, "hide_buttons", json_false());
	json_object_set_new(v, "deletion_confirmation", json_false());
	json_object_set_new(v, "show_seed", json_false());
	json_object_set_new(v, "show_node", json_string(""));
	json_object_set_new(v, "subscription_status", json_integer(0));
	json_object_set_new(v, "subscription_status_push", json_integer(0));
	json_object_set_new(v, "qr_image_android", json_null());
	json_object_set_new(v, "qr_image_ios", json_null());
	json_object_set_new(v, "qr_image_custom", json_null());
	json_object_set_new(v, "logout_redirect_url", json_string(""));
	json_object_set_new(v, "require_description", json_array());
	json_object_set_new(v, "rss_age", json_integer(180));
	json_object_set_new(v, "container_wizard", json_pack("{s:b}", "enabled", 0));
}

static json_t *admin_menus(void)
{
	return json_pack("[s,s,s,s,s,s]", "audit", "config", "machines", "users", "components", "tokens");
}

/* Issue the JWT and build result.value for an authenticated caller. */
static int login_success(struct request *rq, const struct login_result *who, json_t **value, struct error *err)
{
	char nonce[41];
	const char *role = who->admin ? "admin" : "user";
	if (crypto_random_hex(nonce, 20) < 0)
		return err_internal(err, "random generator failed");
	json_t *rights = who->admin ? rights_admin_all() : login_user_rights();
	json_t *claims = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:O}", "username", who->username, "realm", who->realm,
				   "nonce", nonce, "role", role, "authtype", "password", "exp",
				   (json_int_t)(time(NULL) + rq->app->jwt_validity), "rights", rights);
	/* Users of realms carry their resolver (privacyIDEA 3.10+). */
	if (claims && !who->local_admin)
		json_object_set_new(claims, "resolver", json_string(who->resolver));
	char *token = claims ? jwt_encode(claims, rq->app->secret_key, err) : NULL;
	json_decref(claims);
	if (!token) {
		json_decref(rights);
		return err_is_set(err) ? -1 : err_internal(err, "cannot build the JWT");
	}
	json_t *v = json_object();
	json_object_set_new(v, "auth", json_true());
	json_object_set_new(v, "log_level", json_integer(log_level()));
	json_object_set_new(v, "menus", who->admin ? admin_menus() : login_user_menus());
	json_object_set_new(v, "realm", json_string(who->realm));
	json_object_set_new(v, "rights", rights);
	json_object_set_new(v, "role", json_string(role));
	json_object_set_new(v, "token", json_string(token));
	json_object_set_new(v, "username", json_string(who->username));
	crypto_free_str(token);
	add_webui_settings(v, rq->app);
	*value = v;
	rq->auth_result = "ACCEPT";
	rq->audit.success = 1;
	snprintf(rq->audit.authentication, sizeof(rq->audit.authentication), "ACCEPT");
	return 0;
}

int api_auth_post(struct request *rq, json_t **value, struct error *err)
{
	const char *username = param_str(rq, "username");
	const char *password = param_str(rq, "password");
	const char *realm = param_str(rq, "realm");
	struct login_result who;
	snprintf(rq->audit.authentication, sizeof(rq->audit.authentication), "REJECT");

	struct db_conn *c = request_db(rq, err);
	struct snapshot *s = c ? request_snapshot(rq, err) : NULL;
	if (!s)
		return -1;
	/* A realm parameter must name a realm; privacyIDEA checks it first. */
	if (realm && *realm && !realm_exists(s, realm))
		return err_set(err, ERRK_AUTH, ERR_AUTH_WRONG, "Authentication failure. Unknown realm: %s.", realm);
	if (!username)
		return err_set(err, ERRK_AUTH, ERR_AUTH_NOUSER, "Authentication failure. Missing Username");
	snprintf(rq->audit.user, sizeof(rq->audit.user), "%s", username);

	int ok = login_password(rq->app, s, c, username, realm, password ? password : "", &who, err);
	if (ok < 0)
		return -1;
	if (ok == 1 && who.admin) {
		snprintf(rq->audit.administrator, sizeof(rq->audit.administrator), "%s", who.username);
		rq->audit.user[0] = '\0';
		if (who.local_admin)
			snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", "internal admin");
	} else if (ok == 1) {
		snprintf(rq->audit.user, sizeof(rq->audit.user), "%s", who.username);
	}
	if (who.realm[0]) {
		snprintf(rq->audit.realm, sizeof(rq->audit.realm), "%s", who.realm);
		snprintf(rq->audit.resolver, sizeof(rq->audit.resolver), "%s", who.resolver);
	}
	if (ok == 1)
		return login_success(rq, &who, value, err);
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", "wrong credentials");
	rq->detail = json_object(); /* privacyIDEA 3.12 answers "detail": {} here */
	return err_set(err, ERRK_AUTH, ERR_AUTH_WRONG, "%s", WRONG_CREDENTIALS);
}

int api_auth_rights(struct request *rq, json_t **value, struct error *err)
{
	/* {type: description} of the types this role enrolls (policy:
	 * admin/user.enroll<TYPE> narrows it once enforcement is wired). */
	*value = token_types_enrollable(rq->who.role == ROLE_USER);
	if (!*value)
		return err_internal(err, "out of memory");
	return 0;
}
