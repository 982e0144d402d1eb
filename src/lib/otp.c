/*
 * otp.c — HOTP/TOTP computation and checks, hash names, the otpkey formats
 * and the 2-step key derivation (see otp.h for the privacyIDEA facts).
 *
 * Must not: log, touch the database, or leave key material behind.  Every
 * HMAC output and every computed OTP string is wiped with OPENSSL_cleanse.
 */
#include "otp.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto.h"

static const struct {
	const char *name;   /* privacyIDEA's hashlib value */
	const char *ossl;   /* OpenSSL digest name */
	size_t mdlen;
	size_t keysize;     /* privacyIDEA's default key size */
} HASHES[] = {
	[OTP_HASH_SHA1] = {"sha1", "SHA1", 20, 20},
	[OTP_HASH_SHA224] = {"sha224", "SHA224", 28, 20},
	[OTP_HASH_SHA256] = {"sha256", "SHA256", 32, 32},
	[OTP_HASH_SHA384] = {"sha384", "SHA384", 48, 20},
	[OTP_HASH_SHA512] = {"sha512", "SHA512", 64, 64},
};
#define NHASHES (sizeof(HASHES) / sizeof(HASHES[0]))

static const uint32_t POW10[] = {1,	 10,	  100,	    1000,      10000,
				 100000, 1000000, 10000000, 100000000, 1000000000};

static int hash_ok(enum otp_hash h)
{
	return (unsigned)h < NHASHES;
}

int otp_hash_parse(const char *name, enum otp_hash *out)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < NHASHES; i++) {
		if (strcasecmp(name, HASHES[i].name) == 0) {
			if (out)
				*out = (enum otp_hash)i;
			return 0;
		}
	}
	return -1;
}

const char *otp_hash_name(enum otp_hash h)
{
	return hash_ok(h) ? HASHES[h].name : "sha1";
}

size_t otp_hash_keysize(enum otp_hash h)
{
	return hash_ok(h) ? HASHES[h].keysize : 20;
}

size_t otp_hash_mdlen(enum otp_hash h)
{
	return hash_ok(h) ? HASHES[h].mdlen : 0;
}

int otp_digits_valid(int digits)
{
	return digits >= OTP_DIGITS_MIN && digits <= OTP_DIGITS_MAX;
}

/* ---- HMAC with one key, many counters ---- */

struct hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

static void hmac_done(struct hmac *h)
{
	EVP_MAC_CTX_free(h->ctx); /* OpenSSL wipes the key schedule */
	EVP_MAC_free(h->mac);
	h->ctx = NULL;
	h->mac = NULL;
}

static int hmac_setup(struct hmac *h, const unsigned char *key, size_t keylen, enum otp_hash hash)
{
	/* EVP_MAC_init treats a NULL key as "keep the old one"; an empty key
	 * must still be a key. */
	static const unsigned char empty[1];
	OSSL_PARAM params[2];

	h->ctx = NULL;
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (h->mac == NULL)
		return -1;
	h->ctx = EVP_MAC_CTX_new(h->mac);
	if (h->ctx == NULL)
		goto fail;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)HASHES[hash].ossl, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_CTX_set_params(h->ctx, params))
		goto fail;
	if (!EVP_MAC_init(h->ctx, keylen ? key : empty, keylen, NULL))
		goto fail;
	return 0;
fail:
	hmac_done(h);
	return -1;
}

/* The OTP for one counter into out (digits chars + NUL).  first: the
 * context was just initialised with the key. */
