/*
 * otpauth.h — the enrollment URLs of HOTP/TOTP tokens (Google Authenticator
 * "otpauth://" key URI, the "oathtoken://" URL) and their QR codes as PNG
 * data URIs, built the way privacyIDEA 3.8 builds them (lib/apps.py
 * create_google_authenticator_url / create_oathtoken_url, lib/utils
 * create_img).  Pure: no database, no policies — the caller resolves
 * tokenlabel / tokenissuer / appimageurl policies and passes the values.
 *
 * otpauth URL (privacyIDEA 3.8):
 *   otpauth://<type>/<label>?secret=<B32>&[counter=1&][algorithm=<h>&]
 *            [period=<p>&]digits=<d>&issuer=<issuer><extra>
 *   - type: "hotp" for any case of "hotp" (then "counter=1&", always 1);
 *     any other value verbatim; "period=<p>&" when type.lower() == "totp".
 *   - secret: RFC 4648 base32 of the key, '=' padding stripped.
 *   - label: tokenlabel (default "<s>") with "<s>" → serial, "<u>" → user,
 *     "<r>" → realm replaced, then Python str.format with {serial} {user}
 *     {realm} {givenname} {surname} ("{{" / "}}" are literal braces); then
 *     cut to 180 - len("otpauth://<type>/?secret=<B32>&counter=1")
 *     characters (Python slice semantics: a negative length cuts from the
 *     end); then urllib.parse.quote (UTF-8, safe "/": A-Z a-z 0-9 _ . - ~ /
 *     stay, all else %XX uppercase).
 *   - issuer: tokenissuer (default "privacyIDEA") through the same format
 *     (no <x> replacement, no cut), quoted.
 *   - algorithm: the hashlib parameter verbatim (privacyIDEA writes e.g.
 *     "algorithm=sha256"), omitted when it is sha1 in any case.
 *   - extra: key=value pairs, both quoted, appended with "&" in the given
 *     order (privacyIDEA: 2step_salt, 2step_output, 2step_difficulty, then
 *     image = appimageurl).
 *   A template that str.format rejects (unknown {name}, single brace …)
 *   makes privacyIDEA log the error and leave googleurl out of the init
 *   details; here the function fails (ERR_PARAMETER) and the caller leaves
 *   it out.  The "<i>" tag does not exist in privacyIDEA and is not
 *   replaced.
 * Newer privacyIDEA (3.10+, as in the recorded 3.12.3 traffic) adds
 * "creator=privacyidea&" before issuer and "&serial=<serial>" after it:
 * set creator / add_serial to produce that form.
 *
 * oathtoken URL: oathtoken:///addToken?name=<quote(label)>&lockdown=true
 *   &key=<otpkey hex as given>[&timeBased=true]<extra>, the label with only
 *   the <s>/<u>/<r> replacement (no format, no cut).
 *
 * QR code (create_img → qrcode.make): error correction M, smallest version
 * that fits, box size 10 pixels, border 4 modules, 1-bit grayscale PNG,
 * "data:image/png;base64,<PNG>".  Pixels need not equal privacyIDEA's (mode
 * segmentation may differ) but the code decodes to the same text.
 *
 * Every returned string contains the token secret: free it with
 * crypto_free_str (wipes).  Intermediate buffers are wiped here.
 */
#ifndef TESSERA_OTPAUTH_H
#define TESSERA_OTPAUTH_H

#include <stddef.h>

#include "error.h"

struct otpauth_kv {
	const char *key;
	const char *value;
};

struct otpauth_params {
	const char *tokentype;      /* "hotp" / "totp" (required)               */
	const unsigned char *key;   /* raw seed                                 */
	size_t keylen;
	const char *serial;         /* required                                 */
	const char *user;           /* login; NULL = ""                         */
	const char *realm;          /* NULL = ""                                */
	const char *givenname;      /* NULL = ""                                */
	const char *surname;        /* NULL = ""                                */
	const char *tokenlabel;     /* NULL = "<s>"                             */
	const char *tokenissuer;    /* NULL = "privacyIDEA"                     */
	const char *hashlib;        /* verbatim; NULL = "sha1"                  */
	int digits;                 /* otplen                                   */
	long period;                /* timeStep (TOTP)                          */
	const char *creator;        /* NULL: none (3.8); "privacyidea" (3.10+)  */
	int add_serial;             /* 1: "&serial=<serial>" after issuer       */
	const struct otpauth_kv *extra;
	size_t n_extra;
};

/* Max. characters of the label part, privacyIDEA's MAX_QRCODE_LEN. */
#define OTPAUTH_MAX_QRCODE_LEN 180

/* The otpauth:// URL (malloc'd; crypto_free_str), NULL on error. */
char *otpauth_google_url(const struct otpauth_params *p, struct error *err);

/* The oathtoken:// URL (malloc'd; crypto_free_str), NULL on error. */
char *otpauth_oathtoken_url(const char *tokentype, const char *otpkey_hex, const char *serial, const char *user,
			    const char *realm, const char *tokenlabel, const struct otpauth_kv *extra,
			    size_t n_extra, struct error *err);

/* Python's urllib.parse.quote(s, safe="/") of a UTF-8 string (malloc'd). */
char *otpauth_quote(const char *s);

/* QR code of text as PNG bytes (malloc'd into *png, *len; free with
 * crypto_free_secret).  0 ok, -1 error (text too long for a QR code …). */
int otpauth_qr_png(const char *text, unsigned char **png, size_t *len, struct error *err);
/* "data:image/png;base64,…" (malloc'd; crypto_free_str), NULL on error. */
char *otpauth_qr_datauri(const char *text, struct error *err);

/* QR parameters, exposed for tests. */
#define OTPAUTH_QR_BOX 10
#define OTPAUTH_QR_BORDER 4

#endif
