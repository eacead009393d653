/* tests/unit/test_manifest.c: manifests, indexes, configs, platform selection and the
 * schema 2 <-> OCI conversion (imagefmt/manifest.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imagefmt/digest.h"
#include "imagefmt/manifest.h"
#include "util/cleanup.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static const char docker_manifest[]
    = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
      "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":7,"
      "\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
      "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":100,\"digest\":\"" D2 "\"},"
      "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":200,"
      "\"digest\":\"" D3 "\"}]}";

static const char index_json[]
    = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
      "\"manifests\":["
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"" D1
      "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"" D2
      "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"" D3
      "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"aarch64\",\"variant\":\"v8\"}},"
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"" D1
      "\",\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
      "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"" D2
      "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";

static void
test_manifest_docker (void **state)
{
  struct imagefmt_manifest m;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (
      imagefmt_manifest_parse (docker_manifest, strlen (docker_manifest), NULL, &m, &err), 0);
  assert_int_equal (m.kind, IMAGEFMT_MANIFEST_IMAGE);
  assert_string_equal (m.media_type, IMAGEFMT_MT_DOCKER_MANIFEST);
  assert_string_equal (m.config.digest, D1);
  assert_int_equal (m.n_layers, 2);
  assert_int_equal (m.layers[1].size, 200);
  imagefmt_manifest_clear (&m);
}

static void
test_manifest_bad (void **state)
{
  static const char *const bad[] = {
    "",
    "[]",
    "{\"schemaVersion\":1}",
    "{\"schemaVersion\":2}",
    "{\"schemaVersion\":2,\"mediaType\":\"text/plain\",\"config\":{},\"layers\":[]}",
    /* a digest that would name a path */
    "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"sha256:../../etc/passwd\"},"
    "\"layers\":[]}",
    "{\"schemaVersion\":2,\"config\":{\"size\":-1,\"digest\":\"" D1 "\"},\"layers\":[]}",
    "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1 "\"},\"layers\":[{\"size\":1,"
    "\"digest\":\"" D2 "\",\"mediaType\":\"application/x-foo\"}]}",
    "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1 "\"},\"layers\":{}}",
    /* duplicate keys: two readers could see two manifests */
    "{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1
    "\"},\"layers\":[]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct imagefmt_manifest m;
      cleanup_error nook_error_t err = NULL;
      if (imagefmt_manifest_parse (bad[i], strlen (bad[i]), NULL, &m, &err) == 0)
        fail_msg ("accepted: %s", bad[i]);
      assert_non_null (err);
    }
  /* the Content-Type of schema 1 is refused by name */
  struct imagefmt_manifest m;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (imagefmt_manifest_parse ("{\"schemaVersion\":1}", 19,
                                             IMAGEFMT_MT_DOCKER_SCHEMA1_SIGNED, &m, &err),
                    -1);
  assert_non_null (strstr (err->msg, "schema 1"));
}

static void
test_manifest_content_type (void **state)
{
  /* no mediaType in the document: the Content-Type decides; a contradiction is refused */
  static const char oci[]
      = "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" D1 "\"},\"layers\":[]}";
  struct imagefmt_manifest m;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (imagefmt_manifest_parse (
                        oci, strlen (oci), IMAGEFMT_MT_DOCKER_MANIFEST "; charset=utf-8", &m, &err),
                    0);
  assert_string_equal (m.media_type, IMAGEFMT_MT_DOCKER_MANIFEST);
  imagefmt_manifest_clear (&m);
  assert_int_equal (imagefmt_manifest_parse (oci, strlen (oci), NULL, &m, &err), 0);
  assert_string_equal (m.media_type, IMAGEFMT_MT_OCI_MANIFEST);
  imagefmt_manifest_clear (&m);
  assert_int_equal (imagefmt_manifest_parse (docker_manifest, strlen (docker_manifest),
                                             IMAGEFMT_MT_OCI_INDEX, &m, &err),
                    -1);
}

static ssize_t
select_for (const char *platform)
{
  struct imagefmt_manifest idx;
  struct imagefmt_platform p;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (imagefmt_manifest_parse (index_json, strlen (index_json), NULL, &idx, &err), 0);
  assert_int_equal (imagefmt_platform_parse (platform, &p, &err), 0);
  ssize_t r = imagefmt_index_select (&idx, &p, &err);
  if (r < 0)
    {
      assert_int_equal (err->code, ENOENT);
      assert_non_null (strstr (err->msg, "available: linux/arm/v6, linux/arm/v7, linux/arm64, "
                                         "linux/amd64"));
    }
  imagefmt_platform_clear (&p);
  imagefmt_manifest_clear (&idx);
  return r;
}

static void
test_index_select (void **state)
{
  assert_int_equal (select_for ("linux/amd64"), 4);
  assert_int_equal (select_for ("linux/x86_64"), 4);
  assert_int_equal (select_for ("linux/arm64"), 2);
  assert_int_equal (select_for ("linux/arm64/v8"), 2);
  assert_int_equal (select_for ("linux/aarch64"), 2);
  assert_int_equal (select_for ("linux/arm/v7"), 1);
  assert_int_equal (select_for ("linux/arm/v6"), 0);
  assert_int_equal (select_for ("linux/arm"), 0); /* no variant asked: the first arm */
  assert_int_equal (select_for ("linux/s390x"), -1);
  assert_int_equal (select_for ("windows/amd64"), -1);
}

