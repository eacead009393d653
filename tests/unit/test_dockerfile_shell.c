/* tests/unit/test_dockerfile_shell.c: Dockerfile word expansion against BuildKit's
 * shell/envVarTest and shell/wordsTest (the copy in tests/data/conformance, read from the
 * repository root as `make unit` runs it), plus our own cases.  Missing data fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imagefmt/dockerfile/shell.h"
#include "util/cleanup.h"
#include "util/util.h"

static char *
conformance_path (const char *name)
{
  return xasprintf ("tests/data/conformance/buildkit-parser/shell/%s", name);
}

static FILE *
open_data (const char *name)
{
  cleanup_free char *path = conformance_path (name);
  FILE *f = fopen (path, "re");
  if (f == NULL)
    fail_msg ("conformance data %s is missing (run from the repository root: make unit)", path);
  return f;
}

static char *
trim (char *s)
{
  size_t n;
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f')
    s++;
  n = strlen (s);
  while (n > 0 && strchr (" \t\r\n\v\f", s[n - 1]) != NULL)
    s[--n] = '\0';
  return s;
}

static void
test_env_var_conformance (void **state)
{
  char *env[] = { "PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL=", NULL };
  cleanup_file FILE *f = open_data ("envVarTest");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  int run = 0, passed = 0, skipped = 0;

  while (getline (&line, &cap, f) >= 0)
    {
      char *fields[4] = { 0 }, *p = line, *bar;
      int nf = 0;
      line[strcspn (line, "\n")] = '\0';
      if (line[0] == '#' || *trim (line) == '\0')
        continue;
      while (nf < 4 && p != NULL)
        {
          bar = strchr (p, '|');
          if (bar != NULL)
            *bar++ = '\0';
          fields[nf++] = trim (p);
          p = bar;
        }
      assert_int_equal (nf, 3);
      if (strcmp (fields[0], "W") == 0)
        {
          skipped++;
          continue;
        }
      run++;
      cleanup_free char *out = NULL;
      cleanup_error nook_error_t err = NULL;
      int r = dockerfile_shell_expand_word (fields[1], '\\', env, &out, &err);
      if (strcmp (fields[2], "error") == 0 ? r < 0 : (r == 0 && strcmp (out, fields[2]) == 0))
        passed++;
      else
        print_error ("envVarTest: %s: got %s, want %s\n", fields[1], r < 0 ? err->msg : out,
                     fields[2]);
    }
  printf ("envVarTest: %d/%d passed (%d W skipped as Windows-only)\n", passed, run, skipped);
  assert_int_equal (run, 228);
  assert_int_equal (passed, run);
}

static void
test_words_conformance (void **state)
{
  cleanup_file FILE *f = open_data ("wordsTest");
  cleanup_free char *line = NULL;
  cleanup_strv char **env = NULL;
  size_t cap = 0;
  int run = 0, passed = 0;

  while (getline (&line, &cap, f) >= 0)
    {
      line[strcspn (line, "\n")] = '\0';
      if (line[0] == '#')
        continue;
      if (strncmp (line, "ENV ", 4) == 0)
        {
          char *kv = line + 4;
          while (*kv == ' ')
            kv++;
          assert_non_null (strchr (kv, '='));
          strv_push (&env, kv);
          continue;
        }
      char *bar = strchr (line, '|');
      assert_non_null (bar);
      *bar = '\0';
      char *input = trim (line), *exp = bar + 1;
      while (*exp == ' ')
        exp++;
      cleanup_strv char **want = NULL;
      for (char *p = exp, *c;; p = c + 1)
        {
          c = strchr (p, ',');
          if (c != NULL)
            *c = '\0';
          strv_push (&want, p);
          if (c == NULL)
            break;
        }
      cleanup_strv char **got = NULL;
      cleanup_error nook_error_t err = NULL;
      if (dockerfile_shell_expand_words (input, '\\', env, &got, &err) < 0)
        strv_push (&got, "error");
      bool same = strv_len (got) == strv_len (want);
      for (size_t i = 0; same && want[i] != NULL; i++)
        same = strcmp (got[i], want[i]) == 0;
      run++;
      if (same)
        passed++;
      else
        print_error ("wordsTest: '%s': got %zu words (first '%s')\n", input, strv_len (got),
                     got[0] ? got[0] : "");
    }
  printf ("wordsTest: %d/%d passed\n", passed, run);
  assert_int_equal (run, 24);
  assert_int_equal (passed, run);
}

static char *const test_env[] = { "A=abc",        "EMPTY=", "P=/usr/local/bin", "F=file.tar.gz",
                                  "X=old",        "X=new",  "SP=a  b",          "BARE",
                                  "U=안녕하세요", NULL };

/* Expand with test_env and `\`; NULL means an error is expected. */
static void
check (const char *in, const char *want)
{
  cleanup_free char *out = NULL;
  cleanup_error nook_error_t err = NULL;
  int r = dockerfile_shell_expand_word (in, '\\', test_env, &out, &err);
  if (want == NULL)
    {
      if (r == 0)
        fail_msg ("'%s': expected an error, got '%s'", in, out);
      assert_non_null (err);
      assert_non_null (err->msg);
      return;
    }
  if (r < 0)
    fail_msg ("'%s': unexpected error: %s", in, err->msg);
  if (strcmp (out, want) != 0)
    fail_msg ("'%s': got '%s', want '%s'", in, out, want);
}

