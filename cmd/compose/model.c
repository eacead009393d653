/* cmd/compose/model.c: the canonical model (jansson) as C structs. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/compose/model.h"
#include "cmd/compose/normalize.h"
#include "imagefmt/digest.h"
#include "util/cleanup.h"
#include "util/util.h"

int64_t
compose_duration_parse (const char *s)
{
  static const struct
  {
    const char *unit;
    double ns;
  } units[] = { { "ns", 1 },  { "us", 1e3 }, { "µs", 1e3 },  { "ms", 1e6 },
                { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 } };
  if (s == NULL || *s == '\0')
    return -1;
  if (strcmp (s, "0") == 0)
    return 0;
  double total = 0;
  const char *p = s;
  while (*p)
    {
      char *end;
      double v = strtod (p, &end);
      if (end == p || v < 0)
        return -1;
      p = end;
      size_t best = 0;
      double mult = 0;
      for (size_t i = 0; i < ARRAY_SIZE (units); i++)
        {
          size_t l = strlen (units[i].unit);
          if (strncmp (p, units[i].unit, l) == 0 && l > best)
            {
              best = l;
              mult = units[i].ns;
            }
        }
      if (best == 0)
        return -1;
      /* "m" must not eat the "m" of "ms" */
      p += best;
      total += v * mult;
    }
  return (int64_t)total;
}

int64_t
compose_size_parse (const char *s)
{
  if (s == NULL || *s == '\0')
    return -1;
  char *end;
  double v = strtod (s, &end);
  if (end == s || v < 0)
    return -1;
  static const struct
  {
    const char *suffix;
    double mult;
  } sfx[] = { { "", 1 },
              { "b", 1 },
              { "k", 1024.0 },
              { "kb", 1024.0 },
              { "m", 1048576.0 },
              { "mb", 1048576.0 },
              { "g", 1073741824.0 },
              { "gb", 1073741824.0 },
              { "t", 1099511627776.0 },
              { "tb", 1099511627776.0 } };
  double m = -1;
  for (size_t i = 0; i < ARRAY_SIZE (sfx); i++)
    if (strcasecmp (end, sfx[i].suffix) == 0)
      m = sfx[i].mult;
  if (m < 0)
    return -1;
  return (int64_t)(v * m);
}

static char *
str (json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? xstrdup (s) : NULL;
}

static char *
scalar (json_t *v)
{
  if (json_is_string (v))
    return xstrdup (json_string_value (v));
  if (json_is_integer (v))
    return xasprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (v));
  if (json_is_real (v))
    return xasprintf ("%g", json_real_value (v));
  if (json_is_boolean (v))
    return xstrdup (json_is_true (v) ? "true" : "false");
  return NULL;
}

static char **
strv_of (json_t *v)
{
  char **out = NULL;
  if (json_is_string (v))
    strv_push (&out, json_string_value (v));
  size_t i;
  json_t *x;
  json_array_foreach (v, i, x)
  {
    char *s = scalar (x);
    if (s)
      strv_push_take (&out, s);
  }
  return out;
}

/* A mapping as KEY=VALUE (KEY alone for null), or a list as it is. */
static char **
kv_of (json_t *v)
{
  if (!json_is_object (v))
    return strv_of (v);
  char **out = NULL;
  const char *k;
  json_t *x;
  json_object_foreach (v, k, x)
  {
    cleanup_free char *s = scalar (x);
    strv_push_take (&out, s ? xasprintf ("%s=%s", k, s) : xstrdup (k));
  }
  return out;
}

static int64_t
num (json_t *o, const char *k, int64_t dflt)
{
  json_t *v = json_object_get (o, k);
  if (json_is_integer (v))
    return json_integer_value (v);
  if (json_is_real (v))
    return (int64_t)json_real_value (v);
  if (json_is_string (v))
    {
      char *end;
      long long n = strtoll (json_string_value (v), &end, 0);
      if (*end == '\0' && end != json_string_value (v))
        return n;
    }
  return dflt;
}

static int64_t
duration (json_t *o, const char *k)
{
  json_t *v = json_object_get (o, k);
  if (json_is_integer (v))
    return json_integer_value (v) * 1000000000LL;
  return json_is_string (v) ? compose_duration_parse (json_string_value (v)) : -1;
}

