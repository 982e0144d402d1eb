/*
 * pyjson.c — byte-exact json.dumps(obj, sort_keys=...) of CPython 3 for
 * jansson values (see pyjson.h).  privacyIDEA clients recompute this text
 * to verify our response signatures, so every byte matters: separators,
 * escaping (ensure_ascii), key order and above all float repr.
 *
 * Floats: Python's repr is the shortest decimal string that reads back as
 * the same double (David Gay's dtoa mode 0), written in fixed notation for
 * decimal exponents -4..15 and in "1e+16" style otherwise.  We find the
 * shortest digits by asking glibc's correctly rounded printf for 1..17
 * significant digits and checking the round trip with strtod; when the
 * nearest p-digit decimal misses the rounding interval (which is lopsided
 * at powers of two) its neighbours are tried too, so no shorter string
 * can be overlooked.  Digits are read from printf's output without
 * relying on the decimal point, so LC_NUMERIC does not matter; the default
 * round-to-nearest floating-point mode is assumed (nothing changes it).
 *
 * This file only formats: it never modifies the value, never signs, and
 * owns nothing beyond the returned string (which the caller frees).
 */
#include "pyjson.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper nesting than jansson's own parser accepts (2048) can only come
 * from a hand-built (possibly cyclic) value; refuse it instead of
 * recursing without bound. */
#define PYJSON_MAX_DEPTH 2048

/* ---- output buffer ----------------------------------------------------- */

/* Growable string; its memory ends up owned by pyjson_dumps' caller. */
struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

