/* cmd/image.c: `nook image COMMAND`, Docker's management form of the image verbs: each
 * subcommand is the top-level verb of the same meaning (image ls = images, image rm =
 * rmi, image pull = pull, ...), argv shifted by one. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

static const struct
{
  const char *name, *alias;
  cmd_fn fn;
  const char *summary;
} subs[] = {
  { "build", NULL, cmd_build, "Build an image from a Dockerfile" },
  { "history", NULL, cmd_image_history, "Show the history of an image" },
  { "import", NULL, cmd_import, "Import a rootfs tarball as a one-layer image" },
  { "inspect", NULL, cmd_image_inspect, "Display detailed information on one or more images" },
  { "load", NULL, cmd_load, "Load an image from a tar archive or STDIN" },
  { "ls", "list", cmd_images, "List images" },
  { "prune", NULL, cmd_image_prune, "Remove unused images" },
  { "pull", NULL, cmd_pull, "Download an image from a registry" },
  { "push", NULL, cmd_push, "Upload an image to a registry" },
  { "rm", "remove", cmd_rmi, "Remove one or more images" },
  { "save", NULL, cmd_save,
    "Save one or more images to a tar archive (streamed to STDOUT by "
    "default)" },
  { "tag", NULL, cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage:  nook image COMMAND\n\nManage images\n\nCommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
    fprintf (out, "  %-10s %s\n", subs[i].name, subs[i].summary);
  fprintf (out, "\nRun 'nook image COMMAND --help' for more information on a command.\n");
}

int
cmd_image (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (argc < 2 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0
      || strcmp (argv[1], "help") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 1 : 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
    if (strcmp (argv[1], subs[i].name) == 0
        || (subs[i].alias && strcmp (argv[1], subs[i].alias) == 0))
      return subs[i].fn (ctx, argc - 1, argv + 1, err);
  return cmd_args_error (err, "image", "nook image: '%s' is not a nook image command.", argv[1]);
}
