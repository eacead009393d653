/* tests/unit/test_template.c: the Go-template subset of --format (util/template.c):
 * fields, functions, control actions, variables, Go's printing of values, errors,
 * Docker's table mode with headers and tabwriter alignment. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/cleanup.h"
#include "util/template.h"

static const char *const DATA
    = "{\"Id\":\"abc123\",\"Name\":\"/web\",\"Names\":\"web\","
      "\"State\":{\"Status\":\"running\",\"Running\":true,\"ExitCode\":0,\"Pid\":42},"
      "\"Config\":{\"Env\":[\"A=1\",\"B=x y\"],\"Labels\":{\"course\":\"lab1\",\"b\":\"2\"},"
      "\"Cmd\":null},"
      "\"Ports\":[],\"Size\":1.5,\"Big\":1000000.0,\"Labels\":\"course=lab1,tier=web\","
      "\"Mounts\":[{\"Source\":\"/s\",\"Destination\":\"/d\"},{\"Source\":\"/t\",\"Destination\":\"/e\"}]}";

/* The output of template `t` over DATA, or the error message prefixed by "ERR:". */
static char *
run (const char *t)
{
  json_t *data = json_loads (DATA, 0, NULL);
  assert_non_null (data);
  cleanup_error nook_error_t err = NULL;
  struct tmpl *p = tmpl_parse (t, &err);
  char *out;
  if (p == NULL)
    out = xasprintf ("ERR:%s", err->msg);
  else
    {
      struct strbuf b = { 0 };
      if (tmpl_exec (p, data, false, &b, &err) < 0)
        {
          strbuf_free (&b);
          out = xasprintf ("ERR:%s", err->msg);
        }
      else
        out = strbuf_steal (&b);
    }
  tmpl_free (p);
  json_decref (data);
  return out;
}

#define EXPECT(tmpl, want)                                                                         \
  do                                                                                               \
    {                                                                                              \
      char *got_ = run (tmpl);                                                                     \
      if (strcmp (got_, want) != 0)                                                                \
        fail_msg ("template %s: want '%s', got '%s'", tmpl, want, got_);                           \
      free (got_);                                                                                 \
    }                                                                                              \
  while (0)

#define EXPECT_ERR(tmpl, fragment)                                                                 \
  do                                                                                               \
    {                                                                                              \
      char *got_ = run (tmpl);                                                                     \
      if (strncmp (got_, "ERR:", 4) != 0 || strstr (got_, fragment) == NULL)                       \
        fail_msg ("template %s: want an error with '%s', got '%s'", tmpl, fragment, got_);         \
      free (got_);                                                                                 \
    }                                                                                              \
  while (0)

static void
test_fields (void **state)
{
  EXPECT ("{{.Names}}", "web");
  EXPECT ("id={{.Id}} status={{.State.Status}}", "id=abc123 status=running");
  EXPECT ("{{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}", "true 42 0");
  EXPECT ("{{.Missing}}", "<no value>");
  EXPECT ("{{.Missing.Deeper}}", "<no value>");
  EXPECT ("{{.Config.Cmd}}", "<nil>");
  EXPECT ("{{.Config.Env}}", "[A=1 B=x y]");
  EXPECT ("{{.Config.Labels}}", "map[b:2 course:lab1]");
  EXPECT ("{{.Ports}}", "[]");
  EXPECT ("{{.Size}} {{.Big}}", "1.5 1e+06");
  EXPECT ("{{.State}}", "map[ExitCode:0 Pid:42 Running:true Status:running]");
  EXPECT_ERR ("{{.Names.X}}", "can't evaluate field X in type string");
}

static void
test_functions (void **state)
{
  EXPECT ("{{json .Config.Env}}", "[\"A=1\",\"B=x y\"]");
  EXPECT ("{{json .State.Status}}", "\"running\"");
  EXPECT ("{{json .Missing}}", "null");
  EXPECT ("{{index .Config.Labels \"course\"}}", "lab1");
  EXPECT ("{{index .Config.Env 1}}", "B=x y");
  EXPECT ("{{index .Config.Labels \"nope\"}}", "<no value>");
  EXPECT_ERR ("{{index .Config.Env 5}}", "index out of range: 5");
  EXPECT ("{{.Label \"tier\"}}|{{.Label \"nope\"}}", "web|");
  EXPECT ("{{.Config.Label \"course\"}}", "lab1");
  EXPECT ("{{upper .Names}} {{lower \"ABC\"}} {{title \"hello world\"}}", "WEB abc Hello World");
  EXPECT ("{{.Names | upper}}", "WEB");
  EXPECT ("{{join .Config.Env \",\"}}", "A=1,B=x y");
  EXPECT ("{{split \"a:b:c\" \":\"}}", "[a b c]");
  EXPECT ("{{len .Config.Env}} {{len .Names}}", "2 3");
  EXPECT ("{{println .Names}}", "web\n");
  EXPECT ("{{print \"a\" 1 2 \"b\"}}", "a1 2b");
  EXPECT ("{{printf \"%s-%d-%5s|%-4s|%03d%%\" .Names 7 \"x\" \"y\" 5}}", "web-7-    x|y   |005%");
  EXPECT ("{{printf \"%q\" .Names}}", "\"web\"");
  EXPECT ("{{truncate .Id 3}} [{{pad .Names 1 2}}]", "abc [ web  ]");
  EXPECT ("{{slice .Id 1 3}}", "bc");
  EXPECT ("{{(index .Mounts 1).Destination}}", "/e");
  EXPECT ("{{eq .State.Status \"running\"}} {{ne 1 2}} {{lt 1 2}} {{ge 2 3}}", "true true true false");
  EXPECT ("{{eq .Names \"x\" \"web\"}}", "true");
  EXPECT ("{{not .State.Running}} {{and 1 0}} {{or 0 \"\" \"z\"}}", "false 0 z");
  EXPECT_ERR ("{{nosuch .Names}}", "function \"nosuch\" not defined");
  EXPECT_ERR ("{{eq .Names 1}}", "incompatible types");
  EXPECT_ERR ("{{.Names \"x\"}}", "can't give argument to non-function");
}

