/* cmd/spec_mounts.c: -v/--volume and --tmpfs values as mounts. */
#include "cmd/spec.h"
#include "sandbox/mount.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  if (n == 1)
    return nook_error_set (err, 0,
                           "invalid volume '%s': anonymous volumes are not supported yet, "
                           "give HOST:CONTAINER",
                           s);
  for (int i = 0; i < n; i++)
    if (len[i] == 0)
      return nook_error_set (err, 0, "invalid volume '%s': the %s empty", s, what[i]);
  cleanup_free char *host = xstrndup (field[0], len[0]);
  cleanup_free char *ctr = xstrndup (field[1], len[1]);
  if (host[0] != '/')
    return nook_error_set (err, 0,
                           "invalid volume '%s': the host path '%s' must be absolute (named "
                           "volumes are not supported yet)",
                           s, host);
  if (!path_is_clean_absolute (ctr) || strcmp (ctr, "/") == 0)
    return nook_error_set (err, 0,
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
