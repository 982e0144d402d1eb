/*
 * token_multichallenge.h — the challenge dialogues of /validate/check that
 * policies switch on (token_multichallenge.c):
 *
 *   authentication.change_pin_via_validate   a due PIN change asks for the
 *       new PIN twice (privacyIDEA's generic_challenge_response_reset_pin)
 *   authentication.resync_via_multichallenge an OTP in the sync window asks
 *       for the next OTP (generic_challenge_response_resync)
 *   authentication.enroll_via_multichallenge a user without a token of the
 *       type gets one enrolled after a successful authentication
 *       (postpolicy multichallenge_enroll_via_validate)
 *   authentication.preferred_client_mode     (postpolicy preferred_client_mode)
 *
 * The first two are called by src/lib/token_auth.c (around its decision,
 * inside check_token_list), the last two by src/api/validate.c.
 */
#ifndef TESSERA_TOKEN_MULTICHALLENGE_H
#define TESSERA_TOKEN_MULTICHALLENGE_H

#include <jansson.h>

#include "error.h"
#include "token.h"

struct polq;
struct user;

/* Challenge.challenge of the generic challenges (privacyIDEA's CHALLENGE_TYPE). */
#define TMC_PIN_RESET "generic_pin_reset"
#define TMC_RESYNC "generic_resync"

/* Validity (seconds) of a challenge of a token of this type:
 * DefaultChallengeValidityTime, then <Type>ChallengeValidityTime. */
long tmc_challenge_validity(struct token_ctx *x, const char *tokentype);

/* next_pin_change and pin_change (a bool: the date has passed) of t into
 * reply when the tokeninfo has next_pin_change, as check_token_list and
 * create_challenges_from_tokens add them. */
void tmc_pin_change_fields(const struct token *t, json_t *reply);

/* Before the check (the wrapper's first half): an answer to a PIN change
 * challenge of transaction txid for one of the tokens in l.  u is the
 * authenticating user or NULL (the PIN policies are then matched with the
 * token).  1 handled (*success, *reply (new) set; *serial points into l),
 * 0 not such an answer, -1 error (a PIN refused by the otp_pin_* policies
 * is PolicyError 303; nothing is changed). */
int tmc_pin_reset_answer(struct token_ctx *x, struct token_list *l, const char *txid, const char *pass,
			 const struct user *u, int *success, json_t **reply, struct error *err);

/* After the decision, inside the check's write transaction (the wrappers'
 * second halves, inner first): resync_via_multichallenge on a failure
 * naming a token with otp1c; change_pin_via_validate on a success naming a
 * token whose PIN change is due.  *reply may be replaced, *success cleared.
 * 0 ok, -1 error. */
int tmc_after_check(struct token_ctx *x, struct token **toks, size_t n, int *success, json_t **reply,
		    struct error *err);

/* multichallenge_enroll_via_validate for user u (login and realm set) after
 * an accepted authentication: when the user has no token of the policy's
 * type, enroll one and answer with its challenge.  *detail (may be NULL) is
 * extended; *enrolled = 1 when the answer became a challenge.  0 ok, -1
 * error. */
int tmc_enroll_via_multichallenge(struct token_ctx *x, const struct user *u, const struct polq *subject,
				  json_t **detail, int *enrolled, struct error *err);

/* preferred_client_mode: with a non-empty multi_challenge in detail, the
 * first mode of the policy's list (default "interactive webauthn poll u2f")
 * among the challenges' client modes, else "interactive".  subject gives
 * whom the policy is matched with (scope/action are set here). */
int tmc_preferred_client_mode(struct token_ctx *x, const struct polq *subject, json_t *detail, struct error *err);

#endif
