/* tests/unit/test_ref.c: image references, normalisation and the familiar form. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imagefmt/ref.h"
#include "util/cleanup.h"

#define D "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct
{
  const char *in, *full, *shortf;
} valid[] = {
  { "busybox", "docker.io/library/busybox:latest", "busybox:latest" },
  { "busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36" },
  { "library/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
  { "docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest" },
  { "index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
  { "user/app", "docker.io/user/app:latest", "user/app:latest" },
  { "localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t" },
  { "localhost/x", "localhost/x:latest", "localhost/x:latest" },
  { "quay.io/podman/hello:v1.0_rc-2", "quay.io/podman/hello:v1.0_rc-2",
    "quay.io/podman/hello:v1.0_rc-2" },
  { "name@" D, "docker.io/library/name@" D, "name@" D },
  { "name:tag@" D, "docker.io/library/name:tag@" D, "name:tag@" D },
  { "docker.io/a-b__c.d/e--f.g", "docker.io/a-b__c.d/e--f.g:latest", "a-b__c.d/e--f.g:latest" },
  { "[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest" },
  { "Registry.Example.COM/x", "Registry.Example.COM/x:latest", "Registry.Example.COM/x:latest" },
};

static const char *const invalid[] = {
  "",
  "Busybox",
  "busybox:",
  ":tag",
  "busybox:-x",
  "busybox@sha256:abc",
  "busybox@sha256:../../etc/passwd",
  "-busybox",
  "busy__-box",
  "a/../b",
  "a//b",
  "a/b/",
  "/a",
  "busybox:tag:other",
  "host:port/x",
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "a b",
  "busybox:toolongtag0123456789012345678901234567890123456789012345678901234567890123456789"
  "0123456789012345678901234567890123456789012345678901234567890123456789",
};

static void
test_ref_valid (void **state)
{
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
    {
      cleanup_error nook_error_t err = NULL;
      struct imagefmt_ref r;
      if (imagefmt_ref_parse (valid[i].in, &r, &err) < 0)
        fail_msg ("'%s' rejected: %s", valid[i].in, err->msg);
      cleanup_free char *full = imagefmt_ref_full (&r);
      cleanup_free char *sh = imagefmt_ref_short (&r);
      assert_string_equal (full, valid[i].full);
      assert_string_equal (sh, valid[i].shortf);
      imagefmt_ref_clear (&r);
      cleanup_free char *fam = imagefmt_ref_familiar (valid[i].full);
      assert_string_equal (fam, valid[i].shortf);
    }
}

static void
test_ref_invalid (void **state)
{
  for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
    {
      cleanup_error nook_error_t err = NULL;
      cleanup_free char *n = imagefmt_ref_normalize (invalid[i], &err);
      if (n != NULL)
        fail_msg ("'%s' accepted as '%s'", invalid[i], n);
      assert_int_equal (err->code, EINVAL);
    }
}

static void
test_ref_parts (void **state)
{
  struct imagefmt_ref r;
  assert_int_equal (imagefmt_ref_parse ("localhost:5000/a/b:t", &r, NULL), 0);
  assert_string_equal (r.domain, "localhost:5000");
  assert_string_equal (r.path, "a/b");
  assert_string_equal (r.tag, "t");
  assert_null (r.digest);
  cleanup_free char *sn = imagefmt_ref_short_name (&r);
  assert_string_equal (sn, "localhost:5000/a/b");
  imagefmt_ref_clear (&r);
  assert_int_equal (imagefmt_ref_parse ("x@" D, &r, NULL), 0);
  assert_null (r.tag);
  assert_string_equal (r.digest, D);
  imagefmt_ref_clear (&r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ref_valid),
    cmocka_unit_test (test_ref_invalid),
    cmocka_unit_test (test_ref_parts),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
