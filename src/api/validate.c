/*
 * validate.c — the /validate blueprint (privacyIDEA's api/validate.py):
 * check, samlcheck, radiuscheck, triggerchallenge, polltransaction.
 * Parameters, the audit row and the answer's shape; deciding is
 * src/lib/token_auth.c.  No SQL, no envelope building.
 */
#include "api.h"
#include "token_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/sysconfig.h"
#include "../lib/token_impl.h"

/* The request parameters handed to the tokens as "options" (privacyIDEA:
 * every non-empty parameter). */
static json_t *options_of(struct request *rq)
{
	json_t *o = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(rq->params, k, v) {
		if (json_is_string(v) && !*json_string_value(v))
			continue;
		if (json_is_null(v))
			continue;
		json_object_set(o, k, v);
	}
	return o;
}

/* check_user_or_serial_in_request: user or serial, without wildcards. */
static int user_or_serial(struct request *rq, const char **serial, struct error *err)
{
	const char *user = param_str(rq, "user");
	*serial = param_str(rq, "serial");
	if ((!user || !*user) && (!*serial || !**serial))
		return err_param(err, "You need to specify a serial or a user.");
	if (*serial && strchr(*serial, '*'))
		return err_param(err, "Invalid serial number.");
	if (user && strchr(user, '%'))
		return err_param(err, "Invalid user.");
	if (*serial && !**serial)
		*serial = NULL;
	return 0;
}

enum check_kind { CHECK_PLAIN, CHECK_SAML, CHECK_RADIUS };

static void audit_result(struct request *rq, const struct token_auth_result *r, const char *serial)
{
	const char *msg = json_string_value(json_object_get(r->detail, "message"));
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", msg ? msg : "");
	snprintf(rq->audit.serial, sizeof(rq->audit.serial), "%.63s", serial ? serial : r->serial);
	snprintf(rq->audit.token_type, sizeof(rq->audit.token_type), "%.31s", r->type);
	snprintf(rq->audit.authentication, sizeof(rq->audit.authentication), "%s",
		 r->authentication ? r->authentication : "REJECT");
	rq->audit.success = r->success;
}

/* samlcheck's value: {"auth": bool, "attributes": {...}}. */
static json_t *saml_value(struct request *rq, struct token_ctx *x, const struct user *u, int auth)
{
	json_t *attrs = json_object();
	int give = auth ? sysconfig_bool(x->snap, "ReturnSamlAttributes", 1)
			: sysconfig_bool(x->snap, "ReturnSamlAttributes", 1) &&
				  sysconfig_bool(x->snap, "ReturnSamlAttributesOnFail", 0);
	if (give && u && u->uid[0]) {
		json_t *info = NULL;
		struct error ierr = { 0 };
		if (user_info(x->snap, x->c, u, &info, &ierr) == 0 && info) {
			static const char *const keys[] = { "email", "surname", "givenname", "mobile", "phone", NULL };
			json_object_set(attrs, "username", json_object_get(info, "username") ? json_object_get(info, "username")
											   : json_null());
			json_object_set_new(attrs, "realm", json_string(u->realm));
			json_object_set_new(attrs, "resolver", json_string(u->resolver));
			for (size_t i = 0; keys[i]; i++) {
				json_t *v = json_object_get(info, keys[i]);
				json_object_set(attrs, keys[i], v ? v : json_null());
			}
			const char *k;
			json_t *v;
			json_object_foreach(info, k, v)
				if (strcmp(k, "password"))
					json_object_set(attrs, k, v);
			json_decref(info);
		}
	}
	return json_pack("{s:b,s:o}", "auth", auth, "attributes", attrs);
}

