/*
 * store_challenge.c — SQL of privacyIDEA's `challenge` table (declared in
 * store_token.h): challenges of challenge-response tokens with their
 * transaction ids and expiry.  Statements are static literals with bound
 * values, except the paged listing assembled from fixed fragments.
 * Nothing here decides or commits.
 */
#include "store_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s0(const char *s)
{
	return s ? s : "";
}

static char *dup_col(struct db_res *r, int col)
{
	const char *s = db_res_text(r, col);
	return strdup(s ? s : "");
}

struct sqlbuf {
	char s[1024];
	size_t n;
	int overflow;
};

static void sb_add(struct sqlbuf *b, const char *frag)
{
	size_t l = strlen(frag);
	if (b->n + l + 1 > sizeof(b->s)) {
		b->overflow = 1;
		return;
	}
	memcpy(b->s + b->n, frag, l + 1);
	b->n += l;
}

static int count_once(struct db_conn *c, const char *sql, const struct db_param *p, int np, int64_t *n,
		      struct error *err)
{
	struct db_res *r = NULL;
	if (db_query_once(c, sql, p, np, &r, err) < 0)
		return -1;
	int rc = db_res_next(r, err);
	*n = rc == 1 ? db_res_int(r, 0) : 0;
	db_res_free(r);
	return rc < 0 ? -1 : 0;
}

void store_challenge_clear(struct store_challenge *ch)
{
	if (!ch)
		return;
	free(ch->data);
	free(ch->challenge);
	free(ch->session);
	memset(ch, 0, sizeof(*ch));
}

int store_challenge_insert(struct db_conn *c, const struct store_challenge *ch, struct error *err)
{
	struct db_param p[] = { DB_TEXT(ch->transaction_id), DB_TEXT(s0(ch->data)),  DB_TEXT(s0(ch->challenge)),
				DB_TEXT(s0(ch->session)),    DB_TEXT(ch->serial),    DB_TEXT(ch->timestamp),
				DB_TEXT(ch->expiration),     DB_INT(ch->received_count), DB_INT(ch->otp_valid) };
	return db_exec(c,
		       "INSERT INTO challenge (transaction_id, data, challenge, \"session\", serial, \"timestamp\", "
		       "expiration, received_count, otp_valid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       p, 9, NULL, err);
}

#define CHAL_COLS                                                                                             \
	"id, transaction_id, data, challenge, \"session\", serial, \"timestamp\", expiration, received_count, " \
	"otp_valid"

static int read_challenge(struct db_res *r, struct store_challenge *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->id = db_res_int(r, 0);
	snprintf(ch->transaction_id, sizeof(ch->transaction_id), "%s", s0(db_res_text(r, 1)));
	ch->data = dup_col(r, 2);
	ch->challenge = dup_col(r, 3);
	ch->session = dup_col(r, 4);
	snprintf(ch->serial, sizeof(ch->serial), "%s", s0(db_res_text(r, 5)));
	snprintf(ch->timestamp, sizeof(ch->timestamp), "%s", s0(db_res_text(r, 6)));
	snprintf(ch->expiration, sizeof(ch->expiration), "%s", s0(db_res_text(r, 7)));
	ch->received_count = (int)db_res_int(r, 8);
	ch->otp_valid = db_res_int(r, 9) != 0;
	if (!ch->data || !ch->challenge || !ch->session) {
		store_challenge_clear(ch);
		return -1;
	}
	return 0;
}

static int each_challenge(struct db_res *r, int (*fn)(void *, const struct store_challenge *), void *ctx,
			  struct error *err)
{
	int rc;
	while ((rc = db_res_next(r, err)) == 1) {
		struct store_challenge ch;
		if (read_challenge(r, &ch) < 0)
			return err_internal(err, "out of memory reading a challenge");
		int stop = fn(ctx, &ch);
		store_challenge_clear(&ch);
		if (stop)
			return 0;
	}
	return rc < 0 ? -1 : 0;
}

int store_challenge_list(struct db_conn *c, const char *transaction_id, const char *serial, const char *now,
			 int (*fn)(void *ctx, const struct store_challenge *ch), void *ctx, struct error *err)
{
	struct db_res *r = NULL;
	int rc;
	if (serial) {
		struct db_param p[] = { DB_TEXT(transaction_id), DB_TEXT(serial), DB_TEXT(now) };
		rc = db_query(c,
			      "SELECT " CHAL_COLS " FROM challenge WHERE transaction_id = ? AND serial = ? "
			      "AND expiration > ? ORDER BY id",
			      p, 3, &r, err);
	} else {
		struct db_param p[] = { DB_TEXT(transaction_id), DB_TEXT(now) };
		rc = db_query(c,
			      "SELECT " CHAL_COLS " FROM challenge WHERE transaction_id = ? AND expiration > ? "
			      "ORDER BY id",
			      p, 2, &r, err);
	}
	if (rc < 0)
		return -1;
	rc = each_challenge(r, fn, ctx, err);
	db_res_free(r);
	return rc;
}

int store_challenge_delete_tx(struct db_conn *c, const char *transaction_id, struct error *err)
{
	struct db_param p[] = { DB_TEXT(transaction_id) };
	return db_exec(c, "DELETE FROM challenge WHERE transaction_id = ?", p, 1, NULL, err);
}

int store_challenge_delete_id(struct db_conn *c, int64_t id, struct error *err)
{
	struct db_param p[] = { DB_INT(id) };
	return db_exec(c, "DELETE FROM challenge WHERE id = ?", p, 1, NULL, err);
}

int store_challenge_inc_received(struct db_conn *c, int64_t id, struct error *err)
{
	struct db_param p[] = { DB_INT(id) };
	return db_exec(c, "UPDATE challenge SET received_count = received_count + 1 WHERE id = ?", p, 1, NULL, err);
}

int store_challenge_cleanup(struct db_conn *c, const char *now, struct error *err)
{
	struct db_param p[] = { DB_TEXT(now) };
	return db_exec(c, "DELETE FROM challenge WHERE expiration < ?", p, 1, NULL, err);
}

const char *store_challenge_sort_column(const char *name)
{
	static const char *const names[] = { "id",	   "transaction_id", "data", "challenge", "session", "serial",
					     "timestamp", "expiration",	    "received_count", "otp_valid", NULL };
	static const char *const cols[] = { "id",	  "transaction_id", "data",	 "challenge", "\"session\"",
					    "serial",	  "\"timestamp\"",  "expiration", "received_count", "otp_valid" };
	if (!name)
		return NULL;
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(names[i], name))
			return cols[i];
	return NULL;
}

