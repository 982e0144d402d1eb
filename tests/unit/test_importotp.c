/*
 * test_importotp.c — the token import parsers (importotp.c,
 * importotp_xml.c) on the files in tests/data/import/: OATH CSV (comments,
 * blank and broken lines, version 2 users, every column rule), Yubikey
 * CSV (both log formats), the RFC 6030 figures 2–7 (plain, PIN, pre-shared
 * key with MAC, PBKDF2 password), privacyIDEA's own export layout, MAC
 * modes, AES-256/PBKDF2-SHA256, Yubico exports, SafeNet XML, and the
 * refusals: malformed XML, XXE and entity bombs, wrong key or password,
 * unsupported algorithms, oversize input.
 *
 * The expected CSV records were cross-checked at development time against
 * a /usr/bin/python3 replica of privacyIDEA 3.8's parseOATHcsv /
 * parseYubicoCSV; the encrypted PSKC fixtures come from gen_pskc.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/importotp.h"

#define K20 "3132333435363738393031323334353637383930"

/* tests/data/import/<name>, NUL-terminated; skips when the data is absent */
static char *load(const char *name, size_t *len)
{
	const char *dir = getenv("TESSERA_TEST_DATA");
	char path[4096];
	if (dir == NULL || *dir == '\0') {
		print_message("TESSERA_TEST_DATA not set\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/import/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

typedef int (*parser)(const char *, size_t, struct import_list *, struct error *);

static void parse_ok(parser p, const char *file, struct import_list *l)
{
	size_t len;
	char *d = load(file, &len);
	struct error e = {0};
	import_list_init(l);
	if (p(d, len, l, &e) != 0)
		fail_msg("%s: %s", file, e.message);
	free(d);
}

/* Parses and expects a 304 whose message contains `part`. */
static void parse_err(parser p, const char *file, const char *part)
{
	size_t len;
	char *d = load(file, &len);
	struct error e = {0};
	struct import_list l;
	import_list_init(&l);
	if (p(d, len, &l, &e) == 0)
		fail_msg("%s: parsed without error", file);
	assert_int_equal(e.kind, ERRK_PI);
	assert_int_equal(e.code, ERR_TOKENIMPORT);
	if (strstr(e.message, part) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", file, e.message, part);
	assert_int_equal(l.count, 0);
	assert_null(l.tokens);
	free(d);
}

static const struct import_token *get(const struct import_list *l, const char *serial)
{
	const struct import_token *t = import_list_find(l, serial);
	if (t == NULL)
		fail_msg("no token %s", serial);
	return t;
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void check(const struct import_token *t, const char *type, const char *otpkey, int otplen,
		  const char *hashlib)
{
	assert_string_equal(t->type, type);
	assert_str_or_null(t->otpkey, otpkey);
	assert_int_equal(t->otplen, otplen);
	assert_str_or_null(t->hashlib, hashlib);
}

/* ---- OATH CSV ---- */

static void test_oath_csv(void **state)
{
	(void)state;
	struct import_list l;
	parse_ok(import_oath_csv, "oath.csv", &l);
	static const char *order[] = {"tok1", "tok2", "tok3",  "tok4", "tok5",	"tok6",
				      "tok7", "ocra1", "tan1", "pw1",  "crlf1", "paper1"};
	assert_int_equal(l.count, 12);
	for (size_t i = 0; i < 12; i++)
		assert_string_equal(l.tokens[i].serial, order[i]);
	/* tok1 appears twice: the second line wins, the position stays */
	const struct import_token *t = get(&l, "tok1");
	check(t, "hotp", K20, 6, "sha1");
	assert_true(t->has_counter);
	assert_int_equal(t->counter, 100);
	assert_null(t->username);
	t = get(&l, "tok2");
	check(t, "totp", K20 "313233343536373839303132", 6, "sha256");
	assert_int_equal(t->timestep, 30);
	t = get(&l, "tok3");
	check(t, "hotp", K20, 8, "sha1");
	assert_int_equal(t->counter, 5);
	t = get(&l, "tok4");
	check(t, "totp", K20 "3132333435363738393031", 8, "sha1");
	assert_int_equal(t->timestep, 60);
	t = get(&l, "tok5");
	check(t, "totp", K20 K20 K20 "31323334", 6, "sha512");
	assert_int_equal(t->timestep, 30);
	t = get(&l, "tok6");
	check(t, "hotp", K20 K20 "3132333435363738", 6, "sha384");
	assert_false(t->has_counter); /* empty trailing column */
	t = get(&l, "tok7");
	check(t, "hotp", K20 "3132333435363738", 6, "sha224");
	t = get(&l, "ocra1");
	check(t, "ocra", K20, 0, "sha1");
	assert_string_equal(t->ocrasuite, "OCRA-1:HOTP-SHA1-6:QN08");
	t = get(&l, "tan1");
	check(t, "tan", "", 0, "sha1");
	assert_string_equal(t->tans, "111111 222222   333333");
	t = get(&l, "pw1");
	check(t, "pw", "my secret password", 18, "sha1");
	t = get(&l, "crlf1");
	check(t, "totp", K20, 6, "sha1");
	assert_int_equal(t->timestep, 30);
	t = get(&l, "paper1");
	check(t, "paper", K20, 6, "sha1");
	assert_int_equal(t->counter, 7);
	assert_null(import_list_find(&l, "serialX"));
	assert_null(import_list_find(&l, ""));
	assert_int_equal(l.n_not_imported, 0);
	import_list_free(&l);
	assert_int_equal(l.count, 0);
}

static void test_oath_csv_version2(void **state)
{
	(void)state;
	struct import_list l;
	parse_ok(import_oath_csv, "oath-v2.csv", &l);
	assert_int_equal(l.count, 2);
	const struct import_token *t = get(&l, "tok1");
	check(t, "hotp", K20, 6, "sha1");
	assert_string_equal(t->username, "alice");
	assert_string_equal(t->resolver, "resolver1");
	assert_string_equal(t->realm, "realm1");
	t = get(&l, "tok3");
	check(t, "totp", K20, 8, "sha1");
	assert_int_equal(t->timestep, 60);
	assert_string_equal(t->username, "carol");
	assert_string_equal(t->realm, "realm3");
	import_list_free(&l);
}

static void test_oath_csv_errors(void **state)
{
	(void)state;
	parse_err(import_oath_csv, "oath-badtype.csv", "line 3: unknown token type 'nosuchtype'");
	parse_err(import_oath_csv, "oath-badotplen.csv", "line 2: invalid OTP length");
	parse_err(import_oath_csv, "oath-badcounter.csv", "line 2: invalid counter");
	parse_err(import_oath_csv, "oath-v2-short.csv", "line 3");
}

static void test_input_limits(void **state)
{
	(void)state;
	struct import_list l;
	struct error e = {0};
	import_list_init(&l);
	size_t big = IMPORT_MAX_SIZE + 1;
	char *d = malloc(big);
	memset(d, '#', big);
	assert_int_equal(import_oath_csv(d, big, &l, &e), -1);
	assert_int_equal(e.code, ERR_TOKENIMPORT);
	assert_non_null(strstr(e.message, "too large"));
	assert_int_equal(import_yubico_csv(d, big, &l, &e), -1);
	struct pskc_options o = {0};
	memcpy(d, "<KeyContainer/>", 15);
	assert_int_equal(import_pskc(d, big, &o, &l, &e), -1);
	assert_non_null(strstr(e.message, "too large"));
	assert_int_equal(import_safenet_xml(d, big, &l, &e), -1);
	/* exactly the limit is fine for CSV (all comments) */
	memset(d, '#', IMPORT_MAX_SIZE);
	assert_int_equal(import_oath_csv(d, IMPORT_MAX_SIZE, &l, &e), 0);
	assert_int_equal(l.count, 0);
	free(d);
	assert_int_equal(import_oath_csv("tok1, 12\0, hotp", 15, &l, &e), -1);
	assert_non_null(strstr(e.message, "binary"));
	assert_int_equal(import_oath_csv("tok\xff, 12", 8, &l, &e), -1);
	assert_non_null(strstr(e.message, "UTF-8"));
	assert_int_equal(import_oath_csv("", 0, &l, &e), 0);
	assert_int_equal(l.count, 0);
	assert_int_equal(import_pskc("", 0, &o, &l, &e), -1);
	assert_int_equal(e.code, ERR_TOKENIMPORT);
}

/* ---- Yubikey CSV ---- */

static void test_yubico_csv(void **state)
{
	(void)state;
	struct import_list l;
	parse_ok(import_yubico_csv, "yubikey.csv", &l);
	static const char *order[] = {"UBAM00508326_1", "UBOM00000000_1", "UBAM280782705994231_2", "UBOM508327_X",
				      "UBAM508328_X"};
	assert_int_equal(l.count, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(l.tokens[i].serial, order[i]);
	const struct import_token *t = get(&l, "UBAM00508326_1");
	check(t, "yubikey", "6faa3ce885fcd5eda7efa5195e5a5d44", 44, "sha1");
	assert_string_equal(t->description, "cccccccirblh");
	t = get(&l, "UBOM00000000_1");
	check(t, "hotp", "916821d3a138bf855e70069605559a206ba854cd", 6, "sha1");
	assert_string_equal(t->description, "cccccccccccc");
	t = get(&l, "UBAM280782705994231_2");
	check(t, "yubikey", "d26a7c0f85fdda28bd816e406342b214", 44, "sha1");
	t = get(&l, "UBOM508327_X");
	check(t, "hotp", "69cfb9202438ca68964ec3244bfa4843d073a43b", 6, "sha1");
	assert_string_equal(t->description, "");
	t = get(&l, "UBAM508328_X");
	check(t, "yubikey", "a47c5bf9c152202f577be6721c0113af", 44, "sha1");
	assert_string_equal(t->description, "cccccccccccc");
	import_list_free(&l);
	parse_err(import_yubico_csv, "yubikey-badmodhex.csv", "line 2");
}

/* ---- PSKC: RFC 6030 figures ---- */

static void pskc_ok(const char *file, const char *psk, const char *password, enum pskc_mac_mode mode,
		    struct import_list *l)
{
	size_t len;
	char *d = load(file, &len);
	struct error e = {0};
	struct pskc_options o = {psk, password, mode};
	import_list_init(l);
	if (import_pskc(d, len, &o, l, &e) != 0)
		fail_msg("%s: %s", file, e.message);
	free(d);
}

static void pskc_err(const char *file, const char *psk, const char *password, const char *part)
{
	size_t len;
	char *d = load(file, &len);
	struct error e = {0};
	struct pskc_options o = {psk, password, PSKC_MAC_CHECK_FAIL_HARD};
	struct import_list l;
	import_list_init(&l);
	if (import_pskc(d, len, &o, &l, &e) == 0)
		fail_msg("%s: parsed without error", file);
	assert_int_equal(e.kind, ERRK_PI);
	assert_int_equal(e.code, ERR_TOKENIMPORT);
	if (strstr(e.message, part) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", file, e.message, part);
	assert_int_equal(l.count, 0);
	free(d);
}

static void test_rfc6030_plain(void **state)
{
	(void)state;
	struct import_list l;
	pskc_ok("rfc6030-figure2.xml", NULL, NULL, PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 1);
	const struct import_token *t = get(&l, "12345678");
	check(t, "hotp", "31323334", 6, "sha1");
	assert_false(t->has_counter);
	assert_null(t->description);
	import_list_free(&l);

	pskc_ok("rfc6030-figure3.xml", NULL, NULL, PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 1);
	t = get(&l, "987654321");
	check(t, "hotp", K20, 8, "sha1");
	assert_true(t->has_counter);
	assert_int_equal(t->counter, 0);
	assert_string_equal(t->description, "Manufacturer");
	assert_null(t->pin);
	import_list_free(&l);

	/* Figure 4 carries no secret: nothing to import */
	pskc_err("rfc6030-figure4.xml", NULL, NULL, "has no secret");

	/* Figure 5: the PIN key becomes the pin of the HOTP token */
	pskc_ok("rfc6030-figure5.xml", NULL, NULL, PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 1);
	t = get(&l, "987654321");
	check(t, "hotp", K20, 8, "sha1");
	assert_string_equal(t->pin, "1234");
	import_list_free(&l);
}

static void test_rfc6030_psk(void **state)
{
	(void)state;
	struct import_list l;
	pskc_ok("rfc6030-figure6.xml", "12345678901234567890123456789012", NULL, PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 1);
	const struct import_token *t = get(&l, "987654321");
	check(t, "hotp", K20, 8, "sha1");
	assert_string_equal(t->description, "Manufacturer");
	assert_int_equal(t->counter, 0);
	assert_int_equal(l.n_not_imported, 0);
	import_list_free(&l);
	/* upper case hex is a fine key */
	pskc_ok("rfc6030-figure6.xml", "12345678901234567890123456789012", "ignored", PSKC_MAC_CHECK_FAIL_SOFT, &l);
	assert_int_equal(l.count, 1);
	import_list_free(&l);

	pskc_err("rfc6030-figure6.xml", NULL, NULL, "no pre-shared key");
	pskc_err("rfc6030-figure6.xml", "12345678901234567890123456789013", NULL,
		 "Failed to import tokendata. Wrong encryption key?");
	pskc_err("rfc6030-figure6.xml", "00000000000000000000000000000000", NULL, "Wrong encryption key?");
	pskc_err("rfc6030-figure6.xml", "123456", NULL, "16, 24 or 32 bytes");
	pskc_err("rfc6030-figure6.xml", "not hex at all!!", NULL, "16, 24 or 32 bytes");
	/* a 32-byte key does not fit aes128-cbc */
	pskc_err("rfc6030-figure6.xml", "1234567890123456789012345678901212345678901234567890123456789012", NULL,
		 "Wrong encryption key?");
}

static void test_rfc6030_password(void **state)
{
	(void)state;
	struct import_list l;
	pskc_ok("rfc6030-figure7.xml", NULL, "qwerty", PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 1);
	const struct import_token *t = get(&l, "987654321");
	check(t, "hotp", K20, 8, "sha1");
	assert_string_equal(t->description, "TokenVendorAcme");
	assert_false(t->has_counter);
	import_list_free(&l);

	pskc_err("rfc6030-figure7.xml", NULL, NULL,
		 "The XML KeyContainer specifies a derived encryption key, but no password given!");
	/* a pre-shared key does not replace the password */
	pskc_err("rfc6030-figure7.xml", "651e63cd57008476af1ff6422cd02e41", NULL, "no password given");
	pskc_err("rfc6030-figure7.xml", NULL, "qwertz", "Wrong encryption key?");
	pskc_err("rfc6030-figure7.xml", NULL, "wrong", "Wrong encryption key?");
}

/* ---- PSKC: other layouts ---- */

static void test_pskc_privacyidea_export(void **state)
{
	(void)state;
	struct import_list l;
	pskc_ok("pskc-pi-export.xml", "a1b2c3d4e5f60718293a4b5c6d7e8f90", NULL, PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.tokens[0].serial, "PIHOTP01");
	assert_string_equal(l.tokens[1].serial, "PITOTP01");
	assert_string_equal(l.tokens[2].serial, "PIPW01");
	const struct import_token *t = get(&l, "PIHOTP01");
	/* <Suite hashalgo="sha256"/>: the attribute is honoured */
	check(t, "hotp", "3132333435363738393031323334353637383930313233343536373839303132", 8, "sha256");
	assert_string_equal(t->description, "exported hotp");
	assert_int_equal(t->counter, 17);
	assert_int_equal(t->timestep, 0);
	assert_false(t->has_timeshift);
	t = get(&l, "PITOTP01");
	check(t, "totp", "00112233445566778899aabbccddeeff00112233", 6, "sha1");
	assert_int_equal(t->timestep, 60);
	assert_true(t->has_timeshift);
	assert_int_equal(t->timeshift, -2);
	assert_true(t->has_counter);
	assert_int_equal(t->counter, 0);
	/* an encrypted password is passed on as text */
	t = get(&l, "PIPW01");
	check(t, "pw", "l\xc3\xa4ssig pw", 10, "sha1");
	import_list_free(&l);
	pskc_err("pskc-pi-export.xml", "a1b2c3d4e5f60718293a4b5c6d7e8f91", NULL, "Wrong encryption key?");
}

static void test_pskc_mac_modes(void **state)
{
	(void)state;
	const char *psk = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
	struct import_list l;

	/* hard: nothing imported, every serial listed, no error (privacyIDEA) */
	pskc_ok("pskc-bad-mac.xml", psk, NULL, PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 0);
	assert_int_equal(l.n_not_imported, 3);
	assert_string_equal(l.not_imported[0], "PIHOTP01");
	assert_string_equal(l.not_imported[1], "PITOTP01");
	assert_string_equal(l.not_imported[2], "PIPW01");
	import_list_free(&l);

	pskc_ok("pskc-bad-mac.xml", psk, NULL, PSKC_MAC_CHECK_FAIL_SOFT, &l);
	assert_int_equal(l.count, 2);
	assert_non_null(import_list_find(&l, "PIHOTP01"));
	assert_non_null(import_list_find(&l, "PIPW01"));
	assert_null(import_list_find(&l, "PITOTP01"));
	assert_int_equal(l.n_not_imported, 1);
	assert_string_equal(l.not_imported[0], "PITOTP01");
	import_list_free(&l);

	pskc_ok("pskc-bad-mac.xml", psk, NULL, PSKC_MAC_NO_CHECK, &l);
	assert_int_equal(l.count, 3);
	assert_int_equal(l.n_not_imported, 0);
	import_list_free(&l);

	/* encrypted, but the container has no MAC key: nothing to check */
	pskc_ok("pskc-no-mac.xml", psk, NULL, PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 1);
	check(get(&l, "NOMAC1"), "hotp", "00112233445566778899aabbccddeeff00112233", 6, "sha1");
	import_list_free(&l);

	enum pskc_mac_mode m;
	assert_int_equal(import_pskc_mac_mode(NULL, &m), 0);
	assert_int_equal(m, PSKC_MAC_CHECK_FAIL_HARD);
	assert_int_equal(import_pskc_mac_mode("check_fail_soft", &m), 0);
	assert_int_equal(m, PSKC_MAC_CHECK_FAIL_SOFT);
	assert_int_equal(import_pskc_mac_mode("no_check", &m), 0);
	assert_int_equal(m, PSKC_MAC_NO_CHECK);
	assert_int_equal(import_pskc_mac_mode("check_fail_hard", &m), 0);
	assert_int_equal(import_pskc_mac_mode("soft", &m), -1);
}

static void test_pskc_aes256_pbkdf2_sha256(void **state)
{
	(void)state;
	struct import_list l;
	pskc_ok("pskc-aes256-pbkdf2-sha256.xml", NULL, "correct horse battery", PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 1);
	const struct import_token *t = get(&l, "AES256TOK");
	check(t, "hotp", "3132333435363738393031323334353637383930313233343536373839303132", 8, "sha256");
	assert_int_equal(t->counter, 42);
	import_list_free(&l);
	pskc_err("pskc-aes256-pbkdf2-sha256.xml", NULL, "correct horse", "Wrong encryption key?");
}

static void test_pskc_plain_mixed(void **state)
{
	(void)state;
	struct import_list l;
	pskc_ok("pskc-plain-mixed.xml", NULL, NULL, PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 4);
	assert_string_equal(l.tokens[0].serial, "HOTP0001");
	assert_string_equal(l.tokens[1].serial, "TOTP0001");
	assert_string_equal(l.tokens[2].serial, "NODEVICE1");
	assert_string_equal(l.tokens[3].serial, "PW001");
	/* HOTP0001 twice: the later package replaced the first */
	const struct import_token *t = get(&l, "HOTP0001");
	check(t, "hotp", "00112233445566778899aabbccddeeff", 6, "sha512");
	assert_string_equal(t->description, "Vendor One again");
	assert_false(t->has_counter);
	t = get(&l, "TOTP0001");
	check(t, "totp", "0123456789abcdef0123456789abcdef01234567", 8, "sha1");
	assert_string_equal(t->description, "Vendor Two");
	assert_int_equal(t->timestep, 60);
	assert_int_equal(t->timeshift, -122);
	assert_int_equal(t->counter, 121212);
	t = get(&l, "NODEVICE1");
	check(t, "totp", "fedcba9876543210fedcba9876543210fedcba98", 6, "sha1");
	assert_null(t->description);
	assert_int_equal(t->timestep, 0);
	/* a plain password stays hex, as in privacyIDEA */
	t = get(&l, "PW001");
	check(t, "pw", "313233343536373839303132", 12, "sha1");
	import_list_free(&l);
}

static void test_pskc_yubico(void **state)
{
	(void)state;
	struct import_list l;
	pskc_ok("pskc-yubico.xml", NULL, NULL, PSKC_MAC_CHECK_FAIL_HARD, &l);
	assert_int_equal(l.count, 2);
	check(get(&l, "UBAM283599_1"), "yubikey", "00112233445566778899aabbccddeeff", 44, "sha1");
	check(get(&l, "UBOM283599_2"), "hotp", "0123456789abcdef0123456789abcdef01234567", 6, "sha1");
	import_list_free(&l);
}

static void test_pskc_refusals(void **state)
{
	(void)state;
	pskc_err("pskc-malformed.xml", NULL, NULL, "Could not parse PSKC data:");
	pskc_err("pskc-xxe.xml", NULL, NULL, "(DTD) are not allowed");
	pskc_err("pskc-xxe-dtd.xml", NULL, NULL, "(DTD) are not allowed");
	pskc_err("pskc-entity-bomb.xml", NULL, NULL, "(DTD) are not allowed");
	pskc_err("pskc-undefined-entity.xml", NULL, NULL, "Could not parse PSKC data:");
	pskc_err("pskc-no-container.xml", NULL, NULL,
		 "No KeyContainer found in PSKC data. Could not import any tokens.");
	pskc_err("pskc-unsupported-algorithm.xml", NULL, NULL, "Unsupported algorithm");
	pskc_err("pskc-unsupported-encryption.xml", "a1b2c3d4e5f60718293a4b5c6d7e8f90", NULL, "kw-aes128");
	pskc_err("oath.csv", NULL, NULL, "Could not parse PSKC data:");

	/* whatever the refusal, the external entity was never read */
	size_t len;
	char *d = load("pskc-xxe.xml", &len);
	struct error e = {0};
	struct import_list l;
	struct pskc_options o = {0};
	import_list_init(&l);
	assert_int_equal(import_pskc(d, len, &o, &l, &e), -1);
	assert_null(strstr(e.message, "root:"));
	free(d);
}

/* ---- SafeNet XML ---- */

static void test_safenet(void **state)
{
	(void)state;
	struct import_list l;
	parse_ok(import_safenet_xml, "safenet.xml", &l);
	assert_int_equal(l.count, 2);
	const struct import_token *t = get(&l, "00040008CFA5");
	check(t, "hotp", K20, 0, "sha1");
	assert_true(t->has_counter);
	assert_int_equal(t->counter, 1);
	t = get(&l, "SAFENET256");
	check(t, "hotp", K20 "313233343536373839303132", 0, "sha256");
	assert_false(t->has_counter);
	import_list_free(&l);
	parse_err(import_safenet_xml, "safenet-notokens.xml", "No toplevel element Tokens");
	parse_err(import_safenet_xml, "pskc-xxe.xml", "(DTD) are not allowed");
	parse_err(import_safenet_xml, "pskc-malformed.xml", "Could not parse SafeNet XML data");
}

int main(void)
{
	import_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oath_csv),
		cmocka_unit_test(test_oath_csv_version2),
		cmocka_unit_test(test_oath_csv_errors),
		cmocka_unit_test(test_input_limits),
		cmocka_unit_test(test_yubico_csv),
		cmocka_unit_test(test_rfc6030_plain),
		cmocka_unit_test(test_rfc6030_psk),
		cmocka_unit_test(test_rfc6030_password),
		cmocka_unit_test(test_pskc_privacyidea_export),
		cmocka_unit_test(test_pskc_mac_modes),
		cmocka_unit_test(test_pskc_aes256_pbkdf2_sha256),
		cmocka_unit_test(test_pskc_plain_mixed),
		cmocka_unit_test(test_pskc_yubico),
		cmocka_unit_test(test_pskc_refusals),
		cmocka_unit_test(test_safenet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