static int hmac_otp(struct hmac *h, int first, uint64_t counter, int digits, char *out)
{
	unsigned char msg[8], md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	int rc = -1;

	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	if (!first && !EVP_MAC_init(h->ctx, NULL, 0, NULL))
		goto out;
	if (!EVP_MAC_update(h->ctx, msg, sizeof(msg)) || !EVP_MAC_final(h->ctx, md, &mdlen, sizeof(md)))
		goto out;
	if (mdlen < 20)
		goto out;
	/* RFC 4226 §5.3 dynamic truncation */
	unsigned off = md[mdlen - 1] & 0x0f;
	uint32_t bin = (uint32_t)(md[off] & 0x7f) << 24 | (uint32_t)md[off + 1] << 16 | (uint32_t)md[off + 2] << 8 |
		       (uint32_t)md[off + 3];
	uint32_t v = bin % POW10[digits];
	for (int i = digits - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	out[digits] = '\0';
	bin = 0;
	rc = 0;
out:
	OPENSSL_cleanse(md, sizeof(md));
	OPENSSL_cleanse(msg, sizeof(msg));
	return rc;
}

static int check_args(const unsigned char *key, size_t keylen, int digits, enum otp_hash hash)
{
	if (!otp_digits_valid(digits) || !hash_ok(hash))
		return -1;
	if (key == NULL && keylen != 0)
		return -1;
	return 0;
}

int otp_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits, enum otp_hash hash,
	     char out[OTP_BUF_LEN], struct error *err)
{
	struct hmac h;

	if (!otp_digits_valid(digits))
		return err_set(err, ERRK_PI, ERR_PARAMETER, "The OTP length must be %d, %d or %d digits, not %d.",
			       OTP_DIGITS_MIN, OTP_DIGITS_MIN + 1, OTP_DIGITS_MAX, digits);
	if (check_args(key, keylen, digits, hash) < 0)
		return err_set(err, ERRK_PI, ERR_PARAMETER, "Invalid HOTP parameters.");
	if (hmac_setup(&h, key, keylen, hash) < 0)
		return err_internal(err, "HMAC initialisation failed");
	int rc = hmac_otp(&h, 1, counter, digits, out);
	hmac_done(&h);
	if (rc < 0)
		return err_internal(err, "HMAC computation failed");
	return 0;
}

/* Compute all `count` values from `start` and pick the lowest matching
 * counter without branching on the comparison results. */
static int64_t check_range(const unsigned char *key, size_t keylen, uint64_t start, uint64_t count, int digits,
			   enum otp_hash hash, const char *candidate)
{
	struct hmac h;
	char buf[OTP_BUF_LEN];
	uint64_t result = 0;
	uint32_t found = 0;

	if (check_args(key, keylen, digits, hash) < 0)
		return OTP_ERROR;
	if (count > 2ull * OTP_WINDOW_MAX || start > (uint64_t)INT64_MAX - count)
		return OTP_ERROR;
	if (candidate == NULL || strnlen(candidate, OTP_BUF_LEN) != (size_t)digits)
		return OTP_NOMATCH; /* the length is public: no work needed */
	if (count == 0)
		return OTP_NOMATCH;
	if (hmac_setup(&h, key, keylen, hash) < 0)
		return OTP_ERROR;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t c = start + i;
		if (hmac_otp(&h, i == 0, c, digits, buf) < 0) {
			OPENSSL_cleanse(buf, sizeof(buf));
			hmac_done(&h);
			return OTP_ERROR;
		}
		uint32_t d = (uint32_t)CRYPTO_memcmp(buf, candidate, (size_t)digits);
		uint32_t eq = ((d | (0u - d)) >> 31) ^ 1u;
		uint64_t take = (uint64_t)0 - (uint64_t)(eq & (found ^ 1u));
		result = (result & ~take) | (c & take);
		found |= eq;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	hmac_done(&h);
	return found ? (int64_t)result : OTP_NOMATCH;
}

int64_t otp_hotp_check(const unsigned char *key, size_t keylen, uint64_t start, uint32_t window, int digits,
		       enum otp_hash hash, const char *candidate)
{
	if (window > OTP_WINDOW_MAX)
		return OTP_ERROR;
	return check_range(key, keylen, start, window, digits, hash, candidate);
}

