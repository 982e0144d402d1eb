/*
 * reply.c — envelope construction, serialisation and response signing.
 * See reply.h.  No handler builds an envelope itself.
 */
#include "reply.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <pthread.h>

#include "request.h"
#include "../lib/app.h"
#include "../lib/crypto.h"
#include "../lib/log.h"
#include "../lib/pyjson.h"

double reply_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Serialise body sorted, sign it, append "signature" last.  Steals body. */
static char *finish(struct app *app, json_t *body, size_t *len)
{
	char *out = NULL;
	if (app && app->signer) {
		size_t n = 0;
		char *signed_text = pyjson_dumps(body, 1, NULL, &n);
		char *sig = signed_text ? crypto_sign(app->signer, signed_text, n, NULL) : NULL;
		free(signed_text);
		if (sig) {
			json_object_set_new(body, "signature", json_string(sig));
			free(sig);
		} else {
			log_error("response signing failed; sending the response unsigned");
		}
	}
	out = pyjson_dumps(body, 1, "signature", len);
	json_decref(body);
	return out;
}

static void add_common(json_t *body, int id)
{
	json_object_set_new(body, "id", json_integer(id));
	json_object_set_new(body, "jsonrpc", json_string("2.0"));
	json_object_set_new(body, "time", json_real(reply_now()));
	json_object_set_new(body, "version", json_string(app_version()));
}

static void add_nonce(json_t *body, const char *nonce)
{
	if (nonce && *nonce)
		json_object_set_new(body, "nonce", json_string(nonce));
}

static const char *request_nonce(struct request *rq)
{
	json_t *n = rq->params ? json_object_get(rq->params, "nonce") : NULL;
	return json_is_string(n) ? json_string_value(n) : NULL;
}

/* privacyIDEA adds detail.threadid to every non-empty detail. */
static void add_detail(json_t *body, json_t *detail)
{
	if (detail && json_object_size(detail) > 0) {
		json_t *d = json_deep_copy(detail);
		json_object_set_new(d, "threadid", json_integer((json_int_t)(pthread_self() & 0x7fffffffffff)));
		json_object_set_new(body, "detail", d);
	}
}

/* true-ish as Python's bool(): used for result.authentication. */
static int py_truthy(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_TRUE: return 1;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0.0;
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_OBJECT: return json_object_size(v) > 0;
	case JSON_ARRAY: return json_array_size(v) > 0;
	default: return 0;
	}
}

char *reply_success(struct request *rq, json_t *value, size_t *len)
{
	json_t *body = json_object();
	json_t *result = json_object();
	if (!value)
		value = json_null();
	json_object_set_new(result, "status", json_true());
	if (rq->response_id == 2) {
		const char *a = "REJECT";
		json_t *mc = rq->detail ? json_object_get(rq->detail, "multi_challenge") : NULL;
		if (py_truthy(value))
			a = "ACCEPT";
		else if (mc && py_truthy(mc))
			a = "CHALLENGE";
		json_object_set_new(result, "authentication", json_string(a));
	} else if (rq->auth_result) {
		json_object_set_new(result, "authentication", json_string(rq->auth_result));
	}
	json_object_set_new(result, "value", value);
	json_object_set_new(body, "result", result);
	add_common(body, rq->response_id ? rq->response_id : 1);
	json_object_set_new(body, "versionnumber", json_string(app_version_number()));
	add_detail(body, rq->detail);
	if (rq->extra)
		json_object_update(body, rq->extra);
	add_nonce(body, request_nonce(rq));
	return finish(rq->app, body, len);
}

static json_t *error_body(const struct error *err, int id, json_t *detail)
{
	char msg[1024];
	json_t *body = json_object();
	json_t *e = json_object();
	json_object_set_new(e, "code", json_integer(err_wire_code(err)));
	json_object_set_new(e, "message", json_string(err_wire_message(err, msg, sizeof(msg))));
	json_t *result = json_object();
	json_object_set_new(result, "error", e);
	json_object_set_new(result, "status", json_false());
	json_object_set_new(body, "result", result);
	add_common(body, id);
	/* privacyIDEA: null, or the exception's details ({} for AuthErrors of /auth) */
	if (detail && json_object_size(detail) > 0)
		add_detail(body, detail);
	else if (detail)
		json_object_set_new(body, "detail", json_object());
	else
		json_object_set_new(body, "detail", json_null());
	return body;
}

char *reply_error(struct request *rq, const struct error *err, unsigned *status, size_t *len)
{
	json_t *body = error_body(err, 1, rq->detail); /* privacyIDEA errors always carry id 1 */
	add_nonce(body, request_nonce(rq));
	*status = err_http_status(err);
	return finish(rq->app, body, len);
}

char *reply_error_bare(struct app *app, const struct error *err, const char *nonce, unsigned *status,
		       size_t *len)
{
	json_t *body = error_body(err, 1, NULL);
	add_nonce(body, nonce);
	*status = err_http_status(err);
	return finish(app, body, len);
}
