/*
 * token_prepolicy.c — the enrollment and PIN pre-policies of /token
 * (token_prepolicy.h).  Which policies match follows privacyIDEA 3.8's
 * Match constructors: enrollment-scope actions with the token owner
 * (Match.user), admin/user-scope actions with the logged-in admin or user
 * (Match.admin_or_user / Match.generic).  Only policy questions and
 * parameter rewriting live here; the work stays in src/lib/token*.c.
 */
#include "token_prepolicy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "guard.h"
#include "../lib/crypto.h"
#include "../lib/pinhandling.h"
#include "../lib/pinpolicy.h"
#include "../lib/polctx.h"
#include "../lib/realm.h"
#include "../db/db.h"

static int policy_error(struct error *err, const char *msg)
{
	return err_set(err, ERRK_POLICY, ERR_POLICY, "%s", msg);
}

static int has_user(const struct user *u)
{
	return u && u->login[0];
}

/* Match.admin_or_user / Match.generic(scope=role): admins with their
 * adminuser/adminrealm and the user (or realm) acted upon, users as
 * themselves (u is then the logged-in user). */
void tpp_role_q(struct request *rq, const char *action, const struct user *u, struct polq *q)
{
	memset(q, 0, sizeof(*q));
	q->action = action;
	if (rq->who.role == ROLE_ADMIN) {
		q->scope = "admin";
		q->adminuser = rq->who.username;
		q->adminrealm = rq->who.realm;
		if (has_user(u))
			q->user = u;
		else if (u && u->realm[0])
			q->realm = u->realm;
		else
			q->action_only = 1;
	} else {
		q->scope = "user";
		q->user = u;
	}
}

/* Match.user(scope=enrollment): the user, else nothing but the action. */
void tpp_enroll_q(const char *action, const struct user *u, struct polq *q)
{
	memset(q, 0, sizeof(*q));
	q->scope = "enrollment";
	q->action = action;
	if (has_user(u))
		q->user = u;
	else if (u && u->realm[0])
		q->realm = u->realm;
	else
		q->action_only = 1;
}

/* Unique value of "<type>_<action>", falling back to "<action>". */
static int typed_value(struct request *rq, struct token_ctx *x, const char *type, const char *action,
		       const struct user *u, char **v, struct error *err)
{
	char name[128];
	struct polq q;
	snprintf(name, sizeof(name), "%s_%s", type, action);
	tpp_role_q(rq, name, u, &q);
	int rc = polctx_value(x->pol, &q, 0, v, err);
	if (rc != 0)
		return rc;
	tpp_role_q(rq, action, u, &q);
	return polctx_value(x->pol, &q, 0, v, err);
}

/* ---- check_max_token_user / check_max_token_realm ---- */

static int count_tokens(const struct token_list *l, const char *type, int active_only, const char *serial,
			int *has_serial)
{
	int n = 0;
	*has_serial = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct token *t = l->v[i];
		if (type && strcasecmp(t->r.tokentype, type))
			continue;
		if (active_only && !t->r.active)
			continue;
		n++;
		if (serial && !strcmp(t->r.serial, serial))
			*has_serial = 1;
	}
	return n;
}

/* As privacyIDEA: the policies of a limit that refuses go to the audit
 * row's "policies" (polctx_hits records what matches). */
static void audit_limit(struct token_ctx *x, const struct polq *q)
{
	struct policy_hits h;
	struct error ignored = { 0 };
	if (polctx_hits(x->pol, q, &h, &ignored) == 0)
		policy_hits_free(&h);
}

/* One limit: the highest matching value of action; refused when the user
 * has that many already (a serial among them may be re-enrolled).
 * *applied is set when a policy gives a limit. */
static int limit(struct token_ctx *x, const struct user *u, const char *action, const struct token_list *l,
		 const char *type, int active_only, const char *serial, const char *msg, int *applied,
		 struct error *err)
{
	struct polq q;
	long long max;
	tpp_enroll_q(action, u, &q);
	int rc = polctx_max(x->pol, &q, &max, err);
	if (rc <= 0)
		return rc;
	*applied = 1;
	int in;
	int n = count_tokens(l, type, active_only, serial, &in);
	if (!in && n >= max) {
		audit_limit(x, &q);
		return policy_error(err, msg);
	}
	return 0;
}

