/* cmd/supervise.c: a container's supervisor (see supervise.h).
 *
 * Its event loop polls: the signalfd (SIGCHLD: the init ended), the container's
 * output (two pipes, or the pty master), the init's "command ended" pipe, the
 * control socket and its clients.  It writes state.json at each change, and
 * answers `stop`, `wait` and `rm` only once the container's output is all in
 * the log and its end recorded. */
#include "cmd/supervise.h"
#include "cmd/events.h"
#include "cmd/freezer.h"
#include "cmd/health.h"
#include "cmd/records.h"
#include "imagefmt/store.h"
#include "sandbox/run.h"
#include "sandbox/tty.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/settle.h"
#include "util/test_hook.h"
#include "util/trace.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 32

/* ---- restart policies ---- */

int
restart_policy_parse (const char *s, struct restart_policy *out, nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (s == NULL || strcmp (s, "no") == 0 || *s == '\0')
    return 0;
  if (strcmp (s, "always") == 0)
    out->kind = RESTART_ALWAYS;
  else if (strcmp (s, "unless-stopped") == 0)
    out->kind = RESTART_UNLESS_STOPPED;
  else if (strcmp (s, "on-failure") == 0)
    out->kind = RESTART_ON_FAILURE;
  else if (str_has_prefix (s, "on-failure:"))
    {
      uint64_t n;
      cleanup_error nook_error_t e = NULL;
      if (parse_uint (s + 11, 1000000, &n, "--restart", &e) < 0)
        return nook_error_set (err, 0, "invalid restart policy '%s': the count must be a number",
                               s);
      out->kind = RESTART_ON_FAILURE;
      out->max_retries = (int)n;
    }
  else
    return nook_error_set (err, 0,
                           "invalid restart policy '%s': want no, on-failure[:max-retries], "
                           "always or unless-stopped",
                           s);
  if (out->kind != RESTART_ON_FAILURE && strchr (s, ':'))
    return nook_error_set (err, 0, "maximum retry count cannot be used with restart policy '%s'",
                           s);
  return 0;
}

const char *
restart_policy_name (enum restart_kind k)
{
  switch (k)
    {
    case RESTART_ON_FAILURE:
      return "on-failure";
    case RESTART_ALWAYS:
      return "always";
    case RESTART_UNLESS_STOPPED:
      return "unless-stopped";
    default:
      return "no";
    }
}

void
supervise_free_opts (struct supervise_opts *o)
{
  free (o->root);
  free (o->id);
  free (o->name);
  health_config_free (o->health);
  o->health = NULL;
  imagefmt_hold_release (o->hold);
  o->hold = NULL;
  if (o->store)
    imagefmt_store_close (o->store);
  o->store = NULL;
}

/* ---- the control socket ---- */

static int
socket_path (int dirfd, const char *sub, struct sockaddr_un *a, socklen_t *len)
{
  memset (a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  int n
      = sub ? snprintf (a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/%s/ctl.sock", dirfd, sub)
            : snprintf (a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/ctl.sock", dirfd);
  if (n < 0 || (size_t)n >= sizeof a->sun_path)
    return -1;
  *len = (socklen_t)(offsetof (struct sockaddr_un, sun_path) + (size_t)n + 1);
  return 0;
}

int
ctl_connect (int cdir, const char *id)
{
  struct sockaddr_un a;
  socklen_t len;
  if (socket_path (cdir, id, &a, &len) < 0)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (struct sockaddr *)&a, len) < 0)
    {
      int e = errno;
      close (fd);
      errno = e;
      return -1;
    }
  return fd;
}

int
ctl_request (int fd, const char *req, char *buf, size_t size, int timeout_ms)
{
  if (req && send (fd, req, strlen (req), MSG_NOSIGNAL) != (ssize_t)strlen (req))
    return -1;
  size_t n = 0;
  while (n + 1 < size)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int r = poll (&p, 1, timeout_ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        {
          errno = r == 0 ? ETIMEDOUT : errno;
          return -1;
        }
      ssize_t k = read (fd, buf + n, 1);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        {
          errno = EPIPE;
          return -1;
        }
      if (buf[n] == '\n')
        break;
      n++;
    }
  buf[n] = '\0';
  return (int)n;
}

int
ctl_frame_send (int fd, int type, const void *data, size_t len)
{
  unsigned char h[8] = { (unsigned char)type,
                         0,
                         0,
                         0,
                         (unsigned char)(len >> 24),
                         (unsigned char)(len >> 16),
                         (unsigned char)(len >> 8),
                         (unsigned char)len };
  struct iovec v[2] = { { h, 8 }, { (void *)data, len } };
  struct msghdr m = { .msg_iov = v, .msg_iovlen = len ? 2 : 1 };
  size_t total = 8 + len;
  while (total > 0)
    {
      ssize_t k = sendmsg (fd, &m, MSG_NOSIGNAL);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        return -1;
      total -= (size_t)k;
      while (k > 0 && m.msg_iovlen > 0)
        {
          if ((size_t)k >= m.msg_iov[0].iov_len)
            {
              k -= (ssize_t)m.msg_iov[0].iov_len;
              m.msg_iov++;
              m.msg_iovlen--;
            }
          else
            {
              m.msg_iov[0].iov_base = (char *)m.msg_iov[0].iov_base + k;
              m.msg_iov[0].iov_len -= (size_t)k;
              k = 0;
            }
        }
    }
  return 0;
}

/* ---- the supervisor ---- */

enum client_kind
{
  CL_REQUEST, /* reading its request line */
  CL_WAIT,    /* wants "exit N" at the container's next end */
  CL_STOP,    /* asked to stop: "exit N" at its end */
  CL_RM,      /* asked to remove: "removed" once gone */
  CL_ATTACH,  /* framed streams */
};

struct client
{
  int fd;
  enum client_kind kind;
  bool in, out, err;
  unsigned char buf[4096 + 8];
  size_t len;
};

struct sup
{
  struct supervise_opts *o;
  struct settle_quiet quiet; /* util/settle.h */
  int dirfd;                 /* the container directory */
  int lfd;                   /* listening control socket */
  struct logw *log;
  /* MAX_CLIENTS of them (~130 KiB) mapped apart, their pages touched only as clients
   * come: zeroed in place they were the supervisor's largest memory, and shared on
   * write with the init and the helpers forked from it, in each one's PSS */
  struct client *cl;
  int ncl;
  struct container_state st;
  bool attached, capture, detached;
  int saved[3]; /* what fds 0, 1, 2 are between runs (ours, or /dev/null) */
  int out_r, err_r, in_w, master, sigfd, notify;
  int own_sigfd;         /* detached, between runs */
  bool master_eof, gone; /* gone: the container's directory is removed */
  pid_t pid;
  bool stopping, removing, sig_asked, killed;
  int64_t kill_at; /* CLOCK_MONOTONIC ms; 0: none */
  int ready_fd;    /* detached: the caller waits here for the first start */
  bool wait_attach;
  bool awaiting_attach; /* in detached_main's wait for it: serve returns once one attaches */
  bool ended_quit;      /* leave the backoff wait */
  int64_t run_started_ms;
  struct health_mon *health; /* its healthcheck's probes (cmd/health.h), or NULL */
  struct freezer fz;         /* the container's own freezer cgroup; dir NULL: SIGSTOP */
};

static int64_t
mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
write_state (struct sup *S)
{
  cleanup_error nook_error_t e = NULL;
  if (S->dirfd >= 0 && !S->gone && container_state_write (S->dirfd, &S->st, &e) < 0)
    log_warn ("container %.12s: %s", S->o->id, e->msg);
}

static void
drop_client (struct sup *S, int i)
{
  close (S->cl[i].fd);
  S->cl[i] = S->cl[--S->ncl];
}

static void
reply_all (struct sup *S, enum client_kind kind, const char *line)
{
  for (int i = 0; i < S->ncl; i++)
    if (S->cl[i].kind == kind)
      {
        (void)!send (S->cl[i].fd, line, strlen (line), MSG_NOSIGNAL);
        drop_client (S, i--);
      }
}

static void
to_attached (struct sup *S, int stream, const char *buf, size_t n)
{
  for (int i = 0; i < S->ncl; i++)
    {
      struct client *c = &S->cl[i];
      if (c->kind != CL_ATTACH || (stream == 1 && !c->out) || (stream == 2 && !c->err))
        continue;
      if (ctl_frame_send (c->fd, stream, buf, n) < 0)
        drop_client (S, i--);
    }
}

/* Read what is there on the container's stream; false at its end. */
static bool
pump_output (struct sup *S, int fd, int stream)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return true;
      if (n <= 0)
        return false; /* EOF, or EIO on a pty whose other side is all closed */
      logw_data (S->log, stream, buf, (size_t)n);
      if (S->attached)
        fs_write_all (stream == 2 ? S->saved[2] : S->saved[1], buf, (size_t)n);
      to_attached (S, stream, buf, (size_t)n);
    }
}

