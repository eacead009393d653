/* tests/unit/test_compose_view.c: the pure half of the read-only compose verbs
 * (cmd/compose/view_shape.c): `ps --format json`'s object (Compose >= 2.21's keys and
 * types), `ls`'s combined status, the names and prefixes of `logs`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/compose/view_shape.h"
#include "cmd/ctrs.h"
#include "util/cleanup.h"
#include "util/util.h"

/* A running container of project "demo", service "web", with a published port, a named
 * volume and a bind mount. */
static struct ctr
web_ctr (json_t **config)
{
  *config = json_pack (
      "{s:{s:s, s:s, s:s, s:s}, s:[{s:s, s:s, s:s}, {s:s}], "
      "s:[{s:s, s:i, s:i, s:s}, {s:s, s:i, s:i, s:s}]}",
      "Labels", CL_PROJECT, "demo", CL_SERVICE, "web", CL_NUMBER, "1", CL_ONEOFF, "False", "Mounts",
      "Name", "demo_data", "Source", "/s/volumes/demo_data/_data", "Driver", "local", "Source",
      "/home/u/project/html", "Ports", "IP", "", "PrivatePort", 443, "PublicPort", 8443, "Type",
      "tcp", "IP", "127.0.0.1", "PrivatePort", 80, "PublicPort", 8080, "Type", "tcp");
  struct ctr c = { 0 };
  c.id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  c.name = "demo-web-1";
  c.image = "busybox";
  c.command = "httpd -f -p 80 -h /www/with/a/long/path";
  c.created = 1000;
  c.started = 1000;
  c.config = *config;
  c.status = "running";
  c.running = true;
  c.health_status = "healthy";
  return c;
}

static void
test_ps_row_keys (void **state)
{
  (void)state;
  json_t *cfg;
  struct ctr c = web_ctr (&cfg);
  char *nets[] = { "demo_default", NULL };
  json_t *row = compose_ps_row (&c, nets, 1000 + 3600, true);
  /* every key of Compose's container context, and nothing else */
  static const char *const keys[]
      = { "Command",      "CreatedAt",  "ExitCode", "Health", "ID",       "Image", "Labels",
          "LocalVolumes", "Mounts",     "Name",     "Names",  "Networks", "Ports", "Project",
          "Publishers",   "RunningFor", "Service",  "Size",   "State",    "Status" };
  assert_int_equal (json_object_size (row), ARRAY_SIZE (keys));
  for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
    assert_non_null (json_object_get (row, keys[i]));
  /* in Go's order (sorted), as Compose's encoder writes them */
  const char *prev = "";
  const char *k;
  json_t *v;
  json_object_foreach (row, k, v)
  {
    assert_true (strcmp (prev, k) < 0);
    prev = k;
  }
  assert_string_equal (json_string_value (json_object_get (row, "ID")), "0123456789ab");
  assert_string_equal (json_string_value (json_object_get (row, "Name")), "demo-web-1");
  assert_string_equal (json_string_value (json_object_get (row, "Project")), "demo");
  assert_string_equal (json_string_value (json_object_get (row, "Service")), "web");
  assert_string_equal (json_string_value (json_object_get (row, "State")), "running");
  assert_string_equal (json_string_value (json_object_get (row, "Health")), "healthy");
  assert_true (json_is_integer (json_object_get (row, "ExitCode")));
  /* the command quoted as Go's strconv.Quote, cut at 20 code points */
  assert_string_equal (json_string_value (json_object_get (row, "Command")),
                       "\"httpd -f -p 80 -h /…\"");
  assert_string_equal (json_string_value (json_object_get (row, "LocalVolumes")), "1");
  assert_string_equal (json_string_value (json_object_get (row, "Mounts")),
                       "demo_data,/home/u/projec…");
  assert_string_equal (json_string_value (json_object_get (row, "Networks")), "demo_default");
  assert_string_equal (json_string_value (json_object_get (row, "RunningFor")),
                       "About an hour ago");
  /* publishers by target port, with Compose's member names and types */
  json_t *p = json_object_get (row, "Publishers");
  assert_int_equal (json_array_size (p), 2);
  json_t *p0 = json_array_get (p, 0), *p1 = json_array_get (p, 1);
  assert_string_equal (json_string_value (json_object_get (p0, "URL")), "127.0.0.1");
  assert_int_equal (json_integer_value (json_object_get (p0, "TargetPort")), 80);
  assert_int_equal (json_integer_value (json_object_get (p0, "PublishedPort")), 8080);
  assert_string_equal (json_string_value (json_object_get (p0, "Protocol")), "tcp");
  assert_string_equal (json_string_value (json_object_get (p1, "URL")), "0.0.0.0");
  assert_int_equal (json_integer_value (json_object_get (p1, "TargetPort")), 443);
  json_decref (row);

  /* --no-trunc: whole ID and command */
  row = compose_ps_row (&c, NULL, 1000, false);
  assert_string_equal (json_string_value (json_object_get (row, "ID")), c.id);
  assert_string_equal (json_string_value (json_object_get (row, "Command")),
                       "\"httpd -f -p 80 -h /www/with/a/long/path\"");
  assert_string_equal (json_string_value (json_object_get (row, "Networks")), "");
  json_decref (row);
  json_decref (cfg);
}

