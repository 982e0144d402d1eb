/*
 * otpauth.c — otpauth:// and oathtoken:// enrollment URLs and their QR
 * codes (libqrencode + libpng), as described in otpauth.h.
 *
 * The URLs carry the token secret, so every buffer that held one is wiped
 * before it is freed (the string builder below never uses realloc, which
 * could leave an unwiped copy behind).  Nothing here logs.
 */
#include "otpauth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <png.h>
#include <qrencode.h>

#include "crypto.h"
#include "otp.h"

/* ---- a string builder that wipes what it discards ---- */

struct sb {
	char *buf;
	size_t len, cap;
	int oom;
};

static int sb_reserve(struct sb *b, size_t more)
{
	if (b->oom)
		return -1;
	if (more > SIZE_MAX / 2 - b->len) {
		b->oom = 1;
		return -1;
	}
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *n = malloc(cap);
	if (n == NULL) {
		b->oom = 1;
		return -1;
	}
	if (b->buf) {
		memcpy(n, b->buf, b->len);
		crypto_free_secret(b->buf, b->cap);
	}
	b->buf = n;
	b->cap = cap;
	return 0;
}

static void sb_putn(struct sb *b, const char *s, size_t n)
{
	if (sb_reserve(b, n) < 0)
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void sb_putc(struct sb *b, char c)
{
	sb_putn(b, &c, 1);
}

static void sb_printf_long(struct sb *b, long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%ld", v);
	if (n > 0)
		sb_putn(b, tmp, (size_t)n);
}

/* urllib.parse.quote(s, safe='/') on the UTF-8 bytes of s */
static void sb_quote(struct sb *b, const char *s)
{
	static const char HEX[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		    c == '.' || c == '-' || c == '~' || c == '/') {
			sb_putc(b, (char)c);
		} else {
			char e[3] = {'%', HEX[c >> 4], HEX[c & 15]};
			sb_putn(b, e, 3);
		}
	}
}

static void sb_wipe(struct sb *b)
{
	if (b->buf)
		crypto_free_secret(b->buf, b->cap);
	b->buf = NULL;
	b->len = b->cap = 0;
}

/* Hand the built string to the caller (NULL after an allocation failure). */
static char *sb_finish(struct sb *b, struct error *err)
{
	if (b->oom || b->buf == NULL) {
		sb_wipe(b);
		err_internal(err, "out of memory");
		return NULL;
	}
	char *s = b->buf;
	b->buf = NULL;
	return s;
}

char *otpauth_quote(const char *s)
{
	struct sb b = {0};
	sb_reserve(&b, strlen(s));
	sb_quote(&b, s);
	return sb_finish(&b, NULL);
}

/* ---- label templates ---- */

struct tag {
	const char *name;
	const char *value;
};

/* str.replace(from, to) for every occurrence, left to right. */
static void replace_all(struct sb *out, const char *s, const char *from, const char *to)
{
	size_t fl = strlen(from);
	const char *p;
	while ((p = strstr(s, from)) != NULL) {
		sb_putn(out, s, (size_t)(p - s));
		sb_puts(out, to);
		s = p + fl;
	}
	sb_puts(out, s);
}

/* Python str.format with keyword arguments only.  Supported fields:
 * {name}, {name!s}, {name:} ; "{{" and "}}" are literal braces.  Anything
 * Python would reject (unknown name, positional field, single brace) and
 * the exotic forms (attribute/index access, other conversions, format
 * specs) fail with -1. */
