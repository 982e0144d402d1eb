/*
 * ldap_pool.c — servers, TLS and connections of one LDAP resolver
 * instance (interface in ldap_int.h).
 *
 * Server pool, as privacyIDEA's ldap3 ServerPool (ROUND_ROBIN, active =
 * SERVERPOOL_ROUNDS, exhaust = SERVERPOOL_SKIP), except that the knowledge
 * about unreachable servers lives as long as the instance (privacyIDEA's
 * SERVERPOOL_PERSISTENT behaviour) and that no pause is made between
 * rounds, so an unreachable pool fails within TIMEOUT per attempt.  When
 * every server is marked unreachable they are all tried anyway: a single
 * server that recovers must not stay unusable for SERVERPOOL_SKIP seconds.
 *
 * TLS is configured on each LDAP handle (LDAP_OPT_X_TLS_* followed by
 * LDAP_OPT_X_TLS_NEWCTX); libldap's global defaults are never changed.
 *
 * Must not: log BINDPW or a user's password, or keep a user-bound
 * connection (bind checks use a connection of their own).
 */
#include "ldap_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../log.h"

#define POOL_IDLE_MAX 8

struct server {
	char *uri; /* canonical "ldap[s]://host:port" */
	int ldaps;
	long long dead_until; /* monotonic seconds; 0 = usable */
};

struct conn {
	LDAP *ld;
	unsigned gen; /* pool generation when opened */
};

struct ldapres_pool {
	struct server *srv;
	size_t nsrv;
	int timeout, rounds, skip, start_tls, tls_verify, noreferrals;
	enum ldapres_pool_strategy strategy;
	int tls_min, tls_max; /* LDAP_OPT_X_TLS_PROTOCOL_* or 0 */
	char *ca_file;
	char *binddn; /* NULL = anonymous */
	char *bindpw;

	pthread_mutex_t lock; /* guards everything below */
	unsigned rr;          /* round-robin position */
	unsigned gen;         /* bumped when idle connections are flushed */
	struct conn idle[POOL_IDLE_MAX];
	size_t nidle;
};

static long long mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void ldapres_pool_describe(LDAP *ld, int rc, char *buf, size_t len)
{
	char *diag = NULL;
	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	/* After a failed TLS handshake libldap's diagnostic is a useless
	 * "(unknown error code)": leave it out (open_one adds a hint). */
	if (diag && *diag && strcmp(diag, "(unknown error code)") != 0)
		snprintf(buf, len, "%s: %s", ldap_err2string(rc), diag);
	else
		snprintf(buf, len, "%s", ldap_err2string(rc));
	if (diag)
		ldap_memfree(diag);
}

/* One LDAPURI entry → canonical URI.  Bare "host" or "host:port" means ldap://. */
static int parse_one_uri(const char *entry, struct server *s, struct error *err)
{
	char buf[1024];
	LDAPURLDesc *lud = NULL;
	int rc = -1;

	if (strlen(entry) > sizeof(buf) - 16)
		goto bad;
	if (strstr(entry, "://"))
		snprintf(buf, sizeof(buf), "%s", entry);
	else
		snprintf(buf, sizeof(buf), "ldap://%s", entry);
	if (ldap_url_parse(buf, &lud) != LDAP_URL_SUCCESS || !lud->lud_host || !*lud->lud_host)
		goto bad;
	if (strcasecmp(lud->lud_scheme, "ldap") != 0 && strcasecmp(lud->lud_scheme, "ldaps") != 0)
		goto bad;
	s->ldaps = strcasecmp(lud->lud_scheme, "ldaps") == 0;
	int port = lud->lud_port > 0 ? lud->lud_port : (s->ldaps ? 636 : 389);
	int v6 = strchr(lud->lud_host, ':') != NULL;
	size_t n = strlen(lud->lud_host) + 32;
	s->uri = malloc(n);
	if (!s->uri) {
		rc = err_internal(err, "out of memory");
		goto out;
	}
	snprintf(s->uri, n, "%s://%s%s%s:%d", s->ldaps ? "ldaps" : "ldap", v6 ? "[" : "", lud->lud_host,
		 v6 ? "]" : "", port);
	rc = 0;
	goto out;
bad:
	rc = err_param(err, "Invalid LDAPURI entry '%s'", entry);
out:
	if (lud)
		ldap_free_urldesc(lud);
	return rc;
}

