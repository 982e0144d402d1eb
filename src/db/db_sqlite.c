/*
 * db_sqlite.c — the SQLite back end of db.h.
 *
 * One sqlite3 handle per pooled connection, opened NOMUTEX (the pool
 * guarantees one thread per connection at a time) in WAL mode with
 * synchronous=NORMAL, foreign keys on and a 10 s busy timeout.  Prepared
 * statements are cached per connection, keyed by the (static) SQL text
 * pointer, and reset + unbound after every use.
 *
 * It must not: share a handle between threads, splice values into SQL,
 * cache statements of run-time SQL (db_*_once), or keep state outside the
 * connection.
 */
#include "db_impl.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SQ_BUSY_TIMEOUT_MS 10000
/* Extra attempts for BEGIN IMMEDIATE / COMMIT once the busy timeout ran out. */
#define SQ_TXN_RETRIES 3

struct sq_stmt {
	sqlite3_stmt *st;
	int busy; /* handed out to a running query */
};

struct sq_conn {
	sqlite3 *h;
	struct stmt_map cache;
};

struct sq_res {
	struct db_res base;
	sqlite3_stmt *st;
	struct sq_stmt *ent; /* cache entry, or NULL: st is ours to finalize */
	int done;
};

static struct sq_conn *sq(struct db_conn *c)
{
	return c->be;
}

static int sq_is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

static int sq_fail(struct sq_conn *s, int rc, const char *what, const char *sql, struct error *err)
{
	int code = ERR_INTERNAL;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		code = ERR_DB_UNIQUE;
	else if (sq_is_busy(rc))
		code = ERR_DB_BUSY;
	else if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR)
		code = ERR_DB_CONN;
	const char *msg = s && s->h ? sqlite3_errmsg(s->h) : sqlite3_errstr(rc);
	return err_set(err, ERRK_INTERNAL, code, "sqlite %s: %s [%.*s]", what, msg, DB_ERR_SQL_CHARS,
		       sql ? sql : "");
}

/* ---- connection ---- */

static int sq_open(struct db_conn *c, const struct db_uri *u, struct error *err)
{
	struct sq_conn *s = calloc(1, sizeof(*s));
	if (!s)
		return err_internal(err, "out of memory");
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(u->path, &s->h, flags, NULL);
	if (rc != SQLITE_OK) {
		err_set(err, ERRK_INTERNAL, ERR_DB_CONN, "sqlite: cannot open '%s': %s", u->path,
			s->h ? sqlite3_errmsg(s->h) : sqlite3_errstr(rc));
		sqlite3_close(s->h);
		free(s);
		return -1;
	}
	sqlite3_extended_result_codes(s->h, 1);
	sqlite3_busy_timeout(s->h, SQ_BUSY_TIMEOUT_MS);
	static const char setup[] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
				    "PRAGMA foreign_keys=ON;";
	rc = sqlite3_exec(s->h, setup, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sq_fail(s, rc, "setup", setup, err);
		sqlite3_close(s->h);
		free(s);
		return -1;
	}
	c->be = s;
	return 0;
}

static void sq_stmt_free(void *val, void *ctx)
{
	struct sq_stmt *e = val;
	(void)ctx;
	sqlite3_finalize(e->st);
	free(e);
}

static void sq_close(struct db_conn *c)
{
	struct sq_conn *s = sq(c);
	stmt_map_clear(&s->cache, sq_stmt_free, NULL);
	sqlite3_close_v2(s->h);
	free(s);
	c->be = NULL;
}

static int sq_check(struct db_conn *c, struct error *err)
{
	(void)c;
	(void)err;
	return 0; /* a file handle does not go stale */
}

/* ---- statements ---- */

static int sq_compile(struct sq_conn *s, const char *sql, unsigned flags, sqlite3_stmt **st, struct error *err)
{
	const char *tail = NULL;
	*st = NULL;
	int rc = sqlite3_prepare_v3(s->h, sql, -1, flags, st, &tail);
	if (rc != SQLITE_OK)
		return sq_fail(s, rc, "prepare", sql, err);
	if (!*st)
		return err_internal(err, "sqlite prepare: empty statement [%.*s]", DB_ERR_SQL_CHARS, sql);
	while (tail && isspace((unsigned char)*tail))
		tail++;
	if (tail && *tail) {
		sqlite3_finalize(*st);
		*st = NULL;
		return err_internal(err, "sqlite prepare: more than one statement [%.*s]", DB_ERR_SQL_CHARS, sql);
	}
	return 0;
}