static bool
flag (json_t *o, const char *k)
{
  return json_is_true (json_object_get (o, k));
}

static struct compose_build *
build_of (json_t *b)
{
  if (!json_is_object (b))
    return NULL;
  struct compose_build *r = xzalloc (sizeof *r);
  r->context = str (b, "context");
  r->dockerfile = str (b, "dockerfile");
  r->dockerfile_inline = str (b, "dockerfile_inline");
  r->args = kv_of (json_object_get (b, "args"));
  r->target = str (b, "target");
  json_t *secrets = json_object_get (b, "secrets");
  size_t i;
  json_t *x;
  json_array_foreach (secrets, i, x)
  {
    strv_push (&r->secrets, json_is_string (x) ? json_string_value (x)
                                               : json_string_value (json_object_get (x, "source")) ?: "");
  }
  r->cache_from = strv_of (json_object_get (b, "cache_from"));
  r->tags = strv_of (json_object_get (b, "tags"));
  r->labels = kv_of (json_object_get (b, "labels"));
  r->network = str (b, "network");
  r->extra_hosts = strv_of (json_object_get (b, "extra_hosts"));
  r->platforms = strv_of (json_object_get (b, "platforms"));
  return r;
}

static int
service_of (const char *name, json_t *s, struct compose_service *r, nook_error_t *err)
{
  size_t i;
  json_t *x;
  r->name = xstrdup (name);
  r->raw = s;
  r->image = str (s, "image");
  r->build = build_of (json_object_get (s, "build"));
  if ((x = json_object_get (s, "command")) && !json_is_null (x))
    r->command_set = true, r->command = strv_of (x);
  if ((x = json_object_get (s, "entrypoint")) && !json_is_null (x))
    r->entrypoint_set = true, r->entrypoint = strv_of (x);
  r->environment = kv_of (json_object_get (s, "environment"));
  json_array_foreach (json_object_get (s, "env_file"), i, x)
  {
    strv_push (&r->env_files, json_is_string (x) ? json_string_value (x)
                                                 : json_string_value (json_object_get (x, "path")) ?: "");
  }
  json_t *ports = json_object_get (s, "ports");
  r->ports = xzalloc ((json_array_size (ports) + 1) * sizeof *r->ports);
  json_array_foreach (ports, i, x)
  {
    struct compose_port *p = &r->ports[r->n_ports++];
    int64_t t = num (x, "target", -1);
    if (t < 1 || t > 65535)
      return nook_error_set (
          err, 0, "services.%s.ports[%zu]: target %" PRId64 " is not a port number", name, i, t);
    p->target = (uint16_t)t;
    p->host_ip = str (x, "host_ip");
    p->published = scalar (json_object_get (x, "published"));
    p->protocol = str (x, "protocol");
    p->mode = str (x, "mode");
    p->name = str (x, "name");
    p->app_protocol = str (x, "app_protocol");
  }
  r->expose = strv_of (json_object_get (s, "expose"));
  json_t *vols = json_object_get (s, "volumes");
  r->mounts = xzalloc ((json_array_size (vols) + 1) * sizeof *r->mounts);
  json_array_foreach (vols, i, x)
  {
    struct compose_mount *m = &r->mounts[r->n_mounts++];
    m->type_name = str (x, "type");
    const char *t = m->type_name ? m->type_name : "";
    m->type = strcmp (t, "bind") == 0     ? COMPOSE_MOUNT_BIND
              : strcmp (t, "volume") == 0 ? COMPOSE_MOUNT_VOLUME
              : strcmp (t, "tmpfs") == 0  ? COMPOSE_MOUNT_TMPFS
                                          : COMPOSE_MOUNT_OTHER;
    m->source = str (x, "source");
    m->target = str (x, "target");
    m->read_only = flag (x, "read_only");
    json_t *b = json_object_get (x, "bind"), *v = json_object_get (x, "volume"),
           *tm = json_object_get (x, "tmpfs");
    m->create_host_path = flag (b, "create_host_path");
    m->selinux = str (b, "selinux");
    m->propagation = str (b, "propagation");
    m->nocopy = flag (v, "nocopy");
    m->subpath = str (v, "subpath");
    json_t *size = json_object_get (tm, "size");
    m->tmpfs_size = json_is_integer (size)  ? json_integer_value (size)
                    : json_is_string (size) ? compose_size_parse (json_string_value (size))
                                            : -1;
    m->tmpfs_mode = num (tm, "mode", -1);
  }
  r->tmpfs = strv_of (json_object_get (s, "tmpfs"));
  r->working_dir = str (s, "working_dir");
  r->user = str (s, "user");
  r->group_add = strv_of (json_object_get (s, "group_add"));
  r->hostname = str (s, "hostname");
  r->domainname = str (s, "domainname");
  r->extra_hosts = strv_of (json_object_get (s, "extra_hosts"));
  r->dns = strv_of (json_object_get (s, "dns"));
  r->dns_search = strv_of (json_object_get (s, "dns_search"));
  r->dns_opt = strv_of (json_object_get (s, "dns_opt"));
  r->labels = kv_of (json_object_get (s, "labels"));
  if ((x = json_object_get (s, "init")) && json_is_boolean (x))
    r->init_set = true, r->init = json_is_true (x);
  r->stop_signal = str (s, "stop_signal");
  r->stop_grace_period_ns = duration (s, "stop_grace_period");
  r->restart = str (s, "restart");
  json_t *hc = json_object_get (s, "healthcheck");
  r->healthcheck.set = hc != NULL;
  r->healthcheck.test = strv_of (json_object_get (hc, "test"));
  r->healthcheck.interval_ns = duration (hc, "interval");
  r->healthcheck.timeout_ns = duration (hc, "timeout");
  r->healthcheck.start_period_ns = duration (hc, "start_period");
  r->healthcheck.start_interval_ns = duration (hc, "start_interval");
  r->healthcheck.retries = num (hc, "retries", -1);
  r->healthcheck.disable = flag (hc, "disable");
  json_t *deps = json_object_get (s, "depends_on");
  r->depends_on = xzalloc ((json_object_size (deps) + 1) * sizeof *r->depends_on);
  const char *k;
  json_object_foreach (deps, k, x)
  {
    struct compose_dependency *d = &r->depends_on[r->n_depends_on++];
    d->service = xstrdup (k);
    const char *c = json_string_value (json_object_get (x, "condition"));
    d->condition = c && strcmp (c, "service_healthy") == 0 ? COMPOSE_SERVICE_HEALTHY
                   : c && strcmp (c, "service_completed_successfully") == 0
                       ? COMPOSE_SERVICE_COMPLETED_SUCCESSFULLY
                       : COMPOSE_SERVICE_STARTED;
    d->required = !json_is_false (json_object_get (x, "required"));
    d->restart = flag (x, "restart");
  }
  r->cap_add = strv_of (json_object_get (s, "cap_add"));
  r->cap_drop = strv_of (json_object_get (s, "cap_drop"));
  r->security_opt = strv_of (json_object_get (s, "security_opt"));
  r->privileged = flag (s, "privileged");
  r->read_only = flag (s, "read_only");
  json_t *ul = json_object_get (s, "ulimits");
  r->ulimits = xzalloc ((json_object_size (ul) + 1) * sizeof *r->ulimits);
  json_object_foreach (ul, k, x)
  {
    struct compose_ulimit *u = &r->ulimits[r->n_ulimits++];
    u->name = xstrdup (k);
    if (json_is_object (x))
      {
        u->soft = num (x, "soft", -1);
        u->hard = num (x, "hard", u->soft);
      }
    else
      u->soft = u->hard = json_is_integer (x) ? json_integer_value (x) : -1;
  }
  r->sysctls = kv_of (json_object_get (s, "sysctls"));
  r->network_mode = str (s, "network_mode");
  json_t *nets = json_object_get (s, "networks");
  r->networks = xzalloc ((json_object_size (nets) + 1) * sizeof *r->networks);
  json_object_foreach (nets, k, x)
  {
    struct compose_service_network *n = &r->networks[r->n_networks++];
    n->name = xstrdup (k);
    n->aliases = strv_of (json_object_get (x, "aliases"));
    n->ipv4_address = str (x, "ipv4_address");
    n->ipv6_address = str (x, "ipv6_address");
    n->priority = num (x, "priority", 0);
  }
  r->links = strv_of (json_object_get (s, "links"));
  r->volumes_from = strv_of (json_object_get (s, "volumes_from"));
  r->container_name = str (s, "container_name");
  r->replicas = num (json_object_get (s, "deploy"), "replicas", num (s, "scale", -1));
  r->profiles = strv_of (json_object_get (s, "profiles"));
  static const char *const refs[] = { "secrets", "configs" };
  for (size_t f = 0; f < 2; f++)
    {
      json_t *l = json_object_get (s, refs[f]);
      struct compose_file_ref *a = xzalloc ((json_array_size (l) + 1) * sizeof *a);
      size_t n = 0;
      json_array_foreach (l, i, x)
      {
        struct compose_file_ref *fr = &a[n++];
        fr->source = json_is_string (x) ? xstrdup (json_string_value (x)) : str (x, "source");
        fr->target = str (x, "target");
        fr->uid = scalar (json_object_get (x, "uid"));
        fr->gid = scalar (json_object_get (x, "gid"));
        fr->mode = num (x, "mode", -1);
      }
      if (f == 0)
        r->secrets = a, r->n_secrets = n;
      else
        r->configs = a, r->n_configs = n;
    }
  json_t *log = json_object_get (s, "logging");
  r->logging_driver = str (log, "driver");
  r->logging_options = kv_of (json_object_get (log, "options"));
  r->stdin_open = flag (s, "stdin_open");
  r->tty = flag (s, "tty");
  r->pull_policy = str (s, "pull_policy");
  r->platform = str (s, "platform");
  json_t *watch = json_object_get (json_object_get (s, "develop"), "watch");
  r->watch = xzalloc ((json_array_size (watch) + 1) * sizeof *r->watch);
  json_array_foreach (watch, i, x)
  {
    struct compose_watch *w = &r->watch[r->n_watch++];
    w->path = str (x, "path");
    w->action = str (x, "action");
    w->target = str (x, "target");
    w->ignore = strv_of (json_object_get (x, "ignore"));
    w->include = strv_of (json_object_get (x, "include"));
    w->initial_sync = flag (x, "initial_sync");
    json_t *ex = json_object_get (x, "exec");
    json_t *cmd = json_object_get (ex, "command");
    if (json_is_string (cmd))
      {
        json_t *words = compose_split_command (json_string_value (cmd), err);
        if (words == NULL)
          return nook_error_wrap (err, "services.%s.develop.watch[%zu].exec.command", name, i);
        w->exec_command = strv_of (words);
        json_decref (words);
      }
    else
      w->exec_command = strv_of (cmd);
    w->exec_user = str (ex, "user");
    w->exec_workdir = str (ex, "working_dir");
    w->exec_env = kv_of (json_object_get (ex, "environment"));
    w->exec_privileged = flag (ex, "privileged");
  }
  return 0;
}

