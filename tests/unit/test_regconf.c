/* tests/unit/test_regconf.c: the registries.conf reader (version 2 and 1, the TOML
 * subset, errors naming the line) and where an image is fetched from (longest prefix,
 * mirrors, locations, aliases, search registries, blocked, mirror-by-digest-only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/regconf.h"
#include "util/error.h"

static const char conf[] = "# comment\n"
                           "unqualified-search-registries = [\"quay.io\", 'docker.io',\n"
                           "  # inside\n"
                           "]\n"
                           "short-name-mode = \"enforcing\"\n"
                           "[aliases]\n"
                           "  \"node\" = \"quay.io/lab/node\" # trailing\n"
                           "[[registry]]\n"
                           "prefix = \"docker.io\"\n"
                           "location = \"docker.io\"\n"
                           "[[registry.mirror]]\n"
                           "location = \"10.0.0.5:5000\"\n"
                           "insecure = true\n"
                           "[[registry]]\n"
                           "prefix = \"docker.io/library/busybox\"\n"
                           "location = \"inner.lab/bb\"\n"
                           "mirror-by-digest-only = true\n"
                           "[[registry.mirror]]\n"
                           "location = \"m.lab/bb\"\n"
                           "[[registry]]\n"
                           "location = \"evil.example\"\n"
                           "blocked = true\n";

static struct regconf_source *
sources (const struct regconf *c, const char *domain, const char *path, bool digest, bool is_short,
         const char *short_name, char **blocked)
{
  return regconf_sources (c, domain, path, digest, is_short, short_name, NULL, NULL, blocked);
}

static void
test_parse_and_sources (void **state)
{
  struct regconf c;
  nook_error_t err = NULL;
  assert_int_equal (regconf_parse (conf, strlen (conf), "r.conf", &c, &err), 0);
  assert_true (c.have_search);
  assert_string_equal (c.search[0], "quay.io");
  assert_string_equal (c.search[1], "docker.io");
  assert_null (c.search[2]);
  assert_string_equal (c.alias_values[0], "quay.io/lab/node");
  assert_int_equal (c.n_regs, 3);
  assert_true (c.regs[0].mirrors[0].insecure);
  assert_string_equal (c.regs[2].prefix, "evil.example");

  char *blocked = NULL;
  /* an alias: its place only */
  struct regconf_source *s
      = sources (&c, "docker.io", "library/node", false, true, "node", &blocked);
  assert_string_equal (s[0].url, "quay.io");
  assert_string_equal (s[0].repo, "lab/node");
  assert_null (s[1].url);
  regconf_sources_free (s);
  /* a short name: each search registry; docker.io's with library/ and its mirror first */
  s = sources (&c, "docker.io", "library/redis", false, true, "redis", &blocked);
  assert_string_equal (s[0].url, "quay.io");
  assert_string_equal (s[0].repo, "redis");
  assert_string_equal (s[1].url, "10.0.0.5:5000");
  assert_string_equal (s[1].repo, "library/redis");
  assert_true (s[1].insecure);
  assert_string_equal (s[2].url, "registry-1.docker.io");
  assert_string_equal (s[2].auth_key, "docker.io");
  assert_string_equal (s[2].repo, "library/redis");
  assert_null (s[3].url);
  regconf_sources_free (s);
  /* the longest prefix wins; its mirror only for digests; its location remaps */
  s = sources (&c, "docker.io", "library/busybox", false, false, NULL, &blocked);
  assert_string_equal (s[0].url, "inner.lab");
  assert_string_equal (s[0].repo, "bb");
  assert_null (s[1].url);
  regconf_sources_free (s);
  s = sources (&c, "docker.io", "library/busybox", true, false, NULL, &blocked);
  assert_string_equal (s[0].url, "m.lab");
  assert_string_equal (s[0].repo, "bb");
  assert_string_equal (s[1].url, "inner.lab");
  regconf_sources_free (s);
  /* "docker.io/library/busyboxes" is not under the busybox prefix */
  s = sources (&c, "docker.io", "library/busyboxes", false, false, NULL, &blocked);
  assert_string_equal (s[0].url, "10.0.0.5:5000");
  regconf_sources_free (s);
  /* blocked */
  s = sources (&c, "evil.example", "x/y", false, false, NULL, &blocked);
  assert_null (s[0].url);
  assert_non_null (strstr (blocked, "evil.example (blocked by r.conf)"));
  free (blocked);
  regconf_sources_free (s);
  /* push and login take the insecure hosts */
  char **hosts = calloc (1, sizeof (char *));
  regconf_insecure_hosts (&c, &hosts);
  assert_string_equal (hosts[0], "10.0.0.5:5000");
  assert_null (hosts[1]);
  for (size_t i = 0; hosts[i]; i++)
    free (hosts[i]);
  free (hosts);
  regconf_clear (&c);
}

