/* imagefmt/dockerfile/shell.h: Dockerfile word expansion, as BuildKit's shell
 * lexer (frontend/dockerfile/shell/lex.go) does it.
 *
 * Which instructions expand which arguments (BuildKit's replaceEnvAllowed set):
 *   ADD, COPY        every source and the destination (and --chown/--chmod values)
 *   ENV, LABEL       keys and values
 *   ARG              the name and the default value
 *   EXPOSE, FROM, STOPSIGNAL, USER, VOLUME, WORKDIR   their arguments
 *   ONBUILD          no (the trigger is expanded when it runs in the child build)
 *   RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER   no (the shell does it)
 * dockerfile_shell_instruction_expands() answers this for one keyword. */
#ifndef NOOK_IMAGEFMT_DOCKERFILE_SHELL_H
#define NOOK_IMAGEFMT_DOCKERFILE_SHELL_H

#include <stdbool.h>

#include "util/error.h"

/* Expand one word as BuildKit does (quotes removed, $VAR/${...} expanded, no splitting).
   env: NULL-terminated "NAME=value" strings, the last one for a name wins; may be NULL. */
int dockerfile_shell_expand_word (const char *word, char escape, char *const *env, char **out,
                                  nook_error_t *err);
/* Expand, then split into words at unquoted whitespace. *out is a NULL-terminated strv. */
int dockerfile_shell_expand_words (const char *text, char escape, char *const *env, char ***out,
                                   nook_error_t *err);

/* BuildKit's Lex options. */
struct dockerfile_shell_opts
{
  bool keep_quotes;  /* RawQuotes: quote characters stay in the result */
  bool keep_escapes; /* RawEscapes: escape characters stay in the result */
  bool skip_quotes;  /* SkipProcessQuotes: ' and " are ordinary characters */
  bool skip_unset;   /* SkipUnsetEnv: an unset $V / ${V...} is left as written */
};

struct dockerfile_shell_result
{
  char *word;       /* the expanded text, not split */
  char **words;     /* the same split at unquoted whitespace (NULL-terminated) */
  char **matched;   /* names looked up and found, each once, in order of use */
  char **unmatched; /* names looked up and not set */
};

/* The general form: opts may be NULL (all false).  On success fills *res (free
   with dockerfile_shell_result_clear); on failure *res is empty.
   Notes: as in BuildKit, the input is read as UTF-8 and an invalid byte becomes
   U+FFFD; ${a:-...} nests at most 64 deep here (BuildKit: unbounded); names are
   Unicode letters/digits/_ (Unicode 14 tables). */
int dockerfile_shell_expand (const char *text, char escape, char *const *env,
                             const struct dockerfile_shell_opts *opts,
                             struct dockerfile_shell_result *res, nook_error_t *err);
void dockerfile_shell_result_clear (struct dockerfile_shell_result *res);

/* True if BuildKit expands variables in the arguments of this instruction
   (case-insensitive keyword, e.g. "COPY"). */
bool dockerfile_shell_instruction_expands (const char *keyword);

#endif
