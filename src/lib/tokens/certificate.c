/*
 * certificate.c — the certificate token (privacyIDEA's
 * CertificateTokenClass, serial prefix CRT): one X.509 certificate per
 * token, obtained by a CA connector from a PEM CSR or SPKAC (`request`),
 * uploaded as is (`certificate`), or issued for a key pair generated here
 * (`genkey`/`generate`, delivered once as an encrypted PKCS#12).  No OTP:
 * check_otp never matches.  The enrollment policies are asked through
 * the request's policy context (x->pol): certificate_ca_connector,
 * certificate_template, certificate_request_subject_component,
 * certificate_require_attestation and the caller's
 * certificate_trusted_Attestation_CA_path (attestation chains are checked
 * with OpenSSL's X509_verify_cert, never a shell-out).
 *
 * All CA work (signing) happens inside enroll, before the core writes
 * anything; a failure returns -1 and nothing is stored.  A certificate the
 * CA already issued is revoked again when the enrollment fails afterwards
 * (enroll_failed).  Revocation at the CA (revoke) runs inside the core's
 * revoke transaction.  No SQL here and no HTTP: the connector does the
 * CA's files, the core the tokeninfo rows.
 */
#include "tokentype.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "../caconnector_cfg.h"
#include "../crypto.h"
#include "../log.h"
#include "../polctx.h"
#include "../user.h"

#define CRT_MAX_PEM (64 * 1024)
/* privacyIDEA's DEFAULT_CA_PATH: the trusted attestation chains when no
 * certificate_trusted_Attestation_CA_path policy matches. */
#define CRT_DEFAULT_CA_PATH "/etc/privacyidea/trusted_attestation_ca"
/* Bounds for one trusted directory (admin-provided files). */
#define CRT_MAX_CHAIN_FILES 1000
#define CRT_MAX_CHAIN_CERTS 32

static int crt_true(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

static int64_t crt_check_otp(struct token_ctx *x, const struct token *t, const char *otp, struct otp_match *m,
			     struct error *err)
{
	return TOKEN_OTP_NOMATCH; /* a certificate token has no OTP */
}

/* "Nov 24 06:02:59 2026 GMT" as ASN1_TIME_print writes it. */
static void crt_time(const ASN1_TIME *t, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	out[0] = '\0';
	if (!b)
		return;
	if (ASN1_TIME_print(b, t)) {
		int n = BIO_read(b, out, (int)len - 1);
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
}

static char *crt_name(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	if (!b)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		char *p;
		long len = BIO_get_mem_data(b, &p);
		s = malloc((size_t)len + 1);
		if (s) {
			memcpy(s, p, (size_t)len);
			s[len] = '\0';
		}
	}
	BIO_free(b);
	return s;
}

static X509 *crt_parse(const char *pem)
{
	const char *begin = strstr(pem, "-----BEGIN CERTIFICATE-----");
	if (!begin)
		return NULL;
	BIO *b = BIO_new_mem_buf(begin, -1);
	X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return c;
}

static char *crt_pem(X509 *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	if (b && PEM_write_bio_X509(b, c)) {
		long len = BIO_get_mem_data(b, &p);
		s = malloc((size_t)len + 1);
		if (s) {
			memcpy(s, p, (size_t)len);
			s[len] = '\0';
		}
	}
	BIO_free(b);
	return s;
}

/* tokeninfo certificate (clean PEM), subject, issuer, certificate_serial,
 * certificate_not_before/_after of a PEM certificate into info. */
static int crt_cert_info(const char *pem_in, json_t *info, struct error *err)
{
	X509 *c = crt_parse(pem_in);
	if (!c)
		return err_param(err, "The certificate is not a PEM encoded X.509 certificate.");
	char *pem = crt_pem(c), *subj = crt_name(X509_get_subject_name(c)), *iss = crt_name(X509_get_issuer_name(c));
	char nb[64], na[64], *serial = NULL;
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(c), NULL);
	if (bn)
		serial = BN_bn2hex(bn);
	crt_time(X509_get0_notBefore(c), nb, sizeof(nb));
	crt_time(X509_get0_notAfter(c), na, sizeof(na));
	int rc = -1;
	if (!pem || !subj || !iss || !serial) {
		err_internal(err, "out of memory");
	} else {
		json_object_set_new(info, "certificate", json_string(pem));
		json_object_set_new(info, "subject", json_string(subj));
		json_object_set_new(info, "issuer", json_string(iss));
		json_object_set_new(info, "certificate_serial", json_string(serial));
		json_object_set_new(info, "certificate_not_before", json_string(nb));
		json_object_set_new(info, "certificate_not_after", json_string(na));
		rc = 0;
	}
	free(pem);
	free(subj);
	free(iss);
	OPENSSL_free(serial);
	BN_free(bn);
	X509_free(c);
	return rc;
}

