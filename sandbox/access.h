/* sandbox/access.h: reach a container's root filesystem from outside, for
 * `nook cp`: a running one by joining the user and mount namespaces of one of
 * its processes, a stopped one by mounting its root (layers + upper, as a run
 * does) in a private user and mount namespace of our own. */
#ifndef NOOK_SANDBOX_ACCESS_H
#define NOOK_SANDBOX_ACCESS_H

#include <sys/types.h>

#include "sandbox/spec.h"
#include "util/error.h"

/* fn runs in a forked child with rootfd: an O_PATH fd of the container's "/", to
 * be used with fs_open_in_root (RESOLVE_IN_ROOT: nothing resolves out of it).
 * The child inherits the caller's fds (pipes to talk to the parent), is
 * non-dumpable, and must not load libraries (dlopen there would read the
 * container's files): load them before.
 *
 * Running: pids are the container's processes (host pids); the first whose
 * namespaces can be opened is joined (nook's init cannot be: it is the host's).
 * Stopped (n_pids == 0): spec gives layers, container_dir, driver, ids and the
 * etc files (etc_hostname, etc_hosts, etc_resolv, shown over the image's /etc
 * files as a run shows them). */
int sandbox_container_call (const pid_t *pids, size_t n_pids, const struct nook_spec *spec,
                            int (*fn) (int rootfd, void *arg, nook_error_t *err), void *arg,
                            nook_error_t *err);

#endif
