/*
 * authcheck.h — checking the caller's JWT against the role a route needs.
 */
#ifndef TESSERA_AUTHCHECK_H
#define TESSERA_AUTHCHECK_H

#include "request.h"

/* Reads PI-Authorization (preferred) or Authorization ("Bearer " prefix
 * tolerated), verifies the HS256 JWT with SECRET_KEY and fills rq->who.
 * `need` is ROLE_ADMIN or ROLE_ANY.  Errors are privacyIDEA's 4033, 4304,
 * 4305, 4306 AuthErrors. */
int authcheck_request(struct request *rq, enum role need, struct error *err);

#endif
