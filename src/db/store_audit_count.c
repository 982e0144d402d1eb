/*
 * store_audit_count.c — see store_audit_count.h.  Read-only counting on
 * pidea_audit; it never writes and never commits.
 */
#include "store_audit_count.h"

#include "db.h"

int store_audit_count_auth(struct db_conn *c, const char *user, const char *realm, int success, const char *since,
			   int64_t *n, struct error *err)
{
	struct db_param p[] = {
		DB_TEXT(user), DB_TEXT(realm), DB_INT(success ? 1 : 0), DB_TEXT(since),
		DB_TEXT("%/validate/check"), DB_TEXT("%/auth"), DB_TEXT("%loginmode=privacyIDEA%"),
	};
	*n = 0;
	return db_query_int(c,
			    "SELECT count(*) FROM pidea_audit WHERE \"user\" = ? AND realm = ? AND success = ? "
			    "AND \"date\" >= ? AND (\"action\" LIKE ? OR (\"action\" LIKE ? AND info LIKE ?))",
			    p, 7, n, NULL, err);
}
