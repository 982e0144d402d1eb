/*
 * local_ca.c — caconnector_local_create_ca: a new CA directory, what
 * privacyIDEA's `pi-manage ca create` builds with `openssl genrsa` and
 * `openssl req -x509`, here with library calls: openssl.cnf, templates.yaml,
 * cakey.pem (0600, optionally AES-256 encrypted PKCS#8), a self-signed
 * cacert.pem with the v3_ca section, index.txt (+ .attr), serial and
 * crlnumber (1000) and a first CRL.  The result works with this connector
 * and with `openssl ca -config <dir>/openssl.cnf` alike.
 *
 * It refuses to touch a directory that already holds a CA, and removes
 * what it wrote when anything fails.
 */
#include "local_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static const char *const ca_files[] = {
	"openssl.cnf", "templates.yaml", "cakey.pem", "cacert.pem", "index.txt",
	"index.txt.attr", "index.txt.lock", "serial", "crlnumber", "crlnumber.old",
	"crl.pem", NULL,
};

static const char CNF_TEMPLATE[] =
	"# openssl.cnf of the CA \"%s\", written by Tessera.  Also usable with\n"
	"# `openssl ca -config %s/openssl.cnf`.\n"
	"oid_section\t= new_oids\n"
	"\n"
	"[ new_oids ]\n"
	"\n"
	"[ ca ]\n"
	"default_ca\t= CA_default\n"
	"\n"
	"[ CA_default ]\n"
	"dir\t\t= %s\n"
	"certs\t\t= $dir\n"
	"crl_dir\t\t= $dir\n"
	"database\t= $dir/index.txt\n"
	"new_certs_dir\t= $dir\n"
	"certificate\t= $dir/cacert.pem\n"
	"serial\t\t= $dir/serial\n"
	"crlnumber\t= $dir/crlnumber\n"
	"crl\t\t= $dir/crl.pem\n"
	"private_key\t= $dir/cakey.pem\n"
	"x509_extensions\t= usr_cert\n"
	"name_opt\t= ca_default\n"
	"cert_opt\t= ca_default\n"
	"default_days\t= 365\n"
	"default_crl_days= %d\n"
	"default_md\t= sha256\n"
	"preserve\t= no\n"
	"policy\t\t= policy_anything\n"
	"unique_subject\t= no\n"
	"copy_extensions\t= none\n"
	"crl_extensions\t= crl_ext\n"
	"\n"
	"[ policy_anything ]\n"
	"countryName\t\t= optional\n"
	"stateOrProvinceName\t= optional\n"
	"localityName\t\t= optional\n"
	"organizationName\t= optional\n"
	"organizationalUnitName\t= optional\n"
	"commonName\t\t= supplied\n"
	"emailAddress\t\t= optional\n"
	"\n"
	"[ req ]\n"
	"default_bits\t\t= 2048\n"
	"distinguished_name\t= req_distinguished_name\n"
	"x509_extensions\t\t= v3_ca\n"
	"string_mask\t\t= utf8only\n"
	"\n"
	"[ req_distinguished_name ]\n"
	"commonName\t\t= Common Name\n"
	"\n"
	"[ usr_cert ]\n"
	"basicConstraints\t= CA:FALSE\n"
	"subjectKeyIdentifier\t= hash\n"
	"authorityKeyIdentifier\t= keyid,issuer\n"
	"\n"
	"[ user ]\n"
	"keyUsage\t\t= nonRepudiation, digitalSignature, keyEncipherment\n"
	"extendedKeyUsage\t= clientAuth, emailProtection\n"
	"basicConstraints\t= CA:FALSE\n"
	"subjectKeyIdentifier\t= hash\n"
	"authorityKeyIdentifier\t= keyid,issuer\n"
	"\n"
	"[ server ]\n"
	"keyUsage\t\t= digitalSignature, keyEncipherment\n"
	"extendedKeyUsage\t= serverAuth\n"
	"basicConstraints\t= CA:FALSE\n"
	"subjectKeyIdentifier\t= hash\n"
	"authorityKeyIdentifier\t= keyid,issuer\n"
	"\n"
	"[ ocsp ]\n"
	"keyUsage\t\t= critical, digitalSignature\n"
	"extendedKeyUsage\t= critical, OCSPSigning\n"
	"basicConstraints\t= CA:FALSE\n"
	"subjectKeyIdentifier\t= hash\n"
	"authorityKeyIdentifier\t= keyid,issuer\n"
	"\n"
	"[ v3_ca ]\n"
	"subjectKeyIdentifier\t= hash\n"
	"authorityKeyIdentifier\t= keyid:always\n"
	"basicConstraints\t= critical, CA:true\n"
	"keyUsage\t\t= critical, digitalSignature, cRLSign, keyCertSign\n"
	"\n"
	"[ crl_ext ]\n"
	"authorityKeyIdentifier\t= keyid:always\n";

