/* tests/unit/test_net.c: the pure parts of net/: --network values (mode), -p/--expose
 * parsing and Docker's PORTS text (ports), resolv.conf and hosts (dns). */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/dns.h"
#include "net/mode.h"
#include "net/ports.h"
#include "util/cleanup.h"
#include "util/util.h"

static void
test_mode (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct net_mode m;
  assert_int_equal (net_mode_parse (NULL, &m, &err), 0);
  assert_int_equal (m.kind, NET_LIBSLIRP);
  assert_string_equal (net_mode_name (&m), "bridge");
  assert_false (m.allow_host_loopback);
  assert_int_equal (m.mtu, 65520);
  assert_int_equal (net_mode_parse ("default", &m, &err), 0);
  assert_int_equal (m.kind, NET_LIBSLIRP);
  assert_int_equal (net_mode_parse ("none", &m, &err), 0);
  assert_int_equal (m.kind, NET_NONE);
  assert_false (net_mode_user (&m));
  assert_int_equal (net_mode_parse ("slirp4netns:allow_host_loopback=true,mtu=1500", &m, &err), 0);
  assert_int_equal (m.kind, NET_SLIRP4NETNS);
  assert_true (m.allow_host_loopback);
  assert_int_equal (m.mtu, 1500);
  assert_true (net_mode_user (&m));
  assert_int_equal (net_mode_parse ("lab", &m, &err), 0);
  assert_int_equal (m.kind, NET_USER);
  assert_string_equal (m.target, "lab");
  assert_int_equal (net_mode_parse ("container:db", &m, &err), 0);
  assert_int_equal (m.kind, NET_CONTAINER);
  assert_string_equal (m.target, "db");
  static const char *const bad[][2] = {
    { "la b", "network la b not found" },
    { "-lab", "not found" },
    { "container:", "wants a name" },
    { "libslirp:allow_host_loopback=yes", "wants true or false" },
    { "libslirp:mtu=70000", "mtu wants" },
    { "libslirp:mtu=100", "mtu wants" },
    { "slirp4netns:port_handler=x", "unknown option 'port_handler'" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      assert_int_equal (net_mode_parse (bad[i][0], &m, &err), -1);
      if (strstr (err->msg, bad[i][1]) == NULL || strstr (err->msg, bad[i][0]) == NULL)
        fail_msg ("%s: '%s' lacks '%s' or the value", bad[i][0], err->msg, bad[i][1]);
      nook_error_free (&err);
    }
}

static void
test_ports_parse (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct net_port *v = NULL;
  size_t n = 0;
  assert_int_equal (net_ports_parse ("8080:80", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse ("127.0.0.1::53/udp", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse ("[::1]:9000:90", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse ("7000-7001:70-71", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse ("6000-6009:60", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse ("5000", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse (":::8080:80", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse ("::1::81/udp", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse ("[::]::82", &v, &n, &err), 0);
  assert_int_equal (n, 10);
  assert_string_equal (v[7].host_ip, "::");
  assert_int_equal (v[7].host_port, 8080);
  assert_int_equal (v[7].container_port, 80);
  assert_string_equal (v[8].host_ip, "::1");
  assert_int_equal (v[8].host_port, 0);
  assert_int_equal (v[8].container_port, 81);
  assert_int_equal (v[8].proto, IPPROTO_UDP);
  assert_string_equal (v[9].host_ip, "::");
  assert_int_equal (v[9].host_port, 0);
  assert_int_equal (v[0].host_port, 8080);
  assert_int_equal (v[0].container_port, 80);
  assert_int_equal (v[0].proto, IPPROTO_TCP);
  assert_string_equal (v[0].host_ip, "");
  assert_string_equal (v[1].host_ip, "127.0.0.1");
  assert_int_equal (v[1].host_port, 0);
  assert_int_equal (v[1].proto, IPPROTO_UDP);
  assert_string_equal (v[2].host_ip, "::1");
  assert_int_equal (v[2].host_port, 9000);
  assert_int_equal (v[3].host_port, 7000);
  assert_int_equal (v[4].host_port, 7001);
  assert_int_equal (v[4].container_port, 71);
  assert_int_equal (v[5].host_port, 6000);
  assert_int_equal (v[5].host_port_end, 6009);
  assert_int_equal (v[5].container_port, 60);
  assert_int_equal (v[6].host_port, 0);
  assert_int_equal (v[6].container_port, 5000);

  static const char *const bad[] = { "",          "0",           "70000",   "80-70",  "a",
                                     "1:2:3:4",   "1.2.3:80:80", "80/sctp", "[::1]80", "[::1:80:80",
                                     "8000-8001:80-82", ":80:",  "1.2.3.4:x:80", ":::8080",
                                     "1:2:3:4:80:80", "::g:80:80", "[::1]:1:2:80" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      size_t before = n;
      if (net_ports_parse (bad[i], &v, &n, &err) != -1)
        fail_msg ("'%s' was accepted", bad[i]);
      cleanup_free char *want = xasprintf ("\"%s\" for \"-p, --publish\" flag", bad[i]);
      if (strstr (err->msg, want) == NULL)
        fail_msg ("'%s': '%s' does not name the flag and value", bad[i], err->msg);
      assert_int_equal (n, before);
      nook_error_free (&err);
    }
  free (v);
}

static void
test_ports_format (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct net_port *v = NULL;
  size_t n = 0;
  assert_int_equal (net_ports_parse ("8080:80", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse ("9000-9002:90-92/udp", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse ("[::1]:7000:70", &v, &n, &err), 0);
  cleanup_free char *ps = net_ports_format (v, n);
  assert_string_equal (ps, "0.0.0.0:8080->80/tcp, 0.0.0.0:9000-9002->90-92/udp, [::1]:7000->70/tcp");
  cleanup_free char *line = net_port_format_line (&v[1]);
  assert_string_equal (line, "90/udp -> 0.0.0.0:9000");
  cleanup_free char *none = net_ports_format (NULL, 0);
  assert_string_equal (none, "");
  free (v);
  v = NULL;
  n = 0;
  assert_int_equal (net_ports_parse_expose ("80", "--expose", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse_expose ("53/udp", "--expose", &v, &n, &err), 0);
  assert_int_equal (net_ports_parse_expose ("8000-8001/tcp", "ExposedPorts", &v, &n, &err), 0);
  assert_int_equal (n, 4);
  assert_int_equal (v[1].proto, IPPROTO_UDP);
  assert_int_equal (v[3].container_port, 8001);
  assert_int_equal (net_ports_parse_expose ("80/icmp", "--expose", &v, &n, &err), -1);
  assert_non_null (strstr (err->msg, "\"80/icmp\" for \"--expose\" flag"));
  free (v);
}

static const char host_resolv[] = "# generated\nnameserver 127.0.0.53\nnameserver 10.1.1.1\n"
                                  "nameserver ::1\nsearch corp.example\noptions edns0 trust-ad\n";

static void
test_resolv (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *out = NULL;
  cleanup_free char *warn = NULL;
  struct net_dns_input in = { .host_resolv = host_resolv, .user_mode = true };
  assert_int_equal (net_resolv_conf (&in, &out, &warn, &err), 0);
  assert_string_equal (out, "nameserver 10.1.1.1\nsearch corp.example\noptions edns0 trust-ad\n");
  assert_null (warn);
  free (steal_pointer (&out));

  /* only loopback servers: none (and a warning), or the forwarder when allowed */
  in.host_resolv = "nameserver 127.0.0.53\n";
  assert_int_equal (net_resolv_conf (&in, &out, &warn, &err), 0);
  assert_string_equal (out, "");
  assert_non_null (strstr (warn, "--dns"));
  free (steal_pointer (&out));
  free (steal_pointer (&warn));
  in.resolved_resolv = "nameserver 192.0.2.9\n";
  assert_int_equal (net_resolv_conf (&in, &out, &warn, &err), 0);
  assert_string_equal (out, "nameserver 192.0.2.9\n");
  free (steal_pointer (&out));
  in.allow_host_loopback = true;
  assert_int_equal (net_resolv_conf (&in, &out, &warn, &err), 0);
  assert_string_equal (out, "nameserver 10.0.2.3\n");
  free (steal_pointer (&out));

  /* flags replace what they name */
  char *servers[] = { (char *)"192.0.2.53", NULL };
  char *search[] = { (char *)".", NULL };
  char *options[] = { (char *)"ndots:2", NULL };
  struct net_dns_input f = { .host_resolv = host_resolv,
                             .user_mode = true,
                             .servers = servers,
                             .search = search,
                             .options = options };
  assert_int_equal (net_resolv_conf (&f, &out, &warn, &err), 0);
  assert_string_equal (out, "nameserver 192.0.2.53\noptions ndots:2\n");
  free (steal_pointer (&out));

  /* --network host: the host's file as it is */
  struct net_dns_input h = { .host_resolv = host_resolv, .host_network = true };
  assert_int_equal (net_resolv_conf (&h, &out, &warn, &err), 0);
  assert_string_equal (out, host_resolv);
  free (steal_pointer (&out));

  char *bad[] = { (char *)"1.2.3", NULL };
  f.servers = bad;
  assert_int_equal (net_resolv_conf (&f, &out, &warn, &err), -1);
  assert_non_null (strstr (err->msg, "\"1.2.3\" for \"--dns\" flag"));
}

static void
test_hosts (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *out = NULL;
  char *add[] = { (char *)"db:192.0.2.7", (char *)"v6=[2001:db8::1]", (char *)"gw:host-gateway",
                  NULL };
  assert_int_equal (
      net_hosts_file ("abc123", "web", "10.0.2.100", add, "192.0.2.2", NULL, &out, &err), 0);
  assert_string_equal (out, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                            "10.0.2.100\tabc123 web\n192.0.2.7\tdb\n2001:db8::1\tv6\n"
                            "192.0.2.2\tgw\n");
  free (steal_pointer (&out));
  assert_int_equal (net_hosts_file ("h", NULL, NULL, NULL, NULL, NULL, &out, &err), 0);
  assert_non_null (strstr (out, "\n127.0.1.1\th\n"));
  free (steal_pointer (&out));
  static const char *const bad[][2] = {
    { "noaddress", "want NAME:IP" },
    { "bad name:1.2.3.4", "invalid host name" },
    { "x:1.2.3", "invalid IP address" },
    { "gw:host-gateway", "no way" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      char *one[] = { (char *)bad[i][0], NULL };
      assert_int_equal (net_hosts_file ("h", NULL, NULL, one, NULL, "no way", &out, &err), -1);
      if (strstr (err->msg, bad[i][1]) == NULL || strstr (err->msg, "--add-host") == NULL)
        fail_msg ("%s: '%s' lacks '%s'", bad[i][0], err->msg, bad[i][1]);
      nook_error_free (&err);
    }
  assert_true (net_dns_is_loopback ("127.0.0.53"));
  assert_true (net_dns_is_loopback ("::1"));
  assert_true (net_dns_is_loopback ("::ffff:127.0.0.1"));
  assert_false (net_dns_is_loopback ("10.0.2.3"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mode),         cmocka_unit_test (test_ports_parse),
    cmocka_unit_test (test_ports_format), cmocka_unit_test (test_resolv),
    cmocka_unit_test (test_hosts),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
