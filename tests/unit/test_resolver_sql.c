/*
 * test_resolver_sql.c — the SQL resolver (sql.c, sql_db.c, sql_hash.c).
 *
 * Every test body runs against SQLite (a file made by the test) and, when
 * the environment names one, against PostgreSQL (TESSERA_TEST_PG_URI =
 * postgresql://user[:password]@host:port/db) and MySQL/MariaDB
 * (TESSERA_TEST_MYSQL_URI = mysql://user[:password]@host:port/db).  The
 * users come from tests/data/resolvers/sql_users.sql: one per password
 * format, hashes made by hashlib, passlib, openssl, mkpasswd and argon2
 * (gen_sql_users.py), never by Tessera.  Hash generation for editable
 * resolvers is checked by round trips and by the independent vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/resolvers/resolver.h"
#include "lib/resolvers/sql_internal.h"

#define TABLE "tessera_test_users"

struct backend {
	const char *name;
	const char *driver;
	char server[128], port[16], user[64], password[64], database[256];
	char dir[128]; /* SQLite: temporary directory */
};

static struct backend backends[3];
static size_t nbackends;

/* ---- setup ------------------------------------------------------------------ */

/* scheme://user[:password]@host[:port]/db */
static int parse_uri(const char *uri, struct backend *b)
{
	const char *p = strstr(uri, "://"), *at, *slash, *colon;
	if (p == NULL)
		return -1;
	p += 3;
	at = strchr(p, '@');
	slash = strchr(p, '/');
	if (at == NULL || slash == NULL || at > slash)
		return -1;
	colon = memchr(p, ':', (size_t)(at - p));
	if (colon) {
		snprintf(b->user, sizeof(b->user), "%.*s", (int)(colon - p), p);
		snprintf(b->password, sizeof(b->password), "%.*s", (int)(at - colon - 1), colon + 1);
	} else {
		snprintf(b->user, sizeof(b->user), "%.*s", (int)(at - p), p);
	}
	p = at + 1;
	colon = memchr(p, ':', (size_t)(slash - p));
	if (colon) {
		snprintf(b->server, sizeof(b->server), "%.*s", (int)(colon - p), p);
		snprintf(b->port, sizeof(b->port), "%.*s", (int)(slash - colon - 1), colon + 1);
	} else {
		snprintf(b->server, sizeof(b->server), "%.*s", (int)(slash - p), p);
	}
	snprintf(b->database, sizeof(b->database), "%s", slash + 1);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

static struct sqldb_params params_of(const struct backend *b)
{
	struct sqldb_params p = {0};
	sqldb_kind_from_driver(b->driver, &p.kind);
	p.server = (char *)b->server;
	p.port = (char *)b->port;
	p.database = (char *)b->database;
	p.user = (char *)b->user;
	p.password = (char *)b->password;
	p.connect_timeout = 10;
	return p;
}

static void exec_or_die(struct sqldb_conn *c, const char *sql)
{
	struct error err;
	if (sqldb_exec(c, sql, NULL, 0, NULL, NULL, NULL, NULL, &err) != 0) {
		fprintf(stderr, "setup SQL failed: %s\n  %s\n", err.message, sql);
		abort();
	}
}

/* (Re)create the user table of a back end and load the fixture rows. */
static void load_users(const struct backend *b)
{
	struct sqldb_params p = params_of(b);
	struct error err;
	struct sqldb_conn *c = sqldb_open(&p, &err);
	char path[512];
	const char *data = getenv("TESSERA_TEST_DATA");

	if (c == NULL) {
		fprintf(stderr, "%s: %s\n", b->name, err.message);
		abort();
	}
	exec_or_die(c, "DROP TABLE IF EXISTS " TABLE);
	if (p.kind == SQLDB_SQLITE)
		exec_or_die(c, "CREATE TABLE " TABLE " (id INTEGER PRIMARY KEY AUTOINCREMENT, login TEXT, "
			       "given TEXT, sur TEXT, mail TEXT, tel TEXT, mob TEXT, pw TEXT, active INTEGER DEFAULT 1, "
			       "note BLOB)");
	else if (p.kind == SQLDB_PG)
		exec_or_die(c, "CREATE TABLE " TABLE " (id SERIAL PRIMARY KEY, login VARCHAR(64), "
			       "given VARCHAR(64), sur VARCHAR(64), mail VARCHAR(128), tel VARCHAR(32), "
			       "mob VARCHAR(32), pw VARCHAR(255), active INTEGER DEFAULT 1, note BYTEA)");
	else
		exec_or_die(c, "CREATE TABLE " TABLE " (id INT AUTO_INCREMENT PRIMARY KEY, login VARCHAR(64), "
			       "given VARCHAR(64), sur VARCHAR(64), mail VARCHAR(128), tel VARCHAR(32), "
			       "mob VARCHAR(32), pw VARCHAR(255), active INTEGER DEFAULT 1, note VARBINARY(64)) "
			       "CHARACTER SET utf8mb4");
	snprintf(path, sizeof(path), "%s/resolvers/sql_users.sql", data ? data : ".");
	char *text = slurp(path);
	if (text == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "INSERT INTO users ", 18) != 0)
			continue;
		char stmt[2048];
		snprintf(stmt, sizeof(stmt), "INSERT INTO " TABLE " %s", line + 18);
		exec_or_die(c, stmt);
	}
	free(text);
	/* José, with his name in latin1 bytes in the binary column. */
	if (p.kind == SQLDB_PG)
		exec_or_die(c, "INSERT INTO " TABLE " (id, login, given, pw, active, note) VALUES "
			       "(60, 'jose', 'Jose', NULL, 1, decode('4a6f73e9', 'hex'))");
	else
		exec_or_die(c, "INSERT INTO " TABLE " (id, login, given, pw, active, note) VALUES "
			       "(60, 'jose', 'Jose', NULL, 1, X'4A6F73E9')");
	if (p.kind == SQLDB_PG)
		exec_or_die(c, "SELECT setval(pg_get_serial_sequence('" TABLE "', 'id'), 1000)");
	sqldb_close(c);
}

