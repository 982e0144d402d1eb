/*
 * token_autoassign.c — enrollment.autoassignment (privacyIDEA's
 * api/lib/postpolicy.autoassign with lib/token.assign_token).
 *
 * A user without tokens whose check failed names a token of the pool by
 * its OTP: the tokens in the user's realm (tokenrealm) without owner are
 * tried in id order; pass is split per token (split_pin_pass), the PIN
 * part must be the user-store password for "userstore" (any PIN
 * otherwise), and the OTP part must match (the type's check_otp).  The
 * first match is claimed in one write transaction under the token lock:
 * re-read, the OTP consumed with the conditional counter update, the owner
 * row inserted only while there is none (store_autoassign_claim) — two
 * users racing for one token: exactly one gets it — the PIN set, the
 * failcounter reset.  The answer gets serial, otplen, type and "Token
 * assigned to user via Autoassignment".  No SQL here.
 */
#include "token_autoassign.h"
#include "token_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "polaudit.h"
#include "polctx.h"
#include "realm.h"
#include "tokens/tokentype.h"
#include "../db/db.h"
#include "../db/store_autoassign.h"

struct pool {
	char **serials;
	size_t n, cap;
	int oom;
};

static int pool_row(void *ctx, struct store_token_row *r)
{
	struct pool *p = ctx;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		char **v = realloc(p->serials, cap * sizeof(*v));
		if (!v) {
			p->oom = 1;
			return 1;
		}
		p->serials = v;
		p->cap = cap;
	}
	p->serials[p->n] = strdup(r->serial ? r->serial : "");
	if (!p->serials[p->n]) {
		p->oom = 1;
		return 1;
	}
	p->n++;
	return 0;
}

static void pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->serials[i]);
	free(p->serials);
}

/* get_tokens(realm=user's realm, assigned=False), active ones only. */
static int pool_load(struct token_ctx *x, int64_t rid, struct pool *p, struct error *err)
{
	struct store_token_filter f;
	store_token_filter_init(&f);
	f.tokenrealm_id = rid;
	f.assigned = 0;
	f.active = 1;
	for (int64_t page = 1;; page++) {
		int64_t total = 0;
		size_t before = p->n;
		if (store_token_search(x->c, &f, "id", 0, page, 1000, &total, pool_row, p, err) < 0)
			return -1;
		if (p->oom)
			return err_internal(err, "out of memory");
		if (p->n - before < 1000 || (int64_t)p->n >= total)
			return 0;
	}
}

/* What a matched OTP consumes (the counter only moves forward); *ok = 0
 * when the value was used meanwhile. */
static int consume(struct token_ctx *x, struct token *t, const struct otp_match *m, int *ok, struct error *err)
{
	*ok = 1;
	if (m->set_count) {
		if (store_token_consume_count(x->c, t->r.id, m->new_count, ok, err) < 0)
			return -1;
		if (!*ok)
			return 0;
		t->r.count = m->new_count;
	}
	if (m->consume_info[0]) {
		int64_t n = 0;
		if (store_tokeninfo_delete(x->c, t->r.id, m->consume_info, &n, err) < 0)
			return -1;
		if (n != 1) {
			*ok = 0;
			return 0;
		}
		json_object_del(t->info, m->consume_info);
	}
	if (m->set_shift && token_set_info(x, t, "timeShift", m->shift, NULL, err) < 0)
		return -1;
	return 0;
}

/* The claim in one write transaction: 1 the token is u's now (*out the
 * token as written), 0 someone else was faster / the OTP was used, -1
 * error. */
static int claim(struct token_ctx *x, const char *serial, int64_t rid, const struct user *u, const char *pin,
		 const struct otp_match *m, struct token **out, struct error *err)
{
	struct token *t = NULL;
	int rc = -1, ok = 0;
	*out = NULL;
	if (db_begin_write(x->c, err) < 0)
		goto fail;
	int lr = token_load(x, serial, &t, err);
	if (lr < 0)
		goto fail;
	if (lr == 1) {
		rc = 0;
		goto fail;
	}
	if (token_lock(x, t, err) < 0)
		goto fail;
	token_free(t);
	t = NULL;
	/* the live row, read under the lock */
	lr = token_load(x, serial, &t, err);
	if (lr < 0)
		goto fail;
	if (lr == 1 || (t->r.resolver && *t->r.resolver) || !t->r.active || t->r.revoked || t->r.locked) {
		rc = 0;
		goto fail;
	}
	if (consume(x, t, m, &ok, err) < 0)
		goto fail;
	if (!ok) {
		rc = 0;
		goto fail;
	}
	if (store_autoassign_claim(x->c, t->r.id, u->resolver, u->uid, rid, &ok, err) < 0)
		goto fail;
	if (!ok) {
		rc = 0;
		goto fail;
	}
	for (int i = 0; i < m->n_info_set && i < 2; i++)
		if (token_set_info(x, t, m->info_set[i].key, m->info_set[i].value, NULL, err) < 0)
			goto fail;
	for (int i = 0; i < m->n_info_del && i < 2; i++)
		if (token_del_info(x, t, m->info_del[i], err) < 0)
			goto fail;
	/* assign_token: the PIN given, failcounter reset */
	t->r.failcount = 0;
	if (token_store_pin(x, t, pin, 0, err) < 0 || token_save(x, t, err) < 0)
		goto fail;
	if (token_info(t, "failcounter_exceeded", NULL) && token_del_info(x, t, "failcounter_exceeded", err) < 0)
		goto fail;
	if (db_commit(x->c, err) < 0)
		goto fail;
	*out = t;
	return 1;
fail:
	db_rollback(x->c);
	token_free(t);
	return rc;
}

