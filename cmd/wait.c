/* cmd/wait.c: `nook wait --condition` (see lifecycle.h): Docker's conditions
 * (the API's not-running, next-exit, removed) and podman's container states
 * (created or configured, running, paused, restarting, stopped, exited, healthy,
 * unhealthy; several: any of them, removed too;
 * compose's `depends_on: condition: service_healthy` waits for healthy).  An
 * exit waits on the container's supervisor (its reply comes once the end is
 * recorded and logged); states are polled from disk, as podman does. */
#include "cmd/health.h"
#include "cmd/lifecycle.h"
#include "cmd/records.h"
#include "util/cleanup.h"
#include "util/test_hook.h"
#include "util/util.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const exit_conditions[] = { "not-running", "stopped", "exited", NULL };
static const char *const state_conditions[]
    = { "created", "configured", "running", "paused", "restarting", "healthy", "unhealthy", NULL };

static bool
in (const char *s, const char *const *set)
{
  for (; *set; set++)
    if (strcmp (s, *set) == 0)
      return true;
  return false;
}

int
lifecycle_wait_check (char *const *conds, nook_error_t *err)
{
  for (size_t i = 0; conds && conds[i]; i++)
    if (!in (conds[i], exit_conditions) && !in (conds[i], state_conditions)
        && strcmp (conds[i], "next-exit") != 0 && strcmp (conds[i], "removed") != 0)
      return nook_error_set (err, 0,
                             "invalid condition \"%s\": want not-running, next-exit or removed "
                             "(Docker's), or created, running, paused, restarting, stopped, "
                             "exited, healthy or unhealthy (podman's)",
                             conds[i]);
  /* several: any of them (podman's); next-exit is an event, not a state to poll */
  for (size_t i = 0; conds && conds[i] && conds[1]; i++)
    if (strcmp (conds[i], "next-exit") == 0)
      return nook_error_set (err, 0, "condition \"next-exit\" cannot be combined with others");
  return 0;
}

static bool
is_live (const struct container_state *st)
{
  return strcmp (st->status, "running") == 0 || strcmp (st->status, "paused") == 0
         || strcmp (st->status, "restarting") == 0 || strcmp (st->status, "starting") == 0;
}

static void
nap (void)
{
  struct timespec ts = { 0, 100 * 1000000 };
  nanosleep (&ts, NULL);
}

/* The supervisor's "exit N" at the container's next end; -1 when none listens. */
static int
next_exit (int cdir, const char *id, int *code)
{
  char buf[64];
  cleanup_close int fd = ctl_connect (cdir, id);
  if (fd < 0 || ctl_request (fd, "wait\n", buf, sizeof buf, -1) < 0)
    return -1;
  return sscanf (buf, "exit %d", code) == 1 ? 0 : -1;
}

static bool
exists (int cdir, const char *id)
{
  cleanup_free char *cfg = xasprintf ("%s/config.json", id);
  struct stat st;
  return fstatat (cdir, cfg, &st, 0) == 0;
}

/* Does the container's state match one of conds (the state ones and the
 * exit ones)?  *code: what to print (the exit code, -1 for a state). */
static bool
state_matches (int cdir, const char *id, char *const *conds, int *code)
{
  struct container_state st;
  container_state_read (cdir, id, &st);
  char health[16];
  health_status_read (cdir, id, health, sizeof health);
  bool live = is_live (&st), hit = false;
  for (size_t i = 0; conds[i] && !hit; i++)
    {
      const char *c = conds[i];
      if (in (c, exit_conditions) && !live && strcmp (st.status, "created") != 0)
        hit = true, *code = st.exit_code;
      else if (strcmp (c, "not-running") == 0 && !live)
        hit = true, *code = st.exit_code;
      else if (strcmp (c, "healthy") == 0 || strcmp (c, "unhealthy") == 0)
        hit = live && strcmp (health, c) == 0, *code = -1;
      else if (strcmp (c, "running") == 0)
        hit = strcmp (st.status, "running") == 0, *code = -1;
      else if (strcmp (c, "configured") == 0) /* podman's name for created */
        hit = strcmp (st.status, "created") == 0, *code = -1;
      else if (in (c, state_conditions))
        hit = strcmp (st.status, c) == 0, *code = -1;
    }
  container_state_clear (&st);
  return hit;
}

