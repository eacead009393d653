/* cmd/archive.c: `nook save`, `nook load`, `nook export`. */
#include "cmd/cli.h"
#include "cmd/events.h"
#include "cmd/commands.h"
#include "cmd/records.h"
#include "cmd/store_open.h"
#include "imagefmt/archive.h"
#include "imagefmt/export.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
cleanup_storep (struct imagefmt_store **s)
{
  imagefmt_store_close (*s);
}
#define cleanup_store __attribute__ ((cleanup (cleanup_storep)))

/* A file written beside its destination and renamed onto it when complete (Docker's CLI
 * does the same), so a failed save leaves no half archive under the name asked for. */
struct out_file
{
  char *path, *tmp;
  int fd;
};

static int
out_open (struct out_file *o, const char *path, nook_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  cleanup_free char *copy2 = xstrdup (path);
  o->path = xstrdup (path);
  o->tmp = xasprintf ("%s/.%s.nook-XXXXXX", dirname (copy), basename (copy2));
  o->fd = mkostemp (o->tmp, O_CLOEXEC);
  if (o->fd < 0)
    return nook_error_set (err, errno, "create '%s'", o->tmp);
  fchmod (o->fd, 0644 & ~umask (umask (0)));
  return 0;
}

static int
out_finish (struct out_file *o, bool ok, nook_error_t *err)
{
  int ret = 0;
  /* No fsync: an archive is the user's file, as docker save's and podman save's are. */
  if (o->fd >= 0 && ok && rename (o->tmp, o->path) < 0)
    ret = nook_error_set (err, errno, "write '%s'", o->path);
  if (o->fd >= 0 && (!ok || ret < 0))
    unlink (o->tmp);
  if (o->fd >= 0)
    close (o->fd);
  free (o->path);
  free (o->tmp);
  return ret;
}

/* ---- save ---- */

/* Docker's save event of each image saved (r: the save's result, returned). */
static int
save_events (struct imagefmt_store *s, char **refs, int r)
{
  for (size_t i = 0; r == 0 && refs[i]; i++)
    {
      struct imagefmt_image *img = NULL;
      cleanup_error nook_error_t e = NULL;
      if (imagefmt_store_lookup (s, refs[i], &img, &e) == 0)
        events_image (s, "save", img->id, img->id, img->config, NULL);
      imagefmt_image_free (img);
    }
  return r;
}

int
cmd_save (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  cleanup_strv char **refs = xzalloc (sizeof (char *));
  const char *output = NULL, *format = "docker-archive";
  enum imagefmt_archive_format fmt;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook save [OPTIONS] IMAGE [IMAGE...]\n\n"
              "Save one or more images to a tar archive (streamed to STDOUT by default)\n\n"
              "Options:\n"
              "      --format string   docker-archive (default), oci-archive or oci-dir\n"
              "  -o, --output string   Write to a file (a directory for oci-dir), instead "
              "of STDOUT\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    {
      const char *v;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, "-o", "--output", "save", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          output = v;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--format", "save", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          format = v;
        }
      else if (argv[i][0] == '-' && argv[i][1] != '\0')
        return cmd_flag_error (err, "save", "unknown flag: %s", argv[i]);
      else
        strv_push (&refs, argv[i]);
    }
  if (refs[0] == NULL)
    return cmd_args_error (err, "save", "\"nook save\" requires at least 1 argument.");
  if (imagefmt_archive_format_parse (format, &fmt, err) < 0)
    return cmd_usage_mark (err);
  if (fmt == IMAGEFMT_ARCHIVE_OCI_DIR && output == NULL)
    return cmd_flag_error (err, "save", "--format oci-dir needs -o DIRECTORY");
  if (output == NULL && isatty (STDOUT_FILENO))
    return nook_error_set (err, 0,
                           "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  if (imagefmt_store_open (ctx->root, &s, err) < 0)
    return -1;
  if (output == NULL || fmt == IMAGEFMT_ARCHIVE_OCI_DIR)
    return save_events (s, refs, imagefmt_images_save (s, refs, fmt, STDOUT_FILENO, output, err));
  struct out_file o = { .fd = -1 };
  if (out_open (&o, output, err) < 0)
    {
      out_finish (&o, false, NULL);
      return -1;
    }
  int r = imagefmt_images_save (s, refs, fmt, o.fd, NULL, err);
  if (out_finish (&o, r == 0, r == 0 ? err : NULL) < 0)
    return -1;
  return save_events (s, refs, r);
}

/* ---- load ---- */

static void
load_report (void *data, const char *tag, const char *id)
{
  /* Docker's load event: the image's ID as Actor and name */
  events_image (data, "load", id, id, NULL, id);
  if (tag)
    printf ("Loaded image: %s\n", tag);
  else
    printf ("Loaded image ID: %s\n", id);
}

static void
load_renamed (void *data, const char *tag, const char *old_id)
{
  /* Docker's words (image/tarexport/load.go). */
  printf ("The image %s already exists, renaming the old one with ID %s to empty string\n", tag,
          old_id);
}

/* The archive read, what follows it on stdin is read and dropped, to its end:
 * tar pads its output to whole records (GNU tar: 10 KiB) past the end marker,
 * and a producer still writing them when we exit got SIGPIPE (`tar c ... |
 * nook load` under `set -o pipefail` failed with 141).  docker load uploads
 * its stdin whole. */
static void
drain (int fd)
{
  char buf[65536];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    ;
}

