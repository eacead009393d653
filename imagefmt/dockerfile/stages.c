/* imagefmt/dockerfile/stages.c: stages, meta args, FROM expansion and the
 * stage graph of a target (see stages.h). */
#include "imagefmt/dockerfile/stages.h"
#include "imagefmt/dockerfile/shell.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

void
dockerfile_stages_free (struct dockerfile_stages *st)
{
  if (st == NULL)
    return;
  for (size_t i = 0; i < st->n; i++)
    {
      free (st->stages[i].name);
      free (st->stages[i].base);
      free (st->stages[i].platform);
      free (st->stages[i].deps);
    }
  free (st->stages);
  strv_free (st->meta_env);
  free (st);
}

void
cleanup_dockerfile_stagesp (struct dockerfile_stages **st)
{
  dockerfile_stages_free (*st);
}

static const char *
go_arch (void)
{
  static struct utsname u;
  if (uname (&u) < 0)
    return "amd64";
  if (!strcmp (u.machine, "x86_64"))
    return "amd64";
  if (!strcmp (u.machine, "aarch64"))
    return "arm64";
  if (!strncmp (u.machine, "arm", 3))
    return "arm";
  if (!strcmp (u.machine, "i686") || !strcmp (u.machine, "i386"))
    return "386";
  return u.machine;
}

static void
platform_args (char ***env)
{
  const char *arch = go_arch ();
  static const char *const kinds[] = { "BUILD", "TARGET" };
  for (size_t i = 0; i < ARRAY_SIZE (kinds); i++)
    {
      strv_push_take (env, xasprintf ("%sPLATFORM=linux/%s", kinds[i], arch));
      strv_push_take (env, xasprintf ("%sOS=linux", kinds[i]));
      strv_push_take (env, xasprintf ("%sARCH=%s", kinds[i], arch));
    }
}

/* The value --build-arg gives NAME: 1 found (*value may be NULL when the
 * bare NAME is not in the environment), 0 not given. */
static int
build_arg (char *const *build_args, const char *name, const char **value)
{
  size_t n = strlen (name);
  int found = 0;
  for (size_t i = 0; build_args && build_args[i]; i++)
    {
      const char *a = build_args[i];
      if (strncmp (a, name, n) == 0 && a[n] == '=')
        *value = a + n + 1, found = 1;
      else if (strcmp (a, name) == 0)
        *value = getenv (name), found = 1;
    }
  return found;
}

static int
expand (const struct dockerfile *df, const char *word, char *const *env, char **out, int line,
        nook_error_t *err)
{
  if (dockerfile_shell_expand_word (word, df->escape, env, out, err) < 0)
    return nook_error_wrap (err, "line %d", line);
  return 0;
}

static int
meta_arg (const struct dockerfile *df, const struct dockerfile_node *n, char *const *build_args,
          char ***env, nook_error_t *err)
{
  for (size_t i = 0; i < n->n_args; i++)
    {
      const char *w = n->args[i], *eq = strchr (w, '='), *v = NULL;
      cleanup_free char *name = eq ? xstrndup (w, (size_t)(eq - w)) : xstrdup (w);
      cleanup_free char *value = NULL;
      if (build_arg (build_args, name, &v))
        value = v ? xstrdup (v) : NULL;
      else if (eq && expand (df, eq + 1, *env, &value, n->start_line, err) < 0)
        return -1;
      if (value)
        strv_push_take (env, xasprintf ("%s=%s", name, value));
    }
  return 0;
}

static bool
valid_stage_name (const char *s)
{
  if (!(*s >= 'a' && *s <= 'z'))
    return false;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr ("-_.", *s)))
      return false;
  return true;
}

static const char *
flag_value (const char *flag, const char *name)
{
  size_t n = strlen (name);
  if (strncmp (flag, name, n) == 0 && flag[n] == '=')
    return flag + n + 1;
  return NULL;
}

