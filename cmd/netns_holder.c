/* cmd/netns_holder.c: see netns_holder.h. */
#include "cmd/netns.h"
#include "cmd/netns_holder.h"
#include "cmd/netrec.h"
#include "cmd/records.h"
#include "net/dns.h"
#include "net/dnsd.h"
#include "net/link.h"
#include "net/mode.h"
#include "net/slirp.h"
#include "net/subnet.h"
#include "sandbox/netif.h"
#include "sandbox/title.h"
#include "sandbox/userns.h"
#include "sandbox/userns_keep.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/settle.h"
#include "util/test_hook.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX 65536

/* ---- messages with fds (SOCK_SEQPACKET: one message, one record) ---- */

int
netns_send (int sock, const char *text, const int *fds, size_t nfds)
{
  struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen (text) };
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * 4)];
    struct cmsghdr align;
  } u;
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (nfds)
    {
      memset (&u, 0, sizeof u);
      m.msg_control = u.buf;
      m.msg_controllen = CMSG_SPACE (sizeof (int) * nfds);
      struct cmsghdr *c = CMSG_FIRSTHDR (&m);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int) * nfds);
      memcpy (CMSG_DATA (c), fds, sizeof (int) * nfds);
    }
  ssize_t n;
  do
    n = sendmsg (sock, &m, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

/* A message (NUL-terminated, malloc'd) and up to 4 fds; NULL at EOF/error. */
char *
netns_recv (int sock, int *fds, size_t *nfds)
{
  char *buf = xmalloc (MSG_MAX + 1);
  struct iovec iov = { .iov_base = buf, .iov_len = MSG_MAX };
  union
  {
    char b[CMSG_SPACE (sizeof (int) * 4)];
    struct cmsghdr align;
  } u;
  struct msghdr m
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
  ssize_t n;
  do
    n = recvmsg (sock, &m, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  *nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&m); n > 0 && c; c = CMSG_NXTHDR (&m, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        size_t k = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
        memcpy (fds, CMSG_DATA (c), sizeof (int) * (k > 4 ? 4 : k));
        *nfds = k > 4 ? 4 : k;
      }
  if (n <= 0)
    {
      free (buf);
      return NULL;
    }
  buf[n] = '\0';
  return buf;
}

void
netns_close_fds (int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

/* ---- the holder ---- */

struct member
{
  int conn, pidfd, hosts;
  char *id, *line;
};

/* A query forwarded upstream, until its answer (or its slot is reused). */
struct pending
{
  uint16_t id, orig;
  struct sockaddr_in client;
  bool used;
};

#define DNS_PENDING 64
#define DNS_SERVERS 3

struct holder
{
  const char *root, *net, *path;
  struct member *m;
  size_t n;
  int lsock;
  int dns, up; /* the name server on the gateway's port 53; its upstream socket */
  int dns_tcp; /* the same over TCP (answers too long for UDP) */
  uint32_t servers[DNS_SERVERS];
  size_t n_servers;
  struct pending pend[DNS_PENDING];
  uint16_t next_id;
  json_t *gone; /* disconnect events not yet recorded: [[network id, container id]...] */
};

/* Rewrite this network's section of one member's hosts file in place
 * ("# nook network NET" .. "# end of nook network NET"; a container on
 * several networks has one section per holder, so the file is locked and the
 * rest kept); `with_others` false removes the section. */
static void
rewrite_one (struct holder *h, size_t i, bool with_others)
{
  struct member *me = &h->m[i];
  if (me->hosts < 0)
    return;
  cleanup_free char *begin = xasprintf ("# nook network %s\n", h->net);
  cleanup_free char *end = xasprintf ("# end of nook network %s\n", h->net);
  flock (me->hosts, LOCK_EX);
  char *old = xmalloc (MSG_MAX + 1);
  ssize_t n = pread (me->hosts, old, MSG_MAX, 0);
  old[n > 0 ? n : 0] = '\0';
  struct strbuf b = { 0 };
  char *s = strstr (old, begin), *e = s ? strstr (s, end) : NULL;
  if (s && e)
    {
      strbuf_appendn (&b, old, (size_t)(s - old));
      strbuf_append (&b, e + strlen (end));
    }
  else
    strbuf_append (&b, old);
  if (with_others)
    {
      strbuf_append (&b, begin);
      for (size_t k = 0; k < h->n; k++)
        if (k != i && h->m[k].line)
          strbuf_appendf (&b, "%s\n", h->m[k].line);
      strbuf_append (&b, end);
    }
  /* The container's resolvers read the file without the lock.  The part before our
   * section (its own line first) is rewritten with the same bytes; a shorter file is
   * first written padded with newlines to its old length, then cut: a reader between
   * the two calls sees blank lines, never a stale fragment of an old line after the new
   * end (which could parse as an entry). */
  size_t len = b.len, old_len = n > 0 ? (size_t)n : 0;
  while (b.len < old_len)
    strbuf_appendc (&b, '\n');
  if (pwrite (me->hosts, b.buf, b.len, 0) < 0
      || (len < old_len && (test_hook ("hosts-written-before-cut"), false))
      || ftruncate (me->hosts, (off_t)len) < 0)
    {
      /* the container is going away */
    }
  flock (me->hosts, LOCK_UN);
  strbuf_free (&b);
  free (old);
}

static void
rewrite_hosts (struct holder *h)
{
  for (size_t i = 0; i < h->n; i++)
    rewrite_one (h, i, true);
}

/* The record without the members that left (they may still be zombies, so
 * the pid check alone would keep them). */
static void
persist (struct holder *h, const char *gone_id)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_close int lock = netrec_lock (h->root, &e);
  if (lock < 0)
    return;
  json_auto_t *rec = netrec_load (h->root, h->net, &e);
  if (rec == NULL)
    return;
  if (gone_id && json_object_del (json_object_get (rec, "Containers"), gone_id) == 0)
    {
      /* its `network disconnect` event, recorded once the one waiting was answered */
      const char *nid = json_string_value (json_object_get (rec, "Id"));
      if (h->gone == NULL)
        h->gone = json_array ();
      json_array_append_new (h->gone, json_pack ("[s,s]", nid ? nid : h->net, gone_id));
    }
  netrec_save (h->root, rec, false, &e);
}

/* The disconnect events persist() left for after the answers. */
static void
record_gone (struct holder *h)
{
  size_t i;
  json_t *g;
  json_array_foreach (h->gone, i, g)
      netns_event (h->root, json_string_value (json_array_get (g, 0)), h->net,
                   json_string_value (json_array_get (g, 1)), false);
  json_array_clear (h->gone);
}

/* Drop member i: out of the other members' files and, with `record`, out of
 * the network's record. */
static void
drop_member (struct holder *h, size_t i, bool record)
{
  struct member *me = &h->m[i];
  char *id = me->id;
  rewrite_one (h, i, false);
  if (me->conn >= 0)
    close (me->conn);
  if (me->pidfd >= 0)
    close (me->pidfd);
  if (me->hosts >= 0)
    close (me->hosts);
  free (me->line);
  h->m[i] = h->m[--h->n];
  if (id && record)
    {
      rewrite_hosts (h);
      persist (h, id);
    }
  free (id);
}

static void
drop (struct holder *h, size_t i)
{
  drop_member (h, i, true);
}

/* Returns true when another member was dropped (the poll set is stale). */
static bool
on_message (struct holder *h, size_t i)
{
  struct member *me = &h->m[i];
  int fds[4] = { -1, -1, -1, -1 };
  size_t nf = 0;
  cleanup_free char *msg = netns_recv (me->conn, fds, &nf);
  if (msg == NULL)
    {
      netns_close_fds (fds, nf);
      close (me->conn);
      me->conn = -1;
      if (me->pidfd < 0 || me->line == NULL)
        drop (h, i); /* left before joining: the run or connect failed */
      return false;
    }
  if (str_has_prefix (msg, "HELLO ") && nf == 1 && me->pidfd < 0)
    {
      me->pidfd = fds[0];
      me->id = xstrdup (msg + 6);
      int ns[2] = { open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC),
                    open ("/proc/self/ns/user", O_RDONLY | O_CLOEXEC) };
      if (ns[0] < 0 || ns[1] < 0)
        netns_send (me->conn, "ERR the network's namespaces cannot be opened", NULL, 0);
      else
        netns_send (me->conn, "OK", ns, 2);
      netns_close_fds (ns, 2);
      return false;
    }
  if (str_has_prefix (msg, "JOIN ") && nf == 1 && me->pidfd >= 0)
    {
      json_auto_t *j = json_loads (msg + 5, 0, NULL);
      const char *line = json_string_value (json_object_get (j, "line"));
      if (line)
        {
          free (me->line);
          if (me->hosts >= 0)
            close (me->hosts);
          me->line = xstrdup (line);
          me->hosts = fds[0];
          /* A restart's rejoin: the container's old endpoint (same ID) goes
           * now, in the same step as the new one comes, so that its name is
           * never missing from the others' files and the name server (the
           * record already holds the new endpoint). */
          int conn = me->conn;
          bool swapped = false;
          for (size_t k = 0; k < h->n; k++)
            if (&h->m[k] != me && h->m[k].id && me->id && strcmp (h->m[k].id, me->id) == 0)
              {
                drop_member (h, k, false);
                swapped = true;
                break;
              }
          rewrite_hosts (h);
          netns_send (conn, "OK", NULL, 0);
          return swapped;
        }
    }
  if (strcmp (msg, "DOWN") == 0 && nf == 0 && me->pidfd >= 0)
    {
      /* its container ended and is started again by the same nook (a restart
       * policy): it stays a member (its address kept), out of the others'
       * files until it joins again (its veth goes with the container's
       * namespace; deleting it here would cost the RCU grace period, ~20 ms,
       * and the next veth of that name replaces a leftover) */
      rewrite_one (h, i, false);
      free (me->line);
      me->line = NULL;
      if (me->hosts >= 0)
        close (me->hosts);
      me->hosts = -1;
      rewrite_hosts (h);
      netns_send (me->conn, "OK", NULL, 0);
      return false;
    }
  if (strcmp (msg, "BYE") == 0 && nf == 0 && me->pidfd >= 0)
    {
      /* its nook leaves the network for good (the container ended): now,
       * not when the nook's exit is seen, so that `network rm` or `inspect`
       * right after a stop see it gone (the veth goes with the container's
       * namespace) */
      int conn = me->conn;
      me->conn = -1;
      drop (h, i);
      netns_send (conn, "OK", NULL, 0);
      close (conn);
      return true;
    }
  if (str_has_prefix (msg, "LEAVE ") && nf == 0)
    {
      /* `network disconnect`: the member with that ID leaves (this connection
       * is not a member: it goes with it) */
      for (size_t k = 0; k < h->n; k++)
        if (k != i && h->m[k].id && strcmp (h->m[k].id, msg + 6) == 0)
          {
            char vname[16];
            cleanup_error nook_error_t e = NULL;
            snprintf (vname, sizeof vname, "nk%.10s", h->m[k].id);
            net_link_delete (vname, &e);
            /* dropped (and its record updated) before the answer: a join
             * of the same container right after must not find it there */
            int conn = me->conn;
            drop (h, k);
            netns_send (conn, "OK", NULL, 0);
            return true;
          }
      netns_send (me->conn, "ERR not a member", NULL, 0);
      return false;
    }
  netns_close_fds (fds, nf);
  netns_send (me->conn, "ERR bad request", NULL, 0);
  return false;
}

