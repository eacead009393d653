/* imagefmt/store_sizes.c: the uncompressed sizes of compressed layer blobs.
 *
 * Docker's SIZE (images, inspect, history, system df) counts uncompressed bytes, and a
 * docker-archive needs a layer's uncompressed size before its bytes.  A manifest nook
 * writes records it (ANN_SIZE); a manifest that came from elsewhere (an OCI archive, a
 * registry) cannot be changed without changing its digest, so the size found while the
 * layer was verified goes to <root>/layer-sizes/<blob hex>: a hint, never trusted for
 * content (a save still counts the bytes it writes), removed with its blob. */
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZES_DIR "layer-sizes"

void
store_layer_size_put (struct imagefmt_store *s, const char *blob, uint64_t size)
{
  const char *hex;
  char text[32];
  if (imagefmt_digest_parse (blob, &hex, NULL) < 0)
    return;
  if (mkdirat (s->rootfd, SIZES_DIR, 0755) < 0 && errno != EEXIST)
    return;
  cleanup_close int d
      = openat (s->rootfd, SIZES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int n = snprintf (text, sizeof text, "%llu\n", (unsigned long long)size);
  if (d >= 0)
    fs_write_file_at (d, hex, text, (size_t)n, 0644, NULL);
}

bool
store_layer_size_get (struct imagefmt_store *s, const char *blob, uint64_t *size)
{
  const char *hex;
  char text[32];
  if (imagefmt_digest_parse (blob, &hex, NULL) < 0)
    return false;
  cleanup_free char *p = xasprintf (SIZES_DIR "/%s", hex);
  cleanup_close int fd = openat (s->rootfd, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, text, sizeof text - 1) : -1;
  if (n <= 0)
    return false;
  text[n] = '\0';
  text[strcspn (text, "\n")] = '\0';
  return parse_uint (text, UINT64_MAX, size, "size", NULL) == 0;
}

void
store_layer_size_remove (struct imagefmt_store *s, const char *blob)
{
  const char *hex;
  if (imagefmt_digest_parse (blob, &hex, NULL) < 0)
    return;
  cleanup_free char *p = xasprintf (SIZES_DIR "/%s", hex);
  unlinkat (s->rootfd, p, 0);
}

uint64_t
store_layer_usize (struct imagefmt_store *s, json_t *l)
{
  const char *us
      = json_string_value (json_object_get (json_object_get (l, "annotations"), ANN_SIZE));
  uint64_t v = 0;
  if (us && parse_uint (us, UINT64_MAX, &v, "size", NULL) == 0)
    return v;
  const char *d = json_string_value (json_object_get (l, "digest"));
  if (d && store_layer_size_get (s, d, &v))
    return v;
  return (uint64_t)json_integer_value (json_object_get (l, "size"));
}

struct sweep
{
  struct imagefmt_store *s;
  bool repair;
  int count;
};

static int
sweep_one (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct sweep *w = arg;
  if (imagefmt_digest_hex_valid (name)
      && faccessat (w->s->blobsfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  w->count++;
  if (w->repair)
    unlinkat (dirfd, name, 0);
  return 0;
}

int
store_sweep_by_blob (struct imagefmt_store *s, const char *dir, bool repair)
{
  cleanup_close int d = openat (s->rootfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct sweep w = { .s = s, .repair = repair };
  if (d >= 0)
    fs_dir_foreach (d, sweep_one, &w, NULL);
  return w.count;
}

int
store_layer_sizes_sweep (struct imagefmt_store *s, bool repair)
{
  return store_sweep_by_blob (s, SIZES_DIR, repair);
}
