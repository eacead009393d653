/* net/slirp4netns.h: the slirp4netns program as a container's network: started
 * on the container's namespaces as soon as they exist, in parallel with its
 * root filesystem, with --configure (eth0, 10.0.2.100/24, route, MTU),
 * --disable-host-loopback unless allowed, and its own --enable-sandbox
 * --enable-seccomp.  Its --ready-fd is the container's start gate: the command
 * runs once the network is up.  It ends with nook: PR_SET_PDEATHSIG and
 * --exit-fd (a pipe nook holds). */
#ifndef NOOK_NET_SLIRP4NETNS_H
#define NOOK_NET_SLIRP4NETNS_H

#include <sys/types.h>

#include "net/helper.h"
#include "net/mode.h"
#include "util/error.h"

/* ready_fd is dup'ed for the program (the caller keeps and closes its own). */
int net_slirp4netns_start (pid_t pid, const struct net_mode *m, int ready_fd, struct net_helper *h,
                           nook_error_t *err);

/* The program's path when installed (malloc'd), else NULL. */
char *net_slirp4netns_find (void);

#endif
