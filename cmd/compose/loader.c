/* cmd/compose/loader.c: files, environment, include, extends, profiles: a project. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/compose/interp.h"
#include "cmd/compose/loader.h"
#include "cmd/compose/merge.h"
#include "cmd/compose/normalize.h"
#include "cmd/compose/schema.h"
#include "cmd/compose/yaml.h"
#include "util/cleanup.h"
#include "util/util.h"

#define MAX_SEGS 64
#define MAX_INCLUDE_DEPTH 32

struct ctx
{
  const struct compose_options *o;
  json_t *env; /* the project's variables */
  char *workdir;
  char **warnings;
  char **config_files;
  char **include_stack;
  json_t *sources;   /* [[name, positions]...] of the files merged so far, for schema errors */
  char *stdin_text;  /* `-f -`, read once */
  const char *label; /* the file being interpolated, and its positions */
  json_t *positions;
};

static void warn (struct ctx *c, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
warn (struct ctx *c, const char *fmt, ...)
{
  char *s = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  if (!strv_contains (c->warnings, s))
    strv_push (&c->warnings, s);
  free (s);
}

static char *
dir_of (const char *path)
{
  cleanup_free char *p = xstrdup (path);
  return xstrdup (dirname (p));
}

static char *
read_text (const char *path, nook_error_t *err)
{
  cleanup_file FILE *f = strcmp (path, "-") == 0 ? NULL : fopen (path, "re");
  FILE *in = strcmp (path, "-") == 0 ? stdin : f;
  if (in == NULL)
    {
      nook_error_set (err, errno, "open %s", path);
      return NULL;
    }
  struct strbuf b = { 0 };
  strbuf_append (&b, "");
  char buf[8192];
  size_t n;
  while ((n = fread (buf, 1, sizeof buf, in)) > 0)
    strbuf_appendn (&b, buf, n);
  if (ferror (in))
    {
      strbuf_free (&b);
      nook_error_set (err, EIO, "read %s", path);
      return NULL;
    }
  return strbuf_steal (&b);
}

/* ---- interpolation of a tree ------------------------------------------------------------ */

enum cast
{
  C_NONE,
  C_INT,
  C_FLOAT,
  C_BOOL
};
static json_t *cast_one (const char *s, enum cast cast);

static const struct
{
  const char *pattern;
  enum cast cast;
} casts[] = {
  { "services.*.configs.*.mode", C_INT },
  { "services.*.secrets.*.mode", C_INT },
  { "services.*.cpu_count", C_INT },
  { "services.*.cpu_percent", C_FLOAT },
  { "services.*.cpu_period", C_INT },
  { "services.*.cpu_quota", C_INT },
  { "services.*.cpu_rt_period", C_INT },
  { "services.*.cpu_rt_runtime", C_INT },
  { "services.*.cpus", C_FLOAT },
  { "services.*.cpu_shares", C_INT },
  { "services.*.init", C_BOOL },
  { "services.*.deploy.replicas", C_INT },
  { "services.*.deploy.update_config.parallelism", C_INT },
  { "services.*.deploy.update_config.max_failure_ratio", C_FLOAT },
  { "services.*.deploy.rollback_config.parallelism", C_INT },
  { "services.*.deploy.rollback_config.max_failure_ratio", C_FLOAT },
  { "services.*.deploy.restart_policy.max_attempts", C_INT },
  { "services.*.deploy.placement.max_replicas_per_node", C_INT },
  { "services.*.healthcheck.retries", C_INT },
  { "services.*.healthcheck.disable", C_BOOL },
  { "services.*.oom_kill_disable", C_BOOL },
  { "services.*.oom_score_adj", C_INT },
  { "services.*.pids_limit", C_INT },
  { "services.*.ports.*.target", C_INT },
  { "services.*.privileged", C_BOOL },
  { "services.*.read_only", C_BOOL },
  { "services.*.scale", C_INT },
  { "services.*.stdin_open", C_BOOL },
  { "services.*.tty", C_BOOL },
  { "services.*.ulimits.*", C_INT },
  { "services.*.ulimits.*.hard", C_INT },
  { "services.*.ulimits.*.soft", C_INT },
  { "services.*.volumes.*.read_only", C_BOOL },
  { "services.*.volumes.*.volume.nocopy", C_BOOL },
  { "services.*.volumes.*.bind.create_host_path", C_BOOL },
  { "services.*.depends_on.*.required", C_BOOL },
  { "services.*.depends_on.*.restart", C_BOOL },
  { "services.*.env_file.*.required", C_BOOL },
  { "services.*.attach", C_BOOL },
  { "networks.*.external", C_BOOL },
  { "networks.*.internal", C_BOOL },
  { "networks.*.attachable", C_BOOL },
  { "networks.*.enable_ipv4", C_BOOL },
  { "networks.*.enable_ipv6", C_BOOL },
  { "volumes.*.external", C_BOOL },
  { "secrets.*.external", C_BOOL },
  { "configs.*.external", C_BOOL },
};

/* The typed value of s at a path that Compose casts; NULL (and *bad set) when s does not
 * convert, NULL alone when the path is not cast. */
static json_t *
cast_value (const char *s, const char **segs, int n, const char **bad)
{
  json_t *r = NULL;
  for (size_t i = 0; i < ARRAY_SIZE (casts) && r == NULL && *bad == NULL; i++)
    if (compose_path_match (casts[i].pattern, segs, n))
      {
        r = cast_one (s, casts[i].cast);
        if (r == NULL)
          *bad = casts[i].cast == C_BOOL  ? "a boolean"
                 : casts[i].cast == C_INT ? "an integer"
                                          : "a number";
      }
  return r;
}

static json_t *
cast_one (const char *s, enum cast cast)
{
  for (size_t i = 0; i < 1; i++)
    {
      switch (cast)
        {
        case C_BOOL:
          if (!strcasecmp (s, "true") || !strcasecmp (s, "yes") || !strcasecmp (s, "y")
              || !strcasecmp (s, "on"))
            return json_true ();
          if (!strcasecmp (s, "false") || !strcasecmp (s, "no") || !strcasecmp (s, "n")
              || !strcasecmp (s, "off"))
            return json_false ();
          return NULL;
        case C_INT:
        case C_FLOAT:
          {
            json_t *v = compose_yaml_scalar (s, strlen (s));
            if (json_is_integer (v) || (cast == C_FLOAT && json_is_real (v)))
              return v;
            json_decref (v);
            return NULL;
          }
        default:
          return NULL;
        }
    }
  return NULL;
}

static char *
segs_path (const char **segs, int n)
{
  struct strbuf b = { 0 };
  strbuf_append (&b, "");
  for (int i = 0; i < n; i++)
    {
      if (segs[i][0] == '[')
        strbuf_append (&b, segs[i]);
      else
        strbuf_appendf (&b, "%s%s", i ? "." : "", segs[i]);
    }
  return strbuf_steal (&b);
}

static json_t *interp_value (struct ctx *c, json_t *v, const char **segs, int n, bool *replaced,
                             nook_error_t *err);

static int
interp_tree (struct ctx *c, json_t *v, const char **segs, int n, nook_error_t *err)
{
  if (n >= MAX_SEGS - 1)
    return 0;
  if (json_is_object (v))
    {
      const char *k;
      json_t *x;
      json_object_foreach (v, k, x)
      {
        json_t *inner;
        bool tagged = compose_tag_of (x, &inner) != NULL;
        json_t *target = tagged ? inner : x;
        segs[n] = k;
        bool replaced = false;
        json_t *nv = interp_value (c, target, segs, n + 1, &replaced, err);
        if (nv == NULL && !replaced)
          {
            if (*err)
              return -1;
            continue;
          }
        json_object_set_new (
            tagged ? x : v,
            tagged ? (compose_tag_of (x, NULL)[0] == 'r' ? COMPOSE_TAG_RESET : COMPOSE_TAG_OVERRIDE)
                   : k,
            nv);
      }
    }
  else if (json_is_array (v))
    {
      size_t i;
      json_t *x;
      json_array_foreach (v, i, x)
      {
        char idx[32];
        snprintf (idx, sizeof idx, "[%zu]", i);
        segs[n] = idx;
        bool replaced = false;
        json_t *nv = interp_value (c, x, segs, n + 1, &replaced, err);
        if (nv == NULL && !replaced)
          {
            if (*err)
              return -1;
            continue;
          }
        json_array_set_new (v, i, nv);
      }
    }
  return 0;
}

/* A new value for v (strings), or NULL: unchanged (recursed into) or failed (*err). */
static json_t *
interp_value (struct ctx *c, json_t *v, const char **segs, int n, bool *replaced, nook_error_t *err)
{
  if (!json_is_string (v))
    {
      interp_tree (c, v, segs, n, err);
      return NULL;
    }
  json_t *unset = json_object ();
  char *s = compose_interpolate (json_string_value (v), compose_lookup_json, c->env, unset, err);
  const char *name;
  json_t *x;
  json_object_foreach (unset, name, x)
  {
    warn (c, "The \"%s\" variable is not set. Defaulting to a blank string.", name);
  }
  json_decref (unset);
  if (s == NULL)
    {
      cleanup_free char *path = segs_path (segs, n);
      if (strstr ((*err)->msg, "Invalid template"))
        {
          nook_error_free (err);
          nook_error_set (err, 0,
                          "invalid interpolation format for %s.\nYou may need to escape any $ with "
                          "another $.\n%s",
                          path, json_string_value (v));
        }
      else
        nook_error_wrap (err, "error while interpolating %s", path);
      return NULL;
    }
  const char *bad = NULL;
  json_t *cv = cast_value (s, segs, n, &bad);
  if (bad)
    {
      cleanup_free char *path = segs_path (segs, n);
      int line = 0, col = 0;
      compose_yaml_position (c->positions, path, &line, &col);
      if (line)
        nook_error_set (err, 0, "%s:%d:%d: %s: must be %s, not \"%s\"", c->label, line, col, path,
                        bad, s);
      else
        nook_error_set (err, 0, "%s: %s: must be %s, not \"%s\"", c->label, path, bad, s);
      free (s);
      return NULL;
    }
  *replaced = true;
  if (cv)
    {
      free (s);
      return cv;
    }
  json_t *r = json_string (s);
  free (s);
  return r;
}

/* ---- one file --------------------------------------------------------------------------- */

static json_t *load_file (struct ctx *c, const char *path, const char *content, const char *label,
                          int depth, nook_error_t *err);
static int resolve_extends (struct ctx *c, json_t *services, const char *name, char ***stack,
                            int depth, nook_error_t *err);

static json_t *
parse_docs (const char *text, const char *label, json_t **positions, nook_error_t *err)
{
  json_t *docs = compose_yaml_parse (text, strlen (text), label, positions, err);
  if (docs == NULL)
    return NULL;
  json_t *doc = NULL;
  size_t i;
  json_t *d;
  json_array_foreach (docs, i, d)
  {
    if (json_is_null (d))
      continue;
    if (!json_is_object (d))
      {
        json_decref (docs);
        json_decref (doc);
        nook_error_set (err, 0, "%s: Top-level object must be a mapping", label);
        return NULL;
      }
    if (doc == NULL)
      doc = json_deep_copy (d);
    else
      {
        json_t *m = compose_merge (doc, d);
        json_decref (doc);
        doc = m;
      }
  }
  json_decref (docs);
  if (doc == NULL)
    nook_error_set (err, 0, "%s: empty compose file", label);
  return doc;
}

static int
include_one (struct ctx *c, json_t *entry, const char *base_dir, json_t *acc, int depth,
             nook_error_t *err)
{
  json_t *paths = json_is_string (entry) ? entry : json_object_get (entry, "path");
  cleanup_free char *first = NULL;
  json_t *plist = json_is_array (paths) ? json_incref (paths) : json_pack ("[O]", paths);
  if (json_array_size (plist) == 0 || !json_is_string (json_array_get (plist, 0)))
    {
      json_decref (plist);
      return nook_error_set (err, 0, "include: missing path");
    }
  if (strstr (json_string_value (json_array_get (plist, 0)), "://")
      || str_has_prefix (json_string_value (json_array_get (plist, 0)), "git@"))
    {
      nook_error_set (err, 0, "include %s: remote resources are not supported",
                      json_string_value (json_array_get (plist, 0)));
      json_decref (plist);
      return -1;
    }
  first = compose_path_join (base_dir, json_string_value (json_array_get (plist, 0)), c->env);
  const char *pd = json_string_value (json_object_get (entry, "project_directory"));
  cleanup_free char *proj = pd ? compose_path_join (base_dir, pd, c->env) : dir_of (first);
  /* the sub-project's variables: its env files, the environment over them */
  json_t *sub_env = json_object ();
  json_t *efs = json_object_get (entry, "env_file");
  json_t *eflist = efs == NULL           ? NULL
                   : json_is_array (efs) ? json_incref (efs)
                                         : json_pack ("[O]", efs);
  int r = 0;
  if (eflist)
    {
      size_t i;
      json_t *x;
      json_array_foreach (eflist, i, x)
      {
        cleanup_free char *p = compose_path_join (base_dir, json_string_value (x) ?: "", c->env);
        if ((r = compose_dotenv_read (p, c->env, sub_env, err)) < 0)
          break;
      }
      json_decref (eflist);
    }
  else
    {
      cleanup_free char *p = compose_path_join (proj, ".env", c->env);
      if (access (p, F_OK) == 0)
        r = compose_dotenv_read (p, c->env, sub_env, err);
    }
  if (r < 0)
    {
      json_decref (sub_env);
      json_decref (plist);
      return -1;
    }
  json_object_update (sub_env, c->env);
  json_t *saved_env = c->env;
  c->env = sub_env;
  json_t *model = NULL;
  size_t i;
  json_t *x;
  json_array_foreach (plist, i, x)
  {
    cleanup_free char *p = compose_path_join (base_dir, json_string_value (x) ?: "", saved_env);
    json_t *m = load_file (c, p, NULL, p, depth + 1, err);
    if (m == NULL)
      {
        r = -1;
        break;
      }
    if (model == NULL)
      model = m;
    else
      {
        json_t *mm = compose_merge (model, m);
        json_decref (model);
        json_decref (m);
        model = mm;
      }
  }
  json_decref (plist);
  if (r == 0)
    {
      json_t *services = json_object_get (model, "services");
      const char *k;
      json_t *v;
      char **stack = NULL;
      json_object_foreach (services, k, v)
      {
        if ((r = resolve_extends (c, services, k, &stack, 0, err)) < 0)
          break;
      }
      strv_free (stack);
      if (r == 0 && !c->o->no_resolve_paths)
        compose_resolve_paths (model, proj, c->env);
    }
  c->env = saved_env;
  json_decref (sub_env);
  if (r < 0)
    {
      json_decref (model);
      return -1;
    }
  /* the resources of an include must not conflict with those of another */
  static const char *const tops[] = { "services", "networks", "volumes", "secrets", "configs" };
  for (size_t t = 0; t < ARRAY_SIZE (tops); t++)
    {
      json_t *from = json_object_get (model, tops[t]);
      if (from == NULL)
        continue;
      json_t *to = json_object_get (acc, tops[t]);
      if (to == NULL)
        {
          json_object_set_new (acc, tops[t], json_object ());
          to = json_object_get (acc, tops[t]);
        }
      const char *k;
      json_t *v;
      json_object_foreach (from, k, v)
      {
        json_t *old = json_object_get (to, k);
        if (old && !json_equal (old, v))
          {
            json_decref (model);
            return nook_error_set (err, 0, "imported compose file %s defines conflicting %s \"%s\"",
                                   first, tops[t], k);
          }
        json_object_set (to, k, v);
      }
    }
  json_decref (model);
  return 0;
}

static json_t *
load_file (struct ctx *c, const char *path, const char *content, const char *label, int depth,
           nook_error_t *err)
{
  if (depth > MAX_INCLUDE_DEPTH || (path && strv_contains (c->include_stack, path)))
    {
      nook_error_set (err, 0, "include cycle detected: %s", path ? path : label);
      return NULL;
    }
  cleanup_free char *text = content ? xstrdup (content) : read_text (path, err);
  if (text == NULL)
    return NULL;
  json_t *positions = NULL;
  json_t *doc = parse_docs (text, label, &positions, err);
  if (doc == NULL)
    {
      json_decref (positions);
      return NULL;
    }
  const char *segs[MAX_SEGS];
  const char *k;
  json_t *v, *inc;
  /* a service left empty (`nil:`) is an empty mapping, as compose-go reads it */
  json_object_foreach (json_object_get (doc, "services"), k, v)
  {
    if (json_is_null (v))
      json_object_set_new (json_object_get (doc, "services"), k, json_object ());
  }
  cleanup_free char *dir = path && strcmp (path, "-") != 0 ? dir_of (path) : xstrdup (c->workdir);
  c->label = label;
  c->positions = positions;
  if (!c->o->no_interpolate && interp_tree (c, doc, segs, 0, err) < 0)
    goto fail;
  json_array_append_new (c->sources,
                         json_pack ("[sO]", label, positions ? positions : json_null ()));
  if (json_object_get (doc, "version"))
    {
      warn (c,
            "%s: the attribute `version` is obsolete, it will be ignored, please remove it to "
            "avoid potential confusion",
            label);
      json_object_del (doc, "version");
    }
  /* extends.file is relative to the file that names it */
  json_object_foreach (json_object_get (doc, "services"), k, v)
  {
    json_t *ext = json_object_get (v, "extends");
    const char *f = json_string_value (json_object_get (ext, "file"));
    if (f && f[0] != '/')
      {
        cleanup_free char *abs = compose_path_join (dir, f, c->env);
        json_object_set_new (ext, "file", json_string (abs));
      }
  }
  inc = json_object_get (doc, "include");
  if (inc)
    {
      json_t *acc = json_object ();
      if (path)
        strv_push (&c->include_stack, path);
      size_t i;
      json_t *e;
      int r = 0;
      json_array_foreach (inc, i, e)
      {
        if ((r = include_one (c, e, dir, acc, depth, err)) < 0)
          break;
      }
      if (path)
        {
          size_t n = strv_len (c->include_stack);
          free (c->include_stack[n - 1]);
          c->include_stack[n - 1] = NULL;
        }
      if (r < 0)
        {
          json_decref (acc);
          goto fail;
        }
      json_object_del (doc, "include");
      json_t *m = compose_merge (acc, doc);
      json_decref (acc);
      json_decref (doc);
      doc = m;
    }
  if (path && strcmp (path, "-") != 0 && !strv_contains (c->config_files, path))
    strv_push (&c->config_files, path);
  json_decref (positions);
  return doc;
fail:
  json_decref (positions);
  json_decref (doc);
  return NULL;
}

/* ---- extends ---------------------------------------------------------------------------- */

static int
resolve_extends (struct ctx *c, json_t *services, const char *name, char ***stack, int depth,
                 nook_error_t *err)
{
  json_t *svc = json_object_get (services, name);
  json_t *inner;
  if (compose_tag_of (svc, &inner))
    svc = inner;
  json_t *ext = json_object_get (svc, "extends");
  if (ext == NULL)
    return 0;
  if (depth > 32 || strv_contains (*stack, name))
    return nook_error_set (err, 0, "circular reference with extends: service \"%s\"", name);
  const char *base_name = json_is_string (ext)
                              ? json_string_value (ext)
                              : json_string_value (json_object_get (ext, "service"));
  if (base_name == NULL)
    return nook_error_set (err, 0, "extends.%s.service is required", name);
  const char *file = json_string_value (json_object_get (ext, "file"));
  json_t *base = NULL;
  strv_push (stack, name);
  int r = 0;
  if (file)
    {
      json_t *other = load_file (c, file, NULL, file, 0, err);
      if (other && !c->o->no_validate
          && compose_schema_validate (compose_schema (), other, c->sources, err) < 0)
        {
          json_decref (other);
          other = NULL;
        }
      if (other == NULL)
        r = -1;
      else
        {
          json_t *osvcs = json_object_get (other, "services");
          char **ostack = NULL;
          if (json_object_get (osvcs, base_name) == NULL)
            r = nook_error_set (err, 0,
                                "cannot extend service \"%s\" in %s: service \"%s\" not found",
                                name, file, base_name);
          else if ((r = resolve_extends (c, osvcs, base_name, &ostack, depth + 1, err)) == 0)
            {
              base = json_deep_copy (json_object_get (osvcs, base_name));
              cleanup_free char *odir = dir_of (file);
              if (json_is_null (base))
                {
                  json_decref (base);
                  base = json_object ();
                }
              compose_resolve_service_paths (base, odir, c->env);
            }
          strv_free (ostack);
          json_decref (other);
        }
    }
  else
    {
      if (json_object_get (services, base_name) == NULL)
        r = nook_error_set (err, 0, "cannot extend service \"%s\": service \"%s\" not found", name,
                            base_name);
      else if (strcmp (base_name, name) == 0 || strv_contains (*stack, base_name))
        r = nook_error_set (err, 0,
                            "circular reference with extends: service \"%s\" extends \"%s\"", name,
                            base_name);
      else if ((r = resolve_extends (c, services, base_name, stack, depth + 1, err)) == 0)
        {
          base = json_deep_copy (json_object_get (services, base_name));
          if (json_is_null (base))
            {
              json_decref (base);
              base = json_object ();
            }
        }
    }
  size_t n = strv_len (*stack);
  free ((*stack)[n - 1]);
  (*stack)[n - 1] = NULL;
  if (r < 0)
    return -1;
  json_t *own = json_deep_copy (svc);
  json_object_del (own, "extends");
  json_object_del (base, "extends");
  const char *segs[2] = { "services", name };
  json_t *merged = compose_merge_at (base, own, segs, 2);
  json_decref (base);
  json_decref (own);
  json_object_set_new (services, name, merged);
  return 0;
}

/* ---- project ---------------------------------------------------------------------------- */

bool
compose_project_name_valid (const char *name)
{
  if (!name || !(islower ((unsigned char)name[0]) || isdigit ((unsigned char)name[0])))
    return false;
  for (const char *p = name; *p; p++)
    if (!(islower ((unsigned char)*p) || isdigit ((unsigned char)*p) || *p == '-' || *p == '_'))
      return false;
  return true;
}

char *
compose_project_name_normalize (const char *name)
{
  struct strbuf b = { 0 };
  strbuf_append (&b, "");
  for (const char *p = name; *p; p++)
    {
      char ch = (char)tolower ((unsigned char)*p);
      if (islower ((unsigned char)ch) || isdigit ((unsigned char)ch)
          || ((ch == '-' || ch == '_') && b.len))
        strbuf_appendc (&b, ch);
    }
  return strbuf_steal (&b);
}

static const char *const discovery[]
    = { "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml" };
static const char *const overrides[]
    = { "compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
        "docker-compose.override.yml" };

/* Find the files in dir or its parents: the first name found, then its override. */
static int
discover (struct ctx *c, const char *cwd, char ***files, nook_error_t *err)
{
  cleanup_free char *dir = xstrdup (cwd);
  for (;;)
    {
      const char *found = NULL;
      for (size_t i = 0; i < ARRAY_SIZE (discovery); i++)
        {
          cleanup_free char *p = compose_path_join (dir, discovery[i], NULL);
          if (access (p, F_OK) == 0)
            {
              if (found)
                {
                  warn (c, "Found multiple config files with supported names: %s/%s, %s\nUsing %s",
                        dir, found, p, found);
                  break;
                }
              found = discovery[i];
              strv_push (files, p);
            }
        }
      if (found)
        {
          for (size_t i = 0; i < ARRAY_SIZE (overrides); i++)
            {
              cleanup_free char *p = compose_path_join (dir, overrides[i], NULL);
              if (access (p, F_OK) == 0)
                {
                  strv_push (files, p);
                  break;
                }
            }
          return 0;
        }
      if (strcmp (dir, "/") == 0)
        break;
      char *slash = strrchr (dir, '/');
      if (slash == dir)
        dir[1] = '\0';
      else
        *slash = '\0';
    }
  return nook_error_set (err, 0, "no configuration file provided: not found");
}

static void
add_warnings_for_drivers (struct ctx *c, json_t *model)
{
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (model, "networks"), k, v)
  {
    const char *d = json_string_value (json_object_get (v, "driver"));
    if (d && strcmp (d, "bridge") != 0 && strcmp (d, "default") != 0)
      warn (c, "networks.%s.driver: not enforced: nook's user networks are bridges, not %s", k, d);
  }
  json_object_foreach (json_object_get (model, "volumes"), k, v)
  {
    const char *d = json_string_value (json_object_get (v, "driver"));
    if (d && strcmp (d, "local") != 0)
      warn (c, "volumes.%s.driver: not enforced: nook's volumes are local, not %s", k, d);
  }
}

