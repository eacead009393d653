/* sandbox/credemu.c: see credemu.h.
 *
 * The handler runs in the container's init: in the container's user, PID and
 * mount namespaces, as root of the namespace (the capabilities the container's
 * root has at most, and no host privilege).  So notification PIDs are /proc
 * entries of its own procfs, ids read from the kernel are the container's,
 * and what it does to a file (read or write the owner record) the container's
 * root could do itself.  Rules against TOCTOU:
 * - every read of the target's memory is followed by
 *   SECCOMP_IOCTL_NOTIF_ID_VALID before it is trusted (the PID may be reused once
 *   the target dies; a valid id means it was alive all along);
 * - writes go through an fd of /proc/PID/mem opened, then checked valid;
 * - paths are resolved only for a target whose root is the init's (same
 *   root, same mounts: so the init resolves them as the target would), from
 *   the init's root, /proc/PID/cwd or /proc/PID/fd/N with openat2
 *   RESOLVE_NO_MAGICLINKS (/proc/self would be the init's); the target's root
 *   is looked at first unless no process can have another (roots_vary).  What cannot be
 *   resolved that way (a chrooted process, /proc/self/...) falls back to the
 *   kernel's own call (CONTINUE), which then shows real owners: never more
 *   than the container may see or do. */
#include "sandbox/credemu.h"
#include "sandbox/credemu_creds.h"
#include "sandbox/credemu_internal.h"
#include "sandbox/internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/owner_record.h"
#include "util/settle.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the program ---- */

static const char *const notified[] = {
  "setuid",   "setgid",    "setreuid",  "setregid",  "setresuid", "setresgid",
  "setfsuid", "setfsgid",  "setgroups", "getuid",    "getgid",    "geteuid",
  "getegid",  "getresuid", "getresgid", "getgroups", "chown",     "fchown",
  "lchown",   "fchownat",  "stat",      "fstat",     "lstat",     "newfstatat",
  "statx",    "creat",     "mkdir",     "mkdirat",   "chroot",
};

int
sandbox_credemu_rule_add (scmp_filter_ctx ctx, const char *name, int nr)
{
  /* Files created under an emulated fsuid/fsgid are made by the handler:
   * open and openat only with O_CREAT (the others go on unnotified). */
  int flags_arg = strcmp (name, "open") == 0 ? 1 : strcmp (name, "openat") == 0 ? 2 : -1;
  if (flags_arg >= 0)
    {
      struct scmp_arg_cmp creat = {
        .arg = (unsigned)flags_arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = O_CREAT, .datum_b = O_CREAT
      };
      struct scmp_arg_cmp plain = {
        .arg = (unsigned)flags_arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = O_CREAT, .datum_b = 0
      };
      int r = seccomp_rule_add_array (ctx, SCMP_ACT_NOTIFY, nr, 1, &creat);
      if (r == 0)
        r = seccomp_rule_add_array (ctx, SCMP_ACT_ALLOW, nr, 1, &plain);
      return r < 0 ? r : 1;
    }
  for (size_t i = 0; i < ARRAY_SIZE (notified); i++)
    if (strcmp (name, notified[i]) == 0)
      {
        int r = seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, nr, 0);
        return r < 0 ? r : 1;
      }
  return 0;
}

