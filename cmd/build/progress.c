/* cmd/build/progress.c: the compact view of `nook build --progress=tty` (and `auto` on a
 * terminal).  The build writes BuildKit's plain form as always; on a terminal that stream
 * goes through a pipe to a forked renderer (build_tty_start) that shows one line per step
 * (" => [2/5] WORKDIR /app   0.1s", " => CACHED [3/5] COPY ..."), the running step's last
 * output line live in place, the whole tail of a failing step's output, and a closing
 * "[+] Building 3.2s (8/8) FINISHED".  The renderer's logic (build_tty_feed) is pure. */
#include "cmd/build/build.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAIL_MAX 10

static void append_cut (struct strbuf *out, const char *s, size_t n);
/* The build's last line to the renderer: processes forked during the build (a RUN's
 * helpers) may hold the pipe open after the build, so the end is said, not awaited. */
#define END_MARK "\036nook-progress-end"

static void
step_free (struct build_tty_step *st)
{
  for (size_t i = 0; i < st->n_tail; i++)
    free (st->tail[i]);
  strv_free (st->subs);
  free (st->name);
  free (st->last);
}

/* The running step numbered v, or NULL. */
static struct build_tty_step *
step_find (struct build_tty *t, int v)
{
  for (size_t i = 0; i < t->n_steps; i++)
    if (t->steps[i].vertex == v)
      return &t->steps[i];
  return NULL;
}

static void
step_drop (struct build_tty *t, struct build_tty_step *st)
{
  size_t i = (size_t)(st - t->steps);
  step_free (st);
  memmove (t->steps + i, t->steps + i + 1, (t->n_steps - i - 1) * sizeof *t->steps);
  t->n_steps--;
}

/* The step's details, under its line: " => => naming to ... done". */
static void
subs_print (struct build_tty *t, struct build_tty_step *st, struct strbuf *out)
{
  for (size_t i = 0; st->subs && st->subs[i]; i++)
    {
      strbuf_append (out, " => => ");
      append_cut (out, st->subs[i], t->width > 8 ? (size_t)t->width - 8 : 72);
      strbuf_append (out, "\n");
    }
}

static void
tail_push (struct build_tty_step *st, const char *s)
{
  if (st->n_tail == TAIL_MAX)
    {
      free (st->tail[0]);
      memmove (st->tail, st->tail + 1, (TAIL_MAX - 1) * sizeof *st->tail);
      st->n_tail--;
    }
  st->tail[st->n_tail++] = xstrdup (s);
}

/* Erase the live status line, when one is shown. */
static void
status_clear (struct build_tty *t, struct strbuf *out)
{
  if (t->status_shown)
    strbuf_append (out, "\r\033[K");
  t->status_shown = false;
}

/* s cut to n display columns (bytes of a UTF-8 sequence kept together). */
static void
append_cut (struct strbuf *out, const char *s, size_t n)
{
  size_t cols = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    {
      if ((*p & 0xc0) != 0x80)
        {
          if (cols == n)
            return;
          cols++;
        }
      if (*p == '\t')
        strbuf_append (out, " ");
      else if (*p >= 0x20)
        strbuf_appendc (out, (char)*p);
    }
}

/* The live line: the step with news, and how many others run beside it. */
static void
status_show (struct build_tty *t, struct strbuf *out, const struct build_tty_step *st,
             const char *extra)
{
  status_clear (t, out);
  struct strbuf line = { 0 };
  strbuf_appendf (&line, " => %s", st->name ? st->name : "");
  if (extra && *extra)
    strbuf_appendf (&line, " | %s", extra);
  if (t->n_steps > 1)
    strbuf_appendf (&line, " (+%zu running)", t->n_steps - 1);
  size_t w = t->width > 1 ? (size_t)t->width - 1 : 79;
  if (t->now > 0 && w > 24)
    {
      /* the step's time so far, at the right as on its final line */
      char secs[32];
      int sl = snprintf (secs, sizeof secs, "%.1fs", t->now > st->start ? t->now - st->start : 0.);
      size_t before = out->len;
      append_cut (out, line.buf ? line.buf : "", w - (size_t)sl - 1);
      size_t cols = 0;
      for (size_t i = before; i < out->len; i++)
        cols += ((unsigned char)out->buf[i] & 0xc0) != 0x80;
      strbuf_appendf (out, "%*s%s", (int)(w - cols - (size_t)sl), "", secs);
    }
  else
    append_cut (out, line.buf ? line.buf : "", w);
  free (line.buf);
  t->status_shown = true;
}

