/*
 * store_config.c — privacyIDEA's `config` table (system settings) and the
 * `__timestamp__` row that tells every process when to reload.
 *
 * One function per query, on a borrowed connection; transactions are the
 * caller's.  It must not interpret setting values (types, encryption of
 * "password" entries): that is the configuration layer's job.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONFIG_TIMESTAMP_KEY "__timestamp__"

/* Read the Value of key into a malloc'd *out: 0 found, 1 absent, -1 error. */
int store_config_get(struct db_conn *c, const char *key, char **out, struct error *err)
{
	struct db_res *r;
	struct db_param p[] = { DB_TEXT(key) };
	*out = NULL;
	if (!key)
		return err_internal(err, "store_config_get: no key");
	if (db_query(c, "SELECT \"Value\" FROM config WHERE \"Key\" = ?", p, 1, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1) {
		const char *v = db_res_text(r, 0);
		*out = strdup(v ? v : "");
		rc = *out ? 0 : err_internal(err, "out of memory");
	} else if (rc == 0) {
		rc = 1;
	}
	db_res_free(r);
	return rc;
}

int store_config_set(struct db_conn *c, const char *key, const char *value, const char *type,
		     const char *description, struct error *err)
{
	if (!key || !*key)
		return err_internal(err, "store_config_set: no key");
	struct db_param p[] = { DB_TEXT(key), DB_TEXT(value ? value : ""), DB_TEXT(type ? type : ""),
				DB_TEXT(description ? description : "") };
	return db_exec(c,
		       "INSERT INTO config (\"Key\", \"Value\", \"Type\", \"Description\") VALUES (?, ?, ?, ?) "
		       "ON CONFLICT (\"Key\") DO UPDATE SET \"Value\" = excluded.\"Value\", "
		       "\"Type\" = excluded.\"Type\", \"Description\" = excluded.\"Description\"",
		       p, 4, NULL, err);
}

int store_config_delete(struct db_conn *c, const char *key, struct error *err)
{
	int64_t n = 0;
	struct db_param p[] = { DB_TEXT(key) };
	if (!key)
		return err_internal(err, "store_config_delete: no key");
	if (db_exec(c, "DELETE FROM config WHERE \"Key\" = ?", p, 1, &n, err) < 0)
		return -1;
	return n > 0 ? 0 : 1;
}

int store_config_timestamp(struct db_conn *c, char **out, struct error *err)
{
	int rc = store_config_get(c, CONFIG_TIMESTAMP_KEY, out, err);
	if (rc == 1) {
		*out = strdup("0");
		rc = *out ? 0 : err_internal(err, "out of memory");
	}
	return rc;
}

int store_config_touch(struct db_conn *c, struct error *err)
{
	struct timespec ts;
	char now[48];
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(now, sizeof(now), "%lld.%06ld", (long long)ts.tv_sec, ts.tv_nsec / 1000);
	struct db_param p[] = { DB_TEXT(CONFIG_TIMESTAMP_KEY), DB_TEXT(now) };
	return db_exec(c,
		       "INSERT INTO config (\"Key\", \"Value\", \"Type\", \"Description\") "
		       "VALUES (?, ?, '', 'config timestamp. last changed.') "
		       "ON CONFLICT (\"Key\") DO UPDATE SET \"Value\" = excluded.\"Value\"",
		       p, 2, NULL, err);
}

int store_config_list(struct db_conn *c, json_t **out, struct error *err)
{
	struct db_res *r;
	*out = NULL;
	if (db_query(c, "SELECT \"Key\", \"Value\", \"Type\", \"Description\" FROM config", NULL, 0, &r, err) < 0)
		return -1;
	json_t *all = json_object();
	int rc;
	while ((rc = db_res_next(r, err)) == 1) {
		const char *k = db_res_text(r, 0), *v = db_res_text(r, 1), *t = db_res_text(r, 2),
			   *d = db_res_text(r, 3);
		json_t *e = json_pack("{s:s,s:s,s:s}", "Value", v ? v : "", "Type", t ? t : "", "Description",
				      d ? d : "");
		if (k && e)
			json_object_set_new(all, k, e);
		else
			json_decref(e);
	}
	db_res_free(r);
	if (rc < 0) {
		json_decref(all);
		return -1;
	}
	*out = all;
	return 0;
}
