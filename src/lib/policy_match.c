/*
 * policy_match.c — evaluating the compiled policy set (policy.h):
 * privacyIDEA's match_policies (every field, client networks, time ranges,
 * extended conditions) and Match.allowed.  Combining the matches into
 * action values and rights is policy_combine.c.  A lookup walks the action
 * index (policy_int.h) and drops, by the Bloom filters of struct
 * policy_ref, the policies whose user/realm/resolver/node names cannot
 * match before reading them (bench/policies_e2e.sh measures the cost).
 *
 * Everything here only reads the set, which is immutable once built, so
 * any number of threads may evaluate one snapshot at the same time.  It
 * must not touch the database: what conditions need about users and
 * tokens comes through struct policy_env callbacks.
 */
#include "policy_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "policy_defs.h"

/* What one evaluation knows; data behind callbacks is fetched once. */
struct match_state {
	const struct policy_match *m;
	const struct policy_env *env;
	struct policy_net client;
	int client_ok;
	int dow, minute, time_done;
	int userinfo_done, token_done, resolvers_done;
	const json_t *userinfo, *token;
	const char *const *resolvers;
};

/* ---- hits ---- */

static int hits_push(struct policy_hits *h, const struct policy *p)
{
	if (!h->v) {
		h->v = h->small;
		h->cap = sizeof(h->small) / sizeof(h->small[0]);
	}
	if (h->n == h->cap) {
		size_t ncap = h->cap * 2;
		const struct policy **nv = malloc(ncap * sizeof(*nv));
		if (!nv)
			return -1;
		memcpy(nv, h->v, h->n * sizeof(*nv));
		if (h->v != h->small)
			free(h->v);
		h->v = nv;
		h->cap = ncap;
	}
	h->v[h->n++] = p;
	return 0;
}

void policy_hits_free(struct policy_hits *h)
{
	if (h->v && h->v != h->small)
		free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

void policy_audit_add(char *buf, size_t len, const char *name)
{
	if (!len || !name)
		return;
	size_t used = strnlen(buf, len), nl = strlen(name);
	if (used == len || !nl)
		return; /* not a string (never happens), or nothing to add */
	/* each name once: look for it as a whole item (strstr is the fast
	 * part; the field grows to dozens of names with many policies) */
	for (const char *q = buf; (q = strstr(q, name)) != NULL; q++)
		if ((q == buf || q[-1] == ',') && (q[nl] == ',' || q[nl] == '\0'))
			return;
	if (used + nl + (used ? 1 : 0) >= len)
		return;
	snprintf(buf + used, len - used, "%s%s", used ? "," : "", name);
}

void policy_hits_audit(const struct policy_hits *hits, char *buf, size_t len)
{
	for (size_t i = 0; i < hits->n; i++)
		policy_audit_add(buf, len, hits->v[i]->name);
}

/* ---- Python's repr for error messages ---- */

static const char *repr(const char *s, char *buf, size_t len)
{
	struct policy_buf b = { 0 };
	policy_buf_repr(&b, s);
	snprintf(buf, len, "%s", b.s && !b.oom ? b.s : "''");
	free(b.s);
	return buf;
}

/* ---- field filters ---- */

static int entries_pass(const struct policy_entries *l, const char *value)
{
	if (!value || l->n == 0)
		return 1;
	int found, excluded;
	policy_entries_search(l, value, &found, &excluded);
	return found && !excluded;
}

/* An empty action list in privacyIDEA is {"": True}: it matches no action. */
static int action_pass(const struct policy *p, const char *action)
{
	if (!action)
		return 1;
	int found = 0, excluded = 0;
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct policy_entry *e = &p->actions[i].key;
		if (e->neg && !strcmp(action, e->text + 1))
			excluded = 1;
		else if (!strcmp(e->text, "*") || !strcmp(e->text, action))
			found = 1;
		else if (e->re && policy_re_match(e->re, action) == 1)
			found = 1;
	}
	return found && !excluded;
}

static int resolvers_of_user(struct match_state *st, struct error *err)
{
	if (st->resolvers_done)
		return 0;
	st->resolvers_done = 1;
	const struct policy_env *env = st->env;
	if (env && env->user_resolvers &&
	    env->user_resolvers(env->ctx, st->m->user, st->m->realm, &st->resolvers, err) < 0)
		return -1;
	return 0;
}

