/* imagefmt/manifest.c: see manifest.h. */
#include "imagefmt/manifest.h"
#include "imagefmt/digest.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* jansson's own json_decrefp */
#define cleanup_jsonv __attribute__ ((cleanup (json_decrefp)))

static bool
streq (const char *a, const char *b)
{
  return a && b && strcmp (a, b) == 0;
}

bool
imagefmt_media_type_is_manifest (const char *mt)
{
  return streq (mt, IMAGEFMT_MT_OCI_MANIFEST) || streq (mt, IMAGEFMT_MT_DOCKER_MANIFEST);
}

bool
imagefmt_media_type_is_index (const char *mt)
{
  return streq (mt, IMAGEFMT_MT_OCI_INDEX) || streq (mt, IMAGEFMT_MT_DOCKER_LIST);
}

bool
imagefmt_media_type_is_layer (const char *mt)
{
  static const char *const known[]
      = { IMAGEFMT_MT_OCI_LAYER,          IMAGEFMT_MT_OCI_LAYER_GZIP,
          IMAGEFMT_MT_OCI_LAYER_ZSTD,     IMAGEFMT_MT_OCI_LAYER_NONDIST_GZIP,
          IMAGEFMT_MT_DOCKER_LAYER,       IMAGEFMT_MT_DOCKER_LAYER_GZIP,
          IMAGEFMT_MT_DOCKER_FOREIGN_GZIP };
  for (size_t i = 0; i < ARRAY_SIZE (known); i++)
    if (streq (mt, known[i]))
      return true;
  return false;
}

/* ---- platforms ---- */

static char *
dup_or_null (const char *s)
{
  return s && *s ? xstrdup (s) : NULL;
}

void
imagefmt_platform_clear (struct imagefmt_platform *p)
{
  free (p->os);
  free (p->architecture);
  free (p->variant);
  free (p->os_version);
  memset (p, 0, sizeof *p);
}

/* containerd's normalisation (platforms.Normalize). */
static void
platform_normalize (struct imagefmt_platform *p)
{
  static const struct
  {
    const char *from, *arch, *variant;
  } map[]
      = { { "x86_64", "amd64", NULL }, { "x86-64", "amd64", NULL }, { "aarch64", "arm64", NULL },
          { "armhf", "arm", "v7" },    { "armel", "arm", "v6" },    { "i386", "386", NULL },
          { "i686", "386", NULL } };
  if (p->os)
    for (char *c = p->os; *c; c++)
      if (*c >= 'A' && *c <= 'Z')
        *c = (char)(*c - 'A' + 'a');
  for (size_t i = 0; p->architecture && i < ARRAY_SIZE (map); i++)
    if (strcmp (p->architecture, map[i].from) == 0)
      {
        free (p->architecture);
        p->architecture = xstrdup (map[i].arch);
        if (map[i].variant && p->variant == NULL)
          p->variant = xstrdup (map[i].variant);
      }
  /* arm64's only variant is v8 (its default): drop it, so "arm64" == "arm64/v8". */
  if (streq (p->architecture, "arm64") && (streq (p->variant, "v8") || streq (p->variant, "8")))
    {
      free (p->variant);
      p->variant = NULL;
    }
  if (streq (p->architecture, "arm") && p->variant && p->variant[0] >= '5' && p->variant[0] <= '8'
      && p->variant[1] == '\0')
    {
      char *v = xasprintf ("v%s", p->variant);
      free (p->variant);
      p->variant = v;
    }
}

int
imagefmt_platform_parse (const char *s, struct imagefmt_platform *out, nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  cleanup_free char *copy = xstrdup (s ? s : "");
  char *parts[4] = { 0 };
  size_t n = 0;
  for (char *save = NULL, *t = strtok_r (copy, "/", &save); t; t = strtok_r (NULL, "/", &save))
    {
      if (n == 3)
        return nook_error_set (
            err, EINVAL, "invalid platform '%s': want os/arch[/variant] (e.g. linux/arm64)", s);
      parts[n++] = t;
    }
  if (n < 2 || strchr (s, ' ') || s[strlen (s) - 1] == '/' || strstr (s, "//"))
    return nook_error_set (err, EINVAL,
                           "invalid platform '%s': want os/arch[/variant] (e.g. linux/arm64)", s);
  for (size_t i = 0; i < n; i++)
    for (const char *c = parts[i]; *c; c++)
      if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
            || *c == '_' || *c == '-' || *c == '.'))
        return nook_error_set (err, EINVAL, "invalid platform '%s': bad character '%c'", s, *c);
  out->os = xstrdup (parts[0]);
  out->architecture = xstrdup (parts[1]);
  out->variant = n == 3 ? xstrdup (parts[2]) : NULL;
  platform_normalize (out);
  return 0;
}

