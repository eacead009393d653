/* cmd/run.c: `nook run`: flags -> spec (cmd/spec.c) -> image layers -> the
 * container record -> sandbox_run -> cleanup. */
#include "cmd/events.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/health.h"
#include "cmd/inspect.h"
#include "cmd/lifecycle.h"
#include "cmd/records.h"
#include "cmd/registry.h"
#include "cmd/run_net.h"
#include "cmd/store_open.h"
#include "cmd/seccomp_cache.h"
#include "cmd/spec.h"
#include "cmd/volumes.h"
#include "imagefmt/layer.h"
#include "imagefmt/store.h"
#include "net/mode.h"
#include "sandbox/rootfs.h"
#include "sandbox/run.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fs_read.h"
#include "util/log.h"
#include "util/test_hook.h"
#include "util/trace.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
run_usage (void)
{
  printf (
      "Usage:  nook run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
      "Create and run a new container from an image\n\n"
      "Options:\n"
      "      --cap-add list             Add Linux capabilities\n"
      "      --cidfile string           Write the container ID to the file\n"
      "  -d, --detach                   Run container in background and print container ID\n"
      "      --detach-keys string       Override the key sequence for detaching a container\n"
      "      --cap-drop list            Drop Linux capabilities\n"
      "      --entrypoint string        Overwrite the default ENTRYPOINT of the image\n"
      "  -e, --env list                 Set environment variables\n"
      "      --env-file list            Read in a file of environment variables\n"
      "      --health-cmd string        Command to run to check health\n"
      "      --health-interval duration Time between running the check (ms|s|m|h) (default 30s)\n"
      "      --health-retries int       Consecutive failures needed to report unhealthy\n"
      "                                 (default 3)\n"
      "      --health-start-interval duration\n"
      "                                 Time between running the check during the start\n"
      "                                 period (default 5s)\n"
      "      --health-start-period duration\n"
      "                                 Start period for the container to initialize before\n"
      "                                 starting health-retries countdown (default 0s)\n"
      "      --health-timeout duration  Maximum time to allow one check to run (default 30s)\n"
      "  -h, --help                     Print usage\n"
      "      --hostname string          Container host name\n"
      "      --domainname string        Container NIS domain name\n"
      "      --group-add list           Add additional groups to join\n"
      "      --init                     nook's init as PID 1 (the default; --init=false: the\n"
      "                                 command is PID 1, as is an /init command by default)\n"
      "  -i, --interactive              Keep STDIN open (with -t: stdin must be a terminal)\n"
      "      --log-driver string        Logging driver for the container: json-file, none\n"
      "      --log-opt list             Log driver options (max-size=, max-file=)\n"
      "      --name string              Assign a name to the container\n"
      "      --network string           Connect a container to a network (Network options below)\n"
      "      --no-healthcheck           Disable any container-specified HEALTHCHECK\n"
      "      --platform string          os/arch[/variant] of the image to pull\n"
      "      --privileged               All capabilities of the user namespace, no seccomp\n"
      "      --pull string              Pull image before running: always, missing (default),\n"
      "                                 never\n"
      "      --read-only                Mount the container's root filesystem as read only\n"
      "      --restart string           Restart policy: no, on-failure[:N], always,\n"
      "                                 unless-stopped\n"
      "      --rm                       Automatically remove the container when it exits\n"
      "      --security-opt list        seccomp=unconfined|PROFILE.json, no-new-privileges\n"
      "      --stop-signal string       Signal to stop the container (default: the image's,\n"
      "                                 else SIGTERM)\n"
      "      --stop-timeout int         Seconds from the first INT/TERM/HUP/QUIT forwarded\n"
      "                                 to the container until it is killed (default 10)\n"
      "      --storage-driver string    overlay, fuse-overlayfs or copy-up\n"
      "      --sysctl list              Sysctl options of the container's namespaces\n"
      "                                 (net.*, fs.mqueue.*, kernel.msg*/sem/shm*)\n"
      "      --tmpfs list               Mount a tmpfs directory (PATH[:OPTIONS])\n"
      "  -t, --tty                      Allocate a pseudo-TTY\n"
      "      --ulimit list              Ulimit options (NAME=SOFT[:HARD])\n"
      "  -u, --user string              Username or UID (format: <name|uid>[:<group|gid>])\n"
      "  -v, --volume list              Bind mount a volume (HOST:CONTAINER[:ro])\n"
      "  -w, --workdir string           Working directory inside the container\n");
  printf ("\nNetwork options:\n"
          "      --add-host list            Add a custom host-to-IP mapping (host:ip; ip may be\n"
          "                                 host-gateway)\n"
          "      --dns list                 Set custom DNS servers\n"
          "      --dns-option list          Set DNS options\n"
          "      --dns-search list          Set custom DNS search domains\n"
          "      --expose list              Expose a port or a range of ports\n"
          "      --ip string                IPv4 address on a user-defined network\n"
          "      --network string           bridge (default: user-mode networking), none, host,\n"
          "                                 libslirp[:OPTS], slirp4netns[:OPTS],\n"
          "                                 container:NAME, or a network made by `nook network\n"
          "                                 create` (OPTS: allow_host_loopback=true, mtu=N)\n"
          "      --network-alias list       Add network-scoped alias for the container\n"
          "  -p, --publish list             Publish a container's port(s) to the host\n"
          "                                 ([IP:][HOSTPORT:]PORT[/tcp|/udp], ranges A-B)\n"
          "  -P, --publish-all              Publish all exposed ports to random ports\n");
}

