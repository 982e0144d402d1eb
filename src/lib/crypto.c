/*
 * crypto.c — the encryption key file, privacyIDEA-compatible value
 * encryption (AES-256-CBC, PKCS#7 or legacy padding), random numbers,
 * constant-time comparison, wiping, and the hex/base64 encodings.
 * The formats are described at the top of crypto.h.  Password hashes live
 * in crypto_hash.c, RSA signing in crypto_sign.c.
 *
 * Nothing here logs or prints a secret; every intermediate buffer that
 * held key material or plaintext is wiped before it is freed.
 */
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define AES_BLOCK 16
#define IV_LEN 16

/* ---- memory for the key ---- */

enum keymem { KEYMEM_SECURE, KEYMEM_LOCKED, KEYMEM_PLAIN };

struct enckey {
	unsigned char *bytes; /* CRYPTO_ENCKEY_LEN bytes */
	size_t alloc;         /* size of the allocation (a page when not secure) */
	enum keymem mem;
};

static atomic_int g_padding = CRYPTO_PAD_PKCS7;

void crypto_set_padding(enum crypto_padding p)
{
	atomic_store(&g_padding, p == CRYPTO_PAD_LEGACY ? CRYPTO_PAD_LEGACY : CRYPTO_PAD_PKCS7);
}

/* OpenSSL's secure heap when the program set one up; otherwise a page of
 * our own, locked against swapping and left out of core dumps.  We never
 * initialise the secure heap here: it is process-wide and sized by main. */
