/*
 * test_config.c — config.c: reading pi.cfg as privacyIDEA would.
 *
 * The expected values were checked against CPython exec'ing the same
 * text.  Files are written to a private temporary directory, removed at
 * the end; nothing outside it is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/config.h"

static char tmpdir[PATH_MAX];

static int setup_tmpdir(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_config.XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static struct cfg *parse_ok(const char *text)
{
	struct error err = { 0 };
	struct cfg *c = cfg_parse(text, "test.cfg", &err);
	if (!c)
		fail_msg("unexpected error: %s", err.message);
	return c;
}

static void assert_list(char **got, const char *const *want, size_t n)
{
	assert_non_null(got);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_null(got[n]);
}

/* ---- a realistic file ---------------------------------------------------- */

/* privacyIDEA's example pi.cfg (documentation, "The Config File") plus
 * settings seen in the field. */
static const char example_cfg[] =
	"# -*- coding: utf-8 -*-\n"
	"import logging\n"
	"from os import path  # unused, as in many real files\n"
	"# The realm, where users are allowed to login as administrators\n"
	"SUPERUSER_REALM = ['super', 'administrators']\n"
	"# Your database\n"
	"SQLALCHEMY_DATABASE_URI = 'sqlite:////etc/privacyidea/data.sqlite'\n"
	"# Set maximum identifier length to 128\n"
	"# SQLALCHEMY_ENGINE_OPTIONS = {\"max_identifier_length\": 128}\n"
	"# This is used to encrypt the auth_token\n"
	"SECRET_KEY = 't0p s3cr3t'\n"
	"# This is used to encrypt the admin passwords\n"
	"PI_PEPPER = \"Never know...\"\n"
	"# This is used to encrypt the token data and token passwords\n"
	"PI_ENCFILE = '/etc/privacyidea/enckey'\n"
	"# This is used to sign the audit log\n"
	"PI_AUDIT_KEY_PRIVATE = '/home/cornelius/src/privacyidea/private.pem'\n"
	"PI_AUDIT_KEY_PUBLIC = '/home/cornelius/src/privacyidea/public.pem'\n"
	"# PI_AUDIT_MODULE = <python audit module>\n"
	"# PI_AUDIT_SQL_URI = <special audit log DB uri>\n"
	"# Options passed to the Audit DB engine (supersedes SQLALCHEMY_ENGINE_OPTIONS)\n"
	"# PI_AUDIT_SQL_OPTIONS = {}\n"
	"# Truncate Audit entries to fit into DB columns\n"
	"PI_AUDIT_SQL_TRUNCATE = True\n"
	"# PI_LOGFILE = '....'\n"
	"# PI_LOGLEVEL = 20\n"
	"# PI_INIT_CHECK_HOOK = 'your.module.function'\n"
	"# PI_CSS = '/location/of/theme.css'\n"
	"# PI_UI_DEACTIVATED = True\n"
	"\n"
	"PI_LOGFILE = \"/var/log/privacyidea/privacyidea.log\"\n"
	"PI_LOGLEVEL = logging.INFO\n"
	"PI_HASH_ALGO_LIST = ['argon2', 'pbkdf2_sha512']\n"
	"PI_HASH_ALGO_PARAMS = {'argon2__rounds': 5, 'argon2__memory_cost': 768}\n"
	"PI_PREFERRED_LANGUAGE = [\"en\", \"de\", \"es\", \"fr\"]\n"
	"PI_ENGINE_REGISTRY_CLASS = \"shared\"\n"
	"PI_AUDIT_POOL_SIZE = 20\n"
	"PI_AUDIT_POOL_RECYCLE = 600\n"
	"PI_TRUSTED_JWT = [{\"public_key\": "
	"\"-----BEGIN PUBLIC KEY-----\\nMIIBIjANBg\\n-----END PUBLIC KEY-----\",\n"
	"                   \"algorithm\": \"RS256\",\n"
	"                   \"role\": \"user\",  # comment inside the list\n"
	"                   \"realm\": \"realm1\",\n"
	"                   \"username\": \"userA\",\n"
	"                   \"resolver\": \"resolverX\"}]\n"
	"PI_TOKEN_MODULES = [ \"myproject.cooltoken\", \"myproject.lametoken\" ]\n"
	"PI_NODE = \"node1\"\n"
	"PI_NODES = [\"node1\",\n"
	"            \"node2\",   # the second node\n"
	"           ]\n"
	"PI_NO_RESPONSE_SIGN = False\n"
	"PI_INDEX_HTML = \"myindex.html\"\n"
	"PI_STATIC_FOLDER = \"mystatic\"\n"
	"PI_TEMPLATE_FOLDER = \"mystatic/templates\"\n"
	"PI_CUSTOM_SETTING = 'kept, although unknown'\n";

