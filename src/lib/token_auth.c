/*
 * token_auth.c — deciding an authentication (privacyIDEA's
 * check_token_list, check_user_pass, check_serial_pass) and the
 * challenges of challenge-response (create_challenges_from_tokens,
 * check_challenge_response, polltransaction).
 *
 * Two phases.  (A) Without a transaction: classify every token — PIN
 * checks (pin.h, constant time) and OTP computations (the type's pure
 * check_otp) — so that slow work (a legacy PIN hash) never holds the
 * write lock.  (B) One write transaction: lock the tokens involved, apply
 * what matched with conditional updates (an OTP counter only moves
 * forward: the loser of a race sees its value as used), re-read the live
 * state (failcount, active, auth counters) and decide exactly as
 * privacyIDEA does, then commit.  No SQL here.
 *
 * The policies privacyIDEA evaluates inside the library (policydecorators.py)
 * are asked here through x->pol: otppin and challenge_response per token,
 * challenge_text, increase_failcounter_on_challenge (an option the API
 * sets), reset_all_user_tokens and last_auth in phase B, and around
 * check_user_pass passOnNoUser, passOnNoToken, passthru and
 * auth_max_success/auth_max_fail (audit rows counted).  A scope without
 * any policy costs one lookup: nothing is resolved or loaded for it.
 */
#include "token.h"
#include "token_impl.h"
#include "token_authcache.h"
#include "token_autoassign.h"

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
#include "polaudit.h"
#include "polctx.h"
#include "realm.h"
#include "token_multichallenge.h"
#include "tokens/tokentype.h"
#include "../db/db.h"
#include "../db/store_audit_count.h"

enum klass { K_INVALID = 0, K_PINMATCH, K_VALID, K_CHAL_RESP, K_CHAL_REQ };

struct cand {
	struct token *t;
	enum klass k;
	int64_t counter;
	struct otp_match m;
	char *otp;          /* the OTP part, for previous-OTP detection */
	char *new_pin_hash; /* re-store of a legacy PIN hash            */
	int replay;         /* matched, but the value was used meanwhile */
	int gone;           /* deleted meanwhile (a used registration code) */
	int64_t challenge_id; /* the challenge a response answered      */
};

/* authentication.otppin */
enum otppin { OTPPIN_UNKNOWN = 0, OTPPIN_TOKENPIN, OTPPIN_USERSTORE, OTPPIN_NONE };

struct auth {
	struct token_ctx *x;
	struct cand *c;
	size_t n;
	const char *pass;
	const char *txid;
	json_t *options;
	json_t *reply;
	int success;
	int no_auth_counter;
	/* Whom the policies are about: the authenticating user (Match.user),
	 * else the token (Match.token: its owner, else its realm). */
	const struct user *pu;
	struct token *pt;
	struct user owner;      /* storage for pu in serial checks */
	int auth_on, authz_on;  /* a policy of the scope exists at all */
	enum otppin otppin;     /* looked up once per request */
	int allow_reset_all;    /* reset_all_user_tokens is evaluated */
	int inc_fail_on_chal;   /* authentication.increase_failcounter_on_challenge */
	int la_refused;         /* authorization.last_auth refused the answer's token */
	char la_msg[320];
};

/* ---- policy questions ---- */

static void polq_of(struct auth *a, struct polq *q, const char *scope, const char *action)
{
	memset(q, 0, sizeof(*q));
	q->scope = scope;
	q->action = action;
	q->user = a->pu;
	if (!a->pu)
		q->token = a->pt;
}

static void auth_policies_init(struct auth *a)
{
	a->auth_on = polctx_scope_active(a->x->pol, "authentication") > 0;
	a->authz_on = polctx_scope_active(a->x->pol, "authorization") > 0;
	json_t *v = a->options ? json_object_get(a->options, "increase_failcounter_on_challenge") : NULL;
	a->inc_fail_on_chal = json_is_true(v);
}

/* Match.token for a serial check, resolved once: the owner when the token
 * has one that can be found, else the token itself (its realm). */
static void auth_subject_token(struct auth *a, struct token *t)
{
	a->pu = NULL;
	a->pt = t;
	if (!a->auth_on && !a->authz_on)
		return;
	if (t->r.resolver && t->r.resolver[0] && t->r.user_id && t->r.user_id[0] && a->x->snap) {
		const char *rn = realm_name_by_id(a->x->snap, t->r.owner_realm_id);
		struct error e2 = { 0 };
		if (user_from_uid(a->x->snap, a->x->c, t->r.resolver, t->r.user_id, rn ? rn : "", &a->owner, &e2) == 0) {
			a->pu = &a->owner;
			a->pt = NULL;
		}
	}
}

/* The value of a unique action (whitespace kept) quietly: *out malloc'd or
 * NULL; names of the policies behind it in qa. */
static int quiet_value(struct auth *a, const char *scope, const char *action, struct polaudit *qa, char **out,
		       struct error *err)
{
	struct polq q;
	polq_of(a, &q, scope, action);
	*out = NULL;
	return polctx_value(polaudit_quiet(qa, a->x->pol), &q, POLICY_ALLOW_WHITESPACE, out, err);
}

/* Policies of a boolean/flag action quietly (names in qa): 1 any, 0 none. */
static int quiet_any(struct auth *a, const char *scope, const char *action, struct polaudit *qa,
		     struct policy_hits *h, struct error *err)
{
	struct polq q;
	polq_of(a, &q, scope, action);
	if (polctx_hits(polaudit_quiet(qa, a->x->pol), &q, h, err) < 0)
		return -1;
	return h->n > 0;
}

/* authentication.otppin for this request's subject. */
static int otppin_mode(struct auth *a, struct error *err)
{
	if (a->otppin)
		return 0;
	a->otppin = OTPPIN_TOKENPIN;
	if (!a->auth_on)
		return 0;
	struct polq q;
	char *v = NULL;
	polq_of(a, &q, "authentication", "otppin");
	int rc = polctx_value(a->x->pol, &q, 0, &v, err);
	if (rc < 0)
		return -1;
	if (rc == 1 && !strcmp(v, "none"))
		a->otppin = OTPPIN_NONE;
	else if (rc == 1 && !strcmp(v, "userstore"))
		a->otppin = OTPPIN_USERSTORE;
	free(v);
	return 0;
}

/* TokenClass.check_pin behind the otppin policy: 1 match, 0 not, -1 error.
 * With userstore the PIN is the user's password in the user store. */
