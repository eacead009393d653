/* cmd/images.c: `nook import`, `nook bootstrap`, `nook images`, `nook rmi`. */
#include "cmd/cli.h"
#include "cmd/events.h"
#include "cmd/commands.h"
#include "cmd/format.h"
#include "cmd/records.h"
#include "cmd/store_open.h"
#include "imagefmt/bootstrap.h"
#include "imagefmt/ref.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
cleanup_storep (struct imagefmt_store **s)
{
  imagefmt_store_close (*s);
}
#define cleanup_store __attribute__ ((cleanup (cleanup_storep)))

/* Options of the form -x VALUE, --long VALUE or --long=VALUE; returns the value or NULL. */
static const char *
opt_value (int argc, char **argv, int *i, const char *s, const char *l, nook_error_t *err,
           bool *matched)
{
  const char *a = argv[*i];
  size_t ll = l ? strlen (l) : 0;
  *matched = false;
  if (l && strncmp (a, l, ll) == 0 && a[ll] == '=')
    {
      *matched = true;
      return a + ll + 1;
    }
  if (!((s && strcmp (a, s) == 0) || (l && strcmp (a, l) == 0)))
    return NULL;
  *matched = true;
  if (*i + 1 >= argc)
    {
      nook_error_set (err, 0, "flag needs an argument: %s", a);
      cmd_usage_mark (err);
      return NULL;
    }
  return argv[++*i];
}

/* ---- import ---- */

static void
import_usage (void)
{
  printf ("Usage:  nook import [OPTIONS] file|- [REPOSITORY[:TAG]]\n\n"
          "Import the contents from a tarball to create a filesystem image\n\n"
          "Options:\n"
          "  -m, --message string   Set commit message for imported image\n");
}

int
cmd_import (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  cleanup_free char *id = NULL;
  cleanup_close int fd = -1;
  const char *message = NULL, *pos[2] = { NULL, NULL };
  int npos = 0;
  if (cmd_wants_help (argc, argv))
    {
      import_usage ();
      return 0;
    }
  for (int i = 1; i < argc; i++)
    {
      bool m;
      const char *v = opt_value (argc, argv, &i, "-m", "--message", err, &m);
      if (m && v == NULL)
        return -1;
      if (m)
        message = v;
      else if (argv[i][0] == '-' && argv[i][1] != '\0')
        return cmd_flag_error (err, "import", "unknown flag: %s", argv[i]);
      else if (npos < 2)
        pos[npos++] = argv[i];
      else
        return cmd_args_error (err, "import",
                               "\"nook import\" requires at least 1 and at most 2 arguments.");
    }
  if (npos == 0)
    return cmd_args_error (err, "import",
                           "\"nook import\" requires at least 1 and at most 2 arguments.");
  if (pos[1])
    {
      cleanup_free char *full = imagefmt_ref_normalize_tag (pos[1], err);
      if (full == NULL)
        return -1;
    }
  if (strcmp (pos[0], "-") == 0)
    fd = fcntl (0, F_DUPFD_CLOEXEC, 3);
  else
    fd = open (pos[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", pos[0]);
  if (imagefmt_store_open (ctx->root, &s, err) < 0)
    return -1;
  cleanup_free char *comment = xasprintf ("Imported from %s", pos[0]);
  json_t *cfg = imagefmt_store_default_config ((int64_t)time (NULL), message ? message : comment);
  int r = imagefmt_store_import_tar (s, fd, cfg, pos[1], &id, err);
  json_decref (cfg);
  if (r < 0)
    return nook_error_wrap (err, "import '%s'", pos[0]);
  events_image (s, "import", id, id, NULL, id);
  printf ("%s\n", id);
  return 0;
}

/* ---- bootstrap ---- */

int
cmd_bootstrap (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  cleanup_free char *id = NULL;
  const char *busybox = NULL, *pos[2] = { NULL, NULL };
  int npos = 0;
  /* The first operand picks the base: debian:SUITE has flags of its own. */
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--busybox") == 0 || strcmp (argv[i], "--include") == 0
          || strcmp (argv[i], "--mirror") == 0 || strcmp (argv[i], "-t") == 0
          || strcmp (argv[i], "--tag") == 0)
        i++;
      else if (argv[i][0] != '-')
        {
          if (str_has_prefix (argv[i], "debian:") || strcmp (argv[i], "debian") == 0)
            return cmd_wants_help (argc, argv) ? (cmd_bootstrap_debian_usage (), 0)
                                               : cmd_bootstrap_debian (ctx, argc, argv, err);
          break;
        }
    }
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook bootstrap [OPTIONS] busybox [NAME[:TAG]]\n"
              "        nook bootstrap debian:SUITE [--include PKG,...] [--mirror URL] [-t NAME]\n"
              "        (nook bootstrap debian:SUITE --help says more)\n\n"
              "Create a base image from the host's statically linked busybox\n"
              "(Debian: busybox-static), tagged busybox:latest by default\n\n"
              "Options:\n"
              "      --busybox PATH   The busybox binary (default /bin/busybox)\n\n"
              "The image is reproducible: its creation time is $SOURCE_DATE_EPOCH, or 1970.\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    {
      bool m;
      const char *v = opt_value (argc, argv, &i, NULL, "--busybox", err, &m);
      if (m && v == NULL)
        return -1;
      if (m)
        busybox = v;
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "bootstrap", "unknown flag: %s", argv[i]);
      else if (npos < 2)
        pos[npos++] = argv[i];
      else
        return cmd_args_error (err, "bootstrap", "too many arguments");
    }
  if (npos == 0 || strcmp (pos[0], "busybox") != 0)
    return cmd_args_error (err, "bootstrap",
                           "\"nook bootstrap\" knows two bases: busybox and debian:SUITE\n"
                           "Usage: nook bootstrap busybox [NAME[:TAG]]\n"
                           "       nook bootstrap debian:SUITE [--include PKG,...] [--mirror "
                           "URL] [-t NAME]");
  uint64_t created = 0;
  const char *sde = getenv ("SOURCE_DATE_EPOCH");
  if (sde && *sde && parse_uint (sde, INT64_MAX, &created, "SOURCE_DATE_EPOCH", err) < 0)
    return -1;
  if (pos[1])
    {
      cleanup_free char *full = imagefmt_ref_normalize_tag (pos[1], err);
      if (full == NULL)
        return -1;
    }
  if (imagefmt_store_open (ctx->root, &s, err) < 0
      || imagefmt_bootstrap_busybox (s, busybox, pos[1], (int64_t)created, &id, err) < 0)
    return -1;
  printf ("%s\n", id);
  return 0;
}

