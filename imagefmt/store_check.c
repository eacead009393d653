/* imagefmt/store_check.c: see store_check.h. */
#include "imagefmt/store_check.h"
#include "imagefmt/archive.h"
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- sizes ---- */

static uint64_t
tree_size_fd (int fd, int depth)
{
  uint64_t total = 0;
  cleanup_dir DIR *d = fdopendir (fd);
  struct dirent *de;
  if (d == NULL)
    {
      close (fd);
      return 0;
    }
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISREG (st.st_mode))
        total += (uint64_t)st.st_size;
      else if (S_ISDIR (st.st_mode) && depth < 256)
        {
          int sub = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            total += tree_size_fd (sub, depth + 1);
        }
    }
  return total;
}

uint64_t
imagefmt_tree_size (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd < 0 ? 0 : tree_size_fd (fd, 0);
}

static uint64_t
blob_size (struct imagefmt_store *s, const char *digest)
{
  struct stat st;
  if (fstatat (s->blobsfd, digest + 7, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  return (uint64_t)st.st_size;
}

/* ---- check ---- */

struct ck
{
  struct imagefmt_store *s;
  const struct imagefmt_check_opts *o;
  struct imagefmt_check_result *res;
  char **good;   /* blobs whose content matches their name */
  char **bad;    /* blobs that do not */
  char **used;   /* blobs the index reaches */
  char **chains; /* chain IDs of the images */
};

static void __attribute__ ((format (printf, 3, 4)))
say (struct ck *c, const char *kind, const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    oom ();
  va_end (ap);
  if (strcmp (kind, "problem") == 0)
    c->res->problems++;
  else if (strcmp (kind, "garbage") == 0)
    c->res->garbage++;
  else
    c->res->repaired++;
  if (c->o->report)
    c->o->report (c->o->data, kind, msg);
  free (msg);
}

static int
check_blob (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct ck *c = arg;
  struct stat st;
  if (!imagefmt_digest_hex_valid (name))
    {
      /* A temp file of an interrupted write (O_TMPFILE fallbacks, fs_write_atomic_at). */
      say (c, "garbage", "blobs/sha256/%s: a leftover of an interrupted write", name);
      if (c->o->repair && fs_rm_rf_at (dirfd, name, NULL) == 0)
        say (c, "repaired", "removed blobs/sha256/%s", name);
      return 0;
    }
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
    {
      say (c, "problem", "blob sha256:%s is not a regular file", name);
      strv_push (&c->bad, name);
      return 0;
    }
  c->res->blobs++;
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_error nook_error_t e = NULL;
  cleanup_free char *got = fd >= 0 ? imagefmt_digest_fd (fd, &e) : NULL;
  cleanup_free char *want = xasprintf ("sha256:%s", name);
  if (got == NULL)
    {
      say (c, "problem", "blob %s cannot be read: %s", want, e ? e->msg : strerror (errno));
      strv_push (&c->bad, name);
    }
  else if (strcmp (got, want) != 0)
    {
      say (c, "problem", "blob %s is corrupt: its content has digest %s", want, got);
      strv_push (&c->bad, name);
    }
  else
    strv_push (&c->good, name);
  return 0;
}

/* What is wrong with the image of index entry e, or NULL; the blobs and chain IDs it
 * reaches go to *used and *chains. */
static char *
entry_problem (struct ck *c, json_t *e, char ***used, char ***chains)
{
  const char *d = store_entry_digest (e);
  const char *r = store_entry_ref (e);
  struct imagefmt_ref ref;
  if (r && imagefmt_ref_parse (r, &ref, NULL) < 0)
    return xasprintf ("its reference '%s' is invalid", r);
  if (r)
    imagefmt_ref_clear (&ref);
  if (d == NULL)
    return xstrdup ("it has no valid digest");
  strv_push (used, d + 7);
  if (!strv_contains (c->good, d + 7))
    return xasprintf ("its manifest %s is %s", d,
                      strv_contains (c->bad, d + 7) ? "corrupt" : "missing");
  cleanup_json json_t *m = NULL;
  cleanup_error nook_error_t err = NULL;
  if (store_read_blob_json (c->s, d, &m, &err) < 0)
    return xasprintf ("its manifest: %s", err->msg);
  const char *cd = store_manifest_config (m);
  if (imagefmt_digest_parse (cd, NULL, NULL) < 0)
    return xasprintf ("its manifest %s names no valid config", d);
  strv_push (used, cd + 7);
  if (!strv_contains (c->good, cd + 7))
    return xasprintf ("its config %s is %s", cd,
                      strv_contains (c->bad, cd + 7) ? "corrupt" : "missing");
  struct imagefmt_image *img = NULL;
  if (store_load_image (c->s, d, r, &img, &err) < 0)
    return xstrdup (err->msg);
  char *problem = NULL;
  for (size_t i = 0; img->layers[i]; i++)
    {
      strv_push (used, img->layers[i] + 7);
      if (problem == NULL && !strv_contains (c->good, img->layers[i] + 7))
        problem = xasprintf ("its layer %s is %s", img->layers[i],
                             strv_contains (c->bad, img->layers[i] + 7) ? "corrupt" : "missing");
    }
  char **ch = store_chain_ids (img->diff_ids);
  for (size_t i = 0; ch[i]; i++)
    strv_push (chains, ch[i] + 7);
  strv_free (ch);
  imagefmt_image_free (img);
  return problem;
}

static int
check_index (struct ck *c, nook_error_t *err)
{
  cleanup_json json_t *idx = NULL;
  cleanup_error nook_error_t e = NULL;
  if (store_load_index (c->s, &idx, &e) < 0)
    {
      say (c, "problem", "%s", e->msg);
      if (!c->o->repair)
        return 0;
      char aside[64];
      snprintf (aside, sizeof aside, "index.json.broken-%lld", (long long)time (NULL));
      if (renameat (c->s->rootfd, "index.json", c->s->rootfd, aside) < 0)
        return nook_error_set (err, errno, "move '%s/index.json' aside", c->s->root);
      say (c, "repaired", "moved index.json to %s (every image is now untagged garbage)", aside);
      return 0;
    }
  json_t *ms = json_object_get (idx, "manifests");
  bool changed = false;
  for (size_t i = 0; i < json_array_size (ms);)
    {
      json_t *e2 = json_array_get (ms, i);
      cleanup_strv char **used = xzalloc (sizeof (char *));
      cleanup_strv char **chains = xzalloc (sizeof (char *));
      cleanup_free char *p = entry_problem (c, e2, &used, &chains);
      const char *r = store_entry_ref (e2);
      cleanup_free char *name = r ? imagefmt_ref_familiar (r) : NULL;
      const char *d = store_entry_digest (e2);
      if (p == NULL || !c->o->repair)
        {
          /* What a kept entry reaches is not garbage. */
          for (size_t k = 0; used[k]; k++)
            strv_push (&c->used, used[k]);
          for (size_t k = 0; chains[k]; k++)
            strv_push (&c->chains, chains[k]);
        }
      if (p == NULL)
        {
          c->res->images++;
          i++;
          continue;
        }
      say (c, "problem", "image %s (manifest %s): %s", name ? name : "<none>", d ? d : "?", p);
      if (!c->o->repair)
        {
          i++;
          continue;
        }
      json_array_remove (ms, i);
      changed = true;
      say (c, "repaired", "removed image %s from the index", name ? name : d ? d : "<none>");
    }
  if (changed && store_save_index (c->s, idx, err) < 0)
    return -1;
  return 0;
}

static int
check_layer_entry (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct ck *c = arg;
  struct stat st;
  bool isdir = fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
  if (str_has_suffix (name, ".done"))
    {
      cleanup_free char *hex = xstrndup (name, strlen (name) - 5);
      struct stat d;
      if (fstatat (dirfd, hex, &d, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (d.st_mode))
        return 0;
      say (c, "problem", "layers/%s marks a layer that is not there", name);
      if (c->o->repair && unlinkat (dirfd, name, 0) == 0)
        say (c, "repaired", "removed layers/%s (the layer is unpacked again when needed)", name);
      return 0;
    }
  if (isdir && str_has_prefix (name, ".tmp-") && store_layer_tmp_in_use (dirfd, name))
    return 0; /* an unpack running now */
  cleanup_free char *done = xasprintf ("%s.done", name);
  bool complete = faccessat (dirfd, done, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  const char *why = NULL;
  if (!isdir)
    why = "not a layer";
  else if (!complete)
    why = "an interrupted unpack";
  else if (!strv_contains (c->chains, name))
    why = "an unpacked layer no image uses";
  if (why == NULL)
    return 0;
  uint64_t size = isdir ? imagefmt_tree_size (dirfd, name) : (uint64_t)st.st_size;
  c->res->garbage_bytes += size;
  say (c, "garbage", "layers/%s: %s", name, why);
  if (!c->o->repair)
    return 0;
  cleanup_error nook_error_t e = NULL;
  int r = isdir && imagefmt_digest_hex_valid (name) ? store_remove_layer_dir (c->s, name, &e)
          : isdir                                   ? store_remove_layer_tmp (c->s, name, &e)
                                                    : (unlinkat (dirfd, name, 0) < 0 ? -1 : 0);
  if (r == 0)
    say (c, "repaired", "removed layers/%s", name);
  return 0;
}

static int
check_locked (struct ck *c, nook_error_t *err)
{
  struct imagefmt_store *s = c->s;
  const struct imagefmt_check_opts *o = c->o;
  if (fs_dir_foreach (s->blobsfd, check_blob, c, err) < 0 || check_index (c, err) < 0)
    return -1;
  for (size_t i = 0; c->bad[i]; i++)
    if (o->repair && unlinkat (s->blobsfd, c->bad[i], 0) == 0)
      say (c, "repaired", "removed the corrupt blob sha256:%s", c->bad[i]);
  for (size_t i = 0; c->good[i]; i++)
    {
      if (strv_contains (c->used, c->good[i]))
        continue;
      cleanup_free char *d = xasprintf ("sha256:%s", c->good[i]);
      c->res->garbage_bytes += blob_size (s, d);
      say (c, "garbage", "blob %s: no image uses it", d);
      if (o->repair && unlinkat (s->blobsfd, c->good[i], 0) == 0)
        say (c, "repaired", "removed the unused blob %s", d);
    }
  if (fs_dir_foreach (s->layersfd, check_layer_entry, c, err) < 0)
    return -1;
  int stale = store_layer_sizes_sweep (s, o->repair);
  if (stale > 0)
    say (c, o->repair ? "repaired" : "garbage", "%d size record%s of layers no longer stored",
         stale, stale == 1 ? "" : "s");
  stale = store_run_cache_sweep (s, o->repair);
  if (stale > 0)
    say (c, o->repair ? "repaired" : "garbage", "%d run cache entr%s of images no longer stored",
         stale, stale == 1 ? "y" : "ies");
  int staged = imagefmt_images_clean_staging (s, o->repair, NULL);
  if (staged > 0)
    say (c, o->repair ? "repaired" : "garbage", "%d staging director%s of interrupted loads",
         staged, staged == 1 ? "y" : "ies");
  return 0;
}

int
imagefmt_store_check (struct imagefmt_store *s, const struct imagefmt_check_opts *o,
                      struct imagefmt_check_result *res, nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  struct ck c = { .s = s, .o = o, .res = res };
  int ret = -1;
  memset (res, 0, sizeof *res);
  c.good = xzalloc (sizeof (char *));
  c.bad = xzalloc (sizeof (char *));
  c.used = xzalloc (sizeof (char *));
  c.chains = xzalloc (sizeof (char *));
  if (imagefmt_store_lock (s, err) == 0)
    {
      locked = s;
      ret = check_locked (&c, err);
    }
  strv_free (c.good);
  strv_free (c.bad);
  strv_free (c.used);
  strv_free (c.chains);
  return ret;
}

/* ---- df ---- */

struct dimg
{
  char *id;
  char **blobs, **chains;
  bool active;
};

int
imagefmt_store_df (struct imagefmt_store *s, bool (*in_use) (void *data, const char *image_id),
                   void *data, struct imagefmt_df *out, nook_error_t *err)
{
  cleanup_json json_t *idx = NULL;
  memset (out, 0, sizeof *out);
  if (store_load_index (s, &idx, err) < 0)
    return -1;
  json_t *ms = json_object_get (idx, "manifests");
  struct dimg *imgs = xzalloc ((json_array_size (ms) + 1) * sizeof *imgs);
  /* Docker's SIZE: the layers' uncompressed bytes (their manifests' sizes), once each */
  cleanup_strv char **lnames = xzalloc (sizeof (char *));
  uint64_t *lsizes = NULL;
  size_t n = 0, i;
  json_t *e;
  json_array_foreach (ms, i, e)
  {
    struct imagefmt_image *img = NULL;
    const char *d = store_entry_digest (e);
    if (d == NULL || store_load_image (s, d, NULL, &img, NULL) < 0)
      continue;
    size_t k;
    for (k = 0; k < n && strcmp (imgs[k].id, img->id) != 0; k++)
      ;
    struct dimg *g = &imgs[k];
    if (k == n)
      {
        n++;
        g->id = xstrdup (img->id);
        g->blobs = xzalloc (sizeof (char *));
        g->chains = store_chain_ids (img->diff_ids);
        g->active = in_use && in_use (data, img->id);
        strv_push (&g->blobs, img->id);
      }
    for (size_t l = 0; img->layers[l]; l++)
      strv_push (&g->blobs, img->layers[l]);
    cleanup_json json_t *m = NULL;
    size_t k2;
    json_t *l;
    if (store_read_blob_json (s, d, &m, NULL) == 0)
      json_array_foreach (json_object_get (m, "layers"), k2, l)
      {
        const char *ld = json_string_value (json_object_get (l, "digest"));
        if (ld == NULL || strv_contains (lnames, ld))
          continue;
        lsizes = xreallocarray (lsizes, strv_len (lnames) + 1, sizeof *lsizes);
        lsizes[strv_len (lnames)] = store_layer_usize (s, l);
        strv_push (&lnames, ld);
      }
    imagefmt_image_free (img);
  }
  cleanup_strv char **seen = xzalloc (sizeof (char *));
  cleanup_strv char **active_blobs = xzalloc (sizeof (char *));
  cleanup_strv char **chains = xzalloc (sizeof (char *));
  cleanup_strv char **active_chains = xzalloc (sizeof (char *));
  for (size_t k = 0; k < n; k++)
    {
      out->images++;
      out->images_active += imgs[k].active;
      for (size_t b = 0; imgs[k].blobs[b]; b++)
        if (imgs[k].active && !strv_contains (active_blobs, imgs[k].blobs[b]))
          strv_push (&active_blobs, imgs[k].blobs[b]);
      for (size_t c = 0; imgs[k].chains[c]; c++)
        {
          if (!strv_contains (chains, imgs[k].chains[c]))
            strv_push (&chains, imgs[k].chains[c]);
          if (imgs[k].active && !strv_contains (active_chains, imgs[k].chains[c]))
            strv_push (&active_chains, imgs[k].chains[c]);
        }
    }
  for (size_t k = 0; k < n; k++)
    for (size_t b = 0; imgs[k].blobs[b]; b++)
      {
        if (strv_contains (seen, imgs[k].blobs[b]))
          continue;
        strv_push (&seen, imgs[k].blobs[b]);
        uint64_t sz = 0;
        for (size_t x = 0; lnames[x]; x++)
          if (strcmp (lnames[x], imgs[k].blobs[b]) == 0)
            sz = lsizes[x];
        out->images_size += sz;
        if (!strv_contains (active_blobs, imgs[k].blobs[b]))
          out->images_reclaimable += sz;
      }
  for (size_t c = 0; chains[c]; c++)
    {
      cleanup_free char *done = xasprintf ("%s.done", chains[c] + 7);
      if (faccessat (s->layersfd, done, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      uint64_t sz = imagefmt_tree_size (s->layersfd, chains[c] + 7);
      bool active = strv_contains (active_chains, chains[c]);
      out->layers++;
      out->layers_active += active;
      out->layers_size += sz;
      if (!active)
        out->layers_reclaimable += sz;
    }
  for (size_t k = 0; k < n; k++)
    {
      free (imgs[k].id);
      strv_free (imgs[k].blobs);
      strv_free (imgs[k].chains);
    }
  free (imgs);
  free (lsizes);
  return 0;
}

/* ---- prune ---- */

static uint64_t
store_bytes (struct imagefmt_store *s)
{
  uint64_t total = imagefmt_tree_size (s->rootfd, "blobs");
  return total + imagefmt_tree_size (s->rootfd, "layers");
}

int
imagefmt_store_prune (struct imagefmt_store *s, bool all, const struct imagefmt_remove_opts *o,
                      uint64_t *reclaimed, nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_json json_t *idx = NULL;
  cleanup_strv char **ids = xzalloc (sizeof (char *));
  cleanup_strv char **tagged = xzalloc (sizeof (char *));
  struct imagefmt_remove_opts ro = *o;
  ro.force = false;
  *reclaimed = 0;
  /* images.lock first, as rmi: a run may wait for the store lock under it. */
  cleanup_close int images_lock = store_images_lock (s, LOCK_EX, err);
  if (images_lock < 0 || imagefmt_store_lock (s, err) < 0)
    return -1;
  locked = s;
  uint64_t before = store_bytes (s);
  if (store_load_index (s, &idx, err) < 0)
    return -1;
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (idx, "manifests"), i, e)
  {
    cleanup_free char *id = store_entry_config_digest (s, e);
    if (id == NULL)
      continue;
    if (store_entry_ref (e) && !strv_contains (tagged, id))
      strv_push (&tagged, id);
    if (!strv_contains (ids, id))
      strv_push (&ids, id);
  }
  for (i = 0; ids[i]; i++)
    {
      if (!all && strv_contains (tagged, ids[i]))
        continue;
      bool running;
      cleanup_free char *user = store_image_user (o, ids[i], &running);
      if (user)
        continue;
      cleanup_error nook_error_t e2 = NULL;
      /* By ID with several tags needs force; an unused image may be forced. */
      ro.force = true;
      if (store_remove_locked (s, ids[i], &ro, NULL, &e2) < 0 && e2->code != ENOENT)
        {
          *err = steal_pointer (&e2);
          return -1;
        }
    }
  uint64_t after = store_bytes (s);
  *reclaimed = before > after ? before - after : 0;
  return 0;
}
