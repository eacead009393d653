/* cmd/lifecycle.c: create's and run's launches, start, stop, kill, restart,
 * wait, pause, unpause (see lifecycle.h).  Every verb finds the container's
 * state on disk (records.h), and asks its supervisor (supervise.h) to act. */
#include "cmd/lifecycle.h"
#include "cmd/run_net.h"
#include "cmd/cli.h"
#include "cmd/events.h"
#include "cmd/health.h"
#include "cmd/records.h"
#include "cmd/store_open.h"
#include "imagefmt/store.h"
#include "sandbox/rootfs.h"
#include "sandbox/run.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- signals ---- */

static const struct
{
  const char *name;
  int sig;
} signals[] = {
  { "HUP", SIGHUP },       { "INT", SIGINT },   { "QUIT", SIGQUIT },     { "ILL", SIGILL },
  { "TRAP", SIGTRAP },     { "ABRT", SIGABRT }, { "IOT", SIGIOT },       { "BUS", SIGBUS },
  { "FPE", SIGFPE },       { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
  { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH },   { "IO", SIGIO },     { "POLL", SIGPOLL },     { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

int
signal_parse (const char *s, int *sig, nook_error_t *err)
{
  uint64_t n;
  cleanup_error nook_error_t e = NULL;
  if (s && parse_uint (s, 64, &n, "signal", &e) == 0 && n >= 1)
    {
      *sig = (int)n;
      return 0;
    }
  const char *name = s && strncasecmp (s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; name && i < ARRAY_SIZE (signals); i++)
    if (strcasecmp (name, signals[i].name) == 0)
      {
        *sig = signals[i].sig;
        return 0;
      }
  if (name && strncasecmp (name, "RTMIN+", 6) == 0
      && parse_uint (name + 6, 30, &n, "signal", &e) == 0)
    {
      *sig = SIGRTMIN + (int)n;
      return 0;
    }
  return nook_error_set (err, 0, "invalid signal: %s", s ? s : "");
}

const char *
signal_name (int sig)
{
  static char buf[16];
  for (size_t i = 0; i < ARRAY_SIZE (signals); i++)
    if (signals[i].sig == sig)
      {
        snprintf (buf, sizeof buf, "SIG%s", signals[i].name);
        return buf;
      }
  snprintf (buf, sizeof buf, "%d", sig);
  return buf;
}

/* ---- run's lifecycle flags ---- */

int
run_life_parse (const struct run_opts *o, const json_t *image_config, int stop_timeout,
                bool stop_timeout_set, struct run_life *out, nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (restart_policy_parse (o->restart, &out->restart, err) < 0)
    return -1;
  if (out->restart.kind != RESTART_NO && o->rm)
    return nook_error_set (err, 0, "Conflicting options: --restart and --rm");
  if (log_config_parse (o->log_driver, o->log_opts, &out->log, err) < 0)
    return -1;
  const json_t *cfg = image_config ? json_object_get (image_config, "config") : NULL;
  const char *img_sig = json_string_value (json_object_get (cfg, "StopSignal"));
  out->stop_signal = SIGTERM;
  if (o->stop_signal ? signal_parse (o->stop_signal, &out->stop_signal, err) < 0
                     : img_sig && signal_parse (img_sig, &out->stop_signal, err) < 0)
    return nook_error_wrap (err, "%s", o->stop_signal ? "--stop-signal" : "the image's StopSignal");
  out->stop_timeout = stop_timeout;
  out->stop_timeout_set = stop_timeout_set;
  return 0;
}

json_t *
run_life_json (const struct run_opts *o, const struct nook_spec *spec, const struct run_life *l)
{
  json_t *logcfg = json_object ();
  for (size_t i = 0; o->log_opts && o->log_opts[i]; i++)
    {
      const char *eq = strchr (o->log_opts[i], '=');
      if (eq)
        {
          cleanup_free char *k = xstrndup (o->log_opts[i], (size_t)(eq - o->log_opts[i]));
          json_object_set_new (logcfg, k, json_string (eq + 1));
        }
    }
  json_t *env = json_array ();
  for (size_t i = 0; spec->env && spec->env[i]; i++)
    json_array_append_new (env, json_string (spec->env[i]));
  json_t *config = json_pack ("{s:o, s:s?, s:s, s:s?, s:b, s:b, s:s, s:s?}", "Env", env, "User",
                              o->user, "WorkingDir", spec->cwd ? spec->cwd : "", "Hostname",
                              spec->hostname, "Tty", spec->tty, "OpenStdin", spec->interactive,
                              "StopSignal", signal_name (l->stop_signal), "Image", o->image);
  if (l->stop_timeout_set)
    json_object_set_new (config, "StopTimeout", json_integer (l->stop_timeout));
  json_t *host = json_pack (
      "{s:{s:s, s:i}, s:{s:s, s:o}, s:b, s:b, s:b, s:b}", "RestartPolicy", "Name",
      restart_policy_name (l->restart.kind), "MaximumRetryCount", l->restart.max_retries,
      "LogConfig", "Type", l->log.none ? "none" : "json-file", "Config", logcfg, "AutoRemove",
      o->rm, "Privileged", o->privileged, "ReadonlyRootfs", o->read_only, "Init", false);
  /* as given: true, false, or null (not given) */
  json_object_set_new (host, "Init", o->init_set ? json_boolean (o->init) : json_null ());
  if (spec->sysctls)
    {
      json_t *sc = json_object ();
      for (char **s = spec->sysctls; *s; s++)
        {
          cleanup_free char *k = xstrndup (*s, (size_t)(strchr (*s, '=') - *s));
          json_object_set_new (sc, k, json_string (strchr (*s, '=') + 1));
        }
      json_object_set_new (host, "Sysctls", sc);
    }
  json_t *sj = container_spec_json (spec);
  if (spec->no_init)
    json_object_set_new (sj, "NoInit", json_true ()); /* (read back by lifecycle_load) */
  return json_pack ("{s:o, s:o, s:o}", "Spec", sj, "Config", config, "HostConfig", host);
}

void
run_life_from_config (json_t *cfg, struct run_life *out)
{
  memset (out, 0, sizeof *out);
  json_t *host = json_object_get (cfg, "HostConfig"), *config = json_object_get (cfg, "Config");
  json_t *rp = json_object_get (host, "RestartPolicy");
  cleanup_error nook_error_t e = NULL;
  restart_policy_parse (json_string_value (json_object_get (rp, "Name")), &out->restart, &e);
  out->restart.max_retries = (int)json_integer_value (json_object_get (rp, "MaximumRetryCount"));
  json_t *lc = json_object_get (host, "LogConfig");
  const char *type = json_string_value (json_object_get (lc, "Type"));
  char **opts = NULL;
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (lc, "Config"), k, v)
  {
    cleanup_free char *kv
        = xasprintf ("%s=%s", k, json_string_value (v) ? json_string_value (v) : "");
    strv_push (&opts, kv);
  }
  nook_error_free (&e);
  if (log_config_parse (type, opts, &out->log, &e) < 0)
    log_config_parse (NULL, NULL, &out->log, NULL);
  strv_free (opts);
  out->stop_signal = SIGTERM;
  nook_error_free (&e);
  const char *sig = json_string_value (json_object_get (config, "StopSignal"));
  if (sig && signal_parse (sig, &out->stop_signal, &e) < 0)
    out->stop_signal = SIGTERM;
  json_t *t = json_object_get (config, "StopTimeout");
  out->stop_timeout = json_is_integer (t) ? (int)json_integer_value (t) : 10;
  out->stop_timeout_set = json_is_integer (t);
}

/* ---- finding containers ---- */

char *
lifecycle_root (struct nook_ctx *ctx, nook_error_t *err)
{
  if (ctx->root)
    return xstrdup (ctx->root);
  return imagefmt_store_default_root (err);
}

static bool
is_full_id (const char *s)
{
  if (strlen (s) != 64)
    return false;
  for (const char *c = s; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
      return false;
  return true;
}

char *
container_lookup (const char *root, const char *key, nook_error_t *err)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0 || *key == '\0' || strchr (key, '/') || key[0] == '.')
    return nook_error_set (err, 0, "No such container: %s", key), NULL;
  struct stat st;
  cleanup_free char *cfg = xasprintf ("%s/config.json", key);
  if (is_full_id (key) && fstatat (cdir, cfg, &st, 0) == 0)
    return xstrdup (key);
  cleanup_free char *link = xasprintf (".names/%s", key);
  char target[80];
  ssize_t n = readlinkat (cdir, link, target, sizeof target - 1);
  if (n > 0)
    {
      target[n] = '\0';
      free (cfg);
      cfg = xasprintf ("%s/config.json", target);
      if (is_full_id (target) && fstatat (cdir, cfg, &st, 0) == 0)
        return xstrdup (target);
    }
  /* a unique ID prefix */
  int dup = fcntl (cdir, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  char *found = NULL;
  int hits = 0;
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    if (de->d_name[0] != '.' && str_has_prefix (de->d_name, key))
      {
        free (cfg);
        cfg = xasprintf ("%s/config.json", de->d_name);
        if (fstatat (cdir, cfg, &st, 0) != 0)
          continue;
        if (hits++ == 0)
          found = xstrdup (de->d_name);
      }
  if (hits == 1)
    return found;
  free (found);
  if (hits > 1)
    return nook_error_set (err, 0, "multiple IDs found with provided prefix: %s", key), NULL;
  return nook_error_set (err, 0, "No such container: %s", key), NULL;
}

static int
open_containers (const char *root, nook_error_t *err)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  int fd = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", cpath);
  return fd;
}

static bool
state_is_live (const struct container_state *st)
{
  return strcmp (st->status, "running") == 0 || strcmp (st->status, "paused") == 0
         || strcmp (st->status, "restarting") == 0 || strcmp (st->status, "starting") == 0;
}

/* ---- loading a container back for a new supervisor ---- */

/* A hold left by a supervisor that died (nobody has it locked) is removed. */
void
lifecycle_clear_hold (const char *root, const char *id)
{
  cleanup_free char *path = xasprintf ("%s/holds/%s", root, id);
  cleanup_close int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) == 0)
    unlink (path);
}

