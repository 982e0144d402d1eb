/*
 * local.c — CA connector type "local": privacyIDEA's LocalCAConnector,
 * an OpenSSL CA in a directory, driven through OpenSSL 3 library calls
 * (never `openssl ca`, never a shell).  This file holds the parameter
 * table, the instance, the cache of loaded files and the entry points; the
 * work is done in local_sign.c, local_crl.c, local_ocsp.c,
 * local_request.c (see local_internal.h).
 *
 * Files are read when first needed and re-read when they change on disk
 * (stat identity), so editing openssl.cnf or replacing the CA key takes
 * effect as it does with privacyIDEA, which runs `openssl ca` every time.
 * The CA key passphrase (cakey_password) stays in OpenSSL's secure heap
 * for re-reading the key and is wiped when the instance is destroyed.
 */
#include "local_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

static const struct caconnector_param calocal_params[] = {
	{ "cakey", CAP_PATH, 1, NULL, "Path of the CA private key (PEM)" },
	{ "cacert", CAP_PATH, 1, NULL, "Path of the CA certificate (PEM)" },
	{ "openssl.cnf", CAP_PATH, 0, "/etc/ssl/openssl.cnf",
	  "OpenSSL configuration of the CA (database, serial, new_certs_dir, policy, extension sections)" },
	{ "WorkingDir", CAP_PATH, 0, NULL,
	  "Directory of the CA; relative paths (CSRDir, CertificateDir, CRL, templates and those in "
	  "openssl.cnf) are taken from here" },
	{ "CSRDir", CAP_PATH, 0, NULL, "Where incoming requests are written (<subject>.req)" },
	{ "CertificateDir", CAP_PATH, 0, NULL, "Where issued certificates are written (<subject>.pem)" },
	{ "CRL", CAP_PATH, 0, "crl.pem", "The CRL file" },
	{ "CRL_Validity_Period", CAP_INT, 0, NULL,
	  "Days a new CRL is valid (default: default_crl_days of openssl.cnf, else 30)" },
	{ "CRL_Overlap_Period", CAP_INT, 0, "2",
	  "Days before the CRL's next update from which create_crl writes a new one" },
	{ "templates", CAP_PATH, 0, NULL,
	  "YAML file of certificate templates: name: {days: N, extensions: <openssl.cnf section>}" },
	{ "cakey_password", CAP_PASSWORD, 0, NULL, "Passphrase of an encrypted CA key" },
	{ "approval", CAP_BOOL, 0, "0",
	  "Requests wait (rollout_state pending) until a CA manager approves or rejects them" },
	{ NULL, 0, 0, NULL, NULL },
};

/* ---- helpers ------------------------------------------------------------ */

char *calocal_resolve(const char *workdir, const char *p)
{
	if (!p)
		return NULL;
	if (p[0] == '/' || !workdir || !*workdir)
		return strdup(p);
	size_t n = strlen(workdir) + strlen(p) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", workdir, p);
	return s;
}

