/*
 * local_sign.c — issuing certificates for the local CA connector, doing
 * with library calls what `openssl ca -extensions X -days N -in req -out
 * cert -batch` (or `-spkac file`) does in OpenSSL 3.0's apps/ca.c:
 * verify the request's signature, build the subject from the CA policy,
 * add the extension section and the key identifiers, take the next serial,
 * sign with default_md, record the certificate in index.txt and write it
 * to new_certs_dir/<SERIAL>.pem.  privacyIDEA's copies are written too:
 * the request as <subject>.req in CSRDir and the certificate as
 * <subject>.pem in CertificateDir (SPKAC: <CN>.txt / <CN>.der).
 *
 * Input faults are CSRError (504), CA faults CAError (503).  Nothing is
 * written before the request has passed every check, and a failure while
 * issuing removes what was written: the only trace a failed issue can
 * leave is a skipped serial number.
 */
#include "local_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "../log.h"

#define SERIAL_RAND_BITS 159 /* apps.h: what `rand_serial` draws */

static int csr_err(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int csr_err(struct error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, ERRK_PI, ERR_CSR, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- parsing requests ---------------------------------------------------- */

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* An SPKAC request as `openssl ca -spkac` reads its file: "name = value"
 * lines of the default section, "SPKAC" holding the base64 structure, the
 * others naming subject attributes ("0.OU" style prefixes allowed).
 * Parsed here rather than by NCONF, which would expand $VAR / $ENV::X in
 * the values of a request coming from the network. */
static int parse_spkac(const struct calocal_conf *c, const char *text, X509_REQ **out,
		       struct error *err)
{
	char *copy = strdup(text), *line, *next;
	NETSCAPE_SPKI *spki = NULL;
	EVP_PKEY *pk = NULL;
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n;
	int in_default = 1, rc = -1, lineno = 0;

	if (!copy || !req) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto out;
	}
	n = X509_REQ_get_subject_name(req);
	for (line = copy; line && *line; line = next) {
		char *eq, *name, *value, *type;
		int nid;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if (*line == '[') {
			in_default = strncmp(line, "[default]", 9) == 0;
			continue;
		}
		if (!in_default)
			continue;
		if (!(eq = strchr(line, '='))) {
			err_set(err, ERRK_PI, ERR_CSR, "SPKAC request line %d is not 'name = value'",
				lineno);
			goto out;
		}
		*eq = '\0';
		name = trim(line);
		value = trim(eq + 1);
		type = name;
		for (char *p = name; *p; p++)
			if (*p == ':' || *p == ',' || *p == '.') {
				if (p[1])
					type = p + 1;
				break;
			}
		if ((nid = OBJ_txt2nid(type)) == NID_undef) {
			ERR_clear_error();
			if (strcmp(type, "SPKAC") == 0) {
				NETSCAPE_SPKI_free(spki);
				if (!(spki = NETSCAPE_SPKI_b64_decode(value, -1))) {
					csr_err(err, "unable to load Netscape SPKAC structure");
					goto out;
				}
			}
			continue;
		}
		if (!X509_NAME_add_entry_by_NID(n, nid, c->utf8 ? MBSTRING_UTF8 : MBSTRING_ASC,
						(const unsigned char *)value, -1, -1, 0)) {
			csr_err(err, "SPKAC request: invalid value for %s", type);
			goto out;
		}
	}
	if (!spki) {
		csr_err(err, "Netscape SPKAC structure not found in the request");
		goto out;
	}
	if (!(pk = NETSCAPE_SPKI_get_pubkey(spki))) {
		csr_err(err, "error unpacking SPKAC public key");
		goto out;
	}
	if (NETSCAPE_SPKI_verify(spki, pk) <= 0) {
		csr_err(err, "signature verification failed on SPKAC public key");
		goto out;
	}
	if (!X509_REQ_set_pubkey(req, pk)) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto out;
	}
	*out = req;
	req = NULL;
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	NETSCAPE_SPKI_free(spki);
	X509_REQ_free(req);
	free(copy);
	return rc;
}

