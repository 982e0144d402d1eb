/*
 * token_admin.c — the management operations of /token (privacyIDEA's
 * assign_token, unassign_token, enable_token, revoke_token, reset_token,
 * remove_token, resync_token, set_pin, set_*, copy_token_*, lost_token,
 * get_serial_by_otp).
 *
 * Each operation is one write transaction: the tokens are selected, each
 * is locked and re-read under the lock (so a concurrent authentication's
 * counter is never written back stale), changed and saved; any error
 * rolls everything back.  Locked tokens can only be deleted or revoked,
 * as privacyIDEA's check_token_locked.  No SQL here.
 */
#include "token.h"
#include "token_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "crypto.h"
#include "otp.h"
#include "pin.h"
#include "polctx.h"
#include "realm.h"
#include "tokens/tokentype.h"
#include "../db/db.h"

static int locked_error(struct error *err)
{
	return err_set(err, ERRK_PI, 1007, "This action is not possible, since the token is locked");
}

/* Lock the token and replace its row and info by the live ones. */
static int reload_locked(struct token_ctx *x, struct token *t, struct error *err)
{
	if (token_lock(x, t, err) < 0)
		return -1;
	struct store_token_row row;
	int rc = store_token_get_id(x->c, t->r.id, &row, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, "The requested token could not be found.");
	store_token_row_clear(&t->r);
	t->r = row;
	json_decref(t->info);
	json_decref(t->info_type);
	t->info = t->info_type = NULL;
	json_decref(t->realms);
	t->realms = NULL;
	return store_tokeninfo_load(x->c, t->r.id, &t->info, &t->info_type, err);
}