/* ---- the network's name server (net/dnsd.h) ---- */

static void
dns_query (struct holder *h)
{
  unsigned char q[1500], out[1500];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  ssize_t n = recvfrom (h->dns, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
  if (n <= 0 || fl != sizeof from)
    return;
  char **lines = xzalloc (sizeof *lines * (h->n + 1));
  size_t nl = 0;
  for (size_t i = 0; i < h->n; i++)
    if (h->m[i].line)
      lines[nl++] = h->m[i].line;
  size_t len = 0;
  enum net_dnsd_verdict v = net_dnsd_answer (q, (size_t)n, lines, nl, out, sizeof out, &len);
  free (lines);
  if (v == NET_DNSD_DROP)
    return;
  if (v == NET_DNSD_FORWARD && h->n_servers > 0 && h->up >= 0)
    {
      struct pending *p = &h->pend[h->next_id % DNS_PENDING];
      p->used = true;
      p->orig = (uint16_t)(q[0] << 8 | q[1]);
      p->id = ++h->next_id;
      p->client = from;
      q[0] = (unsigned char)(p->id >> 8);
      q[1] = (unsigned char)p->id;
      struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (53) };
      bool sent = false;
      for (size_t k = 0; k < h->n_servers; k++)
        {
          to.sin_addr.s_addr = h->servers[k];
          sent |= sendto (h->up, q, (size_t)n, 0, (struct sockaddr *)&to, sizeof to) == n;
        }
      if (sent)
        return;
      p->used = false;
      q[0] = (unsigned char)(p->orig >> 8);
      q[1] = (unsigned char)p->orig;
    }
  if (v == NET_DNSD_FORWARD && !net_dnsd_servfail (q, (size_t)n, out, sizeof out, &len))
    return;
  sendto (h->dns, out, len, 0, (struct sockaddr *)&from, sizeof from);
}

