/*
 * auth.c — the /auth blueprint: POST /auth issues the JWT, GET
 * /auth/rights lists the token types the caller may enroll.
 * Local admins and users of realms (role "user"; "admin" for a
 * SUPERUSER_REALM) log in with a password (or, with webui.login_mode
 * privacyIDEA, with PIN+OTP); who is who is decided by lib/login.c.  The
 * answer carries the rights and menus the policy engine grants and the
 * Web UI settings of the webui policies (privacyIDEA's
 * get_webui_settings).  No SQL; the token check is token_auth.c's.
 */
#include "api.h"
#include "guard.h"
#include "token_api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/app.h"
#include "../lib/crypto.h"
#include "../lib/jwt.h"
#include "../lib/log.h"
#include "../lib/login.h"
#include "../lib/realm.h"
#include "../lib/otpauth.h"
#include "../lib/policy.h"
#include "../lib/polctx.h"
#include "../lib/token.h"
#include "../lib/user.h"
#include "../lib/tokens/tokentype.h"

static const char WRONG_CREDENTIALS[] = "Authentication failure. Wrong credentials";

static const char DEFAULT_TEMPLATE_URL[] =
	"https://raw.githubusercontent.com/privacyidea/policy-templates/master/templates/";
static const char ANDROID_APP_URL[] = "https://play.google.com/store/apps/details?id=it.netknights.piauthenticator";
static const char IOS_APP_URL[] = "https://apps.apple.com/us/app/privacyidea-authenticator/id1445401301";

/* What the webui questions of one login need. */
struct webui {
	struct request *rq;
	struct polctx p;
	struct user who;   /* Match.generic(user=loginname, realm=login or default realm) */
	int admin;
	struct user *user; /* the resolved user (role user), else NULL */
};

static void webui_q(struct webui *w, struct polq *q, const char *action)
{
	memset(q, 0, sizeof(*q));
	q->scope = "webui";
	q->action = action;
	q->user = &w->who;
}

static int webui_any(struct webui *w, const char *action, int *out, struct error *err)
{
	struct polq q;
	webui_q(w, &q, action);
	int rc = polctx_any(&w->p, &q, err);
	if (rc < 0)
		return -1;
	*out = rc;
	return 0;
}

/* A unique value as a string (default when none). */
static int webui_str(struct webui *w, json_t *v, const char *key, const char *action, const char *def,
		     struct error *err)
{
	struct polq q;
	char *val = NULL;
	webui_q(w, &q, action);
	int rc = polctx_value(&w->p, &q, POLICY_ALLOW_WHITESPACE, &val, err);
	if (rc < 0)
		return -1;
	json_object_set_new(v, key, json_string(rc == 1 ? val : def));
	free(val);
	return 0;
}

/* A unique value as an integer (privacyIDEA's int(): a non-integer value
 * is a server error there; Tessera keeps the default). */
static int webui_int(struct webui *w, json_t *v, const char *key, const char *action, long long def,
		     struct error *err)
{
	struct polq q;
	char *val = NULL;
	webui_q(w, &q, action);
	int rc = polctx_value(&w->p, &q, 0, &val, err);
	if (rc < 0)
		return -1;
	long long n = def;
	if (rc == 1) {
		char *end;
		long long x = strtoll(val, &end, 10);
		if (end != val && !*end)
			n = x;
	}
	free(val);
	json_object_set_new(v, key, json_integer(n));
	return 0;
}

/* action_values(unique=False): {value: [policy names]} in match order. */
static int action_dict(struct webui *w, struct polq *q, json_t **out, struct error *err)
{
	struct policy_hits h;
	*out = json_object();
	if (polctx_hits(&w->p, q, &h, err) < 0)
		return -1;
	for (size_t i = 0; i < h.n; i++) {
		const char *val = NULL;
		if (policy_action_get(h.v[i], q->action, &val) != 1 || !val)
			continue;
		char *copy = strdup(val);
		for (char *save = NULL, *tok = copy ? strtok_r(copy, " \t\r\n", &save) : NULL; tok;
		     tok = strtok_r(NULL, " \t\r\n", &save)) {
			json_t *names = json_object_get(*out, tok);
			if (!names) {
				names = json_array();
				json_object_set_new(*out, tok, names);
			}
			json_array_append_new(names, json_string(policy_name(h.v[i])));
		}
		free(copy);
	}
	policy_hits_free(&h);
	return 0;
}