static void
test_operators (void **state)
{
  check ("$A ${A} ${A}x $Ax", "abc abc abcx ");
  check ("${X}", "new"); /* the last one wins */
  check ("[${BARE}] [${BARE-d}] [${BARE:-d}]", "[] [] [d]");
  check ("${EMPTY-d}${EMPTY:-e}${NOPE-f}", "ef");
  check ("${EMPTY+d}${EMPTY:+e}${NOPE+f}${A+g}", "dg");
  check ("${A?}${A:?oops}", "abcabc");
  check ("${EMPTY?}", "");
  check ("${EMPTY:?}", NULL);
  check ("${NOPE?custom message}", NULL);
  check ("${F#*.}", "tar.gz");
  check ("${F##*.}", "gz");
  check ("${F%.*}", "file.tar");
  check ("${F%%.*}", "file");
  check ("${F#nomatch}", "file.tar.gz");
  check ("${P#/}", "usr/local/bin");
  check ("${P##*/}", "bin");
  check ("${P%/*}", "/usr/local");
  check ("${P%%/*}", "");
  check ("${F#?i}", "le.tar.gz");
  check ("${F/./_}", "file_tar.gz");
  check ("${F//./_}", "file_tar_gz");
  check ("${F//a}", NULL); /* BuildKit wants the second '/' */
  check ("${F/*/x}", "x");
  check ("${F//t?r/T}", "file.T.gz");
  check ("${A//b/['$0']}", "a[b]c");
  check ("${A//b/[$0]}", "a[]c");
  /* $0 is expanded (to nothing) first */ /* Go's ReplaceAllString expands $0 */
  check ("${A/b/\\}}", "a\\}c");          /* the replacement keeps its escapes, as in BuildKit */
  check ("${P//\\//:}", ":usr:local:bin");
  check ("${A#\\*}", "abc");
  check ("${A#\\x}", NULL); /* only \\*, \\? and \\\\ escape in patterns */
  check ("${NOPE#x}${NOPE%x}${NOPE/x/y}", "");
  check ("${U#안}", "녕하세요");
  check ("${U%?}", "안녕하세");
}

static void
test_syntax (void **state)
{
  check ("${", NULL);
  check ("${A", NULL);
  check ("${A:-x", NULL);
  check ("${}", NULL);
  check ("${:-x}", NULL);
  check ("${A:=x}", NULL);
  check ("${A!}", NULL);
  check ("${NOPE:-${NOPE2:-${EMPTY:-deep}}}", "deep");
  check ("${A:-${NOPE:-${EMPTY:-deep}}}", "abc");
  check ("${A:-${NOPE?}}", NULL); /* the word is expanded even when unused */
  check ("${NOPE:-${A}}", "abc");
  check ("${A:-$(x)}", "abc");
  check ("$", "$");
  check ("$ $% $/", "$ $% $/");
  check ("\\$A", "$A");
  check ("'$A'\"$A\"", "$Aabc");
  check ("\"\\a\\\"\\$\\\\\"", "\\a\"$\\");
  check ("a\\", "a");
  check ("\"a\\", NULL);
  check ("'", NULL);
  check ("${A:-'}'}", "abc");
  check ("${NOPE:-'}'}", "}");
  check ("${NOPE:-\"a b\"}", "a b");
  check ("$1$@$#$?$$", "");
  check ("\xEF\xBB\xBFx", "x");     /* BOM dropped like text/scanner does */
  check ("a\xff", "a\xEF\xBF\xBD"); /* invalid UTF-8 becomes U+FFFD */
}

static void
test_backtick_escape (void **state)
{
  cleanup_free char *out = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (
      dockerfile_shell_expand_word ("C:\\dir`$A`\"x\"`\"\"", '`', test_env, &out, &err), 0);
  assert_string_equal (out, "C:\\dir$A\"x\"");
  assert_int_equal (dockerfile_shell_expand_word ("x", '$', NULL, &out, &err), -1);
}

