/*
 * db.c — the storage front end: database URIs, the bounded connection pool
 * and dispatch of db.h calls to the back end (db_sqlite.c / db_pg.c).
 *
 * It knows no table and writes no SQL of its own, and it never logs or
 * copies the values bound to statements.  The pool's mutex and condition
 * variable live in struct db: there is no global state in this file.
 */
#include "db_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct db {
	enum db_backend backend;
	const struct db_ops *ops;
	struct db_uri uri;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pool_max;
	int nopen;             /* idle + borrowed + being opened */
	struct db_conn *idle;  /* LIFO: the warmest connection is reused first */
};

/* ======================================================================
 * URI parsing
 * ====================================================================== */

static const struct {
	const char *name;
	enum db_backend backend;
} uri_schemes[] = {
	{ "sqlite", DB_SQLITE },
	{ "sqlite+pysqlite", DB_SQLITE },
	{ "postgresql", DB_POSTGRES },
	{ "postgres", DB_POSTGRES },
	{ "postgresql+psycopg2", DB_POSTGRES },
	{ "postgresql+psycopg", DB_POSTGRES },
};

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into a new string.  plus_space turns '+' into a
 * blank (query strings, as SQLAlchemy's parse_qsl does).  A decoded NUL is
 * refused: it would silently cut the value short. */
static char *pct_decode(const char *s, size_t n, int plus_space, struct error *err)
{
	char *out = malloc(n + 1);
	if (!out) {
		err_internal(err, "out of memory");
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n) {
				free(out);
				err_internal(err, "invalid percent-escape in database URI");
				return NULL;
			}
			int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				free(out);
				err_internal(err, "invalid percent-escape in database URI");
				return NULL;
			}
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else if (plus_space && s[i] == '+') {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static int uri_add(struct db_uri *u, const char *kw, size_t kwlen, char *val, struct error *err)
{
	if (u->nkw >= DB_URI_MAXKW) {
		free(val);
		return err_internal(err, "too many options in database URI");
	}
	char *k = strndup(kw, kwlen);
	if (!k) {
		free(val);
		return err_internal(err, "out of memory");
	}
	u->kw[u->nkw] = k;
	u->val[u->nkw] = val;
	u->nkw++;
	return 0;
}

/* Add kw = decoded s[0..n) unless the component is empty. */
static int uri_add_part(struct db_uri *u, const char *kw, const char *s, size_t n, struct error *err)
{
	if (n == 0)
		return 0;
	char *v = pct_decode(s, n, 0, err);
	if (!v)
		return -1;
	return uri_add(u, kw, strlen(kw), v, err);
}

static int uri_add_const(struct db_uri *u, const char *kw, const char *val, struct error *err)
{
	char *v = strdup(val);
	if (!v)
		return err_internal(err, "out of memory");
	return uri_add(u, kw, strlen(kw), v, err);
}

/* sqlite:///relative/path or sqlite:////absolute/path; rest follows "://". */
static int uri_parse_sqlite(const char *rest, struct db_uri *u, struct error *err)
{
	if (*rest == '\0')
		return err_internal(err, "database URI 'sqlite://' names no file (in-memory databases are "
					 "not supported): use sqlite:////absolute/path or sqlite:///relative/path");
	if (*rest != '/')
		return err_internal(err, "invalid SQLite database URI: use sqlite:////absolute/path or "
					 "sqlite:///relative/path");
	const char *path = rest + 1;
	size_t n = strcspn(path, "?");
	if (n == 0 || (n == 8 && strncmp(path, ":memory:", 8) == 0))
		return err_internal(err, "the SQLite database URI names no file (in-memory databases are "
					 "not supported)");
	u->path = strndup(path, n);
	return u->path ? 0 : err_internal(err, "out of memory");
}

/* [user[:password]@] — n is the length up to (excluding) the '@'. */
static int uri_parse_userinfo(const char *s, size_t n, struct db_uri *u, struct error *err)
{
	const char *colon = memchr(s, ':', n);
	size_t ulen = colon ? (size_t)(colon - s) : n;
	if (uri_add_part(u, "user", s, ulen, err) < 0)
		return -1;
	if (colon && uri_add_part(u, "password", colon + 1, n - ulen - 1, err) < 0)
		return -1;
	return 0;
}

static int uri_check_port(const char *s, size_t n, struct error *err)
{
	long v = 0;
	if (n == 0 || n > 5)
		return err_internal(err, "invalid port in database URI");
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return err_internal(err, "invalid port in database URI");
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return err_internal(err, "invalid port in database URI");
	return 0;
}

/* host[:port] or [v6addr][:port]; the host may be a %-encoded socket dir. */
static int uri_parse_hostport(const char *s, size_t n, struct db_uri *u, struct error *err)
{
	const char *host = s, *port = NULL;
	size_t hlen = n, plen = 0;
	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb)
			return err_internal(err, "invalid IPv6 host in database URI");
		host = s + 1;
		hlen = (size_t)(rb - host);
		const char *after = rb + 1;
		if (after < s + n) {
			if (*after != ':')
				return err_internal(err, "invalid host in database URI");
			port = after + 1;
			plen = (size_t)(s + n - port);
		}
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
			plen = n - hlen - 1;
		}
	}
	if (uri_add_part(u, "host", host, hlen, err) < 0)
		return -1;
	if (port && (uri_check_port(port, plen, err) < 0 || uri_add_part(u, "port", port, plen, err) < 0))
		return -1;
	return 0;
}

