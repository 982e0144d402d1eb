/*
 * user.c — the /user blueprint: list users, create/change/delete users in
 * editable user stores, custom user attributes.
 *
 * A user JWT only ever acts on its own account: the parameters user,
 * realm and resolver are overwritten with the caller's before anything
 * else, as privacyIDEA's before_request does.  Parameters and rights
 * here; users are lib/user.c's.  No SQL, no envelope.
 */
#include "api.h"
#include "guard.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/realm.h"
#include "../lib/user.h"

/* privacyIDEA's user-role request rewriting. */
static void rewrite_for_user(struct request *rq)
{
	if (rq->who.role != ROLE_USER)
		return;
	json_object_set_new(rq->params, "user", json_string(rq->who.username));
	json_object_set_new(rq->params, "realm", json_string(rq->who.realm));
	if (rq->who.resolver[0])
		json_object_set_new(rq->params, "resolver", json_string(rq->who.resolver));
	else
		json_object_del(rq->params, "resolver");
}

static void audit_user(struct request *rq, const struct user *u)
{
	snprintf(rq->audit.user, sizeof(rq->audit.user), "%s", u->login);
	snprintf(rq->audit.realm, sizeof(rq->audit.realm), "%s", u->realm);
	snprintf(rq->audit.resolver, sizeof(rq->audit.resolver), "%s", u->resolver);
}

/* The user named by the parameters user/realm/resolver; "user" required. */
static int param_user(struct request *rq, struct snapshot **s, struct user *u, struct error *err)
{
	const char *login;
	if (param_req(rq, "user", &login, err) < 0)
		return -1;
	struct db_conn *c = request_db(rq, err);
	if (!c || !(*s = request_snapshot(rq, err)))
		return -1;
	int rc = user_from_params(*s, c, login, param_str(rq, "realm"), param_str(rq, "resolver"), u, err);
	if (rc == 1)
		return err_missing_param(err, "user");
	if (rc == 0)
		audit_user(rq, u);
	return rc;
}

/* The attributes for a new or changed user: "username" and every key the
 * resolver can store that has a non-empty value (privacyIDEA's
 * _get_attributes_from_param). */
static json_t *user_attrs(struct request *rq, struct snapshot *s, const char *resolver, const char *login,
			  struct error *err)
{
	json_t *keys = user_settable_keys(s, resolver);
	json_t *attrs = json_pack("{s:s}", "username", login);
	if (!keys || !attrs) {
		json_decref(keys);
		json_decref(attrs);
		err_internal(err, "out of memory");
		return NULL;
	}
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k) {
		const char *key = json_string_value(k);
		if (!strcmp(key, "username"))
			continue;
		const char *v = param_str(rq, key); /* numbers as Python's str() */
		if (v && *v)
			json_object_set_new(attrs, key, json_string(v));
	}
	json_decref(keys);
	return attrs;
}

/* ---- GET /user/ -------------------------------------------------------------- */

/* The caller's own entry (user role). */
static int list_self(struct request *rq, struct snapshot *s, json_t **value, struct error *err)
{
	struct user u;
	json_t *info = NULL;
	if (param_user(rq, &s, &u, err) < 0 || user_info(s, request_db(rq, err), &u, &info, err) < 0)
		return -1;
	json_object_set_new(info, "resolver", json_string(u.resolver));
	json_object_set_new(info, "editable", json_boolean(user_resolver_editable(s, u.resolver)));
	*value = json_pack("[o]", info);
	return *value ? 0 : err_internal(err, "out of memory");
}

static json_t *split_attributes(const char *text)
{
	json_t *a = json_array();
	char *copy = strdup(text), *save = NULL;
	if (!a || !copy) {
		json_decref(a);
		free(copy);
		return NULL;
	}
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *e = t + strlen(t);
		while (isspace((unsigned char)*t))
			t++;
		while (e > t && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*t)
			json_array_append_new(a, json_string(t));
	}
	free(copy);
	return a;
}

