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
 * pointer given to DB_TEXT binds SQL NULL. */
#define DB_INT(v) ((struct db_param){ .type = DBP_INT, .i = (int64_t)(v) })
#define DB_TEXT(v) ((struct db_param){ .type = (v) ? DBP_TEXT : DBP_NULL, .s = (v) })
#define DB_REAL(v) ((struct db_param){ .type = DBP_REAL, .d = (v) })
#define DB_BLOB(p, n) ((struct db_param){ .type = DBP_BLOB, .s = (const char *)(p), .len = (n) })
#define DB_NULLP ((struct db_param){ .type = DBP_NULL })

/* Open (does not create tables). pool_max bounds simultaneously open
 * connections; db_acquire blocks when all are in use. */
struct db *db_open(const char *uri, int pool_max, struct error *err);
void db_close(struct db *db);
enum db_backend db_backend(const struct db *db);

struct db_conn *db_acquire(struct db *db, struct error *err);
/* Returns the connection to the pool; rolls back an open transaction. */
void db_release(struct db_conn *c);

int db_begin(struct db_conn *c, struct error *err);
/* BEGIN IMMEDIATE on SQLite (takes the write lock now), plain BEGIN on
 * PostgreSQL: for read-modify-write sequences. */
int db_begin_write(struct db_conn *c, struct error *err);
int db_commit(struct db_conn *c, struct error *err);
int db_rollback(struct db_conn *c);

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
int64_t db_res_int(struct db_res *r, int col);
double db_res_real(struct db_res *r, int col);
void db_res_free(struct db_res *r);

/* Run a query expected to return at most one row with one integer column
 * (e.g. INSERT ... RETURNING id, SELECT count(*)). *found = 0 if no row. */
int db_query_int(struct db_conn *c, const char *sql, const struct db_param *p, int np,
		 int64_t *value, int *found, struct error *err);

/* Schema: apply pending migrations (idempotent). */
int db_migrate(struct db *db, struct error *err);
/* Current schema version, and the version this binary expects. */
int db_schema_version(struct db *db, int *version, struct error *err);
int db_schema_expected(void);

#endif
