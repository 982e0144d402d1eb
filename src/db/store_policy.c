/*
 * store_policy.c — privacyIDEA's `policy` and `policycondition` tables
 * (store_policy.h).
 *
 * One function per query, on a borrowed connection; transactions are the
 * caller's.  It must not interpret what it stores: the action string,
 * comma lists and time ranges are parsed and validated in src/lib/.
 */
#include "store_policy.h"

#include <stdlib.h>
#include <string.h>

#define POLICY_COLUMNS                                                                                                 \
	"id, name, scope, \"action\", realm, adminrealm, adminuser, resolver, pinode, \"user\", client, "              \
	"\"time\", active, check_all_resolvers, priority"

static void condition_clear(struct store_policy_condition *k)
{
	free(k->section);
	free(k->key);
	free(k->comparator);
	free(k->value);
	memset(k, 0, sizeof(*k));
}

void store_policy_clear(struct store_policy *p)
{
	if (!p)
		return;
	char **s[] = { &p->name,     &p->scope,	 &p->action, &p->realm,	 &p->adminrealm, &p->adminuser,
		       &p->resolver, &p->pinode, &p->user,   &p->client, &p->time };
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(*s[i]);
	for (size_t i = 0; i < p->n_conditions; i++)
		condition_clear(&p->conditions[i]);
	free(p->conditions);
	memset(p, 0, sizeof(*p));
}

void store_policy_list_free(struct store_policy *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		store_policy_clear(&rows[i]);
	free(rows);
}

static char *dup_col(struct db_res *r, int col, int *oom)
{
	const char *v = db_res_text(r, col);
	char *d = strdup(v ? v : "");
	if (!d)
		*oom = 1;
	return d;
}

static int fill_row(struct db_res *r, struct store_policy *p, struct error *err)
{
	int oom = 0;
	memset(p, 0, sizeof(*p));
	p->id = db_res_int(r, 0);
	char **s[] = { &p->name,     &p->scope,	 &p->action, &p->realm,	 &p->adminrealm, &p->adminuser,
		       &p->resolver, &p->pinode, &p->user,   &p->client, &p->time };
	for (int i = 0; i < (int)(sizeof(s) / sizeof(s[0])); i++)
		*s[i] = dup_col(r, i + 1, &oom);
	p->active = db_res_isnull(r, 12) ? 1 : db_res_int(r, 12) != 0;
	p->check_all_resolvers = db_res_int(r, 13) != 0;
	p->priority = db_res_isnull(r, 14) ? 1 : db_res_int(r, 14);
	if (oom) {
		store_policy_clear(p);
		return err_internal(err, "out of memory");
	}
	return 0;
}

static int add_condition(struct store_policy *p, struct db_res *r, int first_col, struct error *err)
{
	struct store_policy_condition *nk = realloc(p->conditions, (p->n_conditions + 1) * sizeof(*nk));
	if (!nk)
		return err_internal(err, "out of memory");
	p->conditions = nk;
	struct store_policy_condition *k = &nk[p->n_conditions];
	int oom = 0;
	k->section = dup_col(r, first_col, &oom);
	k->key = dup_col(r, first_col + 1, &oom);
	k->comparator = dup_col(r, first_col + 2, &oom);
	k->value = dup_col(r, first_col + 3, &oom);
	k->active = db_res_isnull(r, first_col + 4) ? 1 : db_res_int(r, first_col + 4) != 0;
	p->n_conditions++;
	return oom ? err_internal(err, "out of memory") : 0;
}

int store_policy_list(struct db_conn *c, struct store_policy **rows, size_t *n, struct error *err)
{
	struct db_res *r;
	struct store_policy *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;
	*rows = NULL;
	*n = 0;
	if (db_query(c, "SELECT " POLICY_COLUMNS " FROM policy ORDER BY id", NULL, 0, &r, err) < 0)
		return -1;
	while ((rc = db_res_next(r, err)) == 1) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct store_policy *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = err_internal(err, "out of memory");
				break;
			}
			v = nv;
			cap = ncap;
		}
		if (fill_row(r, &v[cnt], err) < 0) {
			rc = -1;
			break;
		}
		cnt++;
	}
	db_res_free(r);
	if (rc < 0)
		goto fail;
	if (db_query(c,
		     "SELECT policy_id, section, \"Key\", comparator, \"Value\", active FROM policycondition "
		     "ORDER BY policy_id, id",
		     NULL, 0, &r, err) < 0)
		goto fail;
	/* Rows and conditions are both ordered by policy id: walk them together. */
	size_t at = 0;
	while ((rc = db_res_next(r, err)) == 1) {
		int64_t pid = db_res_int(r, 0);
		while (at < cnt && v[at].id < pid)
			at++;
		if (at < cnt && v[at].id == pid && add_condition(&v[at], r, 1, err) < 0) {
			rc = -1;
			break;
		}
	}
	db_res_free(r);
	if (rc < 0)
		goto fail;
	*rows = v;
	*n = cnt;
	return 0;
fail:
	store_policy_list_free(v, cnt);
	return -1;
}

