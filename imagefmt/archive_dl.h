/* imagefmt/archive_dl.h: libarchive, loaded on first use.
 *
 * `nook run` of an unpacked image never touches a tar, and libarchive drags
 * in libxml2, ICU and libstdc++: linked normally they cost ~10 ms of every
 * start.  So the few functions nook uses are resolved with dlopen() the first
 * time a tar is read or written (systemd does the same with its optional
 * libraries).  Include this instead of <archive.h>; call
 * imagefmt_archive_load() before the first archive_* call. */
#ifndef NOOK_IMAGEFMT_ARCHIVE_DL_H
#define NOOK_IMAGEFMT_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "util/error.h"

/* Load libarchive once; -1 with a message naming the library otherwise. */
int imagefmt_archive_load (nook_error_t *err);

#define IMAGEFMT_ARCHIVE_SYMBOLS(X)                                                                \
  X (archive_entry_filetype)                                                                       \
  X (archive_entry_free)                                                                           \
  X (archive_entry_gid)                                                                            \
  X (archive_entry_hardlink)                                                                       \
  X (archive_entry_mtime)                                                                          \
  X (archive_entry_mtime_nsec)                                                                     \
  X (archive_entry_new)                                                                            \
  X (archive_entry_pathname)                                                                       \
  X (archive_entry_perm)                                                                           \
  X (archive_entry_rdevmajor)                                                                      \
  X (archive_entry_rdevminor)                                                                      \
  X (archive_entry_set_gid)                                                                        \
  X (archive_entry_set_hardlink)                                                                   \
  X (archive_entry_set_mode)                                                                       \
  X (archive_entry_set_mtime)                                                                      \
  X (archive_entry_set_pathname)                                                                   \
  X (archive_entry_set_perm)                                                                       \
  X (archive_entry_set_rdevmajor)                                                                  \
  X (archive_entry_set_rdevminor)                                                                  \
  X (archive_entry_set_size)                                                                       \
  X (archive_entry_set_symlink)                                                                    \
  X (archive_entry_set_uid)                                                                        \
  X (archive_entry_size)                                                                           \
  X (archive_entry_symlink)                                                                        \
  X (archive_entry_uid)                                                                            \
  X (archive_entry_xattr_add_entry)                                                                \
  X (archive_entry_xattr_next)                                                                     \
  X (archive_entry_xattr_reset)                                                                    \
  X (archive_errno)                                                                                \
  X (archive_error_string)                                                                         \
  X (archive_read_data)                                                                            \
  X (archive_read_data_block)                                                                      \
  X (archive_read_free)                                                                            \
  X (archive_read_new)                                                                             \
  X (archive_read_next_header)                                                                     \
  X (archive_read_open)                                                                            \
  X (archive_read_open_fd)                                                                         \
  X (archive_read_open_memory)                                                                     \
  X (archive_read_support_filter_bzip2)                                                            \
  X (archive_read_support_filter_gzip)                                                             \
  X (archive_read_support_filter_xz)                                                               \
  X (archive_read_support_filter_zstd)                                                             \
  X (archive_read_support_format_raw)                                                              \
  X (archive_read_support_format_tar)                                                              \
  X (archive_write_add_filter_gzip)                                                                \
  X (archive_write_close)                                                                          \
  X (archive_write_data)                                                                           \
  X (archive_write_free)                                                                           \
  X (archive_write_header)                                                                         \
  X (archive_write_new)                                                                            \
  X (archive_write_open)                                                                           \
  X (archive_write_open_fd)                                                                        \
  X (archive_write_set_bytes_in_last_block)                                                        \
  X (archive_write_set_bytes_per_block)                                                            \
  X (archive_write_set_format_pax_restricted)                                                      \
  X (archive_write_set_options)

#define IMAGEFMT_ARCHIVE_DECLARE(name) extern __typeof__ (name) *sym_##name;
IMAGEFMT_ARCHIVE_SYMBOLS (IMAGEFMT_ARCHIVE_DECLARE)
#undef IMAGEFMT_ARCHIVE_DECLARE

