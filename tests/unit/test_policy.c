/*
 * test_policy.c — the policy engine (src/lib/policy*.c) driven directly:
 * matching on every field (wildcards, regular expressions, negation,
 * client networks with IPv6 and exclusions, time ranges, pinode,
 * check_all_resolvers), the extended conditions with every section and
 * comparator, combination (priorities, conflicts, highest limit), the "no
 * policy in the scope" rule, rights, the definition table, and the file
 * formats.  Policies are built from rows in memory; no database.
 *
 * The expected results follow privacyIDEA 3.8's PolicyClass (see
 * ../shared/spec/policies_events.md §1.3–1.5, §2.2) and the deliberate
 * divergences in docs/compatibility.md.  Times are UTC (TZ is set).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "db/store_policy.h"
#include "lib/policy.h"
#include "lib/policy_defs.h"

/* ---- building sets ------------------------------------------------------ */

struct spec {
	const char *name, *scope, *action, *realm, *resolver, *user, *adminrealm, *adminuser, *client, *time, *pinode;
	int priority, inactive, car;
	const char *cond[4][5]; /* section, key, comparator, value, "0" for inactive */
};

#define MAXP 16

static struct policy_set *build(const struct spec *specs, size_t n)
{
	struct store_policy rows[MAXP];
	struct store_policy_condition conds[MAXP][4];
	assert_true(n <= MAXP);
	memset(rows, 0, sizeof(rows));
	for (size_t i = 0; i < n; i++) {
		const struct spec *s = &specs[i];
		struct store_policy *r = &rows[i];
		r->id = (int64_t)i + 1;
		r->name = (char *)s->name;
		r->scope = (char *)(s->scope ? s->scope : "admin");
		r->action = (char *)(s->action ? s->action : "");
		r->realm = (char *)s->realm;
		r->resolver = (char *)s->resolver;
		r->user = (char *)s->user;
		r->adminrealm = (char *)s->adminrealm;
		r->adminuser = (char *)s->adminuser;
		r->client = (char *)s->client;
		r->time = (char *)s->time;
		r->pinode = (char *)s->pinode;
		r->priority = s->priority ? s->priority : 1;
		r->active = !s->inactive;
		r->check_all_resolvers = s->car;
		size_t k = 0;
		while (k < 4 && s->cond[k][0]) {
			conds[i][k] =
				(struct store_policy_condition){ (char *)s->cond[k][0], (char *)s->cond[k][1],
								 (char *)s->cond[k][2], (char *)s->cond[k][3],
								 !(s->cond[k][4] && !strcmp(s->cond[k][4], "0")) };
			k++;
		}
		r->conditions = conds[i];
		r->n_conditions = k;
	}
	struct error err = { 0 };
	struct policy_set *ps = policy_set_build(rows, n, &err);
	if (!ps)
		fail_msg("build: %s", err.message);
	return ps;
}

/* Names of the matching policies, comma-separated ("" for none, "ERR:<msg>" on error). */
static char result[1024];

static const char *names(const struct policy_set *ps, const struct policy_match *m, const struct policy_env *env)
{
	struct policy_hits h;
	struct error err = { 0 };
	if (policy_match(ps, m, env, &h, &err) < 0) {
		snprintf(result, sizeof(result), "ERR%d:%s", err.code, err.message);
		return result;
	}
	result[0] = '\0';
	for (size_t i = 0; i < h.n; i++) {
		strcat(result, i ? "," : "");
		strcat(result, policy_name(h.v[i]));
	}
	policy_hits_free(&h);
	return result;
}

/* A UTC time: 2024-01-01 is a Monday, so day d of that week is 2024-01-0d. */
static time_t at(int iso_day, int hour, int minute)
{
	struct tm tm = { .tm_year = 124, .tm_mon = 0, .tm_mday = iso_day, .tm_hour = hour, .tm_min = minute };
	return mktime(&tm);
}

static int setup_tz(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* ---- the fields ------------------------------------------------------------ */

static void test_user_wildcards_regex_negation(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "all", .action = "enable", .user = "*" },
		{ .name = "cust", .action = "enable", .user = "customer_.*" },
		{ .name = "exact", .action = "enable", .user = "user1" },
		{ .name = "notadmin", .action = "enable", .user = "*, -admin" },
		{ .name = "onlyneg", .action = "enable", .user = "!admin" },
		{ .name = "empty", .action = "enable" },
	};
	struct policy_set *ps = build(s, 6);
	struct policy_match m = { .scope = "admin", .action = "enable", .user = "customer_1" };
	assert_string_equal(names(ps, &m, NULL), "all,cust,notadmin,empty");
	m.user = "user1";
	assert_string_equal(names(ps, &m, NULL), "all,exact,notadmin,empty");
	m.user = "user1234"; /* regular expressions match the whole name */
	assert_string_equal(names(ps, &m, NULL), "all,notadmin,empty");
	m.user = "admin"; /* a list of only exclusions matches nobody */
	assert_string_equal(names(ps, &m, NULL), "all,empty");
	m.user = "bob";
	assert_string_equal(names(ps, &m, NULL), "all,notadmin,empty");
	m.user = ""; /* "" is a filter value, NULL is no filter */
	assert_string_equal(names(ps, &m, NULL), "all,notadmin,empty");
	m.user = NULL;
	assert_string_equal(names(ps, &m, NULL), "all,cust,exact,notadmin,onlyneg,empty");
	m.user = "xcustomer_1"; /* anchored at the start too */
	assert_string_equal(names(ps, &m, NULL), "all,notadmin,empty");
	policy_set_free(ps);
}

static void test_realm_and_admin_fields(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "sales",
		  .action = "enable",
		  .realm = "Sales",
		  .adminrealm = "helpdesk",
		  .adminuser = "frank" },
		{ .name = "anyrealm", .action = "enable", .adminuser = "-frank, *" },
		{ .name = "authn",
		  .scope = "authentication",
		  .action = "otppin=none",
		  .realm = "r.*",
		  .adminuser = "x" },
	};
	struct policy_set *ps = build(s, 3);
	/* realms are lower case; the policy's realm matches case-insensitively */
	struct policy_match m = {
		.scope = "admin", .action = "enable", .realm = "sales", .adminrealm = "helpdesk", .adminuser = "frank"
	};
	assert_string_equal(names(ps, &m, NULL), "sales");
	m.adminuser = "mary";
	assert_string_equal(names(ps, &m, NULL), "anyrealm");
	m.adminrealm = ""; /* an internal admin never matches a policy with an admin realm */
	m.adminuser = "frank";
	assert_string_equal(names(ps, &m, NULL), "");
	m.realm = "other";
	m.adminuser = "admin";
	assert_string_equal(names(ps, &m, NULL), "anyrealm");
	/* adminuser/adminrealm are only matched in scope admin */
	struct policy_match a = { .scope = "authentication", .action = "otppin", .realm = "r1", .adminuser = "y" };
	assert_string_equal(names(ps, &a, NULL), "authn");
	a.realm = "s1";
	assert_string_equal(names(ps, &a, NULL), "");
	policy_set_free(ps);
}

