/*
 * otp.h — HOTP (RFC 4226) and TOTP (RFC 6238) values, the counter window
 * check, TOTP time-to-counter helpers, hash-name parsing and privacyIDEA's
 * otpkey formats (hex, base32check) plus the 2-step key derivation.
 *
 * Pure functions: no database, no configuration, no logging, no I/O.  The
 * token types (src/lib/tokens/) call these; they own counters, windows and
 * policies.  OpenSSL 3 does the HMAC and PBKDF2 work.
 *
 * privacyIDEA 3.8 facts these functions follow (lib/tokens/HMAC.py,
 * hotptoken.py, totptoken.py, tokenclass.py, utils):
 *   - HmacOtp.checkOtp(otp, window) tries the counters start .. start+window-1
 *     (window values, end exclusive) and returns the first matching counter
 *     or -1.  With symetric=True (TOTP, previous-OTP detection) the range is
 *     max(0, c-window) .. c+window-1.
 *   - An OTP value is the string of `digits` decimal digits, zero padded;
 *     only a candidate of exactly that length can match.
 *   - TOTP counter: privacyIDEA up to 3.8 rounds, int(t / step + 0.5), and
 *     maps a counter back to time as (counter - 0.5) * step; 3.9 switched to
 *     RFC 6238's floor.  Both are offered (enum otp_time_mode), the token
 *     type chooses.
 *   - otplen: the hotp_otplen / totp_otplen policies offer 6 or 8; the token
 *     classes do not validate otplen themselves.  This library computes 6, 7
 *     or 8 digits (RFC 4226 §5.3: at least 6; the 31-bit truncated value
 *     makes 9 and 10 digits degenerate) and rejects anything else.
 *   - hashlib: sha1, sha256, sha512 (the policy values) and, because the
 *     OATH CSV import derives sha224/sha384 from 56/96 hex-digit seeds,
 *     sha224 and sha384 as well.  Names are case-insensitive.  privacyIDEA's
 *     get_hashlib silently falls back to sha1 for unknown names; here an
 *     unknown name is an error and the caller decides.
 *   - otpkey parameter: hex, or with otpkeyformat=base32check the value
 *     strip_padding(base32(sha1(payload)[0:4] + payload)) (3.8 supports it,
 *     used by the 2-step enrollment); unknown formats are a ParameterError.
 *
 * Secrets: every intermediate HMAC output and OTP string is wiped.  OTP
 * comparison is constant time (CRYPTO_memcmp) and the window check computes
 * every value of the window before it selects, so the time taken does not
 * tell which counter (if any) matched.
 */
#ifndef TESSERA_OTP_H
#define TESSERA_OTP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum otp_hash {
	OTP_HASH_SHA1 = 0,
	OTP_HASH_SHA224,
	OTP_HASH_SHA256,
	OTP_HASH_SHA384,
	OTP_HASH_SHA512,
};

#define OTP_DIGITS_MIN 6
#define OTP_DIGITS_MAX 8
/* Buffer size for one OTP value plus the terminating NUL. */
#define OTP_BUF_LEN (OTP_DIGITS_MAX + 1)
/* Largest number of counters one check may compute (per side for the
 * symmetric check): a bound against absurd windows, far above privacyIDEA's
 * defaults (count window 10, sync window 1000, timeWindow 180 s). */
#define OTP_WINDOW_MAX 1000000u

/* Return codes of the window checks besides a matched counter (>= 0). */
#define OTP_NOMATCH (-1)
#define OTP_ERROR (-2)

/* "sha1", "SHA256" … → *out.  0 ok, -1 unknown name (or NULL). */
int otp_hash_parse(const char *name, enum otp_hash *out);
/* Canonical lowercase name ("sha1" …). */
const char *otp_hash_name(enum otp_hash h);
/* privacyIDEA's default key size for a hashlib: sha1 20, sha256 32,
 * sha512 64; sha224/sha384 are not in its table, so the TokenClass default
 * of 20 applies. */
size_t otp_hash_keysize(enum otp_hash h);
/* HMAC output length in bytes. */
size_t otp_hash_mdlen(enum otp_hash h);
/* 1 if digits is a length this library computes (6, 7 or 8), else 0. */
int otp_digits_valid(int digits);

/* One HOTP value: HMAC(key, counter as 8 bytes big endian), dynamic
 * truncation, modulo 10^digits, zero padded.  out receives digits chars +
 * NUL.  0 ok, -1 on bad arguments (err filled, ERR_PARAMETER) or an
 * OpenSSL failure (ERRK_INTERNAL).  keylen may be 0 (HMAC allows it). */