static int begin_select(struct token_ctx *x, const char *serial, const struct user *u, struct token_list *l,
			struct error *err)
{
	memset(l, 0, sizeof(*l));
	if (db_begin_write(x->c, err) < 0)
		return -1;
	if (token_select(x, serial, u, l, err) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (reload_locked(x, l->v[i], err) < 0)
			return -1;
	return 0;
}

/* Commit on success, roll back on failure; frees the list. */
static int finish(struct token_ctx *x, int rc, struct token_list *l, struct error *err)
{
	token_list_free(l);
	if (rc < 0) {
		db_rollback(x->c);
		return -1;
	}
	if (db_commit(x->c, err) < 0) {
		db_rollback(x->c);
		return -1;
	}
	return 0;
}

/* The common shape of the admin operations: the tokens of serial or u,
 * selected and locked in one write transaction; a locked (revoked) token
 * refuses the whole request (1007); op changes and saves each one;
 * *count = how many. */
typedef int (*token_apply_fn)(struct token_ctx *x, struct token *t, const void *arg, struct error *err);

static int apply_unlocked(struct token_ctx *x, const char *serial, const struct user *u, token_apply_fn op,
			  const void *arg, int *count, struct error *err)
{
	struct token_list l;
	int rc = begin_select(x, serial, u, &l, err);
	*count = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = l.v[i]->r.locked ? locked_error(err) : op(x, l.v[i], arg, err);
	if (rc == 0)
		*count = (int)l.n;
	return finish(x, rc, &l, err);
}

/* Python's repr of a str (the quotes privacyIDEA's messages show). */
static void pyrepr(const char *s, char *out, size_t len)
{
	snprintf(out, len, strchr(s, '\'') && !strchr(s, '"') ? "\"%s\"" : "'%s'", s);
}

int token_assign(struct token_ctx *x, const char *serial, const struct user *u, const char *pin, int encrypt,
		 int caller_is_user, struct error *err)
{
	struct token_list l;
	int rc = begin_select(x, serial, NULL, &l, err);
	/* policy: enrollment.max_token_per_user, max_token_per_realm — counted
	 * again under the limit's lock (x->limit_check, set by the API) */
	if (rc == 0 && x->limit_check)
		rc = x->limit_check(x->limit_ctx, x, err);
	if (rc == 0) {
		struct token *t = l.v[0];
		if (t->r.user_id && *t->r.user_id) {
			if (caller_is_user) {
				rc = err_set(err, ERRK_PI, 1103, "Token already assigned to another user.");
			} else {
				struct user old;
				struct error uerr = { 0 };
				const char *realm = realm_name_by_id(x->snap, t->r.owner_realm_id);
				char login[300] = "", rl[300], rs[300];
				if (user_from_uid(x->snap, x->c, t->r.resolver, t->r.user_id, realm ? realm : "", &old,
						  &uerr) == 0)
					pyrepr(old.login, login, sizeof(login));
				else
					snprintf(login, sizeof(login), "''");
				pyrepr(realm ? realm : "", rl, sizeof(rl));
				pyrepr(t->r.resolver, rs, sizeof(rs));
				rc = err_set(err, ERRK_PI, 1103, "Token already assigned to user User(login=%s, realm=%s, "
								 "resolver=%s)",
					     login, rl, rs);
			}
		} else if (t->r.locked) {
			rc = locked_error(err);
		} else {
			/* policy: enrollment.max_token_per_user, max_token_per_realm
			 * (checked by src/api/token_prepolicy.c before this runs) */
			rc = token_set_owner(x, t, u, err);
			long long rid = realm_id(x->snap, u->realm);
			if (rc == 0 && rid > 0)
				rc = store_tokenrealm_set(x->c, t->r.id, (int64_t[]){ rid }, 1, err);
			if (rc == 0 && pin)
				rc = token_store_pin(x, t, pin, encrypt, err);
			t->r.failcount = 0;
			if (rc == 0)
				rc = token_save(x, t, err);
			if (rc == 0 && token_info(t, "failcounter_exceeded", NULL))
				rc = token_del_info(x, t, "failcounter_exceeded", err);
		}
	}
	return finish(x, rc, &l, err);
}

static int unassign_one(struct token_ctx *x, struct token *t, const void *arg, struct error *err)
{
	(void)arg;
	int rc = store_token_set_owner(x->c, t->r.id, NULL, NULL, 0, err);
	if (rc == 0)
		rc = token_store_pin(x, t, "", 0, err);
	t->r.failcount = 0;
	if (rc == 0)
		rc = token_save(x, t, err);
	if (rc == 0 && token_info(t, "failcounter_exceeded", NULL))
		rc = token_del_info(x, t, "failcounter_exceeded", err);
	return rc;
}

int token_unassign(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err)
{
	return apply_unlocked(x, serial, u, unassign_one, NULL, count, err);
}

int token_enable(struct token_ctx *x, const char *serial, const struct user *u, int enable, int *count,
		 struct error *err)
{
	struct token_list l;
	int rc = begin_select(x, serial, u, &l, err);
	*count = 0;
	/* policy: enrollment.max_active_token_per_user — counted again under
	 * the limit's lock (x->limit_check, set by the API for enable) */
	if (rc == 0 && enable && x->limit_check)
		rc = x->limit_check(x->limit_ctx, x, err);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct token *t = l.v[i];
		if (t->r.active == !enable) {
			if (t->r.locked) {
				rc = locked_error(err);
				break;
			}
			/* policy: enrollment.max_active_token_per_user (checked by
			 * src/api/token_prepolicy.c before this runs) */
			t->r.active = enable ? 1 : 0;
			rc = token_save(x, t, err);
			(*count)++;
		}
	}
	return finish(x, rc, &l, err);
}

int token_revoke(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err)
{
	struct token_list l;
	int rc = begin_select(x, serial, u, &l, err);
	*count = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct token *t = l.v[i];
		int was_revoked = t->r.revoked;
		t->r.revoked = 1;
		t->r.locked = 1;
		t->r.active = 0;
		rc = token_save(x, t, err);
		/* type hook (certificate: revoke at the CA, new CRL) */
		if (rc == 0 && !was_revoked && t->type && t->type->revoke)
			rc = t->type->revoke(x, t, err);
	}
	if (rc == 0)
		*count = (int)l.n;
	return finish(x, rc, &l, err);
}

