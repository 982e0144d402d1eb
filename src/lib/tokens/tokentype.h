/*
 * tokentype.h — the token-type plug-in family (privacyIDEA's TokenClass
 * subclasses): one file per type in this folder exports one const
 * struct token_type; registry.c lists them.  The core (token*.c) never
 * learns a type's name.
 *
 * A type declares its enrollment parameters and policy actions as data
 * (for /token/init validation, /ttype, /policy/defs) and supplies the
 * behaviour that differs between types.  Entry points may be NULL where
 * the type does not support something (resync, previous-OTP detection).
 *
 * check_otp is pure: it computes, it does not write.  It returns the
 * matched counter (>= 0), -1 for no match, or a distinct negative
 * (TOKEN_OTP_ERROR, err filled) for an error, and describes in *m what a
 * success consumes; the core applies that atomically in its write
 * transaction (conditional counter update, deletion of a used TAN), so
 * two requests with one value can never both succeed.
 */
#ifndef TESSERA_TOKENTYPE_H
#define TESSERA_TOKENTYPE_H

#include <stdint.h>
#include <jansson.h>

#include "../error.h"
#include "../token.h"

enum token_mode { TOKEN_MODE_AUTHENTICATE = 1, TOKEN_MODE_CHALLENGE = 2, TOKEN_MODE_OUTOFBAND = 4 };

enum token_ptype { TP_STR, TP_INT, TP_BOOL, TP_HEX };

enum { TOKEN_UI_ADMIN = 1, TOKEN_UI_USER = 2 };

/* One /token/init parameter, declared as data. */
struct token_param {
	const char *name;
	enum token_ptype type;
	const char *def;          /* default as text, or NULL */
	const char *description;
};

/* One policy action the type adds (privacyIDEA's get_class_info policy). */
struct token_policy_action {
	const char *scope;        /* "admin", "user", "enrollment", "authentication" */
	const char *name;         /* "hotp_hashlib" */
	const char *type;         /* "str", "int", "bool" */
	const char *values;       /* space separated choices, or NULL */
	const char *description;
};

#define TOKEN_OTP_NOMATCH (-1)
#define TOKEN_OTP_ERROR (-2)

/* What an accepted OTP consumes. */
struct otp_match {
	int set_count;            /* UPDATE count = new_count WHERE count < new_count */
	int64_t new_count;
	char consume_info[64];    /* tokeninfo key that must be deleted (TAN)          */
	int set_shift;            /* TOTP: new timeShift                               */
	char shift[32];
	/* tokeninfo written whether or not the value was accepted (AutoResync
	 * memory otp1c/dueDate): up to two sets and two deletions */
	struct {
		char key[32];
		char value[32];
	} info_set[2];
	int n_info_set;
	char info_del[2][32];
	int n_info_del;
};

/* The state of one enrollment (POST /token/init, import, lost token). */
struct token_enroll {
	struct token_ctx *x;
	json_t *params;           /* request parameters (the type may read only)     */
	const struct user *owner; /* NULL or empty: no user                          */
	struct token *t;          /* the token being written (r.id 0 while new)      */
	int is_new;
	/* Set by the type's enroll: */
	char *otpkey;             /* key text to store (hex seed / password), wiped  */
	int otpkey_generated;
	json_t *init_details;     /* extra details (paper: "otps") — new ref or NULL */
	json_t *info;             /* tokeninfo to write {key: value}                 */
	/* The result of the type's prepare (token_init, before its write
	 * transaction), for enroll to store; NULL when prepare did not run
	 * (no prepare, import, lost token).  Owned by the core (free_state). */
	void *type_state;
};

struct token_type {
	const char *name;         /* "hotp" */
	const char *prefix;       /* serial prefix "OATH" */
	const char *title;
	const char *description;
	unsigned modes;           /* enum token_mode bits */
	const char *client_mode;  /* "interactive" */
	int pin_only;             /* spass: the whole pass is the PIN */
	unsigned ui_enroll;       /* who enrolls it in the Web UI: TOKEN_UI_ADMIN | TOKEN_UI_USER */
	int delete_on_success;    /* registration: the token deletes itself */
	/* Optional (0: no): the type supports enrollment.verify_enrollment
	 * (privacyIDEA's can_verify_enrollment): after /token/init the token
	 * waits in rollout_state "verify" until a second /token/init with
	 * `verify` = a value its check_otp accepts (token_init.c). */
	int can_verify_enrollment;
	const char *reinit_clear; /* tokeninfo key prefix dropped on re-initialisation */
	const struct token_param *params;          /* { NULL } terminated */
	const struct token_policy_action *policies; /* { NULL } terminated */

