/* cmd/attach.c: the client side of an attached container (run -it, start -a,
 * attach): our stdin to the container (raw when it is a terminal and the
 * container has one), its output to our stdout and stderr, window size
 * changes, and the detach keys (Ctrl-P Ctrl-Q, or --detach-keys). */
#include "cmd/lifecycle.h"
#include "sandbox/tty.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Docker's --detach-keys: "ctrl-p,ctrl-q" (default), "ctrl-x", "a", ... */
static int
parse_keys (const char *spec, unsigned char *keys, size_t max, size_t *n, nook_error_t *err)
{
  *n = 0;
  cleanup_free char *copy = xstrdup (spec && *spec ? spec : "ctrl-p,ctrl-q");
  char *save = NULL;
  for (char *k = strtok_r (copy, ",", &save); k; k = strtok_r (NULL, ",", &save))
    {
      if (*n == max)
        return nook_error_set (err, 0, "invalid detach keys: %s", spec);
      if (strlen (k) == 1)
        keys[(*n)++] = (unsigned char)k[0];
      else if (strncmp (k, "ctrl-", 5) == 0 && strlen (k) == 6)
        {
          char c = k[5];
          if (c >= 'a' && c <= 'z')
            keys[(*n)++] = (unsigned char)(c - 'a' + 1);
          else if (c == '@')
            keys[(*n)++] = 0;
          else if (c >= '[' && c <= '_')
            keys[(*n)++] = (unsigned char)(c - '[' + 27);
          else
            return nook_error_set (err, 0, "invalid detach keys: %s", spec);
        }
      else
        return nook_error_set (err, 0, "invalid detach keys: %s", spec);
    }
  return 0;
}

static void
send_size (int fd)
{
  struct winsize ws;
  if (ioctl (0, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
    {
      char b[32];
      int n = snprintf (b, sizeof b, "%u %u", ws.ws_row, ws.ws_col);
      ctl_frame_send (fd, FRAME_RESIZE, b, (size_t)n);
    }
}

struct frames
{
  unsigned char buf[65536 + 8];
  size_t len;
};

/* Handle what the supervisor sent: >= 0 the container's exit code, -2 more to
 * come, -1 with *err (its start failed). */
static int
read_frames (int fd, struct frames *f, bool *started, nook_error_t *err)
{
  ssize_t n = read (fd, f->buf + f->len, sizeof f->buf - f->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return -2;
  if (n <= 0)
    return nook_error_set (err, 0, "the container's supervisor went away");
  f->len += (size_t)n;
  while (f->len >= 8)
    {
      size_t len = ((size_t)f->buf[4] << 24) | ((size_t)f->buf[5] << 16) | ((size_t)f->buf[6] << 8)
                   | f->buf[7];
      if (len > sizeof f->buf - 8)
        return nook_error_set (err, EPROTO, "a bad frame from the container's supervisor");
      if (f->len < 8 + len)
        break;
      int type = f->buf[0];
      char *p = (char *)f->buf + 8;
      char text[4096];
      snprintf (text, sizeof text, "%.*s", (int)(len < sizeof text ? len : sizeof text - 1), p);
      if (type == FRAME_STDOUT || type == FRAME_STDERR)
        fs_write_all (type == FRAME_STDERR ? 2 : 1, p, len);
      else if (type == FRAME_STARTED)
        *started = true;
      else if (type == FRAME_EXIT)
        return atoi (text);
      else if (type == FRAME_ERROR)
        {
          int ex = 125, off = 0;
          sscanf (text, "%d %n", &ex, &off);
          return nook_error_set_exit (err, ex, 0, "%s", text + off);
        }
      memmove (f->buf, f->buf + 8 + len, f->len - 8 - len);
      f->len -= 8 + len;
    }
  return -2;
}

int
attach_streams (int fd, bool in, bool tty, const char *detach_keys, bool *detached,
                nook_error_t *err)
{
  unsigned char keys[16];
  size_t nkeys = 0, matched = 0;
  *detached = false;
  if (parse_keys (detach_keys, keys, sizeof keys, &nkeys, err) < 0)
    return -1;
  struct winsize ws = { 0 };
  bool term = isatty (0) && ioctl (0, TIOCGWINSZ, &ws) == 0;
  cleanup_free char *req = xasprintf ("attach %s%s %u %u\n", in ? "i" : "", "oe",
                                      term ? ws.ws_row : 0, term ? ws.ws_col : 0);
  sigset_t mask, old;
  sigemptyset (&mask);
  sigaddset (&mask, SIGWINCH);
  sigprocmask (SIG_BLOCK, &mask, &old);
  cleanup_close int sfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  /* raw before the container can start (run -it waits for this request):
   * what is typed from then on goes to it as typed, detach keys included */
  struct tty_state ts = { 0 };
  if (tty && in && term)
    sandbox_tty_raw (0, &ts);
  if (send (fd, req, strlen (req), MSG_NOSIGNAL) != (ssize_t)strlen (req))
    {
      sandbox_tty_restore (&ts);
      sigprocmask (SIG_SETMASK, &old, NULL);
      return nook_error_set (err, errno, "attach to the container");
    }

  struct frames *f = xzalloc (sizeof *f);
  bool started = false, stdin_open = in;
  int rc = -2;
  while (rc == -2)
    {
      struct pollfd p[3] = {
        { .fd = fd, .events = POLLIN },
        { .fd = stdin_open ? 0 : -1, .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
      };
      if (poll (p, 3, -1) < 0 && errno != EINTR)
        break;
      if (p[2].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == sizeof si)
            ;
          if (tty && term)
            send_size (fd);
        }
      if (p[1].revents)
        {
          unsigned char buf[4096], out[4096 + 16];
          ssize_t n = read (0, buf, sizeof buf);
          if (n <= 0)
            {
              stdin_open = false;
              ctl_frame_send (fd, FRAME_CLOSE, NULL, 0);
            }
          else
            {
              size_t o = 0;
              for (ssize_t i = 0; i < n; i++)
                {
                  if (tty && nkeys && buf[i] == keys[matched])
                    {
                      if (++matched == nkeys)
                        {
                          *detached = true;
                          break;
                        }
                      continue;
                    }
                  if (matched) /* a partial sequence was typed: it goes on */
                    {
                      memcpy (out + o, keys, matched);
                      o += matched;
                      matched = 0;
                      if (tty && nkeys && buf[i] == keys[0])
                        {
                          matched = 1;
                          continue;
                        }
                    }
                  out[o++] = buf[i];
                }
              if (o)
                ctl_frame_send (fd, FRAME_STDIN, out, o);
              if (*detached)
                {
                  rc = 0;
                  break;
                }
            }
        }
      if (p[0].revents)
        rc = read_frames (fd, f, &started, err);
    }
  free (f);
  sandbox_tty_restore (&ts);
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (*detached)
    {
      fprintf (stderr, "\r\n");
      return 0;
    }
  return rc == -2 ? nook_error_set (err, errno, "attach") : rc;
}