static int
new_stage (const struct dockerfile *df, struct dockerfile_stages *st, size_t node_index,
           nook_error_t *err)
{
  const struct dockerfile_node *n = &df->nodes[node_index];
  struct dockerfile_stage s = { .index = st->n, .first_node = node_index, .base_stage = -1 };
  if (!(n->n_args == 1 || (n->n_args == 3 && strcasecmp (n->args[1], "as") == 0)))
    return nook_error_set (err, EINVAL, "line %d: FROM requires either one or three arguments",
                           n->start_line);
  for (size_t i = 0; n->flags[i]; i++)
    {
      const char *v = flag_value (n->flags[i], "--platform");
      if (v == NULL)
        continue;
      free (s.platform);
      s.platform = NULL;
      if (expand (df, v, st->meta_env, &s.platform, n->start_line, err) < 0)
        return -1;
    }
  if (expand (df, n->args[0], st->meta_env, &s.base, n->start_line, err) < 0)
    {
      free (s.platform);
      return -1;
    }
  if (n->n_args == 3)
    {
      s.name = xstrdup (n->args[2]);
      for (char *c = s.name; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
          *c = (char)(*c + 32);
    }
  st->stages = xreallocarray (st->stages, st->n + 1, sizeof *st->stages);
  st->stages[st->n++] = s;
  if (*s.base == '\0')
    return nook_error_set (err, EINVAL, "line %d: base name (%s) should not be blank",
                           n->start_line, n->args[0]);
  if (s.name && !valid_stage_name (s.name))
    return nook_error_set (err, EINVAL, "line %d: invalid name for build stage: \"%s\"",
                           n->start_line, n->args[2]);
  for (size_t i = 0; s.name && i + 1 < st->n; i++)
    if (st->stages[i].name && strcmp (st->stages[i].name, s.name) == 0)
      return nook_error_set (err, EINVAL, "line %d: duplicate stage name \"%s\"", n->start_line,
                             s.name);
  return 0;
}

static long
stage_by_name (const struct dockerfile_stages *st, const char *name)
{
  for (size_t i = 0; i < st->n; i++)
    if (st->stages[i].name && strcasecmp (st->stages[i].name, name) == 0)
      return (long)i;
  return -1;
}

static void
add_dep (struct dockerfile_stage *s, size_t d)
{
  for (size_t i = 0; i < s->n_deps; i++)
    if (s->deps[i] == d)
      return;
  s->deps = xreallocarray (s->deps, s->n_deps + 1, sizeof *s->deps);
  s->deps[s->n_deps++] = d;
}

/* A --from value: a stage index, a stage name, or an image (no dependency). */
static int
ref_dep (const struct dockerfile *df, struct dockerfile_stages *st, struct dockerfile_stage *s,
         const char *raw, int line, nook_error_t *err)
{
  cleanup_free char *v = NULL;
  nook_error_t ignored = NULL;
  if (dockerfile_shell_expand_word (raw, df->escape, st->meta_env, &v, &ignored) < 0)
    {
      nook_error_free (&ignored);
      v = xstrdup (raw);
    }
  long target;
  if (*v && strspn (v, "0123456789") == strlen (v))
    {
      target = strlen (v) < 10 ? atol (v) : -1;
      if (target < 0 || (size_t)target >= st->n)
        return nook_error_set (err, EINVAL, "line %d: invalid stage index %s", line, v);
    }
  else if ((target = stage_by_name (st, v)) < 0)
    return 0;
  if ((size_t)target == s->index)
    return nook_error_set (err, EINVAL, "line %d: stage %zu cannot depend on itself (--from=%s)",
                           line, s->index, v);
  add_dep (s, (size_t)target);
  return 0;
}

/* The from= key of a --mount CSV value (csv: fields may be double-quoted). */
static char *
mount_from (const char *csv)
{
  const char *p = csv;
  while (*p)
    {
      struct strbuf field = { 0 };
      if (*p == '"')
        {
          for (p++; *p; p++)
            {
              if (*p == '"' && p[1] == '"')
                strbuf_appendc (&field, *p++);
              else if (*p == '"')
                {
                  p++;
                  break;
                }
              else
                strbuf_appendc (&field, *p);
            }
          while (*p && *p != ',')
            strbuf_appendc (&field, *p++);
        }
      else
        while (*p && *p != ',')
          strbuf_appendc (&field, *p++);
      if (*p == ',')
        p++;
      char *f = strbuf_steal (&field);
      if (strncasecmp (f, "from=", 5) == 0)
        {
          char *r = xstrdup (f + 5);
          free (f);
          return r;
        }
      free (f);
    }
  return NULL;
}

static int
stage_deps (const struct dockerfile *df, struct dockerfile_stages *st, struct dockerfile_stage *s,
            nook_error_t *err)
{
  const struct dockerfile_node *from = &df->nodes[s->first_node];
  long b = stage_by_name (st, s->base);
  if (b >= 0)
    {
      if ((size_t)b == s->index)
        return nook_error_set (err, EINVAL, "line %d: circular dependency detected on stage: %s",
                               from->start_line, s->name);
      s->base_stage = b;
      add_dep (s, (size_t)b);
    }
  for (size_t k = s->first_node + 1; k < s->first_node + s->n_nodes; k++)
    {
      const struct dockerfile_node *n = &df->nodes[k];
      bool copy = !strcmp (n->keyword, "copy") || !strcmp (n->keyword, "add");
      bool run = !strcmp (n->keyword, "run");
      for (size_t i = 0; (copy || run) && n->flags[i]; i++)
        {
          const char *v = copy ? flag_value (n->flags[i], "--from") : NULL;
          cleanup_free char *mf = NULL;
          if (run && (v = flag_value (n->flags[i], "--mount")) != NULL)
            v = mf = mount_from (v);
          if (v && ref_dep (df, st, s, v, n->start_line, err) < 0)
            return -1;
        }
    }
  return 0;
}

int
dockerfile_stages_build (const struct dockerfile *df, char *const *build_args,
                         struct dockerfile_stages **out, nook_error_t *err)
{
  cleanup_dockerfile_stages struct dockerfile_stages *st = xzalloc (sizeof *st);
  platform_args (&st->meta_env);
  for (size_t i = 0; i < df->n_nodes; i++)
    {
      const struct dockerfile_node *n = &df->nodes[i];
      if (!strcmp (n->keyword, "from"))
        {
          if (new_stage (df, st, i, err) < 0)
            return -1;
        }
      else if (st->n > 0)
        st->stages[st->n - 1].n_nodes++;
      else if (!strcmp (n->keyword, "arg"))
        {
          if (meta_arg (df, n, build_args, &st->meta_env, err) < 0)
            return -1;
        }
      else
        return nook_error_set (err, EINVAL,
                               "line %d: %s before the first FROM (only ARG may come first)",
                               n->start_line, n->keyword);
    }
  if (st->n == 0)
    return nook_error_set (err, EINVAL, "no FROM instruction: the Dockerfile has no build stage");
  for (size_t i = 0; i < st->n; i++)
    {
      st->stages[i].n_nodes++; /* the FROM itself */
      if (stage_deps (df, st, &st->stages[i], err) < 0)
        return -1;
    }
  *out = steal_pointer (&st);
  return 0;
}

int
dockerfile_stages_find (const struct dockerfile_stages *st, const char *target, size_t *index,
                        nook_error_t *err)
{
  if (st->n == 0)
    return nook_error_set (err, EINVAL, "no build stage");
  if (target == NULL || *target == '\0')
    {
      *index = st->n - 1;
      return 0;
    }
  long i = stage_by_name (st, target);
  if (i < 0)
    return nook_error_set (err, ENOENT, "target stage \"%s\" could not be found", target);
  *index = (size_t)i;
  return 0;
}

/* Min-heap of stage indexes: build order prefers lower indexes. */
static void
heap_push (size_t *h, size_t *n, size_t v)
{
  size_t i = (*n)++;
  h[i] = v;
  while (i > 0 && h[(i - 1) / 2] > h[i])
    {
      size_t p = (i - 1) / 2, t = h[p];
      h[p] = h[i], h[i] = t, i = p;
    }
}

static size_t
heap_pop (size_t *h, size_t *n)
{
  size_t top = h[0], i = 0;
  h[0] = h[--(*n)];
  for (;;)
    {
      size_t l = 2 * i + 1, r = l + 1, m = i;
      if (l < *n && h[l] < h[m])
        m = l;
      if (r < *n && h[r] < h[m])
        m = r;
      if (m == i)
        return top;
      size_t t = h[m];
      h[m] = h[i], h[i] = t, i = m;
    }
}

int
dockerfile_stages_for_target (const struct dockerfile_stages *st, const char *target,
                              size_t **order, size_t *n, nook_error_t *err)
{
  size_t t, count = 0, stack_n = 0, heap_n = 0, out_n = 0;
  if (dockerfile_stages_find (st, target, &t, err) < 0)
    return -1;
  cleanup_free bool *need = xzalloc (st->n * sizeof *need);
  cleanup_free size_t *stack = xmalloc (st->n * sizeof *stack);
  cleanup_free size_t *pending = xzalloc (st->n * sizeof *pending);
  cleanup_free size_t *heap = xmalloc (st->n * sizeof *heap);
  cleanup_free size_t *res = xmalloc (st->n * sizeof *res);
  need[t] = true;
  stack[stack_n++] = t;
  while (stack_n > 0)
    {
      const struct dockerfile_stage *s = &st->stages[stack[--stack_n]];
      count++;
      for (size_t i = 0; i < s->n_deps; i++)
        if (!need[s->deps[i]])
          need[s->deps[i]] = true, stack[stack_n++] = s->deps[i];
    }
  for (size_t i = 0; i < st->n; i++)
    if (need[i])
      {
        pending[i] = st->stages[i].n_deps;
        if (pending[i] == 0)
          heap_push (heap, &heap_n, i);
      }
  while (heap_n > 0)
    {
      size_t s = heap_pop (heap, &heap_n);
      res[out_n++] = s;
      /* stages waiting on s: a linear scan keeps this simple; stage counts are small */
      for (size_t i = 0; i < st->n; i++)
        if (need[i] && pending[i] > 0)
          for (size_t k = 0; k < st->stages[i].n_deps; k++)
            if (st->stages[i].deps[k] == s && --pending[i] == 0)
              heap_push (heap, &heap_n, i);
    }
  if (out_n != count)
    {
      for (size_t i = 0; i < st->n; i++)
        if (need[i] && pending[i] > 0)
          {
            const struct dockerfile_stage *s = &st->stages[i];
            if (s->name)
              return nook_error_set (err, EINVAL, "circular dependency detected on stage: %s",
                                     s->name);
            return nook_error_set (err, EINVAL, "circular dependency detected on stage %zu",
                                   s->index);
          }
    }
  *order = steal_pointer (&res);
  *n = out_n;
  return 0;
}
