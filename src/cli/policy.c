/*
 * policy.c — `tessera policy ...`, pi-manage's policy commands: list,
 * enable, disable, delete, create, p_export, p_import.  They work on the
 * database directly (the server need not run); every change bumps the
 * configuration timestamp, so running servers pick it up.
 *
 * It must not validate or parse policies itself: src/lib/policy*.c does.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../db/store_policy.h"
#include "../lib/app.h"
#include "../lib/policy.h"

static const char POLICY_USAGE[] =
	"usage: tessera [--config FILE] policy list\n"
	"       tessera [--config FILE] policy enable NAME | disable NAME | delete NAME\n"
	"       tessera [--config FILE] policy create NAME SCOPE ACTION [FILE | -f FILE]\n"
	"       tessera [--config FILE] policy p_export [-f|--filename FILE] [-n|--name NAME]\n"
	"       tessera [--config FILE] policy p_import -f|--filename FILE [-c|--cleanup] [-u|--update]\n"
	"  create: FILE holds a Python dict (name, scope, action, realm, resolver, user, time, client,\n"
	"          active, adminrealm, adminuser, check_all_resolvers ...); its values win.\n"
	"  p_export writes {'policy': [...]} (stdout without a file); p_import reads it, skipping\n"
	"  existing policies unless --update; --cleanup deletes every policy first.\n";

#define MAX_FILE (16 * 1024 * 1024)

static char *read_file(const char *path, struct error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		err_param(err, "cannot open %s", path);
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (len + 1 >= cap) {
			if (cap >= MAX_FILE) {
				free(buf);
				buf = NULL;
				err_param(err, "%s is larger than %d bytes", path, MAX_FILE);
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0) {
			buf[len] = '\0';
			break;
		}
	}
	fclose(f);
	if (!buf && !err_is_set(err))
		err_internal(err, "out of memory");
	return buf;
}

/* The policies as stored, compiled (for list and p_export). */
static struct policy_set *load_set(struct db_conn *c, struct error *err)
{
	struct store_policy *rows;
	size_t n;
	if (store_policy_list(c, &rows, &n, err) < 0)
		return NULL;
	struct policy_set *ps = policy_set_build(rows, n, err);
	store_policy_list_free(rows, n);
	return ps;
}

static int cmd_list(struct db_conn *c, struct error *err)
{
	struct policy_set *ps = load_set(c, err);
	if (!ps)
		return -1;
	json_t *all = policy_list(ps, NULL, NULL, NULL, -1);
	printf("Active \t Name \t Scope\n");
	printf("========================================\n");
	size_t i;
	json_t *p;
	json_array_foreach(all, i, p)
	{
		printf("%s \t %s \t %s\n", json_is_true(json_object_get(p, "active")) ? "True" : "False",
		       json_string_value(json_object_get(p, "name")), json_string_value(json_object_get(p, "scope")));
	}
	json_decref(all);
	policy_set_free(ps);
	return 0;
}

static int cmd_export(struct db_conn *c, const char *file, const char *name, struct error *err)
{
	struct policy_set *ps = load_set(c, err);
	if (!ps)
		return -1;
	char *text = policy_export_pylist(ps, name);
	policy_set_free(ps);
	if (!text)
		return err_internal(err, "out of memory");
	FILE *f = file ? fopen(file, "w") : stdout;
	int rc = 0;
	if (!f || fputs(text, f) < 0)
		rc = err_param(err, "cannot write %s", file ? file : "stdout");
	if (f && f != stdout && fclose(f) != 0 && rc == 0)
		rc = err_param(err, "cannot write %s", file);
	free(text);
	return rc;
}

