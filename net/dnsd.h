/* net/dnsd.h: the name server of a user-defined network, as pure functions.
 *
 * Containers of a network ask its gateway (port 53, UDP) as Docker's ask the
 * embedded 127.0.0.11: the network's holder (cmd/netns_holder.c) answers the
 * names of its members (names, aliases, short IDs, from their hosts lines)
 * and their addresses' PTR names, and forwards every other query to the
 * host's name servers.  A and, for a network with --ipv6, AAAA; a known name
 * asked for another type (or AAAA on an IPv4 network) gets an empty answer,
 * so that a resolver does not go looking elsewhere. */
#ifndef NOOK_NET_DNSD_H
#define NOOK_NET_DNSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum net_dnsd_verdict
{
  NET_DNSD_ANSWER,  /* out holds the answer */
  NET_DNSD_FORWARD, /* not ours: ask the upstream servers */
  NET_DNSD_DROP,    /* not a query (a reply, garbage): ignore it */
};

/* Members as hosts lines ("ADDR\tNAME ALIAS... SHORTID"; a member's may be
 * several, newline-separated: IPv4 and IPv6); n of them. */
enum net_dnsd_verdict net_dnsd_answer (const unsigned char *q, size_t qlen, char *const *lines,
                                       size_t n, unsigned char *out, size_t size, size_t *out_len);

/* A SERVFAIL answer to query q (upstream unreachable); false when q is no query. */
bool net_dnsd_servfail (const unsigned char *q, size_t qlen, unsigned char *out, size_t size,
                        size_t *out_len);

/* The IPv4 name servers of a resolv.conf text (network byte order), at most max. */
size_t net_dnsd_servers (const char *resolv, uint32_t *v, size_t max);

#endif
