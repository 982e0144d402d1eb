/*
 * token.c — the /token blueprint (privacyIDEA's api/token.py): parameters,
 * the caller's rights, the audit fields; the work is src/lib/token*.c.
 * Admins act on any token; a user JWT acts on the caller's own tokens
 * only (token_api_user forces the user).  No SQL, no envelope building.
 */
#include "api.h"
#include "token_api.h"
#include "guard.h"
#include "token_prepolicy.h"
#include "token_oath_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/crypto.h"
#include "../lib/importotp.h"
#include "../lib/realm.h"
#include "../lib/snapshot.h"

/* ---- shared helpers (token_api.h) ---- */

int token_api_ctx(struct request *rq, struct token_ctx *x, struct error *err)
{
	memset(x, 0, sizeof(*x));
	x->app = rq->app;
	x->c = request_db(rq, err);
	if (!x->c)
		return -1;
	x->snap = request_snapshot(rq, err);
	if (!x->snap)
		return -1;
	x->pol = api_request_polctx(rq, err);
	return x->pol ? 0 : -1;
}

int token_api_user(struct request *rq, struct token_ctx *x, struct user *u, struct error *err)
{
	memset(u, 0, sizeof(*u));
	if (rq->who.role == ROLE_USER)
		return user_from_params(x->snap, x->c, rq->who.username, rq->who.realm,
					rq->who.resolver[0] ? rq->who.resolver : NULL, u, err);
	const char *login = param_str(rq, "user");
	const char *realm = param_str(rq, "realm");
	const char *resolver = param_str(rq, "resolver");
	if ((!login || !*login) && (!realm || !*realm))
		return 1;
	return user_from_params(x->snap, x->c, login, realm, resolver, u, err);
}

void token_api_audit_user(struct request *rq, const struct user *u)
{
	snprintf(rq->audit.user, sizeof(rq->audit.user), "%s", u->login);
	snprintf(rq->audit.realm, sizeof(rq->audit.realm), "%s", u->realm);
	snprintf(rq->audit.resolver, sizeof(rq->audit.resolver), "%s", u->resolver);
}

static void audit_serial(struct request *rq, const char *serial)
{
	snprintf(rq->audit.serial, sizeof(rq->audit.serial), "%s", serial ? serial : "");
}

/* ctx + optional user; *has_user = 1 when a user was given. */
static int prepare(struct request *rq, struct token_ctx *x, struct user *u, int *has_user, struct error *err)
{
	if (token_api_ctx(rq, x, err) < 0)
		return -1;
	int rc = token_api_user(rq, x, u, err);
	if (rc < 0)
		return -1;
	*has_user = rc == 0;
	if (*has_user)
		token_api_audit_user(rq, u);
	return 0;
}

static int serial_ok(const char *serial, struct error *err)
{
	if (serial && *serial && !token_serial_valid(serial))
		return err_param(err, "Invalid serial number.");
	return 0;
}

/* prepare() for the endpoints of one token: the required, valid `serial`
 * (in the audit row before it is checked, as privacyIDEA). */
static int prepare_serial(struct request *rq, struct token_ctx *x, struct user *u, int *has_user,
			  const char **serial, struct error *err)
{
	if (prepare(rq, x, u, has_user, err) < 0 || param_req(rq, "serial", serial, err) < 0)
		return -1;
	audit_serial(rq, *serial);
	return serial_ok(*serial, err);
}

static int done_int(struct request *rq, json_t **value, int n)
{
	*value = json_integer(n);
	rq->audit.success = 1;
	return 0;
}

static int done_bool(struct request *rq, json_t **value, int b)
{
	*value = json_boolean(b);
	rq->audit.success = 1;
	return 0;
}

/* ---- POST /token/init ---- */

