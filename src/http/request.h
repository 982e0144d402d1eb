/*
 * request.h — one HTTP request as the handlers see it.
 *
 * The server fills it (method, path, merged parameters, caller identity),
 * calls the route's handler and turns what the handler returns into the
 * privacyIDEA envelope.  Everything hanging off a request is freed by the
 * server after the response is queued.
 */
#ifndef TESSERA_REQUEST_H
#define TESSERA_REQUEST_H

#include <jansson.h>
#include <stdint.h>
#include "../lib/error.h"

struct app;
struct db_conn;
struct route;
struct snapshot;
struct polctx;

enum role { ROLE_NONE = 0, ROLE_USER = 1, ROLE_ADMIN = 2, ROLE_ANY = 3 };

/* Who is calling, from the JWT. */
struct identity {
	enum role role;     /* ROLE_NONE when unauthenticated */
	char username[256];
	char realm[256];
	char resolver[256];
	json_t *claims;     /* the JWT payload (owned) */
};

/* What a request contributes to its audit row; handlers fill what they know. */
struct audit_info {
	int success;             /* -1 = follow the answer (ok/error), 0/1 = forced */
	char authentication[16]; /* ACCEPT / REJECT / CHALLENGE */
	char serial[64];
	char token_type[32];
	char user[256];
	char realm[256];
	char resolver[256];
	char administrator[256];
	char action_detail[256];
	char info[512];
	char policies[512];
};

struct request {
	struct app *app;
	const struct route *route;
	const char *method;          /* "GET", ... */
	const char *path;            /* URL path without query */
	const char *client_ip;       /* textual */
	void *conn;                  /* struct MHD_Connection*, for headers */
	json_t *params;              /* merged parameters (object, owned) */
	json_t *scratch;             /* request-lifetime strings made by param_str (owned) */
	struct identity who;
	struct db_conn *db;          /* lazily acquired, see request_db() */
	struct snapshot *snap;       /* lazily acquired, see request_snapshot() */
	struct polctx *pol;          /* lazily built by api_request_polctx() (malloc'd, freed by the server) */
	struct audit_info audit;
	int response_id;             /* 1, or 2 for /validate/check & co */
	const char *auth_result;     /* result.authentication for id-1 answers (/auth) */
	unsigned status;             /* HTTP status of a success answer, 0 = 200 */
	json_t *detail;              /* optional "detail" object (owned) */
	json_t *extra;               /* optional extra top-level keys (owned) */
	/* Non-JSON answers (CSV, PEM, DER, PNG): set body + type, value ignored. */
	char *raw_body;              /* malloc'd */
	size_t raw_len;
	const char *raw_type;
	unsigned raw_status;
	/* The request body exactly as received, for handlers whose body is neither a form nor
	 * JSON (OCSP's DER request).  Owned by the server, valid while the handler runs;
	 * body_len counts the bytes (binary bodies may contain NULs). */
	const char *body;
	size_t body_len;
	double start;                /* wall clock at arrival */
};

/* Handler: on success return 0 and store a new reference in *value
 * (result.value); on failure return -1 with err filled. */
typedef int (*handler_fn)(struct request *rq, json_t **value, struct error *err);

/* A request header (case-insensitive name) or NULL. */
const char *request_header(struct request *rq, const char *name);
/* The request's database connection, acquired on first use. */
struct db_conn *request_db(struct request *rq, struct error *err);
/* The configuration snapshot this request works with (one per request). */
struct snapshot *request_snapshot(struct request *rq, struct error *err);

/* ---- parameters (one helper for every handler; errors are privacyIDEA's 905) ----
 * Values may arrive as strings (query/form) or JSON types (JSON body);
 * the helpers convert as privacyIDEA's code does. */
/* String value or NULL when absent. Numbers/bools are rendered as text
 * (true → "True" as Python's str()). The pointer lives as long as rq. */
const char *param_str(struct request *rq, const char *name);
/* Required string: absent → ERR905 "Missing parameter: 'name'". */
int param_req(struct request *rq, const char *name, const char **out, struct error *err);
/* Integer: absent → def; not an integer → ERR905. */
int param_int(struct request *rq, const char *name, long long def, long long *out, struct error *err);
/* Boolean as privacyIDEA's is_true(): 1, "1", true, "True", "true", "TRUE". */
int param_bool(struct request *rq, const char *name, int def);
int param_has(struct request *rq, const char *name);

#endif
