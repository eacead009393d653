/* cmd/netrec.c: see netrec.h. */
#include "cmd/netrec.h"
#include "cmd/records.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

bool
netrec_builtin (const char *name)
{
  return strcmp (name, "bridge") == 0 || strcmp (name, "host") == 0 || strcmp (name, "none") == 0;
}

static int
open_dir (const char *root, nook_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/networks", root);
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "mkdir '%s'", dir);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", dir);
  return fd;
}

int
netrec_lock (const char *root, nook_error_t *err)
{
  cleanup_close int dir = open_dir (root, err);
  if (dir < 0)
    return -1;
  int fd = openat (dir, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "open networks/.lock");
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        close (fd);
        return nook_error_set (err, errno, "lock networks/.lock");
      }
  return fd;
}

bool
netrec_prune (json_t *rec)
{
  json_t *eps = json_object_get (rec, "Containers");
  if (!json_is_object (eps))
    return false;
  bool changed = false;
  const char *key;
  json_t *ep, *tmp;
  json_object_foreach_safe (eps, tmp, key, ep)
  {
    json_int_t pid = json_integer_value (json_object_get (ep, "NookPid"));
    json_int_t start = json_integer_value (json_object_get (ep, "NookStart"));
    if (pid <= 0 || container_proc_start ((pid_t)pid) != (unsigned long long)start)
      {
        json_object_del (eps, key);
        changed = true;
      }
  }
  return changed;
}

static json_t *
load_file (int dir, const char *file)
{
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (dir, file, 1 << 20, &text, NULL, &e) < 0)
    return NULL;
  json_t *rec = json_loads (text, 0, NULL);
  if (!json_is_object (rec))
    {
      json_decref (rec);
      return NULL;
    }
  netrec_prune (rec);
  return rec;
}

static int
by_name (const void *a, const void *b)
{
  const char *x = json_string_value (json_object_get (*(json_t *const *)a, "Name"));
  const char *y = json_string_value (json_object_get (*(json_t *const *)b, "Name"));
  return strcmp (x ? x : "", y ? y : "");
}

json_t *
netrec_list (const char *root)
{
  json_t *arr = json_array ();
  cleanup_error nook_error_t e = NULL;
  cleanup_close int dir = open_dir (root, &e);
  if (dir < 0)
    return arr;
  DIR *d = fdopendir (fcntl (dir, F_DUPFD_CLOEXEC, 3));
  if (d == NULL)
    return arr;
  json_t **v = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      size_t l = strlen (de->d_name);
      if (de->d_name[0] == '.' || l < 6 || strcmp (de->d_name + l - 5, ".json") != 0)
        continue;
      json_t *rec = load_file (dir, de->d_name);
      if (rec)
        {
          v = xreallocarray (v, n + 1, sizeof *v);
          v[n++] = rec;
        }
    }
  closedir (d);
  if (n)
    qsort (v, n, sizeof *v, by_name);
  for (size_t i = 0; i < n; i++)
    json_array_append_new (arr, v[i]);
  free (v);
  return arr;
}

json_t *
netrec_load (const char *root, const char *name, nook_error_t *err)
{
  if (name && *name && strchr (name, '/') == NULL && name[0] != '.')
    {
      cleanup_close int dir = open_dir (root, err);
      if (dir < 0)
        return NULL;
      cleanup_free char *file = xasprintf ("%s.json", name);
      json_t *rec = load_file (dir, file);
      if (rec)
        return rec;
      /* an ID prefix of at least 3 characters, unique */
      json_t *all = netrec_list (root), *found = NULL, *r;
      size_t i, hits = 0, l = strlen (name);
      json_array_foreach (all, i, r)
      {
        const char *id = json_string_value (json_object_get (r, "Id"));
        if (l >= 3 && id && strncmp (id, name, l) == 0)
          found = r, hits++;
      }
      if (hits == 1)
        {
          json_incref (found);
          json_decref (all);
          return found;
        }
      json_decref (all);
    }
  nook_error_set (err, 0, "network %s not found", name ? name : "");
  return NULL;
}

int
netrec_save (const char *root, json_t *rec, bool durable, nook_error_t *err)
{
  cleanup_close int dir = open_dir (root, err);
  if (dir < 0)
    return -1;
  const char *name = json_string_value (json_object_get (rec, "Name"));
  cleanup_free char *file = xasprintf ("%s.json", name);
  cleanup_free char *text = json_dumps (rec, JSON_INDENT (2) | JSON_SORT_KEYS);
  return durable ? fs_write_atomic_at (dir, file, text, strlen (text), 0600, err)
                 : fs_write_file_at (dir, file, text, strlen (text), 0600, err);
}

int
netrec_remove (const char *root, const char *name, nook_error_t *err)
{
  cleanup_close int dir = open_dir (root, err);
  if (dir < 0)
    return -1;
  cleanup_free char *file = xasprintf ("%s.json", name);
  if (unlinkat (dir, file, 0) < 0)
    return nook_error_set (err, errno, "remove networks/%s", file);
  return 0;
}

int
netrec_subnet (const json_t *rec, struct net_subnet *s, uint32_t *gateway)
{
  json_t *cfg = json_array_get (json_object_get (json_object_get (rec, "IPAM"), "Config"), 0);
  cleanup_error nook_error_t e = NULL;
  if (net_subnet_parse (json_string_value (json_object_get (cfg, "Subnet")), "Subnet", s, &e) < 0)
    return -1;
  if (gateway && net_addr_parse (json_string_value (json_object_get (cfg, "Gateway")), gateway) < 0)
    *gateway = net_subnet_gateway (s);
  return 0;
}

int
netrec_subnet6 (const json_t *rec, struct net_subnet6 *s, struct in6_addr *gateway)
{
  if (!json_is_true (json_object_get (rec, "EnableIPv6")))
    return -1;
  size_t i;
  json_t *cfg;
  json_array_foreach (json_object_get (json_object_get (rec, "IPAM"), "Config"), i, cfg)
  {
    const char *sn = json_string_value (json_object_get (cfg, "Subnet"));
    cleanup_error nook_error_t e = NULL;
    if (sn == NULL || strchr (sn, ':') == NULL || net_subnet6_parse (sn, "Subnet", s, &e) < 0)
      continue;
    const char *gw = json_string_value (json_object_get (cfg, "Gateway"));
    if (gateway && (gw == NULL || inet_pton (AF_INET6, gw, gateway) != 1))
      net_subnet6_host (s, 1, gateway);
    return 0;
  }
  return -1;
}

char *
netrec_socket_path (const json_t *rec, nook_error_t *err)
{
  cleanup_free char *rt = fs_runtime_dir (err);
  if (rt == NULL)
    return NULL;
  const char *id = json_string_value (json_object_get (rec, "Id"));
  return xasprintf ("%s/net-%.12s.sock", rt, id ? id : "none");
}

json_t *
netrec_connected (const char *root, const char *id)
{
  cleanup_free char *cdir_path = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cdir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  json_t *v = cdir >= 0 ? container_read_json (cdir, id, "networks.json") : NULL;
  if (!json_is_object (v))
    {
      json_decref (v);
      v = json_object ();
    }
  return v;
}
