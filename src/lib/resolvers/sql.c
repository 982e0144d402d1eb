/*
 * sql.c — "sqlresolver": users in one table of an SQL database (SQLite,
 * PostgreSQL, MySQL/MariaDB), configured with privacyIDEA's SQLIdResolver
 * parameters (Driver, Server, Port, Database, User, Password, Table, Limit,
 * Map, Where, Editable, Password_Hash_Type, poolSize, poolTimeout,
 * poolRecycle, Encoding, conParams).  This file parses a definition into
 * the instance (struct sql_priv) and holds test_connection and the vtable;
 * the statements on user rows are in sql_users.c, the back ends and the
 * pool in sql_db.c, the password formats in sql_hash.c.
 *
 * Safety rules:
 *   - Every value (login names, uids, search patterns, Where values, new
 *     attributes) is a bound parameter.  The only text spliced into SQL are
 *     the table and column names of the definition, validated as
 *     [A-Za-z0-9_.]+ and quoted.
 *   - Where is admin configuration and trusted as such, but it is still not
 *     spliced: it is parsed in privacyIDEA's format — conditions
 *     "column op value" joined by AND, op one of == = != <> < > <= >= LIKE —
 *     into quoted columns and bound values.  Values may be 'quoted' to hold
 *     blanks.  Anything else is rejected when the resolver is created
 *     (privacyIDEA silently ignores conditions it cannot read and would
 *     then show more users than intended).
 *   - Search patterns: '*' is the only wildcard; '%' and '_' are literal
 *     (escaped with LIKE ... ESCAPE '!').
 *   - Password hashes are never returned in user info; check_pass compares
 *     in constant time (sql_hash.c).
 *
 * Behaviour kept from privacyIDEA: login and uid lookups compare with the
 * column (so the column's collation decides case sensitivity, except that
 * privacyIDEA's LIKE made SQLite logins case-insensitive; we use '='),
 * search uses LIKE (case semantics of the database), the list is capped at
 * Limit, rows without a userid are skipped, empty/NULL columns are left out
 * of the info, "id" carries the raw userid column (integer columns as JSON
 * integers), unknown search keys find nobody.  Deliberate differences:
 * Where also restricts update/delete (privacyIDEA only applies it to
 * reads), unmapped attributes in add/update are an error instead of being
 * dropped, and two rows for one login/uid are an error.
 *
 * Encoding (default latin1, as privacyIDEA): text columns are read as
 * UTF-8 (the connection is set to UTF-8); binary values and any value that
 * is not valid UTF-8 are converted from Encoding with iconv(3); values that
 * do not convert become "decoding_error", as in privacyIDEA.  conParams is
 * accepted and ignored (privacyIDEA documents it as unused).
 */
#include "sql_internal.h"
#include "../log.h"

#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

enum where_op { W_EQ, W_NE, W_LT, W_GT, W_LE, W_GE, W_LIKE };

/* ---- statement text builder ------------------------------------------------------ */

