/* sandbox/netif.c: see netif.h. */
#include "sandbox/netif.h"
#include "util/cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int
sandbox_netif_up (const char *name, nook_error_t *err)
{
  struct ifreq ifr;
  memset (&ifr, 0, sizeof ifr);
  if (name == NULL || *name == '\0' || strlen (name) >= sizeof ifr.ifr_name)
    return nook_error_set (err, EINVAL, "invalid network interface name '%s'", name ? name : "");
  memcpy (ifr.ifr_name, name, strlen (name));
  /* Any socket reaches the device ioctls; a datagram one is the cheapest. */
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nook_error_set (err, errno, "socket to configure '%s'", name);
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    return nook_error_set (err, errno, "read the flags of network interface '%s'", name);
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
    return nook_error_set (err, errno, "bring network interface '%s' up", name);
  return 0;
}

static void
set_in (struct sockaddr *sa, uint32_t addr)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };
  memcpy (sa, &sin, sizeof sin);
}

static int
configure (int sock, const struct nook_netif *cfg, nook_error_t *err)
{
  struct ifreq ifr;
  memset (&ifr, 0, sizeof ifr);
  memcpy (ifr.ifr_name, cfg->name, strlen (cfg->name));
  ifr.ifr_mtu = (int)cfg->mtu;
  if (cfg->mtu && ioctl (sock, SIOCSIFMTU, &ifr) < 0)
    return nook_error_set (err, errno, "set the MTU of '%s' to %u", cfg->name, cfg->mtu);
  set_in (&ifr.ifr_addr, cfg->addr);
  if (ioctl (sock, SIOCSIFADDR, &ifr) < 0)
    return nook_error_set (err, errno, "set the address of '%s'", cfg->name);
  uint32_t mask = cfg->prefix == 0 ? 0 : htonl (~0u << (32 - cfg->prefix));
  set_in (&ifr.ifr_netmask, mask);
  if (ioctl (sock, SIOCSIFNETMASK, &ifr) < 0)
    return nook_error_set (err, errno, "set the netmask of '%s'", cfg->name);
  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    return nook_error_set (err, errno, "read the flags of '%s'", cfg->name);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (sock, SIOCSIFFLAGS, &ifr) < 0)
    return nook_error_set (err, errno, "bring '%s' up", cfg->name);
  struct rtentry rt;
  memset (&rt, 0, sizeof rt);
  set_in (&rt.rt_dst, 0);
  set_in (&rt.rt_genmask, 0);
  set_in (&rt.rt_gateway, cfg->gateway);
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = (char *)cfg->name;
  if (ioctl (sock, SIOCADDRT, &rt) < 0)
    return nook_error_set (err, errno, "add the default route of '%s'", cfg->name);
  return 0;
}

/* No IPv6 on interfaces made from now on in this namespace (the user-mode stacks
 * are IPv4 here): no link-local address, no duplicate-address or router
 * solicitation frames at link-up, so the stack stays idle until the container
 * sends something.  Docker does the same on networks without IPv6. */
static void
no_ipv6_on_new_interfaces (void)
{
  int fd = open ("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  if (write (fd, "1", 1) < 0)
    {
      /* an old value stays: only frames at link-up, harmless */
    }
  close (fd);
}

int
sandbox_netif_tap (const struct nook_netif *cfg, nook_error_t *err)
{
  struct ifreq ifr;
  memset (&ifr, 0, sizeof ifr);
  if (cfg->name[0] == '\0' || strlen (cfg->name) >= sizeof ifr.ifr_name)
    return nook_error_set (err, EINVAL, "invalid network interface name '%s'", cfg->name);
  cleanup_close int tap = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tap < 0)
    return nook_error_set (err, errno,
                           "open /dev/net/tun (the default network needs it; --network none "
                           "does not)");
  no_ipv6_on_new_interfaces ();
  memcpy (ifr.ifr_name, cfg->name, strlen (cfg->name));
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl (tap, TUNSETIFF, &ifr) < 0)
    return nook_error_set (err, errno, "create the tap interface '%s'", cfg->name);
  cleanup_close int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return nook_error_set (err, errno, "socket to configure '%s'", cfg->name);
  if (configure (sock, cfg, err) < 0)
    return -1;
  return take_fd (&tap);
}
