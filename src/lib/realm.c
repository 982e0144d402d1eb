/*
 * realm.c — resolvers and realms (realm.h): the SNAP_USERSTORE part of the
 * configuration snapshot and everything read from it.
 *
 * The snapshot part holds every resolver definition (password-type values
 * decrypted), a live instance per resolver and every realm with its
 * resolvers in priority order.  Instances are reference-counted and shared
 * with the next snapshot when a resolver's type and definition did not
 * change, so LDAP and SQL connection pools survive unrelated configuration
 * changes; an instance is destroyed when the last snapshot holding it goes.
 *
 * The configuration writes are in realm_write.c.  It must not talk to a
 * user store except through the resolver vtable, and it holds no SQL
 * (src/db/store_userstore.c).  A definition that cannot be
 * instantiated (e.g. written by another program) never makes the snapshot
 * fail: that resolver has no instance and finds nobody, with a log line.
 */
#include "realm.h"
#include "realm_int.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "app.h"
#include "crypto.h"
#include "log.h"
#include "snapshot.h"
#include "resolvers/resolver.h"
#include "../db/store.h"
#include "../db/store_userstore.h"

#define CENSORED "__CENSORED__"
#define PRIORITY_NONE 1000 /* resolvers without a priority come last */

/* ---- the snapshot part ----------------------------------------------------- */

struct live_resolver {
	atomic_int refs;
	char *name;
	char *type;
	int64_t id;
	json_t *config;      /* {Key: value}, password-type values decrypted */
	json_t *censor_keys; /* keys stored with Type "password" */
	int multi_login;     /* LDAP with several LOGINNAMEATTRIBUTEs */
	struct resolver *inst; /* NULL when the definition cannot be instantiated */
};

struct realm_entry {
	char *name;
	int64_t id;
	char **resolvers; /* priority order, NULL-terminated */
};

struct userstore {
	struct live_resolver **res;
	size_t nres;
	struct realm_entry *realms;
	size_t nrealms;
	char *default_realm;
	json_t *realms_json; /* GET /realm/ shape */
};

void realm_wipe_secrets(json_t *config, json_t *keys)
{
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k) {
		json_t *v = json_object_get(config, json_string_value(k));
		if (json_is_string(v))
			OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	}
}

static void live_release(struct live_resolver *lr)
{
	if (!lr || atomic_fetch_sub(&lr->refs, 1) != 1)
		return;
	if (lr->inst)
		lr->inst->type->destroy(lr->inst);
	realm_wipe_secrets(lr->config, lr->censor_keys);
	json_decref(lr->config);
	json_decref(lr->censor_keys);
	free(lr->name);
	free(lr->type);
	free(lr);
}

static void part_free(void *p)
{
	struct userstore *us = p;
	if (!us)
		return;
	for (size_t i = 0; i < us->nres; i++)
		live_release(us->res[i]);
	free(us->res);
	for (size_t i = 0; i < us->nrealms; i++) {
		free(us->realms[i].name);
		for (char **r = us->realms[i].resolvers; r && *r; r++)
			free(*r);
		free(us->realms[i].resolvers);
	}
	free(us->realms);
	free(us->default_realm);
	json_decref(us->realms_json);
	free(us);
}

static const struct userstore *part(const struct snapshot *s)
{
	return snapshot_part(s, SNAP_USERSTORE);
}

static struct live_resolver *find_live(const struct userstore *us, const char *name)
{
	if (!us || !name)
		return NULL;
	for (size_t i = 0; i < us->nres; i++)
		if (!strcmp(us->res[i]->name, name))
			return us->res[i];
	return NULL;
}

static const struct realm_entry *find_realm(const struct userstore *us, const char *name)
{
	if (!us || !name)
		return NULL;
	for (size_t i = 0; i < us->nrealms; i++)
		if (!strcasecmp(us->realms[i].name, name))
			return &us->realms[i];
	return NULL;
}

/* The stored rows {Key: {"Value", "Type", ...}} → {Key: value} with
 * password values decrypted, and the censor keys.  0, or -1 when a value
 * cannot be decrypted (then the definition is unusable). */
int realm_decrypt_config(struct app *app, const json_t *rows, json_t **config, json_t **censor,
			 struct error *err)
{
	const char *k;
	json_t *row;
	*config = json_object();
	*censor = json_array();
	if (!*config || !*censor)
		return err_internal(err, "out of memory");
	json_object_foreach((json_t *)rows, k, row) {
		const char *v = json_string_value(json_object_get(row, "Value"));
		const char *t = json_string_value(json_object_get(row, "Type"));
		if (t && !strcmp(t, "password")) {
			json_array_append_new(*censor, json_string(k));
			if (!v || !*v) {
				json_object_set_new(*config, k, json_string(""));
				continue;
			}
			size_t len = 0;
			unsigned char *plain = app->enckey ? crypto_decrypt_value(app->enckey, SLOT_CONFIG, v, &len, err)
							   : NULL;
			if (!plain) {
				if (!err_is_set(err))
					err_internal(err, "no encryption key");
				return -1;
			}
			json_t *js = json_stringn((const char *)plain, len);
			crypto_free_secret(plain, len);
			if (!js)
				return err_param(err, "the stored value of '%s' is not valid UTF-8", k);
			json_object_set_new(*config, k, js);
		} else {
			json_object_set_new(*config, k, json_string(v ? v : ""));
		}
	}
	return 0;
}