/* 1 pass, 0 drop, -1 error. */
static int resolver_pass(struct match_state *st, const struct policy *p, struct error *err)
{
	const char *resolver = st->m->resolver;
	if (!resolver || p->resolver.n == 0)
		return 1;
	if (!p->check_all_resolvers)
		return entries_pass(&p->resolver, resolver);
	const struct policy_match *m = st->m;
	if (!m->realm || !*m->realm || !m->user || !*m->user)
		return 0;
	if (resolvers_of_user(st, err) < 0)
		return -1;
	for (const char *const *r = st->resolvers; r && *r; r++)
		if (entries_pass(&p->resolver, *r))
			return 1;
	return 0;
}

static int pinode_pass(const struct policy *p, const char *pinode)
{
	if (!pinode || p->n_pinode == 0)
		return 1;
	for (size_t i = 0; i < p->n_pinode; i++)
		if (!strcmp(p->pinode[i], pinode))
			return 1;
	return 0;
}

static int net_contains(const struct policy_net *net, const struct policy_net *ip)
{
	if (!net->valid || net->family != ip->family)
		return 0;
	int full = net->prefix / 8, rest = net->prefix % 8;
	if (memcmp(net->addr, ip->addr, (size_t)full) != 0)
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((net->addr[full] & mask) != (ip->addr[full] & mask))
			return 0;
	}
	return 1;
}

static int client_pass(const struct match_state *st, const struct policy *p)
{
	if (!st->m->client || p->n_clients == 0)
		return 1;
	if (!st->client_ok)
		return 0;
	int found = 0, excluded = 0;
	for (size_t i = 0; i < p->n_clients; i++)
		if (net_contains(&p->clients[i], &st->client)) {
			if (p->clients[i].neg)
				excluded = 1;
			else
				found = 1;
		}
	return found && !excluded;
}

static int day_in(int d, int from, int to)
{
	return from <= to ? (d >= from && d <= to) : (d >= from || d <= to);
}

static int time_pass(struct match_state *st, const struct policy *p, int has_time)
{
	if (!has_time)
		return 1;
	if (!p->time_ok)
		return 0;
	if (!st->time_done) { /* only when a policy has a time: localtime_r is not free */
		time_t now = st->m->now ? st->m->now : time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		st->dow = tm.tm_wday == 0 ? 7 : tm.tm_wday;
		st->minute = tm.tm_hour * 60 + tm.tm_min;
		st->time_done = 1;
	}
	int prev_day = st->dow == 1 ? 7 : st->dow - 1;
	for (size_t i = 0; i < p->n_ranges; i++) {
		const struct policy_time *t = &p->ranges[i];
		if (t->start <= t->end) {
			if (day_in(st->dow, t->dow_start, t->dow_end) && st->minute >= t->start && st->minute <= t->end)
				return 1;
		} else if ((day_in(st->dow, t->dow_start, t->dow_end) && st->minute >= t->start) ||
			   (day_in(prev_day, t->dow_start, t->dow_end) && st->minute <= t->end)) {
			return 1; /* a night range started on a listed day */
		}
	}
	return 0;
}

/* ---- conditions ---- */

/* The text of a scalar as Python's str() (strings as they are). */
static const char *scalar_text(const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING: return json_string_value(v);
	case JSON_INTEGER: snprintf(buf, len, "%lld", (long long)json_integer_value(v)); return buf;
	case JSON_REAL: snprintf(buf, len, "%.17g", json_real_value(v)); return buf;
	case JSON_TRUE: return "True";
	case JSON_FALSE: return "False";
	case JSON_NULL: return "None";
	default: return NULL;
	}
}

/* int(left or 0): 0 ok, -1 not an integer. */
static int python_int(const json_t *v, long long *out)
{
	switch (json_typeof(v)) {
	case JSON_INTEGER: *out = json_integer_value(v); return 0;
	case JSON_TRUE: *out = 1; return 0;
	case JSON_FALSE:
	case JSON_NULL: *out = 0; return 0;
	case JSON_REAL: {
		double d = json_real_value(v);
		if (!isfinite(d) || fabs(d) > 9.2e18)
			return -1;
		*out = (long long)d;
		return 0;
	}
	case JSON_ARRAY: *out = 0; return json_array_size(v) ? -1 : 0;
	case JSON_OBJECT: *out = 0; return json_object_size(v) ? -1 : 0;
	case JSON_STRING: break;
	}
	const char *s = json_string_value(v);
	if (!*s) {
		*out = 0;
		return 0;
	}
	char digits[40];
	size_t n = 0;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '+' || *s == '-')
		digits[n++] = *s++;
	int last_digit = 0;
	for (; *s && !isspace((unsigned char)*s); s++) {
		if (*s == '_' && last_digit && isdigit((unsigned char)s[1])) {
			last_digit = 0;
			continue;
		}
		if (!isdigit((unsigned char)*s) || n >= sizeof(digits) - 1)
			return -1;
		digits[n++] = *s;
		last_digit = 1;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s || !last_digit)
		return -1;
	digits[n] = '\0';
	errno = 0;
	*out = strtoll(digits, NULL, 10);
	return errno ? -1 : 0;
}