int api_token_init(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	if (prepare(rq, &x, &u, &has_user, err) < 0)
		return -1;
	/* policy: admin/user.enroll<TYPE>, admin/user.enrollpin,
	 * enrollment.verify_enrollment, <type>_2step … (none: allowed) */
	json_t *params = json_deep_copy(rq->params);
	if (!params)
		return err_internal(err, "out of memory");
	if (rq->who.role == ROLE_USER) {
		json_object_set_new(params, "user", json_string(u.login));
		json_object_set_new(params, "realm", json_string(u.realm));
	}
	/* policy: enrollment.max_token_per_realm, max_token_per_user & co,
	 * tokenlabel, tokenissuer, appimageurl, <type>_force_app_pin,
	 * admin/user.enrollpin, enrollment.otp_pin_random, encrypt_pin,
	 * admin/user otp_pin_*, <type>_hashlib/_otplen/_timestep
	 * (token_prepolicy.c) */
	struct tpp_limit lim;
	if (tpp_init(rq, &x, has_user ? &u : NULL, params, &lim, err) < 0) {
		json_decref(params);
		return -1;
	}
	/* policy: admin/user.<type>_2step, enrollment.<type>_2step_*,
	 * user.<type>_force_server_generate (token_oath_policy.c);
	 * enrollment.verify_enrollment is decided by token_init */
	if (tpp_oath_init(rq, &x, has_user ? &u : NULL, params, err) < 0) {
		json_decref(params);
		return -1;
	}
	json_t *detail = NULL;
	struct token *t = NULL;
	const char *pv = json_string_value(json_object_get(params, "pin"));
	const char *ov = json_string_value(json_object_get(params, "otppin"));
	int pin_given = (pv && *pv) || (ov && *ov);
	int rc = token_init(&x, params, has_user ? &u : NULL, rq->who.role == ROLE_USER, &detail, &t, err);
	json_decref(params);
	if (rc < 0)
		return -1;
	/* policy: enrollment.change_pin_on_first_use / change_pin_every (save_pin_change) */
	if (tpp_pin_change(rq, &x, t->r.serial, pin_given, err) < 0) {
		token_free(t);
		json_decref(detail);
		return -1;
	}
	audit_serial(rq, t->r.serial);
	snprintf(rq->audit.token_type, sizeof(rq->audit.token_type), "%s", t->r.tokentype);
	token_free(t);
	json_decref(rq->detail);
	rq->detail = detail;
	return done_bool(rq, value, 1);
}

/* ---- GET /token/ ---- */

static int query_int(struct request *rq, const char *name, long long def, long long *out, struct error *err)
{
	return param_int(rq, name, def, out, err);
}

/* privacyIDEA's list_api compares assigned/active with value.lower() == "true". */
static int tri_bool(struct request *rq, const char *name)
{
	const char *v = param_str(rq, name);
	if (!v || !*v)
		return -1;
	return !strcasecmp(v, "true");
}

