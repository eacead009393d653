/* tests/fuzz/fuzz_archive_load.c: image archives (docker-archive, oci-archive, compressed
 * or not) loaded into a store emptied after each input; nothing may appear beside the
 * store and the store must pass its own check. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "imagefmt/archive.h"
#include "imagefmt/store.h"
#include "imagefmt/store_check.h"
#include "util/cleanup.h"
#include "util/fs.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char base[64];

static void
cleanup_base (void)
{
  fs_rm_rf_at (AT_FDCWD, base, NULL);
}

static int
unlink_one (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  unlinkat (dirfd, name, 0);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static struct imagefmt_store *s;
  static char root[128];
  if (base[0] == '\0')
    {
      strcpy (base, "/tmp/nook-fuzz-load-XXXXXX");
      if (mkdtemp (base) == NULL)
        abort ();
      atexit (cleanup_base);
      snprintf (root, sizeof root, "%s/store", base);
      nook_error_t e = NULL;
      if (imagefmt_store_open (root, &s, &e) < 0)
        abort ();
    }
  cleanup_error nook_error_t err = NULL;
  int m = memfd_create ("in", MFD_CLOEXEC);
  if (m < 0 || (size && write (m, data, size) != (ssize_t)size) || lseek (m, 0, SEEK_SET) < 0)
    abort ();
  struct imagefmt_load_opts o = { .name = "fuzz" };
  int r = imagefmt_images_load (s, m, &o, &err);
  close (m);
  struct imagefmt_check_result res;
  struct imagefmt_check_opts co = { 0 };
  cleanup_error nook_error_t cerr = NULL;
  if (imagefmt_store_check (s, &co, &res, &cerr) < 0 || res.problems != 0)
    {
      fprintf (stderr, "store inconsistent after a load (%s)\n", r == 0 ? "ok" : err->msg);
      abort ();
    }
  /* Empty the store for the next input (one store for the whole run: opening one costs
   * an fsync). */
  char blobs[160];
  snprintf (blobs, sizeof blobs, "%s/blobs/sha256", root);
  cleanup_close int bfd = open (blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int rfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (bfd < 0 || rfd < 0 || fs_dir_foreach (bfd, unlink_one, NULL, NULL) < 0)
    abort ();
  unlinkat (rfd, "index.json", 0);
  /* Only the store may ever exist under base, and only its own entries in it. */
  DIR *d = opendir (base);
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..") && strcmp (de->d_name, "store"))
      {
        fprintf (stderr, "escaped: %s/%s\n", base, de->d_name);
        abort ();
      }
  if (d)
    closedir (d);
  return 0;
}
