/* imagefmt/archive_dl.c: see archive_dl.h. */
#define IMAGEFMT_ARCHIVE_DL_IMPL
#include "imagefmt/archive_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#define DEFINE(name) __typeof__ (name) *sym_##name;
IMAGEFMT_ARCHIVE_SYMBOLS (DEFINE)
#undef DEFINE

static void *handle;
static const char *failed_symbol;

static void
load_once (void)
{
  void *h = dlopen ("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return;
#define RESOLVE(name)                                                                              \
  if ((sym_##name = (__typeof__ (name) *)dlsym (h, #name)) == NULL && failed_symbol == NULL)       \
    failed_symbol = #name;
  IMAGEFMT_ARCHIVE_SYMBOLS (RESOLVE)
#undef RESOLVE
  handle = h;
}

int
imagefmt_archive_load (nook_error_t *err)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once (&once, load_once);
  if (handle == NULL)
    return nook_error_set (err, ELIBACC, "load libarchive.so.13 (install libarchive13): %s",
                           dlerror () ? dlerror () : "not found");
  if (failed_symbol)
    return nook_error_set (err, ELIBBAD, "libarchive.so.13 lacks %s", failed_symbol);
  return 0;
}
