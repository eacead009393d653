/* util/cleanup.c: see cleanup.h. */
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <unistd.h>

void
cleanup_freep (void *p)
{
  free (*(void **)p);
}

void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

void
cleanup_filep (FILE **f)
{
  if (*f)
    fclose (*f);
}

void
cleanup_dirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

void
cleanup_strvp (char ***v)
{
  strv_free (*v);
}

void
cleanup_errorp (nook_error_t *e)
{
  nook_error_free (e);
}
