/*
 * crypto_sign.c — RSA keys for audit and response signing, as
 * privacyIDEA's lib/crypto.py Sign class: RSA-PSS, MGF1-SHA256, maximum
 * salt length, SHA-256, over the given bytes (privacyIDEA signs the UTF-8
 * bytes of the string); the result is "rsa_sha256_pss:" + lowercase hex.
 *
 * The loaded EVP_PKEY is only read after loading, which OpenSSL 3 allows
 * from many threads; every signature gets its own EVP_MD_CTX/EVP_PKEY_CTX.
 * Private key bytes read from disk are wiped; keys never reach a log.
 */
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#define SIG_PREFIX "rsa_sha256_pss:"
#define MAX_KEY_FILE (1024 * 1024)

struct signer {
	EVP_PKEY *pkey;
};

/* The last OpenSSL error as text (for messages), and the queue cleared. */
static const char *ossl_why(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown error");
	ERR_clear_error();
	return buf;
}

/* Read a whole (small) file into a malloc'd buffer; the caller wipes it. */
static unsigned char *read_file(const char *path, size_t *len, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf = NULL;
	if (fd < 0) {
		err_internal(err, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_KEY_FILE) {
		err_internal(err, "%s: not a regular file of at most 1 MiB", path);
		goto fail;
	}
	size_t cap = (size_t)st.st_size, got = 0;
	buf = malloc(cap + 1);
	if (!buf) {
		err_internal(err, "out of memory");
		goto fail;
	}
	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_internal(err, "cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	*len = got;
	return buf;
fail:
	if (buf)
		crypto_free_secret(buf, (size_t)st.st_size + 1);
	close(fd);
	return NULL;
}

/* Never prompt for a passphrase: encrypted keys are refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* Create path exclusively with `mode` and write pkey's private key (PKCS#8,
 * unencrypted) or public key (SubjectPublicKeyInfo) as PEM. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *pkey, int private, struct error *err)
{
	char why[256];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return err_internal(err, "cannot create %s: %s", path,
				    errno == EEXIST ? "file exists" : strerror(errno));
	if (fchmod(fd, mode) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return err_internal(err, "cannot write %s: %s", path, strerror(e));
	}
	BIO *bio = BIO_new_fd(fd, BIO_NOCLOSE);
	int ok = bio && (private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
				 : PEM_write_bio_PUBKEY(bio, pkey)) == 1 &&
		 BIO_flush(bio) == 1;
	BIO_free(bio);
	if (ok && fsync(fd) < 0)
		ok = 0;
	if (close(fd) < 0)
		ok = 0;
	if (!ok) {
		unlink(path);
		return err_internal(err, "cannot write %s: %s", path, ossl_why(why, sizeof(why)));
	}
	return 0;
}

int crypto_create_audit_keys(const char *priv_path, const char *pub_path, int bits, struct error *err)
{
	char why[256];
	struct stat st;
	if (!priv_path || !*priv_path || !pub_path || !*pub_path)
		return err_internal(err, "both key file names are needed");
	if (bits <= 0)
		bits = 2048;
	if (bits < 2048 || bits > 16384)
		return err_internal(err, "RSA key size must be 2048..16384 bits, not %d", bits);
	/* refuse before the (slow) key generation if either file is there */
	if (lstat(priv_path, &st) == 0)
		return err_internal(err, "cannot create %s: file exists", priv_path);
	if (lstat(pub_path, &st) == 0)
		return err_internal(err, "cannot create %s: file exists", pub_path);

	EVP_PKEY *pkey = EVP_RSA_gen((unsigned)bits);
	if (!pkey)
		return err_internal(err, "RSA key generation failed: %s", ossl_why(why, sizeof(why)));
	int rc = write_pem(priv_path, 0400, pkey, 1, err);
	if (rc == 0 && (rc = write_pem(pub_path, 0644, pkey, 0, err)) < 0)
		unlink(priv_path);
	EVP_PKEY_free(pkey);
	return rc;
}

struct signer *crypto_signer_load(const char *priv_path, struct error *err)
{
	char why[256];
	size_t len = 0;
	if (!priv_path || !*priv_path) {
		err_internal(err, "no private key file given");
		return NULL;
	}
	unsigned char *pem = read_file(priv_path, &len, err);
	if (!pem)
		return NULL;
	struct signer *s = NULL;
	BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	crypto_free_secret(pem, len + 1);
	if (!pkey) {
		err_internal(err, "cannot read the RSA private key in %s: %s", priv_path, ossl_why(why, sizeof(why)));
		return NULL;
	}
	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		EVP_PKEY_free(pkey);
		err_internal(err, "%s does not hold an RSA private key", priv_path);
		return NULL;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		EVP_PKEY_free(pkey);
		err_internal(err, "out of memory");
		return NULL;
	}
	s->pkey = pkey;
	return s;
}

