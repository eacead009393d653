/* cmd/regconf.c: see regconf.h.  The TOML reader takes what registries.conf files use:
 * comments, [table] and [[array.table]] headers, bare or quoted keys, basic and literal
 * strings, booleans and arrays of strings (over several lines); anything else is an error
 * naming the line (there is no C TOML library in Debian 12). */
#include "cmd/regconf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGCONF_MAX (1u << 20)
#define SYSTEM_FILE "/etc/containers/registries.conf"

/* ---- the TOML subset ---- */

struct scan
{
  const char *p, *end, *file;
  int line;
};

enum vtype
{
  V_STRING,
  V_BOOL,
  V_ARRAY,
};

struct value
{
  enum vtype type;
  char *s;  /* V_STRING */
  bool b;   /* V_BOOL */
  char **a; /* V_ARRAY of strings */
};

static void
value_clear (struct value *v)
{
  free (v->s);
  strv_free (v->a);
  memset (v, 0, sizeof *v);
}

static int
syntax (struct scan *s, nook_error_t *err, const char *what)
{
  return nook_error_set (err, EINVAL, "%s:%d: %s (nook reads the TOML of registries.conf(5))",
                         s->file, s->line, what);
}

/* Blanks and comments; newlines too when nl. */
static void
skip (struct scan *s, bool nl)
{
  while (s->p < s->end)
    {
      char c = *s->p;
      if (c == ' ' || c == '\t' || c == '\r')
        s->p++;
      else if (c == '#')
        while (s->p < s->end && *s->p != '\n')
          s->p++;
      else if (c == '\n' && nl)
        {
          s->line++;
          s->p++;
        }
      else
        break;
    }
}

static int
string (struct scan *s, char **out, nook_error_t *err)
{
  char q = *s->p++;
  struct strbuf b = { 0 };
  strbuf_append (&b, "");
  while (s->p < s->end && *s->p != q)
    {
      char c = *s->p++;
      if (c == '\n')
        break;
      if (c == '\\' && q == '"' && s->p < s->end)
        {
          char e = *s->p++;
          c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
          if (!strchr ("nt\"\\", e))
            {
              strbuf_free (&b);
              return syntax (s, err, "an escape this reader does not take");
            }
        }
      strbuf_appendc (&b, c);
    }
  if (s->p >= s->end || *s->p != q)
    {
      strbuf_free (&b);
      return syntax (s, err, "an unterminated string");
    }
  s->p++;
  *out = strbuf_steal (&b);
  return 0;
}

static bool
bare_char (char c)
{
  return isalnum ((unsigned char)c) || c == '_' || c == '-';
}

/* A key, dotted parts joined with '.'. */
static int
key (struct scan *s, char **out, nook_error_t *err)
{
  struct strbuf b = { 0 };
  strbuf_append (&b, "");
  for (;;)
    {
      skip (s, false);
      if (s->p < s->end && (*s->p == '"' || *s->p == '\''))
        {
          cleanup_free char *part = NULL;
          if (string (s, &part, err) < 0)
            {
              strbuf_free (&b);
              return -1;
            }
          strbuf_append (&b, part);
        }
      else if (s->p < s->end && bare_char (*s->p))
        while (s->p < s->end && bare_char (*s->p))
          strbuf_appendc (&b, *s->p++);
      else
        {
          strbuf_free (&b);
          return syntax (s, err, "a key was expected");
        }
      skip (s, false);
      if (s->p < s->end && *s->p == '.')
        {
          s->p++;
          strbuf_appendc (&b, '.');
          continue;
        }
      break;
    }
  *out = strbuf_steal (&b);
  return 0;
}

static int
value (struct scan *s, struct value *v, nook_error_t *err)
{
  skip (s, false);
  memset (v, 0, sizeof *v);
  if (s->p >= s->end)
    return syntax (s, err, "a value was expected");
  if (*s->p == '"' || *s->p == '\'')
    {
      v->type = V_STRING;
      return string (s, &v->s, err);
    }
  if ((size_t)(s->end - s->p) >= 4 && strncmp (s->p, "true", 4) == 0)
    {
      s->p += 4;
      v->type = V_BOOL;
      v->b = true;
      return 0;
    }
  if ((size_t)(s->end - s->p) >= 5 && strncmp (s->p, "false", 5) == 0)
    {
      s->p += 5;
      v->type = V_BOOL;
      return 0;
    }
  if (*s->p != '[')
    return syntax (s, err, "a value this reader does not take (strings, true/false, arrays)");
  s->p++;
  v->type = V_ARRAY;
  v->a = xzalloc (sizeof (char *));
  for (;;)
    {
      skip (s, true);
      if (s->p < s->end && *s->p == ']')
        {
          s->p++;
          return 0;
        }
      char *item = NULL;
      if (s->p >= s->end || (*s->p != '"' && *s->p != '\''))
        return syntax (s, err, "an array of strings was expected");
      if (string (s, &item, err) < 0)
        return -1;
      strv_push_take (&v->a, item);
      skip (s, true);
      if (s->p < s->end && *s->p == ',')
        s->p++;
      else if (s->p >= s->end || *s->p != ']')
        return syntax (s, err, "',' or ']' was expected in an array");
    }
}