int api_user_list(struct request *rq, json_t **value, struct error *err)
{
	/* policy: userlist (a realm-restricted admin without a realm parameter
	 * gets the first realm of his userlist policy: realmadmin) */
	struct snapshot *s = request_snapshot(rq, err);
	if (!s)
		return -1;
	rq->audit.success = 1;
	if (rq->who.role == ROLE_USER) {
		rewrite_for_user(rq);
		return list_self(rq, s, value, err);
	}
	const char *realm = param_str(rq, "realm");
	const char *resolver = param_str(rq, "resolver");
	const char *attributes = param_str(rq, "attributes");
	json_t *search = json_pack("{s:s}", "username", "*");
	json_t *wanted = attributes ? split_attributes(attributes) : NULL;
	if (!search || (attributes && !wanted)) {
		json_decref(search);
		json_decref(wanted);
		return err_internal(err, "out of memory");
	}
	const char *k;
	json_t *v;
	json_object_foreach(rq->params, k, v) {
		if (!strcmp(k, "realm") || !strcmp(k, "resolver") || !strcmp(k, "user") || !strcmp(k, "username") ||
		    !strcmp(k, "attributes"))
			continue;
		const char *text = param_str(rq, k);
		json_object_set_new(search, k, json_string(text ? text : ""));
	}
	/* "user" is an alias of "username" and wins. */
	const char *uname = param_str(rq, "user") ? param_str(rq, "user") : param_str(rq, "username");
	if (uname)
		json_object_set_new(search, "username", json_string(uname));
	snprintf(rq->audit.info, sizeof(rq->audit.info), "realm: %s", realm ? realm : "None");
	int rc = user_list(s, request_db(rq, err), realm, resolver, search, wanted, value, err);
	json_decref(search);
	json_decref(wanted);
	return rc;
}

/* ---- custom attributes ------------------------------------------------------------ */

/* GET /user/attribute: {key: value}, or one value (null when unset). */
int api_user_attribute_get(struct request *rq, json_t **value, struct error *err)
{
	struct snapshot *s = NULL;
	struct user u;
	json_t *attrs = NULL;
	rewrite_for_user(rq);
	if (param_user(rq, &s, &u, err) < 0 || user_attributes(s, request_db(rq, err), &u, &attrs, err) < 0)
		return -1;
	const char *key = param_str(rq, "key");
	if (key) {
		snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", key);
		json_t *one = json_object_get(attrs, key);
		*value = one ? json_incref(one) : json_null();
		json_decref(attrs);
	} else {
		*value = attrs;
	}
	rq->audit.success = 1;
	return 0;
}

/* POST /user/attribute: value = the attribute's db id. */
int api_user_attribute_post(struct request *rq, json_t **value, struct error *err)
{
	struct snapshot *s = NULL;
	struct user u;
	const char *login, *key, *val;
	int64_t id = 0;
	rewrite_for_user(rq);
	if (param_req(rq, "user", &login, err) < 0 || param_req(rq, "key", &key, err) < 0 ||
	    param_req(rq, "value", &val, err) < 0)
		return -1;
	if (!*key)
		return err_param(err, "The attribute key must not be empty.");
	/* policy: set_custom_user_attributes (denied unless a policy allows
	 * this key and value) */
	if (param_user(rq, &s, &u, err) < 0)
		return -1;
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", key);
	if (user_set_attribute(s, request_db(rq, err), &u, key, val, param_str(rq, "type"), &id, err) < 0)
		return -1;
	rq->audit.success = 1;
	*value = json_integer(id);
	return 0;
}

/* DELETE /user/attribute/<attrkey>/<username>/<realm>: value = number of
 * attributes deleted.  A user JWT acts on its own account whatever the
 * path says. */
int api_user_attribute_delete(struct request *rq, json_t **value, struct error *err)
{
	struct snapshot *s = request_snapshot(rq, err);
	struct db_conn *c = request_db(rq, err);
	struct user u;
	int64_t n = 0;
	if (!s || !c)
		return -1;
	const char *key = param_str(rq, "attrkey");
	const char *login = rq->who.role == ROLE_USER ? rq->who.username : param_str(rq, "username");
	const char *realm = rq->who.role == ROLE_USER ? rq->who.realm : param_str(rq, "realm");
	const char *resolver = rq->who.role == ROLE_USER && rq->who.resolver[0] ? rq->who.resolver : NULL;
	/* policy: delete_custom_user_attributes (denied unless a policy allows
	 * this key) */
	int rc = user_from_params(s, c, login, realm, resolver, &u, err);
	if (rc == 1)
		return err_missing_param(err, "username");
	if (rc < 0)
		return -1;
	audit_user(rq, &u);
	/* the guard saw only the path's realm: now the user */
	if (rq->who.role == ROLE_ADMIN && api_check_right(rq, "delete_custom_user_attributes", &u, NULL, err) < 0)
		return -1;
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s", key ? key : "");
	if (user_delete_attribute(s, c, &u, key, &n, err) < 0)
		return -1;
	rq->audit.success = 1;
	*value = json_integer(n);
	return 0;
}

/* GET /user/editable_attributes/: what the policies let the caller set
 * and delete for this user. */
int api_user_editable_attributes(struct request *rq, json_t **value, struct error *err)
{
	struct snapshot *s = NULL;
	struct user u;
	rewrite_for_user(rq);
	if (param_user(rq, &s, &u, err) < 0)
		return -1;
	/* policy: computed from set_custom_user_attributes and
	 * delete_custom_user_attributes; without such policies nothing. */
	*value = json_pack("{s:[],s:{}}", "delete", "set");
	rq->audit.success = 1;
	return *value ? 0 : err_internal(err, "out of memory");
}

