/*
 * routes.c — THE routing table (see http/route.h).  One row per endpoint:
 * method, pattern, handler, role, event, policy action, response id.
 * Literal paths come before placeholder paths of the same prefix.
 */
#include "api.h"
#include "../http/route.h"

const struct route tessera_routes[] = {
	/* method  pattern              handler               role        event   action  id  no_audit */
	{ "POST", "/auth", api_auth_post, ROLE_NONE, "auth", NULL, 1, 0 },
	{ "GET", "/auth/rights", api_auth_rights, ROLE_ANY, NULL, NULL, 1, 0 },

	{ "GET", "/healthz", api_healthz, ROLE_NONE, NULL, NULL, 1, 1 },
	{ "GET", "/healthz/livez", api_healthz_livez, ROLE_NONE, NULL, NULL, 1, 1 },
	{ "GET", "/healthz/startupz", api_healthz_startupz, ROLE_NONE, NULL, NULL, 1, 1 },
	{ "GET", "/healthz/readyz", api_healthz_readyz, ROLE_NONE, NULL, NULL, 1, 1 },

	/* ---- /resolver, /realm, /defaultrealm, /user (users) ---- */

	/* ---- /token (tokens) ---- */

	/* ---- /validate (tokens) ---- */

	/* ---- /system (tokens) ---- */

	/* ---- /policy (policies) ---- */

	/* ---- /caconnector, /ocsp (certificates) ---- */

	{ NULL, NULL, NULL, ROLE_NONE, NULL, NULL, 0, 0 },
};
