/*
 * store_userstore.c — privacyIDEA's tables `resolver`, `resolverconfig`,
 * `realm`, `resolverrealm`, `usercache` and `customuserattribute`
 * (see store_userstore.h).
 *
 * One function per query, on a borrowed connection; transactions are the
 * caller's.  It must not interpret what it stores: no decryption, no
 * validation of resolver definitions, no realm rules (default realm,
 * lower-casing) — those belong to lib/realm.c and lib/user.c.
 */
#include "store_userstore.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *dup_text(const char *s)
{
	return strdup(s ? s : "");
}

/* ---- resolver, resolverconfig ------------------------------------------- */

/* Add one joined (resolver, config row) result to the list object. */
static int resolver_row(struct db_res *r, json_t *all)
{
	const char *name = db_res_text(r, 1);
	if (!name)
		return 0;
	json_t *e = json_object_get(all, name);
	if (!e) {
		const char *rtype = db_res_text(r, 2);
		e = json_pack("{s:I,s:s,s:o}", "id", (json_int_t)db_res_int(r, 0), "type", rtype ? rtype : "",
			      "config", json_object());
		if (!e || json_object_set_new(all, name, e) < 0)
			return -1;
	}
	const char *key = db_res_text(r, 3);
	if (!key)
		return 0; /* resolver without configuration rows */
	const char *v = db_res_text(r, 4), *t = db_res_text(r, 5), *d = db_res_text(r, 6);
	json_t *row = json_pack("{s:s,s:s,s:s}", "Value", v ? v : "", "Type", t ? t : "", "Description",
				d ? d : "");
	if (!row || json_object_set_new(json_object_get(e, "config"), key, row) < 0)
		return -1;
	return 0;
}

static int resolver_rows(struct db_res *r, json_t *all, struct error *err)
{
	int rc;
	while ((rc = db_res_next(r, err)) == 1)
		if (resolver_row(r, all) < 0)
			return err_internal(err, "out of memory");
	return rc;
}

int store_resolver_list(struct db_conn *c, json_t **out, struct error *err)
{
	struct db_res *r;
	*out = NULL;
	if (db_query(c,
		     "SELECT rs.id, rs.name, rs.rtype, rc.\"Key\", rc.\"Value\", rc.\"Type\", rc.\"Description\" "
		     "FROM resolver rs LEFT JOIN resolverconfig rc ON rc.resolver_id = rs.id "
		     "ORDER BY rs.id, rc.id",
		     NULL, 0, &r, err) < 0)
		return -1;
	json_t *all = json_object();
	int rc = all ? resolver_rows(r, all, err) : err_internal(err, "out of memory");
	db_res_free(r);
	if (rc < 0) {
		json_decref(all);
		return -1;
	}
	*out = all;
	return 0;
}

int store_resolver_get(struct db_conn *c, const char *lname, int64_t *id, char **name, char **rtype,
		       json_t **config, struct error *err)
{
	struct db_res *r;
	struct db_param p[] = { DB_TEXT(lname) };
	if (!lname)
		return err_internal(err, "store_resolver_get: no name");
	if (db_query(c,
		     "SELECT rs.id, rs.name, rs.rtype, rc.\"Key\", rc.\"Value\", rc.\"Type\", rc.\"Description\" "
		     "FROM resolver rs LEFT JOIN resolverconfig rc ON rc.resolver_id = rs.id "
		     "WHERE lower(rs.name) = ? ORDER BY rs.id, rc.id",
		     p, 1, &r, err) < 0)
		return -1;
	json_t *all = json_object();
	int rc = all ? resolver_rows(r, all, err) : err_internal(err, "out of memory");
	db_res_free(r);
	if (rc < 0) {
		json_decref(all);
		return -1;
	}
	/* Names are unique as stored; two spellings of one name can only come
	 * from outside Tessera: the oldest one wins, as privacyIDEA's first(). */
	const char *k;
	json_t *e = NULL;
	json_object_foreach(all, k, e)
		break;
	if (!e) {
		json_decref(all);
		return 1;
	}
	if (id)
		*id = json_integer_value(json_object_get(e, "id"));
	if (name)
		*name = strdup(k);
	if (rtype)
		*rtype = strdup(json_string_value(json_object_get(e, "type")));
	if (config)
		*config = json_incref(json_object_get(e, "config"));
	json_decref(all);
	if ((name && !*name) || (rtype && !*rtype))
		return err_internal(err, "out of memory");
	return 0;
}