int
lifecycle_wait (const char *root, const char *id, char *const *conds, int *code, nook_error_t *err)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0)
    return nook_error_set (err, 0, "No such container: %s", id);
  char *const dflt[] = { (char *)"not-running", NULL };
  if (conds == NULL || conds[0] == NULL)
    conds = dflt;
  bool want_next = false, want_removed = false, others = false;
  for (size_t i = 0; conds[i]; i++)
    {
      want_next |= strcmp (conds[i], "next-exit") == 0;
      want_removed |= strcmp (conds[i], "removed") == 0;
      others |= strcmp (conds[i], "next-exit") != 0 && strcmp (conds[i], "removed") != 0;
    }
  if (want_next && !others && !want_removed)
    {
      /* the next end, whether it runs now or is started later */
      for (;;)
        {
          if (next_exit (cdir, id, code) == 0)
            return 0;
          if (!exists (cdir, id))
            return nook_error_set (err, 0, "No such container: %s", id);
          nap ();
        }
    }
  if (want_removed && !others && !want_next)
    {
      /* its end if it runs, then its record gone (--rm, or an rm) */
      struct container_state st;
      container_state_read (cdir, id, &st);
      *code = st.exit_code;
      bool live = is_live (&st);
      container_state_clear (&st);
      if (live && next_exit (cdir, id, code) < 0)
        {
          container_state_read (cdir, id, &st);
          *code = st.exit_code;
          container_state_clear (&st);
        }
      while (exists (cdir, id))
        nap ();
      return 0;
    }
  if (!want_next && !want_removed && !in (conds[0], state_conditions) && conds[1] == NULL)
    {
      /* Docker's default: the supervisor tells the end (every byte logged by then) */
      for (int tries = 0; tries < 3; tries++)
        {
          if (state_matches (cdir, id, conds, code))
            return 0;
          if (next_exit (cdir, id, code) == 0)
            return 0;
        }
    }
  /* only healthy/unhealthy asked: a container that ended cannot meet them (compose's
   * service_healthy must not wait forever on a dependency that exited) */
  bool health_only = true;
  for (size_t i = 0; conds[i]; i++)
    health_only &= strcmp (conds[i], "healthy") == 0 || strcmp (conds[i], "unhealthy") == 0;
  bool exits_only = true;
  for (size_t i = 0; conds[i]; i++)
    exits_only &= in (conds[i], exit_conditions) || strcmp (conds[i], "removed") == 0;
  if (want_removed && exits_only)
    {
      /* removed or an end: the end comes first, told by the supervisor (a --rm
       * container's "exited" is too short to be seen by polling) */
      if (state_matches (cdir, id, conds, code) || next_exit (cdir, id, code) == 0)
        return 0;
    }
  int last = -1; /* removed among others: the exit code last seen */
  for (;;)
    {
      if (state_matches (cdir, id, conds, code))
        return 0;
      if (want_removed)
        {
          struct container_state st;
          container_state_read (cdir, id, &st);
          if (!is_live (&st) && strcmp (st.status, "created") != 0)
            last = st.exit_code;
          container_state_clear (&st);
        }
      if (!exists (cdir, id))
        {
          if (!want_removed)
            return nook_error_set (err, 0, "No such container: %s", id);
          *code = last < 0 ? 0 : last;
          return 0;
        }
      if (health_only)
        {
          struct container_state st;
          container_state_read (cdir, id, &st);
          bool ended = !is_live (&st) && strcmp (st.status, "created") != 0;
          int ec = st.exit_code;
          container_state_clear (&st);
          if (ended)
            return nook_error_set (err, 0, "container %.12s exited (%d) before it was %s", id, ec,
                                   conds[0]);
        }
      nap ();
    }
}

/* ---- a foreground `run --rm` without a name (no supervisor, no state) ----
 * The waiter makes containers/<id>/exit.fifo and reads it; the run, when its command has
 * ended (before it empties the directory), writes the code there if the FIFO exists (one
 * failed open otherwise: the start-up path stays as it was).  The code is written as
 * EXIT_RECORDS records of EXIT_RECORD bytes in one write (atomic: under PIPE_BUF), and each
 * waiter takes one record with one read: two waiters reading a line byte by byte took
 * each other's bytes ("55" and "", t-wait-fg once in CI). */

#define EXIT_FIFO "exit.fifo"
#define EXIT_RECORD 4 /* "%3d\n" */
#define EXIT_RECORDS 16

void
lifecycle_tell_waiters (const char *root, const char *id, int code)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/containers/%s/" EXIT_FIFO, root, id);
  int fd = open (path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return;
  char line[EXIT_RECORD * EXIT_RECORDS + 1];
  size_t n = 0;
  for (int i = 0; i < EXIT_RECORDS; i++) /* a record for each of up to 16 waiters */
    n += (size_t)snprintf (line + n, sizeof line - n, "%3d\n", code & 255);
  if (write (fd, line, n) < 0)
    {
      /* nobody reads */
    }
  close (fd);
}

