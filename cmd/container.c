/* cmd/container.c: `nook container SUBCOMMAND`, Docker's management form of the
 * container verbs (ls|ps|list, rm, inspect, prune, rename, cp, top, stats, run).
 * Each subcommand is the verb itself, argv shifted by one. */
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
  { "ls", cmd_container_ls, "List containers" },
  { "ps", cmd_container_ls, NULL },
  { "list", cmd_container_ls, NULL },
  { "run", cmd_run, "Create and run a new container from an image" },
  { "rm", cmd_rm, "Remove one or more containers" },
  { "remove", cmd_rm, NULL },
  { "inspect", cmd_container_inspect, "Display detailed information on containers" },
  { "prune", cmd_container_prune, "Remove all stopped containers" },
  { "rename", cmd_rename, "Rename a container" },
  { "cp", cmd_cp, "Copy files/folders between a container and the local filesystem" },
  { "top", cmd_top, "Display the running processes of a container" },
  { "stats", cmd_stats, "Display a live stream of container(s) resource usage statistics" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage:  nook container COMMAND\n\nManage containers\n\nCommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
    if (subs[i].summary)
      fprintf (out, "  %-8s %s\n", subs[i].name, subs[i].summary);
  fprintf (out, "\nRun 'nook container COMMAND --help' for more information on a command.\n");
}

int
cmd_container (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (argc < 2 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 1 : 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
    if (strcmp (argv[1], subs[i].name) == 0)
      return subs[i].fn (ctx, argc - 1, argv + 1, err);
  return cmd_args_error (err, "container", "nook container: '%s' is not a nook container command.",
                         argv[1]);
}