/* ---- registries.conf's meaning ---- */

enum table
{
  T_TOP,
  T_REGISTRY,
  T_MIRROR,
  T_ALIASES,
  T_V1_SEARCH,
  T_V1_INSECURE,
  T_V1_BLOCK,
  T_OTHER,
};

static struct regconf_registry *
new_registry (struct regconf *c)
{
  c->regs = xreallocarray (c->regs, c->n_regs + 1, sizeof *c->regs);
  struct regconf_registry *r = &c->regs[c->n_regs++];
  memset (r, 0, sizeof *r);
  return r;
}

/* A v1 list: one [[registry]] per name with the flag set (or the search list). */
static void
v1_list (struct regconf *c, enum table t, char **names)
{
  for (size_t i = 0; names[i]; i++)
    {
      if (t == T_V1_SEARCH)
        {
          if (c->search == NULL)
            c->search = xzalloc (sizeof (char *));
          strv_push (&c->search, names[i]);
          c->have_search = true;
          continue;
        }
      struct regconf_registry *r = new_registry (c);
      r->prefix = xstrdup (names[i]);
      r->primary.location = xstrdup (names[i]);
      r->primary.insecure = t == T_V1_INSECURE;
      r->blocked = t == T_V1_BLOCK;
    }
}

static int
assign (struct scan *s, struct regconf *c, enum table t, const char *k, struct value *v,
        nook_error_t *err)
{
  struct regconf_registry *r = c->n_regs ? &c->regs[c->n_regs - 1] : NULL;
  struct regconf_place *m = r && r->n_mirrors ? &r->mirrors[r->n_mirrors - 1] : NULL;
  bool str = v->type == V_STRING, bl = v->type == V_BOOL, arr = v->type == V_ARRAY;
  switch (t)
    {
    case T_TOP:
      if (strcmp (k, "unqualified-search-registries") == 0)
        {
          if (!arr)
            return syntax (s, err, "unqualified-search-registries must be an array of strings");
          strv_free (c->search);
          c->search = steal_pointer (&v->a);
          c->have_search = true;
        }
      if (strcmp (k, "short-name-mode") == 0)
        {
          static const char *const modes[] = { "enforcing", "permissive", "disabled" };
          for (size_t i = 0; str && i < 3; i++)
            if (strcmp (v->s, modes[i]) == 0)
              {
                c->short_mode = (enum regconf_short_mode) (REGCONF_SHORT_ENFORCING + i);
                return 0;
              }
          return syntax (s, err,
                         "short-name-mode must be \"enforcing\", \"permissive\" or \"disabled\"");
        }
      if (strcmp (k, "credential-helpers") == 0)
        {
          if (!arr)
            return syntax (s, err, "credential-helpers must be an array of strings");
          for (size_t i = 0; v->a[i]; i++)
            if (v->a[i][0] == '\0')
              return syntax (s, err, "credential-helpers: an empty helper name");
          strv_free (c->cred_helpers);
          c->cred_helpers = steal_pointer (&v->a);
        }
      return 0; /* other keys: not nook's */
    case T_REGISTRY:
      if ((strcmp (k, "prefix") == 0 || strcmp (k, "location") == 0) && !str)
        return syntax (s, err, "prefix and location must be strings");
      if ((strcmp (k, "insecure") == 0 || strcmp (k, "blocked") == 0
           || strcmp (k, "mirror-by-digest-only") == 0)
          && !bl)
        return syntax (s, err, "insecure, blocked and mirror-by-digest-only must be true or false");
      if (strcmp (k, "prefix") == 0)
        free (r->prefix), r->prefix = steal_pointer (&v->s);
      else if (strcmp (k, "location") == 0)
        free (r->primary.location), r->primary.location = steal_pointer (&v->s);
      else if (strcmp (k, "insecure") == 0)
        r->primary.insecure = v->b;
      else if (strcmp (k, "blocked") == 0)
        r->blocked = v->b;
      else if (strcmp (k, "mirror-by-digest-only") == 0)
        r->mirror_by_digest_only = v->b;
      return 0;
    case T_MIRROR:
      if (strcmp (k, "location") == 0 && str)
        free (m->location), m->location = steal_pointer (&v->s);
      else if (strcmp (k, "insecure") == 0 && bl)
        m->insecure = v->b;
      else if (strcmp (k, "location") == 0 || strcmp (k, "insecure") == 0)
        return syntax (s, err, "a mirror's location is a string, insecure true or false");
      return 0;
    case T_ALIASES:
      if (!str)
        return syntax (s, err, "an alias must be a string");
      if (c->alias_names == NULL)
        {
          c->alias_names = xzalloc (sizeof (char *));
          c->alias_values = xzalloc (sizeof (char *));
        }
      strv_push (&c->alias_names, k);
      strv_push_take (&c->alias_values, steal_pointer (&v->s));
      return 0;
    case T_V1_SEARCH:
    case T_V1_INSECURE:
    case T_V1_BLOCK:
      if (strcmp (k, "registries") != 0)
        return 0;
      if (!arr)
        return syntax (s, err, "registries must be an array of strings");
      v1_list (c, t, v->a);
      return 0;
    case T_OTHER:
      return 0;
    }
  return 0;
}

