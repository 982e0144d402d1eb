/*
 * token_oath_policy.c — the HOTP/TOTP enrollment pre-policies of POST
 * /token/init (token_oath_policy.h): two-step enrollment activation and
 * parameters, force_server_generate.  Only policy questions and request
 * rewriting; the enrollment itself stays in src/lib/.
 */
#include "token_oath_policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token_prepolicy.h"
#include "../lib/polctx.h"
#include "../lib/pyjson.h"

static const char *pstr(json_t *params, const char *name)
{
	json_t *v = json_object_get(params, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int tpp_oath_init(struct request *rq, struct token_ctx *x, const struct user *u, json_t *params,
		  struct error *err)
{
	/* the type: an existing token's, else the request's (default hotp) */
	const char *serial = pstr(params, "serial");
	const char *tp = pstr(params, "type");
	char type[64], req_type[64], state[32] = "";
	snprintf(req_type, sizeof(req_type), "%s", tp && *tp ? tp : "hotp");
	for (char *p = req_type; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	snprintf(type, sizeof(type), "%s", req_type);
	int exists = 0;
	if (serial && *serial) {
		struct token *t = NULL;
		int lr = token_load(x, serial, &t, err);
		if (lr < 0)
			return -1;
		if (lr == 0) {
			exists = 1;
			snprintf(type, sizeof(type), "%s", t->r.tokentype);
			for (char *p = type; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			snprintf(state, sizeof(state), "%s", t->r.rollout_state ? t->r.rollout_state : "");
			token_free(t);
		}
	}

	/* policy: admin/user.<type>_2step (twostep_enrollment_activation):
	 * allow keeps 2stepinit, force sets it for a new token, no policy
	 * removes it */
	char action[128];
	snprintf(action, sizeof(action), "%s_2step", type);
	struct polq q;
	tpp_role_q(rq, action, u, &q);
	char *setting = NULL;
	int rc = polctx_value(x->pol, &q, 0, &setting, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (!strcmp(setting, "force")) {
			if (!exists)
				json_object_set_new(params, "2stepinit", json_string("1"));
		} else if (strcmp(setting, "allow")) {
			err_set(err, ERRK_POLICY, ERR_POLICY, "Unknown 2step policy setting: %s", setting);
			free(setting);
			return -1;
		}
		free(setting);
	} else {
		json_object_del(params, "2stepinit");
	}
	int twostep = pyjson_is_true(json_object_get(params, "2stepinit"));

	/* policy: enrollment.<type>_2step_serversize, enrollment.<type>_2step_clientsize,
	 * enrollment.<type>_2step_difficulty
	 * (twostep_enrollment_parameters; no policy: the client's value stays) */
	if (twostep) {
		static const char *const names[] = { "2step_serversize", "2step_clientsize", "2step_difficulty" };
		for (size_t i = 0; i < 3; i++) {
			snprintf(action, sizeof(action), "%s_%s", type, names[i]);
			tpp_enroll_q(action, u, &q);
			char *v = NULL;
			rc = polctx_value(x->pol, &q, 0, &v, err);
			if (rc < 0)
				return -1;
			if (rc == 1)
				json_object_set_new(params, names[i], json_string(v));
			free(v);
		}
	}

	/* policy: user.<type>_force_server_generate: a given otpkey is
	 * replaced by a key the server generates; not for a two-step
	 * enrollment (the client part of its second step is an otpkey) nor the
	 * second step of a verified enrollment.  The action exists in the user
	 * scope only (privacyIDEA 3.8), so admins are not affected. */
	const char *verify = pstr(params, "verify");
	if (rq->who.role == ROLE_USER && (!strcmp(req_type, "hotp") || !strcmp(req_type, "totp")) && !twostep &&
	    strcmp(state, "clientwait") && !(verify && *verify)) {
		snprintf(action, sizeof(action), "%s_force_server_generate", req_type);
		tpp_role_q(rq, action, u, &q); /* ROLE_USER: the user scope */
		int any = polctx_any(x->pol, &q, err);
		if (any < 0)
			return -1;
		if (any) {
			json_object_del(params, "otpkey");
			json_object_del(params, "otpkeyformat");
			json_object_set_new(params, "genkey", json_string("1"));
		}
	}
	return 0;
}
