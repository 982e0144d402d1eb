/*
 * hotp.c — the HOTP token (RFC 4226; privacyIDEA's HotpTokenClass, serial
 * prefix OATH): event counter, look-ahead window count_window, resync
 * with two consecutive values in sync_window, previous-OTP detection.
 * Pure computations over the decrypted seed; the core stores.
 */
#include "tokentype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../crypto.h"
#include "../otp.h"

/* The seed and hash of a token, or -1 with err. */
static int hotp_key(struct token_ctx *x, const struct token *t, unsigned char **key, size_t *len, enum otp_hash *h,
		    struct error *err)
{
	if (otp_hash_parse(oath_hashlib(x, t, "hotp.hashlib"), h) < 0)
		*h = OTP_HASH_SHA1; /* privacyIDEA's get_hashlib falls back to sha1 */
	*key = token_key_raw(x, t, len, err);
	return *key ? 0 : -1;
}

/* privacyIDEA's HotpTokenClass._autosync: a value found in the sync window
 * is remembered (otp1c, dueDate = now + AutoResyncTimeout); the next
 * value right after it, in time, authenticates.  Returns the counter to
 * accept or OTP_NOMATCH; m gets the tokeninfo changes. */
static int64_t autosync(struct token_ctx *x, const struct token *t, int64_t c, struct otp_match *m)
{
	if (c < 0)
		return c == OTP_ERROR ? OTP_ERROR : OTP_NOMATCH;
	const char *otp1c = token_info(t, "otp1c", NULL);
	if (!otp1c) {
		long long timeout = token_config_int(x, "AutoResyncTimeout", 300);
		snprintf(m->info_set[0].key, sizeof(m->info_set[0].key), "otp1c");
		snprintf(m->info_set[0].value, sizeof(m->info_set[0].value), "%lld", (long long)c);
		snprintf(m->info_set[1].key, sizeof(m->info_set[1].key), "dueDate");
		snprintf(m->info_set[1].value, sizeof(m->info_set[1].value), "%lld", (long long)time(NULL) + timeout);
		m->n_info_set = 2;
		return OTP_NOMATCH;
	}
	long long first = token_info_int(t, "otp1c", -2);
	long long due = token_info_int(t, "dueDate", 0);
	snprintf(m->info_del[0], sizeof(m->info_del[0]), "otp1c");
	snprintf(m->info_del[1], sizeof(m->info_del[1]), "dueDate");
	m->n_info_del = 2;
	if (first + 1 != c || due <= (long long)time(NULL))
		return OTP_NOMATCH;
	return c;
}

int64_t token_hotp_check_otp(struct token_ctx *x, const struct token *t, const char *otp, struct otp_match *m,
			      struct error *err)
{
	unsigned char *key;
	size_t len;
	enum otp_hash h;
	if (hotp_key(x, t, &key, &len, &h, err) < 0)
		return TOKEN_OTP_ERROR;
	uint32_t window = t->r.count_window > 0 ? (uint32_t)t->r.count_window : 1;
	uint64_t start = t->r.count < 0 ? 0 : (uint64_t)t->r.count;
	int64_t c = otp_hotp_check(key, len, start, window, t->r.otplen, h, otp);
	if (c == OTP_NOMATCH && token_config_bool(x, "AutoResync", 0)) {
		uint32_t sw = t->r.sync_window > 0 ? (uint32_t)t->r.sync_window : 1;
		c = autosync(x, t, otp_hotp_check(key, len, start, sw, t->r.otplen, h, otp), m);
	}
	crypto_free_secret(key, len);
	if (c == OTP_ERROR) {
		err_internal(err, "OTP computation failed for %s", t->r.serial);
		return TOKEN_OTP_ERROR;
	}
	if (c >= 0) {
		m->set_count = 1;
		m->new_count = c + 1;
	}
	return c;
}

int token_hotp_is_previous(struct token_ctx *x, const struct token *t, const char *otp)
{
	unsigned char *key;
	size_t len;
	enum otp_hash h;
	struct error err = { 0 };
	if (hotp_key(x, t, &key, &len, &h, &err) < 0)
		return 0;
	int64_t c = otp_hotp_check_symmetric(key, len, t->r.count < 0 ? 0 : (uint64_t)t->r.count, 10, t->r.otplen, h,
					     otp);
	crypto_free_secret(key, len);
	return c >= 0 && c < t->r.count;
}

