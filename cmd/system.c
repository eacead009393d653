/* cmd/system.c: `nook info` and `nook version`. */
#include "cmd/freezer.h"
#include "cmd/cli.h"
#include "cmd/registry.h"
#include "cmd/commands.h"
#include "cmd/run_net.h"
#include "cmd/store_open.h"
#include "imagefmt/store.h"
#include "sandbox/netns_pool.h"
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
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef NOOK_VERSION
#define NOOK_VERSION "0.1.0-dev"
#endif

/* Print obj through the template (one row) and free it. */
static int
print_template (const char *tmpl, json_t *obj, nook_error_t *err)
{
  json_t *rows = json_array ();
  json_array_append_new (rows, obj);
  int r = cli_format_print (tmpl, rows, NULL, err);
  json_decref (rows);
  return r;
}

/* --format of info and version: -f/--format json|table|TEMPLATE (*tmpl: the template,
 * applied to what json prints; *json is set for it too). */
static int
parse_format_only (const char *verb, int argc, char **argv, bool *json, const char **tmpl,
                   nook_error_t *err)
{
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r = cmd_opt_value (argc, argv, &i, "-f", "--format", verb, &v, err);
      if (r < 0)
        return -1;
      if (r > 0)
        {
          enum cmd_format f = cmd_format_kind (v);
          *json = f != CMD_FORMAT_TABLE;
          *tmpl = f == CMD_FORMAT_TEMPLATE ? v : NULL;
        }
      else if (argv[i][0] == '-')
        return cmd_flag_error (err, verb, "unknown flag: %s", argv[i]);
      else
        return cmd_args_error (err, verb, "\"nook %s\" accepts no arguments.", verb);
    }
  return 0;
}

int
cmd_version (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  bool json = false;
  const char *tmpl = NULL;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook version [OPTIONS]\n\nShow the nook version\n\nOptions:\n"
              "  -f, --format string   table (default), json or a Go template\n");
      return 0;
    }
  if (parse_format_only ("version", argc, argv, &json, &tmpl, err) < 0)
    return -1;
  if (tmpl)
    return print_template (tmpl, json_pack ("{s:{s:s}}", "Client", "Version", NOOK_VERSION), err);
  if (json)
    printf ("{\"Client\":{\"Version\":\"%s\"}}\n", NOOK_VERSION);
  else
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
  bool failed; /* a line could not be made: marked "FAILED", exit 1 */
};

static void
put (struct info *in, const char *label, const char *key, const char *value)
{
  if (in->json)
    json_object_set_new (in->obj, key, value ? json_string (value) : json_null ());
  else
    printf ("%s: %s\n", label, value ? value : "not found");
}

/* A line that could not be made: "Label: FAILED: why" (JSON: null, and the
 * reason under KEY + "Error"); info goes on with the next lines. */
static void
put_failed (struct info *in, const char *label, const char *key, const struct nook_error *e)
{
  cleanup_free char *text = nook_error_text (e);
  in->failed = true;
  if (in->json)
    {
      cleanup_free char *ekey = xasprintf ("%sError", key);
      json_object_set_new (in->obj, key, json_null ());
      json_object_set_new (in->obj, ekey, json_string (text));
    }
  else
    printf ("%s: FAILED: %s\n", label, text);
}

static void
put_tool (struct info *in, const char *prog, const char *missing_means)
{
  cleanup_free char *p = which (prog);
  cleanup_free char *text = p ? xstrdup (p) : xasprintf ("not found (%s)", missing_means);
  put (in, prog, prog, p ? text : (in->json ? NULL : text));
}

static void
storage_lines (struct nook_ctx *ctx, const struct nook_idmapping *ids0, struct info *in)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_free char *root = NULL;
  struct imagefmt_store *store = NULL;
  if (imagefmt_store_open (ctx->root, &store, &e) < 0)
    {
      put_failed (in, "Store", "Store", e);
      put (in, "Storage driver", "StorageDriver", in->json ? NULL : "unknown (no store)");
      return;
    }
  root = xstrdup (imagefmt_store_root (store));
  imagefmt_store_close (store);
  put (in, "Store", "Store", root);

  enum storage_driver d;
  cleanup_free char *note = NULL;
  cleanup_free char *text = NULL;
  if (ctx->storage_driver)
    {
      if (sandbox_storage_parse (ctx->storage_driver, &d, &e) < 0)
        {
          put_failed (in, "Storage driver", "StorageDriver", e);
          return;
        }
      text = xasprintf ("%s (forced by --storage-driver)", sandbox_storage_name (d));
    }
  else if (ids0 == NULL)
    {
      put (in, "Storage driver", "StorageDriver", in->json ? NULL : "unknown (no ID mapping)");
      return;
    }
  else
    {
      if (cmd_store_driver (root, ids0, &d, &e) < 0)
        {
          put_failed (in, "Storage driver", "StorageDriver", e);
          return;
        }
      cmd_store_recorded_driver (root, &note);
      text = note && *note ? xasprintf ("%s (probed; %s)", sandbox_storage_name (d), note)
                           : xasprintf ("%s (probed)", sandbox_storage_name (d));
    }
  put (in, "Storage driver", "StorageDriver", in->json ? sandbox_storage_name (d) : text);
}

