/*
 * sql_internal.h — private interfaces of the SQL resolver (sqlresolver),
 * shared by its files and by nothing else:
 *   sql.c       the resolver's configuration (Map, Where, pool settings),
 *               test_connection and its vtable
 *   sql_users.c reading, searching, checking and editing user rows
 *   sql_db.c    the database back ends (SQLite, PostgreSQL, MySQL/MariaDB)
 *               behind one statement-execution call, and the per-instance
 *               connection pool
 *   sql_hash.c  the password formats of user tables: verification of every
 *               format privacyIDEA's SQLIdResolver accepts (and a few more),
 *               and hashing for editable resolvers (Password_Hash_Type)
 *
 * Statements are written with '?' placeholders; sql_db.c renumbers them to
 * $n for PostgreSQL.  Only identifiers validated by sqldb_quote_ident ever
 * get spliced into statement text; every value is a bound parameter.
 */
#ifndef TESSERA_RESOLVER_SQL_INTERNAL_H
#define TESSERA_RESOLVER_SQL_INTERNAL_H

#include <stddef.h>
#include <jansson.h>
#include "../error.h"
#include "resolver.h"

/* ---- back ends (sql_db.c) ------------------------------------------------- */

enum sqldb_kind { SQLDB_SQLITE, SQLDB_PG, SQLDB_MYSQL };

struct sqldb_params {
	enum sqldb_kind kind;
	char *server;   /* host; "" = local socket / default */
	char *port;     /* "" = default */
	char *database; /* SQLite: the file name */
	char *user;
	char *password; /* wiped on free */
	int connect_timeout;
};

/* A bound parameter: text (s, NUL-terminated) or an integer. */
struct sqldb_val {
	const char *s;
	long long i;
	int is_int;
};

/* A result cell.  s is NUL-terminated (len excludes the NUL) and valid only
 * during the row callback. */
struct sqldb_cell {
	const char *s;
	size_t len;
	int is_null;
	int is_int;    /* integer-typed column (SQL integer types) */
	int is_binary; /* raw bytes (BLOB, bytea, binary collation) */
};

/* Called per result row; a non-zero return stops the statement and is
 * passed back by sqldb_exec. */
typedef int (*sqldb_row_fn)(void *ctx, const struct sqldb_cell *cells, int ncols);

struct sqldb_conn;
struct sqldb_pool;

/* Return codes of sqldb_exec besides 0 and a row callback's value. */
#define SQLDB_ERROR (-1)   /* err filled */
#define SQLDB_BADVALUE (-2) /* the server rejected a parameter's value for the
                             * column type (PostgreSQL SQLSTATE 22xxx); err
                             * is filled too */

/* Parse a privacyIDEA/SQLAlchemy driver name ("sqlite", "postgresql",
 * "postgres", "postgresql+psycopg2", "mysql", "mysql+pymysql",
 * "mariadb" ...).  -1 if unknown. */
int sqldb_kind_from_driver(const char *driver, enum sqldb_kind *kind);

/* Quote an identifier (optionally schema-qualified: a.b) for kind:
 * "a"."b" or `a`.`b`.  Only [A-Za-z0-9_.] is allowed, no empty parts.
 * Returns a malloc'd string, or NULL (err: ERR905) when invalid. */
char *sqldb_quote_ident(enum sqldb_kind kind, const char *name, struct error *err);
/* 1 when name is an acceptable identifier (see above). */
int sqldb_ident_ok(const char *name);

/* The pool copies p (the password too).  size = most open connections,
 * timeout = seconds to wait for a free one, recycle = seconds after which a
 * connection is reopened (0 = never). */
struct sqldb_pool *sqldb_pool_new(const struct sqldb_params *p, int size, int timeout, int recycle,
				  struct error *err);
void sqldb_pool_free(struct sqldb_pool *pool);
enum sqldb_kind sqldb_pool_kind(const struct sqldb_pool *pool);

/* Check a connection out (opening one if needed), or NULL + err. */
struct sqldb_conn *sqldb_acquire(struct sqldb_pool *pool, struct error *err);
/* Give it back; a connection marked broken (see sqldb_exec) is closed. */
void sqldb_release(struct sqldb_pool *pool, struct sqldb_conn *c);

