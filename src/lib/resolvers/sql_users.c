/*
 * sql_users.c — the SQL resolver's work on user rows: lookups by login and
 * uid, searches, password checks, and (for Editable definitions) adding,
 * changing and deleting users.  The configuration these run on is parsed
 * by sql.c; the rules (bound parameters only, Where applied to every
 * statement, hashes never returned) are described there.
 */
#include "sql_internal.h"
#include "../log.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* ---- running statements ----------------------------------------------------------- */

struct counted {
	sqldb_row_fn fn;
	void *ctx;
	long rows;
};

static int counted_row(void *ctx, const struct sqldb_cell *cells, int n)
{
	struct counted *c = ctx;
	c->rows++;
	return c->fn ? c->fn(c->ctx, cells, n) : 0;
}

/* Run a statement on a pooled connection.  A read that failed because the
 * connection died before any row arrived is retried once on a fresh one. */
static int run(struct sql_priv *pv, const char *sql, const struct sqldb_val *params, int n, sqldb_row_fn fn,
	       void *ctx, long long *changes, int is_read, struct error *err)
{
	for (int attempt = 0;; attempt++) {
		struct counted cc = {fn, ctx, 0};
		int retry = 0;
		struct sqldb_conn *c = sqldb_acquire(pv->pool, err);
		if (c == NULL)
			return -1;
		int rc = sqldb_exec(c, sql, params, n, counted_row, &cc, changes, &retry, err);
		sqldb_release(pv->pool, c);
		if (rc == SQLDB_ERROR && retry && is_read && cc.rows == 0 && attempt == 0) {
			log_warning("sqlresolver: database connection lost, retrying");
			continue;
		}
		return rc;
	}
}

/* Append the Where values to a parameter list. */
static int add_where_params(const struct sql_priv *pv, struct sqldb_val *p, int n)
{
	for (size_t i = 0; i < pv->nwhere && n < SQL_MAX_PARAMS; i++)
		p[n++] = (struct sqldb_val){.s = pv->where_vals[i]};
	return n;
}

/* Cell → JSON string: UTF-8 as is; binary or invalid UTF-8 converted from
 * the configured Encoding; failures become "decoding_error". */
static json_t *cell_string(const struct sql_priv *pv, const struct sqldb_cell *c)
{
	if (!c->is_binary && resolver_utf8_valid(c->s, c->len))
		return json_stringn(c->s, c->len);
	iconv_t cd = iconv_open("UTF-8", pv->encoding);
	json_t *out = NULL;
	if (cd != (iconv_t)-1) {
		size_t cap = c->len * 4 + 4, inleft = c->len, outleft = cap;
		char *buf = malloc(cap), *in = (char *)c->s, *o = buf;
		if (buf != NULL && iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1 && inleft == 0 &&
		    resolver_utf8_valid(buf, (size_t)(o - buf)))
			out = json_stringn(buf, (size_t)(o - buf));
		free(buf);
		iconv_close(cd);
	}
	return out ? out : json_string("decoding_error");
}

struct rowctx {
	const struct sql_priv *pv;
	const char *want_uid; /* post-filter: the userid column must read exactly so */
	json_t *list;         /* info objects collected */
	char *password;       /* check_pass: the stored hash of the (one) row */
	int want_password;
	long matched;
	int oom;
};

/* Columns of select_all arrive in key order. */
static int info_row(void *ctx, const struct sqldb_cell *cells, int n)
{
	struct rowctx *rc = ctx;
	const struct sql_priv *pv = rc->pv;
	const struct sqldb_cell *uid = &cells[pv->i_userid];

	if ((size_t)n != pv->nkeys)
		return 0;
	if (uid->is_null || uid->len == 0)
		return 0; /* privacyIDEA skips rows without a userid */
	if (rc->want_uid && (strlen(rc->want_uid) != uid->len || memcmp(rc->want_uid, uid->s, uid->len) != 0))
		return 0; /* e.g. MySQL's '5abc' = 5 */
	rc->matched++;
	if (rc->want_password) {
		if (pv->i_password >= 0 && !cells[pv->i_password].is_null && rc->password == NULL) {
			rc->password = strndup(cells[pv->i_password].s, cells[pv->i_password].len);
			if (rc->password == NULL)
				rc->oom = 1;
		}
		return 0;
	}
	json_t *o = json_object();
	if (o == NULL)
		goto oom;
	for (size_t i = 0; i < pv->nkeys; i++) {
		const struct sqldb_cell *c = &cells[i];
		if ((int)i == pv->i_password || c->is_null || c->len == 0)
			continue;
		json_object_set_new(o, pv->keys[i], cell_string(pv, c));
	}
	/* privacyIDEA also returns the raw userid column as "id". */
	json_object_set_new(o, "id", uid->is_int ? json_integer(strtoll(uid->s, NULL, 10)) : cell_string(pv, uid));
	if (json_object_get(o, "userid") == NULL || json_array_append_new(rc->list, o) != 0)
		goto oom;
	return 0;
oom:
	rc->oom = 1;
	return 1;
}