void
imagefmt_platform_default (struct imagefmt_platform *out)
{
  memset (out, 0, sizeof *out);
  out->os = xstrdup ("linux");
  out->architecture = xstrdup (imagefmt_store_arch ());
  if (streq (out->architecture, "arm"))
    out->variant = xstrdup ("v7");
  platform_normalize (out);
}

char *
imagefmt_platform_string (const struct imagefmt_platform *p)
{
  return xasprintf ("%s/%s%s%s", p->os ? p->os : "unknown",
                    p->architecture ? p->architecture : "unknown", p->variant ? "/" : "",
                    p->variant ? p->variant : "");
}

static bool
variant_equal (const struct imagefmt_platform *a, const struct imagefmt_platform *b)
{
  if (a->variant == NULL || b->variant == NULL)
    return a->variant == b->variant;
  return strcmp (a->variant, b->variant) == 0;
}

bool
imagefmt_platform_match (const struct imagefmt_platform *want, const struct imagefmt_platform *have)
{
  if (!streq (want->os, have->os) || !streq (want->architecture, have->architecture))
    return false;
  return want->variant == NULL || variant_equal (want, have);
}

ssize_t
imagefmt_index_select (const struct imagefmt_manifest *idx, const struct imagefmt_platform *want,
                       nook_error_t *err)
{
  ssize_t exact = -1, novariant = -1, any = -1;
  for (size_t i = 0; i < idx->n_manifests; i++)
    {
      const struct imagefmt_descriptor *d = &idx->manifests[i];
      if (!d->has_platform || !imagefmt_media_type_is_manifest (d->media_type))
        continue;
      const struct imagefmt_platform *p = &d->platform;
      if (!streq (want->os, p->os) || !streq (want->architecture, p->architecture))
        continue;
      if (variant_equal (want, p))
        {
          if (exact < 0)
            exact = (ssize_t)i;
        }
      else if (want->variant == NULL)
        {
          /* want names no variant: any variant of the architecture does */
          if (any < 0)
            any = (ssize_t)i;
        }
      else if (p->variant == NULL && novariant < 0)
        novariant = (ssize_t)i;
    }
  if (exact >= 0)
    return exact;
  if (novariant >= 0)
    return novariant;
  if (any >= 0)
    return any;
  struct strbuf avail = { 0 };
  for (size_t i = 0; i < idx->n_manifests; i++)
    if (idx->manifests[i].has_platform)
      {
        cleanup_free char *ps = imagefmt_platform_string (&idx->manifests[i].platform);
        if (strcmp (ps, "unknown/unknown") != 0)
          strbuf_appendf (&avail, "%s%s", avail.len ? ", " : "", ps);
      }
  cleanup_free char *ws = imagefmt_platform_string (want);
  cleanup_free char *av = strbuf_steal (&avail);
  nook_error_set (err, ENOENT,
                  "no matching manifest for %s in the manifest list entries (available: %s)", ws,
                  *av ? av : "none");
  return -1;
}

/* ---- manifests ---- */

static void
descriptor_clear (struct imagefmt_descriptor *d)
{
  free (d->media_type);
  free (d->digest);
  imagefmt_platform_clear (&d->platform);
  memset (d, 0, sizeof *d);
}

void
imagefmt_manifest_clear (struct imagefmt_manifest *m)
{
  free (m->media_type);
  descriptor_clear (&m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    descriptor_clear (&m->layers[i]);
  free (m->layers);
  for (size_t i = 0; i < m->n_manifests; i++)
    descriptor_clear (&m->manifests[i]);
  free (m->manifests);
  memset (m, 0, sizeof *m);
}

static int
opt_string (json_t *o, const char *key, const char *what, char **out, nook_error_t *err)
{
  json_t *v = json_object_get (o, key);
  *out = NULL;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v))
    return nook_error_set (err, EINVAL, "%s.%s: not a string", what, key);
  *out = dup_or_null (json_string_value (v));
  return 0;
}