/* Does any process of the container but its init live (then its end is still to be
 * told)? */
static bool
has_children (pid_t init)
{
  char path[64], c;
  snprintf (path, sizeof path, "/proc/%d/task/%d/children", (int)init, (int)init);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  return fd >= 0 && read (fd, &c, 1) == 1;
}

/* PIDFD_GET_INFO (Linux 6.15, linux/pidfd.h): a pidfd's process, and with
 * PIDFD_INFO_EXIT its wait status once it has been reaped, by whoever reaped it. */
struct pidfd_exit_info
{
  uint64_t mask, cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
  uint32_t coredump_mask, spare;
};
#define NOOK_PIDFD_GET_INFO _IOWR (0xFF, 11, struct pidfd_exit_info)
#define NOOK_PIDFD_INFO_EXIT (1ULL << 3)

/* The wait status of pidfd's process: 1 with *status once it is reaped, 0 before,
 * -1 when the kernel cannot tell (before 6.13 no such ioctl; 6.13 and 6.14 know no
 * exit status: ESRCH once it is reaped). */
static int
pidfd_exit_status (int pidfd, int *status)
{
  struct pidfd_exit_info info = { .mask = NOOK_PIDFD_INFO_EXIT };
  if (ioctl (pidfd, NOOK_PIDFD_GET_INFO, &info) < 0)
    return -1;
  if (!(info.mask & NOOK_PIDFD_INFO_EXIT))
    return 0;
  *status = info.exit_code;
  return 1;
}

/* A run that ended before its waiter made its FIFO told nobody: its code is the exit
 * status of its init (the command's: sandbox/init.c), else of the nook that ran it
 * (`nook run` exits with it), read once one of them is reaped (the init is an orphan
 * then: PID 1 reaps it, maybe slowly).  -1 when the kernel cannot tell. */
static int
code_of_ended_run (int initfd, int nookfd, int *code)
{
  for (int i = 0; i < 3000; i++) /* 30 s */
    {
      int st, r = pidfd_exit_status (initfd, &st);
      if (r > 0)
        {
          *code = WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
          return 0;
        }
      int r2 = pidfd_exit_status (nookfd, &st);
      if (r2 > 0 && WIFEXITED (st))
        {
          *code = WEXITSTATUS (st);
          return 0;
        }
      if (r < 0 && r2 != 0) /* (a nook killed by a signal tells no code either) */
        return -1;
      struct timespec ts = { 0, 10 * 1000000 };
      nanosleep (&ts, NULL);
    }
  return -1;
}

int
lifecycle_wait_foreground (const char *root, const char *id, int *code)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  json_t *cfg = cdir >= 0 ? container_read_json (cdir, id, "config.json") : NULL;
  cleanup_close int initfd = -1;
  pid_t init = cfg ? container_foreground_init (cfg, false, &initfd) : -1;
  pid_t nook = (pid_t)json_integer_value (json_object_get (cfg, "Pid"));
  json_decref (cfg);
  if (init <= 0)
    return 1;
  cleanup_close int nookfd = (int)syscall (SYS_pidfd_open, nook, 0);
  cleanup_free char *fifo = xasprintf ("%s/" EXIT_FIFO, id);
  if (nookfd < 0 || (mkfifoat (cdir, fifo, 0600) < 0 && errno != EEXIST))
    return 1;
  cleanup_close int fd = openat (cdir, fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  /* told for sure only when the container still runs more than its init now */
  bool sure = fd >= 0 && has_children (init);
  test_hook ("waiter-listening");
  char line[EXIT_RECORD + 1] = "";
  bool got = false;
  while (fd >= 0 && !got)
    {
      struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = nookfd, .events = POLLIN } };
      if (poll (p, 2, -1) < 0 && errno != EINTR)
        break;
      ssize_t r = read (fd, line, EXIT_RECORD);
      got = r == EXIT_RECORD && line[EXIT_RECORD - 1] == '\n';
      if (p[1].revents && !got)
        break; /* the run ended without telling (it ended before we asked) */
    }
  line[EXIT_RECORD] = '\0';
  /* the run removes the container after telling: return once it is gone */
  struct pollfd p = { .fd = nookfd, .events = POLLIN };
  poll (&p, 1, 10000);
  if (!got && code_of_ended_run (initfd, nookfd, code) == 0)
    return 0;
  if (!got)
    return sure ? 1 : -1;
  *code = atoi (line);
  return 0;
}
