/* imagefmt/store.c: see store.h.  (stub: the implementation lands next) */
#include "imagefmt/store.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>

int
imagefmt_store_open (const char *root, struct imagefmt_store **out, nook_error_t *err)
{
  return nook_error_set (err, ENOSYS, "image store not implemented yet");
}
void
imagefmt_store_close (struct imagefmt_store *s)
{
  (void)s;
}
void
imagefmt_store_set_hooks (struct imagefmt_store *s, const struct imagefmt_store_hooks *h)
{
}
const char *
imagefmt_store_root (const struct imagefmt_store *s)
{
  return NULL;
}
int
imagefmt_store_lookup (struct imagefmt_store *s, const char *ref, struct imagefmt_image **out,
                       nook_error_t *err)
{
  return nook_error_set (err, ENOENT, "No such image: %s", ref);
}
void
imagefmt_image_free (struct imagefmt_image *img)
{
  (void)img;
}
int
imagefmt_store_layer_dirs (struct imagefmt_store *s, const struct imagefmt_image *img, char ***dirs,
                           nook_error_t *err)
{
  return nook_error_set (err, ENOSYS, "image store not implemented yet");
}