static const char TEMPLATES[] =
	"# Certificate templates: days of validity and the openssl.cnf section\n"
	"# holding the extensions.\n"
	"user:\n"
	"  days: 365\n"
	"  extensions: user\n"
	"webserver:\n"
	"  days: 750\n"
	"  extensions: server\n";

static char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", dir, name);
	return s;
}

/* openssl -subj form "/CN=x/O=y" (backslash escapes), "CN=x", or a bare name. */
static X509_NAME *parse_dn(const char *dn, struct error *err)
{
	X509_NAME *n = X509_NAME_new();
	char *buf = malloc(strlen(dn) + 3), *p, *out;
	const char *s = dn;
	if (!n || !buf)
		goto oom;
	p = buf;
	if (*s != '/') {
		*p++ = '/';
		if (!strchr(s, '=')) {
			memcpy(p, "CN=", 3);
			p += 3;
		}
	}
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			*p++ = '\x01'; /* escaped character marker */
			*p++ = *++s;
		} else {
			*p++ = *s == '/' ? '\0' : *s;
		}
	}
	*p = '\0';
	for (char *comp = buf + 1, *next; comp < p; comp = next) {
		char *eq, *v;
		next = comp + strlen(comp) + 1;
		if (!*comp)
			continue;
		/* unescape in place */
		for (v = out = comp; *v; v++)
			*out++ = *v == '\x01' ? *++v : *v;
		*out = '\0';
		if (!(eq = strchr(comp, '='))) {
			err_set(err, ERRK_PI, ERR_CA, "invalid DN component '%s'", comp);
			goto fail;
		}
		*eq = '\0';
		if (!X509_NAME_add_entry_by_txt(n, comp, MBSTRING_UTF8, (unsigned char *)eq + 1, -1,
						-1, 0)) {
			ERR_clear_error();
			err_set(err, ERRK_PI, ERR_CA, "invalid DN attribute '%s'", comp);
			goto fail;
		}
	}
	if (X509_NAME_entry_count(n) == 0) {
		err_set(err, ERRK_PI, ERR_CA, "the CA DN is empty");
		goto fail;
	}
	free(buf);
	return n;
oom:
	err_set(err, ERRK_PI, ERR_CA, "out of memory");
fail:
	free(buf);
	X509_NAME_free(n);
	return NULL;
}

static int write_key(const char *path, EVP_PKEY *key, const char *password, struct error *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1, ok;
	if (!b)
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	if (password)
		ok = PEM_write_bio_PrivateKey(b, key, EVP_aes_256_cbc(), (const unsigned char *)password,
					      (int)strlen(password), NULL, NULL);
	else
		ok = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	if (ok == 1) {
		n = BIO_get_mem_data(b, &data);
		rc = calocal_write_file(path, data, (size_t)n, 0600, err);
		OPENSSL_cleanse(data, (size_t)n);
	} else {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "cannot encode the CA key");
	}
	BIO_free(b);
	return rc;
}

static X509 *self_signed(EVP_PKEY *key, X509_NAME *dn, int days, const char *cnf_path,
			 struct error *err)
{
	X509 *x = X509_new();
	CONF *conf = NCONF_new(NULL);
	BIGNUM *bn = BN_new();
	X509V3_CTX ctx;
	long line;
	time_t now = time(NULL);

	if (!x || !conf || !bn || NCONF_load(conf, cnf_path, &line) <= 0 ||
	    !BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_issuer_name(x, dn) || !X509_set_subject_name(x, dn) ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &now) || !X509_set_pubkey(x, key))
		goto fail;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!X509V3_set_issuer_pkey(&ctx, key))
		goto fail;
	X509V3_set_nconf(&ctx, conf);
	if (!X509V3_EXT_add_nconf(conf, &ctx, "v3_ca", x) || !X509_sign(x, key, EVP_sha256()))
		goto fail;
	NCONF_free(conf);
	BN_free(bn);
	return x;