static void
drain (struct sup *S)
{
  if (S->master >= 0)
    pump_output (S, S->master, 1);
  if (S->out_r >= 0)
    {
      pump_output (S, S->out_r, 1);
      close (S->out_r);
      S->out_r = -1;
    }
  if (S->err_r >= 0)
    {
      pump_output (S, S->err_r, 2);
      close (S->err_r);
      S->err_r = -1;
    }
  logw_flush (S->log);
}

/* ---- pause: SIGSTOP every process of the container but its init ---- */

/* "pid:[N]" of the container's PID namespace, read from a child of its init
 * (the init itself is not dumpable: its /proc/PID/ns cannot be read). */
static bool
container_pidns (pid_t init, char *out, size_t size)
{
  char path[64], buf[256];
  /* the command as PID 1 (no nook-init) is readable itself: in the PID namespace it
   * makes for its children (a fuse-overlayfs relay is not) */
  char kids[64];
  snprintf (path, sizeof path, "/proc/%d/ns/pid", (int)init);
  ssize_t k0 = readlink (path, out, size - 1);
  snprintf (path, sizeof path, "/proc/%d/ns/pid_for_children", (int)init);
  ssize_t k1 = k0 > 0 ? readlink (path, kids, sizeof kids - 1) : -1;
  if (k0 > 0 && k1 == k0 && memcmp (out, kids, (size_t)k0) == 0)
    {
      out[k0] = '\0';
      return true;
    }
  snprintf (path, sizeof path, "/proc/%d/task/%d/children", (int)init, (int)init);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  if (n <= 0)
    return false;
  buf[n] = '\0';
  pid_t child = (pid_t)strtol (buf, NULL, 10);
  snprintf (path, sizeof path, "/proc/%d/ns/pid", (int)child);
  ssize_t k = readlink (path, out, size - 1);
  if (k <= 0)
    return false;
  out[k] = '\0';
  return true;
}

/* Send sig to every process in the container's PID namespace but the init;
 * returns how many were not already in `seen` (added). */
static int
signal_container (struct sup *S, const char *ns, int sig, pid_t *seen, int *nseen, int max)
{
  int added = 0;
  cleanup_dir DIR *d = opendir ("/proc");
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    {
      char *end;
      long p = strtol (de->d_name, &end, 10);
      if (*end || p <= 0 || ((pid_t)p == S->pid && !S->o->spec->no_init))
        continue;
      char path[64], link[64];
      snprintf (path, sizeof path, "/proc/%ld/ns/pid", p);
      cleanup_close int pfd = (int)syscall (SYS_pidfd_open, (pid_t)p, 0);
      if (pfd < 0)
        continue;
      ssize_t k = readlink (path, link, sizeof link - 1);
      if (k <= 0)
        continue;
      link[k] = '\0';
      if (strcmp (link, ns) != 0)
        continue;
      bool known = false;
      for (int i = 0; i < *nseen; i++)
        known |= seen[i] == (pid_t)p;
      if (known && sig == SIGSTOP)
        continue;
      syscall (SYS_pidfd_send_signal, pfd, sig, NULL, 0);
      if (!known && *nseen < max)
        seen[(*nseen)++] = (pid_t)p, added++;
    }
  return added;
}

