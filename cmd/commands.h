/* cmd/commands.h: the command table shared by cmd/nook.c and the command files.
 *
 * A command parses its arguments, validates, calls down, and returns the exit
 * status (>= 0) or -1 with *err set; cmd/nook.c prints the error once. */
#ifndef NOOK_CMD_COMMANDS_H
#define NOOK_CMD_COMMANDS_H

#include "util/error.h"

struct nook_ctx
{
  const char *root;           /* store root: --root, $NOOK_ROOT, $XDG_DATA_HOME/nook */
  const char *storage_driver; /* --storage-driver (global), or NULL = probe */
  const char *argv0;          /* how nook was invoked */
};

typedef int (*cmd_fn) (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);

int cmd_run (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_import (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_bootstrap (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
/* `nook bootstrap debian:SUITE` (cmd/bootstrap_debian.c), reached through cmd_bootstrap. */
int cmd_bootstrap_debian (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
void cmd_bootstrap_debian_usage (void);
int cmd_images (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_rmi (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_ps (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_rm (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_port (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_network (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_info (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_version (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_save (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_load (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_tag (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_inspect (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_image_inspect (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_history (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_image_history (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_image_prune (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_image (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_system (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_export (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
/* cmd/build/: `nook build` (and `image build`, `buildx build`), `nook builder prune` */
int cmd_build (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_buildx (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_builder (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_dockerfile (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_pull (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_image (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_push (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_login (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_logout (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
/* cmd/lifecycle.c, cmd/logs.c, cmd/exec.c */
int cmd_create (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_start (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_stop (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_kill (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_restart (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_wait (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_pause (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_unpause (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_attach (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_logs (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_events (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_exec (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);

/* issue 16's periphery: inspect, labels/filters, rename, prune, volumes, cp, top, stats */
int cmd_container (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_container_ls (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_container_inspect (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_container_prune (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_rename (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_volume (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_cp (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_top (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);
int cmd_stats (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);

#endif