static char *csv_value(json_t *v)
{
	if (json_is_string(v)) {
		char *s = strdup(json_string_value(v));
		for (char *p = s; p && *p; p++)
			if (*p == '\n')
				*p = ' ';
		return s;
	}
	if (json_is_true(v))
		return strdup("True");
	if (json_is_false(v))
		return strdup("False");
	if (json_is_null(v))
		return strdup("None");
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* outform=csv: privacyIDEA's send_csv_result. */
static int list_csv(struct request *rq, json_t *page, struct error *err)
{
	json_t *tokens = json_object_get(page, "tokens");
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	if (!out)
		return err_internal(err, "out of memory");
	out[0] = '\0';
#define APPEND(str)                                                                     \
	do {                                                                            \
		const char *s_ = (str);                                                 \
		size_t l_ = strlen(s_);                                                 \
		if (len + l_ + 1 > cap) {                                               \
			while (len + l_ + 1 > cap)                                      \
				cap *= 2;                                               \
			char *n_ = realloc(out, cap);                                   \
			if (!n_) {                                                      \
				free(out);                                              \
				return err_internal(err, "out of memory");              \
			}                                                               \
			out = n_;                                                       \
		}                                                                       \
		memcpy(out + len, s_, l_ + 1);                                          \
		len += l_;                                                              \
	} while (0)
	if (json_array_size(tokens)) {
		const char *k;
		json_t *v;
		json_object_foreach(json_array_get(tokens, 0), k, v) {
			APPEND("'");
			APPEND(k);
			APPEND("', ");
		}
		APPEND("\n");
		size_t i;
		json_t *row;
		json_array_foreach(tokens, i, row) {
			json_object_foreach(row, k, v) {
				char *s = csv_value(v);
				APPEND("'");
				APPEND(s ? s : "");
				APPEND("', ");
				free(s);
			}
			APPEND("\n");
		}
	}
#undef APPEND
	rq->raw_body = out;
	rq->raw_len = len;
	rq->raw_type = "application/force-download";
	return 0;
}

/* policy: admin/user.hide_tokeninfo — the blank-separated tokeninfo keys of
 * all matching policies of the caller's role (privacyIDEA's
 * Match.admin_or_user(...).action_values(unique=False): the values of
 * several policies are merged) are removed from each listed token's info.
 * The admin question matches adminuser/adminrealm and the user/realm
 * parameter (action only without one); the user question the caller.  A
 * hidden_tokeninfo request parameter is ignored: privacyIDEA overwrites it
 * with the policy's list. */
static int hide_tokeninfo(struct request *rq, struct token_ctx *x, const struct user *u, json_t *page,
			  struct error *err)
{
	struct polq q;
	memset(&q, 0, sizeof(q));
	q.action = "hide_tokeninfo";
	if (rq->who.role == ROLE_ADMIN) {
		q.scope = "admin";
		q.adminuser = rq->who.username;
		q.adminrealm = rq->who.realm;
		if (u && u->login[0])
			q.user = u;
		else if (u && u->realm[0])
			q.realm = u->realm;
		else
			q.action_only = 1;
	} else {
		q.scope = "user";
		q.user = u;
	}
	json_t *keys = NULL;
	if (polctx_values(x->pol, &q, 0, &keys, err) < 0)
		return -1;
	size_t i, j;
	json_t *tok, *key;
	json_array_foreach(json_object_get(page, "tokens"), i, tok) {
		json_t *info = json_object_get(tok, "info");
		if (!json_is_object(info))
			continue;
		json_array_foreach(keys, j, key) {
			if (json_is_string(key))
				json_object_del(info, json_string_value(key));
		}
	}
	json_decref(keys);
	return 0;
}

int api_token_list(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	if (prepare(rq, &x, &u, &has_user, err) < 0)
		return -1;
	struct token_list_query q;
	store_token_filter_init(&q.f);
	long long page, psize;
	if (query_int(rq, "page", 1, &page, err) < 0 || query_int(rq, "pagesize", 15, &psize, err) < 0)
		return -1;
	if (page < 1)
		page = 1;
	if (psize < 1 || psize > 100000)
		return err_param(err, "Parameter 'pagesize' must be between 1 and 100000.");
	q.page = page;
	q.pagesize = psize;
	q.sortby = param_str(rq, "sortby");
	if (!q.sortby)
		q.sortby = "serial";
	if (!store_token_sort_column(q.sortby))
		return err_param(err, "Unknown sortby column '%s'.", q.sortby);
	const char *sortdir = param_str(rq, "sortdir");
	q.desc = sortdir && !strcmp(sortdir, "desc");
	q.f.serial = param_str(rq, "serial");
	q.f.tokentype = param_str(rq, "type");
	q.f.description = param_str(rq, "description");
	q.f.rollout_state = param_str(rq, "rollout_state");
	q.f.assigned = tri_bool(rq, "assigned");
	q.f.active = tri_bool(rq, "active");
	q.f.user_id = param_str(rq, "userid");
	q.f.resolver = param_str(rq, "resolver");
	const char *ik = param_str(rq, "infokey"), *iv = param_str(rq, "infovalue");
	if (ik && iv) {
		q.f.info_key = ik;
		q.f.info_value = iv;
	}
	const char *trealm = param_str(rq, "tokenrealm");
	/* policy: admin.tokenlist restricts the visible realms (hide_tokeninfo: below) */
	if (rq->who.role == ROLE_ADMIN && api_realm_limit(rq, "tokenlist", &q.f.allowed, err) < 0)
		return -1;
	if (trealm && *trealm) {
		long long id = realm_id(x.snap, trealm);
		q.f.tokenrealm_id = id > 0 ? id : 0;
	}
	char info[300];
	snprintf(info, sizeof(info), "realm: ['%s']", trealm && *trealm ? trealm : "*");
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", info);
	if (has_user) {
		if (!u.uid[0] || !u.resolver[0]) {
			q.f.user_id = "\x01no such user";
		} else {
			q.f.user_id = u.uid;
			q.f.resolver = u.resolver;
			long long rid = u.realm[0] ? realm_id(x.snap, u.realm) : -1;
			q.f.owner_realm_id = rid > 0 ? rid : -1;
		}
	}
	json_t *out = NULL;
	if (token_list_page(&x, &q, &out, err) < 0)
		return -1;
	if (hide_tokeninfo(rq, &x, has_user ? &u : NULL, out, err) < 0) {
		json_decref(out);
		return -1;
	}
	rq->audit.success = 1;
	const char *outform = param_str(rq, "outform");
	if (outform && !strcmp(outform, "csv")) {
		int rc = list_csv(rq, out, err);
		json_decref(out);
		return rc;
	}
	*value = out;
	return 0;
}

/* ---- GET /token/challenges/ ---- */

int api_token_challenges(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	long long page, psize;
	if (param_int(rq, "page", 1, &page, err) < 0 || param_int(rq, "pagesize", 15, &psize, err) < 0)
		return -1;
	if (page < 1)
		page = 1;
	if (psize < 1 || psize > 100000)
		return err_param(err, "Parameter 'pagesize' must be between 1 and 100000.");
	const char *sortby = param_str(rq, "sortby");
	if (sortby && !store_challenge_sort_column(sortby))
		return err_param(err, "Unknown sortby column '%s'.", sortby);
	const char *sortdir = param_str(rq, "sortdir");
	/* 3.8 filters by the path's serial only */
	const char *serial = json_string_value(json_object_get(rq->params, "serial"));
	const char *path_serial = strncmp(rq->path, "/token/challenges/", 18) == 0 && rq->path[18] ? serial : NULL;
	audit_serial(rq, path_serial);
	/* policy: admin.getchallenges (the guard); a realm-restricted admin sees
	 * the challenges of the tokens in his realms only */
	struct store_realm_limit lim;
	if (api_realm_limit(rq, "getchallenges", &lim, err) < 0)
		return -1;
	if (token_challenges_page(&x, path_serial, param_str(rq, "transaction_id"), &lim, sortby,
				  sortdir && !strcmp(sortdir, "desc"), page, psize, value, err) < 0)
		return -1;
	rq->audit.success = 1;
	return 0;
}

/* ---- serial-or-user operations ---- */

typedef int (*count_op)(struct token_ctx *x, const char *serial, const struct user *u, int *count,
			struct error *err);

/* The operation on the `serial` token or on all tokens of the user, with
 * the context the caller prepared (x, u, has_user). */
static int serial_or_user_on(struct request *rq, struct token_ctx *x, const struct user *u, int has_user,
			     json_t **value, struct error *err, count_op op)
{
	const char *serial = param_str(rq, "serial");
	if (serial_ok(serial, err) < 0)
		return -1;
	audit_serial(rq, serial);
	if ((!serial || !*serial) && !has_user)
		return err_param(err, "You either need to provide user or serial");
	int n = 0;
	if (op(x, serial, has_user ? u : NULL, &n, err) < 0)
		return -1;
	return done_int(rq, value, n);
}

static int serial_or_user(struct request *rq, json_t **value, struct error *err, count_op op)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	if (prepare(rq, &x, &u, &has_user, err) < 0)
		return -1;
	return serial_or_user_on(rq, &x, &u, has_user, value, err, op);
}

