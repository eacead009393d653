/* imagefmt/store_remove.c: listing and removing the store's images; see store.h. */
#include "imagefmt/store.h"
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
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
  if (store_load_index (s, &idx, err) < 0)
    return -1;
  json_t *manifests = json_object_get (idx, "manifests");
  ssize_t i = -1;
  json_t *e = store_image_entry (s, idx, ref, &by_id, &i, err);
  if (e == NULL)
    return -1;
  const char *mdigest = store_entry_digest (e);
  if (store_load_image (s, mdigest, store_entry_ref (e), &img, err) < 0)
    return -1;
  /* Which references go: the one named, or (by ID) every one of that image. */
  cleanup_strv char **untag = NULL;
  size_t k;
  json_t *x;
  json_array_foreach (manifests, k, x)
  {
    cleanup_free char *cid = by_id ? store_entry_config_digest (s, x) : NULL;
    if ((by_id && cid && strcmp (cid, img->id) == 0) || (!by_id && (ssize_t)k == i))
      strv_push (&untag, store_entry_ref (x) ? store_entry_ref (x) : "");
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
      cleanup_free char *cid = by_id ? store_entry_config_digest (s, x) : NULL;
      if (!((by_id && cid && strcmp (cid, img->id) == 0) || (!by_id && k == (size_t)i)))
        continue;
      const char *r = store_entry_ref (x);
      if (r && report)
        {
          cleanup_free char *fam = imagefmt_ref_familiar (r);
          report (data, "Untagged", fam);
        }
      json_array_remove (manifests, k);
    }
  if (store_save_index (s, idx, err) < 0)
    return -1;
  return delete_image (s, manifests, img, report, data, err);
}