static void
dns_reply (struct holder *h)
{
  unsigned char r[4096];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  ssize_t n = recvfrom (h->up, r, sizeof r, 0, (struct sockaddr *)&from, &fl);
  if (n < 12 || fl != sizeof from || from.sin_port != htons (53))
    return;
  bool known = false;
  for (size_t k = 0; k < h->n_servers; k++)
    known |= h->servers[k] == from.sin_addr.s_addr;
  uint16_t id = (uint16_t)(r[0] << 8 | r[1]);
  struct pending *p = &h->pend[(uint16_t)(id - 1) % DNS_PENDING];
  if (!known || !p->used || p->id != id)
    return; /* late (a second server's), or not ours */
  p->used = false;
  r[0] = (unsigned char)(p->orig >> 8);
  r[1] = (unsigned char)p->orig;
  sendto (h->dns, r, (size_t)n, 0, (struct sockaddr *)&p->client, sizeof p->client);
}

/* ---- DNS over TCP: one short-lived process a connection ---- */

#define DNS_TCP_SECONDS 10

static bool
read_full (int fd, unsigned char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = read (fd, buf, len);
      if (n <= 0)
        return false;
      buf += n;
      len -= (size_t)n;
    }
  return true;
}

static bool
write_msg (int fd, const unsigned char *msg, size_t len)
{
  unsigned char hdr[2] = { (unsigned char)(len >> 8), (unsigned char)len };
  return write (fd, hdr, 2) == 2 && write (fd, msg, len) == (ssize_t)len;
}