static void
test_platform_parse (void **state)
{
  static const char *const bad[] = { "",
                                     "linux",
                                     "linux/",
                                     "/amd64",
                                     "linux//amd64",
                                     "linux/amd64/v1/x",
                                     "linux/am d64",
                                     "linux/amd64;rm" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct imagefmt_platform p;
      cleanup_error nook_error_t err = NULL;
      if (imagefmt_platform_parse (bad[i], &p, &err) == 0)
        fail_msg ("accepted platform '%s'", bad[i]);
    }
  struct imagefmt_platform p, d;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (imagefmt_platform_parse ("Linux/armhf", &p, &err), 0);
  cleanup_free char *s = imagefmt_platform_string (&p);
  assert_string_equal (s, "linux/arm/v7");
  imagefmt_platform_clear (&p);
  imagefmt_platform_default (&d);
  assert_string_equal (d.os, "linux");
  assert_non_null (d.architecture);
  assert_true (imagefmt_platform_match (&d, &d));
  imagefmt_platform_clear (&d);
}

static void
test_config (void **state)
{
  static const char cfg[] = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                            "\"layers\",\"diff_ids\":[\"" D2 "\",\"" D3 "\"]}}";
  struct imagefmt_config_info c;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (imagefmt_config_parse (cfg, strlen (cfg), &c, &err), 0);
  assert_int_equal (c.diff_ids[0] != NULL && c.diff_ids[1] != NULL && c.diff_ids[2] == NULL, 1);
  assert_string_equal (c.platform.architecture, "arm64");
  imagefmt_config_info_clear (&c);
  static const char bad[] = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:xyz\"]}}";
  assert_int_equal (imagefmt_config_parse (bad, strlen (bad), &c, &err), -1);
  nook_error_free (&err);
  static const char bad2[] = "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}";
  assert_int_equal (imagefmt_config_parse (bad2, strlen (bad2), &c, &err), -1);
}

static void
test_convert_round_trip (void **state)
{
  cleanup_error nook_error_t err = NULL;
  size_t n1 = 0, n2 = 0, n3 = 0;
  cleanup_free char *oci = imagefmt_manifest_convert (docker_manifest, strlen (docker_manifest),
                                                      IMAGEFMT_MT_OCI_MANIFEST, &n1, &err);
  assert_non_null (oci);
  assert_non_null (strstr (oci, IMAGEFMT_MT_OCI_LAYER_GZIP));
  assert_non_null (strstr (oci, IMAGEFMT_MT_OCI_CONFIG));
  assert_null (strstr (oci, "vnd.docker"));
  struct imagefmt_manifest m;
  assert_int_equal (imagefmt_manifest_parse (oci, n1, NULL, &m, &err), 0);
  assert_string_equal (m.media_type, IMAGEFMT_MT_OCI_MANIFEST);
  assert_string_equal (m.layers[0].digest, D2);
  imagefmt_manifest_clear (&m);
  cleanup_free char *back
      = imagefmt_manifest_convert (oci, n1, IMAGEFMT_MT_DOCKER_MANIFEST, &n2, &err);
  assert_non_null (back);
  /* Docker -> OCI -> Docker gives the original document (as sorted compact JSON) */
  cleanup_free char *again
      = imagefmt_manifest_convert (back, n2, IMAGEFMT_MT_OCI_MANIFEST, &n3, &err);
  assert_string_equal (again, oci);
  assert_non_null (strstr (back, IMAGEFMT_MT_DOCKER_LAYER_GZIP));
  /* the same type: unchanged bytes */
  size_t n4 = 0;
  cleanup_free char *same = imagefmt_manifest_convert (docker_manifest, strlen (docker_manifest),
                                                       IMAGEFMT_MT_DOCKER_MANIFEST, &n4, &err);
  assert_string_equal (same, docker_manifest);
  /* zstd has no Docker form */
  static const char zstd[]
      = "{\"schemaVersion\":2,\"mediaType\":\"" IMAGEFMT_MT_OCI_MANIFEST
        "\",\"config\":{\"mediaType\":\"" IMAGEFMT_MT_OCI_CONFIG "\",\"size\":1,\"digest\":\"" D1
        "\"},\"layers\":[{\"mediaType\":\"" IMAGEFMT_MT_OCI_LAYER_ZSTD
        "\",\"size\":1,\"digest\":\"" D2 "\"}]}";
  assert_null (
      imagefmt_manifest_convert (zstd, strlen (zstd), IMAGEFMT_MT_DOCKER_MANIFEST, &n4, &err));
}

static void
test_digest_verification (void **state)
{
  /* what pull does with a manifest fetched by digest: the content decides */
  cleanup_free char *d = imagefmt_digest_data (docker_manifest, strlen (docker_manifest));
  struct imagefmt_digester *g = imagefmt_digester_new ();
  imagefmt_digester_update (g, docker_manifest, 10);
  imagefmt_digester_update (g, docker_manifest + 10, strlen (docker_manifest) - 10);
  cleanup_free char *d2 = imagefmt_digester_finish (g);
  assert_string_equal (d, d2);
  cleanup_free char *other = imagefmt_digest_data (docker_manifest, strlen (docker_manifest) - 1);
  assert_string_not_equal (d, other);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_manifest_docker),       cmocka_unit_test (test_manifest_bad),
    cmocka_unit_test (test_manifest_content_type), cmocka_unit_test (test_index_select),
    cmocka_unit_test (test_platform_parse),        cmocka_unit_test (test_config),
    cmocka_unit_test (test_convert_round_trip),    cmocka_unit_test (test_digest_verification),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