int otp_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits, enum otp_hash hash,
	     char out[OTP_BUF_LEN], struct error *err);

/* Window check as HmacOtp.checkOtp: tries counters start .. start+window-1
 * and returns the lowest matching counter, OTP_NOMATCH (-1) when none
 * matches (also when the candidate is NULL or not exactly `digits` long),
 * OTP_ERROR (-2) on bad arguments (digits, window > OTP_WINDOW_MAX, counter
 * overflow) or an OpenSSL failure.  All `window` values are computed and
 * compared with CRYPTO_memcmp; the selection is branch-free. */
int64_t otp_hotp_check(const unsigned char *key, size_t keylen, uint64_t start, uint32_t window, int digits,
		       enum otp_hash hash, const char *candidate);

/* Symmetric check (checkOtp with symetric=True, used by TOTP with
 * window = int(timeWindow / timeStep)): counters max(0, counter-window) ..
 * counter+window-1.  Same return values as otp_hotp_check. */
int64_t otp_hotp_check_symmetric(const unsigned char *key, size_t keylen, uint64_t counter, uint32_t window,
				 int digits, enum otp_hash hash, const char *candidate);

/* ---- TOTP time steps ---- */
enum otp_time_mode {
	OTP_TIME_FLOOR = 0, /* RFC 6238 (privacyIDEA >= 3.9): floor(t / step)       */
	OTP_TIME_ROUND = 1, /* privacyIDEA <= 3.8: int(t / step + 0.5) (rounds)    */
};
/* Counter for unix time t (seconds, fractional allowed; add the token's
 * timeShift before calling).  step must be > 0 (else -1 is returned).
 * Like Python's int(), OTP_TIME_ROUND truncates toward zero. */
int64_t otp_totp_counter(double t, uint32_t step, enum otp_time_mode mode);
/* The time a counter stands for, as privacyIDEA's _counter2time:
 * ROUND: (counter - 0.5) * step; FLOOR: counter * step. */
double otp_totp_counter_time(int64_t counter, uint32_t step, enum otp_time_mode mode);
/* Convenience: the RFC 6238 value at unix time t (floor mode, T0 = 0). */
int otp_totp(const unsigned char *key, size_t keylen, double t, uint32_t step, int digits, enum otp_hash hash,
	     char out[OTP_BUF_LEN], struct error *err);

/* ---- otpkey parameter formats ---- */
/* Decode the /token/init otpkey according to otpkeyformat: NULL or "hex"
 * (case-insensitive hex digits, even length) or "base32check".  On success
 * *key is a malloc'd buffer of *keylen bytes (free with crypto_free_secret
 * or otp_free_key).  Errors are ERR_PARAMETER (905) with privacyIDEA's
 * messages: "Unknown OTP key format: 'x'", "Malformed base32check data:
 * Invalid base32" / "Too short" / "Incorrect checksum". */
int otp_key_decode(const char *otpkey, const char *format, unsigned char **key, size_t *keylen,
		   struct error *err);
void otp_free_key(unsigned char *key, size_t keylen);

/* base32check, as privacyIDEA's decode_base32check(always_upper=True):
 * uppercase, pad with '=' to a multiple of 8, strict RFC 4648 base32,
 * first 4 bytes must equal sha1(rest)[0:4]; the payload is returned. */
int otp_base32check_decode(const char *s, unsigned char **out, size_t *outlen, struct error *err);
/* The inverse (what a client sends): malloc'd, unpadded; NULL on OOM. */
char *otp_base32check_encode(const unsigned char *payload, size_t len);

/* RFC 4648 base32, uppercase; pad != 0 appends '=' padding.  malloc'd,
 * NULL on OOM. */
char *otp_base32_encode(const unsigned char *data, size_t len, int pad);

/* 2-step enrollment key (HotpTokenClass.generate_symmetric_key):
 * PBKDF2-HMAC-SHA1(password = lowercase hex of the server component,
 * salt = client component, iterations, outlen bytes) into out.
 * 0 ok, -1 error (iterations 0, outlen 0, OpenSSL failure). */
int otp_twostep_key(const unsigned char *server, size_t server_len, const unsigned char *client,
		    size_t client_len, uint32_t iterations, unsigned char *out, size_t outlen, struct error *err);

#endif
