/* sandbox/credemu_files.c: the credential emulation's answers about files:
 * chown (records), the stat family (recorded owners), creations under an
 * emulated fsuid/fsgid.  See credemu.c for the rules they follow. */
#include "sandbox/credemu_internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/owner_record.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- paths ---- */

/* Is the target's root (rs, its stat) the init's?  Then the init resolves its
 * paths as it would: the same root, the same mounts (a mount namespace of its
 * own needs CAP_SYS_ADMIN).  A chrooted process gets the kernel's answers
 * instead. */
static bool
is_inits_root (const struct emu *e, const struct stat *rs)
{
  return rs->st_dev == e->root_dev && rs->st_ino == e->root_ino;
}

static bool
same_root (struct emu *e)
{
  char link[32];
  struct stat rs;
  snprintf (link, sizeof link, "%d/root", (int)e->req->pid);
  return fstatat (e->procfd, link, &rs, 0) == 0 && is_inits_root (e, &rs);
}

/* An O_PATH fd of the directory the target resolves path from: its root,
 * its cwd or its fd dirfd (through /proc/PID, once); or -errno. */
static int
target_base (struct emu *e, int dirfd, const char *path)
{
  char link[48];
  if (path[0] == '/')
    snprintf (link, sizeof link, "%d/root", (int)e->req->pid);
  else if (dirfd == AT_FDCWD)
    snprintf (link, sizeof link, "%d/cwd", (int)e->req->pid);
  else
    snprintf (link, sizeof link, "%d/fd/%d", (int)e->req->pid, dirfd);
  int fd = openat (e->procfd, link, O_PATH | O_CLOEXEC);
  return fd >= 0 ? fd : errno == ENOENT ? -EBADF : -errno;
}

/* openat2 below base, no magic link followed (/proc/self would be the
 * init's): >= 0, or -errno; -EXDEV for what the init cannot resolve. */
static int
open_in (int base, const char *path, int flags)
{
  struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS };
  int fd = (int)syscall (SYS_openat2, base, path, &how, sizeof how);
  if (fd < 0)
    return errno == ELOOP || errno == EXDEV || errno == EAGAIN ? -EXDEV : -errno;
  return fd;
}

/* An O_PATH fd of what the target names by (dirfd, path, flags), resolved as
 * the target would: >= 0, or -errno; -EXDEV when it cannot be resolved here
 * (the caller lets the kernel do the call instead). */
