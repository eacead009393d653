/* cmd/network.c: `nook network`: the built-in networks (bridge, host, none)
 * and user-defined ones (create, ls, rm, inspect, connect, disconnect, prune;
 * records in cmd/netrec.h, the running side in cmd/netns.h). */
#include "cmd/events.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/netns.h"
#include "cmd/netrec.h"
#include "imagefmt/store.h"
#include "net/mode.h"
#include "net/subnet.h"
#include "util/cleanup.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct
{
  const char *id, *name, *driver;
} builtin[] = {
  /* fixed IDs: the same on every machine, as nothing is created */
  { "4e6f6f6b6272", "bridge", "bridge" },
  { "4e6f6f6b686f", "host", "host" },
  { "4e6f6f6b6e6f", "none", "null" },
};

static void
network_usage (void)
{
  printf ("Usage:  nook network COMMAND\n\nManage networks\n\nCommands:\n"
          "  connect     Connect a container to a network\n"
          "  create      Create a network\n"
          "  disconnect  Disconnect a container from a network\n"
          "  inspect     Display detailed information on one or more networks\n"
          "  ls          List networks\n"
          "  prune       Remove all unused networks\n"
          "  rm          Remove one or more networks\n\n"
          "bridge is the default network: each container gets its own network namespace\n"
          "with user-mode networking (nook's libslirp helper; `nook info` says which).\n"
          "On a network of your own, containers find each other by name and alias.\n");
}

static char *
store_root (struct nook_ctx *ctx, nook_error_t *err)
{
  if (ctx->root)
    return xstrdup (ctx->root);
  return imagefmt_store_default_root (err);
}

/* Subnets a default pool must avoid: the networks', the uplink's, the host's
 * routes (not its default route) and its name servers. */
static struct net_subnet *
taken_subnets (json_t *all, size_t *n)
{
  struct net_subnet *v = xzalloc (sizeof *v * 1);
  *n = 0;
#define PUSH(s)                                                                                    \
  do                                                                                               \
    {                                                                                              \
      v = xreallocarray (v, *n + 1, sizeof *v);                                                    \
      v[(*n)++] = (s);                                                                             \
    }                                                                                              \
  while (0)
  PUSH (((struct net_subnet){ .addr = 0x0a000200u, .prefix = 24 }));
  size_t i;
  json_t *r;
  json_array_foreach (all, i, r)
  {
    struct net_subnet s;
    if (netrec_subnet (r, &s, NULL) == 0)
      PUSH (s);
  }
  FILE *f = fopen ("/proc/net/route", "re");
  char line[256];
  while (f && fgets (line, sizeof line, f))
    {
      char ifn[32];
      unsigned dst, gw, flags, mask;
      if (sscanf (line, "%31s %x %x %x %*s %*s %*s %x", ifn, &dst, &gw, &flags, &mask) != 5
          || mask == 0)
        continue;
      uint32_t m = __builtin_bswap32 (mask); /* /proc/net/route is little-endian here */
      unsigned prefix = (unsigned)__builtin_popcount (m);
      PUSH (((struct net_subnet){ .addr = __builtin_bswap32 (dst) & m, .prefix = prefix }));
    }
  if (f)
    fclose (f);
  f = fopen ("/etc/resolv.conf", "re");
  while (f && fgets (line, sizeof line, f))
    {
      char a[64];
      uint32_t addr;
      if (sscanf (line, " nameserver %63s", a) == 1 && net_addr_parse (a, &addr) == 0)
        PUSH (((struct net_subnet){ .addr = addr, .prefix = 32 }));
    }
  if (f)
    fclose (f);
#undef PUSH
  return v;
}

static char *
now_rfc3339 (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r (&ts.tv_sec, &tm);
  char buf[64];
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return xasprintf ("%s.%09ldZ", buf, ts.tv_nsec);
}

