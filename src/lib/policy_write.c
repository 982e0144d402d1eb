/*
 * policy_write.c — creating, changing, enabling and deleting policies
 * (policy.h): privacyIDEA's set_policy / enable_policy / delete_policy,
 * with every field validated before anything is stored, so a policy that
 * is stored can always be evaluated.
 *
 * Runs inside the caller's write transaction; each change bumps the
 * configuration timestamp so every process reloads its snapshot.  It must
 * not evaluate policies (policy_match.c) nor know HTTP.
 */
#include "policy_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_defs.h"
#include "pyjson.h"
#include "../db/store.h"
#include "../db/store_policy.h"

/* privacyIDEA's column sizes. */
enum {
	MAX_NAME = 64,
	MAX_SCOPE = 32,
	MAX_ACTION = 2000,
	MAX_LIST = 256,
	MAX_TIME = 64,
	MAX_COND = 255,
	MAX_COND_VALUE = 2000
};

static int is_false_text(const char *s)
{
	return !strcmp(s, "0") || !strcasecmp(s, "false");
}

static int check_name(const char *name, unsigned flags, struct error *err)
{
	if (!name || !*name)
		return err_missing_param(err, "name");
	if (strlen(name) > MAX_NAME)
		return err_param(err, "The name of the policy may have at most %d characters.", MAX_NAME);
	if (!(flags & POLICY_WRITE_API))
		return 0;
	if (!strcasecmp(name, "check") || !strncasecmp(name, "pi-update-policy-", 17))
		return err_param(err, "'%s' is an invalid policy name.", name);
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.- ", *p))
			return err_param(err, "The name of the policy may only contain the characters a-zA-Z0-9_. -");
	return 0;
}

/* A comma list given as a string or a list of strings → "a, b" (malloc'd). */
static int list_field(const json_t *v, const char *field, size_t max, char **out, struct error *err)
{
	struct policy_buf b = { 0 };
	size_t n = 0;
	char **items = NULL;
	*out = NULL;
	policy_buf_add(&b, "", 0);
	if (json_is_string(v) || json_is_null(v)) {
		items = policy_split_list(json_is_string(v) ? json_string_value(v) : "", &n);
	} else if (json_is_array(v)) {
		struct policy_buf all = { 0 };
		policy_buf_add(&all, "", 0);
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *x = json_array_get(v, i);
			if (!json_is_string(x)) {
				free(all.s);
				free(b.s);
				return err_param(err, "The parameter '%s' must be a string or a list of strings.",
						 field);
			}
			if (i)
				policy_buf_str(&all, ",");
			policy_buf_str(&all, json_string_value(x));
		}
		items = all.oom ? NULL : policy_split_list(all.s, &n);
		free(all.s);
	} else {
		free(b.s);
		return err_param(err, "The parameter '%s' must be a string or a list of strings.", field);
	}
	if (!items) {
		free(b.s);
		return err_internal(err, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			policy_buf_str(&b, ", ");
		policy_buf_str(&b, items[i]);
	}
	policy_free_list(items, n);
	if (b.oom) {
		free(b.s);
		return err_internal(err, "out of memory");
	}
	if (b.len > max) {
		free(b.s);
		return err_param(err, "The parameter '%s' is longer than %zu characters.", field, max);
	}
	*out = b.s;
	return 0;
}

static int check_clients(const char *client, struct error *err)
{
	size_t n;
	char **items = policy_split_list(client, &n);
	if (!items)
		return err_internal(err, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct policy_net net;
		if (policy_parse_net(items[i], &net) < 0)
			rc = err_set(err, ERRK_PI, ERR_CONFIGADMIN, "Invalid client definition!");
	}
	policy_free_list(items, n);
	return rc;
}