/* ---- images ---- */

struct images_opts
{
  bool quiet, no_trunc, json, all, digests;
  const char *format; /* a Go template ("table TEMPLATE" too), or NULL */
  const char *filter;
  int dangling;      /* -1 no filter, 0 tagged only, 1 untagged only */
  char **references; /* -f reference=PATTERN (any of them) */
};

/* -f KEY=VALUE: dangling=true|false, reference=PATTERN (Docker's image filters). */
static int
add_filter (struct images_opts *o, const char *f, nook_error_t *err)
{
  const char *eq = strchr (f, '=');
  if (eq == NULL)
    return nook_error_set (err, 0, "bad format of filter (expected name=value)");
  size_t k = (size_t)(eq - f);
  const char *v = eq + 1;
  if (k == 8 && strncmp (f, "dangling", 8) == 0)
    {
      if (strcmp (v, "true") == 0 || strcmp (v, "1") == 0)
        o->dangling = 1;
      else if (strcmp (v, "false") == 0 || strcmp (v, "0") == 0)
        o->dangling = 0;
      else
        return nook_error_set (err, 0, "invalid filter 'dangling=%s'", v);
      return 0;
    }
  if (k == 9 && strncmp (f, "reference", 9) == 0)
    {
      strv_push (&o->references, v);
      return 0;
    }
  if ((k == 5 && strncmp (f, "label", 5) == 0) || (k == 6 && strncmp (f, "before", 6) == 0)
      || (k == 5 && strncmp (f, "since", 5) == 0) || (k == 5 && strncmp (f, "until", 5) == 0))
    return nook_error_set (err, 0,
                           "filter '%.*s' is not supported by nook yet (dangling and "
                           "reference are)",
                           (int)k, f);
  return nook_error_set (err, 0, "invalid filter '%.*s'", (int)k, f);
}

