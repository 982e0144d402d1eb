/*
 * token.c — the token object: loading, tokeninfo, PIN, seed, locking,
 * dates and the dictionary GET /token/ shows (privacyIDEA's TokenClass
 * and models.Token).  See token.h for the rules.  It must not hold SQL
 * (src/db/store_token.c) nor type-specific behaviour (src/lib/tokens/).
 */
#include "token.h"
#include "token_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "crypto.h"
#include "pin.h"
#include "realm.h"
#include "resolvers/resolver.h"
#include "snapshot.h"
#include "sysconfig.h"
#include "tokens/tokentype.h"
#include "../db/db.h"

/* Advisory-lock key space of token ids ("TOK" in the top bytes), apart
 * from the schema migration lock and whatever else takes such locks. */
#define TOKEN_LOCK_BASE 0x544f4b0000000000LL

void token_free(struct token *t)
{
	if (!t)
		return;
	store_token_row_clear(&t->r);
	json_decref(t->info);
	json_decref(t->info_type);
	json_decref(t->realms);
	free(t);
}

void token_list_free(struct token_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		token_free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int token_list_add(struct token_list *l, struct token *t)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		struct token **v = reallocarray(l->v, cap, sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = t;
	return 0;
}

/* Take the row (moved, not copied) and load the token's info. */
static struct token *token_from_row(struct token_ctx *x, struct store_token_row *row, struct error *err)
{
	struct token *t = calloc(1, sizeof(*t));
	if (!t) {
		err_internal(err, "out of memory");
		return NULL;
	}
	t->r = *row;
	memset(row, 0, sizeof(*row));
	t->type = token_type_find(t->r.tokentype);
	if (store_tokeninfo_load(x->c, t->r.id, &t->info, &t->info_type, err) < 0) {
		token_free(t);
		return NULL;
	}
	return t;
}

int token_load(struct token_ctx *x, const char *serial, struct token **out, struct error *err)
{
	struct store_token_row row;
	int rc = store_token_get(x->c, serial, &row, err);
	if (rc != 0)
		return rc;
	*out = token_from_row(x, &row, err);
	return *out ? 0 : -1;
}

struct collect {
	struct token_ctx *x;
	struct token_list *l;
	struct error *err;
	int failed;
};

static int collect_row(void *ctx, struct store_token_row *r)
{
	struct collect *c = ctx;
	struct token *t = calloc(1, sizeof(*t));
	if (!t || token_list_add(c->l, t) < 0) {
		free(t);
		c->failed = 1;
		err_internal(c->err, "out of memory");
		return 1;
	}
	t->r = *r;
	memset(r, 0, sizeof(*r));
	t->type = token_type_find(t->r.tokentype);
	return 0;
}

static int load_infos(struct token_ctx *x, struct token_list *l, struct error *err)
{
	for (size_t i = 0; i < l->n; i++)
		if (!l->v[i]->info &&
		    store_tokeninfo_load(x->c, l->v[i]->r.id, &l->v[i]->info, &l->v[i]->info_type, err) < 0)
			return -1;
	return 0;
}

int token_list_of_user(struct token_ctx *x, const struct user *u, struct token_list *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	if (!u || !u->uid[0] || !u->resolver[0])
		return 0;
	long long realm = u->realm[0] ? realm_id(x->snap, u->realm) : -1;
	if (u->realm[0] && realm < 0)
		return 0;
	struct collect c = { x, out, err, 0 };
	if (store_token_by_owner(x->c, u->resolver, u->uid, realm, collect_row, &c, err) < 0 || c.failed ||
	    load_infos(x, out, err) < 0) {
		token_list_free(out);
		return -1;
	}
	return 0;
}

static int not_found(struct error *err)
{
	return err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, "The requested token could not be found.");
}

int token_owned_by(const struct token *t, const struct user *u)
{
	return t->r.resolver && t->r.user_id && u->uid[0] && !strcmp(t->r.resolver, u->resolver) &&
	       !strcmp(t->r.user_id, u->uid);
}

int token_select(struct token_ctx *x, const char *serial, const struct user *u, struct token_list *out,
		 struct error *err)
{
	memset(out, 0, sizeof(*out));
	int has_user = u && !user_is_empty(u);
	if (serial && *serial) {
		struct token *t = NULL;
		int rc = token_load(x, serial, &t, err);
		if (rc < 0)
			return -1;
		if (rc == 1 || (has_user && !token_owned_by(t, u))) {
			token_free(t);
			return not_found(err);
		}
		if (token_list_add(out, t) < 0) {
			token_free(t);
			return err_internal(err, "out of memory");
		}
		return 0;
	}
	if (!has_user)
		return err_param(err, "You either need to provide user or serial");
	return token_list_of_user(x, u, out, err);
}

