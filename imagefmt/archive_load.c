/* imagefmt/archive_load.c: `nook load`; see archive.h.
 *
 * Three steps: stage (every regular member of the archive into a numbered file of the
 * staging directory, hashed on the way; links between members recorded), verify (the
 * archive's own manifests resolved against the staged members, every digest, size and
 * diff ID checked, every layer checked by imagefmt/layer_check.h), commit (under the
 * store lock: staged blobs fsynced and linked into blobs/sha256, index.json replaced
 * last).  Bad input fails in the first two steps, before the store is touched. */
#include "imagefmt/archive.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/internal.h"
#include "imagefmt/layer_check.h"
#include "imagefmt/manifest.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/test_hook.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ANN_CONTAINERD_NAME "io.containerd.image.name"
#define MAX_MEMBERS 200000
#define MAX_LINK_HOPS 8
#define TMP_DIR "tmp"
#define STAGE_PREFIX "load-"

enum member_kind
{
  MEMBER_FILE,
  MEMBER_SYMLINK,
  MEMBER_HARDLINK,
};

struct member
{
  char *name; /* cleaned: no "./", no leading or doubled '/' */
  enum member_kind kind;
  char *target; /* links */
  char *digest; /* files: sha256 of the content */
  uint64_t size;
  struct imagefmt_layer_info *layer; /* once checked as a layer */
};

struct limg
{
  char *id;    /* config digest */
  char *mtext; /* the manifest to store */
  size_t mlen;
  char *mdigest;
  char *mtype;
  bool made_manifest; /* nook wrote the manifest (docker-archive): not a member */
  char **tags;        /* full references */
  char **moved;       /* tags it took from another image: "tag\0old-id" pairs, flattened */
  size_t *bidx;       /* the members it needs as blobs */
  size_t nb;
  json_t *existing; /* the store's entry of the same image ID, if any (borrowed) */
};

struct load
{
  struct imagefmt_store *s;
  const char *name;
  int tmpfd, stagefd;
  char *stagename; /* load-XXXXXXXXXXXX under tmp/ */
  struct member *m;
  size_t n;
  struct limg *imgs;
  size_t nimgs;
};

/* ---- staging ---- */

