/*
 * registration.c — the registration code token (privacyIDEA's
 * RegistrationTokenClass, serial prefix REG): a generated one-time code
 * (by default 24 letters and digits), returned once in detail.registrationcode;
 * the token deletes itself after its first successful authentication.
 */
#include "tokentype.h"

#include <stdlib.h>
#include <string.h>

#include "../crypto.h"

static int registration_enroll(struct token_enroll *e, struct error *err)
{
	/* The code is always generated (a given otpkey is ignored), from
	 * registration.length / registration.contents: policy:
	 * enrollment.registration.length, registration.contents (set by
	 * src/api/token_prepolicy.c; defaults 24 and "cn"). */
	return token_pw_enroll_password(e, "registration", 24, 1, err);
}

static int registration_init_detail(struct token_enroll *e, json_t *detail, struct error *err)
{
	if (e->otpkey)
		json_object_set_new(detail, "registrationcode", json_string(e->otpkey));
	return 0;
}

static const struct token_param registration_params[] = {
	{ NULL, 0, NULL, NULL },
};

static const struct token_policy_action registration_policies[] = {
	/* registration.length / registration.contents are general enrollment
	 * actions of privacyIDEA (src/lib/policy_defs.c); the manual's names
	 * registrationcode_length/_contents are not actions in 3.8 */
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct token_type token_type_registration = {
	.name = "registration",
	.prefix = "REG",
	.title = "Registration Code Token",
	.description = "Registration: A token that creates a registration code that can be used as a second factor "
		       "once.",
	.modes = TOKEN_MODE_AUTHENTICATE | TOKEN_MODE_CHALLENGE,
	.client_mode = "interactive",
	.ui_enroll = TOKEN_UI_ADMIN,
	.delete_on_success = 1,
	.params = registration_params,
	.policies = registration_policies,
	.enroll = registration_enroll,
	.init_detail = registration_init_detail,
	.check_otp = token_pw_check_otp,
};
