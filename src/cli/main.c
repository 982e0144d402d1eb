/*
 * main.c — the tessera command: global options, then one subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../lib/app.h"

static const char USAGE[] =
	"usage: tessera [--config FILE] <command> [options]\n"
	"\n"
	"A privacyIDEA-compatible multi-factor authentication server.\n"
	"The configuration file is --config, else $PRIVACYIDEA_CONFIGFILE, else /etc/tessera/pi.cfg.\n"
	"\n"
	"commands:\n"
	"  serve [--listen ADDR:PORT] [--threads N]   run the REST API server (default 127.0.0.1:5001)\n"
	"  createdb                                   create or upgrade the database tables (alias create_tables)\n"
	"  create_enckey [--enckey_b64 B64]           write a new encryption key file (PI_ENCFILE)\n"
	"  create_audit_keys [--keysize N]            write the audit/response signing key pair\n"
	"  admin add NAME [-p PASSWORD] [-e EMAIL]    create a local administrator\n"
	"  admin list                                 list local administrators\n"
	"  admin delete NAME                          delete a local administrator\n"
	"  admin change NAME [-p PASSWORD] [-e EMAIL] change a local administrator\n"
	"  ca list [-v]                               list the CA connectors\n"
	"  ca create NAME [options]                   create a local CA and its connector (interactive)\n"
	"  ca create_crl NAME [-f]                    write a new CRL when the overlap period requires it\n"
	"  ca sign NAME CSRFILE [--template T]        sign a certificate request at a local CA\n"
	"  ca requests NAME                           list the requests of a CA in approval mode\n"
	"  ca approve|reject NAME REQUEST_ID          issue or refuse a waiting request\n"
	"  policy list|enable|delete|create|...       manage policies as pi-manage (policy --help)\n"
	"  api createtoken [-r admin|validate] [-d N] print an API key (a long-lived JWT) for scripts\n"
	"  routes                                     print the endpoints and the rights they check\n"
	"\n"
	"Every command accepts --help.\n";

int main(int argc, char **argv)
{
	const char *config = NULL;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c")) {
			if (i + 1 >= argc)
				return cli_fail("--config needs a file name");
			config = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			config = argv[i] + 9;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(USAGE, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("%s\n", app_version());
			return 0;
		} else {
			break;
		}
	}
	if (i >= argc) {
		fputs(USAGE, stderr);
		return 2;
	}
	const char *cmd = argv[i];
	int sub_argc = argc - i;
	char **sub_argv = argv + i;
	if (!strcmp(cmd, "serve") || !strcmp(cmd, "runserver"))
		return cli_serve(config, sub_argc, sub_argv);
	if (!strcmp(cmd, "createdb") || !strcmp(cmd, "create_tables"))
		return cli_createdb(config, sub_argc, sub_argv);
	if (!strcmp(cmd, "create_enckey"))
		return cli_create_enckey(config, sub_argc, sub_argv);
	if (!strcmp(cmd, "create_audit_keys"))
		return cli_create_audit_keys(config, sub_argc, sub_argv);
	if (!strcmp(cmd, "admin"))
		return cli_admin(config, sub_argc, sub_argv);
	if (!strcmp(cmd, "ca"))
		return cli_ca(config, sub_argc, sub_argv);
	if (!strcmp(cmd, "policy"))
		return cli_policy(config, sub_argc, sub_argv);
	if (!strcmp(cmd, "api"))
		return cli_api(config, sub_argc, sub_argv);
	if (!strcmp(cmd, "routes"))
		return cli_routes(sub_argc, sub_argv);
	fprintf(stderr, "tessera: unknown command '%s' (see tessera --help)\n", cmd);
	return 2;
}
