/*
 * healthz.c — /healthz: liveness and readiness, without authentication,
 * as privacyIDEA 3.11+ answers them.  Not audited.
 */
#include "api.h"

#include "../lib/app.h"

int api_healthz_livez(struct request *rq, json_t **value, struct error *err)
{
	*value = json_pack("{s:s}", "status", "OK");
	return 0;
}

int api_healthz_startupz(struct request *rq, json_t **value, struct error *err)
{
	*value = json_pack("{s:s}", "status", "started");
	return 0;
}

/* Ready when the encryption key ("HSM") is loaded. */
int api_healthz_readyz(struct request *rq, json_t **value, struct error *err)
{
	if (!rq->app->enckey) {
		*value = json_pack("{s:s,s:s}", "status", "not ready", "hsm", "fail");
		rq->status = 503;
		return 0;
	}
	*value = json_pack("{s:s,s:s}", "status", "ready", "hsm", "OK");
	return 0;
}

int api_healthz(struct request *rq, json_t **value, struct error *err)
{
	return api_healthz_readyz(rq, value, err);
}
