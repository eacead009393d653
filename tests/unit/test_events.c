/* tests/unit/test_events.c: cmd/events.c: --since/--until times, the log written and read
 * back between times, its rotation past EVENTS_LOG_MAX. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd/events.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

static void
test_time_parse (void **state)
{
  cleanup_error nook_error_t err = NULL;
  int64_t t;
  const int64_t now = 1700000000LL * 1000000000;
  assert_int_equal (events_time_parse ("1700000000", now, &t, &err), 0);
  assert_true (t == 1700000000LL * 1000000000);
  assert_int_equal (events_time_parse ("1700000000.5", now, &t, &err), 0);
  assert_true (t == 1700000000LL * 1000000000 + 500000000);
  assert_int_equal (events_time_parse ("2023-11-14T22:13:20Z", now, &t, &err), 0);
  assert_true (t == 1700000000LL * 1000000000);
  assert_int_equal (events_time_parse ("2023-11-14T23:13:20.25+01:00", now, &t, &err), 0);
  assert_true (t == 1700000000LL * 1000000000 + 250000000);
  assert_int_equal (events_time_parse ("10m", now, &t, &err), 0);
  assert_true (t == now - 600LL * 1000000000);
  assert_int_equal (events_time_parse ("1h30m", now, &t, &err), 0);
  assert_true (t == now - 5400LL * 1000000000);
  assert_int_equal (events_time_parse ("0s", now, &t, &err), 0);
  assert_true (t == now);
  assert_int_equal (events_time_parse ("yesterday", now, &t, &err), -1);
  assert_non_null (strstr (err->msg, "invalid time 'yesterday'"));
}

static int64_t
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct seen
{
  char **actions;
  int stop_after; /* 0: never */
};

static bool
collect (json_t *ev, void *data)
{
  struct seen *s = data;
  strv_push (&s->actions, json_string_value (json_object_get (ev, "Action")));
  return s->stop_after == 0 || (int)strv_len (s->actions) < s->stop_after;
}

static void
test_log_round_trip (void **state)
{
  char dir[] = "/tmp/nook-test-events.XXXXXX";
  assert_non_null (mkdtemp (dir));
  events_record (dir, "volume", "create", "v1", json_pack ("{s:s}", "driver", "local"));
  events_record (dir, "network", "create", "n1", NULL);
  events_record (dir, "volume", "destroy", "v1", NULL);
  cleanup_error nook_error_t err = NULL;
  struct seen s = { 0 };
  /* (until not after now: read, not followed) */
  assert_int_equal (events_stream (dir, 0, 1, collect, &s, &err), 0);
  assert_null (s.actions);
  assert_int_equal (events_stream (dir, 0, now (), collect, &s, &err), 0);
  assert_int_equal (strv_len (s.actions), 3);
  assert_string_equal (s.actions[2], "destroy");
  strv_free (s.actions);
  s.actions = NULL;
  s.stop_after = 2;
  assert_int_equal (events_stream (dir, 0, now (), collect, &s, &err), 0);
  assert_int_equal (strv_len (s.actions), 2);
  assert_string_equal (s.actions[0], "create");
  strv_free (s.actions);

  /* rotation: past EVENTS_LOG_MAX the log is renamed events.log.1, still read first */
  cleanup_free char *log = xasprintf ("%s/events.log", dir);
  cleanup_free char *old = xasprintf ("%s/events.log.1", dir);
  FILE *f = fopen (log, "ae");
  assert_non_null (f);
  for (int i = 0; i < EVENTS_LOG_MAX / 100 + 1; i++)
    fprintf (
        f,
        "{\"Type\":\"volume\",\"Action\":\"filler\",\"timeNano\":1000000000,\"pad\":\"%060d\"}\n",
        i);
  fclose (f);
  events_record (dir, "volume", "create", "v2", NULL);
  struct stat st;
  assert_int_equal (stat (old, &st), 0);
  assert_true (stat (log, &st) < 0);
  events_record (dir, "volume", "destroy", "v2", NULL);
  assert_int_equal (stat (log, &st), 0);
  assert_true (st.st_size < 1000);
  struct seen r = { 0 };
  assert_int_equal (events_stream (dir, 2000000000, now (), collect, &r, &err), 0);
  size_t n = strv_len (r.actions);
  assert_true (n == 5);
  assert_string_equal (r.actions[n - 2], "create");
  assert_string_equal (r.actions[n - 1], "destroy");
  strv_free (r.actions);
  cleanup_error nook_error_t e2 = NULL;
  fs_rm_rf_at (AT_FDCWD, dir, &e2);
}