static void
add_warnings_for_unsupported (struct ctx *c, json_t *model)
{
  add_warnings_for_drivers (c, model);
  /* Keys the schema allows but nook cannot honour here: accepted, one warning each. */
  static const char *const keys[][2] = {
    { "mem_limit", "memory limits need cgroups, which are not delegated to this user" },
    { "memswap_limit", "memory limits need cgroups, which are not delegated to this user" },
    { "mem_reservation", "memory limits need cgroups, which are not delegated to this user" },
    { "mem_swappiness", "memory limits need cgroups, which are not delegated to this user" },
    { "cpus", "CPU limits need cgroups, which are not delegated to this user" },
    { "cpu_shares", "CPU limits need cgroups, which are not delegated to this user" },
    { "cpu_quota", "CPU limits need cgroups, which are not delegated to this user" },
    { "cpu_period", "CPU limits need cgroups, which are not delegated to this user" },
    { "cpu_count", "CPU limits need cgroups, which are not delegated to this user" },
    { "cpu_percent", "CPU limits need cgroups, which are not delegated to this user" },
    { "cpu_rt_period", "CPU limits need cgroups, which are not delegated to this user" },
    { "cpu_rt_runtime", "CPU limits need cgroups, which are not delegated to this user" },
    { "cpuset", "CPU limits need cgroups, which are not delegated to this user" },
    { "blkio_config", "I/O limits need cgroups, which are not delegated to this user" },
    { "pids_limit", "process limits need cgroups, which are not delegated to this user" },
    { "oom_kill_disable", "the OOM killer's settings need cgroups" },
    { "oom_score_adj", "a user cannot lower the OOM score of its processes" },
    { "cgroup", "cgroups are not delegated to this user" },
    { "cgroup_parent", "cgroups are not delegated to this user" },
    { "device_cgroup_rules", "cgroups are not delegated to this user" },
    { "devices", "a user namespace cannot create device nodes" },
    { "gpus", "no GPU support" },
    { "runtime", "nook is its own runtime" },
    { "isolation", "only Linux namespaces" },
    { "storage_opt", "no storage options" },
    { "userns_mode", "every container has its own user namespace" },
    { "mac_address", "user-mode networks choose their own addresses" },
    { "shm_size", "/dev/shm has its default size" },
  };
  const char *name;
  json_t *svc;
  json_object_foreach (json_object_get (model, "services"), name, svc)
  {
    for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
      if (json_object_get (svc, keys[i][0]))
        warn (c, "services.%s.%s: not enforced: %s", name, keys[i][0], keys[i][1]);
    const char *drv
        = json_string_value (json_object_get (json_object_get (svc, "logging"), "driver"));
    if (drv && strcmp (drv, "json-file") != 0 && strcmp (drv, "none") != 0
        && strcmp (drv, "local") != 0)
      warn (
          c,
          "services.%s.logging.driver: not enforced: nook writes json-file logs (or none), not %s",
          name, drv);
    if (json_object_get (svc, "provider"))
      warn (c, "services.%s.provider: not enforced: nook runs no provider plugins", name);
    if (json_object_get (json_object_get (json_object_get (svc, "deploy"), "resources"), "limits")
        || json_object_get (json_object_get (json_object_get (svc, "deploy"), "resources"),
                            "reservations"))
      warn (c,
            "services.%s.deploy.resources: not enforced: resource limits need cgroups, which are "
            "not delegated to this user",
            name);
  }
}

