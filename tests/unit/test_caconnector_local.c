/*
 * test_caconnector_local.c — the "local" CA connector against OpenSSL's
 * own command line as the independent judge.
 *
 * The library never runs a program; this test does (popen of /bin/sh):
 * `openssl req` makes the requests, `openssl verify`, `openssl x509`,
 * `openssl crl` and `openssl ocsp` check what the connector produced, and
 * `openssl ca` must keep working on the same CA directory (and sign the
 * same request identically).  Every CA lives under one mkdtemp directory
 * that the group teardown removes.
 *
 * TESSERA_CA_BENCH=1 adds a timing run (signatures/s of the connector and
 * of `openssl ca` for the same work).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/caconnectors/caconnector.h"

static char g_root[PATH_MAX];

/* ---- helpers ------------------------------------------------------------ */

/* Run a shell command, output (stdout+stderr) into *out; exit status. */
static int sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(char **out, const char *fmt, ...)
{
	char inner[8192], cmd[8300], *buf = NULL;
	size_t len = 0, cap = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(inner, sizeof(inner), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "( %s ) 2>&1", inner);
	p = popen(cmd, "r");
	assert_non_null(p);
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t r = fread(buf + len, 1, 4096, p);
		if (r == 0)
			break;
		len += r;
	}
	buf[len] = '\0';
	st = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void spit(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void spits(const char *path, const char *text)
{
	spit(path, text, strlen(text));
}

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
	static char bufs[8][PATH_MAX];
	static int i;
	char *b = bufs[i++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, PATH_MAX, fmt, ap);
	va_end(ap);
	return b;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in a directory, hidden ones included, one per line. */
static char *listing(const char *dir)
{
	char *names[4096], *out;
	size_t n = 0, len = 1;
	struct dirent *de;
	DIR *d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		assert_true(n < 4096);
		names[n] = strdup(de->d_name);
		len += strlen(de->d_name) + 1;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmpstr);
	out = malloc(len);
	assert_non_null(out);
	len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		memcpy(out + len, names[i], l);
		out[len + l] = '\n';
		len += l + 1;
		free(names[i]);
	}
	out[len] = '\0';
	return out;
}

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

#define assert_contains(hay, needle)                                                             \
	do {                                                                                     \
		if (!contains((hay), (needle)))                                                  \
			fail_msg("expected \"%s\" in:\n%s", (needle), (hay) ? (hay) : "(null)"); \
	} while (0)

static char *new_dir(const char *name)
{
	char *p = pathf("%s/%s", g_root, name);
	assert_int_equal(mkdir(p, 0700), 0);
	return strdup(p);
}

/* A CA made by the connector's helper. */
static json_t *helper_ca(const char *name, enum caconnector_keytype kt, const char *password)
{
	struct caconnector_local_ca_spec spec = {
		.dir = pathf("%s/%s", g_root, name),
		.name = name,
		.key_type = kt,
		.rsa_bits = 2048,
		.days = 3650,
		.dn = "/CN=Tessera Test CA/O=Tessera",
		.crl_days = 30,
		.crl_overlap = 2,
		.key_password = password,
	};
	struct error err = { 0 };
	json_t *params = NULL;
	if (caconnector_local_create_ca(&spec, &params, &err) != 0)
		fail_msg("create_ca: %s", err.message);
	return params;
}

static struct caconnector *connect(json_t *params)
{
	struct error err = { 0 };
	struct caconnector *c = caconnector_create("local", "testCA", params, &err);
	if (!c)
		fail_msg("create: %s", err.message);
	return c;
}

/* `openssl req` makes a key and a request; returns the PEM request. */
static char *make_csr(const char *dir, const char *name, int ec, const char *subj)
{
	char *out, *csr;
	int rc = sh(&out, "openssl req -new -newkey %s -nodes -keyout %s/%s.key -out %s/%s.csr -subj '%s'",
		    ec ? "ec -pkeyopt ec_paramgen_curve:P-256" : "rsa:2048", dir, name, dir, name, subj);
	if (rc != 0)
		fail_msg("openssl req: %s", out);
	free(out);
	csr = slurp(pathf("%s/%s.csr", dir, name));
	assert_non_null(csr);
	return csr;
}

/* A request made in-process (for the many-requests tests). */
static char *quick_csr(const char *cn)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *r = X509_REQ_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;
	assert_non_null(k);
	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r), "CN", MBSTRING_UTF8,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_pubkey(r, k);
	assert_true(X509_REQ_sign(r, k, EVP_sha256()) > 0);
	PEM_write_bio_X509_REQ(b, r);
	n = BIO_get_mem_data(b, &p);
	s = strndup(p, (size_t)n);
	BIO_free(b);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
	return s;
}

static int sign(struct caconnector *c, const char *csr, const char *tmpl, int spkac,
		struct caconnector_result *res, struct error *err)
{
	struct caconnector_sign_options o = { .template_name = tmpl, .spkac = spkac };
	memset(res, 0, sizeof(*res));
	err_clear(err);
	return c->type->sign_request(c, csr, &o, res, err);
}

/* Sign and write the certificate to dir/name.pem; returns the serial. */
static char *sign_ok(struct caconnector *c, const char *csr, const char *tmpl, const char *file)
{
	struct caconnector_result res;
	struct error err = { 0 };
	char *serial;
	if (sign(c, csr, tmpl, 0, &res, &err) != 0)
		fail_msg("sign_request: %d %s", err.code, err.message);
	assert_string_equal(res.request_id, "0");
	assert_non_null(res.certificate);
	assert_non_null(res.serial);
	if (file)
		spits(file, res.certificate);
	serial = strdup(res.serial);
	caconnector_result_free(&res);
	return serial;
}

/* notAfter - notBefore in days, read from `openssl x509 -dates`. */
static long days_of(const char *certfile)
{
	char *out, *nb, *na;
	struct tm a = { 0 }, b = { 0 };
	assert_int_equal(sh(&out, "openssl x509 -in %s -noout -startdate -enddate", certfile), 0);
	nb = strstr(out, "notBefore=");
	na = strstr(out, "notAfter=");
	assert_non_null(nb);
	assert_non_null(na);
	assert_non_null(strptime(nb + 10, "%b %d %H:%M:%S %Y GMT", &a));
	assert_non_null(strptime(na + 9, "%b %d %H:%M:%S %Y GMT", &b));
	free(out);
	return (long)((timegm(&b) - timegm(&a)) / 86400);
}

static void verify_ok(const char *dir, const char *certfile)
{
	char *out;
	if (sh(&out, "openssl verify -CAfile %s/cacert.pem %s", dir, certfile) != 0)
		fail_msg("openssl verify: %s", out);
	assert_contains(out, ": OK");
	free(out);
}

/* Lines of index.txt that are not empty. */
static int index_lines(const char *dir)
{
	char *s = slurp(pathf("%s/index.txt", dir));
	int n = 0;
	for (char *p = s; p && *p; p++)
		if (*p == '\n')
			n++;
	free(s);
	return n;
}

