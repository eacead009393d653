/* tests/unit/test_dnsd.c: net/dnsd.h: a user-defined network's name server
 * answers its members' names (any case, aliases, short IDs) and PTR names,
 * gives an empty answer for other types of a known name, forwards the rest,
 * drops what is not a query; SERVFAIL; name servers of a resolv.conf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "net/dnsd.h"

static char *lines[] = { "172.18.0.2\tdb dbalias 0123456789ab", "172.18.0.3\tweb 1234567890ab" };

/* A query for name/type with id 0x1234, RD set; returns its length. */
static size_t
query (const char *name, unsigned type, unsigned char *q)
{
  memset (q, 0, 12);
  q[0] = 0x12;
  q[1] = 0x34;
  q[2] = 0x01;
  q[5] = 1;
  size_t o = 12;
  for (const char *p = name; *p;)
    {
      size_t l = strcspn (p, ".");
      q[o++] = (unsigned char)l;
      memcpy (q + o, p, l);
      o += l;
      p += l;
      if (*p == '.')
        p++;
    }
  q[o++] = 0;
  q[o++] = (unsigned char)(type >> 8);
  q[o++] = (unsigned char)type;
  q[o++] = 0;
  q[o++] = 1;
  return o;
}

static void
test_a (void **state)
{
  unsigned char q[512], r[512];
  size_t ql = query ("DbAlias", 1, q), rl = 0;
  assert_int_equal (net_dnsd_answer (q, ql, lines, 2, r, sizeof r, &rl), NET_DNSD_ANSWER);
  assert_int_equal (r[0], 0x12);
  assert_int_equal (r[1], 0x34);
  assert_true (r[2] & 0x80);         /* a reply */
  assert_int_equal (r[3] & 0x0f, 0); /* NOERROR */
  assert_int_equal (r[7], 1);        /* one answer */
  assert_int_equal (rl, ql + 16);
  struct in_addr a;
  memcpy (&a, r + rl - 4, 4);
  assert_string_equal (inet_ntoa (a), "172.18.0.2");
  ql = query ("1234567890ab", 1, q);
  assert_int_equal (net_dnsd_answer (q, ql, lines, 2, r, sizeof r, &rl), NET_DNSD_ANSWER);
  memcpy (&a, r + rl - 4, 4);
  assert_string_equal (inet_ntoa (a), "172.18.0.3");
}

/* A name several members share (a Compose service's replicas): every address, the first
 * one rotated by the query's ID. */
static void
test_shared_name (void **state)
{
  char *many[] = { "172.18.0.2\tworker p-worker-1", "172.18.0.3\tweb",
                   "172.18.0.4\tworker p-worker-2", "172.18.0.5\tWORKER p-worker-3" };
  unsigned char q[512], r[512];
  size_t ql = query ("worker", 1, q), rl = 0;
  assert_int_equal (net_dnsd_answer (q, ql, many, 4, r, sizeof r, &rl), NET_DNSD_ANSWER);
  assert_int_equal (r[7], 3);
  assert_int_equal (rl, ql + 3 * 16);
  unsigned seen = 0;
  for (int k = 0; k < 3; k++)
    seen |= 1u << r[ql + k * 16 + 15];
  assert_int_equal (seen, (1u << 2) | (1u << 4) | (1u << 5));
  unsigned first = r[ql + 15];
  q[1] ^= 1; /* another query: another first address */
  assert_int_equal (net_dnsd_answer (q, ql, many, 4, r, sizeof r, &rl), NET_DNSD_ANSWER);
  assert_int_not_equal (r[ql + 15], first);
}

static void
test_aaaa_empty (void **state)
{
  unsigned char q[512], r[512];
  size_t ql = query ("web", 28, q), rl = 0;
  assert_int_equal (net_dnsd_answer (q, ql, lines, 2, r, sizeof r, &rl), NET_DNSD_ANSWER);
  assert_int_equal (r[3] & 0x0f, 0);
  assert_int_equal (r[7], 0);
  assert_int_equal (rl, ql);
}

/* A member of a network with --ipv6: its entry holds an IPv4 and an IPv6 line; AAAA gets
 * the IPv6 address, A the IPv4 one, ANY both. */