/* ?k=v&k2=v2 — each becomes a libpq keyword. */
static int uri_parse_query(const char *q, struct db_uri *u, struct error *err)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		if (n > 0) {
			if (!eq || eq == q)
				return err_internal(err, "invalid option in database URI (expected key=value)");
			char *k = pct_decode(q, (size_t)(eq - q), 1, err);
			if (!k)
				return -1;
			char *v = pct_decode(eq + 1, n - (size_t)(eq - q) - 1, 1, err);
			if (!v) {
				free(k);
				return -1;
			}
			int rc = uri_add(u, k, strlen(k), v, err);
			free(k);
			if (rc < 0)
				return -1;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* postgresql://[user[:password]@][host][:port][/dbname][?k=v&...] */
static int uri_parse_pg(const char *rest, struct db_uri *u, struct error *err)
{
	/* Defaults first: libpq lets later keywords override earlier ones. */
	if (uri_add_const(u, "connect_timeout", "10", err) < 0 ||
	    uri_add_const(u, "application_name", "tessera", err) < 0 ||
	    uri_add_const(u, "client_encoding", "UTF8", err) < 0)
		return -1;
	const char *q = strchr(rest, '?');
	const char *end = q ? q : rest + strlen(rest);
	/* The user info ends at the LAST '@', so an unencoded '@' or '/' in a
	 * password still parses the way the administrator meant. */
	const char *at = memrchr(rest, '@', (size_t)(end - rest));
	const char *hp = at ? at + 1 : rest;
	if (at && uri_parse_userinfo(rest, (size_t)(at - rest), u, err) < 0)
		return -1;
	const char *slash = memchr(hp, '/', (size_t)(end - hp));
	const char *hend = slash ? slash : end;
	if (uri_parse_hostport(hp, (size_t)(hend - hp), u, err) < 0)
		return -1;
	if (slash && uri_add_part(u, "dbname", slash + 1, (size_t)(end - slash - 1), err) < 0)
		return -1;
	if (q && uri_parse_query(q + 1, u, err) < 0)
		return -1;
	return 0;
}

int db_uri_parse(const char *uri, struct db_uri *u, struct error *err)
{
	memset(u, 0, sizeof(*u));
	if (!uri || !*uri)
		return err_internal(err, "no database URI configured");
	const char *sep = strstr(uri, "://");
	if (!sep)
		return err_internal(err, "invalid database URI: expected <scheme>://...");
	size_t slen = (size_t)(sep - uri);
	size_t i;
	for (i = 0; i < sizeof(uri_schemes) / sizeof(uri_schemes[0]); i++)
		if (strlen(uri_schemes[i].name) == slen && strncasecmp(uri, uri_schemes[i].name, slen) == 0)
			break;
	if (i == sizeof(uri_schemes) / sizeof(uri_schemes[0]))
		return err_internal(err, "unsupported database URI scheme '%.*s'", slen > 40 ? 40 : (int)slen,
				    uri);
	u->backend = uri_schemes[i].backend;
	int rc = u->backend == DB_SQLITE ? uri_parse_sqlite(sep + 3, u, err) : uri_parse_pg(sep + 3, u, err);
	if (rc < 0)
		db_uri_free(u);
	return rc;
}

const char *db_uri_get(const struct db_uri *u, const char *kw)
{
	const char *v = NULL;
	for (int i = 0; i < u->nkw; i++)
		if (strcmp(u->kw[i], kw) == 0)
			v = u->val[i];
	return v;
}

void db_uri_free(struct db_uri *u)
{
	for (int i = 0; i < u->nkw; i++) {
		free((char *)u->kw[i]);
		free((char *)u->val[i]);
	}
	free(u->path);
	memset(u, 0, sizeof(*u));
}

/* ======================================================================
 * Statement cache (open addressing on the SQL text pointer)
 * ====================================================================== */

static size_t stmt_hash(const char *key, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)key;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h & (cap - 1);
}

