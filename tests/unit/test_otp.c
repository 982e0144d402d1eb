/*
 * test_otp.c — otp.c: the RFC 4226 Appendix D and RFC 6238 Appendix B
 * vectors, the window checks, TOTP counter modes, hash names, the otpkey
 * formats (hex, base32check), the 2-step key, and 200+ random HOTP/TOTP
 * values cross-checked against oathtool(1) as an independent oracle.
 *
 * Expected base32check / PBKDF2 values were computed at development time
 * with /usr/bin/python3 following privacyIDEA 3.8's decode_base32check and
 * generate_symmetric_key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/crypto.h"
#include "lib/otp.h"

static const unsigned char SEED20[] = "12345678901234567890";
static const unsigned char SEED32[] = "12345678901234567890123456789012";
static const unsigned char SEED64[] = "1234567890123456789012345678901234567890123456789012345678901234";

static void hotp_str(const unsigned char *k, size_t kl, uint64_t c, int d, enum otp_hash h, char *out)
{
	struct error e = {0};
	assert_int_equal(otp_hotp(k, kl, c, d, h, out, &e), 0);
}

/* ---- RFC vectors ---- */

static void test_rfc4226_appendix_d(void **state)
{
	(void)state;
	static const char *want[] = {"755224", "287082", "359152", "969429", "338314",
				     "254676", "287922", "162583", "399871", "520489"};
	char out[OTP_BUF_LEN];
	for (unsigned i = 0; i < 10; i++) {
		hotp_str(SEED20, 20, i, 6, OTP_HASH_SHA1, out);
		assert_string_equal(out, want[i]);
	}
}

static void test_rfc6238_appendix_b(void **state)
{
	(void)state;
	static const struct {
		double t;
		const char *sha1, *sha256, *sha512;
	} rows[] = {
		{59, "94287082", "46119246", "90693936"},
		{1111111109, "07081804", "68084774", "25091201"},
		{1111111111, "14050471", "67062674", "99943326"},
		{1234567890, "89005924", "91819424", "93441116"},
		{2000000000, "69279037", "90698825", "38618901"},
		{20000000000.0, "65353130", "77737706", "47863826"},
	};
	char out[OTP_BUF_LEN];
	struct error e = {0};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(otp_totp(SEED20, 20, rows[i].t, 30, 8, OTP_HASH_SHA1, out, &e), 0);
		assert_string_equal(out, rows[i].sha1);
		assert_int_equal(otp_totp(SEED32, 32, rows[i].t, 30, 8, OTP_HASH_SHA256, out, &e), 0);
		assert_string_equal(out, rows[i].sha256);
		assert_int_equal(otp_totp(SEED64, 64, rows[i].t, 30, 8, OTP_HASH_SHA512, out, &e), 0);
		assert_string_equal(out, rows[i].sha512);
	}
}

/* ---- names, lengths ---- */

static void test_hash_names(void **state)
{
	(void)state;
	enum otp_hash h;
	assert_int_equal(otp_hash_parse("sha1", &h), 0);
	assert_int_equal(h, OTP_HASH_SHA1);
	assert_int_equal(otp_hash_parse("SHA256", &h), 0);
	assert_int_equal(h, OTP_HASH_SHA256);
	assert_int_equal(otp_hash_parse("Sha512", &h), 0);
	assert_int_equal(h, OTP_HASH_SHA512);
	assert_int_equal(otp_hash_parse("sha224", &h), 0);
	assert_int_equal(otp_hash_parse("sha384", &h), 0);
	assert_int_equal(otp_hash_parse("md5", &h), -1);
	assert_int_equal(otp_hash_parse("sha-256", &h), -1);
	assert_int_equal(otp_hash_parse("", &h), -1);
	assert_int_equal(otp_hash_parse(NULL, &h), -1);
	assert_string_equal(otp_hash_name(OTP_HASH_SHA256), "sha256");
	assert_int_equal(otp_hash_keysize(OTP_HASH_SHA1), 20);
	assert_int_equal(otp_hash_keysize(OTP_HASH_SHA256), 32);
	assert_int_equal(otp_hash_keysize(OTP_HASH_SHA512), 64);
	assert_int_equal(otp_hash_keysize(OTP_HASH_SHA384), 20);
	assert_int_equal(otp_hash_mdlen(OTP_HASH_SHA384), 48);
}

