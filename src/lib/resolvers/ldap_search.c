/*
 * ldap_search.c — how the LDAP resolver finds users: filters built from
 * escaped values, (paged) searches through the connection pool, entries
 * mapped onto privacyIDEA's user attributes, and the per-instance cache.
 *
 * Filters are always "(&" LDAPSEARCHFILTER term ")" as in privacyIDEA's
 * LDAPIdResolver, but every user-supplied value in a term is escaped per
 * RFC 4515 (only user-list patterns keep '*' as a wildcard), objectGUIDs
 * are matched as their 16 raw bytes, and a DN uid is read with a
 * base-scope search only when it lies under LDAPBASE.
 * The cache (CACHE_TIMEOUT seconds, 0 = off) keeps positive answers only:
 * login → uid and uid → (DN, user object); edits clear it.
 * Must not: put an unescaped value into a filter, or hand out the
 * "password" attribute (it is never requested).
 */
#include "ldap_int.h"

#include <ctype.h>
#include <strings.h>
#include <time.h>

#define LDAP_PAGE_SIZE 100
#define CACHE_MAX_ENTRIES 10000

/* ---- values ---------------------------------------------------------------- */

int ldapres_valid_attr(const char *s)
{
	const char *p = s;
	if (!s || !*s)
		return 0;
	if (isdigit((unsigned char)*p)) { /* numeric OID */
		for (; *p; p++)
			if (!isdigit((unsigned char)*p) && !(*p == '.' && p[1] && isdigit((unsigned char)p[1])))
				return 0;
		return 1;
	}
	if (!isalpha((unsigned char)*p))
		return 0;
	for (; *p; p++) {
		if (*p == ';') { /* options: ;lang-de, ;binary */
			if (!isalnum((unsigned char)p[1]))
				return 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
	}
	return 1;
}

void ldapres_add_filter_value(struct sbuf *b, const char *v, int wildcard)
{
	int prev_star = 0;
	for (const char *p = v; *p; p++) {
		if (*p == '*' && wildcard) {
			if (!prev_star)
				sb_addn(b, "*", 1);
			prev_star = 1;
			continue;
		}
		prev_star = 0;
		switch (*p) {
		case '*':
			sb_add(b, "\\2a");
			break;
		case '(':
			sb_add(b, "\\28");
			break;
		case ')':
			sb_add(b, "\\29");
			break;
		case '\\':
			sb_add(b, "\\5c");
			break;
		default:
			sb_addn(b, p, 1);
		}
	}
}

static void add_binary(struct sbuf *b, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_addf(b, "\\%02x", p[i]);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A UUID string (braces, "urn:uuid:" and missing dashes accepted, as
 * Python's uuid.UUID) → the 16 bytes AD stores (UUID.bytes_le). */
static int guid_parse(const char *s, unsigned char out[16])
{
	static const int le[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	unsigned char be[16];
	size_t n = 0;

	if (!strncasecmp(s, "urn:uuid:", 9))
		s += 9;
	for (const char *p = s; *p; p++) {
		if (*p == '{' || *p == '}' || *p == '-')
			continue;
		int hi = hexval((unsigned char)*p), lo = p[1] ? hexval((unsigned char)p[1]) : -1;
		if (hi < 0 || lo < 0 || n >= 16)
			return -1;
		be[n++] = (unsigned char)(hi << 4 | lo);
		p++;
	}
	if (n != 16)
		return -1;
	for (int i = 0; i < 16; i++)
		out[i] = be[le[i]];
	return 0;
}

/* An attribute value as JSON: objectGUID as privacyIDEA shows it
 * (str(uuid.UUID(bytes_le=value)), no braces), others when valid UTF-8. */
static json_t *attr_value(const char *attr, const struct berval *bv)
{
	if (!strcasecmp(attr, "objectGUID")) {
		const unsigned char *g = (const unsigned char *)bv->bv_val;
		char s[40];
		if (bv->bv_len == 16) {
			snprintf(s, sizeof(s),
				 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3],
				 g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
				 g[14], g[15]);
			return json_string(s);
		}
		if (bv->bv_len >= 2 && bv->bv_val[0] == '{' && bv->bv_val[bv->bv_len - 1] == '}')
			return json_stringn(bv->bv_val + 1, bv->bv_len - 2);
	}
	if (!resolver_utf8_valid(bv->bv_val, bv->bv_len) || memchr(bv->bv_val, '\0', bv->bv_len))
		return NULL; /* binary: not representable as a string */
	return json_stringn(bv->bv_val, bv->bv_len);
}

static int rdn_equal(LDAPRDN a, LDAPRDN b)
{
	size_t i;
	for (i = 0; a[i] && b[i]; i++) {
		struct berval *x = &a[i]->la_attr, *y = &b[i]->la_attr;
		struct berval *u = &a[i]->la_value, *v = &b[i]->la_value;
		if (x->bv_len != y->bv_len || strncasecmp(x->bv_val, y->bv_val, x->bv_len) != 0)
			return 0;
		if (u->bv_len != v->bv_len || strncasecmp(u->bv_val, v->bv_val, u->bv_len) != 0)
			return 0;
	}
	return !a[i] && !b[i];
}

/* 1 when dn is a valid DN equal to or below base. */
static int dn_under(const char *dn, const char *base)
{
	LDAPDN d = NULL, b = NULL;
	size_t nd = 0, nb = 0;
	int ok = 0;

	if (ldap_str2dn(dn, &d, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS)
		return 0;
	if (ldap_str2dn(base, &b, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS)
		goto out;
	while (d && d[nd])
		nd++;
	while (b && b[nb])
		nb++;
	if (nb > nd)
		goto out;
	ok = 1;
	for (size_t i = 0; ok && i < nb; i++)
		ok = rdn_equal(d[nd - nb + i], b[i]);
out:
	ldap_dnfree(d);
	ldap_dnfree(b);
	return ok;
}

/* ---- cache ----------------------------------------------------------------- */

static long long mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

/* Keep the maps bounded: drop expired records, and everything if that
 * is not enough. */
static void cache_prune(json_t *map, long long now, int ttl)
{
	const char *k;
	json_t *v;
	void *tmp;

	if (json_object_size(map) < CACHE_MAX_ENTRIES)
		return;
	json_object_foreach_safe(map, tmp, k, v) {
		if (json_integer_value(json_object_get(v, "t")) + ttl <= now)
			json_object_del(map, k);
	}
	if (json_object_size(map) >= CACHE_MAX_ENTRIES)
		json_object_clear(map);
}

/* The live record for key, or NULL (an expired one is dropped). Locked. */
static json_t *cache_lookup(struct ldapres *lr, json_t *map, const char *key)
{
	json_t *e = json_object_get(map, key);
	if (e && json_integer_value(json_object_get(e, "t")) + lr->cache_timeout <= mono_now()) {
		json_object_del(map, key);
		e = NULL;
	}
	return e;
}

static char *cache_get_uid(struct ldapres *lr, const char *login)
{
	char *uid = NULL;
	if (lr->cache_timeout <= 0)
		return NULL;
	pthread_mutex_lock(&lr->cache_lock);
	json_t *e = cache_lookup(lr, lr->cache_login, login);
	if (e)
		uid = strdup(json_string_value(json_object_get(e, "uid")));
	pthread_mutex_unlock(&lr->cache_lock);
	return uid;
}

/* 1 with copies of the DN / user object (either pointer may be NULL). */
static int cache_get_user(struct ldapres *lr, const char *uid, char **dn, json_t **info)
{
	char *d = NULL;
	json_t *i = NULL;
	int hit = 0;

	if (lr->cache_timeout <= 0)
		return 0;
	pthread_mutex_lock(&lr->cache_lock);
	json_t *e = cache_lookup(lr, lr->cache_user, uid);
	if (e) {
		d = dn ? strdup(json_string_value(json_object_get(e, "dn"))) : NULL;
		i = info ? json_deep_copy(json_object_get(e, "info")) : NULL;
		hit = (!dn || d) && (!info || i);
	}
	pthread_mutex_unlock(&lr->cache_lock);
	if (!hit) {
		free(d);
		json_decref(i);
		return 0;
	}
	if (dn)
		*dn = d;
	if (info)
		*info = i;
	return 1;
}

/* Remember uid → (dn, info), and login → uid when login is given. */
static void cache_put(struct ldapres *lr, const char *login, const char *uid, const char *dn, const json_t *info)
{
	if (lr->cache_timeout <= 0)
		return;
	long long now = mono_now();
	json_t *ul = login ? json_pack("{sIss}", "t", (json_int_t)now, "uid", uid) : NULL;
	json_t *uu = json_pack("{sIssso}", "t", (json_int_t)now, "dn", dn, "info", json_deep_copy(info));

	pthread_mutex_lock(&lr->cache_lock);
	if (ul) {
		cache_prune(lr->cache_login, now, lr->cache_timeout);
		json_object_set(lr->cache_login, login, ul);
	}
	if (uu) {
		cache_prune(lr->cache_user, now, lr->cache_timeout);
		json_object_set(lr->cache_user, uid, uu);
	}
	pthread_mutex_unlock(&lr->cache_lock);
	json_decref(ul);
	json_decref(uu);
}

void ldapres_cache_clear(struct ldapres *lr)
{
	pthread_mutex_lock(&lr->cache_lock);
	json_object_clear(lr->cache_login);
	json_object_clear(lr->cache_user);
	pthread_mutex_unlock(&lr->cache_lock);
}

/* ---- entries → privacyIDEA user objects ------------------------------------ */

static int is_multi(const struct ldapres *lr, const char *key)
{
	size_t i;
	json_t *v;
	json_array_foreach(lr->multi, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), key))
			return 1;
	}
	return 0;
}

/* One returned attribute onto every privacyIDEA key mapped to it: a list
 * for MULTIVALUEATTRIBUTES keys, else the first value ("" when none). */
static void map_attribute(const struct ldapres *lr, json_t *info, const char *attr, struct berval **vals)
{
	const char *key;
	json_t *jattr;

	json_object_foreach(lr->map, key, jattr) {
		if (strcasecmp(json_string_value(jattr), attr) != 0 || !strcmp(key, "password"))
			continue;
		json_t *out = is_multi(lr, key) ? json_array() : NULL;
		for (size_t i = 0; vals && vals[i]; i++) {
			json_t *v = attr_value(attr, vals[i]);
			if (!v)
				continue;
			if (!out) {
				out = v;
				break;
			}
			json_array_append_new(out, v);
		}
		json_object_set_new(info, key, out ? out : json_string(""));
	}
}

/* Entry → user object with "userid" and "username"; *dn malloc'd.  NULL
 * when the entry has no usable uid (e.g. lacks the UIDTYPE attribute). */
static json_t *entry_to_user(const struct ldapres *lr, LDAP *ld, LDAPMessage *e, char **dn)
{
	BerElement *ber = NULL;
	json_t *info = json_object(), *uid = NULL;
	char *d = ldap_get_dn(ld, e);

	*dn = NULL;
	if (!info || !d)
		goto fail;
	for (char *a = ldap_first_attribute(ld, e, &ber); a; a = ldap_next_attribute(ld, e, ber)) {
		struct berval **vals = ldap_get_values_len(ld, e, a);
		map_attribute(lr, info, a, vals);
		if (lr->uidkind != UID_DN && !uid && vals && vals[0] && !strcasecmp(a, lr->uidtype))
			uid = attr_value(a, vals[0]);
		ldap_value_free_len(vals);
		ldap_memfree(a);
	}
	if (ber)
		ber_free(ber, 0);
	if (lr->uidkind == UID_DN)
		uid = json_string(d);
	if (!uid)
		goto fail;
	json_object_set_new(info, "userid", uid);
	if (!json_object_get(info, "username"))
		json_object_set_new(info, "username", json_string(""));
	*dn = strdup(d);
	if (!*dn)
		goto fail;
	ldap_memfree(d);
	return info;
fail:
	if (d)
		ldap_memfree(d);
	json_decref(info);
	return NULL;
}

/* ---- searching --------------------------------------------------------------- */

struct search {
	const struct ldapres *lr;
	const char *base;
	int scope;
	const char *filter;
	char **attrs;
	int limit;      /* collect at most this many entries */
	int count_only; /* only count (test_connection) */
	json_t *users;  /* [{"dn": ..., "info": {...}}] */
	int count, with_uid;
	char diag[512];
};

static void collect(struct search *s, LDAP *ld, LDAPMessage *res)
{
	for (LDAPMessage *e = ldap_first_entry(ld, res); e && s->count < s->limit; e = ldap_next_entry(ld, e)) {
		char *dn = NULL;
		json_t *info = entry_to_user(s->lr, ld, e, &dn);
		s->count++;
		if (info) {
			s->with_uid++;
			if (s->count_only)
				json_decref(info);
			else
				json_array_append_new(s->users, json_pack("{ssso}", "dn", dn, "info", info));
		}
		free(dn);
	}
}

/* The cookie of a paged-results response (empty at the end). */
static void next_cookie(LDAP *ld, LDAPMessage *res, struct berval *cookie)
{
	LDAPControl **ctrls = NULL;
	ber_int_t estimate;
	int code;

	cookie->bv_len = 0;
	cookie->bv_val = NULL;
	if (ldap_parse_result(ld, res, &code, NULL, NULL, NULL, &ctrls, 0) != LDAP_SUCCESS || !ctrls)
		return;
	LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	if (c && ldap_parse_pageresponse_control(ld, c, &estimate, cookie) != LDAP_SUCCESS) {
		cookie->bv_len = 0;
		cookie->bv_val = NULL;
	}
	ldap_controls_free(ctrls);
}

/* Tell the server we want no more pages (RFC 2696: page size 0). */
static void abandon_pages(LDAP *ld, const struct search *s, struct berval *cookie, struct timeval *tv)
{
	LDAPControl *page = NULL;
	LDAPMessage *res = NULL;
	if (ldap_create_page_control(ld, 0, cookie, 0, &page) != LDAP_SUCCESS)
		return;
	LDAPControl *ctrls[2] = { page, NULL };
	ldap_search_ext_s(ld, s->base, s->scope, s->filter, s->attrs, 0, ctrls, NULL, tv, 0, &res);
	ldap_control_free(page);
	ldap_msgfree(res);
}

/* ldapres_pool_op: the search, paged by 100 when more than a page may come
 * (as privacyIDEA's paged_search), stopping at s->limit entries. */
static int op_search(LDAP *ld, void *ctx)
{
	struct search *s = ctx;
	struct berval cookie = { 0, NULL };
	struct timeval tv = { .tv_sec = s->lr->timeout, .tv_usec = 0 };
	int paged = s->limit > LDAP_PAGE_SIZE, rc;

	json_array_clear(s->users);
	s->count = s->with_uid = 0;
	s->diag[0] = '\0';
	for (;;) {
		LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
		LDAPMessage *res = NULL;
		if (paged && (rc = ldap_create_page_control(ld, LDAP_PAGE_SIZE, &cookie, 0, &page)) != LDAP_SUCCESS)
			break;
		ctrls[0] = page;
		rc = ldap_search_ext_s(ld, s->base, s->scope, s->filter, s->attrs, 0, paged ? ctrls : NULL, NULL, &tv,
				       paged ? 0 : s->limit, &res);
		if (page)
			ldap_control_free(page);
		if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
			ldapres_pool_describe(ld, rc, s->diag, sizeof(s->diag));
			ldap_msgfree(res);
			break;
		}
		collect(s, ld, res);
		struct berval next = { 0, NULL };
		if (paged && rc == LDAP_SUCCESS)
			next_cookie(ld, res, &next);
		ldap_msgfree(res);
		if (cookie.bv_val)
			ber_memfree(cookie.bv_val);
		cookie = next;
		if (!cookie.bv_len)
			break;
		if (s->count >= s->limit) {
			abandon_pages(ld, s, &cookie, &tv);
			break;
		}
	}
	if (cookie.bv_val)
		ber_memfree(cookie.bv_val);
	return rc == LDAP_SIZELIMIT_EXCEEDED ? LDAP_SUCCESS : rc;
}

/* 0 = ran (a missing base or malformed DN just finds nothing), -1 = error.
 * s->users is created here; the caller drops it. */
static int run_search(struct ldapres *lr, struct search *s, struct error *err)
{
	int rc;
	s->lr = lr;
	if (!s->attrs)
		s->attrs = lr->attrs;
	s->users = json_array();
	if (!s->users)
		return err_internal(err, "out of memory");
	if (ldapres_pool_run(lr->pool, op_search, s, &rc, err) < 0)
		return -1;
	if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INVALID_DN_SYNTAX)
		return 0;
	return err_set(err, ERRK_PI, ERR_USER, "LDAP search failed: %s", s->diag[0] ? s->diag : ldap_err2string(rc));
}