static int reset_one(struct token_ctx *x, struct token *t, const void *arg, struct error *err)
{
	(void)arg;
	return t->r.failcount ? token_reset_failcount(x, t, err) : 0;
}

int token_reset(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err)
{
	return apply_unlocked(x, serial, u, reset_one, NULL, count, err);
}

int token_remove(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err)
{
	struct token_list l;
	int rc = begin_select(x, serial, u, &l, err);
	*count = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = store_token_delete(x->c, l.v[i]->r.id, l.v[i]->r.serial, err);
	if (rc == 0)
		*count = (int)l.n;
	return finish(x, rc, &l, err);
}

int token_resync(struct token_ctx *x, const char *serial, const struct user *u, const char *otp1,
		 const char *otp2, int *ok, struct error *err)
{
	struct token_list l;
	int rc = begin_select(x, serial, u, &l, err);
	*ok = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct token *t = l.v[i];
		if (!t->type || !t->type->resync)
			continue;
		if (t->r.locked) {
			rc = locked_error(err);
			break;
		}
		struct otp_match m = { 0 };
		int r = t->type->resync(x, t, otp1, otp2, &m, err);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (!r)
			continue;
		int moved = 1;
		if (m.set_count && store_token_consume_count(x->c, t->r.id, m.new_count, &moved, err) < 0) {
			rc = -1;
			break;
		}
		if (!moved)
			continue;
		if (m.set_shift && token_set_info(x, t, "timeShift", m.shift, NULL, err) < 0) {
			rc = -1;
			break;
		}
		/* inc_otp_counter(reset=True) resets the failcounter of an active token */
		if (t->r.active && t->r.failcount && t->r.failcount < t->r.maxfail &&
		    token_reset_failcount(x, t, err) < 0) {
			rc = -1;
			break;
		}
		*ok = 1;
	}
	return finish(x, rc, &l, err);
}

struct pin_arg {
	const char *pin;
	int flag; /* setpin: encrypt; set_user_pin: the SO PIN */
};

static int setpin_one(struct token_ctx *x, struct token *t, const void *arg, struct error *err)
{
	const struct pin_arg *p = arg;
	int rc = token_store_pin(x, t, p->pin, p->flag, err);
	return rc == 0 ? token_save(x, t, err) : rc;
}

int token_setpin(struct token_ctx *x, const char *serial, const struct user *u, const char *pin, int encrypt,
		 int *count, struct error *err)
{
	struct pin_arg p = { pin, encrypt };
	return apply_unlocked(x, serial, u, setpin_one, &p, count, err);
}

static int user_pin_one(struct token_ctx *x, struct token *t, const void *arg, struct error *err)
{
	const struct pin_arg *p = arg;
	char *ct = NULL, *iv = NULL;
	if (crypto_encrypt_split(x->app->enckey, SLOT_TOKEN, p->pin, strlen(p->pin), &ct, &iv, err) < 0)
		return -1;
	char **pc = p->flag ? &t->r.so_pin : &t->r.user_pin, **pi = p->flag ? &t->r.so_pin_iv : &t->r.user_pin_iv;
	crypto_free_str(*pc);
	crypto_free_str(*pi);
	*pc = ct;
	*pi = iv;
	return token_save(x, t, err);
}

int token_set_user_pin(struct token_ctx *x, const char *serial, const struct user *u, const char *pin, int so,
		       int *count, struct error *err)
{
	struct pin_arg p = { pin, so };
	return apply_unlocked(x, serial, u, user_pin_one, &p, count, err);
}

