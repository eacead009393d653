/* sandbox/run.h: run a container to its end. */
#ifndef NOOK_SANDBOX_RUN_H
#define NOOK_SANDBOX_RUN_H

#include "sandbox/spec.h"
#include "util/error.h"

/* A user-mode network's view of the container, for its helpers. */
struct sandbox_netns
{
  pid_t pid;     /* the container's init; its id maps are written */
  int userns_fd; /* its user and network namespaces, opened while it could not yet */
  int netns_fd;  /* refuse (it turns non-dumpable later): the hook dups what it keeps */
  int tap_fd;    /* NETWORK_TAP: the configured tap, the hook owns it; else -1 */
  int ready_fd;  /* NETWORK_HELPER: the command starts once a byte is written to it, and
                    the run fails when every copy is closed first (the hook dups what it
                    keeps); else -1 */
  int hosts_fd;  /* NETWORK_VETH: the container's /etc/hosts (the hook owns it); else -1 */
};

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
   * caller may clean files meanwhile.  Called at most once.  Returning true
   * says the caller needs nothing more of the container: without a pty,
   * sandbox_run then returns the status at once, without waiting for the
   * init's exit (the teardown); the init is reaped by whoever inherits it. */
  bool (*command_ended) (void *data, int status);
  /* The child got its id maps and is setting the container up: nook has
   * nothing to do until it reports, so the caller may do work of its own. */
  void (*child_setting_up) (void *data);
  /* The command has exec'd (its setup went well; the execve itself may still
   * have failed): the caller's work that can wait for it, done while the
   * command runs rather than while the child sets up, where it would take a
   * core from the child or from the command that makes the network namespace. */
  void (*command_started) (void *data);
  /* NETWORK_TAP and NETWORK_HELPER: the container's namespaces exist (see struct
   * sandbox_netns), the command has not started.  Returns -1 with *err to fail
   * the run. */
  int (*network) (void *data, const struct sandbox_netns *ns, nook_error_t *err);
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
