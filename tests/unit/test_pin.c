/*
 * test_pin.c — unit tests for src/lib/pin.c: the keyed PIN hash, the
 * privacyIDEA forms it still verifies (argon2, pbkdf2-sha512, the old
 * sha256 with pin_seed), the re-hash flag and the encrypted "@@" form.
 *
 * The key file is bytes 00 01 .. 5f (token slot 00..1f, value slot
 * 40..5f).  Vectors were made at development time, independently of the
 * code under test:
 *   keyed:   Python hmac/hashlib —
 *              prk = HMAC-SHA256(32 zero bytes, value slot)
 *              K   = HMAC-SHA256(prk, b"tessera pin hash v1" + b"\x01")
 *              (checked against cryptography's HKDF(SHA256, 32, None, info))
 *              mac = HMAC-SHA256(K, bytes(range(16)) + pin.encode())
 *   pbkdf2:  hashlib.pbkdf2_hmac("sha512", pin, bytes(range(100, 116)), rounds)
 *            in passlib's "$pbkdf2-sha512$rounds$ab64(salt)$ab64(dk)" form,
 *            no pepper (privacyIDEA's PIN hashes are not peppered)
 *   legacy:  hashlib.sha256(pin.encode() + bytes.fromhex(pin_seed)).hexdigest()
 *   argon2:  libargon2's argon2_hash() in a throw-away program, salt a0..af,
 *            16-byte hash (passlib's default sizes)
 *   "@@":    python3-cryptography AES-256-CBC with the token slot, IV 00..0f,
 *            PKCS#7 and privacyIDEA's legacy hex + 01 02 padding
 * Timing is not tested here (see docs/security.md for the measurements).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crypto.h"
#include "lib/pin.h"

/* base64 of bytes 0x00..0x5f */
static const char KEY_B64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+"
			      "P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f";

static char g_tmp[256];
static struct enckey *g_key;   /* 00..5f */
static struct enckey *g_other; /* random */