static int description_one(struct token_ctx *x, struct token *t, const void *arg, struct error *err)
{
	free(t->r.description);
	t->r.description = strdup(arg);
	return t->r.description ? token_save(x, t, err) : err_internal(err, "out of memory");
}

int token_set_description(struct token_ctx *x, const char *serial, const struct user *u, const char *desc,
			  int *count, struct error *err)
{
	if (strlen(desc) > 80)
		return err_param(err, "The description must not be longer than 80 characters.");
	return apply_unlocked(x, serial, u, description_one, desc, count, err);
}

/* An integer attribute of /token/set, strictly parsed. */
static int attr_int(json_t *params, const char *name, long long min, long long max, int *present, long long *out,
		    struct error *err)
{
	json_t *v = json_object_get(params, name);
	*present = v && !json_is_null(v);
	if (!*present)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		const char *s = json_string_value(v);
		*out = strtoll(s, &end, 10);
		if (!*s || *end)
			return err_param(err, "Parameter '%s' must be an integer.", name);
	} else {
		return err_param(err, "Parameter '%s' must be an integer.", name);
	}
	if (*out < min || *out > max)
		return err_param(err, "Parameter '%s' must be between %lld and %lld.", name, min, max);
	return 0;
}

static void ad_add(char *ad, size_t len, const char *key, const char *value)
{
	size_t n = strlen(ad);
	if (n < len)
		snprintf(ad + n, len - n, "%s='%s', ", key, value);
}