/* ---- callbacks for the spec merge ---- */

struct image_files
{
  const char *image; /* as the user named it, for messages */
  const struct imagefmt_image *img;
  char **layers; /* bottom first */
};

/* Image files are the image author's: a FIFO /etc/passwd must not hang the run
 * (imagefmt_layers_read_file opens nothing it has not checked). */
#define IMAGE_FILE_MAX (4u << 20)

static int
read_image_file (void *data, const char *path, char **text, nook_error_t *err)
{
  struct image_files *f = data;
  if (imagefmt_image_read_file (f->img, f->layers, path, IMAGE_FILE_MAX, text, err) == 0)
    return 0;
  return (*err)->code == ENOENT ? -1 : nook_error_wrap (err, "%s", f->image);
}

static const char *
host_getenv (const char *name)
{
  return getenv (name);
}

/* Docker reads an env file whatever it is (`--env-file <(env | grep ^CI_)`): a
 * regular file, a pipe or a FIFO; nook bounds it and refuses directories and devices. */
#define ENV_FILE_MAX (16u << 20)

static int
read_env_file (const char *path, char **text, size_t *len, nook_error_t *err)
{
  return fs_read_user_file (path, ENV_FILE_MAX, text, len, err);
}

static void
warn (const char *msg)
{
  log_warn ("%s", msg);
}

/* ---- pieces of the run ---- */

static int
pick_driver (struct nook_ctx *ctx, const struct run_opts *o, struct imagefmt_store *store,
             const struct nook_idmapping *ids0, enum storage_driver *out, nook_error_t *err)
{
  const char *forced = o->storage_driver ? o->storage_driver : ctx->storage_driver;
  if (forced ? sandbox_storage_parse (forced, out, err) < 0
             : cmd_store_driver (imagefmt_store_root (store), ids0, out, err) < 0)
    return -1;
  return sandbox_storage_check_path (*out, imagefmt_store_root (store), err);
}

static int
check_ids (const struct nook_spec *spec, nook_error_t *err)
{
  const struct nook_idmapping *m = &spec->ids;
  if (!sandbox_idmap_has (m->uid, m->n_uid, spec->uid))
    return nook_error_set (err, 0, "user id %u is not mapped in the user namespace",
                           (unsigned)spec->uid);
  if (!sandbox_idmap_has (m->gid, m->n_gid, spec->gid))
    return nook_error_set (err, 0, "group id %u is not mapped in the user namespace",
                           (unsigned)spec->gid);
  return 0;
}

/* Invoked by root: the containers' root (a subordinate id) must traverse the
 * store to reach containers/<id>, which prepare_dir hands to it by fd.  The
 * store stays root's: mode 0711 on it and on containers/, nothing chowned by
 * path (a container's root owning them could swap in symlinks). */
