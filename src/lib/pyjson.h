/*
 * pyjson.h — serialise a jansson value exactly as Python's
 * json.dumps(obj, sort_keys=...) does with default arguments:
 *   separators ", " and ": ", ensure_ascii (every char outside 0x20..0x7e
 *   as \uXXXX, lowercase hex, surrogate pairs above the BMP; \" \\ \n \r
 *   \t \b \f short forms), floats as Python's repr (shortest round-trip,
 *   "1e+16" style exponent switching, "Infinity"/"NaN"), integers as is.
 * This is what privacyIDEA signs, so our signatures verify in its clients.
 */
#ifndef TESSERA_PYJSON_H
#define TESSERA_PYJSON_H

#include <jansson.h>
#include <stddef.h>

/* Returns a malloc'd NUL-terminated string; *len (may be NULL) its length.
 * sort_keys: 1 sorted by code point as Python does, 0 insertion order.
 * `last_key` (may be NULL): at the top level only, that key is written last
 * (privacyIDEA appends "signature" after signing). */
char *pyjson_dumps(const json_t *v, int sort_keys, const char *last_key, size_t *len);
/* Python repr() of a double into buf (>= 32 bytes). */
void pyjson_float_repr(double d, char *buf, size_t len);

/* privacyIDEA's is_true on a request or definition value: JSON true, the
 * integer 1, or the text "1", "true", "True", "TRUE"; anything else (NULL
 * too) is false. */
int pyjson_is_true(const json_t *v);

#endif