char *ldapres_user_filter(const struct ldapres *lr, const char *inner)
{
	struct sbuf b = { 0 };
	sb_add(&b, "(&");
	sb_add(&b, lr->filter);
	sb_add(&b, inner ? inner : "");
	sb_add(&b, ")");
	return sb_done(&b);
}

/* Exactly one user: 0 (*info new reference, *dn malloc'd), 1 none, -1 error. */
static int search_one(struct ldapres *lr, const char *base, int scope, const char *inner, const char *what,
		      const char *value, json_t **info, char **dn, struct error *err)
{
	struct search s = { .base = base, .scope = scope, .limit = 2 };
	char *filter = ldapres_user_filter(lr, inner);
	int ret;

	if (!filter)
		return err_internal(err, "out of memory");
	s.filter = filter;
	ret = run_search(lr, &s, err);
	if (ret == 0 && json_array_size(s.users) == 0) {
		ret = 1;
	} else if (ret == 0 && json_array_size(s.users) > 1) {
		ret = err_set(err, ERRK_PI, ERR_USER, "Found more than one object for %s '%s'", what, value);
	} else if (ret == 0) {
		json_t *u = json_array_get(s.users, 0);
		*dn = strdup(json_string_value(json_object_get(u, "dn")));
		*info = json_incref(json_object_get(u, "info"));
		if (!*dn) {
			json_decref(*info);
			ret = err_internal(err, "out of memory");
		}
	}
	json_decref(s.users);
	free(filter);
	return ret;
}

