/*
 * ca.c — `tessera ca ...`, pi-manage's ca commands plus the approval mode:
 *   list [-v], create NAME (interactive, or scripted with options),
 *   create_crl NAME [-f], sign NAME CSRFILE, requests NAME, approve NAME ID,
 *   reject NAME ID.
 * It works on the database and the CA directory directly; the server need
 * not run (a new connector bumps the config timestamp, so running servers
 * pick it up).  The CA work itself is the connector library's; this file
 * only asks, prints and registers.  It never prints a secret.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../db/db.h"
#include "../lib/app.h"
#include "../lib/caconnector_cfg.h"
#include "../lib/crypto.h"

static const char CA_USAGE[] =
	"usage: tessera [--config FILE] ca list [-v]\n"
	"       tessera [--config FILE] ca create NAME [options]\n"
	"       tessera [--config FILE] ca create_crl NAME [-f]\n"
	"       tessera [--config FILE] ca sign NAME CSRFILE [--template T] [--spkac] [--out FILE]\n"
	"       tessera [--config FILE] ca requests NAME\n"
	"       tessera [--config FILE] ca approve NAME REQUEST_ID\n"
	"       tessera [--config FILE] ca reject NAME REQUEST_ID [--reason TEXT]\n"
	"\n"
	"  list -v            show each connector's definition (secrets censored) and whether it works\n"
	"  create             writes a local CA usable by this server and by `openssl ca -config\n"
	"                     DIR/openssl.cnf` and registers the connector.  Without options it asks\n"
	"                     for everything (as pi-manage); any option below makes it non-interactive,\n"
	"                     unset options taking their defaults:\n"
	"    --dir DIR              CA directory (./ca)\n"
	"    --key-type rsa|ec      key type (rsa)\n"
	"    --key-size N           RSA key size, 2048..4096 (4096)\n"
	"    --curve P-256|P-384    EC curve (P-256; implies --key-type ec)\n"
	"    --days N               validity of the CA certificate in days (1800)\n"
	"    --dn DN                subject of the CA, /CN=x/O=y form (/CN=NAME)\n"
	"    --crl-days N           validity of a CRL in days (30)\n"
	"    --crl-overlap N        days before a CRL's next update from which create_crl renews it (5)\n"
	"    --approval             requests wait for `ca approve` (certificate tokens stay pending)\n"
	"    --passphrase P         encrypt the CA key (AES-256); --passphrase-file F reads the first line\n"
	"    --batch                no questions, all defaults\n"
	"  create_crl         writes a new CRL only when the overlap period has begun; -f forces it\n"
	"  sign               signs a PEM certificate request (or SPKAC) as the certificate token does;\n"
	"                     prints the certificate, or the request id when the CA wants approval\n"
	"  requests           the requests of a CA in approval mode: id, state, created, subject,\n"
	"                     template, serial or reason\n";

static int fail_err(const struct error *e)
{
	return cli_fail("%s", e->message);
}

/* ---- reading answers ---------------------------------------------------------- */

/* One answer line (malloc'd, without the newline); the default for an
 * empty line; NULL at the end of input. */
static char *ask(const char *question, const char *def)
{
	char buf[1024];
	printf("%s [%s]: ", question, def);
	fflush(stdout);
	if (!fgets(buf, sizeof(buf), stdin))
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	char *s = buf;
	while (isspace((unsigned char)*s))
		s++;
	for (size_t n = strlen(s); n && isspace((unsigned char)s[n - 1]);)
		s[--n] = '\0';
	return strdup(*s ? s : def);
}

/* A passphrase without echo on a terminal (asked twice there), or one line
 * from a pipe.  "" = none.  malloc'd, free with crypto_free_str. */
static char *ask_secret(const char *question)
{
	char a[1024], b[1024];
	int tty = isatty(STDIN_FILENO);
	struct termios old, noecho;
	char *out = NULL;
	printf("%s: ", question);
	fflush(stdout);
	if (tty) {
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &noecho);
	}
	char *r = fgets(a, sizeof(a), stdin);
	if (r && tty && a[0] != '\n') {
		printf("\nRepeat for confirmation: ");
		fflush(stdout);
		if (!fgets(b, sizeof(b), stdin) || strcmp(a, b) != 0)
			r = NULL;
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		putchar('\n');
	}
	if (r) {
		a[strcspn(a, "\r\n")] = '\0';
		out = strdup(a);
	}
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return out;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* ---- create -------------------------------------------------------------------- */

