/* tests/unit/test_format.c: Docker's human times (cmd/format.c), and the CREATED of an
 * image made at the reproducible epoch 0 (issue 17: not "56 years ago"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cmd/format.h"

static void
check_str (char *got, const char *want)
{
  assert_string_equal (got, want);
  free (got);
}

static void
test_durations (void **state)
{
  (void)state;
  check_str (cmd_human_duration (0), "Less than a second");
  check_str (cmd_human_duration (1), "1 second");
  check_str (cmd_human_duration (59), "59 seconds");
  check_str (cmd_human_duration (60), "About a minute");
  check_str (cmd_human_duration (3600), "About an hour");
  check_str (cmd_human_duration (3 * 86400), "3 days");
  check_str (cmd_human_since (100, 160), "About a minute ago");
}

static void
test_created_epoch_zero (void **state)
{
  (void)state;
  int64_t now = INT64_C (1796441608); /* 2026-12-05 */
  /* epoch 0 is the reproducible default: said so, with its date */
  check_str (cmd_human_created (0, now), "reproducible (1970-01-01)");
  /* any other time (a git commit time, SOURCE_DATE_EPOCH, a real build) as Docker shows it */
  check_str (cmd_human_created (now - 3 * 86400, now), "3 days ago");
  check_str (cmd_human_created (1, now), "56 years ago");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_durations),
    cmocka_unit_test (test_created_epoch_zero),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
