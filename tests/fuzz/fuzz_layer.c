/* tests/fuzz/fuzz_layer.c: tar entries and whiteouts extracted into a temp dir;
 * nothing may appear outside it (a sentinel directory beside it stays empty). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "imagefmt/layer.h"
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
      strcpy (base, "/tmp/nook-fuzz-layer-XXXXXX");
      if (mkdtemp (base) == NULL)
        abort ();
      atexit (cleanup_base);
    }
  cleanup_close int bfd = open (base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (bfd < 0 || mkdirat (bfd, "root", 0700) < 0)
    abort ();
  int rfd = openat (bfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_error nook_error_t err = NULL;
  imagefmt_layer_extract_mem (data, size, rfd, NULL, &err);
  close (rfd);
  if (fs_rm_rf_at (bfd, "root", NULL) < 0)
    abort ();
  /* Only "root" may ever have existed under base. */
  DIR *d = fdopendir (dup (bfd));
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
