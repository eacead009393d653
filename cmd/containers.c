/* cmd/containers.c: `nook ps` (filters, formats), `rm [-f] [-v]`, `rename`,
 * `container prune` over the container records (cmd/ctrs.h). */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/ctrs.h"
#include "cmd/events.h"
#include "cmd/labels.h"
#include "cmd/lifecycle.h"
#include "cmd/records.h"
#include "cmd/volumes.h"
#include "cmd/store_open.h"
#include "cmd/format.h"
#include "imagefmt/store.h"
#include "net/ports.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- ps ---- */

static const char *const ps_filters[]
    = { "name", "status", "label", "ancestor", "id", "exited", "before", "since", "health", NULL };

static bool
any_matches (json_t *values, bool (*pred) (const struct ctr *, const char *, void *),
             const struct ctr *c, void *data)
{
  if (values == NULL)
    return true;
  size_t i;
  json_t *v;
  json_array_foreach (values, i, v) if (pred (c, json_string_value (v), data)) return true;
  return false;
}

static bool
f_name (const struct ctr *c, const char *v, void *d)
{
  return strstr (c->name, v[0] == '/' ? v + 1 : v) != NULL;
}

static bool
f_id (const struct ctr *c, const char *v, void *d)
{
  return str_has_prefix (c->id, v);
}

static bool
f_status (const struct ctr *c, const char *v, void *d)
{
  return strcmp (c->status, v) == 0;
}

static bool
f_health (const struct ctr *c, const char *v, void *d)
{
  return strcmp (c->health_status, v) == 0;
}

/* Docker refuses values of status= and health= it does not know. */
static int
check_filter_values (json_t *filters, const char *key, const char *const *known, nook_error_t *err)
{
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (filters, key), i, v)
  {
    bool ok = false;
    for (const char *const *k = known; *k; k++)
      ok |= strcmp (*k, json_string_value (v)) == 0;
    if (!ok)
      return nook_error_set (err, 0, "Unrecognised filter value for %s: %s", key,
                             json_string_value (v));
  }
  return 0;
}

static bool
f_exited (const struct ctr *c, const char *v, void *d)
{
  return strcmp (c->status, "exited") == 0 && atoi (v) == c->exit_code;
}

/* ancestor=IMAGE: the image as named (with or without :latest) or its ID (prefix). */
static bool
f_ancestor (const struct ctr *c, const char *v, void *d)
{
  if (strcmp (c->image, v) == 0)
    return true;
  size_t n = strlen (v);
  if (strncmp (c->image, v, n) == 0 && strcmp (c->image + n, ":latest") == 0)
    return true;
  if (strncmp (v, c->image, strlen (c->image)) == 0
      && strcmp (v + strlen (c->image), ":latest") == 0)
    return true;
  const char *id = str_has_prefix (c->image_id, "sha256:") ? c->image_id + 7 : c->image_id;
  const char *w = str_has_prefix (v, "sha256:") ? v + 7 : v;
  return strlen (w) >= 4 && str_has_prefix (id, w);
}

/* before=/since=CONTAINER: created before / after that one. */
static bool
f_created (const struct ctr *c, const char *v, void *d)
{
  const struct ctr_list *l = d;
  size_t at;
  cleanup_error nook_error_t e = NULL;
  if (ctr_find (l, v, &at, &e) < 0)
    return false;
  return l->v[at].created > c->created; /* (since: inverted by the caller) */
}

static bool
ps_keep (const struct ctr_list *l, const struct ctr *c, json_t *filters, bool all)
{
  if (!all && !c->running && json_object_get (filters, "status") == NULL
      && json_object_get (filters, "exited") == NULL)
    return false;
  if (!any_matches (json_object_get (filters, "name"), f_name, c, NULL)
      || !any_matches (json_object_get (filters, "id"), f_id, c, NULL)
      || !any_matches (json_object_get (filters, "status"), f_status, c, NULL)
      || !any_matches (json_object_get (filters, "exited"), f_exited, c, NULL)
      || !any_matches (json_object_get (filters, "health"), f_health, c, NULL)
      || !any_matches (json_object_get (filters, "ancestor"), f_ancestor, c, NULL)
      || !any_matches (json_object_get (filters, "before"), f_created, c, (void *)l)
      || !cmd_filter_labels (filters, ctr_labels (c)))
    return false;
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (filters, "since"), i, v)
  {
    size_t at;
    cleanup_error nook_error_t e = NULL;
    if (ctr_find (l, json_string_value (v), &at, &e) < 0 || l->v[at].created >= c->created)
      return false;
  }
  return true;
}