static json_t *qr_image(const char *url)
{
	char *img = otpauth_qr_datauri(url, NULL);
	json_t *j = img ? json_string(img) : json_null();
	crypto_free_str(img);
	return j;
}

/* The Web UI settings privacyIDEA's get_webui_settings adds to /auth. */
static int add_webui_settings(struct webui *w, json_t *v, struct error *err)
{
	struct app *app = w->rq->app;
	int user_role = !w->admin;
	if (webui_int(w, v, "logout_time", "logout_time", app->logout_time, err) < 0 ||
	    webui_int(w, v, "audit_page_size", "audit_page_size", 10, err) < 0 ||
	    webui_int(w, v, "token_page_size", "token_page_size", 15, err) < 0 ||
	    webui_int(w, v, "user_page_size", "user_page_size", 15, err) < 0 ||
	    webui_str(w, v, "default_tokentype", "default_tokentype", "hotp", err) < 0 ||
	    webui_str(w, v, "timeout_action", "timeout_action", "lockscreen", err) < 0 ||
	    webui_str(w, v, "logout_redirect_url", "logout_redirect", "", err) < 0)
		return -1;
	/* policy_template_url: Match.action_only */
	struct polq q = { .scope = "webui", .action = "policy_template_url", .action_only = 1 };
	char *val = NULL;
	int rc = polctx_value(&w->p, &q, POLICY_ALLOW_WHITESPACE, &val, err);
	if (rc < 0)
		return -1;
	json_object_set_new(v, "policy_template_url", json_string(rc == 1 ? val : DEFAULT_TEMPLATE_URL));
	free(val);
	json_object_set_new(v, "default_container_type", json_string("generic"));

	static const struct {
		const char *key, *action;
	} flags[] = {
		{ "user_details", "user_details" }, { "search_on_enter", "search_on_enter" },
		{ "hide_welcome", "hide_welcome_info" }, { "hide_buttons", "hide_buttons" },
		{ "deletion_confirmation", "deletion_confirmation" }, { "show_seed", "show_seed" },
	};
	int on;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (webui_any(w, flags[i].action, &on, err) < 0)
			return -1;
		json_object_set_new(v, flags[i].key, json_boolean(on));
	}
	int wiz2 = 0, dash = 0, wiz = 0, dialog = 0;
	if (user_role && webui_any(w, "tokenwizard_2nd_token", &wiz2, err) < 0)
		return -1;
	if (!user_role && webui_any(w, "admin_dashboard", &dash, err) < 0)
		return -1;
	if (user_role && w->user) {
		/* tokenwizard / dialog_no_token: Match.user, only without tokens */
		struct polq uq = { .scope = "webui", .action = "tokenwizard", .user = w->user };
		int pw = polctx_any(&w->p, &uq, err);
		uq.action = "dialog_no_token";
		int pd = pw < 0 ? -1 : polctx_any(&w->p, &uq, err);
		if (pw < 0 || pd < 0)
			return -1;
		if (pw || pd) {
			struct token_ctx x;
			struct token_list l;
			if (token_api_ctx(w->rq, &x, err) < 0 || token_list_of_user(&x, w->user, &l, err) < 0)
				return -1;
			wiz = pw && l.n == 0;
			dialog = pd && l.n == 0;
			token_list_free(&l);
		}
	}
	json_object_set_new(v, "token_wizard", json_boolean(wiz));
	json_object_set_new(v, "token_wizard_2nd", json_boolean(wiz2));
	json_object_set_new(v, "admin_dashboard", json_boolean(dash));
	json_object_set_new(v, "dialog_no_token", json_boolean(dialog));

	json_t *rollover;
	webui_q(w, &q, "token_rollover");
	if (action_dict(w, &q, &rollover, err) < 0) {
		json_decref(rollover);
		return -1;
	}
	json_object_set_new(v, "token_rollover", rollover);

	/* show_node: Match.generic(realm=realm) */
	struct polq nq = { .scope = "webui", .action = "show_node", .realm = w->who.realm };
	int node = polctx_any(&w->p, &nq, err);
	if (node < 0)
		return -1;
	json_object_set_new(v, "show_node", json_string(node ? app->node : ""));
	json_object_set_new(v, "subscription_status", json_integer(0));
	json_object_set_new(v, "subscription_status_push", json_integer(0));
	int android, ios;
	if (webui_any(w, "show_android_privacyidea_authenticator", &android, err) < 0 ||
	    webui_any(w, "show_ios_privacyidea_authenticator", &ios, err) < 0)
		return -1;
	json_object_set_new(v, "qr_image_android", android ? qr_image(ANDROID_APP_URL) : json_null());
	json_object_set_new(v, "qr_image_ios", ios ? qr_image(IOS_APP_URL) : json_null());
	webui_q(w, &q, "show_custom_authenticator");
	rc = polctx_value(&w->p, &q, POLICY_ALLOW_WHITESPACE, &val, err);
	if (rc < 0)
		return -1;
	json_object_set_new(v, "qr_image_custom", rc == 1 ? qr_image(val) : json_null());
	free(val);

	/* require_description: enrollment scope, the values as a list */
	json_t *req;
	struct polq rqq = { .scope = "enrollment", .action = "require_description", .user = &w->who };
	if (polctx_values(&w->p, &rqq, 0, &req, err) < 0)
		return -1;
	json_object_set_new(v, "require_description", req);
	json_object_set_new(v, "rss_age", json_integer(180));
	json_object_set_new(v, "container_wizard", json_pack("{s:b}", "enabled", 0));

	/* indexedsecret_preset_attribute: Match.realm */
	struct polq iq = { .scope = "webui", .action = "indexedsecret_preset_attribute", .realm = w->who.realm };
	rc = polctx_value(&w->p, &iq, 0, &val, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		json_object_set_new(v, "indexedsecret_preset_attribute", json_string(val));
	free(val);
	if (user_role && w->user) {
		struct polq fq = { .scope = "user", .action = "indexedsecret_force_attribute", .user = w->user };
		json_t *vals;
		if (polctx_values(&w->p, &fq, 0, &vals, err) < 0)
			return -1;
		if (json_array_size(vals))
			json_object_set_new(v, "indexedsecret_force_attribute", json_integer(1));
		json_decref(vals);
	}
	return 0;
}

