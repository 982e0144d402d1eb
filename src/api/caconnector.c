/*
 * caconnector.c — the /caconnector blueprint (list, show, create/update,
 * delete, type-specific options: admin only, as privacyIDEA) and, beyond
 * privacyIDEA, what a CA offers the outside world and its managers:
 *   GET  /caconnector/<name>/crl                     the current CRL (DER/PEM), no JWT
 *   POST /ocsp/<name>, GET /ocsp/<name>/<request>     RFC 6960 responder, no JWT
 *   GET  /caconnector/<name>/requests                 approval mode: requests
 *   POST /caconnector/<name>/requests/<id>/approve    ... issue one
 *   POST /caconnector/<name>/requests/<id>/reject     ... refuse one
 *
 * Parameters and rights here; definitions, validation, encryption and
 * censoring are lib/caconnector_cfg.c's, the CA work the connector's.  No
 * SQL, no envelope.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../db/db.h"
#include "../http/route.h"
#include "../lib/caconnector_cfg.h"
#include "../lib/crypto.h"

#define TYPE_CRL_DER "application/pkix-crl"
#define TYPE_PEM "application/x-pem-file"
#define TYPE_OCSP "application/ocsp-response"

static const char *str_of(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

/* Bounded copy into an audit field (messages are longer than the column). */
static void audit_text(char *field, size_t size, const char *text)
{
	snprintf(field, size, "%.*s", (int)size - 1, text ? text : "");
}

static void audit_name(struct request *rq, const char *name)
{
	if (name)
		audit_text(rq->audit.info, sizeof(rq->audit.info), name);
}

/* GET /caconnector/ and GET /caconnector/<caconnector>. */
int api_caconnector_get(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.caconnectorread */
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	const char *name = param_str(rq, "caconnector");
	int one = strcmp(rq->route->pattern, "/caconnector/<caconnector>") == 0;
	audit_name(rq, one ? name : NULL);
	*value = caconnector_list(s, one ? name : NULL);
	return *value ? 0 : err_internal(err, "out of memory");
}

/* POST /caconnector/<caconnector>: create or update; value = the db id. */
int api_caconnector_post(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.caconnectorwrite */
	struct db_conn *c = request_db(rq, err);
	int64_t id = 0;
	if (!c)
		return -1;
	audit_name(rq, param_str(rq, "caconnector"));
	if (db_begin_write(c, err) < 0 || caconnector_save(rq->app, c, rq->params, &id, err) < 0 ||
	    db_commit(c, err) < 0)
		return -1;
	*value = json_integer(id);
	return 0;
}

/* DELETE /caconnector/<caconnector>: value = the deleted db id. */
int api_caconnector_delete(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.caconnectordelete */
	const char *name = param_str(rq, "caconnector");
	struct db_conn *c = request_db(rq, err);
	int64_t id = 0;
	if (!c)
		return -1;
	audit_name(rq, name);
	if (db_begin_write(c, err) < 0 || caconnector_delete(c, name, &id, err) < 0 || db_commit(c, err) < 0)
		return -1;
	*value = json_integer(id);
	return 0;
}

/* GET /caconnector/specific/<catype>: the options a definition in the
 * making offers (the query parameters are that definition). */
int api_caconnector_specific(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.caconnectorread */
	const char *catype = param_str(rq, "catype");
	audit_name(rq, catype);
	return caconnector_specific(catype, rq->params, value, err);
}

/* The connector of the URL, from the request's snapshot. */
static struct caconnector *url_connector(struct request *rq, struct error *err)
{
	struct snapshot *s = request_snapshot(rq, err);
	const char *name = param_str(rq, "caconnector");
	audit_name(rq, name);
	return s ? caconnector_get(s, name, err) : NULL;
}

static int unsupported(struct caconnector *ca, const char *what, struct error *err)
{
	return err_param(err, "The CA connector type '%s' does not support %s", ca->type->name, what);
}

/* ---- CRL ------------------------------------------------------------------- */

