/*
 * pin.c — storing and checking token PINs (pin.h; the reasoning is in
 * docs/security.md).
 *
 * New PINs: "tpin1$<hex salt>$<hex HMAC-SHA256(K, salt || pin)>" with
 * K = HKDF-SHA256(IKM = the key file's value slot, no salt,
 * info = "tessera pin hash v1", 32 bytes).  K exists only on the stack
 * for the duration of one call and is wiped afterwards.
 * Legacy forms written by privacyIDEA are verified and flagged for
 * re-storing: passlib argon2 / pbkdf2-sha512 / crypt(3) strings (PIN
 * hashes are not peppered: privacyIDEA's set_pin calls pass_hash(pin),
 * not hash_with_pepper), and the old hex(sha256(pin || unhex(pin_seed))).
 * "@@<iv>:<ct>" is the recoverable, encrypted form (token slot).
 *
 * This file must not log, and must not compare secrets with strcmp/memcmp.
 */
#include "pin.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto.h"

#define PIN_PREFIX "tpin1$"
#define PIN_SALT_LEN 16
#define PIN_MAC_LEN 32
#define PIN_KEY_LEN 32
#define PIN_HKDF_INFO "tessera pin hash v1"
#define ENC_PREFIX "@@"
#define LEGACY_HEX_LEN 64 /* hex(sha256) */

/* ---- the keyed hash ---- */

/* Fetching an algorithm is the expensive part of an OpenSSL 3 call; the
 * fetched objects are immutable and may be shared by every thread. */
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_KDF *hkdf_alg;
static EVP_MAC *hmac_alg;

static void algs_fetch(void)
{
	hkdf_alg = EVP_KDF_fetch(NULL, "HKDF", NULL);
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* K from the value slot of the key file. */
static int derive_key(const struct enckey *k, unsigned char out[PIN_KEY_LEN])
{
	const unsigned char *ikm = crypto_slot_key(k, SLOT_VALUE);
	if (!ikm || pthread_once(&algs_once, algs_fetch) != 0 || !hkdf_alg)
		return -1;
	EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(hkdf_alg);
	if (!kctx)
		return -1;
	char digest[] = "SHA256";
	char info[] = PIN_HKDF_INFO;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, CRYPTO_SLOT_KEY_LEN),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info) - 1),
		OSSL_PARAM_construct_end(),
	};
	int rc = EVP_KDF_derive(kctx, out, PIN_KEY_LEN, params) == 1 ? 0 : -1;
	EVP_KDF_CTX_free(kctx);
	return rc;
}

/* mac = HMAC-SHA256(K, salt || pin) */
static int keyed_mac(const struct enckey *k, const unsigned char salt[PIN_SALT_LEN], const char *pin,
		     unsigned char mac[PIN_MAC_LEN])
{
	unsigned char key[PIN_KEY_LEN];
	int rc = -1;
	EVP_MAC_CTX *mctx = NULL;
	if (derive_key(k, key) < 0 || !hmac_alg)
		goto out;
	mctx = EVP_MAC_CTX_new(hmac_alg);
	if (!mctx)
		goto out;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	size_t n = 0;
	if (EVP_MAC_init(mctx, key, sizeof(key), params) == 1 && EVP_MAC_update(mctx, salt, PIN_SALT_LEN) == 1 &&
	    EVP_MAC_update(mctx, (const unsigned char *)pin, strlen(pin)) == 1 &&
	    EVP_MAC_final(mctx, mac, &n, PIN_MAC_LEN) == 1 && n == PIN_MAC_LEN)
		rc = 0;
out:
	EVP_MAC_CTX_free(mctx);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *pin_hash(const struct enckey *k, const char *pin, struct error *err)
{
	unsigned char salt[PIN_SALT_LEN], mac[PIN_MAC_LEN];
	char *out = NULL, *hs = NULL, *hm = NULL;
	if (!pin || !*pin) {
		out = strdup("");
		if (!out)
			err_internal(err, "out of memory");
		return out;
	}
	if (crypto_random(salt, sizeof(salt)) < 0 || keyed_mac(k, salt, pin, mac) < 0) {
		err_internal(err, "cannot hash the PIN");
		goto out;
	}
	hs = crypto_hex_encode(salt, sizeof(salt));
	hm = crypto_hex_encode(mac, sizeof(mac));
	size_t n = sizeof(PIN_PREFIX) + 2 * PIN_SALT_LEN + 1 + 2 * PIN_MAC_LEN;
	out = hs && hm ? malloc(n) : NULL;
	if (!out) {
		err_internal(err, "out of memory");
		goto out;
	}
	snprintf(out, n, PIN_PREFIX "%s$%s", hs, hm);
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	free(hs);
	crypto_free_str(hm);
	return out;
}

/* "tpin1$<32 hex>$<64 hex>" */
static int verify_keyed(const struct enckey *k, const char *stored, const char *pin)
{
	const char *s = stored + strlen(PIN_PREFIX);
	if (strlen(s) != 2 * PIN_SALT_LEN + 1 + 2 * PIN_MAC_LEN || s[2 * PIN_SALT_LEN] != '$' ||
	    !is_hex(s, 2 * PIN_SALT_LEN) || !is_hex(s + 2 * PIN_SALT_LEN + 1, 2 * PIN_MAC_LEN))
		return -1;
	char salt_hex[2 * PIN_SALT_LEN + 1];
	memcpy(salt_hex, s, 2 * PIN_SALT_LEN);
	salt_hex[2 * PIN_SALT_LEN] = '\0';
	size_t slen = 0, mlen = 0;
	unsigned char *salt = crypto_hex_decode(salt_hex, &slen);
	unsigned char *want = crypto_hex_decode(s + 2 * PIN_SALT_LEN + 1, &mlen);
	unsigned char mac[PIN_MAC_LEN];
	int rc = -1;
	if (salt && want && slen == PIN_SALT_LEN && mlen == PIN_MAC_LEN && keyed_mac(k, salt, pin, mac) == 0)
		rc = CRYPTO_memcmp(mac, want, PIN_MAC_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	free(salt);
	crypto_free_secret(want, mlen);
	return rc;
}

/* ---- privacyIDEA's forms ---- */

/* hex(sha256(pin || unhexlify(pin_seed))), lower case, compared with the
 * stored text as privacyIDEA's Token.check_pin does.  A seed of one space
 * is empty (privacyIDEA's fix for MS SQL). */
static int verify_legacy_sha256(const char *stored, const char *pin_seed, const char *pin)
{
	if (!pin_seed || !strcmp(pin_seed, " "))
		pin_seed = "";
	size_t seedlen = 0;
	unsigned char *seed = crypto_hex_decode(pin_seed, &seedlen);
	if (!seed)
		return -1;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *hex = NULL;
	int rc = -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, pin, strlen(pin)) == 1 &&
	    EVP_DigestUpdate(ctx, seed, seedlen) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
	    mdlen == sizeof(md) && (hex = crypto_hex_encode(md, sizeof(md))) != NULL)
		rc = crypto_memeq(hex, strlen(hex), stored, strlen(stored));
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(md, sizeof(md));
	crypto_free_str(hex);
	free(seed);
	return rc;
}

