/*
 * sql_db.c — the SQL resolver's database access: SQLite (libsqlite3),
 * PostgreSQL (libpq) and MySQL/MariaDB (libmariadb) behind one
 * statement call, plus a small per-instance connection pool.
 *
 * Every statement is prepared with bound parameters; text is exchanged as
 * UTF-8 (PostgreSQL client_encoding UTF8, MySQL utf8mb4).  Results arrive
 * row by row through a callback with each cell as text plus type hints
 * (integer column, binary column, NULL).
 *
 * Pool: at most `size` connections per resolver instance; a caller waits up
 * to `timeout` seconds for one to come back (condition variable on the
 * monotonic clock).  Connections older than `recycle` seconds are reopened,
 * connections idle for more than PING_IDLE seconds are pinged first, and a
 * connection on which a statement failed at connection level is closed
 * instead of being returned.  This file never sees user data beyond the
 * rows it hands to the callback, and never logs a password.
 */
#include "sql_internal.h"
#include "../log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sqlite3.h>
/* MySQL/MariaDB support is built when libmariadb's headers are on the
 * include path (pkg-config libmariadb); without them the mysql drivers
 * report that the support is missing. */
#if defined(__has_include)
#if __has_include(<mysql.h>)
#define TESSERA_HAVE_MYSQL 1
#include <mysql.h>
#include <errmsg.h>
#endif
#endif
#include <openssl/crypto.h>

#define PING_IDLE 30 /* seconds */

struct sqldb_conn {
	enum sqldb_kind kind;
	sqlite3 *lite;
	PGconn *pg;
#ifdef TESSERA_HAVE_MYSQL
	MYSQL *my;
#endif
	int broken;
	time_t opened, last_used; /* monotonic seconds */
	struct sqldb_conn *next;  /* idle list */
};

struct sqldb_pool {
	struct sqldb_params p;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sqldb_conn *idle;
	int total, size, timeout, recycle;
};

static time_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* ---- names ------------------------------------------------------------------ */

int sqldb_kind_from_driver(const char *driver, enum sqldb_kind *kind)
{
	char base[64];
	size_t n;
	if (driver == NULL)
		return -1;
	/* SQLAlchemy dialect[+dbapi]: only the dialect matters to us. */
	n = strcspn(driver, "+");
	if (n == 0 || n >= sizeof(base))
		return -1;
	for (size_t i = 0; i < n; i++)
		base[i] = (char)((driver[i] >= 'A' && driver[i] <= 'Z') ? driver[i] + 32 : driver[i]);
	base[n] = '\0';
	if (strcmp(base, "sqlite") == 0 || strcmp(base, "sqlite3") == 0)
		*kind = SQLDB_SQLITE;
	else if (strcmp(base, "postgresql") == 0 || strcmp(base, "postgres") == 0 || strcmp(base, "pgsql") == 0)
		*kind = SQLDB_PG;
	else if (strcmp(base, "mysql") == 0 || strcmp(base, "mariadb") == 0)
		*kind = SQLDB_MYSQL;
	else
		return -1;
	return 0;
}

int sqldb_ident_ok(const char *name)
{
	size_t n;
	if (name == NULL || *name == '\0' || name[0] == '.')
		return 0;
	n = strlen(name);
	if (n > 128 || name[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.'))
			return 0;
		if (c == '.' && name[i + 1] == '.')
			return 0;
	}
	return 1;
}

char *sqldb_quote_ident(enum sqldb_kind kind, const char *name, struct error *err)
{
	const char q = kind == SQLDB_MYSQL ? '`' : '"';
	if (!sqldb_ident_ok(name)) {
		err_param(err, "Invalid SQL identifier '%.64s': only letters, digits, '_' and '.' are allowed",
			  name ? name : "");
		return NULL;
	}
	/* Each part gets its quotes; a dot becomes q.q (3 chars). */
	char *out = malloc(strlen(name) * 3 + 3);
	if (out == NULL) {
		err_internal(err, "out of memory");
		return NULL;
	}
	char *o = out;
	*o++ = q;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			*o++ = q;
			*o++ = '.';
			*o++ = q;
		} else {
			*o++ = *p;
		}
	}
	*o++ = q;
	*o = '\0';
	return out;
}

