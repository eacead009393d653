/* cmd/exec.c: `nook exec [-i] [-t] [-d] [-u USER] [-w DIR] [-e K=V] [--env-file F]
 * [--privileged] CONTAINER COMMAND [ARG...]`: the container's spec (its record:
 * env, user, capabilities, seccomp program) with the flags over it, run in its
 * namespaces by sandbox/exec.c.  No store is opened: exec is on the hot path. */
#include "cmd/cli.h"
#include "cmd/events.h"
#include "cmd/freezer.h"
#include "cmd/lifecycle.h"
#include "cmd/records.h"
#include "cmd/spec.h"
#include "sandbox/caps.h"
#include "sandbox/exec.h"
#include "sandbox/seccomp_bpf.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fs_read.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct exec_opts
{
  bool interactive, tty, detach, privileged;
  const char *user, *workdir, *detach_keys;
  char **env, **env_files;
  const char *container;
  char **argv;
};

static void
exec_usage (void)
{
  printf ("Usage:  nook exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
          "Execute a command in a running container\n\nOptions:\n"
          "  -d, --detach               Detached mode: run command in the background\n"
          "      --detach-keys string   Override the key sequence for detaching a container\n"
          "  -e, --env list             Set environment variables\n"
          "      --env-file list        Read in a file of environment variables\n"
          "  -i, --interactive          Keep STDIN open even if not attached\n"
          "      --privileged           Give extended privileges to the command\n"
          "  -t, --tty                  Allocate a pseudo-TTY\n"
          "  -u, --user string          Username or UID (format: \"<name|uid>[:<group|gid>]\")\n"
          "  -w, --workdir string       Working directory inside the container\n");
}

static int
exec_parse (int argc, char **argv, struct exec_opts *o, nook_error_t *err)
{
  memset (o, 0, sizeof *o);
  int i = 1;
  for (; i < argc; i++)
    {
      const char *a = argv[i], *v = NULL;
      int r;
      if (strcmp (a, "--") == 0)
        {
          i++;
          break;
        }
      if (a[0] != '-' || a[1] == '\0')
        break;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          exec_usage ();
          return 1;
        }
      if (strcmp (a, "--privileged") == 0)
        {
          o->privileged = true;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, "-u", "--user", "exec", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          o->user = v;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, "-w", "--workdir", "exec", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          o->workdir = v;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, "-e", "--env", "exec", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          strv_push (&o->env, v);
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--env-file", "exec", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          strv_push (&o->env_files, v);
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--detach-keys", "exec", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          o->detach_keys = v;
          continue;
        }
      if (a[1] == '-')
        return cmd_flag_error (err, "exec", "unknown flag: %s", a);
      /* bundled short flags: -it, -dit, -itu 0 ... */
      for (const char *c = a + 1; *c; c++)
        {
          if (*c == 'i')
            o->interactive = true;
          else if (*c == 't')
            o->tty = true;
          else if (*c == 'd')
            o->detach = true;
          else if ((*c == 'u' || *c == 'w' || *c == 'e') && c[1] == '\0' && i + 1 < argc)
            {
              const char *val = argv[++i];
              if (*c == 'u')
                o->user = val;
              else if (*c == 'w')
                o->workdir = val;
              else
                strv_push (&o->env, val);
            }
          else
            return cmd_flag_error (err, "exec", "unknown shorthand flag: '%c' in %s", *c, a);
        }
    }
  if (argc - i < 2)
    return cmd_args_error (err, "exec", "\"nook exec\" requires at least 2 arguments.");
  o->container = argv[i];
  for (i++; i < argc; i++)
    strv_push (&o->argv, argv[i]);
  return 0;
}

/* The first child of p (/proc's children list of its main thread), -1 when none. */
static pid_t
first_child (pid_t p)
{
  char path[64], buf[256];
  snprintf (path, sizeof path, "/proc/%d/task/%d/children", (int)p, (int)p);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  pid_t c = (pid_t)strtol (buf, NULL, 10);
  return c > 0 ? c : -1;
}