int store_challenge_page(struct db_conn *c, const char *serial, const char *transaction_id,
			 const struct store_realm_limit *lim, const char *sortby, int desc, int64_t page,
			 int64_t pagesize, int64_t *total, int (*fn)(void *ctx, const struct store_challenge *ch),
			 void *ctx, struct error *err)
{
	const char *col = store_challenge_sort_column(sortby ? sortby : "timestamp");
	if (!col)
		col = "\"timestamp\"";
	struct sqlbuf w = { 0 }, cnt = { 0 }, q = { 0 };
	struct db_param p[4 + STORE_REALM_LIMIT_MAX];
	int np = 0;
	sb_add(&w, " WHERE 1 = 1");
	if (serial) {
		sb_add(&w, " AND serial = ?");
		p[np++] = DB_TEXT(serial);
	}
	if (transaction_id) {
		sb_add(&w, " AND transaction_id = ?");
		p[np++] = DB_TEXT(transaction_id);
	}
	if (lim && lim->on) {
		/* a realm-restricted admin: challenges of tokens in his realms */
		if (!lim->n || lim->n > STORE_REALM_LIMIT_MAX) {
			sb_add(&w, " AND 1 = 0");
		} else {
			sb_add(&w, " AND serial IN (SELECT tc.serial FROM token tc JOIN tokenrealm tcr ON tcr.token_id = tc.id"
				   " WHERE tcr.realm_id IN (?");
			p[np++] = DB_INT(lim->ids[0]);
			for (size_t i = 1; i < lim->n; i++) {
				sb_add(&w, ", ?");
				p[np++] = DB_INT(lim->ids[i]);
			}
			sb_add(&w, "))");
		}
	}
	sb_add(&cnt, "SELECT count(*) FROM challenge");
	sb_add(&cnt, w.s);
	sb_add(&q, "SELECT " CHAL_COLS " FROM challenge");
	sb_add(&q, w.s);
	char order[96];
	snprintf(order, sizeof(order), " ORDER BY %s %s, id %s LIMIT ? OFFSET ?", col, desc ? "DESC" : "ASC",
		 desc ? "DESC" : "ASC");
	sb_add(&q, order);
	if (w.overflow || cnt.overflow || q.overflow)
		return err_internal(err, "challenge query too long");
	if (count_once(c, cnt.s, p, np, total, err) < 0)
		return -1;
	p[np] = DB_INT(pagesize);
	p[np + 1] = DB_INT((page - 1) * pagesize);
	struct db_res *r = NULL;
	if (db_query_once(c, q.s, p, np + 2, &r, err) < 0)
		return -1;
	int rc = each_challenge(r, fn, ctx, err);
	db_res_free(r);
	return rc;
}
