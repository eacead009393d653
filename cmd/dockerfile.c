/* cmd/dockerfile.c: `nook dockerfile parse|stages` (placeholder until the parser lands). */
#include "cmd/commands.h"

#include <errno.h>

int
cmd_dockerfile (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, ENOSYS, "nook dockerfile");
}
