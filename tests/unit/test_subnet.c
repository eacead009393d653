/* tests/unit/test_subnet.c: net/subnet.h: CIDR parsing and its errors, overlap,
 * Docker's default pools, address allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/subnet.h"
#include "util/cleanup.h"
#include "util/util.h"

static struct net_subnet
sn (const char *s)
{
  struct net_subnet r;
  cleanup_error nook_error_t err = NULL;
  if (net_subnet_parse (s, "--subnet", &r, &err) < 0)
    fail_msg ("%s: %s", s, err->msg);
  return r;
}

static void
test_parse (void **state)
{
  struct net_subnet s = sn ("172.18.0.0/16");
  assert_int_equal (s.addr, 0xac120000u);
  assert_int_equal (s.prefix, 16);
  cleanup_free char *f = net_subnet_format (&s);
  assert_string_equal (f, "172.18.0.0/16");
  static const char *const bad[][2] = {
    { "172.18.0.1/16", "it should be 172.18.0.0/16" },
    { "172.18.0.0", "CIDR" },
    { "172.18.0.0/", "CIDR" },
    { "172.18.0.0/33", "CIDR" },
    { "172.18.0.0/16x", "CIDR" },
    { "172.18.0.0/-1", "CIDR" },
    { "172.18.0.0.0.0.0.0.0.0.0.0.0.0.0/16", "CIDR" },
    { "172.18.0.0/30", "/8 to /29" },
    { "nonsense/8", "CIDR" },
    { "fd00::/64", "CIDR" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      cleanup_error nook_error_t err = NULL;
      struct net_subnet r;
      assert_int_equal (net_subnet_parse (bad[i][0], "--subnet", &r, &err), -1);
      if (strstr (err->msg, bad[i][1]) == NULL || strstr (err->msg, "--subnet") == NULL
          || strstr (err->msg, bad[i][0]) == NULL)
        fail_msg ("%s: '%s' lacks '%s', the flag or the value", bad[i][0], err->msg, bad[i][1]);
    }
}

static void
test_overlap_pick (void **state)
{
  struct net_subnet a = sn ("10.0.0.0/8"), b = sn ("10.0.2.0/24"), c = sn ("10.1.0.0/16");
  assert_true (net_subnet_overlaps (&a, &b));
  assert_true (net_subnet_overlaps (&b, &a));
  assert_false (net_subnet_overlaps (&b, &c));
  struct net_subnet avoid[] = { sn ("172.17.0.0/16"), sn ("172.16.0.0/12") }, out;
  assert_int_equal (net_subnet_pick (avoid, 1, &out), 0);
  cleanup_free char *f = net_subnet_format (&out);
  assert_string_equal (f, "172.18.0.0/16");
  /* 172.16/12 covers every /16 of the first pool: the 192.168.0.0/20s come next */
  assert_int_equal (net_subnet_pick (avoid, 2, &out), 0);
  cleanup_free char *g = net_subnet_format (&out);
  assert_string_equal (g, "192.168.0.0/20");
  struct net_subnet all[] = { sn ("172.16.0.0/12"), sn ("192.168.0.0/16") };
  assert_int_equal (net_subnet_pick (all, 2, &out), -1);
}

static void
test_alloc (void **state)
{
  struct net_subnet s = sn ("10.88.0.0/29"); /* .1 gateway, .2-.6 hosts, .7 broadcast */
  uint32_t used[8] = { 0x0a580001u };
  assert_int_equal (net_subnet_gateway (&s), 0x0a580001u);
  assert_int_equal (net_subnet_alloc (&s, used, 1), 0x0a580002u);
  size_t n = 1;
  for (uint32_t a; (a = net_subnet_alloc (&s, used, n)) != 0;)
    used[n++] = a;
  assert_int_equal (n, 6); /* the gateway and five hosts */
  assert_int_equal (used[5], 0x0a580006u);
  assert_true (net_subnet_contains (&s, 0x0a580007u));
  assert_false (net_subnet_contains (&s, 0x0a580008u));
}

static void
test_subnet6 (void **state)
{
  struct net_subnet6 a, b;
  nook_error_t err = NULL;
  assert_int_equal (net_subnet6_parse ("fd00:db8:1::/64", "--subnet", &a, &err), 0);
  char *t = net_subnet6_format (&a);
  assert_string_equal (t, "fd00:db8:1::/64");
  free (t);
  struct in6_addr h;
  net_subnet6_host (&a, 0x102, &h);
  t = net_addr6_format (&h);
  assert_string_equal (t, "fd00:db8:1::102");
  free (t);
  assert_int_equal (net_subnet6_parse ("fd00:db8:1::1/64", "--subnet", &b, &err), -1);
  assert_non_null (strstr (err->msg, "it should be fd00:db8:1::/64"));
  nook_error_free (&err);
  assert_int_equal (net_subnet6_parse ("fd00::/120", "--subnet", &b, &err), -1);
  nook_error_free (&err);
  assert_int_equal (net_subnet6_parse ("172.18.0.0/16", "--subnet", &b, &err), -1);
  nook_error_free (&err);
  assert_int_equal (net_subnet6_parse ("fd00:db8:1::/48", "--subnet", &b, &err), 0);
  assert_true (net_subnet6_overlaps (&a, &b));
  assert_int_equal (net_subnet6_parse ("fd00:db9::/64", "--subnet", &b, &err), 0);
  assert_false (net_subnet6_overlaps (&a, &b));
  unsigned char seed[5] = { 0x12, 0x34, 0x56, 0x78, 0x9a };
  net_subnet6_ula (seed, &b);
  t = net_subnet6_format (&b);
  assert_string_equal (t, "fd12:3456:789a::/64");
  free (t);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse),
    cmocka_unit_test (test_overlap_pick),
    cmocka_unit_test (test_alloc),
    cmocka_unit_test (test_subnet6),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
