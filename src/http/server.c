/*
 * server.c — libmicrohttpd glue: collects the body under a size limit,
 * builds the merged parameters, checks the JWT, dispatches through the
 * routing table, writes the audit row and queues the enveloped answer.
 * It knows nothing about tokens, users or SQL.
 */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authcheck.h"
#include "../api/guard.h"
#include "multipart.h"
#include "params.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "../db/db.h"
#include "../lib/app.h"
#include "../lib/audit.h"
#include "../lib/log.h"
#include "../lib/snapshot.h"

struct server {
	struct MHD_Daemon *d;
	struct app *app;
	unsigned port;
};

/* Per-request state kept by MHD between calls of the access handler. */
struct conn_state {
	char *body;
	size_t len, cap;
	int too_large;
	double start;
};

const char *request_header(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)rq->conn, MHD_HEADER_KIND, name);
}

struct db_conn *request_db(struct request *rq, struct error *err)
{
	if (!rq->db)
		rq->db = db_acquire(rq->app->db, err);
	return rq->db;
}

struct snapshot *request_snapshot(struct request *rq, struct error *err)
{
	if (!rq->snap) {
		struct db_conn *c = request_db(rq, err);
		if (!c)
			return NULL;
		rq->snap = snapshot_acquire(rq->app, c, err);
	}
	return rq->snap;
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
			     const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type ? type : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result queue_http_error(struct server *srv, struct MHD_Connection *conn, unsigned code,
					const char *msg)
{
	struct error e;
	unsigned status;
	size_t len;
	err_set(&e, ERRK_HTTP, (int)code, "%s", msg);
	char *body = reply_error_bare(srv->app, &e, NULL, &status, &len);
	if (!body)
		return MHD_NO;
	log_info("%u %s", status, msg);
	return queue(conn, status, body, len, NULL);
}

static const char MSG_413[] =
	"413 Request Entity Too Large: The data value transmitted exceeds the capacity limit.";
static const char MSG_404[] = "404 Not Found: The requested URL was not found on the server. If you "
			      "entered the URL manually please check your spelling and try again.";
static const char MSG_405[] = "405 Method Not Allowed: The method is not allowed for the requested URL.";

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct request *rq = cls;
	int unquote = params_wants_unquote(request_header(rq, "User-Agent"));
	params_add_first(rq->params, key, value ? value : "", unquote);
	return MHD_YES;
}

