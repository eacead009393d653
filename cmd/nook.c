/* cmd/nook.c: the nook command line: global options and dispatch.
 *
 * Module map (one line each; keep current):
 *   cmd/nook.c            global options, dispatch, the one place errors are printed
 *   cmd/cli.c             helpers every verb shares (help flags)
 *   cmd/run.c             `nook run`: flags -> struct nook_spec (cmd/spec.c) -> sandbox_run
 *   cmd/run_flags.c       run flags -> struct run_opts
 *   cmd/spec.c            the pure merge of image config + flags into a spec; the values of
 *                         single flags in spec_env.c, spec_user.c, spec_mounts.c, spec_security.c
 *   cmd/store_open.c      store opener with userns hooks, the recorded storage driver
 *   cmd/records.c         container records (containers/<id>/), names, the --rm pool
 *   cmd/seccomp_cache.c   compiled seccomp programs cached per profile and capabilities
 *   cmd/run_net.c         a run's network: mode, published ports, helpers, hosts/resolv.conf
 *   cmd/containers.c      `nook ps`, `nook rm`, `nook port`
 *   cmd/containers.c      `nook ps` (filters, templates), `rm [-v]`, `rename`, `container prune`
 *   cmd/ctrs.c            container records as the verbs see them: state, lookup, processes
 *   cmd/container.c       `nook container SUBCOMMAND`: dispatch to the container verbs
 *   cmd/inspect.c         `nook inspect` (containers, images) in Docker's shape
 *   cmd/labels.c          --label/--label-file, --filter values
 *   cmd/volumes.c         volumes in the store; a run's named/anonymous volumes, filling
 *   cmd/volume_cmd.c      `nook volume create|ls|inspect|rm|prune`
 *   cmd/cp.c              `nook cp` both ways, tar streams (sandbox/access.c enters the root)
 *   cmd/top.c             `nook top`, `nook stats` from /proc
 *   cmd/records_spec.c    a container's Spec in config.json, seccomp.bpf, state.json
 *   cmd/supervise.c       the per-container supervisor: init, output, control socket, restarts
 *   cmd/logfile.c         the json-file log writer (Docker's format, rotation)
 *   cmd/lifecycle.c       create, start, stop, kill, restart, wait, pause, unpause
 *   cmd/attach.c          attach client (run -it, start -a, attach), detach keys
 *   cmd/logread.c         the json-file log read entry by entry (logs, compose logs)
 *   cmd/logs.c            `nook logs`
 *   cmd/events.c          the store's events log (verbs and supervisors write), `nook events`
 *   cmd/exec.c            `nook exec` (its sandbox side: sandbox/exec.c)
 *   cmd/network.c         `nook network` verbs (create, ls, rm, inspect, connect, prune)
 *   cmd/netrec.c          network records (networks/<name>.json, locked, temp+rename)
 *   cmd/netns.c           user-defined networks running: joining (address, veth, hosts
 *                         file to the holder), container:NAME, connect/disconnect
 *   cmd/netns_holder.c    a network's holder (nook-netns): namespaces, bridge, uplink,
 *                         members by pidfd, hosts files rewritten in place
 *   cmd/format.c          Docker's human durations for tables
 *   cmd/images.c          `nook import`, `bootstrap`, `images`, `rmi`
 *   cmd/image_info.c      `nook tag`, `inspect`, `history`
 *   cmd/archive.c         `nook save`, `load`, `export`
 *   cmd/store_admin.c     `nook image prune`, `system df`, `system check`, `system` dispatch
 *   cmd/bootstrap_debian.c `nook bootstrap debian:SUITE`: flags, mmdebstrap mode
 *   cmd/system.c          `nook info`, `nook version`
 *   cmd/registry.c        `nook pull`, `push`, `login`, `logout`; the pull of `run`
 *   cmd/config.c          config.json: registry mirrors, insecure registries
 *   cmd/image.c           `nook image SUBCOMMAND`: dispatch to the image verbs
 *   cmd/dockerfile.c      `nook dockerfile parse|stages`
 *   cmd/compose/          `nook compose` (also as docker-compose): compose.c the CLI; loader.c
 *                         files, env, include, extends, profiles; yaml.c libyaml <-> jansson;
 *                         interp.c ${VAR} and .env; merge.c the merge rules; schema.c the
 *                         spec's JSON schema; normalize.c the canonical model; model.h the
 *                         model as C structs for the orchestrator
 *   cmd/build/            `nook build`: the Dockerfile executor, its layers and cache
 *   sandbox/spec.h        struct nook_spec: what a container is, as data
 *   sandbox/run.c         clone, sync, id maps, pty, signals, wait: the parent side
 *   sandbox/child.c       the child side: rootfs, mounts, pivot_root, security, init
 *   sandbox/init.c        PID 1: reap, forward signals, exit status
 *   sandbox/userns.c      /etc/subuid parsing, id-map plans, newuidmap/newgidmap
 *   sandbox/userns_keep.c the kept user namespace of a user with a range
 *   sandbox/mount.c       the mount plan (pure), its executor, the etc tmpfs
 *   sandbox/rootfs.c      storage drivers (overlay, fuse-overlayfs, copy-up), stubs, probe
 *   sandbox/netif.c       network interfaces of a new network namespace (lo up, the tap)
 *   sandbox/caps.c        capability names and sets (libcap)
 *   sandbox/seccomp.c     Docker's default seccomp profile and JSON profiles (libseccomp)
 *   sandbox/seccomp_bpf.c compiled filters: export, validate, load
 *   sandbox/tty.c         raw mode, window size
 *   sandbox/credemu.c     credential emulation of single-id containers (seccomp notify, init)
 *   sandbox/credemu_files.c  its answers about files: chown records, stat, creations
 *   sandbox/credemu_creds.c  the kernel's set*id/setgroups/chown rules as bookkeeping (pure)
 *   imagefmt/digest.c     sha256 digests (nettle)
 *   imagefmt/ref.c        image references
 *   imagefmt/store.c      the OCI content store: index, lookup, unpacked layers
 *   imagefmt/store_import.c, store_remove.c   import, tags; list, remove
 *   imagefmt/layer.c      layer tar extraction (whiteouts) and creation
 *   imagefmt/layer_check.c  foreign layers checked (names, links) and digested in one pass
 *   imagefmt/archive_save.c, archive_load.c  docker-archive, oci-archive, oci-dir
 *   imagefmt/image_info.c inspect JSON and history rows
 *   imagefmt/store_check.c  system check/df, image prune
 *   imagefmt/store_sizes.c  uncompressed sizes of foreign compressed layers (layer-sizes/)
 *   imagefmt/export.c     a container's merged filesystem as a tar
 *   imagefmt/archive_dl.c libarchive loaded on first use
 *   imagefmt/bootstrap.c  the busybox base image
 *   imagefmt/manifest.c   manifests, indexes, configs, platforms (pure)
 *   imagefmt/auth.c       auth.json / Docker config.json credentials, WWW-Authenticate
 *   imagefmt/registry.c   the OCI distribution client (libcurl, loaded on first use)
 *   imagefmt/registry_pull.c  pull and push between the store and registries
 *   imagefmt/store_blob.c blobs streamed in through digest verification; images added
 *   imagefmt/bootstrap_debian.c, bootstrap_apt.c   Debian bases with mmdebstrap
 *   imagefmt/dockerfile/  Dockerfile parser, word expansion, .dockerignore, stages
 *   net/mode.c            --network values (bridge, none, host, libslirp, slirp4netns,
 *                         container:NAME, a user-defined network's name)
 *   net/subnet.c          IPv4 subnets: CIDR, overlap, Docker's default pools, allocation
 *   net/link.c            bridge, veth pair (rtnetlink), addresses, routes, sysctls
 *   net/slirp.c           nook's user-mode stack: libslirp in a sandboxed helper on the tap
 *   net/slirp4netns.c     the slirp4netns program as a backend (--ready-fd gates the command)
 *   net/forward.c         the port forwarder: host sockets, connects inside, splice(2)
 *   net/ports.c           -p/--expose parsing, binding, Docker's PORTS text
 *   net/dns.c             resolv.conf and hosts of a container
 *   net/helper.c          helper processes: fork, die with nook, pidfd kill
 *   net/sandbox_self.c    how helpers confine themselves (Landlock, seccomp, no caps)
 *   util/template.c       the Go-template subset of --format (pure, fuzzed)
 *   util/owner_record.c   owners recorded in xattrs (user.nook.owner, override_stat)
 *   util/                 errors, cleanup, logging, strings (and as JSON arrays: strv_json),
 *                         random IDs, fs helpers, trace timings
 */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/compose/compose.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/trace.h"