static void
test_v1_and_errors (void **state)
{
  static const char v1[] = "[registries.search]\nregistries = ['r1.io']\n"
                           "[registries.insecure]\nregistries = ['r3.io:5000']\n"
                           "[registries.block]\nregistries = ['bad.io']\n";
  struct regconf c;
  nook_error_t err = NULL;
  assert_int_equal (regconf_parse (v1, strlen (v1), "v1.conf", &c, &err), 0);
  assert_string_equal (c.search[0], "r1.io");
  assert_int_equal (c.n_regs, 2);
  assert_true (c.regs[0].primary.insecure);
  assert_true (c.regs[1].blocked);
  regconf_clear (&c);
  static const char *const bad[] = {
    "[[registry]]\nlocation = {a = 1}\n",
    "x = \"unterminated\n",
    "[[registry]\n",
    "[[registry.mirror]]\nlocation = \"a\"\n",
    "[[registry]]\ninsecure = \"yes\"\n",
    "a = 1\n",
    "[[registry]]\nblocked = true\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (regconf_parse (bad[i], strlen (bad[i]), "b.conf", &c, &err), -1);
      assert_non_null (strstr (err->msg, "b.conf"));
      nook_error_free (&err);
    }
}

static void
test_short_name_mode (void **state)
{
  static const char sconf[] = "unqualified-search-registries = [\"a.io\", \"b.io\"]\n"
                              "short-name-mode = \"enforcing\"\n"
                              "[aliases]\n\"web\" = \"a.io/lab/web\"\n";
  struct regconf c;
  nook_error_t err = NULL;
  assert_int_equal (regconf_parse (sconf, strlen (sconf), "s.conf", &c, &err), 0);
  assert_int_equal (c.short_mode, REGCONF_SHORT_ENFORCING);
  assert_int_equal (regconf_short_ambiguous (&c, true, "node"), 2);
  assert_int_equal (regconf_short_ambiguous (&c, true, "web"), 0);   /* an alias */
  assert_int_equal (regconf_short_ambiguous (&c, false, "node"), 0); /* a registry typed */
  c.short_mode = REGCONF_SHORT_PERMISSIVE;
  assert_int_equal (regconf_short_ambiguous (&c, true, "node"), 0);
  regconf_clear (&c);
  static const char one[] = "unqualified-search-registries = [\"a.io\"]\n"
                            "short-name-mode = \"enforcing\"\n";
  assert_int_equal (regconf_parse (one, strlen (one), "s.conf", &c, &err), 0);
  assert_int_equal (regconf_short_ambiguous (&c, true, "node"), 0);
  regconf_clear (&c);
  static const char bad[] = "short-name-mode = \"strict\"\n";
  assert_int_equal (regconf_parse (bad, strlen (bad), "s.conf", &c, &err), -1);
  assert_non_null (strstr (err->msg, "short-name-mode must be"));
  nook_error_free (&err);
}

static void
test_credential_helpers (void **state)
{
  static const char hconf[] = "credential-helpers = [\"containers-auth.json\", \"pass\"]\n";
  struct regconf c;
  nook_error_t err = NULL;
  assert_int_equal (regconf_parse (hconf, strlen (hconf), "h.conf", &c, &err), 0);
  assert_non_null (c.cred_helpers);
  assert_string_equal (c.cred_helpers[0], "containers-auth.json");
  assert_string_equal (c.cred_helpers[1], "pass");
  assert_null (c.cred_helpers[2]);
  regconf_clear (&c);
  assert_int_equal (regconf_parse (conf, strlen (conf), "c.conf", &c, &err), 0);
  assert_null (c.cred_helpers); /* not given: the caller's default */
  regconf_clear (&c);
  static const char *const bad[]
      = { "credential-helpers = \"pass\"\n", "credential-helpers = [\"\"]\n" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (regconf_parse (bad[i], strlen (bad[i]), "h.conf", &c, &err), -1);
      assert_non_null (strstr (err->msg, "credential-helpers"));
      nook_error_free (&err);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_and_sources),
    cmocka_unit_test (test_v1_and_errors),
    cmocka_unit_test (test_short_name_mode),
    cmocka_unit_test (test_credential_helpers),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
