/* sandbox/caps.h: capability sets (Docker's defaults and --cap-add/--cap-drop) and
 * applying them in the container child (libcap). */
#ifndef NOOK_SANDBOX_CAPS_H
#define NOOK_SANDBOX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* A capability set is a bit mask: bit N is capability N (CAP_CHOWN = 0, ...). */
#define SANDBOX_CAP_BIT(cap) (UINT64_C (1) << (cap))

/* Docker's 14 defaults: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID
 * SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE. */
uint64_t sandbox_caps_default (void);

/* Every capability the running kernel knows (0 .. /proc/sys/kernel/cap_last_cap). */
uint64_t sandbox_caps_all (void);

/* The highest capability number the running kernel knows. */
int sandbox_caps_last (void);

/* "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" -> CAP_NET_ADMIN; -1 with
 * "unknown capability 'X'" (EINVAL) otherwise.  Numbers and "ALL" are not names. */
int sandbox_caps_from_name (const char *name, int *cap, nook_error_t *err);

/* Docker's --cap-add/--cap-drop on *set (NULL-terminated lists, either may be NULL):
 * "ALL" in add: every cap but those dropped; "ALL" in drop: only those added;
 * otherwise (*set - drop) + add.  *set is unchanged on error (unknown name, or a
 * capability the running kernel does not support). */
int sandbox_caps_adjust (uint64_t *set, char *const *add, char *const *drop, nook_error_t *err);

/* "CAP_CHOWN,CAP_KILL,..." in ascending order ("" for the empty set); caller frees. */
char *sandbox_caps_format (uint64_t set);

/* In the container child, after setresuid/setresgid (with PR_SET_KEEPCAPS set before
 * them): raise effective from permitted, drop every bounding cap not in set, clear
 * ambient and inheritable; permitted = effective = set when as_root (container uid 0),
 * else empty (Docker for a non-root user: CapBnd = set, CapPrm = CapEff = 0). */
int sandbox_caps_apply (uint64_t set, bool as_root, nook_error_t *err);

#endif
