/* sandbox/child.c: the child side of a container, from clone to PID 1.
 *
 * Between clone and execve there is no caller: failures go to the parent over
 * the CLOEXEC error pipe as {code, exit, msg}, then _exit.  Order: wait for the
 * id maps, hostname, private mounts, rootfs, the mount plan, read-only root,
 * pivot_root, workdir, rlimits, fds, pty; then fork the command and become
 * the init.  The command drops ids, capabilities, sets no_new_privs and loads
 * seccomp last before execve. */
#include "sandbox/caps.h"
#include "sandbox/internal.h"
#include "sandbox/mount.h"
#include "sandbox/netif.h"
#include "sandbox/seccomp_bpf.h"
#include "sandbox/credemu.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/test_hook.h"
#include "util/fs.h"
#include "util/settle.h"
#include "util/test_hook.h"
#include "util/trace.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int sandbox_parent_pidfd = -1;
bool sandbox_cloned_into_cgroup;
bool sandbox_child_self_maps;
int sandbox_pooled_netns = -1;

bool
sandbox_child_maps_itself (const struct nook_spec *spec)
{
  /* (not under slirp4netns: nook starts it at once on the child's namespaces, and it must
   * find the maps written; it failed with "the network helper ended before the network
   * was up" when the child wrote them itself) */
  return spec->ids.single && !spec->ids.use_helpers && !spec->join_userns && getuid () != 0
         && spec->network != NETWORK_HELPER;
}

bool
sandbox_child_makes_netns (const struct nook_spec *spec)
{
  return spec->network == NETWORK_NONE && spec->driver != STORAGE_FUSE_OVERLAYFS;
}

void
sandbox_die_with_parent (int parent_pidfd)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  struct pollfd p = { .fd = parent_pidfd, .events = POLLIN };
  if (parent_pidfd >= 0 && poll (&p, 1, 0) != 0)
    _exit (125);
}

__attribute__ ((noreturn)) static void
child_fail (int err_fd, nook_error_t err)
{
  errpipe_send (err_fd, err);
  _exit (err->exit ? err->exit : 125);
}

static int
do_pivot_root (int rootfd, nook_error_t *err)
{
  if (fchdir (rootfd) < 0)
    return nook_error_set (err, errno, "chdir to the new root");
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return nook_error_set (err, errno, "pivot_root");
  if (umount2 (".", MNT_DETACH) < 0)
    return nook_error_set (err, errno, "detach the old root");
  if (chdir ("/") < 0)
    return nook_error_set (err, errno, "chdir /");
  return 0;
}

static int
enter_workdir (const struct nook_spec *spec, nook_error_t *err)
{
  const char *cwd = spec->cwd && *spec->cwd ? spec->cwd : "/";
  if (strcmp (cwd, "/") == 0)
    return 0; /* do_pivot_root left us there */
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return nook_error_set (err, errno, "open /");
  cleanup_close int fd = fs_open_in_root (root, cwd, O_PATH | O_DIRECTORY, 0);
  if (fd < 0 && errno == ENOENT)
    fd = fs_mkdir_p_in_root (root, cwd, 0755, err);
  if (fd < 0)
    return err && *err ? nook_error_wrap (err, "working directory '%s'", cwd)
                       : nook_error_set (err, errno, "working directory '%s'", cwd);
  if (fchdir (fd) < 0)
    return nook_error_set (err, errno, "chdir to '%s'", cwd);
  /* CVE-2024-21626: the cwd must be inside our root. */
  char buf[4096];
  if (getcwd (buf, sizeof buf) == NULL || buf[0] != '/')
    return nook_error_set (err, EPERM, "working directory '%s' is outside the container", cwd);
  return 0;
}

