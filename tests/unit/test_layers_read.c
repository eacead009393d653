/* tests/unit/test_layers_read.c: imagefmt_layers_read_file reads an image's file as the
 * container sees it through overlay: whiteouts in both forms, opaque directories,
 * symlinks that cross layers, and never out of the image. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "imagefmt/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

struct fixture
{
  char dir[64];
  char *layers[5]; /* bottom first, NULL-terminated */
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof *f);
  strcpy (f->dir, "/tmp/nook-test-lread-XXXXXX");
  if (mkdtemp (f->dir) == NULL)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      f->layers[i] = xasprintf ("%s/%d", f->dir, i);
      if (mkdir (f->layers[i], 0755) < 0)
        return -1;
    }
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  cleanup_error nook_error_t err = NULL;
  fs_rm_rf_at (AT_FDCWD, f->dir, &err);
  for (int i = 0; i < 4; i++)
    free (f->layers[i]);
  free (f);
  return 0;
}

/* In layer l: 'd' dir, 'f' file with text, 'l' symlink to text, 'p' fifo, 'o' opaque
 * marker file in dir path (.wh..wh..opq), 'x' opaque by user.overlay.opaque. */
static void
put (struct fixture *f, int l, char type, const char *path, const char *text)
{
  cleanup_free char *p = xasprintf ("%s/%s", f->layers[l], path);
  switch (type)
    {
    case 'd':
      assert_int_equal (mkdir (p, 0755), 0);
      break;
    case 'f':
      {
        int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true (fd >= 0);
        assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
        close (fd);
        break;
      }
    case 'l':
      assert_int_equal (symlink (text, p), 0);
      break;
    case 'p':
      assert_int_equal (mkfifo (p, 0644), 0);
      break;
    case 'o':
      {
        cleanup_free char *m = xasprintf ("%s/.wh..wh..opq", p);
        int fd = open (m, O_WRONLY | O_CREAT | O_CLOEXEC, 0);
        assert_true (fd >= 0);
        close (fd);
        break;
      }
    case 'x':
      if (setxattr (p, "user.overlay.opaque", "y", 1, 0) < 0)
        skip ();
      break;
    }
}

/* The 4 layers, the upper ones first: only n of them (bottom first). */
static int
read_in (struct fixture *f, int n, const char *path, char **out, nook_error_t *err)
{
  char *dirs[5] = { NULL };
  for (int i = 0; i < n; i++)
    dirs[i] = f->layers[i];
  return imagefmt_layers_read_file (dirs, path, 1 << 20, out, NULL, err);
}

static void
expect_text (struct fixture *f, int n, const char *path, const char *want)
{
  cleanup_free char *out = NULL;
  cleanup_error nook_error_t err = NULL;
  if (read_in (f, n, path, &out, &err) < 0)
    fail_msg ("%s: %s (code %d)", path, err->msg, err->code);
  assert_string_equal (out, want);
}

static void
expect_code (struct fixture *f, int n, const char *path, int code)
{
  cleanup_free char *out = NULL;
  cleanup_error nook_error_t err = NULL;
  if (read_in (f, n, path, &out, &err) == 0)
    fail_msg ("%s: read '%s', expected an error", path, out);
  assert_int_equal (err->code, code);
}

static void
test_topmost_wins (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "etc", NULL);
  put (f, 0, 'f', "etc/passwd", "lower");
  put (f, 1, 'd', "etc", NULL);
  put (f, 1, 'f', "etc/group", "g");
  expect_text (f, 2, "/etc/passwd", "lower");
  put (f, 2, 'd', "etc", NULL);
  put (f, 2, 'f', "etc/passwd", "upper");
  expect_text (f, 3, "/etc/passwd", "upper");
  expect_text (f, 3, "etc/group", "g");
  expect_code (f, 3, "/etc/shadow", ENOENT);
}

/* The whiteout nook writes where mknod is refused (fuse-overlayfs's form). */
static void
test_whiteout_file (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "etc", NULL);
  put (f, 0, 'f', "etc/passwd", "lower");
  put (f, 1, 'd', "etc", NULL);
  put (f, 1, 'f', "etc/.wh.passwd", "");
  expect_code (f, 2, "/etc/passwd", ENOENT);
  put (f, 2, 'd', "etc", NULL);
  put (f, 2, 'f', "etc/passwd", "again");
  expect_text (f, 3, "/etc/passwd", "again");
}

/* The kernel's form, a 0:0 character device (where mknod is allowed). */
static void
test_whiteout_device (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "etc", NULL);
  put (f, 0, 'f', "etc/passwd", "lower");
  put (f, 1, 'd', "etc", NULL);
  cleanup_free char *p = xasprintf ("%s/etc/passwd", f->layers[1]);
  if (mknod (p, S_IFCHR | 0000, makedev (0, 0)) < 0)
    skip ();
  expect_code (f, 2, "/etc/passwd", ENOENT);
}

