/*
 * caconnector_cfg.c — CA connector definitions (caconnector_cfg.h): the
 * SNAP_CACONNECTORS part of the configuration snapshot and the writes of
 * the /caconnector/ endpoints and `tessera ca`.
 *
 * The part keeps each connector's rows as stored (password values still
 * encrypted) plus a live instance built from the decrypted definition.
 * Live connectors are reference-counted and handed on to the next
 * snapshot when id, type and stored rows are identical, so an unrelated
 * configuration change does not drop the local CA's loaded key.  A
 * definition that cannot be instantiated never makes the snapshot fail:
 * that connector has no instance (and says why) until it is fixed.
 *
 * It must not touch a CA except through the connector vtable, and holds no
 * SQL (src/db/store_caconnector.c).
 */
#include "caconnector_cfg.h"

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
#include "../db/store.h"
#include "../db/store_caconnector.h"

#define CENSORED "__CENSORED__"
#define NAME_RULE "^[A-Za-z0-9_\\-\\.]+$"
#define NOT_FOUND "The requested CAConnector could not be found."

/* ---- the snapshot part ------------------------------------------------------ */

struct live_caconnector {
	struct caconnector_def pub; /* what callers see; strings point into this struct */
	atomic_int refs;
	char *name, *type, *problem;
	json_t *rows; /* {Key: {"Value", "Type", "Description"}} as stored (passwords encrypted) */
};

struct caconnector_set {
	struct live_caconnector **items; /* id order */
	size_t n;
};

static void live_release(struct live_caconnector *lc)
{
	if (!lc || atomic_fetch_sub(&lc->refs, 1) != 1)
		return;
	caconnector_destroy(lc->pub.inst);
	json_decref(lc->rows);
	free(lc->name);
	free(lc->type);
	free(lc->problem);
	free(lc);
}

void caconnector_set_free(struct caconnector_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		live_release(set->items[i]);
	free(set->items);
	free(set);
}

static int is_password_row(const json_t *row)
{
	const char *t = json_string_value(json_object_get(row, "Type"));
	return t && !strcmp(t, "password");
}

static void wipe_json_string(json_t *v)
{
	if (json_is_string(v))
		OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

/* {Key: value} from the stored rows, password values decrypted.  The
 * caller wipes it with wipe_definition. */
static json_t *decrypt_rows(struct app *app, const json_t *rows, struct error *err)
{
	json_t *out = json_object();
	const char *k;
	json_t *row;
	if (!out) {
		err_internal(err, "out of memory");
		return NULL;
	}
	json_object_foreach((json_t *)rows, k, row) {
		const char *v = json_string_value(json_object_get(row, "Value"));
		json_t *js;
		if (is_password_row(row) && v && *v) {
			size_t len = 0;
			unsigned char *plain = app && app->enckey
						       ? crypto_decrypt_value(app->enckey, SLOT_CONFIG, v, &len, err)
						       : NULL;
			if (!plain) {
				if (!err_is_set(err))
					err_set(err, ERRK_PI, ERR_CA, "no encryption key to decrypt '%s'", k);
				json_decref(out);
				return NULL;
			}
			js = json_stringn((const char *)plain, len);
			crypto_free_secret(plain, len);
			if (!js) {
				json_decref(out);
				err_set(err, ERRK_PI, ERR_CA, "the stored value of '%s' is not valid UTF-8", k);
				return NULL;
			}
		} else {
			js = json_string(v ? v : "");
		}
		json_object_set_new(out, k, js);
	}
	return out;
}

/* Drop a decrypted definition, wiping every value (secrets among them). */
static void wipe_definition(json_t *config)
{
	const char *k;
	json_t *v;
	if (!config)
		return;
	json_object_foreach(config, k, v)
		wipe_json_string(v);
	json_decref(config);
}

static struct live_caconnector *find_by_name(const struct caconnector_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->n; i++)
		if (!strcmp(set->items[i]->name, name))
			return set->items[i];
	return NULL;
}

/* The live connector for one stored entry: the previous snapshot's when
 * nothing changed, else a new instance. */
static struct live_caconnector *load_one(struct app *app, const struct caconnector_set *prev, const json_t *e)
{
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *type = json_string_value(json_object_get(e, "type"));
	int64_t id = json_integer_value(json_object_get(e, "id"));
	const json_t *rows = json_object_get(e, "config");
	struct live_caconnector *old = find_by_name(prev, name);
	struct error ce = { 0 };

