/* sandbox/seccomp.h: seccomp filters from Docker/OCI-style JSON profiles (libseccomp).
 *
 * Docker's default profile (moby profiles/seccomp/default.json) is embedded in the
 * binary and goes through the same JSON interpreter as a user's profile.  Filters are
 * built in the parent (so errors come before the container starts) and loaded in the
 * forked child just before execve. */
#ifndef NOOK_SANDBOX_SECCOMP_H
#define NOOK_SANDBOX_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

#include "util/error.h"

/* Largest profile file accepted. */
#define SANDBOX_SECCOMP_MAX_PROFILE (4u * 1024 * 1024)

/* Docker's default profile for the native architecture (plus x86 and x32 on x86_64),
 * given the container's capability set (bit N = capability N). */
int sandbox_seccomp_build_default (uint64_t caps, scmp_filter_ctx *out, nook_error_t *err);

/* The same from a Docker/OCI-style JSON profile file (--security-opt seccomp=FILE). */
int sandbox_seccomp_build_file (const char *path, uint64_t caps, scmp_filter_ctx *out,
                                nook_error_t *err);

/* The same from text in memory; name_for_errors names it in messages. */
int sandbox_seccomp_build_json (const char *text, size_t len, const char *name_for_errors,
                                uint64_t caps, scmp_filter_ctx *out, nook_error_t *err);

/* The same with flags: SANDBOX_SECCOMP_CREDEMU turns the unconditional ALLOW
 * of the calls sandbox/credemu.c answers into SECCOMP_RET_USER_NOTIF. */
#define SANDBOX_SECCOMP_CREDEMU 1u
int sandbox_seccomp_build_json_flags (const char *text, size_t len, const char *name_for_errors,
                                      uint64_t caps, unsigned flags, scmp_filter_ctx *out,
                                      nook_error_t *err);

/* Can this process make x32 system calls (x86_64 kernels built or booted
 * without x32 say ENOSYS)?  Filters built where it cannot leave x32 out. */
bool sandbox_seccomp_x32_usable (void);

/* The embedded default profile (NUL-terminated JSON) and its length. */
const char *sandbox_seccomp_default_json (size_t *len);

/* Load it in the child (the caller has set no_new_privs): seccomp_load(). */
int sandbox_seccomp_load (scmp_filter_ctx ctx, nook_error_t *err);

/* seccomp_release(*ctx) if set, and set it to NULL (usable as a cleanup function). */
void sandbox_seccomp_release (scmp_filter_ctx *ctx);

#endif
