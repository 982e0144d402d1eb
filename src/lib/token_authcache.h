/*
 * token_authcache.h — authentication.auth_cache around check_user_pass
 * (privacyIDEA's policydecorators.auth_cache and lib/authcache.py).
 */
#ifndef TESSERA_TOKEN_AUTHCACHE_H
#define TESSERA_TOKEN_AUTHCACHE_H

#include "token.h"

/* Before the check: when the policy applies to u, *on = 1 and the same
 * credentials cached within the policy's window are accepted: 1 (res
 * filled: "Authenticated by AuthCache."), 0 go on, -1 error. */
int token_authcache_check(struct token_ctx *x, const struct user *u, const char *pass, int *on,
			  struct token_auth_result *res, struct error *err);
/* After a successful check (only when *on was set): cache the credentials
 * as a salted keyed hash.  0 ok, -1 error. */
int token_authcache_add(struct token_ctx *x, const struct user *u, const char *pass, struct error *err);

#endif