static bool
is_notify_ret (const struct sock_filter *f)
{
  return BPF_CLASS (f->code) == BPF_RET && BPF_RVAL (f->code) == BPF_K
         && (f->k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF;
}

bool
sandbox_credemu_bpf_notifies (const void *bpf, size_t len)
{
  const struct sock_filter *f = bpf;
  for (size_t i = 0; bpf && i < len / sizeof *f; i++)
    if (is_notify_ret (&f[i]))
      return true;
  return false;
}

void *
sandbox_credemu_bpf_strip (const void *bpf, size_t len)
{
  struct sock_filter *f = xmalloc (len);
  memcpy (f, bpf, len);
  for (size_t i = 0; i < len / sizeof *f; i++)
    if (is_notify_ret (&f[i]))
      f[i].k = SECCOMP_RET_ALLOW;
  return f;
}

/* The notify-only program stacked on Docker's profile (see credemu.h): the
 * native x86_64 numbers of `notified` and open/openat with O_CREAT, found by a
 * binary search (the kernel runs a program for each number at its load, to
 * cache the calls it always allows: a chain of comparisons took 46 us of a
 * run, the search 25), and chroot of every architecture (the init must learn
 * of every root that is not its own: see roots_vary in credemu_internal.h).  The profile
 * allows each of them unconditionally or not at all (chroot without
 * CAP_SYS_CHROOT; test_credemu checks it), so the pair answers as the profile
 * compiled with SANDBOX_SECCOMP_CREDEMU: where the profile denies, its ERRNO
 * wins over USER_NOTIF (the kernel takes the most restrictive of stacked
 * filters). */
static const int notified_nr[] = {
  SYS_setuid,   SYS_setgid,    SYS_setreuid,  SYS_setregid,  SYS_setresuid, SYS_setresgid,
  SYS_setfsuid, SYS_setfsgid,  SYS_setgroups, SYS_getuid,    SYS_getgid,    SYS_geteuid,
  SYS_getegid,  SYS_getresuid, SYS_getresgid, SYS_getgroups, SYS_chown,     SYS_fchown,
  SYS_lchown,   SYS_fchownat,  SYS_stat,      SYS_fstat,     SYS_lstat,     SYS_newfstatat,
  SYS_statx,    SYS_creat,     SYS_mkdir,     SYS_mkdirat,   SYS_chroot,
};
_Static_assert(ARRAY_SIZE (notified_nr) == ARRAY_SIZE (notified), "one number per name");

#define X32_BIT 0x40000000u
#define I386_NR_CHROOT 61u /* (x32's chroot is X32_BIT | SYS_chroot) */
#define ARG_LO(i) ((uint32_t)offsetof (struct seccomp_data, args[i])) /* little endian */

/* The native numbers, cut where what they get changes: segment k is the numbers
 * from lo[k] to lo[k + 1] - 1 (the last one up to X32_BIT - 1), each with its
 * action block (below). */
enum
{
  SEG_ALLOW,
  SEG_NOTIFY,
  SEG_OPEN,   /* open: notified with O_CREAT in args[1] */
  SEG_OPENAT, /* openat: in args[2] */
};
#define SEG_MAX (2 * (ARRAY_SIZE (notified_nr) + 2) + 1) /* (open and openat too) */
#define NR_LIMIT 512                                     /* above every number of notified_nr */
_Static_assert(4 + (SEG_MAX - 1) + 10 <= SANDBOX_CREDEMU_NOTIFY_MAX, "room for the program");

static size_t
notify_segments (uint32_t *lo, uint8_t *kind)
{
  uint8_t k[NR_LIMIT] = { 0 }; /* SEG_ALLOW */
  for (size_t i = 0; i < ARRAY_SIZE (notified_nr); i++)
    {
      if ((unsigned)notified_nr[i] >= NR_LIMIT)
        abort (); /* (NR_LIMIT must be raised with the list) */
      k[notified_nr[i]] = SEG_NOTIFY;
    }
  k[SYS_open] = SEG_OPEN;
  k[SYS_openat] = SEG_OPENAT;
  size_t n = 0;
  for (uint32_t nr = 0; nr < NR_LIMIT; nr++)
    if (nr == 0 || k[nr] != k[nr - 1])
      lo[n] = nr, kind[n++] = k[nr];
  return n;
}

/* The binary search over segments [a, b) (b - a >= 2), its first node at *i:
 * nodes in preorder, each a JGE on the first number of its upper half, a half of
 * one segment reached as that segment's block (block[kind]). */
static void
emit_search (struct sock_filter *out, size_t *i, const uint32_t *lo, const uint8_t *kind, size_t a,
             size_t b, const size_t *block)
{
  size_t m = (a + b) / 2, at = *i;
  size_t below = m - a, above = b - m; /* segments in each half */
  size_t jf = below == 1 ? block[kind[a]] : at + 1;
  size_t jt = above == 1 ? block[kind[m]] : at + 1 + (below - 1);
  out[at] = (struct sock_filter)BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, lo[m], (uint8_t)(jt - at - 1),
                                          (uint8_t)(jf - at - 1));
  (*i)++;
  if (below > 1)
    emit_search (out, i, lo, kind, a, m, block);
  if (above > 1)
    emit_search (out, i, lo, kind, m, b, block);
}

