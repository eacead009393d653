/* util/xalloc.h: allocation that aborts on failure (crun's OOM()).
 *
 * Below util/error.c and util/util.c, which both allocate. */
#ifndef NOOK_UTIL_XALLOC_H
#define NOOK_UTIL_XALLOC_H

#include <stddef.h>

/* Abort with a message on allocation failure (crun's OOM()). */
__attribute__ ((noreturn)) void oom (void);
void *xmalloc (size_t n);
void *xzalloc (size_t n);
void *xrealloc (void *p, size_t n);
void *xreallocarray (void *p, size_t n, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