int
lifecycle_load (struct nook_ctx *ctx, const char *id, struct supervise_opts *o, nook_error_t *err)
{
  memset (o, 0, sizeof *o);
  struct idmap_plan_input in;
  if (cmd_store_open (ctx->root, &o->store, &o->ids0, &in, err) < 0)
    return -1;
  o->root = xstrdup (imagefmt_store_root (o->store));
  o->id = xstrdup (id);
  cleanup_close int cdir = open_containers (o->root, err);
  if (cdir < 0)
    return -1;
  json_t *cfg = container_read_json (cdir, id, "config.json");
  if (cfg == NULL)
    return nook_error_set (err, 0, "No such container: %s", id);
  struct nook_spec *spec = xzalloc (sizeof *spec);
  o->spec = spec;
  int rc = container_spec_from_json (cfg, spec, err);
  spec->no_init = json_is_true (json_object_get (json_object_get (cfg, "Spec"), "NoInit"));
  const char *name = json_string_value (json_object_get (cfg, "Name"));
  o->name = name ? xstrdup (name) : NULL;
  const char *image_id = json_string_value (json_object_get (cfg, "ImageID"));
  const char *driver = json_string_value (json_object_get (cfg, "StorageDriver"));
  struct run_life life;
  run_life_from_config (cfg, &life);
  o->auto_remove
      = json_is_true (json_object_get (json_object_get (cfg, "HostConfig"), "AutoRemove"));
  o->health = health_config_load (json_object_get (json_object_get (cfg, "Config"), "Healthcheck"),
                                  json_object_get (json_object_get (cfg, "Config"), "Shell"));
  cleanup_free char *image = image_id ? xstrdup (image_id) : NULL;
  cleanup_free char *drv = driver ? xstrdup (driver) : NULL;
  json_auto_t *netcfg = json_pack ("{s:O?}", "NetSpec", json_object_get (cfg, "NetSpec"));
  json_decref (cfg);
  if (rc < 0)
    return -1;
  o->log = life.log;
  o->restart = life.restart;
  o->stop_signal = life.stop_signal;
  o->stop_timeout = life.stop_timeout;
  spec->stop_timeout = life.stop_timeout;
  struct container_state st;
  container_state_read (cdir, id, &st);
  o->restart_count = st.restart_count;
  container_state_clear (&st);

  struct imagefmt_image *img = NULL;
  if (image == NULL)
    return nook_error_set (err, 0, "container %s has no image recorded", id);
  lifecycle_clear_hold (o->root, id);
  if (imagefmt_store_lookup_hold (o->store, image, &img, &o->hold, err) < 0)
    return nook_error_wrap (err, "the image of container %s", id);
  rc = imagefmt_store_layer_dirs (o->store, img, &spec->layers, err);
  imagefmt_image_free (img);
  /* the container's record already names the image: rmi refuses it from there (the
   * hold, images.lock shared, would stop every rmi while the container runs) */
  imagefmt_hold_release (o->hold);
  o->hold = NULL;
  if (rc < 0)
    return -1;
  sandbox_idmap_plan (&in, spec->uid, spec->gid, &spec->ids, NULL);
  if (drv ? sandbox_storage_parse (drv, &spec->driver, err) < 0
          : cmd_store_driver (o->root, &o->ids0, &spec->driver, err) < 0)
    return -1;
  const char *keep = getenv ("NOOK_USERNS_KEEP");
  if (!(keep && strcmp (keep, "0") == 0))
    {
      cleanup_error nook_error_t rerr = NULL;
      spec->keep_userns_dir = fs_runtime_dir (&rerr);
    }
  spec->container_dir = xasprintf ("%s/containers/%s", o->root, id);
  cleanup_close int dfd = open (spec->container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return nook_error_set (err, errno, "open '%s'", spec->container_dir);
  if (container_seccomp_load (dfd, spec, err) < 0)
    return -1;
  /* its network as the run asked for it (cmd/run_net.h): ports bound here */
  struct run_net *rn = xzalloc (sizeof *rn);
  o->data = rn;
  o->network = run_net_hook_start;
  o->network_enter = run_net_hook_enter;
  o->network_exit = run_net_hook_exit;
  o->network_watch = run_net_hook_watch;
  o->network_lost = run_net_hook_lost;
  return run_net_restore (netcfg, o->root, id, spec, rn, err);
}

static void
lifecycle_free (struct supervise_opts *o)
{
  if (o->network_enter && o->data)
    {
      run_net_free (o->data);
      free (o->data);
    }
  if (o->spec)
    {
      nook_spec_free (o->spec);
      free (o->spec);
    }
  supervise_free_opts (o);
  memset (o, 0, sizeof *o);
}

/* ---- run -d, run -it, start ---- */

int
lifecycle_run_detached (struct supervise_opts *o, const char *cidfile, nook_error_t *err)
{
  if (supervise_detached (o, false, err) < 0)
    return -1;
  printf ("%s\n", o->id);
  fflush (stdout);
  return 0;
}

static int
attach_new (const char *root, const char *id, bool in, bool tty, const char *keys,
            nook_error_t *err)
{
  cleanup_close int cdir = open_containers (root, err);
  if (cdir < 0)
    return -1;
  cleanup_close int fd = ctl_connect (cdir, id);
  if (fd < 0)
    return nook_error_set (err, errno, "connect to the supervisor of container %.12s", id);
  /* the supervisor, so that its end can be awaited: after `run` returns, `rm`
   * must not find the container still held by a supervisor cleaning up */
  struct ucred cred = { 0 };
  socklen_t clen = sizeof cred;
  cleanup_close int sup = -1;
  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && cred.pid > 0)
    sup = (int)syscall (SYS_pidfd_open, cred.pid, 0);
  bool detached = false;
  int rc = attach_streams (fd, in, tty, keys, &detached, err);
  if (rc >= 0 && !detached && sup >= 0)
    {
      /* it sent the exit code after its last state write; what is left is
       * closing the log and ending the network's helpers: bounded */
      struct pollfd p = { .fd = sup, .events = POLLIN };
      close (fd);
      fd = -1;
      while (poll (&p, 1, 10000) < 0 && errno == EINTR)
        ;
    }
  return rc;
}