#ifndef IMAGEFMT_ARCHIVE_DL_IMPL
#define archive_entry_filetype (*sym_archive_entry_filetype)
#define archive_entry_free (*sym_archive_entry_free)
#define archive_entry_gid (*sym_archive_entry_gid)
#define archive_entry_hardlink (*sym_archive_entry_hardlink)
#define archive_entry_mtime (*sym_archive_entry_mtime)
#define archive_entry_mtime_nsec (*sym_archive_entry_mtime_nsec)
#define archive_entry_new (*sym_archive_entry_new)
#define archive_entry_pathname (*sym_archive_entry_pathname)
#define archive_entry_perm (*sym_archive_entry_perm)
#define archive_entry_rdevmajor (*sym_archive_entry_rdevmajor)
#define archive_entry_rdevminor (*sym_archive_entry_rdevminor)
#define archive_entry_set_gid (*sym_archive_entry_set_gid)
#define archive_entry_set_hardlink (*sym_archive_entry_set_hardlink)
#define archive_entry_set_mode (*sym_archive_entry_set_mode)
#define archive_entry_set_mtime (*sym_archive_entry_set_mtime)
#define archive_entry_set_pathname (*sym_archive_entry_set_pathname)
#define archive_entry_set_perm (*sym_archive_entry_set_perm)
#define archive_entry_set_rdevmajor (*sym_archive_entry_set_rdevmajor)
#define archive_entry_set_rdevminor (*sym_archive_entry_set_rdevminor)
#define archive_entry_set_size (*sym_archive_entry_set_size)
#define archive_entry_set_symlink (*sym_archive_entry_set_symlink)
#define archive_entry_set_uid (*sym_archive_entry_set_uid)
#define archive_entry_size (*sym_archive_entry_size)
#define archive_entry_symlink (*sym_archive_entry_symlink)
#define archive_entry_uid (*sym_archive_entry_uid)
#define archive_entry_xattr_add_entry (*sym_archive_entry_xattr_add_entry)
#define archive_entry_xattr_next (*sym_archive_entry_xattr_next)
#define archive_entry_xattr_reset (*sym_archive_entry_xattr_reset)
#define archive_errno (*sym_archive_errno)
#define archive_error_string (*sym_archive_error_string)
#define archive_read_data (*sym_archive_read_data)
#define archive_read_data_block (*sym_archive_read_data_block)
#define archive_read_free (*sym_archive_read_free)
#define archive_read_new (*sym_archive_read_new)
#define archive_read_next_header (*sym_archive_read_next_header)
#define archive_read_open (*sym_archive_read_open)
#define archive_read_open_fd (*sym_archive_read_open_fd)
#define archive_read_open_memory (*sym_archive_read_open_memory)
#define archive_read_support_filter_bzip2 (*sym_archive_read_support_filter_bzip2)
#define archive_read_support_filter_gzip (*sym_archive_read_support_filter_gzip)
#define archive_read_support_filter_xz (*sym_archive_read_support_filter_xz)
#define archive_read_support_filter_zstd (*sym_archive_read_support_filter_zstd)
#define archive_read_support_format_raw (*sym_archive_read_support_format_raw)
#define archive_read_support_format_tar (*sym_archive_read_support_format_tar)
#define archive_write_add_filter_gzip (*sym_archive_write_add_filter_gzip)
#define archive_write_close (*sym_archive_write_close)
#define archive_write_data (*sym_archive_write_data)
#define archive_write_free (*sym_archive_write_free)
#define archive_write_header (*sym_archive_write_header)
#define archive_write_new (*sym_archive_write_new)
#define archive_write_open (*sym_archive_write_open)
#define archive_write_open_fd (*sym_archive_write_open_fd)
#define archive_write_set_bytes_per_block (*sym_archive_write_set_bytes_per_block)
#define archive_write_set_bytes_in_last_block (*sym_archive_write_set_bytes_in_last_block)
#define archive_write_set_format_pax_restricted (*sym_archive_write_set_format_pax_restricted)
#define archive_write_set_options (*sym_archive_write_set_options)
#endif

#endif