/* The parent of pid (field 4 of /proc/PID/stat), -1 when it cannot be read. */
static pid_t
proc_parent (pid_t pid)
{
  char path[64], buf[512];
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  buf[n > 0 ? n : 0] = '\0';
  const char *p = strrchr (buf, ')');
  int ppid = 0;
  if (p == NULL || sscanf (p + 1, " %*c %d", &ppid) != 1 || ppid <= 0)
    return -1;
  return (pid_t)ppid;
}

/* PID runs the container's command: a program other than nook's own (ref: the exe of the
 * nook or supervisor that started the container).  Until it has exec'd, a process of the
 * container is nook's code setting it up (PID 1 dumpable before its mount plan and
 * pivot_root, the command started early, a relay): joining its namespaces then would put
 * the exec'd command in a half-made container. */
static bool
runs_command (pid_t pid, const struct stat *ref)
{
  char path[64];
  struct stat st;
  snprintf (path, sizeof path, "/proc/%d/exe", (int)pid);
  if (stat (path, &st) < 0)
    return false;
  return ref == NULL || st.st_dev != ref->st_dev || st.st_ino != ref->st_ino;
}

/* A process of the container whose namespaces can be joined: the init is not
 * dumpable, so its first child (with fuse-overlayfs, the relay's grandchild); one that
 * runs the container's command (runs_command), else -1 (not started yet). */
pid_t
exec_joinable_process (pid_t init)
{
  /* what started it: init's parent */
  struct stat refst;
  const struct stat *ref = NULL;
  pid_t ppid = proc_parent (init);
  if (ppid > 0)
    {
      char path[64];
      snprintf (path, sizeof path, "/proc/%d/exe", (int)ppid);
      if (stat (path, &refst) == 0)
        ref = &refst;
    }
  /* the command itself as PID 1 (no nook-init: --init=false): readable, and in the PID
   * namespace it makes for its children (a fuse-overlayfs relay is not) */
  char a[64], b[64], la[64] = "", lb[64] = "";
  snprintf (a, sizeof a, "/proc/%d/ns/pid", (int)init);
  snprintf (b, sizeof b, "/proc/%d/ns/pid_for_children", (int)init);
  if (readlink (a, la, sizeof la - 1) > 0 && readlink (b, lb, sizeof lb - 1) > 0
      && strcmp (la, lb) == 0)
    return runs_command (init, ref) ? init : -1;
  pid_t p = init;
  for (int depth = 0; depth < 4; depth++)
    {
      char path[64];
      if ((p = first_child (p)) < 0)
        return -1;
      char link[64];
      snprintf (path, sizeof path, "/proc/%d/ns/user", (int)p);
      if (readlink (path, link, sizeof link) > 0 && runs_command (p, ref))
        return p;
    }
  return -1;
}

static const char *
host_getenv (const char *name)
{
  return getenv (name);
}

static int
read_env_file (const char *path, char **text, size_t *len, nook_error_t *err)
{
  return fs_read_user_file (path, 16u << 20, text, len, err);
}

/* Is id mapped in /proc/PID/{uid,gid}_map? *lines gets the map's line count. */
static bool
id_mapped (pid_t pid, const char *which, uint32_t id, int *lines)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, which);
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  *lines = 0;
  if (fs_read_file_at (AT_FDCWD, path, 65536, &text, NULL, &e) < 0)
    return false;
  bool found = false;
  const char *cur = text;
  for (char *l; (l = str_next_line (&cur)) != NULL; free (l))
    {
      unsigned long in, out, count;
      if (sscanf (l, "%lu %lu %lu", &in, &out, &count) == 3)
        {
          (*lines)++;
          found |= id >= in && id - in < count;
        }
    }
  return found;
}

/* -u: resolved in the container's /etc/passwd and /etc/group, read through
 * its root (/proc/PID/root, never following a link out). */