int calocal_parse_request(const struct calocal_conf *c, const char *text, int spkac, X509_REQ **out,
			struct error *err)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	BIO *b;
	size_t len;

	*out = NULL;
	if (!text || !*text)
		return csr_err(err, "no certificate request given");
	len = strnlen(text, LOCAL_MAX_REQUEST + 1);
	if (len > LOCAL_MAX_REQUEST)
		return err_set(err, ERRK_PI, ERR_CSR, "the certificate request is too large (more "
			       "than %d bytes)", LOCAL_MAX_REQUEST);
	if (spkac)
		return parse_spkac(c, text, out, err);
	if (!strstr(text, "-----BEGIN CERTIFICATE REQUEST-----") &&
	    !strstr(text, "-----BEGIN NEW CERTIFICATE REQUEST-----"))
		return csr_err(err, "the request is not a PEM-encoded certificate signing request");
	if (!(b = BIO_new_mem_buf(text, (int)len)))
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!req) {
		ERR_clear_error();
		return csr_err(err, "cannot parse the certificate signing request");
	}
	if (!(pk = X509_REQ_get0_pubkey(req))) {
		ERR_clear_error();
		X509_REQ_free(req);
		return csr_err(err, "error unpacking the public key of the request");
	}
	if (X509_REQ_verify(req, pk) != 1) {
		ERR_clear_error();
		X509_REQ_free(req);
		return csr_err(err, "request has invalid signature.");
	}
	*out = req;
	return 0;
}

/* ---- days and extensions ------------------------------------------------- */

int calocal_profile(const struct calocal_conf *c, const struct caconnector_sign_options *opt,
		  long *days, char **ext, struct error *err)
{
	const char *e = opt->extensions && *opt->extensions ? opt->extensions : "server";
	long d = opt->days > 0 ? opt->days : 365;
	X509V3_CTX ctx;

	if (opt->template_name && *opt->template_name) {
		const json_t *t = json_object_get(c->templates, opt->template_name);
		const json_t *te, *td;
		if (!t || !json_is_object(t))
			return csr_err(err, "unknown certificate template '%s'", opt->template_name);
		te = json_object_get(t, "extensions");
		td = json_object_get(t, "days");
		if (te && !json_is_string(te))
			return err_set(err, ERRK_PI, ERR_CA, "template '%s': extensions must be a section "
				       "name", opt->template_name);
		if (te)
			e = json_string_value(te);
		if (td && json_is_integer(td)) {
			d = (long)json_integer_value(td);
		} else if (td && json_is_string(td)) {
			char *end;
			d = strtol(json_string_value(td), &end, 10);
			if (*end)
				d = 0;
		} else if (td) {
			d = 0;
		}
		if (d <= 0)
			return err_set(err, ERRK_PI, ERR_CA, "template '%s': days must be a positive "
				       "number", opt->template_name);
	}
	if (d <= 0 || d > 36525)
		return err_set(err, ERRK_PI, ERR_CA, "invalid validity of %ld days", d);
	/* openssl ca checks the section before signing anything */
	X509V3_set_ctx_test(&ctx);
	X509V3_set_nconf(&ctx, c->conf);
	if (!NCONF_get_section(c->conf, e) || !X509V3_EXT_add_nconf(c->conf, &ctx, e, NULL)) {
		ERR_clear_error();
		return err_set(err, ERRK_PI, ERR_CA, "Error checking certificate extension config "
			       "section %s", e);
	}
	if (!(*ext = strdup(e)))
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	*days = d;
	return 0;
}

/* ---- subject policy (apps/ca.c do_body) --------------------------------- */

