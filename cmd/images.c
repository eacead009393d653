/* cmd/images.c: image commands (placeholder until the store lands). */
#include "cmd/commands.h"

#include <errno.h>

int
cmd_import (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, ENOSYS, "nook import");
}

int
cmd_bootstrap (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, ENOSYS, "nook bootstrap");
}

int
cmd_images (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, ENOSYS, "nook images");
}

int
cmd_rmi (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, ENOSYS, "nook rmi");
}
