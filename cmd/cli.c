/* cmd/cli.c: see cli.h. */
#include "cmd/cli.h"

#include <string.h>

int
cmd_wants_help (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        return 0;
      if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        return 1;
    }
  return 0;
}