/* passlib strings privacyIDEA's CryptContext may have written: its
 * default list (argon2, pbkdf2_sha512) and, for PI_HASH_ALGO_LIST
 * variants, the crypt(3) schemes the admin-password verifier knows. */
static int is_passlib(const char *stored)
{
	static const char *const prefixes[] = { "$argon2id$", "$argon2i$", "$argon2d$", "$pbkdf2-sha512$",
						"$6$",        "$5$",       "$y$",       "$2b$",
						"$2a$",       "$2y$",      NULL };
	for (const char *const *p = prefixes; *p; p++)
		if (has_prefix(stored, *p))
			return 1;
	return 0;
}

static int verify_encrypted(const struct enckey *k, const char *stored, const char *pin)
{
	size_t len = 0;
	unsigned char *plain = crypto_decrypt_value(k, SLOT_TOKEN, stored + strlen(ENC_PREFIX), &len, NULL);
	if (!plain)
		return -1;
	int rc = crypto_memeq(plain, len, pin, strlen(pin));
	crypto_free_secret(plain, len);
	return rc;
}

int pin_verify(const struct enckey *k, const char *stored, const char *pin_seed, const char *pin, int *rehash)
{
	int legacy = 0, rc;
	if (rehash)
		*rehash = 0;
	if (!pin)
		return 0;
	if (!stored || !*stored) /* no PIN set: only the empty PIN matches */
		return *pin == '\0';
	if (has_prefix(stored, PIN_PREFIX)) {
		rc = verify_keyed(k, stored, pin);
	} else if (has_prefix(stored, ENC_PREFIX)) {
		rc = verify_encrypted(k, stored, pin);
	} else if (is_passlib(stored)) {
		/* pepper NULL: privacyIDEA's PIN hashes are not peppered */
		rc = crypto_verify_admin_password(NULL, pin, stored);
		legacy = 1;
	} else if (strlen(stored) == LEGACY_HEX_LEN && is_hex(stored, LEGACY_HEX_LEN)) {
		rc = verify_legacy_sha256(stored, pin_seed, pin);
		legacy = 1;
	} else {
		rc = -1;
	}
	if (rc == 1 && legacy && rehash)
		*rehash = 1;
	return rc;
}

/* ---- the recoverable form ---- */

int pin_is_encrypted(const char *stored)
{
	return stored && has_prefix(stored, ENC_PREFIX);
}

char *pin_encrypt(const struct enckey *k, const char *pin, struct error *err)
{
	if (!pin)
		pin = "";
	char *enc = crypto_encrypt_value(k, SLOT_TOKEN, pin, strlen(pin), err);
	if (!enc)
		return NULL;
	size_t n = strlen(ENC_PREFIX) + strlen(enc) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, ENC_PREFIX "%s", enc);
	else
		err_internal(err, "out of memory");
	free(enc);
	return out;
}

char *pin_decrypt(const struct enckey *k, const char *stored, struct error *err)
{
	if (!pin_is_encrypted(stored)) {
		err_internal(err, "the stored PIN is not in the encrypted form");
		return NULL;
	}
	return (char *)crypto_decrypt_value(k, SLOT_TOKEN, stored + strlen(ENC_PREFIX), NULL, err);
}
