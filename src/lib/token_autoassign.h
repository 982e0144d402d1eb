/*
 * token_autoassign.h — enrollment.autoassignment (privacyIDEA's
 * postpolicy.autoassign on /validate/check).
 */
#ifndef TESSERA_TOKEN_AUTOASSIGN_H
#define TESSERA_TOKEN_AUTOASSIGN_H

#include "token.h"

/* After a failed /validate/check of u (not the /auth login: privacyIDEA
 * runs it as a post-policy of /validate/check only): when the policy applies and u has
 * no token, the first unassigned active token of u's realm whose OTP
 * matches (with any PIN, or u's user-store password for "userstore") is
 * assigned to u with that PIN and the answer becomes a success.
 * 1 assigned (res updated), 0 nothing done, -1 error. */
int token_autoassign(struct token_ctx *x, const struct user *u, const char *pass, struct token_auth_result *res,
		     struct error *err);

#endif