static void rowctx_clear(struct rowctx *rc)
{
	json_decref(rc->list);
	if (rc->password) {
		OPENSSL_cleanse(rc->password, strlen(rc->password));
		free(rc->password);
	}
}

/* Rows for one uid (at most two, to detect duplicates) → rc. */
static int fetch_by_uid(struct sql_priv *pv, const char *uid, struct rowctx *rc, struct error *err)
{
	struct sqldb_val p[SQL_MAX_PARAMS];
	struct sqlres_sb q = {0};
	int n = 0;
	char *sql;

	sqlres_sb_add(&q, "SELECT %s FROM %s WHERE %s = ?%s LIMIT 2", pv->select_all, pv->table_q,
	       pv->cols_q[pv->i_userid], pv->where_sql);
	if ((sql = sqlres_sb_take(&q, err)) == NULL)
		return -1;
	p[n++] = (struct sqldb_val){.s = uid};
	n = add_where_params(pv, p, n);
	rc->pv = pv;
	rc->want_uid = uid;
	rc->list = json_array();
	int r = rc->list ? run(pv, sql, p, n, info_row, rc, NULL, 1, err) : err_internal(err, "out of memory");
	free(sql);
	if (rc->oom)
		return err_internal(err, "out of memory");
	if (r == SQLDB_BADVALUE)
		return 1; /* the uid cannot even be a value of the column */
	if (r != 0)
		return -1;
	if (rc->matched > 1)
		return err_set(err, ERRK_PI, ERR_USER, "More than one user with userid %.100s found!", uid);
	return rc->matched == 1 ? 0 : 1;
}

/* ---- lookups ---------------------------------------------------------------------- */

int sqlres_get_user_id(struct resolver *r, const char *login, char **uid, struct error *err)
{
	struct sql_priv *pv = r->priv;
	struct sqldb_val p[SQL_MAX_PARAMS];
	struct rowctx rc = {.pv = pv};
	struct sqlres_sb q = {0};
	int n = 0, ret;
	char *sql;

	if (login == NULL)
		return 1;
	sqlres_sb_add(&q, "SELECT %s FROM %s WHERE %s = ?%s LIMIT 2", pv->select_all, pv->table_q,
	       pv->cols_q[pv->i_username], pv->where_sql);
	if ((sql = sqlres_sb_take(&q, err)) == NULL)
		return -1;
	p[n++] = (struct sqldb_val){.s = login};
	n = add_where_params(pv, p, n);
	rc.list = json_array();
	ret = rc.list ? run(pv, sql, p, n, info_row, &rc, NULL, 1, err) : err_internal(err, "out of memory");
	free(sql);
	if (rc.oom)
		ret = err_internal(err, "out of memory");
	else if (ret == SQLDB_BADVALUE)
		ret = 1;
	else if (ret == 0 && rc.matched > 1)
		ret = err_set(err, ERRK_PI, ERR_USER, "More than one user with loginname %.100s found!", login);
	else if (ret == 0 && rc.matched == 0)
		ret = 1;
	else if (ret == 0) {
		json_t *u = json_object_get(json_array_get(rc.list, 0), "userid");
		*uid = strdup(json_string_value(u));
		if (*uid == NULL)
			ret = err_internal(err, "out of memory");
	}
	rowctx_clear(&rc);
	return ret;
}

int sqlres_get_user_info(struct resolver *r, const char *uid, json_t **info, struct error *err)
{
	struct rowctx rc = {0};
	if (uid == NULL)
		return 1;
	int ret = fetch_by_uid(r->priv, uid, &rc, err);
	if (ret == 0)
		*info = json_incref(json_array_get(rc.list, 0));
	rowctx_clear(&rc);
	return ret;
}

