/* imagefmt/dockerfile/flags.c: RUN, COPY and ADD flags (see flags.h).  Written from
 * BuildKit's flag parsing and its Dockerfile reference; messages are BuildKit's where
 * it has one. */
#include "imagefmt/dockerfile/flags.h"

#include "imagefmt/dockerfile/shell.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BAD(err, ...) nook_error_set_exit (err, 1, EINVAL, __VA_ARGS__)

/* ---- BuildKit's BFlags: which flags an instruction takes, each once ---- */

enum flag_type
{
  FLAG_BOOL,
  FLAG_STRING,
  FLAG_STRINGS, /* repeatable */
};

struct flag_def
{
  const char *name;
  enum flag_type type;
};

struct flag_val
{
  bool used;
  const char *value; /* FLAG_STRING and FLAG_BOOL ("true"/"false") */
  char **values;     /* FLAG_STRINGS */
};

/* Check flags against defs; vals[i] gets the value of defs[i]. */
static int
bflags_parse (char *const *flags, const struct flag_def *defs, size_t ndefs, struct flag_val *vals,
              nook_error_t *err)
{
  for (size_t i = 0; flags && flags[i]; i++)
    {
      const char *a = flags[i];
      if (strcmp (a, "--") == 0)
        return 0;
      if (strncmp (a, "--", 2) != 0)
        return BAD (err, "arg should start with -- : %s", a);
      const char *eq = strchr (a, '=');
      size_t nlen = eq ? (size_t)(eq - a) : strlen (a);
      const char *value = eq ? eq + 1 : NULL;
      size_t k = 0;
      while (k < ndefs
             && !(strlen (defs[k].name) == nlen - 2 && !strncmp (a + 2, defs[k].name, nlen - 2)))
        k++;
      if (k == ndefs)
        return BAD (err, "unknown flag: %.*s", (int)nlen, a);
      if (vals[k].used && defs[k].type != FLAG_STRINGS)
        return BAD (err, "duplicate flag specified: %.*s", (int)nlen, a);
      vals[k].used = true;
      switch (defs[k].type)
        {
        case FLAG_BOOL:
          if (value == NULL || strcmp (value, "true") == 0 || *value == '\0')
            vals[k].value = "true";
          else if (strcmp (value, "false") == 0)
            vals[k].value = "false";
          else
            return BAD (err, "expecting boolean value for flag %s, not: %s", defs[k].name, value);
          break;
        case FLAG_STRING:
          if (value == NULL)
            return BAD (err, "missing a value on flag: %.*s", (int)nlen, a);
          vals[k].value = value;
          break;
        case FLAG_STRINGS:
          if (value == NULL)
            return BAD (err, "missing a value on flag: %.*s", (int)nlen, a);
          strv_push (&vals[k].values, value);
          break;
        }
    }
  return 0;
}

static void
bflags_clear (struct flag_val *vals, size_t n)
{
  for (size_t i = 0; i < n; i++)
    strv_free (vals[i].values);
}

/* Expand value with env (env NULL: a copy). */
static int
expand (const char *value, char *const *env, char escape, const char *what, char **out,
        nook_error_t *err)
{
  cleanup_error nook_error_t xerr = NULL;
  if (env == NULL)
    {
      *out = xstrdup (value);
      return 0;
    }
  if (dockerfile_shell_expand_word (value, escape, env, out, &xerr) < 0)
    return BAD (err, "%s: %s", what, xerr->msg);
  return 0;
}

/* Go's strconv.ParseBool. */
static int
parse_bool (const char *s, bool *out)
{
  static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
  static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False", NULL };
  for (size_t i = 0; t[i]; i++)
    if (strcmp (s, t[i]) == 0)
      return *out = true, 0;
  for (size_t i = 0; f[i]; i++)
    if (strcmp (s, f[i]) == 0)
      return *out = false, 0;
  return -1;
}