static int group_setup(void **state)
{
	struct backend *b = &backends[nbackends++];
	b->name = "sqlite";
	b->driver = "sqlite";
	snprintf(b->dir, sizeof(b->dir), "/tmp/tessera-sqlres-XXXXXX");
	if (mkdtemp(b->dir) == NULL)
		return -1;
	char dir[sizeof(b->dir)];
	memcpy(dir, b->dir, sizeof(dir));
	snprintf(b->database, sizeof(b->database), "%s/users.db", dir);
	/* SQLite files are created by the test, never by the resolver. */
	FILE *f = fopen(b->database, "wb");
	if (f == NULL)
		return -1;
	fclose(f);

	const char *pg = getenv("TESSERA_TEST_PG_URI");
	if (pg && *pg) {
		b = &backends[nbackends];
		b->name = "postgresql";
		b->driver = "postgresql+psycopg2";
		if (parse_uri(pg, b) == 0)
			nbackends++;
		else
			fprintf(stderr, "ignoring malformed TESSERA_TEST_PG_URI\n");
	} else {
		fprintf(stderr, "note: TESSERA_TEST_PG_URI not set, PostgreSQL not tested\n");
	}
	const char *my = getenv("TESSERA_TEST_MYSQL_URI");
	if (my && *my) {
		b = &backends[nbackends];
		b->name = "mysql";
		b->driver = "mysql+pymysql";
		if (parse_uri(my, b) == 0)
			nbackends++;
		else
			fprintf(stderr, "ignoring malformed TESSERA_TEST_MYSQL_URI\n");
	} else {
		fprintf(stderr, "note: TESSERA_TEST_MYSQL_URI not set, MySQL/MariaDB not tested\n");
	}
	return 0;
}

static int group_teardown(void **state)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/users.db", backends[0].dir);
	unlink(path);
	rmdir(backends[0].dir);
	return 0;
}

/* A definition for backend b; extra is a JSON object merged over it. */
static json_t *config_for(const struct backend *b, const char *extra)
{
	json_t *cfg = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Driver", b->driver, "Server",
				b->server, "Port", b->port, "Database", b->database, "User", b->user, "Password",
				b->password, "Table", TABLE, "Map",
				"{\"userid\": \"id\", \"username\": \"login\", \"givenname\": \"given\", "
				"\"surname\": \"sur\", \"email\": \"mail\", \"phone\": \"tel\", \"mobile\": \"mob\", "
				"\"password\": \"pw\", \"description\": \"note\"}",
				"Where", "active == 1");
	if (extra) {
		json_t *x = json_loads(extra, 0, NULL);
		assert_non_null(x);
		json_object_update(cfg, x);
		json_decref(x);
	}
	return cfg;
}

static struct resolver *make(const struct backend *b, const char *extra)
{
	struct error err;
	json_t *cfg = config_for(b, extra);
	struct resolver *r = sqlresolver_type.create("sql", cfg, &err);
	json_decref(cfg);
	if (r == NULL)
		fail_msg("%s: create failed: %s", b->name, err.message);
	return r;
}

#define FOREACH_BACKEND(b)                                                                                 \
	for (struct backend *b = backends; b < backends + nbackends; b++)                                     \
		if ((load_users(b), fprintf(stderr, "  [%s]\n", b->name)) >= 0)

/* ---- password formats --------------------------------------------------------- */

static const char *const formats[] = {
	"sha", "ssha", "ssha256", "ssha512", "owncloud", "otrs", "md5crypt", "sha256crypt", "sha512crypt",
	"yescrypt", "bcrypt2b", "bcrypt2a", "bcrypt2y", "phpassP", "phpassH", "drupal", "argon2", "ümlaut",
	"per%cent_x",
};