int sqlres_get_username(struct resolver *r, const char *uid, char **login, struct error *err)
{
	json_t *info = NULL;
	int ret = sqlres_get_user_info(r, uid, &info, err);
	if (ret != 0)
		return ret;
	const char *u = json_string_value(json_object_get(info, "username"));
	/* A row whose username column is empty/NULL has no login. */
	ret = 1;
	if (u != NULL) {
		*login = strdup(u);
		ret = *login ? 0 : err_internal(err, "out of memory");
	}
	json_decref(info);
	return ret;
}

/* A search pattern → LIKE pattern: '*' → '%', literal '%', '_' and the
 * escape character '!' escaped with '!'. */
static char *like_pattern(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		if (*s == '*') {
			*o++ = '%';
			continue;
		}
		if (*s == '%' || *s == '_' || *s == '!')
			*o++ = '!';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

int sqlres_get_user_list(struct resolver *r, const json_t *search, json_t **list, struct error *err)
{
	struct sql_priv *pv = r->priv;
	struct sqldb_val p[SQL_MAX_PARAMS];
	char *pats[SQL_MAX_MAP];
	struct rowctx rc = {.pv = pv};
	struct sqlres_sb q = {0};
	int n = 0, npats = 0, ret = 0;
	const char *key;
	json_t *val;

	sqlres_sb_add(&q, "SELECT %s FROM %s WHERE 1 = 1", pv->select_all, pv->table_q);
	if (search != NULL && json_is_object(search)) {
		json_object_foreach((json_t *)search, key, val) {
			size_t i;
			for (i = 0; i < pv->nkeys; i++)
				if (strcmp(pv->keys[i], key) == 0)
					break;
			/* Unknown keys, non-text values and the password hash find
			 * nobody (privacyIDEA: the resolver contributes no users). */
			if (i == pv->nkeys || (int)i == pv->i_password || !json_is_string(val) ||
			    npats == SQL_MAX_MAP) {
				free(q.s);
				for (int k = 0; k < npats; k++)
					free(pats[k]);
				*list = json_array();
				return *list ? 0 : err_internal(err, "out of memory");
			}
			if ((pats[npats] = like_pattern(json_string_value(val))) == NULL) {
				ret = err_internal(err, "out of memory");
				goto out;
			}
			p[n++] = (struct sqldb_val){.s = pats[npats++]};
			if (pv->kind == SQLDB_PG)
				sqlres_sb_add(&q, " AND CAST(%s AS TEXT) LIKE ? ESCAPE '!'", pv->cols_q[i]);
			else
				sqlres_sb_add(&q, " AND %s LIKE ? ESCAPE '!'", pv->cols_q[i]);
		}
	}
	sqlres_sb_add(&q, "%s LIMIT ?", pv->where_sql);
	n = add_where_params(pv, p, n);
	p[n++] = (struct sqldb_val){.i = pv->limit, .is_int = 1};
	char *sql = sqlres_sb_take(&q, err);
	q.s = NULL;
	if (sql == NULL) {
		ret = -1;
		goto out;
	}
	rc.list = json_array();
	ret = rc.list ? run(pv, sql, p, n, info_row, &rc, NULL, 1, err) : err_internal(err, "out of memory");
	free(sql);
	/* Search patterns are compared as text, so a value the server rejects
	 * comes from the Where clause: a configuration error. */
	if (rc.oom)
		ret = err_internal(err, "out of memory");
	if (ret == 0) {
		*list = rc.list;
		rc.list = NULL;
	} else {
		ret = -1;
	}
out:
	for (int k = 0; k < npats; k++)
		free(pats[k]);
	rowctx_clear(&rc);
	return ret;
}

int sqlres_check_pass(struct resolver *r, const char *uid, const char *password, struct error *err)
{
	struct sql_priv *pv = r->priv;
	struct rowctx rc = {.want_password = 1};
	if (uid == NULL || password == NULL || pv->i_password < 0)
		return 1;
	int ret = fetch_by_uid(pv, uid, &rc, err);
	if (ret == 0) {
		int ok = rc.password ? sqlhash_verify(password, rc.password) : 0;
		ret = ok < 0 ? err_internal(err, "out of memory") : ok ? 0 : 1;
	}
	rowctx_clear(&rc);
	return ret;
}

/* ---- editing -------------------------------------------------------------------- */

int sqlres_editable(const struct resolver *r)
{
	return ((const struct sql_priv *)r->priv)->editable;
}

/* Map attrs to (quoted column, value) pairs; hashes "password".  Values
 * and columns are malloc'd into vals[]/cols[] (count in *n). */
static int map_attrs(struct sql_priv *pv, const json_t *attrs, const char **cols, char **vals, int *n,
		     struct error *err)
{
	const char *key;
	json_t *val;
	*n = 0;
	if (attrs == NULL || !json_is_object(attrs))
		return 0;
	json_object_foreach((json_t *)attrs, key, val) {
		size_t i;
		char buf[64];
		const char *text = NULL;
		for (i = 0; i < pv->nkeys; i++)
			if (strcmp(pv->keys[i], key) == 0)
				break;
		if (i == pv->nkeys)
			return err_param(err, "Unknown user attribute '%.64s': not in the resolver's Map", key);
		if (*n == SQL_MAX_MAP)
			return err_param(err, "Too many attributes");
		if (json_is_string(val))
			text = json_string_value(val);
		else if (json_is_integer(val)) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(val));
			text = buf;
		} else
			return err_param(err, "Invalid value for user attribute '%.64s'", key);
		if ((int)i == pv->i_password)
			vals[*n] = sqlhash_make(pv->hash_type, text, err);
		else if ((vals[*n] = strdup(text)) == NULL)
			err_internal(err, "out of memory");
		if (vals[*n] == NULL)
			return -1;
		cols[*n] = pv->cols_q[i];
		(*n)++;
	}
	return 0;
}

