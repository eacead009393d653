/* imagefmt/image_info.c: see image_info.h. */
#include "imagefmt/image_info.h"
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
imagefmt_time_parse (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  int64_t t = (int64_t)timegm (&tm);
  return t > 0 ? t : 0;
}

void
imagefmt_image_info_free (struct imagefmt_image_info *info)
{
  if (info == NULL)
    return;
  imagefmt_image_free (info->img);
  strv_free (info->tags);
  strv_free (info->digests);
  free (info->layer_sizes);
  free (info);
}

static void
layer_sizes (struct imagefmt_store *s, struct imagefmt_image_info *info)
{
  cleanup_json json_t *m = NULL;
  size_t n = strv_len (info->img->layers);
  info->layer_sizes = xzalloc ((n + 1) * sizeof *info->layer_sizes);
  if (store_read_blob_json (s, info->img->manifest_digest, &m, NULL) < 0)
    return;
  json_t *layers = json_object_get (m, "layers");
  for (size_t i = 0; i < n && i < json_array_size (layers); i++)
    {
      uint64_t v = store_layer_usize (s, json_array_get (layers, i));
      info->layer_sizes[i] = v;
      if (__builtin_add_overflow (info->size, v, &info->size))
        info->size = UINT64_MAX;
    }
}

int
imagefmt_image_info_get (struct imagefmt_store *s, const char *ref,
                         struct imagefmt_image_info **out, nook_error_t *err)
{
  cleanup_json json_t *idx = NULL;
  struct imagefmt_image_info *info = xzalloc (sizeof *info);
  if (imagefmt_store_lookup (s, ref, &info->img, err) < 0 || store_load_index (s, &idx, err) < 0)
    {
      imagefmt_image_info_free (info);
      return -1;
    }
  info->tags = xzalloc (sizeof (char *));
  info->digests = xzalloc (sizeof (char *));
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (idx, "manifests"), i, e)
  {
    const char *r = store_entry_ref (e);
    if (r == NULL)
      continue;
    cleanup_free char *cid = store_entry_config_digest (s, e);
    if (cid == NULL || strcmp (cid, info->img->id) != 0)
      continue;
    strv_push (strchr (r, '@') ? &info->digests : &info->tags, r);
    const char *rd = store_entry_repo_digest (e);
    struct imagefmt_ref parsed;
    if (rd && imagefmt_ref_parse (r, &parsed, NULL) == 0)
      {
        cleanup_free char *name = imagefmt_ref_name (&parsed);
        cleanup_free char *full = xasprintf ("%s@%s", name, rd);
        if (!strv_contains (info->digests, full))
          strv_push (&info->digests, full);
        imagefmt_ref_clear (&parsed);
      }
  }
  layer_sizes (s, info);
  *out = info;
  return 0;
}

static json_t *
familiar_array (char *const *refs)
{
  json_t *a = json_array ();
  for (size_t i = 0; refs && refs[i]; i++)
    {
      cleanup_free char *f = imagefmt_ref_familiar (refs[i]);
      json_array_append_new (a, json_string (f ? f : refs[i]));
    }
  return a;
}

static json_t *
str_or_empty (json_t *cfg, const char *key)
{
  const char *v = json_string_value (json_object_get (cfg, key));
  return json_string (v ? v : "");
}

json_t *
imagefmt_image_inspect_json (const struct imagefmt_image_info *info)
{
  json_t *cfg = info->img->config;
  json_t *o = json_object ();
  json_t *c = json_object_get (cfg, "config");
  json_object_set_new (o, "Id", json_string (info->img->id));
  json_object_set_new (o, "RepoTags", familiar_array (info->tags));
  json_object_set_new (o, "RepoDigests", familiar_array (info->digests));
  json_object_set_new (o, "Parent", str_or_empty (cfg, "parent"));
  json_object_set_new (o, "Comment", str_or_empty (cfg, "comment"));
  json_object_set_new (o, "Created", str_or_empty (cfg, "created"));
  json_object_set_new (o, "DockerVersion", str_or_empty (cfg, "docker_version"));
  json_object_set_new (o, "Author", str_or_empty (cfg, "author"));
  json_object_set_new (o, "Config", json_is_object (c) ? json_deep_copy (c) : json_null ());
  json_object_set_new (o, "Architecture", str_or_empty (cfg, "architecture"));
  if (json_string_value (json_object_get (cfg, "variant")))
    json_object_set_new (o, "Variant", str_or_empty (cfg, "variant"));
  json_object_set_new (o, "Os", str_or_empty (cfg, "os"));
  json_object_set_new (o, "Size", json_integer ((json_int_t)info->size));
  json_t *layers = json_array ();
  for (size_t i = 0; info->img->diff_ids[i]; i++)
    json_array_append_new (layers, json_string (info->img->diff_ids[i]));
  json_object_set_new (o, "RootFS", json_pack ("{s:s, s:o}", "Type", "layers", "Layers", layers));
  json_object_set_new (o, "Metadata", json_pack ("{s:s}", "LastTagTime", "0001-01-01T00:00:00Z"));
  return o;
}

void
imagefmt_history_free (struct imagefmt_history_row *rows, size_t n)
{
  for (size_t i = 0; rows && i < n; i++)
    {
      free (rows[i].id);
      free (rows[i].created_by);
      free (rows[i].comment);
    }
  free (rows);
}

int
imagefmt_image_history (const struct imagefmt_image_info *info, struct imagefmt_history_row **rows,
                        size_t *n, nook_error_t *err)
{
  json_t *cfg = info->img->config;
  json_t *h = json_object_get (cfg, "history");
  size_t nlayers = strv_len (info->img->layers);
  size_t nh = json_array_size (h);
  size_t count = nh ? nh : nlayers;
  struct imagefmt_history_row *r = xzalloc ((count + 1) * sizeof *r);
  int64_t img_created = imagefmt_time_parse (json_string_value (json_object_get (cfg, "created")));
  size_t layer = 0;
  /* Oldest first into r[count-1] ... r[0]. */
  for (size_t i = 0; i < count; i++)
    {
      struct imagefmt_history_row *row = &r[count - 1 - i];
      json_t *e = nh ? json_array_get (h, i) : NULL;
      bool empty = e && json_is_true (json_object_get (e, "empty_layer"));
      const char *by = json_string_value (json_object_get (e, "created_by"));
      const char *comment = json_string_value (json_object_get (e, "comment"));
      row->created = e ? imagefmt_time_parse (json_string_value (json_object_get (e, "created")))
                       : img_created;
      row->created_by = xstrdup (by ? by : "");
      row->comment = xstrdup (comment ? comment : "");
      if (!empty && layer < nlayers)
        row->size = info->layer_sizes[layer++];
    }
  if (count)
    r[0].id = xstrdup (info->img->id);
  (void)err; /* a history that does not match the layers is shown as it is, as Docker does */
  *rows = r;
  *n = count;
  return 0;
}
