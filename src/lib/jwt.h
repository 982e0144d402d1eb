/*
 * jwt.h — HS256 JSON Web Tokens for /auth, on OpenSSL HMAC.
 *
 * Only HS256 is accepted: a token whose header says anything else
 * (including "none") is rejected.  The MAC is compared in constant time.
 */
#ifndef TESSERA_JWT_H
#define TESSERA_JWT_H

#include <jansson.h>
#include "error.h"

/* Serialise claims (compact JSON) and sign: header {"alg":"HS256","typ":"JWT"}.
 * Returns malloc'd token. */
char *jwt_encode(const json_t *claims, const char *secret, struct error *err);
/* Verify signature, algorithm and "exp" (if present, against now).
 * Success: *claims_out = new reference. Failure: AuthError 4304 (decode /
 * bad signature / bad alg) or 4305 (expired), messages as privacyIDEA's:
 * "Authentication failure. Error during decoding your token: <why>" and
 * "Authentication failure. Your token has expired: <why>". */
int jwt_decode(const char *token, const char *secret, long long now, json_t **claims_out,
	       struct error *err);

#endif
