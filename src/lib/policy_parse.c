/*
 * policy_parse.c — the parsers shared by building the policy set
 * (policy.c) and validating input (policy_write.c), so a stored policy is
 * always read the way it was checked: comma lists, list entries with
 * wildcards, exclusions and full-match regular expressions, client
 * addresses and networks, time ranges, the CSV lists of "in" conditions,
 * the action string, condition sections and comparators.
 *
 * Pure functions on strings; it must not know the set, requests or the
 * database.
 */
#include "policy_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* ---- comma lists ---- */

static char *strip_dup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

char **policy_split_list(const char *s, size_t *n)
{
	*n = 0;
	size_t cap = 1;
	for (const char *p = s; p && *p; p++)
		cap += *p == ',';
	char **v = calloc(cap, sizeof(*v));
	if (!v)
		return NULL;
	for (const char *p = s; p && *p;) {
		size_t len = strcspn(p, ",");
		char *item = strip_dup(p, len);
		if (!item) {
			policy_free_list(v, *n);
			*n = 0;
			return NULL;
		}
		if (*item)
			v[(*n)++] = item;
		else
			free(item);
		p += len;
		if (*p == ',')
			p++;
	}
	return v;
}

void policy_free_list(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- regular expressions ---- */

static pthread_once_t re_once = PTHREAD_ONCE_INIT;
static pcre2_match_context *re_mctx;
static pthread_key_t re_md_key;

static void md_free(void *md)
{
	pcre2_match_data_free(md);
}

static void re_init(void)
{
	/* Bound the work a pathological pattern can cause on one request. */
	re_mctx = pcre2_match_context_create(NULL);
	if (re_mctx)
		pcre2_set_match_limit(re_mctx, 200000);
	pthread_key_create(&re_md_key, md_free);
}

pcre2_code *policy_compile_re(const char *pattern, int caseless)
{
	int ec;
	PCRE2_SIZE off;
	uint32_t opts = PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF | PCRE2_UCP | (caseless ? PCRE2_CASELESS : 0);
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &ec, &off, NULL);
	if (re)
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter remains when JIT is unavailable */
	return re;
}

int policy_re_match(const pcre2_code *re, const char *s)
{
	pthread_once(&re_once, re_init);
	/* One match block per thread: a full match needs no captures. */
	pcre2_match_data *md = pthread_getspecific(re_md_key);
	if (!md) {
		md = pcre2_match_data_create(1, NULL);
		if (!md || pthread_setspecific(re_md_key, md) != 0) {
			pcre2_match_data_free(md);
			return -1;
		}
	}
	int rc = pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md, re_mctx);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static int is_literal(const char *s)
{
	return strpbrk(s, ".^$*+?()[]{}|\\") == NULL;
}

static int entry_build(struct policy_entry *e, const char *text, int caseless)
{
	memset(e, 0, sizeof(*e));
	e->text = strdup(text);
	if (!e->text)
		return -1;
	e->neg = text[0] == '!' || text[0] == '-';
	e->literal = is_literal(text) || !strcmp(text, "*");
	if (!e->literal) {
		e->re = policy_compile_re(text, caseless);
		if (!e->re)
			log_warning("policy: '%s' is not a valid regular expression; it matches only itself", text);
	}
	return 0;
}

static void entry_free(struct policy_entry *e)
{
	free(e->text);
	pcre2_code_free(e->re);
	memset(e, 0, sizeof(*e));
}

int policy_entries_build(struct policy_entries *l, const char *text, int caseless)
{
	size_t n;
	memset(l, 0, sizeof(*l));
	l->caseless = caseless;
	char **items = policy_split_list(text, &n);
	if (!items)
		return -1;
	l->e = calloc(n ? n : 1, sizeof(*l->e));
	int rc = l->e ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = entry_build(&l->e[i], items[i], caseless);
		if (rc == 0)
			l->n++;
	}
	policy_free_list(items, n);
	return rc;
}

void policy_entries_free(struct policy_entries *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_free(&l->e[i]);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

void policy_entries_search(const struct policy_entries *l, const char *value, int *found, int *excluded)
{
	int (*eq)(const char *, const char *) = l->caseless ? strcasecmp : strcmp;
	*found = *excluded = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct policy_entry *e = &l->e[i];
		if (e->neg && eq(value, e->text + 1) == 0)
			*excluded = 1;
		else if (!strcmp(e->text, "*") || eq(e->text, value) == 0)
			*found = 1;
		else if (e->re && policy_re_match(e->re, value) == 1)
			*found = 1;
	}
}

/* ---- client networks ---- */

static int parse_addr(const char *s, struct policy_net *out)
{
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = 6;
		return 0;
	}
	return -1;
}