int api_token_unassign(struct request *rq, json_t **value, struct error *err)
{
	return serial_or_user(rq, value, err, token_unassign);
}

/* POST /token/revoke.  Beyond privacyIDEA: an optional `reason` (a CRL
 * reason as `openssl ca -crl_reason` takes it, case-insensitive) that a
 * certificate token's CA records in index.txt and the CRL; other types
 * ignore it. */
int api_token_revoke(struct request *rq, json_t **value, struct error *err)
{
	static const char *const reasons[] = { "unspecified",	      "keyCompromise", "CACompromise",
					       "affiliationChanged",  "superseded",    "cessationOfOperation",
					       "certificateHold",     NULL };
	const char *reason = param_str(rq, "reason");
	const char *canon = NULL;
	if (reason && *reason) {
		for (size_t i = 0; reasons[i] && !canon; i++)
			if (!strcasecmp(reason, reasons[i]))
				canon = reasons[i];
		if (!canon)
			return err_param(err,
					 "Parameter 'reason' must be one of unspecified, keyCompromise, CACompromise, "
					 "affiliationChanged, superseded, cessationOfOperation, certificateHold.");
	}
	struct token_ctx x;
	struct user u;
	int has_user;
	if (prepare(rq, &x, &u, &has_user, err) < 0)
		return -1;
	x.revoke_reason = canon;
	return serial_or_user_on(rq, &x, &u, has_user, value, err, token_revoke);
}

