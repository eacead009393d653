/* sandbox/mount.h: the container's mounts as a plan (pure, unit-tested) and
 * the executor that applies it under a root directory fd. */
#ifndef NOOK_SANDBOX_MOUNT_H
#define NOOK_SANDBOX_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox/spec.h"
#include "util/error.h"

enum mount_op_kind
{
  MOP_MOUNT,    /* a new filesystem: mount (source, target, fstype, flags, data) */
  MOP_BIND,     /* bind a host path onto target; read-only when MS_RDONLY is in flags */
  MOP_BIND_DEV, /* bind a host character device (checked to be one) */
  MOP_SYMLINK,  /* create a symlink at target pointing to source */
  MOP_MASK,     /* hide target: /dev/null over a file, an empty read-only tmpfs over a dir */
  MOP_READONLY, /* remount target read-only */
  MOP_SYSCTL,   /* write data into target (a file of /proc/sys; source: the name given) */
};

struct mount_op
{
  enum mount_op_kind kind;
  char *source, *target, *fstype, *data;
  unsigned long flags;
  bool dir; /* target is (or must be created as) a directory */
};

struct mount_plan
{
  struct mount_op *ops;
  size_t n;
};

/* The masked paths (moby's and containers/common's) and Docker's read-only paths. */
extern const char *const sandbox_masked_paths[];
extern const char *const sandbox_readonly_paths[];

/* Build the plan for a spec: /proc, /dev and its nodes, /dev/pts, /dev/shm,
 * /dev/mqueue, /sys, the etc files, volumes and tmpfs mounts, sysctls, masks. */
int sandbox_mount_plan_build (const struct nook_spec *spec, bool gid5_mapped,
                              struct mount_plan *plan, nook_error_t *err);
void sandbox_mount_plan_free (struct mount_plan *plan);

/* Validate a tmpfs option string (size=, mode=, uid=, gid=, nr_inodes=,
 * noexec/exec, nosuid/suid, nodev/dev, ro/rw) into mount flags and data. */
int sandbox_tmpfs_options (const char *opts, unsigned long *flags, char **data, nook_error_t *err);

/* In the child's mount namespace: a tmpfs on container_dir/etc holding
 * hosts, resolv.conf and hostname (bound into the container by the plan).
 * Nothing of it reaches the disk, and it vanishes with the namespace. */
int sandbox_etc_files (const struct nook_spec *spec, nook_error_t *err);

/* Apply the plan under rootfd (the new root, before pivot_root). */
int sandbox_mount_plan_apply (const struct mount_plan *plan, int rootfd, nook_error_t *err);
/* The same, calling before_sys (when not NULL) right before the first operation on /sys
 * (sysfs needs the container's network namespace: the child joins it there). */
int sandbox_mount_plan_apply_hooked (const struct mount_plan *plan, int rootfd,
                                     int (*before_sys) (void *arg, nook_error_t *err), void *arg,
                                     nook_error_t *err);

/* Remount the mount at fd read-only, keeping its locked flags. */
int sandbox_mount_make_readonly (int fd, nook_error_t *err);

#endif
