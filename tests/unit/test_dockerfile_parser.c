/* tests/unit/test_dockerfile_parser.c: the Dockerfile parser's API beyond BuildKit's
 * printed notation: heredocs, flags, JSON form, directives, lines, errors, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "imagefmt/dockerfile/parser.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <string.h>

static struct dockerfile *
parse_ok (const char *text)
{
  struct dockerfile *df = NULL;
  cleanup_error nook_error_t err = NULL;
  if (dockerfile_parse (text, strlen (text), "Dockerfile", &df, &err) < 0)
    fail_msg ("parse failed: %s", err->msg);
  return df;
}

static char *
parse_err (const char *text, size_t len)
{
  struct dockerfile *df = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (dockerfile_parse (text, len, "bad/Dockerfile", &df, &err), -1);
  assert_null (df);
  assert_non_null (err);
  assert_int_equal (err->exit, 1);
  return xstrdup (err->msg);
}

static char *
tree (const char *text)
{
  cleanup_dockerfile struct dockerfile *df = parse_ok (text);
  struct strbuf b = { 0 };
  dockerfile_print_buildkit (df, &b);
  return strbuf_steal (&b);
}

static void
test_heredocs (void **state)
{
  cleanup_dockerfile struct dockerfile *df
      = parse_ok ("FROM a\nRUN <<EOF\necho $HOME\nEOF\n"
                  "RUN <<-EOT cat\n\t\tindented\n\tEOT\n"
                  "COPY <<\"A\" 3<<B /dst/\n$x\nA\nb\nB\n"
                  "RUN python3 <<'PY' && cat <<SH\nprint(1)\nPY\necho\nSH\n");
  assert_int_equal (df->n_nodes, 5);
  struct dockerfile_node *n = &df->nodes[1];
  assert_int_equal (n->n_heredocs, 1);
  assert_string_equal (n->heredocs[0].name, "EOF");
  assert_string_equal (n->heredocs[0].content, "echo $HOME\n");
  assert_true (n->heredocs[0].expand);
  assert_false (n->heredocs[0].strip_tabs);
  assert_int_equal (n->start_line, 2);
  assert_int_equal (n->end_line, 4);
  n = &df->nodes[2];
  assert_true (n->heredocs[0].strip_tabs);
  assert_string_equal (n->heredocs[0].content, "indented\n");
  n = &df->nodes[3];
  assert_int_equal (n->n_heredocs, 2);
  assert_false (n->heredocs[0].expand);
  assert_string_equal (n->heredocs[0].content, "$x\n");
  assert_int_equal (n->heredocs[1].fd, 3);
  assert_true (n->heredocs[1].expand);
  assert_int_equal (n->n_args, 3);
  assert_string_equal (n->args[2], "/dst/");
  n = &df->nodes[4];
  assert_int_equal (n->n_heredocs, 2);
  assert_false (n->heredocs[0].expand);
  assert_string_equal (n->heredocs[1].content, "echo\n");
  assert_int_equal (n->end_line, 17);
  cleanup_free char *msg = parse_err ("FROM a\nRUN <<EOF\nx\n", 17);
  assert_string_equal (msg, "bad/Dockerfile:2: unterminated heredoc");
  /* JSON form and other instructions never take heredocs */
  cleanup_dockerfile struct dockerfile *df2 = parse_ok ("RUN [\"<<EOF\"]\nENV a=<<EOF\n");
  assert_int_equal (df2->nodes[0].n_heredocs, 0);
  assert_true (df2->nodes[0].json_form);
  assert_int_equal (df2->n_nodes, 2);
}

static void
test_errors (void **state)
{
  static const char text[] = "FROM a\nRUN x\n\n\n\n# c\nENV PATH\n";
  cleanup_free char *m1 = parse_err (text, sizeof text - 1);
  assert_string_equal (m1, "bad/Dockerfile:7: ENV must have two arguments");
  cleanup_free char *m2 = parse_err ("FROM a\nONBUILD ONBUILD RUN x\n", 29);
  assert_non_null (strstr (m2, "bad/Dockerfile:2: Chaining ONBUILD"));
  cleanup_free char *m3 = parse_err ("ONBUILD FROM x\n", 15);
  assert_string_equal (m3, "bad/Dockerfile:1: FROM isn't allowed as an ONBUILD trigger");
  cleanup_free char *m4 = parse_err ("onbuild maintainer me\n", 22);
  assert_non_null (strstr (m4, "MAINTAINER isn't allowed"));
  cleanup_free char *m5 = parse_err ("CMD [\"a\", 1]\n", 13);
  assert_non_null (strstr (m5, "arrays must be comprised of strings only"));
  cleanup_free char *m6 = parse_err ("LABEL a=b c\n", 12);
  assert_string_equal (m6, "bad/Dockerfile:1: Syntax error - can't find = in \"c\". Must be of "
                           "the form: name=value");
  cleanup_free char *m7 = parse_err ("# escape=x\nFROM a\n", 18);
  assert_non_null (strstr (m7, "invalid escape token"));
  cleanup_free char *m8 = parse_err ("# syntax=a\n# syntax=b\nFROM a\n", 29);
  assert_non_null (strstr (m8, "only one syntax parser directive"));
  cleanup_free char *m9 = parse_err ("", 0);
  assert_non_null (strstr (m9, "file with no instructions"));
  cleanup_free char *m10 = parse_err ("# only\n\n  # comments\n", 21);
  assert_non_null (strstr (m10, "file with no instructions"));
}