static int enable_op(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err)
{
	return token_enable(x, serial, u, 1, count, err);
}

static int disable_op(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err)
{
	return token_enable(x, serial, u, 0, count, err);
}

int api_token_enable(struct request *rq, json_t **value, struct error *err)
{
	/* policy: enrollment.max_active_token_per_user, <type>_max_active_token_per_user
	 * (privacyIDEA's check_max_token_user) */
	struct token_ctx x;
	struct user u;
	struct tpp_limit lim;
	int has_user;
	if (prepare(rq, &x, &u, &has_user, err) < 0 ||
	    tpp_enable(rq, &x, has_user ? &u : NULL, param_str(rq, "serial"), &lim, err) < 0)
		return -1;
	/* on this x: token_enable counts again (x.limit_check) */
	return serial_or_user_on(rq, &x, &u, has_user, value, err, enable_op);
}

int api_token_disable(struct request *rq, json_t **value, struct error *err)
{
	return serial_or_user(rq, value, err, disable_op);
}

int api_token_reset(struct request *rq, json_t **value, struct error *err)
{
	return serial_or_user(rq, value, err, token_reset);
}

int api_token_delete(struct request *rq, json_t **value, struct error *err)
{
	return serial_or_user(rq, value, err, token_remove);
}

/* ---- POST /token/assign ---- */

int api_token_assign(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	if (prepare(rq, &x, &u, &has_user, err) < 0)
		return -1;
	if (!has_user)
		return err_missing_param(err, "user");
	const char *serial;
	if (param_req(rq, "serial", &serial, err) < 0)
		return -1;
	if (!*serial)
		return err_param(err, "Parameter 'serial' must not be empty");
	if (serial_ok(serial, err) < 0)
		return -1;
	audit_serial(rq, serial);
	const char *pin = param_str(rq, "pin");
	/* policy: enrollment.max_token_per_realm, max_token_per_user & co,
	 * encrypt_pin, admin/user otp_pin_* (token_prepolicy.c) */
	int enc = 0;
	struct tpp_limit lim;
	if (tpp_assign(rq, &x, &u, serial, pin, &enc, &lim, err) < 0)
		return -1;
	if (token_assign(&x, serial, &u, pin, enc, rq->who.role == ROLE_USER, err) < 0)
		return -1;
	return done_bool(rq, value, 1);
}

/* ---- POST /token/resync ---- */

int api_token_resync(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	const char *serial, *otp1, *otp2;
	if (prepare_serial(rq, &x, &u, &has_user, &serial, err) < 0 || param_req(rq, "otp1", &otp1, err) < 0 ||
	    param_req(rq, "otp2", &otp2, err) < 0)
		return -1;
	int ok = 0;
	if (token_resync(&x, serial, has_user ? &u : NULL, otp1, otp2, &ok, err) < 0)
		return -1;
	return done_bool(rq, value, ok);
}

/* ---- POST /token/setpin, /token/setrandompin ---- */

int api_token_setpin(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	const char *serial;
	if (prepare_serial(rq, &x, &u, &has_user, &serial, err) < 0)
		return -1;
	const char *userpin = param_str(rq, "userpin"), *sopin = param_str(rq, "sopin"),
		   *otppin = param_str(rq, "otppin");
	const struct user *owner = has_user ? &u : NULL;
	int total = 0, n, enc = 0;
	char ad[64] = "";
	/* policy: enrollment.encrypt_pin, admin/user otp_pin_minlength/maxlength/contents
	 * (checked on the otppin before anything is written, as privacyIDEA) */
	if (tpp_setpin(rq, &x, owner, serial, otppin, &enc, err) < 0)
		return -1;
	if (userpin) {
		strcat(ad, "userpin, ");
		if (token_set_user_pin(&x, serial, owner, userpin, 0, &n, err) < 0)
			return -1;
		total += n;
	}
	if (sopin) {
		strcat(ad, "sopin, ");
		if (token_set_user_pin(&x, serial, owner, sopin, 1, &n, err) < 0)
			return -1;
		total += n;
	}
	if (otppin) {
		strcat(ad, "otppin, ");
		if (token_setpin(&x, serial, owner, otppin, enc, &n, err) < 0)
			return -1;
		total += n;
	}
	snprintf(rq->audit.action_detail, sizeof(rq->audit.action_detail), "%s", ad);
	/* policy: enrollment.change_pin_on_first_use / change_pin_every (save_pin_change) */
	const char *pinp = param_str(rq, "pin");
	if (tpp_pin_change(rq, &x, serial, (otppin && *otppin) || (pinp && *pinp), err) < 0)
		return -1;
	return done_int(rq, value, total);
}

