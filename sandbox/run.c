/* sandbox/run.c: the parent side of a container: clone into new namespaces,
 * write the id maps, pass the pty, forward signals, wait. */
#include "sandbox/run.h"
#include "sandbox/internal.h"
#include "sandbox/netns_pool.h"
#include "sandbox/tty.h"
#include "sandbox/userns.h"
#include "sandbox/userns_keep.h"
#include "util/log.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/test_hook.h"
#include "util/trace.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

void
nook_spec_free (struct nook_spec *s)
{
  if (s == NULL)
    return;
  strv_free (s->argv);
  strv_free (s->env);
  free (s->cwd);
  free (s->groups);
  free (s->hostname);
  free (s->domainname);
  for (size_t i = 0; i < s->n_mounts; i++)
    {
      free (s->mounts[i].source);
      free (s->mounts[i].target);
      free (s->mounts[i].options);
    }
  free (s->mounts);
  free (s->rlimits);
  strv_free (s->sysctls);
  strv_free (s->layers);
  free (s->container_dir);
  free (s->etc_hosts);
  free (s->etc_resolv);
  free (s->etc_hostname);
  free (s->seccomp_bpf);
  free (s->keep_userns_dir);
  memset (s, 0, sizeof *s);
}

/* This process joined the kept user namespace (a supervisor that starts its
 * container again is in it since the first start: it cannot join it twice,
 * and its uid 0 there is the user, not root). */
static bool kept_userns_joined;

/* The single map's usual form: the user as root (-u unset or 0), no other id. */
static bool
single_own_root (const struct nook_idmapping *ids)
{
  return ids->single && ids->n_uid == 1 && ids->n_gid == 1 && ids->uid[0].inside == 0
         && ids->uid[0].outside == getuid () && ids->uid[0].count == 1 && ids->gid[0].inside == 0
         && ids->gid[0].outside == getgid () && ids->gid[0].count == 1;
}

/* Runs that join the kept user namespace (sandbox/userns_keep.h): a range's
 * (newuidmap and newgidmap cost more than the rest of a start), and a
 * `--network none` run as root of the single map, the one kept for the user's
 * networks: the user's pool of network namespaces is there (netns_pool.h). */
static bool
keeps_userns (const struct nook_spec *spec)
{
  if (spec->keep_userns_dir == NULL || spec->join_userns)
    return false;
  if (spec->ids.use_helpers || kept_userns_joined)
    return true;
  return sandbox_child_makes_netns (spec) && single_own_root (&spec->ids) && getuid () != 0
         && !sandbox_netns_pool_off ();
}

