/* net/slirp.h: nook's user-mode network stack: libslirp (the library slirp4netns
 * is built on) in a sandboxed helper process, on a tap that nook configured
 * inside the container.
 *
 * The container's interface, address and route exist before its command starts
 * (sandbox/netif.c), and frames it sends queue on the tap; the helper attaches
 * to the tap afterwards, so nothing of the stack is on the start-up path.  The
 * helper waits for the first frame before it loads libslirp (dlopen: libslirp
 * and GLib are never mapped into nook itself), then sandboxes itself
 * (no_new_privs; Landlock: no file but /etc/resolv.conf, no signals or
 * abstract sockets outside; seccomp: no exec, mount, namespace, ptrace or
 * module calls) and runs the stack. */
#ifndef NOOK_NET_SLIRP_H
#define NOOK_NET_SLIRP_H

#include <stdbool.h>
#include <stdint.h>

#include "net/helper.h"
#include "util/error.h"

/* The user-mode network of one container (addresses in network byte order). */
struct net_slirp_config
{
  uint32_t network, netmask; /* 10.0.2.0/24 */
  uint32_t gateway;          /* 10.0.2.2: the host (its loopback, when allowed) */
  uint32_t dns;              /* 10.0.2.3: libslirp's DNS forwarder */
  unsigned mtu;              /* 65520 */
  bool allow_host_loopback;  /* the gateway reaches the host's 127.0.0.1 */
  bool dns_forwarder;        /* answer DNS on `dns` (forwarded to the host's first
                                resolver in /etc/resolv.conf) */
};

/* The defaults above, loopback closed and no DNS forwarder. */
void net_slirp_config_default (struct net_slirp_config *cfg);

/* Start the helper on tap_fd (taken, closed here in any case). */
int net_slirp_start (const struct net_slirp_config *cfg, int tap_fd, struct net_helper *h,
                     nook_error_t *err);

/* Load libslirp here (for `nook info`): its version (malloc'd), or -1 with *err. */
int net_slirp_probe (char **version, nook_error_t *err);

#endif
