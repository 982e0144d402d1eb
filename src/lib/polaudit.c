/*
 * polaudit.c — see polaudit.h.  No evaluation of its own: it only
 * redirects polctx's audit bookkeeping.
 */
#include "polaudit.h"

#include <stdio.h>
#include <string.h>

const struct polctx *polaudit_quiet(struct polaudit *qa, const struct polctx *pol)
{
	qa->names[0] = '\0';
	if (!pol)
		return NULL;
	qa->p = *pol;
	qa->p.audit = qa->names;
	qa->p.audit_len = sizeof(qa->names);
	return &qa->p;
}

void polaudit_commit(const struct polaudit *qa, const struct polctx *pol)
{
	if (!pol || !pol->audit)
		return;
	char name[512];
	for (const char *s = qa->names; *s;) {
		size_t n = strcspn(s, ",");
		snprintf(name, sizeof(name), "%.*s", (int)n, s);
		policy_audit_add(pol->audit, pol->audit_len, name);
		s += n;
		if (*s == ',')
			s++;
	}
}

const char *polaudit_first(const struct polaudit *qa, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(qa->names, ","), qa->names);
	return buf;
}
