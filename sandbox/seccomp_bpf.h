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
 * struct sock_filter). */
int sandbox_seccomp_export (scmp_filter_ctx ctx, void **bpf, size_t *len, nook_error_t *err);

/* Is this a plausible program: non-empty, whole instructions, at most
 * BPF_MAXINSNS, ending in a return? */
bool sandbox_seccomp_bpf_valid (const void *bpf, size_t len);

/* Install the program in the calling thread (no_new_privs must be set). */
int sandbox_seccomp_load_bpf (const void *bpf, size_t len, nook_error_t *err);

/* The version of libseccomp in use, for cache keys ("2.5.4"). */
const char *sandbox_seccomp_lib_version (void);

#endif
