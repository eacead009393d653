/* tests/unit/test_dockerfile_ignore.c: .dockerignore parsing and matching, from Docker's
 * documented examples and moby/patternmatcher's behaviour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "imagefmt/dockerfile/ignore.h"
#include "util/cleanup.h"
#include "util/util.h"

static struct dockerfile_ignore *
parse_ok (const char *text)
{
  struct dockerfile_ignore *ig = NULL;
  cleanup_error nook_error_t err = NULL;
  if (dockerfile_ignore_parse (text, strlen (text), &ig, &err) < 0)
    fail_msg ("parse failed: %s", err->msg);
  return ig;
}

static bool
excluded (const struct dockerfile_ignore *ig, const char *path)
{
  bool ex = false;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (dockerfile_ignore_matches (ig, path, &ex, &err), 0);
  return ex;
}

#define EXCLUDED(ig, p) assert_true (excluded (ig, p))
#define KEPT(ig, p) assert_false (excluded (ig, p))

static void
test_docs_example (void **state)
{
  struct dockerfile_ignore *ig = parse_ok ("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
  assert_int_equal (dockerfile_ignore_count (ig), 3);
  EXCLUDED (ig, "somedir/temporary.txt");
  EXCLUDED (ig, "somedir/temp");
  EXCLUDED (ig, "somedir/temp/anything/below"); /* a matching parent excludes all below */
  EXCLUDED (ig, "somedir/subdir/temporary.txt");
  EXCLUDED (ig, "tempa");
  EXCLUDED (ig, "tempb");
  KEPT (ig, "temp");
  KEPT (ig, "tempab");
  KEPT (ig, "temporary.txt");
  KEPT (ig, "a/b/c/temp.txt");
  KEPT (ig, "somedir/xtemp");
  dockerfile_ignore_free (ig);
}

static void
test_double_star (void **state)
{
  struct dockerfile_ignore *ig = parse_ok ("**/*.go\n");
  EXCLUDED (ig, "main.go");
  EXCLUDED (ig, "a/b/c/x.go");
  KEPT (ig, "main.goo");
  KEPT (ig, "go");
  dockerfile_ignore_free (ig);

  ig = parse_ok ("a/**/z\nb/**\n**\n!c\n");
  EXCLUDED (ig, "a/z");
  EXCLUDED (ig, "a/x/y/z");
  EXCLUDED (ig, "b/x");
  EXCLUDED (ig, "anything");
  KEPT (ig, "c");
  KEPT (ig, "c/d"); /* the exception matches the parent */
  dockerfile_ignore_free (ig);

  ig = parse_ok ("**foo\n"); /* suffix test, as patternmatcher does it */
  EXCLUDED (ig, "xfoo");
  EXCLUDED (ig, "a/b/foo");
  KEPT (ig, "foox");
  dockerfile_ignore_free (ig);

  ig = parse_ok ("**/foo\n");
  EXCLUDED (ig, "foo");
  EXCLUDED (ig, "a/foo");
  KEPT (ig, "afoo");
  dockerfile_ignore_free (ig);
}

static void
test_exceptions_order (void **state)
{
  struct dockerfile_ignore *ig = parse_ok ("*.md\n!README.md\n");
  EXCLUDED (ig, "CHANGES.md");
  KEPT (ig, "README.md");
  KEPT (ig, "main.c");
  dockerfile_ignore_free (ig);

  /* all markdown excluded but README files, yet README-secret.md excluded */
  ig = parse_ok ("*.md\n!README*.md\nREADME-secret.md\n");
  EXCLUDED (ig, "CHANGES.md");
  KEPT (ig, "README.md");
  KEPT (ig, "README-x.md");
  EXCLUDED (ig, "README-secret.md");
  dockerfile_ignore_free (ig);

  /* the last match wins: README-secret.md is included again */
  ig = parse_ok ("*.md\nREADME-secret.md\n!README*.md\n");
  KEPT (ig, "README-secret.md");
  EXCLUDED (ig, "x.md");
  dockerfile_ignore_free (ig);

  ig = parse_ok ("!README.md\n*.md\n"); /* an early exception is overridden */
  EXCLUDED (ig, "README.md");
  dockerfile_ignore_free (ig);
}

