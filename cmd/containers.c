/* cmd/containers.c: `nook ps` and `nook rm` over the container records in
 * the store (containers/<id>/config.json and state.json). */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/records.h"
#include "cmd/store_open.h"
#include "cmd/format.h"
#include "cmd/lifecycle.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct crec
{
  char *id, *name, *image, *command;
  int64_t created, finished;
  pid_t pid;
  unsigned long long pid_start;
  bool exited, running;
  bool live; /* a supervisor has it: running, paused, restarting or starting */
  int exit_code;
  struct container_state st; /* state.json, the supervisor's liveness checked */
};

static void
crec_clear (struct crec *c)
{
  free (c->id);
  free (c->name);
  free (c->image);
  free (c->command);
  container_state_clear (&c->st);
  memset (c, 0, sizeof *c);
}

static const char *
jstr (json_t *o, const char *k)
{
  return json_string_value (json_object_get (o, k));
}

/* Read containers/<id>; false if it is no container record. */
static bool
crec_load (int cdir, const char *id, struct crec *c)
{
  memset (c, 0, sizeof *c);
  json_t *cfg = container_read_json (cdir, id, "config.json");
  if (cfg == NULL || jstr (cfg, "Id") == NULL)
    {
      json_decref (cfg);
      return false;
    }
  c->id = xstrdup (jstr (cfg, "Id"));
  c->name = xstrdup (jstr (cfg, "Name") ? jstr (cfg, "Name") : "");
  c->image = xstrdup (jstr (cfg, "Image") ? jstr (cfg, "Image") : "");
  struct strbuf b = { 0 };
  size_t i;
  json_t *a;
  json_array_foreach (json_object_get (cfg, "Cmd"), i, a)
  {
    if (i)
      strbuf_appendc (&b, ' ');
    strbuf_append (&b, json_string_value (a) ? json_string_value (a) : "");
  }
  c->command = strbuf_steal (&b);
  c->created = json_integer_value (json_object_get (cfg, "Created"));
  c->pid = (pid_t)json_integer_value (json_object_get (cfg, "Pid"));
  c->pid_start = (unsigned long long)json_integer_value (json_object_get (cfg, "PidStart"));
  json_decref (cfg);

  container_state_read (cdir, id, &c->st);
  const char *status = c->st.status;
  c->exited = strcmp (status, "exited") == 0;
  c->exit_code = c->st.exit_code;
  c->finished = c->st.finished_ns / 1000000000;
  if (c->finished == 0 && c->exited)
    c->finished = c->st.started_ns ? c->st.started_ns / 1000000000 : c->created;
  /* Running: its supervisor is alive (records.h); paused and restarting
   * containers are listed by `ps` too, as Docker's. */
  c->running = strcmp (status, "running") == 0 || strcmp (status, "paused") == 0
               || strcmp (status, "restarting") == 0;
  c->live = c->running || strcmp (status, "starting") == 0;
  return true;
}

struct crec_list
{
  struct crec *v;
  size_t n;
};

static int
collect (int cdir, const char *name, void *arg, nook_error_t *err)
{
  struct crec_list *l = arg;
  if (name[0] == '.')
    return 0;
  struct crec c;
  if (!crec_load (cdir, name, &c))
    return 0;
  l->v = xreallocarray (l->v, l->n + 1, sizeof *l->v);
  l->v[l->n++] = c;
  return 0;
}

static int
by_created (const void *a, const void *b)
{
  const struct crec *x = a, *y = b;
  return x->created < y->created ? 1 : x->created > y->created ? -1 : strcmp (x->id, y->id);
}

static void
list_free (struct crec_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    crec_clear (&l->v[i]);
  free (l->v);
}

static int
load_all (const char *root, struct crec_list *l, nook_error_t *err)
{
  memset (l, 0, sizeof *l);
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0)
    return errno == ENOENT ? 0 : nook_error_set (err, errno, "open '%s'", cpath);
  if (fs_dir_foreach (cdir, collect, l, err) < 0)
    return -1;
  if (l->n > 1) /* l->v is NULL when there is none: qsort's argument must not be */
    qsort (l->v, l->n, sizeof *l->v, by_created);
  return 0;
}

