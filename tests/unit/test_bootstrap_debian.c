/* tests/unit/test_bootstrap_debian.c: the pure half of `nook bootstrap debian:SUITE`:
 * apt sources in both forms, the host's mirrors, Release dates, names, the image's
 * sources. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imagefmt/bootstrap_debian.h"
#include "util/cleanup.h"

/* What this machine has: Docker Hub's debian image's deb822 file. */
static const char hub_sources[]
    = "Types: deb\n"
      "# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
      "URIs: http://deb.debian.org/debian\n"
      "Suites: bookworm bookworm-updates\n"
      "Components: main\n"
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
      "\n"
      "Types: deb\n"
      "# http://snapshot.debian.org/archive/debian-security/20250520T000000Z\n"
      "URIs: http://deb.debian.org/debian-security\n"
      "Suites: bookworm-security\n"
      "Components: main\n"
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";

static void
test_sources_deb822 (void **state)
{
  struct imagefmt_apt_source *v = NULL;
  size_t n = 0;
  imagefmt_apt_sources_parse (hub_sources, true, &v, &n);
  assert_int_equal (n, 3);
  assert_string_equal (v[0].uri, "http://deb.debian.org/debian");
  assert_string_equal (v[0].suite, "bookworm");
  assert_string_equal (v[1].suite, "bookworm-updates");
  assert_string_equal (v[2].uri, "http://deb.debian.org/debian-security");
  assert_string_equal (v[2].suite, "bookworm-security");
  imagefmt_apt_sources_free (v, n);

  /* deb-src only, disabled, continuation lines, lower-case keys, no final newline. */
  static const char odd[] = "Types: deb-src\nURIs: http://a/debian\nSuites: x\n\n"
                            "Types: deb\nEnabled: no\nURIs: http://b/debian\nSuites: y\n\n"
                            "types: deb deb-src\nuris: http://c/debian/\n http://d/debian\n"
                            "suites: trixie\n# a comment inside\n trixie-updates";
  v = NULL;
  n = 0;
  imagefmt_apt_sources_parse (odd, true, &v, &n);
  assert_int_equal (n, 4);
  assert_string_equal (v[0].uri, "http://c/debian");
  assert_string_equal (v[0].suite, "trixie");
  assert_string_equal (v[1].uri, "http://c/debian");
  assert_string_equal (v[1].suite, "trixie-updates");
  assert_string_equal (v[3].uri, "http://d/debian");
  assert_string_equal (v[3].suite, "trixie-updates");
  imagefmt_apt_sources_free (v, n);
}

static void
test_sources_one_line (void **state)
{
  static const char list[]
      = "# deb http://commented/debian bookworm main\n"
        "deb-src http://src/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main contrib\n"
        "  deb http://security.example/debian-security bookworm-security main # trailing\n"
        "deb\n"
        "deb http://only-uri\n"
        "deb [broken http://x bookworm main\n";
  struct imagefmt_apt_source *v = NULL;
  size_t n = 0;
  imagefmt_apt_sources_parse (list, false, &v, &n);
  assert_int_equal (n, 2);
  assert_string_equal (v[0].uri, "http://mirror.example/debian");
  assert_string_equal (v[0].suite, "bookworm");
  assert_string_equal (v[1].uri, "http://security.example/debian-security");
  assert_string_equal (v[1].suite, "bookworm-security");

  cleanup_free char *archive = NULL;
  cleanup_free char *security = NULL;
  imagefmt_debian_host_uris (v, n, "bookworm", &archive, &security);
  assert_string_equal (archive, "http://mirror.example/debian");
  assert_string_equal (security, "http://security.example/debian-security");
  imagefmt_apt_sources_free (v, n);
}

static void
test_host_uris_defaults (void **state)
{
  /* Another release's sources, or none: Debian's own archive. */
  struct imagefmt_apt_source *v = NULL;
  size_t n = 0;
  imagefmt_apt_sources_parse ("deb http://old/debian bullseye main\n"
                              "deb http://x/ubuntu jammy main\n"
                              "deb http://old/debian-security bullseye/updates main\n",
                              false, &v, &n);
  cleanup_free char *a = NULL;
  cleanup_free char *s = NULL;
  imagefmt_debian_host_uris (v, n, "bookworm", &a, &s);
  assert_string_equal (a, IMAGEFMT_DEBIAN_ARCHIVE);
  assert_string_equal (s, IMAGEFMT_DEBIAN_SECURITY);
  cleanup_free char *a2 = NULL;
  cleanup_free char *s2 = NULL;
  imagefmt_debian_host_uris (v, n, "bullseye", &a2, &s2);
  assert_string_equal (a2, "http://old/debian");
  assert_string_equal (s2, "http://old/debian-security");
  cleanup_free char *a3 = NULL;
  cleanup_free char *s3 = NULL;
  imagefmt_debian_host_uris (v, n, NULL, &a3, &s3);
  assert_string_equal (a3, IMAGEFMT_DEBIAN_ARCHIVE);
  imagefmt_apt_sources_free (v, n);
}

static void
test_apt_shell_value (void **state)
{
  static const char out[] = "H='http://proxy.example:3142/'\n"
                            "S='http://a'\\''b'\n"
                            "E=''\n";
  cleanup_free char *h = imagefmt_apt_shell_value (out, "H");
  assert_string_equal (h, "http://proxy.example:3142/");
  cleanup_free char *s = imagefmt_apt_shell_value (out, "S");
  assert_string_equal (s, "http://a'b");
  cleanup_free char *e = imagefmt_apt_shell_value (out, "E");
  assert_string_equal (e, "");
  assert_null (imagefmt_apt_shell_value (out, "X"));
  assert_null (imagefmt_apt_shell_value ("", "H"));
}

