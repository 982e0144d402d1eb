/*
 * policy_int.h — the compiled policy, shared by policy.c (building the
 * set), policy_parse.c (the parsers), policy_match.c and policy_combine.c
 * (evaluating), policy_write.c (validating input with the same parsers)
 * and policy_io.c (files).  Nothing outside src/lib/policy*.c includes it.
 */
#ifndef TESSERA_POLICY_INT_H
#define TESSERA_POLICY_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>

#include "policy.h"

enum policy_scope_idx {
	PS_ADMIN,
	PS_USER,
	PS_AUTHENTICATION,
	PS_AUTHORIZATION,
	PS_ENROLLMENT,
	PS_WEBUI,
	PS_REGISTER,
	PS_OTHER, /* a scope this version does not define (stored by someone else) */
	PS_COUNT
};
int policy_scope_index(const char *scope);

/* One item of a comma list (user, realm, resolver, adminuser, adminrealm,
 * action keys): `*`, a literal, a full-match regular expression, or an
 * exclusion `!x` / `-x` (literal). */
struct policy_entry {
	char *text;              /* as written (stripped) */
	unsigned char neg;       /* starts with ! or - */
	unsigned char literal;   /* no regex metacharacter: equality is enough */
	pcre2_code *re;          /* full match of text, NULL if literal or invalid */
};

struct policy_entries {
	struct policy_entry *e;
	size_t n;
	int caseless; /* realm names compare case-insensitively */
};

/* One action: key (an entry, so `*` and regexes work as in privacyIDEA)
 * and value (NULL for a bare, boolean action). */
struct policy_action {
	struct policy_entry key;
	char *value;
};

/* One client entry: an address or network, possibly excluded. */
struct policy_net {
	unsigned char neg, family, valid; /* family 4 or 6 */
	uint8_t addr[16];
	int prefix;
};

/* One time range: days (ISO 1..7) and minutes since midnight; a range
 * whose end is before its start runs past midnight into the next day. */
struct policy_time {
	int dow_start, dow_end;
	int start, end;
};

enum policy_section { SEC_USERINFO, SEC_TOKENINFO, SEC_TOKEN, SEC_HEADER, SEC_ENVIRON, SEC_UNKNOWN };
enum policy_cmp { CMP_EQUALS, CMP_CONTAINS, CMP_IN, CMP_MATCHES, CMP_LT, CMP_GT, CMP_UNKNOWN };

struct policy_cond {
	char *section, *key, *comparator, *value;
	int active;
	enum policy_section sec;
	enum policy_cmp cmp;
	int negate;            /* "!equals" ... */
	pcre2_code *re;        /* matches: the compiled right side, NULL if invalid */
	char **items;          /* in: the parsed right side */
	size_t n_items;
	int items_ok;
	long long num;         /* < >: the right side */
	int num_ok;
};

struct policy {
	int64_t id;
	size_t ordinal; /* position in the set (priority order) */
	char *name, *scope;
	int scope_idx;
	int active, check_all_resolvers, priority;
	struct policy_action *actions;
	size_t n_actions;
	struct policy_entries user, realm, resolver, adminuser, adminrealm;
	char **pinode;
	size_t n_pinode;
	struct policy_net *clients;
	size_t n_clients;
	char *time;
	struct policy_time *ranges;
	size_t n_ranges;
	int time_ok; /* the time text parsed; a policy with a bad one never matches */
	struct policy_cond *conds;
	size_t n_conds;
	json_t *json; /* serialised form */
};

/* A policy as the action index lists it: besides the pointer, what lets
 * a lookup skip most policies that cannot match without reading them (a
 * lookup then scans one compact array instead of chasing pointers into
 * every policy).  Filters: for a user, realm, resolver or pinode list made
 * only of plain names (no `*`, pattern or exclusion), a 64-bit Bloom
 * filter of the names; a value whose bits are not all set is in none of
 * them.  The full checks still run on every policy that passes. */