static char *
status_text (const struct crec *c, int64_t now)
{
  cleanup_free char *d = NULL;
  if (strcmp (c->st.status, "restarting") == 0)
    {
      d = cmd_human_since (c->finished, now);
      return xasprintf ("Restarting (%d) %s", c->exit_code, d);
    }
  if (c->running)
    {
      int64_t since = c->st.started_ns ? c->st.started_ns / 1000000000 : c->created;
      d = cmd_human_duration (now - since);
      return xasprintf ("Up %s%s", d, c->st.paused ? " (Paused)" : "");
    }
  if (strcmp (c->st.status, "created") == 0 || strcmp (c->st.status, "starting") == 0)
    return xstrdup ("Created");
  if (c->exited)
    {
      d = cmd_human_since (c->finished, now);
      return xasprintf ("Exited (%d) %s", c->exit_code, d);
    }
  return xstrdup ("Dead");
}

static void
ps_usage (void)
{
  printf ("Usage:  nook ps [OPTIONS]\n\nList containers\n\nOptions:\n"
          "  -a, --all             Show all containers (default shows just running)\n"
          "      --format string   table (default) or json (one JSON object per container)\n"
          "      --no-trunc        Don't truncate output\n"
          "  -q, --quiet           Only display container IDs\n");
}

int
cmd_ps (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  bool all = false, quiet = false, notrunc = false, json = false;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *v = NULL;
      int r = cmd_opt_value (argc, argv, &i, NULL, "--format", "ps", &v, err);
      enum cmd_format f;
      if (r < 0)
        return -1;
      if (r > 0)
        {
          if (cmd_format_parse (v, &f, err) < 0)
            return -1;
          json = f == CMD_FORMAT_JSON;
        }
      else if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          ps_usage ();
          return 0;
        }
      else if (strcmp (a, "-a") == 0 || strcmp (a, "--all") == 0)
        all = true;
      else if (strcmp (a, "-q") == 0 || strcmp (a, "--quiet") == 0)
        quiet = true;
      else if (strcmp (a, "-aq") == 0 || strcmp (a, "-qa") == 0)
        all = quiet = true;
      else if (strcmp (a, "--no-trunc") == 0)
        notrunc = true;
      else if (a[0] == '-')
        return cmd_flag_error (err, "ps", "unknown flag: %s", a);
      else
        return cmd_args_error (err, "ps", "\"nook ps\" accepts no arguments.");
    }
  cleanup_free char *root = imagefmt_store_default_root (err);
  if (ctx->root)
    {
      free (root);
      root = xstrdup (ctx->root);
    }
  if (root == NULL)
    return -1;
  struct crec_list l;
  if (load_all (root, &l, err) < 0)
    return -1;
  int64_t now = time (NULL);
  /* Docker's table: columns as wide as their widest cell, three spaces apart. */
  enum
  {
    NCOL = 7
  };
  char **cells = NULL; /* row-major, NCOL per row */
  static const char *const head[NCOL]
      = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES" };
  for (int k = 0; k < NCOL; k++)
    strv_push (&cells, head[k]);
  for (size_t i = 0; i < l.n; i++)
    {
      const struct crec *c = &l.v[i];
      if (!all && !c->running)
        continue;
      cleanup_free char *id = notrunc ? xstrdup (c->id) : xstrndup (c->id, 12);
      if (quiet)
        {
          printf ("%s\n", id);
          continue;
        }
      cleanup_free char *status = status_text (c, now);
      cleanup_free char *created = cmd_human_since (c->created, now);
      if (json)
        {
          json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Image", c->image,
                                 "Command", c->command, "CreatedAt", created, "Status", status,
                                 "Ports", "", "Names", c->name);
          char *s = json_dumps (o, JSON_COMPACT);
          puts (s);
          free (s);
          json_decref (o);
          continue;
        }
      char *cmd = !notrunc && strlen (c->command) > 20 ? xasprintf ("\"%.19s…\"", c->command)
                                                       : xasprintf ("\"%s\"", c->command);
      strv_push (&cells, id);
      strv_push (&cells, c->image);
      strv_push_take (&cells, cmd);
      strv_push (&cells, created);
      strv_push (&cells, status);
      strv_push (&cells, "");
      strv_push (&cells, c->name);
    }
  if (!quiet && !json)
    {
      size_t rows = strv_len (cells) / NCOL, width[NCOL] = { 0 };
      for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < NCOL; k++)
          {
            size_t w = strlen (cells[r * NCOL + k]);
            if (strstr (cells[r * NCOL + k], "…"))
              w -= 2; /* one column, three bytes */
            if (w > width[k])
              width[k] = w;
          }
      for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < NCOL; k++)
          {
            const char *v = cells[r * NCOL + k];
            size_t w = strlen (v) - (strstr (v, "…") ? 2 : 0);
            if (k == NCOL - 1)
              printf ("%s\n", v);
            else
              printf ("%s%*s", v, (int)(width[k] - w + 3), "");
          }
    }
  strv_free (cells);
  list_free (&l);
  return 0;
}