int
lifecycle_run_attached (struct supervise_opts *o, const char *detach_keys, nook_error_t *err)
{
  if (supervise_detached (o, true, err) < 0)
    return -1;
  return attach_new (o->root, o->id, o->spec->interactive, o->spec->tty, detach_keys, err);
}

/* ---- verbs ---- */

struct verb_opts
{
  const char *verb;
  int timeout; /* -t, -1: the container's */
  int signal;  /* -s, 0: the container's (stop) or SIGKILL (kill) */
  bool attach, interactive, all;
  const char *detach_keys, *filter;
  char **args;
  char **conditions; /* wait --condition */
};

static void
verb_usage (const char *verb)
{
  if (strcmp (verb, "stop") == 0 || strcmp (verb, "restart") == 0)
    printf ("Usage:  nook %s [OPTIONS] CONTAINER [CONTAINER...]\n\n%s one or more containers\n\n"
            "Options:\n  -s, --signal string   Signal to send to the container\n"
            "  -t, --time int        Seconds to wait before killing the container\n",
            verb, strcmp (verb, "stop") == 0 ? "Stop" : "Restart");
  else if (strcmp (verb, "kill") == 0)
    printf ("Usage:  nook kill [OPTIONS] CONTAINER [CONTAINER...]\n\nKill one or more running "
            "containers\n\nOptions:\n  -s, --signal string   Signal to send to the container "
            "(default \"KILL\")\n");
  else if (strcmp (verb, "start") == 0)
    printf ("Usage:  nook start [OPTIONS] CONTAINER [CONTAINER...]\n\nStart one or more stopped "
            "containers\n\nOptions:\n  -a, --attach               Attach STDOUT/STDERR and "
            "forward signals\n      --detach-keys string   Override the key sequence for "
            "detaching a container\n  -i, --interactive          Attach container's STDIN\n"
            "      --all                  Start all containers (with --filter)\n"
            "  -f, --filter string        restart-policy=always|unless-stopped|on-failure|no\n");
  else if (strcmp (verb, "wait") == 0)
    printf ("Usage:  nook wait [OPTIONS] CONTAINER [CONTAINER...]\n\nBlock until one or more "
            "containers stop, then print their exit codes\n\nOptions:\n"
            "      --condition string   not-running (default), next-exit, removed; or podman's\n"
            "                           created, running, paused, restarting, stopped, exited,\n"
            "                           healthy, unhealthy (prints -1); repeated: any of\n"
            "                           them (next-exit alone)\n");
  else
    printf ("Usage:  nook %s CONTAINER [CONTAINER...]\n", verb);
}