static void
test_reinclude_below (void **state)
{
  struct dockerfile_ignore *ig = parse_ok ("vendor\n!vendor/keep/*.c\n");
  EXCLUDED (ig, "vendor");
  EXCLUDED (ig, "vendor/x.c");
  KEPT (ig, "vendor/keep/a.c");
  EXCLUDED (ig, "vendor/keep/a.h");
  assert_true (dockerfile_ignore_may_reinclude_below (ig, "vendor"));
  assert_true (dockerfile_ignore_may_reinclude_below (ig, "vendor/keep"));
  assert_false (dockerfile_ignore_may_reinclude_below (ig, "vendor/other"));
  assert_false (dockerfile_ignore_may_reinclude_below (ig, "src"));
  dockerfile_ignore_free (ig);

  ig = parse_ok ("build\n!**/keep.txt\n");
  assert_true (dockerfile_ignore_may_reinclude_below (ig, "build"));
  KEPT (ig, "build/x/keep.txt");
  dockerfile_ignore_free (ig);

  ig = parse_ok ("a\n!a/b/c\n");
  assert_true (dockerfile_ignore_may_reinclude_below (ig, "a"));
  assert_true (dockerfile_ignore_may_reinclude_below (ig, "a/b"));
  assert_true (dockerfile_ignore_may_reinclude_below (ig, "a/b/c")); /* c itself is back */
  assert_false (dockerfile_ignore_may_reinclude_below (ig, "a/x"));
  KEPT (ig, "a/b/c/d");
  dockerfile_ignore_free (ig);

  ig = parse_ok ("a\nb/**\n"); /* no exceptions: never */
  assert_false (dockerfile_ignore_may_reinclude_below (ig, "a"));
  dockerfile_ignore_free (ig);

  ig = parse_ok ("*\n!src/**\n");
  assert_true (dockerfile_ignore_may_reinclude_below (ig, "src"));
  assert_false (dockerfile_ignore_may_reinclude_below (ig, "doc"));
  dockerfile_ignore_free (ig);
}

static void
test_lines_and_cleaning (void **state)
{
  struct dockerfile_ignore *ig
      = parse_ok ("\xEF\xBB\xBF# bom then comment\r\n  /foo/bar/  \r\n\n ./baz//qux/../x \n"
                  "  #not-a-comment\n!  /keep  \n\t\n");
  bool exc;
  assert_int_equal (dockerfile_ignore_count (ig), 4);
  assert_string_equal (dockerfile_ignore_pattern (ig, 0, &exc), "foo/bar");
  assert_false (exc);
  assert_string_equal (dockerfile_ignore_pattern (ig, 1, &exc), "baz/x");
  assert_string_equal (dockerfile_ignore_pattern (ig, 2, &exc), "#not-a-comment");
  assert_string_equal (dockerfile_ignore_pattern (ig, 3, &exc), "keep");
  assert_true (exc);
  assert_null (dockerfile_ignore_pattern (ig, 4, &exc));
  EXCLUDED (ig, "foo/bar");
  EXCLUDED (ig, "/foo/bar/x");
  EXCLUDED (ig, "./foo//bar");
  EXCLUDED (ig, "#not-a-comment");
  KEPT (ig, "foo");
  KEPT (ig, ".");
  KEPT (ig, "");
  dockerfile_ignore_free (ig);

  ig = parse_ok ("../x\n");
  EXCLUDED (ig, "../x");
  dockerfile_ignore_free (ig);

  ig = parse_ok ("");
  assert_int_equal (dockerfile_ignore_count (ig), 0);
  KEPT (ig, "a");
  dockerfile_ignore_free (ig);
}

