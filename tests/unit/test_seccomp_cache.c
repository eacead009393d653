/* tests/unit/test_seccomp_cache.c: cmd/seccomp_cache (compiled programs cached per
 * profile and capability set; a damaged cache entry is rebuilt, never loaded). */
#include <dirent.h>
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

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cmocka.h>

#include "cmd/seccomp_cache.h"
#include "sandbox/caps.h"
#include "sandbox/seccomp_bpf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

static char *root;

static int
setup (void **state)
{
  char t[] = "/tmp/nook-sc-XXXXXX";
  root = xstrdup (mkdtemp (t));
  return 0;
}

static int
teardown (void **state)
{
  cleanup_error nook_error_t err = NULL;
  fs_rm_rf_at (AT_FDCWD, root, &err);
  free (root);
  return 0;
}

static int
count_files (void)
{
  cleanup_free char *dir = xasprintf ("%s/cache/seccomp", root);
  DIR *d = opendir (dir);
  int n = 0;
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    n += de->d_name[0] != '.';
  if (d)
    closedir (d);
  return n;
}

static void
program (uint64_t caps, const char *profile, void **bpf, size_t *len)
{
  cleanup_error nook_error_t err = NULL;
  struct nook_spec spec = { .caps = caps };
  assert_int_equal (seccomp_cache_program (root, profile, &spec, &err), 0);
  assert_true (sandbox_seccomp_bpf_valid (spec.seccomp_bpf, spec.seccomp_bpf_len));
  *bpf = spec.seccomp_bpf;
  *len = spec.seccomp_bpf_len;
}

static void
test_cache_hit_and_keys (void **state)
{
  void *a, *b, *c;
  size_t la, lb, lc;
  program (sandbox_caps_default (), NULL, &a, &la);
  assert_int_equal (count_files (), 1);
  program (sandbox_caps_default (), NULL, &b, &lb); /* from the cache */
  assert_int_equal (count_files (), 1);
  assert_int_equal (la, lb);
  assert_memory_equal (a, b, la);
  /* another capability set is another program (CAP_SYS_ADMIN opens mount & co.) */
  program (sandbox_caps_default () | SANDBOX_CAP_BIT (21), NULL, &c, &lc);
  assert_int_equal (count_files (), 2);
  assert_false (la == lc && memcmp (a, c, la) == 0);
  free (a);
  free (b);
  free (c);
}