	if (old && old->pub.id == id && !strcmp(old->type, type) && json_equal(old->rows, rows)) {
		atomic_fetch_add(&old->refs, 1);
		return old;
	}
	struct live_caconnector *lc = calloc(1, sizeof(*lc));
	if (!lc)
		return NULL;
	atomic_init(&lc->refs, 1);
	lc->name = strdup(name);
	lc->type = strdup(type);
	lc->rows = json_deep_copy(rows);
	if (!lc->name || !lc->type || !lc->rows) {
		live_release(lc);
		return NULL;
	}
	json_t *config = decrypt_rows(app, rows, &ce);
	if (config) {
		lc->pub.inst = caconnector_create(type, name, config, &ce);
		wipe_definition(config);
	}
	if (!lc->pub.inst)
		log_warning("CA connector %s cannot be used: %s", name, ce.message);
	lc->problem = strdup(lc->pub.inst ? "" : ce.message);
	if (!lc->problem) {
		live_release(lc);
		return NULL;
	}
	lc->pub.id = id;
	lc->pub.name = lc->name;
	lc->pub.type = lc->type;
	lc->pub.problem = lc->problem;
	return lc;
}

static struct caconnector_set *set_load(struct app *app, struct db_conn *c, const struct caconnector_set *prev,
					struct error *err)
{
	json_t *list = NULL, *e;
	size_t i;
	struct caconnector_set *set = calloc(1, sizeof(*set));
	if (!set) {
		err_internal(err, "out of memory");
		return NULL;
	}
	if (store_caconnector_list(c, &list, err) < 0)
		goto fail;
	if (!(set->items = calloc(json_array_size(list) + 1, sizeof(*set->items)))) {
		err_internal(err, "out of memory");
		goto fail;
	}
	json_array_foreach(list, i, e) {
		struct live_caconnector *lc = load_one(app, prev, e);
		if (!lc) {
			err_internal(err, "out of memory");
			goto fail;
		}
		set->items[set->n++] = lc;
	}
	json_decref(list);
	return set;
fail:
	json_decref(list);
	caconnector_set_free(set);
	return NULL;
}

struct caconnector_set *caconnector_set_load(struct app *app, struct db_conn *c, struct error *err)
{
	return set_load(app, c, NULL, err);
}

static void *part_load(struct app *app, struct db_conn *c, const void *previous, struct error *err)
{
	return set_load(app, c, previous, err);
}

static void part_free(void *p)
{
	caconnector_set_free(p);
}

const struct snapshot_part_ops caconnector_snapshot_ops = { "CA connectors", part_load, part_free };

static const struct caconnector_set *part(const struct snapshot *s)
{
	return snapshot_part(s, SNAP_CACONNECTORS);
}

/* ---- lookups ------------------------------------------------------------------ */

const struct caconnector_def *caconnector_set_find(const struct caconnector_set *set, const char *name)
{
	struct live_caconnector *lc = find_by_name(set, name);
	if (lc)
		return &lc->pub;
	for (size_t i = 0; set && name && i < set->n; i++)
		if (!strcasecmp(set->items[i]->name, name))
			return &set->items[i]->pub;
	return NULL;
}

const struct caconnector_def *caconnector_find(const struct snapshot *s, const char *name)
{
	return caconnector_set_find(part(s), name);
}

struct caconnector *caconnector_get(const struct snapshot *s, const char *name, struct error *err)
{
	const struct caconnector_def *d = caconnector_find(s, name);
	if (!d) {
		err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, NOT_FOUND);
		return NULL;
	}
	if (!d->inst)
		err_set(err, ERRK_PI, ERR_CA, "The CA connector %s cannot be used: %s", d->name, d->problem);
	return d->inst;
}

/* ---- views -------------------------------------------------------------------- */

static json_t *view_one(const struct live_caconnector *lc, int with_data)
{
	json_t *data = json_object(), *templates = NULL;
	const char *k;
	json_t *row;
	if (!data)
		return NULL;
	if (with_data)
		json_object_foreach(lc->rows, k, row) {
			json_t *v = is_password_row(row) ? json_string(CENSORED) : json_incref(json_object_get(row, "Value"));
			json_object_set_new(data, k, v);
		}
	/* privacyIDEA drops a connector whose templates cannot be read from the
	 * list altogether; an admin must still see it to repair it. */
	if (lc->pub.inst) {
		struct error e = { 0 };
		if (lc->pub.inst->type->get_templates(lc->pub.inst, &templates, &e) < 0) {
			log_warning("CA connector %s: templates unavailable: %s", lc->name, e.message);
			templates = NULL;
		}
	}
	return json_pack("{s:s,s:s,s:o,s:o}", "connectorname", lc->name, "type", lc->type, "data", data,
			 "templates", templates ? templates : json_object());
}