static int
verb_parse (int argc, char **argv, struct verb_opts *v, nook_error_t *err)
{
  v->verb = argv[0];
  v->timeout = -1;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if (strcmp (a, "--") == 0)
        {
          for (i++; i < argc; i++)
            strv_push (&v->args, argv[i]);
          break;
        }
      if (a[0] != '-' || a[1] == '\0')
        {
          strv_push (&v->args, a);
          continue;
        }
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          verb_usage (v->verb);
          return 1;
        }
      bool has_time = strcmp (v->verb, "stop") == 0 || strcmp (v->verb, "restart") == 0;
      bool has_sig = has_time || strcmp (v->verb, "kill") == 0;
      bool is_start = strcmp (v->verb, "start") == 0;
      if (has_time && (r = cmd_opt_value (argc, argv, &i, "-t", "--time", v->verb, &val, err)) != 0)
        {
          int64_t t;
          cleanup_error nook_error_t e = NULL;
          if (r < 0)
            return -1;
          if (parse_int (val, -1, 24 * 3600, &t, "--time", &e) < 0)
            return cmd_flag_error (err, v->verb, "invalid argument \"%s\" for \"-t, --time\" flag",
                                   val);
          v->timeout = (int)t;
        }
      else if (has_time
               && (r = cmd_opt_value (argc, argv, &i, NULL, "--timeout", v->verb, &val, err)) != 0)
        {
          int64_t t;
          cleanup_error nook_error_t e = NULL;
          if (r < 0 || parse_int (val, -1, 24 * 3600, &t, "--timeout", &e) < 0)
            return r < 0 ? -1
                         : cmd_flag_error (err, v->verb,
                                           "invalid argument \"%s\" for \"--timeout\" flag", val);
          v->timeout = (int)t;
        }
      else if (has_sig
               && (r = cmd_opt_value (argc, argv, &i, "-s", "--signal", v->verb, &val, err)) != 0)
        {
          if (r < 0)
            return -1;
          if (signal_parse (val, &v->signal, err) < 0)
            return cmd_usage_mark (err);
        }
      else if (is_start && (strcmp (a, "-a") == 0 || strcmp (a, "--attach") == 0))
        v->attach = true;
      else if (is_start && (strcmp (a, "-i") == 0 || strcmp (a, "--interactive") == 0))
        v->interactive = true;
      else if (is_start && (strcmp (a, "-ai") == 0 || strcmp (a, "-ia") == 0))
        v->attach = v->interactive = true;
      else if (is_start && strcmp (a, "--all") == 0)
        v->all = true;
      else if (is_start
               && (r = cmd_opt_value (argc, argv, &i, "-f", "--filter", v->verb, &val, err)) != 0)
        {
          if (r < 0)
            return -1;
          v->filter = val;
        }
      else if ((is_start || strcmp (v->verb, "attach") == 0)
               && (r = cmd_opt_value (argc, argv, &i, NULL, "--detach-keys", v->verb, &val, err))
                      != 0)
        {
          if (r < 0)
            return -1;
          v->detach_keys = val;
        }
      else if (strcmp (v->verb, "wait") == 0
               && (r = cmd_opt_value (argc, argv, &i, NULL, "--condition", v->verb, &val, err))
                      != 0)
        {
          if (r < 0)
            return -1;
          strv_push (&v->conditions, val);
          if (lifecycle_wait_check (v->conditions, err) < 0)
            return cmd_usage_mark (err);
        }
      else if (strcmp (v->verb, "attach") == 0
               && (strcmp (a, "--no-stdin") == 0 || strcmp (a, "--sig-proxy=false") == 0
                   || strcmp (a, "--sig-proxy") == 0))
        v->interactive = strcmp (a, "--no-stdin") != 0 && v->interactive;
      else
        return cmd_flag_error (err, v->verb, "unknown flag: %s", a);
    }
  if (v->args == NULL && !v->all)
    return cmd_args_error (err, v->verb, "\"nook %s\" requires at least 1 argument.", v->verb);
  return 0;
}

