/* cmd/spec_env.c: environment variables: -e, --env-file, and the helpers the merge uses. */
#include "cmd/spec.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
valid_env_name (const char *s, size_t len)
{
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++)
    if (s[i] == '\0' || s[i] == '=' || s[i] == ' ' || s[i] == '\t')
      return false;
  return true;
}

/* Set NAME=value in *env, replacing an earlier value of NAME. */
void
spec_env_set (char ***env, const char *kv)
{
  const char *eq = strchr (kv, '=');
  size_t nlen = eq ? (size_t)(eq - kv) : strlen (kv);
  for (size_t i = 0; *env && (*env)[i]; i++)
    if (strncmp ((*env)[i], kv, nlen) == 0 && (*env)[i][nlen] == '=')
      {
        free ((*env)[i]);
        (*env)[i] = xstrdup (kv);
        return;
      }
  strv_push (env, kv);
}

bool
spec_env_has (char *const *env, const char *name)
{
  size_t n = strlen (name);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], name, n) == 0 && env[i][n] == '=')
      return true;
  return false;
}

/* s with control characters, backslashes and non-ASCII bytes as \xNN: safe to
 * print on a terminal whatever a file held. */
static char *
escape_bytes (const char *s)
{
  struct strbuf b = { 0 };
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p >= 0x7f || *p == '\\')
      strbuf_appendf (&b, "\\x%02x", *p);
    else
      strbuf_appendc (&b, (char)*p);
  return strbuf_steal (&b);
}

/* `-e NAME=value`, or `-e NAME` taking nook's own value (skipped when unset). */
int
spec_env_add (char ***env, const char *s, const struct spec_env *e, const char *where,
              nook_error_t *err)
{
  const char *eq = strchr (s, '=');
  size_t nlen = eq ? (size_t)(eq - s) : strlen (s);
  if (!valid_env_name (s, nlen))
    {
      cleanup_free char *shown = escape_bytes (s);
      return nook_error_set (err, 0, "%s: invalid environment variable '%s'", where, shown);
    }
  if (eq)
    {
      spec_env_set (env, s);
      return 0;
    }
  const char *v = e && e->getenv ? e->getenv (s) : NULL;
  if (v)
    {
      cleanup_free char *kv = xasprintf ("%s=%s", s, v);
      spec_env_set (env, kv);
    }
  return 0;
}

int
spec_parse_env_file (const char *text, size_t len, const char *file, const struct spec_env *e,
                     char ***env, nook_error_t *err)
{
  int lineno = 0;
  const char *nul = memchr (text, '\0', len);
  if (nul)
    {
      int line = 1;
      for (const char *p = text; p < nul; p++)
        line += *p == '\n';
      cleanup_free char *shown = escape_bytes (file);
      return nook_error_set (err, 0, "%s:%d: a NUL byte in the env file", shown, line);
    }
  const char *cursor = text;
  for (char *next; (next = str_next_line (&cursor)) != NULL;)
    {
      cleanup_free char *line = next;
      lineno++;
      size_t l = strlen (line);
      if (l && line[l - 1] == '\r')
        line[--l] = '\0';
      const char *s = line + strspn (line, " \t");
      if (*s == '\0' || *s == '#')
        continue;
      cleanup_free char *shown = escape_bytes (file);
      cleanup_free char *where = xasprintf ("%s:%d", shown, lineno);
      if (spec_env_add (env, s, e, where, err) < 0)
        return -1;
    }
  return 0;
}
