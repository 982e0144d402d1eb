/*
 * test_resolver_ldap.c — the LDAP resolver (src/lib/resolvers/ldap*.c)
 * against a real OpenLDAP.
 *
 * The group setup starts a throwaway slapd with tests/fixtures/slapd.py
 * (`--start --json --watch <our pid>`: 500 users user0001..user0500 with
 * password Pass-NNNN, non-ASCII and metacharacter users, a test CA for
 * STARTTLS/ldaps); the teardown stops it (and the fixture's watchdog
 * does so too if this program dies).  The repository root is found from
 * TESSERA_TEST_DATA (<repo>/tests/data).  Dead servers are simulated on
 * 127.0.0.1: a closed port (connection refused) and a port that accepts
 * TCP but never answers (a hung server: only the timeout ends a bind).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/resolvers/resolver.h"

static json_t *g_ds;           /* the fixture's info object */
static char g_fixture[PATH_MAX + 64]; /* .../tests/fixtures/slapd.py */
static int g_hang_fd = -1, g_hang_port, g_closed_port;

static const char *ds(const char *key)
{
	return json_string_value(json_object_get(g_ds, key));
}

static const char *special(const char *uid, const char *key)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(g_ds, "specials"), uid), key));
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int listen_port(int *fd_out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	if (fd_out && listen(fd, 1) == 0)
		*fd_out = fd;
	else
		close(fd);
	return ntohs(a.sin_port);
}

static int run_fixture(const char *args, char *out, size_t outlen)
{
	char cmd[PATH_MAX + 512];
	int w = snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", g_fixture, args);
	if (w < 0 || (size_t)w >= sizeof(cmd))
		return -1;
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = out ? fread(out, 1, outlen - 1, p) : 0;
	if (out)
		out[n] = '\0';
	else
		while (fgetc(p) != EOF)
			;
	return pclose(p);
}

