/* cmd/netns.c: see netns.h. */
#include "cmd/events.h"
#include "cmd/netns.h"
#include "cmd/netns_holder.h"
#include "cmd/netrec.h"
#include "cmd/records.h"
#include "net/link.h"
#include "net/mode.h"
#include "net/slirp.h"
#include "net/subnet.h"
#include "sandbox/netif.h"
#include "sandbox/title.h"
#include "sandbox/userns.h"
#include "sandbox/userns_keep.h"
#include "util/cleanup.h"
#include "util/fs_read.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/test_hook.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- id maps relative to another user namespace ---- */

static int
translate (struct nook_idmap *m, size_t n, pid_t pid, const char *file, nook_error_t *err)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, file);
  cleanup_free char *text = NULL;
  if (fs_read_file_at (AT_FDCWD, path, 1 << 16, &text, NULL, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      bool done = false;
      const char *cur = text;
      char *line;
      while (!done && (line = str_next_line (&cur)))
        {
          unsigned long in, out, cnt;
          if (sscanf (line, "%lu %lu %lu", &in, &out, &cnt) == 3 && m[i].outside >= out
              && (uint64_t)m[i].outside + m[i].count <= (uint64_t)out + cnt)
            {
              m[i].outside = (uint32_t)(in + (m[i].outside - out));
              done = true;
            }
          free (line);
        }
      if (!done)
        return nook_error_set (err, 0,
                               "host id %u is not mapped in the user namespace to join (%s)",
                               m[i].outside, path);
    }
  return 0;
}

static int
translate_ids (struct nook_idmapping *ids, pid_t pid, nook_error_t *err)
{
  if (translate (ids->uid, ids->n_uid, pid, "uid_map", err) < 0
      || translate (ids->gid, ids->n_gid, pid, "gid_map", err) < 0)
    return -1;
  ids->use_helpers = false; /* written by nook, root of the parent namespace */
  return 0;
}

/* ---- joining ---- */

static int
connect_to (const char *path)
{
  int s = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s", path);
  /* the holder's answers (HELLO, JOIN, DOWN, BYE) come in milliseconds: a
   * holder that gives none in 30 s is wedged, and this nook must not wait on
   * it forever (its supervisor's watch of the connection is a poll) */
  struct timeval tv = { .tv_sec = 30 };
  if (s >= 0 && setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0
      && connect (s, (struct sockaddr *)&sa, sizeof sa) == 0)
    return s;
  if (s >= 0)
    close (s);
  return -1;
}

static int
pick_address (json_t *rec, const char *net, const char *ip, const struct net_subnet *sn,
              uint32_t gw, uint32_t *out, nook_error_t *err)
{
  json_t *eps = json_object_get (rec, "Containers");
  size_t n = 0;
  cleanup_free uint32_t *used = xzalloc (sizeof *used * (json_object_size (eps) + 1));
  used[n++] = gw;
  const char *k;
  json_t *ep;
  json_object_foreach (eps, k, ep)
  {
    cleanup_free char *a = xstrdup (json_string_value (json_object_get (ep, "IPv4Address")));
    a[strcspn (a, "/")] = '\0';
    if (net_addr_parse (a, &used[n]) == 0)
      n++;
  }
  cleanup_free char *sns = net_subnet_format (sn);
  if (ip == NULL)
    {
      *out = net_subnet_alloc (sn, used, n);
      if (*out == 0)
        return nook_error_set (err, 0, "network %s has no free address left in %s", net, sns);
      return 0;
    }
  uint32_t a;
  if (net_addr_parse (ip, &a) < 0)
    return nook_error_set (err, 0, "invalid --ip '%s': want an IPv4 address", ip);
  uint32_t last = sn->addr | (sn->prefix == 32 ? 0 : ~0u >> sn->prefix);
  if (!net_subnet_contains (sn, a) || a == sn->addr || a == last)
    return nook_error_set (err, 0, "invalid --ip %s: not a host address of network %s (%s)", ip,
                           net, sns);
  for (size_t i = 0; i < n; i++)
    if (used[i] == a)
      return nook_error_set (err, 0, "invalid --ip %s: address already in use on network %s%s", ip,
                             net, i == 0 ? " (its gateway)" : "");
  *out = a;
  return 0;
}

static char *
hosts_line (const char *addr, const struct netns_endpoint *ep)
{
  struct strbuf b = { 0 };
  strbuf_appendf (&b, "%s\t", addr);
  if (ep->name)
    strbuf_appendf (&b, "%s ", ep->name);
  for (size_t i = 0; ep->aliases && ep->aliases[i]; i++)
    strbuf_appendf (&b, "%s ", ep->aliases[i]);
  strbuf_appendf (&b, "%.12s", ep->id);
  return strbuf_steal (&b);
}

/* The holder's IPv6 arguments from the network's record. */
static void
holder_args_ipv6 (struct netns_holder_args *a, const json_t *rec)
{
  struct net_subnet6 s6;
  a->ipv6 = netrec_subnet6 (rec, &s6, &a->gateway6) == 0;
  a->prefix6 = a->ipv6 ? s6.prefix : 0;
}