int api_token_setrandompin(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	const char *serial;
	if (prepare_serial(rq, &x, &u, &has_user, &serial, err) < 0)
		return -1;
	/* policy: admin/user.otp_pin_set_random gives the length (contents from
	 * otp_pin_contents); without it privacyIDEA refuses.  enrollment.encrypt_pin */
	char *pin = NULL;
	int enc = 0, n = 0;
	const struct user *owner = has_user ? &u : NULL;
	if (tpp_random_pin(rq, &x, owner, serial, &pin, &enc, err) < 0)
		return -1;
	if (!pin || !*pin) {
		crypto_free_str(pin);
		return err_set(err, ERRK_PI, ERR_TOKENADMIN,
			       "We have an empty PIN. Please check your policy 'otp_pin_set_random'.");
	}
	snprintf(rq->audit.action_detail, sizeof(rq->audit.action_detail), "%s", "otppin, ");
	if (token_setpin(&x, serial, owner, pin, enc, &n, err) < 0) {
		crypto_free_str(pin);
		return -1;
	}
	json_decref(rq->detail);
	rq->detail = json_pack("{s:s}", "pin", pin);
	crypto_free_str(pin);
	return done_int(rq, value, n);
}

/* ---- POST /token/description, /token/set ---- */

int api_token_description(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	const char *serial, *desc;
	if (prepare_serial(rq, &x, &u, &has_user, &serial, err) < 0 || param_req(rq, "description", &desc, err) < 0)
		return -1;
	int n = 0;
	if (token_set_description(&x, serial, has_user ? &u : NULL, desc, &n, err) < 0)
		return -1;
	return done_int(rq, value, n);
}

int api_token_set(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	const char *serial;
	if (prepare_serial(rq, &x, &u, &has_user, &serial, err) < 0)
		return -1;
	json_t *p = json_object();
	static const char *const keys[] = { "description", "count_window", "sync_window", "hashlib", "max_failcount",
					    "count_auth_max", "count_auth_success_max", "validity_period_start",
					    "validity_period_end", NULL };
	for (size_t i = 0; keys[i]; i++) {
		const char *v = param_str(rq, keys[i]);
		if (v)
			json_object_set_new(p, keys[i], json_string(v));
	}
	int n = 0;
	int rc = token_set_attributes(&x, serial, has_user ? &u : NULL, p, &n, rq->audit.action_detail,
				      sizeof(rq->audit.action_detail), err);
	json_decref(p);
	if (rc < 0)
		return -1;
	return done_int(rq, value, n);
}

/* ---- POST /token/realm/<serial> ---- */

/* policy: admin.tokenrealms for every realm the token is put into (the
 * guard checked the token's present realms). */
static int new_realms_allowed(struct request *rq, json_t *names, struct error *err)
{
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n)
		if (api_check_right(rq, "tokenrealms", NULL, json_string_value(n), err) < 0)
			return -1;
	return 0;
}

int api_token_realm(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	const char *serial = param_str(rq, "serial");
	audit_serial(rq, serial);
	json_t *realms = json_object_get(rq->params, "realms");
	if (!realms || json_is_null(realms))
		return err_missing_param(err, "realms");
	json_t *names = json_array();
	if (json_is_array(realms)) {
		size_t i;
		json_t *v;
		json_array_foreach(realms, i, v)
			if (json_is_string(v))
				json_array_append(names, v);
	} else {
		const char *s = param_str(rq, "realms");
		while (s && *s) {
			size_t n = strcspn(s, ",");
			char buf[256];
			size_t b = 0;
			for (size_t i = 0; i < n && b + 1 < sizeof(buf); i++)
				if (s[i] != ' ' && s[i] != '\t')
					buf[b++] = s[i];
			buf[b] = '\0';
			if (b)
				json_array_append_new(names, json_string(buf));
			s += n;
			if (*s == ',')
				s++;
		}
	}
	int rc = new_realms_allowed(rq, names, err);
	if (rc == 0)
		rc = token_set_realms(&x, serial, names, err);
	json_decref(names);
	if (rc < 0)
		return -1;
	return done_bool(rq, value, 1);
}

