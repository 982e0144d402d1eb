/*
 * token_multichallenge.c — the policy-driven challenge dialogues of
 * /validate/check (privacyIDEA's challengeresponsedecorators.py and the
 * postpolicies multichallenge_enroll_via_validate / preferred_client_mode):
 * PIN change via validate, resync via multichallenge, enrollment via
 * multichallenge, preferred client mode.  See token_multichallenge.h.
 *
 * Enrollment goes through the library's token_enroll_txn (no second
 * enrollment code here); PINs through token_store_pin.  No SQL here (the
 * challenge table is src/db/store_token.h's), no envelope building.
 */
#include "token_multichallenge.h"
#include "token_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "app.h"
#include "crypto.h"
#include "log.h"
#include "pin.h"
#include "pinpolicy.h"
#include "polaudit.h"
#include "polctx.h"
#include "user.h"
#include "tokens/tokentype.h"
#include "../db/db.h"

/* The first step's PIN is kept in challenge.data as "p:" + pin_hash, so
 * that an empty PIN still leaves data (privacyIDEA's pass_hash never is
 * empty). */
#define DATA_PREFIX "p:"

static void ts(char buf[DB_TS_LEN], int64_t add)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	db_timestamp(buf, (int64_t)tv.tv_sec + add, (long)tv.tv_usec);
}

long tmc_challenge_validity(struct token_ctx *x, const char *tokentype)
{
	long long v = token_config_int(x, "DefaultChallengeValidityTime", 120);
	char key[96];
	snprintf(key, sizeof(key), "%sChallengeValidityTime", tokentype);
	/* str.capitalize(): first upper, the rest of the type lower */
	size_t tl = strlen(tokentype);
	for (size_t i = 0; i < tl && i < sizeof(key); i++)
		key[i] = (char)(i == 0 ? (key[i] >= 'a' && key[i] <= 'z' ? key[i] - 32 : key[i])
				       : (key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]));
	v = token_config_int(x, key, v);
	return v > 0 && v < 31536000 ? (long)v : 120;
}

void tmc_pin_change_fields(const struct token *t, json_t *reply)
{
	const char *next = token_info(t, "next_pin_change", NULL);
	if (!next || !*next)
		return;
	int64_t when;
	int due = token_parse_date(next, &when) == 0 && (int64_t)time(NULL) > when;
	json_object_set_new(reply, "next_pin_change", json_string(next));
	json_object_set_new(reply, "pin_change", json_boolean(due));
}

/* One challenge row: a new 20-digit transaction id into txid. */
static int insert_challenge(struct token_ctx *x, const char *serial, const char *kind, const char *data,
			    long validity, char txid[21], struct error *err)
{
	if (crypto_random_string(txid, 20, "0123456789") < 0)
		return err_internal(err, "random generator failed");
	struct store_challenge ch = { 0 };
	snprintf(ch.transaction_id, sizeof(ch.transaction_id), "%s", txid);
	snprintf(ch.serial, sizeof(ch.serial), "%s", serial);
	ch.challenge = (char *)(kind ? kind : "");
	ch.data = (char *)(data ? data : "");
	ts(ch.timestamp, 0);
	ts(ch.expiration, validity);
	return store_challenge_insert(x->c, &ch, err);
}

/* privacyIDEA's _create_challenge: a generic challenge and the reply that
 * replaces the check's reply. */
static int generic_challenge(struct token_ctx *x, const struct token *t, const char *kind, const char *message,
			     const char *data, json_t **reply, struct error *err)
{
	long validity = (long)token_config_int(x, "DefaultChallengeValidityTime", 120);
	if (!strcmp(kind, TMC_PIN_RESET))
		validity = (long)token_config_int(x, "PinResetChallengeValidityTime", validity);
	if (validity <= 0 || validity >= 31536000)
		validity = 120;
	char txid[21];
	if (insert_challenge(x, t->r.serial, kind, data, validity, txid, err) < 0)
		return -1;
	json_t *r = json_pack("{s:[{s:s,s:s,s:s,s:n,s:s,s:s}],s:s,s:[s],s:s,s:[s]}", "multi_challenge",
			      "transaction_id", txid, "client_mode", "interactive", "message", message, "attributes",
			      "serial", t->r.serial, "type", t->r.tokentype, "message", message, "messages", message,
			      "transaction_id", txid, "transaction_ids", txid);
	if (!r)
		return err_internal(err, "out of memory");
	json_decref(*reply);
	*reply = r;
	return 0;
}