static void
test_control (void **state)
{
  EXPECT ("{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=x y]");
  EXPECT ("{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}", "0=A=1;1=B=x y;");
  EXPECT ("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}", "b:2 course:lab1 ");
  EXPECT ("{{range .Mounts}}{{.Source}}->{{.Destination}} {{end}}", "/s->/d /t->/e ");
  EXPECT ("{{range .Ports}}x{{else}}none{{end}}", "none");
  EXPECT ("{{range .Missing}}x{{end}}.", ".");
  EXPECT ("{{if .State.Running}}up{{else}}down{{end}}", "up");
  EXPECT ("{{if .Missing}}a{{else if eq .Names \"web\"}}b{{else}}c{{end}}", "b");
  EXPECT ("{{with .State}}{{.Status}}{{end}}", "running");
  EXPECT ("{{with .Missing}}x{{else}}y{{end}}", "y");
  EXPECT ("{{$n := .Names}}{{range .Config.Env}}{{$n}}{{end}}", "webweb");
  EXPECT ("{{range .Config.Env}}{{$.Names}}{{end}}", "webweb");
  EXPECT ("a  {{- .Names -}}  b", "awebb");
  EXPECT ("{{/* a comment */}}x", "x");
  EXPECT ("{{\"}}\"}}", "}}");
  EXPECT ("{{`raw\\n`}}", "raw\\n");
  EXPECT_ERR ("{{if .X}}", "unexpected EOF");
  EXPECT_ERR ("{{end}}", "unexpected {{end}}");
  EXPECT_ERR ("{{.Names", "unclosed action");
  EXPECT_ERR ("{{range .Names}}x{{end}}", "range can't iterate over string");
  EXPECT_ERR ("{{$nope}}", "undefined variable: $nope");
  EXPECT_ERR ("{{template \"x\"}}", "not supported");
  EXPECT_ERR ("{{\"abc}}", "unterminated quoted string");
}

static void
test_table (void **state)
{
  json_t *rows = json_loads ("[{\"ID\":\"a1\",\"Names\":\"web\",\"Labels\":\"k=v\"},"
                             "{\"ID\":\"b2\",\"Names\":\"a-much-longer-name\",\"Labels\":\"\"}]",
                             0, NULL);
  json_t *headers = json_loads ("{\"ID\":\"CONTAINER ID\",\"Names\":\"NAMES\"}", 0, NULL);
  struct strbuf b = { 0 };
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (tmpl_format_rows ("table {{.ID}}\\t{{.Names}}\\t{{.Label \"k\"}}", rows,
                                      headers, &b, &err),
                    0);
  cleanup_free char *out = strbuf_steal (&b);
  assert_string_equal (out, "CONTAINER ID   NAMES                \n"
                            "a1             web                  v\n"
                            "b2             a-much-longer-name   \n");
  assert_int_equal (tmpl_format_rows ("{{.Names}}", rows, headers, &b, &err), 0);
  cleanup_free char *plain = strbuf_steal (&b);
  assert_string_equal (plain, "web\na-much-longer-name\n");
  assert_int_equal (tmpl_format_rows ("table {{upper .Names}}", rows, headers, &b, &err), 0);
  cleanup_free char *hdr = strbuf_steal (&b);
  assert_string_equal (hdr, "NAMES\nWEB\nA-MUCH-LONGER-NAME\n");
  assert_int_equal (tmpl_format_rows ("json", rows, headers, &b, &err), 0);
  cleanup_free char *js = strbuf_steal (&b);
  assert_non_null (strstr (js, "{\"ID\":\"a1\",\"Names\":\"web\",\"Labels\":\"k=v\"}\n"));
  assert_int_equal (tmpl_format_rows ("{{.Names", rows, headers, &b, &err), -1);
  assert_non_null (strstr (err->msg, "template parsing error"));
  json_decref (rows);
  json_decref (headers);
}

static void
test_tabwrite (void **state)
{
  cleanup_free char *t = tmpl_tabwrite ("A\tBB\tC\nxxxxxxxxxxxx\ty\tz\nno tabs here\n");
  assert_string_equal (t, "A              BB        C\n"
                          "xxxxxxxxxxxx   y         z\n"
                          "no tabs here\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fields),   cmocka_unit_test (test_functions),
    cmocka_unit_test (test_control),  cmocka_unit_test (test_table),
    cmocka_unit_test (test_tabwrite),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