static void test_check_pass_formats(void **state)
{
	FOREACH_BACKEND(b)
	{
		struct resolver *r = make(b, NULL);
		struct error err;
		for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
			char *uid = NULL, pw[64];
			if (r->type->get_user_id(r, formats[i], &uid, &err) != 0)
				fail_msg("%s: user %s not found", b->name, formats[i]);
			snprintf(pw, sizeof(pw), "%s-pw", formats[i]);
			if (r->type->check_pass(r, uid, pw, &err) != 0)
				fail_msg("%s: %s: right password refused", b->name, formats[i]);
			assert_int_equal(r->type->check_pass(r, uid, "wrong", &err), 1);
			assert_int_equal(r->type->check_pass(r, uid, "", &err), 1);
			pw[strlen(pw) - 1] = 'X';
			assert_int_equal(r->type->check_pass(r, uid, pw, &err), 1);
			free(uid);
		}
		/* Outside the Where clause, unknown, without password, injected. */
		assert_int_equal(r->type->check_pass(r, "50", "ghost-pw", &err), 1);
		assert_int_equal(r->type->check_pass(r, "4711", "x", &err), 1);
		assert_int_equal(r->type->check_pass(r, "51", "", &err), 1);
		assert_int_equal(r->type->check_pass(r, "1 OR 1=1", "sha-pw", &err), 1);
		assert_int_equal(r->type->check_pass(r, "1abc", "sha-pw", &err), 1);
		sqlresolver_type.destroy(r);
	}
}

/* The formats directly, with vectors from independent tools. */
static void test_hash_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *pw, *hash;
	} v[] = {
		/* python3 hashlib / sha256sum */
		{"password", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="},
		{"password", "{sha}W6ph5Mm5Pz8GgiULbPgzG37mj9g="},
		{"password", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"},
		/* OTRS hex, upper case is the same hash */
		{"otrs-pw", "AA48780A8C81B631998CC0B9A672E500BA27D89CB42C8739145620C362E00DDA"},
		/* openssl passwd -6 -salt AbCdEfGh12345678 alice-secret */
		{"alice-secret", "$6$AbCdEfGh12345678$c9aYfCxNnl9dO4aMdgF7EIF41kpfeJTKn.IhBkiwd9WJypJRRZTOGFZzZpocrvUJpYeaEzACY30r4GNv3VQRH1"},
	};
	assert_int_equal(sqlhash_verify(v[0].pw, v[0].hash), 1);
	assert_int_equal(sqlhash_verify(v[2].pw, v[2].hash), 1);
	assert_int_equal(sqlhash_verify(v[1].pw, v[1].hash), 1);
	assert_int_equal(sqlhash_verify(v[3].pw, v[3].hash), 1);
	assert_int_equal(sqlhash_verify(v[4].pw, v[4].hash), 1);
	assert_int_equal(sqlhash_verify("Password", v[0].hash), 0);
	/* Malformed or unknown formats never match. */
	assert_int_equal(sqlhash_verify("x", ""), 0);
	assert_int_equal(sqlhash_verify("x", "x"), 0);
	assert_int_equal(sqlhash_verify("x", "{SSHA256}!!!"), 0);
	assert_int_equal(sqlhash_verify("x", "{SSHA256}"), 0);
	assert_int_equal(sqlhash_verify("x", "{SHA}AAAA"), 0);
	assert_int_equal(sqlhash_verify("x", "$P$"), 0);
	assert_int_equal(sqlhash_verify("x", "$P$0........"), 0); /* rounds out of range */
	assert_int_equal(sqlhash_verify("x", "$6$"), 0);
	assert_int_equal(sqlhash_verify("x", "$argon2id$garbage"), 0);
	assert_int_equal(sqlhash_verify("x", "wJSlTjYqWz4yw"), 0); /* DES: not an SQL format */
	assert_int_equal(sqlhash_verify(NULL, "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="), 0);
}

static void test_hash_generation(void **state)
{
	(void)state;
	static const char *const types[] = {"PHPASS", "SHA", "SSHA", "SSHA256", "SSHA512", "OTRS",
					    "SHA256CRYPT", "SHA512CRYPT", "MD5CRYPT", "BCRYPT", "YESCRYPT",
					    "ARGON2", "ssha256"};
	static const char *const prefix[] = {"$P$H", "{SHA}", "{SSHA}", "{SSHA256}", "{SSHA512}", "",
					     "$5$rounds=535000$", "$6$rounds=656000$", "$1$", "$2b$12$",
					     "$y$", "$argon2id$v=19$m=65536,t=3,p=4$", "{SSHA256}"};
	struct error err;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int t = sqlhash_type_from_name(types[i]);
		assert_true(t >= 0);
		char *h1 = sqlhash_make(t, "Pässword 1", &err);
		char *h2 = sqlhash_make(t, "Pässword 1", &err);
		assert_non_null(h1);
		assert_non_null(h2);
		if (strncmp(h1, prefix[i], strlen(prefix[i])) != 0)
			fail_msg("%s: unexpected hash %s", types[i], h1);
		assert_int_equal(sqlhash_verify("Pässword 1", h1), 1);
		assert_int_equal(sqlhash_verify("Pässword 2", h1), 0);
		/* Salted types differ each time; SHA and OTRS are unsalted. */
		if (strcmp(types[i], "SHA") != 0 && strcmp(types[i], "OTRS") != 0)
			assert_string_not_equal(h1, h2);
		free(h1);
		free(h2);
	}
	assert_int_equal(sqlhash_type_from_name("MD4"), -1);
	assert_null(sqlhash_make(-1, "x", &err));
}

