/* tests/fuzz/fuzz_dockerfile_parser.c: libFuzzer target for the Dockerfile parser,
 * both printers, the stage graph, the lint and the RUN/COPY/ADD flags; tests/fuzz/replay.c replays
 * the corpus. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imagefmt/dockerfile/flags.h"
#include "imagefmt/dockerfile/lint.h"
#include "imagefmt/dockerfile/parser.h"
#include "imagefmt/dockerfile/stages.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_dockerfile struct dockerfile *df = NULL;
  cleanup_dockerfile_stages struct dockerfile_stages *st = NULL;
  cleanup_error nook_error_t err = NULL;
  cleanup_free size_t *order = NULL;
  struct strbuf out = { 0 };
  size_t n = 0;
  if (size > (1u << 20))
    return 0;
  if (dockerfile_parse ((const char *)data, size, "fuzz", &df, &err) < 0)
    {
      if (err == NULL || err->msg == NULL)
        abort ();
      return 0;
    }
  dockerfile_print_buildkit (df, &out);
  strbuf_free (&out);
  free (dockerfile_print_json (df));
  if (dockerfile_stages_build (df, NULL, &st, &err) == 0)
    dockerfile_stages_for_target (st, NULL, &order, &n, &err);
  nook_error_free (&err);
  /* The lint, as a check (every stage) and as a build of the last stage. */
  for (int all = 0; all < 2; all++)
    {
      struct dockerfile_lint_opts o = { .all_stages = all };
      struct dockerfile_lint_result *res = NULL;
      if (dockerfile_lint (df, &o, &res, &err) < 0)
        {
          if (err == NULL || err->msg == NULL || df->check == NULL)
            abort ();
          nook_error_free (&err);
          continue;
        }
      for (size_t i = 0; i < res->n; i++)
        if (res->warnings[i].message == NULL || res->warnings[i].rule == NULL)
          abort ();
      dockerfile_lint_result_free (res);
    }
  /* The flags of RUN, COPY and ADD, expanded with a small environment. */
  char *env[] = { "A=1", "PATH=/bin", NULL };
  for (size_t i = 0; i < df->n_nodes; i++)
    {
      const struct dockerfile_node *node = &df->nodes[i];
      if (strcmp (node->keyword, "run") == 0)
        {
          struct dockerfile_run_flags rf = { 0 };
          if (dockerfile_run_flags_parse (node->flags, env, df->escape, &rf, &err) == 0)
            dockerfile_run_flags_clear (&rf);
          nook_error_free (&err);
        }
      else if (strcmp (node->keyword, "copy") == 0 || strcmp (node->keyword, "add") == 0)
        {
          struct dockerfile_copy_flags cf = { 0 };
          bool add = node->keyword[0] == 'a';
          if (dockerfile_copy_flags_parse (node->flags, add, env, df->escape, &cf, &err) == 0)
            {
              if (cf.chmod.set)
                (void)dockerfile_chmod_apply (&cf.chmod, 0644, false);
              if (cf.checksum && dockerfile_checksum_check (cf.checksum, &err) < 0)
                nook_error_free (&err);
              dockerfile_copy_flags_clear (&cf);
            }
          nook_error_free (&err);
        }
    }
  return 0;
}
