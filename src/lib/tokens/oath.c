/*
 * oath.c — what the OATH-family types (hotp, totp, paper, tan) share:
 * the key/otplen/hashlib enrollment parameters and the otpkey / googleurl
 * / oathurl enrollment details (privacyIDEA's HotpTokenClass.update and
 * get_init_detail), plus the password generator of pw/registration and
 * the lost-token workflow.  No SQL, no policy decisions.
 */
#include "tokentype.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../crypto.h"
#include "../otp.h"
#include "../otpauth.h"
#include "../pyjson.h"

const char *enroll_param(const struct token_enroll *e, const char *name)
{
	json_t *v = json_object_get(e->params, name);
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	return NULL;
}

/* An integer parameter (string or JSON number); def when absent. */
static int param_int_range(const struct token_enroll *e, const char *name, long long def, long long min,
			   long long max, long long *out, struct error *err)
{
	json_t *v = json_object_get(e->params, name);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	long long n;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		while (isspace((unsigned char)*s))
			s++;
		n = strtoll(s, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (!*s || *end)
			return err_param(err, "Parameter '%s' must be an integer.", name);
	} else {
		return err_param(err, "Parameter '%s' must be an integer.", name);
	}
	if (n < min || n > max)
		return err_param(err, "Parameter '%s' must be between %lld and %lld.", name, min, max);
	*out = n;
	return 0;
}

const char *oath_hashlib(struct token_ctx *x, const struct token *t, const char *config_key)
{
	const char *h = token_info(t, "hashlib", NULL);
	if (h && *h)
		return h;
	h = token_config(x, config_key, NULL);
	return h && *h ? h : "sha1";
}

static int in_state(const struct token_enroll *e, const char *state)
{
	return !e->is_new && e->t->r.rollout_state && !strcmp(e->t->r.rollout_state, state);
}

/* 2stepinit (privacyIDEA's HotpTokenClass.update / TokenClass.update):
 * the twostep tokeninfo 2step_difficulty / 2step_clientsize (request
 * values, set by the enrollment.<type>_2step_* pre-policy or given by
 * the client; defaults 10000 and 8), and the server part's size from
 * 2step_serversize.  *keysize is left alone when that is absent. */
static int twostep_first(struct token_enroll *e, long long *keysize, struct error *err)
{
	if (in_state(e, "clientwait"))
		return err_param(err, "2stepinit is only to be used in the first initialization step.");
	static const struct {
		const char *name;
		long long def, min, max;
	} p[] = { { "2step_difficulty", 10000, 1, 100000000 }, { "2step_clientsize", 8, 1, 1024 } };
	for (size_t i = 0; i < 2; i++) {
		long long v;
		char buf[32];
		if (param_int_range(e, p[i].name, p[i].def, p[i].min, p[i].max, &v, err) < 0)
			return -1;
		snprintf(buf, sizeof(buf), "%lld", v);
		json_object_set_new(e->info, p[i].name, json_string(buf));
	}
	if (json_object_get(e->params, "2step_serversize") &&
	    param_int_range(e, "2step_serversize", 0, 1, 256, keysize, err) < 0)
		return -1;
	return 0;
}

/* The second step of a two-step enrollment (token in clientwait, otpkey =
 * the client part): key = PBKDF2-HMAC-SHA1(password = hex(server part),
 * salt = client part, rounds = 2step_difficulty, length = the hashlib's
 * key size) — privacyIDEA's HotpTokenClass.generate_symmetric_key. */