static int
set_rlimits (const struct nook_spec *spec, nook_error_t *err)
{
  for (size_t i = 0; i < spec->n_rlimits; i++)
    {
      struct rlimit rl = { .rlim_cur = spec->rlimits[i].soft, .rlim_max = spec->rlimits[i].hard };
      if (setrlimit (spec->rlimits[i].resource, &rl) < 0)
        return nook_error_set (err, errno, "setrlimit %d to %llu:%llu", spec->rlimits[i].resource,
                               (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    }
  return 0;
}

/* Open a new pty in the container's devpts; the master goes to the parent. */
static int
make_pty (const struct nook_spec *spec, int tty_sock, nook_error_t *err)
{
  cleanup_close int master = open ("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return nook_error_set (err, errno, "open /dev/pts/ptmx");
  int unlock = 0;
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    return nook_error_set (err, errno, "unlock the pty");
  struct winsize ws = { .ws_row = spec->tty_rows, .ws_col = spec->tty_cols };
  if (ws.ws_row > 0)
    ioctl (master, TIOCSWINSZ, &ws); /* (a detached run: its first client's terminal) */
  int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return nook_error_set (err, errno, "open the pty's peer");
  if (fd_send (tty_sock, master) < 0)
    {
      close (slave);
      return nook_error_set (err, errno, "send the pty to nook");
    }
  return slave;
}

/* Look argv0 up in the PATH of the container's environment. */
static char *
find_program (const char *argv0, char *const *env, int *why)
{
  *why = ENOENT;
  if (strchr (argv0, '/'))
    return xstrdup (argv0);
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (size_t i = 0; env && env[i]; i++)
    if (str_has_prefix (env[i], "PATH="))
      path = env[i] + 5;
  cleanup_free char *copy = xstrdup (path);
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *p = xasprintf ("%s/%s", *d ? d : ".", argv0);
      struct stat st;
      if (stat (p, &st) < 0 || S_ISDIR (st.st_mode))
        continue;
      if (access (p, X_OK) == 0)
        return steal_pointer (&p);
      *why = EACCES;
    }
  return NULL;
}

/* The seccomp program; one that notifies (credential emulation) with a
 * listener sent to the init, or, where nobody answers (exec), without its
 * notifications. */
static int
load_program (const struct nook_spec *spec, int emu_sock, nook_error_t *err)
{
  if (emu_sock >= 0)
    return sandbox_credemu_load (spec->seccomp_bpf, spec->seccomp_bpf_len, emu_sock, err);
  if (sandbox_credemu_bpf_notifies (spec->seccomp_bpf, spec->seccomp_bpf_len))
    {
      cleanup_free void *bpf = sandbox_credemu_bpf_strip (spec->seccomp_bpf, spec->seccomp_bpf_len);
      return sandbox_seccomp_load_bpf (bpf, spec->seccomp_bpf_len, err);
    }
  return sandbox_seccomp_load_bpf (spec->seccomp_bpf, spec->seccomp_bpf_len, err);
}

__attribute__ ((noreturn)) static void
exec_command (const struct nook_spec *spec, int err_fd, int pty_slave, bool filtered, int emu_sock)
{
  cleanup_error nook_error_t err = NULL;
  /* nook installs no handlers, so dispositions are the defaults already. */
  sigset_t all;
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);

  if (pty_slave >= 0)
    {
      setsid ();
      if (ioctl (pty_slave, TIOCSCTTY, 0) < 0)
        {
          nook_error_set (&err, errno, "set the controlling terminal");
          child_fail (err_fd, err);
        }
      for (int i = 0; i < 3; i++)
        dup2 (pty_slave, i);
      if (pty_slave > 2)
        close (pty_slave);
    }
  else if (!spec->interactive)
    {
      int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null >= 0)
        dup2 (null, 0);
    }

  if (!spec->ids.single && setgroups (spec->n_groups, spec->groups) < 0)
    {
      nook_error_set (&err, errno, "setgroups");
      child_fail (err_fd, err);
    }
  if (prctl (PR_SET_KEEPCAPS, 1) < 0 || setresgid (spec->gid, spec->gid, spec->gid) < 0
      || setresuid (spec->uid, spec->uid, spec->uid) < 0)
    {
      nook_error_set (&err, errno, "set user %u:%u", (unsigned)spec->uid, (unsigned)spec->gid);
      child_fail (err_fd, err);
    }
  if (sandbox_caps_apply (spec->caps, spec->uid == 0, &err) < 0)
    child_fail (err_fd, err);
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    {
      nook_error_set (&err, errno, "set no_new_privs");
      child_fail (err_fd, err);
    }

  int why = 0;
  cleanup_free char *prog = find_program (spec->argv[0], spec->env, &why);
  if (prog == NULL)
    {
      if (why == EACCES)
        nook_error_set_exit (&err, 126, 0, "exec: \"%s\": permission denied", spec->argv[0]);
      else
        nook_error_set_exit (&err, 127, 0, "exec: \"%s\": executable file not found in $PATH",
                             spec->argv[0]);
      child_fail (err_fd, err);
    }
  if (spec->seccomp_bpf && !filtered && load_program (spec, emu_sock, &err) < 0)
    child_fail (err_fd, err);
  /* (the profile loaded early: the notify-only filter on it, with the listener) */
  if (filtered && emu_sock >= 0 && sandbox_credemu_load_notify (emu_sock, &err) < 0)
    child_fail (err_fd, err);
  trace_mark ("command: execve");
  execve (prog, spec->argv, spec->env);
  int e = errno;
  if (e == ENOENT)
    nook_error_set_exit (&err, 127, 0, "exec: \"%s\": no such file or directory", prog);
  else
    nook_error_set_exit (&err, 126, e, "exec: \"%s\"", prog);
  child_fail (err_fd, err);
}

