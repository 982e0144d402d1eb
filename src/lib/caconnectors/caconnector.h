/*
 * caconnector.h — the CA connector plug-in family (privacyIDEA's
 * lib/caconnectors: BaseCAConnector, LocalCAConnector, MSCAConnector).
 *
 * One file (or small file group) per type exports one const struct
 * caconnector_type; caconnectors.c lists them.  An instance (struct
 * caconnector) is built from a connector definition — the key/value
 * parameters exactly as privacyIDEA names them (values are JSON strings as
 * stored in caconnectorconfig; integers and booleans are accepted too;
 * passwords already decrypted) — and is shared by all worker threads:
 * implementations must be thread-safe and must also tolerate other
 * processes (a second Tessera, an admin running `openssl ca`) working on
 * the same CA at the same time.
 *
 * Who uses this: the certificate token (sign, revoke, pending requests),
 * the /caconnector/ endpoints (parameter table: validation, censoring of
 * password parameters, description), `tessera ca ...` (create_ca,
 * create_crl), and the CRL / OCSP endpoints (get_crl, ocsp_respond).
 *
 * Error convention (SQLite/STYLE.md): 0 = ok, -1 = error with err filled
 * (kind ERRK_PI) with privacyIDEA's codes:
 *   ERR_CA  503 CAError   — the CA could not do its work (files, key,
 *                           configuration, locking, I/O).
 *   ERR_CSR 504 CSRError  — the request was refused (not a PKCS#10/SPKAC,
 *                           bad signature, too large, subject policy,
 *                           unknown template).
 *   ERR_CSR_PENDING 505   — see sign_request: not an error, returned as
 *                           CACONN_PENDING with err filled as well so a
 *                           caller that only checks "!= 0" still reports
 *                           privacyIDEA's CSRPending.
 * Messages never contain the CA key passphrase.  Nothing here calls
 * exit()/abort() or spawns a process.
 */
#ifndef TESSERA_CACONNECTOR_H
#define TESSERA_CACONNECTOR_H

#include <stddef.h>
#include <jansson.h>
#include "../error.h"

/* ---- parameters as data ------------------------------------------------ */

/* Parameter types.  CAP_PASSWORD values are stored encrypted and shown as
 * "__CENSORED__" on GET; CAP_PATH is a file system path (a string). */
enum caconnector_ptype { CAP_STRING, CAP_INT, CAP_BOOL, CAP_PASSWORD, CAP_PATH };

struct caconnector_param {
	const char *name;
	enum caconnector_ptype type;
	int required;
	const char *def;         /* default as text, or NULL */
	const char *description;
};

/* ---- sign_request ------------------------------------------------------ */

/* Options of one signing request (privacyIDEA's options dict).  A template
 * (local CA: an entry of the templates YAML file; MS CA: a template name)
 * overrides days and extensions; without one, days 0 means the type's
 * default (local: 365) and extensions NULL the default section (local:
 * "server", as privacyIDEA). */
struct caconnector_sign_options {
	const char *template_name; /* NULL/"" = none */
	int days;                  /* 0 = default */
	const char *extensions;    /* openssl.cnf section, NULL = default */
	int spkac;                 /* request is SPKAC text, not a PEM PKCS#10 */
};

/* What sign_request produced; all strings malloc'd, freed by
 * caconnector_result_free (which also zeroes the struct). */
struct caconnector_result {
	char *request_id;  /* "0" when issued at once (privacyIDEA's local CA;
			    * the token does not store it), else the id to poll */
	char *certificate; /* PEM, NULL while pending */
	char *serial;      /* hex serial as in index.txt ("1000"), NULL while pending */
};
void caconnector_result_free(struct caconnector_result *r);

/* sign_request returns this (> 0) when the request waits for approval. */
#define CACONN_PENDING 1
/* create_crl returns this (> 0) when the existing CRL is still fresh. */
#define CACONN_CRL_NOT_NEEDED 1

/* Status of a request; the values are the Microsoft CA dispositions the
 * certificate token already understands (2 denied, 3 issued, 5 pending). */
enum caconnector_cr_status {
	CACONN_CR_UNKNOWN = 0,
	CACONN_CR_DENIED = 2,
	CACONN_CR_ISSUED = 3,
	CACONN_CR_PENDING = 5,
};

/* ---- the type ---------------------------------------------------------- */

struct caconnector;

