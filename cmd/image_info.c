/* cmd/image_info.c: `nook tag`, `nook inspect` (images), `nook history`. */
#include "cmd/cli.h"
#include "cmd/events.h"
#include "cmd/commands.h"
#include "cmd/format.h"
#include "imagefmt/image_info.h"
#include "imagefmt/ref.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
cleanup_storep (struct imagefmt_store **s)
{
  imagefmt_store_close (*s);
}
#define cleanup_store __attribute__ ((cleanup (cleanup_storep)))

static void
cleanup_infop (struct imagefmt_image_info **i)
{
  imagefmt_image_info_free (*i);
}
#define cleanup_info __attribute__ ((cleanup (cleanup_infop)))

/* "No such image: X" says it all: no strerror after it. */
static int
plain (nook_error_t *err)
{
  if (err && *err && (*err)->code == ENOENT)
    (*err)->code = 0;
  return -1;
}

/* ---- tag ---- */

int
cmd_tag (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  struct imagefmt_image *img = NULL;
  const char *pos[2] = { NULL, NULL };
  int npos = 0;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
              "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    {
      if (argv[i][0] == '-' && argv[i][1] != '\0')
        return cmd_flag_error (err, "tag", "unknown flag: %s", argv[i]);
      if (npos == 2)
        {
          npos++;
          break;
        }
      pos[npos++] = argv[i];
    }
  if (npos != 2)
    return cmd_args_error (err, "tag", "\"nook tag\" requires exactly 2 arguments.");
  cleanup_free char *full = imagefmt_ref_normalize_tag (pos[1], err);
  if (full == NULL || imagefmt_store_open (ctx->root, &s, err) < 0
      || imagefmt_store_lock (s, err) < 0)
    return -1;
  /* Under the writer lock (recursive): no rmi between the lookup and the tag. */
  int r = imagefmt_store_lookup (s, pos[0], &img, err) < 0
              ? plain (err)
              : imagefmt_store_tag (s, full, img->manifest_digest, err);
  imagefmt_store_unlock (s);
  if (r == 0)
    {
      /* Docker's: the image's ID, the new reference (familiar) as its name */
      cleanup_free char *fam = imagefmt_ref_familiar (full);
      events_image (s, "tag", img->id, fam ? fam : full, img->config, NULL);
    }
  imagefmt_image_free (img);
  return r;
}

/* ---- history ---- */

/* Docker's stringutils.Ellipsis: at most n characters (UTF-8 aware), "…" at the end. */
static char *
ellipsis (const char *s, size_t n)
{
  size_t chars = 0, i = 0, cut = 0;
  for (; s[i]; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80)
      {
        if (chars == n - 1)
          cut = i;
        chars++;
      }
  if (chars <= n)
    return xstrdup (s);
  return xasprintf ("%.*s…", (int)cut, s);
}

static char *
tabs_to_spaces (const char *s)
{
  char *r = xstrdup (s);
  for (char *p = r; *p; p++)
    if (*p == '\t' || *p == '\n')
      *p = ' ';
  return r;
}

struct history_opts
{
  bool quiet, no_trunc, json, human;
  const char *tmpl; /* a Go template ("TMPL" or "table TMPL") */
};

static int
history_parse (const char *verb, int argc, char **argv, struct history_opts *o, const char **name,
               nook_error_t *err)
{
  o->human = true;
  for (int i = 1; i < argc; i++)
    {
      const char *v;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--format", verb, &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          enum cmd_format f = cmd_format_kind (v);
          o->json = f == CMD_FORMAT_JSON;
          o->tmpl = f == CMD_FORMAT_TEMPLATE ? v : NULL;
        }
      else if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
        o->quiet = true;
      else if (strcmp (argv[i], "--no-trunc") == 0)
        o->no_trunc = true;
      else if (strcmp (argv[i], "-H=false") == 0 || strcmp (argv[i], "--human=false") == 0)
        o->human = false;
      else if (strcmp (argv[i], "-H") == 0 || strcmp (argv[i], "--human") == 0
               || strcmp (argv[i], "-H=true") == 0 || strcmp (argv[i], "--human=true") == 0)
        o->human = true;
      else if (argv[i][0] == '-' && argv[i][1] != '\0')
        return cmd_flag_error (err, verb, "unknown flag: %s", argv[i]);
      else if (*name == NULL)
        *name = argv[i];
      else
        return cmd_args_error (err, verb, "\"nook %s\" requires exactly 1 argument.", verb);
    }
  if (*name == NULL)
    return cmd_args_error (err, verb, "\"nook %s\" requires exactly 1 argument.", verb);
  return 0;
}

struct hcells
{
  char *id, *created, *by, *size, *comment, *created_at;
};