static void test_digits(void **state)
{
	(void)state;
	char out[OTP_BUF_LEN];
	struct error e = {0};
	assert_int_equal(otp_digits_valid(6), 1);
	assert_int_equal(otp_digits_valid(7), 1);
	assert_int_equal(otp_digits_valid(8), 1);
	assert_int_equal(otp_digits_valid(5), 0);
	assert_int_equal(otp_digits_valid(9), 0);
	assert_int_equal(otp_hotp(SEED20, 20, 0, 5, OTP_HASH_SHA1, out, &e), -1);
	assert_int_equal(e.kind, ERRK_PI);
	assert_int_equal(e.code, ERR_PARAMETER);
	assert_non_null(strstr(e.message, "6, 7 or 8"));
	assert_int_equal(otp_hotp(SEED20, 20, 0, 10, OTP_HASH_SHA1, out, &e), -1);
	/* 7 digits: last 7 decimal digits of RFC 4226's truncated value 1284755224 */
	hotp_str(SEED20, 20, 0, 7, OTP_HASH_SHA1, out);
	assert_string_equal(out, "4755224");
	hotp_str(SEED20, 20, 0, 8, OTP_HASH_SHA1, out);
	assert_string_equal(out, "84755224");
}

/* ---- window checks ---- */

static void test_check_window(void **state)
{
	(void)state;
	char v[OTP_BUF_LEN];
	/* RFC 4226: counter 5 → 254676 */
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 10, 6, OTP_HASH_SHA1, "254676"), 5);
	assert_int_equal(otp_hotp_check(SEED20, 20, 5, 1, 6, OTP_HASH_SHA1, "254676"), 5);
	/* window is end-exclusive: start 0, window 5 tries 0..4 */
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 5, 6, OTP_HASH_SHA1, "254676"), OTP_NOMATCH);
	assert_int_equal(otp_hotp_check(SEED20, 20, 6, 10, 6, OTP_HASH_SHA1, "254676"), OTP_NOMATCH);
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 0, 6, OTP_HASH_SHA1, "755224"), OTP_NOMATCH);
	/* first and last position of a window */
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 10, 6, OTP_HASH_SHA1, "755224"), 0);
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 10, 6, OTP_HASH_SHA1, "520489"), 9);
	/* wrong length, NULL, non-digits */
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 10, 6, OTP_HASH_SHA1, "0755224"), OTP_NOMATCH);
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 10, 6, OTP_HASH_SHA1, "75522"), OTP_NOMATCH);
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 10, 6, OTP_HASH_SHA1, NULL), OTP_NOMATCH);
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 10, 6, OTP_HASH_SHA1, "abcdef"), OTP_NOMATCH);
	/* 8 digits, SHA256 key from RFC 6238 at counter 1 (t = 59) */
	assert_int_equal(otp_hotp_check(SEED32, 32, 0, 3, 8, OTP_HASH_SHA256, "46119246"), 1);
	/* argument errors */
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 10, 9, OTP_HASH_SHA1, "755224"), OTP_ERROR);
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, OTP_WINDOW_MAX + 1, 6, OTP_HASH_SHA1, "755224"),
			 OTP_ERROR);
	assert_int_equal(otp_hotp_check(SEED20, 20, UINT64_MAX - 2, 10, 6, OTP_HASH_SHA1, "755224"), OTP_ERROR);
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, 10, 6, (enum otp_hash)42, "755224"), OTP_ERROR);
	/* a large window still finds its value */
	hotp_str(SEED20, 20, 12345, 6, OTP_HASH_SHA1, v);
	int64_t r = otp_hotp_check(SEED20, 20, 10000, 5000, 6, OTP_HASH_SHA1, v);
	assert_true(r >= 10000 && r <= 12345); /* the lowest match; collisions are possible */
	char w[OTP_BUF_LEN];
	hotp_str(SEED20, 20, (uint64_t)r, 6, OTP_HASH_SHA1, w);
	assert_string_equal(w, v);
}

/* Two counters with the same value: the lowest one wins (privacyIDEA
 * breaks at the first match). */