static int pin_ok(struct auth *a, struct token *t, const char *pin, int *rehash, struct error *err)
{
	if (otppin_mode(a, err) < 0)
		return -1;
	if (a->otppin == OTPPIN_NONE)
		return pin[0] == '\0';
	if (a->otppin == OTPPIN_USERSTORE) {
		const struct user *u = a->pu;
		if (!u || !u->uid[0])
			return 0;
		struct error e2 = { 0 };
		int rc = user_check_password(a->x->snap, a->x->c, u, pin, &e2);
		if (rc < 0)
			log_warning("otppin=userstore: the user store could not check the password: %s", e2.message);
		return rc == 1;
	}
	int pm = token_check_pin(a->x, t, pin, rehash);
	if (pm < 0)
		log_warning("token %s: the stored PIN cannot be read", t->r.serial);
	return pm == 1;
}

void token_auth_result_clear(struct token_auth_result *r)
{
	json_decref(r->detail);
	memset(r, 0, sizeof(*r));
}

static void now_ts(char buf[DB_TS_LEN], int64_t add_seconds)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	db_timestamp(buf, (int64_t)tv.tv_sec + add_seconds, (long)tv.tv_usec);
}

static const char *opt_str(json_t *options, const char *name)
{
	json_t *v = options ? json_object_get(options, name) : NULL;
	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

/* ---- checks on the live state (TokenClass.check_all) ---- */

/* failcounter_clear_timeout: a token locked by its failcounter is
 * unlocked once the timeout (minutes) after reaching maxfail has passed. */
static int check_reset_failcount(struct auth *a, struct token *t, struct error *err)
{
	long long timeout = token_config_int(a->x, "failcounter_clear_timeout", 0);
	if (timeout <= 0 || t->r.failcount <= 0)
		return 0;
	const char *last = token_info(t, "failcounter_exceeded", NULL);
	int64_t when;
	if (!last || token_parse_date(last, &when) < 0)
		return 0;
	if (time(NULL) > when + timeout * 60)
		return token_reset_failcount(a->x, t, err);
	return 0;
}

static int check_validity(const struct token *t)
{
	int64_t now = time(NULL), when;
	const char *s = token_info(t, "validity_period_start", NULL);
	if (s && *s && token_parse_date(s, &when) == 0 && when > now)
		return 0;
	s = token_info(t, "validity_period_end", NULL);
	if (s && *s && token_parse_date(s, &when) == 0 && when < now)
		return 0;
	return 1;
}

/* 1 fit, 0 not (the reason appended to msgs), -1 error. */
static int check_all(struct auth *a, struct token *t, json_t *msgs, struct error *err)
{
	long long cam = token_info_int(t, "count_auth_max", 0);
	long long csm = token_info_int(t, "count_auth_success_max", 0);
	const char *why = NULL;
	if ((cam && token_info_int(t, "count_auth", 0) >= cam) ||
	    (csm && token_info_int(t, "count_auth_success", 0) >= csm)) {
		why = "Authentication counter exceeded";
	} else if (t->r.rollout_state &&
		   (!strcmp(t->r.rollout_state, "clientwait") || !strcmp(t->r.rollout_state, "verify"))) {
		/* a two-step or verified enrollment not finished yet */
		why = "Token is not yet enrolled";
	} else if (!t->r.active) {
		why = "Token is disabled";
	} else {
		if (check_reset_failcount(a, t, err) < 0)
			return -1;
		if (t->r.failcount >= t->r.maxfail)
			why = "Failcounter exceeded";
		else if (!check_validity(t))
			why = "Outside validity period";
	}
	if (why) {
		json_array_append_new(msgs, json_string(why));
		return 0;
	}
	return 1;
}

/* ---- counters kept in tokeninfo ---- */

static int add_info_count(struct auth *a, struct token *t, const char *key, struct error *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", token_info_int(t, key, 0) + 1);
	return token_set_info(a->x, t, key, buf, NULL, err);
}

static int inc_count_auth(struct auth *a, struct token *t, struct error *err)
{
	return a->no_auth_counter ? 0 : add_info_count(a, t, "count_auth", err);
}

/* TokenClass.inc_failcount: atomic, capped at maxfail; reaching maxfail
 * stamps failcounter_exceeded. */
static int inc_failcount(struct auth *a, struct token *t, struct error *err)
{
	int fc = 0, mf = 0, changed = 0;
	if (store_token_inc_failcount(a->x->c, t->r.id, &fc, &mf, &changed, err) < 0)
		return -1;
	t->r.failcount = fc;
	t->r.maxfail = mf;
	if (changed && fc == mf) {
		char buf[40];
		token_format_date(time(NULL), buf, sizeof(buf));
		return token_set_info(a->x, t, "failcounter_exceeded", buf, NULL, err);
	}
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS.ffffff+00:00", str() of privacyIDEA's aware datetime. */
static void last_auth_now(char *buf, size_t len)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	time_t s = tv.tv_sec;
	gmtime_r(&s, &tm);
	char frac[24];
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(frac, sizeof(frac), ".%06ld+00:00", (long)tv.tv_usec);
	strncat(buf, frac, len - strlen(buf) - 1);
}

/* token_impl.h */
int token_parse_timedelta(const char *s, long long *secs)
{
	while (*s == ' ' || *s == '\t')
		s++;
	int neg = 0;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	long long n = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > 100000000000LL)
			return -1;
		n = n * 10 + (*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	static const char units[] = "smhdy";
	static const long long mult[] = { 1, 60, 3600, 86400, 86400LL * 365 };
	const char *u = *s ? strchr(units, *s) : NULL;
	if (!u)
		return -1;
	for (s++; *s == ' ' || *s == '\t' || *s == '\n'; s++)
		;
	if (*s)
		return -1;
	*secs = (neg ? -n : n) * mult[u - units];
	return 0;
}

/* A last_auth tokeninfo value ("YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]", "T"
 * also accepted; no zone = UTC) → epoch seconds.  0 ok, -1 unreadable. */
static int parse_last_auth(const char *s, int64_t *epoch)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int used = 0;
	if (sscanf(s, "%4d-%2d-%2d%*1[ T]%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &used) != 5)
		return -1;
	const char *p = s + used;
	if (*p == ':') {
		int n = 0;
		if (sscanf(p, ":%2d%n", &tm.tm_sec, &n) != 1)
			return -1;
		p += n;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
	}
	long off = 0;
	if (*p == '+' || *p == '-') {
		int hh = 0, mm = 0;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 && sscanf(p + 1, "%2d%2d", &hh, &mm) != 2)
			return -1;
		off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
	} else if (*p && *p != 'Z') {
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*epoch = (int64_t)timegm(&tm) - off;
	return 0;
}

/* authorization.last_auth for the one token a successful answer names:
 * refused when its tokeninfo last_auth is older than the policy allows
 * (a->la_refused, a->la_msg; the policy goes to the audit row).  Returns
 * 1 when last_auth is to be written (not refused), 0 refused, -1 error. */
static int last_auth_check(struct auth *a, struct token *t, struct error *err)
{
	if (!a->authz_on)
		return 1;
	struct polaudit qa;
	char *v = NULL;
	int rc = quiet_value(a, "authorization", "last_auth", &qa, &v, err);
	if (rc < 0)
		return -1;
	long long secs;
	if (rc == 1 && token_parse_timedelta(v, &secs) < 0) {
		log_warning("authorization.last_auth: unsupported value '%s' ignored", v);
	} else if (rc == 1) {
		const char *last = token_info(t, "last_auth", NULL);
		int64_t when;
		if (last && *last && parse_last_auth(last, &when) == 0 && when + secs < (int64_t)time(NULL)) {
			a->la_refused = 1;
			snprintf(a->la_msg, sizeof(a->la_msg),
				 "The last successful authentication was %.200s. It is to long ago.", last);
			polaudit_commit(&qa, a->x->pol);
		}
	}
	free(v);
	return !a->la_refused;
}

/* A successful token: auth counters and (write_last_auth) last_auth in
 * one statement, the failcounter reset, and the type's post_success (a
 * registration token deletes itself).  last_auth is privacyIDEA's
 * auth_lastauth decorator: written when the answer names this one token
 * and authorization.last_auth did not refuse it. */
static int on_success(struct auth *a, struct token *t, int write_last_auth, struct error *err)
{
	if (t->type && t->type->delete_on_success)
		return store_token_delete(a->x->c, t->r.id, t->r.serial, err);
	char cas[32], ca[32], last[64];
	const char *keys[3], *vals[3];
	int n = 0;
	if (!a->no_auth_counter) {
		snprintf(cas, sizeof(cas), "%lld", token_info_int(t, "count_auth_success", 0) + 1);
		snprintf(ca, sizeof(ca), "%lld", token_info_int(t, "count_auth", 0) + 1);
		keys[n] = "count_auth_success", vals[n++] = cas;
		keys[n] = "count_auth", vals[n++] = ca;
	}
	if (write_last_auth) {
		last_auth_now(last, sizeof(last));
		keys[n] = "last_auth", vals[n++] = last;
	}
	if (n && store_tokeninfo_set_many(a->x->c, t->r.id, keys, vals, n, err) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		json_object_set_new(t->info, keys[i], json_string(vals[i]));
	if (t->r.failcount && token_reset_failcount(a->x, t, err) < 0)
		return -1;
	return 0;
}

/* Apply what a matched OTP consumes; *ok = 0 when it was used meanwhile. */
static int consume(struct auth *a, struct cand *c, int *ok, struct error *err)
{
	*ok = 1;
	if (c->m.set_count) {
		if (store_token_consume_count(a->x->c, c->t->r.id, c->m.new_count, ok, err) < 0)
			return -1;
		if (!*ok)
			return 0;
		c->t->r.count = c->m.new_count;
	}
	if (c->m.consume_info[0]) {
		int64_t n = 0;
		if (store_tokeninfo_delete(a->x->c, c->t->r.id, c->m.consume_info, &n, err) < 0)
			return -1;
		if (n != 1) {
			*ok = 0;
			return 0;
		}
		json_object_del(c->t->info, c->m.consume_info);
	}
	if (c->m.set_shift && token_set_info(a->x, c->t, "timeShift", c->m.shift, NULL, err) < 0)
		return -1;
	return 0;
}

/* Tokeninfo the check wrote whatever its outcome (AutoResync memory). */
static int apply_info(struct auth *a, struct cand *c, struct error *err)
{
	for (int i = 0; i < c->m.n_info_set && i < 2; i++)
		if (token_set_info(a->x, c->t, c->m.info_set[i].key, c->m.info_set[i].value, NULL, err) < 0)
			return -1;
	for (int i = 0; i < c->m.n_info_del && i < 2; i++)
		if (token_del_info(a->x, c->t, c->m.info_del[i], err) < 0)
			return -1;
	return 0;
}

/* Re-read failcount/active/… and the tokeninfo under the lock. */
static int refresh(struct auth *a, struct token *t, struct error *err)
{
	struct store_token_state st;
	int rc = store_token_state(a->x->c, t->r.id, &st, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 1; /* deleted meanwhile */
	t->r.active = st.active;
	t->r.revoked = st.revoked;
	t->r.locked = st.locked;
	t->r.failcount = st.failcount;
	t->r.maxfail = st.maxfail;
	t->r.count = st.count;
	json_t *info = NULL, *types = NULL;
	if (store_tokeninfo_load(a->x->c, t->r.id, &info, &types, err) < 0)
		return -1;
	json_decref(t->info);
	json_decref(t->info_type);
	t->info = info;
	t->info_type = types;
	return 0;
}

/* ---- challenges ---- */

static int gen_transaction_id(char out[21])
{
	return crypto_random_string(out, 20, "0123456789");
}

static long challenge_validity(struct auth *a, const struct token *t)
{
	return tmc_challenge_validity(a->x, t->r.tokentype);
}

/* create_challenges_from_tokens: one common transaction id for all
 * tokens fit for a challenge; reply gets multi_challenge and the flat
 * deprecated duplicates of the last challenge. */
static int create_challenges(struct auth *a, struct token **toks, size_t n, struct error *err)
{
	json_t *mc = json_array(), *msgs = json_array(), *txids = json_array();
	char txid[21] = "";
	/* authentication.challenge_text (whitespace kept), for every token */
	char *text = NULL;
	if (n && a->auth_on) {
		struct polq q;
		polq_of(a, &q, "authentication", "challenge_text");
		if (polctx_value(a->x->pol, &q, POLICY_ALLOW_WHITESPACE, &text, err) < 0)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct token *t = toks[i];
		int fit = check_all(a, t, msgs, err);
		if (fit < 0)
			goto fail;
		if (!fit)
			continue;
		if (!txid[0] && gen_transaction_id(txid) < 0) {
			err_internal(err, "random generator failed");
			goto fail;
		}
		const char *message = text ? text : "please enter otp: ";
		struct store_challenge ch = { 0 };
		snprintf(ch.transaction_id, sizeof(ch.transaction_id), "%s", txid);
		snprintf(ch.serial, sizeof(ch.serial), "%s", t->r.serial);
		ch.challenge = (char *)opt_str(a->options, "challenge");
		ch.session = (char *)opt_str(a->options, "session");
		now_ts(ch.timestamp, 0);
		now_ts(ch.expiration, challenge_validity(a, t));
		if (store_challenge_insert(a->x->c, &ch, err) < 0)
			goto fail;
		json_array_append_new(msgs, json_string(message));
		json_t *info = json_pack("{s:s,s:n,s:s,s:s,s:s,s:s}", "transaction_id", txid, "attributes", "serial",
					 t->r.serial, "type", t->r.tokentype, "message", message, "client_mode",
					 t->type && t->type->client_mode ? t->type->client_mode : "interactive");
		tmc_pin_change_fields(t, info);
		json_object_update(a->reply, info);
		json_array_append_new(mc, info);
		json_array_append_new(txids, json_string(txid));
	}
	if (json_array_size(msgs)) {
		size_t i;
		json_t *m;
		char *joined = NULL;
		size_t len = 0;
		json_array_foreach(msgs, i, m) {
			const char *s = json_string_value(m);
			char *nj = realloc(joined, len + strlen(s) + 3);
			if (!nj) {
				free(joined);
				err_internal(err, "out of memory");
				goto fail;
			}
			joined = nj;
			if (i)
				memcpy(joined + len, ", ", 2), len += 2;
			memcpy(joined + len, s, strlen(s) + 1);
			len += strlen(s);
		}
		json_object_set_new(a->reply, "message", json_string(joined));
		free(joined);
	}
	json_object_set_new(a->reply, "multi_challenge", mc);
	json_object_set_new(a->reply, "messages", msgs);
	json_object_set_new(a->reply, "transaction_ids", txids);
	/* the default; /validate evaluates authentication.preferred_client_mode
	 * (tmc_preferred_client_mode) */
	if (json_array_size(mc))
		json_object_set_new(a->reply, "preferred_client_mode", json_string("interactive"));
	free(text);
	return (int)json_array_size(mc);
fail:
	free(text);
	json_decref(mc);
	json_decref(msgs);
	json_decref(txids);
	return -1;
}

/* ---- phase A ---- */

struct chal_find {
	int64_t id;
};

static int first_challenge(void *ctx, const struct store_challenge *ch)
{
	((struct chal_find *)ctx)->id = ch->id;
	return 1;
}

/* authentication.challenge_response: does any matching policy list this
 * token type (case-insensitive)?  Only the policies naming it are
 * recorded in the audit row.  1 yes, 0 no, -1 error. */
static int challenge_allowed(struct auth *a, const struct token *t, struct error *err)
{
	if (!a->auth_on)
		return 0;
	struct polaudit qa;
	struct policy_hits h;
	struct polq q;
	polq_of(a, &q, "authentication", "challenge_response");
	if (polctx_hits(polaudit_quiet(&qa, a->x->pol), &q, &h, err) < 0)
		return -1;
	int found = 0;
	for (size_t i = 0; i < h.n; i++) {
		const char *v = NULL;
		if (policy_action_get(h.v[i], "challenge_response", &v) != 1 || !v)
			continue;
		for (const char *p = v; *p;) {
			p += strspn(p, " \t\n\r'");
			size_t n = strcspn(p, " \t\n\r'");
			if (n && n == strlen(t->r.tokentype) && !strncasecmp(p, t->r.tokentype, n)) {
				found = 1;
				if (a->x->pol && a->x->pol->audit)
					policy_audit_add(a->x->pol->audit, a->x->pol->audit_len, policy_name(h.v[i]));
				break;
			}
			p += n;
		}
	}
	policy_hits_free(&h);
	return found;
}

static int classify(struct auth *a, struct cand *c, struct error *err)
{
	struct token *t = c->t;
	const struct token_type *ty = t->type;
	c->counter = -1;
	if (a->txid) {
		/* a response: only tokens with a live challenge of this transaction */
		char now[DB_TS_LEN];
		struct chal_find f = { 0 };
		now_ts(now, 0);
		if (store_challenge_list(a->x->c, a->txid, t->r.serial, now, first_challenge, &f, err) < 0)
			return -1;
		if (!f.id) {
			c->k = K_INVALID;
			return 0;
		}
		c->k = K_CHAL_RESP;
		c->challenge_id = f.id;
		c->counter = ty->check_otp(a->x, t, a->pass, &c->m, err);
		return c->counter < TOKEN_OTP_NOMATCH ? -1 : 0;
	}
	/* authentication.challenge_response: with no policy no HOTP, TOTP …
	 * token answers a PIN-only request with a challenge. */
	if (ty->modes & TOKEN_MODE_CHALLENGE) {
		int ca = challenge_allowed(a, t, err);
		if (ca < 0)
			return -1;
		int pm = ca ? pin_ok(a, t, a->pass, NULL, err) : 0;
		if (pm < 0)
			return -1;
		if (pm) {
			c->k = K_CHAL_REQ;
			return 0;
		}
	}
	char *pin = NULL, *otp = NULL;
	if (ty->pin_only) {
		pin = strdup(a->pass);
		otp = strdup("");
	} else if (token_split_pin_pass(a->x, t, a->pass, &pin, &otp) < 0) {
		pin = otp = NULL;
	}
	if (!pin || !otp) {
		crypto_free_str(pin);
		crypto_free_str(otp);
		return err_internal(err, "out of memory");
	}
	int rehash = 0;
	/* authentication.otppin (tokenpin / userstore / none) */
	int pm = pin_ok(a, t, pin, &rehash, err);
	if (pm < 0) {
		crypto_free_str(pin);
		crypto_free_str(otp);
		return -1;
	}
	if (pm == 1) {
		if (rehash)
			c->new_pin_hash = pin_hash(a->x->app->enckey, pin, NULL);
		c->counter = ty->check_otp(a->x, t, otp, &c->m, err);
		if (c->counter < TOKEN_OTP_NOMATCH) {
			crypto_free_str(pin);
			crypto_free_str(otp);
			return -1;
		}
		c->k = c->counter >= 0 ? K_VALID : K_PINMATCH;
	} else {
		c->k = K_INVALID;
	}
	crypto_free_str(pin);
	c->otp = otp;
	return 0;
}

/* ---- phase B ---- */

static int cmp_cand(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	return a->t->r.id < b->t->r.id ? -1 : a->t->r.id > b->t->r.id;
}

static void put_token_fields(json_t *reply, const struct token *t)
{
	json_object_set_new(reply, "serial", json_string(t->r.serial));
	json_object_set_new(reply, "type", json_string(t->r.tokentype));
	json_object_set_new(reply, "otplen", json_integer(t->r.otplen));
}

static char *join_msgs(json_t *msgs)
{
	size_t len = 1, i;
	json_t *m;
	json_array_foreach(msgs, i, m)
		len += strlen(json_string_value(m)) + 2;
	char *s = calloc(1, len);
	if (!s)
		return NULL;
	json_array_foreach(msgs, i, m) {
		if (i)
			strcat(s, ", ");
		strcat(s, json_string_value(m));
	}
	return s;
}

static int decide_valid(struct auth *a, size_t nvalid, struct error *err)
{
	json_t *msgs = json_array();
	char first[64];
	snprintf(first, sizeof(first), "matching %zu tokens", nvalid);
	json_array_append_new(msgs, json_string(first));
	const char *type = NULL;
	struct cand *only = NULL;
	for (size_t i = 0; i < a->n; i++) {
		struct cand *c = &a->c[i];
		if (c->k != K_VALID)
			continue;
		only = c;
		int fit = check_all(a, c->t, msgs, err);
		if (fit < 0) {
			json_decref(msgs);
			return -1;
		}
		if (!fit)
			continue;
		a->success = 1;
		if (!type)
			type = c->t->r.tokentype;
		else if (strcmp(type, c->t->r.tokentype))
			type = "undetermined";
		int deleted = c->t->type && c->t->type->delete_on_success;
		int wl = nvalid == 1 && !deleted ? last_auth_check(a, c->t, err) : 0;
		if (wl < 0 || on_success(a, c->t, wl, err) < 0) {
			json_decref(msgs);
			return -1;
		}
	}
	if (type)
		json_object_set_new(a->reply, "type", json_string(type));
	if (nvalid == 1 && only) {
		put_token_fields(a->reply, only->t);
		tmc_pin_change_fields(only->t, a->reply);
	}
	char *m = join_msgs(msgs);
	json_decref(msgs);
	json_object_set_new(a->reply, "message", json_string(m ? m : ""));
	free(m);
	return 0;
}

static int decide_challenge_response(struct auth *a, struct error *err)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct cand *c = &a->c[i];
		if (c->k != K_CHAL_RESP)
			continue;
		n++;
		if (c->counter < 0 || c->replay)
			continue;
		json_object_set_new(a->reply, "serial", json_string(c->t->r.serial));
		json_object_set_new(a->reply, "type", json_string(c->t->r.tokentype));
		json_t *msgs = json_array();
		int fit = check_all(a, c->t, msgs, err);
		if (fit < 0) {
			json_decref(msgs);
			return -1;
		}
		if (!fit) {
			char *m = join_msgs(msgs);
			char buf[512];
			snprintf(buf, sizeof(buf), "Challenge matches, but token is not fit for challenge. %s", m ? m : "");
			free(m);
			json_decref(msgs);
			json_object_set_new(a->reply, "message", json_string(buf));
			return 0;
		}
		json_decref(msgs);
		a->success = 1;
		json_object_set_new(a->reply, "message", json_string("Found matching challenge"));
		tmc_pin_change_fields(c->t, a->reply);
		int wl = !(c->t->type && c->t->type->delete_on_success) ? last_auth_check(a, c->t, err) : 0;
		if (wl < 0 || on_success(a, c->t, wl, err) < 0)
			return -1;
		/* every challenge of this transaction is answered now */
		return store_challenge_delete_tx(a->x->c, a->txid, err);
	}
	for (size_t i = 0; i < a->n; i++) {
		struct cand *c = &a->c[i];
		if (c->k != K_CHAL_RESP)
			continue;
		if (inc_failcount(a, c->t, err) < 0 || store_challenge_inc_received(a->x->c, c->challenge_id, err) < 0)
			return -1;
	}
	char buf[96];
	if (n == 1) {
		snprintf(buf, sizeof(buf), "Response did not match the challenge.");
		/* the one token is named (the generic resync wrapper needs it) */
		for (size_t i = 0; i < a->n; i++)
			if (a->c[i].k == K_CHAL_RESP) {
				json_object_set_new(a->reply, "serial", json_string(a->c[i].t->r.serial));
				json_object_set_new(a->reply, "type", json_string(a->c[i].t->r.tokentype));
			}
	} else
		snprintf(buf, sizeof(buf), "Response did not match for %zu tokens.", n);
	json_object_set_new(a->reply, "message", json_string(buf));
	return 0;
}

/* PIN-only requests of challenge-response tokens: challenges for the
 * active ones (one transaction id). */
static int decide_challenge_request(struct auth *a, struct error *err)
{
	struct token **toks = calloc(a->n, sizeof(*toks));
	size_t n = 0;
	if (!toks)
		return err_internal(err, "out of memory");
	for (size_t i = 0; i < a->n; i++)
		if (a->c[i].k == K_CHAL_REQ && a->c[i].t->r.active)
			toks[n++] = a->c[i].t;
	int rc = 0;
	if (!n) {
		json_object_set_new(a->reply, "message", json_string("No active challenge response token found"));
	} else {
		/* authentication.increase_failcounter_on_challenge: every token asked */
		for (size_t i = 0; i < a->n && a->inc_fail_on_chal; i++)
			if (a->c[i].k == K_CHAL_REQ && inc_failcount(a, a->c[i].t, err) < 0)
				rc = -1;
		if (rc == 0)
			rc = create_challenges(a, toks, n, err) < 0 ? -1 : 0;
	}
	free(toks);
	return rc;
}

static int decide_pin_matching(struct auth *a, size_t n, struct error *err)
{
	struct cand *only = NULL;
	for (size_t i = 0; i < a->n; i++) {
		struct cand *c = &a->c[i];
		if (c->k != K_PINMATCH)
			continue;
		only = c;
		if (inc_failcount(a, c->t, err) < 0 || inc_count_auth(a, c->t, err) < 0)
			return -1;
	}
	const char *msg = "wrong otp value";
	if (n == 1 && only &&
	    (only->replay ||
	     (only->t->type->is_previous_otp && only->otp && only->t->type->is_previous_otp(a->x, only->t, only->otp))))
		msg = "wrong otp value. previous otp used again";
	json_object_set_new(a->reply, "message", json_string(msg));
	if (n == 1 && only)
		put_token_fields(a->reply, only->t);
	return 0;
}

static int decide_invalid(struct auth *a, struct error *err)
{
	json_object_set_new(a->reply, "message", json_string("wrong otp pin"));
	if (!token_config_bool(a->x, "IncFailCountOnFalsePin", 1))
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		struct cand *c = &a->c[i];
		if (c->k == K_INVALID && !c->gone &&
		    (inc_failcount(a, c->t, err) < 0 || inc_count_auth(a, c->t, err) < 0))
			return -1;
	}
	return 0;
}

/* reset_all_user_tokens: after a success, the failcounters of every token
 * checked (all tokens of the user) go back to 0. */
static int reset_all_post(struct auth *a, struct error *err)
{
	if (!a->success || !a->allow_reset_all || !a->auth_on)
		return 0;
	struct polq q;
	polq_of(a, &q, "authentication", "reset_all_user_tokens");
	int any = polctx_any(a->x->pol, &q, err);
	if (any <= 0)
		return any;
	for (size_t i = 0; i < a->n; i++) {
		struct cand *c = &a->c[i];
		if (!c->gone && !(c->t->type && c->t->type->delete_on_success && c->k == K_VALID) && c->t->r.failcount &&
		    token_reset_failcount(a->x, c->t, err) < 0)
			return -1;
	}
	return 0;
}

/* The generic challenge-response wrappers after the decision
 * (token_multichallenge.c). */
static int after_check(struct auth *a, struct error *err)
{
	if (polctx_scope_active(a->x->pol, "authentication") == 0)
		return 0;
	struct token **toks = calloc(a->n ? a->n : 1, sizeof(*toks));
	size_t n = 0;
	if (!toks)
		return err_internal(err, "out of memory");
	for (size_t i = 0; i < a->n; i++)
		if (!a->c[i].gone)
			toks[n++] = a->c[i].t;
	int rc = tmc_after_check(a->x, toks, n, &a->success, &a->reply, err);
	free(toks);
	return rc;
}

static int phase_b(struct auth *a, struct error *err)
{
	struct token_ctx *x = a->x;
	qsort(a->c, a->n, sizeof(*a->c), cmp_cand);
	if (db_begin_write(x->c, err) < 0)
		return -1;
	for (size_t i = 0; i < a->n; i++)
		if (token_lock(x, a->c[i].t, err) < 0)
			return -1;
	size_t nvalid = 0, ncr = 0, nreq = 0, npin = 0, ninvalid = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct cand *c = &a->c[i];
		if (c->new_pin_hash &&
		    store_token_rehash_pin(x->c, c->t->r.id, c->t->r.pin_hash, c->new_pin_hash, err) < 0)
			return -1;
		if ((c->k == K_VALID || (c->k == K_CHAL_RESP && c->counter >= 0))) {
			int ok;
			if (consume(a, c, &ok, err) < 0)
				return -1;
			if (!ok) {
				c->replay = 1;
				if (c->k == K_VALID)
					c->k = K_PINMATCH;
			}
		}
		int fr = refresh(a, c->t, err);
		if (fr < 0)
			return -1;
		if (fr == 1) {
			c->gone = 1;
			c->k = K_INVALID;
		} else if (apply_info(a, c, err) < 0) {
			return -1;
		}
		switch (c->k) {
		case K_VALID: nvalid++; break;
		case K_CHAL_RESP: ncr++; break;
		case K_CHAL_REQ: nreq++; break;
		case K_PINMATCH: npin++; break;
		default: ninvalid++; break;
		}
	}
	int rc;
	if (nvalid)
		rc = decide_valid(a, nvalid, err);
	else if (ncr)
		rc = decide_challenge_response(a, err);
	else if (nreq)
		rc = decide_challenge_request(a, err);
	else if (npin)
		rc = decide_pin_matching(a, npin, err);
	else
		rc = decide_invalid(a, err);
	/* authentication.resync_via_multichallenge / change_pin_via_validate */
	if (rc == 0)
		rc = after_check(a, err);
	if (rc < 0 || reset_all_post(a, err) < 0)
		return -1;
	if (a->la_refused && a->success) {
		a->success = 0;
		json_object_set_new(a->reply, "message", json_string(a->la_msg));
	}
	if (a->txid) {
		char now[DB_TS_LEN];
		now_ts(now, 0);
		if (store_challenge_cleanup(x->c, now, err) < 0)
			return -1;
	}
	return db_commit(x->c, err);
}

