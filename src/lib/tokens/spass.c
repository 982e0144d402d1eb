/*
 * spass.c — the Simple Pass token (privacyIDEA's SpassTokenClass, serial
 * prefix PISP): no OTP; the whole pass is the OTP PIN, and a right PIN
 * authenticates.  Not challenge-response capable.
 */
#include "tokentype.h"

#include <stdlib.h>
#include <string.h>

#include "../crypto.h"

static int64_t spass_check_otp(struct token_ctx *x, const struct token *t, const char *otp, struct otp_match *m,
			       struct error *err)
{
	return 0; /* no OTP component: always matches */
}

static int spass_enroll(struct token_enroll *e, struct error *err)
{
	/* privacyIDEA: "if 'otpkey' not in param: param['genkey'] = 1" — the
	 * seed is never used, but it is generated and shown all the same. */
	const char *otpkey = enroll_param(e, "otpkey");
	unsigned char key[20];
	if (otpkey) {
		size_t n = strlen(otpkey);
		if (n > 512)
			return err_param(err, "The otpkey must hold 1 to 256 bytes.");
		e->otpkey = strdup(otpkey);
	} else {
		if (crypto_random(key, sizeof(key)) < 0)
			return err_internal(err, "random generator failed");
		e->otpkey = crypto_hex_encode(key, sizeof(key));
		memset(key, 0, sizeof(key));
		e->otpkey_generated = 1;
	}
	return e->otpkey ? 0 : err_internal(err, "out of memory");
}

static const struct token_param spass_params[] = {
	{ "pin", TP_STR, NULL, "the OTP PIN, which is the whole password" },
	{ NULL, 0, NULL, NULL },
};

static const struct token_policy_action spass_policies[] = {
	{ "admin", "spass_otp_pin_maxlength", "int", NULL, "Set the maximum allowed PIN length of the SPASS token." },
	{ "admin", "spass_otp_pin_minlength", "int", NULL, "Set the minimum required PIN length of the SPASS token." },
	{ "admin", "spass_otp_pin_contents", "str", NULL,
	  "Specifiy the required PIN contents of the SPASS token. (c)haracters, (n)umeric, (s)pecial, (o)thers. [+/-]!" },
	{ "user", "spass_otp_pin_maxlength", "int", NULL, "Set the maximum allowed PIN length of the SPASS token." },
	{ "user", "spass_otp_pin_minlength", "int", NULL, "Set the minimum required PIN length of the SPASS token." },
	{ "user", "spass_otp_pin_contents", "str", NULL,
	  "Specifiy the required PIN contents of the SPASS token. (c)haracters, (n)umeric, (s)pecial, (o)thers. [+/-]!" },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct token_type token_type_spass = {
	.name = "spass",
	.prefix = "PISP",
	.title = "Simple Pass Token",
	.description = "SPass: Simple Pass token. Static passwords.",
	.modes = TOKEN_MODE_AUTHENTICATE,
	.client_mode = "interactive",
	.pin_only = 1,
	.ui_enroll = TOKEN_UI_ADMIN | TOKEN_UI_USER,
	.params = spass_params,
	.policies = spass_policies,
	.enroll = spass_enroll,
	.check_otp = spass_check_otp,
};