static int
network_create (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  const char *subnet = NULL, *subnet6 = NULL, *name = NULL, *driver = NULL;
  bool internal = false, ipv6 = false;
  json_auto_t *labels = json_object ();
  for (int i = 2; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--subnet", "network create", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          const char **slot = strchr (v, ':') ? &subnet6 : &subnet;
          if (*slot)
            return nook_error_set (err, 0,
                                   "--subnet given twice ('%s', '%s'): nook networks have one "
                                   "IPv4 subnet and, with --ipv6, one IPv6 subnet",
                                   *slot, v);
          *slot = v;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, "-d", "--driver", "network create", &v, err))
               != 0)
        {
          if (r < 0)
            return -1;
          driver = v;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--label", "network create", &v, err))
               != 0)
        {
          if (r < 0)
            return -1;
          const char *eq = strchr (v, '=');
          cleanup_free char *k = eq ? xstrndup (v, (size_t)(eq - v)) : xstrdup (v);
          if (*k == '\0')
            return cmd_flag_error (err, "network create", "invalid --label '%s': empty key", v);
          json_object_set_new (labels, k, json_string (eq ? eq + 1 : ""));
        }
      else if (strcmp (argv[i], "--internal") == 0)
        internal = true;
      else if (strcmp (argv[i], "--ipv6") == 0 || strcmp (argv[i], "--ipv6=true") == 0)
        ipv6 = true;
      else if (strcmp (argv[i], "--ipv6=false") == 0)
        ipv6 = false;
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook network create [OPTIONS] NETWORK\n\nCreate a network\n\n"
                  "Options:\n"
                  "  -d, --driver string   bridge (the only one)\n"
                  "      --internal        No outbound traffic (no uplink)\n"
                  "      --ipv6            Enable IPv6 between the network's containers "
                  "(no outbound IPv6)\n"
                  "      --label list      Set metadata on a network\n"
                  "      --subnet string   Subnet in CIDR format (default: the first free of "
                  "172.17-31.0.0/16, 192.168.0-240.0/20; with --ipv6 an IPv6 one too, "
                  "default a unique local fdXX:XXXX:XXXX::/64)\n");
          return 0;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "network create", "unknown flag: %s", argv[i]);
      else if (name)
        return cmd_args_error (err, "network create",
                               "\"nook network create\" requires exactly 1 argument.");
      else
        name = argv[i];
    }
  if (name == NULL)
    return cmd_args_error (err, "network create",
                           "\"nook network create\" requires exactly 1 argument.");
  if (driver && strcmp (driver, "bridge") != 0)
    return nook_error_set (err, 0, "invalid --driver '%s': nook networks are bridge networks",
                           driver);
  if (!cmd_name_valid (name, 1, 64))
    return nook_error_set (err, 0,
                           "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                           "allowed",
                           name);
  if (netrec_builtin (name) || strcmp (name, "default") == 0)
    return nook_error_set (err, 0, "network with name %s already exists", name);
  struct net_subnet want = { 0 };
  if (subnet && net_subnet_parse (subnet, "--subnet", &want, err) < 0)
    return -1;
  struct net_subnet6 want6 = { 0 };
  if (subnet6 && !ipv6)
    return nook_error_set (err, 0, "invalid --subnet %s: an IPv6 subnet needs --ipv6", subnet6);
  if (subnet6 && net_subnet6_parse (subnet6, "--subnet", &want6, err) < 0)
    return -1;
  cleanup_free char *root = store_root (ctx, err);
  if (root == NULL)
    return -1;
  cleanup_close int lock = netrec_lock (root, err);
  if (lock < 0)
    return -1;
  json_auto_t *all = netrec_list (root);
  size_t i;
  json_t *r;
  json_array_foreach (all, i, r)
  {
    if (strcmp (json_string_value (json_object_get (r, "Name")), name) == 0)
      return nook_error_set (err, 0, "network with name %s already exists", name);
  }
  size_t n;
  cleanup_free struct net_subnet *taken = taken_subnets (all, &n);
  if (subnet)
    {
      for (size_t k = 0; k < n; k++)
        {
          if (!net_subnet_overlaps (&want, &taken[k]))
            continue;
          const char *other = k == 0 ? "the user-mode uplink (10.0.2.0/24)" : NULL;
          json_t *o = k >= 1 && k <= json_array_size (all) ? json_array_get (all, k - 1) : NULL;
          cleanup_free char *os = net_subnet_format (&taken[k]);
          if (o)
            return nook_error_set (err, 0, "invalid --subnet %s: it overlaps network %s (%s)",
                                   subnet, json_string_value (json_object_get (o, "Name")), os);
          if (other)
            return nook_error_set (err, 0, "invalid --subnet %s: it overlaps %s", subnet, other);
          /* the host's own routes: allowed, as Docker does for explicit subnets */
        }
    }
  else if (net_subnet_pick (taken, n, &want) < 0)
    return nook_error_set (err, 0,
                           "could not find an available, non-overlapping IPv4 address pool "
                           "among the defaults to assign to the network (give --subnet)");
  cleanup_free char *id = random_hex_id ();
  if (ipv6)
    {
      /* (a default one from the network's ID: random, as the ID is) */
      unsigned char seed[5];
      for (size_t k = 0; k < sizeof seed; k++)
        sscanf (id + 2 * k, "%2hhx", &seed[k]);
      if (subnet6 == NULL)
        net_subnet6_ula (seed, &want6);
      json_array_foreach (all, i, r)
      {
        struct net_subnet6 o6;
        if (netrec_subnet6 (r, &o6, NULL) == 0 && net_subnet6_overlaps (&want6, &o6))
          {
            cleanup_free char *os = net_subnet6_format (&o6);
            cleanup_free char *ws = net_subnet6_format (&want6);
            return nook_error_set (err, 0, "invalid --subnet %s: it overlaps network %s (%s)", ws,
                                   json_string_value (json_object_get (r, "Name")), os);
          }
      }
    }
  cleanup_free char *sn = net_subnet_format (&want);
  cleanup_free char *gw = net_addr_format (net_subnet_gateway (&want));
  cleanup_free char *created = now_rfc3339 ();
  json_auto_t *rec
      = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:[{s:s, s:s}]}, s:b, "
                   "s:O, s:{}}",
                   "Name", name, "Id", id, "Created", created, "Scope", "local", "Driver", "bridge",
                   "EnableIPv6", ipv6, "IPAM", "Driver", "default", "Config", "Subnet", sn,
                   "Gateway", gw, "Internal", internal, "Labels", labels, "Containers");
  if (rec && ipv6)
    {
      struct in6_addr g6;
      net_subnet6_host (&want6, 1, &g6);
      cleanup_free char *sn6 = net_subnet6_format (&want6);
      cleanup_free char *gw6 = net_addr6_format (&g6);
      json_array_append_new (json_object_get (json_object_get (rec, "IPAM"), "Config"),
                             json_pack ("{s:s, s:s}", "Subnet", sn6, "Gateway", gw6));
    }
  if (rec == NULL || netrec_save (root, rec, true, err) < 0)
    return rec ? -1 : nook_error_set (err, ENOMEM, "network record");
  events_record (root, "network", "create", id,
                 json_pack ("{s:s, s:s}", "name", name, "type", "bridge"));
  puts (id);
  return 0;
}