int calocal_policy_subject(const struct calocal_conf *c, X509 *cacert, X509_REQ *req,
			 X509_NAME **subject, struct error *err)
{
	const X509_NAME *name = X509_REQ_get_subject_name(req);
	const X509_NAME *caname = X509_get_subject_name(cacert);
	STACK_OF(CONF_VALUE) *policy;
	X509_NAME *subj = NULL;

	*subject = NULL;
	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);
		ASN1_STRING *str = X509_NAME_ENTRY_get_data(ne);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne));
		if (nid == NID_pkcs9_emailAddress && !c->email_in_dn)
			continue;
		if (nid == NID_pkcs9_emailAddress && str->type != V_ASN1_IA5STRING)
			return csr_err(err, "emailAddress type needs to be of type IA5STRING");
		if (str->type != V_ASN1_BMPSTRING && str->type != V_ASN1_UTF8STRING) {
			int j = ASN1_PRINTABLE_type(str->data, str->length);
			if ((j == V_ASN1_T61STRING && str->type != V_ASN1_T61STRING) ||
			    (j == V_ASN1_IA5STRING && str->type == V_ASN1_PRINTABLESTRING))
				return csr_err(err, "The string contains characters that are illegal for "
					       "the ASN.1 type");
		}
	}
	if (!c->policy)
		return err_set(err, ERRK_PI, ERR_CA, "variable lookup failed for %s::policy",
			       c->section);
	if (!(policy = NCONF_get_section(c->conf, c->policy))) {
		ERR_clear_error();
		return err_set(err, ERRK_PI, ERR_CA, "unable to find 'section' for %s", c->policy);
	}
	if (!(subj = X509_NAME_new()))
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	for (int i = 0; i < sk_CONF_VALUE_num(policy); i++) {
		CONF_VALUE *cv = sk_CONF_VALUE_value(policy, i);
		int nid = OBJ_txt2nid(cv->name), last = -1;
		ASN1_OBJECT *obj;
		if (nid == NID_undef) {
			ERR_clear_error();
			X509_NAME_free(subj);
			return err_set(err, ERRK_PI, ERR_CA, "%s:unknown object type in 'policy' "
				       "configuration", cv->name);
		}
		obj = OBJ_nid2obj(nid);
		for (;;) {
			X509_NAME_ENTRY *tne, *push = NULL;
			int j = X509_NAME_get_index_by_OBJ(name, obj, last);
			if (j < 0) {
				if (last != -1)
					break;
				tne = NULL;
			} else {
				tne = X509_NAME_get_entry(name, j);
			}
			last = j;
			if (strcmp(cv->value, "optional") == 0) {
				push = tne;
			} else if (strcmp(cv->value, "supplied") == 0) {
				if (!tne) {
					X509_NAME_free(subj);
					return csr_err(err, "The %s field needed to be supplied and was "
						       "missing", cv->name);
				}
				push = tne;
			} else if (strcmp(cv->value, "match") == 0) {
				int k = -1;
				if (!tne) {
					X509_NAME_free(subj);
					return csr_err(err, "The mandatory %s field was missing", cv->name);
				}
				if (X509_NAME_get_index_by_OBJ(caname, obj, -1) < 0) {
					X509_NAME_free(subj);
					return err_set(err, ERRK_PI, ERR_CA, "The %s field does not exist in "
						       "the CA certificate, the 'policy' is misconfigured",
						       cv->name);
				}
				while ((k = X509_NAME_get_index_by_OBJ(caname, obj, k)) >= 0) {
					X509_NAME_ENTRY *ce = X509_NAME_get_entry(caname, k);
					if (ASN1_STRING_cmp(X509_NAME_ENTRY_get_data(tne),
							    X509_NAME_ENTRY_get_data(ce)) == 0) {
						push = ce;
						break;
					}
				}
				if (!push) {
					X509_NAME_free(subj);
					return csr_err(err, "The %s field is different between the CA "
						       "certificate and the request", cv->name);
				}
			} else {
				X509_NAME_free(subj);
				return err_set(err, ERRK_PI, ERR_CA, "%s:invalid type in 'policy' "
					       "configuration", cv->value);
			}
			if (push && !X509_NAME_add_entry(subj, push, -1, 0)) {
				X509_NAME_free(subj);
				return err_set(err, ERRK_PI, ERR_CA, "out of memory");
			}
			if (j < 0)
				break;
		}
	}
	if (c->preserve) {
		X509_NAME_free(subj);
		if (!(subj = X509_NAME_dup(name)))
			return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	}
	*subject = subj;
	return 0;
}

/* ---- building the certificate ------------------------------------------- */

