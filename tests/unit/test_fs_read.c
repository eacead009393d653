/* tests/unit/test_fs_read.c: util/fs_read (files of images and of the user, read
 * without hanging on FIFOs, inside the root, bounded). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fs_read.h"
#include "util/util.h"

static char *outside, *root;
static int rootfd = -1;

static void
put (const char *dir, const char *name, const char *text)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  int fd = open (p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
  close (fd);
}

static int
setup (void **state)
{
  char t1[] = "/tmp/nook-fsr-outside-XXXXXX", t2[] = "/tmp/nook-fsr-root-XXXXXX";
  outside = xstrdup (mkdtemp (t1));
  root = xstrdup (mkdtemp (t2));
  cleanup_free char *etc = xasprintf ("%s/etc", root);
  mkdir (etc, 0755);
  put (etc, "passwd", "root:x:0:0:root:/root:/bin/sh\n");
  put (outside, "secret", "host secret\n");
  cleanup_free char *fifo = xasprintf ("%s/etc/group", root);
  mkfifo (fifo, 0644);
  cleanup_free char *l1 = xasprintf ("%s/etc/abs", root);
  symlink ("/etc/passwd", l1); /* absolute: means root/etc/passwd */
  cleanup_free char *l2 = xasprintf ("%s/etc/escape", root);
  cleanup_free char *target = xasprintf ("../../../../../../..%s/secret", outside);
  symlink (target, l2);
  cleanup_free char *l3 = xasprintf ("%s/etc/loop", root);
  symlink ("loop", l3);
  cleanup_free char *l4 = xasprintf ("%s/etc/tofifo", root);
  symlink ("group", l4);
  rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return rootfd < 0;
}

static int
teardown (void **state)
{
  cleanup_error nook_error_t err = NULL;
  close (rootfd);
  fs_rm_rf_at (AT_FDCWD, outside, &err);
  fs_rm_rf_at (AT_FDCWD, root, &err);
  free (outside);
  free (root);
  return 0;
}

static void
test_regular_and_links_inside (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *a = NULL, *b = NULL;
  size_t len = 0;
  assert_int_equal (fs_read_in_root (rootfd, "/etc/passwd", 4096, &a, &len, &err), 0);
  assert_string_equal (a, "root:x:0:0:root:/root:/bin/sh\n");
  assert_int_equal (len, strlen (a));
  assert_int_equal (fs_read_in_root (rootfd, "/etc/abs", 4096, &b, NULL, &err), 0);
  assert_string_equal (b, a);
}

static void
test_fifo_refused_at_once (void **state)
{
  /* No writer ever comes: a blocking open would hang this test. */
  const char *paths[] = { "/etc/group", "/etc/tofifo" };
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_error nook_error_t err = NULL;
      cleanup_free char *t = NULL;
      struct stat st;
      assert_int_equal (fs_read_in_root (rootfd, paths[i], 4096, &t, NULL, &err), -1);
      assert_non_null (strstr (err->msg, "not a regular file (fifo)"));
      assert_int_equal (err->code, 0);
      nook_error_free (&err);
      assert_int_equal (fs_open_regular_in_root (rootfd, paths[i], &st, &err), -1);
      assert_true (S_ISFIFO (st.st_mode));
    }
}

