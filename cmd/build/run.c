/* cmd/build/run.c: a RUN step: a nook container on the stage's layers with a fresh
 * upper dir (the run path's pieces: spec_merge, the id-map plan, the seccomp cache,
 * the run's network, sandbox_run), its output streamed as BuildKit's plain progress
 * prints it ("#N 0.123 line"), or kept and shown only on failure with -q. */
#include "cmd/build/build.h"
#include "cmd/run_net.h"
#include "cmd/seccomp_cache.h"
#include "cmd/spec.h"
#include "cmd/store_open.h"
#include "imagefmt/layer.h"
#include "imagefmt/store.h"
#include "sandbox/rootfs.h"
#include "sandbox/run.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/owner_record.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The output of the container goes through a pipe to a small process of nook's (a
 * fork: no threads here, the container's clone must not inherit a held lock), which
 * prints each line as "#N 0.123 line", or keeps it in `keep` (-q). */
static void
pump (struct build *b, int fd, int vertex, int keep)
{
  char buf[8192];
  struct strbuf line = { 0 };
  FILE *out = keep >= 0 ? fdopen (keep, "w") : b->out;
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      for (ssize_t i = 0; i < n || (n <= 0 && line.len); i++)
        {
          if (n > 0 && buf[i] != '\n')
            {
              strbuf_appendc (&line, buf[i]);
              continue;
            }
          if (keep >= 0)
            fprintf (out, "%s\n", line.len ? line.buf : "");
          else
            fprintf (out, "#%d %.3f %s\n", vertex, build_elapsed (b), line.len ? line.buf : "");
          fflush (out);
          line.len = 0;
          if (line.buf)
            line.buf[0] = '\0';
          if (n <= 0)
            break;
        }
      if (n <= 0)
        break;
    }
  if (out)
    fflush (out);
  _exit (0);
}

struct run_data
{
  struct run_net net;
};

static int
network_started (void *data, const struct sandbox_netns *ns, nook_error_t *err)
{
  struct run_data *d = data;
  return run_net_start (&d->net, ns, err);
}

static int
read_image_file (void *data, const char *path, char **text, nook_error_t *err)
{
  char *const *dirs = data;
  size_t len;
  return imagefmt_layers_read_file (dirs, path, 4u << 20, text, &len, err);
}

static const char *
host_getenv (const char *name)
{
  return getenv (name);
}

static void
warn (const char *msg)
{
  log_warn ("%s", msg);
}

static bool
env_names (char *const *env, const char *kv)
{
  const char *eq = strchr (kv, '=');
  size_t n = eq ? (size_t)(eq - kv) : strlen (kv);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], kv, n) == 0 && env[i][n] == '=')
      return true;
  return false;
}

/* A step of a single-id user under another USER ran as the one id: the files it made
 * are root's on disk.  They are recorded as the step's user's (user.nook.owner, which
 * the packer reads), as a user with a range gets them; files copied up from the layers
 * below keep their owners (a record copied up with them, or root). */
struct owners_job
{
  struct build *b;
  const char *upper;
  char *const *lowers;
  uid_t uid;
  gid_t gid;
};

static bool
in_lowers (char *const *lowers, const char *rel)
{
  struct stat st;
  for (size_t i = 0; lowers && lowers[i]; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", lowers[i], rel);
      if (lstat (p, &st) == 0)
        return true;
    }
  return false;
}

static int owners_walk (struct owners_job *j, int dirfd, const char *rel, nook_error_t *err);

static int
owners_entry (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct owners_job *j = ((void **)arg)[0];
  const char *rel = ((void **)arg)[1];
  cleanup_free char *path = *rel ? xasprintf ("%s/%s", rel, name) : xstrdup (name);
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error_set (err, errno, "stat '%s'", path);
  if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode))
    return 0; /* symlinks, FIFOs carry no user xattr; whiteouts have no owner */
  cleanup_close int fd = openat (dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", path);
  struct owner_record rec;
  if (st.st_uid == 0 && owner_record_get_fd (fd, &rec) == 0 && !in_lowers (j->lowers, path)
      && owner_record_set_fd (fd, j->uid, j->gid) < 0 && errno != ENOTSUP && errno != EPERM)
    return nook_error_set (err, errno, "record the owner of '%s'", path);
  if (!S_ISDIR (st.st_mode))
    return 0;
  cleanup_close int sub = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0)
    return nook_error_set (err, errno, "open '%s'", path);
  return owners_walk (j, sub, path, err);
}

