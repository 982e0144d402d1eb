/*
 * store_caconnector.c — privacyIDEA's tables `caconnector` and
 * `caconnectorconfig` (see store_caconnector.h).
 *
 * One function per query, on a borrowed connection; transactions are the
 * caller's.  It must not interpret what it stores: no decryption, no
 * validation against a connector type's parameters, no timestamp bump —
 * those belong to lib/caconnector_cfg.c.
 */
#include "store_caconnector.h"

#include <stdlib.h>
#include <string.h>

/* The joined rows of one or all connectors, connector by connector. */
static const char SQL_ALL[] =
	"SELECT ca.id, ca.name, ca.catype, cc.\"Key\", cc.\"Value\", cc.\"Type\", cc.\"Description\" "
	"FROM caconnector ca LEFT JOIN caconnectorconfig cc ON cc.caconnector_id = ca.id "
	"ORDER BY ca.id, cc.id";
static const char SQL_ONE[] =
	"SELECT ca.id, ca.name, ca.catype, cc.\"Key\", cc.\"Value\", cc.\"Type\", cc.\"Description\" "
	"FROM caconnector ca LEFT JOIN caconnectorconfig cc ON cc.caconnector_id = ca.id "
	"WHERE ca.name = ? ORDER BY ca.id, cc.id";

/* Append one joined row to the list (a new entry when the id changes). */
static int add_row(struct db_res *r, json_t *list)
{
	int64_t id = db_res_int(r, 0);
	size_t n = json_array_size(list);
	json_t *e = n ? json_array_get(list, n - 1) : NULL;
	if (!e || json_integer_value(json_object_get(e, "id")) != id) {
		const char *name = db_res_text(r, 1), *type = db_res_text(r, 2);
		e = json_pack("{s:I,s:s,s:s,s:o}", "id", (json_int_t)id, "name", name ? name : "", "type",
			      type ? type : "", "config", json_object());
		if (!e || json_array_append_new(list, e) < 0)
			return -1;
	}
	const char *key = db_res_text(r, 3);
	if (!key)
		return 0; /* a connector without configuration rows */
	const char *v = db_res_text(r, 4), *t = db_res_text(r, 5), *d = db_res_text(r, 6);
	json_t *row = json_pack("{s:s,s:s,s:s}", "Value", v ? v : "", "Type", t ? t : "", "Description",
				d ? d : "");
	if (!row || json_object_set_new(json_object_get(e, "config"), key, row) < 0)
		return -1;
	return 0;
}

static int collect(struct db_conn *c, const char *sql, const struct db_param *p, int np, json_t **out,
		   struct error *err)
{
	struct db_res *r;
	int rc;
	*out = NULL;
	if (db_query(c, sql, p, np, &r, err) < 0)
		return -1;
	json_t *list = json_array();
	if (!list) {
		db_res_free(r);
		return err_internal(err, "out of memory");
	}
	while ((rc = db_res_next(r, err)) == 1)
		if (add_row(r, list) < 0) {
			rc = err_internal(err, "out of memory");
			break;
		}
	db_res_free(r);
	if (rc < 0) {
		json_decref(list);
		return -1;
	}
	*out = list;
	return 0;
}

int store_caconnector_list(struct db_conn *c, json_t **out, struct error *err)
{
	return collect(c, SQL_ALL, NULL, 0, out, err);
}

int store_caconnector_get(struct db_conn *c, const char *name, int64_t *id, char **type, json_t **config,
			  struct error *err)
{
	struct db_param p[] = { DB_TEXT(name) };
	json_t *list;
	if (!name)
		return err_internal(err, "store_caconnector_get: no name");
	if (collect(c, SQL_ONE, p, 1, &list, err) < 0)
		return -1;
	json_t *e = json_array_get(list, 0);
	if (!e) {
		json_decref(list);
		return 1;
	}
	if (id)
		*id = json_integer_value(json_object_get(e, "id"));
	if (type)
		*type = strdup(json_string_value(json_object_get(e, "type")));
	if (config)
		*config = json_incref(json_object_get(e, "config"));
	json_decref(list);
	if (type && !*type)
		return err_internal(err, "out of memory");
	return 0;
}

int store_caconnector_insert(struct db_conn *c, const char *name, const char *type, int64_t *id,
			     struct error *err)
{
	struct db_param p[] = { DB_TEXT(name), DB_TEXT(type) };
	return db_query_int(c, "INSERT INTO caconnector (name, catype) VALUES (?, ?) RETURNING id", p, 2, id, NULL,
			    err);
}

int store_caconnector_config_put(struct db_conn *c, int64_t caconnector_id, const char *key, const char *value,
				 const char *type, const char *description, struct error *err)
{
	struct db_param p[] = { DB_INT(caconnector_id), DB_TEXT(key), DB_TEXT(value ? value : ""),
				DB_TEXT(type ? type : ""), DB_TEXT(description ? description : "") };
	return db_exec(c,
		       "INSERT INTO caconnectorconfig (caconnector_id, \"Key\", \"Value\", \"Type\", \"Description\") "
		       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (caconnector_id, \"Key\") DO UPDATE SET "
		       "\"Value\" = excluded.\"Value\", \"Type\" = excluded.\"Type\", "
		       "\"Description\" = excluded.\"Description\"",
		       p, 5, NULL, err);
}

int store_caconnector_delete(struct db_conn *c, int64_t id, struct error *err)
{
	struct db_param p[] = { DB_INT(id) };
	if (db_exec(c, "DELETE FROM caconnectorconfig WHERE caconnector_id = ?", p, 1, NULL, err) < 0)
		return -1;
	return db_exec(c, "DELETE FROM caconnector WHERE id = ?", p, 1, NULL, err);
}