static void
test_limits (void **state)
{
  size_t big = DOCKERFILE_MAX_SIZE + 1;
  char *buf = xmalloc (big);
  memset (buf, 'a', big);
  cleanup_free char *m1 = parse_err (buf, big);
  assert_non_null (strstr (m1, "larger than"));
  /* one line over the line cap */
  cleanup_free char *m2 = parse_err (buf, DOCKERFILE_MAX_LINE + 10);
  assert_non_null (strstr (m2, "line greater than"));
  free (buf);
  /* deep ${ nesting and deep JSON do not recurse without bound */
  struct strbuf b = { 0 };
  strbuf_append (&b, "RUN <<");
  for (int i = 0; i < 100000; i++)
    strbuf_append (&b, "${a:-");
  strbuf_append (&b, "\nCMD ");
  for (int i = 0; i < 200000; i++)
    strbuf_appendc (&b, '[');
  strbuf_appendc (&b, '\n');
  cleanup_dockerfile struct dockerfile *df = parse_ok (b.buf);
  assert_int_equal (df->n_nodes, 2);
  assert_false (df->nodes[1].json_form);
  strbuf_free (&b);
}

static void
test_forms (void **state)
{
  cleanup_dockerfile struct dockerfile *df
      = parse_ok ("\xef\xbb\xbf# Syntax = docker/dockerfile:1\r\n# check=skip=all\r\n# escape=`\r\n"
                  "FROM --platform=$BUILDPLATFORM golang AS build\r\n"
                  "RUN --mount=type=cache,target=/root/.cache `\r\n"
                  "    # a comment inside\r\n"
                  "\r\n"
                  "    go build\r\n"
                  "CMD [\"a\", \"b\\u0000c\"]\r\n"
                  "COPY --chown=1:1 --chmod=755 --link --from=build [\"/a b\", \"/c\"]\r\n"
                  "HEALTHCHECK --interval=5s CMD curl -f http://x/ || exit 1\r\n"
                  "HEALTHCHECK NONE\r\n"
                  "FOO --bar baz\r\n"
                  "ENTRYPOINT ['not', 'json']\r\n");
  assert_int_equal (df->escape, '`');
  assert_string_equal (df->syntax, "docker/dockerfile:1");
  assert_string_equal (df->check, "skip=all");
  assert_int_equal (df->n_nodes, 8);
  struct dockerfile_node *n = &df->nodes[0];
  assert_string_equal (n->keyword, "from");
  assert_string_equal (n->flags[0], "--platform=$BUILDPLATFORM");
  assert_int_equal (n->n_args, 3);
  n = &df->nodes[1];
  assert_string_equal (n->args[0], "go build");
  assert_string_equal (n->flags[0], "--mount=type=cache,target=/root/.cache");
  assert_int_equal (n->start_line, 5);
  assert_int_equal (n->end_line, 8);
  assert_non_null (df->warnings);
  n = &df->nodes[2];
  assert_true (n->json_form);
  assert_int_equal (n->args_len[1], 3);
  assert_memory_equal (n->args[1], "b\0c", 3);
  n = &df->nodes[3];
  assert_int_equal (strv_len (n->flags), 4);
  assert_true (n->json_form);
  assert_string_equal (n->args[0], "/a b");
  n = &df->nodes[4];
  assert_string_equal (n->args[0], "CMD");
  assert_string_equal (n->args[1], "curl -f http://x/ || exit 1");
  assert_string_equal (df->nodes[5].args[0], "NONE");
  assert_int_equal (df->nodes[5].n_args, 1);
  n = &df->nodes[6];
  assert_string_equal (n->keyword, "foo");
  assert_string_equal (n->flags[0], "--bar");
  assert_false (df->nodes[7].json_form);
  assert_string_equal (df->nodes[7].args[0], "['not', 'json']");

  cleanup_free char *t = tree ("ONBUILD RUN [\"echo\", \"test\"]\nonbuild\nEXPOSE 80/tcp  443\n"
                               "ENV a=\"x y\" b=\\\"c\nARG x=\"1 2\" y\nUSER\nCMD []\n");
  assert_string_equal (t, "(onbuild (run \"echo\" \"test\"))\n(onbuild)\n(expose \"80/tcp\" "
                          "\"443\")\n(env \"a\" \"\\\"x y\\\"\" \"=\" \"b\" \"\\\\\\\"c\" \"=\")\n"
                          "(arg \"x=\\\"1 2\\\"\" \"y\")\n(user)\n(cmd)\n");
}

static void
test_quote (void **state)
{
  static const char in[] = "a\"\\\x00\x07\x1b\x7f\xff \xe2\x99\xa5 \xc2\xa0 \xef\xbb\xbf \t";
  struct strbuf b = { 0 };
  dockerfile_quote (&b, in, sizeof in - 1);
  assert_string_equal (b.buf, "\"a\\\"\\\\\\x00\\a\\x1b\\x7f\\xff ♥ \\u00a0 \\ufeff \\t\"");
  strbuf_free (&b);
}

static void
test_json_printer (void **state)
{
  cleanup_dockerfile struct dockerfile *df
      = parse_ok ("FROM a\nCOPY <<EOF /f\nhi\nEOF\nONBUILD RUN <<X\nbody\nX\n");
  cleanup_free char *j = dockerfile_print_json (df);
  assert_non_null (strstr (j, "\"keyword\": \"copy\""));
  assert_non_null (strstr (j, "\"content\": \"hi\\n\""));
  assert_non_null (strstr (j, "\"next\": {"));
  assert_non_null (strstr (j, "\"end_line\": 7"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_heredocs), cmocka_unit_test (test_errors),
    cmocka_unit_test (test_limits),   cmocka_unit_test (test_forms),
    cmocka_unit_test (test_quote),    cmocka_unit_test (test_json_printer),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