/* Query our responder through `openssl ocsp`; returns its -resp_text output. */
static char *ocsp_check(struct caconnector *c, const char *dir, const char *certfile)
{
	struct error err = { 0 };
	unsigned char *resp = NULL;
	size_t rlen = 0;
	char *req, *out;
	long n;

	assert_int_equal(sh(NULL, "openssl ocsp -issuer %s/cacert.pem -cert %s -reqout %s/ocspreq.der",
			    dir, certfile, dir), 0);
	req = slurp(pathf("%s/ocspreq.der", dir));
	{
		FILE *f = fopen(pathf("%s/ocspreq.der", dir), "rb");
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fclose(f);
	}
	if (c->type->ocsp_respond(c, (unsigned char *)req, (size_t)n, &resp, &rlen, &err) != 0)
		fail_msg("ocsp_respond: %s", err.message);
	spit(pathf("%s/ocspresp.der", dir), resp, rlen);
	free(resp);
	free(req);
	/* the signature and the nonce against the request as sent ... */
	sh(&out, "openssl ocsp -reqin %s/ocspreq.der -respin %s/ocspresp.der -VAfile %s/cacert.pem",
	   dir, dir, dir);
	assert_contains(out, "Response verify OK");
	assert_false(contains(out, "WARNING: no nonce"));
	assert_false(contains(out, "Nonce Verify error"));
	free(out);
	/* ... and the status (with -cert, openssl builds its own request, so
	 * its nonce cannot match: -no_nonce) */
	sh(&out, "openssl ocsp -respin %s/ocspresp.der -VAfile %s/cacert.pem -issuer %s/cacert.pem "
		 "-cert %s -no_nonce -resp_text", dir, dir, dir, certfile);
	assert_contains(out, "Response verify OK");
	return out;
}

/* ---- tests -------------------------------------------------------------- */

static void test_registry(void **state)
{
	(void)state;
	const struct caconnector_type *t = caconnector_type_find("local");
	struct error err = { 0 };
	json_t *cfg, *cen, *desc;

	assert_non_null(t);
	assert_null(caconnector_type_find("microsoft-nope"));
	assert_null(caconnector_create("nope", "x", NULL, &err));
	assert_int_equal(err.code, ERR_CA);

	cfg = json_pack("{s:s}", "cacert", "/x/cacert.pem");
	assert_null(caconnector_create("local", "x", cfg, &err));
	assert_int_equal(err.code, ERR_CA);
	assert_string_equal(err.message, "required argument 'cakey' is missing.");
	json_object_set_new(cfg, "cakey", json_string("/x/cakey.pem"));
	json_object_set_new(cfg, "CRL_Overlap_Period", json_string("two"));
	assert_int_equal(caconnector_check_params(t, cfg, &err), -1);
	assert_contains(err.message, "CRL_Overlap_Period");
	json_object_set_new(cfg, "CRL_Overlap_Period", json_string("2"));
	json_object_set_new(cfg, "cakey_password", json_string("secret"));
	assert_int_equal(caconnector_check_params(t, cfg, &err), 0);
	cen = caconnector_censor_config(t, cfg);
	assert_string_equal(json_string_value(json_object_get(cen, "cakey_password")), "__CENSORED__");
	assert_string_equal(json_string_value(json_object_get(cen, "cakey")), "/x/cakey.pem");
	desc = caconnector_type_description(t);
	assert_string_equal(json_string_value(json_object_get(json_object_get(desc, "local"),
							     "CRL_Overlap_Period")), "int");
	assert_string_equal(json_string_value(json_object_get(json_object_get(desc, "local"),
							     "cakey")), "string");
	json_decref(cfg);
	json_decref(cen);
	json_decref(desc);
}