static int sb_reserve(struct sbuf *b, size_t extra)
{
	if (b->failed)
		return -1;
	if (extra < b->cap - b->len)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (extra >= cap - b->len) {
		if (cap > SIZE_MAX / 2) {
			b->failed = 1;
			return -1;
		}
		cap *= 2;
	}
	char *np = realloc(b->p, cap);
	if (!np) {
		b->failed = 1;
		return -1;
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (sb_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_putc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

/* ---- float repr -------------------------------------------------------- */

/* Store mantissa m × 10^scale as digits (trailing zeros stripped) and the
 * decimal exponent of its first digit. */
static void set_digits(unsigned long long m, int scale, char *digits, int *ndigits, int *exp10)
{
	int n = snprintf(digits, 21, "%llu", m);
	*exp10 = scale + n - 1;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*ndigits = n;
}

/* Keep mantissa m × 10^scale if it reads back as exactly x. */
static int try_candidate(unsigned long long m, int scale, double x, char *digits, int *ndigits,
			 int *exp10)
{
	char text[48];
	if (m == 0)
		return 0;
	snprintf(text, sizeof(text), "%llue%d", m, scale);
	if (strtod(text, NULL) != x)
		return 0;
	set_digits(m, scale, digits, ndigits, exp10);
	return 1;
}

/* Is some p-digit decimal inside x's rounding interval?  If so store the
 * one dtoa picks.  The correctly rounded p-digit decimal nearest to x is
 * the candidate; when it falls outside the interval (which is lopsided at
 * powers of two) the adjacent p-digit decimal on the other side of x may
 * still be inside, and no other can be.  Below a power of ten the p-digit
 * grid is ten times finer, hence the special neighbour there. */
static int digits_at(double x, int p, char *digits, int *ndigits, int *exp10)
{
	static const unsigned long long pow10[] = {
		1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
		100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
		1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
		1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
	};
	char text[48];
	snprintf(text, sizeof(text), "%.*e", p - 1, x);
	unsigned long long m = 0;
	const char *s = text;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			m = m * 10 + (unsigned long long)(*s - '0');
	int scale = (int)strtol(s + 1, NULL, 10) - (p - 1);
	if (p >= 17) { /* 17 significant digits always round-trip */
		set_digits(m, scale, digits, ndigits, exp10);
		return 1;
	}
	if (try_candidate(m, scale, x, digits, ndigits, exp10) ||
	    try_candidate(m + 1, scale, x, digits, ndigits, exp10))
		return 1;
	if (m == pow10[p - 1])
		return try_candidate(pow10[p] - 1, scale - 1, x, digits, ndigits, exp10);
	return try_candidate(m - 1, scale, x, digits, ndigits, exp10);
}

/* Shortest round-tripping significant digits of x (finite, > 0), as dtoa
 * mode 0: x ≈ d1.d2d3... × 10^exp10.  digits needs 21 bytes.  "Some
 * p-digit decimal round-trips" is monotone in p (append a zero), so a
 * binary search over 1..17 finds the shortest in about four steps. */
static void shortest_digits(double x, char *digits, int *ndigits, int *exp10)
{
	int lo = 1, hi = 17;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (digits_at(x, mid, digits, ndigits, exp10))
			hi = mid;
		else
			lo = mid + 1;
	}
	digits_at(x, lo, digits, ndigits, exp10);
}

void pyjson_float_repr(double d, char *buf, size_t len)
{
	if (len == 0)
		return;
	if (isnan(d)) {
		snprintf(buf, len, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, len, d < 0 ? "-inf" : "inf");
		return;
	}
	if (d == 0) {
		snprintf(buf, len, signbit(d) ? "-0.0" : "0.0");
		return;
	}

	char digits[21];
	int n, e;
	shortest_digits(fabs(d), digits, &n, &e);

	char out[64];
	size_t o = 0;
	if (d < 0)
		out[o++] = '-';
	int decpt = e + 1; /* digits are 0.d1d2... × 10^decpt, as in dtoa */
	if (decpt <= -4 || decpt > 16) {
		out[o++] = digits[0];
		if (n > 1) {
			out[o++] = '.';
			memcpy(out + o, digits + 1, (size_t)n - 1);
			o += (size_t)n - 1;
		}
		snprintf(out + o, sizeof(out) - o, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
	} else if (decpt <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (int i = 0; i < -decpt; i++)
			out[o++] = '0';
		memcpy(out + o, digits, (size_t)n);
		o += (size_t)n;
		out[o] = '\0';
	} else if (decpt >= n) {
		memcpy(out + o, digits, (size_t)n);
		o += (size_t)n;
		for (int i = 0; i < decpt - n; i++)
			out[o++] = '0';
		memcpy(out + o, ".0", 3);
	} else {
		memcpy(out + o, digits, (size_t)decpt);
		o += (size_t)decpt;
		out[o++] = '.';
		memcpy(out + o, digits + decpt, (size_t)(n - decpt));
		o += (size_t)(n - decpt);
		out[o] = '\0';
	}
	snprintf(buf, len, "%s", out);
}

/* ---- strings ----------------------------------------------------------- */

/* Decode one UTF-8 sequence at s[0..n); returns its length and the code
 * point in *cp, or 0 when the bytes are not valid UTF-8 (jansson never
 * hands us such strings, but json_stringn_nocheck could). */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned char c = s[0];
	size_t len;
	unsigned long v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static void put_u16(struct sbuf *b, unsigned long unit)
{
	static const char hex[] = "0123456789abcdef"; /* Python writes lowercase */
	char esc[6] = { '\\', 'u', hex[(unit >> 12) & 0xf], hex[(unit >> 8) & 0xf],
			hex[(unit >> 4) & 0xf], hex[unit & 0xf] };
	sb_add(b, esc, sizeof(esc));
}

/* json.encoder's py_encode_basestring_ascii.  Invalid UTF-8 bytes come
 * out as \ufffd, one per byte, so the output stays valid JSON. */
static void put_string(struct sbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	sb_putc(b, '"');
	size_t i = 0;
	while (i < n) {
		/* Copy the run of characters that need no escaping at once. */
		size_t run = i;
		while (run < n && s[run] >= 0x20 && s[run] <= 0x7e && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		if (run > i) {
			sb_add(b, str + i, run - i);
			i = run;
			continue;
		}
		unsigned long cp;
		size_t len = utf8_decode(s + i, n - i, &cp);
		if (len == 0) {
			cp = 0xfffd;
			len = 1;
		}
		i += len;
		switch (cp) {
		case '"': sb_puts(b, "\\\""); break;
		case '\\': sb_puts(b, "\\\\"); break;
		case '\n': sb_puts(b, "\\n"); break;
		case '\r': sb_puts(b, "\\r"); break;
		case '\t': sb_puts(b, "\\t"); break;
		case '\b': sb_puts(b, "\\b"); break;
		case '\f': sb_puts(b, "\\f"); break;
		default:
			if (cp >= 0x10000) {
				unsigned long v = cp - 0x10000;
				put_u16(b, 0xd800 | (v >> 10));
				put_u16(b, 0xdc00 | (v & 0x3ff));
			} else {
				put_u16(b, cp);
			}
		}
	}
	sb_putc(b, '"');
}

/* ---- values ------------------------------------------------------------ */

struct item {
	const char *key;
	size_t klen;
	json_t *value;
};

/* Python sorts str keys by code point; for UTF-8 that is plain byte order
 * (the encoding preserves code point order), a shorter prefix first. */
static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);
	if (c != 0)
		return c;
	return (x->klen > y->klen) - (x->klen < y->klen);
}

static int put_value(struct sbuf *b, const json_t *v, int sort_keys, const char *last_key,
		     int depth);

static int put_object(struct sbuf *b, const json_t *v, int sort_keys, const char *last_key,
		      int depth)
{
	size_t n = json_object_size(v);
	if (n == 0) {
		sb_puts(b, "{}");
		return 0;
	}
	struct item *items = reallocarray(NULL, n, sizeof(*items));
	if (!items)
		return -1;
	size_t count = 0;
	struct item last = { NULL, 0, NULL };
	size_t last_len = last_key ? strlen(last_key) : 0;
	/* json_object_iter walks in insertion order (jansson >= 2.8 keeps
	 * it, a re-set key stays in its first place, like a Python dict). */
	for (void *it = json_object_iter((json_t *)v); it && count < n;
	     it = json_object_iter_next((json_t *)v, it)) {
		struct item cur = { json_object_iter_key(it), json_object_iter_key_len(it),
				    json_object_iter_value(it) };
		if (last_key && cur.klen == last_len && memcmp(cur.key, last_key, last_len) == 0)
			last = cur;
		else
			items[count++] = cur;
	}
	if (sort_keys)
		qsort(items, count, sizeof(*items), item_cmp);
	if (last.key)
		items[count++] = last;

	int rc = 0;
	sb_putc(b, '{');
	for (size_t i = 0; i < count && rc == 0; i++) {
		if (i > 0)
			sb_puts(b, ", ");
		put_string(b, items[i].key, items[i].klen);
		sb_puts(b, ": ");
		rc = put_value(b, items[i].value, sort_keys, NULL, depth + 1);
	}
	sb_putc(b, '}');
	free(items);
	return rc;
}

static int put_value(struct sbuf *b, const json_t *v, int sort_keys, const char *last_key,
		     int depth)
{
	char num[40];
	if (depth > PYJSON_MAX_DEPTH)
		return -1;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return put_object(b, v, sort_keys, last_key, depth);
	case JSON_ARRAY: {
		size_t n = json_array_size(v);
		sb_putc(b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				sb_puts(b, ", ");
			if (put_value(b, json_array_get(v, i), sort_keys, NULL, depth + 1) < 0)
				return -1;
		}
		sb_putc(b, ']');
		return 0;
	}
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		sb_puts(b, num);
		return 0;
	case JSON_REAL: {
		double d = json_real_value(v);
		/* jansson refuses non-finite reals today; json.dumps spells them so. */
		if (isnan(d))
			sb_puts(b, "NaN");
		else if (isinf(d))
			sb_puts(b, d < 0 ? "-Infinity" : "Infinity");
		else {
			pyjson_float_repr(d, num, sizeof(num));
			sb_puts(b, num);
		}
		return 0;
	}
	case JSON_TRUE:
		sb_puts(b, "true");
		return 0;
	case JSON_FALSE:
		sb_puts(b, "false");
		return 0;
	case JSON_NULL:
		sb_puts(b, "null");
		return 0;
	}
	return -1;
}

/* Returns NULL for a NULL value, on allocation failure, or when nesting
 * exceeds PYJSON_MAX_DEPTH (a cyclic value). */
char *pyjson_dumps(const json_t *v, int sort_keys, const char *last_key, size_t *len)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	if (!v)
		return NULL;
	if (sb_reserve(&b, 0) < 0)
		return NULL;
	b.p[0] = '\0';
	if (put_value(&b, v, sort_keys, last_key, 0) < 0 || b.failed) {
		free(b.p);
		return NULL;
	}
	if (len)
		*len = b.len;
	return b.p;
}

int pyjson_is_true(const json_t *v)
{
	if (json_is_true(v))
		return 1;
	if (json_is_integer(v))
		return json_integer_value(v) == 1;
	if (!json_is_string(v))
		return 0;
	const char *s = json_string_value(v);
	return !strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE");
}
