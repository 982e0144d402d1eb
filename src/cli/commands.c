/*
 * commands.c — the subcommands of the tessera command (see cli.h).
 * They work on the database and key files directly, like pi-manage; the
 * server need not run.
 */
#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../db/db.h"
#include "../db/store.h"
#include "../http/server.h"
#include "../lib/admin.h"
#include "../lib/app.h"
#include "../lib/crypto.h"
#include "../lib/log.h"

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("tessera: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

static int fail_err(const struct error *e)
{
	return cli_fail("%s", e->message);
}

/* ---- serve ---- */

static const char SERVE_USAGE[] =
	"usage: tessera [--config FILE] serve [--listen ADDR:PORT] [--threads N]\n"
	"  --listen ADDR:PORT  address to listen on (default 127.0.0.1:5001; [::1]:5001 for IPv6)\n"
	"  --threads N         0 (default): one thread per connection, so a request blocked on a slow\n"
	"                      user store never stalls others; N > 0: a pool of N event-loop threads\n";

int cli_serve(const char *config, int argc, char **argv)
{
	const char *listen_addr = "127.0.0.1:5001";
	int threads = 0;
	if (cli_wants_help(argc, argv)) {
		fputs(SERVE_USAGE, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen_addr = argv[++i];
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);
			if (*end || n < 0 || n > 1024)
				return cli_fail("--threads needs a number between 0 and 1024");
			threads = (int)n;
		} else {
			fputs(SERVE_USAGE, stderr);
			return 2;
		}
	}
	struct error err = { 0 };
	int pool = threads > 0 ? threads + 2 : 64;
	struct app *app = app_open(config,
				   APP_NEED_DB | APP_NEED_ENCKEY | APP_NEED_SIGNER | APP_NEED_SECRETS | APP_MIGRATED,
				   pool, &err);
	if (!app)
		return fail_err(&err);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* worker threads inherit the mask */
	signal(SIGPIPE, SIG_IGN);

	struct server *srv = server_start(app, listen_addr, threads, &err);
	if (!srv) {
		app_close(app);
		return fail_err(&err);
	}
	log_warning("tessera %s listening on %s (%s)", app_version_number(), listen_addr,
		    threads > 0 ? "thread pool" : "thread per connection");
	int sig = 0;
	sigwait(&set, &sig);
	log_warning("signal %d: shutting down", sig);
	server_stop(srv);
	app_close(app);
	log_close();
	return 0;
}

/* ---- createdb ---- */

int cli_createdb(const char *config, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		puts("usage: tessera [--config FILE] createdb\n"
		     "  creates the tables, or applies pending schema migrations; safe to run again");
		return 0;
	}
	struct error err = { 0 };
	struct app *app = app_open(config, APP_NEED_DB, 2, &err);
	if (!app)
		return fail_err(&err);
	int rc = db_migrate(app->db, &err);
	int v = 0;
	if (rc == 0)
		rc = db_schema_version(app->db, &v, &err);
	app_close(app);
	if (rc < 0)
		return fail_err(&err);
	printf("database schema at version %d\n", v);
	return 0;
}

/* ---- keys ---- */

int cli_create_enckey(const char *config, int argc, char **argv)
{
	const char *b64 = NULL;
	if (cli_wants_help(argc, argv)) {
		puts("usage: tessera [--config FILE] create_enckey [--enckey_b64 BASE64]\n"
		     "  writes 96 random bytes (three AES-256 keys) to PI_ENCFILE, mode 0400;\n"
		     "  never overwrites an existing file");
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--enckey_b64") && i + 1 < argc)
			b64 = argv[++i];
		else if (!strncmp(argv[i], "--enckey_b64=", 13))
			b64 = argv[i] + 13;
		else
			return cli_fail("create_enckey: unexpected argument '%s'", argv[i]);
	}
	struct error err = { 0 };
	struct app *app = app_open(config, 0, 0, &err);
	if (!app)
		return fail_err(&err);
	const char *path = cfg_get_str(app->cfg, "PI_ENCFILE", NULL);
	int rc = path && *path ? crypto_create_enckey(path, b64, &err)
			       : err_set(&err, ERRK_PI, ERR_GENERIC, "PI_ENCFILE is not set in %s", cfg_path(app->cfg));
	if (rc == 0)
		printf("Encryption key written to %s\n", path);
	app_close(app);
	return rc < 0 ? fail_err(&err) : 0;
}