/* ---- POST /token/copypin, /token/copyuser ---- */

static int copy_api(struct request *rq, json_t **value, struct error *err, int pin)
{
	struct token_ctx x;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	const char *from, *to;
	if (param_req(rq, "from", &from, err) < 0 || param_req(rq, "to", &to, err) < 0)
		return -1;
	/* policy: admin.copytokenpin / copytokenuser on both tokens (the guard
	 * sees no serial parameter) */
	const char *both[] = { from, to };
	for (int i = 0; i < 2; i++) {
		struct token *t = NULL;
		int found = token_load(&x, both[i], &t, err);
		if (found < 0)
			return -1;
		if (found == 0) {
			int ok = api_check_token_right(rq, pin ? "copytokenpin" : "copytokenuser", t, err);
			token_free(t);
			if (ok < 0)
				return -1;
		}
	}
	int rc = pin ? token_copy_pin(&x, from, to, err) : token_copy_user(&x, from, to, err);
	if (rc < 0)
		return -1;
	return done_bool(rq, value, 1);
}

int api_token_copypin(struct request *rq, json_t **value, struct error *err)
{
	return copy_api(rq, value, err, 1);
}

int api_token_copyuser(struct request *rq, json_t **value, struct error *err)
{
	return copy_api(rq, value, err, 0);
}

/* ---- POST /token/lost/<serial> ---- */

int api_token_lost(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	struct user u;
	int has_user;
	if (prepare(rq, &x, &u, &has_user, err) < 0)
		return -1;
	const char *serial = param_str(rq, "serial");
	audit_serial(rq, serial);
	if (!serial || !*serial)
		return err_missing_param(err, "serial");
	if (serial_ok(serial, err) < 0)
		return -1;
	json_t *res = NULL;
	if (token_lost(&x, serial, has_user ? &u : NULL, &res, err) < 0)
		return -1;
	*value = res;
	rq->audit.success = 1;
	return 0;
}

/* ---- GET /token/getserial/<otp> ---- */

int api_token_getserial(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	const char *otp;
	if (param_req(rq, "otp", &otp, err) < 0)
		return -1;
	long long window;
	if (param_int(rq, "window", 10, &window, err) < 0)
		return -1;
	if (window < 1 || window > 100000)
		return err_param(err, "Parameter 'window' must be between 1 and 100000.");
	struct token_getserial_opts o = {
		.type = param_str(rq, "type"),
		.serial_substr = param_str(rq, "serial"),
		.assigned = -1,
		.count_only = param_str(rq, "count") && *param_str(rq, "count"),
		.window = (long)window,
	};
	/* policy: admin.getserial (the guard); only tokens of the realms of a
	 * realm-restricted admin are searched */
	struct store_realm_limit lim;
	if (api_realm_limit(rq, "getserial", &lim, err) < 0)
		return -1;
	o.limit = &lim;
	const char *un = param_str(rq, "unassigned"), *as = param_str(rq, "assigned");
	if (un && *un)
		o.assigned = 0;
	if (as && *as)
		o.assigned = 1;
	if (token_getserial(&x, otp, &o, value, err) < 0)
		return -1;
	json_t *s = json_object_get(*value, "serial");
	snprintf(rq->audit.info, sizeof(rq->audit.info), "get %s by OTP. %lld tokens",
		 json_is_string(s) ? json_string_value(s) : "None",
		 (long long)json_integer_value(json_object_get(*value, "count")));
	rq->audit.success = 1;
	return 0;
}

/* ---- /token/info/<serial>/<key> ---- */

int api_token_info_set(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	const char *serial = param_str(rq, "serial"), *key = param_str(rq, "key"), *v;
	audit_serial(rq, serial);
	if (param_req(rq, "value", &v, err) < 0)
		return -1;
	if (token_info_set(&x, serial, key, v, err) < 0)
		return -1;
	return done_bool(rq, value, 1);
}

