/*
 * test_otpauth.c — otpauth.c: the otpauth:// and oathtoken:// URLs exactly
 * as privacyIDEA 3.8 builds them, and the QR code PNG data URI.
 *
 * The expected URLs were computed at development time with /usr/bin/python3
 * following create_google_authenticator_url / create_oathtoken_url of
 * privacyIDEA 3.8 (urllib.parse.quote, str.format, the 180-character label
 * budget with Python slice semantics) and are hard-coded here.  The "3.12
 * style" URL is the one recorded from privacyIDEA 3.12.3 in
 * /work/shared/examples (13-token-init-hotp-alice-rfc4226).
 *
 * The QR code is checked twice: decoded by zbarimg(1) (package zbar-tools)
 * when installed, and read back with libpng, its module grid compared with
 * libqrencode's matrix (box 10 px, border 4 modules, EC level M).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <png.h>
#include <qrencode.h>

#include "lib/crypto.h"
#include "lib/otpauth.h"

static const unsigned char KEY[] = "12345678901234567890";
static const char KEYHEX[] = "3132333435363738393031323334353637383930";

static void check_url(const struct otpauth_params *p, const char *want)
{
	struct error e = {0};
	char *u = otpauth_google_url(p, &e);
	if (u == NULL)
		fail_msg("otpauth_google_url: %s", e.message);
	assert_string_equal(u, want);
	crypto_free_str(u);
}

static void test_hotp_default(void **state)
{
	(void)state;
	struct otpauth_params p = {.tokentype = "hotp", .key = KEY, .keylen = 20, .serial = "HOTP-ALICE",
				   .user = "alice", .realm = "realm1", .digits = 6};
	check_url(&p, "otpauth://hotp/HOTP-ALICE?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1&digits=6"
		      "&issuer=privacyIDEA");
	/* any case of hotp is written lowercase (privacyIDEA normalises it) */
	p.tokentype = "HOTP";
	check_url(&p, "otpauth://hotp/HOTP-ALICE?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1&digits=6"
		      "&issuer=privacyIDEA");
	/* sha1 in any case is left out */
	p.hashlib = "SHA1";
	check_url(&p, "otpauth://hotp/HOTP-ALICE?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1&digits=6"
		      "&issuer=privacyIDEA");
}

static void test_hotp_312_style(void **state)
{
	(void)state;
	struct otpauth_params p = {.tokentype = "hotp", .key = KEY, .keylen = 20, .serial = "HOTP-ALICE",
				   .user = "alice", .realm = "realm1", .digits = 6, .creator = "privacyidea",
				   .add_serial = 1};
	check_url(&p, "otpauth://hotp/HOTP-ALICE?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1&digits=6"
		      "&creator=privacyidea&issuer=privacyIDEA&serial=HOTP-ALICE");
}

static void test_totp_label_issuer(void **state)
{
	(void)state;
	struct otpauth_params p = {.tokentype = "totp", .key = KEY, .keylen = 20, .serial = "TOTP0001",
				   .user = "alice", .realm = "realm1", .tokenlabel = "<u>@<r>/<s>",
				   .tokenissuer = "My Company & Co", .hashlib = "sha256", .digits = 8,
				   .period = 60};
	check_url(&p, "otpauth://totp/alice%40realm1/TOTP0001?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
		      "&algorithm=sha256&period=60&digits=8&issuer=My%20Company%20%26%20Co");
}

static void test_format_tags(void **state)
{
	(void)state;
	struct otpauth_params p = {.tokentype = "totp", .key = KEY, .keylen = 20, .serial = "TOTP2",
				   .user = "bob", .realm = "r", .givenname = "B\xc3\xb3" "b", .surname = "Smith",
				   .tokenlabel = "{user}@{realm} {givenname} {surname} {{x}}",
				   .tokenissuer = "{realm}: {serial}", .hashlib = "SHA512", .digits = 6, .period = 30};
	check_url(&p, "otpauth://totp/bob%40r%20B%C3%B3b%20Smith%20%7Bx%7D?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
		      "&algorithm=SHA512&period=30&digits=6&issuer=r%3A%20TOTP2");
	/* {user!s} and {user:} are plain str.format forms too */
	p.tokenlabel = "{user!s}-{serial:}";
	p.tokenissuer = NULL;
	check_url(&p, "otpauth://totp/bob-TOTP2?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA512&period=30"
		      "&digits=6&issuer=privacyIDEA");
	/* <i> is no privacyIDEA tag: left as it is */
	p.tokenlabel = "<i>";
	check_url(&p, "otpauth://totp/%3Ci%3E?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA512&period=30"
		      "&digits=6&issuer=privacyIDEA");
}