/* Ask the upstream servers over TCP (blocking: the process has an alarm). */
static bool
tcp_upstream (const struct holder *h, const unsigned char *q, size_t qlen, unsigned char *out,
              size_t *len)
{
  for (size_t k = 0; k < h->n_servers; k++)
    {
      cleanup_close int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (53) };
      to.sin_addr.s_addr = h->servers[k];
      unsigned char hdr[2];
      if (fd < 0 || connect (fd, (struct sockaddr *)&to, sizeof to) < 0 || !write_msg (fd, q, qlen)
          || !read_full (fd, hdr, 2))
        continue;
      *len = (size_t)(hdr[0] << 8 | hdr[1]);
      if (*len >= 12 && read_full (fd, out, *len))
        return true;
    }
  return false;
}

__attribute__ ((noreturn)) static void
dns_tcp_serve (const struct holder *h, char **lines, size_t nl)
{
  static unsigned char q[65536], out[65536];
  alarm (DNS_TCP_SECONDS);
  for (;;)
    {
      unsigned char hdr[2];
      if (!read_full (3, hdr, 2))
        _exit (0);
      size_t qlen = (size_t)(hdr[0] << 8 | hdr[1]), len = 0;
      if (qlen < 12 || !read_full (3, q, qlen))
        _exit (0);
      enum net_dnsd_verdict v = net_dnsd_answer (q, qlen, lines, nl, out, sizeof out, &len);
      if (v == NET_DNSD_DROP)
        _exit (0);
      if (v == NET_DNSD_FORWARD && !tcp_upstream (h, q, qlen, out, &len)
          && !net_dnsd_servfail (q, qlen, out, sizeof out, &len))
        _exit (0);
      if (!write_msg (3, out, len))
        _exit (0);
      alarm (DNS_TCP_SECONDS);
    }
}

/* A TCP client of the name server: served by a grandchild (nothing for the
 * holder to reap but the short-lived middle process), which keeps only the
 * connection: not the members' sockets, nor the uplink's (which ends when the
 * holder's last copy closes). */
