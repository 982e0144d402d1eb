/*
 * config.c — read pi.cfg (see config.h) without a Python interpreter.
 *
 * privacyIDEA execs pi.cfg as Python and keeps the assignments.  We parse
 * the subset admins write and reject anything else as a whole, with one
 * "<file>:<line>: <problem>" message, rather than guess:
 *   - `NAME = value` statements at column 0; `import x` / `from x import y`
 *     statements (checked to be plain imports), blank lines and `#`
 *     comments are skipped;
 *   - values: string literals ('', "", triple-quoted, r/u prefixes, Python
 *     escapes, adjacent literals and `+` joined), integers (also 0x/0o/0b
 *     and 1_000; kept as decimal text), floats (kept as written), True,
 *     False, None, logging.DEBUG .. logging.CRITICAL (10 .. 50), the name
 *     of an earlier setting (a copy of its value), and list, tuple, set or
 *     dict displays of these, possibly spanning lines.  Displays are kept
 *     as their source text minus comments; the scalar elements of a list,
 *     tuple or set are also kept for cfg_get_list;
 *   - a later assignment of a name replaces the value but keeps the name's
 *     first position (as a Python dict does);
 *   - names in any case are kept (Flask would drop lower-case ones; they
 *     are never looked up, so keeping them only shows in cfg_key_at).
 * Line endings CRLF / CR are read as LF, a UTF-8 BOM is skipped, and the
 * file must be valid UTF-8 without NUL bytes (as Python requires).
 *
 * None: `NAME = None` behaves as absent for cfg_has and every cfg_get_*
 * (privacyIDEA's config.get() cannot tell them apart either); the name is
 * still listed by cfg_count / cfg_key_at.
 *
 * Ownership: struct cfg owns every string it hands out; they live until
 * cfg_free.  Only cfg_get_list returns memory the caller frees.  Nothing
 * is mutated after loading, so a cfg can be shared by threads.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CFG_DEFAULT_PATH "/etc/tessera/pi.cfg"
#define CFG_MAX_SIZE (16u * 1024 * 1024)
#define CFG_MAX_NESTING 64

enum cfg_kind { K_NONE, K_STR, K_INT, K_FLOAT, K_BOOL, K_LIST, K_TUPLE, K_SET, K_DICT };

/* A parsed value.  Owns text and items. */
struct val {
	enum cfg_kind kind;
	char *text;     /* STR: the string; INT: decimal; FLOAT: as written;
			   BOOL/NONE: "True"/"False"/"None"; displays: source */
	long long ival; /* INT, BOOL */
	double dval;    /* FLOAT */
	size_t nelems;  /* displays: number of elements */
	char **items;   /* LIST/TUPLE/SET of scalars only: their texts */
	size_t nitems;
	int items_ok;   /* every element so far was a scalar */
};

struct cfg_entry {
	char *key;
	struct val v;
	int line;
};

struct cfg {
	char *path; /* as given (or the origin of cfg_parse) */
	char *dir;  /* absolute folder of path */
	struct cfg_entry *e;
	size_t n, cap;
};

struct parser {
	const char *s; /* normalised source: LF line ends, NUL-terminated */
	size_t len, pos;
	int line;
	const char *origin;
	struct error *err;
	struct cfg *cfg;
};

/* Growable string for decoded literals and display texts. */
struct str {
	char *p;
	size_t len, cap;
};

