/* util/trace.h: start-up timing for performance work.  With NOOK_TRACE=1 in
 * the environment, trace_mark() prints the milliseconds since the process (or
 * its parent nook) started; otherwise it costs one branch. */
#ifndef NOOK_UTIL_TRACE_H
#define NOOK_UTIL_TRACE_H

void trace_init (void);
void trace_mark (const char *what);

#endif