static void test_example_file(void **state)
{
	(void)state;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/pi.cfg", tmpdir);
	write_file(path, example_cfg, strlen(example_cfg));
	struct error err = { 0 };
	struct cfg *c = cfg_load(path, &err);
	if (!c)
		fail_msg("%s", err.message);
	assert_string_equal(cfg_path(c), path);
	assert_string_equal(cfg_dir(c), tmpdir);

	static const char *const realms[] = { "super", "administrators" };
	char **l = cfg_get_list(c, "SUPERUSER_REALM");
	assert_list(l, realms, 2);
	cfg_list_free(l);
	assert_string_equal(cfg_get_str(c, "SQLALCHEMY_DATABASE_URI", NULL),
			    "sqlite:////etc/privacyidea/data.sqlite");
	assert_false(cfg_has(c, "SQLALCHEMY_ENGINE_OPTIONS"));
	assert_string_equal(cfg_get_str(c, "SECRET_KEY", NULL), "t0p s3cr3t");
	assert_string_equal(cfg_get_str(c, "PI_PEPPER", NULL), "Never know...");
	assert_string_equal(cfg_get_str(c, "PI_ENCFILE", NULL), "/etc/privacyidea/enckey");
	assert_string_equal(cfg_get_str(c, "PI_AUDIT_KEY_PUBLIC", NULL),
			    "/home/cornelius/src/privacyidea/public.pem");
	assert_true(cfg_get_bool(c, "PI_AUDIT_SQL_TRUNCATE", 0));
	assert_string_equal(cfg_get_str(c, "PI_AUDIT_SQL_TRUNCATE", NULL), "True");
	assert_int_equal(cfg_get_int(c, "PI_LOGLEVEL", 0), 20);
	assert_string_equal(cfg_get_str(c, "PI_LOGLEVEL", NULL), "20");
	assert_string_equal(cfg_get_str(c, "PI_HASH_ALGO_PARAMS", NULL),
			    "{'argon2__rounds': 5, 'argon2__memory_cost': 768}");
	assert_null(cfg_get_list(c, "PI_HASH_ALGO_PARAMS"));
	assert_int_equal(cfg_get_int(c, "PI_AUDIT_POOL_SIZE", 0), 20);
	assert_int_equal(cfg_get_int(c, "PI_AUDIT_POOL_RECYCLE", 0), 600);
	/* The dict list is kept as source, minus the comment, for a JSON-ish
	 * consumer; it is not a list of strings. */
	assert_string_equal(cfg_get_str(c, "PI_TRUSTED_JWT", NULL),
			    "[{\"public_key\": \"-----BEGIN PUBLIC KEY-----\\nMIIBIjANBg\\n-----END PUBLIC KEY-----\",\n"
			    "                   \"algorithm\": \"RS256\",\n"
			    "                   \"role\": \"user\",  \n"
			    "                   \"realm\": \"realm1\",\n"
			    "                   \"username\": \"userA\",\n"
			    "                   \"resolver\": \"resolverX\"}]");
	assert_null(cfg_get_list(c, "PI_TRUSTED_JWT"));
	static const char *const nodes[] = { "node1", "node2" };
	l = cfg_get_list(c, "PI_NODES");
	assert_list(l, nodes, 2);
	cfg_list_free(l);
	static const char *const mods[] = { "myproject.cooltoken", "myproject.lametoken" };
	l = cfg_get_list(c, "PI_TOKEN_MODULES");
	assert_list(l, mods, 2);
	cfg_list_free(l);
	assert_false(cfg_get_bool(c, "PI_NO_RESPONSE_SIGN", 1));
	assert_string_equal(cfg_get_str(c, "PI_CUSTOM_SETTING", NULL), "kept, although unknown");

	/* Every assignment, in file order; imports are not settings. */
	static const char *const keys[] = {
		"SUPERUSER_REALM", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PI_PEPPER",
		"PI_ENCFILE", "PI_AUDIT_KEY_PRIVATE", "PI_AUDIT_KEY_PUBLIC", "PI_AUDIT_SQL_TRUNCATE",
		"PI_LOGFILE", "PI_LOGLEVEL", "PI_HASH_ALGO_LIST", "PI_HASH_ALGO_PARAMS",
		"PI_PREFERRED_LANGUAGE", "PI_ENGINE_REGISTRY_CLASS", "PI_AUDIT_POOL_SIZE",
		"PI_AUDIT_POOL_RECYCLE", "PI_TRUSTED_JWT", "PI_TOKEN_MODULES", "PI_NODE",
		"PI_NODES", "PI_NO_RESPONSE_SIGN", "PI_INDEX_HTML", "PI_STATIC_FOLDER",
		"PI_TEMPLATE_FOLDER", "PI_CUSTOM_SETTING",
	};
	assert_int_equal(cfg_count(c), sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < cfg_count(c); i++)
		assert_string_equal(cfg_key_at(c, i), keys[i]);
	assert_null(cfg_key_at(c, cfg_count(c)));
	cfg_free(c);
	unlink(path);
}

/* ---- value types ----------------------------------------------------------- */

