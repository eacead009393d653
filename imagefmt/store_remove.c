/* imagefmt/store_remove.c: listing and removing the store's images; see store.h. */
#include "imagefmt/store.h"
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/ref.h"
#include "imagefmt/store_check.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- listing ---- */

static int64_t
parse_rfc3339 (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return (int64_t)timegm (&tm);
}

static uint64_t
manifest_size (struct imagefmt_store *s, json_t *m)
{
  uint64_t total = 0;
  size_t i;
  json_t *l;
  json_array_foreach (json_object_get (m, "layers"), i, l)
  {
    if (__builtin_add_overflow (total, store_layer_usize (s, l), &total))
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
      free (l[i].repo_digest);
    }
  free (l);
}

int
imagefmt_store_list (struct imagefmt_store *s, struct imagefmt_listing **out, size_t *n,
                     nook_error_t *err)
{
  cleanup_json json_t *idx = NULL;
  if (store_load_index (s, &idx, err) < 0)
    return -1;
  json_t *manifests = json_object_get (idx, "manifests");
  struct imagefmt_listing *l = xreallocarray (NULL, json_array_size (manifests) + 1, sizeof *l);
  size_t k = 0, i;
  json_t *e;
  json_array_foreach (manifests, i, e)
  {
    cleanup_json json_t *m = NULL;
    cleanup_json json_t *c = NULL;
    const char *d = store_entry_digest (e);
    if (d == NULL || store_read_blob_json (s, d, &m, NULL) < 0)
      continue; /* a broken entry is not listed; lookup reports why */
    const char *cd = store_manifest_config (m);
    if (imagefmt_digest_parse (cd, NULL, NULL) < 0 || store_read_blob_json (s, cd, &c, NULL) < 0)
      continue;
    const char *r = store_entry_ref (e);
    l[k] = (struct imagefmt_listing){
      .ref = r ? xstrdup (r) : NULL,
      .id = xstrdup (cd),
      .manifest_digest = xstrdup (d),
      .repo_digest = store_entry_repo_digest (e) ? xstrdup (store_entry_repo_digest (e)) : NULL,
      .created = parse_rfc3339 (json_string_value (json_object_get (c, "created"))),
      .size = manifest_size (s, m),
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
    const char *d = store_entry_digest (e);
    if (d == NULL)
      continue;
    strv_push (&r->blobs, d);
    if (store_load_image (s, d, NULL, &img, NULL) < 0)
      continue;
    strv_push (&r->blobs, img->id);
    for (size_t k = 0; img->layers[k]; k++)
      strv_push (&r->blobs, img->layers[k]);
    char **c = store_chain_ids (img->diff_ids);
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
  store_remove_blob (s, img->manifest_digest);
  store_run_cache_remove (s, img->manifest_digest);
  if (!strv_contains (r.blobs, img->id))
    {
      store_remove_blob (s, img->id);
      if (report)
        report (data, "Deleted", img->id);
    }
  chains = store_chain_ids (img->diff_ids);
  for (size_t k = strv_len (img->layers); k-- > 0;)
    {
      if (!strv_contains (r.blobs, img->layers[k]))
        store_remove_blob (s, img->layers[k]);
      if (strv_contains (r.chains, chains[k]))
        continue;
      if (store_remove_layer_dir (s, chains[k] + 7, err) < 0)
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

/* Every tagged reference of image `id` in the index. */
static char **
image_tags (struct imagefmt_store *s, json_t *manifests, const char *id)
{
  char **tags = xzalloc (sizeof (char *));
  size_t k;
  json_t *x;
  json_array_foreach (manifests, k, x)
  {
    cleanup_free char *cid = store_entry_config_digest (s, x);
    if (cid && strcmp (cid, id) == 0 && store_entry_ref (x))
      strv_push (&tags, store_entry_ref (x));
  }
  return tags;
}

static bool
manifest_in_index (json_t *manifests, const char *digest)
{
  size_t k;
  json_t *x;
  json_array_foreach (manifests, k, x)
  {
    const char *d = store_entry_digest (x);
    if (d && strcmp (d, digest) == 0)
      return true;
  }
  return false;
}

/* Drop from the index entry `at` (by_id false) or every entry of the image (by_id),
 * reporting the tags; with keep, the image stays as an untagged entry. */
static void
drop_entries (struct imagefmt_store *s, json_t *manifests, const struct imagefmt_image *img,
              bool by_id, size_t at, bool keep, const struct imagefmt_remove_opts *o)
{
  cleanup_json json_t *dropped = json_array ();
  for (size_t k = json_array_size (manifests); k-- > 0;)
    {
      json_t *x = json_array_get (manifests, k);
      cleanup_free char *cid = by_id ? store_entry_config_digest (s, x) : NULL;
      if (by_id ? !(cid && strcmp (cid, img->id) == 0) : k != at)
        continue;
      const char *r = store_entry_ref (x);
      if (r && o->report)
        {
          cleanup_free char *fam = imagefmt_ref_familiar (r);
          o->report (o->data, "Untagged", fam);
        }
      json_array_append (dropped, x);
      json_array_remove (manifests, k);
    }
  size_t k;
  json_t *x;
  json_array_foreach (dropped, k, x)
  {
    const char *d = store_entry_digest (x);
    if (!keep || d == NULL || manifest_in_index (manifests, d))
      continue;
    json_t *dangling = json_deep_copy (x);
    json_object_del (dangling, "annotations");
    json_array_append_new (manifests, dangling);
  }
}

/* Docker's conflicts (daemon/images/image_delete.go), checked before anything changes. */
static int
check_conflicts (const char *ref, bool by_id, const struct imagefmt_image *img, size_t ntags,
                 const char *running, const char *user, bool force, nook_error_t *err)
{
  const char *id = img->id + 7;
  if (!by_id)
    {
      if (!force && ntags <= 1 && user)
        return nook_error_set (err, EBUSY,
                               "conflict: unable to remove repository reference \"%s\" (must "
                               "force) - container %.12s is using its referenced image %.12s",
                               ref, user, id);
      return 0;
    }
  if (running)
    return nook_error_set (err, EBUSY,
                           "conflict: unable to delete %.12s (cannot be forced) - image is being "
                           "used by running container %.12s",
                           id, running);
  if (!force && ntags > 1)
    return nook_error_set (err, EBUSY,
                           "conflict: unable to delete %.12s (must be forced) - image is "
                           "referenced in multiple repositories",
                           id);
  if (!force && user)
    return nook_error_set (err, EBUSY,
                           "conflict: unable to delete %.12s (must be forced) - image is being "
                           "used by stopped container %.12s",
                           id, user);
  return 0;
}

int
store_remove_locked (struct imagefmt_store *s, const char *ref,
                     const struct imagefmt_remove_opts *o, int *images_lock, nook_error_t *err)
{
  cleanup_json json_t *idx = NULL;
  cleanup_image struct imagefmt_image *img = NULL;
  bool by_id;
  if (store_load_index (s, &idx, err) < 0)
    return -1;
  json_t *manifests = json_object_get (idx, "manifests");
  ssize_t i = -1;
  json_t *e = store_image_entry (s, idx, ref, &by_id, &i, err);
  if (e == NULL || store_load_image (s, store_entry_digest (e), store_entry_ref (e), &img, err) < 0)
    return -1;
  cleanup_strv char **tags = image_tags (s, manifests, img->id);
  bool running;
  cleanup_free char *user = store_image_user (o, img->id, &running);
  size_t ntags = strv_len (tags);
  if (check_conflicts (ref, by_id, img, ntags, running ? user : NULL, user, o->force, err) < 0)
    return -1;
  /* A container's image stays, untagged if need be; otherwise what no other entry
   * refers to is deleted (nothing when another tag names the same manifest). */
  bool keep = user != NULL;
  drop_entries (s, manifests, img, by_id, (size_t)i, keep, o);
  if (store_save_index (s, idx, err) < 0)
    return -1;
  /* Runs that start from now on do not find the image: they need not wait for the
   * deletion below. */
  if (images_lock)
    close (take_fd (images_lock));
  if (keep)
    return 0;
  return delete_image (s, manifests, img, o->report, o->data, err);
}

int
imagefmt_store_remove (struct imagefmt_store *s, const char *ref,
                       const struct imagefmt_remove_opts *o, nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  /* Exclusive: no run is between resolving an image and recording its container.
   * Before the store lock: a run may wait for that one under the shared lock. */
  cleanup_close int images_lock = store_images_lock (s, LOCK_EX, err);
  if (images_lock < 0 || imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  return store_remove_locked (s, ref, o, &images_lock, err);
}

/* ---- layers other records keep (the build cache) ---- */

char **
imagefmt_chain_ids (char *const *diff_ids)
{
  return store_chain_ids (diff_ids);
}

static int
unused_locked (struct imagefmt_store *s, char *const *blobs, char *const *chains,
               char *const *keep_blobs, char *const *keep_chains, bool remove, size_t *n,
               uint64_t *bytes, nook_error_t *err)
{
  cleanup_json json_t *idx = NULL;
  if (store_load_index (s, &idx, err) < 0)
    return -1;
  struct refs r = { .blobs = xzalloc (sizeof (char *)), .chains = xzalloc (sizeof (char *)) };
  collect_refs (s, json_object_get (idx, "manifests"), &r);
  cleanup_strv char **seen = xzalloc (sizeof (char *));
  for (size_t i = 0; blobs && blobs[i]; i++)
    {
      const char *d = blobs[i];
      struct stat st;
      if (strncmp (d, "sha256:", 7) != 0 || !imagefmt_digest_hex_valid (d + 7)
          || strv_contains (seen, d) || strv_contains (r.blobs, d)
          || (keep_blobs && strv_contains (keep_blobs, d))
          || fstatat (s->blobsfd, d + 7, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      strv_push (&seen, d);
      (*n)++;
      *bytes += (uint64_t)st.st_size;
      if (remove)
        store_remove_blob (s, d);
    }
  int ret = 0;
  for (size_t i = 0; chains && chains[i]; i++)
    {
      const char *c = chains[i];
      if (strncmp (c, "sha256:", 7) != 0 || !imagefmt_digest_hex_valid (c + 7)
          || strv_contains (seen, c) || strv_contains (r.chains, c)
          || (keep_chains && strv_contains (keep_chains, c)))
        continue;
      strv_push (&seen, c);
      cleanup_free char *done = xasprintf ("%s.done", c + 7);
      if (faccessat (s->layersfd, done, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      (*n)++;
      *bytes += imagefmt_tree_size (s->layersfd, c + 7);
      if (remove && store_remove_layer_dir (s, c + 7, err) < 0)
        {
          ret = -1;
          break;
        }
    }
  strv_free (r.blobs);
  strv_free (r.chains);
  return ret;
}

int
imagefmt_store_unused_layers (struct imagefmt_store *s, char *const *blobs, char *const *chains,
                              char *const *keep_blobs, char *const *keep_chains, bool remove,
                              size_t *n, uint64_t *bytes, nook_error_t *err)
{
  *n = 0;
  *bytes = 0;
  if (!remove)
    return unused_locked (s, blobs, chains, keep_blobs, keep_chains, false, n, bytes, err);
  cleanup_unlock struct imagefmt_store *locked = NULL;
  /* As rmi: images.lock first (a build holds it shared while it runs: what it uses now
   * is not in the index yet), then the store lock. */
  cleanup_close int images_lock = store_images_lock (s, LOCK_EX, err);
  if (images_lock < 0 || imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  return unused_locked (s, blobs, chains, keep_blobs, keep_chains, true, n, bytes, err);
}