static int has_multi_login(const char *type, const json_t *config)
{
	const char *l = json_string_value(json_object_get(config, "LOGINNAMEATTRIBUTE"));
	return type && !strcmp(type, "ldapresolver") && l && strchr(l, ',') != NULL;
}

/* A live resolver for one stored definition: the previous snapshot's when
 * type and definition are identical, else a new instance. */
static struct live_resolver *load_resolver(struct app *app, const struct userstore *prev, const char *name,
					   const json_t *stored)
{
	struct error e = { 0 };
	const char *type = json_string_value(json_object_get(stored, "type"));
	json_t *config = NULL, *censor = NULL;
	int usable = realm_decrypt_config(app, json_object_get(stored, "config"), &config, &censor, &e) == 0;
	if (!usable)
		log_warning("resolver %s: its stored definition cannot be read (%s); it finds no users", name,
			    e.message);
	struct live_resolver *old = find_live(prev, name);
	if (usable && old && old->id == json_integer_value(json_object_get(stored, "id")) &&
	    !strcmp(old->type, type ? type : "") && json_equal(old->config, config)) {
		realm_wipe_secrets(config, censor);
		json_decref(config);
		json_decref(censor);
		atomic_fetch_add(&old->refs, 1);
		return old;
	}
	struct live_resolver *lr = calloc(1, sizeof(*lr));
	if (!lr || !(lr->name = strdup(name)) || !(lr->type = strdup(type ? type : ""))) {
		if (lr) {
			free(lr->name);
			free(lr);
		}
		realm_wipe_secrets(config, censor);
		json_decref(config);
		json_decref(censor);
		return NULL;
	}
	atomic_init(&lr->refs, 1);
	lr->id = json_integer_value(json_object_get(stored, "id"));
	lr->config = config ? config : json_object();
	lr->censor_keys = censor ? censor : json_array();
	lr->multi_login = has_multi_login(type, lr->config);
	if (usable) {
		const struct resolver_type *t = resolver_type_find(type);
		err_clear(&e);
		if (!t)
			log_warning("resolver %s: unknown type '%s'; it finds no users", name, type ? type : "");
		else if (!(lr->inst = t->create(name, lr->config, &e)))
			log_warning("resolver %s: invalid definition (%s); it finds no users", name, e.message);
	}
	return lr;
}

static int prio_of(const json_t *entry)
{
	json_t *p = json_object_get(entry, "priority");
	return json_is_integer(p) ? (int)json_integer_value(p) : PRIORITY_NONE;
}

static int cmp_entries(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int px = prio_of(x), py = prio_of(y);
	if (px != py)
		return px < py ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "name")), json_string_value(json_object_get(y, "name")));
}

/* privacyIDEA's get_ordered_resolvers: by priority, then by name. */
static char **ordered_resolvers(const json_t *desc)
{
	json_t *list = json_object_get(desc, "resolver");
	size_t n = json_array_size(list);
	json_t **tmp = calloc(n + 1, sizeof(*tmp));
	char **out = calloc(n + 1, sizeof(*out));
	if (!tmp || !out) {
		free(tmp);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		tmp[i] = json_array_get(list, i);
	qsort(tmp, n, sizeof(*tmp), cmp_entries);
	for (size_t i = 0; i < n; i++) {
		if (!(out[i] = strdup(json_string_value(json_object_get(tmp[i], "name"))))) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			free(tmp);
			return NULL;
		}
	}
	free(tmp);
	return out;
}

static void *part_load(struct app *app, struct db_conn *c, const void *previous, struct error *err)
{
	const struct userstore *prev = previous;
	json_t *resolvers = NULL;
	struct userstore *us = calloc(1, sizeof(*us));
	if (!us) {
		err_internal(err, "out of memory");
		return NULL;
	}
	if (store_resolver_list(c, &resolvers, err) < 0 || store_realm_list(c, &us->realms_json, err) < 0)
		goto fail;
	size_t n = json_object_size(resolvers);
	us->res = calloc(n + 1, sizeof(*us->res));
	us->realms = calloc(json_object_size(us->realms_json) + 1, sizeof(*us->realms));
	if (!us->res || !us->realms) {
		err_internal(err, "out of memory");
		goto fail;
	}
	const char *name;
	json_t *v;
	json_object_foreach(resolvers, name, v) {
		struct live_resolver *lr = load_resolver(app, prev, name, v);
		if (!lr) {
			err_internal(err, "out of memory");
			goto fail;
		}
		us->res[us->nres++] = lr;
	}
	json_object_foreach(us->realms_json, name, v) {
		struct realm_entry *re = &us->realms[us->nrealms];
		re->name = strdup(name);
		re->id = json_integer_value(json_object_get(v, "id"));
		re->resolvers = ordered_resolvers(v);
		if (!re->name || !re->resolvers) {
			free(re->name);
			err_internal(err, "out of memory");
			goto fail;
		}
		us->nrealms++;
		if (json_is_true(json_object_get(v, "default")) && !us->default_realm &&
		    !(us->default_realm = strdup(name))) {
			err_internal(err, "out of memory");
			goto fail;
		}
	}
	json_decref(resolvers);
	return us;
fail:
	json_decref(resolvers);
	part_free(us);
	return NULL;
}

