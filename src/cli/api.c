/*
 * api.c — `tessera api createtoken`: pi-manage's API keys, long-lived JWTs
 * signed with SECRET_KEY for role admin (the admin API) or validate (the
 * authorization policy api_key_required on /validate/...).  Writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "../lib/app.h"
#include "../lib/config.h"
#include "../lib/crypto.h"
#include "../lib/jwt.h"

static const char USAGE[] =
	"usage: tessera [--config FILE] api createtoken [-r admin|validate] [-d DAYS] [-R REALM] [-u USERNAME]\n"
	"  prints a JWT for scripts: role admin (default) for the admin API, validate for /validate/*\n"
	"  when the authorization policy api_key_required is set.  DAYS default 365, REALM default\n"
	"  \"API\", USERNAME default a random hex string.\n";

int cli_api(const char *config, int argc, char **argv)
{
	if (argc < 2 || cli_wants_help(argc, argv)) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "createtoken") != 0)
		return cli_fail("api: unknown subcommand '%s' (createtoken)", argv[1]);
	const char *role = "admin", *realm = "API", *username = NULL;
	long days = 365;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		if (i + 1 >= argc)
			return cli_fail("api createtoken: option '%s' needs a value", o);
		const char *v = argv[++i];
		if (!strcmp(o, "-r") || !strcmp(o, "--role")) {
			role = v;
		} else if (!strcmp(o, "-d") || !strcmp(o, "--days")) {
			char *end;
			days = strtol(v, &end, 10);
			if (*end || end == v || days < 1 || days > 36500)
				return cli_fail("api createtoken: --days must be a number of days (1 to 36500)");
		} else if (!strcmp(o, "-R") || !strcmp(o, "--realm")) {
			realm = v;
		} else if (!strcmp(o, "-u") || !strcmp(o, "--username")) {
			username = v;
		} else {
			return cli_fail("api createtoken: unexpected argument '%s'", o);
		}
	}
	if (strcmp(role, "admin") != 0 && strcmp(role, "validate") != 0)
		return cli_fail("ERROR: The role must be 'admin' or 'validate'!");
	struct error err = { 0 };
	struct app *app = app_open(config, APP_NEED_SECRETS, 0, &err);
	if (!app)
		return cli_fail("%s", err.message);
	char rnd[41], nonce[41];
	int rc = 1;
	const char *sk = cfg_get_str(app->cfg, "SECRET_KEY", NULL);
	if (!sk || !*sk) {
		cli_fail("api createtoken: SECRET_KEY is not set in %s; the server would not accept the key",
			 cfg_path(app->cfg));
		goto out;
	}
	if (crypto_random_hex(rnd, 20) < 0 || crypto_random_hex(nonce, 20) < 0) {
		cli_fail("api createtoken: random generator failed");
		goto out;
	}
	if (!username)
		username = rnd;
	json_t *claims = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "username", username, "realm", realm, "nonce",
				   nonce, "role", role, "authtype", "API", "exp",
				   (json_int_t)(time(NULL) + days * 86400L), "rights", "TODO");
	char *tok = claims ? jwt_encode(claims, app->secret_key, &err) : NULL;
	json_decref(claims);
	if (!tok) {
		cli_fail("api createtoken: %s", err.message[0] ? err.message : "cannot build the token");
		goto out;
	}
	printf("Username:   %s\nRealm:      %s\nRole:       %s\nValidity:   %ld days\nAuth-Token: %s\n", username, realm,
	       role, days, tok);
	crypto_free_str(tok);
	rc = 0;
out:
	app_close(app);
	return rc;
}
