/*
 * test_db.c — unit tests of the storage layer (src/db/): URI parsing, the
 * pool, transactions, the schema and the store_* functions.
 *
 * Every test runs on a fresh SQLite file in a temporary directory and,
 * when TESSERA_TEST_PG_URI is set (e.g. postgresql://postgres@127.0.0.1:
 * 55432/postgres), again on PostgreSQL inside the throw-away schemas
 * tessera_unit_a / tessera_unit_b of that database (dropped and recreated
 * per test).  It must never touch any other schema of that server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_impl.h"
#include "db/store.h"

/* ---- suite state (one back end at a time) ---- */

static struct {
	enum db_backend backend;
	char pg_base[1024]; /* TESSERA_TEST_PG_URI */
	char dir[256];      /* SQLite temp dir */
	int seq;
} S;

struct fx {
	struct db *db;
	char uri[1400];
};

static void fail_err(const char *what, const struct error *e)
{
	fail_msg("%s failed: kind %d code %d: %s", what, e->kind, e->code, e->message);
}
#define OK(call, e)                                                                                        \
	do {                                                                                               \
		if ((call) < 0)                                                                            \
			fail_err(#call, &(e));                                                             \
	} while (0)

/* A PostgreSQL URI that works inside one of the two test schemas. */
static void pg_uri(char *out, size_t len, const char *schema)
{
	snprintf(out, len, "%s%soptions=-csearch_path%%3D%s", S.pg_base, strchr(S.pg_base, '?') ? "&" : "?",
		 schema);
}

static void pg_reset_schema(int b)
{
	struct error e = { 0 };
	struct db *db = db_open(S.pg_base, 1, &e);
	assert_non_null(db);
	struct db_conn *c = db_acquire(db, &e);
	if (!c)
		fail_err("connect to TESSERA_TEST_PG_URI", &e);
	if (b) {
		OK(db_exec(c, "DROP SCHEMA IF EXISTS tessera_unit_b CASCADE", NULL, 0, NULL, &e), e);
		OK(db_exec(c, "CREATE SCHEMA tessera_unit_b", NULL, 0, NULL, &e), e);
	} else {
		OK(db_exec(c, "DROP SCHEMA IF EXISTS tessera_unit_a CASCADE", NULL, 0, NULL, &e), e);
		OK(db_exec(c, "CREATE SCHEMA tessera_unit_a", NULL, 0, NULL, &e), e);
	}
	db_release(c);
	db_close(db);
}

/* A URI naming an empty database: a new SQLite file, or a recreated schema. */
static void fresh_uri(char *out, size_t len, int second)
{
	if (S.backend == DB_SQLITE) {
		snprintf(out, len, "sqlite:///%s/t%d.db", S.dir, ++S.seq);
		return;
	}
	pg_reset_schema(second);
	pg_uri(out, len, second ? "tessera_unit_b" : "tessera_unit_a");
}

static int setup(void **state)
{
	struct error e = { 0 };
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fresh_uri(fx->uri, sizeof(fx->uri), 0);
	fx->db = db_open(fx->uri, 4, &e);
	if (!fx->db)
		fail_err("db_open", &e);
	OK(db_migrate(fx->db, &e), e);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	db_close(fx->db);
	free(fx);
	return 0;
}

static struct db_conn *acquire(struct fx *fx)
{
	struct error e = { 0 };
	struct db_conn *c = db_acquire(fx->db, &e);
	if (!c)
		fail_err("db_acquire", &e);
	return c;
}

static int64_t query_int(struct db_conn *c, const char *sql, const struct db_param *p, int np)
{
	struct error e = { 0 };
	int64_t v = -1;
	int found = 0;
	OK(db_query_int(c, sql, p, np, &v, &found, &e), e);
	assert_true(found);
	return v;
}

/* ---- schema ---- */

static const char *const table_counts[] = {
	"SELECT count(*) FROM token", "SELECT count(*) FROM tokeninfo", "SELECT count(*) FROM tokenowner",
	"SELECT count(*) FROM tokenrealm", "SELECT count(*) FROM realm", "SELECT count(*) FROM resolver",
	"SELECT count(*) FROM resolverconfig", "SELECT count(*) FROM resolverrealm",
	"SELECT count(*) FROM config", "SELECT count(*) FROM policy", "SELECT count(*) FROM policycondition",
	"SELECT count(*) FROM admin", "SELECT count(*) FROM pidea_audit", "SELECT count(*) FROM caconnector",
	"SELECT count(*) FROM caconnectorconfig", "SELECT count(*) FROM eventhandler",
	"SELECT count(*) FROM eventhandleroption", "SELECT count(*) FROM eventhandlercondition",
	"SELECT count(*) FROM smtpserver", "SELECT count(*) FROM smsgateway",
	"SELECT count(*) FROM smsgatewayoption", "SELECT count(*) FROM radiusserver",
	"SELECT count(*) FROM privacyideaserver", "SELECT count(*) FROM challenge",
	"SELECT count(*) FROM machineresolver", "SELECT count(*) FROM machineresolverconfig",
	"SELECT count(*) FROM machinetoken", "SELECT count(*) FROM machinetokenoptions",
	"SELECT count(*) FROM periodictask", "SELECT count(*) FROM periodictaskoption",
	"SELECT count(*) FROM periodictasklastrun", "SELECT count(*) FROM customuserattribute",
	"SELECT count(*) FROM tokengroup", "SELECT count(*) FROM tokentokengroup",
	"SELECT count(*) FROM usercache", "SELECT count(*) FROM authcache", "SELECT count(*) FROM subscription",
	"SELECT count(*) FROM clientapplication", "SELECT count(*) FROM monitoringstats",
	"SELECT count(*) FROM eventcounter", "SELECT count(*) FROM passwordreset",
};

static void test_migrate(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	int v = -1;
	assert_true(db_schema_expected() >= 1);
	OK(db_schema_version(fx->db, &v, &e), e);
	assert_int_equal(v, db_schema_expected());
	OK(db_migrate(fx->db, &e), e); /* second run: nothing to do */
	OK(db_schema_version(fx->db, &v, &e), e);
	assert_int_equal(v, db_schema_expected());
	struct db_conn *c = acquire(fx);
	assert_int_equal(query_int(c, "SELECT count(*) FROM tessera_schema", NULL, 0), db_schema_expected());
	for (size_t i = 0; i < sizeof(table_counts) / sizeof(table_counts[0]); i++)
		assert_int_equal(query_int(c, table_counts[i], NULL, 0), 0);
	db_release(c);

	/* an empty database is at version 0 and migrates from there */
	char uri[1400];
	fresh_uri(uri, sizeof(uri), 1);
	struct db *db2 = db_open(uri, 1, &e);
	assert_non_null(db2);
	OK(db_schema_version(db2, &v, &e), e);
	assert_int_equal(v, 0);
	OK(db_migrate(db2, &e), e);
	OK(db_schema_version(db2, &v, &e), e);
	assert_int_equal(v, db_schema_expected());

	/* a database migrated by a newer Tessera is refused, not "downgraded" */
	c = db_acquire(db2, &e);
	assert_non_null(c);
	struct db_param newer[] = { DB_INT(db_schema_expected() + 1) };
	OK(db_exec(c, "INSERT INTO tessera_schema (version) VALUES (?)", newer, 1, NULL, &e), e);
	db_release(c);
	OK(db_schema_version(db2, &v, &e), e);
	assert_int_equal(v, db_schema_expected() + 1);
	assert_int_equal(db_migrate(db2, &e), -1);
	assert_non_null(strstr(e.message, "newer"));
	db_close(db2);
}

/* ---- admin ---- */

struct names {
	char list[8][121];
	int n;
	int stop_after;
};

static int collect(void *ctx, const struct store_admin *a)
{
	struct names *nm = ctx;
	snprintf(nm->list[nm->n++], sizeof(nm->list[0]), "%s", a->username);
	return nm->stop_after && nm->n >= nm->stop_after;
}

static void test_admin(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	struct store_admin a;
	struct db_conn *c = acquire(fx);
	assert_int_equal(store_admin_get(c, "admin", &a, &e), 1);
	OK(store_admin_put(c, "zed", "z@example.org", "$hash$z", &e), e);
	OK(store_admin_put(c, "admin", "a@example.org", "$hash$1", &e), e);
	OK(store_admin_put(c, "mike", NULL, "$hash$m", &e), e);
	assert_int_equal(store_admin_get(c, "admin", &a, &e), 0);
	assert_string_equal(a.username, "admin");
	assert_string_equal(a.email, "a@example.org");
	assert_string_equal(a.password, "$hash$1");
	/* update: new hash, email NULL keeps the old one */
	OK(store_admin_put(c, "admin", NULL, "$hash$2", &e), e);
	assert_int_equal(store_admin_get(c, "admin", &a, &e), 0);
	assert_string_equal(a.email, "a@example.org");
	assert_string_equal(a.password, "$hash$2");
	/* update: new email, hash NULL keeps the old one */
	OK(store_admin_put(c, "admin", "new@example.org", NULL, &e), e);
	assert_int_equal(store_admin_get(c, "admin", &a, &e), 0);
	assert_string_equal(a.email, "new@example.org");
	assert_string_equal(a.password, "$hash$2");
	assert_int_equal(store_admin_get(c, "mike", &a, &e), 0);
	assert_string_equal(a.email, "");

	struct names nm = { 0 };
	OK(store_admin_list(c, collect, &nm, &e), e);
	assert_int_equal(nm.n, 3);
	assert_string_equal(nm.list[0], "admin");
	assert_string_equal(nm.list[1], "mike");
	assert_string_equal(nm.list[2], "zed");
	struct names one = { .stop_after = 1 };
	OK(store_admin_list(c, collect, &one, &e), e);
	assert_int_equal(one.n, 1);

	assert_int_equal(store_admin_delete(c, "mike", &e), 0);
	assert_int_equal(store_admin_delete(c, "mike", &e), 1);
	assert_int_equal(store_admin_get(c, "mike", &a, &e), 1);

	char longname[200];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(store_admin_put(c, longname, NULL, "h", &e), -1);
	assert_int_equal(e.code, ERR_PARAMETER);
	db_release(c);
}

/* ---- audit ---- */

static void test_audit(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	struct db_conn *c = acquire(fx);
	assert_int_equal(store_audit_count(c, &e), 0);
	struct store_audit a = {
		.date = "2024-05-06 07:08:09.123456",
		.startdate = "2024-05-06 07:08:09.000001",
		.duration = 0.123455,
		.signature = "",
		.action = "POST /validate/check",
		.success = 1,
		.authentication = "ACCEPT",
		.serial = "OATH0001",
		.token_type = "hotp",
		.user = "o'brien",
		.realm = "realm1",
		.user_agent = "privacyidea-cp",
		.user_agent_version = "3.8",
		.container_serial = "",
		.container_type = "",
	};
	int64_t id1 = 0, id2 = 0;
	OK(store_audit_insert(c, &a, &id1, &e), e);
	a.date = NULL; /* "now" */
	a.success = 0;
	OK(store_audit_insert(c, &a, &id2, &e), e);
	assert_true(id1 > 0);
	assert_true(id2 > id1);
	assert_int_equal(store_audit_count(c, &e), 2);

	struct db_res *r;
	struct db_param p[] = { DB_INT(id1) };
	OK(db_query(c, "SELECT \"date\", duration, \"user\", authentication, serial, success, realm, policies "
		       "FROM pidea_audit WHERE id = ?", p, 1, &r, &e), e);
	assert_int_equal(db_res_next(r, &e), 1);
	assert_string_equal(db_res_text(r, 0), "2024-05-06 07:08:09.123456");
	assert_true(db_res_real(r, 1) > 0.12345 && db_res_real(r, 1) < 0.12346);
	assert_string_equal(db_res_text(r, 2), "o'brien");
	assert_string_equal(db_res_text(r, 3), "ACCEPT");
	assert_string_equal(db_res_text(r, 4), "OATH0001");
	assert_int_equal(db_res_int(r, 5), 1);
	assert_true(db_res_isnull(r, 7)); /* NULL string -> SQL NULL */
	assert_null(db_res_text(r, 7));
	assert_int_equal(db_res_next(r, &e), 0);
	db_res_free(r);

	/* the defaulted date has the documented, sortable format */
	struct db_param p2[] = { DB_INT(id2) };
	OK(db_query(c, "SELECT \"date\" FROM pidea_audit WHERE id = ?", p2, 1, &r, &e), e);
	assert_int_equal(db_res_next(r, &e), 1);
	const char *d = db_res_text(r, 0);
	assert_non_null(d);
	assert_int_equal(strlen(d), DB_TS_LEN - 1);
	assert_true(d[4] == '-' && d[10] == ' ' && d[19] == '.');
	assert_true(strcmp(d, "2024-05-06 07:08:09.123456") > 0);
	db_res_free(r);
	db_release(c);
}

/* ---- config ---- */

static void test_config(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	char *v = NULL, *ts1 = NULL, *ts2 = NULL;
	struct db_conn *c = acquire(fx);
	assert_int_equal(store_config_get(c, "splitAtSign", &v, &e), 1);
	assert_null(v);
	OK(store_config_set(c, "splitAtSign", "True", "public", "split user@realm", &e), e);
	assert_int_equal(store_config_get(c, "splitAtSign", &v, &e), 0);
	assert_string_equal(v, "True");
	free(v);
	OK(store_config_set(c, "splitAtSign", "False", NULL, NULL, &e), e);
	assert_int_equal(store_config_get(c, "splitAtSign", &v, &e), 0);
	assert_string_equal(v, "False");
	free(v);
	assert_int_equal(query_int(c, "SELECT count(*) FROM config WHERE \"Key\" = 'splitAtSign' AND \"Type\" = ''",
				   NULL, 0), 1);
	assert_int_equal(store_config_delete(c, "splitAtSign", &e), 0);
	assert_int_equal(store_config_delete(c, "splitAtSign", &e), 1);
	assert_int_equal(store_config_get(c, "splitAtSign", &v, &e), 1);

	OK(store_config_timestamp(c, &ts1, &e), e);
	assert_string_equal(ts1, "0");
	free(ts1);
	OK(store_config_touch(c, &e), e);
	OK(store_config_timestamp(c, &ts1, &e), e);
	char *dot = strchr(ts1, '.');
	assert_non_null(dot);
	assert_int_equal(strlen(dot + 1), 6);
	assert_true(atof(ts1) > 1.6e9);
	struct timespec pause = { 0, 2000000 };
	nanosleep(&pause, NULL);
	OK(store_config_touch(c, &e), e);
	OK(store_config_timestamp(c, &ts2, &e), e);
	assert_string_not_equal(ts1, ts2);
	assert_true(atof(ts2) > atof(ts1));
	assert_int_equal(query_int(c, "SELECT count(*) FROM config WHERE \"Key\" = '__timestamp__'", NULL, 0), 1);
	free(ts1);
	free(ts2);
	db_release(c);
}

/* ---- transactions ---- */

static int config_has(struct db_conn *c, const char *key)
{
	struct error e = { 0 };
	char *v = NULL;
	int rc = store_config_get(c, key, &v, &e);
	if (rc < 0)
		fail_err("store_config_get", &e);
	free(v);
	return rc == 0;
}

static void test_transactions(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	struct db_conn *c = acquire(fx);

	OK(db_begin(c, &e), e);
	OK(store_config_set(c, "k1", "v", NULL, NULL, &e), e);
	assert_true(config_has(c, "k1"));
	assert_int_equal(db_rollback(c), 0);
	assert_false(config_has(c, "k1"));

	OK(db_begin_write(c, &e), e);
	OK(store_config_set(c, "k2", "v", NULL, NULL, &e), e);
	assert_int_equal(db_begin(c, &e), -1); /* nested BEGIN refused on both back ends */
	assert_int_equal(db_commit(c, &e), -1); /* ... and it dooms the transaction */
	assert_false(config_has(c, "k2"));

	OK(db_begin_write(c, &e), e);
	OK(store_config_set(c, "k2", "v", NULL, NULL, &e), e);
	OK(db_commit(c, &e), e);
	assert_true(config_has(c, "k2"));
	assert_int_equal(db_commit(c, &e), -1); /* no transaction */

	/* a failed statement dooms the transaction on both back ends */
	OK(db_begin_write(c, &e), e);
	OK(store_config_set(c, "k3", "v", NULL, NULL, &e), e);
	assert_int_equal(db_exec(c, "INSERT INTO no_such_table VALUES (1)", NULL, 0, NULL, &e), -1);
	assert_int_equal(db_commit(c, &e), -1);
	assert_false(config_has(c, "k3"));

	/* releasing with an open transaction rolls it back */
	OK(db_begin(c, &e), e);
	OK(store_config_set(c, "k4", "v", NULL, NULL, &e), e);
	db_release(c);
	c = acquire(fx);
	assert_false(config_has(c, "k4"));
	OK(db_begin(c, &e), e); /* the connection is clean again */
	OK(db_commit(c, &e), e);

	/* other connections do not see uncommitted rows */
	struct db_conn *c2 = acquire(fx);
	OK(db_begin_write(c, &e), e);
	OK(store_config_set(c, "k5", "v", NULL, NULL, &e), e);
	assert_false(config_has(c2, "k5"));
	OK(db_commit(c, &e), e);
	assert_true(config_has(c2, "k5"));
	db_release(c2);
	db_release(c);
}

/* ---- constraints ---- */

static void test_constraints(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	struct db_conn *c = acquire(fx);
	struct db_param tok[] = { DB_TEXT("OATH0001"), DB_TEXT("hotp") };
	int64_t id = 0;
	int found = 0;
	OK(db_query_int(c, "INSERT INTO token (serial, tokentype) VALUES (?, ?) RETURNING id", tok, 2, &id, &found,
			&e), e);
	assert_true(found && id > 0);
	assert_int_equal(db_exec(c, "INSERT INTO token (serial, tokentype) VALUES (?, ?)", tok, 2, NULL, &e), -1);
	assert_true(db_is_unique_violation(&e));
	assert_int_equal(e.kind, ERRK_INTERNAL);
	assert_int_equal(err_wire_code(&e), ERR_INTERNAL);

	struct db_param k[] = { DB_TEXT("dup") };
	OK(db_exec(c, "INSERT INTO config (\"Key\") VALUES (?)", k, 1, NULL, &e), e);
	assert_int_equal(db_exec(c, "INSERT INTO config (\"Key\") VALUES (?)", k, 1, NULL, &e), -1);
	assert_true(db_is_unique_violation(&e)); /* primary key */

	assert_int_equal(db_exec(c, "SELEKT 1", NULL, 0, NULL, &e), -1);
	assert_false(db_is_unique_violation(&e));
	assert_int_equal(e.kind, ERRK_INTERNAL);

	/* foreign keys are enforced, and children cascade */
	struct db_param bad[] = { DB_INT(id + 1000), DB_TEXT("k") };
	assert_int_equal(db_exec(c, "INSERT INTO tokeninfo (token_id, \"Key\") VALUES (?, ?)", bad, 2, NULL, &e), -1);
	assert_false(db_is_unique_violation(&e));
	struct db_param ti[] = { DB_INT(id), DB_TEXT("hashlib"), DB_TEXT("sha1") };
	OK(db_exec(c, "INSERT INTO tokeninfo (token_id, \"Key\", \"Value\") VALUES (?, ?, ?)", ti, 3, NULL, &e), e);
	assert_int_equal(db_exec(c, "INSERT INTO tokeninfo (token_id, \"Key\", \"Value\") VALUES (?, ?, ?)", ti, 3,
				 NULL, &e), -1);
	assert_true(db_is_unique_violation(&e)); /* (token_id, Key) */
	struct db_param del[] = { DB_INT(id) };
	int64_t n = 0;
	OK(db_exec(c, "DELETE FROM token WHERE id = ?", del, 1, &n, &e), e);
	assert_int_equal(n, 1);
	assert_int_equal(query_int(c, "SELECT count(*) FROM tokeninfo", NULL, 0), 0);
	db_release(c);
}

/* ---- parameters: injection-proof, exact round trips ---- */

static const char *const nasty[] = {
	"Robert'); DROP TABLE admin;--",
	"' OR '1'='1",
	"what? is ?? this $1 $2 :name @x",
	"quote\"double\" back\\slash \\' %s%n%x",
	"\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82",
	"tab\there\nnewline\r\n",
	"",
};

static void test_injection(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	struct db_conn *c = acquire(fx);
	OK(store_admin_put(c, "admin", NULL, "h", &e), e);
	for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		char key[64], *v = NULL;
		snprintf(key, sizeof(key), "k%zu'?", i);
		OK(store_config_set(c, key, nasty[i], nasty[i], nasty[i], &e), e);
		assert_int_equal(store_config_get(c, key, &v, &e), 0);
		assert_string_equal(v, nasty[i]);
		free(v);
		if (nasty[i][0]) {
			struct store_admin a;
			OK(store_admin_put(c, nasty[i], nasty[i], nasty[i], &e), e);
			assert_int_equal(store_admin_get(c, nasty[i], &a, &e), 0);
			assert_string_equal(a.username, nasty[i]);
			assert_string_equal(a.email, nasty[i]);
			assert_string_equal(a.password, nasty[i]);
		}
	}
	assert_int_equal(query_int(c, "SELECT count(*) FROM admin", NULL, 0), 7);
	assert_int_equal(query_int(c, "SELECT count(*) FROM config", NULL, 0), 7);

	/* '?' inside literals, quoted names and comments is not a placeholder */
	struct db_res *r;
	struct db_param p[] = { DB_TEXT("it's ?") };
	OK(db_query_once(c,
			 "SELECT 'it''s a ? mark', CAST(? AS TEXT) AS \"wh?t\" -- a ? comment\n"
			 "/* another ? */",
			 p, 1, &r, &e), e);
	assert_int_equal(db_res_next(r, &e), 1);
	assert_string_equal(db_res_text(r, 0), "it's a ? mark");
	assert_string_equal(db_res_text(r, 1), "it's ?");
	db_res_free(r);

	/* integers, reals, NULL and bytes */
	struct db_param num[] = { DB_INT(INT64_C(-9007199254740993)), DB_REAL(-2.5), DB_TEXT(NULL), DB_NULLP };
	OK(db_query_once(c, "SELECT CAST(? AS BIGINT), CAST(? AS DOUBLE PRECISION), CAST(? AS TEXT), "
			    "CAST(? AS TEXT)", num, 4, &r, &e), e);
	assert_int_equal(db_res_next(r, &e), 1);
	assert_true(db_res_int(r, 0) == INT64_C(-9007199254740993));
	assert_true(db_res_real(r, 1) == -2.5);
	assert_true(db_res_isnull(r, 2) && db_res_isnull(r, 3));
	assert_int_equal(db_res_int(r, 2), 0);
	db_res_free(r);
	struct db_param blob[] = { DB_BLOB("a\0b\xff" "c", 5) };
	int64_t len = 0;
	int found = 0;
	if (S.backend == DB_SQLITE)
		OK(db_query_int(c, "SELECT length(CAST(? AS BLOB))", blob, 1, &len, &found, &e), e);
	else
		OK(db_query_int(c, "SELECT length(CAST(? AS BYTEA))", blob, 1, &len, &found, &e), e);
	assert_int_equal(len, 5);
	db_release(c);
}

