/*
 * pw.c — the password token (privacyIDEA's PasswordTokenClass, serial
 * prefix PW): the "OTP" is a fixed password stored encrypted as the
 * token's key, otplen its length; created by the lost-token workflow.
 * Also the base of the registration token (registration.c).
 */
#include "tokentype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../crypto.h"
#include "../pinpolicy.h"
#include "../pyjson.h"

int64_t token_pw_check_otp(struct token_ctx *x, const struct token *t, const char *otp, struct otp_match *m,
			   struct error *err)
{
	size_t len = 0;
	unsigned char *key = token_key_text(x, t, &len, err);
	if (!key)
		return TOKEN_OTP_ERROR;
	int ok = crypto_memeq(key, len, otp, strlen(otp));
	crypto_free_secret(key, len);
	return ok ? 0 : TOKEN_OTP_NOMATCH;
}

/* genkey → a password from <type>.length / <type>.contents (default def_len
 * letters and digits); /token/init sets both from the enrollment policies
 * (src/api/token_prepolicy.c). */
int token_pw_enroll_password(struct token_enroll *e, const char *type_prefix, size_t def_len, int always_generate,
			     struct error *err)
{
	const char *otpkey = enroll_param(e, "otpkey");
	int genkey = pyjson_is_true(json_object_get(e->params, "genkey"));
	if (genkey || always_generate) {
		char lname[64], cname[64];
		snprintf(lname, sizeof(lname), "%s.length", type_prefix);
		snprintf(cname, sizeof(cname), "%s.contents", type_prefix);
		const char *ls = enroll_param(e, lname);
		const char *contents = enroll_param(e, cname);
		long n = ls ? strtol(ls, NULL, 10) : (long)def_len;
		if (n < 1 || n > 256)
			return err_param(err, "Parameter '%s' must be between 1 and 256.", lname);
		char *pw = NULL;
		if (contents && *contents) {
			/* a contents policy: the PIN contents syntax (privacyIDEA's
			 * _generate_pin_from_policy); a bad specifier is PolicyError 303 */
			if (pinpolicy_random(contents, (size_t)n, &pw, err) < 0)
				return -1;
		} else {
			/* default: letters and digits, one of each at least */
			pw = malloc((size_t)n + 1);
			if (!pw)
				return err_internal(err, "out of memory");
			if (token_random_password(pw, (size_t)n, "cn", 0) < 0) {
				crypto_free_secret(pw, (size_t)n + 1);
				return err_internal(err, "random generator failed");
			}
		}
		e->otpkey = pw;
		e->otpkey_generated = 1;
	} else if (otpkey) {
		size_t n = strlen(otpkey);
		if (n == 0 || n > 256)
			return err_param(err, "The password must hold 1 to 256 characters.");
		e->otpkey = strdup(otpkey);
		if (!e->otpkey)
			return err_internal(err, "out of memory");
	} else {
		return err_missing_param(err, "otpkey");
	}
	e->t->r.otplen = (int)strlen(e->otpkey);
	return 0;
}

static int pw_enroll(struct token_enroll *e, struct error *err)
{
	return token_pw_enroll_password(e, "pw", 12, 0, err);
}

static int pw_init_detail(struct token_enroll *e, json_t *detail, struct error *err)
{
	if (e->otpkey)
		json_object_set_new(detail, "password", json_string(e->otpkey));
	return 0;
}

static const struct token_param pw_params[] = {
	{ "otpkey", TP_STR, NULL, "the password" },
	{ "genkey", TP_BOOL, NULL, "1: generate the password (pw.length, pw.contents)" },
	{ NULL, 0, NULL, NULL },
};

static const struct token_policy_action pw_policies[] = {
	{ "enrollment", "pw_max_token_per_user", "int", NULL,
	  "The user may only have this maximum number of password tokens assigned." },
	{ "enrollment", "pw_max_active_token_per_user", "int", NULL,
	  "The user may only have this maximum number of active password tokens assigned." },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct token_type token_type_pw = {
	.name = "pw",
	.prefix = "PW",
	.title = "Password Token",
	.description = "A token with a fixed password. Can be combined  with the OTP PIN. Is used for the lost token "
		       "scenario.",
	.modes = TOKEN_MODE_AUTHENTICATE | TOKEN_MODE_CHALLENGE,
	.client_mode = "interactive",
	.params = pw_params,
	.policies = pw_policies,
	.enroll = pw_enroll,
	.init_detail = pw_init_detail,
	.check_otp = token_pw_check_otp,
};
