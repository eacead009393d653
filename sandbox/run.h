/* sandbox/run.h: run a container to its end. */
#ifndef NOOK_SANDBOX_RUN_H
#define NOOK_SANDBOX_RUN_H

#include "sandbox/spec.h"
#include "util/error.h"

/* A container whose command has started (see sandbox_hooks.supervise). */
struct sandbox_started
{
  pid_t pid;  /* the container's init (our child: reap it) */
  int sigfd;  /* signalfd of SIGCHLD and the forwarded signals (blocked meanwhile) */
  int master; /* pty master with -t, else -1 */
  int notify; /* readable (one status byte) when the command and all of the container have
                 ended, before the kernel tears its namespaces down; EOF if the init died */
};

/* What the caller wants to hear of while a container runs (all optional). */
struct sandbox_hooks
{
  /* The command ended with `status` and the container's processes are all
   * gone; its namespaces are still being torn down by the kernel, so the
   * caller may clean files meanwhile.  Called at most once. */
  void (*command_ended) (void *data, int status);
  /* When set, called once the command runs, instead of nook's own wait loop (a
   * supervisor: cmd/supervise.c): it owns the container until its init ends,
   * reaps it and returns its exit code (0-255).  The fds stay sandbox_run's. */
  int (*supervise) (void *data, const struct sandbox_started *s);
  void *data;
};

/* Create the container described by spec (its container_dir must exist and be
 * empty or hold a previous run's upper dir), run it, and return its exit
 * status (0-255; 128+N when killed by signal N).  -1 with *err when nook
 * failed; err->exit is then 125, 126 or 127 as Docker's. */
int sandbox_run (const struct nook_spec *spec, const struct sandbox_hooks *hooks,
                 nook_error_t *err);

#endif