static int str_add(struct str *b, const char *s, size_t n)
{
	if (b->cap - b->len <= n) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		char *np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Take the built string (never NULL on success: "" when empty). */
static char *str_take(struct str *b)
{
	if (!b->p && str_add(b, "", 0) < 0)
		return NULL;
	char *p = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

static void val_free(struct val *v)
{
	free(v->text);
	for (size_t i = 0; i < v->nitems; i++)
		free(v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

/* ---- errors ----------------------------------------------------------- */

static int perr(struct parser *P, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *P, int line, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(P->err, ERRK_PI, ERR_GENERIC, "%s:%d: %s", P->origin, line, what);
}

static int oom(struct parser *P)
{
	return err_set(P->err, ERRK_INTERNAL, ERR_INTERNAL, "%s: out of memory", P->origin);
}

/* The (UTF-8) character at the cursor, quoted for a message. */
static const char *char_desc(const struct parser *P, char *buf, size_t len)
{
	unsigned char c = (unsigned char)P->s[P->pos];
	if (c == '\0')
		snprintf(buf, len, "end of file");
	else if (c == '\n')
		snprintf(buf, len, "end of line");
	else if (c < 0x20 || c == 0x7f)
		snprintf(buf, len, "character 0x%02x", c);
	else {
		int n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		snprintf(buf, len, "'%.*s'", n, P->s + P->pos);
	}
	return buf;
}

/* ---- lexing helpers ------------------------------------------------------ */

static char peek(const struct parser *P)
{
	return P->s[P->pos];
}

static char peek_at(const struct parser *P, size_t off)
{
	return P->pos + off <= P->len ? P->s[P->pos + off] : '\0';
}

static int is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Skip blanks and backslash-newline continuations; inside brackets
 * (nested) newlines and comments too, as Python's tokenizer does. */
static void skip_ws(struct parser *P, int nested)
{
	for (;;) {
		char c = peek(P);
		if (c == ' ' || c == '\t' || c == '\f') {
			P->pos++;
		} else if (c == '\\' && peek_at(P, 1) == '\n' && peek_at(P, 2) != '\0') {
			/* (a continuation into the end of the file is an error) */
			P->pos += 2;
			P->line++;
		} else if (nested && c == '\n') {
			P->pos++;
			P->line++;
		} else if (nested && c == '#') {
			while (peek(P) && peek(P) != '\n')
				P->pos++;
		} else {
			return;
		}
	}
}

/* Length of a string prefix (r, u, b, f, rb, fr, ...) at the cursor if a
 * quote follows it, else -1. */
static int string_prefix_len(const struct parser *P)
{
	for (int n = 0; n <= 2; n++) {
		char c = peek_at(P, (size_t)n);
		if (c == '\'' || c == '"')
			return n;
		if (!strchr("rRuUbBfF", c) || c == '\0')
			return -1;
	}
	return -1;
}

/* End of the (well-formed) string literal whose quote is at s[i]. */
static size_t skip_literal(const char *s, size_t i, size_t end)
{
	char q = s[i];
	int triple = i + 2 < end && s[i + 1] == q && s[i + 2] == q;
	i += triple ? 3 : 1;
	while (i < end) {
		if (s[i] == '\\') {
			i += 2;
		} else if (s[i] == q) {
			if (!triple)
				return i + 1;
			if (i + 2 < end && s[i + 1] == q && s[i + 2] == q)
				return i + 3;
			i++;
		} else {
			i++;
		}
	}
	return end;
}

/* ---- string literals ----------------------------------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int put_code_point(struct parser *P, struct str *out, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp == 0)
		return perr(P, P->line, "NUL characters in strings are not supported");
	if (cp >= 0xd800 && cp <= 0xdfff)
		return perr(P, P->line, "surrogate \\u%04lx cannot be encoded as UTF-8", cp);
	if (cp > 0x10ffff)
		return perr(P, P->line, "illegal Unicode character in \\U escape");
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return str_add(out, u, n) < 0 ? oom(P) : 0;
}

/* One escape after a backslash in a non-raw string; cursor on the char
 * after the backslash. */
static int parse_escape(struct parser *P, struct str *out)
{
	static const char simple_in[] = "\\'\"abfnrtv";
	static const char simple_out[] = "\\'\"\a\b\f\n\r\t\v";
	char c = peek(P);
	const char *hit = c ? strchr(simple_in, c) : NULL;
	if (hit) {
		P->pos++;
		return str_add(out, &simple_out[hit - simple_in], 1) < 0 ? oom(P) : 0;
	}
	if (c == '\n') { /* line continuation inside the literal */
		P->pos++;
		P->line++;
		return 0;
	}
	if (c >= '0' && c <= '7') {
		unsigned long cp = 0;
		for (int i = 0; i < 3 && peek(P) >= '0' && peek(P) <= '7'; i++)
			cp = cp * 8 + (unsigned long)(P->s[P->pos++] - '0');
		return put_code_point(P, out, cp);
	}
	int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
	if (digits) {
		unsigned long cp = 0;
		P->pos++;
		for (int i = 0; i < digits; i++) {
			int h = hex_value(peek(P));
			if (h < 0)
				return perr(P, P->line, "truncated \\%c escape in string", c);
			cp = cp * 16 + (unsigned long)h;
			P->pos++;
		}
		return put_code_point(P, out, cp);
	}
	if (c == 'N')
		return perr(P, P->line, "\\N{...} escapes are not supported");
	/* Unknown escapes stay as written, backslash included (Python does
	 * the same, with a warning) — regular expressions rely on it. */
	return str_add(out, "\\", 1) < 0 ? oom(P) : 0;
}

/* One string literal at the cursor (prefix included), appended to out. */
static int parse_literal(struct parser *P, struct str *out)
{
	int plen = string_prefix_len(P);
	int raw = 0;
	for (int i = 0; i < plen; i++) {
		char c = P->s[P->pos + (size_t)i];
		if (c == 'b' || c == 'B')
			return perr(P, P->line, "bytes literals are not supported");
		if (c == 'f' || c == 'F')
			return perr(P, P->line, "f-strings are not supported");
		if (c == 'r' || c == 'R')
			raw = 1;
	}
	if (plen == 2)
		return perr(P, P->line, "invalid string prefix '%.2s'", P->s + P->pos);
	P->pos += (size_t)plen;
	char q = peek(P);
	int triple = peek_at(P, 1) == q && peek_at(P, 2) == q;
	int start_line = P->line;
	P->pos += triple ? 3 : 1;
	for (;;) {
		size_t run = P->pos;
		while (P->s[run] && P->s[run] != q && P->s[run] != '\\' && P->s[run] != '\n')
			run++;
		if (run > P->pos && str_add(out, P->s + P->pos, run - P->pos) < 0)
			return oom(P);
		P->pos = run;
		char c = peek(P);
		if (c == '\0' || (c == '\n' && !triple))
			return perr(P, start_line, "unterminated %sstring", triple ? "triple-quoted " : "");
		P->pos++;
		if (c == '\n') {
			P->line++;
			if (str_add(out, "\n", 1) < 0)
				return oom(P);
		} else if (c == q) {
			if (!triple)
				return 0;
			if (peek(P) == q && peek_at(P, 1) == q) {
				P->pos += 2;
				return 0;
			}
			if (str_add(out, &q, 1) < 0)
				return oom(P);
		} else if (raw) { /* a backslash: kept, and it protects the next char */
			char n = peek(P);
			if (n == '\0')
				continue; /* reported as unterminated above */
			if (n == '\n')
				P->line++;
			P->pos++;
			char pair[2] = { '\\', n };
			if (str_add(out, pair, 2) < 0)
				return oom(P);
		} else {
			if (peek(P) == '\0')
				continue;
			if (parse_escape(P, out) < 0)
				return -1;
		}
	}
}

/* Adjacent literals ('a' "b") form one string, as in Python. */
static int parse_string(struct parser *P, int nested, struct val *out)
{
	struct str b = { 0 };
	for (;;) {
		if (parse_literal(P, &b) < 0) {
			free(b.p);
			return -1;
		}
		size_t save = P->pos;
		int save_line = P->line;
		skip_ws(P, nested);
		if (string_prefix_len(P) < 0) {
			P->pos = save;
			P->line = save_line;
			break;
		}
	}
	out->kind = K_STR;
	out->text = str_take(&b);
	return out->text ? 0 : oom(P);
}

/* ---- numbers and names ------------------------------------------------- */

/* Number text being collected; `room` keeps space for '.', 'e', a sign
 * and the NUL, so only digits can run out of it (too_long). */
struct numbuf {
	char s[128];
	size_t len;
	int too_long;
};

static void num_add(struct numbuf *b, char c, size_t room)
{
	if (b->len + room < sizeof(b->s))
		b->s[b->len++] = c;
	else
		b->too_long = 1;
}

/* Digits of `base` with single underscores between them, appended to b.
 * Returns the count, -1 on a misplaced underscore. */
static int scan_digits(struct parser *P, int base, struct numbuf *b)
{
	int n = 0;
	for (;;) {
		char c = peek(P);
		int d = hex_value(c);
		if (d < 0 || d >= base) {
			if (c == '_' && n > 0) {
				int next = hex_value(peek_at(P, 1));
				if (next < 0 || next >= base)
					return -1;
				P->pos++;
				continue;
			}
			return n;
		}
		num_add(b, c, 4);
		P->pos++;
		n++;
	}
}

static int parse_number(struct parser *P, int negative, struct val *out)
{
	struct numbuf b = { .len = 0 };
	int base = 10, is_float = 0, bad = 0;
	char c1 = peek_at(P, 1);
	if (negative)
		num_add(&b, '-', 1);
	if (peek(P) == '0' && c1 && strchr("xXoObB", c1)) {
		base = (c1 == 'x' || c1 == 'X') ? 16 : (c1 == 'o' || c1 == 'O') ? 8 : 2;
		P->pos += 2;
		if (peek(P) == '_')
			P->pos++;
		bad = scan_digits(P, base, &b) <= 0;
	} else {
		size_t first = b.len;
		bad = scan_digits(P, 10, &b) < 0;
		if (peek(P) == '.') {
			is_float = 1;
			num_add(&b, '.', 1);
			P->pos++;
			if (is_digit(peek(P)))
				bad |= scan_digits(P, 10, &b) < 0;
		}
		char e1 = peek_at(P, 1);
		if ((peek(P) == 'e' || peek(P) == 'E') &&
		    (is_digit(e1) || ((e1 == '+' || e1 == '-') && is_digit(peek_at(P, 2))))) {
			is_float = 1;
			num_add(&b, 'e', 1);
			P->pos++;
			if (peek(P) == '+' || peek(P) == '-')
				num_add(&b, P->s[P->pos++], 1);
			bad |= scan_digits(P, 10, &b) < 0;
		}
		/* Python 3 forbids 012 (but allows 0, 00 and 0_0). */
		for (size_t i = first; !is_float && i < b.len; i++)
			bad |= b.s[first] == '0' && b.s[i] != '0';
	}
	b.s[b.len] = '\0';
	if (peek(P) == 'j' || peek(P) == 'J')
		return perr(P, P->line, "complex numbers are not supported");
	if (bad || is_ident_char(peek(P)))
		return perr(P, P->line, "invalid number");
	if (b.too_long)
		return perr(P, P->line, "number too long");
	if (is_float) {
		out->kind = K_FLOAT;
		out->dval = strtod(b.s, NULL);
		out->text = strdup(b.s);
		return out->text ? 0 : oom(P);
	}
	errno = 0;
	unsigned long long u = strtoull(b.s + (negative ? 1 : 0), NULL, base);
	if (errno == ERANGE || u > (unsigned long long)LLONG_MAX + (negative ? 1u : 0u))
		return perr(P, P->line, "integer out of range");
	out->kind = K_INT;
	out->ival = negative ? (long long)(0 - u) : (long long)u;
	char text[32];
	snprintf(text, sizeof(text), "%lld", out->ival);
	out->text = strdup(text);
	return out->text ? 0 : oom(P);
}

static const struct {
	const char *name;
	int level;
} logging_levels[] = {
	{ "CRITICAL", 50 }, { "FATAL", 50 }, { "ERROR", 40 }, { "WARNING", 30 },
	{ "WARN", 30 },     { "INFO", 20 },  { "DEBUG", 10 }, { "NOTSET", 0 },
};

static const char *const python_keywords[] = {
	"and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
	"elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
	"is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
	"with", "yield", "True", "False", "None",
};

static int is_keyword(const char *w)
{
	for (size_t i = 0; i < sizeof(python_keywords) / sizeof(python_keywords[0]); i++)
		if (strcmp(w, python_keywords[i]) == 0)
			return 1;
	return 0;
}

/* Identifier at the cursor into w (truncated to wlen-1, which only
 * matters for messages: real names are short). */
static void read_ident(struct parser *P, char *w, size_t wlen)
{
	size_t n = 0;
	while (is_ident_char(peek(P))) {
		if (n + 1 < wlen)
			w[n++] = peek(P);
		P->pos++;
	}
	w[n] = '\0';
}

static struct cfg_entry *find_entry(const struct cfg *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

static int val_copy(struct val *dst, const struct val *src)
{
	*dst = *src;
	dst->text = NULL;
	dst->items = NULL;
	dst->nitems = 0;
	if (src->text && !(dst->text = strdup(src->text)))
		goto fail;
	if (src->items) {
		dst->items = reallocarray(NULL, src->nitems ? src->nitems : 1, sizeof(char *));
		if (!dst->items)
			goto fail;
		for (; dst->nitems < src->nitems; dst->nitems++)
			if (!(dst->items[dst->nitems] = strdup(src->items[dst->nitems])))
				goto fail;
	}
	return 0;
fail:
	val_free(dst);
	return -1;
}

static int set_text(struct parser *P, struct val *out, enum cfg_kind kind, const char *text)
{
	out->kind = kind;
	out->text = strdup(text);
	return out->text ? 0 : oom(P);
}

static int parse_name(struct parser *P, struct val *out)
{
	char w[64];
	int line = P->line;
	read_ident(P, w, sizeof(w));
	if (strcmp(w, "True") == 0 || strcmp(w, "False") == 0) {
		out->ival = w[0] == 'T';
		return set_text(P, out, K_BOOL, w);
	}
	if (strcmp(w, "None") == 0)
		return set_text(P, out, K_NONE, w);
	if (strcmp(w, "logging") == 0 && peek(P) == '.') {
		char level[64];
		P->pos++;
		read_ident(P, level, sizeof(level));
		for (size_t i = 0; i < sizeof(logging_levels) / sizeof(logging_levels[0]); i++) {
			if (strcmp(level, logging_levels[i].name) == 0) {
				char text[8];
				snprintf(text, sizeof(text), "%d", logging_levels[i].level);
				out->ival = logging_levels[i].level;
				return set_text(P, out, K_INT, text);
			}
		}
		return perr(P, line, "unknown logging level 'logging.%s'", level);
	}
	if (is_keyword(w))
		return perr(P, line, "unexpected keyword '%s' in value", w);
	if (peek(P) == '.' || peek(P) == '(' || peek(P) == '[')
		return perr(P, line, "unsupported expression '%s%c': only literal values are allowed",
			    w, peek(P));
	const struct cfg_entry *ref = find_entry(P->cfg, w);
	if (!ref)
		return perr(P, line, "name '%s' is not defined", w);
	return val_copy(out, &ref->v) < 0 ? oom(P) : 0;
}

/* ---- expressions and displays -------------------------------------------- */

static int parse_expr(struct parser *P, int nested, int depth, struct val *out);

static int is_scalar(enum cfg_kind k)
{
	return k == K_STR || k == K_INT || k == K_FLOAT || k == K_BOOL;
}

/* Record one element of a list/tuple/set display. */
static int add_item(struct parser *P, struct val *seq, struct val *elem)
{
	seq->nelems++;
	if (!seq->items_ok)
		return 0;
	if (!is_scalar(elem->kind)) {
		seq->items_ok = 0;
		return 0;
	}
	char **ni = reallocarray(seq->items, seq->nitems + 1, sizeof(char *));
	if (!ni)
		return oom(P);
	seq->items = ni;
	seq->items[seq->nitems++] = elem->text;
	elem->text = NULL;
	return 0;
}

static int closer_of(char open)
{
	return open == '[' ? ']' : open == '(' ? ')' : '}';
}

/* After an element: ',' (consumed, returns 0), the closer (left for the
 * caller, returns 1) or an error.  close == 0: a bare tuple, which ends
 * with the logical line. */
static int after_element(struct parser *P, char open, int open_line, int nested)
{
	char close = open ? (char)closer_of(open) : 0;
	char desc[32];
	skip_ws(P, nested);
	char c = peek(P);
	if (c == ',') {
		P->pos++;
		return 0;
	}
	if (close && c == close)
		return 1;
	if (!close && (c == '\n' || c == '\0' || c == '#'))
		return 1;
	if (close && c == '\0')
		return perr(P, open_line, "unbalanced bracket: '%c' is never closed", open);
	if (c == ')' || c == ']' || c == '}') {
		if (close)
			return perr(P, P->line, "unbalanced bracket: '%c' opened on line %d closed by '%c'",
				    open, open_line, c);
		return perr(P, P->line, "unbalanced bracket: unexpected '%c'", c);
	}
	char_desc(P, desc, sizeof(desc));
	if (close)
		return perr(P, P->line, "expected ',' or '%c', found %s", close, desc);
	return perr(P, P->line, "expected ',' or end of line, found %s", desc);
}

/* Elements up to the closer (or end of line for a bare tuple).  seq has
 * its kind set and may already hold the first element. */
static int parse_elements(struct parser *P, struct val *seq, char open, int open_line, int depth)
{
	char close = open ? (char)closer_of(open) : 0;
	int nested = open != 0;
	int dict = seq->kind == K_DICT;
	for (;;) {
		skip_ws(P, nested);
		char c = peek(P);
		if (close && c == close)
			break;
		if (!close && (c == '\n' || c == '\0' || c == '#'))
			break;
		if (close && c == '\0')
			return perr(P, open_line, "unbalanced bracket: '%c' is never closed", open);
		if (c == ')' || c == ']' || c == '}')
			return after_element(P, open, open_line, nested);
		struct val elem = { 0 };
		if (parse_expr(P, nested, depth + 1, &elem) < 0) {
			val_free(&elem);
			return -1;
		}
		if (dict) {
			val_free(&elem);
			skip_ws(P, 1);
			if (peek(P) != ':')
				return perr(P, P->line, "expected ':' after a dict key");
			P->pos++;
			skip_ws(P, 1);
			int rc = parse_expr(P, 1, depth + 1, &elem);
			val_free(&elem);
			if (rc < 0)
				return -1;
			seq->nelems++;
		} else if (add_item(P, seq, &elem) < 0) {
			val_free(&elem);
			return -1;
		}
		val_free(&elem);
		int r = after_element(P, open, open_line, nested);
		if (r < 0)
			return -1;
		if (r == 1)
			break;
	}
	if (close)
		P->pos++;
	return 0;
}

/* The source text of a display minus its comments. */
static char *display_text(const struct parser *P, size_t from, size_t to, int wrap)
{
	struct str b = { 0 };
	int ok = !wrap || str_add(&b, "(", 1) == 0;
	size_t i = from;
	while (ok && i < to) {
		char c = P->s[i];
		if (c == '\'' || c == '"') {
			size_t end = skip_literal(P->s, i, to);
			ok = str_add(&b, P->s + i, end - i) == 0;
			i = end;
		} else if (c == '#') {
			while (i < to && P->s[i] != '\n')
				i++;
		} else {
			ok = str_add(&b, &c, 1) == 0;
			i++;
		}
	}
	/* A bare tuple's span may end in blanks before a comment. */
	while (ok && wrap && b.len > 1 && (b.p[b.len - 1] == ' ' || b.p[b.len - 1] == '\t'))
		b.p[--b.len] = '\0';
	if (ok && wrap)
		ok = str_add(&b, ")", 1) == 0;
	if (!ok) {
		free(b.p);
		return NULL;
	}
	return str_take(&b);
}

/* [..], (..), {..}: cursor on the opener. */
static int parse_display(struct parser *P, int depth, struct val *out)
{
	size_t start = P->pos;
	char open = peek(P);
	int open_line = P->line;
	if (depth >= CFG_MAX_NESTING)
		return perr(P, P->line, "nesting too deep");
	P->pos++;
	out->items_ok = 1;
	out->kind = open == '[' ? K_LIST : K_TUPLE;
	skip_ws(P, 1);
	if (open != '[' && peek(P) != closer_of(open) && peek(P) != '\0' &&
	    !strchr(")]}", peek(P))) {
		/* ( and { need their first element to know what they are. */
		struct val first = { 0 };
		if (parse_expr(P, 1, depth + 1, &first) < 0) {
			val_free(&first);
			return -1;
		}
		skip_ws(P, 1);
		if (open == '(' && peek(P) == ')') { /* just parentheses */
			P->pos++;
			val_free(out);
			*out = first;
			return 0;
		}
		if (open == '{' && peek(P) == ':') {
			out->kind = K_DICT;
			P->pos++;
			skip_ws(P, 1);
			val_free(&first);
			if (parse_expr(P, 1, depth + 1, &first) < 0) {
				val_free(&first);
				return -1;
			}
			out->nelems++;
		} else {
			out->kind = open == '{' ? K_SET : K_TUPLE;
			if (add_item(P, out, &first) < 0) {
				val_free(&first);
				return -1;
			}
		}
		val_free(&first);
		int r = after_element(P, open, open_line, 1);
		if (r < 0)
			return -1;
		if (r == 1) {
			P->pos++;
			goto done;
		}
	} else if (open == '{') {
		out->kind = K_DICT; /* {} is an empty dict */
	}
	if (parse_elements(P, out, open, open_line, depth) < 0)
		return -1;
done:
	if (!out->items_ok || out->kind == K_DICT) {
		for (size_t i = 0; i < out->nitems; i++)
			free(out->items[i]);
		free(out->items);
		out->items = NULL;
		out->nitems = 0;
	} else if (!out->items && !(out->items = malloc(sizeof(char *)))) {
		return oom(P);
	}
	out->text = display_text(P, start, P->pos, 0);
	return out->text ? 0 : oom(P);
}

/* One operand: literal, name, display, or a signed number. */
static int parse_atom(struct parser *P, int nested, int depth, struct val *out)
{
	char c = peek(P);
	char desc[32];
	if (string_prefix_len(P) >= 0)
		return parse_string(P, nested, out);
	if (c == '-' || c == '+') {
		P->pos++;
		skip_ws(P, nested);
		if (is_digit(peek(P)) || (peek(P) == '.' && is_digit(peek_at(P, 1))))
			return parse_number(P, c == '-', out);
		return perr(P, P->line, "'%c' must be followed by a number", c);
	}
	if (is_digit(c) || (c == '.' && is_digit(peek_at(P, 1))))
		return parse_number(P, 0, out);
	if (c == '[' || c == '(' || c == '{')
		return parse_display(P, depth, out);
	if (is_ident_start(c))
		return parse_name(P, out);
	if (c == ')' || c == ']' || c == '}')
		return perr(P, P->line, "unbalanced bracket: unexpected '%c'", c);
	if (c == '\n' || c == '\0' || c == '#')
		return perr(P, P->line, "missing value");
	return perr(P, P->line, "unexpected %s in value", char_desc(P, desc, sizeof(desc)));
}

/* atom ('+' atom)*: '+' joins strings only. */
static int parse_expr(struct parser *P, int nested, int depth, struct val *out)
{
	if (parse_atom(P, nested, depth, out) < 0)
		return -1;
	for (;;) {
		size_t save = P->pos;
		int save_line = P->line;
		skip_ws(P, nested);
		if (peek(P) != '+') {
			P->pos = save;
			P->line = save_line;
			return 0;
		}
		int line = P->line;
		P->pos++;
		skip_ws(P, nested);
		struct val rhs = { 0 };
		if (parse_atom(P, nested, depth, &rhs) < 0) {
			val_free(&rhs);
			return -1;
		}
		if (out->kind != K_STR || rhs.kind != K_STR) {
			val_free(&rhs);
			return perr(P, line, "'+' is only supported between strings");
		}
		struct str b = { out->text, strlen(out->text), strlen(out->text) + 1 };
		out->text = NULL;
		if (str_add(&b, rhs.text, strlen(rhs.text)) < 0) {
			free(b.p);
			val_free(&rhs);
			return oom(P);
		}
		out->text = b.p;
		val_free(&rhs);
	}
}

/* ---- statements ---------------------------------------------------------- */

/* Skip a comment (if any) and the end of its line. */
static void skip_line(struct parser *P)
{
	while (peek(P) && peek(P) != '\n')
		P->pos++;
	if (peek(P) == '\n') {
		P->pos++;
		P->line++;
	}
}

/* Check and skip `import a.b [as c], d` / `from .x import (y, z)`: only
 * names, dots, commas, '*' and one level of parentheses (which may span
 * lines).  Anything else is an error rather than a silently skipped rest
 * of the file. */
static int parse_import(struct parser *P, int is_from)
{
	int open_line = 0, names = 0, has_import = !is_from;
	char desc[32];
	for (;;) {
		skip_ws(P, open_line != 0);
		char c = peek(P);
		if (is_ident_start(c)) {
			size_t start = P->pos;
			while (is_ident_char(peek(P)))
				P->pos++;
			has_import |= P->pos - start == 6 && memcmp(P->s + start, "import", 6) == 0;
			names++;
		} else if (c == '.' || c == ',' || c == '*') {
			P->pos++;
		} else if (c == '(' && !open_line) {
			open_line = P->line;
			P->pos++;
		} else if (c == ')' && open_line) {
			open_line = 0;
			P->pos++;
		} else if (c == '\0' && open_line) {
			return perr(P, open_line, "unbalanced bracket: '(' is never closed");
		} else if ((c == '\n' || c == '\0' || c == '#') && names > 0 && has_import) {
			skip_line(P);
			return 0;
		} else {
			return perr(P, P->line, "invalid import statement: unexpected %s",
				    char_desc(P, desc, sizeof(desc)));
		}
	}
}

static int store(struct parser *P, const char *key, struct val *v, int line)
{
	struct cfg *c = P->cfg;
	struct cfg_entry *e = find_entry(c, key);
	if (e) { /* a later assignment wins, the name keeps its place */
		val_free(&e->v);
		e->v = *v;
		e->line = line;
		memset(v, 0, sizeof(*v));
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct cfg_entry *ne = reallocarray(c->e, cap, sizeof(*ne));
		if (!ne)
			return oom(P);
		c->e = ne;
		c->cap = cap;
	}
	char *k = strdup(key);
	if (!k)
		return oom(P);
	c->e[c->n].key = k;
	c->e[c->n].v = *v;
	c->e[c->n].line = line;
	c->n++;
	memset(v, 0, sizeof(*v));
	return 0;
}

/* One statement starting at the beginning of a line. */
static int parse_statement(struct parser *P)
{
	char desc[32];
	size_t indent = P->pos;
	while (peek(P) == ' ' || peek(P) == '\t' || peek(P) == '\f')
		P->pos++;
	char c = peek(P);
	if (c == '\0')
		return 0;
	if (c == '\n' || c == '#') {
		skip_line(P);
		return 0;
	}
	if (P->pos != indent)
		return perr(P, P->line, "unexpected indentation");
	int line = P->line;
	size_t name_start = P->pos;
	char key[256] = "";
	if (is_ident_start(c))
		read_ident(P, key, sizeof(key));
	int ends_well = peek(P) == '\0' || strchr(" \t\f=\n#\\", peek(P));
	if (!key[0] || !ends_well || P->pos - name_start >= sizeof(key)) {
		size_t end = P->pos;
		while (P->s[end] && !strchr(" \t\f=\n", P->s[end]) && end - name_start < 60)
			end++;
		if (end == name_start)
			return perr(P, line, "expected a setting name, found %s",
				    char_desc(P, desc, sizeof(desc)));
		return perr(P, line, "bad identifier '%.*s'", (int)(end - name_start),
			    P->s + name_start);
	}
	if (strcmp(key, "import") == 0 || strcmp(key, "from") == 0)
		return parse_import(P, key[0] == 'f');
	if (is_keyword(key))
		return perr(P, line, "unsupported statement '%s'", key);
	skip_ws(P, 0);
	if (peek(P) != '=' || peek_at(P, 1) == '=')
		return perr(P, line, "missing '=' after '%s'", key);
	P->pos++;
	skip_ws(P, 0);
	if (peek(P) == '\n' || peek(P) == '\0' || peek(P) == '#')
		return perr(P, P->line, "missing value for '%s'", key);

	struct val v = { 0 };
	size_t value_start = P->pos;
	if (parse_expr(P, 0, 0, &v) < 0)
		goto fail;
	skip_ws(P, 0);
	if (peek(P) == ',') { /* NAME = 'a', 'b' is a tuple */
		struct val t = { 0 };
		t.kind = K_TUPLE;
		t.items_ok = 1;
		P->pos++;
		if (add_item(P, &t, &v) < 0 || parse_elements(P, &t, 0, line, 0) < 0) {
			val_free(&t);
			goto fail;
		}
		val_free(&v);
		v = t;
		if (!v.items_ok) {
			for (size_t i = 0; i < v.nitems; i++)
				free(v.items[i]);
			free(v.items);
			v.items = NULL;
			v.nitems = 0;
		}
		if (!(v.text = display_text(P, value_start, P->pos, 1))) {
			oom(P);
			goto fail;
		}
	}
	skip_ws(P, 0);
	if (peek(P) == '#')
		while (peek(P) && peek(P) != '\n')
			P->pos++;
	c = peek(P);
	if (c == ')' || c == ']' || c == '}') {
		perr(P, P->line, "unbalanced bracket: unexpected '%c'", c);
		goto fail;
	}
	if (c != '\n' && c != '\0') {
		perr(P, P->line, "unexpected %s after the value of '%s'",
		     char_desc(P, desc, sizeof(desc)), key);
		goto fail;
	}
	if (c == '\n') {
		P->pos++;
		P->line++;
	}
	if (store(P, key, &v, line) < 0)
		goto fail;
	return 0;
fail:
	val_free(&v);
	return -1;
}

/* ---- loading ------------------------------------------------------------- */

/* LF line ends (Python reads source with universal newlines), BOM gone.
 * Rejects NUL bytes and invalid UTF-8 with the offending line. */
static char *normalise(const char *text, size_t len, const char *origin, struct error *err)
{
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	char *out = malloc(len + 1);
	if (!out) {
		err_set(err, ERRK_INTERNAL, ERR_INTERNAL, "%s: out of memory", origin);
		return NULL;
	}
	size_t o = 0;
	int line = 1;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\r') {
			out[o++] = '\n';
			i += (i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
			line++;
			continue;
		}
		if (c == '\0') {
			err_set(err, ERRK_PI, ERR_GENERIC, "%s:%d: NUL byte in file", origin, line);
			goto fail;
		}
		size_t n = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3
			 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
		int ok = n > 0 && i + n <= len;
		for (size_t k = 1; ok && k < n; k++)
			ok = ((unsigned char)text[i + k] & 0xc0) == 0x80;
		if (ok && n == 3) { /* no overlongs, no surrogates */
			unsigned char c1 = (unsigned char)text[i + 1];
			ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
		} else if (ok && n == 4) {
			unsigned char c1 = (unsigned char)text[i + 1];
			ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
		}
		if (!ok) {
			err_set(err, ERRK_PI, ERR_GENERIC, "%s:%d: invalid UTF-8", origin, line);
			goto fail;
		}
		memcpy(out + o, text + i, n);
		o += n;
		i += n;
		line += c == '\n';
	}
	out[o] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/* os.path.dirname(os.path.abspath(path)). */
static char *abs_dir(const char *path)
{
	struct str full = { 0 };
	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		if (!cwd)
			return NULL;
		int ok = str_add(&full, cwd, strlen(cwd)) == 0 && str_add(&full, "/", 1) == 0;
		free(cwd);
		if (!ok) {
			free(full.p);
			return NULL;
		}
	}
	if (str_add(&full, path, strlen(path)) < 0) {
		free(full.p);
		return NULL;
	}
	/* Lexical normalisation into the same buffer: the result is never
	 * longer than the input. */
	char *s = full.p, *out = full.p;
	size_t o = 0;
	for (size_t i = 0; s[i];) {
		while (s[i] == '/')
			i++;
		size_t j = i;
		while (s[j] && s[j] != '/')
			j++;
		size_t n = j - i;
		if (n == 0 || (n == 1 && s[i] == '.')) {
			/* nothing */
		} else if (n == 2 && s[i] == '.' && s[i + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			out[o++] = '/';
			memmove(out + o, s + i, n);
			o += n;
		}
		i = j;
	}
	/* Drop the file name. */
	while (o > 0 && out[o - 1] != '/')
		o--;
	if (o > 1)
		o--;
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

static struct cfg *parse_buffer(const char *text, size_t len, const char *origin, struct error *err)
{
	struct cfg *c = calloc(1, sizeof(*c));
	char *src = NULL;
	if (!c || !(c->path = strdup(origin)) || !(c->dir = abs_dir(origin))) {
		err_set(err, ERRK_INTERNAL, ERR_INTERNAL, "%s: out of memory or no working directory",
			origin);
		goto fail;
	}
	if (!(src = normalise(text, len, origin, err)))
		goto fail;
	struct parser P = { src, strlen(src), 0, 1, origin, err, c };
	while (peek(&P) != '\0')
		if (parse_statement(&P) < 0)
			goto fail;
	free(src);
	return c;
fail:
	free(src);
	cfg_free(c);
	return NULL;
}

struct cfg *cfg_parse(const char *text, const char *origin, struct error *err)
{
	if (!origin)
		origin = "<string>";
	return parse_buffer(text ? text : "", text ? strlen(text) : 0, origin, err);
}

/* The whole file into a malloc'd buffer, or errno. */
static char *read_file(const char *path, size_t *len, int *error)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		*error = errno;
		return NULL;
	}
	struct str b = { 0 };
	char chunk[8192];
	size_t n;
	*error = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > CFG_MAX_SIZE) {
			*error = EFBIG;
			break;
		}
		if (str_add(&b, chunk, n) < 0) {
			*error = ENOMEM;
			break;
		}
	}
	if (!*error && ferror(f))
		*error = errno ? errno : EIO;
	fclose(f);
	if (*error) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	char *p = str_take(&b);
	if (!p)
		*error = ENOMEM;
	return p;
}

struct cfg *cfg_load(const char *explicit_path, struct error *err)
{
	const char *path = explicit_path;
	if (!path || !*path) {
		path = getenv("PRIVACYIDEA_CONFIGFILE");
		if (!path || !*path)
			path = CFG_DEFAULT_PATH;
	}
	size_t len = 0;
	int error = 0;
	errno = 0;
	char *text = read_file(path, &len, &error);
	if (!text) {
		err_set(err, ERRK_PI, ERR_GENERIC, "cannot read config file '%s': %s", path,
			strerror(error));
		return NULL;
	}
	struct cfg *c = parse_buffer(text, len, path, err);
	free(text);
	return c;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].key);
		val_free(&c->e[i].v);
	}
	free(c->e);
	free(c->path);
	free(c->dir);
	free(c);
}

