/*
 * audit.c — see audit.h.
 */
#include "audit.h"

#include <stdio.h>
#include <time.h>

#include "app.h"
#include "../db/store.h"

void audit_format_time(double t, char *buf, unsigned len)
{
	time_t sec = (time_t)t;
	long usec = (long)((t - (double)sec) * 1e6);
	if (usec < 0)
		usec = 0;
	if (usec > 999999)
		usec = 999999;
	struct tm tm;
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%06ld", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

int audit_write(struct app *app, struct db_conn *c, const struct audit_record *r, struct error *err)
{
	char date[96], start[96], tid[32];
	audit_format_time(r->start + r->duration, date, sizeof(date));
	audit_format_time(r->start, start, sizeof(start));
	snprintf(tid, sizeof(tid), "%lu", r->thread_id);
	struct store_audit a = {
		.date = date,
		.startdate = start,
		.duration = r->duration,
		.signature = "",
		.action = r->action,
		.success = r->success,
		.authentication = r->authentication ? r->authentication : "",
		.serial = r->serial,
		.token_type = r->token_type,
		.user = r->user,
		.realm = r->realm,
		.resolver = r->resolver,
		.administrator = r->administrator,
		.action_detail = r->action_detail,
		.info = r->info,
		.privacyidea_server = app->node,
		.client = r->client,
		.user_agent = r->user_agent,
		.user_agent_version = r->user_agent_version,
		.loglevel = "",
		.clearance_level = "",
		.policies = r->policies,
		.thread_id = tid,
		.container_serial = "",
		.container_type = "",
	};
	return store_audit_insert(c, &a, NULL, err);
}
