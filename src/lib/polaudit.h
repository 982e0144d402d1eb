/*
 * polaudit.h — policy questions whose matched names go to the audit row
 * only when the answer is used (privacyIDEA's write_to_audit_log=False
 * followed by a later audit_object.add_policy).
 *
 *     struct polaudit qa;
 *     int rc = polctx_value(polaudit_quiet(&qa, x->pol), &q, 0, &v, err);
 *     if (rc == 1 && used) polaudit_commit(&qa, x->pol);
 */
#ifndef TESSERA_POLAUDIT_H
#define TESSERA_POLAUDIT_H

#include <stddef.h>

#include "polctx.h"

struct polaudit {
	struct polctx p;
	char names[512]; /* comma-separated policy names the questions matched */
};

/* A copy of pol that records names into qa instead of the audit row; NULL
 * when pol is NULL (every question then finds nothing). */
const struct polctx *polaudit_quiet(struct polaudit *qa, const struct polctx *pol);
/* Add the recorded names to pol's audit field. */
void polaudit_commit(const struct polaudit *qa, const struct polctx *pol);
/* The first recorded name into buf ("" when none). */
const char *polaudit_first(const struct polaudit *qa, char *buf, size_t len);

#endif
