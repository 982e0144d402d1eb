/*
 * realm_write.c — the configuration writes of /resolver, /realm and
 * /defaultrealm (realm.h): saving, deleting and testing resolver
 * definitions, saving and deleting realms, the default realm.
 *
 * Everything runs in the caller's write transaction and bumps the
 * configuration timestamp in it, so every process reloads its snapshot
 * (realm.c); nothing is written when a check fails.  Password-type values
 * are encrypted here (crypto SLOT_CONFIG) and never logged.  No SQL
 * (src/db/store_userstore.c); user stores are touched only to build a
 * throw-away instance (no connection) or by an explicit test.
 */
#include "realm.h"
#include "realm_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "crypto.h"
#include "log.h"
#include "snapshot.h"
#include "resolvers/resolver.h"
#include "../db/store.h"
#include "../db/store_userstore.h"

#define CENSORED "__CENSORED__"
#define NAME_RULE "^[A-Za-z0-9_\\-\\.]+$"

/* ---- helpers for writes ------------------------------------------------------- */

/* privacyIDEA's sanity_name_check for resolver and realm names. */
static int name_ok(const char *name)
{
	if (!name || !*name)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			return 0;
	return 1;
}

static int name_error(struct error *err, const char *name)
{
	/* privacyIDEA shows the name as Python's repr() does. */
	return err_param(err, "non conformant characters in the name: '%.200s' (not in %s)", name, NAME_RULE);
}

/* A parameter value as text, as privacyIDEA stores it (str() of the JSON
 * type; objects and arrays as compact JSON).  malloc'd. */
static char *value_text(const json_t *v)
{
	char buf[64];
	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_TRUE:
		return strdup("True");
	case JSON_FALSE:
		return strdup("False");
	case JSON_NULL:
		return strdup("");
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return strdup(buf);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		return strdup(buf);
	default:
		return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	}
}

static const char *ptype_name(enum resolver_ptype t)
{
	switch (t) {
	case RP_PASSWORD: return "password";
	case RP_INT: return "int";
	case RP_BOOL: return "bool";
	default: return "string";
	}
}