static struct enckey *enckey_alloc(void)
{
	struct enckey *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	if (CRYPTO_secure_malloc_initialized()) {
		k->bytes = OPENSSL_secure_zalloc(CRYPTO_ENCKEY_LEN);
		if (k->bytes) {
			k->alloc = CRYPTO_ENCKEY_LEN;
			k->mem = KEYMEM_SECURE;
			return k;
		}
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t sz = page > 0 ? (size_t)page : 4096;
	void *p = NULL;
	if (posix_memalign(&p, sz, sz) != 0) {
		free(k);
		return NULL;
	}
	memset(p, 0, sz);
	k->bytes = p;
	k->alloc = sz;
	k->mem = mlock(p, sz) == 0 ? KEYMEM_LOCKED : KEYMEM_PLAIN;
#ifdef MADV_DONTDUMP
	(void)madvise(p, sz, MADV_DONTDUMP);
#endif
	return k;
}

void crypto_free_enckey(struct enckey *k)
{
	if (!k)
		return;
	if (k->bytes) {
		if (k->mem == KEYMEM_SECURE) {
			OPENSSL_secure_clear_free(k->bytes, k->alloc);
		} else {
			OPENSSL_cleanse(k->bytes, k->alloc);
#ifdef MADV_DODUMP
			(void)madvise(k->bytes, k->alloc, MADV_DODUMP);
#endif
			if (k->mem == KEYMEM_LOCKED)
				(void)munlock(k->bytes, k->alloc);
			free(k->bytes);
		}
	}
	free(k);
}

const unsigned char *crypto_slot_key(const struct enckey *k, enum crypto_slot slot)
{
	if (!k || (int)slot < SLOT_TOKEN || slot > SLOT_VALUE)
		return NULL;
	return k->bytes + (size_t)slot * CRYPTO_SLOT_KEY_LEN;
}

/* ---- the key file ---- */

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int enckey_err(struct error *err, const char *what, const char *path, const char *why)
{
	return err_set(err, ERRK_PI, ERR_HSM, "%s %s: %s", what, path, why);
}

int crypto_create_enckey(const char *path, const char *b64, struct error *err)
{
	unsigned char key[CRYPTO_ENCKEY_LEN];
	int rc = -1;

	if (!path || !*path)
		return err_set(err, ERRK_PI, ERR_HSM, "no encryption key file given");
	if (b64) {
		size_t n = 0;
		unsigned char *raw = crypto_b64_decode(b64, &n);
		if (!raw)
			return err_set(err, ERRK_PI, ERR_HSM, "the encryption key is not valid base64");
		if (n != CRYPTO_ENCKEY_LEN) {
			crypto_free_secret(raw, n);
			return err_set(err, ERRK_PI, ERR_HSM,
				       "the encryption key must be %d bytes (base64 of 96 bytes), got %zu bytes",
				       CRYPTO_ENCKEY_LEN, n);
		}
		memcpy(key, raw, sizeof(key));
		crypto_free_secret(raw, n);
	} else if (crypto_random(key, sizeof(key)) < 0) {
		return err_set(err, ERRK_PI, ERR_HSM, "cannot get random bytes for the encryption key");
	}

	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
	if (fd < 0) {
		if (errno == EEXIST)
			enckey_err(err, "cannot create encryption key file", path, "file exists");
		else
			enckey_err(err, "cannot create encryption key file", path, strerror(errno));
		goto out;
	}
	/* umask can only clear bits; make the mode exactly 0400 anyway */
	if (fchmod(fd, 0400) < 0 || write_all(fd, key, sizeof(key)) < 0 || fsync(fd) < 0) {
		enckey_err(err, "cannot write encryption key file", path, strerror(errno));
		close(fd);
		unlink(path);
		goto out;
	}
	if (close(fd) < 0) {
		enckey_err(err, "cannot write encryption key file", path, strerror(errno));
		unlink(path);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

struct enckey *crypto_load_enckey(const char *path, struct error *err)
{
	struct enckey *k = NULL;
	struct stat st;

	if (!path || !*path) {
		err_set(err, ERRK_PI, ERR_HSM, "no encryption key file given (PI_ENCFILE)");
		return NULL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		enckey_err(err, "cannot open encryption key file", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		enckey_err(err, "encryption key file", path, "not a regular file");
		goto fail;
	}
	if (st.st_size > 100) {
		/* privacyIDEA's rule: a file longer than 100 bytes is encrypted */
		enckey_err(err, "encryption key file", path,
			   "encrypted key files are not supported yet");
		goto fail;
	}
	if (st.st_size != CRYPTO_ENCKEY_LEN) {
		err_set(err, ERRK_PI, ERR_HSM, "encryption key file %s: must be exactly %d bytes, has %lld", path,
			CRYPTO_ENCKEY_LEN, (long long)st.st_size);
		goto fail;
	}
	k = enckey_alloc();
	if (!k) {
		err_set(err, ERRK_PI, ERR_HSM, "out of memory for the encryption key");
		goto fail;
	}
	size_t got = 0;
	while (got < CRYPTO_ENCKEY_LEN) {
		ssize_t r = read(fd, k->bytes + got, CRYPTO_ENCKEY_LEN - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			enckey_err(err, "cannot read encryption key file", path,
				   r < 0 ? strerror(errno) : "file shrank while reading");
			goto fail;
		}
		got += (size_t)r;
	}
	close(fd);
	return k;
fail:
	crypto_free_enckey(k);
	close(fd);
	return NULL;
}

/* ---- AES-256-CBC ---- */

static int aes_cbc(int enc, const unsigned char *key, const unsigned char *iv, const unsigned char *in,
		   size_t inlen, unsigned char *out, size_t *outlen, int pad)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ok = 0, l1 = 0, l2 = 0;
	if (!ctx || inlen > INT_MAX - AES_BLOCK)
		goto out;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv, enc) != 1)
		goto out;
	EVP_CIPHER_CTX_set_padding(ctx, pad);
	if (EVP_CipherUpdate(ctx, out, &l1, in, (int)inlen) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + l1, &l2) != 1)
		goto out;
	*outlen = (size_t)l1 + (size_t)l2;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

static const char HEXDIGITS[] = "0123456789abcdef";

/* Encrypt with a fresh random IV; the padding is the process setting. */
static int encrypt_raw(const struct enckey *k, enum crypto_slot slot, const void *data, size_t len,
		       unsigned char iv[IV_LEN], unsigned char **ct, size_t *ctlen, struct error *err)
{
	const unsigned char *key = crypto_slot_key(k, slot);
	unsigned char *plain = NULL, *out = NULL;
	size_t plen = 0, olen = 0;
	int legacy = atomic_load(&g_padding) == CRYPTO_PAD_LEGACY;

	if (!key)
		return err_set(err, ERRK_PI, ERR_HSM, "no encryption key loaded");
	if (!data && len)
		return err_set(err, ERRK_PI, ERR_HSM, "nothing to encrypt");
	if (len > (size_t)INT_MAX / 4)
		return err_set(err, ERRK_PI, ERR_HSM, "value too long to encrypt");
	if (crypto_random(iv, IV_LEN) < 0)
		return err_set(err, ERRK_PI, ERR_HSM, "cannot get random bytes for the IV");

	if (legacy) {
		/* hex(data) + "\x01\x02" + zero bytes to the block size */
		plen = 2 * len + 2;
		plen += (AES_BLOCK - plen % AES_BLOCK) % AES_BLOCK;
		plain = calloc(1, plen);
		if (!plain)
			goto oom;
		const unsigned char *d = data;
		for (size_t i = 0; i < len; i++) {
			plain[2 * i] = (unsigned char)HEXDIGITS[d[i] >> 4];
			plain[2 * i + 1] = (unsigned char)HEXDIGITS[d[i] & 15];
		}
		plain[2 * len] = 0x01;
		plain[2 * len + 1] = 0x02;
	}
	out = malloc((legacy ? plen : len) + AES_BLOCK);
	if (!out)
		goto oom;
	if (aes_cbc(1, key, iv, legacy ? plain : data, legacy ? plen : len, out, &olen, !legacy) < 0) {
		crypto_free_secret(plain, plen);
		free(out);
		return err_set(err, ERRK_PI, ERR_HSM, "encryption failed");
	}
	crypto_free_secret(plain, plen);
	*ct = out;
	*ctlen = olen;
	return 0;
oom:
	crypto_free_secret(plain, plen);
	return err_set(err, ERRK_PI, ERR_HSM, "out of memory");
}

/* Length of the PKCS#7 padding of buf, or 0 if it is not validly padded. */
static size_t pkcs7_padlen(const unsigned char *buf, size_t len)
{
	if (len == 0 || len % AES_BLOCK)
		return 0;
	unsigned n = buf[len - 1];
	if (n == 0 || n > AES_BLOCK)
		return 0;
	for (size_t i = len - n; i < len; i++)
		if (buf[i] != n)
			return 0;
	return n;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex-decode exactly n chars (not NUL-terminated) into a new buffer. */
static unsigned char *hex_decode_n(const char *hex, size_t n, size_t *len)
{
	if (n % 2)
		return NULL;
	unsigned char *out = malloc(n / 2 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			crypto_free_secret(out, n / 2 + 1);
			return NULL;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	if (len)
		*len = n / 2;
	return out;
}

/* Decrypt and remove the padding: PKCS#7 when it is valid, else the legacy
 * scheme (cut at the last "\x01\x02", hex-decode the rest). */
static unsigned char *decrypt_raw(const struct enckey *k, enum crypto_slot slot, const unsigned char *iv,
				  const unsigned char *ct, size_t ctlen, size_t *len, struct error *err)
{
	const unsigned char *key = crypto_slot_key(k, slot);
	unsigned char *plain = NULL, *res = NULL;
	size_t plen = 0, rlen = 0;

	if (!key) {
		err_set(err, ERRK_PI, ERR_HSM, "no encryption key loaded");
		return NULL;
	}
	if (ctlen == 0 || ctlen % AES_BLOCK) {
		err_set(err, ERRK_PI, ERR_HSM, "cannot decrypt: ciphertext is not a multiple of 16 bytes");
		return NULL;
	}
	plain = malloc(ctlen + AES_BLOCK);
	if (!plain) {
		err_set(err, ERRK_PI, ERR_HSM, "out of memory");
		return NULL;
	}
	if (aes_cbc(0, key, iv, ct, ctlen, plain, &plen, 0) < 0) {
		err_set(err, ERRK_PI, ERR_HSM, "decryption failed");
		goto out;
	}
	size_t pad = pkcs7_padlen(plain, plen);
	if (pad) {
		rlen = plen - pad;
		res = malloc(rlen + 1);
		if (!res) {
			err_set(err, ERRK_PI, ERR_HSM, "out of memory");
			goto out;
		}
		memcpy(res, plain, rlen);
		res[rlen] = '\0';
	} else {
		size_t end = plen;
		for (size_t i = plen; i >= 2; i--)
			if (plain[i - 2] == 0x01 && plain[i - 1] == 0x02) {
				end = i - 2;
				break;
			}
		res = hex_decode_n((const char *)plain, end, &rlen);
		if (!res) {
			err_set(err, ERRK_PI, ERR_HSM, "decryption failed: bad padding (wrong key or corrupt value)");
			goto out;
		}
	}
	if (len)
		*len = rlen;
out:
	crypto_free_secret(plain, ctlen + AES_BLOCK);
	return res;
}

char *crypto_encrypt_value(const struct enckey *k, enum crypto_slot slot, const void *data, size_t len,
			   struct error *err)
{
	unsigned char iv[IV_LEN], *ct = NULL;
	size_t ctlen = 0;
	if (encrypt_raw(k, slot, data, len, iv, &ct, &ctlen, err) < 0)
		return NULL;
	char *out = malloc(2 * IV_LEN + 1 + 2 * ctlen + 1);
	if (out) {
		char *p = out;
		for (size_t i = 0; i < IV_LEN; i++) {
			*p++ = HEXDIGITS[iv[i] >> 4];
			*p++ = HEXDIGITS[iv[i] & 15];
		}
		*p++ = ':';
		for (size_t i = 0; i < ctlen; i++) {
			*p++ = HEXDIGITS[ct[i] >> 4];
			*p++ = HEXDIGITS[ct[i] & 15];
		}
		*p = '\0';
	} else {
		err_set(err, ERRK_PI, ERR_HSM, "out of memory");
	}
	free(ct);
	return out;
}

/* Shared by both decryption forms: hex IV and hex ciphertext as spans. */
static unsigned char *decrypt_hex(const struct enckey *k, enum crypto_slot slot, const char *hiv, size_t hivlen,
				  const char *hct, size_t hctlen, size_t *len, struct error *err)
{
	size_t ivlen = 0, ctlen = 0;
	unsigned char *iv = hex_decode_n(hiv, hivlen, &ivlen);
	unsigned char *ct = hex_decode_n(hct, hctlen, &ctlen);
	unsigned char *res = NULL;
	if (!iv || !ct)
		err_set(err, ERRK_PI, ERR_HSM, "cannot decrypt: value is not hex");
	else if (ivlen != IV_LEN)
		err_set(err, ERRK_PI, ERR_HSM, "cannot decrypt: the IV must be 16 bytes");
	else
		res = decrypt_raw(k, slot, iv, ct, ctlen, len, err);
	free(iv);
	free(ct);
	return res;
}

unsigned char *crypto_decrypt_value(const struct enckey *k, enum crypto_slot slot, const char *value,
				    size_t *len, struct error *err)
{
	const char *colon = value ? strchr(value, ':') : NULL;
	if (!colon) {
		err_set(err, ERRK_PI, ERR_HSM, "cannot decrypt: value is not \"<iv>:<ciphertext>\"");
		return NULL;
	}
	return decrypt_hex(k, slot, value, (size_t)(colon - value), colon + 1, strlen(colon + 1), len, err);
}

int crypto_encrypt_split(const struct enckey *k, enum crypto_slot slot, const void *data, size_t len,
			 char **hex_ct, char **hex_iv, struct error *err)
{
	unsigned char iv[IV_LEN], *ct = NULL;
	size_t ctlen = 0;
	*hex_ct = *hex_iv = NULL;
	if (encrypt_raw(k, slot, data, len, iv, &ct, &ctlen, err) < 0)
		return -1;
	*hex_ct = crypto_hex_encode(ct, ctlen);
	*hex_iv = crypto_hex_encode(iv, IV_LEN);
	free(ct);
	if (!*hex_ct || !*hex_iv) {
		free(*hex_ct);
		free(*hex_iv);
		*hex_ct = *hex_iv = NULL;
		return err_set(err, ERRK_PI, ERR_HSM, "out of memory");
	}
	return 0;
}

unsigned char *crypto_decrypt_split(const struct enckey *k, enum crypto_slot slot, const char *hex_ct,
				    const char *hex_iv, size_t *len, struct error *err)
{
	if (!hex_ct || !hex_iv) {
		err_set(err, ERRK_PI, ERR_HSM, "cannot decrypt: missing ciphertext or IV");
		return NULL;
	}
	return decrypt_hex(k, slot, hex_iv, strlen(hex_iv), hex_ct, strlen(hex_ct), len, err);
}

int crypto_encrypt_seed(const struct enckey *k, const void *seed, size_t len, char **hex_ct, char **hex_iv,
			struct error *err)
{
	char *hex = crypto_hex_encode(seed, len);
	if (!hex) {
		*hex_ct = *hex_iv = NULL;
		return err_set(err, ERRK_PI, ERR_HSM, "out of memory");
	}
	int rc = crypto_encrypt_split(k, SLOT_TOKEN, hex, 2 * len, hex_ct, hex_iv, err);
	crypto_free_str(hex);
	return rc;
}

unsigned char *crypto_decrypt_seed(const struct enckey *k, const char *hex_ct, const char *hex_iv, size_t *len,
				   struct error *err)
{
	size_t hlen = 0;
	unsigned char *hex = crypto_decrypt_split(k, SLOT_TOKEN, hex_ct, hex_iv, &hlen, err);
	if (!hex)
		return NULL;
	unsigned char *seed = hex_decode_n((const char *)hex, hlen, len);
	crypto_free_secret(hex, hlen);
	if (!seed)
		err_set(err, ERRK_PI, ERR_HSM, "the decrypted token key is not hex");
	return seed;
}

/* ---- random ---- */

int crypto_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		int n = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(p, n) != 1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int crypto_random_string(char *out, size_t len, const char *alphabet)
{
	size_t n = alphabet ? strlen(alphabet) : 0;
	if (!out || n == 0)
		return -1;
	/* accept bytes below the largest multiple of n that fits in a byte */
	unsigned limit = 256 - 256 % (unsigned)n;
	unsigned char buf[64];
	size_t have = 0, pos = 0, i = 0;
	while (i < len) {
		if (pos == have) {
			if (crypto_random(buf, sizeof(buf)) < 0) {
				OPENSSL_cleanse(buf, sizeof(buf));
				return -1;
			}
			have = sizeof(buf);
			pos = 0;
		}
		unsigned b = buf[pos++];
		if (b < limit)
			out[i++] = alphabet[b % n];
	}
	out[len] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int crypto_random_hex(char *out, size_t nbytes)
{
	if (!out || nbytes > SIZE_MAX / 2 - 1)
		return -1;
	unsigned char *raw = malloc(nbytes ? nbytes : 1);
	if (!raw || crypto_random(raw, nbytes) < 0) {
		free(raw);
		return -1;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = HEXDIGITS[raw[i] >> 4];
		out[2 * i + 1] = HEXDIGITS[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	crypto_free_secret(raw, nbytes);
	return 0;
}

/* ---- comparison and wiping ---- */

int crypto_memeq(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	if (alen == 0)
		return 1;
	if (!a || !b)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

int crypto_streq(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	return crypto_memeq(a, strlen(a), b, strlen(b));
}

void crypto_free_secret(void *p, size_t len)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

void crypto_free_str(char *s)
{
	if (s)
		crypto_free_secret(s, strlen(s));
}

/* ---- hex and base64 ---- */

char *crypto_hex_encode(const void *data, size_t len)
{
	if (len > (SIZE_MAX - 1) / 2)
		return NULL;
	char *out = malloc(2 * len + 1);
	if (!out)
		return NULL;
	const unsigned char *d = data;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = HEXDIGITS[d[i] >> 4];
		out[2 * i + 1] = HEXDIGITS[d[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

unsigned char *crypto_hex_decode(const char *hex, size_t *len)
{
	if (!hex)
		return NULL;
	return hex_decode_n(hex, strlen(hex), len);
}

static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode_alpha(const void *data, size_t len, const char *alpha, int pad)
{
	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	size_t olen = (len + 2) / 3 * 4;
	char *out = malloc(olen + 1);
	if (!out)
		return NULL;
	const unsigned char *d = data;
	char *p = out;
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
		*p++ = alpha[v >> 18];
		*p++ = alpha[v >> 12 & 63];
		*p++ = alpha[v >> 6 & 63];
		*p++ = alpha[v & 63];
	}
	if (len - i == 1) {
		unsigned v = (unsigned)d[i] << 16;
		*p++ = alpha[v >> 18];
		*p++ = alpha[v >> 12 & 63];
		if (pad) {
			*p++ = '=';
			*p++ = '=';
		}
	} else if (len - i == 2) {
		unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8;
		*p++ = alpha[v >> 18];
		*p++ = alpha[v >> 12 & 63];
		*p++ = alpha[v >> 6 & 63];
		if (pad)
			*p++ = '=';
	}
	*p = '\0';
	return out;
}

static int b64_val(const char *alpha, int c)
{
	if (c == '\0' || c == '=')
		return -1;
	const char *p = strchr(alpha, c);
	return p ? (int)(p - alpha) : -1;
}

/* Decode n chars.  pad: 0 padding forbidden, 1 optional (correct when
 * present).  canonical: the unused low bits of the last char must be 0. */
static unsigned char *b64_decode_alpha(const char *s, size_t n, const char *alpha, int pad, int canonical,
				       size_t *len)
{
	if (pad && n % 4 == 0 && n >= 4) {
		if (s[n - 1] == '=')
			n--;
		if (s[n - 1] == '=')
			n--;
	}
	if (n % 4 == 1)
		return NULL;
	unsigned char *out = malloc(n / 4 * 3 + 3);
	if (!out)
		return NULL;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(alpha, (unsigned char)s[i]);
		if (v < 0) {
			crypto_free_secret(out, n / 4 * 3 + 3);
			return NULL;
		}
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (canonical && bits && (acc & ((1u << bits) - 1))) {
		crypto_free_secret(out, n / 4 * 3 + 3);
		return NULL;
	}
	out[o] = '\0';
	if (len)
		*len = o;
	return out;
}

char *crypto_b64_encode(const void *data, size_t len)
{
	return b64_encode_alpha(data, len, B64STD, 1);
}

unsigned char *crypto_b64_decode(const char *b64, size_t *len)
{
	if (!b64)
		return NULL;
	return b64_decode_alpha(b64, strlen(b64), B64STD, 1, 0, len);
}

char *crypto_b64url_encode(const void *data, size_t len)
{
	return b64_encode_alpha(data, len, B64URL, 0);
}

unsigned char *crypto_b64url_decode(const char *s, size_t *len)
{
	if (!s)
		return NULL;
	return b64_decode_alpha(s, strlen(s), B64URL, 0, 1, len);
}
