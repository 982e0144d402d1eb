/*
 * resolvers.c — the resolver registry and the helpers every resolver type
 * shares: configuration access (strings, integers, booleans, object-valued
 * parameters given as JSON or YAML flow text), required-parameter checks,
 * the '*'-only wildcard matcher used for user searches and UTF-8
 * validation.
 *
 * Adding a type means one line in resolver_types[]; nothing else here
 * knows a type's name.  Nothing in this file touches a user store.
 */
#include "resolver.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct resolver_type *const resolver_types[] = {
	&passwdresolver_type,
	&sqlresolver_type,
	&ldapresolver_type,
	&httpresolver_type,
	NULL,
};

const struct resolver_type *resolver_type_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; resolver_types[i] != NULL; i++)
		if (strcmp(resolver_types[i]->name, name) == 0)
			return resolver_types[i];
	return NULL;
}

/* ---- UTF-8 --------------------------------------------------------------- */

/* Decode one code point at s[*i] (s has len bytes); advances *i.  Returns
 * the code point, or UINT32_MAX for an ill-formed sequence (then *i moves
 * by one byte so callers can still make progress). */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	size_t p = *i;
	uint32_t c = s[p];
	int n;
	uint32_t min;

	if (c < 0x80) {
		*i = p + 1;
		return c;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 1;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 2;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3;
		c &= 0x07;
		min = 0x10000;
	} else {
		*i = p + 1;
		return UINT32_MAX;
	}
	if (len - p - 1 < (size_t)n) {
		*i = p + 1;
		return UINT32_MAX;
	}
	for (int k = 1; k <= n; k++) {
		unsigned char b = s[p + (size_t)k];
		if ((b & 0xC0) != 0x80) {
			*i = p + 1;
			return UINT32_MAX;
		}
		c = (c << 6) | (b & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*i = p + 1;
		return UINT32_MAX;
	}
	*i = p + 1 + (size_t)n;
	return c;
}

int resolver_utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len)
		if (utf8_next((const unsigned char *)s, len, &i) == UINT32_MAX)
			return 0;
	return 1;
}

/* Simple case folding for the scripts user names are written in: ASCII,
 * Latin-1, Latin Extended-A, Greek and Cyrillic.  Locale-independent on
 * purpose (the server runs in the C locale); anything else compares
 * exactly. */
static uint32_t fold(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') ? c + 32 : c;
	if ((c >= 0xC0 && c <= 0xDE && c != 0xD7))
		return c + 32;
	if (c >= 0x100 && c <= 0x17F) {
		/* Latin Extended-A: mostly even = upper, odd = lower, except the
		 * 0x139-0x148 and 0x179-0x17E runs, which are odd = upper. */
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
			return (c & 1) ? c + 1 : c;
		if (c == 0x178)
			return 0xFF; /* Ÿ → ÿ */
		if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
			return c;
		return (c & 1) ? c : c + 1;
	}
	if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
		return c + 32; /* Greek capitals */
	if (c >= 0x410 && c <= 0x42F)
		return c + 32; /* Cyrillic А-Я */
	if (c >= 0x400 && c <= 0x40F)
		return c + 80; /* Cyrillic Ѐ-Џ */
	return c;
}

/* ---- wildcard matching ----------------------------------------------------- */

/* Decode a string to code points (ill-formed bytes map to 0xDC00+byte so
 * they only ever match themselves).  Returns a malloc'd array. */
static uint32_t *decode(const char *s, size_t *n)
{
	size_t len = strlen(s), i = 0, k = 0;
	uint32_t *out = malloc((len + 1) * sizeof(*out));
	if (out == NULL)
		return NULL;
	while (i < len) {
		size_t before = i;
		uint32_t c = utf8_next((const unsigned char *)s, len, &i);
		if (c == UINT32_MAX)
			c = 0xDC00u + (unsigned char)s[before];
		out[k++] = c;
	}
	*n = k;
	return out;
}

