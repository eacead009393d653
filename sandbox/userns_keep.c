/* sandbox/userns_keep.c: see userns_keep.h. */
#include "sandbox/userns_keep.h"
#include "sandbox/internal.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/test_hook.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char keeper_name[] = "nook-userns";

/* "0 1001 1\n1 100000 65536\n" from /proc's padded columns. */
static char *
normalise (const char *text)
{
  struct strbuf b = { 0 };
  bool space = true;
  for (const char *p = text; *p; p++)
    {
      if (*p == ' ' || *p == '\t')
        {
          if (!space)
            strbuf_appendc (&b, ' ');
          space = true;
          continue;
        }
      if (*p == '\n')
        {
          if (b.len && b.buf[b.len - 1] == ' ')
            b.buf[--b.len] = '\0';
          strbuf_appendc (&b, '\n');
          space = true;
          continue;
        }
      strbuf_appendc (&b, *p);
      space = false;
    }
  return strbuf_steal (&b);
}

static bool
proc_file_is (int piddir, const char *name, const char *want)
{
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (piddir, name, 4096, &text, NULL, &e) < 0)
    return false;
  cleanup_free char *norm = normalise (text);
  return strcmp (norm, want) == 0;
}

bool
sandbox_same_ns (int piddir, const char *rel, const char *ours)
{
  struct stat a, b;
  return fstatat (piddir, rel, &a, 0) == 0 && stat (ours, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

/* The pid userns.pid names (not checked), or 0. */
static pid_t
recorded_pid (int rtfd)
{
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  uint64_t pid;
  if (fs_read_file_at (rtfd, "userns.pid", 64, &text, NULL, &e) < 0)
    return 0;
  text[strcspn (text, "\n")] = '\0';
  if (parse_uint (text, INT32_MAX, &pid, "pid", &e) < 0 || pid < 2)
    return 0;
  return (pid_t)pid;
}

/* Is the process of this /proc/PID dirfd a keeper: argv[0] "nook-userns"? */
static bool
is_keeper (int piddir)
{
  char buf[64] = { 0 };
  cleanup_close int fd = openat (piddir, "cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  return n > (ssize_t)sizeof keeper_name - 1 && memcmp (buf, keeper_name, sizeof keeper_name) == 0;
}

/* Open the kept namespace if RUNTIME_DIR/userns.pid names a live keeper of
 * ours with exactly these maps: returns an fd to its user namespace. */
static int
open_kept (const struct nook_idmapping *ids, int rtfd, pid_t *pid_out)
{
  pid_t pid = recorded_pid (rtfd);
  if (pid == 0)
    return -1;
  char path[32];
  snprintf (path, sizeof path, "/proc/%d", (int)pid);
  cleanup_close int piddir = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (piddir < 0 || fstat (piddir, &st) < 0 || st.st_uid != getuid ())
    return -1;
  cleanup_free char *u = sandbox_idmap_text (ids->uid, ids->n_uid);
  cleanup_free char *g = sandbox_idmap_text (ids->gid, ids->n_gid);
  if (!is_keeper (piddir) || !proc_file_is (piddir, "uid_map", u)
      || !proc_file_is (piddir, "gid_map", g))
    return -1;
  /* A container process of the kept namespace looks the same from here: the
   * keeper is the one in our PID namespace, and its user namespace is a child
   * of ours. */
  if (!sandbox_same_ns (piddir, "ns/pid", "/proc/self/ns/pid"))
    return -1;
  int fd = openat (piddir, "ns/user", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int parent = ioctl (fd, NS_GET_PARENT);
  struct stat a, b;
  bool ok = parent >= 0 && fstat (parent, &a) == 0 && stat ("/proc/self/ns/user", &b) == 0
            && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  if (parent >= 0)
    close (parent);
  if (!ok)
    {
      close (fd);
      return -1;
    }
  if (pid_out)
    *pid_out = (pid_t)pid;
  return fd;
}

/* A keeper of ours whose maps are no longer wanted (/etc/subuid changed). */
static void
kill_stale (int rtfd)
{
  pid_t pid = recorded_pid (rtfd);
  if (pid == 0)
    return;
  char path[32];
  snprintf (path, sizeof path, "/proc/%d", (int)pid);
  cleanup_close int piddir = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (piddir >= 0 && fstat (piddir, &st) == 0 && st.st_uid == getuid () && is_keeper (piddir))
    kill ((pid_t)pid, SIGTERM);
}

__attribute__ ((noreturn)) static void
keeper_main (int ready_fd, int go_fd)
{
  /* Say we are in a new namespace, wait for the maps, then hold it. */
  if (unshare (CLONE_NEWUSER) < 0)
    _exit (1);
  if (sync_send (ready_fd) < 0 || sync_wait (go_fd) < 0)
    _exit (1);
  if (chdir ("/") < 0)
    _exit (1);
  /* nook blocks the signals it forwards: the keeper must die of SIGTERM. */
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  for (int i = 0; null >= 0 && i < 3; i++)
    dup2 (null, i);
  /* every fd but ready_fd (close-on-exec: its end tells the nook that
   * started us that we are named, see start_keeper) */
  if (ready_fd > 3)
    syscall (SYS_close_range, 3, (unsigned int)ready_fd - 1, 0);
  syscall (SYS_close_range, (unsigned int)ready_fd + 1, ~0U, 0);
  test_hook ("keeper-exec"); /* (the maps written, not yet named nook-userns) */
  /* Become `sleep infinity` named nook-userns: the keeper then maps no
   * part of nook (which may be replaced or removed meanwhile). */
  static char *const argv[] = { (char *)keeper_name, (char *)"infinity", NULL };
  static char *const envp[] = { NULL };
  execve ("/usr/bin/sleep", argv, envp);
  execve ("/bin/sleep", argv, envp);
  sandbox_set_title (keeper_name);
  close (ready_fd);
  for (;;)
    pause ();
}

/* Close every fd from 3 up but the n in keep (sorted here).  The middle process
 * and the keeper hold nothing of nook's: a copy of the store lock or of the
 * write end of the pipe the keeper waits on would outlive a nook killed while
 * it starts the keeper, and hang every later run of the user. */
void
sandbox_close_all_but (int *keep, size_t n)
{
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--)
      {
        int t = keep[j];
        keep[j] = keep[j - 1];
        keep[j - 1] = t;
      }
  unsigned int from = 3;
  for (size_t i = 0; i < n; i++)
    {
      if ((unsigned int)keep[i] > from)
        syscall (SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
      from = (unsigned int)keep[i] + 1;
    }
  syscall (SYS_close_range, from, ~0U, 0);
}

/* Wait until the keeper has exec'd (its copy of the close-on-exec ready pipe
 * is gone: EOF), then check that it bears its name.  Only then is it named in
 * userns.pid and userns.lock released: a keeper named there before its exec
 * failed open_kept's name check in every nook that came meanwhile, and the
 * first of them replaced it by another keeper; the networks' holders started
 * before and after were then in sibling user namespaces (`network connect`
 * between them: "not below the network's"). */
static bool
named_keeper (pid_t keeper, int ready_rd)
{
  char c;
  ssize_t n;
  while ((n = read (ready_rd, &c, 1)) < 0 && errno == EINTR)
    ;
  if (n != 0)
    return false;
  char path[32];
  snprintf (path, sizeof path, "/proc/%d", (int)keeper);
  cleanup_close int piddir = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return piddir >= 0 && is_keeper (piddir);
}

/* Start a keeper for ids, detached from us; returns its pid. */
static pid_t
start_keeper (const struct nook_idmapping *ids, nook_error_t *err)
{
  int ready[2], go[2], pidp[2];
  if (pipe2 (ready, O_CLOEXEC) < 0 || pipe2 (go, O_CLOEXEC) < 0 || pipe2 (pidp, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "pipe2");
  fflush (NULL);
  pid_t mid = fork ();
  if (mid < 0)
    return nook_error_set (err, errno, "fork");
  if (mid == 0)
    {
      /* The middle process: start the keeper in a new session and leave, so
       * the keeper is nobody's child. */
      int keep[] = { ready[1], go[0], pidp[1] };
      sandbox_close_all_but (keep, ARRAY_SIZE (keep));
      setsid ();
      pid_t k = fork ();
      if (k == 0)
        {
          int kk[] = { ready[1], go[0] };
          sandbox_close_all_but (kk, ARRAY_SIZE (kk));
          keeper_main (ready[1], go[0]);
        }
      (void)!write (pidp[1], &k, sizeof k);
      _exit (k < 0);
    }
  close (ready[1]);
  close (go[0]);
  close (pidp[1]);
  pid_t keeper = -1;
  ssize_t n = read (pidp[0], &keeper, sizeof keeper);
  close (pidp[0]);
  while (waitpid (mid, NULL, 0) < 0 && errno == EINTR)
    ;
  int rc = 0;
  if (n != sizeof keeper || keeper <= 0 || sync_wait (ready[0]) < 0)
    rc = nook_error_set (err, ECHILD, "the user namespace keeper did not start");
  else if (test_hook ("keeper-started"), false)
    ;
  else if (sandbox_idmap_write (keeper, ids, err) < 0 || sync_send (go[1]) < 0)
    rc = -1;
  else if (!named_keeper (keeper, ready[0]))
    rc = nook_error_set (err, ECHILD, "the user namespace keeper %d did not start", (int)keeper);
  close (ready[0]);
  close (go[1]);
  if (rc < 0)
    {
      if (keeper > 0)
        kill (keeper, SIGKILL);
      return -1;
    }
  return keeper;
}

int
sandbox_userns_keep_join (const struct nook_idmapping *ids, const char *runtime_dir,
                          nook_error_t *err)
{
  cleanup_close int rtfd = open (runtime_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rtfd < 0)
    return nook_error_set (err, errno, "open '%s'", runtime_dir);
  cleanup_close int nsfd = open_kept (ids, rtfd, NULL);
  if (nsfd < 0)
    {
      /* One nook at a time starts a keeper. */
      cleanup_close int lock
          = openat (rtfd, "userns.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      test_hook ("userns-keep-lock"); /* (no keeper named: to wait for the lock) */
      if (lock < 0 || flock (lock, LOCK_EX) < 0)
        return nook_error_set (err, errno, "lock '%s/userns.lock'", runtime_dir);
      nsfd = open_kept (ids, rtfd, NULL);
      if (nsfd < 0)
        {
          kill_stale (rtfd);
          pid_t k = start_keeper (ids, err);
          if (k < 0)
            return -1;
          char buf[16];
          int len = snprintf (buf, sizeof buf, "%d\n", (int)k);
          if (fs_write_atomic_at (rtfd, "userns.pid", buf, (size_t)len, 0600, err) < 0)
            {
              kill (k, SIGKILL);
              return -1;
            }
          /* ours, maps written: opened by pid (open_kept would also want its
           * name, which it has only once it has exec'd: a race under load,
           * after which a network's holder made a namespace of its own) */
          char path[40];
          snprintf (path, sizeof path, "/proc/%d/ns/user", (int)k);
          nsfd = open (path, O_RDONLY | O_CLOEXEC);
          if (nsfd < 0)
            return nook_error_set (err, ESRCH, "the user namespace keeper %d went away", (int)k);
        }
    }
  if (setns (nsfd, CLONE_NEWUSER) < 0)
    return nook_error_set (err, errno, "join the kept user namespace");
  return 0;
}

int
sandbox_userns_keep_pidfd_joined (int rtfd)
{
  pid_t pid = recorded_pid (rtfd);
  int fd = pid > 0 ? (int)syscall (SYS_pidfd_open, pid, 0) : -1;
  char path[32];
  snprintf (path, sizeof path, "/proc/%d", (int)pid);
  cleanup_close int piddir = fd >= 0 ? open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (fd >= 0 && !(piddir >= 0 && sandbox_same_ns (piddir, "ns/user", "/proc/self/ns/user")))
    {
      close (fd);
      fd = -1;
    }
  return fd;
}

pid_t
sandbox_userns_keep_pid (const struct nook_idmapping *ids, const char *runtime_dir)
{
  cleanup_close int rtfd = open (runtime_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  pid_t pid = 0;
  if (rtfd < 0)
    return 0;
  int fd = open_kept (ids, rtfd, &pid);
  if (fd < 0)
    return 0;
  close (fd);
  return pid;
}
