/*
 * snapshot.h — the read-mostly configuration snapshot.
 *
 * Everything an administrator configures through the API (system
 * settings, resolvers and realms, policies, CA connectors ...) is read
 * from the database into one immutable, reference-counted snapshot.
 * Requests take a reference for their whole lifetime and never see a
 * half-applied change.  Every configuration write bumps the database's
 * `__timestamp__` (store_config_touch) in the same transaction; the next
 * request in any process sees a different timestamp and builds a new
 * snapshot (privacyIDEA's PI_CHECK_RELOAD_CONFIG mechanism), so several
 * tessera processes on one PostgreSQL database agree.
 *
 * A snapshot is made of parts, one per subsystem, each loaded by its
 * module through a struct snapshot_part_ops listed in snapshot.c.  A
 * part's loader receives the previous snapshot's part so it can reuse
 * what did not change (e.g. live LDAP connection pools).
 */
#ifndef TESSERA_SNAPSHOT_H
#define TESSERA_SNAPSHOT_H

#include "error.h"

struct app;
struct db_conn;

enum snapshot_part {
	SNAP_SYSCONFIG = 0, /* sysconfig.c: the `config` table */
	SNAP_USERSTORE,     /* realm.c: resolvers, realms, the default realm */
	SNAP_POLICIES,      /* policy.c: compiled policies */
	SNAP_CACONNECTORS,  /* caconnector instances */
	SNAP_PARTS
};

struct snapshot_part_ops {
	const char *name;
	/* Build the part; `previous` is the old snapshot's part (or NULL). */
	void *(*load)(struct app *app, struct db_conn *c, const void *previous, struct error *err);
	void (*free)(void *part);
};

struct snapshot;

/* A reference to the current snapshot, rebuilt first when the database
 * timestamp changed.  NULL + err on failure. */
struct snapshot *snapshot_acquire(struct app *app, struct db_conn *c, struct error *err);
void snapshot_release(struct snapshot *s);
/* The part, or NULL when its module is not linked in / failed softly. */
const void *snapshot_part(const struct snapshot *s, enum snapshot_part p);
const char *snapshot_timestamp(const struct snapshot *s);

/* Process-wide state (the current snapshot), created by app_open. */
struct snapshot_holder;
struct snapshot_holder *snapshot_holder_new(void);
void snapshot_holder_free(struct snapshot_holder *h);

#endif
