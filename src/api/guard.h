/*
 * guard.h — the admin/user rights of every endpoint (privacyIDEA's
 * check_base_action and the realm restrictions of its list endpoints).
 *
 * The server calls api_guard() for every authenticated route before its
 * handler: the route's policy action (routes.c) is checked in the caller's
 * scope ("admin" or "user"), matched against the user, realm and resolver
 * the request acts upon.  Handlers that act on objects found only while
 * they run (a token's realms, each item of a list) use the finer helpers.
 * docs/rights.md lists what each endpoint checks (`tessera routes`).
 */
#ifndef TESSERA_API_GUARD_H
#define TESSERA_API_GUARD_H

#include <jansson.h>

#include "../http/request.h"
#include "../lib/polctx.h"

struct user;
struct token;
struct store_realm_limit;

/* A route action starting with this prefix is not checked by the guard:
 * the handler reduces its list to what the caller may see with the action
 * named after the prefix ("filter:tokenlist": GET /token/ shows an admin
 * only the tokens of the realms his tokenlist policies name, and nothing
 * when admin policies exist but none grants tokenlist). */
#define API_ACTION_FILTER "filter:"
/* A route action starting with this prefix is checked for admins only; a
 * user acts on his own objects ("admin:userlist" for GET /user/attribute:
 * privacyIDEA checks nothing there, Tessera keeps a realm-restricted admin
 * out of other realms' users). */
#define API_ACTION_ADMIN "admin:"

/* The request's policy context (policies of its snapshot, client IP, this
 * node, headers, the audit "policies" field).  -1 when the snapshot cannot
 * be had. */
int api_polctx(struct request *rq, struct polctx *p, struct error *err);

/* The same, built once per request and kept in rq->pol (for token_ctx.pol
 * and other long-lived users).  NULL on error. */
const struct polctx *api_request_polctx(struct request *rq, struct error *err);
/* A copy of the request's context (sharing its userinfo cache) in *p. */
int api_polctx_cached(struct request *rq, struct polctx *p, struct error *err);
/* Free what api_request_polctx built (the server, after the response). */
void api_request_polctx_free(struct polctx *p);

/* Before the handler: the route's action in the caller's scope.  0 allowed
 * (or nothing to check), -1 with PolicyError 303 (HTTP 403). */
int api_guard(struct request *rq, struct error *err);

/* The route's action name for this request ("enroll<TYPE>" → "enrollHOTP"
 * from the type parameter); NULL when the guard checks none (no action,
 * or a "filter:" action). */
const char *api_route_action(struct request *rq, char *buf, size_t len);

/* check_base_action for an explicit target: the caller's scope, action,
 * target user (may be NULL) or else realm (may be NULL).  0 / -1 (303). */
int api_check_right(struct request *rq, const char *action, const struct user *u, const char *realm,
		    struct error *err);
/* The same for a user of a resolver (the resolver decides the realm):
 * allowed when the admin may act on the user in one of the realms that
 * contain the resolver (a resolver in no realm: empty realm).  Users: 0
 * (the guard checked them). */
int api_check_resolver_user_right(struct request *rq, const char *action, const char *login, const char *resolver,
				  struct error *err);
/* The same for a token: its owner, else any of its realms must be allowed
 * (a token in no realm: the realm filter is not applied). */
int api_check_token_right(struct request *rq, const char *action, struct token *t, struct error *err);

/* For list endpoints of admins: the realms in which the caller may use
 * action (union of the realm lists of the matching admin policies).
 * *realms = NULL when unrestricted (no admin policy at all, or a matching
 * policy without realms); else a new array (maybe empty: nothing allowed).
 * Users: always NULL (their lists are their own objects). */
int api_allowed_realms(struct request *rq, const char *action, json_t **realms, struct error *err);

/* api_allowed_realms as realm ids for the store filters (lim->on = 0:
 * unrestricted; on with n = 0: nothing visible). */
int api_realm_limit(struct request *rq, const char *action, struct store_realm_limit *lim, struct error *err);

#endif
