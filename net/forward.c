/* net/forward.c: see forward.h. */
#include "net/forward.h"
#include "net/link.h"
#include "net/sandbox_self.h"
#include "util/cleanup.h"
#include "util/settle.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define UDP_IDLE_SECONDS 90
#define PIPE_SIZE (1 << 20)
#define PIPE_SMALL 65536 /* a new pipe's size: grown to PIPE_SIZE once full */
#define POOL_PIPES 32    /* a process's (a wrk run of 16 connections takes 32) */
#define POOL_BIG 4       /* of which grown to PIPE_SIZE at most: others shrink back */
#define MAX_WORKERS 4    /* forwarding threads */
/* the mark of the connections made inside from a client's address, and the
 * routing table that delivers their answers back to the forwarder */
#define FWD_MARK 0x6e6f6f6bu /* "nook" */
#define FWD_TABLE 0x6e6bu
#define FWD_RULE_PRIO 100u
/* the congestion control of the forwarder's two hops when the default paces
 * (see cc_unpaced): window-based as the kernel's default cubic, and always in
 * tcp_allowed_congestion_control, so an unprivileged socket may choose it */
#define FWD_CC "reno"

enum kind
{
  K_LISTEN,   /* a TCP port on the host */
  K_UDP_HOST, /* a UDP port on the host */
  K_CONN,     /* one side of a TCP connection */
  K_FLOW,     /* the inside socket of a UDP client */
};

struct ep
{
  enum kind kind;
  void *obj;
  int side; /* K_CONN: 0 the client, 1 the container */
};

struct fwd
{
  int epfd;
  uint32_t addr;
  bool transparent; /* TCP clients keep their address inside (transparent_setup) */
  bool cc_inside;   /* the connections made inside get FWD_CC (their default paces) */
  struct flow *flows;
  struct conn *dead; /* closed in this batch of events, freed after it */
  /* empty pipes of ended connections, for the next ones (a few: the user's
   * pipe buffers are limited, fs.pipe-user-pages-soft, for all its processes) */
  struct
  {
    int fd[2];
    bool big;
  } spare[POOL_PIPES];
  size_t n_spare, n_big;
};

struct port_ep
{
  struct ep ep;
  int fd;
  uint16_t cport;
};

struct conn
{
  int fd[2];
  int pipe[2][2];   /* pipe[d]: bytes read from fd[d], to be written to fd[!d] */
  size_t queued[2]; /* bytes in pipe[d] */
  bool eof[2], shut[2], hup[2], connecting, closed;
  bool client_early; /* the client's bytes came while connecting inside */
  bool big[2];       /* pipe[d] was grown to PIPE_SIZE (it filled up once: a bulk transfer) */
  struct conn *next_dead;
  struct ep ep[2];
};

struct flow
{
  struct ep ep;
  int fd;               /* inside, connected to the container's port */
  struct port_ep *port; /* the host socket it answers through */
  struct sockaddr_storage client;
  socklen_t client_len;
  time_t last;
  struct flow *next;
};

/* The client's IPv4 address (network byte order; ::1 is 127.0.0.1, a
 * v4-mapped address its IPv4 one), or 0 for another IPv6 client (the
 * container's network is IPv4 only). */
static uint32_t
client_v4 (const struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET)
    return ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
  if (ss->ss_family == AF_INET6)
    {
      const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
      if (IN6_IS_ADDR_LOOPBACK (a))
        return htonl (INADDR_LOOPBACK);
      uint32_t v4;
      memcpy (&v4, &a->s6_addr[12], 4);
      if (IN6_IS_ADDR_V4MAPPED (a))
        return v4;
    }
  return 0;
}

static bool
is_loopback (uint32_t a)
{
  return (ntohl (a) >> 24) == 127;
}

/* Whether a congestion control paces its sends (BBR: a timer a burst, at the
 * rate it estimates; the window-based ones send what the window allows). */
static bool
cc_paces (const char *name)
{
  return strncmp (name, "bbr", 3) == 0;
}

/* Whether TCP socket fd's congestion control paces (for a new socket: its
 * network namespace's default). */
static bool
socket_paces (int fd)
{
  char name[16] = "";
  socklen_t len = sizeof name - 1;
  return getsockopt (fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) == 0 && cc_paces (name);
}

