/*
 * user.c — users as privacyIDEA's User object (user.h): splitting
 * "login@realm", finding the user in the realm's resolvers by priority,
 * the user cache, user information with custom attributes, the user-store
 * password check, the user list and changes in editable stores.
 *
 * Everything about a user comes from the resolvers of the request's
 * configuration snapshot (realm.c).  It must not build SQL (store_*.c) and
 * never puts a password into an error or log message.
 *
 * The user cache (system setting UserCacheExpiration, seconds, 0 = off)
 * follows privacyIDEA 3.8: for each resolver in priority order, the cache
 * is asked first, then the resolver; a hit or a lookup stores/uses the
 * triple (used login, resolver) → (username, uid) in `usercache`.  Entries
 * are dropped when the resolver is changed or deleted (realm.c) and when
 * the user is changed or deleted here.  Expired entries stay until
 * removed, as in privacyIDEA.
 */
#include "user.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "log.h"
#include "realm.h"
#include "sysconfig.h"
#include "resolvers/resolver.h"
#include "../db/db.h"
#include "../db/store_userstore.h"

#define ERR_RESOLVER 907 /* privacyIDEA's ResolverError */
#define MSG_NOT_FOUND "The user can not be found in any resolver in this realm!"

static int copy_field(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= size)
		return -1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return 0;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int user_is_empty(const struct user *u)
{
	return !u || (!u->login[0] && !u->realm[0]);
}

const char *user_display(const struct user *u, char *buf, unsigned len)
{
	if (!u || !u->login[0])
		snprintf(buf, len, "%s", "");
	else if (u->realm[0])
		snprintf(buf, len, "%s@%s", u->login, u->realm);
	else
		snprintf(buf, len, "%s", u->login);
	return buf;
}

/* ---- splitting ------------------------------------------------------------ */

void user_split(const struct snapshot *s, const char *username, char *login, size_t login_len, char *realm,
		size_t realm_len)
{
	const char *b = username ? username : "";
	while (isspace((unsigned char)*b))
		b++;
	size_t n = strlen(b);
	while (n && isspace((unsigned char)b[n - 1]))
		n--;
	snprintf(login, login_len, "%.*s", (int)n, b);
	realm[0] = '\0';
	if (!sysconfig_bool(s, "splitAtSign", 1))
		return;
	char *at = strrchr(login, '@');
	if (at) {
		/* Only when the part after the last '@' is a realm: a mail
		 * address stays a login of the default realm. */
		if (realm_exists(s, at + 1)) {
			snprintf(realm, realm_len, "%s", at + 1);
			*at = '\0';
		}
		return;
	}
	char *bs = strrchr(login, '\\');
	if (bs) {
		snprintf(realm, realm_len, "%.*s", (int)(bs - login), login);
		memmove(login, bs + 1, strlen(bs + 1) + 1);
	}
}

/* ---- the user cache ----------------------------------------------------------- */

/* The oldest timestamp of a valid entry, or 0 when the cache is off. */
static int cache_not_before(const struct snapshot *s, char buf[DB_TS_LEN])
{
	long long secs = sysconfig_int(s, "UserCacheExpiration", 0);
	if (secs <= 0)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	db_timestamp(buf, (int64_t)ts.tv_sec - secs, ts.tv_nsec / 1000);
	return 1;
}

static void cache_put(struct db_conn *c, const char *username, const char *used_login, const char *resolver,
		      const char *uid)
{
	struct error e = { 0 };
	if (store_usercache_put(c, username, used_login, resolver, uid, &e) < 0)
		log_warning("user cache: cannot store %s in %s: %s", used_login, resolver, e.message);
}

/* ---- resolving ---------------------------------------------------------------- */

/* The user in one resolver: 0 found (u->resolver, u->uid, canonical
 * u->login set), 1 not there, -1 store error. */