/* ---- statements: cache, re-entrancy, misuse ---- */

static void test_statements(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	struct db_conn *c = acquire(fx);
	OK(store_admin_put(c, "a1", NULL, "h", &e), e);
	OK(store_admin_put(c, "a2", NULL, "h", &e), e);

	/* the same (cached) statement, nested inside its own iteration */
	static const char q[] = "SELECT username FROM admin ORDER BY username";
	struct db_res *outer, *inner;
	int rows = 0;
	OK(db_query(c, q, NULL, 0, &outer, &e), e);
	while (db_res_next(outer, &e) == 1) {
		OK(db_query(c, q, NULL, 0, &inner, &e), e);
		int n = 0;
		while (db_res_next(inner, &e) == 1)
			n++;
		assert_int_equal(n, 2);
		db_res_free(inner);
		assert_non_null(db_res_text(outer, 0));
		rows++;
	}
	db_res_free(outer);
	assert_int_equal(rows, 2);
	/* ... and afterwards the cached one is reusable */
	assert_int_equal(query_int(c, "SELECT count(*) FROM admin", NULL, 0), 2);
	assert_int_equal(query_int(c, "SELECT count(*) FROM admin", NULL, 0), 2);

	/* a buffer reused for different SQL is noticed, not misexecuted */
	char buf[64];
	snprintf(buf, sizeof(buf), "SELECT 11");
	assert_int_equal(query_int(c, buf, NULL, 0), 11);
	snprintf(buf, sizeof(buf), "SELECT 22");
	assert_int_equal(query_int(c, buf, NULL, 0), 22);

	/* wrong parameter count, unknown column, no row, NULL value */
	struct db_param one[] = { DB_INT(1) };
	assert_int_equal(db_exec(c, "DELETE FROM admin WHERE username = ? AND email = ?", one, 1, NULL, &e), -1);
	assert_int_equal(e.kind, ERRK_INTERNAL);
	assert_int_equal(db_exec(c, "SELECT no_such_column FROM admin", NULL, 0, NULL, &e), -1);
	int64_t v = 7;
	int found = 1;
	OK(db_query_int(c, "SELECT id FROM token WHERE id = -1", NULL, 0, &v, &found, &e), e);
	assert_false(found);
	OK(db_query_int(c, "SELECT max(id) FROM token", NULL, 0, &v, &found, &e), e);
	assert_false(found);
	int64_t affected = -1;
	OK(db_exec(c, "UPDATE admin SET email = 'x'", NULL, 0, &affected, &e), e);
	assert_int_equal(affected, 2);
	db_release(c);
}

