/* sandbox/userns_keep.h: a kept user namespace, so that a user with a
 * subordinate range pays for newuidmap and newgidmap once, not on every run.
 *
 * The namespace is held by a tiny process: `sleep infinity` started with
 * argv[0] "nook-userns", stdio on /dev/null, cwd /, no environment, no other
 * fd, mapping nothing of nook.  Its pid is in RUNTIME_DIR/userns.pid; a later
 * nook checks through one /proc/PID dirfd that it is ours, is a nook-userns
 * and has exactly the wanted maps, and joins it with setns(2).  podman's rootless "pause" process
 * is the same idea: all of one user's containers share the user namespace, each still gets its own
 * mount, PID, network, IPC, UTS and cgroup namespaces.  NOOK_USERNS_KEEP=0 turns it off. */
#ifndef NOOK_SANDBOX_USERNS_KEEP_H
#define NOOK_SANDBOX_USERNS_KEEP_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/spec.h"
#include "util/error.h"

/* Join the kept namespace for `ids` (starting its keeper if needed).  On
 * success the caller is in it, with all capabilities there; -1 with *err
 * otherwise (the caller then creates a namespace of its own). */
int sandbox_userns_keep_join (const struct nook_idmapping *ids, const char *runtime_dir,
                              nook_error_t *err);

/* From inside the kept namespace (rtfd: the runtime directory): a pidfd of the
 * keeper userns.pid names if it holds the user namespace we are in, else -1 (the
 * pool of network namespaces ends with it: sandbox/netns_pool.h). */
int sandbox_userns_keep_pidfd_joined (int rtfd);

/* The keeper's pid when one is alive for `ids`, else 0 (for `nook info`). */
pid_t sandbox_userns_keep_pid (const struct nook_idmapping *ids, const char *runtime_dir);

#endif
