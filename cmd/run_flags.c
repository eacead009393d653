/* cmd/run_flags.c: `nook run` flags into struct run_opts (see run_flags.h). */
#include "cmd/spec.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

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
  { "domainname", 0, O_STR, OFF (domainname) },
  { "group-add", 0, O_LIST, OFF (group_add) },
  { "sysctl", 0, O_LIST, OFF (sysctls) },
  { "name", 0, O_STR, OFF (name) },
  { "network", 0, O_STR, OFF (network) },
  { "net", 0, O_STR, OFF (network) },
  { "storage-driver", 0, O_STR, OFF (storage_driver) },
  { "stop-timeout", 0, O_STR, OFF (stop_timeout) },
  { "pull", 0, O_STR, OFF (pull) },
  { "platform", 0, O_STR, OFF (platform) },
  { "restart", 0, O_STR, OFF (restart) },
  { "log-driver", 0, O_STR, OFF (log_driver) },
  { "log-opt", 0, O_LIST, OFF (log_opts) },
  { "stop-signal", 0, O_STR, OFF (stop_signal) },
  { "cidfile", 0, O_STR, OFF (cidfile) },
  { "detach-keys", 0, O_STR, OFF (detach_keys) },
  { "env", 'e', O_LIST, OFF (env) },
  { "env-file", 0, O_LIST, OFF (env_files) },
  { "volume", 'v', O_LIST, OFF (volumes) },
  { "tmpfs", 0, O_LIST, OFF (tmpfs) },
  { "cap-add", 0, O_LIST, OFF (cap_add) },
  { "cap-drop", 0, O_LIST, OFF (cap_drop) },
  { "security-opt", 0, O_LIST, OFF (security_opts) },
  { "ulimit", 0, O_LIST, OFF (ulimits) },
  { "publish", 'p', O_LIST, OFF (publish) },
  { "publish-all", 'P', O_BOOL, OFF (publish_all) },
  { "expose", 0, O_LIST, OFF (expose) },
  { "dns", 0, O_LIST, OFF (dns) },
  { "dns-search", 0, O_LIST, OFF (dns_search) },
  { "dns-option", 0, O_LIST, OFF (dns_options) },
  { "dns-opt", 0, O_LIST, OFF (dns_options) },
  { "add-host", 0, O_LIST, OFF (add_hosts) },
  { "label", 'l', O_LIST, OFF (labels) },
  { "label-file", 0, O_LIST, OFF (label_files) },
  { "mount", 0, O_LIST, OFF (mounts) },
  { "volumes-from", 0, O_LIST, OFF (volumes_from) },
  { "network-alias", 0, O_LIST, OFF (network_aliases) },
  { "ip", 0, O_STR, OFF (ip) },
  { "health-cmd", 0, O_STR, OFF (health_cmd) },
  { "health-interval", 0, O_STR, OFF (health_interval) },
  { "health-timeout", 0, O_STR, OFF (health_timeout) },
  { "health-retries", 0, O_STR, OFF (health_retries) },
  { "health-start-period", 0, O_STR, OFF (health_start_period) },
  { "health-start-interval", 0, O_STR, OFF (health_start_interval) },
  { "no-healthcheck", 0, O_BOOL, OFF (no_healthcheck) },
  { "init", 0, O_BOOL, OFF (init) },
};

static int
set_opt (struct run_opts *o, const struct optdef *d, const char *val, nook_error_t *err)
{
  char *base = (char *)o + d->off;
  switch (d->kind)
    {
    case O_BOOL:
      if (d->off == OFF (init))
        o->init_set = true;
      if (val == NULL || strcmp (val, "true") == 0)
        *(bool *)base = true;
      else if (strcmp (val, "false") == 0)
        *(bool *)base = false;
      else
        return nook_error_set (err, EINVAL, "invalid argument \"%s\" for \"--%s\" flag", val,
                               d->lng);
      break;
    case O_STR:
      if (d->off == OFF (network) && o->network)
        {
          /* the first stays: cmd/run_net.c names both */
          if (!o->network_twice)
            o->network_twice = xstrdup (val);
          break;
        }
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
  free (o->pull);
  free (o->platform);
  free (o->restart);
  free (o->log_driver);
  free (o->stop_signal);
  free (o->cidfile);
  free (o->detach_keys);
  free (o->domainname);
  strv_free (o->sysctls);
  strv_free (o->group_add);
  strv_free (o->log_opts);
  char ***lists[] = { &o->env,         &o->env_files,     &o->volumes,     &o->tmpfs, &o->cap_add,
                      &o->cap_drop,    &o->security_opts, &o->ulimits,     &o->cmd,   &o->labels,
                      &o->label_files, &o->mounts,        &o->volumes_from };
  for (size_t i = 0; i < ARRAY_SIZE (lists); i++)
    strv_free (*lists[i]);
  char ***net[] = { &o->publish,   &o->expose,         &o->dns, &o->dns_search, &o->dns_options,
                    &o->add_hosts, &o->network_aliases };
  for (size_t i = 0; i < ARRAY_SIZE (net); i++)
    strv_free (*net[i]);
  free (o->ip);
  free (o->network_twice);
  char **health[] = { &o->health_cmd,     &o->health_interval,     &o->health_timeout,
                      &o->health_retries, &o->health_start_period, &o->health_start_interval };
  for (size_t i = 0; i < ARRAY_SIZE (health); i++)
    free (*health[i]);
  memset (o, 0, sizeof *o);
}
