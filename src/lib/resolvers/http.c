/*
 * http.c — "httpresolver": user information from a JSON web service, as
 * privacyIDEA's HTTPResolver (3.4+) fetches it.
 *
 * Parameters: endpoint, method (POST sends the request mapping as a JSON
 * body, anything else is GET with the mapping url-encoded into the query),
 * headers (JSON object), requestMapping (JSON text in which every
 * "{userid}" is replaced — here with the JSON-escaped uid, so a uid can
 * never change the structure of the request), responseMapping (attribute →
 * "{Path.To.Field}" read from the response with pydash-style deep paths
 * such as "a.b", "a[0].b" or "a.0.b", or a literal value),
 * hasSpecialErrorHandler + errorResponse (a 200 response whose top level
 * contains every member of errorResponse is an error; note that, as in
 * privacyIDEA, an empty errorResponse then matches every response).
 *
 * As privacyIDEA: get_user_id/get_username echo their input, the user list
 * is always empty, passwords cannot be checked (check_pass answers "wrong"),
 * an HTTP status >= 400 or a non-JSON answer is an error, and
 * test_connection fetches the parameter testUser and describes the mapped
 * result.  Unlike privacyIDEA (bool() of a string), hasSpecialErrorHandler
 * "False"/"0" means off.  The info always carries "userid" (the uid asked
 * for) unless the mapping supplies one.
 *
 * Transport: libcurl, a fresh easy handle per request (thread-safe without
 * locks), http/https only (also on redirects), 10 s connect and total
 * timeouts, certificate verification on, responses capped at 1 MiB.
 */
#include "resolver.h"
#include "../log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#define HTTP_TIMEOUT 10L
#define HTTP_MAX_RESPONSE (1024 * 1024)

struct http_priv {
	char *endpoint;
	int post;
	json_t *headers;          /* object of strings */
	char *request_mapping;    /* template text */
	json_t *response_mapping; /* object */
	int special;
	json_t *error_response; /* object */
};

static const struct resolver_param http_params[] = {
	{"endpoint", RP_STRING, 1, NULL, "URL of the user API"},
	{"method", RP_STRING, 0, "GET", "GET (mapping as query parameters) or POST (mapping as JSON body)"},
	{"headers", RP_JSON, 0, "{}", "HTTP headers as a JSON object"},
	{"requestMapping", RP_STRING, 0, "{}", "JSON request template; {userid} is replaced by the user id"},
	{"responseMapping", RP_JSON, 1, NULL,
	 "JSON object attribute → \"{Path.To.Field}\" in the response, or a literal value"},
	{"hasSpecialErrorHandler", RP_BOOL, 0, "0", "Treat 200 responses containing errorResponse as errors"},
	{"errorResponse", RP_JSON, 0, "{}", "JSON object; a response containing all its members is an error"},
	{NULL, 0, 0, NULL, NULL},
};

/* ---- configuration ------------------------------------------------------------ */

static void priv_free(struct http_priv *pv)
{
	if (pv == NULL)
		return;
	free(pv->endpoint);
	json_decref(pv->headers);
	free(pv->request_mapping);
	json_decref(pv->response_mapping);
	json_decref(pv->error_response);
	free(pv);
}

static int has_crlf(const char *s)
{
	return strchr(s, '\r') != NULL || strchr(s, '\n') != NULL;
}

/* Replace each "{userid}" in tmpl by the JSON-escaped uid (the template
 * provides the quotes).  malloc'd. */
