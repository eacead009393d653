/* imagefmt/http_get.h: a plain HTTP(S) download (ADD of a URL in a build): libcurl,
 * loaded on first use; redirects followed (http and https only); an HTTP status of
 * 400 or more is an error naming it. */
#ifndef NOOK_IMAGEFMT_HTTP_GET_H
#define NOOK_IMAGEFMT_HTTP_GET_H

#include <stdint.h>

#include "util/error.h"

/* Write the body of url to fd; *size (may be NULL) gets its length.  At most max bytes. */
int imagefmt_http_get (const char *url, int fd, uint64_t max, uint64_t *size, nook_error_t *err);

#endif
