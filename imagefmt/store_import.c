/* imagefmt/store_import.c: putting blobs, tagging and importing root filesystem
 * tarballs into the store; see store.h and store.c. */
#include "imagefmt/store.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/layer.h"
#include "imagefmt/layer_check.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

/* ---- blobs ---- */

int
imagefmt_store_put_blob (struct imagefmt_store *s, const void *data, size_t len, const char *expect,
                         char **digest_out, nook_error_t *err)
{
  cleanup_free char *d = imagefmt_digest_data (data, len);
  if (expect && strcmp (expect, d) != 0)
    return nook_error_set (err, EINVAL, "blob digest mismatch: expected %s, got %s", expect, d);
  if (!store_blob_exists (s, d + 7)
      && fs_write_atomic_at (s->blobsfd, d + 7, data, len, 0644, err) < 0)
    return nook_error_wrap (err, "store blob %s", d);
  if (digest_out)
    *digest_out = steal_pointer (&d);
  return 0;
}

static int
put_json (struct imagefmt_store *s, const json_t *j, char **digest, size_t *size, bool *created,
          nook_error_t *err)
{
  cleanup_free char *text = store_dump_json (j);
  cleanup_free char *d = imagefmt_digest_data (text, strlen (text));
  *created = !store_blob_exists (s, d + 7);
  *size = strlen (text);
  return imagefmt_store_put_blob (s, text, strlen (text), NULL, digest, err);
}

/* ---- tags ---- */

bool
store_index_has (json_t *manifests, const char *digest)
{
  size_t i;
  json_t *e;
  json_array_foreach (manifests, i, e)
  {
    const char *d = store_entry_digest (e);
    if (d && strcmp (d, digest) == 0)
      return true;
  }
  return false;
}

/* Drop `ref` from the index; its manifest stays as a dangling (untagged) entry if
 * nothing else refers to it and keep_dangling. */
static void
index_untag (json_t *manifests, const char *ref, bool keep_dangling)
{
  for (size_t i = 0; i < json_array_size (manifests);)
    {
      json_t *e = json_array_get (manifests, i);
      const char *r = store_entry_ref (e);
      if (r == NULL || strcmp (r, ref) != 0)
        {
          i++;
          continue;
        }
      cleanup_free char *d = xstrdup (store_entry_digest (e) ? store_entry_digest (e) : "");
      json_incref (e);
      json_array_remove (manifests, i);
      if (keep_dangling && *d && !store_index_has (manifests, d))
        {
          json_object_del (e, "annotations");
          json_array_append (manifests, e);
        }
      json_decref (e);
      return;
    }
}

void
store_index_tag (json_t *manifests, const char *ref, const char *digest, size_t size,
                 const char *media_type)
{
  index_untag (manifests, ref, true);
  size_t i;
  json_t *e;
  json_array_foreach (manifests, i, e)
  {
    const char *d = store_entry_digest (e);
    if (d && strcmp (d, digest) == 0 && store_entry_ref (e) == NULL)
      {
        json_object_set_new (e, "annotations", json_pack ("{s:s}", ANN_REF, ref));
        return;
      }
  }
  json_array_append_new (manifests,
                         json_pack ("{s:s, s:s, s:I, s:{s:s}}", "mediaType",
                                    media_type ? media_type : MT_MANIFEST, "digest", digest, "size",
                                    (json_int_t)size, "annotations", ANN_REF, ref));
}

void
store_index_set_repo_digest (json_t *manifests, const char *ref, const char *digest)
{
  size_t i;
  json_t *e;
  json_array_foreach (manifests, i, e)
  {
    const char *r = store_entry_ref (e);
    if (r && strcmp (r, ref) == 0)
      json_object_set_new (json_object_get (e, "annotations"), ANN_REPO_DIGEST,
                           json_string (digest));
  }
}

const char *
store_entry_repo_digest (json_t *e)
{
  const char *d
      = json_string_value (json_object_get (json_object_get (e, "annotations"), ANN_REPO_DIGEST));
  return d && imagefmt_digest_parse (d, NULL, NULL) == 0 ? d : NULL;
}