static int
descriptor_parse (json_t *o, const char *what, bool want_platform, struct imagefmt_descriptor *d,
                  nook_error_t *err)
{
  memset (d, 0, sizeof *d);
  if (!json_is_object (o))
    return nook_error_set (err, EINVAL, "%s: not an object", what);
  json_t *size = json_object_get (o, "size");
  const char *digest = json_string_value (json_object_get (o, "digest"));
  if (opt_string (o, "mediaType", what, &d->media_type, err) < 0)
    return -1;
  if (digest == NULL)
    return nook_error_set (err, EINVAL, "%s: no digest", what);
  if (imagefmt_digest_parse (digest, NULL, err) < 0)
    return nook_error_wrap (err, "%s.digest", what);
  d->digest = xstrdup (digest);
  if (!json_is_integer (size) || json_integer_value (size) < 0)
    return nook_error_set (err, EINVAL, "%s: size missing or negative", what);
  d->size = (int64_t)json_integer_value (size);
  json_t *p = json_object_get (o, "platform");
  if (want_platform && json_is_object (p))
    {
      d->has_platform = true;
      if (opt_string (p, "os", what, &d->platform.os, err) < 0
          || opt_string (p, "architecture", what, &d->platform.architecture, err) < 0
          || opt_string (p, "variant", what, &d->platform.variant, err) < 0
          || opt_string (p, "os.version", what, &d->platform.os_version, err) < 0)
        return -1;
      platform_normalize (&d->platform);
    }
  return 0;
}

static int
descriptors_parse (json_t *arr, const char *what, bool want_platform,
                   struct imagefmt_descriptor **out, size_t *n, nook_error_t *err)
{
  if (!json_is_array (arr))
    return nook_error_set (err, EINVAL, "%s: missing array", what);
  size_t count = json_array_size (arr);
  *out = xzalloc ((count ? count : 1) * sizeof **out);
  *n = 0;
  for (size_t i = 0; i < count; i++)
    {
      cleanup_free char *w = xasprintf ("%s[%zu]", what, i);
      (*n)++;
      if (descriptor_parse (json_array_get (arr, i), w, want_platform, &(*out)[i], err) < 0)
        return -1;
    }
  return 0;
}

static const char *
kind_of (const char *mt, bool *known)
{
  *known = true;
  if (imagefmt_media_type_is_manifest (mt))
    return "manifest";
  if (imagefmt_media_type_is_index (mt))
    return "index";
  *known = false;
  return NULL;
}