struct compose_model *
compose_model_from_json (json_t *model, nook_error_t *err)
{
  struct compose_model *m = xzalloc (sizeof *m);
  m->name = str (model, "name");
  json_t *services = json_object_get (model, "services");
  m->services = xzalloc ((json_object_size (services) + 1) * sizeof *m->services);
  const char *k;
  json_t *v;
  json_object_foreach (services, k, v)
  {
    if (service_of (k, v, &m->services[m->n_services++], err) < 0)
      {
        compose_model_free (m);
        return NULL;
      }
  }
  json_t *nets = json_object_get (model, "networks");
  m->networks = xzalloc ((json_object_size (nets) + 1) * sizeof *m->networks);
  json_object_foreach (nets, k, v)
  {
    struct compose_network *n = &m->networks[m->n_networks++];
    n->key = xstrdup (k);
    n->name = str (v, "name");
    n->external = json_is_true (json_object_get (v, "external"))
                  || json_is_object (json_object_get (v, "external"));
    n->internal = flag (v, "internal");
    n->driver = str (v, "driver");
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get (json_object_get (v, "ipam"), "config"), i, c)
    {
      if (json_string_value (json_object_get (c, "subnet")))
        strv_push (&n->subnets, json_string_value (json_object_get (c, "subnet")));
    }
    n->labels = kv_of (json_object_get (v, "labels"));
  }
  json_t *vols = json_object_get (model, "volumes");
  m->volumes = xzalloc ((json_object_size (vols) + 1) * sizeof *m->volumes);
  json_object_foreach (vols, k, v)
  {
    struct compose_volume *n = &m->volumes[m->n_volumes++];
    n->key = xstrdup (k);
    n->name = str (v, "name");
    n->external = json_is_true (json_object_get (v, "external"))
                  || json_is_object (json_object_get (v, "external"));
    n->driver = str (v, "driver");
    n->driver_opts = kv_of (json_object_get (v, "driver_opts"));
    n->labels = kv_of (json_object_get (v, "labels"));
  }
  static const char *const tops[] = { "secrets", "configs" };
  for (size_t t = 0; t < 2; t++)
    {
      json_t *defs = json_object_get (model, tops[t]);
      struct compose_file_def *a = xzalloc ((json_object_size (defs) + 1) * sizeof *a);
      size_t n = 0;
      json_object_foreach (defs, k, v)
      {
        struct compose_file_def *d = &a[n++];
        d->key = xstrdup (k);
        d->name = str (v, "name");
        d->external = json_is_true (json_object_get (v, "external"));
        d->file = str (v, "file");
        d->content = str (v, "content");
        d->environment = str (v, "environment");
      }
      if (t == 0)
        m->secrets = a, m->n_secrets = n;
      else
        m->configs = a, m->n_configs = n;
    }
  return m;
}

