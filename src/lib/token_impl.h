/*
 * token_impl.h — what the token core's files share privately
 * (token.c, token_init.c, token_auth.c, token_admin.c, token_list.c and the
 * flows around the check: token_authcache.c, token_autoassign.c,
 * token_multichallenge.c).
 */
#ifndef TESSERA_TOKEN_IMPL_H
#define TESSERA_TOKEN_IMPL_H

#include "token.h"

/* Options of one enrollment inside an open write transaction. */
struct token_enroll_opts {
	const struct user *owner;   /* NULL / empty: unassigned                  */
	json_t *tokenrealms;        /* extra realm names (array) or NULL         */
	const char *tokenkind;      /* "hardware" for imports, NULL: the type's  */
	int caller_is_user;         /* a user may only re-initialise own tokens  */
	int want_detail;
};
/* Create or re-initialise one token from params (privacyIDEA's init_token)
 * in the caller's write transaction.  *out (may be NULL) gets the token,
 * *detail (may be NULL) the enrollment details. */
int token_enroll_txn(struct token_ctx *x, json_t *params, const struct token_enroll_opts *o, struct token **out,
		     json_t **detail, struct error *err);

/* privacyIDEA's parse_timedelta: "[+-]<n><s|m|h|d|y>" (y = 365 days),
 * blanks allowed around the parts.  0 ok, -1 unsupported (token_auth.c). */
int token_parse_timedelta(const char *s, long long *secs);

/* 1 when the token belongs to the user u. */
int token_owned_by(const struct token *t, const struct user *u);
/* Set the owner (and add the owner's realm to the token realms). */
int token_set_owner(struct token_ctx *x, struct token *t, const struct user *u, struct error *err);
/* failcount back to 0 and failcounter_exceeded removed (TokenClass.reset). */
int token_reset_failcount(struct token_ctx *x, struct token *t, struct error *err);

#endif
