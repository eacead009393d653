/* cmd/store_admin.c: `nook image prune`, `nook system df|check|info`. */
#include "cmd/build/build.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/format.h"
#include "cmd/records.h"
#include "cmd/store_open.h"
#include "imagefmt/store.h"
#include "imagefmt/store_check.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
cleanup_storep (struct imagefmt_store **s)
{
  imagefmt_store_close (*s);
}
#define cleanup_store __attribute__ ((cleanup (cleanup_storep)))

/* ---- image prune ---- */

struct prune_ctx
{
  const char *root;
  bool printed;
};

static char *
prune_using (void *data, const char *image_id, bool *running)
{
  struct prune_ctx *p = data;
  return container_using_image (p->root, image_id, running);
}

static void
prune_report (void *data, const char *what, const char *arg)
{
  struct prune_ctx *p = data;
  if (!p->printed)
    printf ("Deleted Images:\n");
  p->printed = true;
  printf ("%s: %s\n", strcmp (what, "Untagged") == 0 ? "untagged" : "deleted", arg);
}

int
cmd_image_prune (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  bool all = false, force = false;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook image prune [OPTIONS]\n\n"
              "Remove unused images\n\n"
              "Options:\n"
              "  -a, --all     Remove all unused images, not just dangling ones\n"
              "  -f, --force   Do not prompt for confirmation\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "-a") == 0 || strcmp (argv[i], "--all") == 0)
      all = true;
    else if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--force") == 0)
      force = true;
    else if (strcmp (argv[i], "-af") == 0 || strcmp (argv[i], "-fa") == 0)
      all = force = true;
    else if (argv[i][0] == '-')
      return cmd_flag_error (err, "image prune", "unknown flag: %s", argv[i]);
    else
      return cmd_args_error (err, "image prune", "\"nook image prune\" accepts no arguments.");
  if (!force)
    {
      printf ("WARNING! This will remove all %s.\nAre you sure you want to continue? [y/N] ",
              all ? "images without at least one container associated to them" : "dangling images");
      fflush (stdout);
      char line[16] = "";
      if (fgets (line, sizeof line, stdin) == NULL
          || !(strcmp (line, "y\n") == 0 || strcmp (line, "Y\n") == 0
               || strcmp (line, "yes\n") == 0))
        {
          printf ("\n");
          return 0;
        }
    }
  if (cmd_store_open (ctx->root, &s, NULL, NULL, err) < 0)
    return -1;
  struct prune_ctx p = { .root = imagefmt_store_root (s) };
  struct imagefmt_remove_opts o
      = { .container_using = prune_using, .report = prune_report, .data = &p };
  uint64_t reclaimed = 0;
  if (imagefmt_store_prune (s, all, &o, &reclaimed, err) < 0)
    return -1;
  cleanup_free char *h = cmd_human_size (reclaimed);
  printf ("%sTotal reclaimed space: %s\n", p.printed ? "\n" : "", h);
  return 0;
}

/* ---- system df ---- */

static bool
df_in_use (void *data, const char *image_id)
{
  cleanup_free char *c = container_using_image (data, image_id, NULL);
  return c != NULL;
}

struct cdf
{
  size_t total, active;
  uint64_t size, reclaimable;
};

static int
df_container (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct cdf *c = arg;
  json_t *cfg = container_read_json (dirfd, name, "config.json");
  if (cfg == NULL)
    return 0;
  json_t *st = container_read_json (dirfd, name, "state.json");
  pid_t pid = (pid_t)json_integer_value (json_object_get (cfg, "Pid"));
  unsigned long long start
      = (unsigned long long)json_integer_value (json_object_get (cfg, "PidStart"));
  bool running = st == NULL && pid > 0 && start != 0 && container_proc_start (pid) == start;
  json_decref (cfg);
  json_decref (st);
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  uint64_t size = fd >= 0 ? imagefmt_tree_size (fd, "upper") : 0;
  c->total++;
  c->active += running;
  c->size += size;
  if (!running)
    c->reclaimable += size;
  return 0;
}

static char *
reclaim_text (uint64_t r, uint64_t total)
{
  cleanup_free char *h = cmd_human_size (r);
  if (total == 0)
    return xstrdup (h);
  return xasprintf ("%s (%d%%)", h, (int)(r * 100 / total));
}