/* Docker's reference filter: the pattern (path.Match) against the familiar "repo" and
 * "repo:tag". */
static bool
reference_matches (char *const *patterns, const struct imagefmt_listing *l)
{
  if (patterns == NULL)
    return true;
  if (l->ref == NULL)
    return false;
  struct imagefmt_ref r;
  bool ok = false;
  if (imagefmt_ref_parse (l->ref, &r, NULL) < 0)
    return false;
  cleanup_free char *repo = imagefmt_ref_short_name (&r);
  cleanup_free char *full = imagefmt_ref_short (&r);
  for (size_t i = 0; patterns[i] && !ok; i++)
    ok = fnmatch (patterns[i], repo, FNM_PATHNAME) == 0
         || fnmatch (patterns[i], full, FNM_PATHNAME) == 0;
  imagefmt_ref_clear (&r);
  return ok;
}

struct row
{
  char *repo, *tag, *id, *since, *size, *created_at, *digest;
};

static void
row_fill (struct row *r, const struct imagefmt_listing *l, const struct images_opts *o, int64_t now)
{
  struct imagefmt_ref ref;
  r->repo = r->tag = r->digest = NULL;
  if (l->ref && imagefmt_ref_parse (l->ref, &ref, NULL) == 0)
    {
      r->repo = imagefmt_ref_short_name (&ref);
      r->tag = xstrdup (ref.tag ? ref.tag : "<none>");
      r->digest = ref.digest       ? xstrdup (ref.digest)
                  : l->repo_digest ? xstrdup (l->repo_digest)
                                   : NULL;
      imagefmt_ref_clear (&ref);
    }
  if (r->repo == NULL)
    r->repo = xstrdup ("<none>");
  if (r->tag == NULL)
    r->tag = xstrdup ("<none>");
  if (r->digest == NULL)
    r->digest = xstrdup ("<none>");
  r->id = o->no_trunc ? xstrdup (l->id) : xstrndup (l->id + 7, 12);
  r->since = cmd_human_created (l->created, now);
  r->size = cmd_human_size (l->size);
  time_t t = (time_t)l->created;
  struct tm tm;
  char buf[64] = "";
  if (gmtime_r (&t, &tm))
    strftime (buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  r->created_at = xstrdup (buf);
}

static void
row_free (struct row *r)
{
  free (r->repo);
  free (r->tag);
  free (r->id);
  free (r->since);
  free (r->size);
  free (r->created_at);
  free (r->digest);
}

static json_t *
row_json (const struct row *r)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers", "N/A",
                    "CreatedAt", r->created_at, "CreatedSince", r->since, "Digest", r->digest, "ID",
                    r->id, "Repository", r->repo, "SharedSize", "N/A", "Size", r->size, "Tag",
                    r->tag, "UniqueSize", "N/A", "VirtualSize", r->size);
}

static void
print_json_row (const struct row *r)
{
  json_t *j = row_json (r);
  char *s = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
  if (s)
    printf ("%s\n", s);
  free (s);
  json_decref (j);
}

/* --format TEMPLATE: the rows as `images --format json` gives them, Docker's column
 * titles for "table TEMPLATE". */
static int
print_template (const char *format, const struct row *rows, size_t n, nook_error_t *err)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, row_json (&rows[i]));
  json_t *h
      = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository", "REPOSITORY", "Tag",
                   "TAG", "Digest", "DIGEST", "ID", "IMAGE ID", "CreatedSince", "CREATED",
                   "CreatedAt", "CREATED AT", "Size", "SIZE", "VirtualSize", "SIZE");
  int r = cli_format_print (format, a, h, err);
  json_decref (h);
  json_decref (a);
  return r;
}

