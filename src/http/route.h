/*
 * route.h — the one routing table: method, path pattern, handler, the role
 * a caller needs, the event name and the policy action(s) checked.  It
 * doubles as documentation: docs/rights.md is derived from it.
 *
 * Patterns are literal segments and <name> placeholders ("/token/<serial>");
 * a placeholder's value (percent-decoded) overrides a parameter of the same
 * name.  A last placeholder written <name*> takes the rest of the path,
 * slashes included.  Both "/x" and "/x/" match a pattern.
 */
#ifndef TESSERA_ROUTE_H
#define TESSERA_ROUTE_H

#include "request.h"

struct route {
	const char *method;
	const char *pattern;
	handler_fn handler;
	enum role role;          /* ROLE_NONE: no JWT; ROLE_ANY: admin or user; ROLE_ADMIN */
	const char *event;       /* event-handler hook name, or NULL */
	const char *action;      /* policy action the guard checks ("enroll<TYPE>", "admin:x" admins
				  * only, "filter:x" a list the handler reduces: src/api/guard.h),
				  * or NULL (unchecked; docs/rights.md) */
	int response_id;         /* 1, or 2 for the /validate family */
	int no_audit;            /* 1 for /healthz */
};

/* The table, terminated by a zeroed entry (src/api/routes.c). */
extern const struct route tessera_routes[];

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_BAD_METHOD };
/* Find the route; on ROUTE_FOUND *params_out gets a new object of path
 * placeholders (name → decoded value). */
enum route_match route_find(const char *method, const char *path, const struct route **out,
			    json_t **params_out);

#endif
