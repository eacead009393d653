/* imagefmt/store.c: see store.h.
 *
 * Blobs are written to an O_TMPFILE (or a named temp file) in blobs/sha256, fsynced
 * and linked into place under their verified digest; index.json is replaced
 * atomically last, so a failed write leaves at most unreferenced complete blobs,
 * which the failing call removes when it made them. */
#include "imagefmt/store.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/layer.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define ANN_REF "org.opencontainers.image.ref.name"
#define ANN_SIZE "io.github.nook.uncompressed-size"
#define MAX_JSON (16u << 20)

struct imagefmt_store
{
  char *root;
  int rootfd, blobsfd, layersfd, lockfd;
  int lockdepth;
  struct imagefmt_store_hooks hooks;
};

static void
cleanup_jsonp (json_t **j)
{
  if (*j)
    json_decref (*j);
}
#define cleanup_json __attribute__ ((cleanup (cleanup_jsonp)))

static void
cleanup_imagep (struct imagefmt_image **i)
{
  imagefmt_image_free (*i);
}
#define cleanup_image __attribute__ ((cleanup (cleanup_imagep)))

/* ---- opening ---- */

char *
imagefmt_store_default_root (nook_error_t *err)
{
  const char *e = getenv ("NOOK_ROOT");
  if (e && *e)
    return xstrdup (e);
  e = getenv ("XDG_DATA_HOME");
  if (e && *e == '/')
    return xasprintf ("%s/nook", e);
  e = getenv ("HOME");
  if (e == NULL || *e != '/')
    {
      struct passwd *pw = getpwuid (getuid ());
      e = pw ? pw->pw_dir : NULL;
    }
  if (e == NULL || *e != '/')
    {
      nook_error_set (err, ENOENT, "no store directory: set --root, NOOK_ROOT or HOME");
      return NULL;
    }
  return xasprintf ("%s/.local/share/nook", e);
}

static int
open_subdir (int dirfd, const char *name, mode_t mode, nook_error_t *err)
{
  if (mkdirat (dirfd, name, mode) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "create store directory '%s'", name);
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open store directory '%s'", name);
  return fd;
}

