/* tests/unit/test_volumes.c: a run's volumes (cmd/volumes.c) in a scratch store:
 * named ones created, anonymous ones for -v /path and the image's VOLUME entries
 * (not where a mount already is), inspect's Mounts, names validated. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cmd/spec.h"
#include "cmd/volumes.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

static void
test_names (void **state)
{
  assert_true (volume_name_valid ("data"));
  assert_true (volume_name_valid ("a.b_c-1"));
  assert_false (volume_name_valid ("x"));
  assert_false (volume_name_valid ("-x"));
  assert_false (volume_name_valid ("a/b"));
  assert_false (volume_name_valid (".."));
}

static void
test_prepare (void **state)
{
  char root[] = "/tmp/nook-test-volumes.XXXXXX";
  assert_non_null (mkdtemp (root));
  cleanup_error nook_error_t err = NULL;
  struct nook_spec spec = { 0 };
  spec.mounts = calloc (2, sizeof *spec.mounts);
  assert_int_equal (spec_parse_volume ("named:/n", &spec.mounts[spec.n_mounts++], &err), 0);
  assert_int_equal (spec_parse_volume ("/data", &spec.mounts[spec.n_mounts++], &err), 0);
  json_t *img = json_loads ("{\"config\":{\"Volumes\":{\"/data\":{},\"/img\":{}}}}", 0, NULL);
  json_t *mounts = NULL;
  struct nook_idmapping ids = { 0 };
  assert_int_equal (volumes_prepare (root, &ids, img, NULL, &spec, &mounts, &err), 0);
  /* /data is not doubled: the -v already covers it; /img gets an anonymous volume */
  assert_int_equal (spec.n_mounts, 3);
  assert_int_equal (json_array_size (mounts), 3);
  size_t i;
  json_t *m;
  int anon = 0;
  json_array_foreach (mounts, i, m)
  {
    assert_string_equal (json_string_value (json_object_get (m, "Type")), "volume");
    const char *name = json_string_value (json_object_get (m, "Name"));
    const char *src = json_string_value (json_object_get (m, "Source"));
    assert_string_equal (spec.mounts[i].source, src);
    cleanup_free char *want = xasprintf ("%s/volumes/%s/_data", root, name);
    assert_string_equal (src, want);
    struct stat st;
    assert_int_equal (stat (src, &st), 0);
    anon += strlen (name) == 64;
  }
  assert_int_equal (anon, 2);
  assert_string_equal (json_string_value (json_object_get (json_array_get (mounts, 2), "Destination")), "/img");
  cleanup_free char *meta = NULL;
  cleanup_free char *mpath = xasprintf ("%s/volumes/named/volume.json", root);
  assert_int_equal (fs_read_file_at (-100, mpath, 4096, &meta, NULL, &err), 0);
  assert_null (strstr (meta, "anonymous"));
  json_decref (mounts);
  json_decref (img);
  nook_spec_free (&spec);
  assert_int_equal (fs_rm_rf_at (-100, root, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_names),
    cmocka_unit_test (test_prepare),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