int
imagefmt_manifest_parse (const char *data, size_t len, const char *content_type,
                         struct imagefmt_manifest *out, nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (len > IMAGEFMT_MANIFEST_MAX)
    return nook_error_set (err, EFBIG, "manifest: larger than %u bytes", IMAGEFMT_MANIFEST_MAX);
  json_error_t je;
  cleanup_jsonv json_t *j = json_loadb (data, len, JSON_REJECT_DUPLICATES, &je);
  if (j == NULL)
    return nook_error_set (err, EINVAL, "manifest: invalid JSON: %s (line %d)", je.text, je.line);
  if (!json_is_object (j))
    return nook_error_set (err, EINVAL, "manifest: not a JSON object");
  /* A Content-Type may carry parameters ("; charset=utf-8"). */
  cleanup_free char *ct = NULL;
  if (content_type && *content_type)
    {
      ct = xstrdup (content_type);
      ct[strcspn (ct, "; \t")] = '\0';
    }
  json_t *sv = json_object_get (j, "schemaVersion");
  const char *mt = json_string_value (json_object_get (j, "mediaType"));
  if (json_object_get (j, "mediaType") && mt == NULL)
    return nook_error_set (err, EINVAL, "manifest: mediaType is not a string");
  if (streq (ct, IMAGEFMT_MT_DOCKER_SCHEMA1) || streq (ct, IMAGEFMT_MT_DOCKER_SCHEMA1_SIGNED)
      || streq (mt, IMAGEFMT_MT_DOCKER_SCHEMA1) || json_integer_value (sv) == 1)
    return nook_error_set (err, ENOTSUP,
                           "manifest: Docker schema 1 images are not supported (deprecated since "
                           "2017; push the image again with a current tool)");
  if (!json_is_integer (sv) || json_integer_value (sv) != 2)
    return nook_error_set (err, EINVAL, "manifest: schemaVersion is not 2");
  bool ct_known = false, mt_known = false;
  const char *ck = kind_of (ct, &ct_known), *mk = kind_of (mt, &mt_known);
  if (mt && !mt_known)
    return nook_error_set (err, ENOTSUP, "manifest: unsupported media type '%s'", mt);
  if (mt && ct_known && strcmp (ck, mk) != 0)
    return nook_error_set (err, EINVAL, "manifest: media type '%s' contradicts Content-Type '%s'",
                           mt, ct);
  const char *type = mt ? mt : ct_known ? ct : NULL;
  if (type == NULL)
    {
      /* OCI allows an absent mediaType: infer from the fields. */
      if (json_object_get (j, "manifests") && !json_object_get (j, "layers"))
        type = IMAGEFMT_MT_OCI_INDEX;
      else if (json_object_get (j, "config") && json_object_get (j, "layers"))
        type = IMAGEFMT_MT_OCI_MANIFEST;
      else if (ct && *ct)
        return nook_error_set (err, ENOTSUP, "manifest: unsupported media type '%s'", ct);
      else
        return nook_error_set (err, EINVAL, "manifest: neither an image manifest nor an index");
    }
  out->media_type = xstrdup (type);
  if (imagefmt_media_type_is_index (type))
    {
      out->kind = IMAGEFMT_MANIFEST_INDEX;
      if (descriptors_parse (json_object_get (j, "manifests"), "index manifests", true,
                             &out->manifests, &out->n_manifests, err)
          < 0)
        goto fail;
      return 0;
    }
  out->kind = IMAGEFMT_MANIFEST_IMAGE;
  if (descriptor_parse (json_object_get (j, "config"), "manifest config", false, &out->config, err)
          < 0
      || descriptors_parse (json_object_get (j, "layers"), "manifest layers", false, &out->layers,
                            &out->n_layers, err)
             < 0)
    goto fail;
  for (size_t i = 0; i < out->n_layers; i++)
    if (out->layers[i].media_type && !imagefmt_media_type_is_layer (out->layers[i].media_type))
      {
        nook_error_set (err, ENOTSUP, "manifest layers[%zu]: unsupported media type '%s'", i,
                        out->layers[i].media_type);
        goto fail;
      }
  return 0;
fail:
  imagefmt_manifest_clear (out);
  return -1;
}

/* ---- configs ---- */

void
imagefmt_config_info_clear (struct imagefmt_config_info *c)
{
  strv_free (c->diff_ids);
  imagefmt_platform_clear (&c->platform);
  memset (c, 0, sizeof *c);
}

int
imagefmt_config_parse (const char *data, size_t len, struct imagefmt_config_info *out,
                       nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (len > IMAGEFMT_CONFIG_MAX)
    return nook_error_set (err, EFBIG, "image config: larger than %u bytes", IMAGEFMT_CONFIG_MAX);
  json_error_t je;
  cleanup_jsonv json_t *j = json_loadb (data, len, JSON_REJECT_DUPLICATES, &je);
  if (j == NULL || !json_is_object (j))
    return nook_error_set (err, EINVAL, "image config: %s", j ? "not a JSON object" : je.text);
  json_t *rootfs = json_object_get (j, "rootfs");
  json_t *ids = json_object_get (rootfs, "diff_ids");
  if (!streq (json_string_value (json_object_get (rootfs, "type")), "layers")
      || !json_is_array (ids))
    return nook_error_set (err, EINVAL,
                           "image config: rootfs is not {\"type\": \"layers\", "
                           "\"diff_ids\": [...]}");
  out->diff_ids = xzalloc (sizeof (char *));
  size_t i;
  json_t *e;
  json_array_foreach (ids, i, e)
  {
    if (imagefmt_digest_parse (json_string_value (e), NULL, err) < 0)
      {
        imagefmt_config_info_clear (out);
        return nook_error_wrap (err, "image config: rootfs.diff_ids[%zu]", i);
      }
    strv_push (&out->diff_ids, json_string_value (e));
  }
  if (opt_string (j, "os", "image config", &out->platform.os, err) < 0
      || opt_string (j, "architecture", "image config", &out->platform.architecture, err) < 0
      || opt_string (j, "variant", "image config", &out->platform.variant, err) < 0)
    {
      imagefmt_config_info_clear (out);
      return -1;
    }
  platform_normalize (&out->platform);
  return 0;
}