/* The action field as a string "k, k2=v" from a string, list or dict. */
static int action_text(const json_t *v, char **out, struct error *err)
{
	struct policy_buf b = { 0 };
	*out = NULL;
	policy_buf_add(&b, "", 0);
	if (json_is_string(v)) {
		policy_buf_str(&b, json_string_value(v));
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *x = json_array_get(v, i);
			if (!json_is_string(x)) {
				free(b.s);
				return err_param(err,
						 "The parameter 'action' must be a string, a list or a dictionary.");
			}
			policy_buf_str(&b, i ? ", " : "");
			policy_buf_str(&b, json_string_value(x));
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *x;
		int first = 1;
		json_object_foreach((json_t *)v, k, x)
		{
			if (strchr(k, ',') || strchr(k, '=')) {
				free(b.s);
				return err_param(err, "The action name '%s' must not contain ',' or '='.", k);
			}
			if (json_is_false(x) || json_is_null(x))
				continue; /* {"enrollHOTP": false} grants nothing */
			policy_buf_str(&b, first ? "" : ", ");
			first = 0;
			policy_buf_str(&b, k);
			if (json_is_true(x))
				continue;
			char num[64];
			const char *text = json_is_string(x) ? json_string_value(x) : NULL;
			if (json_is_integer(x)) {
				snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(x));
				text = num;
			}
			if (!text) {
				free(b.s);
				return err_param(
					err, "The value of the action '%s' must be true, a string or an integer.", k);
			}
			if (strchr(text, ',')) {
				free(b.s);
				return err_param(err, "The value of the action '%s' must not contain a comma.", k);
			}
			policy_buf_str(&b, "=");
			policy_buf_str(&b, text);
		}
	} else {
		free(b.s);
		return err_param(err, "The parameter 'action' must be a string, a list or a dictionary.");
	}
	if (b.oom) {
		free(b.s);
		return err_internal(err, "out of memory");
	}
	*out = b.s;
	return 0;
}

/* Validate every action against the scope's definitions and normalise the
 * text ("k, k2=v"); boolean actions given as k=False are dropped. */
static int check_actions(const char *scope, const char *text, char **out, struct error *err)
{
	struct policy_action *a;
	size_t n;
	*out = NULL;
	if (policy_parse_actions(text, &a, &n) < 0)
		return err_internal(err, "out of memory");
	struct policy_buf b = { 0 };
	policy_buf_add(&b, "", 0);
	int rc = 0, first = 1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *key = a[i].key.text, *val = a[i].value;
		const struct policy_def *d = policy_def_find(scope, key);
		if (!d) {
			rc = err_param(err, "The action '%s' is not a valid action in the scope '%s'.", key, scope);
			break;
		}
		if (d->type == POLICY_TYPE_BOOL && val) {
			if (is_false_text(val))
				continue;
			json_t *t = json_string(val);
			int yes = pyjson_is_true(t);
			json_decref(t);
			if (yes)
				val = NULL;
		}
		rc = policy_def_check_value(d, val, err);
		if (rc < 0)
			break;
		policy_buf_str(&b, first ? "" : ", ");
		first = 0;
		policy_buf_str(&b, key);
		if (val) {
			policy_buf_str(&b, "=");
			policy_buf_str(&b, val);
		}
	}
	policy_free_actions(a, n);
	if (rc == 0 && b.oom)
		rc = err_internal(err, "out of memory");
	if (rc == 0 && b.len > MAX_ACTION)
		rc = err_param(err, "The parameter 'action' is longer than %d characters.", MAX_ACTION);
	if (rc < 0) {
		free(b.s);
		return -1;
	}
	*out = b.s;
	return 0;
}

static int cond_text(const json_t *c, size_t i, size_t max, const char *what, char **out, struct error *err)
{
	const json_t *x = json_array_get(c, i);
	if (!json_is_string(x))
		return err_param(err, "Conditions must be 5-tuples of four strings and one boolean.");
	if (strlen(json_string_value(x)) > max)
		return err_param(err, "The condition %s is longer than %zu characters.", what, max);
	*out = strdup(json_string_value(x));
	return *out ? 0 : err_internal(err, "out of memory");
}

static int check_condition(const struct store_policy_condition *k, struct error *err)
{
	int negate;
	if (policy_section_of(k->section) == SEC_UNKNOWN)
		return err_param(err,
				 "Unknown condition section '%s' (userinfo, tokeninfo, token, HTTP Request header, "
				 "HTTP Environment).",
				 k->section);
	enum policy_cmp cmp = policy_cmp_of(k->comparator, &negate);
	if (cmp == CMP_UNKNOWN)
		return err_param(err,
				 "Unknown condition comparator '%s' (equals, !equals, contains, !contains, in, "
				 "!in, matches, !matches, <, >).",
				 k->comparator);
	if (!*k->key)
		return err_param(err, "A condition needs a key.");
	if (cmp == CMP_MATCHES) {
		pcre2_code *re = policy_compile_re(k->value, 0);
		if (!re)
			return err_param(err, "The condition value '%s' is not a valid regular expression.", k->value);
		pcre2_code_free(re);
	} else if (cmp == CMP_IN) {
		char **items;
		size_t n;
		if (policy_parse_csv(k->value, &items, &n) < 0)
			return err_param(err, "The condition value '%s' is not a valid comma-separated list.",
					 k->value);
		policy_free_list(items, n);
	} else if (cmp == CMP_LT || cmp == CMP_GT) {
		char *end;
		errno = 0;
		(void)strtoll(k->value, &end, 10);
		if (!*k->value || errno || *end)
			return err_param(err, "The condition value '%s' must be an integer for '%s'.", k->value,
					 k->comparator);
	}
	return 0;
}

