/* sandbox/internal.h: declarations shared inside sandbox/ only. */
#ifndef NOOK_SANDBOX_INTERNAL_H
#define NOOK_SANDBOX_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/spec.h"
#include "util/error.h"

/* Errors cross from a child to its parent over a CLOEXEC pipe: the child
 * sends {code, exit, msg}; EOF without a message means success. */
void errpipe_send (int fd, const struct nook_error *e);
/* Returns 1 and sets *err when the child sent an error, 0 on EOF, -1 on failure. */
int errpipe_recv (int fd, nook_error_t *err);

/* A byte on a sync pipe: the other side may go on.  0 ok, -1 EOF/error. */
int sync_send (int fd);
int sync_wait (int fd);

/* A pidfd of the process that clones the container (-1: none), set around the
 * clone: the child checks it right after PR_SET_PDEATHSIG (sandbox_die_with_parent). */
extern int sandbox_parent_pidfd;
/* The init was cloned into its cgroup (spec's cgroup_dir_fd): it need not join it. */
extern bool sandbox_cloned_into_cgroup;
/* The child writes its own id maps (sandbox_child_maps_itself, decided by nook before
 * the clone: the child cannot decide it again, its getuid() is not nook's and changes
 * once nook has written them). */
extern bool sandbox_child_self_maps;
/* PR_SET_PDEATHSIG, then _exit(125) if the parent (pidfd, or -1 to skip) has
 * already ended: a parent killed before the prctl would leave us running. */
void sandbox_die_with_parent (int parent_pidfd);

/* Close every fd from 3 up but the n in keep (sorted in place): what a detached
 * process of nook's (a keeper, a pool server) starts with. */
void sandbox_close_all_but (int *keep, size_t n);
/* The namespace `rel` of the /proc/PID dirfd piddir is the one at `ours`
 * ("/proc/self/ns/pid"...). */
bool sandbox_same_ns (int piddir, const char *rel, const char *ours);

/* A network namespace from the pool (sandbox/netns_pool.h) for the child to join
 * instead of making one, or -1; set by nook around the clone. */
extern int sandbox_pooled_netns;
/* --network none (not with fuse-overlayfs): nook clones the container without
 * CLONE_NEWNET and the child makes the network namespace itself, in parallel
 * with the rootfs mount when it can (sandbox/child.c). */
bool sandbox_child_makes_netns (const struct nook_spec *spec);
/* The single map (the user's own ids): the child writes it itself, as
 * `unshare --map-root-user` does, instead of waiting for nook to (one
 * wake-up less); not under a joined user namespace (user-defined networks). */
bool sandbox_child_maps_itself (const struct nook_spec *spec);

/* The child side of a container: never returns. */
__attribute__ ((noreturn)) void sandbox_child_main (const struct nook_spec *spec, int sync_fd,
                                                    int err_fd, int tty_sock, int notify_fd,
                                                    int net_sock, int ready_fd);

/* The command's side, from the container's init or from `exec` (sandbox/exec.c):
 * the pty as controlling terminal (or /dev/null stdin without -i), groups, ids,
 * capabilities, no_new_privs, seccomp (last), execve; failures go to err_fd. */
__attribute__ ((noreturn)) void sandbox_exec_command (const struct nook_spec *spec, int err_fd,
                                                      int pty_slave);

/* Storage: make the root filesystem appear at `target` (in the child, inside
 * the user and mount namespaces).  *daemon gets the pid of a FUSE daemon that
 * serves it (fuse-overlayfs), else -1. */
int sandbox_rootfs_mount (const struct nook_spec *spec, const char *target, pid_t *daemon,
                          nook_error_t *err);

/* Wait for `child` with every signal blocked, forwarding each signal but
 * SIGCHLD to it and reaping whatever else ends; returns its wait status, or
 * -1 when there is no child left.  smaps_fd (util/settle.h's, opened while the
 * container's /proc was still nook's): after a quiet second it gives back what
 * start-up left mapped; SETTLE_NEVER: not. */
int sandbox_supervise (pid_t child, int smaps_fd);

/* A wait status as an exit code: the code, or 128+N when killed by signal N. */
int sandbox_status_code (int status);

/* PID 1: run the command (already forked as `child`) to its end; when it
 * ends, kill and reap the rest and write its status byte to notify_fd
 * (if >= 0) before exiting.  listener >= 0: answer the command's seccomp
 * notifications meanwhile (sandbox/credemu.h; procfd: the init's /proc).
 * pidsfd: the container's /proc opened for reading (sandbox_open_pids), to
 * see whether anything is left to kill; -1: kill(-1) in any case.  smaps_fd:
 * as sandbox_supervise's. */
__attribute__ ((noreturn)) void sandbox_init_run (const struct nook_spec *spec, pid_t child,
                                                  int notify_fd, int listener, int procfd,
                                                  int pidsfd, int smaps_fd);
/* The init's /proc (of its PID namespace), opened before the command starts; -1
 * when it is not procfs. */
int sandbox_open_pids (void);

/* Name this process TITLE in ps and wipe the arguments and environment it
 * inherited from nook out of its memory. */
void sandbox_set_title (const char *title);

/* Send / receive an fd over a unix socket (SCM_RIGHTS). */
int fd_send (int sock, int fd);
int fd_recv (int sock);

#endif
