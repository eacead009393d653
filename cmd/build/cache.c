/* cmd/build/cache.c: the build cache: cache/build/<key hex> in the store holds the
 * state after a step (its config and layer blobs), so a rebuild with the same inputs
 * reuses it, across runs of nook.  An entry whose blobs are gone (rmi, prune) is a
 * miss.  Keys are pure functions of the inputs (build_cache_key). */
#include "cmd/build/build.h"
#include "cmd/health.h"
#include "imagefmt/digest.h"
#include "imagefmt/store.h"
#include "imagefmt/store_blob.h"
#include "imagefmt/store_check.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_MAX (16u << 20)

static int mounts_walk (struct imagefmt_store *s, int64_t before, bool remove, size_t *n,
                        uint64_t *bytes, nook_error_t *err);

/* Each field framed with its length, so no two different inputs read the same. */
static void
field (struct strbuf *b, const char *tag, const char *v)
{
  strbuf_appendf (b, "%s %zu:%s\n", tag, v ? strlen (v) : (size_t)0, v ? v : "");
}

char *
build_cache_key (const char *parent_config_digest, const char *instruction,
                 char *const *args_in_scope, const char *inputs, int64_t epoch)
{
  struct strbuf b = { 0 };
  strbuf_append (&b, "nook-build-cache v1\n");
  field (&b, "parent", parent_config_digest);
  field (&b, "instruction", instruction);
  for (size_t i = 0; args_in_scope && args_in_scope[i]; i++)
    field (&b, "arg", args_in_scope[i]);
  field (&b, "inputs", inputs);
  strbuf_appendf (&b, "epoch %" PRId64 "\n", epoch);
  cleanup_free char *text = strbuf_steal (&b);
  return imagefmt_digest_data (text, strlen (text));
}

char *
build_state_digest (const struct build_state *s)
{
  json_t *j = json_pack ("{s:O, s:[]}", "config", s->config, "layers");
  for (size_t i = 0; s->layers && s->layers[i]; i++)
    json_array_append_new (json_object_get (j, "layers"), json_string (s->layers[i]));
  cleanup_free char *text = json_dumps (j, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref (j);
  if (text == NULL)
    oom ();
  return imagefmt_digest_data (text, strlen (text));
}

int
build_store_dir (struct build *b, const char *sub, nook_error_t *err)
{
  cleanup_free char *p = xasprintf ("%s/%s", imagefmt_store_root (b->store), sub);
  if (fs_mkdir_p (p, 0700, err) < 0)
    return -1;
  int fd = open (p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", p);
  return fd;
}

int
build_cache_get (struct build *b, const char *key, struct build_state *out)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_close int d = build_store_dir (b, "cache/build", &e);
  cleanup_free char *text = NULL;
  if (d < 0 || fs_read_file_at (d, key + 7, CACHE_MAX, &text, NULL, &e) < 0)
    return 1;
  json_error_t je;
  json_t *j = json_loads (text, JSON_REJECT_DUPLICATES, &je);
  json_t *cfg = j ? json_object_get (j, "config") : NULL;
  json_t *layers = j ? json_object_get (j, "layers") : NULL;
  json_t *diffs = cfg ? json_object_get (json_object_get (cfg, "rootfs"), "diff_ids") : NULL;
  if (!json_is_object (cfg) || !json_is_array (layers) || !json_is_array (diffs)
      || json_array_size (layers) != json_array_size (diffs))
    {
      json_decref (j);
      return 1;
    }
  struct build_state s = { .config = json_incref (cfg) };
  s.layers = xzalloc (sizeof (char *));
  s.diff_ids = xzalloc (sizeof (char *));
  size_t i;
  json_t *v;
  bool ok = true;
  json_array_foreach (layers, i, v)
  {
    const char *l = json_string_value (v);
    const char *dd = json_string_value (json_array_get (diffs, i));
    if (l == NULL || dd == NULL
        || !imagefmt_digest_hex_valid (l + (strncmp (l, "sha256:", 7) ? 0 : 7))
        || !imagefmt_store_has_blob (b->store, l))
      {
        ok = false;
        break;
      }
    strv_push (&s.layers, l);
    strv_push (&s.diff_ids, dd);
  }
  json_decref (j);
  if (!ok)
    {
      build_state_clear (&s);
      return 1;
    }
  /* the record's mtime is its last use (`builder prune --filter until=`) */
  utimensat (d, key + 7, NULL, 0);
  *out = s;
  return 0;
}

void
build_cache_put (struct build *b, const char *key, const struct build_state *s)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_close int d = build_store_dir (b, "cache/build", &e);
  if (d < 0)
    {
      log_warn ("build cache: %s", e->msg);
      return;
    }
  json_t *j = json_pack ("{s:O, s:[]}", "config", s->config, "layers");
  for (size_t i = 0; s->layers && s->layers[i]; i++)
    json_array_append_new (json_object_get (j, "layers"), json_string (s->layers[i]));
  cleanup_free char *text = json_dumps (j, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref (j);
  if (text == NULL)
    oom ();
  if (fs_write_atomic_at (d, key + 7, text, strlen (text), 0600, &e) < 0)
    log_warn ("build cache: %s", e->msg);
}

/* ---- the cache's records and the layers only they keep ---- */

struct entries
{
  char **names;             /* the entries' file names */
  int64_t *used;            /* last use (mtime) */
  uint64_t *size;           /* the record's bytes */
  char ***blobs, ***chains; /* per entry */
  size_t n;
};

static void
entries_free (struct entries *e)
{
  for (size_t i = 0; i < e->n; i++)
    {
      strv_free (e->blobs[i]);
      strv_free (e->chains[i]);
    }
  strv_free (e->names);
  free (e->used);
  free (e->size);
  free (e->blobs);
  free (e->chains);
}

/* Every record of cache/build with the layer blobs and chain IDs its state names. */
static int
entries_read (const char *root, struct entries *out, nook_error_t *err)
{
  cleanup_free char *p = xasprintf ("%s/cache/build", root);
  *out = (struct entries){ .names = xzalloc (sizeof (char *)) };
  cleanup_dir DIR *dir = opendir (p);
  if (dir == NULL)
    return errno == ENOENT ? 0 : nook_error_set (err, errno, "open '%s'", p);
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      struct stat st;
      if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      size_t i = out->n++;
      strv_push (&out->names, de->d_name);
      out->used = xreallocarray (out->used, out->n, sizeof *out->used);
      out->size = xreallocarray (out->size, out->n, sizeof *out->size);
      out->blobs = xreallocarray (out->blobs, out->n, sizeof *out->blobs);
      out->chains = xreallocarray (out->chains, out->n, sizeof *out->chains);
      out->used[i] = st.st_mtim.tv_sec;
      out->size[i] = (uint64_t)st.st_size;
      out->blobs[i] = xzalloc (sizeof (char *));
      out->chains[i] = xzalloc (sizeof (char *));
      cleanup_free char *text = NULL;
      if (!S_ISREG (st.st_mode)
          || fs_read_file_at (dirfd (dir), de->d_name, CACHE_MAX, &text, NULL, NULL) < 0)
        continue;
      json_t *j = json_loads (text, 0, NULL);
      json_t *diffs
          = json_object_get (json_object_get (json_object_get (j, "config"), "rootfs"), "diff_ids");
      size_t k;
      json_t *v;
      json_array_foreach (json_object_get (j, "layers"), k, v)
      {
        if (json_string_value (v))
          strv_push (&out->blobs[i], json_string_value (v));
      }
      cleanup_strv char **d = xzalloc (sizeof (char *));
      json_array_foreach (diffs, k, v)
      {
        if (json_string_value (v))
          strv_push (&d, json_string_value (v));
      }
      strv_free (out->chains[i]);
      out->chains[i] = imagefmt_chain_ids (d);
      json_decref (j);
    }
  return 0;
}

