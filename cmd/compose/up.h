/* cmd/compose/up.h: the orchestrator's mutating verbs (up, down, create, start, stop,
 * restart, kill, rm, pause, unpause, run, exec, wait): the loaded model turned into
 * networks, volumes and containers through the same internal functions as `network
 * create`, `volume create` and `run -d` (cmd_network, cmd_volume, cmd_run... in forked
 * children of this process, never an exec of nook), found again by their labels. */
#ifndef NOOK_CMD_COMPOSE_UP_H
#define NOOK_CMD_COMPOSE_UP_H

#include <stdbool.h>

#include "cmd/commands.h"
#include "cmd/compose/loader.h"

/* Whether sub is one of the verbs of up.c. */
bool compose_orch_verb (const char *sub);
/* The services up or create name (NULL: none): on whatever their profiles. */
char **compose_orch_named (int argc, char **argv);
/* --progress auto|tty|plain|json|quiet (NULL: auto) and --ansi never|always|auto (NULL:
 * auto) for the verbs' progress lines; -1 with *err for another value. */
int compose_orch_progress (const char *mode, const char *ansi, nook_error_t *err);
/* Run verb argv[0] on project p (loaded); the exit status, or -1 with *err. */
int compose_orch (struct nook_ctx *ctx, struct compose_project *p, int argc, char **argv,
                  nook_error_t *err);

#endif