static int wants_pem(struct request *rq)
{
	const char *fmt = param_str(rq, "format");
	if (fmt)
		return strcasecmp(fmt, "pem") == 0;
	const char *accept = request_header(rq, "Accept");
	return accept && strcasestr(accept, TYPE_PEM) != NULL;
}

/* GET /caconnector/<caconnector>/crl[?format=der|pem]: the CA's current
 * CRL, regenerated first when it is missing or inside the overlap period.
 * Public, like any CRL distribution point. */
int api_caconnector_crl(struct request *rq, json_t **value, struct error *err)
{
	struct caconnector *ca = url_connector(rq, err);
	const char *fmt = param_str(rq, "format");
	unsigned char *data = NULL;
	size_t len = 0;
	int pem;
	if (!ca)
		return -1;
	if (fmt && strcasecmp(fmt, "pem") && strcasecmp(fmt, "der"))
		return err_param(err, "format must be der or pem");
	if (!ca->type->get_crl)
		return unsupported(ca, "CRLs", err);
	pem = wants_pem(rq);
	if (ca->type->get_crl(ca, !pem, &data, &len, err) < 0)
		return -1;
	rq->raw_body = (char *)data;
	rq->raw_len = len;
	rq->raw_type = pem ? TYPE_PEM : TYPE_CRL_DER;
	rq->audit.success = 1;
	*value = NULL;
	return 0;
}

/* ---- OCSP ------------------------------------------------------------------ */

/* An OCSPResponse with only a responseStatus (RFC 6960 4.2.1):
 * 30 03 0a 01 <status>. */
static int ocsp_status_only(struct request *rq, unsigned char status)
{
	unsigned char *b = malloc(5);
	if (!b)
		return -1;
	b[0] = 0x30;
	b[1] = 0x03;
	b[2] = 0x0a;
	b[3] = 0x01;
	b[4] = status;
	rq->raw_body = (char *)b;
	rq->raw_len = 5;
	rq->raw_type = TYPE_OCSP;
	return 0;
}

enum { OCSP_INTERNAL_ERROR = 2, OCSP_UNAUTHORIZED = 6 };

/* Answer one DER OCSPRequest.  Relying parties expect an OCSP response in
 * every case: an unknown connector is "unauthorized" (we are not its
 * responder, RFC 5019 2.2.3), a CA that cannot answer "internalError";
 * a request that does not parse gets the connector's malformedRequest. */
static int ocsp_answer(struct request *rq, const unsigned char *der, size_t len, struct error *err)
{
	struct error e = { 0 };
	struct caconnector *ca = url_connector(rq, &e);
	unsigned char *resp = NULL;
	size_t resp_len = 0;
	if (!ca) {
		audit_text(rq->audit.action_detail, sizeof(rq->audit.action_detail), e.message);
		rq->audit.success = 0;
		if (ocsp_status_only(rq, e.kind == ERRK_NOTFOUND ? OCSP_UNAUTHORIZED : OCSP_INTERNAL_ERROR) < 0)
			return err_internal(err, "out of memory");
		return 0;
	}
	if (!ca->type->ocsp_respond || ca->type->ocsp_respond(ca, der, len, &resp, &resp_len, &e) < 0) {
		audit_text(rq->audit.action_detail, sizeof(rq->audit.action_detail),
			   ca->type->ocsp_respond ? e.message : "no OCSP responder");
		rq->audit.success = 0;
		if (ocsp_status_only(rq, OCSP_INTERNAL_ERROR) < 0)
			return err_internal(err, "out of memory");
		return 0;
	}
	rq->raw_body = (char *)resp;
	rq->raw_len = resp_len;
	rq->raw_type = TYPE_OCSP;
	rq->audit.success = 1;
	return 0;
}

/* POST /ocsp/<caconnector>: body = DER OCSPRequest (application/ocsp-request). */
int api_ocsp_post(struct request *rq, json_t **value, struct error *err)
{
	*value = NULL;
	return ocsp_answer(rq, (const unsigned char *)rq->body, rq->body ? rq->body_len : 0, err);
}

/* GET /ocsp/<caconnector>/<request>: the DER request base64-encoded in the
 * URL (RFC 6960 A.1); the HTTP layer has percent-decoded it already.  The
 * URL-safe alphabet is accepted too. */