static void
strv_add_all (char ***to, char *const *from)
{
  for (size_t i = 0; from && from[i]; i++)
    if (!strv_contains (*to, from[i]))
      strv_push (to, from[i]);
}

int
build_cache_usage (struct imagefmt_store *s, size_t *n, uint64_t *bytes, nook_error_t *err)
{
  struct entries e;
  *n = 0;
  *bytes = 0;
  if (entries_read (imagefmt_store_root (s), &e, err) < 0)
    return -1;
  cleanup_strv char **blobs = xzalloc (sizeof (char *));
  cleanup_strv char **chains = xzalloc (sizeof (char *));
  for (size_t i = 0; i < e.n; i++)
    {
      *bytes += e.size[i];
      strv_add_all (&blobs, e.blobs[i]);
      strv_add_all (&chains, e.chains[i]);
    }
  *n = e.n;
  entries_free (&e);
  size_t k = 0;
  uint64_t lb = 0;
  if (imagefmt_store_unused_layers (s, blobs, chains, NULL, NULL, false, &k, &lb, err) < 0)
    return -1;
  *bytes += lb;
  return mounts_walk (s, -1, false, n, bytes, err);
}

/* RUN --mount=type=cache directories, cache/build-mounts/<hex> and their <hex>.lock (whose
 * mtime is their last use): removed in the store's user namespace (files there may belong
 * to subordinate ids), each under its lock taken without waiting (one in use stays). */
struct mount_rm
{
  int dirfd;
  const char *name;
  uint64_t bytes;
};

static int
mount_rm_fn (void *arg, nook_error_t *err)
{
  struct mount_rm *m = arg;
  m->bytes = imagefmt_tree_size (m->dirfd, m->name);
  return fs_rm_rf_at (m->dirfd, m->name, err);
}