struct compose_service *
compose_model_service (struct compose_model *m, const char *name)
{
  for (size_t i = 0; i < m->n_services; i++)
    if (strcmp (m->services[i].name, name) == 0)
      return &m->services[i];
  return NULL;
}

static void
service_free (struct compose_service *s)
{
  free (s->name);
  free (s->image);
  if (s->build)
    {
      struct compose_build *b = s->build;
      free (b->context);
      free (b->dockerfile);
      free (b->dockerfile_inline);
      strv_free (b->args);
      free (b->target);
      strv_free (b->secrets);
      strv_free (b->cache_from);
      strv_free (b->tags);
      strv_free (b->labels);
      free (b->network);
      strv_free (b->extra_hosts);
      strv_free (b->platforms);
      free (b);
    }
  strv_free (s->command);
  strv_free (s->entrypoint);
  strv_free (s->environment);
  strv_free (s->env_files);
  for (size_t i = 0; i < s->n_ports; i++)
    {
      struct compose_port *p = &s->ports[i];
      free (p->host_ip);
      free (p->published);
      free (p->protocol);
      free (p->mode);
      free (p->name);
      free (p->app_protocol);
    }
  free (s->ports);
  strv_free (s->expose);
  for (size_t i = 0; i < s->n_mounts; i++)
    {
      struct compose_mount *m = &s->mounts[i];
      free (m->type_name);
      free (m->source);
      free (m->target);
      free (m->selinux);
      free (m->propagation);
      free (m->subpath);
    }
  free (s->mounts);
  strv_free (s->tmpfs);
  free (s->working_dir);
  free (s->user);
  strv_free (s->group_add);
  free (s->hostname);
  free (s->domainname);
  strv_free (s->extra_hosts);
  strv_free (s->dns);
  strv_free (s->dns_search);
  strv_free (s->dns_opt);
  strv_free (s->labels);
  free (s->stop_signal);
  free (s->restart);
  strv_free (s->healthcheck.test);
  for (size_t i = 0; i < s->n_depends_on; i++)
    free (s->depends_on[i].service);
  free (s->depends_on);
  strv_free (s->cap_add);
  strv_free (s->cap_drop);
  strv_free (s->security_opt);
  for (size_t i = 0; i < s->n_ulimits; i++)
    free (s->ulimits[i].name);
  free (s->ulimits);
  strv_free (s->sysctls);
  free (s->network_mode);
  for (size_t i = 0; i < s->n_networks; i++)
    {
      free (s->networks[i].name);
      strv_free (s->networks[i].aliases);
      free (s->networks[i].ipv4_address);
      free (s->networks[i].ipv6_address);
    }
  free (s->networks);
  strv_free (s->links);
  strv_free (s->volumes_from);
  free (s->container_name);
  strv_free (s->profiles);
  struct compose_file_ref *lists[] = { s->secrets, s->configs };
  size_t ns[] = { s->n_secrets, s->n_configs };
  for (size_t l = 0; l < 2; l++)
    {
      for (size_t i = 0; i < ns[l]; i++)
        {
          free (lists[l][i].source);
          free (lists[l][i].target);
          free (lists[l][i].uid);
          free (lists[l][i].gid);
        }
      free (lists[l]);
    }
  free (s->logging_driver);
  strv_free (s->logging_options);
  free (s->pull_policy);
  free (s->platform);
  for (size_t i = 0; i < s->n_watch; i++)
    {
      free (s->watch[i].path);
      free (s->watch[i].action);
      free (s->watch[i].target);
      strv_free (s->watch[i].ignore);
      strv_free (s->watch[i].include);
      strv_free (s->watch[i].exec_command);
      free (s->watch[i].exec_user);
      free (s->watch[i].exec_workdir);
      strv_free (s->watch[i].exec_env);
    }
  free (s->watch);
}

