/*
 * validate.c — the /validate blueprint (privacyIDEA's api/validate.py):
 * check, samlcheck, radiuscheck, triggerchallenge, polltransaction.
 * Parameters, the audit row, the answer's shape and the request-side
 * policies (privacyIDEA's pre- and post-policies of these endpoints, in
 * its order: ../shared/spec/policies_events.md §1.7); deciding, with the
 * policies inside check_user_pass / check_token_list, is
 * src/lib/token_auth.c.  No SQL, no envelope building.
 */
#include "api.h"
#include "token_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lib/app.h"
#include "../lib/jwt.h"
#include "../lib/log.h"
#include "../lib/polaudit.h"
#include "../lib/polctx.h"
#include "../lib/pyre.h"
#include "../lib/realm.h"
#include "../lib/sysconfig.h"
#include "../lib/token_impl.h"
#include "../lib/token_multichallenge.h"

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

/* ---- the request's subject and policy questions ---- */

struct vreq {
	struct request *rq;
	struct token_ctx x;
	struct user u;        /* the authenticating user (maybe unresolved) */
	int has_user;
	const char *serial;   /* the serial parameter or NULL */
	struct token *tok;    /* serial-only requests: the token, for Match.token */
	int tok_tried;
	struct user owner;    /* ... and its owner, resolved once */
	int has_owner;
	int auth_on, authz_on;
};

static void vreq_free(struct vreq *v)
{
	token_free(v->tok);
	v->tok = NULL;
}

/* Match.user with the request's user; for serial-only requests Match.token. */
static void vq(struct vreq *v, struct polq *q, const char *scope, const char *action)
{
	memset(q, 0, sizeof(*q));
	q->scope = scope;
	q->action = action;
	if (v->has_user) {
		q->user = &v->u;
	} else if (v->serial) {
		if (!v->tok_tried) {
			struct error e2 = { 0 };
			v->tok_tried = 1;
			if (token_load(&v->x, v->serial, &v->tok, &e2) != 0) {
				token_free(v->tok);
				v->tok = NULL;
			}
			/* Match.token: the owner when there is one (looked up once here
			 * rather than by every question) */
			struct token *t = v->tok;
			if (t && t->r.resolver && t->r.resolver[0] && t->r.user_id && t->r.user_id[0]) {
				const char *rn = realm_name_by_id(v->x.snap, t->r.owner_realm_id);
				v->has_owner = user_from_uid(v->x.snap, v->x.c, t->r.resolver, t->r.user_id, rn ? rn : "",
							     &v->owner, &e2) == 0;
			}
		}
		if (v->has_owner)
			q->user = &v->owner;
		else
			q->token = v->tok;
	}
}

/* privacyIDEA's get_user_from_param: a user that does not exist stays a
 * User object without resolver (the error comes when its tokens are
 * looked up, after passOnNoUser had its say). */
static int resolve_user(struct vreq *v, const char *login, const char *realm, const char *resolver,
			struct error *err)
{
	struct error e2 = { 0 };
	v->has_user = login && *login;
	if (!v->has_user) {
		memset(&v->u, 0, sizeof(v->u));
		return 0;
	}
	if (user_from_params(v->x.snap, v->x.c, login, realm, resolver, &v->u, &e2) < 0) {
		if (e2.kind != ERRK_PI || e2.code != ERR_USER || !v->u.login[0]) {
			*err = e2;
			return -1;
		}
		v->u.resolver[0] = v->u.uid[0] = '\0';
	}
	return 0;
}

static int set_param(struct request *rq, const char *key, const char *value)
{
	return json_object_set_new(rq->params, key, json_string(value)) == 0 ? 0 : -1;
}