/* *applied (may be NULL) is set when a limit policy applied; *resolved
 * (may be NULL) then gets the user whose tokens were counted. */
static int check_max_user(struct token_ctx *x, const struct user *u_param, const char *serial, const char *type_param,
			  int *applied, struct user *resolved, struct error *err)
{
	int dummy = 0;
	if (!applied)
		applied = &dummy;
	struct user owner;
	const struct user *u = u_param;
	struct token *t = NULL;
	if (serial && *serial) {
		int rc = token_load(x, serial, &t, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			t = NULL;
	}
	if (!has_user(u) && t && t->r.resolver && t->r.resolver[0] && t->r.user_id) {
		const char *rn = realm_name_by_id(x->snap, t->r.owner_realm_id);
		struct error e2 = { 0 };
		if (user_from_uid(x->snap, x->c, t->r.resolver, t->r.user_id, rn ? rn : "", &owner, &e2) == 0)
			u = &owner;
	}
	int rc = 0;
	if (has_user(u)) {
		char type[64], ltype[64], action[128], msg[200];
		snprintf(type, sizeof(type), "%s",
			 type_param && *type_param ? type_param : t && t->r.tokentype ? t->r.tokentype : "hotp");
		snprintf(ltype, sizeof(ltype), "%s", type);
		for (char *p = ltype; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		struct token_list l;
		if (token_list_of_user(x, u, &l, err) < 0) {
			token_free(t);
			return -1;
		}
		snprintf(action, sizeof(action), "%s_max_token_per_user", ltype);
		snprintf(msg, sizeof(msg), "The number of tokens of type %s for this user is limited!", type);
		rc = limit(x, u, action, &l, type, 0, serial, msg, applied, err);
		if (rc == 0)
			rc = limit(x, u, "max_token_per_user", &l, NULL, 0, serial,
				   "The number of tokens for this user is limited!", applied, err);
		/* privacyIDEA builds this action name from the type as given */
		snprintf(action, sizeof(action), "%s_max_active_token_per_user", type);
		snprintf(msg, sizeof(msg), "The number of active tokens of type %s for this user is limited!", type);
		if (rc == 0)
			rc = limit(x, u, action, &l, type, 1, serial, msg, applied, err);
		if (rc == 0)
			rc = limit(x, u, "max_active_token_per_user", &l, NULL, 1, serial,
				   "The number of active tokens for this user is limited!", applied, err);
		token_list_free(&l);
		if (*applied && resolved && u != resolved)
			*resolved = *u;
	}
	token_free(t);
	return rc < 0 ? -1 : 0;
}

/* *applied (may be NULL) is set when a max_token_per_realm policy applied. */
static int check_max_realm(struct token_ctx *x, const char *realm, int *applied, struct error *err)
{
	if (!realm || !*realm)
		return 0;
	struct polq q = { .scope = "enrollment", .action = "max_token_per_realm", .realm = realm };
	long long max;
	int rc = polctx_max(x->pol, &q, &max, err);
	if (rc <= 0)
		return rc;
	if (applied)
		*applied = 1;
	struct token_list_query lq = { .page = 1, .pagesize = 1 };
	store_token_filter_init(&lq.f);
	long long rid = realm_id(x->snap, realm);
	lq.f.tokenrealm_id = rid > 0 ? rid : 0;
	json_t *page = NULL;
	if (token_list_page(x, &lq, &page, err) < 0)
		return -1;
	json_int_t n = json_integer_value(json_object_get(page, "count"));
	json_decref(page);
	if (n >= max) {
		audit_limit(x, &q);
		return policy_error(err, "The number of tokens in this realm is limited!");
	}
	return 0;
}

/* ---- the same limits again, atomically, inside the write transaction ----
 * The checks above count before the handler's transaction: two concurrent
 * enrollments could both see n < max.  When a limit applied, the request's
 * token_ctx gets tpp_limit_check, which token_init / token_assign /
 * token_enable run inside their write transaction: it takes a transaction
 * lock on the counted set (the realm, then the user: always this order, and
 * always after any token lock, so no two transactions wait on each other),
 * then counts again on the transaction's connection.  SQLite's BEGIN
 * IMMEDIATE serialises all writers already; PostgreSQL gets advisory
 * transaction locks, so this holds across processes sharing a database. */

#define LIMIT_LOCK_BASE 0x4c494d0000000000LL /* "LIM": apart from the token locks */

static int64_t limit_key(const char *kind, const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
	const char *parts[3] = { kind, a, b };
	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i] ? parts[i] : ""; *p; p++) {
			h ^= (unsigned char)tolower((unsigned char)*p);
			h *= 1099511628211ULL;
		}
		h ^= 0xff; /* separator */
		h *= 1099511628211ULL;
	}
	return LIMIT_LOCK_BASE | (int64_t)(h & 0xffffffffffULL);
}

