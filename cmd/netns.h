/* cmd/netns.h: the running side of user-defined networks.
 *
 * A network in use has one holder: a process `nook-netns` (a fork of nook, in
 * its own session, no parent to die with) that holds the network's user and
 * network namespaces (a bridge `br0` with the gateway's address; the uplink:
 * nook's libslirp helper on a tap, routed), listens on
 * RUNTIME/net-<ID12>.sock (SOCK_SEQPACKET), and keeps a pidfd of the nook of
 * every container on the network.  When the last of them has ended it leaves,
 * and its namespaces and helpers with it; a nook killed with SIGKILL is seen
 * through its pidfd.  The holder also keeps an fd of every member's
 * /etc/hosts (the file on the tmpfs in the container's mount namespace) and
 * rewrites them all in place whenever a member joins or leaves: names, aliases
 * and short IDs resolve in both directions without a DNS daemon.
 *
 * The user-namespace tree: a veth moves only into a network namespace owned by
 * the creator's user namespace or a descendant.  The holder's user namespace
 * is the kept one (sandbox/userns_keep.h) when the user has a range and keeps
 * it, else its own (the user as 0, or the range through newuidmap); every
 * container on the network is created as a child of it (its id map written
 * relative to the holder's), so the holder, and the nook that joined it,
 * hold CAP_NET_ADMIN over every member's network namespace.  `--network
 * container:NAME` is the same with NAME's user namespace as the parent. */
#ifndef NOOK_CMD_NETNS_H
#define NOOK_CMD_NETNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/spec.h"
#include "util/error.h"

struct netns_join
{
  char *root, *net, *id;  /* store root, network name, container ID */
  char *line;             /* the container's hosts line on the network */
  uint32_t addr, gateway; /* host byte order */
  unsigned prefix;
  bool ipv6; /* the network has IPv6 (--ipv6): addr6, gateway6/prefix6 */
  struct in6_addr addr6, gateway6;
  unsigned prefix6;
  int conn;      /* to the holder */
  int netns_fd;  /* the network's namespace (holder's) */
  int userns_fd; /* the parent of the container's user namespace */
  pid_t holder;
};

#define NETNS_JOIN_INIT                                                                            \
  {                                                                                                \
    .conn = -1, .netns_fd = -1, .userns_fd = -1                                                    \
  }

struct netns_endpoint
{
  const char *id, *name, *hostname;
  char *const *aliases; /* --network-alias */
  const char *ip;       /* --ip, or NULL */
  pid_t nook;           /* the nook the endpoint lives as long as (0: this one) */
  bool replace;         /* an endpoint of this ID already there is replaced (a restart's
                         * rejoin: the holder swaps the hosts line at JOIN, so the name
                         * never goes missing), not an error */
};

/* Before the container exists: the network's record, an address for the
 * container (--ip or the lowest free), its endpoint recorded; the holder
 * reached (started on first use) and told to keep the network while this
 * nook lives; spec->ids rewritten relative to the holder's user namespace.
 * Errors name the network, the flag and value. */
int netns_join (const char *root, const char *net, const struct netns_endpoint *ep,
                struct nook_spec *spec, struct netns_join *j, nook_error_t *err);

/* In the network hook: the veth pair (br0 port in the network, eth0 in the
 * container: address, route), then the container's hosts file (hosts_fd,
 * taken) given to the holder, which rewrites every member's. */
int netns_attach (struct netns_join *j, int container_netns_fd, int hosts_fd, const char *own_hosts,
                  nook_error_t *err);

/* The member's container ended and this nook starts it again: it stays a
 * member (its address kept), out of the others' hosts files until the next
 * netns_attach. */
void netns_down (struct netns_join *j);

/* The holder of j's network ended: the container's endpoint leaves the
 * network's record (under its lock), so that it can join again. */
void netns_forget (struct netns_join *j);

/* Docker's `network connect` / `disconnect` event of container id on network net (its ID
 * net_id, NULL: the name), written when the network's record takes it in or lets it go. */
void netns_event (const char *root, const char *net_id, const char *net, const char *id,
                  bool connect);

/* Leave the network now (the holder drops the member before answering). */
void netns_leave (struct netns_join *j);

void netns_join_free (struct netns_join *j);

/* --network NET [--ip IP]: the network exists and IP (NULL: any) is free on
 * it now; errors name the network, the flag and value.  *gateway: its
 * gateway (host byte order), where its name server listens. */
int netns_check (const char *root, const char *net, const char *ip, uint32_t *gateway,
                 nook_error_t *err);

/* --network container:NAME: NAME's user and network namespaces (the fds to
 * join, in *userns_fd / *netns_fd) and *ids rewritten relative to NAME's,
 * unless this process is in NAME's user namespace already (*inside: a
 * restart; *ids untouched).  *resolv (may be NULL) gets NAME's
 * /etc/resolv.conf (malloc'd; NULL when it cannot be read): the container
 * asks NAME's name servers, as Docker's does. */
int netns_container (const char *root, const char *name, struct nook_idmapping *ids, bool *inside,
                     int *userns_fd, int *netns_fd, char **resolv, nook_error_t *err);

/* Before a run joins its network (in the caller's own user namespace):
 * start the holders of the networks `network connect` added (with `ids` and
 * the kept namespace, as the run's own network's: netns_reconnect can then
 * move an interface of theirs into the container) and hold them with a
 * connection each, appended to *fds (close them after netns_reconnect). */
void netns_hold_connected (const char *root, const char *id, const char *primary,
                           const struct nook_idmapping *ids, const char *keep_dir, int **fds,
                           size_t *n);

/* A container (re)started: every other user-defined network `network
 * connect` added (containers/ID/networks.json: its aliases and --ip, kept
 * across stop/start until `network disconnect`) or whose record still lists
 * it (a restart by the same nook: same address) takes it again, into its new
 * network namespace cnet (hosts_fd: its hosts file, not taken).  Warns on
 * failure. */
void netns_reconnect (const char *root, const char *id, const char *primary, int cnet,
                      int hosts_fd);

/* `nook network connect|disconnect NET CONTAINER`. */
int netns_connect_cmd (const char *root, bool connect, int argc, char **argv, nook_error_t *err);

#endif
