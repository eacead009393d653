/* cmd/build/verify.c: `nook build --verify`: the build is done a second time without the
 * cache and the two results compared; where a layer differs, the files that differ are
 * named (content, mode, owner, link target or presence).  RUN steps that write times or
 * random values (apt's and dpkg's logs, npm's cache) show up here. */
#include "cmd/build/build.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/store_blob.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* name -> "mode uid gid link sha" of every entry of a layer blob */
static int
layer_index (struct build *b, const char *blob, json_t *out, nook_error_t *err)
{
  cleanup_close int fd = imagefmt_store_open_blob (b->store, blob, NULL, err);
  if (fd < 0 || imagefmt_archive_load (err) < 0)
    return -1;
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  if (a == NULL)
    oom ();
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  archive_read_support_filter_xz (a);
  archive_read_support_format_tar (a);
  int ret = 0;
  if (archive_read_open_fd (a, fd, 1 << 16) != ARCHIVE_OK)
    ret = nook_error_set (err, EIO, "layer %s: %s", blob, archive_error_string (a));
  while (ret == 0 && archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      struct imagefmt_digester *d = imagefmt_digester_new ();
      const void *buf;
      size_t n;
      la_int64_t off;
      while (archive_read_data_block (a, &buf, &n, &off) == ARCHIVE_OK)
        imagefmt_digester_update (d, buf, n);
      cleanup_free char *sum = imagefmt_digester_finish (d);
      const char *l = archive_entry_symlink (e)    ? archive_entry_symlink (e)
                      : archive_entry_hardlink (e) ? archive_entry_hardlink (e)
                                                   : "";
      cleanup_free char *v
          = xasprintf ("%o %lld %lld %s %s", (unsigned)archive_entry_perm (e),
                       (long long)archive_entry_uid (e), (long long)archive_entry_gid (e), l, sum);
      json_object_set_new (out, archive_entry_pathname (e), json_string (v));
    }
  archive_read_free (a);
  return ret;
}

int
build_verify (struct build *b, const struct build_state *one, const struct build_state *two,
              nook_error_t *err)
{
  cleanup_free char *d1 = build_state_digest (one);
  cleanup_free char *d2 = build_state_digest (two);
  int v = ++b->vertex;
  fprintf (b->out, "#%d verify: the build done again without the cache\n", v);
  if (strcmp (d1, d2) == 0)
    {
      fprintf (b->out, "#%d verify: identical: the build is reproducible\n#%d DONE\n\n", v, v);
      return 0;
    }
  size_t n1 = strv_len (one->layers), n2 = strv_len (two->layers);
  size_t differing = 0;
  if (n1 != n2)
    fprintf (b->out, "#%d verify: %zu layers, then %zu\n", v, n1, n2);
  for (size_t i = 0; i < n1 && i < n2; i++)
    {
      if (strcmp (one->diff_ids[i], two->diff_ids[i]) == 0)
        continue;
      json_t *x = json_object (), *y = json_object ();
      if (layer_index (b, one->layers[i], x, err) < 0
          || layer_index (b, two->layers[i], y, err) < 0)
        {
          json_decref (x);
          json_decref (y);
          return -1;
        }
      const char *k;
      json_t *val;
      json_object_foreach (x, k, val)
      {
        json_t *o = json_object_get (y, k);
        if (o == NULL)
          fprintf (b->out, "#%d verify: layer %zu: /%s only in the first build\n", v, i + 1, k);
        else if (!json_equal (o, val))
          fprintf (b->out, "#%d verify: layer %zu: /%s differs\n", v, i + 1, k);
        differing += o == NULL || !json_equal (o, val);
      }
      json_object_foreach (y, k, val)
      {
        if (json_object_get (x, k) == NULL)
          {
            fprintf (b->out, "#%d verify: layer %zu: /%s only in the second build\n", v, i + 1, k);
            differing++;
          }
      }
      json_decref (x);
      json_decref (y);
    }
  fflush (b->out);
  return nook_error_set_exit (err, 1, 0,
                              "--verify: the build is not reproducible: %zu file(s) differ "
                              "between two builds (named above)",
                              differing);
}
