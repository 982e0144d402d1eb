/*
 * pinhandling.h — privacyIDEA's PIN handler modules (enrollment.pinhandling):
 * called with a random PIN set at enrollment (enrollment.otp_pin_random).
 */
#ifndef TESSERA_PINHANDLING_H
#define TESSERA_PINHANDLING_H

#include "error.h"

struct user;

/* The one handler privacyIDEA ships (and the only value the policy takes). */
#define PINHANDLING_BASE "privacyidea.lib.pinhandling.base.PinHandler"

/* Hand the PIN of token `serial` (NULL: "N/A") of user u (may be NULL) to
 * the handler `module`, enrolled by by_user@by_realm.  0 done, -1 unknown
 * module (ERR905). */
int pinhandling_send(const char *module, const char *pin, const char *serial, const struct user *u,
		     const char *tokentype, const char *by_user, const char *by_realm, struct error *err);

#endif
