/* cmd/volume_cmd.c: `nook volume create|ls|inspect|rm|prune` (Docker's flags,
 * output and messages) over the volume store of cmd/volumes.c. */
#include "cmd/events.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/ctrs.h"
#include "cmd/labels.h"
#include "cmd/store_open.h"
#include "cmd/volumes.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANON_LABEL "com.docker.volume.anonymous"

/* Docker's inspect object of volume NAME, or NULL (ENOENT: "No such volume"). */
static json_t *
volume_json (const char *root, const char *name, nook_error_t *err)
{
  if (!volume_name_valid (name))
    return nook_error_set (err, ENOENT, "No such volume: %s", name), NULL;
  cleanup_free char *meta = xasprintf ("%s/volumes/%s/volume.json", root, name);
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, meta, 1 << 20, &text, NULL, &e) < 0)
    return nook_error_set (err, ENOENT, "No such volume: %s", name), NULL;
  json_t *m = json_loads (text, 0, NULL);
  json_t *labels = json_object_get (m, "Labels");
  cleanup_free char *mp = xasprintf ("%s/volumes/%s/_data", root, name);
  const char *created = json_string_value (json_object_get (m, "CreatedAt"));
  json_t *out
      = json_pack ("{s:s, s:s, s:O, s:s, s:s, s:n, s:s}", "CreatedAt", created ? created : "",
                   "Driver", "local", "Labels", json_object_size (labels) ? labels : json_null (),
                   "Mountpoint", mp, "Name", name, "Options", "Scope", "local");
  json_decref (m);
  return out;
}

static char **
volume_names (const char *root)
{
  cleanup_free char *vpath = xasprintf ("%s/volumes", root);
  cleanup_dir DIR *d = opendir (vpath);
  char **names = NULL;
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    if (de->d_name[0] != '.' && volume_name_valid (de->d_name))
      strv_push (&names, de->d_name);
  size_t n = strv_len (names);
  for (size_t i = 1; i < n; i++) /* sorted, as Docker lists them */
    for (size_t j = i; j > 0 && strcmp (names[j - 1], names[j]) > 0; j--)
      {
        char *t = names[j];
        names[j] = names[j - 1];
        names[j - 1] = t;
      }
  return names;
}

static int
volume_create (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_strv char **labels = NULL;
  const char *name = NULL;
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, "-l", "--label", "volume create", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          strv_push (&labels, v);
        }
      else if ((r = cmd_opt_value (argc, argv, &i, "-d", "--driver", "volume create", &v, err)))
        {
          if (r < 0)
            return -1;
          if (strcmp (v, "local") != 0)
            return nook_error_set (err, 0, "volume driver '%s' is not supported (only local)", v);
        }
      else if ((r = cmd_opt_value (argc, argv, &i, "-o", "--opt", "volume create", &v, err)))
        return r < 0 ? -1 : nook_error_set (err, 0, "volume option '%s' is not supported", v);
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--name", "volume create", &v, err)))
        {
          if (r < 0)
            return -1;
          name = v;
        }
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook volume create [OPTIONS] [VOLUME]\n\nCreate a volume\n\nOptions:\n"
                  "  -d, --driver string   Specify volume driver name (local)\n"
                  "      --label list      Set metadata for a volume\n");
          return 0;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "volume create", "unknown flag: %s", argv[i]);
      else if (name)
        return cmd_args_error (err, "volume create",
                               "\"nook volume create\" requires at most 1 argument.");
      else
        name = argv[i];
    }
  cleanup_free char *root = ctr_store_root (ctx->root, err);
  if (root == NULL)
    return -1;
  json_t *l = json_object ();
  int r = cmd_labels_parse (labels, NULL, l, err);
  cleanup_free char *gen = NULL;
  if (name == NULL)
    {
      unsigned char b[32];
      struct strbuf s = { 0 };
      if (getentropy (b, sizeof b) < 0)
        oom ();
      for (size_t i = 0; i < sizeof b; i++)
        strbuf_appendf (&s, "%02x", b[i]);
      name = gen = strbuf_steal (&s);
    }
  if (r == 0)
    r = volume_ensure (root, name, l, false, NULL, NULL, err);
  json_decref (l);
  if (r < 0)
    return -1;
  events_record (root, "volume", "create", name, json_pack ("{s:s}", "driver", "local"));
  printf ("%s\n", name);
  return 0;
}

