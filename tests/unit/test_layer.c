/* tests/unit/test_layer.c: layer extraction (whiteouts, escapes) and the tar writer. */
#include <archive.h>
#include <archive_entry.h>
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
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "imagefmt/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"

/* A tar built in memory; entries given as (type, path, target/content). */
struct tentry
{
  char type; /* f file, d dir, l symlink, h hardlink, c chardev */
  const char *path;
  const char *arg;
};

static size_t
make_tar (const struct tentry *e, size_t n, char *buf, size_t cap)
{
  struct archive *a = archive_write_new ();
  size_t used = 0;
  archive_write_set_format_pax_restricted (a);
  archive_write_set_bytes_in_last_block (a, 1);
  assert_int_equal (archive_write_open_memory (a, buf, cap, &used), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++)
    {
      struct archive_entry *ae = archive_entry_new ();
      archive_entry_set_pathname (ae, e[i].path);
      archive_entry_set_uid (ae, 0);
      archive_entry_set_gid (ae, 0);
      archive_entry_set_mtime (ae, 1000000, 0);
      switch (e[i].type)
        {
        case 'f':
          archive_entry_set_mode (ae, S_IFREG | 0644);
          archive_entry_set_size (ae, (la_int64_t)strlen (e[i].arg ? e[i].arg : ""));
          break;
        case 'd':
          archive_entry_set_mode (ae, S_IFDIR | 0755);
          break;
        case 'l':
          archive_entry_set_mode (ae, S_IFLNK | 0777);
          archive_entry_set_symlink (ae, e[i].arg);
          break;
        case 'h':
          archive_entry_set_mode (ae, S_IFREG | 0644);
          archive_entry_set_hardlink (ae, e[i].arg);
          break;
        case 'c':
          archive_entry_set_mode (ae, S_IFCHR | 0666);
          archive_entry_set_rdev (ae, makedev (1, 3));
          break;
        }
      assert_int_equal (archive_write_header (a, ae), ARCHIVE_OK);
      if (e[i].type == 'f' && e[i].arg && *e[i].arg)
        archive_write_data (a, e[i].arg, strlen (e[i].arg));
      archive_entry_free (ae);
    }
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  return used;
}

struct fixture
{
  char dir[64];
  int fd;
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof *f);
  strcpy (f->dir, "/tmp/nook-test-layer-XXXXXX");
  if (mkdtemp (f->dir) == NULL)
    return -1;
  f->fd = open (f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *state = f;
  return f->fd < 0 ? -1 : 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  cleanup_error nook_error_t err = NULL;
  close (f->fd);
  fs_rm_rf_at (AT_FDCWD, f->dir, &err);
  free (f);
  return 0;
}

static int
extract (struct fixture *f, const struct tentry *e, size_t n, nook_error_t *err)
{
  static char buf[1 << 20];
  size_t len = make_tar (e, n, buf, sizeof buf);
  return imagefmt_layer_extract_mem (buf, len, f->fd, NULL, err);
}

static char *
slurp (int dirfd, const char *path)
{
  char *out = NULL;
  size_t len;
  if (fs_read_file_at (dirfd, path, 1 << 20, &out, &len, NULL) < 0)
    return NULL;
  return out;
}

static void
test_layer_basic (void **state)
{
  struct fixture *f = *state;
  const struct tentry e[] = {
    { 'd', "a/", NULL },    { 'f', "a/f", "hello" }, { 'l', "a/l", "f" },
    { 'h', "a/h", "a/f" },  { 'f', "./b/c/d", "x" }, { 'c', "dev/null", NULL },
    { 'f', "/abs", "abs" },
  };
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (extract (f, e, sizeof e / sizeof e[0], &err), 0);
  cleanup_free char *c = slurp (f->fd, "a/f");
  assert_string_equal (c, "hello");
  struct stat st;
  assert_int_equal (fstatat (f->fd, "a/h", &st, 0), 0);
  assert_int_equal (st.st_nlink, 2);
  assert_int_equal (st.st_mtime, 1000000);
  char t[16] = "";
  assert_int_equal (readlinkat (f->fd, "a/l", t, sizeof t), 1);
  cleanup_free char *d = slurp (f->fd, "b/c/d");
  assert_string_equal (d, "x");
  cleanup_free char *ab = slurp (f->fd, "abs");
  assert_string_equal (ab, "abs");
  assert_int_equal (fstatat (f->fd, "a", &st, 0), 0);
  assert_int_equal (st.st_mode & 07777, 0755);
  assert_int_equal (st.st_mtime, 1000000);
}