void crypto_signer_free(struct signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pkey);
	free(s);
}

/* Set PSS, MGF1-SHA256 and the salt length on a fresh signing context. */
static int set_pss(EVP_PKEY_CTX *pctx, int saltlen)
{
	return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) == 1;
}

char *crypto_sign(struct signer *s, const void *data, size_t len, struct error *err)
{
	char why[256];
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL; /* owned by md */
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *out = NULL;

	if (!s || !s->pkey || (!data && len)) {
		err_internal(err, "no signing key");
		return NULL;
	}
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL, s->pkey, NULL) != 1 ||
	    !set_pss(pctx, RSA_PSS_SALTLEN_MAX) || EVP_DigestSign(md, NULL, &siglen, data, len) != 1)
		goto fail;
	sig = malloc(siglen);
	if (!sig || EVP_DigestSign(md, sig, &siglen, data, len) != 1)
		goto fail;
	char *hex = crypto_hex_encode(sig, siglen);
	size_t n = hex ? sizeof(SIG_PREFIX) + strlen(hex) : 0;
	out = n ? malloc(n) : NULL;
	if (out)
		snprintf(out, n, SIG_PREFIX "%s", hex);
	else
		err_internal(err, "out of memory");
	free(hex);
	free(sig);
	EVP_MD_CTX_free(md);
	return out;
fail:
	err_internal(err, "signing failed: %s", ossl_why(why, sizeof(why)));
	free(sig);
	EVP_MD_CTX_free(md);
	return NULL;
}

/* A public key from PEM: SubjectPublicKeyInfo or PKCS#1 RSAPublicKey. */
static EVP_PKEY *load_public(const char *path)
{
	struct error e;
	size_t len = 0;
	unsigned char *pem = read_file(path, &len, &e);
	if (!pem)
		return NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_DECODER_CTX *dctx =
		OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	const unsigned char *p = pem;
	size_t left = len;
	if (!dctx || OSSL_DECODER_from_data(dctx, &p, &left) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	free(pem);
	ERR_clear_error();
	return pkey;
}

int crypto_verify_signature(const char *pub_path, const void *data, size_t len, const char *sig)
{
	if (!pub_path)
		return -1;
	EVP_PKEY *pkey = load_public(pub_path);
	if (!pkey)
		return -1;
	int rc = 0;
	size_t rawlen = 0;
	unsigned char *raw = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	if (!sig || strncmp(sig, SIG_PREFIX, strlen(SIG_PREFIX)) != 0 || (!data && len))
		goto out;
	raw = crypto_hex_decode(sig + strlen(SIG_PREFIX), &rawlen);
	if (!raw || rawlen != (size_t)EVP_PKEY_get_size(pkey))
		goto out;
	md = EVP_MD_CTX_new();
	if (md && EVP_DigestVerifyInit_ex(md, &pctx, "SHA256", NULL, NULL, pkey, NULL) == 1 &&
	    set_pss(pctx, RSA_PSS_SALTLEN_AUTO))
		rc = EVP_DigestVerify(md, raw, rawlen, data, len) == 1;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	free(raw);
	EVP_PKEY_free(pkey);
	return rc;
}
