/*
 * token_init.c — enrollment: POST /token/init, and the one-token step the
 * import and the lost-token workflow reuse (privacyIDEA's init_token,
 * TokenClass.update, get_init_detail).  Every parameter is validated
 * before the first write; the caller's transaction makes the rest atomic.
 * token_init runs a type's expensive, database-independent part (prepare:
 * certificate key generation and CA signing) before its write transaction,
 * after the same request and token checks the transaction repeats; and,
 * inside it, the API's enrollment-limit re-count (token_ctx.limit_check).
 * No SQL here (store_token.c) and no type specifics (tokens/).
 */
#include "token.h"
#include "token_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "crypto.h"
#include "otpauth.h"
#include "polctx.h"
#include "pyjson.h"
#include "realm.h"
#include "tokens/tokentype.h"
#include "../db/db.h"

static const char *pstr(json_t *params, const char *name)
{
	json_t *v = json_object_get(params, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* privacyIDEA's encryptpin test: True or "true" in any case. */
static int pencrypt(json_t *params)
{
	json_t *v = json_object_get(params, "encryptpin");
	if (json_is_true(v))
		return 1;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	return s && !strcasecmp(s, "true");
}

/* Parameters that are strings in every privacyIDEA client: a JSON number
 * or bool is turned into its text, anything else refused. */
static int normalise_params(json_t *params, json_t **out, struct error *err)
{
	json_t *p = json_object();
	const char *k;
	json_t *v;
	if (!p)
		return err_internal(err, "out of memory");
	json_object_foreach(params, k, v) {
		char buf[64];
		if (json_is_string(v) || json_is_null(v)) {
			json_object_set(p, k, v);
		} else if (json_is_integer(v)) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
			json_object_set_new(p, k, json_string(buf));
		} else if (json_is_boolean(v)) {
			json_object_set_new(p, k, json_string(json_is_true(v) ? "True" : "False"));
		} else if (json_is_real(v)) {
			snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
			json_object_set_new(p, k, json_string(buf));
		} else if (!strcmp(k, "realms") || !strcmp(k, "tokenrealms")) {
			json_object_set(p, k, v);
		} else {
			json_decref(p);
			return err_param(err, "Parameter '%s' must be a string.", k);
		}
	}
	*out = p;
	return 0;
}

static int new_defaults(struct token_ctx *x, struct token *t, const struct token_type *ty, const char *serial,
			struct error *err)
{
	t->r.serial = strdup(serial);
	t->r.tokentype = strdup(ty->name);
	t->r.description = strdup("");
	t->r.pin_hash = strdup("");
	t->r.pin_seed = strdup("");
	t->r.rollout_state = strdup("");
	t->r.otplen = (int)token_config_int(x, "DefaultOtpLen", 6);
	t->r.count_window = (int)token_config_int(x, "DefaultCountWindow", 10);
	t->r.maxfail = (int)token_config_int(x, "DefaultMaxFailCount", 10);
	t->r.sync_window = (int)token_config_int(x, "DefaultSyncWindow", 1000);
	t->r.active = 1;
	t->r.owner_realm_id = -1;
	t->info = json_object();
	t->info_type = json_object();
	t->type = ty;
	if (!t->r.serial || !t->r.tokentype || !t->r.description || !t->r.pin_hash || !t->r.pin_seed ||
	    !t->r.rollout_state || !t->info || !t->info_type)
		return err_internal(err, "out of memory");
	return 0;
}

/* validity_period_start / _end → normalised tokeninfo values. */
static int validity_param(json_t *params, const char *name, char *out, size_t len, struct error *err)
{
	const char *v = pstr(params, name);
	out[0] = '\0';
	if (!v || !*v)
		return 0;
	int64_t epoch;
	if (token_parse_date(v, &epoch) < 0)
		return err_param(err, "Could not parse %s '%s'. Use the format YYYY-MM-DDThh:mm+oooo.", name, v);
	token_format_date(epoch, out, len);
	return 0;
}

/* The request parameters of one enrollment, checked before any work. */
struct enroll_req {
	json_t *params;           /* normalised, owned                         */
	const char *typename;     /* as given (default hotp)                   */
	const struct token_type *ty;
	const char *serial;       /* points into params, serialbuf or fixed    */
	char serialbuf[96];
	const char *desc;
	char vstart[40], vend[40];
};

/* fixed_serial: the serial decided before (token_init's prepare step) */
static int enroll_parse(struct token_ctx *x, json_t *params_in, const char *fixed_serial, struct enroll_req *q,
			struct error *err)
{
	memset(q, 0, sizeof(*q));
	if (normalise_params(params_in, &q->params, err) < 0)
		return -1;
	json_t *params = q->params;
	q->typename = pstr(params, "type");
	if (!q->typename || !*q->typename)
		q->typename = "hotp";
	q->ty = token_type_find(q->typename);
	if (!q->ty)
		return err_set(err, ERRK_PI, 1610, "init token failed: unknown token type '%s'", q->typename);
	/* policy: admin/user.enroll<TYPE> (src/api/guard.c), enrollment.max_token_per_realm,
	 * max_token_per_user, <type>_max_token_per_user … (src/api/token_prepolicy.c,
	 * before this runs, and again in the transaction through x->limit_check) */
	const char *serial = pstr(params, "serial");
	if (fixed_serial) {
		serial = fixed_serial;
	} else if (serial && *serial) {
		if (!token_serial_valid(serial))
			return err_param(err, "Invalid serial number. A serial consists of at most 40 letters, digits, "
					      "'-' and '_'.");
	} else {
		const char *prefix = pstr(params, "prefix");
		if (prefix && *prefix && (!token_serial_valid(prefix) || strlen(prefix) > 20))
			return err_param(err, "Invalid serial prefix.");
		if (token_gen_serial(x, q->ty, prefix, q->serialbuf, sizeof(q->serialbuf), err) < 0)
			return -1;
		serial = q->serialbuf;
	}
	q->serial = serial;
	q->desc = pstr(params, "description");
	if (q->desc && strlen(q->desc) > 80)
		return err_param(err, "The description must not be longer than 80 characters.");
	if (validity_param(params, "validity_period_start", q->vstart, sizeof(q->vstart), err) < 0 ||
	    validity_param(params, "validity_period_end", q->vend, sizeof(q->vend), err) < 0)
		return -1;
	return 0;
}

/* The token to (re-)initialise: the existing one when it may be, else a
 * new one with the defaults.  *is_new set. */
static int enroll_target(struct token_ctx *x, const struct enroll_req *q, const struct token_enroll_opts *o,
			 struct token **out, int *is_new, struct error *err)
{
	struct token *t = NULL;
	int load = token_load(x, q->serial, &t, err);
	if (load < 0)
		return -1;
	*is_new = load == 1;
	if (!*is_new) {
		*out = t;
		if (strcasecmp(t->r.tokentype, q->ty->name))
			return err_set(err, ERRK_PI, ERR_TOKENADMIN,
				       "initToken failed: token '%s' already exist with type '%s'. Can not initialize "
				       "token with new type '%s'",
				       q->serial, t->r.tokentype, q->typename);
		if (o->caller_is_user && !(o->owner && token_owned_by(t, o->owner)))
			return err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, "The requested token could not be found.");
		if (t->r.locked || t->r.revoked)
			return err_set(err, ERRK_PI, 1007, "This action is not possible, since the token is locked");
		return 0;
	}
	t = calloc(1, sizeof(*t));
	*out = t;
	if (!t)
		return err_internal(err, "out of memory");
	return new_defaults(x, t, q->ty, q->serial, err);
}