static void test_strings(void **state)
{
	(void)state;
	struct cfg *c = parse_ok(
		"S1 = 'single'\n"
		"S2 = \"double\"\n"
		"S3 = 'it\\'s \"q\"'\n"
		"S4 = \"tab\\there\\nnl \\\\ back\"\n"
		"S5 = '\\x41\\u00e9\\U0001F600\\101\\7'\n"
		"S6 = r'C:\\raw\\n\\'q'\n"
		"S7 = R\"^\\d+$\"\n"
		"S8 = '''one\n"
		"two 'quoted' \"\"\n"
		"three'''\n"
		"S9 = \"\"\"x\\\n"
		"y\"\"\"\n"
		"S10 = 'a' \"b\" 'c'\n"
		"S11 = ('long '\n"
		"       'string')\n"
		"S12 = 'a' + 'b' + \\\n"
		"      'c'\n"
		"S13 = 'regex \\d \\w'\n"
		"S14 = ''\n"
		"S15 = u'unicode prefix'\n"
		"S16 = 'hash # inside'  # and a real comment\n"
		"S17 = 'cont\\\n"
		"inued'\n"
		"S18 = '\\a\\b\\f\\v\\r'\n");
	assert_string_equal(cfg_get_str(c, "S1", NULL), "single");
	assert_string_equal(cfg_get_str(c, "S2", NULL), "double");
	assert_string_equal(cfg_get_str(c, "S3", NULL), "it's \"q\"");
	assert_string_equal(cfg_get_str(c, "S4", NULL), "tab\there\nnl \\ back");
	assert_string_equal(cfg_get_str(c, "S5", NULL), "A\xc3\xa9\xf0\x9f\x98\x80" "A\a");
	assert_string_equal(cfg_get_str(c, "S6", NULL), "C:\\raw\\n\\'q");
	assert_string_equal(cfg_get_str(c, "S7", NULL), "^\\d+$");
	assert_string_equal(cfg_get_str(c, "S8", NULL), "one\ntwo 'quoted' \"\"\nthree");
	assert_string_equal(cfg_get_str(c, "S9", NULL), "xy");
	assert_string_equal(cfg_get_str(c, "S10", NULL), "abc");
	assert_string_equal(cfg_get_str(c, "S11", NULL), "long string");
	assert_string_equal(cfg_get_str(c, "S12", NULL), "abc");
	assert_string_equal(cfg_get_str(c, "S13", NULL), "regex \\d \\w");
	assert_string_equal(cfg_get_str(c, "S14", "default"), "");
	assert_true(cfg_has(c, "S14"));
	assert_string_equal(cfg_get_str(c, "S15", NULL), "unicode prefix");
	assert_string_equal(cfg_get_str(c, "S16", NULL), "hash # inside");
	assert_string_equal(cfg_get_str(c, "S17", NULL), "continued");
	assert_string_equal(cfg_get_str(c, "S18", NULL), "\a\b\f\v\r");
	assert_int_equal(cfg_count(c), 18);
	cfg_free(c);
}

static void test_numbers_and_constants(void **state)
{
	(void)state;
	struct cfg *c = parse_ok(
		"I1 = 30\n"
		"I2 = -5\n"
		"I3 = 0x1F\n"
		"I4 = 1_000_000\n"
		"I5 = 0o17\n"
		"I6 = 0b101\n"
		"I7 = 9223372036854775807\n"
		"I8 = -9223372036854775808\n"
		"I9 = 0\n"
		"I10 = +7\n"
		"F1 = 1.5\n"
		"F2 = -2.5e3\n"
		"F3 = .5\n"
		"F4 = 1e-3\n"
		"B1 = True\n"
		"B2 = False\n"
		"N1 = None\n"
		"L1 = logging.DEBUG\n"
		"L2 = logging.INFO\n"
		"L3 = logging.WARNING\n"
		"L4 = logging.ERROR\n"
		"L5 = logging.CRITICAL\n"
		"L6 = logging.WARN\n"
		"PI_LOGLEVEL = 9\n");
	assert_int_equal(cfg_get_int(c, "I1", 0), 30);
	assert_string_equal(cfg_get_str(c, "I1", NULL), "30");
	assert_int_equal(cfg_get_int(c, "I2", 0), -5);
	assert_int_equal(cfg_get_int(c, "I3", 0), 31);
	assert_string_equal(cfg_get_str(c, "I3", NULL), "31");
	assert_int_equal(cfg_get_int(c, "I4", 0), 1000000);
	assert_int_equal(cfg_get_int(c, "I5", 0), 15);
	assert_int_equal(cfg_get_int(c, "I6", 0), 5);
	assert_int_equal(cfg_get_int(c, "I7", 0), LLONG_MAX);
	assert_int_equal(cfg_get_int(c, "I8", 0), LLONG_MIN);
	assert_string_equal(cfg_get_str(c, "I8", NULL), "-9223372036854775808");
	assert_int_equal(cfg_get_int(c, "I9", 1), 0);
	assert_int_equal(cfg_get_int(c, "I10", 0), 7);
	/* Floats keep their text; int() truncates them. */
	assert_string_equal(cfg_get_str(c, "F1", NULL), "1.5");
	assert_int_equal(cfg_get_int(c, "F1", 0), 1);
	assert_string_equal(cfg_get_str(c, "F2", NULL), "-2.5e3");
	assert_int_equal(cfg_get_int(c, "F2", 0), -2500);
	assert_string_equal(cfg_get_str(c, "F3", NULL), ".5");
	assert_int_equal(cfg_get_int(c, "F4", 7), 0);
	assert_string_equal(cfg_get_str(c, "B1", NULL), "True");
	assert_string_equal(cfg_get_str(c, "B2", NULL), "False");
	assert_int_equal(cfg_get_int(c, "B1", 0), 1);
	assert_int_equal(cfg_get_int(c, "L1", 0), 10);
	assert_int_equal(cfg_get_int(c, "L2", 0), 20);
	assert_int_equal(cfg_get_int(c, "L3", 0), 30);
	assert_int_equal(cfg_get_int(c, "L4", 0), 40);
	assert_int_equal(cfg_get_int(c, "L5", 0), 50);
	assert_int_equal(cfg_get_int(c, "L6", 0), 30);
	assert_string_equal(cfg_get_str(c, "L5", NULL), "50");
	assert_int_equal(cfg_get_int(c, "PI_LOGLEVEL", 0), 9);
	cfg_free(c);
}

