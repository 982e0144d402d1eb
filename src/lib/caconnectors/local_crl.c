/*
 * local_crl.c — revocation and CRLs of the local CA connector, as
 * `openssl ca -revoke cert -crl_reason r` and `openssl ca -gencrl -out CRL`
 * do them: the index.txt row becomes "R" with "<UTCtime>,<reason>", and
 * the CRL lists every "R" row (reason code, invalidity date / hold
 * instruction from the row), sorted by serial, with the crl_extensions
 * section and the CRL number from the crlnumber file (then incremented
 * with the .old rotation), signed with default_md.  Validity: the
 * connector's CRL_Validity_Period, else default_crl_days/_hours of
 * openssl.cnf, else 30 days.
 *
 * Revocation and CRL generation hold the CA lock so the CRL always lists
 * exactly what index.txt says, and crlnumber is never used twice.
 */
#include "local_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static int ossl_fail(struct error *err, const char *what)
{
	char msg[256];
	ERR_error_string_n(ERR_peek_last_error(), msg, sizeof(msg));
	ERR_clear_error();
	return err_set(err, ERRK_PI, ERR_CA, "%s: %s", what, msg);
}

/* make_revoked(): one X509_REVOKED from an index row; 2 when it needs a
 * v2 CRL (entry extensions), 1 otherwise, -1 on a bad row. */
static int make_revoked(const struct calocal_row *r, X509_REVOKED **out)
{
	ASN1_TIME *revtm = NULL;
	ASN1_OBJECT *hold = NULL;
	ASN1_GENERALIZEDTIME *inv = NULL;
	ASN1_ENUMERATED *e = NULL;
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	X509_REVOKED *rev = NULL;
	int reason, ret = -1;

	if (calocal_revinfo_parse(r->f[DB_REV], &revtm, &reason, &hold, &inv) != 0)
		return -1;
	if (!(rev = X509_REVOKED_new()) || !X509_REVOKED_set_revocationDate(rev, revtm))
		goto out;
	if (reason != OCSP_REVOKED_STATUS_NOSTATUS) {
		if (!(e = ASN1_ENUMERATED_new()) || !ASN1_ENUMERATED_set(e, reason) ||
		    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, e, 0, 0) <= 0)
			goto out;
	}
	if (inv && X509_REVOKED_add1_ext_i2d(rev, NID_invalidity_date, inv, 0, 0) <= 0)
		goto out;
	if (hold && X509_REVOKED_add1_ext_i2d(rev, NID_hold_instruction_code, hold, 0, 0) <= 0)
		goto out;
	if (!BN_hex2bn(&bn, r->f[DB_SERIAL]) || !(sn = BN_to_ASN1_INTEGER(bn, NULL)) ||
	    !X509_REVOKED_set_serialNumber(rev, sn))
		goto out;
	*out = rev;
	rev = NULL;
	ret = reason != OCSP_REVOKED_STATUS_NOSTATUS ? 2 : 1;
out:
	ERR_clear_error();
	X509_REVOKED_free(rev);
	ASN1_TIME_free(revtm);
	ASN1_OBJECT_free(hold);
	ASN1_GENERALIZEDTIME_free(inv);
	ASN1_ENUMERATED_free(e);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return ret;
}