void *stmt_map_get(const struct stmt_map *m, const char *key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = stmt_hash(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slot[i].key == key)
			return m->slot[i].val;
		if (!m->slot[i].key)
			return NULL;
	}
}

static int stmt_map_grow(struct stmt_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct stmt_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slot[i].key)
			continue;
		size_t j = stmt_hash(m->slot[i].key, ncap);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = m->slot[i];
	}
	free(m->slot);
	m->slot = ns;
	m->cap = ncap;
	return 0;
}

int stmt_map_put(struct stmt_map *m, const char *key, void *val)
{
	if ((m->n + 1) * 2 > m->cap && stmt_map_grow(m) < 0)
		return -1;
	size_t i = stmt_hash(key, m->cap);
	while (m->slot[i].key && m->slot[i].key != key)
		i = (i + 1) & (m->cap - 1);
	if (!m->slot[i].key)
		m->n++;
	m->slot[i].key = key;
	m->slot[i].val = val;
	return 0;
}

void stmt_map_clear(struct stmt_map *m, void (*fn)(void *val, void *ctx), void *ctx)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slot[i].key && fn)
			fn(m->slot[i].val, ctx);
	free(m->slot);
	m->slot = NULL;
	m->cap = m->n = 0;
}

/* ======================================================================
 * Pool
 * ====================================================================== */

static void txn_reset(struct db_conn *c)
{
	c->in_txn = 0;
	c->txn_failed = 0;
}

struct db *db_open(const char *uri, int pool_max, struct error *err)
{
	if (pool_max < 1) {
		err_internal(err, "the database pool size must be at least 1");
		return NULL;
	}
	struct db *db = calloc(1, sizeof(*db));
	if (!db) {
		err_internal(err, "out of memory");
		return NULL;
	}
	if (db_uri_parse(uri, &db->uri, err) < 0) {
		free(db);
		return NULL;
	}
	db->backend = db->uri.backend;
	db->ops = db->backend == DB_SQLITE ? &db_sqlite_ops : &db_pg_ops;
	db->pool_max = pool_max;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&db->mu, NULL);
	pthread_cond_init(&db->cv, &ca);
	pthread_condattr_destroy(&ca);
	return db;
}

static void conn_destroy(struct db_conn *c)
{
	if (c->be)
		c->db->ops->close(c);
	free(c);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&db->mu);
	struct db_conn *c = db->idle;
	db->idle = NULL;
	pthread_mutex_unlock(&db->mu);
	while (c) {
		struct db_conn *next = c->next_idle;
		conn_destroy(c);
		c = next;
	}
	pthread_cond_destroy(&db->cv);
	pthread_mutex_destroy(&db->mu);
	db_uri_free(&db->uri);
	free(db);
}

enum db_backend db_backend(const struct db *db)
{
	return db->backend;
}

void db_pool_stats(struct db *db, int *open, int *idle)
{
	pthread_mutex_lock(&db->mu);
	int n = 0;
	for (struct db_conn *c = db->idle; c; c = c->next_idle)
		n++;
	if (open)
		*open = db->nopen;
	if (idle)
		*idle = n;
	pthread_mutex_unlock(&db->mu);
}

/* Take an idle connection, or reserve a slot for a new one (returned with
 * c->be == NULL), waiting while pool_max connections are borrowed. */