/* The name of the only file in the cache (malloc'd). */
static char *
only_file (void)
{
  cleanup_free char *dir = xasprintf ("%s/cache/seccomp", root);
  DIR *d = opendir (dir);
  char *name = NULL;
  struct dirent *de;
  while (d && (de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      {
        assert_null (name);
        name = xstrdup (de->d_name);
      }
  if (d)
    closedir (d);
  assert_non_null (name);
  return name;
}

/* The default profile's program is found by the binary's build ID and the rest of the
 * key spelled out: no digest (and so no nettle) in a run with the default profile. */
static void
test_default_key_needs_no_digest (void **state)
{
  void *a;
  size_t la;
  program (sandbox_caps_default (), NULL, &a, &la);
  free (a);
  cleanup_free char *name = only_file ();
  cleanup_free char *caps = xasprintf ("-%016llx-", (unsigned long long)sandbox_caps_default ());
  assert_true (str_has_prefix (name, "b-"));
  assert_non_null (strstr (name, caps));
  assert_true (str_has_suffix (name, ".bpf"));
  assert_null (strchr (name, '/'));
}

static void
test_damaged_entry_is_rebuilt (void **state)
{
  void *a, *b;
  size_t la, lb;
  program (sandbox_caps_default (), NULL, &a, &la);
  /* damage every cache entry: a truncated program must not be used */
  cleanup_free char *dir = xasprintf ("%s/cache/seccomp", root);
  DIR *d = opendir (dir);
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      {
        cleanup_free char *p = xasprintf ("%s/%s", dir, de->d_name);
        assert_int_equal (truncate (p, 12), 0);
      }
  closedir (d);
  program (sandbox_caps_default (), NULL, &b, &lb);
  assert_int_equal (la, lb);
  assert_memory_equal (a, b, la);
  free (a);
  free (b);
}

static void
test_profile_file (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_free char *path = xasprintf ("%s/p.json", root);
  static const char json[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                             "[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
  cleanup_close int dfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal (fs_write_file_at (dfd, "p.json", json, strlen (json), 0600, &err), 0);
  void *a, *b;
  size_t la, lb;
  program (sandbox_caps_default (), path, &a, &la);
  program (sandbox_caps_default (), NULL, &b, &lb);
  assert_false (la == lb && memcmp (a, b, la) == 0); /* the profile is part of the key */
  free (a);
  free (b);

  struct nook_spec spec = { .caps = 0 };
  cleanup_free char *missing = xasprintf ("%s/missing.json", root);
  assert_int_equal (seccomp_cache_program (root, missing, &spec, &err), -1);
  assert_non_null (strstr (err->msg, "missing.json"));

  struct nook_spec none = { .seccomp_unconfined = true };
  nook_error_free (&err);
  assert_int_equal (seccomp_cache_program (root, NULL, &none, &err), 0);
  assert_null (none.seccomp_bpf);
}

/* Replace the only cache entry by what make() writes at its path, then check the next
 * lookup compiles the program again (equal to the first) instead of loading that. */
static void
entry_not_trusted (void (*make) (const char *path, const char *dir))
{
  void *a, *b;
  size_t la, lb;
  program (sandbox_caps_default (), NULL, &a, &la);
  cleanup_free char *name = only_file ();
  cleanup_free char *dir = xasprintf ("%s/cache/seccomp", root);
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  make (path, dir);
  program (sandbox_caps_default (), NULL, &b, &lb);
  assert_int_equal (la, lb);
  assert_memory_equal (a, b, la);
  free (a);
  free (b);
}

static const struct sock_filter allow_all[] = { BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };

static void
write_at (const char *path, const void *data, size_t len, mode_t mode)
{
  unlink (path);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, data, len), (ssize_t)len);
  assert_int_equal (fchmod (fd, mode), 0);
  close (fd);
}

/* a valid program, as the cache held them before it had a header */
static void
make_raw_allow (const char *path, const char *dir)
{
  write_at (path, allow_all, sizeof allow_all, 0600);
}

/* a well-formed entry of another key (an allow-all profile's) renamed into place */
static void
make_misfiled (const char *path, const char *dir)
{
  size_t n;
  cleanup_free void *file
      = sandbox_seccomp_file_encode (allow_all, sizeof allow_all, "b-other.bpf", &n);
  write_at (path, file, n, 0600);
}

/* the right key, the program changed after the checksum */
static void
make_bad_sum (const char *path, const char *dir)
{
  const char *name = strrchr (path, '/') + 1;
  size_t n;
  unsigned char *file = sandbox_seccomp_file_encode (allow_all, sizeof allow_all, name, &n);
  file[n - 1] ^= 1;
  write_at (path, file, n, 0600);
  free (file);
}

/* a good entry that others may write */
static void
make_loose_mode (const char *path, const char *dir)
{
  assert_int_equal (chmod (path, 0666), 0);
}

/* a symlink to a good copy elsewhere */
static void
make_symlink (const char *path, const char *dir)
{
  cleanup_free char *other = xasprintf ("%s/elsewhere", root);
  assert_int_equal (rename (path, other), 0);
  assert_int_equal (symlink (other, path), 0);
}

static void
test_raw_program_not_trusted (void **state)
{
  entry_not_trusted (make_raw_allow);
}

static void
test_misfiled_entry_not_trusted (void **state)
{
  entry_not_trusted (make_misfiled);
}

static void
test_bad_checksum_not_trusted (void **state)
{
  entry_not_trusted (make_bad_sum);
}

static void
test_loose_mode_not_trusted (void **state)
{
  entry_not_trusted (make_loose_mode);
}

static void
test_symlink_not_trusted (void **state)
{
  entry_not_trusted (make_symlink);
}

static void
test_file_round_trip (void **state)
{
  cleanup_error nook_error_t err = NULL;
  cleanup_close int dfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  size_t n;
  cleanup_free void *file = sandbox_seccomp_file_encode (allow_all, sizeof allow_all, "k", &n);
  assert_int_equal (fs_write_file_at (dfd, "k", file, n, 0600, &err), 0);
  void *bpf = NULL;
  size_t len = 0;
  assert_int_equal (sandbox_seccomp_file_read (dfd, "k", "k", &bpf, &len, &err), 0);
  assert_int_equal (len, sizeof allow_all);
  assert_memory_equal (bpf, allow_all, len);
  free (bpf);
  bpf = NULL;
  assert_int_equal (sandbox_seccomp_file_read (dfd, "k", NULL, &bpf, &len, &err), 0);
  free (bpf);
  assert_int_equal (sandbox_seccomp_file_read (dfd, "k", "other", &bpf, &len, &err), -1);
  nook_error_free (&err);
  /* every truncation is refused */
  for (size_t cut = 0; cut < n; cut++)
    {
      assert_int_equal (fs_write_file_at (dfd, "t", file, cut, 0600, &err), 0);
      assert_int_equal (sandbox_seccomp_file_read (dfd, "t", NULL, &bpf, &len, &err), -1);
      nook_error_free (&err);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_cache_hit_and_keys, setup, teardown),
    cmocka_unit_test_setup_teardown (test_default_key_needs_no_digest, setup, teardown),
    cmocka_unit_test_setup_teardown (test_damaged_entry_is_rebuilt, setup, teardown),
    cmocka_unit_test_setup_teardown (test_profile_file, setup, teardown),
    cmocka_unit_test_setup_teardown (test_raw_program_not_trusted, setup, teardown),
    cmocka_unit_test_setup_teardown (test_misfiled_entry_not_trusted, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_checksum_not_trusted, setup, teardown),
    cmocka_unit_test_setup_teardown (test_loose_mode_not_trusted, setup, teardown),
    cmocka_unit_test_setup_teardown (test_symlink_not_trusted, setup, teardown),
    cmocka_unit_test_setup_teardown (test_file_round_trip, setup, teardown),
  };
  return cmocka_run_group_tests_name ("seccomp_cache", tests, NULL, NULL);
}