static void
dns_tcp_accept (struct holder *h)
{
  int c = accept4 (h->dns_tcp, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    return;
  char **lines = xzalloc (sizeof *lines * (h->n + 1));
  size_t nl = 0;
  for (size_t i = 0; i < h->n; i++)
    if (h->m[i].line)
      lines[nl++] = h->m[i].line;
  pid_t mid = fork ();
  if (mid == 0)
    {
      if (fork () != 0)
        _exit (0);
      if (dup2 (c, 3) < 0)
        _exit (1);
      syscall (SYS_close_range, 4, ~0U, 0);
      dns_tcp_serve (h, lines, nl);
    }
  free (lines);
  close (c);
  if (mid > 0)
    waitpid (mid, NULL, 0);
}

/* In the network's namespace: listen on the gateway's port 53 (UDP and TCP); the
 * upstream servers are the host's (loopback ones left out: the uplink cannot
 * reach them), read before the holder left the host's namespaces. */
static void
dns_setup (struct holder *h, uint32_t gateway)
{
  h->dns = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_in sa
      = { .sin_family = AF_INET, .sin_port = htons (53), .sin_addr.s_addr = htonl (gateway) };
  if (h->dns >= 0 && bind (h->dns, (struct sockaddr *)&sa, sizeof sa) < 0)
    {
      close (h->dns);
      h->dns = -1;
    }
  h->up = h->n_servers ? socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) : -1;
  h->dns_tcp = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  if (h->dns_tcp >= 0
      && (setsockopt (h->dns_tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
          || bind (h->dns_tcp, (struct sockaddr *)&sa, sizeof sa) < 0
          || listen (h->dns_tcp, 16) < 0))
    {
      close (h->dns_tcp);
      h->dns_tcp = -1;
    }
}

static size_t
upstream_servers (uint32_t *v, size_t max)
{
  cleanup_free char *host = NULL, *resolved = NULL, *text = NULL, *warning = NULL;
  cleanup_error nook_error_t e = NULL, e2 = NULL, e3 = NULL;
  fs_read_file_at (AT_FDCWD, "/etc/resolv.conf", 1 << 16, &host, NULL, &e);
  fs_read_file_at (AT_FDCWD, "/run/systemd/resolve/resolv.conf", 1 << 16, &resolved, NULL, &e2);
  struct net_dns_input in = { .host_resolv = host, .resolved_resolv = resolved, .user_mode = true };
  if (net_resolv_conf (&in, &text, &warning, &e3) < 0)
    return 0;
  return net_dnsd_servers (text, v, max);
}

/* No member left: leave, unless someone connected meanwhile (a nook connects
 * under the networks lock, so holding it here decides). */
static bool
may_leave (struct holder *h)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_close int lock = netrec_lock (h->root, &e);
  struct pollfd p = { .fd = h->lsock, .events = POLLIN };
  if (poll (&p, 1, 0) > 0)
    return false;
  unlink (h->path);
  return true;
}

__attribute__ ((noreturn)) static void
holder_loop (struct holder *h)
{
  bool had_member = false;
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  struct settle_quiet quiet = SETTLE_QUIET_INIT (-1);
  for (;;)
    {
      if (h->n == 0 && had_member && may_leave (h))
        _exit (0);
      size_t np = 4 + 2 * h->n;
      struct pollfd *p = xzalloc (sizeof *p * np);
      p[0] = (struct pollfd){ .fd = h->lsock, .events = POLLIN };
      for (size_t i = 0; i < h->n; i++)
        {
          p[1 + 2 * i] = (struct pollfd){ .fd = h->m[i].conn, .events = POLLIN };
          p[2 + 2 * i] = (struct pollfd){ .fd = h->m[i].pidfd, .events = POLLIN };
        }
      p[np - 3] = (struct pollfd){ .fd = h->dns_tcp, .events = POLLIN };
      p[np - 2] = (struct pollfd){ .fd = h->dns, .events = POLLIN };
      p[np - 1] = (struct pollfd){ .fd = h->up, .events = POLLIN };
      /* with members, quiet for a second: what start-up left mapped is given
       * back (once a quiet spell); without, it waits 10 s for one, then leaves */
      bool members = h->n > 0;
      int r = poll (p, np, members ? settle_quiet_timeout (&quiet, -1) : 10000);
      if (members)
        settle_quiet_after (&quiet, r);
      if (r > 0 && (p[np - 3].revents & POLLIN))
        dns_tcp_accept (h);
      if (r > 0 && (p[np - 2].revents & POLLIN))
        dns_query (h);
      if (r > 0 && (p[np - 1].revents & POLLIN))
        dns_reply (h);
      if (r == 0 && h->n == 0 && may_leave (h))
        _exit (0); /* nobody came */
      for (size_t i = h->n; r > 0 && i-- > 0;)
        {
          if (p[2 + 2 * i].revents)
            {
              drop (h, i);
              continue;
            }
          if (p[1 + 2 * i].revents && on_message (h, i))
            break;
        }
      record_gone (h);
      if (r > 0 && (p[0].revents & POLLIN))
        {
          int c = accept4 (h->lsock, NULL, NULL, SOCK_CLOEXEC);
          if (c >= 0)
            {
              h->m = xreallocarray (h->m, h->n + 1, sizeof *h->m);
              h->m[h->n++] = (struct member){ .conn = c, .pidfd = -1, .hosts = -1 };
              had_member = true;
            }
        }
      free (p);
    }
}

