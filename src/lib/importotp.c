/*
 * importotp.c — the token list of the import parsers and the two CSV
 * formats: OATH CSV (privacyIDEA's parseOATHcsv with the token classes'
 * get_import_csv) and the Yubikey personalization tool's CSV log
 * (parseYubicoCSV).  The rules are documented in importotp.h.
 *
 * Must not log or print record contents: they are seeds and PINs.  Every
 * copy of a key is wiped before it is freed.
 */
#include "importotp_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"

/* ---- helpers ---- */

int imp_err(struct error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, ERRK_PI, ERR_TOKENIMPORT, fmt, ap);
	va_end(ap);
	return -1;
}

static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, min = 0x10000, c &= 0x07;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + j] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

int imp_check_input(const char *data, size_t len, int utf8, struct error *err)
{
	if (data == NULL && len)
		return imp_err(err, "No import data given.");
	if (len > IMPORT_MAX_SIZE)
		return imp_err(err, "The import file is too large (more than %u MiB).", IMPORT_MAX_SIZE >> 20);
	if (len && memchr(data, '\0', len))
		return imp_err(err, "The import file contains binary data.");
	if (utf8 && len && !utf8_valid((const unsigned char *)data, len))
		return imp_err(err, "The import file is not valid UTF-8.");
	return 0;
}

