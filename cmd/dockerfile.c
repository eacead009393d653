/* cmd/dockerfile.c: `nook dockerfile parse|stages`: the Dockerfile parser and the
 * stage graph from the command line (imagefmt/dockerfile/). */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "imagefmt/dockerfile/parser.h"
#include "imagefmt/dockerfile/stages.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct df_opts
{
  const char *format; /* parse: "buildkit" or "json" */
  const char *target; /* stages */
  char **build_args;  /* stages */
  const char *file;
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage:  nook dockerfile parse [--format buildkit|json] DOCKERFILE\n"
                "        nook dockerfile stages [--target STAGE] [--build-arg NAME=VALUE]... "
                "DOCKERFILE\n\n"
                "Parse a Dockerfile as BuildKit does, or list the stages a build needs.\n"
                "DOCKERFILE may be - for standard input.\n\n"
                "Commands:\n"
                "  parse    Print the parse tree (BuildKit's notation, or JSON with lines,\n"
                "           flags, arguments and heredocs); a syntax error prints FILE:LINE: what\n"
                "           and exits 1\n"
                "  stages   Print the stages a build of the target needs, in build order, one\n"
                "           per line: index and name\n\n"
                "Options:\n"
                "      --format FORMAT        parse: buildkit (default) or json\n"
                "      --target STAGE         stages: the stage to build (default: the last)\n"
                "      --build-arg NAME=VALUE stages: override an ARG before the first FROM\n"
                "  -h, --help                 Print usage\n");
}

/* --name VALUE or --name=VALUE at argv[*i]; NULL if argv[*i] is not --name. */
static int
opt_value (int argc, char **argv, int *i, const char *name, const char **val, nook_error_t *err)
{
  size_t n = strlen (name);
  const char *a = argv[*i];
  if (strncmp (a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
    return 0;
  if (a[n] == '=')
    *val = a + n + 1;
  else if (*i + 1 < argc)
    *val = argv[++*i];
  else
    return cmd_flag_error (err, "dockerfile", "flag needs an argument: %s", name);
  return 1;
}

static int
parse_opts (int argc, char **argv, bool stages, struct df_opts *o, nook_error_t *err)
{
  for (int i = 2; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if (strcmp (argv[i], "--") == 0 || argv[i][0] != '-' || strcmp (argv[i], "-") == 0)
        {
          int k = strcmp (argv[i], "--") == 0 ? i + 1 : i;
          if (k + 1 != argc)
            return cmd_args_error (err, "dockerfile",
                                   "\"nook dockerfile %s\" requires exactly 1 Dockerfile", argv[1]);
          o->file = argv[k];
          return 0;
        }
      if (!stages && (r = opt_value (argc, argv, &i, "--format", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          if (strcmp (v, "buildkit") != 0 && strcmp (v, "json") != 0)
            return nook_error_set (err, 0, "invalid --format '%s' (buildkit or json)", v);
          o->format = v;
        }
      else if (stages && (r = opt_value (argc, argv, &i, "--target", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          o->target = v;
        }
      else if (stages && (r = opt_value (argc, argv, &i, "--build-arg", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          strv_push (&o->build_args, v);
        }
      else
        return cmd_flag_error (err, "dockerfile", "unknown flag: %s", argv[i]);
    }
  return cmd_args_error (err, "dockerfile", "\"nook dockerfile %s\" requires exactly 1 Dockerfile",
                         argv[1]);
}

static int
read_input (const char *file, char **buf, size_t *len, nook_error_t *err)
{
  if (strcmp (file, "-") == 0)
    return fs_read_file_at (AT_FDCWD, "/dev/stdin", DOCKERFILE_MAX_SIZE, buf, len, err);
  return fs_read_file_at (AT_FDCWD, file, DOCKERFILE_MAX_SIZE, buf, len, err);
}

/* Parse o->file; a syntax error reads FILE:LINE: what. */
static int
load (const struct df_opts *o, struct dockerfile **df, nook_error_t *err)
{
  cleanup_free char *buf = NULL;
  cleanup_error nook_error_t perr = NULL;
  size_t len = 0;
  if (read_input (o->file, &buf, &len, err) < 0)
    return -1;
  if (dockerfile_parse (buf, len, o->file, df, &perr) < 0)
    return nook_error_set (err, 0, "%s", perr->msg);
  return 0;
}

static int
write_out (const char *s, size_t n, nook_error_t *err)
{
  if (fwrite (s, 1, n, stdout) != n || fflush (stdout) != 0)
    return nook_error_set (err, errno, "write to standard output");
  return 0;
}

static int
cmd_parse (const struct df_opts *o, nook_error_t *err)
{
  cleanup_dockerfile struct dockerfile *df = NULL;
  int r = load (o, &df, err);
  if (r != 0)
    return r;
  if (o->format && strcmp (o->format, "json") == 0)
    {
      cleanup_free char *text = dockerfile_print_json (df);
      return write_out (text, strlen (text), err);
    }
  struct strbuf out = { 0 };
  dockerfile_print_buildkit (df, &out);
  r = write_out (out.buf ? out.buf : "", out.len, err);
  strbuf_free (&out);
  return r;
}

static int
cmd_stages (const struct df_opts *o, nook_error_t *err)
{
  cleanup_dockerfile struct dockerfile *df = NULL;
  cleanup_dockerfile_stages struct dockerfile_stages *st = NULL;
  cleanup_error nook_error_t serr = NULL;
  cleanup_free size_t *order = NULL;
  struct strbuf out = { 0 };
  size_t n = 0;
  int r = load (o, &df, err);
  if (r != 0)
    return r;
  if (dockerfile_stages_build (df, o->build_args, &st, &serr) < 0
      || dockerfile_stages_for_target (st, o->target, &order, &n, &serr) < 0)
    return nook_error_set (err, 0, "%s: %s", o->file, serr->msg);
  for (size_t i = 0; i < n; i++)
    {
      const struct dockerfile_stage *s = &st->stages[order[i]];
      strbuf_appendf (&out, "%zu%s%s\n", s->index, s->name ? " " : "", s->name ? s->name : "");
    }
  r = write_out (out.buf ? out.buf : "", out.len, err);
  strbuf_free (&out);
  return r;
}

int
cmd_dockerfile (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct df_opts o = { .format = "buildkit" };
  int r;
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 1 : 0;
    }
  bool stages = strcmp (argv[1], "stages") == 0;
  if (!stages && strcmp (argv[1], "parse") != 0)
    return cmd_args_error (err, "dockerfile", "unknown command: nook dockerfile %s", argv[1]);
  if (cmd_wants_help (argc - 1, argv + 1))
    {
      usage (stdout);
      return 0;
    }
  if (parse_opts (argc, argv, stages, &o, err) < 0)
    r = -1;
  else
    r = stages ? cmd_stages (&o, err) : cmd_parse (&o, err);
  strv_free (o.build_args);
  return r;
}
