/*
 * local_request.c — approval mode of the local CA connector (approval =
 * true, beyond privacyIDEA).  sign_request does not sign: after every check
 * it stores the request as CSRDir/request-<id>.json and answers
 * CSRPending; a CA manager later approves (the request is signed then) or
 * rejects it, and the certificate token polls get_cr_status /
 * get_issued_certificate exactly as it does with a Microsoft CA.
 *
 * A record is one JSON object, replaced atomically (temp + rename):
 *   {"request_id", "state": "pending"|"issued"|"denied", "created",
 *    "decided", "subject", "template", "days", "extensions", "spkac",
 *    "request" (the text as submitted), "serial", "certificate" (PEM),
 *    "reason"}
 * Ids are 128 random bits in hex; anything else is an unknown id, so an id
 * never reaches the file system unchecked.  State changes hold
 * CSRDir/.requests.lock (not the CA lock, which issuing takes itself).
 */
#include "local_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#define ID_LEN 32

static int valid_id(const char *id)
{
	return id && strlen(id) == ID_LEN && strspn(id, "0123456789abcdef") == ID_LEN;
}

static char *path_of(const struct calocal *l, const char *name)
{
	size_t n = strlen(l->csrdir) + strlen(name) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", l->csrdir, name);
	return s;
}

static char *record_path(const struct calocal *l, const char *id)
{
	char name[ID_LEN + 16];
	snprintf(name, sizeof(name), "request-%s.json", id);
	return path_of(l, name);
}

static void now_iso(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* 0 = loaded, 1 = no such record, -1 = error. */
static int record_load(const struct calocal *l, const char *id, json_t **rec, struct error *err)
{
	char *path, *data;
	json_error_t je;
	*rec = NULL;
	if (!l->csrdir || !valid_id(id))
		return 1;
	if (!(path = record_path(l, id)))
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	if (access(path, F_OK) != 0) {
		free(path);
		return 1;
	}
	if (calocal_read_file(path, LOCAL_MAX_SMALL_FILE, &data, NULL, err) != 0) {
		free(path);
		return -1;
	}
	*rec = json_loads(data, 0, &je);
	free(data);
	if (!*rec || !json_is_object(*rec)) {
		json_decref(*rec);
		*rec = NULL;
		err_set(err, ERRK_PI, ERR_CA, "request record %s is damaged", path);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

static int record_save(const struct calocal *l, const char *id, const json_t *rec,
		       struct error *err)
{
	char *path = record_path(l, id);
	char *text = json_dumps(rec, JSON_SORT_KEYS | JSON_INDENT(1));
	int rc = -1;
	if (!path || !text)
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
	else
		rc = calocal_write_file(path, text, strlen(text), 0644, err);
	free(path);
	free(text);
	return rc;
}

static const char *rec_str(const json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));
	return s ? s : "";
}

int calocal_request_submit(struct calocal *l, const char *request_text, int spkac, X509_REQ *req,
			 const char *template_name, long days, const char *ext, char **request_id,
			 struct error *err)
{
	unsigned char rnd[ID_LEN / 2];
	char id[ID_LEN + 1], created[32];
	char *subject = X509_NAME_oneline(X509_REQ_get_subject_name(req), NULL, 0);
	json_t *rec;
	int rc;

	*request_id = NULL;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1 || !subject) {
		ERR_clear_error();
		OPENSSL_free(subject);
		return err_set(err, ERRK_PI, ERR_CA, "cannot create a request id");
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	now_iso(created, sizeof(created));
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:s, s:b, s:s}", "request_id", id,
			"state", "pending", "created", created, "subject", subject, "template",
			template_name && *template_name ? template_name : NULL, "days",
			(json_int_t)days, "extensions", ext, "spkac", spkac != 0, "request",
			request_text);
	OPENSSL_free(subject);
	if (!rec)
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	rc = record_save(l, id, rec, err);
	json_decref(rec);
	if (rc == 0 && !(*request_id = strdup(id)))
		rc = err_set(err, ERRK_PI, ERR_CA, "out of memory");
	return rc;
}

int calocal_request_status(struct calocal *l, const char *id, enum caconnector_cr_status *st,
			 struct error *err)
{
	json_t *rec;
	int rc = record_load(l, id, &rec, err);
	const char *s;
	*st = CACONN_CR_UNKNOWN;
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	s = rec_str(rec, "state");
	if (strcmp(s, "pending") == 0)
		*st = CACONN_CR_PENDING;
	else if (strcmp(s, "issued") == 0)
		*st = CACONN_CR_ISSUED;
	else if (strcmp(s, "denied") == 0)
		*st = CACONN_CR_DENIED;
	json_decref(rec);
	return 0;
}

int calocal_request_certificate(struct calocal *l, const char *id, char **pem, struct error *err)
{
	json_t *rec;
	int rc = record_load(l, id, &rec, err);
	const char *state;
	*pem = NULL;
	if (rc < 0)
		return -1;
	if (rc > 0)
		return err_set(err, ERRK_PI, ERR_CA, "unknown request id %s", id ? id : "");
	state = rec_str(rec, "state");
	if (strcmp(state, "issued") != 0 || !json_is_string(json_object_get(rec, "certificate")))
		rc = err_set(err, ERRK_PI, ERR_CA, "request %s is %s, no certificate was issued", id,
			     state);
	else if (!(*pem = strdup(rec_str(rec, "certificate"))))
		rc = err_set(err, ERRK_PI, ERR_CA, "out of memory");
	json_decref(rec);
	return rc;
}