static void
test_classes_and_escapes (void **state)
{
  struct dockerfile_ignore *ig = parse_ok ("[a-c].txt\n[^x]y\nf\\*o\nq\\?\n[!b]z\nl[\\]]l\n");
  EXCLUDED (ig, "a.txt");
  EXCLUDED (ig, "c.txt");
  KEPT (ig, "d.txt");
  EXCLUDED (ig, "ay");
  KEPT (ig, "xy");
  EXCLUDED (ig, "f*o");
  KEPT (ig, "fxo");
  EXCLUDED (ig, "q?");
  KEPT (ig, "qa");
  EXCLUDED (ig, "!z"); /* Go regexp: [!b] is '!' or 'b', not a negation */
  EXCLUDED (ig, "bz");
  KEPT (ig, "cz");
  EXCLUDED (ig, "l]l");
  dockerfile_ignore_free (ig);

  ig = parse_ok ("a.b\nx+y\n(p)\n{q}\n$r\n");
  EXCLUDED (ig, "a.b");
  KEPT (ig, "axb");
  EXCLUDED (ig, "x+y");
  EXCLUDED (ig, "(p)");
  EXCLUDED (ig, "{q}");
  EXCLUDED (ig, "$r");
  dockerfile_ignore_free (ig);

  ig = parse_ok ("*.txt\n"); /* `*` does not cross '/' */
  EXCLUDED (ig, "a.txt");
  KEPT (ig, "d/a.txt");
  dockerfile_ignore_free (ig);
}

static void
check_bad (const char *text, const char *want_in_msg)
{
  struct dockerfile_ignore *ig = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (dockerfile_ignore_parse (text, strlen (text), &ig, &err), -1);
  assert_null (ig);
  assert_non_null (err);
  if (strstr (err->msg, want_in_msg) == NULL)
    fail_msg ("'%s': message '%s' lacks '%s'", text, err->msg, want_in_msg);
}

static void
test_bad_patterns (void **state)
{
  check_bad ("ok\n[abc\n", "line 2");
  check_bad ("[]\n", "line 1");
  check_bad ("[z-a]\n", "range");
  check_bad ("a\\\n", "trailing");
  check_bad ("[-a]\n", "class");
  check_bad ("a\\d\\x41\n", "unsupported escape");
  check_bad ("[[:nope:]]\n", "class name");
  check_bad ("!\n", "illegal exclusion");
  check_bad ("! /\n", "illegal exclusion");
}

static void
test_huge (void **state)
{
  struct strbuf b = { 0 };
  struct dockerfile_ignore *ig = NULL;
  cleanup_error nook_error_t err = NULL;
  for (int i = 0; i < 70000; i++)
    strbuf_appendc (&b, 'a');
  assert_int_equal (dockerfile_ignore_parse (b.buf, b.len, &ig, &err), -1);
  nook_error_free (&err);
  strbuf_free (&b);

  for (int i = 0; i < 200; i++)
    strbuf_append (&b, "**/a*b?[c-d]*/");
  strbuf_append (&b, "\n");
  assert_int_equal (dockerfile_ignore_parse (b.buf, b.len, &ig, &err), 0);
  strbuf_free (&b);
  for (int i = 0; i < 2000; i++)
    strbuf_append (&b, "ab/");
  KEPT (ig, b.buf);
  assert_true (dockerfile_ignore_may_reinclude_below (ig, b.buf) == false);
  strbuf_free (&b);
  dockerfile_ignore_free (ig);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_docs_example),       cmocka_unit_test (test_double_star),
    cmocka_unit_test (test_exceptions_order),   cmocka_unit_test (test_reinclude_below),
    cmocka_unit_test (test_lines_and_cleaning), cmocka_unit_test (test_classes_and_escapes),
    cmocka_unit_test (test_bad_patterns),       cmocka_unit_test (test_huge),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