/* strconv.ParseUint(s, base, 32). */
static int
parse_u32 (const char *s, int base, uint32_t *out)
{
  char *end;
  if (*s == '\0' || *s == '+' || *s == '-' || isspace ((unsigned char)*s))
    return -1;
  errno = 0;
  unsigned long long v = strtoull (s, &end, base);
  if (errno || *end || v > UINT32_MAX)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

/* go-units RAMInBytes: "64m", "1.5g", "100", "2 GiB" (binary multiples). */
static int
parse_ram (const char *s, uint64_t *out)
{
  const char *p = s;
  char *end;
  if (!isdigit ((unsigned char)*p))
    return -1;
  while (isdigit ((unsigned char)*p) || *p == '.')
    p++;
  cleanup_free char *num = xstrndup (s, (size_t)(p - s));
  errno = 0;
  double v = strtod (num, &end);
  if (errno || *end)
    return -1;
  if (*p == ' ')
    p++;
  double mult = 1;
  const char *units = "kmgtp";
  const char *u = *p ? strchr (units, tolower ((unsigned char)*p)) : NULL;
  if (u)
    {
      for (const char *q = units; q <= u; q++)
        mult *= 1024;
      p++;
      if (*p == 'i' || *p == 'I')
        p++;
    }
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p)
    return -1;
  v *= mult;
  if (v >= 18446744073709551615.0)
    return -1;
  *out = (uint64_t)v;
  return 0;
}

/* Go's path.Clean for a target used as a cache id. */
static char *
path_clean (const char *p)
{
  bool abs = p[0] == '/';
  char **parts = NULL;
  size_t n = 0;
  cleanup_free char *copy = xstrdup (p);
  struct strbuf b = { 0 };
  for (char *save = NULL, *t = strtok_r (copy, "/", &save); t; t = strtok_r (NULL, "/", &save))
    {
      if (strcmp (t, ".") == 0)
        continue;
      if (strcmp (t, "..") == 0)
        {
          if (n > 0 && strcmp (parts[n - 1], "..") != 0)
            {
              free (parts[--n]);
              parts[n] = NULL;
              continue;
            }
          if (abs)
            continue;
        }
      strv_push (&parts, t);
      n++;
    }
  if (abs)
    strbuf_append (&b, "/");
  for (size_t i = 0; i < n; i++)
    strbuf_appendf (&b, "%s%s", i ? "/" : "", parts[i]);
  strv_free (parts);
  if (b.len == 0)
    strbuf_append (&b, ".");
  return strbuf_steal (&b);
}

static const char *
base_name (const char *p)
{
  size_t n = strlen (p);
  while (n > 1 && p[n - 1] == '/')
    n--;
  const char *s = p + n;
  while (s > p && s[-1] != '/')
    s--;
  return s;
}

/* csvvalue.Fields: comma-separated, a field may be "quoted" ("" is a quote). */
static int
csv_fields (const char *s, char ***out, nook_error_t *err)
{
  char **v = NULL;
  const char *p = s;
  for (;;)
    {
      struct strbuf f = { 0 };
      strbuf_append (&f, "");
      if (*p == '"')
        {
          p++;
          for (;;)
            {
              if (*p == '\0')
                {
                  strbuf_free (&f);
                  strv_free (v);
                  return BAD (err, "failed to parse csv mounts: extraneous or missing \" in "
                                   "quoted-field");
                }
              if (*p == '"' && p[1] == '"')
                strbuf_appendc (&f, '"'), p += 2;
              else if (*p == '"')
                {
                  p++;
                  break;
                }
              else
                strbuf_appendc (&f, *p++);
            }
          if (*p != ',' && *p != '\0')
            {
              strbuf_free (&f);
              strv_free (v);
              return BAD (err, "failed to parse csv mounts: extraneous or missing \" in "
                               "quoted-field");
            }
        }
      else
        while (*p && *p != ',')
          {
            if (*p == '"')
              {
                strbuf_free (&f);
                strv_free (v);
                return BAD (err, "failed to parse csv mounts: bare \" in non-quoted-field");
              }
            strbuf_appendc (&f, *p++);
          }
      strv_push_take (&v, strbuf_steal (&f));
      if (*p == '\0')
        break;
      p++; /* ',' */
    }
  *out = v;
  return 0;
}

/* ---- --mount ---- */

static const char *const mount_types[] = { "bind", "cache", "tmpfs", "secret", "ssh", NULL };
static const char *const sharing_modes[] = { "shared", "private", "locked", NULL };