void sqldb_params_clear(struct sqldb_params *p)
{
	if (p == NULL)
		return;
	free(p->server);
	free(p->port);
	free(p->database);
	free(p->user);
	if (p->password) {
		OPENSSL_cleanse(p->password, strlen(p->password));
		free(p->password);
	}
	memset(p, 0, sizeof(*p));
}

/* ---- connections --------------------------------------------------------------- */

#ifdef TESSERA_HAVE_MYSQL
static pthread_once_t mysql_once = PTHREAD_ONCE_INIT;
static int mysql_init_rc;

static void mysql_global_init(void)
{
	mysql_init_rc = mysql_library_init(0, NULL, NULL);
}
#endif

static int open_sqlite(struct sqldb_conn *c, const struct sqldb_params *p, struct error *err)
{
	if (p->database == NULL || *p->database == '\0')
		return err_missing_param(err, "Database");
	/* No SQLITE_OPEN_CREATE: a missing file is a configuration error,
	 * not an empty user store.  NOMUTEX: the pool gives each connection
	 * to one thread at a time. */
	int rc = sqlite3_open_v2(p->database, &c->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err_set(err, ERRK_PI, ERR_USER, "Could not open the SQLite database %s: %s", p->database,
			c->lite ? sqlite3_errmsg(c->lite) : sqlite3_errstr(rc));
		sqlite3_close(c->lite);
		c->lite = NULL;
		return -1;
	}
	/* SQLite would read a double-quoted name that is no column as a string
	 * literal: "logn" = ? would compare the text 'logn'.  Turn that off so
	 * a misspelt column in Map/Where is an error, never a match. */
	sqlite3_db_config(c->lite, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
	sqlite3_db_config(c->lite, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
	sqlite3_busy_timeout(c->lite, (p->connect_timeout > 0 ? p->connect_timeout : 10) * 1000);
	sqlite3_extended_result_codes(c->lite, 1);
	return 0;
}

/* Copy a libpq/libmysql message without its trailing newline. */
static void copy_msg(char *dst, size_t cap, const char *msg)
{
	snprintf(dst, cap, "%s", msg ? msg : "unknown error");
	size_t n = strlen(dst);
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
		dst[--n] = '\0';
}

/* Server notices (e.g. "table does not exist, skipping") go to the debug
 * log instead of libpq's default, stderr. */
static void pg_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("sqlresolver: PostgreSQL notice: %s", message);
}

static int open_pg(struct sqldb_conn *c, const struct sqldb_params *p, struct error *err)
{
	const char *kw[10], *val[10];
	char timeout[16];
	int n = 0;
#define KV(k, v)                                                                                           \
	do {                                                                                               \
		if ((v) != NULL && *(v) != '\0') {                                                         \
			kw[n] = (k);                                                                       \
			val[n++] = (v);                                                                    \
		}                                                                                          \
	} while (0)
	snprintf(timeout, sizeof(timeout), "%d", p->connect_timeout > 0 ? p->connect_timeout : 10);
	KV("host", p->server);
	KV("port", p->port);
	KV("dbname", p->database);
	KV("user", p->user);
	KV("password", p->password);
	KV("connect_timeout", timeout);
	KV("client_encoding", "UTF8");
	KV("application_name", "tessera-sqlresolver");
#undef KV
	kw[n] = val[n] = NULL;
	c->pg = PQconnectdbParams(kw, val, 0);
	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
		char msg[400];
		copy_msg(msg, sizeof(msg), c->pg ? PQerrorMessage(c->pg) : "out of memory");
		err_set(err, ERRK_PI, ERR_USER, "Could not connect to the PostgreSQL database: %s", msg);
		PQfinish(c->pg);
		c->pg = NULL;
		return -1;
	}
	PQsetNoticeProcessor(c->pg, pg_notice, NULL);
	return 0;
}

