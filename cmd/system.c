/* cmd/system.c: `nook info` and `nook version`. */
#include "cmd/commands.h"
#include "cmd/container.h"
#include "imagefmt/store.h"
#include "sandbox/rootfs.h"
#include "sandbox/userns.h"
#include "sandbox/userns_keep.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef NOOK_VERSION
#define NOOK_VERSION "0.1.0-dev"
#endif

int
cmd_version (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook version\n\nShow the nook version\n");
      return 0;
    }
  printf ("nook version %s\n", NOOK_VERSION);
  return 0;
}

static char *
which (const char *prog)
{
  static const char *const dirs[]
      = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
  const char *path = getenv ("PATH");
  cleanup_free char *copy = xstrdup (path && *path ? path : "");
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      char *p = xasprintf ("%s/%s", d, prog);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    {
      char *p = xasprintf ("%s/%s", dirs[i], prog);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

static char *
read_trimmed (const char *path)
{
  char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, path, 4096, &text, NULL, &e) < 0)
    return NULL;
  text[strcspn (text, "\n")] = '\0';
  return text;
}

static void
describe_ranges (struct strbuf *b, const char *what, const struct nook_idmap *m, size_t n)
{
  strbuf_appendf (b, "%s", what);
  for (size_t i = 0; i < n; i++)
    strbuf_appendf (b, "%s %u-%u = %u-%u", i ? "," : "", m[i].inside, m[i].inside + m[i].count - 1,
                    m[i].outside, m[i].outside + m[i].count - 1);
}

static char *
describe_mapping (const struct nook_idmapping *m, const char *reason)
{
  if (m->single)
    return xasprintf ("single (%s): the container user (uid %u, gid %u unless --user) is you "
                      "(uid %u, gid %u); other ids do not exist",
                      reason, m->uid[0].inside, m->gid[0].inside, m->uid[0].outside,
                      m->gid[0].outside);
  struct strbuf b = { 0 };
  strbuf_append (&b, "range (");
  describe_ranges (&b, "uid", m->uid, m->n_uid);
  describe_ranges (&b, "; gid", m->gid, m->n_gid);
  strbuf_append (&b, getuid () == 0 ? "; invoked by root: host root is not mapped)" : ")");
  return strbuf_steal (&b);
}

static bool
have_openat2 (void)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
  int fd = (int)syscall (SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
  if (fd < 0)
    return false;
  close (fd);
  return true;
}

struct info
{
  json_t *obj;
  bool json;
};

static void
put (struct info *in, const char *label, const char *key, const char *value)
{
  if (in->json)
    json_object_set_new (in->obj, key, value ? json_string (value) : json_null ());
  else
    printf ("%s: %s\n", label, value ? value : "not found");
}

static void
put_tool (struct info *in, const char *prog, const char *missing_means)
{
  cleanup_free char *p = which (prog);
  cleanup_free char *text = p ? xstrdup (p) : xasprintf ("not found (%s)", missing_means);
  put (in, prog, prog, p ? text : (in->json ? NULL : text));
}

static int
storage_line (struct nook_ctx *ctx, const struct nook_idmapping *ids0, struct info *in,
              nook_error_t *err)
{
  cleanup_free char *root = NULL;
  struct imagefmt_store *store = NULL;
  if (imagefmt_store_open (ctx->root, &store, err) < 0)
    return -1;
  root = xstrdup (imagefmt_store_root (store));
  imagefmt_store_close (store);
  put (in, "Store", "Store", root);

  enum storage_driver d;
  cleanup_free char *note = NULL;
  cleanup_free char *text = NULL;
  if (ctx->storage_driver)
    {
      if (sandbox_storage_parse (ctx->storage_driver, &d, err) < 0)
        return -1;
      text = xasprintf ("%s (forced by --storage-driver)", sandbox_storage_name (d));
    }
  else
    {
      if (container_storage_driver (root, ids0, &d, err) < 0)
        return -1;
      container_recorded_driver (root, &note);
      text = note && *note ? xasprintf ("%s (probed; %s)", sandbox_storage_name (d), note)
                           : xasprintf ("%s (probed)", sandbox_storage_name (d));
    }
  put (in, "Storage driver", "StorageDriver", in->json ? sandbox_storage_name (d) : text);
  return 0;
}