/* NCONF_get_string without leaving an error on the queue for a miss. */
static const char *cnf_str(const CONF *conf, const char *section, const char *name)
{
	const char *v = NCONF_get_string(conf, section, name);
	if (!v)
		ERR_clear_error();
	return v;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int calocal_md(const struct calocal_conf *c, EVP_PKEY *key, const EVP_MD **md, struct error *err)
{
	char def[80] = "";
	int def_ret = EVP_PKEY_get_default_digest_name(key, def, sizeof(def));
	const char *name = c->md;

	ERR_clear_error();
	*md = NULL;
	/* apps/ca.c: a key type that must not have a digest (Ed25519). */
	if (def_ret == 2 && strcmp(def, "UNDEF") == 0)
		return 0;
	/* A missing default_md makes `openssl ca` fail; we take the key's
	 * default, which is what "default_md = default" asks for. */
	if (!name || strcmp(name, "default") == 0 || strcmp(def, "UNDEF") == 0) {
		if (def_ret <= 0)
			return err_set(err, ERRK_PI, ERR_CA, "no default digest for the CA key");
		name = def;
	}
	if (strcmp(name, "UNDEF") == 0)
		return 0;
	*md = EVP_get_digestbyname(name);
	if (!*md)
		return err_set(err, ERRK_PI, ERR_CA, "%s is an unsupported message digest type", name);
	return 0;
}

/* ---- the openssl.cnf cache ---------------------------------------------- */

void calocal_conf_put(struct calocal_conf *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	NCONF_free(c->conf);
	json_decref(c->templates);
	free(c->section);
	free(c->database);
	free(c->lockfile);
	free(c->serial);
	free(c->crlnumber);
	free(c->new_certs_dir);
	free(c->md);
	free(c->policy);
	free(c->crl_ext);
	free(c);
}

/* oid_section: names for private OIDs used in extension sections. */
static void add_oid_section(CONF *conf)
{
	const char *sect = cnf_str(conf, NULL, "oid_section");
	STACK_OF(CONF_VALUE) *sk;
	if (!sect || !(sk = NCONF_get_section(conf, sect))) {
		ERR_clear_error();
		return;
	}
	for (int i = 0; i < sk_CONF_VALUE_num(sk); i++) {
		CONF_VALUE *cv = sk_CONF_VALUE_value(sk, i);
		if (OBJ_sn2nid(cv->name) == NID_undef && OBJ_ln2nid(cv->name) == NID_undef)
			OBJ_create(cv->value, cv->name, cv->name);
	}
	ERR_clear_error();
}

static int parse_ext_copy(const char *s, int *out)
{
	if (!s || strcasecmp(s, "none") == 0)
		*out = LOCAL_EXT_COPY_NONE;
	else if (strcasecmp(s, "copy") == 0)
		*out = LOCAL_EXT_COPY_ADD;
	else if (strcasecmp(s, "copyall") == 0)
		*out = LOCAL_EXT_COPY_ALL;
	else
		return -1;
	return 0;
}

static long cnf_long(const CONF *conf, const char *section, const char *name)
{
	const char *v = cnf_str(conf, section, name);
	return v ? strtol(v, NULL, 10) : 0;
}

static struct calocal_conf *conf_load(struct calocal *l, const struct calocal_fid *cid,
				    const struct calocal_fid *tid, struct error *err)
{
	struct calocal_conf *c = calloc(1, sizeof(*c));
	const char *v;
	long line = 0;

	if (!c) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		return NULL;
	}
	c->refs = 1;
	c->cnf_id = *cid;
	c->tpl_id = *tid;
	c->conf = NCONF_new(NULL);
	if (!c->conf || NCONF_load(c->conf, l->cnf, &line) <= 0) {
		ERR_clear_error();
		if (line > 0)
			err_set(err, ERRK_PI, ERR_CA, "error on line %ld of config file '%s'", line, l->cnf);
		else
			err_set(err, ERRK_PI, ERR_CA, "error loading the config file '%s'", l->cnf);
		goto fail;
	}
	add_oid_section(c->conf);
	if (!(v = cnf_str(c->conf, "ca", "default_ca"))) {
		err_set(err, ERRK_PI, ERR_CA, "%s: variable lookup failed for ca::default_ca", l->cnf);
		goto fail;
	}
	c->section = strdup(v);
	if (!(v = cnf_str(c->conf, c->section, "database"))) {
		err_set(err, ERRK_PI, ERR_CA, "%s: variable lookup failed for %s::database", l->cnf,
			c->section);
		goto fail;
	}
	c->database = calocal_resolve(l->workdir, v);
	if (c->database) {
		size_t n = strlen(c->database) + 6;
		if ((c->lockfile = malloc(n)))
			snprintf(c->lockfile, n, "%s.lock", c->database);
	}
	c->rand_serial = cnf_str(c->conf, c->section, "rand_serial") != NULL;
	c->serial = calocal_resolve(l->workdir, cnf_str(c->conf, c->section, "serial"));
	c->crlnumber = calocal_resolve(l->workdir, cnf_str(c->conf, c->section, "crlnumber"));
	c->new_certs_dir = calocal_resolve(l->workdir, cnf_str(c->conf, c->section, "new_certs_dir"));
	c->md = dup_or_null(cnf_str(c->conf, c->section, "default_md"));
	c->policy = dup_or_null(cnf_str(c->conf, c->section, "policy"));
	c->crl_ext = dup_or_null(cnf_str(c->conf, c->section, "crl_extensions"));
	/* openssl reads preserve from [ca], not from the CA section. */
	v = cnf_str(c->conf, "ca", "preserve");
	c->preserve = v && (*v == 'y' || *v == 'Y');
	v = cnf_str(c->conf, c->section, "email_in_dn");
	c->email_in_dn = !(v && strcmp(v, "no") == 0);
	v = cnf_str(c->conf, c->section, "utf8");
	c->utf8 = v && strcmp(v, "yes") == 0;
	v = cnf_str(c->conf, c->section, "unique_subject");
	c->unique_subject = !(v && strchr("fFnN0", *v));
	if (parse_ext_copy(cnf_str(c->conf, c->section, "copy_extensions"), &c->ext_copy) != 0) {
		err_set(err, ERRK_PI, ERR_CA, "%s: invalid copy_extensions", l->cnf);
		goto fail;
	}
	c->crl_days = cnf_long(c->conf, c->section, "default_crl_days");
	c->crl_hours = cnf_long(c->conf, c->section, "default_crl_hours");
	if (!c->section || !c->database || !c->lockfile) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto fail;
	}
	if (l->templates) {
		if (calocal_templates_load(l->templates, &c->templates, err) != 0)
			goto fail;
	} else if (!(c->templates = json_object())) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto fail;
	}
	return c;
