/*
 * test_resolvers.c — the resolver registry, the shared helpers
 * (resolvers.c) and the flat-file resolver (passwd.c).
 *
 * The passwd fixture (tests/data/resolvers/passwd) holds one user per
 * crypt(3) format; its hashes were made by openssl, mkpasswd and Python's
 * crypt module (see tests/data/resolvers/README), never by Tessera.  Each
 * test works on a copy in a fresh temporary directory, so the file can be
 * rewritten while an instance is alive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/resolvers/resolver.h"

/* ---- fixtures --------------------------------------------------------------- */

struct fx {
	char dir[256];
	char path[300];
	struct resolver *r;
};

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

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static int setup_passwd(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *data = getenv("TESSERA_TEST_DATA");
	char src[512];
	struct error err;

	if (data == NULL || *data == '\0') {
		fprintf(stderr, "TESSERA_TEST_DATA is not set\n");
		free(fx);
		return -1;
	}
	snprintf(src, sizeof(src), "%s/resolvers/passwd", data);
	char *text = slurp(src);
	if (text == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tessera-passwd-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(text);
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/passwd", fx->dir);
	write_file(fx->path, text);
	free(text);

	json_t *cfg = json_pack("{s:s}", "fileName", fx->path);
	fx->r = passwdresolver_type.create("flat", cfg, &err);
	json_decref(cfg);
	if (fx->r == NULL) {
		fprintf(stderr, "create: %s\n", err.message);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown_passwd(void **state)
{
	struct fx *fx = *state;
	char tmp[400];
	passwdresolver_type.destroy(fx->r);
	unlink(fx->path);
	snprintf(tmp, sizeof(tmp), "%s/passwd.new", fx->dir);
	unlink(tmp);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ---- registry and helpers ------------------------------------------------------ */

static void test_registry(void **state)
{
	(void)state;
	const char *names[] = {"passwdresolver", "sqlresolver", "ldapresolver", "httpresolver"};
	size_t n = 0;
	for (size_t i = 0; i < 4; i++) {
		const struct resolver_type *t = resolver_type_find(names[i]);
		assert_non_null(t);
		assert_string_equal(t->name, names[i]);
	}
	while (resolver_types[n] != NULL)
		n++;
	assert_int_equal(n, 4);
	assert_null(resolver_type_find("scimresolver"));
	assert_null(resolver_type_find("PasswdResolver"));
	assert_null(resolver_type_find(NULL));
	/* Every type declares its parameters as data. */
	for (size_t i = 0; i < n; i++)
		assert_non_null(resolver_types[i]->params);
}

static void test_wildcard(void **state)
{
	(void)state;
	assert_true(resolver_wildcard_match("*", "", 0));
	assert_true(resolver_wildcard_match("*", "anything", 0));
	assert_true(resolver_wildcard_match("a*c", "abbbc", 0));
	assert_true(resolver_wildcard_match("a*c", "ac", 0));
	assert_false(resolver_wildcard_match("a*c", "acb", 0));
	assert_true(resolver_wildcard_match("*ice", "alice", 0));
	assert_true(resolver_wildcard_match("al*", "alice", 0));
	assert_true(resolver_wildcard_match("*li*", "alice", 0));
	assert_true(resolver_wildcard_match("**a**", "a", 0));
	assert_false(resolver_wildcard_match("alice", "alicex", 0));
	/* Only '*' is special. */
	assert_false(resolver_wildcard_match("a?c", "abc", 0));
	assert_true(resolver_wildcard_match("a?c", "a?c", 0));
	assert_false(resolver_wildcard_match("a%", "abc", 0));
	assert_false(resolver_wildcard_match("a_c", "abc", 0));
	assert_false(resolver_wildcard_match("[a]*", "a", 0));
	/* Case folding, also beyond ASCII. */
	assert_false(resolver_wildcard_match("ALICE", "alice", 0));
	assert_true(resolver_wildcard_match("ALICE", "alice", 1));
	assert_true(resolver_wildcard_match("JÖRG", "jörg", 1));
	assert_true(resolver_wildcard_match("*ÜLLER", "Jörg Müller", 1));
	assert_true(resolver_wildcard_match("малина", "Малина", 1));
	assert_true(resolver_wildcard_match("ΣΩ*", "σωκράτης", 1));
	assert_true(resolver_wildcard_match("Ł*", "łukasz", 1));
	assert_false(resolver_wildcard_match("jörg", "jorg", 1));
	/* Ill-formed UTF-8 only matches itself. */
	assert_true(resolver_wildcard_match("a\xff*", "a\xff" "b", 1));
	assert_false(resolver_wildcard_match("a\xfe*", "a\xff" "b", 1));
	assert_false(resolver_wildcard_match(NULL, "x", 0));
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(resolver_utf8_valid("", 0));
	assert_true(resolver_utf8_valid("jörg Малина 😀", strlen("jörg Малина 😀")));
	assert_false(resolver_utf8_valid("\xc3", 1));
	assert_false(resolver_utf8_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(resolver_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(resolver_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(resolver_utf8_valid("Jos\xe9", 4));          /* latin1 */
}

static void test_config_helpers(void **state)
{
	(void)state;
	struct error err;
	long long v;
	json_t *o;
	json_t *cfg = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:o}", "Limit", " 42 ",
				"Bad", "12x", "Int", 7, "Empty", "", "True", "TRUE", "One", "1", "Off", "off", "No",
				"whatever", "JsonTrue", 1, "Map", "{userid: id, 'username': \"login\", x: 'it''s'}",
				"Json", "{\"a\": \"b\"}", "Obj", json_pack("{s:s}", "k", "v"));

	assert_string_equal(resolver_cfg_str(cfg, "Limit", "d"), " 42 ");
	assert_string_equal(resolver_cfg_str(cfg, "Missing", "d"), "d");
	assert_string_equal(resolver_cfg_str(cfg, "Int", "d"), "d");
	assert_int_equal(resolver_cfg_int(cfg, "Limit", 5), 42);
	assert_int_equal(resolver_cfg_int(cfg, "Int", 5), 7);
	assert_int_equal(resolver_cfg_int(cfg, "Empty", 5), 5);
	assert_int_equal(resolver_cfg_int(cfg, "Bad", 5), 5);
	assert_int_equal(resolver_cfg_int_checked(cfg, "Limit", 5, 0, 100, &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(resolver_cfg_int_checked(cfg, "Missing", 5, 0, 100, &v, &err), 0);
	assert_int_equal(v, 5);
	assert_int_equal(resolver_cfg_int_checked(cfg, "Bad", 5, 0, 100, &v, &err), -1);
	assert_int_equal(err.code, ERR_PARAMETER);
	assert_non_null(strstr(err.message, "Bad"));
	assert_int_equal(resolver_cfg_int_checked(cfg, "Limit", 5, 0, 10, &v, &err), -1);

	assert_true(resolver_cfg_bool(cfg, "True", 0));
	assert_true(resolver_cfg_bool(cfg, "One", 0));
	assert_true(resolver_cfg_bool(cfg, "JsonTrue", 0));
	assert_false(resolver_cfg_bool(cfg, "Off", 1));
	assert_false(resolver_cfg_bool(cfg, "No", 1));
	assert_true(resolver_cfg_bool(cfg, "Missing", 1));

	assert_int_equal(resolver_cfg_object(cfg, "Map", &o, &err), 0);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "userid")), "id");
	assert_string_equal(json_string_value(json_object_get(o, "username")), "login");
	assert_string_equal(json_string_value(json_object_get(o, "x")), "it's");
	json_decref(o);
	assert_int_equal(resolver_cfg_object(cfg, "Json", &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(o, "a")), "b");
	json_decref(o);
	assert_int_equal(resolver_cfg_object(cfg, "Obj", &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(o, "k")), "v");
	json_decref(o);
	assert_int_equal(resolver_cfg_object(cfg, "Missing", &o, &err), 0);
	assert_null(o);
	assert_int_equal(resolver_cfg_object(cfg, "Bad", &o, &err), -1);
	assert_int_equal(err.code, ERR_PARAMETER);
	json_decref(cfg);

	/* Required parameters come from the type's table. */
	cfg = json_pack("{s:s}", "Driver", "sqlite");
	assert_int_equal(resolver_check_required(&sqlresolver_type, cfg, &err), -1);
	assert_string_equal(err.message, "Missing parameter: 'Table'");
	json_decref(cfg);
}

/* ---- passwd ------------------------------------------------------------------- */

static json_t *info_of(struct resolver *r, const char *uid)
{
	struct error err;
	json_t *info = NULL;
	assert_int_equal(r->type->get_user_info(r, uid, &info, &err), 0);
	return info;
}

static const char *sval(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		fail_msg("attribute %s missing", key);
	return json_string_value(v);
}

static void test_passwd_lookup(void **state)
{
	struct fx *fx = *state;
	struct resolver *r = fx->r;
	struct error err;
	char *s = NULL;

	assert_int_equal(r->type->get_user_id(r, "alice", &s, &err), 0);
	assert_string_equal(s, "1000");
	free(s);
	assert_int_equal(r->type->get_user_id(r, "carol", &s, &err), 0); /* blanks stripped */
	assert_string_equal(s, "1002");
	free(s);
	assert_int_equal(r->type->get_user_id(r, "jörg", &s, &err), 0);
	assert_string_equal(s, "1006");
	free(s);
	assert_int_equal(r->type->get_user_id(r, "Малина", &s, &err), 0);
	assert_string_equal(s, "1007");
	free(s);
	assert_int_equal(r->type->get_user_id(r, "Alice", &s, &err), 1); /* exact */
	assert_int_equal(r->type->get_user_id(r, "nobody", &s, &err), 1);
	assert_int_equal(r->type->get_user_id(r, "broken-line-without-fields", &s, &err), 1);
	assert_int_equal(r->type->get_user_id(r, "", &s, &err), 1);
	assert_int_equal(r->type->get_username(r, "1001", &s, &err), 0);
	assert_string_equal(s, "bob");
	free(s);
	assert_int_equal(r->type->get_username(r, "9999", &s, &err), 1);
	assert_int_equal(r->type->get_username(r, "01001", &s, &err), 1);
	assert_false(r->type->editable(r));
	assert_null(r->type->add_user);
}

static void test_passwd_info(void **state)
{
	struct fx *fx = *state;
	struct resolver *r = fx->r;
	json_t *i = info_of(r, "1000");

	/* privacyIDEA's split of "Alice Anderson,,,,alice@example.com". */
	assert_string_equal(sval(i, "username"), "alice");
	assert_string_equal(sval(i, "userid"), "1000");
	assert_string_equal(sval(i, "description"), "Alice Anderson,,,,alice@example.com");
	assert_string_equal(sval(i, "givenname"), "Alice");
	assert_string_equal(sval(i, "surname"), "Anderson");
	assert_string_equal(sval(i, "email"), "alice@example.com");
	assert_string_equal(sval(i, "phone"), "");
	assert_string_equal(sval(i, "mobile"), "");
	assert_null(json_object_get(i, "cryptpass"));
	assert_null(json_object_get(i, "password"));
	assert_int_equal(json_object_size(i), 8);
	json_decref(i);

	i = info_of(r, "1001"); /* "Bob Builder,Room 1,+49 111,+49 222,bob@example.org" */
	assert_string_equal(sval(i, "mobile"), "+49 111");
	assert_string_equal(sval(i, "phone"), "+49 222");
	assert_string_equal(sval(i, "email"), "bob@example.org");
	assert_string_equal(sval(i, "surname"), "Builder");
	json_decref(i);

	i = info_of(r, "1003"); /* "Dave Daring Doe,,," */
	assert_string_equal(sval(i, "givenname"), "Dave");
	assert_string_equal(sval(i, "surname"), "Daring Doe");
	assert_string_equal(sval(i, "email"), "");
	json_decref(i);

	i = info_of(r, "1005"); /* the last field that looks like an address */
	assert_string_equal(sval(i, "email"), "frank@example.net");
	json_decref(i);

	i = info_of(r, "1004"); /* empty GECOS */
	assert_string_equal(sval(i, "givenname"), "");
	assert_string_equal(sval(i, "description"), "");
	json_decref(i);

	i = info_of(r, "1006");
	assert_string_equal(sval(i, "givenname"), "Jörg");
	assert_string_equal(sval(i, "surname"), "Müller");
	assert_string_equal(sval(i, "email"), "joerg@example.de");
	json_decref(i);

	struct error err;
	json_t *none = NULL;
	assert_int_equal(r->type->get_user_info(r, "4711", &none, &err), 1);
	assert_null(none);
}

static void test_passwd_check_pass(void **state)
{
	struct fx *fx = *state;
	struct resolver *r = fx->r;
	struct error err;
	static const struct {
		const char *uid, *right;
	} ok[] = {
		{"1000", "alice-secret"}, /* sha512-crypt */
		{"1001", "bob-secret"},   /* sha256-crypt */
		{"1002", "carol-secret"}, /* md5-crypt */
		{"1003", "dave-secret"},  /* yescrypt */
		{"1004", "erin-secret"},  /* bcrypt $2b$ */
		{"1005", "frankpw"},      /* traditional DES */
		{"1006", "jörg-geheim"},  /* non-ASCII password */
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(r->type->check_pass(r, ok[i].uid, ok[i].right, &err), 0);
		assert_int_equal(r->type->check_pass(r, ok[i].uid, "wrong", &err), 1);
		assert_int_equal(r->type->check_pass(r, ok[i].uid, "", &err), 1);
	}
	/* DES looks at 8 characters only — that is DES, not us. */
	assert_int_equal(r->type->check_pass(r, "1005", "frankpw-and-more", &err), 1);
	/* x, *, "!hash" and an empty column never match anything. */
	assert_int_equal(r->type->check_pass(r, "0", "", &err), 1);
	assert_int_equal(r->type->check_pass(r, "0", "x", &err), 1);
	assert_int_equal(r->type->check_pass(r, "1007", "x", &err), 1);
	assert_int_equal(r->type->check_pass(r, "1008", "locked-secret", &err), 1);
	assert_int_equal(r->type->check_pass(r, "1009", "*", &err), 1);
	assert_int_equal(r->type->check_pass(r, "1009", "", &err), 1);
	assert_int_equal(r->type->check_pass(r, "1010", "", &err), 1);
	assert_int_equal(r->type->check_pass(r, "4711", "alice-secret", &err), 1);
	/* A password is never checked against another user's hash. */
	assert_int_equal(r->type->check_pass(r, "1001", "alice-secret", &err), 1);
}

static size_t list_count(struct resolver *r, const char *json_search)
{
	struct error err;
	json_t *list = NULL;
	json_t *search = json_search ? json_loads(json_search, 0, NULL) : NULL;
	if (json_search)
		assert_non_null(search);
	assert_int_equal(r->type->get_user_list(r, search, &list, &err), 0);
	assert_true(json_is_array(list));
	size_t n = json_array_size(list);
	json_decref(list);
	json_decref(search);
	return n;
}

static json_t *list_of(struct resolver *r, const char *json_search)
{
	struct error err;
	json_t *list = NULL;
	json_t *search = json_loads(json_search, 0, NULL);
	assert_int_equal(r->type->get_user_list(r, search, &list, &err), 0);
	json_decref(search);
	return list;
}

static void test_passwd_list(void **state)
{
	struct fx *fx = *state;
	struct resolver *r = fx->r;

	assert_int_equal(list_count(r, NULL), 12);
	assert_int_equal(list_count(r, "{\"username\": \"*\"}"), 12);
	assert_int_equal(list_count(r, "{\"username\": \"ALICE\"}"), 1);
	assert_int_equal(list_count(r, "{\"username\": \"a*\"}"), 1);
	assert_int_equal(list_count(r, "{\"username\": \"*o*\"}"), 5); /* root bob carol locked nopw */
	assert_int_equal(list_count(r, "{\"username\": \"JÖ*\"}"), 1);
	assert_int_equal(list_count(r, "{\"username\": \"малина\"}"), 1);
	assert_int_equal(list_count(r, "{\"givenname\": \"alice\"}"), 1);
	assert_int_equal(list_count(r, "{\"surname\": \"*Doe\"}"), 1);
	assert_int_equal(list_count(r, "{\"email\": \"*@example.org\"}"), 1);
	assert_int_equal(list_count(r, "{\"email\": \"alice@example.com\"}"), 1);
	/* privacyIDEA matches "email" against the whole GECOS field. */
	assert_int_equal(list_count(r, "{\"email\": \"*Anderson*\"}"), 1);
	assert_int_equal(list_count(r, "{\"mobile\": \"+49 111\"}"), 1);
	assert_int_equal(list_count(r, "{\"phone\": \"+49 222\"}"), 1);
	assert_int_equal(list_count(r, "{\"description\": \"*,,,,*\"}"), 3);
	/* checkUserId operators */
	assert_int_equal(list_count(r, "{\"userid\": \">=1005\"}"), 6);
	assert_int_equal(list_count(r, "{\"userid\": \">1009\"}"), 1);
	assert_int_equal(list_count(r, "{\"userid\": \"<1000\"}"), 1);
	assert_int_equal(list_count(r, "{\"userid\": \"<=1000\"}"), 2);
	assert_int_equal(list_count(r, "{\"userid\": \"=1003\"}"), 1);
	assert_int_equal(list_count(r, "{\"userid\": \"between 1002, 1001\"}"), 2);
	assert_int_equal(list_count(r, "{\"userid\": \"100*\"}"), 10);
	assert_int_equal(list_count(r, "{\"userid\": \">= abc\"}"), 0);
	/* Two criteria are ANDed. */
	assert_int_equal(list_count(r, "{\"username\": \"*\", \"userid\": \"=1001\"}"), 1);
	assert_int_equal(list_count(r, "{\"username\": \"alice\", \"userid\": \"=1001\"}"), 0);
	/* Unknown keys find nobody (privacyIDEA); patterns are never code. */
	assert_int_equal(list_count(r, "{\"realm\": \"*\"}"), 0);
	assert_int_equal(list_count(r, "{\"username\": \"' OR 1=1 --\"}"), 0);
	assert_int_equal(list_count(r, "{\"username\": \"*)(uid=*\"}"), 0);
	assert_int_equal(list_count(r, "{\"username\": \".*\"}"), 0);
	assert_int_equal(list_count(r, "{\"username\": 5}"), 0);

	json_t *l = list_of(r, "{\"username\": \"alice\"}");
	json_t *a = json_array_get(l, 0);
	assert_string_equal(sval(a, "userid"), "1000");
	assert_string_equal(sval(a, "email"), "alice@example.com");
	assert_null(json_object_get(a, "cryptpass"));
	json_decref(l);
}

static void bump_mtime(const char *path, int seconds_ahead)
{
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += seconds_ahead;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_passwd_reload(void **state)
{
	struct fx *fx = *state;
	struct resolver *r = fx->r;
	struct error err;
	char *s = NULL, tmp[400];

	assert_int_equal(r->type->get_user_id(r, "alice", &s, &err), 0);
	free(s);
	/* Replace the file atomically (new inode). */
	snprintf(tmp, sizeof(tmp), "%s/passwd.new", fx->dir);
	write_file(tmp, "zoe:x:2000:2000:Zoe Zed,,,,zoe@example.com:/:/bin/sh\n"
			"alice:x:2001:2001:Alice Again:/:/bin/sh\n");
	assert_int_equal(rename(tmp, fx->path), 0);
	assert_int_equal(r->type->get_user_id(r, "zoe", &s, &err), 0);
	assert_string_equal(s, "2000");
	free(s);
	assert_int_equal(r->type->get_user_id(r, "alice", &s, &err), 0);
	assert_string_equal(s, "2001");
	free(s);
	assert_int_equal(r->type->get_user_id(r, "bob", &s, &err), 1);
	assert_int_equal(list_count(r, NULL), 2);

	/* Rewrite in place, same size, same inode: the mtime tells. */
	write_file(fx->path, "amy:x:2000:2000:Zoe Zed,,,,zoe@example.com:/:/bin/sh\n"
			     "alice:x:2001:2001:Alice Again:/:/bin/sh\n");
	bump_mtime(fx->path, 5);
	assert_int_equal(r->type->get_user_id(r, "amy", &s, &err), 0);
	assert_string_equal(s, "2000");
	free(s);
	assert_int_equal(r->type->get_user_id(r, "zoe", &s, &err), 1);

	/* The file disappears: an error, not "no such user". */
	assert_int_equal(unlink(fx->path), 0);
	assert_int_equal(r->type->get_user_id(r, "amy", &s, &err), -1);
	assert_int_equal(err.kind, ERRK_PI);
	assert_int_equal(err.code, ERR_USER);
	/* ... and comes back. */
	write_file(fx->path, "back:x:1:1::/:/bin/sh\n");
	assert_int_equal(r->type->get_user_id(r, "back", &s, &err), 0);
	assert_string_equal(s, "1");
	free(s);
}

static void test_passwd_duplicates(void **state)
{
	struct fx *fx = *state;
	struct resolver *r = fx->r;
	struct error err;
	char *s = NULL;
	/* The later line wins, as in privacyIDEA's dictionaries. */
	write_file(fx->path, "dup:x:1:1:First:/:/bin/sh\n"
			     "dup:x:2:2:Second:/:/bin/sh\n"
			     "other:x:2:2:Third:/:/bin/sh\n");
	bump_mtime(fx->path, 10);
	assert_int_equal(r->type->get_user_id(r, "dup", &s, &err), 0);
	assert_string_equal(s, "2");
	free(s);
	assert_int_equal(r->type->get_username(r, "2", &s, &err), 0);
	assert_string_equal(s, "other");
	free(s);
	assert_int_equal(list_count(r, NULL), 2); /* one entry per uid */
}

/* Readers in several threads while the file is replaced again and again. */
struct reader {
	struct resolver *r;
	atomic_int *stop;
	long lookups, errors;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct error err;
	while (!atomic_load(rd->stop)) {
		char *s = NULL;
		json_t *list = NULL;
		int rc = rd->r->type->get_user_id(rd->r, "alice", &s, &err);
		if (rc == 0 && strcmp(s, "1000") != 0 && strcmp(s, "3000") != 0)
			rd->errors++;
		if (rc < 0)
			rd->errors++;
		free(s);
		if (rd->r->type->get_user_list(rd->r, NULL, &list, &err) == 0 && json_array_size(list) < 1)
			rd->errors++;
		json_decref(list);
		rd->lookups++;
	}
	return NULL;
}

static void test_passwd_threads(void **state)
{
	struct fx *fx = *state;
	pthread_t th[4];
	struct reader rd[4];
	atomic_int stop = 0;
	char tmp[400];

	for (int i = 0; i < 4; i++) {
		rd[i] = (struct reader){fx->r, &stop, 0, 0};
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd[i]), 0);
	}
	snprintf(tmp, sizeof(tmp), "%s/passwd.new", fx->dir);
	for (int k = 0; k < 200; k++) {
		write_file(tmp, k % 2 ? "alice:x:1000:1:A:/:/bin/sh\nb:x:2:2::/:/\n" : "alice:x:3000:1:A:/:/bin/sh\n");
		assert_int_equal(rename(tmp, fx->path), 0);
		usleep(500);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(rd[i].errors, 0);
		assert_true(rd[i].lookups > 0);
	}
}

static void test_passwd_test_connection(void **state)
{
	struct fx *fx = *state;
	struct error err;
	char *desc = NULL;
	json_t *cfg = json_pack("{s:s}", "filename", fx->path); /* lower-case key too */
	assert_int_equal(passwdresolver_type.test_connection(cfg, &desc, &err), 0);
	assert_string_equal(desc, "Resolver config seems OK. 12 Users found.");
	free(desc);
	json_decref(cfg);

	cfg = json_pack("{s:s}", "fileName", "/nonexistent/tessera/passwd");
	assert_int_equal(passwdresolver_type.test_connection(cfg, &desc, &err), -1);
	assert_int_equal(err.code, ERR_USER);
	json_decref(cfg);

	/* A directory is not a passwd file. */
	cfg = json_pack("{s:s}", "fileName", fx->dir);
	assert_int_equal(passwdresolver_type.test_connection(cfg, &desc, &err), -1);
	json_decref(cfg);

	/* No file name: /etc/passwd, which every test machine has. */
	cfg = json_object();
	assert_int_equal(passwdresolver_type.test_connection(cfg, &desc, &err), 0);
	assert_non_null(strstr(desc, "Users found."));
	free(desc);
	json_decref(cfg);
}

static void test_passwd_default_file(void **state)
{
	(void)state;
	struct error err;
	char *s = NULL;
	json_t *cfg = json_pack("{s:s}", "fileName", "");
	struct resolver *r = passwdresolver_type.create("etc", cfg, &err);
	json_decref(cfg);
	assert_non_null(r);
	assert_int_equal(r->type->get_user_id(r, "root", &s, &err), 0);
	assert_string_equal(s, "0");
	free(s);
	/* /etc/passwd has "x" in the password column: never a match. */
	assert_int_equal(r->type->check_pass(r, "0", "x", &err), 1);
	passwdresolver_type.destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_config_helpers),
		cmocka_unit_test_setup_teardown(test_passwd_lookup, setup_passwd, teardown_passwd),
		cmocka_unit_test_setup_teardown(test_passwd_info, setup_passwd, teardown_passwd),
		cmocka_unit_test_setup_teardown(test_passwd_check_pass, setup_passwd, teardown_passwd),
		cmocka_unit_test_setup_teardown(test_passwd_list, setup_passwd, teardown_passwd),
		cmocka_unit_test_setup_teardown(test_passwd_reload, setup_passwd, teardown_passwd),
		cmocka_unit_test_setup_teardown(test_passwd_duplicates, setup_passwd, teardown_passwd),
		cmocka_unit_test_setup_teardown(test_passwd_threads, setup_passwd, teardown_passwd),
		cmocka_unit_test_setup_teardown(test_passwd_test_connection, setup_passwd, teardown_passwd),
		cmocka_unit_test(test_passwd_default_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