static void test_none_is_absent(void **state)
{
	(void)state;
	struct cfg *c = parse_ok("A = None\nB = 'x'\nB = None\nC = None\nC = 'back'\n");
	assert_false(cfg_has(c, "A"));
	assert_string_equal(cfg_get_str(c, "A", "def"), "def");
	assert_int_equal(cfg_get_int(c, "A", 42), 42);
	assert_int_equal(cfg_get_bool(c, "A", 1), 1);
	assert_int_equal(cfg_get_bool(c, "A", 0), 0);
	assert_null(cfg_get_list(c, "A"));
	assert_false(cfg_has(c, "B"));
	assert_string_equal(cfg_get_str(c, "C", NULL), "back");
	/* Still listed, for the "unknown key" log. */
	assert_int_equal(cfg_count(c), 3);
	assert_string_equal(cfg_key_at(c, 0), "A");
	assert_false(cfg_has(c, "MISSING"));
	assert_string_equal(cfg_get_str(c, "MISSING", "d"), "d");
	cfg_free(c);
}

static void test_bool_and_int_conversions(void **state)
{
	(void)state;
	struct cfg *c = parse_ok(
		"T1 = True\nT2 = 1\nT3 = 'True'\nT4 = 'true'\nT5 = '1'\nT6 = 'yes'\nT7 = 'on'\n"
		"T8 = \"TRUE\"\nT9 = 2\nT10 = ['x']\nT11 = 0.5\n"
		"F1 = False\nF2 = 0\nF3 = 'False'\nF4 = ''\nF5 = '0'\nF6 = 'no'\nF7 = 'off'\n"
		"F8 = []\nF9 = 'anything'\nF10 = 0.0\nF11 = {}\n"
		"N1 = ' 42 '\nN2 = '-7'\nN3 = '4x'\nN4 = ''\nN5 = [1]\nN6 = 1e300\n");
	static const char *const t[] = { "T1", "T2", "T3", "T4", "T5", "T6",
					 "T7", "T8", "T9", "T10", "T11" };
	static const char *const f[] = { "F1", "F2", "F3", "F4", "F5", "F6",
					 "F7", "F8", "F9", "F10", "F11" };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (cfg_get_bool(c, t[i], 0) != 1)
			fail_msg("%s should be true", t[i]);
		if (cfg_get_bool(c, f[i], 1) != 0)
			fail_msg("%s should be false", f[i]);
	}
	assert_int_equal(cfg_get_bool(c, "ABSENT", 1), 1);
	assert_int_equal(cfg_get_int(c, "N1", 0), 42);
	assert_int_equal(cfg_get_int(c, "N2", 0), -7);
	assert_int_equal(cfg_get_int(c, "N3", 99), 99);
	assert_int_equal(cfg_get_int(c, "N4", 99), 99);
	assert_int_equal(cfg_get_int(c, "N5", 99), 99);
	assert_int_equal(cfg_get_int(c, "N6", 99), 99);
	assert_int_equal(cfg_get_int(c, "ABSENT", -1), -1);
	cfg_free(c);
}

static void test_lists_and_dicts(void **state)
{
	(void)state;
	struct cfg *c = parse_ok(
		"L1 = [\n"
		"    'a',   # first\n"
		"    \"b\",\n"
		"    # a comment line inside\n"
		"    'c' 'd',\n"
		"]\n"
		"L2 = ('x', 'y')\n"
		"L3 = ('only',)\n"
		"L4 = []\n"
		"L5 = 'single'\n"
		"L6 = ['mixed', 1, True, 2.5]\n"
		"L7 = [['nested']]\n"
		"L8 = 'p', 'q'  # bare tuple\n"
		"L9 = {'set1', 'set2'}\n"
		"L10 = ()\n"
		"L11 = ('grouped')\n"
		"L12 = [None]\n"
		"D1 = {\"max_identifier_length\": 128}\n"
		"D2 = {\n"
		"  'k': [1, 2, {'deep': ('t',)}],  # ] } ) in a comment\n"
		"  \"s\": 'with ] and # inside',\n"
		"}\n"
		"D3 = {}\n");
	static const char *const l1[] = { "a", "b", "cd" };
	char **l = cfg_get_list(c, "L1");
	assert_list(l, l1, 3);
	cfg_list_free(l);
	assert_string_equal(cfg_get_str(c, "L1", NULL),
			    "[\n    'a',   \n    \"b\",\n    \n    'c' 'd',\n]");
	static const char *const l2[] = { "x", "y" };
	l = cfg_get_list(c, "L2");
	assert_list(l, l2, 2);
	cfg_list_free(l);
	static const char *const l3[] = { "only" };
	l = cfg_get_list(c, "L3");
	assert_list(l, l3, 1);
	cfg_list_free(l);
	l = cfg_get_list(c, "L4");
	assert_list(l, NULL, 0);
	cfg_list_free(l);
	static const char *const l5[] = { "single" };
	l = cfg_get_list(c, "L5");
	assert_list(l, l5, 1);
	cfg_list_free(l);
	static const char *const l6[] = { "mixed", "1", "True", "2.5" };
	l = cfg_get_list(c, "L6");
	assert_list(l, l6, 4);
	cfg_list_free(l);
	assert_null(cfg_get_list(c, "L7"));
	assert_string_equal(cfg_get_str(c, "L7", NULL), "[['nested']]");
	static const char *const l8[] = { "p", "q" };
	l = cfg_get_list(c, "L8");
	assert_list(l, l8, 2);
	cfg_list_free(l);
	assert_string_equal(cfg_get_str(c, "L8", NULL), "('p', 'q')");
	static const char *const l9[] = { "set1", "set2" };
	l = cfg_get_list(c, "L9");
	assert_list(l, l9, 2);
	cfg_list_free(l);
	l = cfg_get_list(c, "L10");
	assert_list(l, NULL, 0);
	cfg_list_free(l);
	assert_string_equal(cfg_get_str(c, "L11", NULL), "grouped");
	assert_null(cfg_get_list(c, "L12"));
	assert_true(cfg_get_bool(c, "L12", 0));
	assert_string_equal(cfg_get_str(c, "D1", NULL), "{\"max_identifier_length\": 128}");
	assert_null(cfg_get_list(c, "D1"));
	assert_true(cfg_get_bool(c, "D1", 0));
	assert_string_equal(cfg_get_str(c, "D2", NULL),
			    "{\n  'k': [1, 2, {'deep': ('t',)}],  \n"
			    "  \"s\": 'with ] and # inside',\n}");
	assert_string_equal(cfg_get_str(c, "D3", NULL), "{}");
	assert_false(cfg_get_bool(c, "D3", 1));
	assert_null(cfg_get_list(c, "ABSENT"));
	cfg_free(c);
}

