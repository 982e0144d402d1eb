/*
 * local_internal.h — private interface between the files of the "local" CA
 * connector (privacyIDEA's LocalCAConnector done with OpenSSL 3 library
 * calls instead of `openssl ca`).  Not for use outside this folder.
 *
 *   local.c          the type: parameters, instance, cached files, entry points
 *   local_sign.c     requests (PKCS#10, SPKAC), subject policy, issuing
 *   local_db.c       the `openssl ca` database: index.txt (+ .attr), serial
 *                    and crlnumber files, the lock, atomic file writes
 *   local_crl.c      CRL generation and freshness check, revocation
 *   local_ocsp.c     the RFC 6960 responder
 *   local_request.c  approval mode: pending request records in CSRDir
 *   local_template.c the templates YAML file
 *   local_ca.c       caconnector_local_create_ca
 *
 * Compatibility rule for everything that touches the CA directory: the
 * result must be what `openssl ca` (OpenSSL 3.0, apps/ca.c) would have
 * written, so admins can keep using OpenSSL's tools on the same CA.
 */
#ifndef TESSERA_CACONNECTOR_LOCAL_INTERNAL_H
#define TESSERA_CACONNECTOR_LOCAL_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "caconnector.h"

/* Inputs larger than this are refused before parsing (CSRError). */
#define LOCAL_MAX_REQUEST (32 * 1024)
/* Files we read whole (index.txt may grow; key/cert/CRL/YAML are small). */
#define LOCAL_MAX_SMALL_FILE (4 * 1024 * 1024)
#define LOCAL_MAX_INDEX (512 * 1024 * 1024)