static int
images_parse (int argc, char **argv, struct images_opts *o, nook_error_t *err)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      bool m;
      const char *v = opt_value (argc, argv, &i, NULL, "--format", err, &m);
      if (m && v == NULL)
        return -1;
      if (!m)
        v = NULL;
      if (m)
        {
          enum cmd_format f = cmd_format_kind (v);
          o->json = f == CMD_FORMAT_JSON;
          o->format = f == CMD_FORMAT_TEMPLATE ? v : NULL;
        }
      else if (strcmp (a, "-q") == 0 || strcmp (a, "--quiet") == 0)
        o->quiet = true;
      else if (strcmp (a, "--digests") == 0)
        o->digests = true;
      else if (cmd_opt_value (argc, argv, &i, "-f", "--filter", "images", &v, err) != 0)
        {
          if (v == NULL || add_filter (o, v, err) < 0)
            return -1;
        }
      else if (strcmp (a, "--no-trunc") == 0)
        o->no_trunc = true;
      else if (strcmp (a, "-a") == 0 || strcmp (a, "--all") == 0)
        o->all = true;
      else if (a[0] == '-')
        return cmd_flag_error (err, "images", "unknown flag: %s", a);
      else if (o->filter == NULL)
        o->filter = a;
      else
        return cmd_args_error (err, "images", "\"nook images\" requires at most 1 argument.");
    }
  return 0;
}

/* REPOSITORY[:TAG] given to `nook images` matches this listing? */
static bool
matches (const struct imagefmt_listing *l, const char *filter)
{
  if (filter == NULL)
    return true;
  if (l->ref == NULL)
    return false;
  struct imagefmt_ref want, have;
  bool ok = false;
  if (imagefmt_ref_parse (filter, &want, NULL) < 0)
    return false;
  if (imagefmt_ref_parse (l->ref, &have, NULL) == 0)
    {
      bool tagged = strchr (strrchr (filter, '/') ? strrchr (filter, '/') : filter, ':') != NULL;
      ok = strcmp (want.domain, have.domain) == 0 && strcmp (want.path, have.path) == 0
           && (!tagged || (have.tag && strcmp (want.tag, have.tag) == 0));
      imagefmt_ref_clear (&have);
    }
  imagefmt_ref_clear (&want);
  return ok;
}

static void
print_table (struct row *rows, size_t n, bool digests)
{
  static const char *const head[]
      = { "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE" };
  size_t w[5];
  for (size_t c = 0; c < 5; c++)
    w[c] = strlen (head[c]);
  for (size_t i = 0; i < n; i++)
    {
      const char *cells[5]
          = { rows[i].repo, rows[i].tag, rows[i].digest, rows[i].id, rows[i].since };
      for (size_t c = 0; c < 5; c++)
        if (strlen (cells[c]) > w[c])
          w[c] = strlen (cells[c]);
    }
  for (size_t i = 0; i <= n; i++)
    {
      const char *cells[6] = { head[0], head[1], head[2], head[3], head[4], head[5] };
      if (i > 0)
        {
          const struct row *r = &rows[i - 1];
          const char *v[6] = { r->repo, r->tag, r->digest, r->id, r->since, r->size };
          memcpy (cells, v, sizeof v);
        }
      for (size_t c = 0; c < 5; c++)
        if (c != 2 || digests)
          printf ("%-*s   ", (int)w[c], cells[c]);
      printf ("%s\n", cells[5]);
    }
}

static int
cmp_listing (const void *a, const void *b)
{
  const struct imagefmt_listing *x = a, *y = b;
  return (x->created < y->created) - (x->created > y->created);
}