int calocal_crl_generate(struct calocal *l, const struct calocal_conf *c, const struct calocal_keys *k,
		       struct calocal_db *db, struct error *err)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	BIGNUM *number = NULL;
	BIO *b = NULL;
	const EVP_MD *md;
	char *tmp = NULL, *pem;
	long days = 30, hours = 0, n;
	time_t now = time(NULL);
	int v2 = 0, rc = -1;

	if (l->crl_days > 0) {
		days = l->crl_days;
	} else if (c->crl_days > 0 || c->crl_hours > 0) {
		days = c->crl_days;
		hours = c->crl_hours;
	}
	if (calocal_md(c, k->key, &md, err) != 0)
		return -1;
	if (!(crl = X509_CRL_new()) || !X509_CRL_set_issuer_name(crl, X509_get_subject_name(k->cert)))
		goto ossl;
	if (!(t = X509_time_adj_ex(NULL, 0, 0, &now)) || !X509_CRL_set1_lastUpdate(crl, t))
		goto ossl;
	ASN1_TIME_free(t);
	if (!(t = X509_time_adj_ex(NULL, (int)days, hours * 3600, &now)) ||
	    !X509_CRL_set1_nextUpdate(crl, t))
		goto ossl;
	for (size_t i = 0; i < db->n; i++) {
		const struct calocal_row *r = &db->rows[i];
		X509_REVOKED *rev;
		int j;
		if (r->comment || r->f[DB_TYPE][0] != 'R')
			continue;
		if ((j = make_revoked(r, &rev)) < 0) {
			err_set(err, ERRK_PI, ERR_CA, "%s: invalid revocation entry for serial %s",
				c->database, r->f[DB_SERIAL]);
			goto out;
		}
		if (j == 2)
			v2 = 1;
		X509_CRL_add0_revoked(crl, rev);
	}
	X509_CRL_sort(crl);
	if (c->crlnumber && !(number = calocal_serial_load(c->crlnumber, err))) {
		err_set(err, ERRK_PI, ERR_CA, "error while loading CRL number from %s", c->crlnumber);
		goto out;
	}
	if (c->crl_ext || number) {
		X509V3_CTX ctx;
		X509V3_set_ctx(&ctx, k->cert, NULL, NULL, crl, 0);
		X509V3_set_nconf(&ctx, c->conf);
		if (c->crl_ext && !X509V3_EXT_CRL_add_nconf(c->conf, &ctx, c->crl_ext, crl)) {
			ERR_clear_error();
			err_set(err, ERRK_PI, ERR_CA, "Error adding CRL extensions from section %s",
				c->crl_ext);
			goto out;
		}
		if (number) {
			ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(number, NULL);
			int ok = ai && X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0) > 0;
			ASN1_INTEGER_free(ai);
			if (!ok || !BN_add_word(number, 1))
				goto ossl;
			v2 = 1;
		}
	}
	if ((c->crl_ext || v2) && !X509_CRL_set_version(crl, X509_CRL_VERSION_2))
		goto ossl;
	if (!X509_CRL_sign(crl, k->key, md))
		goto ossl;
	if (!(b = BIO_new(BIO_s_mem())) || PEM_write_bio_X509_CRL(b, crl) != 1)
		goto ossl;
	n = BIO_get_mem_data(b, &pem);
	if (calocal_write_temp(l->crl, pem, (size_t)n, 0644, 1, &tmp, err) != 0)
		goto out;
	if (number && calocal_serial_save(c->crlnumber, number, err) != 0)
		goto out;
	if (rename(tmp, l->crl) != 0) {
		err_set(err, ERRK_PI, ERR_CA, "cannot write the CRL %s", l->crl);
		goto out;
	}
	calocal_fsync_dir(l->crl);
	rc = 0;
	goto out;
ossl:
	ossl_fail(err, "generating the CRL failed");
out:
	if (tmp && rc != 0)
		unlink(tmp);
	free(tmp);
	ASN1_TIME_free(t);
	BN_free(number);
	BIO_free(b);
	X509_CRL_free(crl);
	return rc;
}

