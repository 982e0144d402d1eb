/*
 * store.h — the domain's storage operations (one function per query).
 *
 * These are the only entry points the rest of Tessera uses to reach the
 * database: each function runs prepared statements on a borrowed
 * connection.  Grouped by table; later issues add groups here (tokens,
 * realms, resolvers, policies ...).
 */
#ifndef TESSERA_STORE_H
#define TESSERA_STORE_H

#include <stdint.h>
#include <jansson.h>
#include "db.h"

/* ---- admin (privacyIDEA table `admin`) ---- */
struct store_admin {
	char username[121];
	char email[256];
	char password[256]; /* the stored hash */
};
/* 0 = found, 1 = not found, -1 = error. */
int store_admin_get(struct db_conn *c, const char *username, struct store_admin *out, struct error *err);
/* Insert or update (one upsert). email or hash may be NULL: kept as they
 * are when updating, stored as NULL for a new admin.  A value longer than
 * its struct store_admin field is refused (ERR905), so store_admin_get
 * never has to truncate. */
int store_admin_put(struct db_conn *c, const char *username, const char *email, const char *hash,
		    struct error *err);
/* 0 = deleted, 1 = no such admin. */
int store_admin_delete(struct db_conn *c, const char *username, struct error *err);
/* Calls fn for each admin ordered by name; fn returning non-zero stops
 * (still 0 returned).  fn may run other queries on the same connection. */
int store_admin_list(struct db_conn *c, int (*fn)(void *ctx, const struct store_admin *a), void *ctx,
		     struct error *err);

/* ---- audit (privacyIDEA table `pidea_audit`) ---- */
struct store_audit {
	const char *date;  /* ISO "YYYY-MM-DD HH:MM:SS.ffffff" UTC */
	const char *startdate;
	double duration;   /* seconds */
	const char *signature;
	const char *action; /* "POST /auth" */
	int success;
	const char *authentication; /* ACCEPT / REJECT / "" */
	const char *serial, *token_type, *user, *realm, *resolver;
	const char *administrator, *action_detail, *info;
	const char *privacyidea_server, *client, *user_agent, *user_agent_version;
	const char *loglevel, *clearance_level, *policies, *thread_id;
	const char *container_serial, *container_type;
};
/* One row; NULL strings are stored as SQL NULL, a NULL date as "now".
 * *id (may be NULL) gets the new row's id. */
int store_audit_insert(struct db_conn *c, const struct store_audit *a, int64_t *id, struct error *err);
/* Number of rows, -1 on error. */
int64_t store_audit_count(struct db_conn *c, struct error *err);

/* ---- config (privacyIDEA table `config`) and the config timestamp ---- */
/* Value of a system setting: 0 found (value malloc'd into *out, "" for
 * SQL NULL), 1 absent, -1 error. */
int store_config_get(struct db_conn *c, const char *key, char **out, struct error *err);
/* Insert or overwrite Value, Type and Description (NULL stored as "").
 * Neither set nor delete touches the timestamp: call store_config_touch
 * once per logical change, in the same transaction. */
int store_config_set(struct db_conn *c, const char *key, const char *value, const char *type,
		     const char *description, struct error *err);
/* 0 deleted, 1 no such key, -1 error. */
int store_config_delete(struct db_conn *c, const char *key, struct error *err);
/* The "__timestamp__" row privacyIDEA bumps on every configuration change;
 * several processes compare it to know when to reload.  The value is Unix
 * time with microseconds, "1700000000.123456" (privacyIDEA writes whole
 * seconds; both parse as a float).  Absent row: *out = "0" and 0 returned.
 * Reload when the value DIFFERS from the one last loaded (clocks can step
 * back), not only when it is greater.  *out is malloc'd. */
int store_config_timestamp(struct db_conn *c, char **out, struct error *err);
int store_config_touch(struct db_conn *c, struct error *err);
/* Every row as {Key: {"Value", "Type", "Description"}} (values as stored). */
int store_config_list(struct db_conn *c, json_t **out, struct error *err);

#endif
