/*
 * ldap_edit.c — creating, changing and deleting users of an EDITABLE LDAP
 * resolver, as privacyIDEA's LDAPIdResolver add_user / update_user /
 * delete_user do.
 *
 * New entries: DN from DN_TEMPLATE (<username>, <givenname>, <surname>
 * RFC 4514-escaped, <basedn> as configured), objectClass from
 * OBJECT_CLASSES, and every privacyIDEA key that USERINFO maps (plus
 * "username" → the first LOGINNAMEATTRIBUTE); the RDN's values are added
 * when missing so that the entry is valid.  "password" is stored as
 * {SSHA} (passlib's ldap_salted_sha1).  Updates replace each mapped
 * attribute given (an empty value deletes it).  Every edit clears the
 * instance's cache.
 * Must not: log a password or a hash; build a DN by unescaped pasting.
 */
#include "ldap_int.h"

#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../log.h"

/* ---- {SSHA} ---------------------------------------------------------------- */

char *ldapres_ssha(const char *password)
{
	unsigned char buf[20 + 4]; /* SHA-1 digest, then the salt */
	unsigned int dlen = 0;
	char out[6 + 33];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && RAND_bytes(buf + 20, 4) == 1 && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, password, strlen(password)) == 1 && EVP_DigestUpdate(ctx, buf + 20, 4) == 1 &&
		 EVP_DigestFinal_ex(ctx, buf, &dlen) == 1 && dlen == 20;

	EVP_MD_CTX_free(ctx);
	if (!ok)
		return NULL;
	memcpy(out, "{SSHA}", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, buf, sizeof(buf)); /* 32 chars + NUL */
	OPENSSL_cleanse(buf, sizeof(buf));
	return strdup(out);
}

/* ---- DNs ---------------------------------------------------------------------- */

/* One attribute value, RFC 4514-escaped. */
static void add_dn_value(struct sbuf *b, const char *v)
{
	size_t n = strlen(v);
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (strchr(",+\"\\<>;=", c) || (i == 0 && (c == ' ' || c == '#')) || (i == n - 1 && c == ' '))
			sb_addn(b, "\\", 1);
		sb_addn(b, &c, 1);
	}
}

/* DN_TEMPLATE → DN (malloc'd), or NULL + err. */
static char *build_dn(const char *tmpl, const char *basedn, const json_t *attrs, struct error *err)
{
	static const char *const holders[] = { "username", "givenname", "surname" };
	struct sbuf b = { 0 };
	LDAPDN dn = NULL;

	for (const char *p = tmpl; *p;) {
		size_t used = 0;
		if (!strncmp(p, "<basedn>", 8)) {
			sb_add(&b, basedn);
			used = 8;
		}
		for (size_t i = 0; !used && *p == '<' && i < sizeof(holders) / sizeof(holders[0]); i++) {
			size_t n = strlen(holders[i]);
			if (!strncmp(p + 1, holders[i], n) && p[n + 1] == '>') {
				const char *v = json_string_value(json_object_get(attrs, holders[i]));
				add_dn_value(&b, v ? v : "");
				used = n + 2;
			}
		}
		if (!used) {
			sb_addn(&b, p, 1);
			used = 1;
		}
		p += used;
	}
	char *s = sb_done(&b);
	if (!s) {
		err_internal(err, "out of memory");
		return NULL;
	}
	if (ldap_str2dn(s, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !dn) {
		err_param(err, "DN_TEMPLATE gives no valid DN for this user: %s", s);
		free(s);
		s = NULL;
	}
	ldap_dnfree(dn);
	return s;
}

/* ---- modification lists -------------------------------------------------------- */

struct mods {
	LDAPMod **v; /* NULL-terminated */
	size_t n, cap;
};

/* The modification of attr (one per attribute), created empty with op. */
static LDAPMod *mod_get(struct mods *m, const char *attr, int op)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcasecmp(m->v[i]->mod_type, attr))
			return m->v[i];
	if (m->n + 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		LDAPMod **nv = realloc(m->v, cap * sizeof(*nv));
		if (!nv)
			return NULL;
		m->v = nv;
		m->cap = cap;
	}
	LDAPMod *mod = calloc(1, sizeof(*mod));
	if (!mod || !(mod->mod_type = strdup(attr))) {
		free(mod);
		return NULL;
	}
	mod->mod_op = op | LDAP_MOD_BVALUES;
	m->v[m->n++] = mod;
	m->v[m->n] = NULL;
	return mod;
}

