/* tests/unit/test_archive.c: the layer checker (entry rules, diff IDs of plain and
 * compressed layers, truncation), save and load round trips through docker-archive,
 * oci-archive and oci-dir between two stores, a bad archive adding nothing, and the
 * inspect JSON and history rows. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "imagefmt/archive.h"
#include "imagefmt/digest.h"
#include "imagefmt/image_info.h"
#include "imagefmt/layer.h"
#include "imagefmt/layer_check.h"
#include "imagefmt/store.h"
#include "imagefmt/store_check.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

/* ---- entry rules ---- */

static void
test_entry_rules (void **state)
{
  static const struct
  {
    const char *name;
    char type;
    const char *link;
    bool ok;
  } cases[] = {
    { "etc/passwd", 0, NULL, true },
    { "./etc/passwd", 0, NULL, true },
    { "etc/", 0, NULL, true },
    { "/etc/passwd", 0, NULL, false },
    { "etc/../../x", 0, NULL, false },
    { "..", 0, NULL, false },
    { "a/..b", 0, NULL, true },
    { "etc/l", 'l', "/etc/passwd", true },
    { "etc/l", 'l', "../bin/sh", true },
    { "etc/l", 'l', "../../x", false },
    { "l", 'l', "../x", false },
    { "a/b/c/l", 'l', "../../../x", true },
    { "a/b/c/l", 'l', "../../../../x", false },
    { "a/l", 'l', "./../x", true },
    { "a/l", 'l', "x/../../../y", false },
    { "h", 'h', "etc/passwd", true },
    { "h", 'h', "../x", false },
    { "h", 'h', "/etc/passwd", false },
    { "l", 'l', "", false },
    { "", 0, NULL, false },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      cleanup_error nook_error_t err = NULL;
      int r = imagefmt_layer_check_entry (cases[i].name, cases[i].type, cases[i].link, &err);
      if ((r == 0) != cases[i].ok)
        fail_msg ("entry '%s' (%c -> %s): expected %s, got %s", cases[i].name,
                  cases[i].type ? cases[i].type : '-', cases[i].link ? cases[i].link : "",
                  cases[i].ok ? "ok" : "refused", err ? err->msg : "ok");
    }
}

static void
test_compression_detect (void **state)
{
  assert_int_equal (imagefmt_compression_detect ("\x1f\x8b\x08", 3), IMAGEFMT_COMPRESSION_GZIP);
  assert_int_equal (imagefmt_compression_detect ("\x28\xb5\x2f\xfd", 4), IMAGEFMT_COMPRESSION_ZSTD);
  assert_int_equal (imagefmt_compression_detect ("\xfd"
                                                 "7zXZ\0",
                                                 6),
                    IMAGEFMT_COMPRESSION_XZ);
  assert_int_equal (imagefmt_compression_detect ("BZh9", 4), IMAGEFMT_COMPRESSION_BZIP2);
  assert_int_equal (imagefmt_compression_detect ("etc/", 4), IMAGEFMT_COMPRESSION_NONE);
  assert_int_equal (imagefmt_compression_detect ("", 0), IMAGEFMT_COMPRESSION_NONE);
}

/* A small tar (plain or gzip) in a memfd, rewound. */
static int
small_tar (bool gzip, const char *name)
{
  const struct imagefmt_tar_entry en[] = {
    { .path = "etc", .mode = S_IFDIR | 0755 },
    { .path = name, .mode = S_IFREG | 0644, .data = "hello\n", .size = 6 },
    { .path = "etc/sh", .mode = S_IFLNK | 0777, .linkname = "/bin/busybox" },
  };
  cleanup_error nook_error_t err = NULL;
  int m = memfd_create ("t", MFD_CLOEXEC);
  if (imagefmt_layer_write_tar (m, en, ARRAY_SIZE (en), 0, gzip, &err) < 0)
    fail_msg ("write tar: %s", err->msg);
  lseek (m, 0, SEEK_SET);
  return m;
}

