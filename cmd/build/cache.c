/* cmd/build/cache.c: the build cache: cache/build/<key hex> in the store holds the
 * state after a step (its config and layer blobs), so a rebuild with the same inputs
 * reuses it, across runs of nook.  An entry whose blobs are gone (rmi, prune) is a
 * miss.  Keys are pure functions of the inputs (build_cache_key). */
#include "cmd/build/build.h"
#include "imagefmt/digest.h"
#include "imagefmt/store.h"
#include "imagefmt/store_blob.h"
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
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAX (16u << 20)

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

static int
cache_dir (struct build *b, nook_error_t *err)
{
  cleanup_free char *p = xasprintf ("%s/cache/build", imagefmt_store_root (b->store));
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
  cleanup_close int d = cache_dir (b, &e);
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
  *out = s;
  return 0;
}

void
build_cache_put (struct build *b, const char *key, const struct build_state *s)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_close int d = cache_dir (b, &e);
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

int
build_cache_prune (const char *root, size_t *n, uint64_t *bytes, nook_error_t *err)
{
  cleanup_free char *p = xasprintf ("%s/cache/build", root);
  *n = 0;
  *bytes = 0;
  cleanup_dir DIR *dir = opendir (p);
  if (dir == NULL)
    return errno == ENOENT ? 0 : nook_error_set (err, errno, "open '%s'", p);
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp (de->d_name, "..") == 0))
        continue;
      struct stat st;
      if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        *bytes += (uint64_t)st.st_size;
      if (unlinkat (dirfd (dir), de->d_name, 0) < 0 && errno != ENOENT)
        return nook_error_set (err, errno, "remove '%s/%s'", p, de->d_name);
      (*n)++;
    }
  return 0;
}