/* conditions: [[section, key, comparator, value, active], ...] (or that
 * list as JSON text, as a form field can only carry text). */
static int parse_conditions(const json_t *v, struct store_policy *p, struct error *err)
{
	json_t *parsed = NULL;
	if (json_is_string(v)) {
		parsed = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
		v = parsed;
	}
	if (!json_is_array(v)) {
		json_decref(parsed);
		return err_param(err, "The parameter 'conditions' must be a list of conditions.");
	}
	size_t n = json_array_size(v);
	p->conditions = calloc(n ? n : 1, sizeof(*p->conditions));
	if (!p->conditions) {
		json_decref(parsed);
		return err_internal(err, "out of memory");
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_t *c = json_array_get(v, i);
		struct store_policy_condition *k = &p->conditions[i];
		if (!json_is_array(c) || json_array_size(c) != 5 || !json_is_boolean(json_array_get(c, 4))) {
			rc = err_param(err, "Conditions must be 5-tuples of four strings and one boolean.");
			break;
		}
		p->n_conditions = i + 1;
		rc = cond_text(c, 0, MAX_COND, "section", &k->section, err);
		if (rc == 0)
			rc = cond_text(c, 1, MAX_COND, "key", &k->key, err);
		if (rc == 0)
			rc = cond_text(c, 2, MAX_COND, "comparator", &k->comparator, err);
		if (rc == 0)
			rc = cond_text(c, 3, MAX_COND_VALUE, "value", &k->value, err);
		k->active = json_is_true(json_array_get(c, 4));
		if (rc == 0)
			rc = check_condition(k, err);
	}
	json_decref(parsed);
	return rc;
}

static int replace(char **field, char *value)
{
	free(*field);
	*field = value;
	return 0;
}

/* Apply the given fields to row p (already holding the stored values or
 * the defaults); *set_conditions tells whether conditions were given. */
static int apply_fields(struct store_policy *p, const json_t *f, int *set_conditions, struct error *err)
{
	static const struct {
		const char *name;
		size_t off;
	} lists[] = {
		{ "realm", offsetof(struct store_policy, realm) },
		{ "resolver", offsetof(struct store_policy, resolver) },
		{ "user", offsetof(struct store_policy, user) },
		{ "adminrealm", offsetof(struct store_policy, adminrealm) },
		{ "adminuser", offsetof(struct store_policy, adminuser) },
		{ "pinode", offsetof(struct store_policy, pinode) },
		{ "client", offsetof(struct store_policy, client) },
	};
	const json_t *v;
	if ((v = json_object_get(f, "scope")) && !json_is_null(v)) {
		if (!json_is_string(v) || !policy_scope_known(json_string_value(v)))
			return err_param(err,
					 "Unknown scope '%s'. The scope must be one of admin, user, authentication, "
					 "authorization, enrollment, webui, register.",
					 json_is_string(v) ? json_string_value(v) : "?");
		char *s = strdup(json_string_value(v));
		if (!s)
			return err_internal(err, "out of memory");
		replace(&p->scope, s);
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (!(v = json_object_get(f, lists[i].name)))
			continue;
		char *s;
		if (list_field(v, lists[i].name, MAX_LIST, &s, err) < 0)
			return -1;
		replace((char **)((char *)p + lists[i].off), s);
	}
	if (check_clients(p->client, err) < 0)
		return -1;
	if ((v = json_object_get(f, "time")) && !json_is_null(v)) {
		if (!json_is_string(v))
			return err_param(err, "The parameter 'time' must be a string.");
		const char *t = json_string_value(v);
		struct policy_time *r;
		size_t n;
		char why[200];
		if (strlen(t) > MAX_TIME)
			return err_param(err, "The parameter 'time' is longer than %d characters.", MAX_TIME);
		if (policy_parse_time(t, &r, &n, why, sizeof(why)) < 0)
			return err_param(err, "Invalid time format: %s.", why);
		free(r);
		char *s = strdup(t);
		if (!s)
			return err_internal(err, "out of memory");
		replace(&p->time, s);
	}
	if ((v = json_object_get(f, "priority")) && !json_is_null(v)) {
		long long pr;
		char *end = NULL;
		if (json_is_integer(v)) {
			pr = json_integer_value(v);
		} else if (json_is_string(v)) {
			errno = 0;
			pr = strtoll(json_string_value(v), &end, 10);
			while (end && isspace((unsigned char)*end))
				end++;
			if (!*json_string_value(v) || errno || *end)
				return err_param(err, "The priority must be an integer.");
		} else {
			return err_param(err, "The priority must be an integer.");
		}
		if (pr < 1)
			return err_param(err, "Priority must be at least 1");
		if (pr > INT_MAX)
			return err_param(err, "The priority must be at most %d.", INT_MAX);
		p->priority = pr;
	}
	/* As privacyIDEA's set_policy: both flags are always written. */
	v = json_object_get(f, "active");
	p->active = !v || json_is_null(v) ? 1 : pyjson_is_true(v);
	p->check_all_resolvers = pyjson_is_true(json_object_get(f, "check_all_resolvers"));
	if ((v = json_object_get(f, "conditions")) && !json_is_null(v)) {
		for (size_t i = 0; i < p->n_conditions; i++) {
			struct store_policy_condition *k = &p->conditions[i];
			free(k->section);
			free(k->key);
			free(k->comparator);
			free(k->value);
		}
		free(p->conditions);
		p->conditions = NULL;
		p->n_conditions = 0;
		if (parse_conditions(v, p, err) < 0)
			return -1;
		*set_conditions = 1;
	}
	return 0;
}