/* ---- pool ---- */

struct worker {
	struct db *db;
	int id, n, errors;
	char msg[256];
};

static void *insert_worker(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < w->n; i++) {
		struct error e = { 0 };
		char serial[32];
		snprintf(serial, sizeof(serial), "T%d-%d", w->id, i);
		struct db_conn *c = db_acquire(w->db, &e);
		struct store_audit a = { .action = "POST /test", .serial = serial, .success = 1 };
		if (!c || store_audit_insert(c, &a, NULL, &e) < 0) {
			w->errors++;
			snprintf(w->msg, sizeof(w->msg), "%.200s", e.message);
		}
		db_release(c);
	}
	return NULL;
}

static void run_workers(struct db *db, void *(*fn)(void *), int n, struct worker *w)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .db = db, .id = i, .n = n };
		assert_int_equal(pthread_create(&t[i], NULL, fn, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++)
		if (w[i].errors)
			fail_msg("worker %d: %d errors, last: %s", i, w[i].errors, w[i].msg);
}

static void test_pool_threads(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	struct db *db = db_open(fx->uri, 2, &e); /* fewer connections than threads */
	assert_non_null(db);
	struct worker w[4];
	run_workers(db, insert_worker, 200, w);
	int open = 0, idle = 0;
	db_pool_stats(db, &open, &idle);
	assert_true(open >= 1 && open <= 2);
	assert_int_equal(idle, open);
	struct db_conn *c = db_acquire(db, &e);
	assert_non_null(c);
	assert_int_equal(store_audit_count(c, &e), 800);
	assert_int_equal(query_int(c, "SELECT count(DISTINCT serial) FROM pidea_audit", NULL, 0), 800);
	db_release(c);
	db_close(db);
}

