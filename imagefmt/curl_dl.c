/* imagefmt/curl_dl.c: see curl_dl.h. */
#define IMAGEFMT_CURL_DL_IMPL
#include "imagefmt/curl_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#define DEFINE(name) __typeof__ (name) *sym_##name;
IMAGEFMT_CURL_SYMBOLS (DEFINE)
#undef DEFINE

static void *handle;
static const char *failed_symbol;
static int init_failed;

static void
load_once (void)
{
  void *h = dlopen ("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return;
#define RESOLVE(name)                                                                              \
  if ((sym_##name = (__typeof__ (name) *)dlsym (h, #name)) == NULL && failed_symbol == NULL)       \
    failed_symbol = #name;
  IMAGEFMT_CURL_SYMBOLS (RESOLVE)
#undef RESOLVE
  handle = h;
  if (failed_symbol == NULL && sym_curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
    init_failed = 1;
}

int
imagefmt_curl_load (nook_error_t *err)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once (&once, load_once);
  if (handle == NULL)
    return nook_error_set (err, ELIBACC, "load libcurl.so.4 (install libcurl4): %s",
                           dlerror () ? dlerror () : "not found");
  if (failed_symbol)
    return nook_error_set (err, ELIBBAD, "libcurl.so.4 lacks %s", failed_symbol);
  if (init_failed)
    return nook_error_set (err, ELIBBAD, "libcurl: curl_global_init failed");
  return 0;
}