/* compare_values: 1 true, 0 false, -1 invalid comparison. */
static int compare(const json_t *left, const struct policy_cond *k)
{
	char buf[64];
	int r;
	const char *text = scalar_text(left, buf, sizeof(buf));
	switch (k->cmp) {
	case CMP_EQUALS: r = text && !strcmp(text, k->value); break;
	case CMP_CONTAINS:
		if (!json_is_array(left))
			return -1;
		r = 0;
		for (size_t i = 0; i < json_array_size(left) && !r; i++) {
			const char *t = scalar_text(json_array_get(left, i), buf, sizeof(buf));
			r = t && !strcmp(t, k->value);
		}
		break;
	case CMP_IN:
		if (!k->items_ok)
			return -1;
		r = 0;
		for (size_t i = 0; text && i < k->n_items && !r; i++)
			r = !strcmp(text, k->items[i]);
		break;
	case CMP_MATCHES:
		if (!k->re || !text)
			return -1;
		r = policy_re_match(k->re, text);
		if (r < 0)
			return -1;
		break;
	case CMP_LT:
	case CMP_GT: {
		long long v;
		if (!k->num_ok || python_int(left, &v) < 0)
			return -1;
		return k->cmp == CMP_LT ? v < k->num : v > k->num;
	}
	default: return -1;
	}
	return k->negate ? !r : r;
}

static int fetch_userinfo(struct match_state *st, struct error *err)
{
	if (!st->userinfo_done) {
		st->userinfo_done = 1;
		if (st->env && st->env->userinfo && st->env->userinfo(st->env->ctx, &st->userinfo, err) < 0)
			return -1;
	}
	return 0;
}

static int fetch_token(struct match_state *st, struct error *err)
{
	if (!st->token_done) {
		st->token_done = 1;
		if (st->env && st->env->token && st->env->token(st->env->ctx, &st->token, err) < 0)
			return -1;
	}
	return 0;
}

static int policy_error(struct error *err, const char *fmt, const char *name, const char *extra)
{
	char n[300], x[300];
	repr(name, n, sizeof(n));
	if (extra)
		repr(extra, x, sizeof(x));
		/* fmt has one or two %s: the policy name, then the key */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	return err_set(err, ERRK_POLICY, ERR_POLICY, fmt, n, extra ? x : "");
#pragma GCC diagnostic pop
}

/* An info dict condition (userinfo, tokeninfo). */
static int info_cond(const struct policy *p, const struct policy_cond *k, const json_t *info, const char *type, int *ok,
		     struct error *err)
{
	char fmt[128];
	if (!info) {
		snprintf(fmt, sizeof(fmt), "Policy %%s has condition on %s, but an according object is not available",
			 type);
		return policy_error(err, fmt, p->name, NULL);
	}
	const json_t *left = json_is_object(info) ? json_object_get(info, k->key) : NULL;
	if (!left) {
		snprintf(fmt, sizeof(fmt), "Unknown key in the %s conditions of policy %%s", type);
		return policy_error(err, fmt, p->name, NULL);
	}
	int r = compare(left, k);
	if (r < 0) {
		snprintf(fmt, sizeof(fmt), "Invalid comparison in the %s conditions of policy %%s", type);
		return policy_error(err, fmt, p->name, NULL);
	}
	*ok = r;
	return 0;
}

