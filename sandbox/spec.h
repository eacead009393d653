/* sandbox/spec.h: what a container is, as data.
 *
 * cmd/ fills a struct nook_spec with pure functions (image config + flags);
 * sandbox_run() applies it.  Nothing here knows about images or registries. */
#ifndef NOOK_SANDBOX_SPEC_H
#define NOOK_SANDBOX_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum mount_kind
{
  MOUNT_BIND,
  MOUNT_TMPFS,
  MOUNT_COPY, /* source (a host file) copied at each start into a tmpfs of the container's
               * mount namespace, owned and moded as options say ("uid=U,gid=G,mode=0NNN",
               * container ids), bound read-only on target: compose's secrets and configs */
};

struct nook_mount
{
  enum mount_kind kind;
  char *source; /* host path (bind) */
  char *target; /* absolute path inside the container */
  bool readonly;
  char *options; /* tmpfs data ("size=64m,mode=1777"), already validated */
};

struct nook_idmap
{
  uint32_t inside, outside, count;
};

enum nook_network
{
  NETWORK_NONE,   /* a network namespace with only lo */
  NETWORK_HOST,   /* the host's network namespace */
  NETWORK_TAP,    /* nook configures a tap interface (netif) before the command starts;
                     its fd goes to sandbox_hooks.network, which attaches a user-mode stack */
  NETWORK_HELPER, /* a helper configures the namespace (slirp4netns, pasta); the command
                     starts once it says so (sandbox_hooks.network's ready_fd) */
  NETWORK_VETH,   /* a user-defined network: nook attaches a veth from outside; the child
                     sends the fd of its /etc/hosts (sandbox_netns.net_sock) and starts the
                     command once ready_fd says so */
  NETWORK_JOIN,   /* another container's network namespace (netns_fd), no new one */
};

/* The interface of a NETWORK_TAP container: IPv4, addresses in network byte order. */
struct nook_netif
{
  char name[16];
  uint32_t addr, gateway;
  unsigned prefix, mtu;
};

enum storage_driver
{
  STORAGE_NONE = 0, /* not chosen: probe */
  STORAGE_OVERLAY,
  STORAGE_FUSE_OVERLAYFS,
  STORAGE_COPY_UP,
};

struct nook_rlimit
{
  int resource;
  uint64_t soft, hard;
};

/* How the ids of the container map onto the host's. */
struct nook_idmapping
{
  struct nook_idmap uid[2], gid[2];
  size_t n_uid, n_gid;
  bool use_helpers; /* newuidmap/newgidmap (a subordinate range); else written directly */
  bool single;      /* the single-id map: setgroups is denied */
};

struct nook_spec
{
  char **argv; /* the command, argv[0] looked up in PATH of env */
  char **env;  /* "NAME=value" */
  char *cwd;   /* absolute */
  uid_t uid;
  gid_t gid;
  gid_t *groups; /* supplementary groups, inside ids */
  size_t n_groups;
  char *hostname;
  char *domainname; /* NULL: left as the new UTS namespace has it */
  bool tty, interactive, readonly_rootfs;
  unsigned short tty_rows, tty_cols; /* -t: the pty's size before the command starts (0: none) */
  bool unmasked;                     /* --privileged: no masked or read-only /proc and /sys paths */
  bool no_init; /* the command is PID 1 itself (Docker's default; --init=false, s6-overlay's
                   /init): no nook-init, the caller reaps it */
  enum nook_network network;
  struct nook_netif netif; /* NETWORK_TAP */

  uint64_t caps; /* capability set (bounding; effective when uid 0) */
  bool seccomp_unconfined;
  void *seccomp_bpf; /* the compiled filter (sandbox/seccomp_bpf.h), or NULL */
  /* It is Docker's default profile's, which allows every call the command
   * makes before execve: it may be loaded before them (sandbox/child.c). */
  bool seccomp_default;
  size_t seccomp_bpf_len;
  /* Ask for a program that notifies the credential calls (single-id map, root:
   * sandbox/credemu.h); whether a run emulates is read from the program. */
  bool credemu;

  struct nook_mount *mounts;
  size_t n_mounts;
  struct nook_rlimit *rlimits;
  size_t n_rlimits;
  /* "NAME=VALUE" (Docker's dotted names, or /proc/sys paths with '/'), checked by cmd/
   * (namespaced ones only): written into the container's /proc/sys by the mount plan,
   * before it is made read-only and before the command starts */
  char **sysctls;

  /* The root filesystem. */
  char **layers;       /* lower directories, bottom first */
  char *container_dir; /* holds upper/, work/, merged/ or rootfs/, and etc files */
  enum storage_driver driver;
  bool ephemeral;   /* --rm: the upper dir dies with the run, so overlay need
                       not sync it (mount option volatile) */
  bool upper_tmpfs; /* overlay: upper and work on a tmpfs of the run (sandbox/rootfs.c) */
  char *etc_hosts, *etc_resolv, *etc_hostname; /* contents written to container_dir */

  struct nook_idmapping ids;
  char *keep_userns_dir; /* runtime dir of the kept user namespace, or NULL */
  /* join_userns: the container's user namespace is made as a child of
   * userns_fd (nook joins it first; ids are relative to it and written
   * directly), so that nook holds privilege over both (user-defined networks,
   * container:NAME).  join_netns: the network namespace of NETWORK_JOIN. */
  bool join_userns, join_netns;
  int userns_fd, netns_fd;
  /* > 0: the file through which a process joins the container's own cgroup (its
   * freezer, for pause; cmd/freezer.h: v1's tasks, v2's cgroup.procs): the init writes
   * itself ("0") there first thing, still with nook's credentials */
  int cgroup_procs_fd;
  /* > 0: v2, the cgroup's directory: the init is cloned into it (clone3's
   * CLONE_INTO_CGROUP, Linux 5.7), and writes cgroup_procs_fd only if that failed */
  int cgroup_dir_fd;

  /* Seconds from the first INT/TERM/HUP/QUIT forwarded to the command until
   * the container is killed (--stop-timeout, Docker's 10); -1: only a second
   * INT or TERM kills it. */
  int stop_timeout;
};

void nook_spec_free (struct nook_spec *spec);

#endif
