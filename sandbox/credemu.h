/* sandbox/credemu.h: credential emulation for single-id user namespaces,
 * through seccomp user notification (fakeroot's model, in the kernel's
 * notification instead of LD_PRELOAD).
 *
 * The container's seccomp program answers the credential, chown and stat
 * calls with SECCOMP_RET_USER_NOTIF instead of ALLOW (sandbox/seccomp.c, flag
 * SANDBOX_SECCOMP_CREDEMU); the command loads it with a listener and hands
 * the listener to the container's init, which answers from per-process
 * bookkeeping (sandbox/credemu_creds.h) and from owner records beside the
 * files (util/owner_record.h).  The model and its limits: ARCHITECTURE.md. */
#ifndef NOOK_SANDBOX_CREDEMU_H
#define NOOK_SANDBOX_CREDEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <linux/filter.h>
#include <seccomp.h>

#include "sandbox/spec.h"
#include "util/error.h"

/* A profile allows the system call `name` (number nr) unconditionally: add
 * the rules that notify it instead (all of it, or open/openat with O_CREAT).
 * 1 when added, 0 when the call is not one of those, or -errno. */
int sandbox_credemu_rule_add (scmp_filter_ctx ctx, const char *name, int nr);

/* Does this BPF program notify (hold a SECCOMP_RET_USER_NOTIF)? */
bool sandbox_credemu_bpf_notifies (const void *bpf, size_t len);

/* A copy of the program where every SECCOMP_RET_USER_NOTIF is
 * SECCOMP_RET_ALLOW (processes nobody answers for: `exec`). */
void *sandbox_credemu_bpf_strip (const void *bpf, size_t len);

/* Does this container run with emulation (single id map, a notifying program)? */
bool sandbox_credemu_active (const struct nook_spec *spec);

/* In the command, last before execve (no_new_privs set): load the program
 * with a listener and send the listener over sock. */
int sandbox_credemu_load (const void *bpf, size_t len, int sock, nook_error_t *err);

/* Two stacked filters instead of one (the default profile only, whose
 * program allows every notified call unconditionally): the profile without
 * its notifications (sandbox_credemu_bpf_strip), loaded early as for range
 * users, and this small notify-only program, loaded last with the listener.
 * The kernel runs both and takes the most restrictive answer, so a call the
 * profile denies stays denied and the emulated ones are notified. */
#define SANDBOX_CREDEMU_NOTIFY_MAX 80
size_t sandbox_credemu_notify_bpf (struct sock_filter *out); /* out: SANDBOX_CREDEMU_NOTIFY_MAX */
bool sandbox_credemu_notify_stackable (const struct nook_spec *spec);
int sandbox_credemu_load_notify (int sock, nook_error_t *err);

/* In the init, before the command starts: an O_PATH fd of its /proc (checked
 * to be procfs), or -1 with *err. */
int sandbox_credemu_open_proc (nook_error_t *err);

/* The init's wait (sandbox_supervise's, plus answering the listener): returns
 * the command's wait status, or -1 when there is no child left.  smaps_fd: as
 * sandbox_supervise's. */
int sandbox_credemu_supervise (const struct nook_spec *spec, int listener, int procfd, pid_t child,
                               int smaps_fd);

#endif
