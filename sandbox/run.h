/* sandbox/run.h: run a container to its end. */
#ifndef NOOK_SANDBOX_RUN_H
#define NOOK_SANDBOX_RUN_H

#include "sandbox/spec.h"
#include "util/error.h"

/* What the caller wants to hear of while a container runs (all optional). */
struct sandbox_hooks
{
  /* The command ended with `status` and the container's processes are all
   * gone; its namespaces are still being torn down by the kernel, so the
   * caller may clean files meanwhile.  Called at most once. */
  void (*command_ended) (void *data, int status);
  /* NETWORK_TAP and NETWORK_HELPER: the container's namespaces exist (`pid` is its
   * init; the id maps are written), the command has not started.  tap_fd: the
   * configured tap (NETWORK_TAP; the callee owns it), else -1.  ready_fd
   * (NETWORK_HELPER, else -1): the command starts once a byte is written to it,
   * and the run fails when every copy is closed first; the callee dups what it
   * keeps.  Returns -1 with *err to fail the run. */
  int (*network) (void *data, pid_t pid, int tap_fd, int ready_fd, nook_error_t *err);
  void *data;
};

/* Create the container described by spec (its container_dir must exist and be
 * empty or hold a previous run's upper dir), run it, and return its exit
 * status (0-255; 128+N when killed by signal N).  -1 with *err when nook
 * failed; err->exit is then 125, 126 or 127 as Docker's. */
int sandbox_run (const struct nook_spec *spec, const struct sandbox_hooks *hooks,
                 nook_error_t *err);

#endif