struct caconnector_type {
	const char *name;        /* "local" */
	const char *description;
	const struct caconnector_param *params; /* terminated by { NULL } */

	/* Build an instance from a definition (object of name → value).  The
	 * parameters are checked against the table (required, int, bool); files
	 * are not opened yet — a definition may be stored before its CA exists,
	 * as in privacyIDEA.  -1 with CAError "required argument 'x' is missing." */
	struct caconnector *(*create)(const char *name, const json_t *config, struct error *err);
	/* Frees everything, wiping secrets.  NULL is allowed. */
	void (*destroy)(struct caconnector *c);
	/* Open every file the instance needs (key, certificate, configuration,
	 * templates) and check that they fit together.  For "test the
	 * connector" in the UI and for `tessera ca list -v`. */
	int (*check)(struct caconnector *c, struct error *err);

	/* Sign a request.  0: issued, *res filled.  CACONN_PENDING: the request
	 * waits (approval mode / a CA manager), res->request_id set, certificate
	 * NULL, err filled with ERR_CSR_PENDING.  -1: error (504 for the request's
	 * fault, 503 for the CA's), res untouched.  The caller frees res in
	 * the first two cases. */
	int (*sign_request)(struct caconnector *c, const char *request,
			    const struct caconnector_sign_options *opt, struct caconnector_result *res,
			    struct error *err);
	/* Revoke a certificate (PEM; text before the PEM block is ignored, so
	 * detail.certificate works) — or, with cert_pem NULL, the certificate of
	 * request_id.  reason: privacyIDEA's CRL_REASONS (unspecified,
	 * keyCompromise, CACompromise, affiliationChanged, superseded,
	 * cessationOfOperation) plus certificateHold; NULL = unspecified.  The CRL
	 * is regenerated.  *serial_hex (optional, malloc'd) = the revoked serial
	 * as privacyIDEA returns it ("1000"). */
	int (*revoke_cert)(struct caconnector *c, const char *cert_pem, const char *request_id,
			   const char *reason, char **serial_hex, struct error *err);
	/* Write a new CRL.  force = 0: only when now + CRL_Overlap_Period is past
	 * the current CRL's nextUpdate (or there is none) — privacyIDEA's
	 * check_validity.  0 = written, CACONN_CRL_NOT_NEEDED, -1 = error. */
	int (*create_crl)(struct caconnector *c, int force, struct error *err);
	/* Templates: new object name → {"days": n, "extensions": "section"}
	 * (local: the YAML file as loaded; {} without one). */
	int (*get_templates)(struct caconnector *c, json_t **templates, struct error *err);
	/* Status of a request id (unknown ids are CACONN_CR_UNKNOWN, not errors). */
	int (*get_cr_status)(struct caconnector *c, const char *request_id,
			     enum caconnector_cr_status *status, struct error *err);
	/* The PEM certificate of an issued request (malloc'd). */
	int (*get_issued_certificate)(struct caconnector *c, const char *request_id, char **pem,
				      struct error *err);
	/* Options for GET /caconnector/specific/<type> (new object; {} if none). */
	int (*get_specific_options)(struct caconnector *c, json_t **options, struct error *err);

	/* ---- beyond privacyIDEA ---- */
	/* The current CRL, PEM text or DER (der != 0), malloc'd.  Regenerated
	 * first when missing or within the overlap period, so a CRL distribution
	 * point never serves a stale list. */
	int (*get_crl)(struct caconnector *c, int der, unsigned char **data, size_t *len,
		       struct error *err);
	/* RFC 6960 responder: DER OCSPRequest in, DER OCSPResponse out
	 * (malloc'd).  Signed by the CA key (responder id by name, CA
	 * certificate included), good / revoked (time, reason) / unknown from
	 * the CA database, the nonce echoed.  A request that does not parse
	 * gets a DER malformedRequest response (still 0).  -1 (CAError) when the
	 * CA cannot answer; the caller then sends internalError
	 * (DER 30 03 0a 01 02). */
	int (*ocsp_respond)(struct caconnector *c, const unsigned char *req, size_t req_len,
			    unsigned char **resp, size_t *resp_len, struct error *err);
	/* Approval mode: issue / refuse a pending request.  approve → the
	 * request is signed now (serial assigned now); a request the CA refuses at
	 * that point (504) becomes denied, a CA failure (503) leaves it pending. */
	int (*approve)(struct caconnector *c, const char *request_id, struct error *err);
	int (*reject)(struct caconnector *c, const char *request_id, const char *reason,
		      struct error *err);
	/* All requests of approval mode: new array of {"request_id", "state"
	 * ("pending"/"issued"/"denied"), "subject", "template", "created",
	 * "serial"?, "reason"?}, oldest first. */
	int (*list_requests)(struct caconnector *c, json_t **list, struct error *err);
};