void sqlres_sb_add(struct sqlres_sb *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
		char *ns = realloc(b->s, ncap);
		if (ns == NULL) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

/* Take the built string (NULL + err on OOM). */
char *sqlres_sb_take(struct sqlres_sb *b, struct error *err)
{
	char *s = b->s;
	b->s = NULL; /* ownership leaves the builder either way */
	if (b->oom || s == NULL) {
		free(s);
		err_internal(err, "out of memory");
		return NULL;
	}
	return s;
}

/* ---- configuration -------------------------------------------------------------- */

static const struct resolver_param sql_params[] = {
	{"Driver", RP_STRING, 1, NULL,
	 "SQLAlchemy dialect: sqlite, postgresql (postgres, postgresql+psycopg2), mysql (mysql+pymysql, mariadb)"},
	{"Server", RP_STRING, 0, NULL, "Database host (empty: local socket)"},
	{"Port", RP_INT, 0, NULL, "Database port"},
	{"Database", RP_STRING, 0, NULL, "Database name (SQLite: the database file)"},
	{"User", RP_STRING, 0, NULL, "Database user"},
	{"Password", RP_PASSWORD, 0, NULL, "Database password"},
	{"Table", RP_STRING, 1, NULL, "The table holding the users"},
	{"Limit", RP_INT, 0, "100", "Most users returned by a user list"},
	{"Map", RP_JSON, 1, NULL,
	 "Attribute mapping privacyIDEA attribute → column, e.g. {\"userid\": \"id\", \"username\": \"login\"}; "
	 "userid and username are mandatory"},
	{"Where", RP_STRING, 0, NULL, "Conditions selecting the users, e.g. \"active == 1 AND realm like a%\""},
	{"Editable", RP_BOOL, 0, "0", "Users may be created, changed and deleted"},
	{"Password_Hash_Type", RP_STRING, 0, "SSHA256",
	 "Hash for new passwords: PHPASS, SHA, SSHA, SSHA256, SSHA512, OTRS, SHA256CRYPT, SHA512CRYPT, "
	 "MD5CRYPT, BCRYPT, YESCRYPT, ARGON2"},
	{"poolSize", RP_INT, 0, "5", "Connections kept open"},
	{"poolTimeout", RP_INT, 0, "10", "Seconds to wait for a free connection"},
	{"poolRecycle", RP_INT, 0, "7200", "Reopen connections after this many seconds"},
	{"Encoding", RP_STRING, 0, "latin1", "Encoding of binary/non-UTF-8 column values"},
	{"conParams", RP_STRING, 0, NULL, "Additional connection parameters (not used)"},
	{NULL, 0, 0, NULL, NULL},
};

/* A config value as malloc'd text ("" when absent); numbers are printed. */
static char *cfg_text(const json_t *config, const char *key)
{
	json_t *v = json_object_get(config, key);
	char buf[32];
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return strdup(buf);
	}
	return strdup("");
}

static int parse_conn(const json_t *config, struct sqldb_params *p, struct error *err)
{
	const char *driver = resolver_cfg_str(config, "Driver", NULL);
	memset(p, 0, sizeof(*p));
	if (driver == NULL || *driver == '\0')
		return err_missing_param(err, "Driver");
	if (sqldb_kind_from_driver(driver, &p->kind) != 0)
		return err_param(err, "Unsupported SQL driver '%.64s' (use sqlite, postgresql or mysql)", driver);
	p->server = cfg_text(config, "Server");
	p->port = cfg_text(config, "Port");
	p->database = cfg_text(config, "Database");
	p->user = cfg_text(config, "User");
	p->password = cfg_text(config, "Password");
	if (!p->server || !p->port || !p->database || !p->user || !p->password) {
		sqldb_params_clear(p);
		return err_internal(err, "out of memory");
	}
	long long t;
	if (resolver_cfg_int_checked(config, "poolTimeout", 10, 0, 3600, &t, err) != 0) {
		sqldb_params_clear(p);
		return -1;
	}
	/* privacyIDEA: int(config.get('poolTimeout') or 10) — 0 means default. */
	p->connect_timeout = t > 0 ? (int)t : 10;
	return 0;
}

/* Parse privacyIDEA's Where ("col op value [AND col op value]...") into a
 * fragment " AND <col> <op> ?" per condition and the values to bind. */
static int parse_where(enum sqldb_kind kind, const char *text, char **sql_out, char ***vals_out, size_t *n_out,
		       struct error *err)
{
	struct sqlres_sb sql = {0};
	char **vals = calloc(SQL_MAX_WHERE, sizeof(char *));
	size_t n = 0;
	const char *p = text;
	int rc = -1;

