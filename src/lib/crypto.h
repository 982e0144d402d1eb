/*
 * crypto.h — secrets: the encryption key file, value encryption, password
 * hashes, random numbers, constant-time comparison, response signing.
 * All on OpenSSL 3 (and libargon2 / libxcrypt for hash verification).
 * Implemented in crypto.c (key file, values, random, encodings),
 * crypto_hash.c (admin password hashes) and crypto_sign.c (RSA signing).
 *
 * The encryption key file (PI_ENCFILE) is privacyIDEA's: 96 bytes = three
 * AES-256 keys, slot 0 "token" (OTP seeds, encrypted PINs), slot 1
 * "config" (passwords in the configuration), slot 2 "value".  Files longer
 * than 100 bytes are privacyIDEA's passphrase-encrypted key files (not
 * supported yet); every other size is an error.
 *
 * Value encryption is privacyIDEA's DefaultSecurityModule, byte for byte:
 * AES-256-CBC with the slot's key and a random 16-byte IV.
 *   - current padding (what we write): plaintext + PKCS#7 padding.
 *   - legacy padding (privacyIDEA's original scheme, still the default of
 *     privacyIDEA 3.8, where PKCS#7 became an option, #3115): hex(plaintext)
 *     + "\x01\x02" + zero bytes up to a multiple of 16; decryption cuts at
 *     the last "\x01\x02" and hex-decodes what precedes it.
 *   Decryption accepts both: a legacy block never ends in a valid PKCS#7
 *   pad (it ends in 0x00, or in 0x01 0x02), so PKCS#7 is tried first and
 *   legacy is the fallback (privacyIDEA's plan in issue #3273).
 * Storage forms (examples with the key file bytes 00 01 .. 5f, i.e. the
 * CONFIG slot key is 20 21 .. 3f, and IV 00 01 .. 0f):
 *   - passwords / PINs / config values (encryptPassword, encryptPin):
 *     "<hex iv>:<hex ciphertext>", lowercase hex.  "secret", slot CONFIG →
 *     "000102030405060708090a0b0c0d0e0f:f93f85d05fc18069026786830243486b"
 *     (AES-256-CBC over "secret" + ten 0x0a bytes).
 *   - token seeds (Token.key_enc / Token.key_iv): privacyIDEA encrypts the
 *     seed's *hex string* (the otpkey parameter), not the raw seed bytes,
 *     with the TOKEN slot; key_enc is the hex ciphertext, key_iv the hex
 *     IV, and decryption gives the hex string back (SecretObj.getKey()).
 *     crypto_encrypt_split/decrypt_split encrypt/return exactly the bytes
 *     given; crypto_encrypt_seed/crypto_decrypt_seed do the hexlify /
 *     unhexlify so callers handle raw seeds.  Seed "12345678901234567890"
 *     → plaintext "3132333435363738393031323334353637383930" (40 bytes)
 *     + 8 bytes PKCS#7 → key_enc of 96 hex digits, key_iv of 32.
 *   - the same in legacy padding (read only, or written when
 *     crypto_set_padding(CRYPTO_PAD_LEGACY)): "secret" → AES over
 *     "736563726574" 01 02 00 00 (one block) →
 *     "000102030405060708090a0b0c0d0e0f:30076d149d117e27dba1aabbb6585d1f".
 *
 * Returned buffers are malloc'd: free text with crypto_free_str(), binary
 * secrets with crypto_free_secret() (both wipe first), or plain free().
 * Errors: key file and en/decryption problems are privacyIDEA's
 * HSMException (ERRK_PI, ERR_HSM 707); hashing and signing failures are
 * ERRK_INTERNAL.
 */
#ifndef TESSERA_CRYPTO_H
#define TESSERA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

enum crypto_slot { SLOT_TOKEN = 0, SLOT_CONFIG = 1, SLOT_VALUE = 2 };

struct enckey; /* opaque, the 96 bytes kept in locked memory, wiped on free */

#define CRYPTO_ENCKEY_LEN 96
#define CRYPTO_SLOT_KEY_LEN 32