/* Match.token(token) for an authentication action: 1 any, 0 none. */
static int token_any(struct token_ctx *x, struct token *t, const char *scope, const char *action, struct error *err)
{
	struct polq q = { .scope = scope, .action = action, .token = t };
	return polctx_any(x->pol, &q, err);
}

/* ---- change_pin_via_validate ---- */

struct find_reset {
	int n;
	struct store_challenge ch; /* the first one (strings owned) */
};

static int collect_reset(void *ctx, const struct store_challenge *ch)
{
	struct find_reset *f = ctx;
	if (!ch->challenge || strcmp(ch->challenge, TMC_PIN_RESET))
		return 0;
	if (f->n++ == 0) {
		f->ch = *ch;
		f->ch.data = strdup(ch->data ? ch->data : "");
		f->ch.challenge = NULL;
		f->ch.session = NULL;
		if (!f->ch.data)
			return -1;
	}
	return 0;
}

/* privacyIDEA's check_pin in the user's context: <type>_otp_pin_* before
 * otp_pin_*, scope user. */
static int user_check_pin(struct token_ctx *x, struct token *t, const struct user *u, const char *pin,
			  struct error *err)
{
	static const char *const acts[3] = { "otp_pin_minlength", "otp_pin_maxlength", "otp_pin_contents" };
	char *v[3] = { NULL, NULL, NULL };
	int rc = -1;
	for (int i = 0; i < 3; i++) {
		char name[128];
		struct polq q = { .scope = "user", .user = u, .token = u ? NULL : t };
		snprintf(name, sizeof(name), "%s_%s", t->r.tokentype, acts[i]);
		q.action = name;
		int r = polctx_value(x->pol, &q, 0, &v[i], err);
		if (r == 0) {
			q.action = acts[i];
			r = polctx_value(x->pol, &q, 0, &v[i], err);
		}
		if (r < 0)
			goto out;
	}
	long long len = (long long)pinpolicy_strlen(pin);
	if (v[0] && len < atoll(v[0])) {
		err_set(err, ERRK_POLICY, ERR_POLICY, "The minimum OTP PIN length is %s", v[0]);
		goto out;
	}
	if (v[1] && len > atoll(v[1])) {
		err_set(err, ERRK_POLICY, ERR_POLICY, "The maximum OTP PIN length is %s", v[1]);
		goto out;
	}
	if (v[2]) {
		char comment[512];
		int ok = pinpolicy_check_contents(pin, v[2], comment, sizeof(comment), err);
		if (ok < 0)
			goto out;
		if (!ok) {
			err_set(err, ERRK_POLICY, ERR_POLICY, "%s", comment);
			goto out;
		}
	}
	rc = 0;
out:
	for (int i = 0; i < 3; i++)
		free(v[i]);
	return rc;
}

/* set_next_pin_change(diff=change_pin_every) or, without the policy, the
 * tokeninfo removed. */
