/* tests/fuzz/fuzz_seccomp_profile.c: the JSON seccomp profile interpreter
 * (sandbox_seccomp_build_json) on arbitrary input.  The first byte picks the
 * capability set, so the includes/excludes paths run both ways. */
#include <stddef.h>
#include <stdint.h>

#include "sandbox/caps.h"
#include "sandbox/seccomp.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  scmp_filter_ctx ctx = NULL;
  nook_error_t err = NULL;
  uint64_t caps = size > 0 && (data[0] & 1) ? sandbox_caps_all () : sandbox_caps_default ();
  if (sandbox_seccomp_build_json ((const char *)data, size, "fuzz", caps, &ctx, &err) == 0)
    sandbox_seccomp_release (&ctx);
  nook_error_free (&err);
  return 0;
}