static int tpp_limit_check(void *ctx, struct token_ctx *x, struct error *err)
{
	struct tpp_limit *l = ctx;
	if (l->realm_limit && db_lock_xact(x->c, limit_key("realm", l->realm, NULL), err) < 0)
		return -1;
	if (l->user_limit && db_lock_xact(x->c, limit_key("user", l->owner.resolver, l->owner.uid), err) < 0)
		return -1;
	if (l->realm_limit && check_max_realm(x, l->realm, NULL, err) < 0)
		return -1;
	if (l->user_limit && check_max_user(x, &l->owner, l->serial[0] ? l->serial : NULL,
					    l->has_type ? l->type : NULL, NULL, NULL, err) < 0)
		return -1;
	return 0;
}

/* check_max_token_realm + check_max_token_user before the transaction;
 * arms the in-transaction check when a limit applied. */
static int check_limits(struct request *rq, struct token_ctx *x, const struct user *u, const char *serial,
			const char *type_param, struct tpp_limit *lim, struct error *err)
{
	memset(lim, 0, sizeof(*lim));
	const char *realm = u && u->realm[0] ? u->realm : param_str(rq, "realm");
	if (check_max_realm(x, realm, &lim->realm_limit, err) < 0 ||
	    check_max_user(x, u, serial, type_param, &lim->user_limit, &lim->owner, err) < 0)
		return -1;
	if (!lim->realm_limit && !lim->user_limit)
		return 0;
	if (lim->realm_limit)
		snprintf(lim->realm, sizeof(lim->realm), "%s", realm);
	if (lim->user_limit && u && lim->owner.uid[0] == '\0' && u->uid[0])
		lim->owner = *u;
	if (lim->user_limit && !lim->owner.uid[0])
		lim->user_limit = 0; /* nothing countable (unresolved user) */
	snprintf(lim->serial, sizeof(lim->serial), "%s", serial ? serial : "");
	lim->has_type = type_param != NULL;
	snprintf(lim->type, sizeof(lim->type), "%s", type_param ? type_param : "");
	if (lim->realm_limit || lim->user_limit) {
		x->limit_check = tpp_limit_check;
		x->limit_ctx = lim;
	}
	return 0;
}

/* ---- PIN policies ---- */

/* encrypt_pin: 1 when an enrollment policy says so (the parameter is
 * ignored otherwise, as privacyIDEA removes it). */
static int encrypt_pin(struct token_ctx *x, const struct user *u, struct error *err)
{
	struct polq q;
	tpp_enroll_q("encrypt_pin", u, &q);
	return polctx_any(x->pol, &q, err);
}

