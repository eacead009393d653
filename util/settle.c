/* util/settle.c: see settle.h.  After start-up a fork of nook keeps mapped every
 * page of nook and libc that start-up ran (and the kernel's fault-around maps
 * 64 KiB around each): ~1 MB a process, while the idle loop runs a few pages. */
#include "util/settle.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct mapping
{
  uintptr_t start, end;
  bool file_ro; /* private, not writable, a file's */
  bool stack;
  long rss, anon, swap; /* kB; -1: not seen */
};

/* What to drop, gathered while smaps is read and dropped after it: the code that
 * reads and parses it would otherwise be mapped again at once (the kernel maps
 * 64 KiB around each page a fault needs). */
struct drops
{
  struct
  {
    uintptr_t start, len;
  } r[256];
  size_t n;
  uintptr_t sp;
};

static void
mapping_done (const struct mapping *m, struct drops *d)
{
  uintptr_t start = 0, end = 0;
  /* (a private page swapped out is no less private) */
  if (m->file_ro && m->rss > 0 && m->anon == 0 && m->swap == 0)
    start = m->start, end = m->end;
  else if (m->stack && d->sp >= m->start && d->sp < m->end)
    {
      /* below the current frame, with room for the calls that follow (the main
       * thread's stack only, and only when we run on it) */
      uintptr_t page = (uintptr_t)sysconf (_SC_PAGESIZE);
      uintptr_t keep = 64 * 1024;
      if (d->sp > m->start + keep + page)
        start = m->start, end = (d->sp - keep) & ~(page - 1);
    }
  if (end > start && d->n < sizeof d->r / sizeof d->r[0])
    {
      d->r[d->n].start = start;
      d->r[d->n].len = end - start;
      d->n++;
    }
}

/* One line of smaps: a mapping's header or one of its fields. */
static void
smaps_line (const char *l, struct mapping *m, struct drops *d)
{
  if ((l[0] >= '0' && l[0] <= '9') || (l[0] >= 'a' && l[0] <= 'f'))
    {
      /* start-end perms offset dev inode [path] */
      char *p;
      uintptr_t start = strtoul (l, &p, 16);
      if (*p != '-')
        return;
      uintptr_t end = strtoul (p + 1, &p, 16);
      if (*p != ' ')
        return;
      const char *perms = p + 1;
      if (strlen (perms) < 4)
        return;
      const char *path = strchr (perms, '/');
      *m = (struct mapping){ .start = start, .end = end, .rss = -1, .anon = -1, .swap = -1 };
      m->file_ro = perms[1] == '-' && perms[3] == 'p' && path != NULL;
      m->stack = strstr (perms, " [stack]") != NULL;
      return;
    }
  if (strncmp (l, "Rss:", 4) == 0)
    m->rss = strtol (l + 4, NULL, 10);
  else if (strncmp (l, "Anonymous:", 10) == 0)
    m->anon = strtol (l + 10, NULL, 10);
  else if (strncmp (l, "Swap:", 5) == 0)
    m->swap = strtol (l + 5, NULL, 10);
  else if (strncmp (l, "VmFlags:", 8) == 0 && m->end > m->start)
    {
      /* the mapping's last line */
      mapping_done (m, d);
      m->end = m->start = 0;
    }
}

int
mem_settle_open (void)
{
  return open ("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
}

void
mem_settle (void)
{
  mem_settle_fd (-1);
}

void
mem_settle_fd (int smaps_fd)
{
  malloc_trim (0);
  int fd = smaps_fd;
  if (fd >= 0 && lseek (fd, 0, SEEK_SET) != 0)
    return;
  if (fd < 0 && (fd = mem_settle_open ()) < 0)
    return;
  char here;
  struct drops d = { .sp = (uintptr_t)&here };
  char buf[8192];
  size_t have = 0;
  struct mapping m = { 0 };
  for (;;)
    {
      ssize_t n = read (fd, buf + have, sizeof buf - 1 - have);
      if (n <= 0)
        break;
      have += (size_t)n;
      buf[have] = '\0';
      char *line = buf, *nl;
      while ((nl = strchr (line, '\n')) != NULL)
        {
          *nl = '\0';
          smaps_line (line, &m, &d);
          line = nl + 1;
        }
      have = (size_t)(buf + have - line);
      memmove (buf, line, have);
      if (have == sizeof buf - 1) /* a line longer than the buffer: dropped */
        have = 0;
    }
  if (fd != smaps_fd)
    close (fd);
  for (size_t i = 0; i < d.n; i++)
    madvise ((void *)d.r[i].start, d.r[i].len, MADV_DONTNEED);
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
settle_quiet_timeout (struct settle_quiet *q, int timeout_ms)
{
  if (q->settled || q->fd == SETTLE_NEVER)
    return timeout_ms;
  int64_t now = now_ms ();
  if (q->since_ms == 0)
    q->since_ms = now;
  int64_t left = q->since_ms + SETTLE_QUIET_MS - now;
  if (left < 0)
    left = 0;
  return timeout_ms < 0 || left < timeout_ms ? (int)left : timeout_ms;
}

void
settle_quiet_after (struct settle_quiet *q, int n)
{
  if (q->fd == SETTLE_NEVER)
    return;
  int64_t now = now_ms ();
  if (n != 0)
    {
      q->since_ms = now;
      q->settled = false;
    }
  else if (!q->settled && q->since_ms != 0 && now - q->since_ms >= SETTLE_QUIET_MS)
    {
      mem_settle_fd (q->fd);
      q->settled = true;
    }
}