/* Keep only fds 0-2 and fds[0..n-1] (those >= 0), renumbered to 3, 4, ... in
 * that order (CLOEXEC), and close everything else. */
static int
keep_only_fds (int *fds, int n)
{
  int high[8];
  for (int i = 0; i < n; i++)
    {
      high[i] = fds[i] >= 0 ? fcntl (fds[i], F_DUPFD_CLOEXEC, 100) : -1;
      if (fds[i] >= 0 && high[i] < 0)
        return -1;
    }
  for (int i = 0; i < n; i++)
    {
      if (high[i] < 0)
        {
          close (3 + i); /* whatever else was there */
          fds[i] = -1;
          continue;
        }
      if (dup3 (high[i], 3 + i, O_CLOEXEC) < 0)
        return -1;
      fds[i] = 3 + i;
    }
  return (int)syscall (SYS_close_range, 3 + n, ~0U, 0);
}

struct command_args
{
  const struct nook_spec *spec;
  int err_fd, pty_slave;
  int emu_sock; /* credential emulation: where the listener goes, else -1 */
};

static int
command_main (void *arg)
{
  struct command_args *a = arg;
  exec_command (a->spec, a->err_fd, a->pty_slave, false, a->emu_sock);
}

/* ---- the command started early ----
 *
 * Loading the seccomp program costs the kernel ~0.15 ms (its JIT).  With
 * Docker's default profile, which allows every call the command makes
 * before execve, the command is started as soon as the rootfs is mounted and
 * loads the program (no_new_privs first) while the init applies the mount
 * plan on the other core (when there is one: see early_start).  It shares the init's memory
 * (CLONE_VM: and so its non-dumpable state), not its fs context (pivot_root moves its root; it
 * enters the working directory itself); until the init says go it makes raw
 * system calls only (no allocation, no errno: the init's are its own too).
 * Then the init waits, as under vfork, until it has exec'd or died; it
 * closes what it inherited, sets the rlimits and goes on as the late command
 * does.  Not with a pty (made after pivot_root), and not under
 * AddressSanitizer (which the late command's fork serves).  Under credential
 * emulation (single-id root runs) it loads the profile without its
 * notifications early (credential and stat calls made before its execve
 * would wait for the init, which waits for the execve), and the small
 * notify-only filter last, with its listener (sandbox_credemu_notify_bpf). */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define EARLY_COMMAND 1

/* A system call that leaves errno alone (the init's, while we share it);
 * the unused fourth and fifth arguments are zero (prctl checks them). */
static long
raw_syscall3 (long nr, long a, long b, long c)
{
  long ret;
  register long r10 __asm__("r10") = 0;
  register long r8 __asm__("r8") = 0;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                   : "rcx", "r11", "memory");
  return ret;
}

struct early
{
  const struct nook_spec *spec;
  int err_fd;
  int go[2];                     /* the init writes a byte once it has set the container up */
  int done[2];                   /* closed (CLOEXEC) when the command execs or dies */
  long filter_rc;                /* 0, or -errno of loading the program */
  const struct sock_filter *bpf; /* the program loaded early: the spec's, or under
                                    credential emulation the copy without notifications */
  void *bpf_copy;                /* (that copy, freed once the command has exec'd) */
  unsigned short bpf_len;
  int emu_sock;     /* credential emulation: where the notify-only filter's listener goes */
  bool make_netns;  /* make the network namespace, lo up, before the program */
  int net_ready[2]; /* ... a byte once made (net_rc: 0 or -errno) */
  long net_rc;
  long lo_rc;     /* 0, or -errno of bringing lo up (after net_ready) */
  int pidfd;      /* the init joins the namespace through it */
  bool spread;    /* its CPUs narrowed to those the init is not on (early_spread) */
  cpu_set_t cpus; /* ... and what they were, restored before it goes on */
  bool many;      /* more CPUs than cpus can hold: not narrowed */
  char *stack;
  size_t stack_size;
  pid_t pid;
};

