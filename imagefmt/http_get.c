/* imagefmt/http_get.c: see http_get.h. */
#include "imagefmt/http_get.h"
#include "imagefmt/curl_dl.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <string.h>

struct sink
{
  int fd;
  uint64_t n, max;
  int error;
};

static size_t
on_body (char *p, size_t size, size_t nmemb, void *data)
{
  struct sink *s = data;
  size_t len = size * nmemb;
  if (s->n + len > s->max)
    {
      s->error = EFBIG;
      return 0;
    }
  if (fs_write_all (s->fd, p, len) < 0)
    {
      s->error = errno;
      return 0;
    }
  s->n += len;
  return len;
}

int
imagefmt_http_get (const char *url, int fd, uint64_t max, uint64_t *size, nook_error_t *err)
{
  if (imagefmt_curl_load (err) < 0)
    return -1;
  CURL *c = curl_easy_init ();
  if (c == NULL)
    return nook_error_set (err, ENOMEM, "curl_easy_init");
  char errbuf[CURL_ERROR_SIZE] = "";
  struct sink s = { .fd = fd, .max = max };
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "nook");
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &s);
  CURLcode r = curl_easy_perform (c);
  long status = 0;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (c);
  if (s.error == EFBIG)
    return nook_error_set (err, EFBIG, "%s: larger than %llu bytes", url, (unsigned long long)max);
  if (s.error)
    return nook_error_set (err, s.error, "%s: write the download", url);
  if (r != CURLE_OK)
    return nook_error_set (err, EIO, "%s: %s", url, *errbuf ? errbuf : curl_easy_strerror (r));
  if (status >= 400)
    return nook_error_set (err, EIO, "%s: HTTP status %ld", url, status);
  if (size)
    *size = s.n;
  return 0;
}
