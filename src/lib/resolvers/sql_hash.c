/*
 * sql_hash.c — password hashes as they are found in SQL user tables (see
 * sql_internal.h for the list), for the SQL resolver's check_pass, and
 * hashing of new passwords for editable SQL resolvers.
 *
 * Formats follow privacyIDEA 3.8's SQLIdResolver (passlib CryptContext:
 * phpass, phpass_drupal, ldap_salted_sha1/256/512, ldap_sha1, md5_crypt,
 * bcrypt, sha256_crypt, sha512_crypt, hex_sha256), plus yescrypt and
 * argon2, which libxcrypt/libargon2 give us for free.  Generation uses the
 * parameters passlib uses by default (phpass 2^19 rounds, sha256_crypt
 * 535000 and sha512_crypt 656000 rounds), except the {SSHA*} salt, which
 * is 8 random bytes instead of passlib's 4.
 *
 * Every comparison of a computed against a stored value is constant-time
 * (CRYPTO_memcmp); buffers holding password material are wiped.
 */
#include "sql_internal.h"

#include <argon2.h>
#include <crypt.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

enum {
	H_PHPASS,
	H_SHA,
	H_SSHA,
	H_SSHA256,
	H_SSHA512,
	H_OTRS,
	H_SHA256CRYPT,
	H_SHA512CRYPT,
	H_MD5CRYPT,
	H_BCRYPT,
	H_YESCRYPT,
	H_ARGON2,
};

static const char *const type_names[] = {
	[H_PHPASS] = "PHPASS",           [H_SHA] = "SHA",
	[H_SSHA] = "SSHA",               [H_SSHA256] = "SSHA256",
	[H_SSHA512] = "SSHA512",         [H_OTRS] = "OTRS",
	[H_SHA256CRYPT] = "SHA256CRYPT", [H_SHA512CRYPT] = "SHA512CRYPT",
	[H_MD5CRYPT] = "MD5CRYPT",       [H_BCRYPT] = "BCRYPT",
	[H_YESCRYPT] = "YESCRYPT",       [H_ARGON2] = "ARGON2",
};

static const char itoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* ---- small helpers ---------------------------------------------------------- */

/* Standard base64 decode (padding optional, no whitespace).  Returns the
 * byte count, or -1 when s is not base64. */
static long b64_decode(const char *s, unsigned char *out, size_t cap)
{
	size_t n = strlen(s), o = 0;
	uint32_t acc = 0;
	int bits = 0;
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (strlen(s) - n > 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char c = s[i];
		int v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits >= 6) /* a lone trailing sextet carries no byte */
		return -1;
	return (long)o;
}

