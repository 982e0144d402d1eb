/*
 * caconnectors.c — the CA connector registry and the helpers every type and
 * the /caconnector/ API share: parameter checking and censoring from the
 * declared tables, privacyIDEA's description dict, and the certificate
 * rendering used for detail.certificate.
 *
 * Adding a type = one line in caconnector_types[]; nothing here knows a
 * type's parameters.
 */
#include "caconnector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

extern const struct caconnector_type caconnector_local;

const struct caconnector_type *const caconnector_types[] = {
	&caconnector_local,
	NULL,
};

const struct caconnector_type *caconnector_type_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; caconnector_types[i]; i++)
		if (strcmp(caconnector_types[i]->name, name) == 0)
			return caconnector_types[i];
	return NULL;
}

struct caconnector *caconnector_create(const char *type, const char *name, const json_t *config,
				       struct error *err)
{
	const struct caconnector_type *t = caconnector_type_find(type);
	if (!t) {
		err_set(err, ERRK_PI, ERR_CA, "unknown CA connector type '%s'", type ? type : "");
		return NULL;
	}
	return t->create(name, config, err);
}

void caconnector_destroy(struct caconnector *c)
{
	if (c)
		c->type->destroy(c);
}

void caconnector_result_free(struct caconnector_result *r)
{
	if (!r)
		return;
	free(r->request_id);
	free(r->certificate);
	free(r->serial);
	memset(r, 0, sizeof(*r));
}

const char *caconnector_cfg_str(const json_t *config, const char *key, const char *def,
				char *buf, size_t buflen)
{
	const json_t *v = config ? json_object_get(config, key) : NULL;
	if (!v || json_is_null(v))
		return def;
	if (json_is_string(v))
		return json_string_length(v) ? json_string_value(v) : def;
	if (json_is_integer(v) && buf && buflen) {
		snprintf(buf, buflen, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "1" : "0";
	return def;
}

int caconnector_parse_bool(const char *s)
{
	static const char *const yes[] = { "1", "true", "yes", "on", "t", "y", NULL };
	if (!s)
		return 0;
	for (size_t i = 0; yes[i]; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	return 0;
}

static int is_bool_text(const char *s)
{
	static const char *const words[] = { "0", "1", "true", "false", "yes", "no", "on", "off",
					     "t", "f", "y", "n", NULL };
	for (size_t i = 0; words[i]; i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	return 0;
}

static int is_int_text(const char *s)
{
	char *end;
	if (!*s)
		return 0;
	strtoll(s, &end, 10);
	return *end == '\0';
}

int caconnector_check_params(const struct caconnector_type *t, const json_t *config,
			     struct error *err)
{
	char buf[32];
	if (config && !json_is_object(config))
		return err_set(err, ERRK_PI, ERR_CA, "the CA connector configuration must be an object");
	for (const struct caconnector_param *p = t->params; p->name; p++) {
		const json_t *v = config ? json_object_get(config, p->name) : NULL;
		const char *s = caconnector_cfg_str(config, p->name, NULL, buf, sizeof(buf));
		if (v && !json_is_null(v) && !json_is_string(v) && !json_is_integer(v) &&
		    !json_is_boolean(v))
			return err_set(err, ERRK_PI, ERR_CA, "parameter '%s' must be a string", p->name);
		if (!s) {
			if (p->required)
				return err_set(err, ERRK_PI, ERR_CA, "required argument '%s' is missing.",
					       p->name);
			continue;
		}
		if (p->type == CAP_INT && !is_int_text(s))
			return err_set(err, ERRK_PI, ERR_CA, "parameter '%s' must be an integer", p->name);
		if (p->type == CAP_BOOL && !is_bool_text(s))
			return err_set(err, ERRK_PI, ERR_CA, "parameter '%s' must be a boolean", p->name);
	}
	return 0;
}

json_t *caconnector_censor_config(const struct caconnector_type *t, const json_t *config)
{
	json_t *out = config ? json_deep_copy(config) : json_object();
	if (!out)
		return NULL;
	for (const struct caconnector_param *p = t->params; p->name; p++)
		if (p->type == CAP_PASSWORD && json_object_get(out, p->name))
			json_object_set_new(out, p->name, json_string("__CENSORED__"));
	return out;
}

json_t *caconnector_type_description(const struct caconnector_type *t)
{
	json_t *params = json_object(), *out = json_object();
	if (!params || !out) {
		json_decref(params);
		json_decref(out);
		return NULL;
	}
	for (const struct caconnector_param *p = t->params; p->name; p++) {
		const char *ty = p->type == CAP_INT ? "int"
			       : p->type == CAP_BOOL ? "bool"
			       : p->type == CAP_PASSWORD ? "password" : "string";
		json_object_set_new(params, p->name, json_string(ty));
	}
	json_object_set_new(out, t->name, params);
	return out;
}

char *caconnector_cert_text(const char *pem, struct error *err)
{
	BIO *in = NULL, *out = NULL;
	X509 *x = NULL;
	char *text = NULL, *data;
	long n;

	if (!pem) {
		err_set(err, ERRK_PI, ERR_CA, "no certificate given");
		return NULL;
	}
	in = BIO_new_mem_buf(pem, -1);
	out = BIO_new(BIO_s_mem());
	if (!in || !out)
		goto oom;
	x = PEM_read_bio_X509(in, NULL, NULL, NULL);
	if (!x) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "the certificate is not PEM-encoded");
		goto out;
	}
	/* X509_print = X509_print_ex(XN_FLAG_COMPAT, X509_FLAG_COMPAT): what
	 * `openssl ca` writes in front of the PEM block. */
	if (X509_print(out, x) != 1 || PEM_write_bio_X509(out, x) != 1)
		goto oom;
	n = BIO_get_mem_data(out, &data);
	text = malloc((size_t)n + 1);
	if (!text)
		goto oom;
	memcpy(text, data, (size_t)n);
	text[n] = '\0';
	goto out;
oom:
	ERR_clear_error();
	err_set(err, ERRK_PI, ERR_CA, "out of memory rendering the certificate");
out:
	X509_free(x);
	BIO_free(in);
	BIO_free(out);
	return text;
}