/* Bytes of the files under dirfd (not following links; unreadable parts skipped). */
static uint64_t
dir_usage (int dirfd, int depth)
{
  if (depth > 64)
    return 0;
  int dup = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  if (d == NULL)
    {
      if (dup >= 0)
        close (dup);
      return 0;
    }
  uint64_t sum = 0;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      struct stat st;
      if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int sub
              = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            sum += dir_usage (sub, depth + 1);
        }
      else if (S_ISREG (st.st_mode) || S_ISLNK (st.st_mode))
        sum += (uint64_t)st.st_size;
    }
  return sum;
}

/* Docker's units.HumanSize: three significant digits, decimal units. */
static char *
human_size (uint64_t n)
{
  static const char *const u[] = { "B", "kB", "MB", "GB", "TB", "PB" };
  double v = (double)n;
  size_t i = 0;
  while (v >= 1000 && i + 1 < ARRAY_SIZE (u))
    v /= 1000, i++;
  char buf[32];
  snprintf (buf, sizeof buf, "%.3g", v);
  return xasprintf ("%s%s", buf, u[i]);
}

static char *
ctr_size_text (const char *root, const struct ctr *c)
{
  cleanup_free char *up = xasprintf ("%s/containers/%s/upper", root, c->id);
  cleanup_close int fd = open (up, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      free (up);
      up = xasprintf ("%s/containers/%s/rootfs", root, c->id);
      fd = open (up, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
  uint64_t size = fd >= 0 ? dir_usage (fd, 0) : 0;
  return human_size (size);
}

static json_t *
ps_row (const char *root, const struct ctr *c, int64_t now, bool notrunc, bool size)
{
  cleanup_free char *id = notrunc ? xstrdup (c->id) : xstrndup (c->id, 12);
  cleanup_free char *status = ctr_status_text (c, now);
  cleanup_free char *since = cmd_human_since (c->created, now);
  cleanup_free char *labels = cmd_labels_text (ctr_labels (c));
  cleanup_free char *cmd = !notrunc && strlen (c->command) > 20
                               ? xasprintf ("\"%.19s…\"", c->command)
                               : xasprintf ("\"%s\"", c->command);
  time_t t = (time_t)c->created;
  struct tm tm;
  localtime_r (&t, &tm);
  char created[64];
  strftime (created, sizeof created, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  struct strbuf mb = { 0 };
  size_t i, nvol = 0;
  json_t *m;
  json_array_foreach (json_object_get (c->config, "Mounts"), i, m)
  {
    const char *n = json_string_value (json_object_get (m, "Name"));
    const char *src = json_string_value (json_object_get (m, "Source"));
    nvol += n != NULL;
    strbuf_appendf (&mb, "%s%s", mb.len ? "," : "", n ? n : src ? src : "");
  }
  cleanup_free char *mounts = strbuf_steal (&mb);
  cleanup_free char *sz = size ? ctr_size_text (root, c) : xstrdup ("");
  /* Docker shows the mappings of running containers only */
  size_t n_ports = 0;
  cleanup_free struct net_port *ports = c->running ? container_ports (c->config, &n_ports) : NULL;
  cleanup_free char *ports_text = net_ports_format (ports, n_ports);
  json_t *row = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                           "s:s, s:s}",
                           "Command", cmd, "CreatedAt", created, "ID", id, "Image", c->image,
                           "Labels", labels, "LocalVolumes", "", "Mounts", mounts, "Names", c->name,
                           "Networks", "", "Ports", ports_text, "RunningFor", since, "Size", sz,
                           "State", c->status, "Status", status, "Platform", "linux");
  cleanup_free char *nv = xasprintf ("%zu", nvol);
  json_object_set_new (row, "LocalVolumes", json_string (nv));
  return row;
}

static json_t *
ps_headers (void)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                    "Command", "COMMAND", "CreatedAt", "CREATED AT", "ID", "CONTAINER ID", "Image",
                    "IMAGE", "Labels", "LABELS", "LocalVolumes", "LOCAL VOLUMES", "Mounts",
                    "MOUNTS", "Names", "NAMES", "Networks", "NETWORKS", "Ports", "PORTS",
                    "RunningFor", "CREATED", "Size", "SIZE", "State", "STATE", "Status", "STATUS");
}