/* A request condition (header, environment): missing or empty is an error. */
static int request_cond(const struct policy *p, const struct policy_cond *k, const char *(*get)(void *, const char *),
			void *ctx, int header, int *ok, struct error *err)
{
	if (!get)
		return policy_error(
			err,
			header ? "Policy %s has conditions on headers %s, but HTTP header is not available"
			       : "Policy %s has conditions on environment %s, but HTTP environment is not available",
			p->name, k->key);
	const char *v = get(ctx, k->key);
	if (!v || !*v)
		return policy_error(err,
				    header ? "Unknown HTTP header key referenced in condition of policy %s: %s"
					   : "Unknown HTTP environment key referenced in condition of policy %s: %s",
				    p->name, k->key);
	json_t *left = json_string(v);
	int r = left ? compare(left, k) : -1;
	json_decref(left);
	if (r < 0)
		return policy_error(err,
				    header ? "Invalid comparison in the HTTP header conditions of policy %s"
					   : "Invalid comparison in the HTTP environment conditions of policy %s",
				    p->name, NULL);
	*ok = r;
	return 0;
}

/* 1 all checked conditions hold, 0 one fails, -1 error. */
static int conditions_pass(struct match_state *st, const struct policy *p, struct error *err)
{
	enum policy_conditions mode = st->m->conditions;
	if (mode == POLICY_COND_NONE)
		return 1;
	const struct policy_env *env = st->env;
	for (size_t i = 0; i < p->n_conds; i++) {
		const struct policy_cond *k = &p->conds[i];
		if ((mode == POLICY_COND_USERINFO && k->sec != SEC_USERINFO) || !k->active)
			continue;
		int ok = 0;
		switch (k->sec) {
		case SEC_USERINFO:
			if (fetch_userinfo(st, err) < 0 || info_cond(p, k, st->userinfo, "userinfo", &ok, err) < 0)
				return -1;
			break;
		case SEC_TOKENINFO:
			if (fetch_token(st, err) < 0 ||
			    info_cond(p, k, st->token ? json_object_get(st->token, "info") : NULL, "tokeninfo", &ok,
				      err) < 0)
				return -1;
			break;
		case SEC_TOKEN: {
			if (fetch_token(st, err) < 0)
				return -1;
			if (!st->token)
				return policy_error(
					err, "Policy %s has conditions on tokens, but a token object is not available",
					p->name, NULL);
			const json_t *left = json_object_get(st->token, k->key);
			if (!left)
				return policy_error(err, "Unknown key in the token conditions of policy %s", p->name,
						    NULL);
			ok = compare(left, k);
			if (ok < 0)
				return policy_error(err, "Invalid comparison in the 'token' conditions of policy %s",
						    p->name, NULL);
			break;
		}
		case SEC_HEADER:
			if (request_cond(p, k, env ? env->header : NULL, env ? env->ctx : NULL, 1, &ok, err) < 0)
				return -1;
			break;
		case SEC_ENVIRON:
			if (request_cond(p, k, env ? env->environ : NULL, env ? env->ctx : NULL, 0, &ok, err) < 0)
				return -1;
			break;
		default: return policy_error(err, "Policy %s has condition with unknown section", p->name, NULL);
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* ---- matching ---- */

static int state_init(struct match_state *st, const struct policy_match *m, const struct policy_env *env,
		      struct error *err)
{
	memset(st, 0, sizeof(*st));
	st->m = m;
	st->env = env;
	if (!m->scope)
		return err_internal(err, "policy match without a scope");
	if (m->client) {
		if (!*m->client)
			return err_param(err, "client argument must be a non-empty string");
		st->client_ok = policy_parse_ip(m->client, &st->client) == 0;
	}
	return 0;
}

/* Within one priority privacyIDEA lists the policies that name the client
 * before those without a client list (it appends the latter). */
static void order_client_first(struct policy_hits *h)
{
	for (size_t i = 0; i < h->n;) {
		size_t j = i;
		while (j < h->n && h->v[j]->priority == h->v[i]->priority)
			j++;
		/* stable partition of [i, j) by "has a client list" */
		for (size_t a = i + 1; a < j; a++) {
			const struct policy *p = h->v[a];
			if (!p->n_clients)
				continue;
			size_t b = a;
			while (b > i && !h->v[b - 1]->n_clients) {
				h->v[b] = h->v[b - 1];
				b--;
			}
			h->v[b] = p;
		}
		i = j;
	}
}

/* ---- quick rejection (struct policy_ref) ---- */

static uint64_t hash_value(const char *s, int caseless)
{
	uint64_t h = 1469598103934665603u;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (caseless && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 1099511628211u;
	}
	return h;
}

uint64_t policy_ref_bits(const char *value, int caseless)
{
	if (caseless)
		for (const char *q = value; *q; q++)
			if ((unsigned char)*q >= 0x80)
				return 0; /* strcasecmp of non-ASCII bytes depends on the locale */
	uint64_t h = hash_value(value, caseless);
	return (1ull << (h & 63)) | (1ull << ((h >> 6) & 63)) | (1ull << ((h >> 12) & 63));
}

/* The Bloom filter of a list of plain names; 0 when it cannot be filtered. */
static int entries_bloom(const struct policy_entries *l, uint64_t *bloom)
{
	*bloom = 0;
	if (!l->n)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct policy_entry *e = &l->e[i];
		uint64_t bits;
		if (!e->literal || e->neg || !strcmp(e->text, "*") || !(bits = policy_ref_bits(e->text, l->caseless)))
			return 0;
		*bloom |= bits;
	}
	return 1;
}

void policy_ref_init(struct policy_ref *r, const struct policy *p)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->ordinal = p->ordinal;
	for (size_t k = 0; k < p->n_actions; k++) {
		const struct policy_entry *e = &p->actions[k].key;
		if (!e->literal || e->neg || !strcmp(e->text, "*"))
			r->generic = 1;
	}
	if (entries_bloom(&p->user, &r->bloom[REF_USER])) {
		r->filtered |= 1u << REF_USER;
		r->one[REF_USER] = p->user.n == 1 ? p->user.e[0].text : NULL;
	}
	if (entries_bloom(&p->realm, &r->bloom[REF_REALM])) {
		r->filtered |= 1u << REF_REALM;
		r->one[REF_REALM] = p->realm.n == 1 ? p->realm.e[0].text : NULL;
	}
	r->has_time = p->time[0] != '\0';
	if (!p->check_all_resolvers && entries_bloom(&p->resolver, &r->bloom[REF_RESOLVER]))
		r->filtered |= 1u << REF_RESOLVER;
	if (p->n_pinode) {
		uint64_t b = 0;
		size_t i = 0;
		for (; i < p->n_pinode; i++) {
			uint64_t bits = policy_ref_bits(p->pinode[i], 0);
			if (!bits)
				break;
			b |= bits;
		}
		if (i == p->n_pinode) {
			r->bloom[REF_PINODE] = b;
			r->filtered |= 1u << REF_PINODE;
		}
	}
}

/* The Bloom bits of the match's values, computed once per match. */
struct quick {
	uint64_t bits[4];
	unsigned char have; /* bit i: bits[i] is a value to filter on */
};

static void quick_init(struct quick *q, const struct policy_match *m)
{
	const char *v[4] = { m->user, m->realm, m->resolver, m->pinode };
	memset(q, 0, sizeof(*q));
	for (int i = 0; i < 4; i++)
		if (v[i] && (q->bits[i] = policy_ref_bits(v[i], i == REF_REALM)))
			q->have |= (unsigned char)(1u << i);
}

/* 1 when the policy certainly does not pass the user/realm/resolver/pinode
 * filters (a name not in its list), read from the ref alone. */
static int quick_reject(const struct quick *q, const struct policy_ref *r)
{
	unsigned f = q->have & r->filtered;
	for (int i = 0; f; i++, f >>= 1)
		if ((f & 1) && (r->bloom[i] & q->bits[i]) != q->bits[i])
			return 1;
	return 0;
}

/* entries_pass of the user (REF_USER) or realm (REF_REALM) list, with the
 * one plain name from the ref when it has it. */
static int ref_entries_pass(const struct policy_ref *ref, int i, const struct policy_entries *l, const char *value)
{
	if (!ref || !ref->one[i])
		return entries_pass(l, value);
	if (!value)
		return 1;
	return (i == REF_REALM ? strcasecmp(ref->one[i], value) : strcmp(ref->one[i], value)) == 0;
}

/* The candidates of a match in priority order: every active policy of the
 * scope, or with an action only those naming it plus the pattern ones. */
struct cursor {
	const struct policy *const *all; /* no action: every active policy */
	const struct policy_ref *a, *b;  /* naming the action, generic */
	size_t na, nb, i, j;
};

static void cursor_init(struct cursor *c, const struct policy_set *ps, int idx, const char *action)
{
	memset(c, 0, sizeof(*c));
	if (!ps)
		return;
	if (!action) {
		c->all = ps->active[idx];
		c->na = ps->n_active[idx];
		return;
	}
	const struct policy_action_list *l = policy_index_find(&ps->index[idx], action);
	if (l) {
		c->a = l->v;
		c->na = l->n;
	}
	c->b = ps->index[idx].generic;
	c->nb = ps->index[idx].n_generic;
}

/* The next candidate; *ref is its index entry (NULL without an action),
 * *named 1 when the policy names the action literally and has no pattern
 * key, so that the action filter is known to pass. */
static const struct policy *cursor_next(struct cursor *c, const struct policy_ref **ref, int *named)
{
	*ref = NULL;
	*named = 0;
	if (c->all)
		return c->i < c->na ? c->all[c->i++] : NULL;
	if (c->i < c->na && (c->j >= c->nb || c->a[c->i].ordinal < c->b[c->j].ordinal)) {
		*ref = &c->a[c->i++];
		*named = !(*ref)->generic;
		return (*ref)->p;
	}
	if (c->j < c->nb) {
		*ref = &c->b[c->j++];
		if (c->i < c->na && c->a[c->i].p == (*ref)->p) /* in both lists */
			c->i++;
		return (*ref)->p;
	}
	return NULL;
}

static int match_run(const struct policy_set *ps, struct match_state *st, struct policy_hits *out, struct error *err)
{
	const struct policy_match *m = st->m;
	int idx = policy_scope_index(m->scope), admin = idx == PS_ADMIN;
	struct cursor cur;
	struct quick qk;
	const struct policy *p;
	const struct policy_ref *ref;
	int named;
	memset(out, 0, sizeof(*out));
	int qk_done = 0;
	cursor_init(&cur, ps, idx, m->action);
	while ((p = cursor_next(&cur, &ref, &named))) {
		if (ref && ref->filtered) {
			if (!qk_done) { /* only once a policy can be filtered */
				quick_init(&qk, m);
				qk_done = 1;
			}
			if (quick_reject(&qk, ref))
				continue;
		}
		if (idx == PS_OTHER && strcmp(p->scope, m->scope))
			continue;
		if ((!named && !action_pass(p, m->action)) || !ref_entries_pass(ref, REF_USER, &p->user, m->user) ||
		    !ref_entries_pass(ref, REF_REALM, &p->realm, m->realm))
			continue;
		if (admin &&
		    (!entries_pass(&p->adminrealm, m->adminrealm) || !entries_pass(&p->adminuser, m->adminuser)))
			continue;
		int r = resolver_pass(st, p, err);
		if (r < 0)
			goto fail;
		if (!r || !pinode_pass(p, m->pinode) || !client_pass(st, p) ||
		    !time_pass(st, p, ref ? ref->has_time : p->time[0] != '\0'))
			continue;
		if (hits_push(out, p) < 0) {
			err_internal(err, "out of memory");
			goto fail;
		}
	}
	if (m->client)
		order_client_first(out);
	size_t keep = 0;
	for (size_t i = 0; i < out->n; i++) {
		int r = conditions_pass(st, out->v[i], err);
		if (r < 0)
			goto fail;
		if (r)
			out->v[keep++] = out->v[i];
	}
	out->n = keep;
	return 0;
fail:
	policy_hits_free(out);
	return -1;
}

int policy_match(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
		 struct policy_hits *out, struct error *err)
{
	struct match_state st;
	memset(out, 0, sizeof(*out));
	if (state_init(&st, m, env, err) < 0)
		return -1;
	return match_run(ps, &st, out, err);
}

int policy_any(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
	       struct error *err)
{
	struct policy_hits h;
	if (policy_match(ps, m, env, &h, err) < 0)
		return -1;
	int any = h.n > 0;
	policy_hits_free(&h);
	return any;
}

size_t policy_scope_active(const struct policy_set *ps, const char *scope)
{
	if (!ps || !scope)
		return 0;
	int idx = policy_scope_index(scope);
	if (idx != PS_OTHER)
		return ps->n_active[idx];
	size_t n = 0;
	for (size_t i = 0; i < ps->n_active[idx]; i++)
		n += !strcmp(ps->active[idx][i]->scope, scope);
	return n;
}

int policy_allowed(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
		   struct error *err)
{
	int any = policy_any(ps, m, env, err);
	if (any != 0)
		return any;
	return policy_scope_active(ps, m->scope) == 0;
}

int policy_check_right(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
		       struct error *err)
{
	int ok = policy_allowed(ps, m, env, err);
	if (ok < 0)
		return -1;
	if (ok)
		return 0;
	return err_set(err, ERRK_POLICY, ERR_POLICY, "%s actions are defined, but the action %s is not allowed!",
		       !strcmp(m->scope, "admin")  ? "Admin"
		       : !strcmp(m->scope, "user") ? "User"
						   : m->scope,
		       m->action ? m->action : "");
}