/* Sign, check with openssl, revoke, CRL, OCSP, then openssl ca on the same CA. */
static void full_cycle(const char *name, enum caconnector_keytype kt)
{
	json_t *params = helper_ca(name, kt, NULL);
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector *c = connect(params);
	struct error err = { 0 };
	char *out, *csr1, *csr2, *csr3, *s1, *s2, *s3, *text, *idx;
	json_t *tpl;
	struct stat st;
	unsigned char *crl;
	size_t crl_len;

	/* the CA itself, judged by openssl */
	assert_int_equal(stat(pathf("%s/cakey.pem", dir), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	verify_ok(dir, pathf("%s/cacert.pem", dir));
	assert_int_equal(sh(&out, "openssl x509 -in %s/cacert.pem -noout -text", dir), 0);
	assert_contains(out, "CA:TRUE");
	assert_contains(out, "Subject: CN = Tessera Test CA, O = Tessera");
	free(out);
	assert_int_equal(sh(&out, "openssl crl -in %s/crl.pem -noout -text -CAfile %s/cacert.pem", dir,
			    dir), 0);
	assert_contains(out, "verify OK");
	assert_contains(out, "X509v3 CRL Number: \n                4096");
	free(out);
	out = slurp(pathf("%s/crlnumber", dir));
	assert_string_equal(out, "1001\n");
	free(out);
	out = slurp(pathf("%s/crlnumber.old", dir));
	assert_string_equal(out, "1000\n");
	free(out);
	assert_int_equal(c->type->check(c, &err), 0);

	/* templates */
	assert_int_equal(c->type->get_templates(c, &tpl, &err), 0);
	out = json_dumps(tpl, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(out, "{\"user\":{\"days\":365,\"extensions\":\"user\"},"
				 "\"webserver\":{\"days\":750,\"extensions\":\"server\"}}");
	free(out);
	json_decref(tpl);

	/* RSA request, template user */
	csr1 = make_csr(dir, "alice", 0, "/CN=alice smith/O=Tessera");
	s1 = sign_ok(c, csr1, "user", pathf("%s/alice.crt", dir));
	assert_string_equal(s1, "1000");
	verify_ok(dir, pathf("%s/alice.crt", dir));
	assert_int_equal(days_of(pathf("%s/alice.crt", dir)), 365);
	assert_int_equal(sh(&out, "openssl x509 -in %s/alice.crt -noout -text", dir), 0);
	assert_contains(out, "TLS Web Client Authentication");
	assert_contains(out, "Digital Signature, Non Repudiation, Key Encipherment");
	assert_contains(out, "X509v3 Subject Key Identifier");
	assert_contains(out, "X509v3 Authority Key Identifier");
	assert_contains(out, "Version: 3 (0x2)");
	assert_contains(out, "Subject: O = Tessera, CN = alice smith"); /* policy order */
	free(out);
	/* the files privacyIDEA and openssl ca write */
	out = slurp(pathf("%s/1000.pem", dir));
	assert_non_null(out);
	assert_true(strncmp(out, "Certificate:\n    Data:\n", 23) == 0);
	assert_contains(out, "-----BEGIN CERTIFICATE-----");
	free(out);
	out = slurp(pathf("%s/alice_smith_Tessera.req", dir));
	assert_non_null(out);
	assert_string_equal(out, csr1);
	free(out);
	out = slurp(pathf("%s/alice_smith_Tessera.pem", dir));
	assert_non_null(out);
	assert_true(strncmp(out, "Certificate:\n", 13) == 0);
	free(out);
	out = slurp(pathf("%s/serial", dir));
	assert_string_equal(out, "1001\n");
	free(out);
	out = slurp(pathf("%s/serial.old", dir));
	assert_string_equal(out, "1000\n");
	free(out);

	/* EC request, template webserver */
	csr2 = make_csr(dir, "web", 1, "/CN=www.example.com");
	s2 = sign_ok(c, csr2, "webserver", pathf("%s/web.crt", dir));
	assert_string_equal(s2, "1001");
	verify_ok(dir, pathf("%s/web.crt", dir));
	assert_int_equal(days_of(pathf("%s/web.crt", dir)), 750);
	assert_int_equal(sh(&out, "openssl x509 -in %s/web.crt -noout -text", dir), 0);
	assert_contains(out, "TLS Web Server Authentication");
	assert_contains(out, "id-ecPublicKey");
	free(out);

	/* no template: privacyIDEA's defaults, section server and 365 days */
	csr3 = make_csr(dir, "bob", 1, "/CN=bob");
	s3 = sign_ok(c, csr3, NULL, pathf("%s/bob.crt", dir));
	verify_ok(dir, pathf("%s/bob.crt", dir));
	assert_int_equal(days_of(pathf("%s/bob.crt", dir)), 365);
	assert_int_equal(sh(&out, "openssl x509 -in %s/bob.crt -noout -text", dir), 0);
	assert_contains(out, "TLS Web Server Authentication");
	free(out);

	/* index.txt exactly as openssl writes it */
	idx = slurp(pathf("%s/index.txt", dir));
	{
		char exp[16], rest[512];
		assert_int_equal(sscanf(idx, "V\t%13[0-9]Z\t\t1000\tunknown\t%511[^\n]", exp, rest), 2);
		assert_string_equal(rest, "/O=Tessera/CN=alice smith");
		assert_contains(idx, "\t\t1001\tunknown\t/CN=www.example.com\n");
	}
	free(idx);
	out = slurp(pathf("%s/index.txt.attr", dir));
	assert_string_equal(out, "unique_subject = no\n");
	free(out);

	/* detail.certificate rendering = what openssl ca writes */
	{
		char *pem = slurp(pathf("%s/alice.crt", dir));
		char *file = slurp(pathf("%s/1000.pem", dir));
		text = caconnector_cert_text(pem, &err);
		assert_non_null(text);
		assert_string_equal(text, file);
		free(text);
		/* text in front of the PEM block is skipped */
		text = caconnector_cert_text(file, &err);
		assert_string_equal(text, file);
		free(text);
		free(pem);
		free(file);
	}

	/* revoke alice (keyCompromise) */
	{
		char *pem = slurp(pathf("%s/alice.crt", dir)), *serial = NULL;
		assert_int_equal(c->type->revoke_cert(c, pem, NULL, "keyCompromise", &serial, &err), 0);
		assert_string_equal(serial, "1000");
		free(serial);
		/* twice → CAError as `openssl ca -revoke` fails */
		assert_int_equal(c->type->revoke_cert(c, pem, NULL, NULL, NULL, &err), -1);
		assert_int_equal(err.code, ERR_CA);
		assert_contains(err.message, "Already revoked");
		assert_int_equal(c->type->revoke_cert(c, pem, NULL, "nonsense", NULL, &err), -1);
		free(pem);
	}
	idx = slurp(pathf("%s/index.txt", dir));
	assert_true(strncmp(idx, "R\t", 2) == 0);
	assert_contains(idx, "Z,keyCompromise\t1000\tunknown\t/O=Tessera/CN=alice smith\n");
	free(idx);
	assert_int_not_equal(sh(&out, "openssl verify -crl_check -CRLfile %s/crl.pem -CAfile %s/cacert.pem "
				     "%s/alice.crt", dir, dir, dir), 0);
	assert_contains(out, "certificate revoked");
	free(out);
	assert_int_equal(sh(&out, "openssl verify -crl_check -CRLfile %s/crl.pem -CAfile %s/cacert.pem "
				  "%s/web.crt", dir, dir, dir), 0);
	free(out);
	assert_int_equal(sh(&out, "openssl crl -in %s/crl.pem -noout -text", dir), 0);
	assert_contains(out, "Serial Number: 1000");
	assert_contains(out, "Key Compromise");
	assert_contains(out, "4097"); /* CRL number */
	free(out);

	/* OCSP: revoked, good, unknown */
	out = ocsp_check(c, dir, pathf("%s/alice.crt", dir));
	assert_contains(out, "alice.crt: revoked");
	assert_contains(out, "Reason: keyCompromise");
	free(out);
	out = ocsp_check(c, dir, pathf("%s/web.crt", dir));
	assert_contains(out, "web.crt: good");
	free(out);
	{
		unsigned char bad[] = { 0x30, 0x03, 0x02, 0x01, 0x01 }, *resp;
		size_t rl;
		assert_int_equal(c->type->ocsp_respond(c, bad, sizeof(bad), &resp, &rl, &err), 0);
		assert_int_equal(rl, 5);
		assert_memory_equal(resp, "\x30\x03\x0a\x01\x01", 5); /* malformedRequest */
		free(resp);
	}
	assert_int_equal(sh(NULL, "openssl ocsp -issuer %s/cacert.pem -serial 0x7777 -reqout %s/u.der",
			    dir, dir), 0);
	{
		char *req = slurp(pathf("%s/u.der", dir));
		struct stat us;
		unsigned char *resp;
		size_t rl;
		stat(pathf("%s/u.der", dir), &us);
		assert_int_equal(c->type->ocsp_respond(c, (unsigned char *)req, (size_t)us.st_size, &resp,
						       &rl, &err), 0);
		spit(pathf("%s/u.resp", dir), resp, rl);
		free(resp);
		free(req);
		sh(&out, "openssl ocsp -respin %s/u.resp -VAfile %s/cacert.pem -issuer "
			 "%s/cacert.pem -serial 0x7777 -no_nonce", dir, dir, dir);
		assert_contains(out, "0x7777: unknown");
		free(out);
	}

	/* CRL freshness and retrieval */
	assert_int_equal(c->type->create_crl(c, 0, &err), CACONN_CRL_NOT_NEEDED);
	assert_int_equal(c->type->create_crl(c, 1, &err), 0);
	out = slurp(pathf("%s/crlnumber", dir));
	assert_string_equal(out, "1003\n");
	free(out);
	assert_int_equal(c->type->get_crl(c, 1, &crl, &crl_len, &err), 0);
	assert_true(crl_len > 100 && crl[0] == 0x30);
	free(crl);
	assert_int_equal(c->type->get_crl(c, 0, &crl, &crl_len, &err), 0);
	assert_contains((char *)crl, "-----BEGIN X509 CRL-----");
	free(crl);

	/* openssl ca keeps working on the same directory */
	if (sh(&out, "openssl ca -batch -config %s/openssl.cnf -gencrl -out %s/crl2.pem", dir, dir) != 0)
		fail_msg("openssl ca -gencrl: %s", out);
	free(out);
	assert_int_equal(sh(&out, "openssl crl -in %s/crl2.pem -noout -text", dir), 0);
	assert_contains(out, "Serial Number: 1000");
	assert_contains(out, "4099");
	free(out);
	/* our CRL and openssl's for the same index.txt: equal but for the
	 * update times, the CRL number and the signature value */
	{
#define CRL_SHAPE "| grep -vE 'Update:|^ +([0-9a-f]{2}:)+[0-9a-f]{0,2}$|^ +[0-9]+$'"
		char *o2;
		assert_int_equal(sh(&out, "openssl crl -in %s/crl.pem -noout -text " CRL_SHAPE, dir), 0);
		assert_int_equal(sh(&o2, "openssl crl -in %s/crl2.pem -noout -text " CRL_SHAPE, dir), 0);
#undef CRL_SHAPE
		assert_string_equal(out, o2);
		assert_contains(out, "Key Compromise");
		free(out);
		free(o2);
	}
	if (sh(&out, "openssl ca -batch -config %s/openssl.cnf -revoke %s/web.crt -crl_reason superseded",
	       dir, dir) != 0)
		fail_msg("openssl ca -revoke: %s", out);
	free(out);
	out = ocsp_check(c, dir, pathf("%s/web.crt", dir)); /* our responder reads openssl's row */
	assert_contains(out, "web.crt: revoked");
	assert_contains(out, "Reason: superseded");
	free(out);
	free(make_csr(dir, "carl", 0, "/CN=carl"));
	if (sh(&out, "openssl ca -batch -config %s/openssl.cnf -extensions user -in %s/carl.csr -out "
		     "%s/carl.crt", dir, dir, dir) != 0)
		fail_msg("openssl ca: %s", out);
	free(out);
	assert_int_equal(sh(&out, "openssl x509 -in %s/carl.crt -noout -serial", dir), 0);
	assert_contains(out, "serial=1003");
	free(out);
	/* detail.certificate of a certificate openssl issued = its new_certs file */
	{
		char *pem = slurp(pathf("%s/carl.crt", dir)), *file = slurp(pathf("%s/1003.pem", dir));
		text = caconnector_cert_text(pem, &err);
		assert_non_null(text);
		assert_string_equal(text, file);
		free(text);
		free(pem);
		free(file);
	}
	{
		char *s4 = sign_ok(c, csr3, "user", NULL); /* after openssl's serial */
		assert_string_equal(s4, "1004");
		free(s4);
	}
	assert_int_equal(index_lines(dir), 5);
	/* (`openssl ca -status` exits 1 even when it found the serial) */
	sh(&out, "openssl ca -config %s/openssl.cnf -status 1004", dir);
	assert_contains(out, "1004=Valid");
	free(out);
	sh(&out, "openssl ca -config %s/openssl.cnf -status 1001", dir);
	assert_contains(out, "1001=Revoked");
	free(out);

	free(s1);
	free(s2);
	free(s3);
	free(csr1);
	free(csr2);
	free(csr3);
	caconnector_destroy(c);
	json_decref(params);
}

static void test_helper_ca_rsa(void **state)
{
	(void)state;
	full_cycle("ca-rsa", CACONN_KEY_RSA);
}

static void test_helper_ca_ec(void **state)
{
	(void)state;
	full_cycle("ca-ec", CACONN_KEY_EC_P256);
}

static void test_helper_ca_p384_and_refusals(void **state)
{
	(void)state;
	json_t *params = helper_ca("ca-p384", CACONN_KEY_EC_P384, NULL);
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector_local_ca_spec spec = { .dir = dir, .name = "again" };
	struct error err = { 0 };
	json_t *p2 = NULL;
	char *before = listing(dir), *after, *out;

	verify_ok(dir, pathf("%s/cacert.pem", dir));
	assert_int_equal(sh(&out, "openssl x509 -in %s/cacert.pem -noout -text", dir), 0);
	assert_contains(out, "NIST CURVE: P-384");
	free(out);
	/* an existing CA is never overwritten */
	assert_int_equal(caconnector_local_create_ca(&spec, &p2, &err), -1);
	assert_contains(err.message, "already holds a CA");
	after = listing(dir);
	assert_string_equal(before, after);
	free(after);
	/* bad parameters leave nothing behind */
	spec.dir = pathf("%s/ca-bad", g_root);
	spec.key_type = CACONN_KEY_RSA;
	spec.rsa_bits = 1024;
	assert_int_equal(caconnector_local_create_ca(&spec, &p2, &err), -1);
	spec.rsa_bits = 2048;
	spec.dn = "/CN=x/nonsenseattr=1";
	assert_int_equal(caconnector_local_create_ca(&spec, &p2, &err), -1);
	assert_int_not_equal(access(spec.dir, F_OK), 0);
	spec.dir = pathf("%s/ca bad$", g_root);
	assert_int_equal(caconnector_local_create_ca(&spec, &p2, &err), -1);
	free(before);
	json_decref(params);
}

/* The CA of wire-check.py's make_ca, made by the openssl CLI, configured as
 * in example 41; the same request signed by `openssl ca` in a copy of the
 * directory gives the same subject and extensions. */
static const char WIRE_CNF[] =
	"[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndir = %s\ndatabase = $dir/index.txt\n"
	"new_certs_dir = $dir\ncertificate = $dir/cacert.pem\nserial = $dir/serial\n"
	"crlnumber = $dir/crlnumber\ncrl = $dir/crl.pem\nprivate_key = $dir/cakey.pem\n"
	"x509_extensions = user\ndefault_days = 365\ndefault_crl_days = 30\ndefault_md = sha256\n"
	"policy = policy_anything\nunique_subject = no\n[ policy_anything ]\n"
	"commonName = supplied\norganizationName = optional\n[ user ]\nbasicConstraints = CA:FALSE\n"
	"keyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = clientAuth\n[ server ]\n"
	"basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\n"
	"extendedKeyUsage = serverAuth\n[ v3_ca ]\nbasicConstraints = critical,CA:TRUE\n"
	"keyUsage = critical, keyCertSign, cRLSign\n";

static void make_wire_ca(const char *d)
{
	char cnf[4096], *out;
	snprintf(cnf, sizeof(cnf), WIRE_CNF, d);
	spits(pathf("%s/openssl.cnf", d), cnf);
	spits(pathf("%s/index.txt", d), "");
	spits(pathf("%s/serial", d), "1000\n");
	spits(pathf("%s/crlnumber", d), "1000\n");
	if (sh(&out, "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/cakey.pem -out %s/cacert.pem "
		     "-days 730 -subj '/CN=Wire Check CA' -config %s/openssl.cnf -extensions v3_ca &&"
		     "openssl ca -batch -config %s/openssl.cnf -gencrl -out %s/crl.pem", d, d, d, d, d) != 0)
		fail_msg("make_ca: %s", out);
	free(out);
}

static json_t *wire_params(const char *d)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "cacert",
			 pathf("%s/cacert.pem", d), "cakey", pathf("%s/cakey.pem", d), "WorkingDir", d,
			 "CertificateDir", d, "CSRDir", d, "CRL", pathf("%s/crl.pem", d),
			 "CRL_Validity_Period", "30", "CRL_Overlap_Period", "2", "openssl.cnf",
			 pathf("%s/openssl.cnf", d));
}

static void test_openssl_made_ca(void **state)
{
	(void)state;
	char *d = new_dir("wire"), *d2, *csr, *out, *o2, *s;
	json_t *params;
	struct caconnector *c;

	make_wire_ca(d);
	csr = make_csr(d, "carol", 0, "/CN=carol/O=wire-check");
	assert_int_equal(sh(NULL, "cp -a %s %s/wire2", d, g_root), 0);
	d2 = strdup(pathf("%s/wire2", g_root));
	assert_int_equal(sh(NULL, "sed -i 's|^dir = .*|dir = %s|' %s/openssl.cnf", d2, d2), 0);

	params = wire_params(d);
	c = connect(params);
	s = sign_ok(c, csr, NULL, pathf("%s/carol.pem", d));
	assert_string_equal(s, "1000");
	free(s);
	verify_ok(d, pathf("%s/carol.pem", d));
	if (sh(&out, "openssl ca -batch -config %s/openssl.cnf -extensions server -days 365 -in "
		     "%s/carol.csr -out %s/carol.pem", d2, d2, d2) != 0)
		fail_msg("openssl ca: %s", out);
	free(out);
	/* same serial, subject, issuer and extensions as openssl ca */
	assert_int_equal(sh(&out, "openssl x509 -in %s/carol.pem -noout -serial -subject -issuer -ext "
				  "basicConstraints,keyUsage,extendedKeyUsage,subjectKeyIdentifier,"
				  "authorityKeyIdentifier -nameopt compat", d), 0);
	assert_int_equal(sh(&o2, "openssl x509 -in %s/carol.pem -noout -serial -subject -issuer -ext "
				 "basicConstraints,keyUsage,extendedKeyUsage,subjectKeyIdentifier,"
				 "authorityKeyIdentifier -nameopt compat", d2), 0);
	assert_string_equal(out, o2);
	assert_contains(out, "subject=/CN=carol/O=wire-check");
	free(out);
	free(o2);
	/* and the same index.txt row, apart from the expiry second */
	out = slurp(pathf("%s/index.txt", d));
	o2 = slurp(pathf("%s/index.txt", d2));
	assert_int_equal(strlen(out), strlen(o2));
	assert_string_equal(strchr(out, '\t') + 14, strchr(o2, '\t') + 14);
	assert_string_equal(strchr(out, '\t') + 14, "\t\t1000\tunknown\t/CN=carol/O=wire-check\n");
	free(out);
	free(o2);
	/* the wire-check cnf has no crlnumber ".old" yet; after our revocation
	 * openssl can still generate the CRL */
	{
		char *pem = slurp(pathf("%s/carol.pem", d));
		struct error err = { 0 };
		assert_int_equal(c->type->revoke_cert(c, pem, NULL, "cessationOfOperation", NULL, &err), 0);
		free(pem);
	}
	assert_int_equal(sh(&out, "openssl ca -batch -config %s/openssl.cnf -gencrl -out %s/crl3.pem && "
				  "openssl crl -in %s/crl3.pem -noout -text", d, d, d), 0);
	assert_contains(out, "Cessation Of Operation");
	free(out);

	/* "match" on a field the CA's own name lacks is a CA configuration error */
	assert_int_equal(sh(NULL, "printf '[ policy_strict ]\\norganizationName = match\\ncommonName = "
				  "supplied\\n' >> %s/openssl.cnf && sed -i "
				  "'s/^policy = policy_anything/policy = policy_strict/' %s/openssl.cnf", d, d), 0);
	{
		struct caconnector_result res;
		struct error err = { 0 };
		char *csr2 = make_csr(d, "dave", 0, "/CN=dave/O=other");
		assert_int_equal(sign(c, csr2, NULL, 0, &res, &err), -1);
		assert_int_equal(err.code, ERR_CA);
		assert_contains(err.message, "misconfigured");
		free(csr2);
	}
	caconnector_destroy(c);
	json_decref(params);
	free(csr);
	free(d);
	free(d2);
}

/* Subject policy (match / supplied / optional, order, email_in_dn) and
 * unique_subject, each cross-checked with `openssl ca` on a copy. */
static void test_policy(void **state)
{
	(void)state;
	json_t *params = helper_ca("ca-policy", CACONN_KEY_RSA, NULL);
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector *c;
	struct caconnector_result res;
	struct error err = { 0 };
	char *bad, *good, *s, *out, *o2, *d2;

	assert_int_equal(sh(NULL, "printf '[ policy_strict ]\\ncountryName = optional\\n"
				  "organizationName = match\\ncommonName = supplied\\nemailAddress = optional\\n'"
				  " >> %s/openssl.cnf && sed -i -e 's/^policy\\t\\t= policy_anything/policy = "
				  "policy_strict/' -e 's/^\\[ CA_default \\]$/[ CA_default ]\\nemail_in_dn = no/' "
				  "%s/openssl.cnf", dir, dir), 0);
	c = connect(params);
	bad = make_csr(dir, "mallory", 0, "/CN=mallory/O=Other");
	assert_int_equal(sign(c, bad, NULL, 0, &res, &err), -1);
	assert_int_equal(err.code, ERR_CSR);
	assert_contains(err.message, "organizationName field is different");
	good = make_csr(dir, "kim", 0, "/CN=kim/OU=dropped/O=Tessera/emailAddress=kim@example.com");
	assert_int_equal(sh(NULL, "cp -a %s %s/ca-policy2", dir, g_root), 0);
	d2 = strdup(pathf("%s/ca-policy2", g_root));
	assert_int_equal(sh(NULL, "sed -i 's|^dir\t\t= .*|dir = %s|' %s/openssl.cnf", d2, d2), 0);
	s = sign_ok(c, good, "user", pathf("%s/kim.crt", dir));
	free(s);
	if (sh(&out, "openssl ca -batch -config %s/openssl.cnf -extensions user -days 365 -in %s/kim.csr "
		     "-out %s/kim.crt", d2, d2, d2) != 0)
		fail_msg("openssl ca: %s", out);
	free(out);
	assert_int_equal(sh(&out, "openssl x509 -in %s/kim.crt -noout -subject -serial", dir), 0);
	assert_int_equal(sh(&o2, "openssl x509 -in %s/kim.crt -noout -subject -serial", d2), 0);
	assert_string_equal(out, o2);
	assert_contains(out, "subject=O = Tessera, CN = kim\n");
	free(out);
	free(o2);

	/* unique_subject from index.txt.attr, as openssl reads it */
	spits(pathf("%s/index.txt.attr", dir), "unique_subject = yes\n");
	assert_int_equal(sign(c, good, "user", 0, &res, &err), -1);
	assert_int_equal(err.code, ERR_CSR);
	assert_contains(err.message, "There is already a certificate for /O=Tessera/CN=kim");
	{
		char *pem = slurp(pathf("%s/kim.crt", dir));
		assert_int_equal(c->type->revoke_cert(c, pem, NULL, "superseded", NULL, &err), 0);
		free(pem);
	}
	out = slurp(pathf("%s/index.txt.attr", dir));
	assert_string_equal(out, "unique_subject = yes\n"); /* kept when rewritten */
	free(out);
	s = sign_ok(c, good, "user", NULL); /* the old one is revoked: allowed */
	free(s);
	caconnector_destroy(c);
	json_decref(params);
	free(bad);
	free(good);
	free(d2);
}

static void test_passphrase(void **state)
{
	(void)state;
	json_t *params = helper_ca("ca-pass", CACONN_KEY_RSA, "correct horse");
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector *c = connect(params), *bad;
	struct caconnector_result res;
	struct error err = { 0 };
	char *key = slurp(pathf("%s/cakey.pem", dir)), *csr, *s, *before, *after, *out;

	assert_contains(key, "-----BEGIN ENCRYPTED PRIVATE KEY-----");
	free(key);
	csr = make_csr(dir, "p", 0, "/CN=pass user");
	s = sign_ok(c, csr, "user", pathf("%s/p.crt", dir));
	verify_ok(dir, pathf("%s/p.crt", dir));
	free(s);
	assert_int_equal(sh(&out, "openssl ca -batch -config %s/openssl.cnf -passin 'pass:correct horse' "
				  "-gencrl -out %s/crl-o.pem", dir, dir), 0);
	free(out);
	before = listing(dir);

	json_object_set_new(params, "cakey_password", json_string("wrong horse"));
	bad = connect(params);
	assert_int_equal(sign(bad, csr, "user", 0, &res, &err), -1);
	assert_int_equal(err.code, ERR_CA);
	assert_contains(err.message, "wrong passphrase");
	assert_false(contains(err.message, "horse"));
	caconnector_destroy(bad);

	json_object_del(params, "cakey_password");
	bad = connect(params);
	assert_int_equal(sign(bad, csr, "user", 0, &res, &err), -1);
	assert_int_equal(err.code, ERR_CA);
	assert_contains(err.message, "no cakey_password");
	assert_int_equal(bad->type->create_crl(bad, 1, &err), -1);
	caconnector_destroy(bad);
	after = listing(dir);
	assert_string_equal(before, after);

	free(before);
	free(after);
	free(csr);
	caconnector_destroy(c);
	json_decref(params);
}

/* DER of a PEM request with one byte of the signature flipped, as PEM. */
static char *break_signature(const char *pem)
{
	BIO *in = BIO_new_mem_buf(pem, -1), *out = BIO_new(BIO_s_mem());
	X509_REQ *r = PEM_read_bio_X509_REQ(in, NULL, NULL, NULL);
	unsigned char *der = NULL;
	int n;
	char *p, *s;
	long m;
	assert_non_null(r);
	n = i2d_X509_REQ(r, &der);
	der[n - 1] ^= 0x01; /* last byte = signature */
	assert_true(PEM_write_bio(out, "CERTIFICATE REQUEST", "", der, n) > 0);
	m = BIO_get_mem_data(out, &p);
	s = strndup(p, (size_t)m);
	OPENSSL_free(der);
	X509_REQ_free(r);
	BIO_free(in);
	BIO_free(out);
	return s;
}

static void expect_refusal(struct caconnector *c, const char *dir, const char *before,
			   const char *req, const char *tmpl, int spkac, int code, const char *msg)
{
	struct caconnector_result res;
	struct error err = { 0 };
	char *after;
	assert_int_equal(sign(c, req, tmpl, spkac, &res, &err), -1);
	if (err.code != code)
		fail_msg("expected %d, got %d: %s", code, err.code, err.message);
	if (msg)
		assert_contains(err.message, msg);
	assert_null(res.certificate);
	after = listing(dir);
	assert_string_equal(before, after);
	free(after);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	json_t *params = helper_ca("ca-bad-in", CACONN_KEY_RSA, NULL);
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector *c = connect(params);
	char *csr = make_csr(dir, "good", 0, "/CN=good"), *s, *before, *broken, *garbage;

	s = sign_ok(c, csr, "user", NULL);
	free(s);
	before = listing(dir);

	broken = break_signature(csr);
	expect_refusal(c, dir, before, broken, "user", 0, ERR_CSR, "request has invalid signature.");
	free(broken);
	expect_refusal(c, dir, before, "this is not a certificate request", "user", 0, ERR_CSR,
		       "not a PEM-encoded");
	garbage = malloc(65537);
	srand(7);
	for (int i = 0; i < 65536; i++)
		garbage[i] = (char)(1 + rand() % 255);
	garbage[65536] = '\0';
	expect_refusal(c, dir, before, garbage, "user", 0, ERR_CSR, "too large");
	memcpy(garbage + 1000, "-----BEGIN CERTIFICATE REQUEST-----", 35);
	garbage[20000] = '\0'; /* under the limit, PEM header, garbage body */
	expect_refusal(c, dir, before, garbage, "user", 0, ERR_CSR, "cannot parse");
	free(garbage);
	expect_refusal(c, dir, before,
		       "-----BEGIN CERTIFICATE REQUEST-----\nMIIBxx==\n-----END CERTIFICATE REQUEST-----\n",
		       NULL, 0, ERR_CSR, NULL);
	expect_refusal(c, dir, before, "", NULL, 0, ERR_CSR, NULL);
	expect_refusal(c, dir, before, "CN=x\nSPKAC=bm90IGFuIHNwa2Fj\n", NULL, 1, ERR_CSR, "SPKAC");
	expect_refusal(c, dir, before, "CN=x\n", NULL, 1, ERR_CSR, "not found");
	expect_refusal(c, dir, before, csr, "no-such-template", 0, ERR_CSR, "unknown certificate template");
	{
		/* a CSR without commonName: policy_anything needs it */
		char *nocn = make_csr(pathf("%s/..", dir), "nocn", 0, "/O=NoName");
		expect_refusal(c, dir, before, nocn, NULL, 0, ERR_CSR, "commonName field needed");
		free(nocn);
	}
	{
		struct caconnector_sign_options o = { .extensions = "no_such_section" };
		struct caconnector_result res;
		struct error err = { 0 };
		char *after;
		assert_int_equal(c->type->sign_request(c, csr, &o, &res, &err), -1);
		assert_int_equal(err.code, ERR_CA);
		after = listing(dir);
		assert_string_equal(before, after);
		free(after);
	}
	/* missing CA key file */
	assert_int_equal(rename(pathf("%s/cakey.pem", dir), pathf("%s/../cakey.moved", dir)), 0);
	free(before);
	before = listing(dir);
	expect_refusal(c, dir, before, csr, "user", 0, ERR_CA, "cakey.pem");
	assert_int_equal(rename(pathf("%s/../cakey.moved", dir), pathf("%s/cakey.pem", dir)), 0);
	/* missing serial file */
	assert_int_equal(rename(pathf("%s/serial", dir), pathf("%s/../serial.moved", dir)), 0);
	free(before);
	before = listing(dir);
	expect_refusal(c, dir, before, csr, "user", 0, ERR_CA, "serial");
	assert_int_equal(rename(pathf("%s/../serial.moved", dir), pathf("%s/serial", dir)), 0);
	/* a damaged index.txt line is reported, not rewritten */
	{
		char *idx = slurp(pathf("%s/index.txt", dir));
		spits(pathf("%s/index.txt", dir), "V\tbroken line\n");
		free(before);
		before = listing(dir);
		expect_refusal(c, dir, before, csr, "user", 0, ERR_CA, "wrong number of fields");
		spits(pathf("%s/index.txt", dir), idx);
		free(idx);
	}
	s = sign_ok(c, csr, "user", NULL); /* and it works again */
	assert_string_equal(s, "1001");
	free(s);
	free(before);
	free(csr);
	caconnector_destroy(c);
	json_decref(params);
}

static void test_approval(void **state)
{
	(void)state;
	json_t *params = helper_ca("ca-approval", CACONN_KEY_EC_P256, NULL);
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector *c;
	struct caconnector_result res;
	struct error err = { 0 };
	enum caconnector_cr_status st;
	char *csr, *csr2, *id, *id2, *pem, *serial;
	json_t *list;

	json_object_set_new(params, "approval", json_string("True"));
	c = connect(params);
	csr = make_csr(dir, "appr", 0, "/CN=approve me");
	assert_int_equal(sign(c, csr, "user", 0, &res, &err), CACONN_PENDING);
	assert_int_equal(err.code, ERR_CSR_PENDING);
	assert_null(res.certificate);
	assert_non_null(res.request_id);
	assert_int_equal(strlen(res.request_id), 32);
	id = strdup(res.request_id);
	caconnector_result_free(&res);
	assert_int_equal(access(pathf("%s/request-%s.json", dir, id), F_OK), 0);
	assert_int_equal(index_lines(dir), 0); /* nothing issued yet */

	assert_int_equal(c->type->get_cr_status(c, id, &st, &err), 0);
	assert_int_equal(st, CACONN_CR_PENDING);
	assert_int_equal(c->type->get_issued_certificate(c, id, &pem, &err), -1);
	assert_int_equal(c->type->list_requests(c, &list, &err), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "state")),
			    "pending");
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "template")),
			    "user");
	json_decref(list);

	assert_int_equal(c->type->approve(c, id, &err), 0);
	assert_int_equal(c->type->get_cr_status(c, id, &st, &err), 0);
	assert_int_equal(st, CACONN_CR_ISSUED);
	assert_int_equal(c->type->get_issued_certificate(c, id, &pem, &err), 0);
	spits(pathf("%s/appr.crt", dir), pem);
	free(pem);
	verify_ok(dir, pathf("%s/appr.crt", dir));
	assert_int_equal(days_of(pathf("%s/appr.crt", dir)), 365);
	assert_int_equal(c->type->approve(c, id, &err), -1); /* not pending any more */
	/* revoke by request id */
	assert_int_equal(c->type->revoke_cert(c, NULL, id, "superseded", &serial, &err), 0);
	assert_string_equal(serial, "1000");
	free(serial);

	/* reject */
	csr2 = make_csr(dir, "appr2", 1, "/CN=reject me");
	assert_int_equal(sign(c, csr2, NULL, 0, &res, &err), CACONN_PENDING);
	id2 = strdup(res.request_id);
	caconnector_result_free(&res);
	assert_int_equal(c->type->reject(c, id2, "not today", &err), 0);
	assert_int_equal(c->type->get_cr_status(c, id2, &st, &err), 0);
	assert_int_equal(st, CACONN_CR_DENIED);
	assert_int_equal(c->type->approve(c, id2, &err), -1);
	assert_int_equal(c->type->get_issued_certificate(c, id2, &pem, &err), -1);

	/* unknown ids never touch the file system */
	assert_int_equal(c->type->get_cr_status(c, "../../etc/passwd", &st, &err), 0);
	assert_int_equal(st, CACONN_CR_UNKNOWN);
	assert_int_equal(c->type->get_cr_status(c, "0", &st, &err), 0);
	assert_int_equal(st, CACONN_CR_UNKNOWN);
	assert_int_equal(c->type->approve(c, "ffffffffffffffffffffffffffffffff", &err), -1);

	/* a request the CA would refuse is refused at once, not queued */
	{
		char *nocn = make_csr(dir, "nocn", 0, "/O=x");
		assert_int_equal(sign(c, nocn, NULL, 0, &res, &err), -1);
		assert_int_equal(err.code, ERR_CSR);
		free(nocn);
	}
	assert_int_equal(c->type->list_requests(c, &list, &err), 0);
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);

	free(id);
	free(id2);
	free(csr);
	free(csr2);
	caconnector_destroy(c);
	json_decref(params);
}