static void
test_release_date (void **state)
{
  static const char inrelease[] = "-----BEGIN PGP SIGNED MESSAGE-----\n"
                                  "Hash: SHA256\n\n"
                                  "Origin: Debian\nLabel: Debian\nSuite: stable\n"
                                  "Codename: bookworm\n"
                                  "Date: Sat, 10 May 2025 09:01:25 UTC\n"
                                  "Acquire-By-Hash: yes\n"
                                  "-----BEGIN PGP SIGNATURE-----\n\nabc\n";
  int64_t t = 0;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (imagefmt_release_date (inrelease, &t, &err), 0);
  assert_int_equal (t, 1746867685); /* date -d '2025-05-10 09:01:25 UTC' +%s */
  assert_int_equal (imagefmt_release_date ("Date: 5 Dec 2026 03:33:28 +0100\n", &t, &err), 0);
  assert_int_equal (t, 1796441608 - 3600);
  assert_int_equal (imagefmt_release_date ("Date: Thu, 01 Jan 1970 00:00:00 GMT", &t, &err), 0);
  assert_int_equal (t, 0);

  static const char *const bad[] = {
    "Date: yesterday\n",
    "Date: Sat, 10 Mai 2025 09:01:25 UTC\n",
    "Date: Sat, 10 May 25 09:01:25 UTC\n",
    "Date: Sat, 10 May 2025 9:01:25 UTC\n",
    "Date: Sat, 10 May 2025 09:01:25 CEST\n",
    "Date: Sat, 32 May 2025 09:01:25 UTC\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      nook_error_free (&err);
      if (imagefmt_release_date (bad[i], &t, &err) == 0)
        fail_msg ("'%s' accepted", bad[i]);
      assert_int_equal (err->code, EINVAL);
    }
  nook_error_free (&err);
  /* None before the signature (a Date in it does not count). */
  assert_int_equal (imagefmt_release_date ("Origin: x\n-----BEGIN PGP SIGNATURE-----\n"
                                           "Date: Sat, 10 May 2025 09:01:25 UTC\n",
                                           &t, &err),
                    -1);
  assert_int_equal (err->code, ENOENT);
}

static void
test_names (void **state)
{
  static const char *const suites_ok[]
      = { "bookworm", "trixie", "sid", "stable", "testing", "bookworm-backports", "a1" };
  static const char *const suites_bad[]
      = { "",     "Bookworm",  "1st",       "book worm",
          "../x", "x/updates", "bookworm-", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
  for (size_t i = 0; i < sizeof suites_ok / sizeof *suites_ok; i++)
    assert_true (imagefmt_debian_suite_valid (suites_ok[i]));
  for (size_t i = 0; i < sizeof suites_bad / sizeof *suites_bad; i++)
    if (imagefmt_debian_suite_valid (suites_bad[i]))
      fail_msg ("suite '%s' accepted", suites_bad[i]);
  static const char *const pkgs_ok[] = { "nodejs", "npm", "g++", "libc6-dev", "python3.11", "0ad" };
  static const char *const pkgs_bad[]
      = { "", "a", "Nodejs", "-x", "+x", "a b", "a;b", "a=1", "a/b" };
  for (size_t i = 0; i < sizeof pkgs_ok / sizeof *pkgs_ok; i++)
    assert_true (imagefmt_debian_package_valid (pkgs_ok[i]));
  for (size_t i = 0; i < sizeof pkgs_bad / sizeof *pkgs_bad; i++)
    if (imagefmt_debian_package_valid (pkgs_bad[i]))
      fail_msg ("package '%s' accepted", pkgs_bad[i]);
  assert_true (imagefmt_debian_suite_has_updates ("bookworm"));
  assert_false (imagefmt_debian_suite_has_updates ("sid"));
  assert_false (imagefmt_debian_suite_has_updates ("unstable"));
}

static void
test_image_sources (void **state)
{
  /* Hub's debian:bookworm file, with the snapshot of the build's epoch. */
  cleanup_free char *s = imagefmt_debian_image_sources ("bookworm", 1747699200);
  static const char want[]
      = "Types: deb\n"
        "# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
        "URIs: http://deb.debian.org/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        "\n"
        "Types: deb\n"
        "# http://snapshot.debian.org/archive/debian-security/20250520T000000Z\n"
        "URIs: http://deb.debian.org/debian-security\n"
        "Suites: bookworm-security\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
  assert_string_equal (s, want);
  cleanup_free char *sid = imagefmt_debian_image_sources ("sid", 0);
  assert_non_null (strstr (sid, "Suites: sid\n"));
  assert_null (strstr (sid, "security"));
}

static void
test_os_release (void **state)
{
  cleanup_free char *a = imagefmt_os_release_codename ("NAME=\"Debian GNU/Linux\"\n"
                                                       "VERSION_CODENAME=bookworm\nID=debian\n");
  assert_string_equal (a, "bookworm");
  cleanup_free char *b = imagefmt_os_release_codename ("VERSION_CODENAME=\"trixie\"");
  assert_string_equal (b, "trixie");
  assert_null (imagefmt_os_release_codename ("ID=debian\n"));
  assert_null (imagefmt_os_release_codename ("VERSION_CODENAME=\"../x\"\n"));
  assert_null (imagefmt_os_release_codename ("VERSION_CODENAME=\n"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_sources_deb822),     cmocka_unit_test (test_sources_one_line),
    cmocka_unit_test (test_host_uris_defaults), cmocka_unit_test (test_apt_shell_value),
    cmocka_unit_test (test_release_date),       cmocka_unit_test (test_names),
    cmocka_unit_test (test_image_sources),      cmocka_unit_test (test_os_release),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
