/* sandbox/netns_pool.h: network namespaces made ahead, for the runs that join
 * the user's kept user namespace (sandbox/userns_keep.h).
 *
 * A new network namespace is the longest step of a `--network none` start (the
 * kernel registers its loopback device, sysctls and per-protocol state: ~0.3-0.6
 * ms here, and bringing `lo` up ~0.06 more).  The user's pool server, a fork of
 * nook named nook-netpool living in the kept user namespace, keeps two of them
 * made, `lo` up, none ever entered by anyone else, and hands each out once over
 * RUNTIME_DIR/netns-pool.sock (SOCK_SEQPACKET, SCM_RIGHTS); it makes the next one
 * in a thread at SCHED_IDLE, i.e. when the CPU has nothing else to do, and ends
 * with the keeper of its user namespace or after ten idle minutes.  A run that
 * finds no server starts one (and makes its namespace itself that time); a run
 * that finds it empty, slow (over 200 ms) or odd makes its own, as before.
 * NOOK_NETNS_POOL=0 turns it off. */
#ifndef NOOK_SANDBOX_NETNS_POOL_H
#define NOOK_SANDBOX_NETNS_POOL_H

#include <stdbool.h>

/* NOOK_NETNS_POOL=0: no pool (no run asks, none joins a kept namespace for it). */
bool sandbox_netns_pool_off (void);

/* Ask the user's pool for a network namespace, early (the server answers while
 * the run goes on): a connected socket for sandbox_netns_pool_take, else
 * NETNS_POOL_NO_SERVER (none answers: take starts one) or -1 (the pool is off, or
 * anything else). */
#define NETNS_POOL_NO_SERVER (-2)
int sandbox_netns_pool_ask (const char *runtime_dir);

/* The answer to `ask` (a socket stays the caller's to close), once the caller has
 * joined the kept user namespace: a network namespace (an fd, close-on-exec)
 * checked to be owned by it (its root has every capability there); -1 when there
 * is none to take, no answer within 200 ms, or anything else.  With NETNS_POOL_NO_SERVER
 * it starts the server, in that namespace, and returns -1. */
int sandbox_netns_pool_take (int ask, const char *runtime_dir);

#endif