static void test_format_errors(void **state)
{
	(void)state;
	/* rejected by Python's str.format (KeyError, ValueError, IndexError,
	 * AttributeError) and, deliberately, the forms Python accepts but no
	 * label needs: indexing, !r, format specs */
	static const char *bad[] = {"{foo}", "{", "}", "x}y", "{0}", "{}", "{user.name}", "{user",
				    "{user[0]}", "{user!r}", "{user:>10}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct otpauth_params p = {.tokentype = "hotp", .key = KEY, .keylen = 20, .serial = "S",
					   .user = "u", .digits = 6, .tokenlabel = bad[i]};
		struct error e = {0};
		char *u = otpauth_google_url(&p, &e);
		if (u != NULL)
			fail_msg("label %s accepted: %s", bad[i], u);
		assert_int_equal(e.code, ERR_PARAMETER);
		p.tokenlabel = NULL;
		p.tokenissuer = bad[i];
		u = otpauth_google_url(&p, &e);
		if (u != NULL)
			fail_msg("issuer %s accepted: %s", bad[i], u);
	}
	/* a user name with braces breaks the format, as in privacyIDEA */
	struct otpauth_params p = {.tokentype = "hotp", .key = KEY, .keylen = 20, .serial = "S",
				   .user = "a{b}", .digits = 6, .tokenlabel = "<u>"};
	struct error e = {0};
	assert_null(otpauth_google_url(&p, &e));
}

static void test_unicode_and_extra(void **state)
{
	(void)state;
	const struct otpauth_kv extra[] = {
		{"2step_salt", "8"},
		{"2step_output", "20"},
		{"2step_difficulty", "10000"},
		{"image", "https://example.com/a b.png?x=1&y=\xc3\xbc"},
	};
	struct otpauth_params p = {.tokentype = "hotp", .key = KEY, .keylen = 20, .serial = "OATH0001",
				   .user = "j\xc3\xbcrgen", .realm = "w\xc3\xb6rld", .tokenlabel = "<u>:<r>",
				   .digits = 6, .extra = extra, .n_extra = 4};
	check_url(&p, "otpauth://hotp/j%C3%BCrgen%3Aw%C3%B6rld?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1"
		      "&digits=6&issuer=privacyIDEA&2step_salt=8&2step_output=20&2step_difficulty=10000"
		      "&image=https%3A//example.com/a%20b.png%3Fx%3D1%26y%3D%C3%BC");
}

