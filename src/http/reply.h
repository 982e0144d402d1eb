/*
 * reply.h — the privacyIDEA JSON envelope, built and signed in one place.
 *
 * Success: {"id", "jsonrpc", "result": {"status": true, "value"[, "authentication"]},
 *           "time", "version", "versionnumber"[, "detail"][, "nonce"], "signature"}
 * Error:   {"detail": null|{...}, "id", "jsonrpc", "result": {"error": {"code",
 *           "message"}, "status": false}, "time", "version"[, "nonce"], "signature"}
 * The signature covers Python's json.dumps(body, sort_keys=True) of the
 * body without "signature"; the body on the wire is exactly those bytes
 * with "signature" appended last.
 */
#ifndef TESSERA_REPLY_H
#define TESSERA_REPLY_H

#include <jansson.h>
#include <stddef.h>
#include "../lib/error.h"

struct app;
struct request;

/* Build the success body for rq (steals `value`); returns the serialised,
 * signed body (malloc'd) and its length. */
char *reply_success(struct request *rq, json_t *value, size_t *len);
/* Build the error body for rq from err. *status gets the HTTP status. */
char *reply_error(struct request *rq, const struct error *err, unsigned *status, size_t *len);
/* Error body without a parsed request (413 before parsing, 404 ...). */
char *reply_error_bare(struct app *app, const struct error *err, const char *nonce, unsigned *status,
		       size_t *len);

/* Seconds since the epoch with microseconds, as Python's time.time(). */
double reply_now(void);

#endif