static void test_action_matching(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "list", .action = "enable, disable" },
		{ .name = "pattern", .action = "enroll.*" }, /* stored by older tools: keys are patterns too */
		{ .name = "none", .action = "" },	     /* privacyIDEA's {"": True} */
		{ .name = "inactive", .action = "delete", .inactive = 1 },
	};
	struct policy_set *ps = build(s, 4);
	struct policy_match m = { .scope = "admin", .action = "disable" };
	assert_string_equal(names(ps, &m, NULL), "list");
	m.action = "enrollHOTP";
	assert_string_equal(names(ps, &m, NULL), "pattern");
	m.action = "delete"; /* inactive policies never match */
	assert_string_equal(names(ps, &m, NULL), "");
	m.action = NULL;
	assert_string_equal(names(ps, &m, NULL), "list,pattern,none");
	/* the empty policy matches no action, but makes the scope restrictive */
	assert_int_equal(policy_scope_active(ps, "admin"), 3);
	policy_set_free(ps);
}

static int resolvers_cb(void *ctx, const char *user, const char *realm, const char *const **list, struct error *err)
{
	static const char *const both[] = { "reso1", "reso2", NULL };
	(void)err;
	(*(int *)ctx)++;
	*list = !strcmp(user, "alice") && !strcmp(realm, "realm1") ? both : NULL;
	return 0;
}

static void test_resolver_and_check_all_resolvers(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "r1", .action = "enable", .resolver = "reso1" },
		{ .name = "r2", .action = "enable", .resolver = "reso2" },
		{ .name = "r2all", .action = "enable", .resolver = "reso2", .car = 1 },
		{ .name = "notr1", .action = "enable", .resolver = "*, -reso1" },
		{ .name = "carempty", .action = "enable", .car = 1 },
	};
	struct policy_set *ps = build(s, 5);
	int calls = 0;
	struct policy_env env = { .ctx = &calls, .user_resolvers = resolvers_cb };
	/* alice is found in reso1 (highest priority) and also lives in reso2 */
	struct policy_match m = {
		.scope = "admin", .action = "enable", .user = "alice", .realm = "realm1", .resolver = "reso1"
	};
	assert_string_equal(names(ps, &m, &env), "r1,r2all,carempty");
	assert_int_equal(calls, 1); /* the user's resolvers are looked up once */
	m.resolver = "reso3";
	assert_string_equal(names(ps, &m, &env), "r2all,notr1,carempty");
	/* without user and realm check_all_resolvers cannot work: the policy is dropped */
	m.user = NULL;
	assert_string_equal(names(ps, &m, &env), "notr1,carempty");
	/* no resolver filter: the resolver field is not looked at */
	m.resolver = NULL;
	assert_string_equal(names(ps, &m, &env), "r1,r2,r2all,notr1,carempty");
	policy_set_free(ps);
}

static void test_pinode(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "n1", .action = "enable", .pinode = "node1, node2" },
		{ .name = "any", .action = "enable" },
	};
	struct policy_set *ps = build(s, 2);
	struct policy_match m = { .scope = "admin", .action = "enable", .pinode = "node2" };
	assert_string_equal(names(ps, &m, NULL), "n1,any");
	m.pinode = "node3";
	assert_string_equal(names(ps, &m, NULL), "any");
	m.pinode = "node"; /* exact names, no patterns */
	assert_string_equal(names(ps, &m, NULL), "any");
	policy_set_free(ps);
}

static void test_client_networks(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "net", .action = "enable", .client = "10.0.0.0/8, -10.0.0.1, 192.168.0.1" },
		{ .name = "onlyneg", .action = "enable", .client = "-172.16.0.0/12" },
		{ .name = "v6", .action = "enable", .client = "2001:db8::/32, !2001:db8::dead" },
		{ .name = "mask", .action = "enable", .client = "172.16.0.0/255.255.0.0" },
		{ .name = "bad", .action = "enable", .client = "nonsense" },
		{ .name = "all", .action = "enable" },
	};
	struct policy_set *ps = build(s, 6);
	struct policy_match m = { .scope = "admin", .action = "enable", .client = "10.1.2.3" };
	assert_string_equal(names(ps, &m, NULL), "net,all");
	m.client = "10.0.0.1"; /* excluded from the network */
	assert_string_equal(names(ps, &m, NULL), "all");
	m.client = "192.168.0.1";
	assert_string_equal(names(ps, &m, NULL), "net,all");
	m.client = "172.16.5.5"; /* an exclusion only removes from positive entries */
	assert_string_equal(names(ps, &m, NULL), "mask,all");
	m.client = "172.17.5.5";
	assert_string_equal(names(ps, &m, NULL), "all");
	m.client = "2001:db8:1::5";
	assert_string_equal(names(ps, &m, NULL), "v6,all");
	m.client = "2001:db8::dead";
	assert_string_equal(names(ps, &m, NULL), "all");
	m.client = "2001:db9::1";
	assert_string_equal(names(ps, &m, NULL), "all");
	m.client = "::ffff:10.1.2.3"; /* IPv4-mapped IPv6 is the IPv4 client */
	assert_string_equal(names(ps, &m, NULL), "net,all");
	m.client = "not-an-ip"; /* matches only the policies without a client list */
	assert_string_equal(names(ps, &m, NULL), "all");
	m.client = NULL;
	assert_string_equal(names(ps, &m, NULL), "net,onlyneg,v6,mask,bad,all");
	m.client = "";
	assert_string_equal(names(ps, &m, NULL), "ERR905:client argument must be a non-empty string");
	policy_set_free(ps);
}