/* Create a new 96-byte random key file with mode 0400; refuses (error) if
 * the file exists.  b64 != NULL: use that base64 value (must be 96 bytes). */
int crypto_create_enckey(const char *path, const char *b64, struct error *err);
/* The key lives in OpenSSL's secure heap when the program initialised one
 * (CRYPTO_secure_malloc_init at start-up), else in its own mlock'ed page
 * excluded from core dumps. */
struct enckey *crypto_load_enckey(const char *path, struct error *err);
void crypto_free_enckey(struct enckey *k);
/* The raw 32-byte key of a slot (for HMAC-keyed PIN hashes etc.). */
const unsigned char *crypto_slot_key(const struct enckey *k, enum crypto_slot slot);

/* Encrypt data → "<hexiv>:<hexct>" (malloc'd). */
char *crypto_encrypt_value(const struct enckey *k, enum crypto_slot slot, const void *data, size_t len,
			   struct error *err);
/* Decrypt "<hexiv>:<hexct>" → malloc'd buffer, NUL-terminated, *len set (len may be NULL). */
unsigned char *crypto_decrypt_value(const struct enckey *k, enum crypto_slot slot, const char *value,
				    size_t *len, struct error *err);
/* Separate-column form used for token seeds: outputs malloc'd hex strings. */
int crypto_encrypt_split(const struct enckey *k, enum crypto_slot slot, const void *data, size_t len,
			 char **hex_ct, char **hex_iv, struct error *err);
unsigned char *crypto_decrypt_split(const struct enckey *k, enum crypto_slot slot, const char *hex_ct,
				    const char *hex_iv, size_t *len, struct error *err);
/* Token seeds as privacyIDEA stores them (see the top of this file): the
 * raw seed is hexlified (lowercase) and encrypted with the TOKEN slot;
 * decryption returns the raw seed (*len bytes, NUL-terminated). */
int crypto_encrypt_seed(const struct enckey *k, const void *seed, size_t len, char **hex_ct, char **hex_iv,
			struct error *err);
unsigned char *crypto_decrypt_seed(const struct enckey *k, const char *hex_ct, const char *hex_iv, size_t *len,
				   struct error *err);

/* Padding used for *new* encryptions (decryption always accepts both).
 * PKCS#7 is the default; LEGACY writes privacyIDEA's old scheme for a
 * privacyIDEA sharing the database that only reads that.  Set once at
 * start-up, before worker threads run. */
enum crypto_padding { CRYPTO_PAD_PKCS7 = 0, CRYPTO_PAD_LEGACY = 1 };
void crypto_set_padding(enum crypto_padding p);

/* Random bytes from OpenSSL's CSPRNG.  0 ok, -1 failure. */
int crypto_random(void *buf, size_t len);
/* Random string of `len` chars drawn from `alphabet` (uniform, no bias:
 * rejection sampling), NUL-terminated: out holds len + 1 bytes. */
int crypto_random_string(char *out, size_t len, const char *alphabet);
/* Random lowercase hex string of 2*nbytes chars + NUL (out: 2*nbytes+1). */
int crypto_random_hex(char *out, size_t nbytes);

/* Constant-time equality of two byte strings (length leak only): 1 equal,
 * 0 different.  crypto_streq: NULL never equals anything. */
int crypto_memeq(const void *a, size_t alen, const void *b, size_t blen);
int crypto_streq(const char *a, const char *b);
/* Wipe then free. */
void crypto_free_secret(void *p, size_t len);
void crypto_free_str(char *s);

/* ---- salted keyed hashes of short secrets (crypto_keyed.c) ----
 * "<prefix><hex 16-byte salt>$<hex HMAC-SHA256(K, salt || parts…)>" with
 * K = HKDF-SHA256(the key file's value slot, info = label).  Each use has
 * its own label (token PINs, the authentication cache).  hash: a new
 * string (free with crypto_free_str) or NULL; verify: 1 match, 0 no match,
 * -1 not this prefix, malformed or error. */