int store_policy_get(struct db_conn *c, const char *name, struct store_policy *out, struct error *err)
{
	struct db_res *r;
	struct db_param p[] = { DB_TEXT(name) };
	memset(out, 0, sizeof(*out));
	if (!name)
		return err_internal(err, "store_policy_get: no name");
	if (db_query(c, "SELECT " POLICY_COLUMNS " FROM policy WHERE name = ?", p, 1, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1)
		rc = fill_row(r, out, err);
	else if (rc == 0)
		rc = 1;
	db_res_free(r);
	if (rc != 0)
		return rc;
	struct db_param q[] = { DB_INT(out->id) };
	if (db_query(c,
		     "SELECT section, \"Key\", comparator, \"Value\", active FROM policycondition "
		     "WHERE policy_id = ? ORDER BY id",
		     q, 1, &r, err) < 0) {
		store_policy_clear(out);
		return -1;
	}
	while ((rc = db_res_next(r, err)) == 1)
		if (add_condition(out, r, 0, err) < 0) {
			rc = -1;
			break;
		}
	db_res_free(r);
	if (rc < 0) {
		store_policy_clear(out);
		return -1;
	}
	return 0;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

int store_policy_put(struct db_conn *c, const struct store_policy *pol, int set_conditions, int64_t *id,
		     struct error *err)
{
	if (!pol->name || !*pol->name || !pol->scope)
		return err_internal(err, "store_policy_put: no name or scope");
	struct db_param p[] = {
		DB_TEXT(pol->name),
		DB_TEXT(pol->scope),
		DB_TEXT(or_empty(pol->action)),
		DB_TEXT(or_empty(pol->realm)),
		DB_TEXT(or_empty(pol->adminrealm)),
		DB_TEXT(or_empty(pol->adminuser)),
		DB_TEXT(or_empty(pol->resolver)),
		DB_TEXT(or_empty(pol->pinode)),
		DB_TEXT(or_empty(pol->user)),
		DB_TEXT(or_empty(pol->client)),
		DB_TEXT(or_empty(pol->time)),
		DB_INT(pol->active ? 1 : 0),
		DB_INT(pol->check_all_resolvers ? 1 : 0),
		DB_INT(pol->priority),
	};
	int64_t pid = 0;
	int found = 0;
	if (db_query_int(c,
			 "INSERT INTO policy (name, scope, \"action\", realm, adminrealm, adminuser, resolver, pinode, "
			 "\"user\", client, \"time\", active, check_all_resolvers, priority) "
			 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
			 "ON CONFLICT (name) DO UPDATE SET scope = excluded.scope, \"action\" = excluded.\"action\", "
			 "realm = excluded.realm, adminrealm = excluded.adminrealm, adminuser = excluded.adminuser, "
			 "resolver = excluded.resolver, pinode = excluded.pinode, \"user\" = excluded.\"user\", "
			 "client = excluded.client, \"time\" = excluded.\"time\", active = excluded.active, "
			 "check_all_resolvers = excluded.check_all_resolvers, priority = excluded.priority "
			 "RETURNING id",
			 p, (int)(sizeof(p) / sizeof(p[0])), &pid, &found, err) < 0)
		return -1;
	if (!found)
		return err_internal(err, "store_policy_put: no id returned");
	if (set_conditions) {
		struct db_param d[] = { DB_INT(pid) };
		if (db_exec(c, "DELETE FROM policycondition WHERE policy_id = ?", d, 1, NULL, err) < 0)
			return -1;
		for (size_t i = 0; i < pol->n_conditions; i++) {
			const struct store_policy_condition *k = &pol->conditions[i];
			struct db_param q[] = { DB_INT(pid),
						DB_TEXT(or_empty(k->section)),
						DB_TEXT(or_empty(k->key)),
						DB_TEXT(or_empty(k->comparator)),
						DB_TEXT(or_empty(k->value)),
						DB_INT(k->active ? 1 : 0) };
			if (db_exec(c,
				    "INSERT INTO policycondition (policy_id, section, \"Key\", comparator, \"Value\", "
				    "active) VALUES (?, ?, ?, ?, ?, ?)",
				    q, 6, NULL, err) < 0)
				return -1;
		}
	}
	if (id)
		*id = pid;
	return 0;
}

int store_policy_set_active(struct db_conn *c, const char *name, int active, int64_t *id, struct error *err)
{
	struct db_param p[] = { DB_INT(active ? 1 : 0), DB_TEXT(name) };
	int64_t pid = 0;
	int found = 0;
	if (!name)
		return err_internal(err, "store_policy_set_active: no name");
	if (db_query_int(c, "UPDATE policy SET active = ? WHERE name = ? RETURNING id", p, 2, &pid, &found, err) < 0)
		return -1;
	if (!found)
		return 1;
	if (id)
		*id = pid;
	return 0;
}

int store_policy_delete(struct db_conn *c, const char *name, int64_t *id, struct error *err)
{
	struct db_param p[] = { DB_TEXT(name) };
	int64_t pid = 0;
	int found = 0;
	if (!name)
		return err_internal(err, "store_policy_delete: no name");
	if (db_query_int(c, "SELECT id FROM policy WHERE name = ?", p, 1, &pid, &found, err) < 0)
		return -1;
	if (!found)
		return 1;
	struct db_param q[] = { DB_INT(pid) };
	if (db_exec(c, "DELETE FROM policycondition WHERE policy_id = ?", q, 1, NULL, err) < 0 ||
	    db_exec(c, "DELETE FROM policy WHERE id = ?", q, 1, NULL, err) < 0)
		return -1;
	if (id)
		*id = pid;
	return 0;
}