int64_t otp_hotp_check_symmetric(const unsigned char *key, size_t keylen, uint64_t counter, uint32_t window,
				 int digits, enum otp_hash hash, const char *candidate)
{
	if (window > OTP_WINDOW_MAX || counter > (uint64_t)INT64_MAX - window)
		return OTP_ERROR;
	uint64_t start = counter > window ? counter - window : 0;
	uint64_t end = counter + window;
	return check_range(key, keylen, start, end - start, digits, hash, candidate);
}

/* ---- TOTP ---- */

int64_t otp_totp_counter(double t, uint32_t step, enum otp_time_mode mode)
{
	if (step == 0 || isnan(t))
		return -1;
	double q = t / (double)step;
	if (mode == OTP_TIME_ROUND)
		q = trunc(q + 0.5); /* Python int(): toward zero */
	else
		q = floor(q);
	if (!(q > -9.2e18 && q < 9.2e18))
		return -1;
	return (int64_t)q;
}

double otp_totp_counter_time(int64_t counter, uint32_t step, enum otp_time_mode mode)
{
	if (mode == OTP_TIME_ROUND)
		return ((double)counter - 0.5) * (double)step;
	return (double)counter * (double)step;
}

int otp_totp(const unsigned char *key, size_t keylen, double t, uint32_t step, int digits, enum otp_hash hash,
	     char out[OTP_BUF_LEN], struct error *err)
{
	int64_t c = otp_totp_counter(t, step, OTP_TIME_FLOOR);
	if (c < 0)
		return err_set(err, ERRK_PI, ERR_PARAMETER, "Invalid TOTP time or time step.");
	return otp_hotp(key, keylen, (uint64_t)c, digits, hash, out, err);
}

/* ---- base32 / base32check / otpkey ---- */

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

