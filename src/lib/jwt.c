/*
 * jwt.c — HS256 JSON Web Tokens for /auth, behaving as privacyIDEA's
 * jwt.decode(token, SECRET_KEY, algorithms=['HS256']) with PyJWT 2:
 * the same checks in the same order and PyJWT's reasons in the messages,
 *   4304 "Authentication failure. Error during decoding your token: <why>"
 *   4305 "Authentication failure. Your token has expired: Signature has expired"
 * but stricter where PyJWT is lax: base64url must be canonical and unpadded
 * (no ignored characters), duplicate JSON keys are rejected.  Only HS256
 * is ever accepted, and the MAC is compared in constant time.
 * Encoding writes what PyJWT writes: header {"alg":"HS256","typ":"JWT"},
 * compact claims with non-ASCII escaped (json.dumps separators (",",":")).
 */
#include "jwt.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"

#define JWT_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define MAC_LEN 32

static int hs256(const char *secret, const char *input, size_t len, unsigned char mac[MAC_LEN])
{
	size_t klen = strlen(secret);
	unsigned int maclen = 0;
	if (klen > INT_MAX)
		return -1;
	if (!HMAC(EVP_sha256(), secret, (int)klen, (const unsigned char *)input, len, mac, &maclen) ||
	    maclen != MAC_LEN)
		return -1;
	return 0;
}

/* jansson's JSON_ENSURE_ASCII writes "\u00EF" and leaves DEL raw; Python's
 * json.dumps writes "\u00ef" and "\u007f".  Rewrite to Python's form so
 * our tokens are byte-identical to PyJWT's. */
static char *pythonize_escapes(const char *in)
{
	size_t n = strlen(in), extra = 0;
	for (size_t i = 0; i < n; i++)
		if (in[i] == 0x7f)
			extra += 5;
	char *out = malloc(n + extra + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\\' && i + 1 < n) {
			*o++ = in[i++];
			*o++ = in[i];
			if (in[i] == 'u')
				for (int j = 0; j < 4 && i + 1 < n; j++) {
					char c = in[++i];
					*o++ = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
				}
		} else if (in[i] == 0x7f) {
			memcpy(o, "\\u007f", 6);
			o += 6;
		} else {
			*o++ = in[i];
		}
	}
	*o = '\0';
	return out;
}

char *jwt_encode(const json_t *claims, const char *secret, struct error *err)
{
	unsigned char mac[MAC_LEN];
	char *payload = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL, *out = NULL;

	if (!json_is_object(claims)) {
		err_internal(err, "JWT claims must be a JSON object");
		return NULL;
	}
	if (!secret || !*secret) {
		err_internal(err, "no JWT secret");
		return NULL;
	}
	char *raw = json_dumps(claims, JSON_COMPACT | JSON_ENSURE_ASCII);
	payload = raw ? pythonize_escapes(raw) : NULL;
	crypto_free_str(raw);
	h64 = crypto_b64url_encode(JWT_HEADER, strlen(JWT_HEADER));
	p64 = payload ? crypto_b64url_encode(payload, strlen(payload)) : NULL;
	if (!h64 || !p64)
		goto oom;
	size_t hl = strlen(h64), pl = strlen(p64);
	/* header.payload.signature; a 32-byte MAC is 43 base64url chars */
	out = malloc(hl + 1 + pl + 1 + 44);
	if (!out)
		goto oom;
	memcpy(out, h64, hl);
	out[hl] = '.';
	memcpy(out + hl + 1, p64, pl);
	out[hl + 1 + pl] = '\0';
	if (hs256(secret, out, hl + 1 + pl, mac) < 0) {
		err_internal(err, "JWT signing failed");
		goto fail;
	}
	s64 = crypto_b64url_encode(mac, sizeof(mac));
	if (!s64)
		goto oom;
	out[hl + 1 + pl] = '.';
	memcpy(out + hl + 1 + pl + 1, s64, strlen(s64) + 1);
	goto done;
oom:
	err_internal(err, "out of memory");
fail:
	crypto_free_str(out);
	out = NULL;
done:
	OPENSSL_cleanse(mac, sizeof(mac));
	crypto_free_str(payload);
	free(h64);
	crypto_free_str(p64);
	free(s64);
	return out;
}

static int decode_error(struct error *err, const char *why)
{
	return err_set(err, ERRK_AUTH, ERR_AUTH_DECODE,
		       "Authentication failure. Error during decoding your token: %s", why);
}