static int
lookup (const char *const *names, const char *v)
{
  for (int i = 0; names[i]; i++)
    if (strcasecmp (names[i], v) == 0)
      return i;
  return -1;
}

static const char *
type_name (enum dockerfile_mount_type t)
{
  return mount_types[t];
}

void
dockerfile_mount_clear (struct dockerfile_mount *m)
{
  free (m->from);
  free (m->source);
  free (m->target);
  free (m->id);
  free (m->env);
  memset (m, 0, sizeof *m);
}

static void
set_str (char **dst, char *v)
{
  free (*dst);
  *dst = v;
}

int
dockerfile_mount_parse (const char *value, char *const *env, char escape, size_t ssh_index,
                        struct dockerfile_mount *out, nook_error_t *err)
{
  cleanup_strv char **fields = NULL;
  struct dockerfile_mount m = { .type = DOCKERFILE_MOUNT_BIND };
  bool ro_auto = true, sharing_set = false, file_info;
  int r = -1;
  if (csv_fields (value, &fields, err) < 0)
    return nook_error_wrap (err, "--mount=%s", value);
  for (size_t i = 0; fields && fields[i]; i++)
    {
      const char *field = fields[i];
      const char *eq = strchr (field, '=');
      cleanup_free char *key = eq ? xstrndup (field, (size_t)(eq - field)) : xstrdup (field);
      cleanup_free char *v = NULL;
      for (char *c = key; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
      if (eq == NULL)
        {
          if (!strcmp (key, "readonly") || !strcmp (key, "ro"))
            m.readonly = true, ro_auto = false;
          else if (!strcmp (key, "readwrite") || !strcmp (key, "rw"))
            m.readonly = false, ro_auto = false;
          else if (!strcmp (key, "required")
                   && (m.type == DOCKERFILE_MOUNT_SECRET || m.type == DOCKERFILE_MOUNT_SSH))
            m.required = true;
          else if (!strcmp (key, "required"))
            {
              BAD (err, "unexpected key '%s' for mount type '%s'", key, type_name (m.type));
              goto out;
            }
          else
            {
              BAD (err, "invalid field '%s' must be a key=value pair", field);
              goto out;
            }
          continue;
        }
      if (!strcmp (key, "from"))
        {
          const char *dollar = strchr (eq + 1, '$');
          if (dollar && dollar[1] != '\0')
            {
              BAD (err, "'%s' doesn't support variable expansion, define alias stage instead", key);
              goto out;
            }
        }
      if (expand (eq + 1, env, escape, key, &v, err) < 0)
        goto out;
      if (!strcmp (key, "type"))
        {
          int t = lookup (mount_types, v);
          if (t < 0)
            {
              BAD (err, "unsupported mount type \"%s\" (bind, cache, tmpfs, secret or ssh)", v);
              goto out;
            }
          m.type = (enum dockerfile_mount_type)t;
        }
      else if (!strcmp (key, "from"))
        set_str (&m.from, steal_pointer (&v));
      else if (!strcmp (key, "source") || !strcmp (key, "src"))
        set_str (&m.source, steal_pointer (&v));
      else if (!strcmp (key, "target") || !strcmp (key, "dst") || !strcmp (key, "destination"))
        set_str (&m.target, steal_pointer (&v));
      else if (!strcmp (key, "readonly") || !strcmp (key, "ro") || !strcmp (key, "readwrite")
               || !strcmp (key, "rw"))
        {
          bool b;
          if (parse_bool (v, &b) < 0)
            {
              BAD (err, "invalid value for %s: %s", key, v);
              goto out;
            }
          bool ro_key = !strcmp (key, "readonly") || !strcmp (key, "ro");
          m.readonly = ro_key ? b : !b;
          ro_auto = false;
        }
      else if (!strcmp (key, "required"))
        {
          if (m.type != DOCKERFILE_MOUNT_SECRET && m.type != DOCKERFILE_MOUNT_SSH)
            {
              BAD (err, "unexpected key '%s' for mount type '%s'", key, type_name (m.type));
              goto out;
            }
          if (parse_bool (v, &m.required) < 0)
            {
              BAD (err, "invalid value for %s: %s", key, v);
              goto out;
            }
        }
      else if (!strcmp (key, "size"))
        {
          if (m.type != DOCKERFILE_MOUNT_TMPFS)
            {
              BAD (err, "unexpected key '%s' for mount type '%s'", key, type_name (m.type));
              goto out;
            }
          if (parse_ram (v, &m.size) < 0)
            {
              BAD (err, "invalid value for %s: %s", key, v);
              goto out;
            }
        }
      else if (!strcmp (key, "id"))
        set_str (&m.id, steal_pointer (&v));
      else if (!strcmp (key, "sharing"))
        {
          int s = lookup (sharing_modes, v);
          if (s < 0)
            {
              BAD (err, "unsupported sharing value \"%s\" (shared, private or locked)", v);
              goto out;
            }
          m.sharing = (enum dockerfile_mount_sharing)s;
          sharing_set = true;
        }
      else if (!strcmp (key, "mode"))
        {
          if (parse_u32 (v, 8, &m.mode) < 0)
            {
              BAD (err, "invalid value %s for mode", v);
              goto out;
            }
          m.has_mode = true;
        }
      else if (!strcmp (key, "uid") || !strcmp (key, "gid"))
        {
          uint32_t id;
          if (parse_u32 (v, 10, &id) < 0)
            {
              BAD (err, "invalid value %s for %s", v, key);
              goto out;
            }
          if (key[0] == 'u')
            m.uid = id, m.has_uid = true;
          else
            m.gid = id, m.has_gid = true;
        }
      else if (!strcmp (key, "env"))
        set_str (&m.env, steal_pointer (&v));
      else
        {
          BAD (err, "unexpected key '%s' in '%s'", key, field);
          goto out;
        }
    }

  file_info = m.type == DOCKERFILE_MOUNT_SECRET || m.type == DOCKERFILE_MOUNT_SSH
              || m.type == DOCKERFILE_MOUNT_CACHE;
  if (!file_info && (m.has_mode || m.has_uid || m.has_gid))
    {
      BAD (err, "%s not allowed for \"%s\" type mounts",
           m.has_mode  ? "mode"
           : m.has_uid ? "uid"
                       : "gid",
           type_name (m.type));
      goto out;
    }
  if (ro_auto)
    m.readonly = !(m.type == DOCKERFILE_MOUNT_CACHE || m.type == DOCKERFILE_MOUNT_TMPFS);
  if (sharing_set && m.type != DOCKERFILE_MOUNT_CACHE)
    {
      if (m.type == DOCKERFILE_MOUNT_SECRET)
        BAD (err, "secret mount should not define sharing");
      else
        BAD (err, "invalid cache sharing set for %s mount", type_name (m.type));
      goto out;
    }
  if (m.env && m.type != DOCKERFILE_MOUNT_SECRET)
    {
      BAD (err, "unexpected key 'env' for mount type '%s'", type_name (m.type));
      goto out;
    }
  switch (m.type)
    {
    case DOCKERFILE_MOUNT_SECRET:
      if (m.from)
        {
          BAD (err, "secret mount should not have a from");
          goto out;
        }
      if (m.source == NULL && m.target == NULL && m.id == NULL)
        {
          BAD (err, "invalid secret mount. one of source, target required");
          goto out;
        }
      if (m.source && m.id)
        {
          BAD (err, "both source and id can't be set");
          goto out;
        }
      if (m.source)
        set_str (&m.id, steal_pointer (&m.source));
      else if (m.id == NULL)
        m.id = xstrdup (base_name (m.target));
      if (m.target == NULL && m.env == NULL)
        m.target = xasprintf ("/run/secrets/%s", base_name (m.id));
      if (!m.has_mode)
        m.mode = 0400;
      break;
    case DOCKERFILE_MOUNT_SSH:
      if (m.source)
        {
          BAD (err, "ssh does not support source");
          goto out;
        }
      if (m.id == NULL)
        m.id = xstrdup ("default");
      if (m.target == NULL)
        m.target = xasprintf ("/run/buildkit/ssh_agent.%zu", ssh_index);
      if (!m.has_mode)
        m.mode = 0600;
      break;
    case DOCKERFILE_MOUNT_CACHE:
      if (m.id == NULL)
        m.id = path_clean (m.target ? m.target : "");
      if (!m.has_mode)
        m.mode = 0755;
      break;
    case DOCKERFILE_MOUNT_BIND:
    case DOCKERFILE_MOUNT_TMPFS:
      break;
    }
  *out = m;
  memset (&m, 0, sizeof m);
  r = 0;
out:
  if (r < 0)
    nook_error_wrap (err, "--mount=%s", value);
  dockerfile_mount_clear (&m);
  return r;
}

void
dockerfile_run_flags_clear (struct dockerfile_run_flags *f)
{
  for (size_t i = 0; i < f->n_mounts; i++)
    dockerfile_mount_clear (&f->mounts[i]);
  free (f->mounts);
  memset (f, 0, sizeof *f);
}

int
dockerfile_run_flags_parse (char *const *flags, char *const *env, char escape,
                            struct dockerfile_run_flags *out, nook_error_t *err)
{
  static const struct flag_def defs[] = {
    { "mount", FLAG_STRINGS },
    { "network", FLAG_STRING },
    { "security", FLAG_STRING },
  };
  struct flag_val vals[3] = { { 0 } };
  struct dockerfile_run_flags f = { 0 };
  size_t ssh = 0;
  int r = -1;
  if (bflags_parse (flags, defs, 3, vals, err) < 0)
    goto out;
  for (size_t i = 0; vals[0].values && vals[0].values[i]; i++)
    {
      f.mounts = xreallocarray (f.mounts, f.n_mounts + 1, sizeof *f.mounts);
      if (dockerfile_mount_parse (vals[0].values[i], env, escape, ssh, &f.mounts[f.n_mounts], err)
          < 0)
        goto out;
      if (f.mounts[f.n_mounts++].type == DOCKERFILE_MOUNT_SSH)
        ssh++;
    }
  if (vals[1].used)
    {
      const char *v = vals[1].value;
      if (strcmp (v, "default") == 0)
        f.network = DOCKERFILE_NETWORK_DEFAULT;
      else if (strcmp (v, "none") == 0)
        f.network = DOCKERFILE_NETWORK_NONE;
      else if (strcmp (v, "host") == 0)
        f.network = DOCKERFILE_NETWORK_HOST;
      else
        {
          BAD (err, "invalid network mode \"%s\" (default, none or host)", v);
          goto out;
        }
    }
  if (vals[2].used)
    {
      const char *v = vals[2].value;
      if (strcmp (v, "sandbox") == 0)
        f.security = DOCKERFILE_SECURITY_SANDBOX;
      else if (strcmp (v, "insecure") == 0)
        f.security = DOCKERFILE_SECURITY_INSECURE;
      else
        {
          BAD (err, "security \"%s\" is not valid (sandbox or insecure)", v);
          goto out;
        }
    }
  *out = f;
  memset (&f, 0, sizeof f);
  r = 0;
out:
  dockerfile_run_flags_clear (&f);
  bflags_clear (vals, 3);
  return r;
}

/* ---- COPY and ADD ---- */

int
dockerfile_chmod_parse (const char *text, struct dockerfile_chmod *out, nook_error_t *err)
{
  uint32_t v;
  memset (out, 0, sizeof *out);
  bool numeric = *text != '\0';
  for (const char *p = text; *p; p++)
    if (!isdigit ((unsigned char)*p))
      numeric = false;
  if (numeric)
    {
      if (parse_u32 (text, 8, &v) < 0 || v > 07777)
        return BAD (err,
                    "invalid chmod parameter: '%s'. it should be octal string and between 0 "
                    "and 07777",
                    text);
      out->set = true;
      out->mode = (mode_t)v;
      out->text = xstrdup (text);
      return 0;
    }
  /* chmod(1)'s symbolic form: clause[,clause...]; clause = [ugoa]*([-+=]([rwxXst]*|[ugo]))+ */
  const char *p = text;
  if (*p == '\0')
    return BAD (err, "invalid chmod parameter: ''");
  for (;;)
    {
      while (*p && strchr ("ugoa", *p))
        p++;
      if (*p == '\0' || !strchr ("+-=", *p))
        return BAD (err,
                    "invalid chmod parameter: '%s': expected an operator (+, - or =) at "
                    "'%s'",
                    text, *p ? p : "end");
      while (*p && strchr ("+-=", *p))
        {
          p++;
          if (*p && strchr ("ugo", *p))
            p++;
          else
            while (*p && strchr ("rwxXst", *p))
              p++;
        }
      if (*p == '\0')
        break;
      if (*p != ',')
        return BAD (err, "invalid chmod parameter: '%s': unexpected '%c'", text, *p);
      p++;
    }
  out->set = out->symbolic = true;
  out->text = xstrdup (text);
  return 0;
}

mode_t
dockerfile_chmod_apply (const struct dockerfile_chmod *c, mode_t current, bool is_dir)
{
  if (!c->set)
    return current;
  if (!c->symbolic)
    return (current & ~(mode_t)07777) | c->mode;
  mode_t m = current;
  const char *p = c->text;
  while (*p)
    {
      mode_t who = 0;
      while (*p && strchr ("ugoa", *p))
        {
          who |= *p == 'u' ? 04700 : *p == 'g' ? 02070 : *p == 'o' ? 01007 : 07777;
          p++;
        }
      if (who == 0)
        who = 07777;
      while (*p && strchr ("+-=", *p))
        {
          char op = *p++;
          mode_t bits = 0;
          if (*p && strchr ("ugo", *p))
            {
              /* copy the permissions of one class to the others */
              int shift = *p == 'u' ? 6 : *p == 'g' ? 3 : 0;
              mode_t rwx = (m >> shift) & 7;
              bits = (rwx << 6) | (rwx << 3) | rwx;
              p++;
            }
          else
            for (; *p && strchr ("rwxXst", *p); p++)
              switch (*p)
                {
                case 'r':
                  bits |= 0444;
                  break;
                case 'w':
                  bits |= 0222;
                  break;
                case 'x':
                  bits |= 0111;
                  break;
                case 'X':
                  if (is_dir || (current & 0111))
                    bits |= 0111;
                  break;
                case 's':
                  bits |= 06000;
                  break;
                case 't':
                  bits |= 01000;
                  break;
                }
          bits &= who;
          if (op == '+')
            m |= bits;
          else if (op == '-')
            m &= ~bits;
          else
            m = (m & ~(who & 07777)) | bits;
        }
      if (*p == ',')
        p++;
    }
  return m;
}

static bool
all_digits (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (!isdigit ((unsigned char)*s))
      return false;
  return true;
}

int
dockerfile_chown_parse (const char *text, struct dockerfile_chown *out, nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  const char *colon = strchr (text, ':');
  out->user = colon ? xstrndup (text, (size_t)(colon - text)) : xstrdup (text);
  out->group = colon ? xstrdup (colon + 1) : NULL;
  if (*out->user == '\0' || (out->group && *out->group == '\0')
      || (colon && strchr (colon + 1, ':')))
    {
      free (out->user);
      free (out->group);
      memset (out, 0, sizeof *out);
      return BAD (err, "invalid --chown value '%s': USER[:GROUP] expected", text);
    }
  if (all_digits (out->user))
    {
      if (parse_u32 (out->user, 10, &out->uid) < 0)
        {
          BAD (err, "invalid --chown value '%s': uid out of range", text);
          goto bad;
        }
      out->user_is_id = true;
    }
  if (out->group && all_digits (out->group))
    {
      if (parse_u32 (out->group, 10, &out->gid) < 0)
        {
          BAD (err, "invalid --chown value '%s': gid out of range", text);
          goto bad;
        }
      out->group_is_id = true;
    }
  out->set = true;
  return 0;
bad:
  free (out->user);
  free (out->group);
  memset (out, 0, sizeof *out);
  return -1;
}

int
dockerfile_checksum_check (const char *text, nook_error_t *err)
{
  const char *colon = strchr (text, ':');
  size_t want;
  if (colon == NULL)
    return BAD (err, "invalid checksum digest format: '%s' (ALGORITHM:HEX expected)", text);
  size_t alen = (size_t)(colon - text);
  if (alen == 6 && !strncmp (text, "sha256", 6))
    want = 64;
  else if (alen == 6 && !strncmp (text, "sha384", 6))
    want = 96;
  else if (alen == 6 && !strncmp (text, "sha512", 6))
    want = 128;
  else
    return BAD (err, "unsupported digest algorithm: '%.*s' (sha256, sha384 or sha512)", (int)alen,
                text);
  const char *hex = colon + 1;
  size_t n = strlen (hex);
  for (size_t i = 0; i < n; i++)
    if (!isdigit ((unsigned char)hex[i]) && !(hex[i] >= 'a' && hex[i] <= 'f'))
      return BAD (err, "invalid checksum digest format: '%s' (lower-case hex expected)", text);
  if (n != want)
    return BAD (err, "invalid checksum digest length: '%s' (%zu hex digits expected)", text, want);
  return 0;
}

void
dockerfile_copy_flags_clear (struct dockerfile_copy_flags *f)
{
  free (f->from);
  free (f->chown.user);
  free (f->chown.group);
  free (f->chmod.text);
  strv_free (f->exclude);
  free (f->checksum);
  memset (f, 0, sizeof *f);
}

int
dockerfile_copy_flags_parse (char *const *flags, bool add, char *const *env, char escape,
                             struct dockerfile_copy_flags *out, nook_error_t *err)
{
  static const struct flag_def copy_defs[] = {
    { "chown", FLAG_STRING },    { "chmod", FLAG_STRING }, { "link", FLAG_BOOL },
    { "exclude", FLAG_STRINGS }, { "from", FLAG_STRING },  { "parents", FLAG_BOOL },
  };
  static const struct flag_def add_defs[] = {
    { "chown", FLAG_STRING },    { "chmod", FLAG_STRING },    { "link", FLAG_BOOL },
    { "exclude", FLAG_STRINGS }, { "checksum", FLAG_STRING }, { "keep-git-dir", FLAG_BOOL },
    { "unpack", FLAG_BOOL },
  };
  const struct flag_def *defs = add ? add_defs : copy_defs;
  size_t n = add ? 7 : 6;
  struct flag_val vals[7] = { { 0 } };
  struct dockerfile_copy_flags f = { .add = add };
  int r = -1;
  if (bflags_parse (flags, defs, n, vals, err) < 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    {
      const char *name = defs[i].name;
      const char *v = vals[i].value;
      cleanup_free char *x = NULL;
      if (!vals[i].used)
        continue;
      if (!strcmp (name, "chown") || !strcmp (name, "chmod") || !strcmp (name, "checksum"))
        {
          cleanup_free char *what = xasprintf ("--%s", name);
          if (expand (v, env, escape, what, &x, err) < 0)
            goto out;
          if (*x == '\0')
            continue; /* BuildKit: an empty value (e.g. an empty ARG) means no flag */
        }
      if (!strcmp (name, "chown"))
        {
          if (dockerfile_chown_parse (x, &f.chown, err) < 0)
            goto out;
        }
      else if (!strcmp (name, "chmod"))
        {
          if (dockerfile_chmod_parse (x, &f.chmod, err) < 0)
            goto out;
        }
      else if (!strcmp (name, "checksum"))
        f.checksum = steal_pointer (&x);
      else if (!strcmp (name, "link"))
        f.link = strcmp (v, "true") == 0;
      else if (!strcmp (name, "parents"))
        f.parents = strcmp (v, "true") == 0;
      else if (!strcmp (name, "keep-git-dir"))
        f.keep_git_dir_set = true, f.keep_git_dir = strcmp (v, "true") == 0;
      else if (!strcmp (name, "unpack"))
        f.unpack_set = true, f.unpack = strcmp (v, "true") == 0;
      else if (!strcmp (name, "from"))
        {
          if (*v == '\0')
            continue;
          f.from = xstrdup (v);
        }
      else if (!strcmp (name, "exclude"))
        f.exclude = steal_pointer (&vals[i].values);
    }
  *out = f;
  memset (&f, 0, sizeof f);
  r = 0;
out:
  dockerfile_copy_flags_clear (&f);
  bflags_clear (vals, n);
  return r;
}
