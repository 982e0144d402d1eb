/*
 * store_token.c — SQL of the token tables (store_token.h): token,
 * tokeninfo, tokenowner, tokenrealm, challenge.
 *
 * Statements are static literals with bound values; the only run-time SQL
 * is the token/challenge search, assembled from fixed fragments.  Nothing
 * here decides, encrypts or commits: the token core owns transactions.
 */
#include "store_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/crypto.h"

static char *dup_col(struct db_res *r, int col)
{
	const char *s = db_res_text(r, col);
	return strdup(s ? s : "");
}

static void wipe_free(char **p)
{
	if (*p) {
		crypto_free_str(*p);
		*p = NULL;
	}
}

void store_token_row_clear(struct store_token_row *r)
{
	if (!r)
		return;
	free(r->serial);
	free(r->tokentype);
	free(r->description);
	wipe_free(&r->pin_hash);
	wipe_free(&r->pin_seed);
	wipe_free(&r->key_enc);
	wipe_free(&r->key_iv);
	wipe_free(&r->user_pin);
	wipe_free(&r->user_pin_iv);
	wipe_free(&r->so_pin);
	wipe_free(&r->so_pin_iv);
	free(r->rollout_state);
	free(r->resolver);
	free(r->user_id);
	memset(r, 0, sizeof(*r));
}

/* The columns every row query selects, in the order read_row expects. */
#define TOKEN_COLS                                                                                      \
	"t.id, t.serial, t.tokentype, t.description, t.pin_hash, t.pin_seed, t.key_enc, t.key_iv, "     \
	"t.user_pin, t.user_pin_iv, t.so_pin, t.so_pin_iv, t.rollout_state, t.otplen, t.maxfail, "       \
	"t.failcount, t.count_window, t.sync_window, t.active, t.revoked, t.locked, t.\"count\", "       \
	"o.resolver, o.user_id, o.realm_id"
/* The first owner.  "o.token_id = t.id" keeps every plan on the token_id
 * index: with the min(id) condition alone SQLite may pick a scan of all
 * owners per token when its statistics are stale. */
#define OWNER_JOIN                                                                                     \
	" LEFT JOIN tokenowner o ON o.token_id = t.id AND o.id = (SELECT min(o2.id) FROM tokenowner o2 "     \
	"WHERE o2.token_id = t.id)"

static int read_row(struct db_res *r, struct store_token_row *out)
{
	memset(out, 0, sizeof(*out));
	out->id = db_res_int(r, 0);
	out->serial = dup_col(r, 1);
	out->tokentype = dup_col(r, 2);
	out->description = dup_col(r, 3);
	out->pin_hash = dup_col(r, 4);
	out->pin_seed = dup_col(r, 5);
	out->key_enc = dup_col(r, 6);
	out->key_iv = dup_col(r, 7);
	out->user_pin = dup_col(r, 8);
	out->user_pin_iv = dup_col(r, 9);
	out->so_pin = dup_col(r, 10);
	out->so_pin_iv = dup_col(r, 11);
	out->rollout_state = dup_col(r, 12);
	out->otplen = (int)db_res_int(r, 13);
	out->maxfail = (int)db_res_int(r, 14);
	out->failcount = (int)db_res_int(r, 15);
	out->count_window = (int)db_res_int(r, 16);
	out->sync_window = (int)db_res_int(r, 17);
	out->active = db_res_int(r, 18) != 0;
	out->revoked = db_res_int(r, 19) != 0;
	out->locked = db_res_int(r, 20) != 0;
	out->count = db_res_int(r, 21);
	if (!db_res_isnull(r, 22)) {
		out->resolver = dup_col(r, 22);
		out->user_id = dup_col(r, 23);
		out->owner_realm_id = db_res_isnull(r, 24) ? -1 : db_res_int(r, 24);
	} else {
		out->owner_realm_id = -1;
	}
	if (!out->serial || !out->tokentype || !out->description || !out->pin_hash || !out->pin_seed ||
	    !out->key_enc || !out->key_iv || !out->user_pin || !out->user_pin_iv || !out->so_pin ||
	    !out->so_pin_iv || !out->rollout_state || (db_res_isnull(r, 22) == 0 && (!out->resolver || !out->user_id))) {
		store_token_row_clear(out);
		return -1;
	}
	return 0;
}

