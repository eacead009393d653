/* net/ports.c: see ports.h. */
#include "net/ports.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One -p expands to at most this many ports (each holds an fd in nook and the forwarder). */
#define MAX_PORTS 256

static int
bad (nook_error_t *err, const char *flag, const char *spec, const char *why)
{
  return nook_error_set (err, 0, "invalid argument \"%s\" for \"%s\" flag: %s", spec, flag, why);
}

/* "N" or "A-B" (1-65535); an empty string is *lo = *hi = 0 when allowed. */
static int
parse_range (const char *s, bool empty_ok, uint16_t *lo, uint16_t *hi)
{
  *lo = *hi = 0;
  if (*s == '\0')
    return empty_ok ? 0 : -1;
  cleanup_free char *copy = xstrdup (s);
  char *dash = strchr (copy, '-');
  if (dash)
    *dash = '\0';
  uint64_t a, b;
  cleanup_error nook_error_t e = NULL;
  if (parse_uint (copy, 65535, &a, "port", &e) < 0 || a == 0)
    return -1;
  b = a;
  if (dash && (parse_uint (dash + 1, 65535, &b, "port", &e) < 0 || b < a))
    return -1;
  *lo = (uint16_t)a;
  *hi = (uint16_t)b;
  return 0;
}

static int
parse_proto (char *s, int *proto)
{
  char *slash = strrchr (s, '/');
  *proto = IPPROTO_TCP;
  if (slash == NULL)
    return 0;
  *slash = '\0';
  if (strcmp (slash + 1, "tcp") == 0)
    return 0;
  if (strcmp (slash + 1, "udp") == 0)
    {
      *proto = IPPROTO_UDP;
      return 0;
    }
  return -1;
}

static void
push (struct net_port **v, size_t *n, const struct net_port *p)
{
  *v = xreallocarray (*v, *n + 1, sizeof **v);
  (*v)[(*n)++] = *p;
}

int
net_ports_parse_expose (const char *spec, const char *what, struct net_port **v, size_t *n,
                        nook_error_t *err)
{
  cleanup_free char *s = xstrdup (spec);
  struct net_port p = { 0 };
  uint16_t lo, hi;
  if (parse_proto (s, &p.proto) < 0)
    return bad (err, what, spec, "the protocol must be tcp or udp");
  if (parse_range (s, false, &lo, &hi) < 0)
    return bad (err, what, spec, "want PORT[-PORT][/PROTOCOL] with ports from 1 to 65535");
  if (hi - lo >= MAX_PORTS)
    return bad (err, what, spec, "too many ports in one range");
  for (unsigned c = lo; c <= hi; c++)
    {
      p.container_port = (uint16_t)c;
      push (v, n, &p);
    }
  return 0;
}

int
net_ports_parse (const char *spec, struct net_port **v, size_t *n, nook_error_t *err)
{
  static const char flag[] = "-p, --publish";
  cleanup_free char *s = xstrdup (spec);
  struct net_port p = { 0 };
  if (parse_proto (s, &p.proto) < 0)
    return bad (err, flag, spec, "the protocol must be tcp or udp");
  char *rest = s, *ip = NULL;
  if (*s == '[')
    {
      char *close = strchr (s, ']');
      if (close == NULL || close[1] != ':')
        return bad (err, flag, spec, "an IPv6 address in brackets must be followed by ':'");
      *close = '\0';
      ip = s + 1;
      rest = close + 2;
      struct in6_addr a6;
      if (inet_pton (AF_INET6, ip, &a6) != 1)
        return bad (err, flag, spec, "invalid IPv6 address");
    }
  else
    {
      /* Docker's raw IPv6 form: more than two ':' and no brackets, the address
       * is all before the last two (":::8080:80" is [::]:8080:80) */
      size_t colons = 0;
      for (const char *c = s; *c; c++)
        colons += *c == ':';
      if (colons > 2)
        {
          char *last = strrchr (s, ':');
          *last = '\0';
          char *before = strrchr (s, ':');
          *last = ':';
          *before = '\0';
          ip = s;
          rest = before + 1;
          struct in6_addr a6;
          if (inet_pton (AF_INET6, ip, &a6) != 1)
            return bad (err, flag, spec,
                        "invalid IPv6 address (want [IPv6]:HOSTPORT:CONTAINERPORT or "
                        "IPv6:HOSTPORT:CONTAINERPORT)");
        }
    }
  char *parts[3] = { NULL };
  size_t np = 0;
  for (char *c = rest, *start = rest;; c++)
    if (*c == ':' || *c == '\0')
      {
        if (np == 3)
          return bad (err, flag, spec,
                      "want [IP:][HOSTPORT:]CONTAINERPORT[/PROTOCOL] (IPv6 addresses in "
                      "brackets)");
        bool end = *c == '\0';
        *c = '\0';
        parts[np++] = start;
        start = c + 1;
        if (end)
          break;
      }
  const char *hostport = "", *cport = parts[np - 1];
  if (ip && np != 2)
    return bad (err, flag, spec, "want [IPv6]:[HOSTPORT]:CONTAINERPORT");
  if (np == 2)
    hostport = parts[0];
  if (np == 3)
    {
      ip = parts[0];
      hostport = parts[1];
      struct in_addr a4;
      if (inet_pton (AF_INET, ip, &a4) != 1)
        return bad (err, flag, spec, "invalid IP address (IPv6 addresses go in brackets)");
    }
  if (ip)
    snprintf (p.host_ip, sizeof p.host_ip, "%s", ip);
  uint16_t clo, chi, hlo, hhi;
  if (parse_range (cport, false, &clo, &chi) < 0)
    return bad (err, flag, spec, "invalid container port (want 1-65535 or a range A-B)");
  if (parse_range (hostport, true, &hlo, &hhi) < 0)
    return bad (err, flag, spec, "invalid host port (want 1-65535 or a range A-B)");
  unsigned nc = chi - clo + 1u, nh = hlo ? hhi - hlo + 1u : 0;
  if (nc > MAX_PORTS || nh > MAX_PORTS)
    return bad (err, flag, spec, "too many ports in one range");
  if (nh && nc > 1 && nh != nc)
    return bad (err, flag, spec, "the host and container port ranges differ in length");
  for (unsigned i = 0; i < nc; i++)
    {
      p.container_port = (uint16_t)(clo + i);
      if (nh > 1 && nc == 1)
        {
          p.host_port = hlo;
          p.host_port_end = hhi;
        }
      else
        p.host_port = nh ? (uint16_t)(hlo + i) : 0;
      push (v, n, &p);
    }
  return 0;
}

