/*
 * crypto_hash.c — admin password hashes (privacyIDEA's hash_with_pepper /
 * verify_with_pepper): always over PI_PEPPER + password, pepper first.
 *
 * New hashes are passlib's pbkdf2_sha512 strings
 *   $pbkdf2-sha512$<rounds>$<ab64 salt>$<ab64 checksum>
 * (ab64 = base64 with '.' instead of '+', no padding; checksum = 64 bytes
 * of PBKDF2-HMAC-SHA512).  Verification also takes passlib's argon2 PHC
 * strings (libargon2) and crypt(3) strings (libxcrypt).  Every comparison
 * of derived bytes is constant-time; buffers that held the password are
 * wiped.  This file never logs.
 */
#include "crypto.h"

#include <argon2.h>
#include <crypt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define PBKDF2_PREFIX "$pbkdf2-sha512$"
#define PBKDF2_SALT_LEN 16
#define PBKDF2_HASH_LEN 64
#define PBKDF2_MAX_SALT 1024 /* passlib's limit */

/* A real pbkdf2-sha512 hash at the default rounds (of a random password
 * nobody knows); crypto_dummy_verify checks against it so an unknown user
 * costs what a wrong password costs. */
static const char DUMMY_HASH[] =
	"$pbkdf2-sha512$210000$kizfHot6VjTImS/vDsM8jQ$"
	"vCmFgVvbRqC1XV5ZrFX14rYMY6IilxS8RKpuxl4h6uCqH9Jay0GX9zU7bn.bYx5KRM0olHnUw3EObOYs5EACnw";

/* pepper + password in one wiped buffer */
static char *peppered(const char *pepper, const char *password, size_t *len)
{
	size_t lp = pepper ? strlen(pepper) : 0, lw = password ? strlen(password) : 0;
	if (lp > SIZE_MAX - lw - 1)
		return NULL;
	char *s = malloc(lp + lw + 1);
	if (!s)
		return NULL;
	if (lp)
		memcpy(s, pepper, lp);
	if (lw)
		memcpy(s + lp, password, lw);
	s[lp + lw] = '\0';
	*len = lp + lw;
	return s;
}

static char *ab64_encode(const unsigned char *d, size_t n)
{
	char *s = crypto_b64_encode(d, n);
	if (!s)
		return NULL;
	for (char *p = s; *p; p++)
		if (*p == '+')
			*p = '.';
	char *eq = strchr(s, '=');
	if (eq)
		*eq = '\0';
	return s;
}

/* Decode n chars of ab64 (no '+' or '=' allowed, as passlib writes it). */
static unsigned char *ab64_decode(const char *s, size_t n, size_t *len)
{
	char *t = malloc(n + 1);
	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+' || c == '=' || c == '\0') {
			free(t);
			return NULL;
		}
		t[i] = c == '.' ? '+' : c;
	}
	t[n] = '\0';
	unsigned char *d = crypto_b64_decode(t, len);
	free(t);
	return d;
}

static int pbkdf2(const char *pw, size_t pwlen, const unsigned char *salt, size_t saltlen, int rounds,
		  unsigned char out[PBKDF2_HASH_LEN])
{
	if (pwlen > INT_MAX || saltlen > INT_MAX)
		return -1;
	return PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)saltlen, rounds, EVP_sha512(), PBKDF2_HASH_LEN, out) ==
			       1
		       ? 0
		       : -1;
}

char *crypto_hash_admin_password(const char *pepper, const char *password, struct error *err)
{
	unsigned char salt[PBKDF2_SALT_LEN], dk[PBKDF2_HASH_LEN];
	size_t pwlen = 0;
	char *pw = peppered(pepper, password, &pwlen), *s64 = NULL, *h64 = NULL, *out = NULL;

	if (!pw) {
		err_internal(err, "out of memory");
		return NULL;
	}
	if (crypto_random(salt, sizeof(salt)) < 0 ||
	    pbkdf2(pw, pwlen, salt, sizeof(salt), CRYPTO_PBKDF2_ROUNDS, dk) < 0) {
		err_internal(err, "cannot hash the password");
		goto out;
	}
	s64 = ab64_encode(salt, sizeof(salt));
	h64 = ab64_encode(dk, sizeof(dk));
	size_t n = s64 && h64 ? sizeof(PBKDF2_PREFIX) + 12 + strlen(s64) + strlen(h64) + 3 : 0;
	out = n ? malloc(n) : NULL;
	if (!out) {
		err_internal(err, "out of memory");
		goto out;
	}
	snprintf(out, n, PBKDF2_PREFIX "%d$%s$%s", CRYPTO_PBKDF2_ROUNDS, s64, h64);
out:
	crypto_free_secret(pw, pwlen);
	crypto_free_str(h64);
	free(s64);
	OPENSSL_cleanse(dk, sizeof(dk));
	return out;
}