static int content_type_is(const char *ct, const char *want)
{
	if (!ct)
		return 0;
	size_t n = strlen(want);
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int is_json_type(const char *ct)
{
	if (!ct)
		return 0;
	if (content_type_is(ct, "application/json"))
		return 1;
	/* privacyIDEA (Flask) also treats any "+json" media type as JSON. */
	const char *semi = strchr(ct, ';');
	size_t n = semi ? (size_t)(semi - ct) : strlen(ct);
	return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* Fill rq->params from query, body and URL placeholders. */
static int build_params(struct request *rq, struct conn_state *st, json_t *vars, struct error *err)
{
	MHD_get_connection_values((struct MHD_Connection *)rq->conn, MHD_GET_ARGUMENT_KIND, collect_query, rq);
	const char *ct = request_header(rq, "Content-Type");
	int unquote = params_wants_unquote(request_header(rq, "User-Agent"));
	if (st->len > 0) {
		if (content_type_is(ct, "application/x-www-form-urlencoded")) {
			if (params_parse_form(rq->params, st->body, st->len, unquote, err) < 0)
				return -1;
		} else if (is_json_type(ct)) {
			if (params_merge_json(rq->params, st->body, st->len, 1, err) < 0)
				return -1;
		} else if (content_type_is(ct, "multipart/form-data")) {
			if (multipart_parse(rq->params, ct, st->body, st->len, unquote, err) < 0)
				return -1;
		} else {
			params_merge_json(rq->params, st->body, st->len, 0, err);
		}
	} else if (is_json_type(ct) && strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "DELETE") != 0) {
		/* An empty JSON body is malformed JSON for Flask's request.json. */
		return err_param(err, "Invalid JSON body: empty body");
	}
	json_object_update(rq->params, vars);
	return 0;
}

static void user_agent_split(const char *ua, char *name, size_t nlen, char *version, size_t vlen)
{
	name[0] = version[0] = '\0';
	if (!ua)
		return;
	size_t n = strcspn(ua, "/ ");
	snprintf(name, nlen, "%.*s", (int)n, ua);
	if (ua[n] == '/') {
		const char *v = ua + n + 1;
		snprintf(version, vlen, "%.*s", (int)strcspn(v, " "), v);
	}
}

static void write_audit(struct request *rq, int success)
{
	char action[300], ua[128], uav[64];
	snprintf(action, sizeof(action), "%s %s", rq->method, rq->route->pattern);
	user_agent_split(request_header(rq, "User-Agent"), ua, sizeof(ua), uav, sizeof(uav));
	struct audit_info *a = &rq->audit;
	struct audit_record r = {
		.action = action,
		.success = a->success >= 0 ? (success && a->success) : success,
		.authentication = a->authentication,
		.serial = a->serial,
		.token_type = a->token_type,
		.user = a->user,
		.realm = a->realm,
		.resolver = a->resolver,
		.administrator = a->administrator,
		.action_detail = a->action_detail,
		.info = a->info,
		.policies = a->policies,
		.client = rq->client_ip,
		.user_agent = ua,
		.user_agent_version = uav,
		.start = rq->start,
		.duration = reply_now() - rq->start,
		.thread_id = (unsigned long)pthread_self(),
	};
	struct error err = { 0 };
	struct db_conn *c = request_db(rq, &err);
	if (c) {
		/* The handler's transaction, if any, is finished by now. */
		if (audit_write(rq->app, c, &r, &err) < 0)
			log_error("audit write failed: %s", err.message);
	} else {
		log_error("audit write failed: no database connection: %s", err.message);
	}
}

static void client_ip(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	buf[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)len);
}