/* The tokeninfo of the certificate, and detail.certificate as privacyIDEA
 * (issued by a CA: the `openssl x509 -text` dump and the PEM block). */
static int crt_store_cert(struct token_enroll *e, const char *pem_in, int want_text, struct error *err)
{
	if (crt_cert_info(pem_in, e->info, err) < 0)
		return -1;
	const char *pem = json_string_value(json_object_get(e->info, "certificate"));
	if (!want_text) {
		json_object_set_new(e->init_details, "certificate", json_string(pem_in));
		return 0;
	}
	char *text = caconnector_cert_text(pem, err);
	if (!text)
		return -1;
	json_object_set_new(e->init_details, "certificate", json_string(text));
	free(text);
	return 0;
}

/* The CA certificate file of a connector (its `cacert` parameter), for the
 * PKCS#12 chain; NULL when there is none or it cannot be read. */
static X509 *crt_ca_cert(struct snapshot *s, const char *ca)
{
	json_t *l = caconnector_list(s, ca);
	json_t *one = json_array_get(l, 0);
	const char *path = json_string_value(json_object_get(json_object_get(one, "data"), "cacert"));
	X509 *c = NULL;
	if (path) {
		FILE *f = fopen(path, "r");
		if (f) {
			c = PEM_read_X509(f, NULL, NULL, NULL);
			fclose(f);
		}
	}
	json_decref(l);
	return c;
}

/* The key pair: RSA keysize (>= 2048, default 2048) or EC (keytype=ec,
 * curve P-256, or P-384 with keysize 384). */
static EVP_PKEY *crt_keygen(struct token_enroll *e, struct error *err)
{
	const char *kt = enroll_param(e, "keytype");
	const char *ks = enroll_param(e, "keysize");
	long bits = 0;
	if (ks && *ks) {
		char *end;
		bits = strtol(ks, &end, 10);
		if (*end || bits <= 0)
			return err_param(err, "keysize must be a positive integer."), NULL;
	}
	EVP_PKEY *k = NULL;
	if (kt && !strcasecmp(kt, "ec")) {
		if (bits && bits != 256 && bits != 384)
			return err_param(err, "keysize of an EC key must be 256 or 384."), NULL;
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", bits == 384 ? "P-384" : "P-256");
	} else if (!kt || !*kt || !strcasecmp(kt, "rsa")) {
		if (!bits)
			bits = 2048;
		if (bits < 2048 || bits > 8192)
			return err_param(err, "keysize of an RSA key must be between 2048 and 8192."), NULL;
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else {
		return err_param(err, "keytype must be rsa or ec."), NULL;
	}
	if (!k)
		err_internal(err, "key generation failed");
	return k;
}

/* A PEM CSR with CN = the owner's login, then (privacyIDEA 3.8,
 * certificate_request_subject_component) emailAddress and OU = realm when
 * given, signed with SHA-256.  The CA's policy section may reorder them. */
static char *crt_make_csr(EVP_PKEY *k, const char *cn, const char *email, const char *ou, struct error *err)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = r ? X509_REQ_get_subject_name(r) : NULL;
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	if (r && n && b && X509_REQ_set_version(r, 0) &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
	    (!email ||
	     X509_NAME_add_entry_by_txt(n, "emailAddress", MBSTRING_UTF8, (const unsigned char *)email, -1, -1, 0)) &&
	    (!ou || X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const unsigned char *)ou, -1, -1, 0)) &&
	    X509_REQ_set_pubkey(r, k) && X509_REQ_sign(r, k, EVP_sha256()) && PEM_write_bio_X509_REQ(b, r)) {
		long len = BIO_get_mem_data(b, &p);
		s = malloc((size_t)len + 1);
		if (s) {
			memcpy(s, p, (size_t)len);
			s[len] = '\0';
		}
	}
	if (!s) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CSR, "could not build the certificate request");
	}
	BIO_free(b);
	X509_REQ_free(r);
	return s;
}

/* base64 (no line breaks) of a PKCS#12 with key, certificate and chain. */
static char *crt_pkcs12(EVP_PKEY *k, const char *cert_pem, X509 *cacert, const char *pass, struct error *err)
{
	X509 *c = cert_pem ? crt_parse(cert_pem) : NULL; /* NULL while pending: the key only */
	STACK_OF(X509) *chain = sk_X509_new_null();
	PKCS12 *p12 = NULL;
	unsigned char *der = NULL;
	char *b64 = NULL;
	if ((c || !cert_pem) && chain && (!cacert || sk_X509_push(chain, cacert))) {
		/* OpenSSL 3 defaults: AES-256-CBC, PBKDF2, HMAC-SHA256 */
		p12 = PKCS12_create(pass, "certificatetoken", k, c, chain, 0, 0, 0, 0, 0);
	}
	int len = p12 ? i2d_PKCS12(p12, &der) : -1;
	if (len > 0) {
		b64 = malloc(((size_t)len + 2) / 3 * 4 + 1);
		if (b64)
			EVP_EncodeBlock((unsigned char *)b64, der, len);
	}
	if (!b64)
		err_internal(err, "could not build the PKCS#12 container");
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_X509_free(chain); /* cacert stays the caller's */
	X509_free(c);
	return b64;
}