/* " => NAME ... 1.2s" padded to the width. */
static void
step_line (struct build_tty *t, const struct build_tty_step *st, struct strbuf *out,
           const char *prefix, const char *secs)
{
  struct strbuf l = { 0 };
  strbuf_appendf (&l, " => %s%s", prefix, st->name ? st->name : "");
  size_t w = t->width > 20 ? (size_t)t->width - 1 : 79;
  size_t len = strlen (l.buf);
  size_t sl = secs ? strlen (secs) : 0;
  if (sl && len + 1 + sl > w)
    {
      append_cut (out, l.buf, w > sl + 1 ? w - sl - 1 : 0);
      len = w - sl - 1;
    }
  else
    strbuf_append (out, l.buf);
  if (sl)
    strbuf_appendf (out, "%*s%s", (int)(w - len - sl), "", secs);
  strbuf_append (out, "\n");
  free (l.buf);
}

void
build_tty_init (struct build_tty *t, int width)
{
  memset (t, 0, sizeof *t);
  t->width = width > 0 ? width : 80;
}

void
build_tty_feed (struct build_tty *t, const char *line, struct strbuf *out)
{
  if (t->failed)
    {
      /* after an ERROR: the error block as the build wrote it */
      status_clear (t, out);
      strbuf_appendf (out, "%s\n", line);
      return;
    }
  if (*line == '\0')
    return;
  const char *p = line + 1;
  char *end = NULL;
  long v = line[0] == '#' && isdigit ((unsigned char)*p) ? strtol (p, &end, 10) : -1;
  if (v < 0 || end == NULL || *end != ' ')
    {
      status_clear (t, out);
      strbuf_appendf (out, "%s\n", line);
      return;
    }
  const char *rest = end + 1;
  struct build_tty_step *st = step_find (t, (int)v);
  if (st == NULL)
    {
      /* a new step: its name */
      t->steps = xreallocarray (t->steps, t->n_steps + 1, sizeof *t->steps);
      st = &t->steps[t->n_steps++];
      memset (st, 0, sizeof *st);
      st->vertex = (int)v;
      st->name = xstrdup (rest);
      st->start = t->now;
      t->seen++;
      status_show (t, out, st, NULL);
      return;
    }
  if (strncmp (rest, "DONE ", 5) == 0 || strcmp (rest, "CACHED") == 0)
    {
      bool cached = rest[0] == 'C';
      status_clear (t, out);
      step_line (t, st, out, cached ? "CACHED " : "", cached ? NULL : rest + 5);
      subs_print (t, st, out);
      t->done++;
      step_drop (t, st);
      if (t->n_steps > 0)
        status_show (t, out, &t->steps[t->n_steps - 1], t->steps[t->n_steps - 1].last);
      return;
    }
  if (strncmp (rest, "ERROR", 5) == 0)
    {
      status_clear (t, out);
      step_line (t, st, out, "ERROR ", NULL);
      subs_print (t, st, out);
      if (st->n_tail)
        {
          strbuf_appendf (out, "------\n > %s:\n", st->name ? st->name : "");
          for (size_t i = 0; i < st->n_tail; i++)
            strbuf_appendf (out, "%s\n", st->tail[i]);
        }
      strbuf_appendf (out, "%s\n", line);
      t->failed = true;
      return;
    }
  /* "#N 1.234 text": a RUN's output */
  char *e2 = NULL;
  strtod (rest, &e2);
  if (e2 && e2 != rest && isdigit ((unsigned char)rest[0]) && (*e2 == ' ' || *e2 == '\0'))
    {
      const char *text = *e2 ? e2 + 1 : "";
      tail_push (st, rest);
      if (*text)
        {
          free (st->last);
          st->last = xstrdup (text);
          status_show (t, out, st, text);
        }
      return;
    }
  /* a detail of the step ("writing image sha256:... done"): shown under it at its end */
  if (st->subs == NULL)
    st->subs = xzalloc (sizeof (char *));
  strv_push (&st->subs, rest);
}

