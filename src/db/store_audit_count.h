/*
 * store_audit_count.h — counting authentications in the audit table
 * (privacyIDEA's Audit.get_count as the auth_max_success / auth_max_fail
 * policies use it).
 */
#ifndef TESSERA_STORE_AUDIT_COUNT_H
#define TESSERA_STORE_AUDIT_COUNT_H

#include <stdint.h>

#include "../lib/error.h"

struct db_conn;

/* Rows of pidea_audit of user@realm with the given success (0/1) written
 * at or after since (DB timestamp text, UTC) whose action ends in
 * "/validate/check", plus those whose action ends in "/auth" and whose
 * info contains "loginmode=privacyIDEA".  *n gets the sum. */
int store_audit_count_auth(struct db_conn *c, const char *user, const char *realm, int success, const char *since,
			   int64_t *n, struct error *err);

#endif
