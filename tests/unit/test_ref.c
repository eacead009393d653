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
      assert_int_equal (err->code, 0); /* no errno text after the message */
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

#define HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A name that reads as an image ID is refused (Docker's words where Docker has them);
 * a tag that does is a tag. */
static void
test_ref_id_shaped (void **state)
{
  static const char *const refused[][2] = {
    { HEX, "invalid repository name (" HEX "), cannot specify 64-byte hexadecimal strings" },
    { HEX ":v1", "invalid reference format: repository name (library/" HEX
                 ") must not be a 64-byte hex string" },
    { "docker.io/library/" HEX, "repository name (library/" HEX ") must not be" },
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    {
      cleanup_error nook_error_t err = NULL;
      cleanup_free char *n = imagefmt_ref_normalize (refused[i][0], &err);
      if (n != NULL)
        fail_msg ("'%s' accepted as '%s'", refused[i][0], n);
      if (strstr (err->msg, refused[i][1]) == NULL)
        fail_msg ("'%s': '%s' lacks '%s'", refused[i][0], err->msg, refused[i][1]);
    }
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *t = imagefmt_ref_normalize_tag ("myimg:" HEX, &err);
  assert_string_equal (t, "docker.io/library/myimg:" HEX);
  cleanup_free char *u = imagefmt_ref_normalize_tag ("user/" HEX, &err);
  assert_non_null (u); /* only the familiar name as a whole is an ID */
  cleanup_free char *v = imagefmt_ref_normalize_tag ("foo/sha256:x", &err);
  assert_non_null (v);
  /* "sha256:<hex>" parses (it is how an ID is written) but is no tag to create. */
  cleanup_free char *w = imagefmt_ref_normalize ("sha256:" HEX, &err);
  assert_string_equal (w, "docker.io/library/sha256:" HEX);
  static const char *const no_tags[][2] = {
    { "sha256:" HEX, "refusing to create an ambiguous tag using digest algorithm as name" },
    { "sha256", "ambiguous tag" },
    { "docker.io/library/sha256:x", "ambiguous tag" },
    { "name@" D, "refusing to create a tag with a digest reference" },
  };
  for (size_t i = 0; i < sizeof no_tags / sizeof no_tags[0]; i++)
    {
      cleanup_free char *n = imagefmt_ref_normalize_tag (no_tags[i][0], &err);
      if (n != NULL)
        fail_msg ("'%s' accepted as a tag: '%s'", no_tags[i][0], n);
      if (strstr (err->msg, no_tags[i][1]) == NULL)
        fail_msg ("'%s': '%s' lacks '%s'", no_tags[i][0], err->msg, no_tags[i][1]);
      nook_error_free (&err);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ref_valid),
    cmocka_unit_test (test_ref_invalid),
    cmocka_unit_test (test_ref_parts),
    cmocka_unit_test (test_ref_id_shaped),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
