/* imagefmt/archive_save.c: `nook save`; see archive.h.
 *
 * The images are resolved and every blob opened under the store lock (so an rmi that
 * runs meanwhile cannot take a layer from under the archive), then written without it.
 * Each blob is hashed as it is copied and checked against its digest; layers stored
 * compressed are decompressed for a docker-archive and checked: a gzip layer inflated at
 * once by its CRC-32 and size (the store checked its digests when it came in), others
 * against their diff ID. */
#include "imagefmt/archive.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/layer_stream.h"
#include "imagefmt/internal.h"
#include "imagefmt/layer_check.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"

int
imagefmt_archive_format_parse (const char *s, enum imagefmt_archive_format *out, nook_error_t *err)
{
  if (strcmp (s, "docker-archive") == 0 || strcmp (s, "docker") == 0)
    *out = IMAGEFMT_ARCHIVE_DOCKER;
  else if (strcmp (s, "oci-archive") == 0)
    *out = IMAGEFMT_ARCHIVE_OCI;
  else if (strcmp (s, "oci-dir") == 0)
    *out = IMAGEFMT_ARCHIVE_OCI_DIR;
  else
    return nook_error_set (err, 0,
                           "invalid format '%s': nook saves docker-archive (the default), "
                           "oci-archive or oci-dir",
                           s);
  return 0;
}

/* ---- where the archive goes: a tar stream or a directory ---- */

struct sink
{
  struct archive *a; /* tar writer, or NULL: the directory dirfd */
  int dirfd;
  int fd; /* the file being written (directory mode) */
  const char *path;
  uint64_t want, done;
};

