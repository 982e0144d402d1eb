/*
 * ldap_int.h — private to the LDAP resolver, shared by its four files:
 *   ldap.c        configuration, the resolver_type, reading, test_connection
 *   ldap_search.c filters, searches, the attribute mapping, the cache
 *   ldap_edit.c   add / update / delete (DN_TEMPLATE, {SSHA})
 *   ldap_pool.c   server pool, TLS, pooled connections, bind checks
 * Nothing outside src/lib/resolvers/ldap*.c includes it.
 */
#ifndef TESSERA_LDAP_INT_H
#define TESSERA_LDAP_INT_H

#include <jansson.h>
#include <ldap.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver.h"

/* ---- ldap_pool.c --------------------------------------------------------------
 * A pool owns the server list parsed from LDAPURI (round robin with
 * failover, an unreachable server skipped for SERVERPOOL_SKIP seconds,
 * SERVERPOOL_ROUNDS rounds before giving up), the per-connection TLS
 * settings (never libldap's process-global defaults) and a few idle
 * connections bound as BINDDN, all under one mutex: one pool serves every
 * worker thread of a resolver instance. */

enum ldapres_pool_strategy { LDAPRES_POOL_ROUND_ROBIN, LDAPRES_POOL_FIRST, LDAPRES_POOL_RANDOM };

struct ldapres_pool_cfg {
	const char *urilist;     /* LDAPURI: comma-separated */
	int timeout;             /* seconds: connect and every operation */
	int rounds;              /* SERVERPOOL_ROUNDS, >= 1 */
	int skip;                /* SERVERPOOL_SKIP seconds, >= 0 */
	enum ldapres_pool_strategy strategy;
	int start_tls;           /* STARTTLS on ldap:// servers */
	int tls_verify;
	int tls_version;         /* privacyIDEA's TLS_VERSION: 2 (default), 3, 4, 5 */
	const char *tls_ca_file; /* NULL or "" → privacyIDEA's default file */
	int noreferrals;
	const char *binddn;      /* NULL or "" → anonymous */
	const char *bindpw;
};

struct ldapres_pool;

/* Parse and check (URIs, TLS version); -1 + ERR905 when malformed.
 * Nothing connects yet. */
struct ldapres_pool *ldapres_pool_new(const struct ldapres_pool_cfg *cfg, struct error *err);
void ldapres_pool_free(struct ldapres_pool *p);

/* An operation on a connection bound as BINDDN, returning an LDAP result
 * code.  It may run twice (see ldapres_pool_run): reset ctx before working. */
typedef int (*ldapres_pool_op)(LDAP *ld, void *ctx);

/* Take a pooled connection (or open one through the server pool), run op,
 * put it back.  When op reports the connection lost (LDAP_SERVER_DOWN /
 * LDAP_CONNECT_ERROR) the idle connections are dropped and op runs once
 * more on a fresh one.  0 with op's result in *ldap_rc, or -1 + err when
 * no connection could be had (no server reachable, service bind refused). */
int ldapres_pool_run(struct ldapres_pool *p, ldapres_pool_op op, void *ctx, int *ldap_rc, struct error *err);

/* Simple bind as dn/password on a connection of its own.  0 = bound,
 * 1 = refused (also for an empty password, never sent), -1 + err = no
 * server reachable or another failure. */
int ldapres_pool_bind_check(struct ldapres_pool *p, const char *dn, const char *password, struct error *err);

/* "<ldap_err2string(rc)>[: <server's diagnostic message>]" into buf. */
void ldapres_pool_describe(LDAP *ld, int rc, char *buf, size_t len);

/* ---- the instance ---------------------------------------------------------- */

enum ldap_uidkind { UID_DN, UID_ATTR, UID_GUID };

struct ldapres {
	struct ldapres_pool *pool;
	char *basedn;
	char *filter; /* LDAPSEARCHFILTER, parenthesised; "(objectClass=*)" when blank */
	int scope, sizelimit, timeout, cache_timeout, editable;
	char **login;  /* LOGINNAMEATTRIBUTE, NULL-terminated; login[0] is "username" */
	json_t *map;   /* privacyIDEA key → LDAP attribute (with "username") */
	char **attrs;  /* attributes read on every search, NULL-terminated */
	json_t *multi; /* MULTIVALUEATTRIBUTES: keys returned as lists */
	char *uidtype;
	enum ldap_uidkind uidkind;
	char *dn_template;
	char **objclasses; /* OBJECT_CLASSES, NULL-terminated */
	pthread_mutex_t cache_lock;
	json_t *cache_login; /* login → {"t": s, "uid": uid} */
	json_t *cache_user;  /* uid → {"t": s, "dn": dn, "info": {...}} */
};

/* ---- a growing string; after an allocation failure it stays failed -------- */

struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static inline void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static inline void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* For short pieces only (attribute names, numbers). */
static inline __attribute__((format(printf, 2, 3))) void sb_addf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		b->oom = 1;
	else
		sb_addn(b, tmp, (size_t)n);
}

/* The string (caller frees; "" when empty), or NULL after a failure. */
static inline char *sb_done(struct sbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s ? b->s : strdup("");
}

/* ---- ldap_search.c --------------------------------------------------------- */

/* 1 when s is a plain attribute description (cn, mail;lang-de, 2.5.4.3):
 * configuration never gets to put filter syntax into a filter. */
int ldapres_valid_attr(const char *s);
/* Append v as a filter assertion value (RFC 4515: * ( ) \ as \2a \28 \29
 * \5c — NUL, RFC 4515's fifth, cannot occur in a C string; UTF-8 kept).
 * wildcard: '*' stays a wildcard (runs of '*' collapse to one) and every
 * other character is literal. */
void ldapres_add_filter_value(struct sbuf *b, const char *v, int wildcard);
/* "(&" LDAPSEARCHFILTER inner ")" — malloc'd, NULL when out of memory. */
char *ldapres_user_filter(const struct ldapres *lr, const char *inner);
/* 0 found (*uid malloc'd), 1 unknown, -1 error (e.g. two users match). */
int ldapres_find_by_login(struct ldapres *lr, const char *login, char **uid, struct error *err);
/* uid → DN (malloc'd) and/or user object (new reference); either out
 * pointer may be NULL.  0 / 1 / -1. */
int ldapres_find_by_uid(struct ldapres *lr, const char *uid, char **dn, json_t **info, struct error *err);
/* Users matching "(&" LDAPSEARCHFILTER inner ")" (at most SIZELIMIT)
 * appended to list.  0 / -1. */
int ldapres_list(struct ldapres *lr, const char *inner, json_t *list, struct error *err);
/* test_connection: entries under the filter (at most SIZELIMIT) and how
 * many of them carry a uid.  0 / -1. */
int ldapres_count(struct ldapres *lr, int *count, int *with_uid, struct error *err);
void ldapres_cache_clear(struct ldapres *lr);

/* ---- ldap_edit.c ----------------------------------------------------------- */

int ldapres_add_user(struct resolver *r, const json_t *attrs, char **uid, struct error *err);
int ldapres_update_user(struct resolver *r, const char *uid, const json_t *attrs, struct error *err);
int ldapres_delete_user(struct resolver *r, const char *uid, struct error *err);
/* {SSHA}: base64(SHA-1(password + salt) + salt) with a 4-byte random salt,
 * as passlib's ldap_salted_sha1 and slappasswd write it.  malloc'd / NULL. */
char *ldapres_ssha(const char *password);

#endif