int64_t token_hotp_exists(struct token_ctx *x, const struct token *t, const char *otp, long window,
			  struct otp_match *m)
{
	unsigned char *key;
	size_t len;
	enum otp_hash h;
	struct error err = { 0 };
	if (hotp_key(x, t, &key, &len, &h, &err) < 0)
		return -1;
	int64_t c = otp_hotp_check(key, len, t->r.count < 0 ? 0 : (uint64_t)t->r.count,
				   window > 0 ? (uint32_t)window : 10, t->r.otplen, h, otp);
	crypto_free_secret(key, len);
	if (c < 0)
		return -1;
	m->set_count = 1;
	m->new_count = c + 1;
	return c;
}

int token_hotp_resync(struct token_ctx *x, const struct token *t, const char *otp1, const char *otp2,
		       struct otp_match *m, struct error *err)
{
	unsigned char *key;
	size_t len;
	enum otp_hash h;
	if (hotp_key(x, t, &key, &len, &h, err) < 0)
		return -1;
	uint32_t window = t->r.sync_window > 0 ? (uint32_t)t->r.sync_window : 1;
	int64_t c1 = otp_hotp_check(key, len, t->r.count < 0 ? 0 : (uint64_t)t->r.count, window, t->r.otplen, h, otp1);
	int ok = 0;
	if (c1 >= 0) {
		int64_t c2 = otp_hotp_check(key, len, (uint64_t)c1 + 1, 1, t->r.otplen, h, otp2);
		if (c2 == c1 + 1) {
			ok = 1;
			m->set_count = 1;
			m->new_count = c1 + 2;
		}
	}
	crypto_free_secret(key, len);
	return ok;
}

static int hotp_enroll(struct token_enroll *e, struct error *err)
{
	if (oath_enroll_key(e, oath_hashlib(e->x, e->t, "hotp.hashlib"), err) < 0)
		return -1;
	return 0;
}

static int hotp_init_detail(struct token_enroll *e, json_t *detail, struct error *err)
{
	return oath_init_detail(e, detail, "hotp", 30, err);
}

static const struct token_param hotp_params[] = {
	{ "otpkey", TP_HEX, NULL, "the seed, hex (or base32check with otpkeyformat)" },
	{ "genkey", TP_BOOL, NULL, "1: the server generates the seed" },
	{ "keysize", TP_INT, NULL, "seed size in bytes for genkey (default by hashlib: 20/32/64)" },
	{ "otplen", TP_INT, "6", "6 or 8 digits" },
	{ "hashlib", TP_STR, "sha1", "sha1, sha256 or sha512" },
	{ "otpkeyformat", TP_STR, "hex", "hex or base32check" },
	{ NULL, 0, NULL, NULL },
};

static const struct token_policy_action hotp_policies[] = {
	{ "enrollment", "yubikey_access_code", "str", NULL, "The Yubikey access code used to initialize Yubikeys." },
	{ "enrollment", "hotp_2step_clientsize", "int", NULL,
	  "The size of the OTP seed part contributed by the client (in bytes)" },
	{ "enrollment", "hotp_2step_serversize", "int", NULL,
	  "The size of the OTP seed part contributed by the server (in bytes)" },
	{ "enrollment", "hotp_2step_difficulty", "int", NULL,
	  "The difficulty factor used for the OTP seed generation (should be at least 10000)" },
	{ "enrollment", "hotp_force_app_pin", "bool", NULL,
	  "Enforce setting an app pin for the privacyIDEA Authenticator App" },
	{ "user", "hotp_hashlib", "str", "sha1 sha256 sha512",
	  "Specify the hashlib to be used. Can be sha1 (1) or sha2-256 (2)." },
	{ "user", "hotp_otplen", "int", "6 8", "Specify the otplen to be used. Can be 6 or 8 digits." },
	{ "user", "hotp_force_server_generate", "bool", NULL, "Force the key to be generated on the server." },
	{ "user", "hotp_2step", "str", "allow force",
	  "Specify whether users are allowed or forced to use two-step enrollment." },
	{ "admin", "hotp_2step", "str", "allow force",
	  "Specify whether admins are allowed or forced to use two-step enrollment." },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct token_type token_type_hotp = {
	.name = "hotp",
	.prefix = "OATH",
	.title = "HOTP Event Token",
	.description = "HOTP: Event based One Time Passwords.",
	.modes = TOKEN_MODE_AUTHENTICATE | TOKEN_MODE_CHALLENGE,
	.client_mode = "interactive",
	.ui_enroll = TOKEN_UI_ADMIN | TOKEN_UI_USER,
	.can_verify_enrollment = 1,
	.params = hotp_params,
	.policies = hotp_policies,
	.enroll = hotp_enroll,
	.init_detail = hotp_init_detail,
	.check_otp = token_hotp_check_otp,
	.is_previous_otp = token_hotp_is_previous,
	.resync = token_hotp_resync,
	.otp_exists = token_hotp_exists,
};