void
netns_say (int fd, const char *s)
{
  (void)!write (fd, s, strlen (s));
}

/* In the network's namespace: lo, the bridge with the gateway's address. */
static int
make_network (const struct netns_holder_args *a, nook_error_t *err)
{
  uint32_t gateway = a->gateway;
  unsigned prefix = a->prefix;
  if (unshare (CLONE_NEWNET) < 0)
    return nook_error_set (err, errno, "create the network's namespace");
  /* a fixed address, Docker's style for the gateway's (02:42 and the IPv4
   * address): the bridge's would change with its ports (net_link_set_mac) */
  uint8_t mac[6] = { 0x02,
                     0x42,
                     (uint8_t)(gateway >> 24),
                     (uint8_t)(gateway >> 16),
                     (uint8_t)(gateway >> 8),
                     (uint8_t)gateway };
  if (net_link_configure ("lo", 0, 0, 0, 0, err) < 0 || net_link_bridge_add (NETNS_BRIDGE, err) < 0
      || net_link_set_mac (NETNS_BRIDGE, mac, err) < 0
      || net_link_configure (NETNS_BRIDGE, 0, htonl (gateway), prefix, 0, err) < 0)
    return -1;
  /* routed, also without an uplink: what has no route gets an ICMP error at
   * once rather than silence */
  if (net_link_sysctl ("net/ipv4/ip_forward", "1", err) < 0)
    return -1;
  /* --ipv6: the gateway's address too (no duplicate address detection: the
   * address would be unusable for a second or more); no IPv6 uplink */
  if (!a->ipv6)
    return 0;
  cleanup_free char *dad = xasprintf ("net/ipv6/conf/%s/accept_dad", NETNS_BRIDGE);
  if (net_link_sysctl (dad, "0", err) < 0)
    return -1;
  return net_link_addr6 (NETNS_BRIDGE, &a->gateway6, a->prefix6, err);
}

/* The uplink's helper must live in the host's network namespace: forked
 * before the holder leaves it, it waits for the tap (made in the network's
 * namespace), starts nook's libslirp helper on it and ends it, and itself,
 * with the holder (PR_SET_PDEATHSIG; EOF on `sock`). */
__attribute__ ((noreturn)) static void
uplink_main (int sock)
{
  int fds[4] = { -1, -1, -1, -1 };
  size_t nf = 0;
  sandbox_set_title ("nook-uplink");
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* nothing of the holder's: a copy of the pipe the holder reports its
   * start on would hide the holder's death from the nook that waits there */
  if (sock > 3)
    syscall (SYS_close_range, 3, (unsigned int)sock - 1, 0);
  syscall (SYS_close_range, (unsigned int)sock + 1, ~0U, 0);
  if (getppid () == 1)
    _exit (1);
  free (netns_recv (sock, fds, &nf));
  if (nf != 1)
    _exit (1);
  struct net_slirp_config cfg;
  net_slirp_config_default (&cfg);
  cfg.mtu = NET_MTU;
  struct net_helper h = NET_HELPER_INIT;
  cleanup_error nook_error_t e = NULL;
  if (net_slirp_start (&cfg, fds[0], &h, &e) < 0)
    _exit (1);
  /* nothing more to do until the holder ends: what start-up left mapped is
   * given back now */
  mem_settle ();
  char c;
  while (read (sock, &c, 1) > 0 || errno == EINTR)
    ;
  net_helper_kill (&h);
  net_helper_reap (&h, true);
  _exit (0);
}

/* In the network's namespace: the tap of the uplink, routed (the uplink's
 * 10.0.2.2 is the default route; the tap answers ARP for the network's
 * addresses, so the user-mode stack sends their replies to it). */
static int
make_uplink (int sock, nook_error_t *err)
{
  struct nook_netif nif = { .name = "tap0",
                            .addr = htonl (NET_GUEST_ADDR),
                            .gateway = htonl (NET_GATEWAY),
                            .prefix = NET_PREFIX,
                            .mtu = NET_MTU };
  cleanup_close int tap = sandbox_netif_tap (&nif, err);
  if (tap < 0 || net_link_sysctl ("net/ipv4/conf/tap0/proxy_arp", "1", err) < 0)
    return -1;
  if (netns_send (sock, "T", &tap, 1) < 0)
    return nook_error_set (err, errno, "hand the uplink's tap over");
  return 0;
}