static void
test_aaaa (void **state)
{
  char *six[] = { "172.18.0.2\tdb 0123456789ab\nfd00:db8::2\tdb 0123456789ab",
                  "172.18.0.3\tweb 1234567890ab" };
  unsigned char q[512], r[512];
  size_t ql = query ("db", 28, q), rl = 0;
  assert_int_equal (net_dnsd_answer (q, ql, six, 2, r, sizeof r, &rl), NET_DNSD_ANSWER);
  assert_int_equal (r[7], 1);
  assert_int_equal (rl, ql + 12 + 16);
  assert_int_equal (r[ql + 3], 28);
  char buf[64];
  inet_ntop (AF_INET6, r + rl - 16, buf, sizeof buf);
  assert_string_equal (buf, "fd00:db8::2");
  ql = query ("db", 1, q);
  assert_int_equal (net_dnsd_answer (q, ql, six, 2, r, sizeof r, &rl), NET_DNSD_ANSWER);
  assert_int_equal (r[7], 1);
  assert_int_equal (rl, ql + 16);
  ql = query ("db", 255, q);
  assert_int_equal (net_dnsd_answer (q, ql, six, 2, r, sizeof r, &rl), NET_DNSD_ANSWER);
  assert_int_equal (r[7], 2);
  assert_int_equal (rl, ql + 16 + 28);
  ql = query ("web", 28, q); /* an IPv4-only member: an empty answer */
  assert_int_equal (net_dnsd_answer (q, ql, six, 2, r, sizeof r, &rl), NET_DNSD_ANSWER);
  assert_int_equal (r[7], 0);
}

static void
test_ptr (void **state)
{
  unsigned char q[512], r[512];
  size_t ql = query ("3.0.18.172.in-addr.arpa", 12, q), rl = 0;
  assert_int_equal (net_dnsd_answer (q, ql, lines, 2, r, sizeof r, &rl), NET_DNSD_ANSWER);
  assert_int_equal (r[7], 1);
  assert_memory_equal (r + rl - 5, "\003web\0", 5);
  ql = query ("9.0.18.172.in-addr.arpa", 12, q);
  assert_int_equal (net_dnsd_answer (q, ql, lines, 2, r, sizeof r, &rl), NET_DNSD_FORWARD);
}

static void
test_forward_drop (void **state)
{
  unsigned char q[512], r[512];
  size_t ql = query ("deb.debian.org", 1, q), rl = 0;
  assert_int_equal (net_dnsd_answer (q, ql, lines, 2, r, sizeof r, &rl), NET_DNSD_FORWARD);
  assert_int_equal (net_dnsd_answer (q, ql, NULL, 0, r, sizeof r, &rl), NET_DNSD_FORWARD);
  assert_true (net_dnsd_servfail (q, ql, r, sizeof r, &rl));
  assert_int_equal (r[3] & 0x0f, 2);
  q[2] |= 0x80; /* a reply is no query */
  assert_int_equal (net_dnsd_answer (q, ql, lines, 2, r, sizeof r, &rl), NET_DNSD_DROP);
  assert_int_equal (net_dnsd_answer (q, 5, lines, 2, r, sizeof r, &rl), NET_DNSD_DROP);
  q[2] &= 0x7f;
  assert_int_equal (net_dnsd_answer (q, ql - 3, lines, 2, r, sizeof r, &rl), NET_DNSD_DROP);
  q[12] = 200; /* a label past the end */
  assert_int_equal (net_dnsd_answer (q, ql, lines, 2, r, sizeof r, &rl), NET_DNSD_DROP);
}

static void
test_servers (void **state)
{
  uint32_t v[3];
  size_t n = net_dnsd_servers ("search x\nnameserver 10.0.0.1\nnameserver ::1\n"
                               "nameserver 192.168.1.1\n",
                               v, 3);
  assert_int_equal (n, 2);
  assert_int_equal (v[0], htonl (0x0a000001u));
  assert_int_equal (v[1], htonl (0xc0a80101u));
  assert_int_equal (net_dnsd_servers (NULL, v, 3), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_a),
    cmocka_unit_test (test_shared_name),
    cmocka_unit_test (test_aaaa_empty),
    cmocka_unit_test (test_aaaa),
    cmocka_unit_test (test_ptr),
    cmocka_unit_test (test_forward_drop),
    cmocka_unit_test (test_servers),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
