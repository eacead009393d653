/* imagefmt/store_hold.c: images held by the runs that use them; see store.h. */
#include "imagefmt/internal.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define IMAGES_LOCK "images.lock"

struct imagefmt_hold
{
  int fd; /* images.lock, shared */
};

int
store_images_lock (struct imagefmt_store *s, int op, nook_error_t *err)
{
  cleanup_close int fd
      = openat (s->rootfd, IMAGES_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "open lock file '%s/" IMAGES_LOCK "'", s->root);
  /* Exclusive (rmi, prune) waits for the runs starting and the builds running: said,
   * since a build can take minutes. */
  if (op == LOCK_EX && flock (fd, LOCK_EX | LOCK_NB) == 0)
    return take_fd (&fd);
  if (op == LOCK_EX && errno == EWOULDBLOCK)
    log_warn ("waiting for the builds running (or containers starting) on this store's images");
  while (flock (fd, op) < 0)
    if (errno != EINTR)
      return nook_error_set (err, errno, "lock '%s/" IMAGES_LOCK "'", s->root);
  return take_fd (&fd);
}

int
imagefmt_store_hold_images (struct imagefmt_store *s, struct imagefmt_hold **hold,
                            nook_error_t *err)
{
  cleanup_close int lk = store_images_lock (s, LOCK_SH, err);
  if (lk < 0)
    return -1;
  struct imagefmt_hold *h = xzalloc (sizeof *h);
  h->fd = take_fd (&lk);
  *hold = h;
  return 0;
}

/* imagefmt_store_lookup, from the run cache when the image has an entry there. */
static int
lookup_cached (struct imagefmt_store *s, const char *ref, struct imagefmt_image **out,
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
  const char *mdigest = store_entry_digest (e);
  if (store_run_cache_load (s, mdigest, store_entry_ref (e), out) == 0)
    return 0;
  return store_load_image (s, mdigest, store_entry_ref (e), out, err);
}

/* No file per run: the shared lock is the hold, and the container's record (written
 * before it is released) tells rmi afterwards. */
int
imagefmt_store_lookup_hold (struct imagefmt_store *s, const char *ref, struct imagefmt_image **out,
                            struct imagefmt_hold **hold, nook_error_t *err)
{
  cleanup_close int lk = store_images_lock (s, LOCK_SH, err);
  if (lk < 0 || lookup_cached (s, ref, out, err) < 0)
    return -1;
  struct imagefmt_hold *h = xzalloc (sizeof *h);
  h->fd = take_fd (&lk);
  *hold = h;
  return 0;
}

void
imagefmt_hold_release (struct imagefmt_hold *h)
{
  if (h == NULL)
    return;
  close (h->fd);
  free (h);
}

char *
store_image_user (const struct imagefmt_remove_opts *o, const char *image_id, bool *running)
{
  *running = false;
  return o->container_using ? o->container_using (o->data, image_id, running) : NULL;
}
