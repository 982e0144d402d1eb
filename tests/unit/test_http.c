/*
 * test_http.c — parameter parsing, routing and error rendering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/params.h"
#include "http/route.h"
#include "lib/error.h"

static void test_unquote(void **state)
{
	char s[] = "a%41b%2x%%20c%e2%82%ac";
	size_t n = params_unquote(s, strlen(s));
	assert_int_equal(n, strlen("aAb%2x% c\xe2\x82\xac"));
	assert_string_equal(s, "aAb%2x% c\xe2\x82\xac");
	char t[] = "%4";
	assert_int_equal(params_unquote(t, 2), 2);
	assert_string_equal(t, "%4");
}

static void test_form_first_wins_and_double_unquote(void **state)
{
	json_t *o = json_object();
	const char body[] = "user=alice&pass=a%2B+b&user=mallory&x=%2541&empty=&novalue&=nokey";
	assert_int_equal(params_parse_form(o, body, strlen(body), 1, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(o, "user")), "alice");
	assert_string_equal(json_string_value(json_object_get(o, "pass")), "a+ b");
	/* %2541 → "%41" by the form decoder → "A" by privacyIDEA's extra unquote */
	assert_string_equal(json_string_value(json_object_get(o, "x")), "A");
	assert_string_equal(json_string_value(json_object_get(o, "empty")), "");
	assert_string_equal(json_string_value(json_object_get(o, "novalue")), "");
	assert_null(json_object_get(o, ""));
	json_decref(o);

	o = json_object();
	assert_int_equal(params_parse_form(o, body, strlen(body), 0, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(o, "x")), "%41");
	json_decref(o);
}

static void test_form_invalid_utf8_replaced(void **state)
{
	json_t *o = json_object();
	const char body[] = "u=%ff%c3%a4";
	assert_int_equal(params_parse_form(o, body, strlen(body), 1, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(o, "u")), "\xef\xbf\xbd\xc3\xa4");
	json_decref(o);
}

static void test_json_merge(void **state)
{
	struct error e = { 0 };
	json_t *o = json_object();
	json_object_set_new(o, "a", json_string("query"));
	const char body[] = "{\"a\": 1, \"b\": [1, 2]}";
	assert_int_equal(params_merge_json(o, body, strlen(body), 1, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "a")), 1);
	assert_int_equal(params_merge_json(o, "{bad", 4, 1, &e), -1);
	assert_int_equal(e.code, 905);
	assert_int_equal(err_http_status(&e), 400);
	assert_int_equal(params_merge_json(o, "[1]", 3, 1, &e), -1);
	assert_int_equal(params_merge_json(o, "{bad", 4, 0, &e), 0);
	json_decref(o);
}

static void test_user_agent_unquote(void **state)
{
	assert_true(params_wants_unquote(NULL));
	assert_true(params_wants_unquote("curl/8.0"));
	assert_false(params_wants_unquote("privacyidea-cp/3.2 Windows"));
	assert_false(params_wants_unquote("simpleSAMLphp"));
	assert_true(params_wants_unquote("simplesamlphpx/1"));
}

static void test_routes(void **state)
{
	const struct route *r = NULL;
	json_t *vars = NULL;
	assert_int_equal(route_find("POST", "/auth", &r, &vars), ROUTE_FOUND);
	assert_string_equal(r->pattern, "/auth");
	json_decref(vars);
	assert_int_equal(route_find("POST", "/auth/", &r, &vars), ROUTE_FOUND);
	json_decref(vars);
	assert_int_equal(route_find("GET", "/auth", &r, &vars), ROUTE_BAD_METHOD);
	assert_int_equal(route_find("GET", "/nope", &r, &vars), ROUTE_NO_PATH);
	assert_int_equal(route_find("GET", "/healthz/", &r, &vars), ROUTE_FOUND);
	json_decref(vars);
	assert_int_equal(route_find("GET", "/healthzz", &r, &vars), ROUTE_NO_PATH);
	assert_int_equal(route_find("GET", "/auth//rights", &r, &vars), ROUTE_NO_PATH);
}

static void test_error_render(void **state)
{
	struct error e = { 0 };
	char buf[1024];
	err_missing_param(&e, "pass");
	assert_string_equal(err_wire_message(&e, buf, sizeof(buf)), "ERR905: Missing parameter: 'pass'");
	assert_int_equal(err_http_status(&e), 400);
	err_set(&e, ERRK_AUTH, ERR_AUTH_WRONG, "Authentication failure. Wrong credentials");
	assert_string_equal(err_wire_message(&e, buf, sizeof(buf)), "Authentication failure. Wrong credentials");
	assert_int_equal(err_http_status(&e), 401);
	err_internal(&e, "secret internal detail");
	assert_null(strstr(err_wire_message(&e, buf, sizeof(buf)), "secret"));
	assert_int_equal(err_wire_code(&e), -500);
	assert_int_equal(err_http_status(&e), 500);
	err_set(&e, ERRK_POLICY, ERR_POLICY, "no");
	assert_int_equal(err_http_status(&e), 403);
	err_set(&e, ERRK_NOTFOUND, ERR_NOTFOUND, "no");
	assert_int_equal(err_http_status(&e), 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unquote),
		cmocka_unit_test(test_form_first_wins_and_double_unquote),
		cmocka_unit_test(test_form_invalid_utf8_replaced),
		cmocka_unit_test(test_json_merge),
		cmocka_unit_test(test_user_agent_unquote),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_error_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