/* "255.255.0.0" → 16; -1 when not a contiguous mask. */
static int mask_prefix(const char *s)
{
	uint8_t m[4];
	if (inet_pton(AF_INET, s, m) != 1)
		return -1;
	uint32_t v = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	int bits = 0;
	while (bits < 32 && (v & (0x80000000u >> bits)))
		bits++;
	if (bits < 32 && (v << bits) != 0)
		return -1;
	return bits;
}

int policy_parse_net(const char *text, struct policy_net *out)
{
	char buf[128];
	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*text))
		text++;
	if (*text == '!' || *text == '-') {
		out->neg = 1;
		text++;
	}
	size_t len = strlen(text);
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	char *slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (parse_addr(buf, out) < 0)
		return -1;
	int maxp = out->family == 4 ? 32 : 128;
	out->prefix = maxp;
	if (slash) {
		char *end;
		errno = 0;
		long p = *slash && isdigit((unsigned char)*slash) ? strtol(slash, &end, 10) : -1;
		if (p >= 0 && *end == '\0' && !errno && p <= maxp)
			out->prefix = (int)p;
		else if (out->family == 4 && (p = mask_prefix(slash)) >= 0)
			out->prefix = (int)p;
		else
			return -1;
	}
	out->valid = 1;
	return 0;
}

int policy_parse_ip(const char *text, struct policy_net *out)
{
	memset(out, 0, sizeof(*out));
	if (!text || parse_addr(text, out) < 0)
		return -1;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (out->family == 6 && memcmp(out->addr, mapped, 12) == 0) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->family = 4;
	}
	out->prefix = out->family == 4 ? 32 : 128;
	out->valid = 1;
	return 0;
}

/* ---- time ranges ---- */

static int dow_index(const char *s, size_t n)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	for (int i = 0; i < 7; i++)
		if (n == 3 && strncasecmp(s, days[i], 3) == 0)
			return i + 1;
	return -1;
}

/* "9", "09:30" → minutes since midnight, -1 when malformed. */
static int parse_clock(const char *s, size_t n)
{
	int h = -1, m = 0, i = 0, digits = 0;
	for (h = 0; i < (int)n && isdigit((unsigned char)s[i]) && digits < 2; i++, digits++)
		h = h * 10 + (s[i] - '0');
	if (!digits || h > 23)
		return -1;
	if (i == (int)n)
		return h * 60;
	if (s[i++] != ':')
		return -1;
	digits = 0;
	for (; i < (int)n && isdigit((unsigned char)s[i]) && digits < 2; i++, digits++)
		m = m * 10 + (s[i] - '0');
	if (!digits || i != (int)n || m > 59)
		return -1;
	return h * 60 + m;
}

static int parse_range(const char *tr, struct policy_time *t, char *why, size_t whylen)
{
	const char *colon = strchr(tr, ':');
	if (!colon) {
		snprintf(why, whylen, "'%s' has no day of week (like Mon-Fri: 9-18)", tr);
		return -1;
	}
	const char *dash = memchr(tr, '-', (size_t)(colon - tr));
	if (dash) {
		t->dow_start = dow_index(tr, (size_t)(dash - tr));
		t->dow_end = dow_index(dash + 1, (size_t)(colon - dash - 1));
	} else {
		t->dow_start = t->dow_end = dow_index(tr, (size_t)(colon - tr));
	}
	if (t->dow_start < 0 || t->dow_end < 0) {
		snprintf(why, whylen, "'%s' has an unknown day of week (Mon Tue Wed Thu Fri Sat Sun)", tr);
		return -1;
	}
	const char *times = colon + 1;
	const char *tdash = strchr(times, '-');
	if (!tdash || strchr(tdash + 1, '-')) {
		snprintf(why, whylen, "'%s' needs a time range like 9-18 or 09:30-17:45", tr);
		return -1;
	}
	t->start = parse_clock(times, (size_t)(tdash - times));
	t->end = parse_clock(tdash + 1, strlen(tdash + 1));
	if (t->start < 0 || t->end < 0) {
		snprintf(why, whylen, "'%s' has an invalid time (hours 0-23, minutes 0-59)", tr);
		return -1;
	}
	return 0;
}