static void test_check_lowest_match(void **state)
{
	(void)state;
	static char seen[3000][OTP_BUF_LEN];
	uint64_t a = 0, b = 0;
	int found = 0;
	/* with 3000 counters a repeated 6-digit value is all but certain */
	for (uint64_t c = 0; c < 3000 && !found; c++) {
		hotp_str(SEED20, 20, c, 6, OTP_HASH_SHA1, seen[c]);
		for (uint64_t d = 0; d < c; d++)
			if (!strcmp(seen[c], seen[d])) {
				a = d, b = c, found = 1;
				break;
			}
	}
	if (!found)
		skip();
	assert_int_equal(otp_hotp_check(SEED20, 20, 0, (uint32_t)b + 1, 6, OTP_HASH_SHA1, seen[b]), (int64_t)a);
	assert_int_equal(otp_hotp_check(SEED20, 20, a + 1, (uint32_t)(b - a), 6, OTP_HASH_SHA1, seen[b]),
			 (int64_t)b);
}

static void test_check_symmetric(void **state)
{
	(void)state;
	/* counter 5, window 2: tries 3, 4, 5, 6 (not 7) */
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, 5, 2, 6, OTP_HASH_SHA1, "969429"), 3);
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, 5, 2, 6, OTP_HASH_SHA1, "287922"), 6);
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, 5, 2, 6, OTP_HASH_SHA1, "162583"), OTP_NOMATCH);
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, 5, 2, 6, OTP_HASH_SHA1, "359152"), OTP_NOMATCH);
	/* clamped at 0 */
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, 1, 3, 6, OTP_HASH_SHA1, "755224"), 0);
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, 1, 3, 6, OTP_HASH_SHA1, "969429"), 3);
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, 1, 3, 6, OTP_HASH_SHA1, "338314"), OTP_NOMATCH);
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, 0, 0, 6, OTP_HASH_SHA1, "755224"), OTP_NOMATCH);
	/* TOTP use: RFC 6238 t=1111111109 (counter 37037036) found from t=1111111200 */
	int64_t c = otp_totp_counter(1111111200.0, 30, OTP_TIME_FLOOR);
	assert_int_equal(c, 37037040);
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, (uint64_t)c, 6, 8, OTP_HASH_SHA1, "07081804"),
			 37037036);
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, (uint64_t)c, 3, 8, OTP_HASH_SHA1, "07081804"),
			 OTP_NOMATCH);
	assert_int_equal(otp_hotp_check_symmetric(SEED20, 20, UINT64_MAX, 3, 8, OTP_HASH_SHA1, "07081804"),
			 OTP_ERROR);
}

static void test_totp_counter(void **state)
{
	(void)state;
	assert_int_equal(otp_totp_counter(59, 30, OTP_TIME_FLOOR), 1);
	assert_int_equal(otp_totp_counter(44.9, 30, OTP_TIME_FLOOR), 1);
	assert_int_equal(otp_totp_counter(45.0, 30, OTP_TIME_FLOOR), 1);
	/* privacyIDEA <= 3.8: int(t / step + 0.5) */
	assert_int_equal(otp_totp_counter(44.9, 30, OTP_TIME_ROUND), 1);
	assert_int_equal(otp_totp_counter(45.0, 30, OTP_TIME_ROUND), 2);
	assert_int_equal(otp_totp_counter(59, 30, OTP_TIME_ROUND), 2);
	assert_int_equal(otp_totp_counter(1234567890, 60, OTP_TIME_FLOOR), 20576131);
	assert_int_equal(otp_totp_counter(1234567890, 60, OTP_TIME_ROUND), 20576132);
	assert_int_equal(otp_totp_counter(0, 30, OTP_TIME_FLOOR), 0);
	assert_int_equal(otp_totp_counter(-10, 30, OTP_TIME_ROUND), 0); /* Python int() truncates */
	assert_int_equal(otp_totp_counter(100, 0, OTP_TIME_FLOOR), -1);
	assert_true(otp_totp_counter_time(2, 30, OTP_TIME_ROUND) == 45.0);
	assert_true(otp_totp_counter_time(2, 30, OTP_TIME_FLOOR) == 60.0);
	char out[OTP_BUF_LEN];
	struct error e = {0};
	assert_int_equal(otp_totp(SEED20, 20, 1.0, 0, 6, OTP_HASH_SHA1, out, &e), -1);
}

/* ---- otpkey formats ---- */

static void check_key(const char *otpkey, const char *fmt, const char *want_hex)
{
	unsigned char *k = NULL;
	size_t kl = 0;
	struct error e = {0};
	if (otp_key_decode(otpkey, fmt, &k, &kl, &e) != 0)
		fail_msg("otp_key_decode(%s, %s): %s", otpkey, fmt ? fmt : "NULL", e.message);
	char *hex = crypto_hex_encode(k, kl);
	assert_string_equal(hex, want_hex);
	free(hex);
	otp_free_key(k, kl);
}

