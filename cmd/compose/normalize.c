/* cmd/compose/normalize.c: the canonical model. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/compose/interp.h"
#include "cmd/compose/model.h"
#include "cmd/compose/normalize.h"
#include "util/cleanup.h"
#include "util/util.h"

/* ---- paths ------------------------------------------------------------------------------ */

char *
compose_path_join (const char *dir, const char *path, json_t *env)
{
  struct strbuf b = { 0 };
  if (path[0] == '~' && (path[1] == '/' || path[1] == '\0'))
    {
      const char *home = env ? json_string_value (json_object_get (env, "HOME")) : NULL;
      if (home == NULL)
        home = getenv ("HOME");
      strbuf_append (&b, home ? home : "/");
      strbuf_append (&b, "/");
      strbuf_append (&b, path + 1);
    }
  else if (path[0] == '/')
    strbuf_append (&b, path);
  else
    strbuf_appendf (&b, "%s/%s", dir, path);
  /* clean: split on '/', drop "." and "", pop on ".." */
  cleanup_free char *raw = strbuf_steal (&b);
  char **parts = NULL;
  char *save = NULL;
  for (char *tok = strtok_r (raw, "/", &save); tok; tok = strtok_r (NULL, "/", &save))
    {
      if (strcmp (tok, ".") == 0)
        continue;
      if (strcmp (tok, "..") == 0)
        {
          size_t n = strv_len (parts);
          if (n)
            {
              free (parts[n - 1]);
              parts[n - 1] = NULL;
            }
          continue;
        }
      strv_push (&parts, tok);
    }
  for (size_t i = 0; parts && parts[i]; i++)
    strbuf_appendf (&b, "/%s", parts[i]);
  strv_free (parts);
  if (b.len == 0)
    strbuf_append (&b, "/");
  return strbuf_steal (&b);
}

static bool
is_remote_context (const char *s)
{
  return strstr (s, "://") || str_has_prefix (s, "git@") || str_has_prefix (s, "github.com/");
}

static void
set_path (json_t *obj, const char *key, const char *dir, json_t *env)
{
  const char *s = json_string_value (json_object_get (obj, key));
  if (s == NULL || s[0] == '/')
    return;
  cleanup_free char *p = compose_path_join (dir, s, env);
  json_object_set_new (obj, key, json_string (p));
}

static void
set_path_item (json_t *arr, size_t i, const char *dir, json_t *env)
{
  const char *s = json_string_value (json_array_get (arr, i));
  if (s == NULL || s[0] == '/')
    return;
  cleanup_free char *p = compose_path_join (dir, s, env);
  json_array_set_new (arr, i, json_string (p));
}

static bool
looks_like_path (const char *s)
{
  return s[0] == '.' || s[0] == '/' || s[0] == '~';
}

void
compose_resolve_service_paths (json_t *svc, const char *dir, json_t *env)
{
  json_t *build = json_object_get (svc, "build");
  if (json_is_string (build))
    {
      if (!is_remote_context (json_string_value (build)))
        {
          cleanup_free char *p = compose_path_join (dir, json_string_value (build), env);
          json_object_set_new (svc, "build", json_string (p));
        }
    }
  else if (json_is_object (build))
    {
      const char *ctx = json_string_value (json_object_get (build, "context"));
      if (ctx == NULL)
        json_object_set_new (build, "context", json_string (dir));
      else if (!is_remote_context (ctx))
        set_path (build, "context", dir, env);
      json_t *ac = json_object_get (build, "additional_contexts");
      const char *k;
      json_t *v;
      json_object_foreach (ac, k, v)
      {
        if (json_is_string (v) && !is_remote_context (json_string_value (v))
            && !strstr (json_string_value (v), ":"))
          set_path (ac, k, dir, env);
      }
    }
  json_t *ef = json_object_get (svc, "env_file");
  if (json_is_string (ef))
    set_path (svc, "env_file", dir, env);
  else if (json_is_array (ef))
    {
      size_t i;
      json_t *x;
      json_array_foreach (ef, i, x)
      {
        if (json_is_string (x))
          set_path_item (ef, i, dir, env);
        else
          set_path (x, "path", dir, env);
      }
    }
  json_t *lf = json_object_get (svc, "label_file");
  if (json_is_string (lf))
    set_path (svc, "label_file", dir, env);
  else if (json_is_array (lf))
    for (size_t i = 0; i < json_array_size (lf); i++)
      set_path_item (lf, i, dir, env);
  json_t *vols = json_object_get (svc, "volumes");
  size_t i;
  json_t *x;
  json_array_foreach (vols, i, x)
  {
    if (json_is_object (x))
      {
        const char *type = json_string_value (json_object_get (x, "type"));
        const char *src = json_string_value (json_object_get (x, "source"));
        if (type && strcmp (type, "bind") == 0 && src)
          set_path (x, "source", dir, env);
        continue;
      }
    const char *s = json_string_value (x);
    if (s == NULL || !looks_like_path (s) || s[0] == '/')
      continue;
    const char *colon = strchr (s, ':');
    if (colon == NULL)
      continue; /* a container path alone */
    cleanup_free char *src = strndup (s, (size_t)(colon - s));
    cleanup_free char *abs = compose_path_join (dir, src, env);
    cleanup_free char *nv = NULL;
    if (asprintf (&nv, "%s%s", abs, colon) < 0)
      abort ();
    json_array_set_new (vols, i, json_string (nv));
  }
  json_t *watch = json_object_get (json_object_get (svc, "develop"), "watch");
  json_array_foreach (watch, i, x) { set_path (x, "path", dir, env); }
  json_t *ext = json_object_get (svc, "extends");
  if (json_is_object (ext))
    set_path (ext, "file", dir, env);
}