/* Record the endpoint and reach the holder, under the lock. */
static int
join_locked (const char *root, const char *net, const struct netns_endpoint *ep,
             const struct nook_idmapping *ids, const char *keep_dir, int tree_fd,
             struct netns_join *j, nook_error_t *err)
{
  cleanup_close int lock = netrec_lock (root, err);
  if (lock < 0)
    return -1;
  json_auto_t *rec = netrec_load (root, net, err);
  if (rec == NULL)
    return -1;
  json_t *members = json_object_get (rec, "Containers");
  bool again = json_object_get (members, ep->id) != NULL;
  if (again)
    {
      if (!ep->replace)
        return nook_error_set (err, 0, "endpoint with name %s already exists in network %s",
                               ep->name ? ep->name : ep->id, net);
      json_object_del (members, ep->id); /* (its address may be taken again) */
    }
  struct net_subnet sn;
  if (netrec_subnet (rec, &sn, &j->gateway) < 0)
    return nook_error_set (err, 0, "network %s: its record has no valid subnet", net);
  j->prefix = sn.prefix;
  j->net = xstrdup (json_string_value (json_object_get (rec, "Name")));
  if (pick_address (rec, j->net, ep->ip, &sn, j->gateway, &j->addr, err) < 0)
    return -1;
  cleanup_free char *addr = net_addr_format (j->addr);
  cleanup_free char *cidr = xasprintf ("%s/%u", addr, sn.prefix);
  j->line = hosts_line (addr, ep);
  /* --ipv6: the IPv6 address of the same host number (Docker allocates both
   * in the same order), a second hosts line */
  struct net_subnet6 s6;
  cleanup_free char *cidr6 = NULL;
  j->ipv6 = netrec_subnet6 (rec, &s6, &j->gateway6) == 0;
  if (j->ipv6)
    {
      j->prefix6 = s6.prefix;
      net_subnet6_host (&s6, j->addr - sn.addr, &j->addr6);
      cleanup_free char *a6 = net_addr6_format (&j->addr6);
      cidr6 = xasprintf ("%s/%u", a6, s6.prefix);
      cleanup_free char *line6 = hosts_line (a6, ep);
      char *both = xasprintf ("%s\n%s", j->line, line6);
      free (j->line);
      j->line = both;
    }
  json_t *aliases = json_array ();
  for (size_t i = 0; ep->aliases && ep->aliases[i]; i++)
    json_array_append_new (aliases, json_string (ep->aliases[i]));
  json_object_set_new (
      json_object_get (rec, "Containers"), ep->id,
      json_pack ("{s:s, s:s, s:s, s:o, s:I, s:I}", "Name", ep->name ? ep->name : "", "IPv4Address",
                 cidr, "IPv6Address", cidr6 ? cidr6 : "", "Aliases", aliases, "NookPid",
                 (json_int_t)(ep->nook ? ep->nook : getpid ()), "NookStart",
                 (json_int_t)container_proc_start (ep->nook ? ep->nook : getpid ())));
  if (netrec_save (root, rec, false, err) < 0)
    return -1;
  if (!again)
    netns_event (root, json_string_value (json_object_get (rec, "Id")), j->net, ep->id, true);
  cleanup_free char *path = netrec_socket_path (rec, err);
  if (path == NULL)
    return -1;
  j->conn = connect_to (path);
  if (j->conn < 0)
    {
      struct netns_holder_args a = { .root = root,
                                     .net = j->net,
                                     .path = path,
                                     .ids = ids,
                                     .keep_dir = keep_dir,
                                     .gateway = j->gateway,
                                     .prefix = sn.prefix,
                                     .internal = json_is_true (json_object_get (rec, "Internal")),
                                     .userns_fd = tree_fd };
      holder_args_ipv6 (&a, rec);
      if (netns_holder_start (&a, err) < 0)
        return -1;
      j->conn = connect_to (path);
      if (j->conn < 0)
        return nook_error_set (err, errno, "reach the holder of network %s at '%s'", j->net, path);
    }
  return 0;
}

/* Record the endpoint, reach the holder and have it count `ep->nook` (or
 * this nook); get the network's namespaces.  A holder started here starts in
 * tree_fd's user namespace when >= 0, else in the kept one. */
