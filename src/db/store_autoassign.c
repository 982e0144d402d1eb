/*
 * store_autoassign.c — see store_autoassign.h.  SQL only, in the caller's
 * write transaction; the decision lives in src/lib/token_autoassign.c.
 */
#include "store_autoassign.h"

int store_autoassign_claim(struct db_conn *c, int64_t token_id, const char *resolver, const char *user_id,
			   int64_t realm_id, int *ok, struct error *err)
{
	struct db_param p[] = { DB_INT(token_id), DB_TEXT(resolver), DB_TEXT(user_id), DB_INT(realm_id),
				DB_INT(token_id) };
	int64_t n = 0;
	*ok = 0;
	if (db_exec(c,
		    "INSERT INTO tokenowner (token_id, resolver, user_id, realm_id) "
		    "SELECT CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT) "
		    "WHERE NOT EXISTS (SELECT 1 FROM tokenowner WHERE token_id = CAST(? AS BIGINT))",
		    p, 5, &n, err) < 0)
		return -1;
	*ok = n == 1;
	return 0;
}