/* ---- lookups, search, Where, Limit, Encoding ----------------------------------- */

static void test_lookups(void **state)
{
	FOREACH_BACKEND(b)
	{
		struct resolver *r = make(b, NULL);
		struct error err;
		char *s = NULL;
		json_t *info = NULL;

		assert_int_equal(r->type->get_user_id(r, "ssha256", &s, &err), 0);
		assert_string_equal(s, "3");
		free(s);
		assert_int_equal(r->type->get_user_id(r, "ümlaut", &s, &err), 0);
		assert_string_equal(s, "18");
		free(s);
		assert_int_equal(r->type->get_user_id(r, "ghost", &s, &err), 1); /* Where */
		assert_int_equal(r->type->get_user_id(r, "nobody", &s, &err), 1);
		assert_int_equal(r->type->get_user_id(r, "' OR '1'='1", &s, &err), 1);
		assert_int_equal(r->type->get_user_id(r, "%", &s, &err), 1);
		assert_int_equal(r->type->get_user_id(r, "per_cent%x", &s, &err), 1);
		assert_int_equal(r->type->get_username(r, "19", &s, &err), 0);
		assert_string_equal(s, "per%cent_x");
		free(s);
		assert_int_equal(r->type->get_username(r, "50", &s, &err), 1);
		assert_int_equal(r->type->get_username(r, "3abc", &s, &err), 1);
		assert_int_equal(r->type->get_username(r, "03", &s, &err), 1);

		assert_int_equal(r->type->get_user_info(r, "3", &info, &err), 0);
		assert_string_equal(json_string_value(json_object_get(info, "userid")), "3");
		assert_string_equal(json_string_value(json_object_get(info, "username")), "ssha256");
		assert_string_equal(json_string_value(json_object_get(info, "givenname")), "Ssha256");
		assert_string_equal(json_string_value(json_object_get(info, "surname")), "Tester");
		assert_string_equal(json_string_value(json_object_get(info, "email")), "ssha256@example.com");
		assert_string_equal(json_string_value(json_object_get(info, "phone")), "+49 30 0003");
		assert_null(json_object_get(info, "mobile"));   /* NULL column */
		assert_null(json_object_get(info, "password")); /* never handed out */
		assert_true(json_is_integer(json_object_get(info, "id")));
		assert_int_equal(json_integer_value(json_object_get(info, "id")), 3);
		json_decref(info);

		/* Empty strings are left out, like privacyIDEA's "if raw_value". */
		assert_int_equal(r->type->get_user_info(r, "51", &info, &err), 0);
		assert_null(json_object_get(info, "email"));
		assert_string_equal(json_string_value(json_object_get(info, "username")), "nopw");
		json_decref(info);

		/* Binary column decoded with Encoding (default latin1). */
		assert_int_equal(r->type->get_user_info(r, "60", &info, &err), 0);
		assert_string_equal(json_string_value(json_object_get(info, "description")), "José");
		json_decref(info);
		sqlresolver_type.destroy(r);

		r = make(b, "{\"Encoding\": \"utf-8\"}");
		assert_int_equal(r->type->get_user_info(r, "60", &info, &err), 0);
		assert_string_equal(json_string_value(json_object_get(info, "description")), "decoding_error");
		json_decref(info);
		sqlresolver_type.destroy(r);

		r = make(b, "{\"Encoding\": \"no-such-charset\"}"); /* falls back to latin1 */
		assert_int_equal(r->type->get_user_info(r, "60", &info, &err), 0);
		assert_string_equal(json_string_value(json_object_get(info, "description")), "José");
		json_decref(info);
		sqlresolver_type.destroy(r);
	}
}

static size_t count(struct resolver *r, const char *search)
{
	struct error err;
	json_t *list = NULL, *s = search ? json_loads(search, 0, NULL) : NULL;
	if (search)
		assert_non_null(s);
	if (r->type->get_user_list(r, s, &list, &err) != 0)
		fail_msg("get_user_list(%s): %s", search ? search : "NULL", err.message);
	size_t n = json_array_size(list);
	json_decref(list);
	json_decref(s);
	return n;
}