/* ---- verified enrollment (enrollment.verify_enrollment) ---- */

#define VERIFY_ENROLLMENT_MESSAGE "Please enter a valid OTP value of the new token."

/* tokentype.h */
int token_set_rollout_state(struct token *t, const char *state, struct error *err)
{
	char *s = strdup(state);
	if (!s)
		return err_internal(err, "out of memory");
	free(t->r.rollout_state);
	t->r.rollout_state = s;
	return 0;
}

/* `verify` for a token in rollout_state "verify": *verified = 1 and *m
 * what the accepted value consumes, or ParameterError 905. */
static int verify_step(struct token_ctx *x, struct token *t, int is_new, json_t *params, struct otp_match *m,
		       int *verified, struct error *err)
{
	const char *verify = pstr(params, "verify");
	*verified = 0;
	if (is_new || !verify || !*verify || !t->r.rollout_state || strcmp(t->r.rollout_state, "verify"))
		return 0;
	int64_t c = TOKEN_OTP_NOMATCH;
	if (t->type && t->type->check_otp)
		c = t->type->check_otp(x, t, verify, m, err);
	if (c == TOKEN_OTP_ERROR)
		return -1;
	if (c < 0)
		return err_param(err, "Verification of the new token failed.");
	*verified = 1;
	return 0;
}

