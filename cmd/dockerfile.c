/* cmd/dockerfile.c: `nook dockerfile parse|stages|check`: the Dockerfile parser, the
 * stage graph and BuildKit's build checks from the command line (imagefmt/dockerfile/). */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "imagefmt/dockerfile/ignore.h"
#include "imagefmt/dockerfile/lint.h"
#include "imagefmt/dockerfile/parser.h"
#include "imagefmt/dockerfile/stages.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct df_opts
{
  const char *format; /* parse: "buildkit" or "json" */
  const char *target; /* stages, check */
  char **build_args;  /* stages, check */
  const char *file;   /* parse, stages: the Dockerfile; check: -f */
  const char *path;   /* check: the context (or the Dockerfile itself) */
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage:  nook dockerfile parse [--format buildkit|json] DOCKERFILE\n"
                "        nook dockerfile stages [--target STAGE] [--build-arg NAME=VALUE]... "
                "DOCKERFILE\n"
                "        nook dockerfile check [-f DOCKERFILE] [--target STAGE] "
                "[--build-arg NAME=VALUE]... [PATH]\n\n"
                "Parse a Dockerfile as BuildKit does, list the stages a build needs, or run\n"
                "BuildKit's build checks on it. DOCKERFILE may be - for standard input.\n\n"
                "Commands:\n"
                "  parse    Print the parse tree (BuildKit's notation, or JSON with lines,\n"
                "           flags, arguments and heredocs); a syntax error prints FILE:LINE: what\n"
                "           and exits 1\n"
                "  stages   Print the stages a build of the target needs, in build order, one\n"
                "           per line: index and name\n"
                "  check    Run the build checks (`docker build --check`): one line per\n"
                "           warning, FILE:LINE: Rule: message, then the rule's description;\n"
                "           exit 0 without warnings, 1 with warnings. PATH is the build\n"
                "           context (default .; its .dockerignore is read) or a Dockerfile;\n"
                "           the Dockerfile is PATH/Dockerfile unless -f names one.\n"
                "           `# check=skip=RULE,...|all;error=true` is honoured\n\n"
                "Options:\n"
                "      --format FORMAT        parse: buildkit (default) or json\n"
                "      --target STAGE         stages: the stage to build (default: the last);\n"
                "                             check: check only the stages it needs\n"
                "      --build-arg NAME=VALUE stages, check: override an ARG\n"
                "  -f, --file DOCKERFILE      check: the Dockerfile (default: PATH/Dockerfile)\n"
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
parse_opts (int argc, char **argv, bool stages, bool check, struct df_opts *o, nook_error_t *err)
{
  for (int i = 2; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if (check && (argv[i][0] != '-' || strcmp (argv[i], "-") == 0 || strcmp (argv[i], "--") == 0))
        {
          if (strcmp (argv[i], "--") == 0 && ++i >= argc)
            break;
          if (o->path || (strcmp (argv[i - 1], "--") == 0 && i + 1 < argc))
            return cmd_args_error (err, "dockerfile",
                                   "\"nook dockerfile check\" requires at most 1 argument");
          o->path = argv[i];
          continue;
        }
      if (check && (r = opt_value (argc, argv, &i, "--file", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          o->file = v;
          continue;
        }
      if (check && (r = opt_value (argc, argv, &i, "-f", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          o->file = v;
          continue;
        }
      if (!check
          && (strcmp (argv[i], "--") == 0 || argv[i][0] != '-' || strcmp (argv[i], "-") == 0))
        {
          int k = strcmp (argv[i], "--") == 0 ? i + 1 : i;
          if (k + 1 != argc)
            return cmd_args_error (err, "dockerfile",
                                   "\"nook dockerfile %s\" requires exactly 1 Dockerfile", argv[1]);
          o->file = argv[k];
          return 0;
        }
      if (!stages && !check && (r = opt_value (argc, argv, &i, "--format", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          if (strcmp (v, "buildkit") != 0 && strcmp (v, "json") != 0)
            return nook_error_set (err, 0, "invalid --format '%s' (buildkit or json)", v);
          o->format = v;
        }
      else if ((stages || check) && (r = opt_value (argc, argv, &i, "--target", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          o->target = v;
        }
      else if ((stages || check) && (r = opt_value (argc, argv, &i, "--build-arg", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          strv_push (&o->build_args, v);
        }
      else
        return cmd_flag_error (err, "dockerfile", "unknown flag: %s", argv[i]);
    }
  if (check)
    return 0;
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

/* The .dockerignore that applies: NAME.dockerignore beside the Dockerfile (BuildKit
   prefers it), else the context's; *ig stays NULL when there is none. */
static int
load_ignore (const char *dockerfile, const char *context, struct dockerfile_ignore **ig,
             nook_error_t *err)
{
  const char *cands[2] = { NULL, NULL };
  cleanup_free char *beside = NULL;
  cleanup_free char *inctx = NULL;
  if (dockerfile && strcmp (dockerfile, "-") != 0)
    cands[0] = beside = xasprintf ("%s.dockerignore", dockerfile);
  if (context)
    cands[1] = inctx = xasprintf ("%s/.dockerignore", context);
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_free char *buf = NULL;
      cleanup_error nook_error_t rerr = NULL;
      size_t len = 0;
      if (cands[i] == NULL)
        continue;
      if (fs_read_file_at (AT_FDCWD, cands[i], 1u << 20, &buf, &len, &rerr) < 0)
        {
          if (rerr->code == ENOENT)
            continue;
          return nook_error_set (err, rerr->code, "%s", rerr->msg);
        }
      if (dockerfile_ignore_parse (buf, len, ig, &rerr) < 0)
        return nook_error_set (err, 0, "%s: %s", cands[i], rerr->msg);
      return 0;
    }
  return 0;
}

/* Base image environments for UndefinedVar, from the local store only (a check
   pulls nothing); the store is opened only if it exists. */
struct base_envs
{
  const char *root;
  struct imagefmt_store *store;
  bool tried;
};

static char **
base_env_from_store (void *data, const char *image)
{
  struct base_envs *b = data;
  struct imagefmt_image *img = NULL;
  cleanup_error nook_error_t err = NULL;
  char **env = NULL;
  if (!b->tried)
    {
      cleanup_free char *root = b->root ? xstrdup (b->root) : imagefmt_store_default_root (&err);
      struct stat st;
      b->tried = true;
      if (root == NULL || stat (root, &st) < 0 || imagefmt_store_open (root, &b->store, &err) < 0)
        b->store = NULL;
    }
  if (b->store == NULL || imagefmt_store_lookup (b->store, image, &img, &err) < 0)
    {
      fprintf (stderr,
               "note: %s is not in the local store: UndefinedVar is not checked in its stages\n",
               image);
      return NULL;
    }
  json_t *e = json_object_get (json_object_get (img->config, "config"), "Env");
  size_t i;
  json_t *v;
  env = xzalloc (sizeof *env);
  json_array_foreach (e, i, v) if (json_is_string (v)) strv_push (&env, json_string_value (v));
  imagefmt_image_free (img);
  return env;
}

static int
cmd_check (struct nook_ctx *ctx, struct df_opts *o, nook_error_t *err)
{
  struct base_envs envs = { .root = ctx->root };
  cleanup_dockerfile struct dockerfile *df = NULL;
  cleanup_dockerfile_lint_result struct dockerfile_lint_result *res = NULL;
  struct dockerfile_ignore *ig = NULL;
  cleanup_free char *dfpath = NULL;
  cleanup_free char *ctxdir = NULL;
  cleanup_error nook_error_t lerr = NULL;
  struct strbuf out = { 0 };
  struct stat st;
  const char *path = o->path ? o->path : ".";
  int r;
  if (strcmp (path, "-") == 0)
    dfpath = xstrdup ("-");
  else if (stat (path, &st) < 0)
    return nook_error_set (err, errno, "unable to prepare context: path \"%s\" not found", path);
  else if (!S_ISDIR (st.st_mode))
    {
      /* A Dockerfile given as PATH: its directory is the context. */
      const char *slash = strrchr (path, '/');
      dfpath = xstrdup (path);
      ctxdir = slash ? xstrndup (path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup (".");
    }
  else
    {
      ctxdir = xstrdup (path);
      dfpath = o->path ? xasprintf ("%s/Dockerfile", path) : xstrdup ("Dockerfile");
    }
  if (o->file)
    {
      free (dfpath);
      dfpath = xstrdup (o->file);
    }
  struct df_opts lo = *o;
  lo.file = dfpath;
  r = load (&lo, &df, err);
  if (r != 0)
    return r;
  if (load_ignore (dfpath, ctxdir, &ig, err) < 0)
    return -1;
  struct dockerfile_lint_opts lopts = {
    .all_stages = o->target == NULL,
    .target = o->target,
    .build_args = o->build_args,
    .ignore = ig,
    .base_env = base_env_from_store,
    .base_env_data = &envs,
  };
  r = dockerfile_lint (df, &lopts, &res, &lerr);
  dockerfile_ignore_free (ig);
  if (envs.store)
    imagefmt_store_close (envs.store);
  if (r < 0)
    return nook_error_set (err, 0, "%s: %s", dfpath, lerr->msg);
  const char *name = strcmp (dfpath, "-") == 0 ? "Dockerfile" : dfpath;
  for (size_t i = 0; i < res->n; i++)
    {
      dockerfile_lint_format (name, &res->warnings[i], &out);
      strbuf_appendf (&out, "    %s\n", res->warnings[i].description);
    }
  r = write_out (out.buf ? out.buf : "", out.len, err);
  strbuf_free (&out);
  if (r < 0)
    return -1;
  if (res->n == 0)
    fprintf (stderr, "Check complete, no warnings found.\n");
  else
    fprintf (stderr, "Check complete, %zu warning%s been found!\n", res->n,
             res->n == 1 ? " has" : "s have");
  cleanup_free char *fatal = dockerfile_lint_error_message (res);
  if (fatal)
    fprintf (stderr, "Error: %s\n", fatal);
  return res->n > 0 ? 1 : 0;
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
  bool check = strcmp (argv[1], "check") == 0;
  if (!stages && !check && strcmp (argv[1], "parse") != 0)
    return cmd_args_error (err, "dockerfile", "unknown command: nook dockerfile %s", argv[1]);
  if (cmd_wants_help (argc - 1, argv + 1))
    {
      usage (stdout);
      return 0;
    }
  if (parse_opts (argc, argv, stages, check, &o, err) < 0)
    r = -1;
  else if (check)
    r = cmd_check (ctx, &o, err);
  else
    r = stages ? cmd_stages (&o, err) : cmd_parse (&o, err);
  strv_free (o.build_args);
  return r;
}
