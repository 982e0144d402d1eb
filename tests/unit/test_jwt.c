/*
 * test_jwt.c — unit tests for src/lib/jwt.c: round trip, byte-identical
 * output to PyJWT, and every rejection privacyIDEA's /auth check makes,
 * with privacyIDEA's error codes (4304, 4305) and PyJWT's reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/crypto.h"
#include "lib/jwt.h"

#define SECRET "t0p s3cr3t"
#define NOW 1700000000LL
#define HS256_HEADER_B64 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
#define DECODE_PREFIX "Authentication failure. Error during decoding your token: "

/* Made at development time with /usr/bin/python3, doing what PyJWT 2's
 * jwt.encode(claims, "t0p s3cr3t", algorithm=alg) does:
 *   b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
 *   h = json.dumps({"typ": "JWT", "alg": alg}, separators=(",", ":"), sort_keys=True)
 *   p = json.dumps(claims, separators=(",", ":"))
 *   si = b64(h.encode()) + "." + b64(p.encode())
 *   token = si + "." + b64(hmac.new(b"t0p s3cr3t", si.encode(), hashlib.sha256).digest())
 * claims = {"username": "adm\u00efn", "realm": "", "nonce": "5e1f0a", "role": "admin",
 *           "authtype": "password", "exp": 4102444800, "rights": ["tokenlist", "enable"]} */
static const char PY_HS256[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VybmFtZSI6ImFkbVx1MDBlZm4iLCJyZWFsbSI6IiIsIm5vbmNlIjoiNWUxZjBhIiwi"
	"cm9sZSI6ImFkbWluIiwiYXV0aHR5cGUiOiJwYXNzd29yZCIsImV4cCI6NDEwMjQ0NDgwMCwicmlnaHRzIjpbInRva2VubGlzdCIsImVuYWJs"
	"ZSJdfQ.AwjCqKmRbAgCR8i1dRIeLLQU4Pf5egGUy-DsK9jPLcE";
/* the same with alg HS512 and hashlib.sha512: validly signed, still refused */
static const char PY_HS512[] =
	"eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ1c2VybmFtZSI6ImFkbVx1MDBlZm4iLCJyZWFsbSI6IiIsIm5vbmNlIjoiNWUxZjBhIiwi"
	"cm9sZSI6ImFkbWluIiwiYXV0aHR5cGUiOiJwYXNzd29yZCIsImV4cCI6NDEwMjQ0NDgwMCwicmlnaHRzIjpbInRva2VubGlzdCIsImVuYWJs"
	"ZSJdfQ.KSVvuhFsAVuTitoH2MiNkd6Ih1NorBRMQPdgay_StYrrYz6jbwYK1E_MLojNv6S14r7UotLawN5EpyfL51sFRA";

static json_t *py_claims(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:[s,s]}", "username", "adm\xc3\xafn", "realm", "", "nonce",
			 "5e1f0a", "role", "admin", "authtype", "password", "exp", (json_int_t)4102444800LL, "rights",
			 "tokenlist", "enable");
}

/* header.payload signed with HMAC-SHA256 under secret (sign = 0: empty
 * signature) — for building tokens the encoder would never make. */
static char *make_token(const char *header, const char *payload, const char *secret, int sign)
{
	char *h = crypto_b64url_encode(header, strlen(header));
	char *p = crypto_b64url_encode(payload, strlen(payload));
	size_t n = strlen(h) + strlen(p) + 2;
	char *si = malloc(n);
	snprintf(si, n, "%s.%s", h, p);
	char *sig = NULL;
	if (sign) {
		unsigned char mac[32];
		unsigned int ml = 0;
		HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)si, strlen(si), mac, &ml);
		sig = crypto_b64url_encode(mac, ml);
	}
	size_t tn = n + 1 + (sig ? strlen(sig) : 0);
	char *t = malloc(tn);
	snprintf(t, tn, "%s.%s", si, sig ? sig : "");
	free(h);
	free(p);
	free(si);
	free(sig);
	return t;
}