/* privacyIDEA's check_pin: length and contents of the PIN to be set. */
static int check_pin(struct request *rq, struct token_ctx *x, const char *pin, const char *type, const struct user *u,
		     struct error *err)
{
	char *minlen = NULL, *maxlen = NULL, *contents = NULL;
	int rc = -1;
	size_t len = pinpolicy_strlen(pin);
	if (typed_value(rq, x, type, "otp_pin_minlength", u, &minlen, err) < 0 ||
	    typed_value(rq, x, type, "otp_pin_maxlength", u, &maxlen, err) < 0 ||
	    typed_value(rq, x, type, "otp_pin_contents", u, &contents, err) < 0)
		goto out;
	if (minlen && (long long)len < atoll(minlen)) {
		err_set(err, ERRK_POLICY, ERR_POLICY, "The minimum OTP PIN length is %s", minlen);
		goto out;
	}
	if (maxlen && (long long)len > atoll(maxlen)) {
		err_set(err, ERRK_POLICY, ERR_POLICY, "The maximum OTP PIN length is %s", maxlen);
		goto out;
	}
	if (contents) {
		char comment[512];
		int ok = pinpolicy_check_contents(pin, contents, comment, sizeof(comment), err);
		if (ok < 0)
			goto out;
		if (!ok) {
			policy_error(err, comment);
			goto out;
		}
	}
	rc = 0;
out:
	free(minlen);
	free(maxlen);
	free(contents);
	return rc;
}

/* check_otp_pin: the type is the existing token's, else the parameter's,
 * else hotp. */
static int check_otp_pin(struct request *rq, struct token_ctx *x, const char *pin, const char *serial,
			 const char *type_param, const struct user *u, struct error *err)
{
	char type[64];
	snprintf(type, sizeof(type), "%s", type_param && *type_param ? type_param : "hotp");
	if (serial && *serial) {
		struct token *t = NULL;
		int rc = token_load(x, serial, &t, err);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			snprintf(type, sizeof(type), "%s", t->r.tokentype);
			token_free(t);
		}
	}
	return check_pin(rq, x, pin ? pin : "", type, u, err);
}

/* A random PIN of the given length following the (type-specific)
 * contents policy of the admin or user. */
static int random_pin(struct request *rq, struct token_ctx *x, const char *type, const struct user *u,
		      const char *size, char **pin, struct error *err)
{
	char *contents = NULL;
	long long n = atoll(size);
	if (n < 0 || n > 1024)
		n = 0;
	if (typed_value(rq, x, type, "otp_pin_contents", u, &contents, err) < 0)
		return -1;
	int rc = pinpolicy_random(contents, (size_t)n, pin, err);
	free(contents);
	return rc;
}