/* Run one statement.  changes (may be NULL) receives the affected row
 * count of INSERT/UPDATE/DELETE.  On a connection-level failure the
 * connection is marked broken and *retryable set (may be NULL). */
int sqldb_exec(struct sqldb_conn *c, const char *sql, const struct sqldb_val *params, int nparams,
	       sqldb_row_fn fn, void *ctx, long long *changes, int *retryable, struct error *err);

/* Open a single connection outside any pool (test_connection). */
struct sqldb_conn *sqldb_open(const struct sqldb_params *p, struct error *err);
void sqldb_close(struct sqldb_conn *c);

void sqldb_params_clear(struct sqldb_params *p);

/* ---- password formats (sql_hash.c) ----------------------------------------- */

/* Verify password against a stored hash, any supported format:
 * {SHA} {SSHA} {SSHA256} {SSHA512} (identifier in any case), phpass
 * $P$/$H$, Drupal $S$, crypt(3) $1$ $5$ $6$ $y$ $2a$ $2b$ $2y$ (libxcrypt),
 * $argon2id$/$argon2i$/$argon2d$ (libargon2), 64 hex digits = OTRS
 * sha256; an ownCloud "1|" prefix is ignored.  All comparisons are
 * constant-time.  1 = match, 0 = no match / unknown format, -1 = out of
 * memory. */
int sqlhash_verify(const char *password, const char *stored);

/* The Password_Hash_Type names (privacyIDEA's, plus BCRYPT, YESCRYPT and
 * ARGON2), case-insensitive.  -1 if unknown. */
int sqlhash_type_from_name(const char *name);
/* Hash password with a type from sqlhash_type_from_name, fresh random
 * salt.  malloc'd, or NULL + err. */
char *sqlhash_make(int type, const char *password, struct error *err);

/* ---- the resolver's internals (sql.c: configuration; sql_users.c: reads
 * and writes of user rows) --------------------------------------------------- */

#define SQL_MAX_MAP 64
#define SQL_MAX_WHERE 16
#define SQL_MAX_PARAMS (SQL_MAX_MAP + SQL_MAX_WHERE + 4)

struct sql_priv {
	struct sqldb_pool *pool;
	enum sqldb_kind kind;
	char *table_q;
	size_t nkeys;
	char **keys;   /* privacyIDEA attribute names */
	char **cols_q; /* their quoted columns */
	int i_userid, i_username, i_password;
	char *select_all; /* quoted column list for every mapped key */
	size_t nwhere;
	char **where_vals;
	char *where_sql; /* " AND col op ?" ... */
	long long limit;
	int editable;
	int hash_type;
	char *encoding;
};

/* A growable string for statement text; sqlres_sb_take hands it over (NULL
 * + err when an allocation failed on the way). */
struct sqlres_sb {
	char *s;
	size_t len, cap;
	int oom;
};
void sqlres_sb_add(struct sqlres_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sqlres_sb_take(struct sqlres_sb *b, struct error *err);

/* Row callback keeping the first column of the first row (malloc'd). */
struct sqlres_one {
	char *s;
};
int sqlres_first_cell(void *ctx, const struct sqldb_cell *cells, int n);

/* The vtable entries implemented in sql_users.c. */
int sqlres_get_user_id(struct resolver *r, const char *login, char **uid, struct error *err);
int sqlres_get_username(struct resolver *r, const char *uid, char **login, struct error *err);
int sqlres_get_user_info(struct resolver *r, const char *uid, json_t **info, struct error *err);
int sqlres_get_user_list(struct resolver *r, const json_t *search, json_t **list, struct error *err);
int sqlres_check_pass(struct resolver *r, const char *uid, const char *password, struct error *err);
int sqlres_add_user(struct resolver *r, const json_t *attrs, char **uid, struct error *err);
int sqlres_update_user(struct resolver *r, const char *uid, const json_t *attrs, struct error *err);
int sqlres_delete_user(struct resolver *r, const char *uid, struct error *err);
int sqlres_editable(const struct resolver *r);

#endif