int resolver_wildcard_match(const char *pattern, const char *value, int ci)
{
	size_t np, nv;
	uint32_t *p, *v;
	int ok = 0;

	if (pattern == NULL || value == NULL)
		return 0;
	p = decode(pattern, &np);
	v = decode(value, &nv);
	if (p == NULL || v == NULL)
		goto out;
	if (ci) {
		for (size_t i = 0; i < np; i++)
			p[i] = fold(p[i]);
		for (size_t i = 0; i < nv; i++)
			v[i] = fold(v[i]);
	}
	/* Greedy match with backtracking to the last star: O(np * nv) worst
	 * case, linear for the usual "*abc*" patterns. */
	size_t pi = 0, vi = 0, star = SIZE_MAX, mark = 0;
	while (vi < nv) {
		if (pi < np && p[pi] == '*') {
			star = pi++;
			mark = vi;
		} else if (pi < np && p[pi] == v[vi]) {
			pi++;
			vi++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			vi = ++mark;
		} else {
			goto out;
		}
	}
	while (pi < np && p[pi] == '*')
		pi++;
	ok = (pi == np);
out:
	free(p);
	free(v);
	return ok;
}

/* ---- configuration access ------------------------------------------------- */

const char *resolver_cfg_str(const json_t *config, const char *key, const char *def)
{
	json_t *v = config ? json_object_get(config, key) : NULL;
	if (v == NULL || !json_is_string(v))
		return def;
	return json_string_value(v);
}

/* Parse a whole decimal integer (surrounding blanks allowed). */
static int parse_ll(const char *s, long long *out)
{
	char *end;
	errno = 0;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -1;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* 1 when the key has no usable value (absent, null, empty string). */
static int cfg_absent(const json_t *v)
{
	return v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

long long resolver_cfg_int(const json_t *config, const char *key, long long def)
{
	json_t *v = config ? json_object_get(config, key) : NULL;
	long long r;
	if (cfg_absent(v))
		return def;
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_true(v))
		return 1;
	if (json_is_false(v))
		return 0;
	if (json_is_string(v) && parse_ll(json_string_value(v), &r) == 0)
		return r;
	return def;
}

int resolver_cfg_int_checked(const json_t *config, const char *key, long long def, long long min,
			     long long max, long long *out, struct error *err)
{
	json_t *v = config ? json_object_get(config, key) : NULL;
	long long r;
	if (cfg_absent(v)) {
		*out = def;
		return 0;
	}
	if (json_is_integer(v))
		r = json_integer_value(v);
	else if (!json_is_string(v) || parse_ll(json_string_value(v), &r) != 0)
		return err_param(err, "Invalid value for parameter '%s': not a number", key);
	if (r < min || r > max)
		return err_param(err, "Invalid value for parameter '%s': must be between %lld and %lld", key,
				 min, max);
	*out = r;
	return 0;
}

int resolver_cfg_bool(const json_t *config, const char *key, int def)
{
	json_t *v = config ? json_object_get(config, key) : NULL;
	if (v == NULL || json_is_null(v))
		return def;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		/* privacyIDEA's is_true(): "1"/"true" in any case; we also take
		 * the other usual spellings.  Everything else is false. */
		return strcasecmp(s, "1") == 0 || strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
		       strcasecmp(s, "on") == 0;
	}
	return def;
}

int resolver_check_required(const struct resolver_type *t, const json_t *config, struct error *err)
{
	for (const struct resolver_param *p = t->params; p != NULL && p->name != NULL; p++) {
		if (!p->required)
			continue;
		json_t *v = config ? json_object_get(config, p->name) : NULL;
		if (cfg_absent(v))
			return err_missing_param(err, p->name);
	}
	return 0;
}

/* ---- YAML flow mappings ----------------------------------------------------
 * privacyIDEA reads Map/USERINFO with yaml.safe_load, so besides JSON an
 * admin may have written {userid: id, username: 'login'}.  This parses
 * exactly that subset: one flat mapping, keys and values plain, 'single'
 * ('' escapes a quote) or "double" (JSON escapes) quoted scalars.  Plain
 * scalars stay strings (a column named 123 is still a name). */