/* -f name=X (substring, as Docker's), label=K or label=K=V; all must match. */
static bool
matches (const char *name, const json_t *labels, char **filters, size_t nf)
{
  for (size_t i = 0; i < nf; i++)
    {
      const char *f = filters[i];
      if (str_has_prefix (f, "name="))
        {
          if (strstr (name, f + 5) == NULL)
            return false;
        }
      else if (str_has_prefix (f, "label="))
        {
          const char *kv = f + 6, *eq = strchr (kv, '=');
          cleanup_free char *k = eq ? xstrndup (kv, (size_t)(eq - kv)) : xstrdup (kv);
          json_t *v = labels ? json_object_get (labels, k) : NULL;
          if (v == NULL || (eq && strcmp (json_string_value (v), eq + 1) != 0))
            return false;
        }
    }
  return true;
}

static int
network_ls (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  bool quiet = false, json = false;
  const char *tmpl = NULL; /* a Go template ("TMPL" or "table TMPL") */
  cleanup_strv char **filters = NULL;
  size_t nf = 0;
  for (int i = 2; i < argc; i++)
    {
      const char *v = NULL;
      int r = cmd_opt_value (argc, argv, &i, NULL, "--format", "network ls", &v, err);
      if (r < 0)
        return -1;
      if (r > 0)
        {
          enum cmd_format f = cmd_format_kind (v);
          json = f == CMD_FORMAT_JSON;
          tmpl = f == CMD_FORMAT_TEMPLATE ? v : NULL;
          continue;
        }
      r = cmd_opt_value (argc, argv, &i, "-f", "--filter", "network ls", &v, err);
      if (r < 0)
        return -1;
      if (r > 0)
        {
          if (!str_has_prefix (v, "name=") && !str_has_prefix (v, "label="))
            return nook_error_set (err, 0,
                                   "invalid filter '%s' (nook network ls knows name=NAME and "
                                   "label=KEY[=VALUE])",
                                   v);
          filters = xreallocarray (filters, nf + 2, sizeof *filters);
          filters[nf++] = xstrdup (v);
          filters[nf] = NULL;
        }
      else if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
        quiet = true;
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook network ls [OPTIONS]\n\nList networks\n\nOptions:\n"
                  "  -f, --filter filter   name=NAME, label=KEY[=VALUE]\n"
                  "      --format string   table (default), json, or a Go template\n"
                  "  -q, --quiet           Only display network IDs\n");
          return 0;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "network ls", "unknown flag: %s", argv[i]);
      else
        return cmd_args_error (err, "network ls", "\"nook network ls\" accepts no arguments.");
    }
  cleanup_free char *root = store_root (ctx, err);
  if (root == NULL)
    return -1;
  json_auto_t *all = netrec_list (root);
  json_auto_t *rows = json_array ();
  if (!quiet && !json && !tmpl)
    printf ("NETWORK ID     NAME      DRIVER    SCOPE\n");
  size_t nb = ARRAY_SIZE (builtin);
  for (size_t i = 0; i < nb + json_array_size (all); i++)
    {
      json_t *rec = i >= nb ? json_array_get (all, i - nb) : NULL;
      const char *name = rec ? json_string_value (json_object_get (rec, "Name")) : builtin[i].name;
      char id[13];
      snprintf (id, sizeof id, "%.12s",
                rec ? json_string_value (json_object_get (rec, "Id")) : builtin[i].id);
      const char *driver = rec ? "bridge" : builtin[i].driver;
      if (!matches (name, rec ? json_object_get (rec, "Labels") : NULL, filters, nf))
        continue;
      json_t *o = json_pack ("{s:s, s:s, s:s, s:s}", "ID", id, "Name", name, "Driver", driver,
                             "Scope", "local");
      if (quiet)
        puts (id);
      else if (json)
        {
          char *s = json_dumps (o, JSON_COMPACT);
          puts (s);
          free (s);
        }
      else if (!tmpl)
        printf ("%-14s %-9s %-9s local\n", id, name, driver);
      json_array_append_new (rows, o);
    }
  if (tmpl && !quiet)
    {
      json_auto_t *heads = json_pack ("{s:s, s:s, s:s, s:s}", "ID", "NETWORK ID", "Name", "NAME",
                                      "Driver", "DRIVER", "Scope", "SCOPE");
      return cli_format_print (tmpl, rows, heads, err);
    }
  return 0;
}