static int
system_df (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  struct imagefmt_df d;
  struct cdf c = { 0 };
  bool json = false;
  const char *tmpl = NULL; /* a Go template ("TMPL" or "table TMPL") */
  for (int i = 1; i < argc; i++)
    {
      const char *v;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--format", "system df", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          enum cmd_format f = cmd_format_kind (v);
          json = f == CMD_FORMAT_JSON;
          tmpl = f == CMD_FORMAT_TEMPLATE ? v : NULL;
        }
      else if (strcmp (argv[i], "-v") == 0 || strcmp (argv[i], "--verbose") == 0)
        return nook_error_set (err, 0, "nook system df has no --verbose view yet");
      else
        return cmd_flag_error (err, "system df", "unknown flag: %s", argv[i]);
    }
  if (imagefmt_store_open (ctx->root, &s, err) < 0
      || imagefmt_store_df (s, df_in_use, (void *)imagefmt_store_root (s), &d, err) < 0)
    return -1;
  cleanup_free char *cpath = xasprintf ("%s/containers", imagefmt_store_root (s));
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir >= 0 && fs_dir_foreach (cdir, df_container, &c, err) < 0)
    return -1;
  size_t bc_n = 0;
  uint64_t bc_bytes = 0;
  if (build_cache_usage (s, &bc_n, &bc_bytes, err) < 0)
    return -1;
  struct
  {
    const char *type;
    size_t total, active;
    uint64_t size, reclaimable;
  } rows[] = {
    { "Images", d.images, d.images_active, d.images_size, d.images_reclaimable },
    { "Containers", c.total, c.active, c.size, c.reclaimable },
    { "Unpacked layers", d.layers, d.layers_active, d.layers_size, d.layers_reclaimable },
    { "Local Volumes", 0, 0, 0, 0 },
    /* the cache's records and the layers only they keep (builder prune removes them) */
    { "Build Cache", bc_n, 0, bc_bytes, bc_bytes },
  };
  if (!json && !tmpl)
    printf ("%-17s%-10s%-10s%-10s%s\n", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
  json_auto_t *all = json_array ();
  for (size_t i = 0; i < ARRAY_SIZE (rows); i++)
    {
      cleanup_free char *size = cmd_human_size (rows[i].size);
      cleanup_free char *rec = reclaim_text (rows[i].reclaimable, rows[i].size);
      if (json || tmpl)
        {
          json_t *j = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "Type", rows[i].type, "TotalCount",
                                 "", "Active", "", "Size", size, "Reclaimable", rec);
          json_object_set_new (j, "TotalCount", json_sprintf ("%zu", rows[i].total));
          json_object_set_new (j, "Active", json_sprintf ("%zu", rows[i].active));
          if (tmpl)
            {
              json_array_append_new (all, j);
              continue;
            }
          char *t = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
          printf ("%s\n", t ? t : "{}");
          free (t);
          json_decref (j);
          continue;
        }
      printf ("%-17s%-10zu%-10zu%-10s%s\n", rows[i].type, rows[i].total, rows[i].active, size, rec);
    }
  if (tmpl)
    {
      json_auto_t *heads
          = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE", "TotalCount", "TOTAL", "Active",
                       "ACTIVE", "Size", "SIZE", "Reclaimable", "RECLAIMABLE");
      return cli_format_print (tmpl, all, heads, err);
    }
  return 0;
}

/* ---- system check ---- */

static void
check_report (void *data, const char *kind, const char *what)
{
  if (strcmp (kind, "problem") == 0)
    printf ("problem: %s\n", what);
  else if (strcmp (kind, "garbage") == 0)
    printf ("unused:  %s\n", what);
  else
    printf ("repaired: %s\n", what);
}

static int
system_check (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  struct imagefmt_check_opts o = { .report = check_report };
  struct imagefmt_check_result r;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--repair") == 0 || strcmp (argv[i], "-r") == 0)
      o.repair = true;
    else if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
      o.report = NULL;
    else if (argv[i][0] == '-')
      return cmd_flag_error (err, "system check", "unknown flag: %s", argv[i]);
    else
      return cmd_args_error (err, "system check", "\"nook system check\" accepts no arguments.");
  if (cmd_store_open (ctx->root, &s, NULL, NULL, err) < 0
      || imagefmt_store_check (s, &o, &r, err) < 0)
    return -1;
  cleanup_free char *g = cmd_human_size (r.garbage_bytes);
  printf ("%zu image%s, %zu blob%s checked: %zu problem%s, %zu unused item%s (%s)%s\n", r.images,
          r.images == 1 ? "" : "s", r.blobs, r.blobs == 1 ? "" : "s", r.problems,
          r.problems == 1 ? "" : "s", r.garbage, r.garbage == 1 ? "" : "s", g,
          o.repair                  ? ""
          : r.problems || r.garbage ? "; 'nook system check --repair' removes them"
                                    : "");
  fflush (stdout);
  if (r.problems == 0 || o.repair)
    return 0;
  return nook_error_set (err, 0, "the store '%s' has %zu problem%s", imagefmt_store_root (s),
                         r.problems, r.problems == 1 ? "" : "s");
}

/* ---- system ---- */

int
cmd_system (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fprintf (argc < 2 ? stderr : stdout,
               "Usage:  nook system COMMAND\n\nManage nook\n\nCommands:\n"
               "  check       Check the store (--repair removes what is broken)\n"
               "  df          Show nook disk usage\n"
               "  info        Display system-wide information\n");
      return argc < 2 ? 1 : 0;
    }
  if (cmd_wants_help (argc - 1, argv + 1))
    {
      printf ("Usage:  nook system %s [OPTIONS]\n", argv[1]);
      if (strcmp (argv[1], "check") == 0)
        printf ("\nCheck the store: every blob's digest, every image's manifest, config and\n"
                "layers, the unpacked layers\n\nOptions:\n"
                "  -r, --repair   Remove what is broken, and what nothing uses\n"
                "  -q, --quiet    Print only the summary\n");
      else if (strcmp (argv[1], "df") == 0)
        printf ("\nShow nook disk usage\n\nOptions:\n"
                "      --format string   'table' (default) or 'json'\n");
      return 0;
    }
  if (strcmp (argv[1], "df") == 0)
    return system_df (ctx, argc - 1, argv + 1, err);
  if (strcmp (argv[1], "check") == 0)
    return system_check (ctx, argc - 1, argv + 1, err);
  if (strcmp (argv[1], "info") == 0)
    return cmd_info (ctx, argc - 1, argv + 1, err);
  return cmd_args_error (err, "system", "unknown command \"%s\" for \"nook system\"", argv[1]);
}
