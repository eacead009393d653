/* util/template.h: the subset of Go's text/template that Docker's --format
 * uses, over jansson values (pure: no I/O; fuzzed by tests/fuzz/fuzz_template.c).
 *
 * Actions: {{.A.B}}, {{.}}, {{$}}, {{$v.A}}, {{"lit"}} {{42}} {{true}} {{nil}},
 * pipelines {{.A | upper}}, parentheses {{(index .A 0).B}}, {{$x := .A}},
 * {{if P}}..{{else if P}}..{{else}}..{{end}}, {{range P}}..{{else}}..{{end}}
 * ({{range $i, $e := P}}, maps in sorted key order), {{with P}}..{{end}},
 * {{/ * comments * /}}, trim markers {{- and -}}; Docker's method {{.Label "k"}}
 * (the receiver's Labels, an object or a "k=v,k2=v2" string).
 * Functions: Docker's json, join, split, lower, upper, title, pad, truncate, and
 * Go's print, printf (%s %v %d %q %x %%, flags - 0 and widths), println, len,
 * index, slice, eq, ne, lt, le, gt, ge, and, or, not.
 * Values print as Go's %v does for interface{} values: "<no value>" for a missing
 * map key, "<nil>" for null, [a b] for arrays, map[k:v] for objects. */
#ifndef NOOK_UTIL_TEMPLATE_H
#define NOOK_UTIL_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "util/error.h"
#include "util/util.h"

struct tmpl;

/* Parse a template; errors read as Go's ("template: :1: function \"x\" not
 * defined"). */
struct tmpl *tmpl_parse (const char *text, nook_error_t *err);
void tmpl_free (struct tmpl *t);

/* Run t with dot = data (not consumed), appending to out.  header: Docker's
 * header pass of a table (data maps field names to column titles; missing
 * fields print nothing; json/upper/... return their argument). */
int tmpl_exec (const struct tmpl *t, json_t *data, bool header, struct strbuf *out,
               nook_error_t *err);

/* Go's tabwriter as Docker's tables use it (minwidth 10, padding 3, blanks): the
 * tab-separated cells of text aligned in columns.  Returns a malloc'd string. */
char *tmpl_tabwrite (const char *text);
/* The same with other settings (Compose's `ls` and `images`: 20 and 3; `top`: 4 and 2). */
char *tmpl_tabwrite_ex (const char *text, size_t minwidth, size_t padding);

/* Docker's --format for a list: "json" (one compact object per row), "table TMPL"
 * (a header line from `headers`, a field -> title object, then the rows, aligned),
 * or "TMPL" (each row, then a newline).  "" and "table" alone are the caller's
 * default and are not handled here.  rows: a JSON array. */
int tmpl_format_rows (const char *format, json_t *rows, json_t *headers, struct strbuf *out,
                      nook_error_t *err);

#endif