static char *fill_template(const char *tmpl, const char *uid)
{
	json_t *s = json_string(uid);
	char *quoted = s ? json_dumps(s, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
	char *out = NULL;
	json_decref(s);
	if (quoted == NULL)
		return NULL;
	size_t ql = strlen(quoted) - 2, tl = strlen(tmpl), count = 0;
	for (const char *p = tmpl; (p = strstr(p, "{userid}")) != NULL; p += 8)
		count++;
	out = malloc(tl + count * ql + 1);
	if (out != NULL) {
		char *o = out;
		const char *p = tmpl, *hit;
		while ((hit = strstr(p, "{userid}")) != NULL) {
			memcpy(o, p, (size_t)(hit - p));
			o += hit - p;
			memcpy(o, quoted + 1, ql);
			o += ql;
			p = hit + 8;
		}
		strcpy(o, p);
	}
	free(quoted);
	return out;
}

static struct http_priv *parse_config(const json_t *config, struct error *err)
{
	struct http_priv *pv = calloc(1, sizeof(*pv));
	const char *key;
	json_t *val;

	if (pv == NULL) {
		err_internal(err, "out of memory");
		return NULL;
	}
	if (resolver_check_required(&httpresolver_type, config, err) != 0)
		goto fail;
	const char *ep = resolver_cfg_str(config, "endpoint", "");
	if (strncasecmp(ep, "http://", 7) != 0 && strncasecmp(ep, "https://", 8) != 0) {
		err_param(err, "Invalid value for parameter 'endpoint': an http:// or https:// URL is required");
		goto fail;
	}
	pv->post = strcasecmp(resolver_cfg_str(config, "method", "GET"), "post") == 0;
	pv->special = resolver_cfg_bool(config, "hasSpecialErrorHandler", 0);
	const char *rm = resolver_cfg_str(config, "requestMapping", "");
	if ((pv->endpoint = strdup(ep)) == NULL || (pv->request_mapping = strdup(*rm ? rm : "{}")) == NULL) {
		err_internal(err, "out of memory");
		goto fail;
	}
	if (resolver_cfg_object(config, "headers", &pv->headers, err) != 0 ||
	    resolver_cfg_object(config, "responseMapping", &pv->response_mapping, err) != 0 ||
	    resolver_cfg_object(config, "errorResponse", &pv->error_response, err) != 0)
		goto fail;
	if (pv->response_mapping == NULL) {
		err_missing_param(err, "responseMapping");
		goto fail;
	}
	if (pv->headers == NULL)
		pv->headers = json_object();
	if (pv->error_response == NULL)
		pv->error_response = json_object();
	if (pv->headers == NULL || pv->error_response == NULL) {
		err_internal(err, "out of memory");
		goto fail;
	}
	json_object_foreach(pv->headers, key, val) {
		if (!json_is_string(val) || has_crlf(key) || has_crlf(json_string_value(val)) ||
		    strchr(key, ':') != NULL || *key == '\0') {
			err_param(err, "Invalid value for parameter 'headers': header '%.64s'", key);
			goto fail;
		}
	}
	/* The template must be a JSON object once filled in. */
	char *probe = fill_template(pv->request_mapping, "0");
	json_t *pj = probe ? json_loads(probe, 0, NULL) : NULL;
	free(probe);
	int ok = json_is_object(pj);
	json_decref(pj);
	if (!ok) {
		err_param(err, "Invalid value for parameter 'requestMapping': expected a JSON object");
		goto fail;
	}
	return pv;
fail:
	priv_free(pv);
	return NULL;
}

/* ---- the request ------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_global(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct body {
	char *data;
	size_t len;
	int too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;
	if (b->len + n > HTTP_MAX_RESPONSE) {
		b->too_big = 1;
		return 0;
	}
	char *nd = realloc(b->data, b->len + n + 1);
	if (nd == NULL)
		return 0;
	memcpy(nd + b->len, ptr, n);
	b->data = nd;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Python's str() of a JSON value, for urlencode(). */
static char *py_str(const json_t *v)
{
	char buf[64];
	switch (json_typeof(v)) {
	case JSON_STRING: return strdup(json_string_value(v));
	case JSON_INTEGER: snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v)); return strdup(buf);
	case JSON_REAL: snprintf(buf, sizeof(buf), "%.17g", json_real_value(v)); return strdup(buf);
	case JSON_TRUE: return strdup("True");
	case JSON_FALSE: return strdup("False");
	case JSON_NULL: return strdup("None");
	default: return json_dumps(v, JSON_COMPACT);
	}
}

/* urllib.parse.quote_plus: unreserved kept, ' ' → '+', rest %XX. */
static void quote_plus(struct body *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[4];
		if (isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
			tmp[0] = (char)c;
			tmp[1] = '\0';
		} else if (c == ' ') {
			strcpy(tmp, "+");
		} else {
			snprintf(tmp, sizeof(tmp), "%%%02X", c);
		}
		on_data(tmp, 1, strlen(tmp), out);
	}
}

/* Build endpoint?k=v&... from the filled request object. */
static char *get_url(const char *endpoint, const json_t *req)
{
	struct body u = {0};
	const char *key;
	json_t *val;
	int first = 1;
	on_data((char *)endpoint, 1, strlen(endpoint), &u);
	json_object_foreach((json_t *)req, key, val) {
		char *sv = py_str(val);
		if (sv == NULL) {
			free(u.data);
			return NULL;
		}
		on_data(first ? (strchr(endpoint, '?') ? "&" : "?") : "&", 1, 1, &u);
		first = 0;
		quote_plus(&u, key);
		on_data("=", 1, 1, &u);
		quote_plus(&u, sv);
		free(sv);
	}
	if (u.too_big) {
		free(u.data);
		return NULL;
	}
	return u.data;
}