fail:
	{
		char msg[256];
		ERR_error_string_n(ERR_peek_last_error(), msg, sizeof(msg));
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "cannot create the CA certificate: %s", msg);
	}
	NCONF_free(conf);
	BN_free(bn);
	X509_free(x);
	return NULL;
}

int caconnector_local_create_ca(const struct caconnector_local_ca_spec *spec, json_t **params,
				struct error *err)
{
	char dir[PATH_MAX] = "", num[32], cn[300];
	char *p_cnf = NULL, *p_key = NULL, *p_cert = NULL, *p_tpl = NULL, *p_crl = NULL, *text = NULL;
	const char *name = spec && spec->name && *spec->name ? spec->name : "CA";
	int rsa_bits, days, crl_days, overlap, made_dir = 0, rc = -1;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	X509_NAME *dn = NULL;
	json_t *out = NULL;
	struct caconnector *cc = NULL;
	BIO *b = NULL;

	*params = NULL;
	if (!spec || !spec->dir || !*spec->dir)
		return err_set(err, ERRK_PI, ERR_CA, "no directory for the CA given");
	/* the path goes into openssl.cnf unquoted: keep to a safe alphabet */
	if (strspn(spec->dir, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_.,+@%=:-") !=
	    strlen(spec->dir))
		return err_set(err, ERRK_PI, ERR_CA, "the CA directory may only contain letters, digits "
			       "and / _ . , + @ %% = : -");
	rsa_bits = spec->rsa_bits ? spec->rsa_bits : 4096;
	days = spec->days > 0 ? spec->days : 1800;
	crl_days = spec->crl_days > 0 ? spec->crl_days : 30;
	overlap = spec->crl_overlap > 0 ? spec->crl_overlap : 5;
	if (spec->key_type == CACONN_KEY_RSA && (rsa_bits < 2048 || rsa_bits > 4096))
		return err_set(err, ERRK_PI, ERR_CA, "RSA CA keys must have 2048 to 4096 bits");
	if (spec->key_type != CACONN_KEY_RSA && spec->key_type != CACONN_KEY_EC_P256 &&
	    spec->key_type != CACONN_KEY_EC_P384)
		return err_set(err, ERRK_PI, ERR_CA, "unknown CA key type");

	if (mkdir(spec->dir, 0700) == 0)
		made_dir = 1;
	else if (errno != EEXIST)
		return err_set(err, ERRK_PI, ERR_CA, "cannot create %s: %s", spec->dir, strerror(errno));
	if (!realpath(spec->dir, dir)) {
		err_set(err, ERRK_PI, ERR_CA, "cannot resolve %s: %s", spec->dir, strerror(errno));
		goto cleanup;
	}
	for (size_t i = 0; ca_files[i]; i++) {
		char *p = path_in(dir, ca_files[i]);
		int exists = p && access(p, F_OK) == 0;
		free(p);
		if (exists) {
			err_set(err, ERRK_PI, ERR_CA, "%s already holds a CA (%s)", dir, ca_files[i]);
			return -1; /* nothing of ours to remove */
		}
	}
	if (spec->dn && *spec->dn) {
		dn = parse_dn(spec->dn, err);
	} else {
		snprintf(cn, sizeof(cn), "/CN=%s", name);
		dn = parse_dn(cn, err);
	}
	if (!dn)
		goto cleanup;
	p_cnf = path_in(dir, "openssl.cnf");
	p_key = path_in(dir, "cakey.pem");
	p_cert = path_in(dir, "cacert.pem");
	p_tpl = path_in(dir, "templates.yaml");
	p_crl = path_in(dir, "crl.pem");
	if (!p_cnf || !p_key || !p_cert || !p_tpl || !p_crl) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto cleanup;
	}

	/* openssl.cnf first: the CA certificate takes its v3_ca section from it */
	{
		size_t n = sizeof(CNF_TEMPLATE) + strlen(name) + 2 * strlen(dir) + 32;
		if (!(text = malloc(n))) {
			err_set(err, ERRK_PI, ERR_CA, "out of memory");
			goto cleanup;
		}
		snprintf(text, n, CNF_TEMPLATE, name, dir, dir, crl_days);
		if (calocal_write_file(p_cnf, text, strlen(text), 0644, err) != 0)
			goto cleanup;
	}
	if (calocal_write_file(p_tpl, TEMPLATES, strlen(TEMPLATES), 0644, err) != 0)
		goto cleanup;