static void test_search(void **state)
{
	FOREACH_BACKEND(b)
	{
		struct resolver *r = make(b, NULL);
		struct error err;

		assert_int_equal(count(r, NULL), 21);
		assert_int_equal(count(r, "{\"username\": \"*\"}"), 21);
		assert_int_equal(count(r, "{\"username\": \"ssha*\"}"), 3);
		assert_int_equal(count(r, "{\"username\": \"*crypt\"}"), 4);
		assert_int_equal(count(r, "{\"username\": \"sha\"}"), 1);
		assert_int_equal(count(r, "{\"email\": \"*@example.com\", \"username\": \"bcrypt*\"}"), 3);
		assert_int_equal(count(r, "{\"userid\": \"1*\"}"), 11); /* 1, 10..19 */
		assert_int_equal(count(r, "{\"surname\": \"Inactive\"}"), 0); /* Where */
		/* '%' and '_' are literal, '*' is the wildcard. */
		assert_int_equal(count(r, "{\"username\": \"per%cent_x\"}"), 1);
		assert_int_equal(count(r, "{\"username\": \"per%\"}"), 0);
		assert_int_equal(count(r, "{\"username\": \"per_cent*\"}"), 0);
		assert_int_equal(count(r, "{\"username\": \"%\"}"), 0);
		assert_int_equal(count(r, "{\"username\": \"_\"}"), 0);
		assert_int_equal(count(r, "{\"username\": \"per!%*\"}"), 0);
		/* Injection attempts find nobody and break nothing. */
		assert_int_equal(count(r, "{\"username\": \"' OR 1=1 --\"}"), 0);
		assert_int_equal(count(r, "{\"username\": \"*' OR '1'='1\"}"), 0);
		assert_int_equal(count(r, "{\"username\": \"*)(uid=*\"}"), 0);
		assert_int_equal(count(r, "{\"username\": \"x\\\"; DROP TABLE " TABLE "; --\"}"), 0);
		assert_int_equal(count(r, "{\"userid\": \"1 OR 1=1\"}"), 0);
		/* Unknown keys, the password column and non-text values: nobody. */
		assert_int_equal(count(r, "{\"realm\": \"*\"}"), 0);
		assert_int_equal(count(r, "{\"password\": \"*\"}"), 0);
		assert_int_equal(count(r, "{\"username\": 1}"), 0);
		assert_int_equal(count(r, NULL), 21); /* the table is still there */

		json_t *list = NULL, *s = json_pack("{s:s}", "username", "ssha256");
		assert_int_equal(r->type->get_user_list(r, s, &list, &err), 0);
		json_t *u = json_array_get(list, 0);
		assert_string_equal(json_string_value(json_object_get(u, "userid")), "3");
		assert_null(json_object_get(u, "password"));
		json_decref(list);
		json_decref(s);
		sqlresolver_type.destroy(r);

		r = make(b, "{\"Limit\": \"5\"}");
		assert_int_equal(count(r, "{\"username\": \"*\"}"), 5);
		sqlresolver_type.destroy(r);
		r = make(b, "{\"Limit\": 0}");
		assert_int_equal(count(r, NULL), 0);
		sqlresolver_type.destroy(r);
	}
}

static void test_where(void **state)
{
	FOREACH_BACKEND(b)
	{
		struct resolver *r;
		char *s = NULL;
		struct error err;

		r = make(b, "{\"Where\": \"\"}");
		assert_int_equal(count(r, NULL), 22);
		assert_int_equal(r->type->get_user_id(r, "ghost", &s, &err), 0);
		free(s);
		sqlresolver_type.destroy(r);

		r = make(b, "{\"Where\": \"active = 1 AND login like s%\"}");
		assert_int_equal(count(r, NULL), 6); /* sha ssha ssha256 ssha512 sha256crypt sha512crypt */
		assert_int_equal(r->type->get_user_id(r, "otrs", &s, &err), 1);
		sqlresolver_type.destroy(r);

		r = make(b, "{\"Where\": \"id>10 and id<=12 AND active!=0\"}");
		assert_int_equal(count(r, NULL), 2);
		sqlresolver_type.destroy(r);

		r = make(b, "{\"Where\": \"sur == 'Tester' AND login LIKE 'bcrypt2%'\"}");
		assert_int_equal(count(r, NULL), 3);
		sqlresolver_type.destroy(r);

		/* A Where value the column cannot hold is reported (PostgreSQL),
		 * finds nobody (SQLite) or, MySQL reading 'yes' as 0, the one
		 * inactive user — never everybody. */
		r = make(b, "{\"Where\": \"active == yes\"}");
		{
			json_t *list = NULL;
			int rc = r->type->get_user_list(r, NULL, &list, &err);
			if (strcmp(b->name, "postgresql") == 0) {
				assert_int_equal(rc, -1);
			} else {
				assert_int_equal(rc, 0);
				assert_true(json_array_size(list) <= 1);
			}
			json_decref(list);
		}
		sqlresolver_type.destroy(r);

		/* A quoted value may hold blanks and quotes; it stays a value. */
		r = make(b, "{\"Where\": \"login == 'x'' OR ''1''=''1'\"}");
		assert_int_equal(count(r, NULL), 0);
		sqlresolver_type.destroy(r);

		static const char *const bad[] = {
			"active ~ 1",          "active == 1 OR 1 == 1", "active == ",        "= 1",
			"active == 1 AND",     "login == 'open",        "x; DROP TABLE t == 1",
			"active is null",      "active == 1 AND AND active == 1",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char extra[256];
			json_t *cfg;
			snprintf(extra, sizeof(extra), "{\"Where\": \"%s\"}", bad[i]);
			cfg = config_for(b, extra);
			r = sqlresolver_type.create("sql", cfg, &err);
			json_decref(cfg);
			if (r != NULL)
				fail_msg("Where \"%s\" accepted", bad[i]);
			assert_int_equal(err.code, ERR_PARAMETER);
		}
		/* Where also guards writes. */
		r = make(b, "{\"Editable\": \"1\"}");
		json_t *attrs = json_pack("{s:s}", "givenname", "Boo");
		assert_int_equal(r->type->update_user(r, "50", attrs, &err), 1);
		assert_int_equal(r->type->delete_user(r, "50", &err), 1);
		json_decref(attrs);
		sqlresolver_type.destroy(r);
	}
}