static int
mounts_walk (struct imagefmt_store *s, int64_t before, bool remove, size_t *n, uint64_t *bytes,
             nook_error_t *err)
{
  cleanup_free char *p = xasprintf ("%s/cache/build-mounts", imagefmt_store_root (s));
  cleanup_close int d = open (p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0)
    return errno == ENOENT ? 0 : nook_error_set (err, errno, "open '%s'", p);
  int d2 = fcntl (d, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *dir = d2 < 0 ? NULL : fdopendir (d2);
  if (dir == NULL)
    {
      if (d2 >= 0)
        close (d2);
      return nook_error_set (err, errno, "read '%s'", p);
    }
  cleanup_strv char **names = xzalloc (sizeof (char *));
  struct dirent *de;
  while ((de = readdir (dir)))
    {
      size_t l = strlen (de->d_name);
      if (l > 5 && strcmp (de->d_name + l - 5, ".lock") == 0)
        strv_push_take (&names, xstrndup (de->d_name, l - 5));
    }
  for (size_t i = 0; names[i]; i++)
    {
      cleanup_free char *lock = xasprintf ("%s.lock", names[i]);
      cleanup_close int lfd = openat (d, lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
      struct stat st;
      if (lfd < 0 || fstat (lfd, &st) < 0)
        continue;
      if (before >= 0 && (int64_t)st.st_mtime >= before)
        continue;
      if (!remove)
        {
          (*n)++;
          *bytes += imagefmt_tree_size (d, names[i]);
          continue;
        }
      if (flock (lfd, LOCK_EX | LOCK_NB) < 0)
        continue; /* a build uses it */
      struct mount_rm m = { .dirfd = d, .name = names[i] };
      if (faccessat (d, names[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0
          && imagefmt_store_call (s, mount_rm_fn, &m, err) < 0)
        return nook_error_wrap (err, "remove the cache mount '%s/%s'", p, names[i]);
      if (unlinkat (d, lock, 0) < 0 && errno != ENOENT)
        return nook_error_set (err, errno, "remove '%s/%s'", p, lock);
      (*n)++;
      *bytes += m.bytes;
    }
  return 0;
}

int
build_cache_prune (struct imagefmt_store *s, int64_t before, size_t *n, uint64_t *bytes,
                   nook_error_t *err)
{
  struct entries e;
  *n = 0;
  *bytes = 0;
  const char *root = imagefmt_store_root (s);
  if (entries_read (root, &e, err) < 0)
    return -1;
  cleanup_free char *p = xasprintf ("%s/cache/build", root);
  cleanup_close int d = open (p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_strv char **gone_blobs = xzalloc (sizeof (char *));
  cleanup_strv char **gone_chains = xzalloc (sizeof (char *));
  cleanup_strv char **kept_blobs = xzalloc (sizeof (char *));
  cleanup_strv char **kept_chains = xzalloc (sizeof (char *));
  int ret = 0;
  for (size_t i = 0; i < e.n; i++)
    {
      if (before >= 0 && e.used[i] >= before)
        {
          strv_add_all (&kept_blobs, e.blobs[i]);
          strv_add_all (&kept_chains, e.chains[i]);
          continue;
        }
      if (d >= 0 && unlinkat (d, e.names[i], 0) < 0 && errno != ENOENT)
        {
          ret = nook_error_set (err, errno, "remove '%s/%s'", p, e.names[i]);
          break;
        }
      (*n)++;
      *bytes += e.size[i];
      strv_add_all (&gone_blobs, e.blobs[i]);
      strv_add_all (&gone_chains, e.chains[i]);
    }
  entries_free (&e);
  if (ret < 0)
    return -1;
  /* the intermediate layers only the removed records kept: no image, no record left */
  size_t k = 0;
  uint64_t lb = 0;
  if (imagefmt_store_unused_layers (s, gone_blobs, gone_chains, kept_blobs, kept_chains, true, &k,
                                    &lb, err)
      < 0)
    return -1;
  *bytes += lb;
  return mounts_walk (s, before, true, n, bytes, err);
}

int
build_prune_filter (const char *filter, int64_t now, int64_t *before, nook_error_t *err)
{
  const char *v;
  if (strncmp (filter, "until=", 6) != 0)
    return nook_error_set_exit (err, 125, EINVAL,
                                "invalid filter '%s': nook builder prune knows 'until=DURATION' "
                                "or 'until=TIMESTAMP'",
                                filter);
  v = filter + 6;
  int64_t ns;
  cleanup_error nook_error_t e = NULL;
  if (health_duration_parse (v, &ns, &e) == 0)
    {
      if (ns < 0)
        return nook_error_set_exit (err, 125, EINVAL, "invalid filter '%s': a negative duration",
                                    filter);
      *before = now - ns / 1000000000;
      return 0;
    }
  char *end = NULL;
  errno = 0;
  long long t = strtoll (v, &end, 10);
  if (*v && errno == 0 && end && *end == '\0' && t >= 0)
    {
      *before = t;
      return 0;
    }
  struct tm tm = { 0 };
  end = strptime (v, "%Y-%m-%dT%H:%M:%S", &tm);
  if (end && (*end == '\0' || strcmp (end, "Z") == 0))
    {
      *before = (int64_t)timegm (&tm);
      return 0;
    }
  return nook_error_set_exit (err, 125, EINVAL,
                              "invalid filter '%s': until takes a duration (24h, 90m) or a time "
                              "(Unix seconds, or 2006-01-02T15:04:05Z)",
                              filter);
}
