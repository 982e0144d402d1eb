/*
 * multipart.c — the multipart/form-data parser (multipart.h).  It works on
 * the whole buffered body (the server bounds its size), copies nothing
 * but the values it keeps, and refuses anything malformed with ERR905.
 * It knows nothing about tokens or routes.
 */
#include "multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "params.h"

/* The boundary parameter of a Content-Type (quoted or not), into out. */
static int get_boundary(const char *ct, char *out, size_t len)
{
	const char *p = ct;
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "boundary=", 9))
			continue;
		p += 9;
		size_t n;
		if (*p == '"') {
			p++;
			const char *q = strchr(p, '"');
			if (!q)
				return -1;
			n = (size_t)(q - p);
		} else {
			n = strcspn(p, "; \t");
		}
		if (n == 0 || n > 70 || n + 1 > len)
			return -1;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

/* memmem for the delimiter. */
static const char *find(const char *h, size_t hl, const char *n, size_t nl)
{
	if (nl == 0 || hl < nl)
		return NULL;
	const char *end = h + hl - nl;
	for (const char *p = h; p <= end; p++) {
		p = memchr(p, n[0], (size_t)(end - p) + 1);
		if (!p)
			return NULL;
		if (!memcmp(p, n, nl))
			return p;
	}
	return NULL;
}

/* A parameter of the Content-Disposition header line (name=, filename=). */
static int disp_param(const char *line, size_t len, const char *key, char *out, size_t outlen, int *present)
{
	size_t kl = strlen(key);
	*present = 0;
	for (size_t i = 0; i + kl + 1 < len; i++) {
		if ((i == 0 || line[i - 1] == ';' || line[i - 1] == ' ' || line[i - 1] == '\t') &&
		    !strncasecmp(line + i, key, kl) && line[i + kl] == '=') {
			const char *v = line + i + kl + 1;
			size_t rest = len - (i + kl + 1), n = 0;
			if (rest && *v == '"') {
				v++;
				rest--;
				while (n < rest && v[n] != '"')
					n++;
				if (n == rest)
					return -1;
			} else {
				while (n < rest && v[n] != ';' && v[n] != ' ' && v[n] != '\t')
					n++;
			}
			if (n + 1 > outlen)
				return -1;
			memcpy(out, v, n);
			out[n] = '\0';
			*present = 1;
			return 0;
		}
	}
	return 0;
}

static int malformed(struct error *err, const char *why)
{
	return err_param(err, "Invalid multipart/form-data body: %s", why);
}

int multipart_parse(json_t *obj, const char *content_type, const char *body, size_t len, int unquote,
		    struct error *err)
{
	char boundary[80], delim[84];
	if (!content_type || get_boundary(content_type, boundary, sizeof(boundary)) < 0)
		return malformed(err, "no boundary");
	size_t dl = (size_t)snprintf(delim, sizeof(delim), "--%s", boundary);
	const char *p = find(body, len, delim, dl);
	if (!p)
		return malformed(err, "no part");
	const char *end = body + len;
	for (;;) {
		p += dl;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0; /* the close delimiter */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return malformed(err, "bad delimiter line");
		p += 2;
		/* headers */
		char name[256] = "", filename[256];
		int has_name = 0, is_file = 0;
		for (;;) {
			const char *eol = find(p, (size_t)(end - p), "\r\n", 2);
			if (!eol)
				return malformed(err, "unterminated part headers");
			size_t hl = (size_t)(eol - p);
			if (hl == 0) {
				p = eol + 2;
				break;
			}
			if (hl > 4096)
				return malformed(err, "part header too long");
			if (hl > 20 && !strncasecmp(p, "Content-Disposition:", 20)) {
				if (disp_param(p, hl, "name", name, sizeof(name), &has_name) < 0 ||
				    disp_param(p, hl, "filename", filename, sizeof(filename), &is_file) < 0)
					return malformed(err, "bad Content-Disposition");
			}
			p = eol + 2;
		}
		/* content up to CRLF + next delimiter */
		char next[88];
		size_t nl = (size_t)snprintf(next, sizeof(next), "\r\n%s", delim);
		const char *q = find(p, (size_t)(end - p), next, nl);
		if (!q)
			return malformed(err, "unterminated part");
		if (has_name && !json_object_get(obj, name)) {
			json_t *v = json_stringn(p, (size_t)(q - p));
			if (!v)
				return malformed(err, "a value is not UTF-8 text");
			if (!is_file && unquote) {
				char *s = strndup(p, (size_t)(q - p));
				if (!s) {
					json_decref(v);
					return err_internal(err, "out of memory");
				}
				json_decref(v);
				size_t n = params_unquote(s, strlen(s));
				v = json_stringn(s, n);
				free(s);
				if (!v)
					return malformed(err, "a value is not UTF-8 text");
			}
			json_object_set_new(obj, name, v);
		}
		p = q + 2;
	}
}