static int
resolve_user (pid_t target, const char *user, struct nook_spec *s, nook_error_t *err)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/root", (int)target);
  cleanup_close int root = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *passwd = NULL, *group = NULL, *home = NULL;
  if (root >= 0)
    {
      cleanup_error nook_error_t e1 = NULL, e2 = NULL;
      fs_read_in_root (root, "/etc/passwd", 4u << 20, &passwd, NULL, &e1);
      fs_read_in_root (root, "/etc/group", 4u << 20, &group, NULL, &e2);
    }
  free (s->groups);
  s->groups = NULL;
  s->n_groups = 0;
  if (spec_resolve_user (user, passwd, group, &s->uid, &s->gid, &s->groups, &s->n_groups, &home,
                         err)
      < 0)
    return -1;
  return 0;
}

/* The container's seccomp program: seccomp.bpf beside its record, or (a foreground
 * --rm run without a name: none linked, for its start-up) the cached program its record
 * names. */
static int
load_seccomp (int dirfd, const char *root, json_t *cfg, struct nook_spec *s, nook_error_t *err)
{
  const char *prog = json_string_value (json_object_get (cfg, "SeccompProgram"));
  if (s->seccomp_unconfined || prog == NULL || faccessat (dirfd, "seccomp.bpf", F_OK, 0) == 0)
    return container_seccomp_load (dirfd, s, err);
  if (*prog == '\0' || *prog == '.' || strchr (prog, '/'))
    return nook_error_set (err, 0, "the container's record names no valid seccomp program");
  cleanup_free char *path = xasprintf ("%s/cache/seccomp", root);
  cleanup_close int dfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  void *data = NULL;
  size_t len = 0;
  if (dfd < 0)
    return nook_error_set (err, errno, "the container's seccomp program: open '%s'", path);
  if (sandbox_seccomp_file_read (dfd, prog, prog, &data, &len, err) < 0)
    return nook_error_wrap (err, "the container's seccomp program");
  s->seccomp_bpf = data;
  s->seccomp_bpf_len = len;
  return 0;
}

/* The init of the nook that runs a foreground --rm run (its first child), pinned in
 * *initfd and checked to be that nook's child; -1 when it has none. */
static pid_t
foreground_child (pid_t nook, int *initfd)
{
  pid_t init = first_child (nook);
  if (init <= 0 || (*initfd = (int)syscall (SYS_pidfd_open, init, 0)) < 0)
    return -1;
  /* still nook's child (not a recycled pid) */
  if (proc_parent (init) != nook)
    {
      close (*initfd);
      *initfd = -1;
      return -1;
    }
  return init;
}

/* A foreground --rm run without a name records no state (its start-up is what is
 * measured): its init is the first child of the nook that runs it (config.json Pid,
 * PidStart, that nook pinned by a pidfd); the init is pinned in *initfd and checked to
 * be that nook's child.  `ps` lists such a run from its config.json on, before its
 * command runs: one that is starting (its nook alive, no command of the container has
 * exec'd yet) is waited for, 30 s at most, so that exec, stop, kill and wait reach what
 * ps showed (and a stop signal meets the command, not an init still setting up). */
pid_t
container_foreground_init (json_t *cfg, bool command_started, int *initfd)
{
  pid_t nook = (pid_t)json_integer_value (json_object_get (cfg, "Pid"));
  unsigned long long start
      = (unsigned long long)json_integer_value (json_object_get (cfg, "PidStart"));
  *initfd = -1;
  if (nook <= 0 || start == 0)
    return -1;
  cleanup_close int nookfd = (int)syscall (SYS_pidfd_open, nook, 0);
  if (nookfd < 0 || container_proc_start (nook) != start)
    return -1;
  struct timespec t0, now;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (;;)
    {
      pid_t init = foreground_child (nook, initfd);
      if (init > 0 && (!command_started || exec_joinable_process (init) > 0))
        return init;
      if (*initfd >= 0)
        close (*initfd);
      *initfd = -1;
      clock_gettime (CLOCK_MONOTONIC, &now);
      struct pollfd p = { .fd = nookfd, .events = POLLIN };
      if (now.tv_sec - t0.tv_sec >= 30 || poll (&p, 1, 10) != 0)
        return -1; /* (it ended, or never started its command) */
    }
}

