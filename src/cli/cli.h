/*
 * cli.h — the `tessera` command's subcommands (pi-manage's names).
 * Each returns the process exit status; errors are one line on stderr.
 */
#ifndef TESSERA_CLI_H
#define TESSERA_CLI_H

int cli_serve(const char *config, int argc, char **argv);
int cli_createdb(const char *config, int argc, char **argv);
int cli_create_enckey(const char *config, int argc, char **argv);
int cli_create_audit_keys(const char *config, int argc, char **argv);
int cli_admin(const char *config, int argc, char **argv);
int cli_ca(const char *config, int argc, char **argv); /* ca.c */
int cli_policy(const char *config, int argc, char **argv);
int cli_routes(int argc, char **argv); /* routes.c */
int cli_api(const char *config, int argc, char **argv); /* api.c */

/* Print "tessera: <msg>" on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when argv[i] is -h/--help. */
int cli_wants_help(int argc, char **argv);

#endif