/* The verified token: counter (and TOTP drift) as the accepted value
 * leaves them, rollout_state "enrolled". */
static int apply_verified(struct token *t, const struct otp_match *m, json_t *info, struct error *err)
{
	if (m->set_count)
		t->r.count = m->new_count;
	if (m->set_shift)
		json_object_set_new(info, "timeShift", json_string(m->shift));
	return token_set_rollout_state(t, "enrolled", err);
}

/* 1 when an enrollment.verify_enrollment policy of the owner lists the
 * type (not for the verify step itself, nor for a two-step enrollment,
 * whose client part comes first). */
static int verify_wanted(struct token_ctx *x, const struct token_type *ty, const struct user *owner, json_t *params,
			 struct error *err)
{
	const char *verify = pstr(params, "verify");
	if (!ty->can_verify_enrollment || (verify && *verify) || pyjson_is_true(json_object_get(params, "2stepinit")))
		return 0;
	struct polq q = { .scope = "enrollment", .action = "verify_enrollment" };
	if (owner && owner->login[0])
		q.user = owner;
	else if (owner && owner->realm[0])
		q.realm = owner->realm;
	else
		q.action_only = 1;
	json_t *vals = NULL;
	if (polctx_values(x->pol, &q, POLICY_ALLOW_WHITESPACE, &vals, err) < 0)
		return -1;
	int hit = 0;
	size_t i;
	json_t *v;
	json_array_foreach(vals, i, v) {
		const char *s = json_string_value(v);
		while (s && *s && !hit) {
			while (*s == ' ')
				s++;
			size_t n = strcspn(s, " ");
			if (n && n == strlen(ty->name) && !strncasecmp(s, ty->name, n))
				hit = 1;
			s += n;
		}
	}
	json_decref(vals);
	return hit;
}

/* The enrollment inside the open write transaction.  state: the type's
 * prepared result (token_init), NULL otherwise; with a state the caller
 * undoes outside effects (enroll_failed) when this fails. */
static int enroll_txn(struct token_ctx *x, json_t *params_in, const struct token_enroll_opts *o,
		      const char *fixed_serial, void *state, int api_init, struct token **out, json_t **detail_out,
		      struct error *err)
{
	struct enroll_req q;
	struct token *t = NULL;
	struct token_enroll e = { 0 };
	json_t *detail = NULL;
	json_t *params = NULL;
	const struct token_type *ty = NULL;
	int rc = -1, enrolled = 0; /* enrolled: the type's enroll succeeded */
	struct otp_match vm = { 0 };
	int verified = 0, verify_pending = 0;

	int prc = enroll_parse(x, params_in, fixed_serial, &q, err);
	params = q.params;
	ty = q.ty;
	if (prc < 0)
		goto out;
	const char *serial = q.serial, *desc = q.desc;
	const char *vstart = q.vstart, *vend = q.vend;
	if (enroll_target(x, &q, o, &t, &e.is_new, err) < 0)
		goto out;
	if (!e.is_new && token_lock(x, t, err) < 0)
		goto out;
	/* policy: enrollment.max_token_per_realm, max_token_per_user & co:
	 * counted again under the limit's lock */
	if (x->limit_check && x->limit_check(x->limit_ctx, x, err) < 0)
		goto out;