static int
build_spec (const struct exec_opts *o, pid_t target, struct nook_spec *s, int dirfd,
            const char *root, json_t *cfg, nook_error_t *err)
{
  strv_free (s->argv);
  s->argv = strv_dup (o->argv);
  struct spec_env e = { .getenv = host_getenv, .read_env_file = read_env_file };
  for (size_t i = 0; o->env_files && o->env_files[i]; i++)
    {
      cleanup_free char *text = NULL;
      size_t len = 0;
      if (read_env_file (o->env_files[i], &text, &len, err) < 0
          || spec_parse_env_file (text, len, o->env_files[i], &e, &s->env, err) < 0)
        return -1;
    }
  for (size_t i = 0; o->env && o->env[i]; i++)
    if (spec_env_add (&s->env, o->env[i], &e, "-e", err) < 0)
      return -1;
  if (o->workdir)
    {
      if (o->workdir[0] != '/')
        return nook_error_set (err, 0,
                               "the working directory '%s' is invalid, it needs to be an "
                               "absolute path",
                               o->workdir);
      free (s->cwd);
      s->cwd = xstrdup (o->workdir);
    }
  if (o->user && resolve_user (target, o->user, s, err) < 0)
    return nook_error_set_exit (err, 126, 0, "%s", (*err)->msg) ? -1 : -1;
  int ulines = 0, glines = 0;
  bool uok = id_mapped (target, "uid_map", s->uid, &ulines);
  bool gok = id_mapped (target, "gid_map", s->gid, &glines);
  s->ids.single = ulines == 1;
  if (!uok || !gok)
    {
      nook_error_free (err);
      return nook_error_set_exit (
          err, 126, 0,
          "%s id %u does not exist in this container: without a subordinate id range for your "
          "user in /etc/sub%cid only the container's own user is mapped (add one: sudo usermod "
          "--add-subuids 100000-165535 --add-subgids 100000-165535 $USER)",
          !uok ? "user" : "group", !uok ? (unsigned)s->uid : (unsigned)s->gid, !uok ? 'u' : 'g');
    }
  for (size_t i = 0; i < s->n_groups; i++)
    {
      int l;
      if (!id_mapped (target, "gid_map", s->groups[i], &l))
        s->groups[i] = s->gid; /* (an unmapped supplementary group is left out) */
    }
  s->tty = o->tty;
  s->interactive = o->interactive;
  if (o->privileged)
    {
      s->caps = sandbox_caps_all ();
      s->seccomp_unconfined = true;
    }
  else if (load_seccomp (dirfd, root, cfg, s, err) < 0)
    return -1;
  return 0;
}

/* Docker's exec_die of a detached exec, when its command ends (sandbox/exec.h's waiter) */
struct exec_die
{
  const char *root, *id;
  const json_t *attrs;
};

static void
detached_ended (void *data, int status)
{
  struct exec_die *d = data;
  events_container_with (d->root, d->id, "exec_die", d->attrs,
                         events_attr_int ("exitCode", status));
}

