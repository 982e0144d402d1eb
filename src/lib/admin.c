/*
 * admin.c — see admin.h.  Password checks go through crypto's verifier;
 * nothing here logs or stores a clear-text password.
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "crypto.h"
#include "../db/store.h"

int admin_authenticate(struct app *app, struct db_conn *c, const char *username, const char *password,
		       struct error *err)
{
	struct store_admin a;
	int rc = store_admin_get(c, username, &a, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		crypto_dummy_verify(app->pepper, password ? password : "");
		return 0;
	}
	int ok = crypto_verify_admin_password(app->pepper, password ? password : "", a.password);
	memset(&a, 0, sizeof(a));
	return ok == 1 ? 1 : 0;
}

int admin_set(struct app *app, struct db_conn *c, const char *username, const char *email,
	      const char *password, struct error *err)
{
	if (!username || !*username)
		return err_param(err, "the admin name must not be empty");
	if (strlen(username) > 120)
		return err_param(err, "the admin name is longer than 120 characters");
	char *hash = crypto_hash_admin_password(app->pepper, password, err);
	if (!hash)
		return -1;
	int rc = store_admin_put(c, username, email, hash, err);
	crypto_free_str(hash);
	return rc;
}

int admin_change(struct app *app, struct db_conn *c, const char *username, const char *email,
		 const char *password, struct error *err)
{
	struct store_admin a;
	int rc = store_admin_get(c, username, &a, err);
	if (rc != 0)
		return rc;
	char *hash = NULL;
	if (password) {
		hash = crypto_hash_admin_password(app->pepper, password, err);
		if (!hash)
			return -1;
	}
	rc = store_admin_put(c, username, email, hash ? hash : a.password, err);
	if (hash)
		crypto_free_str(hash);
	memset(&a, 0, sizeof(a));
	return rc;
}

int admin_delete(struct db_conn *c, const char *username, struct error *err)
{
	return store_admin_delete(c, username, err);
}
