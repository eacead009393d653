/* util/settle.h: what a long-lived idle process (a container's supervisor and
 * init, forks of nook) gives back once it has settled. */
#ifndef NOOK_UTIL_SETTLE_H
#define NOOK_UTIL_SETTLE_H

/* Free heap pages back to the kernel (malloc_trim), the page-table entries of
 * the process's file mappings that hold no private page (code, read-only data:
 * the page cache keeps them, a later use maps them again) dropped, and the
 * stack below the current frame emptied.  A mapping with a private page (a
 * relocated read-only GOT, a debugger's breakpoint) is left as it is: dropping
 * those would lose the change.  Costs ~0.2 ms (reading /proc/self/smaps). */
void mem_settle (void);

#endif
