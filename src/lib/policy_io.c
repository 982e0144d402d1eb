/*
 * policy_io.c — policies as files (policy.h): privacyIDEA's export file of
 * GET /policy/export and POST /policy/import ("[name]" sections of
 * "key = value" lines holding Python literals), pi-manage's p_export /
 * p_import file (one Python literal {'policy': [...]}) and the small
 * Python-literal reader and writer both need.
 *
 * It parses and formats only: validating and storing what was read is
 * policy_write.c's job.  The reader accepts what Python's repr() and
 * ast.literal_eval() produce for these files (strings with escapes, ints,
 * floats, True/False/None, lists, tuples, dicts) and nothing executable.
 */
#include "policy_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growing buffer ---- */

void policy_buf_add(struct policy_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		char *ns = realloc(b->s, ncap);
		if (!ns) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void policy_buf_str(struct policy_buf *b, const char *s)
{
	policy_buf_add(b, s, strlen(s));
}

void policy_buf_fmt(struct policy_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		policy_buf_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	policy_buf_add(b, big, (size_t)n);
	free(big);
}

void policy_buf_repr(struct policy_buf *b, const char *s)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	policy_buf_add(b, &q, 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		if (*p == '\\' || *p == (unsigned char)q) {
			esc[0] = '\\';
			esc[1] = (char)*p;
			policy_buf_add(b, esc, 2);
		} else if (*p == '\n') {
			policy_buf_str(b, "\\n");
		} else if (*p == '\r') {
			policy_buf_str(b, "\\r");
		} else if (*p == '\t') {
			policy_buf_str(b, "\\t");
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			policy_buf_str(b, esc);
		} else {
			policy_buf_add(b, (const char *)p, 1);
		}
	}
	policy_buf_add(b, &q, 1);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void policy_buf_pyrepr(struct policy_buf *b, const json_t *v, int sorted)
{
	switch (json_typeof(v)) {
	case JSON_NULL: policy_buf_str(b, "None"); return;
	case JSON_TRUE: policy_buf_str(b, "True"); return;
	case JSON_FALSE: policy_buf_str(b, "False"); return;
	case JSON_INTEGER: policy_buf_fmt(b, "%lld", (long long)json_integer_value(v)); return;
	case JSON_REAL: policy_buf_fmt(b, "%.17g", json_real_value(v)); return;
	case JSON_STRING: policy_buf_repr(b, json_string_value(v)); return;
	case JSON_ARRAY:
		policy_buf_str(b, "[");
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				policy_buf_str(b, ", ");
			policy_buf_pyrepr(b, json_array_get(v, i), sorted);
		}
		policy_buf_str(b, "]");
		return;
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys = malloc((n ? n : 1) * sizeof(*keys));
		if (!keys) {
			b->oom = 1;
			return;
		}
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x) keys[i++] = k;
		if (sorted)
			qsort(keys, n, sizeof(*keys), cmp_keys);
		policy_buf_str(b, "{");
		for (i = 0; i < n; i++) {
			if (i)
				policy_buf_str(b, ", ");
			policy_buf_repr(b, keys[i]);
			policy_buf_str(b, ": ");
			policy_buf_pyrepr(b, json_object_get(v, keys[i]), sorted);
		}
		policy_buf_str(b, "}");
		free(keys);
		return;
	}
	}
}

/* ---- the export file (privacyIDEA's export_policies) ---- */

/* The fields in Policy.get()'s order; str() of each value. */
static const char *const cfg_fields[] = { "name",       "active",    "scope",    "realm",
					  "adminrealm", "adminuser", "resolver", "pinode",
					  "check_all_resolvers", "user", "client", "time",
					  "conditions", "priority",  "action",   NULL };

static void cfg_value(struct policy_buf *b, const char *field, const json_t *v)
{
	if (json_is_string(v)) { /* str() of a string is the string itself */
		policy_buf_str(b, json_string_value(v));
	} else if (!strcmp(field, "conditions")) { /* Policy.get() gives tuples */
		policy_buf_str(b, "[");
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *c = json_array_get(v, i);
			policy_buf_str(b, i ? ", (" : "(");
			for (size_t k = 0; k < json_array_size(c); k++) {
				if (k)
					policy_buf_str(b, ", ");
				policy_buf_pyrepr(b, json_array_get(c, k), 0);
			}
			policy_buf_str(b, ")");
		}
		policy_buf_str(b, "]");
	} else {
		policy_buf_pyrepr(b, v, 0);
	}
}

