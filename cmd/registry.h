/* cmd/registry.h: `nook pull`, `push`, `login`, `logout`, and the pull `nook run` makes
 * of an image the store lacks. */
#ifndef NOOK_CMD_REGISTRY_H
#define NOOK_CMD_REGISTRY_H

#include <stdio.h>

#include "cmd/commands.h"
#include "util/error.h"

struct imagefmt_store;

/* Pull ref into the opened store as `nook run` does for an image it lacks: progress to
 * out (a TTY: Docker's per-layer lines; else one line per step), its layers unpacked.
 * platform may be NULL.  Errors are self-explaining (no errno text). */
int cmd_pull_for_run (struct nook_ctx *ctx, struct imagefmt_store *s, const char *ref,
                      const char *platform, FILE *out, nook_error_t *err);

/* Lines for `nook info`: the registry mirrors and insecure registries configured and
 * the files they came from ("  docker.io: http://127.0.0.1:5000 (from FILE)"); the
 * caller prints them.  A broken config file gives a line saying so. */
char **cmd_registry_info_lines (void);

#endif