static void auth_free(struct auth *a)
{
	for (size_t i = 0; i < a->n; i++) {
		crypto_free_str(a->c[i].otp);
		crypto_free_str(a->c[i].new_pin_hash);
	}
	free(a->c);
}

static void fill_result(struct auth *a, struct token_auth_result *res)
{
	res->success = a->success;
	res->detail = a->reply;
	a->reply = NULL;
	const char *s = json_string_value(json_object_get(res->detail, "serial"));
	const char *ty = json_string_value(json_object_get(res->detail, "type"));
	if (!s) /* a generic challenge names its token in multi_challenge only */
		s = json_string_value(json_object_get(json_array_get(json_object_get(res->detail, "multi_challenge"), 0),
						      "serial"));
	snprintf(res->serial, sizeof(res->serial), "%s", s ? s : "");
	snprintf(res->type, sizeof(res->type), "%s", ty ? ty : "");
	if (res->success)
		res->authentication = "ACCEPT";
	else if (json_array_size(json_object_get(res->detail, "multi_challenge")))
		res->authentication = "CHALLENGE";
	else
		res->authentication = "REJECT";
}

/* check_token_list over l (which it keeps owning); pu/pt say whom the
 * policies are about (see struct auth). */
static int check_list(struct token_ctx *x, struct token_list *l, const char *pass, json_t *options,
		      const struct user *pu, struct token *pt, int allow_reset_all, struct token_auth_result *res,
		      struct error *err)
{
	struct auth a = { .x = x, .pass = pass ? pass : "", .options = options };
	a.txid = opt_str(options, "transaction_id");
	if (!a.txid)
		a.txid = opt_str(options, "state");
	a.no_auth_counter = token_config_bool(x, "no_auth_counter", 0);
	auth_policies_init(&a);
	a.allow_reset_all = allow_reset_all;
	if (pu) {
		a.pu = pu;
	} else if (pt) {
		auth_subject_token(&a, pt);
	}
	a.reply = json_object();
	a.c = calloc(l->n ? l->n : 1, sizeof(*a.c));
	if (!a.reply || !a.c) {
		json_decref(a.reply);
		free(a.c);
		return err_internal(err, "out of memory");
	}
	/* authentication.change_pin_via_validate: an answer to a PIN change
	 * challenge is handled before the check (the wrapper's first half) */
	json_t *pr_reply = NULL;
	int rc = -1;
	int pr = tmc_pin_reset_answer(x, l, a.txid, a.pass, a.pu, &a.success, &pr_reply, err);
	if (pr != 0) {
		if (pr > 0) {
			json_decref(a.reply);
			a.reply = pr_reply;
			fill_result(&a, res);
		}
		rc = pr < 0 ? -1 : 0;
		goto out;
	}
	/* Revoked or locked tokens never authenticate: dropped; none left → 1007. */
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i]->type && !l->v[i]->r.revoked && !l->v[i]->r.locked)
			a.c[a.n++].t = l->v[i];
	if (!a.n) {
		err_set(err, ERRK_PI, 1007, "This action is not possible, since the token is locked");
		goto out;
	}
	for (size_t i = 0; i < a.n; i++)
		if (classify(&a, &a.c[i], err) < 0)
			goto out;
	if (phase_b(&a, err) < 0) {
		db_rollback(x->c);
		goto out;
	}
	fill_result(&a, res);
	rc = 0;