static int locate(struct snapshot *s, struct db_conn *c, struct user *u, const char *name, const char *nb,
		  struct error *err)
{
	struct resolver *r = realm_resolver(s, name);
	char *uid = NULL, *canon = NULL;
	if (!r) {
		log_info("resolver %s has no usable instance; user %s not searched there", name, u->login);
		return 1;
	}
	if (nb) {
		char *cached_name = NULL;
		int hit = store_usercache_by_login(c, u->login, name, nb, &cached_name, &uid, err);
		if (hit < 0)
			return -1;
		if (hit == 0) {
			int ok = copy_field(u->login, sizeof(u->login), cached_name) == 0 &&
				 copy_field(u->uid, sizeof(u->uid), uid) == 0 &&
				 copy_field(u->resolver, sizeof(u->resolver), name) == 0;
			free(cached_name);
			free(uid);
			if (ok)
				return 0;
			u->uid[0] = u->resolver[0] = '\0';
			return 1;
		}
	}
	int rc = r->type->get_user_id(r, u->login, &uid, err);
	if (rc != 0)
		return rc;
	/* Several login names map back to the username (the first one). */
	if (realm_resolver_multi_login(s, name)) {
		int g = r->type->get_username(r, uid, &canon, err);
		if (g < 0) {
			free(uid);
			return -1;
		}
	}
	const char *username = canon ? canon : u->login;
	if (strlen(uid) >= sizeof(u->uid) || strlen(username) >= sizeof(u->login)) {
		log_warning("user %s in resolver %s: its uid or name is too long", u->login, name);
		rc = 1;
	} else {
		if (nb)
			cache_put(c, username, u->login, name, uid);
		copy_field(u->uid, sizeof(u->uid), uid);
		copy_field(u->resolver, sizeof(u->resolver), name);
		copy_field(u->login, sizeof(u->login), username);
	}
	free(uid);
	free(canon);
	return rc;
}