struct create_opts {
	char *dir, *dn, *passphrase;
	enum caconnector_keytype key_type;
	int rsa_bits, days, crl_days, crl_overlap, approval;
};

static void opts_free(struct create_opts *o)
{
	free(o->dir);
	free(o->dn);
	if (o->passphrase)
		crypto_free_str(o->passphrase);
}

static const char *key_text(const struct create_opts *o, char *buf, size_t n)
{
	if (o->key_type == CACONN_KEY_EC_P256)
		return "EC P-256";
	if (o->key_type == CACONN_KEY_EC_P384)
		return "EC P-384";
	snprintf(buf, n, "RSA %d", o->rsa_bits);
	return buf;
}

/* Ask one number until it is valid; -1 at the end of input. */
static int ask_int(const char *question, int def, long lo, long hi, int *out)
{
	char d[32];
	snprintf(d, sizeof(d), "%d", def);
	for (;;) {
		char *a = ask(question, d);
		if (!a)
			return -1;
		int ok = parse_int(a, lo, hi, out) == 0;
		free(a);
		if (ok)
			return 0;
		printf("Please answer with a number from %ld to %ld.\n", lo, hi);
	}
}

/* pi-manage's questions (and ours: key type, approval, passphrase), until
 * the administrator confirms.  -1 at the end of input. */
static int interview(const char *name, struct create_opts *o)
{
	char buf[64];
	for (;;) {
		char *a;
		if (!(a = ask("In which directory do you want to create the CA", o->dir)))
			return -1;
		free(o->dir);
		o->dir = a;
		for (;;) {
			if (!(a = ask("Which key type should the CA have (rsa/ec)",
				      o->key_type == CACONN_KEY_RSA ? "rsa" : "ec")))
				return -1;
			int rsa = !strcasecmp(a, "rsa"), ec = !strcasecmp(a, "ec");
			free(a);
			if (rsa || ec) {
				if (rsa)
					o->key_type = CACONN_KEY_RSA;
				else if (o->key_type == CACONN_KEY_RSA)
					o->key_type = CACONN_KEY_EC_P256;
				break;
			}
			printf("Please answer rsa or ec.\n");
		}
		if (o->key_type == CACONN_KEY_RSA) {
			if (ask_int("What should be the keysize of the CA (2048/3072/4096)", o->rsa_bits, 2048, 4096,
				    &o->rsa_bits) < 0)
				return -1;
		} else {
			for (;;) {
				if (!(a = ask("Which curve should the CA key use (P-256/P-384)",
					      o->key_type == CACONN_KEY_EC_P384 ? "P-384" : "P-256")))
					return -1;
				int p256 = !strcasecmp(a, "P-256"), p384 = !strcasecmp(a, "P-384");
				free(a);
				if (p256 || p384) {
					o->key_type = p256 ? CACONN_KEY_EC_P256 : CACONN_KEY_EC_P384;
					break;
				}
				printf("Please answer P-256 or P-384.\n");
			}
		}
		if (ask_int("How many days should the CA be valid", o->days, 1, 36500, &o->days) < 0)
			return -1;
		if (!(a = ask("What is the DN of the CA", o->dn)))
			return -1;
		free(o->dn);
		o->dn = a;
		if (ask_int("How many days should the CRL be valid", o->crl_days, 1, 36500, &o->crl_days) < 0 ||
		    ask_int("What should be the overlap period of the CRL in days", o->crl_overlap, 1, 36500,
			    &o->crl_overlap) < 0)
			return -1;
		if (!(a = ask("Should certificate requests wait for approval by a CA manager (y/n)",
			      o->approval ? "y" : "n")))
			return -1;
		o->approval = tolower((unsigned char)a[0]) == 'y';
		free(a);
		if (o->passphrase)
			crypto_free_str(o->passphrase);
		if (!(o->passphrase = ask_secret("Passphrase to encrypt the CA key with (empty: none)")))
			return -1;
		printf("============================================================\n"
		       "        Directory  : %s\n"
		       "        CA DN      : %s\n"
		       "        CA key     : %s\n"
		       "        CA validity: %d\n"
		       "\n"
		       "        CRL validity: %d\n"
		       "        CRL overlap : %d\n"
		       "        Approval    : %s\n"
		       "        Passphrase  : %s\n",
		       o->dir, o->dn, key_text(o, buf, sizeof(buf)), o->days, o->crl_days, o->crl_overlap,
		       o->approval ? "yes" : "no", *o->passphrase ? "set" : "none");
		if (!(a = ask("Is this configuration correct? (y/n)", "n")))
			return -1;
		int yes = tolower((unsigned char)a[0]) == 'y';
		free(a);
		if (yes)
			return 0;
	}
}