/* The state of container `id` (after lookup). */
static void
read_state (const char *root, const char *id, struct container_state *st)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_close int cdir = open_containers (root, &e);
  container_state_read (cdir, id, st);
}

static void
print_error (const struct nook_error *e)
{
  cleanup_free char *t = nook_error_text (e);
  fprintf (stderr, "Error: %s\n", t);
}

/* Ask the supervisor of id; reply in buf.  1 when none listens (the container
 * is not running), 0 with a reply, -1 on error. */
static int
ask (const char *root, const char *id, const char *req, char *buf, size_t size, int timeout_ms)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_close int cdir = open_containers (root, &e);
  if (cdir < 0)
    return 1;
  cleanup_close int fd = ctl_connect (cdir, id);
  if (fd < 0)
    return 1;
  return ctl_request (fd, req, buf, size, timeout_ms) < 0 ? 1 : 0;
}

/* A foreground `run --rm` without a name has no supervisor: the signal goes to its init
 * (which forwards it), SIGKILL after t seconds (-1: never), as a supervisor does; done
 * when the nook that runs it has ended (it removes the container). false: no such run. */
static bool
foreground_stop (int cdir, const char *id, int sig, int t)
{
  json_t *cfg = container_read_json (cdir, id, "config.json");
  cleanup_close int initfd = -1;
  pid_t init = cfg ? container_foreground_init (cfg, true, &initfd) : -1;
  pid_t nook = (pid_t)json_integer_value (json_object_get (cfg, "Pid"));
  json_decref (cfg);
  if (init <= 0)
    return false;
  cleanup_close int nookfd = (int)syscall (SYS_pidfd_open, nook, 0);
  if (syscall (SYS_pidfd_send_signal, initfd, sig, NULL, 0) < 0)
    return true; /* (it just ended) */
  struct pollfd p = { .fd = nookfd, .events = POLLIN };
  if (nookfd >= 0 && t >= 0 && poll (&p, 1, t * 1000) == 0)
    syscall (SYS_pidfd_send_signal, initfd, SIGKILL, NULL, 0);
  if (nookfd >= 0)
    poll (&p, 1, t >= 0 ? 10000 : -1);
  return true;
}

