/*
 * token.h — the token core: privacyIDEA's lib/token.py and TokenClass.
 *
 * A token is a row of the `token` table with its tokeninfo, owner and
 * realms; its type (src/lib/tokens/<type>.c, one const struct token_type
 * each, see tokens/tokentype.h) supplies what differs: enrollment
 * parameters, the OTP check, resync, the enrollment details.  Everything
 * else lives here and in token_auth.c (the authentication algorithm,
 * challenges), token_admin.c (the management operations) and
 * token_list.c (listing, import).
 *
 * Rules every function follows:
 *  - Each write is one transaction opened here (db_begin_write …
 *    db_commit); on any error the function returns -1 before committing and
 *    the caller's connection release rolls back: nothing is half-written.
 *  - Read-modify-write on one token runs under token_lock (PostgreSQL
 *    advisory lock on the token id, SQLite's single writer), and an OTP
 *    counter only moves forward through one conditional UPDATE
 *    (store_token_consume_count): a value is never accepted twice, even
 *    across processes sharing a database.
 *  - Seeds (key_enc/key_iv) and encrypted PINs use privacyIDEA's formats
 *    (crypto.h); hashed PINs use pin.h.  Neither ever leaves the core
 *    except in the enrollment answer of the request that set them.
 *  - Policies come with the request's context (token_ctx.pol, polctx.h):
 *    the library asks the authentication/authorization questions of
 *    privacyIDEA's lib decorators where a "policy: <scope>.<action>"
 *    comment marks them; the admin/user rights and the /token
 *    pre-policies are the API layer's (src/api/guard.c, token_prepolicy.c).
 *    With ctx.pol NULL (CLI, tests) every question finds no policy.
 */
#ifndef TESSERA_TOKEN_H
#define TESSERA_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "error.h"
#include "user.h"
#include "../db/store_token.h"

struct app;
struct db_conn;
struct snapshot;
struct token_type;
struct polctx;

/* What every operation needs: the process, the request's connection and
 * configuration snapshot. */
struct token_ctx {
	struct app *app;
	struct db_conn *c;
	struct snapshot *snap;
	/* The request's policies (src/lib/polctx.h); NULL = no policy defined
	 * (CLI, tests): every question finds nothing. */
	const struct polctx *pol;
	/* POST /token/revoke `reason` (Tessera extension): the CRL reason the
	 * certificate type gives its CA; NULL = unspecified. */
	const char *revoke_reason;
	/* Optional (set by the API when an enrollment limit policy applies,
	 * e.g. enrollment.max_token_per_user): token_init, token_assign and
	 * token_enable call it inside their write transaction, after
	 * db_begin_write and token_lock, before writing.  It serialises the
	 * counted set (db_lock_xact) and counts again, so two concurrent
	 * enrollments can never both pass the limit; -1 (err set) refuses. */
	int (*limit_check)(void *ctx, struct token_ctx *x, struct error *err);
	void *limit_ctx;
};

struct token {
	struct store_token_row r;       /* the columns, owner included            */
	const struct token_type *type;  /* NULL when the stored type is unknown   */
	json_t *info;                   /* {Key: Value} as stored                 */
	json_t *info_type;              /* {Key: Type} for typed entries          */
	json_t *realms;                 /* realm names, NULL until loaded         */
};

struct token_list {
	struct token **v;
	size_t n, cap;
};

/* Date format of tokeninfo timestamps (validity period,
 * failcounter_exceeded): privacyIDEA's DATE_FORMAT. */
#define TOKEN_DATE_FORMAT "%Y-%m-%dT%H:%M%z"

/* ---- loading ---- */
/* By exact serial (with info): 0 found, 1 not found, -1 error. */
int token_load(struct token_ctx *x, const char *serial, struct token **out, struct error *err);
void token_free(struct token *t);
void token_list_free(struct token_list *l);
int token_list_add(struct token_list *l, struct token *t);
/* Every token of a user (owner resolver + uid in the user's realm), with
 * info.  An unresolved user has no tokens. */
int token_list_of_user(struct token_ctx *x, const struct user *u, struct token_list *out, struct error *err);
/* privacyIDEA's get_tokens_from_serial_or_user: a serial must name exactly
 * one token (owned by u when u is given, else 404 "The requested token
 * could not be found."); without a serial all tokens of u (may be none);
 * neither → ERR905 "You either need to provide user or serial". */
int token_select(struct token_ctx *x, const char *serial, const struct user *u, struct token_list *out,
		 struct error *err);
/* Realm names of the token (loaded on first use, cached in t->realms). */
json_t *token_realms(struct token_ctx *x, struct token *t, struct error *err);