char *otp_base32_encode(const unsigned char *data, size_t len, int pad)
{
	if (len > (SIZE_MAX - 16) / 8)
		return NULL;
	size_t olen = (len + 4) / 5 * 8;
	char *out = malloc(olen + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8 | data[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = B32[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = B32[(acc << (5 - bits)) & 31];
	if (pad)
		while (o % 8)
			out[o++] = '=';
	out[o] = '\0';
	acc = 0;
	return out;
}

static int b32_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Python's base64.b32decode on s (already uppercase, length % 8 == 0):
 * trailing '=' counted, 0/1/3/4/6 pad chars allowed, unused low bits of the
 * last quantum ignored. */
static unsigned char *b32_decode_py(const char *s, size_t n, size_t *outlen)
{
	if (n % 8)
		return NULL;
	size_t data = n;
	while (data > 0 && s[data - 1] == '=')
		data--;
	size_t padchars = n - data;
	if (!(padchars == 0 || padchars == 1 || padchars == 3 || padchars == 4 || padchars == 6))
		return NULL;
	unsigned char *out = malloc(data * 5 / 8 + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < data; i++) {
		int v = b32_val((unsigned char)s[i]);
		if (v < 0) {
			crypto_free_secret(out, data * 5 / 8 + 1);
			return NULL;
		}
		acc = (acc << 5 | (uint32_t)v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	acc = 0;
	*outlen = o;
	return out;
}

int otp_base32check_decode(const char *s, unsigned char **out, size_t *outlen, struct error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n, padded, declen = 0;
	char *buf;
	unsigned char *dec;

	if (s == NULL)
		return err_set(err, ERRK_PI, ERR_PARAMETER, "Malformed base32check data: Invalid base32");
	n = strlen(s);
	if (n > 1u << 20)
		return err_set(err, ERRK_PI, ERR_PARAMETER, "Malformed base32check data: Invalid base32");
	padded = (n + 7) / 8 * 8;
	buf = malloc(padded + 1);
	if (buf == NULL)
		return err_internal(err, "out of memory");
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)toupper((unsigned char)s[i]);
	memset(buf + n, '=', padded - n);
	buf[padded] = '\0';
	dec = b32_decode_py(buf, padded, &declen);
	crypto_free_secret(buf, padded + 1);
	if (dec == NULL)
		return err_set(err, ERRK_PI, ERR_PARAMETER, "Malformed base32check data: Invalid base32");
	if (declen < 4) {
		crypto_free_secret(dec, declen + 1);
		return err_set(err, ERRK_PI, ERR_PARAMETER, "Malformed base32check data: Too short");
	}
	if (!EVP_Digest(dec + 4, declen - 4, md, &mdlen, EVP_sha1(), NULL)) {
		crypto_free_secret(dec, declen + 1);
		return err_internal(err, "SHA1 failed");
	}
	int bad = CRYPTO_memcmp(md, dec, 4) != 0;
	OPENSSL_cleanse(md, sizeof(md));
	if (bad) {
		crypto_free_secret(dec, declen + 1);
		return err_set(err, ERRK_PI, ERR_PARAMETER, "Malformed base32check data: Incorrect checksum");
	}
	/* move the payload to the front: the caller frees *out with its length */
	memmove(dec, dec + 4, declen - 4);
	OPENSSL_cleanse(dec + declen - 4, 4);
	*out = dec;
	*outlen = declen - 4;
	return 0;
}

char *otp_base32check_encode(const unsigned char *payload, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (len > SIZE_MAX - 4 || !EVP_Digest(payload, len, md, &mdlen, EVP_sha1(), NULL))
		return NULL;
	unsigned char *buf = malloc(len + 4);
	if (buf == NULL)
		return NULL;
	memcpy(buf, md, 4);
	if (len)
		memcpy(buf + 4, payload, len);
	char *s = otp_base32_encode(buf, len + 4, 0);
	crypto_free_secret(buf, len + 4);
	OPENSSL_cleanse(md, sizeof(md));
	return s;
}

int otp_key_decode(const char *otpkey, const char *format, unsigned char **key, size_t *keylen,
		   struct error *err)
{
	if (otpkey == NULL)
		return err_missing_param(err, "otpkey");
	if (format == NULL || strcmp(format, "hex") == 0) {
		size_t len = 0;
		/* privacyIDEA accepts an empty otpkey (an empty HMAC key) */
		unsigned char *k = *otpkey ? crypto_hex_decode(otpkey, &len) : calloc(1, 1);
		if (k == NULL)
			return err_set(err, ERRK_PI, ERR_PARAMETER, "The otpkey is not a valid hex string.");
		*key = k;
		*keylen = len;
		return 0;
	}
	if (strcmp(format, "base32check") == 0)
		return otp_base32check_decode(otpkey, key, keylen, err);
	/* privacyIDEA formats the format with {!r}: Python's repr of a str */
	return err_set(err, ERRK_PI, ERR_PARAMETER, "Unknown OTP key format: '%.100s'", format);
}

void otp_free_key(unsigned char *key, size_t keylen)
{
	crypto_free_secret(key, keylen);
}

int otp_twostep_key(const unsigned char *server, size_t server_len, const unsigned char *client,
		    size_t client_len, uint32_t iterations, unsigned char *out, size_t outlen, struct error *err)
{
	if (iterations == 0 || outlen == 0 || outlen > 1024 || iterations > 100000000u || client_len > INT32_MAX)
		return err_set(err, ERRK_PI, ERR_PARAMETER, "Invalid 2step parameters.");
	char *hex = crypto_hex_encode(server, server_len); /* lowercase, as privacyIDEA's .lower() */
	if (hex == NULL)
		return err_internal(err, "out of memory");
	static const unsigned char nosalt[1];
	int ok = PKCS5_PBKDF2_HMAC(hex, (int)(2 * server_len), client_len ? client : nosalt, (int)client_len,
				   (int)iterations, EVP_sha1(), (int)outlen, out);
	crypto_free_str(hex);
	if (!ok)
		return err_internal(err, "PBKDF2 failed");
	return 0;
}