static void
test_ps_row_exited (void **state)
{
  (void)state;
  json_t *cfg;
  struct ctr c = web_ctr (&cfg);
  c.running = false;
  c.status = "exited";
  c.exit_code = 3;
  c.finished = 1010;
  c.command = "sh -c \"echo hi\"";
  json_t *row = compose_ps_row (&c, NULL, 1020, true);
  assert_int_equal (json_integer_value (json_object_get (row, "ExitCode")), 3);
  /* no health and no published ports once it has ended (as Docker lists them) */
  assert_string_equal (json_string_value (json_object_get (row, "Health")), "");
  assert_int_equal (json_array_size (json_object_get (row, "Publishers")), 0);
  assert_string_equal (json_string_value (json_object_get (row, "Ports")), "");
  assert_string_equal (json_string_value (json_object_get (row, "Command")),
                       "\"sh -c \\\"echo hi\\\"\"");
  cleanup_free char *line = json_dumps (row, JSON_COMPACT);
  assert_non_null (strstr (line, "\"ExitCode\":3,"));
  json_decref (row);
  json_decref (cfg);
}

static void
test_combined_status (void **state)
{
  (void)state;
  char *a[] = { "running", "exited", "running", "paused", "running", NULL };
  cleanup_free char *s = compose_combined_status (a);
  assert_string_equal (s, "exited(1), paused(1), running(3)");
  char *none[] = { NULL };
  cleanup_free char *e = compose_combined_status (none);
  assert_string_equal (e, "");
}

static void
test_short_names_and_prefixes (void **state)
{
  (void)state;
  cleanup_free char *a = compose_short_name ("demo", "web", "1", "demo-web-1");
  assert_string_equal (a, "web-1");
  /* container_name: shown whole */
  cleanup_free char *b = compose_short_name ("demo", "db", "1", "my-database");
  assert_string_equal (b, "my-database");
  cleanup_free char *c = compose_short_name ("demo", "web", "2", "demo-web-1");
  assert_string_equal (c, "demo-web-1");

  char *names[] = { "web-1", "worker-12", "db-1", NULL };
  size_t w = compose_log_width (names);
  assert_int_equal (w, 10);
  cleanup_free char *p1 = compose_log_prefix ("web-1", w, -1);
  cleanup_free char *p2 = compose_log_prefix ("worker-12", w, -1);
  assert_string_equal (p1, "web-1      | ");
  assert_string_equal (p2, "worker-12  | ");
  assert_int_equal (strlen (p1), strlen (p2));
  /* one container alone: Compose's "web-1  | " */
  char *one[] = { "web-1", NULL };
  cleanup_free char *p3 = compose_log_prefix ("web-1", compose_log_width (one), -1);
  assert_string_equal (p3, "web-1  | ");
  /* colours: Compose's rainbow, cyan first, wrapping after ten */
  cleanup_free char *c0 = compose_log_prefix ("web-1", 6, 0);
  assert_string_equal (c0, "\033[36mweb-1  | \033[0m");
  cleanup_free char *c5 = compose_log_prefix ("web-1", 6, 5);
  assert_string_equal (c5, "\033[36;1mweb-1  | \033[0m");
  assert_string_equal (compose_log_color (11), "33");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ps_row_keys),
    cmocka_unit_test (test_ps_row_exited),
    cmocka_unit_test (test_combined_status),
    cmocka_unit_test (test_short_names_and_prefixes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