static int twostep_derive(struct token_enroll *e, enum otp_hash h, const unsigned char *client, size_t client_len,
			  unsigned char **key, size_t *keylen, struct error *err)
{
	long long expected = token_info_int(e->t, "2step_clientsize", 8);
	if (expected != (long long)client_len)
		return err_param(err, "Client Secret Size is expected to be %lld, but is %zu", expected, client_len);
	long long rounds = token_info_int(e->t, "2step_difficulty", 10000);
	if (rounds < 1 || rounds > 100000000)
		return err_param(err, "Invalid 2step parameters.");
	size_t slen = 0;
	unsigned char *server = token_key_raw(e->x, e->t, &slen, err);
	if (!server)
		return -1;
	size_t outlen = otp_hash_keysize(h);
	unsigned char *out = malloc(outlen);
	if (!out) {
		otp_free_key(server, slen);
		return err_internal(err, "out of memory");
	}
	int rc = otp_twostep_key(server, slen, client, client_len, (uint32_t)rounds, out, outlen, err);
	otp_free_key(server, slen);
	if (rc < 0) {
		otp_free_key(out, outlen);
		return -1;
	}
	*key = out;
	*keylen = outlen;
	return 0;
}

int oath_enroll_key(struct token_enroll *e, const char *hashlib_default, struct error *err)
{
	const char *hashlib = enroll_param(e, "hashlib");
	if (!hashlib)
		hashlib = hashlib_default;
	enum otp_hash h;
	if (otp_hash_parse(hashlib, &h) < 0)
		return err_param(err, "Unsupported hashlib: '%s'. Use sha1, sha256 or sha512.", hashlib);
	/* policy: user.hotp_hashlib / user.totp_hashlib, user.hotp_otplen … */
	long long otplen;
	if (param_int_range(e, "otplen", e->t->r.otplen ? e->t->r.otplen : 6, 0, 1000, &otplen, err) < 0)
		return -1;
	if (otplen != 6 && otplen != 8)
		return err_param(err, "The OTP length must be 6 or 8.");
	e->t->r.otplen = (int)otplen;
	if (!e->info)
		e->info = json_object();
	if (!e->info)
		return err_internal(err, "out of memory");

	const char *otpkey = enroll_param(e, "otpkey");
	int genkey = pyjson_is_true(json_object_get(e->params, "genkey"));
	/* policy: admin/user.<type>_2step (2stepinit is removed unless allowed),
	 * enrollment.<type>_2step_* (src/api/token_oath_policy.c) */
	int twostep = pyjson_is_true(json_object_get(e->params, "2stepinit"));
	long long keysize = 0;
	if (twostep && twostep_first(e, &keysize, err) < 0)
		return -1;
	/* policy: user.<type>_force_server_generate: evaluated in
	 * src/api/token_oath_policy.c, which drops otpkey and sets genkey
	 * (no policy: a given otpkey is used) */
	if ((genkey || twostep) && otpkey)
		return err_set(err, ERRK_PI, 344, "[ParameterError] You may either specify genkey or otpkey, but not both!");
	unsigned char *key = NULL;
	size_t keylen = 0;
	if (otpkey) {
		if (otp_key_decode(otpkey, enroll_param(e, "otpkeyformat"), &key, &keylen, err) < 0)
			return -1;
		if (in_state(e, "clientwait")) {
			/* the client part of a two-step enrollment */
			unsigned char *client = key;
			size_t client_len = keylen;
			key = NULL;
			/* the key size of the hashlib the first step stored (self.hashlib) */
			enum otp_hash th;
			if (otp_hash_parse(hashlib_default, &th) < 0)
				th = OTP_HASH_SHA1;
			int rc = twostep_derive(e, th, client, client_len, &key, &keylen, err);
			otp_free_key(client, client_len);
			if (rc < 0)
				return -1;
			if (token_set_rollout_state(e->t, "", err) < 0) {
				otp_free_key(key, keylen);
				return -1;
			}
			e->t->r.active = 1;
		} else if (keylen == 0 || keylen > 256) {
			otp_free_key(key, keylen);
			return err_param(err, "The otpkey must hold 1 to 256 bytes.");
		}
	} else if (genkey || twostep) {
		long long ks = keysize;
		const char *name = json_object_get(e->params, "keysize") ? "keysize" : "key_size";
		if (!ks && param_int_range(e, name, (long long)otp_hash_keysize(h), 1, 256, &ks, err) < 0)
			return -1;
		keylen = (size_t)ks;
		key = malloc(keylen);
		if (!key)
			return err_internal(err, "out of memory");
		if (crypto_random(key, keylen) < 0) {
			otp_free_key(key, keylen);
			return err_internal(err, "random generator failed");
		}
		e->otpkey_generated = 1;
	} else if (!e->is_new && enroll_param(e, "verify") && *enroll_param(e, "verify")) {
		/* the second step of a verified enrollment keeps the key */
		json_object_set_new(e->info, "hashlib", json_string(otp_hash_name(h)));
		return 0;
	} else {
		return err_missing_param(err, "otpkey");
	}
	e->otpkey = crypto_hex_encode(key, keylen);
	otp_free_key(key, keylen);
	if (!e->otpkey)
		return err_internal(err, "out of memory");
	if (twostep) {
		/* the server part waits for the client's part, disabled */
		if (token_set_rollout_state(e->t, "clientwait", err) < 0)
			return -1;
		e->t->r.active = 0;
	}
	json_object_set_new(e->info, "hashlib", json_string(otp_hash_name(h)));
	return 0;
}

