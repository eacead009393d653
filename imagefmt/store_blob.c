/* imagefmt/store_blob.c: see store_blob.h. */
#include "imagefmt/store_blob.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/manifest.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct imagefmt_blob_writer
{
  struct imagefmt_store *s;
  int fd;
  char *tmpname; /* when the file system has no O_TMPFILE */
  char *expect;
  int64_t expect_size, size;
  struct imagefmt_digester *d;
};

int
imagefmt_blob_writer_open (struct imagefmt_store *s, const char *expect, int64_t expect_size,
                           struct imagefmt_blob_writer **out, nook_error_t *err)
{
  if (imagefmt_digest_parse (expect, NULL, err) < 0)
    return -1;
  struct imagefmt_blob_writer *w = xzalloc (sizeof *w);
  w->s = s;
  w->expect = xstrdup (expect);
  w->expect_size = expect_size;
  w->fd = openat (s->blobsfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
  if (w->fd < 0)
    {
      static unsigned counter;
      w->tmpname = xasprintf (".tmp-%d-%u-%.12s", (int)getpid (),
                              __atomic_fetch_add (&counter, 1, __ATOMIC_RELAXED), expect + 7);
      w->fd = openat (s->blobsfd, w->tmpname, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0644);
      if (w->fd < 0)
        {
          nook_error_set (err, errno, "create a temporary blob in '%s/blobs/sha256'", s->root);
          free (w->tmpname);
          free (w->expect);
          free (w);
          return -1;
        }
    }
  w->d = imagefmt_digester_new ();
  *out = w;
  return 0;
}

int
imagefmt_blob_writer_write (struct imagefmt_blob_writer *w, const void *data, size_t n,
                            nook_error_t *err)
{
  if (w->expect_size >= 0 && w->size + (int64_t)n > w->expect_size)
    return nook_error_set (err, EIO, "blob %s is larger than the %lld bytes its descriptor says",
                           w->expect, (long long)w->expect_size);
  imagefmt_digester_update (w->d, data, n);
  if (fs_write_all (w->fd, data, n) < 0)
    return nook_error_set (err, errno, "write blob %s into '%s/blobs/sha256'", w->expect,
                           w->s->root);
  w->size += (int64_t)n;
  return 0;
}

int64_t
imagefmt_blob_writer_size (const struct imagefmt_blob_writer *w)
{
  return w->size;
}

void
imagefmt_blob_writer_abort (struct imagefmt_blob_writer *w)
{
  if (w == NULL)
    return;
  if (w->tmpname)
    unlinkat (w->s->blobsfd, w->tmpname, 0);
  if (w->fd >= 0)
    close (w->fd);
  imagefmt_digester_free (w->d);
  free (w->tmpname);
  free (w->expect);
  free (w);
}

int
imagefmt_blob_writer_commit (struct imagefmt_blob_writer *w, nook_error_t *err)
{
  cleanup_free char *got = imagefmt_digester_finish (w->d);
  int ret = 0;
  w->d = NULL;
  if (w->expect_size >= 0 && w->size != w->expect_size)
    ret = nook_error_set (err, EIO, "blob %s is %lld bytes, its descriptor says %lld", w->expect,
                          (long long)w->size, (long long)w->expect_size);
  else if (strcmp (got, w->expect) != 0)
    ret = nook_error_set (err, EIO, "blob %s is corrupt: its content has digest %s", w->expect,
                          got);
  else if (fsync (w->fd) < 0)
    ret = nook_error_set (err, errno, "fsync blob %s", w->expect);
  else if (w->tmpname)
    {
      if (renameat (w->s->blobsfd, w->tmpname, w->s->blobsfd, w->expect + 7) < 0)
        ret = nook_error_set (err, errno, "rename blob %s", w->expect);
      else
        {
          free (w->tmpname);
          w->tmpname = NULL;
        }
    }
  else
    {
      char p[32];
      fs_fd_path (w->fd, p);
      if (linkat (AT_FDCWD, p, w->s->blobsfd, w->expect + 7, AT_SYMLINK_FOLLOW) < 0
          && errno != EEXIST)
        ret = nook_error_set (err, errno, "link blob %s", w->expect);
    }
  imagefmt_blob_writer_abort (w);
  return ret;
}

bool
imagefmt_store_has_blob (struct imagefmt_store *s, const char *digest)
{
  struct stat st;
  return imagefmt_digest_parse (digest, NULL, NULL) == 0
         && fstatat (s->blobsfd, digest + 7, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
}

int
imagefmt_store_open_blob (struct imagefmt_store *s, const char *digest, int64_t *size,
                          nook_error_t *err)
{
  const char *hex;
  if (imagefmt_digest_parse (digest, &hex, err) < 0)
    return -1;
  int fd = openat (s->blobsfd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open blob %s in '%s'", digest, s->root);
  struct stat st;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return nook_error_set (err, EINVAL, "blob %s in '%s' is not a regular file", digest, s->root);
    }
  if (size)
    *size = st.st_size;
  return fd;
}

int
imagefmt_store_get_blob (struct imagefmt_store *s, const char *digest, size_t max, char **data,
                         size_t *len, nook_error_t *err)
{
  return store_read_blob (s, digest, max, data, len, err);
}

int
imagefmt_store_blob_diff_id (struct imagefmt_store *s, const char *digest, char **diff_id,
                             uint64_t *size, nook_error_t *err)
{
  cleanup_close int fd = imagefmt_store_open_blob (s, digest, NULL, err);
  if (fd < 0 || imagefmt_archive_load (err) < 0)
    return -1;
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  if (a == NULL)
    oom ();
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  archive_read_support_filter_xz (a);
  archive_read_support_format_raw (a);
  struct imagefmt_digester *d = imagefmt_digester_new ();
  int ret = 0;
  *size = 0;
  if (archive_read_open_fd (a, fd, 1 << 17) != ARCHIVE_OK
      || archive_read_next_header (a, &e) != ARCHIVE_OK)
    ret = nook_error_set (err, EINVAL, "layer %s: %s", digest, archive_error_string (a));
  const void *buf;
  size_t n = 0;
  la_int64_t off;
  int r = ARCHIVE_OK;
  while (ret == 0 && (r = archive_read_data_block (a, &buf, &n, &off)) == ARCHIVE_OK)
    {
      imagefmt_digester_update (d, buf, n);
      *size += n;
    }
  if (ret == 0 && r != ARCHIVE_EOF)
    ret = nook_error_set (err, EINVAL, "layer %s: decompress: %s", digest,
                          archive_error_string (a));
  archive_read_free (a);
  if (ret < 0)
    {
      imagefmt_digester_free (d);
      return -1;
    }
  *diff_id = imagefmt_digester_finish (d);
  return 0;
}

int
imagefmt_store_add_image (struct imagefmt_store *s, const char *ref, const char *data, size_t len,
                          const char *media_type, const char *repo_digest, char **manifest_digest,
                          nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_json json_t *idx = NULL;
  struct imagefmt_manifest m;
  if (imagefmt_manifest_parse (data, len, media_type, &m, err) < 0)
    return -1;
  if (m.kind != IMAGEFMT_MANIFEST_IMAGE)
    {
      imagefmt_manifest_clear (&m);
      return nook_error_set (err, EINVAL, "not an image manifest");
    }
  if (imagefmt_store_lock (s, err) < 0)
    {
      imagefmt_manifest_clear (&m);
      return -1;
    }
  locked = s;
  int ret = 0;
  const char *missing = !imagefmt_store_has_blob (s, m.config.digest) ? m.config.digest : NULL;
  for (size_t i = 0; missing == NULL && i < m.n_layers; i++)
    if (!imagefmt_store_has_blob (s, m.layers[i].digest))
      missing = m.layers[i].digest;
  if (missing)
    ret = nook_error_set (err, EAGAIN, "blob %s is no longer in the store", missing);
  cleanup_free char *md = NULL;
  if (ret == 0)
    ret = imagefmt_store_put_blob (s, data, len, NULL, &md, err);
  if (ret == 0)
    ret = store_load_index (s, &idx, err);
  if (ret == 0)
    {
      json_t *manifests = json_object_get (idx, "manifests");
      if (ref)
        {
          store_index_tag (manifests, ref, md, len, m.media_type);
          if (repo_digest && strchr (ref, '@') == NULL)
            store_index_set_repo_digest (manifests, ref, repo_digest);
        }
      else
        {
          bool present = false;
          size_t i;
          json_t *e;
          json_array_foreach (manifests, i, e)
          {
            const char *d = store_entry_digest (e);
            present = present || (d && strcmp (d, md) == 0);
          }
          if (!present)
            json_array_append_new (manifests,
                                   json_pack ("{s:s, s:s, s:I}", "mediaType", m.media_type,
                                              "digest", md, "size", (json_int_t)len));
        }
      ret = store_save_index (s, idx, err);
    }
  imagefmt_manifest_clear (&m);
  if (ret == 0 && manifest_digest)
    *manifest_digest = steal_pointer (&md);
  return ret;
}

char *
imagefmt_store_manifest_media_type (struct imagefmt_store *s, const char *manifest_digest)
{
  cleanup_json json_t *idx = NULL;
  if (store_load_index (s, &idx, NULL) < 0)
    return NULL;
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (idx, "manifests"), i, e)
  {
    const char *d = store_entry_digest (e);
    const char *mt = json_string_value (json_object_get (e, "mediaType"));
    if (d && mt && strcmp (d, manifest_digest) == 0)
      return xstrdup (mt);
  }
  return NULL;
}

#define SOURCES_DIR "blob-sources"
#define SOURCES_MAX (64u << 10)

void
imagefmt_store_note_blob_source (struct imagefmt_store *s, const char *digest, const char *domain,
                                 const char *repo)
{
  if (imagefmt_digest_parse (digest, NULL, NULL) < 0 || strchr (domain, '\n')
      || strchr (repo, '\n'))
    return;
  if (mkdirat (s->rootfd, SOURCES_DIR, 0700) < 0 && errno != EEXIST)
    return;
  cleanup_close int dfd
      = openat (s->rootfd, SOURCES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return;
  cleanup_free char *line = xasprintf ("%s/%s\n", domain, repo);
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (fs_read_file_at (dfd, digest + 7, SOURCES_MAX, &data, &len, NULL) == 0)
    {
      /* already noted? (whole lines: each ends in '\n') */
      cleanup_free char *nl = xasprintf ("\n%s", line);
      if (strncmp (data, line, strlen (line)) == 0 || strstr (data, nl))
        return;
    }
  if (len > SOURCES_MAX / 2)
    return;
  /* one write(2) of a short line with O_APPEND: concurrent notes do not interleave */
  cleanup_close int fd
      = openat (dfd, digest + 7, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0)
    (void)!write (fd, line, strlen (line));
}

char **
imagefmt_store_repos_with_blob (struct imagefmt_store *s, const char *domain, const char *digest)
{
  cleanup_json json_t *idx = NULL;
  char **out = xzalloc (sizeof (char *));
  {
    cleanup_close int dfd
        = openat (s->rootfd, SOURCES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_free char *data = NULL;
    size_t len = 0;
    size_t dl = strlen (domain);
    if (dfd >= 0 && imagefmt_digest_parse (digest, NULL, NULL) == 0
        && fs_read_file_at (dfd, digest + 7, SOURCES_MAX, &data, &len, NULL) == 0)
      {
        const char *cur = data;
        char *l;
        while ((l = str_next_line (&cur)) != NULL)
          {
            if (strncmp (l, domain, dl) == 0 && l[dl] == '/' && l[dl + 1]
                && !strv_contains (out, l + dl + 1))
              strv_push (&out, l + dl + 1);
            free (l);
          }
      }
  }
  if (store_load_index (s, &idx, NULL) < 0)
    return out;
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (idx, "manifests"), i, e)
  {
    const char *ref = store_entry_ref (e), *d = store_entry_digest (e);
    struct imagefmt_ref r;
    if (ref == NULL || d == NULL || imagefmt_ref_parse (ref, &r, NULL) < 0)
      continue;
    bool same = strcmp (r.domain, domain) == 0 && !strv_contains (out, r.path);
    cleanup_json json_t *m = NULL;
    if (same && store_read_blob_json (s, d, &m, NULL) == 0)
      {
        size_t k;
        json_t *l;
        json_array_foreach (json_object_get (m, "layers"), k, l)
        {
          const char *ld = json_string_value (json_object_get (l, "digest"));
          if (ld && strcmp (ld, digest) == 0)
            {
              strv_push (&out, r.path);
              break;
            }
        }
      }
    imagefmt_ref_clear (&r);
  }
  return out;
}