int ldapres_find_by_login(struct ldapres *lr, const char *login, char **uid, struct error *err)
{
	struct sbuf b = { 0 };
	size_t terms = 0;
	json_t *info = NULL;
	char *dn = NULL;
	int ret = 1;

	*uid = NULL;
	if (!login || !*login || !resolver_utf8_valid(login, strlen(login)))
		return 1;
	if ((*uid = cache_get_uid(lr, login)))
		return 0;
	/* privacyIDEA: "(&" filter "(attr=login))", or "(|(a1=login)(a2=login))". */
	int several = lr->login[0] && lr->login[1];
	if (several)
		sb_add(&b, "(|");
	for (char **a = lr->login; *a; a++) {
		unsigned char guid[16];
		if (!strcasecmp(*a, "objectGUID") && guid_parse(login, guid) < 0)
			continue; /* this login is no GUID, so not one for this attribute */
		sb_addf(&b, "(%s=", *a);
		if (!strcasecmp(*a, "objectGUID"))
			add_binary(&b, guid, sizeof(guid));
		else
			ldapres_add_filter_value(&b, login, 0);
		sb_add(&b, ")");
		terms++;
	}
	if (several)
		sb_add(&b, ")");
	char *inner = sb_done(&b);
	if (!inner)
		return err_internal(err, "out of memory");
	if (terms > 0)
		ret = search_one(lr, lr->basedn, lr->scope, inner, "Loginname", login, &info, &dn, err);
	free(inner);
	if (ret == 0) {
		const char *u = json_string_value(json_object_get(info, "userid"));
		if (!(*uid = strdup(u)))
			ret = err_internal(err, "out of memory");
		else
			cache_put(lr, login, u, dn, info);
	}
	json_decref(info);
	free(dn);
	return ret;
}