int
imagefmt_store_set_repo_digest (struct imagefmt_store *s, const char *ref, const char *digest,
                                nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_json json_t *idx = NULL;
  cleanup_error nook_error_t not_tag = NULL;
  cleanup_free char *full = imagefmt_ref_normalize_tag (ref, &not_tag);
  if (full == NULL) /* an ID or a digest: no tag to record it on */
    return 0;
  if (imagefmt_digest_parse (digest, NULL, err) < 0 || imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  if (store_load_index (s, &idx, err) < 0)
    return -1;
  bool found = false;
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (idx, "manifests"), i, e)
  {
    const char *r = store_entry_ref (e);
    found |= r && strcmp (r, full) == 0;
  }
  if (!found)
    return 0;
  store_index_set_repo_digest (json_object_get (idx, "manifests"), full, digest);
  return store_save_index (s, idx, err);
}

int
imagefmt_store_tag (struct imagefmt_store *s, const char *ref, const char *manifest_digest,
                    nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_json json_t *idx = NULL;
  cleanup_free char *full = imagefmt_ref_normalize_tag (ref, err);
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (full == NULL || imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  if (store_read_blob (s, manifest_digest, MAX_JSON, &data, &len, err) < 0
      || store_load_index (s, &idx, err) < 0)
    return -1;
  store_index_tag (json_object_get (idx, "manifests"), full, manifest_digest, len, NULL);
  return store_save_index (s, idx, err);
}

/* ---- import ---- */

/* An unnamed temp file in blobs/sha256 (O_TMPFILE), or a named one when the file
 * system has no O_TMPFILE (*tmpname set then). */
static int
blob_tmp_open (struct imagefmt_store *s, char **tmpname, nook_error_t *err)
{
  *tmpname = NULL;
  int fd = openat (s->blobsfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
  if (fd >= 0)
    return fd;
  static unsigned counter;
  *tmpname = xasprintf (".tmp-%d-%u", (int)getpid (), counter++);
  fd = openat (s->blobsfd, *tmpname, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      free (*tmpname);
      *tmpname = NULL;
      return nook_error_set (err, errno, "create temporary blob in '%s/blobs/sha256'", s->root);
    }
  return fd;
}

static int
blob_tmp_commit (struct imagefmt_store *s, int fd, const char *tmpname, const char *hex,
                 nook_error_t *err)
{
  if (fsync (fd) < 0)
    return nook_error_set (err, errno, "fsync blob %s", hex);
  if (tmpname)
    {
      if (renameat (s->blobsfd, tmpname, s->blobsfd, hex) < 0)
        return nook_error_set (err, errno, "rename blob %s", hex);
      return 0;
    }
  char p[32];
  fs_fd_path (fd, p);
  if (linkat (AT_FDCWD, p, s->blobsfd, hex, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "link blob %s", hex);
  return 0;
}

/* Copy fd into out while hashing; *gzip from the magic bytes. */
static int
copy_hash (int fd, int out, char **digest, uint64_t *total, bool *gzip, nook_error_t *err)
{
  struct imagefmt_digester *d = imagefmt_digester_new ();
  char buf[65536];
  *total = 0;
  *gzip = false;
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          imagefmt_digester_free (d);
          return nook_error_set (err, errno, "read input");
        }
      if (n == 0)
        break;
      if (*total == 0 && n >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b)
        *gzip = true;
      imagefmt_digester_update (d, buf, (size_t)n);
      if (fs_write_all (out, buf, (size_t)n) < 0)
        {
          imagefmt_digester_free (d);
          return nook_error_set (err, errno, "write temporary blob");
        }
      *total += (uint64_t)n;
    }
  *digest = imagefmt_digester_finish (d);
  return 0;
}

/* Digest and size of the decompressed stream of fd (from its current offset), also
 * written to out when out >= 0. */
static int
uncompressed_digest (int fd, int out, char **digest, uint64_t *size, nook_error_t *err)
{
  if (imagefmt_archive_load (err) < 0)
    return -1;
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  if (a == NULL)
    oom ();
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  archive_read_support_filter_xz (a);
  archive_read_support_filter_bzip2 (a);
  archive_read_support_format_raw (a);
  struct imagefmt_digester *d = imagefmt_digester_new ();
  int ret = 0;
  *size = 0;
  if (archive_read_open_fd (a, fd, 65536) != ARCHIVE_OK
      || archive_read_next_header (a, &e) != ARCHIVE_OK)
    ret = nook_error_set (err, 0, "decompress: %s", archive_error_string (a));
  char buf[65536];
  la_ssize_t n = 0;
  while (ret == 0 && (n = archive_read_data (a, buf, sizeof buf)) > 0)
    {
      imagefmt_digester_update (d, buf, (size_t)n);
      *size += (uint64_t)n;
      if (out >= 0 && fs_write_all (out, buf, (size_t)n) < 0)
        ret = nook_error_set (err, errno, "write temporary blob");
    }
  if (ret == 0 && n < 0)
    ret = nook_error_set (err, 0, "decompress: %s", archive_error_string (a));
  archive_read_free (a);
  if (ret < 0)
    {
      imagefmt_digester_free (d);
      return -1;
    }
  *digest = imagefmt_digester_finish (d);
  return 0;
}

static char *
rfc3339 (int64_t t)
{
  time_t tt = (time_t)t;
  struct tm tm;
  char buf[64];
  if (gmtime_r (&tt, &tm) == NULL || strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return xstrdup ("1970-01-01T00:00:00Z");
  return xstrdup (buf);
}

const char *
imagefmt_store_arch (void)
{
  static struct utsname u;
  if (uname (&u) < 0)
    return "amd64";
  static const struct
  {
    const char *k, *o;
  } map[] = { { "x86_64", "amd64" }, { "aarch64", "arm64" },  { "i686", "386" },
              { "i386", "386" },     { "armv7l", "arm" },     { "ppc64le", "ppc64le" },
              { "s390x", "s390x" },  { "riscv64", "riscv64" } };
  for (size_t i = 0; i < ARRAY_SIZE (map); i++)
    if (strcmp (u.machine, map[i].k) == 0)
      return map[i].o;
  return u.machine;
}

json_t *
imagefmt_store_default_config (int64_t created, const char *comment)
{
  cleanup_free char *c = rfc3339 (created);
  json_t *j
      = json_pack ("{s:s, s:s, s:s, s:{}, s:{s:s, s:[]}}", "architecture", imagefmt_store_arch (),
                   "os", "linux", "created", c, "config", "rootfs", "type", "layers", "diff_ids");
  json_t *h = json_pack ("{s:s}", "created", c);
  if (comment)
    json_object_set_new (h, "comment", json_string (comment));
  json_object_set_new (j, "history", json_pack ("[o]", h));
  return j;
}

struct import_state
{
  char *layer, *config, *manifest;
  bool made_layer, made_config, made_manifest;
};

static int
write_image (struct imagefmt_store *s, struct import_state *st, const json_t *config,
             const char *diff_id, uint64_t blob_size, uint64_t usize, bool gzip, const char *full,
             nook_error_t *err)
{
  cleanup_json json_t *cfg = config ? json_deep_copy (config)
                                    : imagefmt_store_default_config ((int64_t)time (NULL), NULL);
  cleanup_json json_t *m = NULL;
  cleanup_json json_t *idx = NULL;
  size_t csize = 0, msize = 0;
  json_object_set_new (cfg, "rootfs",
                       json_pack ("{s:s, s:[s]}", "type", "layers", "diff_ids", diff_id));
  if (put_json (s, cfg, &st->config, &csize, &st->made_config, err) < 0)
    return -1;
  cleanup_free char *us = xasprintf ("%llu", (unsigned long long)usize);
  m = json_pack ("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2,
                 "mediaType", MT_MANIFEST, "config", "mediaType", MT_CONFIG, "digest", st->config,
                 "size", (json_int_t)csize, "layers", "mediaType",
                 gzip ? MT_LAYER_GZIP : MT_LAYER_TAR, "digest", st->layer, "size",
                 (json_int_t)blob_size, "annotations", ANN_SIZE, us);
  if (m == NULL)
    return nook_error_set (err, EINVAL, "build manifest");
  if (put_json (s, m, &st->manifest, &msize, &st->made_manifest, err) < 0
      || store_load_index (s, &idx, err) < 0)
    return -1;
  json_t *manifests = json_object_get (idx, "manifests");
  if (full)
    store_index_tag (manifests, full, st->manifest, msize, NULL);
  else if (!store_index_has (manifests, st->manifest))
    json_array_append_new (manifests,
                           json_pack ("{s:s, s:s, s:I}", "mediaType", MT_MANIFEST, "digest",
                                      st->manifest, "size", (json_int_t)msize));
  return store_save_index (s, idx, err);
}

/* A tarball compressed with xz, zstd or bzip2 is stored decompressed, as Docker's import
 * does (OCI has no xz media type, and a plain layer's digest is its diff ID); gzip is kept
 * as it is.  *tfd and *tmpname are replaced by the decompressed blob's. */
static int
decompress_other (struct imagefmt_store *s, int *tfd, char **tmpname, struct import_state *st,
                  uint64_t *total, nook_error_t *err)
{
  unsigned char head[8];
  ssize_t hn = pread (*tfd, head, sizeof head, 0);
  enum imagefmt_compression c = imagefmt_compression_detect (head, hn > 0 ? (size_t)hn : 0);
  if (c != IMAGEFMT_COMPRESSION_XZ && c != IMAGEFMT_COMPRESSION_ZSTD
      && c != IMAGEFMT_COMPRESSION_BZIP2)
    return 0;
  char *name2 = NULL;
  int t2 = blob_tmp_open (s, &name2, err);
  char *plain = NULL;
  uint64_t size = 0;
  if (t2 < 0)
    return -1;
  if (lseek (*tfd, 0, SEEK_SET) < 0 || uncompressed_digest (*tfd, t2, &plain, &size, err) < 0)
    {
      if (name2)
        unlinkat (s->blobsfd, name2, 0);
      free (name2);
      close (t2);
      return nook_error_wrap (err, "%s", imagefmt_compression_name (c));
    }
  if (*tmpname)
    unlinkat (s->blobsfd, *tmpname, 0);
  free (*tmpname);
  close (*tfd);
  *tfd = t2;
  *tmpname = name2;
  free (st->layer);
  st->layer = plain;
  *total = size;
  return 0;
}

static int
import_locked (struct imagefmt_store *s, int fd, const json_t *config, const char *full,
               struct import_state *st, nook_error_t *err)
{
  cleanup_free char *tmpname = NULL;
  cleanup_free char *diff = NULL;
  uint64_t total = 0, usize = 0;
  bool gzip = false;
  int ret = -1;
  int tfd = blob_tmp_open (s, &tmpname, err);
  if (tfd < 0)
    return -1;
  if (copy_hash (fd, tfd, &st->layer, &total, &gzip, err) < 0)
    goto out;
  if (decompress_other (s, &tfd, &tmpname, st, &total, err) < 0)
    goto out;
  if (total == 0)
    {
      nook_error_set (err, 0, "empty input: not a tar archive");
      goto out;
    }
  if (lseek (tfd, 0, SEEK_SET) < 0 || imagefmt_layer_validate (tfd, NULL, err) < 0)
    goto out;
  if (gzip)
    {
      if (lseek (tfd, 0, SEEK_SET) < 0 || uncompressed_digest (tfd, -1, &diff, &usize, err) < 0)
        goto out;
    }
  else
    {
      diff = xstrdup (st->layer);
      usize = total;
    }
  st->made_layer = !store_blob_exists (s, st->layer + 7);
  if (st->made_layer && blob_tmp_commit (s, tfd, tmpname, st->layer + 7, err) < 0)
    {
      st->made_layer = false;
      goto out;
    }
  if (st->made_layer && tmpname)
    {
      free (tmpname);
      tmpname = NULL;
    }
  ret = write_image (s, st, config, diff, total, usize, gzip, full, err);
out:
  if (tmpname)
    unlinkat (s->blobsfd, tmpname, 0);
  close (tfd);
  return ret;
}

int
imagefmt_store_import_tar (struct imagefmt_store *s, int fd, const json_t *config, const char *ref,
                           char **id_out, nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_free char *full = NULL;
  struct import_state st = { 0 };
  if (ref && (full = imagefmt_ref_normalize_tag (ref, err)) == NULL)
    return -1;
  if (imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  int ret = import_locked (s, fd, config, full, &st, err);
  if (ret < 0)
    {
      if (st.made_manifest)
        store_remove_blob (s, st.manifest);
      if (st.made_config)
        store_remove_blob (s, st.config);
      if (st.made_layer)
        store_remove_blob (s, st.layer);
    }
  else if (id_out)
    *id_out = steal_pointer (&st.config);
  free (st.layer);
  free (st.config);
  free (st.manifest);
  return ret;
}