static int
stage_dir_new (struct load *L, nook_error_t *err)
{
  if (mkdirat (L->s->rootfd, TMP_DIR, 0700) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "create '%s/" TMP_DIR "'", L->s->root);
  L->tmpfd = openat (L->s->rootfd, TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (L->tmpfd < 0)
    return nook_error_set (err, errno, "open '%s/" TMP_DIR "'", L->s->root);
  imagefmt_images_clean_staging (L->s, true, NULL);
  unsigned char r[6];
  if (getrandom (r, sizeof r, 0) != (ssize_t)sizeof r)
    return nook_error_set (err, errno, "getrandom");
  char hex[13];
  for (size_t i = 0; i < sizeof r; i++)
    snprintf (hex + 2 * i, 3, "%02x", r[i]);
  /* Made under another name, locked, then renamed: a cleaner never sees it unlocked. */
  cleanup_free char *newname = xasprintf ("new-%s", hex);
  cleanup_free char *name = xasprintf (STAGE_PREFIX "%s", hex);
  if (mkdirat (L->tmpfd, newname, 0700) < 0)
    return nook_error_set (err, errno, "create a staging directory in '%s/" TMP_DIR "'",
                           L->s->root);
  L->stagefd = openat (L->tmpfd, newname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (L->stagefd < 0 || flock (L->stagefd, LOCK_EX) < 0
      || renameat (L->tmpfd, newname, L->tmpfd, name) < 0)
    {
      int e = errno;
      unlinkat (L->tmpfd, newname, AT_REMOVEDIR);
      return nook_error_set (err, e, "prepare the staging directory '%s/" TMP_DIR "/%s'",
                             L->s->root, name);
    }
  L->stagename = steal_pointer (&name);
  return 0;
}

struct clean_ctx
{
  int count;
  bool remove;
};

static int
clean_one (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  struct clean_ctx *c = arg;
  if (!str_has_prefix (name, STAGE_PREFIX) && !str_has_prefix (name, "new-"))
    return 0;
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
    return 0; /* a load is using it */
  if (str_has_prefix (name, "new-"))
    {
      /* Between its mkdir and its lock: only old ones are stale. */
      struct stat st;
      if (fstat (fd, &st) < 0 || st.st_mtime + 60 > time (NULL))
        return 0;
    }
  if (!c->remove || fs_rm_rf_at (dirfd, name, NULL) == 0)
    c->count++;
  return 0;
}

int
imagefmt_images_clean_staging (struct imagefmt_store *s, bool remove, nook_error_t *err)
{
  cleanup_close int fd
      = openat (s->rootfd, TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct clean_ctx c = { .remove = remove };
  if (fd < 0)
    return errno == ENOENT ? 0 : nook_error_set (err, errno, "open '%s/" TMP_DIR "'", s->root);
  if (fs_dir_foreach (fd, clean_one, &c, err) < 0)
    return -1;
  return c.count;
}

/* "./a//b/" -> "a/b"; NULL for a name with "..". */
static char *
clean_name (const char *in)
{
  struct strbuf b = { 0 };
  const char *p = in ? in : "";
  while (*p)
    {
      while (*p == '/')
        p++;
      const char *end = strchrnul (p, '/');
      size_t n = (size_t)(end - p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          strbuf_free (&b);
          return NULL;
        }
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (b.len)
            strbuf_appendc (&b, '/');
          strbuf_appendn (&b, p, n);
        }
      p = end;
    }
  return strbuf_steal (&b);
}

static int
stage_data (struct load *L, struct archive *a, struct member *m, nook_error_t *err)
{
  char fname[32];
  snprintf (fname, sizeof fname, "%zu", L->n - 1);
  cleanup_close int fd
      = openat (L->stagefd, fname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "stage '%s'", m->name);
  struct imagefmt_digester *d = imagefmt_digester_new ();
  char buf[1 << 16];
  la_ssize_t n;
  while ((n = archive_read_data (a, buf, sizeof buf)) > 0)
    {
      imagefmt_digester_update (d, buf, (size_t)n);
      m->size += (uint64_t)n;
      if (fs_write_all (fd, buf, (size_t)n) < 0)
        {
          imagefmt_digester_free (d);
          return nook_error_set (err, errno, "stage '%s'", m->name);
        }
    }
  m->digest = imagefmt_digester_finish (d);
  if (n < 0)
    return nook_error_set (err, 0, "'%s': truncated or corrupt archive, in member '%s': %s",
                           L->name, m->name, archive_error_string (a));
  return 0;
}

static void
free_readerp (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}

static int
stage (struct load *L, int fd, nook_error_t *err)
{
  __attribute__ ((cleanup (free_readerp))) struct archive *a = archive_read_new ();
  struct archive_entry *e;
  int r;
  if (a == NULL)
    oom ();
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  archive_read_support_filter_xz (a);
  archive_read_support_filter_bzip2 (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_fd (a, fd, 1 << 17) != ARCHIVE_OK)
    return nook_error_set (err, 0, "'%s' is not an image archive: %s", L->name,
                           archive_error_string (a));
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      mode_t type = archive_entry_filetype (e);
      const char *hl = archive_entry_hardlink (e);
      if (!hl && type != AE_IFREG && type != AE_IFLNK)
        continue;
      char *name = clean_name (archive_entry_pathname (e));
      if (name == NULL)
        return nook_error_set (err, 0, "'%s': member '%s' has a '..' component", L->name,
                               archive_entry_pathname (e));
      if (L->n >= MAX_MEMBERS)
        {
          free (name);
          return nook_error_set (err, 0, "'%s': more than %d members", L->name, MAX_MEMBERS);
        }
      if ((L->n & (L->n - 1)) == 0)
        L->m = xreallocarray (L->m, L->n ? 2 * L->n : 1, sizeof *L->m);
      struct member *m = &L->m[L->n++];
      memset (m, 0, sizeof *m);
      m->name = name;
      if (hl || type == AE_IFLNK)
        {
          m->kind = hl ? MEMBER_HARDLINK : MEMBER_SYMLINK;
          m->target = xstrdup (hl                          ? hl
                               : archive_entry_symlink (e) ? archive_entry_symlink (e)
                                                           : "");
          continue;
        }
      if (stage_data (L, a, m, err) < 0)
        return -1;
    }
  if (r != ARCHIVE_EOF)
    {
      if (L->n == 0)
        return nook_error_set (err, 0,
                               "'%s' is not an image archive (not a tar, nor a "
                               "compressed one): %s",
                               L->name, archive_error_string (a));
      return nook_error_set (err, 0,
                             "'%s': truncated or corrupt archive, after member "
                             "'%s': %s",
                             L->name, L->m[L->n - 1].name, archive_error_string (a));
    }
  return 0;
}

/* ---- members ---- */

static struct member *
find (struct load *L, const char *path, int hops)
{
  cleanup_free char *name = clean_name (path);
  if (name == NULL || hops > MAX_LINK_HOPS)
    return NULL;
  for (size_t i = L->n; i-- > 0;)
    {
      struct member *m = &L->m[i];
      if (strcmp (m->name, name) != 0)
        continue;
      if (m->kind == MEMBER_FILE)
        return m;
      if (m->kind == MEMBER_HARDLINK)
        return find (L, m->target, hops + 1);
      if (m->target[0] == '/')
        return find (L, m->target, hops + 1);
      /* A relative symlink: from the link's directory, inside the archive. */
      char *slash = strrchr (m->name, '/');
      cleanup_free char *joined
          = slash ? xasprintf ("%.*s/%s", (int)(slash - m->name), m->name, m->target)
                  : xstrdup (m->target);
      /* Resolve ".." lexically; out of the archive: not found. */
      struct strbuf b = { 0 };
      const char *p = joined;
      bool out = false;
      while (*p && !out)
        {
          while (*p == '/')
            p++;
          const char *end = strchrnul (p, '/');
          size_t n = (size_t)(end - p);
          if (n == 2 && p[0] == '.' && p[1] == '.')
            {
              char *ls = b.len ? memrchr (b.buf, '/', b.len) : NULL;
              out = b.len == 0;
              b.len = ls ? (size_t)(ls - b.buf) : 0;
              if (b.buf)
                b.buf[b.len] = '\0';
            }
          else if (n > 0 && !(n == 1 && p[0] == '.'))
            {
              if (b.len)
                strbuf_appendc (&b, '/');
              strbuf_appendn (&b, p, n);
            }
          p = end;
        }
      cleanup_free char *resolved = strbuf_steal (&b);
      return out ? NULL : find (L, resolved, hops + 1);
    }
  return NULL;
}

static struct member *
member (struct load *L, const char *path, const char *what, nook_error_t *err)
{
  struct member *m = path ? find (L, path, 0) : NULL;
  if (m == NULL)
    nook_error_set (err, 0, "'%s': %s '%s' is not in the archive", L->name, what,
                    path ? path : "(none)");
  return m;
}

/* A member named by a descriptor: blobs/sha256/<hex>, its size (unless negative: not
 * given) and digest checked. */
static struct member *
blob (struct load *L, const char *d, int64_t size, const char *what, nook_error_t *err)
{
  const char *hex;
  if (d == NULL || imagefmt_digest_parse (d, &hex, NULL) < 0)
    {
      nook_error_set (err, 0, "'%s': %s has an invalid or unsupported digest '%s'", L->name, what,
                      d ? d : "(none)");
      return NULL;
    }
  cleanup_free char *path = xasprintf ("blobs/sha256/%s", hex);
  struct member *m = member (L, path, what, err);
  if (m == NULL)
    return NULL;
  if (strcmp (m->digest, d) != 0)
    {
      nook_error_set (err, 0, "'%s': blob '%s' does not match its digest (its content has %s)",
                      L->name, path, m->digest);
      return NULL;
    }
  if (size >= 0 && (uint64_t)size != m->size)
    {
      nook_error_set (err, 0, "'%s': blob '%s' has %llu bytes but its descriptor says %lld",
                      L->name, path, (unsigned long long)m->size, (long long)size);
      return NULL;
    }
  return m;
}

static int
read_member (struct load *L, struct member *m, char **out, size_t *len, nook_error_t *err)
{
  char fname[32];
  snprintf (fname, sizeof fname, "%zu", (size_t)(m - L->m));
  if (m->size > MAX_JSON)
    return nook_error_set (err, 0, "'%s': '%s' is larger than %u bytes", L->name, m->name,
                           MAX_JSON);
  if (fs_read_file_at (L->stagefd, fname, MAX_JSON, out, len, err) < 0)
    return nook_error_wrap (err, "'%s': read '%s'", L->name, m->name);
  return 0;
}

static json_t *
read_json (struct load *L, struct member *m, char **text, size_t *len, nook_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t n = 0;
  json_error_t je;
  if (read_member (L, m, &data, &n, err) < 0)
    return NULL;
  json_t *j = json_loadb (data, n, JSON_REJECT_DUPLICATES, &je);
  if (j == NULL)
    {
      nook_error_set (err, 0, "'%s': '%s' is not valid JSON: %s (line %d)", L->name, m->name,
                      je.text, je.line);
      return NULL;
    }
  if (text)
    {
      *text = steal_pointer (&data);
      *len = n;
    }
  return j;
}

static void
add_blob (struct load *L, struct limg *g, struct member *m)
{
  size_t k = (size_t)(m - L->m);
  for (size_t i = 0; i < g->nb; i++)
    if (g->bidx[i] == k)
      return;
  g->bidx = xreallocarray (g->bidx, g->nb + 1, sizeof *g->bidx);
  g->bidx[g->nb++] = k;
}

/* Check a layer member once; its diff ID must be `want`. */
static int
check_layer (struct load *L, struct member *m, const char *want, nook_error_t *err)
{
  if (m->layer == NULL)
    {
      char fname[32];
      snprintf (fname, sizeof fname, "%zu", (size_t)(m - L->m));
      cleanup_close int fd = openat (L->stagefd, fname, O_RDONLY | O_CLOEXEC);
      struct imagefmt_layer_info info;
      if (fd < 0)
        return nook_error_set (err, errno, "'%s': open staged '%s'", L->name, m->name);
      if (imagefmt_layer_check_fd (fd, &info, err) < 0)
        return nook_error_wrap (err, "'%s': layer '%s'", L->name, m->name);
      m->layer = xmalloc (sizeof *m->layer);
      *m->layer = info;
    }
  if (want && strcmp (m->layer->diff_id, want) != 0)
    return nook_error_set (err, 0, "'%s': layer '%s' has diff ID %s, but the image config says %s",
                           L->name, m->name, m->layer->diff_id, want);
  return 0;
}

static struct limg *
new_image (struct load *L)
{
  L->imgs = xreallocarray (L->imgs, L->nimgs + 1, sizeof *L->imgs);
  struct limg *g = &L->imgs[L->nimgs++];
  memset (g, 0, sizeof *g);
  g->tags = xzalloc (sizeof (char *));
  return g;
}

static int
add_tag (struct load *L, struct limg *g, const char *tag, nook_error_t *err)
{
  cleanup_free char *full = imagefmt_ref_normalize_tag (tag, err);
  if (full == NULL)
    return nook_error_wrap (err, "'%s': tag '%s'", L->name, tag);
  if (!strv_contains (g->tags, full))
    strv_push (&g->tags, full);
  return 0;
}

/* The config member, read (manifest.c: rootfs.diff_ids checked). */
static int
config_read (struct load *L, struct member *c, const char *what, struct imagefmt_config_info *cfg,
             nook_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (read_member (L, c, &text, &len, err) < 0)
    return -1;
  if (imagefmt_config_parse (text, len, cfg, err) < 0)
    return nook_error_wrap (err, "'%s': %s", L->name, what);
  return 0;
}

/* ---- docker-archive ---- */

static const char *
layer_media_type (enum imagefmt_compression c)
{
  switch (c)
    {
    case IMAGEFMT_COMPRESSION_GZIP:
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case IMAGEFMT_COMPRESSION_ZSTD:
      return "application/vnd.oci.image.layer.v1.tar+zstd";
    default:
      return "application/vnd.oci.image.layer.v1.tar";
    }
}

/* A member a docker-archive names by path; a blobs/sha256/<hex> path must match. */
static struct member *
docker_member (struct load *L, const char *path, const char *what, nook_error_t *err)
{
  struct member *m = member (L, path, what, err);
  cleanup_free char *name = m ? clean_name (path) : NULL;
  if (m && name && str_has_prefix (name, "blobs/sha256/")
      && strcmp (name + strlen ("blobs/sha256/"), m->digest + 7) != 0)
    {
      nook_error_set (err, 0, "'%s': blob '%s' does not match its digest (its content has %s)",
                      L->name, name, m->digest);
      return NULL;
    }
  return m;
}

static int
docker_image (struct load *L, json_t *item, size_t k, nook_error_t *err)
{
  cleanup_free char *what = xasprintf ("manifest.json[%zu]", k);
  const char *cpath = json_string_value (json_object_get (item, "Config"));
  json_t *layers = json_object_get (item, "Layers");
  json_t *tags = json_object_get (item, "RepoTags");
  if (cpath == NULL || !json_is_array (layers))
    return nook_error_set (err, 0, "'%s': %s has no Config or no Layers", L->name, what);
  struct member *c = docker_member (L, cpath, "the image config", err);
  if (c == NULL)
    return -1;
  __attribute__ ((cleanup (imagefmt_config_info_clear))) struct imagefmt_config_info cfg = { 0 };
  if (config_read (L, c, cpath, &cfg, err) < 0)
    return -1;
  if (strv_len (cfg.diff_ids) != json_array_size (layers))
    return nook_error_set (err, 0, "'%s': %s lists %zu layers but its config has %zu diff IDs",
                           L->name, what, json_array_size (layers), strv_len (cfg.diff_ids));
  cleanup_json json_t *mlayers = json_array ();
  struct limg *g = new_image (L);
  for (size_t i = 0; i < json_array_size (layers); i++)
    {
      const char *lp = json_string_value (json_array_get (layers, i));
      struct member *l = docker_member (L, lp, "layer", err);
      if (l == NULL || check_layer (L, l, cfg.diff_ids[i], err) < 0)
        return -1;
      cleanup_free char *us = xasprintf ("%llu", (unsigned long long)l->layer->size);
      json_array_append_new (mlayers, json_pack ("{s:s, s:s, s:I, s:{s:s}}", "mediaType",
                                                 layer_media_type (l->layer->compression), "digest",
                                                 l->digest, "size", (json_int_t)l->size,
                                                 "annotations", ANN_SIZE, us));
      add_blob (L, g, l);
    }
  add_blob (L, g, c);
  cleanup_json json_t *m
      = json_pack ("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
                   IMAGEFMT_MT_OCI_MANIFEST, "config", "mediaType", IMAGEFMT_MT_OCI_CONFIG,
                   "digest", c->digest, "size", (json_int_t)c->size, "layers", mlayers);
  g->id = xstrdup (c->digest);
  g->mtext = store_dump_json (m);
  g->mlen = strlen (g->mtext);
  g->mdigest = imagefmt_digest_data (g->mtext, g->mlen);
  g->mtype = xstrdup (IMAGEFMT_MT_OCI_MANIFEST);
  g->made_manifest = true;
  size_t i;
  json_t *t;
  json_array_foreach (tags, i, t)
  {
    if (!json_is_string (t))
      return nook_error_set (err, 0, "'%s': %s: RepoTags[%zu] is not a string", L->name, what, i);
    if (add_tag (L, g, json_string_value (t), err) < 0)
      return -1;
  }
  return 0;
}

static int
load_docker (struct load *L, struct member *mf, nook_error_t *err)
{
  cleanup_json json_t *items = read_json (L, mf, NULL, NULL, err);
  if (items == NULL)
    return -1;
  if (!json_is_array (items) || json_array_size (items) == 0)
    return nook_error_set (err, 0, "'%s': manifest.json lists no image", L->name);
  for (size_t k = 0; k < json_array_size (items); k++)
    if (docker_image (L, json_array_get (items, k), k, err) < 0)
      return -1;
  return 0;
}

/* ---- OCI layout ---- */

/* The manifest a descriptor names (an index resolved to this machine's platform by
 * manifest.c's rules); top is index.json's entry (its annotations name the image). */
static int
oci_manifest (struct load *L, const char *mt, const char *d, int64_t size, json_t *top, int depth,
              nook_error_t *err)
{
  cleanup_free char *what = xasprintf ("manifest %s", d ? d : "(no digest)");
  struct member *mm = blob (L, d, size, what, err);
  cleanup_free char *text = NULL;
  size_t len = 0;
  __attribute__ ((cleanup (imagefmt_manifest_clear))) struct imagefmt_manifest m = { 0 };
  if (mm == NULL || read_member (L, mm, &text, &len, err) < 0)
    return -1;
  if (imagefmt_manifest_parse (text, len, mt, &m, err) < 0)
    return nook_error_wrap (err, "'%s': %s", L->name, what);
  if (m.kind == IMAGEFMT_MANIFEST_INDEX)
    {
      struct imagefmt_platform want = { 0 };
      if (depth > 3)
        return nook_error_set (err, 0, "'%s': indexes nested too deep", L->name);
      imagefmt_platform_default (&want);
      ssize_t at = m.n_manifests == 1 && !m.manifests[0].has_platform
                       ? 0
                       : imagefmt_index_select (&m, &want, err);
      imagefmt_platform_clear (&want);
      if (at < 0)
        return nook_error_wrap (err, "'%s': %s", L->name, what);
      const struct imagefmt_descriptor *p = &m.manifests[at];
      return oci_manifest (L, p->media_type, p->digest, p->size, top, depth + 1, err);
    }
  struct member *c = blob (L, m.config.digest, m.config.size, "the image config", err);
  __attribute__ ((cleanup (imagefmt_config_info_clear))) struct imagefmt_config_info cfg = { 0 };
  if (c == NULL || config_read (L, c, "the image config", &cfg, err) < 0)
    return -1;
  if (strv_len (cfg.diff_ids) != m.n_layers)
    return nook_error_set (err, 0, "'%s': %s lists %zu layers but its config has %zu diff IDs",
                           L->name, what, m.n_layers, strv_len (cfg.diff_ids));
  struct limg *g = NULL;
  for (size_t i = 0; i < L->nimgs && g == NULL; i++)
    if (strcmp (L->imgs[i].mdigest, mm->digest) == 0)
      g = &L->imgs[i];
  if (g == NULL)
    {
      g = new_image (L);
      g->id = xstrdup (c->digest);
      g->mtext = steal_pointer (&text);
      g->mlen = len;
      g->mdigest = xstrdup (mm->digest);
      g->mtype = xstrdup (m.media_type);
    }
  for (size_t i = 0; i < m.n_layers; i++)
    {
      cleanup_free char *lw = xasprintf ("layer %zu of %s", i, what);
      struct member *l = blob (L, m.layers[i].digest, m.layers[i].size, lw, err);
      if (l == NULL || check_layer (L, l, cfg.diff_ids[i], err) < 0)
        return -1;
      add_blob (L, g, l);
    }
  add_blob (L, g, c);
  add_blob (L, g, mm);
  json_t *ann = json_object_get (top, "annotations");
  const char *name = json_string_value (json_object_get (ann, ANN_CONTAINERD_NAME));
  const char *refname = json_string_value (json_object_get (ann, ANN_REF));
  if (name == NULL && refname && strpbrk (refname, ":/"))
    name = refname; /* skopeo's oci-archive:FILE:NAME:TAG */
  return name ? add_tag (L, g, name, err) : 0;
}

static int
load_oci (struct load *L, struct member *ix, nook_error_t *err)
{
  cleanup_json json_t *index = read_json (L, ix, NULL, NULL, err);
  if (index == NULL)
    return -1;
  json_t *ms = json_object_get (index, "manifests");
  if (!json_is_array (ms) || json_array_size (ms) == 0)
    return nook_error_set (err, 0, "'%s': index.json lists no image", L->name);
  for (size_t i = 0; i < json_array_size (ms); i++)
    {
      json_t *e = json_array_get (ms, i);
      json_t *size = json_object_get (e, "size");
      if (size && !json_is_integer (size))
        return nook_error_set (err, 0, "'%s': index.json: manifests[%zu].size is not a number",
                               L->name, i);
      if (oci_manifest (L, json_string_value (json_object_get (e, "mediaType")),
                        json_string_value (json_object_get (e, "digest")),
                        size ? (int64_t)json_integer_value (size) : -1, e, 0, err)
          < 0)
        return -1;
    }
  return 0;
}

/* ---- commit ---- */

static int
link_blobs (struct load *L, char ***linked, nook_error_t *err)
{
  for (size_t k = 0; k < L->nimgs; k++)
    {
      struct limg *g = &L->imgs[k];
      if (g->existing)
        continue; /* the store has this image: only its tags change */
      for (size_t i = 0; i < g->nb; i++)
        {
          struct member *m = &L->m[g->bidx[i]];
          char fname[32];
          snprintf (fname, sizeof fname, "%zu", g->bidx[i]);
          if (m->layer && m->layer->compression != IMAGEFMT_COMPRESSION_NONE)
            store_layer_size_put (L->s, m->digest, m->layer->size);
          if (store_blob_exists (L->s, m->digest + 7))
            continue;
          cleanup_close int fd = openat (L->stagefd, fname, O_RDONLY | O_CLOEXEC);
          if (fd < 0 || fsync (fd) < 0)
            return nook_error_set (err, errno, "fsync staged blob %s", m->digest);
          if (linkat (L->stagefd, fname, L->s->blobsfd, m->digest + 7, 0) < 0 && errno != EEXIST)
            return nook_error_set (err, errno, "link blob %s into '%s/blobs/sha256'", m->digest,
                                   L->s->root);
          strv_push (linked, m->digest);
        }
      if (!g->made_manifest || store_blob_exists (L->s, g->mdigest + 7))
        continue;
      if (imagefmt_store_put_blob (L->s, g->mtext, g->mlen, g->mdigest, NULL, err) < 0)
        return -1;
      strv_push (linked, g->mdigest);
    }
  if (fsync (L->s->blobsfd) < 0)
    return nook_error_set (err, errno, "fsync '%s/blobs/sha256'", L->s->root);
  return 0;
}

/* An image of the same ID the store already has (Docker's identity is the config):
 * loading it again only moves tags, it does not add a second manifest. */
static void
find_existing (struct load *L, json_t *manifests)
{
  size_t i;
  json_t *e;
  json_array_foreach (manifests, i, e)
  {
    cleanup_free char *cid = store_entry_config_digest (L->s, e);
    for (size_t k = 0; cid && k < L->nimgs; k++)
      if (L->imgs[k].existing == NULL && strcmp (L->imgs[k].id, cid) == 0)
        L->imgs[k].existing = e;
  }
}

static int
write_index (struct load *L, json_t *idx, nook_error_t *err)
{
  json_t *manifests = json_object_get (idx, "manifests");
  for (size_t i = 0; i < L->nimgs; i++)
    {
      struct limg *g = &L->imgs[i];
      const char *d = g->existing ? store_entry_digest (g->existing) : g->mdigest;
      size_t size = g->existing ? (size_t)json_integer_value (json_object_get (g->existing, "size"))
                                : g->mlen;
      const char *mt
          = g->existing ? json_string_value (json_object_get (g->existing, "mediaType")) : g->mtype;
      cleanup_free char *digest = xstrdup (d);
      cleanup_free char *mtype = mt ? xstrdup (mt) : NULL;
      for (size_t t = 0; g->tags[t]; t++)
        {
          size_t k;
          json_t *e;
          json_array_foreach (manifests, k, e)
          {
            const char *r = store_entry_ref (e);
            if (r == NULL || strcmp (r, g->tags[t]) != 0)
              continue;
            cleanup_free char *old = store_entry_config_digest (L->s, e);
            if (old && strcmp (old, g->id) != 0)
              {
                strv_push (&g->moved, g->tags[t]);
                strv_push (&g->moved, old);
              }
            break;
          }
          store_index_tag (manifests, g->tags[t], digest, size, mtype);
        }
      if (g->tags[0] == NULL && !store_index_has (manifests, digest))
        json_array_append_new (manifests, json_pack ("{s:s, s:s, s:I}", "mediaType", g->mtype,
                                                     "digest", digest, "size", (json_int_t)size));
      g->existing = NULL; /* the entry may have moved */
    }
  return store_save_index (L->s, idx, err);
}

/* Under the store lock: blobs first (each complete before it has its name), the index
 * last.  On failure the blobs this load linked are removed again. */
static int
commit (struct load *L, nook_error_t *err)
{
  cleanup_unlock struct imagefmt_store *locked = NULL;
  cleanup_strv char **linked = xzalloc (sizeof (char *));
  cleanup_json json_t *idx = NULL;
  if (imagefmt_store_lock (L->s, err) < 0)
    return -1;
  locked = L->s;
  if (store_load_index (L->s, &idx, err) < 0)
    return -1;
  find_existing (L, json_object_get (idx, "manifests"));
  if (link_blobs (L, &linked, err) == 0)
    {
      test_hook ("load-blobs-linked");
      if (write_index (L, idx, err) == 0)
        return 0;
    }
  for (size_t i = 0; linked[i]; i++)
    store_remove_blob (L->s, linked[i]);
  return -1;
}

/* ---- entry point ---- */

static void
load_free (struct load *L)
{
  for (size_t i = 0; i < L->n; i++)
    {
      free (L->m[i].name);
      free (L->m[i].target);
      free (L->m[i].digest);
      if (L->m[i].layer)
        free (L->m[i].layer->diff_id);
      free (L->m[i].layer);
    }
  free (L->m);
  for (size_t i = 0; i < L->nimgs; i++)
    {
      free (L->imgs[i].id);
      free (L->imgs[i].mtext);
      free (L->imgs[i].mdigest);
      free (L->imgs[i].mtype);
      strv_free (L->imgs[i].tags);
      strv_free (L->imgs[i].moved);
      free (L->imgs[i].bidx);
    }
  free (L->imgs);
}

int
imagefmt_images_load (struct imagefmt_store *s, int fd, const struct imagefmt_load_opts *o,
                      nook_error_t *err)
{
  struct load L = { .s = s, .name = o && o->name ? o->name : "stdin", .tmpfd = -1, .stagefd = -1 };
  struct member *mf, *ix;
  int ret = -1;
  if (imagefmt_archive_load (err) < 0 || stage_dir_new (&L, err) < 0 || stage (&L, fd, err) < 0)
    goto out;
  test_hook ("load-staged");
  if ((mf = find (&L, "manifest.json", 0)) != NULL)
    ret = load_docker (&L, mf, err);
  else if ((ix = find (&L, "index.json", 0)) != NULL)
    ret = load_oci (&L, ix, err);
  else
    ret = nook_error_set (err, 0,
                          "'%s' has neither manifest.json nor index.json: it is not an image "
                          "archive of docker save, podman save or skopeo (a root filesystem "
                          "tarball is imported with 'nook import')",
                          L.name);
  if (ret == 0)
    ret = commit (&L, err);
  if (ret == 0 && o && o->loaded)
    for (size_t i = 0; i < L.nimgs; i++)
      {
        struct limg *g = &L.imgs[i];
        for (size_t t = 0; o->renamed && g->moved && g->moved[t]; t += 2)
          {
            cleanup_free char *fam = imagefmt_ref_familiar (g->moved[t]);
            o->renamed (o->data, fam, g->moved[t + 1]);
          }
        if (g->tags[0] == NULL)
          o->loaded (o->data, NULL, g->id);
        for (size_t t = 0; g->tags[t]; t++)
          {
            cleanup_free char *fam = imagefmt_ref_familiar (g->tags[t]);
            o->loaded (o->data, fam, g->id);
          }
      }
out:
  if (L.stagename)
    fs_rm_rf_at (L.tmpfd, L.stagename, NULL); /* still locked: no cleaner takes it meanwhile */
  free (L.stagename);
  if (L.stagefd >= 0)
    close (L.stagefd);
  if (L.tmpfd >= 0)
    close (L.tmpfd);
  load_free (&L);
  return ret;
}