/* apps.c copy_extensions (copy_extensions = copy / copyall). */
static int copy_req_extensions(X509 *x, X509_REQ *req, int type)
{
	STACK_OF(X509_EXTENSION) *exts;
	int ok = 1;
	if (type == LOCAL_EXT_COPY_NONE)
		return 1;
	exts = X509_REQ_get_extensions(req);
	for (int i = 0; ok && i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		ASN1_OBJECT *obj = X509_EXTENSION_get_object(e);
		int idx = X509_get_ext_by_OBJ(x, obj, -1);
		if (idx != -1) {
			if (type == LOCAL_EXT_COPY_ADD)
				continue;
			do {
				X509_EXTENSION_free(X509_delete_ext(x, idx));
				idx = X509_get_ext_by_OBJ(x, obj, -1);
			} while (idx != -1);
		}
		ok = X509_add_ext(x, e, -1);
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return ok;
}

/* apps.c adapt_keyid_ext: add a default key identifier unless the section
 * gave one; "none" (an empty identifier) removes it. */
static int adapt_keyid(X509 *x, X509V3_CTX *ctx, const char *name, const char *value, int add)
{
	X509_EXTENSION *ne = X509V3_EXT_nconf(NULL, ctx, name, value);
	int idx, rv;
	if (!ne)
		return 0;
	idx = X509_get_ext_by_OBJ(x, X509_EXTENSION_get_object(ne), -1);
	if (idx >= 0) {
		X509_EXTENSION *found = X509_get_ext(x, idx);
		if (ASN1_STRING_length(X509_EXTENSION_get_data(found)) <= 2)
			X509_EXTENSION_free(X509_delete_ext(x, idx));
		rv = 1;
	} else {
		rv = !add || X509_add_ext(x, ne, -1);
	}
	X509_EXTENSION_free(ne);
	return rv;
}

char *calocal_pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s = NULL;
	long n;
	if (b && PEM_write_bio_X509(b, x) == 1) {
		n = BIO_get_mem_data(b, &p);
		if ((s = malloc((size_t)n + 1))) {
			memcpy(s, p, (size_t)n);
			s[n] = '\0';
		}
	}
	BIO_free(b);
	return s;
}

void calocal_issued_free(struct calocal_issued *o)
{
	X509_free(o->cert);
	free(o->serial);
	memset(o, 0, sizeof(*o));
}

/* What `openssl ca` writes to -out and new_certs_dir: the text dump and
 * the PEM block (no -notext); DER for an SPKAC -out file. */
static int render(X509 *x, int der, char **data, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ok = b && (der ? i2d_X509_bio(b, x) == 1
			   : X509_print(b, x) == 1 && PEM_write_bio_X509(b, x) == 1);
	if (ok) {
		n = BIO_get_mem_data(b, &p);
		if ((*data = malloc((size_t)n + 1))) {
			memcpy(*data, p, (size_t)n);
			*len = (size_t)n;
		} else {
			ok = 0;
		}
	}
	BIO_free(b);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/* privacyIDEA's file name stem: the subject values joined by "_", spaces
 * as "_" (the .req name also drops non-ASCII).  Made safe here: no '/',
 * no control characters, no leading '.', at most 200 bytes. */
static char *stem_of(const X509_NAME *n, int spkac, int ascii_only)
{
	char *out = malloc(256);
	size_t len = 0;
	if (!out)
		return NULL;
	for (int i = 0; i < X509_NAME_entry_count(n); i++) {
		X509_NAME_ENTRY *ne = X509_NAME_get_entry(n, i);
		unsigned char *u = NULL;
		int ul;
		if (spkac && OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne)) != NID_commonName)
			continue;
		if ((ul = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(ne))) < 0)
			continue;
		if (len && len < 200)
			out[len++] = '_';
		for (int j = 0; j < ul && len < 200; j++) {
			unsigned char ch = u[j];
			if (ascii_only && ch >= 0x80)
				continue;
			out[len++] = (ch == ' ' || ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f)
					     ? '_' : (char)ch;
		}
		OPENSSL_free(u);
		if (spkac)
			break;
	}
	while (len && ((unsigned char)out[len - 1] & 0xC0) == 0x80 && len >= 200)
		len--; /* do not cut a UTF-8 sequence */
	out[len] = '\0';
	if (len == 0)
		snprintf(out, 256, "%s", spkac ? "spkac" : "request");
	if (out[0] == '.')
		out[0] = '_';
	ERR_clear_error();
	return out;
}

/* openssl ca refuses to sign when new_certs_dir is not a directory; the
 * privacyIDEA copies need theirs too.  Checked before anything is issued. */
static int dir_ok(const char *what, const char *dir, struct error *err)
{
	struct stat st;
	if (dir && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0))
		return err_set(err, ERRK_PI, ERR_CA, "%s %s is not a writable directory", what, dir);
	return 0;
}