/* authorization.setrealm: the authenticating user moves to the policy's realm. */
static int pre_setrealm(struct vreq *v, struct error *err)
{
	if (!v->authz_on || !v->has_user)
		return 0;
	struct polq q;
	json_t *vals = NULL;
	vq(v, &q, "authorization", "setrealm");
	if (polctx_values(v->x.pol, &q, 0, &vals, err) < 0)
		return -1;
	int rc = 0;
	if (json_array_size(vals) > 1) {
		rc = err_set(err, ERRK_POLICY, ERR_POLICY,
			     "I do not know, to which realm I should set the new realm. Conflicting policies exist.");
	} else if (json_array_size(vals) == 1) {
		char login[sizeof(v->u.login)];
		const char *realm = json_string_value(json_array_get(vals, 0));
		snprintf(login, sizeof(login), "%s", v->u.login);
		if (set_param(v->rq, "realm", realm) < 0)
			rc = err_internal(err, "out of memory");
		else
			rc = resolve_user(v, login, realm, NULL, err);
	}
	json_decref(vals);
	return rc;
}

/* One mangle value "<key>/<search>/<replace>/": 1 applied, 0 not, -1 error. */
static int mangle_one(struct vreq *v, const char *spec, struct error *err)
{
	const char *s1 = strchr(spec, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	const char *s3 = s2 ? strchr(s2 + 1, '/') : NULL;
	if (!s3) {
		log_warning("authentication.mangle: value '%s' is not key/search/replace/ (ignored)", spec);
		return 0;
	}
	char key[128], *search = strndup(s1 + 1, (size_t)(s2 - s1 - 1)), *repl = strndup(s2 + 1, (size_t)(s3 - s2 - 1));
	snprintf(key, sizeof(key), "%.*s", (int)(s1 - spec), spec);
	const char *cur = param_str(v->rq, key);
	int rc = 0;
	char *out = NULL;
	if (!search || !repl) {
		rc = err_internal(err, "out of memory");
	} else if (cur && *cur) {
		if (pyre_sub(search, repl, cur, &out) < 0) {
			log_warning("authentication.mangle: invalid expression in '%s' (ignored)", spec);
		} else if (set_param(v->rq, key, out) < 0) {
			rc = err_internal(err, "out of memory");
		} else {
			rc = 1;
		}
	}
	free(out);
	free(search);
	free(repl);
	return rc;
}

/* authentication.mangle: every value of every matching policy, in policy
 * order, rewrites a request parameter (user, realm, pass ...). */
static int pre_mangle(struct vreq *v, struct error *err)
{
	if (!v->auth_on)
		return 0;
	struct polaudit qa;
	struct policy_hits h;
	struct polq q;
	vq(v, &q, "authentication", "mangle");
	if (polctx_hits(polaudit_quiet(&qa, v->x.pol), &q, &h, err) < 0)
		return -1;
	json_t *done = json_object(); /* value → applied (each value once, as a dict key) */
	int rc = 0, user_changed = 0;
	for (size_t i = 0; i < h.n && rc == 0; i++) {
		const char *val = NULL;
		if (policy_action_get(h.v[i], "mangle", &val) != 1 || !val)
			continue;
		for (const char *p = val; *p && rc == 0;) {
			p += strspn(p, " \t\r\n");
			if (!*p)
				break;
			size_t n;
			const char *start = p;
			if (*p == '\'') {
				start = p + 1;
				n = strcspn(start, "'");
				p = start + n + (start[n] == '\'');
			} else {
				n = strcspn(p, " \t\r\n");
				p += n;
			}
			char *one = strndup(start, n);
			if (!one) {
				rc = err_internal(err, "out of memory");
				break;
			}
			json_t *seen = json_object_get(done, one);
			int applied = seen ? json_is_true(seen) : 0;
			if (!seen) {
				applied = mangle_one(v, one, err);
				if (applied < 0)
					rc = -1;
				json_object_set_new(done, one, json_boolean(applied > 0));
				if (applied > 0 && (!strncmp(one, "user/", 5) || !strncmp(one, "realm/", 6)))
					user_changed = 1;
			}
			if (applied > 0 && v->x.pol && v->x.pol->audit)
				policy_audit_add(v->x.pol->audit, v->x.pol->audit_len, policy_name(h.v[i]));
			free(one);
		}
	}
	policy_hits_free(&h);
	json_decref(done);
	if (rc == 0 && user_changed)
		rc = resolve_user(v, param_str(v->rq, "user"), param_str(v->rq, "realm"), param_str(v->rq, "resolver"),
				  err);
	return rc;
}

/* authorization.api_key_required: the request must carry a JWT of role
 * "validate" (PI-Authorization, else Authorization). */
static int pre_api_key(struct vreq *v, struct error *err)
{
	if (!v->authz_on)
		return 0;
	struct polq q;
	vq(v, &q, "authorization", "api_key_required");
	int any = polctx_any(v->x.pol, &q, err);
	if (any <= 0)
		return any;
	const char *tok = request_header(v->rq, "PI-Authorization");
	if (!tok || !*tok)
		tok = request_header(v->rq, "Authorization");
	json_t *claims = NULL;
	struct error e2 = { 0 };
	if (!tok || !*tok || jwt_decode(tok, v->rq->app->secret_key, (long long)time(NULL), &claims, &e2) < 0)
		return err_set(err, ERRK_POLICY, ERR_POLICY, "No valid API key was passed.");
	json_t *role = json_object_get(claims, "role");
	int ok = json_is_string(role) && !strcmp(json_string_value(role), "validate");
	json_decref(claims);
	if (!ok)
		return err_set(err, ERRK_POLICY, ERR_POLICY, "A correct JWT was passed, but it was no API key.");
	return 0;
}

/* authorization.application_tokentype: the "type" parameter counts only
 * with the policy; NULL otherwise. */
static const char *pre_application_tokentype(struct vreq *v, struct error *err, int *fail)
{
	*fail = 0;
	const char *type = param_str(v->rq, "type");
	if (!type || !*type || !v->authz_on)
		return NULL;
	struct polq q;
	vq(v, &q, "authorization", "application_tokentype");
	int any = polctx_any(v->x.pol, &q, err);
	*fail = any < 0;
	return any == 1 ? type : NULL;
}

/* authentication.increase_failcounter_on_challenge, as an option for the
 * library (privacyIDEA's prepolicy sets the request parameter). */
static int pre_inc_failcounter(struct vreq *v, json_t *options, struct error *err)
{
	json_object_del(options, "increase_failcounter_on_challenge");
	if (!v->auth_on)
		return 0;
	struct polq q;
	vq(v, &q, "authentication", "increase_failcounter_on_challenge");
	int any = polctx_any(v->x.pol, &q, err);
	if (any < 0)
		return -1;
	if (any)
		json_object_set_new(options, "increase_failcounter_on_challenge", json_true());
	return 0;
}

/* The action values of an action_only question (unique=False). */
static int action_only_values(struct vreq *v, const char *action, unsigned flags, json_t **vals, struct error *err)
{
	struct polq q = { .scope = "authorization", .action = action, .action_only = 1 };
	return polctx_values(v->x.pol, &q, flags, vals, err);
}

/* check_serial, check_tokentype, check_tokeninfo on the answer's token. */
static int post_token_checks(struct vreq *v, json_t *detail, struct error *err)
{
	if (!v->authz_on)
		return 0;
	const char *serial = json_string_value(json_object_get(detail, "serial"));
	const char *type = json_string_value(json_object_get(detail, "type"));
	json_t *vals = NULL;
	size_t i;
	json_t *e;
	/* authorization.serial: a regular expression the serial must match */
	if (serial && *serial) {
		if (action_only_values(v, "serial", 0, &vals, err) < 0)
			return -1;
		int match = !json_array_size(vals);
		json_array_foreach(vals, i, e)
			if (pyre_search(json_string_value(e), serial) == 1)
				match = 1;
		json_decref(vals);
		if (!match) {
			snprintf(v->rq->audit.action_detail, sizeof(v->rq->audit.action_detail),
				 "Serial is not allowed for authentication!");
			return err_set(err, ERRK_POLICY, ERR_POLICY, "Serial is not allowed for authentication!");
		}
	}
	/* authorization.tokentype: the allowed types (case-sensitive) */
	if (type && *type) {
		struct polq q;
		vq(v, &q, "authorization", "tokentype");
		if (polctx_values(v->x.pol, &q, 0, &vals, err) < 0)
			return -1;
		int match = !json_array_size(vals);
		json_array_foreach(vals, i, e)
			if (!strcmp(json_string_value(e), type))
				match = 1;
		json_decref(vals);
		if (!match) {
			v->rq->audit.success = 0;
			snprintf(v->rq->audit.action_detail, sizeof(v->rq->audit.action_detail),
				 "Tokentype '%.64s' not allowed for authentication", type);
			return err_set(err, ERRK_POLICY, ERR_POLICY, "Tokentype not allowed for authentication!");
		}
	}
	/* authorization.tokeninfo: "<key>/<regex>/" on the token's tokeninfo */
	if (serial && *serial) {
		if (action_only_values(v, "tokeninfo", POLICY_ALLOW_WHITESPACE, &vals, err) < 0)
			return -1;
		struct token *t = NULL;
		int rc = 0;
		if (json_array_size(vals) && token_load(&v->x, serial, &t, err) < 0) {
			json_decref(vals);
			return -1;
		}
		json_array_foreach(vals, i, e) {
			const char *spec = json_string_value(e);
			const char *s1 = strchr(spec, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
			if (!t || rc)
				break;
			if (!s2 || s2[1] || strchr(s1 + 1, '/') != s2) {
				log_warning("invalid tokeninfo policy: %s", spec);
				continue;
			}
			char key[256], re[512];
			snprintf(key, sizeof(key), "%.*s", (int)(s1 - spec), spec);
			snprintf(re, sizeof(re), "%.*s", (int)(s2 - s1 - 1), s1 + 1);
			if (pyre_search(re, token_info(t, key, "")) != 1)
				rc = err_set(err, ERRK_POLICY, ERR_POLICY,
					     "Tokeninfo field %s with contents does not match regular expression.", key);
		}
		token_free(t);
		json_decref(vals);
		if (rc)
			return -1;
	}
	return 0;
}

/* Python's bool() of result.value. */
static int truthy(const json_t *v)
{
	return json_is_true(v) || (json_is_integer(v) && json_integer_value(v)) ||
	       (json_is_object(v) && json_object_size(v));
}

/* add_user_in_response, add_resolver_in_response, no_detail_on_success,
 * no_detail_on_fail. */
static int post_detail(struct vreq *v, json_t **detail, const json_t *value, struct error *err)
{
	if (!v->authz_on)
		return 0;
	struct polaudit qa;
	struct policy_hits h;
	struct polq q;
	int user = v->has_user && (v->u.login[0] || v->u.realm[0]);
	if (truthy(value) && user) {
		vq(v, &q, "authorization", "add_user_in_response");
		if (polctx_hits(polaudit_quiet(&qa, v->x.pol), &q, &h, err) < 0)
			return -1;
		int any = h.n > 0;
		policy_hits_free(&h);
		if (any) {
			json_t *info = NULL;
			if (v->u.uid[0] && user_info(v->x.snap, v->x.c, &v->u, &info, err) < 0)
				return -1;
			if (!info)
				info = json_object();
			json_object_set_new(info, "password", json_string(""));
			if (!*detail)
				*detail = json_object();
			json_object_set_new(*detail, "user", info);
			polaudit_commit(&qa, v->x.pol);
		}
		vq(v, &q, "authorization", "add_resolver_in_response");
		if (polctx_hits(polaudit_quiet(&qa, v->x.pol), &q, &h, err) < 0)
			return -1;
		any = h.n > 0;
		policy_hits_free(&h);
		if (any) {
			if (!*detail)
				*detail = json_object();
			json_object_set_new(*detail, "user-resolver", json_string(v->u.resolver));
			json_object_set_new(*detail, "user-realm", json_string(v->u.realm));
			polaudit_commit(&qa, v->x.pol);
		}
	}
	static const char *const strip[2] = { "no_detail_on_success", "no_detail_on_fail" };
	for (int k = 0; k < 2; k++) {
		if (k == 0 ? !truthy(value) : !json_is_false(value))
			continue;
		struct polq qo = { .scope = "authorization", .action = strip[k], .action_only = 1 };
		if (polctx_hits(polaudit_quiet(&qa, v->x.pol), &qo, &h, err) < 0)
			return -1;
		int any = h.n > 0;
		policy_hits_free(&h);
		if (any) {
			json_decref(*detail);
			*detail = NULL;
			polaudit_commit(&qa, v->x.pol);
		}
	}
	return 0;
}

/* authentication.challenge_text_header / _footer (mangle_challenge_response). */
static int post_challenge_text(struct vreq *v, json_t *detail, struct error *err)
{
	json_t *mc = detail ? json_object_get(detail, "multi_challenge") : NULL;
	if (!v->auth_on || !json_array_size(mc))
		return 0;
	struct polq q;
	char *header = NULL, *footer = NULL;
	vq(v, &q, "authentication", "challenge_text_header");
	int rc = polctx_value(v->x.pol, &q, POLICY_ALLOW_WHITESPACE, &header, err);
	if (rc < 0)
		return -1;
	vq(v, &q, "authentication", "challenge_text_footer");
	if (polctx_value(v->x.pol, &q, POLICY_ALLOW_WHITESPACE, &footer, err) < 0) {
		free(header);
		return -1;
	}
	if (header) {
		/* sorted(set(messages)) */
		json_t *set = json_object(), *msgs = json_object_get(detail, "messages");
		size_t i;
		json_t *m;
		json_array_foreach(msgs, i, m)
			if (json_is_string(m))
				json_object_set_new(set, json_string_value(m), json_true());
		size_t n = json_object_size(set), k = 0, len = strlen(header) + (footer ? strlen(footer) : 0) + 8;
		const char **sorted = calloc(n ? n : 1, sizeof(*sorted));
		const char *key;
		json_t *unused;
		json_object_foreach(set, key, unused) {
			sorted[k++] = key;
			len += strlen(key) + 16;
		}
		for (size_t a = 1; a < n; a++) /* insertion sort by code point (UTF-8 byte order) */
			for (size_t b = a; b > 0 && strcmp(sorted[b - 1], sorted[b]) > 0; b--) {
				const char *t = sorted[b];
				sorted[b] = sorted[b - 1];
				sorted[b - 1] = t;
			}
		char *msg = malloc(len);
		if (sorted && msg) {
			size_t hl = strlen(header);
			const char *tail = hl >= 4 ? header + hl - 4 : "";
			int list = !strcasecmp(tail, "<ol>") || !strcasecmp(tail, "<ul>");
			strcpy(msg, header);
			if (list) {
				for (k = 0; k < n; k++) {
					strcat(msg, "<li>");
					strcat(msg, sorted[k]);
					strcat(msg, "</li>\n");
				}
			} else {
				strcat(msg, "\n");
				for (k = 0; k < n; k++) {
					if (k)
						strcat(msg, ", ");
					strcat(msg, sorted[k]);
				}
				strcat(msg, "\n");
			}
			if (footer)
				strcat(msg, footer);
			json_object_set_new(detail, "message", json_string(msg));
		} else {
			rc = err_internal(err, "out of memory");
		}
		free(msg);
		free(sorted);
		json_decref(set);
	}
	free(header);
	free(footer);
	return rc < 0 ? -1 : 0;
}

/* authorization.authorized = deny_access: the answer becomes an error. */
static int post_authorized(struct vreq *v, struct error *err)
{
	if (!v->authz_on)
		return 0;
	struct polq q;
	char *val = NULL;
	vq(v, &q, "authorization", "authorized");
	int rc = polctx_value(v->x.pol, &q, POLICY_ALLOW_WHITESPACE, &val, err);
	if (rc < 0)
		return -1;
	int deny = rc == 1 && !strcmp(val, "deny_access");
	free(val);
	if (deny)
		return err_set(err, ERRK_PI, ERR_VALIDATE, "User is not authorized to authenticate under these conditions.");
	return 0;
}

/* multichallenge_enroll_via_validate, then preferred_client_mode
 * (token_multichallenge.c): an accepted user without a token of the
 * enroll_via_multichallenge type gets one and the answer becomes its
 * challenge (value false). */
static int post_multichallenge(struct vreq *v, const struct token_auth_result *r, json_t **detail, json_t **value,
			       struct error *err)
{
	struct polq q;
	vq(v, &q, "authentication", "enroll_via_multichallenge");
	int enrolled = 0;
	if (r->success && v->has_user &&
	    tmc_enroll_via_multichallenge(&v->x, &v->u, &q, detail, &enrolled, err) < 0)
		return -1;
	if (enrolled) {
		json_decref(*value);
		*value = json_false();
	}
	vq(v, &q, "authentication", "preferred_client_mode");
	return tmc_preferred_client_mode(&v->x, &q, *detail, err);
}

/* The common start of check and triggerchallenge: context, user and the
 * pre-policies up to (not including) api_key_required. */
static int vreq_start(struct request *rq, struct vreq *v, struct error *err)
{
	memset(v, 0, sizeof(*v));
	v->rq = rq;
	if (user_or_serial(rq, &v->serial, err) < 0)
		return -1;
	if (token_api_ctx(rq, &v->x, err) < 0)
		return -1;
	v->auth_on = polctx_scope_active(v->x.pol, "authentication") > 0;
	v->authz_on = polctx_scope_active(v->x.pol, "authorization") > 0;
	return resolve_user(v, param_str(rq, "user"), param_str(rq, "realm"), param_str(rq, "resolver"), err);
}

static int do_check(struct request *rq, json_t **value, struct error *err, enum check_kind kind)
{
	struct vreq v;
	int rc = -1, fail = 0;
	json_t *options = NULL, *detail = NULL;
	struct token_auth_result r;
	memset(&r, 0, sizeof(r));
	if (vreq_start(rq, &v, err) < 0)
		goto out;
	/* pre-policies, privacyIDEA's order */
	const char *token_type = pre_application_tokentype(&v, err, &fail);
	if (fail)
		goto out;
	char type_buf[64];
	snprintf(type_buf, sizeof(type_buf), "%s", token_type ? token_type : "");
	if (pre_setrealm(&v, err) < 0 || pre_mangle(&v, err) < 0)
		goto out;
	options = options_of(rq);
	if (!options) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (pre_inc_failcounter(&v, options, err) < 0)
		goto out;
	if (user_or_serial(rq, &v.serial, err) < 0 || pre_api_key(&v, err) < 0)
		goto out;
	json_object_del(options, "type");
	if (type_buf[0])
		json_object_set_new(options, "token_type", json_string(type_buf));
	if (v.has_user)
		token_api_audit_user(rq, &v.u);
	const char *pass = param_str(rq, "pass");
	/* privacyIDEA 3.12 answers a missing pass like a wrong one (observed.md) */
	if (!pass)
		pass = "";
	const char *serial = v.serial;
	int by_serial = serial && (kind != CHECK_SAML || !v.has_user);
	if (by_serial) {
		if (v.has_user) {
			if (!v.u.uid[0]) {
				err_set(err, ERRK_PI, ERR_USER, "The user can not be found in any resolver in this realm!");
				goto out;
			}
			struct token *t = NULL;
			int lr = token_load(&v.x, serial, &t, err);
			if (lr < 0)
				goto out;
			int mine = lr == 0 && token_owned_by(t, &v.u);
			token_free(t);
			if (!mine) {
				err_param(err, "Given serial does not belong to given user!");
				goto out;
			}
		}
		if (token_check_serial(&v.x, serial, pass, options, param_bool(rq, "otponly", 0), &r, err) < 0)
			goto out;
	} else if (token_check_user(&v.x, &v.u, pass, options, &r, err) < 0) {
		goto out;
	}
	audit_result(rq, &r, serial);
	if (kind == CHECK_SAML && !by_serial)
		*value = saml_value(rq, &v.x, &v.u, r.success);
	else
		*value = json_boolean(r.success);
	/* post-policies, innermost first */
	detail = r.detail;
	r.detail = NULL;
	if (post_token_checks(&v, detail, err) < 0 || post_detail(&v, &detail, *value, err) < 0 ||
	    post_multichallenge(&v, &r, &detail, value, err) < 0)
		goto fail_value;
	if (kind == CHECK_RADIUS) {
		/* 204 on success, 400 otherwise; empty body.  privacyIDEA's later
		 * post-policies see no JSON and keep out, so authorized=deny_access
		 * would not deny: it does here (docs/compatibility.md). */
		if (post_authorized(&v, err) < 0)
			goto fail_value;
		rq->raw_body = malloc(1);
		if (!rq->raw_body) {
			err_internal(err, "out of memory");
			goto fail_value;
		}
		rq->raw_len = 0;
		rq->raw_type = "text/plain; charset=utf-8";
		rq->raw_status = r.success ? 204 : 400;
		json_decref(*value);
		*value = json_null();
	} else if (post_challenge_text(&v, detail, err) < 0 || post_authorized(&v, err) < 0) {
		goto fail_value;
	}
	json_decref(rq->detail);
	rq->detail = detail;
	detail = NULL;
	rc = 0;
	goto out;
fail_value:
	json_decref(*value);
	*value = NULL;
out:
	json_decref(detail);
	json_decref(options);
	token_auth_result_clear(&r);
	vreq_free(&v);
	return rc;
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
	struct vreq v;
	json_t *options = NULL, *detail = NULL;
	int rc = -1, fail = 0;
	/* admin.triggerchallenge is the route's right (guard.c) */
	if (vreq_start(rq, &v, err) < 0)
		goto out;
	const char *token_type = pre_application_tokentype(&v, err, &fail);
	if (fail)
		goto out;
	options = options_of(rq);
	if (!options) {
		err_internal(err, "out of memory");
		goto out;
	}
	json_object_del(options, "type");
	if (token_type)
		json_object_set_new(options, "token_type", json_string(token_type));
	if (pre_inc_failcounter(&v, options, err) < 0)
		goto out;
	if (v.has_user) {
		if (!v.u.uid[0]) {
			err_set(err, ERRK_PI, ERR_USER, "The user can not be found in any resolver in this realm!");
			goto out;
		}
		token_api_audit_user(rq, &v.u);
	}
	int count = 0;
	if (token_trigger_challenge(&v.x, v.serial, v.has_user ? &v.u : NULL, options, &count, &detail, err) < 0)
		goto out;
	const char *s = json_string_value(json_object_get(detail, "serial"));
	const char *t = json_string_value(json_object_get(detail, "type"));
	const char *m = json_string_value(json_object_get(detail, "message"));
	snprintf(rq->audit.serial, sizeof(rq->audit.serial), "%s", v.serial ? v.serial : (s ? s : ""));
	snprintf(rq->audit.token_type, sizeof(rq->audit.token_type), "%s", t ? t : "");
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", m ? m : "");
	snprintf(rq->audit.authentication, sizeof(rq->audit.authentication), "%s", count ? "CHALLENGE" : "REJECT");
	/* post-policies: preferred_client_mode, challenge_text_header/footer, authorized */
	struct polq pq;
	vq(&v, &pq, "authentication", "preferred_client_mode");
	if (tmc_preferred_client_mode(&v.x, &pq, detail, err) < 0 || post_challenge_text(&v, detail, err) < 0 ||
	    post_authorized(&v, err) < 0)
		goto out;
	json_decref(rq->detail);
	rq->detail = detail;
	detail = NULL;
	*value = json_integer(count);
	rq->audit.success = 1;
	rc = 0;
out:
	json_decref(detail);
	json_decref(options);
	vreq_free(&v);
	return rc;
}

int api_validate_polltransaction(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	const char *txid;
	if (param_req(rq, "transaction_id", &txid, err) < 0)
		return -1;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	/* authorization.api_key_required (no user: the policies' user filters
	 * do not apply) */
	struct vreq v = { .rq = rq, .x = x };
	v.authz_on = polctx_scope_active(x.pol, "authorization") > 0;
	if (pre_api_key(&v, err) < 0)
		return -1;
	int r = token_poll_transaction(&x, txid, err);
	if (r < 0)
		return -1;
	snprintf(rq->audit.info, sizeof(rq->audit.info), "transaction_id: %s", txid);
	*value = json_boolean(r);
	rq->audit.success = 1;
	return 0;
}