	/* The second step of a verified enrollment (privacyIDEA's
	 * verify_enrollment pre-policy; no policy needed): a token waiting in
	 * "verify" must accept the value, else nothing changes. */
	if (api_init && verify_step(x, t, e.is_new, params, &vm, &verified, err) < 0)
		goto out;

	e.x = x;
	e.params = params;
	e.owner = o->owner;
	e.t = t;
	e.type_state = state;
	if (ty->enroll(&e, err) < 0)
		goto out;
	enrolled = 1;
	if (!e.info)
		e.info = json_object();
	if (verified && apply_verified(t, &vm, e.info, err) < 0)
		goto out;
	/* policy: enrollment.verify_enrollment (privacyIDEA's
	 * check_verify_enrollment post-policy, decided here so the token is
	 * never usable before it is verified) */
	if (api_init && (verify_pending = verify_wanted(x, ty, o->owner, params, err)) < 0)
		goto out;
	if (verify_pending && token_set_rollout_state(t, "verify", err) < 0)
		goto out;

	/* TokenClass.update: description, key (resets count and failcount), PIN */
	if (desc) {
		free(t->r.description);
		t->r.description = strdup(desc);
	}
	if (e.otpkey) {
		if (token_store_key(x, t, e.otpkey, strlen(e.otpkey), err) < 0)
			goto out;
		t->r.count = 0;
		t->r.failcount = 0;
	}
	const char *pin = pstr(params, "pin");
	/* policy: admin/user.enrollpin, otp_pin_minlength/maxlength/contents,
	 * enrollment.otp_pin_random, enrollment.encrypt_pin: applied to params by
	 * src/api/token_prepolicy.c (pin dropped/replaced, encryptpin set) */
	if (pin && token_store_pin(x, t, pin, pencrypt(params), err) < 0)
		goto out;

	/* The type-name prefixed parameters become tokeninfo (TokenClass.update). */
	size_t tl = strlen(ty->name);
	const char *k;
	json_t *v;
	json_object_foreach(params, k, v) {
		if (!strncmp(k, ty->name, tl) && k[tl] == '.' && json_is_string(v) && strlen(k) < 255)
			json_object_set(e.info, k, v);
	}
	const char *kind = o->tokenkind ? o->tokenkind : "software";
	if (!o->tokenkind && !strncmp(serial, "UB", 2) && !strcmp(ty->name, "hotp"))
		kind = "hardware";
	json_object_set_new(e.info, "tokenkind", json_string(kind));
	if (vstart[0])
		json_object_set_new(e.info, "validity_period_start", json_string(vstart));
	if (vend[0])
		json_object_set_new(e.info, "validity_period_end", json_string(vend));