void
compose_model_free (struct compose_model *m)
{
  if (m == NULL)
    return;
  free (m->name);
  free (m->working_dir);
  for (size_t i = 0; i < m->n_services; i++)
    service_free (&m->services[i]);
  free (m->services);
  for (size_t i = 0; i < m->n_networks; i++)
    {
      free (m->networks[i].key);
      free (m->networks[i].name);
      free (m->networks[i].driver);
      strv_free (m->networks[i].subnets);
      strv_free (m->networks[i].labels);
    }
  free (m->networks);
  for (size_t i = 0; i < m->n_volumes; i++)
    {
      free (m->volumes[i].key);
      free (m->volumes[i].name);
      free (m->volumes[i].driver);
      strv_free (m->volumes[i].driver_opts);
      strv_free (m->volumes[i].labels);
    }
  free (m->volumes);
  struct compose_file_def *lists[] = { m->secrets, m->configs };
  size_t ns[] = { m->n_secrets, m->n_configs };
  for (size_t l = 0; l < 2; l++)
    {
      for (size_t i = 0; i < ns[l]; i++)
        {
          free (lists[l][i].key);
          free (lists[l][i].name);
          free (lists[l][i].file);
          free (lists[l][i].content);
          free (lists[l][i].environment);
        }
      free (lists[l]);
    }
  free (m);
}