static const struct resolver_param *find_param(const struct resolver_type *t, const char *key)
{
	for (const struct resolver_param *p = t->params; p && p->name; p++)
		if (!strcmp(p->name, key))
			return p;
	return NULL;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A parameter that is part of the request, not of the definition. */
static int control_key(const char *k)
{
	return !strcmp(k, "resolver") || !strcmp(k, "type");
}

static int type_list_error(struct error *err, const char *type)
{
	char names[256] = "";
	size_t off = 0;
	for (size_t i = 0; resolver_types[i] && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s'%s'", i ? ", " : "",
					resolver_types[i]->name);
	return err_param(err, "resolver type : %.100s not in [%s]", type, names);
}

/* ---- resolver writes ---------------------------------------------------------- */

struct save_plan {
	json_t *data;  /* key → text to store (clear) */
	json_t *types; /* key → Type */
	json_t *descs; /* key → Description */
};

static void plan_free(struct save_plan *p)
{
	json_decref(p->data);
	json_decref(p->types);
	json_decref(p->descs);
}

/* Split the request parameters as privacyIDEA's get_data_from_params. */
static int plan_build(const struct resolver_type *t, const json_t *params, struct save_plan *p, struct error *err)
{
	const char *k;
	json_t *v;
	p->data = json_object();
	p->types = json_object();
	p->descs = json_object();
	if (!p->data || !p->types || !p->descs)
		return err_internal(err, "out of memory");
	json_object_foreach((json_t *)params, k, v) {
		if (control_key(k))
			continue;
		char *text = value_text(v);
		if (!text)
			return err_internal(err, "out of memory");
		if (!strncmp(k, "type.", 5) && k[5]) {
			json_object_set_new(p->types, k + 5, json_string(text));
		} else if (!strncmp(k, "desc.", 5) && k[5]) {
			json_object_set_new(p->descs, k + 5, json_string(text));
		} else {
			json_t *js = json_string(text);
			if (!js) {
				free(text);
				return err_param(err, "The value of '%.100s' is not valid UTF-8", k);
			}
			json_object_set_new(p->data, k, js);
			const struct resolver_param *rp = find_param(t, k);
			if (rp)
				json_object_set_new(p->types, k, json_string(ptype_name(rp->type)));
			else
				log_warning("the passed key '%s' is not a parameter for the resolver type '%s'", k,
					    t->name);
		}
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	/* A type or description without the value itself. */
	json_object_foreach(p->types, k, v)
		if (!json_object_get(p->data, k))
			return err_param(err, "type or description without necessary data! (%.100s)", k);
	json_object_foreach(p->descs, k, v)
		if (!json_object_get(p->data, k))
			return err_param(err, "type or description without necessary data! (%.100s)", k);
	return 0;
}

static int is_password(const struct save_plan *p, const char *key)
{
	const char *t = json_string_value(json_object_get(p->types, key));
	return t && !strcmp(t, "password");
}

int resolver_save(struct app *app, struct db_conn *c, const json_t *params, int64_t *id, struct error *err)
{
	const char *name = json_string_value(json_object_get(params, "resolver"));
	json_t *jtype = json_object_get(params, "type");
	const char *type = json_string_value(jtype);
	struct save_plan plan = { 0 };
	json_t *stored = NULL, *merged = NULL, *censor = NULL;
	char *lname = NULL, *stored_name = NULL, *stored_type = NULL;
	int64_t rid = 0;
	int rc = -1;

	if (!name)
		return err_missing_param(err, "resolver");
	if (!jtype || json_is_null(jtype))
		return err_missing_param(err, "type");
	if (!name_ok(name))
		return name_error(err, name);
	const struct resolver_type *t = type ? resolver_type_find(type) : NULL;
	if (!t)
		return type_list_error(err, type ? type : "");
	if (!(lname = strdup(name)))
		return err_internal(err, "out of memory");
	lower(lname);
	int found = store_resolver_get(c, lname, &rid, &stored_name, &stored_type, &stored, err);
	if (found < 0)
		goto out;
	if (found == 0 && strcmp(stored_type, type)) {
		err_param(err, "resolver with similar name and other type already exists: %s", stored_name);
		goto out;
	}
	if (plan_build(t, params, &plan, err) < 0)
		goto out;

	/* The definition after this change: what is stored, overlaid with
	 * what was sent ("__CENSORED__" keeps a stored password). */
	if (found == 0) {
		if (realm_decrypt_config(app, stored, &merged, &censor, err) < 0)
			goto out;
	} else if (!(merged = json_object())) {
		err_internal(err, "out of memory");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(plan.data, k, v) {
		if (is_password(&plan, k) && !strcmp(json_string_value(v), CENSORED))
			continue;
		json_object_set(merged, k, v);
	}
	if (resolver_check_required(t, merged, err) < 0)
		goto out;
	struct resolver *probe = t->create(found == 0 ? stored_name : name, merged, err);
	if (!probe) {
		if (!err_is_set(err))
			err_param(err, "Invalid resolver definition");
		goto out;
	}
	t->destroy(probe);

	if (found == 1 && store_resolver_insert(c, name, type, &rid, err) < 0)
		goto out;
	json_object_foreach(plan.data, k, v) {
		const char *value = json_string_value(v);
		char *enc = NULL;
		if (is_password(&plan, k)) {
			if (!strcmp(value, CENSORED))
				continue;
			if (!(enc = crypto_encrypt_value(app->enckey, SLOT_CONFIG, value, strlen(value), err)))
				goto out;
		}
		int w = store_resolver_config_put(c, rid, k, enc ? enc : value,
						  json_string_value(json_object_get(plan.types, k)),
						  json_string_value(json_object_get(plan.descs, k)), err);
		free(enc);
		if (w < 0)
			goto out;
	}
	/* privacyIDEA: a changed resolver drops its user cache entries. */
	if (store_usercache_delete_resolver(c, found == 0 ? stored_name : name, err) < 0 ||
	    store_config_touch(c, err) < 0)
		goto out;
	*id = rid;
	rc = 0;
out:
	realm_wipe_secrets(merged, censor);
	json_object_foreach(plan.data, k, v)
		if (is_password(&plan, k))
			OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	json_decref(merged);
	json_decref(censor);
	json_decref(stored);
	plan_free(&plan);
	free(lname);
	free(stored_name);
	free(stored_type);
	return rc;
}

int resolver_delete(struct app *app, struct db_conn *c, const char *name, int64_t *id, struct error *err)
{
	char *lname = name ? strdup(name) : NULL, *stored_name = NULL, *realm = NULL;
	int64_t rid = 0;
	*id = -1;
	if (!lname)
		return name ? err_internal(err, "out of memory") : err_missing_param(err, "resolver");
	lower(lname);
	int rc = store_resolver_get(c, lname, &rid, &stored_name, NULL, NULL, err);
	free(lname);
	if (rc != 0)
		return rc;
	rc = store_resolver_first_realm(c, rid, &realm, err);
	if (rc == 0)
		rc = err_set(err, ERRK_PI, ERR_CONFIGADMIN, "The resolver '%s' is still contained in realm '%s'.",
			     stored_name, realm);
	else if (rc == 1 && store_resolver_delete(c, rid, err) == 0 &&
		 store_usercache_delete_resolver(c, stored_name, err) == 0 && store_config_touch(c, err) == 0) {
		*id = rid;
		rc = 0;
	} else {
		rc = -1;
	}
	free(realm);
	free(stored_name);
	return rc;
}

int resolver_test(struct snapshot *s, const json_t *params, int *ok, char **desc, struct error *err)
{
	json_t *jtype = json_object_get(params, "type");
	const char *type = json_string_value(jtype);
	*ok = 0;
	*desc = NULL;
	if (!jtype || json_is_null(jtype))
		return err_missing_param(err, "type");
	const struct resolver_type *t = type ? resolver_type_find(type) : NULL;
	if (!t)
		return type_list_error(err, type ? type : "");
	json_t *config = json_object();
	if (!config)
		return err_internal(err, "out of memory");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)params, k, v) {
		if (control_key(k))
			continue;
		char *text = value_text(v);
		json_t *js = text ? json_string(text) : NULL;
		if (text) {
			OPENSSL_cleanse(text, strlen(text));
			free(text);
		}
		if (js)
			json_object_set_new(config, k, js);
	}
	/* A stored resolver tested again may carry its censored password. */
	const char *rname = json_string_value(json_object_get(params, "resolver"));
	const json_t *censor = rname ? realm_resolver_censor_keys(s, rname) : NULL;
	const json_t *stored = rname ? realm_resolver_config(s, rname) : NULL;
	size_t i;
	json_array_foreach(censor, i, v) {
		const char *key = json_string_value(v);
		const char *given = json_string_value(json_object_get(config, key));
		const char *kept = json_string_value(json_object_get(stored, key));
		if (given && !strcmp(given, CENSORED) && kept)
			json_object_set_new(config, key, json_string(kept)); /* a copy: wiped below */
	}
	struct error e = { 0 };
	int rc = t->test_connection ? t->test_connection(config, desc, &e) : err_param(&e, "not supported");
	realm_wipe_secrets(config, (json_t *)censor);
	for (const struct resolver_param *p = t->params; p && p->name; p++) {
		json_t *pv = json_object_get(config, p->name);
		if (p->type == RP_PASSWORD && json_is_string(pv))
			OPENSSL_cleanse((char *)json_string_value(pv), json_string_length(pv));
	}
	json_decref(config);
	if (rc == 0) {
		*ok = 1;
		if (!*desc && !(*desc = strdup("")))
			return err_internal(err, "out of memory");
		return 0;
	}
	free(*desc);
	/* privacyIDEA answers value false with the reason in the description;
	 * internal errors keep their text in the log only. */
	if (e.kind == ERRK_INTERNAL)
		log_error("resolver test (%s): %s", type, e.message);
	*desc = strdup(e.kind == ERRK_INTERNAL ? "internal error" : e.message);
	return *desc ? 0 : err_internal(err, "out of memory");
}

/* ---- realm writes --------------------------------------------------------------- */

/* Realm name as privacyIDEA's set_realm normalises it (malloc'd). */
static char *realm_normalise(const char *realm)
{
	while (isspace((unsigned char)*realm))
		realm++;
	size_t n = strlen(realm);
	while (n && isspace((unsigned char)realm[n - 1]))
		n--;
	char *out = strndup(realm, n);
	if (!out)
		return NULL;
	for (char *p = out; *p; p++)
		*p = *p == ' ' ? '-' : (char)tolower((unsigned char)*p);
	return out;
}

/* The list of resolver names: a JSON array of strings or a comma-separated
 * string; entries stripped, empty ones and repetitions dropped. */
static json_t *resolver_names(const json_t *resolvers, struct error *err)
{
	json_t *out = json_array();
	if (!out) {
		err_internal(err, "out of memory");
		return NULL;
	}
	char *text = NULL;
	if (json_is_array(resolvers)) {
		size_t i;
		json_t *v;
		json_array_foreach(resolvers, i, v) {
			if (!json_is_string(v)) {
				json_decref(out);
				err_param(err, "Parameter 'resolvers' must be a list of resolver names");
				return NULL;
			}
		}
		json_array_foreach(resolvers, i, v) {
			char *one = strdup(json_string_value(v));
			if (!one)
				break;
			char *p = one, *e = one + strlen(one);
			while (isspace((unsigned char)*p))
				p++;
			while (e > p && isspace((unsigned char)e[-1]))
				*--e = '\0';
			int dup = 0;
			size_t j;
			json_t *w;
			json_array_foreach(out, j, w)
				dup |= !strcmp(json_string_value(w), p);
			if (*p && !dup)
				json_array_append_new(out, json_string(p));
			free(one);
		}
		return out;
	}
	if (!json_is_string(resolvers) || !(text = strdup(json_string_value(resolvers)))) {
		json_decref(out);
		if (json_is_string(resolvers))
			err_internal(err, "out of memory");
		else
			err_param(err, "Parameter 'resolvers' must be a list of resolver names");
		return NULL;
	}
	char *save = NULL;
	for (char *tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *e = tok + strlen(tok);
		while (isspace((unsigned char)*tok))
			tok++;
		while (e > tok && isspace((unsigned char)e[-1]))
			*--e = '\0';
		int dup = 0;
		size_t j;
		json_t *w;
		json_array_foreach(out, j, w)
			dup |= !strcmp(json_string_value(w), tok);
		if (*tok && !dup)
			json_array_append_new(out, json_string(tok));
	}
	free(text);
	return out;
}

/* "priority.<name>": a JSON integer or a decimal string, 1..999. */
static int priority_of(const json_t *params, const char *name, int *has, int64_t *prio, struct error *err)
{
	char key[300];
	snprintf(key, sizeof(key), "priority.%s", name);
	json_t *v = json_object_get(params, key);
	*has = 0;
	if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
		return 0;
	long long n;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		const char *s = json_string_value(v);
		n = strtoll(s, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (end == s || *end)
			return err_param(err, "Parameter '%.200s' must be an integer.", key);
	} else {
		return err_param(err, "Parameter '%.200s' must be an integer.", key);
	}
	if (n < 1 || n > 999)
		return err_param(err, "Parameter '%.200s' must be between 1 and 999.", key);
	*has = 1;
	*prio = n;
	return 0;
}

int realm_save(struct app *app, struct db_conn *c, const char *realm, const json_t *resolvers,
	       const json_t *params, json_t **added, struct error *err)
{
	char *name = NULL;
	json_t *names = NULL, *ids = NULL;
	int rc = -1;
	*added = NULL;
	if (!realm)
		return err_missing_param(err, "realm");
	if (!resolvers || json_is_null(resolvers))
		return err_missing_param(err, "resolvers");
	if (!(name = realm_normalise(realm)))
		return err_internal(err, "out of memory");
	if (!name_ok(name)) {
		name_error(err, name);
		goto out;
	}
	if (!(names = resolver_names(resolvers, err)) || !(ids = json_array()))
		goto out;
	/* Every resolver must exist; nothing is written otherwise. */
	size_t i;
	json_t *v;
	char missing[512] = "";
	size_t off = 0;
	json_array_foreach(names, i, v) {
		const char *rn = json_string_value(v);
		char *l = strdup(rn), *stored = NULL;
		int64_t rid = 0;
		if (!l) {
			err_internal(err, "out of memory");
			goto out;
		}
		lower(l);
		int f = store_resolver_get(c, l, &rid, &stored, NULL, NULL, err);
		free(l);
		/* privacyIDEA looks resolvers up by their exact name. */
		if (f == 0 && strcmp(stored, rn))
			f = 1;
		free(stored);
		if (f < 0)
			goto out;
		if (f == 1 && off < sizeof(missing))
			off += (size_t)snprintf(missing + off, sizeof(missing) - off, "%s'%.100s'", off ? ", " : "", rn);
		json_array_append_new(ids, json_integer(rid));
	}
	if (off) {
		err_param(err, "The resolver(s) do not exist: %s", missing);
		goto out;
	}
	int64_t realm_id = 0;
	int f = store_realm_get_id(c, name, &realm_id, err);
	if (f < 0 || (f == 1 && store_realm_insert(c, name, &realm_id, err) < 0) ||
	    (f == 0 && store_realm_clear_resolvers(c, realm_id, err) < 0))
		goto out;
	json_array_foreach(names, i, v) {
		int has = 0;
		int64_t prio = 0;
		if (priority_of(params, json_string_value(v), &has, &prio, err) < 0 ||
		    store_realm_add_resolver(c, realm_id, json_integer_value(json_array_get(ids, i)), has, prio, err) < 0)
			goto out;
	}
	int64_t count = 0;
	if (store_realm_count(c, &count, err) < 0 ||
	    (count == 1 && store_realm_set_default(c, realm_id, NULL, err) < 0) || store_config_touch(c, err) < 0)
		goto out;
	*added = json_incref(names);
	rc = 0;
out:
	json_decref(names);
	json_decref(ids);
	free(name);
	return rc;
}

static int realm_lookup(struct db_conn *c, const char *realm, char **name, int64_t *id, struct error *err)
{
	if (!realm)
		return err_missing_param(err, "realm");
	if (!(*name = realm_normalise(realm)))
		return err_internal(err, "out of memory");
	int f = store_realm_get_id(c, *name, id, err);
	if (f == 1)
		return err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, "The requested Realm could not be found.");
	return f;
}