/* ---- queries --------------------------------------------------------------- */

/* The entry for key, unless absent or None. */
static const struct val *lookup(const struct cfg *c, const char *key)
{
	if (!c || !key)
		return NULL;
	const struct cfg_entry *e = find_entry(c, key);
	return e && e->v.kind != K_NONE ? &e->v : NULL;
}

const char *cfg_path(const struct cfg *c)
{
	return c->path;
}

const char *cfg_dir(const struct cfg *c)
{
	return c->dir;
}

int cfg_has(const struct cfg *c, const char *key)
{
	return lookup(c, key) != NULL;
}

const char *cfg_get_str(const struct cfg *c, const char *key, const char *def)
{
	const struct val *v = lookup(c, key);
	return v ? v->text : def;
}

/* As Python's int(value): ints and bools as they are, floats truncated,
 * strings of decimal digits (blanks around allowed); def otherwise. */
long long cfg_get_int(const struct cfg *c, const char *key, long long def)
{
	const struct val *v = lookup(c, key);
	if (!v)
		return def;
	switch (v->kind) {
	case K_INT:
	case K_BOOL:
		return v->ival;
	case K_FLOAT:
		if (isfinite(v->dval) && v->dval > -9.2e18 && v->dval < 9.2e18)
			return (long long)v->dval;
		return def;
	case K_STR: {
		const char *s = v->text;
		char *end;
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			return def;
		errno = 0;
		long long r = strtoll(s, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\n')
			end++;
		return (errno == 0 && *end == '\0' && end != s) ? r : def;
	}
	default:
		return def;
	}
}

/* privacyIDEA's is_true() for strings (true/1/yes/on, any case), Python
 * truthiness for everything else; def only when absent or None. */
int cfg_get_bool(const struct cfg *c, const char *key, int def)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	const struct val *v = lookup(c, key);
	if (!v)
		return def;
	switch (v->kind) {
	case K_INT:
	case K_BOOL:
		return v->ival != 0;
	case K_FLOAT:
		return v->dval != 0;
	case K_STR:
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
			if (strcasecmp(v->text, yes[i]) == 0)
				return 1;
		return 0;
	default:
		return v->nelems > 0;
	}
}

/* Scalars give one element; lists, tuples and sets of scalars their
 * elements; dicts and nested displays NULL. */
char **cfg_get_list(const struct cfg *c, const char *key)
{
	const struct val *v = lookup(c, key);
	if (!v)
		return NULL;
	char *const *src;
	size_t n;
	if (is_scalar(v->kind)) {
		src = &v->text;
		n = 1;
	} else if (v->items) {
		src = v->items;
		n = v->nitems;
	} else {
		return NULL;
	}
	char **list = reallocarray(NULL, n + 1, sizeof(char *));
	if (!list)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!(list[i] = strdup(src[i]))) {
			list[i] = NULL;
			cfg_list_free(list);
			return NULL;
		}
	}
	list[n] = NULL;
	return list;
}

void cfg_list_free(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}

size_t cfg_count(const struct cfg *c)
{
	return c ? c->n : 0;
}

const char *cfg_key_at(const struct cfg *c, size_t i)
{
	return c && i < c->n ? c->e[i].key : NULL;
}