static int
prepare_dir (const struct nook_spec *spec, nook_error_t *err)
{
  cleanup_close int dir = open (spec->container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return nook_error_set (err, errno, "open container directory '%s'", spec->container_dir);
  static const char *const sub[] = { "upper", "work", "merged", "etc" };
  for (size_t i = 0; i < ARRAY_SIZE (sub); i++)
    if (mkdirat (dir, sub[i], 0755) < 0 && errno != EEXIST)
      return nook_error_set (err, errno, "mkdir '%s/%s'", spec->container_dir, sub[i]);
  /* Invoked by root: host root is not mapped, so hand the container's own
   * directories to the container's root.  (Not root of the kept user
   * namespace, which a supervisor has joined when it starts a container
   * again: its 0 is the user.) */
  if (getuid () == 0 && !spec->ids.single && !kept_userns_joined)
    {
      uid_t u = spec->ids.uid[0].outside;
      gid_t g = spec->ids.gid[0].outside;
      if (fchown (dir, u, g) < 0)
        return nook_error_set (err, errno, "chown '%s'", spec->container_dir);
      for (size_t i = 0; i < ARRAY_SIZE (sub); i++)
        if (fchownat (dir, sub[i], u, g, AT_SYMLINK_NOFOLLOW) < 0)
          return nook_error_set (err, errno, "chown '%s/%s'", spec->container_dir, sub[i]);
    }
  return 0;
}

static unsigned long
clone_flags (const struct nook_spec *spec, bool joined)
{
  unsigned long f = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
  if (!joined)
    f |= CLONE_NEWUSER;
  /* With fuse-overlayfs the child mounts first and makes the PID namespace
   * after, so that the FUSE daemon stays outside it (sandbox/child.c). */
  if (spec->driver != STORAGE_FUSE_OVERLAYFS)
    f |= CLONE_NEWPID;
  if (spec->network != NETWORK_HOST && spec->network != NETWORK_JOIN
      && !sandbox_child_makes_netns (spec))
    f |= CLONE_NEWNET;
  return f;
}

/* clone(2) of the container's first process, into its v2 cgroup when the spec names
 * one: a cgroup.procs write moving it after the clone waits for an RCU grace period
 * (the threadgroup lock's writer: 8-18 ms here, on every start), a process born there
 * does not; and a pause can find no moment when the init is outside its cgroup.  The
 * old way when clone3 or CLONE_INTO_CGROUP is missing or refused (the write then says
 * why it fails, if it does). */
static pid_t
clone_container (const struct nook_spec *spec, unsigned long flags)
{
  if (spec->cgroup_dir_fd > 0)
    {
      struct clone_args a = { .flags = flags | CLONE_INTO_CGROUP,
                              .exit_signal = SIGCHLD,
                              .cgroup = (uint64_t)spec->cgroup_dir_fd };
      sandbox_cloned_into_cgroup = true; /* (the child's copy says so) */
      long pid = syscall (SYS_clone3, &a, sizeof a);
      if (pid >= 0)
        return (pid_t)pid;
      sandbox_cloned_into_cgroup = false;
      log_debug ("clone3 into the container's cgroup: %s", strerror (errno));
    }
  return (pid_t)syscall (SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

struct io
{
  int master; /* pty master, -1 without -t */
  bool stdin_open;
  struct tty_state tty;
  int notify; /* the init's "the command has ended" pipe, -1 once read */
  const struct sandbox_hooks *hooks;
};

/* The init says the command and everything else of the container have ended,
 * before the kernel tears its namespaces down.  Returns the command's status
 * when the caller needs no more of the container (see sandbox_hooks), or -1. */
static int
command_ended (struct io *io)
{
  unsigned char c;
  ssize_t n;
  do
    n = read (io->notify, &c, 1);
  while (n < 0 && errno == EINTR);
  close (io->notify);
  io->notify = -1;
  if (n == 1 && io->hooks && io->hooks->command_ended
      && io->hooks->command_ended (io->hooks->data, c) && io->master < 0)
    return c;
  return -1;
}

/* Copy what is ready between the caller's stdio and the pty. */
static void
pump (int from, int to, bool *open_flag)
{
  char buf[16384];
  ssize_t n = read (from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      *open_flag = false;
      return;
    }
  fs_write_all (to, buf, (size_t)n);
}

/* Docker's sig-proxy, and what `docker stop` adds: the first INT, TERM, HUP
 * or QUIT goes to the command; if the container has not ended stop_timeout
 * seconds later, or a second INT or TERM comes, the container is killed. */
struct stopping
{
  bool asked;          /* a stop signal was forwarded */
  bool killed;         /* SIGKILL sent */
  struct timespec end; /* CLOCK_MONOTONIC deadline, when asked and timeout >= 0 */
};

static bool
is_stop_signal (int sig)
{
  return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT;
}

/* Milliseconds until the deadline (0 when passed), -1 when none. */
static int
ms_left (const struct stopping *s, int timeout)
{
  if (!s->asked || s->killed || timeout < 0)
    return -1;
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  int64_t ms
      = (int64_t)(s->end.tv_sec - now.tv_sec) * 1000 + (s->end.tv_nsec - now.tv_nsec) / 1000000;
  return ms <= 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void
kill_container (pid_t pid, struct stopping *s, const char *why)
{
  if (s->killed)
    return;
  log_debug ("killing the container (%s)", why);
  kill (pid, SIGKILL); /* PID 1 of its namespace: the kernel ends the rest */
  s->killed = true;
}

static void
on_signal (pid_t pid, int sig, int timeout, struct stopping *s)
{
  if (is_stop_signal (sig) && s->asked && (sig == SIGINT || sig == SIGTERM))
    {
      kill_container (pid, s, "second signal");
      return;
    }
  if (is_stop_signal (sig) && !s->asked)
    {
      s->asked = true;
      clock_gettime (CLOCK_MONOTONIC, &s->end);
      s->end.tv_sec += timeout;
    }
  kill (pid, sig);
}

/* The user-mode network: the tap the child made (NETWORK_TAP) or the ready pipe
 * (NETWORK_HELPER) goes to the caller's hook, which starts the helpers. */
static int
start_network (const struct nook_spec *spec, const struct sandbox_hooks *hooks,
               struct sandbox_netns *ns, int net_sock, int err_fd, nook_error_t *err)
{
  int tap = -1;
  if (ns->userns_fd < 0 || ns->netns_fd < 0)
    return nook_error_set (err, errno, "open the container's namespaces");
  if (spec->network == NETWORK_TAP || spec->network == NETWORK_VETH)
    {
      tap = fd_recv (net_sock);
      if (tap < 0)
        {
          /* the child failed first: its error says why */
          if (errpipe_recv (err_fd, err) != 0 && err && *err)
            return -1;
          return nook_error_set (err, EIO, "no %s came from the container",
                                 spec->network == NETWORK_TAP ? "tap interface" : "hosts file");
        }
    }
  if (hooks == NULL || hooks->network == NULL)
    {
      if (tap >= 0)
        close (tap);
      return nook_error_set (err, EINVAL, "a user-mode network needs a network hook");
    }
  if (spec->network == NETWORK_VETH)
    ns->hosts_fd = tap;
  else
    ns->tap_fd = tap;
  return hooks->network (hooks->data, ns, err);
}

/* The container's user and network namespaces, opened while its child waits for
 * the id maps: later it is non-dumpable and /proc/PID/ns refuses us. */
static void
open_namespaces (pid_t pid, struct sandbox_netns *ns)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/ns/user", (int)pid);
  ns->userns_fd = open (path, O_RDONLY | O_CLOEXEC);
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int)pid);
  ns->netns_fd = open (path, O_RDONLY | O_CLOEXEC);
}

static int
wait_loop (pid_t pid, int sfd, struct io *io, int timeout)
{
  bool master_open = io->master >= 0;
  struct stopping stop = { 0 };
  for (;;)
    {
      struct pollfd p[4] = {
        { .fd = sfd, .events = POLLIN },
        { .fd = master_open ? io->master : -1, .events = POLLIN },
        { .fd = master_open && io->stdin_open ? 0 : -1, .events = POLLIN },
        { .fd = io->notify, .events = POLLIN },
      };
      int n = poll (p, 4, ms_left (&stop, timeout));
      if (n < 0 && errno != EINTR)
        break;
      if (n == 0 && ms_left (&stop, timeout) == 0)
        kill_container (pid, &stop, "--stop-timeout");
      if (n <= 0)
        continue;
      if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
        {
          int done = command_ended (io);
          if (done >= 0)
            return done;
        }
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
        pump (io->master, 1, &master_open);
      if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
        pump (0, io->master, &io->stdin_open);
      if (!(p[0].revents & POLLIN))
        continue;
      struct signalfd_siginfo si;
      if (read (sfd, &si, sizeof si) != sizeof si)
        continue;
      if ((int)si.ssi_signo == SIGWINCH && io->master >= 0)
        sandbox_tty_copy_winsize (0, io->master);
      else if ((int)si.ssi_signo != SIGCHLD)
        on_signal (pid, (int)si.ssi_signo, timeout, &stop);
      int st;
      pid_t r = waitpid (pid, &st, WNOHANG);
      if (r == pid)
        {
          while (master_open)
            {
              struct pollfd m = { .fd = io->master, .events = POLLIN };
              if (poll (&m, 1, 0) <= 0)
                break;
              pump (io->master, 1, &master_open);
            }
          return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
        }
    }
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
}

static void
restore_signals (const struct sigaction *saved, const sigset_t *mask)
{
  for (size_t i = 0; i < ARRAY_SIZE (forwarded); i++)
    sigaction (forwarded[i], &saved[i], NULL);
  sigprocmask (SIG_SETMASK, mask, NULL);
}

int
sandbox_run (const struct nook_spec *spec, const struct sandbox_hooks *hooks, nook_error_t *err)
{
  /* --network none in the kept user namespace: a network namespace made ahead, asked
   * for now and taken at the clone (sandbox/netns_pool.h) */
  cleanup_close int pool_ask = keeps_userns (spec) && sandbox_child_makes_netns (spec)
                                   ? sandbox_netns_pool_ask (spec->keep_userns_dir)
                                   : -1;
  if (prepare_dir (spec, err) < 0)
    return -1;

  int syncp[2] = { -1, -1 }, errp[2] = { -1, -1 }, ttys[2] = { -1, -1 }, notp[2] = { -1, -1 };
  int nets[2] = { -1, -1 }, readyp[2] = { -1, -1 };
  if (pipe2 (syncp, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0 || pipe2 (notp, O_CLOEXEC) < 0
      || (spec->tty && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ttys) < 0)
      || ((spec->network == NETWORK_TAP || spec->network == NETWORK_VETH)
          && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, nets) < 0)
      || ((spec->network == NETWORK_HELPER || spec->network == NETWORK_VETH)
          && pipe2 (readyp, O_CLOEXEC) < 0))
    return nook_error_set (err, errno, "create pipes");

  sigset_t mask, old;
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  for (size_t i = 0; i < ARRAY_SIZE (forwarded); i++)
    sigaddset (&mask, forwarded[i]);
  sigprocmask (SIG_BLOCK, &mask, &old);
  cleanup_close int sfd = signalfd (-1, &mask, SFD_CLOEXEC);
  if (sfd < 0)
    return nook_error_set (err, errno, "signalfd");
  /* The command gets default dispositions, as under Docker, even when nook
   * inherited some ignored (`nohup`, `cmd &` in a script ignores INT and
   * QUIT): it inherits them from us, and blocked here they still reach the
   * signalfd. */
  struct sigaction dfl = { .sa_handler = SIG_DFL }, saved[ARRAY_SIZE (forwarded)];
  for (size_t i = 0; i < ARRAY_SIZE (forwarded); i++)
    sigaction (forwarded[i], &dfl, &saved[i]);

  trace_mark ("clone");
  /* With a subordinate range, join the kept user namespace: newuidmap and
   * newgidmap cost more than everything else here. */
  bool joined = false;
  /* user-defined networks, container:NAME (see spec.h) */
  if ((spec->join_userns && setns (spec->userns_fd, CLONE_NEWUSER) < 0)
      || (spec->join_netns && setns (spec->netns_fd, CLONE_NEWNET) < 0))
    {
      int e = errno;
      restore_signals (saved, &old);
      return nook_error_set (err, e, "join the namespaces of the container's network");
    }
  if (keeps_userns (spec) && kept_userns_joined)
    joined = true;
  else if (keeps_userns (spec))
    {
      cleanup_error nook_error_t kerr = NULL;
      joined = kept_userns_joined
          = sandbox_userns_keep_join (&spec->ids, spec->keep_userns_dir, &kerr) == 0;
      if (!joined)
        log_debug ("no kept user namespace: %s", kerr->msg);
      trace_mark ("user namespace joined");
    }
  sandbox_pooled_netns
      = joined && pool_ask != -1 ? sandbox_netns_pool_take (pool_ask, spec->keep_userns_dir) : -1;
  if (sandbox_pooled_netns >= 0)
    trace_mark ("network namespace taken");
  /* (decided once, here: the child's getuid() is not ours, and changes once we have
   * written its maps; each deciding, both wrote them when the child came first) */
  bool self_maps = !joined && sandbox_child_maps_itself (spec);
  sandbox_child_self_maps = self_maps;
  fflush (NULL);
  /* The child asks to die with us (PR_SET_PDEATHSIG), then checks this pidfd:
   * had we died between the clone and its prctl, nothing would kill it. */
  sandbox_parent_pidfd = (int)syscall (SYS_pidfd_open, getpid (), 0);
  pid_t pid = clone_container (spec, clone_flags (spec, joined));
  if (pid != 0 && sandbox_parent_pidfd >= 0)
    {
      close (sandbox_parent_pidfd);
      sandbox_parent_pidfd = -1;
    }
  if (pid != 0 && sandbox_pooled_netns >= 0)
    {
      close (sandbox_pooled_netns);
      sandbox_pooled_netns = -1;
    }
  if (pid < 0)
    {
      int e = errno;
      restore_signals (saved, &old);
      return nook_error_set (err, e, "clone the container's namespaces");
    }
  bool net_hook = spec->network == NETWORK_TAP || spec->network == NETWORK_HELPER
                  || spec->network == NETWORK_VETH;
  /* Nothing to wait for when no id map is to be written and no namespace opened (the
   * kept user namespace joined, no network hook): the child goes on at once instead
   * of waiting for nook to be scheduled again (and nook sends nothing). */
  bool child_waits = (!joined && !self_maps) || net_hook;
  if (pid == 0)
    {
      close (syncp[1]);
      if (!child_waits)
        {
          close (syncp[0]);
          syncp[0] = -1;
        }
      close (errp[0]);
      if (ttys[0] >= 0)
        close (ttys[0]);
      close (notp[0]);
      if (nets[0] >= 0)
        close (nets[0]);
      if (readyp[1] >= 0)
        close (readyp[1]);
      sandbox_child_main (spec, syncp[0], errp[1], ttys[1], notp[1], nets[1], readyp[0]);
    }
  close (syncp[0]);
  close (errp[1]);
  close (notp[1]);
  if (ttys[1] >= 0)
    close (ttys[1]);
  if (nets[1] >= 0)
    close (nets[1]);
  if (readyp[0] >= 0)
    close (readyp[0]);
  struct sandbox_netns ns = {
    .pid = pid, .userns_fd = -1, .netns_fd = -1, .tap_fd = -1, .ready_fd = readyp[1], .hosts_fd = -1
  };
  if (net_hook)
    open_namespaces (pid, &ns);

  int rc = 0;
  struct io io
      = { .master = -1, .stdin_open = spec->interactive, .notify = notp[0], .hooks = hooks };
  if (!joined && !self_maps && sandbox_idmap_write (pid, &spec->ids, err) < 0)
    rc = -1;
  else if (child_waits)
    sync_send (syncp[1]);
  test_hook ("child-synced");
  trace_mark ("id maps written");
  close (syncp[1]);
  if (rc == 0 && net_hook)
    {
      if (start_network (spec, hooks, &ns, nets[0], errp[0], err) < 0)
        rc = -1;
      trace_mark ("network started");
    }
  if (nets[0] >= 0)
    close (nets[0]);
  if (readyp[1] >= 0)
    close (readyp[1]);
  if (ns.userns_fd >= 0)
    close (ns.userns_fd);
  if (ns.netns_fd >= 0)
    close (ns.netns_fd);
  if (rc == 0 && hooks && hooks->child_setting_up)
    hooks->child_setting_up (hooks->data);

  if (rc == 0 && spec->tty)
    {
      io.master = fd_recv (ttys[0]);
      if (io.master >= 0)
        {
          if (isatty (0))
            {
              sandbox_tty_copy_winsize (0, io.master);
              if (spec->interactive)
                sandbox_tty_raw (0, &io.tty);
            }
        }
    }
  if (ttys[0] >= 0)
    close (ttys[0]);
  /* Nothing of ours waits for the command's execve when no pty, network or supervisor
   * follows it: nook sleeps until the container ends, then reads what the error pipe
   * holds by then (a failed setup or execve wrote it before its writers all closed: the
   * init closes its end before it waits, the command's closed at execve or its end). */
  bool wait_exec = spec->tty || net_hook || (hooks && hooks->supervise);
  bool set_up = rc == 0;
  if (rc == 0 && wait_exec && errpipe_recv (errp[0], err) != 0)
    rc = -1;
  if (wait_exec)
    trace_mark ("command started");
  /* The caller's work waits for the command's start (it would take a core from the
   * setup): the pipe's first byte or its end, left unread (read after the wait, as
   * without it), or a signal (the wait loop takes it). */
  if (set_up && hooks && hooks->command_started)
    {
      if (!wait_exec)
        {
          struct pollfd pf[2]
              = { { .fd = errp[0], .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
          while (poll (pf, 2, -1) < 0 && errno == EINTR)
            ;
          trace_mark ("command started");
        }
      hooks->command_started (hooks->data);
    }

  int status;
  if (rc < 0)
    {
      kill (pid, SIGKILL);
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      status = -1;
    }
  else if (hooks && hooks->supervise)
    {
      struct sandbox_started s
          = { .pid = pid, .sigfd = sfd, .master = io.master, .notify = io.notify };
      status = hooks->supervise (hooks->data, &s);
    }
  else
    status = wait_loop (pid, sfd, &io, spec->stop_timeout);
  if (rc == 0 && !wait_exec)
    {
      fcntl (errp[0], F_SETFL, O_NONBLOCK); /* (never blocks: see above) */
      if (errpipe_recv (errp[0], err) != 0)
        status = -1;
    }
  close (errp[0]);
  sandbox_tty_restore (&io.tty);
  if (io.notify >= 0)
    close (io.notify);
  if (io.master >= 0)
    close (io.master);
  restore_signals (saved, &old);
  return status;
}
