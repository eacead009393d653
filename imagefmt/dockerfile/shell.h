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

/* True if BuildKit expands variables in the arguments of this instruction
   (case-insensitive keyword, e.g. "COPY"). */
bool dockerfile_shell_instruction_expands (const char *keyword);

#endif
