/*
 * crypto.h — secrets: the encryption key file, value encryption, password
 * hashes, random numbers, constant-time comparison, response signing.
 * All on OpenSSL 3 (and libargon2 / libxcrypt for hash verification).
 *
 * The encryption key file (PI_ENCFILE) is privacyIDEA's: 96 bytes = three
 * AES-256 keys, slot 0 "token" (OTP seeds, encrypted PINs), slot 1
 * "config" (passwords in the configuration), slot 2 "value".  Values are
 * AES-256-CBC with a random 16-byte IV and PKCS#7 padding, written as
 * privacyIDEA writes them, so a privacyIDEA database decrypts here:
 *   - passwords/config values: "<hex iv>:<hex ciphertext>"
 *   - token seeds: hex ciphertext and hex iv in separate columns.
 * Decryption also accepts privacyIDEA's legacy padding (hexlified data +
 * "\x01\x02" + zero padding).
 */
#ifndef TESSERA_CRYPTO_H
#define TESSERA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

enum crypto_slot { SLOT_TOKEN = 0, SLOT_CONFIG = 1, SLOT_VALUE = 2 };

struct enckey; /* opaque, the 96 bytes kept in locked memory, wiped on free */

/* Create a new 96-byte random key file with mode 0400; refuses (error) if
 * the file exists.  b64 != NULL: use that base64 value (must be 96 bytes). */
int crypto_create_enckey(const char *path, const char *b64, struct error *err);
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

/* Random bytes from OpenSSL's CSPRNG. */
int crypto_random(void *buf, size_t len);
/* Random string of `len` chars drawn from `alphabet` (uniform, no bias). */
int crypto_random_string(char *out, size_t len, const char *alphabet);
/* Random lowercase hex string of 2*nbytes chars + NUL. */
int crypto_random_hex(char *out, size_t nbytes);

/* Constant-time equality of two byte strings (length leak only). */
int crypto_memeq(const void *a, size_t alen, const void *b, size_t blen);
int crypto_streq(const char *a, const char *b);
/* Wipe then free. */
void crypto_free_secret(void *p, size_t len);
void crypto_free_str(char *s);

/* ---- admin password hashes ----
 * New hashes: passlib-compatible "$pbkdf2-sha512$<rounds>$<ab64 salt>$<ab64 hash>"
 * over PI_PEPPER + password (as privacyIDEA's hash_with_pepper does).
 * Verification accepts that format, argon2 ($argon2id$/$argon2i$) and
 * crypt(3) formats.  Returns 1 match, 0 no match, -1 error. */
char *crypto_hash_admin_password(const char *pepper, const char *password, struct error *err);
int crypto_verify_admin_password(const char *pepper, const char *password, const char *hash);
/* A dummy verification with the same cost, for unknown users (timing). */
void crypto_dummy_verify(const char *pepper, const char *password);

/* ---- hex / base64 helpers ---- */
char *crypto_hex_encode(const void *data, size_t len);                 /* malloc'd */
unsigned char *crypto_hex_decode(const char *hex, size_t *len);        /* NULL on bad hex */
char *crypto_b64_encode(const void *data, size_t len);                 /* standard, padded */
unsigned char *crypto_b64_decode(const char *b64, size_t *len);
char *crypto_b64url_encode(const void *data, size_t len);              /* unpadded */
unsigned char *crypto_b64url_decode(const char *s, size_t *len);

/* ---- RSA keys for audit and response signing ---- */
/* Write a new RSA key pair (PEM, private mode 0400); refuses to overwrite. */
int crypto_create_audit_keys(const char *priv_path, const char *pub_path, int bits, struct error *err);
struct signer; /* loaded private key */
struct signer *crypto_signer_load(const char *priv_path, struct error *err);
void crypto_signer_free(struct signer *s);
/* RSA-PSS (MGF1-SHA256, maximum salt) SHA-256 over data →
 * "rsa_sha256_pss:<hex>" (malloc'd).  Thread-safe. */
char *crypto_sign(struct signer *s, const void *data, size_t len, struct error *err);
/* Verify such a signature with a public key file (tests, audit check). */
int crypto_verify_signature(const char *pub_path, const void *data, size_t len, const char *sig);

#endif