size_t
sandbox_credemu_notify_bpf (struct sock_filter *out)
{
  uint32_t lo[SEG_MAX];
  uint8_t kind[SEG_MAX];
  size_t n = notify_segments (lo, kind);
  /* The layout: arch and nr, the search (n - 1 nodes), then the blocks. */
  const size_t search = 4, open = search + n - 1, openat = open + 2, x32 = openat + 2,
               i386 = x32 + 1, allow = i386 + 3, notify = allow + 1;
  const size_t block[]
      = { [SEG_ALLOW] = allow, [SEG_NOTIFY] = notify, [SEG_OPEN] = open, [SEG_OPENAT] = openat };
  size_t i = 0;
#define AT(target) ((uint8_t)((target)-i - 1))
#define STMT(code, k) (out[i++] = (struct sock_filter)BPF_STMT (code, k))
#define JUMP(code, k, jt, jf)                                                                      \
  do                                                                                               \
    {                                                                                              \
      out[i] = (struct sock_filter)BPF_JUMP (code, k, jt, jf);                                     \
      i++;                                                                                         \
    }                                                                                              \
  while (0)
  STMT (BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof (struct seccomp_data, arch));
  JUMP (BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, AT (i386));
  STMT (BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof (struct seccomp_data, nr));
  JUMP (BPF_JMP | BPF_JGE | BPF_K, X32_BIT, AT (x32), 0);
  emit_search (out, &i, lo, kind, 0, n, block);
  STMT (BPF_LD | BPF_W | BPF_ABS, ARG_LO (1)); /* open */
  JUMP (BPF_JMP | BPF_JSET | BPF_K, O_CREAT, AT (notify), AT (allow));
  STMT (BPF_LD | BPF_W | BPF_ABS, ARG_LO (2)); /* openat */
  JUMP (BPF_JMP | BPF_JSET | BPF_K, O_CREAT, AT (notify), AT (allow));
  JUMP (BPF_JMP | BPF_JEQ | BPF_K, X32_BIT | SYS_chroot, AT (notify), AT (allow));
  JUMP (BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, AT (allow));
  STMT (BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof (struct seccomp_data, nr));
  JUMP (BPF_JMP | BPF_JEQ | BPF_K, I386_NR_CHROOT, AT (notify), AT (allow));
  STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  STMT (BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
#undef JUMP
#undef STMT
#undef AT
  return i;
}

bool
sandbox_credemu_notify_stackable (const struct nook_spec *spec)
{
  return spec->seccomp_default && sandbox_credemu_active (spec);
}

int
sandbox_credemu_load_notify (int sock, nook_error_t *err)
{
  struct sock_filter f[SANDBOX_CREDEMU_NOTIFY_MAX];
  size_t n = sandbox_credemu_notify_bpf (f);
  return sandbox_credemu_load (f, n * sizeof *f, sock, err);
}

bool
sandbox_credemu_active (const struct nook_spec *spec)
{
  return spec->ids.single && !spec->seccomp_unconfined
         && sandbox_credemu_bpf_notifies (spec->seccomp_bpf, spec->seccomp_bpf_len);
}

bool
credemu_roots_fixed (const struct nook_spec *spec)
{
  return spec->seccomp_default && !(spec->caps & (UINT64_C (1) << CAP_SYS_ADMIN));
}

int
sandbox_credemu_load (const void *bpf, size_t len, int sock, nook_error_t *err)
{
  struct sock_fprog prog = { .len = (unsigned short)(len / sizeof (struct sock_filter)),
                             .filter = (struct sock_filter *)bpf };
  int fd = (int)syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                         &prog);
  if (fd < 0)
    return nook_error_set (err, errno, "load the seccomp filter (with a listener)");
  int r = fd_send (sock, fd);
  close (fd);
  if (r < 0)
    return nook_error_set (err, errno, "hand the seccomp listener to the init");
  return 0;
}

