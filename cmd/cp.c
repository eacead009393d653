#include "cmd/commands.h"
int
cmd_cp (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, 0, "cp: not yet");
}
