/*
 * api.h — the REST handlers, one file per privacyIDEA blueprint.
 * Each handler parses its parameters, checks rights, calls src/lib/ and
 * returns result.value; the envelope is built by src/http/reply.c.
 */
#ifndef TESSERA_API_H
#define TESSERA_API_H

#include "../http/request.h"

/* auth.c */
int api_auth_post(struct request *rq, json_t **value, struct error *err);
int api_auth_rights(struct request *rq, json_t **value, struct error *err);
/* healthz.c */
int api_healthz(struct request *rq, json_t **value, struct error *err);
int api_healthz_livez(struct request *rq, json_t **value, struct error *err);
int api_healthz_startupz(struct request *rq, json_t **value, struct error *err);
int api_healthz_readyz(struct request *rq, json_t **value, struct error *err);

/* ---- resolver.c, realm.c, user.c ---- */
int api_resolver_get(struct request *rq, json_t **value, struct error *err);
int api_resolver_post(struct request *rq, json_t **value, struct error *err);
int api_resolver_delete(struct request *rq, json_t **value, struct error *err);
int api_resolver_test(struct request *rq, json_t **value, struct error *err);
int api_realm_list(struct request *rq, json_t **value, struct error *err);
int api_realm_superuser(struct request *rq, json_t **value, struct error *err);
int api_realm_post(struct request *rq, json_t **value, struct error *err);
int api_realm_delete(struct request *rq, json_t **value, struct error *err);
int api_defaultrealm_get(struct request *rq, json_t **value, struct error *err);
int api_defaultrealm_post(struct request *rq, json_t **value, struct error *err);
int api_defaultrealm_delete(struct request *rq, json_t **value, struct error *err);
int api_user_list(struct request *rq, json_t **value, struct error *err);
int api_user_attribute_get(struct request *rq, json_t **value, struct error *err);
int api_user_attribute_post(struct request *rq, json_t **value, struct error *err);
int api_user_attribute_delete(struct request *rq, json_t **value, struct error *err);
int api_user_editable_attributes(struct request *rq, json_t **value, struct error *err);
int api_user_create(struct request *rq, json_t **value, struct error *err);
int api_user_update(struct request *rq, json_t **value, struct error *err);
int api_user_delete(struct request *rq, json_t **value, struct error *err);

/* ---- token.c ---- */
int api_token_init(struct request *rq, json_t **value, struct error *err);
int api_token_list(struct request *rq, json_t **value, struct error *err);
int api_token_challenges(struct request *rq, json_t **value, struct error *err);
int api_token_assign(struct request *rq, json_t **value, struct error *err);
int api_token_unassign(struct request *rq, json_t **value, struct error *err);
int api_token_revoke(struct request *rq, json_t **value, struct error *err);
int api_token_enable(struct request *rq, json_t **value, struct error *err);
int api_token_disable(struct request *rq, json_t **value, struct error *err);
int api_token_reset(struct request *rq, json_t **value, struct error *err);
int api_token_delete(struct request *rq, json_t **value, struct error *err);
int api_token_resync(struct request *rq, json_t **value, struct error *err);
int api_token_setpin(struct request *rq, json_t **value, struct error *err);
int api_token_setrandompin(struct request *rq, json_t **value, struct error *err);
int api_token_description(struct request *rq, json_t **value, struct error *err);
int api_token_set(struct request *rq, json_t **value, struct error *err);
int api_token_realm(struct request *rq, json_t **value, struct error *err);
int api_token_load(struct request *rq, json_t **value, struct error *err);
int api_token_copypin(struct request *rq, json_t **value, struct error *err);
int api_token_copyuser(struct request *rq, json_t **value, struct error *err);
int api_token_lost(struct request *rq, json_t **value, struct error *err);
int api_token_getserial(struct request *rq, json_t **value, struct error *err);
int api_token_info_set(struct request *rq, json_t **value, struct error *err);
int api_token_info_delete(struct request *rq, json_t **value, struct error *err);

/* ---- validate.c ---- */
int api_validate_check(struct request *rq, json_t **value, struct error *err);
int api_validate_samlcheck(struct request *rq, json_t **value, struct error *err);
int api_validate_radiuscheck(struct request *rq, json_t **value, struct error *err);
int api_validate_triggerchallenge(struct request *rq, json_t **value, struct error *err);
int api_validate_polltransaction(struct request *rq, json_t **value, struct error *err);

/* ---- system.c ---- */
int api_system_get_all(struct request *rq, json_t **value, struct error *err);
int api_system_get(struct request *rq, json_t **value, struct error *err);
int api_system_set_config(struct request *rq, json_t **value, struct error *err);
int api_system_set_default(struct request *rq, json_t **value, struct error *err);
int api_system_delete(struct request *rq, json_t **value, struct error *err);
int api_system_random(struct request *rq, json_t **value, struct error *err);
int api_system_hsm_get(struct request *rq, json_t **value, struct error *err);
int api_system_hsm_set(struct request *rq, json_t **value, struct error *err);
int api_system_documentation(struct request *rq, json_t **value, struct error *err);
int api_system_gpgkeys(struct request *rq, json_t **value, struct error *err);
int api_system_names_radius(struct request *rq, json_t **value, struct error *err);
int api_system_names_caconnector(struct request *rq, json_t **value, struct error *err);

/* ---- policy.c ---- */
int api_policy_list(struct request *rq, json_t **value, struct error *err);
int api_policy_get(struct request *rq, json_t **value, struct error *err);
int api_policy_set(struct request *rq, json_t **value, struct error *err);
int api_policy_delete(struct request *rq, json_t **value, struct error *err);
int api_policy_enable(struct request *rq, json_t **value, struct error *err);
int api_policy_disable(struct request *rq, json_t **value, struct error *err);
int api_policy_check(struct request *rq, json_t **value, struct error *err);
int api_policy_defs(struct request *rq, json_t **value, struct error *err);
int api_policy_export(struct request *rq, json_t **value, struct error *err);
int api_policy_import(struct request *rq, json_t **value, struct error *err);
/* The request side of policy conditions: headers and the WSGI-style
 * environment (PATH_INFO, REQUEST_METHOD, REMOTE_ADDR, HTTP_<HEADER>);
 * ctx is the struct request.  api_policy_env fills both into env. */
struct policy_env;
const char *api_policy_header(void *ctx, const char *name);
const char *api_policy_environ(void *ctx, const char *key);
void api_policy_env(struct request *rq, struct policy_env *env);

/* ---- caconnector.c ---- */
int api_caconnector_get(struct request *rq, json_t **value, struct error *err);
int api_caconnector_post(struct request *rq, json_t **value, struct error *err);
int api_caconnector_delete(struct request *rq, json_t **value, struct error *err);
int api_caconnector_specific(struct request *rq, json_t **value, struct error *err);
int api_caconnector_crl(struct request *rq, json_t **value, struct error *err);
int api_caconnector_requests(struct request *rq, json_t **value, struct error *err);
int api_caconnector_approve(struct request *rq, json_t **value, struct error *err);
int api_caconnector_reject(struct request *rq, json_t **value, struct error *err);
int api_ocsp_post(struct request *rq, json_t **value, struct error *err);
int api_ocsp_get(struct request *rq, json_t **value, struct error *err);

#endif