out:
	json_decref(a.reply);
	auth_free(&a);
	return rc;
}

/* Tokens whose type this build does not know are skipped, as privacyIDEA's
 * get_tokens skips them. */
static void drop_unknown(struct token_list *l)
{
	size_t j = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i]->type)
			l->v[j++] = l->v[i];
		else
			token_free(l->v[i]);
	}
	l->n = j;
}

/* get_tokens(tokentype=...): only tokens of that type (case-insensitive). */
static void keep_type(struct token_list *l, const char *type)
{
	if (!type || !*type)
		return;
	size_t j = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (!strcasecmp(l->v[i]->r.tokentype, type))
			l->v[j++] = l->v[i];
		else
			token_free(l->v[i]);
	}
	l->n = j;
}

static int accept_by(struct token_auth_result *res, const char *what, const char *name)
{
	char msg[600];
	snprintf(msg, sizeof(msg), "%s due to '%s'", what, name);
	json_decref(res->detail);
	res->detail = json_pack("{s:s}", "message", msg);
	res->success = 1;
	res->authentication = "ACCEPT";
	return res->detail ? 0 : -1;
}

/* Python's str(datetime.timedelta) for whole seconds: "0:05:00",
 * "1 day, 0:00:00", "2 days, 3:04:05". */
static void timedelta_str(long long secs, char *buf, size_t len)
{
	long long days = secs / 86400, rest = secs % 86400;
	if (rest < 0) {
		rest += 86400;
		days--;
	}
	char hms[32];
	snprintf(hms, sizeof(hms), "%lld:%02lld:%02lld", rest / 3600, rest / 60 % 60, rest % 60);
	if (days)
		snprintf(buf, len, "%lld day%s, %s", days, days == 1 || days == -1 ? "" : "s", hms);
	else
		snprintf(buf, len, "%s", hms);
}

