/* tests/unit/test_netif.c: sandbox/netif (bringing lo up in a new network namespace).
 * The namespace is made with unshare(CLONE_NEWUSER | CLONE_NEWNET) in a forked child; where
 * user namespaces are not available, the tests that need one are skipped. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/in_child.h"

#include "sandbox/netif.h"
#include "util/cleanup.h"

/* Is lo up in the current network namespace? -1 when it cannot be told. */
static int
lo_is_up (void)
{
  struct ifreq ifr;
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, "lo");
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    return -1;
  return (ifr.ifr_flags & IFF_UP) != 0;
}

/* Can a TCP client reach a server on 127.0.0.1 here? */
static bool
loopback_reachable (void)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  cleanup_close int srv = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cleanup_close int cli = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  return srv >= 0 && cli >= 0 && bind (srv, (struct sockaddr *)&a, sizeof a) == 0
         && listen (srv, 1) == 0 && getsockname (srv, (struct sockaddr *)&a, &len) == 0
         && connect (cli, (struct sockaddr *)&a, sizeof a) == 0;
}

/* In a forked child, in new user and network namespaces: 0 when every check holds, else
 * the number of the failing check; 77 when the namespaces cannot be made. */
static int
in_new_netns (void)
{
  if (unshare (CLONE_NEWUSER | CLONE_NEWNET) < 0)
    return 77;
  nook_error_t err = NULL;
  if (lo_is_up () != 0 || loopback_reachable ())
    return 1; /* a new namespace starts with lo down */
  if (sandbox_netif_up ("lo", &err) < 0)
    return 2;
  if (lo_is_up () != 1 || !loopback_reachable ())
    return 3;
  if (sandbox_netif_up ("lo", &err) < 0) /* already up: nothing to do */
    return 4;
  if (sandbox_netif_up ("nosuch0", &err) != -1 || err == NULL || err->code != ENODEV
      || strstr (err->msg, "nosuch0") == NULL)
    return 5;
  return 0;
}

static void
test_lo_up (void **state)
{
  int rc = in_child (in_new_netns);
  if (rc == 77)
    skip ();
  if (rc != 0)
    fail_msg ("check %d failed in the child", rc);
}

/* The tap of the default network: address, netmask, MTU, up, and the default route (read
 * back from /proc/net/route, which shows the current network namespace's table); a frame
 * the namespace sends queues on the tap's fd. */
static int
tap_in_new_netns (void)
{
  if (unshare (CLONE_NEWUSER | CLONE_NEWNET) < 0)
    return 77;
  nook_error_t err = NULL;
  struct nook_netif cfg = { .name = "eth0", .prefix = 24, .mtu = 65520 };
  cfg.addr = htonl (0x0a000264);
  cfg.gateway = htonl (0x0a000202);
  int tap = sandbox_netif_tap (&cfg, &err);
  if (tap < 0)
    return err && (err->code == EACCES || err->code == ENOENT || err->code == EPERM) ? 77 : 1;
  struct ifreq ifr;
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, "eth0");
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ioctl (fd, SIOCGIFADDR, &ifr) < 0
      || ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr != cfg.addr)
    return 2;
  if (ioctl (fd, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu != 65520)
    return 3;
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP))
    return 4;
  char buf[4096];
  int rf = open ("/proc/net/route", O_RDONLY | O_CLOEXEC);
  ssize_t n = rf >= 0 ? read (rf, buf, sizeof buf - 1) : -1;
  if (n <= 0)
    return 5;
  buf[n] = '\0';
  if (strstr (buf, "eth0\t00000000\t0202000A") == NULL) /* default via 10.0.2.2 */
    return 6;
  /* a datagram to the outside goes out as a frame (ARP for the gateway first) */
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons (9) };
  dst.sin_addr.s_addr = htonl (0xc0000201);
  sendto (fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof dst);
  struct pollfd p = { .fd = tap, .events = POLLIN };
  if (poll (&p, 1, 5000) != 1)
    return 7;
  return 0;
}

static void
test_tap (void **state)
{
  int rc = in_child (tap_in_new_netns);
  if (rc == 77)
    skip ();
  if (rc != 0)
    fail_msg ("check %d failed in the child", rc);
}

static void
test_bad_names (void **state)
{
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_netif_up ("", &err), -1);
  assert_int_equal (err->code, EINVAL);
  nook_error_free (&err);
  assert_int_equal (sandbox_netif_up ("a-name-longer-than-ifnamsiz", &err), -1);
  assert_int_equal (err->code, EINVAL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_lo_up),
    cmocka_unit_test (test_tap),
    cmocka_unit_test (test_bad_names),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