static int
stop_one (const char *root, const char *id, const struct verb_opts *v, nook_error_t *err)
{
  cleanup_close int cdir = open_containers (root, err);
  if (cdir < 0)
    return -1;
  json_t *cfg = container_read_json (cdir, id, "config.json");
  struct run_life life;
  run_life_from_config (cfg, &life);
  json_decref (cfg);
  int sig = v->signal ? v->signal : life.stop_signal;
  int t = v->timeout >= 0 ? v->timeout : life.stop_timeout;
  cleanup_free char *req = xasprintf ("stop %d %d\n", sig, t);
  struct container_state st;
  container_state_read (cdir, id, &st);
  cleanup_close int sup = -1;
  if (st.sup_pid > 0 && container_process_alive (st.sup_pid, st.sup_start))
    sup = (int)syscall (SYS_pidfd_open, st.sup_pid, 0);
  container_state_clear (&st);
  char buf[64];
  if (ask (root, id, req, buf, sizeof buf, -1) == 0)
    {
      if (sup >= 0)
        {
          /* the end is recorded and logged; let the supervisor be gone too (a
           * `start` right after must not meet it) */
          struct pollfd p = { .fd = sup, .events = POLLIN };
          poll (&p, 1, 10000);
        }
      return 0;
    }
  foreground_stop (cdir, id, sig, t);
  return 0;
}

/* A foreground `run --rm` without a name that runs now (no supervisor): its init's
 * pidfd, else -1. */
static int
foreground_init_open (const char *root, const char *id)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_close int cdir = open_containers (root, &e);
  json_t *cfg = cdir >= 0 ? container_read_json (cdir, id, "config.json") : NULL;
  cleanup_close int initfd = -1;
  pid_t init = cfg ? container_foreground_init (cfg, true, &initfd) : -1;
  json_decref (cfg);
  return init > 0 ? take_fd (&initfd) : -1;
}

static int
kill_one (const char *root, const char *id, const char *arg, const struct verb_opts *v,
          nook_error_t *err)
{
  cleanup_free char *req = xasprintf ("kill %d\n", v->signal ? v->signal : SIGKILL);
  char buf[256];
  if (ask (root, id, req, buf, sizeof buf, 10000) != 0)
    {
      /* a foreground --rm run without a name: to its init */
      cleanup_close int initfd = foreground_init_open (root, id);
      if (initfd >= 0
          && syscall (SYS_pidfd_send_signal, initfd, v->signal ? v->signal : SIGKILL, NULL, 0) == 0)
        return 0;
      return nook_error_set (err, 0, "container %s is not running", arg);
    }
  if (str_has_prefix (buf, "err "))
    return nook_error_set (err, 0, "%s", buf + 4);
  return 0;
}

static int
pause_one (const char *root, const char *id, const char *arg, bool pause, nook_error_t *err)
{
  char buf[256];
  if (ask (root, id, pause ? "pause\n" : "unpause\n", buf, sizeof buf, 30000) != 0)
    {
      /* running without a supervisor: nobody could record it paused (refused) */
      cleanup_close int initfd = foreground_init_open (root, id);
      if (initfd < 0)
        return nook_error_set (err, 0, "container %s is not running", arg);
      if (!pause)
        return nook_error_set (err, 0, "container %s is not paused", arg);
      return nook_error_set (err, 0,
                             "container %s runs in the foreground without a supervisor (run "
                             "--rm without --name): it cannot be paused; give it a --name or "
                             "run it with -d",
                             arg);
    }
  if (str_has_prefix (buf, "err "))
    return nook_error_set (err, 0, "%s", buf + 4);
  return 0;
}

static int
wait_one (const char *root, const char *id, nook_error_t *err)
{
  char buf[64];
  int fg, r = lifecycle_wait_foreground (root, id, &fg);
  if (r == 0)
    return fg;
  if (r < 0) /* it ended as we began, its code lost (a kernel before 6.15) and it is gone */
    return nook_error_set (err, 0, "No such container: %s", id);
  for (int tries = 0; tries < 3; tries++)
    {
      struct container_state st;
      read_state (root, id, &st);
      bool live = state_is_live (&st);
      int code = st.exit_code;
      container_state_clear (&st);
      if (!live)
        return code;
      int code2;
      if (ask (root, id, "wait\n", buf, sizeof buf, -1) == 0
          && sscanf (buf, "exit %d", &code2) == 1)
        return code2;
    }
  struct container_state st;
  read_state (root, id, &st);
  int code = st.exit_code;
  container_state_clear (&st);
  return code;
}

/* The container directory's lock is held but the container does not run: its
 * last supervisor, its final state written, is on its way out, or another verb
 * holds the lock for a moment (`rm`, `ps`: lifecycle_owned), or another start has
 * just taken it.  Wait until the recorded supervisor has gone (its pidfd), else a
 * few milliseconds; false once the deadline (CLOCK_MONOTONIC ms) has passed. */
static bool
wait_lock_holder (const struct container_state *st, int64_t deadline)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  int64_t left = deadline - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
  if (left <= 0)
    return false;
  cleanup_close int pfd = -1;
  if (st->sup_pid > 0 && container_process_alive (st->sup_pid, st->sup_start))
    pfd = (int)syscall (SYS_pidfd_open, st->sup_pid, 0);
  struct pollfd p = { .fd = pfd, .events = POLLIN };
  (void)poll (&p, 1, pfd >= 0 ? (int)left : (int)(left < 5 ? left : 5));
  return true;
}

