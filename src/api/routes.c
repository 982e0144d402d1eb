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
	{ "GET", "/system/documentation", api_system_documentation, ROLE_ADMIN, "get_config_documentation",
	  "system_documentation", 1, 0 },
	{ "GET", "/system/gpgkeys", api_system_gpgkeys, ROLE_ANY, "get_gpg_keys", NULL, 1, 0 },
	{ "GET", "/system/hsm", api_system_hsm_get, ROLE_ADMIN, "get_security_module", NULL, 1, 0 },
	{ "POST", "/system/hsm", api_system_hsm_set, ROLE_ADMIN, "set_security_module", "set_hsm_password", 1, 0 },
	{ "GET", "/system/random", api_system_random, ROLE_ADMIN, "rand", "getrandom", 1, 0 },
	{ "GET", "/system/names/radius", api_system_names_radius, ROLE_ANY, "list_radius_servers", "enrollRADIUS", 1,
	  0 },
	{ "GET", "/system/names/caconnector", api_system_names_caconnector, ROLE_ANY, "list_ca_connectors",
	  "enrollCERTIFICATE", 1, 0 },
	{ "POST", "/system/setConfig", api_system_set_config, ROLE_ADMIN, "set_config", "configwrite", 1, 0 },
	{ "POST", "/system/setDefault", api_system_set_default, ROLE_ADMIN, "set_default", "configwrite", 1, 0 },
	{ "GET", "/system/", api_system_get_all, ROLE_ANY, "get_config", NULL, 1, 0 },
	{ "GET", "/system/<key>", api_system_get, ROLE_ANY, "get_config", NULL, 1, 0 },
	{ "DELETE", "/system/<key>", api_system_delete, ROLE_ADMIN, "delete_config", "configdelete", 1, 0 },

	/* ---- /policy (policies) ---- */

	/* ---- /caconnector, /ocsp (certificates) ---- */

	{ NULL, NULL, NULL, ROLE_NONE, NULL, NULL, 0, 0 },
};