	/* Validate the type's parameters and decide key, otplen, tokeninfo.
	 * Runs before anything is written. */
	int (*enroll)(struct token_enroll *e, struct error *err);
	/* Optional: the expensive, database-independent part of enroll (key
	 * generation, CSR checks, CA signing), which POST /token/init runs
	 * BEFORE its write transaction so no write lock is held meanwhile.
	 * e->t is a detached copy (the token as loaded outside the transaction,
	 * or a new one's defaults) and must not be relied on later; the result
	 * goes to e->type_state (free_state frees it), which the following
	 * enroll, inside the transaction, stores.  A failed prepare leaves
	 * nothing behind.  When the enrollment fails after a successful
	 * prepare, the core calls enroll_failed with e->x and e->type_state set
	 * (e->info / e->init_details may be NULL).  NULL: enroll does it all. */
	int (*prepare)(struct token_enroll *e, struct error *err);
	void (*free_state)(void *state);
	/* Add the type's enrollment details to detail (after the write). */
	int (*init_detail)(struct token_enroll *e, json_t *detail, struct error *err);
	int64_t (*check_otp)(struct token_ctx *x, const struct token *t, const char *otp, struct otp_match *m,
			     struct error *err);
	/* 1 when otp is an already used value (". previous otp used again"). */
	int (*is_previous_otp)(struct token_ctx *x, const struct token *t, const char *otp);
	/* Two consecutive values: 1 synced (m says what to store), 0 not. */
	int (*resync)(struct token_ctx *x, const struct token *t, const char *otp1, const char *otp2,
		      struct otp_match *m, struct error *err);
	/* For getserial / autoassignment: the counter the OTP belongs to in a
	 * window ahead of the current one, or -1; *m what finding it consumes
	 * (privacyIDEA's check_otp_exist advances the counter). */
	int64_t (*otp_exists)(struct token_ctx *x, const struct token *t, const char *otp, long window,
			      struct otp_match *m);
	/* Replace type-private info in the GET /token/ dict (TAN list → count). */
	void (*filter_info)(json_t *info);
	/* Optional: POST /token/revoke, inside the core's revoke transaction,
	 * for a token not revoked before (certificate: revoke at the CA). */
	int (*revoke)(struct token_ctx *x, const struct token *t, struct error *err);
	/* Optional: enroll succeeded but the enrollment failed afterwards
	 * (nothing is written); undo outside effects (certificate: revoke). */
	void (*enroll_failed)(struct token_enroll *e);
	/* Optional: bring a loaded token up to date before GET /token/ shows it
	 * (certificate: a pending request issued meanwhile); may write. */
	int (*refresh)(struct token_ctx *x, struct token *t, struct error *err);
};

/* ---- registry.c ---- */
extern const struct token_type *const token_types[]; /* NULL terminated */
/* By name, case-insensitive; NULL when unknown. */
const struct token_type *token_type_find(const char *name);
/* GET /auth/rights: {type: description} of the types an admin (user = 0)
 * or a user (user = 1) enrolls in the Web UI (privacyIDEA's ui_enroll).
 * policy: admin/user.enroll<TYPE> narrows this once policies exist. */
json_t *token_types_enrollable(int user);

/* The built-in types. */
extern const struct token_type token_type_hotp;
extern const struct token_type token_type_totp;
extern const struct token_type token_type_spass;
extern const struct token_type token_type_pw;
extern const struct token_type token_type_registration;
extern const struct token_type token_type_paper;
extern const struct token_type token_type_tan;
extern const struct token_type token_type_certificate;

/* HOTP's entry points, shared with the types built on it (paper). */
int64_t token_hotp_check_otp(struct token_ctx *x, const struct token *t, const char *otp, struct otp_match *m,
			     struct error *err);
int token_hotp_is_previous(struct token_ctx *x, const struct token *t, const char *otp);
int token_hotp_resync(struct token_ctx *x, const struct token *t, const char *otp1, const char *otp2,
		      struct otp_match *m, struct error *err);
int64_t token_hotp_exists(struct token_ctx *x, const struct token *t, const char *otp, long window,
			  struct otp_match *m);

/* The password token's check and password enrollment (pw.c), shared with
 * registration. */
int64_t token_pw_check_otp(struct token_ctx *x, const struct token *t, const char *otp, struct otp_match *m,
			   struct error *err);
int token_pw_enroll_password(struct token_enroll *e, const char *type_prefix, size_t def_len, int always_generate,
			     struct error *err);

/* The paper token's value list and count parameter (paper.c), shared
 * with tan. */
json_t *token_paper_otps(const char *hexkey, int otplen, const char *hashlib, long n, struct error *err);
long token_paper_count(struct token_enroll *e, const char *name, struct error *err);

/* ---- helpers shared by the types (oath.c) ---- */
/* The OATH parameters of hotp/totp/paper: otplen (6 or 8), hashlib and the
 * key (otpkey hex / genkey with keysize), into e.  keysize_default 0:
 * derived from the hashlib (20/32/64). */
int oath_enroll_key(struct token_enroll *e, const char *hashlib_default, struct error *err);
/* The hashlib of an OATH token: tokeninfo hashlib, else the config key
 * (e.g. "hotp.hashlib"), else sha1. */
const char *oath_hashlib(struct token_ctx *x, const struct token *t, const char *config_key);
/* otpkey / googleurl / oathurl details (HotpTokenClass.get_init_detail). */
int oath_init_detail(struct token_enroll *e, json_t *detail, const char *urltype, long period,
		     struct error *err);
/* Replace the token's rollout_state (the core writes it with the row);
 * token_init.c. */
int token_set_rollout_state(struct token *t, const char *state, struct error *err);
/* A request parameter as text (NULL when absent). */
const char *enroll_param(const struct token_enroll *e, const char *name);
/* Random password of len characters from privacyIDEA's content classes
 * ("c" letters, "n" digits, "s" specials, "8" base58, "C"/"c" upper/lower
 * in lost-token contents), at least one of each class. */
int token_random_password(char *out, size_t len, const char *contents, int case_split);

#endif
