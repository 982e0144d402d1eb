/*
 * pyre.h — the two uses of Python's `re` module that privacyIDEA's
 * authorization and mangle policies make: re.search(pattern, s) and
 * re.sub(pattern, repl, s) with Python's replacement syntax (\1, \g<1>,
 * \g<name>, \n ...), on PCRE2.
 */
#ifndef TESSERA_PYRE_H
#define TESSERA_PYRE_H

/* 1 when pattern matches anywhere in s, 0 when not, -1 invalid pattern. */
int pyre_search(const char *pattern, const char *s);
/* Every non-overlapping match replaced; *out malloc'd.  0 ok, -1 invalid
 * pattern or replacement (*out NULL). */
int pyre_sub(const char *pattern, const char *repl, const char *s, char **out);

#endif
