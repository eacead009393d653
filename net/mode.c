/* net/mode.c: see mode.h. */
#include "net/mode.h"
#include "util/cleanup.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
parse_opts (const char *value, const char *opts, struct net_mode *m, nook_error_t *err)
{
  cleanup_free char *copy = xstrdup (opts);
  char *save = NULL;
  for (char *o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (o, '=');
      const char *v = eq ? eq + 1 : "";
      if (eq)
        *eq = '\0';
      if (strcmp (o, "allow_host_loopback") == 0)
        {
          if (strcmp (v, "true") != 0 && strcmp (v, "false") != 0)
            return nook_error_set (err, 0,
                                   "invalid --network '%s': allow_host_loopback wants true or "
                                   "false, not '%s'",
                                   value, v);
          m->allow_host_loopback = strcmp (v, "true") == 0;
        }
      else if (strcmp (o, "mtu") == 0)
        {
          cleanup_error nook_error_t e = NULL;
          uint64_t n;
          if (parse_uint (v, 65520, &n, "mtu", &e) < 0 || n < 576)
            return nook_error_set (err, 0,
                                   "invalid --network '%s': mtu wants a number from 576 to "
                                   "65520, not '%s'",
                                   value, v);
          m->mtu = (unsigned)n;
        }
      else
        return nook_error_set (err, 0,
                               "invalid --network '%s': unknown option '%s' (known: "
                               "allow_host_loopback=true|false, mtu=N)",
                               value, o);
    }
  return 0;
}

int
net_mode_parse (const char *value, struct net_mode *m, nook_error_t *err)
{
  memset (m, 0, sizeof *m);
  m->mtu = NET_MTU;
  m->kind = NET_LIBSLIRP;
  if (value == NULL || strcmp (value, "bridge") == 0 || strcmp (value, "default") == 0)
    return 0;
  if (strcmp (value, "none") == 0)
    {
      m->kind = NET_NONE;
      return 0;
    }
  if (strcmp (value, "host") == 0)
    {
      m->kind = NET_HOST;
      return 0;
    }
  static const struct
  {
    const char *name;
    enum net_kind kind;
  } backends[] = { { "libslirp", NET_LIBSLIRP }, { "slirp4netns", NET_SLIRP4NETNS } };
  for (size_t i = 0; i < ARRAY_SIZE (backends); i++)
    {
      size_t n = strlen (backends[i].name);
      if (strncmp (value, backends[i].name, n) == 0 && (value[n] == '\0' || value[n] == ':'))
        {
          m->kind = backends[i].kind;
          return value[n] == ':' ? parse_opts (value, value + n + 1, m, err) : 0;
        }
    }
  if (str_has_prefix (value, "container:"))
    {
      m->kind = NET_CONTAINER;
      m->target = value + strlen ("container:");
      if (*m->target == '\0')
        return nook_error_set (err, 0, "invalid --network '%s': container: wants a name or ID",
                               value);
      return 0;
    }
  bool valid = *value != '\0' && strlen (value) <= 64;
  for (const char *c = value; valid && *c; c++)
    valid = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
            || (c > value && (*c == '_' || *c == '.' || *c == '-'));
  if (!valid)
    return nook_error_set (err, 0,
                           "network %s not found (--network takes bridge, none, host, "
                           "libslirp[:OPTIONS], slirp4netns[:OPTIONS], container:NAME or the "
                           "name of a network made by `nook network create`)",
                           value);
  m->kind = NET_USER;
  m->target = value;
  return 0;
}

const char *
net_mode_name (const struct net_mode *m)
{
  switch (m->kind)
    {
    case NET_NONE:
      return "none";
    case NET_HOST:
      return "host";
    case NET_SLIRP4NETNS:
      return "slirp4netns";
    case NET_USER:
      return m->target;
    case NET_CONTAINER:
      return "container";
    case NET_LIBSLIRP:
    default:
      return "bridge";
    }
}

bool
net_mode_user (const struct net_mode *m)
{
  return m->kind == NET_LIBSLIRP || m->kind == NET_SLIRP4NETNS;
}
