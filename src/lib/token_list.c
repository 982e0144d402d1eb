/*
 * token_list.c — the token list of GET /token/ (get_tokens_paginate), the
 * challenge list of GET /token/challenges/ and the import of parsed seed
 * files (POST /token/load, privacyIDEA's import_token).  No SQL here.
 */
#include "token.h"
#include "token_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "importotp.h"
#include "log.h"
#include "tokens/tokentype.h"
#include "../db/db.h"

struct page_ctx {
	struct token_ctx *x;
	json_t *tokens;
	struct error *err;
	int failed;
};

static int page_row(void *ctx, struct store_token_row *r)
{
	struct page_ctx *p = ctx;
	struct token *t = calloc(1, sizeof(*t));
	if (!t) {
		p->failed = 1;
		err_internal(p->err, "out of memory");
		return 1;
	}
	t->r = *r;
	memset(r, 0, sizeof(*r));
	t->type = token_type_find(t->r.tokentype);
	json_t *d = NULL;
	if (store_tokeninfo_load(p->x->c, t->r.id, &t->info, &t->info_type, p->err) == 0 &&
	    (!t->type || !t->type->refresh || t->type->refresh(p->x, t, p->err) == 0)) /* type hook */
		d = token_as_dict(p->x, t, p->err);
	token_free(t);
	if (!d) {
		p->failed = 1;
		return 1;
	}
	json_array_append_new(p->tokens, d);
	return 0;
}

static json_t *paging(json_t *list_key_value, const char *key, int64_t page, int64_t pagesize, int64_t total)
{
	json_t *o = json_object();
	json_object_set_new(o, key, list_key_value);
	json_object_set_new(o, "prev", page > 1 ? json_integer(page - 1) : json_null());
	json_object_set_new(o, "next", page * pagesize < total ? json_integer(page + 1) : json_null());
	json_object_set_new(o, "current", json_integer(page));
	json_object_set_new(o, "count", json_integer(total));
	return o;
}

int token_list_page(struct token_ctx *x, const struct token_list_query *q, json_t **out, struct error *err)
{
	struct page_ctx p = { x, json_array(), err, 0 };
	int64_t total = 0;
	if (!p.tokens)
		return err_internal(err, "out of memory");
	if (store_token_search(x->c, &q->f, q->sortby, q->desc, q->page, q->pagesize, &total, page_row, &p, err) < 0 ||
	    p.failed) {
		json_decref(p.tokens);
		return -1;
	}
	*out = paging(p.tokens, "tokens", q->page, q->pagesize, total);
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) → "Tue, 29 Nov 2022 21:56:43 GMT". */
static json_t *http_date(const char *ts)
{
	struct tm tm = { 0 };
	if (!ts || sscanf(ts, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			  &tm.tm_sec) != 6)
		return json_null();
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	struct tm g;
	gmtime_r(&t, &g);
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char buf[64];
	snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[g.tm_wday], g.tm_mday, mons[g.tm_mon],
		 g.tm_year + 1900, g.tm_hour, g.tm_min, g.tm_sec);
	return json_string(buf);
}

static int challenge_row(void *ctx, const struct store_challenge *ch)
{
	json_t *a = ctx;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(ch->id));
	json_object_set_new(o, "transaction_id", json_string(ch->transaction_id));
	json_object_set_new(o, "challenge", json_string(ch->challenge ? ch->challenge : ""));
	json_object_set_new(o, "serial", json_string(ch->serial));
	json_object_set_new(o, "data", json_string(ch->data ? ch->data : ""));
	json_object_set_new(o, "timestamp", http_date(ch->timestamp));
	json_object_set_new(o, "otp_received", json_boolean(ch->received_count > 0));
	json_object_set_new(o, "received_count", json_integer(ch->received_count));
	json_object_set_new(o, "otp_valid", json_boolean(ch->otp_valid));
	json_object_set_new(o, "expiration", http_date(ch->expiration));
	json_array_append_new(a, o);
	return 0;
}