static void test_time_ranges(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "office", .action = "enable", .time = "Mon-Fri: 9-18" },
		{ .name = "sat", .action = "enable", .time = " sat : 10:00 - 12:30 , Sun: 8-9" },
		{ .name = "night", .action = "enable", .time = "Mon-Fri: 22:00-06:00" },
		{ .name = "weekend", .action = "enable", .time = "Fri-Mon: 08:00-17:00" },
		{ .name = "broken", .action = "enable", .time = "Mon-Fri 9-18" },
	};
	struct policy_set *ps = build(s, 5);
	struct policy_match m = { .scope = "admin", .action = "enable" };
	struct {
		int day, h, min;
		const char *want;
	} cases[] = {
		{ 3, 10, 0, "office" },	       /* Wednesday */
		{ 1, 9, 0, "office,weekend" }, /* inclusive start */
		{ 1, 18, 0, "office" },	       /* inclusive end */
		{ 1, 18, 1, "" },
		{ 6, 10, 0, "sat,weekend" },
		{ 6, 12, 31, "weekend" },
		{ 7, 8, 30, "sat,weekend" },
		{ 1, 23, 0, "night" }, /* a night range starting on Monday */
		{ 2, 3, 0, "night" },  /* ... reaches into Tuesday */
		{ 6, 5, 59, "night" }, /* Friday's night ends on Saturday */
		{ 6, 6, 1, "" },
		{ 1, 3, 0, "" }, /* Sunday's night is not listed */
		{ 6, 23, 0, "" },
		{ 7, 16, 59, "weekend" }, /* Fri-Mon wraps over the week end */
		{ 3, 12, 0, "office" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m.now = at(cases[i].day, cases[i].h, cases[i].min);
		const char *got = names(ps, &m, NULL);
		if (strcmp(got, cases[i].want))
			fail_msg("day %d %02d:%02d: got '%s', want '%s'", cases[i].day, cases[i].h, cases[i].min, got,
				 cases[i].want);
	}
	policy_set_free(ps);
}

static void test_time_parser(void **state)
{
	(void)state;
	struct spec ok[] = { { .name = "a", .action = "enable", .time = "Mon: 9-17, Tue-Wed: 0:00-23:59," } };
	struct policy_set *ps = build(ok, 1);
	struct policy_match m = { .scope = "admin", .action = "enable", .now = at(2, 0, 0) };
	assert_string_equal(names(ps, &m, NULL), "a");
	policy_set_free(ps);
	/* the writer refuses what the matcher would ignore */
	const char *bad[] = { "9-17",	      "Mon: 9",	      "Xyz: 9-17",
			      "Mon: 24-25",   "Mon: 9:60-10", "Mon-Fri-Sat: 9-10",
			      "Mon: 9-10-11", "Mon: a-b",     "Mon: 9:00:00-10" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spec b[] = { { .name = "b", .action = "enable", .time = bad[i] } };
		ps = build(b, 1);
		assert_string_equal(names(ps, &m, NULL), "");
		policy_set_free(ps);
	}
}

/* ---- "no policy in a scope", rights ---------------------------------------- */

static void test_allowed_and_scope_rule(void **state)
{
	(void)state;
	struct policy_set *empty = build(NULL, 0);
	struct error err = { 0 };
	struct policy_match m = { .scope = "admin", .action = "enable", .adminuser = "a", .adminrealm = "" };
	assert_int_equal(policy_allowed(empty, &m, NULL, &err), 1);
	assert_int_equal(policy_check_right(empty, &m, NULL, &err), 0);
	policy_set_free(empty);

	struct spec s[] = {
		{ .name = "helpdesk", .action = "enable", .adminrealm = "helpdesk" },
		{ .name = "off", .action = "delete", .inactive = 1 },
		{ .name = "u", .scope = "user", .action = "disable", .client = "10.0.0.0/8" },
	};
	struct policy_set *ps = build(s, 3);
	/* any active admin policy makes the scope restrictive for every admin */
	assert_int_equal(policy_allowed(ps, &m, NULL, &err), 0);
	assert_int_equal(policy_check_right(ps, &m, NULL, &err), -1);
	assert_int_equal(err.code, 303);
	assert_string_equal(err.message, "Admin actions are defined, but the action enable is not allowed!");
	m.adminrealm = "helpdesk";
	assert_int_equal(policy_allowed(ps, &m, NULL, &err), 1);
	m.action = "delete"; /* the inactive policy neither grants nor restricts */
	assert_int_equal(policy_allowed(ps, &m, NULL, &err), 0);
	/* the user scope: a policy for another client still makes it restrictive */
	struct policy_match u = {
		.scope = "user", .action = "disable", .user = "bob", .realm = "r", .client = "1.2.3.4"
	};
	assert_int_equal(policy_check_right(ps, &u, NULL, &err), -1);
	assert_string_equal(err.message, "User actions are defined, but the action disable is not allowed!");
	u.client = "10.9.9.9";
	assert_int_equal(policy_check_right(ps, &u, NULL, &err), 0);
	/* other scopes do not restrict the admin/user rights */
	struct policy_match e = { .scope = "enrollment", .action = "max_token_per_user" };
	assert_int_equal(policy_any(ps, &e, NULL, &err), 0);
	assert_int_equal(policy_scope_active(ps, "enrollment"), 0);
	assert_int_equal(policy_scope_active(ps, "user"), 1);
	policy_set_free(ps);
}

static int json_has(const json_t *a, const char *s)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!strcmp(json_string_value(json_array_get(a, i)), s))
			return 1;
	return 0;
}

static void test_rights(void **state)
{
	(void)state;
	struct error err = { 0 };
	json_t *r;
	struct policy_set *empty = build(NULL, 0);
	struct policy_match m = { .scope = "admin", .adminuser = "admin", .adminrealm = "", .client = "127.0.0.1" };
	assert_int_equal(policy_rights(empty, &m, NULL, &r, &err), 0);
	size_t nadmin = 0;
	for (size_t i = 0; i < policy_defs_count; i++)
		nadmin += !strcmp(policy_defs[i].scope, "admin");
	assert_int_equal(json_array_size(r), nadmin); /* every admin action without admin policies */
	assert_true(json_has(r, "policywrite") && json_has(r, "enrollHOTP") && json_has(r, "hotp_hashlib"));
	json_decref(r);
	policy_set_free(empty);

	struct spec s[] = {
		{ .name = "p1", .action = "enable, tokenlist, otp_pin_maxlength=8", .adminuser = "admin" },
		{ .name = "p2", .action = "delete, enable", .priority = 5 },
		{ .name = "p3", .action = "policyread", .adminuser = "other" },
		{ .name = "p4", .action = "hide_tokeninfo=", .adminuser = "admin" },
		{ .name = "c",
		  .action = "set",
		  .cond = { { "userinfo", "x", "equals", "y" } } }, /* no conditions for admins */
	};
	struct policy_set *ps = build(s, 5);
	assert_int_equal(policy_rights(ps, &m, NULL, &r, &err), 0);
	assert_int_equal(json_array_size(r), 6);
	assert_true(json_has(r, "enable") && json_has(r, "tokenlist") && json_has(r, "otp_pin_maxlength") &&
		    json_has(r, "otp_pin_maxlength=8") && json_has(r, "delete") && json_has(r, "set"));
	assert_false(json_has(r, "policyread") || json_has(r, "hide_tokeninfo"));
	json_decref(r);
	/* the user scope has no policy: every user action */
	struct policy_match u = { .scope = "user", .user = "bob", .realm = "r", .resolver = "x" };
	assert_int_equal(policy_rights(ps, &u, NULL, &r, &err), 0);
	assert_true(json_has(r, "enrollHOTP") && json_has(r, "password_reset") && !json_has(r, "policyread"));
	json_decref(r);
	policy_set_free(ps);
}