static int same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	return a && b && realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

static char *join(const char *dir, const char *stem, const char *ext)
{
	size_t n = strlen(dir) + strlen(stem) + strlen(ext) + 3;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s.%s", dir, stem, ext);
	return s;
}

/* A copy of the new certificate / request: written atomically (temp +
 * rename) but not synced — index.txt and the serial file are what must
 * survive a crash.  Written after the commit, so a failure is only logged. */
static void write_copy(char *path, const void *data, size_t len)
{
	struct error e = { 0 };
	if (!path) {
		log_warning("CA: out of memory writing a certificate copy");
		return;
	}
	char *tmp;
	if (calocal_write_temp(path, data, len, 0644, 0, &tmp, &e) != 0) {
		log_warning("CA: %s", e.message);
	} else {
		if (rename(tmp, path) != 0) {
			log_warning("CA: cannot write %s: %s", path, strerror(errno));
			unlink(tmp);
		}
		free(tmp);
	}
	free(path);
}

static int ossl_err(struct error *err, const char *what)
{
	char msg[256];
	ERR_error_string_n(ERR_peek_last_error(), msg, sizeof(msg));
	ERR_clear_error();
	return err_set(err, ERRK_PI, ERR_CA, "%s: %s", what, msg);
}

/* The certificate, complete but for serial and signature (do_body). */
static X509 *build_cert(const struct calocal_conf *c, const struct calocal_keys *k, X509_REQ *req,
			long days, const char *ext, struct error *err)
{
	X509_NAME *subject = NULL;
	X509 *x = NULL;
	X509V3_CTX ctx;
	EVP_PKEY *pk;
	time_t now = time(NULL);

	if (calocal_policy_subject(c, k->cert, req, &subject, err) != 0)
		return NULL;
	if (!(x = X509_new()) || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(k->cert)) ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, &now) ||
	    !X509_set_subject_name(x, subject) || !X509_set_pubkey(x, X509_REQ_get0_pubkey(req)))
		goto ossl;
	X509V3_set_ctx(&ctx, k->cert, x, NULL, NULL, X509V3_CTX_REPLACE);
	X509V3_set_nconf(&ctx, c->conf);
	if (!X509V3_EXT_add_nconf(c->conf, &ctx, ext, x)) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "Error adding certificate extensions from config "
			"section %s", ext);
		goto fail;
	}
	if (!copy_req_extensions(x, req, c->ext_copy)) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CSR, "ERROR: adding extensions from request");
		goto fail;
	}
	if (!c->email_in_dn) {
		/* the policy kept emailAddress; the certificate does not get it */
		X509_NAME *dn = X509_NAME_dup(subject);
		int i = -1;
		if (!dn)
			goto ossl;
		while ((i = X509_NAME_get_index_by_NID(dn, NID_pkcs9_emailAddress, i)) >= 0)
			X509_NAME_ENTRY_free(X509_NAME_delete_entry(dn, i--));
		i = X509_set_subject_name(x, dn);
		X509_NAME_free(dn);
		if (!i)
			goto ossl;
	}
	if (X509_get_ext_count(x) > 0) {
		/* a request for the CA's own key is a self-signed certificate */
		int self_sign = EVP_PKEY_eq(X509_REQ_get0_pubkey(req), k->key) == 1;
		ERR_clear_error();
		if (!adapt_keyid(x, &ctx, "subjectKeyIdentifier", "hash", 1) ||
		    !adapt_keyid(x, &ctx, "authorityKeyIdentifier", "keyid, issuer", !self_sign))
			goto ossl;
	}
	pk = X509_get0_pubkey(x);
	if (pk && EVP_PKEY_missing_parameters(pk) && !EVP_PKEY_missing_parameters(k->key))
		EVP_PKEY_copy_parameters(pk, k->key);
	X509_NAME_free(subject);
	return x;
ossl:
	ossl_err(err, "building the certificate failed");
fail:
	X509_NAME_free(subject);
	X509_free(x);
	return NULL;
}

/* Append the index.txt line of x under the CA lock; with unique_subject
 * the database is checked again, since it was unlocked while signing. */
