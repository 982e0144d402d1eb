/*
 * store_audit.c — privacyIDEA's SQL audit table `pidea_audit`.
 *
 * One function per query, on a borrowed connection.  It writes the entry
 * as given (NULL strings become SQL NULL); building, truncating and
 * signing the entry is lib/audit.c's job.  It must not commit: an audit
 * write inside a caller's transaction stays the caller's to commit.
 */
#include "store.h"

int store_audit_insert(struct db_conn *c, const struct store_audit *a, int64_t *id, struct error *err)
{
	char now[DB_TS_LEN];
	int64_t newid = 0;
	int found = 0;
	if (!a)
		return err_internal(err, "store_audit_insert: no entry");
	if (!a->date)
		db_timestamp_now(now);
	struct db_param p[] = {
		DB_TEXT(a->date ? a->date : now),
		DB_TEXT(a->startdate),
		DB_REAL(a->duration),
		DB_TEXT(a->signature),
		DB_TEXT(a->action),
		DB_INT(a->success),
		DB_TEXT(a->authentication),
		DB_TEXT(a->serial),
		DB_TEXT(a->token_type),
		DB_TEXT(a->user),
		DB_TEXT(a->realm),
		DB_TEXT(a->resolver),
		DB_TEXT(a->administrator),
		DB_TEXT(a->action_detail),
		DB_TEXT(a->info),
		DB_TEXT(a->privacyidea_server),
		DB_TEXT(a->client),
		DB_TEXT(a->user_agent),
		DB_TEXT(a->user_agent_version),
		DB_TEXT(a->loglevel),
		DB_TEXT(a->clearance_level),
		DB_TEXT(a->policies),
		DB_TEXT(a->thread_id),
		DB_TEXT(a->container_serial),
		DB_TEXT(a->container_type),
	};
	if (db_query_int(c,
			 "INSERT INTO pidea_audit (\"date\", startdate, duration, signature, \"action\", success, "
			 "authentication, serial, token_type, \"user\", realm, resolver, administrator, "
			 "action_detail, info, privacyidea_server, client, user_agent, user_agent_version, "
			 "loglevel, clearance_level, policies, thread_id, container_serial, container_type) "
			 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
			 "RETURNING id",
			 p, (int)(sizeof(p) / sizeof(p[0])), &newid, &found, err) < 0)
		return -1;
	if (!found)
		return err_internal(err, "audit insert returned no id");
	if (id)
		*id = newid;
	return 0;
}

int64_t store_audit_count(struct db_conn *c, struct error *err)
{
	int64_t n = 0;
	if (db_query_int(c, "SELECT count(*) FROM pidea_audit", NULL, 0, &n, NULL, err) < 0)
		return -1;
	return n;
}