/* Without a subordinate range: what works, and how to get one. */
static void
subid_lines (struct info *in, const struct idmap_plan_input *pi)
{
  if (getuid () == 0 || (pi->have_uid_range && pi->have_gid_range))
    return;
  struct passwd *pw = getpwuid (getuid ());
  cleanup_free char *user = pw ? xstrdup (pw->pw_name) : xasprintf ("%u", (unsigned)getuid ());
  cleanup_free char *how = xasprintf (
      "none for %s in /etc/subuid and /etc/subgid. Without them a container has one user id "
      "(yours, as root or as --user): images, volumes and most programs work; files of other "
      "owners in an image become yours; as root, chown and setuid to another id are emulated "
      "(recorded, not real: the files stay yours), as --user another id they fail with "
      "EINVAL. To get 65536 ids: sudo usermod --add-subuids 100000-165535 --add-subgids "
      "100000-165535 %s (with uidmap installed)",
      user, user);
  put (in, "Subordinate ids", "SubordinateIds", in->json ? NULL : how);
  if (in->json)
    json_object_set_new (in->obj, "SubordinateIdsHint", json_string (how));
}

static void
userns_line (struct info *in, const struct nook_idmapping *ids0)
{
  cleanup_free char *keep = NULL, *why = NULL;
  cleanup_error nook_error_t e = NULL;
  cleanup_free char *rt = fs_runtime_dir_why (&why, &e);
  const char *off = getenv ("NOOK_USERNS_KEEP");
  bool pool_off = sandbox_netns_pool_off (), keep_off = off && strcmp (off, "0") == 0;
  if (!ids0->use_helpers)
    keep = xstrdup (rt && !keep_off && !pool_off && getuid () != 0
                        ? "written directly for each run (no newuidmap needed); --network none "
                          "runs as root share the one kept for networks (its network "
                          "namespaces are made ahead)"
                        : "written directly for each run (no newuidmap needed)");
  else if (keep_off)
    keep = xstrdup ("new for each run (NOOK_USERNS_KEEP=0)");
  else if (rt == NULL)
    keep = xstrdup ("new for each run (no trusted runtime directory to keep it)");
  else
    {
      pid_t k = sandbox_userns_keep_pid (ids0, rt);
      keep = k ? xasprintf ("kept by nook-userns (pid %d), shared by this user's runs", (int)k)
               : xstrdup ("kept by nook-userns, started by the next run");
    }
  put (in, "User namespace", "UserNamespace", keep);
  put (in, "Network namespaces", "NetworkNamespaces",
       pool_off                 ? "made by each run (NOOK_NETNS_POOL=0)"
       : rt == NULL || keep_off ? "made by each run (no kept user namespace)"
       : getuid () == 0         ? "made by each run"
                        : "--network none (not with fuse-overlayfs): made ahead by the user's pool "
                          "(nook-netpool, in the kept user namespace), else by each run");
  cleanup_free char *rtline = rt ? xasprintf ("%s (%s)", rt, why) : xasprintf ("none (%s)", e->msg);
  put (in, "Runtime directory", "RuntimeDirectory", rtline);
}

