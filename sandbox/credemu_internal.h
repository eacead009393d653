/* sandbox/credemu_internal.h: what the credential emulation's two files
 * share (sandbox/credemu.c: the program, processes, memory, the loop;
 * sandbox/credemu_files.c: paths, chown, stat, creations). */
#ifndef NOOK_SANDBOX_CREDEMU_INTERNAL_H
#define NOOK_SANDBOX_CREDEMU_INTERNAL_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/credemu_creds.h"
#include "sandbox/spec.h"

struct proc
{
  pid_t pid; /* thread group */
  int pidfd;
  struct credemu_creds c;
};

struct emu
{
  int listener, procfd;
  dev_t root_dev;
  ino_t root_ino;
  /* May a caller's root be another than the init's?  Paths are resolved from
   * the init's root, or the caller's cwd or fd, without a look at the caller's
   * root while it cannot be (credemu_roots_fixed) and no chroot was notified
   * (one that failed too); otherwise only once /proc/PID/root is found to be
   * the init's. */
  bool roots_vary;
  struct credemu_creds root; /* every process until it changes its ids */
  struct proc *procs;
  size_t n, cap;
  struct seccomp_notif *req;
  struct seccomp_notif_resp *resp;
};

/* What a handler returns besides 0 (success, with *val) and -errno. */
enum
{
  ANSWER_CONTINUE = 1 << 20, /* let the kernel make the call */
  ANSWER_NONE,               /* the target is gone: no answer */
};

/* Can no process of the container have another root or mount namespace than
 * the init's, short of a chroot the program notifies?  Docker's profile without
 * CAP_SYS_ADMIN: it denies pivot_root, mount, unshare, setns and clone with new
 * namespaces (clone3 fails with ENOSYS). */
bool credemu_roots_fixed (const struct nook_spec *spec);

/* The credentials of the calling process (create: an entry of its own it may
 * change); NULL only with create, when the process is gone. */
struct credemu_creds *credemu_creds_of (struct emu *e, pid_t tid, bool create);
/* Is the notification being answered still pending (its target alive)? */
bool credemu_still_valid (struct emu *e);
/* A NUL-terminated string of the target: 0 or -errno. */
int credemu_mem_read_str (struct emu *e, uint64_t addr, char *buf, size_t size);
/* Write into the target: 0, -errno, or 1 when the target is gone. */
int credemu_mem_write (struct emu *e, uint64_t addr, const void *buf, size_t len);

/* The answers of credemu_files.c (nr: the native system call, a: its arguments). */
int credemu_do_chown (struct emu *e, int nr, const uint64_t *a);
int credemu_do_stat (struct emu *e, int nr, const uint64_t *a);
int credemu_do_create (struct emu *e, int nr, const uint64_t *a);

/* Synchronous wake-ups on the listener (credemu.c says when and why). */
#define CREDEMU_QUIET_RUN 64
struct credemu_wake
{
  bool can; /* the kernel has the flag */
  bool sync;
  unsigned quiet; /* answers in a row without another process's call waiting */
  pid_t last;     /* the caller answered last */
};
void credemu_wake_set (struct credemu_wake *w, int listener, bool sync);
/* After an answer to caller: was it waiting when the one before was answered? */
void credemu_wake_adapt (struct credemu_wake *w, int listener, pid_t caller, bool waiting);

#endif