struct worker {
	struct caconnector *c;
	char **csrs;
	int from, to;
	char **serials;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	for (int i = w->from; i < w->to; i++) {
		struct caconnector_sign_options o = { .template_name = "user" };
		struct caconnector_result res = { 0 };
		struct error err = { 0 };
		if (w->c->type->sign_request(w->c, w->csrs[i], &o, &res, &err) != 0) {
			w->failures++;
			continue;
		}
		w->serials[i] = strdup(res.serial);
		caconnector_result_free(&res);
	}
	return NULL;
}

static void test_concurrency(void **state)
{
	(void)state;
	enum { N = 50, T = 8, PROCS = 4, PER_PROC = 10 };
	json_t *params = helper_ca("ca-conc", CACONN_KEY_RSA, NULL);
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector *c = connect(params);
	pthread_t th[T];
	struct worker w[T];
	char *csrs[N], *serials[N] = { 0 }, *idx, *out;

	for (int i = 0; i < N; i++) {
		char cn[32];
		snprintf(cn, sizeof(cn), "user%02d", i);
		csrs[i] = quick_csr(cn);
	}
	for (int t = 0; t < T; t++) {
		w[t] = (struct worker){ c, csrs, t * N / T, (t + 1) * N / T, serials, 0 };
		assert_int_equal(pthread_create(&th[t], NULL, worker_run, &w[t]), 0);
	}
	for (int t = 0; t < T; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(w[t].failures, 0);
	}
	for (int i = 0; i < N; i++) {
		assert_non_null(serials[i]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(serials[i], serials[j]);
	}
	assert_int_equal(index_lines(dir), N);
	idx = slurp(pathf("%s/index.txt", dir));
	for (int i = 0; i < N; i++) {
		char needle[64];
		snprintf(needle, sizeof(needle), "\t\t%s\tunknown\t/CN=user", serials[i]);
		assert_contains(idx, needle);
		assert_int_equal(access(pathf("%s/%s.pem", dir, serials[i]), F_OK), 0);
	}
	free(idx);
	out = slurp(pathf("%s/serial", dir));
	assert_string_equal(out, "1032\n"); /* 0x1000 + 50 */
	free(out);

	/* several processes, each with its own instance */
	fflush(NULL);
	for (int p = 0; p < PROCS; p++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct caconnector *cc = caconnector_create("local", "child", params, NULL);
			int bad = !cc;
			for (int i = 0; cc && i < PER_PROC; i++) {
				struct caconnector_sign_options o = { 0 };
				struct caconnector_result res = { 0 };
				if (cc->type->sign_request(cc, csrs[p * PER_PROC + i], &o, &res, NULL) != 0)
					bad = 1;
				caconnector_result_free(&res);
			}
			_exit(bad);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int st;
		assert_true(wait(&st) > 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(index_lines(dir), N + PROCS * PER_PROC);
	/* every serial once: openssl's own index check (it refuses duplicates) */
	if (sh(&out, "openssl ca -batch -config %s/openssl.cnf -gencrl -out %s/crl-c.pem", dir, dir) != 0)
		fail_msg("openssl ca after concurrent signing: %s", out);
	free(out);
	assert_int_equal(sh(&out, "cut -f4 %s/index.txt | sort | uniq -d | wc -l", dir), 0);
	assert_string_equal(out, "0\n");
	free(out);
	out = slurp(pathf("%s/serial", dir));
	assert_string_equal(out, "105A\n"); /* 0x1000 + 90 */
	free(out);

	for (int i = 0; i < N; i++) {
		free(csrs[i]);
		free(serials[i]);
	}
	caconnector_destroy(c);
	json_decref(params);
}

static void test_spkac(void **state)
{
	(void)state;
	json_t *params = helper_ca("ca-spkac", CACONN_KEY_RSA, NULL);
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector *c = connect(params);
	struct caconnector_result res;
	struct error err = { 0 };
	char *out, *req, *der;
	size_t n;

	assert_int_equal(sh(&out, "openssl genrsa -out %s/sp.key 2048 && openssl spkac -key %s/sp.key "
				  "-challenge x", dir, dir), 0);
	n = strlen(out) + 64;
	req = malloc(n);
	/* subject lines as `openssl ca -spkac` reads them, then the SPKAC line */
	snprintf(req, n, "CN=spkac user\n0.OU=Browsers\nO=Tessera\n%s", strstr(out, "SPKAC="));
	free(out);
	assert_int_equal(sign(c, req, "user", 1, &res, &err), 0);
	spits(pathf("%s/sp.crt", dir), res.certificate);
	verify_ok(dir, pathf("%s/sp.crt", dir));
	assert_int_equal(sh(&out, "openssl x509 -in %s/sp.crt -noout -subject", dir), 0);
	assert_contains(out, "subject=O = Tessera, OU = Browsers, CN = spkac user");
	free(out);
	caconnector_result_free(&res);
	/* privacyIDEA's file names: <CN>.txt and <CN>.der (DER) */
	der = slurp(pathf("%s/spkac_user.der", dir));
	assert_non_null(der);
	assert_true((unsigned char)der[0] == 0x30);
	free(der);
	out = slurp(pathf("%s/spkac_user.txt", dir));
	assert_string_equal(out, req);
	free(out);
	/* a damaged SPKAC is refused */
	n = strlen(req);
	req[n - 10] = req[n - 10] == 'A' ? 'B' : 'A';
	assert_int_equal(sign(c, req, "user", 1, &res, &err), -1);
	assert_int_equal(err.code, ERR_CSR);
	/* $ENV:: is not expanded in requests */
	free(req);
	caconnector_destroy(c);
	json_decref(params);
}

static void test_templates_file(void **state)
{
	(void)state;
	json_t *params = helper_ca("ca-tpl", CACONN_KEY_EC_P256, NULL);
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector *c = connect(params);
	struct error err = { 0 };
	json_t *t;
	char *csr = make_csr(dir, "t", 1, "/CN=tpl"), *s;

	spits(pathf("%s/templates.yaml", dir),
	      "short: {days: 10, extensions: \"user\"}\n"
	      "strdays:\n  days: '20'\n  extensions: server\n"
	      "broken:\n  days: soon\n  extensions: user\n"
	      "nosection: {days: 5, extensions: nowhere}\n");
	assert_int_equal(c->type->get_templates(c, &t, &err), 0); /* file change is noticed */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "short"), "days")), 10);
	assert_string_equal(json_string_value(json_object_get(json_object_get(t, "strdays"), "days")),
			    "20");
	json_decref(t);
	s = sign_ok(c, csr, "short", pathf("%s/short.crt", dir));
	assert_int_equal(days_of(pathf("%s/short.crt", dir)), 10);
	free(s);
	s = sign_ok(c, csr, "strdays", pathf("%s/strdays.crt", dir));
	assert_int_equal(days_of(pathf("%s/strdays.crt", dir)), 20);
	free(s);
	{
		struct caconnector_result res;
		assert_int_equal(sign(c, csr, "broken", 0, &res, &err), -1);
		assert_int_equal(err.code, ERR_CA);
		assert_int_equal(sign(c, csr, "nosection", 0, &res, &err), -1);
		assert_int_equal(err.code, ERR_CA);
		assert_contains(err.message, "nowhere");
	}
	spits(pathf("%s/templates.yaml", dir), "a: [unclosed\n");
	assert_int_equal(c->type->get_templates(c, &t, &err), -1);
	assert_int_equal(err.code, ERR_CA);
	spits(pathf("%s/templates.yaml", dir), "base: &b {days: 1}\nx: *b\n");
	assert_int_equal(c->type->get_templates(c, &t, &err), -1);
	assert_contains(err.message, "aliases");
	free(csr);
	caconnector_destroy(c);
	json_decref(params);
}

