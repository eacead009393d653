/* imagefmt/digest.c: see digest.h. */
#include "imagefmt/digest.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SHA-256 from nettle: no global initialisation and no configuration file
 * read at start-up (OpenSSL's libcrypto costs ~5 ms of every `nook run`).
 * Loaded on first use, as libarchive is (archive_dl.c): linked in, nettle's
 * constructor probes the CPU (CPUID traps to the hypervisor on a virtual
 * machine: ~28 us of every start here), and `nook run` of an unpacked image
 * computes no digest (cmd/seccomp_cache.c). */
struct imagefmt_digester
{
  struct sha256_ctx ctx;
};

#define NETTLE_LIB "libnettle.so.8"
static __typeof__ (nettle_sha256_init) *sym_init;
static __typeof__ (nettle_sha256_update) *sym_update;
static __typeof__ (nettle_sha256_digest) *sym_digest;

static void
load_once (void)
{
  void *h = dlopen (NETTLE_LIB, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return;
  sym_init = (__typeof__ (sym_init))dlsym (h, "nettle_sha256_init");
  sym_update = (__typeof__ (sym_update))dlsym (h, "nettle_sha256_update");
  sym_digest = (__typeof__ (sym_digest))dlsym (h, "nettle_sha256_digest");
}

/* Digests are not optional (every blob is checked): without nettle nook cannot
 * work at all, like without memory. */
static void
load_nettle (void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once (&once, load_once);
  if (sym_init && sym_update && sym_digest)
    return;
  const char *why = dlerror ();
  fprintf (stderr, "nook: load " NETTLE_LIB " (install libnettle8): %s\n",
           why ? why : "a SHA-256 function is missing");
  exit (125);
}

bool
imagefmt_digest_hex_valid (const char *s)
{
  size_t i;
  for (i = 0; i < IMAGEFMT_DIGEST_HEX_LEN; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[i] == '\0';
}

int
imagefmt_digest_parse (const char *s, const char **hex, nook_error_t *err)
{
  if (s == NULL)
    return nook_error_set (err, EINVAL, "missing digest");
  if (!str_has_prefix (s, "sha256:"))
    return nook_error_set (err, EINVAL, "invalid digest '%.100s': only sha256 is supported", s);
  if (!imagefmt_digest_hex_valid (s + 7))
    return nook_error_set (err, EINVAL,
                           "invalid digest '%.100s': want sha256: and 64 lower-case hex digits", s);
  if (hex)
    *hex = s + 7;
  return 0;
}

struct imagefmt_digester *
imagefmt_digester_new (void)
{
  load_nettle ();
  struct imagefmt_digester *d = xzalloc (sizeof *d);
  sym_init (&d->ctx);
  return d;
}

void
imagefmt_digester_update (struct imagefmt_digester *d, const void *data, size_t len)
{
  if (len > 0)
    sym_update (&d->ctx, len, data);
}

char *
imagefmt_digester_finish (struct imagefmt_digester *d)
{
  unsigned char md[SHA256_DIGEST_SIZE];
  const unsigned int n = SHA256_DIGEST_SIZE;
  sym_digest (&d->ctx, n, md);
  imagefmt_digester_free (d);
  char *out = xmalloc (IMAGEFMT_DIGEST_LEN + 1);
  memcpy (out, "sha256:", 7);
  static const char hexd[] = "0123456789abcdef";
  for (unsigned int i = 0; i < n; i++)
    {
      out[7 + 2 * i] = hexd[md[i] >> 4];
      out[7 + 2 * i + 1] = hexd[md[i] & 15];
    }
  out[IMAGEFMT_DIGEST_LEN] = '\0';
  return out;
}

void
imagefmt_digester_free (struct imagefmt_digester *d)
{
  if (d == NULL)
    return;
  free (d);
}

char *
imagefmt_digest_data (const void *data, size_t len)
{
  struct imagefmt_digester *d = imagefmt_digester_new ();
  imagefmt_digester_update (d, data, len);
  return imagefmt_digester_finish (d);
}

char *
imagefmt_digest_fd (int fd, nook_error_t *err)
{
  struct imagefmt_digester *d = imagefmt_digester_new ();
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          imagefmt_digester_free (d);
          nook_error_set (err, errno, "read for digest");
          return NULL;
        }
      if (n == 0)
        break;
      imagefmt_digester_update (d, buf, (size_t)n);
    }
  return imagefmt_digester_finish (d);
}
