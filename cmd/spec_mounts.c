/* cmd/spec_mounts.c: -v/--volume and --tmpfs values as mounts. */
#include "cmd/spec.h"
#include "cmd/volumes.h"
#include "sandbox/mount.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
  { "ro", 0 },     { "rw", 0 }, /* access */
  { "z", 1 },      { "Z", 1 },  /* SELinux labels: nook has none, accepted as podman does */
  { "rbind", 2 },               /* nook's binds are always recursive */
  { "nocopy", 3 },              /* a volume: not filled from the image */
};

static int
volume_options (const char *spec, const char *opts, bool *ro, bool *nocopy, nook_error_t *err)
{
  const char *seen[4] = { NULL, NULL, NULL, NULL };
  size_t seen_len[4] = { 0, 0, 0, 0 };
  for (const char *o = opts;;)
    {
      size_t n = strcspn (o, ",");
      int group = -1;
      for (size_t i = 0; i < ARRAY_SIZE (volume_opts) && group < 0; i++)
        if (strlen (volume_opts[i].name) == n && strncmp (o, volume_opts[i].name, n) == 0)
          group = volume_opts[i].group;
      if (n == 0)
        return nook_error_set (err, 0, "invalid volume '%s': empty option in '%s'", spec, opts);
      if (group < 0)
        return nook_error_set (err, 0, "invalid volume '%s': unknown option '%.*s'", spec, (int)n,
                               o);
      if (seen[group])
        return nook_error_set (err, 0, "invalid volume '%s': conflicting options '%.*s' and '%.*s'",
                               spec, (int)seen_len[group], seen[group], (int)n, o);
      seen[group] = o;
      seen_len[group] = n;
      if (group == 0)
        *ro = n == 2 && strncmp (o, "ro", 2) == 0;
      if (group == 3)
        *nocopy = true;
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
        return nook_error_set (err, 0,
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
  for (int i = 0; i < n; i++)
    if (len[i] == 0)
      return nook_error_set (err, 0, "invalid volume '%s': the %s empty", s, what[i]);
  if (n == 1)
    {
      /* -v /path: an anonymous volume */
      cleanup_free char *only = xstrndup (field[0], len[0]);
      if (!path_is_clean_absolute (only) || strcmp (only, "/") == 0)
        return nook_error_set (err, 0,
                               "invalid volume '%s': an anonymous volume needs an absolute "
                               "container path, not /, without '..'",
                               s);
      *out = (struct nook_mount){ .kind = MOUNT_BIND, .target = steal_pointer (&only) };
      return 0;
    }
  cleanup_free char *host = xstrndup (field[0], len[0]);
  cleanup_free char *ctr = xstrndup (field[1], len[1]);
  /* HOST: an absolute path (a bind) or a volume name (created when missing) */
  if (host[0] != '/' && !volume_name_valid (host))
    return nook_error_set (err, 0,
                           "invalid volume '%s': \"%s\" includes invalid characters for a local "
                           "volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed; a host "
                           "path must be absolute",
                           s, host);
  if (!path_is_clean_absolute (ctr) || strcmp (ctr, "/") == 0)
    return nook_error_set (err, 0,
                           "invalid volume '%s': the container path '%s' must be absolute, not /, "
                           "without '..'",
                           s, ctr);
  bool ro = false, nocopy = false;
  if (n == 3)
    {
      cleanup_free char *opts = xstrndup (field[2], len[2]);
      if (volume_options (s, opts, &ro, &nocopy, err) < 0)
        return -1;
    }
  if (nocopy && host[0] == '/')
    return nook_error_set (err, 0, "invalid volume '%s': nocopy applies to volumes, not binds", s);
  *out = (struct nook_mount){ .kind = MOUNT_BIND,
                              .source = steal_pointer (&host),
                              .target = steal_pointer (&ctr),
                              .readonly = ro,
                              .options = nocopy ? xstrdup ("nocopy") : NULL };
  return 0;
}

/* --mount's boolean options: "readonly", "readonly=true|false|1|0". */
static int
mount_bool (const char *s, const char *key, const char *val, bool *out, nook_error_t *err)
{
  if (val == NULL || strcmp (val, "true") == 0 || strcmp (val, "1") == 0)
    *out = true;
  else if (strcmp (val, "false") == 0 || strcmp (val, "0") == 0)
    *out = false;
  else
    return nook_error_set (err, 0, "invalid --mount '%s': invalid value for %s: %s", s, key, val);
  return 0;
}

int
spec_parse_mount (const char *s, struct nook_mount *out, nook_error_t *err)
{
  cleanup_free char *copy = xstrdup (s);
  cleanup_free char *type = NULL, *src = NULL, *dst = NULL;
  cleanup_free char *tmpfs_opts = NULL;
  bool ro = false, nocopy = false;
  unsigned long cuid = 0, cgid = 0, cmode = 0444;
  const char *cfield = NULL; /* uid=, gid=, mode=: a copy's only */
  struct strbuf topts = { 0 };
  char *save = NULL;
  for (char *f = strtok_r (copy, ",", &save); f; f = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (f, '=');
      const char *val = eq ? eq + 1 : NULL;
      if (eq)
        *eq = '\0';
      if (strcmp (f, "type") == 0 && val)
        free (type), type = xstrdup (val);
      else if ((strcmp (f, "source") == 0 || strcmp (f, "src") == 0) && val)
        free (src), src = xstrdup (val);
      else if ((strcmp (f, "destination") == 0 || strcmp (f, "dst") == 0
                || strcmp (f, "target") == 0)
               && val)
        free (dst), dst = xstrdup (val);
      else if (strcmp (f, "readonly") == 0 || strcmp (f, "ro") == 0)
        {
          if (mount_bool (s, f, val, &ro, err) < 0)
            goto fail;
        }
      else if (strcmp (f, "volume-nocopy") == 0)
        {
          if (mount_bool (s, f, val, &nocopy, err) < 0)
            goto fail;
        }
      else if ((strcmp (f, "uid") == 0 || strcmp (f, "gid") == 0 || strcmp (f, "mode") == 0) && val)
        {
          char *end = NULL;
          errno = 0;
          unsigned long v = strtoul (val, &end, strcmp (f, "mode") == 0 ? 8 : 10);
          if (errno || end == val || *end
              || (strcmp (f, "mode") == 0 ? v > 07777 : v > 0xfffffffeUL))
            {
              nook_error_set (err, 0, "invalid --mount '%s': invalid value for %s: %s", s, f, val);
              goto fail;
            }
          *(strcmp (f, "uid") == 0 ? &cuid : strcmp (f, "gid") == 0 ? &cgid : &cmode) = v;
          cfield = strcmp (f, "uid") == 0 ? "uid" : strcmp (f, "gid") == 0 ? "gid" : "mode";
        }
      else if (strcmp (f, "tmpfs-size") == 0 && val)
        strbuf_appendf (&topts, "%ssize=%s", topts.len ? "," : "", val);
      else if (strcmp (f, "tmpfs-mode") == 0 && val)
        strbuf_appendf (&topts, "%smode=%s", topts.len ? "," : "", val);
      else if ((strcmp (f, "bind-propagation") == 0 && val
                && (strcmp (val, "rprivate") == 0 || strcmp (val, "private") == 0))
               || strcmp (f, "consistency") == 0
               || (strcmp (f, "volume-driver") == 0 && val && strcmp (val, "local") == 0))
        ; /* what nook does anyway (binds are private), or meaningless here */
      else
        {
          nook_error_set (err, 0, "invalid --mount '%s': unsupported field '%s%s%s'", s, f,
                          val ? "=" : "", val ? val : "");
          goto fail;
        }
    }
  tmpfs_opts = strbuf_steal (&topts);
  if (type == NULL)
    type = xstrdup ("volume");
  if (dst == NULL || !path_is_clean_absolute (dst) || strcmp (dst, "/") == 0)
    return nook_error_set (err, 0,
                           "invalid --mount '%s': a destination (dst=) must be an absolute path, "
                           "not /, without '..'",
                           s);
  if (cfield && strcmp (type, "copy") != 0)
    return nook_error_set (err, 0, "invalid --mount '%s': %s= is only for type=copy", s, cfield);
  if (strcmp (type, "bind") == 0)
    {
      if (src == NULL || src[0] != '/')
        return nook_error_set (err, 0, "invalid --mount '%s': a bind needs an absolute source", s);
      struct stat st;
      if (stat (src, &st) < 0)
        return nook_error_set (err, 0, "invalid --mount '%s': bind source path does not exist: %s",
                               s, src);
      *out = (struct nook_mount){ .kind = MOUNT_BIND,
                                  .source = steal_pointer (&src),
                                  .target = steal_pointer (&dst),
                                  .readonly = ro };
      return 0;
    }
  if (strcmp (type, "volume") == 0)
    {
      if (src && !volume_name_valid (src))
        return nook_error_set (err, 0,
                               "invalid --mount '%s': \"%s\" includes invalid characters for a "
                               "local volume name",
                               s, src);
      *out = (struct nook_mount){ .kind = MOUNT_BIND,
                                  .source = steal_pointer (&src),
                                  .target = steal_pointer (&dst),
                                  .readonly = ro,
                                  .options = nocopy ? xstrdup ("nocopy") : NULL };
      return 0;
    }
  if (strcmp (type, "tmpfs") == 0)
    {
      if (src)
        return nook_error_set (err, 0, "invalid --mount '%s': a tmpfs has no source", s);
      unsigned long flags;
      cleanup_free char *data = NULL;
      if (sandbox_tmpfs_options (tmpfs_opts, &flags, &data, err) < 0)
        return nook_error_wrap (err, "invalid --mount '%s'", s);
      *out = (struct nook_mount){ .kind = MOUNT_TMPFS,
                                  .target = steal_pointer (&dst),
                                  .readonly = ro,
                                  .options = steal_pointer (&tmpfs_opts) };
      return 0;
    }
  if (strcmp (type, "copy") == 0)
    {
      struct stat st;
      if (src == NULL || src[0] != '/')
        return nook_error_set (err, 0, "invalid --mount '%s': a copy needs an absolute source", s);
      if (stat (src, &st) < 0 || !S_ISREG (st.st_mode))
        return nook_error_set (
            err, 0, "invalid --mount '%s': copy source path is not a regular file: %s", s, src);
      *out = (struct nook_mount){ .kind = MOUNT_COPY,
                                  .source = steal_pointer (&src),
                                  .target = steal_pointer (&dst),
                                  .readonly = true,
                                  .options
                                  = xasprintf ("uid=%lu,gid=%lu,mode=%04lo", cuid, cgid, cmode) };
      return 0;
    }
  return nook_error_set (err, 0, "invalid --mount '%s': type must be bind, volume, tmpfs or copy",
                         s);
fail:
  strbuf_free (&topts);
  return -1;
}

int
spec_parse_tmpfs (const char *s, struct nook_mount *out, nook_error_t *err)
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