fail:
	calocal_conf_put(c);
	return NULL;
}

int calocal_conf_get(struct calocal *l, struct calocal_conf **out, struct error *err)
{
	struct calocal_fid cid, tid;
	struct calocal_conf *c;

	if (calocal_fid_stat(l->cnf, &cid) != 0)
		return err_set(err, ERRK_PI, ERR_CA, "cannot read the config file '%s': %s", l->cnf,
			       strerror(errno));
	memset(&tid, 0, sizeof(tid));
	if (l->templates && calocal_fid_stat(l->templates, &tid) != 0)
		return err_set(err, ERRK_PI, ERR_CA, "cannot read the templates file '%s': %s",
			       l->templates, strerror(errno));
	pthread_mutex_lock(&l->mu);
	c = l->conf;
	if (c && calocal_fid_equal(&c->cnf_id, &cid) && calocal_fid_equal(&c->tpl_id, &tid)) {
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
		pthread_mutex_unlock(&l->mu);
		*out = c;
		return 0;
	}
	pthread_mutex_unlock(&l->mu);

	if (!(c = conf_load(l, &cid, &tid, err)))
		return -1;
	pthread_mutex_lock(&l->mu);
	calocal_conf_put(l->conf);
	l->conf = c;
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL); /* the cache and the caller */
	pthread_mutex_unlock(&l->mu);
	*out = c;
	return 0;
}

/* ---- the CA key and certificate cache ----------------------------------- */