const struct snapshot_part_ops userstore_snapshot_ops = { "resolvers and realms", part_load, part_free };

/* ---- reading --------------------------------------------------------------- */

int realm_exists(const struct snapshot *s, const char *realm)
{
	return realm && *realm && find_realm(part(s), realm) != NULL;
}

const char *realm_default(const struct snapshot *s)
{
	const struct userstore *us = part(s);
	return us ? us->default_realm : NULL;
}

long long realm_id(const struct snapshot *s, const char *realm)
{
	const struct realm_entry *re = find_realm(part(s), realm);
	return re ? re->id : -1;
}

const char *realm_name_by_id(const struct snapshot *s, long long id)
{
	const struct userstore *us = part(s);
	for (size_t i = 0; us && i < us->nrealms; i++)
		if (us->realms[i].id == id)
			return us->realms[i].name;
	return NULL;
}

const char *const *realm_resolvers(const struct snapshot *s, const char *realm)
{
	static const char *const none[] = { NULL };
	const struct realm_entry *re = find_realm(part(s), realm);
	return re ? (const char *const *)re->resolvers : none;
}

struct resolver *realm_resolver(const struct snapshot *s, const char *resolver_name)
{
	struct live_resolver *lr = find_live(part(s), resolver_name);
	return lr ? lr->inst : NULL;
}

const char *realm_resolver_type(const struct snapshot *s, const char *resolver_name)
{
	struct live_resolver *lr = find_live(part(s), resolver_name);
	return lr ? lr->type : NULL;
}

const json_t *realm_resolver_config(const struct snapshot *s, const char *resolver_name)
{
	struct live_resolver *lr = find_live(part(s), resolver_name);
	return lr ? lr->config : NULL;
}

int realm_resolver_multi_login(const struct snapshot *s, const char *resolver_name)
{
	struct live_resolver *lr = find_live(part(s), resolver_name);
	return lr ? lr->multi_login : 0;
}

json_t *realm_of_resolver(const struct snapshot *s, const char *resolver_name)
{
	const struct userstore *us = part(s);
	json_t *out = json_array();
	for (size_t i = 0; us && out && i < us->nrealms; i++)
		for (char **r = us->realms[i].resolvers; *r; r++)
			if (!strcmp(*r, resolver_name)) {
				json_array_append_new(out, json_string(us->realms[i].name));
				break;
			}
	return out;
}

json_t *realm_list(const struct snapshot *s, const char *name)
{
	const struct userstore *us = part(s);
	if (!us)
		return json_object();
	if (!name)
		return json_deep_copy(us->realms_json);
	json_t *out = json_object();
	const struct realm_entry *re = find_realm(us, name);
	if (re && out)
		json_object_set_new(out, re->name, json_deep_copy(json_object_get(us->realms_json, re->name)));
	return out;
}

json_t *realm_names(const struct snapshot *s)
{
	const struct userstore *us = part(s);
	json_t *out = json_array();
	for (size_t i = 0; us && out && i < us->nrealms; i++)
		json_array_append_new(out, json_string(us->realms[i].name));
	return out;
}

static int definition_editable(const struct live_resolver *lr)
{
	if (lr->inst && lr->inst->type->editable)
		return lr->inst->type->editable(lr->inst) != 0;
	return resolver_cfg_bool(lr->config, "Editable", 0) || resolver_cfg_bool(lr->config, "EDITABLE", 0);
}

json_t *resolver_list(const struct snapshot *s, const char *name, const char *type, int editable)
{
	const struct userstore *us = part(s);
	json_t *out = json_object();
	for (size_t i = 0; us && out && i < us->nres; i++) {
		const struct live_resolver *lr = us->res[i];
		if (name && strcasecmp(lr->name, name))
			continue;
		if (type && *type && strcmp(lr->type, type))
			continue;
		if (editable >= 0 && definition_editable(lr) != editable)
			continue;
		json_t *data = json_deep_copy(lr->config);
		size_t k;
		json_t *key;
		json_array_foreach(lr->censor_keys, k, key)
			json_object_set_new(data, json_string_value(key), json_string(CENSORED));
		json_object_set_new(out, lr->name,
				    json_pack("{s:s,s:s,s:o,s:o}", "resolvername", lr->name, "type", lr->type,
					      "censor_keys", json_deep_copy(lr->censor_keys), "data", data));
	}
	return out;
}

const json_t *realm_resolver_censor_keys(const struct snapshot *s, const char *resolver_name)
{
	struct live_resolver *lr = find_live(part(s), resolver_name);
	return lr ? lr->censor_keys : NULL;
}