/* The statement for sql: from the cache (marked busy, *ent set) or, for
 * run-time SQL and re-entrant use of a running statement, a one-off. */
static int sq_get(struct sq_conn *s, const char *sql, int cached, sqlite3_stmt **st, struct sq_stmt **ent,
		  struct error *err)
{
	*ent = NULL;
	if (!cached)
		return sq_compile(s, sql, 0, st, err);
	struct sq_stmt *e = stmt_map_get(&s->cache, sql);
	if (e && e->busy)
		return sq_compile(s, sql, 0, st, err);
	if (e && e->st && strcmp(sqlite3_sql(e->st), sql) != 0) {
		/* the pointer was reused for other text: not static SQL after all */
		sqlite3_finalize(e->st);
		e->st = NULL;
	}
	if (!e || !e->st) {
		if (sq_compile(s, sql, SQLITE_PREPARE_PERSISTENT, st, err) < 0)
			return -1;
		if (!e) {
			e = calloc(1, sizeof(*e));
			if (!e || stmt_map_put(&s->cache, sql, e) < 0) {
				free(e);
				sqlite3_finalize(*st);
				return err_internal(err, "out of memory");
			}
		}
		e->st = *st;
	}
	*st = e->st;
	e->busy = 1;
	*ent = e;
	return 0;
}

static void sq_put(sqlite3_stmt *st, struct sq_stmt *ent)
{
	if (ent) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		ent->busy = 0;
	} else {
		sqlite3_finalize(st);
	}
}

static int sq_bind_one(sqlite3_stmt *st, int i, const struct db_param *p)
{
	switch (p->type) {
	case DBP_NULL:
		return sqlite3_bind_null(st, i);
	case DBP_INT:
		return sqlite3_bind_int64(st, i, p->i);
	case DBP_REAL:
		return sqlite3_bind_double(st, i, p->d);
	case DBP_TEXT:
		if (!p->s)
			return sqlite3_bind_null(st, i);
		/* TRANSIENT: the caller's string may die before the rows are read */
		return sqlite3_bind_text(st, i, p->s, -1, SQLITE_TRANSIENT);
	case DBP_BLOB:
		if (!p->s && p->len)
			return SQLITE_MISUSE;
		return sqlite3_bind_blob64(st, i, p->s ? (const void *)p->s : (const void *)"", p->len,
					   SQLITE_TRANSIENT);
	}
	return SQLITE_MISUSE;
}

static int sq_bind(struct sq_conn *s, sqlite3_stmt *st, const char *sql, const struct db_param *p, int np,
		   struct error *err)
{
	int want = sqlite3_bind_parameter_count(st);
	if (want != np)
		return err_internal(err, "statement takes %d parameters, %d given [%.*s]", want, np,
				    DB_ERR_SQL_CHARS, sql);
	for (int i = 0; i < np; i++) {
		int rc = sq_bind_one(st, i + 1, &p[i]);
		if (rc == SQLITE_MISUSE)
			return err_internal(err, "invalid parameter %d [%.*s]", i + 1, DB_ERR_SQL_CHARS, sql);
		if (rc != SQLITE_OK)
			return sq_fail(s, rc, "bind", sql, err);
	}
	return 0;
}

static int sq_exec(struct db_conn *c, const char *sql, int cached, const struct db_param *p, int np,
		   int64_t *affected, struct error *err)
{
	struct sq_conn *s = sq(c);
	sqlite3_stmt *st;
	struct sq_stmt *ent;
	if (sq_get(s, sql, cached, &st, &ent, err) < 0)
		return -1;
	int rc = sq_bind(s, st, sql, p, np, err);
	if (rc == 0) {
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (step != SQLITE_DONE)
			rc = sq_fail(s, step, "exec", sql, err);
		else if (affected)
			*affected = sqlite3_changes64(s->h);
	}
	sq_put(st, ent);
	return rc;
}

