/*
 * token_authcache.c — authentication.auth_cache (privacyIDEA's
 * policydecorators.auth_cache and lib/authcache.py).
 *
 * Value "<max-age>[/<last-use-age>|/<count>]": an entry written after a
 * successful check_user_pass is accepted again while first_auth is newer
 * than max-age and last_auth newer than last-use-age (default max-age); a
 * count allows that many uses.  A use sets last_auth and counts one in one
 * conditional UPDATE (store_authcache_use), so parallel requests never use
 * an entry more often than allowed.  When nothing matched, the user's
 * entries that are expired, used up or hold these credentials are deleted,
 * as privacyIDEA's delete_from_cache does.
 *
 * The credentials are never stored: `authentication` is
 *     "tac1$<hex salt 16 bytes>$<hex HMAC-SHA256(K, salt || user || pass)>"
 * with K derived (HKDF-SHA256, own label) from the key file's value slot,
 * as pin.c does for PINs (privacyIDEA uses argon2; docs/security.md).
 * Comparisons are constant-time.  No SQL here (store_authcache.c).
 */
#include "token_authcache.h"
#include "token_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/crypto.h>

#include "app.h"
#include "crypto.h"
#include "log.h"
#include "polaudit.h"
#include "polctx.h"
#include "../db/store_authcache.h"

#define AC_PREFIX "tac1$"
#define AC_HKDF_INFO "tessera authcache v1"

/* ---- the keyed hash (crypto_keyed.c) ----
 * HMAC over salt || username NUL realm NUL resolver NUL pass: an entry can
 * only ever verify for the user it was written for. */

static void cache_parts(const struct user *u, const char *pass, struct crypto_part parts[4])
{
	parts[0] = (struct crypto_part){ u->login, strlen(u->login) + 1 };
	parts[1] = (struct crypto_part){ u->realm, strlen(u->realm) + 1 };
	parts[2] = (struct crypto_part){ u->resolver, strlen(u->resolver) + 1 };
	parts[3] = (struct crypto_part){ pass, strlen(pass) };
}

static char *cache_hash(const struct enckey *k, const struct user *u, const char *pass)
{
	struct crypto_part parts[4];
	cache_parts(u, pass, parts);
	return crypto_keyed_hash(k, AC_HKDF_INFO, AC_PREFIX, parts, 4);
}

/* 1 the stored entry holds these credentials, 0 not (or unreadable). */
static int cache_verify(const struct enckey *k, const char *stored, const struct user *u, const char *pass)
{
	struct crypto_part parts[4];
	cache_parts(u, pass, parts);
	return crypto_keyed_hash_verify(k, AC_HKDF_INFO, AC_PREFIX, stored, parts, 4) == 1;
}

/* ---- the policy value (token_parse_timedelta: token_impl.h) ---- */

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

struct ac_limits {
	long long first_age, last_age; /* seconds */
	long long max_auths;           /* 0: no count */
};

/* "4h", "4h/5m", "2m/3" (privacyIDEA splits at every "/" and uses the
 * second part only when there are exactly two).  0 ok, -1 unreadable. */
static int parse_value(const char *v, struct ac_limits *l)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", v);
	char *parts[3] = { buf, NULL, NULL };
	int np = 1;
	for (char *p = buf; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (np < 3)
				parts[np] = p + 1;
			np++;
		}
	if (token_parse_timedelta(parts[0], &l->first_age) < 0)
		return -1;
	l->last_age = l->first_age;
	l->max_auths = 0;
	if (np == 2) {
		if (all_digits(parts[1])) {
			char *end;
			l->max_auths = strtoll(parts[1], &end, 10);
		} else if (token_parse_timedelta(parts[1], &l->last_age) < 0) {
			return -1;
		}
	}
	return 0;
}

/* ---- verify_in_cache ---- */

struct ac_rows {
	struct store_authcache_row *v;
	size_t n, cap;
};

static int collect(void *ctx, struct store_authcache_row *r)
{
	struct ac_rows *rs = ctx;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 8;
		struct store_authcache_row *v = realloc(rs->v, cap * sizeof(*v));
		if (!v)
			return 1;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n] = *r;
	rs->v[rs->n++].authentication = r->authentication;
	r->authentication = NULL; /* taken */
	return 0;
}

static void rows_free(struct ac_rows *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].authentication);
	free(rs->v);
}

static void ts_ago(char buf[DB_TS_LEN], const struct timeval *now, long long secs)
{
	db_timestamp(buf, (int64_t)now->tv_sec - secs, (long)now->tv_usec);
}

