/* tests/fuzz/fuzz_archive_load.c: image archives (docker-archive, oci-archive, compressed
 * or not) loaded into a fresh store; nothing may appear beside the store (a sentinel
 * directory around it stays as it was) and the store must pass its own check. */
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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (base[0] == '\0')
    {
      strcpy (base, "/tmp/nook-fuzz-load-XXXXXX");
      if (mkdtemp (base) == NULL)
        abort ();
      atexit (cleanup_base);
    }
  char root[128];
  snprintf (root, sizeof root, "%s/store", base);
  struct imagefmt_store *s = NULL;
  cleanup_error nook_error_t err = NULL;
  if (imagefmt_store_open (root, &s, &err) < 0)
    abort ();
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
  imagefmt_store_close (s);
  if (fs_rm_rf_at (AT_FDCWD, root, NULL) < 0)
    abort ();
  DIR *d = opendir (base);
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      {
        fprintf (stderr, "escaped: %s/%s\n", base, de->d_name);
        abort ();
      }
  if (d)
    closedir (d);
  return 0;
}
