/* net/link.h: interfaces of a user-defined network: the bridge in the
 * network's namespace, a veth pair per container, addresses and routes.
 *
 * Everything works on the current network namespace, so the caller (a
 * short-lived fork) setns(2)es first; it must hold CAP_NET_ADMIN over the
 * namespaces involved (root of their owning user namespace or an ancestor).
 * ioctls where they exist, one rtnetlink request for the veth pair. */
#ifndef NOOK_NET_LINK_H
#define NOOK_NET_LINK_H

#include <netinet/in.h>
#include <stdint.h>

#include "util/error.h"

/* Create bridge `name` (SIOCBRADDBR); an existing one is fine. */
int net_link_bridge_add (const char *name, nook_error_t *err);

/* Create the veth pair `name` (here) / `peer` (moved to the network namespace
 * `peer_netns_fd` at creation). */
int net_link_veth_add (const char *name, const char *peer, int peer_netns_fd, unsigned mtu,
                       nook_error_t *err);

/* Delete interface `name` (a veth takes its peer along). */
int net_link_delete (const char *name, nook_error_t *err);

/* Attach `ifname` to `bridge` as a port (SIOCBRADDIF). */
int net_link_bridge_attach (const char *bridge, const char *ifname, nook_error_t *err);

/* Configure interface `name`: MTU (0: keep), IPv4 address/prefix (addr 0:
 * none), up, and a default route via `gateway` (0: none).  Network byte order. */
int net_link_configure (const char *name, unsigned mtu, uint32_t addr, unsigned prefix,
                        uint32_t gateway, nook_error_t *err);

/* Write VALUE to /proc/sys/PATH (of the current network namespace). */
int net_link_sysctl (const char *path, const char *value, nook_error_t *err);

/* Deliver locally every packet marked `mark`: a rule `fwmark MARK lookup
 * TABLE` (priority `prio`) and a route `local 0.0.0.0/0 dev lo table TABLE`
 * (TPROXY's routing); what exists already is kept. */
int net_link_local_mark (uint32_t mark, uint32_t table, uint32_t prio, nook_error_t *err);

/* Set the Ethernet address of interface `name` (SIOCSIFHWADDR).  A bridge
 * given one keeps it; else it takes the lowest of its ports', and changes
 * when ports come and go (the members' ARP entries for the gateway then name
 * an address nobody answers to until they expire). */
int net_link_set_mac (const char *name, const uint8_t mac[6], nook_error_t *err);

/* Add IPv6 address a/prefix to interface `name` (SIOCSIFADDR, AF_INET6). */
int net_link_addr6 (const char *name, const struct in6_addr *a, unsigned prefix, nook_error_t *err);

#endif