/* A socket inside to the container's addr:port, from the client's address
 * `from` (0: the container's own).  A loopback client's address is local in
 * every namespace (127.0.0.0/8), as pasta's splice path shows it; another
 * one is bound with IP_TRANSPARENT and the connection marked FWD_MARK, whose
 * answers transparent_setup routes back here. */
static int
inside_socket (const struct fwd *f, int type, uint32_t from, uint16_t port)
{
  int fd = socket (AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  if (type == SOCK_STREAM)
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (type == SOCK_STREAM && f->cc_inside)
    setsockopt (fd, IPPROTO_TCP, TCP_CONGESTION, FWD_CC, sizeof FWD_CC - 1);
  if (from != 0 && !is_loopback (from))
    {
      uint32_t mark = FWD_MARK;
      if (!f->transparent || setsockopt (fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) < 0
          || setsockopt (fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0)
        from = 0; /* (seen as the container's own address) */
    }
  if (from != 0)
    {
      /* the port is picked by connect(2), for the 4-tuple: a bound port 0
       * would take one for the address alone */
      if (type == SOCK_STREAM)
        setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = from };
      if (bind (fd, (struct sockaddr *)&src, sizeof src) < 0)
        {
          close (fd);
          return -1;
        }
    }
  /* UDP from a loopback address stays unconnected: a server on 0.0.0.0 answers
   * a loopback client from 127.0.0.1 (the route's source), not from the
   * address it was sent to (udp_from_inside takes either) */
  if (type == SOCK_DGRAM && from != 0)
    return fd;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  sin.sin_addr.s_addr = f->addr;
  if (connect (fd, (struct sockaddr *)&sin, sizeof sin) < 0 && errno != EINPROGRESS)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* ---- TCP ---- */

/* Close a connection; the memory goes once the current batch of events, which
 * may still name it, has been handled. */
static void
conn_free (struct fwd *f, struct conn *c)
{
  for (int d = 0; d < 2; d++)
    {
      close (c->fd[d]); /* (the last reference: epoll forgets it) */
      if (c->queued[d] == 0 && f->n_spare < POOL_PIPES)
        {
          /* (a user's pipe buffers are limited for all its processes) */
          if (c->big[d] && f->n_big >= POOL_BIG)
            c->big[d] = fcntl (c->pipe[d][1], F_SETPIPE_SZ, PIPE_SMALL) < 0;
          f->n_big += c->big[d];
          f->spare[f->n_spare].fd[0] = c->pipe[d][0];
          f->spare[f->n_spare].fd[1] = c->pipe[d][1];
          f->spare[f->n_spare++].big = c->big[d];
          continue;
        }
      close (c->pipe[d][0]);
      close (c->pipe[d][1]);
    }
  c->closed = true;
  c->next_dead = f->dead;
  f->dead = c;
}

/* An empty pipe, from the pool or new (64 KiB, grown by pump() once a bulk
 * transfer fills it); -1 when none can be made. */
static int
pipe_get (struct fwd *f, int p[2], bool *big)
{
  if (f->n_spare > 0)
    {
      f->n_spare--;
      p[0] = f->spare[f->n_spare].fd[0];
      p[1] = f->spare[f->n_spare].fd[1];
      *big = f->spare[f->n_spare].big;
      f->n_big -= *big;
      return 0;
    }
  *big = false;
  return pipe2 (p, O_NONBLOCK | O_CLOEXEC);
}

static void
accept_all (struct fwd *f, struct port_ep *p)
{
  for (;;)
    {
      struct sockaddr_storage ss = { 0 };
      socklen_t len = sizeof ss;
      /* (TCP_NODELAY comes from the listening socket) */
      int cl = accept4 (p->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (cl < 0)
        return;
      int in = inside_socket (f, SOCK_STREAM, client_v4 (&ss), p->cport);
      struct conn *c = in < 0 ? NULL : xzalloc (sizeof *c);
      if (c == NULL || pipe_get (f, c->pipe[0], &c->big[0]) < 0)
        {
          close (cl);
          if (in >= 0)
            close (in);
          free (c);
          continue;
        }
      if (pipe_get (f, c->pipe[1], &c->big[1]) < 0)
        {
          close (cl);
          close (in);
          close (c->pipe[0][0]);
          close (c->pipe[0][1]);
          free (c);
          continue;
        }
      for (int d = 0; d < 2; d++)
        c->ep[d] = (struct ep){ .kind = K_CONN, .obj = c, .side = d };
      c->fd[0] = cl;
      c->fd[1] = in;
      c->connecting = true;
      /* edge-triggered, registered once: pump() always goes on until EAGAIN */
      for (int d = 0; d < 2; d++)
        {
          struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &c->ep[d] };
          epoll_ctl (f->epfd, EPOLL_CTL_ADD, c->fd[d], &e);
        }
    }
}

/* Move what can move in direction d; -1 when the connection is broken. */
static int
pump (struct conn *c, int d)
{
  for (;;)
    {
      if (c->queued[d] > 0)
        {
          ssize_t n = splice (c->pipe[d][0], NULL, c->fd[!d], NULL, c->queued[d],
                              SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          if (n < 0)
            return errno == EAGAIN ? 0 : -1;
          c->queued[d] -= (size_t)n;
          continue;
        }
      if (c->eof[d])
        {
          if (!c->shut[d] && !c->shut[!d])
            shutdown (c->fd[!d], SHUT_WR); /* (else both close right after) */
          c->shut[d] = true;
          return 0;
        }
      ssize_t n = splice (c->fd[d], NULL, c->pipe[d][1], NULL, PIPE_SIZE,
                          SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0)
        return errno == EAGAIN ? 0 : -1;
      if (n == 0)
        c->eof[d] = true;
      c->queued[d] += (size_t)n;
      /* full: a bulk transfer, which moves faster in large splices (tried
       * once: the user's pipe buffers may be at their limit) */
      if (!c->big[d] && c->queued[d] >= PIPE_SMALL)
        {
          fcntl (c->pipe[d][1], F_SETPIPE_SZ, PIPE_SIZE);
          c->big[d] = true;
        }
    }
}

static void
conn_event (struct fwd *f, struct conn *c, int side, uint32_t ev)
{
  if (c->closed)
    return;
  if (ev & EPOLLERR)
    {
      conn_free (f, c);
      return;
    }
  bool connected = false;
  if (c->connecting)
    {
      if (side == 0)
        {
          if (ev & EPOLLHUP)
            conn_free (f, c);
          /* (the client's bytes wait until the connection inside is made) */
          c->client_early |= (ev & EPOLLIN) != 0;
          return;
        }
      /* (a refused connection is EPOLLERR: nothing listens inside, and the
       * client sees its connection closed) */
      if (ev & EPOLLHUP)
        {
          conn_free (f, c);
          return;
        }
      c->connecting = false;
      /* the client's first bytes wait, unread, if they came meanwhile (if
       * they come later, an event says so: no read to find nothing) */
      connected = true;
    }
  if (ev & EPOLLHUP)
    c->hup[side] = true;
  /* readable: this side's bytes move; writable: the other side's */
  bool in = ev & (EPOLLIN | EPOLLHUP);
  /* (writable with nothing waiting to go there: the last pump read that
   * direction dry, and new bytes bring their own event) */
  bool out = connected ? c->client_early : (ev & EPOLLOUT) && c->queued[!side] > 0;
  if ((in && pump (c, side) < 0) || (out && pump (c, !side) < 0))
    {
      conn_free (f, c);
      return;
    }
  /* Done when both directions are shut, or a side hung up entirely and what it
   * sent has been delivered. */
  if ((c->shut[0] && c->shut[1]) || (c->hup[0] && c->queued[0] == 0)
      || (c->hup[1] && c->queued[1] == 0))
    {
      conn_free (f, c);
      return;
    }
}

/* ---- UDP ---- */

static struct flow *
flow_for (struct fwd *f, struct port_ep *p, const struct sockaddr_storage *ss, socklen_t len)
{
  for (struct flow *fl = f->flows; fl; fl = fl->next)
    if (fl->port == p && fl->client_len == len && memcmp (&fl->client, ss, len) == 0)
      return fl;
  /* (UDP: only a loopback client keeps its address; an answer carries no
   * mark of the datagram it answers) */
  uint32_t from = client_v4 (ss);
  int fd = inside_socket (f, SOCK_DGRAM, is_loopback (from) ? from : 0, p->cport);
  if (fd < 0)
    return NULL;
  struct flow *fl = xzalloc (sizeof *fl);
  fl->ep = (struct ep){ .kind = K_FLOW, .obj = fl };
  fl->fd = fd;
  fl->port = p;
  memcpy (&fl->client, ss, len);
  fl->client_len = len;
  fl->next = f->flows;
  f->flows = fl;
  struct epoll_event e = { .events = EPOLLIN, .data.ptr = &fl->ep };
  epoll_ctl (f->epfd, EPOLL_CTL_ADD, fd, &e);
  return fl;
}

static void
udp_from_host (struct fwd *f, struct port_ep *p, char *buf, size_t size)
{
  for (int i = 0; i < 64; i++)
    {
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      ssize_t n = recvfrom (p->fd, buf, size, MSG_DONTWAIT, (struct sockaddr *)&ss, &len);
      if (n < 0)
        return;
      struct flow *fl = flow_for (f, p, &ss, len);
      if (fl == NULL)
        continue;
      fl->last = time (NULL);
      struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (p->cport) };
      to.sin_addr.s_addr = f->addr;
      sendto (fl->fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
    }
}

static void
udp_from_inside (struct flow *fl, char *buf, size_t size)
{
  for (int i = 0; i < 64; i++)
    {
      struct sockaddr_in from = { 0 };
      socklen_t len = sizeof from;
      ssize_t n = recvfrom (fl->fd, buf, size, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
      if (n < 0)
        return;
      if (from.sin_port != htons (fl->port->cport))
        continue; /* (an unconnected flow's socket: only the server's answers) */
      fl->last = time (NULL);
      sendto (fl->port->fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&fl->client,
              fl->client_len);
    }
}

static void
udp_expire (struct fwd *f)
{
  time_t now = time (NULL);
  for (struct flow **pp = &f->flows; *pp;)
    {
      struct flow *fl = *pp;
      if (now - fl->last < UDP_IDLE_SECONDS)
        {
          pp = &fl->next;
          continue;
        }
      *pp = fl->next;
      close (fl->fd);
      free (fl);
    }
}

/* ---- the helper ---- */

/* In the container's network namespace, with CAP_NET_ADMIN there: TCP
 * connections marked FWD_MARK are delivered locally whatever their
 * destination (the client's address, bound with IP_TRANSPARENT), and a
 * server's accepted connection takes the mark of the SYN that made it
 * (tcp_fwmark_accept), so its answers come back to the forwarder instead of
 * leaving by the default route.  TPROXY's routing, in a namespace nook owns. */
static int
transparent_setup (nook_error_t *err)
{
  if (net_link_sysctl ("net/ipv4/tcp_fwmark_accept", "1", err) < 0)
    return -1;
  return net_link_local_mark (FWD_MARK, FWD_TABLE, FWD_RULE_PRIO, err);
}

/* In the container's network namespace, with CAP_NET_ADMIN there: a default
 * congestion control that paces (BBR, the host's default on some machines,
 * inherited by every new namespace) becomes FWD_CC.  Every TCP connection
 * there stays on this machine: the forwarder's hop on lo, the tap to the
 * user-mode stack (whose sockets on the host keep the host's choice), a veth
 * to a network's bridge; pacing them costs a timer a burst and, when a reader
 * was late, a rate estimated low: a bulk download through a published port
 * went at 105% of the host's speed with the server's connection pacing (the
 * forwarder's own unpaced), 206% without (68% with both pacing).
 * The server's connections are its own, so only the default reaches them. */
static void
cc_unpaced (void)
{
  const char *path = "/proc/sys/net/ipv4/tcp_congestion_control";
  char name[32] = "";
  {
    cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read (fd, name, sizeof name - 1) <= 0 || !cc_paces (name))
      return;
  }
  net_link_sysctl ("net/ipv4/tcp_congestion_control", FWD_CC, NULL);
}

static int
enter_namespaces (int userns, int netns, nook_error_t *err)
{
  struct stat a, b;
  /* (nook may already be in it: the kept user namespace) */
  bool same = fstat (userns, &a) == 0 && stat ("/proc/self/ns/user", &b) == 0
              && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  if (!same && setns (userns, CLONE_NEWUSER) < 0)
    return nook_error_set (err, errno, "enter the container's user namespace");
  if (setns (netns, CLONE_NEWNET) < 0)
    return nook_error_set (err, errno, "enter the container's network namespace");
  close (userns);
  close (netns);
  return 0;
}

__attribute__ ((noreturn)) static void
helper_fail (const struct nook_error *err)
{
  fprintf (stderr, "nook: port forwarder: %s%s%s\n", err->msg, err->code ? ": " : "",
           err->code ? strerror (err->code) : "");
  _exit (1);
}

/* One forwarding thread: its own epoll on the listening sockets (and, the first,
 * the UDP ports), its own connections. */
struct worker
{
  const struct net_port *ports;
  const int *fds;
  size_t n;
  int workers;
  bool first;
  int smaps_fd; /* the first's: util/settle.h (opened before Landlock) */
  pthread_barrier_t *all_sandboxed;
  struct fwd f;
};

/* Each thread restricts itself (capabilities, Landlock and seccomp are a thread's),
 * then waits until all have: none takes a connection while another thread of its
 * memory is unrestricted.  (The filter refuses clone: no thread is made after.) */
static void
worker_sandbox (struct worker *w)
{
  cleanup_error nook_error_t err = NULL;
  /* (CAP_NET_RAW in the container's user namespace: IP_TRANSPARENT, SO_MARK) */
  if (net_sandbox_self_keep (NULL, w->f.transparent ? 1ULL << CAP_NET_RAW : 0, &err) < 0)
    helper_fail (err);
  pthread_barrier_wait (w->all_sandboxed);
}

__attribute__ ((noreturn)) static void
worker_loop (struct worker *w)
{
  struct fwd *f = &w->f;
  f->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (f->epfd < 0)
    _exit (1);
  for (size_t i = 0; i < w->n; i++)
    {
      bool tcp = w->ports[i].proto == IPPROTO_TCP;
      if (!tcp && !w->first)
        continue;
      struct port_ep *p = xzalloc (sizeof *p);
      *p = (struct port_ep){ .ep = { .kind = tcp ? K_LISTEN : K_UDP_HOST, .obj = p },
                             .fd = w->fds[i],
                             .cport = w->ports[i].container_port };
      struct epoll_event e = { .events = EPOLLIN | (w->workers > 1 && tcp ? EPOLLEXCLUSIVE : 0),
                               .data.ptr = &p->ep };
      epoll_ctl (f->epfd, EPOLL_CTL_ADD, p->fd, &e);
    }
  size_t size = 65536;
  char *buf = xmalloc (size);
  struct epoll_event evs[64];
  /* the first thread, quiet for a second: what start-up left mapped is given
   * back (once a quiet spell; the others' activity does not count) */
  struct settle_quiet quiet = SETTLE_QUIET_INIT (w->smaps_fd);
  for (;;)
    {
      int timeout = f->flows ? 30000 : -1;
      if (w->first)
        timeout = settle_quiet_timeout (&quiet, timeout);
      int k = epoll_wait (f->epfd, evs, 64, timeout);
      if (k < 0 && errno != EINTR)
        _exit (1);
      if (w->first)
        settle_quiet_after (&quiet, k);
      for (int i = 0; i < k; i++)
        {
          struct ep *ep = evs[i].data.ptr;
          switch (ep->kind)
            {
            case K_LISTEN:
              accept_all (f, ep->obj);
              break;
            case K_UDP_HOST:
              udp_from_host (f, ep->obj, buf, size);
              break;
            case K_FLOW:
              udp_from_inside (ep->obj, buf, size);
              break;
            case K_CONN:
              conn_event (f, ep->obj, ep->side, evs[i].events);
              break;
            }
        }
      while (f->dead)
        {
          struct conn *c = f->dead;
          f->dead = c->next_dead;
          free (c);
        }
      if (f->flows)
        udp_expire (f);
    }
}

static void *
worker_thread (void *arg)
{
  worker_sandbox (arg);
  worker_loop (arg);
}

__attribute__ ((noreturn)) static void
forwarder_main (const struct net_port *ports, const int *fds, size_t n, uint32_t addr, bool set_cc)
{
  cleanup_error nook_error_t err = NULL;
  struct fwd f = { .addr = addr };
  /* splice(2) into a socket the peer reset raises SIGPIPE (it sends without
   * MSG_NOSIGNAL): one client leaving mid-answer must not end every port */
  signal (SIGPIPE, SIG_IGN);
  if (enter_namespaces (fds[n], fds[n + 1], &err) < 0)
    helper_fail (err);
  /* (without it, or should it fail, clients but loopback ones are seen as
   * the container's own address) */
  cleanup_error nook_error_t terr = NULL;
  f.transparent = transparent_setup (&terr) == 0;
  if (set_cc)
    cc_unpaced ();
  {
    /* (should the default still pace, e.g. without CAP_NET_ADMIN there) */
    cleanup_close int probe = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    f.cc_inside = probe >= 0 && socket_paces (probe);
  }
  /* One thread a CPU (4 at most) takes the TCP connections, the first one also
   * the UDP ports (their flows are its state): on a busy machine a single
   * forwarder gets one task's share of the CPU for every connection, the
   * servers' forked children one each (measured here at a load of 14: 48% of
   * the host's requests/s).  Each waits on the listening sockets with
   * EPOLLEXCLUSIVE.  Threads, not processes: an idle project keeps the
   * forwarder's memory once (forked workers each kept their own copies of
   * the pages they wrote, ~0.35 MB of PSS each). */
  /* A session of its own: with the scheduler's autogroups (one a session) the
   * forwarder would share one group's CPU with the nook or supervisor that
   * started it, and be starved on a busy machine as no daemon is (its
   * process group too: a terminal's ^C goes to nook, which ends it). */
  setsid ();
  bool has_tcp = false;
  for (size_t i = 0; i < n; i++)
    has_tcp |= ports[i].proto == IPPROTO_TCP;
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  int workers = !has_tcp || cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : (int)cpus;
  for (size_t i = 0; i < n; i++)
    {
      if (ports[i].proto != IPPROTO_TCP)
        continue;
      int one = 1; /* (both inherited by the accepted connections) */
      setsockopt (fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      /* the host's side of the forwarder's hop on the host's lo */
      if (socket_paces (fds[i]))
        setsockopt (fds[i], IPPROTO_TCP, TCP_CONGESTION, FWD_CC, sizeof FWD_CC - 1);
    }
  static pthread_barrier_t all_sandboxed;
  pthread_barrier_init (&all_sandboxed, NULL, (unsigned)workers);
  pthread_attr_t attr;
  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize (&attr, 256 * 1024);
  for (int w = 1; w < workers; w++)
    {
      struct worker *wk = xzalloc (sizeof *wk);
      *wk = (struct worker){
        .ports = ports, .fds = fds, .n = n, .workers = workers, .all_sandboxed = &all_sandboxed
      };
      wk->f = f;
      pthread_t t;
      int e = pthread_create (&t, &attr, worker_thread, wk);
      if (e != 0)
        {
          nook_error_set (&err, e, "start the forwarding threads");
          helper_fail (err);
        }
    }
  pthread_attr_destroy (&attr);
  struct worker lead = { .ports = ports,
                         .fds = fds,
                         .n = n,
                         .workers = workers,
                         .first = true,
                         .smaps_fd = mem_settle_open (),
                         .all_sandboxed = &all_sandboxed };
  lead.f = f;
  worker_sandbox (&lead);
  worker_loop (&lead);
}

int
net_forward_start (const struct net_port *ports, int *fds, size_t n, int userns_fd, int netns_fd,
                   uint32_t addr, bool set_cc, struct net_helper *h, nook_error_t *err)
{
  int *all = xreallocarray (NULL, n + 2, sizeof *all);
  memcpy (all, fds, n * sizeof *fds);
  all[n] = userns_fd;
  all[n + 1] = netns_fd;
  int r = net_helper_fork ("nook-ports", all, (int)n + 2, h, err);
  if (r == 0)
    forwarder_main (ports, all, n, addr, set_cc);
  h->group = r > 0; /* (a session of its own: killed as a group) */
  free (all);
  for (size_t i = 0; i < n; i++)
    close (fds[i]);
  return r < 0 ? -1 : 0;
}