static int append_row(const struct calocal_conf *c, X509 *x, const char *hex, const char *rowname, int unique,
		      struct error *err)
{
	struct calocal_db db = { 0 };
	int lock, rc = -1;
	if ((lock = calocal_lock(c->lockfile, 1, err)) < 0)
		return -1;
	if (unique && rowname[0]) {
		if (calocal_db_load(c->database, &db, err) != 0)
			goto out;
		if (calocal_db_has_valid_name(&db, rowname)) {
			err_set(err, ERRK_PI, ERR_CSR, "There is already a certificate for %s", rowname);
			goto out;
		}
	}
	struct calocal_row row = { 0 };
	ASN1_TIME *na = X509_getm_notAfter(x);
	char exp[32];
	snprintf(exp, sizeof(exp), "%.*s", na->length, (const char *)na->data);
	row.dirty = 1;
	row.f[DB_TYPE] = "V";
	row.f[DB_EXP] = exp;
	row.f[DB_REV] = "";
	row.f[DB_SERIAL] = (char *)hex;
	row.f[DB_FILE] = "unknown";
	/* an empty subject is recorded under the serial (openssl) */
	row.f[DB_NAME] = rowname[0] ? (char *)rowname : (char *)hex;
	rc = calocal_db_append(c->database, &row, err);
out:
	calocal_unlock(lock);
	calocal_db_free(&db);
	return rc;
}

/* Issue x in two short critical sections of the CA lock (flock on
 * index.txt.lock, shared by every Tessera process and thread of this CA):
 *   1. check the database, take the serial and write the next one to the
 *      serial file (and index.txt.attr when missing);
 *   2. after signing — the slow part, done unlocked — append the
 *      index.txt line (one write + fdatasync).
 * A serial taken in 1 is never handed out twice; a failure or crash
 * between 1 and 2 only leaves a gap in the serial numbers, as a crash of
 * `openssl ca` after writing its serial file.  index.txt lines may then
 * be out of serial order, which openssl does not mind.
 * *hex: the serial as index.txt writes it. */