static char *crt_key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
		long len = BIO_get_mem_data(b, &p);
		s = malloc((size_t)len + 1);
		if (s) {
			memcpy(s, p, (size_t)len);
			s[len] = '\0';
		}
	}
	BIO_free(b);
	return s;
}

/* A CSR without BEGIN/END lines gets them (privacyIDEA 3.12). */
static char *crt_normalise_request(const char *req)
{
	if (strstr(req, "-----BEGIN"))
		return strdup(req);
	size_t n = strlen(req) + 80;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n", req);
	return s;
}

/* Every certificate of one chain file, in file order (privacyIDEA's
 * parse_chainfile: the trusted root first, then the intermediates).  NULL
 * when the file holds none. */
static STACK_OF(X509) *crt_chain_file(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	STACK_OF(X509) *sk = b ? sk_X509_new_null() : NULL;
	X509 *x;
	while (sk && sk_X509_num(sk) < CRT_MAX_CHAIN_CERTS && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!sk_X509_push(sk, x))
			X509_free(x);
	ERR_clear_error();
	BIO_free(b);
	if (sk && sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		sk = NULL;
	}
	return sk;
}

/* privacyIDEA's verify_certificate with OpenSSL's verifier: the first
 * certificate of the chain is the trust anchor, each next one must be
 * issued by the one before and the attestation certificate by the last —
 * every certificate of the file on the path.  Like privacyIDEA the
 * validity periods are not checked; unlike it OpenSSL also checks the CA
 * constraints of the issuers.  1 verified, 0 not. */
static int crt_verify_chain(X509 *att, STACK_OF(X509) *chain)
{
	int n = sk_X509_num(chain), ok = 0;
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	for (int i = 1; untrusted && i < n; i++)
		if (!sk_X509_push(untrusted, sk_X509_value(chain, i)))
			goto out;
	if (!st || !ctx || !untrusted || n < 1 || !X509_STORE_add_cert(st, sk_X509_value(chain, 0)) ||
	    !X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME) ||
	    !X509_STORE_CTX_init(ctx, st, att, untrusted))
		goto out;
	if (X509_verify_cert(ctx) == 1) {
		STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);
		ok = path && sk_X509_num(path) == n + 1;
		if (!ok)
			log_debug("attestation certificate verified, but not through every certificate of the chain");
	} else {
		log_debug("Can not verify attestation certificate against chain: %s",
			  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	}
out:
	ERR_clear_error();
	sk_X509_free(untrusted); /* the certificates stay chain's */
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return ok;
}

static int crt_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* privacyIDEA's verify_certificate_path: 1 when the chain of any regular
 * file of any of the directories verifies att, else 0 (a missing
 * directory is logged, a file without certificates simply does not
 * verify). */
static int crt_verify_paths(X509 *att, json_t *dirs)
{
	size_t i;
	json_t *v;
	json_array_foreach(dirs, i, v) {
		const char *dir = json_string_value(v);
		DIR *d = dir ? opendir(dir) : NULL;
		if (!d) {
			log_warning("The configured attestation CA directory does not exist.");
			continue;
		}
		char **names = NULL;
		size_t n = 0, cap = 0;
		struct dirent *de;
		while ((de = readdir(d)) && n < CRT_MAX_CHAIN_FILES) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 16;
				char **nn = realloc(names, nc * sizeof(*nn));
				if (!nn)
					break;
				names = nn;
				cap = nc;
			}
			if ((names[n] = strdup(de->d_name)) != NULL)
				n++;
		}
		closedir(d);
		if (n)
			qsort(names, n, sizeof(*names), crt_strcmp);
		int verified = 0;
		for (size_t k = 0; k < n; k++) {
			char path[4096];
			struct stat sb;
			if (!verified && snprintf(path, sizeof(path), "%s/%s", dir, names[k]) < (int)sizeof(path) &&
			    stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
				STACK_OF(X509) *chain = crt_chain_file(path);
				if (chain) {
					verified = crt_verify_chain(att, chain);
					sk_X509_pop_free(chain, X509_free);
				}
			}
			free(names[k]);
		}
		free(names);
		if (verified)
			return 1;
	}
	return 0;
}

/* The attestation policies of an enrollment (privacyIDEA's prepolicy
 * required_piv_attestation and the type's get_default_settings). */