static bool
matches (json_t *filters, json_t *vol, bool dangling)
{
  size_t i;
  json_t *v;
  const char *name = json_string_value (json_object_get (vol, "Name"));
  json_t *names = json_object_get (filters, "name");
  bool any = names == NULL;
  json_array_foreach (names, i, v) any |= strstr (name, json_string_value (v)) != NULL;
  if (!any)
    return false;
  json_array_foreach (json_object_get (filters, "dangling"), i, v)
  {
    const char *w = json_string_value (v);
    bool want = strcmp (w, "true") == 0 || strcmp (w, "1") == 0;
    if (want != dangling)
      return false;
  }
  json_array_foreach (json_object_get (filters, "driver"), i,
                      v) if (strcmp (json_string_value (v), "local") != 0) return false;
  json_t *labels = json_object_get (vol, "Labels");
  return cmd_filter_labels (filters,
                            json_is_object (labels) ? labels : json_object_get (filters, ""));
}

static int
volume_ls (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  static const char *const known[] = { "name", "label", "dangling", "driver", NULL };
  bool quiet = false;
  const char *format = NULL;
  json_t *filters = json_object ();
  int r = 0;
  for (int i = 1; i < argc && r == 0; i++)
    {
      const char *v = NULL;
      if ((r = cmd_opt_value (argc, argv, &i, "-f", "--filter", "volume ls", &v, err)) != 0)
        r = r < 0 || cmd_filter_add (filters, v, known, err) < 0 ? -1 : 0;
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--format", "volume ls", &v, err)) != 0)
        {
          r = r < 0 ? -1 : 0;
          format = v;
        }
      else if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
        quiet = true;
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook volume ls [OPTIONS]\n\nList volumes\n\nOptions:\n"
                  "  -f, --filter filter   Provide filter values (e.g. \"dangling=true\", "
                  "\"label=k=v\", \"name=x\")\n"
                  "      --format string   'table', 'table TEMPLATE', 'json' or a Go template\n"
                  "  -q, --quiet           Only display volume names\n");
          json_decref (filters);
          return 0;
        }
      else if (argv[i][0] == '-')
        r = cmd_flag_error (err, "volume ls", "unknown flag: %s", argv[i]);
      else
        r = cmd_args_error (err, "volume ls", "\"nook volume ls\" accepts no arguments.");
    }
  cleanup_free char *root = r == 0 ? ctr_store_root (ctx->root, err) : NULL;
  struct ctr_list l = { 0 };
  if (root == NULL || ctr_list_load (root, &l, err) < 0)
    {
      json_decref (filters);
      return -1;
    }
  cleanup_strv char **names = volume_names (root);
  json_t *rows = json_array ();
  for (size_t i = 0; names && names[i]; i++)
    {
      cleanup_error nook_error_t e = NULL;
      json_t *vol = volume_json (root, names[i], &e);
      if (vol == NULL)
        continue;
      cleanup_strv char **users = volume_users (&l, names[i]);
      if (matches (filters, vol, users == NULL))
        {
          json_t *labels = json_object_get (vol, "Labels");
          cleanup_free char *lt = json_is_object (labels) ? cmd_labels_text (labels) : xstrdup ("");
          cleanup_free char *links = xasprintf ("%zu", strv_len (users));
          json_array_append_new (rows,
                                 json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                                            "Availability", "N/A", "Driver", "local", "Group",
                                            "N/A", "Labels", lt, "Links", links, "Mountpoint",
                                            json_string_value (json_object_get (vol, "Mountpoint")),
                                            "Name", names[i], "Scope", "local", "Size", "N/A"));
        }
      json_decref (vol);
    }
  size_t i;
  json_t *row;
  if (quiet)
    json_array_foreach (rows, i, row)
        printf ("%s\n", json_string_value (json_object_get (row, "Name")));
  else if (format == NULL || cmd_format_kind (format) == CMD_FORMAT_TABLE)
    {
      printf ("DRIVER    VOLUME NAME\n");
      json_array_foreach (rows, i, row)
          printf ("local     %s\n", json_string_value (json_object_get (row, "Name")));
    }
  else
    {
      json_t *h = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Driver", "DRIVER", "Name",
                             "VOLUME NAME", "Labels", "LABELS", "Links", "LINKS", "Mountpoint",
                             "MOUNTPOINT", "Scope", "SCOPE", "Size", "SIZE", "Availability",
                             "AVAILABILITY");
      r = cli_format_print (format, rows, h, err);
      json_decref (h);
    }
  json_decref (rows);
  json_decref (filters);
  ctr_list_free (&l);
  return r;
}

