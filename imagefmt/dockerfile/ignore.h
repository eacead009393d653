/* imagefmt/dockerfile/ignore.h: .dockerignore files, read as Docker reads them
 * (moby/patternmatcher ignorefile.ReadAll + PatternMatcher.MatchesOrParentMatches).
 *
 * Lines: a line starting with `#` is a comment; lines are trimmed; blank lines are
 * skipped; `!` makes an exception; the pattern is cleaned like Go's filepath.Clean
 * and a leading `/` dropped.  Patterns: `*` any run without `/`, `?` one character
 * but `/`, `[...]`/`[^...]` classes with ranges, `**` any number of directories,
 * `\` escapes the next character.  The last pattern that matches a path decides;
 * a pattern that matches a parent directory matches everything below it.
 *
 * Differences from Docker: a bad pattern is an error when the file is parsed (Docker
 * fails only when the pattern is first used), and the few Go regexp escapes a
 * pattern could smuggle in (`\b`, `\pL`, `\x41`, `\Q`, `\1`) are refused. */
#ifndef NOOK_IMAGEFMT_DOCKERFILE_IGNORE_H
#define NOOK_IMAGEFMT_DOCKERFILE_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct dockerfile_ignore;

/* Parse a .dockerignore held in buf[0..len).  An invalid pattern fails with a
   message naming the line. */
int dockerfile_ignore_parse (const char *buf, size_t len, struct dockerfile_ignore **out,
                             nook_error_t *err);

/* Is relpath (relative to the context root, '/'-separated, cleaned here) excluded?
   The context root itself ("." or "") is never excluded. */
int dockerfile_ignore_matches (const struct dockerfile_ignore *ig, const char *relpath,
                               bool *excluded, nook_error_t *err);

/* For a walker that found directory `dir` excluded: may some exception pattern
   re-include a path below it?  If false the whole subtree can be skipped.
   Conservative: true whenever it cannot rule it out. */
bool dockerfile_ignore_may_reinclude_below (const struct dockerfile_ignore *ig, const char *dir);

/* Number of patterns, and pattern i as cleaned (without the `!`). */
size_t dockerfile_ignore_count (const struct dockerfile_ignore *ig);
const char *dockerfile_ignore_pattern (const struct dockerfile_ignore *ig, size_t i,
                                       bool *exception);

void dockerfile_ignore_free (struct dockerfile_ignore *ig);

#endif