static int
header (struct scan *s, struct regconf *c, enum table *t, nook_error_t *err)
{
  bool array = s->p + 1 < s->end && s->p[1] == '[';
  s->p += array ? 2 : 1;
  cleanup_free char *name = NULL;
  if (key (s, &name, err) < 0)
    return -1;
  if (s->p >= s->end || *s->p != ']' || (array && (s->p + 1 >= s->end || s->p[1] != ']')))
    return syntax (s, err, "an unterminated table header");
  s->p += array ? 2 : 1;
  *t = T_OTHER;
  if (array && strcmp (name, "registry") == 0)
    {
      new_registry (c);
      *t = T_REGISTRY;
    }
  else if (array && strcmp (name, "registry.mirror") == 0)
    {
      if (c->n_regs == 0)
        return syntax (s, err, "[[registry.mirror]] before any [[registry]]");
      struct regconf_registry *r = &c->regs[c->n_regs - 1];
      r->mirrors = xreallocarray (r->mirrors, r->n_mirrors + 1, sizeof *r->mirrors);
      memset (&r->mirrors[r->n_mirrors++], 0, sizeof *r->mirrors);
      *t = T_MIRROR;
    }
  else if (!array && strcmp (name, "aliases") == 0)
    *t = T_ALIASES;
  else if (!array && strcmp (name, "registries.search") == 0)
    *t = T_V1_SEARCH;
  else if (!array && strcmp (name, "registries.insecure") == 0)
    *t = T_V1_INSECURE;
  else if (!array && strcmp (name, "registries.block") == 0)
    *t = T_V1_BLOCK;
  return 0;
}

int
regconf_parse (const char *text, size_t len, const char *file, struct regconf *c, nook_error_t *err)
{
  struct scan s = { .p = text, .end = text + len, .file = file, .line = 1 };
  enum table t = T_TOP;
  memset (c, 0, sizeof *c);
  c->file = xstrdup (file);
  for (;;)
    {
      skip (&s, true);
      if (s.p >= s.end)
        break;
      if (*s.p == '[')
        {
          if (header (&s, c, &t, err) < 0)
            goto fail;
        }
      else
        {
          cleanup_free char *k = NULL;
          struct value v;
          if (key (&s, &k, err) < 0)
            goto fail;
          if (s.p >= s.end || *s.p != '=')
            {
              syntax (&s, err, "'=' was expected after a key");
              goto fail;
            }
          s.p++;
          if (value (&s, &v, err) < 0)
            {
              value_clear (&v);
              goto fail;
            }
          int r = assign (&s, c, t, k, &v, err);
          value_clear (&v);
          if (r < 0)
            goto fail;
        }
      skip (&s, false);
      if (s.p < s.end && *s.p != '\n')
        {
          syntax (&s, err, "the end of the line was expected");
          goto fail;
        }
    }
  for (size_t i = 0; i < c->n_regs; i++)
    {
      struct regconf_registry *r = &c->regs[i];
      if (r->prefix == NULL && r->primary.location == NULL)
        {
          nook_error_set (err, EINVAL, "%s: a [[registry]] without prefix or location", file);
          goto fail;
        }
      if (r->prefix == NULL)
        r->prefix = xstrdup (r->primary.location);
      for (size_t k = 0; k < r->n_mirrors; k++)
        if (r->mirrors[k].location == NULL)
          {
            nook_error_set (err, EINVAL, "%s: a [[registry.mirror]] of %s without location", file,
                            r->prefix);
            goto fail;
          }
    }
  return 0;
fail:
  regconf_clear (c);
  return -1;
}

