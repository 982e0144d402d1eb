/*
 * importotp_xml.c — safe XML parsing for the import formats and the
 * SafeNet/Aladdin eToken XML format (privacyIDEA's parseSafeNetXML); the
 * PSKC format lives in importotp_pskc.c.  The rules are in importotp.h.
 *
 * Safety: libxml2 parses with network access off, no DTD loading, no
 * entity substitution, and a SAX hook that stops the parser at the first
 * document type declaration (which is then refused): external entities
 * are never resolved and entity bombs never expand.  Input is limited to
 * IMPORT_MAX_SIZE.  Text that may hold a secret is wiped when freed;
 * nothing is logged.
 */
#include "importotp_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "crypto.h"

void import_global_init(void)
{
	xmlInitParser();
}

/* ---- secure parsing ---- */

struct xml_guard {
	int dtd;
};

static void guard_stop(void *ctx)
{
	xmlParserCtxtPtr c = ctx;
	struct xml_guard *g = c->_private;
	if (g)
		g->dtd = 1;
	xmlStopParser(c);
}

static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	(void)name, (void)eid, (void)sid;
	guard_stop(ctx);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pid, const xmlChar *sid,
			   xmlChar *content)
{
	(void)name, (void)type, (void)pid, (void)sid, (void)content;
	guard_stop(ctx);
}

static xmlParserInputPtr on_resolve(void *ctx, const xmlChar *pid, const xmlChar *sid)
{
	(void)pid, (void)sid;
	guard_stop(ctx);
	return NULL;
}

static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	return xmlGetPredefinedEntity(name); /* &lt; &gt; &amp; &quot; &apos; only */
}

static void copy_xml_error(xmlParserCtxtPtr c, char *buf, size_t len)
{
	const char *m = c->lastError.message ? c->lastError.message : "not well-formed";
	snprintf(buf, len, "%s", m);
	size_t n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
}

/* libxml2 reports some errors (e.g. encoding conversion) without a parser
 * context on its generic channel, stderr by default: silenced while we
 * parse (the handler is per thread), the parser context keeps the error. */
static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

static xmlDocPtr xml_parse_quiet(const char *data, size_t len, const char *what, struct error *err)
{
	struct xml_guard g = {0};
	xmlDocPtr doc = NULL;
	char msg[200];

	if (imp_check_input(data, len, 0, err) < 0)
		return NULL;
	if (len == 0) {
		imp_err(err, "Could not parse %s data: empty document.", what);
		return NULL;
	}
	xmlParserCtxtPtr c = xmlCreateMemoryParserCtxt(data, (int)len);
	if (c == NULL) {
		err_internal(err, "out of memory");
		return NULL;
	}
	xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	c->_private = &g;
	c->sax->internalSubset = on_internal_subset;
	c->sax->externalSubset = on_internal_subset;
	c->sax->entityDecl = on_entity_decl;
	c->sax->unparsedEntityDecl = NULL;
	c->sax->resolveEntity = on_resolve;
	c->sax->getEntity = on_get_entity;
	c->sax->getParameterEntity = NULL;
	c->replaceEntities = 0;
	c->loadsubset = 0;
	c->validate = 0;

	int rc = xmlParseDocument(c);
	doc = c->myDoc;
	c->myDoc = NULL;
	if (g.dtd) {
		imp_err(err, "Could not parse %s data: document type declarations (DTD) are not allowed.", what);
		goto fail;
	}
	if (rc != 0 || !c->wellFormed || doc == NULL) {
		copy_xml_error(c, msg, sizeof(msg));
		imp_err(err, "Could not parse %s data: %s", what, msg);
		goto fail;
	}
	c->_private = NULL;
	xmlFreeParserCtxt(c);
	return doc;
fail:
	c->_private = NULL;
	if (doc)
		xmlFreeDoc(doc);
	xmlFreeParserCtxt(c);
	return NULL;
}

/* Parse data into a document, or fail with a 304 naming `what`. */
xmlDocPtr imp_xml_parse(const char *data, size_t len, const char *what, struct error *err)
{
	xmlGenericErrorFunc old = xmlGenericError;
	void *oldctx = xmlGenericErrorContext;
	xmlSetGenericErrorFunc(NULL, quiet);
	xmlDocPtr doc = xml_parse_quiet(data, len, what, err);
	xmlSetGenericErrorFunc(oldctx, old);
	return doc;
}

/* ---- tree helpers: local names, case-insensitive (privacyIDEA reads PSKC
 * with an HTML parser and strips the prefixes) ---- */

static int is_elem(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && xmlStrcasecmp(n->name, BAD_CAST name) == 0;
}

/* First descendant element named `name`, in document order (BeautifulSoup's
 * tag.name / tag.imp_xml_find(name)). */
xmlNodePtr imp_xml_find(xmlNodePtr n, const char *name)
{
	if (n == NULL)
		return NULL;
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_elem(c, name))
			return c;
		xmlNodePtr r = imp_xml_find(c, name);
		if (r)
			return r;
	}
	return NULL;
}

xmlNodePtr imp_xml_find_self_or(xmlNodePtr n, const char *name)
{
	return is_elem(n, name) ? n : imp_xml_find(n, name);
}

