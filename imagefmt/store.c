/* imagefmt/store.c: see store.h.
 *
 * Blobs are written to an O_TMPFILE (or a named temp file) in blobs/sha256, fsynced
 * and linked into place under their verified digest; index.json is replaced
 * atomically last, so a failed write leaves at most unreferenced complete blobs,
 * which the failing call removes when it made them.
 *
 * This file opens and locks the store, reads blobs and the index, looks images up
 * and unpacks their layers; store_import.c puts blobs, tags and imports tarballs;
 * store_remove.c lists and removes images; internal.h has what they share. */
#include "imagefmt/store.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/layer.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/test_hook.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- opening ---- */

/* The length of an absolute path without its trailing slashes ("/" -> 0),
 * so that a HOME of "/" gives "/.local", not "//.local". */
static int
without_slashes (const char *p)
{
  size_t n = strlen (p);
  while (n > 0 && p[n - 1] == '/')
    n--;
  return (int)n;
}

char *
imagefmt_store_default_root (nook_error_t *err)
{
  const char *e = getenv ("NOOK_ROOT");
  if (e && *e)
    return xstrdup (e);
  e = getenv ("XDG_DATA_HOME");
  if (e && *e == '/')
    return xasprintf ("%.*s/nook", without_slashes (e), e);
  e = getenv ("HOME");
  if (e == NULL || *e != '/')
    {
      struct passwd *pw = getpwuid (getuid ());
      e = pw ? pw->pw_dir : NULL;
    }
  if (e == NULL || *e != '/')
    {
      nook_error_set (err, 0,
                      "no store directory: HOME is not set; set --root, NOOK_ROOT or "
                      "XDG_DATA_HOME");
      return NULL;
    }
  return xasprintf ("%.*s/.local/share/nook", without_slashes (e), e);
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
    {
      cleanup_free char *text = nook_error_text (*err);
      nook_error_free (err);
      return nook_error_set (err, 0,
                             "cannot create the store '%s': %s\n(the store is --root DIR, else "
                             "$NOOK_ROOT, else $XDG_DATA_HOME/nook, else ~/.local/share/nook: "
                             "set one to a directory you can write)",
                             r, text);
    }
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
  /* The store is its user's alone: it holds setuid files of images and the
   * seccomp programs nook loads.  (Root's store is made 0711 by `run`, for the
   * containers' root to traverse; it is left as it is.) */
  struct stat st;
  if (fstat (s->rootfd, &st) < 0)
    {
      nook_error_set (err, errno, "stat store '%s'", s->root);
      goto fail;
    }
  if (st.st_uid != getuid ())
    {
      nook_error_set (err, 0, "it belongs to uid %u, not to you (uid %u)", (unsigned)st.st_uid,
                      (unsigned)getuid ());
      goto fail;
    }
  if (getuid () != 0 && (st.st_mode & 077) != 0 && fchmod (s->rootfd, st.st_mode & 0700) < 0)
    {
      nook_error_set (err, errno, "make it private (mode 0700)");
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

/* The depth is shared by the threads of a pull (each unpacks its own layers): the mutex
 * keeps it whole, the flock keeps other processes out. */
static pthread_mutex_t lock_mu = PTHREAD_MUTEX_INITIALIZER;

void
imagefmt_store_forked (struct imagefmt_store *s)
{
  if (s->lockfd >= 0)
    close (s->lockfd);
  s->lockfd = -1;
  s->lockdepth = 0;
}

int
imagefmt_store_lock (struct imagefmt_store *s, nook_error_t *err)
{
  int ret = 0;
  pthread_mutex_lock (&lock_mu);
  if (s->lockdepth++ > 0)
    goto out;
  if (s->lockfd < 0)
    s->lockfd = openat (s->rootfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (s->lockfd < 0)
    {
      s->lockdepth--;
      ret = nook_error_set (err, errno, "open lock file '%s/lock'", s->root);
      goto out;
    }
  while (flock (s->lockfd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        s->lockdepth--;
        ret = nook_error_set (err, errno, "lock '%s/lock'", s->root);
        break;
      }
out:
  pthread_mutex_unlock (&lock_mu);
  return ret;
}

void
imagefmt_store_unlock (struct imagefmt_store *s)
{
  pthread_mutex_lock (&lock_mu);
  if (s->lockdepth > 0 && --s->lockdepth == 0 && s->lockfd >= 0)
    flock (s->lockfd, LOCK_UN);
  pthread_mutex_unlock (&lock_mu);
}

static int
run_hook (struct imagefmt_store *s, int (*fn) (void *arg, nook_error_t *err), void *arg,
          nook_error_t *err)
{
  if (s->hooks.call)
    return s->hooks.call (s->hooks.data, fn, arg, err);
  return fn (arg, err);
}

/* ---- blobs ---- */

bool
store_blob_exists (struct imagefmt_store *s, const char *hex)
{
  return faccessat (s->blobsfd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
read_blob (struct imagefmt_store *s, const char *digest, size_t max, bool verify, char **out,
           size_t *len, nook_error_t *err)
{
  const char *hex;
  if (imagefmt_digest_parse (digest, &hex, err) < 0)
    return -1;
  if (fs_read_file_at (s->blobsfd, hex, max, out, len, err) < 0)
    return nook_error_wrap (err, "blob %s", digest);
  if (!verify)
    return 0;
  cleanup_free char *got = imagefmt_digest_data (*out, *len);
  if (strcmp (got, digest) != 0)
    {
      free (*out);
      *out = NULL;
      return nook_error_set (err, EIO, "blob %s is corrupt (content has digest %s)", digest, got);
    }
  return 0;
}

int
store_read_blob (struct imagefmt_store *s, const char *digest, size_t max, char **out, size_t *len,
                 nook_error_t *err)
{
  return read_blob (s, digest, max, true, out, len, err);
}

static int
read_blob_json (struct imagefmt_store *s, const char *digest, bool verify, json_t **out,
                nook_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (read_blob (s, digest, MAX_JSON, verify, &data, &len, err) < 0)
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
store_read_blob_json (struct imagefmt_store *s, const char *digest, json_t **out, nook_error_t *err)
{
  return read_blob_json (s, digest, true, out, err);
}

char *
store_dump_json (const json_t *j)
{
  char *s = json_dumps (j, JSON_SORT_KEYS | JSON_COMPACT);
  if (s == NULL)
    oom ();
  return s;
}

void
store_remove_blob (struct imagefmt_store *s, const char *digest)
{
  if (imagefmt_digest_parse (digest, NULL, NULL) == 0)
    {
      unlinkat (s->blobsfd, digest + 7, 0);
      store_layer_size_remove (s, digest);
    }
}

/* ---- the index ---- */

int
store_load_index (struct imagefmt_store *s, json_t **out, nook_error_t *err)
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

int
store_save_index (struct imagefmt_store *s, json_t *idx, nook_error_t *err)
{
  cleanup_free char *text = store_dump_json (idx);
  return fs_write_atomic_at (s->rootfd, "index.json", text, strlen (text), 0644, err);
}

const char *
store_entry_ref (json_t *e)
{
  return json_string_value (json_object_get (json_object_get (e, "annotations"), ANN_REF));
}

const char *
store_entry_digest (json_t *e)
{
  const char *d = json_string_value (json_object_get (e, "digest"));
  return d && imagefmt_digest_parse (d, NULL, NULL) == 0 ? d : NULL;
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
  strv_free (img->chain_ids);
  json_decref (img->run_files);
  free (img);
}

int
store_digest_array (json_t *arr, const char *key, const char *what, char ***out, nook_error_t *err)
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

const char *
store_manifest_config (json_t *m)
{
  return json_string_value (json_object_get (json_object_get (m, "config"), "digest"));
}

int
store_load_image (struct imagefmt_store *s, const char *mdigest, const char *ref,
                  struct imagefmt_image **out, nook_error_t *err)
{
  cleanup_json json_t *m = NULL;
  cleanup_image struct imagefmt_image *img = xzalloc (sizeof *img);
  /* Not hashed again: a blob is verified as it enters the store (pull, import,
   * load) and is never rewritten; a start trusts the store's own files, as
   * containerd's and podman's do (two digests here loaded nettle into every
   * `nook run`: imagefmt/digest.c). */
  if (read_blob_json (s, mdigest, false, &m, err) < 0)
    return -1;
  img->manifest_digest = xstrdup (mdigest);
  img->ref = ref ? xstrdup (ref) : NULL;
  const char *cd = store_manifest_config (m);
  if (imagefmt_digest_parse (cd, NULL, err) < 0)
    return nook_error_wrap (err, "manifest %s: config", mdigest);
  img->id = xstrdup (cd);
  if (read_blob_json (s, cd, false, &img->config, err) < 0
      || store_digest_array (json_object_get (m, "layers"), "digest", "manifest layers",
                             &img->layers, err)
             < 0
      || store_digest_array (json_object_get (json_object_get (img->config, "rootfs"), "diff_ids"),
                             NULL, "config rootfs.diff_ids", &img->diff_ids, err)
             < 0)
    return nook_error_wrap (err, "image %s", ref ? ref : mdigest);
  if (strv_len (img->layers) != strv_len (img->diff_ids))
    return nook_error_set (err, EINVAL, "image %s: %zu layers but %zu diff_ids",
                           ref ? ref : mdigest, strv_len (img->layers), strv_len (img->diff_ids));
  *out = steal_pointer (&img);
  return 0;
}

char *
store_entry_config_digest (struct imagefmt_store *s, json_t *e)
{
  cleanup_json json_t *m = NULL;
  const char *d = store_entry_digest (e);
  if (d == NULL || store_read_blob_json (s, d, &m, NULL) < 0)
    return NULL;
  const char *c = store_manifest_config (m);
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

/* The entry of the image whose ID starts with hex (all of it when exact); a tagged
 * entry of that image rather than a dangling one.  -1 none, -2 ambiguous (err set). */
static ssize_t
find_by_id (struct imagefmt_store *s, json_t *manifests, const char *ref, const char *hex,
            bool exact, nook_error_t *err)
{
  size_t i;
  json_t *e;
  ssize_t found = -1;
  cleanup_free char *found_id = NULL;
  json_array_foreach (manifests, i, e)
  {
    cleanup_free char *id = store_entry_config_digest (s, e);
    if (id == NULL || (exact ? strcmp (id + 7, hex) != 0 : !str_has_prefix (id + 7, hex)))
      continue;
    if (found_id && strcmp (found_id, id) != 0)
      {
        nook_error_set (err, 0, "image ID prefix '%s' is ambiguous", ref);
        return -2;
      }
    if (found < 0 || (store_entry_ref (json_array_get (manifests, (size_t)found)) == NULL))
      found = (ssize_t)i;
    if (found_id == NULL)
      found_id = steal_pointer (&id);
  }
  return found;
}

/* Index of the entry `ref` names, in Docker's order (daemon/images GetImage): a full
 * image ID ("sha256:<64 hex>" or the bare 64 hex digits) names only that image; then
 * a name[:tag] or name@digest; then a unique ID prefix.  A tag can thus never shadow
 * an ID.  -1 not found, -2 error. */
ssize_t
store_find_entry (struct imagefmt_store *s, json_t *manifests, const char *ref, bool *by_id,
                  nook_error_t *err)
{
  size_t i;
  json_t *e;
  struct imagefmt_ref r;
  const char *hex = str_has_prefix (ref, "sha256:") ? ref + 7 : ref;
  *by_id = false;
  if (strlen (hex) == IMAGEFMT_DIGEST_HEX_LEN && imagefmt_digest_hex_valid (hex))
    {
      ssize_t at = find_by_id (s, manifests, ref, hex, true, err);
      *by_id = at >= 0;
      return at;
    }
  if (imagefmt_ref_parse (ref, &r, NULL) == 0)
    {
      cleanup_free char *full = imagefmt_ref_full (&r);
      json_array_foreach (manifests, i, e)
      {
        const char *er = store_entry_ref (e), *ed = store_entry_digest (e);
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
  ssize_t at = find_by_id (s, manifests, ref, hex, false, err);
  *by_id = at >= 0;
  return at;
}

json_t *
store_image_entry (struct imagefmt_store *s, json_t *idx, const char *ref, bool *by_id, ssize_t *at,
                   nook_error_t *err)
{
  json_t *manifests = json_object_get (idx, "manifests");
  ssize_t i = store_find_entry (s, manifests, ref, by_id, err);
  if (i == -2)
    return NULL;
  if (i < 0)
    {
      nook_error_set (err, ENOENT, "No such image: %s", ref);
      return NULL;
    }
  if (at)
    *at = i;
  return json_array_get (manifests, (size_t)i);
}

int
imagefmt_store_lookup (struct imagefmt_store *s, const char *ref, struct imagefmt_image **out,
                       nook_error_t *err)
{
  cleanup_json json_t *idx = NULL;
  bool by_id;
  if (ref == NULL || *ref == '\0')
    return nook_error_set (err, 0, "empty image reference");
  if (store_load_index (s, &idx, err) < 0)
    return -1;
  json_t *e = store_image_entry (s, idx, ref, &by_id, NULL, err);
  if (e == NULL)
    return -1;
  return store_load_image (s, store_entry_digest (e), store_entry_ref (e), out, err);
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

char **
store_chain_ids (char *const *diff_ids)
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
  struct layer_result *res; /* shared with the extracting child (MAP_SHARED) */
};

/* What the child that extracts a layer finds of its uncompressed stream. */
struct layer_result
{
  char diff_id[IMAGEFMT_DIGEST_LEN + 1];
  uint64_t size;
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
  cleanup_free char *diff = NULL;
  if (dfd < 0)
    return nook_error_set (err, errno, "open layer directory '%s'", j->name);
  if (imagefmt_layer_extract_digest (j->blobfd, dfd, NULL, &diff, &j->res->size, err) < 0)
    return -1;
  snprintf (j->res->diff_id, sizeof j->res->diff_id, "%s", diff);
  return 0;
}

int
store_remove_layer_dir (struct imagefmt_store *s, const char *hex, nook_error_t *err)
{
  cleanup_free char *done = xasprintf ("%s.done", hex);
  struct layer_job j = { .layersfd = s->layersfd, .blobfd = -1, .name = hex };
  if (unlinkat (s->layersfd, done, 0) < 0 && errno != ENOENT)
    return nook_error_set (err, errno, "remove layer marker '%s'", done);
  if (faccessat (s->layersfd, hex, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  return run_hook (s, job_rm, &j, err);
}

int
store_remove_layer_tmp (struct imagefmt_store *s, const char *name, nook_error_t *err)
{
  struct layer_job j = { .layersfd = s->layersfd, .blobfd = -1, .name = name };
  return run_hook (s, job_rm, &j, err);
}

bool
store_layer_tmp_in_use (int layersfd, const char *name)
{
  cleanup_close int fd = openat (layersfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

struct sweep
{
  struct imagefmt_store *s;
  const char *prefix; /* ".tmp-<hex>" */
};

/* Unpacks of this layer that were interrupted (their directory is no longer locked). */
static int
sweep_one (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct sweep *w = arg;
  size_t n = strlen (w->prefix);
  if (strncmp (name, w->prefix, n) != 0 || (name[n] != '\0' && name[n] != '-')
      || store_layer_tmp_in_use (dirfd, name))
    return 0;
  struct layer_job j = { .layersfd = dirfd, .blobfd = -1, .name = name };
  run_hook (w->s, job_rm, &j, NULL);
  return 0;
}

/* Under the store lock: the unpacked tmp becomes layers/<hex> (and <hex>.done), unless
 * another unpack of the same layer got there first. */
static int
commit_layer (struct imagefmt_store *s, const char *tmp, const char *hex, bool *kept,
              nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_free char *done = xasprintf ("%s.done", hex);
  cleanup_free char *prefix = xasprintf (".tmp-%s", hex);
  struct sweep w = { .s = s, .prefix = prefix };
  struct stat st;
  if (imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  *kept = false;
  if (faccessat (s->layersfd, done, F_OK, AT_SYMLINK_NOFOLLOW) == 0
      && fstatat (s->layersfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
    return 0;
  if (store_remove_layer_dir (s, hex, err) < 0)
    return -1;
  if (renameat (s->layersfd, tmp, s->layersfd, hex) < 0)
    return nook_error_set (err, errno, "rename '%s' to '%s'", tmp, hex);
  *kept = true;
  cleanup_close int fd
      = openat (s->layersfd, done, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return nook_error_set (err, errno, "create layer marker '%s'", done);
  fs_dir_foreach (s->layersfd, sweep_one, &w, NULL);
  return 0;
}

int
imagefmt_store_unpack_layer (struct imagefmt_store *s, const char *blob, const char *chain,
                             const char *diff_id, nook_error_t *err)
{
  static unsigned counter;
  const char *hex = chain + 7;
  cleanup_free char *tmp = xasprintf (".tmp-%s-%d-%u", hex, (int)getpid (),
                                      __atomic_fetch_add (&counter, 1, __ATOMIC_RELAXED));
  cleanup_close int blobfd = -1;
  cleanup_close int tmpfd = -1;
  struct layer_job j = { .layersfd = s->layersfd, .blobfd = -1, .name = tmp };
  bool kept = false;
  int ret = -1;
  /* the child writes what it found here: a page shared across the fork */
  struct layer_result *res
      = mmap (NULL, sizeof *res, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (res == MAP_FAILED)
    return nook_error_set (err, errno, "mmap");
  j.res = res;
  /* loaded here, not in the forked child (another thread may hold the loader's lock) */
  if (imagefmt_archive_load (err) < 0)
    goto out;
  imagefmt_digester_free (imagefmt_digester_new ());
  if (mkdirat (s->layersfd, tmp, 0755) < 0)
    {
      nook_error_set (err, errno, "create '%s/layers/%s'", s->root, tmp);
      goto out;
    }
  /* locked while in use: a sweep removes only the directories of dead unpacks */
  tmpfd = openat (s->layersfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmpfd < 0 || flock (tmpfd, LOCK_EX) < 0)
    {
      nook_error_set (err, errno, "open '%s/layers/%s'", s->root, tmp);
      goto fail;
    }
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
  if (diff_id && strcmp (res->diff_id, diff_id) != 0)
    {
      nook_error_set (err, EIO,
                      "layer %s: its content has digest %s, the image config says %s "
                      "(a corrupt or forged image)",
                      blob, res->diff_id, diff_id);
      goto fail;
    }
  store_layer_size_put (s, blob, res->size);
  test_hook ("layer-unpacked");
  if (commit_layer (s, tmp, hex, &kept, err) < 0)
    goto fail;
  if (!kept)
    goto fail_quiet;
  ret = 0;
  goto out;
fail_quiet:
  ret = 0;
fail:
  j.blobfd = -1;
  run_hook (s, job_rm, &j, NULL);
out:
  munmap (res, sizeof *res);
  return ret;
}

struct unpack_many
{
  struct imagefmt_store *s;
  char *const *layers, *const *chains, *const *diff_ids;
  const size_t *todo;
  size_t n, next;
  pthread_mutex_t mu;
  nook_error_t *errs;
};

static void *
unpack_worker (void *arg)
{
  struct unpack_many *u = arg;
  for (;;)
    {
      pthread_mutex_lock (&u->mu);
      size_t k = u->next < u->n ? u->next++ : u->n;
      pthread_mutex_unlock (&u->mu);
      if (k == u->n)
        return NULL;
      size_t i = u->todo[k];
      imagefmt_store_unpack_layer (u->s, u->layers[i], u->chains[i],
                                   u->diff_ids ? u->diff_ids[i] : NULL, &u->errs[k]);
    }
}

/* The layers todo (indexes), unpacked side by side: a thread per CPU (the caller holds
 * the store lock; each unpack is a child process of its own). */
static int
unpack_many (struct imagefmt_store *s, char *const *layers, char *const *chains,
             char *const *diff_ids, const size_t *todo, size_t n, nook_error_t *err)
{
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  struct unpack_many u
      = { .s = s, .layers = layers, .chains = chains, .diff_ids = diff_ids, .todo = todo, .n = n };
  pthread_t th[8];
  size_t nth = 0, want = cpus > 1 ? (size_t)cpus : 1;
  int ret = 0;
  u.errs = xzalloc (n * sizeof *u.errs);
  pthread_mutex_init (&u.mu, NULL);
  if (want > ARRAY_SIZE (th))
    want = ARRAY_SIZE (th);
  if (want > n)
    want = n;
  /* loaded here, before any thread forks (the children must not dlopen) */
  if (imagefmt_archive_load (err) < 0)
    ret = -1;
  else
    imagefmt_digester_free (imagefmt_digester_new ());
  while (ret == 0 && want > 1 && nth < want
         && pthread_create (&th[nth], NULL, unpack_worker, &u) == 0)
    nth++;
  if (ret == 0 && nth == 0)
    unpack_worker (&u);
  for (size_t t = 0; t < nth; t++)
    pthread_join (th[t], NULL);
  for (size_t k = 0; k < n; k++)
    {
      if (ret == 0 && u.errs[k])
        {
          *err = steal_pointer (&u.errs[k]);
          ret = -1;
        }
      nook_error_free (&u.errs[k]);
    }
  free (u.errs);
  pthread_mutex_destroy (&u.mu);
  return ret;
}

static int
layer_dirs (struct imagefmt_store *s, char *const *layers, char *const *chains,
            char *const *diff_ids, char ***dirs, nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_strv char **out = xzalloc (sizeof (char *));
  cleanup_free size_t *todo = NULL;
  size_t n_todo = 0;
  /* The common case, every layer unpacked, needs no lock: a .done marker is
   * made only after its directory was renamed into place.  (So a long
   * `nook import -` holding the lock does not stall runs.) */
  bool all_ready = true;
  for (size_t i = 0; chains[i] && all_ready; i++)
    {
      cleanup_free char *done = xasprintf ("%s.done", chains[i] + 7);
      all_ready = faccessat (s->layersfd, done, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
    }
  if (!all_ready)
    {
      if (imagefmt_store_lock (s, err) < 0)
        return -1;
      locked = s;
    }
  for (size_t i = 0; chains[i]; i++)
    {
      const char *hex = chains[i] + 7;
      cleanup_free char *done = xasprintf ("%s.done", hex);
      struct stat st;
      /* (all_ready: each marker was just seen) */
      bool ready = (all_ready || faccessat (s->layersfd, done, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                   && fstatat (s->layersfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0
                   && S_ISDIR (st.st_mode);
      if (!ready && locked == NULL)
        {
          /* gone since the check above (an rmi): decide under the lock */
          if (imagefmt_store_lock (s, err) < 0)
            return -1;
          locked = s;
          ready = faccessat (s->layersfd, done, F_OK, AT_SYMLINK_NOFOLLOW) == 0
                  && fstatat (s->layersfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0
                  && S_ISDIR (st.st_mode);
        }
      bool dup = false;
      for (size_t k = 0; k < n_todo && !dup; k++)
        dup = strcmp (chains[todo[k]], chains[i]) == 0;
      if (!ready && !dup)
        {
          todo = xreallocarray (todo, n_todo + 1, sizeof *todo);
          todo[n_todo++] = i;
        }
      strv_push_take (&out, xasprintf ("%s/layers/%s", s->root, hex));
    }
  if (n_todo > 0 && unpack_many (s, layers, chains, diff_ids, todo, n_todo, err) < 0)
    return -1;
  *dirs = steal_pointer (&out);
  return 0;
}

int
imagefmt_store_layer_dirs (struct imagefmt_store *s, struct imagefmt_image *img, char ***dirs,
                           nook_error_t *err)
{
  cleanup_strv char **chains
      = img->chain_ids ? strv_dup (img->chain_ids) : store_chain_ids (img->diff_ids);
  if (layer_dirs (s, img->layers, chains, img->diff_ids, dirs, err) < 0)
    return -1;
  store_run_cache_save (s, img, *dirs);
  return 0;
}

int
imagefmt_store_unpack_layers (struct imagefmt_store *s, char *const *layers, char *const *diff_ids,
                              char ***dirs, nook_error_t *err)
{
  cleanup_strv char **chains = store_chain_ids (diff_ids);
  return layer_dirs (s, layers, chains, diff_ids, dirs, err);
}

int
imagefmt_store_call (struct imagefmt_store *s, int (*fn) (void *arg, nook_error_t *err), void *arg,
                     nook_error_t *err)
{
  return run_hook (s, fn, arg, err);
}
