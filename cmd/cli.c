/* cmd/cli.c: see cli.h. */
#include "cmd/cli.h"
#include "util/template.h"
#include "util/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
cmd_name_valid (const char *n, size_t min, size_t max)
{
  size_t len = strlen (n);
  if (len < min || len > max)
    return false;
  for (size_t i = 0; i < len; i++)
    {
      char c = n[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
        return false;
    }
  return true;
}

int
cmd_wants_help (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        return 0;
      if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        return 1;
    }
  return 0;
}

static int
usage_vset (nook_error_t *err, int exit_code, const char *verb, const char *fmt, va_list ap)
{
  if (err == NULL || *err != NULL)
    return -1;
  char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) < 0)
    oom ();
  nook_error_set (err, 0, "%s\nSee 'nook %s%s--help'.", msg, verb ? verb : "", verb ? " " : "");
  free (msg);
  (*err)->usage = true;
  (*err)->exit = exit_code;
  return -1;
}

int
cmd_flag_error (nook_error_t *err, const char *verb, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  usage_vset (err, 125, verb, fmt, ap);
  va_end (ap);
  return -1;
}

int
cmd_args_error (nook_error_t *err, const char *verb, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  usage_vset (err, verb && strcmp (verb, "run") == 0 ? 125 : 1, verb, fmt, ap);
  va_end (ap);
  return -1;
}

int
cmd_usage_mark (nook_error_t *err)
{
  if (err && *err)
    {
      (*err)->usage = true;
      (*err)->exit = 125;
    }
  return -1;
}

int
cmd_opt_value (int argc, char **argv, int *i, const char *shrt, const char *lng, const char *verb,
               const char **val, nook_error_t *err)
{
  const char *a = argv[*i];
  size_t ll = strlen (lng);
  if (strncmp (a, lng, ll) == 0 && a[ll] == '=')
    {
      *val = a + ll + 1;
      return 1;
    }
  if (strcmp (a, lng) != 0 && !(shrt && strcmp (a, shrt) == 0))
    return 0;
  if (*i + 1 >= argc)
    return cmd_flag_error (err, verb, "flag needs an argument: %s", a);
  *val = argv[++*i];
  return 1;
}

enum cmd_format
cmd_format_kind (const char *value)
{
  if (*value == '\0' || strcmp (value, "table") == 0)
    return CMD_FORMAT_TABLE;
  if (strcmp (value, "json") == 0)
    return CMD_FORMAT_JSON;
  return CMD_FORMAT_TEMPLATE;
}

int
cli_format_print (const char *format, json_t *rows, json_t *headers, nook_error_t *err)
{
  struct strbuf b = { 0 };
  if (tmpl_format_rows (format, rows, headers, &b, err) < 0)
    {
      strbuf_free (&b);
      return -1;
    }
  fwrite (b.buf ? b.buf : "", 1, b.len, stdout);
  strbuf_free (&b);
  return 0;
}
