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

/* ---- token.c ---- */

/* ---- validate.c ---- */

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

/* ---- caconnector.c ---- */

#endif