int token_set_attributes(struct token_ctx *x, const char *serial, const struct user *u, json_t *params, int *count,
			 char *action_detail, size_t adlen, struct error *err)
{
	*count = 0;
	action_detail[0] = '\0';
	/* validate everything first */
	struct {
		const char *name;
		long long min, max, v;
		int present;
	} ints[] = {
		{ "count_window", 1, OTP_WINDOW_MAX, 0, 0 },
		{ "sync_window", 1, OTP_WINDOW_MAX, 0, 0 },
		{ "max_failcount", 0, 1000000, 0, 0 },
		{ "count_auth_max", 0, (long long)1 << 53, 0, 0 },
		{ "count_auth_success_max", 0, (long long)1 << 53, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (attr_int(params, ints[i].name, ints[i].min, ints[i].max, &ints[i].present, &ints[i].v, err) < 0)
			return -1;
	json_t *jd = json_object_get(params, "description");
	const char *desc = json_is_string(jd) ? json_string_value(jd) : NULL;
	if (desc && strlen(desc) > 80)
		return err_param(err, "The description must not be longer than 80 characters.");
	json_t *jh = json_object_get(params, "hashlib");
	const char *hashlib = json_is_string(jh) ? json_string_value(jh) : NULL;
	enum otp_hash h;
	if (hashlib && otp_hash_parse(hashlib, &h) < 0)
		return err_param(err, "Unsupported hashlib: '%s'. Use sha1, sha256 or sha512.", hashlib);
	char vs[40] = "", ve[40] = "";
	const char *vnames[2] = { "validity_period_start", "validity_period_end" };
	char *vout[2] = { vs, ve };
	for (int i = 0; i < 2; i++) {
		json_t *jv = json_object_get(params, vnames[i]);
		if (!jv || json_is_null(jv))
			continue;
		int64_t when;
		if (!json_is_string(jv) || token_parse_date(json_string_value(jv), &when) < 0)
			return err_param(err, "Could not parse %s. Use the format YYYY-MM-DDThh:mm+oooo.", vnames[i]);
		token_format_date(when, vout[i], 40);
	}

	struct token_list l;
	int rc = begin_select(x, serial, u, &l, err);
	int per_token = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct token *t = l.v[i];
		if (t->r.locked) {
			rc = locked_error(err);
			break;
		}
		per_token = 0;
		char buf[32];
		if (desc) {
			free(t->r.description);
			t->r.description = strdup(desc);
			per_token++;
		}
		if (ints[0].present)
			t->r.count_window = (int)ints[0].v, per_token++;
		if (ints[1].present)
			t->r.sync_window = (int)ints[1].v, per_token++;
		if (hashlib) {
			rc = token_set_info(x, t, "hashlib", otp_hash_name(h), NULL, err);
			per_token++;
		}
		if (rc == 0 && ints[2].present)
			t->r.maxfail = (int)ints[2].v, per_token++;
		if (rc == 0 && ints[3].present) {
			snprintf(buf, sizeof(buf), "%lld", ints[3].v);
			rc = token_set_info(x, t, "count_auth_max", buf, NULL, err);
			per_token++;
		}
		if (rc == 0 && ints[4].present) {
			snprintf(buf, sizeof(buf), "%lld", ints[4].v);
			rc = token_set_info(x, t, "count_auth_success_max", buf, NULL, err);
			per_token++;
		}
		if (rc == 0 && ve[0]) {
			rc = token_set_info(x, t, "validity_period_end", ve, NULL, err);
			per_token++;
		}
		if (rc == 0 && vs[0]) {
			rc = token_set_info(x, t, "validity_period_start", vs, NULL, err);
			per_token++;
		}
		if (rc == 0)
			rc = token_save(x, t, err);
		*count += per_token;
	}
	if (desc)
		ad_add(action_detail, adlen, "description", desc);
	for (size_t i = 0; i < 2; i++)
		if (ints[i].present) {
			char b[32];
			snprintf(b, sizeof(b), "%lld", ints[i].v);
			ad_add(action_detail, adlen, ints[i].name, b);
		}
	if (hashlib)
		ad_add(action_detail, adlen, "hashlib", hashlib);
	for (size_t i = 2; i < 5; i++)
		if (ints[i].present) {
			char b[32];
			snprintf(b, sizeof(b), "%lld", ints[i].v);
			ad_add(action_detail, adlen, ints[i].name, b);
		}
	if (ve[0])
		ad_add(action_detail, adlen, "validity_period_end", ve);
	if (vs[0])
		ad_add(action_detail, adlen, "validity_period_start", vs);
	if (rc < 0)
		*count = 0;
	return finish(x, rc, &l, err);
}

int token_set_realms(struct token_ctx *x, const char *serial, json_t *names, struct error *err)
{
	struct token_list l;
	int rc = begin_select(x, serial, NULL, &l, err);
	if (rc == 0) {
		size_t n = json_array_size(names), k = 0, i;
		int64_t *ids = calloc(n ? n : 1, sizeof(*ids));
		json_t *v;
		if (!ids) {
			rc = err_internal(err, "out of memory");
		} else {
			json_array_foreach(names, i, v) {
				long long id = json_is_string(v) ? realm_id(x->snap, json_string_value(v)) : -1;
				if (id > 0)
					ids[k++] = id;
			}
			/* policy: enrollment.max_token_per_realm */
			rc = store_tokenrealm_set(x->c, l.v[0]->r.id, ids, k, err);
			free(ids);
		}
	}
	return finish(x, rc, &l, err);
}

int token_info_set(struct token_ctx *x, const char *serial, const char *key, const char *value, struct error *err)
{
	if (!*key || strlen(key) > 255)
		return err_param(err, "The tokeninfo key must hold 1 to 255 characters.");
	struct token_list l;
	int rc = begin_select(x, serial, NULL, &l, err);
	if (rc == 0)
		rc = l.v[0]->r.locked ? locked_error(err) : token_set_info(x, l.v[0], key, value, NULL, err);
	return finish(x, rc, &l, err);
}

int token_info_delete(struct token_ctx *x, const char *serial, const char *key, struct error *err)
{
	struct token_list l;
	int rc = begin_select(x, serial, NULL, &l, err);
	if (rc == 0)
		rc = token_del_info(x, l.v[0], key, err);
	return finish(x, rc, &l, err);
}

/* check_copy_serials: both serials must name exactly one token. */
static int copy_pair(struct token_ctx *x, const char *from, const char *to, struct token_list *lf,
		     struct token_list *lt, struct error *err)
{
	memset(lf, 0, sizeof(*lf));
	memset(lt, 0, sizeof(*lt));
	if (db_begin_write(x->c, err) < 0)
		return -1;
	struct token *a = NULL, *b = NULL;
	int ra = token_load(x, from, &a, err);
	if (ra < 0)
		return -1;
	if (ra == 1)
		return err_set(err, ERRK_PI, 1016, "No unique token to copy from found");
	token_list_add(lf, a);
	int rb = token_load(x, to, &b, err);
	if (rb < 0)
		return -1;
	if (rb == 1)
		return err_set(err, ERRK_PI, 1017, "No unique token to copy to found");
	token_list_add(lt, b);
	if (a->r.id == b->r.id)
		return reload_locked(x, b, err);
	struct token *first = a->r.id < b->r.id ? a : b, *second = first == a ? b : a;
	if (reload_locked(x, first, err) < 0 || reload_locked(x, second, err) < 0)
		return -1;
	return b->r.locked ? locked_error(err) : 0;
}

int token_copy_pin(struct token_ctx *x, const char *from, const char *to, struct error *err)
{
	struct token_list lf, lt;
	int rc = copy_pair(x, from, to, &lf, &lt, err);
	if (rc == 0) {
		struct token *a = lf.v[0], *b = lt.v[0];
		char *h = strdup(a->r.pin_hash ? a->r.pin_hash : ""), *s = strdup(a->r.pin_seed ? a->r.pin_seed : "");
		crypto_free_str(b->r.pin_hash);
		crypto_free_str(b->r.pin_seed);
		b->r.pin_hash = h;
		b->r.pin_seed = s;
		rc = h && s ? token_save(x, b, err) : err_internal(err, "out of memory");
	}
	token_list_free(&lf);
	return finish(x, rc, &lt, err);
}

int token_copy_user(struct token_ctx *x, const char *from, const char *to, struct error *err)
{
	struct token_list lf, lt;
	int rc = copy_pair(x, from, to, &lf, &lt, err);
	if (rc == 0) {
		struct token *a = lf.v[0], *b = lt.v[0];
		rc = store_token_set_owner(x->c, b->r.id, a->r.resolver, a->r.user_id, a->r.owner_realm_id, err);
		json_t *names = rc == 0 ? token_realms(x, a, err) : NULL;
		if (rc == 0 && !names)
			rc = -1;
		if (rc == 0) {
			size_t k = 0, i;
			int64_t ids[64];
			json_t *v;
			json_array_foreach(names, i, v) {
				long long id = realm_id(x->snap, json_string_value(v));
				if (id > 0 && k < 64)
					ids[k++] = id;
			}
			rc = store_tokenrealm_set(x->c, b->r.id, ids, k, err);
		}
	}
	token_list_free(&lf);
	return finish(x, rc, &lt, err);
}

/* policy: enrollment.losttoken_PW_length, enrollment.losttoken_PW_contents,
 * enrollment.losttoken_valid — privacyIDEA's config_lost_token: unique values
 * of the policies matching the lost token's owner (Match.user with the
 * owner); defaults 16, "8" (base58) and 10 days.  The contents use the
 * lost-token alphabet (C upper, c lower, n digits, s specials, 8 base58:
 * any of them, no character of each required), not the PIN-policy syntax. */
static int lost_int(struct token_ctx *x, struct token *t, const char *action, long long lo, long long hi,
		    long long *out, struct error *err)
{
	struct polq q = { .scope = "enrollment", .action = action, .token = t };
	char *v = NULL;
	int rc = polctx_value(x->pol, &q, 0, &v, err);
	if (rc <= 0)
		return rc;
	char *end;
	long long n = strtoll(v, &end, 10);
	int bad = end == v || *end || n < lo || n > hi;
	if (bad)
		err_set(err, ERRK_POLICY, ERR_POLICY, "The policy %s has the invalid value '%s'.", action, v);
	else
		*out = n;
	free(v);
	return bad ? -1 : 0;
}

static int lost_policies(struct token_ctx *x, struct token *t, long long *pw_len, char **contents,
			 long long *validity, struct error *err)
{
	if (lost_int(x, t, "losttoken_PW_length", 1, 63, pw_len, err) < 0 ||
	    lost_int(x, t, "losttoken_valid", 0, 36500, validity, err) < 0)
		return -1;
	struct polq q = { .scope = "enrollment", .action = "losttoken_PW_contents", .token = t };
	return polctx_value(x->pol, &q, 0, contents, err) < 0 ? -1 : 0;
}

int token_lost(struct token_ctx *x, const char *serial, const struct user *u, json_t **result, struct error *err)
{
	*result = NULL;
	struct token_list l;
	int rc = begin_select(x, serial, NULL, &l, err);
	struct token *old = rc == 0 ? l.v[0] : NULL;
	if (rc == 0 && u && !user_is_empty(u) && !token_owned_by(old, u)) {
		rc = err_set(err, ERRK_PI, ERR_TOKENADMIN,
			     "The user User(login='%.100s', realm='%.100s', resolver='%.100s') does not own the token %s",
			     u->login, u->realm, u->resolver, serial);
	}
	if (rc == 0 && !(old->r.user_id && *old->r.user_id))
		rc = err_set(err, ERRK_PI, 2012, "You can only define a lost token for an assigned token.");
	char newserial[128], password[64], desc[128], end[40];
	struct token *nt = NULL;
	long long pw_len = 16, validity_days = 10;
	char *contents = NULL;
	if (rc == 0)
		rc = lost_policies(x, old, &pw_len, &contents, &validity_days, err);
	if (rc == 0) {
		snprintf(newserial, sizeof(newserial), "lost%s", serial);
		snprintf(desc, sizeof(desc), "temporary replacement for %s", serial);
		if (!token_serial_valid(newserial))
			rc = err_param(err, "The serial of the replacement, %s, is too long.", newserial);
		else if (contents && !strpbrk(contents, "Ccns8"))
			rc = err_set(err, ERRK_POLICY, ERR_POLICY,
				     "The policy losttoken_PW_contents '%s' names no character class (C, c, n, s, 8).",
				     contents);
		else if (token_random_password(password, (size_t)pw_len, contents ? contents : "8", 1) < 0)
			rc = err_internal(err, "random generator failed");
		token_format_date(time(NULL) + (time_t)validity_days * 86400, end, sizeof(end));
	}
	free(contents);
	if (rc == 0) {
		json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s}", "otpkey", password, "serial", newserial, "type", "pw",
				      "description", desc, "validity_period_end", end);
		struct token_enroll_opts o = { 0 };
		rc = p ? token_enroll_txn(x, p, &o, &nt, NULL, err) : err_internal(err, "out of memory");
		json_decref(p);
	}
	if (rc == 0) {
		/* copy the owner, the realms and the PIN; disable the lost token */
		rc = store_token_set_owner(x->c, nt->r.id, old->r.resolver, old->r.user_id, old->r.owner_realm_id, err);
		json_t *names = rc == 0 ? token_realms(x, old, err) : NULL;
		if (rc == 0 && !names)
			rc = -1;
		size_t i;
		json_t *v;
		json_array_foreach(names, i, v) {
			long long id = realm_id(x->snap, json_string_value(v));
			if (rc == 0 && id > 0)
				rc = store_tokenrealm_add(x->c, nt->r.id, id, err);
		}
		if (rc == 0) {
			crypto_free_str(nt->r.pin_hash);
			crypto_free_str(nt->r.pin_seed);
			nt->r.pin_hash = strdup(old->r.pin_hash);
			nt->r.pin_seed = strdup(old->r.pin_seed);
			rc = token_save(x, nt, err);
		}
		int disabled = old->r.active ? 1 : 0;
		if (rc == 0 && disabled) {
			old->r.active = 0;
			rc = token_save(x, old, err);
		}
		if (rc == 0)
			*result = json_pack("{s:s,s:b,s:b,s:b,s:s,s:s,s:s,s:i}", "serial", newserial, "init", 1, "user", 1,
					    "pin", 1, "valid_to", "xxxx", "password", password, "end_date", end, "disable",
					    disabled);
	}
	memset(password, 0, sizeof(password));
	token_free(nt);
	rc = finish(x, rc, &l, err);
	if (rc < 0) {
		json_decref(*result);
		*result = NULL;
	}
	return rc;
}

