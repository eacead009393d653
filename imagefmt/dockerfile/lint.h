/* imagefmt/dockerfile/lint.h: BuildKit's build checks over a parsed Dockerfile
 * (frontend/dockerfile/linter and the checks dockerfile2llb runs while it
 * converts), for `nook dockerfile check` and the warnings of `nook build`.
 *
 * Rules (BuildKit's names and messages):
 *   parse level, every stage: NoEmptyContinuation, MaintainerDeprecated,
 *     StageNameCasing, FromAsCasing, ReservedStageName, DuplicateStageName,
 *     ConsistentInstructionCasing, InvalidDefaultArgInFrom, UndefinedArgInFrom,
 *     RedundantTargetPlatform, FromPlatformFlagConstDisallowed
 *   per stage as it would be dispatched (every stage, or the stages the target
 *   needs): JSONArgsRecommended, MultipleInstructionsDisallowed,
 *   LegacyKeyValueFormat, WorkdirRelativePath, SecretsUsedInArgOrEnv,
 *   UndefinedVar, ExposeProtoCasing, ExposeInvalidFormat, CopyIgnoredFile (when a
 *   .dockerignore without `!` exceptions is given).  Not run: the experimental
 *   InvalidDefinitionDescription, and InvalidBaseImagePlatform (the build's, once
 *   it has the base image).
 *
 * `# check=skip=A,B|all;error=true` (or the build arg BUILDKIT_DOCKERFILE_CHECK,
 * which replaces it, as BuildKit's) is honoured; a bad value is an error.
 *
 * Known differences from BuildKit: UndefinedVar needs the base image's
 * environment, which only the caller knows (base_env below); for a stage whose
 * base image environment is unknown the rule is not run.  SHELL set by a base
 * image is unknown too (JSONArgsRecommended then still warns).  `# check=`
 * comments just above a single instruction are not read (only the directive). */
#ifndef NOOK_IMAGEFMT_DOCKERFILE_LINT_H
#define NOOK_IMAGEFMT_DOCKERFILE_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "imagefmt/dockerfile/ignore.h"
#include "imagefmt/dockerfile/parser.h"
#include "util/error.h"
#include "util/util.h"

struct dockerfile_lint_warning
{
  const char *rule;        /* static: "JSONArgsRecommended" */
  const char *description; /* static: the rule's description (no URL) */
  char *message;           /* "JSON arguments recommended for CMD to prevent ..." */
  int line;                /* 1-based first line of the instruction it is about */
  int end_line;
};

/* The base image's environment for a stage FROM an image (not scratch, not a
 * stage): a NULL-terminated "NAME=value" list the lint frees, or NULL when it
 * is not known (UndefinedVar is then not checked in that stage). */
typedef char **(*dockerfile_lint_base_env_fn) (void *data, const char *image);

struct dockerfile_lint_opts
{
  bool all_stages;         /* check every stage (`dockerfile check`, BuildKit's --check
                              without --target); false: only the stages target needs */
  const char *target;      /* with !all_stages: the target stage, NULL = the last */
  char *const *build_args; /* "NAME=value" as for dockerfile_stages_build, may be NULL */
  const struct dockerfile_ignore *ignore; /* the context's .dockerignore, may be NULL */
  dockerfile_lint_base_env_fn base_env;   /* may be NULL: no base environment known */
  void *base_env_data;
};

struct dockerfile_lint_result
{
  struct dockerfile_lint_warning *warnings; /* sorted by line, then as found */
  size_t n;
  bool error_on_warning; /* `check=error=true`: the build fails when n > 0 */
  bool skip_all;         /* `check=skip=all` */
};

/* Run the checks.  Fails (-1, exit 1) only on a bad `# check=` value; opts may be
 * NULL (every stage, nothing else known). */
int dockerfile_lint (const struct dockerfile *df, const struct dockerfile_lint_opts *opts,
                     struct dockerfile_lint_result **out, nook_error_t *err);
void dockerfile_lint_result_free (struct dockerfile_lint_result *r);
void cleanup_dockerfile_lint_resultp (struct dockerfile_lint_result **r);
#define cleanup_dockerfile_lint_result __attribute__ ((cleanup (cleanup_dockerfile_lint_resultp)))

/* "FILE:LINE: Rule: message\n" (no line part when line is 0). */
void dockerfile_lint_format (const char *file, const struct dockerfile_lint_warning *w,
                             struct strbuf *out);
/* BuildKit's short form, as builds print it after WARN: "Rule: message (line N)". */
char *dockerfile_lint_format_short (const struct dockerfile_lint_warning *w);
/* What a build prints after its steps when there were warnings (buildx's form), or
   NULL when there were none:
     2 warnings found (use --debug to expand):
      - JSONArgsRecommended: JSON arguments ... (line 3)
      - ... */
char *dockerfile_lint_format_summary (const struct dockerfile_lint_result *r);
/* With check=error=true and warnings: BuildKit's build error
 * "lint violation found for rules: A, B" (each rule once, in the warnings' order); else NULL. */
char *dockerfile_lint_error_message (const struct dockerfile_lint_result *r);

/* Parse a `check=` value ("skip=A,B;error=true"): for tests and the CLI. */
int dockerfile_lint_parse_check (const char *value, char ***skip, bool *skip_all, bool *error,
                                 nook_error_t *err);

#endif
