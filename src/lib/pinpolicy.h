/*
 * pinpolicy.h — PIN content policies (otp_pin_contents syntax, see
 * ../shared/spec/policies_events.md §1.6) and policy-conformant random
 * PINs.  Pure string functions (pinpolicy.c).
 */
#ifndef TESSERA_PINPOLICY_H
#define TESSERA_PINPOLICY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PIN_MAX_REQ 64

/* privacyIDEA's generate_charlists_from_pin_policy: the allowed base
 * characters and the groups of which one character each is required. */
struct pin_charlists {
	char *base;
	char *req[PIN_MAX_REQ];
	size_t n_req;
};

/* PolicyError 303 "Unknown character specifier in PIN policy." for a bad
 * specifier. */
int pinpolicy_charlists(const char *policy, struct pin_charlists *cl, struct error *err);
void pinpolicy_charlists_free(struct pin_charlists *cl);

/* check_pin_contents: 1 ok, 0 refused (comment gets privacyIDEA's text,
 * e.g. "Missing character in PIN: 0123456789"), -1 bad policy. */
int pinpolicy_check_contents(const char *pin, const char *policy, char *comment, size_t len, struct error *err);

/* Characters (code points) of a UTF-8 string, as Python's len(). */
size_t pinpolicy_strlen(const char *s);

/* A random PIN of size characters following policy (NULL: letters and
 * digits).  *out malloc'd (the caller wipes and frees it). */
int pinpolicy_random(const char *policy, size_t size, char **out, struct error *err);

#endif
