/*
 * store_system.c — the listings of store_system.h (SELECTs only).
 *
 * It must not write, and must not read configuration values (CA connector
 * settings, RADIUS secrets): only names.
 */
#include "store_system.h"

/* Collect the rows of a one- or two-column query. */
static int collect(struct db_conn *c, const char *sql, int pairs, json_t **out, struct error *err)
{
	struct db_res *r;
	*out = NULL;
	if (db_query(c, sql, NULL, 0, &r, err) < 0)
		return -1;
	json_t *list = json_array();
	int rc;
	while ((rc = db_res_next(r, err)) == 1) {
		const char *a = db_res_text(r, 0);
		if (pairs) {
			const char *b = db_res_text(r, 1);
			json_array_append_new(list, json_pack("{s:s,s:s}", "name", a ? a : "", "type", b ? b : ""));
		} else {
			json_array_append_new(list, json_string(a ? a : ""));
		}
	}
	db_res_free(r);
	if (rc < 0) {
		json_decref(list);
		return -1;
	}
	*out = list;
	return 0;
}

int store_radiusserver_identifiers(struct db_conn *c, json_t **out, struct error *err)
{
	return collect(c, "SELECT identifier FROM radiusserver ORDER BY identifier", 0, out, err);
}

int store_caconnector_names(struct db_conn *c, json_t **out, struct error *err)
{
	return collect(c, "SELECT name, catype FROM caconnector ORDER BY name", 1, out, err);
}