int realm_delete(struct app *app, struct db_conn *c, const char *realm, int64_t *id, struct error *err)
{
	char *name = NULL;
	json_t *all = NULL;
	int64_t rid = 0, owners = 0;
	int rc = -1;
	if (realm_lookup(c, realm, &name, &rid, err) < 0 || store_realm_owner_count(c, rid, &owners, err) < 0)
		goto out;
	if (owners > 0) {
		err_set(err, ERRK_PI, ERR_CONFIGADMIN,
			"The realm '%s' can not be deleted: %lld token owner(s) still belong to it.", name,
			(long long)owners);
		goto out;
	}
	if (store_realm_delete(c, rid, err) < 0 || store_realm_list(c, &all, err) < 0)
		goto out;
	/* privacyIDEA: with no default left and one realm remaining, that one
	 * becomes the default. */
	if (json_object_size(all) == 1) {
		const char *k;
		json_t *v;
		json_object_foreach(all, k, v)
			if (!json_is_true(json_object_get(v, "default")) &&
			    store_realm_set_default(c, json_integer_value(json_object_get(v, "id")), NULL, err) < 0)
				goto out;
	}
	if (store_config_touch(c, err) < 0)
		goto out;
	*id = rid;
	rc = 0;
out:
	json_decref(all);
	free(name);
	return rc;
}

int realm_set_default(struct app *app, struct db_conn *c, const char *realm, int64_t *id, struct error *err)
{
	char *name = NULL;
	int64_t rid = 0, prev = 0;
	int rc = -1;
	if (realm && realm_lookup(c, realm, &name, &rid, err) < 0)
		goto out;
	if (store_realm_set_default(c, realm ? rid : 0, &prev, err) < 0 || store_config_touch(c, err) < 0)
		goto out;
	*id = realm ? rid : prev;
	rc = 0;
out:
	free(name);
	return rc;
}
