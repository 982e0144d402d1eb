/*
 * token_prepolicy.h — privacyIDEA's pre-policies of the /token endpoints
 * that enroll and set PINs (api/lib/prepolicy.py: check_max_token_user,
 * check_max_token_realm, enroll_pin, init_random_pin, encrypt_pin,
 * check_otp_pin, init_tokenlabel, init_token_defaults, set_random_pin).
 * Like privacyIDEA they run before the handler's work and either refuse
 * (PolicyError 303, HTTP 403) or rewrite the request parameters.
 */
#ifndef TESSERA_API_TOKEN_PREPOLICY_H
#define TESSERA_API_TOKEN_PREPOLICY_H

#include <jansson.h>

#include "../http/request.h"
#include "../lib/polctx.h"
#include "../lib/token.h"

/* The user of the request: NULL when none (admin without user/realm). */

/* Policy questions of the /token pre-policies.  tpp_role_q:
 * Match.admin_or_user — admins with their adminuser/adminrealm and the user
 * (or realm) acted upon, users as themselves (u is then the logged-in
 * user).  tpp_enroll_q: Match.user(scope=enrollment) — the user, else the
 * realm, else the action only. */
void tpp_role_q(struct request *rq, const char *action, const struct user *u, struct polq *q);
void tpp_enroll_q(const char *action, const struct user *u, struct polq *q);

/* The enrollment limits (max_token_per_realm, max_token_per_user & co)
 * that applied to a request.  tpp_init / tpp_assign / tpp_enable count
 * before the handler's transaction (privacyIDEA's pre-policies) and, when
 * a limit applied, point x->limit_check at this record (the caller's, it
 * must outlive the token_* call), so the library counts again under a
 * transaction lock on the realm / user: concurrent requests cannot both
 * pass one limit. */
struct tpp_limit {
	int realm_limit, user_limit; /* which limits applied */
	char realm[256];             /* the realm counted                   */
	struct user owner;           /* the user whose tokens are counted   */
	char serial[128];            /* the token named by the request      */
	char type[64];               /* the request's `type` …              */
	int has_type;                /* … when given                        */
};

/* POST /token/init: every pre-policy in privacyIDEA's order; params (the
 * handler's copy) may get pin, encryptpin, tokenlabel, tokenissuer,
 * appimageurl, force_app_pin, hashlib, otplen, timeStep or lose pin /
 * encryptpin. */
int tpp_init(struct request *rq, struct token_ctx *x, const struct user *u, json_t *params, struct tpp_limit *lim,
	     struct error *err);

/* POST /token/assign: max_token_realm, max_token_user, encrypt_pin,
 * check_otp_pin.  *encrypt gets the effective encryptpin. */
int tpp_assign(struct request *rq, struct token_ctx *x, const struct user *u, const char *serial, const char *pin,
	       int *encrypt, struct tpp_limit *lim, struct error *err);

/* POST /token/setpin: encrypt_pin, check_otp_pin (on the otppin, "" when
 * not given). */
int tpp_setpin(struct request *rq, struct token_ctx *x, const struct user *u, const char *serial,
	       const char *otppin, int *encrypt, struct error *err);

/* POST /token/enable: check_max_token_user (serial or user). */
int tpp_enable(struct request *rq, struct token_ctx *x, const struct user *u, const char *serial,
	       struct tpp_limit *lim, struct error *err);

/* POST /token/setrandompin: set_random_pin + encrypt_pin.  *pin NULL when
 * no otp_pin_set_random policy applies (malloc'd otherwise; the caller
 * wipes it). */
int tpp_random_pin(struct request *rq, struct token_ctx *x, const struct user *u, const char *serial, char **pin,
		   int *encrypt, struct error *err);

/* After a successful /token/init or /token/setpin (privacyIDEA's
 * save_pin_change post-policy): enrollment.change_pin_on_first_use
 * (admins) and change_pin_every (users who set a PIN) write tokeninfo
 * next_pin_change. */
int tpp_pin_change(struct request *rq, struct token_ctx *x, const char *serial, int pin_given, struct error *err);

#endif
