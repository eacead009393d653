/* tests/unit/test_health.c: the pure pieces of healthchecks (cmd/health.c): Go's
 * durations both ways, run's --health-* flags merged over the image's HEALTHCHECK,
 * the config's defaults, and Docker's rules for a probe's result. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/health.h"
#include "util/cleanup.h"
#include "util/util.h"

static int64_t
dur (const char *s)
{
  cleanup_error nook_error_t err = NULL;
  int64_t ns = 0;
  assert_int_equal (health_duration_parse (s, &ns, &err), 0);
  return ns;
}

static void
bad (const char *s, const char *msg)
{
  cleanup_error nook_error_t err = NULL;
  int64_t ns;
  assert_int_equal (health_duration_parse (s, &ns, &err), -1);
  assert_string_equal (err->msg, msg);
}

static void
test_duration_parse (void **state)
{
  assert_int_equal (dur ("0"), 0);
  assert_int_equal (dur ("300ms"), 300000000);
  assert_int_equal (dur ("2s"), 2000000000);
  assert_int_equal (dur ("1.5s"), 1500000000);
  assert_int_equal (dur (".5s"), 500000000);
  assert_int_equal (dur ("1h2m3s"), INT64_C (3723000000000));
  assert_int_equal (dur ("10us"), 10000);
  assert_int_equal (dur ("10\xc2\xb5s"), 10000);
  assert_int_equal (dur ("7ns"), 7);
  assert_int_equal (dur ("-1s"), -1000000000);
  assert_int_equal (dur ("+1m"), 60000000000);
  bad ("5", "time: missing unit in duration \"5\"");
  bad ("5x", "time: unknown unit \"x\" in duration \"5x\"");
  bad ("", "time: invalid duration \"\"");
  bad ("s", "time: invalid duration \"s\"");
  bad (".s", "time: invalid duration \".s\"");
  bad ("9999999999h", "time: invalid duration \"9999999999h\"");
}

static void
fmt (int64_t ns, const char *want)
{
  char buf[64];
  health_duration_format (ns, buf, sizeof buf);
  assert_string_equal (buf, want);
}

static void
test_duration_format (void **state)
{
  fmt (0, "0s");
  fmt (300000000, "300ms");
  fmt (1500000000, "1.5s");
  fmt (30000000000, "30s");
  fmt (90000000000, "1m30s");
  fmt (INT64_C (7200000000000), "2h0m0s");
  fmt (1500, "1.5\xc2\xb5s");
  fmt (7, "7ns");
}

static json_t *
image_with (const char *healthcheck_json)
{
  json_t *hc = json_loads (healthcheck_json, 0, NULL);
  assert_non_null (hc);
  return json_pack ("{s:{s:o}}", "config", "Healthcheck", hc);
}

static void
test_merge (void **state)
{
  cleanup_error nook_error_t err = NULL;
  json_t *img = image_with ("{\"Test\":[\"CMD\",\"/bin/check\",\"-q\"],\"Interval\":10000000000,"
                            "\"Retries\":5}");
  struct run_opts o = { 0 };
  json_t *out = NULL;
  /* no flags: the image's */
  assert_int_equal (health_config_merge (&o, img, &out, &err), 0);
  assert_true (json_equal (out, json_object_get (json_object_get (img, "config"), "Healthcheck")));
  json_decref (out);
  /* flags over it, field by field */
  o.health_interval = (char *)"2s";
  assert_int_equal (health_config_merge (&o, img, &out, &err), 0);
  assert_int_equal (json_integer_value (json_object_get (out, "Interval")), 2000000000);
  assert_int_equal (json_integer_value (json_object_get (out, "Retries")), 5);
  assert_string_equal (json_string_value (json_array_get (json_object_get (out, "Test"), 1)),
                       "/bin/check");
  json_decref (out);
  o.health_cmd = (char *)"curl -f localhost";
  assert_int_equal (health_config_merge (&o, img, &out, &err), 0);
  assert_string_equal (json_string_value (json_array_get (json_object_get (out, "Test"), 0)),
                       "CMD-SHELL");
  json_decref (out);
  /* --no-healthcheck: NONE; with another flag: refused */
  struct run_opts none = { .no_healthcheck = true };
  assert_int_equal (health_config_merge (&none, img, &out, &err), 0);
  assert_string_equal (json_string_value (json_array_get (json_object_get (out, "Test"), 0)),
                       "NONE");
  assert_null (health_config_load (out, NULL));
  json_decref (out);
  none.health_retries = (char *)"2";
  assert_int_equal (health_config_merge (&none, img, &out, &err), -1);
  assert_non_null (strstr (err->msg, "conflicts with --health-* options"));
  nook_error_free (&err);
  /* nothing anywhere */
  struct run_opts empty = { 0 };
  assert_int_equal (health_config_merge (&empty, NULL, &out, &err), 0);
  assert_null (out);
  /* below 1ms, negative, bad retries */
  struct run_opts tiny = { .health_timeout = (char *)"10us" };
  assert_int_equal (health_flags_check (&tiny, &err), -1);
  assert_string_equal (err->msg, "Timeout in Healthcheck cannot be less than 1ms");
  nook_error_free (&err);
  struct run_opts neg = { .health_start_period = (char *)"-1s" };
  assert_int_equal (health_flags_check (&neg, &err), -1);
  assert_string_equal (err->msg, "--health-start-period cannot be negative");
  nook_error_free (&err);
  struct run_opts r = { .health_retries = (char *)"x" };
  assert_int_equal (health_flags_check (&r, &err), -1);
  assert_int_equal (err->exit, 125);
  json_decref (img);
}

