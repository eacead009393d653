/* util/trace.h: start-up timing for performance work.  With NOOK_TRACE=1 in
 * the environment, trace_mark() prints the milliseconds since the process (or
 * its parent nook) started; with NOOK_TRACE=/a/file it appends the lines to that
 * file (detached supervisors and health probes write to no terminal); otherwise it
 * costs one branch. */
#ifndef NOOK_UTIL_TRACE_H
#define NOOK_UTIL_TRACE_H

void trace_init (void);
void trace_mark (const char *what);

#endif