static void
test_words (void **state)
{
  cleanup_strv char **w = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (
      dockerfile_shell_expand_words ("  a $SP 'c d' \"\" e\\ f  ", '\\', test_env, &w, &err), 0);
  assert_int_equal (strv_len (w), 5);
  assert_string_equal (w[0], "a");
  assert_string_equal (w[1], "a");
  assert_string_equal (w[2], "b");
  assert_string_equal (w[3], "c d");
  assert_string_equal (w[4], "e f");
  strv_free (steal_pointer (&w));
  assert_int_equal (dockerfile_shell_expand_words ("", '\\', NULL, &w, &err), 0);
  assert_non_null (w);
  assert_null (w[0]);
}

static void
test_options (void **state)
{
  struct dockerfile_shell_result res;
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_shell_opts o = { .skip_unset = true };
  assert_int_equal (dockerfile_shell_expand ("$A $NOPE ${NOPE} ${NOPE:-x} ${NOPE/a/b}", '\\',
                                             test_env, &o, &res, &err),
                    0);
  assert_string_equal (res.word, "abc $NOPE ${NOPE} ${NOPE:-x} ${NOPE/a/b}");
  assert_string_equal (res.matched[0], "A");
  assert_null (res.matched[1]);
  assert_string_equal (res.unmatched[0], "NOPE");
  assert_null (res.unmatched[1]);
  dockerfile_shell_result_clear (&res);

  o = (struct dockerfile_shell_opts){ .keep_quotes = true, .keep_escapes = true };
  assert_int_equal (dockerfile_shell_expand ("'a'\"$A\"\\x", '\\', test_env, &o, &res, &err), 0);
  assert_string_equal (res.word, "'a'\"abc\"\\x");
  dockerfile_shell_result_clear (&res);

  o = (struct dockerfile_shell_opts){ .skip_quotes = true };
  assert_int_equal (dockerfile_shell_expand ("'$A", '\\', test_env, &o, &res, &err), 0);
  assert_string_equal (res.word, "'abc");
  dockerfile_shell_result_clear (&res);
}

static void
test_instruction_expands (void **state)
{
  const char *yes[] = { "ADD",        "copy", "ENV",    "EXPOSE",  "FROM", "LABEL",
                        "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ARG" };
  const char *no[]
      = { "RUN", "CMD", "ENTRYPOINT", "ONBUILD", "SHELL", "HEALTHCHECK", "MAINTAINER", "" };
  for (size_t i = 0; i < ARRAY_SIZE (yes); i++)
    assert_true (dockerfile_shell_instruction_expands (yes[i]));
  for (size_t i = 0; i < ARRAY_SIZE (no); i++)
    assert_false (dockerfile_shell_instruction_expands (no[i]));
  assert_false (dockerfile_shell_instruction_expands (NULL));
}

/* Big inputs stay linear-ish and bounded: deep nesting fails cleanly. */
static void
test_huge (void **state)
{
  struct strbuf b = { 0 };
  cleanup_free char *out = NULL;
  cleanup_error nook_error_t err = NULL;
  for (int i = 0; i < 100000; i++)
    strbuf_append (&b, "${NOPE:-");
  strbuf_append (&b, "x");
  for (int i = 0; i < 100000; i++)
    strbuf_appendc (&b, '}');
  assert_int_equal (dockerfile_shell_expand_word (b.buf, '\\', test_env, &out, &err), -1);
  assert_non_null (strstr (err->msg, "nested too deeply"));
  nook_error_free (&err);
  strbuf_free (&b);

  for (int i = 0; i < 60; i++)
    strbuf_append (&b, "${NOPE:-");
  strbuf_append (&b, "x");
  for (int i = 0; i < 60; i++)
    strbuf_appendc (&b, '}');
  assert_int_equal (dockerfile_shell_expand_word (b.buf, '\\', test_env, &out, &err), 0);
  assert_string_equal (out, "x");
  free (steal_pointer (&out));
  strbuf_free (&b);

  for (int i = 0; i < 200000; i++)
    strbuf_append (&b, "$A'q'\\ ");
  assert_int_equal (dockerfile_shell_expand_word (b.buf, '\\', test_env, &out, &err), 0);
  assert_int_equal (strlen (out), 200000 * 5);
  strbuf_free (&b);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_env_var_conformance),
    cmocka_unit_test (test_words_conformance),
    cmocka_unit_test (test_operators),
    cmocka_unit_test (test_syntax),
    cmocka_unit_test (test_backtick_escape),
    cmocka_unit_test (test_words),
    cmocka_unit_test (test_options),
    cmocka_unit_test (test_instruction_expands),
    cmocka_unit_test (test_huge),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