/* ---- small accessors ---- */
/* A tokeninfo value or def. */
const char *token_info(const struct token *t, const char *key, const char *def);
long long token_info_int(const struct token *t, const char *key, long long def);
/* The system setting through the request's snapshot. */
const char *token_config(struct token_ctx *x, const char *key, const char *def);
long long token_config_int(struct token_ctx *x, const char *key, long long def);
int token_config_bool(struct token_ctx *x, const char *key, int def);
/* The seed/password as stored: decrypted key_enc (malloc'd, NUL-terminated,
 * *len bytes; free with crypto_free_secret(k, len)).  For OATH types this
 * is the hex string of the seed; token_key_raw decodes it. */
unsigned char *token_key_text(struct token_ctx *x, const struct token *t, size_t *len, struct error *err);
unsigned char *token_key_raw(struct token_ctx *x, const struct token *t, size_t *len, struct error *err);
/* Split pass into PIN and OTP by otplen and PrependPin (split_pin_pass).
 * pin and otp are malloc'd (free with crypto_free_str). */
int token_split_pin_pass(struct token_ctx *x, const struct token *t, const char *pass, char **pin, char **otp);

/* ---- writes used by the types and the core (caller's transaction) ---- */
/* In a write transaction: serialise work on this token across processes. */
int token_lock(struct token_ctx *x, const struct token *t, struct error *err);
/* Set one tokeninfo entry (type "password": value encrypted first, as
 * privacyIDEA's add_tokeninfo(value_type="password")). Updates t->info. */
int token_set_info(struct token_ctx *x, struct token *t, const char *key, const char *value, const char *type,
		   struct error *err);
int token_del_info(struct token_ctx *x, struct token *t, const char *key, struct error *err);
/* The OTP PIN: hashed (pin.h) or encrypted (encrypt = 1). */
int token_store_pin(struct token_ctx *x, struct token *t, const char *pin, int encrypt, struct error *err);
/* 1 PIN matches, 0 not, -1 unreadable stored value.  *rehash as pin.h. */
int token_check_pin(struct token_ctx *x, const struct token *t, const char *pin, int *rehash);
/* Store key text (hex seed or password) encrypted into key_enc/key_iv. */
int token_store_key(struct token_ctx *x, struct token *t, const char *key_text, size_t len, struct error *err);
/* Write t->r (all columns) back. */
int token_save(struct token_ctx *x, struct token *t, struct error *err);

/* ---- enrollment (token_init.c) ---- */
/* POST /token/init: create or re-initialise (same serial and type) a
 * token from the request parameters; owner may be NULL or empty.
 * *detail gets the enrollment details (serial, otpkey, googleurl …).
 * caller_is_user: a user may only re-initialise their own tokens. */
int token_init(struct token_ctx *x, json_t *params, const struct user *owner, int caller_is_user, json_t **detail,
	       struct token **out, struct error *err);
/* privacyIDEA's get_init_tokenlabel_parameters: the enrollment policies
 * tokenlabel, tokenissuer, appimageurl (text values) and
 * <type>_force_app_pin of the owner u (else of its realm, else any) are
 * put into params. */
int token_init_label_params(struct token_ctx *x, const struct user *u, const char *type, json_t *params,
			    struct error *err);
/* privacyIDEA's gen_serial: prefix + 4-digit count of that type + random
 * upper-case hex up to SerialLength. */
int token_gen_serial(struct token_ctx *x, const struct token_type *ty, const char *prefix, char *out, size_t len,
		     struct error *err);
/* "^[0-9a-zA-Z\-_]+$" and at most 40 characters. */
int token_serial_valid(const char *serial);
/* Parse a validity period date (YYYY-MM-DDThh:mm[+oooo], with optional
 * seconds / "Z" / "+hh:mm", or legacy "DD/MM/YY HH:MM") → epoch seconds. */
int token_parse_date(const char *s, int64_t *epoch);
/* Epoch → "YYYY-MM-DDThh:mm+0000" (UTC). */
void token_format_date(int64_t epoch, char *buf, size_t len);

/* ---- the token as GET /token/ shows it ---- */
/* privacyIDEA's Token.get() plus username/user_realm/user_editable.
 * Encrypted info values are shown as stored, never decrypted. */
json_t *token_as_dict(struct token_ctx *x, struct token *t, struct error *err);

/* ---- management (token_admin.c); counts as privacyIDEA returns them ---- */
int token_assign(struct token_ctx *x, const char *serial, const struct user *u, const char *pin, int encrypt,
		 int caller_is_user, struct error *err);
int token_unassign(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err);
int token_enable(struct token_ctx *x, const char *serial, const struct user *u, int enable, int *count,
		 struct error *err);
int token_revoke(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err);
int token_reset(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err);
int token_remove(struct token_ctx *x, const char *serial, const struct user *u, int *count, struct error *err);
int token_resync(struct token_ctx *x, const char *serial, const struct user *u, const char *otp1,
		 const char *otp2, int *ok, struct error *err);