/* ---- combination ---------------------------------------------------------- */

static void test_priorities_and_conflicts(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "low",
		  .scope = "authentication",
		  .action = "otppin=userstore, passthru=userstore",
		  .priority = 3 },
		{ .name = "high", .scope = "authentication", .action = "otppin=none, passthru=radius1", .priority = 2 },
		{ .name = "high2",
		  .scope = "authentication",
		  .action = "otppin=none, passthru",
		  .priority = 2,
		  .realm = "r2" },
		{ .name = "high3",
		  .scope = "authentication",
		  .action = "otppin=tokenpin, challenge_text='Your OTP please'",
		  .priority = 2,
		  .realm = "r3" },
	};
	struct policy_set *ps = build(s, 4);
	struct error err = { 0 };
	char *v = NULL;
	const char *pol = NULL;
	struct policy_match m = { .scope = "authentication", .action = "otppin", .realm = "r1" };
	/* the highest priority (lowest number) wins */
	assert_int_equal(policy_action_unique(ps, &m, NULL, 0, &v, &pol, &err), 1);
	assert_string_equal(v, "none");
	assert_string_equal(pol, "high");
	free(v);
	/* equal priority, equal value: no conflict */
	m.realm = "r2";
	assert_int_equal(policy_action_unique(ps, &m, NULL, 0, &v, NULL, &err), 1);
	assert_string_equal(v, "none");
	free(v);
	/* equal priority, different values: PolicyError 303 naming the policies */
	m.realm = "r3";
	assert_int_equal(policy_action_unique(ps, &m, NULL, 0, &v, NULL, &err), -1);
	assert_null(v);
	assert_int_equal(err.kind, ERRK_POLICY);
	assert_int_equal(err.code, 303);
	assert_string_equal(err.message, "There are policies with conflicting actions: ['high', 'high3']");
	/* no policy defines it */
	m.action = "challenge_text_header";
	m.realm = "r1";
	assert_int_equal(policy_action_unique(ps, &m, NULL, 0, &v, NULL, &err), 0);
	/* quoted values keep their blanks */
	m.action = "challenge_text";
	m.realm = "r3";
	assert_int_equal(policy_action_unique(ps, &m, NULL, 0, &v, NULL, &err), 1);
	assert_string_equal(v, "Your OTP please");
	free(v);
	/* passthru: check_for_conflicts over the highest-priority policies */
	struct policy_hits h;
	m.action = "passthru";
	m.realm = "r2";
	assert_int_equal(policy_match(ps, &m, NULL, &h, &err), 0);
	assert_int_equal(h.n, 3);
	assert_int_equal(policy_check_conflicts(&h, "passthru", &err), -1);
	assert_string_equal(err.message, "Contradicting passthru policies.");
	policy_hits_free(&h);
	m.realm = "r1";
	assert_int_equal(policy_match(ps, &m, NULL, &h, &err), 0);
	assert_int_equal(policy_check_conflicts(&h, "passthru", &err), 0);
	assert_string_equal(policy_name(h.v[0]), "high");
	policy_hits_free(&h);
	policy_set_free(ps);
}

static void test_values_lists_and_whitespace(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "a", .scope = "authorization", .action = "tokentype=hotp totp", .priority = 1 },
		{ .name = "b", .scope = "authorization", .action = "tokentype=totp  spass", .priority = 4 },
		{ .name = "c", .scope = "authorization", .action = "tokentype='email sms'", .priority = 4 },
		{ .name = "d", .scope = "enrollment", .action = "tokenlabel={user} at {realm}" },
	};
	struct policy_set *ps = build(s, 4);
	struct error err = { 0 };
	json_t *v;
	struct policy_match m = { .scope = "authorization", .action = "tokentype" };
	assert_int_equal(policy_action_values(ps, &m, NULL, 0, &v, &err), 0);
	char *dump = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(dump, "{\"hotp\":[\"a\"],\"totp\":[\"a\",\"b\"],\"spass\":[\"b\"],\"email sms\":[\"c\"]}");
	free(dump);
	json_decref(v);
	/* unique: only priority 1 counts; its two words are two values → conflict */
	assert_int_equal(policy_action_values(ps, &m, NULL, POLICY_UNIQUE, &v, &err), -1);
	assert_string_equal(err.message, "There are policies with conflicting actions: ['a']");
	/* allow whitespace: the value is one text */
	struct policy_match e = { .scope = "enrollment", .action = "tokenlabel" };
	char *t = NULL;
	assert_int_equal(policy_action_unique(ps, &e, NULL, POLICY_ALLOW_WHITESPACE, &t, NULL, &err), 1);
	assert_string_equal(t, "{user} at {realm}");
	free(t);
	policy_set_free(ps);
}

static void test_highest_limit_wins(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "p1", .scope = "enrollment", .action = "max_token_per_user=2", .priority = 1 },
		{ .name = "p9", .scope = "enrollment", .action = "max_token_per_user=5", .priority = 9 },
		{ .name = "p3",
		  .scope = "enrollment",
		  .action = "max_token_per_user=3, hotp_max_token_per_user=1",
		  .priority = 1 },
		{ .name = "other", .scope = "enrollment", .action = "max_token_per_user=100", .realm = "else" },
	};
	struct policy_set *ps = build(s, 4);
	struct error err = { 0 };
	long long v = -1;
	struct policy_match m = { .scope = "enrollment", .action = "max_token_per_user", .realm = "r" };
	assert_int_equal(policy_action_max_int(ps, &m, NULL, &v, &err), 1);
	assert_int_equal(v, 5); /* priorities ignored: the highest limit wins */
	m.action = "hotp_max_token_per_user";
	assert_int_equal(policy_action_max_int(ps, &m, NULL, &v, &err), 1);
	assert_int_equal(v, 1);
	m.action = "totp_max_token_per_user";
	assert_int_equal(policy_action_max_int(ps, &m, NULL, &v, &err), 0);
	policy_set_free(ps);
}

