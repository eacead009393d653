/* tests/fuzz/fuzz_manifest.c: the manifest/index/config reader (imagefmt/manifest.c).
 * Whatever parses must convert both ways into something that parses again, with the
 * same digests; an index must select (or refuse) without trouble. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imagefmt/manifest.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
round_trip (const char *text, size_t len, const struct imagefmt_manifest *m)
{
  static const char *const to[] = { IMAGEFMT_MT_OCI_MANIFEST, IMAGEFMT_MT_DOCKER_MANIFEST };
  for (size_t t = 0; t < 2; t++)
    {
      cleanup_error nook_error_t err = NULL;
      size_t n = 0;
      char *out = imagefmt_manifest_convert (text, len, to[t], &n, &err);
      if (out == NULL)
        continue;
      struct imagefmt_manifest again;
      cleanup_error nook_error_t e2 = NULL;
      if (imagefmt_manifest_parse (out, n, NULL, &again, &e2) < 0)
        abort ();
      if (again.n_layers != m->n_layers || strcmp (again.config.digest, m->config.digest) != 0)
        abort ();
      for (size_t i = 0; i < m->n_layers; i++)
        if (strcmp (again.layers[i].digest, m->layers[i].digest) != 0)
          abort ();
      imagefmt_manifest_clear (&again);
      free (out);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > (1u << 20))
    return 0;
  const char *text = (const char *)data;
  struct imagefmt_manifest m;
  cleanup_error nook_error_t err = NULL;
  if (imagefmt_manifest_parse (text, size, NULL, &m, &err) == 0)
    {
      if (m.kind == IMAGEFMT_MANIFEST_IMAGE)
        round_trip (text, size, &m);
      else
        {
          struct imagefmt_platform p;
          cleanup_error nook_error_t e = NULL;
          imagefmt_platform_default (&p);
          ssize_t i = imagefmt_index_select (&m, &p, &e);
          if (i >= (ssize_t)m.n_manifests)
            abort ();
          imagefmt_platform_clear (&p);
        }
      imagefmt_manifest_clear (&m);
    }
  struct imagefmt_config_info c;
  cleanup_error nook_error_t e3 = NULL;
  if (imagefmt_config_parse (text, size, &c, &e3) == 0)
    imagefmt_config_info_clear (&c);
  return 0;
}