static int next_pin_change(struct token_ctx *x, struct token *t, struct error *err)
{
	/* policy: enrollment.change_pin_every (after a PIN change via validate) */
	struct polq q = { .scope = "enrollment", .action = "change_pin_every", .token = t };
	char *every = NULL;
	int rc = polctx_value(x->pol, &q, 0, &every, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return token_info(t, "next_pin_change", NULL) ? token_del_info(x, t, "next_pin_change", err) : 0;
	/* privacyIDEA: int(diff.lower().strip("d")) days */
	char *p = every;
	while (*p == 'd' || *p == 'D')
		p++;
	long long days = strtoll(p, NULL, 10);
	free(every);
	char date[40];
	token_format_date((int64_t)time(NULL) + days * 86400, date, sizeof(date));
	return token_set_info(x, t, "next_pin_change", date, NULL, err);
}

int tmc_pin_reset_answer(struct token_ctx *x, struct token_list *l, const char *txid, const char *pass,
			 const struct user *u, int *success, json_t **reply, struct error *err)
{
	*success = 0;
	*reply = NULL;
	if (!txid || !*txid)
		return 0;
	char now[DB_TS_LEN];
	ts(now, 0);
	struct find_reset f = { 0 };
	if (store_challenge_list(x->c, txid, NULL, now, collect_reset, &f, err) < 0) {
		free(f.ch.data);
		return -1;
	}
	if (f.n && !f.ch.data)
		return err_internal(err, "out of memory");
	struct token *t = NULL;
	for (size_t i = 0; f.n == 1 && i < l->n; i++)
		if (l->v[i]->type && !strcmp(l->v[i]->r.serial, f.ch.serial))
			t = l->v[i];
	if (!t) {
		free(f.ch.data);
		return 0;
	}
	const char *pin = pass ? pass : "";
	int rc = -1;
	char *hash = NULL, *data = NULL;
	if (!f.ch.data[0]) {
		/* the new PIN the first time: it must fit the PIN policies */
		/* policy: user.otp_pin_minlength / otp_pin_maxlength / otp_pin_contents (check_pin) */
		if (user_check_pin(x, t, u, pin, err) < 0)
			goto out;
		hash = pin_hash(x->app->enckey, pin, err);
		data = hash ? malloc(strlen(hash) + sizeof(DATA_PREFIX)) : NULL;
		if (!data) {
			if (hash)
				err_internal(err, "out of memory");
			goto out;
		}
		sprintf(data, DATA_PREFIX "%s", hash);
		if (db_begin_write(x->c, err) < 0)
			goto out;
		/* the first challenge is answered: it goes (privacyIDEA keeps it
		 * marked answered; docs/compatibility.md) */
		if (store_challenge_delete_id(x->c, f.ch.id, err) < 0 ||
		    generic_challenge(x, t, TMC_PIN_RESET, "Please enter the new PIN again", data, reply, err) < 0 ||
		    db_commit(x->c, err) < 0) {
			db_rollback(x->c);
			json_decref(*reply);
			*reply = NULL;
			goto out;
		}
		rc = 1;
		goto out;
	}
	const char *stored = f.ch.data;
	int match = !strncmp(stored, DATA_PREFIX, strlen(DATA_PREFIX)) &&
		    pin_verify(x->app->enckey, stored + strlen(DATA_PREFIX), "", pin, NULL) == 1;
	if (!match) {
		*reply = json_pack("{s:s,s:s}", "serial", t->r.serial, "message", "PINs do not match");
		rc = *reply ? 1 : err_internal(err, "out of memory");
		goto out;
	}
	if (db_begin_write(x->c, err) < 0 || token_lock(x, t, err) < 0 || token_store_pin(x, t, pin, 0, err) < 0 ||
	    token_save(x, t, err) < 0 || next_pin_change(x, t, err) < 0 ||
	    store_challenge_delete_tx(x->c, txid, err) < 0 || db_commit(x->c, err) < 0) {
		db_rollback(x->c);
		goto out;
	}
	*success = 1;
	*reply = json_pack("{s:s,s:s}", "message", "PIN successfully set.", "serial", t->r.serial);
	rc = *reply ? 1 : err_internal(err, "out of memory");
out:
	crypto_free_str(hash);
	crypto_free_str(data);
	free(f.ch.data);
	return rc;
}

static struct token *by_serial(struct token **toks, size_t n, const char *serial)
{
	for (size_t i = 0; serial && i < n; i++)
		if (!strcmp(toks[i]->r.serial, serial))
			return toks[i];
	return NULL;
}

int tmc_after_check(struct token_ctx *x, struct token **toks, size_t n, int *success, json_t **reply,
		    struct error *err)
{
	if (polctx_scope_active(x->pol, "authentication") == 0)
		return 0;
	const char *serial = json_string_value(json_object_get(*reply, "serial"));
	struct token *t = by_serial(toks, n, serial);
	/* policy: authentication.resync_via_multichallenge (generic_challenge_response_resync) */
	if (!*success && t && token_info(t, "otp1c", NULL)) {
		int any = token_any(x, t, "authentication", "resync_via_multichallenge", err);
		if (any < 0)
			return -1;
		if (any)
			return generic_challenge(x, t, TMC_RESYNC, "To resync your token, please enter the next OTP value",
						 NULL, reply, err);
	}
	/* policy: authentication.change_pin_via_validate (generic_challenge_response_reset_pin) */
	if (*success && t && json_is_true(json_object_get(*reply, "pin_change"))) {
		int any = token_any(x, t, "authentication", "change_pin_via_validate", err);
		if (any < 0)
			return -1;
		if (any) {
			*success = 0;
			return generic_challenge(x, t, TMC_PIN_RESET, "Please enter a new PIN", NULL, reply, err);
		}
	}
	return 0;
}

/* ---- enroll_via_multichallenge ---- */

int tmc_enroll_via_multichallenge(struct token_ctx *x, const struct user *u, const struct polq *subject,
				  json_t **detail, int *enrolled, struct error *err)
{
	*enrolled = 0;
	if (!u || !u->login[0] || !u->realm[0] || polctx_scope_active(x->pol, "authentication") == 0)
		return 0;
	/* policy: authentication.enroll_via_multichallenge (write_to_audit_log=False) */
	struct polq q = *subject;
	q.scope = "authentication";
	q.action = "enroll_via_multichallenge";
	struct polaudit qa;
	char *type = NULL;
	int rc = polctx_value(polaudit_quiet(&qa, x->pol), &q, 0, &type, err);
	if (rc <= 0)
		return rc;
	for (char *p = type; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	/* get_multichallenge_enrollable_tokentypes: of Tessera's types, the
	 * OATH ones (docs/compatibility.md) */
	const struct token_type *ty = token_type_find(type);
	if (!ty || (strcmp(type, "hotp") && strcmp(type, "totp"))) {
		log_warning("enroll_via_multichallenge: token type '%s' can not be enrolled via multichallenge", type);
		free(type);
		return 0;
	}
	struct token_list l = { 0 };
	json_t *params = json_pack("{s:s,s:s}", "type", ty->name, "genkey", "1");
	json_t *init = NULL;
	struct token *t = NULL;
	rc = -1;
	if (!params) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (token_init_label_params(x, u, ty->name, params, err) < 0)
		goto out;
	if (db_begin_write(x->c, err) < 0)
		goto out;
	/* stop when the user has a token of this type (privacyIDEA: get_tokens
	 * with tokentype, case-insensitive) */
	if (token_list_of_user(x, u, &l, err) < 0)
		goto rollback;
	for (size_t i = 0; i < l.n; i++)
		if (!strcasecmp(l.v[i]->r.tokentype, type)) {
			db_rollback(x->c);
			rc = 0;
			goto out;
		}
	struct token_enroll_opts o = { .owner = u, .want_detail = 1 };
	if (token_enroll_txn(x, params, &o, &t, &init, err) < 0)
		goto rollback;
	char txid[21];
	if (insert_challenge(x, t->r.serial, "", "", tmc_challenge_validity(x, t->r.tokentype), txid, err) < 0 ||
	    db_commit(x->c, err) < 0)
		goto rollback;
	const char *message = "Please scan the QR code!";
	const char *img = json_string_value(json_object_get(json_object_get(init, "googleurl"), "img"));
	json_t *chal = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "transaction_id", txid, "image", img ? img : "",
				 "client_mode", "interactive", "serial", t->r.serial, "type", t->r.tokentype, "message",
				 message);
	if (!chal) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (!*detail)
		*detail = json_object();
	json_object_set_new(*detail, "transaction_ids", json_pack("[s]", txid));
	json_object_set_new(*detail, "messages", json_pack("[s]", message));
	json_object_set_new(*detail, "multi_challenge", json_pack("[O]", chal));
	json_object_update(*detail, chal);
	json_decref(chal);
	*enrolled = 1;
	rc = 0;
	goto out;
rollback:
	db_rollback(x->c);
out:
	token_list_free(&l);
	token_free(t);
	json_decref(init);
	json_decref(params);
	free(type);
	return rc;
}

/* ---- preferred_client_mode ---- */

int tmc_preferred_client_mode(struct token_ctx *x, const struct polq *subject, json_t *detail, struct error *err)
{
	json_t *mc = detail ? json_object_get(detail, "multi_challenge") : NULL;
	if (!json_array_size(mc))
		return 0;
	char *v = NULL;
	if (polctx_scope_active(x->pol, "authentication") > 0) {
		/* policy: authentication.preferred_client_mode */
		struct polq q = *subject;
		q.scope = "authentication";
		q.action = "preferred_client_mode";
		if (polctx_value(x->pol, &q, POLICY_ALLOW_WHITESPACE, &v, err) < 0)
			return -1;
	}
	const char *list = v ? v : "interactive webauthn poll u2f";
	const char *pick = NULL;
	/* str.split(): runs of whitespace separate */
	for (const char *p = list; *p && !pick;) {
		p += strspn(p, " \t\n\r\f\v");
		size_t n = strcspn(p, " \t\n\r\f\v");
		size_t i;
		json_t *c;
		json_array_foreach(mc, i, c) {
			const char *m = json_string_value(json_object_get(c, "client_mode"));
			if (n && m && strlen(m) == n && !strncmp(m, p, n)) {
				pick = m;
				break;
			}
		}
		p += n;
	}
	if (!pick) {
		log_warning("There was no acceptable client mode in the multi-challenge list. "
			    "The preferred client mode is set to \"interactive\".");
		pick = "interactive";
	}
	json_object_set_new(detail, "preferred_client_mode", json_string(pick));
	free(v);
	return 0;
}
