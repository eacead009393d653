/* net/dnsd.c: see dnsd.h. */
#include "net/dnsd.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define T_A 1
#define T_PTR 12
#define T_AAAA 28
#define T_ANY 255
#define C_IN 1
#define TTL 600 /* Docker's embedded server's */

/* The question: its name (dotted, lowercase as given, no trailing dot), type,
 * class, and where it ends; false when malformed. */
static bool
question (const unsigned char *q, size_t len, char *name, size_t size, unsigned *type,
          unsigned *cls, size_t *end)
{
  size_t i = 12, o = 0;
  for (;;)
    {
      if (i >= len)
        return false;
      unsigned l = q[i++];
      if (l == 0)
        break;
      if (l > 63 || i + l > len || o + l + 2 > size)
        return false; /* (no compression in a question) */
      if (o)
        name[o++] = '.';
      memcpy (name + o, q + i, l);
      o += l;
      i += l;
    }
  name[o] = '\0';
  if (i + 4 > len)
    return false;
  *type = (unsigned)q[i] << 8 | q[i + 1];
  *cls = (unsigned)q[i + 2] << 8 | q[i + 3];
  *end = i + 4;
  return true;
}

/* The addresses of family `af` (AF_INET: 4 bytes each, AF_INET6: 16) of
 * `name` among the lines (several members may share an alias: a Compose
 * service's replicas), at most max; their count.  *known: the name is there
 * with any address. */
static size_t
lookup (const char *name, int af, char *const *lines, size_t n, unsigned char (*found)[16],
        size_t max, bool *known)
{
  size_t nf = 0, alen = af == AF_INET ? 4 : 16;
  for (size_t k = 0; k < n && nf < max; k++)
    {
      const char *l = lines[k];
      char addr[64];
      size_t a = strcspn (l, " \t");
      if (a == 0 || a >= sizeof addr)
        continue;
      memcpy (addr, l, a);
      addr[a] = '\0';
      unsigned char in[16];
      int fam = inet_pton (AF_INET, addr, in) == 1    ? AF_INET
                : inet_pton (AF_INET6, addr, in) == 1 ? AF_INET6
                                                      : 0;
      if (fam == 0)
        continue;
      for (const char *p = l + a; *p;)
        {
          p += strspn (p, " \t");
          size_t w = strcspn (p, " \t");
          if (w && w == strlen (name) && strncasecmp (p, name, w) == 0)
            {
              *known = true;
              if (fam != af)
                break;
              bool dup = false;
              for (size_t j = 0; j < nf; j++)
                dup = dup || memcmp (found[j], in, alen) == 0;
              if (!dup)
                memcpy (found[nf++], in, alen);
              break;
            }
          p += w;
        }
    }
  return nf;
}

/* The first name of the member at `addr` (network order), written to out. */
static bool
reverse (uint32_t addr, char *const *lines, size_t n, char *out, size_t size)
{
  for (size_t k = 0; k < n; k++)
    {
      const char *l = lines[k];
      size_t a = strcspn (l, " \t");
      char buf[64];
      struct in_addr in;
      if (a == 0 || a >= sizeof buf)
        continue;
      memcpy (buf, l, a);
      buf[a] = '\0';
      if (inet_pton (AF_INET, buf, &in) != 1 || in.s_addr != addr)
        continue;
      const char *p = l + a + strspn (l + a, " \t");
      size_t w = strcspn (p, " \t");
      if (w == 0 || w + 1 > size)
        return false;
      memcpy (out, p, w);
      out[w] = '\0';
      return true;
    }
  return false;
}

/* "D.C.B.A.in-addr.arpa" -> A.B.C.D (network order). */
static bool
ptr_addr (const char *name, uint32_t *addr)
{
  unsigned d, c, b, a;
  char rest[32];
  if (sscanf (name, "%u.%u.%u.%u.%31s", &d, &c, &b, &a, rest) != 5
      || strcasecmp (rest, "in-addr.arpa") != 0 || a > 255 || b > 255 || c > 255 || d > 255)
    return false;
  *addr = htonl (a << 24 | b << 16 | c << 8 | d);
  return true;
}

/* The reply's header and question (copied), rcode, ancount. */
static bool
header (const unsigned char *q, size_t qend, unsigned rcode, unsigned an, unsigned char *out,
        size_t size)
{
  if (qend > size)
    return false;
  memcpy (out, q, qend);
  out[2] = (unsigned char)(0x80 | 0x04 | (q[2] & 0x01)); /* QR, AA, RD as asked */
  out[3] = (unsigned char)(0x80 | (rcode & 0x0f));       /* RA */
  out[4] = 0;
  out[5] = 1;
  out[6] = (unsigned char)(an >> 8);
  out[7] = (unsigned char)an;
  memset (out + 8, 0, 4); /* no authority, no additional (an EDNS OPT dropped) */
  return true;
}

