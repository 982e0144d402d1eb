/*
 * test_resolver_http.c — the HTTP resolver (http.c) against a tiny HTTP
 * server forked by the test itself: it listens on a free loopback port and
 * answers with canned JSON that echoes what it received (query, body,
 * a header), so the tests can check exactly what the resolver sent.
 *
 * Paths: /user (GET or POST; echoes), /missing (404), /fail200 (200 with
 * {"success": false}), /big (2 MiB), /text (not JSON), /redirect (302 to
 * file:///etc/passwd).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/resolvers/resolver.h"

static pid_t server_pid;
static int server_port;

/* ---- the server (child process) ------------------------------------------- */

static void url_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%' && s[1] && s[2]) {
			char hex[3] = {s[1], s[2], 0};
			*o++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

static void reply(int fd, int status, const char *extra_headers, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n%s\r\n",
			 status, len, extra_headers ? extra_headers : "");
	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

static void serve_one(int fd)
{
	char req[65536];
	size_t got = 0;
	char *hend = NULL;
	while (got < sizeof(req) - 1 && (hend = strstr(req, "\r\n\r\n")) == NULL) {
		ssize_t r = read(fd, req + got, sizeof(req) - 1 - got);
		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = '\0';
	}
	if (hend == NULL)
		return;
	*hend = '\0';
	char *body = hend + 4;
	size_t have = got - (size_t)(body - req);
	long clen = 0;
	char *cl = strcasestr(req, "\r\nContent-Length:");
	if (cl)
		clen = strtol(cl + 17, NULL, 10);
	while ((long)have < clen && got < sizeof(req) - 1) {
		ssize_t r = read(fd, req + got, sizeof(req) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		have += (size_t)r;
	}
	body[have] = '\0';

	char method[16] = "", target[4096] = "";
	sscanf(req, "%15s %4095s", method, target);
	char *query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	char xtest[256] = "";
	char *xh = strcasestr(req, "\r\nX-Test:");
	if (xh) {
		xh += 9;
		while (*xh == ' ')
			xh++;
		size_t k = strcspn(xh, "\r\n");
		snprintf(xtest, sizeof(xtest), "%.*s", (int)k, xh);
	}

	if (strcmp(target, "/user") == 0) {
		json_t *q = json_object();
		if (query) {
			char *save = NULL;
			for (char *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
				char *eq = strchr(kv, '=');
				if (eq)
					*eq++ = '\0';
				url_decode(kv);
				if (eq)
					url_decode(eq);
				json_object_set_new(q, kv, json_string(eq ? eq : ""));
			}
		}
		json_t *b = strcmp(method, "POST") == 0 ? json_loads(body, 0, NULL) : NULL;
		const char *who = json_string_value(json_object_get(b ? b : q, b ? "customerId" : "id"));
		json_t *resp = json_pack("{s:b, s:s, s:o, s:o, s:s, s:{s:s?, s:s, s:[{s:s}, {s:s}], s:i}}",
					 "success", 1, "method", method, "query", q, "body", b ? b : json_null(),
					 "header", xtest, "data", "Username", who, "Email", "user@example.com", "Phones",
					 "Phone", "+49 1", "Phone", "+49 2", "Age", 42);
		char *txt = json_dumps(resp, JSON_COMPACT);
		reply(fd, 200, NULL, txt, strlen(txt));
		free(txt);
		json_decref(resp);
	} else if (strcmp(target, "/fail200") == 0) {
		const char *t = "{\"success\": false, \"message\": \"There was an error!\"}";
		reply(fd, 200, NULL, t, strlen(t));
	} else if (strcmp(target, "/big") == 0) {
		size_t n = 2 * 1024 * 1024;
		char *big = malloc(n + 3);
		memset(big, 'x', n + 2);
		big[0] = '"';
		big[n + 1] = '"';
		big[n + 2] = '\0';
		reply(fd, 200, NULL, big, n + 2);
		free(big);
	} else if (strcmp(target, "/text") == 0) {
		reply(fd, 200, NULL, "hello", 5);
	} else if (strcmp(target, "/redirect") == 0) {
		reply(fd, 302, "Location: file:///etc/passwd\r\n", "", 0);
	} else {
		reply(fd, 404, NULL, "{}", 2);
	}
}

static int group_setup(void **state)
{
	struct sockaddr_in a = {0};
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 16) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	server_port = ntohs(a.sin_port);
	server_pid = fork();
	if (server_pid < 0)
		return -1;
	if (server_pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			int c = accept(s, NULL, NULL);
			if (c < 0)
				continue;
			serve_one(c);
			close(c);
		}
	}
	close(s);
	return 0;
}