static int parse_uris(struct ldapres_pool *p, const char *list, struct error *err)
{
	char *copy = strdup(list ? list : ""), *save = NULL;
	if (!copy)
		return err_internal(err, "out of memory");
	size_t cap = 1;
	for (const char *c = copy; *c; c++)
		cap += *c == ',';
	p->srv = calloc(cap, sizeof(*p->srv));
	if (!p->srv) {
		free(copy);
		return err_internal(err, "out of memory");
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		char *end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*tok)
			continue;
		if (parse_one_uri(tok, &p->srv[p->nsrv], err) < 0) {
			free(copy);
			return -1;
		}
		p->nsrv++;
	}
	free(copy);
	if (p->nsrv == 0)
		return err_param(err, "Invalid LDAPURI: no server given");
	return 0;
}

/* privacyIDEA's TLS_VERSION (Python ssl protocol numbers): 2 = negotiate,
 * which privacyIDEA restricts to TLS 1.3; 3/4/5 = exactly TLS 1.0/1.1/1.2. */
static int parse_tls_version(struct ldapres_pool *p, int v, struct error *err)
{
	switch (v) {
	case 0:
	case 2:
		p->tls_min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_3;
		p->tls_max = 0;
		return 0;
	case 3:
		p->tls_min = p->tls_max = LDAP_OPT_X_TLS_PROTOCOL_TLS1_0;
		return 0;
	case 4:
		p->tls_min = p->tls_max = LDAP_OPT_X_TLS_PROTOCOL_TLS1_1;
		return 0;
	case 5:
		p->tls_min = p->tls_max = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
		return 0;
	default:
		return err_param(err, "Invalid TLS_VERSION %d (2 = negotiate TLS 1.3, 3 = TLS 1.0, "
				      "4 = TLS 1.1, 5 = TLS 1.2)", v);
	}
}

/* privacyIDEA's DEFAULT_CA_FILE: its own file if present, else the system bundle. */
static const char *default_ca_file(void)
{
	static const char *const cand[] = { "/etc/privacyidea/ldap-ca.crt", "/etc/ssl/certs/ca-certificates.crt",
					    "/etc/ssl/certs/ca-bundle.crt" };
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (access(cand[i], R_OK) == 0)
			return cand[i];
	return cand[0];
}

struct ldapres_pool *ldapres_pool_new(const struct ldapres_pool_cfg *cfg, struct error *err)
{
	struct ldapres_pool *p = calloc(1, sizeof(*p));
	if (!p) {
		err_internal(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->timeout = cfg->timeout > 0 ? cfg->timeout : 5;
	p->rounds = cfg->rounds > 0 ? cfg->rounds : 1;
	p->skip = cfg->skip >= 0 ? cfg->skip : 0;
	p->strategy = cfg->strategy;
	p->start_tls = cfg->start_tls;
	p->tls_verify = cfg->tls_verify;
	p->noreferrals = cfg->noreferrals;
	if (parse_uris(p, cfg->urilist, err) < 0 || parse_tls_version(p, cfg->tls_version, err) < 0)
		goto fail;
	const char *ca = cfg->tls_ca_file && *cfg->tls_ca_file ? cfg->tls_ca_file : default_ca_file();
	p->ca_file = strdup(ca);
	if (cfg->binddn && *cfg->binddn) {
		p->binddn = strdup(cfg->binddn);
		p->bindpw = strdup(cfg->bindpw ? cfg->bindpw : "");
		if (!p->binddn || !p->bindpw)
			goto oom;
	}
	if (!p->ca_file)
		goto oom;
	return p;
oom:
	err_internal(err, "out of memory");
fail:
	ldapres_pool_free(p);
	return NULL;
}

void ldapres_pool_free(struct ldapres_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nidle; i++)
		ldap_unbind_ext_s(p->idle[i].ld, NULL, NULL);
	for (size_t i = 0; i < p->nsrv; i++)
		free(p->srv[i].uri);
	free(p->srv);
	free(p->ca_file);
	free(p->binddn);
	wipe_free(p->bindpw);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Per-handle TLS context: verification, CA file, protocol versions. */
static int set_tls(struct ldapres_pool *p, LDAP *ld)
{
	int req = p->tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
	int server_side = 0;
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &req) != LDAP_OPT_SUCCESS)
		return LDAP_LOCAL_ERROR;
	if (p->tls_verify && ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, p->ca_file) != LDAP_OPT_SUCCESS)
		return LDAP_LOCAL_ERROR;
	if (p->tls_min && ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &p->tls_min) != LDAP_OPT_SUCCESS)
		return LDAP_LOCAL_ERROR;
	if (p->tls_max && ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MAX, &p->tls_max) != LDAP_OPT_SUCCESS)
		return LDAP_LOCAL_ERROR;
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &server_side) != LDAP_OPT_SUCCESS)
		return LDAP_LOCAL_ERROR;
	return LDAP_SUCCESS;
}