static int
resolve (struct emu *e, int dirfd, const char *path, bool follow, bool empty_ok)
{
  if (path[0] == '\0' && !empty_ok)
    return -ENOENT;
  /* (openat2 resolves an absolute path from the caller's root, whatever its
   * dirfd: here the init's, as it is below once /proc/PID/root matched) */
  if (path[0] == '/' && !e->roots_vary)
    return open_in (AT_FDCWD, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
  if (path[0] == '/')
    {
      /* the target's root, opened once: the base, and the same_root check (which
       * an unreadable root fails too) */
      cleanup_close int root = target_base (e, dirfd, path);
      struct stat rs;
      if (root < 0 || fstat (root, &rs) < 0 || !is_inits_root (e, &rs))
        return -EXDEV;
      return open_in (root, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
    }
  if (path[0] != '\0' && e->roots_vary && !same_root (e))
    return -EXDEV;
  cleanup_close int base = target_base (e, dirfd, path);
  if (base < 0 || path[0] == '\0')
    return take_fd (&base);
  return open_in (base, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
}

/* The path argument of a call into buf: 0, or an answer. */
static int
read_path (struct emu *e, uint64_t addr, char *buf, size_t size)
{
  int r = credemu_mem_read_str (e, addr, buf, size);
  if (!credemu_still_valid (e))
    return ANSWER_NONE;
  return r;
}

int
credemu_do_chown (struct emu *e, int nr, const uint64_t *a)
{
  char path[PATH_MAX];
  int dirfd = AT_FDCWD, r;
  uint32_t uid, gid;
  bool follow = true, empty_ok = false;
  path[0] = '\0';
  switch (nr)
    {
    case SYS_fchown:
      dirfd = (int)a[0], empty_ok = true;
      uid = (uint32_t)a[1], gid = (uint32_t)a[2];
      break;
    case SYS_fchownat:
      dirfd = (int)a[0];
      if ((r = read_path (e, a[1], path, sizeof path)) != 0)
        return r;
      uid = (uint32_t)a[2], gid = (uint32_t)a[3];
      follow = !(a[4] & AT_SYMLINK_NOFOLLOW);
      empty_ok = a[4] & AT_EMPTY_PATH;
      break;
    default: /* chown, lchown */
      if ((r = read_path (e, a[0], path, sizeof path)) != 0)
        return r;
      uid = (uint32_t)a[1], gid = (uint32_t)a[2];
      follow = nr == SYS_chown;
    }
  cleanup_close int fd = resolve (e, dirfd, path, follow, empty_ok);
  if (fd < 0)
    return fd == -EXDEV ? ANSWER_CONTINUE : fd;
  struct stat st;
  if (fstat (fd, &st) < 0)
    return -errno;
  struct owner_record rec;
  int has = owner_record_get_fd (fd, &rec);
  uid_t cur_uid = has == 1 ? rec.uid : st.st_uid;
  gid_t cur_gid = has == 1 ? rec.gid : st.st_gid;
  const struct credemu_creds *c = credemu_creds_of (e, (pid_t)e->req->pid, false);
  /* The kernel's rule for the emulated ids, and the container's real power:
   * only files of its one id are its to chown. */
  if (!credemu_chown_ok (c, cur_uid, cur_gid, uid, gid) || st.st_uid != 0)
    return -EPERM;
  uid_t nu = uid == (uint32_t)-1 ? cur_uid : uid;
  gid_t ng = gid == (uint32_t)-1 ? cur_gid : gid;
  if (S_ISLNK (st.st_mode))
    return 0; /* symlinks carry no user xattrs: their owner is not kept */
  if (nu == st.st_uid && ng == st.st_gid && !(has == 1 && rec.has_mode))
    r = owner_record_clear_fd (fd);
  else
    r = owner_record_set_fd (fd, nu, ng);
  if (r < 0)
    return errno == EPERM || errno == ENOTSUP ? 0 : -errno;
  /* chown clears set-user-ID (and set-group-ID with group execute) of files */
  if (!S_ISDIR (st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)))
    {
      mode_t m = st.st_mode & 07777 & ~(mode_t)S_ISUID;
      if (st.st_mode & S_IXGRP)
        m &= ~(mode_t)S_ISGID;
      char p[40];
      snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
      (void)chmod (p, m);
    }
  return 0;
}

/* The path is read without read_path's validity check: a stat acts on nothing,
 * and the one write of an answer (credemu_mem_write) checks first that the
 * notification is still valid: then its target, blocked in the call all along,
 * held its pid, and every /proc/PID lookup before was the target's.  (Most stats
 * find no record and are answered CONTINUE: the kernel makes the call; one
 * ioctl less a stat.) */
int
credemu_do_stat (struct emu *e, int nr, const uint64_t *a)
{
  char path[PATH_MAX];
  int dirfd = AT_FDCWD, flags = 0, r;
  uint64_t buf;
  path[0] = '\0';
  switch (nr)
    {
    case SYS_fstat:
      dirfd = (int)a[0], flags = AT_EMPTY_PATH, buf = a[1];
      break;
    case SYS_stat:
    case SYS_lstat:
      if ((r = credemu_mem_read_str (e, a[0], path, sizeof path)) != 0)
        return r == -ENAMETOOLONG || r == -EFAULT ? ANSWER_CONTINUE : r;
      flags = nr == SYS_lstat ? AT_SYMLINK_NOFOLLOW : 0, buf = a[1];
      break;
    default: /* newfstatat, statx */
      if ((r = credemu_mem_read_str (e, a[1], path, sizeof path)) != 0)
        return r == -ENAMETOOLONG || r == -EFAULT ? ANSWER_CONTINUE : r;
      dirfd = (int)a[0], flags = (int)a[nr == SYS_statx ? 2 : 3];
      buf = nr == SYS_statx ? a[4] : a[2];
    }
  cleanup_close int fd
      = resolve (e, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) != 0);
  struct owner_record rec;
  if (fd < 0 || owner_record_get_fd (fd, &rec) != 1)
    return ANSWER_CONTINUE;
  if (nr == SYS_statx)
    {
      struct statx sx;
      if (statx (fd, "", AT_EMPTY_PATH | (flags & AT_STATX_SYNC_TYPE), (unsigned)a[3], &sx) < 0)
        return ANSWER_CONTINUE;
      sx.stx_uid = rec.uid;
      sx.stx_gid = rec.gid;
      r = credemu_mem_write (e, buf, &sx, sizeof sx);
    }
  else
    {
      struct stat st;
      if (fstatat (fd, "", &st, AT_EMPTY_PATH) < 0)
        return ANSWER_CONTINUE;
      st.st_uid = rec.uid;
      st.st_gid = rec.gid;
      r = credemu_mem_write (e, buf, &st, sizeof st);
    }
  return r > 0 ? ANSWER_NONE : r;
}

/* The target's umask (/proc/PID/status), 022 when unknown. */
static mode_t
proc_umask (struct emu *e)
{
  char path[32], buf[1024];
  snprintf (path, sizeof path, "%d/status", (int)e->req->pid);
  int fd = openat (e->procfd, path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0)
    close (fd);
  if (n <= 0)
    return 022;
  buf[n] = '\0';
  const char *u = strstr (buf, "\nUmask:");
  return u ? (mode_t)(strtoul (u + 7, NULL, 8) & 0777) : 022;
}

/* A file or directory created by a process whose emulated fsuid or fsgid is
 * not root's: the handler creates it (as the container's root, the only id
 * there is) and records fsuid:fsgid (the directory's group when it is
 * set-group-ID).  Root's creations go on in the kernel. */
int
credemu_do_create (struct emu *e, int nr, const uint64_t *a)
{
  const struct credemu_creds *c = credemu_creds_of (e, (pid_t)e->req->pid, false);
  if (c->fsuid == 0 && c->fsgid == 0)
    return ANSWER_CONTINUE;
  uid_t fsuid = c->fsuid;
  gid_t fsgid = c->fsgid;
  int dirfd = AT_FDCWD, flags = O_CREAT | O_WRONLY | O_TRUNC, r;
  uint64_t pa = a[0];
  mode_t mode = (mode_t)a[1];
  bool dir = nr == SYS_mkdir || nr == SYS_mkdirat;
  if (nr == SYS_open)
    flags = (int)a[1], mode = (mode_t)a[2];
  else if (nr == SYS_openat)
    dirfd = (int)a[0], pa = a[1], flags = (int)a[2], mode = (mode_t)a[3];
  else if (nr == SYS_mkdirat)
    dirfd = (int)a[0], pa = a[1], mode = (mode_t)a[2];
  char path[PATH_MAX];
  if ((r = read_path (e, pa, path, sizeof path)) != 0)
    return r == -ENAMETOOLONG || r == -EFAULT ? ANSWER_CONTINUE : r;
  cleanup_close int base = -1, parent = -1, fd = -1;
  if (e->roots_vary && !same_root (e))
    return ANSWER_CONTINUE;
  char *slash = strrchr (path, '/');
  const char *name = slash ? slash + 1 : path;
  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return ANSWER_CONTINUE;
  /* (an absolute path has a slash, and is resolved from the root whatever the base) */
  if ((path[0] != '/' || e->roots_vary) && (base = target_base (e, dirfd, path)) < 0)
    return base;
  if (slash)
    {
      *slash = '\0';
      parent = open_in (base >= 0 ? base : AT_FDCWD, path[0] ? path : "/", O_PATH | O_DIRECTORY);
      if (parent < 0)
        return parent == -EXDEV ? ANSWER_CONTINUE : parent;
    }
  else
    parent = take_fd (&base);
  struct stat ps;
  struct owner_record prec;
  if (fstat (parent, &ps) == 0 && (ps.st_mode & S_ISGID))
    fsgid = owner_record_get_fd (parent, &prec) == 1 ? prec.gid : ps.st_gid;
  mode &= ~proc_umask (e) & 07777;
  if (dir)
    {
      if (mkdirat (parent, name, mode) < 0)
        return -errno;
      fd = openat (parent, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    }
  else
    {
      fd = openat (parent, name, (flags | O_EXCL | O_CLOEXEC) & ~O_NOCTTY, mode);
      if (fd < 0)
        return errno == EEXIST && !(flags & O_EXCL) ? ANSWER_CONTINUE : -errno;
    }
  if (fd < 0 || owner_record_set_fd (fd, fsuid, fsgid) < 0)
    log_debug ("credemu: owner of a new file not recorded: %s", strerror (errno));
  if (dir)
    return 0;
  struct seccomp_notif_addfd add = { .id = e->req->id,
                                     .flags = SECCOMP_ADDFD_FLAG_SEND,
                                     .srcfd = (uint32_t)fd,
                                     .newfd_flags = (uint32_t)(flags & O_CLOEXEC) };
  if (ioctl (e->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0)
    return errno == ENOENT ? ANSWER_NONE : -errno;
  return ANSWER_NONE; /* answered: the call returned the new fd */
}
