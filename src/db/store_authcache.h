/*
 * store_authcache.h — the `authcache` table (privacyIDEA's AuthCache
 * model): cached successful authentications of the
 * authentication.auth_cache policy.  `authentication` holds a keyed,
 * salted hash of the password (src/lib/token_authcache.c), never the
 * password.  Writes run in the caller's transaction.
 */
#ifndef TESSERA_STORE_AUTHCACHE_H
#define TESSERA_STORE_AUTHCACHE_H

#include <stdint.h>

#include "db.h"
#include "../lib/error.h"

struct store_authcache_row {
	int64_t id;
	char first_auth[DB_TS_LEN];
	char last_auth[DB_TS_LEN];
	int64_t auth_count;
	char *authentication;
};

/* Every entry of (username, realm, resolver) in id order; fn gets each row
 * (it takes what it keeps: authentication is freed after the call);
 * non-zero stops. */
int store_authcache_list(struct db_conn *c, const char *username, const char *realm, const char *resolver,
			 int (*fn)(void *ctx, struct store_authcache_row *r), void *ctx, struct error *err);
/* A new entry: first_auth = last_auth = now, auth_count 0. */
int store_authcache_insert(struct db_conn *c, const char *username, const char *realm, const char *resolver,
			   const char *authentication, const char *now, struct error *err);
/* One use: last_auth = now, auth_count + 1 — when max_auths > 0 only while
 * auth_count < max_auths (one conditional UPDATE, so parallel uses never
 * pass the limit).  *ok = 1 when the row changed. */
int store_authcache_use(struct db_conn *c, int64_t id, const char *now, int64_t max_auths, int *ok,
			struct error *err);
int store_authcache_delete(struct db_conn *c, int64_t id, struct error *err);

#endif