/* Load a record for a state change, holding the requests lock. */
static int begin_change(struct calocal *l, const char *id, json_t **rec, int *lock,
			struct error *err)
{
	char *lockfile;
	int rc;
	*lock = -1;
	*rec = NULL;
	if (!l->csrdir || !valid_id(id))
		return err_set(err, ERRK_PI, ERR_CA, "unknown request id %s", id ? id : "");
	if (!(lockfile = path_of(l, ".requests.lock")))
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	*lock = calocal_lock(lockfile, 1, err);
	free(lockfile);
	if (*lock < 0)
		return -1;
	rc = record_load(l, id, rec, err);
	if (rc > 0)
		rc = err_set(err, ERRK_PI, ERR_CA, "unknown request id %s", id);
	else if (rc == 0 && strcmp(rec_str(*rec, "state"), "pending") != 0)
		rc = err_set(err, ERRK_PI, ERR_CA, "request %s is %s, not pending", id,
			     rec_str(*rec, "state"));
	if (rc != 0) {
		json_decref(*rec);
		*rec = NULL;
		calocal_unlock(*lock);
		*lock = -1;
	}
	return rc;
}

static int decide(struct calocal *l, const char *id, json_t *rec, const char *state,
		  struct error *err)
{
	char when[32];
	now_iso(when, sizeof(when));
	json_object_set_new(rec, "state", json_string(state));
	json_object_set_new(rec, "decided", json_string(when));
	return record_save(l, id, rec, err);
}

int calocal_request_approve(struct calocal *l, const char *id, struct error *err)
{
	struct calocal_conf *c = NULL;
	struct calocal_keys *k = NULL;
	struct calocal_issued issued = { 0 };
	X509_REQ *req = NULL;
	json_t *rec = NULL;
	char *pem = NULL;
	int lock = -1, rc = -1;
	long days;
	const char *ext;

	if (begin_change(l, id, &rec, &lock, err) != 0)
		return -1;
	if (calocal_conf_get(l, &c, err) != 0 || calocal_keys_get(l, &k, err) != 0)
		goto out;
	days = (long)json_integer_value(json_object_get(rec, "days"));
	ext = rec_str(rec, "extensions");
	if (calocal_parse_request(c, rec_str(rec, "request"),
				json_is_true(json_object_get(rec, "spkac")), &req, err) != 0 ||
	    calocal_issue(l, c, k, req, rec_str(rec, "request"),
			json_is_true(json_object_get(rec, "spkac")), days > 0 ? days : 365,
			*ext ? ext : "server", &issued, err) != 0) {
		/* the CA refuses this request for good: tell the requester */
		if (err && err->code == ERR_CSR) {
			json_object_set_new(rec, "reason", json_string(err->message));
			decide(l, id, rec, "denied", NULL);
		}
		goto out;
	}
	if (!(pem = calocal_pem_of(issued.cert))) {
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		goto out;
	}
	json_object_set_new(rec, "serial", json_string(issued.serial));
	json_object_set_new(rec, "certificate", json_string(pem));
	rc = decide(l, id, rec, "issued", err);
out:
	calocal_unlock(lock);
	calocal_issued_free(&issued);
	X509_REQ_free(req);
	json_decref(rec);
	free(pem);
	calocal_conf_put(c);
	calocal_keys_put(k);
	return rc;
}

int calocal_request_reject(struct calocal *l, const char *id, const char *reason, struct error *err)
{
	json_t *rec;
	int lock, rc;
	if (begin_change(l, id, &rec, &lock, err) != 0)
		return -1;
	json_object_set_new(rec, "reason", json_string(reason && *reason ? reason : "rejected"));
	rc = decide(l, id, rec, "denied", err);
	calocal_unlock(lock);
	json_decref(rec);
	return rc;
}

static int by_created(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(rec_str(x, "created"), rec_str(y, "created"));
	return c ? c : strcmp(rec_str(x, "request_id"), rec_str(y, "request_id"));
}

int calocal_request_list(struct calocal *l, json_t **list, struct error *err)
{
	static const char *const keys[] = { "request_id", "state", "subject", "template",
					    "created", "decided", "serial", "reason", NULL };
	json_t **items = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = -1;

	*list = NULL;
	if (!l->csrdir || !(d = opendir(l->csrdir))) {
		*list = json_array();
		return *list ? 0 : err_set(err, ERRK_PI, ERR_CA, "out of memory");
	}
	while ((de = readdir(d)) != NULL) {
		char id[ID_LEN + 1];
		json_t *rec, *sum;
		if (strlen(de->d_name) != 8 + ID_LEN + 5 || strncmp(de->d_name, "request-", 8) != 0 ||
		    strcmp(de->d_name + 8 + ID_LEN, ".json") != 0)
			continue;
		memcpy(id, de->d_name + 8, ID_LEN);
		id[ID_LEN] = '\0';
		if (record_load(l, id, &rec, NULL) != 0)
			continue;
		if (!(sum = json_object())) {
			json_decref(rec);
			goto out;
		}
		for (size_t i = 0; keys[i]; i++) {
			json_t *v = json_object_get(rec, keys[i]);
			if (v && !json_is_null(v))
				json_object_set(sum, keys[i], v);
		}
		json_decref(rec);
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			json_t **ni = reallocarray(items, nc, sizeof(*ni));
			if (!ni) {
				json_decref(sum);
				goto out;
			}
			items = ni;
			cap = nc;
		}
		items[n++] = sum;
	}
	if (n)
		qsort(items, n, sizeof(*items), by_created);
	if (!(*list = json_array()))
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(*list, items[i]);
		items[i] = NULL;
	}
	rc = 0;
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		json_decref(items[i]);
	free(items);
	if (rc != 0)
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
	return rc;
}