static void expect_fail(const char *token, const char *secret, long long now, int code, const char *message)
{
	struct error err = {0};
	json_t *claims = (json_t *)1;
	assert_int_equal(jwt_decode(token, secret, now, &claims, &err), -1);
	assert_null(claims);
	assert_int_equal(err.kind, ERRK_AUTH);
	assert_int_equal(err.code, code);
	if (strcmp(err.message, message) != 0)
		fail_msg("token %s: got \"%s\", want \"%s\"", token ? token : "(null)", err.message, message);
}

static void expect_decode_error(const char *token, const char *why)
{
	char msg[512];
	snprintf(msg, sizeof(msg), DECODE_PREFIX "%s", why);
	expect_fail(token, SECRET, NOW, ERR_AUTH_DECODE, msg);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct error err = {0};
	json_t *in = json_pack("{s:s, s:s, s:I, s:[s]}", "username", "\xe7\x8e\x8b", "role", "admin", "exp",
			       (json_int_t)(NOW + 3600), "rights", "tokenlist");
	char *tok = jwt_encode(in, SECRET, &err);
	assert_non_null(tok);
	assert_int_equal(strncmp(tok, HS256_HEADER_B64 ".", strlen(HS256_HEADER_B64) + 1), 0);
	json_t *out = NULL;
	assert_int_equal(jwt_decode(tok, SECRET, NOW, &out, &err), 0);
	assert_non_null(out);
	assert_true(json_equal(in, out));
	json_decref(out);
	/* claims_out may be NULL: a pure check */
	assert_int_equal(jwt_decode(tok, SECRET, NOW, NULL, &err), 0);
	crypto_free_str(tok);
	json_decref(in);

	/* a token without exp never expires */
	in = json_pack("{s:s}", "username", "x");
	tok = jwt_encode(in, SECRET, &err);
	assert_int_equal(jwt_decode(tok, SECRET, 1LL << 40, &out, &err), 0);
	json_decref(out);
	free(tok);
	json_decref(in);

	/* claims must be an object, the secret non-empty */
	json_t *arr = json_array();
	assert_null(jwt_encode(arr, SECRET, &err));
	json_decref(arr);
	in = json_object();
	assert_null(jwt_encode(in, "", &err));
	json_decref(in);
}

static void test_pyjwt_vector(void **state)
{
	(void)state;
	struct error err = {0};
	json_t *claims = NULL;
	assert_int_equal(jwt_decode(PY_HS256, SECRET, NOW, &claims, &err), 0);
	assert_string_equal(json_string_value(json_object_get(claims, "username")), "adm\xc3\xafn");
	assert_int_equal(json_integer_value(json_object_get(claims, "exp")), 4102444800LL);
	json_t *want = py_claims();
	assert_true(json_equal(claims, want));
	json_decref(claims);
	/* and we write exactly what PyJWT writes */
	char *tok = jwt_encode(want, SECRET, &err);
	assert_string_equal(tok, PY_HS256);
	free(tok);
	json_decref(want);

	/* escapes as Python's json.dumps (ensure_ascii) writes them: lowercase
	 * hex, DEL escaped, surrogate pairs, short forms, '/' unescaped:
	 *   {"u": "a\x7fb\x01c/\u00e9\U0001F600\n\"\\", "n": -5, "l": [True, None, False]} */
	static const char esc[] =
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1IjoiYVx1MDA3ZmJcdTAwMDFjL1x1MDBlOVx1ZDgzZFx1ZGUwMFxuXCJcXCIs"
		"Im4iOi01LCJsIjpbdHJ1ZSxudWxsLGZhbHNlXX0.FI9Jm8HkLMperemHs9Uy_0QdpUlwI8_8061ZW0O_alk";
	json_t *c = json_pack("{s:s, s:i, s:[b,n,b]}", "u", "a\x7f" "b\x01" "c/\xc3\xa9\xf0\x9f\x98\x80\n\"\\", "n",
			      -5, "l", 1, 0);
	tok = jwt_encode(c, SECRET, &err);
	assert_string_equal(tok, esc);
	assert_int_equal(jwt_decode(tok, SECRET, NOW, &claims, &err), 0);
	assert_true(json_equal(claims, c));
	json_decref(claims);
	json_decref(c);
	free(tok);
}

