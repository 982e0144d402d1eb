/*
 * store_token.h — storage of tokens: privacyIDEA's tables `token`,
 * `tokeninfo`, `tokenowner`, `tokenrealm` and `challenge`.
 *
 * One function per query, on a borrowed connection; transactions are the
 * caller's (lib/token*.c opens them).  Values are stored as given:
 * encrypting seeds and PINs, validating and deciding is the token core's
 * job.  Strings in the row structs are malloc'd and owned by the struct
 * (store_token_row_clear frees and wipes them).
 * Return convention: 0 = ok/found, 1 = not found (where stated), -1 = error.
 */
#ifndef TESSERA_STORE_TOKEN_H
#define TESSERA_STORE_TOKEN_H

#include <stdint.h>
#include <jansson.h>
#include "db.h"

/* One `token` row joined with its first owner (tokenowner, lowest id). */
struct store_token_row {
	int64_t id;
	char *serial;
	char *tokentype;
	char *description;
	char *pin_hash, *pin_seed;
	char *key_enc, *key_iv;
	char *user_pin, *user_pin_iv, *so_pin, *so_pin_iv;
	char *rollout_state;
	int otplen, maxfail, failcount, count_window, sync_window;
	int active, revoked, locked;
	int64_t count;
	/* owner: resolver == NULL when unassigned */
	char *resolver, *user_id;
	int64_t owner_realm_id;
};
void store_token_row_clear(struct store_token_row *r);

/* ---- token ---- */
/* By exact serial: 0 found, 1 not found. */
int store_token_get(struct db_conn *c, const char *serial, struct store_token_row *out, struct error *err);
/* By id: 0 found, 1 not found. */
int store_token_get_id(struct db_conn *c, int64_t id, struct store_token_row *out, struct error *err);
/* Every token owned by (resolver, user_id) in the realm with id realm_id
 * (realm_id < 0: any realm), in id order.  fn gets each row (it must take
 * what it keeps: the row is cleared after the call); non-zero stops. */
int store_token_by_owner(struct db_conn *c, const char *resolver, const char *user_id, int64_t realm_id,
			 int (*fn)(void *ctx, struct store_token_row *r), void *ctx, struct error *err);
/* Insert a new token (every column of r except id and owner); 1 when the
 * serial exists already (nothing written), 0 and r->id set otherwise. */
int store_token_insert(struct db_conn *c, struct store_token_row *r, struct error *err);
/* Write every column of the row (except id, serial and owner). */
int store_token_update(struct db_conn *c, const struct store_token_row *r, struct error *err);
/* Delete the token (its info, owner and realm rows go with it) and its
 * challenges. */
int store_token_delete(struct db_conn *c, int64_t id, const char *serial, struct error *err);
/* Number of tokens of a type (case-insensitive), -1 on error. */
int64_t store_token_count_type(struct db_conn *c, const char *tokentype, struct error *err);
/* 1 when a token with that serial exists, 0 when not, -1 on error. */
int store_token_serial_exists(struct db_conn *c, const char *serial, struct error *err);

/* The counter of an OTP: sets count = new_count only if count < new_count
 * (so a value is never accepted twice).  *ok = 1 when the row changed. */
int store_token_consume_count(struct db_conn *c, int64_t id, int64_t new_count, int *ok, struct error *err);
/* failcount = failcount + 1 while below maxfail; *failcount and *maxfail get
 * the values after the update; *changed = 1 when it was incremented. */
int store_token_inc_failcount(struct db_conn *c, int64_t id, int *failcount, int *maxfail, int *changed,
			      struct error *err);
int store_token_set_failcount(struct db_conn *c, int64_t id, int failcount, struct error *err);
/* The live state of a token inside a write transaction. */
struct store_token_state {
	int active, revoked, locked, failcount, maxfail;
	int64_t count;
};
int store_token_state(struct db_conn *c, int64_t id, struct store_token_state *st, struct error *err);
/* Replace the stored PIN hash if it still is `old` (re-store after a
 * legacy-hash verification). */
int store_token_rehash_pin(struct db_conn *c, int64_t id, const char *old_hash, const char *new_hash,
			   struct error *err);

/* ---- tokeninfo ---- */
/* {Key: Value} and {Key: Type} (only non-empty types) of a token. */
int store_tokeninfo_load(struct db_conn *c, int64_t token_id, json_t **info, json_t **types,
			 struct error *err);
/* One value: 0 found (*value malloc'd), 1 absent. */
int store_tokeninfo_get(struct db_conn *c, int64_t token_id, const char *key, char **value, struct error *err);
/* Insert or overwrite (type NULL = ""). */
int store_tokeninfo_set(struct db_conn *c, int64_t token_id, const char *key, const char *value,
			const char *type, struct error *err);