static int
start_one (struct nook_ctx *ctx, const char *root, const char *id, const char *arg,
           const struct verb_opts *v, nook_error_t *err)
{
  struct container_state st;
  read_state (root, id, &st);
  bool live = state_is_live (&st);
  container_state_clear (&st);
  if (live && !v->attach)
    return 0;
  if (live)
    {
      cleanup_close int cdir = open_containers (root, err);
      cleanup_close int fd = cdir >= 0 ? ctl_connect (cdir, id) : -1;
      if (fd >= 0)
        {
          bool detached;
          json_t *cfg = container_read_json (cdir, id, "config.json");
          bool tty = json_is_true (json_object_get (json_object_get (cfg, "Spec"), "Tty"));
          json_decref (cfg);
          return attach_streams (fd, v->interactive, tty, v->detach_keys, &detached, err);
        }
    }
  struct supervise_opts o;
  int rc = lifecycle_load (ctx, id, &o, err);
  if (rc == 0)
    {
      o.spec->interactive = o.spec->interactive && v->interactive;
      struct timespec t0;
      clock_gettime (CLOCK_MONOTONIC, &t0);
      int64_t deadline = (int64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000 + 10000;
      for (;;)
        {
          rc = supervise_detached (&o, v->attach, err);
          if (rc == 0 || (*err)->code != EBUSY)
            break;
          /* Locked: another start won (it runs: Docker's start of a running
           * container succeeds), or the lock's holder does not keep it long
           * (wait_lock_holder) and the container is still to be started. */
          read_state (root, id, &st);
          live = state_is_live (&st);
          bool waited = !live && wait_lock_holder (&st, deadline);
          container_state_clear (&st);
          if (live && !v->attach)
            {
              nook_error_free (err);
              rc = 0;
              break;
            }
          if (!waited)
            {
              if (!live)
                {
                  nook_error_free (err);
                  rc = nook_error_set (err, EBUSY,
                                       "container %s does not run, but its directory has stayed "
                                       "locked for 10 s (by a supervisor that does not end?)",
                                       id);
                }
              break;
            }
          nook_error_free (err);
        }
      if (rc == 0 && v->attach)
        rc = attach_new (root, id, v->interactive, o.spec->tty, v->detach_keys, err);
    }
  if (o.hold)
    {
      /* the supervisor has it now: forget our copy without releasing it */
      o.hold = NULL;
    }
  lifecycle_free (&o);
  (void)arg;
  return rc;
}

static bool
matches_filter (const char *root, const char *id, const char *filter)
{
  if (filter == NULL)
    return true;
  if (!str_has_prefix (filter, "restart-policy="))
    return false;
  cleanup_error nook_error_t e = NULL;
  cleanup_close int cdir = open_containers (root, &e);
  json_t *cfg = cdir >= 0 ? container_read_json (cdir, id, "config.json") : NULL;
  struct run_life life;
  run_life_from_config (cfg, &life);
  json_decref (cfg);
  const char *want = filter + strlen ("restart-policy=");
  if (strcmp (restart_policy_name (life.restart.kind), want) != 0)
    return false;
  if (life.restart.kind == RESTART_UNLESS_STOPPED)
    {
      struct container_state st;
      read_state (root, id, &st);
      bool stopped = st.manually_stopped;
      container_state_clear (&st);
      return !stopped;
    }
  return true;
}

static int
each_container (struct nook_ctx *ctx, struct verb_opts *v, nook_error_t *err)
{
  cleanup_free char *root = lifecycle_root (ctx, err);
  if (root == NULL)
    return -1;
  if (v->all)
    {
      cleanup_error nook_error_t e = NULL;
      cleanup_close int cdir = open_containers (root, &e);
      int dup = cdir >= 0 ? fcntl (cdir, F_DUPFD_CLOEXEC, 3) : -1;
      cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
      struct dirent *de;
      while (d && (de = readdir (d)) != NULL)
        if (de->d_name[0] != '.' && matches_filter (root, de->d_name, v->filter))
          strv_push (&v->args, de->d_name);
    }
  int status = 0;
  for (size_t i = 0; v->args && v->args[i]; i++)
    {
      cleanup_error nook_error_t e = NULL;
      const char *arg = v->args[i];
      cleanup_free char *id = container_lookup (root, arg, &e);
      int rc = -1;
      if (id == NULL)
        ;
      else if (strcmp (v->verb, "stop") == 0)
        rc = stop_one (root, id, v, &e);
      else if (strcmp (v->verb, "kill") == 0)
        rc = kill_one (root, id, arg, v, &e);
      else if (strcmp (v->verb, "pause") == 0 || strcmp (v->verb, "unpause") == 0)
        rc = pause_one (root, id, arg, v->verb[0] == 'p', &e);
      else if (strcmp (v->verb, "restart") == 0)
        {
          rc = stop_one (root, id, v, &e);
          if (rc == 0)
            rc = start_one (ctx, root, id, arg, v, &e);
          if (rc >= 0)
            events_container (root, id, "restart", NULL);
        }
      else if (strcmp (v->verb, "start") == 0)
        {
          rc = start_one (ctx, root, id, arg, v, &e);
          if (rc >= 0 && v->attach)
            {
              status = rc;
              continue;
            }
        }
      else if (strcmp (v->verb, "wait") == 0 && v->conditions)
        {
          int code;
          if ((rc = lifecycle_wait (root, id, v->conditions, &code, &e)) == 0)
            {
              printf ("%d\n", code);
              fflush (stdout);
              continue;
            }
        }
      else if (strcmp (v->verb, "wait") == 0 && (rc = wait_one (root, id, &e)) >= 0)
        {
          printf ("%d\n", rc);
          fflush (stdout);
          continue;
        }
      if (rc < 0)
        {
          if (v->attach && e && e->exit)
            {
              *err = steal_pointer (&e);
              return -1;
            }
          print_error (e);
          status = 1;
          continue;
        }
      printf ("%s\n", arg);
      fflush (stdout);
    }
  return status;
}

static int
run_verb (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct verb_opts v = { 0 };
  int r = verb_parse (argc, argv, &v, err);
  if (r == 0)
    r = each_container (ctx, &v, err);
  else if (r > 0)
    r = 0;
  strv_free (v.args);
  strv_free (v.conditions);
  return r;
}

int
cmd_start (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return run_verb (ctx, argc, argv, err);
}

int
cmd_stop (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return run_verb (ctx, argc, argv, err);
}

int
cmd_kill (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return run_verb (ctx, argc, argv, err);
}

int
cmd_restart (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return run_verb (ctx, argc, argv, err);
}

int
cmd_wait (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return run_verb (ctx, argc, argv, err);
}

int
cmd_pause (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return run_verb (ctx, argc, argv, err);
}

int
cmd_unpause (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return run_verb (ctx, argc, argv, err);
}

int
cmd_attach (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct verb_opts v = { .interactive = true };
  int r = verb_parse (argc, argv, &v, err);
  if (r != 0)
    {
      strv_free (v.args);
      return r < 0 ? -1 : 0;
    }
  cleanup_free char *root = lifecycle_root (ctx, err);
  cleanup_free char *id = root ? container_lookup (root, v.args[0], err) : NULL;
  if (id == NULL)
    {
      strv_free (v.args);
      return -1;
    }
  cleanup_close int cdir = open_containers (root, err);
  cleanup_close int fd = cdir >= 0 ? ctl_connect (cdir, id) : -1;
  if (fd < 0)
    {
      nook_error_free (err);
      r = nook_error_set (err, 0, "You cannot attach to a stopped container, start it first");
      strv_free (v.args);
      return r;
    }
  json_t *cfg = container_read_json (cdir, id, "config.json");
  json_t *spec = json_object_get (cfg, "Spec");
  bool tty = json_is_true (json_object_get (spec, "Tty"));
  bool in = v.interactive && json_is_true (json_object_get (spec, "Interactive"));
  json_decref (cfg);
  bool detached = false;
  events_container (root, id, "attach", NULL);
  r = attach_streams (fd, in, tty, v.detach_keys, &detached, err);
  strv_free (v.args);
  return r;
}

bool
lifecycle_owned (const char *root, const char *id)
{
  cleanup_free char *dir = xasprintf ("%s/containers/%s", root, id);
  cleanup_error nook_error_t e = NULL;
  cleanup_close int fd = supervise_lock (dir, &e);
  return fd < 0 && e && e->code == EBUSY;
}

int
lifecycle_remove_running (const char *root, const char *id, nook_error_t *err)
{
  char buf[64];
  int64_t deadline = realtime_ns () + 30 * (int64_t)1000000000;
  for (;;)
    {
      struct container_state st;
      read_state (root, id, &st);
      cleanup_close int sup = -1;
      if (st.sup_pid > 0 && container_process_alive (st.sup_pid, st.sup_start))
        sup = (int)syscall (SYS_pidfd_open, st.sup_pid, 0);
      container_state_clear (&st);
      int r = ask (root, id, "rm\n", buf, sizeof buf, 60000);
      if (r == 0 && strcmp (buf, "removed") == 0)
        {
          /* removed: wait for the supervisor itself to be gone */
          struct pollfd p = { .fd = sup, .events = POLLIN };
          if (sup >= 0)
            poll (&p, 1, 10000);
          return 0;
        }
      if (!lifecycle_owned (root, id))
        return 1; /* nobody has it (any more): remove it here */
      if (realtime_ns () > deadline)
        {
          /* a supervisor that does not answer: end it (its init dies with it) */
          if (sup >= 0)
            {
              struct pollfd p = { .fd = sup, .events = POLLIN };
              syscall (SYS_pidfd_send_signal, sup, SIGKILL, NULL, 0);
              poll (&p, 1, 10000);
            }
          return 1;
        }
      /* a supervisor is starting (it has the lock, not yet its socket) */
      struct timespec ts = { 0, 20 * 1000000 };
      nanosleep (&ts, NULL);
    }
}
