/*
 * paper.c — the paper token (privacyIDEA's PaperTokenClass, serial prefix
 * PPR): an HOTP token with a server-generated seed whose next
 * papertoken_count values (default 100) are returned once in detail.otps
 * for printing; they must be used in order (HOTP's counter window).
 */
#include "tokentype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../crypto.h"
#include "../otp.h"

#define PAPER_DEFAULT_COUNT 100
#define PAPER_MAX_COUNT 10000

/* The first n values of a fresh seed as {"0": otp, "1": …}. */
json_t *token_paper_otps(const char *hexkey, int otplen, const char *hashlib, long n, struct error *err)
{
	size_t len = 0;
	unsigned char *key = crypto_hex_decode(hexkey, &len);
	enum otp_hash h;
	if (!key) {
		err_internal(err, "bad key");
		return NULL;
	}
	if (otp_hash_parse(hashlib, &h) < 0)
		h = OTP_HASH_SHA1;
	json_t *o = json_object();
	for (long i = 0; o && i < n; i++) {
		char v[OTP_BUF_LEN], k[24];
		if (otp_hotp(key, len, (uint64_t)i, otplen, h, v, err) < 0) {
			json_decref(o);
			o = NULL;
			break;
		}
		snprintf(k, sizeof(k), "%ld", i);
		json_object_set_new(o, k, json_string(v));
		memset(v, 0, sizeof(v));
	}
	crypto_free_secret(key, len);
	return o;
}

long token_paper_count(struct token_enroll *e, const char *name, struct error *err)
{
	/* policy: enrollment.papertoken_count / tantoken_count set this parameter */
	json_t *v = json_object_get(e->params, name);
	if (!v || json_is_null(v))
		return PAPER_DEFAULT_COUNT;
	long long n;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		n = strtoll(json_string_value(v), &end, 10);
		if (!*json_string_value(v) || *end)
			return err_param(err, "Parameter '%s' must be an integer.", name);
	} else {
		return err_param(err, "Parameter '%s' must be an integer.", name);
	}
	if (n < 1 || n > PAPER_MAX_COUNT)
		return err_param(err, "Parameter '%s' must be between 1 and %d.", name, PAPER_MAX_COUNT);
	return (long)n;
}

static int paper_enroll(struct token_enroll *e, struct error *err)
{
	long n = token_paper_count(e, "papertoken_count", err);
	if (n < 0)
		return -1;
	json_t *p = e->params;
	json_t *copy = NULL;
	if (!json_object_get(p, "otpkey") && !json_object_get(p, "genkey")) {
		copy = json_copy(p);
		json_object_set_new(copy, "genkey", json_string("1"));
		e->params = copy;
	}
	int rc = oath_enroll_key(e, oath_hashlib(e->x, e->t, "hotp.hashlib"), err);
	e->params = p;
	json_decref(copy);
	if (rc < 0)
		return -1;
	const char *hashlib = json_string_value(json_object_get(e->info, "hashlib"));
	json_t *otps = token_paper_otps(e->otpkey, e->t->r.otplen, hashlib ? hashlib : "sha1", n, err);
	if (!otps)
		return -1;
	e->init_details = json_object();
	json_object_set_new(e->init_details, "otps", otps);
	return 0;
}

static int paper_init_detail(struct token_enroll *e, json_t *detail, struct error *err)
{
	return oath_init_detail(e, detail, "paper", 30, err);
}

static const struct token_param paper_params[] = {
	{ "otpkey", TP_HEX, NULL, "the seed (generated when absent)" },
	{ "otplen", TP_INT, "6", "6 or 8 digits" },
	{ "hashlib", TP_STR, "sha1", "sha1, sha256 or sha512" },
	{ "papertoken_count", TP_INT, "100", "number of values printed" },
	{ NULL, 0, NULL, NULL },
};

static const struct token_policy_action paper_policies[] = {
	{ "enrollment", "papertoken_count", "int", NULL, "The number of OTP values, which are printed on the paper." },
	{ "enrollment", "paper_max_token_per_user", "int", NULL,
	  "The user may only have this maximum number of paper tokens assigned." },
	{ "enrollment", "paper_max_active_token_per_user", "int", NULL,
	  "The user may only have this maximum number of active paper tokens assigned." },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct token_type token_type_paper = {
	.name = "paper",
	.prefix = "PPR",
	.title = "Paper Token",
	.description = "PPR: One Time Passwords printed on a sheet of paper.",
	.modes = TOKEN_MODE_AUTHENTICATE | TOKEN_MODE_CHALLENGE,
	.client_mode = "interactive",
	.ui_enroll = TOKEN_UI_ADMIN | TOKEN_UI_USER,
	.params = paper_params,
	.policies = paper_policies,
	.enroll = paper_enroll,
	.init_detail = paper_init_detail,
	.check_otp = token_hotp_check_otp,
	.is_previous_otp = token_hotp_is_previous,
	.resync = token_hotp_resync,
	.otp_exists = token_hotp_exists,
};