json_t *caconnector_set_view(const struct caconnector_set *set, const char *name, int with_data)
{
	json_t *out = json_array();
	for (size_t i = 0; out && set && i < set->n; i++) {
		if (name && strcmp(set->items[i]->name, name))
			continue;
		json_t *one = view_one(set->items[i], with_data);
		if (!one || json_array_append_new(out, one) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

json_t *caconnector_list(const struct snapshot *s, const char *name)
{
	return caconnector_set_view(part(s), name, 1);
}

json_t *caconnector_names(const struct snapshot *s)
{
	return caconnector_set_view(part(s), NULL, 0);
}

/* ---- writes ------------------------------------------------------------------- */

int caconnector_name_ok(const char *name)
{
	if (!name || !*name)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			return 0;
	return 1;
}

static int type_list_error(struct error *err, const char *type)
{
	char names[256] = "";
	size_t off = 0;
	for (size_t i = 0; caconnector_types[i] && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s'%s'", i ? ", " : "",
					caconnector_types[i]->name);
	return err_param(err, "connector type : %.100s not in [%s]", type, names);
}

static const struct caconnector_param *find_param(const struct caconnector_type *t, const char *key)
{
	for (const struct caconnector_param *p = t->params; p && p->name; p++)
		if (!strcmp(p->name, key))
			return p;
	return NULL;
}

/* The Type column privacyIDEA writes: its description's word for the key. */
static const char *ptype_name(enum caconnector_ptype t)
{
	switch (t) {
	case CAP_INT: return "int";
	case CAP_BOOL: return "bool";
	case CAP_PASSWORD: return "password";
	default: return "string";
	}
}

/* A parameter value as text, as privacyIDEA stores it (Python's str()).
 * NULL for objects and arrays, which no connector parameter takes. */
static char *value_text(const json_t *v)
{
	char buf[64];
	switch (json_typeof(v)) {
	case JSON_STRING: return strdup(json_string_value(v));
	case JSON_TRUE: return strdup("True");
	case JSON_FALSE: return strdup("False");
	case JSON_NULL: return strdup("");
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return strdup(buf);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		return strdup(buf);
	default: return NULL;
	}
}

/* The request split as privacyIDEA's get_data_from_params. */
struct save_plan {
	json_t *data;  /* key → text (clear) */
	json_t *types; /* key → Type */
	json_t *descs; /* key → Description */
};

static void plan_free(struct save_plan *p)
{
	const char *k;
	json_t *v;
	if (p->data)
		json_object_foreach(p->data, k, v)
			wipe_json_string(v); /* may hold a passphrase */
	json_decref(p->data);
	json_decref(p->types);
	json_decref(p->descs);
}

static int plan_is_password(const struct save_plan *p, const char *key)
{
	const char *t = json_string_value(json_object_get(p->types, key));
	return t && !strcmp(t, "password");
}

static int plan_build(const struct caconnector_type *t, const json_t *params, struct save_plan *p,
		      struct error *err)
{
	const char *k;
	json_t *v;
	json_t *explicit_types = json_object();
	p->data = json_object();
	p->types = json_object();
	p->descs = json_object();
	if (!p->data || !p->types || !p->descs || !explicit_types) {
		json_decref(explicit_types);
		return err_internal(err, "out of memory");
	}
	json_object_foreach((json_t *)params, k, v) {
		if (!strcmp(k, "caconnector") || !strcmp(k, "type"))
			continue;
		char *text = value_text(v);
		if (!text) {
			json_decref(explicit_types);
			return json_is_object(v) || json_is_array(v)
				       ? err_param(err, "The value of '%.100s' must be a string", k)
				       : err_internal(err, "out of memory");
		}
		json_t *js = json_string(text);
		OPENSSL_cleanse(text, strlen(text));
		free(text);
		if (!js) {
			json_decref(explicit_types);
			return err_param(err, "The value of '%.100s' is not valid UTF-8", k);
		}
		if (!strncmp(k, "type.", 5) && k[5])
			json_object_set_new(explicit_types, k + 5, js);
		else if (!strncmp(k, "desc.", 5) && k[5])
			json_object_set_new(p->descs, k + 5, js);
		else
			json_object_set_new(p->data, k, js);
	}
	/* Known keys get the type's word (a "type.cakey_password=string" must
	 * not store the passphrase in clear); other keys what the client said. */
	json_object_foreach(p->data, k, v) {
		const struct caconnector_param *cp = find_param(t, k);
		json_t *ty = json_object_get(explicit_types, k);
		if (cp)
			json_object_set_new(p->types, k, json_string(ptype_name(cp->type)));
		else if (ty)
			json_object_set(p->types, k, ty);
		if (!cp)
			log_warning("the passed key '%s' is not a parameter for the CA connector type '%s'", k,
				    t->name);
	}
	int orphan = 0;
	json_object_foreach(explicit_types, k, v)
		if (!json_object_get(p->data, k)) {
			orphan = err_param(err, "type or description without necessary data! (%.100s)", k);
			break;
		}
	json_decref(explicit_types);
	if (orphan)
		return -1;
	json_object_foreach(p->descs, k, v)
		if (!json_object_get(p->data, k))
			return err_param(err, "type or description without necessary data! (%.100s)", k);
	return 0;
}

/* The definition after the change: stored values (decrypted) overlaid with
 * what was sent; "__CENSORED__" keeps a stored secret. */
static json_t *merge(struct app *app, const json_t *stored_rows, const struct save_plan *p, struct error *err)
{
	json_t *merged = stored_rows ? decrypt_rows(app, stored_rows, err) : json_object();
	const char *k;
	json_t *v;
	if (!merged) {
		if (!err_is_set(err))
			err_internal(err, "out of memory");
		return NULL;
	}
	json_object_foreach(p->data, k, v) {
		if (plan_is_password(p, k) && !strcmp(json_string_value(v), CENSORED))
			continue;
		json_object_set_new(merged, k, json_string(json_string_value(v)));
	}
	return merged;
}

/* Check a definition as the type would use it; every complaint is the
 * client's fault here (ERR905), not the CA's. */
static int check_definition(const struct caconnector_type *t, const char *name, const json_t *config,
			    struct error *err)
{
	struct error e = { 0 };
	struct caconnector *probe = NULL;
	if (caconnector_check_params(t, config, &e) == 0)
		probe = t->create(name, config, &e);
	if (!probe)
		return err_param(err, "%s", err_is_set(&e) ? e.message : "invalid CA connector definition");
	caconnector_destroy(probe);
	return 0;
}

int caconnector_save(struct app *app, struct db_conn *c, const json_t *params, int64_t *id, struct error *err)
{
	const char *name = json_string_value(json_object_get(params, "caconnector"));
	json_t *jtype = json_object_get(params, "type");
	const char *type = json_string_value(jtype);
	struct save_plan plan = { 0 };
	json_t *stored = NULL, *merged = NULL;
	char *stored_type = NULL;
	int64_t cid = 0;
	int found, rc = -1;
	const char *k;
	json_t *v;

	if (!name)
		return err_missing_param(err, "caconnector");
	if (!jtype || json_is_null(jtype))
		return err_missing_param(err, "type");
	if (!caconnector_name_ok(name))
		return err_param(err, "non conformant characters in the name: '%.200s' (not in %s)", name, NAME_RULE);
	const struct caconnector_type *t = caconnector_type_find(type);
	if (!t)
		return type_list_error(err, type ? type : "");
	found = store_caconnector_get(c, name, &cid, &stored_type, &stored, err);
	if (found < 0)
		goto out;
	if (found == 0 && strcmp(stored_type, type)) {
		err_param(err, "CA Connector with similar name and other type already exists: %s", name);
		goto out;
	}
	if (plan_build(t, params, &plan, err) < 0)
		goto out;
	if (!(merged = merge(app, found == 0 ? stored : NULL, &plan, err)))
		goto out;
	if (check_definition(t, name, merged, err) < 0)
		goto out;

	if (found == 1 && store_caconnector_insert(c, name, type, &cid, err) < 0)
		goto out;
	json_object_foreach(plan.data, k, v) {
		const char *value = json_string_value(v);
		char *enc = NULL;
		if (plan_is_password(&plan, k)) {
			/* nothing to keep for a new key: store nothing */
			if (!strcmp(value, CENSORED))
				continue;
			if (!app || !app->enckey) {
				err_internal(err, "no encryption key");
				goto out;
			}
			if (!(enc = crypto_encrypt_value(app->enckey, SLOT_CONFIG, value, strlen(value), err)))
				goto out;
		}
		int w = store_caconnector_config_put(c, cid, k, enc ? enc : value,
						     json_string_value(json_object_get(plan.types, k)),
						     json_string_value(json_object_get(plan.descs, k)), err);
		free(enc);
		if (w < 0)
			goto out;
	}
	if (store_config_touch(c, err) < 0)
		goto out;
	*id = cid;
	rc = 0;
out:
	wipe_definition(merged);
	plan_free(&plan);
	json_decref(stored);
	free(stored_type);
	return rc;
}

int caconnector_delete(struct db_conn *c, const char *name, int64_t *id, struct error *err)
{
	int64_t cid = 0;
	if (!name)
		return err_missing_param(err, "caconnector");
	int rc = store_caconnector_get(c, name, &cid, NULL, NULL, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, NOT_FOUND);
	if (store_caconnector_delete(c, cid, err) < 0 || store_config_touch(c, err) < 0)
		return -1;
	*id = cid;
	return 0;
}

int caconnector_specific(const char *catype, const json_t *params, json_t **options, struct error *err)
{
	const struct caconnector_type *t = caconnector_type_find(catype);
	*options = NULL;
	if (!t)
		return type_list_error(err, catype ? catype : "");
	struct caconnector *inst = t->create("dummy", params, err);
	if (!inst)
		return -1;
	int rc = t->get_specific_options(inst, options, err);
	caconnector_destroy(inst);
	return rc;
}
