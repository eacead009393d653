/* cmd/run_net.c: see run_net.h. */
#include "cmd/run_net.h"
#include "net/dns.h"
#include "net/forward.h"
#include "net/slirp.h"
#include "net/slirp4netns.h"
#include "net/subnet.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
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

static bool
has_port (const struct net_port *v, size_t n, int proto, uint16_t cport)
{
  for (size_t i = 0; i < n; i++)
    if (v[i].proto == proto && v[i].container_port == cport)
      return true;
  return false;
}

/* -p, then -P: every port the image exposes or --expose names and -p did not
 * publish gets a free host port on all addresses. */
static int
collect_ports (const struct run_opts *o, const json_t *image_config, struct run_net *rn,
               nook_error_t *err)
{
  for (size_t i = 0; o->publish && o->publish[i]; i++)
    if (net_ports_parse (o->publish[i], &rn->ports, &rn->n_ports, err) < 0)
      return -1;
  struct net_port *exposed = NULL;
  size_t n_exposed = 0;
  int rc = 0;
  for (size_t i = 0; rc == 0 && o->expose && o->expose[i]; i++)
    rc = net_ports_parse_expose (o->expose[i], "--expose", &exposed, &n_exposed, err);
  const json_t *cfg = image_config ? json_object_get (image_config, "config") : NULL;
  json_t *ep = cfg ? json_object_get (cfg, "ExposedPorts") : NULL;
  const char *key;
  json_t *v;
  if (json_is_object (ep))
    json_object_foreach (ep, key, v)
    {
      cleanup_error nook_error_t e = NULL;
      if (rc == 0 && net_ports_parse_expose (key, "ExposedPorts", &exposed, &n_exposed, &e) < 0)
        log_warn ("the image exposes '%s', which is not a port: ignored", key);
    }
  for (size_t i = 0; rc == 0 && o->publish_all && i < n_exposed; i++)
    if (!has_port (rn->ports, rn->n_ports, exposed[i].proto, exposed[i].container_port))
      {
        rn->ports = xreallocarray (rn->ports, rn->n_ports + 1, sizeof *rn->ports);
        rn->ports[rn->n_ports++] = exposed[i];
      }
  free (exposed);
  return rc;
}

static int
bind_ports (struct run_net *rn, nook_error_t *err)
{
  rn->listen_fds = xzalloc (sizeof *rn->listen_fds * (rn->n_ports ? rn->n_ports : 1));
  for (size_t i = 0; i < rn->n_ports; i++)
    rn->listen_fds[i] = -1;
  for (size_t i = 0; i < rn->n_ports; i++)
    if ((rn->listen_fds[i] = net_port_bind (&rn->ports[i], err)) < 0)
      return -1;
  return 0;
}

/* What host-gateway means: the host's loopback through the gateway when that is
 * allowed, else the host's own address toward its default route (no packet is
 * sent: a UDP socket is only connected). */
static char *
host_gateway (const struct run_net *rn, char **why)
{
  *why = NULL;
  if (net_mode_user (&rn->mode) && rn->mode.allow_host_loopback)
    return xstrdup ("10.0.2.2");
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons (9) };
  inet_pton (AF_INET, "203.0.113.1", &dst.sin_addr);
  struct sockaddr_in me;
  socklen_t len = sizeof me;
  char buf[INET_ADDRSTRLEN];
  if (fd < 0 || connect (fd, (struct sockaddr *)&dst, sizeof dst) < 0
      || getsockname (fd, (struct sockaddr *)&me, &len) < 0
      || inet_ntop (AF_INET, &me.sin_addr, buf, sizeof buf) == NULL)
    {
      *why = xstrdup ("the host has no default route, so no address a container can reach it "
                      "at (host loopback: --network libslirp:allow_host_loopback=true)");
      return NULL;
    }
  return xstrdup (buf);
}

static char *
read_text (const char *path)
{
  char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, path, 1 << 16, &text, NULL, &e) < 0)
    return NULL;
  return text;
}