int calocal_crl_fresh(const struct calocal *l)
{
	char *data;
	size_t len;
	X509_CRL *crl = NULL;
	BIO *b;
	const ASN1_TIME *nu;
	struct tm tm;
	int fresh = 0;

	if (calocal_read_file(l->crl, LOCAL_MAX_INDEX, &data, &len, NULL) != 0)
		return 0;
	if ((b = BIO_new_mem_buf(data, (int)len)) != NULL) {
		crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (!crl) {
		const unsigned char *p = (const unsigned char *)data;
		crl = d2i_X509_CRL(NULL, &p, (long)len);
	}
	ERR_clear_error();
	free(data);
	if (crl && (nu = X509_CRL_get0_nextUpdate(crl)) && ASN1_TIME_to_tm(nu, &tm) == 1)
		fresh = (long long)time(NULL) + (long long)l->overlap * 86400 <= (long long)timegm(&tm);
	X509_CRL_free(crl);
	return fresh;
}

int calocal_create_crl(struct calocal *l, int force, struct error *err)
{
	struct calocal_conf *c = NULL;
	struct calocal_keys *k = NULL;
	struct calocal_db db = { 0 };
	int lock = -1, rc = -1;

	if (calocal_conf_get(l, &c, err) != 0 || calocal_keys_get(l, &k, err) != 0)
		goto out;
	if ((lock = calocal_lock(c->lockfile, 1, err)) < 0)
		goto out;
	if (!force && calocal_crl_fresh(l)) {
		rc = CACONN_CRL_NOT_NEEDED;
		goto out;
	}
	if (calocal_db_load(c->database, &db, err) != 0)
		goto out;
	rc = calocal_crl_generate(l, c, k, &db, err);
out:
	calocal_unlock(lock);
	calocal_db_free(&db);
	calocal_conf_put(c);
	calocal_keys_put(k);
	return rc;
}

int calocal_revoke(struct calocal *l, const char *cert_pem, const char *reason, char **serial_hex,
		 struct error *err)
{
	const char *why = calocal_reason_canonical(reason);
	struct calocal_conf *c = NULL;
	struct calocal_keys *k = NULL;
	struct calocal_db db = { 0 };
	struct calocal_row *row;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	BIO *b;
	char *hex = NULL, *name = NULL, *rev = NULL;
	int lock = -1, rc = -1, unique;

	if (serial_hex)
		*serial_hex = NULL;
	if (!why)
		return err_set(err, ERRK_PI, ERR_CA, "Unknown CRL reason %s", reason);
	if ((b = BIO_new_mem_buf(cert_pem, -1)) != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	ERR_clear_error();
	if (!x)
		return err_set(err, ERRK_PI, ERR_CA, "Certificate in unsupported format");
	if (calocal_conf_get(l, &c, err) != 0 || calocal_keys_get(l, &k, err) != 0)
		goto out;
	if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(k->cert)) != 0 ||
	    X509_verify(x, X509_get0_pubkey(k->cert)) != 1) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "the certificate was not issued by this CA");
		goto out;
	}
	if (!(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) || !(hex = calocal_bn_hex(bn)) ||
	    !(name = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0)) ||
	    !(rev = calocal_revinfo_make(why))) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto out;
	}
	if ((lock = calocal_lock(c->lockfile, 1, err)) < 0)
		goto out;
	if (calocal_db_load(c->database, &db, err) != 0)
		goto out;
	row = calocal_db_find_serial(&db, hex);
	if (!row) {
		/* openssl ca adds a certificate it does not know, then revokes it */
		ASN1_TIME *na = X509_getm_notAfter(x);
		char exp[32];
		snprintf(exp, sizeof(exp), "%.*s", na->length, (const char *)na->data);
		if (calocal_db_add(&db, "V", exp, "", hex, name[0] ? name : hex) != 0) {
			err_set(err, ERRK_PI, ERR_CA, "out of memory");
			goto out;
		}
		row = &db.rows[db.n - 1];
	} else if (strcmp(row->f[DB_NAME], name[0] ? name : hex) != 0) {
		err_set(err, ERRK_PI, ERR_CA, "ERROR:name does not match %s", name);
		goto out;
	} else if (row->f[DB_TYPE][0] == 'R') {
		err_set(err, ERRK_PI, ERR_CA, "ERROR:Already revoked, serial number %s", hex);
		goto out;
	}
	free(row->f[DB_TYPE]);
	free(row->f[DB_REV]);
	row->f[DB_TYPE] = strdup("R");
	row->f[DB_REV] = rev;
	rev = NULL;
	row->dirty = 1;
	if (!row->f[DB_TYPE]) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto out;
	}
	unique = calocal_db_unique_subject(c);
	if (calocal_db_save(c->database, &db, err) != 0 ||
	    calocal_db_attr_write(c->database, unique, err) != 0)
		goto out;
	if (calocal_crl_generate(l, c, k, &db, err) != 0) {
		if (err) {
			char msg[sizeof(err->message)];
			snprintf(msg, sizeof(msg), "%s", err->message);
			err_set(err, ERRK_PI, ERR_CA, "certificate %s revoked, but the CRL was not "
				"written: %s", hex, msg);
		}
		goto out;
	}
	if (serial_hex) {
		*serial_hex = hex;
		hex = NULL;
	}
	rc = 0;
out:
	calocal_unlock(lock);
	calocal_db_free(&db);
	calocal_conf_put(c);
	calocal_keys_put(k);
	X509_free(x);
	BN_free(bn);
	free(hex);
	OPENSSL_free(name);
	free(rev);
	return rc;
}