/* "$pbkdf2-sha512$<rounds>$<salt>$<checksum>": passlib's rules — decimal
 * rounds >= 1 without leading zeros, 64-byte checksum. */
static int verify_pbkdf2(const char *pw, size_t pwlen, const char *hash)
{
	const char *p = hash + strlen(PBKDF2_PREFIX);
	const char *d1 = strchr(p, '$');
	const char *d2 = d1 ? strchr(d1 + 1, '$') : NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '$') || d1 == p || (*p == '0'))
		return -1;
	long long rounds = 0;
	for (const char *q = p; q < d1; q++) {
		if (*q < '0' || *q > '9')
			return -1;
		rounds = rounds * 10 + (*q - '0');
		if (rounds > INT_MAX)
			return -1;
	}
	size_t saltlen = 0, cklen = 0;
	unsigned char *salt = ab64_decode(d1 + 1, (size_t)(d2 - d1 - 1), &saltlen);
	unsigned char *ck = ab64_decode(d2 + 1, strlen(d2 + 1), &cklen);
	unsigned char dk[PBKDF2_HASH_LEN];
	int rc = -1;
	if (salt && ck && saltlen <= PBKDF2_MAX_SALT && cklen == PBKDF2_HASH_LEN &&
	    pbkdf2(pw, pwlen, salt, saltlen, (int)rounds, dk) == 0)
		rc = CRYPTO_memcmp(dk, ck, PBKDF2_HASH_LEN) == 0;
	OPENSSL_cleanse(dk, sizeof(dk));
	free(salt);
	free(ck);
	return rc;
}

static int verify_argon2(const char *pw, size_t pwlen, const char *hash, argon2_type type)
{
	/* argon2_verify recomputes and compares in constant time itself */
	int r = argon2_verify(hash, pw, pwlen, type);
	if (r == ARGON2_OK)
		return 1;
	if (r == ARGON2_VERIFY_MISMATCH)
		return 0;
	return -1;
}

static int verify_crypt(const char *pw, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -1;
	int rc = -1;
	char *res = crypt_rn(pw, hash, cd, (int)sizeof(*cd));
	if (res && res[0] != '*') {
		size_t n = strlen(res);
		rc = n == strlen(hash) && CRYPTO_memcmp(res, hash, n) == 0;
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return rc;
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int crypto_verify_admin_password(const char *pepper, const char *password, const char *hash)
{
	static const char *const crypt_prefixes[] = {"$6$", "$5$", "$y$", "$2b$", "$2a$", "$2y$", "$1$", NULL};
	size_t pwlen = 0;
	int rc = -1;

	if (!hash)
		return -1;
	char *pw = peppered(pepper, password, &pwlen);
	if (!pw)
		return -1;
	if (has_prefix(hash, PBKDF2_PREFIX)) {
		rc = verify_pbkdf2(pw, pwlen, hash);
	} else if (has_prefix(hash, "$argon2id$")) {
		rc = verify_argon2(pw, pwlen, hash, Argon2_id);
	} else if (has_prefix(hash, "$argon2i$")) {
		rc = verify_argon2(pw, pwlen, hash, Argon2_i);
	} else if (has_prefix(hash, "$argon2d$")) {
		rc = verify_argon2(pw, pwlen, hash, Argon2_d);
	} else {
		for (const char *const *p = crypt_prefixes; *p; p++)
			if (has_prefix(hash, *p)) {
				rc = verify_crypt(pw, hash);
				break;
			}
	}
	crypto_free_secret(pw, pwlen);
	return rc;
}

void crypto_dummy_verify(const char *pepper, const char *password)
{
	(void)crypto_verify_admin_password(pepper, password, DUMMY_HASH);
}
