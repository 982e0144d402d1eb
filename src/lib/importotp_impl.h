/*
 * importotp_impl.h — helpers shared by the import parsers (importotp.c:
 * list handling and the CSV formats; importotp_xml.c: safe XML parsing and
 * SafeNet XML; importotp_pskc.c: PSKC).  Internal to those files; everyone
 * else uses importotp.h.
 */
#ifndef TESSERA_IMPORTOTP_IMPL_H
#define TESSERA_IMPORTOTP_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "importotp.h"

/* TokenImportException: ERRK_PI, 304.  Returns -1. */
int imp_err(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Size limit, no NUL bytes; utf8: also require valid UTF-8. */
int imp_check_input(const char *data, size_t len, int utf8, struct error *err);

/* malloc'd copy of n bytes + NUL; NULL on OOM. */
char *imp_strndup(const char *s, size_t n);
/* Python str.strip() of ASCII whitespace, in place; returns the start. */
char *imp_strip(char *s);
/* Strict integer: optional sign, decimal digits, surrounding whitespace
 * allowed (Python int() of a stripped str).  0 ok, -1 malformed/overflow. */
int imp_parse_i64(const char *s, int64_t *v);
/* Lowercase hex of n bytes (malloc'd). */
char *imp_hexlify(const unsigned char *d, size_t n);

/* Wipes and frees *s, sets it NULL. */
void imp_free_secret(char **s);
/* *dst = strdup(s); 0 ok, -1 (internal error filled) on OOM. */
int imp_set_dup(char **dst, const char *s, struct error *err);

/* Frees (wiping secrets) the fields of t and zeroes it. */
void imp_token_clear(struct import_token *t);
/* Adds *t (ownership moves to the list, *t is zeroed).  A record with the
 * same serial is replaced in place.  0 ok, -1 OOM (t cleared). */
int imp_list_put(struct import_list *l, struct import_token *t);
/* Drops every token record (not_imported stays). */
void imp_list_drop_tokens(struct import_list *l);
/* Appends a copy of serial to not_imported.  0 ok, -1 OOM. */
int imp_list_not_imported(struct import_list *l, const char *serial);

/* ---- XML (importotp_xml.c) ----
 * Element and attribute names are compared case-insensitively on their
 * local names (privacyIDEA reads PSKC with an HTML parser that lowercases
 * and its prefixes stripped). */

/* The secure parser: NONET, no DTD (refused), no entities.  304 naming
 * `what` ("PSKC") on failure. */
xmlDocPtr imp_xml_parse(const char *data, size_t len, const char *what, struct error *err);
/* First descendant element named `name` in document order (BeautifulSoup's
 * tag.name / tag.find); NULL-safe. */
xmlNodePtr imp_xml_find(xmlNodePtr n, const char *name);
xmlNodePtr imp_xml_find_self_or(xmlNodePtr n, const char *name);

struct imp_nodes {
	xmlNodePtr *v;
	size_t n, cap;
	int oom;
};
/* Appends every descendant named `name`, in document order. */
void imp_xml_find_all(xmlNodePtr n, const char *name, struct imp_nodes *out);
/* All text below n (malloc'd; NULL when n is NULL). */
char *imp_xml_text(xmlNodePtr n);
/* Attribute value (malloc'd) or NULL. */
char *imp_xml_attr(xmlNodePtr n, const char *name);
/* base64 text with any whitespace → bytes (malloc'd), NULL if malformed
 * or empty. */
unsigned char *imp_b64_bytes(const char *text, size_t *len);
/* The part of a URI after the last '#' (or all of it), lowercased. */
void imp_uri_fragment(const char *uri, char *buf, size_t len);

#endif