json_t *token_realms(struct token_ctx *x, struct token *t, struct error *err)
{
	if (!t->realms && store_tokenrealm_names(x->c, t->r.id, &t->realms, err) < 0)
		return NULL;
	return t->realms;
}

/* ---- accessors ---- */

const char *token_info(const struct token *t, const char *key, const char *def)
{
	json_t *v = t->info ? json_object_get(t->info, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : def;
}

long long token_info_int(const struct token *t, const char *key, long long def)
{
	const char *v = token_info(t, key, NULL);
	if (!v || !*v)
		return def;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (*end == '.') /* "30.0" as Python's float() then int() */
		n = (long long)strtod(v, &end);
	return *end ? def : n;
}

const char *token_config(struct token_ctx *x, const char *key, const char *def)
{
	return sysconfig_str(x->snap, key, def);
}

long long token_config_int(struct token_ctx *x, const char *key, long long def)
{
	return sysconfig_int(x->snap, key, def);
}

int token_config_bool(struct token_ctx *x, const char *key, int def)
{
	return sysconfig_bool(x->snap, key, def);
}

unsigned char *token_key_text(struct token_ctx *x, const struct token *t, size_t *len, struct error *err)
{
	if (!t->r.key_enc || !*t->r.key_enc || !t->r.key_iv || !*t->r.key_iv) {
		unsigned char *e = calloc(1, 1);
		*len = 0;
		if (!e)
			err_internal(err, "out of memory");
		return e;
	}
	return crypto_decrypt_split(x->app->enckey, SLOT_TOKEN, t->r.key_enc, t->r.key_iv, len, err);
}

unsigned char *token_key_raw(struct token_ctx *x, const struct token *t, size_t *len, struct error *err)
{
	size_t tl = 0;
	unsigned char *text = token_key_text(x, t, &tl, err);
	if (!text)
		return NULL;
	unsigned char *raw = crypto_hex_decode((const char *)text, len);
	crypto_free_secret(text, tl);
	if (!raw)
		err_internal(err, "the stored seed of %s is not hex", t->r.serial);
	return raw;
}

int token_split_pin_pass(struct token_ctx *x, const struct token *t, const char *pass, char **pin, char **otp)
{
	size_t n = strlen(pass);
	size_t otplen = t->r.otplen > 0 ? (size_t)t->r.otplen : 0;
	if (otplen > n)
		otplen = n; /* Python slices clamp */
	int prepend = token_config_bool(x, "PrependPin", 1);
	if (prepend) {
		*pin = strndup(pass, n - otplen);
		*otp = strdup(pass + n - otplen);
	} else {
		*otp = strndup(pass, otplen);
		*pin = strdup(pass + otplen);
	}
	if (!*pin || !*otp) {
		crypto_free_str(*pin);
		crypto_free_str(*otp);
		*pin = *otp = NULL;
		return -1;
	}
	return 0;
}

/* ---- writes ---- */

int token_lock(struct token_ctx *x, const struct token *t, struct error *err)
{
	return db_lock_xact(x->c, TOKEN_LOCK_BASE | t->r.id, err);
}

int token_set_info(struct token_ctx *x, struct token *t, const char *key, const char *value, const char *type,
		   struct error *err)
{
	char *enc = NULL;
	if (type && !strcmp(type, "password")) {
		enc = crypto_encrypt_value(x->app->enckey, SLOT_CONFIG, value, strlen(value), err);
		if (!enc)
			return -1;
		value = enc;
	}
	int rc = store_tokeninfo_set(x->c, t->r.id, key, value, type, err);
	if (rc == 0) {
		if (!t->info)
			t->info = json_object();
		json_object_set_new(t->info, key, json_string(value));
		if (type && *type) {
			if (!t->info_type)
				t->info_type = json_object();
			json_object_set_new(t->info_type, key, json_string(type));
		} else if (t->info_type) {
			json_object_del(t->info_type, key);
		}
	}
	free(enc);
	return rc;
}

int token_del_info(struct token_ctx *x, struct token *t, const char *key, struct error *err)
{
	if (store_tokeninfo_delete(x->c, t->r.id, key, NULL, err) < 0)
		return -1;
	if (t->info)
		json_object_del(t->info, key);
	if (t->info_type)
		json_object_del(t->info_type, key);
	return 0;
}

int token_store_pin(struct token_ctx *x, struct token *t, const char *pin, int encrypt, struct error *err)
{
	char *stored = encrypt ? pin_encrypt(x->app->enckey, pin, err) : pin_hash(x->app->enckey, pin, err);
	if (!stored)
		return -1;
	crypto_free_str(t->r.pin_hash);
	t->r.pin_hash = stored;
	crypto_free_str(t->r.pin_seed);
	t->r.pin_seed = strdup("");
	return t->r.pin_seed ? 0 : err_internal(err, "out of memory");
}

int token_check_pin(struct token_ctx *x, const struct token *t, const char *pin, int *rehash)
{
	if (rehash)
		*rehash = 0;
	return pin_verify(x->app->enckey, t->r.pin_hash ? t->r.pin_hash : "", t->r.pin_seed, pin ? pin : "", rehash);
}

int token_store_key(struct token_ctx *x, struct token *t, const char *key_text, size_t len, struct error *err)
{
	char *ct = NULL, *iv = NULL;
	if (crypto_encrypt_split(x->app->enckey, SLOT_TOKEN, key_text, len, &ct, &iv, err) < 0)
		return -1;
	crypto_free_str(t->r.key_enc);
	crypto_free_str(t->r.key_iv);
	t->r.key_enc = ct;
	t->r.key_iv = iv;
	return 0;
}

int token_save(struct token_ctx *x, struct token *t, struct error *err)
{
	return store_token_update(x->c, &t->r, err);
}

int token_set_owner(struct token_ctx *x, struct token *t, const struct user *u, struct error *err)
{
	long long rid = u->realm[0] ? realm_id(x->snap, u->realm) : -1;
	if (store_token_set_owner(x->c, t->r.id, u->resolver, u->uid, rid, err) < 0)
		return -1;
	if (rid > 0 && store_tokenrealm_add(x->c, t->r.id, rid, err) < 0)
		return -1;
	free(t->r.resolver);
	free(t->r.user_id);
	t->r.resolver = strdup(u->resolver);
	t->r.user_id = strdup(u->uid);
	t->r.owner_realm_id = rid;
	json_decref(t->realms);
	t->realms = NULL;
	return t->r.resolver && t->r.user_id ? 0 : err_internal(err, "out of memory");
}

int token_reset_failcount(struct token_ctx *x, struct token *t, struct error *err)
{
	if (store_token_set_failcount(x->c, t->r.id, 0, err) < 0)
		return -1;
	t->r.failcount = 0;
	if (token_info(t, "failcounter_exceeded", NULL))
		return token_del_info(x, t, "failcounter_exceeded", err);
	return 0;
}

/* ---- serials and dates ---- */

int token_serial_valid(const char *serial)
{
	size_t n = 0;
	for (const char *p = serial; *p; p++, n++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
	return n > 0 && n <= 40;
}

int token_gen_serial(struct token_ctx *x, const struct token_type *ty, const char *prefix, char *out, size_t len,
		     struct error *err)
{
	long long serial_len = token_config_int(x, "SerialLength", 8);
	if (serial_len < 0 || serial_len > 32)
		serial_len = 8;
	if (!prefix || !*prefix)
		prefix = ty ? ty->prefix : "PIUN";
	int64_t num = store_token_count_type(x->c, ty ? ty->name : "", err);
	if (num < 0)
		return -1;
	for (int attempt = 0; attempt < 100; attempt++) {
		char numstr[24], hex[72];
		snprintf(numstr, sizeof(numstr), "%04lld", (long long)(num + attempt));
		long long hlen = serial_len - (long long)strlen(numstr);
		hex[0] = '\0';
		if (hlen > 0) {
			if (crypto_random_hex(hex, (size_t)hlen) < 0)
				return err_internal(err, "random generator failed");
			hex[hlen] = '\0';
			for (char *p = hex; *p; p++)
				*p = (char)toupper((unsigned char)*p);
		}
		int n = snprintf(out, len, "%s%s%s", prefix, numstr, hex);
		if (n < 0 || (size_t)n >= len)
			return err_param(err, "The serial prefix is too long.");
		int ex = store_token_serial_exists(x->c, out, err);
		if (ex < 0)
			return -1;
		if (!ex)
			return 0;
	}
	return err_internal(err, "no free serial number found");
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int valid_ymdhm(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[mo - 1] && !(mo == 2 && d == 29 && !leap);
}

int token_parse_date(const char *s, int64_t *epoch)
{
	int y, mo, d, h, mi, sec = 0, off = 0;
	size_t n = strlen(s);
	if (n >= 14 && s[2] == '/' && s[5] == '/' && s[8] == ' ' && s[11] == ':') {
		/* legacy "DD/MM/YY HH:MM" (local time in privacyIDEA; UTC here) */
		if (digits(s, 2, &d) || digits(s + 3, 2, &mo) || digits(s + 6, 2, &y) || digits(s + 9, 2, &h) ||
		    digits(s + 12, 2, &mi) || n != 14)
			return -1;
		y += 2000;
	} else {
		if (n < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':')
			return -1;
		if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
		    digits(s + 14, 2, &mi))
			return -1;
		const char *p = s + 16;
		if (*p == ':') {
			if (digits(p + 1, 2, &sec))
				return -1;
			p += 3;
			if (*p == '.') {
				p++;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om;
			int sign = *p == '-' ? -1 : 1;
			p++;
			if (digits(p, 2, &oh))
				return -1;
			p += 2;
			if (*p == ':')
				p++;
			if (digits(p, 2, &om))
				return -1;
			p += 2;
			if (oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 3600 + om * 60);
		}
		if (*p)
			return -1;
	}
	if (!valid_ymdhm(y, mo, d, h, mi, sec))
		return -1;
	*epoch = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
}

void token_format_date(int64_t epoch, char *buf, size_t len)
{
	time_t tt = (time_t)epoch;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M+0000", &tm);
}

/* ---- the list dictionary ---- */

json_t *token_as_dict(struct token_ctx *x, struct token *t, struct error *err)
{
	json_t *realms = token_realms(x, t, err);
	if (!realms)
		return NULL;
	json_t *info = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(t->info, k, v)
		json_object_set(info, k, v);
	json_object_foreach(t->info_type, k, v) {
		char key[300];
		snprintf(key, sizeof(key), "%s.type", k);
		json_object_set(info, key, v);
	}
	if (t->type && t->type->filter_info)
		t->type->filter_info(info);
	json_t *d = json_object();
	json_object_set_new(d, "id", json_integer(t->r.id));
	json_object_set_new(d, "description", json_string(t->r.description));
	json_object_set_new(d, "serial", json_string(t->r.serial));
	json_object_set_new(d, "tokentype", json_string(t->r.tokentype));
	json_object_set_new(d, "info", info);
	json_object_set_new(d, "resolver", json_string(t->r.resolver ? t->r.resolver : ""));
	json_object_set_new(d, "user_id", json_string(t->r.user_id ? t->r.user_id : ""));
	json_object_set_new(d, "otplen", json_integer(t->r.otplen));
	json_object_set_new(d, "maxfail", json_integer(t->r.maxfail));
	json_object_set_new(d, "active", json_boolean(t->r.active));
	json_object_set_new(d, "revoked", json_boolean(t->r.revoked));
	json_object_set_new(d, "locked", json_boolean(t->r.locked));
	json_object_set_new(d, "failcount", json_integer(t->r.failcount));
	json_object_set_new(d, "count", json_integer(t->r.count));
	json_object_set_new(d, "count_window", json_integer(t->r.count_window));
	json_object_set_new(d, "sync_window", json_integer(t->r.sync_window));
	json_object_set_new(d, "rollout_state", json_string(t->r.rollout_state));
	json_object_set(d, "realms", realms);
	json_object_set_new(d, "tokengroup", json_array());
	json_object_set_new(d, "username", json_string(""));
	json_object_set_new(d, "user_realm", json_string(""));
	if (t->r.resolver && t->r.user_id && *t->r.user_id) {
		const char *realm = t->r.owner_realm_id > 0 ? realm_name_by_id(x->snap, t->r.owner_realm_id) : NULL;
		struct user u;
		struct error uerr = { 0 };
		int rc = user_from_uid(x->snap, x->c, t->r.resolver, t->r.user_id, realm ? realm : "", &u, &uerr);
		if (rc < 0) {
			json_object_set_new(d, "username", json_string("**resolver error**"));
		} else if (rc == 0 && u.login[0] && realm) {
			json_object_set_new(d, "username", json_string(u.login));
			json_object_set_new(d, "user_realm", json_string(realm));
			struct resolver *res = realm_resolver(x->snap, t->r.resolver);
			int editable = res && res->type && res->type->editable ? res->type->editable(res) : 0;
			json_object_set_new(d, "user_editable", json_boolean(editable));
		}
	}
	return d;
}
