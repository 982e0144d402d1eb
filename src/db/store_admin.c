/*
 * store_admin.c — privacyIDEA's `admin` table: the local administrators
 * (username, password hash, email).
 *
 * One function per query, on a borrowed connection.  It stores and returns
 * the hash as given: hashing and verifying passwords is lib/admin.c's job,
 * and no hash ever goes into an error message.
 */
#include "store.h"

#include <string.h>

/* Copy a column into a fixed field; a value that does not fit is an error,
 * never silently cut (a truncated hash would lock the admin out). */
static int admin_field(char *dst, size_t size, const char *src, const char *name, struct error *err)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= size)
		return err_internal(err, "admin %s in the database is longer than %zu bytes", name, size - 1);
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static int admin_fill(struct db_res *r, struct store_admin *a, struct error *err)
{
	memset(a, 0, sizeof(*a));
	if (admin_field(a->username, sizeof(a->username), db_res_text(r, 0), "name", err) < 0 ||
	    admin_field(a->email, sizeof(a->email), db_res_text(r, 1), "email", err) < 0 ||
	    admin_field(a->password, sizeof(a->password), db_res_text(r, 2), "password hash", err) < 0)
		return -1;
	return 0;
}

int store_admin_get(struct db_conn *c, const char *username, struct store_admin *out, struct error *err)
{
	struct db_res *r;
	struct db_param p[] = { DB_TEXT(username) };
	if (!username)
		return err_internal(err, "store_admin_get: no username");
	if (db_query(c, "SELECT username, email, password FROM admin WHERE username = ?", p, 1, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	if (rc == 1)
		rc = admin_fill(r, out, err);
	else if (rc == 0)
		rc = 1;
	db_res_free(r);
	return rc;
}

static int admin_check_len(const char *v, size_t size, const char *name, struct error *err)
{
	if (v && strlen(v) >= size)
		return err_param(err, "The admin %s is longer than %zu characters", name, size - 1);
	return 0;
}

int store_admin_put(struct db_conn *c, const char *username, const char *email, const char *hash,
		    struct error *err)
{
	struct store_admin *a = NULL; /* only for the field sizes */
	if (!username || !*username)
		return err_internal(err, "store_admin_put: no username");
	if (admin_check_len(username, sizeof(a->username), "name", err) < 0 ||
	    admin_check_len(email, sizeof(a->email), "email", err) < 0 ||
	    admin_check_len(hash, sizeof(a->password), "password hash", err) < 0)
		return -1;
	struct db_param p[] = { DB_TEXT(username), DB_TEXT(hash), DB_TEXT(email) };
	return db_exec(c,
		       "INSERT INTO admin (username, password, email) VALUES (?, ?, ?) "
		       "ON CONFLICT (username) DO UPDATE SET "
		       "password = COALESCE(excluded.password, admin.password), "
		       "email = COALESCE(excluded.email, admin.email)",
		       p, 3, NULL, err);
}

int store_admin_delete(struct db_conn *c, const char *username, struct error *err)
{
	int64_t n = 0;
	struct db_param p[] = { DB_TEXT(username) };
	if (!username)
		return err_internal(err, "store_admin_delete: no username");
	if (db_exec(c, "DELETE FROM admin WHERE username = ?", p, 1, &n, err) < 0)
		return -1;
	return n > 0 ? 0 : 1;
}

int store_admin_list(struct db_conn *c, int (*fn)(void *ctx, const struct store_admin *a), void *ctx,
		     struct error *err)
{
	struct db_res *r;
	struct store_admin a;
	if (db_query(c, "SELECT username, email, password FROM admin ORDER BY username", NULL, 0, &r, err) < 0)
		return -1;
	int rc;
	while ((rc = db_res_next(r, err)) == 1) {
		if (admin_fill(r, &a, err) < 0) {
			rc = -1;
			break;
		}
		if (fn(ctx, &a) != 0) {
			rc = 0;
			break;
		}
	}
	memset(&a, 0, sizeof(a));
	db_res_free(r);
	return rc < 0 ? -1 : 0;
}
