/*
 * params.c — parameter parsing and the handler-side accessors.
 * See params.h and request.h.
 */
#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

size_t params_unquote(char *s, size_t len)
{
	size_t r = 0, w = 0;
	while (r < len) {
		if (s[r] == '%' && r + 2 < len && hexval((unsigned char)s[r + 1]) >= 0 &&
		    hexval((unsigned char)s[r + 2]) >= 0) {
			s[w++] = (char)(hexval((unsigned char)s[r + 1]) * 16 + hexval((unsigned char)s[r + 2]));
			r += 3;
		} else {
			s[w++] = s[r++];
		}
	}
	if (w < len)
		s[w] = '\0';
	return w;
}

/* A decoded value must be valid UTF-8 to become a JSON string; invalid
 * bytes are replaced by U+FFFD, as Python's decode(errors="replace"). */
static json_t *string_from_bytes(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	if (j)
		return j;
	char *buf = malloc(len * 3 + 1);
	if (!buf)
		return json_string("");
	size_t w = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		json_t *probe = (n && i + n <= len) ? json_stringn(s + i, n) : NULL;
		if (probe && c != 0) {
			memcpy(buf + w, s + i, n);
			w += n;
			i += n;
		} else {
			memcpy(buf + w, "\xef\xbf\xbd", 3);
			w += 3;
			i += 1;
		}
		json_decref(probe);
	}
	j = json_stringn(buf, w);
	free(buf);
	return j ? j : json_string("");
}

void params_add_first(json_t *obj, const char *key, const char *value, int unquote)
{
	if (!key || json_object_get(obj, key))
		return;
	size_t len = strlen(value);
	char *v = strndup(value, len);
	if (!v)
		return;
	if (unquote)
		len = params_unquote(v, len);
	json_t *j = string_from_bytes(v, len);
	free(v);
	json_t *k = string_from_bytes(key, strlen(key));
	json_object_set_new(obj, json_string_value(k), j);
	json_decref(k);
}

static char *form_decode(const char *s, size_t len, size_t *outlen)
{
	char *d = malloc(len + 1);
	if (!d)
		return NULL;
	for (size_t i = 0; i < len; i++)
		d[i] = s[i] == '+' ? ' ' : s[i];
	d[len] = '\0';
	*outlen = params_unquote(d, len);
	d[*outlen] = '\0';
	return d;
}

int params_parse_form(json_t *obj, const char *body, size_t len, int unquote, struct error *err)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && body[end] != '&' && body[end] != ';')
			end++;
		size_t eq = i;
		while (eq < end && body[eq] != '=')
			eq++;
		if (end > i) {
			size_t klen = 0, vlen = 0;
			char *k = form_decode(body + i, eq - i, &klen);
			char *v = eq < end ? form_decode(body + eq + 1, end - eq - 1, &vlen) : strdup("");
			if (!k || !v) {
				free(k);
				free(v);
				return err_internal(err, "out of memory");
			}
			/* A NUL inside a key cannot be represented; drop such pairs. */
			if (strlen(k) == klen && klen > 0) {
				json_t *kk = string_from_bytes(k, klen);
				if (!json_object_get(obj, json_string_value(kk))) {
					size_t vl = strlen(v);
					if (unquote)
						vl = params_unquote(v, vl);
					json_object_set_new(obj, json_string_value(kk), string_from_bytes(v, vl));
				}
				json_decref(kk);
			}
			free(k);
			free(v);
		}
		i = end + 1;
	}
	return 0;
}

int params_merge_json(json_t *obj, const char *body, size_t len, int strict, struct error *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(body, len, 0, &jerr);
	if (!j) {
		if (strict)
			return err_param(err, "Invalid JSON body: %s (line %d, column %d)", jerr.text, jerr.line,
					 jerr.column);
		return 0;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		if (strict)
			return err_param(err, "Invalid JSON body: a JSON object is expected");
		return 0;
	}
	json_object_update(obj, j);
	json_decref(j);
	return 0;
}

/* ---- accessors for handlers (request.h) ---- */

int param_has(struct request *rq, const char *name)
{
	json_t *v = json_object_get(rq->params, name);
	return v && !json_is_null(v);
}

const char *param_str(struct request *rq, const char *name)
{
	json_t *v = json_object_get(rq->params, name);
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	/* Render non-strings once as Python's str() would and cache the text
	 * in a side object, so the pointer lives as long as the request. */
	char key[300];
	snprintf(key, sizeof(key), "str:%s", name);
	if (!rq->scratch)
		rq->scratch = json_object();
	json_t *cache = rq->scratch;
	json_t *c = json_object_get(cache, key);
	if (c)
		return json_string_value(c);
	char buf[64];
	char *dumped = NULL;
	const char *text = buf;
	switch (json_typeof(v)) {
	case JSON_TRUE: text = "True"; break;
	case JSON_FALSE: text = "False"; break;
	case JSON_INTEGER: snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v)); break;
	case JSON_REAL: snprintf(buf, sizeof(buf), "%.17g", json_real_value(v)); break;
	default:
		dumped = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		text = dumped ? dumped : "";
		break;
	}
	json_object_set_new(cache, key, json_string(text));
	free(dumped);
	return json_string_value(json_object_get(cache, key));
}

int param_req(struct request *rq, const char *name, const char **out, struct error *err)
{
	const char *v = param_str(rq, name);
	if (!v)
		return err_missing_param(err, name);
	*out = v;
	return 0;
}

int param_int(struct request *rq, const char *name, long long def, long long *out, struct error *err)
{
	json_t *v = json_object_get(rq->params, name);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		while (isspace((unsigned char)*s))
			s++;
		char *end;
		errno = 0;
		long long n = strtoll(s, &end, 10);
		while (end && isspace((unsigned char)*end))
			end++;
		if (*s && errno == 0 && end && *end == '\0') {
			*out = n;
			return 0;
		}
	}
	return err_param(err, "Parameter '%s' must be an integer.", name);
}

int param_bool(struct request *rq, const char *name, int def)
{
	json_t *v = json_object_get(rq->params, name);
	if (!v || json_is_null(v))
		return def;
	if (json_is_true(v))
		return 1;
	if (json_is_integer(v))
		return json_integer_value(v) == 1;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		return !strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE");
	}
	return 0;
}

int params_wants_unquote(const char *ua)
{
	static const char *const no_unquote[] = { "privacyidea-cp", "privacyidea-ldap-proxy", "simplesamlphp" };
	if (!ua || !*ua)
		return 1;
	size_t n = 0;
	while (ua[n] && (isalnum((unsigned char)ua[n]) || ua[n] == '_' || ua[n] == '-'))
		n++;
	for (size_t i = 0; i < sizeof(no_unquote) / sizeof(no_unquote[0]); i++)
		if (strlen(no_unquote[i]) == n && strncasecmp(ua, no_unquote[i], n) == 0)
			return 0;
	return 1;
}