/* lo up in our network namespace, in raw system calls (see early_main). */
static long
raw_lo_up (void)
{
  long sock = raw_syscall3 (SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return sock;
  struct ifreq ifr = { .ifr_name = "lo" };
  long rc = raw_syscall3 (SYS_ioctl, sock, SIOCGIFFLAGS, (long)&ifr);
  if (rc == 0 && !(ifr.ifr_flags & IFF_UP))
    {
      ifr.ifr_flags |= IFF_UP;
      rc = raw_syscall3 (SYS_ioctl, sock, SIOCSIFFLAGS, (long)&ifr);
    }
  raw_syscall3 (SYS_close, sock, 0, 0);
  return rc;
}

static int
early_main (void *arg)
{
  struct early *e = arg;
  if (e->make_netns)
    {
      /* The init waits for the namespace alone (to join it and mount /sys); lo comes up
       * meanwhile, before the command can run. */
      char b = 0;
      e->net_rc = raw_syscall3 (SYS_unshare, CLONE_NEWNET, 0, 0);
      raw_syscall3 (SYS_write, e->net_ready[1], (long)&b, 1);
      if (e->net_rc == 0)
        e->lo_rc = raw_lo_up ();
    }
  struct sock_fprog prog = { .len = e->bpf_len, .filter = (struct sock_filter *)e->bpf };
  e->filter_rc = raw_syscall3 (SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0);
  if (e->filter_rc == 0)
    e->filter_rc = raw_syscall3 (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog);
  char c;
  if (raw_syscall3 (SYS_read, e->go[0], (long)&c, 1) != 1)
    raw_syscall3 (SYS_exit_group, 125, 0, 0);
  /* The init waits now: ordinary code from here on. */
  cleanup_error nook_error_t err = NULL;
  if (e->lo_rc < 0)
    {
      nook_error_set (&err, (int)-e->lo_rc, "bring the loopback interface up");
      child_fail (e->err_fd, err);
    }
  if (e->filter_rc < 0)
    {
      nook_error_set (&err, (int)-e->filter_rc, "load the seccomp filter");
      child_fail (e->err_fd, err);
    }
  /* Our root moved with pivot_root; our working directory did not (it is not
   * shared: the command must not share the init's, nor chroot it). */
  if (chdir ("/") < 0 || enter_workdir (e->spec, &err) < 0)
    {
      if (err == NULL)
        nook_error_set (&err, errno, "chdir /");
      child_fail (e->err_fd, err);
    }
  /* What came from nook closes at execve (err_fd reports until then). */
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    {
      nook_error_set (&err, errno, "close nook's fds");
      child_fail (e->err_fd, err);
    }
  if (set_rlimits (e->spec, &err) < 0)
    child_fail (e->err_fd, err);
  exec_command (e->spec, e->err_fd, -1, true, e->emu_sock);
}

/* (the write end is closed after the clone) */
static void
early_close_net (struct early *e)
{
  if (e->net_ready[0] >= 0)
    close (e->net_ready[0]);
  if (e->pidfd >= 0)
    close (e->pidfd);
  e->net_ready[0] = e->pidfd = -1;
}

/* A task the kernel makes is queued on its parent's CPU, and the other cores'
 * idle balancing pulls it only later: the command made the network namespace
 * ~0.4 ms after its clone here (2 cores), while the init, busy on its core,
 * mounted, then waited for it at /sys.  Narrowed to the CPUs but the init's, it
 * is moved to an idle one at once; its own set comes back before it goes on
 * (early_go), so the command runs where the container may. */
static void
early_spread (struct early *e)
{
  e->spread = false;
  if (e->many)
    return;
  cpu_set_t others = e->cpus;
  int here = sched_getcpu ();
  if (here < 0 || !CPU_ISSET (here, &others))
    return;
  CPU_CLR (here, &others);
  e->spread = sched_setaffinity (e->pid, sizeof others, &others) == 0;
}

/* Start the command now if it may load its program early; false if not (also
 * with a single CPU to run on: nothing runs beside the init then, and the early
 * command only adds its clone, pipes and switches to the run's CPU time: bound
 * to one CPU, `run --rm --network none busybox true` took 5.89 -> 5.39 ms with a
 * range and 6.49 -> 5.85 ms without once it was skipped, medians of 50
 * alternating runs).
 * make_netns: it makes the network namespace first (early_join_netns).
 * emu_sock: where the listener goes under credential emulation (-1 if none):
 * the profile is loaded early without notifications, the notify-only filter
 * late (sandbox_credemu_notify_stackable). */
static bool
early_start (const struct nook_spec *spec, int err_fd, bool make_netns, int emu_sock,
             struct early *e)
{
  memset (e, 0, sizeof *e);
  e->pid = -1;
  e->pidfd = e->net_ready[0] = e->net_ready[1] = -1;
  bool credemu = sandbox_credemu_active (spec);
  if (!spec->seccomp_default || !spec->seccomp_bpf || spec->tty || spec->no_init
      || (credemu && (emu_sock < 0 || !sandbox_credemu_notify_stackable (spec)))
      || !sandbox_seccomp_bpf_valid (spec->seccomp_bpf, spec->seccomp_bpf_len))
    return false;
  /* (more CPUs than a cpu_set_t holds: EINVAL, and surely more than one) */
  if (sched_getaffinity (0, sizeof e->cpus, &e->cpus) < 0)
    {
      e->many = errno == EINVAL;
      CPU_ZERO (&e->cpus);
    }
  if (CPU_COUNT (&e->cpus) < 2 && !e->many)
    return false;
  e->emu_sock = credemu ? emu_sock : -1;
  e->spec = spec;
  e->err_fd = err_fd;
  e->make_netns = make_netns;
  e->stack_size = 256 * 1024;
  if (make_netns && pipe2 (e->net_ready, O_CLOEXEC) < 0)
    return false;
  if (pipe2 (e->go, O_CLOEXEC) < 0)
    {
      if (make_netns)
        close (e->net_ready[1]);
      early_close_net (e);
      return false;
    }
  if (pipe2 (e->done, O_CLOEXEC) < 0)
    {
      close (e->go[0]);
      close (e->go[1]);
      if (make_netns)
        close (e->net_ready[1]);
      early_close_net (e);
      return false;
    }
  e->bpf_copy
      = credemu ? sandbox_credemu_bpf_strip (spec->seccomp_bpf, spec->seccomp_bpf_len) : NULL;
  e->bpf = e->bpf_copy ? e->bpf_copy : spec->seccomp_bpf;
  e->bpf_len = (unsigned short)(spec->seccomp_bpf_len / sizeof (struct sock_filter));
  e->stack = mmap (NULL, e->stack_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  /* Its session is the init's (which leaves the caller's now, not later), and
   * no signal reaches it before execve resets its mask. */
  if (!spec->tty)
    setsid ();
  sigset_t all, old;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, &old);
  e->pid = e->stack == MAP_FAILED
               ? -1
               : clone (early_main, e->stack + e->stack_size,
                        CLONE_VM | (make_netns ? CLONE_PIDFD : 0) | SIGCHLD, e, &e->pidfd);
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (e->pid > 0)
    early_spread (e);
  close (e->go[0]);
  close (e->done[1]);
  /* (its copy is the command's: the struct is shared, the fd tables are not) */
  if (e->net_ready[1] >= 0)
    close (e->net_ready[1]);
  if (e->pid < 0)
    {
      if (e->stack != MAP_FAILED)
        munmap (e->stack, e->stack_size);
      free (e->bpf_copy);
      e->bpf_copy = NULL;
      close (e->go[1]);
      close (e->done[0]);
      early_close_net (e);
      e->pid = -1;
      return false;
    }
  return true;
}

/* The init joins the network namespace the command made (and brought lo up
 * in) while the init mounted the rootfs: the kernel's ~0.25 ms for a new
 * network namespace are off the container's path. */
static int
early_join_netns (struct early *e, nook_error_t *err)
{
  char c;
  ssize_t n;
  do
    n = read (e->net_ready[0], &c, 1);
  while (n < 0 && errno == EINTR);
  int rc = 0;
  if (n != 1)
    rc = nook_error_set (err, EIO, "the container's command ended before its network namespace");
  else if (e->net_rc < 0)
    rc = nook_error_set (err, (int)-e->net_rc, "make the network namespace");
  else if (setns (e->pidfd, CLONE_NEWNET) < 0)
    rc = nook_error_set (err, errno, "join the container's network namespace");
  early_close_net (e);
  return rc;
}

/* Let it go on, and wait until it has exec'd or died (its stack is ours).
 * -1 if its CPUs could not be given back: it is killed.  (Gone already, it
 * runs nothing: the go finds its end, as without the narrowing.) */
static int
early_go (struct early *e, nook_error_t *err)
{
  char c = 1, buf[8];
  ssize_t n = 0;
  if (e->spread && sched_setaffinity (e->pid, sizeof e->cpus, &e->cpus) < 0 && errno != ESRCH)
    {
      int errsv = errno;
      kill (e->pid, SIGKILL);
      close (e->go[1]);
      close (e->done[0]);
      return nook_error_set (err, errsv, "give the command back its CPUs");
    }
  if (write (e->go[1], &c, 1) == 1)
    do
      n = read (e->done[0], buf, sizeof buf);
    while (n < 0 && errno == EINTR);
  close (e->go[1]);
  close (e->done[0]);
  munmap (e->stack, e->stack_size);
  free (e->bpf_copy);
  return 0;
}
#else
struct early
{
  int go[2], done[2];
  pid_t pid;
};

static bool
early_start (const struct nook_spec *spec, int err_fd, bool make_netns, int emu_sock,
             struct early *e)
{
  e->pid = -1;
  return false;
}

static int
early_join_netns (struct early *e, nook_error_t *err)
{
  return 0;
}

static int
early_go (struct early *e, nook_error_t *err)
{
  return 0;
}
#endif

/* The FUSE daemon of the rootfs must stay out of the container's reach (it
 * holds fds on host directories): this process, not yet in a PID namespace
 * of the container's, makes one and forks the container's PID 1 into it, in
 * a mount namespace of its own (so pivot_root leaves the daemon's alone);
 * then it only relays signals to it, and when it ends, ends the daemon and
 * exits with its status. */
static int
split_from_daemon (pid_t daemon, const int *fds, nook_error_t *err)
{
  if (unshare (CLONE_NEWPID) < 0)
    return nook_error_set (err, errno, "unshare(CLONE_NEWPID)");
  cleanup_close int self = (int)syscall (SYS_pidfd_open, getpid (), 0);
  pid_t pid = fork ();
  if (pid < 0)
    return nook_error_set (err, errno, "fork the container's init");
  if (pid == 0)
    {
      sandbox_die_with_parent (self);
      if (unshare (CLONE_NEWNS) < 0)
        return nook_error_set (err, errno, "unshare(CLONE_NEWNS)");
      if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return nook_error_set (err, errno, "make mounts private");
      return 0; /* the container's PID 1 goes on with the setup */
    }
  for (int i = 0; fds[i] != -2; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  /* (the supervisor may reap the daemon if it dies first: a pidfd, so that a
   * recycled pid is never the one killed) */
  int dfd = (int)syscall (SYS_pidfd_open, daemon, 0);
  int st = sandbox_supervise (pid, SETTLE_NEVER);
  if (dfd >= 0)
    syscall (SYS_pidfd_send_signal, dfd, SIGKILL, NULL, 0);
  waitpid (daemon, NULL, 0);
  _exit (st < 0 ? 125 : sandbox_status_code (st));
}

/* NETWORK_TAP: the tap, configured, goes to nook at once, so that the user-mode
 * stack starts while the rootfs is mounted. */
static int
make_tap (const struct nook_spec *spec, int net_sock, nook_error_t *err)
{
  cleanup_close int tap = sandbox_netif_tap (&spec->netif, err);
  if (tap < 0)
    return -1;
  if (fd_send (net_sock, tap) < 0)
    return nook_error_set (err, errno, "send the tap interface to nook");
  return 0;
}

/* NETWORK_VETH: nook keeps the container's /etc/hosts up to date with the
 * network's other containers (cmd/netns.h). */
static int
send_hosts (const struct nook_spec *spec, int net_sock, nook_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/etc/hosts", spec->container_dir);
  cleanup_close int fd = open (path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fd_send (net_sock, fd) < 0)
    return nook_error_set (err, errno, "send '%s' to nook", path);
  return 0;
}

/* NETWORK_HELPER, NETWORK_VETH: the command starts once the network is configured. */
static int
wait_network (int ready_fd, nook_error_t *err)
{
  char c;
  ssize_t n;
  do
    n = read (ready_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    return nook_error_set (err, 0, "the network helper ended before the network was up");
  close (ready_fd);
  return 0;
}

static int
join_netns (void *arg, nook_error_t *err)
{
  return early_join_netns (arg, err);
}

struct child_fds
{
  int tty_sock, net_sock, ready_fd;
  int emu_sock; /* the command's end of the listener's socketpair, or -1 */
};

static int
setup (const struct nook_spec *spec, const struct child_fds *cf, int *pty_slave, const int *fds,
       struct early *early, nook_error_t *err)
{
  trace_mark ("child: setup");
  if (spec->hostname && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    return nook_error_set (err, errno, "set hostname '%s'", spec->hostname);
  if (spec->domainname && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    return nook_error_set (err, errno, "set domainname '%s'", spec->domainname);
  /* --network none: the network namespace is ours to make.  The command,
   * started now if it can be, makes it while we mount the rootfs; else we
   * make it here. */
  bool own_netns = sandbox_child_makes_netns (spec);
  /* (one made ahead by the user's pool, lo up: joined, and nothing more to do) */
  bool pooled = own_netns && sandbox_pooled_netns >= 0;
  if (pooled && setns (sandbox_pooled_netns, CLONE_NEWNET) < 0)
    return nook_error_set (err, errno, "join the network namespace made ahead");
  if (pooled)
    {
      close (sandbox_pooled_netns);
      sandbox_pooled_netns = -1;
      own_netns = false;
    }
  bool early_netns = own_netns && early_start (spec, fds[0], true, cf->emu_sock, early);
  if (own_netns && !early_netns && unshare (CLONE_NEWNET) < 0)
    return nook_error_set (err, errno, "unshare(CLONE_NEWNET)");
  /* A network namespace of our own: lo up, as Docker's --network none has it. */
  if (spec->network != NETWORK_HOST && !early_netns && !pooled && sandbox_netif_up ("lo", err) < 0)
    return -1;
  if (spec->network == NETWORK_TAP && make_tap (spec, cf->net_sock, err) < 0)
    return -1;
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return nook_error_set (err, errno, "make mounts private");

  if (sandbox_etc_files (spec, err) < 0)
    return -1;
  if (spec->network == NETWORK_VETH && send_hosts (spec, cf->net_sock, err) < 0)
    return -1;
  cleanup_free char *merged = xasprintf ("%s/merged", spec->container_dir);
  trace_mark ("child: maps seen");
  pid_t daemon = -1;
  if (sandbox_rootfs_mount (spec, merged, &daemon, err) < 0)
    return -1;
  if (daemon > 0 && split_from_daemon (daemon, fds, err) < 0)
    return -1;
  cleanup_close int rootfd = open (merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return nook_error_set (err, errno, "open '%s'", merged);

  trace_mark ("child: rootfs mounted");
  if (early->pid <= 0)
    early_start (spec, fds[0], false, cf->emu_sock, early);
  struct mount_plan plan = { 0 };
  bool gid5 = sandbox_idmap_has (spec->ids.gid, spec->ids.n_gid, 5);
  int rc = sandbox_mount_plan_build (spec, gid5, &plan, err);
  /* (the network namespace the command makes is joined as late as can be: at /sys) */
  if (rc == 0)
    rc = sandbox_mount_plan_apply_hooked (&plan, rootfd, early_netns ? join_netns : NULL, early,
                                          err);
  sandbox_mount_plan_free (&plan);
  if (rc < 0)
    return -1;
  if (spec->readonly_rootfs && sandbox_mount_make_readonly (rootfd, err) < 0)
    return nook_error_wrap (err, "read-only root filesystem");

  trace_mark ("child: mounts done");
  if (do_pivot_root (rootfd, err) < 0 || enter_workdir (spec, err) < 0)
    return -1;
  if (spec->tty && (*pty_slave = make_pty (spec, cf->tty_sock, err)) < 0)
    return -1;
  if ((spec->network == NETWORK_HELPER || spec->network == NETWORK_VETH)
      && wait_network (cf->ready_fd, err) < 0)
    return -1;
  return 0;
}

static pid_t start_late (struct command_args *args, int err_fd);

void
sandbox_child_main (const struct nook_spec *spec, int sync_fd, int err_fd, int tty_sock,
                    int notify_fd, int net_sock, int ready_fd)
{
  cleanup_error nook_error_t err = NULL;
  int pty_slave = -1;

  /* Die with nook (or the supervisor), and wait for the id maps. */
  test_hook ("child-cloned");
  trace_mark ("child: cloned");
  sandbox_die_with_parent (sandbox_parent_pidfd);
  /* Into the container's cgroup while our credentials are still nook's (a v1
   * hierarchy lets only the process's owner move it) */
  if (spec->cgroup_procs_fd > 0 && sandbox_cloned_into_cgroup)
    close (spec->cgroup_procs_fd);
  else if (spec->cgroup_procs_fd > 0)
    {
      if (write (spec->cgroup_procs_fd, "0", 1) < 0)
        {
          nook_error_set (&err, errno, "join the container's cgroup");
          child_fail (err_fd, err);
        }
      close (spec->cgroup_procs_fd);
      trace_mark ("child: in the cgroup");
    }
  /* (-1: nook has nothing to do for us first, e.g. the kept user namespace joined) */
  if (sandbox_child_self_maps && sandbox_idmap_write (0, &spec->ids, &err) < 0)
    child_fail (err_fd, err);
  if (sync_fd >= 0 && sync_wait (sync_fd) < 0)
    _exit (125);
  if (sync_fd >= 0)
    close (sync_fd);
  /* With a range, become the namespace's root (root's own uid is unmapped);
   * the single map already made us the container's user. */
  if (!spec->ids.single && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    {
      nook_error_set (&err, errno, "become root in the user namespace");
      child_fail (err_fd, err);
    }
  /* Credential emulation: the command sends the init its program's listener
   * over a socketpair, made now: the command may be started during the setup. */
  int emu[2] = { -1, -1 };
  if (sandbox_credemu_active (spec) && !spec->no_init
      && socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, emu) < 0)
    {
      nook_error_set (&err, errno, "socketpair");
      child_fail (err_fd, err);
    }
  /* (the fds a relay left outside the container must close: see split_from_daemon) */
  int fds[] = { err_fd, tty_sock, notify_fd, net_sock, ready_fd, emu[0], emu[1], -2 };
  struct child_fds cf
      = { .tty_sock = tty_sock, .net_sock = net_sock, .ready_fd = ready_fd, .emu_sock = emu[1] };
  struct early early = { .pid = -1 };
  if (setup (spec, &cf, &pty_slave, fds, &early, &err) < 0)
    child_fail (err_fd, err);

  /* The init never execs, so CLOEXEC does not protect it: before anything of
   * the container runs, keep only stdio and our pipes and sockets (renumbered
   * to 3, 4, ...) and close every other fd inherited from nook (store
   * directories, lock files...); and make it non-dumpable, so that even a
   * --privileged container (whose permitted set equals the init's) or one
   * with CAP_SYS_PTRACE cannot ptrace it or open /proc/1/fd or /proc/1/mem. */
  int keep[7] = { notify_fd,
                  err_fd,
                  pty_slave,
                  early.pid > 0 ? early.go[1] : -1,
                  early.pid > 0 ? early.done[0] : -1,
                  emu[0],
                  emu[1] };
  if (keep_only_fds (keep, 7) < 0)
    {
      nook_error_set (&err, errno, "close nook's fds");
      child_fail (err_fd, err);
    }
  notify_fd = keep[0];
  err_fd = keep[1];
  pty_slave = keep[2];
  early.go[1] = keep[3];
  early.done[0] = keep[4];
  emu[0] = keep[5];
  emu[1] = keep[6];
  /* Limits last: a low RLIMIT_NOFILE must not stop the fd shuffle above. */
  if (set_rlimits (spec, &err) < 0)
    child_fail (err_fd, err);
  if (spec->no_init)
    {
      /* The command is PID 1 (it reaps what it starts, or not: its choice, as with
       * Docker without --init): it execs here; nook sees its end as our exit. */
      close (notify_fd);
      if (!spec->tty)
        setsid ();
      exec_command (spec, err_fd, pty_slave, false, -1);
    }
  prctl (PR_SET_DUMPABLE, 0);
  /* Named before the command can look at it. */
  sandbox_set_title ("nook-init");
  if (!spec->tty && early.pid <= 0)
    setsid (); /* no TIOCSTI into the caller's terminal (early_start made it already) */

  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  /* The command is started like posix_spawn does: sharing the init's memory,
   * the init suspended until it execs (or fails and exits), so no page table
   * is copied and no page faulted in twice.  Its ids, capabilities, seccomp
   * filter and fds are its own. */
  struct command_args args
      = { .spec = spec, .err_fd = err_fd, .pty_slave = pty_slave, .emu_sock = -1 };
  int procfd = -1, listener = -1;
  if (emu[0] >= 0 && (procfd = sandbox_credemu_open_proc (&err)) < 0)
    child_fail (err_fd, err);
  args.emu_sock = emu[1];
  int pidsfd = sandbox_open_pids ();
  /* (the container's /proc is nook's mount until the command runs: read later,
   * a command allowed to mount could have put a forged smaps there) */
  int smaps = mem_settle_open ();
  if (smaps < 0)
    smaps = SETTLE_NEVER; /* (by path: not in here) */
  pid_t pid = early.pid;
  if (pid > 0)
    {
      /* (started at the rootfs, its program loaded meanwhile) */
      if (early_go (&early, &err) < 0)
        child_fail (err_fd, err);
    }
  else
    pid = start_late (&args, err_fd);
  if (emu[0] >= 0)
    {
      close (emu[1]);
      listener = fd_recv (emu[0]); /* the command has exec'd or died: sent, or EOF */
      close (emu[0]);
    }
  close (err_fd);
  if (pty_slave >= 0)
    close (pty_slave);
  sandbox_init_run (spec, pid, notify_fd, listener, procfd, pidsfd, smaps);
}

/* The command started now, sharing the init's memory, the init suspended
 * until it execs (posix_spawn's way); a fork under ASan. */
static pid_t
start_late (struct command_args *args, int err_fd)
{
  cleanup_error nook_error_t err = NULL;
#ifdef __SANITIZE_ADDRESS__
  /* AddressSanitizer cannot follow a clone onto a stack of our own (it warns on
   * stderr, which is the container's): a plain fork in `make asan` builds. */
  pid_t pid = fork ();
  if (pid == 0)
    command_main (args);
  if (pid < 0)
    {
      nook_error_set (&err, errno, "start the command");
      child_fail (err_fd, err);
    }
#else
  size_t stack_size = 256 * 1024;
  char *stack = mmap (NULL, stack_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED)
    {
      nook_error_set (&err, errno, "allocate the command's stack");
      child_fail (err_fd, err);
    }
  pid_t pid = clone (command_main, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, args);
  if (pid < 0)
    {
      nook_error_set (&err, errno, "start the command");
      child_fail (err_fd, err);
    }
  munmap (stack, stack_size);
#endif
  return pid;
}

void
sandbox_exec_command (const struct nook_spec *spec, int err_fd, int pty_slave)
{
  exec_command (spec, err_fd, pty_slave, false, -1);
}