void imp_xml_find_all(xmlNodePtr n, const char *name, struct imp_nodes *out)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_elem(c, name)) {
			if (out->n == out->cap) {
				size_t cap = out->cap ? 2 * out->cap : 16;
				xmlNodePtr *v = reallocarray(out->v, cap, sizeof(*v));
				if (v == NULL) {
					out->oom = 1;
					return;
				}
				out->v = v;
				out->cap = cap;
			}
			out->v[out->n++] = c;
		}
		imp_xml_find_all(c, name, out);
	}
}

/* xmlChar* → malloc'd char*, the libxml2 copy wiped and freed. */
static char *take_xml(xmlChar *x)
{
	if (x == NULL)
		return NULL;
	size_t n = strlen((const char *)x);
	char *s = imp_strndup((const char *)x, n);
	OPENSSL_cleanse(x, n);
	xmlFree(x);
	return s;
}

/* All text below n (BeautifulSoup .text); NULL when n is NULL or OOM. */
char *imp_xml_text(xmlNodePtr n)
{
	return n ? take_xml(xmlNodeGetContent(n)) : NULL;
}

/* Attribute value, name compared case-insensitively; NULL if absent. */
char *imp_xml_attr(xmlNodePtr n, const char *name)
{
	if (n == NULL)
		return NULL;
	for (xmlAttrPtr a = n->properties; a; a = a->next)
		if (xmlStrcasecmp(a->name, BAD_CAST name) == 0)
			return take_xml(xmlNodeListGetString(n->doc, a->children, 1));
	return NULL;
}

/* Case-sensitive variants for SafeNet XML (ElementTree). */
static int is_elem_cs(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

/* Remove all ASCII whitespace (Python's b64decode skips it). */
static void squeeze_ws(char *s)
{
	char *d = s;
	for (; *s; s++)
		if (!(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f'))
			*d++ = *s;
	*d = '\0';
}

/* base64 text (with whitespace) → bytes; NULL when malformed. */
unsigned char *imp_b64_bytes(const char *text, size_t *len)
{
	char *t = imp_strndup(text, strlen(text));
	if (t == NULL)
		return NULL;
	squeeze_ws(t);
	unsigned char *d = *t ? crypto_b64_decode(t, len) : NULL;
	crypto_free_str(t);
	return d;
}

/* The part after the last '#' (privacyIDEA: split("#")[-1]), lowercased
 * into buf. */
void imp_uri_fragment(const char *uri, char *buf, size_t len)
{
	const char *h = strrchr(uri, '#');
	snprintf(buf, len, "%s", h ? h + 1 : uri);
	for (char *p = buf; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

/* ---- SafeNet / Aladdin XML ---- */

int import_safenet_xml(const char *data, size_t len, struct import_list *out, struct error *err)
{
	xmlDocPtr doc = imp_xml_parse(data, len, "SafeNet XML", err);
	int rc = -1;
	if (doc == NULL)
		return -1;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!is_elem_cs(root, "Tokens")) {
		imp_err(err, "No toplevel element Tokens");
		goto out;
	}
	for (xmlNodePtr tok = root->children; tok; tok = tok->next) {
		if (!is_elem_cs(tok, "Token"))
			continue;
		char *serial = take_xml(xmlGetProp(tok, BAD_CAST "serial"));
		char *seed = NULL, *moving = NULL;
		for (xmlNodePtr td = tok->children; td; td = td->next) {
			if (!is_elem_cs(td, "Applications"))
				continue;
			for (xmlNodePtr app = td->children; app; app = app->next) {
				if (!is_elem_cs(app, "Application"))
					continue;
				for (xmlNodePtr e = app->children; e; e = e->next) {
					if (is_elem_cs(e, "Seed")) {
						imp_free_secret(&seed);
						seed = imp_xml_text(e);
					} else if (is_elem_cs(e, "MovingFactor")) {
						free(moving);
						moving = imp_xml_text(e);
					}
				}
			}
		}
		int r = 0;
		struct import_token t = {0};
		char *s = seed ? imp_strip(seed) : NULL;
		if (serial && *serial && s && *s) {
			int64_t c = 0;
			if (moving && *imp_strip(moving)) {
				if (imp_parse_i64(moving, &c) < 0 || c < 0)
					r = imp_err(err, "Token %.60s: MovingFactor is not a number.", serial);
				t.has_counter = 1;
				t.counter = c;
			}
			if (r == 0 && (imp_set_dup(&t.serial, serial, err) < 0 || imp_set_dup(&t.otpkey, s, err) < 0 ||
				       imp_set_dup(&t.type, "hotp", err) < 0 ||
				       imp_set_dup(&t.hashlib, strlen(s) == 64 ? "sha256" : "sha1", err) < 0))
				r = -1;
			if (r == 0 && imp_list_put(out, &t) < 0)
				r = err_internal(err, "out of memory");
		}
		imp_token_clear(&t);
		free(serial);
		imp_free_secret(&seed);
		free(moving);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		import_list_free(out);
	xmlFreeDoc(doc);
	return rc;
}