static void
hcells_fill (struct hcells *c, const struct imagefmt_history_row *r, const struct history_opts *o,
             int64_t now)
{
  if (r->id == NULL)
    c->id = xstrdup ("<missing>");
  else
    c->id = o->no_trunc ? xstrdup (r->id) : xstrndup (r->id + 7, 12);
  char buf[64] = "";
  time_t t = (time_t)r->created;
  struct tm tm;
  if (gmtime_r (&t, &tm))
    strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  c->created_at = xstrdup (buf);
  c->created = o->human ? cmd_human_created (r->created, now) : xstrdup (buf);
  cleanup_free char *by = tabs_to_spaces (r->created_by);
  c->by = o->no_trunc ? xstrdup (by) : ellipsis (by, 45);
  c->size = o->human ? cmd_human_size (r->size) : xasprintf ("%llu", (unsigned long long)r->size);
  c->comment = xstrdup (r->comment);
}

static void
hcells_free (struct hcells *c)
{
  free (c->id);
  free (c->created);
  free (c->by);
  free (c->size);
  free (c->comment);
  free (c->created_at);
}

/* Width in characters (UTF-8), for the table's padding. */
static size_t
width (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

static json_t *
hcells_json (const struct hcells *c)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "Comment", c->comment, "CreatedAt",
                    c->created_at, "CreatedBy", c->by, "CreatedSince", c->created, "ID", c->id,
                    "Size", c->size);
}

static int
print_history (struct hcells *c, size_t n, const struct history_opts *o, nook_error_t *err)
{
  if (o->quiet)
    {
      for (size_t i = 0; i < n; i++)
        printf ("%s\n", c[i].id);
      return 0;
    }
  if (o->tmpl)
    {
      json_auto_t *rows = json_array ();
      for (size_t i = 0; i < n; i++)
        json_array_append_new (rows, hcells_json (&c[i]));
      json_auto_t *heads = json_pack (
          "{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt",
          "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT");
      return cli_format_print (o->tmpl, rows, heads, err);
    }
  if (o->json)
    {
      for (size_t i = 0; i < n; i++)
        {
          json_t *j = hcells_json (&c[i]);
          char *t = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
          printf ("%s\n", t ? t : "{}");
          free (t);
          json_decref (j);
        }
      return 0;
    }
  const char *head[] = { "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT" };
  size_t w[4];
  for (size_t k = 0; k < 4; k++)
    w[k] = strlen (head[k]);
  for (size_t i = 0; i < n; i++)
    {
      const char *cells[4] = { c[i].id, c[i].created, c[i].by, c[i].size };
      for (size_t k = 0; k < 4; k++)
        if (width (cells[k]) > w[k])
          w[k] = width (cells[k]);
    }
  for (size_t i = 0; i <= n; i++)
    {
      const char *cells[5] = { head[0], head[1], head[2], head[3], head[4] };
      if (i > 0)
        {
          struct hcells *x = &c[i - 1];
          const char *row[5] = { x->id, x->created, x->by, x->size, x->comment };
          memcpy (cells, row, sizeof row);
        }
      for (size_t k = 0; k < 4; k++)
        printf ("%s%*s", cells[k], (int)(w[k] - width (cells[k]) + 3), "");
      printf ("%s\n", cells[4]);
    }
  return 0;
}

static int
history (struct nook_ctx *ctx, const char *verb, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  cleanup_info struct imagefmt_image_info *info = NULL;
  struct history_opts o = { 0 };
  const char *name = NULL;
  struct imagefmt_history_row *rows = NULL;
  size_t n = 0;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook %s [OPTIONS] IMAGE\n\n"
              "Show the history of an image\n\n"
              "Options:\n"
              "      --format string   'table' (default), 'json', or a Go template\n"
              "  -H, --human           Print sizes and dates in human readable format "
              "(default true)\n"
              "      --no-trunc        Don't truncate output\n"
              "  -q, --quiet           Only show image IDs\n",
              verb);
      return 0;
    }
  if (history_parse (verb, argc, argv, &o, &name, err) < 0)
    return -1;
  if (imagefmt_store_open (ctx->root, &s, err) < 0)
    return -1;
  if (imagefmt_image_info_get (s, name, &info, err) < 0
      || imagefmt_image_history (info, &rows, &n, err) < 0)
    return plain (err);
  struct hcells *c = xzalloc ((n + 1) * sizeof *c);
  int64_t now = (int64_t)time (NULL);
  for (size_t i = 0; i < n; i++)
    hcells_fill (&c[i], &rows[i], &o, now);
  int r = print_history (c, n, &o, err);
  for (size_t i = 0; i < n; i++)
    hcells_free (&c[i]);
  free (c);
  imagefmt_history_free (rows, n);
  return r;
}

int
cmd_history (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return history (ctx, "history", argc, argv, err);
}

int
cmd_image_history (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return history (ctx, "image history", argc, argv, err);
}
