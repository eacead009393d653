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
 * A TCP client keeps its address inside: a loopback one because 127.0.0.0/8 is
 * local there too (as pasta's splice path shows it); any other IPv4 one
 * because the connection inside is bound to it with IP_TRANSPARENT and marked,
 * and the forwarder, root of the container's user namespace, set up TPROXY's
 * routing in the container's network namespace before dropping all but
 * CAP_NET_RAW there (tcp_fwmark_accept=1: the server's connection takes the
 * SYN's mark; `fwmark MARK lookup TABLE`, `local 0.0.0.0/0 dev lo table
 * TABLE`: its answers come back through lo).  Should that setup fail, such
 * clients are seen as the container's own address, as are UDP clients not on
 * loopback (an answer carries no mark of the datagram it answers) and IPv6
 * ones but ::1 (the container's network is IPv4).  Neither hop paces: a
 * pacing default congestion control (bbr) becomes reno for the forwarder's
 * sockets and, set by the forwarder, the container's network namespace
 * (unless --sysctl sets it). */
#ifndef NOOK_NET_FORWARD_H
#define NOOK_NET_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/helper.h"
#include "net/ports.h"
#include "util/error.h"

/* Start the forwarder of ports[0..n-1] (fds[i]: the bound socket of ports[i],
 * taken) into the container's user and network namespaces (fds, not taken),
 * connecting to `addr` (IPv4, network byte order); set_cc: it may set the
 * namespace's default congestion control (false: the user chose one). */
int net_forward_start (const struct net_port *ports, int *fds, size_t n, int userns_fd,
                       int netns_fd, uint32_t addr, bool set_cc, struct net_helper *h,
                       nook_error_t *err);

#endif