int
cmd_info (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct info in = { 0 };
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook info [--format json]\n\nShow what this machine offers nook: id "
                  "mapping, storage driver, kernel features, helpers found\n");
          return 0;
        }
      if ((strcmp (argv[i], "--format") == 0 || strcmp (argv[i], "-f") == 0) && i + 1 < argc
          && strcmp (argv[i + 1], "json") == 0)
        in.json = true, i++;
      else if (strcmp (argv[i], "--format=json") == 0)
        in.json = true;
      else
        return nook_error_set (err, 0, "unknown flag or argument: %s\nSee 'nook info --help'.",
                               argv[i]);
    }
  if (in.json)
    in.obj = json_object ();

  put (&in, "Version", "Version", NOOK_VERSION);
  struct idmap_plan_input pi;
  if (sandbox_idmap_probe (&pi, err) < 0)
    return -1;
  struct nook_idmapping ids0;
  const char *reason = NULL;
  sandbox_idmap_plan (&pi, 0, 0, &ids0, &reason);
  cleanup_free char *mapping = describe_mapping (&ids0, reason);
  put (&in, "ID mapping", "IDMapping", in.json ? (ids0.single ? "single" : "range") : mapping);
  if (in.json)
    put (&in, "", "IDMappingDetail", mapping);

  {
    cleanup_free char *keep = NULL, *why = NULL, *rtline = NULL;
    cleanup_error nook_error_t e = NULL;
    cleanup_free char *rt = fs_runtime_dir_why (&why, &e);
    const char *off = getenv ("NOOK_USERNS_KEEP");
    if (!ids0.use_helpers)
      keep = xstrdup ("written directly for each run (no newuidmap needed)");
    else if (off && strcmp (off, "0") == 0)
      keep = xstrdup ("new for each run (NOOK_USERNS_KEEP=0)");
    else if (rt == NULL)
      keep = xstrdup ("new for each run (no trusted runtime directory to keep it)");
    else
      {
        pid_t k = sandbox_userns_keep_pid (&ids0, rt);
        keep = k ? xasprintf ("kept by nook-userns (pid %d), shared by this user's runs", (int)k)
                 : xstrdup ("kept by nook-userns, started by the next run");
      }
    put (&in, "User namespace", "UserNamespace", keep);
    rtline = rt ? xasprintf ("%s (%s)", rt, why) : xasprintf ("none (%s)", e->msg);
    put (&in, "Runtime directory", "RuntimeDirectory", rtline);
  }
  if (storage_line (ctx, &ids0, &in, err) < 0)
    {
      json_decref (in.obj);
      return -1;
    }
  struct utsname u;
  uname (&u);
  put (&in, "Kernel", "Kernel", u.release);
  cleanup_free char *maxns = read_trimmed ("/proc/sys/user/max_user_namespaces");
  cleanup_free char *userns
      = xasprintf ("%s (max_user_namespaces %s)", maxns && strcmp (maxns, "0") != 0 ? "yes" : "no",
                   maxns ? maxns : "unknown");
  put (&in, "User namespaces", "UserNamespaces", userns);
  put (&in, "openat2", "Openat2", have_openat2 () ? "yes" : "no (nook needs Linux 5.6 or later)");
  cleanup_free char *ns = read_trimmed ("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  put (&in, "Unprivileged ports from", "UnprivilegedPortStart", ns);
  put (&in, "Cgroups", "Cgroups",
       access ("/sys/fs/cgroup/cgroup.subtree_control", F_OK) == 0
           ? "v2 (limits need delegation; without it nook applies rlimits)"
           : "v1 or hybrid, not delegated: resource limits fall back to rlimits");
  put_tool (&in, "newuidmap", "install uidmap: without it, only the single-id map");
  put_tool (&in, "newgidmap", "install uidmap: without it, only the single-id map");
  put_tool (&in, "slirp4netns", "install slirp4netns: needed for user-mode networking");
  put_tool (&in, "fuse-overlayfs", "install fuse-overlayfs: the second storage driver");
  put_tool (&in, "pasta", "optional");
  bool fuse = sandbox_storage_fuse_available (NULL);
  put (&in, "/dev/fuse", "DevFuse", fuse ? "usable" : "not usable (fuse-overlayfs cannot run)");
  if (in.json)
    {
      char *s = json_dumps (in.obj, JSON_SORT_KEYS | JSON_INDENT (2));
      puts (s);
      free (s);
      json_decref (in.obj);
    }
  return 0;
}