/* Identity of a file version: a changed file is reloaded. */
struct calocal_fid {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* openssl.cnf (+ templates) as loaded, with the default CA section's
 * settings resolved.  Immutable once built, reference-counted. */
struct calocal_conf {
	int refs;
	struct calocal_fid cnf_id, tpl_id;
	CONF *conf;
	json_t *templates;      /* object, {} without a templates file */
	char *section;          /* [ca] default_ca */
	char *database;         /* index.txt path (resolved) */
	char *lockfile;         /* database + ".lock" */
	char *serial;           /* NULL with rand_serial */
	char *crlnumber;        /* NULL = v1 CRL without number, as openssl */
	char *new_certs_dir;
	int rand_serial;
	char *md;               /* default_md as written, NULL if absent */
	char *policy;           /* section name, NULL if absent */
	int preserve;           /* [ca] preserve (openssl reads it there) */
	int email_in_dn;
	int ext_copy;           /* LOCAL_EXT_COPY_* */
	int unique_subject;     /* from the cnf; index.txt.attr overrides */
	int utf8;               /* `utf8 = yes`: SPKAC subject values are UTF-8 */
	char *crl_ext;          /* crl_extensions section or NULL */
	long crl_days, crl_hours;
};

enum { LOCAL_EXT_COPY_NONE = 0, LOCAL_EXT_COPY_ADD, LOCAL_EXT_COPY_ALL };

/* The CA key and certificate, reference-counted. */
struct calocal_keys {
	int refs;
	struct calocal_fid key_id, cert_id;
	EVP_PKEY *key;
	X509 *cert;
};

/* One instance (struct caconnector.priv). */
struct calocal {
	char *name;
	char *cakey, *cacert, *cnf, *workdir, *csrdir, *certdir, *crl, *templates;
	long crl_days;          /* -1 = from openssl.cnf, else 30 */
	long overlap;
	int approval;
	char *password;         /* secure heap, wiped; NULL = none */
	size_t password_len;
	pthread_mutex_t mu;     /* guards the two caches below */
	struct calocal_conf *conf;
	struct calocal_keys *keys;
};

/* ---- local.c ---- */
extern const struct caconnector_type caconnector_local;
int calocal_conf_get(struct calocal *l, struct calocal_conf **out, struct error *err);
void calocal_conf_put(struct calocal_conf *c);
int calocal_keys_get(struct calocal *l, struct calocal_keys **out, struct error *err);
void calocal_keys_put(struct calocal_keys *k);
/* workdir-relative path resolution (malloc'd); NULL p → NULL. */
char *calocal_resolve(const char *workdir, const char *p);
/* The signing digest for the CA key from default_md ("default" → the key's
 * default; keys without a digest (Ed25519) → *md NULL).  *md is not owned. */
int calocal_md(const struct calocal_conf *c, EVP_PKEY *key, const EVP_MD **md, struct error *err);

/* ---- local_db.c ---- */
struct calocal_row {
	char *f[6];   /* type, expiry, revocation, serial, file, name (unescaped) */
	char *raw;    /* the line as read (without "\n"), NULL for new rows */
	int dirty;    /* changed since read: written from f[] */
	int comment;  /* a '#' line: kept verbatim, f[] unused */
};
enum { DB_TYPE = 0, DB_EXP, DB_REV, DB_SERIAL, DB_FILE, DB_NAME };

struct calocal_db {
	struct calocal_row *rows;
	size_t n, cap;
};

int calocal_lock(const char *lockfile, int exclusive, struct error *err); /* → fd */
void calocal_unlock(int fd);

int calocal_db_load(const char *path, struct calocal_db *db, struct error *err);
void calocal_db_free(struct calocal_db *db);
struct calocal_row *calocal_db_find_serial(struct calocal_db *db, const char *hex);
int calocal_db_has_valid_name(const struct calocal_db *db, const char *name);
int calocal_db_add(struct calocal_db *db, const char *type, const char *exp, const char *rev,
		 const char *serial, const char *name);
/* Append one row to index.txt with a single write (O_APPEND) + fdatasync. */
int calocal_db_append(const char *path, const struct calocal_row *row, struct error *err);
/* Rewrite index.txt through index.txt.new with openssl's .old rotation. */
int calocal_db_save(const char *path, const struct calocal_db *db, struct error *err);
/* index.txt.attr: 1 and *unique set when present, 0 when absent. */
int calocal_db_attr_read(const char *dbpath, int *unique);
/* Write index.txt.attr as openssl does (via .new, rotating to .old). */
int calocal_db_attr_write(const char *dbpath, int unique, struct error *err);
/* The unique_subject in force: index.txt.attr, else the cnf. */
int calocal_db_unique_subject(const struct calocal_conf *c);

/* Serial/crlnumber files: hex as a2i/i2a_ASN1_INTEGER read and write them. */
BIGNUM *calocal_serial_load(const char *path, struct error *err);
/* Write path.new and rotate (path → path.old, path.new → path), synced. */
int calocal_serial_save(const char *path, const BIGNUM *bn, struct error *err);
/* "1000", or "00" for zero (as openssl's index). malloc'd. */
char *calocal_bn_hex(const BIGNUM *bn);

/* Files. */
int calocal_read_file(const char *path, size_t max, char **data, size_t *len, struct error *err);
/* Write data to a new hidden temporary file next to path (fsync'ed when
 * sync); *tmp (malloc'd) names it.  Commit with rename(*tmp, path), or
 * unlink it. */
int calocal_write_temp(const char *path, const void *data, size_t len, mode_t mode, int sync,
		     char **tmp, struct error *err);
/* Temp + fsync + rename. */
int calocal_write_file(const char *path, const void *data, size_t len, mode_t mode,
		     struct error *err);
void calocal_fsync_dir(const char *path);
int calocal_fid_stat(const char *path, struct calocal_fid *id);
int calocal_fid_equal(const struct calocal_fid *a, const struct calocal_fid *b);

/* Revocation info "<UTCtime>[,<reason>[,<extra>]]" (openssl ca). */
const char *calocal_reason_canonical(const char *reason); /* NULL if not allowed */
char *calocal_revinfo_make(const char *reason);           /* malloc'd */
/* → revocation time, reason code (-1 none), hold instruction, invalidity date. */
int calocal_revinfo_parse(const char *s, ASN1_TIME **revtm, int *reason, ASN1_OBJECT **hold,
			ASN1_GENERALIZEDTIME **invtm);

/* ---- local_sign.c ---- */
struct calocal_issued {
	X509 *cert;
	char *serial;   /* index.txt hex */
};
/* Parse and verify a request (504 on any fault).  *stem: the file name stem
 * privacyIDEA derives (subject values joined by "_"; SPKAC: the CN). */
int calocal_parse_request(const struct calocal_conf *c, const char *text, int spkac, X509_REQ **req,
			struct error *err);
/* Resolve template / days / extension section (504 unknown template). */
int calocal_profile(const struct calocal_conf *c, const struct caconnector_sign_options *opt,
		  long *days, char **ext, struct error *err);
/* Subject after the CA policy and request string checks (504). */
int calocal_policy_subject(const struct calocal_conf *c, X509 *cacert, X509_REQ *req,
			 X509_NAME **subject, struct error *err);
/* Issue: build; under the lock assign the serial (serial file written);
 * sign unlocked; under the lock again append the index.txt line; then
 * write the files.  request_text/spkac for the CSRDir copy. */
int calocal_issue(struct calocal *l, const struct calocal_conf *c, const struct calocal_keys *k,
		X509_REQ *req, const char *request_text, int spkac, long days, const char *ext,
		struct calocal_issued *out, struct error *err);
void calocal_issued_free(struct calocal_issued *o);
char *calocal_pem_of(X509 *x); /* malloc'd PEM or NULL */

/* ---- local_crl.c ---- */
/* Generate the CRL; the caller holds the lock. */
int calocal_crl_generate(struct calocal *l, const struct calocal_conf *c, const struct calocal_keys *k,
		       struct calocal_db *db, struct error *err);
/* 1 = the CRL file exists and is fresh (now + overlap <= nextUpdate). */
int calocal_crl_fresh(const struct calocal *l);
int calocal_revoke(struct calocal *l, const char *cert_pem, const char *reason, char **serial_hex,
		 struct error *err);
int calocal_create_crl(struct calocal *l, int force, struct error *err);

/* ---- local_ocsp.c ---- */
int calocal_ocsp_respond(struct calocal *l, const unsigned char *req, size_t req_len,
		       unsigned char **resp, size_t *resp_len, struct error *err);

/* ---- local_request.c ---- */
int calocal_request_submit(struct calocal *l, const char *request_text, int spkac, X509_REQ *req,
			 const char *template_name, long days, const char *ext, char **request_id,
			 struct error *err);
int calocal_request_status(struct calocal *l, const char *id, enum caconnector_cr_status *st,
			 struct error *err);
int calocal_request_certificate(struct calocal *l, const char *id, char **pem, struct error *err);
int calocal_request_approve(struct calocal *l, const char *id, struct error *err);
int calocal_request_reject(struct calocal *l, const char *id, const char *reason, struct error *err);
int calocal_request_list(struct calocal *l, json_t **list, struct error *err);

/* ---- local_template.c ---- */
/* YAML file → JSON (mappings → objects, plain integers/booleans/null typed). */
int calocal_templates_load(const char *path, json_t **out, struct error *err);

#endif
