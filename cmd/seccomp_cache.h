/* cmd/seccomp_cache.h: the container's seccomp program, compiled once per
 * (profile, capability set, kernel, libseccomp) and kept in the store's
 * cache/seccomp/ as BPF, so `nook run` loads it without libseccomp's work. */
#ifndef NOOK_CMD_SECCOMP_CACHE_H
#define NOOK_CMD_SECCOMP_CACHE_H

#include "sandbox/spec.h"
#include "util/error.h"

/* Fill spec->seccomp_bpf/len for `profile` (a JSON file, or NULL for Docker's
 * default) and spec->caps; nothing when spec->seccomp_unconfined. */
int seccomp_cache_program (const char *store_root, const char *profile, struct nook_spec *spec,
                           nook_error_t *err);

/* The same; *cache_path (may be NULL) gets the cache file the program is (or
 * should be) kept in, for a container to link to. */
int seccomp_cache_program_path (const char *store_root, const char *profile, struct nook_spec *spec,
                                char **cache_path, nook_error_t *err);

#endif
