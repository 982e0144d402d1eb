/*
 * policy.c — building the compiled policy set of a configuration snapshot
 * (policy.h, policy_int.h): parsing the stored fields once (comma lists,
 * regular expressions, client networks, time ranges, conditions), ordering
 * by priority, the serialised form, listing, and the snapshot part.
 *
 * It must not evaluate requests (policy_match.c) nor write (policy_write.c).
 * A stored value that does not parse never aborts the load: the entry is
 * logged and can simply never match, so a bad row cannot take the server
 * down.
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
#include "snapshot.h"
#include "../db/store_policy.h"

static const char *const scope_idx_names[PS_OTHER] = { "admin",      "user",  "authentication", "authorization",
						       "enrollment", "webui", "register" };

int policy_scope_index(const char *scope)
{
	for (int i = 0; scope && i < PS_OTHER; i++)
		if (!strcmp(scope, scope_idx_names[i]))
			return i;
	return PS_OTHER;
}

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

static int cond_build(struct policy_cond *k, const struct store_policy_condition *src)
{
	memset(k, 0, sizeof(*k));
	k->section = strdup(src->section ? src->section : "");
	k->key = strdup(src->key ? src->key : "");
	k->comparator = strdup(src->comparator ? src->comparator : "");
	k->value = strdup(src->value ? src->value : "");
	if (!k->section || !k->key || !k->comparator || !k->value)
		return -1;
	k->active = src->active;
	k->sec = policy_section_of(k->section);
	k->cmp = policy_cmp_of(k->comparator, &k->negate);
	if (k->cmp == CMP_MATCHES)
		k->re = policy_compile_re(k->value, 0);
	else if (k->cmp == CMP_IN)
		k->items_ok = policy_parse_csv(k->value, &k->items, &k->n_items) == 0;
	else if (k->cmp == CMP_LT || k->cmp == CMP_GT) {
		char *end;
		errno = 0;
		k->num = strtoll(k->value, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		k->num_ok = *k->value && !errno && *end == '\0';
	}
	return 0;
}

static void cond_free(struct policy_cond *k)
{
	free(k->section);
	free(k->key);
	free(k->comparator);
	free(k->value);
	pcre2_code_free(k->re);
	policy_free_list(k->items, k->n_items);
}

/* ---- the serialised form (privacyIDEA's Policy.get()) ---- */

static json_t *entries_json(const struct policy_entries *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->e[i].text));
	return a;
}

static json_t *policy_to_json(const struct policy *p, const char *client_text)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "active", json_boolean(p->active));
	json_object_set_new(o, "scope", json_string(p->scope));
	json_object_set_new(o, "realm", entries_json(&p->realm));
	json_object_set_new(o, "adminrealm", entries_json(&p->adminrealm));
	json_object_set_new(o, "adminuser", entries_json(&p->adminuser));
	json_object_set_new(o, "resolver", entries_json(&p->resolver));
	json_t *pin = json_array();
	for (size_t i = 0; i < p->n_pinode; i++)
		json_array_append_new(pin, json_string(p->pinode[i]));
	json_object_set_new(o, "pinode", pin);
	json_object_set_new(o, "check_all_resolvers", json_boolean(p->check_all_resolvers));
	json_object_set_new(o, "user", entries_json(&p->user));
	size_t nc;
	char **cl = policy_split_list(client_text, &nc);
	json_t *ca = json_array();
	for (size_t i = 0; cl && i < nc; i++)
		json_array_append_new(ca, json_string(cl[i]));
	policy_free_list(cl, nc);
	json_object_set_new(o, "client", ca);
	json_object_set_new(o, "time", json_string(p->time));
	json_t *conds = json_array();
	for (size_t i = 0; i < p->n_conds; i++) {
		const struct policy_cond *k = &p->conds[i];
		json_array_append_new(conds, json_pack("[s,s,s,s,b]", k->section, k->key, k->comparator, k->value,
						       k->active));
	}
	json_object_set_new(o, "conditions", conds);
	json_object_set_new(o, "priority", json_integer(p->priority));
	json_t *act = json_object();
	for (size_t i = 0; i < p->n_actions; i++)
		json_object_set_new(act, p->actions[i].key.text,
				    p->actions[i].value ? json_string(p->actions[i].value) : json_true());
	json_object_set_new(o, "action", act);
	return o;
}

/* ---- one policy ---- */