static void
test_layer_check_digests (void **state)
{
  cleanup_close int plain = small_tar (false, "etc/hello");
  cleanup_close int gz = small_tar (true, "etc/hello");
  cleanup_error nook_error_t err = NULL;
  struct imagefmt_layer_info a, b;
  cleanup_free char *want = imagefmt_digest_fd (plain, &err);
  lseek (plain, 0, SEEK_SET);
  assert_int_equal (imagefmt_layer_check_fd (plain, &a, &err), 0);
  assert_int_equal (imagefmt_layer_check_fd (gz, &b, &err), 0);
  assert_string_equal (a.diff_id, want);
  assert_string_equal (b.diff_id, want); /* the uncompressed stream's */
  assert_int_equal (a.compression, IMAGEFMT_COMPRESSION_NONE);
  assert_int_equal (b.compression, IMAGEFMT_COMPRESSION_GZIP);
  assert_int_equal (a.entries, 3);
  assert_int_equal (a.size, b.size);
  free (a.diff_id);
  free (b.diff_id);
}

static void
test_layer_check_refuses (void **state)
{
  cleanup_close int abs = small_tar (false, "/etc/evil");
  cleanup_error nook_error_t err = NULL;
  struct imagefmt_layer_info info;
  assert_int_equal (imagefmt_layer_check_fd (abs, &info, &err), -1);
  assert_non_null (strstr (err->msg, "entry '/etc/evil': absolute member names are refused"));
  nook_error_free (&err);
  /* Truncated in the middle of an entry. */
  cleanup_close int m = small_tar (false, "etc/hello");
  char buf[700];
  assert_int_equal (read (m, buf, sizeof buf), sizeof buf);
  assert_int_equal (imagefmt_layer_check_mem (buf, sizeof buf, &info, &err), -1);
  assert_non_null (strstr (err->msg, "truncated or corrupt"));
  nook_error_free (&err);
  assert_int_equal (imagefmt_layer_check_mem ("just text, no tar at all", 24, &info, &err), -1);
  nook_error_free (&err);
  assert_int_equal (imagefmt_layer_check_mem ("", 0, &info, &err), -1);
}

/* ---- round trips between two stores ---- */

struct two
{
  char d1[64], d2[64];
  struct imagefmt_store *a, *b;
};

static int
setup (void **state)
{
  struct two *t = calloc (1, sizeof *t);
  cleanup_error nook_error_t err = NULL;
  strcpy (t->d1, "/tmp/nook-test-archive-XXXXXX");
  strcpy (t->d2, "/tmp/nook-test-archive-XXXXXX");
  if (mkdtemp (t->d1) == NULL || mkdtemp (t->d2) == NULL
      || imagefmt_store_open (t->d1, &t->a, &err) < 0
      || imagefmt_store_open (t->d2, &t->b, &err) < 0)
    return -1;
  *state = t;
  return 0;
}

static int
teardown (void **state)
{
  struct two *t = *state;
  imagefmt_store_close (t->a);
  imagefmt_store_close (t->b);
  fs_rm_rf_at (AT_FDCWD, t->d1, NULL);
  fs_rm_rf_at (AT_FDCWD, t->d2, NULL);
  free (t);
  return 0;
}

static char *
import (struct imagefmt_store *s, bool gzip, const char *ref)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_close int m = small_tar (gzip, "etc/hello");
  char *id = NULL;
  json_t *cfg = imagefmt_store_default_config (86400, "made by a test");
  if (imagefmt_store_import_tar (s, m, cfg, ref, &id, &err) < 0)
    fail_msg ("import: %s", err->msg);
  json_decref (cfg);
  return id;
}

static void
loaded (void *data, const char *tag, const char *id)
{
  strv_push (data, tag ? tag : id);
}