int
cmd_load (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  cleanup_close int fd = -1;
  const char *input = NULL;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook load [OPTIONS]\n\n"
              "Load an image from a tar archive or STDIN\n\n"
              "Options:\n"
              "  -i, --input string   Read from tar archive file, instead of STDIN\n"
              "  -q, --quiet          Suppress the load output\n\n"
              "Reads docker-archive (docker save, podman save, skopeo) and oci-archive, plain\n"
              "or compressed (gzip, zstd, xz, bzip2).\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    {
      const char *v;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, "-i", "--input", "load", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          input = v;
        }
      else if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
        ; /* nook prints no progress to suppress; the "Loaded image" lines stay, as Docker's */
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "load", "unknown flag: %s", argv[i]);
      else
        return cmd_args_error (err, "load", "\"nook load\" accepts no arguments.");
    }
  if (input == NULL && isatty (STDIN_FILENO))
    return nook_error_set (err, 0, "requested load from stdin, but stdin is empty");
  if (input)
    {
      struct stat st;
      fd = open (input, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return nook_error_set (err, errno, "open '%s'", input);
      if (fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
        return nook_error_set (err, 0, "'%s' is a directory: nook load reads an archive", input);
    }
  else
    fd = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  if (imagefmt_store_open (ctx->root, &s, err) < 0)
    return -1;
  struct imagefmt_load_opts o = {
    .name = input ? input : "stdin", .loaded = load_report, .renamed = load_renamed, .data = s
  };
  int rc = imagefmt_images_load (s, fd, &o, err);
  if (rc == 0 && input == NULL)
    drain (fd);
  return rc;
}

/* ---- export ---- */

struct cfind
{
  const char *prefix;
  char *found;
  int matches;
};

static int
cfind_one (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct cfind *f = arg;
  if (name[0] == '.' || !str_has_prefix (name, f->prefix))
    return 0;
  if (f->matches++ == 0)
    f->found = xstrdup (name);
  return 0;
}

/* The ID of the container KEY names (a name, an ID, a unique ID prefix), or NULL. */
static char *
find_container (int cdir, const char *key, nook_error_t *err)
{
  char buf[128];
  cleanup_free char *lnk = xasprintf (".names/%s", key);
  ssize_t n = strchr (key, '/') ? -1 : readlinkat (cdir, lnk, buf, sizeof buf - 1);
  if (n > 0)
    {
      buf[n] = '\0';
      return xstrdup (buf);
    }
  struct cfind f = { .prefix = key };
  if (*key && !strchr (key, '/') && fs_dir_foreach (cdir, cfind_one, &f, err) < 0)
    return NULL;
  if (f.matches == 1)
    return f.found;
  free (f.found);
  nook_error_set (err, ENOENT,
                  f.matches > 1 ? "multiple containers match '%s'" : "No such container: %s", key);
  return NULL;
}

static int
export_container (struct imagefmt_store *s, const char *key, int outfd, nook_error_t *err)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", imagefmt_store_root (s));
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0)
    return nook_error_set (err, ENOENT, "No such container: %s", key);
  cleanup_free char *id = find_container (cdir, key, err);
  if (id == NULL)
    return -1;
  json_t *cfg = container_read_json (cdir, id, "config.json");
  const char *image_id = json_string_value (json_object_get (cfg, "ImageID"));
  const char *driver = json_string_value (json_object_get (cfg, "StorageDriver"));
  struct imagefmt_image *img = NULL;
  cleanup_strv char **dirs = NULL;
  bool copy_up = driver && strcmp (driver, "copy-up") == 0;
  int r = -1;
  if (image_id == NULL)
    nook_error_set (err, EINVAL, "container %.12s has no image recorded", id);
  else if (imagefmt_store_lookup (s, image_id, &img, err) == 0
           && (copy_up || imagefmt_store_layer_dirs (s, img, &dirs, err) == 0))
    {
      if (copy_up)
        dirs = xzalloc (sizeof (char *));
      strv_push_take (&dirs, xasprintf ("%s/%s/%s", cpath, id, copy_up ? "rootfs" : "upper"));
      r = imagefmt_export_tree (s, dirs, copy_up ? ".nook-copied" : NULL, outfd, err);
    }
  imagefmt_image_free (img);
  json_decref (cfg);
  return r < 0 ? nook_error_wrap (err, "export %s", key) : 0;
}

int
cmd_export (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  const char *output = NULL, *name = NULL;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook export [OPTIONS] CONTAINER\n\n"
              "Export a container's filesystem as a tar archive\n\n"
              "Options:\n"
              "  -o, --output string   Write to a file, instead of STDOUT\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    {
      const char *v;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, "-o", "--output", "export", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          output = v;
        }
      else if (argv[i][0] == '-' && argv[i][1] != '\0')
        return cmd_flag_error (err, "export", "unknown flag: %s", argv[i]);
      else if (name == NULL)
        name = argv[i];
      else
        return cmd_args_error (err, "export", "\"nook export\" requires exactly 1 argument.");
    }
  if (name == NULL)
    return cmd_args_error (err, "export", "\"nook export\" requires exactly 1 argument.");
  if (output == NULL && isatty (STDOUT_FILENO))
    return nook_error_set (err, 0,
                           "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  if (cmd_store_open (ctx->root, &s, NULL, NULL, err) < 0)
    return -1;
  if (output == NULL)
    return export_container (s, name, STDOUT_FILENO, err);
  struct out_file o = { .fd = -1 };
  if (out_open (&o, output, err) < 0)
    {
      out_finish (&o, false, NULL);
      return -1;
    }
  int r = export_container (s, name, o.fd, err);
  if (out_finish (&o, r == 0, r == 0 ? err : NULL) < 0)
    return -1;
  return r;
}