static char *b64_encode(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

/* Digest of a || b. */
static int digest2(const EVP_MD *md, const void *a, size_t alen, const void *b, size_t blen,
		   unsigned char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int olen = 0;
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, alen) == 1 &&
		 EVP_DigestUpdate(ctx, b, blen) == 1 && EVP_DigestFinal_ex(ctx, out, &olen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? (int)olen : -1;
}

/* Constant-time equality of two strings (their lengths are not secret). */
static int ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

/* ---- LDAP style {SHA} / {SSHA*} --------------------------------------------- */

static int verify_ldap(const char *password, const char *b64, const EVP_MD *md, int salted)
{
	unsigned char raw[512], calc[EVP_MAX_MD_SIZE];
	size_t dlen = (size_t)EVP_MD_get_size(md);
	long n = b64_decode(b64, raw, sizeof(raw));
	int ok = 0;
	if (n < 0 || (size_t)n < dlen || (!salted && (size_t)n != dlen))
		return 0;
	if (digest2(md, password, strlen(password), raw + dlen, (size_t)n - dlen, calc) == (int)dlen)
		ok = CRYPTO_memcmp(calc, raw, dlen) == 0;
	OPENSSL_cleanse(calc, sizeof(calc));
	return ok;
}

static char *make_ldap(const char *ident, const char *password, const EVP_MD *md, size_t saltlen,
		       struct error *err)
{
	unsigned char buf[EVP_MAX_MD_SIZE + 16];
	size_t dlen = (size_t)EVP_MD_get_size(md);
	char *b64 = NULL, *out = NULL;
	if (saltlen > 16 || (saltlen && RAND_bytes(buf + dlen, (int)saltlen) != 1)) {
		err_internal(err, "no random numbers");
		return NULL;
	}
	if (digest2(md, password, strlen(password), buf + dlen, saltlen, buf) != (int)dlen)
		goto out;
	b64 = b64_encode(buf, dlen + saltlen);
	if (b64 == NULL)
		goto out;
	out = malloc(strlen(ident) + strlen(b64) + 1);
	if (out != NULL) {
		strcpy(out, ident);
		strcat(out, b64);
	}
out:
	free(b64);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (out == NULL)
		err_internal(err, "hashing failed");
	return out;
}

/* ---- phpass ($P$ / $H$, MD5) and Drupal ($S$, SHA-512) ----------------------- */

/* phpass's base64 variant: little-endian 3-byte groups, itoa64 alphabet. */
static void h64_encode(const unsigned char *in, size_t count, char *out)
{
	size_t i = 0;
	while (i < count) {
		uint32_t v = in[i++];
		*out++ = itoa64[v & 0x3f];
		if (i < count)
			v |= (uint32_t)in[i] << 8;
		*out++ = itoa64[(v >> 6) & 0x3f];
		if (i++ >= count)
			break;
		if (i < count)
			v |= (uint32_t)in[i] << 16;
		*out++ = itoa64[(v >> 12) & 0x3f];
		if (i++ >= count)
			break;
		*out++ = itoa64[(v >> 18) & 0x3f];
	}
	*out = '\0';
}

/* Compute the phpass/Drupal hash of password for setting (the first 12
 * characters of a stored hash).  Returns malloc'd text or NULL when the
 * setting is invalid. */
static char *phpass_calc(const char *password, const char *setting)
{
	int drupal = setting[1] == 'S';
	const EVP_MD *md = drupal ? EVP_sha512() : EVP_md5();
	size_t dlen = drupal ? 64 : 16, pwlen = strlen(password);
	unsigned char h[64];
	char enc[90];
	const char *pos;

	if (strlen(setting) < 12 || (pos = strchr(itoa64, setting[3])) == NULL || setting[3] == '\0')
		return NULL;
	int log2 = (int)(pos - itoa64);
	if (log2 < 7 || log2 > 30)
		return NULL;
	for (int i = 4; i < 12; i++)
		if (strchr(itoa64, setting[i]) == NULL)
			return NULL;
	int ok = digest2(md, setting + 4, 8, password, pwlen, h) == (int)dlen;
	for (long count = 1L << log2; ok && count > 0; count--)
		ok = digest2(md, h, dlen, password, pwlen, h) == (int)dlen;
	if (!ok) {
		OPENSSL_cleanse(h, sizeof(h));
		return NULL;
	}
	/* phpass encodes the 16-byte MD5 in 22 characters; Drupal keeps the
	 * first 43 characters of the encoded SHA-512. */
	h64_encode(h, dlen, enc);
	OPENSSL_cleanse(h, sizeof(h));
	if (drupal)
		enc[43] = '\0';
	char *out = malloc(12 + strlen(enc) + 1);
	if (out != NULL) {
		memcpy(out, setting, 12);
		strcpy(out + 12, enc);
	}
	OPENSSL_cleanse(enc, sizeof(enc));
	return out;
}

static int verify_phpass(const char *password, const char *stored)
{
	char *calc = phpass_calc(password, stored);
	int ok = calc != NULL && ct_streq(calc, stored);
	if (calc) {
		OPENSSL_cleanse(calc, strlen(calc));
		free(calc);
	}
	return ok;
}

/* ---- crypt(3) and argon2 ------------------------------------------------------ */

static int verify_crypt(const char *password, const char *stored)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	int ok = 0;
	if (cd == NULL)
		return -1;
	const char *out = crypt_rn(password, stored, cd, (int)sizeof(*cd));
	if (out != NULL && out[0] != '*')
		ok = ct_streq(out, stored);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static int verify_argon2(const char *password, const char *stored)
{
	argon2_type t;
	if (strncmp(stored, "$argon2id$", 10) == 0)
		t = Argon2_id;
	else if (strncmp(stored, "$argon2i$", 9) == 0)
		t = Argon2_i;
	else if (strncmp(stored, "$argon2d$", 9) == 0)
		t = Argon2_d;
	else
		return 0;
	/* argon2_verify compares in constant time. */
	return argon2_verify(stored, password, strlen(password), t) == ARGON2_OK;
}

static char *make_crypt(const char *prefix, unsigned long count, const char *password, struct error *err)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	char *out = NULL;

	if (crypt_gensalt_rn(prefix, count, NULL, 0, setting, (int)sizeof(setting)) == NULL) {
		err_internal(err, "crypt_gensalt failed for %s", prefix);
		return NULL;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		err_internal(err, "out of memory");
		return NULL;
	}
	const char *h = crypt_rn(password, setting, cd, (int)sizeof(*cd));
	if (h != NULL && h[0] != '*')
		out = strdup(h);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	if (out == NULL)
		err_internal(err, "crypt failed for %s", prefix);
	return out;
}

static char *make_argon2(const char *password, struct error *err)
{
	/* passlib's argon2 defaults: argon2id, t=3, m=64 MiB, p=4. */
	const uint32_t t = 3, m = 65536, p = 4, saltlen = 16, hashlen = 32;
	unsigned char salt[16];
	size_t len = argon2_encodedlen(t, m, p, saltlen, hashlen, Argon2_id);
	char *out = malloc(len);
	if (out == NULL || RAND_bytes(salt, sizeof(salt)) != 1) {
		free(out);
		err_internal(err, "out of memory");
		return NULL;
	}
	int rc = argon2id_hash_encoded(t, m, p, password, strlen(password), salt, saltlen, hashlen, out, len);
	if (rc != ARGON2_OK) {
		free(out);
		err_internal(err, "argon2 failed: %s", argon2_error_message(rc));
		return NULL;
	}
	return out;
}