/* ---- conversion ---- */

static const struct
{
  const char *oci, *docker;
} type_map[] = {
  { IMAGEFMT_MT_OCI_MANIFEST, IMAGEFMT_MT_DOCKER_MANIFEST },
  { IMAGEFMT_MT_OCI_CONFIG, IMAGEFMT_MT_DOCKER_CONFIG },
  { IMAGEFMT_MT_OCI_LAYER_GZIP, IMAGEFMT_MT_DOCKER_LAYER_GZIP },
  { IMAGEFMT_MT_OCI_LAYER, IMAGEFMT_MT_DOCKER_LAYER },
  { IMAGEFMT_MT_OCI_LAYER_NONDIST_GZIP, IMAGEFMT_MT_DOCKER_FOREIGN_GZIP },
};

static int
map_type (json_t *o, bool to_oci, const char *what, nook_error_t *err)
{
  const char *mt = json_string_value (json_object_get (o, "mediaType"));
  if (mt == NULL)
    return 0;
  for (size_t i = 0; i < ARRAY_SIZE (type_map); i++)
    {
      const char *from = to_oci ? type_map[i].docker : type_map[i].oci;
      const char *to = to_oci ? type_map[i].oci : type_map[i].docker;
      if (strcmp (mt, from) == 0 || strcmp (mt, to) == 0)
        {
          json_object_set_new (o, "mediaType", json_string (to));
          return 0;
        }
    }
  return nook_error_set (err, ENOTSUP, "%s: media type '%s' has no %s form", what, mt,
                         to_oci ? "OCI" : "Docker schema 2");
}

char *
imagefmt_manifest_convert (const char *data, size_t len, const char *to, size_t *out_len,
                           nook_error_t *err)
{
  struct imagefmt_manifest m;
  bool to_oci = streq (to, IMAGEFMT_MT_OCI_MANIFEST);
  if (!to_oci && !streq (to, IMAGEFMT_MT_DOCKER_MANIFEST))
    {
      nook_error_set (err, EINVAL, "convert manifest: unknown target type '%s'", to ? to : "");
      return NULL;
    }
  if (imagefmt_manifest_parse (data, len, NULL, &m, err) < 0)
    return NULL;
  bool same = streq (m.media_type, to), is_index = m.kind == IMAGEFMT_MANIFEST_INDEX;
  imagefmt_manifest_clear (&m);
  if (is_index)
    {
      nook_error_set (err, EINVAL, "convert manifest: an index, not an image manifest");
      return NULL;
    }
  if (same)
    {
      char *copy = xmalloc (len + 1);
      memcpy (copy, data, len);
      copy[len] = '\0';
      *out_len = len;
      return copy;
    }
  cleanup_jsonv json_t *j = json_loadb (data, len, JSON_REJECT_DUPLICATES, NULL);
  if (j == NULL)
    {
      nook_error_set (err, EINVAL, "convert manifest: invalid JSON");
      return NULL;
    }
  json_object_set_new (j, "mediaType", json_string (to));
  if (map_type (json_object_get (j, "config"), to_oci, "config", err) < 0)
    return NULL;
  size_t i;
  json_t *l;
  json_array_foreach (json_object_get (j, "layers"), i, l)
  {
    cleanup_free char *w = xasprintf ("layers[%zu]", i);
    if (map_type (l, to_oci, w, err) < 0)
      return NULL;
  }
  char *text = json_dumps (j, JSON_SORT_KEYS | JSON_COMPACT);
  if (text == NULL)
    oom ();
  *out_len = strlen (text);
  return text;
}