void
regconf_clear (struct regconf *c)
{
  free (c->file);
  strv_free (c->search);
  strv_free (c->cred_helpers);
  strv_free (c->alias_names);
  strv_free (c->alias_values);
  for (size_t i = 0; i < c->n_regs; i++)
    {
      free (c->regs[i].prefix);
      free (c->regs[i].primary.location);
      for (size_t k = 0; k < c->regs[i].n_mirrors; k++)
        free (c->regs[i].mirrors[k].location);
      free (c->regs[i].mirrors);
    }
  free (c->regs);
  memset (c, 0, sizeof *c);
}

static char *
user_file (void)
{
  const char *x = getenv ("XDG_CONFIG_HOME");
  if (x && *x == '/')
    return xasprintf ("%s/containers/registries.conf", x);
  const char *h = getenv ("HOME");
  if (h == NULL || *h != '/')
    {
      struct passwd *pw = getpwuid (getuid ());
      h = pw ? pw->pw_dir : NULL;
    }
  return h && *h == '/' ? xasprintf ("%s/.config/containers/registries.conf", h) : NULL;
}

int
regconf_load (struct regconf *c, nook_error_t *err)
{
  cleanup_free char *user = user_file ();
  const char *files[] = { user, SYSTEM_FILE };
  memset (c, 0, sizeof *c);
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_free char *data = NULL;
      size_t len = 0;
      nook_error_t e = NULL;
      if (files[i] == NULL)
        continue;
      if (fs_read_file_at (AT_FDCWD, files[i], REGCONF_MAX, &data, &len, &e) < 0)
        {
          if (e->code == ENOENT || e->code == ENOTDIR)
            {
              nook_error_free (&e);
              continue;
            }
          *err = e;
          return nook_error_wrap (err, "registries.conf '%s'", files[i]);
        }
      return regconf_parse (data, len, files[i], c, err);
    }
  return 0;
}

/* ---- where an image is fetched from ---- */

/* name starts with prefix at a separator ('/', ':', '@' or the end); "*.dom" prefixes
 * match the hosts below dom.  The length matched, 0 for none. */
static size_t
prefix_match (const char *prefix, const char *name)
{
  size_t n = strlen (prefix);
  if (str_has_prefix (prefix, "*."))
    {
      size_t hl = strcspn (name, "/");
      size_t dl = n - 1; /* ".dom" */
      return hl > dl && strncmp (name + hl - dl, prefix + 1, dl) == 0 ? hl : 0;
    }
  if (strncmp (name, prefix, n) != 0 || (name[n] && !strchr ("/:@", name[n])))
    return 0;
  return n;
}

static const struct regconf_registry *
find_registry (const struct regconf *c, const char *name, size_t *matched)
{
  const struct regconf_registry *best = NULL;
  *matched = 0;
  for (size_t i = 0; i < c->n_regs; i++)
    {
      size_t m = prefix_match (c->regs[i].prefix, name);
      if (m > *matched)
        {
          *matched = m;
          best = &c->regs[i];
        }
    }
  return best;
}

static void
push_source (struct regconf_source **v, size_t *n, char *url, const char *auth_key, char *repo,
             bool insecure)
{
  *v = xreallocarray (*v, *n + 2, sizeof **v);
  (*v)[*n] = (struct regconf_source){
    .url = url, .auth_key = auth_key ? xstrdup (auth_key) : NULL, .repo = repo, .insecure = insecure
  };
  (*n)++;
  memset (&(*v)[*n], 0, sizeof **v);
}

/* location + the rest of the name after the prefix -> url (host) and repo; credentials
 * are those of the location's registry */