static void *increment_worker(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < w->n; i++) {
		struct error e = { 0 };
		char *v = NULL, next[32];
		struct db_conn *c = db_acquire(w->db, &e);
		int rc = c ? 0 : -1;
		if (rc == 0)
			rc = db_begin_write(c, &e);
		if (rc == 0)
			rc = db_lock_xact(c, 4711, &e);
		if (rc == 0)
			rc = store_config_get(c, "counter", &v, &e) == 0 ? 0 : -1;
		if (rc == 0) {
			snprintf(next, sizeof(next), "%ld", atol(v) + 1);
			rc = store_config_set(c, "counter", next, "int", NULL, &e);
		}
		if (rc == 0)
			rc = db_commit(c, &e);
		if (rc < 0) {
			w->errors++;
			snprintf(w->msg, sizeof(w->msg), "%.200s", e.message);
		}
		free(v);
		db_release(c);
	}
	return NULL;
}

static void test_read_modify_write(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	struct db_conn *c = acquire(fx);
	OK(store_config_set(c, "counter", "0", "int", NULL, &e), e);
	db_release(c);
	struct worker w[4];
	run_workers(fx->db, increment_worker, 50, w);
	c = acquire(fx);
	char *v = NULL;
	assert_int_equal(store_config_get(c, "counter", &v, &e), 0);
	assert_string_equal(v, "200");
	free(v);
	db_release(c);
}

