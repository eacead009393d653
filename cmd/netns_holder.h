/* cmd/netns_holder.h: the holder of a user-defined network (see cmd/netns.h)
 * and the messages nooks exchange with it on its socket (SOCK_SEQPACKET: one
 * message, one record, fds with SCM_RIGHTS):
 *   HELLO <container-id> + [pidfd of the nook to count]  -> OK + [netns, userns]
 *   JOIN {"line": HOSTS-LINE} + [fd of the container's /etc/hosts]  -> OK
 *   LEAVE <container-id>  -> OK (its veth deleted, its section removed)
 *   DOWN  -> OK (on a member's own connection: its container ended and starts
 *            again under the same nook; it stays a member, its veth and hosts
 *            line go until its next JOIN)
 *   BYE   -> OK (on a member's own connection: it leaves now) */
#ifndef NOOK_CMD_NETNS_HOLDER_H
#define NOOK_CMD_NETNS_HOLDER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/spec.h"
#include "util/error.h"

#define NETNS_BRIDGE "br0"

int netns_send (int sock, const char *text, const int *fds, size_t nfds);
/* A message (NUL-terminated, malloc'd) and up to 4 fds; NULL at EOF/error. */
char *netns_recv (int sock, int *fds, size_t *nfds);
void netns_close_fds (int *fds, size_t n);
void netns_say (int fd, const char *s);

/* What a holder is started with (the strings must outlive the call). */
struct netns_holder_args
{
  const char *root, *net, *path;
  const struct nook_idmapping *ids;
  const char *keep_dir;
  uint32_t gateway;
  unsigned prefix;
  bool ipv6; /* the bridge gets gateway6/prefix6 too */
  struct in6_addr gateway6;
  unsigned prefix6;
  bool internal; /* no uplink */
  /* >= 0: the user namespace to start in, rather than the kept one (the
   * holder `network connect` starts: the parent of the container's, so that
   * the container is below the network whatever became of the keeper) */
  int userns_fd;
  int st, go;
};

/* Start the holder of a network (the networks lock is held): in its own
 * session, in the kept user namespace or one of its own (whose maps the
 * caller writes), with the network's namespace, bridge and uplink, listening
 * on a->path.  Returns once it listens. */
int netns_holder_start (struct netns_holder_args *a, nook_error_t *err);

#endif