static enum MHD_Result dispatch(struct server *srv, struct MHD_Connection *conn, const char *url,
				const char *method, struct conn_state *st)
{
	const struct route *route = NULL;
	json_t *vars = NULL;
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	enum route_match rm = route_find(m, url, &route, &vars);
	if (rm == ROUTE_NO_PATH)
		return queue_http_error(srv, conn, 404, MSG_404);
	if (rm == ROUTE_BAD_METHOD)
		return queue_http_error(srv, conn, 405, MSG_405);

	char ip[64];
	client_ip(conn, ip, sizeof(ip));
	struct request rq = {
		.app = srv->app,
		.route = route,
		.method = m,
		.path = url,
		.client_ip = ip,
		.conn = conn,
		.params = json_object(),
		.response_id = route->response_id ? route->response_id : 1,
		.start = st->start,
		.body = st->body, /* raw body for handlers such as OCSP (request.h) */
		.body_len = st->len,
	};
	rq.audit.success = -1;
	struct error err = { 0 };
	json_t *value = NULL;
	int rc = build_params(&rq, st, vars, &err);
	json_decref(vars);
	if (rc == 0 && route->role != ROLE_NONE)
		rc = authcheck_request(&rq, route->role, &err);
	if (rc == 0 && route->role != ROLE_NONE)
		rc = api_guard(&rq, &err); /* the route's admin/user right (src/api/guard.c) */
	if (rc == 0) {
		rc = route->handler(&rq, &value, &err);
		if (rc < 0 && !err_is_set(&err))
			err_internal(&err, "handler failed without an error");
	}
	if (rq.db)
		db_rollback(rq.db); /* a handler that forgot to commit must not leave a transaction open */
	if (rc < 0 && err.kind == ERRK_INTERNAL)
		log_error("%s %s: internal error: %s", m, url, err.message);

	char *body;
	size_t len = 0;
	unsigned status = 200;
	const char *type = NULL;
	if (rc == 0 && rq.raw_body) {
		body = rq.raw_body;
		len = rq.raw_len;
		type = rq.raw_type;
		status = rq.raw_status ? rq.raw_status : 200;
		rq.raw_body = NULL;
		json_decref(value);
	} else if (rc == 0) {
		status = rq.status ? rq.status : 200;
		body = reply_success(&rq, value, &len);
	} else {
		json_decref(value);
		body = reply_error(&rq, &err, &status, &len);
	}
	if (!route->no_audit)
		write_audit(&rq, rc == 0);
	if (rq.db)
		db_release(rq.db);
	snapshot_release(rq.snap);
	api_request_polctx_free(rq.pol);
	log_info("%s %s %u %.3fms", m, url, status, (reply_now() - rq.start) * 1000.0);
	json_decref(rq.params);
	json_decref(rq.scratch);
	json_decref(rq.detail);
	json_decref(rq.extra);
	json_decref(rq.who.claims);
	free(rq.raw_body);
	if (!body)
		return MHD_NO;
	return queue(conn, status, body, len, type);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct server *srv = cls;
	struct conn_state *st = *con_cls;
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		st->start = reply_now();
		*con_cls = st;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > srv->app->max_body) {
			st->too_large = 1;
			/* Answer before reading the body; MHD then closes the connection. */
			return queue_http_error(srv, conn, 413, MSG_413);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!st->too_large) {
			size_t n = *upload_data_size;
			if (st->len + n > srv->app->max_body) {
				st->too_large = 1;
				free(st->body);
				st->body = NULL;
				st->len = st->cap = 0;
			} else {
				if (st->len + n + 1 > st->cap) {
					size_t cap = st->cap ? st->cap : 4096;
					while (cap < st->len + n + 1)
						cap *= 2;
					char *b = realloc(st->body, cap);
					if (!b)
						return MHD_NO;
					st->body = b;
					st->cap = cap;
				}
				memcpy(st->body + st->len, upload_data, n);
				st->len += n;
				st->body[st->len] = '\0';
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (st->too_large)
		return queue_http_error(srv, conn, 413, MSG_413);
	return dispatch(srv, conn, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_state *st = *con_cls;
	if (st) {
		free(st->body);
		free(st);
		*con_cls = NULL;
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("microhttpd: %s", buf);
}

static int parse_listen(const char *listen_addr, struct sockaddr_storage *ss, struct error *err)
{
	char host[256];
	const char *colon = strrchr(listen_addr, ':');
	if (!colon)
		return err_param(err, "listen address '%s' is not ADDR:PORT", listen_addr);
	size_t hlen = (size_t)(colon - listen_addr);
	if (hlen >= sizeof(host))
		return err_param(err, "listen address too long");
	memcpy(host, listen_addr, hlen);
	host[hlen] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || colon[1] == '\0')
		return err_param(err, "bad port in listen address '%s'", listen_addr);
	memset(ss, 0, sizeof(*ss));
	char *h = host;
	if (h[0] == '[' && hlen > 1 && h[hlen - 1] == ']') {
		h[hlen - 1] = '\0';
		h++;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
	} else {
		return err_param(err, "listen address '%s' is not a numeric IP address", host);
	}
	return 0;
}

struct server *server_start(struct app *app, const char *listen_addr, int threads, struct error *err)
{
	struct sockaddr_storage ss;
	if (parse_listen(listen_addr, &ss, err) < 0)
		return NULL;
	struct server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		err_internal(err, "out of memory");
		return NULL;
	}
	srv->app = app;
	unsigned flags = MHD_USE_ERROR_LOG | MHD_USE_INTERNAL_POLLING_THREAD;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (threads <= 0)
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	else
		flags |= MHD_USE_EPOLL;
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_SOCK_ADDR, 0, &ss },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, 256 * 1024, NULL },
		{ MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL },
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL },
		{ threads > 0 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads > 0 ? threads : 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	srv->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!srv->d) {
		free(srv);
		err_set(err, ERRK_INTERNAL, ERR_INTERNAL, "cannot listen on %s (address in use or not permitted)",
			listen_addr);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di ? di->port : 0;
	return srv;
}

unsigned server_port(const struct server *s)
{
	return s->port;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