#ifndef TESSERA_HAVE_MYSQL
static int open_mysql(struct sqldb_conn *c, const struct sqldb_params *p, struct error *err)
{
	return err_set(err, ERRK_PI, ERR_USER, "MySQL/MariaDB support is not built into this server (libmariadb).");
}
#else
static int open_mysql(struct sqldb_conn *c, const struct sqldb_params *p, struct error *err)
{
	unsigned int tmo = (unsigned int)(p->connect_timeout > 0 ? p->connect_timeout : 10), rw = 30;
	unsigned int port = 0;
	pthread_once(&mysql_once, mysql_global_init);
	if (mysql_init_rc != 0)
		return err_internal(err, "MySQL client library initialisation failed");
	if (p->port && *p->port) {
		char *end;
		unsigned long v = strtoul(p->port, &end, 10);
		if (*end != '\0' || v > 65535)
			return err_param(err, "Invalid value for parameter 'Port'");
		port = (unsigned int)v;
	}
	c->my = mysql_init(NULL);
	if (c->my == NULL)
		return err_internal(err, "out of memory");
	mysql_options(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &tmo);
	mysql_options(c->my, MYSQL_OPT_READ_TIMEOUT, &rw);
	mysql_options(c->my, MYSQL_OPT_WRITE_TIMEOUT, &rw);
	mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* CLIENT_FOUND_ROWS: UPDATE reports matched rows, so "user not found"
	 * and "nothing changed" can be told apart. */
	if (mysql_real_connect(c->my, (p->server && *p->server) ? p->server : NULL, p->user, p->password,
			       p->database, port, NULL, CLIENT_FOUND_ROWS) == NULL) {
		char msg[400];
		copy_msg(msg, sizeof(msg), mysql_error(c->my));
		err_set(err, ERRK_PI, ERR_USER, "Could not connect to the MySQL database: %s", msg);
		mysql_close(c->my);
		c->my = NULL;
		return -1;
	}
	return 0;
}
#endif

struct sqldb_conn *sqldb_open(const struct sqldb_params *p, struct error *err)
{
	struct sqldb_conn *c = calloc(1, sizeof(*c));
	int rc;
	if (c == NULL) {
		err_internal(err, "out of memory");
		return NULL;
	}
	c->kind = p->kind;
	switch (p->kind) {
	case SQLDB_SQLITE: rc = open_sqlite(c, p, err); break;
	case SQLDB_PG: rc = open_pg(c, p, err); break;
	case SQLDB_MYSQL: rc = open_mysql(c, p, err); break;
	default: rc = err_internal(err, "unknown database kind");
	}
	if (rc != 0) {
		free(c);
		return NULL;
	}
	c->opened = c->last_used = mono_now();
	return c;
}

void sqldb_close(struct sqldb_conn *c)
{
	if (c == NULL)
		return;
	if (c->lite)
		sqlite3_close_v2(c->lite);
	if (c->pg)
		PQfinish(c->pg);
#ifdef TESSERA_HAVE_MYSQL
	if (c->my)
		mysql_close(c->my);
#endif
	free(c);
}

/* 1 when the connection still answers. */
static int conn_alive(struct sqldb_conn *c)
{
	switch (c->kind) {
	case SQLDB_SQLITE: return 1;
	case SQLDB_PG: {
		if (PQstatus(c->pg) != CONNECTION_OK)
			return 0;
		PGresult *r = PQexec(c->pg, "");
		int ok = r != NULL && PQresultStatus(r) == PGRES_EMPTY_QUERY;
		PQclear(r);
		return ok && PQstatus(c->pg) == CONNECTION_OK;
	}
#ifdef TESSERA_HAVE_MYSQL
	case SQLDB_MYSQL: return mysql_ping(c->my) == 0;
#else
	case SQLDB_MYSQL: return 0;
#endif
	}
	return 0;
}

/* ---- statements ------------------------------------------------------------------ */