/* Connect to one server and simple-bind (dn NULL = anonymous).  Returns
 * the LDAP result code; on success *out holds the bound handle. */
static int open_one(struct ldapres_pool *p, const struct server *s, const char *dn, const char *pw, LDAP **out,
		    char *msg, size_t msglen)
{
	LDAP *ld = NULL;
	int rc = ldap_initialize(&ld, s->uri);
	if (rc != LDAP_SUCCESS) {
		snprintf(msg, msglen, "%s: %s", s->uri, ldap_err2string(rc));
		return rc;
	}
	int v3 = LDAP_VERSION3;
	struct timeval tv = { .tv_sec = p->timeout, .tv_usec = 0 };
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, p->noreferrals ? LDAP_OPT_OFF : LDAP_OPT_ON);
	ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON);

	int tls = s->ldaps || p->start_tls;
	if (tls && p->tls_verify && access(p->ca_file, R_OK) != 0) {
		snprintf(msg, msglen, "%s: TLS_CA_FILE %s is not readable", s->uri, p->ca_file);
		rc = LDAP_LOCAL_ERROR;
		goto fail;
	}
	if (tls && (rc = set_tls(p, ld)) != LDAP_SUCCESS) {
		snprintf(msg, msglen, "%s: cannot set up TLS (TLS_CA_FILE %s)", s->uri, p->ca_file);
		goto fail;
	}
	if (!s->ldaps && p->start_tls && (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS)
		goto fail_described;

	struct berval cred = { .bv_len = pw ? strlen(pw) : 0, .bv_val = (char *)(pw ? pw : "") };
	rc = ldap_sasl_bind_s(ld, dn ? dn : "", LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS)
		goto fail_described;
	*out = ld;
	return LDAP_SUCCESS;

fail_described: {
	char why[400];
	ldapres_pool_describe(ld, rc, why, sizeof(why));
	const char *hint = "";
	if (rc == LDAP_CONNECT_ERROR && tls)
		hint = " (TLS negotiation or certificate verification failed)";
	else if (rc == LDAP_SERVER_DOWN && s->ldaps)
		hint = " (no connection, or TLS negotiation / certificate verification failed)";
	snprintf(msg, msglen, "%s: %s%s", s->uri, why, hint);
}
fail:
	ldap_unbind_ext_s(ld, NULL, NULL);
	return rc;
}

/* The server answered but refused: failing over would not help. */
static int is_definitive(int rc)
{
	return rc > 0 && rc != LDAP_UNAVAILABLE && rc != LDAP_BUSY;
}

/* Walk the server pool: `rounds` rounds, each trying every server that is
 * not marked unreachable, starting where the strategy says.  Returns
 * LDAP_SUCCESS (*out bound), a definitive bind result, or the last
 * connection error with msg describing it. */
static int pool_connect(struct ldapres_pool *p, const char *dn, const char *pw, LDAP **out, char *msg,
			size_t msglen)
{
	int rc = LDAP_SERVER_DOWN;
	size_t start;

	pthread_mutex_lock(&p->lock);
	switch (p->strategy) {
	case LDAPRES_POOL_FIRST:
		start = 0;
		break;
	case LDAPRES_POOL_RANDOM:
		start = (size_t)random() % p->nsrv;
		break;
	default:
		start = p->rr++ % p->nsrv;
	}
	pthread_mutex_unlock(&p->lock);

	snprintf(msg, msglen, "no server tried");
	for (int round = 0; round < p->rounds; round++) {
		for (size_t i = 0; i < p->nsrv; i++) {
			struct server *s = &p->srv[(start + i) % p->nsrv];
			long long now = mono_now();
			int dead, any_alive = 0;

			pthread_mutex_lock(&p->lock);
			dead = s->dead_until > now;
			for (size_t k = 0; k < p->nsrv; k++)
				any_alive |= p->srv[k].dead_until <= now;
			pthread_mutex_unlock(&p->lock);
			if (dead && any_alive)
				continue;

			rc = open_one(p, s, dn, pw, out, msg, msglen);
			pthread_mutex_lock(&p->lock);
			if (rc == LDAP_SUCCESS || is_definitive(rc))
				s->dead_until = 0;
			else
				s->dead_until = mono_now() + p->skip;
			pthread_mutex_unlock(&p->lock);
			if (rc == LDAP_SUCCESS || is_definitive(rc))
				return rc;
			log_warning("LDAP server failed, skipped for %d s: %s", p->skip, msg);
		}
	}
	return rc;
}