int
cmd_images (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  struct images_opts o = { .dangling = -1 };
  struct imagefmt_listing *l = NULL;
  size_t n = 0;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook images [OPTIONS] [REPOSITORY[:TAG]]\n\n"
              "List images\n\n"
              "Options:\n"
              "  -a, --all             Show all images (default hides intermediate images)\n"
              "      --digests         Show digests\n"
              "  -f, --filter filter   Filter output: dangling=true|false, reference=PATTERN\n"
              "      --format string   Format output using a custom template:\n"
              "                        'table':  Print output in table format (default)\n"
              "                        'json':   Print in JSON format\n"
              "                        'TEMPLATE': Print output using the given Go template\n"
              "      --no-trunc        Don't truncate output\n"
              "  -q, --quiet           Only show image IDs\n");
      return 0;
    }
  if (images_parse (argc, argv, &o, err) < 0 || imagefmt_store_open (ctx->root, &s, err) < 0
      || imagefmt_store_list (s, &l, &n, err) < 0)
    return -1;
  qsort (l, n, sizeof *l, cmp_listing);
  struct row *rows = xreallocarray (NULL, n + 1, sizeof *rows);
  size_t k = 0;
  int64_t now = (int64_t)time (NULL);
  for (size_t i = 0; i < n; i++)
    {
      if (!matches (&l[i], o.filter) || !reference_matches (o.references, &l[i])
          || (o.dangling == 1 && l[i].ref != NULL) || (o.dangling == 0 && l[i].ref == NULL))
        continue;
      if (o.quiet)
        {
          bool dup = false;
          for (size_t j = 0; j < i && !dup; j++)
            dup = matches (&l[j], o.filter) && strcmp (l[j].id, l[i].id) == 0;
          if (dup)
            continue;
        }
      row_fill (&rows[k++], &l[i], &o, now);
    }
  int ret = 0;
  if (o.quiet)
    for (size_t i = 0; i < k; i++)
      printf ("%s\n", rows[i].id);
  else if (o.json)
    for (size_t i = 0; i < k; i++)
      print_json_row (&rows[i]);
  else if (o.format)
    ret = print_template (o.format, rows, k, err);
  else
    print_table (rows, k, o.digests);
  for (size_t i = 0; i < k; i++)
    row_free (&rows[i]);
  free (rows);
  imagefmt_listing_free (l, n);
  strv_free (o.references);
  return ret;
}

/* ---- rmi ---- */

struct rmi_ctx
{
  struct imagefmt_store *s;
  const char *image_id; /* the image being removed (its events' Actor) */
};

static void
rmi_report (void *data, const char *what, const char *arg)
{
  struct rmi_ctx *c = data;
  printf ("%s: %s\n", what, arg);
  /* Docker's untag and delete events: the image's ID as both Actor and name; its labels
   * while it is there (untag), none once deleted */
  bool deleted = strcmp (what, "Deleted") == 0 && c->image_id && strcmp (arg, c->image_id) == 0;
  if (c->image_id && (deleted || strcmp (what, "Untagged") == 0))
    events_image (c->s, deleted ? "delete" : "untag", c->image_id, c->image_id, NULL,
                  deleted ? NULL : c->image_id);
}

static char *
rmi_container_using (void *data, const char *image_id, bool *running)
{
  return container_using_image (imagefmt_store_root (((struct rmi_ctx *)data)->s), image_id,
                                running);
}

int
cmd_rmi (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  bool force = false;
  int status = 0, nargs = 0;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook rmi [OPTIONS] IMAGE [IMAGE...]\n\n"
              "Remove one or more images\n\n"
              "Options:\n"
              "  -f, --force      Force removal of the image\n"
              "      --no-prune   Do not delete untagged parents (accepted, no effect)\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--force") == 0)
      force = true;
    else if (strcmp (argv[i], "--no-prune") == 0)
      ;
    else if (argv[i][0] == '-')
      return cmd_flag_error (err, "rmi", "unknown flag: %s", argv[i]);
    else
      nargs++;
  if (nargs == 0)
    return cmd_args_error (err, "rmi", "\"nook rmi\" requires at least 1 argument.");
  if (cmd_store_open (ctx->root, &s, NULL, NULL, err) < 0)
    return -1;
  /* Who uses an image is decided under the store's locks (imagefmt_store_remove): a
   * run holds its image from the moment it resolves it until its record is written. */
  struct rmi_ctx c = { .s = s };
  struct imagefmt_remove_opts ro = {
    .force = force, .container_using = rmi_container_using, .report = rmi_report, .data = &c
  };
  for (int i = 1; i < argc; i++)
    {
      cleanup_error nook_error_t e = NULL;
      if (argv[i][0] == '-')
        continue;
      struct imagefmt_image *img = NULL;
      cleanup_error nook_error_t le = NULL;
      c.image_id = imagefmt_store_lookup (s, argv[i], &img, &le) == 0 ? img->id : NULL;
      int rr = imagefmt_store_remove (s, argv[i], &ro, &e);
      c.image_id = NULL;
      imagefmt_image_free (img);
      if (rr == 0)
        continue;
      fflush (stdout);
      if (e->code == ENOENT || e->code == EBUSY)
        fprintf (stderr, "Error: %s\n", e->msg);
      else
        {
          cleanup_free char *t = nook_error_text (e);
          fprintf (stderr, "Error: %s\n", t);
        }
      status = 1;
    }
  return status;
}
