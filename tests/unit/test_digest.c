/* tests/unit/test_digest.c: digest parsing and hashing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "imagefmt/digest.h"
#include "util/cleanup.h"

#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
test_digest_accepts_valid (void **state)
{
  cleanup_error nook_error_t err = NULL;
  const char *hex = NULL;
  assert_int_equal (imagefmt_digest_parse (EMPTY, &hex, &err), 0);
  assert_string_equal (hex, EMPTY + 7);
}

static void
test_digest_rejects (void **state)
{
  static const char *const bad[] = {
    "sha256:../../etc/passwd",
    "sha256:",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
    "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85/",
    "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_error nook_error_t err = NULL;
      assert_int_equal (imagefmt_digest_parse (bad[i], NULL, &err), -1);
      assert_non_null (err);
      assert_int_equal (err->code, EINVAL);
    }
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (imagefmt_digest_parse (NULL, NULL, &err), -1);
}

static void
test_digest_data_and_fd (void **state)
{
  cleanup_free char *d = imagefmt_digest_data ("", 0);
  assert_string_equal (d, EMPTY);
  cleanup_free char *abc = imagefmt_digest_data ("abc", 3);
  assert_string_equal (abc,
                       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  int p[2];
  assert_int_equal (pipe (p), 0);
  assert_int_equal (write (p[1], "abc", 3), 3);
  close (p[1]);
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *f = imagefmt_digest_fd (p[0], &err);
  close (p[0]);
  assert_string_equal (f, abc);
  struct imagefmt_digester *g = imagefmt_digester_new ();
  imagefmt_digester_update (g, "a", 1);
  imagefmt_digester_update (g, "bc", 2);
  cleanup_free char *inc = imagefmt_digester_finish (g);
  assert_string_equal (inc, abc);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_digest_accepts_valid),
    cmocka_unit_test (test_digest_rejects),
    cmocka_unit_test (test_digest_data_and_fd),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
