/* util/test_hook.c: see test_hook.h.  Empty unless built with -DNOOK_TEST_HOOKS. */
#include "util/test_hook.h"

#ifdef NOOK_TEST_HOOKS
#include "util/util.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read at start: processes that set their title (nook-netns) overwrite the
 * environment's strings. */
static char *hook_dir;

__attribute__ ((constructor)) static void
test_hook_init (void)
{
  const char *dir = getenv ("NOOK_TEST_HOOK_DIR");
  hook_dir = dir ? xstrdup (dir) : NULL;
}

void
test_hook (const char *name)
{
  const char *dir = hook_dir;
  if (dir == NULL || *dir == '\0')
    return;
  char *reached = xasprintf ("%s/%s.reached", dir, name);
  char *go = xasprintf ("%s/%s.go", dir, name);
  struct stat st;
  if (stat (reached, &st) == 0 && S_ISFIFO (st.st_mode))
    {
      int fd = open (reached, O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        close (fd);
      fd = open (go, O_RDONLY | O_CLOEXEC);
      char buf[64];
      while (fd >= 0 && read (fd, buf, sizeof buf) > 0)
        ;
      if (fd >= 0)
        close (fd);
    }
  free (reached);
  free (go);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int test_hook_unused;
#endif
