/* tests/unit/test_build_prune.c: `nook builder prune --filter until=X` (cmd/build/cache.c):
 * a Go duration before now, Unix seconds, an RFC 3339 UTC time; anything else refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/build/build.h"
#include "util/cleanup.h"

static int64_t
until (const char *f, int64_t now)
{
  cleanup_error nook_error_t err = NULL;
  int64_t t = -2;
  assert_int_equal (build_prune_filter (f, now, &t, &err), 0);
  return t;
}

static void
refused (const char *f, const char *msg)
{
  cleanup_error nook_error_t err = NULL;
  int64_t t = -2;
  assert_int_equal (build_prune_filter (f, 1000000, &t, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->exit, 125);
  assert_non_null (strstr (err->msg, msg));
  assert_int_equal (t, -2);
}

static void
test_until (void **state)
{
  (void)state;
  assert_int_equal (until ("until=24h", 1000000), 1000000 - 86400);
  assert_int_equal (until ("until=90m", 1000000), 1000000 - 5400);
  assert_int_equal (until ("until=1h30m", 1000000), 1000000 - 5400);
  assert_int_equal (until ("until=0s", 1000000), 1000000);
  assert_int_equal (until ("until=1700000000", 1000000), 1700000000);
  assert_int_equal (until ("until=2026-12-01T00:00:00Z", 0), 1796083200);
  assert_int_equal (until ("until=1970-01-02T00:00:00", 0), 86400);
  refused ("label=x", "until=DURATION");
  refused ("until=", "until takes a duration");
  refused ("until=yesterday", "until takes a duration");
  refused ("until=-3h", "negative");
}

int
main (void)
{
  const struct CMUnitTest tests[] = { cmocka_unit_test (test_until) };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
