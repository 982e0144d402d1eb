/*
 * policy_defs.h — the policy action definitions: one table (policy_defs.c)
 * with every action of every scope, its type, description, allowed values,
 * UI group and main menus.  Everything that needs to know the actions is
 * generated from it: validation of POST /policy, GET /policy/defs, the
 * rights list of /auth when a scope has no policy.
 *
 * Actions contributed by a token type carry its name in `tokentype`;
 * adding a token type's actions is adding rows.
 */
#ifndef TESSERA_POLICY_DEFS_H
#define TESSERA_POLICY_DEFS_H

#include <jansson.h>
#include "error.h"

enum policy_type { POLICY_TYPE_BOOL, POLICY_TYPE_STR, POLICY_TYPE_INT, POLICY_TYPE_TEXT };

/* Where the allowed values of an action come from. */
enum policy_values {
	PV_NONE = 0,     /* any value */
	PV_LIST,         /* the fixed list `list` ('|'-separated) */
	PV_RANGE,        /* the integers lo..hi */
	PV_TOKENTYPES,   /* the token type names (policy_token_types) */
	/* Lists that depend on the configuration; not validated (privacyIDEA
	 * does not either, and the configuration may follow the policy). */
	PV_REALMS,
	PV_RESOLVERS,
	PV_SMTP,         /* SMTP server identifiers */
	PV_RADIUS,       /* "userstore" + RADIUS server identifiers */
	PV_CACONNECTORS,
	PV_FIREBASE,     /* "poll only" + Firebase gateway identifiers */
};

#define POLICY_DEF_MULTIPLE 1u /* the value is a whitespace-separated list of allowed values */
#define POLICY_DEF_CASELESS 2u /* allowed values compare case-insensitively */

struct policy_def {
	const char *scope;
	const char *action;
	enum policy_type type;
	const char *desc;
	const char *group;    /* NULL: no group */
	const char *mainmenu; /* '|'-separated menus; "" = []; NULL = no key */
	enum policy_values values;
	const char *list;     /* PV_LIST */
	int lo, hi;           /* PV_RANGE */
	unsigned flags;
	const char *tokentype; /* token type contributing the action; NULL = static */
};

/* The scopes that take policies, in definition order. */
extern const char *const policy_scope_names[];
/* The token types known to the definitions (lower case), NULL-terminated. */
extern const char *const policy_token_types[];

/* The table, and its length. */
extern const struct policy_def policy_defs[];
extern const size_t policy_defs_count;

/* 1 when scope is one of policy_scope_names. */
int policy_scope_known(const char *scope);
/* The definition of action in scope, or NULL. */
const struct policy_def *policy_def_find(const char *scope, const char *action);
/* "bool", "str", "int", "text". */
const char *policy_type_name(enum policy_type t);

/* Check a value for the action (value NULL: the bare key, i.e. true).
 * Integers must be integers, listed values must be listed; ERR905 else. */
int policy_def_check_value(const struct policy_def *d, const char *value, struct error *err);

/* Configuration-dependent value lists for GET /policy/defs: returns a new
 * array for `which`, or NULL for an empty list. */
struct policy_defs_source {
	void *ctx;
	json_t *(*values)(void *ctx, enum policy_values which);
};

/* {scope: {action: {"type", "desc"[, "group"][, "mainmenu"][, "value"][, "multiple"]}}}
 * for every scope (scope NULL) or the dict of one scope (NULL when unknown). */
json_t *policy_defs_json(const char *scope, const struct policy_defs_source *src);
/* {"sections": {name: {"description"}}, "comparators": {name: {"description"}}} */
json_t *policy_defs_conditions_json(void);

#endif