static void
place_source (struct regconf_source **v, size_t *n, const char *location, const char *rest,
              bool insecure)
{
  cleanup_free char *full = xasprintf ("%s%s", location, rest);
  char *slash = strchr (full, '/');
  if (slash == NULL)
    return; /* a registry without a repository: nothing to fetch */
  *slash = '\0';
  const char *host = strcmp (full, "docker.io") == 0 ? "registry-1.docker.io" : full;
  push_source (v, n, xstrdup (host), full, xstrdup (slash + 1), insecure);
}

struct regconf_source *
regconf_sources (const struct regconf *c, const char *domain, const char *path, bool has_digest,
                 bool typed_short, const char *short_name,
                 char *const *(*extra_mirrors) (void *data, const char *domain), void *data,
                 char **blocked_out)
{
  struct regconf_source *v = xzalloc (sizeof *v);
  size_t n = 0;
  cleanup_strv char **names = xzalloc (sizeof (char *));
  *blocked_out = NULL;
  ssize_t alias = -1;
  for (size_t i = 0; typed_short && c->alias_names && c->alias_names[i]; i++)
    if (strcmp (c->alias_names[i], short_name) == 0 && *c->alias_values[i])
      alias = (ssize_t)i;
  if (alias >= 0)
    strv_push (&names, c->alias_values[alias]);
  else if (typed_short && c->have_search && c->search)
    for (size_t i = 0; c->search[i]; i++)
      {
        bool hub = strcmp (c->search[i], "docker.io") == 0;
        strv_push_take (&names,
                        xasprintf ("%s/%s%s", c->search[i],
                                   hub && !strchr (short_name, '/') ? "library/" : "", short_name));
      }
  else
    strv_push_take (&names, xasprintf ("%s/%s", domain, path));
  for (size_t i = 0; names[i]; i++)
    {
      size_t slash = strcspn (names[i], "/");
      cleanup_free char *dom = xstrndup (names[i], slash);
      const char *repo = names[i][slash] ? names[i] + slash + 1 : "";
      size_t matched = 0;
      const struct regconf_registry *r = find_registry (c, names[i], &matched);
      if (r && r->blocked)
        {
          if (*blocked_out == NULL)
            *blocked_out = xasprintf ("%s (blocked by %s)", r->prefix, c->file);
          continue;
        }
      char *const *own = extra_mirrors ? extra_mirrors (data, dom) : NULL;
      for (size_t k = 0; own && own[k]; k++)
        push_source (&v, &n, xstrdup (own[k]), NULL, xstrdup (repo), false);
      const char *rest = names[i] + matched;
      for (size_t k = 0; r && (!r->mirror_by_digest_only || has_digest) && k < r->n_mirrors; k++)
        place_source (&v, &n, r->mirrors[k].location, rest, r->mirrors[k].insecure);
      if (r && r->primary.location)
        place_source (&v, &n, r->primary.location, rest, r->primary.insecure);
      else
        push_source (&v, &n,
                     xstrdup (strcmp (dom, "docker.io") == 0 ? "registry-1.docker.io" : dom), dom,
                     xstrdup (repo), r && r->primary.insecure);
    }
  return v;
}

size_t
regconf_short_ambiguous (const struct regconf *c, bool typed_short, const char *short_name)
{
  if (c->short_mode != REGCONF_SHORT_ENFORCING || !typed_short || !c->have_search)
    return 0;
  for (size_t i = 0; c->alias_names && c->alias_names[i]; i++)
    if (strcmp (c->alias_names[i], short_name) == 0 && *c->alias_values[i])
      return 0;
  size_t n = 0;
  while (c->search && c->search[n])
    n++;
  return n > 1 ? n : 0;
}

void
regconf_insecure_hosts (const struct regconf *c, char ***list)
{
  for (size_t i = 0; i < c->n_regs; i++)
    {
      const struct regconf_registry *r = &c->regs[i];
      const char *loc = r->primary.location ? r->primary.location : r->prefix;
      if (r->primary.insecure && !str_has_prefix (loc, "*."))
        strv_push_take (list, xstrndup (loc, strcspn (loc, "/")));
      for (size_t k = 0; k < r->n_mirrors; k++)
        if (r->mirrors[k].insecure)
          strv_push_take (list,
                          xstrndup (r->mirrors[k].location, strcspn (r->mirrors[k].location, "/")));
    }
}

void
regconf_sources_free (struct regconf_source *s)
{
  for (size_t i = 0; s && s[i].url; i++)
    {
      free (s[i].url);
      free (s[i].auth_key);
      free (s[i].repo);
    }
  free (s);
}