static int count_only_row(void *ctx, struct store_token_row *r)
{
	return 1;
}

struct serial_search {
	struct token_ctx *x;
	const char *otp;
	long window;
	int64_t found_id;
	int matches;
	char serial[128];
	struct otp_match m;
};

static int getserial_row(void *ctx, struct store_token_row *r)
{
	struct serial_search *s = ctx;
	struct token t = { .r = *r };
	t.type = token_type_find(r->tokentype);
	if (!t.type || !t.type->otp_exists)
		return 0;
	struct error err = { 0 };
	if (store_tokeninfo_load(s->x->c, r->id, &t.info, &t.info_type, &err) < 0)
		return 0;
	struct otp_match m = { 0 };
	if (t.type->otp_exists(s->x, &t, s->otp, s->window, &m) >= 0) {
		s->matches++;
		s->found_id = r->id;
		snprintf(s->serial, sizeof(s->serial), "%s", r->serial);
		s->m = m;
	}
	json_decref(t.info);
	json_decref(t.info_type);
	return 0;
}

int token_getserial(struct token_ctx *x, const char *otp, const struct token_getserial_opts *o, json_t **out,
		    struct error *err)
{
	struct store_token_filter f;
	store_token_filter_init(&f);
	char pattern[160];
	snprintf(pattern, sizeof(pattern), "*%s*", o->serial_substr ? o->serial_substr : "");
	f.serial = pattern;
	f.tokentype = o->type;
	f.assigned = o->assigned;
	if (o->limit)
		f.allowed = *o->limit;
	int64_t total = 0;
	struct serial_search s = { .x = x, .otp = otp, .window = o->window > 0 ? o->window : 10 };
	if (o->count_only) {
		if (store_token_search(x->c, &f, "id", 0, 1, 1, &total, count_only_row, NULL, err) < 0)
			return -1;
		*out = json_pack("{s:n,s:I}", "serial", "count", (json_int_t)total);
		return 0;
	}
	/* walk every candidate, a page at a time */
	for (int64_t page = 1;; page++) {
		if (store_token_search(x->c, &f, "id", 0, page, 1000, &total, getserial_row, &s, err) < 0)
			return -1;
		if (page * 1000 >= total)
			break;
	}
	if (s.matches > 1)
		return err_set(err, ERRK_PI, 1200, "multiple tokens are matching this OTP value!");
	if (s.matches == 1 && s.m.set_count) {
		/* privacyIDEA's check_otp_exist advances the counter: the value
		 * shown to the administrator cannot be used any more. */
		int ok;
		if (db_begin_write(x->c, err) < 0 ||
		    store_token_consume_count(x->c, s.found_id, s.m.new_count, &ok, err) < 0 || db_commit(x->c, err) < 0) {
			db_rollback(x->c);
			return -1;
		}
	}
	*out = json_pack("{s:o,s:I}", "serial", s.matches == 1 ? json_string(s.serial) : json_null(), "count",
			 (json_int_t)total);
	return 0;
}