static void test_override_and_references(void **state)
{
	(void)state;
	struct cfg *c = parse_ok(
		"PI_LOGLEVEL = 20\n"
		"BASE = '/etc/privacyidea'\n"
		"PI_ENCFILE = BASE + '/enckey'\n"
		"PI_LOGLEVEL = logging.DEBUG\n"
		"COPY = PI_LOGLEVEL\n"
		"REALMS = ['a']\n"
		"REALMS2 = REALMS\n"
		"REALMS = ['b', 'c']\n");
	assert_int_equal(cfg_get_int(c, "PI_LOGLEVEL", 0), 10);
	assert_string_equal(cfg_get_str(c, "PI_ENCFILE", NULL), "/etc/privacyidea/enckey");
	assert_int_equal(cfg_get_int(c, "COPY", 0), 10);
	static const char *const r2[] = { "a" };
	char **l = cfg_get_list(c, "REALMS2");
	assert_list(l, r2, 1);
	cfg_list_free(l);
	static const char *const r[] = { "b", "c" };
	l = cfg_get_list(c, "REALMS");
	assert_list(l, r, 2);
	cfg_list_free(l);
	/* The first assignment fixes the position. */
	assert_int_equal(cfg_count(c), 6);
	assert_string_equal(cfg_key_at(c, 0), "PI_LOGLEVEL");
	assert_string_equal(cfg_key_at(c, 4), "REALMS");
	cfg_free(c);
}

/* ---- line endings, encodings -------------------------------------------- */

static void test_crlf(void **state)
{
	(void)state;
	struct cfg *c = parse_ok("# windows\r\nimport logging\r\nA = 'x'\r\n\r\n"
				 "L = [\r\n  'a',  # c\r\n  'b'\r\n]\r\n"
				 "T = '''one\r\ntwo'''\r\nB = True\r\nD = logging.ERROR");
	assert_string_equal(cfg_get_str(c, "A", NULL), "x");
	static const char *const l[] = { "a", "b" };
	char **got = cfg_get_list(c, "L");
	assert_list(got, l, 2);
	cfg_list_free(got);
	assert_string_equal(cfg_get_str(c, "L", NULL), "[\n  'a',  \n  'b'\n]");
	assert_string_equal(cfg_get_str(c, "T", NULL), "one\ntwo");
	assert_true(cfg_get_bool(c, "B", 0));
	assert_int_equal(cfg_get_int(c, "D", 0), 40);
	cfg_free(c);

	/* Old Mac CR-only lines, and the error line count with CRLF. */
	c = parse_ok("A = 1\rB = 2\r");
	assert_int_equal(cfg_get_int(c, "B", 0), 2);
	cfg_free(c);
	struct error err = { 0 };
	assert_null(cfg_parse("A = 1\r\nB = 2\r\nC 3\r\n", "crlf.cfg", &err));
	assert_string_equal(err.message, "crlf.cfg:3: missing '=' after 'C'");
}

static void test_utf8(void **state)
{
	(void)state;
	struct cfg *c = parse_ok("\xef\xbb\xbf# BOM first, Python skips it\n"
				 "PI_TRANSLATION_WARNING = 'Gr\xc3\xbc\xc3\x9f""e \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80'\n"
				 "E = '\\u00e9' + \"\xc3\xa9\"\n"
				 "# Kommentar mit \xc3\xbcmlaut\n"
				 "L = ['\xc3\xa4', '\xe2\x82\xac']\n");
	assert_string_equal(cfg_get_str(c, "PI_TRANSLATION_WARNING", NULL),
			    "Gr\xc3\xbc\xc3\x9f""e \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80");
	assert_string_equal(cfg_get_str(c, "E", NULL), "\xc3\xa9\xc3\xa9");
	static const char *const l[] = { "\xc3\xa4", "\xe2\x82\xac" };
	char **got = cfg_get_list(c, "L");
	assert_list(got, l, 2);
	cfg_list_free(got);
	assert_string_equal(cfg_key_at(c, 0), "PI_TRANSLATION_WARNING");
	cfg_free(c);
}