/* The filter term selecting uid (non-DN uid types); NULL + *none when the
 * uid cannot be one (not a GUID), NULL alone when out of memory. */
static char *uid_term(const struct ldapres *lr, const char *uid, int *none)
{
	struct sbuf b = { 0 };
	unsigned char guid[16];

	*none = 0;
	if (lr->uidkind == UID_GUID && guid_parse(uid, guid) < 0) {
		*none = 1;
		return NULL;
	}
	sb_addf(&b, "(%s=", lr->uidtype);
	if (lr->uidkind == UID_GUID)
		add_binary(&b, guid, sizeof(guid));
	else
		ldapres_add_filter_value(&b, uid, 0);
	sb_add(&b, ")");
	return sb_done(&b);
}

int ldapres_find_by_uid(struct ldapres *lr, const char *uid, char **dn, json_t **info, struct error *err)
{
	json_t *i = NULL;
	char *d = NULL;
	int ret, none;

	if (!uid || !*uid || !resolver_utf8_valid(uid, strlen(uid)))
		return 1;
	if (cache_get_user(lr, uid, dn, info))
		return 0;
	if (lr->uidkind == UID_DN) {
		/* The uid names the entry: read that entry, if it is one of ours. */
		if (!dn_under(uid, lr->basedn))
			return 1;
		ret = search_one(lr, uid, LDAP_SCOPE_BASE, NULL, "uid", uid, &i, &d, err);
	} else {
		char *term = uid_term(lr, uid, &none);
		if (!term)
			return none ? 1 : err_internal(err, "out of memory");
		ret = search_one(lr, lr->basedn, lr->scope, term, "uid", uid, &i, &d, err);
		free(term);
	}
	if (ret == 0) {
		cache_put(lr, NULL, uid, d, i);
		if (info)
			*info = json_incref(i);
		if (dn) {
			*dn = d;
			d = NULL;
		}
	}
	json_decref(i);
	free(d);
	return ret;
}

