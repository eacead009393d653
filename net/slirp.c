/* net/slirp.c: see slirp.h. */
#include "net/slirp.h"
#include "net/sandbox_self.h"
#include "util/cleanup.h"
#include "util/settle.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLIRP_SYMBOLS(X)                                                                           \
  X (slirp_new)                                                                                    \
  X (slirp_input)                                                                                  \
  X (slirp_pollfds_fill)                                                                           \
  X (slirp_pollfds_poll)                                                                           \
  X (slirp_version_string)

#define DEFINE(name) static __typeof__ (name) *sym_##name;
SLIRP_SYMBOLS (DEFINE)
#undef DEFINE

static int
load (nook_error_t *err)
{
  void *h = dlopen ("libslirp.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return nook_error_set (err, ELIBACC, "load libslirp.so.0 (install libslirp0): %s", dlerror ());
#define RESOLVE(name)                                                                              \
  if ((sym_##name = (__typeof__ (name) *)dlsym (h, #name)) == NULL)                                \
    return nook_error_set (err, ELIBBAD, "libslirp.so.0 lacks %s", #name);
  SLIRP_SYMBOLS (RESOLVE)
#undef RESOLVE
  return 0;
}

int
net_slirp_probe (char **version, nook_error_t *err)
{
  if (load (err) < 0)
    return -1;
  *version = xstrdup (sym_slirp_version_string ());
  return 0;
}

void
net_slirp_config_default (struct net_slirp_config *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->network = htonl (0x0a000200);
  cfg->netmask = htonl (0xffffff00);
  cfg->gateway = htonl (0x0a000202);
  cfg->dns = htonl (0x0a000203);
  cfg->mtu = 65520;
}

/* ---- the helper's event loop (libslirp's callbacks) ---- */

struct timer
{
  SlirpTimerCb cb;
  void *opaque;
  int64_t expire_ms; /* -1: not armed */
  struct timer *next;
};

struct loop
{
  Slirp *slirp;
  int tap;
  struct pollfd *pfd;
  size_t n, cap;
  struct timer *timers;
};

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t
cb_send_packet (const void *buf, size_t len, void *opaque)
{
  struct loop *l = opaque;
  ssize_t n;
  do
    n = write (l->tap, buf, len);
  while (n < 0 && errno == EINTR);
  return n; /* a frame the tap cannot take is dropped: TCP retransmits */
}

static void
cb_guest_error (const char *msg, void *opaque)
{
  (void)msg;
  (void)opaque;
}

static int64_t
cb_clock_get_ns (void *opaque)
{
  (void)opaque;
  return now_ns ();
}

static void *
cb_timer_new (SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  struct loop *l = opaque;
  struct timer *t = xzalloc (sizeof *t);
  t->cb = cb;
  t->opaque = cb_opaque;
  t->expire_ms = -1;
  t->next = l->timers;
  l->timers = t;
  return t;
}

static void
cb_timer_free (void *timer, void *opaque)
{
  struct loop *l = opaque;
  for (struct timer **p = &l->timers; *p; p = &(*p)->next)
    if (*p == timer)
      {
        *p = ((struct timer *)timer)->next;
        free (timer);
        return;
      }
}

static void
cb_timer_mod (void *timer, int64_t expire_ms, void *opaque)
{
  (void)opaque;
  ((struct timer *)timer)->expire_ms = expire_ms;
}

static void
cb_poll_fd (int fd, void *opaque)
{
  (void)fd;
  (void)opaque;
}

static void
cb_notify (void *opaque)
{
  (void)opaque;
}

static int
cb_add_poll (int fd, int events, void *opaque)
{
  struct loop *l = opaque;
  if (l->n == l->cap)
    {
      l->cap = l->cap ? l->cap * 2 : 64;
      l->pfd = xreallocarray (l->pfd, l->cap, sizeof *l->pfd);
    }
  short ev = 0;
  if (events & SLIRP_POLL_IN)
    ev |= POLLIN;
  if (events & SLIRP_POLL_OUT)
    ev |= POLLOUT;
  if (events & SLIRP_POLL_PRI)
    ev |= POLLPRI;
  l->pfd[l->n] = (struct pollfd){ .fd = fd, .events = ev };
  return (int)l->n++;
}

static int
cb_get_revents (int idx, void *opaque)
{
  struct loop *l = opaque;
  short r = l->pfd[idx].revents;
  int ev = 0;
  if (r & POLLIN)
    ev |= SLIRP_POLL_IN;
  if (r & POLLOUT)
    ev |= SLIRP_POLL_OUT;
  if (r & POLLPRI)
    ev |= SLIRP_POLL_PRI;
  if (r & POLLERR)
    ev |= SLIRP_POLL_ERR;
  if (r & POLLHUP)
    ev |= SLIRP_POLL_HUP;
  return ev;
}

static const SlirpCb callbacks = {
  .send_packet = cb_send_packet,
  .guest_error = cb_guest_error,
  .clock_get_ns = cb_clock_get_ns,
  .timer_new = cb_timer_new,
  .timer_free = cb_timer_free,
  .timer_mod = cb_timer_mod,
  .register_poll_fd = cb_poll_fd,
  .unregister_poll_fd = cb_poll_fd,
  .notify = cb_notify,
};

static void
run_timers (struct loop *l, uint32_t *timeout)
{
  int64_t now = now_ns () / 1000000;
  bool fired;
  do
    {
      fired = false;
      for (struct timer *t = l->timers; t; t = t->next)
        if (t->expire_ms >= 0 && t->expire_ms <= now)
          {
            t->expire_ms = -1;
            t->cb (t->opaque); /* may free or re-arm timers: rescan */
            fired = true;
            break;
          }
    }
  while (fired);
  for (struct timer *t = l->timers; t && timeout; t = t->next)
    if (t->expire_ms >= 0 && (uint64_t)(t->expire_ms - now) < *timeout)
      *timeout = (uint32_t)(t->expire_ms - now);
}

/* Frames from the container: read what the tap holds (bounded, for fairness). */
static int
from_tap (struct loop *l, uint8_t *buf, size_t size)
{
  for (int i = 0; i < 64; i++)
    {
      ssize_t n = read (l->tap, buf, size);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
      if (n <= 0)
        return -1; /* the container's namespace is gone */
      sym_slirp_input (l->slirp, buf, (int)n);
    }
  return 0;
}

__attribute__ ((noreturn)) static void
run_loop (struct loop *l, unsigned mtu, int smaps_fd)
{
  size_t size = mtu + 14 + 4;
  uint8_t *buf = xmalloc (size);
  /* quiet for a second: what start-up left mapped is given back (once a quiet
   * spell; libslirp's timers are no activity) */
  struct settle_quiet quiet = SETTLE_QUIET_INIT (smaps_fd);
  for (;;)
    {
      uint32_t timeout = 1000;
      run_timers (l, &timeout);
      l->n = 0;
      cb_add_poll (l->tap, SLIRP_POLL_IN, l);
      sym_slirp_pollfds_fill (l->slirp, &timeout, cb_add_poll, l);
      int r = poll (l->pfd, l->n, settle_quiet_timeout (&quiet, (int)timeout));
      if (r < 0 && errno != EINTR)
        _exit (1);
      settle_quiet_after (&quiet, r);
      if (r > 0 && (l->pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
        _exit (0);
      if (r > 0 && (l->pfd[0].revents & POLLIN) && from_tap (l, buf, size) < 0)
        _exit (0);
      sym_slirp_pollfds_poll (l->slirp, r < 0, cb_get_revents, l);
    }
}

__attribute__ ((noreturn)) static void
helper_fail (nook_error_t err)
{
  fprintf (stderr, "nook: network helper: %s%s%s\n", err->msg, err->code ? ": " : "",
           err->code ? strerror (err->code) : "");
  _exit (1);
}

__attribute__ ((noreturn)) static void
helper_main (const struct net_slirp_config *cfg, int tap)
{
  cleanup_error nook_error_t err = NULL;
  signal (SIGPIPE, SIG_IGN); /* libslirp's send(2)s to a peer that reset */
  /* Nothing is loaded until the container sends its first frame: a container
   * that never uses the network costs a fork. */
  struct pollfd p = { .fd = tap, .events = POLLIN };
  while (poll (&p, 1, -1) < 0 && errno == EINTR)
    ;
  if (!(p.revents & POLLIN))
    _exit (0);
  if (load (&err) < 0)
    helper_fail (err);
  SlirpConfig sc = {
    .version = 3,
    .in_enabled = true,
    .vnetwork.s_addr = cfg->network,
    .vnetmask.s_addr = cfg->netmask,
    .vhost.s_addr = cfg->gateway,
    .vnameserver.s_addr = cfg->dns,
    .vdhcp_start.s_addr = htonl (ntohl (cfg->network) | 15),
    .if_mtu = cfg->mtu,
    .if_mru = cfg->mtu,
    .disable_host_loopback = !cfg->allow_host_loopback,
    .disable_dns = !cfg->dns_forwarder,
  };
  struct loop l = { .tap = tap };
  l.slirp = sym_slirp_new (&sc, &callbacks, &l);
  if (l.slirp == NULL)
    {
      nook_error_set (&err, 0, "libslirp refused its configuration");
      helper_fail (err);
    }
  int smaps = mem_settle_open (); /* (before Landlock) */
  if (net_sandbox_self ("/etc/resolv.conf", &err) < 0)
    helper_fail (err);
  fcntl (tap, F_SETFL, O_NONBLOCK | O_RDWR);
  run_loop (&l, cfg->mtu, smaps);
}

int
net_slirp_start (const struct net_slirp_config *cfg, int tap_fd, struct net_helper *h,
                 nook_error_t *err)
{
  int fds[1] = { tap_fd };
  int r = net_helper_fork ("nook-slirp", fds, 1, h, err);
  if (r == 0)
    helper_main (cfg, fds[0]);
  close (tap_fd);
  return r < 0 ? -1 : 0;
}