/* base64url-decode the span [s, s+n) strictly. */
static unsigned char *seg_decode(const char *s, size_t n, size_t *len)
{
	char *tmp = malloc(n + 1);
	if (!tmp)
		return NULL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* an embedded NUL or a '.' is simply not base64url: decode fails */
	unsigned char *d = strlen(tmp) == n ? crypto_b64url_decode(tmp, len) : NULL;
	free(tmp);
	return d;
}

/* Parse a decoded segment as a JSON object; on failure write PyJWT's
 * reason ("Invalid header string: ...") into why. */
static json_t *seg_json(const unsigned char *d, size_t n, const char *what, char *why, size_t whylen)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)d, n, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(why, whylen, "Invalid %s string: %s", what, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(why, whylen, "Invalid %s string: must be a json object", what);
		return NULL;
	}
	return j;
}

/* An integer claim as PyJWT's int(payload[claim]) sees a JSON number
 * (reals truncate).  -1 when the claim is not a number. */
static int claim_int(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = (long long)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d >= 9.2e18)
			*out = LLONG_MAX;
		else if (d <= -9.2e18)
			*out = LLONG_MIN;
		else
			*out = (long long)d;
		return 0;
	}
	return -1;
}

int jwt_decode(const char *token, const char *secret, long long now, json_t **claims_out, struct error *err)
{
	unsigned char *hdr = NULL, *pay = NULL, *sig = NULL, mac[MAC_LEN];
	size_t hlen = 0, plen = 0, slen = 0;
	json_t *header = NULL, *claims = NULL;
	char why[256];
	int rc = -1;

	if (claims_out)
		*claims_out = NULL;
	if (!secret || !*secret)
		return err_internal(err, "no JWT secret");
	if (!token)
		return decode_error(err, "Not enough segments");

	/* PyJWT: rsplit(".", 1), then split(".", 1) — extra dots end up in the
	 * payload segment, which then fails to decode */
	const char *last = strrchr(token, '.');
	const char *first = last ? memchr(token, '.', (size_t)(last - token)) : NULL;
	if (!last || !first) {
		decode_error(err, "Not enough segments");
		goto out;
	}
	if (!(hdr = seg_decode(token, (size_t)(first - token), &hlen))) {
		decode_error(err, "Invalid header padding");
		goto out;
	}
	if (!(header = seg_json(hdr, hlen, "header", why, sizeof(why)))) {
		decode_error(err, why);
		goto out;
	}
	if (!(pay = seg_decode(first + 1, (size_t)(last - first - 1), &plen))) {
		decode_error(err, "Invalid payload padding");
		goto out;
	}
	if (!(sig = seg_decode(last + 1, strlen(last + 1), &slen))) {
		decode_error(err, "Invalid crypto padding");
		goto out;
	}
	const char *alg = json_string_value(json_object_get(header, "alg"));
	if (!alg || strcmp(alg, "HS256") != 0) {
		decode_error(err, "The specified alg value is not allowed");
		goto out;
	}
	if (hs256(secret, token, (size_t)(last - token), mac) < 0) {
		err_internal(err, "JWT verification failed");
		goto out;
	}
	if (slen != MAC_LEN || CRYPTO_memcmp(mac, sig, MAC_LEN) != 0) {
		decode_error(err, "Signature verification failed");
		goto out;
	}
	if (!(claims = seg_json(pay, plen, "payload", why, sizeof(why)))) {
		decode_error(err, why);
		goto out;
	}

	long long t;
	json_t *v;
	if ((v = json_object_get(claims, "exp"))) {
		if (claim_int(v, &t) < 0) {
			decode_error(err, "Expiration Time claim (exp) must be an integer.");
			goto out;
		}
		if (t <= now) {
			err_set(err, ERRK_AUTH, ERR_AUTH_EXPIRED,
				"Authentication failure. Your token has expired: Signature has expired");
			goto out;
		}
	}
	if ((v = json_object_get(claims, "iat")) && claim_int(v, &t) < 0) {
		decode_error(err, "Issued At claim (iat) must be an integer.");
		goto out;
	}
	if ((v = json_object_get(claims, "nbf"))) {
		if (claim_int(v, &t) < 0) {
			decode_error(err, "Not Before claim (nbf) must be an integer.");
			goto out;
		}
		if (t > now) {
			decode_error(err, "The token is not yet valid (nbf)");
			goto out;
		}
	}
	if (claims_out) {
		*claims_out = claims;
		claims = NULL;
	}
	rc = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	json_decref(header);
	json_decref(claims);
	free(hdr);
	if (pay)
		crypto_free_secret(pay, plen);
	free(sig);
	return rc;
}