static int
sink_begin (struct sink *k, const char *path, uint64_t size, int64_t mtime, nook_error_t *err)
{
  k->path = path;
  k->want = size;
  k->done = 0;
  if (k->a == NULL)
    {
      k->fd = openat (k->dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (k->fd < 0)
        return nook_error_set (err, errno, "create '%s'", path);
      return 0;
    }
  struct archive_entry *e = archive_entry_new ();
  if (e == NULL)
    oom ();
  archive_entry_set_pathname (e, path);
  archive_entry_set_mode (e, S_IFREG | 0644);
  archive_entry_set_size (e, (la_int64_t)size);
  archive_entry_set_mtime (e, mtime, 0);
  int r = archive_write_header (k->a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return nook_error_set (err, EIO, "write '%s': %s", path, archive_error_string (k->a));
  return 0;
}

static int
sink_data (struct sink *k, const void *buf, size_t n, nook_error_t *err)
{
  if (k->done + n > k->want)
    return nook_error_set (err, EIO, "'%s': more data than its size %llu", k->path,
                           (unsigned long long)k->want);
  k->done += n;
  if (k->a == NULL)
    {
      if (fs_write_all (k->fd, buf, n) < 0)
        return nook_error_set (err, errno, "write '%s'", k->path);
      return 0;
    }
  if (archive_write_data (k->a, buf, n) != (la_ssize_t)n)
    return nook_error_set (err, EIO, "write '%s': %s", k->path, archive_error_string (k->a));
  return 0;
}

static int
sink_end (struct sink *k, nook_error_t *err)
{
  if (k->a == NULL && k->fd >= 0)
    close (take_fd (&k->fd));
  if (k->done != k->want)
    return nook_error_set (err, EIO, "'%s': %llu bytes instead of %llu", k->path,
                           (unsigned long long)k->done, (unsigned long long)k->want);
  return 0;
}

static int
sink_put (struct sink *k, const char *path, const void *data, size_t len, int64_t mtime,
          nook_error_t *err)
{
  if (sink_begin (k, path, len, mtime, err) < 0 || sink_data (k, data, len, err) < 0)
    return -1;
  return sink_end (k, err);
}

static int
sink_dir (struct sink *k, const char *path, int64_t mtime, nook_error_t *err)
{
  if (k->a == NULL)
    {
      if (mkdirat (k->dirfd, path, 0755) < 0 && errno != EEXIST)
        return nook_error_set (err, errno, "create directory '%s'", path);
      return 0;
    }
  struct archive_entry *e = archive_entry_new ();
  if (e == NULL)
    oom ();
  cleanup_free char *p = xasprintf ("%s/", path);
  archive_entry_set_pathname (e, p);
  archive_entry_set_mode (e, S_IFDIR | 0755);
  archive_entry_set_size (e, 0);
  archive_entry_set_mtime (e, mtime, 0);
  int r = archive_write_header (k->a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return nook_error_set (err, EIO, "write '%s': %s", path, archive_error_string (k->a));
  return 0;
}

/* ---- the images ---- */

struct simg
{
  char *id, *mdigest, *mtype;
  char *mtext; /* the manifest's bytes */
  size_t mlen;
  char *ctext; /* the config's bytes */
  size_t clen;
  int64_t created;
  char **tags;         /* full references */
  char **layers;       /* blob digests */
  char **diff_ids;     /* from the config */
  char **mtypes;       /* layer media types */
  uint64_t *usize;     /* uncompressed sizes from the manifest (0: unknown) */
  int *fds;            /* layer blobs, opened under the lock */
  struct preps *preps; /* layers decompressed ahead (docker-archive), or NULL */
};

static void
simg_free (struct simg *g)
{
  size_t n = g->layers ? strv_len (g->layers) : 0;
  for (size_t i = 0; i < n; i++)
    {
      if (g->fds && g->fds[i] >= 0)
        close (g->fds[i]);
    }
  free (g->fds);
  free (g->id);
  free (g->mdigest);
  free (g->mtype);
  free (g->mtext);
  free (g->ctext);
  strv_free (g->tags);
  strv_free (g->layers);
  strv_free (g->diff_ids);
  strv_free (g->mtypes);
  free (g->usize);
}

struct save
{
  struct imagefmt_store *s;
  struct simg *imgs;
  size_t n;
};

static int64_t
parse_created (json_t *cfg)
{
  struct tm tm = { 0 };
  const char *c = json_string_value (json_object_get (cfg, "created"));
  if (c == NULL || strptime (c, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  int64_t t = (int64_t)timegm (&tm);
  return t > 0 ? t : 0;
}

static int
simg_load (struct imagefmt_store *s, const char *mdigest, struct simg *g, nook_error_t *err)
{
  cleanup_json json_t *m = NULL;
  cleanup_json json_t *cfg = NULL;
  json_error_t je;
  g->mdigest = xstrdup (mdigest);
  if (store_read_blob (s, mdigest, MAX_JSON, &g->mtext, &g->mlen, err) < 0)
    return -1;
  if ((m = json_loadb (g->mtext, g->mlen, 0, &je)) == NULL)
    return nook_error_set (err, 0, "manifest %s: %s", mdigest, je.text);
  const char *mt = json_string_value (json_object_get (m, "mediaType"));
  g->mtype = xstrdup (mt ? mt : MT_OCI_MANIFEST);
  const char *cd = store_manifest_config (m);
  if (imagefmt_digest_parse (cd, NULL, err) < 0)
    return nook_error_wrap (err, "manifest %s: config", mdigest);
  g->id = xstrdup (cd);
  if (store_read_blob (s, cd, MAX_JSON, &g->ctext, &g->clen, err) < 0)
    return -1;
  if ((cfg = json_loadb (g->ctext, g->clen, 0, &je)) == NULL)
    return nook_error_set (err, 0, "config %s: %s", cd, je.text);
  g->created = parse_created (cfg);
  json_t *layers = json_object_get (m, "layers");
  json_t *diffs = json_object_get (json_object_get (cfg, "rootfs"), "diff_ids");
  size_t n = json_array_size (layers);
  if (!json_is_array (layers) || !json_is_array (diffs) || json_array_size (diffs) != n)
    return nook_error_set (err, 0, "image %.19s: %zu layers but %zu diff IDs", cd, n,
                           json_array_size (diffs));
  g->layers = xzalloc (sizeof (char *));
  g->diff_ids = xzalloc (sizeof (char *));
  g->mtypes = xzalloc (sizeof (char *));
  g->usize = xzalloc ((n + 1) * sizeof *g->usize);
  g->fds = xzalloc ((n + 1) * sizeof *g->fds);
  for (size_t i = 0; i <= n; i++)
    g->fds[i] = -1;
  for (size_t i = 0; i < n; i++)
    {
      json_t *l = json_array_get (layers, i);
      const char *d = json_string_value (json_object_get (l, "digest"));
      const char *diff = json_string_value (json_array_get (diffs, i));
      const char *lt = json_string_value (json_object_get (l, "mediaType"));
      if (imagefmt_digest_parse (d, NULL, err) < 0 || imagefmt_digest_parse (diff, NULL, err) < 0)
        return nook_error_wrap (err, "image %.19s: layer %zu", cd, i);
      strv_push (&g->layers, d);
      strv_push (&g->diff_ids, diff);
      strv_push (&g->mtypes, lt ? lt : "application/vnd.oci.image.layer.v1.tar");
      const char *us
          = json_string_value (json_object_get (json_object_get (l, "annotations"), ANN_SIZE));
      if ((us == NULL || parse_uint (us, UINT64_MAX, &g->usize[i], "size", NULL) < 0)
          && !store_layer_size_get (s, d, &g->usize[i]))
        g->usize[i] = 0;
      g->fds[i] = openat (s->blobsfd, d + 7, O_RDONLY | O_CLOEXEC);
      if (g->fds[i] < 0)
        return nook_error_set (err, errno, "image %.19s: layer blob %s", cd, d);
    }
  return 0;
}

/* The image with config `id` among those already collected, or a new slot. */
static struct simg *
save_slot (struct save *sv, const char *mdigest, bool *fresh)
{
  for (size_t i = 0; i < sv->n; i++)
    if (strcmp (sv->imgs[i].mdigest, mdigest) == 0)
      {
        *fresh = false;
        return &sv->imgs[i];
      }
  sv->imgs = xreallocarray (sv->imgs, sv->n + 1, sizeof *sv->imgs);
  memset (&sv->imgs[sv->n], 0, sizeof *sv->imgs);
  *fresh = true;
  return &sv->imgs[sv->n++];
}

static int
add_image (struct save *sv, const char *mdigest, const char *tag, nook_error_t *err)
{
  bool fresh;
  struct simg *g = save_slot (sv, mdigest, &fresh);
  if (fresh)
    {
      g->tags = xzalloc (sizeof (char *));
      if (simg_load (sv->s, mdigest, g, err) < 0)
        return -1;
    }
  if (tag && !strv_contains (g->tags, tag))
    strv_push (&g->tags, tag);
  return 0;
}

/* A reference without tag or digest: "busybox", "localhost:5000/a". */
static bool
name_only (const char *arg)
{
  const char *slash = strrchr (arg, '/');
  return strchr (slash ? slash : arg, ':') == NULL && strchr (arg, '@') == NULL;
}

static int
collect_one (struct save *sv, json_t *manifests, const char *arg, nook_error_t *err)
{
  struct imagefmt_ref r;
  if (name_only (arg) && imagefmt_ref_parse (arg, &r, NULL) == 0)
    {
      /* Every tag of that repository, as docker save does. */
      cleanup_free char *name = imagefmt_ref_name (&r);
      size_t i, found = 0;
      json_t *e;
      imagefmt_ref_clear (&r);
      json_array_foreach (manifests, i, e)
      {
        const char *er = store_entry_ref (e), *ed = store_entry_digest (e);
        struct imagefmt_ref x;
        if (er == NULL || ed == NULL || imagefmt_ref_parse (er, &x, NULL) < 0)
          continue;
        cleanup_free char *xn = imagefmt_ref_name (&x);
        bool same = strcmp (xn, name) == 0 && x.tag != NULL;
        imagefmt_ref_clear (&x);
        if (same && add_image (sv, ed, er, err) < 0)
          return -1;
        found += same;
      }
      if (found)
        return 0;
    }
  bool by_id;
  ssize_t at = store_find_entry (sv->s, manifests, arg, &by_id, err);
  if (at == -2)
    return -1;
  if (at < 0)
    return nook_error_set (err, 0, "No such image: %s", arg);
  json_t *e = json_array_get (manifests, (size_t)at);
  const char *er = store_entry_ref (e);
  bool tagged = !by_id && er && strchr (arg, '@') == NULL;
  return add_image (sv, store_entry_digest (e), tagged ? er : NULL, err);
}

static int
collect (struct save *sv, char *const *refs, nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_json json_t *idx = NULL;
  if (imagefmt_store_lock (sv->s, err) < 0)
    return -1;
  locked = sv->s;
  if (store_load_index (sv->s, &idx, err) < 0)
    return -1;
  for (size_t i = 0; refs[i]; i++)
    if (collect_one (sv, json_object_get (idx, "manifests"), refs[i], err) < 0)
      return -1;
  return 0;
}

/* ---- copying blobs ---- */

/* Copy the blob fd as it is, checking it against digest (NULL: checked already). */
static int
copy_blob (struct sink *k, int fd, const char *path, const char *digest, int64_t mtime,
           nook_error_t *err)
{
  const char *name = digest ? digest : path;
  struct stat st;
  if (fstat (fd, &st) < 0)
    return nook_error_set (err, errno, "stat blob %s", name);
  if (sink_begin (k, path, (uint64_t)st.st_size, mtime, err) < 0)
    return -1;
  struct imagefmt_digester *d = imagefmt_digester_new ();
  char buf[1 << 16];
  off_t off = 0;
  for (;;)
    {
      ssize_t n = pread (fd, buf, sizeof buf, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          imagefmt_digester_free (d);
          return nook_error_set (err, errno, "read blob %s", name);
        }
      if (n == 0)
        break;
      off += n;
      if (digest)
        imagefmt_digester_update (d, buf, (size_t)n);
      if (sink_data (k, buf, (size_t)n, err) < 0)
        {
          imagefmt_digester_free (d);
          return -1;
        }
    }
  cleanup_free char *got = imagefmt_digester_finish (d);
  if (digest && strcmp (got, digest) != 0)
    return nook_error_set (err, 0,
                           "blob %s in the store is corrupt (its content has digest %s): run "
                           "'nook system check'",
                           digest, got);
  return sink_end (k, err);
}

/* The decompressed stream of a blob (layer_stream.h: libdeflate at once for gzip): its
 * size (a counting pass when the manifest did not record it), then its bytes into the
 * sink, checked against the diff ID. */
static int
decompressed_pass (int fd, struct sink *k, int outfd, const char *diff_id, uint64_t *size,
                   nook_error_t *err)
{
  struct imagefmt_layer_stream *st = NULL;
  if (lseek (fd, 0, SEEK_SET) < 0 || imagefmt_layer_stream_open_fd (fd, &st, err) < 0)
    return nook_error_wrap (err, "decompress layer %s", diff_id);
  const void *buf;
  ssize_t n;
  int ret = 0;
  while (ret == 0 && (n = imagefmt_layer_stream_read (st, &buf, err)) != 0)
    if (n < 0)
      ret = nook_error_wrap (err, "decompress layer %s", diff_id);
    else if (k && sink_data (k, buf, (size_t)n, err) < 0)
      ret = -1;
    else if (outfd >= 0 && fs_write_all (outfd, buf, (size_t)n) < 0)
      ret = nook_error_set (err, errno, "write a decompressed layer");
  cleanup_free char *got = NULL;
  uint64_t total = 0;
  if (ret == 0 && imagefmt_layer_stream_finish (st, &got, &total, err) < 0)
    ret = nook_error_wrap (err, "decompress layer %s", diff_id);
  imagefmt_layer_stream_free (st);
  if (ret < 0)
    return -1;
  if (strcmp (got, diff_id) != 0)
    return nook_error_set (err, 0,
                           "layer %s in the store is corrupt (its content has diff ID %s): run "
                           "'nook system check'",
                           diff_id, got);
  *size = total;
  return 0;
}

/* ---- decompressing layers ahead, in parallel ----
 *
 * A docker-archive needs each layer's uncompressed size before its bytes, and its layers
 * in order.  Worker threads (one per CPU) decompress the compressed layers ahead of the
 * writer, in the order it writes them: a gzip layer into memory at once (layer_stream.h),
 * others into unnamed files of <store>/tmp; each is checked against its diff ID before the
 * writer takes it.  They stay at most PREP_AHEAD layers ahead (memory is bounded by that
 * many in-memory layers of at most IMAGEFMT_LAYER_STREAM_MEM_MAX).  A layer nobody
 * prepared (no thread, no O_TMPFILE, the second use of a blob) goes through copy_layer_tar's
 * own pass. */

#define PREP_AHEAD 3

struct prep
{
  int blobfd;
  const char *blob, *diff_id;
  struct imagefmt_layer_stream *st; /* verified, in memory */
  int outfd;                        /* or verified, in an unnamed file */
  nook_error_t err;
  bool done, taken;
};

struct preps
{
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct prep *p;
  size_t n, next, window; /* workers start preps below window */
  bool stop;
  int rootfd;
  pthread_t th[16];
  size_t nth;
};

static void
prep_one (struct preps *pp, struct prep *j)
{
  uint64_t size = 0;
  size_t len = 0;
  if (lseek (j->blobfd, 0, SEEK_SET) < 0
      || imagefmt_layer_stream_open_fd_blob (j->blobfd, &j->st, &j->err) < 0)
    return;
  if (imagefmt_layer_stream_buffer (j->st, &len))
    {
      /* in memory: a gzip blob inflated at once had its CRC-32 and size checked (the
       * store checked its digest and diff ID when it came in; SHA-256 was a fifth of a
       * save's CPU); anything else is checked against its diff ID */
      cleanup_free char *got = NULL;
      if (!imagefmt_layer_stream_crc_checked (j->st)
          && imagefmt_layer_stream_finish (j->st, &got, &size, &j->err) == 0
          && strcmp (got, j->diff_id) != 0)
        nook_error_set (&j->err, 0,
                        "layer %s in the store is corrupt (its content has diff ID %s): run "
                        "'nook system check'",
                        j->diff_id, got);
      return;
    }
  imagefmt_layer_stream_free (j->st);
  j->st = NULL;
  j->outfd = openat (pp->rootfd, "tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (j->outfd < 0)
    return; /* no O_TMPFILE: copy_layer_tar's own pass */
  if (decompressed_pass (j->blobfd, NULL, j->outfd, j->diff_id, &size, &j->err) == 0
      && lseek (j->outfd, 0, SEEK_SET) < 0)
    nook_error_set (&j->err, errno, "rewind a decompressed layer");
}

static void *
prep_worker (void *arg)
{
  struct preps *pp = arg;
  pthread_mutex_lock (&pp->mu);
  for (;;)
    {
      while (!pp->stop && pp->next < pp->n && pp->next >= pp->window)
        pthread_cond_wait (&pp->cv, &pp->mu);
      if (pp->stop || pp->next >= pp->n)
        break;
      struct prep *j = &pp->p[pp->next++];
      pthread_mutex_unlock (&pp->mu);
      prep_one (pp, j);
      pthread_mutex_lock (&pp->mu);
      j->done = true;
      pthread_cond_broadcast (&pp->cv);
    }
  pthread_mutex_unlock (&pp->mu);
  return NULL;
}

/* The compressed layers of the images, in the order save_docker writes them (each blob
 * once), handed to the workers. */
static void
preps_start (struct save *sv, struct preps *pp)
{
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  memset (pp, 0, sizeof *pp);
  pthread_mutex_init (&pp->mu, NULL);
  pthread_cond_init (&pp->cv, NULL);
  pp->rootfd = sv->s->rootfd;
  if (mkdirat (sv->s->rootfd, "tmp", 0700) < 0 && errno != EEXIST)
    return;
  for (size_t k = 0; k < sv->n; k++)
    for (size_t i = 0; sv->imgs[k].layers[i]; i++)
      {
        struct simg *g = &sv->imgs[k];
        unsigned char head[8];
        ssize_t hn = pread (g->fds[i], head, sizeof head, 0);
        bool dup = false;
        for (size_t j = 0; j < pp->n && !dup; j++)
          dup = strcmp (pp->p[j].blob, g->layers[i]) == 0;
        if (dup
            || imagefmt_compression_detect (head, hn > 0 ? (size_t)hn : 0)
                   == IMAGEFMT_COMPRESSION_NONE)
          continue;
        pp->p = xreallocarray (pp->p, pp->n + 1, sizeof *pp->p);
        pp->p[pp->n++] = (struct prep){
          .blobfd = g->fds[i], .blob = g->layers[i], .diff_id = g->diff_ids[i], .outfd = -1
        };
      }
  pp->window = PREP_AHEAD;
  size_t want = cpus > 1 ? (size_t)cpus : 1;
  if (want > ARRAY_SIZE (pp->th))
    want = ARRAY_SIZE (pp->th);
  if (want > pp->n)
    want = pp->n;
  while (pp->nth < want && pthread_create (&pp->th[pp->nth], NULL, prep_worker, pp) == 0)
    pp->nth++;
}

/* The prepared blob, waited for; NULL when none is (then the caller decompresses). */
static struct prep *
preps_take (struct preps *pp, const char *blob)
{
  struct prep *j = NULL;
  if (pp == NULL || pp->nth == 0)
    return NULL;
  pthread_mutex_lock (&pp->mu);
  for (size_t i = 0; i < pp->n && j == NULL; i++)
    if (!pp->p[i].taken && strcmp (pp->p[i].blob, blob) == 0)
      {
        j = &pp->p[i];
        j->taken = true;
        if (pp->window < i + 1 + PREP_AHEAD)
          pp->window = i + 1 + PREP_AHEAD;
        pthread_cond_broadcast (&pp->cv);
      }
  while (j && !j->done)
    {
      /* not idle meanwhile: a layer no worker has started yet is decompressed here */
      if (!pp->stop && pp->next < pp->n && pp->next < pp->window)
        {
          struct prep *h = &pp->p[pp->next++];
          pthread_mutex_unlock (&pp->mu);
          prep_one (pp, h);
          pthread_mutex_lock (&pp->mu);
          h->done = true;
          pthread_cond_broadcast (&pp->cv);
          continue;
        }
      pthread_cond_wait (&pp->cv, &pp->mu);
    }
  pthread_mutex_unlock (&pp->mu);
  return j;
}

static void
preps_end (struct preps *pp)
{
  pthread_mutex_lock (&pp->mu);
  pp->stop = true;
  pthread_cond_broadcast (&pp->cv);
  pthread_mutex_unlock (&pp->mu);
  for (size_t i = 0; i < pp->nth; i++)
    pthread_join (pp->th[i], NULL);
  for (size_t i = 0; i < pp->n; i++)
    {
      imagefmt_layer_stream_free (pp->p[i].st);
      if (pp->p[i].outfd >= 0)
        close (pp->p[i].outfd);
      nook_error_free (&pp->p[i].err);
    }
  free (pp->p);
  pthread_cond_destroy (&pp->cv);
  pthread_mutex_destroy (&pp->mu);
}

/* A prepared layer into the sink (and its memory released). */
static int
copy_prepared (struct sink *k, struct prep *j, const char *path, int64_t mtime, nook_error_t *err)
{
  size_t len = 0;
  const void *buf;
  if (j->err)
    {
      *err = steal_pointer (&j->err);
      return -1;
    }
  if (j->outfd >= 0)
    {
      int r = copy_blob (k, j->outfd, path, NULL, mtime, err);
      close (take_fd (&j->outfd));
      return r;
    }
  buf = imagefmt_layer_stream_buffer (j->st, &len);
  int r = sink_begin (k, path, len, mtime, err) < 0 || sink_data (k, buf, len, err) < 0
                  || sink_end (k, err) < 0
              ? -1
              : 0;
  imagefmt_layer_stream_free (j->st);
  j->st = NULL;
  return r;
}

/* A layer as an uncompressed tar (docker-archive's layer.tar). */
static int
copy_layer_tar (struct sink *k, const struct simg *g, size_t i, const char *path, int64_t mtime,
                nook_error_t *err)
{
  unsigned char head[8];
  ssize_t n = pread (g->fds[i], head, sizeof head, 0);
  enum imagefmt_compression c = imagefmt_compression_detect (head, n > 0 ? (size_t)n : 0);
  if (c == IMAGEFMT_COMPRESSION_NONE)
    {
      if (strcmp (g->layers[i], g->diff_ids[i]) != 0)
        return nook_error_set (err, EIO,
                               "layer blob %s is not compressed but differs from its "
                               "diff ID %s",
                               g->layers[i], g->diff_ids[i]);
      return copy_blob (k, g->fds[i], path, g->layers[i], mtime, err);
    }
  struct prep *j = preps_take (g->preps, g->layers[i]);
  if (j && (j->err || j->st || j->outfd >= 0))
    return copy_prepared (k, j, path, mtime, err);
  uint64_t size = g->usize[i], got = 0;
  if (size == 0 && decompressed_pass (g->fds[i], NULL, -1, g->diff_ids[i], &size, err) < 0)
    return -1;
  if (sink_begin (k, path, size, mtime, err) < 0
      || decompressed_pass (g->fds[i], k, -1, g->diff_ids[i], &got, err) < 0)
    return -1;
  return sink_end (k, err);
}

/* ---- docker-archive ---- */

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

static char *
json_text (json_t *j, size_t flags)
{
  char *s = json_dumps (j, flags);
  if (s == NULL)
    oom ();
  return s;
}

/* One layer of one image in Docker's legacy layout: <v1id>/{VERSION,json,layer.tar}.  The
 * v1 ID is derived from the chain ID and the parent's v1 ID, so that a layer two images
 * share is written once. */
static int
docker_layer (struct sink *k, const struct simg *g, size_t i, const char *chain, const char *parent,
              char **v1_out, char ***written, nook_error_t *err)
{
  cleanup_json json_t *idj = json_pack ("{s:s}", "layer_id", chain);
  if (parent)
    json_object_set_new (idj, "parent", json_string (parent));
  cleanup_free char *idtext = json_text (idj, JSON_SORT_KEYS | JSON_COMPACT);
  cleanup_free char *v1d = imagefmt_digest_data (idtext, strlen (idtext));
  char *v1 = xstrdup (v1d + 7);
  *v1_out = v1;
  if (strv_contains (*written, v1))
    return 0;
  strv_push (written, v1);
  cleanup_free char *created = rfc3339 (g->created);
  cleanup_json json_t *legacy = json_pack ("{s:s, s:s, s:s, s:s}", "id", v1, "created", created,
                                           "os", "linux", "architecture", imagefmt_store_arch ());
  if (parent)
    json_object_set_new (legacy, "parent", json_string (parent));
  cleanup_free char *ltext = json_text (legacy, JSON_SORT_KEYS | JSON_COMPACT);
  cleanup_free char *p_version = xasprintf ("%s/VERSION", v1);
  cleanup_free char *p_json = xasprintf ("%s/json", v1);
  cleanup_free char *p_layer = xasprintf ("%s/layer.tar", v1);
  if (sink_dir (k, v1, g->created, err) < 0
      || sink_put (k, p_version, "1.0", 3, g->created, err) < 0
      || sink_put (k, p_json, ltext, strlen (ltext), g->created, err) < 0)
    return -1;
  return copy_layer_tar (k, g, i, p_layer, g->created, err);
}

static int
save_docker (struct save *sv, struct sink *k, nook_error_t *err)
{
  cleanup_json json_t *manifest = json_array ();
  cleanup_json json_t *repos = json_object ();
  cleanup_strv char **written = xzalloc (sizeof (char *));
  for (size_t n = 0; n < sv->n; n++)
    {
      struct simg *g = &sv->imgs[n];
      cleanup_strv char **chains = store_chain_ids (g->diff_ids);
      cleanup_free char *parent = NULL;
      json_t *paths = json_array ();
      json_t *tags = json_array ();
      for (size_t i = 0; g->layers[i]; i++)
        {
          char *v1 = NULL;
          if (docker_layer (k, g, i, chains[i], parent, &v1, &written, err) < 0)
            {
              json_decref (paths);
              json_decref (tags);
              return -1;
            }
          json_array_append_new (paths, json_sprintf ("%s/layer.tar", v1));
          free (parent);
          parent = v1;
        }
      cleanup_free char *cpath = xasprintf ("%s.json", g->id + 7);
      if (!strv_contains (written, cpath))
        {
          strv_push (&written, cpath);
          if (sink_put (k, cpath, g->ctext, g->clen, g->created, err) < 0)
            {
              json_decref (paths);
              json_decref (tags);
              return -1;
            }
        }
      for (size_t t = 0; g->tags[t]; t++)
        {
          struct imagefmt_ref r;
          if (imagefmt_ref_parse (g->tags[t], &r, NULL) < 0)
            continue;
          /* Full names, as podman and skopeo write them: podman would read "busybox:latest"
           * as localhost/busybox:latest; Docker reads both. */
          cleanup_free char *repo = imagefmt_ref_name (&r);
          json_array_append_new (tags, json_string (g->tags[t]));
          json_t *rj = json_object_get (repos, repo);
          if (rj == NULL)
            json_object_set_new (repos, repo, rj = json_object ());
          if (parent && r.tag)
            json_object_set_new (rj, r.tag, json_string (parent));
          imagefmt_ref_clear (&r);
        }
      json_t *entry = json_object ();
      json_object_set_new (entry, "Config", json_string (cpath));
      json_object_set_new (entry, "RepoTags", json_array_size (tags) ? tags : json_null ());
      if (json_array_size (tags) == 0)
        json_decref (tags);
      json_object_set_new (entry, "Layers", paths);
      json_array_append_new (manifest, entry);
    }
  cleanup_free char *mtext = json_text (manifest, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (sink_put (k, "manifest.json", mtext, strlen (mtext), 0, err) < 0)
    return -1;
  if (json_object_size (repos) == 0)
    return 0;
  cleanup_free char *rtext = json_text (repos, JSON_COMPACT | JSON_SORT_KEYS);
  return sink_put (k, "repositories", rtext, strlen (rtext), 0, err);
}

/* ---- OCI layout ---- */

static int
oci_blob (struct sink *k, int fd, const char *data, size_t len, const char *digest, char ***written,
          nook_error_t *err)
{
  if (strv_contains (*written, digest))
    return 0;
  strv_push (written, digest);
  cleanup_free char *path = xasprintf ("blobs/sha256/%s", digest + 7);
  if (fd >= 0)
    return copy_blob (k, fd, path, digest, 0, err);
  return sink_put (k, path, data, len, 0, err);
}

static json_t *
oci_descriptor (const struct simg *g, const char *full)
{
  json_t *d = json_pack ("{s:s, s:s, s:I}", "mediaType", g->mtype, "digest", g->mdigest, "size",
                         (json_int_t)g->mlen);
  struct imagefmt_ref r;
  if (full && imagefmt_ref_parse (full, &r, NULL) == 0)
    {
      json_t *ann = json_object ();
      json_object_set_new (ann, ANN_CONTAINERD_NAME, json_string (full));
      if (r.tag)
        json_object_set_new (ann, ANN_REF, json_string (r.tag));
      json_object_set_new (d, "annotations", ann);
      imagefmt_ref_clear (&r);
    }
  return d;
}

static int
save_oci (struct save *sv, struct sink *k, nook_error_t *err)
{
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  cleanup_strv char **written = xzalloc (sizeof (char *));
  cleanup_json json_t *index
      = json_pack ("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX, "manifests");
  json_t *ms = json_object_get (index, "manifests");
  if (sink_put (k, "oci-layout", layout, sizeof layout - 1, 0, err) < 0
      || sink_dir (k, "blobs", 0, err) < 0 || sink_dir (k, "blobs/sha256", 0, err) < 0)
    return -1;
  for (size_t n = 0; n < sv->n; n++)
    {
      struct simg *g = &sv->imgs[n];
      for (size_t i = 0; g->layers[i]; i++)
        if (oci_blob (k, g->fds[i], NULL, 0, g->layers[i], &written, err) < 0)
          return -1;
      if (oci_blob (k, -1, g->ctext, g->clen, g->id, &written, err) < 0
          || oci_blob (k, -1, g->mtext, g->mlen, g->mdigest, &written, err) < 0)
        return -1;
      if (g->tags[0] == NULL)
        json_array_append_new (ms, oci_descriptor (g, NULL));
      for (size_t t = 0; g->tags[t]; t++)
        json_array_append_new (ms, oci_descriptor (g, g->tags[t]));
    }
  cleanup_free char *itext = json_text (index, JSON_COMPACT | JSON_PRESERVE_ORDER);
  return sink_put (k, "index.json", itext, strlen (itext), 0, err);
}

/* ---- entry point ---- */

static void
free_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

/* An empty (or new) directory for an oci-dir. */
static int
open_out_dir (const char *dir, nook_error_t *err)
{
  if (mkdir (dir, 0755) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "create directory '%s'", dir);
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open directory '%s'", dir);
  cleanup_dir DIR *d = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 3));
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return nook_error_set (err, EEXIST, "'%s' is not empty: oci-dir writes a new directory", dir);
  return take_fd (&fd);
}

int
imagefmt_images_save (struct imagefmt_store *s, char *const *refs, enum imagefmt_archive_format fmt,
                      int outfd, const char *dir, nook_error_t *err)
{
  struct save sv = { .s = s };
  struct sink k = { .dirfd = -1, .fd = -1 };
  __attribute__ ((cleanup (free_writep))) struct archive *a = NULL;
  struct archive_out *out = NULL;
  int ret = -1;
  if (refs == NULL || refs[0] == NULL)
    return nook_error_set (err, 0, "no image to save");
  if (imagefmt_archive_load (err) < 0 || collect (&sv, refs, err) < 0)
    goto out;
  if (fmt == IMAGEFMT_ARCHIVE_OCI_DIR)
    {
      if ((k.dirfd = open_out_dir (dir, err)) < 0)
        goto out;
    }
  else
    {
      if ((a = archive_write_new ()) == NULL)
        oom ();
      if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK)
        {
          nook_error_set (err, EIO, "write archive: %s", archive_error_string (a));
          goto out;
        }
      if (imagefmt_archive_out_open (a, outfd, &out, err) < 0)
        goto out;
      k.a = a;
    }
  if (fmt == IMAGEFMT_ARCHIVE_DOCKER)
    {
      struct preps pp;
      preps_start (&sv, &pp);
      for (size_t i = 0; i < sv.n; i++)
        sv.imgs[i].preps = &pp;
      ret = save_docker (&sv, &k, err);
      preps_end (&pp);
      for (size_t i = 0; i < sv.n; i++)
        sv.imgs[i].preps = NULL;
    }
  else
    ret = save_oci (&sv, &k, err);
  if (ret == 0 && a && archive_write_close (a) != ARCHIVE_OK)
    ret = nook_error_set (err, imagefmt_archive_out_error (out), "write archive: %s",
                          archive_error_string (a));
out:
  if (a)
    archive_write_free (steal_pointer (&a)); /* before out, which its close uses */
  imagefmt_archive_out_free (out);
  if (k.fd >= 0)
    close (k.fd);
  if (k.dirfd >= 0)
    close (k.dirfd);
  for (size_t i = 0; i < sv.n; i++)
    simg_free (&sv.imgs[i]);
  free (sv.imgs);
  return ret;
}