int
imagefmt_store_open (const char *root, struct imagefmt_store **out, nook_error_t *err)
{
  cleanup_free char *r = root ? xstrdup (root) : imagefmt_store_default_root (err);
  if (r == NULL)
    return -1;
  if (*r != '/')
    {
      cleanup_free char *cwd = getcwd (NULL, 0);
      if (cwd == NULL)
        return nook_error_set (err, errno, "getcwd");
      char *abs = xasprintf ("%s/%s", cwd, r);
      free (r);
      r = abs;
    }
  while (strlen (r) > 1 && r[strlen (r) - 1] == '/')
    r[strlen (r) - 1] = '\0';
  if (fs_mkdir_p (r, 0700, err) < 0)
    return nook_error_wrap (err, "create store '%s'", r);
  struct imagefmt_store *s = xzalloc (sizeof *s);
  s->rootfd = s->blobsfd = s->layersfd = s->lockfd = -1;
  s->root = steal_pointer (&r);
  cleanup_close int b = -1;
  s->rootfd = open (s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->rootfd < 0)
    {
      nook_error_set (err, errno, "open store '%s'", s->root);
      goto fail;
    }
  b = open_subdir (s->rootfd, "blobs", 0755, err);
  if (b < 0 || (s->blobsfd = open_subdir (b, "sha256", 0755, err)) < 0
      || (s->layersfd = open_subdir (s->rootfd, "layers", 0755, err)) < 0)
    goto fail;
  if (faccessat (s->rootfd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    {
      static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
      if (fs_write_atomic_at (s->rootfd, "oci-layout", layout, sizeof layout - 1, 0644, err) < 0)
        goto fail;
    }
  *out = s;
  return 0;
fail:
  nook_error_wrap (err, "store '%s'", s->root);
  imagefmt_store_close (s);
  return -1;
}

void
imagefmt_store_close (struct imagefmt_store *s)
{
  if (s == NULL)
    return;
  int fds[] = { s->rootfd, s->blobsfd, s->layersfd, s->lockfd };
  for (size_t i = 0; i < ARRAY_SIZE (fds); i++)
    if (fds[i] >= 0)
      close (fds[i]);
  free (s->root);
  free (s);
}

void
imagefmt_store_set_hooks (struct imagefmt_store *s, const struct imagefmt_store_hooks *hooks)
{
  if (hooks)
    s->hooks = *hooks;
  else
    memset (&s->hooks, 0, sizeof s->hooks);
}

const char *
imagefmt_store_root (const struct imagefmt_store *s)
{
  return s->root;
}

int
imagefmt_store_lock (struct imagefmt_store *s, nook_error_t *err)
{
  if (s->lockdepth++ > 0)
    return 0;
  if (s->lockfd < 0)
    s->lockfd = openat (s->rootfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (s->lockfd < 0)
    {
      s->lockdepth--;
      return nook_error_set (err, errno, "open lock file '%s/lock'", s->root);
    }
  while (flock (s->lockfd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        s->lockdepth--;
        return nook_error_set (err, errno, "lock '%s/lock'", s->root);
      }
  return 0;
}

void
imagefmt_store_unlock (struct imagefmt_store *s)
{
  if (s->lockdepth > 0 && --s->lockdepth == 0 && s->lockfd >= 0)
    flock (s->lockfd, LOCK_UN);
}

static void
cleanup_unlockp (struct imagefmt_store **s)
{
  if (*s)
    imagefmt_store_unlock (*s);
}
#define cleanup_unlock __attribute__ ((cleanup (cleanup_unlockp)))

static int
run_hook (struct imagefmt_store *s, int (*fn) (void *arg, nook_error_t *err), void *arg,
          nook_error_t *err)
{
  if (s->hooks.call)
    return s->hooks.call (s->hooks.data, fn, arg, err);
  return fn (arg, err);
}

/* ---- blobs ---- */

static bool
blob_exists (struct imagefmt_store *s, const char *hex)
{
  return faccessat (s->blobsfd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
read_blob (struct imagefmt_store *s, const char *digest, size_t max, char **out, size_t *len,
           nook_error_t *err)
{
  const char *hex;
  if (imagefmt_digest_parse (digest, &hex, err) < 0)
    return -1;
  if (fs_read_file_at (s->blobsfd, hex, max, out, len, err) < 0)
    return nook_error_wrap (err, "blob %s", digest);
  cleanup_free char *got = imagefmt_digest_data (*out, *len);
  if (strcmp (got, digest) != 0)
    {
      free (*out);
      *out = NULL;
      return nook_error_set (err, EIO, "blob %s is corrupt (content has digest %s)", digest, got);
    }
  return 0;
}

static int
read_blob_json (struct imagefmt_store *s, const char *digest, json_t **out, nook_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (read_blob (s, digest, MAX_JSON, &data, &len, err) < 0)
    return -1;
  json_error_t je;
  json_t *j = json_loadb (data, len, JSON_REJECT_DUPLICATES, &je);
  if (j == NULL || !json_is_object (j))
    {
      json_decref (j);
      return nook_error_set (err, EINVAL, "blob %s: invalid JSON: %s", digest,
                             j ? "not an object" : je.text);
    }
  *out = j;
  return 0;
}

int
imagefmt_store_put_blob (struct imagefmt_store *s, const void *data, size_t len, const char *expect,
                         char **digest_out, nook_error_t *err)
{
  cleanup_free char *d = imagefmt_digest_data (data, len);
  if (expect && strcmp (expect, d) != 0)
    return nook_error_set (err, EINVAL, "blob digest mismatch: expected %s, got %s", expect, d);
  if (!blob_exists (s, d + 7) && fs_write_atomic_at (s->blobsfd, d + 7, data, len, 0644, err) < 0)
    return nook_error_wrap (err, "store blob %s", d);
  if (digest_out)
    *digest_out = steal_pointer (&d);
  return 0;
}

static char *
dump_json (const json_t *j)
{
  char *s = json_dumps (j, JSON_SORT_KEYS | JSON_COMPACT);
  if (s == NULL)
    oom ();
  return s;
}

static int
put_json (struct imagefmt_store *s, const json_t *j, char **digest, size_t *size, bool *created,
          nook_error_t *err)
{
  cleanup_free char *text = dump_json (j);
  cleanup_free char *d = imagefmt_digest_data (text, strlen (text));
  *created = !blob_exists (s, d + 7);
  *size = strlen (text);
  return imagefmt_store_put_blob (s, text, strlen (text), NULL, digest, err);
}

static void
remove_blob (struct imagefmt_store *s, const char *digest)
{
  if (imagefmt_digest_parse (digest, NULL, NULL) == 0)
    unlinkat (s->blobsfd, digest + 7, 0);
}

/* ---- the index ---- */

static int
load_index (struct imagefmt_store *s, json_t **out, nook_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  nook_error_t e = NULL;
  if (fs_read_file_at (s->rootfd, "index.json", MAX_JSON, &data, &len, &e) < 0)
    {
      if (e->code != ENOENT)
        {
          *err = e;
          return nook_error_wrap (err, "store index");
        }
      nook_error_free (&e);
      *out = json_pack ("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                        "application/vnd.oci.image.index.v1+json", "manifests");
      return 0;
    }
  json_error_t je;
  json_t *j = json_loadb (data, len, JSON_REJECT_DUPLICATES, &je);
  if (j == NULL || !json_is_array (json_object_get (j, "manifests")))
    {
      json_decref (j);
      return nook_error_set (err, EINVAL, "store index '%s/index.json' is invalid: %s", s->root,
                             j ? "no manifests array" : je.text);
    }
  *out = j;
  return 0;
}

static int
save_index (struct imagefmt_store *s, json_t *idx, nook_error_t *err)
{
  cleanup_free char *text = dump_json (idx);
  return fs_write_atomic_at (s->rootfd, "index.json", text, strlen (text), 0644, err);
}

static const char *
entry_ref (json_t *e)
{
  return json_string_value (json_object_get (json_object_get (e, "annotations"), ANN_REF));
}

static const char *
entry_digest (json_t *e)
{
  const char *d = json_string_value (json_object_get (e, "digest"));
  return d && imagefmt_digest_parse (d, NULL, NULL) == 0 ? d : NULL;
}

static bool
digest_in_index (json_t *manifests, const char *digest)
{
  size_t i;
  json_t *e;
  json_array_foreach (manifests, i, e)
  {
    const char *d = entry_digest (e);
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
      const char *r = entry_ref (e);
      if (r == NULL || strcmp (r, ref) != 0)
        {
          i++;
          continue;
        }
      cleanup_free char *d = xstrdup (entry_digest (e) ? entry_digest (e) : "");
      json_incref (e);
      json_array_remove (manifests, i);
      if (keep_dangling && *d && !digest_in_index (manifests, d))
        {
          json_object_del (e, "annotations");
          json_array_append (manifests, e);
        }
      json_decref (e);
      return;
    }
}

static void
index_tag (json_t *manifests, const char *ref, const char *digest, size_t size)
{
  index_untag (manifests, ref, true);
  size_t i;
  json_t *e;
  json_array_foreach (manifests, i, e)
  {
    const char *d = entry_digest (e);
    if (d && strcmp (d, digest) == 0 && entry_ref (e) == NULL)
      {
        json_object_set_new (e, "annotations", json_pack ("{s:s}", ANN_REF, ref));
        return;
      }
  }
  json_array_append_new (manifests,
                         json_pack ("{s:s, s:s, s:I, s:{s:s}}", "mediaType", MT_MANIFEST, "digest",
                                    digest, "size", (json_int_t)size, "annotations", ANN_REF, ref));
}

int
imagefmt_store_tag (struct imagefmt_store *s, const char *ref, const char *manifest_digest,
                    nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_json json_t *idx = NULL;
  cleanup_free char *full = imagefmt_ref_normalize (ref, err);
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (full == NULL || imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  if (read_blob (s, manifest_digest, MAX_JSON, &data, &len, err) < 0
      || load_index (s, &idx, err) < 0)
    return -1;
  index_tag (json_object_get (idx, "manifests"), full, manifest_digest, len);
  return save_index (s, idx, err);
}

/* ---- images ---- */

void
imagefmt_image_free (struct imagefmt_image *img)
{
  if (img == NULL)
    return;
  free (img->ref);
  free (img->id);
  free (img->manifest_digest);
  json_decref (img->config);
  strv_free (img->layers);
  strv_free (img->diff_ids);
  free (img);
}

static int
digest_array (json_t *arr, const char *key, const char *what, char ***out, nook_error_t *err)
{
  if (!json_is_array (arr))
    return nook_error_set (err, EINVAL, "%s: missing array", what);
  size_t i;
  json_t *e;
  json_array_foreach (arr, i, e)
  {
    const char *d = json_string_value (key ? json_object_get (e, key) : e);
    if (imagefmt_digest_parse (d, NULL, err) < 0)
      {
        strv_free (*out);
        *out = NULL;
        return nook_error_wrap (err, "%s[%zu]", what, i);
      }
    strv_push (out, d);
  }
  if (*out == NULL)
    *out = xzalloc (sizeof (char *));
  return 0;
}

static const char *
manifest_config (json_t *m)
{
  return json_string_value (json_object_get (json_object_get (m, "config"), "digest"));
}

static int
load_image (struct imagefmt_store *s, const char *mdigest, const char *ref,
            struct imagefmt_image **out, nook_error_t *err)
{
  cleanup_json json_t *m = NULL;
  cleanup_image struct imagefmt_image *img = xzalloc (sizeof *img);
  if (read_blob_json (s, mdigest, &m, err) < 0)
    return -1;
  img->manifest_digest = xstrdup (mdigest);
  img->ref = ref ? xstrdup (ref) : NULL;
  const char *cd = manifest_config (m);
  if (imagefmt_digest_parse (cd, NULL, err) < 0)
    return nook_error_wrap (err, "manifest %s: config", mdigest);
  img->id = xstrdup (cd);
  if (read_blob_json (s, cd, &img->config, err) < 0
      || digest_array (json_object_get (m, "layers"), "digest", "manifest layers", &img->layers,
                       err)
             < 0
      || digest_array (json_object_get (json_object_get (img->config, "rootfs"), "diff_ids"), NULL,
                       "config rootfs.diff_ids", &img->diff_ids, err)
             < 0)
    return nook_error_wrap (err, "image %s", ref ? ref : mdigest);
  if (strv_len (img->layers) != strv_len (img->diff_ids))
    return nook_error_set (err, EINVAL, "image %s: %zu layers but %zu diff_ids",
                           ref ? ref : mdigest, strv_len (img->layers), strv_len (img->diff_ids));
  *out = steal_pointer (&img);
  return 0;
}

static char *
entry_config_digest (struct imagefmt_store *s, json_t *e)
{
  cleanup_json json_t *m = NULL;
  const char *d = entry_digest (e);
  if (d == NULL || read_blob_json (s, d, &m, NULL) < 0)
    return NULL;
  const char *c = manifest_config (m);
  return c && imagefmt_digest_parse (c, NULL, NULL) == 0 ? xstrdup (c) : NULL;
}

static bool
is_id_prefix (const char *s)
{
  if (str_has_prefix (s, "sha256:"))
    s += 7;
  size_t n = strlen (s);
  if (n == 0 || n > IMAGEFMT_DIGEST_HEX_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

/* Index of the entry `ref` names, by reference or ID prefix; -1 not found, -2 error. */
static ssize_t
find_entry (struct imagefmt_store *s, json_t *manifests, const char *ref, bool *by_id,
            nook_error_t *err)
{
  size_t i;
  json_t *e;
  struct imagefmt_ref r;
  *by_id = false;
  if (imagefmt_ref_parse (ref, &r, NULL) == 0)
    {
      cleanup_free char *full = imagefmt_ref_full (&r);
      json_array_foreach (manifests, i, e)
      {
        const char *er = entry_ref (e), *ed = entry_digest (e);
        if ((er && strcmp (er, full) == 0) || (r.digest && ed && strcmp (ed, r.digest) == 0))
          {
            imagefmt_ref_clear (&r);
            return (ssize_t)i;
          }
      }
      imagefmt_ref_clear (&r);
    }
  if (!is_id_prefix (ref))
    return -1;
  const char *prefix = str_has_prefix (ref, "sha256:") ? ref + 7 : ref;
  ssize_t found = -1;
  cleanup_free char *found_id = NULL;
  json_array_foreach (manifests, i, e)
  {
    cleanup_free char *id = entry_config_digest (s, e);
    if (id == NULL || !str_has_prefix (id + 7, prefix))
      continue;
    if (found_id && strcmp (found_id, id) != 0)
      {
        nook_error_set (err, EINVAL, "image ID prefix '%s' is ambiguous", ref);
        return -2;
      }
    if (found < 0 || (entry_ref (json_array_get (manifests, (size_t)found)) == NULL))
      found = (ssize_t)i;
    if (found_id == NULL)
      found_id = steal_pointer (&id);
  }
  *by_id = found >= 0;
  return found;
}

int
imagefmt_store_lookup (struct imagefmt_store *s, const char *ref, struct imagefmt_image **out,
                       nook_error_t *err)
{
  cleanup_json json_t *idx = NULL;
  bool by_id;
  if (ref == NULL || *ref == '\0')
    return nook_error_set (err, EINVAL, "empty image reference");
  if (load_index (s, &idx, err) < 0)
    return -1;
  json_t *manifests = json_object_get (idx, "manifests");
  ssize_t i = find_entry (s, manifests, ref, &by_id, err);
  if (i == -2)
    return -1;
  if (i < 0)
    return nook_error_set (err, ENOENT, "No such image: %s", ref);
  json_t *e = json_array_get (manifests, (size_t)i);
  return load_image (s, entry_digest (e), entry_ref (e), out, err);
}

/* ---- unpacked layers ---- */

static char *
chain_id (const char *parent, const char *diff_id)
{
  if (parent == NULL)
    return xstrdup (diff_id);
  cleanup_free char *text = xasprintf ("%s %s", parent, diff_id);
  return imagefmt_digest_data (text, strlen (text));
}

static char **
chain_ids (char *const *diff_ids)
{
  char **out = xzalloc (sizeof (char *));
  for (size_t i = 0; diff_ids[i]; i++)
    strv_push_take (&out, chain_id (i ? out[i - 1] : NULL, diff_ids[i]));
  return out;
}

struct layer_job
{
  int layersfd;
  int blobfd;
  const char *name;
};

static int
job_rm (void *arg, nook_error_t *err)
{
  struct layer_job *j = arg;
  return fs_rm_rf_at (j->layersfd, j->name, err);
}

static int
job_extract (void *arg, nook_error_t *err)
{
  struct layer_job *j = arg;
  cleanup_close int dfd
      = openat (j->layersfd, j->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return nook_error_set (err, errno, "open layer directory '%s'", j->name);
  return imagefmt_layer_extract (j->blobfd, dfd, NULL, err);
}

static int
remove_layer_dir (struct imagefmt_store *s, const char *hex, nook_error_t *err)
{
  cleanup_free char *done = xasprintf ("%s.done", hex);
  struct layer_job j = { .layersfd = s->layersfd, .blobfd = -1, .name = hex };
  if (unlinkat (s->layersfd, done, 0) < 0 && errno != ENOENT)
    return nook_error_set (err, errno, "remove layer marker '%s'", done);
  if (faccessat (s->layersfd, hex, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  return run_hook (s, job_rm, &j, err);
}

static int
unpack_layer (struct imagefmt_store *s, const char *blob, const char *hex, nook_error_t *err)
{
  cleanup_free char *tmp = xasprintf (".tmp-%s", hex);
  cleanup_free char *done = xasprintf ("%s.done", hex);
  cleanup_close int blobfd = -1;
  struct layer_job j = { .layersfd = s->layersfd, .blobfd = -1, .name = tmp };
  if (remove_layer_dir (s, hex, err) < 0)
    return -1;
  if (faccessat (s->layersfd, tmp, F_OK, AT_SYMLINK_NOFOLLOW) == 0
      && run_hook (s, job_rm, &j, err) < 0)
    return nook_error_wrap (err, "remove stale '%s'", tmp);
  if (mkdirat (s->layersfd, tmp, 0755) < 0)
    return nook_error_set (err, errno, "create '%s/layers/%s'", s->root, tmp);
  blobfd = openat (s->blobsfd, blob + 7, O_RDONLY | O_CLOEXEC);
  if (blobfd < 0)
    {
      nook_error_set (err, errno, "open layer blob %s", blob);
      goto fail;
    }
  j.blobfd = blobfd;
  if (run_hook (s, job_extract, &j, err) < 0)
    {
      nook_error_wrap (err, "unpack layer %s", blob);
      goto fail;
    }
  if (renameat (s->layersfd, tmp, s->layersfd, hex) < 0)
    {
      nook_error_set (err, errno, "rename '%s' to '%s'", tmp, hex);
      goto fail;
    }
  close (take_fd (&blobfd));
  blobfd = openat (s->layersfd, done, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (blobfd < 0)
    return nook_error_set (err, errno, "create layer marker '%s'", done);
  return 0;
fail:
  j.blobfd = -1;
  run_hook (s, job_rm, &j, NULL);
  return -1;
}

int
imagefmt_store_layer_dirs (struct imagefmt_store *s, const struct imagefmt_image *img, char ***dirs,
                           nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_strv char **chains = chain_ids (img->diff_ids);
  cleanup_strv char **out = xzalloc (sizeof (char *));
  if (imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  for (size_t i = 0; chains[i]; i++)
    {
      const char *hex = chains[i] + 7;
      cleanup_free char *done = xasprintf ("%s.done", hex);
      struct stat st;
      bool ready = faccessat (s->layersfd, done, F_OK, AT_SYMLINK_NOFOLLOW) == 0
                   && fstatat (s->layersfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0
                   && S_ISDIR (st.st_mode);
      if (!ready && unpack_layer (s, img->layers[i], hex, err) < 0)
        return -1;
      strv_push_take (&out, xasprintf ("%s/layers/%s", s->root, hex));
    }
  *dirs = steal_pointer (&out);
  return 0;
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

/* Digest and size of the decompressed stream of fd (from its current offset). */
static int
uncompressed_digest (int fd, char **digest, uint64_t *size, nook_error_t *err)
{
  if (imagefmt_archive_load (err) < 0)
    return -1;
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  if (a == NULL)
    oom ();
  archive_read_support_filter_gzip (a);
  archive_read_support_format_raw (a);
  struct imagefmt_digester *d = imagefmt_digester_new ();
  int ret = 0;
  *size = 0;
  if (archive_read_open_fd (a, fd, 65536) != ARCHIVE_OK
      || archive_read_next_header (a, &e) != ARCHIVE_OK)
    ret = nook_error_set (err, EINVAL, "decompress: %s", archive_error_string (a));
  char buf[65536];
  la_ssize_t n = 0;
  while (ret == 0 && (n = archive_read_data (a, buf, sizeof buf)) > 0)
    {
      imagefmt_digester_update (d, buf, (size_t)n);
      *size += (uint64_t)n;
    }
  if (ret == 0 && n < 0)
    ret = nook_error_set (err, EINVAL, "decompress: %s", archive_error_string (a));
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

static int64_t
parse_rfc3339 (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return (int64_t)timegm (&tm);
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
      || load_index (s, &idx, err) < 0)
    return -1;
  json_t *manifests = json_object_get (idx, "manifests");
  if (full)
    index_tag (manifests, full, st->manifest, msize);
  else if (!digest_in_index (manifests, st->manifest))
    json_array_append_new (manifests,
                           json_pack ("{s:s, s:s, s:I}", "mediaType", MT_MANIFEST, "digest",
                                      st->manifest, "size", (json_int_t)msize));
  return save_index (s, idx, err);
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
  if (total == 0)
    {
      nook_error_set (err, EINVAL, "empty input: not a tar archive");
      goto out;
    }
  if (lseek (tfd, 0, SEEK_SET) < 0 || imagefmt_layer_validate (tfd, NULL, err) < 0)
    goto out;
  if (gzip)
    {
      if (lseek (tfd, 0, SEEK_SET) < 0 || uncompressed_digest (tfd, &diff, &usize, err) < 0)
        goto out;
    }
  else
    {
      diff = xstrdup (st->layer);
      usize = total;
    }
  st->made_layer = !blob_exists (s, st->layer + 7);
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
  if (ref && (full = imagefmt_ref_normalize (ref, err)) == NULL)
    return -1;
  if (imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  int ret = import_locked (s, fd, config, full, &st, err);
  if (ret < 0)
    {
      if (st.made_manifest)
        remove_blob (s, st.manifest);
      if (st.made_config)
        remove_blob (s, st.config);
      if (st.made_layer)
        remove_blob (s, st.layer);
    }
  else if (id_out)
    *id_out = steal_pointer (&st.config);
  free (st.layer);
  free (st.config);
  free (st.manifest);
  return ret;
}

/* ---- listing ---- */

static uint64_t
manifest_size (json_t *m)
{
  uint64_t total = 0;
  size_t i;
  json_t *l;
  json_array_foreach (json_object_get (m, "layers"), i, l)
  {
    const char *us
        = json_string_value (json_object_get (json_object_get (l, "annotations"), ANN_SIZE));
    uint64_t v = 0;
    if (us == NULL || parse_uint (us, UINT64_MAX, &v, "size", NULL) < 0)
      v = (uint64_t)json_integer_value (json_object_get (l, "size"));
    if (__builtin_add_overflow (total, v, &total))
      total = UINT64_MAX;
  }
  return total;
}

void
imagefmt_listing_free (struct imagefmt_listing *l, size_t n)
{
  for (size_t i = 0; l && i < n; i++)
    {
      free (l[i].ref);
      free (l[i].id);
      free (l[i].manifest_digest);
    }
  free (l);
}

int
imagefmt_store_list (struct imagefmt_store *s, struct imagefmt_listing **out, size_t *n,
                     nook_error_t *err)
{
  cleanup_json json_t *idx = NULL;
  if (load_index (s, &idx, err) < 0)
    return -1;
  json_t *manifests = json_object_get (idx, "manifests");
  struct imagefmt_listing *l = xreallocarray (NULL, json_array_size (manifests) + 1, sizeof *l);
  size_t k = 0, i;
  json_t *e;
  json_array_foreach (manifests, i, e)
  {
    cleanup_json json_t *m = NULL;
    cleanup_json json_t *c = NULL;
    const char *d = entry_digest (e);
    if (d == NULL || read_blob_json (s, d, &m, NULL) < 0)
      continue; /* a broken entry is not listed; lookup reports why */
    const char *cd = manifest_config (m);
    if (imagefmt_digest_parse (cd, NULL, NULL) < 0 || read_blob_json (s, cd, &c, NULL) < 0)
      continue;
    const char *r = entry_ref (e);
    l[k] = (struct imagefmt_listing){
      .ref = r ? xstrdup (r) : NULL,
      .id = xstrdup (cd),
      .manifest_digest = xstrdup (d),
      .created = parse_rfc3339 (json_string_value (json_object_get (c, "created"))),
      .size = manifest_size (m),
    };
    k++;
  }
  *out = l;
  *n = k;
  return 0;
}

/* ---- removal ---- */

struct refs
{
  char **blobs;  /* manifests, configs and layer blobs still referenced */
  char **chains; /* chain IDs still referenced */
};

static void
collect_refs (struct imagefmt_store *s, json_t *manifests, struct refs *r)
{
  size_t i;
  json_t *e;
  json_array_foreach (manifests, i, e)
  {
    struct imagefmt_image *img = NULL;
    const char *d = entry_digest (e);
    if (d == NULL)
      continue;
    strv_push (&r->blobs, d);
    if (load_image (s, d, NULL, &img, NULL) < 0)
      continue;
    strv_push (&r->blobs, img->id);
    for (size_t k = 0; img->layers[k]; k++)
      strv_push (&r->blobs, img->layers[k]);
    char **c = chain_ids (img->diff_ids);
    for (size_t k = 0; c[k]; k++)
      strv_push (&r->chains, c[k]);
    strv_free (c);
    imagefmt_image_free (img);
  }
}

typedef void (*report_fn) (void *data, const char *what, const char *arg);

static int
delete_image (struct imagefmt_store *s, json_t *manifests, const struct imagefmt_image *img,
              report_fn report, void *data, nook_error_t *err)
{
  struct refs r = { 0 };
  int ret = 0;
  char **chains = NULL;
  collect_refs (s, manifests, &r);
  if (strv_contains (r.blobs, img->manifest_digest))
    goto out;
  remove_blob (s, img->manifest_digest);
  if (!strv_contains (r.blobs, img->id))
    {
      remove_blob (s, img->id);
      if (report)
        report (data, "Deleted", img->id);
    }
  chains = chain_ids (img->diff_ids);
  for (size_t k = strv_len (img->layers); k-- > 0;)
    {
      if (!strv_contains (r.blobs, img->layers[k]))
        remove_blob (s, img->layers[k]);
      if (strv_contains (r.chains, chains[k]))
        continue;
      if (remove_layer_dir (s, chains[k] + 7, err) < 0)
        {
          ret = -1;
          break;
        }
      if (report)
        report (data, "Deleted", chains[k]);
    }
out:
  strv_free (chains);
  strv_free (r.blobs);
  strv_free (r.chains);
  return ret;
}

int
imagefmt_store_remove (struct imagefmt_store *s, const char *ref, bool force, report_fn report,
                       void *data, nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_json json_t *idx = NULL;
  cleanup_image struct imagefmt_image *img = NULL;
  bool by_id;
  if (imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  if (load_index (s, &idx, err) < 0)
    return -1;
  json_t *manifests = json_object_get (idx, "manifests");
  ssize_t i = find_entry (s, manifests, ref, &by_id, err);
  if (i == -2)
    return -1;
  if (i < 0)
    return nook_error_set (err, ENOENT, "No such image: %s", ref);
  json_t *e = json_array_get (manifests, (size_t)i);
  const char *mdigest = entry_digest (e);
  if (load_image (s, mdigest, entry_ref (e), &img, err) < 0)
    return -1;
  /* Which references go: the one named, or (by ID) every one of that image. */
  cleanup_strv char **untag = NULL;
  size_t k;
  json_t *x;
  json_array_foreach (manifests, k, x)
  {
    cleanup_free char *cid = by_id ? entry_config_digest (s, x) : NULL;
    if ((by_id && cid && strcmp (cid, img->id) == 0) || (!by_id && (ssize_t)k == i))
      strv_push (&untag, entry_ref (x) ? entry_ref (x) : "");
  }
  size_t tagged = 0;
  for (k = 0; untag && untag[k]; k++)
    tagged += *untag[k] != '\0';
  if (by_id && tagged > 1 && !force)
    return nook_error_set (err, EBUSY,
                           "conflict: unable to delete %.12s (must be forced) - image is "
                           "referenced in multiple repositories",
                           img->id + 7);
  /* Drop the entries (tagged and dangling) being removed. */
  for (k = json_array_size (manifests); k-- > 0;)
    {
      x = json_array_get (manifests, k);
      cleanup_free char *cid = by_id ? entry_config_digest (s, x) : NULL;
      if (!((by_id && cid && strcmp (cid, img->id) == 0) || (!by_id && k == (size_t)i)))
        continue;
      const char *r = entry_ref (x);
      if (r && report)
        {
          cleanup_free char *fam = imagefmt_ref_familiar (r);
          report (data, "Untagged", fam);
        }
      json_array_remove (manifests, k);
    }
  if (save_index (s, idx, err) < 0)
    return -1;
  return delete_image (s, manifests, img, report, data, err);
}