static void test_pool_reuse_after_error(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	struct db *db = db_open(fx->uri, 1, &e);
	assert_non_null(db);
	struct db_conn *c = db_acquire(db, &e);
	assert_non_null(c);
	OK(db_begin_write(c, &e), e);
	OK(store_config_set(c, "half", "done", NULL, NULL, &e), e);
	assert_int_equal(db_exec(c, "SELEKT", NULL, 0, NULL, &e), -1);
	db_release(c); /* no rollback by the caller */
	struct db_conn *c2 = db_acquire(db, &e);
	assert_ptr_equal(c, c2); /* pool of one: the same connection */
	assert_false(config_has(c2, "half"));
	OK(db_begin(c2, &e), e);
	OK(db_commit(c2, &e), e);
	db_release(c2);
	db_close(db);
}

/* PostgreSQL only: a backend killed while idle in the pool, or while in use. */
static void wait_gone(struct db_conn *c, int64_t pid)
{
	struct db_param p[] = { DB_INT(pid) };
	for (int i = 0; i < 100; i++) {
		if (query_int(c, "SELECT count(*) FROM pg_stat_activity WHERE pid = CAST(? AS INTEGER)", p, 1) == 0) {
			/* the pid leaves pg_stat_activity a moment before the
			 * process exits and its socket closes */
			struct timespec grace = { 0, 300000000 };
			nanosleep(&grace, NULL);
			return;
		}
		struct timespec ts = { 0, 50000000 };
		nanosleep(&ts, NULL);
	}
	fail_msg("backend %lld did not terminate", (long long)pid);
}