static int group_setup(void **state)
{
	char repo[PATH_MAX], buf[16384], args[64];
	const char *data = getenv("TESSERA_TEST_DATA");

	signal(SIGPIPE, SIG_IGN); /* a server closing on us must not kill the process */
	if (!data) {
		fprintf(stderr, "TESSERA_TEST_DATA is not set\n");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s/../..", data);
	if (!realpath(buf, repo))
		return -1;
	snprintf(g_fixture, sizeof(g_fixture), "%s/tests/fixtures/slapd.py", repo);
	snprintf(args, sizeof(args), "--start --json --watch %d", (int)getpid());
	if (run_fixture(args, buf, sizeof(buf)) != 0) {
		fprintf(stderr, "slapd fixture failed: %s\n", buf);
		return -1;
	}
	g_ds = json_loads(buf, 0, NULL);
	g_hang_port = listen_port(&g_hang_fd);
	g_closed_port = listen_port(NULL);
	return g_ds && g_hang_port > 0 && g_closed_port > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char args[PATH_MAX + 16];
	if (g_ds) {
		snprintf(args, sizeof(args), "--stop %s", ds("dir"));
		run_fixture(args, NULL, 0);
	}
	json_decref(g_ds);
	if (g_hang_fd >= 0)
		close(g_hang_fd);
	return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static const char *USERINFO =
	"{ 'phone' : 'telephoneNumber', 'mobile' : 'mobile', 'email' : 'mail', 'surname' : 'sn', "
	"'givenname' : 'givenName', 'password': 'userPassword', 'homedir': 'homeDirectory' }";

/* The base definition with key/value overrides (NULL-terminated). */
static json_t *cfgv(const char *k, va_list ap)
{
	json_t *c = json_pack("{ss ss ss ss ss ss ss ss ss}", "LDAPURI", ds("uri"), "LDAPBASE", ds("base"), "BINDDN",
			      ds("admin_dn"), "BINDPW", ds("admin_pw"), "LOGINNAMEATTRIBUTE", "uid",
			      "LDAPSEARCHFILTER", "(uid=*)(objectClass=inetOrgPerson)", "USERINFO", USERINFO,
			      "UIDTYPE", "DN", "CACHE_TIMEOUT", "0");
	for (; k; k = va_arg(ap, const char *))
		json_object_set_new(c, k, json_string(va_arg(ap, const char *)));
	return c;
}

static json_t *cfg(const char *k, ...)
{
	va_list ap;
	va_start(ap, k);
	json_t *c = cfgv(k, ap);
	va_end(ap);
	return c;
}

static struct resolver *mk(const char *k, ...)
{
	struct error e = { 0 };
	va_list ap;
	va_start(ap, k);
	json_t *c = cfgv(k, ap);
	va_end(ap);
	struct resolver *r = ldapresolver_type.create("ldaptest", c, &e);
	json_decref(c);
	if (!r)
		fail_msg("create: %s", e.message);
	return r;
}

/* create() must fail; the message is returned for checks. */
static const char *mk_fails(struct error *e, const char *k, ...)
{
	va_list ap;
	va_start(ap, k);
	json_t *c = cfgv(k, ap);
	va_end(ap);
	struct resolver *r = ldapresolver_type.create("ldaptest", c, e);
	json_decref(c);
	if (r) {
		ldapresolver_type.destroy(r);
		fail_msg("create() accepted a bad definition");
	}
	return e->message;
}

static void drop(struct resolver *r)
{
	ldapresolver_type.destroy(r);
}

static char *user_dn(const char *uid)
{
	static __thread char buf[256];
	snprintf(buf, sizeof(buf), "uid=%s,%s", uid, ds("people"));
	return buf;
}

/* get_user_id with its return code; *uid freed by the caller. */
static int uid_of(struct resolver *r, const char *login, char **uid)
{
	struct error e = { 0 };
	*uid = NULL;
	int rc = ldapresolver_type.get_user_id(r, login, uid, &e);
	if (rc < 0)
		print_message("get_user_id(%s): %s\n", login, e.message);
	return rc;
}

static void expect_uid(struct resolver *r, const char *login, const char *want)
{
	char *uid = NULL;
	assert_int_equal(uid_of(r, login, &uid), 0);
	assert_string_equal(uid, want);
	free(uid);
}

static void expect_no_user(struct resolver *r, const char *login)
{
	char *uid = NULL;
	assert_int_equal(uid_of(r, login, &uid), 1);
	assert_null(uid);
}

static json_t *info_of(struct resolver *r, const char *uid)
{
	struct error e = { 0 };
	json_t *info = NULL;
	int rc = ldapresolver_type.get_user_info(r, uid, &info, &e);
	if (rc != 0)
		fail_msg("get_user_info(%s) = %d: %s", uid, rc, e.message);
	return info;
}

static const char *sget(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static size_t list_count(struct resolver *r, const char *json_search)
{
	struct error e = { 0 };
	json_t *s = json_loads(json_search, 0, NULL), *list = NULL;
	assert_non_null(s);
	int rc = ldapresolver_type.get_user_list(r, s, &list, &e);
	json_decref(s);
	if (rc != 0)
		fail_msg("get_user_list(%s): %s", json_search, e.message);
	size_t n = json_array_size(list);
	json_decref(list);
	return n;
}

static int check(struct resolver *r, const char *uid, const char *pw)
{
	struct error e = { 0 };
	int rc = ldapresolver_type.check_pass(r, uid, pw, &e);
	if (rc < 0)
		print_message("check_pass(%s): %s\n", uid, e.message);
	return rc;
}

/* ---- lookups ---------------------------------------------------------------- */

static void test_login_attributes(void **state)
{
	struct resolver *r = mk("LOGINNAMEATTRIBUTE", "uid, mail", NULL);
	expect_uid(r, "user0005", user_dn("user0005"));
	expect_uid(r, "user0005@example.org", user_dn("user0005"));
	expect_uid(r, "user0002.alt@example.net", user_dn("user0002")); /* second mail value */
	expect_uid(r, "USER0005", user_dn("user0005"));                 /* caseIgnoreMatch */
	expect_no_user(r, "nobody");
	expect_no_user(r, "");
	expect_no_user(r, "svc1"); /* exists, but not an inetOrgPerson: outside the filter */

	char *name = NULL;
	struct error e = { 0 };
	assert_int_equal(ldapresolver_type.get_username(r, user_dn("user0005"), &name, &e), 0);
	assert_string_equal(name, "user0005"); /* the first login attribute is the username */
	free(name);
	drop(r);

	/* A filter written without outer parentheses, and a blank one. */
	r = mk("LDAPSEARCHFILTER", "objectClass=inetOrgPerson", NULL);
	expect_uid(r, "user0100", user_dn("user0100"));
	expect_no_user(r, "svc1");
	drop(r);
	r = mk("LDAPSEARCHFILTER", "", NULL);
	expect_uid(r, "svc1", "uid=svc1,ou=services,dc=example,dc=org");
	drop(r);
}

static void test_uidtype_dn(void **state)
{
	struct resolver *r = mk(NULL);
	json_t *info = info_of(r, user_dn("user0001"));
	assert_string_equal(sget(info, "userid"), user_dn("user0001"));
	assert_string_equal(sget(info, "username"), "user0001");
	json_decref(info);

	/* DNs are compared as DNs: case and spacing do not matter. */
	info = info_of(r, "UID=user0001, OU=People,DC=example,DC=org");
	assert_string_equal(sget(info, "username"), "user0001");
	json_decref(info);

	/* A DN with escaped characters round-trips. */
	expect_uid(r, "odd,user+x", special("odd,user+x", "dn"));
	info = info_of(r, special("odd,user+x", "dn"));
	assert_string_equal(sget(info, "username"), "odd,user+x");
	json_decref(info);

	struct error e = { 0 };
	json_t *none = NULL;
	assert_int_equal(ldapresolver_type.get_user_info(r, "uid=nobody,ou=people,dc=example,dc=org", &none, &e), 1);
	assert_int_equal(ldapresolver_type.get_user_info(r, "not a DN", &none, &e), 1);
	assert_int_equal(ldapresolver_type.get_user_info(r, "", &none, &e), 1);
	assert_null(none);
	drop(r);

	/* A DN outside LDAPBASE is not one of this resolver's users. */
	r = mk("LDAPBASE", "ou=people,dc=example,dc=org", "LDAPSEARCHFILTER", "(uid=*)", NULL);
	assert_int_equal(ldapresolver_type.get_user_info(r, "uid=svc1,ou=services,dc=example,dc=org", &none, &e), 1);
	assert_int_equal(check(r, "uid=svc1,ou=services,dc=example,dc=org", "Svc-Pass-1"), 1);
	drop(r);
}

static void test_uidtype_entryuuid(void **state)
{
	struct resolver *r = mk("UIDTYPE", "entryUUID", NULL);
	const char *uuid = ds("user0001_entryUUID");
	expect_uid(r, "user0001", uuid);
	char *name = NULL;
	struct error e = { 0 };
	assert_int_equal(ldapresolver_type.get_username(r, uuid, &name, &e), 0);
	assert_string_equal(name, "user0001");
	free(name);
	json_t *info = info_of(r, uuid);
	assert_string_equal(sget(info, "userid"), uuid);
	assert_string_equal(sget(info, "email"), "user0001@example.org");
	json_decref(info);
	expect_uid(r, "张伟", special("张伟", "entryUUID"));
	assert_int_equal(check(r, uuid, "Pass-0001"), 0);
	assert_int_equal(check(r, uuid, "Pass-0002"), 1);

	json_t *none = NULL;
	assert_int_equal(ldapresolver_type.get_user_info(r, "00000000-0000-0000-0000-000000000000", &none, &e), 1);
	assert_int_equal(ldapresolver_type.get_user_info(r, "*", &none, &e), 1);
	drop(r);

	/* objectGUID (Active Directory): a non-GUID uid can never match. */
	r = mk("UIDTYPE", "objectGUID", NULL);
	assert_int_equal(ldapresolver_type.get_user_info(r, "not-a-guid", &none, &e), 1);
	assert_int_equal(ldapresolver_type.get_user_info(r, "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}", &none, &e), 1);
	drop(r);
}

static void test_userinfo_mapping(void **state)
{
	struct resolver *r = mk(NULL);
	json_t *info = info_of(r, user_dn("user0001"));
	assert_string_equal(sget(info, "phone"), "+49 30 0001");
	assert_string_equal(sget(info, "email"), "user0001@example.org");
	assert_string_equal(sget(info, "givenname"), "Given0001");
	assert_string_equal(sget(info, "surname"), "Sur0001");
	assert_string_equal(sget(info, "homedir"), "/home/user20001"); /* an extra key */
	assert_null(json_object_get(info, "password")); /* never read back, even as the admin */
	/* "mobile" is multi-valued by default (MULTIVALUEATTRIBUTES blank). */
	json_t *mob = json_object_get(info, "mobile");
	assert_true(json_is_array(mob));
	assert_int_equal(json_array_size(mob), 2);
	assert_string_equal(json_string_value(json_array_get(mob, 0)), "+49 170 0001");
	assert_string_equal(json_string_value(json_array_get(mob, 1)), "+49 171 0001");
	json_decref(info);

	info = info_of(r, user_dn("user0003"));
	assert_int_equal(json_array_size(json_object_get(info, "mobile")), 1);
	json_decref(info);
	/* Not multi-valued: the first value only. */
	info = info_of(r, user_dn("user0002"));
	assert_true(json_is_string(json_object_get(info, "email")));
	json_decref(info);
	drop(r);

	r = mk("MULTIVALUEATTRIBUTES", "['email', 'mobile']", "USERINFO",
	       "{\"email\": \"mail\", \"mobile\": \"mobile\", \"pwhash\": \"userPassword\"}", NULL);
	info = info_of(r, user_dn("user0002"));
	json_t *mails = json_object_get(info, "email");
	assert_int_equal(json_array_size(mails), 2);
	assert_string_equal(json_string_value(json_array_get(mails, 1)), "user0002.alt@example.net");
	assert_true(json_is_array(json_object_get(info, "mobile")));
	/* A key other than "password" may read any attribute the bind DN may read. */
	assert_int_equal(strncmp(sget(info, "pwhash"), "{SSHA}", 6), 0);
	json_decref(info);
	drop(r);

	r = mk("MULTIVALUEATTRIBUTES", "email", NULL); /* a bare name */
	info = info_of(r, user_dn("user0002"));
	assert_true(json_is_array(json_object_get(info, "email")));
	assert_true(json_is_array(json_object_get(info, "email")));
	assert_true(json_is_string(json_object_get(info, "mobile")));
	json_decref(info);
	drop(r);
}

static void test_non_ascii(void **state)
{
	struct resolver *r = mk(NULL);
	expect_uid(r, "jürgen", special("jürgen", "dn"));
	json_t *info = info_of(r, special("jürgen", "dn"));
	assert_string_equal(sget(info, "surname"), "Müller");
	assert_string_equal(sget(info, "givenname"), "Jürgen");
	json_decref(info);
	assert_int_equal(check(r, special("jürgen", "dn"), "Grüße-1"), 0);
	assert_int_equal(check(r, special("jürgen", "dn"), "Grusse-1"), 1);

	expect_uid(r, "张伟", special("张伟", "dn"));
	assert_int_equal(check(r, special("张伟", "dn"), "密码-2"), 0);
	expect_uid(r, "zoë", special("zoë", "dn"));
	expect_no_user(r, "zoe");
	expect_no_user(r, "j\xfcrgen"); /* Latin-1, not UTF-8 */

	assert_int_equal(list_count(r, "{\"givenname\": \"Zo*\"}"), 1);
	assert_int_equal(list_count(r, "{\"surname\": \"Mü*\"}"), 1);
	assert_int_equal(list_count(r, "{\"username\": \"张*\"}"), 1);
	drop(r);
}

static void test_list(void **state)
{
	struct resolver *r = mk(NULL);
	assert_int_equal(list_count(r, "{\"username\": \"user00*\"}"), 99);
	assert_int_equal(list_count(r, "{\"username\": \"user01*\", \"email\": \"*@example.org\"}"), 100);
	assert_int_equal(list_count(r, "{\"username\": \"user0001\"}"), 1);
	assert_int_equal(list_count(r, "{\"username\": \"User0001\"}"), 1);
	assert_int_equal(list_count(r, "{\"username\": \"user000**1\"}"), 1);
	assert_int_equal(list_count(r, "{\"phone\": \"+49 30 000*\"}"), 9);
	assert_int_equal(list_count(r, "{}"), 500); /* SIZELIMIT default */
	assert_int_equal(list_count(r, "{\"unknownkey\": \"x\"}"), 0);
	assert_int_equal(list_count(r, "{\"password\": \"*\"}"), 0);
	/* Metacharacters are literal; only '*' is a wildcard. */
	assert_int_equal(list_count(r, "{\"email\": \"we(i)rd*\"}"), 1);
	assert_int_equal(list_count(r, "{\"surname\": \"O*Brien(x)\\\\\"}"), 1);
	assert_int_equal(list_count(r, "{\"surname\": \"(x)\"}"), 0);
	assert_int_equal(list_count(r, "{\"givenname\": \"Sp\\\\2acial\"}"), 0);

	/* Every object carries userid and username. */
	struct error e = { 0 };
	json_t *s = json_pack("{ss}", "username", "user049*"), *list = NULL;
	assert_int_equal(ldapresolver_type.get_user_list(r, s, &list, &e), 0);
	assert_int_equal(json_array_size(list), 10);
	json_t *u = json_array_get(list, 0);
	assert_non_null(sget(u, "userid"));
	assert_int_equal(strncmp(sget(u, "username"), "user049", 7), 0);
	json_decref(s);
	json_decref(list);
	drop(r);

	r = mk("SIZELIMIT", "50", NULL);
	assert_int_equal(list_count(r, "{\"username\": \"*\"}"), 50);
	assert_int_equal(list_count(r, "{\"username\": \"user00*\"}"), 50);
	drop(r);
	r = mk("SIZELIMIT", "1000", NULL);
	assert_int_equal(list_count(r, "{}"), 506); /* paged beyond the server's 500 */
	drop(r);
	r = mk("SIZELIMIT", "150", "BINDDN", "", NULL); /* anonymous: slapd limits to 500 */
	assert_int_equal(list_count(r, "{}"), 150);
	drop(r);
}

static void test_injection(void **state)
{
	struct resolver *r = mk(NULL);
	expect_uid(r, "admin", user_dn("admin")); /* the target exists */
	expect_no_user(r, "*)(uid=*");
	expect_no_user(r, "admin)(|(uid=*");
	expect_no_user(r, "*");
	expect_no_user(r, "user000*");
	expect_no_user(r, "adm*");
	expect_no_user(r, "admin)(objectClass=*");
	expect_no_user(r, "\\2a");
	assert_int_equal(list_count(r, "{\"username\": \"*)(uid=*\"}"), 0);
	assert_int_equal(list_count(r, "{\"username\": \"admin)(|(uid=*\"}"), 0);
	assert_int_equal(list_count(r, "{\"username\": \"*)(|(objectClass=*)\"}"), 0);

	struct error e = { 0 };
	json_t *none = NULL;
	assert_int_equal(ldapresolver_type.get_user_info(r, "uid=admin,ou=people,dc=example,dc=org)(uid=*", &none, &e),
			 1);
	assert_int_equal(check(r, "*", "Admin-Pass-6"), 1);
	drop(r);

	r = mk("UIDTYPE", "entryUUID", NULL);
	assert_int_equal(ldapresolver_type.get_user_info(r, "*)(uid=*", &none, &e), 1);
	assert_int_equal(check(r, "*", "Admin-Pass-6"), 1);
	drop(r);
}

static void test_check_pass(void **state)
{
	struct resolver *r = mk(NULL);
	assert_int_equal(check(r, user_dn("user0007"), "Pass-0007"), 0);
	assert_int_equal(check(r, user_dn("user0007"), "Pass-0008"), 1);
	assert_int_equal(check(r, user_dn("user0007"), "pass-0007"), 1);
	/* An empty password would be an anonymous bind: refused up front. */
	assert_int_equal(check(r, user_dn("user0007"), ""), 1);
	assert_int_equal(check(r, user_dn("user0007"), NULL), 1);
	assert_int_equal(check(r, user_dn("nobody"), "Pass-0007"), 1);
	assert_int_equal(check(r, "", "Pass-0007"), 1);
	assert_int_equal(check(r, special("special", "dn"), "Sp3cial!*()"), 0);
	assert_int_equal(check(r, special("odd,user+x", "dn"), "Odd-Pass-5"), 0);
	assert_int_equal(check(r, special("zoë", "dn"), "Zoë-Pass-3"), 0);
	drop(r);
}

static void test_anonymous(void **state)
{
	struct resolver *r = mk("BINDDN", "", "BINDPW", "", NULL);
	expect_uid(r, "user0042", user_dn("user0042"));
	assert_int_equal(check(r, user_dn("user0042"), "Pass-0042"), 0);
	drop(r);
	r = mk("AUTHTYPE", "Anonymous", "BINDPW", "not used", NULL);
	expect_uid(r, "user0043", user_dn("user0043"));
	drop(r);
}

static void test_scope(void **state)
{
	struct resolver *r = mk("SCOPE", "LEVEL", NULL);
	expect_no_user(r, "user0001"); /* users are one level further down */
	drop(r);
	r = mk("SCOPE", "LEVEL", "LDAPBASE", "ou=people,dc=example,dc=org", NULL);
	expect_uid(r, "user0001", user_dn("user0001"));
	drop(r);
}

/* ---- TLS -------------------------------------------------------------------- */

static void test_starttls(void **state)
{
	struct error e = { 0 };
	char *uid = NULL;

	struct resolver *r = mk("START_TLS", "1", "TLS_VERIFY", "1", "TLS_CA_FILE", ds("ca_file"), NULL);
	expect_uid(r, "user0011", user_dn("user0011"));
	assert_int_equal(check(r, user_dn("user0011"), "Pass-0011"), 0);
	drop(r);

	r = mk("START_TLS", "1", "TLS_VERIFY", "1", "TLS_CA_FILE", ds("wrong_ca_file"), "SERVERPOOL_ROUNDS", "1",
	       NULL);
	assert_int_equal(ldapresolver_type.get_user_id(r, "user0011", &uid, &e), -1);
	assert_null(uid);
	print_message("wrong CA: %s\n", e.message);
	assert_non_null(strstr(e.message, "TLS"));
	assert_int_equal(e.code, ERR_USER);
	drop(r);

	/* Without verification the wrong CA does not matter. */
	r = mk("START_TLS", "1", "TLS_VERIFY", "0", "TLS_CA_FILE", ds("wrong_ca_file"), NULL);
	expect_uid(r, "user0011", user_dn("user0011"));
	drop(r);

	r = mk("LDAPURI", ds("ldaps_uri"), "TLS_VERIFY", "1", "TLS_CA_FILE", ds("ca_file"), NULL);
	expect_uid(r, "user0012", user_dn("user0012"));
	assert_int_equal(check(r, user_dn("user0012"), "Pass-0012"), 0);
	drop(r);

	r = mk("LDAPURI", ds("ldaps_uri"), "TLS_VERIFY", "1", "TLS_CA_FILE", ds("wrong_ca_file"), NULL);
	assert_int_equal(ldapresolver_type.get_user_id(r, "user0012", &uid, &e), -1);
	drop(r);

	r = mk("START_TLS", "1", "TLS_VERIFY", "1", "TLS_CA_FILE", "/nonexistent/ca.pem", NULL);
	assert_int_equal(ldapresolver_type.get_user_id(r, "user0012", &uid, &e), -1);
	assert_non_null(strstr(e.message, "/nonexistent/ca.pem"));
	drop(r);
}

/* ---- server pool ---------------------------------------------------------------- */

static void test_pool_failover(void **state)
{
	char uris[512];
	snprintf(uris, sizeof(uris), "ldap://127.0.0.1:%d, %s", g_closed_port, ds("uri"));
	struct resolver *r = mk("LDAPURI", uris, NULL);
	expect_uid(r, "user0021", user_dn("user0021"));
	assert_int_equal(check(r, user_dn("user0021"), "Pass-0021"), 0);
	drop(r);

	/* A hung first server costs TIMEOUT once, then it is skipped. */
	snprintf(uris, sizeof(uris), "127.0.0.1:%d,%s", g_hang_port, ds("uri"));
	r = mk("LDAPURI", uris, "TIMEOUT", "1", "SERVERPOOL_SKIP", "30", NULL);
	double t0 = now_s();
	expect_uid(r, "user0022", user_dn("user0022"));
	double first = now_s() - t0;
	assert_true(first >= 0.9);
	for (int i = 0; i < 4; i++) { /* bind checks open new connections, round robin */
		t0 = now_s();
		assert_int_equal(check(r, user_dn("user0022"), "Pass-0022"), 0);
		assert_true(now_s() - t0 < 0.9); /* a hung attempt would cost TIMEOUT = 1 s */
	}
	print_message("hung server: first lookup %.2f s, later connections skip it\n", first);
	drop(r);
}

static void test_pool_unreachable(void **state)
{
	char uris[256];
	struct error e = { 0 };
	char *uid = NULL;

	snprintf(uris, sizeof(uris), "ldap://127.0.0.1:%d", g_closed_port);
	struct resolver *r = mk("LDAPURI", uris, "TIMEOUT", "1", NULL);
	double t0 = now_s();
	assert_int_equal(ldapresolver_type.get_user_id(r, "user0001", &uid, &e), -1);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(e.code, ERR_USER);
	assert_non_null(strstr(e.message, "No LDAP server reachable"));
	assert_int_equal(check(r, user_dn("user0001"), "Pass-0001"), -1);
	drop(r);

	/* Hung only: TIMEOUT 1 s × SERVERPOOL_ROUNDS 2, not more. */
	snprintf(uris, sizeof(uris), "ldap://127.0.0.1:%d", g_hang_port);
	r = mk("LDAPURI", uris, "TIMEOUT", "1", "SERVERPOOL_ROUNDS", "2", NULL);
	t0 = now_s();
	assert_int_equal(ldapresolver_type.get_user_id(r, "user0001", &uid, &e), -1);
	double took = now_s() - t0;
	print_message("hung pool: %.2f s: %s\n", took, e.message);
	assert_true(took >= 1.5 && took < 3.0);
	assert_non_null(strstr(e.message, "2 rounds"));
	drop(r);

	/* Wrong service password: a clear error, no failover games. */
	r = mk("BINDPW", "wrong", NULL);
	assert_int_equal(ldapresolver_type.get_user_id(r, "user0001", &uid, &e), -1);
	assert_non_null(strstr(e.message, "Invalid credentials"));
	assert_null(strstr(e.message, "wrong"));
	drop(r);
}

static void test_reconnect(void **state)
{
	char args[PATH_MAX + 32], out[16384];
	struct resolver *r = mk(NULL);
	expect_uid(r, "user0031", user_dn("user0031"));
	snprintf(args, sizeof(args), "--restart %s --json", ds("dir"));
	assert_int_equal(run_fixture(args, out, sizeof(out)), 0);
	/* The pooled connection is dead now: reconnect and retry once. */
	expect_uid(r, "user0032", user_dn("user0032"));
	assert_int_equal(check(r, user_dn("user0032"), "Pass-0032"), 0);
	drop(r);
}

/* ---- cache ------------------------------------------------------------------------ */

static void set_email(struct resolver *ed, const char *dn, const char *mail)
{
	struct error e = { 0 };
	json_t *a = json_pack("{ss}", "email", mail);
	assert_int_equal(ldapresolver_type.update_user(ed, dn, a, &e), 0);
	json_decref(a);
}

static void test_cache(void **state)
{
	const char *dn = user_dn("user0010");
	struct resolver *cached = mk("CACHE_TIMEOUT", "120", NULL);
	struct resolver *shortc = mk("CACHE_TIMEOUT", "1", NULL);
	struct resolver *nocache = mk(NULL);
	struct resolver *ed = mk("EDITABLE", "1", NULL);
	json_t *i;

	i = info_of(cached, dn);
	assert_string_equal(sget(i, "email"), "user0010@example.org");
	json_decref(i);
	expect_uid(cached, "user0010", dn);
	json_decref(info_of(shortc, dn));

	set_email(ed, dn, "changed10@example.org");
	i = info_of(cached, dn); /* still the cached copy */
	assert_string_equal(sget(i, "email"), "user0010@example.org");
	json_decref(i);
	i = info_of(nocache, dn);
	assert_string_equal(sget(i, "email"), "changed10@example.org");
	json_decref(i);
	sleep(2);
	i = info_of(shortc, dn); /* expired */
	assert_string_equal(sget(i, "email"), "changed10@example.org");
	json_decref(i);

	/* The cache hands out copies. */
	i = info_of(cached, dn);
	json_object_set_new(i, "email", json_string("tampered"));
	json_decref(i);
	i = info_of(cached, dn);
	assert_string_equal(sget(i, "email"), "user0010@example.org");
	json_decref(i);

	/* Unknown users are not cached: they are found once created. */
	expect_no_user(cached, "user0010x");

	set_email(ed, dn, "user0010@example.org");
	drop(cached);
	drop(shortc);
	drop(nocache);
	drop(ed);
}

/* ---- editing ----------------------------------------------------------------------- */

static void test_edit(void **state)
{
	struct error e = { 0 };
	char *uid = NULL;
	struct resolver *r = mk("EDITABLE", "1", "DN_TEMPLATE", "cn=<givenname> <surname>,ou=people,<basedn>",
				"OBJECT_CLASSES", "top, person, organizationalPerson, inetOrgPerson", "USERINFO",
				"{ 'phone' : 'telephoneNumber', 'mobile' : 'mobile', 'email' : 'mail', 'surname' : 'sn', "
				"'givenname' : 'givenName', 'password': 'userPassword', 'pwhash': 'userPassword' }",
				NULL);
	assert_true(ldapresolver_type.editable(r));
	json_t *a = json_pack("{ss ss ss ss ss s[ss]}", "username", "newbie", "givenname", "Nina, \"the\" #1",
			      "surname", "O'Neil+<x>;", "email", "nina@example.org", "password", "N3w-Pass!", "mobile",
			      "+1 111", "+1 222");
	assert_int_equal(ldapresolver_type.add_user(r, a, &uid, &e), 0);
	print_message("new user: %s\n", uid);
	assert_string_equal(uid, "cn=Nina\\2C \\22the\\22 #1 O'Neil\\2B\\3Cx\\3E\\3B,ou=people,dc=example,dc=org");
	json_decref(a);

	json_t *i = info_of(r, uid);
	assert_string_equal(sget(i, "username"), "newbie");
	assert_string_equal(sget(i, "givenname"), "Nina, \"the\" #1");
	assert_string_equal(sget(i, "surname"), "O'Neil+<x>;");
	assert_int_equal(json_array_size(json_object_get(i, "mobile")), 2);
	assert_int_equal(strncmp(sget(i, "pwhash"), "{SSHA}", 6), 0);
	assert_int_equal(strlen(sget(i, "pwhash")), 6 + 32);
	json_decref(i);
	assert_int_equal(check(r, uid, "N3w-Pass!"), 0);
	assert_int_equal(check(r, uid, "N3w-Pass?"), 1);

	/* Adding it again fails with the server's reason. */
	char *uid2 = NULL;
	a = json_pack("{ss ss ss}", "username", "newbie", "givenname", "Nina, \"the\" #1", "surname", "O'Neil+<x>;");
	assert_int_equal(ldapresolver_type.add_user(r, a, &uid2, &e), -1);
	assert_non_null(strstr(e.message, "Already exists"));
	json_decref(a);

	a = json_pack("{ss ss ss}", "password", "Changed-1", "phone", "+49 1", "unmapped", "ignored");
	assert_int_equal(ldapresolver_type.update_user(r, uid, a, &e), 0);
	json_decref(a);
	assert_int_equal(check(r, uid, "Changed-1"), 0);
	assert_int_equal(check(r, uid, "N3w-Pass!"), 1);
	i = info_of(r, uid);
	assert_string_equal(sget(i, "phone"), "+49 1");
	json_decref(i);

	a = json_pack("{ss}", "phone", ""); /* empty: delete the attribute */
	assert_int_equal(ldapresolver_type.update_user(r, uid, a, &e), 0);
	json_decref(a);
	i = info_of(r, uid);
	assert_null(json_object_get(i, "phone"));
	json_decref(i);

	assert_int_equal(ldapresolver_type.delete_user(r, uid, &e), 0);
	json_t *none = NULL;
	assert_int_equal(ldapresolver_type.get_user_info(r, uid, &none, &e), 1);
	expect_no_user(r, "newbie");
	assert_int_equal(ldapresolver_type.delete_user(r, uid, &e), 1);
	a = json_pack("{ss}", "phone", "1");
	assert_int_equal(ldapresolver_type.update_user(r, uid, a, &e), 1);
	json_decref(a);
	free(uid);

	/* A schema violation (inetOrgPerson needs sn) comes back as an error. */
	a = json_pack("{ss}", "username", "nosurname");
	assert_int_equal(ldapresolver_type.add_user(r, a, &uid2, &e), -1);
	print_message("schema violation: %s\n", e.message);
	json_decref(a);
	a = json_pack("{}");
	assert_int_equal(ldapresolver_type.add_user(r, a, &uid2, &e), -1);
	assert_non_null(strstr(e.message, "username"));
	json_decref(a);
	drop(r);

	/* uid=<username> template with entryUUID uids. */
	r = mk("EDITABLE", "true", "UIDTYPE", "entryUUID", "DN_TEMPLATE", "uid=<username>,ou=people,<basedn>",
	       "OBJECT_CLASSES", "inetOrgPerson", "USERINFO",
	       "{'surname': 'sn', 'givenname': 'givenName', 'commonname': 'cn', 'password': 'userPassword'}", NULL);
	a = json_pack("{ss ss ss ss ss}", "username", "müller*)(x", "surname", "Müller", "givenname", "M", "commonname",
		      "M Müller", "password", "Pw-ü-1");
	if (ldapresolver_type.add_user(r, a, &uid, &e) != 0)
		fail_msg("add_user: %s", e.message);
	json_decref(a);
	assert_int_equal(strlen(uid), 36);
	assert_int_equal(check(r, uid, "Pw-ü-1"), 0);
	expect_uid(r, "müller*)(x", uid);
	assert_int_equal(ldapresolver_type.delete_user(r, uid, &e), 0);
	free(uid);
	drop(r);

	r = mk(NULL); /* not editable */
	assert_false(ldapresolver_type.editable(r));
	a = json_pack("{ss ss}", "username", "x", "surname", "y");
	assert_int_equal(ldapresolver_type.add_user(r, a, &uid2, &e), -1);
	assert_non_null(strstr(e.message, "not editable"));
	assert_int_equal(ldapresolver_type.update_user(r, user_dn("user0001"), a, &e), -1);
	assert_int_equal(ldapresolver_type.delete_user(r, user_dn("user0001"), &e), -1);
	json_decref(a);
	drop(r);
}

/* ---- concurrency -------------------------------------------------------------------- */

struct worker {
	struct resolver *r;
	int id, failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	for (int k = 0; k < 60; k++) {
		int n = (w->id * 61 + k * 7) % 500 + 1;
		char login[16], pw[16], *uid = NULL, *name = NULL;
		struct error e = { 0 };
		snprintf(login, sizeof(login), "user%04d", n);
		snprintf(pw, sizeof(pw), "Pass-%04d", n);
		if (ldapresolver_type.get_user_id(w->r, login, &uid, &e) != 0 || strcmp(uid, user_dn(login)) != 0)
			w->failures++;
		else if (ldapresolver_type.get_username(w->r, uid, &name, &e) != 0 || strcmp(name, login) != 0)
			w->failures++;
		else if (k % 10 == 0 && ldapresolver_type.check_pass(w->r, uid, pw, &e) != 0)
			w->failures++;
		free(uid);
		free(name);
	}
	return NULL;
}

static void test_threads(void **state)
{
	const char *timeouts[] = { "0", "120" };
	for (size_t t = 0; t < 2; t++) {
		struct resolver *r = mk("CACHE_TIMEOUT", timeouts[t], NULL);
		pthread_t th[8];
		struct worker w[8];
		for (int i = 0; i < 8; i++) {
			w[i] = (struct worker){ .r = r, .id = i };
			assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
		}
		for (int i = 0; i < 8; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(w[i].failures, 0);
		}
		drop(r);
	}
}

/* ---- test_connection and configuration --------------------------------------------- */

static void expect_test(json_t *c, const char *want)
{
	struct error e = { 0 };
	char *desc = NULL;
	int rc = ldapresolver_type.test_connection(c, &desc, &e);
	json_decref(c);
	if (rc != 0)
		fail_msg("test_connection: %s", e.message);
	assert_string_equal(desc, want);
	free(desc);
}

static void test_test_connection(void **state)
{
	expect_test(cfg(NULL), "Your LDAP config seems to be OK, 500 user objects found.");
	expect_test(cfg("SIZELIMIT", "1000", NULL), "Your LDAP config seems to be OK, 506 user objects found.");
	expect_test(cfg("SIZELIMIT", "1000", "UIDTYPE", "entryUUID", NULL),
		    "Your LDAP config seems to be OK, 506 user objects found.");
	expect_test(cfg("SIZELIMIT", "1000", "UIDTYPE", "employeeNumber", NULL),
		    "Your LDAP config found 506 user objects, but only 0 with the specified uidtype");

	struct error e = { 0 };
	char *desc = NULL;
	json_t *c = cfg("BINDPW", "Secret-Wrong-1", NULL);
	assert_int_equal(ldapresolver_type.test_connection(c, &desc, &e), -1);
	json_decref(c);
	assert_null(desc);
	assert_non_null(strstr(e.message, "Invalid credentials"));
	assert_null(strstr(e.message, "Secret-Wrong-1"));
	c = cfg("AUTHTYPE", "NTLM", NULL);
	assert_int_equal(ldapresolver_type.test_connection(c, &desc, &e), -1);
	json_decref(c);
}

static void test_config_errors(void **state)
{
	struct error e = { 0 };
	assert_non_null(strstr(mk_fails(&e, "AUTHTYPE", "NTLM", NULL), "not supported"));
	assert_int_equal(e.code, ERR_PARAMETER);
	assert_non_null(strstr(mk_fails(&e, "AUTHTYPE", "SASL Kerberos", NULL), "not supported"));
	assert_non_null(strstr(mk_fails(&e, "AUTHTYPE", "SASL Digest-MD5", NULL), "not supported"));
	assert_non_null(strstr(mk_fails(&e, "LDAPURI", "", NULL), "LDAPURI"));
	assert_non_null(strstr(mk_fails(&e, "LDAPURI", "http://example.org", NULL), "LDAPURI"));
	assert_non_null(strstr(mk_fails(&e, "LDAPURI", " , ", NULL), "LDAPURI"));
	assert_non_null(strstr(mk_fails(&e, "TIMEOUT", "abc", NULL), "TIMEOUT"));
	assert_non_null(strstr(mk_fails(&e, "LOGINNAMEATTRIBUTE", "uid)(x=*", NULL), "LOGINNAMEATTRIBUTE"));
	assert_non_null(strstr(mk_fails(&e, "USERINFO", "{ 'email': 'mail)(x' }", NULL), "USERINFO"));
	assert_non_null(strstr(mk_fails(&e, "USERINFO", "{ bad", NULL), "USERINFO"));
	assert_non_null(strstr(mk_fails(&e, "UIDTYPE", "entry UUID", NULL), "UIDTYPE"));
	assert_non_null(strstr(mk_fails(&e, "SCOPE", "deep", NULL), "SCOPE"));
	assert_non_null(strstr(mk_fails(&e, "TLS_VERSION", "9", NULL), "TLS_VERSION"));
	assert_non_null(strstr(mk_fails(&e, "MULTIVALUEATTRIBUTES", "[1, 2]", NULL), "MULTIVALUEATTRIBUTES"));

	/* Accepted spellings: bare host, host:port, ldaps, several entries. */
	struct resolver *r = mk("LDAPURI", "ldap://a.example, ldaps://b.example:1636, c.example, d.example:3389",
				"SERVERPOOL_STRATEGY", "FIRST", "NOSCHEMAS", "1", "SERVERPOOL_PERSISTENT", "1", NULL);
	drop(r);
	assert_string_equal(ldapresolver_type.name, "ldapresolver");
	const struct resolver_param *p = ldapresolver_type.params;
	int have_pw = 0;
	for (; p->name; p++)
		if (!strcmp(p->name, "BINDPW"))
			have_pw = p->type == RP_PASSWORD;
	assert_true(have_pw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_login_attributes),
		cmocka_unit_test(test_uidtype_dn),
		cmocka_unit_test(test_uidtype_entryuuid),
		cmocka_unit_test(test_userinfo_mapping),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_check_pass),
		cmocka_unit_test(test_anonymous),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_pool_failover),
		cmocka_unit_test(test_pool_unreachable),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_edit),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_test_connection),
		cmocka_unit_test(test_reconnect),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