/* the fallback: SIGSTOP (until no new process appears) or SIGCONT */
static void
do_pause_signals (struct sup *S, const char *ns, bool pause)
{
  pid_t seen[4096];
  int nseen = 0;
  if (pause) /* until no new process appears (a fork between two scans) */
    for (int round = 0; round < 100 && signal_container (S, ns, SIGSTOP, seen, &nseen, 4096) > 0;
         round++)
      ;
  else
    signal_container (S, ns, SIGCONT, seen, &nseen, 4096);
}

static int
do_pause (struct sup *S, bool pause, char *why, size_t wlen)
{
  char ns[64];
  if (S->pid <= 0 || !container_pidns (S->pid, ns, sizeof ns))
    {
      snprintf (why, wlen, "container %s is not running", S->o->name ? S->o->name : S->o->id);
      return -1;
    }
  if (pause == S->st.paused)
    {
      snprintf (why, wlen, pause ? "container %s is already paused" : "container %s is not paused",
                S->o->name ? S->o->name : S->o->id);
      return -1;
    }
  if (S->fz.dir)
    {
      cleanup_error nook_error_t e = NULL;
      if (freezer_set (&S->fz, pause, &e) < 0)
        {
          snprintf (why, wlen, "%s", e->msg);
          return -1;
        }
    }
  else
    do_pause_signals (S, ns, pause);
  S->st.paused = pause;
  events_container (S->o->root, S->o->id, pause ? "pause" : "unpause", NULL);
  health_mon_pause (S->health, pause);
  snprintf (S->st.status, sizeof S->st.status, "%s", pause ? "paused" : "running");
  write_state (S);
  return 0;
}

/* ---- stop and kill ---- */

static void
send_to_init (struct sup *S, int sig)
{
  if (S->pid > 0)
    kill (S->pid, sig); /* our unreaped child: its pid cannot be reused */
}

/* A signal sent to the container: Docker's kill event. */
static void
kill_event (struct sup *S, int sig)
{
  events_container (S->o->root, S->o->id, "kill", events_attr_int ("signal", sig));
}

static void
begin_stop (struct sup *S, int sig, int timeout)
{
  S->stopping = true;
  S->st.manually_stopped = true;
  if (S->pid <= 0)
    {
      S->ended_quit = true; /* restarting: stay stopped */
      return;
    }
  kill_event (S, sig);
  send_to_init (S, sig);
  if (S->st.paused)
    {
      char why[128];
      do_pause (S, false, why, sizeof why); /* so that it can act on the signal */
    }
  if (sig == SIGKILL)
    S->killed = true;
  else if (timeout >= 0)
    {
      int64_t at = mono_ms () + (int64_t)timeout * 1000;
      if (S->kill_at == 0 || at < S->kill_at)
        S->kill_at = at;
    }
}

/* ---- requests ---- */

static void
handle_request (struct sup *S, int i, char *line)
{
  struct client *c = &S->cl[i];
  char reply[256];
  int sig, t;
  if (strcmp (line, "wait") == 0)
    {
      c->kind = CL_WAIT;
      return;
    }
  if (sscanf (line, "stop %d %d", &sig, &t) == 2)
    {
      c->kind = CL_STOP;
      begin_stop (S, sig, t);
      return;
    }
  if (strcmp (line, "rm") == 0)
    {
      c->kind = CL_RM;
      S->removing = true;
      begin_stop (S, SIGKILL, 0);
      return;
    }
  if (sscanf (line, "kill %d", &sig) == 1)
    {
      if (S->pid <= 0)
        snprintf (reply, sizeof reply, "err container %s is not running\n",
                  S->o->name ? S->o->name : S->o->id);
      else
        {
          if (sig == SIGKILL)
            {
              S->st.manually_stopped = S->stopping = true;
              S->killed = true;
            }
          kill_event (S, sig);
          send_to_init (S, sig);
          snprintf (reply, sizeof reply, "ok\n");
        }
    }
  else if (strcmp (line, "pause") == 0 || strcmp (line, "unpause") == 0)
    {
      char why[200];
      if (do_pause (S, line[0] == 'p', why, sizeof why) < 0)
        snprintf (reply, sizeof reply, "err %s\n", why);
      else
        snprintf (reply, sizeof reply, "ok\n");
    }
  else if (str_has_prefix (line, "attach "))
    {
      c->kind = CL_ATTACH;
      c->in = strchr (line + 7, 'i') != NULL;
      c->out = strchr (line + 7, 'o') != NULL;
      c->err = strchr (line + 7, 'e') != NULL;
      int rows = 0, cols = 0;
      if (sscanf (line + 7, "%*s %d %d", &rows, &cols) == 2 && rows > 0 && S->pid <= 0)
        {
          /* not started yet (run -it, start -a): the pty gets this size first */
          S->o->spec->tty_rows = (unsigned short)rows;
          S->o->spec->tty_cols = (unsigned short)cols;
        }
      else if (rows > 0 && S->master >= 0)
        {
          struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
          ioctl (S->master, TIOCSWINSZ, &ws);
        }
      return; /* (what followed the request in c->buf is framed input: client_input) */
    }
  else
    snprintf (reply, sizeof reply, "err unknown request\n");
  (void)!send (c->fd, reply, strlen (reply), MSG_NOSIGNAL);
  drop_client (S, i);
}

/* The frames an attached client sent: its input goes to the container (the pty, or the
 * stdin pipe), in order.  While no container runs (run -it and start -a attach before
 * the start; a restart's back-off) they wait in the client's buffer, so that what was
 * typed or piped early is not lost; on_started delivers them.  False on a bad frame. */
static bool
attach_frames (struct sup *S, struct client *c)
{
  while (c->len >= 8 && S->pid > 0)
    {
      size_t len = ((size_t)c->buf[4] << 24) | ((size_t)c->buf[5] << 16) | ((size_t)c->buf[6] << 8)
                   | c->buf[7];
      if (len > sizeof c->buf - 8)
        return false;
      if (c->len < 8 + len)
        break;
      unsigned char *p = c->buf + 8;
      if (c->buf[0] == FRAME_STDIN && c->in)
        {
          int to = S->master >= 0 ? S->master : S->in_w;
          if (to >= 0)
            fs_write_all (to, p, len);
        }
      else if (c->buf[0] == FRAME_CLOSE && c->in && S->in_w >= 0)
        {
          close (S->in_w);
          S->in_w = -1;
        }
      else if (c->buf[0] == FRAME_RESIZE && S->master >= 0)
        {
          char t[32];
          int rows, cols;
          snprintf (t, sizeof t, "%.*s", (int)(len < 31 ? len : 31), (char *)p);
          if (sscanf (t, "%d %d", &rows, &cols) == 2)
            {
              struct winsize ws
                  = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
              ioctl (S->master, TIOCSWINSZ, &ws);
            }
        }
      memmove (c->buf, c->buf + 8 + len, c->len - 8 - len);
      c->len -= 8 + len;
    }
  return true;
}

