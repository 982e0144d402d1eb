/*
 * db_pg.c — the PostgreSQL back end of db.h (libpq).
 *
 * Connections are opened with PQconnectdbParams from the keyword/value
 * pairs db.c parsed out of the URI (expand_dbname = 0, so no value is ever
 * re-parsed as a connection string).  Portable `?` placeholders become $n;
 * each static statement is PQprepare'd once per connection and run with
 * PQexecPrepared: parameters in text format (integers as decimal), blobs
 * in binary format, results in text format.
 *
 * It must not: build SQL or connection strings from values, print notices
 * to stderr, or keep state outside the connection.
 */
#include "db_impl.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_MAX_PARAMS 65535
#define PG_NUM_LEN 32

struct pg_stmt {
	char name[24];
	int nparams;
	char *text; /* copy of the portable SQL, to detect a reused pointer */
};

struct pg_conn {
	PGconn *h;
	struct stmt_map cache;
	unsigned long seq; /* statement names: tsr1, tsr2, ... */
};

struct pg_res {
	struct db_res base;
	PGresult *res;
	int row, nrows, ncols;
};

static struct pg_conn *pg(struct db_conn *c)
{
	return c->be;
}

static void pg_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* "relation already exists, skipping" and friends */
}

static int first_line(const char *s)
{
	return (int)strcspn(s, "\n");
}

static int pg_fail(struct pg_conn *s, const PGresult *res, const char *sql, struct error *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	/* Only the primary message: DETAIL lines can quote row values. */
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!msg || !*msg)
		msg = PQerrorMessage(s->h);
	int code = ERR_INTERNAL;
	if (state && strcmp(state, "23505") == 0)
		code = ERR_DB_UNIQUE;
	else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")))
		code = ERR_DB_BUSY;
	else if (PQstatus(s->h) != CONNECTION_OK || (state && (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3))))
		code = ERR_DB_CONN;
	return err_set(err, ERRK_INTERNAL, code, "postgresql: %.*s (SQLSTATE %s) [%.*s]", first_line(msg), msg,
		       state ? state : "none", DB_ERR_SQL_CHARS, sql ? sql : "");
}