/* A request flag as privacyIDEA reads params.get(…) (truthy): present,
 * not empty, not false. */
static int truthy_param(const struct token_enroll *e, const char *name)
{
	json_t *v = json_object_get(e->params, name);
	if (!v || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		return *s && strcmp(s, "False") && strcmp(s, "false");
	}
	return 1;
}

int oath_init_detail(struct token_enroll *e, json_t *detail, const char *urltype, long period, struct error *err)
{
	struct token *t = e->t;
	json_object_set_new(detail, "rollout_state", json_string(t->r.rollout_state ? t->r.rollout_state : ""));
	/* The key URI's extra parameters (privacyIDEA's extra_data, in its
	 * order): 2step_salt, 2step_output, 2step_difficulty, image, pin. */
	struct otpauth_kv extra[5];
	size_t n_extra = 0;
	char salt[32], output[32], difficulty[32];
	if (pyjson_is_true(json_object_get(e->params, "2stepinit"))) {
		const char *hs = json_string_value(json_object_get(e->info, "hashlib"));
		enum otp_hash h;
		if (!hs || otp_hash_parse(hs, &h) < 0)
			h = OTP_HASH_SHA1;
		const char *cs = json_string_value(json_object_get(e->info, "2step_clientsize"));
		const char *ds = json_string_value(json_object_get(e->info, "2step_difficulty"));
		long long cl = cs ? strtoll(cs, NULL, 10) : 8, dl = ds ? strtoll(ds, NULL, 10) : 10000;
		snprintf(salt, sizeof(salt), "%lld", cl);
		snprintf(output, sizeof(output), "%zu", otp_hash_keysize(h));
		snprintf(difficulty, sizeof(difficulty), "%lld", dl);
		json_object_set_new(detail, "2step_salt", json_integer(cl));
		json_object_set_new(detail, "2step_output", json_integer((json_int_t)otp_hash_keysize(h)));
		json_object_set_new(detail, "2step_difficulty", json_integer(dl));
		extra[n_extra++] = (struct otpauth_kv){ "2step_salt", salt };
		extra[n_extra++] = (struct otpauth_kv){ "2step_output", output };
		extra[n_extra++] = (struct otpauth_kv){ "2step_difficulty", difficulty };
	}
	/* policy: enrollment.appimageurl, enrollment.<type>_force_app_pin
	 * (init_tokenlabel puts them into the request) */
	const char *image = enroll_param(e, "appimageurl");
	if (image && *image)
		extra[n_extra++] = (struct otpauth_kv){ "image", image };
	if (truthy_param(e, "force_app_pin"))
		extra[n_extra++] = (struct otpauth_kv){ "pin", "True" };
	if (!e->otpkey)
		return 0;
	json_t *ok = json_object_get(detail, "otpkey");
	if (!e->owner || user_is_empty(e->owner) || !ok)
		return 0;
	size_t keylen = 0;
	unsigned char *key = crypto_hex_decode(e->otpkey, &keylen);
	if (!key)
		return err_internal(err, "bad key");
	char *b32 = otp_base32_encode(key, keylen, 0);
	const char *hashlib = token_info(t, "hashlib", "sha1");
	struct otpauth_params p = {
		.tokentype = urltype,
		.key = key,
		.keylen = keylen,
		.serial = t->r.serial,
		.user = e->owner->login,
		.realm = e->owner->realm,
		/* policy: enrollment.tokenlabel, enrollment.tokenissuer */
		.tokenlabel = enroll_param(e, "tokenlabel"),
		.tokenissuer = enroll_param(e, "tokenissuer"),
		.hashlib = hashlib,
		.digits = t->r.otplen,
		.period = period,
		.creator = "privacyidea",
		.add_serial = 1,
		.extra = extra,
		.n_extra = n_extra,
	};
	struct error uerr = { 0 };
	char *gurl = otpauth_google_url(&p, &uerr);
	char *oath = otpauth_oathtoken_url(urltype, e->otpkey, t->r.serial, e->owner->login, e->owner->realm,
					   enroll_param(e, "tokenlabel"), extra, n_extra, &uerr);
	crypto_free_secret(key, keylen);
	if (b32) {
		json_object_set_new(ok, "value_b32", json_string(b32));
		crypto_free_str(b32);
	}
	/* privacyIDEA logs a failing URL and leaves it out. */
	if (gurl) {
		char *img = otpauth_qr_datauri(gurl, &uerr);
		json_object_set_new(detail, "googleurl",
				    json_pack("{s:s,s:s,s:s}", "description", "URL for google Authenticator", "img",
					      img ? img : "", "value", gurl));
		crypto_free_str(img);
		crypto_free_str(gurl);
	}
	if (oath) {
		char *img = otpauth_qr_datauri(oath, &uerr);
		json_object_set_new(detail, "oathurl", json_pack("{s:s,s:s,s:s}", "description", "URL for OATH token",
								 "img", img ? img : "", "value", oath));
		crypto_free_str(img);
		crypto_free_str(oath);
	}
	return 0;
}