static void check_key_err(const char *otpkey, const char *fmt, const char *msg)
{
	unsigned char *k = NULL;
	size_t kl = 0;
	struct error e = {0};
	assert_int_equal(otp_key_decode(otpkey, fmt, &k, &kl, &e), -1);
	assert_int_equal(e.kind, ERRK_PI);
	assert_int_equal(e.code, ERR_PARAMETER);
	assert_string_equal(e.message, msg);
}

static void test_otpkey_formats(void **state)
{
	(void)state;
	check_key("3132333435363738393031323334353637383930", NULL, "3132333435363738393031323334353637383930");
	check_key("ABCDEF", "hex", "abcdef");
	check_key("", "hex", "");
	check_key_err("abc", "hex", "The otpkey is not a valid hex string.");
	check_key_err("zz", NULL, "The otpkey is not a valid hex string.");
	/* base32check vectors: b32encode(sha1(p)[:4] + p).strip("=") */
	check_key("M5BD5PYAAEBAGBAFAYDQ", "base32check", "0001020304050607");
	check_key("m5bd5pyaaebagbafaydq", "base32check", "0001020304050607");
	check_key("M5BD5PYAAEBAGBAFAYDR", "base32check", "0001020304050607"); /* unused bits ignored */
	check_key("X6FUKMAB", "base32check", "01");
	check_key("3I42H3Q", "base32check", "");
	check_key("3I42H3Q=", "base32check", "");
	check_key("PYFBEQRRGIZTINJWG44DSMBRGIZTINJWG44DSMA", "base32check",
		  "3132333435363738393031323334353637383930");
	check_key_err("M5BD5PYAAEBAGBAFAYD1", "base32check", "Malformed base32check data: Invalid base32");
	check_key_err("ABC", "base32check", "Malformed base32check data: Invalid base32");
	check_key_err("X6FUKMAB====", "base32check", "Malformed base32check data: Invalid base32");
	check_key_err("X6FU=KMA", "base32check", "Malformed base32check data: Invalid base32");
	check_key_err("AA", "base32check", "Malformed base32check data: Too short");
	check_key_err("", "base32check", "Malformed base32check data: Too short");
	check_key_err("M5BD5PYAAEBAGBAFAYDA", "base32check", "Malformed base32check data: Incorrect checksum");
	check_key_err("00", "HEX", "Unknown OTP key format: 'HEX'");
	check_key_err("00", "base32", "Unknown OTP key format: 'base32'");

	char *s = otp_base32check_encode((const unsigned char *)"\x00\x01\x02\x03\x04\x05\x06\x07", 8);
	assert_string_equal(s, "M5BD5PYAAEBAGBAFAYDQ");
	free(s);
	s = otp_base32_encode(SEED20, 20, 0);
	assert_string_equal(s, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	free(s);
	s = otp_base32_encode((const unsigned char *)"\x00\x01\x02\x03\x04\x05\x06", 7, 1);
	assert_string_equal(s, "AAAQEAYEAUDA====");
	free(s);
	s = otp_base32_encode((const unsigned char *)"", 0, 1);
	assert_string_equal(s, "");
	free(s);
}

static void test_twostep(void **state)
{
	(void)state;
	unsigned char out[32];
	struct error e = {0};
	assert_int_equal(otp_twostep_key(SEED20, 20, (const unsigned char *)"\x01\x02\x03\x04\x05\x06\x07\x08", 8,
					 10000, out, 20, &e),
			 0);
	char *hex = crypto_hex_encode(out, 20);
	assert_string_equal(hex, "e8d9185b418c6b9a63656b973f92fb0c2a119e7f");
	free(hex);
	static const unsigned char srv[] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33};
	assert_int_equal(otp_twostep_key(srv, sizeof(srv), (const unsigned char *)"\xff\xff\xff\xff\xff\xff\xff\xff",
					 8, 1000, out, 32, &e),
			 0);
	hex = crypto_hex_encode(out, 32);
	assert_string_equal(hex, "93baaf82823a6fbeaca160d442f332c244c96fb2284af14134ec00cd6b457cff");
	free(hex);
	assert_int_equal(otp_twostep_key(srv, sizeof(srv), srv, 1, 0, out, 32, &e), -1);
}

/* ---- oathtool as an oracle ---- */

static int have_oathtool(void)
{
	return system("oathtool --version >/dev/null 2>&1") == 0;
}