void calocal_keys_put(struct calocal_keys *k)
{
	if (!k || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	EVP_PKEY_free(k->key);
	X509_free(k->cert);
	free(k);
}

/* PEM passphrase callback: never prompt on a terminal. */
static int pw_cb(char *buf, int size, int rwflag, void *u)
{
	const struct calocal *l = u;
	(void)rwflag;
	if (!l->password || l->password_len == 0 || l->password_len > (size_t)size)
		return -1;
	memcpy(buf, l->password, l->password_len);
	return (int)l->password_len;
}

static EVP_PKEY *load_key(struct calocal *l, struct error *err)
{
	char *data;
	size_t len;
	EVP_PKEY *key = NULL;
	BIO *b;

	if (calocal_read_file(l->cakey, 1024 * 1024, &data, &len, err) != 0)
		return NULL;
	if ((b = BIO_new_mem_buf(data, (int)len)) != NULL) {
		key = PEM_read_bio_PrivateKey(b, NULL, pw_cb, l);
		BIO_free(b);
	}
	if (!key) {
		int encrypted = strstr(data, "ENCRYPTED") != NULL;
		unsigned long e = ERR_peek_last_error();
		char reason[256];
		ERR_error_string_n(e, reason, sizeof(reason));
		ERR_clear_error();
		if (encrypted && !l->password)
			err_set(err, ERRK_PI, ERR_CA,
				"the CA key %s is encrypted, but no cakey_password is configured", l->cakey);
		else if (encrypted)
			err_set(err, ERRK_PI, ERR_CA,
				"cannot decrypt the CA key %s: wrong passphrase (cakey_password)", l->cakey);
		else
			err_set(err, ERRK_PI, ERR_CA, "cannot read the CA key %s: %s", l->cakey, reason);
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return key;
}

static X509 *load_cert(const char *path, struct error *err)
{
	char *data;
	size_t len;
	X509 *x = NULL;
	BIO *b;
	if (calocal_read_file(path, 1024 * 1024, &data, &len, err) != 0)
		return NULL;
	if ((b = BIO_new_mem_buf(data, (int)len)) != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (!x) {
		const unsigned char *p = (const unsigned char *)data;
		x = d2i_X509(NULL, &p, (long)len);
	}
	ERR_clear_error();
	free(data);
	if (!x)
		err_set(err, ERRK_PI, ERR_CA, "cannot read the CA certificate %s", path);
	return x;
}

int calocal_keys_get(struct calocal *l, struct calocal_keys **out, struct error *err)
{
	struct calocal_fid kid, xid;
	struct calocal_keys *k;

	if (calocal_fid_stat(l->cakey, &kid) != 0)
		return err_set(err, ERRK_PI, ERR_CA, "cannot read the CA key %s: %s", l->cakey,
			       strerror(errno));
	if (calocal_fid_stat(l->cacert, &xid) != 0)
		return err_set(err, ERRK_PI, ERR_CA, "cannot read the CA certificate %s: %s", l->cacert,
			       strerror(errno));
	pthread_mutex_lock(&l->mu);
	k = l->keys;
	if (k && calocal_fid_equal(&k->key_id, &kid) && calocal_fid_equal(&k->cert_id, &xid)) {
		__atomic_add_fetch(&k->refs, 1, __ATOMIC_ACQ_REL);
		pthread_mutex_unlock(&l->mu);
		*out = k;
		return 0;
	}
	pthread_mutex_unlock(&l->mu);

	if (!(k = calloc(1, sizeof(*k))))
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	k->refs = 1;
	k->key_id = kid;
	k->cert_id = xid;
	if (!(k->key = load_key(l, err)) || !(k->cert = load_cert(l->cacert, err))) {
		calocal_keys_put(k);
		return -1;
	}
	if (X509_check_private_key(k->cert, k->key) != 1) {
		ERR_clear_error();
		calocal_keys_put(k);
		return err_set(err, ERRK_PI, ERR_CA, "CA certificate and CA private key do not match");
	}
	pthread_mutex_lock(&l->mu);
	calocal_keys_put(l->keys);
	l->keys = k;
	__atomic_add_fetch(&k->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&l->mu);
	*out = k;
	return 0;
}

/* ---- instance ----------------------------------------------------------- */

static void l_destroy(struct caconnector *cc)
{
	struct calocal *l;
	if (!cc)
		return;
	l = cc->priv;
	if (l) {
		free(l->name);
		free(l->cakey);
		free(l->cacert);
		free(l->cnf);
		free(l->workdir);
		free(l->csrdir);
		free(l->certdir);
		free(l->crl);
		free(l->templates);
		if (l->password)
			OPENSSL_secure_clear_free(l->password, l->password_len + 1);
		calocal_conf_put(l->conf);
		calocal_keys_put(l->keys);
		pthread_mutex_destroy(&l->mu);
		free(l);
	}
	free(cc->name);
	free(cc);
}

static struct caconnector *l_create(const char *name, const json_t *config, struct error *err)
{
	struct caconnector *cc = NULL;
	struct calocal *l = NULL;
	char b1[32], b2[32];
	const char *s;

	if (caconnector_check_params(&caconnector_local, config, err) != 0)
		return NULL;
	cc = calloc(1, sizeof(*cc));
	l = calloc(1, sizeof(*l));
	if (!cc || !l) {
		free(cc);
		free(l);
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&l->mu, NULL);
	cc->type = &caconnector_local;
	cc->priv = l;
	cc->name = strdup(name ? name : "");
	l->name = strdup(name ? name : "");

#define CFG(key, def) caconnector_cfg_str(config, key, def, NULL, 0)
	l->workdir = dup_or_null(CFG("WorkingDir", NULL));
	/* privacyIDEA runs openssl in WorkingDir: relative paths start there */
	l->cakey = calocal_resolve(l->workdir, CFG("cakey", NULL));
	l->cacert = calocal_resolve(l->workdir, CFG("cacert", NULL));
	l->cnf = calocal_resolve(l->workdir, CFG("openssl.cnf", "/etc/ssl/openssl.cnf"));
	/* privacyIDEA: an unset CSRDir/CertificateDir is the WorkingDir itself. */
	l->csrdir = calocal_resolve(l->workdir, CFG("CSRDir", l->workdir ? "." : NULL));
	l->certdir = calocal_resolve(l->workdir, CFG("CertificateDir", l->workdir ? "." : NULL));
	l->crl = calocal_resolve(l->workdir, CFG("CRL", "crl.pem"));
	l->templates = calocal_resolve(l->workdir, CFG("templates", NULL));
#undef CFG
	s = caconnector_cfg_str(config, "CRL_Validity_Period", NULL, b1, sizeof(b1));
	l->crl_days = s ? strtol(s, NULL, 10) : -1;
	s = caconnector_cfg_str(config, "CRL_Overlap_Period", "2", b2, sizeof(b2));
	l->overlap = strtol(s, NULL, 10);
	l->approval = caconnector_parse_bool(caconnector_cfg_str(config, "approval", "0", b1,
								  sizeof(b1)));
	s = caconnector_cfg_str(config, "cakey_password", NULL, NULL, 0); /* "" = none */
	if (s) {
		l->password_len = strlen(s);
		l->password = OPENSSL_secure_zalloc(l->password_len + 1);
		if (l->password)
			memcpy(l->password, s, l->password_len);
	}
	if (!cc->name || !l->name || !l->cakey || !l->cacert || !l->cnf || !l->crl ||
	    (s && !l->password)) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto fail;
	}
	if (l->crl_days == 0 || l->crl_days < -1 || l->overlap < 0) {
		err_set(err, ERRK_PI, ERR_CA, "CRL_Validity_Period must be positive and "
			"CRL_Overlap_Period not negative");
		goto fail;
	}
	if (l->approval && !l->csrdir) {
		err_set(err, ERRK_PI, ERR_CA, "approval mode keeps the requests in CSRDir: set CSRDir "
			"or WorkingDir");
		goto fail;
	}
	return cc;
fail:
	l_destroy(cc);
	return NULL;
}

static int check_dir(const char *what, const char *dir, struct error *err)
{
	struct stat st;
	if (!dir)
		return 0;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0)
		return err_set(err, ERRK_PI, ERR_CA, "%s %s is not a writable directory", what, dir);
	return 0;
}

static int l_check(struct caconnector *cc, struct error *err)
{
	struct calocal *l = cc->priv;
	struct calocal_conf *c = NULL;
	struct calocal_keys *k = NULL;
	const EVP_MD *md;
	BIGNUM *bn = NULL;
	struct calocal_db db;
	int rc = -1;

	if (calocal_conf_get(l, &c, err) != 0 || calocal_keys_get(l, &k, err) != 0)
		goto out;
	if (calocal_md(c, k->key, &md, err) != 0)
		goto out;
	if (calocal_db_load(c->database, &db, err) != 0)
		goto out;
	calocal_db_free(&db);
	if (!c->rand_serial) {
		if (!c->serial) {
			err_set(err, ERRK_PI, ERR_CA, "%s: variable lookup failed for %s::serial", l->cnf,
				c->section);
			goto out;
		}
		if (!(bn = calocal_serial_load(c->serial, err)))
			goto out;
	}
	if (!c->new_certs_dir) {
		err_set(err, ERRK_PI, ERR_CA, "there needs to be defined a directory for new "
			"certificate to be placed in (new_certs_dir)");
		goto out;
	}
	if (check_dir("new_certs_dir", c->new_certs_dir, err) != 0 ||
	    check_dir("CSRDir", l->csrdir, err) != 0 ||
	    check_dir("CertificateDir", l->certdir, err) != 0)
		goto out;
	rc = 0;
out:
	BN_free(bn);
	calocal_conf_put(c);
	calocal_keys_put(k);
	return rc;
}

/* ---- entry points ------------------------------------------------------- */

static int l_sign_request(struct caconnector *cc, const char *request,
			  const struct caconnector_sign_options *opt, struct caconnector_result *res,
			  struct error *err)
{
	static const struct caconnector_sign_options none;
	struct calocal *l = cc->priv;
	struct calocal_conf *c = NULL;
	struct calocal_keys *k = NULL;
	struct calocal_issued issued = { 0 };
	X509_REQ *req = NULL;
	X509_NAME *subject = NULL;
	char *ext = NULL, *id = NULL;
	long days;
	int rc = -1;

	if (!opt)
		opt = &none;
	if (calocal_conf_get(l, &c, err) != 0)
		goto out;
	if (calocal_parse_request(c, request, opt->spkac, &req, err) != 0)
		goto out;
	if (calocal_profile(c, opt, &days, &ext, err) != 0)
		goto out;
	if (calocal_keys_get(l, &k, err) != 0)
		goto out;
	if (l->approval) {
		/* Refuse now what the CA would refuse at approval time. */
		if (calocal_policy_subject(c, k->cert, req, &subject, err) != 0)
			goto out;
		if (calocal_request_submit(l, request, opt->spkac, req, opt->template_name, days, ext, &id,
					 err) != 0)
			goto out;
		memset(res, 0, sizeof(*res));
		res->request_id = id;
		err_set(err, ERRK_PI, ERR_CSR_PENDING, "CSR pending"); /* privacyIDEA's text */
		rc = CACONN_PENDING;
		goto out;
	}
	if (calocal_issue(l, c, k, req, request, opt->spkac, days, ext, &issued, err) != 0)
		goto out;
	memset(res, 0, sizeof(*res));
	res->request_id = strdup("0");
	res->certificate = calocal_pem_of(issued.cert);
	res->serial = issued.serial;
	issued.serial = NULL;
	if (!res->request_id || !res->certificate) {
		/* issued and recorded, but we cannot hand it out */
		caconnector_result_free(res);
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto out;
	}
	rc = 0;
out:
	calocal_issued_free(&issued);
	X509_NAME_free(subject);
	X509_REQ_free(req);
	free(ext);
	calocal_conf_put(c);
	calocal_keys_put(k);
	return rc;
}

static int l_revoke_cert(struct caconnector *cc, const char *cert_pem, const char *request_id,
			 const char *reason, char **serial_hex, struct error *err)
{
	struct calocal *l = cc->priv;
	char *pem = NULL;
	int rc;
	if (!cert_pem && request_id && *request_id && strcmp(request_id, "0") != 0) {
		if (calocal_request_certificate(l, request_id, &pem, err) != 0)
			return -1;
		cert_pem = pem;
	}
	if (!cert_pem) {
		free(pem);
		return err_set(err, ERRK_PI, ERR_CA, "no certificate to revoke");
	}
	rc = calocal_revoke(l, cert_pem, reason, serial_hex, err);
	free(pem);
	return rc;
}

static int l_create_crl(struct caconnector *cc, int force, struct error *err)
{
	return calocal_create_crl(cc->priv, force, err);
}

static int l_get_templates(struct caconnector *cc, json_t **templates, struct error *err)
{
	struct calocal_conf *c;
	if (calocal_conf_get(cc->priv, &c, err) != 0)
		return -1;
	*templates = json_deep_copy(c->templates);
	calocal_conf_put(c);
	return *templates ? 0 : err_set(err, ERRK_PI, ERR_CA, "out of memory");
}

static int l_get_cr_status(struct caconnector *cc, const char *request_id,
			   enum caconnector_cr_status *status, struct error *err)
{
	return calocal_request_status(cc->priv, request_id, status, err);
}

static int l_get_issued_certificate(struct caconnector *cc, const char *request_id, char **pem,
				    struct error *err)
{
	return calocal_request_certificate(cc->priv, request_id, pem, err);
}

static int l_get_specific_options(struct caconnector *cc, json_t **options, struct error *err)
{
	*options = json_object();
	return *options ? 0 : err_set(err, ERRK_PI, ERR_CA, "out of memory");
}

static int l_get_crl(struct caconnector *cc, int der, unsigned char **data, size_t *len,
		     struct error *err)
{
	struct calocal *l = cc->priv;
	X509_CRL *crl = NULL;
	BIO *in = NULL, *out = NULL;
	char *file = NULL, *p;
	size_t flen;
	long n;
	int rc = -1;

	if (!calocal_crl_fresh(l) && calocal_create_crl(l, 0, err) < 0)
		return -1;
	if (calocal_read_file(l->crl, LOCAL_MAX_INDEX, &file, &flen, err) != 0)
		return -1;
	in = BIO_new_mem_buf(file, (int)flen);
	out = BIO_new(BIO_s_mem());
	if (!in || !out)
		goto oom;
	crl = PEM_read_bio_X509_CRL(in, NULL, NULL, NULL);
	if (!crl) {
		const unsigned char *q = (const unsigned char *)file;
		crl = d2i_X509_CRL(NULL, &q, (long)flen);
	}
	if (!crl) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "cannot read the CRL %s", l->crl);
		goto out;
	}
	if ((der ? i2d_X509_CRL_bio(out, crl) : PEM_write_bio_X509_CRL(out, crl)) != 1)
		goto oom;
	n = BIO_get_mem_data(out, &p);
	if (!(*data = malloc((size_t)n + 1)))
		goto oom;
	memcpy(*data, p, (size_t)n);
	(*data)[n] = '\0';
	*len = (size_t)n;
	rc = 0;
	goto out;
