/* cmd/archive.c: `nook save`, `nook load`, `nook export`. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/store_open.h"
#include "imagefmt/archive.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
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
  if (o->fd >= 0 && ok && (fsync (o->fd) < 0 || rename (o->tmp, o->path) < 0))
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
    return imagefmt_images_save (s, refs, fmt, STDOUT_FILENO, output, err);
  struct out_file o = { .fd = -1 };
  if (out_open (&o, output, err) < 0)
    {
      out_finish (&o, false, NULL);
      return -1;
    }
  int r = imagefmt_images_save (s, refs, fmt, o.fd, NULL, err);
  if (out_finish (&o, r == 0, r == 0 ? err : NULL) < 0)
    return -1;
  return r;
}

/* ---- load ---- */

static void
load_report (void *data, const char *tag, const char *id)
{
  if (tag)
    printf ("Loaded image: %s\n", tag);
  else
    printf ("Loaded image ID: %s\n", id);
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
        return nook_error_set (err, 0, "'%s' is a directory: nook load reads an archive",
                               input);
    }
  else
    fd = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  if (imagefmt_store_open (ctx->root, &s, err) < 0)
    return -1;
  struct imagefmt_load_opts o = { .name = input ? input : "stdin", .loaded = load_report };
  return imagefmt_images_load (s, fd, &o, err);
}