static void test_client_first_within_priority(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "noclient", .scope = "authentication", .action = "otppin=none", .priority = 2 },
		{ .name = "withclient",
		  .scope = "authentication",
		  .action = "otppin=none",
		  .client = "1.2.3.0/24",
		  .priority = 2 },
		{ .name = "first", .scope = "authentication", .action = "otppin=none", .priority = 1 },
	};
	struct policy_set *ps = build(s, 3);
	struct policy_match m = { .scope = "authentication", .action = "otppin", .client = "1.2.3.4" };
	assert_string_equal(names(ps, &m, NULL), "first,withclient,noclient");
	m.client = NULL;
	assert_string_equal(names(ps, &m, NULL), "first,noclient,withclient");
	policy_set_free(ps);
}

/* ---- extended conditions --------------------------------------------------- */

struct ctx {
	json_t *userinfo, *token;
	int calls;
};

static int userinfo_cb(void *c, const json_t **info, struct error *err)
{
	(void)err;
	((struct ctx *)c)->calls++;
	*info = ((struct ctx *)c)->userinfo;
	return 0;
}

static int token_cb(void *c, const json_t **tok, struct error *err)
{
	(void)err;
	*tok = ((struct ctx *)c)->token;
	return 0;
}

static const char *header_cb(void *c, const char *name)
{
	(void)c;
	return !strcasecmp(name, "User-Agent") ? "privacyidea-cp/2.0" : !strcasecmp(name, "X-Empty") ? "" : NULL;
}

static const char *environ_cb(void *c, const char *key)
{
	(void)c;
	return !strcmp(key, "PATH_INFO") ? "/validate/check" : NULL;
}

/* One condition, evaluated: "1", "0" or "ERR<code>:<message>". */
static const char *cond(struct ctx *c, const char *section, const char *key, const char *cmp, const char *value)
{
	static char out[600];
	struct spec s[] = { { .name = "p",
			      .scope = "authentication",
			      .action = "otppin=none",
			      .cond = { { section, key, cmp, value } } } };
	struct policy_set *ps = build(s, 1);
	struct policy_env env = {
		.ctx = c, .userinfo = userinfo_cb, .token = token_cb, .header = header_cb, .environ = environ_cb
	};
	struct policy_match m = { .scope = "authentication", .action = "otppin" };
	const char *r = names(ps, &m, &env);
	snprintf(out, sizeof(out), "%s", !strcmp(r, "p") ? "1" : !*r ? "0" : r);
	policy_set_free(ps);
	return out;
}