static struct db_conn *pool_take(struct db *db, struct error *err)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += DB_ACQUIRE_TIMEOUT;
	pthread_mutex_lock(&db->mu);
	while (!db->idle && db->nopen >= db->pool_max) {
		int rc = pthread_cond_timedwait(&db->cv, &db->mu, &deadline);
		if (rc == ETIMEDOUT && !db->idle && db->nopen >= db->pool_max) {
			pthread_mutex_unlock(&db->mu);
			err_set(err, ERRK_INTERNAL, ERR_DB_BUSY, "no database connection free after %d s (pool size %d)",
				DB_ACQUIRE_TIMEOUT, db->pool_max);
			return NULL;
		}
	}
	struct db_conn *c = db->idle;
	if (c) {
		db->idle = c->next_idle;
		c->next_idle = NULL;
		pthread_mutex_unlock(&db->mu);
		return c;
	}
	db->nopen++;
	pthread_mutex_unlock(&db->mu);
	c = calloc(1, sizeof(*c));
	if (!c) {
		pthread_mutex_lock(&db->mu);
		db->nopen--;
		pthread_cond_signal(&db->cv);
		pthread_mutex_unlock(&db->mu);
		err_internal(err, "out of memory");
		return NULL;
	}
	c->db = db;
	return c;
}

/* Give up a connection that cannot be used: close it and free its slot. */
static void pool_drop(struct db_conn *c)
{
	struct db *db = c->db;
	conn_destroy(c);
	pthread_mutex_lock(&db->mu);
	db->nopen--;
	pthread_cond_signal(&db->cv);
	pthread_mutex_unlock(&db->mu);
}

struct db_conn *db_acquire(struct db *db, struct error *err)
{
	struct db_conn *c = pool_take(db, err);
	if (!c)
		return NULL;
	int rc;
	if (!c->be) {
		rc = db->ops->open(c, &db->uri, err);
	} else {
		rc = db->ops->check(c, err);
		if (rc == 0 && c->failed && db->ops->rollback(c) < 0)
			rc = err_set(err, ERRK_INTERNAL, ERR_DB_CONN, "could not roll back a failed connection");
	}
	txn_reset(c);
	if (rc < 0) {
		pool_drop(c);
		return NULL;
	}
	c->failed = 0;
	return c;
}

void db_release(struct db_conn *c)
{
	if (!c)
		return;
	struct db *db = c->db;
	/* A handler that forgot to commit must not leave a transaction (and
	 * its locks) open; a failed rollback is retried at the next borrow. */
	if (c->be && db->ops->rollback(c) < 0)
		c->failed = 1;
	else
		c->failed = 0;
	txn_reset(c);
	pthread_mutex_lock(&db->mu);
	c->next_idle = db->idle;
	db->idle = c;
	pthread_cond_signal(&db->cv);
	pthread_mutex_unlock(&db->mu);
}

/* ======================================================================
 * Dispatch
 * ====================================================================== */

/* Remember a failure: the connection gets rolled back before reuse, and a
 * failure inside a transaction dooms it on BOTH back ends (PostgreSQL
 * aborts the transaction by itself; SQLite would commit the rest). */
static int mark(struct db_conn *c, int rc)
{
	if (rc < 0) {
		c->failed = 1;
		if (c->in_txn)
			c->txn_failed = 1;
	}
	return rc;
}


static int check_args(struct db_conn *c, const char *sql, const struct db_param *p, int np,
		      struct error *err)
{
	if (!c || !c->be)
		return err_internal(err, "no database connection");
	if (!sql || np < 0 || (np > 0 && !p))
		return err_internal(err, "invalid statement arguments");
	return 0;
}

static int txn_begin(struct db_conn *c, int write, struct error *err)
{
	if (!c || !c->be)
		return err_internal(err, "no database connection");
	if (c->in_txn) /* PostgreSQL would only warn; SQLite fails: fail on both */
		return mark(c, err_internal(err, "a transaction is already open"));
	if (mark(c, c->db->ops->begin(c, write, err)) < 0)
		return -1;
	c->in_txn = 1;
	c->txn_failed = 0;
	return 0;
}

int db_begin(struct db_conn *c, struct error *err)
{
	return txn_begin(c, 0, err);
}

int db_begin_write(struct db_conn *c, struct error *err)
{
	return txn_begin(c, 1, err);
}

