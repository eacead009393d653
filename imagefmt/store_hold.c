/* imagefmt/store_hold.c: images held by the runs that use them; see store.h. */
#include "imagefmt/internal.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLDS_DIR "holds"
#define IMAGES_LOCK "images.lock"

struct imagefmt_hold
{
  int dirfd, fd;
  char *name;
};

int
store_images_lock (struct imagefmt_store *s, int op, nook_error_t *err)
{
  cleanup_close int fd
      = openat (s->rootfd, IMAGES_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "open lock file '%s/" IMAGES_LOCK "'", s->root);
  while (flock (fd, op) < 0)
    if (errno != EINTR)
      return nook_error_set (err, errno, "lock '%s/" IMAGES_LOCK "'", s->root);
  return take_fd (&fd);
}

static int
open_holds (struct imagefmt_store *s, nook_error_t *err)
{
  if (mkdirat (s->rootfd, HOLDS_DIR, 0700) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "create '%s/" HOLDS_DIR "'", s->root);
  int fd = openat (s->rootfd, HOLDS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s/" HOLDS_DIR "'", s->root);
  return fd;
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

int
imagefmt_store_lookup_hold (struct imagefmt_store *s, const char *ref, const char *holder,
                            struct imagefmt_image **out, struct imagefmt_hold **hold,
                            nook_error_t *err)
{
  cleanup_image struct imagefmt_image *img = NULL;
  if (*holder == '\0' || *holder == '.' || strchr (holder, '/'))
    return nook_error_set (err, EINVAL, "invalid image holder '%s'", holder);
  cleanup_close int lk = store_images_lock (s, LOCK_SH, err);
  if (lk < 0 || lookup_cached (s, ref, &img, err) < 0)
    return -1;
  cleanup_close int dir = open_holds (s, err);
  if (dir < 0)
    return -1;
  /* Created and locked under images.lock: an rmi never sees it unlocked. */
  cleanup_close int fd
      = openat (dir, holder, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "create '%s/" HOLDS_DIR "/%s'", s->root, holder);
  cleanup_free char *text = xasprintf ("%s\n", img->id);
  if (flock (fd, LOCK_EX | LOCK_NB) < 0 || fs_write_all (fd, text, strlen (text)) < 0)
    {
      int e = errno;
      unlinkat (dir, holder, 0);
      return nook_error_set (err, e, "record the hold '%s/" HOLDS_DIR "/%s'", s->root, holder);
    }
  struct imagefmt_hold *h = xzalloc (sizeof *h);
  h->dirfd = take_fd (&dir);
  h->fd = take_fd (&fd);
  h->name = xstrdup (holder);
  *hold = h;
  *out = steal_pointer (&img);
  return 0;
}

void
imagefmt_hold_release (struct imagefmt_hold *h)
{
  if (h == NULL)
    return;
  unlinkat (h->dirfd, h->name, 0); /* still locked: no rmi takes it for a dead one */
  close (h->fd);
  close (h->dirfd);
  free (h->name);
  free (h);
}

struct find_holder
{
  const char *image_id;
  char *found;
};

static int
check_hold (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct find_holder *f = arg;
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return 0;
  if (flock (fd, LOCK_SH | LOCK_NB) == 0)
    {
      unlinkat (dirfd, name, 0); /* its run is gone */
      return 0;
    }
  char buf[128];
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  if (strcmp (buf, f->image_id) != 0)
    return 0;
  f->found = xstrdup (name);
  return 1;
}

char *
store_image_holder (struct imagefmt_store *s, const char *image_id)
{
  cleanup_close int dir
      = openat (s->rootfd, HOLDS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct find_holder f = { .image_id = image_id };
  cleanup_error nook_error_t e = NULL;
  if (dir >= 0)
    fs_dir_foreach (dir, check_hold, &f, &e);
  return f.found;
}