static int commit_cert(const struct calocal_conf *c, const struct calocal_keys *k, X509 *x,
		       const EVP_MD *md, char **hex, struct error *err)
{
	struct calocal_db db = { 0 };
	BIGNUM *bn = NULL;
	char *rowname = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
	int lock = -1, rc = -1, have_attr, unique;

	*hex = NULL;
	if (!rowname)
		return ossl_err(err, "out of memory");
	if ((lock = calocal_lock(c->lockfile, 1, err)) < 0)
		goto out;
	if (calocal_db_load(c->database, &db, err) != 0)
		goto out;
	if (!(have_attr = calocal_db_attr_read(c->database, &unique)))
		unique = c->unique_subject;
	if (unique && rowname[0] && calocal_db_has_valid_name(&db, rowname)) {
		err_set(err, ERRK_PI, ERR_CSR, "There is already a certificate for %s", rowname);
		goto out;
	}
	if (c->rand_serial) {
		do {
			free(*hex);
			*hex = NULL;
			if ((!bn && !(bn = BN_new())) ||
			    !BN_rand(bn, SERIAL_RAND_BITS, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
			    !(*hex = calocal_bn_hex(bn))) {
				ossl_err(err, "cannot draw a serial number");
				goto out;
			}
		} while (calocal_db_find_serial(&db, *hex));
	} else {
		if (!(bn = calocal_serial_load(c->serial, err)))
			goto out;
		if (!(*hex = calocal_bn_hex(bn))) {
			err_set(err, ERRK_PI, ERR_CA, "out of memory");
			goto out;
		}
		if (calocal_db_find_serial(&db, *hex)) {
			err_set(err, ERRK_PI, ERR_CA, "Serial number %s has already been issued, check "
				"the database/serial_file for corruption", *hex);
			goto out;
		}
	}
	if (!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
		ossl_err(err, "out of memory");
		goto out;
	}
	/* the serial file first: a crash later costs a serial number, never
	 * reuses one */
	if (!c->rand_serial) {
		if (!BN_add_word(bn, 1)) {
			err_set(err, ERRK_PI, ERR_CA, "out of memory");
			goto out;
		}
		if (calocal_serial_save(c->serial, bn, err) != 0)
			goto out;
	}
	if (!have_attr && calocal_db_attr_write(c->database, unique, err) != 0)
		goto out;
	calocal_unlock(lock);
	lock = -1;
	calocal_db_free(&db);

	if (!X509_sign(x, k->key, md)) {
		ossl_err(err, "signing the certificate failed");
		goto out;
	}
	if (append_row(c, x, *hex, rowname, unique, err) != 0)
		goto out;
	rc = 0;
out:
	calocal_unlock(lock);
	calocal_db_free(&db);
	OPENSSL_free(rowname);
	BN_free(bn);
	if (rc != 0) {
		free(*hex);
		*hex = NULL;
	}
	return rc;
}

/* The copies, after the commit: new_certs_dir/<SERIAL>.pem as openssl ca
 * writes it (text dump + PEM; named from the DER integer's bytes, so 0x80
 * is "0080.pem" while index.txt says "80"), CertificateDir/<subject>.pem
 * (SPKAC: <CN>.der, DER) and CSRDir/<subject>.req (SPKAC: <CN>.txt). */
static void write_copies(const struct calocal *l, const struct calocal_conf *c, X509 *x,
			 X509_REQ *req, const char *request_text, int spkac)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const unsigned char *ps = ASN1_STRING_get0_data(sn);
	int snl = ASN1_STRING_length(sn);
	char name[2 * 64 + 8] = "00";
	char *stem = stem_of(X509_REQ_get_subject_name(req), spkac, 0);
	char *stem_req = stem_of(X509_REQ_get_subject_name(req), spkac, 1);
	char *text = NULL, *der = NULL;
	size_t tlen = 0, dlen = 0, p = 0;

	for (int i = 0; i < snl && i < 64; i++)
		p += (size_t)snprintf(name + p, sizeof(name) - p, "%02X", ps[i]);
	if (stem && !spkac && strspn(stem, "0123456789ABCDEFabcdef") == strlen(stem) &&
	    same_dir(l->certdir, c->new_certs_dir)) {
		/* "<subject>.pem" must not overwrite new_certs_dir/<SERIAL>.pem */
		size_t n = strlen(stem) + 2;
		char *s2 = malloc(n);
		if (s2)
			snprintf(s2, n, "_%s", stem);
		free(stem);
		stem = s2;
	}
	if (render(x, 0, &text, &tlen) != 0) {
		log_warning("CA: cannot render the certificate %s", name);
	} else {
		write_copy(join(c->new_certs_dir, name, "pem"), text, tlen);
		if (l->certdir && !spkac && stem)
			write_copy(join(l->certdir, stem, "pem"), text, tlen);
	}
	if (l->certdir && spkac && stem && render(x, 1, &der, &dlen) == 0)
		write_copy(join(l->certdir, stem, "der"), der, dlen);
	if (l->csrdir && stem_req)
		write_copy(join(l->csrdir, stem_req, spkac ? "txt" : "req"), request_text,
			   strlen(request_text));
	free(text);
	free(der);
	free(stem);
	free(stem_req);
}

int calocal_issue(struct calocal *l, const struct calocal_conf *c, const struct calocal_keys *k,
		X509_REQ *req, const char *request_text, int spkac, long days, const char *ext,
		struct calocal_issued *out, struct error *err)
{
	const EVP_MD *md;
	X509 *x;
	char *hex;

	memset(out, 0, sizeof(*out));
	if (calocal_md(c, k->key, &md, err) != 0)
		return -1;
	if (!c->new_certs_dir)
		return err_set(err, ERRK_PI, ERR_CA, "there needs to be defined a directory for new "
			       "certificate to be placed in (new_certs_dir)");
	if (!c->rand_serial && !c->serial)
		return err_set(err, ERRK_PI, ERR_CA, "variable lookup failed for %s::serial",
			       c->section);
	if (dir_ok("new_certs_dir", c->new_certs_dir, err) != 0 ||
	    dir_ok("CertificateDir", l->certdir, err) != 0 || dir_ok("CSRDir", l->csrdir, err) != 0)
		return -1;
	if (!(x = build_cert(c, k, req, days, ext, err)))
		return -1;
	if (commit_cert(c, k, x, md, &hex, err) != 0) {
		X509_free(x);
		return -1;
	}
	write_copies(l, c, x, req, request_text, spkac);
	out->cert = x;
	out->serial = hex;
	return 0;
}
