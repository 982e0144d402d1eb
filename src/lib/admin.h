/*
 * admin.h — local administrators (privacyIDEA's `admin` table, managed
 * with `pi-manage admin` / `tessera admin`).
 */
#ifndef TESSERA_ADMIN_H
#define TESSERA_ADMIN_H

#include "error.h"

struct app;
struct db_conn;

/* 1 = name and password match a local admin, 0 = they do not (unknown
 * admins cost the same time as wrong passwords), -1 = error. */
int admin_authenticate(struct app *app, struct db_conn *c, const char *username, const char *password,
		       struct error *err);
/* Create or update (password hashed with PI_PEPPER); email may be NULL. */
int admin_set(struct app *app, struct db_conn *c, const char *username, const char *email,
	      const char *password, struct error *err);
/* 0 = changed, 1 = no such admin. email NULL keeps it, password NULL keeps it. */
int admin_change(struct app *app, struct db_conn *c, const char *username, const char *email,
		 const char *password, struct error *err);
/* 0 = deleted, 1 = no such admin. */
int admin_delete(struct db_conn *c, const char *username, struct error *err);

#endif
