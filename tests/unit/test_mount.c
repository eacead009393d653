/* tests/unit/test_mount.c: sandbox/mount (the mount plan, tmpfs options) and the
 * overlay options of sandbox/rootfs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "sandbox/mount.h"
#include "sandbox/rootfs.h"
#include "util/cleanup.h"
#include "util/util.h"

static const struct mount_op *
find (const struct mount_plan *p, enum mount_op_kind kind, const char *target)
{
  for (size_t i = 0; i < p->n; i++)
    if (p->ops[i].kind == kind && strcmp (p->ops[i].target, target) == 0)
      return &p->ops[i];
  return NULL;
}

static size_t
index_of (const struct mount_plan *p, const char *target)
{
  for (size_t i = 0; i < p->n; i++)
    if (strcmp (p->ops[i].target, target) == 0)
      return i;
  return SIZE_MAX;
}

static void
test_plan_defaults (void **state)
{
  struct nook_spec spec = { .container_dir = (char *)"/c", .network = NETWORK_NONE };
  struct mount_plan p;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_mount_plan_build (&spec, true, &p, &err), 0);
  const struct mount_op *proc = find (&p, MOP_MOUNT, "/proc");
  assert_non_null (proc);
  assert_string_equal (proc->fstype, "proc");
  assert_true (proc->flags & MS_NOSUID && proc->flags & MS_NODEV && proc->flags & MS_NOEXEC);
  const struct mount_op *sys = find (&p, MOP_MOUNT, "/sys");
  assert_non_null (sys);
  assert_true (sys->flags & MS_RDONLY);
  const struct mount_op *pts = find (&p, MOP_MOUNT, "/dev/pts");
  assert_non_null (strstr (pts->data, "newinstance"));
  assert_non_null (strstr (pts->data, "gid=5"));
  static const char *const devs[]
      = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty" };
  for (size_t i = 0; i < ARRAY_SIZE (devs); i++)
    {
      const struct mount_op *d = find (&p, MOP_BIND_DEV, devs[i]);
      assert_non_null (d);
      assert_true (index_of (&p, "/dev") < index_of (&p, devs[i]));
    }
  assert_non_null (find (&p, MOP_MOUNT, "/dev/shm"));
  assert_non_null (find (&p, MOP_MOUNT, "/dev/mqueue"));
  assert_non_null (find (&p, MOP_MASK, "/proc/kcore"));
  assert_non_null (find (&p, MOP_MASK, "/sys/firmware"));
  /* containers/common's additions to moby's list */
  assert_non_null (find (&p, MOP_MASK, "/sys/dev/block"));
  assert_non_null (find (&p, MOP_MASK, "/sys/fs/selinux"));
  assert_non_null (find (&p, MOP_READONLY, "/proc/sys"));
  assert_non_null (find (&p, MOP_READONLY, "/proc/sysrq-trigger"));
  const struct mount_op *hosts = find (&p, MOP_BIND, "/etc/hosts");
  assert_string_equal (hosts->source, "/c/etc/hosts");
  /* masks come after /proc is mounted */
  assert_true (index_of (&p, "/proc") < index_of (&p, "/proc/kcore"));
  sandbox_mount_plan_free (&p);

  /* no gid 5 mapped: devpts without gid=5 */
  assert_int_equal (sandbox_mount_plan_build (&spec, false, &p, &err), 0);
  assert_null (strstr (find (&p, MOP_MOUNT, "/dev/pts")->data, "gid="));
  sandbox_mount_plan_free (&p);
}

static void
test_plan_privileged_unmasked (void **state)
{
  struct nook_spec spec = { .container_dir = (char *)"/c", .unmasked = true };
  struct mount_plan p;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_mount_plan_build (&spec, true, &p, &err), 0);
  assert_null (find (&p, MOP_MASK, "/proc/kcore"));
  assert_null (find (&p, MOP_MASK, "/sys/dev/block"));
  assert_null (find (&p, MOP_READONLY, "/proc/sys"));
  assert_non_null (find (&p, MOP_MOUNT, "/proc"));
  sandbox_mount_plan_free (&p);
}