/* pydash-style get: "a.b", "a[0].b", "a.0.b"; '\.' is a literal dot.
 * Returns a borrowed reference or NULL when the path does not exist. */
static json_t *deep_get(json_t *root, const char *path)
{
	json_t *cur = root;
	char tok[256];
	const char *p = path;

	while (cur != NULL) {
		size_t k = 0;
		int bracket = 0;
		if (*p == '[') {
			bracket = 1;
			p++;
		}
		while (*p && k < sizeof(tok) - 1) {
			if (bracket && *p == ']')
				break;
			if (!bracket && (*p == '.' || *p == '['))
				break;
			if (*p == '\\' && p[1] != '\0')
				p++;
			tok[k++] = *p++;
		}
		tok[k] = '\0';
		if (bracket) {
			if (*p != ']')
				return NULL;
			p++;
		}
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			char *end;
			long idx = strtol(tok, &end, 10);
			if (end == tok || *end != '\0')
				return NULL;
			if (idx < 0)
				idx += (long)json_array_size(cur);
			cur = idx < 0 ? NULL : json_array_get(cur, (size_t)idx);
		} else {
			return NULL;
		}
		if (*p == '\0')
			return cur;
		if (*p == '.')
			p++;
	}
	return NULL;
}

/* Fetch and map the user uid.  0 ok (*info new object), -1 error. */
static int http_fetch(const struct http_priv *pv, const char *uid, json_t **info, struct error *err)
{
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL;
	struct body resp = {0};
	char *filled = NULL, *url = NULL, *payload = NULL, errbuf[CURL_ERROR_SIZE] = "";
	json_t *req = NULL, *doc = NULL, *out = NULL;
	const char *key;
	json_t *val;
	long status = 0;
	int rc = -1;

	pthread_once(&curl_once, curl_global);
	if (curl_init_rc != CURLE_OK)
		return err_internal(err, "libcurl initialisation failed");
	if ((filled = fill_template(pv->request_mapping, uid ? uid : "")) == NULL ||
	    (req = json_loads(filled, 0, NULL)) == NULL || !json_is_object(req)) {
		err_set(err, ERRK_PI, ERR_USER, "The requestMapping does not give a JSON object for this user.");
		goto out;
	}
	h = curl_easy_init();
	if (h == NULL) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (pv->post) {
		payload = json_dumps(req, JSON_ENSURE_ASCII);
		url = strdup(pv->endpoint);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
	} else {
		url = get_url(pv->endpoint, req);
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	if (url == NULL || (pv->post && payload == NULL)) {
		err_internal(err, "out of memory");
		goto out;
	}
	json_object_foreach(pv->headers, key, val) {
		char *line = malloc(strlen(key) + strlen(json_string_value(val)) + 3);
		if (line == NULL) {
			err_internal(err, "out of memory");
			goto out;
		}
		sprintf(line, "%s: %s", key, json_string_value(val));
		struct curl_slist *n = curl_slist_append(hdrs, line);
		free(line);
		if (n == NULL) {
			err_internal(err, "out of memory");
			goto out;
		}
		hdrs = n;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, HTTP_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTP_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_RESPONSE);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tessera-httpresolver");
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		if (resp.too_big || cc == CURLE_FILESIZE_EXCEEDED)
			err_set(err, ERRK_PI, ERR_USER, "The user API answered with more than 1 MiB.");
		else
			err_set(err, ERRK_PI, ERR_USER, "Could not reach the user API: %s",
				errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 400) {
		err_set(err, ERRK_PI, ERR_USER, "The user API answered with HTTP status %ld.", status);
		goto out;
	}
	doc = resp.data ? json_loadb(resp.data, resp.len, JSON_DECODE_ANY, NULL) : NULL;
	if (doc == NULL) {
		err_set(err, ERRK_PI, ERR_USER, "The user API did not answer with JSON.");
		goto out;
	}
	if (pv->special) {
		/* privacyIDEA: all(x in response.items() for x in errorResponse.items()) */
		int all = json_is_object(doc);
		json_object_foreach(pv->error_response, key, val) {
			if (!all)
				break;
			json_t *got = json_object_get(doc, key);
			all = got != NULL && json_equal(got, val);
		}
		if (all) {
			err_set(err, ERRK_PI, ERR_USER, "Received an error while searching for user: %.100s",
				uid ? uid : "");
			goto out;
		}
	}
	if ((out = json_object()) == NULL) {
		err_internal(err, "out of memory");
		goto out;
	}
	json_object_foreach(pv->response_mapping, key, val) {
		const char *s = json_string_value(val);
		size_t n = s ? strlen(s) : 0;
		if (s != NULL && n >= 2 && s[0] == '{' && s[n - 1] == '}') {
			char *path = strndup(s + 1, n - 2);
			json_t *got = path ? deep_get(doc, path) : NULL;
			free(path);
			json_object_set_new(out, key, got ? json_deep_copy(got) : json_null());
		} else {
			json_object_set_new(out, key, json_deep_copy(val));
		}
	}
	if (json_object_get(out, "userid") == NULL)
		json_object_set_new(out, "userid", json_string(uid ? uid : ""));
	*info = out;
	out = NULL;
	rc = 0;
out:
	json_decref(out);
	json_decref(doc);
	json_decref(req);
	free(resp.data);
	free(payload);
	free(url);
	free(filled);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

/* ---- the vtable ----------------------------------------------------------------------- */

static struct resolver *http_create(const char *name, const json_t *config, struct error *err)
{
	struct http_priv *pv = parse_config(config, err);
	struct resolver *r;
	if (pv == NULL)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->name = strdup(name ? name : "")) == NULL) {
		free(r);
		priv_free(pv);
		err_internal(err, "out of memory");
		return NULL;
	}
	r->type = &httpresolver_type;
	r->priv = pv;
	return r;
}

