/*
 * multipart.h — multipart/form-data request bodies (RFC 7578), as
 * privacyIDEA (Werkzeug) reads them for POST /token/load: every text
 * field becomes a parameter like a form field, every file part becomes a
 * parameter named after its form field holding the file's content.
 */
#ifndef TESSERA_MULTIPART_H
#define TESSERA_MULTIPART_H

#include <jansson.h>
#include <stddef.h>
#include "../lib/error.h"

/* Parse body (len bytes) with the boundary of content_type into obj:
 * name → value, the first occurrence of a name wins (keys already in obj
 * are kept, so the query string wins), text values percent-decoded once
 * more when `unquote` (as privacyIDEA's get_all_params), file contents
 * never.  Values must be UTF-8 text.  -1 + ERR905 on a malformed body. */
int multipart_parse(json_t *obj, const char *content_type, const char *body, size_t len, int unquote,
		    struct error *err);

#endif