static int
volume_inspect (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  const char *format = NULL;
  int nargs = 0;
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r = cmd_opt_value (argc, argv, &i, "-f", "--format", "volume inspect", &v, err);
      if (r < 0)
        return -1;
      if (r > 0)
        format = v;
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook volume inspect [OPTIONS] VOLUME [VOLUME...]\n\nDisplay detailed "
                  "information on one or more volumes\n\nOptions:\n  -f, --format string   "
                  "Format output using a Go template, or 'json'\n");
          return 0;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "volume inspect", "unknown flag: %s", argv[i]);
      else
        nargs++;
    }
  if (nargs == 0)
    return cmd_args_error (err, "volume inspect",
                           "\"nook volume inspect\" requires at least 1 argument.");
  cleanup_free char *root = ctr_store_root (ctx->root, err);
  if (root == NULL)
    return -1;
  json_t *results = json_array ();
  int status = 0;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--format") == 0)
        {
          i++;
          continue;
        }
      if (argv[i][0] == '-')
        continue;
      cleanup_error nook_error_t e = NULL;
      json_t *v = volume_json (root, argv[i], &e);
      if (v == NULL)
        {
          fprintf (stderr, "Error: %s\n", e->msg);
          status = 1;
          continue;
        }
      json_array_append_new (results, v);
    }
  int r = 0;
  if (format == NULL || strcmp (format, "json") == 0)
    {
      char *s = json_dumps (results, JSON_INDENT (4));
      printf ("%s\n", s ? s : "[]");
      free (s);
    }
  else
    r = cli_format_print (format, results, NULL, err);
  json_decref (results);
  return r < 0 ? -1 : status;
}

static int
remove_one (const char *root, const struct nook_idmapping *ids, const struct ctr_list *l,
            const char *name, bool force, nook_error_t *err)
{
  cleanup_error nook_error_t e = NULL;
  json_t *v = volume_json (root, name, &e);
  if (v == NULL)
    return force ? 0 : nook_error_set (err, ENOENT, "No such volume: %s", name);
  json_decref (v);
  cleanup_strv char **users = volume_users (l, name);
  if (users)
    {
      struct strbuf b = { 0 };
      for (size_t i = 0; users[i]; i++)
        strbuf_appendf (&b, "%s%s", i ? " " : "", users[i]);
      cleanup_free char *list = strbuf_steal (&b);
      return nook_error_set (err, EBUSY, "remove %s: volume is in use - [%s]", name, list);
    }
  return volume_remove_dir (root, name, ids, err);
}

static int
volume_rm (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  bool force = false;
  int nargs = 0;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--force") == 0)
        force = true;
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook volume rm [OPTIONS] VOLUME [VOLUME...]\n\nRemove one or more "
                  "volumes. You cannot remove a volume that is in use by a container.\n\n"
                  "Options:\n  -f, --force   Do not error when a volume does not exist\n");
          return 0;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "volume rm", "unknown flag: %s", argv[i]);
      else
        nargs++;
    }
  if (nargs == 0)
    return cmd_args_error (err, "volume rm", "\"nook volume rm\" requires at least 1 argument.");
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
      if (remove_one (root, &ids, &l, argv[i], force, &e) < 0)
        {
          fprintf (stderr, "Error: %s\n", e->msg);
          status = 1;
          continue;
        }
      printf ("%s\n", argv[i]);
    }
  ctr_list_free (&l);
  imagefmt_store_close (store);
  return status;
}