static void oathtool(const char *args, char *out, size_t len)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "oathtool %s", args);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	pclose(f);
	out[strcspn(out, "\n")] = '\0';
}

/* xorshift64*: reproducible, no libc RNG state */
static uint64_t rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void test_oathtool_random_hotp(void **state)
{
	(void)state;
	if (!have_oathtool())
		skip();
	uint64_t seed = 0x5eed0f7e55e7a001ull;
	static const enum otp_hash hashes[] = {OTP_HASH_SHA1, OTP_HASH_SHA256, OTP_HASH_SHA512};
	static const char *modes[] = {"SHA1", "SHA256", "SHA512"};
	for (int i = 0; i < 210; i++) {
		unsigned char key[64];
		size_t kl = 1 + rng(&seed) % 64;
		for (size_t j = 0; j < kl; j++)
			key[j] = (unsigned char)rng(&seed);
		int digits = 6 + (int)(rng(&seed) % 3);
		int hi = (int)(rng(&seed) % 3);
		/* oathtool's --hotp is SHA1 only; other hashes: TOTP with a 1 s
		 * step at time = counter, which is HOTP(counter) */
		uint64_t counter = hi == 0 ? rng(&seed) >> (rng(&seed) % 64) : rng(&seed) % 4000000000ull;
		char *hex = crypto_hex_encode(key, kl);
		char args[512], want[64], got[OTP_BUF_LEN];
		if (hi == 0)
			snprintf(args, sizeof(args), "--hotp -d %d -c %llu %s", digits, (unsigned long long)counter,
				 hex);
		else
			snprintf(args, sizeof(args), "--totp=%s -s 1 -d %d -N @%llu %s", modes[hi], digits,
				 (unsigned long long)counter, hex);
		oathtool(args, want, sizeof(want));
		hotp_str(key, kl, counter, digits, hashes[hi], got);
		if (strcmp(want, got) != 0)
			fail_msg("oathtool %s: %s, otp_hotp: %s", args, want, got);
		/* and the checker finds it in a window around it (counters
		 * are signed 64-bit results: beyond that it is an error) */
		uint64_t start = counter >= 3 ? counter - 3 : 0;
		int64_t m = otp_hotp_check(key, kl, start, 7, digits, hashes[hi], got);
		if (counter < (uint64_t)INT64_MAX - 7)
			assert_true(m >= (int64_t)start && m <= (int64_t)counter);
		else
			assert_int_equal(m, OTP_ERROR);
		free(hex);
	}
}

static void test_oathtool_random_totp(void **state)
{
	(void)state;
	if (!have_oathtool())
		skip();
	uint64_t seed = 0x70700000deadbeefull;
	static const enum otp_hash hashes[] = {OTP_HASH_SHA1, OTP_HASH_SHA256, OTP_HASH_SHA512};
	static const char *modes[] = {"SHA1", "SHA256", "SHA512"};
	for (int i = 0; i < 30; i++) {
		unsigned char key[64];
		int hi = i % 3;
		size_t kl = otp_hash_keysize(hashes[hi]);
		for (size_t j = 0; j < kl; j++)
			key[j] = (unsigned char)rng(&seed);
		uint32_t step = (i & 1) ? 60 : 30;
		uint64_t t = 1000000000ull + rng(&seed) % 3000000000ull;
		char *hex = crypto_hex_encode(key, kl);
		char args[512], want[64], got[OTP_BUF_LEN];
		struct error e = {0};
		snprintf(args, sizeof(args), "--totp=%s -s %u -d 8 -N @%llu %s", modes[hi], step,
			 (unsigned long long)t, hex);
		oathtool(args, want, sizeof(want));
		assert_int_equal(otp_totp(key, kl, (double)t, step, 8, hashes[hi], got, &e), 0);
		if (strcmp(want, got) != 0)
			fail_msg("oathtool %s: %s, otp_totp: %s", args, want, got);
		free(hex);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4226_appendix_d),
		cmocka_unit_test(test_rfc6238_appendix_b),
		cmocka_unit_test(test_hash_names),
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_check_window),
		cmocka_unit_test(test_check_lowest_match),
		cmocka_unit_test(test_check_symmetric),
		cmocka_unit_test(test_totp_counter),
		cmocka_unit_test(test_otpkey_formats),
		cmocka_unit_test(test_twostep),
		cmocka_unit_test(test_oathtool_random_hotp),
		cmocka_unit_test(test_oathtool_random_totp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