static void test_condition_comparators(void **state)
{
	(void)state;
	struct ctx c = { 0 };
	c.userinfo = json_pack("{s:s,s:[s,s],s:s,s:i,s:s,s:s}", "email", "bob@example.com", "groups", "admins",
			       "cn=Restricted", "phone", "", "age", 42, "name", "Bob", "num", " 17 ");
	struct {
		const char *key, *cmp, *value, *want;
	} t[] = {
		{ "email", "equals", "bob@example.com", "1" },
		{ "email", "equals", "BOB@example.com", "0" },
		{ "email", "!equals", "x", "1" },
		{ "groups", "equals", "admins", "0" }, /* a list never equals a string */
		{ "age", "equals", "42", "1" },	       /* numbers compare as their text */
		{ "groups", "contains", "cn=Restricted", "1" },
		{ "groups", "!contains", "admins", "0" },
		{ "email", "contains", "bob", "ERR303:Invalid comparison in the userinfo conditions of policy 'p'" },
		{ "name", "in", "Alice, Bob,\"Carol, Jr\"", "1" },
		{ "name", "in", "\"Bob\"", "1" },
		{ "name", "!in", "Alice,Carol", "1" },
		{ "name", "in", "\"unclosed", "ERR303:Invalid comparison in the userinfo conditions of policy 'p'" },
		{ "email", "matches", ".*@example\\.com", "1" },
		{ "email", "matches", "bob", "0" }, /* the whole value must match */
		{ "email", "matches", "(?i)BOB@.*", "1" },
		{ "email", "!matches", ".*@other\\.com", "1" },
		{ "email", "matches", "(", "ERR303:Invalid comparison in the userinfo conditions of policy 'p'" },
		{ "age", "<", "50", "1" },
		{ "age", ">", "50", "0" },
		{ "phone", "<", "1", "1" }, /* int("" or 0) */
		{ "num", ">", "16", "1" },
		{ "name", ">", "1", "ERR303:Invalid comparison in the userinfo conditions of policy 'p'" },
		{ "email", "like", "x", "ERR303:Invalid comparison in the userinfo conditions of policy 'p'" },
		{ "missing", "equals", "x", "ERR303:Unknown key in the userinfo conditions of policy 'p'" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = cond(&c, "userinfo", t[i].key, t[i].cmp, t[i].value);
		if (strcmp(got, t[i].want))
			fail_msg("%s %s %s: got '%s', want '%s'", t[i].key, t[i].cmp, t[i].value, got, t[i].want);
	}
	json_decref(c.userinfo);
	c.userinfo = NULL; /* no user object */
	assert_string_equal(cond(&c, "userinfo", "email", "equals", "x"),
			    "ERR303:Policy 'p' has condition on userinfo, but an according object is not available");
}

static void test_condition_sections(void **state)
{
	(void)state;
	struct ctx c = { 0 };
	c.token = json_pack("{s:s,s:s,s:b,s:i,s:{s:s}}", "serial", "HOTP0001", "tokentype", "hotp", "active", 1,
			    "count", 5, "info", "last_auth", "2024-01-01");
	assert_string_equal(cond(&c, "token", "tokentype", "equals", "hotp"), "1");
	assert_string_equal(cond(&c, "token", "active", "<", "1"), "0"); /* True is 1 */
	assert_string_equal(cond(&c, "token", "count", ">", "4"), "1");
	assert_string_equal(cond(&c, "token", "serial", "matches", "HOTP.*"), "1");
	assert_string_equal(cond(&c, "token", "nosuch", "equals", "x"),
			    "ERR303:Unknown key in the token conditions of policy 'p'");
	assert_string_equal(cond(&c, "tokeninfo", "last_auth", "matches", "2024-.*"), "1");
	assert_string_equal(cond(&c, "tokeninfo", "other", "equals", "x"),
			    "ERR303:Unknown key in the tokeninfo conditions of policy 'p'");
	json_decref(c.token);
	c.token = NULL;
	assert_string_equal(cond(&c, "token", "serial", "equals", "x"),
			    "ERR303:Policy 'p' has conditions on tokens, but a token object is not available");
	assert_string_equal(cond(&c, "tokeninfo", "x", "equals", "x"),
			    "ERR303:Policy 'p' has condition on tokeninfo, but an according object is not available");
	assert_string_equal(cond(&c, "HTTP Request header", "User-Agent", "matches", "privacyidea-cp/.*"), "1");
	assert_string_equal(cond(&c, "HTTP Request header", "X-Empty", "equals", ""),
			    "ERR303:Unknown HTTP header key referenced in condition of policy 'p': 'X-Empty'");
	assert_string_equal(cond(&c, "HTTP Environment", "PATH_INFO", "equals", "/validate/check"), "1");
	assert_string_equal(cond(&c, "HTTP Environment", "PATH_INFO", "in", "/auth, /validate/samlcheck"), "0");
	assert_string_equal(cond(&c, "HTTP Environment", "NOPE", "equals", "x"),
			    "ERR303:Unknown HTTP environment key referenced in condition of policy 'p': 'NOPE'");
	assert_string_equal(cond(&c, "somewhere", "x", "equals", "x"),
			    "ERR303:Policy 'p' has condition with unknown section");
}

static void test_condition_modes(void **state)
{
	(void)state;
	struct ctx c = { .userinfo = json_pack("{s:s}", "dept", "it") };
	struct spec s[] = {
		{ .name = "it",
		  .scope = "user",
		  .action = "enable",
		  .cond = { { "userinfo", "dept", "equals", "it" } } },
		{ .name = "hr",
		  .scope = "user",
		  .action = "enable",
		  .cond = { { "userinfo", "dept", "equals", "hr" } } },
		{ .name = "tok", .scope = "user", .action = "enable", .cond = { { "token", "active", "<", "1" } } },
		{ .name = "off",
		  .scope = "user",
		  .action = "enable",
		  .cond = { { "userinfo", "dept", "equals", "hr", "0" } } }, /* an inactive condition is ignored */
	};
	struct policy_set *ps = build(s, 4);
	struct policy_env env = { .ctx = &c, .userinfo = userinfo_cb, .token = token_cb };
	struct policy_match m = { .scope = "user", .action = "enable", .conditions = POLICY_COND_USERINFO };
	assert_string_equal(names(ps, &m, &env), "it,tok,off");
	assert_int_equal(c.calls, 1); /* the user's attributes are fetched once per match */
	m.conditions = POLICY_COND_NONE;
	assert_string_equal(names(ps, &m, &env), "it,hr,tok,off");
	m.conditions = POLICY_COND_ALL; /* the token condition needs a token */
	assert_string_equal(names(ps, &m, &env),
			    "ERR303:Policy 'tok' has conditions on tokens, but a token object is not available");
	json_decref(c.userinfo);
	policy_set_free(ps);
}

/* ---- definitions, listing, files ----------------------------------------- */

static void test_definitions(void **state)
{
	(void)state;
	const char *scopes[] = {
		"admin", "user", "authentication", "authorization", "enrollment", "webui", "register"
	};
	size_t want[] = { 118, 59, 38, 17, 106, 30, 5 }; /* privacyIDEA 3.8, plus admin setdescription */
	for (size_t s = 0; s < 7; s++) {
		size_t n = 0;
		for (size_t i = 0; i < policy_defs_count; i++) {
			n += !strcmp(policy_defs[i].scope, scopes[s]);
			for (size_t j = i + 1; j < policy_defs_count; j++)
				if (!strcmp(policy_defs[i].scope, policy_defs[j].scope) &&
				    !strcmp(policy_defs[i].action, policy_defs[j].action))
					fail_msg("duplicate action %s/%s", policy_defs[i].scope, policy_defs[i].action);
		}
		if (n != want[s])
			fail_msg("scope %s: %zu actions, want %zu", scopes[s], n, want[s]);
	}
	struct error err = { 0 };
	const struct policy_def *d = policy_def_find("admin", "otp_pin_maxlength");
	assert_non_null(d);
	assert_int_equal(policy_def_check_value(d, "8", &err), 0);
	assert_int_equal(policy_def_check_value(d, "32", &err), -1);
	assert_int_equal(policy_def_check_value(d, "eight", &err), -1);
	assert_int_equal(policy_def_check_value(d, NULL, &err), -1);
	d = policy_def_find("authentication", "otppin");
	assert_int_equal(policy_def_check_value(d, "userstore", &err), 0);
	assert_int_equal(policy_def_check_value(d, "'none'", &err), 0);
	assert_int_equal(policy_def_check_value(d, "ldap", &err), -1);
	d = policy_def_find("enrollment", "webauthn_public_key_credential_algorithms");
	assert_int_equal(policy_def_check_value(d, "ecdsa rsassa-pss", &err), 0);
	assert_int_equal(policy_def_check_value(d, "ecdsa md5", &err), -1);
	d = policy_def_find("admin", "enrollHOTP");
	assert_int_equal(policy_def_check_value(d, NULL, &err), 0);
	assert_int_equal(policy_def_check_value(d, "x", &err), -1);
	assert_null(policy_def_find("admin", "nosuch"));
	assert_null(policy_def_find("register", "enable"));
	d = policy_def_find("enrollment", "hotp_max_token_per_user");
	assert_non_null(d);
	assert_string_equal(d->tokentype, "hotp");
	json_t *j = policy_defs_json("webui", NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "login_mode"), "type")), "str");
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "login_mode"), "value")), 3);
	json_decref(j);
	assert_null(policy_defs_json("nosuch", NULL));
	j = policy_defs_json(NULL, NULL);
	assert_int_equal(json_object_size(j), 7);
	json_t *revoke = json_object_get(json_object_get(j, "admin"), "revoke");
	assert_string_equal(json_string_value(json_object_get(revoke, "type")), "bool");
	json_decref(j);
}

static void test_listing(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "b", .action = "enable", .realm = "r1", .priority = 2 },
		{ .name = "a", .action = "enable", .priority = 1, .inactive = 1 },
		{ .name = "c", .scope = "webui", .action = "login_mode=privacyIDEA" },
	};
	struct policy_set *ps = build(s, 3);
	json_t *l = policy_list(ps, NULL, NULL, NULL, -1);
	assert_int_equal(json_array_size(l), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "name")), "a"); /* by priority */
	json_decref(l);
	l = policy_list(ps, NULL, "r2", NULL, -1); /* realm r2: policies without realm */
	assert_int_equal(json_array_size(l), 2);
	json_decref(l);
	l = policy_list(ps, NULL, NULL, "admin", 1);
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "name")), "b");
	json_decref(l);
	l = policy_list(ps, "c", NULL, NULL, -1);
	json_t *p = json_array_get(l, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "action"), "login_mode")),
			    "privacyIDEA");
	assert_true(json_is_true(json_object_get(p, "active")));
	json_decref(l);
	policy_set_free(ps);
}