static void policy_clear(struct policy *p)
{
	free(p->name);
	free(p->scope);
	policy_free_actions(p->actions, p->n_actions);
	policy_entries_free(&p->user);
	policy_entries_free(&p->realm);
	policy_entries_free(&p->resolver);
	policy_entries_free(&p->adminuser);
	policy_entries_free(&p->adminrealm);
	policy_free_list(p->pinode, p->n_pinode);
	free(p->clients);
	free(p->time);
	free(p->ranges);
	for (size_t i = 0; i < p->n_conds; i++)
		cond_free(&p->conds[i]);
	free(p->conds);
	json_decref(p->json);
	memset(p, 0, sizeof(*p));
}

static int policy_compile(struct policy *p, const struct store_policy *r)
{
	memset(p, 0, sizeof(*p));
	p->id = r->id;
	p->name = strdup(r->name ? r->name : "");
	p->scope = strdup(r->scope ? r->scope : "");
	p->time = strdup(r->time ? r->time : "");
	if (!p->name || !p->scope || !p->time)
		return -1;
	p->scope_idx = policy_scope_index(p->scope);
	p->active = r->active;
	p->check_all_resolvers = r->check_all_resolvers;
	p->priority = (int)r->priority;
	if (policy_parse_actions(r->action ? r->action : "", &p->actions, &p->n_actions) < 0 ||
	    policy_entries_build(&p->user, r->user, 0) < 0 || policy_entries_build(&p->realm, r->realm, 1) < 0 ||
	    policy_entries_build(&p->resolver, r->resolver, 0) < 0 ||
	    policy_entries_build(&p->adminuser, r->adminuser, 0) < 0 ||
	    policy_entries_build(&p->adminrealm, r->adminrealm, 0) < 0)
		return -1;
	p->pinode = policy_split_list(r->pinode, &p->n_pinode);
	size_t nc;
	char **cl = policy_split_list(r->client, &nc);
	if (!p->pinode || !cl)
		return -1;
	p->clients = calloc(nc ? nc : 1, sizeof(*p->clients));
	for (size_t i = 0; p->clients && i < nc; i++) {
		/* A malformed entry stays in the list (valid = 0): the policy
		 * keeps its client restriction but the entry matches nobody. */
		if (policy_parse_net(cl[i], &p->clients[p->n_clients]) < 0)
			log_warning("policy %s: client entry '%s' is not an address or network; it matches no client",
				    p->name, cl[i]);
		p->n_clients++;
	}
	policy_free_list(cl, nc);
	if (!p->clients)
		return -1;
	char why[200];
	p->time_ok = policy_parse_time(p->time, &p->ranges, &p->n_ranges, why, sizeof(why)) == 0;
	if (!p->time_ok)
		log_warning("policy %s: time '%s' is malformed (%s); the policy never matches", p->name, p->time, why);
	p->conds = calloc(r->n_conditions ? r->n_conditions : 1, sizeof(*p->conds));
	if (!p->conds)
		return -1;
	for (size_t i = 0; i < r->n_conditions; i++) {
		if (cond_build(&p->conds[i], &r->conditions[i]) < 0) {
			p->n_conds = i + 1;
			return -1;
		}
		p->n_conds = i + 1;
	}
	p->json = policy_to_json(p, r->client);
	return p->json ? 0 : -1;
}

/* ---- the set ---- */