static void test_label_budget(void **state)
{
	(void)state;
	char user[256];
	size_t kl;
	unsigned char *k;

	/* 64-byte key: 180 - len("otpauth://totp/?secret=<103>&counter=1") = 44 chars left */
	memset(user, 'u', 200);
	user[200] = '\0';
	unsigned char zero[64] = {0};
	struct otpauth_params p = {.tokentype = "totp", .key = zero, .keylen = 64, .serial = "S", .user = user,
				   .realm = "r", .tokenlabel = "<u>", .hashlib = "sha512", .digits = 6,
				   .period = 30};
	check_url(&p, "otpauth://totp/uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu?secret="
		      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		      "AAAAA&algorithm=sha512&period=30&digits=6&issuer=privacyIDEA");

	/* 128-byte key: the budget is negative (-58), Python's label[0:-58]
	 * cuts from the end: 70 chars keep 12, 10 chars keep none */
	unsigned char kab[128];
	memset(kab, 0xab, sizeof(kab));
	k = kab;
	kl = sizeof(kab);
	static const char B32AB[] =
		"VOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2"
		"XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5LV"
		"OV2W";
	char want[512];
	snprintf(user, sizeof(user), "%s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxabcdefghij");
	struct otpauth_params q = {.tokentype = "hotp", .key = k, .keylen = kl, .serial = "S", .user = user,
				   .tokenlabel = "<u>", .digits = 6};
	snprintf(want, sizeof(want), "otpauth://hotp/xxxxxxxxxxxx?secret=%s&counter=1&digits=6&issuer=privacyIDEA",
		 B32AB);
	check_url(&q, want);
	q.user = "abcdefghij";
	snprintf(want, sizeof(want), "otpauth://hotp/?secret=%s&counter=1&digits=6&issuer=privacyIDEA", B32AB);
	check_url(&q, want);

	/* the cut counts characters, not bytes: 115 x "ü" survive */
	char uu[512];
	for (int i = 0; i < 200; i++)
		memcpy(uu + 2 * i, "\xc3\xbc", 2);
	uu[400] = '\0';
	struct otpauth_params r = {.tokentype = "hotp", .key = KEY, .keylen = 20, .serial = "S", .user = uu,
				   .tokenlabel = "<u>", .digits = 6};
	char big[2048];
	size_t o = (size_t)snprintf(big, sizeof(big), "otpauth://hotp/");
	for (int i = 0; i < 115; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%%C3%%BC");
	snprintf(big + o, sizeof(big) - o, "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1&digits=6"
					   "&issuer=privacyIDEA");
	check_url(&r, big);
}

static void test_oathtoken_url(void **state)
{
	(void)state;
	struct error e = {0};
	char *u = otpauth_oathtoken_url("hotp", KEYHEX, "HOTP-ALICE", "alice", "realm1", NULL, NULL, 0, &e);
	assert_string_equal(u, "oathtoken:///addToken?name=HOTP-ALICE&lockdown=true"
			       "&key=3132333435363738393031323334353637383930");
	crypto_free_str(u);
	const struct otpauth_kv extra[] = {{"image", "x y"}};
	u = otpauth_oathtoken_url("totp", "ABCDEF", "T1", "a b", "r", "<u>@<r> {user}", extra, 1, &e);
	assert_string_equal(u, "oathtoken:///addToken?name=a%20b%40r%20%7Buser%7D&lockdown=true&key=ABCDEF"
			       "&timeBased=true&image=x%20y");
	crypto_free_str(u);
	assert_null(otpauth_oathtoken_url("hotp", NULL, "S", NULL, NULL, NULL, NULL, 0, &e));
}

static void test_quote(void **state)
{
	(void)state;
	char *q = otpauth_quote("aZ09_.-~/ !\"#$%&'()*+,:;<=>?@[\\]^`{|}\x7f\xc3\xa4");
	assert_string_equal(q, "aZ09_.-~/%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60"
			       "%7B%7C%7D%7F%C3%A4");
	free(q);
}

/* ---- QR ---- */

struct png_read {
	const unsigned char *d;
	size_t len, pos;
};

static void read_fn(png_structp png, png_bytep out, png_size_t n)
{
	struct png_read *r = png_get_io_ptr(png);
	if (n > r->len - r->pos)
		png_error(png, "short");
	memcpy(out, r->d + r->pos, n);
	r->pos += n;
}

/* Decode the PNG to one byte per pixel (0 black, 1 white). */
static unsigned char *png_pixels(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
	struct png_read r = {d, len, 0};
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	assert_non_null(png);
	assert_non_null(info);
	if (setjmp(png_jmpbuf(png)))
		fail_msg("libpng could not read the PNG");
	png_set_read_fn(png, &r, read_fn);
	png_read_info(png, info);
	*w = png_get_image_width(png, info);
	*h = png_get_image_height(png, info);
	assert_int_equal(png_get_bit_depth(png, info), 1);
	assert_int_equal(png_get_color_type(png, info), PNG_COLOR_TYPE_GRAY);
	size_t rb = png_get_rowbytes(png, info);
	unsigned char *row = malloc(rb);
	unsigned char *px = malloc((size_t)*w * *h);
	for (uint32_t y = 0; y < *h; y++) {
		png_read_row(png, row, NULL);
		for (uint32_t x = 0; x < *w; x++)
			px[(size_t)y * *w + x] = (row[x / 8] >> (7 - x % 8)) & 1;
	}
	png_destroy_read_struct(&png, &info, NULL);
	free(row);
	return px;
}

static void check_qr_grid(const char *text, const unsigned char *pngd, size_t len)
{
	uint32_t w, h;
	unsigned char *px = png_pixels(pngd, len, &w, &h);
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	assert_non_null(qr);
	uint32_t size = (uint32_t)(qr->width + 2 * OTPAUTH_QR_BORDER) * OTPAUTH_QR_BOX;
	assert_int_equal(w, size);
	assert_int_equal(h, size);
	for (uint32_t my = 0; my < (uint32_t)qr->width + 2 * OTPAUTH_QR_BORDER; my++)
		for (uint32_t mx = 0; mx < (uint32_t)qr->width + 2 * OTPAUTH_QR_BORDER; mx++) {
			int qx = (int)mx - OTPAUTH_QR_BORDER, qy = (int)my - OTPAUTH_QR_BORDER;
			int black = qx >= 0 && qy >= 0 && qx < qr->width && qy < qr->width &&
				    (qr->data[qy * qr->width + qx] & 1);
			/* every pixel of the 10x10 box has the module's colour */
			for (uint32_t dy = 0; dy < OTPAUTH_QR_BOX; dy++)
				for (uint32_t dx = 0; dx < OTPAUTH_QR_BOX; dx++) {
					size_t i = (size_t)(my * OTPAUTH_QR_BOX + dy) * w + mx * OTPAUTH_QR_BOX + dx;
					assert_int_equal(px[i], black ? 0 : 1);
				}
		}
	QRcode_free(qr);
	free(px);
}

static int have_zbarimg(void)
{
	return system("zbarimg --version >/dev/null 2>&1") == 0;
}

static void check_zbar(const char *text, const unsigned char *pngd, size_t len)
{
	char path[] = "/tmp/tessera-qr-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pngd, len), (ssize_t)len);
	close(fd);
	char cmd[256], out[4096] = "";
	snprintf(cmd, sizeof(cmd), "zbarimg --raw -q %s 2>/dev/null", path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	unlink(path);
	if (n && out[n - 1] == '\n')
		out[n - 1] = '\0';
	assert_string_equal(out, text);
}

static void test_qr_datauri(void **state)
{
	(void)state;
	static const char *texts[] = {
		"otpauth://hotp/HOTP-ALICE?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1&digits=6&issuer=privacyIDEA",
		"otpauth://totp/alice%40realm1/TOTP0001?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=sha256"
		"&period=60&digits=8&issuer=My%20Company%20%26%20Co",
		"oathtoken:///addToken?name=HOTP-ALICE&lockdown=true&key=3132333435363738393031323334353637383930",
		"seed://3132333435363738393031323334353637383930",
	};
	struct error e = {0};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *uri = otpauth_qr_datauri(texts[i], &e);
		assert_non_null(uri);
		assert_int_equal(strncmp(uri, "data:image/png;base64,", 22), 0);
		size_t len = 0;
		unsigned char *pngd = crypto_b64_decode(uri + 22, &len);
		assert_non_null(pngd);
		assert_true(len > 8 && memcmp(pngd, "\x89PNG\r\n\x1a\n", 8) == 0);
		check_qr_grid(texts[i], pngd, len);
		if (have_zbarimg())
			check_zbar(texts[i], pngd, len);
		free(pngd);
		crypto_free_str(uri);
	}
	if (!have_zbarimg())
		print_message("zbarimg not installed (zbar-tools): decode check skipped\n");
}

static void test_qr_too_long(void **state)
{
	(void)state;
	char *big = malloc(5001);
	memset(big, 'x', 5000);
	big[5000] = '\0';
	struct error e = {0};
	assert_null(otpauth_qr_datauri(big, &e));
	assert_int_equal(e.code, ERR_PARAMETER);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hotp_default),	 cmocka_unit_test(test_hotp_312_style),
		cmocka_unit_test(test_totp_label_issuer), cmocka_unit_test(test_format_tags),
		cmocka_unit_test(test_format_errors),	 cmocka_unit_test(test_unicode_and_extra),
		cmocka_unit_test(test_label_budget),	 cmocka_unit_test(test_oathtoken_url),
		cmocka_unit_test(test_quote),		 cmocka_unit_test(test_qr_datauri),
		cmocka_unit_test(test_qr_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
