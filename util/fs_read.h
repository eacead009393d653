/* util/fs_read.h: reading files nook does not control, without hanging.
 *
 * A file of an image or a container (/etc/passwd, /etc/group, /etc/os-release, layer
 * files, copy sources) is whatever the image's author made it: a FIFO (a blocking open
 * never returns), a device, a symlink out of the root, gigabytes.  Every such file is
 * resolved inside its root (openat2 RESOLVE_IN_ROOT: symlinks followed, never out of
 * it), opened O_RDONLY|O_NONBLOCK|O_CLOEXEC, checked with fstat to be a regular file,
 * and read with a size bound.  Files the user names on the command line (--env-file)
 * may also be pipes and FIFOs, as Docker allows (`--env-file <(env | grep ^CI_)`).
 *
 * Errors have code ENOENT when the file does not exist, 0 when it is not a file of an
 * accepted kind or is too large ("PATH: not a regular file (fifo)"), else the errno. */
#ifndef NOOK_UTIL_FS_READ_H
#define NOOK_UTIL_FS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "util/error.h"

/* What a file is, in words: "regular file", "directory", "fifo", "character device",
 * "block device", "socket", "symbolic link". */
const char *fs_kind_name (mode_t mode);

/* Open path under rootfd as described above; returns a regular file's fd (O_RDONLY,
 * O_NONBLOCK, O_CLOEXEC).  *st (may be NULL) gets its stat, or on failure the stat of
 * what is there instead (st_mode 0 when nothing is), so a caller can tell an overlay
 * whiteout (a 0:0 character device) from a file that is missing. */
int fs_open_regular_in_root (int rootfd, const char *path, struct stat *st, nook_error_t *err);

/* fs_open_regular_in_root, then the whole file (at most max bytes) into a NUL-terminated
 * buffer; *len (may be NULL) gets its length, NUL bytes included. */
int fs_read_in_root (int rootfd, const char *path, size_t max, char **out, size_t *len,
                     nook_error_t *err);

/* Read fd (opened O_NONBLOCK) whole, at most max bytes, after checking its kind: a
 * regular file, or also a pipe or FIFO when streams (read to its end, blocking; a FIFO
 * with no writer yet is waited for, as a blocking open would).  name names it in errors. */
int fs_read_fd (int fd, const char *name, size_t max, bool streams, char **out, size_t *len,
                nook_error_t *err);

/* A host file the user named: a regular file, pipe or FIFO (directories, devices and
 * sockets are refused), at most max bytes. */
int fs_read_user_file (const char *path, size_t max, char **out, size_t *len, nook_error_t *err);

#endif