int
cmd_info (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct info in = { 0 };
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook info [OPTIONS]\n\nShow what this machine offers nook: id "
              "mapping, storage driver, kernel features, helpers found\n\nOptions:\n"
              "  -f, --format string   table (default), json or a Go template\n");
      return 0;
    }
  const char *tmpl = NULL;
  if (parse_format_only ("info", argc, argv, &in.json, &tmpl, err) < 0)
    return -1;
  if (in.json)
    in.obj = json_object ();

  put (&in, "Version", "Version", NOOK_VERSION);
  struct idmap_plan_input pi;
  struct nook_idmapping ids0;
  const char *reason = NULL;
  bool have_ids = false;
  {
    cleanup_error nook_error_t e = NULL;
    if (sandbox_idmap_probe (&pi, &e) < 0)
      put_failed (&in, "ID mapping", "IDMapping", e);
    else
      have_ids = true;
  }
  if (have_ids)
    {
      sandbox_idmap_plan (&pi, 0, 0, &ids0, &reason);
      cleanup_free char *mapping = describe_mapping (&ids0, reason);
      put (&in, "ID mapping", "IDMapping", in.json ? (ids0.single ? "single" : "range") : mapping);
      if (in.json)
        put (&in, "", "IDMappingDetail", mapping);
      subid_lines (&in, &pi);
      put (&in, "Image file owners", "ImageFileOwners",
           ids0.single ? "the container user's, all of them (one id is mapped); the layers "
                         "keep the image's owners (and user.containers.override_stat)"
                       : "as the image says (ids 0-65535 are mapped)");
      userns_line (&in, &ids0);
    }
  storage_lines (ctx, have_ids ? &ids0 : NULL, &in);
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
  put_tool (&in, "fuse-overlayfs", "install fuse-overlayfs: the second storage driver");
  put_tool (&in, "pasta", "optional");
  cleanup_free char *fuse = sandbox_storage_fuse_problem ();
  cleanup_free char *fuse_text = fuse ? xasprintf ("not usable: %s", fuse) : NULL;
  put (&in, "/dev/fuse", "DevFuse", fuse ? fuse_text : "usable");
  {
    /* registry mirrors and where they were read from (cmd/registry.c) */
    cleanup_strv char **rl = cmd_registry_info_lines ();
    json_t *a = in.json ? json_array () : NULL;
    for (size_t i = 0; rl[i]; i++)
      if (a)
        json_array_append_new (a, json_string (rl[i]));
      else
        puts (rl[i]);
    if (a)
      json_object_set_new (in.obj, "Registry", a);
  }
  struct run_net_info_line net[8];
  for (size_t i = 0, n = run_net_info (net, 8); i < n; i++)
    {
      put (&in, net[i].label, net[i].key, net[i].value);
      free (net[i].value);
    }
  /* the container lifecycle without a daemon (cmd/supervise.c, cmd/health.c) */
  put (&in, "Supervisors", "Supervisors",
       "one nook-supervise process per running container (no daemon): it owns the "
       "container's init, logs, restart policy and healthchecks; a container whose "
       "supervisor is killed ends, and reads Exited (255)");
  put (&in, "Containers at boot", "BootStart",
       "nothing starts them (no daemon, no systemd unit): restart policies act while a "
       "supervisor lives; after a reboot run `nook start --all --filter "
       "restart-policy=always` (and unless-stopped) from a login script or an @reboot "
       "crontab, as podman's restart unit does");
  {
    /* a delegated freezer (cmd/freezer.h), else SIGSTOP */
    struct freezer fz;
    cleanup_free char *why = NULL;
    cleanup_free char *pause = NULL;
    if (freezer_find (&fz, &why) == 0)
      {
        pause = xasprintf ("the cgroup freezer (v%d), delegated at %s: each container in a "
                           "child cgroup nook-ID, frozen until FROZEN",
                           fz.version, fz.dir);
        freezer_free (&fz);
      }
    else
      pause = xasprintf (
          "SIGSTOP/SIGCONT of every process of the container but nook's init, repeated until "
          "no new process appears; no cgroup freezer is delegated: %s. Differences from a "
          "freezer: a parent in the container sees its child stopped (SIGCHLD, waitpid "
          "WUNTRACED) and SIGCONT handlers run at unpause",
          why);
    put (&in, "Pause", "Pause", pause);
  }
  put (&in, "PID 1", "Pid1",
       "nook-init (reaps orphans, forwards signals, exits with the command's status); the "
       "command itself with --init=false, or without --init when it is /init "
       "(s6-overlay's)");
  put (&in, "Healthchecks", "Healthchecks",
       "run by the container's supervisor through exec (the container's namespaces, user, "
       "capabilities and seccomp), Docker's schedule and rules; none while paused");
  if (tmpl)
    return print_template (tmpl, in.obj, err) < 0 ? -1 : in.failed ? 1 : 0;
  if (in.json)
    {
      char *s = json_dumps (in.obj, JSON_SORT_KEYS | JSON_INDENT (2));
      puts (s);
      free (s);
      json_decref (in.obj);
    }
  return in.failed ? 1 : 0;
}