static json_t *
env_files_values (const char *cwd, const struct compose_options *o, const char *project_dir,
                  nook_error_t *err)
{
  json_t *vals = json_object ();
  if (o->env_files)
    {
      for (char **e = o->env_files; *e; e++)
        {
          cleanup_free char *p
              = compose_path_join (cwd, *e, NULL); /* --env-file: from where nook runs */
          if (compose_dotenv_read (p, o->environ, vals, err) < 0)
            {
              json_decref (vals);
              return NULL;
            }
        }
      return vals;
    }
  cleanup_free char *p = compose_path_join (project_dir, ".env", NULL);
  struct stat st;
  if (stat (p, &st) == 0 && S_ISREG (st.st_mode)
      && compose_dotenv_read (p, o->environ, vals, err) < 0)
    {
      json_decref (vals);
      return NULL;
    }
  return vals;
}

static int
cmp_key (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* The mapping at o[key] with its keys in order (Go's maps are written sorted). */
static void
sort_keys (json_t *o, const char *key)
{
  json_t *m = key ? json_object_get (o, key) : o;
  if (!json_is_object (m) || json_object_size (m) < 2)
    return;
  const char **keys = xzalloc ((json_object_size (m) + 1) * sizeof *keys);
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach (m, k, v) { keys[n++] = k; }
  qsort (keys, n, sizeof *keys, cmp_key);
  json_t *sorted = json_object ();
  for (size_t i = 0; i < n; i++)
    json_object_set (sorted, keys[i], json_object_get (m, keys[i]));
  free (keys);
  if (key)
    json_object_set_new (o, key, sorted);
  else
    {
      json_object_clear (m);
      json_object_update (m, sorted);
      json_decref (sorted);
    }
}

static json_t *
reorder (json_t *model, const char *name)
{
  json_t *out = json_object ();
  json_object_set_new (out, "name", json_string (name));
  static const char *const first[] = { "services", "networks", "volumes", "secrets", "configs" };
  for (size_t i = 0; i < ARRAY_SIZE (first); i++)
    {
      sort_keys (model, first[i]);
      if (json_object_get (model, first[i]))
        json_object_set (out, first[i], json_object_get (model, first[i]));
    }
  static const char *const maps[] = { "environment", "labels",   "annotations", "sysctls",
                                      "depends_on",  "networks", "ulimits",     "extra_hosts" };
  const char *sk;
  json_t *svc;
  json_object_foreach (json_object_get (model, "services"), sk, svc)
  {
    for (size_t i = 0; i < ARRAY_SIZE (maps); i++)
      sort_keys (svc, maps[i]);
    sort_keys (json_object_get (svc, "build"), "args");
    sort_keys (json_object_get (svc, "build"), "labels");
    sort_keys (json_object_get (svc, "logging"), "options");
    sort_keys (json_object_get (svc, "deploy"), "labels");
  }
  const char *k;
  json_t *v;
  json_object_foreach (model, k, v)
  {
    if (!json_object_get (out, k))
      json_object_set (out, k, v);
  }
  return out;
}

static int
apply_profiles (struct ctx *c, const struct compose_options *o, json_t *model, json_t *all)
{
  char **active = NULL;
  if (o->profiles)
    active = strv_dup (o->profiles);
  else
    {
      const char *cp = json_string_value (json_object_get (c->env, "COMPOSE_PROFILES"));
      if (cp)
        {
          cleanup_free char *s = xstrdup (cp);
          char *save = NULL;
          for (char *t = strtok_r (s, ",", &save); t; t = strtok_r (NULL, ",", &save))
            strv_push (&active, t);
        }
    }
  json_t *services = json_object_get (model, "services");
  const char *name;
  json_t *svc;
  void *tmp;
  /* services named on the command line are on, and what they depend on */
  json_t *wanted = json_object ();
  for (char **t = o->services; t && *t; t++)
    json_object_set_new (wanted, *t, json_true ());
  for (bool grew = true; grew;)
    {
      grew = false;
      json_t *x;
      json_object_foreach (wanted, name, x)
      {
        json_t *deps = json_object_get (json_object_get (services, name), "depends_on");
        json_t *dep_names = json_is_array (deps) ? json_incref (deps) : json_array ();
        const char *d;
        json_t *y;
        json_object_foreach (deps, d, y) { json_array_append_new (dep_names, json_string (d)); }
        size_t i;
        json_array_foreach (dep_names, i, y)
        {
          const char *dn = json_string_value (y);
          if (dn && !json_object_get (wanted, dn))
            {
              json_object_set_new (wanted, dn, json_true ());
              grew = true;
            }
        }
        json_decref (dep_names);
        if (grew)
          break; /* the object changed: walk it again */
      }
    }
  json_object_foreach_safe (services, tmp, name, svc)
  {
    json_t *profs = json_object_get (svc, "profiles");
    if (json_array_size (profs) == 0)
      continue;
    bool on
        = o->all_profiles || strv_contains (active, "*") || json_object_get (wanted, name) != NULL;
    size_t i;
    json_t *p;
    json_array_foreach (profs, i, p)
    {
      json_object_set_new (all, json_string_value (p) ?: "", json_true ());
      if (strv_contains (active, json_string_value (p) ?: ""))
        on = true;
    }
    if (!on)
      json_object_del (services, name);
  }
  json_decref (wanted);
  strv_free (active);
  return 0;
}

/* The files to load: -f, COMPOSE_FILE, or discovery (absolute paths, or "-"). */
static int
project_files (struct ctx *c, const struct compose_options *o, const char *cwd, json_t *environ0,
               char ***paths, const char ***contents, int *n, nook_error_t *err)
{
  if (o->n_files > 0)
    {
      *contents = xzalloc (((size_t)o->n_files + 1) * sizeof **contents);
      for (int i = 0; i < o->n_files; i++)
        {
          const char *f = o->files[i].path ? o->files[i].path : "";
          if (strcmp (f, "-") == 0 || o->files[i].content)
            strv_push (paths, *f ? f : "-");
          else
            strv_push_take (paths, compose_path_join (cwd, f, NULL));
          (*contents)[i] = o->files[i].content;
        }
      *n = o->n_files;
      return 0;
    }
  const char *cf = json_string_value (json_object_get (environ0, "COMPOSE_FILE"));
  json_t *dotenv = NULL;
  if (cf == NULL && o->env_files == NULL)
    {
      /* COMPOSE_FILE may come from the .env of the working (or project) directory */
      cleanup_free char *p
          = compose_path_join (o->project_dir ? o->project_dir : cwd, ".env", NULL);
      nook_error_t e = NULL;
      dotenv = json_object ();
      if (access (p, F_OK) == 0 && compose_dotenv_read (p, environ0, dotenv, &e) < 0)
        nook_error_free (&e); /* read again, and reported, as the project's */
      cf = json_string_value (json_object_get (dotenv, "COMPOSE_FILE"));
    }
  if (cf && *cf)
    {
      const char *sep = json_string_value (json_object_get (environ0, "COMPOSE_PATH_SEPARATOR"));
      cleanup_free char *s = xstrdup (cf);
      char *save = NULL;
      if (sep == NULL || *sep == '\0')
        sep = ":";
      for (char *t = strtok_r (s, sep, &save); t; t = strtok_r (NULL, sep, &save))
        strv_push_take (paths, compose_path_join (cwd, t, NULL));
    }
  else if (discover (c, cwd, paths, err) < 0)
    {
      json_decref (dotenv);
      return -1;
    }
  json_decref (dotenv);
  *n = (int)strv_len (*paths);
  *contents = xzalloc (((size_t)*n + 1) * sizeof **contents);
  return 0;
}

/* `-f -`: stdin read once, its text used as inline content. */
static int
read_stdin_once (struct ctx *c, char **paths, const char **contents, int n, nook_error_t *err)
{
  for (int i = 0; i < n; i++)
    if (contents[i] == NULL && strcmp (paths[i], "-") == 0)
      {
        if (c->stdin_text == NULL && (c->stdin_text = read_text ("-", err)) == NULL)
          return -1;
        contents[i] = c->stdin_text;
      }
  return 0;
}

static int
name_error (const char *name, nook_error_t *err)
{
  return nook_error_set (
      err, 0,
      "invalid project name \"%s\": must consist only of lowercase alphanumeric characters, "
      "hyphens, and underscores as well as start with a letter or number",
      name);
}

/* -p, COMPOSE_PROJECT_NAME, the last `name` of the files, or the directory's name. */
static char *
project_name (struct ctx *c, const struct compose_options *o, char **paths, const char **contents,
              int n, nook_error_t *err)
{
  const char *envname = json_string_value (json_object_get (c->env, "COMPOSE_PROJECT_NAME"));
  if (o->project_name)
    {
      if (!compose_project_name_valid (o->project_name))
        {
          name_error (o->project_name, err);
          return NULL;
        }
      return xstrdup (o->project_name);
    }
  if (envname && *envname)
    {
      if (!compose_project_name_valid (envname))
        {
          name_error (envname, err);
          return NULL;
        }
      return xstrdup (envname);
    }
  char *name = NULL;
  for (int i = 0; i < n; i++)
    {
      cleanup_free char *text = contents[i] ? xstrdup (contents[i]) : read_text (paths[i], err);
      json_t *docs = text ? compose_yaml_parse (text, strlen (text), paths[i], NULL, err) : NULL;
      if (docs == NULL)
        {
          free (name);
          return NULL;
        }
      size_t j;
      json_t *d;
      json_array_foreach (docs, j, d)
      {
        const char *nm = json_string_value (json_object_get (d, "name"));
        if (nm == NULL)
          continue;
        char *x = o->no_interpolate
                      ? xstrdup (nm)
                      : compose_interpolate (nm, compose_lookup_json, c->env, NULL, err);
        if (x == NULL)
          {
            json_decref (docs);
            free (name);
            return NULL;
          }
        free (name);
        name = x;
      }
      json_decref (docs);
    }
  if (name && !compose_project_name_valid (name))
    {
      name_error (name, err);
      free (name);
      return NULL;
    }
  if (name == NULL)
    {
      cleanup_free char *base = xstrdup (c->workdir);
      name = compose_project_name_normalize (basename (base));
      if (*name == '\0')
        {
          free (name);
          nook_error_set (err, 0,
                          "project name must not be empty: name the project with -p or `name:`");
          return NULL;
        }
    }
  return name;
}

static json_t *
load_all (struct ctx *c, const struct compose_options *o, char **paths, const char **contents,
          int n, nook_error_t *err)
{
  json_t *model = NULL;
  for (int i = 0; i < n; i++)
    {
      bool inl = contents[i] != NULL;
      const char *label = o->n_files > 0 && o->files[i].content
                              ? (o->files[i].path ? o->files[i].path : "(inline)")
                              : paths[i];
      json_t *m = load_file (c, inl ? NULL : paths[i], contents[i], label, 0, err);
      if (m == NULL)
        {
          json_decref (model);
          return NULL;
        }
      if (model == NULL)
        model = m;
      else
        {
          json_t *mm = compose_merge (model, m);
          json_decref (model);
          json_decref (m);
          model = mm;
        }
    }
  compose_unicity (model); /* as compose-go merges even one file into an empty model */
  if (!o->no_validate && compose_schema_validate (compose_schema (), model, c->sources, err) < 0)
    {
      json_decref (model);
      return NULL;
    }
  json_t *services = json_object_get (model, "services");
  const char *k;
  json_t *v;
  json_object_foreach (services, k, v)
  {
    char **stack = NULL;
    int e = resolve_extends (c, services, k, &stack, 0, err);
    strv_free (stack);
    if (e < 0)
      {
        json_decref (model);
        return NULL;
      }
  }
  compose_tags_strip (model);
  compose_unicity (model);
  json_object_del (model, "name");
  return model;
}

static int
finish (struct ctx *c, const struct compose_options *o, json_t *model, struct compose_project *p,
        nook_error_t *err)
{
  p->all_profiles = json_object ();
  if (apply_profiles (c, o, model, p->all_profiles) < 0)
    return -1;
  if (!o->no_resolve_paths)
    compose_resolve_paths (model, c->workdir, c->env);
  if (compose_canonical (model, c->env, c->workdir, o->discard_env_files, err) < 0)
    {
      /* "services.web.ports[0]: ...": say where that is */
      const char *msg = (*err)->msg;
      const char *colon = strstr (msg, ": ");
      if (str_has_prefix (msg, "services.") && colon)
        {
          cleanup_free char *path = xstrndup (msg, (size_t)(colon - msg));
          const char *name;
          int line, col;
          compose_sources_locate (c->sources, path, &name, &line, &col);
          if (line)
            nook_error_wrap (err, "%s:%d:%d", name, line, col);
        }
      return -1;
    }
  if (!o->no_normalize)
    compose_defaults (model, p->name);
  if (!o->no_consistency && compose_consistency (model, err) < 0)
    return -1;
  add_warnings_for_unsupported (c, model);
  p->model = reorder (model, p->name);
  json_t *arr = json_array ();
  const char *k;
  json_t *v;
  json_object_foreach (p->all_profiles, k, v) { json_array_append_new (arr, json_string (k)); }
  json_decref (p->all_profiles);
  p->all_profiles = arr;
  return 0;
}

int
compose_load (const struct compose_options *o, struct compose_project *p, nook_error_t *err)
{
  struct ctx c = { .o = o, .sources = json_array () };
  memset (p, 0, sizeof *p);
  cleanup_free char *cwd = o->cwd ? xstrdup (o->cwd) : getcwd (NULL, 0);
  json_t *environ0 = o->environ ? json_incref (o->environ) : json_object ();
  char **paths = NULL;
  const char **contents = NULL;
  json_t *model = NULL;
  int n = 0, r = -1;
  if (cwd == NULL)
    {
      nook_error_set (err, errno, "getcwd");
      goto out;
    }
  if (project_files (&c, o, cwd, environ0, &paths, &contents, &n, err) < 0
      || read_stdin_once (&c, paths, contents, n, err) < 0)
    goto out;
  if (n == 0)
    {
      nook_error_set (err, 0, "no configuration file provided: not found");
      goto out;
    }
  if (o->project_dir)
    c.workdir = compose_path_join (cwd, o->project_dir, NULL);
  else if (strcmp (paths[0], "-") == 0 || paths[0][0] != '/')
    c.workdir = xstrdup (cwd);
  else
    c.workdir = dir_of (paths[0]);
  /* the variables: the environment over the env files */
  if ((c.env = env_files_values (cwd, o, c.workdir, err)) == NULL)
    goto out;
  json_object_update (c.env, environ0);
  if ((p->name = project_name (&c, o, paths, contents, n, err)) == NULL)
    goto out;
  json_object_set_new (c.env, "COMPOSE_PROJECT_NAME", json_string (p->name));
  if ((model = load_all (&c, o, paths, contents, n, err)) == NULL)
    goto out;
  if (finish (&c, o, model, p, err) < 0)
    goto out;
  p->working_dir = steal_pointer (&c.workdir);
  p->environment = json_incref (c.env);
  p->config_files = steal_pointer (&c.config_files);
  r = 0;
out:
  p->warnings = steal_pointer (&c.warnings);
  json_decref (model);
  json_decref (c.env);
  json_decref (environ0);
  free (c.workdir);
  strv_free (c.config_files);
  strv_free (c.include_stack);
  json_decref (c.sources);
  free (c.stdin_text);
  strv_free (paths);
  free (contents);
  if (r < 0)
    {
      char **w = p->warnings;
      p->warnings = NULL;
      compose_project_free (p);
      p->warnings = w;
    }
  return r;
}

void
compose_project_free (struct compose_project *p)
{
  json_decref (p->model);
  free (p->name);
  free (p->working_dir);
  json_decref (p->environment);
  json_decref (p->all_profiles);
  strv_free (p->config_files);
  strv_free (p->warnings);
  memset (p, 0, sizeof *p);
}

int
compose_extends_local (json_t *model, nook_error_t *err)
{
  struct compose_options o = { .no_validate = true };
  struct ctx c = { .o = &o, .sources = json_array (), .env = json_object () };
  json_t *services = json_object_get (model, "services");
  const char *k;
  json_t *v;
  int r = 0;
  json_object_foreach (services, k, v)
  {
    char **stack = NULL;
    r = resolve_extends (&c, services, k, &stack, 0, err);
    strv_free (stack);
    if (r < 0)
      break;
  }
  json_decref (c.sources);
  json_decref (c.env);
  strv_free (c.warnings);
  return r;
}