static void test_tampered(void **state)
{
	(void)state;
	char *t = strdup(PY_HS256);
	/* payload: one character changed ("admin" role → "admim") */
	json_t *c = py_claims();
	json_object_set_new(c, "role", json_string("admim"));
	char *payload = json_dumps(c, JSON_COMPACT | JSON_ENSURE_ASCII);
	char *p64 = crypto_b64url_encode(payload, strlen(payload));
	const char *dot1 = strchr(PY_HS256, '.'), *dot2 = strrchr(PY_HS256, '.');
	char buf[1024];
	snprintf(buf, sizeof(buf), "%.*s.%s%s", (int)(dot1 - PY_HS256), PY_HS256, p64, dot2);
	expect_decode_error(buf, "Signature verification failed");
	free(payload);
	free(p64);
	json_decref(c);

	/* signature: a middle character changed */
	char *sig = strrchr(t, '.') + 1;
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	expect_decode_error(t, "Signature verification failed");
	/* signature: unused low bits of the last character set (same MAC bytes
	 * to a lax decoder, refused here) */
	free(t);
	t = strdup(PY_HS256);
	sig = strrchr(t, '.') + 1;
	size_t n = strlen(sig);
	assert_int_equal(sig[n - 1], 'E'); /* value 4: low 2 bits zero */
	sig[n - 1] = 'F';
	expect_decode_error(t, "Invalid crypto padding");
	/* signature: truncated to 40 chars (30 bytes) */
	free(t);
	t = strdup(PY_HS256);
	t[strlen(t) - 3] = '\0';
	expect_decode_error(t, "Signature verification failed");
	free(t);

	/* wrong secret */
	expect_fail(PY_HS256, "t0p s3cr3T", NOW, ERR_AUTH_DECODE, DECODE_PREFIX "Signature verification failed");
}

static void test_algorithms(void **state)
{
	(void)state;
	const char *payload = "{\"username\":\"admin\",\"role\":\"admin\"}";
	static const char *const headers[] = {
		"{\"alg\":\"none\",\"typ\":\"JWT\"}",  "{\"alg\":\"None\",\"typ\":\"JWT\"}",
		"{\"alg\":\"NONE\"}",                   "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS384\",\"typ\":\"JWT\"}", "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"hs256\",\"typ\":\"JWT\"}", "{\"typ\":\"JWT\"}",
		"{\"alg\":null}",                       "{\"alg\":256}",
		"{\"alg\":[\"HS256\"]}",                "{\"alg\":\"\"}",
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(*headers); i++) {
		/* unsigned, and signed with the right secret: both refused */
		char *t = make_token(headers[i], payload, SECRET, 0);
		expect_decode_error(t, "The specified alg value is not allowed");
		free(t);
		t = make_token(headers[i], payload, SECRET, 1);
		expect_decode_error(t, "The specified alg value is not allowed");
		free(t);
	}
	expect_decode_error(PY_HS512, "The specified alg value is not allowed");

	/* HS256 with an empty signature */
	char *t = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, SECRET, 0);
	expect_decode_error(t, "Signature verification failed");
	free(t);
	/* a correctly signed HS256 token without "typ" is fine, as in PyJWT */
	t = make_token("{\"alg\":\"HS256\"}", payload, SECRET, 1);
	struct error err = {0};
	json_t *c = NULL;
	assert_int_equal(jwt_decode(t, SECRET, NOW, &c, &err), 0);
	json_decref(c);
	free(t);
}