static void test_export_and_parse(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "pol 1",
		  .scope = "authentication",
		  .action = "otppin=userstore, passOnNoToken",
		  .realm = "r1, r2",
		  .client = "10.0.0.0/8, -10.0.0.1",
		  .time = "Mon-Fri: 9-18",
		  .priority = 4,
		  .cond = { { "userinfo", "email", "matches", ".*'x\\\\y" } } },
	};
	struct policy_set *ps = build(s, 1);
	char *text = policy_export_cfg(ps);
	assert_non_null(strstr(text, "[pol 1]\nname = pol 1\nactive = True\nscope = authentication\n"
				     "realm = ['r1', 'r2']\n"));
	assert_non_null(strstr(text, "conditions = [('userinfo', 'email', 'matches', \".*'x\\\\\\\\y\", True)]\n"));
	assert_non_null(strstr(text, "action = {'otppin': 'userstore', 'passOnNoToken': True}\n"));
	struct error err = { 0 };
	json_t *pols;
	assert_int_equal(policy_parse_cfg(text, &pols, &err), 0);
	json_t *p = json_array_get(pols, 0);
	assert_string_equal(json_string_value(json_object_get(p, "name")), "pol 1");
	assert_string_equal(json_string_value(json_object_get(p, "time")), "Mon-Fri: 9-18");
	assert_int_equal(json_integer_value(json_object_get(p, "priority")), 4);
	assert_true(json_is_true(json_object_get(json_object_get(p, "action"), "passOnNoToken")));
	assert_string_equal(json_string_value(json_array_get(json_array_get(json_object_get(p, "conditions"), 0), 3)),
			    ".*'x\\\\y");
	json_decref(pols);
	free(text);
	text = policy_export_pylist(ps, NULL);
	json_t *lit = policy_pyliteral_parse(text, &err);
	assert_non_null(lit);
	assert_int_equal(json_array_size(json_object_get(lit, "policy")), 1);
	json_decref(lit);
	free(text);
	policy_set_free(ps);
	/* malformed files are refused with a 905 */
	assert_int_equal(policy_parse_cfg("", &pols, &err), -1);
	assert_string_equal(err.message, "Error loading policy. File empty!");
	assert_int_equal(policy_parse_cfg("key = 1\n", &pols, &err), -1);
	assert_int_equal(policy_parse_cfg("[p]\naction = {'a': \n", &pols, &err), -1);
	assert_int_equal(err.code, 905);
}

static void test_pyliteral(void **state)
{
	(void)state;
	struct error err = { 0 };
	struct {
		const char *in, *json;
	} ok[] = {
		{ "{'a': [1, -2, 3.5, True, False, None], \"b\": ('x',), 'c': ()}",
		  "{\"a\":[1,-2,3.5,true,false,null],\"b\":[\"x\"],\"c\":[]}" },
		{ "  'it\\'s' \"\\u00e9\\x41\\n\"  # comment", "\"it's\\u00E9A\\n\"" },
		{ "u'x' r'\\d'", "\"x\\\\d\"" },
		{ "[1, 2,]", "[1,2]" },
		{ "('x')", "\"x\"" },
		{ "'''a\nb'''", "\"a\\nb\"" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		json_t *v = policy_pyliteral_parse(ok[i].in, &err);
		if (!v)
			fail_msg("%s: %s", ok[i].in, err.message);
		char *d = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
		if (strcmp(d, ok[i].json))
			fail_msg("%s: got %s want %s", ok[i].in, d, ok[i].json);
		free(d);
		json_decref(v);
	}
	const char *bad[] = { "",
			      "[1, 2",
			      "{'a' 1}",
			      "{1: 2}",
			      "__import__('os')",
			      "'x' y",
			      "'\\x4'",
			      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]"
			      "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = policy_pyliteral_parse(bad[i], &err);
		if (v)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(err.code, 905);
	}
}

static void test_audit_names(void **state)
{
	(void)state;
	struct spec s[] = { { .name = "p1", .action = "enable" }, { .name = "p2", .action = "enable" } };
	struct policy_set *ps = build(s, 2);
	struct policy_hits h;
	struct error err = { 0 };
	struct policy_match m = { .scope = "admin", .action = "enable" };
	char buf[10] = "p2";
	assert_int_equal(policy_match(ps, &m, NULL, &h, &err), 0);
	policy_hits_audit(&h, buf, sizeof(buf));
	assert_string_equal(buf, "p2,p1"); /* each name once */
	char tiny[4] = "";
	policy_hits_audit(&h, tiny, sizeof(tiny));
	assert_string_equal(tiny, "p1"); /* never overflows */
	char parts[64] = "p10,xp1,p1x";
	policy_audit_add(parts, sizeof(parts), "p1"); /* only whole names count */
	assert_string_equal(parts, "p10,xp1,p1x,p1");
	policy_audit_add(parts, sizeof(parts), "p10");
	policy_audit_add(parts, sizeof(parts), "xp1");
	policy_audit_add(parts, sizeof(parts), "p1x");
	policy_audit_add(parts, sizeof(parts), "p1");
	assert_string_equal(parts, "p10,xp1,p1x,p1");
	policy_audit_add(parts, sizeof(parts), "x");
	assert_string_equal(parts, "p10,xp1,p1x,p1,x");
	policy_hits_free(&h);
	policy_set_free(ps);
}

/* ---- many threads on one set (the snapshot is shared by every worker) ---- */

static struct policy_set *shared_set;

static void *matcher(void *arg)
{
	long bad = 0;
	const char *users[] = { "customer_1", "admin", "bob", "customer_x" };
	for (int i = 0; i < 3000; i++) {
		struct policy_hits h;
		struct error err = { 0 };
		const char *u = users[(i + (long)arg) % 4];
		struct policy_match m = { .scope = "admin", .action = "enable", .user = u, .client = "10.9.8.7" };
		if (policy_match(shared_set, &m, NULL, &h, &err) < 0)
			bad++;
		size_t want = !strcmp(u, "admin") ? 0 : !strcmp(u, "bob") ? 1 : 2;
		bad += h.n != want;
		policy_hits_free(&h);
	}
	return (void *)bad;
}

static void test_threads_share_a_set(void **state)
{
	(void)state;
	struct spec s[] = {
		{ .name = "re", .action = "enable", .user = "customer_.*", .client = "10.0.0.0/8" },
		{ .name = "neg", .action = "enable", .user = "*, -admin" },
	};
	shared_set = build(s, 2);
	pthread_t t[6];
	for (long i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&t[i], NULL, matcher, (void *)i), 0);
	for (int i = 0; i < 6; i++) {
		void *bad;
		pthread_join(t[i], &bad);
		assert_int_equal((long)bad, 0);
	}
	policy_set_free(shared_set);
}