static void
test_other_kinds (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *t = NULL;
  struct stat st;
  assert_int_equal (fs_read_in_root (rootfd, "/etc", 4096, &t, NULL, &err), -1);
  assert_string_equal (err->msg, "/etc: not a regular file (directory)");
  nook_error_free (&err);
  assert_int_equal (fs_read_in_root (rootfd, "/etc/missing", 4096, &t, NULL, &err), -1);
  assert_int_equal (err->code, ENOENT);
  nook_error_free (&err);
  assert_int_equal (fs_open_regular_in_root (rootfd, "/etc/missing", &st, &err), -1);
  assert_int_equal (st.st_mode, 0);
  nook_error_free (&err);
  assert_int_equal (fs_read_in_root (rootfd, "/etc/loop", 4096, &t, NULL, &err), -1);
  assert_int_equal (err->code, ELOOP);
  nook_error_free (&err);
  /* A socket cannot be opened: what it is is still named. */
  cleanup_free char *sp = xasprintf ("%s/etc/sock", root);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf (sa.sun_path, sizeof sa.sun_path, "%s", sp);
  cleanup_close int s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal (bind (s, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal (fs_read_in_root (rootfd, "/etc/sock", 4096, &t, NULL, &err), -1);
  assert_string_equal (err->msg, "/etc/sock: not a regular file (socket)");
}

static void
test_symlink_stays_inside (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *t = NULL;
  /* ../.. from the root is the root: the host's file is not reached. */
  assert_int_equal (fs_read_in_root (rootfd, "/etc/escape", 4096, &t, NULL, &err), -1);
  assert_int_equal (err->code, ENOENT);
  assert_null (t);
}

static void
test_size_bound (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *t = NULL;
  size_t n = strlen ("root:x:0:0:root:/root:/bin/sh\n");
  assert_int_equal (fs_read_in_root (rootfd, "/etc/passwd", n, &t, NULL, &err), 0);
  free (t);
  t = NULL;
  assert_int_equal (fs_read_in_root (rootfd, "/etc/passwd", n - 1, &t, NULL, &err), -1);
  assert_non_null (strstr (err->msg, "larger than"));
}

static void
test_user_file_pipe_and_fifo (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *t = NULL, *t2 = NULL, *t3 = NULL;
  size_t len = 0;
  /* A pipe whose writer already wrote and left (as <(cmd) often is by then). */
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  assert_int_equal (write (p[1], "A=1\0B", 5), 5);
  close (p[1]);
  cleanup_free char *path = xasprintf ("/proc/self/fd/%d", p[0]);
  assert_int_equal (fs_read_user_file (path, 100, &t, &len, &err), 0);
  assert_int_equal (len, 5);
  assert_memory_equal (t, "A=1\0B", 5);
  close (p[0]);

  /* A named FIFO whose writer comes later: waited for, as Docker's open does. */
  cleanup_free char *fifo = xasprintf ("%s/fifo", outside);
  assert_int_equal (mkfifo (fifo, 0600), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      int w = open (fifo, O_WRONLY); /* blocks until the reader is there */
      _exit (w < 0 || write (w, "X=2\n", 4) != 4);
    }
  assert_int_equal (fs_read_user_file (fifo, 100, &t2, NULL, &err), 0);
  assert_string_equal (t2, "X=2\n");
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_int_equal (status, 0);

  /* Bounded. */
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  assert_int_equal (write (p[1], "0123456789", 10), 10);
  close (p[1]);
  free (path);
  path = xasprintf ("/proc/self/fd/%d", p[0]);
  assert_int_equal (fs_read_user_file (path, 9, &t3, NULL, &err), -1);
  assert_non_null (strstr (err->msg, "larger than 9 bytes"));
  close (p[0]);
}

static void
test_user_file_refuses_dirs_and_devices (void **state)
{
  const char *paths[] = { "/tmp", "/dev/null" };
  const char *kinds[] = { "(directory)", "(character device)" };
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_error nook_error_t err = NULL;
      cleanup_free char *t = NULL;
      assert_int_equal (fs_read_user_file (paths[i], 100, &t, NULL, &err), -1);
      assert_non_null (strstr (err->msg, kinds[i]));
    }
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *t = NULL;
  assert_int_equal (fs_read_user_file ("/nonexistent-zz9", 100, &t, NULL, &err), -1);
  assert_int_equal (err->code, ENOENT);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_regular_and_links_inside),
    cmocka_unit_test (test_fifo_refused_at_once),
    cmocka_unit_test (test_other_kinds),
    cmocka_unit_test (test_symlink_stays_inside),
    cmocka_unit_test (test_size_bound),
    cmocka_unit_test (test_user_file_pipe_and_fifo),
    cmocka_unit_test (test_user_file_refuses_dirs_and_devices),
  };
  return cmocka_run_group_tests_name ("fs_read", tests, setup, teardown);
}
