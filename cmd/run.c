/* cmd/run.c: `nook run` (placeholder). */
#include "cmd/commands.h"

#include <errno.h>

int
cmd_run (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, ENOSYS, "nook run");
}
