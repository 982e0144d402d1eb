/*
 * db_impl.h — the contract between the storage front end (db.c: URI,
 * pool, dispatch) and its back ends (db_sqlite.c, db_pg.c).
 *
 * Only files in src/db/ and the storage unit test include this header;
 * nothing else in Tessera may depend on a back end's internals.  A back end
 * exports exactly one const struct db_ops and keeps all of its state in
 * the connection (c->be) and its result objects: no globals.
 */
#ifndef TESSERA_DB_IMPL_H
#define TESSERA_DB_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "db.h"

/* ---- parsed database URI ---- */
#define DB_URI_MAXKW 32
struct db_uri {
	enum db_backend backend;
	char *path; /* SQLite: the file name as given (relative to the cwd or absolute) */
	/* PostgreSQL: libpq keyword/value pairs, NULL-terminated, all malloc'd,
	 * ready for PQconnectdbParams(kw, val, 0). */
	int nkw;
	const char *kw[DB_URI_MAXKW + 1];
	const char *val[DB_URI_MAXKW + 1];
};
int db_uri_parse(const char *uri, struct db_uri *out, struct error *err);
/* The value of a keyword (last one wins, as in libpq), or NULL. */
const char *db_uri_get(const struct db_uri *u, const char *kw);
void db_uri_free(struct db_uri *u);

/* ---- per-connection statement cache: SQL text pointer -> back-end entry ---- */
struct stmt_slot {
	const char *key;
	void *val;
};
struct stmt_map {
	struct stmt_slot *slot;
	size_t cap, n; /* cap is 0 or a power of two */
};
void *stmt_map_get(const struct stmt_map *m, const char *key);
/* Insert or replace; 0 ok, -1 out of memory (map unchanged). */
int stmt_map_put(struct stmt_map *m, const char *key, void *val);
/* Calls fn on every value, then empties the map (keeps no memory). */
void stmt_map_clear(struct stmt_map *m, void (*fn)(void *val, void *ctx), void *ctx);

/* ---- the objects shared by front end and back ends ---- */
struct db_conn {
	struct db *db;
	struct db_conn *next_idle; /* pool's idle list */
	void *be;                  /* back-end state; NULL until opened */
	int failed;                /* a call failed since the last clean-up */
	int in_txn;                /* db_begin* succeeded, no commit/rollback yet */
	int txn_failed;            /* a call failed inside that transaction */
};
/* First member of every back end's result object. */
struct db_res {
	struct db_conn *conn;
};

struct db_ops {
	const char *name;
	/* Open c->be from the URI. */
	int (*open)(struct db_conn *c, const struct db_uri *u, struct error *err);
	void (*close)(struct db_conn *c);
	/* On borrowing: 0 = usable (repaired if it was broken), -1 = unusable. */
	int (*check)(struct db_conn *c, struct error *err);
	int (*begin)(struct db_conn *c, int write, struct error *err);
	int (*commit)(struct db_conn *c, struct error *err);
	/* Roll back if a transaction is open; 0 ok (also when none was). */
	int (*rollback)(struct db_conn *c);
	int (*lock_xact)(struct db_conn *c, int64_t key, struct error *err);
	/* cached != 0: sql is static, keep its prepared form. */
	int (*exec)(struct db_conn *c, const char *sql, int cached, const struct db_param *p, int np,
		    int64_t *affected, struct error *err);
	int (*query)(struct db_conn *c, const char *sql, int cached, const struct db_param *p, int np,
		     struct db_res **out, struct error *err);
	/* Several ;-separated statements without parameters (migrations only). */
	int (*script)(struct db_conn *c, const char *sql, struct error *err);
	int (*next)(struct db_res *r, struct error *err);
	int (*isnull)(struct db_res *r, int col);
	const char *(*text)(struct db_res *r, int col);
	int64_t (*getint)(struct db_res *r, int col);
	double (*getreal)(struct db_res *r, int col);
	void (*free_res)(struct db_res *r);
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

/* For schema.c: run a DDL script on a borrowed connection. */
int db_exec_script(struct db_conn *c, const char *sql, struct error *err);

/* For tests: connections currently open (idle + borrowed) and idle. */
void db_pool_stats(struct db *db, int *open, int *idle);

/* How many characters of a failing statement go into an error message. */
#define DB_ERR_SQL_CHARS 80

#endif