	key = spec->key_type == CACONN_KEY_RSA ? EVP_RSA_gen((unsigned)rsa_bits)
	    : EVP_EC_gen(spec->key_type == CACONN_KEY_EC_P256 ? "P-256" : "P-384");
	if (!key) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "cannot generate the CA key");
		goto cleanup;
	}
	if (write_key(p_key, key, spec->key_password && *spec->key_password ? spec->key_password : NULL,
		      err) != 0)
		goto cleanup;
	if (!(cert = self_signed(key, dn, days, p_cnf, err)))
		goto cleanup;
	{
		char *data;
		long n;
		if (!(b = BIO_new(BIO_s_mem())) || PEM_write_bio_X509(b, cert) != 1) {
			ERR_clear_error();
			err_set(err, ERRK_PI, ERR_CA, "out of memory");
			goto cleanup;
		}
		n = BIO_get_mem_data(b, &data);
		if (calocal_write_file(p_cert, data, (size_t)n, 0644, err) != 0)
			goto cleanup;
	}
	{
		char *p_idx = path_in(dir, "index.txt"), *p_ser = path_in(dir, "serial"),
		     *p_num = path_in(dir, "crlnumber"), *p_attr = path_in(dir, "index.txt.attr");
		int ok = p_idx && p_ser && p_num && p_attr &&
			 calocal_write_file(p_idx, "", 0, 0644, err) == 0 &&
			 calocal_write_file(p_attr, "unique_subject = no\n", 20, 0644, err) == 0 &&
			 calocal_write_file(p_ser, "1000\n", 5, 0644, err) == 0 &&
			 calocal_write_file(p_num, "1000\n", 5, 0644, err) == 0;
		free(p_idx);
		free(p_ser);
		free(p_num);
		free(p_attr);
		if (!ok)
			goto cleanup;
	}

	out = json_object();
	if (!out)
		goto oom;
	json_object_set_new(out, "type", json_string("local"));
	json_object_set_new(out, "caconnector", json_string(name));
	json_object_set_new(out, "WorkingDir", json_string(dir));
	json_object_set_new(out, "cacert", json_string(p_cert));
	json_object_set_new(out, "cakey", json_string(p_key));
	json_object_set_new(out, "CertificateDir", json_string(dir));
	json_object_set_new(out, "CSRDir", json_string(dir));
	json_object_set_new(out, "CRL", json_string(p_crl));
	snprintf(num, sizeof(num), "%d", crl_days);
	json_object_set_new(out, "CRL_Validity_Period", json_string(num));
	snprintf(num, sizeof(num), "%d", overlap);
	json_object_set_new(out, "CRL_Overlap_Period", json_string(num));
	json_object_set_new(out, "openssl.cnf", json_string(p_cnf));
	json_object_set_new(out, "templates", json_string(p_tpl));
	if (spec->key_password && *spec->key_password)
		json_object_set_new(out, "cakey_password", json_string(spec->key_password));

	/* the first CRL, written by the connector itself */
	if (!(cc = caconnector_local.create(name, out, err)) || calocal_create_crl(cc->priv, 1, err) != 0)
		goto cleanup;
	*params = out;
	out = NULL;
	rc = 0;
	goto cleanup;
oom:
	err_set(err, ERRK_PI, ERR_CA, "out of memory");
cleanup:
	if (rc != 0 && dir[0]) {
		for (size_t i = 0; ca_files[i]; i++) {
			char *p = path_in(dir, ca_files[i]);
			if (p)
				unlink(p);
			free(p);
		}
		if (made_dir)
			rmdir(dir);
	} else if (rc != 0 && made_dir) {
		rmdir(spec->dir);
	}
	if (cc)
		cc->type->destroy(cc);
	json_decref(out);
	BIO_free(b);
	X509_free(cert);
	X509_NAME_free(dn);
	EVP_PKEY_free(key);
	free(text);
	free(p_cnf);
	free(p_key);
	free(p_cert);
	free(p_tpl);
	free(p_crl);
	return rc;
}