static int
join_holder (const char *root, const char *net, const struct netns_endpoint *ep,
             const struct nook_idmapping *ids, const char *keep_dir, int tree_fd,
             struct netns_join *j, nook_error_t *err)
{
  j->root = xstrdup (root);
  j->id = xstrdup (ep->id);
  if (join_locked (root, net, ep, ids, keep_dir, tree_fd, j, err) < 0)
    return -1;
  /* (the holder counts this nook from now on: no lock, it may need it) */
  pid_t who = ep->nook ? ep->nook : getpid ();
  int self = (int)syscall (SYS_pidfd_open, who, 0);
  if (self < 0)
    return nook_error_set (err, errno, "pidfd_open");
  cleanup_free char *hello = xasprintf ("HELLO %s", ep->id);
  int rc = netns_send (j->conn, hello, &self, 1);
  close (self);
  int fds[4] = { -1, -1, -1, -1 };
  size_t nf = 0;
  cleanup_free char *reply = rc == 0 ? netns_recv (j->conn, fds, &nf) : NULL;
  if (reply == NULL || strcmp (reply, "OK") != 0 || nf != 2)
    {
      netns_close_fds (fds, nf);
      return nook_error_set (err, 0, "network %s: its holder refused: %s", j->net,
                             reply ? reply : "no answer");
    }
  j->netns_fd = fds[0];
  j->userns_fd = fds[1];
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt (j->conn, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
    return nook_error_set (err, errno, "the holder of network %s", j->net);
  j->holder = cr.pid;
  return 0;
}

int
netns_join (const char *root, const char *net, const struct netns_endpoint *ep,
            struct nook_spec *spec, struct netns_join *j, nook_error_t *err)
{
  if (join_holder (root, net, ep, &spec->ids, spec->keep_userns_dir, -1, j, err) < 0)
    return -1;
  /* the container's user namespace: a child of the holder's */
  if (translate_ids (&spec->ids, j->holder, err) < 0)
    return nook_error_wrap (err, "network %s", j->net);
  return 0;
}

/* In a fork: the veth pair, `peer` in the container (NULL: the first free
 * ethN, for `network connect`; that one gets no default route). */
static int
configure_veth (struct netns_join *j, int cnet, const char *peer, nook_error_t *err)
{
  char vname[16], pname[16];
  snprintf (vname, sizeof vname, "nk%.10s", j->id);
  bool route = peer != NULL;
  if (peer == NULL)
    {
      if (setns (cnet, CLONE_NEWNET) < 0)
        return nook_error_set (err, errno,
                               "the container's user namespace is not below the network's, "
                               "so no interface can be moved into it (the kernel's rule: a "
                               "user without a subordinate range can connect a container "
                               "started on a user-defined network, not one on bridge; start "
                               "it with --network %s)",
                               j->net);
      for (int k = 0; k < 100; k++)
        {
          snprintf (pname, sizeof pname, "eth%d", k);
          if (if_nametoindex (pname) == 0)
            break;
        }
      peer = pname;
    }
  if (setns (j->netns_fd, CLONE_NEWNET) < 0)
    return nook_error_set (err, errno, "enter network %s", j->net);
  cleanup_error nook_error_t ex = NULL;
  if (net_link_veth_add (vname, peer, cnet, 0, &ex) < 0)
    {
      /* the previous run's, whose namespace the kernel has not torn down yet
       * (a restart): deleting our end deletes the pair */
      if (ex->code != EEXIST)
        {
          *err = steal_pointer (&ex);
          return -1;
        }
      cleanup_error nook_error_t ed = NULL;
      net_link_delete (vname, &ed);
      if (net_link_veth_add (vname, peer, cnet, 0, err) < 0)
        return -1;
    }
  if (net_link_bridge_attach (NETNS_BRIDGE, vname, err) < 0
      || net_link_configure (vname, 0, 0, 0, 0, err) < 0)
    return -1;
  if (setns (cnet, CLONE_NEWNET) < 0)
    return nook_error_set (err, errno, "enter the container's network namespace");
  /* IPv4 only, as Docker's networks without --ipv6; with it, the address
   * (no duplicate address detection: usable at once) and no default route
   * (no IPv6 uplink: a program tries IPv4 at once, not after a timeout) */
  cleanup_error nook_error_t e6 = NULL;
  cleanup_free char *v6
      = xasprintf ("net/ipv6/conf/%s/%s", peer, j->ipv6 ? "accept_dad" : "disable_ipv6");
  if (net_link_sysctl (v6, j->ipv6 ? "0" : "1", &e6) < 0 && j->ipv6)
    return nook_error_set (err, e6->code, "network %s: %s", j->net, e6->msg);
  /* An address is often one a container that left had: the others' ARP and
   * neighbour caches still name its Ethernet address, for seconds.  So the
   * interface announces itself when it comes up (a gratuitous ARP; an
   * unsolicited neighbour advertisement for the IPv6 address, added first). */
  cleanup_error nook_error_t en = NULL;
  cleanup_free char *arpn = xasprintf ("net/ipv4/conf/%s/arp_notify", peer);
  cleanup_free char *ndn = xasprintf ("net/ipv6/conf/%s/ndisc_notify", peer);
  net_link_sysctl (arpn, "1", &en);
  if (j->ipv6)
    net_link_sysctl (ndn, "1", &en);
  if (j->ipv6 && net_link_addr6 (peer, &j->addr6, j->prefix6, err) < 0)
    return -1;
  if (net_link_configure (peer, 0, htonl (j->addr), j->prefix, route ? htonl (j->gateway) : 0, err)
      < 0)
    return -1;
  /* ping without CAP_NET_RAW for every group of the namespace, as Docker
   * does (net.ipv4.ping_group_range; the gids must be mapped here) */
  cleanup_free char *gm = NULL;
  cleanup_error nook_error_t e = NULL;
  uint64_t lo = UINT32_MAX, hi = 0;
  if (fs_read_file_at (AT_FDCWD, "/proc/self/gid_map", 4096, &gm, NULL, &e) == 0)
    {
      const char *cur = gm;
      char *line;
      while ((line = str_next_line (&cur)))
        {
          unsigned long in, out, cnt;
          if (sscanf (line, "%lu %lu %lu", &in, &out, &cnt) == 3 && cnt > 0)
            {
              lo = in < lo ? in : lo;
              hi = in + cnt - 1 > hi ? in + cnt - 1 : hi;
            }
          free (line);
        }
    }
  if (lo <= hi)
    {
      char v[64];
      snprintf (v, sizeof v, "%lu %lu", (unsigned long)lo,
                (unsigned long)(hi > INT32_MAX - 1 ? INT32_MAX - 1 : hi));
      cleanup_error nook_error_t e2 = NULL;
      net_link_sysctl ("net/ipv4/ping_group_range", v, &e2);
    }
  return 0;
}

/* The veth (in a fork that joins `userns_fd` first when >= 0), then the
 * hosts file to the holder. */
static int
attach (struct netns_join *j, int userns_fd, int cnet, const char *peer, int hosts_fd,
        bool keep_conn, nook_error_t *err)
{
  cleanup_close int hosts = hosts_fd;
  int ep[2];
  if (pipe2 (ep, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (ep[0]);
      cleanup_error nook_error_t e = NULL;
      if (userns_fd >= 0 && setns (userns_fd, CLONE_NEWUSER) < 0)
        nook_error_set (&e, errno,
                        "join the user namespace of network %s (a container can be "
                        "connected only when its user namespace is below the network's: "
                        "start it with --network %s, or as a user with a subordinate range)",
                        j->net, j->net);
      if (e || configure_veth (j, cnet, peer, &e) < 0)
        {
          netns_say (ep[1], e->msg);
          if (e->code)
            {
              netns_say (ep[1], ": ");
              netns_say (ep[1], strerror (e->code));
            }
          _exit (1);
        }
      _exit (0);
    }
  close (ep[1]);
  char buf[1024];
  ssize_t n = 0, r;
  /* (all of it: the child says it in parts) */
  while (
      pid >= 0 && (size_t)n < sizeof buf - 1
      && ((r = read (ep[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0 || (r < 0 && errno == EINTR)))
    n += r > 0 ? r : 0;
  close (ep[0]);
  int st = 0;
  if (pid > 0)
    waitpid (pid, &st, 0);
  if (pid < 0 || n > 0 || !WIFEXITED (st) || WEXITSTATUS (st) != 0)
    {
      buf[n > 0 ? n : 0] = '\0';
      return nook_error_set (err, 0, "network %s: %s", j->net, n > 0 ? buf : "veth setup failed");
    }
  json_auto_t *msg = json_pack ("{s:s}", "line", j->line);
  cleanup_free char *text = json_dumps (msg, JSON_COMPACT);
  cleanup_free char *join = xasprintf ("JOIN %s", text);
  int fds[4];
  size_t nf = 0;
  cleanup_free char *reply
      = netns_send (j->conn, join, &hosts, 1) == 0 ? netns_recv (j->conn, fds, &nf) : NULL;
  netns_close_fds (fds, nf);
  if (reply == NULL || strcmp (reply, "OK") != 0)
    return nook_error_set (err, 0, "network %s: its holder refused the container: %s", j->net,
                           reply ? reply : "no answer");
  if (!keep_conn)
    {
      close (j->conn);
      j->conn = -1;
    }
  return 0;
}

/* A request on the member's own connection (DOWN, BYE). */
static void
tell_holder (struct netns_join *j, const char *what)
{
  if (j->conn < 0)
    return;
  int fds[4];
  size_t nf = 0;
  cleanup_free char *reply
      = netns_send (j->conn, what, NULL, 0) == 0 ? netns_recv (j->conn, fds, &nf) : NULL;
  netns_close_fds (fds, nf);
  if (reply == NULL || strcmp (reply, "OK") != 0)
    log_debug ("network %s: %s: %s", j->net, what, reply ? reply : "no answer");
}

void
netns_down (struct netns_join *j)
{
  tell_holder (j, "DOWN");
}

void
netns_forget (struct netns_join *j)
{
  if (j->root == NULL || j->net == NULL || j->id == NULL)
    return;
  cleanup_error nook_error_t e = NULL;
  cleanup_close int lock = netrec_lock (j->root, &e);
  json_auto_t *rec = lock >= 0 ? netrec_load (j->root, j->net, &e) : NULL;
  if (rec && json_object_del (json_object_get (rec, "Containers"), j->id) == 0)
    {
      netrec_save (j->root, rec, false, &e);
      netns_event (j->root, json_string_value (json_object_get (rec, "Id")), j->net, j->id, false);
    }
}

void
netns_event (const char *root, const char *net_id, const char *net, const char *id, bool connect)
{
  /* Docker's: the network's ID, its name and driver, the container's ID */
  events_record (root, "network", connect ? "connect" : "disconnect", net_id ? net_id : net,
                 json_pack ("{s:s, s:s, s:s}", "container", id, "name", net, "type", "bridge"));
}

void
netns_leave (struct netns_join *j)
{
  tell_holder (j, "BYE");
  if (j->conn >= 0)
    close (j->conn);
  j->conn = -1;
}

int
netns_attach (struct netns_join *j, int cnet, int hosts_fd, const char *own_hosts,
              nook_error_t *err)
{
  (void)own_hosts; /* (already in the file: the holder appends its section) */
  return attach (j, -1, cnet, "eth0", hosts_fd, true, err);
}

void
netns_join_free (struct netns_join *j)
{
  if (j->conn >= 0)
    close (j->conn);
  if (j->netns_fd >= 0)
    close (j->netns_fd);
  if (j->userns_fd >= 0)
    close (j->userns_fd);
  free (j->root);
  free (j->net);
  free (j->id);
  free (j->line);
  *j = (struct netns_join)NETNS_JOIN_INIT;
}

/* ---- container:NAME ---- */

/* The first child of pid (from /proc/PID/task/PID/children), or 0. */
static pid_t
first_child (pid_t pid, bool want_pid_ns_init)
{
  char path[80];
  snprintf (path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, path, 1 << 16, &text, NULL, &e) < 0)
    return 0;
  for (char *save = NULL, *t = strtok_r (text, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
    {
      pid_t c = (pid_t)atoi (t);
      if (!want_pid_ns_init)
        return c;
      /* the container's init is PID 1 of its namespace: "NSpid: N 1" */
      char sp[64];
      snprintf (sp, sizeof sp, "/proc/%d/status", (int)c);
      cleanup_free char *status = NULL;
      cleanup_error nook_error_t e2 = NULL;
      if (fs_read_file_at (AT_FDCWD, sp, 1 << 16, &status, NULL, &e2) < 0)
        continue;
      const char *ns = strstr (status, "\nNSpid:");
      if (ns)
        {
          const char *eol = strchr (ns + 1, '\n');
          if (eol && eol - ns > 2 && eol[-1] == '1' && (eol[-2] == '\t' || eol[-2] == ' '))
            return c;
        }
    }
  return 0;
}

/* A running container: its ID, name, the pid and start time of its nook,
 * and its command's pid (the init's first child: the init is not dumpable,
 * the command's /proc files are open to the user owning its namespaces). */
struct running
{
  char id[72], name[136];
  pid_t nook, cmd;
  unsigned long long start;
};

static int
find_running (const char *root, const char *ref, struct running *c, const char *what,
              nook_error_t *err)
{
  cleanup_free char *cdir_path = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cdir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char target[72] = "";
  cleanup_free char *link = xasprintf (".names/%s", ref);
  ssize_t n = cdir >= 0 && strchr (ref, '/') == NULL
                  ? readlinkat (cdir, link, target, sizeof target - 1)
                  : -1;
  if (n > 0)
    target[n] = '\0';
  else
    snprintf (target, sizeof target, "%s", ref);
  json_auto_t *cfg = cdir >= 0 && strchr (target, '/') == NULL && target[0] != '.'
                         ? container_read_json (cdir, target, "config.json")
                         : NULL;
  if (cfg == NULL)
    return nook_error_set (err, 0, "%sNo such container: %s", what, ref);
  snprintf (c->id, sizeof c->id, "%s", target);
  const char *nm = json_string_value (json_object_get (cfg, "Name"));
  snprintf (c->name, sizeof c->name, "%s", nm ? (nm[0] == '/' ? nm + 1 : nm) : "");
  c->nook = (pid_t)json_integer_value (json_object_get (cfg, "Pid"));
  c->start = (unsigned long long)json_integer_value (json_object_get (cfg, "PidStart"));
  /* the nook that runs it: the one that made it (a foreground run without a
   * supervisor's state), else its supervisor (run -d, start, a foreground run
   * that supervises itself) */
  struct container_state st;
  container_state_read (cdir, target, &st);
  bool sup
      = st.sup_pid > 0 && strcmp (st.status, "exited") != 0 && strcmp (st.status, "created") != 0;
  if (sup)
    {
      c->nook = st.sup_pid;
      c->start = st.sup_start;
    }
  container_state_clear (&st);
  if (c->nook <= 0 || container_proc_start (c->nook) != c->start)
    return nook_error_set (err, 0, "%scontainer %s is not running", what, ref);
  pid_t init = first_child (c->nook, true);
  c->cmd = init > 0 ? first_child (init, false) : 0;
  if (c->cmd <= 0)
    return nook_error_set (err, 0, "%scontainer %s: its command is not running", what, ref);
  return 0;
}

static int
open_ns (pid_t pid, const char *which, const char *ref, nook_error_t *err)
{
  char p[64];
  snprintf (p, sizeof p, "/proc/%d/ns/%s", (int)pid, which);
  int fd = open (p, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open the %s namespace of container %s", which, ref);
  return fd;
}

int
netns_check (const char *root, const char *net, const char *ip, uint32_t *gateway,
             nook_error_t *err)
{
  json_auto_t *rec = netrec_load (root, net, err);
  if (rec == NULL)
    return -1;
  struct net_subnet sn;
  uint32_t gw, addr;
  if (netrec_subnet (rec, &sn, &gw) < 0)
    return nook_error_set (err, 0, "network %s: its record has no valid subnet", net);
  *gateway = gw;
  return pick_address (rec, net, ip, &sn, gw, &addr, err);
}

static bool
in_userns (int fd)
{
  struct stat a, b;
  return fstat (fd, &a) == 0 && stat ("/proc/self/ns/user", &b) == 0 && a.st_ino == b.st_ino
         && a.st_dev == b.st_dev;
}

int
netns_container (const char *root, const char *name, struct nook_idmapping *ids, bool *inside,
                 int *userns_fd, int *netns_fd, char **resolv, nook_error_t *err)
{
  struct running c;
  cleanup_free char *what = xasprintf ("invalid --network container:%s: ", name);
  if (find_running (root, name, &c, what, err) < 0)
    return -1;
  cleanup_close int u = open_ns (c.cmd, "user", name, err);
  if (u < 0)
    return -1;
  cleanup_close int nf = open_ns (c.cmd, "net", name, err);
  if (nf < 0)
    return -1;
  *inside = in_userns (u);
  if (!*inside && translate_ids (ids, c.cmd, err) < 0)
    return nook_error_wrap (err, "--network container:%s", name);
  if (resolv)
    {
      char p[64];
      snprintf (p, sizeof p, "/proc/%d/root", (int)c.cmd);
      cleanup_close int rootfd = open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);
      cleanup_error nook_error_t e = NULL;
      *resolv = NULL;
      if (rootfd >= 0)
        fs_read_in_root (rootfd, "/etc/resolv.conf", 1 << 16, resolv, NULL, &e);
    }
  /* still the same process: the fds are its namespaces (and the file its) */
  if (container_proc_start (c.nook) != c.start)
    return nook_error_set (err, 0, "container %s ended", name);
  *userns_fd = take_fd (&u);
  *netns_fd = take_fd (&nf);
  return 0;
}

/* Whether user namespace `anc` is `fd`'s or one of its ancestors below ours. */
static bool
userns_at_or_above (int anc, int fd)
{
  struct stat a, self, st;
  if (fstat (anc, &a) < 0 || stat ("/proc/self/ns/user", &self) < 0)
    return false;
  int cur = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  bool found = false;
  for (int depth = 0; cur >= 0 && !found && depth < 40 && fstat (cur, &st) == 0; depth++)
    {
      found = st.st_ino == a.st_ino && st.st_dev == a.st_dev;
      if (found || (st.st_ino == self.st_ino && st.st_dev == self.st_dev))
        break;
      int p = ioctl (cur, NS_GET_PARENT);
      close (cur);
      cur = p;
    }
  if (cur >= 0)
    close (cur);
  return found;
}

static int
connect_usage (bool connect)
{
  if (connect)
    printf ("Usage:  nook network connect [OPTIONS] NETWORK CONTAINER\n\nConnect a container "
            "to a network\n\nOptions:\n      --alias strings   Add network-scoped alias for "
            "the container\n      --ip string       IPv4 address (e.g., \"172.30.100.104\")\n");
  else
    printf ("Usage:  nook network disconnect NETWORK CONTAINER\n\nDisconnect a container from "
            "a network\n");
  return 0;
}

/* ---- the networks `network connect` added: containers/ID/networks.json,
 * {"NET": {"Aliases": [...], "IPv4Address": "a.b.c.d" or ""}}; kept across
 * stop/start, dropped by `network disconnect` (under networks/.lock; read by netrec_connected) ----
 */

static char *
container_name_of (const char *root, const char *id)
{
  cleanup_free char *cdir_path = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cdir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  json_auto_t *cfg = cdir >= 0 ? container_read_json (cdir, id, "config.json") : NULL;
  const char *nm = json_string_value (json_object_get (cfg, "Name"));
  if (nm == NULL || *nm == '\0')
    return NULL;
  return xstrdup (nm[0] == '/' ? nm + 1 : nm);
}

static int
connected_save (const char *root, const char *id, json_t *v, nook_error_t *err)
{
  cleanup_free char *dir_path = xasprintf ("%s/containers/%s", root, id);
  cleanup_close int dir = open (dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return nook_error_set (err, errno, "open '%s'", dir_path);
  cleanup_free char *text = json_dumps (v, JSON_COMPACT);
  return fs_write_atomic_at (dir, "networks.json", text, strlen (text), 0600, err);
}

/* Record (keep) or forget network net of container id. */
static int
connected_update (const char *root, const char *id, const char *net, bool keep, char **aliases,
                  const char *ip, nook_error_t *err)
{
  cleanup_close int lock = netrec_lock (root, err);
  if (lock < 0)
    return -1;
  json_auto_t *v = netrec_connected (root, id);
  if (!keep)
    {
      if (json_object_del (v, net) < 0)
        return 0;
    }
  else
    {
      json_t *a = json_array ();
      for (size_t i = 0; aliases && aliases[i]; i++)
        json_array_append_new (a, json_string (aliases[i]));
      json_object_set_new (v, net,
                           json_pack ("{s:o, s:s}", "Aliases", a, "IPv4Address", ip ? ip : ""));
    }
  return connected_save (root, id, v, err);
}

static int
disconnect (const char *root, const char *net, const char *ref, nook_error_t *err)
{
  struct running c = { 0 };
  cleanup_error nook_error_t nerr = NULL;
  bool running = find_running (root, ref, &c, "", &nerr) == 0;
  if (c.id[0] == '\0')
    {
      if (err)
        {
          *err = nerr;
          nerr = NULL;
        }
      return -1;
    }
  json_auto_t *rec = netrec_load (root, net, err);
  if (rec == NULL)
    return -1;
  const char *name = json_string_value (json_object_get (rec, "Name"));
  json_auto_t *was = netrec_connected (root, c.id);
  bool recorded = json_object_get (was, name) != NULL;
  bool member = running && json_object_get (json_object_get (rec, "Containers"), c.id) != NULL;
  if (!member && !recorded)
    return nook_error_set (err, 0, "container %s is not connected to network %s", ref, net);
  /* (first out of networks.json: a restart in between must not take it again) */
  if (recorded && connected_update (root, c.id, name, false, NULL, NULL, err) < 0)
    return -1;
  if (!member)
    return 0;
  cleanup_free char *path = netrec_socket_path (rec, err);
  if (path == NULL)
    return -1;
  cleanup_close int conn = connect_to (path);
  cleanup_free char *leave = xasprintf ("LEAVE %s", c.id);
  int fds[4];
  size_t nf = 0;
  cleanup_free char *reply
      = conn >= 0 && netns_send (conn, leave, NULL, 0) == 0 ? netns_recv (conn, fds, &nf) : NULL;
  netns_close_fds (fds, nf);
  if (reply == NULL || strcmp (reply, "OK") != 0)
    return nook_error_set (err, 0, "disconnect %s from network %s: %s", ref, net,
                           reply ? reply : "its holder does not answer");
  return 0;
}

void
netns_hold_connected (const char *root, const char *id, const char *primary,
                      const struct nook_idmapping *ids, const char *keep_dir, int **fds, size_t *n)
{
  json_auto_t *want = netrec_connected (root, id);
  const char *net;
  json_t *v;
  json_object_foreach (want, net, v)
  {
    if (primary && strcmp (net, primary) == 0)
      continue;
    cleanup_error nook_error_t e = NULL;
    cleanup_close int lock = netrec_lock (root, &e);
    json_auto_t *rec = lock >= 0 ? netrec_load (root, net, &e) : NULL;
    cleanup_free char *path = rec ? netrec_socket_path (rec, &e) : NULL;
    struct net_subnet sn;
    uint32_t gw;
    if (path == NULL || netrec_subnet (rec, &sn, &gw) < 0)
      continue; /* (netns_reconnect says why) */
    int conn = connect_to (path);
    if (conn < 0)
      {
        struct netns_holder_args a = { .root = root,
                                       .net = net,
                                       .path = path,
                                       .ids = ids,
                                       .keep_dir = keep_dir,
                                       .gateway = gw,
                                       .prefix = sn.prefix,
                                       .internal = json_is_true (json_object_get (rec, "Internal")),
                                       .userns_fd = -1 };
        holder_args_ipv6 (&a, rec);
        if (netns_holder_start (&a, &e) == 0)
          conn = connect_to (path);
      }
    if (conn >= 0)
      {
        *fds = xrealloc (*fds, sizeof **fds * (*n + 1));
        (*fds)[(*n)++] = conn;
      }
  }
}

static int
rejoin (const char *root, const char *net, const json_t *epj, const char *id, bool replace,
        int cnet, int hosts_fd, nook_error_t *err)
{
  const char *name = json_string_value (json_object_get (epj, "Name"));
  char addr[64] = "";
  snprintf (addr, sizeof addr, "%s",
            json_string_value (json_object_get (epj, "IPv4Address"))
                ? json_string_value (json_object_get (epj, "IPv4Address"))
                : "");
  addr[strcspn (addr, "/")] = '\0';
  cleanup_strv char **aliases = NULL;
  size_t k;
  const json_t *a;
  json_array_foreach (json_object_get (epj, "Aliases"), k, a)
  {
    if (json_is_string (a))
      strv_push (&aliases, json_string_value (a));
  }
  struct idmap_plan_input in;
  struct nook_idmapping ids;
  if (sandbox_idmap_probe (&in, err) < 0)
    return -1;
  sandbox_idmap_plan (&in, 0, 0, &ids, NULL);
  const char *keep = getenv ("NOOK_USERNS_KEEP");
  cleanup_error nook_error_t rerr = NULL;
  cleanup_free char *keep_dir = keep && strcmp (keep, "0") == 0 ? NULL : fs_runtime_dir (&rerr);
  struct netns_endpoint ep = {
    .id = id,
    .name = name && *name ? name : NULL,
    .aliases = aliases,
    .ip = *addr ? addr : NULL,
    .replace = replace,
  };
  struct netns_join j = NETNS_JOIN_INIT;
  int rc = join_holder (root, net, &ep, &ids, keep_dir, -1, &j, err);
  if (rc == 0)
    {
      int hosts = fcntl (hosts_fd, F_DUPFD_CLOEXEC, 3);
      rc = hosts < 0 ? nook_error_set (err, errno, "dup the hosts file")
                     : attach (&j, in_userns (j.userns_fd) ? -1 : j.userns_fd, cnet, NULL, hosts,
                               false, err);
    }
  netns_join_free (&j);
  return rc;
}

void
netns_reconnect (const char *root, const char *id, const char *primary, int cnet, int hosts_fd)
{
  json_auto_t *want = netrec_connected (root, id);
  json_t *recs = netrec_list (root), *rec;
  size_t i;
  json_array_foreach (recs, i, rec)
  {
    const char *net = json_string_value (json_object_get (rec, "Name"));
    if (net == NULL || (primary && strcmp (net, primary) == 0))
      continue;
    json_t *epj = json_object_get (json_object_get (rec, "Containers"), id);
    json_t *asked = json_object_get (want, net);
    if (epj == NULL && asked == NULL)
      continue;
    cleanup_error nook_error_t e = NULL;
    json_auto_t *fresh = NULL;
    bool replace = epj != NULL;
    if (epj)
      {
        /* a restart by the same nook: its old endpoint is still there, and
         * stays (a member, with its name in the others' files and the name
         * server) until the new one's JOIN replaces it in the holder: the
         * name is never missing meanwhile */
      }
    else
      {
        /* a start after a stop: the endpoint `network connect` asked for
         * (the address it asked for with --ip, else a free one) */
        const char *ip = json_string_value (json_object_get (asked, "IPv4Address"));
        cleanup_free char *name = container_name_of (root, id);
        fresh = json_pack ("{s:s, s:s, s:O?}", "Name", name ? name : "", "IPv4Address",
                           ip ? ip : "", "Aliases", json_object_get (asked, "Aliases"));
        epj = fresh;
      }
    test_hook ("net-rejoin"); /* (the old endpoint still in, the new one not yet) */
    if (rejoin (root, net, epj, id, replace, cnet, hosts_fd, &e) < 0)
      log_warn ("the container started without network %s (it was connected to it): %s", net,
                e->msg);
  }
  json_decref (recs);
}

int
netns_connect_cmd (const char *root, bool connect, int argc, char **argv, nook_error_t *err)
{
  const char *verb = connect ? "network connect" : "network disconnect";
  cleanup_strv char **aliases = NULL;
  const char *ip = NULL, *args[2] = { NULL, NULL };
  int na = 0;
  for (int i = 2; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        return connect_usage (connect);
      if (connect && (strcmp (a, "--alias") == 0 || strcmp (a, "--ip") == 0))
        {
          if (i + 1 >= argc)
            return nook_error_set (err, 0, "flag needs an argument: %s", a);
          if (strcmp (a, "--ip") == 0)
            ip = argv[++i];
          else
            strv_push (&aliases, argv[++i]);
        }
      else if (connect && str_has_prefix (a, "--alias="))
        strv_push (&aliases, a + 8);
      else if (connect && str_has_prefix (a, "--ip="))
        ip = a + 5;
      else if (!connect && (strcmp (a, "-f") == 0 || strcmp (a, "--force") == 0))
        continue;
      else if (a[0] == '-')
        return nook_error_set (err, 0, "unknown flag: %s (see 'nook %s --help')", a, verb);
      else if (na < 2)
        args[na++] = a;
      else
        na = 3;
    }
  if (na != 2)
    return nook_error_set (err, 0, "\"nook %s\" requires exactly 2 arguments.", verb);
  if (netrec_builtin (args[0]))
    return nook_error_set (err, 0,
                           "nook %s: %s is not a user-defined network (containers join it "
                           "only at start)",
                           verb, args[0]);
  if (!connect)
    return disconnect (root, args[0], args[1], err);
  struct running c;
  if (find_running (root, args[1], &c, "", err) < 0)
    return -1;
  struct idmap_plan_input in;
  struct nook_idmapping ids;
  if (sandbox_idmap_probe (&in, err) < 0)
    return -1;
  sandbox_idmap_plan (&in, 0, 0, &ids, NULL);
  const char *keep = getenv ("NOOK_USERNS_KEEP");
  cleanup_error nook_error_t rerr = NULL;
  cleanup_free char *keep_dir = keep && strcmp (keep, "0") == 0 ? NULL : fs_runtime_dir (&rerr);
  struct netns_endpoint ep = {
    .id = c.id, .name = c.name[0] ? c.name : NULL, .aliases = aliases, .ip = ip, .nook = c.nook
  };
  struct netns_join j = NETNS_JOIN_INIT;
  int rc = -1;
  cleanup_close int cnet = -1, rootfd = -1, hosts = -1, cuser = -1, tree = -1;
  /* A holder started now starts in the parent of the container's user
   * namespace when that is not ours (the container was made below a
   * network's holder): the container is then below the network's namespace
   * even when the kept user namespace was replaced since it started (where
   * a new holder would join the new one, a sibling of the container's tree) */
  cuser = open_ns (c.cmd, "user", args[1], err);
  if (cuser < 0)
    goto out;
  tree = ioctl (cuser, NS_GET_PARENT);
  if (tree >= 0 && in_userns (tree))
    {
      close (tree);
      tree = -1;
    }
  if (join_holder (root, args[0], &ep, &ids, keep_dir, tree, &j, err) < 0
      || container_proc_start (c.nook) != c.start)
    goto out;
  if (tree >= 0 && !userns_at_or_above (j.userns_fd, cuser))
    {
      /* (a holder already running, in another tree: no process of the user
       * can move an interface between the two) */
      nook_error_set (err, 0,
                      "network %s runs in a user namespace that container %s is not below "
                      "(the kept user namespace was replaced while both were in use): connect "
                      "it once the network's containers have ended",
                      j.net, args[1]);
      goto out;
    }
  cnet = open_ns (c.cmd, "net", args[1], err);
  if (cnet < 0)
    goto out;
  char p[64];
  snprintf (p, sizeof p, "/proc/%d/root", (int)c.cmd);
  rootfd = open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  hosts = rootfd >= 0 ? fs_open_in_root (rootfd, "/etc/hosts", O_RDWR | O_NOFOLLOW, 0) : -1;
  struct stat st;
  if (hosts < 0 || fstat (hosts, &st) < 0 || !S_ISREG (st.st_mode))
    {
      nook_error_set (err, errno, "open /etc/hosts of container %s", args[1]);
      goto out;
    }
  rc = attach (&j, j.userns_fd, cnet, NULL, take_fd (&hosts), false, err);
  if (rc == 0)
    rc = connected_update (root, c.id, j.net, true, aliases, ip, err);
out:
  if (rc < 0 && err && *err)
    nook_error_wrap (err, "connect %s to network %s", args[1], args[0]);
  if (rc < 0 && j.net)
    {
      /* the holder forgets it too (it saw no JOIN), but later: now, for the record */
      cleanup_error nook_error_t e = NULL;
      cleanup_close int lock = netrec_lock (root, &e);
      json_auto_t *rec = lock >= 0 ? netrec_load (root, j.net, &e) : NULL;
      if (rec && json_object_del (json_object_get (rec, "Containers"), c.id) == 0)
        {
          netrec_save (root, rec, false, &e);
          netns_event (root, json_string_value (json_object_get (rec, "Id")), j.net, c.id, false);
        }
    }
  netns_join_free (&j);
  return rc;
}