struct crt_attest_pol {
	int require;    /* certificate_require_attestation require_and_verify */
	int verify;     /* verify or require_and_verify */
	json_t *paths;  /* the trusted directories (array of strings) */
};

/* policy: enrollment.certificate_require_attestation (Match.user of the
 * owner, unique) */
static int crt_attestation_mode(struct token_enroll *e, struct crt_attest_pol *ap, struct error *err)
{
	struct polq q = { .scope = "enrollment", .action = "certificate_require_attestation", .user = e->owner };
	char *mode = NULL;
	int rc = polctx_value(e->x->pol, &q, 0, &mode, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		ap->require = !strcmp(mode, "require_and_verify");
		ap->verify = ap->require || !strcmp(mode, "verify");
	}
	free(mode);
	return 0;
}

/* policy: admin/user.certificate_trusted_Attestation_CA_path — in the
 * caller's scope (Match.generic scope=role with the owner and the admin),
 * all values, whitespace kept; none → CRT_DEFAULT_CA_PATH. */
static int crt_trusted_paths(struct token_enroll *e, struct crt_attest_pol *ap, struct error *err)
{
	const struct polctx *p = e->x->pol;
	json_t *vals = NULL;
	if (p && p->role) {
		struct polq q = { .scope = p->role,
				  .action = "certificate_trusted_Attestation_CA_path",
				  .user = e->owner,
				  .adminuser = p->adminuser,
				  .adminrealm = p->adminrealm };
		if (polctx_values(p, &q, POLICY_ALLOW_WHITESPACE, &vals, err) < 0)
			return -1;
	}
	if (!vals || json_array_size(vals) == 0) {
		json_decref(vals);
		vals = json_pack("[s]", CRT_DEFAULT_CA_PATH);
		if (!vals)
			return err_internal(err, "out of memory");
	}
	ap->paths = vals;
	return 0;
}

/* privacyIDEA: an attestation certificate sent with a PEM CSR must carry
 * the CSR's public key ("certificate request does not match attestation
 * certificate.", privacyIDEAError 10); then its chain is checked against
 * the trusted directories: a failure is only logged, unless the policy
 * says verify / require_and_verify ("Failed to verify certificate chain of
 * attestation certificate.", 10). */
static int crt_check_attestation(struct token_enroll *e, const char *req, const char *attestation,
				 const struct crt_attest_pol *ap, struct error *err)
{
	BIO *b = BIO_new_mem_buf(req, -1);
	X509_REQ *r = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	X509 *a = strlen(attestation) <= CRT_MAX_PEM ? crt_parse(attestation) : NULL;
	int rc = 0;
	ERR_clear_error();
	if (!r) {
		rc = err_set(err, ERRK_PI, ERR_CSR, "The certificate request is not a PEM encoded PKCS#10 request.");
	} else if (!X509_REQ_get0_pubkey(r) || X509_REQ_verify(r, X509_REQ_get0_pubkey(r)) != 1) {
		/* privacyIDEA checks the signature before the attestation */
		rc = err_set(err, ERRK_PI, ERR_CSR, "request has invalid signature.");
	} else if (!a) {
		rc = err_param(err, "The attestation is not a PEM encoded X.509 certificate.");
	} else if (EVP_PKEY_eq(X509_REQ_get0_pubkey(r), X509_get0_pubkey(a)) != 1) {
		log_warning("certificate request does not match attestation certificate.");
		rc = err_set(err, ERRK_PI, 10, "certificate request does not match attestation certificate.");
	} else if (!crt_verify_paths(a, ap->paths)) {
		log_warning("Failed to verify certificate chain of attestation certificate.");
		if (ap->verify)
			rc = err_set(err, ERRK_PI, 10, "Failed to verify certificate chain of attestation certificate.");
	} else {
		log_info("certificate token %s: attestation certificate verified",
			 e->t->r.serial ? e->t->r.serial : "");
	}
	ERR_clear_error();
	X509_free(a);
	X509_REQ_free(r);
	BIO_free(b);
	return rc;
}

/* The subject components of a server-generated request (privacyIDEA 3.8's
 * init_subject_components): "email" → the owner's email from the user
 * store, "realm" → OU = the owner's realm.  *email malloc'd or NULL. */