/* The holder's namespaces and socket; -1 with *err. */
static int
holder_setup (struct netns_holder_args *a, struct holder *h, nook_error_t *err)
{
  bool joined = false;
  if (a->userns_fd >= 0)
    {
      if (setns (a->userns_fd, CLONE_NEWUSER) < 0)
        return nook_error_set (err, errno, "join the user namespace of the container to connect");
      close (a->userns_fd);
      a->userns_fd = -1;
      joined = true;
    }
  else if (a->keep_dir)
    {
      /* The kept user namespace: the range's, or, for a user without one,
       * the user as 0 (kept only for networks): every network's holder, and
       * so every container on a network, is then below it, and `network
       * connect` may move an interface from one network into a container
       * of another. */
      struct nook_idmapping single = { .n_uid = 1, .n_gid = 1, .single = true };
      single.uid[0] = (struct nook_idmap){ 0, getuid (), 1 };
      single.gid[0] = (struct nook_idmap){ 0, getgid (), 1 };
      cleanup_error nook_error_t ke = NULL;
      joined = sandbox_userns_keep_join (a->ids->use_helpers ? a->ids : &single, a->keep_dir, &ke)
               == 0;
    }
  if (!joined)
    {
      char c;
      if (unshare (CLONE_NEWUSER) < 0)
        return nook_error_set (err, errno, "create the network's user namespace");
      netns_say (a->st, "U");
      test_hook ("holder-unshared"); /* (U said) */
      if (read (a->go, &c, 1) != 1)
        _exit (1);
    }
  uint32_t servers[DNS_SERVERS];
  size_t n_servers = a->internal ? 0 : upstream_servers (servers, DNS_SERVERS);
  int up[2] = { -1, -1 };
  if (!a->internal)
    {
      if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, up) < 0)
        return nook_error_set (err, errno, "socketpair");
      pid_t p = fork ();
      if (p < 0)
        return nook_error_set (err, errno, "fork the uplink");
      if (p == 0)
        {
          close (up[0]);
          uplink_main (up[1]);
        }
      close (up[1]);
    }
  if (make_network (a, err) < 0)
    return -1;
  if (!a->internal && make_uplink (up[0], err) < 0)
    return -1;
  /* up[0] stays open: the uplink ends when the holder does */
  *h = (struct holder){ .root = a->root, .net = a->net, .path = a->path, .n_servers = n_servers };
  memcpy (h->servers, servers, sizeof *servers * n_servers);
  dns_setup (h, a->gateway);
  h->lsock = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s", a->path);
  unlink (a->path);
  if (h->lsock < 0 || bind (h->lsock, (struct sockaddr *)&sa, sizeof sa) < 0
      || listen (h->lsock, 64) < 0)
    return nook_error_set (err, errno, "listen on '%s'", a->path);
  return 0;
}

__attribute__ ((noreturn)) static void
holder_main (struct netns_holder_args *a)
{
  cleanup_error nook_error_t err = NULL;
  sandbox_set_title ("nook-netns");
  /* nothing of the nook that started it: not its locks (the networks lock
   * would never be released), image holds, store fds */
  int st = fcntl (a->st, F_DUPFD_CLOEXEC, 100), go = fcntl (a->go, F_DUPFD_CLOEXEC, 100);
  int us = a->userns_fd >= 0 ? fcntl (a->userns_fd, F_DUPFD_CLOEXEC, 100) : -1;
  if (st < 0 || go < 0 || dup2 (st, 3) < 0 || dup2 (go, 4) < 0
      || (a->userns_fd >= 0 && (us < 0 || dup2 (us, 5) < 0)))
    _exit (1);
  a->st = 3;
  a->go = 4;
  a->userns_fd = a->userns_fd >= 0 ? 5 : -1;
  syscall (SYS_close_range, a->userns_fd >= 0 ? 6 : 5, ~0U, 0);
  /* its pid first, by itself: what it says next comes after it */
  pid_t self = getpid ();
  if (write (a->st, &self, sizeof self) != sizeof self)
    _exit (1);
  int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (nul >= 0)
    {
      dup2 (nul, 0);
      dup2 (nul, 1);
      dup2 (nul, 2);
      close (nul);
    }
  struct holder h;
  if (holder_setup (a, &h, &err) < 0)
    {
      netns_say (a->st, "E");
      netns_say (a->st, err->msg);
      _exit (1);
    }
  netns_say (a->st, "R");
  test_hook ("holder-ready"); /* (R said, the holder not yet serving) */
  close (a->st);
  close (a->go);
  holder_loop (&h);
}

/* How long a holder may take to start (it takes ~10 ms; seconds on a
 * loaded machine): the networks lock is held meanwhile. */
