/* cmd/spec.c: see spec.h. */
#include "cmd/spec.h"
#include "sandbox/caps.h"
#include "sandbox/mount.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ---- flags ---- */

enum optkind
{
  O_BOOL,
  O_STR,
  O_LIST,
};

struct optdef
{
  const char *lng;
  char shrt;
  enum optkind kind;
  size_t off;
};

#define OFF(f) offsetof (struct run_opts, f)
static const struct optdef optdefs[] = {
  { "rm", 0, O_BOOL, OFF (rm) },
  { "interactive", 'i', O_BOOL, OFF (interactive) },
  { "tty", 't', O_BOOL, OFF (tty) },
  { "detach", 'd', O_BOOL, OFF (detach) },
  { "read-only", 0, O_BOOL, OFF (read_only) },
  { "privileged", 0, O_BOOL, OFF (privileged) },
  { "help", 'h', O_BOOL, OFF (help) },
  { "entrypoint", 0, O_STR, OFF (entrypoint) },
  { "workdir", 'w', O_STR, OFF (workdir) },
  { "user", 'u', O_STR, OFF (user) },
  { "hostname", 0, O_STR, OFF (hostname) },
  { "name", 0, O_STR, OFF (name) },
  { "network", 0, O_STR, OFF (network) },
  { "net", 0, O_STR, OFF (network) },
  { "storage-driver", 0, O_STR, OFF (storage_driver) },
  { "stop-timeout", 0, O_STR, OFF (stop_timeout) },
  { "env", 'e', O_LIST, OFF (env) },
  { "env-file", 0, O_LIST, OFF (env_files) },
  { "volume", 'v', O_LIST, OFF (volumes) },
  { "tmpfs", 0, O_LIST, OFF (tmpfs) },
  { "cap-add", 0, O_LIST, OFF (cap_add) },
  { "cap-drop", 0, O_LIST, OFF (cap_drop) },
  { "security-opt", 0, O_LIST, OFF (security_opts) },
  { "ulimit", 0, O_LIST, OFF (ulimits) },
};

static int
set_opt (struct run_opts *o, const struct optdef *d, const char *val, nook_error_t *err)
{
  char *base = (char *)o + d->off;
  switch (d->kind)
    {
    case O_BOOL:
      if (val == NULL || strcmp (val, "true") == 0)
        *(bool *)base = true;
      else if (strcmp (val, "false") == 0)
        *(bool *)base = false;
      else
        return nook_error_set (err, EINVAL, "invalid argument \"%s\" for \"--%s\" flag", val,
                               d->lng);
      break;
    case O_STR:
      free (*(char **)base);
      *(char **)base = xstrdup (val);
      if (d->off == OFF (entrypoint))
        o->entrypoint_set = true;
      break;
    case O_LIST:
      strv_push ((char ***)base, val);
      break;
    }
  return 0;
}

static const struct optdef *
find_long (const char *name, size_t len)
{
  for (size_t i = 0; i < ARRAY_SIZE (optdefs); i++)
    if (strlen (optdefs[i].lng) == len && strncmp (optdefs[i].lng, name, len) == 0)
      return &optdefs[i];
  return NULL;
}

static const struct optdef *
find_short (char c)
{
  for (size_t i = 0; i < ARRAY_SIZE (optdefs); i++)
    if (optdefs[i].shrt == c)
      return &optdefs[i];
  return NULL;
}