/* A whiteout of a directory hides everything below it. */
static void
test_whiteout_parent (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "etc", NULL);
  put (f, 0, 'f', "etc/passwd", "lower");
  put (f, 1, 'f', ".wh.etc", "");
  expect_code (f, 2, "/etc/passwd", ENOENT);
}

static void
test_opaque_dir (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "etc", NULL);
  put (f, 0, 'f', "etc/passwd", "lower");
  put (f, 0, 'f', "etc/group", "lower group");
  put (f, 1, 'd', "etc", NULL);
  put (f, 1, 'o', "etc", NULL);
  put (f, 1, 'f', "etc/group", "upper group");
  expect_code (f, 2, "/etc/passwd", ENOENT);
  expect_text (f, 2, "/etc/group", "upper group");
  /* an opaque marker is not a file of the image */
  expect_code (f, 2, "/etc/.wh..wh..opq", ENOENT);
}

static void
test_opaque_xattr (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "etc", NULL);
  put (f, 0, 'f', "etc/passwd", "lower");
  put (f, 1, 'd', "etc", NULL);
  put (f, 1, 'x', "etc", NULL);
  expect_code (f, 2, "/etc/passwd", ENOENT);
}

/* A symlink in one layer to a file of another (Debian's /etc/os-release). */
static void
test_symlink_across_layers (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "etc", NULL);
  put (f, 0, 'f', "etc/passwd", "stale");
  put (f, 0, 'f', "etc/passwd.real", "real");
  put (f, 1, 'd', "etc", NULL);
  put (f, 1, 'l', "etc/passwd", "passwd.real");
  expect_text (f, 2, "/etc/passwd", "real");
  put (f, 1, 'd', "usr", NULL);
  put (f, 1, 'd', "usr/lib", NULL);
  put (f, 1, 'f', "usr/lib/os-release", "old");
  put (f, 1, 'l', "etc/os-release", "../usr/lib/os-release");
  put (f, 2, 'd', "usr", NULL);
  put (f, 2, 'd', "usr/lib", NULL);
  put (f, 2, 'f', "usr/lib/os-release", "new");
  expect_text (f, 3, "/etc/os-release", "new");
}

/* A directory that is a symlink in an upper layer, to a directory of a lower one. */
static void
test_symlinked_dir (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "real", NULL);
  put (f, 0, 'f', "real/passwd", "via link");
  put (f, 1, 'l', "etc", "/real");
  expect_text (f, 2, "/etc/passwd", "via link");
}

/* Symlinks never leave the image: '..' stops at its root, absolute ones start there. */
static void
test_symlink_stays_inside (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "etc", NULL);
  put (f, 0, 'f', "etc/mypw", "inside");
  put (f, 1, 'd', "etc", NULL);
  put (f, 1, 'l', "etc/passwd", "../../../../../../etc/mypw");
  put (f, 1, 'l', "etc/group", "/etc/shadow"); /* the host's must not be read */
  expect_text (f, 2, "/etc/passwd", "inside");
  expect_code (f, 2, "/etc/group", ENOENT);
  put (f, 1, 'l', "etc/loop1", "loop2");
  put (f, 1, 'l', "etc/loop2", "loop1");
  expect_code (f, 2, "/etc/loop1", ELOOP);
}

/* Never a blocking open: a FIFO is reported, a directory too. */
static void
test_not_regular (void **state)
{
  struct fixture *f = *state;
  put (f, 0, 'd', "etc", NULL);
  put (f, 0, 'p', "etc/passwd", NULL);
  put (f, 0, 'd', "etc/group", NULL);
  cleanup_free char *out = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (read_in (f, 1, "/etc/passwd", &out, &err), -1);
  assert_string_equal (err->msg, "/etc/passwd: not a regular file (fifo)");
  nook_error_free (&err);
  assert_int_equal (read_in (f, 1, "/etc/group", &out, &err), -1);
  assert_string_equal (err->msg, "/etc/group: not a regular file (directory)");
  nook_error_free (&err);
  /* a file where a directory is needed */
  put (f, 1, 'f', "x", "file");
  assert_int_equal (read_in (f, 2, "/x/passwd", &out, &err), -1);
  assert_int_equal (err->code, ENOTDIR);
}

int
main (void)
{
#define T(x) cmocka_unit_test_setup_teardown (x, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_topmost_wins),          T (test_whiteout_file), T (test_whiteout_device),
    T (test_whiteout_parent),       T (test_opaque_dir),    T (test_opaque_xattr),
    T (test_symlink_across_layers), T (test_symlinked_dir), T (test_symlink_stays_inside),
    T (test_not_regular),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