int ldapres_list(struct ldapres *lr, const char *inner, json_t *list, struct error *err)
{
	struct search s = { .base = lr->basedn, .scope = lr->scope, .limit = lr->sizelimit };
	char *filter = ldapres_user_filter(lr, inner);
	size_t i;
	json_t *u;

	if (!filter)
		return err_internal(err, "out of memory");
	s.filter = filter;
	int ret = run_search(lr, &s, err);
	free(filter);
	if (ret == 0)
		json_array_foreach(s.users, i, u)
			json_array_append(list, json_object_get(u, "info"));
	json_decref(s.users);
	return ret;
}

int ldapres_count(struct ldapres *lr, int *count, int *with_uid, struct error *err)
{
	char *only_dn[] = { "1.1", NULL }; /* RFC 4511: no attributes */
	char *uid_attr[] = { lr->uidtype, NULL };
	struct search s = { .base = lr->basedn, .scope = lr->scope, .limit = lr->sizelimit, .count_only = 1,
			    .attrs = lr->uidkind == UID_DN ? only_dn : uid_attr };
	char *filter = ldapres_user_filter(lr, NULL);

	if (!filter)
		return err_internal(err, "out of memory");
	s.filter = filter;
	int ret = run_search(lr, &s, err);
	free(filter);
	json_decref(s.users);
	*count = s.count;
	*with_uid = s.with_uid;
	return ret;
}
