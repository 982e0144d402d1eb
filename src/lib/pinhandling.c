/*
 * pinhandling.c — the PIN handler of enrollment.pinhandling.  privacyIDEA's
 * base PinHandler only writes log lines; so does this one, but it never
 * writes the PIN (privacyIDEA's does: docs/compatibility.md).  No I/O
 * besides the log, no policy questions (the caller asks them).
 */
#include "pinhandling.h"

#include <string.h>

#include "log.h"
#include "user.h"

/* A copy of s for the log: at most 200 bytes, control characters as '?'
 * (names come from requests and user stores). */
static const char *clean(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	for (; s && s[i] && i + 1 < len && i < 200; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

int pinhandling_send(const char *module, const char *pin, const char *serial, const struct user *u,
		     const char *tokentype, const char *by_user, const char *by_realm, struct error *err)
{
	(void)pin; /* never logged */
	if (!module || strcmp(module, PINHANDLING_BASE))
		return err_param(err, "Unknown PIN handler module '%s'.", module ? module : "");
	char a[256], b[256], c[256], d[256];
	log_info("PinHandler: handling the random PIN of the %s token %s of user %s@%s",
		 clean(tokentype ? tokentype : "hotp", a, sizeof(a)), clean(serial && *serial ? serial : "N/A", b, sizeof(b)),
		 clean(u ? u->login : "", c, sizeof(c)), clean(u ? u->realm : "", d, sizeof(d)));
	log_info("PinHandler: the token was enrolled by %s@%s", clean(by_user, a, sizeof(a)), clean(by_realm, b, sizeof(b)));
	return 0;
}
