/* cmd/cli.h: command-line helpers shared by every verb (below cmd/nook.c and
 * the command files, so that neither includes the other). */
#ifndef NOOK_CMD_CLI_H
#define NOOK_CMD_CLI_H

/* True if argv (after the command name) asks for help: -h or --help. */
int cmd_wants_help (int argc, char **argv);

#endif
