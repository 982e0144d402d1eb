/*
 * resolver.h — the user-store plug-in family ("UserIdResolvers").
 *
 * One file per type (passwdresolver, sqlresolver, ldapresolver,
 * httpresolver) exports one const struct resolver_type; resolvers.c lists
 * them.  An instance (struct resolver) is built from a resolver
 * definition — the key/value parameters exactly as privacyIDEA names them,
 * all values as JSON strings (passwords already decrypted) — and is shared
 * by all worker threads: implementations must be thread-safe (own locks,
 * own connection pools).  Instances never touch Tessera's own database.
 *
 * User attributes use privacyIDEA's keys: "userid", "username",
 * "givenname", "surname", "email", "phone", "mobile", "description",
 * plus any further mapped keys.  Values are strings, or arrays of strings
 * for multi-value attributes.
 *
 * Return convention: 0 = ok/found, 1 = not found, -1 = error with err
 * filled (ERRK_PI with ERR_USER 904 / ERR_CONFIGADMIN 302 as privacyIDEA,
 * never with a password in the message).
 */
#ifndef TESSERA_RESOLVER_H
#define TESSERA_RESOLVER_H

#include <stddef.h>
#include <jansson.h>
#include "../error.h"

enum resolver_ptype { RP_STRING, RP_INT, RP_BOOL, RP_PASSWORD, RP_JSON };

/* One configuration parameter, declared as data: validation, censoring
 * (RP_PASSWORD → "__CENSORED__" on GET) and documentation come from it. */
struct resolver_param {
	const char *name;
	enum resolver_ptype type;
	int required;
	const char *def; /* default value as text, or NULL */
	const char *description;
};

struct resolver;

struct resolver_type {
	const char *name;        /* "passwdresolver", "sqlresolver", "ldapresolver", "httpresolver" */
	const char *description;
	const struct resolver_param *params; /* terminated by { NULL } */

	/* Build an instance from a definition (object of name → string).
	 * Missing required parameter / malformed value → -1, ERR905-style message. */
	struct resolver *(*create)(const char *name, const json_t *config, struct error *err);
	void (*destroy)(struct resolver *r);

	/* login name → uid (malloc'd). 1 when the user does not exist. */
	int (*get_user_id)(struct resolver *r, const char *login, char **uid, struct error *err);
	/* uid → login name (malloc'd). */
	int (*get_username)(struct resolver *r, const char *uid, char **login, struct error *err);
	/* uid → new object of attributes (always with "userid" and "username"). */
	int (*get_user_info)(struct resolver *r, const char *uid, json_t **info, struct error *err);
	/* search: object attribute → pattern, where '*' is a wildcard and other
	 * characters are literal (never a filter/SQL fragment).  Result: new
	 * array of info objects, at most the resolver's limit. */
	int (*get_user_list)(struct resolver *r, const json_t *search, json_t **list, struct error *err);
	/* 0 = password right, 1 = wrong (or user unknown), -1 = store error. */
	int (*check_pass)(struct resolver *r, const char *uid, const char *password, struct error *err);

	/* Editable stores only (NULL otherwise, or return an error when the
	 * definition is not editable). attrs use privacyIDEA keys, "password"
	 * in clear (hashed by the store's rules). */
	int (*add_user)(struct resolver *r, const json_t *attrs, char **uid, struct error *err);
	int (*update_user)(struct resolver *r, const char *uid, const json_t *attrs, struct error *err);
	int (*delete_user)(struct resolver *r, const char *uid, struct error *err);
	int (*editable)(const struct resolver *r);

	/* Test a definition without keeping it: 0 with *desc (malloc'd,
	 * e.g. "Resolver config seems OK. 123 Users found."), -1 with err. */
	int (*test_connection)(const json_t *config, char **desc, struct error *err);
};

struct resolver {
	const struct resolver_type *type;
	char *name;
	void *priv;
};

/* The built-in types (passwd.c, sql.c, ldap.c, http.c). */
extern const struct resolver_type passwdresolver_type;
extern const struct resolver_type sqlresolver_type;
extern const struct resolver_type ldapresolver_type;
extern const struct resolver_type httpresolver_type;

/* The registry (resolvers.c). */
const struct resolver_type *resolver_type_find(const char *name);
/* NULL-terminated list of all types. */
extern const struct resolver_type *const resolver_types[];

/* Helpers shared by the implementations (resolvers.c). */
/* Shell-style match where only '*' is special; case-insensitive when ci. */
int resolver_wildcard_match(const char *pattern, const char *value, int ci);
/* String value of a config key, or def. */
const char *resolver_cfg_str(const json_t *config, const char *key, const char *def);
long long resolver_cfg_int(const json_t *config, const char *key, long long def);
int resolver_cfg_bool(const json_t *config, const char *key, int def);
/* Check required parameters of a type; -1 + ERR905 "Missing parameter: 'X'". */
int resolver_check_required(const struct resolver_type *t, const json_t *config, struct error *err);
/* Integer parameter, strictly parsed: absent, null or "" → def; anything
 * but a whole number in [min, max] → -1 + ERR905 naming the key. */
int resolver_cfg_int_checked(const json_t *config, const char *key, long long def, long long min,
			     long long max, long long *out, struct error *err);
/* Object-valued parameter (Map, USERINFO, headers, responseMapping ...):
 * a JSON object, or text holding one — JSON, or the YAML flow mapping
 * privacyIDEA also accepts ({userid: id, 'username': "user"}).  *out is a
 * new reference, NULL when the key is absent/empty.  -1 + ERR905 when
 * the text is not an object. */
int resolver_cfg_object(const json_t *config, const char *key, json_t **out, struct error *err);
/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int resolver_utf8_valid(const char *s, size_t len);

#endif