#include "util/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

struct command
{
  const char *name;
  cmd_fn fn;
  const char *summary;
};

static const struct command commands[] = {
  { "run", cmd_run, "Create and run a new container from an image" },
  { "ps", cmd_ps, "List containers" },
  { "rm", cmd_rm, "Remove one or more containers" },
  { "port", cmd_port, "List port mappings or a specific mapping for the container" },
  { "network", cmd_network, "Manage networks" },
  { "inspect", cmd_inspect, "Return low-level information on containers and images" },
  { "rename", cmd_rename, "Rename a container" },
  { "cp", cmd_cp, "Copy files/folders between a container and the local filesystem" },
  { "top", cmd_top, "Display the running processes of a container" },
  { "stats", cmd_stats, "Display resource usage statistics of containers" },
  { "container", cmd_container, "Manage containers (container ls|rm|inspect|prune|...)" },
  { "volume", cmd_volume, "Manage volumes (volume create|ls|inspect|rm|prune)" },
  { "create", cmd_create, "Create a new container" },
  { "start", cmd_start, "Start one or more stopped containers" },
  { "stop", cmd_stop, "Stop one or more running containers" },
  { "restart", cmd_restart, "Restart one or more containers" },
  { "kill", cmd_kill, "Kill one or more running containers" },
  { "wait", cmd_wait, "Block until one or more containers stop, then print their exit codes" },
  { "pause", cmd_pause, "Pause all processes within one or more containers" },
  { "unpause", cmd_unpause, "Unpause all processes within one or more containers" },
  { "attach", cmd_attach, "Attach to a running container's input and output" },
  { "logs", cmd_logs, "Fetch the logs of a container" },
  { "events", cmd_events, "Get real time events from the store" },
  { "exec", cmd_exec, "Execute a command in a running container" },
  { "images", cmd_images, "List images" },
  { "import", cmd_import, "Import a rootfs tarball as a one-layer image" },
  { "bootstrap", cmd_bootstrap, "Create a base image: busybox, or debian:SUITE" },
  { "rmi", cmd_rmi, "Remove one or more images" },
  { "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
  { "history", cmd_history, "Show the history of an image" },
  { "image", cmd_image,
    "Manage images (ls, rm, inspect, history, pull, push, save, load, tag, prune)" },
  { "save", cmd_save, "Save one or more images to a tar archive" },
  { "load", cmd_load, "Load an image from a tar archive or STDIN" },
  { "export", cmd_export, "Export a container's filesystem as a tar archive" },
  { "pull", cmd_pull, "Download an image from a registry" },
  { "push", cmd_push, "Upload an image to a registry" },
  { "login", cmd_login, "Log in to a registry" },
  { "logout", cmd_logout, "Log out from a registry" },
  { "system", cmd_system, "Manage nook (df, check, info)" },
  { "info", cmd_info, "Show what this machine offers nook" },
  { "version", cmd_version, "Show the nook version" },
  { "dockerfile", cmd_dockerfile, "Parse a Dockerfile, list the stages of a target" },
  { "compose", cmd_compose, "Define and run multi-container applications (config, version)" },
  { "build", cmd_build, "Build an image from a Dockerfile" },
  { "buildx", cmd_buildx, "Docker Buildx's spelling: buildx build, buildx prune" },
  { "builder", cmd_builder, "Manage the build cache (builder prune)" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage:  nook [OPTIONS] COMMAND\n\n"
                "A rootless sandbox runner with Docker's command line\n\n"
                "Options:\n"
                "      --root DIR             Store directory (default $NOOK_ROOT or "
                "$XDG_DATA_HOME/nook)\n"
                "      --storage-driver NAME  overlay, fuse-overlayfs or copy-up (default: "
                "probe)\n"
                "      --log-level LEVEL      error, warn, info or debug\n"
                "  -D, --debug                Same as --log-level debug\n"
                "  -h, --help                 Print usage\n\n"
                "Commands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fprintf (out, "  %-11s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'nook COMMAND --help' for more information on a command.\n");
}

static int
set_log_level (const char *s, nook_error_t *err)
{
  static const char *const names[] = { "error", "warn", "info", "debug" };
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    if (strcmp (s, names[i]) == 0)
      {
        log_set_level ((enum log_level)i);
        return 0;
      }
  return cmd_flag_error (err, NULL,
                         "invalid argument \"%s\" for \"--log-level\" flag: want error, warn, "
                         "info or debug",
                         s);
}

/* Parse global options; returns the index of the command word, or -1. */
static int
parse_globals (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i];
      const char *val = NULL;
      const char *eq = strchr (a, '=');
      size_t nlen = eq ? (size_t)(eq - a) : strlen (a);
#define IS(opt) (nlen == strlen (opt) && strncmp (a, opt, nlen) == 0)
      if (IS ("--root") || IS ("--storage-driver") || IS ("--log-level"))
        {
          if (eq)
            val = eq + 1;
          else if (i + 1 < argc)
            val = argv[++i];
          else
            return cmd_flag_error (err, NULL, "flag needs an argument: %s", a);
          if (IS ("--root"))
            ctx->root = val;
          else if (IS ("--storage-driver"))
            ctx->storage_driver = val;
          else if (set_log_level (val, err) < 0)
            return -1;
        }
      else if (IS ("-D") || IS ("--debug"))
        log_set_level (LOG_DEBUG);
      else if (IS ("-h") || IS ("--help"))
        {
          usage (stdout);
          exit (0);
        }
      else if (IS ("-v") || IS ("--version"))
        return argc; /* handled as `version` */
      else
        return cmd_flag_error (err, NULL, "unknown flag: %s", a);
#undef IS
    }
  return i;
}