char *imp_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *imp_strip(char *s)
{
	while (is_ws((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_ws((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int imp_parse_i64(const char *s, int64_t *v)
{
	while (is_ws((unsigned char)*s))
		s++;
	int neg = 0;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return -1;
	uint64_t acc = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (acc > (UINT64_MAX - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	while (is_ws((unsigned char)*s))
		s++;
	if (*s)
		return -1;
	if (neg) {
		if (acc > (uint64_t)INT64_MAX + 1)
			return -1;
		*v = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	} else {
		if (acc > (uint64_t)INT64_MAX)
			return -1;
		*v = (int64_t)acc;
	}
	return 0;
}

char *imp_hexlify(const unsigned char *d, size_t n)
{
	return crypto_hex_encode(d, n);
}

void imp_free_secret(char **s)
{
	if (*s)
		crypto_free_str(*s);
	*s = NULL;
}

int imp_set_dup(char **dst, const char *s, struct error *err)
{
	*dst = strdup(s);
	return *dst ? 0 : err_internal(err, "out of memory");
}

static void free_str(char **p)
{
	free(*p);
	*p = NULL;
}

void imp_token_clear(struct import_token *t)
{
	free_str(&t->serial);
	free_str(&t->type);
	imp_free_secret(&t->otpkey);
	free_str(&t->hashlib);
	free_str(&t->description);
	free_str(&t->ocrasuite);
	imp_free_secret(&t->tans);
	free_str(&t->username);
	free_str(&t->resolver);
	free_str(&t->realm);
	imp_free_secret(&t->pin);
	memset(t, 0, sizeof(*t));
}

/* Serial lookup: open addressing over positions + 1 (0 = empty), so a
 * 10 MiB file with a record per line stays linear. */
static size_t serial_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static size_t *index_slot(const struct import_list *l, const char *serial)
{
	size_t mask = l->index_cap - 1;
	for (size_t i = serial_hash(serial) & mask;; i = (i + 1) & mask) {
		size_t v = l->index[i];
		if (v == 0 || strcmp(l->tokens[v - 1].serial, serial) == 0)
			return &l->index[i];
	}
}

static int index_grow(struct import_list *l)
{
	size_t cap = l->index_cap ? 2 * l->index_cap : 64;
	size_t *old = l->index, oldcap = l->index_cap;
	l->index = calloc(cap, sizeof(*l->index));
	if (l->index == NULL) {
		l->index = old;
		return -1;
	}
	l->index_cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			*index_slot(l, l->tokens[old[i] - 1].serial) = old[i];
	free(old);
	return 0;
}

int imp_list_put(struct import_list *l, struct import_token *t)
{
	if ((l->count + 1) * 2 > l->index_cap && index_grow(l) < 0) {
		imp_token_clear(t);
		return -1;
	}
	size_t *slot = index_slot(l, t->serial);
	if (*slot) {
		struct import_token *old = &l->tokens[*slot - 1];
		imp_token_clear(old);
		*old = *t;
		memset(t, 0, sizeof(*t));
		return 0;
	}
	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct import_token *n = reallocarray(l->tokens, cap, sizeof(*n));
		if (n == NULL) {
			imp_token_clear(t);
			return -1;
		}
		l->tokens = n;
		l->cap = cap;
	}
	l->tokens[l->count++] = *t;
	*slot = l->count;
	memset(t, 0, sizeof(*t));
	return 0;
}

void imp_list_drop_tokens(struct import_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		imp_token_clear(&l->tokens[i]);
	l->count = 0;
	if (l->index)
		memset(l->index, 0, l->index_cap * sizeof(*l->index));
}

int imp_list_not_imported(struct import_list *l, const char *serial)
{
	if (l->n_not_imported == l->cap_not_imported) {
		size_t cap = l->cap_not_imported ? 2 * l->cap_not_imported : 8;
		char **n = reallocarray(l->not_imported, cap, sizeof(*n));
		if (n == NULL)
			return -1;
		l->not_imported = n;
		l->cap_not_imported = cap;
	}
	char *s = strdup(serial);
	if (s == NULL)
		return -1;
	l->not_imported[l->n_not_imported++] = s;
	return 0;
}

void import_list_init(struct import_list *l)
{
	memset(l, 0, sizeof(*l));
}

void import_list_free(struct import_list *l)
{
	if (l == NULL)
		return;
	imp_list_drop_tokens(l);
	free(l->tokens);
	free(l->index);
	for (size_t i = 0; i < l->n_not_imported; i++)
		free(l->not_imported[i]);
	free(l->not_imported);
	memset(l, 0, sizeof(*l));
}

const struct import_token *import_list_find(const struct import_list *l, const char *serial)
{
	if (l == NULL || serial == NULL || l->index_cap == 0)
		return NULL;
	size_t v = *index_slot(l, serial);
	return v ? &l->tokens[v - 1] : NULL;
}

/* ---- line / field splitting on a private, wiped copy of the input ---- */

struct fields {
	char **f;
	size_t n, cap;
};

/* Split s at every ',' (in place), as Python's str.split(','). */
static int split_commas(char *s, struct fields *fs)
{
	fs->n = 0;
	for (;;) {
		if (fs->n == fs->cap) {
			size_t cap = fs->cap ? 2 * fs->cap : 16;
			char **n = reallocarray(fs->f, cap, sizeof(*n));
			if (n == NULL)
				return -1;
			fs->f = n;
			fs->cap = cap;
		}
		fs->f[fs->n++] = s;
		char *c = strchr(s, ',');
		if (c == NULL)
			return 0;
		*c = '\0';
		s = c + 1;
	}
}

/* Calls fn for each '\n'-separated line (1-based number). */
typedef int (*line_fn)(void *ctx, size_t lineno, char *line, struct error *err);

static int for_each_line(const char *data, size_t len, line_fn fn, void *ctx, struct error *err)
{
	char *copy = imp_strndup(data ? data : "", len);
	if (copy == NULL)
		return err_internal(err, "out of memory");
	int rc = 0;
	size_t lineno = 0;
	char *p = copy;
	for (;;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		rc = fn(ctx, lineno, p, err);
		if (rc < 0 || nl == NULL)
			break;
		p = nl + 1;
	}
	crypto_free_secret(copy, len + 1);
	return rc;
}

static int set_str(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst ? 0 : -1;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---- OATH CSV ---- */

enum csv_kind { K_BASE, K_HOTP, K_TOTP, K_OCRA, K_TAN };

/* privacyIDEA 3.8's token types and whose get_import_csv they use. */
static const struct {
	const char *type;
	enum csv_kind kind;
} TYPES[] = {
	{"hotp", K_HOTP},	   {"paper", K_HOTP},	     {"email", K_HOTP},	   {"sms", K_HOTP},
	{"daplug", K_HOTP},	   {"totp", K_TOTP},	     {"ocra", K_OCRA},	   {"tiqr", K_OCRA},
	{"tan", K_TAN},		   {"spass", K_BASE},	     {"pw", K_BASE},	   {"registration", K_BASE},
	{"certificate", K_BASE},   {"sshkey", K_BASE},	     {"yubikey", K_BASE},  {"yubico", K_BASE},
	{"radius", K_BASE},	   {"remote", K_BASE},	     {"u2f", K_BASE},	   {"webauthn", K_BASE},
	{"push", K_BASE},	   {"4eyes", K_BASE},	     {"indexedsecret", K_BASE},
	{"motp", K_BASE},	   {"vasco", K_BASE},	     {"question", K_BASE},
};

struct oath_ctx {
	struct import_list *out;
	int version2;
};

/* A numeric column: absent or empty → *has = 0. */
static int num_col(struct fields *fs, size_t i, int64_t *v, int *has)
{
	*has = 0;
	if (fs->n <= i)
		return 0;
	char *s = imp_strip(fs->f[i]);
	if (*s == '\0')
		return 0;
	if (imp_parse_i64(s, v) < 0)
		return -1;
	*has = 1;
	return 0;
}

static const char *hashlib_for_keylen(size_t n)
{
	switch (n) {
	case 64:
		return "sha256";
	case 128:
		return "sha512";
	case 56:
		return "sha224";
	case 96:
		return "sha384";
	default:
		return "sha1";
	}
}

static int oath_line(void *vctx, size_t lineno, char *line, struct error *err)
{
	struct oath_ctx *ctx = vctx;
	struct fields fs = {0};
	struct import_token t = {0};
	int rc = -1;
	int64_t v = 0;
	int has = 0;

	if (line[0] == '#')
		return 0;
	if (split_commas(line, &fs) < 0) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (fs.n <= 1) {
		rc = 0;
		goto out;
	}
	char **l = fs.f;
	size_t n = fs.n;
	if (ctx->version2) {
		if (n < 4) {
			imp_err(err, "OATH CSV line %zu: a version 2 line needs username, resolver, realm, serial and key.",
				lineno);
			goto out;
		}
		if (set_str(&t.username, imp_strip(l[0])) || set_str(&t.resolver, imp_strip(l[1])) ||
		    set_str(&t.realm, imp_strip(l[2]))) {
			err_internal(err, "out of memory");
			goto out;
		}
		l += 3;
		n -= 3;
	}
	char *serial = imp_strip(l[0]);
	if (*serial == '\0' || n < 2) {
		rc = 0; /* privacyIDEA skips lines without a serial or key column */
		goto out;
	}
	char *key = imp_strip(l[1]);
	char *type = n >= 3 ? imp_strip(l[2]) : (char *)"hotp";
	enum csv_kind kind = K_BASE;
	size_t ti;
	for (ti = 0; ti < sizeof(TYPES) / sizeof(TYPES[0]); ti++)
		if (strcasecmp(type, TYPES[ti].type) == 0)
			break;
	if (ti == sizeof(TYPES) / sizeof(TYPES[0])) {
		imp_err(err, "OATH CSV line %zu: unknown token type '%.40s'.", lineno, type);
		goto out;
	}
	kind = TYPES[ti].kind;
	if (set_str(&t.serial, serial) || set_str(&t.type, TYPES[ti].type) || set_str(&t.otpkey, key) ||
	    set_str(&t.hashlib, hashlib_for_keylen(strlen(key)))) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (kind == K_OCRA || kind == K_TAN) {
		if (n >= 4) {
			char *c4 = imp_strip(l[3]);
			if (set_str(kind == K_OCRA ? &t.ocrasuite : &t.tans, c4)) {
				err_internal(err, "out of memory");
				goto out;
			}
		}
	} else {
		if (num_col(&(struct fields){l, n, 0}, 3, &v, &has) < 0 || (has && (v < 1 || v > 1000))) {
			imp_err(err, "OATH CSV line %zu: invalid OTP length.", lineno);
			goto out;
		}
		t.otplen = has ? (int)v : 6;
	}
	if (kind == K_HOTP) {
		if (num_col(&(struct fields){l, n, 0}, 4, &v, &has) < 0 || (has && v < 0)) {
			imp_err(err, "OATH CSV line %zu: invalid counter.", lineno);
			goto out;
		}
		t.has_counter = has;
		t.counter = has ? v : 0;
	} else if (kind == K_TOTP) {
		if (num_col(&(struct fields){l, n, 0}, 4, &v, &has) < 0 || (has && (v < 1 || v > 86400 * 366))) {
			imp_err(err, "OATH CSV line %zu: invalid time step.", lineno);
			goto out;
		}
		t.timestep = has ? (int)v : 30;
	}
	if (imp_list_put(ctx->out, &t) < 0) {
		err_internal(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	imp_token_clear(&t);
	free(fs.f);
	return rc;
}

/* ^#\s*version:\s*(\d+) on the first line; version 2 only for exactly "2". */
static int oath_version2(const char *data, size_t len)
{
	size_t i = 0;
	if (len == 0 || data[0] != '#')
		return 0;
	i = 1;
	while (i < len && is_ws((unsigned char)data[i]))
		i++;
	if (len - i < 8 || memcmp(data + i, "version:", 8) != 0)
		return 0;
	i += 8;
	while (i < len && is_ws((unsigned char)data[i]))
		i++;
	size_t d = i;
	while (i < len && isdigit((unsigned char)data[i]))
		i++;
	return i - d == 1 && data[d] == '2';
}

int import_oath_csv(const char *data, size_t len, struct import_list *out, struct error *err)
{
	if (imp_check_input(data, len, 1, err) < 0)
		return -1;
	struct oath_ctx ctx = {out, oath_version2(data, len)};
	if (for_each_line(data, len, oath_line, &ctx, err) < 0) {
		import_list_free(out);
		return -1;
	}
	return 0;
}

/* ---- Yubikey CSV ---- */

static int modhex_val(int c)
{
	static const char MODHEX[] = "cbdefghijklnrtuv";
	const char *p = c ? strchr(MODHEX, c) : NULL;
	return p ? (int)(p - MODHEX) : -1;
}

/* The modhex public id as a decimal number (Python:
 * int(hexlify(modhex_decode(id)), 16)), zero padded to 8 digits. */
static int modhex_decimal(const char *id, char *out, size_t outlen)
{
	unsigned char bytes[64];
	size_t n = strlen(id);
	if (n == 0 || n % 2 || n / 2 > sizeof(bytes))
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = modhex_val((unsigned char)id[i]), lo = modhex_val((unsigned char)id[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		bytes[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	size_t nb = n / 2;
	char digits[160];
	size_t nd = 0;
	/* repeated division of the big-endian number by 10 */
	for (;;) {
		int nonzero = 0;
		unsigned rem = 0;
		for (size_t i = 0; i < nb; i++) {
			unsigned cur = rem << 8 | bytes[i];
			bytes[i] = (unsigned char)(cur / 10);
			rem = cur % 10;
			nonzero |= bytes[i] != 0;
		}
		digits[nd++] = (char)('0' + rem);
		if (!nonzero)
			break;
	}
	while (nd < 8)
		digits[nd++] = '0';
	if (nd + 1 > outlen)
		return -1;
	for (size_t i = 0; i < nd; i++)
		out[i] = digits[nd - 1 - i];
	out[nd] = '\0';
	return 0;
}

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int yubi_put(struct import_list *out, const char *serial, const char *type, const char *key, int otplen,
		    const char *description, struct error *err)
{
	struct import_token t = {0};
	if (set_str(&t.serial, serial) || set_str(&t.type, type) || set_str(&t.otpkey, key) ||
	    set_str(&t.description, description) || set_str(&t.hashlib, "sha1")) {
		imp_token_clear(&t);
		return err_internal(err, "out of memory");
	}
	t.otplen = otplen;
	if (imp_list_put(out, &t) < 0)
		return err_internal(err, "out of memory");
	return 0;
}

static int yubico_line(void *vctx, size_t lineno, char *line, struct error *err)
{
	struct import_list *out = vctx;
	struct fields fs = {0};
	char serial[512], dec[200];
	int rc = -1;

	if (split_commas(line, &fs) < 0) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (fs.n < 6) {
		rc = 0;
		goto out;
	}
	char *first = imp_strip(fs.f[0]);
	char lfirst[32];
	snprintf(lfirst, sizeof(lfirst), "%s", first);
	lower(lfirst);
	if (strlen(first) < sizeof(lfirst) &&
	    (!strcmp(lfirst, "yubico otp") || !strcmp(lfirst, "oath-hotp") || !strcmp(lfirst, "static password"))) {
		char *slot = imp_strip(fs.f[2]);
		char *public_id = imp_strip(fs.f[3]);
		char *key = imp_strip(fs.f[5]);
		if (*public_id == '\0') {
			rc = 0; /* static passwords usually have no public id */
			goto out;
		}
		if (modhex_decimal(public_id, dec, sizeof(dec)) < 0) {
			imp_err(err, "Yubikey CSV line %zu: the public ID is not a modhex string.", lineno);
			goto out;
		}
		if (!strcmp(lfirst, "yubico otp")) {
			snprintf(serial, sizeof(serial), "UBAM%s_%.100s", dec, slot);
			rc = yubi_put(out, serial, "yubikey", key, 32 + (int)strlen(public_id), public_id, err);
		} else if (!strcmp(lfirst, "oath-hotp")) {
			snprintf(serial, sizeof(serial), "UBOM%s_%.100s", dec, slot);
			rc = yubi_put(out, serial, "hotp", key, 6, public_id, err);
		} else {
			rc = 0; /* static password: not importable */
		}
	} else if (all_digits(first)) {
		char *mode = imp_strip(fs.f[2]);
		char *key = imp_strip(fs.f[3]);
		if (strlen(first) > 100) {
			imp_err(err, "Yubikey CSV line %zu: serial number too long.", lineno);
			goto out;
		}
		if (strcmp(mode, "0") == 0) {
			snprintf(serial, sizeof(serial), "UBOM%s_X", first);
			rc = yubi_put(out, serial, "hotp", key, 6, "", err);
		} else if (*mode == '\0') {
			rc = 0; /* static mode: the password cannot be derived */
		} else {
			char *public_id = imp_strip(fs.f[1]);
			snprintf(serial, sizeof(serial), "UBAM%s_X", first);
			rc = yubi_put(out, serial, "yubikey", key, 32 + (int)strlen(public_id), public_id, err);
		}
	} else {
		rc = 0;
	}
out:
	free(fs.f);
	return rc;
}

int import_yubico_csv(const char *data, size_t len, struct import_list *out, struct error *err)
{
	if (imp_check_input(data, len, 1, err) < 0)
		return -1;
	if (for_each_line(data, len, yubico_line, out, err) < 0) {
		import_list_free(out);
		return -1;
	}
	return 0;
}