static size_t
put_rr_head (unsigned char *p, unsigned type, unsigned rdlen)
{
  p[0] = 0xc0; /* the question's name */
  p[1] = 12;
  p[2] = (unsigned char)(type >> 8);
  p[3] = (unsigned char)type;
  p[4] = 0;
  p[5] = C_IN;
  p[6] = (unsigned char)(TTL >> 24);
  p[7] = (unsigned char)(TTL >> 16);
  p[8] = (unsigned char)(TTL >> 8);
  p[9] = (unsigned char)TTL;
  p[10] = (unsigned char)(rdlen >> 8);
  p[11] = (unsigned char)rdlen;
  return 12;
}

static enum net_dnsd_verdict
answer (const unsigned char *q, size_t qlen, char *const *lines, size_t n, unsigned char *out,
        size_t size, size_t *out_len)
{
  char name[256];
  unsigned type, cls;
  size_t end;
  /* a query (QR 0), standard (opcode 0), one question */
  if (qlen < 12 || (q[2] & 0x80) || (q[2] & 0x78) || q[4] != 0 || q[5] != 1
      || !question (q, qlen, name, sizeof name, &type, &cls, &end))
    return NET_DNSD_DROP;
  if (cls != C_IN)
    return NET_DNSD_FORWARD;
  uint32_t ptr;
  if (type == T_PTR && ptr_addr (name, &ptr))
    {
      char target[256];
      if (!reverse (ptr, lines, n, target, sizeof target))
        return NET_DNSD_FORWARD;
      /* the target as labels: a single label, the member's name */
      size_t tl = strlen (target);
      if (tl > 63 || !header (q, end, 0, 1, out, size) || end + 12 + tl + 2 > size)
        return NET_DNSD_FORWARD;
      size_t o = end + put_rr_head (out + end, T_PTR, (unsigned)tl + 2);
      out[o++] = (unsigned char)tl;
      memcpy (out + o, target, tl);
      o += tl;
      out[o++] = 0;
      *out_len = o;
      return NET_DNSD_ANSWER;
    }
  unsigned char v4[16][16], v6[16][16];
  bool known = false;
  size_t n4 = lookup (name, AF_INET, lines, n, v4, ARRAY_SIZE (v4), &known);
  size_t n6 = lookup (name, AF_INET6, lines, n, v6, ARRAY_SIZE (v6), &known);
  if (!known)
    return NET_DNSD_FORWARD;
  /* A, AAAA (members of a network with --ipv6), both for ANY; an empty
   * answer for another type of a known name */
  size_t na = type == T_A || type == T_ANY ? n4 : 0;
  size_t na6 = type == T_AAAA || type == T_ANY ? n6 : 0;
  if (!header (q, end, 0, (unsigned)(na + na6), out, size) || end + 16 * na + 28 * na6 > size)
    return NET_DNSD_DROP;
  size_t o = end;
  /* every member with the name, rotated by the query's ID: round robin between the
   * replicas of a service */
  size_t rot = (size_t)q[0] << 8 | q[1];
  for (size_t k = 0; k < na; k++)
    {
      o += put_rr_head (out + o, T_A, 4);
      memcpy (out + o, v4[(rot + k) % na], 4);
      o += 4;
    }
  for (size_t k = 0; k < na6; k++)
    {
      o += put_rr_head (out + o, T_AAAA, 16);
      memcpy (out + o, v6[(rot + k) % na6], 16);
      o += 16;
    }
  *out_len = o;
  return NET_DNSD_ANSWER;
}

enum net_dnsd_verdict
net_dnsd_answer (const unsigned char *q, size_t qlen, char *const *lines, size_t n,
                 unsigned char *out, size_t size, size_t *out_len)
{
  /* (a member's entry may hold several lines: its IPv4 and IPv6 addresses) */
  size_t nf = 0, cap = n + 1;
  char **flat = xreallocarray (NULL, cap, sizeof *flat);
  for (size_t k = 0; k < n; k++)
    for (const char *l = lines[k]; l && *l;)
      {
        size_t w = strcspn (l, "\n");
        if (nf == cap)
          flat = xreallocarray (flat, cap *= 2, sizeof *flat);
        flat[nf++] = xstrndup (l, w);
        l += w + (l[w] == '\n');
      }
  enum net_dnsd_verdict v = answer (q, qlen, flat, nf, out, size, out_len);
  for (size_t k = 0; k < nf; k++)
    free (flat[k]);
  free (flat);
  return v;
}

bool
net_dnsd_servfail (const unsigned char *q, size_t qlen, unsigned char *out, size_t size,
                   size_t *out_len)
{
  char name[256];
  unsigned type, cls;
  size_t end;
  if (qlen < 12 || (q[2] & 0x80) || q[4] != 0 || q[5] != 1
      || !question (q, qlen, name, sizeof name, &type, &cls, &end)
      || !header (q, end, 2, 0, out, size))
    return false;
  *out_len = end;
  return true;
}

size_t
net_dnsd_servers (const char *resolv, uint32_t *v, size_t max)
{
  size_t n = 0;
  const char *cur = resolv;
  char *line;
  while (resolv && n < max && (line = str_next_line (&cur)))
    {
      char addr[64];
      struct in_addr in;
      if (sscanf (line, " nameserver %63s", addr) == 1 && inet_pton (AF_INET, addr, &in) == 1)
        v[n++] = in.s_addr;
      free (line);
    }
  return n;
}