static int do_check(struct request *rq, json_t **value, struct error *err, enum check_kind kind)
{
	struct token_ctx x;
	struct user u;
	const char *serial;
	/* policy: authorization.api_key_required, authentication.mangle, authorization.setrealm */
	if (user_or_serial(rq, &serial, err) < 0)
		return -1;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	memset(&u, 0, sizeof(u));
	int has_user = 0;
	const char *login = param_str(rq, "user");
	if (login && *login) {
		/* policy: authentication.passOnNoUser */
		if (user_from_params(x.snap, x.c, login, param_str(rq, "realm"), param_str(rq, "resolver"), &u, err) < 0)
			return -1;
		has_user = 1;
		token_api_audit_user(rq, &u);
	}
	const char *pass = param_str(rq, "pass");
	/* privacyIDEA 3.12 answers a missing pass like a wrong one (observed.md) */
	if (!pass)
		pass = "";
	json_t *options = options_of(rq);
	struct token_auth_result r;
	int rc;
	int by_serial = serial && (kind != CHECK_SAML || !has_user);
	if (by_serial) {
		if (has_user) {
			struct token *t = NULL;
			int lr = token_load(&x, serial, &t, err);
			if (lr < 0) {
				json_decref(options);
				return -1;
			}
			int mine = lr == 0 && token_owned_by(t, &u);
			token_free(t);
			if (!mine) {
				json_decref(options);
				return err_param(err, "Given serial does not belong to given user!");
			}
		}
		rc = token_check_serial(&x, serial, pass, options, param_bool(rq, "otponly", 0), &r, err);
	} else {
		rc = token_check_user(&x, &u, pass, options, &r, err);
	}
	json_decref(options);
	if (rc < 0)
		return -1;
	audit_result(rq, &r, serial);
	/* policy: authorization.no_detail_on_success / no_detail_on_fail,
	 * add_user_in_response, add_resolver_in_response, authentication.preferred_client_mode */
	json_decref(rq->detail);
	rq->detail = r.detail;
	r.detail = NULL;
	if (kind == CHECK_RADIUS) {
		/* 204 on success, 400 otherwise; empty body */
		rq->raw_body = malloc(1);
		if (!rq->raw_body)
			return err_internal(err, "out of memory");
		rq->raw_len = 0;
		rq->raw_type = "text/plain; charset=utf-8";
		rq->raw_status = r.success ? 204 : 400;
		*value = json_null();
	} else if (kind == CHECK_SAML && !by_serial) {
		*value = saml_value(rq, &x, &u, r.success);
	} else {
		*value = json_boolean(r.success);
	}
	token_auth_result_clear(&r);
	return 0;
}

int api_validate_check(struct request *rq, json_t **value, struct error *err)
{
	return do_check(rq, value, err, CHECK_PLAIN);
}

int api_validate_samlcheck(struct request *rq, json_t **value, struct error *err)
{
	return do_check(rq, value, err, CHECK_SAML);
}

int api_validate_radiuscheck(struct request *rq, json_t **value, struct error *err)
{
	return do_check(rq, value, err, CHECK_RADIUS);
}

int api_validate_triggerchallenge(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	const char *serial;
	/* policy: admin.triggerchallenge, authorization.authorized */
	if (user_or_serial(rq, &serial, err) < 0)
		return -1;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	memset(&u, 0, sizeof(u));
	const char *login = param_str(rq, "user");
	int has_user = 0;
	if (login && *login) {
		if (user_from_params(x.snap, x.c, login, param_str(rq, "realm"), param_str(rq, "resolver"), &u, err) < 0)
			return -1;
		has_user = 1;
		token_api_audit_user(rq, &u);
	}
	json_t *options = options_of(rq);
	json_t *detail = NULL;
	int count = 0;
	int rc = token_trigger_challenge(&x, serial, has_user ? &u : NULL, options, &count, &detail, err);
	json_decref(options);
	if (rc < 0)
		return -1;
	const char *s = json_string_value(json_object_get(detail, "serial"));
	const char *t = json_string_value(json_object_get(detail, "type"));
	const char *m = json_string_value(json_object_get(detail, "message"));
	snprintf(rq->audit.serial, sizeof(rq->audit.serial), "%s", serial ? serial : (s ? s : ""));
	snprintf(rq->audit.token_type, sizeof(rq->audit.token_type), "%s", t ? t : "");
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", m ? m : "");
	snprintf(rq->audit.authentication, sizeof(rq->audit.authentication), "%s", count ? "CHALLENGE" : "REJECT");
	json_decref(rq->detail);
	rq->detail = detail;
	*value = json_integer(count);
	rq->audit.success = 1;
	return 0;
}

int api_validate_polltransaction(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	const char *txid;
	if (param_req(rq, "transaction_id", &txid, err) < 0)
		return -1;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	int r = token_poll_transaction(&x, txid, err);
	if (r < 0)
		return -1;
	snprintf(rq->audit.info, sizeof(rq->audit.info), "transaction_id: %s", txid);
	*value = json_boolean(r);
	rq->audit.success = 1;
	return 0;
}
