/*
 * routes.c — THE routing table (see http/route.h).  One row per endpoint:
 * method, pattern, handler, role, event, policy action, response id.
 * Literal paths come before placeholder paths of the same prefix.
 *
 * The action is what src/api/guard.c checks before the handler, in the
 * caller's scope (admin or user), against the user/realm/resolver params
 * or the token named by serial; "enroll<TYPE>" takes the type parameter;
 * "admin:x" is checked for admins only (users act on their own objects);
 * "filter:x" is no check but a list the handler reduces to the realms in
 * which the admin may use x.  What handlers check beyond the row (other
 * targets, each item) is listed in src/cli/routes.c and docs/rights.md
 * (`tessera routes`); a row without action is listed there as unchecked.
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
	{ "GET", "/resolver/", api_resolver_get, ROLE_ADMIN, NULL, "resolverread", 1, 0 },
	{ "POST", "/resolver/test", api_resolver_test, ROLE_ADMIN, NULL, "resolverwrite", 1, 0 },
	{ "GET", "/resolver/<resolver>", api_resolver_get, ROLE_ADMIN, NULL, "resolverread", 1, 0 },
	{ "POST", "/resolver/<resolver>", api_resolver_post, ROLE_ADMIN, NULL, "resolverwrite", 1, 0 },
	{ "DELETE", "/resolver/<resolver>", api_resolver_delete, ROLE_ADMIN, NULL, "resolverdelete", 1, 0 },
	{ "GET", "/realm/", api_realm_list, ROLE_ADMIN, NULL, NULL, 1, 0 },
	{ "GET", "/realm/superuser", api_realm_superuser, ROLE_ADMIN, NULL, NULL, 1, 0 },
	{ "POST", "/realm/<realm>", api_realm_post, ROLE_ADMIN, NULL, "resolverwrite", 1, 0 },
	{ "DELETE", "/realm/<realm>", api_realm_delete, ROLE_ADMIN, NULL, "resolverdelete", 1, 0 },
	{ "GET", "/defaultrealm", api_defaultrealm_get, ROLE_ADMIN, NULL, NULL, 1, 0 },
	{ "POST", "/defaultrealm/<realm>", api_defaultrealm_post, ROLE_ADMIN, NULL, "resolverwrite", 1, 0 },
	{ "DELETE", "/defaultrealm", api_defaultrealm_delete, ROLE_ADMIN, NULL, "resolverdelete", 1, 0 },
	{ "GET", "/user/", api_user_list, ROLE_ANY, "user_list", "userlist", 1, 0 },
	{ "POST", "/user/", api_user_create, ROLE_ADMIN, "user_add", "adduser", 1, 0 },
	{ "PUT", "/user/", api_user_update, ROLE_ANY, "user_update", "updateuser", 1, 0 },
	{ "GET", "/user/attribute", api_user_attribute_get, ROLE_ANY, "get_user_attribute", "admin:userlist", 1, 0 },
	{ "POST", "/user/attribute", api_user_attribute_post, ROLE_ANY, "set_custom_user_attribute",
	  "set_custom_user_attributes", 1, 0 },
	{ "GET", "/user/editable_attributes/", api_user_editable_attributes, ROLE_ANY, "get_editable_attributes",
	  "admin:userlist", 1, 0 },
	{ "DELETE", "/user/attribute/<attrkey>/<username>/<realm>", api_user_attribute_delete, ROLE_ANY,
	  "delete_custom_user_attribute", "delete_custom_user_attributes", 1, 0 },
	{ "DELETE", "/user/<resolvername>/<username>", api_user_delete, ROLE_ADMIN, "user_delete", "deleteuser", 1,
	  0 },

	/* ---- /token (tokens) ---- */
	{ "POST", "/token/init", api_token_init, ROLE_ANY, "token_init", "enroll<TYPE>", 1, 0 },
	{ "GET", "/token/", api_token_list, ROLE_ANY, "token_list", "filter:tokenlist", 1, 0 },
	{ "GET", "/token/challenges/", api_token_challenges, ROLE_ADMIN, "token_getchallenges", "getchallenges", 1, 0 },
	{ "GET", "/token/challenges/<serial>", api_token_challenges, ROLE_ADMIN, "token_getchallenges", "getchallenges", 1,
	  0 },
	{ "POST", "/token/assign", api_token_assign, ROLE_ANY, "token_assign", "assign", 1, 0 },
	{ "POST", "/token/unassign", api_token_unassign, ROLE_ANY, "token_unassign", "unassign", 1, 0 },
	{ "POST", "/token/revoke", api_token_revoke, ROLE_ANY, "token_revoke", "revoke", 1, 0 },
	{ "POST", "/token/revoke/<serial>", api_token_revoke, ROLE_ANY, "token_revoke", "revoke", 1, 0 },
	{ "POST", "/token/enable", api_token_enable, ROLE_ANY, "token_enable", "enable", 1, 0 },
	{ "POST", "/token/enable/<serial>", api_token_enable, ROLE_ANY, "token_enable", "enable", 1, 0 },
	{ "POST", "/token/disable", api_token_disable, ROLE_ANY, "token_disable", "disable", 1, 0 },
	{ "POST", "/token/disable/<serial>", api_token_disable, ROLE_ANY, "token_disable", "disable", 1, 0 },
	{ "POST", "/token/reset", api_token_reset, ROLE_ANY, "token_reset", "reset", 1, 0 },
	{ "POST", "/token/reset/<serial>", api_token_reset, ROLE_ANY, "token_reset", "reset", 1, 0 },
	{ "POST", "/token/resync", api_token_resync, ROLE_ANY, "token_resync", "resync", 1, 0 },
	{ "POST", "/token/resync/<serial>", api_token_resync, ROLE_ANY, "token_resync", "resync", 1, 0 },
	{ "POST", "/token/setpin", api_token_setpin, ROLE_ANY, "token_setpin", "setpin", 1, 0 },
	{ "POST", "/token/setpin/<serial>", api_token_setpin, ROLE_ANY, "token_setpin", "setpin", 1, 0 },
	{ "POST", "/token/setrandompin", api_token_setrandompin, ROLE_ANY, "token_setrandompin", "setrandompin", 1, 0 },
	{ "POST", "/token/setrandompin/<serial>", api_token_setrandompin, ROLE_ANY, "token_setrandompin", "setrandompin",
	  1, 0 },
	{ "POST", "/token/description", api_token_description, ROLE_ANY, "token_set", "setdescription", 1, 0 },
	{ "POST", "/token/description/<serial>", api_token_description, ROLE_ANY, "token_set", "setdescription", 1, 0 },
	{ "POST", "/token/set", api_token_set, ROLE_ADMIN, "token_set", "set", 1, 0 },
	{ "POST", "/token/set/<serial>", api_token_set, ROLE_ADMIN, "token_set", "set", 1, 0 },
	{ "POST", "/token/realm/<serial>", api_token_realm, ROLE_ADMIN, "token_realm", "tokenrealms", 1, 0 },
	{ "POST", "/token/load/<filename>", api_token_load, ROLE_ADMIN, "token_load", "importtokens", 1, 0 },
	{ "POST", "/token/copypin", api_token_copypin, ROLE_ADMIN, "token_copypin", "copytokenpin", 1, 0 },
	{ "POST", "/token/copyuser", api_token_copyuser, ROLE_ADMIN, "token_copyuser", "copytokenuser", 1, 0 },
	{ "POST", "/token/lost/<serial>", api_token_lost, ROLE_ANY, "token_lost", "losttoken", 1, 0 },
	{ "GET", "/token/getserial/<otp>", api_token_getserial, ROLE_ADMIN, "token_getserial", "getserial", 1, 0 },
	{ "POST", "/token/info/<serial>/<key>", api_token_info_set, ROLE_ADMIN, "token_info", "settokeninfo", 1, 0 },
	{ "DELETE", "/token/info/<serial>/<key>", api_token_info_delete, ROLE_ADMIN, "token_info", "settokeninfo", 1, 0 },
	{ "DELETE", "/token/<serial>", api_token_delete, ROLE_ANY, "token_delete", "delete", 1, 0 },

	/* ---- /validate (tokens) ---- */
	{ "GET", "/validate/check", api_validate_check, ROLE_NONE, "validate_check", NULL, 2, 0 },
	{ "POST", "/validate/check", api_validate_check, ROLE_NONE, "validate_check", NULL, 2, 0 },
	{ "GET", "/validate/samlcheck", api_validate_samlcheck, ROLE_NONE, "validate_check", NULL, 2, 0 },
	{ "POST", "/validate/samlcheck", api_validate_samlcheck, ROLE_NONE, "validate_check", NULL, 2, 0 },
	{ "GET", "/validate/radiuscheck", api_validate_radiuscheck, ROLE_NONE, "validate_check", NULL, 2, 0 },
	{ "POST", "/validate/radiuscheck", api_validate_radiuscheck, ROLE_NONE, "validate_check", NULL, 2, 0 },
	{ "GET", "/validate/triggerchallenge", api_validate_triggerchallenge, ROLE_ADMIN, "validate_triggerchallenge",
	  "triggerchallenge", 2, 0 },
	{ "POST", "/validate/triggerchallenge", api_validate_triggerchallenge, ROLE_ADMIN, "validate_triggerchallenge",
	  "triggerchallenge", 2, 0 },
	{ "GET", "/validate/polltransaction", api_validate_polltransaction, ROLE_NONE, "validate_polltransaction", NULL, 1,
	  0 },
	{ "GET", "/validate/polltransaction/<transaction_id>", api_validate_polltransaction, ROLE_NONE,
	  "validate_polltransaction", NULL, 1, 0 },

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
	{ "GET", "/policy/", api_policy_list, ROLE_ADMIN, NULL, "policyread", 1, 0 },
	{ "GET", "/policy/check", api_policy_check, ROLE_ADMIN, NULL, NULL, 1, 0 },
	{ "GET", "/policy/defs", api_policy_defs, ROLE_ADMIN, NULL, NULL, 1, 0 },
	{ "GET", "/policy/defs/<scope>", api_policy_defs, ROLE_ADMIN, NULL, NULL, 1, 0 },
	{ "GET", "/policy/export/<export>", api_policy_export, ROLE_ADMIN, NULL, "policyread", 1, 0 },
	{ "POST", "/policy/import/<filename>", api_policy_import, ROLE_ADMIN, NULL, "policywrite", 1, 0 },
	{ "POST", "/policy/enable/<name>", api_policy_enable, ROLE_ADMIN, NULL, "policywrite", 1, 0 },
	{ "POST", "/policy/disable/<name>", api_policy_disable, ROLE_ADMIN, NULL, "policywrite", 1, 0 },
	{ "GET", "/policy/<name>", api_policy_get, ROLE_ADMIN, NULL, "policyread", 1, 0 },
	{ "POST", "/policy/<name>", api_policy_set, ROLE_ADMIN, NULL, "policywrite", 1, 0 },
	{ "DELETE", "/policy/<name>", api_policy_delete, ROLE_ADMIN, NULL, "policydelete", 1, 0 },

	/* ---- /caconnector, /ocsp (certificates) ---- */
	{ "GET", "/caconnector/", api_caconnector_get, ROLE_ADMIN, "get_caconnector_api", "caconnectorread", 1, 0 },
	{ "GET", "/caconnector/specific/<catype>", api_caconnector_specific, ROLE_ADMIN, "get_caconnector_specific",
	  "caconnectorread", 1, 0 },
	/* beyond privacyIDEA: the CRL (public, as a CRL distribution point) ... */
	{ "GET", "/caconnector/<caconnector>/crl", api_caconnector_crl, ROLE_NONE, "get_caconnector_crl", NULL, 1, 0 },
	/* ... and the approval mode of the local CA */
	{ "GET", "/caconnector/<caconnector>/requests", api_caconnector_requests, ROLE_ADMIN, "list_ca_requests",
	  "caconnectorread", 1, 0 },
	{ "POST", "/caconnector/<caconnector>/requests/<request_id>/approve", api_caconnector_approve, ROLE_ADMIN,
	  "approve_ca_request", "caconnectorwrite", 1, 0 },
	{ "POST", "/caconnector/<caconnector>/requests/<request_id>/reject", api_caconnector_reject, ROLE_ADMIN,
	  "reject_ca_request", "caconnectorwrite", 1, 0 },
	{ "GET", "/caconnector/<caconnector>", api_caconnector_get, ROLE_ADMIN, "get_caconnector_api", "caconnectorread",
	  1, 0 },
	{ "POST", "/caconnector/<caconnector>", api_caconnector_post, ROLE_ADMIN, "save_caconnector_api",
	  "caconnectorwrite", 1, 0 },
	{ "DELETE", "/caconnector/<caconnector>", api_caconnector_delete, ROLE_ADMIN, "delete_caconnector_api",
	  "caconnectordelete", 1, 0 },
	/* beyond privacyIDEA: RFC 6960 OCSP for relying parties (no JWT); GET carries the
	 * base64 request in the rest of the path, which may contain '/' */
	{ "POST", "/ocsp/<caconnector>", api_ocsp_post, ROLE_NONE, "ocsp", NULL, 1, 0 },
	{ "GET", "/ocsp/<caconnector>/<ocsp_request*>", api_ocsp_get, ROLE_NONE, "ocsp", NULL, 1, 0 },

	{ NULL, NULL, NULL, ROLE_NONE, NULL, NULL, 0, 0 },
};