/* Up to three untyped entries in one statement (keys[i] → values[i]). */
int store_tokeninfo_set_many(struct db_conn *c, int64_t token_id, const char *const *keys,
			     const char *const *values, int n, struct error *err);
/* *affected (may be NULL) = rows deleted. */
int store_tokeninfo_delete(struct db_conn *c, int64_t token_id, const char *key, int64_t *affected,
			   struct error *err);
int store_tokeninfo_delete_all(struct db_conn *c, int64_t token_id, struct error *err);

/* ---- tokenowner, tokenrealm ---- */
/* Replace the owner(s) by one row; resolver NULL removes every owner. */
int store_token_set_owner(struct db_conn *c, int64_t token_id, const char *resolver, const char *user_id,
			  int64_t realm_id, struct error *err);
/* Names of the token's realms (array, tokenrealm order). */
int store_tokenrealm_names(struct db_conn *c, int64_t token_id, json_t **names, struct error *err);
/* Replace the token's realms by these realm ids (duplicates ignored). */
int store_tokenrealm_set(struct db_conn *c, int64_t token_id, const int64_t *realm_ids, size_t n,
			 struct error *err);
int store_tokenrealm_add(struct db_conn *c, int64_t token_id, int64_t realm_id, struct error *err);

/* The realms a realm-restricted admin may see (GET /token/, /token/challenges,
 * /token/getserial): when `on`, only tokens in one of the realms ids[0..n)
 * (tokenrealm table) are found; on with n == 0 finds nothing.  At most
 * STORE_REALM_LIMIT_MAX ids. */
#define STORE_REALM_LIMIT_MAX 256
struct store_realm_limit {
	int on;
	size_t n;
	int64_t ids[STORE_REALM_LIMIT_MAX];
};

/* ---- search (GET /token/) ----
 * Every filter is optional (NULL / -1 = not used).  Text filters with '*'
 * match with LIKE ('*' → '%'), else exactly; type and description
 * case-insensitively, as privacyIDEA's _create_token_query. */
struct store_token_filter {
	const char *serial;       /* wildcard or exact                        */
	const char *tokentype;
	const char *description;
	const char *resolver;     /* owner resolver                           */
	const char *user_id;      /* owner uid                                */
	int64_t owner_realm_id;   /* < 0: any                                 */
	int64_t tokenrealm_id;    /* < 0: any; 0: a realm that does not exist */
	int assigned;             /* -1 any, 0 unassigned, 1 assigned         */
	int active;               /* -1 any                                   */
	const char *rollout_state;
	const char *info_key, *info_value;
	struct store_realm_limit allowed; /* off after init                   */
};
void store_token_filter_init(struct store_token_filter *f);
/* sortby: a token column name (validated by the caller against the list
 * store_token_sort_column accepts); desc: 1 descending.  fn as for
 * store_token_by_owner; *total = all matches.  page >= 1. */
int store_token_search(struct db_conn *c, const struct store_token_filter *f, const char *sortby, int desc,
		       int64_t page, int64_t pagesize, int64_t *total,
		       int (*fn)(void *ctx, struct store_token_row *r), void *ctx, struct error *err);
/* The column for a sortby name, or NULL when it is not a token column. */
const char *store_token_sort_column(const char *name);

/* ---- challenge ---- */
struct store_challenge {
	int64_t id;
	char transaction_id[65];
	char serial[128];
	char *data, *challenge, *session;
	char timestamp[DB_TS_LEN], expiration[DB_TS_LEN];
	int received_count;
	int otp_valid;
};
void store_challenge_clear(struct store_challenge *ch);
int store_challenge_insert(struct db_conn *c, const struct store_challenge *ch, struct error *err);
/* Challenges of a transaction (serial NULL: of any token) that have not
 * expired at `now` (DB timestamp); fn as above, non-zero stops. */
int store_challenge_list(struct db_conn *c, const char *transaction_id, const char *serial, const char *now,
			 int (*fn)(void *ctx, const struct store_challenge *ch), void *ctx, struct error *err);
int store_challenge_delete_tx(struct db_conn *c, const char *transaction_id, struct error *err);
int store_challenge_delete_id(struct db_conn *c, int64_t id, struct error *err);
int store_challenge_inc_received(struct db_conn *c, int64_t id, struct error *err);
/* Delete challenges that expired before now. */
int store_challenge_cleanup(struct db_conn *c, const char *now, struct error *err);
/* Paged listing for /token/challenges (serial / transaction_id optional;
 * lim NULL or off: challenges of any token). */
int store_challenge_page(struct db_conn *c, const char *serial, const char *transaction_id,
			 const struct store_realm_limit *lim, const char *sortby, int desc, int64_t page,
			 int64_t pagesize, int64_t *total, int (*fn)(void *ctx, const struct store_challenge *ch),
			 void *ctx, struct error *err);
const char *store_challenge_sort_column(const char *name);

#endif
