/* net/subnet.h: IPv4 subnets of user-defined networks (pure): parsing,
 * overlap, Docker's default pools, address allocation.  Addresses here are in
 * host byte order. */
#ifndef NOOK_NET_SUBNET_H
#define NOOK_NET_SUBNET_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdint.h>

#include "util/error.h"

struct net_subnet
{
  uint32_t addr; /* host byte order, host bits zero */
  unsigned prefix;
};

/* "172.18.0.0/16".  Errors name `flag` and the value (Docker's: host bits set
 * is "invalid subnet X: it should be Y"). */
int net_subnet_parse (const char *s, const char *flag, struct net_subnet *out, nook_error_t *err);

/* Parse a dotted IPv4 address (host byte order). */
int net_addr_parse (const char *s, uint32_t *out);

/* "172.18.0.0/16" / "172.18.0.2" (malloc'd). */
char *net_subnet_format (const struct net_subnet *s);
char *net_addr_format (uint32_t a);

bool net_subnet_overlaps (const struct net_subnet *a, const struct net_subnet *b);
bool net_subnet_contains (const struct net_subnet *s, uint32_t a);

/* The first subnet of Docker's default pools (172.17-31.0.0/16, then
 * 192.168.0.0/20 .. 192.168.240.0/20) that overlaps none of avoid[0..n-1].
 * -1 when all are taken. */
int net_subnet_pick (const struct net_subnet *avoid, size_t n, struct net_subnet *out);

/* The gateway (the bridge's address in the network's namespace): first host. */
uint32_t net_subnet_gateway (const struct net_subnet *s);

/* The lowest host address of s that is neither the network, the gateway, the
 * broadcast nor in used[0..n-1]; 0 when full. */
uint32_t net_subnet_alloc (const struct net_subnet *s, const uint32_t *used, size_t n);

/* ---- IPv6 subnets (`network create --ipv6`) ---- */

struct net_subnet6
{
  struct in6_addr addr; /* host bits zero */
  unsigned prefix;      /* 48..112: a host part of 16 bits at least */
};

/* "fd00:db8::/64"; errors as net_subnet_parse's. */
int net_subnet6_parse (const char *s, const char *flag, struct net_subnet6 *out, nook_error_t *err);
char *net_subnet6_format (const struct net_subnet6 *s);
char *net_addr6_format (const struct in6_addr *a);
bool net_subnet6_overlaps (const struct net_subnet6 *a, const struct net_subnet6 *b);

/* Host `index` of s (the subnet's address plus index: 1 the gateway). */
void net_subnet6_host (const struct net_subnet6 *s, uint32_t index, struct in6_addr *out);

/* A unique local /64 (RFC 4193: fd, then 40 bits of global ID, subnet 0)
 * whose global ID is the first 5 bytes of `seed`. */
void net_subnet6_ula (const unsigned char seed[5], struct net_subnet6 *out);

#endif
