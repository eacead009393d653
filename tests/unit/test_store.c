/* tests/unit/test_store.c: the image store: import, lookup, layer dirs, remove,
 * reproducible bootstrap. */
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
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "imagefmt/bootstrap.h"
#include "imagefmt/layer.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

struct fixture
{
  char dir[64];
  struct imagefmt_store *s;
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof *f);
  cleanup_error nook_error_t err = NULL;
  strcpy (f->dir, "/tmp/nook-test-store-XXXXXX");
  if (mkdtemp (f->dir) == NULL || imagefmt_store_open (f->dir, &f->s, &err) < 0)
    return -1;
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  cleanup_error nook_error_t err = NULL;
  imagefmt_store_close (f->s);
  fs_rm_rf_at (AT_FDCWD, f->dir, &err);
  free (f);
  return 0;
}

/* A small rootfs tar in a memfd. */
static int
small_tar (bool gzip, const char *content)
{
  const struct imagefmt_tar_entry en[] = {
    { .path = "etc", .mode = S_IFDIR | 0755 },
    { .path = "etc/hello", .mode = S_IFREG | 0644, .data = content, .size = strlen (content) },
    { .path = "bin", .mode = S_IFDIR | 0755 },
    { .path = "bin/sh", .mode = S_IFLNK | 0777, .linkname = "/bin/busybox" },
  };
  cleanup_error nook_error_t err = NULL;
  int m = memfd_create ("t", MFD_CLOEXEC);
  assert_int_equal (imagefmt_layer_write_tar (m, en, 4, 0, gzip, &err), 0);
  lseek (m, 0, SEEK_SET);
  return m;
}

static char *
import (struct fixture *f, bool gzip, const char *content, const char *ref)
{
  cleanup_error nook_error_t err = NULL;
  char *id = NULL;
  int m = small_tar (gzip, content);
  json_t *cfg = imagefmt_store_default_config (0, NULL);
  if (imagefmt_store_import_tar (f->s, m, cfg, ref, &id, &err) < 0)
    fail_msg ("import: %s", err->msg);
  json_decref (cfg);
  close (m);
  return id;
}

