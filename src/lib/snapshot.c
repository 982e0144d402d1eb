/*
 * snapshot.c — building and swapping configuration snapshots (snapshot.h).
 */
#include "snapshot.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "../db/store.h"

/* The parts, in enum order: one line per subsystem (its module defines
 * the ops).  A part not listed yet stays NULL in every snapshot. */
extern const struct snapshot_part_ops sysconfig_snapshot_ops;
extern const struct snapshot_part_ops policy_snapshot_ops;
extern const struct snapshot_part_ops userstore_snapshot_ops;
extern const struct snapshot_part_ops caconnector_snapshot_ops; /* caconnector_cfg.c */

static const struct snapshot_part_ops *const parts[SNAP_PARTS] = {
	[SNAP_SYSCONFIG] = &sysconfig_snapshot_ops,
	[SNAP_POLICIES] = &policy_snapshot_ops,
	[SNAP_USERSTORE] = &userstore_snapshot_ops,
	[SNAP_CACONNECTORS] = &caconnector_snapshot_ops,
};

static const struct snapshot_part_ops *part_ops(enum snapshot_part p)
{
	return p < SNAP_PARTS ? parts[p] : NULL;
}

struct snapshot {
	atomic_int refs;
	char *timestamp;
	void *part[SNAP_PARTS];
};

struct snapshot_holder {
	pthread_mutex_t lock;
	struct snapshot *current;
};

struct snapshot_holder *snapshot_holder_new(void)
{
	struct snapshot_holder *h = calloc(1, sizeof(*h));
	if (h)
		pthread_mutex_init(&h->lock, NULL);
	return h;
}

static void snapshot_free(struct snapshot *s)
{
	for (int i = 0; i < SNAP_PARTS; i++) {
		const struct snapshot_part_ops *ops = part_ops((enum snapshot_part)i);
		if (ops && s->part[i])
			ops->free(s->part[i]);
	}
	free(s->timestamp);
	free(s);
}

void snapshot_release(struct snapshot *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1)
		snapshot_free(s);
}

void snapshot_holder_free(struct snapshot_holder *h)
{
	if (!h)
		return;
	snapshot_release(h->current);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

const void *snapshot_part(const struct snapshot *s, enum snapshot_part p)
{
	return s && p < SNAP_PARTS ? s->part[p] : NULL;
}

const char *snapshot_timestamp(const struct snapshot *s)
{
	return s->timestamp;
}

static struct snapshot *snapshot_load(struct app *app, struct db_conn *c, const struct snapshot *prev,
				      char *timestamp, struct error *err)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	if (!s) {
		free(timestamp);
		err_internal(err, "out of memory");
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->timestamp = timestamp;
	for (int i = 0; i < SNAP_PARTS; i++) {
		const struct snapshot_part_ops *ops = part_ops((enum snapshot_part)i);
		if (!ops)
			continue;
		s->part[i] = ops->load(app, c, prev ? prev->part[i] : NULL, err);
		if (!s->part[i]) {
			log_error("loading the %s configuration failed: %s", ops->name, err ? err->message : "");
			snapshot_free(s);
			return NULL;
		}
	}
	return s;
}

struct snapshot *snapshot_acquire(struct app *app, struct db_conn *c, struct error *err)
{
	struct snapshot_holder *h = app->snapshots;
	char *ts = NULL;
	if (store_config_timestamp(c, &ts, err) < 0)
		return NULL;
	pthread_mutex_lock(&h->lock);
	struct snapshot *cur = h->current;
	if (cur && strcmp(cur->timestamp, ts) == 0) {
		atomic_fetch_add(&cur->refs, 1);
		pthread_mutex_unlock(&h->lock);
		free(ts);
		return cur;
	}
	/* Build under the lock: reloads are rare, and one build at a time
	 * keeps expensive parts (connection pools) from being built twice. */
	struct snapshot *s = snapshot_load(app, c, cur, ts, err);
	if (!s) {
		pthread_mutex_unlock(&h->lock);
		return NULL;
	}
	h->current = s;
	atomic_fetch_add(&s->refs, 1); /* one for the holder, one for the caller */
	pthread_mutex_unlock(&h->lock);
	snapshot_release(cur);
	return s;
}
