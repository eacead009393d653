/* imagefmt/dockerfile/parser.h: the Dockerfile parser (BuildKit's
 * frontend/dockerfile/parser, rewritten in C) and its two printers.
 *
 * The parser turns bytes into a flat list of instructions; it does no word
 * expansion (imagefmt/dockerfile/shell.h does that when the build runs) and
 * does not validate instruction semantics beyond what BuildKit's parser does,
 * plus the ONBUILD trigger checks.  Unknown instructions and flags are kept. */
#ifndef NOOK_IMAGEFMT_DOCKERFILE_PARSER_H
#define NOOK_IMAGEFMT_DOCKERFILE_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/error.h"
#include "util/util.h"

/* Inputs larger than this are refused, as are physical lines longer than
 * DOCKERFILE_MAX_LINE bytes. */
#define DOCKERFILE_MAX_SIZE (16u * 1024 * 1024)
#define DOCKERFILE_MAX_LINE (1u * 1024 * 1024)

/* A here-document: `RUN <<EOF`, `COPY <<-"EOF" /dst`, `RUN 3<<EOF`. */
struct dockerfile_heredoc
{
  char *name;      /* the terminator word, quotes removed ("EOF") */
  char *content;   /* the body, every line with its line end; leading tabs already
                      removed when strip_tabs (<<-) */
  unsigned fd;     /* the digits before <<, 0 when none */
  bool expand;     /* false when the delimiter was quoted: no expansion of the body */
  bool strip_tabs; /* <<- */
};

/* One instruction. */
struct dockerfile_node
{
  char *keyword;  /* lower case as written: "run", "copy", "foo" for unknown ones */
  char *original; /* the whole logical line, continuations joined */
  char **flags;   /* NULL-terminated: "--from=build", "--mount=type=cache,target=/x" */
  char **args;    /* NULL-terminated (see the table in print.c / the README); an
                     argument decoded from JSON may hold a NUL byte: args_len has
                     the real lengths */
  size_t *args_len;
  size_t n_args;
  struct dockerfile_heredoc *heredocs;
  size_t n_heredocs;
  bool json_form;               /* exec form: args came from a JSON array */
  bool empty_continuation;      /* a blank line inside its continuation lines */
  int start_line;               /* 1-based, first physical line */
  int end_line;                 /* last physical line consumed (continuations, heredoc bodies) */
  struct dockerfile_node *next; /* ONBUILD: the trigger instruction (heredocs on it) */
};

struct dockerfile
{
  struct dockerfile_node *nodes;
  size_t n_nodes;
  char escape;           /* '\\' or '`' */
  char *syntax;          /* `# syntax=` directive value, or NULL */
  char *check;           /* `# check=` directive value, or NULL */
  bool escape_directive; /* `# escape=` was given */
  int start_line, end_line;
  char **warnings; /* NULL-terminated, may be NULL (empty continuation lines) */
};

/* Parse buf[0..len).  filename is only used in messages ("FILE:LINE: what").
 * On failure returns -1, *out untouched, err->exit = 1. */
int dockerfile_parse (const char *buf, size_t len, const char *filename, struct dockerfile **out,
                      nook_error_t *err);
/* Read a file (at most DOCKERFILE_MAX_SIZE bytes) and parse it.  I/O errors
 * exit 125, parse errors exit 1. */
int dockerfile_parse_file (const char *path, struct dockerfile **out, nook_error_t *err);
void dockerfile_free (struct dockerfile *df);
void cleanup_dockerfilep (struct dockerfile **df);
#define cleanup_dockerfile __attribute__ ((cleanup (cleanup_dockerfilep)))

/* BuildKit's parse-tree notation, one `(keyword ...)` line per instruction. */
void dockerfile_print_buildkit (const struct dockerfile *df, struct strbuf *out);
void dockerfile_node_print_buildkit (const struct dockerfile_node *n, struct strbuf *out);
/* The same tree as JSON (an indented document ending in a newline). */
char *dockerfile_print_json (const struct dockerfile *df);
/* Go strconv.Quote of s[0..len) appended to out. */
void dockerfile_quote (struct strbuf *out, const char *s, size_t len);

#endif