static int crt_subject_components(struct token_enroll *e, char **email, const char **ou, struct error *err)
{
	/* policy: enrollment.certificate_request_subject_component (Match.user
	 * of the owner, all values) */
	struct polq q = { .scope = "enrollment", .action = "certificate_request_subject_component", .user = e->owner };
	json_t *vals = NULL, *v;
	size_t i;
	int want_email = 0, want_realm = 0;
	*email = NULL;
	*ou = NULL;
	if (polctx_values(e->x->pol, &q, 0, &vals, err) < 0)
		return -1;
	json_array_foreach(vals, i, v) {
		const char *s = json_string_value(v);
		want_email |= s && !strcmp(s, "email");
		want_realm |= s && !strcmp(s, "realm");
	}
	json_decref(vals);
	if (want_realm && e->owner->realm[0])
		*ou = e->owner->realm;
	if (want_email) {
		json_t *info = NULL;
		if (user_info(e->x->snap, e->x->c, e->owner, &info, err) < 0)
			return -1;
		const char *m = json_string_value(json_object_get(info, "email"));
		if (m && *m && !(*email = strdup(m))) {
			json_decref(info);
			return err_internal(err, "out of memory");
		}
		json_decref(info);
	}
	return 0;
}

/* A value policy of the enrollment scope for the owner (unique), replacing
 * the request parameter as privacyIDEA's prepolicies do.  *out stays
 * unchanged when no policy matches. */
static int crt_policy_param(struct token_enroll *e, const char *action, char **out, struct error *err)
{
	struct polq q = { .scope = "enrollment", .action = action, .user = e->owner };
	char *v = NULL;
	int rc = polctx_value(e->x->pol, &q, 0, &v, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		free(*out);
		*out = v;
	}
	return 0;
}

/* Revoke what the CA issued for a failed enrollment (best effort). */
static void crt_undo(struct caconnector *ca, const char *pem)
{
	struct error e2 = { 0 };
	if (ca && pem && ca->type->revoke_cert &&
	    ca->type->revoke_cert(ca, pem, NULL, "cessationOfOperation", NULL, &e2) == 0 && ca->type->create_crl)
		ca->type->create_crl(ca, 1, &e2);
}

/* Re-initialisation of a token that holds a CA-issued certificate: the
 * new certificate replaces it, so the old one is revoked as superseded
 * (privacyIDEA leaves it valid, untracked).  Best effort: a failure is
 * logged, e.g. when an administrator revoked it with openssl already. */
static void crt_supersede(struct token_enroll *e)
{
	if (e->is_new)
		return;
	const char *caname = token_info(e->t, "CA", NULL);
	const char *pem = token_info(e->t, "certificate", NULL);
	if (!caname || !pem)
		return;
	struct error e2 = { 0 };
	struct caconnector *ca = caconnector_get(e->x->snap, caname, &e2);
	if (!ca || ca->type->revoke_cert(ca, pem, NULL, "superseded", NULL, &e2) < 0)
		log_warning("certificate token %s: superseded certificate not revoked: %s", e->t->r.serial,
			    e2.message);
}

/* What crt_prepare produced (token_enroll.type_state): the tokeninfo and
 * enrollment details to store, and whether the CA queued or issued. */
struct crt_state {
	json_t *info;
	json_t *init_details;
	int pending; /* the CA queued the request: rollout_state "pending" */
	int issued;  /* a CA issued a certificate (revoked when not stored) */
};

static void crt_free_state(void *p)
{
	struct crt_state *st = p;
	if (!st)
		return;
	json_decref(st->info);
	json_decref(st->init_details);
	free(st);
}

/* Everything that needs no database write and may take long: the
 * policies, attestation checks, key generation, the CA's signature and the
 * PKCS#12.  POST /token/init runs it before its write transaction (the
 * type's prepare); e->t is only read for its serial there.  A failure
 * revokes what the CA issued. */