static int
count_dir (const char *root, const char *sub)
{
  char p[256];
  snprintf (p, sizeof p, "%s/%s", root, sub);
  DIR *d = opendir (p);
  int n = 0;
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    n += de->d_name[0] != '.' || (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."));
  if (d)
    closedir (d);
  return n;
}

static void
test_store_import_lookup (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *id = import (f, true, "hi\n", "test/img:1");
  cleanup_error nook_error_t err = NULL;
  const char *names[] = { "test/img:1", "docker.io/test/img:1", id, id + 7, NULL, NULL };
  char prefix[20], sprefix[30];
  snprintf (prefix, sizeof prefix, "%.12s", id + 7);
  snprintf (sprefix, sizeof sprefix, "sha256:%.8s", id + 7);
  names[4] = prefix;
  names[5] = sprefix;
  for (size_t i = 0; i < 6; i++)
    {
      struct imagefmt_image *img = NULL;
      if (imagefmt_store_lookup (f->s, names[i], &img, &err) < 0)
        fail_msg ("lookup '%s': %s", names[i], err->msg);
      assert_string_equal (img->id, id);
      assert_string_equal (img->ref, "docker.io/test/img:1");
      assert_int_equal (strv_len (img->layers), 1);
      assert_int_equal (strv_len (img->diff_ids), 1);
      assert_string_not_equal (img->layers[0], img->diff_ids[0]); /* gzip: blob != diff */
      assert_string_equal (json_string_value (json_object_get (img->config, "os")), "linux");
      imagefmt_image_free (img);
    }
  struct imagefmt_image *img = NULL;
  assert_int_equal (imagefmt_store_lookup (f->s, "test/img:2", &img, &err), -1);
  assert_int_equal (err->code, ENOENT);
  assert_string_equal (err->msg, "No such image: test/img:2");
  nook_error_free (&err);
  assert_int_equal (imagefmt_store_lookup (f->s, "nope", &img, &err), -1);
  assert_string_equal (err->msg, "No such image: nope");
}

/* Docker's order: a full ID names that image whatever the tags say; a name comes
 * before an ID prefix. */
static void
test_store_lookup_order (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *a = import (f, false, "a\n", "a");
  char prefix[16];
  snprintf (prefix, sizeof prefix, "%.12s", a + 7);
  cleanup_free char *b = import (f, false, "b\n", prefix); /* a tag shaped like A's prefix */
  cleanup_error nook_error_t err = NULL;
  /* `sha256:<A's ID>` as a tag cannot be made any more ... */
  int m = small_tar (false, "c\n");
  cleanup_free char *tag = xasprintf ("%s", a);
  assert_int_equal (imagefmt_store_import_tar (f->s, m, NULL, tag, NULL, &err), -1);
  assert_non_null (strstr (err->msg, "ambiguous tag using digest algorithm as name"));
  nook_error_free (&err);
  close (m);
  /* ... and one an older nook made does not shadow the ID. */
  cleanup_free char *ipath = xasprintf ("%s/index.json", f->dir);
  json_error_t je;
  json_t *idx = json_load_file (ipath, 0, &je);
  json_t *ms = json_object_get (idx, "manifests");
  json_t *shadow = NULL;
  size_t i;
  json_t *e;
  json_array_foreach (ms, i, e)
  {
    const char *r = json_string_value (
        json_object_get (json_object_get (e, "annotations"), "org.opencontainers.image.ref.name"));
    if (r && strstr (r, prefix))
      shadow = json_deep_copy (e);
  }
  assert_non_null (shadow);
  cleanup_free char *sref = xasprintf ("docker.io/library/sha256:%s", a + 7);
  json_object_set_new (json_object_get (shadow, "annotations"),
                       "org.opencontainers.image.ref.name", json_string (sref));
  json_array_append_new (ms, shadow);
  assert_int_equal (json_dump_file (idx, ipath, 0), 0);
  json_decref (idx);
  const char *full_ids[] = { a, a + 7 };
  for (size_t k = 0; k < 2; k++)
    {
      struct imagefmt_image *img = NULL;
      assert_int_equal (imagefmt_store_lookup (f->s, full_ids[k], &img, &err), 0);
      assert_string_equal (img->id, a);
      imagefmt_image_free (img);
    }
  /* A 12-hex name is a name first (Docker), then a prefix. */
  struct imagefmt_image *img = NULL;
  assert_int_equal (imagefmt_store_lookup (f->s, prefix, &img, &err), 0);
  assert_string_equal (img->id, b);
  imagefmt_image_free (img);
  img = NULL;
  char sprefix[24];
  snprintf (sprefix, sizeof sprefix, "sha256:%.10s", a + 7);
  assert_int_equal (imagefmt_store_lookup (f->s, sprefix, &img, &err), 0);
  assert_string_equal (img->id, a);
  imagefmt_image_free (img);
}

static void
test_store_layer_dirs (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *id = import (f, false, "hello\n", "x");
  cleanup_error nook_error_t err = NULL;
  struct imagefmt_image *img = NULL;
  assert_int_equal (imagefmt_store_lookup (f->s, "x:latest", &img, &err), 0);
  assert_string_equal (img->layers[0], img->diff_ids[0]); /* plain tar: blob == diff */
  cleanup_strv char **dirs = NULL;
  if (imagefmt_store_layer_dirs (f->s, img, &dirs, &err) < 0)
    fail_msg ("layer_dirs: %s", err->msg);
  assert_int_equal (strv_len (dirs), 1);
  assert_true (dirs[0][0] == '/');
  assert_true (str_has_prefix (dirs[0], imagefmt_store_root (f->s)));
  cleanup_close int dfd = open (dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (dfd >= 0);
  char *c = NULL;
  size_t len;
  assert_int_equal (fs_read_file_at (dfd, "etc/hello", 100, &c, &len, &err), 0);
  assert_string_equal (c, "hello\n");
  free (c);
  /* Idempotent: a marker file in the dir survives a second call. */
  assert_int_equal (mkdirat (dfd, "mine", 0700), 0);
  cleanup_strv char **again = NULL;
  assert_int_equal (imagefmt_store_layer_dirs (f->s, img, &again, &err), 0);
  assert_string_equal (again[0], dirs[0]);
  struct stat st;
  assert_int_equal (fstatat (dfd, "mine", &st, 0), 0);
  /* A crash mid-extraction (no completion marker): redone from scratch. */
  char done[512];
  snprintf (done, sizeof done, "%s.done", dirs[0]);
  assert_int_equal (unlink (done), 0);
  cleanup_strv char **redo = NULL;
  assert_int_equal (imagefmt_store_layer_dirs (f->s, img, &redo, &err), 0);
  close (dfd);
  dfd = open (redo[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal (fstatat (dfd, "mine", &st, 0), -1);
  assert_int_equal (fstatat (dfd, "etc/hello", &st, 0), 0);
  assert_int_equal (access (done, F_OK), 0);
  imagefmt_image_free (img);
}

static void
test_store_import_bad (void **state)
{
  struct fixture *f = *state;
  cleanup_error nook_error_t err = NULL;
  int before = count_dir (f->dir, "blobs/sha256");
  int m = memfd_create ("t", MFD_CLOEXEC);
  static const char junk[] = "not a tarball, just text\n";
  assert_int_equal (write (m, junk, sizeof junk), (ssize_t)sizeof junk);
  lseek (m, 0, SEEK_SET);
  assert_int_equal (imagefmt_store_import_tar (f->s, m, NULL, "junk", NULL, &err), -1);
  close (m);
  assert_int_equal (count_dir (f->dir, "blobs/sha256"), before);
  nook_error_free (&err);
  m = memfd_create ("t", MFD_CLOEXEC);
  assert_int_equal (imagefmt_store_import_tar (f->s, m, NULL, "empty", NULL, &err), -1);
  close (m);
  nook_error_free (&err);
  m = small_tar (false, "x");
  assert_int_equal (imagefmt_store_import_tar (f->s, m, NULL, "Bad:Ref:", NULL, &err), -1);
  assert_int_equal (err->code, 0); /* refused, with no errno text */
  close (m);
  assert_int_equal (count_dir (f->dir, "blobs/sha256"), before);
  struct imagefmt_listing *l = NULL;
  size_t n = 9;
  nook_error_free (&err);
  assert_int_equal (imagefmt_store_list (f->s, &l, &n, &err), 0);
  assert_int_equal (n, 0);
  imagefmt_listing_free (l, n);
}

static int reports;
static void
count_report (void *data, const char *what, const char *arg)
{
  reports++;
}

static const struct imagefmt_remove_opts plain = { 0 };
static const struct imagefmt_remove_opts counted = { .report = count_report };

static void
test_store_remove (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *id = import (f, true, "a\n", "one:1");
  cleanup_free char *id2 = import (f, true, "a\n", "two:2"); /* the same image */
  cleanup_free char *other = import (f, false, "b\n", "three");
  cleanup_error nook_error_t err = NULL;
  assert_string_equal (id, id2);
  struct imagefmt_image *img = NULL;
  cleanup_strv char **dirs = NULL;
  assert_int_equal (imagefmt_store_lookup (f->s, "one:1", &img, &err), 0);
  assert_int_equal (imagefmt_store_layer_dirs (f->s, img, &dirs, &err), 0);
  struct imagefmt_listing *l = NULL;
  size_t n = 0;
  assert_int_equal (imagefmt_store_list (f->s, &l, &n, &err), 0);
  assert_int_equal (n, 3);
  imagefmt_listing_free (l, n);
  /* By ID with two tags: refused unless forced. */
  assert_int_equal (imagefmt_store_remove (f->s, id, &plain, &err), -1);
  assert_int_equal (err->code, EBUSY);
  nook_error_free (&err);
  /* By one tag: untagged only, the image stays. */
  reports = 0;
  assert_int_equal (imagefmt_store_remove (f->s, "one:1", &counted, &err), 0);
  assert_int_equal (reports, 1);
  assert_int_equal (access (dirs[0], F_OK), 0);
  /* The last tag: everything of it goes, the other image stays. */
  reports = 0;
  assert_int_equal (imagefmt_store_remove (f->s, "two:2", &counted, &err), 0);
  assert_true (reports >= 3); /* Untagged, Deleted image, Deleted layer */
  assert_int_equal (access (dirs[0], F_OK), -1);
  char blob[256];
  snprintf (blob, sizeof blob, "%s/blobs/sha256/%s", f->dir, id + 7);
  assert_int_equal (access (blob, F_OK), -1);
  imagefmt_image_free (img);
  img = NULL;
  assert_int_equal (imagefmt_store_lookup (f->s, "three", &img, &err), 0);
  imagefmt_image_free (img);
  assert_int_equal (imagefmt_store_remove (f->s, "nothere", &plain, &err), -1);
  assert_int_equal (err->code, ENOENT);
  nook_error_free (&err);
  assert_int_equal (imagefmt_store_remove (f->s, other, &plain, &err), 0);
  assert_int_equal (count_dir (f->dir, "blobs/sha256"), 0);
  assert_int_equal (count_dir (f->dir, "layers"), 0);
}

static char *
stopped_user (void *data, const char *image_id, bool *running)
{
  return data ? xstrdup (data) : NULL;
}

/* The container records as rmi sees them: a file naming the running container, once
 * the run wrote it. */
static char *
recorded_user (void *data, const char *image_id, bool *running)
{
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t err = NULL;
  if (fs_read_file_at (AT_FDCWD, data, 4096, &text, NULL, &err) < 0)
    return NULL;
  *running = true;
  return steal_pointer (&text);
}

/* In a child (another holder of the store's locks): rmi of ref; the status says how it
 * went: 0 removed, 1 refused as in use by a running container, 2 refused otherwise. */
static int
rmi_in_child (struct fixture *f, const char *ref, const char *records, bool force)
{
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      /* Not the parent's hold: the lock belongs to the open file, which a fork shares. */
      close_range (3, ~0U, 0);
      struct imagefmt_store *s = NULL;
      nook_error_t err = NULL;
      struct imagefmt_remove_opts o
          = { .force = force, .container_using = recorded_user, .data = (void *)records };
      if (imagefmt_store_open (f->dir, &s, &err) < 0)
        _exit (3);
      if (imagefmt_store_remove (s, ref, &o, &err) == 0)
        _exit (0);
      _exit (strstr (err->msg, "running container c0ffee") || strstr (err->msg, "container c0ffee")
                 ? 1
                 : 2);
    }
  return pid;
}

/* Until pid waits for a lock (a "->" line of /proc/locks); it must not end first. */
static void
wait_blocked (pid_t pid)
{
  char want[32];
  snprintf (want, sizeof want, " %d ", (int)pid);
  for (int t = 0; t < 30000; t++)
    {
      int st;
      if (waitpid (pid, &st, WNOHANG) == pid)
        fail_msg ("the rmi ended (status %d) while the image was held", st);
      cleanup_free char *locks = NULL;
      cleanup_error nook_error_t err = NULL;
      assert_int_equal (fs_read_file_at (AT_FDCWD, "/proc/locks", 1 << 20, &locks, NULL, &err), 0);
      for (char *l = locks; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
        {
          char *end = strchr (l, '\n');
          size_t n = end ? (size_t)(end - l) : strlen (l);
          if (memmem (l, n, "->", 2) && memmem (l, n, want, strlen (want)))
            return;
        }
      usleep (1000);
    }
  fail_msg ("the rmi did not wait for the held image within 30 s");
}

static int
child_status (pid_t pid)
{
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st));
  return WEXITSTATUS (st);
}

/* A run holds its image from its lookup until it recorded its container (an rmi waits
 * for it, then reads the record), and one a stopped container uses: Docker's
 * conflicts, and the layers stay. */
static void
test_store_remove_in_use (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *id = import (f, false, "a\n", "x:1");
  cleanup_free char *id2 = import (f, false, "a\n", "x:2");
  cleanup_error nook_error_t err = NULL;
  struct imagefmt_image *img = NULL;
  struct imagefmt_hold *hold = NULL;
  cleanup_free char *records = xasprintf ("%s/record", f->dir);
  assert_int_equal (imagefmt_store_lookup_hold (f->s, "x:2", &img, &hold, &err), 0);
  cleanup_strv char **dirs = NULL;
  assert_int_equal (imagefmt_store_layer_dirs (f->s, img, &dirs, &err), 0);
  /* Started while the run holds the image: it waits (seen in /proc/locks; it must not
   * end before the record exists), then finds the record the run wrote before it let
   * go. */
  pid_t forced = rmi_in_child (f, id, records, true);
  wait_blocked (forced);
  assert_int_equal (fs_write_file_at (AT_FDCWD, records, "c0ffee00", 8, 0600, &err), 0);
  imagefmt_hold_release (hold);
  assert_int_equal (child_status (forced), 1);
  /* One tag of two goes, in use or not. */
  struct imagefmt_remove_opts rec = { .container_using = recorded_user, .data = records };
  assert_int_equal (imagefmt_store_remove (f->s, "x:1", &rec, &err), 0);
  /* Not the last one, nor the image by ID, even forced. */
  assert_int_equal (imagefmt_store_remove (f->s, "x:2", &rec, &err), -1);
  assert_non_null (strstr (err->msg, "unable to remove repository reference \"x:2\" (must force) "
                                     "- container c0ffee00 is using its referenced image"));
  nook_error_free (&err);
  rec.force = true;
  assert_int_equal (imagefmt_store_remove (f->s, id, &rec, &err), -1);
  assert_non_null (strstr (err->msg, "(cannot be forced) - image is being used by running "
                                     "container c0ffee00"));
  nook_error_free (&err);
  assert_int_equal (access (dirs[0], F_OK), 0);
  imagefmt_image_free (img);
  unlink (records);

  /* A stopped container: the last tag needs -f, then the image stays untagged. */
  struct imagefmt_remove_opts used = { .container_using = stopped_user, .data = (void *)"feed" };
  img = NULL;
  assert_int_equal (imagefmt_store_lookup_hold (f->s, "x:2", &img, &hold, &err), 0);
  imagefmt_hold_release (hold);
  imagefmt_image_free (img);
  assert_int_equal (imagefmt_store_remove (f->s, "x:2", &used, &err), -1);
  assert_non_null (strstr (err->msg, "container feed is using"));
  nook_error_free (&err);
  assert_int_equal (imagefmt_store_remove (f->s, id, &used, &err), -1);
  assert_non_null (strstr (err->msg, "(must be forced) - image is being used by stopped container feed"));
  nook_error_free (&err);
  used.force = true;
  assert_int_equal (imagefmt_store_remove (f->s, id, &used, &err), 0);
  struct imagefmt_listing *l = NULL;
  size_t n = 0;
  assert_int_equal (imagefmt_store_list (f->s, &l, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_null (l[0].ref);
  assert_string_equal (l[0].id, id);
  imagefmt_listing_free (l, n);
  assert_int_equal (access (dirs[0], F_OK), 0);
  /* Once no container uses it, it goes. */
  assert_int_equal (imagefmt_store_remove (f->s, id, &plain, &err), 0);
  assert_int_equal (access (dirs[0], F_OK), -1);
}

/* The run cache: written once the layers are unpacked, then read instead of the
 * manifest, config and layers (the files come from it: the dirs given are empty); one
 * that does not parse is ignored; rmi removes it with the image. */
static void
test_store_run_cache (void **state)
{
  struct fixture *f = *state;
  const char *pw = "root:x:0:0:root:/root:/bin/sh\n";
  const struct imagefmt_tar_entry en[] = {
    { .path = "etc", .mode = S_IFDIR | 0755 },
    { .path = "etc/passwd", .mode = S_IFREG | 0644, .data = pw, .size = strlen (pw) },
  };
  cleanup_error nook_error_t err = NULL;
  int m = memfd_create ("t", MFD_CLOEXEC);
  assert_int_equal (imagefmt_layer_write_tar (m, en, 2, 0, false, &err), 0);
  lseek (m, 0, SEEK_SET);
  cleanup_free char *id = NULL;
  json_t *cfg = imagefmt_store_default_config (0, NULL);
  assert_int_equal (imagefmt_store_import_tar (f->s, m, cfg, "rc:1", &id, &err), 0);
  json_decref (cfg);
  close (m);
  struct imagefmt_image *img = NULL;
  struct imagefmt_hold *hold = NULL;
  assert_int_equal (imagefmt_store_lookup_hold (f->s, "rc:1", &img, &hold, &err), 0);
  imagefmt_hold_release (hold);
  assert_null (img->run_files);
  cleanup_free char *entry = xasprintf ("%s/cache/run/%s", f->dir, img->manifest_digest + 7);
  assert_int_equal (access (entry, F_OK), -1);
  cleanup_strv char **dirs = NULL;
  assert_int_equal (imagefmt_store_layer_dirs (f->s, img, &dirs, &err), 0);
  assert_int_equal (access (entry, F_OK), 0);
  imagefmt_image_free (img);

  char empty[64] = "/tmp/nook-test-empty-XXXXXX";
  assert_non_null (mkdtemp (empty));
  char *none[] = { empty, NULL };
  assert_int_equal (imagefmt_store_lookup_hold (f->s, "rc:1", &img, &hold, &err), 0);
  imagefmt_hold_release (hold);
  assert_non_null (img->run_files);
  assert_string_equal (img->id, id);
  cleanup_free char *text = NULL;
  assert_int_equal (imagefmt_image_read_file (img, none, "/etc/passwd", 1 << 20, &text, &err), 0);
  assert_string_equal (text, pw);
  assert_int_equal (imagefmt_image_read_file (img, none, "/etc/group", 1 << 20, &text, &err), -1);
  assert_int_equal (err->code, ENOENT);
  nook_error_free (&err);
  cleanup_strv char **again = NULL;
  assert_int_equal (imagefmt_store_layer_dirs (f->s, img, &again, &err), 0);
  assert_string_equal (again[0], dirs[0]);
  imagefmt_image_free (img);
  rmdir (empty);

  int fd = open (entry, O_WRONLY | O_TRUNC | O_CLOEXEC);
  assert_int_equal (write (fd, "{\"format\":1,", 12), 12);
  close (fd);
  assert_int_equal (imagefmt_store_lookup_hold (f->s, "rc:1", &img, &hold, &err), 0);
  imagefmt_hold_release (hold);
  assert_null (img->run_files);
  assert_string_equal (img->id, id);
  imagefmt_image_free (img);

  assert_int_equal (imagefmt_store_remove (f->s, "rc:1", &plain, &err), 0);
  assert_int_equal (access (entry, F_OK), -1);
}

static void
test_store_retag_dangling (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *a = import (f, false, "1", "t");
  cleanup_free char *b = import (f, false, "2", "t");
  cleanup_error nook_error_t err = NULL;
  struct imagefmt_listing *l = NULL;
  size_t n = 0;
  assert_int_equal (imagefmt_store_list (f->s, &l, &n, &err), 0);
  assert_int_equal (n, 2);
  int dangling = 0;
  for (size_t i = 0; i < n; i++)
    dangling += l[i].ref == NULL && strcmp (l[i].id, a) == 0;
  assert_int_equal (dangling, 1);
  imagefmt_listing_free (l, n);
  assert_int_equal (imagefmt_store_remove (f->s, a, &plain, &err), 0);
}

static void
test_store_bootstrap_reproducible (void **state)
{
  struct fixture *f = *state;
  cleanup_error nook_error_t err = NULL;
  if (access ("/bin/busybox", X_OK) < 0
      || imagefmt_bootstrap_check_static ("/bin/busybox", &err) < 0)
    {
      print_message ("skip: no statically linked /bin/busybox (install busybox-static)\n");
      skip ();
    }
  char dir2[64] = "/tmp/nook-test-store2-XXXXXX";
  assert_non_null (mkdtemp (dir2));
  struct imagefmt_store *s2 = NULL;
  assert_int_equal (imagefmt_store_open (dir2, &s2, &err), 0);
  cleanup_free char *id1 = NULL;
  cleanup_free char *id2 = NULL;
  if (imagefmt_bootstrap_busybox (f->s, NULL, NULL, 0, &id1, &err) < 0)
    fail_msg ("bootstrap: %s", err->msg);
  assert_int_equal (imagefmt_bootstrap_busybox (s2, NULL, "bb:x", 0, &id2, &err), 0);
  assert_string_equal (id1, id2);
  struct imagefmt_image *img = NULL;
  assert_int_equal (imagefmt_store_lookup (f->s, "busybox", &img, &err), 0);
  json_t *cmd = json_object_get (json_object_get (img->config, "config"), "Cmd");
  assert_string_equal (json_string_value (json_array_get (cmd, 0)), "sh");
  cleanup_strv char **dirs = NULL;
  assert_int_equal (imagefmt_store_layer_dirs (f->s, img, &dirs, &err), 0);
  char p[512];
  struct stat st;
  snprintf (p, sizeof p, "%s/bin/busybox", dirs[0]);
  assert_int_equal (stat (p, &st), 0);
  assert_true (st.st_mode & 0100);
  snprintf (p, sizeof p, "%s/tmp", dirs[0]);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 01777);
  snprintf (p, sizeof p, "%s/bin/sh", dirs[0]);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  imagefmt_image_free (img);
  imagefmt_store_close (s2);
  fs_rm_rf_at (AT_FDCWD, dir2, &err);
}

int
main (void)
{
#define T(x) cmocka_unit_test_setup_teardown (x, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_store_import_lookup),  T (test_store_layer_dirs),
    T (test_store_import_bad),     T (test_store_remove),
    T (test_store_run_cache),
    T (test_store_retag_dangling), T (test_store_bootstrap_reproducible),
    T (test_store_lookup_order),   T (test_store_remove_in_use),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
