#include "cmd/commands.h"
int
cmd_top (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, 0, "top: not yet");
}
int
cmd_stats (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, 0, "stats: not yet");
}