int policy_parse_time(const char *text, struct policy_time **out, size_t *n, char *why, size_t whylen)
{
	*out = NULL;
	*n = 0;
	/* privacyIDEA removes every blank first. */
	size_t len = text ? strlen(text) : 0;
	char *s = malloc(len + 1), *w = s;
	if (!s) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)text[i]))
			*w++ = text[i];
	*w = '\0';
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	struct policy_time *v = *s ? calloc(cap, sizeof(*v)) : NULL;
	int rc = 0;
	for (char *p = s, *next; *s && p; p = next) {
		if (!v) {
			snprintf(why, whylen, "out of memory");
			rc = -1;
			break;
		}
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		if (!*p)
			continue; /* "Mon: 9-18," */
		if (parse_range(p, &v[*n], why, whylen) < 0) {
			rc = -1;
			break;
		}
		(*n)++;
	}
	free(s);
	if (rc < 0) {
		free(v);
		*n = 0;
		return -1;
	}
	*out = v;
	return 0;
}

/* ---- CSV (the right side of "in") ---- */

int policy_parse_csv(const char *s, char ***items, size_t *n)
{
	size_t len = strlen(s), cap = 1;
	for (size_t i = 0; i < len; i++)
		cap += s[i] == ',';
	char **v = calloc(cap, sizeof(*v));
	char *buf = malloc(len + 1);
	*items = NULL;
	*n = 0;
	if (!v || !buf)
		goto fail;
	if (len == 0) { /* Python's csv yields an empty row for "" */
		free(buf);
		*items = v;
		return 0;
	}
	size_t i = 0;
	for (;;) {
		size_t w = 0;
		while (i < len && s[i] == ' ')
			i++;
		if (i < len && s[i] == '"') {
			i++;
			for (;;) {
				if (i >= len)
					goto fail; /* unexpected end of data */
				if (s[i] == '\\') {
					if (++i >= len)
						goto fail;
					buf[w++] = s[i++];
				} else if (s[i] == '"') {
					i++;
					break;
				} else {
					buf[w++] = s[i++];
				}
			}
			if (i < len && s[i] != ',')
				goto fail; /* ',' expected after '"' */
		} else {
			while (i < len && s[i] != ',') {
				if (s[i] == '\\') {
					if (++i >= len)
						goto fail;
				}
				buf[w++] = s[i++];
			}
		}
		v[*n] = strndup(buf, w);
		if (!v[*n])
			goto fail;
		(*n)++;
		if (i >= len)
			break;
		i++; /* the ',' */
	}
	free(buf);
	*items = v;
	return 0;
fail:
	policy_free_list(v, *n);
	*n = 0;
	free(buf);
	return -1;
}

/* ---- actions, conditions ---- */

void policy_free_actions(struct policy_action *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		entry_free(&a[i].key);
		free(a[i].value);
	}
	free(a);
}

int policy_parse_actions(const char *text, struct policy_action **out, size_t *n)
{
	size_t cnt;
	char **items = policy_split_list(text, &cnt);
	*out = NULL;
	*n = 0;
	if (!items)
		return -1;
	struct policy_action *a = calloc(cnt ? cnt : 1, sizeof(*a));
	int rc = a ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < cnt; i++) {
		char *eq = strchr(items[i], '=');
		char *key = eq ? strip_dup(items[i], (size_t)(eq - items[i])) : strdup(items[i]);
		char *value = eq ? strip_dup(eq + 1, strlen(eq + 1)) : NULL;
		if (!key || (eq && !value)) {
			free(key);
			free(value);
			rc = -1;
			break;
		}
		size_t j = 0;
		while (j < *n && strcmp(a[j].key.text, key) != 0)
			j++;
		if (j < *n) { /* a repeated key: the last one wins, as in a Python dict */
			free(a[j].value);
			a[j].value = value;
			free(key);
			continue;
		}
		rc = entry_build(&a[j].key, key, 0);
		free(key);
		if (rc < 0) {
			free(value);
			break;
		}
		a[j].value = value;
		(*n)++;
	}
	policy_free_list(items, cnt);
	if (rc < 0) {
		policy_free_actions(a, *n);
		*n = 0;
		return -1;
	}
	*out = a;
	return 0;
}

enum policy_section policy_section_of(const char *s)
{
	if (!strcmp(s, "userinfo"))
		return SEC_USERINFO;
	if (!strcmp(s, "tokeninfo"))
		return SEC_TOKENINFO;
	if (!strcmp(s, "token"))
		return SEC_TOKEN;
	if (!strcmp(s, "HTTP Request header"))
		return SEC_HEADER;
	if (!strcmp(s, "HTTP Environment"))
		return SEC_ENVIRON;
	return SEC_UNKNOWN;
}

enum policy_cmp policy_cmp_of(const char *s, int *negate)
{
	static const char *const names[] = { "equals", "contains", "in", "matches" };
	*negate = 0;
	if (!strcmp(s, "<"))
		return CMP_LT;
	if (!strcmp(s, ">"))
		return CMP_GT;
	if (s[0] == '!') {
		*negate = 1;
		s++;
	}
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return (enum policy_cmp)i;
	return CMP_UNKNOWN;
}