static int
volume_prune (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  static const char *const known[] = { "label", "all", NULL };
  bool force = false, all = false;
  json_t *filters = json_object ();
  int r = 0;
  for (int i = 1; i < argc && r == 0; i++)
    {
      const char *v = NULL;
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--filter", "volume prune", &v, err)) != 0)
        r = r < 0 || cmd_filter_add (filters, v, known, err) < 0 ? -1 : 0;
      else if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--force") == 0)
        force = true;
      else if (strcmp (argv[i], "-a") == 0 || strcmp (argv[i], "--all") == 0)
        all = true;
      else if (strcmp (argv[i], "-af") == 0 || strcmp (argv[i], "-fa") == 0)
        all = force = true;
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook volume prune [OPTIONS]\n\nRemove unused local volumes\n\n"
                  "Options:\n  -a, --all             Remove all unused volumes, not just "
                  "anonymous ones\n      --filter filter   Provide filter values (e.g. "
                  "\"label=<label>\")\n  -f, --force           Do not prompt for confirmation\n");
          json_decref (filters);
          return 0;
        }
      else
        r = cmd_flag_error (err, "volume prune", "unknown flag: %s", argv[i]);
    }
  size_t k;
  json_t *fv;
  json_array_foreach (json_object_get (filters, "all"), k, fv) all
      |= strcmp (json_string_value (fv), "true") == 0 || strcmp (json_string_value (fv), "1") == 0;
  if (r < 0)
    {
      json_decref (filters);
      return -1;
    }
  if (!force)
    {
      fprintf (stderr,
               "WARNING! This will remove %s local volumes not used by at least one "
               "container.\nAre you sure you want to continue? [y/N] ",
               all ? "all" : "anonymous");
      char line[16] = "";
      if (fgets (line, sizeof line, stdin) == NULL || (line[0] != 'y' && line[0] != 'Y'))
        {
          json_decref (filters);
          return 0;
        }
    }
  struct imagefmt_store *store = NULL;
  struct nook_idmapping ids;
  struct ctr_list l = { 0 };
  if (cmd_store_open (ctx->root, &store, &ids, NULL, err) < 0
      || ctr_list_load (imagefmt_store_root (store), &l, err) < 0)
    {
      if (store)
        imagefmt_store_close (store);
      json_decref (filters);
      return -1;
    }
  const char *root = imagefmt_store_root (store);
  cleanup_strv char **names = volume_names (root);
  bool header = false;
  int status = 0;
  for (size_t i = 0; names && names[i]; i++)
    {
      cleanup_error nook_error_t e = NULL;
      json_t *vol = volume_json (root, names[i], &e);
      json_t *labels = json_object_get (vol, "Labels");
      bool anon = json_object_get (labels, ANON_LABEL) != NULL;
      cleanup_strv char **users = volume_users (&l, names[i]);
      bool keep = vol == NULL || users || (!all && !anon)
                  || !cmd_filter_labels (
                      filters, json_is_object (labels) ? labels : json_object_get (filters, ""));
      json_decref (vol);
      if (keep)
        continue;
      if (volume_remove_dir (root, names[i], &ids, &e) < 0)
        {
          fprintf (stderr, "Error: %s\n", e->msg);
          status = 1;
          continue;
        }
      if (!header)
        printf ("Deleted Volumes:\n");
      header = true;
      printf ("%s\n", names[i]);
    }
  printf ("%sTotal reclaimed space: 0B\n", header ? "\n" : "");
  ctr_list_free (&l);
  imagefmt_store_close (store);
  json_decref (filters);
  return status;
}

static const struct
{
  const char *name;
  cmd_fn fn;
  const char *summary;
} subs[] = {
  { "create", volume_create, "Create a volume" },
  { "ls", volume_ls, "List volumes" },
  { "list", volume_ls, NULL },
  { "inspect", volume_inspect, "Display detailed information on one or more volumes" },
  { "rm", volume_rm, "Remove one or more volumes" },
  { "remove", volume_rm, NULL },
  { "prune", volume_prune, "Remove unused local volumes" },
};

int
cmd_volume (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (argc < 2 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0)
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf (out, "Usage:  nook volume COMMAND\n\nManage volumes\n\nCommands:\n");
      for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
        if (subs[i].summary)
          fprintf (out, "  %-8s %s\n", subs[i].name, subs[i].summary);
      return argc < 2 ? 1 : 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
    if (strcmp (argv[1], subs[i].name) == 0)
      return subs[i].fn (ctx, argc - 1, argv + 1, err);
  return cmd_args_error (err, "volume", "nook volume: '%s' is not a nook volume command.", argv[1]);
}