	/* write */
	if (e.is_new) {
		int ins = store_token_insert(x->c, &t->r, err);
		if (ins < 0)
			goto out;
		if (ins == 1) { /* a concurrent init took the serial */
			err_set(err, ERRK_PI, ERR_TOKENADMIN, "token create failed: the serial %s exists already",
				serial);
			goto out;
		}
	} else {
		if (token_save(x, t, err) < 0)
			goto out;
		if (ty->reinit_clear) {
			json_t *keys = json_object();
			size_t pl = strlen(ty->reinit_clear);
			json_object_foreach(t->info, k, v)
				if (!strncmp(k, ty->reinit_clear, pl))
					json_object_set_new(keys, k, json_true());
			json_object_foreach(keys, k, v)
				if (token_del_info(x, t, k, err) < 0) {
					json_decref(keys);
					goto out;
				}
			json_decref(keys);
		}
		if (token_info(t, "failcounter_exceeded", NULL) && token_del_info(x, t, "failcounter_exceeded", err) < 0)
			goto out;
	}
	/* "<key>.type" entries give the type of <key> ("password": stored
	 * encrypted), as privacyIDEA's set_info; they are no rows themselves. */
	json_object_foreach(e.info, k, v) {
		size_t kl = strlen(k);
		if (!json_is_string(v) || (kl > 5 && !strcmp(k + kl - 5, ".type")))
			continue;
		char tkey[300];
		snprintf(tkey, sizeof(tkey), "%s.type", k);
		const char *itype = json_string_value(json_object_get(e.info, tkey));
		if (token_set_info(x, t, k, json_string_value(v), itype, err) < 0)
			goto out;
	}
	/* realms: the owner's realm, a lone `realm` parameter, extra realms */
	if (o->owner && !user_is_empty(o->owner) && o->owner->uid[0]) {
		if (token_set_owner(x, t, o->owner, err) < 0)
			goto out;
	} else {
		const char *realm = pstr(params, "realm");
		if (realm && *realm && !json_object_get(params, "user")) {
			long long rid = realm_id(x->snap, realm);
			if (rid > 0 && store_tokenrealm_add(x->c, t->r.id, rid, err) < 0)
				goto out;
		}
	}
	size_t i;
	json_array_foreach(o->tokenrealms, i, v) {
		long long rid = json_is_string(v) ? realm_id(x->snap, json_string_value(v)) : -1;
		if (rid > 0 && store_tokenrealm_add(x->c, t->r.id, rid, err) < 0)
			goto out;
	}

	if (o->want_detail) {
		detail = json_object();
		json_object_set_new(detail, "serial", json_string(t->r.serial));
		const char *dk;
		json_t *dv;
		json_object_foreach(e.init_details, dk, dv)
			json_object_set(detail, dk, dv);
		if (e.otpkey) {
			char *value = malloc(strlen(e.otpkey) + 8);
			char *img = otpauth_qr_datauri(e.otpkey, NULL);
			if (!value) {
				crypto_free_str(img);
				err_internal(err, "out of memory");
				goto out;
			}
			sprintf(value, "seed://%s", e.otpkey);
			json_object_set_new(detail, "otpkey", json_pack("{s:s,s:s,s:s}", "description", "OTP seed", "value",
									value, "img", img ? img : ""));
			crypto_free_str(value);
			crypto_free_str(img);
		}
		if (ty->init_detail && ty->init_detail(&e, detail, err) < 0)
			goto out;
		if (verify_pending) {
			json_object_set_new(detail, "verify", json_pack("{s:s}", "message", VERIFY_ENROLLMENT_MESSAGE));
			json_object_set_new(detail, "rollout_state", json_string("verify"));
		}
	}
	rc = 0;
out:
	/* the type undoes outside effects of its enroll (certificate: revoke
	 * the certificate the CA issued) when nothing gets written */
	if (rc < 0 && enrolled && !state && ty->enroll_failed)
		ty->enroll_failed(&e);
	if (e.otpkey)
		crypto_free_str(e.otpkey);
	json_decref(e.init_details);
	json_decref(e.info);
	json_decref(params);
	if (rc == 0 && out)
		*out = t;
	else
		token_free(t);
	if (rc == 0 && detail_out)
		*detail_out = detail;
	else
		json_decref(detail);
	return rc;
}

int token_enroll_txn(struct token_ctx *x, json_t *params_in, const struct token_enroll_opts *o, struct token **out,
		     json_t **detail_out, struct error *err)
{
	return enroll_txn(x, params_in, o, NULL, NULL, 0, out, detail_out, err);
}

/* A type with prepare (certificate): the request is checked and the
 * expensive work done before the write transaction, with the token as
 * loaded now; the transaction checks the token again.  *serial_out gets
 * the serial (given or generated), *state the prepared result. */
