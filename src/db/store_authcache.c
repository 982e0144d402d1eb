/*
 * store_authcache.c — see store_authcache.h.  SQL on `authcache` only; no
 * hashing and no policy decisions here (src/lib/token_authcache.c), no
 * commits (the caller's transaction).
 */
#include "store_authcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_authcache_list(struct db_conn *c, const char *username, const char *realm, const char *resolver,
			 int (*fn)(void *ctx, struct store_authcache_row *r), void *ctx, struct error *err)
{
	struct db_param p[] = { DB_TEXT(username), DB_TEXT(realm), DB_TEXT(resolver) };
	struct db_res *res = NULL;
	if (db_query(c,
		     "SELECT id, first_auth, last_auth, auth_count, authentication FROM authcache "
		     "WHERE username = ? AND realm = ? AND resolver = ? ORDER BY id",
		     p, 3, &res, err) < 0)
		return -1;
	int rc;
	while ((rc = db_res_next(res, err)) == 1) {
		struct store_authcache_row r = { .id = db_res_int(res, 0), .auth_count = db_res_int(res, 3) };
		const char *fa = db_res_text(res, 1), *la = db_res_text(res, 2), *au = db_res_text(res, 4);
		snprintf(r.first_auth, sizeof(r.first_auth), "%s", fa ? fa : "");
		snprintf(r.last_auth, sizeof(r.last_auth), "%s", la ? la : "");
		r.authentication = strdup(au ? au : "");
		if (!r.authentication) {
			rc = err_internal(err, "out of memory");
			break;
		}
		int stop = fn(ctx, &r);
		free(r.authentication);
		if (stop)
			break;
	}
	db_res_free(res);
	return rc < 0 ? -1 : 0;
}

int store_authcache_insert(struct db_conn *c, const char *username, const char *realm, const char *resolver,
			   const char *authentication, const char *now, struct error *err)
{
	struct db_param p[] = { DB_TEXT(now), DB_TEXT(now), DB_TEXT(username), DB_TEXT(resolver), DB_TEXT(realm),
				DB_TEXT(authentication) };
	return db_exec(c,
		       "INSERT INTO authcache (first_auth, last_auth, username, resolver, realm, client_ip, "
		       "user_agent, auth_count, authentication) VALUES (?, ?, ?, ?, ?, '', '', 0, ?)",
		       p, 6, NULL, err);
}

int store_authcache_use(struct db_conn *c, int64_t id, const char *now, int64_t max_auths, int *ok,
			struct error *err)
{
	int64_t n = 0;
	int rc;
	*ok = 0;
	if (max_auths > 0) {
		struct db_param p[] = { DB_TEXT(now), DB_INT(id), DB_INT(max_auths) };
		rc = db_exec(c,
			     "UPDATE authcache SET last_auth = ?, auth_count = auth_count + 1 "
			     "WHERE id = ? AND auth_count < ?",
			     p, 3, &n, err);
	} else {
		struct db_param p[] = { DB_TEXT(now), DB_INT(id) };
		rc = db_exec(c, "UPDATE authcache SET last_auth = ?, auth_count = auth_count + 1 WHERE id = ?", p, 2,
			     &n, err);
	}
	if (rc < 0)
		return -1;
	*ok = n == 1;
	return 0;
}

int store_authcache_delete(struct db_conn *c, int64_t id, struct error *err)
{
	struct db_param p[] = { DB_INT(id) };
	return db_exec(c, "DELETE FROM authcache WHERE id = ?", p, 1, NULL, err);
}