/* 0 if *res succeeded; otherwise fills err, clears *res and returns -1. */
static int pg_result_ok(struct pg_conn *s, PGresult **res, const char *sql, struct error *err)
{
	ExecStatusType st = *res ? PQresultStatus(*res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	pg_fail(s, *res, sql, err);
	PQclear(*res);
	*res = NULL;
	return -1;
}

/* Run a parameterless command (transaction control, DEALLOCATE). */
static int pg_simple(struct pg_conn *s, const char *sql, struct error *err)
{
	PGresult *res = PQexec(s->h, sql);
	if (pg_result_ok(s, &res, sql, err) < 0)
		return -1;
	PQclear(res);
	return 0;
}

/* ---- connection ---- */

static int pg_open(struct db_conn *c, const struct db_uri *u, struct error *err)
{
	struct pg_conn *s = calloc(1, sizeof(*s));
	if (!s)
		return err_internal(err, "out of memory");
	s->h = PQconnectdbParams(u->kw, u->val, 0);
	if (!s->h) {
		free(s);
		return err_internal(err, "out of memory");
	}
	if (PQstatus(s->h) != CONNECTION_OK) {
		const char *m = PQerrorMessage(s->h);
		err_set(err, ERRK_INTERNAL, ERR_DB_CONN, "postgresql: cannot connect: %.*s", first_line(m), m);
		PQfinish(s->h);
		free(s);
		return -1;
	}
	PQsetNoticeProcessor(s->h, pg_quiet, NULL);
	c->be = s;
	return 0;
}

static void pg_stmt_free(void *val, void *ctx)
{
	struct pg_stmt *e = val;
	(void)ctx;
	free(e->text);
	free(e);
}

static void pg_close(struct db_conn *c)
{
	struct pg_conn *s = pg(c);
	stmt_map_clear(&s->cache, pg_stmt_free, NULL);
	PQfinish(s->h);
	free(s);
	c->be = NULL;
}

/* On borrowing: notice a connection the server closed while it idled in
 * the pool (restart, pg_terminate_backend) and reconnect it. */
static int pg_check(struct db_conn *c, struct error *err)
{
	struct pg_conn *s = pg(c);
	/* Two reads: the first may only fetch the server's FATAL message, the
	 * second then sees EOF and marks the connection bad. */
	for (int i = 0; i < 2 && PQstatus(s->h) == CONNECTION_OK; i++)
		if (!PQconsumeInput(s->h))
			break;
	if (PQstatus(s->h) == CONNECTION_OK && PQtransactionStatus(s->h) != PQTRANS_UNKNOWN)
		return 0;
	/* A new session has none of our prepared statements. */
	stmt_map_clear(&s->cache, pg_stmt_free, NULL);
	PQreset(s->h);
	if (PQstatus(s->h) != CONNECTION_OK) {
		const char *m = PQerrorMessage(s->h);
		return err_set(err, ERRK_INTERNAL, ERR_DB_CONN, "postgresql: reconnect failed: %.*s",
			       first_line(m), m);
	}
	return 0;
}

/* ---- statements ---- */

/* Copy sql with every `?` outside quotes and comments replaced by $1..$n. */
static char *pg_rewrite(const char *sql, int *count, struct error *err)
{
	size_t len = strlen(sql), marks = 0;
	for (const char *p = sql; *p; p++)
		marks += *p == '?';
	if (marks > PG_MAX_PARAMS) {
		err_internal(err, "too many parameters [%.*s]", DB_ERR_SQL_CHARS, sql);
		return NULL;
	}
	size_t cap = len + marks * 6 + 1, o = 0;
	char *out = malloc(cap);
	if (!out) {
		err_internal(err, "out of memory");
		return NULL;
	}
	enum { NORMAL, SQUOTE, DQUOTE, LINE, BLOCK } st = NORMAL;
	int n = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = sql[i], nx = sql[i + 1];
		if (st == NORMAL && ch == '?') {
			o += (size_t)snprintf(out + o, cap - o, "$%d", ++n);
			continue;
		}
		if (st == NORMAL) {
			if (ch == '\'')
				st = SQUOTE;
			else if (ch == '"')
				st = DQUOTE;
			else if ((ch == '-' && nx == '-') || (ch == '/' && nx == '*')) {
				st = ch == '-' ? LINE : BLOCK;
				out[o++] = ch;
				ch = sql[++i];
			}
		} else if ((st == SQUOTE && ch == '\'') || (st == DQUOTE && ch == '"') || (st == LINE && ch == '\n')) {
			st = NORMAL; /* '' inside a literal closes and reopens: same result */
		} else if (st == BLOCK && ch == '*' && nx == '/') {
			st = NORMAL;
			out[o++] = ch;
			ch = sql[++i];
		}
		out[o++] = ch;
	}
	out[o] = '\0';
	*count = n;
	return out;
}

static void pg_stmt_drop(struct pg_conn *s, struct pg_stmt *e)
{
	char cmd[48];
	snprintf(cmd, sizeof(cmd), "DEALLOCATE %s", e->name); /* our own name, never input */
	pg_simple(s, cmd, NULL);
	pg_stmt_free(e, NULL);
}

/* The prepared statement for static sql, preparing it on first use. */
static int pg_get(struct pg_conn *s, const char *sql, struct pg_stmt **out, struct error *err)
{
	struct pg_stmt *old = stmt_map_get(&s->cache, sql);
	if (old && strcmp(old->text, sql) == 0) {
		*out = old;
		return 0;
	}
	int n;
	char *text = pg_rewrite(sql, &n, err);
	if (!text)
		return -1;
	struct pg_stmt *e = calloc(1, sizeof(*e));
	if (!e || !(e->text = strdup(sql))) {
		free(e);
		free(text);
		return err_internal(err, "out of memory");
	}
	snprintf(e->name, sizeof(e->name), "tsr%lu", ++s->seq);
	e->nparams = n;
	PGresult *res = PQprepare(s->h, e->name, text, n, NULL);
	free(text);
	if (pg_result_ok(s, &res, sql, err) < 0) {
		pg_stmt_free(e, NULL);
		return -1;
	}
	PQclear(res);
	if (stmt_map_put(&s->cache, sql, e) < 0) {
		pg_stmt_drop(s, e);
		return err_internal(err, "out of memory");
	}
	if (old) /* the pointer was reused for other text: not static SQL */
		pg_stmt_drop(s, old);
	*out = e;
	return 0;
}

