/*
 * policy_combine.c — combining matched policies (policy.h): privacyIDEA's
 * extract_action_values (priorities, quoted values, conflicts at equal
 * priority), the highest-limit rule of the max-token actions,
 * check_for_conflicts, and ui_get_rights with the "no policy in the scope
 * means every action" rule, generated from the definition table.
 *
 * Read-only on the set, like policy_match.c; it must not match policies
 * itself (it calls policy_match).
 */
#include "policy_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_defs.h"

/* ---- action values ---- */

struct vlist {
	struct vitem {
		char *value;
		const struct policy *p;
	} * v;
	size_t n, cap;
};

static void vlist_free(struct vlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].value);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int vlist_add(struct vlist *l, const char *s, size_t len, const struct policy *p)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		struct vitem *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	char *v = strndup(s, len);
	if (!v)
		return -1;
	l->v[l->n].value = v;
	l->v[l->n++].p = p;
	return 0;
}

/* extract_action_values over hits into (value, policy) pairs, in order. */
static int extract_values(const struct policy_hits *h, const char *action, unsigned flags, struct vlist *out,
			  size_t *considered, struct error *err)
{
	size_t n = h->n;
	if ((flags & POLICY_UNIQUE) && n) {
		n = 1;
		while (n < h->n && h->v[n]->priority == h->v[0]->priority)
			n++;
	}
	*considered = n;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct policy *p = h->v[i];
		const char *val = NULL;
		if (!policy_action_get(p, action, &val) || !val)
			continue; /* matched through a pattern, or a bare action: no value */
		size_t len = strlen(val);
		int rc = 0;
		if (len >= 2 && val[0] == '\'' && val[len - 1] == '\'')
			rc = vlist_add(out, val + 1, len - 2, p);
		else if (flags & POLICY_ALLOW_WHITESPACE)
			rc = vlist_add(out, val, len, p);
		else
			for (size_t a = 0; rc == 0 && a < len;) {
				while (a < len && isspace((unsigned char)val[a]))
					a++;
				size_t b = a;
				while (b < len && !isspace((unsigned char)val[b]))
					b++;
				if (b > a)
					rc = vlist_add(out, val + a, b - a, p);
				a = b;
			}
		if (rc < 0) {
			vlist_free(out);
			return err_internal(err, "out of memory");
		}
	}
	return 0;
}

static size_t distinct_values(const struct vlist *l)
{
	size_t d = 0;
	for (size_t i = 0; i < l->n; i++) {
		size_t j = 0;
		while (j < i && strcmp(l->v[j].value, l->v[i].value))
			j++;
		d += j == i;
	}
	return d;
}

static int conflict_error(const struct policy_hits *h, size_t n, struct error *err)
{
	struct policy_buf b = { 0 };
	policy_buf_str(&b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			policy_buf_str(&b, ", ");
		policy_buf_repr(&b, h->v[i]->name);
	}
	policy_buf_str(&b, "]");
	err_set(err, ERRK_POLICY, ERR_POLICY, "There are policies with conflicting actions: %s", b.oom ? "[...]" : b.s);
	free(b.s);
	return -1;
}

/* Match, then extract; *hits stays valid for the caller (free it). */
static int values_of(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
		     unsigned flags, struct policy_hits *h, struct vlist *vl, struct error *err)
{
	size_t considered;
	if (!m->action)
		return err_internal(err, "action values without an action");
	if (policy_match(ps, m, env, h, err) < 0)
		return -1;
	if (extract_values(h, m->action, flags, vl, &considered, err) < 0) {
		policy_hits_free(h);
		return -1;
	}
	if ((flags & POLICY_UNIQUE) && distinct_values(vl) > 1) {
		conflict_error(h, considered, err);
		vlist_free(vl);
		policy_hits_free(h);
		return -1;
	}
	return 0;
}

int policy_action_values(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
			 unsigned flags, json_t **out, struct error *err)
{
	struct policy_hits h;
	struct vlist vl = { 0 };
	*out = NULL;
	if (values_of(ps, m, env, flags, &h, &vl, err) < 0)
		return -1;
	json_t *o = json_object();
	for (size_t i = 0; i < vl.n; i++) {
		json_t *names = json_object_get(o, vl.v[i].value);
		if (!names) {
			names = json_array();
			json_object_set_new(o, vl.v[i].value, names);
		}
		json_t *nm = json_string(vl.v[i].p->name);
		int dup = 0;
		for (size_t k = 0; k < json_array_size(names) && !dup; k++)
			dup = json_equal(json_array_get(names, k), nm);
		if (dup)
			json_decref(nm);
		else
			json_array_append_new(names, nm);
	}
	vlist_free(&vl);
	policy_hits_free(&h);
	*out = o;
	return 0;
}

