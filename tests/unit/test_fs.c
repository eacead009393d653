/* tests/unit/test_fs.c: util/fs (paths resolved inside a root, never outside). */
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
#include <unistd.h>

#include <cmocka.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

static char *outside, *root;

static int
setup (void **state)
{
  char t1[] = "/tmp/nook-fs-outside-XXXXXX", t2[] = "/tmp/nook-fs-root-XXXXXX";
  outside = xstrdup (mkdtemp (t1));
  root = xstrdup (mkdtemp (t2));
  cleanup_free char *etc = xasprintf ("%s/etc", root);
  mkdir (etc, 0755);
  cleanup_free char *l1 = xasprintf ("%s/abs", root);
  symlink (outside, l1); /* an absolute link meant for the host */
  cleanup_free char *l2 = xasprintf ("%s/up", root);
  symlink ("../../../../..", l2);
  cleanup_free char *l3 = xasprintf ("%s/etcl", root);
  symlink ("/etc", l3); /* inside the root this is root/etc */
  return 0;
}

static int
teardown (void **state)
{
  cleanup_error nook_error_t err = NULL;
  fs_rm_rf_at (AT_FDCWD, outside, &err);
  fs_rm_rf_at (AT_FDCWD, root, &err);
  free (outside);
  free (root);
  return 0;
}

static void
test_mkdir_p_stays_inside (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_close int rfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  /* a link whose in-root target is missing: refused, nothing on the host */
  int fd = fs_mkdir_p_in_root (rfd, "/abs/x/y", 0755, &err);
  assert_int_equal (fd, -1);
  nook_error_free (&err);
  cleanup_free char *escaped = xasprintf ("%s/x", outside);
  assert_int_equal (access (escaped, F_OK), -1);

  cleanup_close int fd2 = fs_mkdir_p_in_root (rfd, "up/z", 0755, &err);
  assert_true (fd2 >= 0);
  cleanup_free char *z = xasprintf ("%s/z", root);
  assert_int_equal (access (z, F_OK), 0); /* '..' stops at the root */

  /* a link to an absolute path means the container's path */
  cleanup_close int fd3 = fs_mkdir_p_in_root (rfd, "etcl/sub", 0755, &err);
  assert_true (fd3 >= 0);
  cleanup_free char *sub = xasprintf ("%s/etc/sub", root);
  assert_int_equal (access (sub, F_OK), 0);
}

static void
test_mount_target_refuses_symlink_leaf (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_close int rfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = fs_mount_target_in_root (rfd, "/abs", false, &err);
  assert_int_equal (fd, -1);
  assert_non_null (err);
  nook_error_free (&err);
  cleanup_close int f = fs_mount_target_in_root (rfd, "/etc/newfile", false, &err);
  assert_true (f >= 0);
  cleanup_free char *nf = xasprintf ("%s/etc/newfile", root);
  assert_int_equal (access (nf, F_OK), 0);
}

static void
test_mount_target_follows_links_inside (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_close int rfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *run = xasprintf ("%s/run", root);
  mkdir (run, 0755);
  /* a dangling link into the root: its target is created, inside */
  cleanup_free char *l1 = xasprintf ("%s/etc/resolv.conf", root);
  assert_int_equal (symlink ("../run/resolv.conf", l1), 0);
  cleanup_close int fd = fs_mount_target_in_root (rfd, "/etc/resolv.conf", false, &err);
  assert_true (fd >= 0);
  cleanup_free char *made = xasprintf ("%s/run/resolv.conf", root);
  assert_int_equal (access (made, F_OK), 0);
  /* an absolute link is the container's path, not the host's */
  cleanup_free char *l2 = xasprintf ("%s/etc/hosts", root);
  assert_int_equal (symlink ("/run/hosts", l2), 0);
  cleanup_close int fd2 = fs_mount_target_in_root (rfd, "/etc/hosts", false, &err);
  assert_true (fd2 >= 0);
  cleanup_free char *made2 = xasprintf ("%s/run/hosts", root);
  assert_int_equal (access (made2, F_OK), 0);
  assert_int_equal (access ("/run/hosts", F_OK), -1);
}

static void
test_open_in_root (void **state)
{
  cleanup_close int rfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = fs_open_in_root (rfd, "/abs/../../../etc/passwd", O_RDONLY, 0);
  assert_int_equal (fd, -1); /* root/etc/passwd does not exist: no host file */
  assert_int_equal (errno, ENOENT);
}

