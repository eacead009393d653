/* cmd/run_net.c: see run_net.h. */
#include "cmd/run_net.h"
#include "cmd/netrec.h"
#include "cmd/records.h"
#include "cmd/spec.h"
#include "net/dns.h"
#include "net/forward.h"
#include "net/slirp.h"
#include "net/slirp4netns.h"
#include "net/subnet.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strv_json.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
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

/* fresh: a run (ports as asked); else a start, which binds the host ports of
 * the last run again, or, for a port asked as any free one, another. */
static int
bind_ports (struct run_net *rn, bool fresh, nook_error_t *err)
{
  rn->listen_fds = xzalloc (sizeof *rn->listen_fds * (rn->n_ports ? rn->n_ports : 1));
  for (size_t i = 0; i < rn->n_ports; i++)
    rn->listen_fds[i] = -1;
  if (fresh)
    {
      rn->asked = xreallocarray (rn->asked, rn->n_ports ? rn->n_ports : 1, sizeof *rn->asked);
      if (rn->n_ports)
        memcpy (rn->asked, rn->ports, sizeof *rn->ports * rn->n_ports);
    }
  for (size_t i = 0; i < rn->n_ports; i++)
    {
      cleanup_error nook_error_t e = NULL;
      bool any = rn->asked[i].host_port == 0 || rn->asked[i].host_port_end > 0;
      /* a start right after a stop: the last run's forwarder processes, killed,
       * may still hold the port for a moment (they must be scheduled to exit;
       * on a busy machine that took long enough for `nook restart` to fail, and
       * 1 s of retries was seen too short at load 12 on 2 cores): 10 s of retries
       * before "already allocated" stands (only for a port the container had) */
      for (int tries = 0; !fresh && !any && tries < 500; tries++)
        {
          cleanup_error nook_error_t busy = NULL;
          if ((rn->listen_fds[i] = net_port_bind (&rn->ports[i], &busy)) >= 0
              || strstr (busy->msg, "already allocated") == NULL)
            break;
          nanosleep (&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
        }
      if (rn->listen_fds[i] >= 0)
        continue;
      if ((rn->listen_fds[i] = net_port_bind (&rn->ports[i], fresh || !any ? err : &e)) >= 0)
        continue;
      if (fresh || !any)
        return -1;
      rn->ports[i] = rn->asked[i];
      if ((rn->listen_fds[i] = net_port_bind (&rn->ports[i], err)) < 0)
        return -1;
    }
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
etc_files (const char *name, struct nook_spec *spec, struct run_net *rn, nook_error_t *err)
{
  const struct run_net_req *q = &rn->req;
  cleanup_free char *host = read_text ("/etc/resolv.conf");
  cleanup_free char *resolved = NULL;
  bool user
      = net_mode_user (&rn->mode) || rn->mode.kind == NET_USER || rn->mode.kind == NET_CONTAINER;
  if (user)
    resolved = read_text ("/run/systemd/resolve/resolv.conf");
  /* a user-defined network's name server is its gateway (net/dnsd.h), as
   * Docker's 127.0.0.11; --dns names others (then only the hosts files know
   * the network's containers) */
  cleanup_free char *gw_dns = NULL;
  char *servers[2] = { NULL, NULL };
  if (rn->mode.kind == NET_USER && q->dns == NULL)
    servers[0] = gw_dns = net_addr_format (rn->joined ? rn->join.gateway : rn->gateway);
  struct net_dns_input in = {
    .host_resolv = host,
    .resolved_resolv = resolved,
    .host_network = rn->mode.kind == NET_HOST,
    .user_mode = user,
    .allow_host_loopback = rn->mode.allow_host_loopback,
    .servers = gw_dns ? servers : q->dns,
    .search = q->dns_search,
    .options = q->dns_options,
  };
  cleanup_free char *warning = NULL;
  free (spec->etc_resolv);
  spec->etc_resolv = NULL;
  /* container:NAME asks NAME's name servers (a user network's gateway, its
   * --dns), unless given its own */
  if (rn->mode.kind == NET_CONTAINER && rn->peer_resolv && q->dns == NULL && q->dns_search == NULL
      && q->dns_options == NULL)
    spec->etc_resolv = xstrdup (rn->peer_resolv);
  else if (net_resolv_conf (&in, &spec->etc_resolv, &warning, err) < 0)
    return -1;
  if (warning)
    log_warn ("%s", warning);
  cleanup_free char *why = NULL;
  cleanup_free char *gw = q->add_hosts ? host_gateway (rn, &why) : NULL;
  cleanup_free char *addr = rn->mode.kind == NET_USER && rn->joined
                                ? net_addr_format (rn->join.addr)
                            : net_mode_user (&rn->mode) ? xstrdup ("10.0.2.100")
                                                        : NULL;
  free (spec->etc_hosts);
  spec->etc_hosts = NULL;
  if (net_hosts_file (spec->hostname, name, addr, q->add_hosts, gw, why, &spec->etc_hosts, err) < 0)
    return -1;
  if (rn->mode.kind == NET_USER && rn->joined && rn->join.ipv6)
    {
      /* (its IPv6 address too, as Docker's file has it) */
      cleanup_free char *a6 = net_addr6_format (&rn->join.addr6);
      char *more = xasprintf ("%s%s\t%s%s%s\n", spec->etc_hosts, a6, spec->hostname,
                              name && strcmp (name, spec->hostname) != 0 ? " " : "",
                              name && strcmp (name, spec->hostname) != 0 ? name : "");
      free (spec->etc_hosts);
      spec->etc_hosts = more;
    }
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

static char **
strv_copy (char *const *v)
{
  char **c = NULL;
  for (size_t i = 0; v && v[i]; i++)
    strv_push (&c, v[i]);
  return c;
}

static void
init (struct run_net *rn, const char *root, const char *id)
{
  rn->stack = rn->forwarder = (struct net_helper)NET_HELPER_INIT;
  rn->join = (struct netns_join)NETNS_JOIN_INIT;
  rn->peer_userns = rn->peer_netns = -1;
  rn->prepared = true;
  rn->root = xstrdup (root);
  rn->id = xstrdup (id);
}

/* container:NAME: NAME's namespaces, the container's map relative to NAME's
 * user namespace (unless this process is in it already: a restart) */
static int
open_peer (struct run_net *rn, struct nook_spec *spec, nook_error_t *err)
{
  if (!rn->ids_set)
    {
      rn->ids = spec->ids;
      rn->ids_set = true;
    }
  struct nook_idmapping ids = rn->ids;
  bool inside = false;
  free (rn->peer_resolv);
  rn->peer_resolv = NULL;
  if (netns_container (rn->root, rn->mode.target, &ids, &inside, &rn->peer_userns, &rn->peer_netns,
                       &rn->peer_resolv, err)
      < 0)
    return rn->peer_entered
               ? nook_error_wrap (err,
                                  "container %s has run again since this one joined its "
                                  "namespaces, in a new user namespace this process cannot "
                                  "reach (its runs have user namespaces of their own: a user "
                                  "without a subordinate range, or a container on a "
                                  "user-defined network); `nook start` this container again "
                                  "once %s runs",
                                  rn->mode.target, rn->mode.target)
               : -1;
  rn->peer_entered |= !inside; /* (sandbox_run joins it) */
  if (!inside)
    spec->ids = ids;
  spec->join_netns = true;
  spec->netns_fd = rn->peer_netns;
  spec->join_userns = !inside;
  spec->userns_fd = rn->peer_userns;
  free (spec->keep_userns_dir);
  spec->keep_userns_dir = NULL; /* the parent is the peer's user namespace */
  return 0;
}

/* The ports, what the mode needs checked: shared by run (prepare) and start
 * (restore). */
static int
setup (struct nook_spec *spec, struct run_net *rn, bool fresh, nook_error_t *err)
{
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
  if (bind_ports (rn, fresh, err) < 0)
    return -1;
  if (rn->mode.kind == NET_USER
      && netns_check (rn->root, rn->mode.target, rn->req.ip, &rn->gateway, err) < 0)
    return -1;
  if (rn->mode.kind == NET_CONTAINER && open_peer (rn, spec, err) < 0)
    return -1;
  /* (a user-defined network's holder starts in the kept user namespace, so
   * spec->keep_userns_dir stays until run_net_enter has joined) */
  return 0;
}

int
run_net_prepare (const struct run_opts *o, const json_t *image_config, const char *root,
                 const char *id, struct nook_spec *spec, struct run_net *rn, nook_error_t *err)
{
  init (rn, root, id);
  struct run_net_req *q = &rn->req;
  q->network = o->network ? xstrdup (o->network) : NULL;
  q->name = o->name ? xstrdup (o->name) : NULL;
  q->ip = o->ip ? xstrdup (o->ip) : NULL;
  q->aliases = strv_copy (o->network_aliases);
  q->add_hosts = strv_copy (o->add_hosts);
  q->dns = strv_copy (o->dns);
  q->dns_search = strv_copy (o->dns_search);
  q->dns_options = strv_copy (o->dns_options);
  if (net_mode_parse (q->network, &rn->mode, err) < 0
      || collect_ports (o, image_config, rn, err) < 0 || check_flags (o, rn, err) < 0)
    return -1;
  if (setup (spec, rn, true, err) < 0)
    return -1;
  return etc_files (q->name, spec, rn, err);
}

/* (NULL when there are none: an option not given) */
static char **
json_to_strv (const json_t *a)
{
  char **v = strv_from_json (a);
  if (v[0] == NULL)
    {
      strv_free (v);
      return NULL;
    }
  return v;
}

json_t *
run_net_json (const struct run_net *rn)
{
  const struct run_net_req *q = &rn->req;
  json_t *ports = json_array ();
  for (size_t i = 0; i < rn->n_ports; i++)
    {
      const struct net_port *p = &rn->ports[i], *a = &rn->asked[i];
      json_array_append_new (
          ports, json_pack ("{s:s, s:s, s:i, s:i, s:i, s:i}", "Proto",
                            net_port_proto_name (p->proto), "HostIp", p->host_ip, "HostPort",
                            (int)p->host_port, "AskedPort", (int)a->host_port, "AskedPortEnd",
                            (int)a->host_port_end, "ContainerPort", (int)p->container_port));
    }
  return json_pack ("{s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o, s:o, s:o}", "Network", q->network,
                    "Name", q->name, "Ip", q->ip, "Aliases", strv_to_json (q->aliases), "AddHosts",
                    strv_to_json (q->add_hosts), "Dns", strv_to_json (q->dns), "DnsSearch",
                    strv_to_json (q->dns_search), "DnsOptions", strv_to_json (q->dns_options),
                    "Ports", ports);
}

static char *
jstrdup (const json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? xstrdup (s) : NULL;
}

/* A port asked as "any" whose old host port was taken got another: config.json
 * says the new one (ps, port and inspect read it there). */
static void
record_rebound (const struct run_net *rn, const json_t *ns_ports)
{
  bool changed = false;
  for (size_t i = 0; i < rn->n_ports; i++)
    changed |= rn->ports[i].host_port
               != json_integer_value (json_object_get (json_array_get (ns_ports, i), "HostPort"));
  if (!changed)
    return;
  cleanup_free char *cpath = xasprintf ("%s/containers", rn->root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int d
      = cdir < 0 ? -1 : openat (cdir, rn->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  json_t *cfg = d < 0 ? NULL : container_read_json (cdir, rn->id, "config.json");
  json_t *shown = json_object_get (cfg, "Ports");
  json_t *asked = json_object_get (json_object_get (cfg, "NetSpec"), "Ports");
  cleanup_free char *text = NULL;
  if (json_array_size (shown) == rn->n_ports && json_array_size (asked) == rn->n_ports)
    {
      for (size_t i = 0; i < rn->n_ports; i++)
        {
          json_t *port = json_integer (rn->ports[i].host_port);
          json_object_set (json_array_get (shown, i), "PublicPort", port);
          json_object_set_new (json_array_get (asked, i), "HostPort", port);
        }
      text = json_dumps (cfg, JSON_SORT_KEYS | JSON_COMPACT);
    }
  json_decref (cfg);
  cleanup_error nook_error_t e = NULL;
  if (text == NULL || fs_write_atomic_at (d, "config.json", text, strlen (text), 0600, &e) < 0)
    log_warn ("a published port got a new host port, but the container's record still shows "
              "the old one%s%s",
              e ? ": " : "", e ? e->msg : "");
}

int
run_net_restore (const json_t *config, const char *root, const char *id, struct nook_spec *spec,
                 struct run_net *rn, nook_error_t *err)
{
  init (rn, root, id);
  const json_t *ns = json_object_get (config, "NetSpec");
  if (!json_is_object (ns))
    {
      if (spec->network != NETWORK_NONE && spec->network != NETWORK_HOST)
        {
          log_warn ("this container was made by an older nook, which did not record its "
                    "network: it starts with none (lo only)");
          spec->network = NETWORK_NONE;
        }
      rn->mode.kind = spec->network == NETWORK_HOST ? NET_HOST : NET_NONE;
      return 0;
    }
  struct run_net_req *q = &rn->req;
  q->network = jstrdup (ns, "Network");
  q->name = jstrdup (ns, "Name");
  q->ip = jstrdup (ns, "Ip");
  q->aliases = json_to_strv (json_object_get (ns, "Aliases"));
  q->add_hosts = json_to_strv (json_object_get (ns, "AddHosts"));
  q->dns = json_to_strv (json_object_get (ns, "Dns"));
  q->dns_search = json_to_strv (json_object_get (ns, "DnsSearch"));
  q->dns_options = json_to_strv (json_object_get (ns, "DnsOptions"));
  if (net_mode_parse (q->network, &rn->mode, err) < 0 || spec_network (q->network, spec, err) < 0)
    return -1;
  const json_t *ports = json_object_get (ns, "Ports");
  size_t n = json_array_size (ports), i;
  const json_t *x;
  rn->ports = xzalloc (sizeof *rn->ports * (n ? n : 1));
  rn->asked = xzalloc (sizeof *rn->asked * (n ? n : 1));
  json_array_foreach (ports, i, x)
  {
    struct net_port *p = &rn->ports[rn->n_ports], *a = &rn->asked[rn->n_ports];
    const char *proto = json_string_value (json_object_get (x, "Proto"));
    const char *ip = json_string_value (json_object_get (x, "HostIp"));
    p->proto = proto && strcmp (proto, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
    snprintf (p->host_ip, sizeof p->host_ip, "%s", ip ? ip : "");
    p->container_port = (uint16_t)json_integer_value (json_object_get (x, "ContainerPort"));
    *a = *p;
    p->host_port = (uint16_t)json_integer_value (json_object_get (x, "HostPort"));
    a->host_port = (uint16_t)json_integer_value (json_object_get (x, "AskedPort"));
    a->host_port_end = (uint16_t)json_integer_value (json_object_get (x, "AskedPortEnd"));
    rn->n_ports++;
  }
  /* the record's hosts and resolv.conf stand, but a user-defined network's
   * (run_net_enter) */
  if (setup (spec, rn, false, err) < 0)
    return -1;
  record_rebound (rn, ports);
  return 0;
}

/* Whether this process is in the user namespace of fd already. */
static bool
in_userns (int fd)
{
  struct stat a, b;
  return fd >= 0 && fstat (fd, &a) == 0 && stat ("/proc/self/ns/user", &b) == 0
         && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* The container's name on a network: --name, else the generated one. */
static char *
endpoint_name (const struct run_net *rn)
{
  if (rn->req.name)
    return xstrdup (rn->req.name);
  cleanup_free char *cpath = xasprintf ("%s/containers", rn->root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  json_t *cfg = cdir >= 0 ? container_read_json (cdir, rn->id, "config.json") : NULL;
  const char *n = json_string_value (json_object_get (cfg, "Name"));
  char *name = n && *n ? xstrdup (n[0] == '/' ? n + 1 : n) : NULL;
  json_decref (cfg);
  return name;
}

static void
run_net_unhold (struct run_net *rn)
{
  for (size_t i = 0; i < rn->n_held; i++)
    close (rn->held[i]);
  free (rn->held);
  rn->held = NULL;
  rn->n_held = 0;
}

/* Whether --sysctl sets name (given with dots; the user's may have slashes). */
static bool
sysctl_set (char *const *sysctls, const char *name)
{
  size_t n = strlen (name);
  for (char *const *s = sysctls; s && *s; s++)
    {
      bool same = strlen (*s) > n && (*s)[n] == '=';
      for (size_t i = 0; i < n && same; i++)
        same = (*s)[i] == name[i] || ((*s)[i] == '/' && name[i] == '.');
      if (same)
        return true;
    }
  return false;
}

int
run_net_enter (struct run_net *rn, struct nook_spec *spec, nook_error_t *err)
{
  if (!rn->prepared)
    return 0;
  /* (the forwarder leaves the user's choice alone) */
  rn->cc_chosen = sysctl_set (spec->sysctls, "net.ipv4.tcp_congestion_control");
  if (rn->mode.kind == NET_CONTAINER)
    return rn->peer_userns >= 0 ? 0 /* opened by prepare, for this run */
                                : open_peer (rn, spec, err);
  if (rn->mode.kind != NET_USER)
    return 0;
  /* (this process enters the holder's user namespace, and stays: where the
   * holders' sockets are is decided now) */
  fs_runtime_dir_pin ();
  if (!rn->joined)
    {
      cleanup_free char *name = endpoint_name (rn);
      if (!rn->ids_set)
        {
          rn->ids = spec->ids;
          rn->ids_set = true;
        }
      spec->ids = rn->ids;
      struct netns_endpoint ep = {
        .id = rn->id,
        .name = name,
        .hostname = spec->hostname,
        .aliases = rn->req.aliases,
        .ip = rn->req.ip,
      };
      netns_join_free (&rn->join);
      run_net_unhold (rn);
      netns_hold_connected (rn->root, rn->id, rn->mode.target, &spec->ids, spec->keep_userns_dir,
                            &rn->held, &rn->n_held);
      if (netns_join (rn->root, rn->mode.target, &ep, spec, &rn->join, err) < 0)
        return -1;
      rn->joined = true;
      if (etc_files (name, spec, rn, err) < 0)
        return -1;
    }
  free (spec->keep_userns_dir);
  spec->keep_userns_dir = NULL;
  spec->join_userns = !in_userns (rn->join.userns_fd);
  spec->userns_fd = rn->join.userns_fd;
  return 0;
}

/* container:NAME's namespaces, opened for a run, closed. */
static void
peer_close (struct run_net *rn)
{
  if (rn->peer_userns >= 0)
    close (rn->peer_userns);
  if (rn->peer_netns >= 0)
    close (rn->peer_netns);
  rn->peer_userns = rn->peer_netns = -1;
}

void
run_net_exit (struct run_net *rn, bool final)
{
  if (!rn->prepared)
    return;
  run_net_stop (rn);
  net_helper_reap (&rn->forwarder, !final);
  net_helper_reap (&rn->stack, !final);
  if (rn->mode.kind == NET_USER && rn->joined)
    {
      if (final)
        {
          netns_leave (&rn->join);
          rn->joined = false;
        }
      else
        netns_down (&rn->join);
    }
  peer_close (rn);
}

int
run_net_start (struct run_net *rn, const struct sandbox_netns *ns, nook_error_t *err)
{
  int tap_fd = ns->tap_fd;
  uint32_t addr = htonl (NET_GUEST_ADDR);
  if (rn->mode.kind == NET_USER)
    {
      /* every start and restart: the networks `network connect` added take
       * it again (after the network it started on, whose interface is eth0;
       * containers/ID/networks.json lists them, cmd/netns.h) */
      rn->runs++;
      cleanup_close int hosts = ns->hosts_fd >= 0 ? fcntl (ns->hosts_fd, F_DUPFD_CLOEXEC, 3) : -1;
      if (netns_attach (&rn->join, ns->netns_fd, ns->hosts_fd, NULL, err) < 0)
        return -1;
      if (hosts >= 0)
        netns_reconnect (rn->root, rn->id, rn->mode.target, ns->netns_fd, hosts);
      run_net_unhold (rn);
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
  /* the forwarder gets copies: the sockets stay bound here for the next run
   * (a restart) */
  int *fds = xzalloc (sizeof *fds * rn->n_ports);
  for (size_t i = 0; i < rn->n_ports; i++)
    if ((fds[i] = fcntl (rn->listen_fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
      {
        int e = errno;
        for (size_t k = 0; k < i; k++)
          close (fds[k]);
        free (fds);
        return nook_error_set (err, e, "dup a published port's socket");
      }
  int r = net_forward_start (rn->ports, fds, rn->n_ports, ns->userns_fd, ns->netns_fd, addr,
                             !rn->cc_chosen, &rn->forwarder, err);
  free (fds);
  return r;
}

int
run_net_hook_enter (void *rn, struct nook_spec *spec, nook_error_t *err)
{
  return run_net_enter (rn, spec, err);
}

int
run_net_hook_start (void *rn, const struct sandbox_netns *ns, nook_error_t *err)
{
  return run_net_start (rn, ns, err);
}

void
run_net_hook_exit (void *rn, bool final)
{
  run_net_exit (rn, final);
}

int
run_net_hook_watch (void *data)
{
  struct run_net *rn = data;
  return rn->prepared && rn->mode.kind == NET_USER && rn->joined ? rn->join.conn : -1;
}

char *
run_net_hook_lost (void *data)
{
  struct run_net *rn = data;
  /* (its membership went with the holder: the next run joins anew, and the
   * record must not list it meanwhile) */
  netns_forget (&rn->join);
  netns_join_free (&rn->join);
  rn->joined = false;
  return xasprintf ("nook: warning: network %s: its holder (nook-netns) has ended: the container "
                    "is cut off from the network until it runs again (nook restart)\n",
                    rn->mode.target);
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
  run_net_unhold (rn);
  if (rn->joined)
    netns_leave (&rn->join);
  rn->joined = false;
  netns_join_free (&rn->join);
  struct run_net_req *q = &rn->req;
  free (q->network);
  free (q->name);
  free (q->ip);
  strv_free (q->aliases);
  strv_free (q->add_hosts);
  strv_free (q->dns);
  strv_free (q->dns_search);
  strv_free (q->dns_options);
  memset (q, 0, sizeof *q);
  free (rn->root);
  free (rn->id);
  free (rn->asked);
  free (rn->peer_resolv);
  rn->peer_resolv = NULL;
  rn->root = rn->id = NULL;
  rn->asked = NULL;
  peer_close (rn);
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
             "splice(2); TCP: the server sees the client's address as it is (a loopback "
             "client's as 127.0.0.1; another's through IP_TRANSPARENT and a fwmark rule with "
             "a local route in the container's namespace, which its root can see; IPv6 "
             "clients but ::1 as the container's own address); UDP: a loopback client's "
             "address as it is, other clients as the container's own address")
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

/* ---- inspect ---- */

/* A record's "ADDR/PREFIX" (or NULL) as addr ("" without) and the prefix
 * returned (0 without). */
static int
cidr_parts (const char *cidr, char addr[static 64])
{
  snprintf (addr, 64, "%s", cidr ? cidr : "");
  char *slash = strchr (addr, '/');
  if (slash == NULL)
    return 0;
  *slash = '\0';
  return atoi (slash + 1);
}

static json_t *
endpoint_json (const char *net_id, const char *gw, const char *cidr, json_t *aliases,
               const char *gw6, const char *cidr6)
{
  char addr[64], addr6[64];
  int prefix = cidr_parts (cidr, addr), prefix6 = cidr_parts (cidr6, addr6);
  return json_pack ("{s:s, s:s, s:s, s:s, s:i, s:O?, s:s, s:s, s:s, s:i}", "NetworkID",
                    net_id ? net_id : "", "EndpointID", "", "Gateway", *addr && gw ? gw : "",
                    "IPAddress", addr, "IPPrefixLen", prefix, "Aliases", aliases, "MacAddress", "",
                    "IPv6Gateway", *addr6 && gw6 ? gw6 : "", "GlobalIPv6Address", addr6,
                    "GlobalIPv6PrefixLen", prefix6);
}

json_t *
run_net_inspect (const char *root, const char *id, const json_t *config, bool running)
{
  json_t *nets = json_object (), *ports = json_object ();
  const char *mode = json_string_value (json_object_get (config, "NetworkMode"));
  const json_t *ns = json_object_get (config, "NetSpec");
  const char *asked = json_string_value (json_object_get (ns, "Network"));
  struct net_mode m;
  cleanup_error nook_error_t e = NULL;
  bool user = net_mode_parse (asked, &m, &e) == 0 && m.kind == NET_USER;
  bool own = e == NULL && (net_mode_user (&m));
  /* the user-defined networks it is on (the records list their live members) */
  json_t *recs = netrec_list (root), *rec;
  /* and those `network connect` added, listed also while it is stopped */
  json_auto_t *connected = netrec_connected (root, id);
  size_t i;
  json_array_foreach (recs, i, rec)
  {
    const char *name = json_string_value (json_object_get (rec, "Name"));
    json_t *ep = json_object_get (json_object_get (rec, "Containers"), id);
    bool asked_here = user && name && strcmp (name, m.target) == 0;
    json_t *added = name ? json_object_get (connected, name) : NULL;
    if (name == NULL || (ep == NULL && !asked_here && added == NULL))
      continue;
    json_t *cfgs = json_object_get (json_object_get (rec, "IPAM"), "Config");
    json_t *cfg = json_array_get (cfgs, 0), *cfg6 = json_array_get (cfgs, 1);
    json_object_set_new (nets, name,
                         endpoint_json (json_string_value (json_object_get (rec, "Id")),
                                        json_string_value (json_object_get (cfg, "Gateway")),
                                        json_string_value (json_object_get (ep, "IPv4Address")),
                                        json_object_get (ep ? ep : added, "Aliases"),
                                        json_string_value (json_object_get (cfg6, "Gateway")),
                                        json_string_value (json_object_get (ep, "IPv6Address"))));
  }
  json_decref (recs);
  /* the default network (and slirp4netns): the same address in every container */
  if (own && mode)
    json_object_set_new (
        nets, mode,
        endpoint_json ("", "10.0.2.2", running ? "10.0.2.100/24" : "", NULL, NULL, NULL));
  size_t n = 0;
  struct net_port *v = running ? container_ports (config, &n) : NULL;
  for (size_t k = 0; k < n; k++)
    {
      cleanup_free char *key
          = xasprintf ("%u/%s", (unsigned)v[k].container_port, net_port_proto_name (v[k].proto));
      cleanup_free char *hp = xasprintf ("%u", (unsigned)v[k].host_port);
      json_t *list = json_object_get (ports, key);
      if (list == NULL)
        json_object_set_new (ports, key, list = json_array ());
      json_array_append_new (list,
                             json_pack ("{s:s, s:s}", "HostIp",
                                        *v[k].host_ip ? v[k].host_ip : "0.0.0.0", "HostPort", hp));
    }
  free (v);
  json_t *out = json_pack ("{s:o, s:o}", "Ports", ports, "Networks", nets);
  json_t *bridge = mode ? json_object_get (nets, mode) : NULL;
  if (own && bridge)
    {
      json_object_set (out, "IPAddress", json_object_get (bridge, "IPAddress"));
      json_object_set (out, "Gateway", json_object_get (bridge, "Gateway"));
      json_object_set (out, "IPPrefixLen", json_object_get (bridge, "IPPrefixLen"));
    }
  return out;
}