void
build_tty_tick (struct build_tty *t, struct strbuf *out)
{
  if (t->failed || t->n_steps == 0)
    return;
  const struct build_tty_step *st = &t->steps[t->n_steps - 1];
  status_show (t, out, st, st->last);
}

void
build_tty_end (struct build_tty *t, double secs, struct strbuf *out)
{
  status_clear (t, out);
  if (!t->failed)
    strbuf_appendf (out, "[+] Building %.1fs (%d/%d) FINISHED\n", secs, t->done, t->seen);
  for (size_t i = 0; i < t->n_steps; i++)
    step_free (&t->steps[i]);
  free (t->steps);
  t->steps = NULL;
  t->n_steps = 0;
}

/* ---- the renderer process ---- */

static void
flush_out (struct strbuf *out)
{
  if (out->len)
    (void)fs_write_all (STDERR_FILENO, out->buf, out->len);
  out->len = 0;
  if (out->buf)
    out->buf[0] = '\0';
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__ ((noreturn)) renderer (int in)
{
  /* Ctrl-C reaches the whole group: the build stops the step and writes why, the
   * renderer shows it and ends at the end of the stream. */
  signal (SIGINT, SIG_IGN);
  signal (SIGTERM, SIG_IGN);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  struct winsize ws = { 0 };
  int width = ioctl (STDERR_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 80;
  struct build_tty t;
  build_tty_init (&t, width);
  double t0 = now_s ();
  struct strbuf line = { 0 }, out = { 0 };
  char buf[8192];
  for (;;)
    {
      /* no news for a while: the elapsed time moves on (BuildKit redraws ~10 times a
         second) */
      struct pollfd pfd = { .fd = in, .events = POLLIN };
      int pr = poll (&pfd, 1, 100);
      t.now = now_s ();
      if (pr == 0 || (pr < 0 && errno == EINTR))
        {
          build_tty_tick (&t, &out);
          flush_out (&out);
          continue;
        }
      ssize_t n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      for (ssize_t i = 0; i < n; i++)
        {
          if (buf[i] != '\n')
            {
              strbuf_appendc (&line, buf[i]);
              continue;
            }
          if (line.buf && strcmp (line.buf, END_MARK) == 0)
            goto end;
          build_tty_feed (&t, line.buf ? line.buf : "", &out);
          line.len = 0;
          if (line.buf)
            line.buf[0] = '\0';
        }
      flush_out (&out);
    }
  if (line.len)
    build_tty_feed (&t, line.buf, &out);
end:
  build_tty_end (&t, now_s () - t0, &out);
  flush_out (&out);
  _exit (0);
}

bool
build_tty_wanted (const char *progress)
{
  if (progress && strcmp (progress, "tty") == 0)
    return true;
  if (progress && *progress && strcmp (progress, "auto") != 0)
    return false;
  return isatty (STDERR_FILENO) == 1;
}

int
build_tty_start (pid_t *pid)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  fflush (NULL);
  pid_t c = fork ();
  if (c < 0)
    {
      close (p[0]);
      close (p[1]);
      return -1;
    }
  if (c == 0)
    {
      close (p[1]);
      renderer (p[0]);
    }
  close (p[0]);
  *pid = c;
  return p[1];
}

void
build_tty_finish (FILE *out, pid_t pid)
{
  if (pid <= 0)
    {
      if (out)
        fclose (out);
      return;
    }
  if (out)
    {
      fprintf (out, "\n" END_MARK "\n");
      fclose (out);
    }
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
}