/* The record as `inspect` shows it: nook's bookkeeping taken out. */
static json_t *
public_view (json_t *rec)
{
  json_t *v = json_deep_copy (rec);
  json_t *eps = json_object_get (v, "Containers");
  const char *k;
  json_t *ep;
  json_object_foreach (eps, k, ep)
  {
    json_object_del (ep, "NookPid");
    json_object_del (ep, "NookStart");
    json_object_del (ep, "Hostname");
  }
  return v;
}

static int
network_inspect (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_free char *root = store_root (ctx, err);
  if (root == NULL)
    return -1;
  json_auto_t *out = json_array ();
  int n = 0, rc = 0;
  for (int i = 2; i < argc; i++)
    {
      if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook network inspect NETWORK [NETWORK...]\n\nDisplay detailed "
                  "information on one or more networks\n");
          return 0;
        }
      if (argv[i][0] == '-')
        return cmd_flag_error (err, "network inspect", "unknown flag: %s", argv[i]);
      n++;
      if (netrec_builtin (argv[i]))
        {
          json_array_append_new (out, json_pack ("{s:s, s:s, s:s, s:{}}", "Name", argv[i], "Scope",
                                                 "local", "Driver",
                                                 strcmp (argv[i], "bridge") == 0 ? "bridge"
                                                 : strcmp (argv[i], "host") == 0 ? "host"
                                                                                 : "null",
                                                 "Containers"));
          continue;
        }
      cleanup_error nook_error_t e = NULL;
      json_auto_t *rec = netrec_load (root, argv[i], &e);
      if (rec == NULL)
        {
          if (rc == 0)
            rc = nook_error_set (err, 0, "%s", e->msg);
          continue;
        }
      json_array_append_new (out, public_view (rec));
    }
  if (n == 0)
    return cmd_args_error (err, "network inspect",
                           "\"nook network inspect\" requires at least 1 argument.");
  char *s = json_dumps (out, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
  puts (s);
  free (s);
  return rc;
}