int db_commit(struct db_conn *c, struct error *err)
{
	if (!c || !c->be)
		return err_internal(err, "no database connection");
	if (c->txn_failed) {
		c->db->ops->rollback(c);
		txn_reset(c);
		c->failed = 1;
		return err_internal(err, "transaction aborted by an earlier error, rolled back");
	}
	int rc = c->db->ops->commit(c, err);
	if (rc < 0)
		c->db->ops->rollback(c); /* no-op if the back end ended it already */
	txn_reset(c);
	return mark(c, rc);
}

int db_rollback(struct db_conn *c)
{
	if (!c || !c->be)
		return -1;
	txn_reset(c);
	return mark(c, c->db->ops->rollback(c));
}

int db_lock_xact(struct db_conn *c, int64_t key, struct error *err)
{
	return mark(c, c->db->ops->lock_xact(c, key, err));
}

int db_exec(struct db_conn *c, const char *sql, const struct db_param *p, int np, int64_t *affected,
	    struct error *err)
{
	if (check_args(c, sql, p, np, err) < 0)
		return -1;
	return mark(c, c->db->ops->exec(c, sql, 1, p, np, affected, err));
}

int db_exec_once(struct db_conn *c, const char *sql, const struct db_param *p, int np, int64_t *affected,
		 struct error *err)
{
	if (check_args(c, sql, p, np, err) < 0)
		return -1;
	return mark(c, c->db->ops->exec(c, sql, 0, p, np, affected, err));
}

int db_query(struct db_conn *c, const char *sql, const struct db_param *p, int np, struct db_res **out,
	     struct error *err)
{
	*out = NULL;
	if (check_args(c, sql, p, np, err) < 0)
		return -1;
	return mark(c, c->db->ops->query(c, sql, 1, p, np, out, err));
}

int db_query_once(struct db_conn *c, const char *sql, const struct db_param *p, int np, struct db_res **out,
		  struct error *err)
{
	*out = NULL;
	if (check_args(c, sql, p, np, err) < 0)
		return -1;
	return mark(c, c->db->ops->query(c, sql, 0, p, np, out, err));
}

int db_exec_script(struct db_conn *c, const char *sql, struct error *err)
{
	if (check_args(c, sql, NULL, 0, err) < 0)
		return -1;
	return mark(c, c->db->ops->script(c, sql, err));
}

int db_res_next(struct db_res *r, struct error *err)
{
	if (!r)
		return err_internal(err, "no result");
	return mark(r->conn, r->conn->db->ops->next(r, err));
}

int db_res_isnull(struct db_res *r, int col)
{
	return r->conn->db->ops->isnull(r, col);
}

const char *db_res_text(struct db_res *r, int col)
{
	return r->conn->db->ops->text(r, col);
}

int64_t db_res_int(struct db_res *r, int col)
{
	return r->conn->db->ops->getint(r, col);
}

double db_res_real(struct db_res *r, int col)
{
	return r->conn->db->ops->getreal(r, col);
}

void db_res_free(struct db_res *r)
{
	if (r)
		r->conn->db->ops->free_res(r);
}

int db_query_int(struct db_conn *c, const char *sql, const struct db_param *p, int np, int64_t *value,
		 int *found, struct error *err)
{
	struct db_res *r;
	if (found)
		*found = 0;
	if (value)
		*value = 0;
	if (db_query(c, sql, p, np, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1 && !db_res_isnull(r, 0)) {
		if (found)
			*found = 1;
		if (value)
			*value = db_res_int(r, 0);
	}
	while (rc == 1)
		rc = db_res_next(r, err);
	db_res_free(r);
	return rc < 0 ? -1 : 0;
}

int db_is_unique_violation(const struct error *e)
{
	return e && e->kind == ERRK_INTERNAL && e->code == ERR_DB_UNIQUE;
}

void db_timestamp(char buf[DB_TS_LEN], int64_t sec, long usec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	if (usec < 0 || usec > 999999)
		usec = 0;
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	int year = tm.tm_year + 1900;
	if (year < 0 || year > 9999)
		year = 0; /* keep the fixed width the format promises */
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d:%02d.%06ld", year, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	memcpy(buf, tmp, DB_TS_LEN - 1);
	buf[DB_TS_LEN - 1] = '\0';
}

void db_timestamp_now(char buf[DB_TS_LEN])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	db_timestamp(buf, (int64_t)ts.tv_sec, ts.tv_nsec / 1000);
}
