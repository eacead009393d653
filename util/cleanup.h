/* util/cleanup.h: scope-bound cleanup (the bwrap/crun vocabulary).
 *
 * Declare cleanup variables at the top of their block, initialised. */
#ifndef NOOK_UTIL_CLEANUP_H
#define NOOK_UTIL_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/error.h"

void cleanup_freep (void *p);
void cleanup_closep (int *fd);
void cleanup_filep (FILE **f);
void cleanup_dirp (DIR **d);
void cleanup_strvp (char ***v);
void cleanup_errorp (nook_error_t *e);

#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_file __attribute__ ((cleanup (cleanup_filep)))
#define cleanup_dir __attribute__ ((cleanup (cleanup_dirp)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))
#define cleanup_error __attribute__ ((cleanup (cleanup_errorp)))

/* Hand ownership on: return *pp and set it to NULL (type-checked). */
#define steal_pointer(pp)                                                                          \
  ({                                                                                               \
    __typeof__ (*(pp)) _stolen = *(pp);                                                            \
    *(pp) = NULL;                                                                                  \
    _stolen;                                                                                       \
  })

static inline int
take_fd (int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}

#endif
