/* tests/unit/test_cli.c: the helpers every verb shares (cmd/cli.c): usage
 * errors in Docker's CLI form and exit codes, option values, --format. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/cli.h"
#include "util/cleanup.h"

static void
test_flag_error_form (void **state)
{
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (cmd_flag_error (&err, "ps", "unknown flag: %s", "--x"), -1);
  assert_string_equal (err->msg, "unknown flag: --x\nSee 'nook ps --help'.");
  assert_true (err->usage);
  assert_int_equal (err->exit, 125);
  nook_error_free (&err);
  cmd_flag_error (&err, NULL, "unknown flag: %s", "--y");
  assert_string_equal (err->msg, "unknown flag: --y\nSee 'nook --help'.");
}

static void
test_args_error_exit (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cmd_args_error (&err, "rm", "\"nook rm\" requires at least 1 argument.");
  assert_int_equal (err->exit, 1);
  assert_true (err->usage);
  nook_error_free (&err);
  cmd_args_error (&err, "run", "\"nook run\" requires at least 1 argument.");
  assert_int_equal (err->exit, 125);
}

static void
test_opt_value (void **state)
{
  char *argv[] = { "ps", "--format=json", "-f", "table", "--format", NULL };
  int argc = 5, i = 1;
  const char *v = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (cmd_opt_value (argc, argv, &i, "-f", "--format", "ps", &v, &err), 1);
  assert_string_equal (v, "json");
  i = 2;
  assert_int_equal (cmd_opt_value (argc, argv, &i, "-f", "--format", "ps", &v, &err), 1);
  assert_string_equal (v, "table");
  assert_int_equal (i, 3);
  i = 2;
  assert_int_equal (cmd_opt_value (argc, argv, &i, NULL, "--format", "ps", &v, &err), 0);
  i = 4;
  assert_int_equal (cmd_opt_value (argc, argv, &i, "-f", "--format", "ps", &v, &err), -1);
  assert_string_equal (err->msg, "flag needs an argument: --format\nSee 'nook ps --help'.");
}

static void
test_format_kind (void **state)
{
  (void)state;
  assert_int_equal (cmd_format_kind ("table"), CMD_FORMAT_TABLE);
  assert_int_equal (cmd_format_kind (""), CMD_FORMAT_TABLE);
  assert_int_equal (cmd_format_kind ("json"), CMD_FORMAT_JSON);
  assert_int_equal (cmd_format_kind ("{{.Names}}"), CMD_FORMAT_TEMPLATE);
  assert_int_equal (cmd_format_kind ("table {{.Names}}"), CMD_FORMAT_TEMPLATE);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_flag_error_form),
    cmocka_unit_test (test_args_error_exit),
    cmocka_unit_test (test_opt_value),
    cmocka_unit_test (test_format_kind),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