static int conn_acquire(struct ldapres_pool *p, struct conn *c, struct error *err)
{
	pthread_mutex_lock(&p->lock);
	if (p->nidle > 0) {
		*c = p->idle[--p->nidle];
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	c->gen = p->gen;
	pthread_mutex_unlock(&p->lock);

	char msg[600];
	int rc = pool_connect(p, p->binddn, p->bindpw, &c->ld, msg, sizeof(msg));
	if (rc == LDAP_SUCCESS)
		return 0;
	if (is_definitive(rc))
		return err_set(err, ERRK_PI, ERR_USER, "LDAP bind failed (%s): %s",
			       p->binddn ? "BINDDN" : "anonymous", msg);
	return err_set(err, ERRK_PI, ERR_USER, "No LDAP server reachable (%zu server%s, %d round%s): %s",
		       p->nsrv, p->nsrv == 1 ? "" : "s", p->rounds, p->rounds == 1 ? "" : "s", msg);
}

static void conn_release(struct ldapres_pool *p, struct conn *c, int broken)
{
	if (!broken) {
		pthread_mutex_lock(&p->lock);
		if (c->gen == p->gen && p->nidle < POOL_IDLE_MAX) {
			p->idle[p->nidle++] = *c;
			c->ld = NULL;
		}
		pthread_mutex_unlock(&p->lock);
	}
	if (c->ld)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
}

/* The server went away: every idle connection is probably dead too. */
static void pool_flush(struct ldapres_pool *p)
{
	struct conn old[POOL_IDLE_MAX];
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->nidle;
	memcpy(old, p->idle, n * sizeof(old[0]));
	p->nidle = 0;
	p->gen++;
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < n; i++)
		ldap_unbind_ext_s(old[i].ld, NULL, NULL);
}

static int is_conn_lost(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR;
}

int ldapres_pool_run(struct ldapres_pool *p, ldapres_pool_op op, void *ctx, int *ldap_rc, struct error *err)
{
	for (int attempt = 0;; attempt++) {
		struct conn c = { 0 };
		if (conn_acquire(p, &c, err) < 0)
			return -1;
		int rc = op(c.ld, ctx);
		int lost = is_conn_lost(rc);
		conn_release(p, &c, lost);
		if (lost && attempt == 0) {
			log_info("LDAP connection lost (%s), reconnecting", ldap_err2string(rc));
			pool_flush(p);
			continue;
		}
		*ldap_rc = rc;
		return 0;
	}
}

int ldapres_pool_bind_check(struct ldapres_pool *p, const char *dn, const char *password, struct error *err)
{
	char msg[600];
	LDAP *ld = NULL;

	/* An empty password would be an unauthenticated bind, which many
	 * servers accept as anonymous: never a proof of identity. */
	if (!dn || !*dn || !password || !*password)
		return 1;
	int rc = pool_connect(p, dn, password, &ld, msg, sizeof(msg));
	if (rc == LDAP_SUCCESS) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		return 0;
	}
	if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH || rc == LDAP_UNWILLING_TO_PERFORM) {
		log_info("LDAP bind as %s refused: %s", dn, msg);
		return 1;
	}
	if (is_definitive(rc))
		return err_set(err, ERRK_PI, ERR_USER, "LDAP password check failed: %s", msg);
	return err_set(err, ERRK_PI, ERR_USER, "No LDAP server reachable (%zu server%s, %d round%s): %s",
		       p->nsrv, p->nsrv == 1 ? "" : "s", p->rounds, p->rounds == 1 ? "" : "s", msg);
}
