/* sandbox/seccomp_bpf.h: seccomp filters as compiled BPF programs, so a filter
 * built once (libseccomp takes ~15 ms for Docker's profile) can be cached and
 * loaded with one system call. */
#ifndef NOOK_SANDBOX_SECCOMP_BPF_H
#define NOOK_SANDBOX_SECCOMP_BPF_H

#include <stdbool.h>
#include <stddef.h>

#include <seccomp.h>

#include "util/error.h"

/* Compile ctx into a BPF program (malloc'd bytes, a whole number of
 * struct sock_filter): libseccomp's, made smaller when it can be
 * (sandbox/seccomp_compact.h). */
int sandbox_seccomp_export (scmp_filter_ctx ctx, void **bpf, size_t *len, nook_error_t *err);

/* Is this a plausible program: non-empty, whole instructions, at most
 * BPF_MAXINSNS, ending in a return? */
bool sandbox_seccomp_bpf_valid (const void *bpf, size_t len);

/* Install the program in the calling thread (no_new_privs must be set). */
int sandbox_seccomp_load_bpf (const void *bpf, size_t len, nook_error_t *err);

/* A program as kept on disk (the store's cache/seccomp/ and a container's seccomp.bpf,
 * a hard link to the cached file): "nookbpf1", a 64-bit FNV-1a checksum of the rest,
 * the program's length and its key's (u32 each), the key (the cache file's name), the
 * program.  The checksum is no signature (whoever can write the user's files runs
 * anything as the user): it makes a truncated or damaged file, or another key's
 * program copied or renamed into place, one that is not loaded.  Encoded: malloc'd. */
void *sandbox_seccomp_file_encode (const void *bpf, size_t len, const char *key, size_t *out_len);

/* Read the program kept in dirfd/name: trusted only when dirfd is a directory and
 * name a regular file (not a symlink), both owned by the effective uid and writable by
 * nobody else, whose header, checksum and program hold, and (key not NULL) whose key is
 * key.  *bpf is malloc'd. */
int sandbox_seccomp_file_read (int dirfd, const char *name, const char *key, void **bpf,
                               size_t *len, nook_error_t *err);

/* The version of libseccomp in use, for cache keys ("2.5.4"). */
const char *sandbox_seccomp_lib_version (void);

#endif
