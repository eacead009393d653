/* tests/unit/test_logread.c: cmd/logread.c over json-file logs written here: rotated
 * files first (oldest first), --tail over all of them, --since/--until, a line being
 * written (no newline yet) taken once complete, a rotation while following. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/logread.h"
#include "util/cleanup.h"
#include "util/util.h"

#define ID "c0ffee"

static char dir[64];
static int dfd = -1;

static int
setup (void **state)
{
  (void)state;
  snprintf (dir, sizeof dir, "/tmp/nook-logread.XXXXXX");
  assert_non_null (mkdtemp (dir));
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return dfd < 0 ? -1 : 0;
}

static int
teardown (void **state)
{
  (void)state;
  static const char *const names[]
      = { ID "-json.log", ID "-json.log.1", ID "-json.log.2", ID "-json.log.3" };
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    unlinkat (dfd, names[i], 0);
  close (dfd);
  rmdir (dir);
  return 0;
}

/* Append entries "text" at second `sec` (stream stdout unless text starts with "E"). */
static void
append (const char *file, const char *text, int sec, bool newline)
{
  int fd = openat (dfd, file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  cleanup_free char *line
      = xasprintf ("{\"log\":\"%s\\n\",\"stream\":\"%s\",\"time\":\"2024-01-01T00:00:%02dZ\"}%s",
                   text, text[0] == 'E' ? "stderr" : "stdout", sec, newline ? "\n" : "");
  assert_int_equal (write (fd, line, strlen (line)), (ssize_t)strlen (line));
  close (fd);
}

static void
append_raw (const char *file, const char *raw)
{
  int fd = openat (dfd, file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, raw, strlen (raw)), (ssize_t)strlen (raw));
  close (fd);
}

/* Every entry available now, "a,b,c" (texts without their newline). */
static char *
drain (struct logread *r)
{
  struct strbuf b = { 0 };
  struct log_entry e;
  while (logread_next (r, &e) == 1)
    {
      strbuf_appendf (&b, "%s%.*s", b.len ? "," : "",
                      (int)(e.len - (e.len && e.text[e.len - 1] == '\n')), e.text);
      if (e.text[0] == 'E')
        assert_int_equal (e.stream, 2);
      free (e.text);
    }
  return b.len ? strbuf_steal (&b) : xstrdup ("");
}

static void
write_three_files (void)
{
  append (ID "-json.log.2", "a", 1, true);
  append (ID "-json.log.2", "b", 2, true);
  append (ID "-json.log.1", "c", 3, true);
  append (ID "-json.log.1", "Ed", 4, true);
  append (ID "-json.log", "e", 5, true);
  append (ID "-json.log", "f", 6, true);
}

static void
test_order_tail_times (void **state)
{
  (void)state;
  write_three_files ();
  struct logread *r = logread_open (dfd, ID, 0, 0, -1);
  cleanup_free char *all = drain (r);
  assert_string_equal (all, "a,b,c,Ed,e,f");
  logread_close (r);

  r = logread_open (dfd, ID, 0, 0, 3);
  cleanup_free char *tail = drain (r);
  assert_string_equal (tail, "Ed,e,f");
  logread_close (r);

  r = logread_open (dfd, ID, 0, 0, 0);
  cleanup_free char *none = drain (r);
  assert_string_equal (none, "");
  logread_close (r);

  int64_t t0 = 1704067200LL * 1000000000; /* 2024-01-01T00:00:00Z */
  r = logread_open (dfd, ID, t0 + 3000000000LL, t0 + 5000000000LL, -1);
  cleanup_free char *window = drain (r);
  assert_string_equal (window, "c,Ed,e");
  logread_close (r);

  /* --since with --tail: the last of those after the time */
  r = logread_open (dfd, ID, t0 + 3000000000LL, 0, 10);
  cleanup_free char *both = drain (r);
  assert_string_equal (both, "c,Ed,e,f");
  logread_close (r);
}

static void
test_follow_partial_and_rotation (void **state)
{
  (void)state;
  /* no log yet: nothing, then what appears */
  struct logread *r = logread_open (dfd, ID, 0, 0, -1);
  cleanup_free char *empty = drain (r);
  assert_string_equal (empty, "");
  append (ID "-json.log", "one", 1, true);
  append_raw (ID "-json.log", "{\"log\":\"two\\n\",\"stream\":\"stdout\",");
  cleanup_free char *first = drain (r);
  assert_string_equal (first, "one");
  /* the rest of the line being written */
  append_raw (ID "-json.log", "\"time\":\"2024-01-01T00:00:02Z\"}\n");
  cleanup_free char *second = drain (r);
  assert_string_equal (second, "two");
  /* rotated: the old file gets one more line first, then the new one starts */
  append (ID "-json.log", "three", 3, true);
  cleanup_free char *old = xasprintf ("%s/%s-json.log", dir, ID);
  cleanup_free char *rot = xasprintf ("%s/%s-json.log.1", dir, ID);
  assert_int_equal (rename (old, rot), 0);
  append (ID "-json.log", "four", 4, true);
  cleanup_free char *after = drain (r);
  assert_string_equal (after, "three,four");
  append (ID "-json.log", "five", 5, true);
  cleanup_free char *last = drain (r);
  assert_string_equal (last, "five");
  logread_close (r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_order_tail_times, setup, teardown),
    cmocka_unit_test_setup_teardown (test_follow_partial_and_rotation, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
