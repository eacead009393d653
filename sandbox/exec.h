/* sandbox/exec.h: run a process in a running container (`nook exec`). */
#ifndef NOOK_SANDBOX_EXEC_H
#define NOOK_SANDBOX_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/spec.h"
#include "util/error.h"

struct sandbox_exec
{
  /* argv, env, cwd, uid, gid, groups, caps, seccomp program, rlimits, tty,
   * interactive (stdin kept), ids.single */
  const struct nook_spec *spec;
  pid_t target; /* a process of the container whose namespaces to join (not its init:
                   not dumpable) */
  bool detach;  /* -d: return once the command runs */
  /* -d without a terminal: called, when not NULL, with the command's exit status (as
   * sandbox_exec returns it; 126/127 when it could not start) once it ended, in a
   * process of its own outside the container (Docker's exec_die of a detached exec) */
  void (*detached_ended) (void *data, int status);
  void *data;
  bool probe; /* a healthcheck: the command's process group is killed (SIGKILL) when
                 the caller dies or is sent SIGTERM */
};

/* Join every namespace of target that differs from ours (user, mount, PID,
 * network, IPC, UTS, cgroup: one setns with a pidfd), fork into its PID
 * namespace, then set the command up as the container's own (sandbox/child.c:
 * ids, capabilities, no_new_privs, seccomp) and exec it.  With spec->tty, a pty
 * from the container's devpts, relayed to our stdio.  Returns the command's
 * exit status (128+N when killed by N; 0 at once with detach), or -1 with *err
 * (err->exit 126 or 127 when the command could not start). */
int sandbox_exec (const struct sandbox_exec *x, nook_error_t *err);

#endif
