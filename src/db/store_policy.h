/*
 * store_policy.h — privacyIDEA's `policy` and `policycondition` tables.
 *
 * Rows go in and out as they are stored: comma lists and the action string
 * as text, booleans as 0/1.  Parsing, validation and matching are
 * src/lib/policy*.c's job.  Transactions are the caller's.
 */
#ifndef TESSERA_STORE_POLICY_H
#define TESSERA_STORE_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "db.h"

/* One condition: [section, key, comparator, value, active]. */
struct store_policy_condition {
	char *section, *key, *comparator, *value;
	int active;
};

/* One policy row.  Every string is owned (malloc'd) when filled by this
 * module; store_policy_clear frees them.  Callers filling a row for
 * store_policy_put may point at their own strings (nothing is freed). */
struct store_policy {
	int64_t id;
	char *name, *scope, *action;
	char *realm, *adminrealm, *adminuser, *resolver, *pinode, *user, *client, *time;
	int active, check_all_resolvers;
	int64_t priority;
	struct store_policy_condition *conditions;
	size_t n_conditions;
};

void store_policy_clear(struct store_policy *p);
void store_policy_list_free(struct store_policy *rows, size_t n);

/* Every policy with its conditions, ordered by id (conditions by id).
 * *rows is a malloc'd array (free with store_policy_list_free). */
int store_policy_list(struct db_conn *c, struct store_policy **rows, size_t *n, struct error *err);
/* One policy by exact name with its conditions: 0 found, 1 absent, -1 error. */
int store_policy_get(struct db_conn *c, const char *name, struct store_policy *out, struct error *err);
/* Insert or replace (by name) every column of p; *id gets the row id.
 * Conditions are replaced when `set_conditions`, else left as they are. */
int store_policy_put(struct db_conn *c, const struct store_policy *p, int set_conditions, int64_t *id,
		     struct error *err);
/* Set `active`: 0 done (*id filled), 1 no such policy. */
int store_policy_set_active(struct db_conn *c, const char *name, int active, int64_t *id, struct error *err);
/* Delete with its conditions: 0 done (*id = the deleted row), 1 absent. */
int store_policy_delete(struct db_conn *c, const char *name, int64_t *id, struct error *err);

#endif