/* ---- benchmark (TESSERA_CA_BENCH=1) ------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_one(const char *label, enum caconnector_keytype kt, int ec_csr)
{
	enum { N = 300, NO = 40 };
	char name[64];
	snprintf(name, sizeof(name), "bench-%s-%s", label, ec_csr ? "ec" : "rsa");
	json_t *params = helper_ca(name, kt, NULL);
	const char *dir = json_string_value(json_object_get(params, "WorkingDir"));
	struct caconnector *c = connect(params);
	char *csr = make_csr(dir, "b", ec_csr, "/CN=bench");
	double t0, t1, t2;
	char *out;

	t0 = now_s();
	for (int i = 0; i < N; i++)
		free(sign_ok(c, csr, "user", NULL));
	t1 = now_s();
	if (sh(&out, "cd %s && for i in $(seq %d); do openssl ca -batch -config openssl.cnf "
		     "-extensions user -days 365 -in b.csr -out o.pem || exit 1; done", dir, NO) != 0)
		fail_msg("openssl ca: %s", out);
	free(out);
	t2 = now_s();
	print_message("[ BENCH    ] CA %-6s, %s CSRs: connector %.0f signatures/s (%d in %.2fs); "
		      "`openssl ca` %.1f/s (%d in %.2fs)\n", label, ec_csr ? "EC P-256" : "RSA-2048",
		      N / (t1 - t0), N, t1 - t0, NO / (t2 - t1), NO, t2 - t1);
	/* and 8 threads on one instance */
	{
		enum { T = 8, M = 400 };
		pthread_t th[T];
		struct worker w[T];
		char *csrs[M], *serials[M] = { 0 };
		for (int i = 0; i < M; i++)
			csrs[i] = csr;
		t0 = now_s();
		for (int t = 0; t < T; t++) {
			w[t] = (struct worker){ c, csrs, t * M / T, (t + 1) * M / T, serials, 0 };
			pthread_create(&th[t], NULL, worker_run, &w[t]);
		}
		for (int t = 0; t < T; t++)
			pthread_join(th[t], NULL);
		t1 = now_s();
		for (int i = 0; i < M; i++)
			free(serials[i]);
		print_message("[ BENCH    ] CA %-6s, %s CSRs, 8 threads: %.0f signatures/s\n", label,
			      ec_csr ? "EC P-256" : "RSA-2048", M / (t1 - t0));
	}
	free(csr);
	caconnector_destroy(c);
	json_decref(params);
}

static void test_bench(void **state)
{
	(void)state;
	const char *b = getenv("TESSERA_CA_BENCH");
	if (!b || !*b || *b == '0') {
		skip();
		return;
	}
	bench_one("rsa", CACONN_KEY_RSA, 0);
	bench_one("rsa", CACONN_KEY_RSA, 1);
	bench_one("ec", CACONN_KEY_EC_P256, 0);
	bench_one("ec", CACONN_KEY_EC_P256, 1);
}

/* ---- main --------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(g_root, sizeof(g_root), "%s/tessera-ca-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g_root))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (getenv("TESSERA_KEEP_CA_TEST"))
		return 0;
	return sh(NULL, "rm -rf '%s'", g_root) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_helper_ca_rsa),
		cmocka_unit_test(test_helper_ca_ec),
		cmocka_unit_test(test_helper_ca_p384_and_refusals),
		cmocka_unit_test(test_openssl_made_ca),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_passphrase),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_approval),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_spkac),
		cmocka_unit_test(test_templates_file),
		cmocka_unit_test(test_bench),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