int token_setpin(struct token_ctx *x, const char *serial, const struct user *u, const char *pin, int encrypt,
		 int *count, struct error *err);
/* userpin / sopin: encrypted user_pin / so_pin columns. */
int token_set_user_pin(struct token_ctx *x, const char *serial, const struct user *u, const char *pin, int so,
		       int *count, struct error *err);
int token_set_description(struct token_ctx *x, const char *serial, const struct user *u, const char *desc,
			  int *count, struct error *err);
/* POST /token/set: the attributes present in params; *count as privacyIDEA
 * (one per attribute and token); action_detail gets "key=value, " items. */
int token_set_attributes(struct token_ctx *x, const char *serial, const struct user *u, json_t *params, int *count,
			 char *action_detail, size_t adlen, struct error *err);
/* Replace the token realms (unknown realm names are skipped). */
int token_set_realms(struct token_ctx *x, const char *serial, json_t *realm_names, struct error *err);
int token_info_set(struct token_ctx *x, const char *serial, const char *key, const char *value, struct error *err);
int token_info_delete(struct token_ctx *x, const char *serial, const char *key, struct error *err);
int token_copy_pin(struct token_ctx *x, const char *from, const char *to, struct error *err);
int token_copy_user(struct token_ctx *x, const char *from, const char *to, struct error *err);
/* The lost-token workflow; *result is privacyIDEA's result dict. */
int token_lost(struct token_ctx *x, const char *serial, const struct user *u, json_t **result, struct error *err);
/* GET /token/getserial/<otp>. */
struct token_getserial_opts {
	const char *type, *serial_substr;
	int assigned;  /* -1 any */
	int count_only;
	long window;
	const struct store_realm_limit *limit; /* realm-restricted admin, or NULL */
};
int token_getserial(struct token_ctx *x, const char *otp, const struct token_getserial_opts *o, json_t **out,
		    struct error *err);

/* ---- listing and import (token_list.c) ---- */
struct token_list_query {
	struct store_token_filter f;
	const char *sortby;
	int desc;
	int64_t page, pagesize;
};
/* {"tokens": [...], "prev", "next", "current", "count"}. */
int token_list_page(struct token_ctx *x, const struct token_list_query *q, json_t **out, struct error *err);
/* {"challenges": [...], "prev", "next", "current", "count"}; lim: the
 * realms of a realm-restricted admin (NULL: all). */
int token_challenges_page(struct token_ctx *x, const char *serial, const char *transaction_id,
			  const struct store_realm_limit *lim, const char *sortby, int desc, int64_t page,
			  int64_t pagesize, json_t **out, struct error *err);
struct import_list;
/* Create/overwrite the tokens of an import list in one transaction;
 * tokenrealms: array of realm names (may be NULL). */
int token_import(struct token_ctx *x, const struct import_list *l, json_t *tokenrealms, int *n_imported,
		 json_t **serials, struct error *err);

/* ---- authentication (token_auth.c) ---- */
struct token_auth_result {
	int success;          /* result.value                                  */
	json_t *detail;       /* the reply dict (message, serial, type …) new ref */
	char serial[128];     /* for the audit row                             */
	char type[64];
	const char *authentication; /* "ACCEPT" / "REJECT" / "CHALLENGE"       */
};
void token_auth_result_clear(struct token_auth_result *r);
/* check_user_pass with its policies (passOnNoUser, passOnNoToken,
 * auth_max_success/fail, last_auth, passthru, otppin, challenge_response,
 * reset_all_user_tokens; x->pol).  u may be unresolved (no uid): then
 * passOnNoUser or ERR904.  options: the request parameters; "token_type"
 * restricts the tokens checked (application_tokentype), a true
 * "increase_failcounter_on_challenge" counts a failure per challenge. */
int token_check_user(struct token_ctx *x, const struct user *u, const char *pass, json_t *options,
		     struct token_auth_result *res, struct error *err);
/* check_serial_pass (policies matched with the token: its owner, else its
 * realm); otponly: check_otp only (no PIN, no policy). */
int token_check_serial(struct token_ctx *x, const char *serial, const char *pass, json_t *options, int otponly,
		       struct token_auth_result *res, struct error *err);
/* /validate/triggerchallenge: challenges for the active challenge-capable
 * tokens of serial or user (options "token_type" restricts them, a true
 * "increase_failcounter_on_challenge" counts a failure each); detail as
 * privacyIDEA's create_challenges_from_tokens. */
int token_trigger_challenge(struct token_ctx *x, const char *serial, const struct user *u, json_t *options,
			    int *count, json_t **detail, struct error *err);
/* /validate/polltransaction: 1 when a live challenge of the transaction was
 * answered, 0 otherwise. */
int token_poll_transaction(struct token_ctx *x, const char *transaction_id, struct error *err);

#endif