static int sq_query(struct db_conn *c, const char *sql, int cached, const struct db_param *p, int np,
		    struct db_res **out, struct error *err)
{
	struct sq_conn *s = sq(c);
	sqlite3_stmt *st;
	struct sq_stmt *ent;
	if (sq_get(s, sql, cached, &st, &ent, err) < 0)
		return -1;
	if (sq_bind(s, st, sql, p, np, err) < 0) {
		sq_put(st, ent);
		return -1;
	}
	struct sq_res *r = calloc(1, sizeof(*r));
	if (!r) {
		sq_put(st, ent);
		return err_internal(err, "out of memory");
	}
	r->base.conn = c;
	r->st = st;
	r->ent = ent;
	*out = &r->base;
	return 0;
}

static int sq_script(struct db_conn *c, const char *sql, struct error *err)
{
	struct sq_conn *s = sq(c);
	int rc = sqlite3_exec(s->h, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sq_fail(s, rc, "script", sql, err);
}

/* ---- results ---- */

static int sq_next(struct db_res *base, struct error *err)
{
	struct sq_res *r = (struct sq_res *)base;
	if (r->done)
		return 0;
	int rc = sqlite3_step(r->st);
	if (rc == SQLITE_ROW)
		return 1;
	r->done = 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sq_fail(sq(base->conn), rc, "step", sqlite3_sql(r->st), err);
}

static int sq_col_ok(struct sq_res *r, int col)
{
	return !r->done && col >= 0 && col < sqlite3_column_count(r->st);
}

static int sq_isnull(struct db_res *base, int col)
{
	struct sq_res *r = (struct sq_res *)base;
	return !sq_col_ok(r, col) || sqlite3_column_type(r->st, col) == SQLITE_NULL;
}

static const char *sq_text(struct db_res *base, int col)
{
	struct sq_res *r = (struct sq_res *)base;
	if (sq_isnull(base, col))
		return NULL;
	return (const char *)sqlite3_column_text(r->st, col);
}

static int64_t sq_int(struct db_res *base, int col)
{
	struct sq_res *r = (struct sq_res *)base;
	return sq_col_ok(r, col) ? sqlite3_column_int64(r->st, col) : 0;
}

static double sq_real(struct db_res *base, int col)
{
	struct sq_res *r = (struct sq_res *)base;
	return sq_col_ok(r, col) ? sqlite3_column_double(r->st, col) : 0.0;
}

static void sq_free_res(struct db_res *base)
{
	struct sq_res *r = (struct sq_res *)base;
	sq_put(r->st, r->ent);
	free(r);
}

/* ---- transactions ---- */

static void sq_backoff(int attempt)
{
	struct timespec ts = { 0, (long)(20 + 40 * attempt) * 1000000L };
	nanosleep(&ts, NULL);
}

/* BEGIN IMMEDIATE and COMMIT can meet SQLITE_BUSY even after the busy
 * handler gave up (or without it being called, e.g. during WAL recovery).
 * Both are safe to repeat: a busy BEGIN started nothing, a busy COMMIT
 * leaves the transaction open. */
static int sq_txn(struct sq_conn *s, const char *sql, struct error *err)
{
	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_exec(s->h, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if (!sq_is_busy(rc) || attempt >= SQ_TXN_RETRIES)
			return sq_fail(s, rc, "transaction", sql, err);
		sq_backoff(attempt);
	}
}

static int sq_begin(struct db_conn *c, int write, struct error *err)
{
	return sq_txn(sq(c), write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

static int sq_commit(struct db_conn *c, struct error *err)
{
	struct sq_conn *s = sq(c);
	if (sqlite3_get_autocommit(s->h))
		return err_internal(err, "sqlite: COMMIT without a transaction");
	return sq_txn(s, "COMMIT", err);
}

static int sq_rollback(struct db_conn *c)
{
	struct sq_conn *s = sq(c);
	if (sqlite3_get_autocommit(s->h))
		return 0;
	return sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int sq_lock_xact(struct db_conn *c, int64_t key, struct error *err)
{
	(void)key;
	if (sqlite3_get_autocommit(sq(c)->h))
		return err_internal(err, "db_lock_xact outside a transaction");
	return 0; /* BEGIN IMMEDIATE holds the only write lock already */
}

const struct db_ops db_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.check = sq_check,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.lock_xact = sq_lock_xact,
	.exec = sq_exec,
	.query = sq_query,
	.script = sq_script,
	.next = sq_next,
	.isnull = sq_isnull,
	.text = sq_text,
	.getint = sq_int,
	.getreal = sq_real,
	.free_res = sq_free_res,
};