/* ---- configuration errors --------------------------------------------------------- */

static void expect_create_error(const struct backend *b, const char *extra, int code)
{
	struct error err;
	json_t *cfg = config_for(b, extra);
	struct resolver *r = sqlresolver_type.create("sql", cfg, &err);
	json_decref(cfg);
	if (r != NULL)
		fail_msg("accepted: %s", extra);
	assert_int_equal(err.code, code);
}

static void test_config_errors(void **state)
{
	struct backend *b = &backends[0];
	struct error err;

	expect_create_error(b, "{\"Driver\": \"oracle\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Driver\": \"\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Table\": \"users; DROP TABLE x\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Table\": \"a\\\"b\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Table\": \"a..b\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Table\": \"\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Map\": \"{\\\"userid\\\": \\\"id\\\"}\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Map\": \"{\\\"userid\\\": \\\"id\\\", \\\"username\\\": \\\"lo gin\\\"}\"}",
			    ERR_PARAMETER);
	expect_create_error(b, "{\"Map\": \"{\\\"userid\\\": \\\"id\\\", \\\"username\\\": 5}\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Map\": \"not a map\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Map\": \"\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Limit\": \"many\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"poolSize\": \"-1\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"poolTimeout\": \"soon\"}", ERR_PARAMETER);
	expect_create_error(b, "{\"Editable\": \"1\", \"Password_Hash_Type\": \"MD4\"}", ERR_PARAMETER);

	/* privacyIDEA's YAML mapping syntax and the driver aliases work. */
	struct resolver *r = make(b, "{\"Map\": \"{userid: id, username: login, password: pw}\", "
				     "\"Driver\": \"SQLite\", \"Password_Hash_Type\": \"MD4\", "
				     "\"conParams\": \"charset=utf8\"}");
	char *s = NULL;
	load_users(b);
	assert_int_equal(r->type->get_user_id(r, "sha", &s, &err), 0);
	free(s);
	assert_false(r->type->editable(r));
	sqlresolver_type.destroy(r);

	enum sqldb_kind k;
	assert_int_equal(sqldb_kind_from_driver("postgres", &k), 0);
	assert_int_equal(k, SQLDB_PG);
	assert_int_equal(sqldb_kind_from_driver("postgresql+psycopg2", &k), 0);
	assert_int_equal(k, SQLDB_PG);
	assert_int_equal(sqldb_kind_from_driver("mysql+mysqldb", &k), 0);
	assert_int_equal(k, SQLDB_MYSQL);
	assert_int_equal(sqldb_kind_from_driver("mariadb", &k), 0);
	assert_int_equal(k, SQLDB_MYSQL);
	assert_int_equal(sqldb_kind_from_driver("mssql+pyodbc", &k), -1);
	char *q = sqldb_quote_ident(SQLDB_MYSQL, "db.users", &err);
	assert_string_equal(q, "`db`.`users`");
	free(q);
	q = sqldb_quote_ident(SQLDB_PG, "public.users", &err);
	assert_string_equal(q, "\"public\".\"users\"");
	free(q);
	assert_null(sqldb_quote_ident(SQLDB_PG, "users`", &err));

	/* A missing SQLite file is an error at lookup time, not "no user". */
	r = make(b, "{\"Database\": \"/nonexistent/tessera/users.db\"}");
	assert_int_equal(r->type->get_user_id(r, "sha", &s, &err), -1);
	assert_int_equal(err.code, ERR_USER);
	sqlresolver_type.destroy(r);

	/* A column that does not exist is an error — SQLite must not read
	 * "nosuchcol" as the string 'nosuchcol'. */
	r = make(b, "{\"Map\": \"{userid: id, username: nosuchcol}\"}");
	assert_int_equal(r->type->get_user_id(r, "nosuchcol", &s, &err), -1);
	sqlresolver_type.destroy(r);
	r = make(b, "{\"Where\": \"nosuchcol == nosuchcol\"}");
	assert_int_equal(r->type->get_user_id(r, "sha", &s, &err), -1);
	sqlresolver_type.destroy(r);

	/* A table that does not exist: an error, never a crash. */
	r = make(b, "{\"Table\": \"no_such_table\"}");
	assert_int_equal(r->type->get_user_id(r, "sha", &s, &err), -1);
	sqlresolver_type.destroy(r);
}

