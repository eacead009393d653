/* tests/unit/test_dockerfile_stages.c: stages, meta ARGs, FROM expansion and
 * the stages a target needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "imagefmt/dockerfile/parser.h"
#include "imagefmt/dockerfile/stages.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <string.h>

static const char multi[]
    = "ARG BASE=alpine\n"
      "ARG VER=3\n"
      "ARG FULL=\"${BASE}:${VER}\"\n"
      "FROM ${FULL} AS Base\n"
      "RUN echo base\n"
      "FROM golang AS build\n"
      "COPY --from=BASE /x /y\n"
      "FROM scratch AS tools\n"
      "FROM build AS test\n"
      "RUN --mount=type=cache,target=/c --mount=type=bind,from=tools,target=/t t\n"
      "COPY --from=0 /a /b\n"
      "FROM alpine AS final\n"
      "COPY --from=build /app /app\n"
      "COPY --from=docker.io/library/busybox /bin/sh /sh\n";

static struct dockerfile_stages *
stages (const char *text, char *const *build_args, nook_error_t *err)
{
  cleanup_dockerfile struct dockerfile *df = NULL;
  struct dockerfile_stages *st = NULL;
  if (dockerfile_parse (text, strlen (text), "Dockerfile", &df, err) < 0)
    fail_msg ("parse: %s", (*err)->msg);
  if (dockerfile_stages_build (df, build_args, &st, err) < 0)
    return NULL;
  return st;
}

static char *
order_of (const char *text, const char *target)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_dockerfile_stages struct dockerfile_stages *st = stages (text, NULL, &err);
  cleanup_free size_t *order = NULL;
  struct strbuf b = { 0 };
  size_t n = 0;
  if (st == NULL)
    fail_msg ("stages: %s", err->msg);
  if (dockerfile_stages_for_target (st, target, &order, &n, &err) < 0)
    return xasprintf ("error: %s", err->msg);
  for (size_t i = 0; i < n; i++)
    strbuf_appendf (&b, "%s%zu", i ? " " : "", order[i]);
  return strbuf_steal (&b);
}

static void
test_stages_basic (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_dockerfile_stages struct dockerfile_stages *st = stages (multi, NULL, &err);
  assert_non_null (st);
  assert_int_equal (st->n, 5);
  assert_string_equal (st->stages[0].name, "base");
  assert_string_equal (st->stages[0].base, "alpine:3");
  assert_int_equal (st->stages[0].n_nodes, 2);
  assert_int_equal (st->stages[3].base_stage, 1);
  assert_int_equal (st->stages[3].n_deps, 3);
  assert_int_equal (st->stages[4].n_deps, 1);
  cleanup_free char *t = order_of (multi, "test");
  assert_string_equal (t, "0 1 2 3");
  cleanup_free char *last = order_of (multi, NULL);
  assert_string_equal (last, "0 1 4");
  cleanup_free char *ci = order_of (multi, "TOOLS");
  assert_string_equal (ci, "2");
  cleanup_free char *unknown = order_of (multi, "nope");
  assert_string_equal (unknown, "error: target stage \"nope\" could not be found");
}

static void
test_build_args (void **state)
{
  cleanup_error nook_error_t err = NULL;
  char *args[] = { (char *)"VER=edge", NULL };
  cleanup_dockerfile_stages struct dockerfile_stages *st = stages (multi, args, &err);
  assert_non_null (st);
  assert_string_equal (st->stages[0].base, "alpine:edge");
  cleanup_dockerfile_stages struct dockerfile_stages *st2
      = stages ("ARG IMG\nFROM --platform=$BUILDPLATFORM ${IMG:-busybox}\n", NULL, &err);
  assert_non_null (st2);
  assert_string_equal (st2->stages[0].base, "busybox");
  assert_true (str_has_prefix (st2->stages[0].platform, "linux/"));
}

static void
test_errors (void **state)
{
  static const char *const bad[][2] = {
    { "FROM b AS a\nFROM a AS b\n", "circular dependency" },
    { "FROM x AS a\nCOPY --from=b / /\nFROM x AS b\nCOPY --from=a / /\n", "circular dependency" },
    { "FROM a AS a\n", "circular dependency" },
    { "FROM x AS a\nFROM y AS A\n", "duplicate stage name" },
    { "FROM x AS 1a\n", "invalid name for build stage" },
    { "FROM x AS\n", "one or three arguments" },
    { "RUN x\nFROM a\n", "before the first FROM" },
    { "FROM x\nCOPY --from=7 / /\n", "invalid stage index 7" },
    { "ARG X\nFROM ${X}\n", "should not be blank" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      cleanup_error nook_error_t err = NULL;
      cleanup_dockerfile_stages struct dockerfile_stages *st = stages (bad[i][0], NULL, &err);
      cleanup_free size_t *order = NULL;
      size_t n;
      if (st && dockerfile_stages_for_target (st, NULL, &order, &n, &err) == 0)
        fail_msg ("accepted: %s", bad[i][0]);
      if (strstr (err->msg, bad[i][1]) == NULL)
        fail_msg ("%s: got '%s', want '%s'", bad[i][0], err->msg, bad[i][1]);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_stages_basic),
    cmocka_unit_test (test_build_args),
    cmocka_unit_test (test_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