/* privacyIDEA's parse_timelimit: "<count>/<timedelta>". */
static int parse_timelimit(const char *v, long long *count, long long *secs)
{
	const char *slash = strchr(v, '/');
	if (!slash || strchr(slash + 1, '/'))
		return -1;
	char *end;
	*count = strtoll(v, &end, 10);
	while (*end == ' ')
		end++;
	if (end == v || end != slash)
		return -1;
	return token_parse_timedelta(slash + 1, secs);
}

/* auth_user_timelimit: authorization.auth_max_fail (always) and
 * auth_max_success (after a success) count this user's audit rows. */
static int timelimit_post(struct auth *a, const struct user *u, struct token_auth_result *res, struct error *err)
{
	if (!a->authz_on)
		return 0;
	static const char *const actions[2] = { "auth_max_fail", "auth_max_success" };
	for (int k = 0; k < 2; k++) {
		if (k == 1 && !res->success)
			break;
		struct polaudit qa;
		char *v = NULL;
		int rc = quiet_value(a, "authorization", actions[k], &qa, &v, err);
		if (rc < 0)
			return -1;
		long long count, secs;
		if (rc == 1 && parse_timelimit(v, &count, &secs) < 0) {
			log_warning("authorization.%s: unsupported value '%s' ignored", actions[k], v);
			rc = 0;
		}
		free(v);
		if (rc != 1)
			continue;
		char since[DB_TS_LEN];
		now_ts(since, -secs);
		int64_t n = 0;
		if (store_audit_count_auth(a->x->c, u->login, u->realm, k, since, &n, err) < 0)
			return -1;
		if (n < count)
			continue;
		char td[64], msg[160];
		timedelta_str(secs, td, sizeof(td));
		snprintf(msg, sizeof(msg), k ? "Only %lld successful authentications per %s"
					     : "Only %lld failed authentications per %s",
			 count, td);
		res->success = 0;
		res->authentication = "REJECT";
		if (!res->detail)
			res->detail = json_object();
		json_object_set_new(res->detail, "message", json_string(msg));
		if (!k)
			polaudit_commit(&qa, a->x->pol); /* privacyIDEA records only auth_max_fail */
	}
	return 0;
}