static const char *pstr(json_t *params, const char *name)
{
	json_t *v = json_object_get(params, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* init_token_defaults: admin/user <type>_hashlib, _otplen, (totp)
 * _timestep are forced onto the request. */
static int token_defaults(struct request *rq, struct token_ctx *x, const char *type, const struct user *u,
			  json_t *params, struct error *err)
{
	static const struct {
		const char *type, *action, *param;
	} defs[] = {
		{ "hotp", "hotp_hashlib", "hashlib" }, { "hotp", "hotp_otplen", "otplen" },
		{ "totp", "totp_hashlib", "hashlib" }, { "totp", "totp_otplen", "otplen" },
		{ "totp", "totp_timestep", "timeStep" },
	};
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		if (strcasecmp(type, defs[i].type))
			continue;
		struct polq q;
		char *v = NULL;
		tpp_role_q(rq, defs[i].action, u, &q);
		int rc = polctx_value(x->pol, &q, 0, &v, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			json_object_set_new(params, defs[i].param, json_string(v));
		free(v);
	}
	return 0;
}

/* init_token_length_contents: the generated password of a pw token and the
 * registration code get enrollment.<type>.length / <type>.contents from the
 * user's policies (one unique value each), else the type's defaults (12 / 24
 * letters and digits, src/lib/tokens/pw.c); a value the client sent is
 * always replaced (privacyIDEA). */
static int length_contents(struct token_ctx *x, const char *type, const struct user *u, json_t *params,
			   struct error *err)
{
	static const struct {
		const char *type, *length, *contents;
	} defs[] = {
		{ "pw", "pw.length", "pw.contents" },
		{ "registration", "registration.length", "registration.contents" },
	};
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		if (strcmp(type, defs[i].type))
			continue;
		const char *actions[2] = { defs[i].length, defs[i].contents };
		for (size_t k = 0; k < 2; k++) {
			/* policy: enrollment.pw.length, pw.contents, registration.length,
			 * registration.contents */
			struct polq q;
			char *v = NULL;
			tpp_enroll_q(actions[k], u, &q);
			int rc = polctx_value(x->pol, &q, 0, &v, err);
			if (rc < 0)
				return -1;
			if (rc == 1 && v)
				json_object_set_new(params, actions[k], json_string(v));
			else
				json_object_del(params, actions[k]); /* the type's default */
			free(v);
		}
	}
	return 0;
}

int tpp_init(struct request *rq, struct token_ctx *x, const struct user *u, json_t *params, struct tpp_limit *lim,
	     struct error *err)
{
	/* a JSON number PIN is the PIN's text (as token_init reads it) */
	static const char *const pins[] = { "pin", "otppin" };
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(params, pins[i]);
		if (json_is_integer(v)) {
			char buf[32];
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
			json_object_set_new(params, pins[i], json_string(buf));
		}
	}
	const char *serial = pstr(params, "serial");
	const char *type_param = pstr(params, "type");
	char type[64];
	snprintf(type, sizeof(type), "%s", type_param && *type_param ? type_param : "hotp");
	for (char *p = type; *p; p++)
		*p = (char)tolower((unsigned char)*p);

	if (check_limits(rq, x, u, serial, type_param, lim, err) < 0)
		return -1;
	/* init_tokenlabel */
	if (token_init_label_params(x, u, type, params, err) < 0)
		return -1;
	if (length_contents(x, type, u, params, err) < 0)
		return -1;

	/* enroll_pin: without the right a given PIN is dropped */
	struct polq q;
	tpp_role_q(rq, "enrollpin", u, &q);
	int allowed = polctx_allowed(x->pol, &q, err);
	if (allowed < 0)
		return -1;
	if (!allowed)
		json_object_del(params, "pin");

	/* init_random_pin */
	char *size = NULL;
	tpp_enroll_q("otp_pin_random", u, &q);
	int rc = polctx_value(x->pol, &q, 0, &size, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		char *pin = NULL;
		rc = random_pin(rq, x, type_param && *type_param ? type_param : "hotp", u, size, &pin, err);
		free(size);
		if (rc < 0)
			return -1;
		json_object_set_new(params, "pin", json_string(pin));
		/* policy: enrollment.pinhandling — every handler of every matching
		 * policy (unique=False) gets the random PIN (src/lib/pinhandling.c) */
		json_t *handlers = NULL;
		tpp_enroll_q("pinhandling", u, &q);
		rc = polctx_values(x->pol, &q, 0, &handlers, err);
		size_t hi;
		json_t *h;
		json_array_foreach(handlers, hi, h) {
			if (rc == 0)
				rc = pinhandling_send(json_string_value(h), pin, pstr(params, "serial"), has_user(u) ? u : NULL,
						      type, rq->who.username, rq->who.realm, err);
		}
		json_decref(handlers);
		crypto_free_str(pin);
		if (rc < 0)
			return -1;
	}

	int enc = encrypt_pin(x, u, err);
	if (enc < 0)
		return -1;
	if (enc)
		json_object_set_new(params, "encryptpin", json_string("True"));
	else
		json_object_del(params, "encryptpin");

	/* check_otp_pin (skipped for rollover and verify requests) */
	if (!json_object_get(params, "rollover") && !json_object_get(params, "verify")) {
		const char *pin = pstr(params, "otppin");
		if (!pin || !*pin)
			pin = pstr(params, "pin");
		if (check_otp_pin(rq, x, pin, serial, type_param, u, err) < 0)
			return -1;
	}
	return token_defaults(rq, x, type, u, params, err);
}

int tpp_assign(struct request *rq, struct token_ctx *x, const struct user *u, const char *serial, const char *pin,
	       int *encrypt, struct tpp_limit *lim, struct error *err)
{
	if (check_limits(rq, x, u, serial, param_str(rq, "type"), lim, err) < 0)
		return -1;
	int enc = encrypt_pin(x, u, err);
	if (enc < 0)
		return -1;
	*encrypt = enc;
	return check_otp_pin(rq, x, pin, serial, param_str(rq, "type"), u, err);
}

int tpp_setpin(struct request *rq, struct token_ctx *x, const struct user *u, const char *serial,
	       const char *otppin, int *encrypt, struct error *err)
{
	int enc = encrypt_pin(x, u, err);
	if (enc < 0)
		return -1;
	*encrypt = enc;
	const char *pin = otppin && *otppin ? otppin : param_str(rq, "pin");
	return check_otp_pin(rq, x, pin, serial, param_str(rq, "type"), u, err);
}

