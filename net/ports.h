/* net/ports.h: published ports: Docker's -p/--publish, --expose and the
 * image's ExposedPorts (pure parsing and formatting), and binding them on the
 * host before the container exists.
 *
 *   -p [IP:][HOSTPORT:]CPORT[/tcp|/udp]   IP v4, or v6 in brackets ([::1]:8080:80);
 *                                         HOSTPORT empty or absent: any free port;
 *                                         ranges: 8000-8002:80-82, 8000-8010:80 (the
 *                                         first free host port), 80-82 */
#ifndef NOOK_NET_PORTS_H
#define NOOK_NET_PORTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct net_port
{
  int proto;                         /* IPPROTO_TCP or IPPROTO_UDP */
  char host_ip[48];                  /* as given, without brackets; "" = 0.0.0.0 */
  uint16_t host_port, host_port_end; /* 0: any; end > port: the first free of the range */
  uint16_t container_port;
};

/* Parse one -p value; the ports are appended to *v (n of them). */
int net_ports_parse (const char *spec, struct net_port **v, size_t *n, nook_error_t *err);

/* Parse one --expose value or ExposedPorts key ("80", "80/udp", "8000-8002/tcp")
 * into ports with no host side.  `what` names the source in errors. */
int net_ports_parse_expose (const char *spec, const char *what, struct net_port **v, size_t *n,
                            nook_error_t *err);

/* "tcp" / "udp". */
const char *net_port_proto_name (int proto);

/* Bind port p on the host (listen, for TCP): its fd (CLOEXEC, non-blocking);
 * p->host_port gets the port bound.  A port below
 * net.ipv4.ip_unprivileged_port_start, a taken port and an address the host
 * lacks are errors that say so. */
int net_port_bind (struct net_port *p, nook_error_t *err);

/* Docker's PORTS column: "0.0.0.0:8080->80/tcp, [::1]:9000-9001->90-91/udp"
 * (consecutive ports folded into ranges). */
char *net_ports_format (const struct net_port *v, size_t n);

/* One line of `nook port`: "80/tcp -> 0.0.0.0:8080". */
char *net_port_format_line (const struct net_port *p);

/* "0.0.0.0:8080" / "[::1]:8080". */
char *net_port_host_addr (const struct net_port *p);

#endif