int api_ocsp_get(struct request *rq, json_t **value, struct error *err)
{
	const char *b64 = param_str(rq, "ocsp_request");
	unsigned char *der = NULL;
	size_t len = 0;
	int rc;
	*value = NULL;
	if (b64) {
		char *s = strdup(b64);
		if (!s)
			return err_internal(err, "out of memory");
		for (char *p = s; *p; p++)
			*p = *p == '-' ? '+' : *p == '_' ? '/' : *p == ' ' ? '+' : *p;
		der = crypto_b64_decode(s, &len);
		free(s);
	}
	/* no or undecodable data: the responder answers malformedRequest */
	rc = ocsp_answer(rq, der, der ? len : 0, err);
	free(der);
	return rc;
}

/* ---- approval mode --------------------------------------------------------- */

/* The summary of one request (from list_requests), or NULL. */
static json_t *request_summary(struct caconnector *ca, const char *id, struct error *err)
{
	json_t *list = NULL, *item, *found = NULL;
	size_t i;
	if (ca->type->list_requests(ca, &list, err) < 0)
		return NULL;
	json_array_foreach(list, i, item)
		if (!strcmp(str_of(item, "request_id"), id)) {
			found = json_incref(item);
			break;
		}
	json_decref(list);
	if (!found)
		err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, "The requested certificate request could not be found.");
	return found;
}

static int approval_supported(struct caconnector *ca, struct error *err)
{
	if (!ca->type->list_requests || !ca->type->approve || !ca->type->reject)
		return unsupported(ca, "an approval mode", err);
	return 0;
}

/* GET /caconnector/<caconnector>/requests[?state=pending|issued|denied]. */
int api_caconnector_requests(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.caconnectorread */
	struct caconnector *ca = url_connector(rq, err);
	const char *state = param_str(rq, "state");
	json_t *list = NULL, *out, *item;
	size_t i;
	if (!ca || approval_supported(ca, err) < 0)
		return -1;
	if (state && strcmp(state, "pending") && strcmp(state, "issued") && strcmp(state, "denied"))
		return err_param(err, "state must be pending, issued or denied");
	if (ca->type->list_requests(ca, &list, err) < 0)
		return -1;
	if (!state) {
		*value = list;
		return 0;
	}
	out = json_array();
	json_array_foreach(list, i, item)
		if (!strcmp(str_of(item, "state"), state))
			json_array_append(out, item);
	json_decref(list);
	*value = out;
	return out ? 0 : err_internal(err, "out of memory");
}

/* POST /caconnector/<caconnector>/requests/<request_id>/approve and
 * .../reject (reason): value = the request's summary after the decision
 * (list_requests' fields), with "certificate" (PEM) once issued. */
static int decide(struct request *rq, int approve, json_t **value, struct error *err)
{
	struct caconnector *ca = url_connector(rq, err);
	const char *id = param_str(rq, "request_id");
	json_t *before;
	if (!ca || approval_supported(ca, err) < 0)
		return -1;
	audit_text(rq->audit.action_detail, sizeof(rq->audit.action_detail), id);
	/* unknown ids are 404s, not CA failures */
	if (!(before = request_summary(ca, id ? id : "", err)))
		return -1;
	json_decref(before);
	if (approve ? ca->type->approve(ca, id, err) < 0
		    : ca->type->reject(ca, id, param_str(rq, "reason"), err) < 0)
		return -1;
	if (!(*value = request_summary(ca, id, err)))
		return -1;
	/* the administrator who approves gets the certificate at once */
	char *pem = NULL;
	if (approve && ca->type->get_issued_certificate &&
	    ca->type->get_issued_certificate(ca, id, &pem, NULL) == 0) {
		json_object_set_new(*value, "certificate", json_string(pem));
		free(pem);
	}
	return 0;
}

int api_caconnector_approve(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.caconnectorwrite */
	return decide(rq, 1, value, err);
}

int api_caconnector_reject(struct request *rq, json_t **value, struct error *err)
{
	/* policy: admin.caconnectorwrite */
	return decide(rq, 0, value, err);
}
