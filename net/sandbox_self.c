/* net/sandbox_self.c: see sandbox_self.h. */
#include "net/sandbox_self.h"
#include "util/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's ABI, whatever the installed headers know of it. */
struct ll_ruleset_attr
{
  uint64_t handled_access_fs, handled_access_net, scoped;
};
struct ll_path_beneath
{
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__ ((packed));
#define LL_RULE_PATH_BENEATH 1
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)
#define LL_READ_FILE (1ULL << 2)

static uint64_t
fs_rights (int abi)
{
  uint64_t r = (1ULL << 13) - 1; /* ABI 1: execute .. make_sym */
  if (abi >= 2)
    r |= 1ULL << 13; /* refer */
  if (abi >= 3)
    r |= 1ULL << 14; /* truncate */
  if (abi >= 5)
    r |= 1ULL << 15; /* ioctl_dev */
  return r;
}

static int
landlock (const char *readable, nook_error_t *err)
{
  int abi = (int)syscall (SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1)
    return 0; /* no Landlock here: seccomp and no_new_privs remain */
  struct ll_ruleset_attr attr = { .handled_access_fs = fs_rights (abi) };
  size_t size = sizeof attr.handled_access_fs;
  if (abi >= 6)
    {
      attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
      size = sizeof attr;
    }
  cleanup_close int rs = (int)syscall (SYS_landlock_create_ruleset, &attr, size, 0);
  if (rs < 0)
    return nook_error_set (err, errno, "landlock_create_ruleset");
  if (readable)
    {
      cleanup_close int fd = open (readable, O_PATH | O_CLOEXEC);
      struct ll_path_beneath pb = { .allowed_access = LL_READ_FILE, .parent_fd = fd };
      if (fd >= 0 && syscall (SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
        return nook_error_set (err, errno, "landlock_add_rule '%s'", readable);
    }
  if (syscall (SYS_landlock_restrict_self, rs, 0) < 0)
    return nook_error_set (err, errno, "landlock_restrict_self");
  return 0;
}

static const int denied[] = {
  SCMP_SYS (execve),
  SCMP_SYS (execveat),
  SCMP_SYS (mount),
  SCMP_SYS (umount2),
  SCMP_SYS (pivot_root),
  SCMP_SYS (chroot),
  SCMP_SYS (setns),
  SCMP_SYS (unshare),
  SCMP_SYS (ptrace),
  SCMP_SYS (process_vm_readv),
  SCMP_SYS (process_vm_writev),
  SCMP_SYS (kexec_load),
  SCMP_SYS (kexec_file_load),
  SCMP_SYS (init_module),
  SCMP_SYS (finit_module),
  SCMP_SYS (delete_module),
  SCMP_SYS (bpf),
  SCMP_SYS (perf_event_open),
  SCMP_SYS (userfaultfd),
  SCMP_SYS (keyctl),
  SCMP_SYS (add_key),
  SCMP_SYS (request_key),
  SCMP_SYS (open_by_handle_at),
  SCMP_SYS (name_to_handle_at),
  SCMP_SYS (fsopen),
  SCMP_SYS (fsmount),
  SCMP_SYS (move_mount),
  SCMP_SYS (open_tree),
  SCMP_SYS (personality),
  SCMP_SYS (syslog),
  SCMP_SYS (reboot),
  SCMP_SYS (swapon),
  SCMP_SYS (swapoff),
  SCMP_SYS (acct),
  SCMP_SYS (quotactl),
  SCMP_SYS (fanotify_init),
  SCMP_SYS (setuid),
  SCMP_SYS (setgid),
  SCMP_SYS (setresuid),
  SCMP_SYS (setresgid),
  SCMP_SYS (pidfd_getfd),
  SCMP_SYS (clone), /* the helpers start neither processes nor threads */
  SCMP_SYS (clone3),
  SCMP_SYS (fork),
  SCMP_SYS (vfork),
};

static int
seccomp (nook_error_t *err)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    return nook_error_set (err, ENOMEM, "seccomp_init");
  int rc = 0;
  for (size_t i = 0; i < sizeof denied / sizeof denied[0] && rc == 0; i++)
    if (denied[i] >= 0)
      rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), denied[i], 0);
  if (rc == 0)
    rc = seccomp_load (ctx);
  seccomp_release (ctx);
  return rc < 0 ? nook_error_set (err, -rc, "load the helper's seccomp filter") : 0;
}

/* No capability left but `keep` (a helper that entered a container's user
 * namespace, or the kept one, has them all there). */
static int
drop_caps (uint64_t keep, nook_error_t *err)
{
  struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct d[2];
  memset (d, 0, sizeof d);
  for (int i = 0; i < 2; i++)
    d[i].permitted = d[i].effective = (uint32_t)(keep >> (32 * i));
  if (syscall (SYS_capset, &h, d) < 0)
    return nook_error_set (err, errno, "drop capabilities");
  return 0;
}

int
net_sandbox_self (const char *readable, nook_error_t *err)
{
  return net_sandbox_self_keep (readable, 0, err);
}

int
net_sandbox_self_keep (const char *readable, uint64_t keep_caps, nook_error_t *err)
{
  if (drop_caps (keep_caps, err) < 0)
    return -1;
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return nook_error_set (err, errno, "set no_new_privs");
  if (landlock (readable, err) < 0)
    return -1;
  return seccomp (err);
}