static int pyformat(struct sb *out, const char *t, const struct tag *tags, size_t ntags)
{
	while (*t) {
		if (*t == '{') {
			if (t[1] == '{') {
				sb_putc(out, '{');
				t += 2;
				continue;
			}
			const char *end = strchr(t + 1, '}');
			if (end == NULL)
				return -1;
			size_t flen = (size_t)(end - (t + 1));
			const char *f = t + 1;
			if (memchr(f, '{', flen))
				return -1;
			size_t nlen = strcspn(f, "!:}");
			const char *rest = f + nlen;
			if (*rest == '!') {
				if (rest[1] != 's' || (rest[2] != '}' && rest[2] != ':'))
					return -1;
				rest += 2;
			}
			if (*rest == ':') {
				if (rest[1] != '}')
					return -1;
				rest += 1;
			}
			if (*rest != '}')
				return -1;
			const char *val = NULL;
			for (size_t i = 0; i < ntags; i++)
				if (strlen(tags[i].name) == nlen && memcmp(tags[i].name, f, nlen) == 0)
					val = tags[i].value;
			if (val == NULL)
				return -1;
			sb_puts(out, val);
			t = end + 1;
		} else if (*t == '}') {
			if (t[1] != '}')
				return -1;
			sb_putc(out, '}');
			t += 2;
		} else {
			sb_putc(out, *t++);
		}
	}
	return 0;
}

/* Number of UTF-8 code points (bytes that are not continuation bytes). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

/* Byte length of the first `chars` code points of s. */
static size_t utf8_prefix(const char *s, size_t chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t seen = 0;
	for (; *p; p++) {
		if ((*p & 0xc0) != 0x80) {
			if (seen == chars)
				break;
			seen++;
		}
	}
	return (size_t)(p - (const unsigned char *)s);
}

static const char *nz(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

static void put_extra(struct sb *b, const struct otpauth_kv *extra, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sb_putc(b, '&');
		sb_quote(b, nz(extra[i].key, ""));
		sb_putc(b, '=');
		sb_quote(b, nz(extra[i].value, ""));
	}
}

char *otpauth_google_url(const struct otpauth_params *p, struct error *err)
{
	struct sb lab1 = {0}, lab2 = {0}, lab3 = {0}, iss = {0}, url = {0};
	char *b32 = NULL, *ret = NULL;

	if (p == NULL || p->tokentype == NULL || p->serial == NULL || (p->key == NULL && p->keylen)) {
		err_internal(err, "otpauth_google_url: missing arguments");
		return NULL;
	}
	const char *user = nz(p->user, ""), *realm = nz(p->realm, "");
	const struct tag tags[] = {
		{"serial", p->serial},
		{"user", user},
		{"realm", realm},
		{"givenname", nz(p->givenname, "")},
		{"surname", nz(p->surname, "")},
	};
	const size_t ntags = sizeof(tags) / sizeof(tags[0]);
	int is_hotp = strcasecmp(p->tokentype, "hotp") == 0;
	const char *type = is_hotp ? "hotp" : p->tokentype;

	b32 = otp_base32_encode(p->key ? p->key : (const unsigned char *)"", p->keylen, 0);
	if (b32 == NULL) {
		err_internal(err, "out of memory");
		goto out;
	}

	/* label: <s>/<u>/<r>, then str.format, then the length cut */
	replace_all(&lab1, nz(p->tokenlabel, "<s>"), "<s>", p->serial);
	replace_all(&lab2, lab1.buf ? lab1.buf : "", "<u>", user);
	sb_wipe(&lab1);
	replace_all(&lab1, lab2.buf ? lab2.buf : "", "<r>", realm);
	if (lab1.oom || lab2.oom) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (pyformat(&lab3, lab1.buf ? lab1.buf : "", tags, ntags) < 0) {
		err_set(err, ERRK_PI, ERR_PARAMETER, "Invalid tokenlabel template.");
		goto out;
	}
	if (pyformat(&iss, nz(p->tokenissuer, "privacyIDEA"), tags, ntags) < 0) {
		err_set(err, ERRK_PI, ERR_PARAMETER, "Invalid tokenissuer template.");
		goto out;
	}
	sb_putn(&lab3, "", 0);
	sb_putn(&iss, "", 0);
	long base_len = (long)(strlen("otpauth://") + strlen(type) + strlen("/?secret=") + strlen(b32) +
			       strlen("&counter=1"));
	long allowed = OTPAUTH_MAX_QRCODE_LEN - base_len;
	size_t nchars = utf8_chars(lab3.buf ? lab3.buf : "");
	size_t keep;
	if (allowed >= 0)
		keep = (size_t)allowed < nchars ? (size_t)allowed : nchars;
	else
		keep = (size_t)-allowed < nchars ? nchars - (size_t)-allowed : 0;
	size_t keep_bytes = utf8_prefix(lab3.buf ? lab3.buf : "", keep);
	if (lab3.buf)
		lab3.buf[keep_bytes] = '\0';

	sb_puts(&url, "otpauth://");
	sb_puts(&url, type);
	sb_putc(&url, '/');
	sb_quote(&url, lab3.buf ? lab3.buf : "");
	sb_puts(&url, "?secret=");
	sb_puts(&url, b32);
	sb_putc(&url, '&');
	if (is_hotp)
		sb_puts(&url, "counter=1&");
	const char *hashlib = nz(p->hashlib, "sha1");
	if (strcasecmp(hashlib, "sha1") != 0) {
		sb_puts(&url, "algorithm=");
		sb_puts(&url, hashlib);
		sb_putc(&url, '&');
	}
	if (strcasecmp(p->tokentype, "totp") == 0) {
		sb_puts(&url, "period=");
		sb_printf_long(&url, p->period);
		sb_putc(&url, '&');
	}
	sb_puts(&url, "digits=");
	sb_printf_long(&url, p->digits);
	sb_putc(&url, '&');
	if (p->creator) {
		sb_puts(&url, "creator=");
		sb_quote(&url, p->creator);
		sb_putc(&url, '&');
	}
	sb_puts(&url, "issuer=");
	sb_quote(&url, iss.buf ? iss.buf : "");
	if (p->add_serial) {
		sb_puts(&url, "&serial=");
		sb_quote(&url, p->serial);
	}
	put_extra(&url, p->extra, p->n_extra);
	ret = sb_finish(&url, err);
out:
	sb_wipe(&lab1);
	sb_wipe(&lab2);
	sb_wipe(&lab3);
	sb_wipe(&iss);
	sb_wipe(&url);
	if (b32)
		crypto_free_str(b32);
	return ret;
}