static void
test_plan_host_network_binds_sys (void **state)
{
  struct nook_spec spec = { .container_dir = (char *)"/c", .network = NETWORK_HOST };
  struct mount_plan p;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_mount_plan_build (&spec, true, &p, &err), 0);
  assert_null (find (&p, MOP_MOUNT, "/sys"));
  const struct mount_op *sys = find (&p, MOP_BIND, "/sys");
  assert_non_null (sys);
  assert_true (sys->flags & MS_RDONLY);
  assert_true (sys->flags & MS_REC);
  sandbox_mount_plan_free (&p);
}

static void
test_plan_user_mounts (void **state)
{
  struct nook_mount m[] = {
    { .kind = MOUNT_BIND, .source = (char *)"/tmp", .target = (char *)"/data", .readonly = true },
    { .kind = MOUNT_TMPFS, .target = (char *)"/scratch", .options = (char *)"size=1m,noexec" },
  };
  struct nook_spec spec = { .container_dir = (char *)"/c", .mounts = m, .n_mounts = 2 };
  struct mount_plan p;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_mount_plan_build (&spec, true, &p, &err), 0);
  const struct mount_op *b = find (&p, MOP_BIND, "/data");
  assert_non_null (b);
  assert_true (b->dir);
  assert_true (b->flags & MS_RDONLY);
  const struct mount_op *t = find (&p, MOP_MOUNT, "/scratch");
  assert_string_equal (t->fstype, "tmpfs");
  assert_string_equal (t->data, "size=1m");
  assert_true (t->flags & MS_NOEXEC);
  sandbox_mount_plan_free (&p);

  /* a missing bind source is an error naming it */
  m[0].source = (char *)"/nonexistent-nook-source";
  assert_int_equal (sandbox_mount_plan_build (&spec, true, &p, &err), -1);
  assert_non_null (strstr (err->msg, "/nonexistent-nook-source"));
  assert_int_equal (err->code, ENOENT);
  sandbox_mount_plan_free (&p);
}

/* --sysctl: written in /proc/sys after /sys (the network namespace joined) and before
 * /proc/sys is made read-only; dotted names as paths, '/' names as they are. */
static void
test_plan_sysctls (void **state)
{
  char *sc[] = { (char *)"net.ipv4.ip_forward=1", (char *)"kernel/shmmax=65536", NULL };
  struct nook_spec spec = { .container_dir = (char *)"/c", .sysctls = sc };
  struct mount_plan p;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_mount_plan_build (&spec, true, &p, &err), 0);
  const struct mount_op *f = find (&p, MOP_SYSCTL, "/proc/sys/net/ipv4/ip_forward");
  assert_non_null (f);
  assert_string_equal (f->data, "1");
  const struct mount_op *k = find (&p, MOP_SYSCTL, "/proc/sys/kernel/shmmax");
  assert_non_null (k);
  assert_string_equal (k->data, "65536");
  assert_true (index_of (&p, "/sys") < index_of (&p, "/proc/sys/net/ipv4/ip_forward"));
  assert_true (index_of (&p, "/proc/sys/kernel/shmmax") < index_of (&p, "/proc/sys"));
  sandbox_mount_plan_free (&p);

  char *bad[] = { (char *)"=1", NULL };
  spec.sysctls = bad;
  assert_int_equal (sandbox_mount_plan_build (&spec, true, &p, &err), -1);
  assert_non_null (strstr (err->msg, "NAME=VALUE"));
  sandbox_mount_plan_free (&p);
}

/* runc's rule: nothing over /proc but the files lxcfs provides. */
static void
test_plan_proc_targets (void **state)
{
  static const char *const refused[]
      = { "/proc", "/proc/", "/proc/self", "/proc/sys/kernel", "/proc/1/root" };
  static const char *const allowed[] = { "/proc/cpuinfo", "/proc/meminfo", "/procfs", "/proc2" };
  struct nook_mount m = { .kind = MOUNT_BIND, .source = (char *)"/tmp" };
  struct nook_spec spec = { .container_dir = (char *)"/c", .mounts = &m, .n_mounts = 1 };
  struct mount_plan p;
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
    {
      cleanup_error nook_error_t err = NULL;
      m.target = (char *)refused[i];
      assert_int_equal (sandbox_mount_plan_build (&spec, true, &p, &err), -1);
      assert_non_null (strstr (err->msg, refused[i]));
      sandbox_mount_plan_free (&p);
    }
  for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
    {
      cleanup_error nook_error_t err = NULL;
      m.target = (char *)allowed[i];
      assert_int_equal (sandbox_mount_plan_build (&spec, true, &p, &err), 0);
      sandbox_mount_plan_free (&p);
    }
}