static void
test_rm_rf_does_not_follow (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *victim = xasprintf ("%s/keep", outside);
  int fd = open (victim, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  close (fd);
  cleanup_free char *dir = xasprintf ("%s/d", root);
  mkdir (dir, 0755);
  cleanup_free char *link = xasprintf ("%s/d/link", root);
  symlink (outside, link);
  assert_int_equal (fs_rm_rf_at (AT_FDCWD, dir, &err), 0);
  assert_int_equal (access (dir, F_OK), -1);
  assert_int_equal (access (victim, F_OK), 0);
}

static void
test_atomic_write_and_read (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_close int dfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal (fs_write_atomic_at (dfd, "f", "hello", 5, 0600, &err), 0);
  cleanup_free char *text = NULL;
  size_t len = 0;
  assert_int_equal (fs_read_file_at (dfd, "f", 100, &text, &len, &err), 0);
  assert_string_equal (text, "hello");
  assert_int_equal (len, 5);
  cleanup_free char *t2 = NULL;
  assert_int_equal (fs_read_file_at (dfd, "f", 3, &t2, NULL, &err), -1);
  assert_int_equal (err->code, EFBIG);
}

/* The runtime dir: $XDG_RUNTIME_DIR/nook when it is a directory of ours with mode 0700, else
 * the private $XDG_STATE_HOME/nook/run, with the reason; NULL when neither can be trusted. */
static void
test_runtime_dir_fallback (void **state)
{
  /* Short paths: DIR/NAME of a unix socket must fit in 108 bytes. */
  cleanup_free char *xdg = xasprintf ("%s/x", outside), *st = xasprintf ("%s/s", outside);
  cleanup_free char *nook = xasprintf ("%s/nook", xdg), *run = xasprintf ("%s/nook/run", st);
  cleanup_free char *why = NULL, *dir = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (mkdir (xdg, 0700), 0);
  setenv ("XDG_RUNTIME_DIR", xdg, 1);
  setenv ("XDG_STATE_HOME", st, 1);

  dir = fs_runtime_dir_why (&why, &err); /* created 0700: trusted */
  assert_string_equal (dir, nook);
  assert_string_equal (why, "in $XDG_RUNTIME_DIR");
  free (dir), free (why);

  assert_int_equal (chmod (nook, 0777), 0); /* e.g. another user's, or open to all */
  dir = fs_runtime_dir_why (&why, &err);
  assert_string_equal (dir, run);
  assert_non_null (strstr (why, "has mode 0777, not 0700"));
  struct stat sb;
  assert_int_equal (stat (run, &sb), 0);
  assert_int_equal (sb.st_mode & 07777, 0700);
  free (dir), free (why);

  assert_int_equal (rmdir (nook), 0);
  assert_int_equal (symlink (outside, nook), 0); /* a symlink, even to a dir of ours */
  dir = fs_runtime_dir_why (&why, &err);
  assert_string_equal (dir, run);
  assert_non_null (strstr (why, "is a symlink"));
  free (dir), free (why);
  why = NULL;

  assert_int_equal (chmod (run, 0755), 0); /* the fallback is refused too: none */
  dir = fs_runtime_dir_why (&why, &err);
  assert_null (dir);
  assert_null (why);
  assert_non_null (strstr (err->msg, "fallback: '"));
  assert_non_null (strstr (err->msg, "has mode 0755"));
  nook_error_free (&err);

  cleanup_free char *longer = xasprintf ("%s/%0100d", outside, 0);
  setenv ("XDG_STATE_HOME", longer, 1);
  dir = fs_runtime_dir_why (&why, &err);
  assert_null (dir);
  assert_non_null (strstr (err->msg, "too long for unix socket paths"));
  assert_int_equal (access (longer, F_OK), -1); /* nothing was created for it */
  nook_error_free (&err);

  /* A fallback that cannot be made says why (HOME=/nonexistent said only "mkdir"). */
  cleanup_free char *file = xasprintf ("%s/f", outside), *under = xasprintf ("%s/f/s", outside);
  int fd = open (file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  close (fd);
  setenv ("XDG_STATE_HOME", under, 1);
  dir = fs_runtime_dir_why (&why, &err);
  assert_null (dir);
  assert_non_null (strstr (err->msg, strerror (ENOTDIR)));
  unsetenv ("XDG_RUNTIME_DIR");
  unsetenv ("XDG_STATE_HOME");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mkdir_p_stays_inside),
    cmocka_unit_test (test_mount_target_refuses_symlink_leaf),
    cmocka_unit_test (test_mount_target_follows_links_inside),
    cmocka_unit_test (test_open_in_root),
    cmocka_unit_test (test_rm_rf_does_not_follow),
    cmocka_unit_test (test_atomic_write_and_read),
    cmocka_unit_test (test_runtime_dir_fallback),
  };
  return cmocka_run_group_tests_name ("fs", tests, setup, teardown);
}