struct crypto_part {
	const void *p;
	size_t len;
};
char *crypto_keyed_hash(const struct enckey *k, const char *label, const char *prefix,
			const struct crypto_part *parts, size_t nparts);
/* 1 when the n characters at s are all hex digits. */
int crypto_is_hex(const char *s, size_t n);
int crypto_keyed_hash_verify(const struct enckey *k, const char *label, const char *prefix, const char *stored,
			     const struct crypto_part *parts, size_t nparts);

/* ---- admin password hashes ----
 * New hashes: passlib-compatible "$pbkdf2-sha512$<rounds>$<ab64 salt>$<ab64 hash>"
 * over PI_PEPPER + password (as privacyIDEA's hash_with_pepper does:
 * the pepper first, then the password, as UTF-8), 16-byte random salt,
 * CRYPTO_PBKDF2_ROUNDS rounds, 64-byte PBKDF2-HMAC-SHA512 checksum; ab64 is
 * standard base64 with '.' for '+' and no '=' padding.
 * Verification (always of pepper + password) accepts that format with any
 * rounds, argon2 ($argon2id$/$argon2i$/$argon2d$, PHC strings as passlib
 * writes them) and crypt(3) formats ($6$ $5$ $y$ $2b$ $2a$ $2y$ $1$).
 * pepper NULL means "".  Returns 1 match, 0 no match, -1 error (malformed
 * or unsupported hash). */
#define CRYPTO_PBKDF2_ROUNDS 210000
char *crypto_hash_admin_password(const char *pepper, const char *password, struct error *err);
int crypto_verify_admin_password(const char *pepper, const char *password, const char *hash);
/* A dummy verification with the same cost, for unknown users (timing). */
void crypto_dummy_verify(const char *pepper, const char *password);

/* ---- hex / base64 helpers ----
 * All results are malloc'd and NUL-terminated (decoders: *len excludes the
 * NUL).  Decoders return NULL on malformed input. */
char *crypto_hex_encode(const void *data, size_t len);                 /* lowercase */
/* Odd length or a non-hex char → NULL; upper and lower case accepted. */
unsigned char *crypto_hex_decode(const char *hex, size_t *len);
char *crypto_b64_encode(const void *data, size_t len);                 /* standard, padded */
/* Standard alphabet; '=' padding optional but correct when present; no
 * whitespace. */
unsigned char *crypto_b64_decode(const char *b64, size_t *len);
char *crypto_b64url_encode(const void *data, size_t len);              /* unpadded */
/* Strict (JWT): URL alphabet, no padding, unused trailing bits zero. */
unsigned char *crypto_b64url_decode(const char *s, size_t *len);

/* ---- RSA keys for audit and response signing ---- */
/* Write a new RSA key pair: private key PKCS#8 PEM ("BEGIN PRIVATE KEY",
 * unencrypted) mode 0400, public key SubjectPublicKeyInfo PEM ("BEGIN
 * PUBLIC KEY") mode 0644; refuses to overwrite either.  bits <= 0 means
 * 2048; 2048..16384 accepted. */
int crypto_create_audit_keys(const char *priv_path, const char *pub_path, int bits, struct error *err);
struct signer; /* loaded private key */
/* PEM RSA private key, PKCS#1 or PKCS#8 (unencrypted). */
struct signer *crypto_signer_load(const char *priv_path, struct error *err);
void crypto_signer_free(struct signer *s);
/* RSA-PSS (MGF1-SHA256, maximum salt) SHA-256 over data →
 * "rsa_sha256_pss:<lowercase hex>" (malloc'd), as privacyIDEA's Sign.sign
 * does over the UTF-8 bytes of the string.  Thread-safe. */
char *crypto_sign(struct signer *s, const void *data, size_t len, struct error *err);
/* Verify such a signature with a public key file (PEM SubjectPublicKeyInfo
 * or PKCS#1; tests, audit check); PSS salt length auto-detected.
 * Returns 1 valid, 0 invalid, -1 the key cannot be read. */
int crypto_verify_signature(const char *pub_path, const void *data, size_t len, const char *sig);

#endif
