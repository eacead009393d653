/* imagefmt/curl_dl.h: libcurl, loaded on first use (as imagefmt/archive_dl.h does for
 * libarchive).
 *
 * libcurl brings OpenSSL, nghttp2, libssh2, LDAP, GSSAPI, ... : linked into nook they
 * would cost every `nook run` their relocations.  Only pull, push and login load it.
 * Include this instead of <curl/curl.h>; call imagefmt_curl_load() first. */
#ifndef NOOK_IMAGEFMT_CURL_DL_H
#define NOOK_IMAGEFMT_CURL_DL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "util/error.h"

/* Load libcurl once (and curl_global_init it); -1 naming the library otherwise. */
int imagefmt_curl_load (nook_error_t *err);

#define IMAGEFMT_CURL_SYMBOLS(X)                                                                   \
  X (curl_global_init)                                                                             \
  X (curl_easy_init)                                                                               \
  X (curl_easy_setopt)                                                                             \
  X (curl_easy_perform)                                                                            \
  X (curl_easy_cleanup)                                                                            \
  X (curl_easy_reset)                                                                              \
  X (curl_easy_getinfo)                                                                            \
  X (curl_easy_strerror)                                                                           \
  X (curl_easy_escape)                                                                             \
  X (curl_free)                                                                                    \
  X (curl_slist_append)                                                                            \
  X (curl_slist_free_all)                                                                          \
  X (curl_version)

#define IMAGEFMT_CURL_DECLARE(name) extern __typeof__ (name) *sym_##name;
IMAGEFMT_CURL_SYMBOLS (IMAGEFMT_CURL_DECLARE)
#undef IMAGEFMT_CURL_DECLARE

#ifndef IMAGEFMT_CURL_DL_IMPL
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (*sym_curl_global_init)
#define curl_easy_init (*sym_curl_easy_init)
#define curl_easy_setopt (*sym_curl_easy_setopt)
#define curl_easy_perform (*sym_curl_easy_perform)
#define curl_easy_cleanup (*sym_curl_easy_cleanup)
#define curl_easy_reset (*sym_curl_easy_reset)
#define curl_easy_getinfo (*sym_curl_easy_getinfo)
#define curl_easy_strerror (*sym_curl_easy_strerror)
#define curl_easy_escape (*sym_curl_easy_escape)
#define curl_free (*sym_curl_free)
#define curl_slist_append (*sym_curl_slist_append)
#define curl_slist_free_all (*sym_curl_slist_free_all)
#define curl_version (*sym_curl_version)
#endif

#endif
