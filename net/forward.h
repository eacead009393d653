/* net/forward.h: the port forwarder of a container: one helper process for
 * all its published ports.
 *
 * nook binds the host side (net_port_bind) before the container exists; the
 * forwarder takes those sockets, enters the container's user and network
 * namespaces (the host-side sockets stay in the host's), sandboxes itself
 * (net/sandbox_self.h) and, for each TCP client, connects to the container's
 * address and port from inside and moves the bytes with splice(2) (kernel to
 * kernel, through a pipe); for UDP, one connected socket inside per client
 * address, dropped after 90 s of silence (Docker's userland proxy's timeout).
 * A client on the host's loopback is seen inside with its own address (the
 * connection inside is made from it: 127.0.0.0/8 is local there too), as
 * pasta's splice path shows it; other clients are seen as the container's own
 * address (keeping theirs would need IP_TRANSPARENT and policy routing in the
 * container's namespace, or the user-mode stack's slower TCP). */
#ifndef NOOK_NET_FORWARD_H
#define NOOK_NET_FORWARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/helper.h"
#include "net/ports.h"
#include "util/error.h"

/* Start the forwarder of ports[0..n-1] (fds[i]: the bound socket of ports[i],
 * taken) into the container's user and network namespaces (fds, not taken),
 * connecting to `addr` (IPv4, network byte order). */
int net_forward_start (const struct net_port *ports, int *fds, size_t n, int userns_fd,
                       int netns_fd, uint32_t addr, struct net_helper *h, nook_error_t *err);

#endif
