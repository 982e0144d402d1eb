/*
 * store_autoassign.h — the one write of enrollment.autoassignment that
 * must be exclusive: giving an unassigned token its first owner.
 */
#ifndef TESSERA_STORE_AUTOASSIGN_H
#define TESSERA_STORE_AUTOASSIGN_H

#include <stdint.h>

#include "db.h"
#include "../lib/error.h"

/* Insert the owner row only while the token has none (one conditional
 * INSERT … SELECT … WHERE NOT EXISTS): *ok = 1 when this call made the
 * token the user's, 0 when it had an owner already. */
int store_autoassign_claim(struct db_conn *c, int64_t token_id, const char *resolver, const char *user_id,
			   int64_t realm_id, int *ok, struct error *err);

#endif
