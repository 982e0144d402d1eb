/*
 * local_template.c — the certificate templates file of the local CA
 * connector: YAML as privacyIDEA reads it with yaml.safe_load,
 *
 *     user:      {days: 365, extensions: "user"}
 *     webserver: {days: 750, extensions: "server"}
 *
 * turned into JSON with libyaml's event parser: mappings → objects,
 * sequences → arrays, plain scalars typed as YAML 1.1 does for ints,
 * booleans (true/false/yes/no/on/off) and null; quoted scalars stay
 * strings.  Only the first document is read; aliases are refused (they
 * are never needed here and allow "billion laughs").
 */
#include "local_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#define MAX_DEPTH 32

static json_t *scalar_value(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	static const char *const t[] = { "true", "yes", "on", NULL };
	static const char *const f[] = { "false", "no", "off", NULL };

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, len);
	if (len == 0 || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0)
		return json_null();
	for (size_t i = 0; t[i]; i++)
		if (strcasecmp(s, t[i]) == 0)
			return json_true();
	for (size_t i = 0; f[i]; i++)
		if (strcasecmp(s, f[i]) == 0)
			return json_false();
	{
		const char *p = s + (*s == '-' || *s == '+');
		if (*p && strspn(p, "0123456789") == strlen(p) && strlen(p) < 19)
			return json_integer(strtoll(s, NULL, 10));
	}
	return json_stringn(s, len);
}

struct frame {
	json_t *node;
	char *key; /* pending key inside a mapping */
};

/* Attach v (reference stolen) to the open container, or make it the root. */
static int attach(struct frame *st, int depth, json_t **root, json_t *v, const yaml_event_t *ev)
{
	struct frame *top;
	if (!v)
		return -1;
	if (depth == 0) {
		*root = v;
		return 0;
	}
	top = &st[depth - 1];
	if (json_is_array(top->node))
		return json_array_append_new(top->node, v);
	if (top->key) {
		int rc = json_object_set_new(top->node, top->key, v);
		free(top->key);
		top->key = NULL;
		return rc;
	}
	/* a mapping key: must be a scalar */
	json_decref(v);
	if (!ev || ev->type != YAML_SCALAR_EVENT)
		return -1;
	top->key = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
	return top->key ? 0 : -1;
}

int calocal_templates_load(const char *path, json_t **out, struct error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct frame st[MAX_DEPTH] = { { 0 } };
	json_t *root = NULL;
	char *data;
	size_t len;
	int depth = 0, done = 0, rc = -1;

	*out = NULL;
	if (calocal_read_file(path, 1024 * 1024, &data, &len, err) != 0)
		return -1;
	if (!yaml_parser_initialize(&parser)) {
		free(data);
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		json_t *v = NULL;
		int ok = 0;
		if (!yaml_parser_parse(&parser, &ev)) {
			err_set(err, ERRK_PI, ERR_CA, "templates file %s, line %zu: %s", path,
				parser.problem_mark.line + 1, parser.problem ? parser.problem : "syntax error");
			goto out;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth >= MAX_DEPTH) {
				yaml_event_delete(&ev);
				err_set(err, ERRK_PI, ERR_CA, "templates file %s is nested too deeply", path);
				goto out;
			}
			v = ev.type == YAML_MAPPING_START_EVENT ? json_object() : json_array();
			/* a container as mapping key is not supported */
			if (depth > 0 && json_is_object(st[depth - 1].node) && !st[depth - 1].key) {
				json_decref(v);
				break;
			}
			if (v && attach(st, depth, &root, json_incref(v), &ev) == 0) {
				st[depth].node = v;
				st[depth].key = NULL;
				depth++;
				ok = 1;
			} else {
				json_decref(v);
			}
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			free(st[depth].key);
			json_decref(st[depth].node);
			st[depth].node = NULL;
			st[depth].key = NULL;
			ok = 1;
			break;
		case YAML_SCALAR_EVENT:
			ok = attach(st, depth, &root, scalar_value(&ev), &ev) == 0;
			break;
		case YAML_ALIAS_EVENT:
			yaml_event_delete(&ev);
			err_set(err, ERRK_PI, ERR_CA, "templates file %s: aliases are not supported", path);
			goto out;
		case YAML_DOCUMENT_END_EVENT:
		case YAML_STREAM_END_EVENT:
			done = 1;
			ok = 1;
			break;
		default:
			ok = 1;
			break;
		}
		yaml_event_delete(&ev);
		if (!ok) {
			err_set(err, ERRK_PI, ERR_CA, "templates file %s: unsupported structure", path);
			goto out;
		}
	}
	if (!root)
		root = json_object();
	if (!json_is_object(root)) {
		err_set(err, ERRK_PI, ERR_CA, "templates file %s must map template names to "
			"{days, extensions}", path);
		goto out;
	}
	*out = root;
	root = NULL;
	rc = 0;
out:
	while (depth > 0) {
		depth--;
		free(st[depth].key);
		json_decref(st[depth].node);
	}
	json_decref(root);
	yaml_parser_delete(&parser);
	free(data);
	return rc;
}
