/* net/helper.h: the processes of a container's network (the user-mode stack, the
 * port forwarder): forked from nook, tied to it, ended with the container.
 *
 * A helper dies with the nook that started it (PR_SET_PDEATHSIG, checked against
 * a parent that died first), holds only the fds it was given, and is ended and
 * reaped through a pidfd, so a recycled pid is never the one signalled. */
#ifndef NOOK_NET_HELPER_H
#define NOOK_NET_HELPER_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

struct net_helper
{
  pid_t pid;   /* 0: none */
  int pidfd;   /* -1: none */
  int errfd;   /* a memfd holding the helper's stderr (external programs), or -1 */
  int holdfd;  /* an fd nook holds for the helper's sake (slirp4netns' --exit-fd), or -1 */
  bool group;  /* it leads a process group of its own (setsid): killed as a group */
  int *closed; /* shared with the child: nonzero once it has closed the fds it inherited
                  (a fork's copies of all of nook's: the supervisor's lock), or NULL */
  char name[32];
};

#define NET_HELPER_INIT                                                                            \
  {                                                                                                \
    .pid = 0, .pidfd = -1, .errfd = -1, .holdfd = -1, .name = ""                                   \
  }

/* Fork a helper named `name` (its comm, 15 bytes at most shown).  In the
 * child: default signal dispositions and mask, PR_SET_PDEATHSIG SIGKILL, stdin
 * and stdout on /dev/null, fds[0..n-1] moved to 3, 4, ... (in place: fds[i]
 * becomes 3 + i; -1 stays -1 and its slot is closed) and every other fd
 * closed (in the child's copy of fds[]); then it returns 0 (the child).  In the parent: >0, h
 * filled; -1 with *err. */
int net_helper_fork (const char *name, int *fds, int n, struct net_helper *h, nook_error_t *err);

/* Whether the helper has ended (without reaping it). */
bool net_helper_ended (const struct net_helper *h);

/* Kill the helper (SIGKILL through its pidfd) if it still runs, and with
 * `group` the processes of its group (its workers) at once.  A helper killed before
 * it had closed the fds it inherited is waited for (its pidfd, 5 s at most): its
 * copies of nook's fds, the supervisor's lock on the container directory among them,
 * would otherwise outlive nook (a `rm` right after a foreground run found the
 * container locked: "You cannot remove a running container"). */
void net_helper_kill (struct net_helper *h);

/* Reap it and free what h holds; returns its wait status, or -1 when there was
 * none or it has not ended yet and `wait` is false (then whoever inherits it,
 * PID 1 once nook has exited, reaps it).  A killed helper that held the tap
 * spends tens of ms in its exit (the kernel unregisters the interface and
 * waits for RCU grace periods): nook does not wait for that. */
int net_helper_reap (struct net_helper *h, bool wait);

/* The last `max` bytes of what the helper wrote to its stderr memfd (malloc'd,
 * trailing newlines removed), or NULL. */
char *net_helper_stderr (const struct net_helper *h, size_t max);

#endif
