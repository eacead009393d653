/* imagefmt/dockerfile/internal.h: declarations shared by the files of
 * imagefmt/dockerfile/ (parser.c, lex.c and print.c; shell.c, pattern.c and
 * unicode.c; ignore.c and ignore_match.c); not part of the module's API. */
#ifndef NOOK_IMAGEFMT_DOCKERFILE_INTERNAL_H
#define NOOK_IMAGEFMT_DOCKERFILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imagefmt/dockerfile/parser.h"
#include "util/error.h"
#include "util/util.h"

/* ---- Runes as Go sees them (unicode.c), for every file here ---- */

/* Decode one rune as Go's utf8.DecodeRune: an invalid or short sequence is
   U+FFFD of width 1.  n > 0. */
int32_t dockerfile_decode_rune (const unsigned char *s, size_t n, size_t *width);
/* Append r as UTF-8; a negative, surrogate or too large r becomes U+FFFD. */
void dockerfile_put_rune (struct strbuf *b, int32_t r);
/* Append the UTF-8 encoding of cp as is (no U+FFFD substitution; the lexers
   of parser.c, lex.c and print.c use it). */
void dockerfile_utf8_append (struct strbuf *b, uint32_t cp);
/* Go's unicode.IsSpace (false for a negative r). */
bool dockerfile_rune_is_space (int32_t r);
/* Byte length of a Unicode space at s (0 if none). */
size_t dockerfile_space_len (const char *s, size_t len);
/* Go's unicode.IsSpace(rune(b)) for one byte, as BuildKit's byte scanners use it. */
bool dockerfile_is_space_byte (unsigned char b);
/* Go's unicode.IsPrint (approximation: no unassigned-code-point table). */
bool dockerfile_rune_is_print (uint32_t cp);
/* Go's unicode.IsLetter and unicode.IsDigit (Unicode 14 tables). */
bool dockerfile_rune_is_letter (int32_t r);
bool dockerfile_rune_is_digit (int32_t r);

/* ---- The Dockerfile lexers (lex.c), for parser.c ---- */

/* Decode `[...]` as Go's encoding/json Decoder would (the first JSON value of s;
 * trailing text is ignored).  1: an array of strings (*out, *lens, *n set);
 * 0: not valid JSON; -1: valid JSON holding something other than strings. */
int dockerfile_json_string_array (const char *s, size_t len, char ***out, size_t **lens, size_t *n);

/* The heredocs a logical line starts (BuildKit's heredocsFromLine). */
int dockerfile_heredocs_from_line (const char *line, size_t len, struct dockerfile_heredoc **out,
                                   size_t *n, nook_error_t *err);
void dockerfile_heredoc_clear (struct dockerfile_heredoc *h);

/* ---- Shell patterns of ${v#p}, ${v%p}, ${v/p/r} (pattern.c), for shell.c ---- */

/* Nested ${v//p/r} multiply lengths: refuse results above this (BuildKit: OOM). */
#define DOCKERFILE_SHELL_MAX_OUTPUT (1u << 20)

/* Append value to out without its shortest (longest if greedy) prefix matching
   the pattern pat[0..patlen) (UTF-8); without such a suffix if `suffix`.
   -1 with *err on a bad escape in the pattern. */
int dockerfile_shell_pattern_trim (const char *pat, size_t patlen, const char *value, bool suffix,
                                   bool greedy, struct strbuf *out, nook_error_t *err);
/* Append value to out with the first (every, if `all`) leftmost-longest match
   of pat[0..patlen) replaced by repl.  -1 with *err on a bad escape in the
   pattern or a result above DOCKERFILE_SHELL_MAX_OUTPUT. */
int dockerfile_shell_pattern_replace (const char *pat, size_t patlen, const char *value,
                                      const char *repl, bool all, struct strbuf *out,
                                      nook_error_t *err);

/* ---- .dockerignore patterns (ignore_match.c), for ignore.c ---- */

enum dockerfile_ignore_match_type
{
  IGNORE_MATCH_EXACT,
  IGNORE_MATCH_PREFIX,
  IGNORE_MATCH_SUFFIX,
  IGNORE_MATCH_REGEXP,
};

struct dockerfile_ignore_item; /* one step of a compiled regexp */

struct dockerfile_ignore_pat
{
  char *text; /* cleaned, without '!' */
  bool exception;
  enum dockerfile_ignore_match_type type;
  struct dockerfile_ignore_item *items;
  size_t nitems;
};

/* Check p->text (what Go's filepath.Match rejects is an error) and compile it
   into p->type and p->items; -1 with *why (a static string) if it is bad. */
int dockerfile_ignore_pat_compile (struct dockerfile_ignore_pat *p, const char **why);
/* patternmatcher MatchesOrParentMatches for one pattern: does p match path
   (cleaned, relative) or one of its parent directories? */
bool dockerfile_ignore_pat_match_or_parent (const struct dockerfile_ignore_pat *p,
                                            const char *path);
/* Might p match some path that starts with prefix ("dir/", plen bytes)?
   Conservative: true whenever it cannot rule it out. */
bool dockerfile_ignore_pat_may_match_below (const struct dockerfile_ignore_pat *p,
                                            const char *prefix, size_t plen);
/* Free p->text and the compiled items. */
void dockerfile_ignore_pat_clear (struct dockerfile_ignore_pat *p);

#endif
