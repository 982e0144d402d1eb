/*
 * ldap.c — the LDAP user store ("ldapresolver"): privacyIDEA's
 * LDAPIdResolver on libldap.  This file holds the parameter table, the
 * configuration, the reading half of the resolver_type and
 * test_connection; searching and the cache are in ldap_search.c, editing
 * in ldap_edit.c, servers/TLS/connections in ldap_pool.c (ldap_int.h).
 *
 * Behaviour follows privacyIDEA 3.8 (LDAPIdResolver.py) with these
 * deliberate differences:
 *   - every user-supplied value is escaped (RFC 4515 in filters, '*' kept
 *     as a wildcard only in user-list searches; RFC 4514 in DNs built from
 *     DN_TEMPLATE), and attribute names from the configuration must be
 *     plain attribute descriptions;
 *   - a DN uid is read with a base-scope search and must lie under
 *     LDAPBASE; check_pass binds with the DN the server returned;
 *   - the "password" mapping is write-only: hashes are never read back;
 *   - only positive lookups are cached, per instance; edits clear it;
 *   - add_user also writes "username" and the new DN's RDN values;
 *   - AUTHTYPE NTLM / SASL are refused; no pause between pool rounds.
 * Must not: log or return BINDPW, a user's password or a password hash.
 */
#include "ldap_int.h"

#include <ctype.h>
#include <limits.h>
#include <strings.h>
#include <time.h>

static const struct resolver_param ldap_params[] = {
	{ "LDAPURI", RP_STRING, 1, NULL,
	  "Comma-separated server pool: ldap://host[:port], ldaps://host[:port] or host" },
	{ "LDAPBASE", RP_STRING, 1, NULL, "Base DN of the user search" },
	{ "BINDDN", RP_STRING, 0, NULL, "DN of the service account; empty for an anonymous bind" },
	{ "BINDPW", RP_PASSWORD, 0, NULL, "Password of BINDDN" },
	{ "AUTHTYPE", RP_STRING, 0, "Simple", "Simple or Anonymous (NTLM and SASL are not supported)" },
	{ "KEYTABFILE", RP_STRING, 0, NULL, "SASL Kerberos keytab (not supported, ignored)" },
	{ "TIMEOUT", RP_INT, 0, "5", "Connect and operation timeout in seconds" },
	{ "CACHE_TIMEOUT", RP_INT, 0, "120", "Lifetime of cached users in seconds; 0 disables the cache" },
	{ "SIZELIMIT", RP_INT, 0, "500", "Maximum number of users in a user list" },
	{ "LOGINNAMEATTRIBUTE", RP_STRING, 1, NULL,
	  "Login attribute(s), comma-separated; the first one is the username" },
	{ "LDAPSEARCHFILTER", RP_STRING, 0, NULL, "Filter selecting the users, e.g. (uid=*)(objectClass=inetOrgPerson)" },
	{ "USERINFO", RP_STRING, 0, "{}", "Attribute mapping, e.g. { \"email\": \"mail\", \"phone\": \"telephoneNumber\" }" },
	{ "UIDTYPE", RP_STRING, 0, "DN", "Attribute holding the unique user id: DN, entryUUID, objectGUID, ..." },
	{ "MULTIVALUEATTRIBUTES", RP_STRING, 0, "[\"mobile\"]", "User attributes returned as lists" },
	{ "NOREFERRALS", RP_BOOL, 0, "False", "Do not follow referrals" },
	{ "NOSCHEMAS", RP_BOOL, 0, "False", "Do not read schema information (no effect)" },
	{ "CACERTIFICATE", RP_STRING, 0, NULL, "Legacy CA certificate field (no effect; use TLS_CA_FILE)" },
	{ "EDITABLE", RP_BOOL, 0, "False", "Users may be created, changed and deleted" },
	{ "SCOPE", RP_STRING, 0, "SUBTREE", "Search scope: SUBTREE, LEVEL or BASE" },
	{ "TLS_VERIFY", RP_BOOL, 0, "False", "Verify the server certificate (ldaps:// and STARTTLS)" },
	{ "TLS_VERSION", RP_INT, 0, "2", "2 = negotiate (TLS 1.3), 3 = TLS 1.0, 4 = TLS 1.1, 5 = TLS 1.2" },
	{ "TLS_CA_FILE", RP_STRING, 0, "/etc/privacyidea/ldap-ca.crt",
	  "CA certificates for TLS_VERIFY; empty: the system store" },
	{ "START_TLS", RP_BOOL, 0, "False", "Use STARTTLS on ldap:// servers" },
	{ "SERVERPOOL_STRATEGY", RP_STRING, 0, "ROUND_ROBIN", "ROUND_ROBIN, FIRST or RANDOM" },
	{ "SERVERPOOL_ROUNDS", RP_INT, 0, "2", "Rounds through the server pool before failing" },
	{ "SERVERPOOL_SKIP", RP_INT, 0, "30", "Seconds an unreachable server is skipped" },
	{ "SERVERPOOL_PERSISTENT", RP_BOOL, 0, "False", "Accepted; server state is always kept per instance" },
	{ "OBJECT_CLASSES", RP_STRING, 0, NULL, "Object classes of new users, comma-separated" },
	{ "DN_TEMPLATE", RP_STRING, 0, NULL, "DN of new users: <username>, <surname>, <givenname>, <basedn>" },
	{ NULL, 0, 0, NULL, NULL },
};

