/*
 * token_oath_policy.h — the HOTP/TOTP enrollment pre-policies of POST
 * /token/init that rewrite the request (privacyIDEA's
 * api/lib/prepolicy.py twostep_enrollment_activation,
 * twostep_enrollment_parameters, and the <type>_force_server_generate
 * check).  The two-step key derivation itself is src/lib/tokens/oath.c;
 * enrollment.verify_enrollment is decided in src/lib/token_init.c.
 */
#ifndef TESSERA_API_TOKEN_OATH_POLICY_H
#define TESSERA_API_TOKEN_OATH_POLICY_H

#include <jansson.h>

#include "../http/request.h"
#include "../lib/token.h"

/* After tpp_init, before token_init.  u: the user of the request (NULL
 * when none).  params (the handler's copy) may gain 2stepinit,
 * 2step_serversize/_clientsize/_difficulty, genkey, or lose 2stepinit,
 * otpkey, otpkeyformat.  PolicyError 303 for an unknown 2step value. */
int tpp_oath_init(struct request *rq, struct token_ctx *x, const struct user *u, json_t *params,
		  struct error *err);

#endif
