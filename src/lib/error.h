/*
 * error.h — the one error object threaded through every layer.
 *
 * A failing function returns a negative int (or NULL) and fills a
 * struct error with privacyIDEA's error code and message.  The API layer
 * turns it into the JSON error envelope; the kind decides the HTTP status
 * and whether the message gets privacyIDEA's "ERR<code>: " prefix.
 * Nothing in here allocates: the message lives inside the struct.
 */
#ifndef TESSERA_ERROR_H
#define TESSERA_ERROR_H

#include <stdarg.h>

enum error_kind {
	ERRK_NONE = 0,
	ERRK_AUTH,     /* AuthError: HTTP 401, plain message               */
	ERRK_POLICY,   /* PolicyError: HTTP 403, plain message             */
	ERRK_NOTFOUND, /* ResourceNotFoundError: HTTP 404, plain message   */
	ERRK_PI,       /* any other privacyIDEAError: HTTP 400, "ERRnnn: " */
	ERRK_HTTP,     /* transport errors (404/405/413): status = code    */
	ERRK_INTERNAL, /* server error: HTTP 500, no internals on the wire */
};

/* privacyIDEA's error codes (lib/error.py) that Tessera uses. */
enum {
	ERR_GENERIC = 10,
	ERR_TOKENADMIN = 301,
	ERR_POLICY = 303,
	ERR_CONFIGADMIN = 302,
	ERR_TOKENIMPORT = 304,
	ERR_VALIDATE = 401,
	ERR_ENROLLMENT = 404,
	ERR_CA = 503,
	ERR_CSR = 504,
	ERR_CSR_PENDING = 505,
	ERR_NOTFOUND = 601,
	ERR_HSM = 707,
	ERR_SERVER = 903,
	ERR_USER = 904,
	ERR_PARAMETER = 905,
	ERR_AUTH_WRONG = 4031,
	ERR_AUTH_NOUSER = 4032,
	ERR_AUTH_NOHEADER = 4033,
	ERR_AUTH_DECODE = 4304,
	ERR_AUTH_EXPIRED = 4305,
	ERR_AUTH_ROLE = 4306,
	ERR_INTERNAL = -500,
};

struct error {
	enum error_kind kind;
	int code;
	char message[768];
};

/* Fill *e (if e != NULL) and return -1, so callers can `return err_set(...)`.
 * The message is stored as given; the "ERRnnn: " prefix is added on output. */
int err_set(struct error *e, enum error_kind kind, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int err_vset(struct error *e, enum error_kind kind, int code, const char *fmt, va_list ap);

/* Shorthands for the common classes. */
int err_param(struct error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_internal(struct error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "ERR905: Missing parameter: 'name'" */
int err_missing_param(struct error *e, const char *name);

void err_clear(struct error *e);
int err_is_set(const struct error *e);

/* HTTP status for an error object (401, 403, 404, 400, 500, or the code for ERRK_HTTP). */
unsigned err_http_status(const struct error *e);
/* The message as it goes on the wire: "ERR905: ..." for ERRK_PI, plain otherwise,
 * a fixed generic text for ERRK_INTERNAL. Writes into buf, returns buf. */
const char *err_wire_message(const struct error *e, char *buf, unsigned len);
/* The code as it goes on the wire (-500 for ERRK_INTERNAL). */
int err_wire_code(const struct error *e);

#endif