static void test_test_connection(void **state)
{
	FOREACH_BACKEND(b)
	{
		struct error err;
		char *desc = NULL;
		json_t *cfg = config_for(b, NULL);
		assert_int_equal(sqlresolver_type.test_connection(cfg, &desc, &err), 0);
		assert_string_equal(desc, "Found 21 users.");
		free(desc);
		json_decref(cfg);

		cfg = config_for(b, "{\"Table\": \"no_such_table\"}");
		assert_int_equal(sqlresolver_type.test_connection(cfg, &desc, &err), -1);
		assert_non_null(strstr(err.message, "failed to retrieve users"));
		json_decref(cfg);
	}
	struct error err;
	char *desc = NULL;
	json_t *cfg = config_for(&backends[0], "{\"Password\": \"s3cr3t-never-shown\", "
					       "\"Database\": \"/nonexistent/x.db\"}");
	assert_int_equal(sqlresolver_type.test_connection(cfg, &desc, &err), -1);
	assert_null(strstr(err.message, "s3cr3t-never-shown"));
	json_decref(cfg);
}

/* ---- editing ---------------------------------------------------------------------- */

static void test_editable(void **state)
{
	static const char *const types[] = {"SSHA256", "PHPASS", "SHA", "SSHA", "SSHA512", "OTRS",
					    "SHA256CRYPT", "SHA512CRYPT", "MD5CRYPT", "BCRYPT", "YESCRYPT",
					    "ARGON2"};
	FOREACH_BACKEND(b)
	{
		struct error err;
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			char extra[128], login[64], *uid = NULL, *s = NULL;
			snprintf(extra, sizeof(extra), "{\"Editable\": \"True\", \"Password_Hash_Type\": \"%s\"}",
				 types[i]);
			struct resolver *r = make(b, extra);
			assert_true(r->type->editable(r));
			snprintf(login, sizeof(login), "new-%s", types[i]);
			json_t *attrs = json_pack("{s:s, s:s, s:s, s:s, s:s}", "username", login, "password",
						  "Fresh-pw 1", "givenname", "Nëw", "email", "new@example.com",
						  "description", "");
			if (r->type->add_user(r, attrs, &uid, &err) != 0)
				fail_msg("%s/%s: add_user: %s", b->name, types[i], err.message);
			json_decref(attrs);
			assert_int_equal(r->type->get_user_id(r, login, &s, &err), 0);
			assert_string_equal(s, uid);
			free(s);
			/* "active" defaults to 1, so the Where clause shows the new row. */
			assert_int_equal(r->type->check_pass(r, uid, "Fresh-pw 1", &err), 0);
			assert_int_equal(r->type->check_pass(r, uid, "Fresh-pw 2", &err), 1);

			attrs = json_pack("{s:s}", "password", "Changed-pw");
			assert_int_equal(r->type->update_user(r, uid, attrs, &err), 0);
			json_decref(attrs);
			assert_int_equal(r->type->check_pass(r, uid, "Changed-pw", &err), 0);
			assert_int_equal(r->type->check_pass(r, uid, "Fresh-pw 1", &err), 1);

			json_t *info = NULL;
			attrs = json_pack("{s:s, s:s}", "surname", "O'Brien\"; --", "mobile", "+1 555");
			assert_int_equal(r->type->update_user(r, uid, attrs, &err), 0);
			json_decref(attrs);
			assert_int_equal(r->type->get_user_info(r, uid, &info, &err), 0);
			assert_string_equal(json_string_value(json_object_get(info, "surname")), "O'Brien\"; --");
			assert_string_equal(json_string_value(json_object_get(info, "givenname")), "Nëw");
			assert_string_equal(json_string_value(json_object_get(info, "mobile")), "+1 555");
			json_decref(info);

			/* Unknown attributes are refused, nothing is written. */
			attrs = json_pack("{s:s, s:s}", "surname", "X", "shoesize", "44");
			assert_int_equal(r->type->update_user(r, uid, attrs, &err), -1);
			assert_int_equal(err.code, ERR_PARAMETER);
			json_decref(attrs);
			/* An empty update only tells whether the user exists. */
			attrs = json_object();
			assert_int_equal(r->type->update_user(r, uid, attrs, &err), 0);
			assert_int_equal(r->type->update_user(r, "99999", attrs, &err), 1);
			assert_int_equal(r->type->update_user(r, "1 OR 1=1", attrs, &err), 1);
			json_decref(attrs);

			/* The same login twice is refused. */
			attrs = json_pack("{s:s}", "username", login);
			char *uid2 = NULL;
			assert_int_equal(r->type->add_user(r, attrs, &uid2, &err), -1);
			json_decref(attrs);

			assert_int_equal(r->type->delete_user(r, uid, &err), 0);
			assert_int_equal(r->type->delete_user(r, uid, &err), 1);
			assert_int_equal(r->type->get_user_id(r, login, &s, &err), 1);
			free(uid);
			sqlresolver_type.destroy(r);
		}

		/* Editing needs Editable; an injected uid deletes nothing. */
		struct resolver *r = make(b, "{\"Editable\": \"1\"}");
		assert_int_equal(r->type->delete_user(r, "1 OR 1=1", &err), 1);
		assert_int_equal(r->type->delete_user(r, "' OR ''='", &err), 1);
		assert_int_equal(count(r, NULL), 21);
		json_t *attrs = json_pack("{s:s, s:s}", "username", "x", "bogus", "y");
		char *uid = NULL;
		assert_int_equal(r->type->add_user(r, attrs, &uid, &err), -1);
		assert_int_equal(err.code, ERR_PARAMETER);
		json_decref(attrs);
		attrs = json_pack("{s:s}", "email", "no-login@example.com");
		assert_int_equal(r->type->add_user(r, attrs, &uid, &err), -1);
		json_decref(attrs);
		sqlresolver_type.destroy(r);

		r = make(b, NULL);
		assert_false(r->type->editable(r));
		attrs = json_pack("{s:s}", "username", "x");
		assert_int_equal(r->type->add_user(r, attrs, &uid, &err), -1);
		assert_int_equal(r->type->update_user(r, "1", attrs, &err), -1);
		assert_int_equal(r->type->delete_user(r, "1", &err), -1);
		json_decref(attrs);
		sqlresolver_type.destroy(r);
	}
}