oom:
	ERR_clear_error();
	err_set(err, ERRK_PI, ERR_CA, "out of memory");
out:
	X509_CRL_free(crl);
	BIO_free(in);
	BIO_free(out);
	free(file);
	return rc;
}

static int l_ocsp_respond(struct caconnector *cc, const unsigned char *req, size_t req_len,
			  unsigned char **resp, size_t *resp_len, struct error *err)
{
	return calocal_ocsp_respond(cc->priv, req, req_len, resp, resp_len, err);
}

static int l_approve(struct caconnector *cc, const char *request_id, struct error *err)
{
	return calocal_request_approve(cc->priv, request_id, err);
}

static int l_reject(struct caconnector *cc, const char *request_id, const char *reason,
		    struct error *err)
{
	return calocal_request_reject(cc->priv, request_id, reason, err);
}

static int l_list_requests(struct caconnector *cc, json_t **list, struct error *err)
{
	return calocal_request_list(cc->priv, list, err);
}

const struct caconnector_type caconnector_local = {
	.name = "local",
	.description = "A local OpenSSL CA (a directory usable with `openssl ca`)",
	.params = calocal_params,
	.create = l_create,
	.destroy = l_destroy,
	.check = l_check,
	.sign_request = l_sign_request,
	.revoke_cert = l_revoke_cert,
	.create_crl = l_create_crl,
	.get_templates = l_get_templates,
	.get_cr_status = l_get_cr_status,
	.get_issued_certificate = l_get_issued_certificate,
	.get_specific_options = l_get_specific_options,
	.get_crl = l_get_crl,
	.ocsp_respond = l_ocsp_respond,
	.approve = l_approve,
	.reject = l_reject,
	.list_requests = l_list_requests,
};
