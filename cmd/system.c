/* cmd/system.c: `nook info` and `nook version`. */
#include "cmd/commands.h"

#include <errno.h>
#include <stdio.h>

#ifndef NOOK_VERSION
#define NOOK_VERSION "0.1.0-dev"
#endif

int
cmd_version (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook version\n\nShow the nook version\n");
      return 0;
    }
  printf ("nook version %s\n", NOOK_VERSION);
  return 0;
}

int
cmd_info (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return nook_error_set (err, ENOSYS, "nook info");
}
