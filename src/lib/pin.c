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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto.h"

#define PIN_PREFIX "tpin1$"
#define PIN_HKDF_INFO "tessera pin hash v1"
#define ENC_PREFIX "@@"
#define LEGACY_HEX_LEN 64 /* hex(sha256) */

/* ---- the keyed hash (crypto_keyed.c) ---- */

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *pin_hash(const struct enckey *k, const char *pin, struct error *err)
{
	char *out;
	if (!pin || !*pin) {
		out = strdup("");
		if (!out)
			err_internal(err, "out of memory");
		return out;
	}
	struct crypto_part part = { pin, strlen(pin) };
	out = crypto_keyed_hash(k, PIN_HKDF_INFO, PIN_PREFIX, &part, 1);
	if (!out)
		err_internal(err, "cannot hash the PIN");
	return out;
}

/* "tpin1$<32 hex>$<64 hex>" */
static int verify_keyed(const struct enckey *k, const char *stored, const char *pin)
{
	struct crypto_part part = { pin, strlen(pin) };
	return crypto_keyed_hash_verify(k, PIN_HKDF_INFO, PIN_PREFIX, stored, &part, 1);
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
	} else if (strlen(stored) == LEGACY_HEX_LEN && crypto_is_hex(stored, LEGACY_HEX_LEN)) {
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