static const char LOWER[] = "abcdefghijklmnopqrstuvwxyz";
static const char UPPER[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char LETTERS[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char DIGITS[] = "0123456789";
static const char SPECIAL[] = "!#$%&()*+,-./:;<=>?@[]^_";
static const char BASE58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int token_random_password(char *out, size_t len, const char *contents, int case_split)
{
	char pool[256] = "";
	const char *groups[6];
	size_t ng = 0;
	if (!contents || !*contents)
		contents = case_split ? "cCn" : "cn";
	for (const char *c = contents; *c; c++) {
		const char *add = NULL;
		switch (*c) {
		case 'c': add = case_split ? LOWER : LETTERS; break;
		case 'C': add = UPPER; break;
		case 'n': add = DIGITS; break;
		case 's': add = SPECIAL; break;
		case '8': add = BASE58; break;
		default: break;
		}
		if (add && strlen(pool) + strlen(add) < sizeof(pool) && ng < 6) {
			strcat(pool, add);
			groups[ng++] = add;
		}
	}
	if (!*pool)
		return -1;
	for (int attempt = 0; attempt < 1000; attempt++) {
		if (crypto_random_string(out, len, pool) < 0)
			return -1;
		/* _generate_pin_from_policy requires a character of each class;
		 * the lost-token generator (case_split) does not. */
		if (case_split || len < ng)
			return 0;
		size_t ok = 0;
		for (size_t g = 0; g < ng; g++)
			if (strpbrk(out, groups[g]))
				ok++;
		if (ok == ng)
			return 0;
	}
	return -1;
}
