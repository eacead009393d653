/* sandbox/netif.c: see netif.h. */
#include "sandbox/netif.h"
#include "util/cleanup.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

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
