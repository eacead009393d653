/* tests/fuzz/fuzz_ref.c: image reference parsing; normalising twice is stable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imagefmt/ref.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 4096)
    return 0;
  char *s = malloc (size + 1);
  memcpy (s, data, size);
  s[size] = '\0';
  cleanup_error nook_error_t err = NULL;
  char *full = imagefmt_ref_normalize (s, &err);
  if (full)
    {
      char *again = imagefmt_ref_normalize (full, NULL);
      char *fam = imagefmt_ref_familiar (full);
      if (again == NULL || strcmp (again, full) != 0)
        abort ();
      free (again);
      free (fam);
      free (full);
    }
  free (s);
  return 0;
}
