/*
 * error.c — filling and rendering struct error (see error.h).
 */
#include "error.h"

#include <stdio.h>
#include <string.h>

int err_vset(struct error *e, enum error_kind kind, int code, const char *fmt, va_list ap)
{
	if (e == NULL)
		return -1;
	e->kind = kind;
	e->code = code;
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	return -1;
}

int err_set(struct error *e, enum error_kind kind, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, kind, code, fmt, ap);
	va_end(ap);
	return -1;
}

int err_param(struct error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, ERRK_PI, ERR_PARAMETER, fmt, ap);
	va_end(ap);
	return -1;
}

int err_internal(struct error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, ERRK_INTERNAL, ERR_INTERNAL, fmt, ap);
	va_end(ap);
	return -1;
}

int err_missing_param(struct error *e, const char *name)
{
	return err_set(e, ERRK_PI, ERR_PARAMETER, "Missing parameter: '%s'", name);
}

void err_clear(struct error *e)
{
	if (e) {
		e->kind = ERRK_NONE;
		e->code = 0;
		e->message[0] = '\0';
	}
}

int err_is_set(const struct error *e)
{
	return e && e->kind != ERRK_NONE;
}

unsigned err_http_status(const struct error *e)
{
	switch (e->kind) {
	case ERRK_AUTH: return 401;
	case ERRK_POLICY: return 403;
	case ERRK_NOTFOUND: return 404;
	case ERRK_PI: return 400;
	case ERRK_HTTP: return (unsigned)e->code;
	case ERRK_NONE:
	case ERRK_INTERNAL:
	default: return 500;
	}
}

int err_wire_code(const struct error *e)
{
	return e->kind == ERRK_INTERNAL || e->kind == ERRK_NONE ? ERR_INTERNAL : e->code;
}

const char *err_wire_message(const struct error *e, char *buf, unsigned len)
{
	switch (e->kind) {
	case ERRK_PI:
		snprintf(buf, len, "ERR%d: %s", e->code, e->message);
		break;
	case ERRK_INTERNAL:
	case ERRK_NONE:
		snprintf(buf, len, "500 Internal Server Error: The server encountered an internal "
				   "error and was unable to complete your request. Either the server "
				   "is overloaded or there is an error in the application.");
		break;
	default:
		snprintf(buf, len, "%s", e->message);
		break;
	}
	return buf;
}