static void
ps_usage (const char *verb)
{
  printf ("Usage:  nook %s [OPTIONS]\n\nList containers\n\nOptions:\n"
          "  -a, --all             Show all containers (default shows just running)\n"
          "  -f, --filter filter   Filter output based on conditions provided (name=, id=,\n"
          "                        status=, label=KEY[=VALUE], label!=, ancestor=, exited=,\n"
          "                        before=, since=)\n"
          "      --format string   'table', 'table TEMPLATE', 'json' or a Go template\n"
          "  -n, --last int        Show n last created containers (includes all states)\n"
          "  -l, --latest          Show the latest created container (includes all states)\n"
          "      --no-trunc        Don't truncate output\n"
          "  -q, --quiet           Only display container IDs\n"
          "  -s, --size            Display total file sizes\n",
          verb);
}

struct ps_opts
{
  bool all, quiet, notrunc, size;
  long last;
  const char *format;
  json_t *filters;
};

static int
ps_parse (int argc, char **argv, const char *verb, struct ps_opts *o, nook_error_t *err)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *v = NULL;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--format", verb, &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          o->format = v;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, "-f", "--filter", verb, &v, err)) != 0)
        {
          static const char *const statuses[] = { "created", "restarting", "running", "removing",
                                                  "paused",  "exited",     "dead",    NULL };
          static const char *const healths[] = { "starting", "healthy", "unhealthy", "none", NULL };
          if (r < 0 || cmd_filter_add (o->filters, v, ps_filters, err) < 0
              || check_filter_values (o->filters, "status", statuses, err) < 0
              || check_filter_values (o->filters, "health", healths, err) < 0)
            return -1;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, "-n", "--last", verb, &v, err)) != 0)
        {
          cleanup_error nook_error_t e = NULL;
          int64_t n;
          if (r < 0)
            return -1;
          if (parse_int (v, -1, INT32_MAX, &n, "--last", &e) < 0)
            return cmd_flag_error (err, verb, "invalid argument \"%s\" for \"-n, --last\" flag", v);
          o->last = (long)n;
          continue;
        }
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        return 1;
      if (strcmp (a, "--all") == 0)
        o->all = true;
      else if (strcmp (a, "--quiet") == 0)
        o->quiet = true;
      else if (strcmp (a, "--no-trunc") == 0)
        o->notrunc = true;
      else if (strcmp (a, "--size") == 0)
        o->size = true;
      else if (strcmp (a, "--latest") == 0)
        o->last = 1;
      else if (a[0] == '-' && a[1] != '-' && a[1] && strspn (a + 1, "aqsl") == strlen (a + 1))
        for (const char *c = a + 1; *c; c++)
          {
            o->all |= *c == 'a';
            o->quiet |= *c == 'q';
            o->size |= *c == 's';
            if (*c == 'l')
              o->last = 1;
          }
      else if (a[0] == '-')
        return cmd_flag_error (err, verb, "unknown flag: %s", a);
      else
        return cmd_args_error (err, verb, "\"nook %s\" accepts no arguments.", verb);
    }
  return 0;
}