int user_resolve(struct snapshot *s, struct db_conn *c, struct user *u, struct error *err)
{
	char nbuf[DB_TS_LEN];
	const char *nb = cache_not_before(s, nbuf) ? nbuf : NULL;
	if (!u->login[0])
		return 1;
	if (u->resolver[0]) {
		if (!realm_resolver_type(s, u->resolver))
			return err_set(err, ERRK_PI, ERR_USER, "The resolver '%s' does not exist!", u->resolver);
		char pinned[sizeof(u->resolver)];
		memcpy(pinned, u->resolver, sizeof(pinned));
		u->resolver[0] = '\0';
		int rc = locate(s, c, u, pinned, nb, err);
		if (rc != 0)
			memcpy(u->resolver, pinned, sizeof(pinned));
		return rc;
	}
	for (const char *const *r = realm_resolvers(s, u->realm); *r; r++) {
		int rc = locate(s, c, u, *r, nb, err);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

int user_from_params(struct snapshot *s, struct db_conn *c, const char *user, const char *realm,
		     const char *resolver, struct user *u, struct error *err)
{
	char login[1024], split_realm[512];
	memset(u, 0, sizeof(*u));
	login[0] = split_realm[0] = '\0';
	if (user && strlen(user) >= sizeof(login) - 1)
		return err_set(err, ERRK_PI, ERR_USER, MSG_NOT_FOUND); /* no store has such names */
	if (user)
		user_split(s, user, login, sizeof(login), split_realm, sizeof(split_realm));
	const char *r = realm ? realm : split_realm;
	/* A login without a realm belongs to the default realm. */
	if (login[0] && !r[0])
		r = realm_default(s) ? realm_default(s) : "";
	if (copy_field(u->realm, sizeof(u->realm), r) < 0)
		return err_set(err, ERRK_PI, ERR_USER, MSG_NOT_FOUND);
	lower(u->realm);
	if (resolver && strcmp(resolver, "**") && copy_field(u->resolver, sizeof(u->resolver), resolver) < 0)
		return err_set(err, ERRK_PI, ERR_USER, "The resolver '%.100s' does not exist!", resolver);
	if (!login[0])
		return 1;
	if (copy_field(u->login, sizeof(u->login), login) < 0)
		return err_set(err, ERRK_PI, ERR_USER, MSG_NOT_FOUND);
	if (!u->resolver[0] && !realm_exists(s, u->realm))
		return err_set(err, ERRK_PI, ERR_USER, MSG_NOT_FOUND);
	int rc = user_resolve(s, c, u, err);
	if (rc == 1)
		return err_set(err, ERRK_PI, ERR_USER, MSG_NOT_FOUND);
	return rc;
}

int user_from_uid(struct snapshot *s, struct db_conn *c, const char *resolver, const char *uid,
		  const char *realm, struct user *u, struct error *err)
{
	char nbuf[DB_TS_LEN];
	memset(u, 0, sizeof(*u));
	if (copy_field(u->resolver, sizeof(u->resolver), resolver) < 0 || copy_field(u->uid, sizeof(u->uid), uid) < 0 ||
	    copy_field(u->realm, sizeof(u->realm), realm ? realm : "") < 0)
		return 1;
	lower(u->realm);
	struct resolver *r = realm_resolver(s, resolver);
	if (!r || !uid || !*uid)
		return 1;
	char *name = NULL;
	int rc = 1;
	if (cache_not_before(s, nbuf)) {
		rc = store_usercache_by_uid(c, uid, resolver, nbuf, &name, err);
		if (rc < 0)
			return -1;
	}
	if (rc == 1) {
		rc = r->type->get_username(r, uid, &name, err);
		if (rc != 0)
			return rc;
	}
	rc = copy_field(u->login, sizeof(u->login), name) < 0 ? 1 : 0;
	free(name);
	return rc;
}

/* ---- information, attributes, password -------------------------------------- */

static int64_t realm_db_id(struct snapshot *s, const char *realm)
{
	long long id = realm && *realm ? realm_id(s, realm) : -1;
	return id > 0 ? id : 0;
}

int user_attributes(struct snapshot *s, struct db_conn *c, const struct user *u, json_t **attrs,
		    struct error *err)
{
	if (!u->uid[0] || !u->resolver[0]) {
		*attrs = json_object();
		return *attrs ? 0 : err_internal(err, "out of memory");
	}
	return store_userattr_list(c, u->uid, u->resolver, realm_db_id(s, u->realm), attrs, err);
}

int user_set_attribute(struct snapshot *s, struct db_conn *c, const struct user *u, const char *key,
		       const char *value, const char *type, int64_t *id, struct error *err)
{
	if (!u->uid[0])
		return err_set(err, ERRK_PI, ERR_USER, MSG_NOT_FOUND);
	return store_userattr_set(c, u->uid, u->resolver, realm_db_id(s, u->realm), key, value, type, id, err);
}

int user_delete_attribute(struct snapshot *s, struct db_conn *c, const struct user *u, const char *key,
			  int64_t *count, struct error *err)
{
	if (!u->uid[0])
		return err_set(err, ERRK_PI, ERR_USER, MSG_NOT_FOUND);
	return store_userattr_delete(c, u->uid, u->resolver, realm_db_id(s, u->realm), key, count, err);
}

int user_info(struct snapshot *s, struct db_conn *c, const struct user *u, json_t **info, struct error *err)
{
	struct resolver *r = u->resolver[0] ? realm_resolver(s, u->resolver) : NULL;
	json_t *attrs = NULL;
	*info = NULL;
	if (!r || !u->uid[0]) {
		*info = json_object(); /* an unresolved user has no information */
		return *info ? 0 : err_internal(err, "out of memory");
	}
	int rc = r->type->get_user_info(r, u->uid, info, err);
	if (rc < 0)
		return -1;
	if (rc == 1 && !(*info = json_object()))
		return err_internal(err, "out of memory");
	if (rc == 0) {
		if (user_attributes(s, c, u, &attrs, err) < 0) {
			json_decref(*info);
			*info = NULL;
			return -1;
		}
		json_object_update(*info, attrs);
		json_decref(attrs);
	}
	return 0;
}

int user_check_password(struct snapshot *s, struct db_conn *c, const struct user *u, const char *password,
			struct error *err)
{
	struct user tmp = *u;
	if (!tmp.uid[0] || !tmp.resolver[0]) {
		int rc = user_resolve(s, c, &tmp, err);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	struct resolver *r = realm_resolver(s, tmp.resolver);
	if (!r)
		return 0;
	int rc = r->type->check_pass(r, tmp.uid, password ? password : "", err);
	return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}

/* ---- the user list ------------------------------------------------------------- */

static int resolver_editable(struct resolver *r)
{
	return r && r->type->editable && r->type->editable(r) != 0;
}

int user_resolver_editable(struct snapshot *s, const char *resolver)
{
	return resolver_editable(realm_resolver(s, resolver));
}

/* Keep only the requested keys ("" for those the store does not have). */
static json_t *only_attributes(json_t *entry, const json_t *attributes)
{
	json_t *out = json_object();
	size_t i;
	json_t *a;
	json_array_foreach(attributes, i, a) {
		const char *k = json_string_value(a);
		json_t *v = k ? json_object_get(entry, k) : NULL;
		if (k)
			json_object_set_new(out, k, v ? json_incref(v) : json_string(""));
	}
	json_decref(entry);
	return out;
}

struct listing {
	struct snapshot *s;
	struct db_conn *c;
	const json_t *search;
	const json_t *attributes;
	int with_realm;
	int with_custom;
	json_t *seen; /* "username\x1frealm" → true */
	json_t *out;
};

/* Add the users of one resolver (searched for one realm, or none). */
static int list_resolver(struct listing *l, const char *realm, const char *name, struct error *err)
{
	struct resolver *r = realm_resolver(l->s, name);
	json_t *found = NULL;
	if (!r) {
		log_info("user list: resolver %s has no usable instance", name);
		return 0;
	}
	struct error e = { 0 };
	if (r->type->get_user_list(r, l->search, &found, &e) < 0) {
		log_warning("user list: resolver %s failed: %s", name, e.message);
		return 0;
	}
	int64_t rid = realm_db_id(l->s, realm);
	int editable = resolver_editable(r);
	size_t i;
	json_t *entry;
	json_array_foreach(found, i, entry) {
		const char *uname = json_string_value(json_object_get(entry, "username"));
		char *key = NULL;
		if (asprintf(&key, "%s\x1f%s", uname ? uname : "", realm ? realm : "") < 0) {
			json_decref(found);
			return err_internal(err, "out of memory");
		}
		int dup = json_object_get(l->seen, key) != NULL;
		json_object_set_new(l->seen, key, json_true());
		free(key);
		if (dup)
			continue;
		json_t *u = json_incref(entry);
		if (l->with_realm)
			json_object_set_new(u, "realm", json_string(realm ? realm : ""));
		json_object_set_new(u, "resolver", json_string(name));
		json_object_set_new(u, "editable", json_boolean(editable));
		json_t *uid = json_object_get(u, "userid");
		if (l->with_custom && rid > 0 && uid) {
			json_t *attrs = NULL;
			char num[32];
			const char *uidtext = json_string_value(uid);
			if (json_is_integer(uid)) {
				snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(uid));
				uidtext = num;
			}
			if (uidtext && store_userattr_list(l->c, uidtext, name, rid, &attrs, err) < 0) {
				json_decref(u);
				json_decref(found);
				return -1;
			}
			json_object_update(u, attrs);
			json_decref(attrs);
		}
		if (l->attributes)
			u = only_attributes(u, l->attributes);
		json_array_append_new(l->out, u);
	}
	json_decref(found);
	return 0;
}

int user_list(struct snapshot *s, struct db_conn *c, const char *realm, const char *resolver,
	      const json_t *search, const json_t *attributes, json_t **list, struct error *err)
{
	struct listing l = { .s = s, .c = c, .search = search, .attributes = attributes };
	json_t *realms = NULL;
	int rc = -1;
	*list = NULL;
	if (realm && !*realm)
		realm = NULL;
	if (resolver && !*resolver)
		resolver = NULL;
	if (realm)
		realms = json_pack("[s]", realm);
	else if (!resolver)
		realms = realm_names(s);
	else
		realms = json_array(); /* only the resolver, in no particular realm */
	l.seen = json_object();
	l.out = json_array();
	if (!realms || !l.seen || !l.out) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (store_userattr_any(c, &l.with_custom, err) < 0)
		goto out;
	l.with_realm = json_array_size(realms) > 1;
	if (json_array_size(realms) == 0) {
		if (list_resolver(&l, NULL, resolver, err) < 0)
			goto out;
	}
	size_t i;
	json_t *rv;
	json_array_foreach(realms, i, rv) {
		char name[256];
		snprintf(name, sizeof(name), "%s", json_string_value(rv));
		lower(name);
		for (const char *const *r = realm_resolvers(s, name); *r; r++) {
			/* A resolver given with the realm narrows the realm's list
			 * (privacyIDEA ignores it, see docs/compatibility.md). */
			if (resolver && strcmp(resolver, *r))
				continue;
			if (list_resolver(&l, name, *r, err) < 0)
				goto out;
		}
	}
	*list = json_incref(l.out);
	rc = 0;
out:
	json_decref(realms);
	json_decref(l.seen);
	json_decref(l.out);
	return rc;
}

/* ---- editable stores ------------------------------------------------------------- */

json_t *user_settable_keys(struct snapshot *s, const char *resolver)
{
	static const char *const standard[] = { "username", "givenname", "surname", "email", "phone",
						"mobile",   "password",  "description", NULL };
	json_t *out = json_array();
	if (!out)
		return NULL;
	for (const char *const *k = standard; *k; k++)
		json_array_append_new(out, json_string(*k));
	const json_t *config = realm_resolver_config(s, resolver);
	static const char *const maps[] = { "Map", "USERINFO", NULL };
	for (const char *const *m = maps; config && *m; m++) {
		json_t *map = NULL;
		struct error e = { 0 };
		if (resolver_cfg_object(config, *m, &map, &e) < 0 || !map)
			continue;
		const char *k;
		json_t *v;
		json_object_foreach(map, k, v) {
			int have = 0;
			size_t i;
			json_t *w;
			json_array_foreach(out, i, w)
				have |= !strcmp(json_string_value(w), k);
			if (!have)
				json_array_append_new(out, json_string(k));
		}
		json_decref(map);
	}
	return out;
}

static struct resolver *editable_resolver(struct snapshot *s, const char *name, struct error *err)
{
	struct resolver *r = name ? realm_resolver(s, name) : NULL;
	if (!r) {
		err_set(err, ERRK_PI, ERR_USER, "The resolver '%.100s' does not exist!", name ? name : "");
		return NULL;
	}
	if (!resolver_editable(r)) {
		err_set(err, ERRK_PI, ERR_RESOLVER, "The resolver '%.100s' is not editable.", name);
		return NULL;
	}
	return r;
}

int user_create(struct snapshot *s, struct db_conn *c, const char *resolver, const json_t *attrs, char **uid,
		struct error *err)
{
	*uid = NULL;
	struct resolver *r = editable_resolver(s, resolver, err);
	if (!r)
		return -1;
	if (!r->type->add_user)
		return err_set(err, ERRK_PI, ERR_RESOLVER, "The resolver '%.100s' is not editable.", resolver);
	int rc = r->type->add_user(r, attrs, uid, err);
	if (rc == 0) {
		/* A cached "not found" does not exist, but an old entry for a
		 * reused login may. */
		const char *login = json_string_value(json_object_get(attrs, "username"));
		struct error e = { 0 };
		if (store_usercache_delete_user(c, resolver, login, *uid, &e) < 0)
			log_warning("user cache: %s", e.message);
	}
	return rc;
}

int user_update(struct snapshot *s, struct db_conn *c, const struct user *u, const json_t *attrs,
		struct error *err)
{
	struct resolver *r = editable_resolver(s, u->resolver, err);
	if (!r)
		return -1;
	if (!u->uid[0])
		return err_set(err, ERRK_PI, ERR_USER, MSG_NOT_FOUND);
	if (!r->type->update_user)
		return err_set(err, ERRK_PI, ERR_RESOLVER, "The resolver '%.100s' is not editable.", u->resolver);
	int rc = r->type->update_user(r, u->uid, attrs, err);
	if (rc == 0 && store_usercache_delete_user(c, u->resolver, u->login, u->uid, err) < 0)
		return -1;
	return rc;
}

int user_delete(struct snapshot *s, struct db_conn *c, const struct user *u, struct error *err)
{
	struct resolver *r = editable_resolver(s, u->resolver, err);
	if (!r)
		return -1;
	if (!u->uid[0])
		return err_set(err, ERRK_PI, ERR_USER, MSG_NOT_FOUND);
	if (!r->type->delete_user)
		return err_set(err, ERRK_PI, ERR_RESOLVER, "The resolver '%.100s' is not editable.", u->resolver);
	int rc = r->type->delete_user(r, u->uid, err);
	if (rc == 0 && store_usercache_delete_user(c, u->resolver, u->login, u->uid, err) < 0)
		return -1;
	return rc;
}
