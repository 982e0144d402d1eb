/*
 * routes.c — `tessera routes`: the routing table (src/api/routes.c) as a
 * Markdown table of the rights each endpoint checks; docs/rights.md is this
 * output under a short header (tests/api/test_rights.py keeps them equal).
 * Reads the static table only: no configuration, no database.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../http/route.h"

/* What handlers check beyond the route's action (documentation only; the
 * code is in the named handler).  Keyed by method and pattern. */
static const struct {
	const char *method, *pattern, *note;
} NOTES[] = {
	{ "GET", "/auth/rights", "none: the caller's own rights" },
	{ "GET", "/realm/", "list reduced to the realms of the admin policies matching the admin (any action)" },
	{ "GET", "/realm/superuser", "none (as privacyIDEA)" },
	{ "GET", "/defaultrealm", "none (as privacyIDEA)" },
	{ "GET", "/user/", "without realm: the first realm of the admin's userlist policies (realmadmin)" },
	{ "POST", "/user/", "adduser for the new user in the realms holding resolver" },
	{ "PUT", "/user/", "updateuser for the user in the realms holding resolver" },
	{ "DELETE", "/user/attribute/<attrkey>/<username>/<realm>",
	  "delete_custom_user_attributes for username in realm" },
	{ "DELETE", "/user/<resolvername>/<username>",
	  "deleteuser for username in the realms holding resolvername" },
	{ "GET", "/token/", "admins: only tokens in the realms of their tokenlist policies; users: own tokens" },
	{ "GET", "/token/challenges/", "only challenges of tokens in the realms of the admin's getchallenges policies" },
	{ "GET", "/token/challenges/<serial>",
	  "only challenges of tokens in the realms of the admin's getchallenges policies" },
	{ "POST", "/token/realm/<serial>", "tokenrealms for every new realm too" },
	{ "POST", "/token/load/<filename>", "importtokens for every realm of tokenrealms" },
	{ "POST", "/token/copypin", "copytokenpin on both tokens from and to" },
	{ "POST", "/token/copyuser", "copytokenuser on both tokens from and to" },
	{ "GET", "/token/getserial/<otp>", "searches only tokens in the realms of the admin's getserial policies" },
	{ "GET", "/system/gpgkeys", "none (as privacyIDEA)" },
	{ "GET", "/system/hsm", "none (as privacyIDEA)" },
	{ "GET", "/system/", "none (as privacyIDEA)" },
	{ "GET", "/system/<key>", "none (as privacyIDEA)" },
	{ "GET", "/policy/check", "none (as privacyIDEA)" },
	{ "GET", "/policy/defs", "none (as privacyIDEA)" },
	{ "GET", "/policy/defs/<scope>", "none (as privacyIDEA)" },
	{ NULL, NULL, NULL },
};

static const char *note_of(const struct route *r)
{
	for (size_t i = 0; NOTES[i].method; i++)
		if (!strcmp(NOTES[i].method, r->method) && !strcmp(NOTES[i].pattern, r->pattern))
			return NOTES[i].note;
	return "";
}

static const char *role_name(enum role role)
{
	switch (role) {
	case ROLE_NONE:
		return "none";
	case ROLE_ADMIN:
		return "admin";
	default:
		return "admin, user";
	}
}

int cli_routes(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs("usage: tessera routes\n\nPrint the routing table and the rights each endpoint checks "
		      "(Markdown, docs/rights.md).\n",
		      stdout);
		return 0;
	}
	if (argc > 1)
		return cli_fail("routes: unexpected argument '%s'", argv[1]);
	puts("| Method | Path | Role | Action checked | Event | Checked in the handler |");
	puts("|---|---|---|---|---|---|");
	for (const struct route *r = tessera_routes; r->method; r++)
		printf("| %s | `%s` | %s | %s | %s | %s |\n", r->method, r->pattern, role_name(r->role),
		       r->action ? r->action : "—", r->event ? r->event : "—", note_of(r));
	return 0;
}