/* Print err once, in one voice for every verb (cmd/cli.h), and return the
 * exit status: err->exit, else 125 for `run` and nook itself, 1 for a verb. */
static int
report (const struct nook_error *err, const char *verb)
{
  cleanup_free char *text = nook_error_text (err);
  fprintf (stderr, err->usage ? "%s\n" : "Error: %s\n", text);
  if (err->exit)
    return err->exit;
  return verb == NULL || strcmp (verb, "run") == 0 ? 125 : 1;
}

int
main (int argc, char **argv)
{
  cleanup_error nook_error_t err = NULL;
  struct nook_ctx ctx = { .argv0 = argv[0] };
  trace_init ();
  /* jansson seeds its hash function on first use by opening and reading
   * /dev/urandom: one getrandom does it (0 would mean "seed yourself"). */
  size_t seed = 0;
  if (getrandom (&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed && seed != 0)
    json_object_seed (seed);

  if (getuid () != geteuid () || getgid () != getegid ())
    {
      fprintf (stderr, "Error: refusing to run setuid or setgid: nook needs no privileges\n");
      return 125;
    }
  /* Installed as docker-compose (or nook-compose): `nook compose` itself. */
  const char *base = strrchr (argv[0], '/') ? strrchr (argv[0], '/') + 1 : argv[0];
  if (strcmp (base, "docker-compose") == 0 || strcmp (base, "nook-compose") == 0)
    {
      argv[0] = (char *)"compose";
      int rc = cmd_compose (&ctx, argc, argv, &err);
      return rc >= 0 ? rc : err ? report (err, "compose") : 1;
    }
  int ci = parse_globals (&ctx, argc, argv, &err);
  if (ci == argc && argc > 1 && err == NULL)
    return cmd_version (&ctx, 1, (char *[]){ (char *)"version", NULL }, &err) < 0 ? 125 : 0;
  if (ci < 0)
    return err ? report (err, NULL) : 125;
  if (ci >= argc)
    {
      usage (stderr);
      return 125;
    }
  if (strcmp (argv[ci], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (strcmp (argv[ci], commands[i].name) == 0)
      {
        int rc = commands[i].fn (&ctx, argc - ci, argv + ci, &err);
        if (rc >= 0)
          return rc;
        return err ? report (err, commands[i].name) : 125;
      }
  /* Docker: "docker: 'x' is not a docker command." (exit 1) */
  fprintf (stderr, "nook: '%s' is not a nook command.\nSee 'nook --help'\n", argv[ci]);
  return 1;
}