/* ---- errors ---------------------------------------------------------------- */

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *message;
	} t[] = {
		{ "A = 'abc\n", "e.cfg:1: unterminated string" },
		{ "A = 1\nB = \"abc\n", "e.cfg:2: unterminated string" },
		{ "A = 1\nB = '''abc\n\nC = 2\n", "e.cfg:2: unterminated triple-quoted string" },
		{ "A = 'abc\\'\n", "e.cfg:1: unterminated string" },
		{ "A = r'abc\\", "e.cfg:1: unterminated string" },
		{ "A = 1\n\nB 2\n", "e.cfg:3: missing '=' after 'B'" },
		{ "A\n", "e.cfg:1: missing '=' after 'A'" },
		{ "A == 1\n", "e.cfg:1: missing '=' after 'A'" },
		{ "A =\n", "e.cfg:1: missing value for 'A'" },
		{ "A = # nothing\n", "e.cfg:1: missing value for 'A'" },
		{ "9A = 1\n", "e.cfg:1: bad identifier '9A'" },
		{ "PI-LOGLEVEL = 1\n", "e.cfg:1: bad identifier 'PI-LOGLEVEL'" },
		{ "A = 1\nCL\xc3\x89 = 1\n", "e.cfg:2: bad identifier 'CL\xc3\x89'" },
		{ "= 1\n", "e.cfg:1: expected a setting name, found '='" },
		{ "A = [1,\n 2\n", "e.cfg:1: unbalanced bracket: '[' is never closed" },
		{ "A = 1\nB = {'a': [1,\n 2]\n", "e.cfg:2: unbalanced bracket: '{' is never closed" },
		{ "A = [1, 2)\n", "e.cfg:1: unbalanced bracket: '[' opened on line 1 closed by ')'" },
		{ "A = (\n1,\n2]\n", "e.cfg:3: unbalanced bracket: '(' opened on line 1 closed by ']'" },
		{ "A = 1]\n", "e.cfg:1: unbalanced bracket: unexpected ']'" },
		{ "A = ]\n", "e.cfg:1: unbalanced bracket: unexpected ']'" },
		{ "A = 'a', 'b')\n", "e.cfg:1: unbalanced bracket: unexpected ')'" },
		{ "A = ['a' 'b' 1]\n", "e.cfg:1: expected ',' or ']', found '1'" },
		{ "A = {'a' 1}\n", "e.cfg:1: expected ',' or '}', found '1'" },
		{ "A = {'a': 1, 'b'}\n", "e.cfg:1: expected ':' after a dict key" },
		{ "  A = 1\n", "e.cfg:1: unexpected indentation" },
		{ "A = 1 2\n", "e.cfg:1: unexpected '2' after the value of 'A'" },
		{ "A = 1; B = 2\n", "e.cfg:1: unexpected ';' after the value of 'A'" },
		{ "A = B\n", "e.cfg:1: name 'B' is not defined" },
		{ "A = os.environ['X']\n",
		  "e.cfg:1: unsupported expression 'os.': only literal values are allowed" },
		{ "A = get('x')\n",
		  "e.cfg:1: unsupported expression 'get(': only literal values are allowed" },
		{ "A = logging.LOUD\n", "e.cfg:1: unknown logging level 'logging.LOUD'" },
		{ "A = 012\n", "e.cfg:1: invalid number" },
		{ "A = 1__0\n", "e.cfg:1: invalid number" },
		{ "A = 10abc\n", "e.cfg:1: invalid number" },
		{ "A = 0x\n", "e.cfg:1: invalid number" },
		{ "A = 1j\n", "e.cfg:1: complex numbers are not supported" },
		{ "A = 99999999999999999999\n", "e.cfg:1: integer out of range" },
		{ "A = 9223372036854775808\n", "e.cfg:1: integer out of range" },
		{ "A = -'x'\n", "e.cfg:1: '-' must be followed by a number" },
		{ "A = 'x' + 1\n", "e.cfg:1: '+' is only supported between strings" },
		{ "A = '\\x4'\n", "e.cfg:1: truncated \\x escape in string" },
		{ "A = '\\u12'\n", "e.cfg:1: truncated \\u escape in string" },
		{ "A = '\\0'\n", "e.cfg:1: NUL characters in strings are not supported" },
		{ "A = '\\ud800'\n", "e.cfg:1: surrogate \\ud800 cannot be encoded as UTF-8" },
		{ "A = '\\U00110000'\n", "e.cfg:1: illegal Unicode character in \\U escape" },
		{ "A = '\\N{DASH}'\n", "e.cfg:1: \\N{...} escapes are not supported" },
		{ "A = b'x'\n", "e.cfg:1: bytes literals are not supported" },
		{ "A = f'{x}'\n", "e.cfg:1: f-strings are not supported" },
		{ "A = ur'x'\n", "e.cfg:1: invalid string prefix 'ur'" },
		{ "if True:\n    A = 1\n", "e.cfg:1: unsupported statement 'if'" },
		{ "A = not True\n", "e.cfg:1: unexpected keyword 'not' in value" },
		{ "A = @\n", "e.cfg:1: unexpected '@' in value" },
		{ "A = 1\nB = 'x\xff'\n", "e.cfg:2: invalid UTF-8" },
		{ "A = 1\nB = '\xed\xa0\x80'\n", "e.cfg:2: invalid UTF-8" },
		/* Line numbers keep counting through multi-line constructs. */
		{ "A = [\n'a',\n'b'\n]\nB = 'x\n", "e.cfg:5: unterminated string" },
		{ "A = '''x\ny'''\nB 2\n", "e.cfg:3: missing '=' after 'B'" },
		{ "A = 'a' \\\n 'b'\nB\n", "e.cfg:3: missing '=' after 'B'" },
		{ "from x import (a,\n b)\nimport y\nB\n", "e.cfg:4: missing '=' after 'B'" },
		{ "A = \"\"\"x\\\ny\"\"\"\nB\n", "e.cfg:3: missing '=' after 'B'" },
		/* An import is checked, not skipped blindly to the end of file. */
		{ "import loggi{ng\nA = 1\n", "e.cfg:1: invalid import statement: unexpected '{'" },
		{ "import 'x'\n", "e.cfg:1: invalid import statement: unexpected '''" },
		{ "import   \n", "e.cfg:1: invalid import statement: unexpected end of line" },
		{ "import 1x\n", "e.cfg:1: invalid import statement: unexpected '1'" },
		{ "from os mport path\n", "e.cfg:1: invalid import statement: unexpected end of line" },
		{ "from x import (a,\n b\nA = 1\n",
		  "e.cfg:3: invalid import statement: unexpected '='" },
		{ "from x import (a,\n b", "e.cfg:1: unbalanced bracket: '(' is never closed" },
		{ "A = 2\\\n", "e.cfg:1: unexpected '\\' after the value of 'A'" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct error err = { 0 };
		struct cfg *c = cfg_parse(t[i].text, "e.cfg", &err);
		if (c)
			fail_msg("case %zu (%s) parsed", i, t[i].text);
		if (strcmp(err.message, t[i].message) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, err.message, t[i].message);
		assert_int_equal(err.kind, ERRK_PI);
		assert_int_equal(err.code, ERR_GENERIC);
		assert_null(strchr(err.message, '\n'));
	}
}

