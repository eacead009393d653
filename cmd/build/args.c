/* cmd/build/args.c: ARG scoping as BuildKit does it (see build.h).  Pure. */
#include "cmd/build/build.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static const char *const predefined[] = {
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
  "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy",
};

bool
build_args_predefined (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (predefined); i++)
    if (strcmp (name, predefined[i]) == 0)
      return true;
  return false;
}

/* 1 when the list has NAME (as "NAME=v" or bare "NAME"), *value set (NULL when bare). */
static int
lookup (char *const *list, const char *name, const char **value)
{
  size_t n = strlen (name);
  int found = 0;
  for (size_t i = 0; list && list[i]; i++)
    {
      if (strncmp (list[i], name, n) == 0 && list[i][n] == '=')
        *value = list[i] + n + 1, found = 1;
      else if (strcmp (list[i], name) == 0)
        *value = NULL, found = 1;
    }
  return found;
}

static void
scope_remove (struct build_args *a, const char *name)
{
  size_t n = strlen (name), j = 0;
  for (size_t i = 0; a->scope && a->scope[i]; i++)
    {
      if (strncmp (a->scope[i], name, n) == 0 && (a->scope[i][n] == '=' || a->scope[i][n] == '\0'))
        {
          free (a->scope[i]);
          continue;
        }
      a->scope[j++] = a->scope[i];
    }
  if (a->scope)
    a->scope[j] = NULL;
}

void
build_args_declare (struct build_args *a, const char *name, const char *def,
                    char *const *build_args, char *const *meta_env, char ***used)
{
  const char *v = NULL;
  cleanup_free char *value = NULL;
  bool have = false;
  if (lookup (build_args, name, &v))
    {
      /* a bare --build-arg NAME takes nook's environment, and is unset without it */
      if (v == NULL)
        v = getenv (name);
      if (v)
        value = xstrdup (v), have = true;
      if (used && !strv_contains (*used, name))
        strv_push (used, name);
    }
  if (!have && def)
    value = xstrdup (def), have = true;
  if (!have && lookup (meta_env, name, &v) && v)
    value = xstrdup (v), have = true;
  scope_remove (a, name);
  strv_push_take (&a->scope, have ? xasprintf ("%s=%s", name, value) : xstrdup (name));
}

const char *
build_args_value (const struct build_args *a, const char *name)
{
  const char *v = NULL;
  return lookup (a->scope, name, &v) ? v : NULL;
}

char **
build_args_env (const struct build_args *a)
{
  char **out = xzalloc (sizeof (char *));
  for (size_t i = 0; a->scope && a->scope[i]; i++)
    if (strchr (a->scope[i], '='))
      strv_push (&out, a->scope[i]);
  return out;
}

void
build_args_clear (struct build_args *a)
{
  strv_free (a->scope);
  a->scope = NULL;
}