/* The PIN part for this token: 1 accepted, 0 not, -1 error.  The user
 * store is asked once per distinct PIN part. */
struct pin_memo {
	char *pin;
	int ok;
};

static int pin_accepted(struct token_ctx *x, const struct user *u, int userstore, const char *pin,
			struct pin_memo *memo)
{
	if (!userstore)
		return 1;
	if (memo->pin && crypto_streq(memo->pin, pin))
		return memo->ok;
	crypto_free_str(memo->pin);
	memo->pin = strdup(pin);
	struct error e2 = { 0 };
	int ok = user_check_password(x->snap, x->c, u, pin, &e2);
	if (ok < 0)
		log_warning("autoassignment: the user store could not check the password: %s", e2.message);
	memo->ok = ok == 1;
	return memo->ok;
}

int token_autoassign(struct token_ctx *x, const struct user *u, const char *pass, struct token_auth_result *res,
		     struct error *err)
{
	if (res->success || !u->uid[0] || !u->login[0] || !u->realm[0] ||
	    polctx_scope_active(x->pol, "enrollment") == 0)
		return 0;
	/* policy: enrollment.autoassignment */
	struct polaudit qa;
	struct polq q = { .scope = "enrollment", .action = "autoassignment", .user = u };
	char *v = NULL;
	int rc = polctx_value(polaudit_quiet(&qa, x->pol), &q, 0, &v, err);
	if (rc <= 0)
		return rc;
	int userstore = !strcmp(v, "userstore");
	free(v);
	/* the user must have no token at all */
	struct token_list mine;
	if (token_list_of_user(x, u, &mine, err) < 0)
		return -1;
	size_t owned = mine.n;
	token_list_free(&mine);
	long long rid = realm_id(x->snap, u->realm);
	if (owned || rid <= 0)
		return 0;
	struct pool p = { 0 };
	if (pool_load(x, rid, &p, err) < 0) {
		pool_free(&p);
		return -1;
	}
	struct pin_memo memo = { 0 };
	struct token *won = NULL;
	const char *pw = pass ? pass : "";
	rc = 0;
	for (size_t i = 0; i < p.n && !won && rc == 0; i++) {
		struct token *t = NULL;
		int lr = token_load(x, p.serials[i], &t, err);
		if (lr < 0) {
			rc = -1;
			break;
		}
		if (lr == 1 || !t->type || t->r.revoked || t->r.locked || (t->r.resolver && *t->r.resolver)) {
			token_free(t);
			continue;
		}
		char *pin = NULL, *otp = NULL;
		if (token_split_pin_pass(x, t, pw, &pin, &otp) < 0) {
			token_free(t);
			rc = err_internal(err, "out of memory");
			break;
		}
		if (pin_accepted(x, u, userstore, pin, &memo)) {
			struct otp_match m = { 0 };
			struct error e2 = { 0 };
			int64_t counter = t->type->check_otp(x, t, otp, &m, &e2);
			if (counter == TOKEN_OTP_ERROR)
				log_warning("autoassignment: token %s: %s", t->r.serial, e2.message);
			if (counter >= 0) {
				int cr = claim(x, t->r.serial, rid, u, pin, &m, &won, err);
				if (cr < 0)
					rc = -1;
			}
		}
		crypto_free_str(pin);
		crypto_free_str(otp);
		token_free(t);
	}
	crypto_free_str(memo.pin);
	pool_free(&p);
	if (rc < 0 || !won) {
		token_free(won);
		return rc;
	}
	/* the post-policy's answer */
	if (!res->detail)
		res->detail = json_object();
	json_t *d = res->detail;
	if (!d || json_object_set_new(d, "serial", json_string(won->r.serial)) < 0 ||
	    json_object_set_new(d, "otplen", json_integer(won->r.otplen)) < 0 ||
	    json_object_set_new(d, "type", json_string(won->type->name)) < 0 ||
	    json_object_set_new(d, "message", json_string("Token assigned to user via Autoassignment")) < 0) {
		token_free(won);
		return err_internal(err, "out of memory");
	}
	res->success = 1;
	res->authentication = "ACCEPT";
	snprintf(res->serial, sizeof(res->serial), "%s", won->r.serial);
	snprintf(res->type, sizeof(res->type), "%s", won->type->name);
	polaudit_commit(&qa, x->pol);
	token_free(won);
	return 1;
}