static int group_teardown(void **state)
{
	kill(server_pid, SIGTERM);
	waitpid(server_pid, NULL, 0);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static json_t *config(const char *path, const char *extra)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", server_port, path);
	json_t *cfg = json_pack("{s:s, s:s, s:s, s:s, s:s}", "endpoint", url, "method", "GET", "headers",
				"{\"X-Test\": \"hdr-value\"}", "requestMapping",
				"{\"id\": \"{userid}\", \"key\": \"s3cr et!\"}", "responseMapping",
				"{\"username\": \"{data.Username}\", \"email\": \"{data.Email}\", "
				"\"phone\": \"{data.Phones[1].Phone}\", \"mobile\": \"{data.Phones.0.Phone}\", "
				"\"surname\": \"Fixed\", \"age\": \"{data.Age}\", \"missing\": \"{data.Nope.x}\", "
				"\"hdr\": \"{header}\", \"query\": \"{query}\", \"body\": \"{body}\"}");
	if (extra) {
		json_t *x = json_loads(extra, 0, NULL);
		assert_non_null(x);
		json_object_update(cfg, x);
		json_decref(x);
	}
	return cfg;
}

static struct resolver *make(const char *path, const char *extra)
{
	struct error err;
	json_t *cfg = config(path, extra);
	struct resolver *r = httpresolver_type.create("web", cfg, &err);
	json_decref(cfg);
	if (r == NULL)
		fail_msg("create: %s", err.message);
	return r;
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	if (s == NULL)
		fail_msg("no string %s", k);
	return s;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_get(void **state)
{
	struct resolver *r = make("/user", NULL);
	struct error err;
	json_t *info = NULL;
	const char *uid = "a\"b c&d=é";

	assert_int_equal(r->type->get_user_info(r, uid, &info, &err), 0);
	assert_string_equal(str(info, "username"), uid); /* the server saw the exact uid */
	assert_string_equal(str(info, "userid"), uid);
	assert_string_equal(str(info, "email"), "user@example.com");
	assert_string_equal(str(info, "phone"), "+49 2");
	assert_string_equal(str(info, "mobile"), "+49 1");
	assert_string_equal(str(info, "surname"), "Fixed");
	assert_string_equal(str(info, "hdr"), "hdr-value");
	assert_int_equal(json_integer_value(json_object_get(info, "age")), 42);
	assert_true(json_is_null(json_object_get(info, "missing")));
	json_t *q = json_object_get(info, "query");
	assert_int_equal(json_object_size(q), 2);
	assert_string_equal(str(q, "id"), uid);
	assert_string_equal(str(q, "key"), "s3cr et!");
	assert_true(json_is_null(json_object_get(info, "body")));
	json_decref(info);

	/* The interface's trivial parts, as privacyIDEA. */
	char *s = NULL;
	json_t *list = NULL;
	assert_int_equal(r->type->get_user_id(r, "bob", &s, &err), 0);
	assert_string_equal(s, "bob");
	free(s);
	assert_int_equal(r->type->get_username(r, "u-17", &s, &err), 0);
	assert_string_equal(s, "u-17");
	free(s);
	assert_int_equal(r->type->get_user_id(r, "", &s, &err), 1);
	assert_int_equal(r->type->get_user_list(r, NULL, &list, &err), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_int_equal(r->type->check_pass(r, "bob", "pw", &err), 1);
	assert_false(r->type->editable(r));
	httpresolver_type.destroy(r);
}

static void test_post_escaping(void **state)
{
	struct resolver *r = make("/user", "{\"method\": \"post\", \"requestMapping\": "
					   "\"{\\\"customerId\\\": \\\"{userid}\\\", \\\"accessKey\\\": \\\"secr3t!\\\", "
					   "\\\"again\\\": \\\"{userid}\\\"}\"}");
	struct error err;
	json_t *info = NULL;
	/* A uid trying to add members to the request stays one string. */
	const char *uid = "x\", \"admin\": true, \"y\": \"\\ {userid} \xe2\x82\xac";

	assert_int_equal(r->type->get_user_info(r, uid, &info, &err), 0);
	json_t *body = json_object_get(info, "body");
	assert_true(json_is_object(body));
	assert_int_equal(json_object_size(body), 3);
	assert_string_equal(str(body, "customerId"), uid);
	assert_string_equal(str(body, "again"), uid);
	assert_string_equal(str(body, "accessKey"), "secr3t!");
	assert_null(json_object_get(body, "admin"));
	assert_string_equal(str(info, "username"), uid);
	assert_int_equal(json_object_size(json_object_get(info, "query")), 0);
	json_decref(info);
	httpresolver_type.destroy(r);

	/* A numeric template slot cannot be turned into structure either. */
	r = make("/user", "{\"method\": \"POST\", \"requestMapping\": \"{\\\"customerId\\\": {userid}}\"}");
	assert_int_equal(r->type->get_user_info(r, "1, \"admin\": true", &info, &err), -1);
	assert_int_equal(r->type->get_user_info(r, "17", &info, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(info, "body"), "customerId")), 17);
	json_decref(info);
	httpresolver_type.destroy(r);
}

static void test_errors(void **state)
{
	struct error err;
	json_t *info = NULL;
	struct resolver *r;

	r = make("/missing", NULL);
	assert_int_equal(r->type->get_user_info(r, "bob", &info, &err), -1);
	assert_int_equal(err.kind, ERRK_PI);
	assert_int_equal(err.code, ERR_USER);
	assert_non_null(strstr(err.message, "404"));
	httpresolver_type.destroy(r);

	r = make("/fail200", "{\"hasSpecialErrorHandler\": \"True\", \"errorResponse\": \"{\\\"success\\\": false}\"}");
	assert_int_equal(r->type->get_user_info(r, "bob", &info, &err), -1);
	assert_non_null(strstr(err.message, "Received an error while searching for user: bob"));
	httpresolver_type.destroy(r);

	/* The error response must be contained, not merely overlap. */
	r = make("/fail200", "{\"hasSpecialErrorHandler\": true, "
			     "\"errorResponse\": \"{\\\"success\\\": false, \\\"code\\\": 7}\"}");
	assert_int_equal(r->type->get_user_info(r, "bob", &info, &err), 0);
	json_decref(info);
	httpresolver_type.destroy(r);

	r = make("/fail200", "{\"hasSpecialErrorHandler\": \"False\", \"errorResponse\": \"{\\\"success\\\": false}\"}");
	assert_int_equal(r->type->get_user_info(r, "bob", &info, &err), 0);
	json_decref(info);
	httpresolver_type.destroy(r);

	r = make("/big", NULL);
	assert_int_equal(r->type->get_user_info(r, "bob", &info, &err), -1);
	assert_non_null(strstr(err.message, "1 MiB"));
	httpresolver_type.destroy(r);

	r = make("/text", NULL);
	assert_int_equal(r->type->get_user_info(r, "bob", &info, &err), -1);
	assert_non_null(strstr(err.message, "JSON"));
	httpresolver_type.destroy(r);

	r = make("/redirect", NULL);
	assert_int_equal(r->type->get_user_info(r, "bob", &info, &err), -1);
	httpresolver_type.destroy(r);

	/* Nobody listens on port 1. */
	json_t *cfg = json_pack("{s:s, s:s}", "endpoint", "http://127.0.0.1:1/user", "responseMapping",
				"{\"username\": \"{u}\"}");
	r = httpresolver_type.create("web", cfg, &err);
	json_decref(cfg);
	assert_non_null(r);
	assert_int_equal(r->type->get_user_info(r, "bob", &info, &err), -1);
	assert_non_null(strstr(err.message, "Could not reach"));
	httpresolver_type.destroy(r);
}

static void expect_bad(const char *extra)
{
	struct error err;
	json_t *cfg = config("/user", extra);
	struct resolver *r = httpresolver_type.create("web", cfg, &err);
	json_decref(cfg);
	if (r != NULL)
		fail_msg("accepted: %s", extra);
	assert_int_equal(err.code, ERR_PARAMETER);
}

static void test_config(void **state)
{
	expect_bad("{\"endpoint\": \"file:///etc/passwd\"}");
	expect_bad("{\"endpoint\": \"\"}");
	expect_bad("{\"requestMapping\": \"{not json\"}");
	expect_bad("{\"requestMapping\": \"[1, 2]\"}");
	expect_bad("{\"responseMapping\": \"\"}");
	expect_bad("{\"responseMapping\": \"[]\"}");
	expect_bad("{\"headers\": \"{\\\"X-A\\\": \\\"v\\r\\nX-Injected: 1\\\"}\"}");
	expect_bad("{\"headers\": \"{\\\"X-A\\\": 5}\"}");
	expect_bad("{\"errorResponse\": \"nope\"}");

	/* test_connection: the mapped answer for testUser. */
	struct error err;
	char *desc = NULL;
	json_t *cfg = config("/user", "{\"testUser\": \"tina\"}");
	assert_int_equal(httpresolver_type.test_connection(cfg, &desc, &err), 0);
	json_t *d = json_loads(desc, 0, NULL);
	assert_string_equal(str(d, "username"), "tina");
	json_decref(d);
	free(desc);
	json_decref(cfg);

	cfg = config("/user", NULL);
	assert_int_equal(httpresolver_type.test_connection(cfg, &desc, &err), -1);
	assert_string_equal(err.message, "Missing parameter: 'testUser'");
	json_decref(cfg);

	cfg = config("/missing", "{\"testUser\": \"tina\"}");
	assert_int_equal(httpresolver_type.test_connection(cfg, &desc, &err), -1);
	assert_non_null(strstr(err.message, "failed: "));
	json_decref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_post_escaping),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