int store_resolver_insert(struct db_conn *c, const char *name, const char *rtype, int64_t *id,
			  struct error *err)
{
	struct db_param p[] = { DB_TEXT(name), DB_TEXT(rtype) };
	return db_query_int(c, "INSERT INTO resolver (name, rtype) VALUES (?, ?) RETURNING id", p, 2, id, NULL,
			    err);
}

int store_resolver_config_put(struct db_conn *c, int64_t resolver_id, const char *key, const char *value,
			      const char *type, const char *description, struct error *err)
{
	struct db_param p[] = { DB_INT(resolver_id), DB_TEXT(key), DB_TEXT(value ? value : ""),
				DB_TEXT(type ? type : ""), DB_TEXT(description ? description : "") };
	return db_exec(c,
		       "INSERT INTO resolverconfig (resolver_id, \"Key\", \"Value\", \"Type\", \"Description\") "
		       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (resolver_id, \"Key\") DO UPDATE SET "
		       "\"Value\" = excluded.\"Value\", \"Type\" = excluded.\"Type\", "
		       "\"Description\" = excluded.\"Description\"",
		       p, 5, NULL, err);
}

int store_resolver_delete(struct db_conn *c, int64_t id, struct error *err)
{
	struct db_param p[] = { DB_INT(id) };
	if (db_exec(c, "DELETE FROM resolverconfig WHERE resolver_id = ?", p, 1, NULL, err) < 0)
		return -1;
	return db_exec(c, "DELETE FROM resolver WHERE id = ?", p, 1, NULL, err);
}

int store_resolver_first_realm(struct db_conn *c, int64_t resolver_id, char **realm, struct error *err)
{
	struct db_res *r;
	struct db_param p[] = { DB_INT(resolver_id) };
	*realm = NULL;
	if (db_query(c,
		     "SELECT rl.name FROM resolverrealm rr JOIN realm rl ON rl.id = rr.realm_id "
		     "WHERE rr.resolver_id = ? ORDER BY rl.name",
		     p, 1, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1) {
		*realm = dup_text(db_res_text(r, 0));
		rc = *realm ? 0 : err_internal(err, "out of memory");
	} else if (rc == 0) {
		rc = 1;
	}
	db_res_free(r);
	return rc;
}

/* ---- realm, resolverrealm ----------------------------------------------- */

int store_realm_list(struct db_conn *c, json_t **out, struct error *err)
{
	struct db_res *r;
	*out = NULL;
	if (db_query(c,
		     "SELECT rl.id, rl.name, rl.\"default\", rl.\"option\", rs.name, rs.rtype, rr.priority "
		     "FROM realm rl LEFT JOIN resolverrealm rr ON rr.realm_id = rl.id "
		     "LEFT JOIN resolver rs ON rs.id = rr.resolver_id ORDER BY rl.id, rr.id",
		     NULL, 0, &r, err) < 0)
		return -1;
	json_t *all = json_object();
	int rc = all ? 1 : err_internal(err, "out of memory");
	while (rc == 1 && (rc = db_res_next(r, err)) == 1) {
		const char *name = db_res_text(r, 1);
		if (!name)
			continue;
		json_t *e = json_object_get(all, name);
		if (!e) {
			const char *opt = db_res_text(r, 3);
			e = json_pack("{s:I,s:s,s:b,s:[]}", "id", (json_int_t)db_res_int(r, 0), "option",
				      opt ? opt : "", "default", db_res_int(r, 2) != 0, "resolver");
			if (!e || json_object_set_new(all, name, e) < 0) {
				rc = err_internal(err, "out of memory");
				break;
			}
		}
		const char *rname = db_res_text(r, 4);
		if (!rname)
			continue;
		const char *rtype = db_res_text(r, 5);
		json_t *prio = db_res_isnull(r, 6) ? json_null() : json_integer(db_res_int(r, 6));
		json_t *re = json_pack("{s:s,s:s,s:o,s:s}", "name", rname, "type", rtype ? rtype : "", "priority",
				       prio, "node", "");
		if (!re || json_array_append_new(json_object_get(e, "resolver"), re) < 0)
			rc = err_internal(err, "out of memory");
	}
	db_res_free(r);
	if (rc < 0) {
		json_decref(all);
		return -1;
	}
	*out = all;
	return 0;
}

int store_realm_get_id(struct db_conn *c, const char *name, int64_t *id, struct error *err)
{
	struct db_param p[] = { DB_TEXT(name) };
	int found = 0;
	if (db_query_int(c, "SELECT id FROM realm WHERE name = ?", p, 1, id, &found, err) < 0)
		return -1;
	return found ? 0 : 1;
}

int store_realm_insert(struct db_conn *c, const char *name, int64_t *id, struct error *err)
{
	struct db_param p[] = { DB_TEXT(name) };
	return db_query_int(c, "INSERT INTO realm (name, \"default\", \"option\") VALUES (?, 0, '') RETURNING id", p,
			    1, id, NULL, err);
}

int store_realm_count(struct db_conn *c, int64_t *n, struct error *err)
{
	return db_query_int(c, "SELECT count(*) FROM realm", NULL, 0, n, NULL, err);
}

int store_realm_clear_resolvers(struct db_conn *c, int64_t realm_id, struct error *err)
{
	struct db_param p[] = { DB_INT(realm_id) };
	return db_exec(c, "DELETE FROM resolverrealm WHERE realm_id = ?", p, 1, NULL, err);
}

int store_realm_add_resolver(struct db_conn *c, int64_t realm_id, int64_t resolver_id, int has_priority,
			     int64_t priority, struct error *err)
{
	struct db_param p[] = { DB_INT(resolver_id), DB_INT(realm_id), has_priority ? DB_INT(priority) : DB_NULLP };
	return db_exec(c, "INSERT INTO resolverrealm (resolver_id, realm_id, priority) VALUES (?, ?, ?)", p, 3, NULL,
		       err);
}

int store_realm_delete(struct db_conn *c, int64_t id, struct error *err)
{
	struct db_param p[] = { DB_INT(id) };
	/* The child rows go explicitly too: a database shared with privacyIDEA
	 * may have been created without ON DELETE CASCADE. */
	if (db_exec(c, "DELETE FROM resolverrealm WHERE realm_id = ?", p, 1, NULL, err) < 0 ||
	    db_exec(c, "DELETE FROM tokenrealm WHERE realm_id = ?", p, 1, NULL, err) < 0 ||
	    db_exec(c, "DELETE FROM customuserattribute WHERE realm_id = ?", p, 1, NULL, err) < 0)
		return -1;
	return db_exec(c, "DELETE FROM realm WHERE id = ?", p, 1, NULL, err);
}

int store_realm_owner_count(struct db_conn *c, int64_t realm_id, int64_t *n, struct error *err)
{
	struct db_param p[] = { DB_INT(realm_id) };
	return db_query_int(c, "SELECT count(*) FROM tokenowner WHERE realm_id = ?", p, 1, n, NULL, err);
}

int store_realm_set_default(struct db_conn *c, int64_t id, int64_t *previous, struct error *err)
{
	int64_t prev = 0;
	int found = 0;
	if (db_query_int(c, "SELECT min(id) FROM realm WHERE \"default\" = 1", NULL, 0, &prev, &found, err) < 0)
		return -1;
	if (previous)
		*previous = found ? prev : 0;
	struct db_param p[] = { DB_INT(id) };
	if (db_exec(c, "UPDATE realm SET \"default\" = 0 WHERE \"default\" <> 0 AND id <> ?", p, 1, NULL, err) < 0)
		return -1;
	if (id > 0 && db_exec(c, "UPDATE realm SET \"default\" = 1 WHERE id = ?", p, 1, NULL, err) < 0)
		return -1;
	return 0;
}

/* ---- usercache ------------------------------------------------------------ */

int store_usercache_by_login(struct db_conn *c, const char *used_login, const char *resolver,
			     const char *not_before, char **username, char **user_id, struct error *err)
{
	struct db_res *r;
	struct db_param p[] = { DB_TEXT(used_login), DB_TEXT(resolver), DB_TEXT(not_before) };
	*username = *user_id = NULL;
	if (db_query(c,
		     "SELECT username, user_id FROM usercache WHERE used_login = ? AND resolver = ? "
		     "AND \"timestamp\" >= ? ORDER BY \"timestamp\" DESC",
		     p, 3, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1) {
		*username = dup_text(db_res_text(r, 0));
		*user_id = dup_text(db_res_text(r, 1));
		rc = (*username && *user_id) ? 0 : err_internal(err, "out of memory");
	} else if (rc == 0) {
		rc = 1;
	}
	db_res_free(r);
	if (rc != 0) {
		free(*username);
		free(*user_id);
		*username = *user_id = NULL;
	}
	return rc;
}

int store_usercache_by_uid(struct db_conn *c, const char *user_id, const char *resolver, const char *not_before,
			   char **username, struct error *err)
{
	struct db_res *r;
	struct db_param p[] = { DB_TEXT(user_id), DB_TEXT(resolver), DB_TEXT(not_before) };
	*username = NULL;
	if (db_query(c,
		     "SELECT username FROM usercache WHERE user_id = ? AND resolver = ? "
		     "AND \"timestamp\" >= ? ORDER BY \"timestamp\" DESC",
		     p, 3, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1) {
		*username = dup_text(db_res_text(r, 0));
		rc = *username ? 0 : err_internal(err, "out of memory");
	} else if (rc == 0) {
		rc = 1;
	}
	db_res_free(r);
	return rc;
}

int store_usercache_put(struct db_conn *c, const char *username, const char *used_login, const char *resolver,
			const char *user_id, struct error *err)
{
	char now[DB_TS_LEN];
	db_timestamp_now(now);
	struct db_param d[] = { DB_TEXT(used_login), DB_TEXT(resolver) };
	struct db_param p[] = { DB_TEXT(username), DB_TEXT(used_login), DB_TEXT(resolver), DB_TEXT(user_id),
				DB_TEXT(now) };
	if (db_exec(c, "DELETE FROM usercache WHERE used_login = ? AND resolver = ?", d, 2, NULL, err) < 0)
		return -1;
	return db_exec(c,
		       "INSERT INTO usercache (username, used_login, resolver, user_id, \"timestamp\") "
		       "VALUES (?, ?, ?, ?, ?)",
		       p, 5, NULL, err);
}

int store_usercache_delete_resolver(struct db_conn *c, const char *resolver, struct error *err)
{
	struct db_param p[] = { DB_TEXT(resolver) };
	return db_exec(c, "DELETE FROM usercache WHERE resolver = ?", p, 1, NULL, err);
}

int store_usercache_delete_user(struct db_conn *c, const char *resolver, const char *username,
				const char *user_id, struct error *err)
{
	struct db_param p[] = { DB_TEXT(resolver), DB_TEXT(username ? username : ""),
				DB_TEXT(user_id ? user_id : "") };
	return db_exec(c,
		       "DELETE FROM usercache WHERE resolver = ? AND ((username = ? AND username <> '') "
		       "OR (user_id = ? AND user_id <> ''))",
		       p, 3, NULL, err);
}

/* ---- customuserattribute -------------------------------------------------- */

/* realm_id 0 binds NULL: "the user has no realm". */
#define REALM_PARAM(id) ((id) > 0 ? DB_INT(id) : DB_NULLP)

int store_userattr_list(struct db_conn *c, const char *user_id, const char *resolver, int64_t realm_id,
			json_t **out, struct error *err)
{
	struct db_res *r;
	struct db_param p[] = { DB_TEXT(user_id), DB_TEXT(resolver), REALM_PARAM(realm_id) };
	*out = NULL;
	if (db_query(c,
		     "SELECT \"Key\", \"Value\" FROM customuserattribute WHERE user_id = ? AND resolver = ? "
		     "AND realm_id IS NOT DISTINCT FROM CAST(? AS BIGINT) ORDER BY id",
		     p, 3, &r, err) < 0)
		return -1;
	json_t *all = json_object();
	int rc = all ? 1 : err_internal(err, "out of memory");
	while (rc == 1 && (rc = db_res_next(r, err)) == 1) {
		const char *k = db_res_text(r, 0), *v = db_res_text(r, 1);
		if (k && json_object_set_new(all, k, json_string(v ? v : "")) < 0)
			rc = err_internal(err, "out of memory");
	}
	db_res_free(r);
	if (rc < 0) {
		json_decref(all);
		return -1;
	}
	*out = all;
	return 0;
}

int store_userattr_set(struct db_conn *c, const char *user_id, const char *resolver, int64_t realm_id,
		       const char *key, const char *value, const char *type, int64_t *id, struct error *err)
{
	struct db_param q[] = { DB_TEXT(user_id), DB_TEXT(resolver), REALM_PARAM(realm_id), DB_TEXT(key) };
	int found = 0;
	int64_t existing = 0;
	if (db_query_int(c,
			 "SELECT min(id) FROM customuserattribute WHERE user_id = ? AND resolver = ? "
			 "AND realm_id IS NOT DISTINCT FROM CAST(? AS BIGINT) AND \"Key\" = ?",
			 q, 4, &existing, &found, err) < 0)
		return -1;
	if (found) {
		struct db_param u[] = { DB_TEXT(value), DB_TEXT(type), DB_INT(existing) };
		if (db_exec(c, "UPDATE customuserattribute SET \"Value\" = ?, \"Type\" = ? WHERE id = ?", u, 3, NULL,
			    err) < 0)
			return -1;
		*id = existing;
		return 0;
	}
	struct db_param p[] = { DB_TEXT(user_id), DB_TEXT(resolver), REALM_PARAM(realm_id), DB_TEXT(key),
				DB_TEXT(value), DB_TEXT(type) };
	return db_query_int(c,
			    "INSERT INTO customuserattribute (user_id, resolver, realm_id, \"Key\", \"Value\", \"Type\") "
			    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			    p, 6, id, NULL, err);
}

int store_userattr_delete(struct db_conn *c, const char *user_id, const char *resolver, int64_t realm_id,
			  const char *key, int64_t *count, struct error *err)
{
	int64_t n = 0;
	int rc;
	if (key) {
		struct db_param p[] = { DB_TEXT(user_id), DB_TEXT(resolver), REALM_PARAM(realm_id), DB_TEXT(key) };
		rc = db_exec(c,
			     "DELETE FROM customuserattribute WHERE user_id = ? AND resolver = ? "
			     "AND realm_id IS NOT DISTINCT FROM CAST(? AS BIGINT) AND \"Key\" = ?",
			     p, 4, &n, err);
	} else {
		struct db_param p[] = { DB_TEXT(user_id), DB_TEXT(resolver), REALM_PARAM(realm_id) };
		rc = db_exec(c,
			     "DELETE FROM customuserattribute WHERE user_id = ? AND resolver = ? "
			     "AND realm_id IS NOT DISTINCT FROM CAST(? AS BIGINT)",
			     p, 3, &n, err);
	}
	if (count)
		*count = n;
	return rc;
}

int store_userattr_any(struct db_conn *c, int *any, struct error *err)
{
	int64_t id = 0;
	int found = 0;
	if (db_query_int(c, "SELECT id FROM customuserattribute LIMIT 1", NULL, 0, &id, &found, err) < 0)
		return -1;
	*any = found;
	return 0;
}
