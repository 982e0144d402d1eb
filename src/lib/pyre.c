/*
 * pyre.c — see pyre.h.  Pure functions: no state besides the compiled
 * pattern of one call, no I/O.
 */
#include "pyre.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

static pcre2_code *compile(const char *pattern)
{
	int ec;
	PCRE2_SIZE off;
	return pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);
}

int pyre_search(const char *pattern, const char *s)
{
	pcre2_code *re = compile(pattern);
	if (!re)
		return -1;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = md ? pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL) : -1;
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* Python's replacement template → PCRE2's ($n, ${name}, $$).  NULL when
 * Python would reject it (a bad escape of an ASCII letter, an unclosed
 * \g<). */
static char *convert_repl(const char *r)
{
	size_t n = strlen(r);
	char *o = malloc(n * 4 + 1), *p = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char ch = r[i];
		if (ch == '$') {
			*p++ = '$';
			*p++ = '$';
			continue;
		}
		if (ch != '\\' || i + 1 >= n) {
			*p++ = ch;
			continue;
		}
		char e = r[++i];
		if (e >= '0' && e <= '9') {
			*p++ = '$';
			*p++ = '{';
			*p++ = e;
			if (i + 1 < n && r[i + 1] >= '0' && r[i + 1] <= '9')
				*p++ = r[++i];
			*p++ = '}';
		} else if (e == 'g') {
			const char *end = i + 1 < n && r[i + 1] == '<' ? strchr(r + i + 2, '>') : NULL;
			if (!end || end == r + i + 2) {
				free(o);
				return NULL;
			}
			*p++ = '$';
			*p++ = '{';
			for (const char *q = r + i + 2; q < end; q++)
				*p++ = *q;
			*p++ = '}';
			i = (size_t)(end - r);
		} else if (e == 'n') {
			*p++ = '\n';
		} else if (e == 't') {
			*p++ = '\t';
		} else if (e == 'r') {
			*p++ = '\r';
		} else if (e == '\\') {
			*p++ = '\\';
		} else if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
			free(o);
			return NULL;
		} else {
			*p++ = '\\';
			if (e == '$')
				*p++ = '$';
			*p++ = e;
		}
	}
	*p = '\0';
	return o;
}

int pyre_sub(const char *pattern, const char *repl, const char *s, char **out)
{
	*out = NULL;
	char *r = convert_repl(repl);
	if (!r)
		return -1;
	pcre2_code *re = compile(pattern);
	if (!re) {
		free(r);
		return -1;
	}
	PCRE2_SIZE len = strlen(s) * 2 + strlen(r) + 64;
	int rc = -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		PCRE2_UCHAR *buf = malloc(len + 1);
		if (!buf)
			break;
		PCRE2_SIZE outlen = len + 1;
		int n = pcre2_substitute(re, (PCRE2_SPTR)s, strlen(s), 0,
					 PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH, NULL, NULL,
					 (PCRE2_SPTR)r, PCRE2_ZERO_TERMINATED, buf, &outlen);
		if (n >= 0) {
			*out = (char *)buf;
			rc = 0;
			break;
		}
		free(buf);
		if (n != PCRE2_ERROR_NOMEMORY)
			break;
		len = outlen;
	}
	pcre2_code_free(re);
	free(r);
	return rc;
}
