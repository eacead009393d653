/* tests/fuzz/fuzz_dockerfile_ignore.c: libFuzzer target for .dockerignore.
 * Input: the .dockerignore text, a NUL byte, then paths one per line.  Checks that
 * dockerfile_ignore_may_reinclude_below() never wrongly says "skip the subtree". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imagefmt/dockerfile/ignore.h"
#include "util/cleanup.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static bool
is_excluded (const struct dockerfile_ignore *ig, const char *path)
{
  bool ex = false;
  cleanup_error nook_error_t err = NULL;
  if (dockerfile_ignore_matches (ig, path, &ex, &err) < 0)
    abort (); /* matching never fails once parsed */
  return ex;
}

/* "a/b/c" with no empty, "." or ".." component: its prefixes are its parents. */
static bool
is_clean_relative (const char *path)
{
  for (const char *c = path;; c++)
    {
      size_t n = strcspn (c, "/");
      if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
        return false;
      c += n;
      if (*c == '\0')
        return true;
    }
}

static void
check_path (const struct dockerfile_ignore *ig, char *path)
{
  bool ex = is_excluded (ig, path);
  char *slash;
  (void)ex;
  (void)dockerfile_ignore_may_reinclude_below (ig, path);
  if (!is_clean_relative (path))
    return;
  /* every ancestor that is excluded and "cannot re-include" must exclude path */
  for (slash = strchr (path, '/'); slash != NULL; slash = strchr (slash + 1, '/'))
    {
      *slash = '\0';
      bool dir_ex = path[0] != '\0' && is_excluded (ig, path);
      bool may = dockerfile_ignore_may_reinclude_below (ig, path);
      *slash = '/';
      if (dir_ex && !may && slash[1] != '\0' && !is_excluded (ig, path))
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, '\0', size);
  size_t ilen = nul ? (size_t)(nul - data) : size;
  struct dockerfile_ignore *ig = NULL;
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *paths = NULL;

  if (size > 65536)
    return 0;
  if (dockerfile_ignore_parse ((const char *)data, ilen, &ig, &err) < 0)
    {
      if (err == NULL || err->msg == NULL)
        abort ();
      return 0;
    }
  for (size_t i = 0; i < dockerfile_ignore_count (ig); i++)
    if (dockerfile_ignore_pattern (ig, i, NULL) == NULL)
      abort ();
  paths = nul ? xstrndup ((const char *)nul + 1, size - ilen - 1) : xstrdup ("a/b/c");
  for (char *save = NULL, *p = strtok_r (paths, "\n", &save); p != NULL;
       p = strtok_r (NULL, "\n", &save))
    check_path (ig, p);
  dockerfile_ignore_free (ig);
  return 0;
}