/* Input of an attached client (poll said revents).  False when it has gone. */
static bool
attach_input (struct sup *S, struct client *c, short revents)
{
  if (c->len == sizeof c->buf)
    /* full of frames waiting for the start (not polled for input meanwhile) */
    return (revents & (POLLHUP | POLLERR)) == 0;
  ssize_t n = recv (c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  if (n <= 0)
    return false;
  c->len += (size_t)n;
  return attach_frames (S, c);
}

static void
client_input (struct sup *S, int i, short revents)
{
  struct client *c = &S->cl[i];
  if (c->kind == CL_ATTACH)
    {
      if (!attach_input (S, c, revents))
        drop_client (S, i);
      return;
    }
  ssize_t n = recv (c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0 || c->kind != CL_REQUEST)
    {
      /* a waiter that hangs up is gone; a stop or rm it asked for goes on */
      drop_client (S, i);
      return;
    }
  c->len += (size_t)n;
  c->buf[c->len] = '\0';
  char *nl = memchr (c->buf, '\n', c->len);
  if (nl == NULL)
    {
      if (c->len >= sizeof c->buf - 1)
        drop_client (S, i);
      return;
    }
  *nl = '\0';
  size_t rest = c->len - (size_t)((unsigned char *)nl + 1 - c->buf);
  char line[256];
  snprintf (line, sizeof line, "%.255s", (char *)c->buf); /* (a longer line is cut) */
  memmove (c->buf, nl + 1, rest);
  c->len = rest;
  int fd = c->fd;
  handle_request (S, i, line);
  /* an attach request: the frames that came with it are the client's first input */
  if (i < S->ncl && S->cl[i].fd == fd && S->cl[i].kind == CL_ATTACH
      && !attach_frames (S, &S->cl[i]))
    drop_client (S, i);
}

static void
accept_clients (struct sup *S)
{
  for (;;)
    {
      int fd = accept4 (S->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        return;
      if (S->ncl == MAX_CLIENTS)
        {
          close (fd);
          continue;
        }
      /* replies and frames are written blocking, with a bound */
      fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
      struct timeval tv = { .tv_sec = 5 };
      setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      S->cl[S->ncl++] = (struct client){ .fd = fd, .kind = CL_REQUEST };
    }
}

/* ---- signals ---- */

static bool
is_stop_signal (int sig)
{
  return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT;
}

static void
on_signal (struct sup *S, int sig)
{
  if (sig == SIGWINCH)
    {
      if (S->attached && S->master >= 0)
        sandbox_tty_copy_winsize (0, S->master);
      return;
    }
  if (S->pid <= 0)
    {
      if (sig == SIGINT || sig == SIGTERM)
        begin_stop (S, SIGTERM, 0);
      return;
    }
  if (!S->attached)
    {
      /* A detached supervisor told to end stops its container, as a daemon would. */
      if (sig == SIGINT || sig == SIGTERM)
        begin_stop (S, S->o->stop_signal, S->o->stop_timeout);
      else
        send_to_init (S, sig);
      return;
    }
  /* Docker's sig-proxy: the first INT, TERM, HUP or QUIT goes to the command;
   * --stop-timeout later, or at a second INT or TERM, the container is killed. */
  if (is_stop_signal (sig) && S->sig_asked && (sig == SIGINT || sig == SIGTERM))
    {
      send_to_init (S, SIGKILL);
      S->killed = true;
      return;
    }
  if (is_stop_signal (sig) && !S->sig_asked)
    {
      S->sig_asked = true;
      if (S->o->stop_timeout >= 0)
        S->kill_at = mono_ms () + (int64_t)S->o->stop_timeout * 1000;
    }
  send_to_init (S, sig);
}

/* ---- the loop ---- */

/* Serve until the init is reaped (returns its wait status), or, with no
 * container, until deadline_ms (CLOCK_MONOTONIC) or a stop (returns -1). */
static int
serve (struct sup *S, int64_t deadline_ms)
{
  bool stdin_open = false, notified = false;
  for (;;)
    {
      if (S->awaiting_attach)
        for (int i = 0; i < S->ncl; i++)
          if (S->cl[i].kind == CL_ATTACH)
            return 0;
      struct pollfd p[11 + MAX_CLIENTS];
      int n = 0;
      int i_sig = -1, i_not = -1, i_mas = -1, i_out = -1, i_err = -1, i_lis = -1, i_in = -1;
      int i_net = -1, wfd = S->o->network_watch ? S->o->network_watch (S->o->data) : -1;
      if (wfd >= 0)
        i_net = n, p[n++] = (struct pollfd){ .fd = wfd, .events = POLLIN };
      int sigfd = S->sigfd >= 0 ? S->sigfd : S->own_sigfd;
      if (sigfd >= 0)
        i_sig = n, p[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
      if (S->notify >= 0 && !notified)
        i_not = n, p[n++] = (struct pollfd){ .fd = S->notify, .events = POLLIN };
      if (S->master >= 0 && !S->master_eof)
        i_mas = n, p[n++] = (struct pollfd){ .fd = S->master, .events = POLLIN };
      if (S->out_r >= 0)
        i_out = n, p[n++] = (struct pollfd){ .fd = S->out_r, .events = POLLIN };
      if (S->err_r >= 0)
        i_err = n, p[n++] = (struct pollfd){ .fd = S->err_r, .events = POLLIN };
      if (S->lfd >= 0)
        i_lis = n, p[n++] = (struct pollfd){ .fd = S->lfd, .events = POLLIN };
      if (stdin_open)
        i_in = n, p[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
      int first_client = n;
      for (int i = 0; i < S->ncl; i++)
        {
          /* an attached client whose buffer is full of input waiting for the start:
           * not read (it waits in the socket), only its hang-up is seen */
          bool full = S->cl[i].kind == CL_ATTACH && S->cl[i].len == sizeof S->cl[i].buf;
          p[n++] = (struct pollfd){ .fd = S->cl[i].fd, .events = full ? 0 : POLLIN };
        }
      int i_health = n;
      n += health_mon_pollfds (S->health, p + n);

      int64_t now = mono_ms (), until = -1;
      if (S->pid > 0 && S->kill_at && !S->killed)
        until = S->kill_at;
      if (S->pid <= 0 && deadline_ms > 0 && (until < 0 || deadline_ms < until))
        until = deadline_ms;
      int64_t health_at = S->pid > 0 ? health_mon_deadline (S->health) : -1;
      if (health_at >= 0 && (until < 0 || health_at < until))
        until = health_at;
      int timeout = until < 0 ? -1 : until <= now ? 0 : (int)(until - now);
      /* quiet for a second while the container runs: what start-up left mapped
       * is given back (once a quiet spell) */
      if (S->pid > 0)
        timeout = settle_quiet_timeout (&S->quiet, timeout);
      int r = poll (p, (nfds_t)n, timeout);
      if (r < 0 && errno != EINTR)
        return -1;
      if (S->pid > 0)
        settle_quiet_after (&S->quiet, r);
      now = mono_ms ();
      if (S->pid > 0 && S->kill_at && !S->killed && now >= S->kill_at)
        {
          log_debug ("killing the container (stop timeout)");
          send_to_init (S, SIGKILL);
          S->killed = true;
        }
      if (S->pid <= 0 && (S->ended_quit || (deadline_ms > 0 && now >= deadline_ms)))
        return -1;
      if (S->pid > 0)
        health_mon_handle (S->health, p + i_health, n - i_health, S->st.paused);
      if (r <= 0)
        continue;
      if (i_out >= 0 && p[i_out].revents && !pump_output (S, S->out_r, 1))
        {
          close (S->out_r);
          S->out_r = -1;
        }
      if (i_err >= 0 && p[i_err].revents && !pump_output (S, S->err_r, 2))
        {
          close (S->err_r);
          S->err_r = -1;
        }
      if (i_mas >= 0 && p[i_mas].revents && !pump_output (S, S->master, 1))
        S->master_eof = true;
      if (i_in >= 0 && p[i_in].revents)
        (void)0;
      if (i_net >= 0 && p[i_net].revents && S->o->network_lost)
        {
          cleanup_free char *said = S->o->network_lost (S->o->data);
          if (said)
            {
              logw_data (S->log, 2, said, strlen (said));
              if (S->attached)
                fs_write_all (S->saved[2], said, strlen (said));
              to_attached (S, 2, said, strlen (said));
            }
        }
      if (i_not >= 0 && p[i_not].revents)
        {
          unsigned char c;
          ssize_t k = read (S->notify, &c, 1);
          notified = true; /* (the fd is sandbox_run's to close) */
          if (S->o->ephemeral)
            {
              S->gone = true; /* the directory is being emptied for the pool */
              unlinkat (S->dirfd, "ctl.sock", 0);
            }
          if (k == 1 && S->o->command_ended)
            S->o->command_ended (S->o->data, c);
        }
      /* clients before the listener: accepting moves the array */
      for (int i = S->ncl - 1; i >= 0; i--)
        if (first_client + i < n && p[first_client + i].revents)
          client_input (S, i, p[first_client + i].revents);
      if (i_lis >= 0 && (p[i_lis].revents & POLLIN))
        accept_clients (S);
      if (i_sig >= 0 && (p[i_sig].revents & POLLIN))
        {
          struct signalfd_siginfo si;
          while (read (sigfd, &si, sizeof si) == sizeof si)
            if ((int)si.ssi_signo != SIGCHLD)
              on_signal (S, (int)si.ssi_signo);
          int st;
          if (S->pid > 0 && waitpid (S->pid, &st, WNOHANG) == S->pid)
            return st;
        }
      if (S->pid <= 0 && S->ended_quit)
        return -1;
    }
}

/* The caller may be gone (killed while it waited): no SIGPIPE for that. */
static void
send_ready (int fd, const char *msg, size_t len)
{
  while (len > 0)
    {
      ssize_t k = send (fd, msg, len, MSG_NOSIGNAL);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        return;
      msg += k;
      len -= (size_t)k;
    }
}

static void
report_ready (struct sup *S, const struct nook_error *e)
{
  if (S->ready_fd >= 0)
    {
      cleanup_free char *msg
          = e ? xasprintf ("E %d %d %s", e->exit ? e->exit : 125, e->code, e->msg ? e->msg : "")
              : xstrdup ("OK");
      send_ready (S->ready_fd, msg, strlen (msg));
      close (S->ready_fd);
      S->ready_fd = -1;
    }
  for (int i = 0; i < S->ncl; i++)
    if (S->cl[i].kind == CL_ATTACH)
      {
        cleanup_free char *msg = e ? xasprintf ("%d %s", e->exit ? e->exit : 125, e->msg) : NULL;
        if (e)
          ctl_frame_send (S->cl[i].fd, FRAME_ERROR, msg, strlen (msg));
        else
          ctl_frame_send (S->cl[i].fd, FRAME_STARTED, NULL, 0);
      }
}

/* fds 0-2 as they are between runs */
static void
restore_stdio (struct sup *S)
{
  for (int i = 0; i < 3; i++)
    if (S->saved[i] >= 0)
      dup2 (S->saved[i], i);
}

/* The run's network hook, with the run's data (the helpers are this process's children:
 * they end with it) */
static int
on_network (void *data, const struct sandbox_netns *ns, nook_error_t *err)
{
  struct sup *S = data;
  return S->o->network (S->o->data, ns, err);
}

static int
on_started (void *data, const struct sandbox_started *s)
{
  struct sup *S = data;
  restore_stdio (S);
  S->pid = s->pid;
  S->master = s->master;
  S->notify = s->notify;
  S->sigfd = s->sigfd;
  fcntl (S->sigfd, F_SETFL, fcntl (S->sigfd, F_GETFL) | O_NONBLOCK);
  S->master_eof = false;
  S->killed = false;
  S->kill_at = 0;
  S->sig_asked = false;
  if (S->master >= 0)
    fcntl (S->master, F_SETFL, fcntl (S->master, F_GETFL) | O_NONBLOCK);
  /* what attached clients sent before the start: to the container now, in order */
  for (int i = 0; i < S->ncl; i++)
    if (S->cl[i].kind == CL_ATTACH && !attach_frames (S, &S->cl[i]))
      drop_client (S, i--);
  S->st.pid = s->pid;
  S->st.pid_start = container_proc_start (s->pid);
  S->st.started_ns = realtime_ns ();
  S->st.exit_code = 0;
  S->st.paused = false;
  free (S->st.error);
  S->st.error = NULL;
  snprintf (S->st.status, sizeof S->st.status, "running");
  health_mon_begin (S->health, s->pid, S->st.started_ns);
  S->quiet = (struct settle_quiet)SETTLE_QUIET_INIT (-1); /* (each run its own spells) */
  write_state (S);
  events_container (S->o->root, S->o->id, "start", NULL);
  events_container_volumes (S->o->root, S->o->id, true);
  S->run_started_ms = mono_ms ();
  report_ready (S, NULL);
  trace_mark ("supervisor: started, caller told");
  int st = serve (S, 0);
  /* unhealthy once ended (Docker's rule), written after state.json says so */
  health_mon_end (S->health, true);
  drain (S);
  S->notify = -1; /* (sandbox_run closes it and the master) */
  S->master = -1;
  S->pid = 0;
  S->sigfd = -1;
  if (st < 0)
    return 125;
  return WIFEXITED (st) ? WEXITSTATUS (st) : WIFSIGNALED (st) ? 128 + WTERMSIG (st) : 125;
}

/* One run of the container: fresh pipes, sandbox_run, the loop above. */
static int
run_once (struct sup *S, nook_error_t *err)
{
  int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
  if (S->o->network_enter && S->o->network_enter (S->o->data, S->o->spec, err) < 0)
    return -1;
  if (S->capture
      && (pipe2 (outp, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2 (errp, O_CLOEXEC | O_NONBLOCK) < 0))
    return nook_error_set (err, errno, "create the container's output pipes");
  if (S->detached && S->o->spec->interactive && !S->o->spec->tty && pipe2 (inp, O_CLOEXEC) < 0)
    return nook_error_set (err, errno, "create the container's input pipe");
  /* the pipes' write ends become the container's stdout and stderr; the read
   * ends stay non-blocking (O_NONBLOCK is the file's: set before the dup) */
  if (outp[1] >= 0)
    {
      fcntl (outp[1], F_SETFL, 0);
      fcntl (errp[1], F_SETFL, 0);
      dup2 (outp[1], 1);
      dup2 (errp[1], 2);
      close (outp[1]);
      close (errp[1]);
    }
  if (inp[0] >= 0)
    {
      dup2 (inp[0], 0);
      close (inp[0]);
      S->in_w = inp[1];
    }
  S->out_r = outp[0];
  S->err_r = errp[0];
  struct sandbox_hooks hooks
      = { .supervise = on_started, .network = S->o->network ? on_network : NULL, .data = S };
  cleanup_close int procs = -1, cgdir = -1;
  if (S->fz.dir)
    {
      procs = freezer_open_procs (&S->fz, err);
      if (procs < 0)
        return -1;
      cgdir = freezer_open_clone_dir (&S->fz); /* (v2; procs only if the clone fails) */
    }
  S->o->spec->cgroup_procs_fd = procs;
  S->o->spec->cgroup_dir_fd = cgdir;
  trace_mark ("supervisor: sandbox_run");
  int rc = sandbox_run (S->o->spec, &hooks, err);
  S->o->spec->cgroup_procs_fd = -1;
  S->o->spec->cgroup_dir_fd = -1;
  restore_stdio (S);
  if (S->out_r >= 0)
    close (S->out_r);
  if (S->err_r >= 0)
    close (S->err_r);
  if (S->in_w >= 0)
    close (S->in_w);
  S->out_r = S->err_r = S->in_w = -1;
  return rc;
}

static bool
should_restart (struct sup *S, int code)
{
  if (S->stopping || S->removing)
    return false;
  switch (S->o->restart.kind)
    {
    case RESTART_ALWAYS:
    case RESTART_UNLESS_STOPPED:
      return true;
    case RESTART_ON_FAILURE:
      return code != 0
             && (S->o->restart.max_retries == 0 || S->st.restart_count < S->o->restart.max_retries);
    default:
      return false;
    }
}

static int
listen_control (struct sup *S, nook_error_t *err)
{
  struct sockaddr_un a;
  socklen_t len;
  if (socket_path (S->dirfd, NULL, &a, &len) < 0)
    return nook_error_set (err, ENAMETOOLONG, "control socket path");
  unlinkat (S->dirfd, "ctl.sock", 0);
  S->lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (S->lfd < 0 || bind (S->lfd, (struct sockaddr *)&a, len) < 0 || listen (S->lfd, 16) < 0)
    return nook_error_set (err, errno, "listen on the container's control socket");
  return 0;
}

/* The container ended for good: answer everyone, remove it if asked. */
static void
finish (struct sup *S, int code)
{
  char line[64];
  snprintf (line, sizeof line, "exit %d\n", code);
  if (S->removing || S->o->auto_remove)
    {
      cleanup_error nook_error_t e = NULL;
      unlinkat (S->dirfd, "ctl.sock", 0);
      logw_close (S->log);
      S->log = NULL;
      S->gone = true; /* no more state writes: the directory goes */
      if (container_remove (S->o->root, S->o->id, &S->o->ids0, &e) < 0)
        log_warn ("could not remove container %.12s: %s", S->o->id, e->msg);
    }
  else if (!S->gone)
    unlinkat (S->dirfd, "ctl.sock", 0);
  for (int i = 0; i < S->ncl; i++)
    if (S->cl[i].kind == CL_ATTACH)
      {
        char c[16];
        snprintf (c, sizeof c, "%d", code);
        ctl_frame_send (S->cl[i].fd, FRAME_EXIT, c, strlen (c));
      }
  reply_all (S, CL_WAIT, line);
  reply_all (S, CL_STOP, line);
  reply_all (S, CL_RM, "removed\n");
  while (S->ncl > 0)
    drop_client (S, 0);
  if (S->lfd >= 0)
    close (S->lfd);
  S->lfd = -1;
}

/* Docker's back-off: 100 ms, doubled at each restart up to a minute, back to
 * 100 ms once a run lasted 10 s. */
static int64_t
next_delay (int64_t prev, int64_t ran_ms)
{
  if (ran_ms >= 10000 || prev <= 0)
    return 100;
  return prev * 2 > 60000 ? 60000 : prev * 2;
}

/* The supervisor's life: runs (and restarts) the container; returns its last
 * exit code, or -1 with *err when the first start failed. */
static int
supervise (struct sup *S, nook_error_t *err)
{
  int64_t delay = 0;
  bool first = true;
  for (;;)
    {
      cleanup_error nook_error_t rerr = NULL;
      int code = run_once (S, &rerr);
      if (S->o->network_exit)
        {
          /* the network is left unless the container starts again */
          int c = code >= 0 ? code : rerr->exit ? rerr->exit : 125;
          S->o->network_exit (S->o->data, (code < 0 && first) || !should_restart (S, c));
        }
      if (code < 0)
        {
          S->st.exit_code = rerr->exit ? rerr->exit : 125;
          S->st.error = xstrdup (rerr->msg ? rerr->msg : "");
          S->st.finished_ns = realtime_ns ();
          snprintf (S->st.status, sizeof S->st.status, "exited");
          if (first)
            {
              write_state (S);
              report_ready (S, rerr);
              *err = steal_pointer (&rerr);
              finish (S, S->st.exit_code);
              return -1;
            }
          code = S->st.exit_code;
        }
      first = false;
      events_container (S->o->root, S->o->id, "die", events_attr_int ("exitCode", code));
      events_container_volumes (S->o->root, S->o->id, false);
      if (S->stopping && !S->removing)
        events_container (S->o->root, S->o->id, "stop", NULL);
      S->st.exit_code = code;
      S->st.finished_ns = realtime_ns ();
      S->st.pid = 0;
      S->st.paused = false;
      if (should_restart (S, code))
        {
          delay = next_delay (delay, mono_ms () - S->run_started_ms);
          snprintf (S->st.status, sizeof S->st.status, "restarting");
          write_state (S);
          if (!S->gone)
            health_mon_flush (S->health);
          char line[64];
          snprintf (line, sizeof line, "exit %d\n", code);
          reply_all (S, CL_WAIT, line);
          serve (S, mono_ms () + delay);
          if (!S->ended_quit)
            {
              S->st.restart_count++;
              continue;
            }
          if (S->o->network_exit)
            S->o->network_exit (S->o->data, true); /* stopped while it waited */
        }
      snprintf (S->st.status, sizeof S->st.status, "exited");
      write_state (S);
      if (!S->gone)
        health_mon_flush (S->health);
      finish (S, code);
      test_hook ("supervisor-finished"); /* clients told, lock still held */
      return code;
    }
}

static int
sup_init (struct sup *S, struct supervise_opts *o, nook_error_t *err)
{
  bool attached = S->attached;
  memset (S, 0, sizeof *S);
  S->attached = attached;
  S->o = o;
  S->lfd = S->out_r = S->err_r = S->in_w = S->master = S->sigfd = S->notify = S->ready_fd = -1;
  S->own_sigfd = S->dirfd = -1;
  S->saved[0] = S->saved[1] = S->saved[2] = -1;
  S->quiet = (struct settle_quiet)SETTLE_QUIET_INIT (-1);
  S->cl = mmap (NULL, MAX_CLIENTS * sizeof *S->cl, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (S->cl == MAP_FAILED)
    {
      S->cl = NULL;
      return nook_error_set (err, errno, "mmap");
    }
  S->dirfd = o->lock_fd >= 0 ? take_fd (&o->lock_fd) : supervise_lock (o->spec->container_dir, err);
  if (S->dirfd < 0)
    return -1;
  S->st.sup_pid = getpid ();
  S->st.sup_start = container_proc_start (getpid ());
  S->st.restart_count = o->restart_count;
  snprintf (S->st.status, sizeof S->st.status, "starting");
  if (listen_control (S, err) < 0)
    return -1;
  if (o->health)
    S->health = health_mon_new (o->health, o->spec, S->dirfd);
  health_mon_events (S->health, o->root, o->id);
  {
    /* a delegated freezer for pause (cmd/freezer.h), else SIGSTOP */
    struct freezer base;
    cleanup_free char *why = NULL;
    cleanup_error nook_error_t e = NULL;
    if (freezer_find (&base, &why) == 0)
      {
        freezer_name (&base, o->id, &S->fz);
        freezer_free (&base);
      }
    else
      log_debug ("pause falls back to SIGSTOP: %s", why);
    S->st.cgroup = S->fz.dir;
    /* listening, then recorded: whoever sees "starting" with our pid can ask us (a
     * foreground run records itself once running: its caller is there to see it fail);
     * the record names the cgroup before it exists (rm removes it if we are killed) */
    if (!S->attached)
      write_state (S);
    if (S->fz.dir && freezer_make (&S->fz, &e) < 0)
      {
        log_debug ("pause falls back to SIGSTOP: %s", e->msg);
        S->st.cgroup = NULL;
      }
    test_hook ("supervisor-cgroup-made");
  }
  if (!o->log.none && (S->capture || S->detached))
    {
      S->log = logw_open (S->dirfd, o->id, &o->log, err);
      if (S->log == NULL)
        return -1;
    }
  return 0;
}

static void
sup_free (struct sup *S)
{
  health_mon_free (S->health);
  S->health = NULL;
  logw_close (S->log);
  for (int i = 0; i < 3; i++)
    if (S->saved[i] >= 0)
      close (S->saved[i]);
  if (S->dirfd >= 0)
    close (S->dirfd);
  if (S->lfd >= 0)
    close (S->lfd);
  while (S->ncl > 0)
    drop_client (S, 0);
  if (S->cl)
    munmap (S->cl, MAX_CLIENTS * sizeof *S->cl);
  S->cl = NULL;
  S->st.cgroup = NULL;
  freezer_remove (&S->fz);
  container_state_clear (&S->st);
}

int
supervise_foreground (struct supervise_opts *o, bool capture, nook_error_t *err)
{
  struct sup S;
  o->lock_fd = -1;
  int rc = -1;
  memset (&S, 0, sizeof S);
  S.attached = true;
  if (sup_init (&S, o, err) == 0)
    {
      S.capture = capture;
      if (capture && !o->log.none && S.log == NULL)
        S.log = logw_open (S.dirfd, o->id, &o->log, err);
      S.saved[1] = fcntl (1, F_DUPFD_CLOEXEC, 3);
      S.saved[2] = fcntl (2, F_DUPFD_CLOEXEC, 3);
      rc = (capture && !o->log.none && S.log == NULL) ? -1 : supervise (&S, err);
    }
  sup_free (&S);
  return rc;
}

int
supervise_lock (const char *dir, nook_error_t *err)
{
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", dir);
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    return nook_error_set (err, errno == EWOULDBLOCK ? EBUSY : errno,
                           "the container is already running");
  return take_fd (&fd);
}

/* ---- the detached supervisor ---- */

/* Close every fd we inherited from our caller: nook opens all of its own
 * O_CLOEXEC, so those without the flag (0-2 aside) are the caller's. */
static void
close_inherited_fds (void)
{
  cleanup_dir DIR *d = opendir ("/proc/self/fd");
  int self = d ? dirfd (d) : -1;
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    {
      int fd = atoi (de->d_name);
      if (de->d_name[0] == '.' || fd <= 2 || fd == self)
        continue;
      int fl = fcntl (fd, F_GETFD);
      if (fl >= 0 && !(fl & FD_CLOEXEC))
        close (fd);
    }
}

__attribute__ ((noreturn)) static void
detached_main (struct supervise_opts *o, int ready_fd, bool wait_attach)
{
  struct sup S = { 0 }; /* (not attached: sup_init keeps what the caller says) */
  cleanup_error nook_error_t err = NULL;
  trace_mark ("supervisor: forked");
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    _exit (125);
  for (int i = 0; i < 3; i++)
    dup2 (null, i); /* the caller's terminal or pipes: gone */
  close_inherited_fds ();
  if (o->store)
    imagefmt_store_close (o->store);
  o->store = NULL;
  prctl (PR_SET_NAME, "nook-supervise");
  /* A stop asked of the supervisor itself (INT, TERM) while no container runs
   * (restart back-off) is heard on this signalfd; sandbox_run has its own. */
  sigset_t mask;
  sigemptyset (&mask);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGHUP);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  int own_sigfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  /* A write to a container's closed stdin, or to a client gone, must not end
   * us: EPIPE instead (the mask is the container's only until it resets it;
   * a pending signal is not inherited). */
  sigset_t pipe_mask;
  sigemptyset (&pipe_mask);
  sigaddset (&pipe_mask, SIGPIPE);
  sigprocmask (SIG_BLOCK, &pipe_mask, NULL);
  if (sup_init (&S, o, &err) < 0)
    {
      send_ready (ready_fd, "E 125 0 ", 8);
      send_ready (ready_fd, err->msg, strlen (err->msg));
      _exit (125);
    }
  trace_mark ("supervisor: set up");
  S.detached = true;
  S.capture = true;
  S.own_sigfd = own_sigfd;
  S.ready_fd = ready_fd;
  S.wait_attach = wait_attach;
  if (S.log == NULL && !o->log.none)
    {
      S.log = logw_open (S.dirfd, o->id, &o->log, &err);
      if (S.log == NULL)
        nook_error_free (&err);
    }
  for (int i = 0; i < 3; i++)
    S.saved[i] = fcntl (null, F_DUPFD_CLOEXEC, 3);
  close (null);
  if (wait_attach)
    {
      /* the socket listens: tell the caller, then wait for its attach */
      send_ready (ready_fd, "L", 1);
      close (ready_fd);
      S.ready_fd = -1;
      S.pid = 0;
      S.awaiting_attach = true;
      serve (&S, mono_ms () + 30000); /* (returns as soon as the client attaches) */
      S.awaiting_attach = false;
    }
  int rc = S.ended_quit ? 0 : supervise (&S, &err);
  sup_free (&S);
  supervise_free_opts (o);
  _exit (rc < 0 ? 125 : 0);
}

int
supervise_detached (struct supervise_opts *o, bool wait_attach, nook_error_t *err)
{
  int ready[2];
  /* Locked before the fork, so that no `rm` or `start` slips in while the
   * supervisor starts: the lock is the supervisor's once we are gone. */
  o->lock_fd = supervise_lock (o->spec->container_dir, err);
  if (o->lock_fd < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ready) < 0)
    {
      close (take_fd (&o->lock_fd));
      return nook_error_set (err, errno, "create a socket pair");
    }
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (ready[0]);
      close (ready[1]);
      return nook_error_set (err, errno, "fork the container's supervisor");
    }
  if (pid == 0)
    {
      close (ready[0]);
      setsid ();
      pid_t p2 = fork ();
      if (p2 != 0)
        _exit (p2 < 0 ? 125 : 0);
      detached_main (o, ready[1], wait_attach);
    }
  close (ready[1]);
  close (take_fd (&o->lock_fd));
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  test_hook ("supervisor-forked");
  char buf[4096];
  size_t n = 0;
  for (;;)
    {
      ssize_t k = read (ready[0], buf + n, sizeof buf - 1 - n);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        break;
      n += (size_t)k;
      if (n == sizeof buf - 1)
        break;
    }
  close (ready[0]);
  buf[n] = '\0';
  if (n >= 1 && (buf[0] == 'L' || strcmp (buf, "OK") == 0))
    return 0;
  int ex = 125, code = 0, off = 0;
  if (n > 2 && buf[0] == 'E' && sscanf (buf, "E %d %d %n", &ex, &code, &off) >= 2)
    return nook_error_set_exit (err, ex, code, "%s", buf + off);
  return nook_error_set (err, 0, "the container's supervisor ended before starting it");
}
