/* net/link.c: see link.h. */
#include "net/link.h"
#include "util/cleanup.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int
ifreq_of (struct ifreq *ifr, const char *name, nook_error_t *err)
{
  memset (ifr, 0, sizeof *ifr);
  if (name == NULL || *name == '\0' || strlen (name) >= sizeof ifr->ifr_name)
    return nook_error_set (err, EINVAL, "invalid network interface name '%s'", name ? name : "");
  memcpy (ifr->ifr_name, name, strlen (name));
  return 0;
}

int
net_link_bridge_add (const char *name, nook_error_t *err)
{
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return nook_error_set (err, errno, "socket to create bridge '%s'", name);
  if (ioctl (fd, SIOCBRADDBR, name) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "create bridge '%s'", name);
  return 0;
}

int
net_link_bridge_attach (const char *bridge, const char *ifname, nook_error_t *err)
{
  struct ifreq ifr;
  if (ifreq_of (&ifr, bridge, err) < 0)
    return -1;
  ifr.ifr_ifindex = (int)if_nametoindex (ifname);
  if (ifr.ifr_ifindex == 0)
    return nook_error_set (err, errno, "find interface '%s'", ifname);
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ioctl (fd, SIOCBRADDIF, &ifr) < 0)
    return nook_error_set (err, errno, "attach '%s' to bridge '%s'", ifname, bridge);
  return 0;
}

/* rtnetlink message building */
struct nlbuf
{
  char data[1024];
  size_t len;
};

static struct rtattr *
attr_add (struct nlbuf *b, unsigned short type, const void *v, size_t n)
{
  struct rtattr *a = (struct rtattr *)(b->data + b->len);
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH (n);
  if (n)
    memcpy (RTA_DATA (a), v, n);
  b->len += RTA_ALIGN (a->rta_len);
  return a;
}

static void
attr_end (struct nlbuf *b, struct rtattr *a)
{
  a->rta_len = (unsigned short)(b->data + b->len - (char *)a);
}

/* Send the request in b; an answer of error `ok` (EEXIST, or 0) counts as done. */
static int
nl_request_ok (struct nlbuf *b, const char *what, int ok, nook_error_t *err)
{
  struct nlmsghdr *h = (struct nlmsghdr *)b->data;
  h->nlmsg_len = (unsigned)b->len;
  cleanup_close int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return nook_error_set (err, errno, "netlink socket (%s)", what);
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  if (sendto (fd, b->data, b->len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
    return nook_error_set (err, errno, "%s", what);
  char reply[4096];
  ssize_t n;
  do
    n = recv (fd, reply, sizeof reply, 0);
  while (n < 0 && errno == EINTR);
  if (n < (ssize_t)sizeof (struct nlmsghdr))
    return nook_error_set (err, n < 0 ? errno : EIO, "%s: no netlink answer", what);
  struct nlmsghdr *r = (struct nlmsghdr *)reply;
  if (r->nlmsg_type == NLMSG_ERROR)
    {
      struct nlmsgerr *e = NLMSG_DATA (r);
      if (e->error != 0 && -e->error != ok)
        return nook_error_set (err, -e->error, "%s", what);
    }
  return 0;
}

static int
nl_request (struct nlbuf *b, const char *what, nook_error_t *err)
{
  return nl_request_ok (b, what, 0, err);
}

int
net_link_veth_add (const char *name, const char *peer, int peer_netns_fd, unsigned mtu,
                   nook_error_t *err)
{
  struct nlbuf b;
  memset (&b, 0, sizeof b);
  struct nlmsghdr *h = (struct nlmsghdr *)b.data;
  h->nlmsg_type = RTM_NEWLINK;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  h->nlmsg_seq = 1;
  b.len = NLMSG_LENGTH (sizeof (struct ifinfomsg));
  ((struct ifinfomsg *)NLMSG_DATA (h))->ifi_family = AF_UNSPEC;
  attr_add (&b, IFLA_IFNAME, name, strlen (name) + 1);
  if (mtu)
    attr_add (&b, IFLA_MTU, &mtu, sizeof mtu);
  struct rtattr *info = attr_add (&b, IFLA_LINKINFO, NULL, 0);
  attr_add (&b, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = attr_add (&b, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *pa = attr_add (&b, VETH_INFO_PEER, NULL, 0);
  struct ifinfomsg pifi = { .ifi_family = AF_UNSPEC };
  memcpy (b.data + b.len, &pifi, sizeof pifi);
  b.len += NLMSG_ALIGN (sizeof pifi);
  attr_add (&b, IFLA_IFNAME, peer, strlen (peer) + 1);
  if (mtu)
    attr_add (&b, IFLA_MTU, &mtu, sizeof mtu);
  uint32_t nsfd = (uint32_t)peer_netns_fd;
  attr_add (&b, IFLA_NET_NS_FD, &nsfd, sizeof nsfd);
  attr_end (&b, pa);
  attr_end (&b, data);
  attr_end (&b, info);
  cleanup_free char *what = xasprintf ("create veth pair '%s'/'%s'", name, peer);
  return nl_request (&b, what, err);
}

static void
set_in (struct sockaddr *sa, uint32_t addr)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };
  memcpy (sa, &sin, sizeof sin);
}

int
net_link_configure (const char *name, unsigned mtu, uint32_t addr, unsigned prefix,
                    uint32_t gateway, nook_error_t *err)
{
  struct ifreq ifr;
  if (ifreq_of (&ifr, name, err) < 0)
    return -1;
  cleanup_close int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return nook_error_set (err, errno, "socket to configure '%s'", name);
  ifr.ifr_mtu = (int)mtu;
  if (mtu && ioctl (sock, SIOCSIFMTU, &ifr) < 0)
    return nook_error_set (err, errno, "set the MTU of '%s' to %u", name, mtu);
  if (addr)
    {
      set_in (&ifr.ifr_addr, addr);
      if (ioctl (sock, SIOCSIFADDR, &ifr) < 0)
        return nook_error_set (err, errno, "set the address of '%s'", name);
      set_in (&ifr.ifr_netmask, prefix == 0 ? 0 : htonl (~0u << (32 - prefix)));
      if (ioctl (sock, SIOCSIFNETMASK, &ifr) < 0)
        return nook_error_set (err, errno, "set the netmask of '%s'", name);
    }
  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    return nook_error_set (err, errno, "read the flags of '%s'", name);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (sock, SIOCSIFFLAGS, &ifr) < 0)
    return nook_error_set (err, errno, "bring '%s' up", name);
  if (gateway == 0)
    return 0;
  struct rtentry rt;
  memset (&rt, 0, sizeof rt);
  set_in (&rt.rt_dst, 0);
  set_in (&rt.rt_genmask, 0);
  set_in (&rt.rt_gateway, gateway);
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = (char *)name;
  if (ioctl (sock, SIOCADDRT, &rt) < 0)
    return nook_error_set (err, errno, "add the default route of '%s'", name);
  return 0;
}

int
net_link_sysctl (const char *path, const char *value, nook_error_t *err)
{
  cleanup_free char *p = xasprintf ("/proc/sys/%s", path);
  cleanup_close int fd = open (p, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, value, strlen (value)) < 0)
    return nook_error_set (err, errno, "write '%s' to %s", value, p);
  return 0;
}