static int exec_sqlite(struct sqldb_conn *c, const char *sql, const struct sqldb_val *params, int n,
		       sqldb_row_fn fn, void *ctx, long long *changes, struct error *err)
{
	sqlite3_stmt *st = NULL;
	struct sqldb_cell *cells = NULL;
	char **copies = NULL;
	int rc = 0, src;

	src = sqlite3_prepare_v2(c->lite, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		goto dberr;
	for (int i = 0; i < n; i++) {
		src = params[i].is_int ? sqlite3_bind_int64(st, i + 1, params[i].i)
				       : sqlite3_bind_text(st, i + 1, params[i].s, -1, SQLITE_TRANSIENT);
		if (src != SQLITE_OK)
			goto dberr;
	}
	int ncols = sqlite3_column_count(st);
	if (ncols > 0) {
		cells = calloc((size_t)ncols, sizeof(*cells));
		copies = calloc((size_t)ncols, sizeof(*copies));
		if (cells == NULL || copies == NULL) {
			rc = err_internal(err, "out of memory");
			goto out;
		}
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++) {
			int t = sqlite3_column_type(st, i);
			struct sqldb_cell *cell = &cells[i];
			memset(cell, 0, sizeof(*cell));
			free(copies[i]);
			copies[i] = NULL;
			if (t == SQLITE_NULL) {
				cell->is_null = 1;
				cell->s = "";
			} else if (t == SQLITE_BLOB) {
				/* Blobs are not NUL-terminated: copy. */
				int len = sqlite3_column_bytes(st, i);
				const void *b = sqlite3_column_blob(st, i);
				copies[i] = malloc((size_t)len + 1);
				if (copies[i] == NULL) {
					rc = err_internal(err, "out of memory");
					goto out;
				}
				if (len > 0)
					memcpy(copies[i], b, (size_t)len);
				copies[i][len] = '\0';
				cell->s = copies[i];
				cell->len = (size_t)len;
				cell->is_binary = 1;
			} else {
				cell->s = (const char *)sqlite3_column_text(st, i);
				cell->len = (size_t)sqlite3_column_bytes(st, i);
				cell->is_int = t == SQLITE_INTEGER;
				if (cell->s == NULL) {
					rc = err_internal(err, "out of memory");
					goto out;
				}
			}
		}
		if (fn != NULL && (rc = fn(ctx, cells, ncols)) != 0)
			goto out;
	}
	if (src != SQLITE_DONE)
		goto dberr;
	if (changes)
		*changes = sqlite3_changes64(c->lite);
	goto out;
dberr:
	err_set(err, ERRK_PI, ERR_USER, "SQL error: %s", sqlite3_errmsg(c->lite));
	rc = SQLDB_ERROR;
out:
	for (int i = 0; copies && i < sqlite3_column_count(st); i++)
		free(copies[i]);
	free(copies);
	free(cells);
	sqlite3_finalize(st);
	return rc;
}

/* Rewrite '?' placeholders as $1, $2 ...  Our statements contain no string
 * literals with '?' (identifiers are [A-Za-z0-9_.]). */