static struct ldapres *res_of(struct resolver *r)
{
	return r->priv;
}

/* ---- configuration ------------------------------------------------------- */

static const char *cfg_str(const json_t *config, const char *key)
{
	return resolver_cfg_str(config, key, "");
}

static int cfg_int(const json_t *config, const char *key, int def, int min, int max, int *out, struct error *err)
{
	long long v;
	if (resolver_cfg_int_checked(config, key, def, min, max, &v, err) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* Comma list → NULL-terminated array of trimmed, non-empty strings. */
static char **split_list(const char *s)
{
	size_t cap = 2, n = 0;
	for (const char *c = s; *c; c++)
		cap += *c == ',';
	char **out = calloc(cap, sizeof(char *));
	while (out && *s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		const char *a = s, *z = s + len;
		while (a < z && isspace((unsigned char)*a))
			a++;
		while (z > a && isspace((unsigned char)z[-1]))
			z--;
		if (z > a && !(out[n++] = strndup(a, (size_t)(z - a)))) {
			for (size_t i = 0; i + 1 < n; i++)
				free(out[i]);
			free(out);
			return NULL;
		}
		s += len + (e ? 1 : 0);
	}
	return out;
}

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static int list_has(char *const *l, const char *s)
{
	for (size_t i = 0; l[i]; i++)
		if (!strcasecmp(l[i], s))
			return 1;
	return 0;
}

/* MULTIVALUEATTRIBUTES as privacyIDEA's yaml.safe_load sees it: a JSON or
 * flow list (["email", 'group']), or a bare comma list.  Blank → ["mobile"]. */
static json_t *parse_multi(const char *text, struct error *err)
{
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return json_pack("[s]", "mobile");
	json_t *j = json_loads(p, JSON_DECODE_ANY, NULL);
	if (!j && *p == '[') {
		size_t len = strlen(p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len < 2 || p[len - 1] != ']')
			goto bad;
		char *inner = strndup(p + 1, len - 2);
		char **items = inner ? split_list(inner) : NULL;
		free(inner);
		if (!items)
			return err_internal(err, "out of memory"), NULL;
		j = json_array();
		for (size_t i = 0; j && items[i]; i++) {
			char *it = items[i];
			size_t n = strlen(it);
			if (n >= 2 && (it[0] == '\'' || it[0] == '"') && it[n - 1] == it[0]) {
				it[n - 1] = '\0';
				it++;
			}
			json_array_append_new(j, json_string(it));
		}
		free_list(items);
	} else if (!j) {
		char **items = split_list(p);
		if (!items)
			return err_internal(err, "out of memory"), NULL;
		j = json_array();
		for (size_t i = 0; j && items[i]; i++)
			json_array_append_new(j, json_string(items[i]));
		free_list(items);
	}
	if (json_is_string(j)) { /* a single name */
		json_t *one = json_pack("[O]", j);
		json_decref(j);
		j = one;
	}
	size_t i;
	json_t *v;
	if (!json_is_array(j))
		goto bad;
	json_array_foreach(j, i, v)
		if (!json_is_string(v))
			goto bad;
	return j;
bad:
	json_decref(j);
	err_param(err, "Invalid MULTIVALUEATTRIBUTES: expected a list such as [\"mobile\", \"email\"]");
	return NULL;
}

static int parse_scope(const char *s, int *scope, struct error *err)
{
	if (!*s || !strcasecmp(s, "SUBTREE") || !strcasecmp(s, "sub"))
		*scope = LDAP_SCOPE_SUBTREE;
	else if (!strcasecmp(s, "LEVEL") || !strcasecmp(s, "onelevel") || !strcasecmp(s, "one"))
		*scope = LDAP_SCOPE_ONELEVEL;
	else if (!strcasecmp(s, "BASE"))
		*scope = LDAP_SCOPE_BASE;
	else
		return err_param(err, "Invalid SCOPE '%s' (SUBTREE, LEVEL or BASE)", s);
	return 0;
}

/* AUTHTYPE → *anonymous (1) or simple bind (0). */
static int parse_authtype(const char *s, int *anonymous, struct error *err)
{
	if (!*s || !strcasecmp(s, "Simple"))
		*anonymous = 0;
	else if (!strcasecmp(s, "Anonymous"))
		*anonymous = 1;
	else if (!strcasecmp(s, "NTLM") || !strncasecmp(s, "SASL", 4))
		return err_param(err, "AUTHTYPE '%s' is not supported (use Simple or Anonymous)", s);
	else
		return err_param(err, "Unknown AUTHTYPE '%s' (use Simple or Anonymous)", s);
	return 0;
}

static enum ldapres_pool_strategy parse_strategy(const char *s)
{
	if (!strcasecmp(s, "FIRST"))
		return LDAPRES_POOL_FIRST;
	if (!strcasecmp(s, "RANDOM"))
		return LDAPRES_POOL_RANDOM;
	return LDAPRES_POOL_ROUND_ROBIN; /* privacyIDEA falls back silently too */
}

/* LOGINNAMEATTRIBUTE, LDAPSEARCHFILTER, LDAPBASE, SCOPE, DN_TEMPLATE, OBJECT_CLASSES. */
static int setup_search(struct ldapres *lr, const json_t *config, struct error *err)
{
	lr->login = split_list(cfg_str(config, "LOGINNAMEATTRIBUTE"));
	lr->objclasses = split_list(cfg_str(config, "OBJECT_CLASSES"));
	lr->basedn = strdup(cfg_str(config, "LDAPBASE"));
	lr->dn_template = strdup(cfg_str(config, "DN_TEMPLATE"));
	if (!lr->login || !lr->objclasses || !lr->basedn || !lr->dn_template)
		return err_internal(err, "out of memory");
	if (!lr->login[0])
		return err_missing_param(err, "LOGINNAMEATTRIBUTE");
	for (char **a = lr->login; *a; a++)
		if (!ldapres_valid_attr(*a))
			return err_param(err, "Invalid LOGINNAMEATTRIBUTE '%s'", *a);

	/* privacyIDEA builds "(&" + LDAPSEARCHFILTER + ...")"; a filter written
	 * without its outer parentheses is tolerated, a blank one matches all. */
	const char *f = cfg_str(config, "LDAPSEARCHFILTER");
	while (isspace((unsigned char)*f))
		f++;
	int fl = (int)strlen(f);
	while (fl > 0 && isspace((unsigned char)f[fl - 1]))
		fl--;
	size_t n = (size_t)fl + 20;
	if (!(lr->filter = malloc(n)))
		return err_internal(err, "out of memory");
	if (fl == 0)
		snprintf(lr->filter, n, "(objectClass=*)");
	else if (f[0] == '(')
		snprintf(lr->filter, n, "%.*s", fl, f);
	else
		snprintf(lr->filter, n, "(%.*s)", fl, f);
	return parse_scope(cfg_str(config, "SCOPE"), &lr->scope, err);
}

/* USERINFO (+ "username"), UIDTYPE, MULTIVALUEATTRIBUTES, read attributes. */
static int setup_mapping(struct ldapres *lr, const json_t *config, struct error *err)
{
	const char *key;
	json_t *val;
	size_t n = 0;

	if (resolver_cfg_object(config, "USERINFO", &lr->map, err) < 0)
		return -1;
	if (!lr->map && !(lr->map = json_object()))
		return err_internal(err, "out of memory");
	json_object_foreach(lr->map, key, val) {
		if (!json_is_string(val) || !ldapres_valid_attr(json_string_value(val)))
			return err_param(err, "Invalid USERINFO: '%s' must map to an LDAP attribute name", key);
	}
	/* As privacyIDEA: the first login attribute is always "username". */
	if (json_object_set_new(lr->map, "username", json_string(lr->login[0])) < 0)
		return err_internal(err, "out of memory");

	const char *uidtype = cfg_str(config, "UIDTYPE");
	if (!(lr->uidtype = strdup(*uidtype ? uidtype : "DN")))
		return err_internal(err, "out of memory");
	if (!strcasecmp(lr->uidtype, "DN"))
		lr->uidkind = UID_DN;
	else if (!strcasecmp(lr->uidtype, "objectGUID"))
		lr->uidkind = UID_GUID;
	else if (ldapres_valid_attr(lr->uidtype))
		lr->uidkind = UID_ATTR;
	else
		return err_param(err, "Invalid UIDTYPE '%s'", lr->uidtype);

	/* Read every mapped attribute but the password, and the uid attribute. */
	if (!(lr->attrs = calloc(json_object_size(lr->map) + 2, sizeof(char *))))
		return err_internal(err, "out of memory");
	json_object_foreach(lr->map, key, val) {
		if (strcmp(key, "password") != 0 && !list_has(lr->attrs, json_string_value(val)) &&
		    !(lr->attrs[n++] = strdup(json_string_value(val))))
			return err_internal(err, "out of memory");
	}
	if (lr->uidkind != UID_DN && !list_has(lr->attrs, lr->uidtype) && !(lr->attrs[n++] = strdup(lr->uidtype)))
		return err_internal(err, "out of memory");

	lr->multi = parse_multi(cfg_str(config, "MULTIVALUEATTRIBUTES"), err);
	return lr->multi ? 0 : -1;
}

static int setup_pool(struct ldapres *lr, const json_t *config, struct error *err)
{
	struct ldapres_pool_cfg pc = { 0 };
	int anonymous = 0;

	if (parse_authtype(cfg_str(config, "AUTHTYPE"), &anonymous, err) < 0 ||
	    cfg_int(config, "TIMEOUT", 5, 1, 3600, &lr->timeout, err) < 0 ||
	    cfg_int(config, "SERVERPOOL_ROUNDS", 2, 1, 100, &pc.rounds, err) < 0 ||
	    cfg_int(config, "SERVERPOOL_SKIP", 30, 0, 86400, &pc.skip, err) < 0 ||
	    cfg_int(config, "TLS_VERSION", 2, 2, 5, &pc.tls_version, err) < 0)
		return -1;
	pc.urilist = cfg_str(config, "LDAPURI");
	pc.timeout = lr->timeout;
	pc.strategy = parse_strategy(cfg_str(config, "SERVERPOOL_STRATEGY"));
	pc.start_tls = resolver_cfg_bool(config, "START_TLS", 0);
	pc.tls_verify = resolver_cfg_bool(config, "TLS_VERIFY", 0);
	pc.tls_ca_file = cfg_str(config, "TLS_CA_FILE");
	pc.noreferrals = resolver_cfg_bool(config, "NOREFERRALS", 0);
	pc.binddn = anonymous ? NULL : cfg_str(config, "BINDDN");
	pc.bindpw = cfg_str(config, "BINDPW");
	lr->pool = ldapres_pool_new(&pc, err);
	return lr->pool ? 0 : -1;
}

static void ldapres_destroy(struct resolver *r)
{
	if (!r)
		return;
	struct ldapres *lr = r->priv;
	if (lr) {
		ldapres_pool_free(lr->pool);
		free(lr->basedn);
		free(lr->filter);
		free_list(lr->login);
		free_list(lr->attrs);
		free_list(lr->objclasses);
		json_decref(lr->map);
		json_decref(lr->multi);
		free(lr->uidtype);
		free(lr->dn_template);
		json_decref(lr->cache_login);
		json_decref(lr->cache_user);
		pthread_mutex_destroy(&lr->cache_lock);
		free(lr);
	}
	free(r->name);
	free(r);
}

static struct resolver *ldapres_create(const char *name, const json_t *config, struct error *err)
{
	struct resolver *r = calloc(1, sizeof(*r));
	struct ldapres *lr = calloc(1, sizeof(*lr));

	if (!r || !lr) {
		free(r);
		free(lr);
		err_internal(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&lr->cache_lock, NULL);
	r->type = &ldapresolver_type;
	r->priv = lr;
	r->name = strdup(name ? name : "");
	lr->cache_login = json_object();
	lr->cache_user = json_object();
	if (!r->name || !lr->cache_login || !lr->cache_user) {
		err_internal(err, "out of memory");
		goto fail;
	}
	if (!json_is_object(config)) {
		err_param(err, "Invalid resolver definition");
		goto fail;
	}
	if (resolver_check_required(&ldapresolver_type, config, err) < 0 || setup_search(lr, config, err) < 0 ||
	    setup_mapping(lr, config, err) < 0 || setup_pool(lr, config, err) < 0 ||
	    cfg_int(config, "CACHE_TIMEOUT", 120, 0, 86400 * 365, &lr->cache_timeout, err) < 0 ||
	    cfg_int(config, "SIZELIMIT", 500, 0, INT_MAX, &lr->sizelimit, err) < 0)
		goto fail;
	if (lr->sizelimit == 0)
		lr->sizelimit = INT_MAX; /* no limit of ours; the server's applies */
	lr->editable = resolver_cfg_bool(config, "EDITABLE", 0);
	return r;
fail:
	ldapres_destroy(r);
	return NULL;
}

/* ---- reading ------------------------------------------------------------- */

static int ldapres_get_user_id(struct resolver *r, const char *login, char **uid, struct error *err)
{
	return ldapres_find_by_login(res_of(r), login, uid, err);
}

static int ldapres_get_user_info(struct resolver *r, const char *uid, json_t **info, struct error *err)
{
	*info = NULL;
	return ldapres_find_by_uid(res_of(r), uid, NULL, info, err);
}

static int ldapres_get_username(struct resolver *r, const char *uid, char **login, struct error *err)
{
	json_t *info = NULL;
	int ret = ldapres_find_by_uid(res_of(r), uid, NULL, &info, err);

	*login = NULL;
	if (ret == 0 && !(*login = strdup(json_string_value(json_object_get(info, "username")))))
		ret = err_internal(err, "out of memory");
	json_decref(info);
	return ret;
}

/* One term of a user-list search; 1 when it can match nothing here. */
static int list_term(const struct ldapres *lr, struct sbuf *b, const char *key, const json_t *jv, struct error *err)
{
	char num[32];
	const char *v = json_string_value(jv);
	const char *attr = json_string_value(json_object_get(lr->map, key));

	if (json_is_integer(jv)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(jv));
		v = num;
	}
	if (!v)
		return err_param(err, "Invalid search value for '%s'", key);
	/* privacyIDEA: an unmapped key raises, so this resolver lists nobody. */
	if (!attr || !strcmp(key, "password") || !resolver_utf8_valid(v, strlen(v)))
		return 1;
	if (!strcmp(key, "accountExpires")) {
		/* Active Directory time (100 ns since 1601); "1" lists expired accounts. */
		long long now = ((long long)time(NULL) + 11644473600LL) * 10000000LL;
		sb_addf(b, "(&(%s%s%lld)(!(%s=0)))", attr, !strcmp(v, "1") ? "<=" : ">=", now, attr);
		return 0;
	}
	sb_addf(b, "(%s=", attr);
	ldapres_add_filter_value(b, v, 1);
	sb_add(b, ")");
	return 0;
}

static int ldapres_get_user_list(struct resolver *r, const json_t *search, json_t **list, struct error *err)
{
	struct ldapres *lr = res_of(r);
	struct sbuf b = { 0 };
	const char *key;
	json_t *jv;
	int none = 0, ret = 0;

	if (search && !json_is_object(search))
		return err_param(err, "Invalid search");
	if (!(*list = json_array()))
		return err_internal(err, "out of memory");
	json_object_foreach((json_t *)search, key, jv) {
		int t = list_term(lr, &b, key, jv, err);
		if (t < 0) {
			free(sb_done(&b));
			goto fail;
		}
		none |= t;
	}
	char *inner = sb_done(&b);
	if (!inner) {
		err_internal(err, "out of memory");
		goto fail;
	}
	if (!none)
		ret = ldapres_list(lr, inner, *list, err);
	free(inner);
	if (ret == 0)
		return 0;
fail:
	json_decref(*list);
	*list = NULL;
	return -1;
}

static int ldapres_check_pass(struct resolver *r, const char *uid, const char *password, struct error *err)
{
	char *dn = NULL;

	/* An empty password makes a simple bind unauthenticated, which servers
	 * answer like an anonymous bind: refuse before anything is sent. */
	if (!password || !*password)
		return 1;
	int ret = ldapres_find_by_uid(res_of(r), uid, &dn, NULL, err);
	if (ret == 0)
		ret = ldapres_pool_bind_check(res_of(r)->pool, dn, password, err);
	free(dn);
	return ret;
}

static int ldapres_editable(const struct resolver *r)
{
	return ((const struct ldapres *)r->priv)->editable;
}

/* ---- test_connection ----------------------------------------------------- */

static int ldapres_test_connection(const json_t *config, char **desc, struct error *err)
{
	struct resolver *r = ldapres_create("(test)", config, err);
	char buf[200];
	int count = 0, with_uid = 0;

	*desc = NULL;
	if (!r)
		return -1;
	int ret = ldapres_count(res_of(r), &count, &with_uid, err);
	ldapres_destroy(r);
	if (ret < 0)
		return -1;
	/* privacyIDEA's wording, including its count capped at SIZELIMIT. */
	if (with_uid < count)
		snprintf(buf, sizeof(buf),
			 "Your LDAP config found %d user objects, but only %d with the specified uidtype", count,
			 with_uid);
	else
		snprintf(buf, sizeof(buf), "Your LDAP config seems to be OK, %d user objects found.", count);
	if (!(*desc = strdup(buf)))
		return err_internal(err, "out of memory");
	return 0;
}

const struct resolver_type ldapresolver_type = {
	.name = "ldapresolver",
	.description = "LDAP directory (OpenLDAP, Active Directory, FreeIPA, 389 DS, ...)",
	.params = ldap_params,
	.create = ldapres_create,
	.destroy = ldapres_destroy,
	.get_user_id = ldapres_get_user_id,
	.get_username = ldapres_get_username,
	.get_user_info = ldapres_get_user_info,
	.get_user_list = ldapres_get_user_list,
	.check_pass = ldapres_check_pass,
	.add_user = ldapres_add_user,
	.update_user = ldapres_update_user,
	.delete_user = ldapres_delete_user,
	.editable = ldapres_editable,
	.test_connection = ldapres_test_connection,
};