static void
ps_table (json_t *rows, bool size)
{
  size_t ncol = size ? 8 : 7;
  static const char *const keys[]
      = { "ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names", "Size" };
  static const char *const head[]
      = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES", "SIZE" };
  /* Docker's table: columns as wide as their widest cell, three spaces apart. */
  size_t width[8] = { 0 };
  size_t n = json_array_size (rows);
  for (size_t r = 0; r <= n; r++)
    for (size_t k = 0; k < ncol; k++)
      {
        const char *v
            = r == 0 ? head[k]
                     : json_string_value (json_object_get (json_array_get (rows, r - 1), keys[k]));
        size_t w = strlen (v) - (strstr (v, "…") ? 2 : 0);
        if (w > width[k])
          width[k] = w;
      }
  for (size_t r = 0; r <= n; r++)
    for (size_t k = 0; k < ncol; k++)
      {
        const char *v
            = r == 0 ? head[k]
                     : json_string_value (json_object_get (json_array_get (rows, r - 1), keys[k]));
        size_t w = strlen (v) - (strstr (v, "…") ? 2 : 0);
        if (k == ncol - 1)
          printf ("%s\n", v);
        else
          printf ("%s%*s", v, (int)(width[k] - w + 3), "");
      }
}

static int
ps_main (struct nook_ctx *ctx, int argc, char **argv, const char *verb, nook_error_t *err)
{
  struct ps_opts o = { .last = -1, .filters = json_object () };
  int r = ps_parse (argc, argv, verb, &o, err);
  if (r != 0)
    {
      json_decref (o.filters);
      if (r > 0)
        ps_usage (verb);
      return r > 0 ? 0 : -1;
    }
  cleanup_free char *root = ctr_store_root (ctx->root, err);
  struct ctr_list l = { 0 };
  if (root == NULL || ctr_list_load (root, &l, err) < 0)
    {
      json_decref (o.filters);
      return -1;
    }
  int64_t now = time (NULL);
  json_t *rows = json_array ();
  long shown = 0;
  for (size_t i = 0; i < l.n; i++)
    {
      const struct ctr *c = &l.v[i];
      /* -n/-l: the last created, whatever their state (newest first) */
      if (o.last >= 0 && shown >= o.last)
        break;
      if (!ps_keep (&l, c, o.filters, o.all || o.last >= 0))
        continue;
      shown++;
      if (o.quiet)
        {
          printf ("%.*s\n", o.notrunc ? 64 : 12, c->id);
          continue;
        }
      json_array_append_new (rows, ps_row (root, c, now, o.notrunc, o.size));
    }
  r = 0;
  if (!o.quiet)
    {
      const char *fmt = o.format ? o.format : "";
      if (cmd_format_kind (fmt) == CMD_FORMAT_TABLE)
        ps_table (rows, o.size);
      else
        {
          json_t *h = ps_headers ();
          r = cli_format_print (fmt, rows, h, err);
          json_decref (h);
        }
    }
  json_decref (rows);
  json_decref (o.filters);
  ctr_list_free (&l);
  return r;
}

int
cmd_ps (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return ps_main (ctx, argc, argv, "ps", err);
}

int
cmd_container_ls (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return ps_main (ctx, argc, argv, "container ls", err);
}