static int by_priority(const void *a, const void *b)
{
	const struct policy *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* ---- the action index ---- */

static size_t hash_key(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

const struct policy_action_list *policy_index_find(const struct policy_action_index *ix, const char *key)
{
	if (!ix->mask)
		return NULL;
	for (size_t i = hash_key(key) & ix->mask;; i = (i + 1) & ix->mask) {
		const struct policy_action_list *l = &ix->slots[i];
		if (!l->key)
			return NULL;
		if (!strcmp(l->key, key))
			return l;
	}
}

static int list_push(const struct policy ***v, size_t *n, size_t *cap, const struct policy *p)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		const struct policy **nv = realloc(*v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = p;
	return 0;
}

static int index_build(struct policy_action_index *ix, const struct policy *const *pols, size_t n)
{
	size_t keys = 0, gcap = 0;
	for (size_t i = 0; i < n; i++)
		keys += pols[i]->n_actions;
	size_t size = 8;
	while (size < keys * 2)
		size *= 2;
	ix->slots = calloc(size, sizeof(*ix->slots));
	if (!ix->slots)
		return -1;
	ix->mask = size - 1;
	for (size_t i = 0; i < n; i++) {
		const struct policy *p = pols[i];
		int generic = 0;
		for (size_t k = 0; k < p->n_actions; k++) {
			const struct policy_entry *e = &p->actions[k].key;
			if (!e->literal || e->neg || !strcmp(e->text, "*")) {
				generic = 1;
				continue;
			}
			size_t at = hash_key(e->text) & ix->mask;
			while (ix->slots[at].key && strcmp(ix->slots[at].key, e->text))
				at = (at + 1) & ix->mask;
			struct policy_action_list *l = &ix->slots[at];
			l->key = e->text;
			if (list_push(&l->v, &l->n, &l->cap, p) < 0)
				return -1;
		}
		if (generic && list_push(&ix->generic, &ix->n_generic, &gcap, p) < 0)
			return -1;
	}
	return 0;
}

static void index_free(struct policy_action_index *ix)
{
	for (size_t i = 0; ix->slots && i <= ix->mask; i++)
		free(ix->slots[i].v);
	free(ix->slots);
	free(ix->generic);
	memset(ix, 0, sizeof(*ix));
}

void policy_set_free(struct policy_set *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		policy_clear(&ps->pol[i]);
	free(ps->pol);
	for (int i = 0; i < PS_COUNT; i++) {
		free(ps->active[i]);
		index_free(&ps->index[i]);
	}
	free(ps);
}

struct policy_set *policy_set_build(const struct store_policy *rows, size_t n, struct error *err)
{
	struct policy_set *ps = calloc(1, sizeof(*ps));
	if (!ps || !(ps->pol = calloc(n ? n : 1, sizeof(*ps->pol))))
		goto oom;
	for (size_t i = 0; i < n; i++) {
		int rc = policy_compile(&ps->pol[i], &rows[i]);
		ps->n = i + 1;
		if (rc < 0)
			goto oom;
	}
	qsort(ps->pol, ps->n, sizeof(*ps->pol), by_priority);
	for (int s = 0; s < PS_COUNT; s++)
		if (!(ps->active[s] = calloc(ps->n ? ps->n : 1, sizeof(*ps->active[s]))))
			goto oom;
	for (size_t i = 0; i < ps->n; i++) {
		struct policy *p = &ps->pol[i];
		p->ordinal = i;
		if (p->active)
			ps->active[p->scope_idx][ps->n_active[p->scope_idx]++] = p;
	}
	for (int s = 0; s < PS_COUNT; s++)
		if (index_build(&ps->index[s], ps->active[s], ps->n_active[s]) < 0)
			goto oom;
	return ps;
oom:
	policy_set_free(ps);
	err_internal(err, "out of memory");
	return NULL;
}

size_t policy_set_size(const struct policy_set *ps)
{
	return ps ? ps->n : 0;
}

static const struct policy_set empty_set;

const struct policy_set *policy_set_of(const struct snapshot *s)
{
	const struct policy_set *ps = snapshot_part(s, SNAP_POLICIES);
	return ps ? ps : &empty_set;
}

/* ---- accessors ---- */

const char *policy_name(const struct policy *p)
{
	return p->name;
}

int policy_priority(const struct policy *p)
{
	return p->priority;
}

const json_t *policy_json(const struct policy *p)
{
	return p->json;
}

int policy_action_get(const struct policy *p, const char *action, const char **value)
{
	for (size_t i = 0; i < p->n_actions; i++)
		if (!strcmp(p->actions[i].key.text, action)) {
			if (value)
				*value = p->actions[i].value;
			return 1;
		}
	return 0;
}

json_t *policy_list(const struct policy_set *ps, const char *name, const char *realm, const char *scope,
		    int active)
{
	json_t *out = json_array();
	for (size_t i = 0; ps && i < ps->n; i++) {
		const struct policy *p = &ps->pol[i];
		if ((name && strcmp(name, p->name)) || (scope && strcmp(scope, p->scope)) ||
		    (active >= 0 && !active != !p->active))
			continue;
		if (realm && p->realm.n) {
			int found, excluded;
			policy_entries_search(&p->realm, realm, &found, &excluded);
			if (!found || excluded)
				continue;
		}
		json_array_append(out, p->json);
	}
	return out;
}

/* ---- the snapshot part ---- */

static void *load(struct app *app, struct db_conn *c, const void *previous, struct error *err)
{
	struct store_policy *rows;
	size_t n;
	if (store_policy_list(c, &rows, &n, err) < 0)
		return NULL;
	struct policy_set *ps = policy_set_build(rows, n, err);
	store_policy_list_free(rows, n);
	return ps;
}

static void part_free(void *part)
{
	policy_set_free(part);
}

const struct snapshot_part_ops policy_snapshot_ops = { "policies", load, part_free };