char *otpauth_oathtoken_url(const char *tokentype, const char *otpkey_hex, const char *serial, const char *user,
			    const char *realm, const char *tokenlabel, const struct otpauth_kv *extra,
			    size_t n_extra, struct error *err)
{
	struct sb l1 = {0}, l2 = {0}, l3 = {0}, url = {0};
	char *ret = NULL;

	if (tokentype == NULL || otpkey_hex == NULL || serial == NULL) {
		err_internal(err, "otpauth_oathtoken_url: missing arguments");
		return NULL;
	}
	replace_all(&l1, nz(tokenlabel, "<s>"), "<s>", serial);
	replace_all(&l2, l1.buf ? l1.buf : "", "<u>", nz(user, ""));
	replace_all(&l3, l2.buf ? l2.buf : "", "<r>", nz(realm, ""));
	sb_puts(&url, "oathtoken:///addToken?name=");
	sb_quote(&url, l3.buf ? l3.buf : "");
	sb_puts(&url, "&lockdown=true&key=");
	sb_puts(&url, otpkey_hex);
	if (strcasecmp(tokentype, "totp") == 0)
		sb_puts(&url, "&timeBased=true");
	put_extra(&url, extra, n_extra);
	if (l1.oom || l2.oom || l3.oom)
		url.oom = 1;
	ret = sb_finish(&url, err);
	sb_wipe(&l1);
	sb_wipe(&l2);
	sb_wipe(&l3);
	sb_wipe(&url);
	return ret;
}

/* ---- QR code → PNG ---- */

struct pngout {
	unsigned char *data;
	size_t len, cap;
};