static void test_nesting_limit(void **state)
{
	(void)state;
	char text[512];
	size_t n = 0;
	n += (size_t)snprintf(text, sizeof(text), "A = ");
	for (int i = 0; i < 100; i++)
		text[n++] = '[';
	text[n] = '\0';
	struct error err = { 0 };
	assert_null(cfg_parse(text, "deep.cfg", &err));
	assert_string_equal(err.message, "deep.cfg:1: nesting too deep");
	struct cfg *c = parse_ok("A = [[[[[[[[[[1]]]]]]]]]]\n");
	assert_string_equal(cfg_get_str(c, "A", NULL), "[[[[[[[[[[1]]]]]]]]]]");
	cfg_free(c);
}

static void test_edge_texts(void **state)
{
	(void)state;
	struct cfg *c = parse_ok("");
	assert_int_equal(cfg_count(c), 0);
	cfg_free(c);
	c = parse_ok("\n\n   \n# only comments\n\t# indented comment\n");
	assert_int_equal(cfg_count(c), 0);
	cfg_free(c);
	c = parse_ok("A=1");
	assert_int_equal(cfg_get_int(c, "A", 0), 1);
	cfg_free(c);
	c = parse_ok("A\t=\t'x'\t#c");
	assert_string_equal(cfg_get_str(c, "A", NULL), "x");
	cfg_free(c);
	c = parse_ok("import os, logging as log\nimport a.b.c\nfrom . import x\n"
		     "from os.path import (join,\n  dirname)  # c\nfrom x import *\n"
		     "from a import b as c, \\\n  d\nA = 1\n");
	assert_int_equal(cfg_count(c), 1);
	assert_int_equal(cfg_get_int(c, "A", 0), 1);
	cfg_free(c);
	c = parse_ok("A = 'x' \\\n  'y'\nB = \\\n 2\n");
	assert_string_equal(cfg_get_str(c, "A", NULL), "xy");
	assert_int_equal(cfg_get_int(c, "B", 0), 2);
	cfg_free(c);
	c = parse_ok("lower_case = 1\n_private = 2\n");
	assert_int_equal(cfg_get_int(c, "lower_case", 0), 1);
	assert_int_equal(cfg_get_int(c, "_private", 0), 2);
	cfg_free(c);
	struct error err = { 0 };
	c = cfg_parse("A = 1\n", NULL, &err);
	assert_non_null(c);
	assert_string_equal(cfg_path(c), "<string>");
	cfg_free(c);
	assert_null(cfg_parse("A = 'x\n", NULL, &err));
	assert_string_equal(err.message, "<string>:1: unterminated string");
}

/* ---- locating and reading the file ----------------------------------------- */

