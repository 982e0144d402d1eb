/*
 * policy_bench.c — throughput of the policy engine (src/lib/policy*.c) on
 * the lookups one /validate/check makes, with 0, 50 and 1,000 policies.
 *
 * A "check" is the set of policy questions privacyIDEA asks for one
 * /validate/check of a user (otppin, passthru, passOnNoToken/User,
 * challenge_response, auth_cache, mangle, authorized, tokentype, serial,
 * tokeninfo, setrealm, no_detail_on_*, add_*_in_response, api_key_required,
 * increase_failcounter_on_challenge, reset_all_user_tokens, last_auth,
 * auth_max_*): 21 matches against the compiled set.  The policies mix every
 * scope, realms, regular-expression users, client networks, time ranges
 * and header conditions; a few match the request, most do not.
 *
 * usage: policy_bench [seconds-per-case]   (built and run by bench/policies.sh)
 * It measures the engine only: no HTTP, no database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/store_policy.h"
#include "lib/policy.h"

static const char *const checks[][2] = {
	{ "authentication", "otppin" },
	{ "authentication", "passthru" },
	{ "authentication", "passOnNoToken" },
	{ "authentication", "passOnNoUser" },
	{ "authentication", "challenge_response" },
	{ "authentication", "auth_cache" },
	{ "authentication", "mangle" },
	{ "authentication", "increase_failcounter_on_challenge" },
	{ "authentication", "reset_all_user_tokens" },
	{ "authorization", "authorized" },
	{ "authorization", "tokentype" },
	{ "authorization", "serial" },
	{ "authorization", "tokeninfo" },
	{ "authorization", "setrealm" },
	{ "authorization", "no_detail_on_success" },
	{ "authorization", "no_detail_on_fail" },
	{ "authorization", "add_user_in_response" },
	{ "authorization", "add_resolver_in_response" },
	{ "authorization", "api_key_required" },
	{ "authorization", "last_auth" },
	{ "authorization", "auth_max_success" },
};
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

static const char *const actions[] = {
	"otppin=userstore",
	"passthru=userstore",
	"passOnNoToken",
	"challenge_response=hotp totp",
	"auth_cache=4h/5m",
	"authorized=grant_access",
	"tokentype=hotp totp",
	"serial=^OATH.*$",
	"no_detail_on_fail",
	"add_user_in_response",
	"last_auth=30d",
	"auth_max_fail=5/10m",
	"enable, disable, tokenlist",
	"max_token_per_user=5",
	"login_mode=privacyIDEA",
};

/* Policy i of n: deterministic variety; about 1 in 20 applies to the request. */
static void make_row(struct store_policy *r, int i, char bufs[][96])
{
	static const char *const scopes[] = { "authentication", "authorization", "admin", "enrollment", "webui" };
	memset(r, 0, sizeof(*r));
	r->id = i + 1;
	snprintf(bufs[0], 96, "pol%04d", i);
	r->name = bufs[0];
	r->scope = (char *)scopes[i % 5];
	r->action = (char *)actions[i % (sizeof(actions) / sizeof(actions[0]))];
	snprintf(bufs[1], 96, "realm%d", i % 20);
	r->realm = i % 20 == 3 || i % 7 == 0 ? bufs[1] : (char *)"";
	r->user = i % 11 == 0 ? (char *)"customer_.*, -bob" : i % 13 == 0 ? (char *)"*, -eve" : (char *)"";
	snprintf(bufs[2], 96, "10.%d.0.0/16, -10.%d.0.1", i % 50, i % 50);
	r->client = i % 4 == 0 ? bufs[2] : (char *)"";
	r->time = i % 9 == 0 ? (char *)"Mon-Sun: 0-23:59" : (char *)"";
	r->resolver = i % 17 == 0 ? (char *)"reso1, reso2" : (char *)"";
	r->priority = 1 + i % 5;
	r->active = i % 10 != 9;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *header(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "User-Agent") == 0 ? "privacyidea-cp/2.0" : NULL;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	int sizes[] = { 0, 50, 1000 };
	printf("%-10s %14s %14s %12s %8s\n", "policies", "checks/s", "matches/s", "us/check", "hits");
	for (int s = 0; s < 3; s++) {
		int n = sizes[s];
		struct store_policy *rows = calloc((size_t)n + 1, sizeof(*rows));
		char(*bufs)[3][96] = calloc((size_t)n + 1, sizeof(*bufs));
		struct store_policy_condition cond = { "HTTP Request header", "User-Agent", "matches",
						       "privacyidea-cp/.*", 1 };
		for (int i = 0; i < n; i++) {
			make_row(&rows[i], i, bufs[i]);
			if (i % 25 == 0 && strcmp(rows[i].scope, "admin") != 0) {
				rows[i].conditions = &cond;
				rows[i].n_conditions = 1;
			}
		}
		struct error err = { 0 };
		struct policy_set *ps = policy_set_build(rows, (size_t)n, &err);
		if (!ps) {
			fprintf(stderr, "build: %s\n", err.message);
			return 1;
		}
		struct policy_env env = { .header = header };
		struct policy_match m = { .user = "customer_7",
					  .realm = "realm3",
					  .resolver = "reso1",
					  .client = "10.3.4.5",
					  .pinode = "localnode" };
		long long iterations = 0, hits = 0;
		double start = now(), end = start + seconds;
		while (now() < end) {
			for (int k = 0; k < 100; k++, iterations++)
				for (size_t c = 0; c < NCHECKS; c++) {
					struct policy_hits h;
					m.scope = checks[c][0];
					m.action = checks[c][1];
					if (policy_match(ps, &m, &env, &h, &err) < 0) {
						fprintf(stderr, "match: %s\n", err.message);
						return 1;
					}
					hits += (long long)h.n;
					policy_hits_free(&h);
				}
		}
		double el = now() - start;
		printf("%-10d %14.0f %14.0f %12.2f %8.1f\n", n, iterations / el, iterations * NCHECKS / el,
		       el * 1e6 / iterations, (double)hits / (double)iterations);
		policy_set_free(ps);
		free(rows);
		free(bufs);
	}
	return 0;
}