static void kill_backend(struct db_conn *a, struct db_conn *b)
{
	int64_t pid = query_int(a, "SELECT pg_backend_pid()", NULL, 0);
	struct db_param p[] = { DB_INT(pid) };
	assert_int_equal(query_int(b, "SELECT pg_terminate_backend(CAST(? AS INTEGER))", p, 1), 1);
	wait_gone(b, pid);
}

static void test_pg_reconnect(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	if (S.backend != DB_POSTGRES)
		skip();
	struct db *db = db_open(fx->uri, 2, &e);
	assert_non_null(db);
	/* killed while idle: db_acquire notices and resets it */
	struct db_conn *a = db_acquire(db, &e), *b = db_acquire(db, &e);
	assert_true(a && b);
	(void)query_int(a, "SELECT count(*) FROM admin", NULL, 0); /* a prepared statement */
	kill_backend(a, b);
	db_release(b);
	db_release(a);
	struct db_conn *c = db_acquire(db, &e);
	if (!c)
		fail_err("db_acquire after kill", &e);
	assert_ptr_equal(c, a);
	assert_int_equal(query_int(c, "SELECT count(*) FROM admin", NULL, 0), 0);
	/* killed while in use: that call fails, the next borrower gets a fresh session */
	b = db_acquire(db, &e);
	assert_non_null(b);
	kill_backend(c, b);
	assert_int_equal(db_query_int(c, "SELECT count(*) FROM admin", NULL, 0, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_DB_CONN);
	db_release(b);
	db_release(c);
	c = db_acquire(db, &e);
	if (!c)
		fail_err("db_acquire after failure", &e);
	assert_int_equal(query_int(c, "SELECT count(*) FROM admin", NULL, 0), 0);
	db_release(c);
	db_close(db);
}

/* ---- URIs (no database needed) ---- */

static void uri_error(const char *uri, const char *expect)
{
	struct error e = { 0 };
	struct db *db = db_open(uri, 2, &e);
	const char *shown = uri ? uri : "(null)";
	if (db)
		fail_msg("db_open(%s) should have failed", shown);
	assert_int_equal(e.kind, ERRK_INTERNAL);
	if (expect && !strstr(e.message, expect))
		fail_msg("db_open(%s): message '%s' lacks '%s'", shown, e.message, expect);
}

static void uri_ok(const char *uri, enum db_backend b, const char *path)
{
	struct error e = { 0 };
	struct db_uri u;
	if (db_uri_parse(uri, &u, &e) < 0)
		fail_err(uri, &e);
	assert_int_equal(u.backend, b);
	if (path)
		assert_string_equal(u.path, path);
	db_uri_free(&u);
}

static void test_uri(void **state)
{
	(void)state;
	uri_error("mysql://u:p@localhost/pi", "unsupported database URI scheme 'mysql'");
	uri_error("mysql+pymysql://u:p@localhost/pi", "unsupported database URI scheme 'mysql+pymysql'");
	uri_error("sqlite://", "sqlite://");
	uri_error("sqlite:///", NULL);
	uri_error("sqlite:///:memory:", "in-memory");
	uri_error("sqlite://host/file.db", NULL);
	uri_error("/var/lib/pi.db", "scheme");
	uri_error("", NULL);
	uri_error(NULL, NULL);
	uri_error("postgresql://u@h:0/db", "port");
	uri_error("postgresql://u@h:99999/db", "port");
	uri_error("postgresql://u@h:54x2/db", "port");
	uri_error("postgresql://u:p%zz@h/db", "percent");
	uri_error("postgresql://u:p%4@h/db", "percent");
	uri_error("postgresql://u:p%00x@h/db", "percent");
	uri_error("postgresql://[::1/db", "IPv6");
	uri_error("postgresql://h/db?novalue", "key=value");
	struct error e = { 0 };
	assert_null(db_open("sqlite:////tmp/x.db", 0, &e)); /* pool size */

	uri_ok("sqlite:////var/lib/tessera/pi.db", DB_SQLITE, "/var/lib/tessera/pi.db");
	uri_ok("sqlite:///data/pi.db", DB_SQLITE, "data/pi.db");
	uri_ok("sqlite:///data/pi.db?check_same_thread=false", DB_SQLITE, "data/pi.db");
	uri_ok("SQLite:////x.db", DB_SQLITE, "/x.db");

	struct db_uri u;
	OK(db_uri_parse("postgresql+psycopg2://pi%40corp:p%40ss%3Aw%2Fo%25rd@db.example.org:5433/pi%20db"
			"?sslmode=require&application_name=my+app", &u, &e), e);
	assert_int_equal(u.backend, DB_POSTGRES);
	assert_string_equal(db_uri_get(&u, "user"), "pi@corp");
	assert_string_equal(db_uri_get(&u, "password"), "p@ss:w/o%rd");
	assert_string_equal(db_uri_get(&u, "host"), "db.example.org");
	assert_string_equal(db_uri_get(&u, "port"), "5433");
	assert_string_equal(db_uri_get(&u, "dbname"), "pi db");
	assert_string_equal(db_uri_get(&u, "sslmode"), "require");
	assert_string_equal(db_uri_get(&u, "application_name"), "my app"); /* overrides the default */
	assert_string_equal(db_uri_get(&u, "client_encoding"), "UTF8");
	assert_null(u.kw[u.nkw]);
	db_uri_free(&u);

	/* an unencoded '@' and '/' in the password: the last '@' ends it */
	OK(db_uri_parse("postgres://pi:se@cr/et@10.0.0.5/pi", &u, &e), e);
	assert_string_equal(db_uri_get(&u, "user"), "pi");
	assert_string_equal(db_uri_get(&u, "password"), "se@cr/et");
	assert_string_equal(db_uri_get(&u, "host"), "10.0.0.5");
	assert_string_equal(db_uri_get(&u, "dbname"), "pi");
	assert_null(db_uri_get(&u, "port"));
	db_uri_free(&u);

	OK(db_uri_parse("postgresql://[::1]:6432/pi", &u, &e), e);
	assert_string_equal(db_uri_get(&u, "host"), "::1");
	assert_string_equal(db_uri_get(&u, "port"), "6432");
	assert_null(db_uri_get(&u, "user"));
	db_uri_free(&u);

	/* a socket directory as host; a dbname that looks like a conninfo
	 * string stays a plain name (expand_dbname is off) */
	OK(db_uri_parse("postgresql://%2Fvar%2Frun%2Fpostgresql/host%3Devil%20port%3D1", &u, &e), e);
	assert_string_equal(db_uri_get(&u, "host"), "/var/run/postgresql");
	assert_string_equal(db_uri_get(&u, "dbname"), "host=evil port=1");
	db_uri_free(&u);

	OK(db_uri_parse("postgresql://", &u, &e), e); /* all libpq defaults */
	assert_null(db_uri_get(&u, "host"));
	db_uri_free(&u);

	/* connecting lazily: a bad server only shows at db_acquire */
	struct db *db = db_open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", 1, &e);
	assert_non_null(db);
	assert_int_equal(db_backend(db), DB_POSTGRES);
	assert_null(db_acquire(db, &e));
	assert_int_equal(e.code, ERR_DB_CONN);
	db_close(db);
	db = db_open("sqlite:////nonexistent-dir-tessera/x.db", 1, &e);
	assert_non_null(db);
	assert_null(db_acquire(db, &e));
	assert_int_equal(e.code, ERR_DB_CONN);
	int open = -1;
	db_pool_stats(db, &open, NULL);
	assert_int_equal(open, 0); /* the failed slot was given back */
	db_close(db);
}

/* ---- runner ---- */

#define DB_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
static const struct CMUnitTest db_tests[] = {
	DB_TEST(test_migrate),
	DB_TEST(test_admin),
	DB_TEST(test_audit),
	DB_TEST(test_config),
	DB_TEST(test_transactions),
	DB_TEST(test_constraints),
	DB_TEST(test_injection),
	DB_TEST(test_statements),
	DB_TEST(test_pool_threads),
	DB_TEST(test_read_modify_write),
	DB_TEST(test_pool_reuse_after_error),
	DB_TEST(test_pg_reconnect),
};

static void rm_dir(const char *dir)
{
	char path[512];
	for (int i = 1; i <= S.seq; i++) {
		static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
		for (size_t k = 0; k < sizeof(suffix) / sizeof(suffix[0]); k++) {
			snprintf(path, sizeof(path), "%s/t%d.db%s", dir, i, suffix[k]);
			unlink(path);
		}
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest uri_tests[] = { cmocka_unit_test(test_uri) };
	int failed = cmocka_run_group_tests_name("db_uri", uri_tests, NULL, NULL);

	const char *tmp = getenv("TMPDIR");
	snprintf(S.dir, sizeof(S.dir), "%s/tessera-test-db-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(S.dir)) {
		perror("mkdtemp");
		return 1;
	}
	S.backend = DB_SQLITE;
	failed += cmocka_run_group_tests_name("db_sqlite", db_tests, NULL, NULL);
	rm_dir(S.dir);

	const char *pg = getenv("TESSERA_TEST_PG_URI");
	if (pg && *pg) {
		snprintf(S.pg_base, sizeof(S.pg_base), "%s", pg);
		S.backend = DB_POSTGRES;
		failed += cmocka_run_group_tests_name("db_postgresql", db_tests, NULL, NULL);
	} else {
		printf("[  SKIPPED ] db_postgresql: set TESSERA_TEST_PG_URI to run the suite on PostgreSQL\n");
	}
	return failed ? 1 : 0;
}