static char *read_first_line(const char *path)
{
	char buf[1024];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *r = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!r)
		buf[0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	char *out = strdup(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	return out;
}

/* A usage error of `ca create`: the message, and -1 for parse_create. */
static int bad_option(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_option(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_fail("ca create: %s", msg);
	return -1;
}

/* The options of `ca create`: 0 ok, 1 interactive wanted (no option),
 * -1 bad usage (reported). */
static int parse_create(int argc, char **argv, int start, struct create_opts *o)
{
	const char *key_type = NULL, *curve = NULL;
	int scripted = 0, size_given = 0;
	for (int i = start; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		/* an option with a value: consumes it */
#define OPT(s) (!strcmp(a, s) && v && ++i)
		if (!strcmp(a, "--batch")) {
			scripted = 1;
		} else if (!strcmp(a, "--approval")) {
			o->approval = scripted = 1;
		} else if (OPT("-t") || OPT("--type")) {
			if (strcmp(v, "local"))
				return bad_option("this command creates CAs of type local only");
		} else if (OPT("--dir")) {
			free(o->dir);
			o->dir = strdup(v);
			scripted = 1;
		} else if (OPT("--key-type")) {
			if (strcasecmp(v, "rsa") && strcasecmp(v, "ec"))
				return bad_option("--key-type is rsa or ec");
			key_type = v;
			scripted = 1;
		} else if (OPT("--key-size")) {
			if (parse_int(v, 2048, 4096, &o->rsa_bits) < 0)
				return bad_option("--key-size must be from 2048 to 4096");
			size_given = scripted = 1;
		} else if (OPT("--curve")) {
			if (strcasecmp(v, "P-256") && strcasecmp(v, "P-384"))
				return bad_option("--curve is P-256 or P-384");
			curve = v;
			scripted = 1;
		} else if (OPT("--days")) {
			if (parse_int(v, 1, 36500, &o->days) < 0)
				return bad_option("--days must be from 1 to 36500");
			scripted = 1;
		} else if (OPT("--dn")) {
			free(o->dn);
			o->dn = strdup(v);
			scripted = 1;
		} else if (OPT("--crl-days")) {
			if (parse_int(v, 1, 36500, &o->crl_days) < 0)
				return bad_option("--crl-days must be from 1 to 36500");
			scripted = 1;
		} else if (OPT("--crl-overlap")) {
			if (parse_int(v, 1, 36500, &o->crl_overlap) < 0)
				return bad_option("--crl-overlap must be from 1 to 36500");
			scripted = 1;
		} else if (OPT("--passphrase") || OPT("--passphrase-file")) {
			if (o->passphrase)
				crypto_free_str(o->passphrase);
			o->passphrase = !strcmp(a, "--passphrase") ? strdup(v) : read_first_line(v);
			if (!o->passphrase)
				return bad_option("cannot read %s: %s", v, strerror(errno));
			scripted = 1;
		} else {
			return bad_option("unexpected argument '%s' (see tessera ca --help)", a);
		}
#undef OPT
	}
	int ec = (key_type && !strcasecmp(key_type, "ec")) || (!key_type && curve);
	if (curve && !ec)
		return bad_option("--curve is for EC keys (--key-type ec)");
	if (size_given && ec)
		return bad_option("--key-size is for RSA keys; EC keys take --curve");
	if (ec)
		o->key_type = curve && !strcasecmp(curve, "P-384") ? CACONN_KEY_EC_P384 : CACONN_KEY_EC_P256;
	if (!o->dir || !o->dn)
		return bad_option("out of memory");
	return scripted ? 0 : 1;
}

static int cmd_create(struct app *app, struct db_conn *c, const char *name, int argc, char **argv)
{
	struct create_opts o = { .key_type = CACONN_KEY_RSA, .rsa_bits = 4096, .days = 1800, .crl_days = 30,
				 .crl_overlap = 5 };
	char dn[300], buf[64];
	struct error err = { 0 };
	struct caconnector_set *set = NULL;
	json_t *params = NULL;
	int64_t id = 0;
	int rc = 1;

	if (!caconnector_name_ok(name))
		return cli_fail("ca create: non conformant characters in the name: '%s' (letters, digits, _ - . only)",
				name);
	snprintf(dn, sizeof(dn), "/CN=%s", name);
	o.dir = strdup("./ca");
	o.dn = strdup(dn);
	int mode = parse_create(argc, argv, 3, &o);
	if (mode < 0)
		goto out;
	if (!(set = caconnector_set_load(app, c, &err))) {
		rc = fail_err(&err);
		goto out;
	}
	if (caconnector_set_find(set, name)) {
		printf("A CA connector with the name '%s' already exists.\n", name);
		goto out;
	}
	if (mode == 1) {
		printf("Warning: Be sure to set the access rights.\n\nCreating CA connector of type local.\n");
		if (interview(name, &o) < 0) {
			rc = cli_fail("ca create: no answer (end of input); nothing was created");
			goto out;
		}
	}
	struct caconnector_local_ca_spec spec = {
		.dir = o.dir,
		.name = name,
		.key_type = o.key_type,
		.rsa_bits = o.rsa_bits,
		.days = o.days,
		.dn = o.dn,
		.crl_days = o.crl_days,
		.crl_overlap = o.crl_overlap,
		.key_password = o.passphrase && *o.passphrase ? o.passphrase : NULL,
	};
	printf("Creating the CA (%s key) in %s ...\n", key_text(&o, buf, sizeof(buf)), o.dir);
	fflush(stdout);
	if (caconnector_local_create_ca(&spec, &params, &err) < 0) {
		rc = fail_err(&err);
		goto out;
	}
	if (o.approval)
		json_object_set_new(params, "approval", json_string("True"));
	if (db_begin_write(c, &err) < 0 || caconnector_save(app, c, params, &id, &err) < 0 ||
	    db_commit(c, &err) < 0) {
		db_rollback(c);
		rc = cli_fail("the CA was written to %s, but registering the connector failed: %s",
			      json_string_value(json_object_get(params, "WorkingDir")), err.message);
		goto out;
	}
	printf("CA certificate: %s\n", json_string_value(json_object_get(params, "cacert")));
	printf("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
	       "Please check the ownership of the private key\n%s\n"
	       "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
	       json_string_value(json_object_get(params, "cakey")));
	printf("Saved CA Connector with ID %lld.\n", (long long)id);
	rc = 0;
out:
	if (params) {
		json_t *pw = json_object_get(params, "cakey_password");
		if (json_is_string(pw))
			OPENSSL_cleanse((char *)json_string_value(pw), json_string_length(pw));
	}
	json_decref(params);
	caconnector_set_free(set);
	opts_free(&o);
	return rc;
}

/* ---- the other subcommands ----------------------------------------------------- */

static int cmd_list(struct caconnector_set *set, int verbose)
{
	json_t *list = caconnector_set_view(set, NULL, 1), *ca;
	size_t i;
	if (!list)
		return cli_fail("out of memory");
	json_array_foreach(list, i, ca) {
		const char *name = json_string_value(json_object_get(ca, "connectorname"));
		printf("%s (type %s)\n", name, json_string_value(json_object_get(ca, "type")));
		if (!verbose)
			continue;
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(ca, "data"), k, v)
			printf("\t%-20s: %s\n", k, json_string_value(v));
		const struct caconnector_def *d = caconnector_set_find(set, name);
		struct error e = { 0 };
		if (!d->inst)
			printf("\t%-20s: %s\n", "status", d->problem);
		else if (d->inst->type->check(d->inst, &e) < 0)
			printf("\t%-20s: %s\n", "status", e.message);
		else
			printf("\t%-20s: %s\n", "status", "OK");
	}
	json_decref(list);
	return 0;
}

static struct caconnector *instance(const struct caconnector_set *set, const char *name)
{
	const struct caconnector_def *d = caconnector_set_find(set, name);
	if (!d)
		cli_fail("no CA connector named '%s'", name);
	else if (!d->inst)
		cli_fail("the CA connector %s cannot be used: %s", d->name, d->problem);
	return d ? d->inst : NULL;
}

/* "YYYY-MM-DD HH:MM:SS UTC" of the nextUpdate of the CRL file (PEM or DER),
 * or "?".  Read from the file: asking the connector (get_crl) could write
 * yet another CRL. */
static void crl_next_update(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	X509_CRL *crl = NULL;
	struct tm tm;
	snprintf(out, n, "?");
	if (!f)
		return;
	crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	if (!crl) {
		rewind(f);
		crl = d2i_X509_CRL_fp(f, NULL);
	}
	fclose(f);
	ERR_clear_error();
	const ASN1_TIME *nu = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;
	if (nu && ASN1_TIME_to_tm(nu, &tm) == 1)
		strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
	X509_CRL_free(crl);
}

static int cmd_create_crl(const struct caconnector_set *set, const char *name, int force)
{
	struct caconnector *ca = instance(set, name);
	struct error err = { 0 };
	char next[64];
	if (!ca)
		return 1;
	json_t *view = caconnector_set_view(set, caconnector_set_find(set, name)->name, 1);
	json_t *data = json_object_get(json_array_get(view, 0), "data");
	const char *crl = json_string_value(json_object_get(data, "CRL"));
	const char *wd = json_string_value(json_object_get(data, "WorkingDir"));
	char path[PATH_MAX];
	if (!crl || !*crl)
		crl = "crl.pem";
	snprintf(path, sizeof(path), "%s%s%s", crl[0] != '/' && wd && *wd ? wd : "",
		 crl[0] != '/' && wd && *wd ? "/" : "", crl);
	json_decref(view);
	int rc = ca->type->create_crl(ca, force, &err);
	if (rc < 0)
		return fail_err(&err);
	crl_next_update(path, next, sizeof(next));
	if (rc == CACONN_CRL_NOT_NEEDED)
		printf("The CRL was not created: %s is valid until %s, and its overlap period has not begun "
		       "(-f forces a new CRL).\n", path, next);
	else
		printf("The CRL %s was created (next update %s).\n", path, next);
	return 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;
	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *b = cap > (1u << 20) ? NULL : realloc(buf, cap += 8192);
			if (!b) {
				free(buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int cmd_sign(const struct caconnector_set *set, const char *name, const char *csrfile,
		    const char *template_name, int spkac, const char *outfile)
{
	struct caconnector *ca = instance(set, name);
	struct caconnector_sign_options opt = { .template_name = template_name, .spkac = spkac };
	struct caconnector_result res = { 0 };
	struct error err = { 0 };
	char *csr;
	int rc;
	if (!ca)
		return 1;
	if (!(csr = read_file(csrfile)))
		return cli_fail("cannot read %s: %s", csrfile, strerror(errno));
	rc = ca->type->sign_request(ca, csr, &opt, &res, &err);
	free(csr);
	if (rc < 0)
		return fail_err(&err);
	if (rc == CACONN_PENDING) {
		printf("Request %s is waiting for approval (tessera ca approve %s %s).\n", res.request_id, name,
		       res.request_id);
	} else if (outfile) {
		FILE *f = fopen(outfile, "w");
		if (!f || fputs(res.certificate, f) < 0 || fclose(f) != 0) {
			caconnector_result_free(&res);
			return cli_fail("cannot write %s: %s", outfile, strerror(errno));
		}
		printf("Certificate %s issued and written to %s.\n", res.serial, outfile);
	} else {
		fputs(res.certificate, stdout);
	}
	caconnector_result_free(&res);
	return 0;
}

static const char *str_of(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

static int cmd_requests(const struct caconnector_set *set, const char *name)
{
	struct caconnector *ca = instance(set, name);
	struct error err = { 0 };
	json_t *list = NULL, *r;
	size_t i;
	if (!ca)
		return 1;
	if (!ca->type->list_requests)
		return cli_fail("CA connectors of type %s have no approval mode", ca->type->name);
	if (ca->type->list_requests(ca, &list, &err) < 0)
		return fail_err(&err);
	if (json_array_size(list) == 0)
		printf("No requests.\n");
	json_array_foreach(list, i, r) {
		const char *state = str_of(r, "state");
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", str_of(r, "request_id"), state, str_of(r, "created"),
		       str_of(r, "subject"), str_of(r, "template"),
		       !strcmp(state, "denied") ? str_of(r, "reason") : str_of(r, "serial"));
	}
	json_decref(list);
	return 0;
}

static int cmd_decide(const struct caconnector_set *set, const char *name, const char *id, int approve,
		      const char *reason)
{
	struct caconnector *ca = instance(set, name);
	struct error err = { 0 };
	if (!ca)
		return 1;
	if (!ca->type->approve || !ca->type->reject)
		return cli_fail("CA connectors of type %s have no approval mode", ca->type->name);
	if (approve ? ca->type->approve(ca, id, &err) < 0 : ca->type->reject(ca, id, reason, &err) < 0)
		return fail_err(&err);
	if (!approve) {
		printf("Request %s rejected.\n", id);
		return 0;
	}
	/* the serial the certificate got */
	json_t *list = NULL, *r;
	size_t i;
	const char *serial = "";
	if (ca->type->list_requests(ca, &list, &err) == 0)
		json_array_foreach(list, i, r)
			if (!strcmp(str_of(r, "request_id"), id))
				serial = str_of(r, "serial");
	printf("Request %s approved: certificate %s issued.\n", id, serial);
	json_decref(list);
	return 0;
}

/* ---- dispatch ------------------------------------------------------------------ */

int cli_ca(const char *config, int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fputs(CA_USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	const char *name = argc > 2 && argv[2][0] != '-' ? argv[2] : NULL;
	const char *id = NULL, *reason = NULL, *template_name = NULL, *outfile = NULL;
	int verbose = 0, force = 0, spkac = 0;

	if (!strcmp(sub, "list")) {
		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
				verbose = 1;
			else
				return cli_fail("ca list: unexpected argument '%s'", argv[i]);
		}
	} else if (!strcmp(sub, "create") || !strcmp(sub, "create_crl") || !strcmp(sub, "requests") ||
		   !strcmp(sub, "approve") || !strcmp(sub, "reject") || !strcmp(sub, "sign")) {
		if (!name)
			return cli_fail("ca %s: NAME is missing", sub);
		/* approve/reject take a REQUEST_ID, sign a CSRFILE */
		int second = !strcmp(sub, "approve") || !strcmp(sub, "reject") || !strcmp(sub, "sign");
		if (second && (argc < 4 || argv[3][0] == '-'))
			return cli_fail("ca %s: %s is missing", sub, strcmp(sub, "sign") ? "REQUEST_ID" : "CSRFILE");
		id = second ? argv[3] : NULL;
		for (int i = second ? 4 : 3; strcmp(sub, "create") && i < argc; i++) {
			int has_value = i + 1 < argc;
			if (!strcmp(sub, "create_crl") && (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force")))
				force = 1;
			else if (!strcmp(sub, "reject") && !strcmp(argv[i], "--reason") && has_value)
				reason = argv[++i];
			else if (!strcmp(sub, "sign") && !strcmp(argv[i], "--template") && has_value)
				template_name = argv[++i];
			else if (!strcmp(sub, "sign") && !strcmp(argv[i], "--out") && has_value)
				outfile = argv[++i];
			else if (!strcmp(sub, "sign") && !strcmp(argv[i], "--spkac"))
				spkac = 1;
			else
				return cli_fail("ca %s: unexpected argument '%s'", sub, argv[i]);
		}
	} else {
		return cli_fail("ca: unknown subcommand '%s' (list, create, create_crl, sign, requests, approve, reject)",
				sub);
	}

	struct error err = { 0 };
	struct app *app = app_open(config, APP_NEED_DB | APP_NEED_ENCKEY | APP_MIGRATED, 2, &err);
	if (!app)
		return fail_err(&err);
	struct db_conn *c = db_acquire(app->db, &err);
	struct caconnector_set *set = NULL;
	int rc;
	if (!c) {
		rc = fail_err(&err);
	} else if (!strcmp(sub, "create")) {
		rc = cmd_create(app, c, name, argc, argv);
	} else if (!(set = caconnector_set_load(app, c, &err))) {
		rc = fail_err(&err);
	} else if (!strcmp(sub, "list")) {
		rc = cmd_list(set, verbose);
	} else if (!strcmp(sub, "create_crl")) {
		rc = cmd_create_crl(set, name, force);
	} else if (!strcmp(sub, "requests")) {
		rc = cmd_requests(set, name);
	} else if (!strcmp(sub, "sign")) {
		rc = cmd_sign(set, name, id, template_name, spkac, outfile);
	} else {
		rc = cmd_decide(set, name, id, !strcmp(sub, "approve"), reason);
	}
	caconnector_set_free(set);
	if (c)
		db_release(c);
	app_close(app);
	return rc;
}