static void png_mem_write(png_structp png, png_bytep bytes, png_size_t n)
{
	struct pngout *o = png_get_io_ptr(png);
	if (n > SIZE_MAX / 2 - o->len)
		png_error(png, "PNG too large");
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n)
			cap *= 2;
		unsigned char *d = malloc(cap);
		if (d == NULL)
			png_error(png, "out of memory");
		if (o->data) {
			memcpy(d, o->data, o->len);
			crypto_free_secret(o->data, o->cap);
		}
		o->data = d;
		o->cap = cap;
	}
	memcpy(o->data + o->len, bytes, n);
	o->len += n;
}

static void png_mem_flush(png_structp png)
{
	(void)png;
}

struct pngjob {
	png_structp png;
	png_infop info;
	unsigned char *row;
	size_t rowbytes;
	const QRcode *qr;
	uint32_t size; /* image width = height in pixels */
	struct pngout out;
};

/* Everything the error path needs lives in *j (memory, not registers), so
 * longjmp cannot clobber it. */
static int png_encode(struct pngjob *j)
{
	if (setjmp(png_jmpbuf(j->png)))
		return -1;
	png_set_write_fn(j->png, &j->out, png_mem_write, png_mem_flush);
	png_set_IHDR(j->png, j->info, j->size, j->size, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(j->png, j->info);
	const int qw = j->qr->width;
	for (uint32_t y = 0; y < j->size; y++) {
		long my = (long)(y / OTPAUTH_QR_BOX) - OTPAUTH_QR_BORDER;
		memset(j->row, 0xff, j->rowbytes); /* white */
		for (uint32_t x = 0; x < j->size; x++) {
			long mx = (long)(x / OTPAUTH_QR_BOX) - OTPAUTH_QR_BORDER;
			if (mx >= 0 && my >= 0 && mx < qw && my < qw && (j->qr->data[my * qw + mx] & 1))
				j->row[x / 8] &= (unsigned char)~(0x80u >> (x % 8));
		}
		png_write_row(j->png, j->row);
	}
	png_write_end(j->png, NULL);
	return 0;
}

int otpauth_qr_png(const char *text, unsigned char **png, size_t *len, struct error *err)
{
	struct pngjob j;
	QRcode *qr;
	int rc = -1;

	memset(&j, 0, sizeof(j));
	if (text == NULL)
		return err_internal(err, "otpauth_qr_png: no text");
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL)
		return err_set(err, ERRK_PI, ERR_PARAMETER, "The data does not fit into a QR code.");
	j.qr = qr;
	j.size = (uint32_t)(qr->width + 2 * OTPAUTH_QR_BORDER) * OTPAUTH_QR_BOX;
	j.rowbytes = (j.size + 7) / 8;
	j.row = malloc(j.rowbytes);
	j.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (j.png)
		j.info = png_create_info_struct(j.png);
	if (j.row == NULL || j.png == NULL || j.info == NULL) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (png_encode(&j) < 0) {
		err_internal(err, "PNG encoding failed");
		goto out;
	}
	*png = j.out.data;
	*len = j.out.len;
	j.out.data = NULL;
	rc = 0;
out:
	if (j.png)
		png_destroy_write_struct(&j.png, j.info ? &j.info : NULL);
	if (j.row)
		crypto_free_secret(j.row, j.rowbytes);
	if (j.out.data)
		crypto_free_secret(j.out.data, j.out.cap);
	OPENSSL_cleanse(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	return rc;
}

char *otpauth_qr_datauri(const char *text, struct error *err)
{
	static const char PREFIX[] = "data:image/png;base64,";
	unsigned char *png = NULL;
	size_t len = 0;

	if (otpauth_qr_png(text, &png, &len, err) < 0)
		return NULL;
	char *b64 = crypto_b64_encode(png, len);
	crypto_free_secret(png, len);
	if (b64 == NULL) {
		err_internal(err, "out of memory");
		return NULL;
	}
	size_t bl = strlen(b64);
	char *uri = malloc(sizeof(PREFIX) + bl);
	if (uri) {
		memcpy(uri, PREFIX, sizeof(PREFIX) - 1);
		memcpy(uri + sizeof(PREFIX) - 1, b64, bl + 1);
	} else {
		err_internal(err, "out of memory");
	}
	crypto_free_str(b64);
	return uri;
}
