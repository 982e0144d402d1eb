/*
 * db.h — the storage interface.  Nothing outside src/db/ writes SQL.
 *
 * One struct db per process (chosen by the SQLAlchemy-style URI:
 * sqlite:////abs, sqlite:///rel, postgresql://user:pass@host:port/db,
 * also postgresql+psycopg2://...).  Worker threads borrow a struct db_conn
 * from its pool for one request (db_acquire/db_release); a connection is
 * used by one thread at a time.  Statements are written once in a portable
 * dialect with `?` placeholders; the PostgreSQL back end rewrites them to
 * $n.  Each connection prepares a statement the first time it sees the
 * (static) SQL text and reuses it afterwards, keyed by the text pointer,
 * so SQL passed to db_exec/db_query must be a string literal / static.
 *
 * Values are bound from struct db_param arrays; no value is ever spliced
 * into SQL text.
 *
 * Writing portable SQL (the schema is in schema.c):
 *  - Quote privacyIDEA's mixed-case columns ("Key", "Value", "Type",
 *    "Description") and reserved words ("user", "default"); PostgreSQL
 *    folds unquoted names to lower case, SQLite does not care.
 *  - Booleans are INTEGER 0/1 columns on both back ends.
 *  - Timestamps are TEXT in the DB_TS_LEN format below.
 *  - PostgreSQL infers each parameter's type from its context; where it
 *    cannot (`? IS NULL`, `SELECT ?`, `COALESCE(?, ?)`) write CAST(? AS TEXT)
 *    / CAST(? AS BIGINT).  Use one statement per call (no `;` lists).
 *  - INSERT ... ON CONFLICT (...) DO UPDATE and ... RETURNING work on both.
 *  - DBP_BLOB binds bytes (bytea / BLOB columns); there is no blob reader,
 *    so store binary data hex- or base64-encoded in TEXT columns.
 * Cached statements are re-prepared automatically if a pointer is ever
 * reused for different text, but run-time SQL belongs in db_*_once.
 */
#ifndef TESSERA_DB_H
#define TESSERA_DB_H

#include <stddef.h>
#include <stdint.h>
#include "../lib/error.h"

struct db;
struct db_conn;
struct db_res;

enum db_backend { DB_SQLITE = 1, DB_POSTGRES = 2 };

enum db_ptype { DBP_NULL = 0, DBP_INT, DBP_TEXT, DBP_REAL, DBP_BLOB };
struct db_param {
	enum db_ptype type;
	int64_t i;
	double d;
	const char *s; /* text (NUL-terminated) or blob bytes */
	size_t len;    /* blob length */
};
/* Convenience initialisers: DB_INT(5), DB_TEXT("x"), DB_NULLP. A NULL
 * pointer given to DB_TEXT binds SQL NULL (the cast lets DB_TEXT take a
 * char array under -Werror=address). */
#define DB_INT(v) ((struct db_param){ .type = DBP_INT, .i = (int64_t)(v) })
#define DB_TEXT(v) ((struct db_param){ .type = (const char *)(v) != NULL ? DBP_TEXT : DBP_NULL, .s = (v) })
#define DB_REAL(v) ((struct db_param){ .type = DBP_REAL, .d = (v) })
#define DB_BLOB(p, n) ((struct db_param){ .type = DBP_BLOB, .s = (const char *)(p), .len = (n) })
#define DB_NULLP ((struct db_param){ .type = DBP_NULL })

/* ---- errors ----
 * Every failure of this layer is reported as kind ERRK_INTERNAL (the HTTP
 * layer never shows the text: it holds the database's own message and the
 * start of the SQL, for the log).  err->code tells causes apart:
 *   ERR_DB_UNIQUE  a UNIQUE / PRIMARY KEY constraint was violated
 *                  (SQLite SQLITE_CONSTRAINT_UNIQUE/_PRIMARYKEY, PG 23505);
 *                  test it with db_is_unique_violation();
 *   ERR_DB_BUSY    the database stayed locked (SQLite busy after the busy
 *                  timeout and retries, PG deadlock/serialization failure,
 *                  or no pool connection became free in DB_ACQUIRE_TIMEOUT);
 *   ERR_DB_CONN    the server could not be reached / the connection broke;
 *   ERR_INTERNAL   anything else (SQL error, out of memory, bad arguments).
 * err_wire_code() maps all of them to -500 on the wire. */
enum {
	ERR_DB_UNIQUE = -501,
	ERR_DB_BUSY = -502,
	ERR_DB_CONN = -503,
};
int db_is_unique_violation(const struct error *e);

/* Seconds db_acquire waits for a free pool connection before ERR_DB_BUSY. */
#define DB_ACQUIRE_TIMEOUT 30

/* Timestamps are stored as TEXT in one fixed, sortable format, identical on
 * both back ends: "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (26 chars + NUL), so
 * `col < ?` compares correctly as text.  db_timestamp writes that form for
 * the given Unix time (sec, usec); db_timestamp_now for the current time. */
