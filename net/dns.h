/* net/dns.h: a container's /etc/resolv.conf and /etc/hosts (pure: the host's
 * files come in as text).
 *
 * resolv.conf: on a user-mode network the host's name servers minus loopback
 * ones (a container cannot reach the host's loopback, so 127.0.0.53 would only
 * time out); when that leaves none, the user-mode stack's forwarder 10.0.2.3 if
 * host loopback is allowed, else none and a warning naming --dns.  --network
 * host keeps the host's file; none drops loopback servers.  --dns replaces the
 * servers, --dns-search the search list, --dns-option the options.
 *
 * hosts: localhost lines, the container's address (or 127.0.1.1 without one)
 * with its hostname and name, then each --add-host ("NAME:IP", IP may be
 * host-gateway). */
#ifndef NOOK_NET_DNS_H
#define NOOK_NET_DNS_H

#include <stdbool.h>

#include "util/error.h"

struct net_dns_input
{
  const char *host_resolv;     /* text of the host's /etc/resolv.conf (may be NULL) */
  const char *resolved_resolv; /* text of /run/systemd/resolve/resolv.conf (may be NULL) */
  bool host_network;           /* --network host: the host's file as it is */
  bool user_mode;              /* a user-mode network (libslirp, slirp4netns) */
  bool allow_host_loopback;    /* ... whose gateway reaches the host's loopback */
  char *const *servers, *const *search, *const *options; /* --dns, --dns-search, --dns-option */
};

/* The resolv.conf text (malloc'd); *warning (malloc'd or NULL) when the container
 * gets no name server.  Bad --dns values are errors naming the flag. */
int net_resolv_conf (const struct net_dns_input *in, char **out, char **warning, nook_error_t *err);

/* Whether a resolv.conf line "nameserver X" names a loopback address. */
bool net_dns_is_loopback (const char *addr);

/* The hosts text (malloc'd).  addr: the container's address ("10.0.2.100") or
 * NULL; name: --name or NULL; host_gateway: what host-gateway means here, or
 * NULL with gateway_why saying why there is none. */
int net_hosts_file (const char *hostname, const char *name, const char *addr,
                    char *const *add_hosts, const char *host_gateway, const char *gateway_why,
                    char **out, nook_error_t *err);

#endif