struct yscan {
	const char *s;
	size_t i;
};

static void y_ws(struct yscan *y)
{
	while (y->s[y->i] == ' ' || y->s[y->i] == '\t' || y->s[y->i] == '\n' || y->s[y->i] == '\r')
		y->i++;
}

/* Scalar → new json string, or NULL on a syntax error. */
static json_t *y_scalar(struct yscan *y)
{
	const char *s = y->s;
	size_t start = y->i;
	if (s[start] == '"') {
		/* Find the closing quote, then let jansson decode the escapes. */
		size_t j = start + 1;
		while (s[j] != '\0' && s[j] != '"')
			j += (s[j] == '\\' && s[j + 1] != '\0') ? 2 : 1;
		if (s[j] != '"')
			return NULL;
		json_t *v = json_loadb(s + start, j - start + 1, JSON_DECODE_ANY, NULL);
		y->i = j + 1;
		if (v != NULL && !json_is_string(v)) {
			json_decref(v);
			return NULL;
		}
		return v;
	}
	if (s[start] == '\'') {
		size_t j = start + 1, k = 0;
		char *buf = malloc(strlen(s + start) + 1);
		if (buf == NULL)
			return NULL;
		for (;;) {
			if (s[j] == '\0') {
				free(buf);
				return NULL;
			}
			if (s[j] == '\'') {
				if (s[j + 1] == '\'') {
					buf[k++] = '\'';
					j += 2;
					continue;
				}
				break;
			}
			buf[k++] = s[j++];
		}
		y->i = j + 1;
		json_t *v = json_stringn(buf, k);
		free(buf);
		return v;
	}
	/* Plain scalar: up to ':' followed by a blank, ',' or '}'. */
	size_t j = start;
	while (s[j] != '\0' && s[j] != ',' && s[j] != '}' &&
	       !(s[j] == ':' && (s[j + 1] == ' ' || s[j + 1] == '\t' || s[j + 1] == '\0')))
		j++;
	size_t end = j;
	while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	if (end == start)
		return NULL;
	y->i = j;
	return json_stringn(s + start, end - start);
}

static json_t *yaml_flow_mapping(const char *text)
{
	struct yscan y = {text, 0};
	json_t *obj = json_object();
	if (obj == NULL)
		return NULL;
	y_ws(&y);
	if (text[y.i++] != '{')
		goto bad;
	y_ws(&y);
	if (text[y.i] == '}') {
		y.i++;
		goto tail;
	}
	for (;;) {
		y_ws(&y);
		json_t *k = y_scalar(&y);
		if (k == NULL)
			goto bad;
		y_ws(&y);
		if (text[y.i] != ':') {
			json_decref(k);
			goto bad;
		}
		y.i++;
		y_ws(&y);
		json_t *v = y_scalar(&y);
		if (v == NULL) {
			json_decref(k);
			goto bad;
		}
		json_object_set_new(obj, json_string_value(k), v);
		json_decref(k);
		y_ws(&y);
		if (text[y.i] == ',') {
			y.i++;
			continue;
		}
		if (text[y.i] == '}') {
			y.i++;
			break;
		}
		goto bad;
	}
tail:
	y_ws(&y);
	if (text[y.i] != '\0')
		goto bad;
	return obj;
bad:
	json_decref(obj);
	return NULL;
}

int resolver_cfg_object(const json_t *config, const char *key, json_t **out, struct error *err)
{
	json_t *v = config ? json_object_get(config, key) : NULL;
	*out = NULL;
	if (cfg_absent(v))
		return 0;
	if (json_is_object(v)) {
		*out = json_incref(v);
		return 0;
	}
	if (!json_is_string(v))
		return err_param(err, "Invalid value for parameter '%s': expected a JSON object", key);
	const char *text = json_string_value(v);
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;
	json_t *o = json_loads(text, 0, NULL);
	if (o == NULL)
		o = yaml_flow_mapping(text);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return err_param(err, "Invalid value for parameter '%s': expected a JSON object", key);
	}
	*out = o;
	return 0;
}
