/*
 * totp.c — the TOTP token (RFC 6238; privacyIDEA's TotpTokenClass, serial
 * prefix TOTP).  Counter = floor((now + timeShift) / timeStep) as RFC 6238
 * and privacyIDEA >= 3.9; the values within ±timeWindow seconds are
 * accepted; the stored count is the last accepted time counter, and only a
 * later counter is accepted next (replay protection); every success
 * learns the drift into timeShift.  Pure computations; the core stores.
 */
#include "tokentype.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "../crypto.h"
#include "../otp.h"

static double now_seconds(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static long timestep(struct token_ctx *x, const struct token *t)
{
	long long s = token_info_int(t, "timeStep", 0);
	if (s <= 0)
		s = token_config_int(x, "totp.timeStep", 30);
	return s > 0 && s <= 86400 ? (long)s : 30;
}

static long timewindow(struct token_ctx *x, const struct token *t)
{
	long long w = token_info_int(t, "timeWindow", 0);
	if (w <= 0)
		w = token_config_int(x, "totp.timeWindow", 180);
	return w > 0 ? (long)w : 180;
}

static double timeshift(const struct token *t)
{
	const char *s = token_info(t, "timeShift", NULL);
	if (!s || !*s)
		return 0.0;
	char *end;
	double d = strtod(s, &end);
	return *end || !isfinite(d) ? 0.0 : d;
}

static int totp_key(struct token_ctx *x, const struct token *t, unsigned char **key, size_t *len, enum otp_hash *h,
		    struct error *err)
{
	if (otp_hash_parse(oath_hashlib(x, t, "totp.hashlib"), h) < 0)
		*h = OTP_HASH_SHA1;
	*key = token_key_raw(x, t, len, err);
	return *key ? 0 : -1;
}

static uint32_t window_steps(long seconds, long step)
{
	long w = seconds / step;
	if (w < 1)
		w = 1;
	return w > (long)OTP_WINDOW_MAX ? OTP_WINDOW_MAX : (uint32_t)w;
}

static int64_t totp_check_otp(struct token_ctx *x, const struct token *t, const char *otp, struct otp_match *m,
			      struct error *err)
{
	unsigned char *key;
	size_t len;
	enum otp_hash h;
	if (totp_key(x, t, &key, &len, &h, err) < 0)
		return TOKEN_OTP_ERROR;
	long step = timestep(x, t);
	double now = now_seconds();
	int64_t counter = otp_totp_counter(now + timeshift(t), (uint32_t)step, OTP_TIME_FLOOR);
	int64_t res = counter < 0 ? OTP_NOMATCH
				  : otp_hotp_check_symmetric(key, len, (uint64_t)counter,
							     window_steps(timewindow(x, t), step), t->r.otplen, h, otp);
	crypto_free_secret(key, len);
	if (res == OTP_ERROR) {
		err_internal(err, "OTP computation failed for %s", t->r.serial);
		return TOKEN_OTP_ERROR;
	}
	if (res < 0)
		return TOKEN_OTP_NOMATCH;
	if (t->r.count != 0 && res <= t->r.count)
		return TOKEN_OTP_NOMATCH; /* a previous OTP value was used again */
	m->set_count = 1;
	m->new_count = res;
	m->set_shift = 1;
	/* privacyIDEA: new_shift = tokentime - int(now), a float */
	snprintf(m->shift, sizeof(m->shift), "%.1f", (double)(res * step) - floor(now));
	return res;
}

static int64_t totp_exists(struct token_ctx *x, const struct token *t, const char *otp, long window,
			   struct otp_match *m)
{
	unsigned char *key;
	size_t len;
	enum otp_hash h;
	struct error err = { 0 };
	if (totp_key(x, t, &key, &len, &h, &err) < 0)
		return -1;
	long step = timestep(x, t);
	int64_t counter = otp_totp_counter(now_seconds() + timeshift(t), (uint32_t)step, OTP_TIME_FLOOR);
	long w = window > 0 ? window : (t->r.sync_window > 0 ? t->r.sync_window : 10);
	int64_t res = counter < 0 ? -1
				  : otp_hotp_check_symmetric(key, len, (uint64_t)counter, window_steps(w * step, step),
							     t->r.otplen, h, otp);
	crypto_free_secret(key, len);
	if (res < 0 || (t->r.count != 0 && res <= t->r.count))
		return -1;
	m->set_count = 1;
	m->new_count = res;
	return res;
}

static int totp_resync(struct token_ctx *x, const struct token *t, const char *otp1, const char *otp2,
		       struct otp_match *m, struct error *err)
{
	unsigned char *key;
	size_t len;
	enum otp_hash h;
	if (totp_key(x, t, &key, &len, &h, err) < 0)
		return -1;
	long step = timestep(x, t);
	double now = now_seconds();
	int64_t counter = otp_totp_counter(now + timeshift(t), (uint32_t)step, OTP_TIME_FLOOR);
	uint32_t sw = t->r.sync_window > 0 ? (uint32_t)t->r.sync_window : 1;
	int64_t res2 = counter < 1 ? -1 : otp_hotp_check_symmetric(key, len, (uint64_t)counter, sw, t->r.otplen, h, otp2);
	int64_t res1 = counter < 1 ? -1
				   : otp_hotp_check_symmetric(key, len, (uint64_t)counter - 1, sw, t->r.otplen, h, otp1);
	crypto_free_secret(key, len);
	if (res1 < t->r.count)
		res1 = -1; /* a previous OTP value was used again */
	if (res1 < 0 || res2 != res1 + 1)
		return 0;
	m->set_count = 1;
	m->new_count = res2;
	m->set_shift = 1;
	snprintf(m->shift, sizeof(m->shift), "%.1f", (double)(res2 * step) - floor(now));
	return 1;
}

/* timeStep / timeWindow / timeShift parameters: whole seconds within
 * sane bounds (timeShift a number). */
static int num_param(struct token_enroll *e, const char *name, double min, double max, int integral, double *out,
		     int *present, struct error *err)
{
	json_t *v = json_object_get(e->params, name);
	*present = 0;
	if (!v || json_is_null(v))
		return 0;
	double d;
	if (json_is_number(v)) {
		d = json_number_value(v);
	} else if (json_is_string(v)) {
		char *end;
		const char *s = json_string_value(v);
		d = strtod(s, &end);
		if (!*s || *end || !isfinite(d))
			return err_param(err, "Parameter '%s' must be a number.", name);
	} else {
		return err_param(err, "Parameter '%s' must be a number.", name);
	}
	if (d < min || d > max || (integral && d != floor(d)))
		return err_param(err, "Parameter '%s' must be %s between %.0f and %.0f.", name,
				 integral ? "a whole number" : "a number", min, max);
	*out = d;
	*present = 1;
	return 0;
}

static int totp_enroll(struct token_enroll *e, struct error *err)
{
	if (oath_enroll_key(e, oath_hashlib(e->x, e->t, "totp.hashlib"), err) < 0)
		return -1;
	/* policy: user.totp_timestep */
	double step = 0, window = 0, shift = 0;
	int has_step, has_window, has_shift;
	if (num_param(e, "timeStep", 1, 86400, 1, &step, &has_step, err) < 0 ||
	    num_param(e, "timeWindow", 1, 31536000, 1, &window, &has_window, err) < 0 ||
	    num_param(e, "timeShift", -31536000, 31536000, 0, &shift, &has_shift, err) < 0)
		return -1;
	char buf[40];
	snprintf(buf, sizeof(buf), "%ld", has_window ? (long)window : timewindow(e->x, e->t));
	json_object_set_new(e->info, "timeWindow", json_string(buf));
	if (has_shift)
		snprintf(buf, sizeof(buf), "%.1f", shift);
	else
		snprintf(buf, sizeof(buf), "%.1f", timeshift(e->t));
	json_object_set_new(e->info, "timeShift", json_string(buf));
	snprintf(buf, sizeof(buf), "%ld", has_step ? (long)step : timestep(e->x, e->t));
	json_object_set_new(e->info, "timeStep", json_string(buf));
	return 0;
}

static int totp_init_detail(struct token_enroll *e, json_t *detail, struct error *err)
{
	const char *s = json_string_value(json_object_get(e->info, "timeStep"));
	long step = s ? strtol(s, NULL, 10) : 30;
	return oath_init_detail(e, detail, "totp", step > 0 ? step : 30, err);
}

static const struct token_param totp_params[] = {
	{ "otpkey", TP_HEX, NULL, "the seed, hex (or base32check with otpkeyformat)" },
	{ "genkey", TP_BOOL, NULL, "1: the server generates the seed" },
	{ "keysize", TP_INT, NULL, "seed size in bytes for genkey (default by hashlib: 20/32/64)" },
	{ "otplen", TP_INT, "6", "6 or 8 digits" },
	{ "hashlib", TP_STR, "sha1", "sha1, sha256 or sha512" },
	{ "timeStep", TP_INT, "30", "seconds per value (30 or 60)" },
	{ "timeWindow", TP_INT, "180", "seconds searched before and after now" },
	{ "timeShift", TP_STR, "0", "known clock drift in seconds" },
	{ NULL, 0, NULL, NULL },
};

static const struct token_policy_action totp_policies[] = {
	{ "user", "totp_timestep", "int", "30 60", "Specify the time step of the timebased OTP token." },
	{ "user", "totp_hashlib", "str", "sha1 sha256 sha512",
	  "Specify the hashlib to be used. Can be SHA1, SHA256 or SHA512." },
	{ "user", "totp_otplen", "int", "6 8", "Specify the otplen to be used. Can be 6 or 8 digits." },
	{ "user", "totp_force_server_generate", "bool", NULL, "Force the key to be generated on the server." },
	{ "user", "totp_2step", "str", "allow force",
	  "Specify whether users are allowed or forced to use two-step enrollment." },
	{ "admin", "totp_2step", "str", "allow force",
	  "Specify whether admins are allowed or forced to use two-step enrollment." },
	{ "enrollment", "totp_2step_clientsize", "int", NULL,
	  "The size of the OTP seed part contributed by the client (in bytes)" },
	{ "enrollment", "totp_2step_serversize", "int", NULL,
	  "The size of the OTP seed part contributed by the server (in bytes)" },
	{ "enrollment", "totp_2step_difficulty", "int", NULL,
	  "The difficulty factor used for the OTP seed generation (should be at least 10000)" },
	{ "enrollment", "totp_force_app_pin", "bool", NULL,
	  "Enforce setting an app pin for the privacyIDEA Authenticator App" },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct token_type token_type_totp = {
	.name = "totp",
	.prefix = "TOTP",
	.title = "HMAC Time Token",
	.description = "TOTP: Time based One Time Passwords.",
	.modes = TOKEN_MODE_AUTHENTICATE | TOKEN_MODE_CHALLENGE,
	.client_mode = "interactive",
	.ui_enroll = TOKEN_UI_ADMIN | TOKEN_UI_USER,
	.can_verify_enrollment = 1,
	.params = totp_params,
	.policies = totp_policies,
	.enroll = totp_enroll,
	.init_detail = totp_init_detail,
	.check_otp = totp_check_otp,
	.resync = totp_resync,
	.otp_exists = totp_exists,
};