static int mod_add_value(LDAPMod *mod, const char *val, size_t len)
{
	size_t k = 0;
	while (mod->mod_bvalues && mod->mod_bvalues[k])
		k++;
	struct berval **nv = realloc(mod->mod_bvalues, (k + 2) * sizeof(*nv));
	if (!nv)
		return -1;
	mod->mod_bvalues = nv;
	nv[k] = NULL;
	struct berval *bv = malloc(sizeof(*bv));
	char *copy = malloc(len + 1);
	if (!bv || !copy) {
		free(bv);
		free(copy);
		return -1;
	}
	memcpy(copy, val, len);
	copy[len] = '\0';
	bv->bv_val = copy;
	bv->bv_len = len;
	nv[k] = bv;
	nv[k + 1] = NULL;
	return 0;
}

static int mod_has_value(const LDAPMod *mod, const struct berval *v)
{
	for (size_t k = 0; mod->mod_bvalues && mod->mod_bvalues[k]; k++) {
		const struct berval *x = mod->mod_bvalues[k];
		if (x->bv_len == v->bv_len && !strncasecmp(x->bv_val, v->bv_val, v->bv_len))
			return 1;
	}
	return 0;
}

/* A string, integer, boolean or array of those; password: its {SSHA}. */
static int mod_add_json(LDAPMod *mod, const json_t *v, int password)
{
	char num[32];
	size_t i;
	json_t *e;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (json_is_array(e) || mod_add_json(mod, e, password) < 0)
				return -1;
		}
		return 0;
	}
	if (json_is_string(v) && password) {
		char *h = ldapres_ssha(json_string_value(v));
		int rc = h ? mod_add_value(mod, h, strlen(h)) : -1;
		free(h);
		return rc;
	}
	if (json_is_string(v))
		return mod_add_value(mod, json_string_value(v), json_string_length(v));
	if (json_is_integer(v) && !password) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return mod_add_value(mod, num, strlen(num));
	}
	if (json_is_boolean(v) && !password)
		return mod_add_value(mod, json_is_true(v) ? "TRUE" : "FALSE", json_is_true(v) ? 4 : 5);
	return -1;
}

/* The values of dn's first RDN that the entry does not hold yet (LDAP
 * requires them; Active Directory adds them itself, OpenLDAP does not). */
static int mod_add_rdn(struct mods *m, const char *dn, struct error *err)
{
	LDAPDN d = NULL;
	int ret = 0;

	if (ldap_str2dn(dn, &d, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !d || !d[0]) {
		ldap_dnfree(d);
		return 0;
	}
	for (size_t i = 0; d[0][i] && ret == 0; i++) {
		LDAPAVA *ava = d[0][i];
		if (ava->la_flags & LDAP_AVA_BINARY)
			continue;
		char *attr = strndup(ava->la_attr.bv_val, ava->la_attr.bv_len);
		LDAPMod *mod = attr ? mod_get(m, attr, LDAP_MOD_ADD) : NULL;
		free(attr);
		if (!mod || (!mod_has_value(mod, &ava->la_value) &&
			     mod_add_value(mod, ava->la_value.bv_val, ava->la_value.bv_len) < 0))
			ret = err_internal(err, "out of memory");
	}
	ldap_dnfree(d);
	return ret;
}

static void mods_free(struct mods *m)
{
	for (size_t i = 0; i < m->n; i++) {
		LDAPMod *mod = m->v[i];
		for (size_t k = 0; mod->mod_bvalues && mod->mod_bvalues[k]; k++) {
			OPENSSL_cleanse(mod->mod_bvalues[k]->bv_val, mod->mod_bvalues[k]->bv_len);
			free(mod->mod_bvalues[k]->bv_val);
			free(mod->mod_bvalues[k]);
		}
		free(mod->mod_bvalues);
		free(mod->mod_type);
		free(mod);
	}
	free(m->v);
}

/* Mapped attributes of attrs into m: ADD (empty values skipped) or
 * REPLACE (an empty value deletes the attribute). */
static int mods_from_attrs(const struct ldapres *lr, struct mods *m, const json_t *attrs, int replace,
			   struct error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)attrs, key, v) {
		const char *attr = json_string_value(json_object_get(lr->map, key));
		if (!attr) {
			if (!strcmp(key, "password"))
				log_warning("LDAP resolver: password not stored, USERINFO maps no \"password\"");
			continue;
		}
		int empty = json_is_null(v) || (json_is_string(v) && !json_string_length(v)) ||
			    (json_is_array(v) && !json_array_size(v));
		if (empty && !replace)
			continue;
		LDAPMod *mod = mod_get(m, attr, replace ? LDAP_MOD_REPLACE : LDAP_MOD_ADD);
		if (!mod)
			return err_internal(err, "out of memory");
		if (!empty && mod_add_json(mod, v, !strcmp(key, "password")) < 0)
			return err_param(err, "Invalid value for user attribute '%s'", key);
	}
	return 0;
}

/* ---- running an edit ------------------------------------------------------------ */