static int
owners_walk (struct owners_job *j, int dirfd, const char *rel, nook_error_t *err)
{
  void *arg[2] = { j, (void *)rel };
  return fs_dir_foreach (dirfd, owners_entry, arg, err) < 0 ? -1 : 0;
}

static int
owners_fn (void *arg, nook_error_t *err)
{
  struct owners_job *j = arg;
  cleanup_close int fd
      = openat (j->b->tmpfd, j->upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : nook_error_set (err, errno, "open '%s'", j->upper);
  return owners_walk (j, fd, "", err);
}

int
build_run_container (struct build *b, struct build_stage_ctx *sc, char *const *argv,
                     char *const *env_args, const char *network,
                     const struct build_run_mounts *mounts, const char *upper_name, int vertex,
                     int *status, nook_error_t *err)
{
  struct nook_spec spec = { 0 };
  struct run_data d = { 0 };
  d.net.stack = d.net.forwarder = (struct net_helper)NET_HELPER_INIT;
  int ret = -1;
  int saved[3] = { -1, -1, -1 };
  int pipefd[2] = { -1, -1 };
  pid_t pumper = -1, runner = -1;
  int errp[2] = { -1, -1 };
  int keep = -1;
  const char *forced = b->ctx->storage_driver;
  const char *keep_ns = getenv ("NOOK_USERNS_KEEP");
  int null = -1, st = -1;
  struct sandbox_hooks hooks = { .network = network_started, .data = &d };
  cleanup_strv char **env = NULL;
  json_t *cfg = json_object_get (sc->s.config, "config");
  json_t *img_env = cfg ? json_object_get (cfg, "Env") : NULL;
  cleanup_strv char **have = NULL;
  size_t i;
  json_t *v;
  json_array_foreach (img_env, i, v) if (json_is_string (v))
      strv_push (&have, json_string_value (v));
  for (size_t k = 0; env_args && env_args[k]; k++)
    if (!env_names (have, env_args[k]))
      strv_push (&env, env_args[k]);
  struct nook_mount *mnt = NULL;
  size_t n_mnt = 0;
  char *const *secret_env = NULL, *const *mnt_targets = NULL;
  build_run_mounts_spec (mounts, &mnt, &n_mnt, &secret_env, &mnt_targets);
  for (size_t k = 0; secret_env && secret_env[k]; k++)
    strv_push (&env, secret_env[k]); /* env=NAME secrets: over the image's variables */

  if (build_state_dirs (b, &sc->s, err) < 0)
    return -1;
  char *const *dirs = sc->s.dirs;
  char *empty_layers[] = { b->empty_dir, NULL };
  if (dirs == NULL || dirs[0] == NULL)
    dirs = empty_layers;

  struct run_opts o = { 0 };
  o.cmd = (char **)argv;
  o.entrypoint_set = true;
  o.hostname = (char *)"buildkitsandbox";
  o.env = env;
  o.rm = true;
  o.add_hosts = b->o->add_hosts;
  o.ulimits = b->o->ulimits;
  if (network && strcmp (network, "default") != 0)
    o.network = (char *)network;
  struct spec_env se = {
    .read_image_file = read_image_file, .data = (void *)dirs, .getenv = host_getenv, .warn = warn
  };
  if (spec_merge (sc->s.config, &o, &se, "buildkitsandbox", &spec, err) < 0)
    goto out;
  spec.layers = strv_dup (dirs);
  if (n_mnt)
    {
      /* RUN --mount: after the spec's own (none: o has no volumes) */
      spec.mounts = xreallocarray (spec.mounts, spec.n_mounts + n_mnt, sizeof *spec.mounts);
      for (size_t k = 0; k < n_mnt; k++)
        spec.mounts[spec.n_mounts++]
            = (struct nook_mount){ .kind = mnt[k].kind,
                                   .source = mnt[k].source ? xstrdup (mnt[k].source) : NULL,
                                   .target = xstrdup (mnt[k].target),
                                   .readonly = mnt[k].readonly,
                                   .options = mnt[k].options ? xstrdup (mnt[k].options) : NULL };
    }
  sandbox_idmap_plan (&b->idin, spec.uid, spec.gid, &spec.ids, NULL);
  if (spec.ids.single && spec.uid != 0 && !b->warned_single)
    {
      b->warned_single = true;
      fprintf (b->out,
               "#%d note: without a subordinate id range, this RUN step runs as your one id "
               "(as uid %u): owners and permission checks it sees are approximate\n",
               vertex, (unsigned)spec.uid);
    }
  if (!sandbox_idmap_has (spec.ids.uid, spec.ids.n_uid, spec.uid))
    {
      nook_error_set (err, 0, "user id %u is not mapped in the user namespace", (unsigned)spec.uid);
      goto out;
    }
  if (forced ? sandbox_storage_parse (forced, &spec.driver, err) < 0
             : cmd_store_driver (imagefmt_store_root (b->store), &b->ids0, &spec.driver, err) < 0)
    goto out;
  if (spec.driver == STORAGE_COPY_UP)
    {
      nook_error_set (err, 0,
                      "nook build needs an overlay storage driver (overlay or fuse-overlayfs); "
                      "this store uses copy-up");
      goto out;
    }
  /* Single id, root: set*id, chown and stat answered by the init (sandbox/credemu.h),
   * as for `nook run`; the owners it records go into the layer (pack.c) */
  spec.credemu = spec.ids.single && spec.uid == 0 && !spec.no_init;
  if (seccomp_cache_program_path (imagefmt_store_root (b->store), NULL, &spec, NULL, err) < 0)
    goto out;
  spec.seccomp_default = spec.seccomp_bpf != NULL;
  if (!(keep_ns && strcmp (keep_ns, "0") == 0))
    {
      cleanup_error nook_error_t rerr = NULL;
      spec.keep_userns_dir = fs_runtime_dir (&rerr);
    }
  spec.etc_hostname = xstrdup ("buildkitsandbox\n");
  spec.stop_timeout = 1; /* a Ctrl-C ends the step: SIGKILL a second after it */
  if (run_net_prepare (&o, sc->s.config, imagefmt_store_root (b->store), "buildkitsandbox", &spec,
                       &d.net, err)
      < 0)
    goto out;
  spec.container_dir = xasprintf ("%s/%s", b->tmpdir, upper_name);

  /* the container's stdio: /dev/null in, a pipe out */
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    {
      nook_error_set (err, errno, "pipe");
      goto out;
    }
  for (int k = 0; k < 3; k++)
    saved[k] = fcntl (k, F_DUPFD_CLOEXEC, 3);
  null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0)
    {
      dup2 (null, 0);
      close (null);
    }
  dup2 (pipefd[1], 1);
  dup2 (pipefd[1], 2);
  close (pipefd[1]);
  pipefd[1] = -1;
  if (b->quiet)
    keep = open (b->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  fflush (b->out);
  pumper = fork ();
  if (pumper == 0)
    {
      close (1);
      close (2);
      /* drain to the end: a Ctrl-C ends the container, whose last words are shown */
      signal (SIGINT, SIG_IGN);
      signal (SIGTERM, SIG_IGN);
      signal (SIGHUP, SIG_IGN);
      pump (b, pipefd[0], vertex, keep);
    }
  close (pipefd[0]);
  pipefd[0] = -1;
  /* The container is run from a child of ours: sandbox_run joins the kept user
   * namespace in the calling process, which would leave this one unable to map ids
   * for the steps after it. */
  if (pipe2 (errp, O_CLOEXEC) < 0)
    {
      nook_error_set (err, errno, "pipe");
      goto out;
    }
  /* The stop signals stay blocked across the fork: the runner takes them with nook's
   * handler replaced (sandbox_run reads pending ones from its signalfd and forwards
   * them to the container), nook takes them once it knows the runner's pid. */
  sigset_t stops, old_mask;
  sigemptyset (&stops);
  sigaddset (&stops, SIGINT);
  sigaddset (&stops, SIGTERM);
  sigaddset (&stops, SIGHUP);
  sigprocmask (SIG_BLOCK, &stops, &old_mask);
  runner = fork ();
  if (runner == 0)
    {
      cleanup_error nook_error_t rerr = NULL;
      close (errp[0]);
      signal (SIGINT, SIG_DFL);
      signal (SIGTERM, SIG_DFL);
      signal (SIGHUP, SIG_DFL);
      if (build_interrupted)
        raise ((int)build_interrupted); /* pending until sandbox_run reads it */
      int r = sandbox_run (&spec, &hooks, &rerr);
      if (r < 0)
        run_net_explain (&d.net, &rerr);
      run_net_stop (&d.net);
      if (r < 0)
        {
          cleanup_free char *t = nook_error_text (rerr);
          (void)fs_write_all (errp[1], t, strlen (t));
          _exit (125);
        }
      _exit (r);
    }
  close (errp[1]);
  errp[1] = -1;
  build_runner = runner > 0 ? runner : 0;
  sigprocmask (SIG_SETMASK, &old_mask, NULL);
  /* restore nook's stdio: the pump sees EOF once the container's copies are closed */
  for (int k = 0; k < 3; k++)
    if (saved[k] >= 0)
      {
        dup2 (saved[k], k);
        close (saved[k]);
        saved[k] = -1;
      }
  if (runner < 0)
    {
      nook_error_set (err, errno, "fork");
      goto out;
    }
  {
    struct strbuf msg = { 0 };
    char buf[1024];
    ssize_t n;
    while ((n = read (errp[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0)
        strbuf_appendn (&msg, buf, (size_t)n);
    int ws = 0;
    while (waitpid (runner, &ws, 0) < 0 && errno == EINTR)
      ;
    runner = -1;
    build_runner = 0;
    if (msg.len)
      nook_error_set (err, 0, "%s", msg.buf);
    else if (WIFEXITED (ws))
      st = WEXITSTATUS (ws);
    else
      nook_error_set (err, 0, "the step's runner was killed by signal %d", WTERMSIG (ws));
    strbuf_free (&msg);
  }
  if (pumper > 0)
    while (waitpid (pumper, NULL, 0) < 0 && errno == EINTR)
      ;
  pumper = -1;
  if (st == 0 && spec.ids.single && spec.uid != 0)
    {
      cleanup_free char *up = xasprintf ("%s/upper", upper_name);
      struct owners_job oj
          = { .b = b, .upper = up, .lowers = dirs, .uid = spec.uid, .gid = spec.gid };
      if (imagefmt_store_call (b->store, owners_fn, &oj, err) < 0)
        goto out;
    }
  if (st >= 0)
    {
      *status = st;
      ret = 0;
      if (st != 0 && keep >= 0)
        {
          char buf[8192];
          ssize_t n;
          lseek (keep, 0, SEEK_SET);
          while ((n = read (keep, buf, sizeof buf)) > 0)
            if (fs_write_all (2, buf, (size_t)n) < 0)
              break;
        }
    }
out:
  for (int k = 0; k < 3; k++)
    if (saved[k] >= 0)
      {
        dup2 (saved[k], k);
        close (saved[k]);
      }
  if (pumper > 0)
    while (waitpid (pumper, NULL, 0) < 0 && errno == EINTR)
      ;
  if (keep >= 0)
    close (keep);
  if (errp[0] >= 0)
    close (errp[0]);
  if (errp[1] >= 0)
    close (errp[1]);
  if (pipefd[0] >= 0)
    close (pipefd[0]);
  if (pipefd[1] >= 0)
    close (pipefd[1]);
  run_net_free (&d.net);
  nook_spec_free (&spec);
  return ret;
}