static void
test_config_load (void **state)
{
  json_t *hc = json_loads ("{\"Test\":[\"CMD-SHELL\",\"exit 0\"]}", 0, NULL);
  struct health_config *c = health_config_load (hc, NULL);
  assert_non_null (c);
  assert_string_equal (c->argv[0], "/bin/sh");
  assert_string_equal (c->argv[1], "-c");
  assert_string_equal (c->argv[2], "exit 0");
  assert_null (c->argv[3]);
  assert_int_equal (c->interval_ns, INT64_C (30000000000));
  assert_int_equal (c->timeout_ns, INT64_C (30000000000));
  assert_int_equal (c->start_period_ns, 0);
  assert_int_equal (c->start_interval_ns, INT64_C (5000000000));
  assert_int_equal (c->retries, 3);
  health_config_free (c);
  json_decref (hc);
  hc = json_loads ("{\"Test\":[\"CMD\",\"/check\",\"a b\"],\"Retries\":1}", 0, NULL);
  c = health_config_load (hc, NULL);
  assert_string_equal (c->argv[0], "/check");
  assert_string_equal (c->argv[1], "a b");
  assert_int_equal (c->retries, 1);
  health_config_free (c);
  json_decref (hc);
  hc = json_loads ("{\"Test\":[]}", 0, NULL);
  assert_null (health_config_load (hc, NULL));
  json_decref (hc);
  /* CMD-SHELL runs in the image's SHELL, as Docker's getShell */
  hc = json_loads ("{\"Test\":[\"CMD-SHELL\",\"exit 0\"]}", 0, NULL);
  json_t *shell = json_loads ("[\"/bin/bash\",\"-o\",\"pipefail\",\"-c\"]", 0, NULL);
  c = health_config_load (hc, shell);
  assert_string_equal (c->argv[0], "/bin/bash");
  assert_string_equal (c->argv[3], "-c");
  assert_string_equal (c->argv[4], "exit 0");
  assert_null (c->argv[5]);
  health_config_free (c);
  json_decref (shell);
  json_decref (hc);
  /* a kind Docker does not know: no healthcheck */
  hc = json_loads ("{\"Test\":[\"FOO\",\"exit 0\"]}", 0, NULL);
  assert_null (health_config_load (hc, NULL));
  json_decref (hc);
}

static void
result (struct health_state *h, const struct health_config *c, int64_t at, int code)
{
  struct health_result r
      = { .start_ns = at, .end_ns = at + 1, .exit_code = code, .output = xstrdup ("out") };
  health_state_apply (h, c, 0, &r, false);
  assert_null (r.output);
}

static void
test_state_rules (void **state)
{
  struct health_config c = { .retries = 2, .start_period_ns = 100 };
  struct health_state h = { .status = "starting" };
  /* failures within the start period do not count */
  result (&h, &c, 10, 1);
  result (&h, &c, 20, 1);
  result (&h, &c, 30, 1);
  assert_string_equal (h.status, "starting");
  assert_int_equal (h.failing_streak, 0);
  /* after it they do: retries failures in a row make it unhealthy */
  result (&h, &c, 200, 1);
  assert_string_equal (h.status, "starting");
  assert_int_equal (h.failing_streak, 1);
  result (&h, &c, 210, 2);
  assert_string_equal (h.status, "unhealthy");
  assert_int_equal (h.nlog, 5);
  result (&h, &c, 220, 0);
  assert_string_equal (h.status, "healthy");
  assert_int_equal (h.failing_streak, 0);
  assert_int_equal (h.nlog, 5); /* the last 5 only */
  assert_int_equal (h.log[4].exit_code, 0);
  assert_int_equal (h.log[0].start_ns, 20);
  /* healthy once: a failure counts even within the start period */
  struct health_state h2 = { .status = "starting" };
  result (&h2, &c, 10, 0);
  result (&h2, &c, 20, 1);
  assert_int_equal (h2.failing_streak, 1);
  /* the probe at the start: its failure is logged and counts for nothing, even
   * with no start period; its success counts */
  struct health_config c0 = { .retries = 1 };
  struct health_state h3 = { .status = "starting" };
  struct health_result r = { .start_ns = 5, .end_ns = 6, .exit_code = 1, .output = xstrdup ("no") };
  health_state_apply (&h3, &c0, 0, &r, true);
  assert_string_equal (h3.status, "starting");
  assert_int_equal (h3.failing_streak, 0);
  assert_int_equal (h3.nlog, 1);
  result (&h3, &c0, 10, 1); /* Docker's first: counts */
  assert_string_equal (h3.status, "unhealthy");
  struct health_state h4 = { .status = "starting" };
  r = (struct health_result){ .start_ns = 5, .end_ns = 6, .exit_code = 0, .output = xstrdup ("") };
  health_state_apply (&h4, &c0, 0, &r, true);
  assert_string_equal (h4.status, "healthy");
  json_t *j = health_state_json (&h);
  assert_string_equal (json_string_value (json_object_get (j, "Status")), "healthy");
  assert_int_equal (json_array_size (json_object_get (j, "Log")), 5);
  json_decref (j);
  health_state_clear (&h);
  health_state_clear (&h2);
  health_state_clear (&h3);
  health_state_clear (&h4);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_duration_parse), cmocka_unit_test (test_duration_format),
    cmocka_unit_test (test_merge),          cmocka_unit_test (test_config_load),
    cmocka_unit_test (test_state_rules),
  };
  return cmocka_run_group_tests_name ("health", tests, NULL, NULL);
}