int cli_create_audit_keys(const char *config, int argc, char **argv)
{
	int bits = 2048;
	if (cli_wants_help(argc, argv)) {
		puts("usage: tessera [--config FILE] create_audit_keys [--keysize N]\n"
		     "  writes the RSA key pair PI_AUDIT_KEY_PRIVATE / PI_AUDIT_KEY_PUBLIC used to sign\n"
		     "  audit entries and API responses; never overwrites existing files");
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--keysize") && i + 1 < argc)
			bits = atoi(argv[++i]);
		else if (!strncmp(argv[i], "--keysize=", 10))
			bits = atoi(argv[i] + 10);
		else
			return cli_fail("create_audit_keys: unexpected argument '%s'", argv[i]);
	}
	if (bits < 2048 || bits > 8192)
		return cli_fail("create_audit_keys: --keysize must be between 2048 and 8192");
	struct error err = { 0 };
	struct app *app = app_open(config, 0, 0, &err);
	if (!app)
		return fail_err(&err);
	const char *priv = cfg_get_str(app->cfg, "PI_AUDIT_KEY_PRIVATE", NULL);
	const char *pub = cfg_get_str(app->cfg, "PI_AUDIT_KEY_PUBLIC", NULL);
	int rc;
	if (!priv || !*priv || !pub || !*pub)
		rc = err_set(&err, ERRK_PI, ERR_GENERIC, "PI_AUDIT_KEY_PRIVATE and PI_AUDIT_KEY_PUBLIC must be set in %s",
			     cfg_path(app->cfg));
	else
		rc = crypto_create_audit_keys(priv, pub, bits, &err);
	if (rc == 0)
		printf("Audit keys written to %s and %s\n", priv, pub);
	app_close(app);
	return rc < 0 ? fail_err(&err) : 0;
}

/* ---- admin ---- */

static const char ADMIN_USAGE[] =
	"usage: tessera [--config FILE] admin add NAME [-p PASSWORD] [-e EMAIL]\n"
	"       tessera [--config FILE] admin list\n"
	"       tessera [--config FILE] admin delete NAME\n"
	"       tessera [--config FILE] admin change NAME [-p PASSWORD] [-e EMAIL]\n"
	"  Without -p the password is asked for (twice on a terminal, once from a pipe).\n";

/* Read a password from the terminal without echo, or one line from stdin. */
static char *read_password(const char *prompt, int confirm)
{
	char a[1024], b[1024];
	int tty = isatty(STDIN_FILENO);
	struct termios old, noecho;
	if (tty) {
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &noecho);
		fprintf(stderr, "%s", prompt);
	}
	char *r = fgets(a, sizeof(a), stdin);
	if (r && tty && confirm) {
		fprintf(stderr, "\nRepeat for confirmation: ");
		if (!fgets(b, sizeof(b), stdin) || strcmp(a, b) != 0)
			r = NULL;
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	char *out = NULL;
	if (r) {
		a[strcspn(a, "\r\n")] = '\0';
		out = strdup(a);
	}
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return out;
}

static int print_admin(void *ctx, const struct store_admin *a)
{
	printf("%s\t%s\n", a->username, a->email);
	return 0;
}

int cli_admin(const char *config, int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fputs(ADMIN_USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1], *name = NULL, *password = NULL, *email = NULL;
	for (int i = 2; i < argc; i++) {
		if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--password")) && i + 1 < argc)
			password = argv[++i];
		else if ((!strcmp(argv[i], "-e") || !strcmp(argv[i], "--email")) && i + 1 < argc)
			email = argv[++i];
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			return cli_fail("admin %s: unexpected argument '%s'", sub, argv[i]);
	}
	int is_list = !strcmp(sub, "list");
	if (!is_list && strcmp(sub, "add") && strcmp(sub, "delete") && strcmp(sub, "change"))
		return cli_fail("admin: unknown subcommand '%s' (add, list, delete, change)", sub);
	if (!is_list && !name)
		return cli_fail("admin %s: NAME is missing", sub);

	struct error err = { 0 };
	struct app *app = app_open(config, APP_NEED_DB | APP_NEED_SECRETS | APP_MIGRATED, 2, &err);
	if (!app)
		return fail_err(&err);
	struct db_conn *c = db_acquire(app->db, &err);
	int rc = c ? 0 : -1;
	char *asked = NULL;
	if (rc == 0 && is_list) {
		rc = store_admin_list(c, print_admin, NULL, &err);
	} else if (rc == 0 && !strcmp(sub, "delete")) {
		rc = admin_delete(c, name, &err);
		if (rc == 1)
			rc = err_set(&err, ERRK_NOTFOUND, ERR_NOTFOUND, "no admin named '%s'", name);
		else if (rc == 0)
			printf("Admin %s deleted\n", name);
	} else if (rc == 0) {
		int adding = !strcmp(sub, "add");
		if (!password && (adding || !email)) {
			asked = read_password("Password: ", 1);
			if (!asked)
				rc = err_param(&err, "no password given (or the two entries differ)");
			password = asked;
		}
		if (rc == 0 && adding) {
			rc = admin_set(app, c, name, email, password, &err);
			if (rc == 0)
				printf("Admin %s was registered successfully\n", name);
		} else if (rc == 0) {
			rc = admin_change(app, c, name, email, password, &err);
			if (rc == 1)
				rc = err_set(&err, ERRK_NOTFOUND, ERR_NOTFOUND, "no admin named '%s'", name);
			else if (rc == 0)
				printf("Admin %s changed\n", name);
		}
	}
	if (asked)
		crypto_free_str(asked);
	if (c)
		db_release(c);
	app_close(app);
	return rc < 0 ? fail_err(&err) : 0;
}