int policy_action_unique(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
			 unsigned flags, char **value, const char **policy, struct error *err)
{
	struct policy_hits h;
	struct vlist vl = { 0 };
	*value = NULL;
	if (policy)
		*policy = NULL;
	if (values_of(ps, m, env, flags | POLICY_UNIQUE, &h, &vl, err) < 0)
		return -1;
	int found = vl.n > 0;
	if (found) {
		*value = vl.v[0].value;
		vl.v[0].value = NULL;
		if (policy)
			*policy = vl.v[0].p->name;
	}
	vlist_free(&vl);
	policy_hits_free(&h);
	return found;
}

int policy_action_max_int(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env,
			  long long *out, struct error *err)
{
	struct policy_hits h;
	struct vlist vl = { 0 };
	if (values_of(ps, m, env, 0, &h, &vl, err) < 0)
		return -1;
	int found = 0;
	for (size_t i = 0; i < vl.n; i++) {
		char *end;
		errno = 0;
		long long v = strtoll(vl.v[i].value, &end, 10);
		if (errno || *end || end == vl.v[i].value) {
			log_warning("policy %s: %s=%s is not an integer; ignored", vl.v[i].p->name, m->action,
				    vl.v[i].value);
			continue;
		}
		if (!found || v > *out)
			*out = v;
		found = 1;
	}
	vlist_free(&vl);
	policy_hits_free(&h);
	return found;
}

int policy_check_conflicts(const struct policy_hits *hits, const char *action, struct error *err)
{
	if (hits->n < 2)
		return 0;
	const char *first = NULL;
	int has_first = policy_action_get(hits->v[0], action, &first);
	for (size_t i = 1; i < hits->n && hits->v[i]->priority == hits->v[0]->priority; i++) {
		const char *v = NULL;
		int has = policy_action_get(hits->v[i], action, &v);
		if (has != has_first || (!v) != (!first) || (v && strcmp(v, first)))
			return err_set(err, ERRK_POLICY, ERR_POLICY, "Contradicting %s policies.", action);
	}
	return 0;
}

/* ---- rights ---- */

static int rights_add(json_t *a, const char *s)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!strcmp(json_string_value(json_array_get(a, i)), s))
			return 0;
	return json_array_append_new(a, json_string(s));
}

int policy_rights(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env, json_t **out,
		  struct error *err)
{
	struct policy_match q = *m;
	*out = NULL;
	q.action = NULL;
	if (!strcmp(m->scope, "admin")) {
		/* During an admin's login there is no user, token or request
		 * context for conditions: privacyIDEA skips them. */
		q.user = q.realm = q.resolver = NULL;
		q.conditions = POLICY_COND_NONE;
	} else if (!strcmp(m->scope, "user")) {
		q.adminuser = q.adminrealm = NULL;
		q.conditions = POLICY_COND_USERINFO;
	} else {
		return err_set(err, ERRK_POLICY, ERR_POLICY, "Unknown scope: %s", m->scope);
	}
	json_t *a = json_array();
	if (policy_scope_active(ps, m->scope) == 0) {
		for (size_t i = 0; i < policy_defs_count; i++)
			if (!strcmp(policy_defs[i].scope, m->scope))
				rights_add(a, policy_defs[i].action);
		*out = a;
		return 0;
	}
	struct policy_hits h;
	if (policy_match(ps, &q, env, &h, err) < 0) {
		json_decref(a);
		return -1;
	}
	for (size_t i = 0; i < h.n; i++)
		for (size_t k = 0; k < h.v[i]->n_actions; k++) {
			const struct policy_action *act = &h.v[i]->actions[k];
			if (act->value && !*act->value)
				continue; /* "key=" is falsy */
			rights_add(a, act->key.text);
			if (act->value) {
				struct policy_buf b = { 0 };
				policy_buf_fmt(&b, "%s=%s", act->key.text, act->value);
				if (!b.oom)
					rights_add(a, b.s);
				free(b.s);
			}
		}
	policy_hits_free(&h);
	*out = a;
	return 0;
}