void
compose_resolve_paths (json_t *model, const char *dir, json_t *env)
{
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (model, "services"), k, v)
  {
    if (json_is_object (v))
      compose_resolve_service_paths (v, dir, env);
  }
  static const char *const tops[] = { "secrets", "configs" };
  for (size_t t = 0; t < ARRAY_SIZE (tops); t++)
    json_object_foreach (json_object_get (model, tops[t]), k, v) { set_path (v, "file", dir, env); }
}

/* ---- command lines ----------------------------------------------------------------------- */

json_t *
compose_split_command (const char *s, nook_error_t *err)
{
  json_t *out = json_array ();
  const char *p = s;
  for (;;)
    {
      while (*p && isspace ((unsigned char)*p))
        p++;
      if (*p == '\0')
        break;
      if (*p == '#')
        break; /* a comment, as shlex reads it */
      struct strbuf w = { 0 };
      strbuf_append (&w, "");
      while (*p && !isspace ((unsigned char)*p))
        {
          if (*p == '\'')
            {
              const char *e = strchr (p + 1, '\'');
              if (e == NULL)
                goto unterminated;
              strbuf_appendn (&w, p + 1, (size_t)(e - p - 1));
              p = e + 1;
            }
          else if (*p == '"')
            {
              p++;
              while (*p && *p != '"')
                {
                  if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`'))
                    p++;
                  strbuf_appendc (&w, *p++);
                }
              if (*p != '"')
                goto unterminated;
              p++;
            }
          else if (*p == '\\' && p[1])
            {
              strbuf_appendc (&w, p[1]);
              p += 2;
            }
          else
            strbuf_appendc (&w, *p++);
          continue;
        unterminated:
          strbuf_free (&w);
          json_decref (out);
          nook_error_set (err, 0, "invalid command line %s: unterminated quote", s);
          return NULL;
        }
      cleanup_free char *word = strbuf_steal (&w);
      json_array_append_new (out, json_string (word));
    }
  return out;
}

/* ---- ports and volumes ------------------------------------------------------------------ */

static int
parse_range (const char *s, long *lo, long *hi)
{
  char *end;
  errno = 0;
  *lo = strtol (s, &end, 10);
  if (end == s || errno)
    return -1;
  *hi = *lo;
  if (*end == '-')
    {
      const char *h = end + 1;
      *hi = strtol (h, &end, 10);
      if (end == h || errno || *hi < *lo)
        return -1;
    }
  return *end == '\0' && *lo >= 0 && *hi <= 65535 ? 0 : -1;
}

int
compose_port_parse (const char *spec, json_t *out, nook_error_t *err)
{
  cleanup_free char *s = xstrdup (spec);
  const char *proto = "tcp";
  char *slash = strrchr (s, '/');
  if (slash)
    {
      *slash = '\0';
      proto = slash + 1;
    }
  const char *ip = NULL, *pub = NULL, *tgt = s;
  char *rest = s;
  if (rest[0] == '[')
    {
      char *rb = strchr (rest, ']');
      if (rb == NULL || rb[1] != ':')
        return nook_error_set (err, 0, "invalid port %s", spec);
      *rb = '\0';
      ip = rest + 1;
      rest = rb + 2;
    }
  char *last = strrchr (rest, ':');
  if (last)
    {
      *last = '\0';
      tgt = last + 1;
      char *mid = strrchr (rest, ':');
      if (mid && ip == NULL)
        {
          *mid = '\0';
          ip = rest;
          pub = mid + 1;
        }
      else if (ip == NULL && strchr (rest, '.') && !strchr (rest, '-'))
        {
          /* "IP:PORT" would be ambiguous with "HOST:CONTAINER": Compose reads the last as
           * the container port and the first as the published one. */
          pub = rest;
        }
      else
        pub = rest;
    }
  else
    tgt = rest;
  long tlo, thi, plo = 0, phi = 0;
  if (parse_range (tgt, &tlo, &thi) < 0)
    return nook_error_set (err, 0, "invalid containerPort: %s", tgt);
  bool has_pub = pub && *pub;
  if (has_pub && parse_range (pub, &plo, &phi) < 0)
    return nook_error_set (err, 0, "invalid hostPort: %s", pub);
  long n = thi - tlo + 1;
  if (has_pub && phi - plo + 1 != n && thi != tlo)
    return nook_error_set (
        err, 0, "invalid ranges specified for container and host Ports: %s and %s", tgt, pub);
  for (long i = 0; i < n; i++)
    {
      json_t *p = json_object ();
      json_object_set_new (p, "mode", json_string ("ingress"));
      if (ip && *ip)
        json_object_set_new (p, "host_ip", json_string (ip));
      json_object_set_new (p, "target", json_integer (tlo + i));
      if (has_pub)
        {
          char buf[32];
          if (n == 1 && phi != plo)
            snprintf (buf, sizeof buf, "%ld-%ld", plo, phi);
          else
            snprintf (buf, sizeof buf, "%ld", plo + i);
          json_object_set_new (p, "published", json_string (buf));
        }
      json_object_set_new (p, "protocol", json_string (proto));
      json_array_append_new (out, p);
    }
  return 0;
}

json_t *
compose_volume_parse (const char *spec, nook_error_t *err)
{
  cleanup_free char *s = xstrdup (spec);
  char *parts[3] = { NULL, NULL, NULL };
  int n = 0;
  char *save = NULL;
  for (char *t = strtok_r (s, ":", &save); t && n < 3; t = strtok_r (NULL, ":", &save))
    parts[n++] = t;
  if (n == 0)
    {
      nook_error_set (err, 0, "invalid volume specification: %s", spec);
      return NULL;
    }
  json_t *v = json_object ();
  if (n == 1)
    {
      json_object_set_new (v, "type", json_string ("volume"));
      json_object_set_new (v, "target", json_string (parts[0]));
      json_object_set_new (v, "volume", json_object ());
      return v;
    }
  bool bind = looks_like_path (parts[0]);
  size_t sl = strlen (parts[0]);
  while (bind && sl > 1 && parts[0][sl - 1] == '/')
    parts[0][--sl] = '\0';
  json_object_set_new (v, "type", json_string (bind ? "bind" : "volume"));
  json_object_set_new (v, "source", json_string (parts[0]));
  json_object_set_new (v, "target", json_string (parts[1]));
  json_t *opts = bind ? json_pack ("{s:b}", "create_host_path", 1) : json_object ();
  if (n == 3)
    {
      char *save2 = NULL;
      for (char *m = strtok_r (parts[2], ",", &save2); m; m = strtok_r (NULL, ",", &save2))
        {
          if (strcmp (m, "ro") == 0)
            json_object_set_new (v, "read_only", json_true ());
          else if (strcmp (m, "rw") == 0)
            ;
          else if (strcmp (m, "z") == 0 || strcmp (m, "Z") == 0)
            json_object_set_new (opts, "selinux", json_string (m));
          else if (strcmp (m, "nocopy") == 0)
            json_object_set_new (opts, "nocopy", json_true ());
          else if (strstr (m, "shared") || strstr (m, "slave") || strstr (m, "private"))
            json_object_set_new (opts, "propagation", json_string (m));
          else
            {
              json_decref (opts);
              json_decref (v);
              nook_error_set (err, 0, "invalid volume specification: %s: unknown mode %s", spec, m);
              return NULL;
            }
        }
    }
  json_object_set_new (v, bind ? "bind" : "volume", opts);
  return v;
}

/* ---- canonical form ---------------------------------------------------------------------- */

static char *
scalar_string (json_t *v)
{
  char *s = NULL;
  if (json_is_string (v))
    return xstrdup (json_string_value (v));
  if (json_is_integer (v) && asprintf (&s, "%" JSON_INTEGER_FORMAT, json_integer_value (v)) >= 0)
    return s;
  if (json_is_real (v) && asprintf (&s, "%g", json_real_value (v)) >= 0)
    return s;
  if (json_is_boolean (v))
    return xstrdup (json_is_true (v) ? "true" : "false");
  return NULL;
}

/* A KEY=VALUE list (or mapping) as a mapping; a bare KEY takes env's value or null. */
static json_t *
as_mapping (json_t *v, json_t *env, bool values_as_strings)
{
  json_t *o = json_object ();
  if (json_is_object (v))
    {
      const char *k;
      json_t *x;
      json_object_foreach (v, k, x)
      {
        if (json_is_null (x) && env && json_object_get (env, k))
          json_object_set (o, k, json_object_get (env, k));
        else if (values_as_strings && !json_is_null (x))
          {
            cleanup_free char *s = scalar_string (x);
            json_object_set_new (o, k, s ? json_string (s) : json_deep_copy (x));
          }
        else
          json_object_set (o, k, x);
      }
      return o;
    }
  size_t i;
  json_t *x;
  json_array_foreach (v, i, x)
  {
    cleanup_free char *s = scalar_string (x);
    if (s == NULL)
      continue;
    char *eq = strchr (s, '=');
    if (eq)
      {
        *eq = '\0';
        json_object_set_new (o, s, json_string (eq + 1));
      }
    else if (env && json_object_get (env, s))
      json_object_set (o, s, json_object_get (env, s));
    else
      json_object_set_new (o, s, json_null ());
  }
  return o;
}

static json_t *
as_list (json_t *v)
{
  if (json_is_array (v))
    return json_incref (v);
  return json_pack ("[O]", v);
}

/* `format: raw`: KEY=VALUE lines taken as they are (no quotes, no interpolation). */
static int
read_raw_env (const char *path, json_t *out, nook_error_t *err)
{
  cleanup_file FILE *f = fopen (path, "re");
  if (f == NULL)
    return nook_error_set (err, errno, "open env file %s", path);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline (&line, &cap, f)) > 0)
    {
      while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
      if (n == 0 || line[0] == '#')
        continue;
      char *eq = strchr (line, '=');
      if (eq == NULL)
        continue;
      *eq = '\0';
      json_object_set_new (out, line, json_string (eq + 1));
    }
  free (line);
  return 0;
}

static int
read_env_files (json_t *svc, const char *key, const char *into, json_t *env, const char *workdir,
                nook_error_t *err)
{
  json_t *files = json_object_get (svc, key);
  if (files == NULL)
    return 0;
  json_t *canon = json_array ();
  json_t *vals = json_object ();
  json_t *l = as_list (files);
  size_t i;
  json_t *x;
  json_array_foreach (l, i, x)
  {
    json_t *e = json_is_string (x) ? json_pack ("{s:O,s:b}", "path", x, "required", 1)
                                   : json_deep_copy (x);
    if (json_object_get (e, "required") == NULL)
      json_object_set_new (e, "required", json_true ());
    const char *path = json_string_value (json_object_get (e, "path"));
    bool required = json_is_true (json_object_get (e, "required"));
    if (strcmp (key, "env_file") == 0)
      json_array_append_new (canon, e);
    else
      {
        json_array_append_new (canon, json_string (path ? path : ""));
        json_decref (e);
      }
    if (path == NULL)
      continue;
    cleanup_free char *full = compose_path_join (workdir, path, env);
    path = full;
    struct stat st;
    if (stat (path, &st) < 0)
      {
        if (!required)
          continue;
        json_decref (canon);
        json_decref (vals);
        json_decref (l);
        return nook_error_set (err, errno, "%s %s not found",
                               strcmp (key, "env_file") == 0 ? "env file" : "label file", path);
      }
    const char *format = json_string_value (json_object_get (x, "format"));
    int rr;
    if (format && strcmp (format, "raw") == 0)
      rr = read_raw_env (path, vals, err);
    else if (format)
      rr = nook_error_set (err, 0,
                           "env file %s: unsupported format \"%s\" (nook reads the default "
                           "format and raw)",
                           path, format);
    else
      rr = compose_dotenv_read (path, env, vals, err);
    if (rr < 0)
      {
        json_decref (canon);
        json_decref (vals);
        json_decref (l);
        return -1;
      }
  }
  json_decref (l);
  json_object_set_new (svc, key, canon);
  /* the file's values first, the service's own win */
  json_t *own = json_object_get (svc, into);
  const char *k;
  json_object_foreach (own, k, x) { json_object_set (vals, k, x); }
  json_object_set_new (svc, into, vals);
  return 0;
}

static void
canonical_duration (json_t *o, const char *key)
{
  const char *s = json_string_value (json_object_get (o, key));
  int64_t ns = s ? compose_duration_parse (s) : -1;
  if (ns < 0)
    return;
  cleanup_free char *t = compose_duration_format (ns);
  json_object_set_new (o, key, json_string (t));
}

static int
canonical_service (const char *name, json_t *svc, json_t *env, const char *workdir, bool discard,
                   nook_error_t *err)
{
  json_t *v;
  if ((v = json_object_get (svc, "build")) && json_is_string (v))
    json_object_set_new (svc, "build", json_pack ("{s:O}", "context", v));
  json_t *build = json_object_get (svc, "build");
  static const char *const build_maps[] = { "args", "labels", "additional_contexts" };
  for (size_t i = 0; i < ARRAY_SIZE (build_maps); i++)
    if ((v = json_object_get (build, build_maps[i])))
      json_object_set_new (build, build_maps[i], as_mapping (v, NULL, true));
  if ((v = json_object_get (svc, "environment")))
    json_object_set_new (svc, "environment", as_mapping (v, env, true));
  if ((v = json_object_get (svc, "labels")))
    json_object_set_new (svc, "labels", as_mapping (v, NULL, true));
  if ((v = json_object_get (svc, "annotations")))
    json_object_set_new (svc, "annotations", as_mapping (v, NULL, true));
  if ((v = json_object_get (json_object_get (svc, "deploy"), "labels")))
    json_object_set_new (json_object_get (svc, "deploy"), "labels", as_mapping (v, NULL, true));
  if ((v = json_object_get (svc, "sysctls")))
    json_object_set_new (svc, "sysctls", as_mapping (v, NULL, false));
  if (read_env_files (svc, "env_file", "environment", env, workdir, err) < 0
      || read_env_files (svc, "label_file", "labels", NULL, workdir, err) < 0)
    return nook_error_wrap (err, "service \"%s\"", name);
  if (discard)
    json_object_del (svc, "env_file");
  static const char *const lists[]
      = { "tmpfs", "dns", "dns_search", "dns_opt", "cap_add", "cap_drop", "security_opt" };
  for (size_t i = 0; i < ARRAY_SIZE (lists); i++)
    if ((v = json_object_get (svc, lists[i])) && json_is_string (v))
      json_object_set_new (svc, lists[i], json_pack ("[O]", v));
  static const char *const cmds[] = { "command", "entrypoint" };
  for (size_t i = 0; i < ARRAY_SIZE (cmds); i++)
    if ((v = json_object_get (svc, cmds[i])) && json_is_string (v))
      {
        json_t *words = compose_split_command (json_string_value (v), err);
        if (words == NULL)
          return nook_error_wrap (err, "services.%s.%s", name, cmds[i]);
        json_object_set_new (svc, cmds[i], words);
      }
  /* durations as Go prints them */
  static const char *const durs[] = { "interval", "timeout", "start_period", "start_interval" };
  json_t *hc = json_object_get (svc, "healthcheck");
  for (size_t i = 0; i < ARRAY_SIZE (durs); i++)
    canonical_duration (hc, durs[i]);
  canonical_duration (svc, "stop_grace_period");
  if ((v = json_object_get (hc, "test")) && json_is_string (v))
    json_object_set_new (hc, "test", json_pack ("[sO]", "CMD-SHELL", v));
  if ((v = json_object_get (svc, "expose")))
    {
      json_t *o = json_array ();
      size_t i;
      json_t *x;
      json_array_foreach (v, i, x)
      {
        cleanup_free char *s = scalar_string (x);
        json_array_append_new (o, json_string (s ? s : ""));
      }
      json_object_set_new (svc, "expose", o);
    }
  if ((v = json_object_get (svc, "extra_hosts")))
    {
      json_t *o = json_array ();
      if (json_is_object (v))
        {
          const char *k;
          json_t *x;
          json_object_foreach (v, k, x)
          {
            json_t *l = as_list (x);
            size_t i;
            json_t *y;
            json_array_foreach (l, i, y)
            {
              cleanup_free char *s = NULL;
              if (asprintf (&s, "%s=%s", k, json_string_value (y) ?: "") < 0)
                abort ();
              json_array_append_new (o, json_string (s));
            }
            json_decref (l);
          }
        }
      else
        {
          size_t i;
          json_t *x;
          json_array_foreach (v, i, x)
          {
            cleanup_free char *s = xstrdup (json_string_value (x) ?: "");
            char *c = strchr (s, ':');
            if (!strchr (s, '=') && c)
              *c = '=';
            json_array_append_new (o, json_string (s));
          }
        }
      json_object_set_new (svc, "extra_hosts", o);
    }
  if ((v = json_object_get (svc, "ports")))
    {
      json_t *o = json_array ();
      size_t i;
      json_t *x;
      json_array_foreach (v, i, x)
      {
        if (json_is_object (x))
          {
            if (!json_is_integer (json_object_get (x, "target")))
              {
                json_decref (o);
                return nook_error_set (
                    err, 0, "services.%s.ports[%zu]: target must be an integer port number", name,
                    i);
              }
            json_t *p = json_deep_copy (x);
            if (!json_object_get (p, "mode"))
              json_object_set_new (p, "mode", json_string ("ingress"));
            if (!json_object_get (p, "protocol"))
              json_object_set_new (p, "protocol", json_string ("tcp"));
            json_t *pub = json_object_get (p, "published");
            if (pub && !json_is_string (pub))
              {
                cleanup_free char *s = scalar_string (pub);
                json_object_set_new (p, "published", json_string (s ? s : ""));
              }
            json_array_append_new (o, p);
            continue;
          }
        cleanup_free char *s = scalar_string (x);
        if (s == NULL || compose_port_parse (s, o, err) < 0)
          {
            json_decref (o);
            return nook_error_wrap (err, "services.%s.ports[%zu]", name, i);
          }
      }
      json_object_set_new (svc, "ports", o);
    }
  if ((v = json_object_get (svc, "volumes")))
    {
      json_t *o = json_array ();
      size_t i;
      json_t *x;
      json_array_foreach (v, i, x)
      {
        json_t *m;
        if (json_is_string (x))
          m = compose_volume_parse (json_string_value (x), err);
        else
          {
            m = json_deep_copy (x);
            const char *type = json_string_value (json_object_get (m, "type"));
            if (type && strcmp (type, "bind") == 0 && !json_object_get (m, "bind"))
              json_object_set_new (m, "bind", json_pack ("{s:b}", "create_host_path", 1));
            if (type && strcmp (type, "volume") == 0 && !json_object_get (m, "volume"))
              json_object_set_new (m, "volume", json_object ());
          }
        if (m == NULL)
          {
            json_decref (o);
            return nook_error_wrap (err, "services.%s.volumes[%zu]", name, i);
          }
        json_array_append_new (o, m);
      }
      json_object_set_new (svc, "volumes", o);
    }
  if ((v = json_object_get (svc, "depends_on")))
    {
      json_t *o = json_object ();
      if (json_is_array (v))
        {
          size_t i;
          json_t *x;
          json_array_foreach (v, i, x)
          {
            json_object_set_new (
                o, json_string_value (x) ?: "",
                json_pack ("{s:s,s:b}", "condition", "service_started", "required", 1));
          }
        }
      else
        {
          const char *k;
          json_t *x;
          json_object_foreach (v, k, x)
          {
            json_t *d = json_is_object (x) ? json_deep_copy (x) : json_object ();
            if (!json_object_get (d, "condition"))
              json_object_set_new (d, "condition", json_string ("service_started"));
            if (!json_object_get (d, "required"))
              json_object_set_new (d, "required", json_true ());
            json_object_set_new (o, k, d);
          }
        }
      json_object_set_new (svc, "depends_on", o);
    }
  if ((v = json_object_get (svc, "networks")) && json_is_array (v))
    {
      json_t *o = json_object ();
      size_t i;
      json_t *x;
      json_array_foreach (v, i, x)
      {
        json_object_set_new (o, json_string_value (x) ?: "", json_null ());
      }
      json_object_set_new (svc, "networks", o);
    }
  static const char *const mounts[] = { "secrets", "configs" };
  for (size_t m = 0; m < ARRAY_SIZE (mounts); m++)
    if ((v = json_object_get (svc, mounts[m])))
      {
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x)
        {
          if (json_is_string (x))
            json_array_set_new (v, i, json_pack ("{s:O}", "source", x));
        }
      }
  return 0;
}

int
compose_canonical (json_t *model, json_t *env, const char *workdir, bool discard, nook_error_t *err)
{
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (model, "services"), k, v)
  {
    if (json_is_null (v))
      {
        json_object_set_new (json_object_get (model, "services"), k, json_object ());
        v = json_object_get (json_object_get (model, "services"), k);
      }
    if (canonical_service (k, v, env, workdir, discard, err) < 0)
      return -1;
  }
  static const char *const tops[] = { "networks", "volumes", "secrets", "configs" };
  for (size_t t = 0; t < ARRAY_SIZE (tops); t++)
    {
      json_t *top = json_object_get (model, tops[t]);
      json_object_foreach (top, k, v)
      {
        if (json_is_null (v))
          json_object_set_new (top, k, json_object ());
        else if ((v = json_object_get (v, "labels")))
          json_object_set_new (json_object_get (top, k), "labels", as_mapping (v, NULL, true));
      }
    }
  return 0;
}

/* ---- defaults ---------------------------------------------------------------------------- */

static bool
external (json_t *res)
{
  json_t *e = json_object_get (res, "external");
  return json_is_true (e) || json_is_object (e);
}

/* links, network_mode: service:X and volumes_from make a dependency, as compose-go's
 * normalisation writes it. */
static void
implicit_dependency (json_t *svc, const char *ref, bool bare)
{
  if (ref == NULL)
    return;
  if (str_has_prefix (ref, "service:"))
    ref += 8;
  else if (!bare || str_has_prefix (ref, "container:"))
    return;
  cleanup_free char *name = xstrdup (ref);
  char *colon = strchr (name, ':');
  if (colon)
    *colon = '\0';
  json_t *deps = json_object_get (svc, "depends_on");
  if (deps == NULL)
    {
      json_object_set_new (svc, "depends_on", json_object ());
      deps = json_object_get (svc, "depends_on");
    }
  if (json_object_get (deps, name) == NULL)
    json_object_set_new (
        deps, name,
        json_pack ("{s:s,s:b,s:b}", "condition", "service_started", "restart", 1, "required", 1));
}

void
compose_defaults (json_t *model, const char *project)
{
  json_t *services = json_object_get (model, "services");
  bool uses_default = false;
  const char *k;
  json_t *v;
  json_object_foreach (services, k, v)
  {
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get (v, "links"), i, x)
    {
      implicit_dependency (v, json_string_value (x), true);
    }
    json_array_foreach (json_object_get (v, "volumes_from"), i, x)
    {
      implicit_dependency (v, json_string_value (x), true);
    }
    implicit_dependency (v, json_string_value (json_object_get (v, "network_mode")), false);
    json_t *nets = json_object_get (v, "networks");
    if (nets == NULL && json_object_get (v, "network_mode") == NULL)
      {
        json_object_set_new (v, "networks", json_pack ("{s:n}", "default"));
        nets = json_object_get (v, "networks");
      }
    if (json_object_get (nets, "default"))
      uses_default = true;
    json_t *build = json_object_get (v, "build");
    if (json_is_object (build) && !json_object_get (build, "dockerfile")
        && !json_object_get (build, "dockerfile_inline"))
      json_object_set_new (build, "dockerfile", json_string ("Dockerfile"));
  }
  json_t *networks = json_object_get (model, "networks");
  if (uses_default && json_object_get (networks, "default") == NULL)
    {
      if (networks == NULL)
        {
          json_object_set_new (model, "networks", json_object ());
          networks = json_object_get (model, "networks");
        }
      json_object_set_new (networks, "default", json_object ());
    }
  static const char *const tops[] = { "networks", "volumes", "secrets", "configs" };
  for (size_t t = 0; t < ARRAY_SIZE (tops); t++)
    json_object_foreach (json_object_get (model, tops[t]), k, v)
    {
      if (json_object_get (v, "name"))
        continue;
      if (external (v))
        {
          json_t *en = json_object_get (json_object_get (v, "external"), "name");
          json_object_set (v, "name", en ? en : json_string (k));
          if (!en)
            json_decref (json_object_get (v, "name")); /* balance the new string */
          continue;
        }
      cleanup_free char *n = NULL;
      if (asprintf (&n, "%s_%s", project, k) < 0)
        abort ();
      json_object_set_new (v, "name", json_string (n));
    }
}

/* ---- consistency ------------------------------------------------------------------------- */

static int
undefined_service (const char *svc, const char *dep, nook_error_t *err)
{
  return nook_error_set (
      err, 0, "service \"%s\" depends on undefined service \"%s\": invalid compose project", svc,
      dep);
}

static int
check_ref (json_t *services, const char *svc, const char *val, bool bare, nook_error_t *err)
{
  if (val == NULL)
    return 0;
  const char *ref = NULL;
  if (str_has_prefix (val, "service:"))
    ref = val + 8;
  else if (bare && !str_has_prefix (val, "container:"))
    ref = val;
  if (ref == NULL)
    return 0;
  cleanup_free char *name = xstrdup (ref);
  char *c = strchr (name, ':');
  if (c)
    *c = '\0';
  if (json_object_get (services, name) == NULL)
    return undefined_service (svc, name, err);
  return 0;
}

static int
visit (json_t *services, const char *name, json_t *state, char ***stack, nook_error_t *err)
{
  json_t *st = json_object_get (state, name);
  if (st && json_integer_value (st) == 2)
    return 0;
  if (st && json_integer_value (st) == 1)
    {
      struct strbuf b = { 0 };
      bool on = false;
      for (size_t i = 0; *stack && (*stack)[i]; i++)
        {
          if (strcmp ((*stack)[i], name) == 0)
            on = true;
          if (on)
            strbuf_appendf (&b, "%s -> ", (*stack)[i]);
        }
      strbuf_append (&b, name);
      cleanup_free char *cyc = strbuf_steal (&b);
      return nook_error_set (err, 0, "dependency cycle detected: %s", cyc);
    }
  json_object_set_new (state, name, json_integer (1));
  strv_push (stack, name);
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (json_object_get (services, name), "depends_on"), k, v)
  {
    if (json_object_get (services, k) && visit (services, k, state, stack, err) < 0)
      return -1;
  }
  size_t n = strv_len (*stack);
  free ((*stack)[n - 1]);
  (*stack)[n - 1] = NULL;
  json_object_set_new (state, name, json_integer (2));
  return 0;
}

int
compose_consistency (json_t *model, nook_error_t *err)
{
  json_t *services = json_object_get (model, "services");
  json_t *networks = json_object_get (model, "networks");
  json_t *volumes = json_object_get (model, "volumes");
  const char *name;
  json_t *svc;
  json_object_foreach (services, name, svc)
  {
    const char *k;
    json_t *v;
    size_t i;
    json_object_foreach (json_object_get (svc, "depends_on"), k, v)
    {
      if (json_object_get (services, k) == NULL && !json_is_false (json_object_get (v, "required")))
        return undefined_service (name, k, err);
    }
    json_array_foreach (json_object_get (svc, "links"), i, v)
    {
      if (check_ref (services, name, json_string_value (v), true, err) < 0)
        return -1;
    }
    json_array_foreach (json_object_get (svc, "volumes_from"), i, v)
    {
      if (check_ref (services, name, json_string_value (v), true, err) < 0)
        return -1;
    }
    if (!json_object_get (svc, "image") && !json_object_get (svc, "build")
        && !json_object_get (svc, "provider"))
      return nook_error_set (err, 0,
                             "service \"%s\" has neither an image nor a build context specified: "
                             "invalid compose project",
                             name);
    json_t *scale = json_object_get (svc, "scale");
    json_t *replicas = json_object_get (json_object_get (svc, "deploy"), "replicas");
    if (scale && replicas && !json_equal (scale, replicas))
      return nook_error_set (err, 0,
                             "services.%s: can't set distinct values on 'scale' and "
                             "'deploy.replicas'",
                             name);
    static const char *const modes[] = { "network_mode", "ipc", "pid" };
    for (size_t m = 0; m < ARRAY_SIZE (modes); m++)
      if (check_ref (services, name, json_string_value (json_object_get (svc, modes[m])), false,
                     err)
          < 0)
        return -1;
    json_object_foreach (json_object_get (svc, "networks"), k, v)
    {
      if (json_object_get (networks, k) == NULL && strcmp (k, "default") != 0)
        return nook_error_set (err, 0,
                               "service \"%s\" refers to undefined network %s: "
                               "invalid compose project",
                               name, k);
    }
    json_array_foreach (json_object_get (svc, "volumes"), i, v)
    {
      const char *type = json_string_value (json_object_get (v, "type"));
      const char *src = json_string_value (json_object_get (v, "source"));
      if (type && strcmp (type, "volume") == 0 && src && *src
          && json_object_get (volumes, src) == NULL)
        return nook_error_set (
            err, 0, "service \"%s\" refers to undefined volume %s: invalid compose project", name,
            src);
    }
    static const char *const res[][2] = { { "secrets", "secret" }, { "configs", "config" } };
    for (size_t r = 0; r < ARRAY_SIZE (res); r++)
      json_array_foreach (json_object_get (svc, res[r][0]), i, v)
      {
        const char *src = json_string_value (json_object_get (v, "source"));
        if (src && json_object_get (json_object_get (model, res[r][0]), src) == NULL)
          return nook_error_set (
              err, 0, "service \"%s\" refers to undefined %s %s: invalid compose project", name,
              res[r][1], src);
      }
  }
  json_t *state = json_object ();
  char **stack = NULL;
  int r = 0;
  json_object_foreach (services, name, svc)
  {
    if ((r = visit (services, name, state, &stack, err)) < 0)
      break;
  }
  strv_free (stack);
  json_decref (state);
  return r;
}