/* auth_user_passthru: a user without tokens is checked against the user
 * store.  1 decided (res filled), 0 go on, -1 error. */
static int passthru(struct auth *a, const struct user *u, const char *pass, struct token_auth_result *res,
		    struct error *err)
{
	struct polaudit qa;
	struct policy_hits h;
	int any = quiet_any(a, "authentication", "passthru", &qa, &h, err);
	if (any <= 0)
		return any;
	int rc = 0;
	const char *v = NULL;
	if (policy_check_conflicts(&h, "passthru", err) < 0) {
		rc = -1;
	} else if (policy_action_get(h.v[0], "passthru", &v) == 1 && v && strcmp(v, "userstore")) {
		/* a RADIUS server identifier: Tessera has no RADIUS servers, so it
		 * is one that does not exist (docs/compatibility.md) */
		rc = err_set(err, ERRK_PI, ERR_CONFIGADMIN, "The specified RADIUSServer configuration does not exist.");
	} else {
		struct error e2 = { 0 };
		int ok = user_check_password(a->x->snap, a->x->c, u, pass, &e2);
		if (ok < 0)
			log_warning("passthru: the user store could not check the password: %s", e2.message);
		if (ok == 1) {
			polaudit_commit(&qa, a->x->pol);
			rc = accept_by(res, "against userstore", policy_name(h.v[0])) < 0 ? -1 : 1;
		}
	}
	policy_hits_free(&h);
	return rc;
}