#define HOLDER_START_SECS 30

/* Read from the holder's pipe what is there, waiting until `end` at most;
 * 0 at EOF (the holder ended), -1 when the deadline passed. */
static ssize_t
read_by (int fd, void *buf, size_t len, const struct timespec *end)
{
  for (;;)
    {
      struct timespec now;
      clock_gettime (CLOCK_MONOTONIC, &now);
      long long ms = (end->tv_sec - now.tv_sec) * 1000LL + (end->tv_nsec - now.tv_nsec) / 1000000;
      if (ms <= 0)
        {
          errno = ETIMEDOUT;
          return -1;
        }
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int r = poll (&p, 1, (int)ms);
      if (r < 0 && errno != EINTR)
        return -1;
      if (r <= 0)
        continue;
      ssize_t n = read (fd, buf, len);
      if (n >= 0 || errno != EINTR)
        return n;
    }
}

/* Start the holder (the networks lock is held: every wait here has a
 * deadline, and the holder's death is seen as the end of its pipe, of which
 * it and its middle process alone have the write end). */
int
netns_holder_start (struct netns_holder_args *a, nook_error_t *err)
{
  int st[2], go[2];
  if (pipe2 (st, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "pipe");
  if (pipe2 (go, O_CLOEXEC) < 0)
    {
      close (st[0]);
      close (st[1]);
      return nook_error_set (err, errno, "pipe");
    }
  fflush (NULL);
  pid_t mid = fork ();
  if (mid == 0)
    {
      /* its own session, and no parent to die with: it outlives this nook
       * when other containers use the network */
      setsid ();
      close (st[0]);
      close (go[1]);
      pid_t h = fork ();
      if (h == 0)
        {
          a->st = st[1];
          a->go = go[0];
          holder_main (a);
        }
      test_hook ("holder-forked"); /* (the middle process, slow under load) */
      _exit (h < 0);
    }
  close (st[1]);
  close (go[0]);
  cleanup_close int rd = st[0], wr = go[1];
  if (mid < 0)
    return nook_error_set (err, errno, "fork the network's holder");
  while (waitpid (mid, NULL, 0) < 0 && errno == EINTR)
    ;
  struct timespec end;
  clock_gettime (CLOCK_MONOTONIC, &end);
  end.tv_sec += HOLDER_START_SECS;
  /* The holder says its pid first (it alone: had its middle process said it,
   * the holder's R or U could come before it, be read as part of it, and
   * nook would wait here forever, the networks lock held). */
  pid_t h = 0;
  ssize_t n = read_by (rd, &h, sizeof h, &end);
  if (n != sizeof h || h <= 0)
    return nook_error_set (err, n < 0 ? errno : 0, "the network's holder did not start");
  cleanup_close int hfd = (int)syscall (SYS_pidfd_open, h, 0);
  char buf[1024];
  for (;;)
    {
      n = read_by (rd, buf, sizeof buf - 1, &end);
      if (n < 0)
        {
          if (hfd >= 0)
            syscall (SYS_pidfd_send_signal, hfd, SIGKILL, NULL, 0);
          return nook_error_set (
              err, errno, "start network %s: its holder (pid %d) did not get ready within %d s",
              a->net, (int)h, HOLDER_START_SECS);
        }
      if (n == 0)
        return nook_error_set (err, 0, "the network's holder ended while starting");
      buf[n] = '\0';
      if (buf[0] == 'U')
        {
          struct nook_idmapping hids = *a->ids;
          if (!hids.use_helpers)
            {
              /* the user as 0: the container's single map becomes relative to it */
              memset (&hids, 0, sizeof hids);
              hids.uid[0] = (struct nook_idmap){ 0, getuid (), 1 };
              hids.gid[0] = (struct nook_idmap){ 0, getgid (), 1 };
              hids.n_uid = hids.n_gid = 1;
              hids.single = true;
            }
          if (sandbox_idmap_write (h, &hids, err) < 0)
            {
              if (hfd >= 0)
                syscall (SYS_pidfd_send_signal, hfd, SIGKILL, NULL, 0);
              return nook_error_wrap (err, "the network's user namespace");
            }
          netns_say (wr, "g");
          if (n > 1)
            memmove (buf, buf + 1, (size_t)n);
          else
            continue;
        }
      if (buf[0] == 'R')
        return 0;
      if (buf[0] == 'E')
        return nook_error_set (err, 0, "start network %s: %s", a->net, buf + 1);
    }
}