static int
etc_files (const struct run_opts *o, const char *name, struct nook_spec *spec, struct run_net *rn,
           nook_error_t *err)
{
  cleanup_free char *host = read_text ("/etc/resolv.conf");
  cleanup_free char *resolved = NULL;
  bool user
      = net_mode_user (&rn->mode) || rn->mode.kind == NET_USER || rn->mode.kind == NET_CONTAINER;
  if (user)
    resolved = read_text ("/run/systemd/resolve/resolv.conf");
  struct net_dns_input in = {
    .host_resolv = host,
    .resolved_resolv = resolved,
    .host_network = rn->mode.kind == NET_HOST,
    .user_mode = user,
    .allow_host_loopback = rn->mode.allow_host_loopback,
    .servers = o->dns,
    .search = o->dns_search,
    .options = o->dns_options,
  };
  cleanup_free char *warning = NULL;
  if (net_resolv_conf (&in, &spec->etc_resolv, &warning, err) < 0)
    return -1;
  if (warning)
    log_warn ("%s", warning);
  cleanup_free char *why = NULL;
  cleanup_free char *gw = o->add_hosts ? host_gateway (rn, &why) : NULL;
  cleanup_free char *addr = rn->mode.kind == NET_USER   ? net_addr_format (rn->join.addr)
                            : net_mode_user (&rn->mode) ? xstrdup ("10.0.2.100")
                                                        : NULL;
  return net_hosts_file (spec->hostname, name, addr, o->add_hosts, gw, why, &spec->etc_hosts, err);
}

/* --network NAME, container:NAME: the namespaces the container is made in. */
static int
join_network (const struct run_opts *o, const char *root, const char *id, struct nook_spec *spec,
              struct run_net *rn, nook_error_t *err)
{
  if (rn->mode.kind == NET_CONTAINER)
    {
      if (netns_container (root, rn->mode.target, spec, &rn->peer_userns, &rn->peer_netns, err) < 0)
        return -1;
      spec->join_netns = true;
      spec->netns_fd = rn->peer_netns;
      spec->join_userns = true;
      spec->userns_fd = rn->peer_userns;
      spec->keep_userns_dir = NULL; /* the parent is the peer's user namespace */
      return 0;
    }
  struct netns_endpoint ep = {
    .id = id,
    .name = o->name,
    .hostname = spec->hostname,
    .aliases = o->network_aliases,
    .ip = o->ip,
  };
  if (netns_join (root, rn->mode.target, &ep, spec, &rn->join, err) < 0)
    return -1;
  spec->join_userns = true;
  spec->userns_fd = rn->join.userns_fd;
  spec->keep_userns_dir = NULL;
  return 0;
}