static int defaults(struct store_policy *p, const char *name)
{
	char **s[] = { &p->scope,    &p->action, &p->realm, &p->adminrealm, &p->adminuser,
		       &p->resolver, &p->pinode, &p->user,  &p->client,	    &p->time };
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->priority = 1;
	int ok = p->name != NULL;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		ok &= (*s[i] = strdup("")) != NULL;
	return ok ? 0 : -1;
}

int policy_write(struct db_conn *c, const char *name, const json_t *fields, unsigned flags, int64_t *id,
		 struct error *err)
{
	struct store_policy p;
	int set_conditions = 0, rc;
	if (check_name(name, flags, err) < 0)
		return -1;
	if (!json_is_object(fields))
		return err_internal(err, "policy_write: fields must be an object");
	rc = store_policy_get(c, name, &p, err);
	if (rc < 0)
		return -1;
	int exists = rc == 0;
	if (!exists && defaults(&p, name) < 0) {
		store_policy_clear(&p);
		return err_internal(err, "out of memory");
	}
	rc = apply_fields(&p, fields, &set_conditions, err);
	if (rc == 0 && !*p.scope)
		rc = err_missing_param(err, "scope");
	const json_t *a = json_object_get(fields, "action");
	char *text = NULL, *norm = NULL;
	if (rc == 0 && a && !json_is_null(a))
		rc = action_text(a, &text, err);
	/* The stored actions are checked too: the scope may have changed. */
	if (rc == 0)
		rc = check_actions(p.scope, text ? text : p.action, &norm, err);
	free(text);
	if (rc == 0) {
		replace(&p.action, norm);
		rc = store_policy_put(c, &p, set_conditions || !exists, id, err);
	} else {
		free(norm);
	}
	if (rc == 0)
		rc = store_config_touch(c, err);
	store_policy_clear(&p);
	return rc < 0 ? -1 : 0;
}

int policy_enable(struct db_conn *c, const char *name, int active, int64_t *id, struct error *err)
{
	int rc = store_policy_set_active(c, name, active, id, err);
	if (rc == 1)
		return err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, "The policy with name '%s' does not exist", name);
	if (rc == 0)
		rc = store_config_touch(c, err);
	return rc < 0 ? -1 : 0;
}

int policy_delete(struct db_conn *c, const char *name, int64_t *id, struct error *err)
{
	int rc = store_policy_delete(c, name, id, err);
	if (rc == 1)
		return err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, "The requested Policy could not be found.");
	if (rc == 0)
		rc = store_config_touch(c, err);
	return rc < 0 ? -1 : 0;
}
