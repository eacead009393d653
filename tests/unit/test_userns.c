/* tests/unit/test_userns.c: sandbox/userns (subordinate id files, the id-map plan). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sandbox/userns.h"
#include "util/cleanup.h"

static const char subuid[] = "# comment\n"
                             "alice:100000:65536\n"
                             "1002:200000:1000\n"
                             "bob:300000:0\n"
                             "bob:400000:70000\n";

static void
test_subid_by_name_and_uid (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct subid_range r = { 0 };
  assert_int_equal (sandbox_subid_find (subuid, "alice", 1001, &r, "/etc/subuid", &err), 1);
  assert_int_equal (r.start, 100000);
  assert_int_equal (r.count, 65536);
  assert_int_equal (sandbox_subid_find (subuid, "carol", 1002, &r, "/etc/subuid", &err), 1);
  assert_int_equal (r.start, 200000);
  assert_int_equal (r.count, 1000);
  /* an empty range is skipped, the next one of the same user is taken */
  assert_int_equal (sandbox_subid_find (subuid, "bob", 1003, &r, "/etc/subuid", &err), 1);
  assert_int_equal (r.start, 400000);
  assert_int_equal (sandbox_subid_find (subuid, "dave", 1004, &r, "/etc/subuid", &err), 0);
  assert_null (err);
}

static void
test_subid_malformed (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct subid_range r;
  assert_int_equal (sandbox_subid_find ("alice:1\n", "alice", 1, &r, "/etc/subuid", &err), -1);
  assert_non_null (strstr (err->msg, "/etc/subuid:1"));
  nook_error_free (&err);
  assert_int_equal (sandbox_subid_find ("x:1:1\nalice:abc:10\n", "alice", 1, &r, "f", &err), -1);
  assert_non_null (strstr (err->msg, "f:2"));
  nook_error_free (&err);
  assert_int_equal (sandbox_subid_find ("alice:99999999999:10\n", "alice", 1, &r, "f", &err), -1);
}

static void
test_plan_range (void **state)
{
  struct idmap_plan_input in = { .host_uid = 1001, .host_gid = 1001, .have_uid_range = true,
                                 .have_gid_range = true, .have_helpers = true,
                                 .uid_range = { 100000, 65536 }, .gid_range = { 200000, 100000 } };
  struct nook_idmapping m;
  const char *why = "x";
  sandbox_idmap_plan (&in, 1000, 1000, &m, &why);
  assert_null (why);
  assert_false (m.single);
  assert_true (m.use_helpers);
  assert_int_equal (m.n_uid, 2);
  assert_int_equal (m.uid[0].inside, 0);
  assert_int_equal (m.uid[0].outside, 1001);
  assert_int_equal (m.uid[0].count, 1);
  assert_int_equal (m.uid[1].inside, 1);
  assert_int_equal (m.uid[1].outside, 100000);
  assert_int_equal (m.uid[1].count, 65536);
  assert_int_equal (m.gid[1].count, 65536); /* capped */
  assert_true (sandbox_idmap_has (m.uid, m.n_uid, 1000));
  assert_true (sandbox_idmap_has (m.uid, m.n_uid, 65536));
  assert_false (sandbox_idmap_has (m.uid, m.n_uid, 65537));
}

static void
test_plan_single (void **state)
{
  struct idmap_plan_input in = { .host_uid = 1002, .host_gid = 1002, .have_helpers = true };
  struct nook_idmapping m;
  const char *why = NULL;
  sandbox_idmap_plan (&in, 1000, 100, &m, &why);
  assert_non_null (why);
  assert_non_null (strstr (why, "/etc/subuid"));
  assert_true (m.single);
  assert_false (m.use_helpers);
  assert_int_equal (m.n_uid, 1);
  assert_int_equal (m.uid[0].inside, 1000);
  assert_int_equal (m.uid[0].outside, 1002);
  assert_int_equal (m.gid[0].inside, 100);
  assert_false (sandbox_idmap_has (m.uid, m.n_uid, 0));

  /* a range but no newuidmap: single too, with that reason */
  in.have_uid_range = in.have_gid_range = true;
  in.uid_range = in.gid_range = (struct subid_range){ 100000, 65536 };
  in.have_helpers = false;
  sandbox_idmap_plan (&in, 0, 0, &m, &why);
  assert_true (m.single);
  assert_non_null (strstr (why, "newuidmap"));
}

static void
test_plan_root_never_maps_host_root (void **state)
{
  struct idmap_plan_input in = { .host_uid = 0, .host_gid = 0, .have_helpers = true };
  struct nook_idmapping m;
  sandbox_idmap_plan (&in, 0, 0, &m, NULL);
  assert_false (m.single);
  assert_false (m.use_helpers);
  for (size_t i = 0; i < m.n_uid; i++)
    assert_true (m.uid[i].outside > 0);
  assert_int_equal (m.uid[0].outside, SANDBOX_ROOT_RANGE_START);
  in.have_uid_range = in.have_gid_range = true;
  in.uid_range = in.gid_range = (struct subid_range){ 500000, 65536 };
  sandbox_idmap_plan (&in, 0, 0, &m, NULL);
  assert_int_equal (m.uid[0].outside, 500000);
  assert_int_equal (m.gid[0].outside, 500000);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_subid_by_name_and_uid),
    cmocka_unit_test (test_subid_malformed),
    cmocka_unit_test (test_plan_range),
    cmocka_unit_test (test_plan_single),
    cmocka_unit_test (test_plan_root_never_maps_host_root),
  };
  return cmocka_run_group_tests_name ("userns", tests, NULL, NULL);
}