static int
remove_one (const char *root, const char *name, nook_error_t *err)
{
  if (netrec_builtin (name))
    return nook_error_set (err, 0, "%s is a pre-defined network and cannot be removed", name);
  cleanup_close int lock = netrec_lock (root, err);
  if (lock < 0)
    return -1;
  json_auto_t *rec = netrec_load (root, name, err);
  if (rec == NULL)
    return -1;
  const char *real = json_string_value (json_object_get (rec, "Name"));
  if (json_object_size (json_object_get (rec, "Containers")) > 0)
    return nook_error_set (err, 0, "error while removing network: network %s has active endpoints",
                           real);
  /* no container: the holder (if any) is leaving on its own */
  cleanup_free char *rname = xstrdup (real);
  cleanup_free char *id = xstrdup (json_string_value (json_object_get (rec, "Id")) ?: rname);
  if (netrec_remove (root, rname, err) < 0)
    return -1;
  events_record (root, "network", "destroy", id,
                 json_pack ("{s:s, s:s}", "name", rname, "type", "bridge"));
  return 0;
}

static int
network_rm (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_free char *root = store_root (ctx, err);
  if (root == NULL)
    return -1;
  int n = 0, rc = 0;
  for (int i = 2; i < argc; i++)
    {
      if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook network rm NETWORK [NETWORK...]\n\nRemove one or more "
                  "networks\n");
          return 0;
        }
      if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--force") == 0)
        continue;
      if (argv[i][0] == '-')
        return cmd_flag_error (err, "network rm", "unknown flag: %s", argv[i]);
      n++;
      cleanup_error nook_error_t e = NULL;
      if (remove_one (root, argv[i], &e) < 0)
        {
          if (rc == 0)
            rc = nook_error_set (err, 0, "%s", e->msg);
          else
            fprintf (stderr, "Error: %s\n", e->msg);
          continue;
        }
      puts (argv[i]);
    }
  if (n == 0)
    return cmd_args_error (err, "network rm", "\"nook network rm\" requires at least 1 argument.");
  return rc;
}

static int
network_prune (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  bool force = false;
  for (int i = 2; i < argc; i++)
    {
      if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--force") == 0)
        force = true;
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook network prune [OPTIONS]\n\nRemove all unused networks\n\n"
                  "Options:\n  -f, --force   Do not prompt for confirmation\n");
          return 0;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, "network prune", "unknown flag: %s", argv[i]);
      else
        return cmd_args_error (err, "network prune",
                               "\"nook network prune\" accepts no arguments.");
    }
  if (!force)
    {
      fprintf (stderr, "WARNING! This will remove all custom networks not used by at least one "
                       "container.\nAre you sure you want to continue? [y/N] ");
      char line[16] = "";
      if (fgets (line, sizeof line, stdin) == NULL || (line[0] != 'y' && line[0] != 'Y'))
        return 0;
    }
  cleanup_free char *root = store_root (ctx, err);
  if (root == NULL)
    return -1;
  cleanup_close int lock = netrec_lock (root, err);
  if (lock < 0)
    return -1;
  json_auto_t *all = netrec_list (root);
  size_t i;
  json_t *r;
  bool header = false;
  json_array_foreach (all, i, r)
  {
    if (json_object_size (json_object_get (r, "Containers")) > 0)
      continue;
    const char *name = json_string_value (json_object_get (r, "Name"));
    cleanup_error nook_error_t e = NULL;
    if (netrec_remove (root, name, &e) < 0)
      continue;
    const char *nid = json_string_value (json_object_get (r, "Id"));
    events_record (root, "network", "destroy", nid ? nid : name,
                   json_pack ("{s:s, s:s}", "name", name, "type", "bridge"));
    if (!header)
      puts ("Deleted Networks:");
    header = true;
    puts (name);
  }
  return 0;
}

int
cmd_network (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (argc < 2 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0)
    {
      network_usage ();
      return 0;
    }
  const char *v = argv[1];
  if (strcmp (v, "ls") == 0 || strcmp (v, "list") == 0)
    return network_ls (ctx, argc, argv, err);
  if (strcmp (v, "create") == 0)
    return network_create (ctx, argc, argv, err);
  if (strcmp (v, "inspect") == 0)
    return network_inspect (ctx, argc, argv, err);
  if (strcmp (v, "rm") == 0 || strcmp (v, "remove") == 0)
    return network_rm (ctx, argc, argv, err);
  if (strcmp (v, "prune") == 0)
    return network_prune (ctx, argc, argv, err);
  if (strcmp (v, "connect") == 0 || strcmp (v, "disconnect") == 0)
    {
      cleanup_free char *root = store_root (ctx, err);
      if (root == NULL)
        return -1;
      return netns_connect_cmd (root, strcmp (v, "connect") == 0, argc, argv, err);
    }
  return cmd_args_error (err, "network", "unknown command \"%s\" for \"nook network\"", v);
}
