/*
 * crypto_keyed.c — salted keyed hashes of short secrets (crypto.h):
 *     "<prefix><hex salt 16 bytes>$<hex HMAC-SHA256(K, salt || parts…)>"
 * with K = HKDF-SHA256(IKM = the key file's value slot, no salt,
 * info = a label of the caller, 32 bytes).  K lives on the stack for one
 * call and is wiped.  Used for token PINs (pin.c) and the authentication
 * cache (token_authcache.c), each with its own label, so a value of one
 * can never verify as the other.  Must not log; compares in constant time.
 */
#include "crypto.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define KH_SALT_LEN 16
#define KH_MAC_LEN 32
#define KH_KEY_LEN 32

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

static int derive_key(const struct enckey *k, const char *label, unsigned char out[KH_KEY_LEN])
{
	const unsigned char *ikm = k ? crypto_slot_key(k, SLOT_VALUE) : NULL;
	if (!ikm || !label || pthread_once(&algs_once, algs_fetch) != 0 || !hkdf_alg)
		return -1;
	EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(hkdf_alg);
	if (!kctx)
		return -1;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, CRYPTO_SLOT_KEY_LEN),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label, strlen(label)),
		OSSL_PARAM_construct_end(),
	};
	int rc = EVP_KDF_derive(kctx, out, KH_KEY_LEN, params) == 1 ? 0 : -1;
	EVP_KDF_CTX_free(kctx);
	return rc;
}

static int keyed_mac(const struct enckey *k, const char *label, const unsigned char salt[KH_SALT_LEN],
		     const struct crypto_part *parts, size_t nparts, unsigned char mac[KH_MAC_LEN])
{
	unsigned char key[KH_KEY_LEN];
	int rc = -1;
	EVP_MAC_CTX *mctx = NULL;
	if (derive_key(k, label, key) < 0 || !hmac_alg)
		goto out;
	mctx = EVP_MAC_CTX_new(hmac_alg);
	if (!mctx)
		goto out;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if (EVP_MAC_init(mctx, key, sizeof(key), params) != 1 || EVP_MAC_update(mctx, salt, KH_SALT_LEN) != 1)
		goto out;
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].len && EVP_MAC_update(mctx, parts[i].p, parts[i].len) != 1)
			goto out;
	size_t n = 0;
	if (EVP_MAC_final(mctx, mac, &n, KH_MAC_LEN) == 1 && n == KH_MAC_LEN)
		rc = 0;
out:
	EVP_MAC_CTX_free(mctx);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

char *crypto_keyed_hash(const struct enckey *k, const char *label, const char *prefix,
			const struct crypto_part *parts, size_t nparts)
{
	unsigned char salt[KH_SALT_LEN], mac[KH_MAC_LEN];
	char *out = NULL, *hs = NULL, *hm = NULL;
	if (crypto_random(salt, sizeof(salt)) < 0 || keyed_mac(k, label, salt, parts, nparts, mac) < 0)
		goto out;
	hs = crypto_hex_encode(salt, sizeof(salt));
	hm = crypto_hex_encode(mac, sizeof(mac));
	size_t n = strlen(prefix) + 2 * KH_SALT_LEN + 1 + 2 * KH_MAC_LEN + 1;
	out = hs && hm ? malloc(n) : NULL;
	if (out)
		snprintf(out, n, "%s%s$%s", prefix, hs, hm);
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	free(hs);
	crypto_free_str(hm);
	return out;
}

int crypto_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

int crypto_keyed_hash_verify(const struct enckey *k, const char *label, const char *prefix, const char *stored,
			     const struct crypto_part *parts, size_t nparts)
{
	size_t plen = strlen(prefix);
	if (!stored || strncmp(stored, prefix, plen) != 0)
		return -1;
	const char *s = stored + plen;
	if (strlen(s) != 2 * KH_SALT_LEN + 1 + 2 * KH_MAC_LEN || s[2 * KH_SALT_LEN] != '$' ||
	    !crypto_is_hex(s, 2 * KH_SALT_LEN) || !crypto_is_hex(s + 2 * KH_SALT_LEN + 1, 2 * KH_MAC_LEN))
		return -1;
	char salt_hex[2 * KH_SALT_LEN + 1];
	memcpy(salt_hex, s, 2 * KH_SALT_LEN);
	salt_hex[2 * KH_SALT_LEN] = '\0';
	size_t slen = 0, mlen = 0;
	unsigned char *salt = crypto_hex_decode(salt_hex, &slen);
	unsigned char *want = crypto_hex_decode(s + 2 * KH_SALT_LEN + 1, &mlen);
	unsigned char mac[KH_MAC_LEN];
	int rc = -1;
	if (salt && want && slen == KH_SALT_LEN && mlen == KH_MAC_LEN &&
	    keyed_mac(k, label, salt, parts, nparts, mac) == 0)
		rc = CRYPTO_memcmp(mac, want, KH_MAC_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	free(salt);
	crypto_free_secret(want, mlen);
	return rc;
}
