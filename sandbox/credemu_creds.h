/* sandbox/credemu_creds.h: the credentials of one emulated process, and the
 * kernel's rules for changing them (kernel/sys.c, kernel/groups.c), as pure
 * functions.
 *
 * In a single-id user namespace only the container's root exists: set*id to
 * any other id fails in the kernel.  sandbox/credemu.c answers those calls
 * from this bookkeeping instead (fakeroot's model).  "Privileged" here is what
 * the kernel would decide from the capability and the effective ids: the
 * capability is in the container's set and the emulated euid (fsuid for file
 * ownership) is 0, as effective capabilities are cleared when euid leaves 0
 * and come back with it. */
#ifndef NOOK_SANDBOX_CREDEMU_CREDS_H
#define NOOK_SANDBOX_CREDEMU_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The kernel's NGROUPS_MAX. */
#define CREDEMU_NGROUPS_MAX 65536

struct credemu_creds
{
  uid_t ruid, euid, suid, fsuid;
  gid_t rgid, egid, sgid, fsgid;
  gid_t *groups; /* sorted, as the kernel keeps them */
  size_t n_groups;
  uint64_t caps; /* the container's capability set (bit N = capability N) */
};

/* Root with these supplementary groups (copied) and capabilities. */
void credemu_creds_init (struct credemu_creds *c, const gid_t *groups, size_t n, uint64_t caps);
void credemu_creds_copy (struct credemu_creds *dst, const struct credemu_creds *src);
void credemu_creds_free (struct credemu_creds *c);

/* Each returns 0 or a negative errno (-EPERM, -EINVAL), as the system call;
 * -1 as an argument means "unchanged", as for the system calls. */
int credemu_setuid (struct credemu_creds *c, uid_t uid);
int credemu_setreuid (struct credemu_creds *c, uid_t ruid, uid_t euid);
int credemu_setresuid (struct credemu_creds *c, uid_t ruid, uid_t euid, uid_t suid);
int credemu_setgid (struct credemu_creds *c, gid_t gid);
int credemu_setregid (struct credemu_creds *c, gid_t rgid, gid_t egid);
int credemu_setresgid (struct credemu_creds *c, gid_t rgid, gid_t egid, gid_t sgid);
/* The previous fsuid/fsgid, changed only when allowed (the system calls never fail). */
uid_t credemu_setfsuid (struct credemu_creds *c, uid_t uid);
gid_t credemu_setfsgid (struct credemu_creds *c, gid_t gid);
int credemu_setgroups (struct credemu_creds *c, const gid_t *groups, size_t n);

/* May this process change the owner of a file now owned by cur_uid:cur_gid to
 * uid:gid (-1: unchanged)?  The kernel's chown_ok/chgrp_ok: CAP_CHOWN with
 * fsuid 0, or the owner keeping the uid and giving a group it is in. */
bool credemu_chown_ok (const struct credemu_creds *c, uid_t cur_uid, gid_t cur_gid, uid_t uid,
                       gid_t gid);

/* Is gid the fsgid or a supplementary group? */
bool credemu_in_group (const struct credemu_creds *c, gid_t gid);

#endif