static void
test_layer_whiteouts (void **state)
{
  struct fixture *f = *state;
  const struct tentry e[] = {
    { 'f', "d/keep", "k" },
    { 'f', "d/.wh..wh..opq", "" },
    { 'f', ".wh.gone", "" },
    { 'f', "sub/.wh.x", "" },
  };
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (extract (f, e, sizeof e / sizeof e[0], &err), 0);
  struct stat st;
  assert_int_equal (fstatat (f->fd, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, makedev (0, 0));
  assert_int_equal (fstatat (f->fd, "sub/x", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_true (S_ISCHR (st.st_mode));
  /* The opaque marker applies to the directory; the layer's own entry stays. */
  cleanup_free char *k = slurp (f->fd, "d/keep");
  assert_string_equal (k, "k");
  char path[128], v[8] = "";
  snprintf (path, sizeof path, "%s/d", f->dir);
  if (getxattr (path, "user.overlay.opaque", v, sizeof v) == 1)
    assert_int_equal (v[0], 'y');
  else
    assert_int_equal (fstatat (f->fd, "d/.wh..wh..opq", &st, 0), 0);
  assert_int_not_equal (fstatat (f->fd, ".wh.gone", &st, 0), 0);
}

/* A whiteout then a directory of the same name in one layer: the directory
 * replaces what the whiteout hid, so it must be opaque. */
static void
test_layer_whiteout_then_dir (void **state)
{
  struct fixture *f = *state;
  const struct tentry e[] = {
    { 'f', ".wh.home", "" },
    { 'd', "home/", NULL },
    { 'f', "home/x", "x" },
    { 'd', "rep/", NULL },
    { 'd', "rep/", NULL },
    { 'd', "rep/", NULL },
  };
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (extract (f, e, sizeof e / sizeof e[0], &err), 0);
  struct stat st;
  assert_int_equal (fstatat (f->fd, "home", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_true (S_ISDIR (st.st_mode));
  char path[128], v[8] = "";
  snprintf (path, sizeof path, "%s/home", f->dir);
  if (getxattr (path, "user.overlay.opaque", v, sizeof v) == 1)
    assert_int_equal (v[0], 'y');
  else
    assert_int_equal (fstatat (f->fd, "home/.wh..wh..opq", &st, 0), 0);
  /* a repeated directory entry is fine */
  assert_int_equal (fstatat (f->fd, "rep", &st, 0), 0);
  assert_true (S_ISDIR (st.st_mode));
}

static void
test_layer_empty_whiteout (void **state)
{
  struct fixture *f = *state;
  const struct tentry e[] = { { 'd', "dir/", NULL }, { 'f', "dir/.wh.", "" } };
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (extract (f, e, 2, &err), -1);
  assert_int_equal (err->code, EINVAL);
  struct stat st;
  assert_int_equal (fstatat (f->fd, "dir", &st, 0), 0); /* not deleted */
}

static void
test_layer_dotdot_refused (void **state)
{
  struct fixture *f = *state;
  const struct tentry e[] = { { 'f', "../nook-test-escape-dotdot", "evil" } };
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (extract (f, e, 1, &err), -1);
  assert_int_equal (access ("/tmp/nook-test-escape-dotdot", F_OK), -1);
  const struct tentry e2[] = { { 'f', "a/../../nook-test-escape-dotdot", "evil" } };
  nook_error_free (&err);
  assert_int_equal (extract (f, e2, 1, &err), -1);
  assert_int_equal (access ("/tmp/nook-test-escape-dotdot", F_OK), -1);
}

static void
test_layer_symlink_escape (void **state)
{
  struct fixture *f = *state;
  /* a -> /tmp (absolute), then a/<name>: must land in the root's own tmp/, or fail. */
  char name[64];
  snprintf (name, sizeof name, "a/nook-test-escape-%d", (int)getpid ());
  const struct tentry e[] = { { 'd', "tmp/", NULL },
                              { 'l', "a", "/tmp" },
                              { 'f', name, "evil" },
                              { 'l', "up", "../../../../.." },
                              { 'f', "up/z", "z" } };
  cleanup_error nook_error_t err = NULL;
  int r = extract (f, e, sizeof e / sizeof e[0], &err);
  char host[96];
  snprintf (host, sizeof host, "/tmp/%s", name + 2);
  assert_int_equal (access (host, F_OK), -1);
  if (r == 0)
    {
      char inside[96];
      snprintf (inside, sizeof inside, "tmp/%s", name + 2);
      cleanup_free char *c2 = slurp (f->fd, inside);
      assert_non_null (c2);
      assert_string_equal (c2, "evil");
      cleanup_free char *z = slurp (f->fd, "z");
      assert_string_equal (z, "z");
    }
  /* A symlink to a host directory, then a write "through" it: the host file is untouched.
   * (A directory of our own, not the host's /etc: other programs may rewrite /etc/passwd
   * while the test runs, and a broken extractor must not overwrite it as root.) */
  char outside[] = "/tmp/nook-test-outside-XXXXXX";
  assert_non_null (mkdtemp (outside));
  cleanup_close int ofd = open (outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (ofd >= 0);
  cleanup_close int pfd = openat (ofd, "passwd", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  assert_true (pfd >= 0);
  assert_int_equal (write (pfd, "host\n", 5), 5);
  struct stat before, after;
  assert_int_equal (fstatat (ofd, "passwd", &before, 0), 0);
  const struct tentry e2[]
      = { { 'l', "etc", outside }, { 'f', "etc/passwd", "root::0:0::/:/x\n" } };
  nook_error_free (&err);
  extract (f, e2, 2, &err);
  assert_int_equal (fstatat (ofd, "passwd", &after, 0), 0);
  cleanup_free char *host_pw = slurp (ofd, "passwd");
  cleanup_error nook_error_t rm_err = NULL;
  fs_rm_rf_at (AT_FDCWD, outside, &rm_err);
  assert_non_null (host_pw);
  assert_string_equal (host_pw, "host\n");
  assert_int_equal (before.st_ino, after.st_ino);
  assert_int_equal (before.st_size, after.st_size);
}

static void
test_layer_hardlink_outside (void **state)
{
  struct fixture *f = *state;
  const struct tentry e[] = { { 'h', "pw", "/etc/passwd" } };
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (extract (f, e, 1, &err), -1);
  const struct tentry e2[] = { { 'h', "pw", "../../../etc/passwd" } };
  nook_error_free (&err);
  assert_int_equal (extract (f, e2, 1, &err), -1);
  /* Through a symlink pointing out: resolved inside the root, so not found. */
  const struct tentry e3[] = { { 'l', "e", "/etc" }, { 'h', "pw", "e/passwd" } };
  nook_error_free (&err);
  assert_int_equal (extract (f, e3, 2, &err), -1);
  struct stat st;
  assert_int_equal (fstatat (f->fd, "pw", &st, AT_SYMLINK_NOFOLLOW), -1);
}

static void
test_layer_writer_reproducible (void **state)
{
  struct fixture *f = *state;
  const struct imagefmt_tar_entry en[] = {
    { .path = "z", .mode = S_IFREG | 0644, .data = "zz", .size = 2 },
    { .path = "bin", .mode = S_IFDIR | 0755 },
    { .path = "bin/sh", .mode = S_IFLNK | 0777, .linkname = "/bin/busybox" },
    { .path = "home", .mode = S_IFDIR | 0755 },
    { .path = "home/user", .mode = S_IFDIR | 0700, .uid = 1000, .gid = 1000 },
  };
  char *bufs[2];
  size_t lens[2];
  for (int i = 0; i < 2; i++)
    {
      cleanup_error nook_error_t err = NULL;
      int m = memfd_create ("t", MFD_CLOEXEC);
      assert_int_equal (imagefmt_layer_write_tar (m, en, 5, 1234, true, &err), 0);
      lens[i] = (size_t)lseek (m, 0, SEEK_END);
      bufs[i] = malloc (lens[i]);
      assert_int_equal (pread (m, bufs[i], lens[i], 0), (ssize_t)lens[i]);
      close (m);
    }
  assert_int_equal (lens[0], lens[1]);
  assert_memory_equal (bufs[0], bufs[1], lens[0]);
  /* gzip header: no mtime (bytes 4..7 zero). */
  assert_int_equal ((unsigned char)bufs[0][0], 0x1f);
  assert_int_equal (bufs[0][4] | bufs[0][5] | bufs[0][6] | bufs[0][7], 0);
  cleanup_error nook_error_t err = NULL;
  struct imagefmt_layer_stats st = { 0 };
  assert_int_equal (imagefmt_layer_extract_mem (bufs[0], lens[0], f->fd, &st, &err), 0);
  assert_int_equal (st.entries, 5);
  cleanup_free char *z = slurp (f->fd, "z");
  assert_string_equal (z, "zz");
  struct stat s;
  assert_int_equal (fstatat (f->fd, "home/user", &s, 0), 0);
  assert_int_equal (s.st_mode & 07777, 0700);
  if (getuid () == 0)
    assert_int_equal (s.st_uid, 1000);
  free (bufs[0]);
  free (bufs[1]);
}

static void
test_layer_not_tar (void **state)
{
  struct fixture *f = *state;
  cleanup_error nook_error_t err = NULL;
  static const char junk[] = "this is not a tar archive at all, just some text\n";
  assert_int_equal (imagefmt_layer_extract_mem (junk, sizeof junk, f->fd, NULL, &err), -1);
  int m = memfd_create ("t", MFD_CLOEXEC);
  assert_int_equal (write (m, junk, sizeof junk), (ssize_t)sizeof junk);
  lseek (m, 0, SEEK_SET);
  nook_error_free (&err);
  assert_int_equal (imagefmt_layer_validate (m, NULL, &err), -1);
  close (m);
}

int
main (void)
{
#define T(x) cmocka_unit_test_setup_teardown (x, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_layer_basic),
    T (test_layer_whiteouts),
    T (test_layer_whiteout_then_dir),
    T (test_layer_empty_whiteout),
    T (test_layer_dotdot_refused),
    T (test_layer_symlink_escape),
    T (test_layer_hardlink_outside),
    T (test_layer_writer_reproducible),
    T (test_layer_not_tar),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