int tpp_enable(struct request *rq, struct token_ctx *x, const struct user *u, const char *serial,
	       struct tpp_limit *lim, struct error *err)
{
	memset(lim, 0, sizeof(*lim));
	if (check_max_user(x, u, serial, param_str(rq, "type"), &lim->user_limit, &lim->owner, err) < 0)
		return -1;
	if (lim->user_limit && u && !lim->owner.uid[0] && u->uid[0])
		lim->owner = *u;
	if (!lim->user_limit || !lim->owner.uid[0])
		return 0;
	snprintf(lim->serial, sizeof(lim->serial), "%s", serial ? serial : "");
	const char *type = param_str(rq, "type");
	lim->has_type = type != NULL;
	snprintf(lim->type, sizeof(lim->type), "%s", type ? type : "");
	x->limit_check = tpp_limit_check;
	x->limit_ctx = lim;
	return 0;
}

int tpp_random_pin(struct request *rq, struct token_ctx *x, const struct user *u, const char *serial, char **pin,
		   int *encrypt, struct error *err)
{
	*pin = NULL;
	struct polq q;
	char *size = NULL;
	tpp_role_q(rq, "otp_pin_set_random", u, &q);
	int rc = polctx_value(x->pol, &q, 0, &size, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		char type[64] = "hotp";
		struct token *t = NULL;
		int lr = token_load(x, serial, &t, err);
		if (lr < 0) {
			free(size);
			return -1;
		}
		if (lr == 0) {
			snprintf(type, sizeof(type), "%s", t->r.tokentype);
			token_free(t);
		}
		rc = random_pin(rq, x, type, u, size, pin, err);
		free(size);
		if (rc < 0)
			return -1;
	}
	int enc = encrypt_pin(x, u, err);
	if (enc < 0)
		return -1;
	*encrypt = enc;
	return 0;
}

/* save_pin_change: realm = the token's first realm, else the default
 * realm (Match.realm).  Admins: change_pin_on_first_use sets
 * next_pin_change to now.  Users setting a PIN: next_pin_change is
 * removed, or set change_pin_every ("<n>d") ahead. */
int tpp_pin_change(struct request *rq, struct token_ctx *x, const char *serial, int pin_given, struct error *err)
{
	char realm[256] = "";
	struct token *t = NULL;
	int rc = token_load(x, serial, &t, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	json_t *realms = token_realms(x, t, err); /* borrowed from t */
	if (!realms) {
		token_free(t);
		return -1;
	}
	const char *first = json_string_value(json_array_get(realms, 0));
	const char *dr = realm_default(x->snap);
	snprintf(realm, sizeof(realm), "%s", first ? first : dr ? dr : "");
	token_free(t);

	struct polq q = { .scope = "enrollment", .realm = realm };
	char date[40];
	if (rq->who.role == ROLE_ADMIN) {
		q.action = "change_pin_on_first_use";
		int any = polctx_any(x->pol, &q, err);
		if (any <= 0)
			return any;
		token_format_date((int64_t)time(NULL), date, sizeof(date));
		return token_info_set(x, serial, "next_pin_change", date, err);
	}
	if (!pin_given)
		return 0;
	struct error e2 = { 0 };
	if (token_info_delete(x, serial, "next_pin_change", &e2) < 0 && e2.kind != ERRK_NOTFOUND) {
		*err = e2;
		return -1;
	}
	char *every = NULL;
	q.action = "change_pin_every";
	rc = polctx_value(x->pol, &q, 0, &every, err);
	if (rc <= 0)
		return rc;
	/* privacyIDEA: int(value.lower().strip("d")) days */
	long long days = 0;
	char *p = every;
	while (*p == 'd' || *p == 'D')
		p++;
	days = strtoll(p, NULL, 10);
	free(every);
	token_format_date((int64_t)time(NULL) + days * 86400, date, sizeof(date));
	return token_info_set(x, serial, "next_pin_change", date, err);
}
