/* util/settle.h: what a long-lived idle process (a container's supervisor and
 * init, forks of nook) gives back once it has settled. */
#ifndef NOOK_UTIL_SETTLE_H
#define NOOK_UTIL_SETTLE_H

#include <stdbool.h>
#include <stdint.h>

/* Free heap pages back to the kernel (malloc_trim), the page-table entries of
 * the process's file mappings that hold no private page (code, read-only data:
 * the page cache keeps them, a later use maps them again) dropped, and the main
 * thread's stack emptied below the current frame and 64 KiB more (when we run
 * on it).  A mapping with a private page, resident or swapped out (a relocated
 * read-only GOT, a debugger's breakpoint), is left as it is: dropping those
 * would lose the change.  Costs ~0.2 ms (reading /proc/self/smaps).  Only for
 * processes whose /proc is trusted (a container's init reads smaps through an fd
 * opened before its command ran: mem_settle_open). */
void mem_settle (void);

/* The same, reading smaps through fd, from mem_settle_open: opened before the
 * process confines itself (a network helper under Landlock opens no file). */
int mem_settle_open (void);
void mem_settle_fd (int smaps_fd);

/* A loop that waits (poll, epoll_wait, sigtimedwait) and settles once it has
 * been quiet for SETTLE_QUIET_MS, once a quiet spell. */
#define SETTLE_QUIET_MS 1000
struct settle_quiet
{
  int64_t since_ms; /* the last activity (CLOCK_MONOTONIC), 0: none seen yet */
  bool settled;
  int fd; /* mem_settle_open's, SETTLE_BY_PATH or SETTLE_NEVER */
};
#define SETTLE_BY_PATH (-1) /* smaps opened when settling (the process's /proc is trusted) */
#define SETTLE_NEVER (-2)   /* a clock that never settles: the waits are the loop's own */
#define SETTLE_QUIET_INIT(smaps_fd)                                                                \
  {                                                                                                \
    .since_ms = 0, .settled = false, .fd = (smaps_fd)                                              \
  }
/* The wait's timeout (ms, -1: none), shortened to the end of the quiet spell. */
int settle_quiet_timeout (struct settle_quiet *q, int timeout_ms);
/* After the wait: n its result (0: it timed out, anything else: woken); settles
 * when the quiet spell is over. */
void settle_quiet_after (struct settle_quiet *q, int n);

#endif
