/*
 * server.h — the HTTP server on libmicrohttpd.
 *
 * Threading: threads == 0 → one thread per connection (the default: a
 * handler blocked on a slow user store, SMTP or CA only holds its own
 * connection); threads > 0 → a pool of that many event-loop threads
 * (cheaper per connection, but a blocking handler stalls every connection
 * on its thread).  bench/run measures both; see docs/architecture.md.
 */
#ifndef TESSERA_SERVER_H
#define TESSERA_SERVER_H

#include "../lib/error.h"

struct app;
struct server;

struct server *server_start(struct app *app, const char *listen_addr, int threads, struct error *err);
/* Stops accepting, waits for running requests, frees. */
void server_stop(struct server *s);
/* The port actually bound (when 0 was asked). */
unsigned server_port(const struct server *s);

#endif