	*sql_out = NULL;
	*vals_out = NULL;
	*n_out = 0;
	if (vals == NULL)
		return err_internal(err, "out of memory");
	sqlres_sb_add(&sql, "%s", "");
	for (;;) {
		char col[129], *colq = NULL;
		size_t k = 0;
		enum where_op op;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == SQL_MAX_WHERE) {
			err_param(err, "Where: at most %d conditions", SQL_MAX_WHERE);
			goto out;
		}
		while (((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
			*p == '.') &&
		       k < sizeof(col) - 1)
			col[k++] = *p++;
		col[k] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "==", 2) == 0)
			op = W_EQ, p += 2;
		else if (strncmp(p, "!=", 2) == 0 || strncmp(p, "<>", 2) == 0)
			op = W_NE, p += 2;
		else if (strncmp(p, "<=", 2) == 0)
			op = W_LE, p += 2;
		else if (strncmp(p, ">=", 2) == 0)
			op = W_GE, p += 2;
		else if (*p == '=')
			op = W_EQ, p += 1;
		else if (*p == '<')
			op = W_LT, p += 1;
		else if (*p == '>')
			op = W_GT, p += 1;
		else if (strncasecmp(p, "like", 4) == 0 && (p[4] == ' ' || p[4] == '\t'))
			op = W_LIKE, p += 4;
		else {
			err_param(err, "Where: cannot parse the condition at '%.40s' (expected: column op value)", p);
			goto out;
		}
		if ((colq = sqldb_quote_ident(kind, col, err)) == NULL)
			goto out;
		while (*p == ' ' || *p == '\t')
			p++;
		/* The value: 'quoted' / "quoted" ('' or "" inside = one quote), or
		 * a bare word up to the next blank. */
		struct sqlres_sb v = {0};
		sqlres_sb_add(&v, "%s", "");
		if (*p == '\'' || *p == '"') {
			char q = *p++;
			for (;;) {
				if (*p == '\0') {
					free(v.s);
					free(colq);
					err_param(err, "Where: unterminated quoted value");
					goto out;
				}
				if (*p == q && p[1] == q) {
					sqlres_sb_add(&v, "%c", q);
					p += 2;
				} else if (*p == q) {
					p++;
					break;
				} else {
					sqlres_sb_add(&v, "%c", *p++);
				}
			}
		} else {
			const char *s = p;
			while (*p != '\0' && *p != ' ' && *p != '\t')
				p++;
			if (p == s) {
				free(v.s);
				free(colq);
				err_param(err, "Where: missing value for column '%s'", col);
				goto out;
			}
			sqlres_sb_add(&v, "%.*s", (int)(p - s), s);
		}
		if ((vals[n] = sqlres_sb_take(&v, err)) == NULL) {
			free(colq);
			goto out;
		}
		n++;
		static const char *const opsql[] = {"=", "<>", "<", ">", "<=", ">=", "LIKE"};
		/* PostgreSQL has no LIKE on non-text columns: compare as text. */
		if (op == W_LIKE && kind == SQLDB_PG)
			sqlres_sb_add(&sql, " AND CAST(%s AS TEXT) LIKE ?", colq);
		else
			sqlres_sb_add(&sql, " AND %s %s ?", colq, opsql[op]);
		free(colq);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (strncasecmp(p, "and", 3) != 0 || (p[3] != ' ' && p[3] != '\t')) {
			err_param(err, "Where: expected AND at '%.40s'", p);
			goto out;
		}
		p += 3;
	}
	if ((*sql_out = sqlres_sb_take(&sql, err)) == NULL)
		goto out;
	sql.s = NULL;
	*vals_out = vals;
	*n_out = n;
	vals = NULL;
	rc = 0;
out:
	if (vals) {
		for (size_t i = 0; i < n; i++)
			free(vals[i]);
		free(vals);
	}
	free(sql.s);
	return rc;
}

static void priv_free(struct sql_priv *pv)
{
	if (pv == NULL)
		return;
	sqldb_pool_free(pv->pool);
	free(pv->table_q);
	for (size_t i = 0; i < pv->nkeys; i++) {
		free(pv->keys[i]);
		free(pv->cols_q[i]);
	}
	free(pv->keys);
	free(pv->cols_q);
	free(pv->select_all);
	for (size_t i = 0; i < pv->nwhere; i++)
		free(pv->where_vals[i]);
	free(pv->where_vals);
	free(pv->where_sql);
	free(pv->encoding);
	free(pv);
}