/* One argument starting with '-'; may consume the next.  Returns args used. */
static int
parse_one (struct run_opts *o, int argc, char **argv, int i, nook_error_t *err)
{
  const char *a = argv[i];
  if (a[1] == '-')
    {
      const char *name = a + 2;
      const char *eq = strchr (name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen (name);
      const struct optdef *d = find_long (name, len);
      if (d == NULL)
        return nook_error_set (err, 0, "unknown flag: --%.*s\nSee 'nook run --help'.", (int)len,
                               name);
      if (d->kind == O_BOOL)
        return set_opt (o, d, eq ? eq + 1 : NULL, err) < 0 ? -1 : 1;
      if (eq)
        return set_opt (o, d, eq + 1, err) < 0 ? -1 : 1;
      if (i + 1 >= argc)
        return nook_error_set (err, 0, "flag needs an argument: --%s\nSee 'nook run --help'.",
                               d->lng);
      return set_opt (o, d, argv[i + 1], err) < 0 ? -1 : 2;
    }
  for (const char *c = a + 1; *c; c++)
    {
      const struct optdef *d = find_short (*c);
      if (d == NULL)
        return nook_error_set (err, 0, "unknown shorthand flag: '%c' in %s\nSee 'nook run --help'.",
                               *c, a);
      if (d->kind == O_BOOL)
        {
          set_opt (o, d, NULL, err);
          continue;
        }
      if (c[1] != '\0')
        return set_opt (o, d, c[1] == '=' ? c + 2 : c + 1, err) < 0 ? -1 : 1;
      if (i + 1 >= argc)
        return nook_error_set (err, 0, "flag needs an argument: '%c' in %s\nSee 'nook run --help'.",
                               *c, a);
      return set_opt (o, d, argv[i + 1], err) < 0 ? -1 : 2;
    }
  return 1;
}

int
run_opts_parse (int argc, char **argv, struct run_opts *o, nook_error_t *err)
{
  memset (o, 0, sizeof *o);
  int i = 1;
  while (i < argc)
    {
      const char *a = argv[i];
      if (strcmp (a, "--") == 0)
        {
          i++;
          break;
        }
      if (a[0] != '-' || a[1] == '\0')
        break;
      int used = parse_one (o, argc, argv, i, err);
      if (used < 0)
        return -1;
      i += used;
    }
  if (o->help)
    return 0;
  if (i >= argc)
    return nook_error_set (err, 0,
                           "\"nook run\" requires at least 1 argument.\n"
                           "See 'nook run --help'.");
  o->image = xstrdup (argv[i++]);
  for (; i < argc; i++)
    strv_push (&o->cmd, argv[i]);
  return 0;
}

void
run_opts_free (struct run_opts *o)
{
  char **strs[] = { &o->entrypoint, &o->workdir, &o->user,  &o->hostname,
                    &o->name,       &o->network, &o->image, &o->storage_driver };
  for (size_t i = 0; i < ARRAY_SIZE (strs); i++)
    free (*strs[i]);
  free (o->stop_timeout);
  char ***lists[] = { &o->env,      &o->env_files,     &o->volumes, &o->tmpfs, &o->cap_add,
                      &o->cap_drop, &o->security_opts, &o->ulimits, &o->cmd };
  for (size_t i = 0; i < ARRAY_SIZE (lists); i++)
    strv_free (*lists[i]);
  memset (o, 0, sizeof *o);
}

/* ---- pieces ---- */

static const struct
{
  const char *name;
  int resource;
} ulimit_names[] = {
  { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
  { "data", RLIMIT_DATA },         { "fsize", RLIMIT_FSIZE },
  { "locks", RLIMIT_LOCKS },       { "memlock", RLIMIT_MEMLOCK },
  { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
  { "nofile", RLIMIT_NOFILE },     { "nproc", RLIMIT_NPROC },
  { "rss", RLIMIT_RSS },           { "rtprio", RLIMIT_RTPRIO },
  { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
  { "stack", RLIMIT_STACK },       { "as", RLIMIT_AS },
};

static int
ulimit_value (const char *s, const char *all, uint64_t *out, nook_error_t *err)
{
  if (strcmp (s, "-1") == 0 || strcmp (s, "unlimited") == 0)
    {
      *out = RLIM_INFINITY;
      return 0;
    }
  cleanup_error nook_error_t e = NULL;
  if (parse_uint (s, UINT64_MAX - 1, out, "ulimit", &e) < 0)
    return nook_error_set (err, 0, "invalid ulimit '%s': '%s' is not a number", all, s);
  return 0;
}

int
spec_parse_ulimit (const char *s, struct nook_rlimit *out, nook_error_t *err)
{
  const char *eq = strchr (s, '=');
  if (eq == NULL)
    return nook_error_set (err, 0, "invalid ulimit '%s': want NAME=SOFT[:HARD]", s);
  size_t len = (size_t)(eq - s);
  int res = -1;
  for (size_t i = 0; i < ARRAY_SIZE (ulimit_names); i++)
    if (strlen (ulimit_names[i].name) == len && strncmp (s, ulimit_names[i].name, len) == 0)
      res = ulimit_names[i].resource;
  if (res < 0)
    return nook_error_set (err, 0, "invalid ulimit '%s': unknown type '%.*s'", s, (int)len, s);
  cleanup_free char *val = xstrdup (eq + 1);
  char *colon = strchr (val, ':');
  if (colon)
    *colon = '\0';
  if (ulimit_value (val, s, &out->soft, err) < 0)
    return -1;
  out->hard = out->soft;
  if (colon && ulimit_value (colon + 1, s, &out->hard, err) < 0)
    return -1;
  if (out->soft > out->hard)
    return nook_error_set (err, 0, "invalid ulimit '%s': soft limit above hard limit", s);
  out->resource = res;
  return 0;
}

static bool
path_is_clean_absolute (const char *p)
{
  if (p[0] != '/')
    return false;
  for (const char *c = p; *c; c++)
    if (c[0] == '/' && c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == '\0'))
      return false;
  return true;
}

/* The -v options nook knows, by group: at most one of each group (Docker's rule). */
static const struct
{
  const char *name;
  int group;
} volume_opts[] = {
  { "ro", 0 },    { "rw", 0 }, /* access */
  { "z", 1 },     { "Z", 1 },  /* SELinux labels: nook has none, accepted as podman does */
  { "rbind", 2 },              /* nook's binds are always recursive */
};

static int
volume_options (const char *spec, const char *opts, bool *ro, nook_error_t *err)
{
  const char *seen[3] = { NULL, NULL, NULL };
  size_t seen_len[3] = { 0, 0, 0 };
  for (const char *o = opts;;)
    {
      size_t n = strcspn (o, ",");
      int group = -1;
      for (size_t i = 0; i < ARRAY_SIZE (volume_opts) && group < 0; i++)
        if (strlen (volume_opts[i].name) == n && strncmp (o, volume_opts[i].name, n) == 0)
          group = volume_opts[i].group;
      if (n == 0)
        return nook_error_set (err, EINVAL, "invalid volume '%s': empty option in '%s'", spec,
                               opts);
      if (group < 0)
        return nook_error_set (err, EINVAL, "invalid volume '%s': unknown option '%.*s'", spec,
                               (int)n, o);
      if (seen[group])
        return nook_error_set (err, EINVAL,
                               "invalid volume '%s': conflicting options '%.*s' and '%.*s'", spec,
                               (int)seen_len[group], seen[group], (int)n, o);
      seen[group] = o;
      seen_len[group] = n;
      if (group == 0)
        *ro = n == 2 && strncmp (o, "ro", 2) == 0;
      if (o[n] == '\0')
        return 0;
      o += n + 1;
    }
}

int
spec_parse_volume (const char *s, struct nook_mount *out, nook_error_t *err)
{
  /* Field by field: an empty field (an unset shell variable) is an error, never
   * skipped ("-v $UNSET:/tmp:/x" must not bind /tmp on /x). */
  static const char *const what[] = { "host path is", "container path is", "options are" };
  const char *field[3] = { NULL, NULL, NULL };
  size_t len[3] = { 0, 0, 0 };
  int n = 0;
  for (const char *p = s;; n++)
    {
      size_t l = strcspn (p, ":");
      if (n == 3)
        return nook_error_set (err, EINVAL,
                               "invalid volume '%s': too many fields, want "
                               "HOST:CONTAINER[:OPTIONS]",
                               s);
      field[n] = p;
      len[n] = l;
      if (p[l] == '\0')
        {
          n++;
          break;
        }
      p += l + 1;
    }
  if (n == 1)
    return nook_error_set (err, EINVAL,
                           "invalid volume '%s': anonymous volumes are not supported yet, "
                           "give HOST:CONTAINER",
                           s);
  for (int i = 0; i < n; i++)
    if (len[i] == 0)
      return nook_error_set (err, EINVAL, "invalid volume '%s': the %s empty", s, what[i]);
  cleanup_free char *host = xstrndup (field[0], len[0]);
  cleanup_free char *ctr = xstrndup (field[1], len[1]);
  if (host[0] != '/')
    return nook_error_set (err, EINVAL,
                           "invalid volume '%s': the host path '%s' must be absolute (named "
                           "volumes are not supported yet)",
                           s, host);
  if (!path_is_clean_absolute (ctr) || strcmp (ctr, "/") == 0)
    return nook_error_set (err, EINVAL,
                           "invalid volume '%s': the container path '%s' must be absolute, not /, "
                           "without '..'",
                           s, ctr);
  bool ro = false;
  if (n == 3)
    {
      cleanup_free char *opts = xstrndup (field[2], len[2]);
      if (volume_options (s, opts, &ro, err) < 0)
        return -1;
    }
  *out = (struct nook_mount){ .kind = MOUNT_BIND,
                              .source = steal_pointer (&host),
                              .target = steal_pointer (&ctr),
                              .readonly = ro };
  return 0;
}

static int
parse_tmpfs (const char *s, struct nook_mount *out, nook_error_t *err)
{
  const char *colon = strchr (s, ':');
  cleanup_free char *target = colon ? xstrndup (s, (size_t)(colon - s)) : xstrdup (s);
  if (!path_is_clean_absolute (target) || strcmp (target, "/") == 0)
    return nook_error_set (err, 0, "invalid --tmpfs '%s': '%s' must be an absolute path", s,
                           target);
  unsigned long flags;
  cleanup_free char *data = NULL;
  if (sandbox_tmpfs_options (colon ? colon + 1 : "", &flags, &data, err) < 0)
    return nook_error_wrap (err, "invalid --tmpfs '%s'", s);
  *out = (struct nook_mount){ .kind = MOUNT_TMPFS,
                              .target = steal_pointer (&target),
                              .options = xstrdup (colon ? colon + 1 : "") };
  return 0;
}

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
static void
env_set (char ***env, const char *kv)
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

static bool
env_has (char *const *env, const char *name)
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
static int
env_add_flag (char ***env, const char *s, const struct spec_env *e, const char *where,
              nook_error_t *err)
{
  const char *eq = strchr (s, '=');
  size_t nlen = eq ? (size_t)(eq - s) : strlen (s);
  if (!valid_env_name (s, nlen))
    {
      cleanup_free char *shown = escape_bytes (s);
      return nook_error_set (err, EINVAL, "%s: invalid environment variable '%s'", where, shown);
    }
  if (eq)
    {
      env_set (env, s);
      return 0;
    }
  const char *v = e && e->getenv ? e->getenv (s) : NULL;
  if (v)
    {
      cleanup_free char *kv = xasprintf ("%s=%s", s, v);
      env_set (env, kv);
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
      return nook_error_set (err, EINVAL, "%s:%d: a NUL byte in the env file", shown, line);
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
      if (env_add_flag (env, s, e, where, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- users ---- */

/* Find the line of `db` (passwd or group format) whose field 0 is `name` or
 * field 2 is `id` (when name is NULL).  Returns the fields (strv) or NULL. */
static char **
db_find (const char *db, const char *name, const char *id)
{
  const char *cursor = db;
  for (char *next; (next = str_next_line (&cursor)) != NULL;)
    {
      cleanup_free char *line = next;
      if (line[0] == '#' || line[0] == '\0')
        continue;
      char **fields = NULL;
      char *cur = line;
      for (;;)
        {
          char *colon = strchr (cur, ':');
          if (colon)
            *colon = '\0';
          strv_push (&fields, cur);
          if (!colon)
            break;
          cur = colon + 1;
        }
      if (strv_len (fields) >= 3
          && ((name && strcmp (fields[0], name) == 0) || (id && strcmp (fields[2], id) == 0)))
        return fields;
      strv_free (fields);
    }
  return NULL;
}

static bool
all_digits (const char *s)
{
  return *s && strspn (s, "0123456789") == strlen (s);
}

static int
parse_id (const char *s, uint32_t *out, const char *what, nook_error_t *err)
{
  uint64_t v;
  if (parse_uint (s, UINT32_MAX - 1, &v, what, err) < 0)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

int
spec_resolve_user (const char *user, const char *passwd, const char *group, uid_t *uid, gid_t *gid,
                   gid_t **groups, size_t *n_groups, char **home, nook_error_t *err)
{
  cleanup_free char *copy = xstrdup (user && *user ? user : "0");
  char *colon = strchr (copy, ':');
  const char *grp = NULL;
  if (colon)
    {
      *colon = '\0';
      grp = colon + 1;
    }
  const char *usr = copy;
  *home = NULL;
  *groups = NULL;
  *n_groups = 0;
  *gid = 0;
  cleanup_strv char **pw
      = all_digits (usr) ? db_find (passwd, NULL, usr) : db_find (passwd, usr, NULL);
  if (all_digits (usr))
    {
      if (parse_id (usr, uid, "user id", err) < 0)
        return -1;
    }
  else if (pw == NULL)
    return nook_error_set (err, 0, "unable to find user %s: no matching entries in passwd file",
                           usr);
  else if (parse_id (pw[2], uid, "user id in /etc/passwd", err) < 0)
    return -1;
  if (pw && strv_len (pw) >= 4 && parse_id (pw[3], gid, "group id in /etc/passwd", err) < 0)
    return -1;
  if (pw && strv_len (pw) >= 6)
    *home = xstrdup (pw[5]);
  if (grp && *grp)
    {
      if (all_digits (grp))
        {
          if (parse_id (grp, gid, "group id", err) < 0)
            return -1;
        }
      else
        {
          cleanup_strv char **gr = db_find (group, grp, NULL);
          if (gr == NULL)
            return nook_error_set (
                err, 0, "unable to find group %s: no matching entries in group file", grp);
          if (parse_id (gr[2], gid, "group id in /etc/group", err) < 0)
            return -1;
        }
      return 0;
    }
  /* Supplementary groups: every group that lists the user by name. */
  if (pw == NULL)
    return 0;
  const char *cursor = group;
  for (char *next; (next = str_next_line (&cursor)) != NULL;)
    {
      cleanup_free char *line = next;
      char *f[4] = { 0 };
      char *cur = line;
      for (int k = 0; k < 4 && cur; k++)
        {
          f[k] = cur;
          char *c = strchr (cur, ':');
          if (c)
            *c = '\0';
          cur = c ? c + 1 : NULL;
        }
      if (f[3] == NULL || !all_digits (f[2]))
        continue;
      char *save = NULL;
      for (char *m = strtok_r (f[3], ",", &save); m; m = strtok_r (NULL, ",", &save))
        if (strcmp (m, pw[0]) == 0)
          {
            uint32_t g;
            if (parse_id (f[2], &g, "group id", err) < 0)
              return -1;
            *groups = xreallocarray (*groups, *n_groups + 1, sizeof **groups);
            (*groups)[(*n_groups)++] = g;
          }
    }
  return 0;
}

int
spec_security_opts (char *const *opts, bool *unconfined, char **profile, nook_error_t *err)
{
  *unconfined = false;
  *profile = NULL;
  for (size_t i = 0; opts && opts[i]; i++)
    {
      const char *o = opts[i];
      if (strcmp (o, "seccomp=unconfined") == 0 || strcmp (o, "seccomp:unconfined") == 0)
        *unconfined = true;
      else if (str_has_prefix (o, "seccomp=") || str_has_prefix (o, "seccomp:"))
        {
          free (*profile);
          *profile = xstrdup (o + 8);
          *unconfined = false;
        }
      else if (strcmp (o, "no-new-privileges") == 0 || strcmp (o, "no-new-privileges=true") == 0
               || strcmp (o, "no-new-privileges:true") == 0
               || strcmp (o, "no-new-privileges=false") == 0
               || strcmp (o, "no-new-privileges:false") == 0)
        ; /* nook always sets no_new_privs */
      else if (str_has_prefix (o, "label=") || str_has_prefix (o, "label:")
               || str_has_prefix (o, "apparmor=") || str_has_prefix (o, "apparmor:"))
        ; /* no SELinux or AppArmor here: accepted, as rootless podman does */
      else
        return nook_error_set (err, 0, "invalid --security-opt '%s'", o);
    }
  return 0;
}

/* ---- the merge ---- */

static char **
json_strv (const json_t *obj, const char *key)
{
  json_t *a = obj ? json_object_get (obj, key) : NULL;
  if (!json_is_array (a))
    return NULL;
  char **v = NULL;
  size_t i;
  json_t *x;
  json_array_foreach (a, i, x) if (json_is_string (x)) strv_push (&v, json_string_value (x));
  if (v == NULL)
    v = xzalloc (sizeof *v);
  return v;
}

static const char *
json_str (const json_t *obj, const char *key)
{
  json_t *s = obj ? json_object_get (obj, key) : NULL;
  return json_is_string (s) ? json_string_value (s) : NULL;
}

static int
merge_argv (const json_t *cfg, const struct run_opts *o, struct nook_spec *spec, nook_error_t *err)
{
  cleanup_strv char **entry = NULL;
  cleanup_strv char **cmd = NULL;
  if (o->entrypoint_set)
    {
      if (o->entrypoint && *o->entrypoint)
        strv_push (&entry, o->entrypoint);
      cmd = o->cmd ? strv_dup (o->cmd) : NULL; /* --entrypoint resets the image's Cmd */
    }
  else
    {
      entry = json_strv (cfg, "Entrypoint");
      cmd = o->cmd ? strv_dup (o->cmd) : json_strv (cfg, "Cmd");
    }
  char **argv = NULL;
  for (size_t i = 0; entry && entry[i]; i++)
    strv_push (&argv, entry[i]);
  for (size_t i = 0; cmd && cmd[i]; i++)
    strv_push (&argv, cmd[i]);
  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
    {
      strv_free (argv);
      return nook_error_set (err, 0, "no command specified");
    }
  spec->argv = argv;
  return 0;
}

/* The image's /etc/passwd or /etc/group, NULL when it has none.  One that cannot be
 * read (a FIFO, a directory, too large) stops the run when a user was asked for (-u,
 * the image's USER); without one it is treated as missing, with a warning, as Docker
 * runs such images. */
static int
read_user_db (const struct spec_env *e, const char *path, bool user_given, char **text,
              nook_error_t *err)
{
  cleanup_error nook_error_t re = NULL;
  *text = NULL;
  if (e == NULL || e->read_image_file == NULL || e->read_image_file (e->data, path, text, &re) == 0)
    return 0;
  free (steal_pointer (text));
  if (re->code == ENOENT)
    return 0;
  if (user_given)
    {
      if (err && *err == NULL)
        *err = steal_pointer (&re);
      return -1;
    }
  if (e->warn)
    {
      cleanup_free char *msg = xasprintf ("%s; treated as missing", re->msg);
      e->warn (msg);
    }
  return 0;
}

static int
merge_user (const json_t *cfg, const struct run_opts *o, const struct spec_env *e,
            struct nook_spec *spec, char **home, nook_error_t *err)
{
  const char *user = o->user ? o->user : json_str (cfg, "User");
  bool given = user && *user;
  cleanup_free char *passwd = NULL;
  cleanup_free char *group = NULL;
  if (read_user_db (e, "/etc/passwd", given, &passwd, err) < 0
      || read_user_db (e, "/etc/group", given, &group, err) < 0)
    return -1;
  return spec_resolve_user (user, passwd, group, &spec->uid, &spec->gid, &spec->groups,
                            &spec->n_groups, home, err);
}

static int
merge_env (const json_t *cfg, const struct run_opts *o, const struct spec_env *e, const char *home,
           struct nook_spec *spec, nook_error_t *err)
{
  char **env = NULL;
  env_set (&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  cleanup_free char *hn = xasprintf ("HOSTNAME=%s", spec->hostname);
  env_set (&env, hn);
  cleanup_strv char **img = json_strv (cfg, "Env");
  for (size_t i = 0; img && img[i]; i++)
    if (strchr (img[i], '='))
      env_set (&env, img[i]);
  for (size_t i = 0; o->env_files && o->env_files[i]; i++)
    {
      cleanup_free char *text = NULL;
      size_t len = 0;
      if (e == NULL || e->read_env_file == NULL
          || e->read_env_file (o->env_files[i], &text, &len, err) < 0)
        {
          strv_free (env);
          return err && *err ? nook_error_wrap (err, "--env-file")
                             : nook_error_set (err, EINVAL, "--env-file not readable");
        }
      if (spec_parse_env_file (text, len, o->env_files[i], e, &env, err) < 0)
        {
          strv_free (env);
          return -1;
        }
    }
  for (size_t i = 0; o->env && o->env[i]; i++)
    if (env_add_flag (&env, o->env[i], e, "--env", err) < 0)
      {
        strv_free (env);
        return -1;
      }
  if (!env_has (env, "HOME"))
    {
      cleanup_free char *h
          = xasprintf ("HOME=%s", home && *home ? home : (spec->uid == 0 ? "/root" : "/"));
      env_set (&env, h);
    }
  if (o->tty && !env_has (env, "TERM"))
    env_set (&env, "TERM=xterm");
  spec->env = env;
  return 0;
}

static bool
valid_hostname (const char *h)
{
  size_t n = strlen (h);
  if (n == 0 || n > 63)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z')
          || (h[i] >= '0' && h[i] <= '9') || h[i] == '-' || h[i] == '.'))
      return false;
  return h[0] != '-' && h[0] != '.';
}

static int
merge_mounts (const struct run_opts *o, struct nook_spec *spec, nook_error_t *err)
{
  size_t n = strv_len (o->volumes) + strv_len (o->tmpfs);
  spec->mounts = xzalloc (sizeof *spec->mounts * (n ? n : 1));
  for (size_t i = 0; o->volumes && o->volumes[i]; i++)
    if (spec_parse_volume (o->volumes[i], &spec->mounts[spec->n_mounts++], err) < 0)
      {
        spec->n_mounts--;
        return -1;
      }
  for (size_t i = 0; o->tmpfs && o->tmpfs[i]; i++)
    if (parse_tmpfs (o->tmpfs[i], &spec->mounts[spec->n_mounts++], err) < 0)
      {
        spec->n_mounts--;
        return -1;
      }
  size_t nl = strv_len (o->ulimits);
  spec->rlimits = xzalloc (sizeof *spec->rlimits * (nl ? nl : 1));
  for (size_t i = 0; i < nl; i++)
    if (spec_parse_ulimit (o->ulimits[i], &spec->rlimits[spec->n_rlimits++], err) < 0)
      return -1;
  return 0;
}

int
spec_merge (const json_t *image_config, const struct run_opts *o, const struct spec_env *e,
            const char *container_id, struct nook_spec *spec, nook_error_t *err)
{
  const json_t *cfg = image_config ? json_object_get (image_config, "config") : NULL;
  if (cfg && json_is_null (cfg))
    cfg = NULL;
  cleanup_free char *home = NULL;

  if (o->hostname && !valid_hostname (o->hostname))
    return nook_error_set (err, 0, "invalid hostname '%s'", o->hostname);
  spec->hostname = xstrdup (o->hostname ? o->hostname : container_id);
  if (strlen (spec->hostname) > 12 && !o->hostname)
    spec->hostname[12] = '\0';

  const char *wd = o->workdir ? o->workdir : json_str (cfg, "WorkingDir");
  if (wd && *wd && wd[0] != '/')
    return nook_error_set (
        err, EINVAL, "the working directory '%s' is invalid, it needs to be an absolute path", wd);
  spec->cwd = xstrdup (wd && *wd ? wd : "/");

  if (merge_argv (cfg, o, spec, err) < 0 || merge_user (cfg, o, e, spec, &home, err) < 0
      || merge_env (cfg, o, e, home, spec, err) < 0 || merge_mounts (o, spec, err) < 0)
    return -1;

  spec->tty = o->tty;
  spec->ephemeral = o->rm;
  spec->interactive = o->interactive;
  spec->readonly_rootfs = o->read_only;
  const char *net = o->network ? o->network : "none";
  if (strcmp (net, "none") == 0 || strcmp (net, "default") == 0)
    spec->network = NETWORK_NONE;
  else if (strcmp (net, "host") == 0)
    spec->network = NETWORK_HOST;
  else
    return nook_error_set (err, 0,
                           "invalid --network '%s': this nook supports none and host (user-mode "
                           "networking comes with slirp4netns support)",
                           net);

  spec->caps = o->privileged ? sandbox_caps_all () : sandbox_caps_default ();
  if (sandbox_caps_adjust (&spec->caps, o->cap_add, o->cap_drop, err) < 0)
    return -1;
  cleanup_free char *profile = NULL;
  if (spec_security_opts (o->security_opts, &spec->seccomp_unconfined, &profile, err) < 0)
    return -1;
  if (o->privileged)
    spec->seccomp_unconfined = spec->unmasked = true;
  return 0;
}
