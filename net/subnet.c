/* net/subnet.c: see subnet.h. */
#include "net/subnet.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t
mask_of (unsigned prefix)
{
  return prefix == 0 ? 0 : ~0u << (32 - prefix);
}

int
net_addr_parse (const char *s, uint32_t *out)
{
  struct in_addr a;
  if (s == NULL || inet_pton (AF_INET, s, &a) != 1)
    return -1;
  *out = ntohl (a.s_addr);
  return 0;
}

char *
net_addr_format (uint32_t a)
{
  return xasprintf ("%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

char *
net_subnet_format (const struct net_subnet *s)
{
  char *a = net_addr_format (s->addr);
  char *r = xasprintf ("%s/%u", a, s->prefix);
  free (a);
  return r;
}

/* Split CIDR form "ADDR/PREFIX" into addr (a string of size bytes) and a
 * prefix of at most max; -1 when s is not of that form (the address is the
 * caller's to parse). */
static int
cidr_split (const char *s, char *addr, size_t size, unsigned max, unsigned *prefix)
{
  const char *slash = s ? strchr (s, '/') : NULL;
  if (slash == NULL || (size_t)(slash - s) >= size)
    return -1;
  memcpy (addr, s, (size_t)(slash - s));
  addr[slash - s] = '\0';
  char *end;
  errno = 0;
  unsigned long p = strtoul (slash + 1, &end, 10);
  if (end == slash + 1 || *end || errno || p > max)
    return -1;
  *prefix = (unsigned)p;
  return 0;
}

int
net_subnet_parse (const char *s, const char *flag, struct net_subnet *out, nook_error_t *err)
{
  char addr[32];
  unsigned p;
  uint32_t a;
  if (cidr_split (s, addr, sizeof addr, 32, &p) < 0 || net_addr_parse (addr, &a) < 0)
    return nook_error_set (err, 0,
                           "invalid %s '%s': want an IPv4 subnet in CIDR form, e.g. "
                           "172.18.0.0/16",
                           flag, s ? s : "");
  if (p < 8 || p > 29)
    return nook_error_set (err, 0,
                           "invalid %s '%s': the prefix must be from /8 to /29 (room for the "
                           "gateway and containers)",
                           flag, s);
  out->prefix = p;
  out->addr = a & mask_of (out->prefix);
  if (out->addr != a)
    {
      char *want = net_subnet_format (out);
      nook_error_set (err, 0, "invalid %s '%s': it should be %s", flag, s, want);
      free (want);
      return -1;
    }
  return 0;
}

bool
net_subnet_overlaps (const struct net_subnet *a, const struct net_subnet *b)
{
  unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
  return ((a->addr ^ b->addr) & mask_of (p)) == 0;
}

bool
net_subnet_contains (const struct net_subnet *s, uint32_t a)
{
  return ((a ^ s->addr) & mask_of (s->prefix)) == 0;
}

static bool
free_of (const struct net_subnet *c, const struct net_subnet *avoid, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (net_subnet_overlaps (c, &avoid[i]))
      return false;
  return true;
}

int
net_subnet_pick (const struct net_subnet *avoid, size_t n, struct net_subnet *out)
{
  for (uint32_t b = 17; b <= 31; b++)
    {
      struct net_subnet c = { .addr = (172u << 24) | (b << 16), .prefix = 16 };
      if (free_of (&c, avoid, n))
        return *out = c, 0;
    }
  for (uint32_t b = 0; b < 256; b += 16)
    {
      struct net_subnet c = { .addr = (192u << 24) | (168u << 16) | (b << 8), .prefix = 20 };
      if (free_of (&c, avoid, n))
        return *out = c, 0;
    }
  return -1;
}

uint32_t
net_subnet_gateway (const struct net_subnet *s)
{
  return s->addr + 1;
}

uint32_t
net_subnet_alloc (const struct net_subnet *s, const uint32_t *used, size_t n)
{
  uint32_t last = s->addr | ~mask_of (s->prefix);
  for (uint32_t a = s->addr + 2; a < last; a++)
    {
      bool taken = false;
      for (size_t i = 0; i < n && !taken; i++)
        taken = used[i] == a;
      if (!taken)
        return a;
    }
  return 0;
}

/* ---- IPv6 ---- */

static void
mask6 (struct in6_addr *a, unsigned prefix)
{
  for (unsigned i = 0; i < 16; i++)
    {
      unsigned bits = prefix > 8 * i ? prefix - 8 * i : 0;
      if (bits < 8)
        a->s6_addr[i] &= (unsigned char)(0xff00u >> bits);
    }
}

int
net_subnet6_parse (const char *s, const char *flag, struct net_subnet6 *out, nook_error_t *err)
{
  char addr[64];
  unsigned p;
  struct in6_addr a;
  if (cidr_split (s, addr, sizeof addr, 128, &p) < 0 || inet_pton (AF_INET6, addr, &a) != 1)
    return nook_error_set (err, 0,
                           "invalid %s '%s': want an IPv6 subnet in CIDR form, e.g. "
                           "fd00:db8::/64",
                           flag, s ? s : "");
  if (p < 48 || p > 112)
    return nook_error_set (err, 0,
                           "invalid %s '%s': the prefix must be from /48 to /112 (room for the "
                           "gateway and containers)",
                           flag, s);
  out->prefix = p;
  out->addr = a;
  mask6 (&out->addr, out->prefix);
  if (memcmp (&out->addr, &a, sizeof a) != 0)
    {
      char *want = net_subnet6_format (out);
      nook_error_set (err, 0, "invalid %s '%s': it should be %s", flag, s, want);
      free (want);
      return -1;
    }
  return 0;
}

char *
net_addr6_format (const struct in6_addr *a)
{
  char buf[INET6_ADDRSTRLEN];
  inet_ntop (AF_INET6, a, buf, sizeof buf);
  return xstrdup (buf);
}

char *
net_subnet6_format (const struct net_subnet6 *s)
{
  char buf[INET6_ADDRSTRLEN];
  inet_ntop (AF_INET6, &s->addr, buf, sizeof buf);
  return xasprintf ("%s/%u", buf, s->prefix);
}

bool
net_subnet6_overlaps (const struct net_subnet6 *a, const struct net_subnet6 *b)
{
  struct in6_addr x = a->addr, y = b->addr;
  unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
  mask6 (&x, p);
  mask6 (&y, p);
  return memcmp (&x, &y, sizeof x) == 0;
}

void
net_subnet6_host (const struct net_subnet6 *s, uint32_t index, struct in6_addr *out)
{
  *out = s->addr;
  for (int i = 15; i >= 12; i--, index >>= 8)
    out->s6_addr[i] |= (unsigned char)(index & 0xff);
}

void
net_subnet6_ula (const unsigned char seed[5], struct net_subnet6 *out)
{
  memset (out, 0, sizeof *out);
  out->addr.s6_addr[0] = 0xfd;
  memcpy (&out->addr.s6_addr[1], seed, 5);
  out->prefix = 64;
}