int
sandbox_credemu_open_proc (nook_error_t *err)
{
  int fd = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  struct statfs sf;
  if (fd < 0)
    return nook_error_set (err, errno, "open /proc for the credential emulation");
  if (fstatfs (fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
    {
      close (fd);
      return nook_error_set (err, EINVAL, "/proc of the container is not procfs");
    }
  return fd;
}

/* ---- processes ---- */

static void
proc_drop (struct emu *e, size_t i)
{
  close (e->procs[i].pidfd);
  credemu_creds_free (&e->procs[i].c);
  e->procs[i] = e->procs[--e->n];
}

static bool
pidfd_alive (int pidfd)
{
  struct pollfd p = { .fd = pidfd, .events = POLLIN };
  return poll (&p, 1, 0) == 0;
}

/* The live entry of thread group pid, or NULL. */
static struct proc *
proc_find (struct emu *e, pid_t pid)
{
  for (size_t i = 0; i < e->n; i++)
    if (e->procs[i].pid == pid)
      {
        if (pidfd_alive (e->procs[i].pidfd))
          return &e->procs[i];
        proc_drop (e, i);
        return NULL;
      }
  return NULL;
}

/* Tgid and PPid of pid from /proc/PID/status: 0, or -1. */
static int
proc_status (struct emu *e, pid_t pid, pid_t *tgid, pid_t *ppid)
{
  char path[32], buf[1024];
  snprintf (path, sizeof path, "%d/status", (int)pid);
  int fd = openat (e->procfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  const char *t = strstr (buf, "\nTgid:"), *p = strstr (buf, "\nPPid:");
  if (t == NULL || p == NULL)
    return -1;
  *tgid = (pid_t)strtol (t + 6, NULL, 10);
  *ppid = (pid_t)strtol (p + 6, NULL, 10);
  return 0;
}

/* The credentials of the process that made the call.  Processes are known
 * once they changed an id; a process inherits those of its nearest known
 * ancestor (fork copies credentials), found through /proc's PPid links when
 * it first asks.  Threads share their process's (glibc makes every thread
 * repeat a set*id call; each repetition is a no-op here).  With create, the
 * process gets an entry of its own, which it may change. */
struct credemu_creds *
credemu_creds_of (struct emu *e, pid_t tid, bool create)
{
  if (e->n == 0 && !create)
    return &e->root;
  struct proc *p = proc_find (e, tid);
  if (p)
    return &p->c;
  pid_t tgid = tid, ppid = 0;
  if (proc_status (e, tid, &tgid, &ppid) < 0)
    return create ? NULL : &e->root;
  if (tgid != tid && (p = proc_find (e, tgid)) != NULL)
    return &p->c;
  if (tgid != tid && proc_status (e, tgid, &tgid, &ppid) < 0)
    return create ? NULL : &e->root;
  ssize_t from = -1; /* an index: the table may move below */
  for (int depth = 0; ppid > 1 && depth < 64; depth++)
    {
      struct proc *a = proc_find (e, ppid);
      if (a)
        {
          from = a - e->procs;
          break;
        }
      pid_t t, pp;
      if (proc_status (e, ppid, &t, &pp) < 0)
        break;
      ppid = pp;
    }
  if (!create)
    return from < 0 ? &e->root : &e->procs[from].c;
  int pidfd = (int)syscall (SYS_pidfd_open, tgid, 0);
  if (pidfd < 0)
    return NULL;
  for (size_t i = 0; e->n == e->cap && i < e->n;) /* sweep the dead before growing */
    if (!pidfd_alive (e->procs[i].pidfd) && (ssize_t)i != from)
      {
        if ((ssize_t)e->n - 1 == from)
          from = (ssize_t)i; /* proc_drop moves the last entry here */
        proc_drop (e, i);
      }
    else
      i++;
  if (e->n == e->cap)
    {
      e->cap = e->cap ? 2 * e->cap : 16;
      e->procs = xrealloc (e->procs, e->cap * sizeof *e->procs);
    }
  p = &e->procs[e->n++];
  p->pid = tgid;
  p->pidfd = pidfd;
  credemu_creds_copy (&p->c, from < 0 ? &e->root : &e->procs[from].c);
  return &p->c;
}

/* ---- the target's memory ---- */

bool
credemu_still_valid (struct emu *e)
{
  uint64_t id = e->req->id;
  return ioctl (e->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Read len bytes at addr of the target: 0, or -errno. */
static int
mem_read (struct emu *e, uint64_t addr, void *buf, size_t len)
{
  struct iovec local = { .iov_base = buf, .iov_len = len };
  struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
  ssize_t n = process_vm_readv (e->req->pid, &local, 1, &remote, 1, 0);
  if (n != (ssize_t)len)
    return n < 0 && errno != EFAULT ? -ESRCH : -EFAULT;
  return 0;
}

/* A NUL-terminated string of at most size-1 bytes, read a page at a time
 * (the string may end just before an unmapped page): 0, or -errno. */
int
credemu_mem_read_str (struct emu *e, uint64_t addr, char *buf, size_t size)
{
  size_t got = 0;
  long page = sysconf (_SC_PAGESIZE);
  while (got < size)
    {
      uint64_t at = addr + got;
      size_t chunk = (size_t)page - (size_t)(at % (uint64_t)page);
      if (chunk > size - got)
        chunk = size - got;
      int r = mem_read (e, at, buf + got, chunk);
      if (r < 0)
        return r;
      if (memchr (buf + got, '\0', chunk))
        return 0;
      got += chunk;
    }
  return -ENAMETOOLONG;
}

/* Write into the target, through its /proc/PID/mem checked to be the
 * target's: 0, -errno, or 1 when the target is gone. */
int
credemu_mem_write (struct emu *e, uint64_t addr, const void *buf, size_t len)
{
  char path[32];
  snprintf (path, sizeof path, "%d/mem", (int)e->req->pid);
  cleanup_close int fd = openat (e->procfd, path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return 1;
  if (!credemu_still_valid (e))
    return 1;
  if (pwrite (fd, buf, len, (off_t)addr) != (ssize_t)len)
    return -EFAULT;
  return 0;
}

/* ---- answers ---- */

/* The target's view of the process's ids after the call. */
static int
do_creds (struct emu *e, int nr, const uint64_t *a, int64_t *val)
{
  struct credemu_creds *c;
  uint32_t x = (uint32_t)a[0], y = (uint32_t)a[1], z = (uint32_t)a[2];
  switch (nr)
    {
    case SYS_getuid:
      *val = credemu_creds_of (e, (pid_t)e->req->pid, false)->ruid;
      return 0;
    case SYS_geteuid:
      *val = credemu_creds_of (e, (pid_t)e->req->pid, false)->euid;
      return 0;
    case SYS_getgid:
      *val = credemu_creds_of (e, (pid_t)e->req->pid, false)->rgid;
      return 0;
    case SYS_getegid:
      *val = credemu_creds_of (e, (pid_t)e->req->pid, false)->egid;
      return 0;
    case SYS_getresuid:
    case SYS_getresgid:
      {
        c = credemu_creds_of (e, (pid_t)e->req->pid, false);
        uint32_t v[3] = { c->ruid, c->euid, c->suid };
        if (nr == SYS_getresgid)
          v[0] = c->rgid, v[1] = c->egid, v[2] = c->sgid;
        for (int i = 0; i < 3; i++)
          {
            int r = credemu_mem_write (e, a[i], &v[i], sizeof v[i]);
            if (r != 0)
              return r > 0 ? ANSWER_NONE : r;
          }
        return 0;
      }
    case SYS_getgroups:
      {
        c = credemu_creds_of (e, (pid_t)e->req->pid, false);
        int size = (int)a[0];
        if (size < 0)
          return -EINVAL;
        *val = (int64_t)c->n_groups;
        if (size == 0 || c->n_groups == 0)
          return 0;
        if ((size_t)size < c->n_groups)
          return -EINVAL;
        int r = credemu_mem_write (e, a[1], c->groups, c->n_groups * sizeof *c->groups);
        return r > 0 ? ANSWER_NONE : r;
      }
    case SYS_setgroups:
      {
        int size = (int)a[0];
        if (size < 0 || size > CREDEMU_NGROUPS_MAX)
          return -EINVAL;
        cleanup_free gid_t *g = size ? xmalloc ((size_t)size * sizeof *g) : NULL;
        if (size && mem_read (e, a[1], g, (size_t)size * sizeof *g) < 0)
          return credemu_still_valid (e) ? -EFAULT : ANSWER_NONE;
        if (!credemu_still_valid (e))
          return ANSWER_NONE;
        c = credemu_creds_of (e, (pid_t)e->req->pid, true);
        return c ? credemu_setgroups (c, g, (size_t)size) : ANSWER_NONE;
      }
    }
  c = credemu_creds_of (e, (pid_t)e->req->pid, true);
  if (c == NULL)
    return ANSWER_NONE;
  switch (nr)
    {
    case SYS_setuid:
      return credemu_setuid (c, x);
    case SYS_setgid:
      return credemu_setgid (c, x);
    case SYS_setreuid:
      return credemu_setreuid (c, x, y);
    case SYS_setregid:
      return credemu_setregid (c, x, y);
    case SYS_setresuid:
      return credemu_setresuid (c, x, y, z);
    case SYS_setresgid:
      return credemu_setresgid (c, x, y, z);
    case SYS_setfsuid:
      *val = credemu_setfsuid (c, x);
      return 0;
    case SYS_setfsgid:
      *val = credemu_setfsgid (c, x);
      return 0;
    }
  return ANSWER_CONTINUE;
}

/* A chroot of any architecture: from now on a process's root may not be the
 * init's, and each path is resolved only after a look at its caller's root. */
static bool
is_chroot (const struct seccomp_data *d)
{
  if (d->arch == AUDIT_ARCH_I386)
    return d->nr == (int)I386_NR_CHROOT;
  return d->arch == AUDIT_ARCH_X86_64 && (d->nr & ~(int)X32_BIT) == SYS_chroot;
}

static int
answer (struct emu *e, int64_t *val)
{
  const struct seccomp_data *d = &e->req->data;
  const uint64_t *a = (const uint64_t *)d->args;
  if (is_chroot (d))
    {
      e->roots_vary = true;
      return ANSWER_CONTINUE; /* (the kernel's own call, with its checks) */
    }
  if (d->arch != AUDIT_ARCH_X86_64)
    return ANSWER_CONTINUE; /* x86 and x32 calls: the kernel's answer */
  switch (d->nr)
    {
    case SYS_chown:
    case SYS_fchown:
    case SYS_lchown:
    case SYS_fchownat:
      return credemu_do_chown (e, d->nr, a);
    case SYS_stat:
    case SYS_fstat:
    case SYS_lstat:
    case SYS_newfstatat:
    case SYS_statx:
      return credemu_do_stat (e, d->nr, a);
    case SYS_open:
    case SYS_openat:
    case SYS_creat:
    case SYS_mkdir:
    case SYS_mkdirat:
      return credemu_do_create (e, d->nr, a);
    default:
      return do_creds (e, d->nr, a, val);
    }
}

/* Answer one notification; the pid of its caller (0 when there was none). */
static pid_t
handle_one (struct emu *e)
{
  memset (e->req, 0, sizeof *e->req);
  if (ioctl (e->listener, SECCOMP_IOCTL_NOTIF_RECV, e->req) != 0)
    return 0; /* the target died meanwhile (or a signal interrupted it) */
  int64_t val = 0;
  int r = answer (e, &val);
  if (r == ANSWER_NONE)
    return (pid_t)e->req->pid;
  memset (e->resp, 0, sizeof *e->resp);
  e->resp->id = e->req->id;
  if (r == ANSWER_CONTINUE)
    e->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else if (r < 0)
    e->resp->error = r;
  else
    e->resp->val = val;
  (void)ioctl (e->listener, SECCOMP_IOCTL_NOTIF_SEND, e->resp);
  return (pid_t)e->req->pid;
}

/* ---- the init's loop ---- */

/* What the handler does to files, it does with the container's capabilities
 * (the init holds all of the namespace's): its effective set becomes the
 * container's, plus CAP_SYS_PTRACE, which only opens the memory of the
 * container's processes to it (non-dumpable ones too).  (capget/capset directly:
 * libcap's way took a prctl per capability, while the command's first notified
 * call waited for the init.) */
static void
limit_caps (uint64_t caps)
{
  struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct d[2];
  if (syscall (SYS_capget, &h, d) < 0)
    return;
  caps |= UINT64_C (1) << CAP_SYS_PTRACE;
  uint64_t perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
  uint64_t eff = perm & caps;
  d[0].effective = (uint32_t)eff;
  d[1].effective = (uint32_t)(eff >> 32);
  if (syscall (SYS_capset, &h, d) < 0)
    log_debug ("credemu: the init's capabilities not limited: %s", strerror (errno));
}

/* The notification and response buffers, of the kernel's sizes (what
 * seccomp_notify_alloc does, without libseccomp's probe of the kernel's API: eight
 * system calls the command's first notified call waited for). */
static int
notif_alloc (struct seccomp_notif **req, struct seccomp_notif_resp **resp)
{
  struct seccomp_notif_sizes sz;
  if (syscall (SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
    return -1;
  *req = calloc (1, sz.seccomp_notif > sizeof **req ? sz.seccomp_notif : sizeof **req);
  *resp = calloc (1, sz.seccomp_notif_resp > sizeof **resp ? sz.seccomp_notif_resp : sizeof **resp);
  if (*req == NULL || *resp == NULL)
    {
      free (*req);
      free (*resp);
      return -1;
    }
  return 0;
}

/* Linux 6.6's synchronous wake-ups: the notifying command wakes the init on its own CPU
 * and the answer wakes the command on the init's, a switch between the two rather than
 * a wake-up sent to another CPU.  A command's notified calls one after the other (a
 * getuid, the stats of `ls -l`, dpkg's chowns) take 2.6 us each instead of 11-22 us.
 * But with several processes notifying at once (a server's children) the switches pull
 * them all onto the init's CPU: 10% fewer requests/s.  So the flag is on while calls
 * come from one process at a time, off from the moment a call of another process is
 * found waiting when one is answered (the same process's next call may well be: it ran
 * on at once), and on again after CREDEMU_QUIET_RUN answers without that.  Older kernels
 * refuse the ioctl: then nothing changes. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW (4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

void
credemu_wake_set (struct credemu_wake *w, int listener, bool sync)
{
  if (!w->can || w->sync == sync)
    return;
  if (ioctl (listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
             sync ? SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP : 0UL)
      < 0)
    {
      log_debug ("credemu: no synchronous wake-ups: %s", strerror (errno));
      w->can = false;
      return;
    }
  w->sync = sync;
}

void
credemu_wake_adapt (struct credemu_wake *w, int listener, pid_t caller, bool waiting)
{
  bool other = waiting && caller != w->last;
  w->last = caller;
  if (other)
    {
      w->quiet = 0;
      credemu_wake_set (w, listener, false);
    }
  else if (++w->quiet >= CREDEMU_QUIET_RUN)
    credemu_wake_set (w, listener, true);
}

int
sandbox_credemu_supervise (const struct nook_spec *spec, int listener, int procfd, pid_t child,
                           int smaps_fd)
{
  struct emu e = { .listener = listener, .procfd = procfd };
  struct stat rs;
  if (stat ("/", &rs) == 0)
    e.root_dev = rs.st_dev, e.root_ino = rs.st_ino;
  e.roots_vary = !credemu_roots_fixed (spec);
  credemu_creds_init (&e.root, spec->groups, spec->n_groups, spec->caps);
  umask (0); /* files made for the target get its umask (proc_umask) */
  limit_caps (spec->caps);
  struct credemu_wake wake = { .can = true };
  if (notif_alloc (&e.req, &e.resp) != 0)
    listener = -1;
  else
    credemu_wake_set (&wake, listener, true);

  sigset_t all;
  sigfillset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  int sfd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0)
    return sandbox_supervise (child, smaps_fd); /* (nobody answers: notified calls wait) */
  bool answered = false, reap = true;
  struct settle_quiet quiet = SETTLE_QUIET_INIT (smaps_fd);
  for (;;)
    {
      /* after a SIGCHLD only (signalfd has it): not a wait4 per answer */
      int st;
      pid_t p = 0;
      while (reap && (p = waitpid (-1, &st, WNOHANG)) > 0)
        if (p == child)
          return st;
      if (reap && p < 0 && errno == ECHILD)
        return -1;
      reap = false;

      struct pollfd pf[2]
          = { { .fd = sfd, .events = POLLIN }, { .fd = listener, .events = POLLIN } };
      /* (after an answer, a look first: was a call already waiting?) */
      /* (quiet for a second: what start-up left mapped is given back, once a
       * quiet spell) */
      int n = poll (pf, listener >= 0 ? 2 : 1, answered ? 0 : settle_quiet_timeout (&quiet, -1));
      bool waiting = answered && n > 0 && (pf[1].revents & POLLIN);
      if (answered && n == 0)
        n = poll (pf, listener >= 0 ? 2 : 1, settle_quiet_timeout (&quiet, -1));
      answered = false;
      settle_quiet_after (&quiet, n);
      if (n <= 0)
        continue;
      if (pf[0].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == sizeof si)
            if (si.ssi_signo == SIGCHLD)
              reap = true;
            else
              kill (child, (int)si.ssi_signo);
        }
      if (listener >= 0 && (pf[1].revents & POLLIN))
        {
          pid_t caller = handle_one (&e);
          if (caller > 0)
            credemu_wake_adapt (&wake, listener, caller, waiting);
          answered = true;
        }
      else if (listener >= 0 && (pf[1].revents & (POLLHUP | POLLERR)))
        listener = -1; /* no process uses the filter any more */
    }
}
