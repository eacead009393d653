/* tests/unit/test_build_progress.c: the compact terminal view of `nook build`
 * (cmd/build/progress.c): BuildKit's plain form in, one line per step out, a RUN's last
 * output line live, the tail of a failing step's output, the closing line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/build/build.h"
#include "util/util.h"

static char *
render (const char *const *lines, int width)
{
  struct build_tty t;
  struct strbuf out = { 0 };
  build_tty_init (&t, width);
  for (size_t i = 0; lines[i]; i++)
    build_tty_feed (&t, lines[i], &out);
  build_tty_end (&t, 1.25, &out);
  strbuf_append (&out, "");
  return strbuf_steal (&out);
}

/* what a terminal keeps: each "\r\033[K" erases the line so far */
static char *
screen (const char *raw)
{
  struct strbuf s = { 0 };
  strbuf_append (&s, "");
  size_t line_start = 0;
  for (const char *p = raw; *p; p++)
    {
      if (strncmp (p, "\r\033[K", 4) == 0)
        {
          s.len = line_start;
          s.buf[s.len] = '\0';
          p += 3;
          continue;
        }
      strbuf_appendc (&s, *p);
      if (*p == '\n')
        line_start = s.len;
    }
  return strbuf_steal (&s);
}

static void
test_steps (void **state)
{
  (void)state;
  const char *in[] = { "#1 [internal] load build definition from Dockerfile",
                       "#1 transferring dockerfile: 104B done",
                       "#1 DONE 0.0s",
                       "",
                       "#2 [1/3] FROM node:14",
                       "#2 DONE 0.0s",
                       "",
                       "#3 [2/3] WORKDIR /app",
                       "#3 CACHED",
                       "",
                       "#4 [3/3] RUN npm install",
                       "#4 1.020 ",
                       "#4 1.021 up to date, audited 1 package in 65ms",
                       "#4 DONE 1.2s",
                       "",
                       "#5 exporting to image",
                       "#5 naming to docker.io/library/app:latest done",
                       "#5 DONE 0.0s",
                       NULL };
  char *raw = render (in, 60);
  /* the RUN's output was shown live, in place */
  assert_non_null (strstr (raw, " => [3/3] RUN npm install | up to date, audited 1 package"));
  char *s = screen (raw);
  const char *want
      = " => [internal] load build definition from Dockerfile   0.0s\n"
        " => => transferring dockerfile: 104B done\n"
        " => [1/3] FROM node:14                                 0.0s\n"
        " => CACHED [2/3] WORKDIR /app\n"
        " => [3/3] RUN npm install                              1.2s\n"
        " => exporting to image                                 0.0s\n"
        " => => naming to docker.io/library/app:latest done\n"
        "[+] Building 1.2s (5/5) FINISHED\n";
  assert_string_equal (s, want);
  free (s);
  free (raw);
}

static void
test_error (void **state)
{
  (void)state;
  const char *in[] = { "#1 [2/2] RUN false",
                       "#1 0.100 something went wrong",
                       "#1 ERROR: process \"/bin/sh -c false\" did not complete successfully: exit code: 1",
                       "------",
                       " > [2/2] RUN false:",
                       "------",
                       "Dockerfile:2",
                       NULL };
  char *raw = render (in, 60);
  char *s = screen (raw);
  assert_non_null (strstr (s, " => ERROR [2/2] RUN false\n------\n > [2/2] RUN false:\n"
                              "0.100 something went wrong\n"));
  assert_non_null (strstr (s, "#1 ERROR: process \"/bin/sh -c false\""));
  assert_non_null (strstr (s, "\nDockerfile:2\n"));
  assert_null (strstr (s, "FINISHED"));
  free (s);
  free (raw);
}

static void
test_other_lines (void **state)
{
  (void)state;
  const char *in[] = { "# syntax=docker/dockerfile:1: ignored", "#7 [1/1] FROM busybox",
                       "[Warning] One or more build-args [X] were not consumed", NULL };
  char *s0 = render (in, 80);
  char *s = screen (s0);
  assert_non_null (strstr (s, "# syntax=docker/dockerfile:1: ignored\n"));
  assert_non_null (strstr (s, "[Warning] One or more build-args [X] were not consumed\n"));
  free (s);
  free (s0);
}

static void
test_parallel (void **state)
{
  (void)state;
  /* two stages at once: their lines interleave, each step keeps its own */
  const char *in[] = { "#3 [a 2/2] RUN a-cmd",
                       "#4 [b 2/2] RUN b-cmd",
                       "#3 0.100 from a",
                       "#4 0.110 from b",
                       "#4 DONE 0.2s",
                       "#3 0.300 more from a",
                       "#3 DONE 0.4s",
                       NULL };
  char *raw = render (in, 50);
  assert_non_null (strstr (raw, " => [a 2/2] RUN a-cmd | from a (+1 running)"));
  assert_non_null (strstr (raw, " => [b 2/2] RUN b-cmd | from b (+1 running)"));
  assert_non_null (strstr (raw, " => [a 2/2] RUN a-cmd | more from a\r"));
  char *s = screen (raw);
  assert_string_equal (s, " => [b 2/2] RUN b-cmd                        0.2s\n"
                          " => [a 2/2] RUN a-cmd                        0.4s\n"
                          "[+] Building 1.2s (2/2) FINISHED\n");
  free (s);
  free (raw);
}

static void
test_tick (void **state)
{
  (void)state;
  /* the clock moves with no output: the live line is redrawn with the time so far */
  struct build_tty t;
  struct strbuf out = { 0 };
  build_tty_init (&t, 50);
  t.now = 100.0;
  build_tty_feed (&t, "#2 [2/2] RUN sleep 5", &out);
  t.now = 101.0;
  build_tty_feed (&t, "#2 1.000 working", &out);
  out.len = 0;
  t.now = 103.5;
  build_tty_tick (&t, &out);
  strbuf_append (&out, "");
  assert_string_equal (out.buf, "\r\033[K => [2/2] RUN sleep 5 | working              3.5s");
  out.len = 0;
  t.now = 104.25;
  build_tty_tick (&t, &out);
  strbuf_append (&out, "");
  assert_non_null (strstr (out.buf, "| working              4.2s"));
  /* no running step, nothing drawn */
  t.now = 105.0;
  build_tty_feed (&t, "#2 DONE 5.0s", &out);
  out.len = 0;
  build_tty_tick (&t, &out);
  assert_int_equal (out.len, 0);
  build_tty_end (&t, 5.0, &out);
  free (out.buf);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_steps),
    cmocka_unit_test (test_error),
    cmocka_unit_test (test_other_lines),
    cmocka_unit_test (test_parallel),
    cmocka_unit_test (test_tick),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
