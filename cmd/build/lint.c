/* cmd/build/lint.c: BuildKit's build checks during `nook build`
 * (imagefmt/dockerfile/lint.h): each warning printed as BuildKit's plain progress
 * does, in the vertex that loaded the Dockerfile ("#1 WARN: Rule: message (line N)"),
 * the summary buildx prints after the build, `# check=error=true` failing the build
 * before any step, and `--check` running only the checks. */
#include "cmd/build/build.h"
#include "imagefmt/dockerfile/lint.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The environment of a base image in the store (UndefinedVar needs it); NULL when it
 * is not there (a check pulls nothing: the rule is then not run in that stage). */
static char **
base_env (void *data, const char *image)
{
  struct build *b = data;
  struct imagefmt_image *img = NULL;
  cleanup_error nook_error_t err = NULL;
  if (b->store == NULL || imagefmt_store_lookup (b->store, image, &img, &err) < 0)
    return NULL;
  json_t *e = json_object_get (json_object_get (img->config, "config"), "Env");
  size_t i;
  json_t *v;
  char **env = xzalloc (sizeof *env);
  json_array_foreach (e, i, v) if (json_is_string (v)) strv_push (&env, json_string_value (v));
  imagefmt_image_free (img);
  return env;
}

int
build_lint (struct build *b, int *check_status, nook_error_t *err)
{
  struct dockerfile_lint_opts lo = {
    .all_stages = b->o->check && b->o->target == NULL,
    .target = b->o->target,
    .build_args = b->o->build_args,
    .ignore = b->ignore,
    .base_env = base_env,
    .base_env_data = b,
  };
  struct dockerfile_lint_result *res = NULL;
  cleanup_error nook_error_t lerr = NULL;
  if (dockerfile_lint (b->df, &lo, &res, &lerr) < 0)
    return nook_error_set_exit (err, 1, 0, "failed to solve: %s", lerr->msg);
  cleanup_free char *fatal = dockerfile_lint_error_message (res);
  if (b->o->check)
    {
      /* `build --check`: the checks only, as `docker build --check` */
      const char *name = b->df_path ? b->df_path : "Dockerfile";
      struct strbuf out = { 0 };
      for (size_t i = 0; i < res->n; i++)
        {
          strbuf_appendf (&out, "\nWARNING: %s\n%s\n", res->warnings[i].rule,
                          res->warnings[i].message);
          if (res->warnings[i].line > 0)
            strbuf_appendf (&out, "%s:%d\n", name, res->warnings[i].line);
        }
      if (res->n == 0)
        fprintf (b->out, "Check complete, no warnings found.\n");
      else
        fprintf (b->out, "Check complete, %zu warning%s been found!\n%s", res->n,
                 res->n == 1 ? " has" : "s have", out.buf);
      fflush (b->out);
      strbuf_free (&out);
      *check_status = res->n > 0 ? 1 : 0; /* buildx: 1 when a check warned */
      if (fatal)
        nook_error_set_exit (err, 1, 0, "%s", fatal);
      dockerfile_lint_result_free (res);
      return fatal ? -1 : 0;
    }
  if (!b->quiet)
    for (size_t i = 0; i < res->n; i++)
      {
        cleanup_free char *s = dockerfile_lint_format_short (&res->warnings[i]);
        fprintf (b->out, "#1 WARN: %s\n", s);
      }
  if (fatal)
    {
      if (!b->quiet)
        {
          cleanup_free char *sum = dockerfile_lint_format_summary (res);
          if (sum)
            fprintf (b->out, "\n%s", sum);
        }
      dockerfile_lint_result_free (res);
      return nook_error_set_exit (err, 1, 0, "failed to solve: %s", fatal);
    }
  b->lint_summary = dockerfile_lint_format_summary (res);
  dockerfile_lint_result_free (res);
  return 0;
}
