/*
 * route.c — matching a method and path against the routing table.
 * Linear scan: the table has a few hundred rows at most and matching a
 * row is a handful of string compares, cheaper than the JSON work after.
 */
#include "route.h"

#include <stdlib.h>
#include <string.h>

#include "params.h"

/* Match `path` against `pattern`; on success add placeholders to vars.
 * A trailing slash on either side is ignored. */
static int match(const char *pattern, const char *path, json_t *vars)
{
	const char *p = pattern, *s = path;
	while (*p || *s) {
		if (*p == '/' && *s == '/') {
			p++;
			s++;
			continue;
		}
		/* tolerate one trailing slash on either side */
		if (!*p && s[0] == '/' && s[1] == '\0')
			return 1;
		if (!*s && p[0] == '/' && p[1] == '\0')
			return 1;
		if (*p == '<') {
			const char *close = strchr(p, '>');
			if (!close)
				return 0;
			/* "<name*>" (last in a pattern) takes the rest of the path, slashes
			 * included: RFC 6960's GET /ocsp/<ca>/<base64 request> has '/' in base64. */
			int rest = close > p + 1 && close[-1] == '*';
			size_t seglen = rest ? strlen(s) : strcspn(s, "/");
			if (seglen == 0)
				return 0;
			if (vars) {
				char name[64];
				size_t nlen = (size_t)(close - p - 1) - (size_t)rest;
				if (nlen >= sizeof(name))
					return 0;
				memcpy(name, p + 1, nlen);
				name[nlen] = '\0';
				char *val = strndup(s, seglen);
				if (!val)
					return 0;
				size_t vlen = params_unquote(val, seglen);
				json_t *j = json_stringn(val, vlen);
				free(val);
				if (!j)
					return 0; /* not UTF-8: no such resource */
				json_object_set_new(vars, name, j);
			}
			p = close + 1;
			s += seglen;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return 1;
}

enum route_match route_find(const char *method, const char *path, const struct route **out,
			    json_t **params_out)
{
	int path_seen = 0;
	for (const struct route *r = tessera_routes; r->pattern; r++) {
		if (!match(r->pattern, path, NULL))
			continue;
		path_seen = 1;
		if (strcmp(r->method, method) != 0)
			continue;
		json_t *vars = json_object();
		if (!match(r->pattern, path, vars)) {
			json_decref(vars);
			continue;
		}
		*out = r;
		*params_out = vars;
		return ROUTE_FOUND;
	}
	return path_seen ? ROUTE_BAD_METHOD : ROUTE_NO_PATH;
}
