/*
 * tan.c — the TAN token (privacyIDEA's TanTokenClass, serial prefix
 * PITN): a list of TANs usable in any order, each stored as tokeninfo
 * "tan.tan<i>" = "<salt hex>:<sha256(tan + salt hex) hex>" and deleted
 * when used.  Generated like the paper token (tantoken_count, default
 * 100) or given as the whitespace separated parameter "tans".
 */
#include "tokentype.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "../crypto.h"

#define TAN_SALT_BYTES 4
#define TAN_MAX 10000

/* privacyIDEA's crypto.hash(value, seed): sha256(value || seed) hex. */
static void tan_hash(const char *tan, const char *salt, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) || !EVP_DigestUpdate(c, tan, strlen(tan)) ||
	    !EVP_DigestUpdate(c, salt, strlen(salt)) || !EVP_DigestFinal_ex(c, md, &mdlen))
		memset(md, 0, sizeof(md)); /* an all-zero digest matches no stored hash */
	EVP_MD_CTX_free(c);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	memset(md, 0, sizeof(md));
}

static int add_tan(json_t *info, long i, const char *tan, struct error *err)
{
	char salt[2 * TAN_SALT_BYTES + 1], h[2 * SHA256_DIGEST_LENGTH + 1], key[32], val[2 * TAN_SALT_BYTES + 66];
	if (crypto_random_hex(salt, TAN_SALT_BYTES) < 0)
		return err_internal(err, "random generator failed");
	tan_hash(tan, salt, h);
	snprintf(key, sizeof(key), "tan.tan%ld", i);
	snprintf(val, sizeof(val), "%s:%s", salt, h);
	json_object_set_new(info, key, json_string(val));
	return 0;
}

static int tan_enroll(struct token_enroll *e, struct error *err)
{
	const char *tans = enroll_param(e, "tans");
	json_t *copy = json_copy(e->params);
	json_t *orig = e->params;
	int rc = -1;
	if (!copy)
		return err_internal(err, "out of memory");
	/* an import's blank seed column: the seed is not used by TANs */
	const char *ok = json_string_value(json_object_get(copy, "otpkey"));
	if (ok && !*ok)
		json_object_del(copy, "otpkey");
	if (!json_object_get(copy, "otpkey") && !json_object_get(copy, "genkey"))
		json_object_set_new(copy, "genkey", json_string("1"));
	/* the otplen follows the given TANs */
	char first[64] = "";
	if (tans) {
		const char *p = tans;
		while (isspace((unsigned char)*p))
			p++;
		size_t n = strcspn(p, " \t\r\n\v\f");
		if (n == 0 || n >= sizeof(first)) {
			rc = err_param(err, "The parameter 'tans' must hold whitespace separated TANs of at most 63 "
					    "characters.");
			goto out;
		}
		memcpy(first, p, n);
		first[n] = '\0';
		json_object_set_new(copy, "otplen", json_string("6"));
	}
	e->params = copy;
	if (oath_enroll_key(e, oath_hashlib(e->x, e->t, "hotp.hashlib"), err) < 0)
		goto out;
	if (!e->init_details)
		e->init_details = json_object();
	if (tans) {
		e->t->r.otplen = (int)strlen(first);
		long i = 0;
		const char *p = tans;
		while (*p) {
			while (isspace((unsigned char)*p))
				p++;
			size_t n = strcspn(p, " \t\r\n\v\f");
			if (!n)
				break;
			char tan[64];
			if (n >= sizeof(tan) || i >= TAN_MAX) {
				rc = err_param(err, "The parameter 'tans' must hold at most %d TANs of at most 63 "
						    "characters.", TAN_MAX);
				goto out;
			}
			memcpy(tan, p, n);
			tan[n] = '\0';
			if (add_tan(e->info, i++, tan, err) < 0)
				goto out;
			memset(tan, 0, sizeof(tan));
			p += n;
		}
		json_object_set_new(e->init_details, "otps", json_object());
	} else {
		long n = token_paper_count(e, "tantoken_count", err);
		if (n < 0)
			goto out;
		const char *hashlib = json_string_value(json_object_get(e->info, "hashlib"));
		json_t *otps = token_paper_otps(e->otpkey, e->t->r.otplen, hashlib ? hashlib : "sha1", n, err);
		if (!otps)
			goto out;
		for (long i = 0; i < n; i++) {
			char k[24];
			snprintf(k, sizeof(k), "%ld", i);
			if (add_tan(e->info, i, json_string_value(json_object_get(otps, k)), err) < 0) {
				json_decref(otps);
				goto out;
			}
		}
		json_object_set_new(e->init_details, "otps", otps);
	}
	rc = 0;
out:
	e->params = orig;
	json_decref(copy);
	return rc;
}

static int64_t tan_check_otp(struct token_ctx *x, const struct token *t, const char *otp, struct otp_match *m,
			     struct error *err)
{
	const char *k;
	json_t *v;
	int64_t res = TOKEN_OTP_NOMATCH;
	json_object_foreach(t->info, k, v) {
		if (strncmp(k, "tan.tan", 7) || !json_is_string(v))
			continue;
		const char *val = json_string_value(v);
		const char *colon = strchr(val, ':');
		if (!colon || (size_t)(colon - val) > 2 * TAN_SALT_BYTES + 8)
			continue;
		char salt[32], h[2 * SHA256_DIGEST_LENGTH + 1];
		snprintf(salt, sizeof(salt), "%.*s", (int)(colon - val), val);
		tan_hash(otp, salt, h);
		if (res < 0 && crypto_streq(h, colon + 1)) {
			snprintf(m->consume_info, sizeof(m->consume_info), "%s", k);
			res = 1; /* privacyIDEA returns 1 for a matching TAN */
		}
	}
	return res;
}

/* GET /token/ shows the number of remaining TANs, not the hashes. */
static void tan_filter_info(json_t *info)
{
	long n = 0;
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(info, tmp, k, v) {
		if (!strncmp(k, "tan.tan", 7)) {
			n++;
			json_object_del(info, k);
		}
	}
	json_object_set_new(info, "tan.count", json_integer(n));
}

static int tan_init_detail(struct token_enroll *e, json_t *detail, struct error *err)
{
	json_object_set_new(detail, "rollout_state", json_string(e->t->r.rollout_state ? e->t->r.rollout_state : ""));
	return 0;
}

static const struct token_param tan_params[] = {
	{ "tans", TP_STR, NULL, "whitespace separated TANs (else generated)" },
	{ "tantoken_count", TP_INT, "100", "number of generated TANs" },
	{ "otplen", TP_INT, "6", "length of generated TANs: 6 or 8" },
	{ NULL, 0, NULL, NULL },
};

static const struct token_policy_action tan_policies[] = {
	{ "enrollment", "tantoken_count", "int", NULL, "The number of OTP values, which are printed on the paper." },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct token_type token_type_tan = {
	.name = "tan",
	.prefix = "PITN",
	.title = "TAN Token",
	.description = "TAN: TANs printed on a sheet of paper.",
	.modes = TOKEN_MODE_AUTHENTICATE | TOKEN_MODE_CHALLENGE,
	.client_mode = "interactive",
	.ui_enroll = TOKEN_UI_ADMIN | TOKEN_UI_USER,
	.reinit_clear = "tan.tan",
	.params = tan_params,
	.policies = tan_policies,
	.enroll = tan_enroll,
	.init_detail = tan_init_detail,
	.check_otp = tan_check_otp,
	.filter_info = tan_filter_info,
};