struct pg_args {
	const char **val;
	int *len, *fmt;
	char *num;
	void *mem;
};

static void pg_real(char *buf, double d)
{
	if (isnan(d))
		snprintf(buf, PG_NUM_LEN, "NaN");
	else if (isinf(d))
		snprintf(buf, PG_NUM_LEN, d > 0 ? "Infinity" : "-Infinity");
	else
		snprintf(buf, PG_NUM_LEN, "%.17g", d);
}

static int pg_args_build(const struct db_param *p, int np, struct pg_args *a, struct error *err)
{
	memset(a, 0, sizeof(*a));
	if (np == 0)
		return 0;
	a->mem = malloc((size_t)np * (sizeof(char *) + 2 * sizeof(int) + PG_NUM_LEN));
	if (!a->mem)
		return err_internal(err, "out of memory");
	a->val = a->mem;
	a->len = (int *)(a->val + np);
	a->fmt = a->len + np;
	a->num = (char *)(a->fmt + np);
	for (int i = 0; i < np; i++) {
		char *num = a->num + (size_t)i * PG_NUM_LEN;
		a->val[i] = NULL;
		a->len[i] = 0;
		a->fmt[i] = 0;
		switch (p[i].type) {
		case DBP_NULL:
			break;
		case DBP_INT:
			snprintf(num, PG_NUM_LEN, "%" PRId64, p[i].i);
			a->val[i] = num;
			break;
		case DBP_REAL:
			pg_real(num, p[i].d);
			a->val[i] = num;
			break;
		case DBP_TEXT:
			a->val[i] = p[i].s;
			break;
		case DBP_BLOB:
			if ((!p[i].s && p[i].len) || p[i].len > INT_MAX)
				goto bad;
			a->val[i] = p[i].s ? p[i].s : "";
			a->len[i] = (int)p[i].len;
			a->fmt[i] = 1;
			break;
		default:
			goto bad;
		}
		continue;
bad:
		free(a->mem);
		a->mem = NULL;
		return err_internal(err, "invalid parameter %d", i + 1);
	}
	return 0;
}

/* Prepare (if needed), bind and execute; *res holds a successful result. */
static int pg_run(struct pg_conn *s, const char *sql, int cached, const struct db_param *p, int np,
		  PGresult **res, struct error *err)
{
	struct pg_args a;
	int n = 0, rc = -1;
	char *text = NULL;
	struct pg_stmt *e = NULL;
	*res = NULL;
	if (pg_args_build(p, np, &a, err) < 0)
		return -1;
	if (cached ? pg_get(s, sql, &e, err) < 0 : !(text = pg_rewrite(sql, &n, err)))
		goto out;
	if (e)
		n = e->nparams;
	if (n != np) {
		err_internal(err, "statement takes %d parameters, %d given [%.*s]", n, np, DB_ERR_SQL_CHARS, sql);
		goto out;
	}
	if (e)
		*res = PQexecPrepared(s->h, e->name, np, a.val, a.len, a.fmt, 0);
	else
		*res = PQexecParams(s->h, text, np, NULL, a.val, a.len, a.fmt, 0);
	rc = pg_result_ok(s, res, sql, err);
out:
	free(text);
	free(a.mem);
	return rc;
}

