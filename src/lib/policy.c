/*
 * policy.c — building the compiled policy set of a configuration snapshot
 * (policy.h, policy_int.h): compiling the stored fields once with the
 * parsers of policy_parse.c, ordering by priority, the per-scope action
 * index, the serialised form, listing, and the snapshot part.
 *
 * It must not evaluate requests (policy_match.c) nor write (policy_write.c).
 * A stored value that does not parse never aborts the load: the entry is
 * logged and can simply never match, so a bad row cannot take the server
 * down.
 */
#include "policy_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "snapshot.h"
#include "../db/store_policy.h"

static const char *const scope_idx_names[PS_OTHER] = { "admin",	     "user",  "authentication", "authorization",
						       "enrollment", "webui", "register" };

int policy_scope_index(const char *scope)
{
	for (int i = 0; scope && i < PS_OTHER; i++)
		if (!strcmp(scope, scope_idx_names[i]))
			return i;
	return PS_OTHER;
}

/* ---- conditions ---- */

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
		json_array_append_new(conds,
				      json_pack("[s,s,s,s,b]", k->section, k->key, k->comparator, k->value, k->active));
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

static int list_push(struct policy_ref **v, size_t *n, size_t *cap, const struct policy_ref *r)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct policy_ref *nv = realloc(*v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *r;
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
		struct policy_ref r;
		policy_ref_init(&r, p);
		for (size_t k = 0; k < p->n_actions; k++) {
			const struct policy_entry *e = &p->actions[k].key;
			if (!e->literal || e->neg || !strcmp(e->text, "*"))
				continue;
			size_t at = hash_key(e->text) & ix->mask;
			while (ix->slots[at].key && strcmp(ix->slots[at].key, e->text))
				at = (at + 1) & ix->mask;
			struct policy_action_list *l = &ix->slots[at];
			if (l->key && l->n && l->v[l->n - 1].p == p)
				continue; /* the same key twice in one policy */
			l->key = e->text;
			if (list_push(&l->v, &l->n, &l->cap, &r) < 0)
				return -1;
		}
		if (r.generic && list_push(&ix->generic, &ix->n_generic, &gcap, &r) < 0)
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

json_t *policy_list(const struct policy_set *ps, const char *name, const char *realm, const char *scope, int active)
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