static void
round_trip (struct two *t, enum imagefmt_archive_format fmt, bool gzip)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *id = import (t->a, gzip, "lab/x:1");
  cleanup_strv char **got = xzalloc (sizeof (char *));
  char *refs[] = { (char *)"lab/x", NULL };
  cleanup_close int m = memfd_create ("a", MFD_CLOEXEC);
  char dir[128];
  snprintf (dir, sizeof dir, "%s/ocidir", t->d1);
  if (imagefmt_images_save (t->a, refs, fmt, m, dir, &err) < 0)
    fail_msg ("save: %s", err->msg);
  int in = m;
  cleanup_close int tarfd = -1;
  if (fmt == IMAGEFMT_ARCHIVE_OCI_DIR)
    {
      /* An oci-dir is read back as an oci-archive: tar it up. */
      char cmd[512];
      snprintf (cmd, sizeof cmd, "tar -C %s -cf %s/dir.tar .", dir, t->d1);
      assert_int_equal (system (cmd), 0);
      snprintf (cmd, sizeof cmd, "%s/dir.tar", t->d1);
      tarfd = open (cmd, O_RDONLY | O_CLOEXEC);
      in = tarfd;
    }
  lseek (in, 0, SEEK_SET);
  struct imagefmt_load_opts o = { .name = "test", .loaded = loaded, .data = &got };
  if (imagefmt_images_load (t->b, in, &o, &err) < 0)
    fail_msg ("load: %s", err->msg);
  assert_string_equal (got[0], "lab/x:1");
  assert_null (got[1]);
  struct imagefmt_image *x = NULL, *y = NULL;
  assert_int_equal (imagefmt_store_lookup (t->a, "lab/x:1", &x, &err), 0);
  assert_int_equal (imagefmt_store_lookup (t->b, "lab/x:1", &y, &err), 0);
  assert_string_equal (y->id, id);
  assert_string_equal (y->diff_ids[0], x->diff_ids[0]);
  if (fmt != IMAGEFMT_ARCHIVE_DOCKER)
    {
      /* The OCI layout carries the blobs unchanged. */
      assert_string_equal (y->manifest_digest, x->manifest_digest);
      assert_string_equal (y->layers[0], x->layers[0]);
    }
  imagefmt_image_free (x);
  imagefmt_image_free (y);
  /* Twice on the same store handle: a walk of blobs/ must not start where the last one
   * ended (fs_dir_foreach's dup shares the directory offset: every image looked broken). */
  for (int pass = 0; pass < 2; pass++)
    {
      struct imagefmt_check_result r;
      struct imagefmt_check_opts co = { 0 };
      assert_int_equal (imagefmt_store_check (t->b, &co, &r, &err), 0);
      assert_int_equal (r.problems, 0);
      assert_int_equal (r.garbage, 0);
      assert_int_equal (r.images, 1);
    }
}

static void
test_round_trip_docker (void **state)
{
  round_trip (*state, IMAGEFMT_ARCHIVE_DOCKER, true);
}

static void
test_round_trip_docker_plain (void **state)
{
  round_trip (*state, IMAGEFMT_ARCHIVE_DOCKER, false);
}

static void
test_round_trip_oci (void **state)
{
  round_trip (*state, IMAGEFMT_ARCHIVE_OCI, true);
}

static void
test_round_trip_oci_dir (void **state)
{
  round_trip (*state, IMAGEFMT_ARCHIVE_OCI_DIR, false);
}

static void
test_save_reproducible (void **state)
{
  struct two *t = *state;
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *id = import (t->a, true, "lab/x:1");
  char *refs[] = { (char *)"lab/x:1", NULL };
  cleanup_close int m1 = memfd_create ("a", MFD_CLOEXEC);
  cleanup_close int m2 = memfd_create ("b", MFD_CLOEXEC);
  assert_int_equal (imagefmt_images_save (t->a, refs, IMAGEFMT_ARCHIVE_DOCKER, m1, NULL, &err), 0);
  assert_int_equal (imagefmt_images_save (t->a, refs, IMAGEFMT_ARCHIVE_DOCKER, m2, NULL, &err), 0);
  lseek (m1, 0, SEEK_SET);
  lseek (m2, 0, SEEK_SET);
  cleanup_free char *d1 = imagefmt_digest_fd (m1, &err);
  cleanup_free char *d2 = imagefmt_digest_fd (m2, &err);
  assert_string_equal (d1, d2);
}