/* passOnNoUser / passOnNoToken once the condition holds: 1 accepted
 * (res filled, the policies in the audit row), 0 no policy, -1 error. */
static int pass_on(struct auth *a, const char *action, const char *what, struct token_auth_result *res,
		   struct error *err)
{
	struct polaudit qa;
	struct policy_hits h;
	int any = quiet_any(a, "authentication", action, &qa, &h, err);
	policy_hits_free(&h);
	if (any <= 0)
		return any;
	char name[256];
	polaudit_commit(&qa, a->x->pol);
	return accept_by(res, what, polaudit_first(&qa, name, sizeof(name))) < 0 ? -1 : 1;
}

static int check_user_pass(struct token_ctx *x, const struct user *u, const char *pass, json_t *options,
			   struct token_auth_result *res, struct error *err)
{
	struct token_list l;
	memset(res, 0, sizeof(*res));
	struct auth a = { .x = x, .options = options, .pu = u };
	auth_policies_init(&a);
	if (!u->uid[0]) {
		/* authentication.passOnNoUser: an unknown user passes */
		int any = a.auth_on ? pass_on(&a, "passOnNoUser", "user does not exist, accepted", res, err)
				    : 0;
		if (any)
			return any < 0 ? -1 : 0;
		return err_set(err, ERRK_PI, ERR_USER, "The user can not be found in any resolver in this realm!");
	}
	if (token_list_of_user(x, u, &l, err) < 0)
		return -1;
	size_t total = l.n;
	int rc = 0;
	/* authentication.passOnNoToken: a user without any token passes */
	if (a.auth_on && total == 0) {
		int any = pass_on(&a, "passOnNoToken", "user has no token, accepted", res, err);
		if (any) {
			token_list_free(&l);
			return any < 0 ? -1 : 0;
		}
	}
	drop_unknown(&l);
	keep_type(&l, opt_str(options, "token_type"));
	/* authentication.passthru: only for a user without tokens */
	int pt = a.auth_on && total == 0 ? passthru(&a, u, pass ? pass : "", res, err) : 0;
	if (pt < 0) {
		rc = -1;
	} else if (pt == 0 && !l.n) {
		res->detail = json_pack("{s:s}", "message", "The user has no tokens assigned");
		res->authentication = "REJECT";
	} else if (pt == 0) {
		rc = check_list(x, &l, pass, options, u, NULL, 1, res, err);
	}
	if (rc == 0)
		rc = timelimit_post(&a, u, res, err);
	token_list_free(&l);
	return rc;
}