static void
test_tmpfs_options (void **state)
{
  unsigned long f;
  char *data = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_tmpfs_options ("size=64m,mode=1777,exec,ro", &f, &data, &err), 0);
  assert_string_equal (data, "size=64m,mode=1777");
  assert_false (f & MS_NOEXEC);
  assert_true (f & MS_RDONLY);
  assert_true (f & MS_NOSUID);
  free (data);
  /* nothing but the known options reaches mount data */
  assert_int_equal (sandbox_tmpfs_options ("size=1m,uid=0,context=x", &f, &data, &err), -1);
  assert_non_null (strstr (err->msg, "context=x"));
  nook_error_free (&err);
  assert_int_equal (sandbox_tmpfs_options ("size=1m;x", &f, &data, &err), -1);
}

static void
test_overlay_options (void **state)
{
  int lower[] = { 7, 6, 5 }; /* top layer first */
  cleanup_free char *o = sandbox_overlay_options (lower, 3, 8, 9);
  assert_string_equal (o, "lowerdir=/proc/self/fd/7:/proc/self/fd/6:/proc/self/fd/5,"
                          "upperdir=/proc/self/fd/8,workdir=/proc/self/fd/9");
}

static void
test_storage_check_path (void **state)
{
  cleanup_error nook_error_t err = NULL;
  const char *odd[] = { "/s/a,b", "/s/a:b", "/s/a\\b" };
  for (size_t i = 0; i < ARRAY_SIZE (odd); i++)
    {
      assert_int_equal (sandbox_storage_check_path (STORAGE_OVERLAY, odd[i], &err), 0);
      assert_int_equal (sandbox_storage_check_path (STORAGE_COPY_UP, odd[i], &err), 0);
      assert_int_equal (sandbox_storage_check_path (STORAGE_FUSE_OVERLAYFS, odd[i], &err), -1);
      assert_non_null (strstr (err->msg, odd[i]));
      nook_error_free (&err);
    }
  assert_int_equal (sandbox_storage_check_path (STORAGE_FUSE_OVERLAYFS, "/s/a b", &err), 0);
}

static void
test_storage_names (void **state)
{
  cleanup_error nook_error_t err = NULL;
  enum storage_driver d;
  assert_int_equal (sandbox_storage_parse ("overlay", &d, &err), 0);
  assert_int_equal (d, STORAGE_OVERLAY);
  assert_int_equal (sandbox_storage_parse ("fuse-overlayfs", &d, &err), 0);
  assert_int_equal (d, STORAGE_FUSE_OVERLAYFS);
  assert_int_equal (sandbox_storage_parse ("vfs", &d, &err), 0);
  assert_int_equal (d, STORAGE_COPY_UP);
  assert_string_equal (sandbox_storage_name (STORAGE_COPY_UP), "copy-up");
  assert_int_equal (sandbox_storage_parse ("zfs", &d, &err), -1);
  assert_non_null (strstr (err->msg, "zfs"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_plan_defaults),     cmocka_unit_test (test_plan_host_network_binds_sys),
    cmocka_unit_test (test_plan_user_mounts),  cmocka_unit_test (test_plan_sysctls),
    cmocka_unit_test (test_plan_proc_targets), cmocka_unit_test (test_tmpfs_options),
    cmocka_unit_test (test_overlay_options),   cmocka_unit_test (test_plan_privileged_unmasked),
    cmocka_unit_test (test_storage_names),     cmocka_unit_test (test_storage_check_path),
  };
  return cmocka_run_group_tests_name ("mount", tests, NULL, NULL);
}