/* userinfo for the user-scope rights (ui_get_rights checks userinfo
 * conditions of user policies). */
struct rights_env {
	struct webui *w;
	json_t *info;
	int done;
};

static int rights_userinfo(void *ctx, const json_t **info, struct error *err)
{
	struct rights_env *e = ctx;
	*info = NULL;
	if (!e->w->user)
		return 0;
	if (!e->done) {
		e->done = 1;
		if (user_info(e->w->p.snap, e->w->p.c, e->w->user, &e->info, err) < 0)
			return -1;
	}
	*info = e->info;
	return 0;
}

/* ui_get_rights of the login. */
static int login_rights(struct webui *w, const struct login_result *who, json_t **rights, struct error *err)
{
	struct rights_env e = { .w = w };
	struct policy_env env = { .ctx = &e, .userinfo = rights_userinfo };
	struct policy_match m = { .scope = who->admin ? "admin" : "user", .client = w->p.client,
				  .pinode = w->p.pinode };
	if (who->admin) {
		m.adminuser = who->username;
		m.adminrealm = who->realm;
	} else {
		m.user = who->username;
		m.realm = who->realm;
		m.resolver = who->resolver[0] ? who->resolver : NULL;
	}
	int rc = policy_rights(w->p.ps, &m, &env, rights, err);
	json_decref(e.info);
	return rc;
}

/* Issue the JWT and build result.value for an authenticated caller. */
static int login_success(struct request *rq, struct webui *w, const struct login_result *who, json_t **value,
			 struct error *err)
{
	char nonce[41];
	const char *role = who->admin ? "admin" : "user";
	if (crypto_random_hex(nonce, 20) < 0)
		return err_internal(err, "random generator failed");
	/* policy: admin/user rights (ui_get_rights) and their main menus */
	json_t *rights = NULL;
	if (login_rights(w, who, &rights, err) < 0)
		return -1;
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
	json_object_set_new(v, "menus", login_main_menus(role, rights));
	json_object_set_new(v, "realm", json_string(who->realm));
	json_object_set_new(v, "rights", rights);
	json_object_set_new(v, "role", json_string(role));
	json_object_set_new(v, "token", json_string(token));
	json_object_set_new(v, "username", json_string(who->username));
	crypto_free_str(token);
	/* policy: webui.* (get_webui_settings) */
	if (add_webui_settings(w, v, err) < 0) {
		json_decref(v);
		return -1;
	}
	*value = v;
	rq->auth_result = "ACCEPT";
	rq->audit.success = 1;
	snprintf(rq->audit.authentication, sizeof(rq->audit.authentication), "ACCEPT");
	return 0;
}

