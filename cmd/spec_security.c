/* cmd/spec_security.c: what bounds the container: --ulimit values and --security-opt. */
#include "cmd/spec.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

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