/* A container by full ID, unique ID prefix or name; -1 with ENOENT if none. */
static int
find (const struct crec_list *l, const char *key, size_t *out, nook_error_t *err)
{
  size_t hits = 0, at = 0;
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->v[i].name, key) == 0 || strcmp (l->v[i].id, key) == 0)
      {
        *out = i;
        return 0;
      }
  for (size_t i = 0; i < l->n && strlen (key) > 0; i++)
    if (str_has_prefix (l->v[i].id, key))
      hits++, at = i;
  if (hits == 1)
    {
      *out = at;
      return 0;
    }
  if (hits > 1)
    return nook_error_set (err, 0, "multiple IDs found with provided prefix: %s", key);
  return nook_error_set (err, ENOENT, "No such container: %s", key);
}

int
cmd_rm (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  bool force = false;
  int nargs = 0;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRemove one or more "
                  "containers\n\nOptions:\n  -f, --force   Force the removal of a running "
                  "container (uses SIGKILL)\n");
          return 0;
        }
      if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--force") == 0)
        force = true;
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "rm", "unknown flag: %s", argv[i]);
      else
        nargs++;
    }
  if (nargs == 0)
    return cmd_args_error (err, "rm", "\"nook rm\" requires at least 1 argument.");
  struct imagefmt_store *store = NULL;
  struct nook_idmapping ids;
  if (cmd_store_open (ctx->root, &store, &ids, NULL, err) < 0)
    return -1;
  struct crec_list l;
  if (load_all (imagefmt_store_root (store), &l, err) < 0)
    {
      imagefmt_store_close (store);
      return -1;
    }
  int status = 0;
  for (int i = 1; i < argc; i++)
    {
      if (argv[i][0] == '-')
        continue;
      cleanup_error nook_error_t e = NULL;
      size_t at = 0;
      if (find (&l, argv[i], &at, &e) < 0)
        {
          /* -f: a missing container is not an error (podman; CI clean-up
           * steps run `rm -f` under `set -e`). */
          if (!(force && e->code == ENOENT))
            {
              fprintf (stderr, "Error: %s\n", e->msg);
              status = 1;
            }
          continue;
        }
      struct crec *c = &l.v[at];
      if (!c->live && lifecycle_owned (imagefmt_store_root (store), c->id))
        c->live = true; /* its supervisor is starting */
      if (c->live && !force)
        {
          fprintf (stderr,
                   "Error: You cannot remove a running container %s. Stop the container before "
                   "attempting removal or force remove\n",
                   c->id);
          status = 1;
          continue;
        }
      if (c->live)
        {
          /* Its supervisor kills and removes it (every byte of its output
           * logged first); if none answers, it is ended here (the init dies
           * with its supervisor) and removed below. */
          int r = lifecycle_remove_running (imagefmt_store_root (store), c->id, &e);
          nook_error_free (&e);
          if (r == 0)
            {
              printf ("%s\n", argv[i]);
              continue;
            }
        }
      lifecycle_clear_hold (imagefmt_store_root (store), c->id);
      if (container_remove (imagefmt_store_root (store), c->id, &ids, &e) < 0)
        {
          cleanup_free char *t = nook_error_text (e);
          fprintf (stderr, "Error: %s\n", t);
          status = 1;
          continue;
        }
      printf ("%s\n", argv[i]);
    }
  list_free (&l);
  imagefmt_store_close (store);
  return status;
}
