/* tests/unit/test_dockerfile_conformance.c: the Dockerfile parser against BuildKit's
 * own parser test data and 181 real-world Dockerfiles with BuildKit's parse trees,
 * read from the copy in tests/data/conformance (relative to the repository root, where
 * `make unit` runs it).  A missing directory fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "imagefmt/dockerfile/parser.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *
conformance_dir (void)
{
  return "tests/data/conformance";
}

static bool
exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0;
}

static char **
list_dir (const char *path)
{
  cleanup_dir DIR *d = opendir (path);
  char **v = NULL;
  struct dirent *de;
  if (d == NULL)
    {
      fail_msg ("conformance directory missing: %s (run from the repository root: make unit)", path);
      return NULL;
    }
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      strv_push (&v, de->d_name);
  size_t n = strv_len (v);
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp (v[j - 1], v[j]) > 0; j--)
      {
        char *t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  return v;
}

static char *
read_all (const char *path, size_t *len)
{
  char *buf = NULL;
  cleanup_error nook_error_t err = NULL;
  if (fs_read_file_at (AT_FDCWD, path, 64 << 20, &buf, len, &err) < 0)
    return NULL;
  return buf;
}

/* Parse and print; NULL (and *msg) on a parse error. */
static char *
parse_print (const char *path, char **msg)
{
  size_t len = 0;
  cleanup_free char *buf = read_all (path, &len);
  cleanup_dockerfile struct dockerfile *df = NULL;
  cleanup_error nook_error_t err = NULL;
  struct strbuf out = { 0 };
  *msg = NULL;
  if (buf == NULL)
    {
      *msg = xasprintf ("cannot read %s", path);
      return NULL;
    }
  if (dockerfile_parse (buf, len, path, &df, &err) < 0)
    {
      *msg = xstrdup (err->msg);
      return NULL;
    }
  dockerfile_print_buildkit (df, &out);
  return strbuf_steal (&out);
}

static void
show_diff (const char *name, const char *want, const char *got)
{
  int line = 1;
  const char *w = want, *g = got;
  while (*w && *w == *g)
    {
      if (*w == '\n')
        line++;
      w++, g++;
    }
  const char *we = strchr (w, '\n'), *ge = strchr (g, '\n');
  fprintf (stderr, "# %s: differs at result line %d\n#   want: %.*s\n#   got:  %.*s\n", name, line,
           (int)(we ? we - w : (ptrdiff_t)strlen (w)), w,
           (int)(ge ? ge - g : (ptrdiff_t)strlen (g)), g);
}

static void
test_buildkit_parser (void **state)
{
  cleanup_free char *base = xasprintf ("%s/buildkit-parser", conformance_dir ());
  cleanup_free char *pos = xasprintf ("%s/testfiles", base);
  cleanup_free char *neg = xasprintf ("%s/testfiles-negative", base);
  cleanup_strv char **cases = list_dir (pos);
  cleanup_strv char **negs = list_dir (neg);
  size_t ok = 0, n = strv_len (cases), nok = 0, nn = strv_len (negs);
  for (size_t i = 0; cases && cases[i]; i++)
    {
      cleanup_free char *df = xasprintf ("%s/%s/Dockerfile", pos, cases[i]);
      cleanup_free char *res = xasprintf ("%s/%s/result", pos, cases[i]);
      cleanup_free char *msg = NULL;
      size_t rlen;
      cleanup_free char *want = read_all (res, &rlen);
      cleanup_free char *got = parse_print (df, &msg);
      if (got && want && strcmp (got, want) == 0)
        ok++;
      else if (got && want)
        show_diff (cases[i], want, got);
      else
        fprintf (stderr, "# %s: %s\n", cases[i], msg ? msg : "no result file");
    }
  for (size_t i = 0; negs && negs[i]; i++)
    {
      cleanup_free char *df = xasprintf ("%s/%s/Dockerfile", neg, negs[i]);
      cleanup_free char *msg = NULL;
      cleanup_free char *got = parse_print (df, &msg);
      if (got == NULL && msg && strstr (msg, "cannot read") == NULL)
        nok++;
      else
        fprintf (stderr, "# negative %s: parsed\n", negs[i]);
    }
  printf ("buildkit-parser: %zu/%zu positive identical, %zu/%zu negative rejected\n", ok, n, nok,
          nn);
  assert_true (n >= 33);
  assert_true (nn >= 4);
  assert_int_equal (ok, n);
  assert_int_equal (nok, nn);
}

static void
test_line_numbers (void **state)
{
  cleanup_free char *path
      = xasprintf ("%s/buildkit-parser/testfile-line/Dockerfile", conformance_dir ());
  size_t len = 0;
  cleanup_free char *buf = read_all (path, &len);
  cleanup_dockerfile struct dockerfile *df = NULL;
  cleanup_error nook_error_t err = NULL;
  static const int spans[][2] = { { 5, 5 }, { 11, 12 }, { 17, 31 } };
  if (buf == NULL)
    fail_msg ("missing %s", path);
  assert_int_equal (dockerfile_parse (buf, len, path, &df, &err), 0);
  assert_int_equal (df->n_nodes, 3);
  for (size_t i = 0; i < 3; i++)
    {
      assert_int_equal (df->nodes[i].start_line, spans[i][0]);
      assert_int_equal (df->nodes[i].end_line, spans[i][1]);
    }
  assert_int_equal (df->start_line, 5);
  assert_int_equal (df->end_line, 31);
  printf ("buildkit-parser: testfile-line spans 5-5 11-12 17-31 ok\n");
}

static void
test_real_world (void **state)
{
  cleanup_free char *base = xasprintf ("%s/real-world-dockerfiles/cases", conformance_dir ());
  cleanup_strv char **cases = list_dir (base);
  size_t ok = 0, n = 0, rej = 0, nrej = 0;
  for (size_t i = 0; cases && cases[i]; i++)
    {
      cleanup_free char *df = xasprintf ("%s/%s/Dockerfile", base, cases[i]);
      cleanup_free char *res = xasprintf ("%s/%s/result", base, cases[i]);
      cleanup_free char *msg = NULL;
      cleanup_free char *got = parse_print (df, &msg);
      if (exists (res))
        {
          size_t rlen;
          cleanup_free char *want = read_all (res, &rlen);
          n++;
          if (got && want && strcmp (got, want) == 0)
            ok++;
          else if (got && want)
            show_diff (cases[i], want, got);
          else
            fprintf (stderr, "# %s: %s\n", cases[i], msg ? msg : "?");
        }
      else
        {
          nrej++;
          /* the message must name the file and a line: "FILE:N: what" */
          char *colon = msg ? strstr (msg, "/Dockerfile:") : NULL;
          if (got == NULL && colon && colon[12] >= '0' && colon[12] <= '9')
            rej++;
          else
            fprintf (stderr, "# %s: should be rejected (%s)\n", cases[i], msg ? msg : "parsed");
        }
    }
  printf ("real-world: %zu/%zu identical, %zu/%zu rejected\n", ok, n, rej, nrej);
  assert_true (n + nrej >= 181);
  assert_int_equal (ok, n);
  assert_int_equal (rej, nrej);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_buildkit_parser),
    cmocka_unit_test (test_line_numbers),
    cmocka_unit_test (test_real_world),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