static int parse_map(struct sql_priv *pv, const json_t *config, struct error *err)
{
	json_t *map = NULL;
	const char *key;
	json_t *val;
	struct sqlres_sb sel = {0};
	int rc = -1;

	if (resolver_cfg_object(config, "Map", &map, err) != 0)
		return -1;
	if (map == NULL)
		return err_missing_param(err, "Map");
	size_t n = json_object_size(map);
	if (n > SQL_MAX_MAP) {
		err_param(err, "Map: at most %d attributes", SQL_MAX_MAP);
		goto out;
	}
	pv->keys = calloc(n + 1, sizeof(char *));
	pv->cols_q = calloc(n + 1, sizeof(char *));
	if (pv->keys == NULL || pv->cols_q == NULL) {
		err_internal(err, "out of memory");
		goto out;
	}
	pv->i_userid = pv->i_username = pv->i_password = -1;
	json_object_foreach(map, key, val) {
		if (!json_is_string(val)) {
			err_param(err, "Map: the column of '%.64s' must be a string", key);
			goto out;
		}
		size_t i = pv->nkeys;
		if ((pv->cols_q[i] = sqldb_quote_ident(pv->kind, json_string_value(val), err)) == NULL)
			goto out;
		if ((pv->keys[i] = strdup(key)) == NULL) {
			free(pv->cols_q[i]);
			err_internal(err, "out of memory");
			goto out;
		}
		pv->nkeys++;
		if (strcmp(key, "userid") == 0)
			pv->i_userid = (int)i;
		else if (strcmp(key, "username") == 0)
			pv->i_username = (int)i;
		else if (strcmp(key, "password") == 0)
			pv->i_password = (int)i;
		sqlres_sb_add(&sel, "%s%s", i ? ", " : "", pv->cols_q[i]);
	}
	if (pv->i_userid < 0 || pv->i_username < 0) {
		err_param(err, "Map: the attributes 'userid' and 'username' are mandatory");
		goto out;
	}
	if ((pv->select_all = sqlres_sb_take(&sel, err)) == NULL)
		goto out;
	sel.s = NULL;
	rc = 0;
out:
	free(sel.s);
	json_decref(map);
	return rc;
}

static struct resolver *sql_create(const char *name, const json_t *config, struct error *err)
{
	struct sqldb_params cp;
	struct sql_priv *pv = calloc(1, sizeof(*pv));
	struct resolver *r = NULL;
	long long size, tmo, recycle;

	if (pv == NULL) {
		err_internal(err, "out of memory");
		return NULL;
	}
	if (resolver_check_required(&sqlresolver_type, config, err) != 0 || parse_conn(config, &cp, err) != 0) {
		free(pv);
		return NULL;
	}
	pv->kind = cp.kind;
	if (resolver_cfg_int_checked(config, "Limit", 100, 0, INT_MAX, &pv->limit, err) != 0 ||
	    resolver_cfg_int_checked(config, "poolSize", 5, 0, 1000, &size, err) != 0 ||
	    resolver_cfg_int_checked(config, "poolTimeout", 10, 0, 3600, &tmo, err) != 0 ||
	    resolver_cfg_int_checked(config, "poolRecycle", 7200, 0, INT_MAX, &recycle, err) != 0)
		goto fail;
	/* privacyIDEA reads these as int(value or default): 0 is the default. */
	size = size ? size : 5;
	tmo = tmo ? tmo : 10;
	recycle = recycle ? recycle : 7200;
	if ((pv->table_q = sqldb_quote_ident(pv->kind, resolver_cfg_str(config, "Table", ""), err)) == NULL)
		goto fail;
	if (parse_map(pv, config, err) != 0)
		goto fail;
	if (parse_where(pv->kind, resolver_cfg_str(config, "Where", ""), &pv->where_sql, &pv->where_vals,
			&pv->nwhere, err) != 0)
		goto fail;
	pv->editable = resolver_cfg_bool(config, "Editable", 0);
	const char *ht = resolver_cfg_str(config, "Password_Hash_Type", "");
	pv->hash_type = sqlhash_type_from_name(*ht ? ht : "SSHA256");
	if (pv->hash_type < 0) {
		/* Only matters when passwords get written. */
		if (pv->editable) {
			err_param(err, "Unsupported Password_Hash_Type '%.32s'", ht);
			goto fail;
		}
		pv->hash_type = sqlhash_type_from_name("SSHA256");
	}
	const char *enc = resolver_cfg_str(config, "Encoding", "");
	iconv_t cd = iconv_open("UTF-8", *enc ? enc : "latin1");
	if (cd == (iconv_t)-1) {
		log_warning("sqlresolver %s: unknown Encoding '%s', using latin1", name ? name : "", enc);
		enc = "latin1";
	} else {
		iconv_close(cd);
	}
	if ((pv->encoding = strdup(*enc ? enc : "latin1")) == NULL) {
		err_internal(err, "out of memory");
		goto fail;
	}
	/* Connections are opened on first use, not here: a database that is
	 * down at start-up must not make the definition unusable. */
	if ((pv->pool = sqldb_pool_new(&cp, (int)size, (int)tmo, (int)recycle, err)) == NULL)
		goto fail;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->name = strdup(name ? name : "")) == NULL) {
		free(r);
		r = NULL;
		err_internal(err, "out of memory");
		goto fail;
	}
	r->type = &sqlresolver_type;
	r->priv = pv;
	sqldb_params_clear(&cp);
	return r;
