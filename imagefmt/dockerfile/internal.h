/* imagefmt/dockerfile/internal.h: declarations shared by parser.c, lex.c and
 * print.c; not part of the module's API. */
#ifndef NOOK_IMAGEFMT_DOCKERFILE_INTERNAL_H
#define NOOK_IMAGEFMT_DOCKERFILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imagefmt/dockerfile/parser.h"
#include "util/error.h"
#include "util/util.h"

/* Decode one UTF-8 sequence as Go does: invalid input gives U+FFFD and width 1.
 * len must be > 0. */
size_t df_utf8_decode (const char *s, size_t len, uint32_t *cp);
/* Append the UTF-8 encoding of cp. */
void df_utf8_append (struct strbuf *b, uint32_t cp);
/* Go's unicode.IsSpace. */
bool df_is_space_rune (uint32_t cp);
/* Byte length of a Unicode space at s (0 if none). */
size_t df_space_len (const char *s, size_t len);
/* Go's unicode.IsSpace(rune(b)) for one byte, as BuildKit's byte scanners use it. */
bool df_is_space_byte (unsigned char b);
/* Go's unicode.IsPrint (approximation: no unassigned-code-point table). */
bool df_is_print_rune (uint32_t cp);

/* Decode `[...]` as Go's encoding/json Decoder would (the first JSON value of s;
 * trailing text is ignored).  1: an array of strings (*out, *lens, *n set);
 * 0: not valid JSON; -1: valid JSON holding something other than strings. */
int df_json_string_array (const char *s, size_t len, char ***out, size_t **lens, size_t *n);

/* The heredocs a logical line starts (BuildKit's heredocsFromLine). */
int df_heredocs_from_line (const char *line, size_t len, struct dockerfile_heredoc **out, size_t *n,
                           nook_error_t *err);
void df_heredoc_clear (struct dockerfile_heredoc *h);

#endif