int token_challenges_page(struct token_ctx *x, const char *serial, const char *transaction_id,
			  const struct store_realm_limit *lim, const char *sortby, int desc, int64_t page,
			  int64_t pagesize, json_t **out, struct error *err)
{
	json_t *a = json_array();
	int64_t total = 0;
	if (!a)
		return err_internal(err, "out of memory");
	if (store_challenge_page(x->c, serial, transaction_id, lim, sortby, desc, page, pagesize, &total,
				 challenge_row, a, err) < 0) {
		json_decref(a);
		return -1;
	}
	*out = paging(a, "challenges", page, pagesize, total);
	return 0;
}

/* ---- import ---- */

static json_t *import_params(const struct import_token *it)
{
	json_t *p = json_object();
	char buf[32];
	json_object_set_new(p, "serial", json_string(it->serial));
	json_object_set_new(p, "description", json_string(it->description ? it->description : "imported"));
	json_object_set_new(p, "type", json_string(it->type ? it->type : "hotp"));
	if (it->otpkey)
		json_object_set_new(p, "otpkey", json_string(it->otpkey));
	if (it->otplen > 0) {
		snprintf(buf, sizeof(buf), "%d", it->otplen);
		json_object_set_new(p, "otplen", json_string(buf));
	}
	if (it->timestep > 0) {
		snprintf(buf, sizeof(buf), "%d", it->timestep);
		json_object_set_new(p, "timeStep", json_string(buf));
	}
	if (it->hashlib)
		json_object_set_new(p, "hashlib", json_string(it->hashlib));
	if (it->tans)
		json_object_set_new(p, "tans", json_string(it->tans));
	if (it->pin)
		json_object_set_new(p, "pin", json_string(it->pin));
	return p;
}

/* A record's own problem (validation) — counted as not imported — as
 * opposed to a failure of the server, which aborts the whole import. */
static int record_error(const struct error *e)
{
	return e->kind == ERRK_PI || e->kind == ERRK_NOTFOUND;
}

int token_import(struct token_ctx *x, const struct import_list *l, json_t *tokenrealms, int *n_imported,
		 json_t **serials, struct error *err)
{
	*n_imported = 0;
	*serials = json_array();
	if (!*serials)
		return err_internal(err, "out of memory");
	if (db_begin_write(x->c, err) < 0)
		goto fail;
	for (size_t i = 0; i < l->count; i++) {
		const struct import_token *it = &l->tokens[i];
		struct error rerr = { 0 };
		struct user u;
		memset(&u, 0, sizeof(u));
		if (it->username && *it->username) {
			int ur = user_from_params(x->snap, x->c, it->username, it->realm, it->resolver, &u, &rerr);
			if (ur != 0) {
				log_info("import: %s not imported: user %s not found", it->serial, it->username);
				continue;
			}
		}
		json_t *params = import_params(it);
		struct token_enroll_opts o = { .owner = &u, .tokenrealms = tokenrealms, .tokenkind = "hardware" };
		struct token *t = NULL;
		int rc = params ? token_enroll_txn(x, params, &o, &t, NULL, &rerr) : err_internal(&rerr, "out of memory");
		json_decref(params);
		if (rc < 0) {
			if (!record_error(&rerr)) {
				*err = rerr;
				goto fail;
			}
			log_info("import: %s not imported: %s", it->serial, rerr.message);
			continue;
		}
		if (it->has_counter && it->counter > 0) {
			t->r.count = it->counter;
			rc = token_save(x, t, err);
		}
		if (rc == 0 && it->has_timeshift) {
			char buf[32];
			snprintf(buf, sizeof(buf), "%lld", (long long)it->timeshift);
			rc = token_set_info(x, t, "timeShift", buf, NULL, err);
		}
		token_free(t);
		if (rc < 0)
			goto fail;
		(*n_imported)++;
		json_array_append_new(*serials, json_string(it->serial));
	}
	if (db_commit(x->c, err) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(x->c);
	*n_imported = 0;
	json_decref(*serials);
	*serials = NULL;
	return -1;
}
