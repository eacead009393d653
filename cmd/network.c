/* cmd/network.c: `nook network`: ls lists the networks every nook has (bridge,
 * host, none); user-defined networks (create, rm, inspect, connect) come later. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct
{
  const char *id, *name, *driver;
} builtin[] = {
  /* fixed IDs: the same on every machine, as nothing is created */
  { "4e6f6f6b6272", "bridge", "bridge" },
  { "4e6f6f6b686f", "host", "host" },
  { "4e6f6f6b6e6f", "none", "null" },
};

static void
network_usage (void)
{
  printf ("Usage:  nook network COMMAND\n\nManage networks\n\nCommands:\n"
          "  ls          List networks\n\n"
          "bridge is the default network: each container gets its own network namespace\n"
          "with user-mode networking (nook's libslirp helper; `nook info` says which).\n");
}

static int
network_ls (int argc, char **argv, nook_error_t *err)
{
  bool quiet = false, json = false;
  for (int i = 2; i < argc; i++)
    {
      const char *v = NULL;
      enum cmd_format f;
      int r = cmd_opt_value (argc, argv, &i, NULL, "--format", "network ls", &v, err);
      if (r < 0)
        return -1;
      if (r > 0)
        {
          if (cmd_format_parse (v, &f, err) < 0)
            return -1;
          json = f == CMD_FORMAT_JSON;
        }
      else if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
        quiet = true;
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook network ls [OPTIONS]\n\nList networks\n\nOptions:\n"
                  "      --format string   table (default) or json\n"
                  "  -q, --quiet           Only display network IDs\n");
          return 0;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "network ls", "unknown flag: %s", argv[i]);
      else
        return cmd_args_error (err, "network ls", "\"nook network ls\" accepts no arguments.");
    }
  if (!quiet && !json)
    printf ("NETWORK ID     NAME      DRIVER    SCOPE\n");
  for (size_t i = 0; i < ARRAY_SIZE (builtin); i++)
    {
      if (quiet)
        puts (builtin[i].id);
      else if (json)
        {
          json_t *o = json_pack ("{s:s, s:s, s:s, s:s}", "ID", builtin[i].id, "Name",
                                 builtin[i].name, "Driver", builtin[i].driver, "Scope", "local");
          char *s = json_dumps (o, JSON_COMPACT);
          puts (s);
          free (s);
          json_decref (o);
        }
      else
        printf ("%-14s %-9s %-9s local\n", builtin[i].id, builtin[i].name, builtin[i].driver);
    }
  return 0;
}

int
cmd_network (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  (void)ctx;
  if (argc < 2 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0)
    {
      network_usage ();
      return 0;
    }
  if (strcmp (argv[1], "ls") == 0 || strcmp (argv[1], "list") == 0)
    return network_ls (argc, argv, err);
  static const char *const later[]
      = { "create", "rm", "remove", "inspect", "connect", "disconnect", "prune" };
  for (size_t i = 0; i < ARRAY_SIZE (later); i++)
    if (strcmp (argv[1], later[i]) == 0)
      return nook_error_set (err, 0,
                             "nook network %s: user-defined networks are not supported yet "
                             "(the default network is bridge)",
                             argv[1]);
  return cmd_args_error (err, "network", "unknown command \"%s\" for \"nook network\"", argv[1]);
}
