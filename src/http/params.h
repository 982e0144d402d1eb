/*
 * params.h — building the merged parameter object of a request, as
 * privacyIDEA's get_all_params does: query string and form fields (query
 * wins, first duplicate wins, every value percent-decoded once more as
 * Python's unquote does), then a JSON object body with native types, then
 * the URL placeholders.  The accessors used by handlers are in request.h.
 */
#ifndef TESSERA_PARAMS_H
#define TESSERA_PARAMS_H

#include <jansson.h>
#include <stddef.h>
#include "../lib/error.h"

/* Decode %XX sequences in place (no '+' handling: Python's unquote).
 * Invalid sequences are left as they are. Returns the new length. */
size_t params_unquote(char *s, size_t len);
/* application/x-www-form-urlencoded → add to obj, first occurrence wins
 * (keys already present are kept). '+' means space here. */
int params_parse_form(json_t *obj, const char *body, size_t len, int unquote, struct error *err);
/* Add key=value if key is absent (first wins); value is unquoted once more
 * when `unquote`. */
void params_add_first(json_t *obj, const char *key, const char *value, int unquote);
/* privacyIDEA skips the extra unquote for a few of its own clients,
 * recognised by the User-Agent's product name. */
int params_wants_unquote(const char *user_agent);
/* Merge a JSON body. Returns -1 with ERR905 on malformed or non-object JSON
 * when `strict` (Content-Type said JSON); otherwise silently ignores. */
int params_merge_json(json_t *obj, const char *body, size_t len, int strict, struct error *err);

#endif