char *
compose_service_hash (json_t *svc)
{
  json_t *o = json_deep_copy (svc);
  static const char *const drop[] = { "build", "pull_policy", "scale", "depends_on", "profiles" };
  for (size_t i = 0; i < ARRAY_SIZE (drop); i++)
    json_object_del (o, drop[i]);
  json_object_del (json_object_get (o, "deploy"), "replicas");
  cleanup_free char *s = json_dumps (o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (o);
  char *d = imagefmt_digest_data (s, strlen (s));
  if (d && str_has_prefix (d, "sha256:"))
    memmove (d, d + 7, strlen (d + 7) + 1);
  return d;
}

char *
compose_duration_format (int64_t ns)
{
  if (ns == 0)
    return xstrdup ("0s");
  struct strbuf b = { 0 };
  if (ns < 0)
    {
      strbuf_appendc (&b, '-');
      ns = -ns;
    }
  if (ns < 1000000000LL)
    {
      /* Go: "1.5ms", "100µs", "3ns" */
      const char *unit = "ns";
      double v = (double)ns;
      if (ns >= 1000000)
        unit = "ms", v = (double)ns / 1e6;
      else if (ns >= 1000)
        unit = "\u00b5s", v = (double)ns / 1e3;
      strbuf_appendf (&b, "%.9g%s", v, unit);
      return strbuf_steal (&b);
    }
  int64_t h = ns / 3600000000000LL;
  ns %= 3600000000000LL;
  int64_t m = ns / 60000000000LL;
  ns %= 60000000000LL;
  if (h)
    strbuf_appendf (&b, "%" PRId64 "h", h);
  if (h || m)
    strbuf_appendf (&b, "%" PRId64 "m", m);
  strbuf_appendf (&b, "%.9g", (double)ns / 1e9);
  strbuf_append (&b, "s");
  return strbuf_steal (&b);
}