/* ---- pool and threads ------------------------------------------------------------- */

struct worker {
	struct resolver *r;
	int ok, fail;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct error err;
	for (int i = 0; i < 25; i++) {
		char *uid = NULL;
		if (w->r->type->get_user_id(w->r, "ssha", &uid, &err) == 0 &&
		    w->r->type->check_pass(w->r, uid, "ssha-pw", &err) == 0)
			w->ok++;
		else
			w->fail++;
		free(uid);
	}
	return NULL;
}

static void test_threads(void **state)
{
	FOREACH_BACKEND(b)
	{
		struct resolver *r = make(b, "{\"poolSize\": \"2\", \"poolTimeout\": \"30\"}");
		pthread_t th[6];
		struct worker w[6];
		for (int i = 0; i < 6; i++) {
			w[i] = (struct worker){r, 0, 0};
			assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
		}
		for (int i = 0; i < 6; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(w[i].fail, 0);
			assert_int_equal(w[i].ok, 25);
		}
		sqlresolver_type.destroy(r);
	}
}

static int collect_id(void *ctx, const struct sqldb_cell *cells, int n)
{
	json_t *ids = ctx;
	json_array_append_new(ids, json_stringn(cells[0].s, cells[0].len));
	return 0;
}

/* The server drops our pooled connections: the next read reconnects. */
static void test_reconnect(void **state)
{
	FOREACH_BACKEND(b)
	{
		struct sqldb_params p = params_of(b);
		struct error err;
		char *s = NULL;
		if (p.kind == SQLDB_SQLITE)
			continue;
		struct resolver *r = make(b, "{\"poolSize\": \"1\"}");
		assert_int_equal(r->type->get_user_id(r, "sha", &s, &err), 0);
		free(s);

		struct sqldb_conn *admin = sqldb_open(&p, &err);
		assert_non_null(admin);
		json_t *ids = json_array();
		if (p.kind == SQLDB_PG) {
			exec_or_die(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
					   "application_name = 'tessera-sqlresolver' AND pid <> pg_backend_pid()");
		} else {
			assert_int_equal(sqldb_exec(admin,
						    "SELECT ID FROM information_schema.PROCESSLIST WHERE "
						    "ID <> CONNECTION_ID() AND USER <> 'system user'",
						    NULL, 0, collect_id, ids, NULL, NULL, &err),
					 0);
			for (size_t i = 0; i < json_array_size(ids); i++) {
				char kill[64];
				snprintf(kill, sizeof(kill), "KILL %s", json_string_value(json_array_get(ids, i)));
				sqldb_exec(admin, kill, NULL, 0, NULL, NULL, NULL, NULL, &err);
			}
		}
		json_decref(ids);
		sqldb_close(admin);
		usleep(200000);

		if (r->type->get_user_id(r, "ssha", &s, &err) != 0)
			fail_msg("%s: no reconnect: %s", b->name, err.message);
		assert_string_equal(s, "2");
		free(s);
		sqlresolver_type.destroy(r);
	}
}

static void test_pool_timeout(void **state)
{
	struct sqldb_params p = params_of(&backends[0]);
	struct error err;
	struct sqldb_pool *pool = sqldb_pool_new(&p, 1, 1, 0, &err);
	assert_non_null(pool);
	struct sqldb_conn *c1 = sqldb_acquire(pool, &err);
	assert_non_null(c1);
	time_t t0 = time(NULL);
	assert_null(sqldb_acquire(pool, &err)); /* poolSize 1, all in use */
	assert_true(time(NULL) - t0 >= 1);
	assert_non_null(strstr(err.message, "poolTimeout"));
	sqldb_release(pool, c1);
	struct sqldb_conn *c2 = sqldb_acquire(pool, &err);
	assert_true(c2 == c1); /* the idle connection is reused */
	sqldb_release(pool, c2);
	sqldb_pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_hash_generation),
		cmocka_unit_test(test_check_pass_formats),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_where),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_test_connection),
		cmocka_unit_test(test_editable),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_pool_timeout),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