struct caconnector {
	const struct caconnector_type *type;
	char *name;
	void *priv;
};

/* ---- the registry (caconnectors.c) -------------------------------------- */

const struct caconnector_type *caconnector_type_find(const char *name);
/* NULL-terminated list of all types. */
extern const struct caconnector_type *const caconnector_types[];

/* Create an instance of the named type ("local"); CAError for an unknown type. */
struct caconnector *caconnector_create(const char *type, const char *name, const json_t *config,
				       struct error *err);
void caconnector_destroy(struct caconnector *c);

/* ---- helpers shared by the implementations and the API ------------------ */

/* Value of a config key as text: strings as they are, integers and
 * booleans formatted ("30", "1"/"0"); def when absent, null or empty. */
const char *caconnector_cfg_str(const json_t *config, const char *key, const char *def,
				char *buf, size_t buflen);
/* Check a definition against a type's table: required keys present and not
 * empty, CAP_INT values integers, CAP_BOOL values booleans. */
int caconnector_check_params(const struct caconnector_type *t, const json_t *config,
			     struct error *err);
/* Parse a boolean as privacyIDEA's is_true: 1/true/True/yes/on → 1. */
int caconnector_parse_bool(const char *s);
/* A copy of config with every CAP_PASSWORD value replaced by "__CENSORED__". */
json_t *caconnector_censor_config(const struct caconnector_type *t, const json_t *config);
/* privacyIDEA's get_caconnector_description: {"local": {"cakey": "string",
 * "CRL_Overlap_Period": "int", "cakey_password": "password", ...}}. */
json_t *caconnector_type_description(const struct caconnector_type *t);

/* A certificate as privacyIDEA's detail.certificate shows it: the
 * `openssl x509 -text` dump (X509_print) followed by the PEM block, exactly
 * what `openssl ca -out` writes.  pem may carry text before its PEM block.
 * Returns malloc'd text or NULL with CAError. */
char *caconnector_cert_text(const char *pem, struct error *err);

/* ---- type "local": creating a CA (backs `tessera ca create`) ------------- */

enum caconnector_keytype { CACONN_KEY_RSA = 0, CACONN_KEY_EC_P256, CACONN_KEY_EC_P384 };

struct caconnector_local_ca_spec {
	const char *dir;      /* created if missing (0700); must not hold a CA yet */
	const char *name;     /* connector name ("caconnector" in the result) */
	enum caconnector_keytype key_type;
	int rsa_bits;         /* 2048..4096 (RSA only), 0 = 4096 as privacyIDEA */
	int days;             /* CA validity, 0 = 1800 */
	const char *dn;       /* "/CN=x/O=y" (openssl -subj form), NULL = "/CN=<name>" */
	int crl_days;         /* 0 = 30 */
	int crl_overlap;      /* 0 = 5 (privacyIDEA's create_ca default) */
	const char *key_password; /* NULL = unencrypted key; else AES-256 PKCS#8 */
};

/* Write a complete CA that both this connector and `openssl ca -config
 * <dir>/openssl.cnf` can use: openssl.cnf (policy_anything; sections
 * usr_cert, user, server, ocsp, v3_ca, crl_ext; unique_subject = no),
 * templates.yaml (user: 365 days/user, webserver: 750 days/server),
 * cakey.pem (0600), a self-signed cacert.pem, index.txt (+ .attr),
 * serial 1000, crlnumber 1000 and a first crl.pem.  *params (new object of
 * strings) is the connector definition, as privacyIDEA's create_ca returns
 * it: type, caconnector, WorkingDir, cacert, cakey, CertificateDir, CSRDir,
 * CRL, CRL_Validity_Period, CRL_Overlap_Period, openssl.cnf, templates
 * (+ cakey_password when given).  On error nothing is left behind. */
int caconnector_local_create_ca(const struct caconnector_local_ca_spec *spec, json_t **params,
				struct error *err);

#endif