/* ---- editable user stores ------------------------------------------------------------ */

/* POST /user: value = the new user's id. */
int api_user_create(struct request *rq, json_t **value, struct error *err)
{
	/* policy: adduser */
	const char *login, *resolver;
	char *uid = NULL;
	if (param_req(rq, "user", &login, err) < 0 || param_req(rq, "resolver", &resolver, err) < 0)
		return -1;
	if (api_check_resolver_user_right(rq, "adduser", login, resolver, err) < 0)
		return -1;
	struct snapshot *s = request_snapshot(rq, err);
	struct db_conn *c = request_db(rq, err);
	if (!s || !c)
		return -1;
	json_t *attrs = user_attrs(rq, s, resolver, login, err);
	if (!attrs)
		return -1;
	int rc = user_create(s, c, resolver, attrs, &uid, err);
	json_t *pw = json_object_get(attrs, "password");
	if (pw)
		memset((char *)json_string_value(pw), 0, json_string_length(pw));
	json_decref(attrs);
	if (rc < 0)
		return -1;
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s: %s/%s", uid, login, resolver);
	snprintf(rq->audit.user, sizeof(rq->audit.user), "%s", login);
	snprintf(rq->audit.resolver, sizeof(rq->audit.resolver), "%s", resolver);
	/* privacyIDEA returns the id column's value: a number for SQL ids. */
	const char *type = realm_resolver_type(s, resolver);
	int numeric = type && !strcmp(type, "sqlresolver") && *uid && strlen(uid) < 19;
	for (const char *p = uid; numeric && *p; p++)
		numeric = isdigit((unsigned char)*p);
	*value = numeric ? json_integer(strtoll(uid, NULL, 10)) : json_string(uid);
	free(uid);
	rq->audit.success = 1;
	return *value ? 0 : err_internal(err, "out of memory");
}

/* PUT /user: value true. */
int api_user_update(struct request *rq, json_t **value, struct error *err)
{
	/* policy: updateuser */
	const char *login, *resolver;
	struct user u;
	rewrite_for_user(rq);
	if (param_req(rq, "user", &login, err) < 0 || param_req(rq, "resolver", &resolver, err) < 0)
		return -1;
	struct snapshot *s = request_snapshot(rq, err);
	struct db_conn *c = request_db(rq, err);
	if (!s || !c)
		return -1;
	if (api_check_resolver_user_right(rq, "updateuser", login, resolver, err) < 0)
		return -1;
	/* A user changes only himself: no other account by its uid. */
	const char *userid = rq->who.role == ROLE_USER ? NULL : param_str(rq, "userid");
	int rc = userid ? user_from_uid(s, c, resolver, userid, param_str(rq, "realm"), &u, err)
			: user_from_params(s, c, login, "", resolver, &u, err);
	if (rc == 1)
		return err_set(err, ERRK_PI, ERR_USER, "The user can not be found in any resolver in this realm!");
	if (rc < 0)
		return -1;
	audit_user(rq, &u);
	json_t *attrs = user_attrs(rq, s, resolver, login, err);
	if (!attrs)
		return -1;
	rc = user_update(s, c, &u, attrs, err);
	json_t *pw = json_object_get(attrs, "password");
	if (pw)
		memset((char *)json_string_value(pw), 0, json_string_length(pw));
	json_decref(attrs);
	if (rc < 0)
		return -1;
	snprintf(rq->audit.info, sizeof(rq->audit.info), "True: %s/%s", login, resolver);
	rq->audit.success = 1;
	*value = json_true();
	return 0;
}

/* DELETE /user/<resolvername>/<username>: value true. */
int api_user_delete(struct request *rq, json_t **value, struct error *err)
{
	/* policy: deleteuser */
	const char *resolver = param_str(rq, "resolvername"), *login = param_str(rq, "username");
	struct user u;
	struct snapshot *s = request_snapshot(rq, err);
	struct db_conn *c = request_db(rq, err);
	if (!s || !c)
		return -1;
	if (!resolver || !login)
		return err_missing_param(err, resolver ? "username" : "resolvername");
	if (api_check_resolver_user_right(rq, "deleteuser", login, resolver, err) < 0)
		return -1;
	int rc = user_from_params(s, c, login, "", resolver, &u, err);
	if (rc == 1)
		return err_missing_param(err, "username");
	if (rc < 0)
		return -1;
	audit_user(rq, &u);
	if (user_delete(s, c, &u, err) < 0)
		return -1;
	snprintf(rq->audit.info, sizeof(rq->audit.info), "%s.%s", u.login, u.resolver);
	rq->audit.success = 1;
	*value = json_true();
	return 0;
}