/* SELECT count(*) assembled at run time (never cached). */
static int count_once(struct db_conn *c, const char *sql, const struct db_param *p, int np, int64_t *n,
		      struct error *err)
{
	struct db_res *r = NULL;
	if (db_query_once(c, sql, p, np, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	*n = rc == 1 ? db_res_int(r, 0) : 0;
	db_res_free(r);
	return rc < 0 ? -1 : 0;
}

static int get_one(struct db_conn *c, const char *sql, const struct db_param *p, int np,
		   struct store_token_row *out, struct error *err)
{
	struct db_res *r = NULL;
	if (db_query(c, sql, p, np, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1) {
		if (read_row(r, out) < 0) {
			db_res_free(r);
			return err_internal(err, "out of memory reading a token");
		}
		rc = 0;
	} else if (rc == 0) {
		rc = 1;
	}
	db_res_free(r);
	return rc;
}

int store_token_get(struct db_conn *c, const char *serial, struct store_token_row *out, struct error *err)
{
	struct db_param p[] = { DB_TEXT(serial) };
	return get_one(c, "SELECT " TOKEN_COLS " FROM token t" OWNER_JOIN " WHERE t.serial = ?", p, 1, out, err);
}

int store_token_get_id(struct db_conn *c, int64_t id, struct store_token_row *out, struct error *err)
{
	struct db_param p[] = { DB_INT(id) };
	return get_one(c, "SELECT " TOKEN_COLS " FROM token t" OWNER_JOIN " WHERE t.id = ?", p, 1, out, err);
}

static int each_row(struct db_res *r, int (*fn)(void *, struct store_token_row *), void *ctx, struct error *err)
{
	int rc;
	while ((rc = db_res_next(r, err)) == 1) {
		struct store_token_row row;
		if (read_row(r, &row) < 0)
			return err_internal(err, "out of memory reading a token");
		int stop = fn(ctx, &row);
		store_token_row_clear(&row);
		if (stop)
			return 0;
	}
	return rc < 0 ? -1 : 0;
}

int store_token_by_owner(struct db_conn *c, const char *resolver, const char *user_id, int64_t realm_id,
			 int (*fn)(void *ctx, struct store_token_row *r), void *ctx, struct error *err)
{
	struct db_param p[] = { DB_TEXT(user_id), DB_TEXT(resolver), DB_INT(realm_id) };
	struct db_res *r = NULL;
	if (db_query(c,
		     "SELECT t.id, t.serial, t.tokentype, t.description, t.pin_hash, t.pin_seed, t.key_enc, "
		     "t.key_iv, t.user_pin, t.user_pin_iv, t.so_pin, t.so_pin_iv, t.rollout_state, t.otplen, "
		     "t.maxfail, t.failcount, t.count_window, t.sync_window, t.active, t.revoked, t.locked, "
		     "t.\"count\", o.resolver, o.user_id, o.realm_id "
		     "FROM tokenowner o JOIN token t ON t.id = o.token_id "
		     "WHERE o.user_id = ? AND o.resolver = ? AND (CAST(? AS BIGINT) < 0 OR o.realm_id = ?) "
		     "ORDER BY t.id",
		     (struct db_param[]){ p[0], p[1], p[2], p[2] }, 4, &r, err) < 0)
		return -1;
	int rc = each_row(r, fn, ctx, err);
	db_res_free(r);
	return rc;
}

static const char *s0(const char *s)
{
	return s ? s : "";
}

int store_token_insert(struct db_conn *c, struct store_token_row *r, struct error *err)
{
	struct db_param p[] = {
		DB_TEXT(s0(r->description)), DB_TEXT(r->serial),	 DB_TEXT(r->tokentype),
		DB_TEXT(s0(r->user_pin)),    DB_TEXT(s0(r->user_pin_iv)), DB_TEXT(s0(r->so_pin)),
		DB_TEXT(s0(r->so_pin_iv)),   DB_TEXT(s0(r->pin_seed)),	 DB_INT(r->otplen),
		DB_TEXT(s0(r->pin_hash)),    DB_TEXT(s0(r->key_enc)),	 DB_TEXT(s0(r->key_iv)),
		DB_INT(r->maxfail),	     DB_INT(r->active),		 DB_INT(r->revoked),
		DB_INT(r->locked),	     DB_INT(r->failcount),	 DB_INT(r->count),
		DB_INT(r->count_window),     DB_INT(r->sync_window),	 DB_TEXT(s0(r->rollout_state)),
	};
	int64_t id = 0;
	int found = 0;
	if (db_query_int(c,
			 "INSERT INTO token (description, serial, tokentype, user_pin, user_pin_iv, so_pin, "
			 "so_pin_iv, pin_seed, otplen, pin_hash, key_enc, key_iv, maxfail, active, revoked, locked, "
			 "failcount, \"count\", count_window, sync_window, rollout_state) "
			 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
			 "ON CONFLICT (serial) DO NOTHING RETURNING id",
			 p, (int)(sizeof(p) / sizeof(p[0])), &id, &found, err) < 0)
		return -1;
	if (!found)
		return 1;
	r->id = id;
	return 0;
}

int store_token_update(struct db_conn *c, const struct store_token_row *r, struct error *err)
{
	struct db_param p[] = {
		DB_TEXT(s0(r->description)), DB_TEXT(r->tokentype),	  DB_TEXT(s0(r->user_pin)),
		DB_TEXT(s0(r->user_pin_iv)), DB_TEXT(s0(r->so_pin)),	  DB_TEXT(s0(r->so_pin_iv)),
		DB_TEXT(s0(r->pin_seed)),    DB_INT(r->otplen),		  DB_TEXT(s0(r->pin_hash)),
		DB_TEXT(s0(r->key_enc)),     DB_TEXT(s0(r->key_iv)),	  DB_INT(r->maxfail),
		DB_INT(r->active),	     DB_INT(r->revoked),	  DB_INT(r->locked),
		DB_INT(r->failcount),	     DB_INT(r->count),		  DB_INT(r->count_window),
		DB_INT(r->sync_window),	     DB_TEXT(s0(r->rollout_state)), DB_INT(r->id),
	};
	return db_exec(c,
		       "UPDATE token SET description = ?, tokentype = ?, user_pin = ?, user_pin_iv = ?, so_pin = ?, "
		       "so_pin_iv = ?, pin_seed = ?, otplen = ?, pin_hash = ?, key_enc = ?, key_iv = ?, maxfail = ?, "
		       "active = ?, revoked = ?, locked = ?, failcount = ?, \"count\" = ?, count_window = ?, "
		       "sync_window = ?, rollout_state = ? WHERE id = ?",
		       p, (int)(sizeof(p) / sizeof(p[0])), NULL, err);
}

int store_token_delete(struct db_conn *c, int64_t id, const char *serial, struct error *err)
{
	struct db_param ps[] = { DB_TEXT(serial) };
	struct db_param pi[] = { DB_INT(id) };
	if (db_exec(c, "DELETE FROM challenge WHERE serial = ?", ps, 1, NULL, err) < 0)
		return -1;
	/* The children cascade; delete them explicitly all the same, so a
	 * database created without the foreign keys (or SQLite with them off)
	 * keeps nothing behind. */
	if (db_exec(c, "DELETE FROM tokeninfo WHERE token_id = ?", pi, 1, NULL, err) < 0 ||
	    db_exec(c, "DELETE FROM tokenowner WHERE token_id = ?", pi, 1, NULL, err) < 0 ||
	    db_exec(c, "DELETE FROM tokenrealm WHERE token_id = ?", pi, 1, NULL, err) < 0 ||
	    db_exec(c, "DELETE FROM tokentokengroup WHERE token_id = ?", pi, 1, NULL, err) < 0 ||
	    db_exec(c, "DELETE FROM machinetoken WHERE token_id = ?", pi, 1, NULL, err) < 0)
		return -1;
	return db_exec(c, "DELETE FROM token WHERE id = ?", pi, 1, NULL, err);
}

int64_t store_token_count_type(struct db_conn *c, const char *tokentype, struct error *err)
{
	struct db_param p[] = { DB_TEXT(tokentype) };
	int64_t n = 0;
	if (db_query_int(c, "SELECT count(*) FROM token WHERE tokentype = ?", p, 1, &n, NULL, err) < 0)
		return -1;
	return n;
}

int store_token_serial_exists(struct db_conn *c, const char *serial, struct error *err)
{
	struct db_param p[] = { DB_TEXT(serial) };
	int64_t n = 0;
	int found = 0;
	if (db_query_int(c, "SELECT id FROM token WHERE serial = ?", p, 1, &n, &found, err) < 0)
		return -1;
	return found ? 1 : 0;
}

int store_token_consume_count(struct db_conn *c, int64_t id, int64_t new_count, int *ok, struct error *err)
{
	struct db_param p[] = { DB_INT(new_count), DB_INT(id), DB_INT(new_count) };
	int64_t n = 0;
	if (db_exec(c, "UPDATE token SET \"count\" = ? WHERE id = ? AND \"count\" < ?", p, 3, &n, err) < 0)
		return -1;
	*ok = n == 1;
	return 0;
}

int store_token_inc_failcount(struct db_conn *c, int64_t id, int *failcount, int *maxfail, int *changed,
			      struct error *err)
{
	struct db_param p[] = { DB_INT(id) };
	int64_t n = 0;
	if (db_exec(c, "UPDATE token SET failcount = failcount + 1 WHERE id = ? AND failcount < maxfail", p, 1, &n,
		    err) < 0)
		return -1;
	*changed = n == 1;
	struct db_res *r = NULL;
	if (db_query(c, "SELECT failcount, maxfail FROM token WHERE id = ?", p, 1, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1) {
		*failcount = (int)db_res_int(r, 0);
		*maxfail = (int)db_res_int(r, 1);
	}
	db_res_free(r);
	return rc < 0 ? -1 : 0;
}

int store_token_set_failcount(struct db_conn *c, int64_t id, int failcount, struct error *err)
{
	struct db_param p[] = { DB_INT(failcount), DB_INT(id) };
	return db_exec(c, "UPDATE token SET failcount = ? WHERE id = ?", p, 2, NULL, err);
}

int store_token_state(struct db_conn *c, int64_t id, struct store_token_state *st, struct error *err)
{
	struct db_param p[] = { DB_INT(id) };
	struct db_res *r = NULL;
	if (db_query(c, "SELECT active, revoked, locked, failcount, maxfail, \"count\" FROM token WHERE id = ?", p, 1,
		     &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1) {
		st->active = db_res_int(r, 0) != 0;
		st->revoked = db_res_int(r, 1) != 0;
		st->locked = db_res_int(r, 2) != 0;
		st->failcount = (int)db_res_int(r, 3);
		st->maxfail = (int)db_res_int(r, 4);
		st->count = db_res_int(r, 5);
		rc = 0;
	} else if (rc == 0) {
		rc = 1;
	}
	db_res_free(r);
	return rc;
}

int store_token_rehash_pin(struct db_conn *c, int64_t id, const char *old_hash, const char *new_hash,
			   struct error *err)
{
	struct db_param p[] = { DB_TEXT(new_hash), DB_TEXT(""), DB_INT(id), DB_TEXT(old_hash) };
	return db_exec(c, "UPDATE token SET pin_hash = ?, pin_seed = ? WHERE id = ? AND pin_hash = ?", p, 4, NULL,
		       err);
}

/* ---- tokeninfo ---- */

int store_tokeninfo_load(struct db_conn *c, int64_t token_id, json_t **info, json_t **types, struct error *err)
{
	struct db_param p[] = { DB_INT(token_id) };
	struct db_res *r = NULL;
	json_t *i = json_object(), *t = json_object();
	if (!i || !t || db_query(c, "SELECT \"Key\", \"Value\", \"Type\" FROM tokeninfo WHERE token_id = ? ORDER BY id",
				 p, 1, &r, err) < 0) {
		json_decref(i);
		json_decref(t);
		return err_is_set(err) ? -1 : err_internal(err, "out of memory");
	}
	int rc;
	while ((rc = db_res_next(r, err)) == 1) {
		const char *k = db_res_text(r, 0);
		const char *v = db_res_text(r, 1);
		const char *ty = db_res_text(r, 2);
		if (!k)
			continue;
		json_object_set_new(i, k, json_string(v ? v : ""));
		if (ty && *ty)
			json_object_set_new(t, k, json_string(ty));
	}
	db_res_free(r);
	if (rc < 0) {
		json_decref(i);
		json_decref(t);
		return -1;
	}
	*info = i;
	if (types)
		*types = t;
	else
		json_decref(t);
	return 0;
}

int store_tokeninfo_get(struct db_conn *c, int64_t token_id, const char *key, char **value, struct error *err)
{
	struct db_param p[] = { DB_INT(token_id), DB_TEXT(key) };
	struct db_res *r = NULL;
	if (db_query(c, "SELECT \"Value\" FROM tokeninfo WHERE token_id = ? AND \"Key\" = ?", p, 2, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1) {
		*value = dup_col(r, 0);
		rc = *value ? 0 : err_internal(err, "out of memory");
	} else if (rc == 0) {
		rc = 1;
	}
	db_res_free(r);
	return rc;
}

int store_tokeninfo_set(struct db_conn *c, int64_t token_id, const char *key, const char *value,
			const char *type, struct error *err)
{
	struct db_param p[] = { DB_INT(token_id), DB_TEXT(key), DB_TEXT(s0(value)), DB_TEXT(s0(type)) };
	return db_exec(c,
		       "INSERT INTO tokeninfo (token_id, \"Key\", \"Value\", \"Type\", \"Description\") "
		       "VALUES (?, ?, ?, ?, '') ON CONFLICT (token_id, \"Key\") DO UPDATE SET "
		       "\"Value\" = excluded.\"Value\", \"Type\" = excluded.\"Type\"",
		       p, 4, NULL, err);
}

int store_tokeninfo_set_many(struct db_conn *c, int64_t token_id, const char *const *keys,
			     const char *const *values, int n, struct error *err)
{
	static const char *const sql[3] = {
		"INSERT INTO tokeninfo (token_id, \"Key\", \"Value\", \"Type\", \"Description\") VALUES (?, ?, ?, '', '') "
		"ON CONFLICT (token_id, \"Key\") DO UPDATE SET \"Value\" = excluded.\"Value\", \"Type\" = ''",
		"INSERT INTO tokeninfo (token_id, \"Key\", \"Value\", \"Type\", \"Description\") VALUES (?, ?, ?, '', ''), "
		"(?, ?, ?, '', '') "
		"ON CONFLICT (token_id, \"Key\") DO UPDATE SET \"Value\" = excluded.\"Value\", \"Type\" = ''",
		"INSERT INTO tokeninfo (token_id, \"Key\", \"Value\", \"Type\", \"Description\") VALUES (?, ?, ?, '', ''), "
		"(?, ?, ?, '', ''), (?, ?, ?, '', '') "
		"ON CONFLICT (token_id, \"Key\") DO UPDATE SET \"Value\" = excluded.\"Value\", \"Type\" = ''",
	};
	if (n < 1 || n > 3)
		return err_internal(err, "store_tokeninfo_set_many: 1 to 3 entries");
	struct db_param p[9];
	for (int i = 0; i < n; i++) {
		p[3 * i] = DB_INT(token_id);
		p[3 * i + 1] = DB_TEXT(keys[i]);
		p[3 * i + 2] = DB_TEXT(s0(values[i]));
	}
	return db_exec(c, sql[n - 1], p, 3 * n, NULL, err);
}

int store_tokeninfo_delete(struct db_conn *c, int64_t token_id, const char *key, int64_t *affected,
			   struct error *err)
{
	struct db_param p[] = { DB_INT(token_id), DB_TEXT(key) };
	return db_exec(c, "DELETE FROM tokeninfo WHERE token_id = ? AND \"Key\" = ?", p, 2, affected, err);
}

int store_tokeninfo_delete_all(struct db_conn *c, int64_t token_id, struct error *err)
{
	struct db_param p[] = { DB_INT(token_id) };
	return db_exec(c, "DELETE FROM tokeninfo WHERE token_id = ?", p, 1, NULL, err);
}

/* ---- owner and realms ---- */

int store_token_set_owner(struct db_conn *c, int64_t token_id, const char *resolver, const char *user_id,
			  int64_t realm_id, struct error *err)
{
	struct db_param p[] = { DB_INT(token_id) };
	if (db_exec(c, "DELETE FROM tokenowner WHERE token_id = ?", p, 1, NULL, err) < 0)
		return -1;
	if (!resolver)
		return 0;
	struct db_param q[] = { DB_INT(token_id), DB_TEXT(resolver), DB_TEXT(s0(user_id)),
				realm_id > 0 ? DB_INT(realm_id) : DB_NULLP };
	return db_exec(c, "INSERT INTO tokenowner (token_id, resolver, user_id, realm_id) VALUES (?, ?, ?, ?)", q, 4,
		       NULL, err);
}

int store_tokenrealm_names(struct db_conn *c, int64_t token_id, json_t **names, struct error *err)
{
	struct db_param p[] = { DB_INT(token_id) };
	struct db_res *r = NULL;
	json_t *a = json_array();
	if (!a)
		return err_internal(err, "out of memory");
	if (db_query(c,
		     "SELECT r.name FROM tokenrealm tr JOIN realm r ON r.id = tr.realm_id WHERE tr.token_id = ? "
		     "ORDER BY tr.id",
		     p, 1, &r, err) < 0) {
		json_decref(a);
		return -1;
	}
	int rc;
	while ((rc = db_res_next(r, err)) == 1) {
		const char *n = db_res_text(r, 0);
		json_array_append_new(a, json_string(n ? n : ""));
	}
	db_res_free(r);
	if (rc < 0) {
		json_decref(a);
		return -1;
	}
	*names = a;
	return 0;
}

int store_tokenrealm_add(struct db_conn *c, int64_t token_id, int64_t realm_id, struct error *err)
{
	struct db_param p[] = { DB_INT(token_id), DB_INT(realm_id) };
	return db_exec(c,
		       "INSERT INTO tokenrealm (token_id, realm_id) VALUES (?, ?) "
		       "ON CONFLICT (token_id, realm_id) DO NOTHING",
		       p, 2, NULL, err);
}

int store_tokenrealm_set(struct db_conn *c, int64_t token_id, const int64_t *realm_ids, size_t n,
			 struct error *err)
{
	struct db_param p[] = { DB_INT(token_id) };
	if (db_exec(c, "DELETE FROM tokenrealm WHERE token_id = ?", p, 1, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (store_tokenrealm_add(c, token_id, realm_ids[i], err) < 0)
			return -1;
	return 0;
}

/* ---- search ---- */

void store_token_filter_init(struct store_token_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->owner_realm_id = -1;
	f->tokenrealm_id = -1;
	f->assigned = -1;
	f->active = -1;
}

static const char *const SORTABLE[] = { "id",	     "description", "serial",	  "tokentype", "otplen",
					"maxfail",   "active",	    "revoked",	  "locked",    "failcount",
					"count",     "count_window", "sync_window", "rollout_state", NULL };

const char *store_token_sort_column(const char *name)
{
	static const char *const quoted[] = { "t.id",	       "t.description", "t.serial",	 "t.tokentype",
					      "t.otplen",      "t.maxfail",	"t.active",	 "t.revoked",
					      "t.locked",      "t.failcount",	"t.\"count\"",	 "t.count_window",
					      "t.sync_window", "t.rollout_state" };
	if (!name)
		return NULL;
	for (size_t i = 0; SORTABLE[i]; i++)
		if (!strcmp(SORTABLE[i], name))
			return quoted[i];
	return NULL;
}

/* A growing SQL text built only from the fixed fragments below. */
struct sqlbuf {
	char s[2048];
	size_t n;
	int overflow;
};

static void sb_add(struct sqlbuf *b, const char *frag)
{
	size_t l = strlen(frag);
	if (b->n + l + 1 > sizeof(b->s)) {
		b->overflow = 1;
		return;
	}
	memcpy(b->s + b->n, frag, l + 1);
	b->n += l;
}

/* '*' → '%' for LIKE; the value is bound, never spliced. */
static char *like_pattern(const char *v)
{
	char *p = strdup(v);
	if (p)
		for (char *q = p; *q; q++)
			if (*q == '*')
				*q = '%';
	return p;
}

#define WHERE_PARAMS (24 + STORE_REALM_LIMIT_MAX)

struct where {
	struct sqlbuf sql;
	struct db_param p[WHERE_PARAMS];
	int np;
	char *owned[8];
	int nowned;
};

static void w_text(struct where *w, const char *frag, const char *value)
{
	sb_add(&w->sql, frag);
	if (w->np < WHERE_PARAMS)
		w->p[w->np++] = DB_TEXT(value);
	else
		w->sql.overflow = 1;
}

static void w_like(struct where *w, const char *frag_like, const char *frag_eq, const char *value)
{
	if (strchr(value, '*')) {
		char *pat = like_pattern(value);
		if (!pat || w->nowned >= 8) {
			free(pat);
			w->sql.overflow = 1;
			return;
		}
		w->owned[w->nowned++] = pat;
		w_text(w, frag_like, pat);
	} else {
		w_text(w, frag_eq, value);
	}
}

static void w_int(struct where *w, const char *frag, int64_t v)
{
	sb_add(&w->sql, frag);
	if (w->np < WHERE_PARAMS)
		w->p[w->np++] = DB_INT(v);
	else
		w->sql.overflow = 1;
}

/* A realm-restricted admin's view: tokens in one of the allowed realms. */
static void where_realm_limit(struct where *w, const struct store_realm_limit *lim)
{
	if (!lim || !lim->on)
		return;
	if (!lim->n || lim->n > STORE_REALM_LIMIT_MAX) {
		sb_add(&w->sql, " AND 1 = 0");
		return;
	}
	for (size_t i = 0; i < lim->n; i++)
		w_int(w, i ? ", ?" : " AND EXISTS (SELECT 1 FROM tokenrealm ta WHERE ta.token_id = t.id AND ta.realm_id IN (?",
		      lim->ids[i]);
	sb_add(&w->sql, "))");
}

static void where_build(struct where *w, const struct store_token_filter *f)
{
	memset(w, 0, sizeof(*w));
	if (f->serial && f->serial[strspn(f->serial, "*")])
		w_like(w, " AND t.serial LIKE ?", " AND t.serial = ?", f->serial);
	if (f->tokentype && f->tokentype[strspn(f->tokentype, "*")])
		w_like(w, " AND lower(t.tokentype) LIKE lower(?)", " AND lower(t.tokentype) = lower(?)", f->tokentype);
	if (f->description && f->description[strspn(f->description, "*")])
		w_like(w, " AND lower(t.description) LIKE lower(?)", " AND lower(t.description) = lower(?)",
		       f->description);
	int has_res = f->resolver && f->resolver[strspn(f->resolver, "*")];
	int has_uid = f->user_id && f->user_id[strspn(f->user_id, "*")];
	if (has_uid && !strchr(f->user_id, '*') && (!has_res || !strchr(f->resolver, '*'))) {
		/* one user's tokens: driven by the owner index, not a scan of
		 * every token probing its owner */
		w_text(w, " AND t.id IN (SELECT ou.token_id FROM tokenowner ou WHERE ou.user_id = ?", f->user_id);
		if (has_res)
			w_text(w, " AND ou.resolver = ?", f->resolver);
		if (f->owner_realm_id >= 0)
			w_int(w, " AND ou.realm_id = ?", f->owner_realm_id);
		sb_add(&w->sql, ")");
	} else {
		if (has_res)
			w_like(w, " AND EXISTS (SELECT 1 FROM tokenowner ox WHERE ox.token_id = t.id AND ox.resolver LIKE ?)",
			       " AND EXISTS (SELECT 1 FROM tokenowner ox WHERE ox.token_id = t.id AND ox.resolver = ?)",
			       f->resolver);
		if (has_uid)
			w_like(w, " AND EXISTS (SELECT 1 FROM tokenowner oy WHERE oy.token_id = t.id AND oy.user_id LIKE ?)",
			       " AND EXISTS (SELECT 1 FROM tokenowner oy WHERE oy.token_id = t.id AND oy.user_id = ?)",
			       f->user_id);
		if (f->owner_realm_id >= 0)
			w_int(w, " AND EXISTS (SELECT 1 FROM tokenowner oz WHERE oz.token_id = t.id AND oz.realm_id = ?)",
			      f->owner_realm_id);
	}
	if (f->tokenrealm_id >= 0)
		w_int(w, " AND EXISTS (SELECT 1 FROM tokenrealm tr WHERE tr.token_id = t.id AND tr.realm_id = ?)",
		      f->tokenrealm_id);
	where_realm_limit(w, &f->allowed);
	if (f->assigned == 1)
		sb_add(&w->sql, " AND EXISTS (SELECT 1 FROM tokenowner oa WHERE oa.token_id = t.id AND oa.user_id <> '')");
	else if (f->assigned == 0)
		sb_add(&w->sql,
		       " AND NOT EXISTS (SELECT 1 FROM tokenowner oa WHERE oa.token_id = t.id AND oa.user_id <> '')");
	if (f->active >= 0)
		w_int(w, " AND t.active = ?", f->active ? 1 : 0);
	if (f->rollout_state)
		w_text(w, " AND t.rollout_state = ?", f->rollout_state);
	if (f->info_key && f->info_value) {
		w_text(w, " AND EXISTS (SELECT 1 FROM tokeninfo ti WHERE ti.token_id = t.id AND ti.\"Key\" = ?", f->info_key);
		w_text(w, " AND ti.\"Value\" = ?)", f->info_value);
	}
	/* " AND a AND b" → " WHERE a AND b"; no condition: no WHERE at all, so
	 * SQLite can answer count(*) from its b-tree without a scan */
	if (w->sql.n >= 4 && !w->sql.overflow && w->sql.n + 3 <= sizeof(w->sql.s)) {
		memmove(w->sql.s + 6, w->sql.s + 4, w->sql.n - 4 + 1);
		memcpy(w->sql.s, " WHERE", 6);
		w->sql.n += 2;
	}
}

static void where_free(struct where *w)
{
	for (int i = 0; i < w->nowned; i++)
		free(w->owned[i]);
}

int store_token_search(struct db_conn *c, const struct store_token_filter *f, const char *sortby, int desc,
		       int64_t page, int64_t pagesize, int64_t *total,
		       int (*fn)(void *ctx, struct store_token_row *r), void *ctx, struct error *err)
{
	const char *col = store_token_sort_column(sortby ? sortby : "serial");
	if (!col)
		col = "t.serial";
	struct where w;
	where_build(&w, f);
	int rc = -1;
	struct db_res *r = NULL;
	struct sqlbuf count = { 0 }, q = { 0 };
	sb_add(&count, "SELECT count(*) FROM token t");
	sb_add(&count, w.sql.s);
	/* The page is cut in the inner query, so the owner join runs for the
	 * rows of the page only (an OFFSET deep into a million tokens must
	 * not join a million owners). */
	/* The inner query pages over ids only (an index-only scan for the
	 * indexed sort columns); the rows are read for the page alone. */
	sb_add(&q, "SELECT " TOKEN_COLS " FROM (SELECT t.id AS pid FROM token t");
	sb_add(&q, w.sql.s);
	/* serial and id are unique: no tie-break, so the index alone orders */
	char order[128];
	const char *dir = desc ? "DESC" : "ASC";
	if (!strcmp(col, "t.serial") || !strcmp(col, "t.id"))
		snprintf(order, sizeof(order), " ORDER BY %s %s", col, dir);
	else
		snprintf(order, sizeof(order), " ORDER BY %s %s, t.id %s", col, dir, dir);
	sb_add(&q, order);
	sb_add(&q, " LIMIT ? OFFSET ?) p JOIN token t ON t.id = p.pid" OWNER_JOIN);
	sb_add(&q, order);
	if (w.sql.overflow || count.overflow || q.overflow) {
		err_internal(err, "token search query too long");
		goto out;
	}
	if (count_once(c, count.s, w.p, w.np, total, err) < 0)
		goto out;
	struct db_param p[WHERE_PARAMS + 2];
	memcpy(p, w.p, sizeof(struct db_param) * (size_t)w.np);
	p[w.np] = DB_INT(pagesize);
	p[w.np + 1] = DB_INT((page - 1) * pagesize);
	if (db_query_once(c, q.s, p, w.np + 2, &r, err) < 0)
		goto out;
	rc = each_row(r, fn, ctx, err);
out:
	db_res_free(r);
	where_free(&w);
	return rc;
}