struct edit {
	const char *dn;
	LDAPMod **mods;
	char op; /* 'a'dd, 'm'odify, 'd'elete */
	char diag[512];
};

static int op_edit(LDAP *ld, void *ctx)
{
	struct edit *e = ctx;
	int rc;

	e->diag[0] = '\0';
	if (e->op == 'a')
		rc = ldap_add_ext_s(ld, e->dn, e->mods, NULL, NULL);
	else if (e->op == 'm')
		rc = ldap_modify_ext_s(ld, e->dn, e->mods, NULL, NULL);
	else
		rc = ldap_delete_ext_s(ld, e->dn, NULL, NULL);
	if (rc != LDAP_SUCCESS)
		ldapres_pool_describe(ld, rc, e->diag, sizeof(e->diag));
	return rc;
}

/* 0 done, 1 no such entry, -1 + err (what: "adding", "update", ...). */
static int run_edit(struct ldapres *lr, struct edit *e, const char *what, struct error *err)
{
	int rc;
	int ret = ldapres_pool_run(lr->pool, op_edit, e, &rc, err);
	ldapres_cache_clear(lr);
	if (ret < 0)
		return -1;
	if (rc == LDAP_SUCCESS)
		return 0;
	if (rc == LDAP_NO_SUCH_OBJECT && e->op != 'a')
		return 1;
	return err_set(err, ERRK_PI, ERR_USER, "Error during %s of user %s: %s", what, e->dn, e->diag);
}

static int not_editable(const struct resolver *r, struct error *err)
{
	return err_set(err, ERRK_PI, ERR_USER, "The resolver %s is not editable.", r->name);
}

/* ---- the resolver interface ------------------------------------------------------ */

int ldapres_add_user(struct resolver *r, const json_t *attrs, char **uid, struct error *err)
{
	struct ldapres *lr = r->priv;
	struct mods m = { 0 };
	char *dn = NULL;
	int ret = -1;

	*uid = NULL;
	if (!lr->editable)
		return not_editable(r, err);
	const char *username = json_string_value(json_object_get(attrs, "username"));
	if (!username || !*username)
		return err_missing_param(err, "username");
	if (!lr->dn_template[0] || !lr->objclasses[0])
		return err_param(err, "DN_TEMPLATE and OBJECT_CLASSES must be set to add users");
	if (!(dn = build_dn(lr->dn_template, lr->basedn, attrs, err)))
		return -1;
	LDAPMod *oc = mod_get(&m, "objectClass", LDAP_MOD_ADD);
	for (char **c = lr->objclasses; oc && *c; c++)
		if (mod_add_value(oc, *c, strlen(*c)) < 0)
			oc = NULL;
	if (!oc) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (mods_from_attrs(lr, &m, attrs, 0, err) < 0 || mod_add_rdn(&m, dn, err) < 0)
		goto out;
	struct edit e = { .dn = dn, .mods = m.v, .op = 'a' };
	if (run_edit(lr, &e, "adding", err) != 0)
		goto out;
	log_info("LDAP resolver %s: added user %s", r->name, dn);
	ret = ldapres_find_by_login(lr, username, uid, err);
	if (ret == 1)
		ret = err_set(err, ERRK_PI, ERR_USER,
			      "User %s was added, but the resolver does not find it (check LDAPSEARCHFILTER, "
			      "LOGINNAMEATTRIBUTE and LDAPBASE)", dn);
out:
	mods_free(&m);
	free(dn);
	return ret;
}

int ldapres_update_user(struct resolver *r, const char *uid, const json_t *attrs, struct error *err)
{
	struct ldapres *lr = r->priv;
	struct mods m = { 0 };
	char *dn = NULL;

	if (!lr->editable)
		return not_editable(r, err);
	int ret = ldapres_find_by_uid(lr, uid, &dn, NULL, err);
	if (ret != 0)
		return ret;
	ret = mods_from_attrs(lr, &m, attrs, 1, err);
	if (ret == 0 && m.n > 0) {
		struct edit e = { .dn = dn, .mods = m.v, .op = 'm' };
		ret = run_edit(lr, &e, "update", err);
	}
	mods_free(&m);
	free(dn);
	return ret;
}

int ldapres_delete_user(struct resolver *r, const char *uid, struct error *err)
{
	struct ldapres *lr = r->priv;
	char *dn = NULL;

	if (!lr->editable)
		return not_editable(r, err);
	int ret = ldapres_find_by_uid(lr, uid, &dn, NULL, err);
	if (ret != 0)
		return ret;
	struct edit e = { .dn = dn, .op = 'd' };
	ret = run_edit(lr, &e, "deletion", err);
	if (ret == 0)
		log_info("LDAP resolver %s: deleted user %s", r->name, dn);
	free(dn);
	return ret;
}
