/* util/owner_record.h: owners recorded beside a file, where the file itself
 * cannot carry them.
 *
 * A user without a subordinate range has one id in its containers: chown to
 * any other fails in the kernel.  Two records say what the owner should be:
 * - user.nook.owner = "UID:GID", written by the credential emulation
 *   (sandbox/credemu.c) when a container chowns a file, or creates one under
 *   an emulated fsuid/fsgid;
 * - user.containers.override_stat = "UID:GID:0MODE" (fuse-overlayfs' format),
 *   written when a layer was extracted for such a user (imagefmt/layer.c).
 * user.nook.owner wins.  Both are bookkeeping: a layer packer puts the owner
 * into the tar header and never the xattrs themselves
 * (owner_record_xattr_private). */
#ifndef NOOK_UTIL_OWNER_RECORD_H
#define NOOK_UTIL_OWNER_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define OWNER_RECORD_XATTR "user.nook.owner"
#define OWNER_OVERRIDE_XATTR "user.containers.override_stat"

struct owner_record
{
  uid_t uid;
  gid_t gid;
  mode_t mode; /* from override_stat (permission bits), when has_mode */
  bool has_mode;
};

/* "UID:GID" (decimal, nothing else) -> true. */
bool owner_record_parse (const char *s, size_t len, uid_t *uid, gid_t *gid);
/* "UID:GID:0MODE" -> true. */
bool owner_record_parse_override (const char *s, size_t len, uid_t *uid, gid_t *gid, mode_t *mode);

/* The record of the file open as fd (any kind of fd, O_PATH too): 1 with *r
 * filled, 0 when the file has none (symlinks, files that carry no user
 * xattrs), -1 with errno on another error. */
int owner_record_get_fd (int fd, struct owner_record *r);

/* The same for path under dirfd, the last component not followed (the
 * layer packer: dirfd is the upper dir, path relative to it). */
int owner_record_get_at (int dirfd, const char *path, struct owner_record *r);

/* The permission bits a layer should get for a file of mode `real` with
 * record r: override_stat's mode where extraction had to widen a directory
 * (real == its mode | 0700), else the file's own (a later chmod wins). */
mode_t owner_record_mode (const struct owner_record *r, mode_t real);

/* Write user.nook.owner on the file open as fd (O_PATH too): 0, or -1 with errno. */
int owner_record_set_fd (int fd, uid_t uid, gid_t gid);
/* Remove it (no error when absent): 0, or -1 with errno. */
int owner_record_clear_fd (int fd);

/* Is this extended attribute nook's bookkeeping (never to go into a layer)? */
bool owner_record_xattr_private (const char *name);

#endif
