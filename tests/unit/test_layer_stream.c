/* tests/unit/test_layer_stream.c: a layer's uncompressed stream and its digest, the same
 * whether libdeflate inflates it at once (one gzip member) or libarchive streams it (two
 * members, a trailer whose size lies, a plain tar); a corrupt stream never gives the
 * original's digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libdeflate.h>

#include "imagefmt/digest.h"
#include "imagefmt/layer_stream.h"
#include "util/error.h"

#define PLAIN_LEN (3u << 20)

static unsigned char *
plain_data (void)
{
  unsigned char *p = malloc (PLAIN_LEN);
  for (size_t i = 0; i < PLAIN_LEN; i++)
    p[i] = (unsigned char)((i * 7 + i / 4096) & 0xff);
  return p;
}

static size_t
gz (const void *in, size_t n, unsigned char *out, size_t cap)
{
  struct libdeflate_compressor *c = libdeflate_alloc_compressor (6);
  size_t r = libdeflate_gzip_compress (c, in, n, out, cap);
  libdeflate_free_compressor (c);
  assert_true (r > 0);
  return r;
}

/* digest and size of the whole stream, read block by block (read) or finished at once */
static int
digest_of (const void *data, size_t len, bool read, char **diff, uint64_t *size)
{
  nook_error_t err = NULL;
  struct imagefmt_layer_stream *s;
  if (imagefmt_layer_stream_open_mem (data, len, &s, &err) < 0)
    {
      nook_error_free (&err);
      return -1;
    }
  const void *buf;
  ssize_t n;
  while (read && (n = imagefmt_layer_stream_read (s, &buf, &err)) > 0)
    ;
  int r = imagefmt_layer_stream_finish (s, diff, size, &err);
  nook_error_free (&err);
  imagefmt_layer_stream_free (s);
  return r;
}

static void
test_same_digest_every_way (void **state)
{
  unsigned char *plain = plain_data ();
  char *want = imagefmt_digest_data (plain, PLAIN_LEN);
  size_t cap = PLAIN_LEN + 4096;
  unsigned char *one = malloc (cap), *two = malloc (2 * cap);
  size_t n1 = gz (plain, PLAIN_LEN, one, cap);
  /* two members: the first half, then the second */
  size_t a = gz (plain, PLAIN_LEN / 2, two, cap);
  size_t b = gz (plain + PLAIN_LEN / 2, PLAIN_LEN - PLAIN_LEN / 2, two + a, cap);
  for (int read = 0; read < 2; read++)
    {
      const struct
      {
        const void *data;
        size_t len;
      } cases[] = { { plain, PLAIN_LEN }, { one, n1 }, { two, a + b } };
      for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        {
          char *d = NULL;
          uint64_t size = 0;
          assert_int_equal (digest_of (cases[i].data, cases[i].len, read, &d, &size), 0);
          assert_string_equal (d, want);
          assert_int_equal (size, PLAIN_LEN);
          free (d);
        }
    }
  /* a trailer that states a smaller size than the content: streamed, still right */
  unsigned char *lie = malloc (n1);
  memcpy (lie, one, n1);
  lie[n1 - 4] = 1, lie[n1 - 3] = lie[n1 - 2] = lie[n1 - 1] = 0;
  char *d = NULL;
  uint64_t size = 0;
  assert_int_equal (digest_of (lie, n1, true, &d, &size), 0);
  assert_string_equal (d, want);
  assert_int_equal (size, PLAIN_LEN);
  free (d);
  /* a corrupt deflate stream: an error, or (libarchive's gzip reader does not always
   * check the CRC) another digest, never the original's */
  one[n1 / 2] ^= 0xff;
  d = NULL;
  if (digest_of (one, n1, true, &d, &size) == 0)
    assert_string_not_equal (d, want);
  free (d);
  free (lie);
  free (want);
  free (plain);
  free (one);
  free (two);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_same_digest_every_way),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