/* pi-manage's file: {'policy': [...]} or (older) a bare list. */
static json_t *policies_of(json_t *data, struct error *err)
{
	json_t *list = json_is_object(data) ? json_object_get(data, "policy") : data;
	if (!json_is_array(list)) {
		err_param(err, "the file holds no policy list ({'policy': [...]})");
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(list); i++)
		if (!json_is_object(json_array_get(list, i)) ||
		    !json_is_string(json_object_get(json_array_get(list, i), "name"))) {
			err_param(err, "policy %zu in the file is not a dict with a name", i + 1);
			return NULL;
		}
	return list;
}

static int cmd_import(struct db_conn *c, const char *file, int cleanup, int update, struct error *err)
{
	char *text = read_file(file, err);
	if (!text)
		return -1;
	json_t *data = policy_pyliteral_parse(text, err);
	free(text);
	json_t *list = data ? policies_of(data, err) : NULL;
	if (!list) {
		json_decref(data);
		return -1;
	}
	/* What happened is reported once the import is committed: a failing
	 * policy rolls everything back, so nothing may look imported. */
	char *report = NULL;
	size_t report_len = 0;
	FILE *out = open_memstream(&report, &report_len);
	if (!out) {
		json_decref(data);
		return err_internal(err, "out of memory");
	}
	fprintf(out, "Importing policy from %s\n", file);
	int rc = db_begin_write(c, err);
	if (rc == 0 && cleanup) {
		fprintf(out, "Cleanup old policies.\n");
		struct store_policy *rows = NULL;
		size_t n = 0;
		rc = store_policy_list(c, &rows, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			int64_t id = 0;
			rc = policy_delete(c, rows[i].name, &id, err);
			if (rc == 0)
				fprintf(out, "Deleted policy %s with result %lld\n", rows[i].name, (long long)id);
		}
		store_policy_list_free(rows, n);
	}
	for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
		json_t *p = json_array_get(list, i);
		const char *name = json_string_value(json_object_get(p, "name"));
		struct store_policy old;
		int exists = store_policy_get(c, name, &old, err);
		if (exists < 0) {
			rc = -1;
			break;
		}
		store_policy_clear(&old);
		exists = exists == 0;
		if (exists && !update) {
			fprintf(out, "Policy %s exists and -u is not specified, skipping import.\n", name);
			continue;
		}
		json_t *fields = json_deep_copy(p);
		json_object_del(fields, "name");
		int64_t id = 0;
		rc = policy_write(c, name, fields, 0, &id, err);
		json_decref(fields);
		if (rc == 0)
			fprintf(out, "%s policy %s with result %lld\n", exists ? "Updated" : "Added", name,
				(long long)id);
	}
	json_decref(data);
	if (rc == 0)
		rc = db_commit(c, err);
	fclose(out);
	if (rc == 0)
		fputs(report, stdout);
	free(report);
	return rc;
}

static int cmd_create(struct db_conn *c, const char *name, const char *scope, const char *action, const char *file,
		      struct error *err)
{
	json_t *fields;
	if (file) {
		char *text = read_file(file, err);
		if (!text)
			return -1;
		fields = policy_pyliteral_parse(text, err);
		free(text);
		if (!fields)
			return -1;
		if (!json_is_object(fields)) {
			json_decref(fields);
			return err_param(err, "%s must hold a dict", file);
		}
		const char *fname = json_string_value(json_object_get(fields, "name"));
		if (fname && strcmp(fname, name)) {
			printf("Found name '%s' in file, will use that instead of '%s'.\n", fname, name);
			name = fname;
		} else {
			printf("name not defined in file, will use the cli value %s.\n", name);
		}
		const char *keys[] = { "scope", "action" }, *cli[] = { scope, action };
		for (int i = 0; i < 2; i++) {
			json_t *v = json_object_get(fields, keys[i]);
			if (v && !(json_is_string(v) && !strcmp(json_string_value(v), cli[i]))) {
				printf("Found %s in file, will use that instead of '%s'.\n", keys[i], cli[i]);
			} else {
				printf("%s not defined in file, will use the cli value %s.\n", keys[i], cli[i]);
				json_object_set_new(fields, keys[i], json_string(cli[i]));
			}
		}
	} else {
		fields = json_pack("{s:s,s:s}", "scope", scope, "action", action);
	}
	char *pname = strdup(name);
	json_object_del(fields, "name");
	int64_t id = 0;
	int rc = pname ? db_begin_write(c, err) : err_internal(err, "out of memory");
	if (rc == 0)
		rc = policy_write(c, pname, fields, 0, &id, err);
	if (rc == 0)
		rc = db_commit(c, err);
	if (rc == 0)
		printf("%lld\n", (long long)id);
	free(pname);
	json_decref(fields);
	return rc;
}