/* ---- the action index and its quick filters agree with a full scan ---- */

/* privacyIDEA's action filter for the keys this test uses: `*`, plain
 * names, exclusions `-x`, and the one pattern `en.ble`. */
static int ref_action_pass(const char *keys, const char *action)
{
	char buf[128];
	int found = 0, excluded = 0;
	snprintf(buf, sizeof(buf), "%s", keys);
	for (char *save = NULL, *k = strtok_r(buf, ", ", &save); k; k = strtok_r(NULL, ", ", &save)) {
		if (k[0] == '-')
			excluded |= !strcmp(k + 1, action);
		else if (!strcmp(k, "*") || !strcmp(k, action) || (!strcmp(k, "en.ble") && !strcmp(action, "enable")))
			found = 1;
	}
	return found && !excluded;
}

static int two_resolvers(void *ctx, const char *user, const char *realm, const char *const **list, struct error *err)
{
	static const char *const both[] = { "res2", "res1", NULL };
	(void)ctx, (void)user, (void)realm, (void)err;
	*list = both;
	return 0;
}

static void test_index_and_quick_filters(void **state)
{
	(void)state;
	/* Lists of plain names (filtered by the Bloom bits of struct
	 * policy_ref), mixed-case and non-ASCII realms, patterns, `*` and
	 * exclusions (never filtered), empty lists. */
	static const char *const users[] = { NULL, "alice", "alice, bob", "Alice", "*, -bob", "a.*", "u1, u2, u3, u4, u5",
					     "\xc3\xbcser", "bob" };
	static const char *const realms[] = { NULL, "r1", "R1", "r1, r2", "r.*", "*", "-r1", "r\xc3\x84" "alm", "r2" };
	static const char *const resolvers[] = { NULL, "res1", "res1, res2", "res.*", "res2" };
	static const char *const pinodes[] = { NULL, "node1", "node1, node2", "node2" };
	static const char *const actions[] = { "enable", "disable", "enable, disable", "*", "en.ble", "*, -enable",
					       "enable, -disable", "disable, enable, enable", "setpin" };
	enum { N = 400 };
	struct store_policy rows[N];
	char nm[N][16];
	memset(rows, 0, sizeof(rows));
	unsigned seed = 12345;
#define PICK(a) (a)[(seed = seed * 1103515245u + 12345u, (seed >> 8) % (sizeof(a) / sizeof((a)[0])))]
	for (int i = 0; i < N; i++) {
		snprintf(nm[i], sizeof(nm[i]), "p%03d", i);
		rows[i].id = i + 1;
		rows[i].name = nm[i];
		rows[i].scope = (char *)(i % 7 ? "authentication" : "authorization");
		rows[i].action = (char *)PICK(actions);
		rows[i].user = (char *)PICK(users);
		rows[i].realm = (char *)PICK(realms);
		rows[i].resolver = (char *)PICK(resolvers);
		rows[i].pinode = (char *)PICK(pinodes);
		rows[i].check_all_resolvers = i % 11 == 0;
		rows[i].priority = 1 + i % 5;
		rows[i].active = i % 13 != 0;
	}
	struct error err = { 0 };
	struct policy_set *ps = policy_set_build(rows, N, &err);
	assert_non_null(ps);
	static const char *const q_users[] = { NULL, "", "alice", "Alice", "bob", "u4", "carol", "\xc3\xbcser" };
	static const char *const q_realms[] = { NULL, "", "r1", "R1", "r2", "r3", "R\xc3\x84" "ALM", "r\xc3\x84" "alm" };
	static const char *const q_resolvers[] = { NULL, "res1", "res2", "res9" };
	static const char *const q_pinodes[] = { NULL, "node1", "node2", "node3" };
	static const char *const q_actions[] = { "enable", "disable", "setpin", "other" };
	struct policy_env env = { .user_resolvers = two_resolvers };
	size_t checked = 0, hits = 0;
	for (size_t a = 0; a < 8; a++)
		for (size_t b = 0; b < 8; b++)
			for (size_t c = 0; c < 4; c++)
				for (size_t d = 0; d < 4; d++)
					for (size_t e = 0; e < 4; e++) {
						struct policy_match m = { .scope = "authentication", .user = q_users[a],
									  .realm = q_realms[b], .resolver = q_resolvers[c],
									  .pinode = q_pinodes[d] };
						struct policy_hits all, got;
						assert_int_equal(policy_match(ps, &m, &env, &all, &err), 0);
						m.action = q_actions[e];
						assert_int_equal(policy_match(ps, &m, &env, &got, &err), 0);
						size_t k = 0;
						for (size_t i = 0; i < all.n; i++) {
							const struct policy *p = all.v[i];
							const char *keys = rows[atoi(policy_name(p) + 1)].action;
							if (!ref_action_pass(keys, m.action))
								continue;
							assert_true(k < got.n);
							assert_string_equal(policy_name(got.v[k]), policy_name(p));
							k++;
						}
						assert_int_equal(k, got.n);
						hits += got.n;
						checked++;
						policy_hits_free(&all);
						policy_hits_free(&got);
					}
#undef PICK
	assert_int_equal(checked, 8 * 8 * 4 * 4 * 4);
	assert_true(hits > 1000); /* the filters are exercised on both sides */
	policy_set_free(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_wildcards_regex_negation),
		cmocka_unit_test(test_realm_and_admin_fields),
		cmocka_unit_test(test_action_matching),
		cmocka_unit_test(test_resolver_and_check_all_resolvers),
		cmocka_unit_test(test_pinode),
		cmocka_unit_test(test_client_networks),
		cmocka_unit_test(test_time_ranges),
		cmocka_unit_test(test_time_parser),
		cmocka_unit_test(test_allowed_and_scope_rule),
		cmocka_unit_test(test_rights),
		cmocka_unit_test(test_priorities_and_conflicts),
		cmocka_unit_test(test_values_lists_and_whitespace),
		cmocka_unit_test(test_highest_limit_wins),
		cmocka_unit_test(test_client_first_within_priority),
		cmocka_unit_test(test_condition_comparators),
		cmocka_unit_test(test_condition_sections),
		cmocka_unit_test(test_condition_modes),
		cmocka_unit_test(test_definitions),
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_export_and_parse),
		cmocka_unit_test(test_pyliteral),
		cmocka_unit_test(test_audit_names),
		cmocka_unit_test(test_index_and_quick_filters),
		cmocka_unit_test(test_threads_share_a_set),
	};
	return cmocka_run_group_tests(tests, setup_tz, NULL);
}