static int enroll_prepare(struct token_ctx *x, json_t *params_in, const struct token_enroll_opts *o,
			  const struct token_type *ty, char *serial_out, size_t slen, void **state,
			  struct error *err)
{
	struct enroll_req q;
	struct token_enroll e = { 0 };
	struct token *t = NULL;
	int rc = -1;
	*state = NULL;
	if (enroll_parse(x, params_in, NULL, &q, err) < 0 || enroll_target(x, &q, o, &t, &e.is_new, err) < 0)
		goto out;
	if (strlen(q.serial) >= slen) {
		err_internal(err, "serial too long");
		goto out;
	}
	snprintf(serial_out, slen, "%s", q.serial);
	e.x = x;
	e.params = q.params;
	e.owner = o->owner;
	e.t = t;
	if (ty->prepare(&e, err) < 0) {
		if (e.type_state && ty->free_state)
			ty->free_state(e.type_state);
		goto out;
	}
	*state = e.type_state;
	rc = 0;
out:
	json_decref(e.info);
	json_decref(e.init_details);
	if (e.otpkey)
		crypto_free_str(e.otpkey);
	token_free(t);
	json_decref(q.params);
	return rc;
}

int token_init(struct token_ctx *x, json_t *params, const struct user *owner, int caller_is_user, json_t **detail,
	       struct token **out, struct error *err)
{
	struct token_enroll_opts o = { .owner = owner, .caller_is_user = caller_is_user, .want_detail = 1 };
	const struct token_type *ty = NULL;
	char serial[96];
	void *state = NULL;
	/* The type's expensive part (certificate: key generation, CA signing)
	 * runs before the transaction: SQLite's write lock is database-wide. */
	json_t *tv = json_object_get(params, "type");
	const char *tn = json_is_string(tv) && *json_string_value(tv) ? json_string_value(tv) : "hotp";
	ty = token_type_find(tn);
	if (ty && ty->prepare) {
		if (enroll_prepare(x, params, &o, ty, serial, sizeof(serial), &state, err) < 0)
			return -1;
	} else {
		ty = NULL;
	}
	int rc = -1;
	if (db_begin_write(x->c, err) < 0)
		goto out;
	if (enroll_txn(x, params, &o, ty ? serial : NULL, state, 1, out, detail, err) < 0) {
		db_rollback(x->c);
		goto out;
	}
	if (db_commit(x->c, err) < 0) {
		if (out) {
			token_free(*out);
			*out = NULL;
		}
		json_decref(*detail);
		*detail = NULL;
		goto out;
	}
	rc = 0;
out:
	if (ty) {
		/* nothing was written: revoke what the CA issued */
		if (rc < 0 && ty->enroll_failed) {
			struct token_enroll fe = { .x = x, .owner = owner, .type_state = state };
			ty->enroll_failed(&fe);
		}
		if (state && ty->free_state)
			ty->free_state(state);
	}
	return rc;
}

/* ---- enrollment policies shared by /token/init and /validate (token.h) ---- */

static void enroll_polq(const char *action, const struct user *u, struct polq *q)
{
	memset(q, 0, sizeof(*q));
	q->scope = "enrollment";
	q->action = action;
	if (u && u->login[0])
		q->user = u;
	else if (u && u->realm[0])
		q->realm = u->realm;
	else
		q->action_only = 1;
}

int token_init_label_params(struct token_ctx *x, const struct user *u, const char *type, json_t *params,
			    struct error *err)
{
	/* policy: enrollment.tokenlabel, enrollment.tokenissuer,
	 * enrollment.appimageurl, enrollment.<type>_force_app_pin */
	static const char *const actions[] = { "tokenlabel", "tokenissuer", "appimageurl" };
	struct polq q;
	for (size_t i = 0; i < 3; i++) {
		char *v = NULL;
		enroll_polq(actions[i], u, &q);
		int rc = polctx_value(x->pol, &q, POLICY_ALLOW_WHITESPACE, &v, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			json_object_set_new(params, actions[i], json_string(v));
		free(v);
	}
	char action[96];
	snprintf(action, sizeof(action), "%s_force_app_pin", type);
	enroll_polq(action, u, &q);
	int any = polctx_any(x->pol, &q, err);
	if (any < 0)
		return -1;
	if (any)
		json_object_set_new(params, "force_app_pin", json_true());
	return 0;
}