static int pg_exec(struct db_conn *c, const char *sql, int cached, const struct db_param *p, int np,
		   int64_t *affected, struct error *err)
{
	PGresult *res;
	if (pg_run(pg(c), sql, cached, p, np, &res, err) < 0)
		return -1;
	if (affected)
		*affected = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

static int pg_query(struct db_conn *c, const char *sql, int cached, const struct db_param *p, int np,
		    struct db_res **out, struct error *err)
{
	PGresult *res;
	if (pg_run(pg(c), sql, cached, p, np, &res, err) < 0)
		return -1;
	struct pg_res *r = calloc(1, sizeof(*r));
	if (!r) {
		PQclear(res);
		return err_internal(err, "out of memory");
	}
	r->base.conn = c;
	r->res = res;
	r->row = -1;
	r->nrows = PQntuples(res);
	r->ncols = PQnfields(res);
	*out = &r->base;
	return 0;
}

static int pg_script(struct db_conn *c, const char *sql, struct error *err)
{
	return pg_simple(pg(c), sql, err);
}

/* ---- results (the whole result set is already in memory) ---- */

static int pg_next(struct db_res *base, struct error *err)
{
	struct pg_res *r = (struct pg_res *)base;
	(void)err;
	if (r->row + 1 >= r->nrows) {
		r->row = r->nrows;
		return 0;
	}
	r->row++;
	return 1;
}

static const char *pg_text(struct db_res *base, int col)
{
	struct pg_res *r = (struct pg_res *)base;
	if (r->row < 0 || r->row >= r->nrows || col < 0 || col >= r->ncols || PQgetisnull(r->res, r->row, col))
		return NULL;
	return PQgetvalue(r->res, r->row, col);
}

static int pg_isnull(struct db_res *base, int col)
{
	return pg_text(base, col) == NULL;
}

static int64_t pg_int(struct db_res *base, int col)
{
	const char *v = pg_text(base, col);
	if (!v)
		return 0;
	if (v[0] == 't' && v[1] == '\0')
		return 1; /* boolean */
	if (v[0] == 'f' && v[1] == '\0')
		return 0;
	return strtoll(v, NULL, 10);
}

static double pg_real_col(struct db_res *base, int col)
{
	const char *v = pg_text(base, col);
	return v ? strtod(v, NULL) : 0.0;
}

static void pg_free_res(struct db_res *base)
{
	struct pg_res *r = (struct pg_res *)base;
	PQclear(r->res);
	free(r);
}

/* ---- transactions ---- */

static int pg_begin(struct db_conn *c, int write, struct error *err)
{
	(void)write; /* row locks / db_lock_xact serialise writers on PostgreSQL */
	return pg_simple(pg(c), "BEGIN", err);
}

static int pg_rollback(struct db_conn *c)
{
	struct pg_conn *s = pg(c);
	PGTransactionStatusType ts = PQtransactionStatus(s->h);
	if (ts == PQTRANS_IDLE)
		return 0;
	if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR)
		return -1; /* busy or broken: db_acquire's check resets it */
	return pg_simple(s, "ROLLBACK", NULL);
}

static int pg_commit(struct db_conn *c, struct error *err)
{
	struct pg_conn *s = pg(c);
	PGTransactionStatusType ts = PQtransactionStatus(s->h);
	if (ts == PQTRANS_INERROR) {
		pg_rollback(c);
		return err_internal(err, "postgresql: transaction aborted by an earlier error, rolled back");
	}
	if (ts != PQTRANS_INTRANS)
		return err_internal(err, "postgresql: COMMIT without a transaction");
	PGresult *res = PQexec(s->h, "COMMIT");
	if (pg_result_ok(s, &res, "COMMIT", err) < 0)
		return -1;
	/* A COMMIT that the server turned into a ROLLBACK is a failure. */
	int ok = strcmp(PQcmdStatus(res), "COMMIT") == 0;
	PQclear(res);
	return ok ? 0 : err_internal(err, "postgresql: transaction was rolled back at COMMIT");
}

static int pg_lock_xact(struct db_conn *c, int64_t key, struct error *err)
{
	struct pg_conn *s = pg(c);
	if (PQtransactionStatus(s->h) != PQTRANS_INTRANS)
		return err_internal(err, "db_lock_xact outside a transaction");
	struct db_param p[] = { DB_INT(key) };
	PGresult *res;
	if (pg_run(s, "SELECT pg_advisory_xact_lock(CAST(? AS BIGINT))", 1, p, 1, &res, err) < 0)
		return -1;
	PQclear(res);
	return 0;
}

const struct db_ops db_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.check = pg_check,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.lock_xact = pg_lock_xact,
	.exec = pg_exec,
	.query = pg_query,
	.script = pg_script,
	.next = pg_next,
	.isnull = pg_isnull,
	.text = pg_text,
	.getint = pg_int,
	.getreal = pg_real_col,
	.free_res = pg_free_res,
};