static int one_change(struct db_conn *c, const char *sub, const char *name, struct error *err)
{
	int64_t id = 0;
	int rc = db_begin_write(c, err);
	if (rc == 0 && !strcmp(sub, "delete"))
		rc = policy_delete(c, name, &id, err);
	else if (rc == 0)
		rc = policy_enable(c, name, !strcmp(sub, "enable"), &id, err);
	if (rc == 0)
		rc = db_commit(c, err);
	if (rc == 0)
		printf("%lld\n", (long long)id);
	return rc;
}

int cli_policy(const char *config, int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fputs(POLICY_USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1], *file = NULL, *name = NULL, *pos[4] = { 0 };
	int npos = 0, cleanup = 0, update = 0;
	for (int i = 2; i < argc; i++) {
		if ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--filename")) && i + 1 < argc)
			file = argv[++i];
		else if (!strncmp(argv[i], "--filename=", 11))
			file = argv[i] + 11;
		else if ((!strcmp(argv[i], "-n") || !strcmp(argv[i], "--name")) && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--cleanup"))
			cleanup = 1;
		else if (!strcmp(argv[i], "-u") || !strcmp(argv[i], "--update"))
			update = 1;
		else if (npos < 4 && (argv[i][0] != '-' || !argv[i][1]))
			pos[npos++] = argv[i];
		else
			return cli_fail("policy %s: unexpected argument '%s'", sub, argv[i]);
	}
	int want; /* positional arguments of the subcommand */
	if (!strcmp(sub, "list") || !strcmp(sub, "p_export") || !strcmp(sub, "p_import"))
		want = 0;
	else if (!strcmp(sub, "enable") || !strcmp(sub, "disable") || !strcmp(sub, "delete"))
		want = 1;
	else if (!strcmp(sub, "create"))
		want = 3;
	else
		return cli_fail("policy: unknown subcommand '%s' (list, enable, disable, delete, create, p_export, "
				"p_import)",
				sub);
	if (want == 3 && npos == 4 && !file)
		file = pos[--npos];
	if (npos != want)
		return cli_fail("policy %s: %s", sub,
				want ? "wrong number of arguments (see --help)" : "takes no positional arguments");
	if (!strcmp(sub, "p_import") && !file)
		return cli_fail("policy p_import: --filename is missing");

	struct error err = { 0 };
	struct app *app = app_open(config, APP_NEED_DB | APP_MIGRATED, 2, &err);
	if (!app)
		return cli_fail("%s", err.message);
	struct db_conn *c = db_acquire(app->db, &err);
	int rc = c ? 0 : -1;
	if (rc == 0) {
		if (!strcmp(sub, "list"))
			rc = cmd_list(c, &err);
		else if (!strcmp(sub, "p_export"))
			rc = cmd_export(c, file, name, &err);
		else if (!strcmp(sub, "p_import"))
			rc = cmd_import(c, file, cleanup, update, &err);
		else if (!strcmp(sub, "create"))
			rc = cmd_create(c, pos[0], pos[1], pos[2], file, &err);
		else
			rc = one_change(c, sub, pos[0], &err);
	}
	if (c)
		db_release(c);
	app_close(app);
	return rc < 0 ? cli_fail("%s", err.message) : 0;
}
