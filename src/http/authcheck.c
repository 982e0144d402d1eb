/*
 * authcheck.c — see authcheck.h.
 */
#include "authcheck.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lib/app.h"
#include "../lib/jwt.h"

static void copy_claim(json_t *claims, const char *name, char *dst, size_t len)
{
	json_t *v = json_object_get(claims, name);
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	snprintf(dst, len, "%s", s);
}

int authcheck_request(struct request *rq, enum role need, struct error *err)
{
	const char *tok = request_header(rq, "PI-Authorization");
	if (!tok || !*tok)
		tok = request_header(rq, "Authorization");
	if (!tok || !*tok)
		return err_set(err, ERRK_AUTH, ERR_AUTH_NOHEADER,
			       "Authentication failure. Missing Authorization header.");
	if (strncasecmp(tok, "Bearer ", 7) == 0)
		tok += 7;
	while (*tok == ' ')
		tok++;
	json_t *claims = NULL;
	if (jwt_decode(tok, rq->app->secret_key, (long long)time(NULL), &claims, err) < 0)
		return -1;
	json_t *role = json_object_get(claims, "role");
	const char *r = json_is_string(role) ? json_string_value(role) : "";
	enum role have = !strcmp(r, "admin") ? ROLE_ADMIN : !strcmp(r, "user") ? ROLE_USER : ROLE_NONE;
	if (have == ROLE_NONE || (need == ROLE_ADMIN && have != ROLE_ADMIN)) {
		json_decref(claims);
		return err_set(err, ERRK_AUTH, ERR_AUTH_ROLE,
			       need == ROLE_ADMIN
				       ? "Authentication failure. You do not have the necessary role (['admin']) "
					 "to access this resource!"
				       : "Authentication failure. You do not have the necessary role (['user', "
					 "'admin']) to access this resource!");
	}
	rq->who.role = have;
	copy_claim(claims, "username", rq->who.username, sizeof(rq->who.username));
	copy_claim(claims, "realm", rq->who.realm, sizeof(rq->who.realm));
	copy_claim(claims, "resolver", rq->who.resolver, sizeof(rq->who.resolver));
	rq->who.claims = claims;
	if (have == ROLE_ADMIN)
		snprintf(rq->audit.administrator, sizeof(rq->audit.administrator), "%s", rq->who.username);
	return 0;
}
