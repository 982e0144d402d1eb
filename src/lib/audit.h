/*
 * audit.h — writing the audit trail (privacyIDEA's pidea_audit table).
 *
 * One row per API request, written before the response leaves, so what a
 * client saw is always on record.  Never pass a secret in any field.
 * Signatures, search and rotation of the full audit feature come later.
 */
#ifndef TESSERA_AUDIT_H
#define TESSERA_AUDIT_H

#include "error.h"

struct app;
struct db_conn;

struct audit_record {
	const char *action;        /* "POST /auth" (method + URL rule) */
	int success;
	const char *authentication;
	const char *serial, *token_type, *user, *realm, *resolver;
	const char *administrator, *action_detail, *info, *policies;
	const char *client, *user_agent, *user_agent_version;
	double start;              /* epoch seconds */
	double duration;           /* seconds */
	unsigned long thread_id;
};

int audit_write(struct app *app, struct db_conn *c, const struct audit_record *r, struct error *err);
/* "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) of an epoch time. */
void audit_format_time(double t, char *buf, unsigned len);

#endif
