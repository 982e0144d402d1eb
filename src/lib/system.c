/*
 * system.c — the configuration documentation, name lists and random
 * material of the /system endpoints (system.h).
 *
 * It must not print a secret: PI_PEPPER, passwords, keys and database
 * URIs of pi.cfg are redacted, password settings censored.
 */
#include "system.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "crypto.h"
#include "sysconfig.h"
#include "../db/store.h"
#include "../db/store_system.h"

/* pi.cfg keys whose values are secrets or may hold credentials. */
static int cfg_secret(const char *key)
{
	static const char *const words[] = { "PEPPER", "PASSWORD", "PASSWD", "SECRET", "URI", "TOKEN", "PIN", NULL };
	for (const char *const *w = words; *w; w++)
		if (strcasestr(key, *w))
			return 1;
	return 0;
}

static int admin_line(void *ctx, const struct store_admin *a)
{
	fprintf((FILE *)ctx, "* **%s** <%s>\n", a->username, a->email);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_settings(FILE *f, const struct snapshot *s)
{
	json_t *view = sysconfig_view(s, 1);
	size_t n = json_object_size(view), i = 0;
	const char **keys = n ? calloc(n, sizeof(*keys)) : NULL;
	const char *k;
	json_t *v;
	json_object_foreach(view, k, v)
	{
		if (keys)
			keys[i++] = k;
	}
	if (keys) {
		qsort(keys, n, sizeof(*keys), cmp_str);
		for (i = 0; i < n; i++) {
			const char *val = json_string_value(json_object_get(view, keys[i]));
			fprintf(f, "%s: **%s**\n\n", keys[i], val ? val : "");
		}
	}
	free(keys);
	json_decref(view);
}

char *system_documentation(struct app *app, struct db_conn *c, const struct snapshot *s, struct error *err)
{
	char *text = NULL, host[256] = "", date[32] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		err_internal(err, "out of memory");
		return NULL;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "%s", "unknown");
	host[sizeof(host) - 1] = '\0';
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm))
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);

	fputs("privacyIDEA configuration documentation\n"
	      "=======================================\n\n",
	      f);
	fprintf(f, "* System: %s\n* Date: %s\n* Server: %s\n\n", host, date, app_version());

	fputs("PI.cfg\n------\n\n", f);
	for (size_t i = 0; i < cfg_count(app->cfg); i++) {
		const char *k = cfg_key_at(app->cfg, i);
		if (!k)
			continue;
		if (!strncmp(k, "PI_", 3) || !strcmp(k, "SUPERUSER_REALM")) {
			if (cfg_secret(k))
				fprintf(f, "%s: **redacted**\n\n", k);
			else
				fprintf(f, "%s: **%s**\n\n", k, cfg_get_str(app->cfg, k, ""));
		}
	}
	fputs("For security reasons the SQL URI is not displayed, as it may contain the\n"
	      "database credentials.\n\n",
	      f);

	fputs("Local Admins\n------------\n"
	      "In addition to the SUPERUSER_REALM there are local administrators stored in\n"
	      "the database. The following administrators are defined:\n\n",
	      f);
	int rc = store_admin_list(c, admin_line, f, err);
	fputs("\nSystem Base Configuration\n-------------------------\n\n", f);
	write_settings(f, s);
	fputs("Resolvers, realms, policies and CA connectors are listed by their own\n"
	      "endpoints (/resolver/, /realm/, /policy/, /caconnector/).\n",
	      f);
	if (fclose(f) != 0 && rc == 0)
		rc = err_internal(err, "out of memory");
	if (rc < 0) {
		free(text);
		return NULL;
	}
	return text;
}

json_t *system_radius_names(struct db_conn *c, struct error *err)
{
	json_t *out = NULL;
	return store_radiusserver_identifiers(c, &out, err) < 0 ? NULL : out;
}

json_t *system_caconnector_names(struct db_conn *c, struct error *err)
{
	json_t *rows = NULL;
	if (store_caconnector_names(c, &rows, err) < 0)
		return NULL;
	json_t *out = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r)
	{
		json_array_append_new(out, json_pack("{s:O,s:O,s:{},s:{}}", "connectorname", json_object_get(r, "name"),
						     "type", json_object_get(r, "type"), "data", "templates"));
	}
	json_decref(rows);
	return out;
}

char *system_random(size_t len, int b64, struct error *err)
{
	if (len > SYSTEM_RANDOM_MAX) {
		err_param(err, "Parameter 'len' must be an integer from 0 to %d.", SYSTEM_RANDOM_MAX);
		return NULL;
	}
	unsigned char *buf = malloc(len ? len : 1);
	char *out = NULL;
	if (!buf || crypto_random(buf, len) < 0) {
		err_internal(err, "random generator failed");
		goto out;
	}
	out = b64 ? crypto_b64_encode(buf, len) : crypto_hex_encode(buf, len);
	if (!out)
		err_internal(err, "out of memory");
out:
	if (buf)
		crypto_free_secret(buf, len);
	return out;
}