/* 1 accepted (one use counted), 0 not; -1 error. */
static int verify_in_cache(struct token_ctx *x, const struct user *u, const char *pass, const struct ac_limits *l,
			   struct error *err)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	char now[DB_TS_LEN], first_min[DB_TS_LEN], last_min[DB_TS_LEN];
	db_timestamp(now, (int64_t)tv.tv_sec, (long)tv.tv_usec);
	ts_ago(first_min, &tv, l->first_age);
	ts_ago(last_min, &tv, l->last_age);
	const struct enckey *k = x->app ? x->app->enckey : NULL;
	struct ac_rows rs = { 0 };
	size_t want = 0;
	if (store_authcache_list(x->c, u->login, u->realm, u->resolver, collect, &rs, err) < 0) {
		rows_free(&rs);
		return -1;
	}
	int rc = -1, result = 0;
	char *matches = NULL;
	if (!rs.n) {
		rc = 0; /* nothing cached: no write */
		goto out;
	}
	/* matches[i]: the entry holds these credentials (hashed once each) */
	matches = calloc(rs.n, 1);
	if (!matches) {
		err_internal(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < rs.n; i++)
		matches[i] = (char)cache_verify(k, rs.v[i].authentication, u, pass);
	if (db_begin_write(x->c, err) < 0)
		goto out;
	for (size_t i = 0; i < rs.n && !result; i++) {
		const struct store_authcache_row *r = &rs.v[i];
		if (!(strcmp(r->first_auth, first_min) > 0 && strcmp(r->last_auth, last_min) > 0) || !matches[i])
			continue;
		int ok = 0;
		if (store_authcache_use(x->c, r->id, now, l->max_auths, &ok, err) < 0)
			goto fail;
		result = ok;
	}
	if (!result) {
		/* delete_from_cache: used up, older than max-age, or these
		 * credentials */
		for (size_t i = 0; i < rs.n; i++) {
			const struct store_authcache_row *r = &rs.v[i];
			if ((l->max_auths > 0 && r->auth_count >= l->max_auths) || strcmp(r->first_auth, first_min) < 0 ||
			    matches[i]) {
				if (store_authcache_delete(x->c, r->id, err) < 0)
					goto fail;
				want++;
			}
		}
	}
	if (db_commit(x->c, err) < 0)
		goto fail;
	if (want)
		log_debug("auth_cache: %zu old entries of %s@%s deleted", want, u->login, u->realm);
	rc = result;
	goto out;
fail:
	db_rollback(x->c);
out:
	free(matches);
	rows_free(&rs);
	return rc;
}

/* ---- the decorator ---- */

int token_authcache_check(struct token_ctx *x, const struct user *u, const char *pass, int *on,
			  struct token_auth_result *res, struct error *err)
{
	*on = 0;
	if (polctx_scope_active(x->pol, "authentication") == 0)
		return 0;
	/* policy: authentication.auth_cache */
	struct polaudit qa;
	struct polq q = { .scope = "authentication", .action = "auth_cache", .user = u };
	char *v = NULL;
	int rc = polctx_value(polaudit_quiet(&qa, x->pol), &q, 0, &v, err);
	if (rc <= 0)
		return rc;
	struct ac_limits l;
	if (parse_value(v, &l) < 0) {
		log_warning("authentication.auth_cache: unsupported value '%s' ignored", v);
		free(v);
		return 0;
	}
	free(v);
	*on = 1;
	rc = verify_in_cache(x, u, pass ? pass : "", &l, err);
	if (rc != 1)
		return rc;
	polaudit_commit(&qa, x->pol);
	memset(res, 0, sizeof(*res));
	res->detail = json_pack("{s:s}", "message", "Authenticated by AuthCache.");
	if (!res->detail)
		return err_internal(err, "out of memory");
	res->success = 1;
	res->authentication = "ACCEPT";
	return 1;
}

int token_authcache_add(struct token_ctx *x, const struct user *u, const char *pass, struct error *err)
{
	char *h = cache_hash(x->app ? x->app->enckey : NULL, u, pass ? pass : "");
	if (!h)
		return err_internal(err, "cannot hash the credentials for the authentication cache");
	char now[DB_TS_LEN];
	db_timestamp_now(now);
	int rc = -1;
	if (db_begin_write(x->c, err) == 0 &&
	    store_authcache_insert(x->c, u->login, u->realm, u->resolver, h, now, err) == 0 && db_commit(x->c, err) == 0)
		rc = 0;
	else
		db_rollback(x->c);
	free(h);
	return rc;
}