static char *pg_placeholders(const char *sql)
{
	size_t q = 0;
	for (const char *p = sql; *p; p++)
		q += *p == '?';
	char *out = malloc(strlen(sql) + q * 6 + 1), *o = out;
	int k = 0;
	if (out == NULL)
		return NULL;
	for (const char *p = sql; *p; p++) {
		if (*p == '?')
			o += sprintf(o, "$%d", ++k);
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int exec_pg(struct sqldb_conn *c, const char *sql, const struct sqldb_val *params, int n,
		   sqldb_row_fn fn, void *ctx, long long *changes, int *retryable, struct error *err)
{
	char *q = pg_placeholders(sql);
	const char **vals = calloc((size_t)n + 1, sizeof(*vals));
	char (*ints)[24] = calloc((size_t)n + 1, sizeof(*ints));
	struct sqldb_cell *cells = NULL;
	char **copies = NULL;
	PGresult *res = NULL;
	int rc = 0, ncols = 0;

	if (q == NULL || vals == NULL || ints == NULL) {
		rc = err_internal(err, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (params[i].is_int) {
			snprintf(ints[i], sizeof(ints[i]), "%lld", params[i].i);
			vals[i] = ints[i];
		} else {
			vals[i] = params[i].s;
		}
	}
	/* Parameter types unspecified: the server infers them from the
	 * column each one is compared with. */
	res = PQexecParams(c->pg, q, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK) {
		if (changes)
			*changes = atoll(PQcmdTuples(res));
		goto out;
	}
	if (st != PGRES_TUPLES_OK) {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		char msg[400];
		if (PQstatus(c->pg) != CONNECTION_OK) {
			c->broken = 1;
			if (retryable)
				*retryable = 1;
		}
		copy_msg(msg, sizeof(msg), res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
		err_set(err, ERRK_PI, ERR_USER, "SQL error: %s", msg);
		rc = (state != NULL && strncmp(state, "22", 2) == 0) ? SQLDB_BADVALUE : SQLDB_ERROR;
		goto out;
	}
	ncols = PQnfields(res);
	if (ncols > 0) {
		cells = calloc((size_t)ncols, sizeof(*cells));
		copies = calloc((size_t)ncols, sizeof(*copies));
		if (cells == NULL || copies == NULL) {
			rc = err_internal(err, "out of memory");
			goto out;
		}
	}
	if (changes)
		*changes = PQntuples(res);
	for (int r = 0; r < PQntuples(res); r++) {
		for (int i = 0; i < ncols; i++) {
			struct sqldb_cell *cell = &cells[i];
			Oid t = PQftype(res, i);
			memset(cell, 0, sizeof(*cell));
			free(copies[i]);
			copies[i] = NULL;
			if (PQgetisnull(res, r, i)) {
				cell->is_null = 1;
				cell->s = "";
				continue;
			}
			cell->s = PQgetvalue(res, r, i);
			cell->len = (size_t)PQgetlength(res, r, i);
			cell->is_int = t == 20 || t == 21 || t == 23; /* int8, int2, int4 */
			if (t == 17 && cell->len >= 2 && cell->s[0] == '\\' && cell->s[1] == 'x') {
				/* bytea, hex output format */
				size_t nb = (cell->len - 2) / 2;
				copies[i] = malloc(nb + 1);
				if (copies[i] == NULL) {
					rc = err_internal(err, "out of memory");
					goto out;
				}
				for (size_t k = 0; k < nb; k++) {
					int hi = hexval(cell->s[2 + 2 * k]), lo = hexval(cell->s[3 + 2 * k]);
					copies[i][k] = (char)((hi < 0 || lo < 0) ? '?' : hi * 16 + lo);
				}
				copies[i][nb] = '\0';
				cell->s = copies[i];
				cell->len = nb;
				cell->is_binary = 1;
			}
		}
		if (fn != NULL && (rc = fn(ctx, cells, ncols)) != 0)
			goto out;
	}
out:
	for (int i = 0; copies && i < ncols; i++)
		free(copies[i]);
	free(copies);
	free(cells);
	PQclear(res);
	free(q);
	free(vals);
	free(ints);
	return rc;
}

#ifdef TESSERA_HAVE_MYSQL
static int mysql_conn_error(unsigned int e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_CONNECTION_ERROR ||
	       e == CR_CONN_HOST_ERROR || e == CR_SERVER_LOST_EXTENDED;
}

static int exec_mysql(struct sqldb_conn *c, const char *sql, const struct sqldb_val *params, int n,
		      sqldb_row_fn fn, void *ctx, long long *changes, int *retryable, struct error *err)
{
	MYSQL_STMT *st = mysql_stmt_init(c->my);
	MYSQL_BIND *pb = NULL, *rb = NULL;
	MYSQL_RES *meta = NULL;
	unsigned long *plen = NULL, *rlen = NULL;
	my_bool *rnull = NULL;
	struct sqldb_cell *cells = NULL;
	char **bufs = NULL;
	int rc = 0, ncols = 0;

	if (st == NULL) {
		c->broken = 1;
		if (retryable)
			*retryable = 1;
		return err_set(err, ERRK_PI, ERR_USER, "SQL error: %s", mysql_error(c->my));
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0)
		goto dberr;
	if (n > 0) {
		pb = calloc((size_t)n, sizeof(*pb));
		plen = calloc((size_t)n, sizeof(*plen));
		if (pb == NULL || plen == NULL) {
			rc = err_internal(err, "out of memory");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			if (params[i].is_int) {
				pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
				pb[i].buffer = (void *)&params[i].i;
			} else {
				plen[i] = strlen(params[i].s);
				pb[i].buffer_type = MYSQL_TYPE_STRING;
				pb[i].buffer = (void *)params[i].s;
				pb[i].buffer_length = plen[i];
				pb[i].length = &plen[i];
			}
		}
		if (mysql_stmt_bind_param(st, pb) != 0)
			goto dberr;
	}
	if (mysql_stmt_execute(st) != 0)
		goto dberr;
	meta = mysql_stmt_result_metadata(st);
	if (meta == NULL) {
		if (changes)
			*changes = (long long)mysql_stmt_affected_rows(st);
		goto out;
	}
	ncols = (int)mysql_num_fields(meta);
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	rb = calloc((size_t)ncols, sizeof(*rb));
	rlen = calloc((size_t)ncols, sizeof(*rlen));
	rnull = calloc((size_t)ncols, sizeof(*rnull));
	cells = calloc((size_t)ncols, sizeof(*cells));
	bufs = calloc((size_t)ncols, sizeof(*bufs));
	if (rb == NULL || rlen == NULL || rnull == NULL || cells == NULL || bufs == NULL) {
		rc = err_internal(err, "out of memory");
		goto out;
	}
	/* Zero-length buffers: each fetch reports the real lengths, then each
	 * column is fetched into a buffer of exactly that size. */
	for (int i = 0; i < ncols; i++) {
		rb[i].buffer_type = MYSQL_TYPE_STRING;
		rb[i].length = &rlen[i];
		rb[i].is_null = &rnull[i];
	}
	if (mysql_stmt_bind_result(st, rb) != 0 || mysql_stmt_store_result(st) != 0)
		goto dberr;
	if (changes)
		*changes = (long long)mysql_stmt_num_rows(st);
	for (;;) {
		int f = mysql_stmt_fetch(st);
		if (f == MYSQL_NO_DATA)
			break;
		if (f == 1)
			goto dberr;
		for (int i = 0; i < ncols; i++) {
			struct sqldb_cell *cell = &cells[i];
			memset(cell, 0, sizeof(*cell));
			free(bufs[i]);
			bufs[i] = NULL;
			if (rnull[i]) {
				cell->is_null = 1;
				cell->s = "";
				continue;
			}
			bufs[i] = malloc(rlen[i] + 1);
			if (bufs[i] == NULL) {
				rc = err_internal(err, "out of memory");
				goto out;
			}
			MYSQL_BIND one;
			unsigned long got = 0;
			memset(&one, 0, sizeof(one));
			one.buffer_type = MYSQL_TYPE_STRING;
			one.buffer = bufs[i];
			one.buffer_length = rlen[i] + 1;
			one.length = &got;
			if (rlen[i] > 0 && mysql_stmt_fetch_column(st, &one, (unsigned int)i, 0) != 0)
				goto dberr;
			bufs[i][rlen[i]] = '\0';
			cell->s = bufs[i];
			cell->len = rlen[i];
			enum enum_field_types t = fields[i].type;
			cell->is_int = t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT || t == MYSQL_TYPE_LONG ||
				       t == MYSQL_TYPE_LONGLONG || t == MYSQL_TYPE_INT24;
			cell->is_binary = fields[i].charsetnr == 63 &&
					  (t == MYSQL_TYPE_STRING || t == MYSQL_TYPE_VAR_STRING || t == MYSQL_TYPE_BLOB ||
					   t == MYSQL_TYPE_TINY_BLOB || t == MYSQL_TYPE_MEDIUM_BLOB ||
					   t == MYSQL_TYPE_LONG_BLOB);
		}
		if (fn != NULL && (rc = fn(ctx, cells, ncols)) != 0)
			goto out;
	}
	goto out;
dberr: {
	unsigned int e = mysql_stmt_errno(st);
	char msg[400];
	copy_msg(msg, sizeof(msg), mysql_stmt_error(st));
	if (mysql_conn_error(e)) {
		c->broken = 1;
		if (retryable)
			*retryable = 1;
	}
	err_set(err, ERRK_PI, ERR_USER, "SQL error: %s", msg);
	rc = SQLDB_ERROR;
}
out:
	for (int i = 0; bufs && i < ncols; i++)
		free(bufs[i]);
	free(bufs);
	free(cells);
	free(rnull);
	free(rlen);
	free(rb);
	free(plen);
	free(pb);
	if (meta)
		mysql_free_result(meta);
	mysql_stmt_close(st);
	return rc;
}
#endif

int sqldb_exec(struct sqldb_conn *c, const char *sql, const struct sqldb_val *params, int nparams,
	       sqldb_row_fn fn, void *ctx, long long *changes, int *retryable, struct error *err)
{
	if (retryable)
		*retryable = 0;
	if (changes)
		*changes = 0;
	switch (c->kind) {
	case SQLDB_SQLITE: return exec_sqlite(c, sql, params, nparams, fn, ctx, changes, err);
	case SQLDB_PG: return exec_pg(c, sql, params, nparams, fn, ctx, changes, retryable, err);
#ifdef TESSERA_HAVE_MYSQL
	case SQLDB_MYSQL: return exec_mysql(c, sql, params, nparams, fn, ctx, changes, retryable, err);
#else
	case SQLDB_MYSQL: break;
#endif
	}
	return err_internal(err, "unknown database kind");
}

/* ---- the pool ------------------------------------------------------------------------ */

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

struct sqldb_pool *sqldb_pool_new(const struct sqldb_params *p, int size, int timeout, int recycle,
				  struct error *err)
{
	struct sqldb_pool *pool = calloc(1, sizeof(*pool));
	if (pool == NULL) {
		err_internal(err, "out of memory");
		return NULL;
	}
	pool->p.kind = p->kind;
	pool->p.connect_timeout = p->connect_timeout;
	pool->p.server = dup_or_empty(p->server);
	pool->p.port = dup_or_empty(p->port);
	pool->p.database = dup_or_empty(p->database);
	pool->p.user = dup_or_empty(p->user);
	pool->p.password = dup_or_empty(p->password);
	if (!pool->p.server || !pool->p.port || !pool->p.database || !pool->p.user || !pool->p.password) {
		sqldb_params_clear(&pool->p);
		free(pool);
		err_internal(err, "out of memory");
		return NULL;
	}
	pool->size = size > 0 ? size : 1;
	pool->timeout = timeout >= 0 ? timeout : 0;
	pool->recycle = recycle > 0 ? recycle : 0;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->cond, &ca);
	pthread_condattr_destroy(&ca);
	return pool;
}

void sqldb_pool_free(struct sqldb_pool *pool)
{
	if (pool == NULL)
		return;
	/* Callers have returned every connection (the instance is going away). */
	while (pool->idle) {
		struct sqldb_conn *c = pool->idle;
		pool->idle = c->next;
		sqldb_close(c);
	}
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	sqldb_params_clear(&pool->p);
	free(pool);
}

enum sqldb_kind sqldb_pool_kind(const struct sqldb_pool *pool)
{
	return pool->p.kind;
}

/* Give up a slot (after a failed open or a broken connection). */
static void pool_drop_slot(struct sqldb_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->total--;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

struct sqldb_conn *sqldb_acquire(struct sqldb_pool *pool, struct error *err)
{
	struct timespec deadline;
	struct sqldb_conn *c = NULL;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += pool->timeout;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		if (pool->idle != NULL) {
			c = pool->idle;
			pool->idle = c->next;
			c->next = NULL;
			break;
		}
		if (pool->total < pool->size) {
			pool->total++;
			break;
		}
		int w = pthread_cond_timedwait(&pool->cond, &pool->lock, &deadline);
		if (w == ETIMEDOUT && pool->idle == NULL && pool->total >= pool->size) {
			pthread_mutex_unlock(&pool->lock);
			err_set(err, ERRK_PI, ERR_USER,
				"No free database connection within poolTimeout (%d s, poolSize %d)", pool->timeout,
				pool->size);
			return NULL;
		}
	}
	pthread_mutex_unlock(&pool->lock);

	if (c != NULL) {
		time_t now = mono_now();
		int stale = pool->recycle > 0 && now - c->opened >= pool->recycle;
		if (!stale && now - c->last_used >= PING_IDLE && !conn_alive(c))
			stale = 1;
		if (!stale)
			return c;
		sqldb_close(c);
	}
	/* We hold a slot: open a connection for it. */
	c = sqldb_open(&pool->p, err);
	if (c == NULL)
		pool_drop_slot(pool);
	return c;
}

void sqldb_release(struct sqldb_pool *pool, struct sqldb_conn *c)
{
	if (c == NULL)
		return;
	if (c->broken) {
		sqldb_close(c);
		pool_drop_slot(pool);
		return;
	}
	c->last_used = mono_now();
	pthread_mutex_lock(&pool->lock);
	c->next = pool->idle;
	pool->idle = c;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}