static char *make_phpass(const char *password, struct error *err)
{
	char setting[13];
	unsigned char rnd[8];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		err_internal(err, "no random numbers");
		return NULL;
	}
	memcpy(setting, "$P$", 3);
	setting[3] = itoa64[19]; /* passlib's default: 2^19 rounds */
	for (int i = 0; i < 8; i++)
		setting[4 + i] = itoa64[rnd[i] & 0x3f];
	setting[12] = '\0';
	char *out = phpass_calc(password, setting);
	if (out == NULL)
		err_internal(err, "phpass failed");
	return out;
}

static char *make_otrs(const char *password, struct error *err)
{
	unsigned char d[32];
	char *out = malloc(65);
	if (out == NULL || digest2(EVP_sha256(), password, strlen(password), "", 0, d) != 32) {
		free(out);
		err_internal(err, "hashing failed");
		return NULL;
	}
	for (int i = 0; i < 32; i++) {
		out[2 * i] = "0123456789abcdef"[d[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
	}
	out[64] = '\0';
	OPENSSL_cleanse(d, sizeof(d));
	return out;
}

static int verify_otrs(const char *password, const char *stored)
{
	char lower[65];
	struct error e;
	for (int i = 0; i < 64; i++)
		lower[i] = (char)tolower((unsigned char)stored[i]);
	lower[64] = '\0';
	char *calc = make_otrs(password, &e);
	if (calc == NULL)
		return -1;
	int ok = ct_streq(calc, lower);
	OPENSSL_cleanse(calc, 64);
	free(calc);
	return ok;
}

static int is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* ---- the public pair ---------------------------------------------------------- */

int sqlhash_verify(const char *password, const char *stored)
{
	if (password == NULL || stored == NULL)
		return 0;
	/* ownCloud prefixes its hashes with a version: "1|". */
	if (strncmp(stored, "1|", 2) == 0)
		stored += 2;
	if (strncasecmp(stored, "{SHA}", 5) == 0)
		return verify_ldap(password, stored + 5, EVP_sha1(), 0);
	if (strncasecmp(stored, "{SSHA}", 6) == 0)
		return verify_ldap(password, stored + 6, EVP_sha1(), 1);
	if (strncasecmp(stored, "{SSHA256}", 9) == 0)
		return verify_ldap(password, stored + 9, EVP_sha256(), 1);
	if (strncasecmp(stored, "{SSHA512}", 9) == 0)
		return verify_ldap(password, stored + 9, EVP_sha512(), 1);
	if (strncmp(stored, "$P$", 3) == 0 || strncmp(stored, "$H$", 3) == 0 || strncmp(stored, "$S$", 3) == 0)
		return verify_phpass(password, stored);
	if (strncmp(stored, "$argon2", 7) == 0)
		return verify_argon2(password, stored);
	if (strncmp(stored, "$1$", 3) == 0 || strncmp(stored, "$5$", 3) == 0 || strncmp(stored, "$6$", 3) == 0 ||
	    strncmp(stored, "$2a$", 4) == 0 || strncmp(stored, "$2b$", 4) == 0 ||
	    strncmp(stored, "$2y$", 4) == 0 || strncmp(stored, "$y$", 3) == 0 || strncmp(stored, "$gy$", 4) == 0)
		return verify_crypt(password, stored);
	if (is_hex64(stored))
		return verify_otrs(password, stored);
	return 0;
}

int sqlhash_type_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcasecmp(name, type_names[i]) == 0)
			return (int)i;
	return -1;
}

char *sqlhash_make(int type, const char *password, struct error *err)
{
	switch (type) {
	case H_PHPASS: return make_phpass(password, err);
	case H_SHA: return make_ldap("{SHA}", password, EVP_sha1(), 0, err);
	case H_SSHA: return make_ldap("{SSHA}", password, EVP_sha1(), 8, err);
	case H_SSHA256: return make_ldap("{SSHA256}", password, EVP_sha256(), 8, err);
	case H_SSHA512: return make_ldap("{SSHA512}", password, EVP_sha512(), 8, err);
	case H_OTRS: return make_otrs(password, err);
	case H_SHA256CRYPT: return make_crypt("$5$", 535000, password, err);
	case H_SHA512CRYPT: return make_crypt("$6$", 656000, password, err);
	case H_MD5CRYPT: return make_crypt("$1$", 0, password, err);
	case H_BCRYPT: return make_crypt("$2b$", 12, password, err);
	case H_YESCRYPT: return make_crypt("$y$", 0, password, err);
	case H_ARGON2: return make_argon2(password, err);
	default: err_param(err, "Unsupported password hash type"); return NULL;
	}
}