static void free_vals(char **vals, int n)
{
	for (int i = 0; i < n; i++) {
		OPENSSL_cleanse(vals[i], strlen(vals[i]));
		free(vals[i]);
	}
}

static int not_editable(struct error *err)
{
	return err_set(err, ERRK_PI, ERR_USER, "The resolver is not editable.");
}

int sqlres_first_cell(void *ctx, const struct sqldb_cell *cells, int n)
{
	struct sqlres_one *v = ctx;
	if (n >= 1 && !cells[0].is_null && v->s == NULL)
		v->s = strndup(cells[0].s, cells[0].len);
	return 0;
}

int sqlres_add_user(struct resolver *r, const json_t *attrs, char **uid, struct error *err)
{
	struct sql_priv *pv = r->priv;
	const char *cols[SQL_MAX_MAP];
	char *vals[SQL_MAX_MAP];
	struct sqldb_val p[SQL_MAX_MAP + 1];
	struct sqlres_sb q = {0};
	struct sqlres_one id = {NULL};
	int n = 0, ret = -1;
	char *sql = NULL, *existing = NULL;

	if (!pv->editable)
		return not_editable(err);
	const char *login = json_string_value(json_object_get(attrs, "username"));
	if (login == NULL || *login == '\0')
		return err_missing_param(err, "username");
	int ex = sqlres_get_user_id(r, login, &existing, err);
	free(existing);
	if (ex < 0)
		return -1;
	if (ex == 0)
		return err_set(err, ERRK_PI, ERR_USER, "The user %.100s already exists.", login);
	if (map_attrs(pv, attrs, cols, vals, &n, err) != 0)
		goto out;
	sqlres_sb_add(&q, "INSERT INTO %s (", pv->table_q);
	for (int i = 0; i < n; i++)
		sqlres_sb_add(&q, "%s%s", i ? ", " : "", cols[i]);
	sqlres_sb_add(&q, ") VALUES (");
	for (int i = 0; i < n; i++) {
		sqlres_sb_add(&q, "%s?", i ? ", " : "");
		p[i] = (struct sqldb_val){.s = vals[i]};
	}
	sqlres_sb_add(&q, ")");
	/* SQLite (>= 3.35) and PostgreSQL return the new row's userid. */
	if (pv->kind != SQLDB_MYSQL)
		sqlres_sb_add(&q, " RETURNING %s", pv->cols_q[pv->i_userid]);
	if ((sql = sqlres_sb_take(&q, err)) == NULL)
		goto out;

	struct sqldb_conn *c = sqldb_acquire(pv->pool, err);
	if (c == NULL)
		goto out;
	ret = sqldb_exec(c, sql, p, n, sqlres_first_cell, &id, NULL, NULL, err);
	if (ret == 0 && pv->kind == SQLDB_MYSQL) {
		/* Same connection: LAST_INSERT_ID() is per connection. */
		ret = sqldb_exec(c, "SELECT LAST_INSERT_ID()", NULL, 0, sqlres_first_cell, &id, NULL, NULL, err);
		if (ret == 0 && id.s != NULL && strcmp(id.s, "0") == 0) {
			free(id.s);
			id.s = NULL;
		}
	}
	sqldb_release(pv->pool, c);
	if (ret != 0) { /* SQLDB_BADVALUE too: err says which value */
		ret = -1;
		goto out;
	}
	if (id.s == NULL) {
		/* No auto-generated id: find the row by its login. */
		ret = sqlres_get_user_id(r, login, &id.s, err);
		if (ret != 0) {
			ret = ret > 0 ? err_set(err, ERRK_PI, ERR_USER, "The new user is not visible in the resolver.")
				      : -1;
			goto out;
		}
	}
	*uid = id.s;
	id.s = NULL;
	ret = 0;
out:
	free(id.s);
	free(sql);
	free_vals(vals, n);
	return ret;
}