static void test_load_errors(void **state)
{
	(void)state;
	struct error err = { 0 };
	char path[PATH_MAX + 32], want[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/missing.cfg", tmpdir);
	assert_null(cfg_load(path, &err));
	snprintf(want, sizeof(want), "cannot read config file '%s': %s", path, strerror(ENOENT));
	assert_string_equal(err.message, want);
	assert_int_equal(err.kind, ERRK_PI);

	/* A directory opens but cannot be read. */
	assert_null(cfg_load(tmpdir, &err));
	snprintf(want, sizeof(want), "cannot read config file '%s': %s", tmpdir, strerror(EISDIR));
	assert_string_equal(err.message, want);

	/* Unreadable (unless we are root, who reads everything). */
	snprintf(path, sizeof(path), "%s/secret.cfg", tmpdir);
	write_file(path, "A = 1\n", 6);
	chmod(path, 0);
	if (geteuid() != 0) {
		assert_null(cfg_load(path, &err));
		snprintf(want, sizeof(want), "cannot read config file '%s': %s", path,
			 strerror(EACCES));
		assert_string_equal(err.message, want);
	}
	unlink(path);

	/* A syntax error names the file as given. */
	snprintf(path, sizeof(path), "%s/bad.cfg", tmpdir);
	write_file(path, "A = 1\nB = [\n", 12);
	assert_null(cfg_load(path, &err));
	snprintf(want, sizeof(want), "%s:2: unbalanced bracket: '[' is never closed", path);
	assert_string_equal(err.message, want);
	/* A NUL byte cannot come through cfg_parse, only from a file. */
	write_file(path, "A = 1\nB = '\0'\n", 13);
	assert_null(cfg_load(path, &err));
	snprintf(want, sizeof(want), "%s:2: NUL byte in file", path);
	assert_string_equal(err.message, want);
	unlink(path);
}

static void test_load_order(void **state)
{
	(void)state;
	struct error err = { 0 };
	char a[PATH_MAX + 32], b[PATH_MAX + 32];
	snprintf(a, sizeof(a), "%s/a.cfg", tmpdir);
	snprintf(b, sizeof(b), "%s/b.cfg", tmpdir);
	write_file(a, "WHICH = 'a'\n", 12);
	write_file(b, "WHICH = 'b'\n", 12);

	/* The explicit path wins over the environment. */
	setenv("PRIVACYIDEA_CONFIGFILE", b, 1);
	struct cfg *c = cfg_load(a, &err);
	assert_non_null(c);
	assert_string_equal(cfg_get_str(c, "WHICH", NULL), "a");
	cfg_free(c);
	c = cfg_load(NULL, &err);
	assert_non_null(c);
	assert_string_equal(cfg_get_str(c, "WHICH", NULL), "b");
	assert_string_equal(cfg_path(c), b);
	cfg_free(c);

	/* Neither: the default location. */
	unsetenv("PRIVACYIDEA_CONFIGFILE");
	c = cfg_load(NULL, &err);
	if (c) {
		assert_string_equal(cfg_path(c), "/etc/tessera/pi.cfg");
		cfg_free(c);
	} else {
		assert_non_null(strstr(err.message, "'/etc/tessera/pi.cfg'"));
	}
	setenv("PRIVACYIDEA_CONFIGFILE", "", 1);
	c = cfg_load(NULL, &err);
	if (c)
		cfg_free(c);
	else
		assert_non_null(strstr(err.message, "'/etc/tessera/pi.cfg'"));
	unsetenv("PRIVACYIDEA_CONFIGFILE");
	unlink(a);
	unlink(b);
}

static void test_relative_dir(void **state)
{
	(void)state;
	char sub[PATH_MAX + 32], file[PATH_MAX + 64], old[PATH_MAX];
	assert_non_null(getcwd(old, sizeof(old)));
	snprintf(sub, sizeof(sub), "%s/etc", tmpdir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(file, sizeof(file), "%s/pi.cfg", sub);
	write_file(file, "A = 1\n", 6);
	assert_int_equal(chdir(tmpdir), 0);

	struct error err = { 0 };
	static const char *const rel[] = { "etc/pi.cfg", "./etc/pi.cfg", "etc//./pi.cfg",
					   "../" /* replaced below */ };
	for (size_t i = 0; i < 3; i++) {
		struct cfg *c = cfg_load(rel[i], &err);
		if (!c)
			fail_msg("%s", err.message);
		assert_string_equal(cfg_path(c), rel[i]);
		assert_string_equal(cfg_dir(c), sub);
		cfg_free(c);
	}
	/* ".." is resolved lexically, as os.path.abspath does. */
	char up[PATH_MAX + 64];
	const char *name = strrchr(tmpdir, '/') + 1;
	snprintf(up, sizeof(up), "etc/../../%s/etc/pi.cfg", name);
	struct cfg *c = cfg_load(up, &err);
	if (!c)
		fail_msg("%s", err.message);
	assert_string_equal(cfg_dir(c), sub);
	cfg_free(c);
	/* cfg_parse takes the folder of its origin. */
	c = cfg_parse("A = 1", "etc/x.cfg", &err);
	assert_string_equal(cfg_dir(c), sub);
	cfg_free(c);
	c = cfg_parse("A = 1", "/pi.cfg", &err);
	assert_string_equal(cfg_dir(c), "/");
	cfg_free(c);

	assert_int_equal(chdir(old), 0);
	unlink(file);
	rmdir(sub);
}

static int teardown_tmpdir(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers_and_constants),
		cmocka_unit_test(test_none_is_absent),
		cmocka_unit_test(test_bool_and_int_conversions),
		cmocka_unit_test(test_lists_and_dicts),
		cmocka_unit_test(test_override_and_references),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_edge_texts),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_order),
		cmocka_unit_test(test_relative_dir),
	};
	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