static int crt_prepare(struct token_enroll *e, struct error *err)
{
	const char *request = enroll_param(e, "request");
	const char *certificate = enroll_param(e, "certificate");
	int genkey = crt_true(enroll_param(e, "genkey")) || crt_true(enroll_param(e, "generate"));
	const char *att = enroll_param(e, "attestation");
	int spkac = crt_true(enroll_param(e, "spkac"));
	struct caconnector *ca = NULL;
	struct caconnector_result res = { 0 };
	struct crt_attest_pol ap = { 0 };
	EVP_PKEY *key = NULL;
	X509 *cacert = NULL;
	char *req = NULL, *keypem = NULL, *p12 = NULL, *tmpl = NULL, *caname = NULL, *email = NULL;
	int rc = -1, issued = 0, pending = 0;
	struct crt_state *st = NULL;

	e->type_state = NULL;
	if (request && !*request)
		request = NULL;
	if (certificate && !*certificate)
		certificate = NULL;
	if (att && !*att)
		att = NULL;
	e->info = json_object();
	e->init_details = json_object();
	if (!e->info || !e->init_details)
		return err_internal(err, "out of memory");

	/* privacyIDEA's prepolicies of /token/init for type certificate, in
	 * its order: required_piv_attestation (any certificate enrollment
	 * without an attestation is refused under require_and_verify), then
	 * init_ca_connector / init_ca_template, whose values replace the
	 * request's `ca` / `template` */
	if (crt_attestation_mode(e, &ap, err) < 0)
		goto out;
	if (ap.require && !att) {
		log_warning("The request is missing an attestation certificate.");
		err_set(err, ERRK_POLICY, ERR_POLICY, "A policy requires that you provide an attestation certificate.");
		goto out;
	}
	const char *p_ca = enroll_param(e, "ca"), *p_tmpl = enroll_param(e, "template");
	if ((p_ca && !(caname = strdup(p_ca))) || (p_tmpl && !(tmpl = strdup(p_tmpl)))) {
		err_internal(err, "out of memory");
		goto out;
	}
	/* policy: enrollment.certificate_ca_connector, enrollment.certificate_template */
	if (crt_policy_param(e, "certificate_ca_connector", &caname, err) < 0 ||
	    crt_policy_param(e, "certificate_template", &tmpl, err) < 0)
		goto out;

	if (request || genkey) {
		if (!caname || !*caname) {
			err_missing_param(err, "ca");
			goto out;
		}
		ca = caconnector_get(e->x->snap, caname, err);
		if (!ca)
			goto out;
		json_object_set_new(e->info, "CA", json_string(caname));
	}
	struct caconnector_sign_options opt = { .template_name = tmpl };
	if (request) {
		if (strlen(request) > CRT_MAX_PEM) {
			err_set(err, ERRK_PI, ERR_CSR, "The certificate request is too large.");
			goto out;
		}
		/* SPKAC: the `spkac` parameter, or a bare "SPKAC=..." text as the
		 * browsers' <keygen> sent it */
		if (!strncmp(request, "SPKAC=", 6))
			spkac = 1;
		req = spkac ? strdup(request) : crt_normalise_request(request);
		if (!req) {
			err_internal(err, "out of memory");
			goto out;
		}
		opt.spkac = spkac;
		/* privacyIDEA checks an attestation of a PKCS#10 request only */
		if (!spkac && att &&
		    (crt_trusted_paths(e, &ap, err) < 0 || crt_check_attestation(e, req, att, &ap, err) < 0))
			goto out;
	} else if (genkey) {
		if (!e->owner || user_is_empty(e->owner) || !e->owner->login[0]) {
			err_missing_param(err, "user");
			goto out;
		}
		const char *ou = NULL;
		if (crt_subject_components(e, &email, &ou, err) < 0)
			goto out;
		key = crt_keygen(e, err);
		if (!key)
			goto out;
		req = crt_make_csr(key, e->owner->login, email, ou, err);
		if (!req)
			goto out;
	}
	if (req) {
		int s = ca->type->sign_request(ca, req, &opt, &res, err);
		if (s < 0)
			goto out;
		if (s == CACONN_PENDING) {
			pending = 1;
			if (res.request_id)
				json_object_set_new(e->info, "requestId", json_string(res.request_id));
			memset(err, 0, sizeof(*err));
		} else {
			issued = 1;
			if (res.request_id && *res.request_id && strcmp(res.request_id, "0"))
				json_object_set_new(e->info, "requestId", json_string(res.request_id));
			if (crt_store_cert(e, res.certificate, 1, err) < 0)
				goto out;
		}
	} else if (certificate) {
		if (strlen(certificate) > CRT_MAX_PEM) {
			err_param(err, "The certificate is too large.");
			goto out;
		}
		if (crt_store_cert(e, certificate, 0, err) < 0)
			goto out;
	}
	if (key) {
		keypem = crt_key_pem(key);
		if (!keypem) {
			err_internal(err, "out of memory");
			goto out;
		}
		/* the private key, encrypted at rest (tokeninfo type password) */
		json_object_set_new(e->info, "privatekey", json_string(keypem));
		json_object_set_new(e->info, "privatekey.type", json_string("password"));
		{ /* 3.12: issued → key, certificate and chain; pending → the key only */
			const char *pin = enroll_param(e, "pin");
			char pw[17];
			int random_pw = !pin || !*pin;
			if (random_pw) {
				/* secrets.token_urlsafe(12): 16 URL-safe characters */
				if (crypto_random_string(pw, 16,
							 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") <
				    0) {
					err_internal(err, "random generator failed");
					goto out;
				}
				pw[16] = '\0';
			}
			cacert = crt_ca_cert(e->x->snap, caname);
			p12 = crt_pkcs12(key, issued ? res.certificate : NULL, issued ? cacert : NULL,
					 random_pw ? pw : pin, err);
			if (!p12) {
				memset(pw, 0, sizeof(pw));
				goto out;
			}
			json_object_set_new(e->info, "pkcs12", json_string(p12));
			json_object_set_new(e->init_details, "pkcs12", json_string(p12));
			if (random_pw)
				json_object_set_new(e->init_details, "pkcs12_password", json_string(pw));
			memset(pw, 0, sizeof(pw));
		}
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		err_internal(err, "out of memory");
		goto out;
	}
	st->info = e->info;
	st->init_details = e->init_details;
	e->info = e->init_details = NULL;
	st->pending = pending;
	st->issued = issued;
	e->type_state = st;
	rc = 0;
out:
	if (rc < 0 && issued)
		crt_undo(ca, res.certificate);
	caconnector_result_free(&res);
	if (keypem)
		crypto_free_str(keypem);
	json_decref(ap.paths);
	free(caname);
	free(tmpl);
	free(email);
	free(req);
	free(p12);
	X509_free(cacert);
	EVP_PKEY_free(key);
	return rc;
}

/* Store what crt_prepare produced into the token being written (inside
 * the core's write transaction; e->t is the live token now).  Without a
 * prepared state (import, lost token) it prepares first. */
static int crt_enroll(struct token_enroll *e, struct error *err)
{
	struct crt_state *st = e->type_state;
	int own = 0;
	if (!st) {
		if (crt_prepare(e, err) < 0)
			return -1;
		st = e->type_state;
		e->type_state = NULL;
		own = 1;
	}
	e->info = json_incref(st->info);
	e->init_details = json_incref(st->init_details);
	e->t->r.otplen = 0; /* privacyIDEA: otp_len = 0 */
	int rc = 0;
	if (st->pending) {
		char *ps = strdup("pending");
		if (!ps) {
			rc = err_internal(err, "out of memory");
		} else {
			free(e->t->r.rollout_state);
			e->t->r.rollout_state = ps;
		}
	}
	if (rc == 0 && st->issued)
		crt_supersede(e);
	if (rc == 0)
		json_object_set_new(e->init_details, "rollout_state", json_string(e->t->r.rollout_state));
	if (rc < 0 && own && st->issued) {
		const char *caname = json_string_value(json_object_get(st->info, "CA"));
		crt_undo(caconnector_get(e->x->snap, caname, NULL),
			 json_string_value(json_object_get(st->info, "certificate")));
	}
	if (own)
		crt_free_state(st);
	return rc;
}

/* The core could not write the enrolled token: revoke the certificate the
 * CA issued for it, so no valid certificate exists without its token.
 * After a prepare the state says what was issued (e->info may be NULL). */
static void crt_enroll_failed(struct token_enroll *e)
{
	const struct crt_state *st = e->type_state;
	json_t *info = st ? st->info : e->info;
	json_t *details = st ? st->init_details : e->init_details;
	const char *caname = json_string_value(json_object_get(info, "CA"));
	const char *pem = json_string_value(json_object_get(info, "certificate"));
	if ((st && !st->issued) || !caname || !pem || !json_object_get(details, "certificate"))
		return; /* nothing issued by a CA */
	crt_undo(caconnector_get(e->x->snap, caname, NULL), pem);
}

/* POST /token/revoke: revoke at the CA (privacyIDEA's revoke: revoke_cert
 * with the request id, then create_crl).  An uploaded certificate (no CA)
 * is only marked revoked in the token. */
static int crt_revoke(struct token_ctx *x, const struct token *t, struct error *err)
{
	const char *caname = token_info(t, "CA", NULL);
	const char *pem = token_info(t, "certificate", NULL);
	const char *rid = token_info(t, "requestId", NULL);
	if (!caname || !*caname || (!pem && !rid))
		return 0;
	struct caconnector *ca = caconnector_get(x->snap, caname, err);
	if (!ca)
		return -1;
	/* privacyIDEA passes none (unspecified); Tessera's /token/revoke may
	 * name one */
	const char *reason = x->revoke_reason;
	if (ca->type->revoke_cert(ca, pem, pem ? NULL : rid, reason, NULL, err) < 0) {
		/* revoked already (openssl ca by an administrator, or an earlier
		 * attempt whose database transaction rolled back): the goal is met */
		if (strstr(err->message, "Already revoked")) {
			log_info("certificate token %s: %s", t->r.serial, err->message);
			memset(err, 0, sizeof(*err));
			return 0;
		}
		return -1;
	}
	/* revoke_cert regenerates the CRL already; privacyIDEA calls
	 * create_crl as well, which then finds it fresh */
	return 0;
}

/* A pending token asks its CA on every load (privacyIDEA's
 * _update_rollout_state): issued → certificate stored, rollout_state
 * "enrolled"; denied → "denied"; otherwise it stays pending.  Problems are
 * logged, never raised.  The tokeninfo is written before rollout_state, so
 * an interrupted update is simply done again at the next load. */
static int crt_refresh(struct token_ctx *x, struct token *t, struct error *err)
{
	const char *caname = token_info(t, "CA", NULL);
	const char *rid = token_info(t, "requestId", NULL);
	if (!t->r.rollout_state || strcmp(t->r.rollout_state, "pending"))
		return 0;
	if (!caname || !rid) {
		log_warning("certificate token %s is pending without CA or requestId", t->r.serial);
		return 0;
	}
	struct error e2 = { 0 };
	struct caconnector *ca = caconnector_get(x->snap, caname, &e2);
	enum caconnector_cr_status st = CACONN_CR_UNKNOWN;
	if (!ca || !ca->type->get_cr_status || ca->type->get_cr_status(ca, rid, &st, &e2) < 0) {
		log_warning("certificate token %s: status of request %s unknown: %s", t->r.serial, rid, e2.message);
		return 0;
	}
	const char *state = NULL;
	if (st == CACONN_CR_ISSUED) {
		char *pem = NULL;
		json_t *info = json_object();
		const char *k;
		json_t *v;
		if (!info || ca->type->get_issued_certificate(ca, rid, &pem, &e2) < 0 || crt_cert_info(pem, info, &e2) < 0) {
			log_warning("certificate token %s: certificate of request %s: %s", t->r.serial, rid, e2.message);
			free(pem);
			json_decref(info);
			return 0;
		}
		free(pem);
		json_object_foreach(info, k, v)
			if (token_set_info(x, t, k, json_string_value(v), NULL, err) < 0) {
				json_decref(info);
				return -1;
			}
		json_decref(info);
		state = "enrolled";
	} else if (st == CACONN_CR_DENIED) {
		state = "denied";
	}
	if (!state)
		return 0;
	char *s = strdup(state);
	if (!s)
		return err_internal(err, "out of memory");
	free(t->r.rollout_state);
	t->r.rollout_state = s;
	return token_save(x, t, err);
}

/* GET /token/: privacyIDEA removes the private key from the dict. */
static void crt_filter_info(json_t *info)
{
	json_object_del(info, "privatekey");
	json_object_del(info, "privatekey.type");
}

static const struct token_param crt_params[] = {
	{ "request", TP_STR, NULL, "PEM encoded certificate request (PKCS#10) or SPKAC" },
	{ "certificate", TP_STR, NULL, "PEM encoded certificate to upload" },
	{ "ca", TP_STR, NULL, "the CA connector that signs the request" },
	{ "template", TP_STR, NULL, "the certificate template of the CA connector" },
	{ "genkey", TP_BOOL, NULL, "generate the key pair on the server" },
	{ "generate", TP_BOOL, NULL, "alias of genkey" },
	{ "keysize", TP_INT, NULL, "RSA key size for genkey (default 2048)" },
	{ "keytype", TP_STR, NULL, "rsa (default) or ec for genkey" },
	{ "spkac", TP_BOOL, NULL, "the request is an SPKAC" },
	{ "attestation", TP_STR, NULL, "PEM encoded attestation certificate" },
	{ "pin", TP_STR, NULL, "the PKCS#12 passphrase" },
	{ NULL, 0, NULL, NULL },
};

static const struct token_policy_action crt_policies[] = {
	{ "enrollment", "certificate_max_token_per_user", "int", NULL,
	  "The user may only have this maximum number of certificates assigned." },
	{ "enrollment", "certificate_max_active_token_per_user", "int", NULL,
	  "The user may only have this maximum number of active certificates assigned." },
	{ "enrollment", "certificate_ca_connector", "str", NULL,
	  "The CA connector that is used to sign the certificate requests." },
	{ "enrollment", "certificate_template", "str", NULL, "The template of the CA connector." },
	{ "enrollment", "certificate_require_attestation", "str", "ignore verify require_and_verify",
	  "Whether an attestation certificate is required and verified." },
	{ "user", "certificate_trusted_Attestation_CA_path", "str", NULL,
	  "The directory containing attestation certificate chains." },
	{ "admin", "certificate_trusted_Attestation_CA_path", "str", NULL,
	  "The directory containing attestation certificate chains." },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct token_type token_type_certificate = {
	.name = "certificate",
	.prefix = "CRT",
	.title = "Certificate Token",
	.description = "Certificate: Enroll an x509 Certificate Token.",
	.modes = TOKEN_MODE_AUTHENTICATE,
	.client_mode = "interactive",
	.ui_enroll = TOKEN_UI_ADMIN | TOKEN_UI_USER,
	.params = crt_params,
	.policies = crt_policies,
	.enroll = crt_enroll,
	.prepare = crt_prepare,
	.free_state = crt_free_state,
	.check_otp = crt_check_otp,
	.filter_info = crt_filter_info,
	.revoke = crt_revoke,
	.enroll_failed = crt_enroll_failed,
	.refresh = crt_refresh,
};