char *policy_export_cfg(const struct policy_set *ps)
{
	struct policy_buf b = { 0 };
	policy_buf_add(&b, "", 0);
	for (size_t i = 0; ps && i < ps->n; i++) {
		const json_t *o = ps->pol[i].json;
		policy_buf_fmt(&b, "[%s]\n", ps->pol[i].name);
		for (int f = 0; cfg_fields[f]; f++) {
			policy_buf_fmt(&b, "%s = ", cfg_fields[f]);
			cfg_value(&b, cfg_fields[f], json_object_get(o, cfg_fields[f]));
			policy_buf_str(&b, "\n");
		}
		policy_buf_str(&b, "\n");
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

char *policy_export_pylist(const struct policy_set *ps, const char *name)
{
	struct policy_buf b = { 0 };
	int first = 1;
	policy_buf_str(&b, "{'policy': [");
	for (size_t i = 0; ps && i < ps->n; i++) {
		if (name && strcmp(name, ps->pol[i].name))
			continue;
		policy_buf_str(&b, first ? "\n    " : ",\n    ");
		policy_buf_pyrepr(&b, ps->pol[i].json, 1);
		first = 0;
	}
	policy_buf_str(&b, first ? "]}\n" : "\n]}\n");
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* ---- the Python literal reader ---- */

struct lit {
	const char *s;
	size_t i, len;
	int depth;
	const char *why;
};

static void lit_space(struct lit *L)
{
	while (L->i < L->len) {
		char c = L->s[L->i];
		if (c == '#') {
			while (L->i < L->len && L->s[L->i] != '\n')
				L->i++;
		} else if (isspace((unsigned char)c)) {
			L->i++;
		} else {
			break;
		}
	}
}

static json_t *lit_value(struct lit *L);

static int hexval(char c)
{
	int l = tolower((unsigned char)c);
	if (isdigit(l))
		return l - '0';
	return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
}

static void put_utf8(struct policy_buf *b, unsigned long cp)
{
	char o[4];
	size_t n;
	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	policy_buf_add(b, o, n);
}

/* One quoted string (after an optional u/r prefix) into b. */
static int lit_string1(struct lit *L, struct policy_buf *b)
{
	int raw = 0;
	while (L->i < L->len && strchr("uUrR", L->s[L->i])) {
		raw |= L->s[L->i] == 'r' || L->s[L->i] == 'R';
		L->i++;
	}
	char q = L->s[L->i];
	int triple = L->i + 2 < L->len && L->s[L->i + 1] == q && L->s[L->i + 2] == q;
	L->i += triple ? 3 : 1;
	for (;;) {
		if (L->i >= L->len) {
			L->why = "unterminated string";
			return -1;
		}
		char c = L->s[L->i];
		if (c == q && (!triple || (L->i + 2 < L->len && L->s[L->i + 1] == q && L->s[L->i + 2] == q))) {
			L->i += triple ? 3 : 1;
			return 0;
		}
		if (c == '\n' && !triple) {
			L->why = "line break in a string";
			return -1;
		}
		if (c != '\\' || raw) {
			policy_buf_add(b, &c, 1);
			L->i++;
			continue;
		}
		if (++L->i >= L->len) {
			L->why = "unterminated string";
			return -1;
		}
		c = L->s[L->i++];
		unsigned long cp = 0;
		int digits = 0;
		switch (c) {
		case 'n': policy_buf_str(b, "\n"); break;
		case 'r': policy_buf_str(b, "\r"); break;
		case 't': policy_buf_str(b, "\t"); break;
		case 'a': policy_buf_str(b, "\a"); break;
		case 'b': policy_buf_str(b, "\b"); break;
		case 'f': policy_buf_str(b, "\f"); break;
		case 'v': policy_buf_str(b, "\v"); break;
		case '\n': break;
		case 'x': digits = 2; break;
		case 'u': digits = 4; break;
		case 'U': digits = 8; break;
		default:
			if (c >= '0' && c <= '7') {
				cp = (unsigned long)(c - '0');
				for (int k = 0; k < 2 && L->i < L->len && L->s[L->i] >= '0' && L->s[L->i] <= '7'; k++)
					cp = cp * 8 + (unsigned long)(L->s[L->i++] - '0');
				put_utf8(b, cp);
			} else if (c == '\\' || c == '\'' || c == '"') {
				policy_buf_add(b, &c, 1);
			} else { /* unknown escapes stay as written */
				policy_buf_add(b, "\\", 1);
				policy_buf_add(b, &c, 1);
			}
		}
		if (digits) {
			for (int k = 0; k < digits; k++) {
				int h = L->i < L->len ? hexval(L->s[L->i]) : -1;
				if (h < 0) {
					L->why = "bad escape in a string";
					return -1;
				}
				cp = cp * 16 + (unsigned long)h;
				L->i++;
			}
			if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
				L->why = "unsupported character in a string";
				return -1;
			}
			put_utf8(b, cp);
		}
	}
}

static int is_string_start(const struct lit *L)
{
	size_t i = L->i;
	while (i < L->len && i - L->i < 2 && strchr("uUrR", L->s[i]))
		i++;
	return i < L->len && (L->s[i] == '\'' || L->s[i] == '"');
}

static json_t *lit_string(struct lit *L)
{
	struct policy_buf b = { 0 };
	policy_buf_add(&b, "", 0);
	do { /* adjacent literals concatenate */
		if (lit_string1(L, &b) < 0) {
			free(b.s);
			return NULL;
		}
		lit_space(L);
	} while (L->i < L->len && is_string_start(L));
	json_t *j = b.oom ? NULL : json_stringn(b.s, b.len);
	if (!j && !L->why)
		L->why = "invalid text in a string";
	free(b.s);
	return j;
}

static json_t *lit_number(struct lit *L)
{
	char buf[64];
	size_t n = 0;
	int real = 0;
	while (L->i < L->len && n < sizeof(buf) - 1) {
		char c = L->s[L->i];
		int sign_ok = n == 0 || buf[n - 1] == 'e' || buf[n - 1] == 'E';
		if (isdigit((unsigned char)c) || ((c == '-' || c == '+') && sign_ok))
			buf[n++] = c;
		else if (c == '.' || c == 'e' || c == 'E')
			buf[n++] = c, real = 1;
		else if (c != '_')
			break;
		L->i++;
	}
	buf[n] = '\0';
	char *end;
	errno = 0;
	if (real) {
		double d = strtod(buf, &end);
		if (*end || errno) {
			L->why = "bad number";
			return NULL;
		}
		return json_real(d);
	}
	long long v = strtoll(buf, &end, 10);
	if (*end || errno || end == buf) {
		L->why = "bad number";
		return NULL;
	}
	return json_integer(v);
}

/* [a, b], (a, b) → arrays; {k: v} → objects. */
static json_t *lit_container(struct lit *L)
{
	char open = L->s[L->i++], close = open == '[' ? ']' : open == '(' ? ')' : '}';
	json_t *c = open == '{' ? json_object() : json_array();
	size_t count = 0;
	int comma = 0;
	for (;;) {
		lit_space(L);
		if (L->i < L->len && L->s[L->i] == close) {
			L->i++;
			break;
		}
		if (count && !comma) {
			L->why = "',' expected";
			goto fail;
		}
		json_t *v = lit_value(L);
		if (!v)
			goto fail;
		if (open == '{') {
			lit_space(L);
			if (!json_is_string(v) || L->i >= L->len || L->s[L->i] != ':') {
				json_decref(v);
				L->why = "dictionary keys must be strings followed by ':'";
				goto fail;
			}
			L->i++;
			json_t *x = lit_value(L);
			if (!x) {
				json_decref(v);
				goto fail;
			}
			json_object_set_new(c, json_string_value(v), x);
			json_decref(v);
		} else {
			json_array_append_new(c, v);
		}
		count++;
		lit_space(L);
		comma = L->i < L->len && L->s[L->i] == ',';
		if (comma)
			L->i++;
	}
	/* "(x)" is x, "(x,)" a one-element tuple */
	if (open == '(' && count == 1 && !comma) {
		json_t *x = json_incref(json_array_get(c, 0));
		json_decref(c);
		return x;
	}
	return c;
fail:
	json_decref(c);
	return NULL;
}

static int word_is(struct lit *L, const char *w)
{
	size_t n = strlen(w);
	if (L->len - L->i < n || strncmp(L->s + L->i, w, n) != 0)
		return 0;
	if (L->i + n < L->len && (isalnum((unsigned char)L->s[L->i + n]) || L->s[L->i + n] == '_'))
		return 0;
	L->i += n;
	return 1;
}

static json_t *lit_value(struct lit *L)
{
	lit_space(L);
	if (L->i >= L->len) {
		L->why = "unexpected end";
		return NULL;
	}
	if (++L->depth > 64) {
		L->why = "nested too deeply";
		return NULL;
	}
	json_t *v = NULL;
	char c = L->s[L->i];
	if (is_string_start(L))
		v = lit_string(L);
	else if (c == '[' || c == '(' || c == '{')
		v = lit_container(L);
	else if (isdigit((unsigned char)c) ||
		 ((c == '-' || c == '+') && L->i + 1 < L->len && isdigit((unsigned char)L->s[L->i + 1])))
		v = lit_number(L);
	else if (word_is(L, "True") || word_is(L, "true"))
		v = json_true();
	else if (word_is(L, "False") || word_is(L, "false"))
		v = json_false();
	else if (word_is(L, "None") || word_is(L, "null"))
		v = json_null();
	else
		L->why = "not a Python literal";
	L->depth--;
	return v;
}

json_t *policy_pyliteral_parse(const char *text, struct error *err)
{
	struct lit L = { .s = text ? text : "", .len = text ? strlen(text) : 0 };
	json_t *v = lit_value(&L);
	if (v) {
		lit_space(&L);
		if (L.i < L.len) {
			json_decref(v);
			v = NULL;
			L.why = "unexpected text after the value";
		}
	}
	if (!v)
		err_param(err, "Invalid Python literal: %s at offset %zu", L.why ? L.why : "malformed", L.i);
	return v;
}

/* ---- the import file (privacyIDEA's import_policies, read with ConfigObj) ---- */

static int cfg_is(const char *key, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(key, *set))
			return 1;
	return 0;
}

static json_t *cfg_unquote(const char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
		return json_stringn(v + 1, n - 2);
	return json_string(v);
}

/* One "key = value" line of a section into obj. */
static int cfg_field(json_t *obj, const char *key, const char *value, const char *section, struct error *err)
{
	static const char *const texts[] = { "scope", "time", NULL };
	static const char *const literals[] = { "action",
						"realm",
						"user",
						"resolver",
						"client",
						"pinode",
						"adminrealm",
						"adminuser",
						"conditions",
						"active",
						"check_all_resolvers",
						NULL };
	json_t *v;
	if (cfg_is(key, texts)) {
		v = cfg_unquote(value);
	} else if (!strcmp(key, "priority")) {
		char *end;
		errno = 0;
		long long p = strtoll(value, &end, 10);
		if (!*value || *end || errno)
			return err_param(err, "Error loading policy '%s': priority '%s' is not an integer", section,
					 value);
		v = json_integer(p);
	} else if (cfg_is(key, literals)) {
		struct error e = { 0 };
		v = policy_pyliteral_parse(value, &e);
		if (!v)
			return err_param(err, "Error loading policy '%s': %s: %s", section, key, e.message);
	} else {
		return 0; /* name (the section header wins) and fields of later versions */
	}
	json_object_set_new(obj, key, v);
	return 0;
}

int policy_parse_cfg(const char *text, json_t **policies, struct error *err)
{
	*policies = NULL;
	if (!text || !*text)
		return err_param(err, "Error loading policy. File empty!");
	json_t *all = json_array(), *cur = NULL;
	char *copy = strdup(text);
	if (!copy || !all) {
		free(copy);
		json_decref(all);
		return err_internal(err, "out of memory");
	}
	int rc = 0, lineno = 0;
	for (char *line = copy, *next; line && rc == 0; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		size_t n = strlen(line);
		while (n && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		while (isspace((unsigned char)*line))
			line++;
		if (!*line || *line == '#')
			continue;
		if (*line == '[') {
			char *close = strrchr(line, ']');
			if (!close || close == line + 1) {
				rc = err_param(err, "Error loading policy: line %d: bad section header", lineno);
				break;
			}
			*close = '\0';
			cur = json_pack("{s:s}", "name", line + 1);
			if (!cur) {
				rc = err_param(err, "Error loading policy: line %d: bad section name", lineno);
				break;
			}
			json_array_append_new(all, cur);
			continue;
		}
		char *eq = strchr(line, '=');
		if (!eq || !cur) {
			rc = err_param(err, "Error loading policy: line %d: expected '[name]' or 'key = value'",
				       lineno);
			break;
		}
		char *key = line, *value = eq + 1;
		char *kend = eq;
		while (kend > key && isspace((unsigned char)kend[-1]))
			kend--;
		*kend = '\0';
		while (isspace((unsigned char)*value))
			value++;
		rc = cfg_field(cur, key, value, json_string_value(json_object_get(cur, "name")), err);
	}
	free(copy);
	if (rc == 0 && json_array_size(all) == 0)
		rc = err_param(err, "Error loading policy. File empty!");
	if (rc < 0) {
		json_decref(all);
		return -1;
	}
	*policies = all;
	return 0;
}