static void test_expiry(void **state)
{
	(void)state;
	static const char expired[] = "Authentication failure. Your token has expired: Signature has expired";
	struct error err = {0};
	json_t *c = json_pack("{s:s, s:I}", "username", "admin", "exp", (json_int_t)NOW);
	char *t = jwt_encode(c, SECRET, &err);
	expect_fail(t, SECRET, NOW, ERR_AUTH_EXPIRED, expired);         /* exp == now */
	expect_fail(t, SECRET, NOW + 100, ERR_AUTH_EXPIRED, expired);
	json_t *out = NULL;
	assert_int_equal(jwt_decode(t, SECRET, NOW - 1, &out, &err), 0); /* one second left */
	json_decref(out);
	/* an expired token with a bad signature is a signature error first */
	t[strlen(t) - 3] = t[strlen(t) - 3] == 'A' ? 'B' : 'A';
	expect_decode_error(t, "Signature verification failed");
	free(t);
	json_decref(c);

	/* exp as a real truncates as int() does; other types are refused */
	char *tok = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"exp\":1700000000.9}", SECRET, 1);
	expect_fail(tok, SECRET, NOW, ERR_AUTH_EXPIRED, expired);
	free(tok);
	tok = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"exp\":1e300}", SECRET, 1);
	assert_int_equal(jwt_decode(tok, SECRET, NOW, &out, &err), 0);
	json_decref(out);
	free(tok);
	tok = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"exp\":\"4102444800\"}", SECRET, 1);
	expect_decode_error(tok, "Expiration Time claim (exp) must be an integer.");
	free(tok);
	tok = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"exp\":null}", SECRET, 1);
	expect_decode_error(tok, "Expiration Time claim (exp) must be an integer.");
	free(tok);
	tok = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"nbf\":1700000001}", SECRET, 1);
	expect_decode_error(tok, "The token is not yet valid (nbf)");
	free(tok);
	tok = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"iat\":\"yesterday\"}", SECRET, 1);
	expect_decode_error(tok, "Issued At claim (iat) must be an integer.");
	free(tok);
}

static void test_garbage(void **state)
{
	(void)state;
	expect_decode_error(NULL, "Not enough segments");
	expect_decode_error("", "Not enough segments");
	expect_decode_error("garbage", "Not enough segments");
	expect_decode_error("a.b", "Not enough segments");
	expect_decode_error(HS256_HEADER_B64 ".e30", "Not enough segments");
	expect_decode_error("..", "Invalid header string: '[' or '{' expected near end of file");

	/* three segments, bad base64 in each place */
	expect_decode_error("!!!.e30.AAAA", "Invalid header padding");
	expect_decode_error("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9=.e30.AAAA", "Invalid header padding");
	expect_decode_error("e.e30.AAAA", "Invalid header padding");
	expect_decode_error(HS256_HEADER_B64 ".e3+0.AAAA", "Invalid payload padding");
	expect_decode_error(HS256_HEADER_B64 ".e30.AA/A", "Invalid crypto padding");
	expect_decode_error(HS256_HEADER_B64 ".e30.AA AA", "Invalid crypto padding");
	/* four segments: the extra dot lands in the payload, as in PyJWT */
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s.x", PY_HS256);
	expect_decode_error(buf, "Invalid payload padding");

	/* headers that are not JSON objects */
	char *h = crypto_b64url_encode("not json", 8);
	snprintf(buf, sizeof(buf), "%s.e30.AAAA", h);
	free(h);
	struct error err = {0};
	assert_int_equal(jwt_decode(buf, SECRET, NOW, NULL, &err), -1);
	assert_int_equal(err.code, ERR_AUTH_DECODE);
	assert_int_equal(strncmp(err.message, DECODE_PREFIX "Invalid header string: ",
				 strlen(DECODE_PREFIX "Invalid header string: ")),
			 0);
	h = crypto_b64url_encode("[1]", 3);
	snprintf(buf, sizeof(buf), "%s.e30.AAAA", h);
	free(h);
	expect_decode_error(buf, "Invalid header string: must be a json object");
	h = crypto_b64url_encode("{\"alg\":\"HS256\",\"alg\":\"none\"}", 28);
	snprintf(buf, sizeof(buf), "%s.e30.AAAA", h);
	free(h);
	assert_int_equal(jwt_decode(buf, SECRET, NOW, NULL, &err), -1);
	assert_int_equal(err.code, ERR_AUTH_DECODE);

	/* signed payloads that are not JSON objects */
	char *t = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "[1]", SECRET, 1);
	expect_decode_error(t, "Invalid payload string: must be a json object");
	free(t);
	t = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"a\":", SECRET, 1);
	assert_int_equal(jwt_decode(t, SECRET, NOW, NULL, &err), -1);
	assert_int_equal(err.code, ERR_AUTH_DECODE);
	assert_non_null(strstr(err.message, "Invalid payload string: "));
	free(t);

	/* no secret configured is a server error, not an auth failure */
	assert_int_equal(jwt_decode(PY_HS256, "", NOW, NULL, &err), -1);
	assert_int_equal(err.kind, ERRK_INTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_pyjwt_vector), cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_algorithms), cmocka_unit_test(test_expiry),      cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