#define DB_TS_LEN 27
void db_timestamp(char buf[DB_TS_LEN], int64_t sec, long usec);
void db_timestamp_now(char buf[DB_TS_LEN]);

/* Open (does not create tables, connects lazily: a bad host or password
 * shows at the first db_acquire). pool_max (>= 1) bounds simultaneously open
 * connections; db_acquire blocks when all are in use.  URI errors, e.g.
 * "unsupported database URI scheme 'mysql'", fill err.  Extra PostgreSQL
 * URI query options (?sslmode=require&connect_timeout=5) are passed to
 * libpq as connection keywords; a SQLite URI's query part is ignored. */
struct db *db_open(const char *uri, int pool_max, struct error *err);
/* Closes every connection; all must have been released. */
void db_close(struct db *db);
enum db_backend db_backend(const struct db *db);

/* Borrow a connection (opened on first use).  A connection whose last use
 * failed is rolled back first; a broken PostgreSQL connection is reset.
 * Never hold two at once in one thread: with a full pool that deadlocks
 * until DB_ACQUIRE_TIMEOUT. */
struct db_conn *db_acquire(struct db *db, struct error *err);
/* Returns the connection to the pool; rolls back an open transaction. */
void db_release(struct db_conn *c);

/* Transactions behave the same on both back ends: BEGIN inside an open
 * transaction is an error, and once any call failed inside a transaction
 * (e.g. a unique violation) db_commit rolls everything back and fails —
 * PostgreSQL semantics, enforced on SQLite too.  So "try INSERT, on unique
 * violation UPDATE" needs ON CONFLICT, not a second statement. */
int db_begin(struct db_conn *c, struct error *err);
/* BEGIN IMMEDIATE on SQLite (takes the write lock now), plain BEGIN on
 * PostgreSQL: for read-modify-write sequences (on PostgreSQL add
 * db_lock_xact or write the change as one conditional UPDATE). */
int db_begin_write(struct db_conn *c, struct error *err);
int db_commit(struct db_conn *c, struct error *err);
/* Rolls back an open transaction (no-op outside one); 0 ok, -1 failed. */
int db_rollback(struct db_conn *c);

/* Within a transaction opened by db_begin_write: serialise read-modify-write
 * sequences on `key` (e.g. a token id) across connections and processes.
 * PostgreSQL takes pg_advisory_xact_lock(key) (released at commit/rollback),
 * because its plain BEGIN does not stop two transactions from reading the
 * same value and both writing value+1.  On SQLite it is a no-op: BEGIN
 * IMMEDIATE already holds the database's single write lock. */
int db_lock_xact(struct db_conn *c, int64_t key, struct error *err);

/* Execute a statement without a result set. *affected (may be NULL) gets
 * the number of changed rows. */
int db_exec(struct db_conn *c, const char *sql, const struct db_param *p, int np,
	    int64_t *affected, struct error *err);
/* Run a query; iterate with db_res_next.  Free with db_res_free. */
int db_query(struct db_conn *c, const char *sql, const struct db_param *p, int np,
	     struct db_res **out, struct error *err);
/* 1 = a row is available, 0 = done, -1 = error (err filled). */
int db_res_next(struct db_res *r, struct error *err);
int db_res_isnull(struct db_res *r, int col);
/* Text of a column of the current row, NULL for SQL NULL. Valid until the
 * next db_res_next/db_res_free. */
const char *db_res_text(struct db_res *r, int col);
/* 0 for SQL NULL; PostgreSQL booleans 't'/'f' read as 1/0. */
int64_t db_res_int(struct db_res *r, int col);
double db_res_real(struct db_res *r, int col);
void db_res_free(struct db_res *r);

/* Like db_exec / db_query, for SQL assembled at run time (e.g. a search with optional
 * WHERE terms chosen from fixed fragments — never from user values, which
 * are always bound).  Prepared for this call only, never cached. */
int db_exec_once(struct db_conn *c, const char *sql, const struct db_param *p, int np,
		 int64_t *affected, struct error *err);
int db_query_once(struct db_conn *c, const char *sql, const struct db_param *p, int np,
		  struct db_res **out, struct error *err);

/* Run a query expected to return at most one row with one integer column
 * (e.g. INSERT ... RETURNING id, SELECT count(*)). *found = 0 if no row
 * or if the value is SQL NULL (e.g. max() over no rows); found may be NULL.
 * The statement is stepped to completion; rows after the first are ignored. */
int db_query_int(struct db_conn *c, const char *sql, const struct db_param *p, int np,
		 int64_t *value, int *found, struct error *err);

/* Schema: apply pending migrations (idempotent).  Each migration runs in
 * its own write transaction and records its number in tessera_schema;
 * concurrent callers (several processes) serialise, the later ones find
 * nothing to do.  A database newer than this binary is an error. */
int db_migrate(struct db *db, struct error *err);
/* Current schema version (0 = no tessera_schema table yet), and the
 * version this binary expects. */
int db_schema_version(struct db *db, int *version, struct error *err);
int db_schema_expected(void);

#endif