static int group_setup(void **state)
{
	(void)state;
	snprintf(g_tmp, sizeof(g_tmp), "/tmp/tessera-test-pin-XXXXXX");
	if (!mkdtemp(g_tmp))
		return -1;
	char p[512], q[512];
	struct error err = { 0 };
	snprintf(p, sizeof(p), "%s/fixed.key", g_tmp);
	snprintf(q, sizeof(q), "%s/other.key", g_tmp);
	if (crypto_create_enckey(p, KEY_B64, &err) < 0 || crypto_create_enckey(q, NULL, &err) < 0)
		return -1;
	g_key = crypto_load_enckey(p, &err);
	g_other = crypto_load_enckey(q, &err);
	return g_key && g_other ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	crypto_free_enckey(g_key);
	crypto_free_enckey(g_other);
	return nftw(g_tmp, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* pin_verify with a poisoned rehash flag, so a function that forgets to
 * set it is caught. */
static int verify(const struct enckey *k, const char *stored, const char *seed, const char *pin, int *rehash)
{
	*rehash = 42;
	return pin_verify(k, stored, seed, pin, rehash);
}

/* ---- the keyed form ---- */

#define SALT_HEX "000102030405060708090a0b0c0d0e0f"
static const char KEYED_1234[] = "tpin1$" SALT_HEX "$83bbe35f9756018f253546984032ca2a821e4a9ce0f8fc4cf0c336cd76261558";
/* "päss w0rd!" as UTF-8 */
static const char KEYED_UTF8[] = "tpin1$" SALT_HEX "$beee11a2fd4cf5623617e9bdebed7efe5ff4a490713b8fab3fcb54795cca6834";
/* "x" * 300 */
static const char KEYED_LONG[] = "tpin1$" SALT_HEX "$d1a47b573a6e246000e4e230c0ceb05dee6d2fc0fd225ab5656344b28c1c7151";

static void test_keyed_vectors(void **state)
{
	(void)state;
	int rh;
	char longpin[301];
	memset(longpin, 'x', 300);
	longpin[300] = '\0';
	assert_int_equal(verify(g_key, KEYED_1234, NULL, "1234", &rh), 1);
	assert_int_equal(rh, 0);
	assert_int_equal(verify(g_key, KEYED_UTF8, NULL, "p\xc3\xa4ss w0rd!", &rh), 1);
	assert_int_equal(rh, 0);
	assert_int_equal(verify(g_key, KEYED_LONG, NULL, longpin, &rh), 1);
	assert_int_equal(verify(g_key, KEYED_1234, NULL, "1235", &rh), 0);
	assert_int_equal(rh, 0);
	assert_int_equal(verify(g_key, KEYED_1234, NULL, "123", &rh), 0);
	assert_int_equal(verify(g_key, KEYED_1234, NULL, "12345", &rh), 0);
	assert_int_equal(verify(g_key, KEYED_1234, NULL, "", &rh), 0);
	/* the pin_seed column plays no part in the keyed form */
	assert_int_equal(verify(g_key, KEYED_1234, "abcd", "1234", &rh), 1);
	/* rehash may be NULL */
	assert_int_equal(pin_verify(g_key, KEYED_1234, NULL, "1234", NULL), 1);
}

static void test_keyed_needs_the_key(void **state)
{
	(void)state;
	int rh;
	/* a stolen database row is useless without the key file */
	assert_int_equal(verify(g_other, KEYED_1234, NULL, "1234", &rh), 0);
	assert_int_equal(rh, 0);
	struct error err = { 0 };
	char *h = pin_hash(g_other, "1234", &err);
	assert_non_null(h);
	assert_int_equal(verify(g_other, h, NULL, "1234", &rh), 1);
	assert_int_equal(verify(g_key, h, NULL, "1234", &rh), 0);
	crypto_free_str(h);
}

static int keyed_shape(const char *h)
{
	if (strlen(h) != 6 + 32 + 1 + 64 || strncmp(h, "tpin1$", 6) != 0 || h[38] != '$')
		return 0;
	for (const char *p = h + 6; *p; p++)
		if (p != h + 38 && !strchr("0123456789abcdef", *p))
			return 0;
	return 1;
}

static void test_hash_roundtrip(void **state)
{
	(void)state;
	struct error err = { 0 };
	int rh;
	char *a = pin_hash(g_key, "1234", &err);
	char *b = pin_hash(g_key, "1234", &err);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(keyed_shape(a));
	assert_true(keyed_shape(b));
	assert_string_not_equal(a, b); /* a fresh salt each time */
	assert_int_equal(verify(g_key, a, NULL, "1234", &rh), 1);
	assert_int_equal(rh, 0);
	assert_int_equal(verify(g_key, b, NULL, "1234", &rh), 1);
	assert_int_equal(verify(g_key, a, NULL, "4321", &rh), 0);
	assert_int_equal(pin_is_encrypted(a), 0);
	crypto_free_str(a);
	crypto_free_str(b);

	a = pin_hash(g_key, "p\xc3\xa4ss w0rd!", &err);
	assert_non_null(a);
	assert_int_equal(verify(g_key, a, NULL, "p\xc3\xa4ss w0rd!", &rh), 1);
	assert_int_equal(verify(g_key, a, NULL, "pass w0rd!", &rh), 0);
	crypto_free_str(a);
}

static void test_empty_pin(void **state)
{
	(void)state;
	struct error err = { 0 };
	int rh;
	char *h = pin_hash(g_key, "", &err);
	assert_non_null(h);
	assert_string_equal(h, "");
	crypto_free_str(h);
	h = pin_hash(g_key, NULL, &err);
	assert_non_null(h);
	assert_string_equal(h, "");
	crypto_free_str(h);
	/* nothing stored: only the empty PIN matches (privacyIDEA's check_pin) */
	assert_int_equal(verify(g_key, "", NULL, "", &rh), 1);
	assert_int_equal(rh, 0);
	assert_int_equal(verify(g_key, NULL, NULL, "", &rh), 1);
	assert_int_equal(verify(g_key, "", NULL, "1234", &rh), 0);
	assert_int_equal(verify(g_key, NULL, "ab", "x", &rh), 0);
	/* no PIN given never matches */
	assert_int_equal(verify(g_key, "", NULL, NULL, &rh), 0);
	assert_int_equal(verify(g_key, KEYED_1234, NULL, NULL, &rh), 0);
	assert_int_equal(rh, 0);
}

static void test_keyed_malformed(void **state)
{
	(void)state;
	int rh;
	static const char *const bad[] = {
		"tpin1$",
		"tpin1$" SALT_HEX,
		"tpin1$" SALT_HEX "$",
		"tpin1$" SALT_HEX "$83bbe35f9756018f253546984032ca2a821e4a9ce0f8fc4cf0c336cd7626155",   /* 63 */
		"tpin1$" SALT_HEX "$83bbe35f9756018f253546984032ca2a821e4a9ce0f8fc4cf0c336cd762615580", /* 65 */
		"tpin1$" SALT_HEX "$83bbe35f9756018f253546984032ca2a821e4a9ce0f8fc4cf0c336cd7626155g",
		"tpin1$000102030405060708090a0b0c0d0e0$$83bbe35f9756018f253546984032ca2a821e4a9ce0f8fc4cf0c336cd76261558",
		"tpin1$" SALT_HEX ":83bbe35f9756018f253546984032ca2a821e4a9ce0f8fc4cf0c336cd76261558",
		"tpin2$" SALT_HEX "$83bbe35f9756018f253546984032ca2a821e4a9ce0f8fc4cf0c336cd76261558",
		"garbage",
		"$pbkdf2-sha256$29000$abc$def", /* a passlib scheme privacyIDEA does not write */
		"$1$salt$hash",
		"$argon2id$v=19$m=1024,t=2,p=1$oKGio6SlpqeoqaqrrK2urw", /* truncated */
		"$pbkdf2-sha512$25000$ZGVmZ2hpamtsbW5vcHFycw",
		"$pbkdf2-sha512$0$ZGVmZ2hpamtsbW5vcHFycw$t5QOQt4C5robqKmQBr3RNyFwAReWpuqcSgICx7GOeDOZs7N8xzJR7TF8.H/44lSPDZ2EqcJ0rdNxuSuaIjIYeQ",
		NULL,
	};
	for (const char *const *p = bad; *p; p++) {
		assert_int_equal(verify(g_key, *p, NULL, "1234", &rh), -1);
		assert_int_equal(rh, 0);
	}
	/* upper-case hex is still hex (our own writer uses lower case) */
	assert_int_equal(verify(g_key, "tpin1$" SALT_HEX "$83BBE35F9756018F253546984032CA2A821E4A9CE0F8FC4CF0C336CD76261558",
				NULL, "1234", &rh),
			 1);
}

/* ---- privacyIDEA's forms ---- */

static void test_legacy_sha256(void **state)
{
	(void)state;
	int rh;
	static const char H1[] = "cc4cf75a65e3414038bdd4362731f0b4c31cd29224fe4edeff055a208f127454";
	assert_int_equal(verify(g_key, H1, "abcdef0123456789", "1234", &rh), 1);
	assert_int_equal(rh, 1);
	/* the seed column is hex of any case (unhexlify) */
	assert_int_equal(verify(g_key, H1, "ABCDEF0123456789", "1234", &rh), 1);
	assert_int_equal(verify(g_key, H1, "abcdef0123456789", "1235", &rh), 0);
	assert_int_equal(rh, 0);
	assert_int_equal(verify(g_key, H1, "abcdef0123456788", "1234", &rh), 0);
	assert_int_equal(verify(g_key, H1, NULL, "1234", &rh), 0);
	/* pin || seed, not seed || pin */
	assert_int_equal(verify(g_key, "06eb7d6a69ee19e5fbdf749018d3d2abfa04bcbd1365db312eb86dc7169389b8", "00ff", "", &rh),
			 1);
	assert_int_equal(rh, 1);
	/* no seed: sha256(pin); NULL, "" and MS SQL's " " are the same */
	static const char H3[] = "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4";
	assert_int_equal(verify(g_key, H3, NULL, "1234", &rh), 1);
	assert_int_equal(verify(g_key, H3, "", "1234", &rh), 1);
	assert_int_equal(verify(g_key, H3, " ", "1234", &rh), 1);
	assert_int_equal(rh, 1);
	/* privacyIDEA compares the lower-case hex text */
	assert_int_equal(verify(g_key, "03AC674216F3E15C761EE1A5E255F067953623C8B388B4459E13F978D7C846F4", NULL, "1234", &rh),
			 0);
	/* a seed that is not hex cannot be used */
	assert_int_equal(verify(g_key, H1, "xyz", "1234", &rh), -1);
	assert_int_equal(verify(g_key, H1, "abc", "1234", &rh), -1);
	assert_int_equal(rh, 0);
}

static void test_pbkdf2(void **state)
{
	(void)state;
	int rh;
	static const char P1[] = "$pbkdf2-sha512$25000$ZGVmZ2hpamtsbW5vcHFycw$t5QOQt4C5robqKmQBr3RNyFwAReWpuqcSgICx7GOeDOZs7N8"
				 "xzJR7TF8.H/44lSPDZ2EqcJ0rdNxuSuaIjIYeQ";
	static const char P2[] = "$pbkdf2-sha512$1000$ZGVmZ2hpamtsbW5vcHFycw$zhGPIjTBOaskNDbcsEIKTEsA3/RqRObDB8orvMenFM8edQ2"
				 "m8ZrNrtBV56jWejt2DP60gXO.XWLdJE1lJ7YHKA";
	assert_int_equal(verify(g_key, P1, NULL, "1234", &rh), 1);
	assert_int_equal(rh, 1);
	assert_int_equal(verify(g_key, P1, "abcd", "1234", &rh), 1); /* pin_seed unused */
	assert_int_equal(verify(g_key, P1, NULL, "12345", &rh), 0);
	assert_int_equal(rh, 0);
	assert_int_equal(verify(g_key, P2, NULL, "p\xc3\xa4ss", &rh), 1);
	assert_int_equal(rh, 1);
	assert_int_equal(verify(g_key, P2, NULL, "pass", &rh), 0);
}

static void test_argon2(void **state)
{
	(void)state;
	int rh;
	static const char A1[] = "$argon2id$v=19$m=1024,t=2,p=1$oKGio6SlpqeoqaqrrK2urw$Q2OFAtfHfuq02I6GDrSpQQ";
	static const char A2[] = "$argon2i$v=19$m=1024,t=2,p=2$oKGio6SlpqeoqaqrrK2urw$aRO1UbZzv6aUghFo3fJNDw";
	static const char A3[] = "$argon2id$v=19$m=2048,t=3,p=1$oKGio6SlpqeoqaqrrK2urw$goblRjbBLTWWHk/bh66MJQ";
	assert_int_equal(verify(g_key, A1, NULL, "1234", &rh), 1);
	assert_int_equal(rh, 1);
	assert_int_equal(verify(g_key, A1, NULL, "4321", &rh), 0);
	assert_int_equal(rh, 0);
	assert_int_equal(verify(g_key, A2, NULL, "1234", &rh), 1);
	assert_int_equal(rh, 1);
	assert_int_equal(verify(g_key, A2, NULL, "", &rh), 0);
	assert_int_equal(verify(g_key, A3, NULL, "p\xc3\xa4ss", &rh), 1);
	assert_int_equal(verify(g_key, A3, NULL, "pass", &rh), 0);
	/* the type in the prefix is the one used */
	assert_int_equal(verify(g_key, "$argon2i$v=19$m=1024,t=2,p=1$oKGio6SlpqeoqaqrrK2urw$Q2OFAtfHfuq02I6GDrSpQQ", NULL,
				"1234", &rh),
			 0);
}

static void test_argon2_privacyidea_cost(void **state)
{
	(void)state;
	int rh;
	/* passlib's defaults with privacyIDEA's 9 rounds: 100 MiB, 8 lanes */
	static const char A[] = "$argon2id$v=19$m=102400,t=9,p=8$oKGio6SlpqeoqaqrrK2urw$Z6cdBNDmTnbD3I0kazQGZA";
	assert_int_equal(verify(g_key, A, NULL, "1234", &rh), 1);
	assert_int_equal(rh, 1);
}

/* ---- the encrypted form ---- */

static void test_encrypted_vectors(void **state)
{
	(void)state;
	int rh;
	struct error err = { 0 };
	static const char E1[] = "@@000102030405060708090a0b0c0d0e0f:36349ca94e62586dc7585181a29478ba";     /* PKCS#7 */
	static const char E1L[] = "@@000102030405060708090a0b0c0d0e0f:1fb68ed170e2971f56735f146d4fd01b";    /* legacy pad */
	static const char E0[] = "@@000102030405060708090a0b0c0d0e0f:e9c3ef8ab23453e6f0749cd636e7a88e";     /* "" */
	static const char E0L[] = "@@000102030405060708090a0b0c0d0e0f:abad8be0632e39e807b0dfe20b6f4548";    /* "" legacy */
	assert_int_equal(pin_is_encrypted(E1), 1);
	assert_int_equal(verify(g_key, E1, NULL, "1234", &rh), 1);
	assert_int_equal(rh, 0); /* encrypted on purpose: never re-hashed */
	assert_int_equal(verify(g_key, E1L, NULL, "1234", &rh), 1);
	assert_int_equal(rh, 0);
	assert_int_equal(verify(g_key, E1, NULL, "123", &rh), 0);
	assert_int_equal(verify(g_key, E1, NULL, "12345", &rh), 0);
	assert_int_equal(verify(g_key, E0, NULL, "", &rh), 1);
	assert_int_equal(verify(g_key, E0L, NULL, "", &rh), 1);
	assert_int_equal(verify(g_key, E0, NULL, "1234", &rh), 0);
	/* another key cannot decrypt it; a broken value is unreadable */
	assert_int_equal(verify(g_other, E1, NULL, "1234", &rh), -1);
	assert_int_equal(verify(g_key, "@@000102030405060708090a0b0c0d0e0f", NULL, "1234", &rh), -1);
	assert_int_equal(verify(g_key, "@@zz", NULL, "1234", &rh), -1);
	assert_int_equal(rh, 0);

	char *p = pin_decrypt(g_key, E1, &err);
	assert_non_null(p);
	assert_string_equal(p, "1234");
	crypto_free_str(p);
	p = pin_decrypt(g_key, E0L, &err);
	assert_non_null(p);
	assert_string_equal(p, "");
	crypto_free_str(p);
}

static void test_encrypt_roundtrip(void **state)
{
	(void)state;
	struct error err = { 0 };
	int rh;
	char *e = pin_encrypt(g_key, "p\xc3\xa4ss w0rd!", &err);
	assert_non_null(e);
	assert_int_equal(strncmp(e, "@@", 2), 0);
	assert_int_equal(strlen(e), 2 + 32 + 1 + 32); /* 11 bytes: one block */
	assert_int_equal(pin_is_encrypted(e), 1);
	assert_int_equal(verify(g_key, e, NULL, "p\xc3\xa4ss w0rd!", &rh), 1);
	assert_int_equal(rh, 0);
	char *d = pin_decrypt(g_key, e, &err);
	assert_non_null(d);
	assert_string_equal(d, "p\xc3\xa4ss w0rd!");
	crypto_free_str(d);
	crypto_free_str(e);

	e = pin_encrypt(g_key, NULL, &err);
	assert_non_null(e);
	d = pin_decrypt(g_key, e, &err);
	assert_string_equal(d, "");
	crypto_free_str(d);
	crypto_free_str(e);

	/* not the encrypted form */
	err_clear(&err);
	assert_null(pin_decrypt(g_key, KEYED_1234, &err));
	assert_true(err_is_set(&err));
	assert_null(pin_decrypt(g_key, NULL, &err));
	assert_int_equal(pin_is_encrypted(NULL), 0);
	assert_int_equal(pin_is_encrypted(""), 0);
	assert_int_equal(pin_is_encrypted("@"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyed_vectors),
		cmocka_unit_test(test_keyed_needs_the_key),
		cmocka_unit_test(test_hash_roundtrip),
		cmocka_unit_test(test_empty_pin),
		cmocka_unit_test(test_keyed_malformed),
		cmocka_unit_test(test_legacy_sha256),
		cmocka_unit_test(test_pbkdf2),
		cmocka_unit_test(test_argon2),
		cmocka_unit_test(test_argon2_privacyidea_cost),
		cmocka_unit_test(test_encrypted_vectors),
		cmocka_unit_test(test_encrypt_roundtrip),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