static bool
keep (json_t *ev, void *data)
{
  json_array_append ((json_t *)data, ev);
  return true;
}

/* A container's volumes from its record (binds and tmpfs left out), and Docker's mount
 * and unmount attributes. */
static void
test_volume_mounts (void **state)
{
  char dir[] = "/tmp/nook-test-events.XXXXXX";
  assert_non_null (mkdtemp (dir));
  cleanup_free char *cdir = xasprintf ("%s/containers/c1", dir);
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (fs_mkdir_p (cdir, 0700, &err), 0);
  cleanup_free char *cfg = xasprintf ("%s/config.json", cdir);
  json_t *c = json_pack (
      "{s:s, s:s, s:{s:s}, s:[{s:s, s:s, s:s, s:b, s:s}, {s:s, s:s, s:s, s:b}, {s:s, s:s}]}",
      "Name", "/web", "Image", "busybox", "Labels", "team", "a", "Mounts", "Type", "volume", "Name",
      "data", "Destination", "/data", "RW", 0, "Propagation", "", "Type", "bind", "Source", "/srv",
      "Destination", "/srv", "RW", 1, "Type", "tmpfs", "Destination", "/t");
  assert_int_equal (json_dump_file (c, cfg, 0), 0);
  json_decref (c);
  json_t *vols = NULL;
  json_t *attrs = events_container_attrs_mounts (dir, "c1", &vols);
  assert_string_equal (json_string_value (json_object_get (attrs, "name")), "web");
  assert_string_equal (json_string_value (json_object_get (attrs, "team")), "a");
  assert_int_equal (json_array_size (vols), 1);
  events_volumes (dir, "c1", vols, true);
  events_volumes (dir, "c1", vols, false);
  events_volumes (dir, "c1", NULL, true); /* (none: nothing) */
  json_decref (vols);
  json_decref (attrs);
  json_t *none = NULL;
  json_decref (events_container_attrs_mounts (dir, "nosuch", &none));
  assert_null (none);
  json_t *got = json_array ();
  assert_int_equal (events_stream (dir, 0, now (), keep, got, &err), 0);
  assert_int_equal (json_array_size (got), 2);
  json_t *m = json_array_get (got, 0), *u = json_array_get (got, 1);
  assert_string_equal (json_string_value (json_object_get (m, "Type")), "volume");
  assert_string_equal (json_string_value (json_object_get (m, "Action")), "mount");
  json_t *want = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "container", "c1", "destination", "/data",
                            "driver", "local", "propagation", "", "read/write", "false");
  json_t *actor = json_object_get (m, "Actor");
  assert_string_equal (json_string_value (json_object_get (actor, "ID")), "data");
  assert_true (json_equal (json_object_get (actor, "Attributes"), want));
  json_decref (want);
  assert_string_equal (json_string_value (json_object_get (u, "Action")), "unmount");
  want = json_pack ("{s:s, s:s}", "container", "c1", "driver", "local");
  assert_true (json_equal (json_object_get (json_object_get (u, "Actor"), "Attributes"), want));
  json_decref (want);
  /* (volume events carry no status/id/from: Docker's older fields are for containers
   * and images) */
  assert_null (json_object_get (m, "status"));
  json_decref (got);
  cleanup_error nook_error_t e2 = NULL;
  fs_rm_rf_at (AT_FDCWD, dir, &e2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_time_parse),
    cmocka_unit_test (test_log_round_trip),
    cmocka_unit_test (test_volume_mounts),
  };
  return cmocka_run_group_tests_name ("events", tests, NULL, NULL);
}
