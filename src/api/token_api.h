/*
 * token_api.h — helpers the /token and /validate handlers share
 * (token.c, validate.c): the token context of a request and the user a
 * request names, with privacyIDEA's user-role rewriting.
 */
#ifndef TESSERA_TOKEN_API_H
#define TESSERA_TOKEN_API_H

#include "../http/request.h"
#include "../lib/token.h"
#include "../lib/user.h"

/* The request's app, connection and snapshot. */
int token_api_ctx(struct request *rq, struct token_ctx *x, struct error *err);
/* The user of the request: for a user JWT always the caller (user, realm,
 * resolver parameters are overwritten, api.md §1.3), else the `user` /
 * `realm` / `resolver` parameters.  0 = a user, 1 = none given,
 * -1 = error (ERR904 unknown user …). */
int token_api_user(struct request *rq, struct token_ctx *x, struct user *u, struct error *err);
/* Fill the audit row's user, realm and resolver. */
void token_api_audit_user(struct request *rq, const struct user *u);

#endif