static int
open_store_for_root (struct imagefmt_store *store, nook_error_t *err)
{
  const char *root = imagefmt_store_root (store);
  cleanup_close int rfd = open (root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rfd < 0 || fchmod (rfd, 0711) < 0)
    return nook_error_set (err, errno, "make '%s' traversable", root);
  if (mkdirat (rfd, "containers", 0711) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "mkdir '%s/containers'", root);
  cleanup_close int cfd
      = openat (rfd, "containers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (cfd < 0 || fstat (cfd, &st) < 0)
    return nook_error_set (err, errno, "open '%s/containers'", root);
  if (st.st_uid != 0 && fchown (cfd, 0, 0) < 0)
    return nook_error_set (err, errno, "chown '%s/containers'", root);
  if (fchmod (cfd, 0711) < 0)
    return nook_error_set (err, errno, "chmod '%s/containers'", root);
  return 0;
}

/* The container's directory exists: its seccomp program beside its record,
 * state "created", and --cidfile (Docker refuses an existing one). */
static int
container_created (const struct nook_spec *spec, const char *cidfile, const char *id,
                   const char *seccomp_file, bool foreground, bool quick, nook_error_t *err)
{
  cleanup_close int d = open (spec->container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0)
    return nook_error_set (err, errno, "open '%s'", spec->container_dir);
  /* the seccomp program: a link to the cached one (no new inode: file creation is what
   * costs on a busy ext4), else a copy */
  if (spec->seccomp_bpf && !(quick && seccomp_file)
      && !(seccomp_file && linkat (AT_FDCWD, seccomp_file, d, "seccomp.bpf", 0) == 0)
      && container_seccomp_save (d, spec, err) < 0)
    return -1;
  /* (a foreground run records itself as running at once: no "created" first) */
  struct container_state cs = { .status = "created" };
  if (!foreground && container_state_write (d, &cs, err) < 0)
    return -1;
  if (cidfile)
    {
      cleanup_close int fd
          = open (cidfile, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0 && errno == EEXIST)
        return nook_error_set (err, 0,
                               "Container ID file found, make sure the other container isn't "
                               "running or delete %s",
                               cidfile);
      if (fd < 0 || fs_write_all (fd, id, strlen (id)) < 0)
        return nook_error_set (err, errno, "write the container ID file '%s'", cidfile);
    }
  return 0;
}

struct run_state
{
  struct imagefmt_store *store;
  struct imagefmt_image *img;
  struct imagefmt_hold *hold; /* the image, against rmi, until the record is written */
  struct nook_idmapping ids0;
  struct nook_spec spec;
  char *id;
  bool created;
  bool creating;             /* nook create: recorded as created, not started */
  bool want_empty, empty_ok; /* --rm: the directory is emptied for the pool */
  bool deferred;             /* ... by a later run (see container_pool_clean) */
  bool dirty;                /* ... which has overlayfs' work/ tree to remove */
  bool parked;               /* ... and already parked */
  bool named;                /* --name given: its .names link must be freed */
  bool direct;               /* launch's shortest path: no supervisor, no log */
  struct run_net net;
  json_t *mounts;       /* inspect's Mounts (--rm: its anonymous volumes go too) */
  struct run_life life; /* restart policy, logs, stop signal (cmd/lifecycle.h) */
  bool handed;          /* a supervisor owns the container now */
  char *seccomp_file;   /* the cached program, linked into the container */
  /* quick path: config.json written once the child is cloned (rec.extra held) */
  bool record_deferred;
  struct container_record rec;
  char *rec_name;
  struct health_config *health; /* its healthcheck, or NULL (cmd/health.h) */
  json_t *ev_attrs;   /* direct path: its events' attributes, read while the child sets up */
  json_t *ev_volumes; /* ... and its volumes (NULL: none), for mount/unmount */
};

/* The command and all of the container have ended; the kernel is still
 * tearing its namespaces down (on the other core): empty the directory now.
 * A container that wrote nothing is parked as it is, and then nothing more
 * is needed of it: nook need not wait for the teardown (as bwrap does not). */
static bool
empty_while_torn_down (void *data, int status)
{
  struct run_state *st = data;
  cleanup_error nook_error_t e = NULL;
  run_net_stop (&st->net);
  const char *root = imagefmt_store_root (st->store);
  lifecycle_tell_waiters (root, st->id, status); /* `nook wait` of the direct path */
  test_hook ("waiters-told");
  if (st->direct)
    {
      /* (a supervisor records its own) */
      events_container_with (root, st->id, "die", st->ev_attrs,
                             events_attr_int ("exitCode", status));
      events_volumes (root, st->id, st->ev_volumes, false);
      if (st->want_empty)
        events_container_with (root, st->id, "destroy", st->ev_attrs, NULL);
    }
  if (st->want_empty)
    st->empty_ok = container_empty (root, st->id, st->named, &st->deferred, &st->dirty, &e) == 0;
  if (st->empty_ok && st->deferred)
    st->parked = container_park (root, st->id, st->dirty, &e) == 0;
  trace_mark ("container emptied");
  return st->parked;
}

/* The same for a supervisor (cmd/supervise.c), which waits for the init itself. */
static void
ended_under_supervisor (void *data, int status)
{
  (void)empty_while_torn_down (data, status);
}

/* The child is setting the container up (on the other core, if there is one):
 * record the container, so that ps lists it (and exec waits for its command)
 * before its command starts. */
static void
record_while_child_sets_up (void *data)
{
  struct run_state *st = data;
  if (st->record_deferred)
    {
      cleanup_error nook_error_t e = NULL;
      st->record_deferred = false;
      json_t *cfg = NULL;
      if (container_write_config (st->spec.container_dir, &st->rec, st->rec_name, &cfg, &e) < 0)
        log_warn ("container %.12s is not recorded (ps cannot show it): %s", st->id, e->msg);
      /* the record now says a running container uses the image (see prepare) */
      imagefmt_hold_release (steal_pointer (&st->hold));
      test_hook ("container-recorded");
      trace_mark ("container recorded");
      /* (its attributes from what was written, not read back) */
      st->ev_attrs = events_container_attrs_of (cfg, &st->ev_volumes);
      json_decref (cfg);
      events_container_with (imagefmt_store_root (st->store), st->id, "create", st->ev_attrs, NULL);
    }
}

/* The command runs (on the other core, if there is one): tell its start, empty what
 * earlier runs left in the pool. */
static void
clean_while_command_runs (void *data)
{
  struct run_state *st = data;
  /* (the attributes kept for its end, which then reads no file) */
  if (st->ev_attrs == NULL)
    st->ev_attrs
        = events_container_attrs_mounts (imagefmt_store_root (st->store), st->id, &st->ev_volumes);
  events_container_with (imagefmt_store_root (st->store), st->id, "start", st->ev_attrs, NULL);
  events_volumes (imagefmt_store_root (st->store), st->id, st->ev_volumes, true);
  if (st->spec.driver == STORAGE_OVERLAY)
    container_pool_clean (imagefmt_store_root (st->store));
  trace_mark ("pool cleaned");
}

static int
network_started (void *data, const struct sandbox_netns *ns, nook_error_t *err)
{
  struct run_state *st = data;
  /* a restart (restart policy) under the same supervisor: the last run's helpers end
   * first (each run left one more running) */
  if (st->net.stack.pid > 0 || st->net.forwarder.pid > 0)
    {
      run_net_stop (&st->net);
      net_helper_reap (&st->net.forwarder, true);
      net_helper_reap (&st->net.stack, true);
    }
  return run_net_start (&st->net, ns, err);
}

static int
network_enter (void *data, struct nook_spec *spec, nook_error_t *err)
{
  struct run_state *st = data;
  return run_net_enter (&st->net, spec, err);
}

static void
network_exit (void *data, bool final)
{
  struct run_state *st = data;
  run_net_exit (&st->net, final);
}

static int
network_watch (void *data)
{
  return run_net_hook_watch (&((struct run_state *)data)->net);
}

static char *
network_lost (void *data)
{
  return run_net_hook_lost (&((struct run_state *)data)->net);
}

static int
prepare (struct nook_ctx *ctx, const struct run_opts *o, int stop_timeout, struct run_state *st,
         nook_error_t *err)
{
  struct idmap_plan_input in;
  if (cmd_store_open (ctx->root, &st->store, &st->ids0, &in, err) < 0)
    return -1;
  trace_mark ("store opened");
  st->id = random_hex_id ();
  /* --pull: missing (default) pulls an image the store lacks, as Docker does; always
   * pulls first; never only looks (offline labs). */
  const char *policy = o->pull ? o->pull : "missing";
  if (strcmp (policy, "missing") != 0 && strcmp (policy, "always") != 0
      && strcmp (policy, "never") != 0)
    return nook_error_set (err, 0, "invalid pull policy \"%s\": want always, missing or never",
                           policy);
  if (strcmp (policy, "always") == 0
      && cmd_pull_for_run (ctx, st->store, o->image, o->platform, stderr, err) < 0)
    return -1;
  if (imagefmt_store_lookup_hold (st->store, o->image, &st->img, &st->hold, err) < 0)
    {
      if ((*err)->code != ENOENT)
        return -1;
      nook_error_free (err);
      if (strcmp (policy, "never") == 0)
        return nook_error_set (err, 0,
                               "Unable to find image '%s' locally, and --pull never forbids "
                               "pulling it",
                               o->image);
      fprintf (stderr, "Unable to find image '%s' locally\n", o->image);
      if (cmd_pull_for_run (ctx, st->store, o->image, o->platform, stderr, err) < 0
          || imagefmt_store_lookup_hold (st->store, o->image, &st->img, &st->hold, err) < 0)
        return -1;
    }
  trace_mark ("image found");
  test_hook ("image-resolved");
  struct nook_spec *spec = &st->spec;
  if (imagefmt_store_layer_dirs (st->store, st->img, &spec->layers, err) < 0)
    return -1;

  trace_mark ("layers ready");
  struct image_files files = { .image = o->image, .img = st->img, .layers = spec->layers };
  struct spec_env env = { .read_image_file = read_image_file,
                          .data = &files,
                          .getenv = host_getenv,
                          .read_env_file = read_env_file,
                          .warn = warn };
  if (spec_merge (st->img->config, o, &env, st->id, spec, err) < 0)
    return -1;
  /* PID 1: nook's init unless --init=false, or, without --init, a command that is
   * /init (s6-overlay's, which must be PID 1: the linuxserver.io images) */
  spec->no_init = o->init_set ? !o->init
                              : spec->argv && spec->argv[0] && strcmp (spec->argv[0], "/init") == 0;
  sandbox_idmap_plan (&in, spec->uid, spec->gid, &spec->ids, NULL);
  if (check_ids (spec, err) < 0)
    return -1;
  for (char **g = o->group_add; g && *g && spec->ids.single; g++)
    if (strcmp (*g, "0") != 0 && strcmp (*g, "root") != 0)
      return nook_error_set (err, 0,
                             "--group-add %s: this user has no subordinate id range "
                             "(/etc/subuid, /etc/subgid): the container has its own group only",
                             *g);
  if (pick_driver (ctx, o, st->store, &st->ids0, &spec->driver, err) < 0)
    return -1;
  trace_mark ("spec and storage driver");
  bool unconfined = false;
  cleanup_free char *profile = NULL;
  /* Single id, root: set*id, chown and stat answered by the init (sandbox/credemu.h);
   * not when the command is PID 1 (no init to answer: real answers, as without it) */
  spec->credemu = spec->ids.single && spec->uid == 0 && !spec->no_init;
  if (spec_security_opts (o->security_opts, &unconfined, &profile, err) < 0
      || seccomp_cache_program_path (imagefmt_store_root (st->store), profile, spec,
                                     &st->seccomp_file, err)
             < 0)
    return -1;
  spec->seccomp_default = spec->seccomp_bpf && profile == NULL;
  trace_mark ("seccomp program");
  const char *keep = getenv ("NOOK_USERNS_KEEP");
  if (!(keep && strcmp (keep, "0") == 0))
    {
      cleanup_error nook_error_t rerr = NULL;
      spec->keep_userns_dir = fs_runtime_dir (&rerr);
    }
  spec->etc_hostname = xasprintf ("%s\n", spec->hostname);
  if (run_net_prepare (o, st->img->config, imagefmt_store_root (st->store), st->id, spec, &st->net,
                       err)
      < 0)
    return -1;
  trace_mark ("network prepared");

  /* volumes (named, anonymous, the image's VOLUMEs, --volumes-from) and what
   * inspect shows (cmd/volumes.c, cmd/inspect.c) */
  json_t *mounts = NULL;
  if (volumes_prepare (imagefmt_store_root (st->store), &st->ids0, st->img->config, o->volumes_from,
                       spec, &mounts, err)
      < 0)
    return -1;
  json_t *extra = inspect_record_fields (o, spec, st->img->config, mounts, err);
  st->mounts = mounts;
  if (extra == NULL)
    return -1;
  json_object_set_new (extra, "NetSpec", run_net_json (&st->net));
  json_t *healthcheck = NULL;
  if (health_config_merge (o, st->img->config, &healthcheck, err) < 0)
    {
      json_decref (extra);
      return -1;
    }
  if (healthcheck)
    {
      st->health = health_config_load (
          healthcheck, json_object_get (json_object_get (extra, "Config"), "Shell"));
      json_object_set_new (json_object_get (extra, "Config"), "Healthcheck", healthcheck);
    }
  if (run_life_parse (o, st->img->config, stop_timeout, o->stop_timeout != NULL, &st->life, err)
      < 0)
    return -1;
  spec->stop_timeout = stop_timeout;
  /* what start and exec need (Spec), and the lifecycle's Config/HostConfig keys, merged
   * into inspect's */
  json_t *life = run_life_json (o, spec, &st->life);
  const char *key;
  json_t *v;
  json_object_foreach (life, key, v)
  {
    json_t *have = json_object_get (extra, key);
    if (json_is_object (have) && json_is_object (v))
      json_object_update (have, v);
    else
      json_object_set (extra, key, v);
  }
  json_decref (life);
  struct container_record rec = {
    .id = st->id,
    .name = o->name,
    .image = o->image,
    .image_id = st->img->id,
    .argv = spec->argv,
    .driver = sandbox_storage_name (spec->driver),
    .ephemeral = o->rm,
    .network = net_mode_name (&st->net.mode),
    .ports = st->net.ports,
    .n_ports = st->net.n_ports,
    .extra = extra,
  };
  st->named = o->name != NULL || !o->rm;
  /* (--rm without a name in the foreground, its output not on a terminal: launch's
   * shortest path, nothing of it kept for start; exec finds its seccomp program in the
   * cache, named here: no link made.  On a terminal a person may follow it with `logs`
   * from another one, as Docker's: the supervised path, which logs, ~1 ms more) */
  bool quick = o->rm && !o->name && !st->creating && !o->detach && !(o->interactive && o->tty)
               && st->health == NULL && !isatty (1) && !isatty (2);
  st->direct = quick;
  /* Its writes die with it: on a tmpfs of its own rather than the store's disk (see
   * ARCHITECTURE.md, "--rm's writable layer"); NOOK_RM_UPPER=disk keeps them on disk. */
  const char *rm_upper = getenv ("NOOK_RM_UPPER");
  spec->upper_tmpfs
      = quick && spec->driver == STORAGE_OVERLAY && !(rm_upper && strcmp (rm_upper, "disk") == 0);
  if (quick && spec->seccomp_bpf && st->seccomp_file && strrchr (st->seccomp_file, '/'))
    json_object_set_new (extra, "SeccompProgram",
                         json_string (strrchr (st->seccomp_file, '/') + 1));
  /* (the quick path writes config.json while its child sets up: ~0.1 ms of ext4 off
   * the path; ps shows the container once written, before its command starts) */
  if (quick)
    rec.deferred_name = &st->rec_name;
  if (getuid () == 0 && !st->ids0.single && open_store_for_root (st->store, err) < 0)
    {
      json_decref (extra);
      return -1;
    }
  int created = container_create (imagefmt_store_root (st->store), &rec, &spec->container_dir, err);
  if (created == 0 && quick)
    {
      /* (what rec points to lives until the run ends; extra is kept for it) */
      st->rec = rec;
      st->rec.deferred_name = NULL;
      st->record_deferred = true;
    }
  else
    json_decref (extra);
  if (created < 0)
    return -1;
  st->created = true;
  /* The image was held from its lookup (an rmi waited); the record now says a running
   * container uses it (quick path: once written, record_while_child_sets_up). */
  if (!st->record_deferred)
    {
      imagefmt_hold_release (steal_pointer (&st->hold));
      test_hook ("container-recorded");
    }
  if (container_created (spec, o->cidfile, st->id, st->seccomp_file,
                         !(st->creating || o->detach || (o->interactive && o->tty)), quick, err)
      < 0)
    return -1;
  if (!st->record_deferred)
    events_container (imagefmt_store_root (st->store), st->id, "create", NULL);
  trace_mark ("container created");
  return 0;
}

/* Before anything is made: -i with -t needs a terminal on stdin (Docker:
 * "the input device is not a TTY"; a pipe would end and leave the shell
 * waiting on a terminal nobody types into); -t alone works with any stdin.
 * --stop-timeout: whole seconds, -1 for "wait for a second signal". */
static int
check_tty_opts (const struct run_opts *o, int *stop_timeout, nook_error_t *err)
{
  if (o->interactive && o->tty && !o->detach && !isatty (0)) /* -dit needs no terminal, as Docker */
    return nook_error_set (err, 0, "the input device is not a TTY");
  if (o->stop_timeout)
    {
      cleanup_error nook_error_t e = NULL;
      int64_t v;
      if (parse_int (o->stop_timeout, -1, 24 * 3600, &v, "--stop-timeout", &e) < 0)
        return cmd_flag_error (err, "run",
                               "invalid argument \"%s\" for \"--stop-timeout\" flag: want whole "
                               "seconds (-1 to wait for a second signal)",
                               o->stop_timeout);
      *stop_timeout = (int)v;
    }
  return 0;
}

/* Hand the created container to a supervisor: this process (a foreground
 * run), or a detached one (run -d; run -it, which then attaches to it). */
static int
launch (const struct run_opts *o, struct run_state *st, bool create, nook_error_t *err)
{
  struct supervise_opts so = {
    .root = xstrdup (imagefmt_store_root (st->store)),
    .id = xstrdup (st->id),
    .name = o->name ? xstrdup (o->name) : NULL,
    .spec = &st->spec,
    .ids0 = st->ids0,
    .log = st->life.log,
    .restart = st->life.restart,
    .stop_signal = st->life.stop_signal,
    .stop_timeout = st->spec.stop_timeout,
    .command_ended = ended_under_supervisor,
    .network = network_started,
    .network_enter = network_enter,
    .network_exit = network_exit,
    .network_watch = network_watch,
    .network_lost = network_lost,
    .data = st,
    .health = steal_pointer (&st->health),
  };
  int status;
  if (create)
    {
      printf ("%s\n", st->id);
      st->handed = true;
      status = 0;
    }
  else if (o->detach || (o->interactive && o->tty))
    {
      /* the supervisor gets the hold and the store (a fork's copies) */
      so.hold = st->hold;
      so.store = st->store;
      so.auto_remove = o->rm;
      so.command_ended = NULL;
      status = o->detach ? lifecycle_run_detached (&so, o->cidfile, err)
                         : lifecycle_run_attached (&so, o->detach_keys, err);
      so.hold = NULL;
      so.store = NULL;
      /* (our copy of the hold is the supervisor's lock too: never released here) */
      st->hold = NULL;
      st->handed = status >= 0 || (err && *err && ((*err)->exit == 126 || (*err)->exit == 127));
    }
  else if (st->direct)
    {
      /* --rm without a name, output not on a terminal (prepare): not logged, nobody to
       * stop it by name; the shortest path (start-up is measured on it): nook waits
       * itself, and returns without waiting for the kernel's teardown when the container
       * wrote nothing */
      struct sandbox_hooks hooks = { .command_ended = empty_while_torn_down,
                                     .child_setting_up = record_while_child_sets_up,
                                     .command_started = clean_while_command_runs,
                                     .network = network_started,
                                     .data = st };
      st->empty_ok = false;
      st->want_empty = st->spec.driver == STORAGE_OVERLAY;
      status = run_net_enter (&st->net, &st->spec, err);
      if (status == 0)
        status = sandbox_run (&st->spec, &hooks, err);
      if (status < 0)
        run_net_explain (&st->net, err);
      run_net_exit (&st->net, true);
      trace_mark ("container ended");
    }
  else
    {
      /* capture the output for `logs` */
      st->empty_ok = false;
      st->want_empty = o->rm && st->spec.driver == STORAGE_OVERLAY;
      so.ephemeral = o->rm;
      status = supervise_foreground (&so, true, err);
      if (status < 0)
        run_net_explain (&st->net, err);
      run_net_stop (&st->net);
      trace_mark ("container ended");
    }
  supervise_free_opts (&so);
  return status;
}

static int
run_main (struct nook_ctx *ctx, int argc, char **argv, bool create, nook_error_t *err)
{
  struct run_opts o;
  if (run_opts_parse (argc, argv, &o, err) < 0)
    {
      run_opts_free (&o);
      return cmd_usage_mark (err);
    }
  if (o.help)
    {
      run_opts_free (&o);
      run_usage ();
      return 0;
    }
  int stop_timeout = 10;
  struct run_life life;
  if (check_tty_opts (&o, &stop_timeout, err) < 0 || health_flags_check (&o, err) < 0
      || run_life_parse (&o, NULL, stop_timeout, false, &life, err) < 0)
    {
      run_opts_free (&o);
      return -1;
    }
  if (o.cidfile && access (o.cidfile, F_OK) == 0)
    {
      nook_error_set (err, 0,
                      "Container ID file found, make sure the other container isn't running or "
                      "delete %s",
                      o.cidfile);
      run_opts_free (&o);
      return -1;
    }
  struct run_state st = { .creating = create };
  int status = prepare (ctx, &o, stop_timeout, &st, err);
  test_hook ("container-created");
  if (status == 0)
    status = launch (&o, &st, create, err);
  if (st.created && !st.handed
      && (o.rm || (status < 0 && err && *err && (*err)->exit != 126 && (*err)->exit != 127)))
    {
      cleanup_error nook_error_t rerr = NULL;
      const char *root = imagefmt_store_root (st.store);
      /* emptied while the kernel tore the namespaces down (or now) */
      /* (parked already when the command ended: empty_while_torn_down) */
      bool recycled
          = st.parked
            || (st.want_empty
                && (st.empty_ok
                    || container_empty (root, st.id, st.named, &st.deferred, &st.dirty, &rerr) == 0)
                && container_park (root, st.id, st.deferred && st.dirty, &rerr) == 0);
      nook_error_free (&rerr);
      if (!recycled && container_remove (root, st.id, &st.ids0, &rerr) < 0)
        log_warn ("could not remove container %.12s: %s", st.id, rerr->msg);
      if (o.rm)
        volumes_remove_anonymous (root, &st.ids0, st.mounts);
      if (o.cidfile && status < 0)
        unlink (o.cidfile);
    }
  json_decref (st.mounts);
  json_decref (st.ev_attrs);
  json_decref (st.ev_volumes);
  trace_mark ("container removed");
  run_net_free (&st.net);
  imagefmt_hold_release (st.hold);
  nook_spec_free (&st.spec);
  imagefmt_image_free (st.img);
  health_config_free (st.health);
  if (st.store)
    imagefmt_store_close (st.store);
  free (st.id);
  free (st.seccomp_file);
  json_decref (st.rec.extra);
  free (st.rec_name);
  run_opts_free (&o);
  return status;
}

int
cmd_run (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return run_main (ctx, argc, argv, false, err);
}

int
cmd_create (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return run_main (ctx, argc, argv, true, err);
}