static int
check_flags (const struct run_opts *o, const struct run_net *rn, nook_error_t *err)
{
  if (o->network_twice)
    return nook_error_set (err, 0,
                           "--network given twice ('%s', '%s'): a container starts on one "
                           "network (nook network connect adds others)",
                           o->network, o->network_twice);
  if (o->network_aliases && rn->mode.kind != NET_USER)
    return nook_error_set (err, 0,
                           "--network-alias %s: network-scoped aliases are only supported for "
                           "user-defined networks (not --network %s)",
                           o->network_aliases[0], o->network ? o->network : "bridge");
  if (o->ip && rn->mode.kind != NET_USER)
    return nook_error_set (err, 0,
                           "--ip %s: user specified IP address is supported on user defined "
                           "networks only (not --network %s)",
                           o->ip, o->network ? o->network : "bridge");
  for (size_t i = 0; o->network_aliases && o->network_aliases[i]; i++)
    {
      const char *a = o->network_aliases[i];
      bool ok = *a && strlen (a) <= 63;
      for (const char *c = a; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
             || *c == '-' || *c == '.' || *c == '_';
      if (!ok)
        return nook_error_set (err, 0, "invalid --network-alias '%s': want a host name", a);
    }
  if (rn->n_ports && rn->mode.kind == NET_CONTAINER)
    return nook_error_set (err, 0,
                           "conflicting options: port publishing and the container type "
                           "network mode (--network %s)",
                           o->network);
  return 0;
}

int
run_net_prepare (const struct run_opts *o, const json_t *image_config, const char *root,
                 const char *id, struct nook_spec *spec, struct run_net *rn, nook_error_t *err)
{
  const char *name = o->name;
  rn->stack = rn->forwarder = (struct net_helper)NET_HELPER_INIT;
  rn->join = (struct netns_join)NETNS_JOIN_INIT;
  rn->peer_userns = rn->peer_netns = -1;
  rn->prepared = true;
  if (net_mode_parse (o->network, &rn->mode, err) < 0
      || collect_ports (o, image_config, rn, err) < 0 || check_flags (o, rn, err) < 0)
    return -1;
  if (rn->n_ports && rn->mode.kind == NET_HOST)
    {
      log_warn ("published ports are discarded when using host network mode");
      rn->n_ports = 0;
    }
  if (rn->n_ports && !net_mode_user (&rn->mode) && rn->mode.kind != NET_USER)
    return nook_error_set (err, 0,
                           "conflicting options: port publishing and --network %s (publish on "
                           "the default network, bridge)",
                           net_mode_name (&rn->mode));
  if (bind_ports (rn, err) < 0)
    return -1;
  if ((rn->mode.kind == NET_USER || rn->mode.kind == NET_CONTAINER)
      && join_network (o, root, id, spec, rn, err) < 0)
    return -1;
  if (etc_files (o, name, spec, rn, err) < 0)
    return -1;
  if (rn->mode.kind == NET_USER)
    rn->own_hosts = xstrdup (spec->etc_hosts);
  return 0;
}

int
run_net_start (struct run_net *rn, const struct sandbox_netns *ns, nook_error_t *err)
{
  int tap_fd = ns->tap_fd;
  uint32_t addr = htonl (NET_GUEST_ADDR);
  if (rn->mode.kind == NET_USER)
    {
      if (netns_attach (&rn->join, ns->netns_fd, ns->hosts_fd, rn->own_hosts, err) < 0)
        return -1;
      if (write (ns->ready_fd, "1", 1) != 1)
        return nook_error_set (err, errno, "start the container");
      addr = htonl (rn->join.addr);
    }
  else if (rn->mode.kind == NET_LIBSLIRP)
    {
      struct net_slirp_config cfg;
      net_slirp_config_default (&cfg);
      cfg.mtu = rn->mode.mtu;
      cfg.allow_host_loopback = rn->mode.allow_host_loopback;
      cfg.dns_forwarder = rn->mode.allow_host_loopback;
      if (net_slirp_start (&cfg, tap_fd, &rn->stack, err) < 0)
        return -1;
    }
  else if (rn->mode.kind == NET_SLIRP4NETNS)
    {
      if (tap_fd >= 0)
        close (tap_fd);
      if (net_slirp4netns_start (ns->pid, &rn->mode, ns->ready_fd, &rn->stack, err) < 0)
        return -1;
    }
  if (rn->n_ports == 0)
    return 0;
  /* the forwarder gets copies: the sockets stay ours for the next run of a restart
   * policy (whose forwarder replaces this one), and close with run_net_free */
  int *copies = xreallocarray (NULL, rn->n_ports, sizeof *copies);
  for (size_t i = 0; i < rn->n_ports; i++)
    copies[i] = rn->listen_fds[i] >= 0 ? fcntl (rn->listen_fds[i], F_DUPFD_CLOEXEC, 3) : -1;
  int r = net_forward_start (rn->ports, copies, rn->n_ports, ns->userns_fd, ns->netns_fd, addr,
                             &rn->forwarder, err);
  free (copies);
  return r;
}

void
run_net_stop (struct run_net *rn)
{
  net_helper_kill (&rn->forwarder);
  net_helper_kill (&rn->stack);
}

void
run_net_explain (struct run_net *rn, nook_error_t *err)
{
  if (err == NULL || *err == NULL || rn->stack.pid <= 0 || !net_helper_ended (&rn->stack))
    return;
  cleanup_free char *said = net_helper_stderr (&rn->stack, 400);
  if (said && *said)
    nook_error_wrap (err, "%s: %s", rn->stack.name, said);
}

void
run_net_free (struct run_net *rn)
{
  run_net_stop (rn);
  net_helper_reap (&rn->forwarder, false);
  net_helper_reap (&rn->stack, false);
  for (size_t i = 0; rn->listen_fds && i < rn->n_ports; i++)
    if (rn->listen_fds[i] >= 0)
      close (rn->listen_fds[i]);
  free (rn->listen_fds);
  free (rn->ports);
  if (!rn->prepared)
    return; /* (the fds below are not set) */
  netns_join_free (&rn->join);
  free (rn->own_hosts);
  rn->own_hosts = NULL;
  if (rn->peer_userns >= 0)
    close (rn->peer_userns);
  if (rn->peer_netns >= 0)
    close (rn->peer_netns);
  rn->peer_userns = rn->peer_netns = -1;
  rn->listen_fds = NULL;
  rn->ports = NULL;
  rn->n_ports = 0;
}

static char *
read_trimmed_text (const char *path)
{
  char *t = read_text (path);
  if (t)
    t[strcspn (t, "\n")] = '\0';
  return t;
}

size_t
run_net_info (struct run_net_info_line *l, size_t max)
{
  size_t n = 0;
  if (max < 6)
    return 0;
  cleanup_free char *version = NULL;
  cleanup_error nook_error_t e = NULL;
  l[n++] = (struct run_net_info_line){
    "Default network", "DefaultNetwork",
    net_slirp_probe (&version, &e) == 0
        ? xasprintf ("bridge: nook's libslirp helper (libslirp %s) on a tap configured before the "
                     "command starts (picked by measurement: +0.6 ms a run, against +1.2 ms for "
                     "slirp4netns waited for in parallel; both are --network options)",
                     version)
        : xasprintf ("bridge: FAILED: %s (use --network slirp4netns or none)", e->msg)
  };
  cleanup_free char *s4 = net_slirp4netns_find ();
  l[n++] = (struct run_net_info_line){
    "slirp4netns", "Slirp4netns",
    s4 ? xasprintf ("%s (--network slirp4netns[:OPTIONS])", s4)
       : xstrdup ("not found (apt-get install slirp4netns for --network slirp4netns)")
  };
  int tun = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  l[n++] = (struct run_net_info_line){ "/dev/net/tun", "DevNetTun",
                                       tun >= 0 ? xstrdup ("usable")
                                                : xasprintf ("not usable: %s (the default network "
                                                             "needs it; --network none does not)",
                                                             strerror (errno)) };
  if (tun >= 0)
    close (tun);
  l[n++] = (struct run_net_info_line){
    "Host loopback", "HostLoopback",
    xstrdup ("closed to containers (--network libslirp:allow_host_loopback=true or "
             "slirp4netns:allow_host_loopback=true opens it as 10.0.2.2)")
  };
  l[n++] = (struct run_net_info_line){
    "Published ports", "PublishedPorts",
    xstrdup ("nook-ports: the host's sockets, connections made inside the container, "
             "splice(2); the server sees the container's own address, not the client's")
  };
  cleanup_free char *range = read_trimmed_text ("/proc/sys/net/ipv4/ping_group_range");
  for (char *c = range; c && *c; c++)
    if (*c == '\t')
      *c = ' ';
  unsigned lo = 1, hi = 0;
  gid_t g = getgid ();
  bool ping = range && sscanf (range, "%u %u", &lo, &hi) == 2 && lo <= g && g <= hi;
  l[n++] = (struct run_net_info_line){
    "Outbound ping", "OutboundPing",
    ping ? xasprintf ("yes (net.ipv4.ping_group_range '%s' holds gid %u)", range, (unsigned)g)
         : xasprintf ("no: net.ipv4.ping_group_range is '%s', so the user-mode stack cannot open "
                      "ICMP sockets for gid %u (sysctl -w net.ipv4.ping_group_range='0 "
                      "2147483647' allows it); TCP and UDP work",
                      range ? range : "unknown", (unsigned)g)
  };
  return n;
}
