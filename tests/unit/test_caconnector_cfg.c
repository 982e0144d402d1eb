/*
 * test_caconnector_cfg.c — unit tests of lib/caconnector_cfg.c that the REST
 * tests cannot see: the SNAP_CACONNECTORS part of the configuration
 * snapshot hands a connector's live instance on to the next snapshot while
 * its definition is unchanged (so the local CA keeps its loaded key), builds
 * a new one when it changes, keeps an instance alive for as long as any
 * snapshot holding it, and never fails a snapshot for a broken definition.
 *
 * Runs on a fresh SQLite file in a temporary directory; no CA files are
 * needed (instances open their files on first use).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/store.h"
#include "db/store_caconnector.h"
#include "lib/app.h"
#include "lib/caconnector_cfg.h"
#include "lib/crypto.h"
#include "lib/snapshot.h"

struct fx {
	char dir[PATH_MAX];
	struct app app;
	struct db_conn *c;
};

static void fail_err(const char *what, const struct error *e)
{
	fail_msg("%s failed: kind %d code %d: %s", what, e->kind, e->code, e->message);
}

static int setup(void **state)
{
	struct error e = { 0 };
	char uri[PATH_MAX + 32], key[PATH_MAX + 16];
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tessera-cacfg-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(uri, sizeof(uri), "sqlite:///%s/t.db", fx->dir);
	snprintf(key, sizeof(key), "%s/enckey", fx->dir);
	if (!(fx->app.db = db_open(uri, 2, &e)) || db_migrate(fx->app.db, &e) < 0 ||
	    crypto_create_enckey(key, NULL, &e) < 0 || !(fx->app.enckey = crypto_load_enckey(key, &e)))
		fail_err("setup", &e);
	fx->app.snapshots = snapshot_holder_new();
	assert_non_null(fx->app.snapshots);
	if (!(fx->c = db_acquire(fx->app.db, &e)))
		fail_err("db_acquire", &e);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[PATH_MAX + 16];
	db_release(fx->c);
	snapshot_holder_free(fx->app.snapshots);
	crypto_free_enckey(fx->app.enckey);
	db_close(fx->app.db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* POST /caconnector/<name> with the given key/value pairs (NULL-terminated). */
static int64_t save(struct fx *fx, const char *name, ...)
{
	struct error e = { 0 };
	json_t *p = json_pack("{s:s,s:s}", "caconnector", name, "type", "local");
	va_list ap;
	int64_t id = 0;
	va_start(ap, name);
	for (const char *k; (k = va_arg(ap, const char *));)
		json_object_set_new(p, k, json_string(va_arg(ap, const char *)));
	va_end(ap);
	if (db_begin_write(fx->c, &e) < 0 || caconnector_save(&fx->app, fx->c, p, &id, &e) < 0 ||
	    db_commit(fx->c, &e) < 0)
		fail_err("caconnector_save", &e);
	json_decref(p);
	/* the timestamp has microseconds: make sure the next change is newer */
	usleep(2000);
	return id;
}

static struct snapshot *snap(struct fx *fx)
{
	struct error e = { 0 };
	struct snapshot *s = snapshot_acquire(&fx->app, fx->c, &e);
	if (!s)
		fail_err("snapshot_acquire", &e);
	return s;
}

static void test_instance_reused_while_unchanged(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	save(fx, "caA", "cakey", "/nowhere/a.key", "cacert", "/nowhere/a.pem", "cakey_password", "pw-A", NULL);
	save(fx, "caB", "cakey", "/nowhere/b.key", "cacert", "/nowhere/b.pem", NULL);
	struct snapshot *s1 = snap(fx);
	struct caconnector *a1 = caconnector_get(s1, "caA", &e), *b1 = caconnector_get(s1, "caB", &e);
	assert_non_null(a1);
	assert_non_null(b1);
	assert_ptr_equal(caconnector_get(s1, "CAa", NULL), a1); /* case-insensitive fallback */

	/* B changes: a new snapshot, A's instance handed on, B's rebuilt */
	save(fx, "caB", "CRL_Overlap_Period", "4", NULL);
	struct snapshot *s2 = snap(fx);
	assert_ptr_not_equal(s1, s2);
	assert_ptr_equal(caconnector_get(s2, "caA", &e), a1);
	struct caconnector *b2 = caconnector_get(s2, "caB", &e);
	assert_non_null(b2);
	assert_ptr_not_equal(b2, b1);

	/* writing back the censored password changes nothing of A either */
	save(fx, "caA", "cakey_password", "__CENSORED__", NULL);
	struct snapshot *s3 = snap(fx);
	assert_ptr_equal(caconnector_get(s3, "caA", &e), a1);
	assert_ptr_equal(caconnector_get(s3, "caB", &e), b2);

	/* the old snapshots go; the shared instance stays usable (ASan would tell) */
	snapshot_release(s1);
	snapshot_release(s2);
	assert_string_equal(caconnector_get(s3, "caA", &e)->name, "caA");

	/* a new password is a new definition */
	save(fx, "caA", "cakey_password", "pw-A2", NULL);
	struct snapshot *s4 = snap(fx);
	assert_ptr_not_equal(caconnector_get(s4, "caA", &e), a1);
	snapshot_release(s3);
	snapshot_release(s4);
}

static void test_broken_definition_does_not_fail_the_snapshot(void **state)
{
	struct fx *fx = *state;
	struct error e = { 0 };
	int64_t id = save(fx, "good", "cakey", "/nowhere/a.key", "cacert", "/nowhere/a.pem", NULL);
	/* written by another program: no cacert, and an unknown type */
	if (store_caconnector_insert(fx->c, "odd", "remote", &id, &e) < 0 ||
	    store_caconnector_insert(fx->c, "incomplete", "local", &id, &e) < 0 ||
	    store_caconnector_config_put(fx->c, id, "cakey", "/x", "string", "", &e) < 0 ||
	    store_config_touch(fx->c, &e) < 0)
		fail_err("insert", &e);
	struct snapshot *s = snap(fx);
	assert_non_null(caconnector_get(s, "good", &e));
	assert_null(caconnector_get(s, "incomplete", &e));
	assert_int_equal(e.code, ERR_CA);
	assert_string_equal(e.message, "The CA connector incomplete cannot be used: required argument 'cacert' is missing.");
	assert_null(caconnector_get(s, "odd", &e));
	assert_int_equal(e.code, ERR_CA);
	assert_null(caconnector_get(s, "missing", &e));
	assert_int_equal(e.kind, ERRK_NOTFOUND);
	assert_int_equal(e.code, ERR_NOTFOUND);
	/* all three are listed */
	json_t *list = caconnector_list(s, NULL);
	assert_int_equal(json_array_size(list), 3);
	json_decref(list);
	snapshot_release(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_instance_reused_while_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_definition_does_not_fail_the_snapshot, setup, teardown),
	};
	return cmocka_run_group_tests_name("caconnector_cfg", tests, NULL, NULL);
}
