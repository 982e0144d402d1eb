/*
 * config.h — the pi.cfg file, read as privacyIDEA reads it.
 *
 * pi.cfg is Python; we accept the subset admins write: `KEY = value` where
 * value is a quoted string ('..', "..", triple quotes), an integer or float,
 * True/False/None, logging.DEBUG-style constants, or a list/dict literal
 * (kept as its source text; cfg_get_list parses a list of strings).
 * `import` lines and `#` comments are skipped.  The result is immutable
 * after loading and shared read-only by all threads.
 */
#ifndef TESSERA_CONFIG_H
#define TESSERA_CONFIG_H

#include <stddef.h>
#include "error.h"

struct cfg;

/* Locate the file: explicit path, else $PRIVACYIDEA_CONFIGFILE, else
 * /etc/tessera/pi.cfg.  Parse it.  On failure returns NULL and a message
 * suitable for one stderr line in err. */
struct cfg *cfg_load(const char *explicit_path, struct error *err);
/* Parse text (for tests); `origin` names it in messages. */
struct cfg *cfg_parse(const char *text, const char *origin, struct error *err);
void cfg_free(struct cfg *c);

const char *cfg_path(const struct cfg *c);
/* Folder holding the file: relative paths in values are taken from here
 * when the caller wants (sqlite:///rel is relative to the cwd, as SQLAlchemy). */
const char *cfg_dir(const struct cfg *c);

int cfg_has(const struct cfg *c, const char *key);
/* String value (quotes removed), or def when absent. Numbers and booleans
 * come back as their text ("30", "True"). */
const char *cfg_get_str(const struct cfg *c, const char *key, const char *def);
long long cfg_get_int(const struct cfg *c, const char *key, long long def);
/* True for True/true/1/"True"/"1"/"yes"; def when absent. */
int cfg_get_bool(const struct cfg *c, const char *key, int def);
/* A list literal of strings ['a', "b"] (or a single string) → NULL-terminated
 * array, caller frees with cfg_list_free. Absent → NULL. */
char **cfg_get_list(const struct cfg *c, const char *key);
void cfg_list_free(char **list);

/* Iterate over all keys (for debug logging of unknown keys). */
size_t cfg_count(const struct cfg *c);
const char *cfg_key_at(const struct cfg *c, size_t i);

#endif