int
cmd_rm (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  bool force = false, volumes = false;
  int nargs = 0;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          printf ("Usage:  nook rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRemove one or more "
                  "containers\n\nOptions:\n  -f, --force     Force the removal of a running "
                  "container (uses SIGKILL)\n  -v, --volumes   Remove anonymous volumes "
                  "associated with the container\n");
          return 0;
        }
      if (strcmp (a, "--force") == 0)
        force = true;
      else if (strcmp (a, "--volumes") == 0)
        volumes = true;
      else if (a[0] == '-' && a[1] && a[1] != '-' && strspn (a + 1, "fv") == strlen (a + 1))
        {
          force |= strchr (a, 'f') != NULL;
          volumes |= strchr (a, 'v') != NULL;
        }
      else if (a[0] == '-')
        return cmd_flag_error (err, "rm", "unknown flag: %s", a);
      else
        nargs++;
    }
  if (nargs == 0)
    return cmd_args_error (err, "rm", "\"nook rm\" requires at least 1 argument.");
  struct imagefmt_store *store = NULL;
  struct nook_idmapping ids;
  if (cmd_store_open (ctx->root, &store, &ids, NULL, err) < 0)
    return -1;
  const char *root = imagefmt_store_root (store);
  struct ctr_list l;
  if (ctr_list_load (root, &l, err) < 0)
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
      if (ctr_find (&l, argv[i], &at, &e) < 0)
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
      struct ctr *c = &l.v[at];
      /* a supervisor has it (cmd/supervise.c): running, paused, restarting or starting */
      bool supervised = lifecycle_owned (root, c->id);
      if ((c->running || supervised) && !force)
        {
          fprintf (stderr,
                   "Error: You cannot remove a running container %s. Stop the container before "
                   "attempting removal or force remove\n",
                   c->id);
          status = 1;
          continue;
        }
      if (supervised)
        {
          /* Its supervisor kills and removes it (every byte of its output logged
           * first); if none answers, it is ended here (the init dies with its
           * supervisor) and removed below. */
          cleanup_error nook_error_t le = NULL;
          if (lifecycle_remove_running (root, c->id, &le) == 0)
            {
              printf ("%s\n", argv[i]);
              continue;
            }
        }
      if (c->running && c->nook_pid > 0)
        {
          /* The nook that runs it takes the container with it (PDEATHSIG). */
          unsigned long long start = container_proc_start (c->nook_pid);
          kill (c->nook_pid, SIGKILL);
          for (int t = 0; t < 200 && start && container_proc_start (c->nook_pid) == start; t++)
            usleep (10000);
        }
      lifecycle_clear_hold (root, c->id);
      json_t *mounts = json_incref (json_object_get (c->config, "Mounts"));
      if (container_remove (root, c->id, &ids, &e) < 0)
        {
          cleanup_free char *t = nook_error_text (e);
          fprintf (stderr, "Error: %s\n", t);
          status = 1;
          json_decref (mounts);
          continue;
        }
      if (volumes && mounts)
        {
          /* the others' Mounts still count: reload without this one */
          ctr_list_free (&l);
          if (ctr_list_load (root, &l, &e) < 0)
            memset (&l, 0, sizeof l);
          volumes_remove_anonymous (root, &ids, mounts);
        }
      json_decref (mounts);
      printf ("%s\n", argv[i]);
    }
  ctr_list_free (&l);
  imagefmt_store_close (store);
  return status;
}

/* ---- rename, prune ---- */

int
cmd_rename (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook rename CONTAINER NEW_NAME\n\nRename a container\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    if (argv[i][0] == '-')
      return cmd_flag_error (err, "rename", "unknown flag: %s", argv[i]);
  if (argc != 3)
    return cmd_args_error (err, "rename", "\"nook rename\" requires exactly 2 arguments.");
  cleanup_free char *root = ctr_store_root (ctx->root, err);
  struct ctr_list l;
  if (root == NULL || ctr_list_load (root, &l, err) < 0)
    return -1;
  size_t at;
  int r = ctr_find (&l, argv[1], &at, err);
  if (r == 0)
    r = container_rename (root, l.v[at].id, l.v[at].name, argv[2], err);
  if (r == 0)
    {
      /* Docker's: the new name among the attributes, the old one (with its '/') as oldName */
      const char *old = l.v[at].name ? l.v[at].name : "";
      cleanup_free char *was = xasprintf ("/%s", old[0] == '/' ? old + 1 : old);
      events_container (root, l.v[at].id, "rename", json_pack ("{s:s}", "oldName", was));
    }
  ctr_list_free (&l);
  return r < 0 ? -1 : 0;
}

static void
prune_usage (void)
{
  printf ("Usage:  nook container prune [OPTIONS]\n\nRemove all stopped containers\n\n"
          "Options:\n      --filter filter   Provide filter values (e.g. \"label=<key>=<value>\",\n"
          "                        \"label!=...\", \"until=<seconds>\")\n"
          "  -f, --force           Do not prompt for confirmation\n");
}

static bool
confirm (const char *warning)
{
  fprintf (stderr, "%s\nAre you sure you want to continue? [y/N] ", warning);
  char line[16] = "";
  if (fgets (line, sizeof line, stdin) == NULL)
    return false;
  return line[0] == 'y' || line[0] == 'Y';
}