const char *
net_port_proto_name (int proto)
{
  return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static unsigned
unprivileged_start (void)
{
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, "/proc/sys/net/ipv4/ip_unprivileged_port_start", 64, &text, NULL,
                       &e)
      < 0)
    return 1024;
  return (unsigned)strtoul (text, NULL, 10);
}

/* The port bound (>= 0) or -errno. */
static int
bind_one (const struct net_port *p, uint16_t port, int *fd_out)
{
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  int family;
  if (strchr (p->host_ip, ':'))
    {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
      family = s6->sin6_family = AF_INET6;
      s6->sin6_port = htons (port);
      inet_pton (AF_INET6, p->host_ip, &s6->sin6_addr);
      len = sizeof *s6;
    }
  else
    {
      struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
      family = s4->sin_family = AF_INET;
      s4->sin_port = htons (port);
      if (*p->host_ip)
        inet_pton (AF_INET, p->host_ip, &s4->sin_addr);
      len = sizeof *s4;
    }
  bool tcp = p->proto == IPPROTO_TCP;
  cleanup_close int fd
      = socket (family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  int one = 1;
  if (family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (tcp)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *)&ss, len) < 0 || (tcp && listen (fd, SOMAXCONN) < 0))
    return -errno;
  if (getsockname (fd, (struct sockaddr *)&ss, &len) == 0)
    port = ntohs (family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
  *fd_out = take_fd (&fd);
  return port;
}

int
net_port_bind (struct net_port *p, nook_error_t *err)
{
  unsigned lo = p->host_port, hi = p->host_port_end > lo ? p->host_port_end : lo;
  cleanup_free char *where = net_port_host_addr (p);
  int fd = -1, r = -EADDRINUSE;
  for (unsigned port = lo; port <= hi; port++)
    {
      r = bind_one (p, (uint16_t)port, &fd);
      if (r >= 0)
        {
          p->host_port = (uint16_t)r;
          p->host_port_end = 0;
          return fd;
        }
      if (r != -EADDRINUSE)
        break;
    }
  unsigned start = unprivileged_start ();
  if (r == -EACCES && lo && lo < start)
    return nook_error_set (err, 0,
                           "cannot publish %s/%s: host ports below %u need privileges "
                           "(net.ipv4.ip_unprivileged_port_start = %u; use a port >= %u, or "
                           "lower it: sysctl net.ipv4.ip_unprivileged_port_start=%u)",
                           where, net_port_proto_name (p->proto), start, start, start, lo);
  if (r == -EADDRINUSE)
    return nook_error_set (err, 0, "Bind for %s failed: %s", where,
                           hi > lo ? "all ports of the range are already allocated"
                                   : "port is already allocated");
  if (r == -EADDRNOTAVAIL)
    return nook_error_set (err, 0, "cannot publish %s: the host has no address %s", where,
                           p->host_ip);
  return nook_error_set (err, -r, "bind %s/%s", where, net_port_proto_name (p->proto));
}

char *
net_port_host_addr (const struct net_port *p)
{
  const char *ip = *p->host_ip ? p->host_ip : "0.0.0.0";
  bool v6 = strchr (ip, ':') != NULL;
  if (p->host_port_end > p->host_port)
    return xasprintf ("%s%s%s:%u-%u", v6 ? "[" : "", ip, v6 ? "]" : "", p->host_port,
                      p->host_port_end);
  return xasprintf ("%s%s%s:%u", v6 ? "[" : "", ip, v6 ? "]" : "", p->host_port);
}

char *
net_port_format_line (const struct net_port *p)
{
  cleanup_free char *host = net_port_host_addr (p);
  return xasprintf ("%u/%s -> %s", p->container_port, net_port_proto_name (p->proto), host);
}

static bool
follows (const struct net_port *a, const struct net_port *b)
{
  return a->proto == b->proto && strcmp (a->host_ip, b->host_ip) == 0
         && b->host_port == a->host_port + 1 && b->container_port == a->container_port + 1;
}

char *
net_ports_format (const struct net_port *v, size_t n)
{
  struct strbuf b = { 0 };
  for (size_t i = 0; i < n;)
    {
      size_t j = i;
      while (j + 1 < n && follows (&v[j], &v[j + 1]))
        j++;
      struct net_port first = v[i];
      first.host_port_end = 0;
      cleanup_free char *host = net_port_host_addr (&first);
      if (b.len)
        strbuf_append (&b, ", ");
      if (j > i)
        strbuf_appendf (&b, "%s-%u->%u-%u/%s", host, v[j].host_port, v[i].container_port,
                        v[j].container_port, net_port_proto_name (v[i].proto));
      else
        strbuf_appendf (&b, "%s->%u/%s", host, v[i].container_port,
                        net_port_proto_name (v[i].proto));
      i = j + 1;
    }
  return b.len ? strbuf_steal (&b) : xstrdup ("");
}