int
net_link_delete (const char *name, nook_error_t *err)
{
  struct nlbuf b;
  memset (&b, 0, sizeof b);
  struct nlmsghdr *h = (struct nlmsghdr *)b.data;
  h->nlmsg_type = RTM_DELLINK;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h->nlmsg_seq = 1;
  b.len = NLMSG_LENGTH (sizeof (struct ifinfomsg));
  ((struct ifinfomsg *)NLMSG_DATA (h))->ifi_family = AF_UNSPEC;
  attr_add (&b, IFLA_IFNAME, name, strlen (name) + 1);
  cleanup_free char *what = xasprintf ("delete interface '%s'", name);
  return nl_request (&b, what, err);
}

int
net_link_local_mark (uint32_t mark, uint32_t table, uint32_t prio, nook_error_t *err)
{
  struct nlbuf b;
  memset (&b, 0, sizeof b);
  struct nlmsghdr *h = (struct nlmsghdr *)b.data;
  h->nlmsg_type = RTM_NEWROUTE;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  h->nlmsg_seq = 1;
  b.len = NLMSG_LENGTH (sizeof (struct rtmsg));
  struct rtmsg *rt = NLMSG_DATA (h);
  *rt = (struct rtmsg){ .rtm_family = AF_INET,
                        .rtm_table = RT_TABLE_UNSPEC,
                        .rtm_protocol = RTPROT_BOOT,
                        .rtm_scope = RT_SCOPE_HOST,
                        .rtm_type = RTN_LOCAL };
  uint32_t lo = if_nametoindex ("lo");
  if (lo == 0)
    return nook_error_set (err, errno, "find interface 'lo'");
  attr_add (&b, RTA_TABLE, &table, sizeof table);
  attr_add (&b, RTA_OIF, &lo, sizeof lo);
  cleanup_free char *what = xasprintf ("add route 'local 0.0.0.0/0 dev lo table %u'", table);
  if (nl_request_ok (&b, what, EEXIST, err) < 0)
    return -1;
  memset (&b, 0, sizeof b);
  h->nlmsg_type = RTM_NEWRULE;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  h->nlmsg_seq = 2;
  b.len = NLMSG_LENGTH (sizeof (struct fib_rule_hdr));
  struct fib_rule_hdr *fr = NLMSG_DATA (h);
  *fr = (struct fib_rule_hdr){ .family = AF_INET, .action = FR_ACT_TO_TBL };
  uint32_t mask = 0xffffffffu;
  attr_add (&b, FRA_PRIORITY, &prio, sizeof prio);
  attr_add (&b, FRA_FWMARK, &mark, sizeof mark);
  attr_add (&b, FRA_FWMASK, &mask, sizeof mask);
  attr_add (&b, FRA_TABLE, &table, sizeof table);
  free (what);
  what = xasprintf ("add rule 'fwmark %#x lookup %u'", mark, table);
  return nl_request_ok (&b, what, EEXIST, err);
}

int
net_link_set_mac (const char *name, const uint8_t mac[6], nook_error_t *err)
{
  struct ifreq ifr;
  if (ifreq_of (&ifr, name, err) < 0)
    return -1;
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  memcpy (ifr.ifr_hwaddr.sa_data, mac, 6);
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ioctl (fd, SIOCSIFHWADDR, &ifr) < 0)
    return nook_error_set (err, errno, "set the Ethernet address of '%s'", name);
  return 0;
}

int
net_link_addr6 (const char *name, const struct in6_addr *a, unsigned prefix, nook_error_t *err)
{
  /* (linux/ipv6.h's struct in6_ifreq) */
  struct
  {
    struct in6_addr addr;
    uint32_t prefixlen;
    int ifindex;
  } r = { .addr = *a, .prefixlen = prefix, .ifindex = (int)if_nametoindex (name) };
  if (r.ifindex == 0)
    return nook_error_set (err, errno, "find interface '%s'", name);
  cleanup_close int fd = socket (AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ioctl (fd, SIOCSIFADDR, &r) < 0)
    return nook_error_set (err, errno, "add an IPv6 address to '%s'", name);
  return 0;
}