int api_token_info_delete(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	const char *serial = param_str(rq, "serial"), *key = param_str(rq, "key");
	audit_serial(rq, serial);
	if (token_info_delete(&x, serial, key, err) < 0)
		return -1;
	return done_bool(rq, value, 1);
}

/* ---- POST /token/load/<filename> ---- */

int api_token_load(struct request *rq, json_t **value, struct error *err)
{
	struct token_ctx x;
	if (token_api_ctx(rq, &x, err) < 0)
		return -1;
	const char *filename = param_str(rq, "filename");
	const char *type, *file;
	if (param_req(rq, "type", &type, err) < 0)
		return -1;
	file = param_str(rq, "file");
	if (!file)
		return err_missing_param(err, "file");
	if (!*file)
		return err_param(err, "Error loading token file. File empty!");
	static const char *const known[] = { "aladdin-xml", "oathcsv", "OATH CSV", "yubikeycsv", "Yubikey CSV", "pskc",
					     NULL };
	int k = -1;
	for (int i = 0; known[i]; i++)
		if (!strcmp(type, known[i]))
			k = i;
	if (k < 0)
		return err_set(err, ERRK_PI, ERR_TOKENADMIN,
			       "Unknown file type: >>%s<<. We only know the types: aladdin-xml, oathcsv, OATH CSV, "
			       "yubikeycsv, Yubikey CSV, pskc",
			       type);
	const char *psk = param_str(rq, "psk");
	if (psk && *psk && strlen(psk) != 32)
		return err_set(err, ERRK_PI, ERR_TOKENADMIN,
			       "The Pre Shared Key must be 128 Bit hex encoded. It must be 32 characters long!");
	if (!strncmp(file, "-----BEGIN PGP MESSAGE-----", 27))
		return err_set(err, ERRK_PI, ERR_TOKENIMPORT, "PGP encrypted token files are not supported.");
	/* policy: admin.importtokens (the guard; here per token realm) */
	json_t *trealms = json_array();
	const char *tr = param_str(rq, "tokenrealms");
	while (tr && *tr) {
		while (*tr == ' ' || *tr == '\t')
			tr++;
		size_t n = strcspn(tr, ","), m = n;
		while (m && (tr[m - 1] == ' ' || tr[m - 1] == '\t'))
			m--;
		if (m)
			json_array_append_new(trealms, json_stringn(tr, m));
		tr += n;
		if (*tr == ',')
			tr++;
	}
	size_t ri;
	json_t *rv;
	json_array_foreach(trealms, ri, rv) {
		if (api_check_right(rq, "importtokens", NULL, json_string_value(rv), err) < 0) {
			json_decref(trealms);
			return -1;
		}
	}
	struct import_list l;
	import_list_init(&l);
	size_t len = strlen(file);
	int rc;
	if (k == 0) {
		rc = import_safenet_xml(file, len, &l, err);
	} else if (k <= 2) {
		rc = import_oath_csv(file, len, &l, err);
	} else if (k <= 4) {
		rc = import_yubico_csv(file, len, &l, err);
	} else {
		struct pskc_options o = { .psk_hex = psk && *psk ? psk : NULL, .password = param_str(rq, "password") };
		rc = import_pskc_mac_mode(param_str(rq, "pskcValidateMAC"), &o.mac_mode);
		if (rc < 0)
			err_param(err, "Unknown pskcValidateMAC value.");
		else
			rc = import_pskc(file, len, &o, &l, err);
	}
	json_t *serials = NULL;
	int n = 0;
	if (rc == 0)
		rc = token_import(&x, &l, trealms, &n, &serials, err);
	size_t total = l.count + l.n_not_imported;
	import_list_free(&l);
	json_decref(trealms);
	if (rc < 0)
		return -1;
	char joined[sizeof(rq->audit.serial)] = "";
	size_t i;
	json_t *s;
	json_array_foreach(serials, i, s) {
		size_t cur = strlen(joined);
		snprintf(joined + cur, sizeof(joined) - cur, "%s%s", i ? ", " : "", json_string_value(s));
	}
	json_decref(serials);
	snprintf(rq->audit.serial, sizeof(rq->audit.serial), "%s", joined);
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s, %s (imported: %d)", type, filename ? filename : "", n);
	*value = json_pack("{s:i,s:i}", "n_imported", n, "n_not_imported", (int)(total - (size_t)n));
	rq->audit.success = 1;
	return 0;
}