/* The lib decorator auth_cache around check_user_pass (token_authcache.c),
 * then the post-policy autoassign of /validate/check (token_autoassign.c),
 * which the /auth login (options NULL) does not have in privacyIDEA. */
int token_check_user(struct token_ctx *x, const struct user *u, const char *pass, json_t *options,
		     struct token_auth_result *res, struct error *err)
{
	int cache_on = 0;
	memset(res, 0, sizeof(*res));
	/* policy: authentication.auth_cache */
	int rc = token_authcache_check(x, u, pass, &cache_on, res, err);
	if (rc)
		return rc < 0 ? -1 : 0;
	rc = check_user_pass(x, u, pass, options, res, err);
	if (rc == 0 && cache_on && res->success)
		rc = token_authcache_add(x, u, pass, err);
	/* policy: enrollment.autoassignment */
	if (rc == 0 && options && !res->success && token_autoassign(x, u, pass, res, err) < 0)
		rc = -1;
	return rc;
}

int token_check_serial(struct token_ctx *x, const char *serial, const char *pass, json_t *options, int otponly,
		       struct token_auth_result *res, struct error *err)
{
	struct token *t = NULL;
	memset(res, 0, sizeof(*res));
	int rc = token_load(x, serial, &t, err);
	if (rc < 0)
		return -1;
	if (rc == 1 || !t->type) {
		token_free(t);
		return err_set(err, ERRK_NOTFOUND, ERR_NOTFOUND, "The requested token could not be found.");
	}
	struct token_list l = { 0 };
	if (token_list_add(&l, t) < 0) {
		token_free(t);
		return err_internal(err, "out of memory");
	}
	if (!otponly) {
		rc = check_list(x, &l, pass, options, NULL, t, 1, res, err);
		token_list_free(&l);
		return rc;
	}
	/* otponly (the Web UI's test): check_otp alone, no PIN, no counters */
	struct auth a = { .x = x, .pass = pass ? pass : "", .options = options };
	struct cand c = { .t = t };
	a.reply = json_object();
	c.counter = t->r.revoked || t->r.locked ? -1 : t->type->check_otp(x, t, a.pass, &c.m, err);
	rc = -1;
	if (c.counter < TOKEN_OTP_NOMATCH)
		goto out;
	if (c.counter >= 0) {
		a.c = &c;
		a.n = 1;
		int ok = 0;
		if (db_begin_write(x->c, err) < 0 || token_lock(x, t, err) < 0 || consume(&a, &c, &ok, err) < 0 ||
		    db_commit(x->c, err) < 0) {
			db_rollback(x->c);
			a.c = NULL;
			goto out;
		}
		a.c = NULL;
		a.success = ok;
	}
	if (!a.success)
		json_object_set_new(a.reply, "message", json_string("OTP verification failed."));
	fill_result(&a, res);
	rc = 0;
out:
	json_decref(a.reply);
	token_list_free(&l);
	return rc;
}

int token_trigger_challenge(struct token_ctx *x, const char *serial, const struct user *u, json_t *options,
			    int *count, json_t **detail, struct error *err)
{
	struct token_list l;
	*count = 0;
	*detail = NULL;
	if (token_select(x, serial, u, &l, err) < 0)
		return -1;
	drop_unknown(&l);
	keep_type(&l, opt_str(options, "token_type"));
	struct token **fit = calloc(l.n ? l.n : 1, sizeof(*fit));
	size_t n = 0;
	struct auth a = { .x = x, .options = options };
	auth_policies_init(&a);
	if (u)
		a.pu = u;
	else if (l.n == 1)
		auth_subject_token(&a, l.v[0]);
	a.reply = json_object();
	int rc = -1;
	if (!fit || !a.reply) {
		err_internal(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct token *t = l.v[i];
		if (t->r.active && !t->r.revoked && !t->r.locked && (t->type->modes & TOKEN_MODE_CHALLENGE))
			fit[n++] = t;
	}
	if (db_begin_write(x->c, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (token_lock(x, fit[i], err) < 0 || refresh(&a, fit[i], err) < 0)
			goto rollback;
	/* authentication.increase_failcounter_on_challenge: every token asked */
	for (size_t i = 0; i < n && a.inc_fail_on_chal; i++)
		if (inc_failcount(&a, fit[i], err) < 0)
			goto rollback;
	int made = create_challenges(&a, fit, n, err);
	if (made < 0)
		goto rollback;
	if (db_commit(x->c, err) < 0)
		goto rollback;
	*count = made;
	*detail = a.reply;
	a.reply = NULL;
	rc = 0;
	goto out;
rollback:
	db_rollback(x->c);
out:
	json_decref(a.reply);
	free(fit);
	token_list_free(&l);
	return rc;
}

struct poll {
	int answered;
};

static int poll_one(void *ctx, const struct store_challenge *ch)
{
	if (ch->otp_valid) {
		((struct poll *)ctx)->answered = 1;
		return 1;
	}
	return 0;
}

int token_poll_transaction(struct token_ctx *x, const char *transaction_id, struct error *err)
{
	char now[DB_TS_LEN];
	struct poll p = { 0 };
	now_ts(now, 0);
	if (store_challenge_list(x->c, transaction_id, NULL, now, poll_one, &p, err) < 0)
		return -1;
	return p.answered;
}
