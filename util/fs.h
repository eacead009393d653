/* util/fs.h: safe path and fd helpers.
 *
 * Any tree an image, container or build context controls is walked with these:
 * openat2 RESOLVE_IN_ROOT, one component at a time, O_NOFOLLOW, never a joined
 * string followed by open(). */
#ifndef NOOK_UTIL_FS_H
#define NOOK_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

/* openat2(dirfd, path, {flags|O_CLOEXEC, mode, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS}).
 * Returns the fd or -1 with errno set (no error object: callers often try). */
int fs_open_in_root (int rootfd, const char *path, int flags, mode_t mode);

/* Create every missing directory of `path` under rootfd (treated as "/"), one
 * component at a time without following symlinks in the created part, and
 * return an O_PATH|O_DIRECTORY fd to the last one. */
int fs_mkdir_p_in_root (int rootfd, const char *path, mode_t mode, nook_error_t *err);

/* Open (creating if asked) a file for a mount target under rootfd: directories
 * through fs_mkdir_p_in_root, files created O_EXCL-free but never through a
 * symlink leaf.  Returns an O_PATH fd. */
int fs_mount_target_in_root (int rootfd, const char *path, bool is_dir, nook_error_t *err);

/* Plain host-side mkdir -p of a path the user owns (store, runtime dir). */
int fs_mkdir_p (const char *path, mode_t mode, nook_error_t *err);

/* Read a whole file (at most max bytes) into a NUL-terminated buffer. */
int fs_read_file_at (int dirfd, const char *path, size_t max, char **out, size_t *len,
                     nook_error_t *err);

/* Write data to dirfd/name atomically: temp file, fsync, rename. */
int fs_write_atomic_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                        nook_error_t *err);

/* The same without fsync: for files that die with their container. */
int fs_write_file_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                      nook_error_t *err);

/* Call fn(dirfd, name, arg, err) for each entry of directory dirfd but "."
 * and ".."; stops at the first fn that returns non-zero and returns that
 * (-1 with *err set on failure). */
int fs_dir_foreach (int dirfd,
                    int (*fn) (int dirfd, const char *name, void *arg, nook_error_t *err),
                    void *arg, nook_error_t *err);

/* Remove dirfd/name recursively, never following symlinks. ENOENT is success. */
int fs_rm_rf_at (int dirfd, const char *name, nook_error_t *err);

/* Write all of buf to fd (retrying on EINTR/short writes). */
int fs_write_all (int fd, const void *buf, size_t len);

/* "/proc/self/fd/N" for an fd (static buffer per call site is the caller's). */
void fs_fd_path (int fd, char buf[static 32]);

/* Names of unix sockets nook makes in its runtime directory are at most this long, so
 * that DIR/NAME fits in sun_path (108 bytes). */
#define FS_RUNTIME_SOCKET_NAME_MAX 32

/* nook's runtime directory (the kept user namespace's pid and lock): $XDG_RUNTIME_DIR/nook,
 * else /tmp/nook-UID; created 0700, and it must be a directory of ours with mode 0700, not
 * a symlink.  When it is not (another user may own /tmp/nook-UID), the private
 * $XDG_STATE_HOME/nook/run (default ~/.local/state/nook/run).  *why (if why) gets a short
 * phrase saying which and why ("in $XDG_RUNTIME_DIR", "no usable $XDG_RUNTIME_DIR",
 * "fallback: '/tmp/nook-1000' is owned by uid 1001, not 1000").  NULL with *err when
 * neither can be trusted. */
char *fs_runtime_dir_why (char **why, nook_error_t *err);

/* The same without the reason. */
char *fs_runtime_dir (nook_error_t *err);

/* From now on fs_runtime_dir answers what it answers now: a process about to
 * enter a user namespace where its uid reads differently (0) keeps finding
 * the sockets it and the others made (a network's holder). */
void fs_runtime_dir_pin (void);

#endif