static void http_destroy(struct resolver *r)
{
	if (r == NULL)
		return;
	priv_free(r->priv);
	free(r->name);
	free(r);
}

static int echo(const char *in, char **out, struct error *err)
{
	if (in == NULL || *in == '\0')
		return 1;
	*out = strdup(in);
	return *out ? 0 : err_internal(err, "out of memory");
}

static int http_get_user_id(struct resolver *r, const char *login, char **uid, struct error *err)
{
	return echo(login, uid, err);
}

static int http_get_username(struct resolver *r, const char *uid, char **login, struct error *err)
{
	return echo(uid, login, err);
}

static int http_get_user_info(struct resolver *r, const char *uid, json_t **info, struct error *err)
{
	if (uid == NULL || *uid == '\0')
		return 1;
	return http_fetch(r->priv, uid, info, err);
}

static int http_get_user_list(struct resolver *r, const json_t *search, json_t **list, struct error *err)
{
	*list = json_array();
	return *list ? 0 : err_internal(err, "out of memory");
}

static int http_check_pass(struct resolver *r, const char *uid, const char *password, struct error *err)
{
	return 1; /* the HTTP resolver cannot check passwords */
}

static int http_editable(const struct resolver *r)
{
	return 0;
}

static int http_test_connection(const json_t *config, char **desc, struct error *err)
{
	const char *user = resolver_cfg_str(config, "testUser", "");
	json_t *info = NULL;
	struct http_priv *pv;
	int rc = -1;

	if (*user == '\0')
		return err_missing_param(err, "testUser");
	if ((pv = parse_config(config, err)) == NULL)
		return -1;
	if (http_fetch(pv, user, &info, err) == 0) {
		*desc = json_dumps(info, JSON_SORT_KEYS);
		rc = *desc ? 0 : err_internal(err, "out of memory");
	} else if (err != NULL) {
		char msg[sizeof(err->message)];
		snprintf(msg, sizeof(msg), "%s", err->message);
		err_set(err, err->kind, err->code, "failed: %s", msg);
	}
	json_decref(info);
	priv_free(pv);
	return rc;
}

const struct resolver_type httpresolver_type = {
	.name = "httpresolver",
	.description = "User information from a JSON web service",
	.params = http_params,
	.create = http_create,
	.destroy = http_destroy,
	.get_user_id = http_get_user_id,
	.get_username = http_get_username,
	.get_user_info = http_get_user_info,
	.get_user_list = http_get_user_list,
	.check_pass = http_check_pass,
	.add_user = NULL,
	.update_user = NULL,
	.delete_user = NULL,
	.editable = http_editable,
	.test_connection = http_test_connection,
};