/* " WHERE <userid> = ?" plus, for MySQL, an exact text comparison (MySQL
 * would match '5abc' to 5), plus the Where conditions. */
static void uid_condition(const struct sql_priv *pv, struct sqlres_sb *q, struct sqldb_val *p, int *n, const char *uid)
{
	sqlres_sb_add(q, " WHERE %s = ?", pv->cols_q[pv->i_userid]);
	p[(*n)++] = (struct sqldb_val){.s = uid};
	if (pv->kind == SQLDB_MYSQL) {
		sqlres_sb_add(q, " AND CAST(%s AS CHAR) = ?", pv->cols_q[pv->i_userid]);
		p[(*n)++] = (struct sqldb_val){.s = uid};
	}
	sqlres_sb_add(q, "%s", pv->where_sql);
	*n = add_where_params(pv, p, *n);
}

int sqlres_update_user(struct resolver *r, const char *uid, const json_t *attrs, struct error *err)
{
	struct sql_priv *pv = r->priv;
	const char *cols[SQL_MAX_MAP];
	char *vals[SQL_MAX_MAP];
	struct sqldb_val p[SQL_MAX_PARAMS];
	struct sqlres_sb q = {0};
	long long changes = 0;
	int n = 0, np = 0, ret = -1;
	char *sql = NULL;

	if (!pv->editable)
		return not_editable(err);
	if (uid == NULL)
		return 1;
	if (map_attrs(pv, attrs, cols, vals, &n, err) != 0)
		goto out;
	if (n == 0) {
		/* Nothing to change: report whether the user exists. */
		char *login = NULL;
		ret = sqlres_get_username(r, uid, &login, err);
		free(login);
		goto out;
	}
	sqlres_sb_add(&q, "UPDATE %s SET ", pv->table_q);
	for (int i = 0; i < n; i++) {
		sqlres_sb_add(&q, "%s%s = ?", i ? ", " : "", cols[i]);
		p[np++] = (struct sqldb_val){.s = vals[i]};
	}
	uid_condition(pv, &q, p, &np, uid);
	if ((sql = sqlres_sb_take(&q, err)) == NULL)
		goto out;
	ret = run(pv, sql, p, np, NULL, NULL, &changes, 0, err);
	if (ret == SQLDB_BADVALUE)
		ret = 1;
	else if (ret != 0)
		ret = -1;
	else
		ret = changes > 0 ? 0 : 1;
out:
	free(sql);
	free_vals(vals, n);
	return ret;
}

int sqlres_delete_user(struct resolver *r, const char *uid, struct error *err)
{
	struct sql_priv *pv = r->priv;
	struct sqldb_val p[SQL_MAX_PARAMS];
	struct sqlres_sb q = {0};
	long long changes = 0;
	int np = 0, ret;
	char *sql;

	if (!pv->editable)
		return not_editable(err);
	if (uid == NULL)
		return 1;
	sqlres_sb_add(&q, "DELETE FROM %s", pv->table_q);
	uid_condition(pv, &q, p, &np, uid);
	if ((sql = sqlres_sb_take(&q, err)) == NULL)
		return -1;
	ret = run(pv, sql, p, np, NULL, NULL, &changes, 0, err);
	free(sql);
	if (ret == SQLDB_BADVALUE)
		return 1;
	if (ret != 0)
		return -1;
	return changes > 0 ? 0 : 1;
}
