/* tests/fuzz/fuzz_layer_check.c: the layer checker on arbitrary (possibly compressed)
 * streams: it must not crash, and what it accepts must have a well-formed diff ID. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imagefmt/digest.h"
#include "imagefmt/layer_check.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_error nook_error_t err = NULL;
  struct imagefmt_layer_info info;
  if (imagefmt_layer_check_mem (data, size, &info, &err) == 0)
    {
      if (imagefmt_digest_parse (info.diff_id, NULL, NULL) < 0)
        abort ();
      free (info.diff_id);
    }
  return 0;
}