/* webui.login_mode of a user (Match.user). */
static int policy_login_mode(void *ctx, const struct user *u, enum login_mode *mode, struct error *err)
{
	struct webui *w = ctx;
	struct polq q = { .scope = "webui", .action = "login_mode", .user = u };
	char *v = NULL;
	*mode = LOGIN_USERSTORE;
	int rc = polctx_value(&w->p, &q, 0, &v, err);
	if (rc < 0)
		return -1;
	if (rc == 1 && !strcmp(v, "privacyIDEA"))
		*mode = LOGIN_PRIVACYIDEA;
	else if (rc == 1 && !strcmp(v, "disable"))
		*mode = LOGIN_DISABLE;
	free(v);
	return 0;
}

/* login_mode privacyIDEA: the password is checked as PIN+OTP against the
 * user's tokens (check_user_pass). */
static int policy_login_otp(void *ctx, const struct user *u, const char *password, struct error *err)
{
	struct webui *w = ctx;
	struct token_ctx x;
	struct token_auth_result res = { 0 };
	if (token_api_ctx(w->rq, &x, err) < 0)
		return -1;
	int rc = token_check_user(&x, u, password, NULL, &res, err);
	int ok = rc == 0 && res.success && (!res.authentication || !strcmp(res.authentication, "ACCEPT"));
	token_auth_result_clear(&res);
	return rc < 0 ? -1 : ok;
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

	struct webui w = { .rq = rq };
	if (api_polctx(rq, &w.p, err) < 0)
		return -1;
	struct login_policy lp = { .ctx = &w, .mode = policy_login_mode, .otp = policy_login_otp };
	int ok = login_password(rq->app, s, c, username, realm, password ? password : "", &lp, &who, err);
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
	if (ok == 1) {
		/* webui values: Match.generic(user=login name, realm=login realm or
		 * the default realm), also for local admins */
		const char *dr = who.realm[0] ? who.realm : realm_default(s);
		snprintf(w.who.login, sizeof(w.who.login), "%s", who.username);
		snprintf(w.who.realm, sizeof(w.who.realm), "%s", dr ? dr : "");
		w.admin = who.admin;
		struct user resolved;
		struct error e2 = { 0 };
		if (!who.local_admin &&
		    user_from_params(s, c, who.username, who.realm, who.resolver[0] ? who.resolver : NULL, &resolved,
				     &e2) == 0)
			w.user = &resolved;
		return login_success(rq, &w, &who, value, err);
	}
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", "wrong credentials");
	rq->detail = json_object(); /* privacyIDEA 3.12 answers "detail": {} here */
	return err_set(err, ERRK_AUTH, ERR_AUTH_WRONG, "%s", WRONG_CREDENTIALS);
}

int api_auth_rights(struct request *rq, json_t **value, struct error *err)
{
	/* ui_get_enroll_tokentypes: {type: description} of the types this
	 * role enrolls; with any active policy in the role's scope only those
	 * an enroll<TYPE> policy grants (matched by the admin, or by the
	 * user's name and realm). */
	int user_role = rq->who.role == ROLE_USER;
	json_t *types = token_types_enrollable(user_role);
	if (!types)
		return err_internal(err, "out of memory");
	struct polctx p;
	if (api_polctx_cached(rq, &p, err) < 0) {
		json_decref(types);
		return -1;
	}
	const char *scope = user_role ? "user" : "admin";
	if (polctx_scope_active(&p, scope)) {
		struct user me;
		memset(&me, 0, sizeof(me));
		snprintf(me.login, sizeof(me.login), "%s", rq->who.username);
		snprintf(me.realm, sizeof(me.realm), "%s", rq->who.realm);
		json_t *allowed = json_object();
		const char *k;
		json_t *d;
		json_object_foreach(types, k, d) {
			char action[80];
			int n = snprintf(action, sizeof(action), "enroll");
			for (const char *c = k; *c && n < (int)sizeof(action) - 1; c++)
				action[n++] = (char)toupper((unsigned char)*c);
			action[n] = '\0';
			struct polq q = { .scope = scope, .action = action };
			if (user_role) {
				q.user = &me;
			} else {
				q.action_only = 1;
				q.adminuser = rq->who.username;
				q.adminrealm = rq->who.realm;
			}
			int rc = polctx_any(&p, &q, err);
			if (rc < 0) {
				json_decref(allowed);
				json_decref(types);
				return -1;
			}
			if (rc)
				json_object_set(allowed, k, d);
		}
		json_decref(types);
		types = allowed;
	}
	*value = types;
	return 0;
}