int
cmd_exec (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct exec_opts o;
  int r = exec_parse (argc, argv, &o, err);
  if (r != 0)
    {
      strv_free (o.env);
      strv_free (o.env_files);
      strv_free (o.argv);
      return r < 0 ? -1 : 0;
    }
  int status = -1;
  cleanup_free char *root = NULL, *id = NULL, *dpath = NULL;
  cleanup_close int cdir = -1, dirfd = -1, initfd = -1, cgfd = -1;
  struct nook_spec spec = { 0 };
  struct container_state st = { 0 };
  json_t *cfg = NULL;
  pid_t target = -1;
  enum log_level level;
  int loaded;
  struct sandbox_exec x = { .spec = &spec, .detach = o.detach };
  if (o.interactive && o.tty && !isatty (0))
    {
      nook_error_set (err, 0, "the input device is not a TTY");
      goto out;
    }
  root = lifecycle_root (ctx, err);
  id = root ? container_lookup (root, o.container, err) : NULL;
  if (id == NULL)
    goto out;
  dpath = xasprintf ("%s/containers", root);
  cdir = open (dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free (dpath);
  dpath = xasprintf ("%s/containers/%s", root, id);
  dirfd = open (dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0 || dirfd < 0)
    {
      nook_error_set (err, 0, "No such container: %s", o.container);
      goto out;
    }
  container_state_read (cdir, id, &st);
  if (st.paused)
    {
      nook_error_set (err, 0, "container %s is paused, unpause the container before exec",
                      o.container);
      goto out;
    }
  cfg = container_read_json (cdir, id, "config.json");
  /* the init, pinned by a pidfd while we find its child */
  initfd = strcmp (st.status, "running") == 0 ? (int)syscall (SYS_pidfd_open, st.pid, 0) : -1;
  if (initfd >= 0 && container_proc_start (st.pid) == st.pid_start)
    target = exec_joinable_process (st.pid);
  else if (initfd < 0 && strcmp (st.status, "created") == 0
           && faccessat (dirfd, "state.json", F_OK, 0) < 0 && errno == ENOENT)
    {
      pid_t init = container_foreground_init (cfg, true, &initfd);
      if (init > 0)
        target = exec_joinable_process (init);
    }
  if (target <= 0)
    {
      nook_error_set (err, 0, "container %s is not running", o.container);
      goto out;
    }
  /* (the spec's network is not exec's business: it joins the container's; no warning
   * that `start` would not restore it) */
  level = log_get_level ();
  log_set_level (LOG_ERROR);
  loaded = cfg ? container_spec_from_json (cfg, &spec, err) : -1;
  log_set_level (level);
  if (cfg == NULL || loaded < 0 || build_spec (&o, target, &spec, dirfd, root, cfg, err) < 0)
    goto out;
  x.target = target;
  {
    /* the container's cgroup (its freezer: cmd/freezer.h), so that pause freezes this too */
    json_t *sj = container_read_json (cdir, id, "state.json");
    const char *cg = sj ? json_string_value (json_object_get (sj, "Cgroup")) : NULL;
    if (cg)
      {
        cleanup_error nook_error_t e = NULL;
        cgfd = freezer_open_join (cg, 0, &e);
        if (cgfd < 0)
          log_debug ("exec: not in the container's cgroup: %s", e->msg);
        spec.cgroup_procs_fd = cgfd;
      }
    json_decref (sj);
  }
  {
    /* Docker's exec_create, exec_start ("exec_start: CMD ARGS") and exec_die events, the
     * container's attributes and the exec's ID */
    cleanup_free char *exec_id = random_hex_id ();
    struct strbuf cmdline = { 0 };
    for (size_t i = 0; o.argv && o.argv[i]; i++)
      strbuf_appendf (&cmdline, "%s%s", i ? " " : "", o.argv[i]);
    cleanup_free char *created = xasprintf ("exec_create: %s", cmdline.buf ? cmdline.buf : "");
    cleanup_free char *started = xasprintf ("exec_start: %s", cmdline.buf ? cmdline.buf : "");
    strbuf_free (&cmdline);
    json_t *ea = events_container_attrs (root, id);
    json_object_set_new (ea, "execID", json_string (exec_id));
    events_container_with (root, id, created, ea, NULL);
    events_container_with (root, id, started, ea, NULL);
    struct exec_die die = { .root = root, .id = id, .attrs = ea };
    x.detached_ended = detached_ended;
    x.data = &die;
    status = sandbox_exec (&x, err);
    if (!o.detach)
      events_container_with (root, id, "exec_die", ea,
                             events_attr_int ("exitCode", status < 0 && err && *err
                                                              ? ((*err)->exit ? (*err)->exit : 126)
                                                              : status));
    json_decref (ea);
  }
out:
  json_decref (cfg);
  container_state_clear (&st);
  nook_spec_free (&spec);
  strv_free (o.env);
  strv_free (o.env_files);
  strv_free (o.argv);
  return status;
}