struct policy_ref {
	const struct policy *p;
	size_t ordinal;           /* p->ordinal (merging lists in priority order) */
	uint64_t bloom[4];        /* REF_USER, REF_REALM, REF_RESOLVER, REF_PINODE */
	const char *one[2];       /* REF_USER, REF_REALM: the name of a list of one plain name (its
				   * comparison then needs no read of the list), else NULL */
	unsigned char filtered;   /* bit i: bloom[i] applies */
	unsigned char generic;    /* an action key is a pattern, `*` or an exclusion */
	unsigned char has_time;   /* p->time is not empty */
};
enum { REF_USER, REF_REALM, REF_RESOLVER, REF_PINODE };
/* Fill r for p (policy_match.c). */
void policy_ref_init(struct policy_ref *r, const struct policy *p);
/* The Bloom bits (three) of a value (realm names: caseless); 0 when the value
 * cannot be filtered (the caller then keeps the policy). */
uint64_t policy_ref_bits(const char *value, int caseless);

/* The active policies of a scope that name one action literally. */
struct policy_action_list {
	const char *key;
	struct policy_ref *v;
	size_t n, cap;
};

/* Per scope: action name → policies naming it (hash table), plus the
 * policies whose action keys are patterns, `*` or exclusions, which must
 * be looked at for every action.  A lookup visits only these. */
struct policy_action_index {
	struct policy_action_list *slots;
	size_t mask; /* table size - 1 (a power of two), 0 when empty */
	struct policy_ref *generic;
	size_t n_generic;
};

struct policy_set {
	struct policy *pol; /* ordered by (priority, id) */
	size_t n;
	const struct policy **active[PS_COUNT]; /* active policies per scope, same order */
	size_t n_active[PS_COUNT];
	struct policy_action_index index[PS_COUNT];
};
const struct policy_action_list *policy_index_find(const struct policy_action_index *ix, const char *key);

/* ---- shared parsers (policy_parse.c) ---- */

/* Split at ',' and strip each item (privacyIDEA's _split_string); empty
 * items are dropped.  Returns a malloc'd array of malloc'd strings. */
char **policy_split_list(const char *s, size_t *n);
void policy_free_list(char **v, size_t n);

/* Parse one client entry (with optional !/- prefix). 0 ok, -1 malformed. */
int policy_parse_net(const char *text, struct policy_net *out);
/* Parse an address to match (IPv4-mapped IPv6 becomes IPv4). */
int policy_parse_ip(const char *text, struct policy_net *out);
/* Parse a time field ("Mon-Fri: 9-18, Sat: 10:00-12:30").  0 ok, -1 with
 * a reason in why. *out malloc'd (NULL for an empty field). */
int policy_parse_time(const char *text, struct policy_time **out, size_t *n, char *why, size_t whylen);
/* Python's csv reader (skipinitialspace, escapechar '\\', strict) on one
 * line: 0 ok, -1 malformed. */
int policy_parse_csv(const char *s, char ***items, size_t *n);
/* Compile a full-match regular expression (privacyIDEA's "^x$"), NULL when
 * invalid. */
pcre2_code *policy_compile_re(const char *pattern, int caseless);
/* Full match of re on s: 1, 0, or -1 on a matching error. */
int policy_re_match(const pcre2_code *re, const char *s);
/* privacyIDEA's _search_value on a list: *found when an entry is `*`,
 * equal to value or fully matches it as a regular expression; *excluded
 * when an exclusion names value. */
void policy_entries_search(const struct policy_entries *l, const char *value, int *found, int *excluded);
/* Compile entries from a comma list. */
int policy_entries_build(struct policy_entries *l, const char *text, int caseless);
void policy_entries_free(struct policy_entries *l);
/* Parse an action field (string) into key/value pairs: split at ',', each
 * stripped, split at the first '='. Empty items are dropped. */
int policy_parse_actions(const char *text, struct policy_action **out, size_t *n);
void policy_free_actions(struct policy_action *a, size_t n);
/* The section / comparator of a condition. */
enum policy_section policy_section_of(const char *s);
enum policy_cmp policy_cmp_of(const char *s, int *negate);

/* ---- formatting helpers (policy_io.c) ---- */

/* Python repr() of a string, appended to a growing buffer. */
struct policy_buf {
	char *s;
	size_t len, cap;
	int oom;
};
void policy_buf_add(struct policy_buf *b, const char *s, size_t n);
void policy_buf_str(struct policy_buf *b, const char *s);
void policy_buf_fmt(struct policy_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void policy_buf_repr(struct policy_buf *b, const char *s);
/* Python repr of a JSON value (dicts with sorted keys when `sorted`). */
void policy_buf_pyrepr(struct policy_buf *b, const json_t *v, int sorted);

#endif