static void
test_load_bad_adds_nothing (void **state)
{
  struct two *t = *state;
  cleanup_error nook_error_t err = NULL;
  cleanup_close int m = small_tar (false, "etc/hello"); /* a rootfs, not an image archive */
  struct imagefmt_load_opts o = { .name = "rootfs.tar" };
  assert_int_equal (imagefmt_images_load (t->b, m, &o, &err), -1);
  assert_non_null (strstr (err->msg, "'rootfs.tar' has neither manifest.json nor index.json"));
  char p[128];
  snprintf (p, sizeof p, "%s/blobs/sha256", t->d2);
  cleanup_dir DIR *d = opendir (p);
  struct dirent *de;
  int n = 0;
  while (d && (de = readdir (d)) != NULL)
    n += de->d_name[0] != '.';
  assert_int_equal (n, 0);
  snprintf (p, sizeof p, "%s/tmp", t->d2);
  cleanup_dir DIR *tmp = opendir (p);
  n = 0;
  while (tmp && (de = readdir (tmp)) != NULL)
    n += de->d_name[0] != '.';
  assert_int_equal (n, 0); /* the staging directory is gone */
}

/* ---- inspect and history ---- */

static void
test_inspect_history (void **state)
{
  struct two *t = *state;
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *id = import (t->a, true, "lab/x:1");
  struct imagefmt_image *img = NULL;
  assert_int_equal (imagefmt_store_lookup (t->a, "lab/x:1", &img, &err), 0);
  assert_int_equal (imagefmt_store_tag (t->a, "lab/y:2", img->manifest_digest, &err), 0);
  imagefmt_image_free (img);
  struct imagefmt_image_info *info = NULL;
  assert_int_equal (imagefmt_image_info_get (t->a, "lab/y:2", &info, &err), 0);
  json_t *j = imagefmt_image_inspect_json (info);
  static const char *const keys[]
      = { "Id",     "RepoTags", "RepoDigests",  "Parent", "Comment", "Created", "DockerVersion",
          "Author", "Config",   "Architecture", "Os",     "Size",    "RootFS",  "Metadata" };
  const char *k;
  json_t *v;
  size_t i = 0;
  json_object_foreach (j, k, v)
  {
    assert_true (i < ARRAY_SIZE (keys));
    assert_string_equal (k, keys[i++]);
  }
  assert_int_equal (i, ARRAY_SIZE (keys));
  assert_string_equal (json_string_value (json_object_get (j, "Id")), id);
  json_t *tags = json_object_get (j, "RepoTags");
  assert_int_equal (json_array_size (tags), 2);
  assert_string_equal (json_string_value (json_array_get (tags, 0)), "lab/x:1");
  assert_string_equal (json_string_value (json_array_get (tags, 1)), "lab/y:2");
  assert_string_equal (json_string_value (json_object_get (j, "Created")), "1970-01-02T00:00:00Z");
  assert_true (json_integer_value (json_object_get (j, "Size")) > 0);
  json_decref (j);
  struct imagefmt_history_row *rows = NULL;
  size_t n = 0;
  assert_int_equal (imagefmt_image_history (info, &rows, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (rows[0].id, id);
  assert_string_equal (rows[0].comment, "made by a test");
  assert_int_equal (rows[0].created, 86400);
  assert_int_equal (rows[0].size, info->size);
  imagefmt_history_free (rows, n);
  imagefmt_image_info_free (info);
}

int
main (void)
{
#define T(x) cmocka_unit_test_setup_teardown (x, setup, teardown)
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_entry_rules),
    cmocka_unit_test (test_compression_detect),
    cmocka_unit_test (test_layer_check_digests),
    cmocka_unit_test (test_layer_check_refuses),
    T (test_round_trip_docker),
    T (test_round_trip_docker_plain),
    T (test_round_trip_oci),
    T (test_round_trip_oci_dir),
    T (test_save_reproducible),
    T (test_load_bad_adds_nothing),
    T (test_inspect_history),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