int
cmd_container_prune (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  static const char *const known[] = { "label", "until", NULL };
  bool force = false;
  json_t *filters = json_object ();
  int r = 0;
  for (int i = 1; i < argc && r == 0; i++)
    {
      const char *v = NULL;
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--filter", "container prune", &v, err)) != 0)
        {
          r = r < 0 || cmd_filter_add (filters, v, known, err) < 0 ? -1 : 0;
          continue;
        }
      if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          json_decref (filters);
          prune_usage ();
          return 0;
        }
      if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--force") == 0)
        force = true;
      else if (argv[i][0] == '-')
        r = cmd_flag_error (err, "container prune", "unknown flag: %s", argv[i]);
      else
        r = cmd_args_error (err, "container prune",
                            "\"nook container prune\" accepts no arguments.");
    }
  if (r < 0)
    {
      json_decref (filters);
      return -1;
    }
  if (!force && !confirm ("WARNING! This will remove all stopped containers."))
    {
      json_decref (filters);
      return 0;
    }
  struct imagefmt_store *store = NULL;
  struct nook_idmapping ids;
  if (cmd_store_open (ctx->root, &store, &ids, NULL, err) < 0)
    {
      json_decref (filters);
      return -1;
    }
  const char *root = imagefmt_store_root (store);
  struct ctr_list l;
  if (ctr_list_load (root, &l, err) < 0)
    {
      json_decref (filters);
      imagefmt_store_close (store);
      return -1;
    }
  int64_t until = INT64_MAX;
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (filters, "until"), i, v)
  {
    int64_t secs;
    cleanup_error nook_error_t e = NULL;
    if (parse_int (json_string_value (v), 0, INT64_MAX, &secs, "until", &e) == 0)
      until = secs;
  }
  printf ("Deleted Containers:\n");
  int status = 0;
  for (i = 0; i < l.n; i++)
    {
      struct ctr *c = &l.v[i];
      if (c->running || strcmp (c->status, "removing") == 0 || c->created >= until
          || !cmd_filter_labels (filters, ctr_labels (c)))
        continue;
      cleanup_error nook_error_t e = NULL;
      if (container_remove (root, c->id, &ids, &e) < 0)
        {
          fprintf (stderr, "Error: %s\n", e->msg);
          status = 1;
          continue;
        }
      printf ("%s\n", c->id);
    }
  printf ("\nTotal reclaimed space: 0B\n");
  ctr_list_free (&l);
  json_decref (filters);
  imagefmt_store_close (store);
  return status;
}

/* `nook port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published ports of a running
 * container, as Docker prints them ("80/tcp -> 0.0.0.0:8080"). */
int
cmd_port (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  const char *args[2] = { NULL, NULL };
  int nargs = 0;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nList port mappings "
                  "or a specific mapping for the container\n");
          return 0;
        }
      if (argv[i][0] == '-')
        return cmd_flag_error (err, "port", "unknown flag: %s", argv[i]);
      if (nargs == 2)
        return cmd_args_error (err, "port", "\"nook port\" requires at most 2 arguments.");
      args[nargs++] = argv[i];
    }
  if (nargs == 0)
    return cmd_args_error (err, "port", "\"nook port\" requires at least 1 argument.");
  cleanup_free struct net_port *want = NULL;
  size_t n_want = 0;
  if (args[1] && net_ports_parse_expose (args[1], "port", &want, &n_want, err) < 0)
    return -1;
  cleanup_free char *root = ctr_store_root (ctx->root, err);
  struct ctr_list l = { 0 };
  if (root == NULL || ctr_list_load (root, &l, err) < 0)
    return -1;
  size_t at = 0;
  int rc = ctr_find (&l, args[0], &at, err);
  const struct ctr *c = rc == 0 ? &l.v[at] : NULL;
  size_t n = 0;
  cleanup_free struct net_port *ports = c && c->running ? container_ports (c->config, &n) : NULL;
  bool shown = false;
  for (size_t i = 0; i < n; i++)
    {
      const struct net_port *p = &ports[i];
      if (want && (p->container_port != want[0].container_port || p->proto != want[0].proto))
        continue;
      cleanup_free char *line = want ? net_port_host_addr (p) : net_port_format_line (p);
      puts (line);
      shown = true;
    }
  if (rc == 0 && want && !shown)
    rc = nook_error_set (err, 0, "No public port '%s' published for %s", args[1], args[0]);
  ctr_list_free (&l);
  return rc;
}
