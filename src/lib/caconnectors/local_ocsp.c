/*
 * local_ocsp.c — an RFC 6960 OCSP responder for the local CA connector,
 * answering from index.txt as `openssl ocsp -index index.txt -CA cacert
 * -rsigner cacert -rkey cakey` does, but signed directly by the CA key:
 *   - a CertID whose issuer hashes are not this CA's → unknown,
 *   - serial not in index.txt → unknown,
 *   - "V" (and "E", expired but never revoked) → good,
 *   - "R" → revoked with the revocation time and reason of the row (plus
 *     invalidity date / hold instruction for openssl's keyTime,
 *     CAkeyTime and holdInstruction entries).
 * The nonce of the request is echoed; the responder id is the CA's name and
 * the CA certificate is included.  thisUpdate = now, no nextUpdate (the
 * default of `openssl ocsp`): clients treat each answer as current.
 *
 * Only the caller's bytes are trusted as far as d2i parses them; a request
 * that is not exactly one DER OCSPRequest gets malformedRequest.
 */
#include "local_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#define OCSP_MAX_REQUEST (64 * 1024)

static int encode(OCSP_RESPONSE *rsp, unsigned char **out, size_t *out_len, struct error *err)
{
	unsigned char *der = NULL;
	int n = rsp ? i2d_OCSP_RESPONSE(rsp, &der) : -1;
	if (n <= 0 || !(*out = malloc((size_t)n))) {
		OPENSSL_free(der);
		ERR_clear_error();
		return err_set(err, ERRK_PI, ERR_CA, "cannot encode the OCSP response");
	}
	memcpy(*out, der, (size_t)n);
	*out_len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

static int status_of(struct calocal_db *db, const ASN1_INTEGER *serial, OCSP_BASICRESP *bs,
		     OCSP_CERTID *cid, ASN1_TIME *now)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? calocal_bn_hex(bn) : NULL;
	struct calocal_row *row = hex ? calocal_db_find_serial(db, hex) : NULL;
	int ok;

	BN_free(bn);
	free(hex);
	if (!row || !strchr("VER", row->f[DB_TYPE][0]))
		return OCSP_basic_add1_status(bs, cid, V_OCSP_CERTSTATUS_UNKNOWN, 0, NULL, now, NULL) != NULL;
	if (row->f[DB_TYPE][0] != 'R')
		return OCSP_basic_add1_status(bs, cid, V_OCSP_CERTSTATUS_GOOD, 0, NULL, now, NULL) != NULL;

	ASN1_TIME *revtm;
	ASN1_OBJECT *hold;
	ASN1_GENERALIZEDTIME *inv;
	int reason;
	OCSP_SINGLERESP *single;
	if (calocal_revinfo_parse(row->f[DB_REV], &revtm, &reason, &hold, &inv) != 0)
		return OCSP_basic_add1_status(bs, cid, V_OCSP_CERTSTATUS_UNKNOWN, 0, NULL, now, NULL) != NULL;
	single = OCSP_basic_add1_status(bs, cid, V_OCSP_CERTSTATUS_REVOKED, reason, revtm, now, NULL);
	ok = single != NULL;
	if (ok && inv)
		ok = OCSP_SINGLERESP_add1_ext_i2d(single, NID_invalidity_date, inv, 0, 0) > 0;
	else if (ok && hold)
		ok = OCSP_SINGLERESP_add1_ext_i2d(single, NID_hold_instruction_code, hold, 0, 0) > 0;
	ASN1_TIME_free(revtm);
	ASN1_OBJECT_free(hold);
	ASN1_GENERALIZEDTIME_free(inv);
	return ok;
}

int calocal_ocsp_respond(struct calocal *l, const unsigned char *der, size_t der_len,
		       unsigned char **resp, size_t *resp_len, struct error *err)
{
	OCSP_REQUEST *req = NULL;
	OCSP_RESPONSE *rsp = NULL;
	OCSP_BASICRESP *bs = NULL;
	ASN1_TIME *now = NULL;
	struct calocal_conf *c = NULL;
	struct calocal_keys *k = NULL;
	struct calocal_db db = { 0 };
	const EVP_MD *md;
	const unsigned char *p = der;
	int n = 0, lock = -1, rc = -1;

	*resp = NULL;
	*resp_len = 0;
	if (der && der_len > 0 && der_len <= OCSP_MAX_REQUEST)
		req = d2i_OCSP_REQUEST(NULL, &p, (long)der_len);
	if (req)
		n = OCSP_request_onereq_count(req);
	if (!req || p != der + der_len || n <= 0) {
		ERR_clear_error();
		rsp = OCSP_response_create(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, NULL);
		rc = encode(rsp, resp, resp_len, err);
		goto out;
	}
	if (calocal_conf_get(l, &c, err) != 0 || calocal_keys_get(l, &k, err) != 0 ||
	    calocal_md(c, k->key, &md, err) != 0)
		goto out;
	if ((lock = calocal_lock(c->lockfile, 0, err)) < 0)
		goto out;
	if (calocal_db_load(c->database, &db, err) != 0)
		goto out;
	calocal_unlock(lock);
	lock = -1;

	if (!(bs = OCSP_BASICRESP_new()) || !(now = X509_gmtime_adj(NULL, 0)))
		goto ossl;
	for (int i = 0; i < n; i++) {
		OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));
		ASN1_OBJECT *md_oid = NULL;
		ASN1_INTEGER *serial = NULL;
		const EVP_MD *cmd;
		OCSP_CERTID *ca_id = NULL;
		int ok;

		OCSP_id_get0_info(NULL, &md_oid, NULL, &serial, cid);
		cmd = md_oid ? EVP_get_digestbyobj(md_oid) : NULL;
		if (cmd)
			ca_id = OCSP_cert_to_id(cmd, NULL, k->cert);
		if (!ca_id || !serial || OCSP_id_issuer_cmp(ca_id, cid) != 0)
			ok = OCSP_basic_add1_status(bs, cid, V_OCSP_CERTSTATUS_UNKNOWN, 0, NULL, now,
						    NULL) != NULL;
		else
			ok = status_of(&db, serial, bs, cid, now);
		OCSP_CERTID_free(ca_id);
		if (!ok)
			goto ossl;
	}
	if (OCSP_copy_nonce(bs, req) <= 0 || !OCSP_basic_sign(bs, k->cert, k->key, md, NULL, 0))
		goto ossl;
	if (!(rsp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)))
		goto ossl;
	rc = encode(rsp, resp, resp_len, err);
	goto out;
ossl:
	{
		char msg[256];
		ERR_error_string_n(ERR_peek_last_error(), msg, sizeof(msg));
		err_set(err, ERRK_PI, ERR_CA, "building the OCSP response failed: %s", msg);
	}
out:
	ERR_clear_error();
	calocal_unlock(lock);
	calocal_db_free(&db);
	calocal_conf_put(c);
	calocal_keys_put(k);
	ASN1_TIME_free(now);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(rsp);
	OCSP_REQUEST_free(req);
	return rc;
}
