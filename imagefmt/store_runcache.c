/* imagefmt/store_runcache.c: what a run needs of an image, read once per manifest;
 * see store.h.
 *
 * A manifest names its config and layers by digest and an unpacked layer never
 * changes, so all a run reads of an image can be kept in one file: one open and one
 * parse at each start instead of the manifest, the config, the chain IDs (a SHA-256
 * each above the first layer: nettle loaded) and, for /etc/passwd and /etc/group, a
 * walk through the layers with eight opaque-xattr lookups.  The entry is written
 * without the store lock (temp + fsync + rename: whole or absent; one that does not
 * parse or is of another format is ignored and written again), removed with the
 * manifest (store_remove.c) and swept by `system check` when its manifest is gone.
 * A file the layers could not give (a FIFO, not UTF-8, too large) is left out: each
 * run reads it through the layers again and fails or warns as before. */
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/layer.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv_json.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_CACHE_DIR "cache/run"
#define RUN_CACHE_FORMAT 1
#define RUN_CACHE_MAX (4u << 20)
#define RUN_FILE_MAX (256u << 10)

/* The files a run reads through the layers (cmd/spec.c: merge_user). */
static const char *const run_files[] = { "/etc/passwd", "/etc/group", NULL };

int
store_run_cache_load (struct imagefmt_store *s, const char *mdigest, const char *ref,
                      struct imagefmt_image **out)
{
  const char *hex;
  if (imagefmt_digest_parse (mdigest, &hex, NULL) < 0)
    return -1;
  cleanup_free char *path = xasprintf (RUN_CACHE_DIR "/%s", hex);
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (fs_read_file_at (s->rootfd, path, RUN_CACHE_MAX, &text, &len, NULL) < 0)
    return -1;
  cleanup_json json_t *j = json_loadb (text, len, JSON_REJECT_DUPLICATES, NULL);
  const char *m = json_string_value (json_object_get (j, "manifest"));
  const char *id = json_string_value (json_object_get (j, "id"));
  json_t *config = json_object_get (j, "config");
  json_t *files = json_object_get (j, "files");
  if (json_integer_value (json_object_get (j, "format")) != RUN_CACHE_FORMAT || m == NULL
      || strcmp (m, mdigest) != 0 || imagefmt_digest_parse (id, NULL, NULL) < 0
      || !json_is_object (config) || !json_is_object (files))
    return -1;
  cleanup_image struct imagefmt_image *img = xzalloc (sizeof *img);
  img->manifest_digest = xstrdup (mdigest);
  img->ref = ref ? xstrdup (ref) : NULL;
  img->id = xstrdup (id);
  img->config = json_incref (config);
  img->run_files = json_incref (files);
  if (store_digest_array (json_object_get (j, "layers"), NULL, "layers", &img->layers, NULL) < 0
      || store_digest_array (json_object_get (json_object_get (config, "rootfs"), "diff_ids"), NULL,
                             "diff_ids", &img->diff_ids, NULL)
             < 0
      || store_digest_array (json_object_get (j, "chain_ids"), NULL, "chain_ids", &img->chain_ids,
                             NULL)
             < 0
      || strv_len (img->layers) != strv_len (img->diff_ids)
      || strv_len (img->layers) != strv_len (img->chain_ids))
    return -1;
  *out = steal_pointer (&img);
  return 0;
}

/* The files of run_files the layers give: text, or null when absent. */
static json_t *
read_run_files (char *const *dirs)
{
  json_t *files = json_object ();
  for (size_t i = 0; run_files[i]; i++)
    {
      cleanup_error nook_error_t e = NULL;
      cleanup_free char *text = NULL;
      size_t len = 0;
      if (imagefmt_layers_read_file (dirs, run_files[i], RUN_FILE_MAX, &text, &len, &e) < 0)
        {
          if (e->code == ENOENT)
            json_object_set_new (files, run_files[i], json_null ());
          continue;
        }
      json_t *t = json_stringn (text, len); /* NULL when not UTF-8 */
      if (t)
        json_object_set_new (files, run_files[i], t);
    }
  return files;
}

void
store_run_cache_save (struct imagefmt_store *s, struct imagefmt_image *img, char *const *dirs)
{
  const char *hex;
  if (img->run_files || imagefmt_digest_parse (img->manifest_digest, &hex, NULL) < 0)
    return;
  cleanup_strv char **chains = store_chain_ids (img->diff_ids);
  json_t *files = read_run_files (dirs);
  cleanup_json json_t *j = json_object ();
  json_object_set_new (j, "format", json_integer (RUN_CACHE_FORMAT));
  json_object_set_new (j, "manifest", json_string (img->manifest_digest));
  json_object_set_new (j, "id", json_string (img->id));
  json_object_set (j, "config", img->config);
  json_object_set_new (j, "layers", strv_to_json (img->layers));
  json_object_set_new (j, "chain_ids", strv_to_json (chains));
  json_object_set (j, "files", files);
  img->run_files = files;
  cleanup_free char *text = store_dump_json (j);
  if (mkdirat (s->rootfd, "cache", 0700) < 0 && errno != EEXIST)
    return;
  if (mkdirat (s->rootfd, RUN_CACHE_DIR, 0700) < 0 && errno != EEXIST)
    return;
  cleanup_close int dfd
      = openat (s->rootfd, RUN_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd >= 0)
    fs_write_atomic_at (dfd, hex, text, strlen (text), 0600, NULL);
}

void
store_run_cache_remove (struct imagefmt_store *s, const char *mdigest)
{
  const char *hex;
  if (imagefmt_digest_parse (mdigest, &hex, NULL) < 0)
    return;
  cleanup_free char *path = xasprintf (RUN_CACHE_DIR "/%s", hex);
  unlinkat (s->rootfd, path, 0);
}

int
imagefmt_image_read_file (const struct imagefmt_image *img, char *const *dirs, const char *path,
                          size_t max, char **out, nook_error_t *err)
{
  json_t *f = img->run_files ? json_object_get (img->run_files, path) : NULL;
  if (json_is_null (f))
    return nook_error_set (err, ENOENT, "%s: no such file in the image", path);
  if (json_is_string (f) && json_string_length (f) <= max
      && strlen (json_string_value (f)) == json_string_length (f))
    {
      *out = xstrdup (json_string_value (f));
      return 0;
    }
  return imagefmt_layers_read_file (dirs, path, max, out, NULL, err);
}

int
store_run_cache_sweep (struct imagefmt_store *s, bool repair)
{
  return store_sweep_by_blob (s, RUN_CACHE_DIR, repair);
}
