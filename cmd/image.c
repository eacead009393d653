/* cmd/image.c: `nook image SUBCOMMAND`, Docker's management form of the image verbs:
 * `image pull|push` (cmd/registry.c), `image ls|list` (images), `image rm` (rmi),
 * `image import` (import).  Each subcommand is the verb itself, argv shifted by one. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

static const struct
{
  const char *name;
  cmd_fn fn;
  const char *summary;
} subs[] = {
  { "ls", cmd_images, "List images" },
  { "list", cmd_images, NULL },
  { "rm", cmd_rmi, "Remove one or more images" },
  { "remove", cmd_rmi, NULL },
  { "import", cmd_import, "Import a rootfs tarball as a one-layer image" },
  { "pull", cmd_pull, "Download an image from a registry" },
  { "push", cmd_push, "Upload an image to a registry" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage:  nook image COMMAND\n\nManage images\n\nCommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
    if (subs[i].summary)
      fprintf (out, "  %-8s %s\n", subs[i].name, subs[i].summary);
  fprintf (out, "\nRun 'nook image COMMAND --help' for more information on a command.\n");
}

int
cmd_image (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (argc < 2 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 1 : 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
    if (strcmp (argv[1], subs[i].name) == 0)
      return subs[i].fn (ctx, argc - 1, argv + 1, err);
  return cmd_args_error (err, "image", "nook image: '%s' is not a nook image command.", argv[1]);
}