fail:
	sqldb_params_clear(&cp);
	priv_free(pv);
	return NULL;
}

static void sql_destroy(struct resolver *r)
{
	if (r == NULL)
		return;
	priv_free(r->priv);
	free(r->name);
	free(r);
}
/* ---- test ------------------------------------------------------------------------ */

static int sql_test_connection(const json_t *config, char **desc, struct error *err)
{
	struct sqldb_params cp;
	struct sqldb_conn *c = NULL;
	struct sqldb_val p[SQL_MAX_WHERE];
	struct sqlres_one count = {NULL};
	char *table_q = NULL, *where_sql = NULL, **wv = NULL, *sql = NULL;
	size_t nw = 0;
	struct sqlres_sb q = {0};
	int ret = -1;
	struct error e;

	err_clear(&e);
	if (parse_conn(config, &cp, err) != 0)
		return -1;
	const char *table = resolver_cfg_str(config, "Table", "");
	if (*table == '\0') {
		err_missing_param(err, "Table");
		goto out;
	}
	if ((table_q = sqldb_quote_ident(cp.kind, table, err)) == NULL ||
	    parse_where(cp.kind, resolver_cfg_str(config, "Where", ""), &where_sql, &wv, &nw, err) != 0)
		goto out;
	sqlres_sb_add(&q, "SELECT COUNT(*) FROM %s WHERE 1 = 1%s", table_q, where_sql);
	if ((sql = sqlres_sb_take(&q, err)) == NULL)
		goto out;
	for (size_t i = 0; i < nw; i++)
		p[i] = (struct sqldb_val){.s = wv[i]};
	if ((c = sqldb_open(&cp, &e)) == NULL ||
	    sqldb_exec(c, sql, p, (int)nw, sqlres_first_cell, &count, NULL, NULL, &e) != 0) {
		err_set(err, ERRK_PI, ERR_USER, "failed to retrieve users: %s",
			err_is_set(&e) ? e.message : "a value does not fit its column");
		goto out;
	}
	char buf[96];
	snprintf(buf, sizeof(buf), "Found %lld users.", count.s ? atoll(count.s) : 0LL);
	if ((*desc = strdup(buf)) == NULL) {
		err_internal(err, "out of memory");
		goto out;
	}
	ret = 0;
out:
	sqldb_close(c);
	free(count.s);
	free(sql);
	free(table_q);
	free(where_sql);
	for (size_t i = 0; i < nw; i++)
		free(wv[i]);
	free(wv);
	sqldb_params_clear(&cp);
	return ret;
}

const struct resolver_type sqlresolver_type = {
	.name = "sqlresolver",
	.description = "Users in a table of an SQL database (SQLite, PostgreSQL, MySQL/MariaDB)",
	.params = sql_params,
	.create = sql_create,
	.destroy = sql_destroy,
	.get_user_id = sqlres_get_user_id,
	.get_username = sqlres_get_username,
	.get_user_info = sqlres_get_user_info,
	.get_user_list = sqlres_get_user_list,
	.check_pass = sqlres_check_pass,
	.add_user = sqlres_add_user,
	.update_user = sqlres_update_user,
	.delete_user = sqlres_delete_user,
	.editable = sqlres_editable,
	.test_connection = sql_test_connection,
};
