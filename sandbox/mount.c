/* sandbox/mount.c: see mount.h. */
#include "sandbox/mount.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The union of moby's list (oci/defaults.go) and containers/common's (which adds
 * /sys/dev/block and /sys/fs/selinux): files get /dev/null, directories an empty
 * read-only tmpfs.  /proc/kallsyms, /proc/kmsg and /proc/config.gz stay as both leave
 * them. */
const char *const sandbox_masked_paths[] = {
  "/proc/asound",
  "/proc/acpi",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
  "/sys/dev/block",  /* containers/common */
  "/sys/fs/selinux", /* containers/common */
  NULL,
};

const char *const sandbox_readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static void
add (struct mount_plan *p, enum mount_op_kind kind, const char *source, const char *target,
     const char *fstype, unsigned long flags, const char *data, bool dir)
{
  p->ops = xreallocarray (p->ops, p->n + 1, sizeof *p->ops);
  p->ops[p->n++] = (struct mount_op){
    .kind = kind,
    .source = source ? xstrdup (source) : NULL,
    .target = xstrdup (target),
    .fstype = fstype ? xstrdup (fstype) : NULL,
    .data = data ? xstrdup (data) : NULL,
    .flags = flags,
    .dir = dir,
  };
}

int
sandbox_tmpfs_options (const char *opts, unsigned long *flags, char **data, nook_error_t *err)
{
  static const char *const valued[]
      = { "size=", "mode=", "uid=", "gid=", "nr_inodes=", "nr_blocks=" };
  struct strbuf b = { 0 };
  unsigned long f = MS_NOSUID | MS_NODEV;
  cleanup_free char *copy = xstrdup (opts ? opts : "");
  char *save = NULL;
  for (char *o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",", &save))
    {
      bool ok = false;
      for (size_t i = 0; i < ARRAY_SIZE (valued) && !ok; i++)
        if (str_has_prefix (o, valued[i]))
          {
            const char *v = o + strlen (valued[i]);
            ok = *v != '\0' && strspn (v, "0123456789kmgKMG%") == strlen (v);
          }
      if (ok)
        {
          if (b.len)
            strbuf_appendc (&b, ',');
          strbuf_append (&b, o);
          continue;
        }
      if (strcmp (o, "noexec") == 0)
        f |= MS_NOEXEC;
      else if (strcmp (o, "exec") == 0)
        f &= ~(unsigned long)MS_NOEXEC;
      else if (strcmp (o, "nosuid") == 0)
        f |= MS_NOSUID;
      else if (strcmp (o, "suid") == 0)
        f &= ~(unsigned long)MS_NOSUID;
      else if (strcmp (o, "nodev") == 0)
        f |= MS_NODEV;
      else if (strcmp (o, "dev") == 0)
        f &= ~(unsigned long)MS_NODEV;
      else if (strcmp (o, "ro") == 0)
        f |= MS_RDONLY;
      else if (strcmp (o, "rw") == 0)
        f &= ~(unsigned long)MS_RDONLY;
      else
        {
          strbuf_free (&b);
          return nook_error_set (err, 0, "invalid tmpfs option '%s'", o);
        }
    }
  *flags = f;
  *data = strbuf_steal (&b);
  return 0;
}

/* runc's rule (checkProcMount): /proc itself and what is under it stay the kernel's,
 * except the files lxcfs replaces. */
static bool
proc_target_allowed (const char *t)
{
  static const char *const lxcfs[] = { "/proc/cpuinfo", "/proc/diskstats",
                                       "/proc/meminfo", "/proc/stat",
                                       "/proc/swaps",   "/proc/uptime",
                                       "/proc/loadavg", "/proc/slabinfo",
                                       "/proc/net/dev", "/proc/sys/kernel/ns_last_pid" };
  size_t n = strlen (t);
  while (n > 1 && t[n - 1] == '/')
    n--;
  if (strncmp (t, "/proc", 5) != 0 || (n > 5 && t[5] != '/'))
    return true;
  for (size_t i = 0; i < ARRAY_SIZE (lxcfs); i++)
    if (strlen (lxcfs[i]) == n && strncmp (t, lxcfs[i], n) == 0)
      return true;
  return false;
}

static bool
under_sys (const char *t)
{
  return strncmp (t, "/sys", 4) == 0 && (t[4] == '\0' || t[4] == '/');
}

/* /sys can be mounted after the rest: no sysctl to write (net.* ones need the
 * container's network namespace, joined before /sys) and no mount of the user's
 * under /sys. */
static bool
sys_last_ok (const struct nook_spec *spec)
{
  if (spec->sysctls && spec->sysctls[0])
    return false;
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (under_sys (spec->mounts[i].target) || strcmp (spec->mounts[i].target, "/") == 0)
      return false;
  return true;
}

static void
add_sys (struct mount_plan *p, const struct nook_spec *spec)
{
  /* sysfs needs privilege over the network namespace's owner: another
   * container's (NETWORK_JOIN) belongs to the parent user namespace, so
   * that one gets /sys bound read-only, as podman does then */
  if (spec->network == NETWORK_HOST || spec->network == NETWORK_JOIN)
    add (p, MOP_BIND, "/sys", "/sys", NULL, MS_REC | MS_RDONLY, NULL, true);
  else
    add (p, MOP_MOUNT, "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL,
         true);
}

int
sandbox_mount_plan_build (const struct nook_spec *spec, bool gid5_mapped, struct mount_plan *p,
                          nook_error_t *err)
{
  static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
  memset (p, 0, sizeof *p);
  const unsigned long nse = MS_NOSUID | MS_NODEV | MS_NOEXEC;

  add (p, MOP_MOUNT, "proc", "/proc", "proc", nse, NULL, true);
  add (p, MOP_MOUNT, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
       true);
  for (size_t i = 0; i < ARRAY_SIZE (devices); i++)
    {
      cleanup_free char *src = xasprintf ("/dev/%s", devices[i]);
      add (p, MOP_BIND_DEV, src, src, NULL, 0, NULL, false);
    }
  add (p, MOP_MOUNT, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
       gid5_mapped ? "newinstance,ptmxmode=0666,mode=0620,gid=5"
                   : "newinstance,ptmxmode=0666,mode=0620",
       true);
  add (p, MOP_SYMLINK, "pts/ptmx", "/dev/ptmx", NULL, 0, NULL, false);
  add (p, MOP_SYMLINK, "/proc/self/fd", "/dev/fd", NULL, 0, NULL, false);
  add (p, MOP_SYMLINK, "/proc/self/fd/0", "/dev/stdin", NULL, 0, NULL, false);
  add (p, MOP_SYMLINK, "/proc/self/fd/1", "/dev/stdout", NULL, 0, NULL, false);
  add (p, MOP_SYMLINK, "/proc/self/fd/2", "/dev/stderr", NULL, 0, NULL, false);
  add (p, MOP_SYMLINK, "/proc/kcore", "/dev/core", NULL, 0, NULL, false);
  add (p, MOP_MOUNT, "shm", "/dev/shm", "tmpfs", nse, "mode=1777,size=65536k", true);
  add (p, MOP_MOUNT, "mqueue", "/dev/mqueue", "mqueue", nse, NULL, true);
  /* /sys (and its masks) last when nothing else depends on it: the child joins the
   * network namespace the command makes (sandbox/child.c, early_join_netns) right
   * before /sys, so the mounts done first overlap that namespace's creation, the
   * longest step of the start-up. */
  bool sys_last = sys_last_ok (spec);
  if (!sys_last)
    add_sys (p, spec);

  /* (container_dir/etc is a tmpfs the child fills: see sandbox_etc_files) */
  static const char *const etc[] = { "hosts", "resolv.conf", "hostname" };
  for (size_t i = 0; i < ARRAY_SIZE (etc); i++)
    {
      cleanup_free char *src = xasprintf ("%s/etc/%s", spec->container_dir, etc[i]);
      cleanup_free char *dst = xasprintf ("/etc/%s", etc[i]);
      add (p, MOP_BIND, src, dst, NULL, 0, NULL, false);
    }

  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const struct nook_mount *m = &spec->mounts[i];
      if (m->target[0] != '/')
        return nook_error_set (err, EINVAL, "mount target '%s' is not an absolute path", m->target);
      if (!proc_target_allowed (m->target))
        return nook_error_set (err, 0,
                               "mount target '%s': nothing may be mounted over /proc but the files "
                               "lxcfs provides (/proc/cpuinfo, /proc/meminfo, ...), as runc rules",
                               m->target);
      if (m->kind == MOUNT_TMPFS)
        {
          unsigned long f = 0;
          cleanup_free char *data = NULL;
          if (sandbox_tmpfs_options (m->options, &f, &data, err) < 0)
            return -1;
          if (m->readonly)
            f |= MS_RDONLY;
          add (p, MOP_MOUNT, "tmpfs", m->target, "tmpfs", f, *data ? data : NULL, true);
        }
      else if (m->kind == MOUNT_COPY)
        {
          cleanup_free char *src = xasprintf ("%s/etc/copy-%zu", spec->container_dir, i);
          add (p, MOP_BIND, src, m->target, NULL, MS_RDONLY, NULL, false);
        }
      else
        {
          struct stat st;
          if (stat (m->source, &st) < 0)
            return nook_error_set (err, errno, "bind source path '%s'", m->source);
          add (p, MOP_BIND, m->source, m->target, NULL, MS_REC | (m->readonly ? MS_RDONLY : 0),
               NULL, S_ISDIR (st.st_mode));
        }
    }
  /* (after /sys: the child is in the container's network namespace by then; before
   * /proc/sys is made read-only) */
  for (char **sc = spec->sysctls; sc && *sc; sc++)
    {
      const char *eq = strchr (*sc, '=');
      if (eq == NULL || eq == *sc)
        return nook_error_set (err, EINVAL, "sysctl '%s': want NAME=VALUE", *sc);
      cleanup_free char *name = xstrndup (*sc, (size_t)(eq - *sc));
      if (strchr (name, '/') == NULL)
        for (char *c = name; *c; c++)
          if (*c == '.')
            *c = '/';
      cleanup_free char *target = xasprintf ("/proc/sys/%s", name);
      cleanup_free char *given = xstrndup (*sc, (size_t)(eq - *sc));
      add (p, MOP_SYSCTL, given, target, NULL, 0, eq + 1, false);
    }
  for (size_t i = 0; !spec->unmasked && sandbox_masked_paths[i]; i++)
    if (!sys_last || !under_sys (sandbox_masked_paths[i]))
      add (p, MOP_MASK, NULL, sandbox_masked_paths[i], NULL, 0, NULL, false);
  for (size_t i = 0; !spec->unmasked && sandbox_readonly_paths[i]; i++)
    add (p, MOP_READONLY, NULL, sandbox_readonly_paths[i], NULL, 0, NULL, false);
  if (sys_last)
    {
      add_sys (p, spec);
      for (size_t i = 0; !spec->unmasked && sandbox_masked_paths[i]; i++)
        if (under_sys (sandbox_masked_paths[i]))
          add (p, MOP_MASK, NULL, sandbox_masked_paths[i], NULL, 0, NULL, false);
    }
  return 0;
}

void
sandbox_mount_plan_free (struct mount_plan *p)
{
  for (size_t i = 0; i < p->n; i++)
    {
      free (p->ops[i].source);
      free (p->ops[i].target);
      free (p->ops[i].fstype);
      free (p->ops[i].data);
    }
  free (p->ops);
  p->ops = NULL;
  p->n = 0;
}

/* ---- binds between fds ----
 *
 * mount(2) takes paths: a bind between two fds went through /proc/self/fd/N twice (two
 * walks of procfs per bind, ~a quarter of the plan's mount cost here).  open_tree(2)
 * clones the mount at an fd (what MS_BIND does; AT_RECURSIVE for MS_REC) and
 * move_mount(2) attaches it on another fd, with no path walked (Linux 5.2; before it,
 * mount(2) through /proc/self/fd). */

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

static bool no_fd_mounts; /* the kernel lacks open_tree/move_mount/mount_setattr */

/* A detached copy of the mount at fd (recursive: with its submounts), or -1. */
static int
tree_clone (int fd, bool recursive)
{
  return (int)syscall (SYS_open_tree, fd, "",
                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH
                           | (recursive ? AT_RECURSIVE : 0));
}

/* Attach the detached tree on dst; the tree fd is closed. */
static int
tree_attach (int tree, int dst)
{
  int r = (int)syscall (SYS_move_mount, tree, "", dst, "",
                        MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int e = errno;
  close (tree);
  errno = e;
  return r;
}

/* MS_BIND (| MS_REC when recursive) of src on dst. */
static int
bind_fds (int src, int dst, bool recursive)
{
  if (!no_fd_mounts)
    {
      int tree = tree_clone (src, recursive);
      if (tree >= 0)
        return tree_attach (tree, dst);
      if (errno != ENOSYS)
        return -1;
      no_fd_mounts = true;
    }
  char sp[32], dp[32];
  fs_fd_path (src, sp);
  fs_fd_path (dst, dp);
  return mount (sp, dp, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL);
}

int
sandbox_mount_make_readonly (int fd, nook_error_t *err)
{
  char path[32];
  fs_fd_path (fd, path);
  struct statvfs sv;
  if (fstatvfs (fd, &sv) < 0)
    return nook_error_set (err, errno, "statvfs");
  unsigned long f = MS_REMOUNT | MS_BIND | MS_RDONLY;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  if (mount (NULL, path, NULL, f, NULL) < 0)
    return nook_error_set (err, errno, "remount read-only");
  return 0;
}

/* mount_setattr(2) MOUNT_ATTR_RDONLY on the mount at fd and every mount below. */
static int
readonly_recursive (int fd)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  return (int)syscall (SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
}

/* What the plan's operations reuse. */
struct mask_state
{
  int null;     /* /dev/null, checked once */
  int emptydir; /* the first masked directory's empty read-only tmpfs */
  int dev;      /* the plan's own tmpfs on /dev, while the /dev entries are made */
};

/* An entry right under /dev while the plan fills its fresh tmpfs there: made with
 * plain *at calls on that tmpfs (nothing of the image's is in it, so there is
 * nothing to resolve in the root).  NULL when not such an entry. */
static const char *
dev_entry (const struct mask_state *ms, const char *target)
{
  if (ms->dev < 0 || strncmp (target, "/dev/", 5) != 0)
    return NULL;
  const char *leaf = target + 5;
  if (*leaf == '\0' || strchr (leaf, '/') || strcmp (leaf, ".") == 0 || strcmp (leaf, "..") == 0)
    return NULL;
  return leaf;
}

/* After a mount on a target fd, the fd still names the covered inode: reopen. */
static int
reopen (int rootfd, const char *target, nook_error_t *err)
{
  int fd = fs_open_in_root (rootfd, target, O_PATH, 0);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s' after mounting", target);
  return fd;
}

static int
apply_bind (const struct mount_op *op, int rootfd, const struct mask_state *ms, nook_error_t *err)
{
  cleanup_close int src = open (op->source, O_PATH | O_CLOEXEC);
  if (src < 0)
    return nook_error_set (err, errno, "open bind source '%s'", op->source);
  struct stat st;
  if (fstat (src, &st) < 0)
    return nook_error_set (err, errno, "stat '%s'", op->source);
  if (op->kind == MOP_BIND_DEV && !S_ISCHR (st.st_mode))
    return nook_error_set (err, EINVAL, "'%s' is not a character device", op->source);
  const char *leaf = op->kind == MOP_BIND_DEV ? dev_entry (ms, op->target) : NULL;
  cleanup_close int dst
      = leaf ? openat (ms->dev, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)
             : fs_mount_target_in_root (rootfd, op->target, S_ISDIR (st.st_mode), err);
  if (dst < 0)
    return leaf ? nook_error_set (err, errno, "create mount target '%s'", op->target) : -1;
  if (bind_fds (src, dst, (op->flags & MS_REC) != 0) < 0)
    return nook_error_set (err, errno, "bind '%s' on '%s'", op->source, op->target);
  if (op->flags & MS_RDONLY)
    {
      cleanup_close int m = reopen (rootfd, op->target, err);
      if (m < 0)
        return nook_error_wrap (err, "'%s'", op->target);
      /* A recursive bind is read-only all the way down (submounts too). */
      if ((op->flags & MS_REC) && readonly_recursive (m) == 0)
        return 0;
      if (sandbox_mount_make_readonly (m, err) < 0)
        return nook_error_wrap (err, "'%s'", op->target);
    }
  return 0;
}

static int
apply_mask (const struct mount_op *op, int rootfd, struct mask_state *ms, nook_error_t *err)
{
  cleanup_close int fd = fs_open_in_root (rootfd, op->target, O_PATH | O_NOFOLLOW, 0);
  if (fd < 0)
    return 0; /* nothing to hide */
  struct stat st;
  if (fstat (fd, &st) < 0)
    return nook_error_set (err, errno, "stat '%s'", op->target);
  if (S_ISDIR (st.st_mode))
    {
      /* One empty tmpfs, its superblock read-only, bound on every masked
       * directory after the first (a bind costs less than a new tmpfs). */
      if (ms->emptydir >= 0)
        {
          if (bind_fds (ms->emptydir, fd, false) < 0)
            return nook_error_set (err, errno, "mask '%s'", op->target);
          return 0;
        }
      char dp[32];
      fs_fd_path (fd, dp);
      if (mount ("tmpfs", dp, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
        return nook_error_set (err, errno, "mask '%s'", op->target);
      ms->emptydir = fs_open_in_root (rootfd, op->target, O_PATH | O_NOFOLLOW | O_DIRECTORY, 0);
      return 0;
    }
  if (ms->null < 0)
    {
      cleanup_close int null = open ("/dev/null", O_PATH | O_CLOEXEC);
      struct stat ns;
      if (null < 0 || fstat (null, &ns) < 0 || !S_ISCHR (ns.st_mode)
          || ns.st_rdev != makedev (1, 3))
        return nook_error_set (err, EINVAL, "/dev/null is not the null device");
      ms->null = take_fd (&null);
    }
  if (bind_fds (ms->null, fd, false) < 0)
    return nook_error_set (err, errno, "mask '%s'", op->target);
  return 0;
}

static int
apply_readonly (const struct mount_op *op, int rootfd, nook_error_t *err)
{
  cleanup_close int fd = fs_open_in_root (rootfd, op->target, O_PATH | O_NOFOLLOW, 0);
  if (fd < 0)
    return 0;
  /* A recursive copy of its mount, made read-only (only RDONLY changes, as the remount
   * below keeps the other flags) while detached, then attached on itself: no path walked
   * and no reopen (which the remount needs). */
  if (!no_fd_mounts)
    {
      int tree = tree_clone (fd, true);
      struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
      if (tree >= 0
          && syscall (SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0)
        {
          if (tree_attach (tree, fd) < 0)
            return nook_error_set (err, errno, "bind '%s' on itself", op->target);
          return 0;
        }
      if (tree >= 0)
        close (tree);
      if (errno != ENOSYS)
        return nook_error_set (err, errno, "bind '%s' read-only on itself", op->target);
      no_fd_mounts = true;
    }
  char dp[32];
  fs_fd_path (fd, dp);
  if (mount (dp, dp, NULL, MS_BIND | MS_REC, NULL) < 0)
    return nook_error_set (err, errno, "bind '%s' on itself", op->target);
  cleanup_close int m = reopen (rootfd, op->target, err);
  if (m < 0 || sandbox_mount_make_readonly (m, err) < 0)
    return nook_error_wrap (err, "'%s'", op->target);
  return 0;
}

/* Write a sysctl in the container's /proc/sys (in its namespaces). */
static int
apply_sysctl (const struct mount_op *op, int rootfd, nook_error_t *err)
{
  const char *name = op->source;
  cleanup_close int fd = fs_open_in_root (rootfd, op->target, O_WRONLY | O_NOFOLLOW, 0);
  if (fd < 0)
    return nook_error_set (err, errno, "sysctl '%s': open '%s'", name, op->target);
  if (fs_write_all (fd, op->data, strlen (op->data)) < 0)
    return nook_error_set (err, errno, "sysctl '%s': write '%s'", name, op->data);
  return 0;
}

static int
apply_one (const struct mount_op *op, int rootfd, struct mask_state *ms, nook_error_t *err)
{
  switch (op->kind)
    {
    case MOP_MOUNT:
      {
        const char *leaf = dev_entry (ms, op->target);
        if (leaf && mkdirat (ms->dev, leaf, 0755) < 0 && errno != EEXIST)
          return nook_error_set (err, errno, "mkdir '%s'", op->target);
        cleanup_close int dst
            = leaf ? openat (ms->dev, leaf, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                   : fs_mount_target_in_root (rootfd, op->target, true, err);
        if (dst < 0)
          return leaf ? nook_error_set (err, errno, "open '%s'", op->target) : -1;
        char dp[32];
        fs_fd_path (dst, dp);
        if (mount (op->source, dp, op->fstype, op->flags, op->data) < 0)
          return nook_error_set (err, errno, "mount %s on '%s'", op->fstype, op->target);
        /* the plan's own /dev: its entries come next */
        if (strcmp (op->target, "/dev") == 0 && strcmp (op->fstype, "tmpfs") == 0 && ms->dev < 0)
          ms->dev = fs_open_in_root (rootfd, "/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
        return 0;
      }
    case MOP_BIND:
    case MOP_BIND_DEV:
      return apply_bind (op, rootfd, ms, err);
    case MOP_SYMLINK:
      {
        const char *leaf = dev_entry (ms, op->target);
        if (leaf)
          {
            if (symlinkat (op->source, ms->dev, leaf) < 0 && errno != EEXIST)
              return nook_error_set (err, errno, "symlink '%s'", op->target);
            return 0;
          }
        cleanup_free char *copy = xstrdup (op->target);
        char *slash = strrchr (copy, '/');
        *slash = '\0';
        cleanup_close int dir = fs_mkdir_p_in_root (rootfd, *copy ? copy : "/", 0755, err);
        if (dir < 0)
          return -1;
        if (symlinkat (op->source, dir, slash + 1) < 0 && errno != EEXIST)
          return nook_error_set (err, errno, "symlink '%s'", op->target);
        return 0;
      }
    case MOP_MASK:
      return apply_mask (op, rootfd, ms, err);
    case MOP_READONLY:
      return apply_readonly (op, rootfd, err);
    case MOP_SYSCTL:
      return apply_sysctl (op, rootfd, err);
    }
  return nook_error_set (err, EINVAL, "unknown mount operation");
}

int
sandbox_etc_files (const struct nook_spec *spec, nook_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/etc", spec->container_dir);
  /* the copies' contents read now, before the tmpfs is sized for them */
  size_t total = 0;
  cleanup_free char **copies = xzalloc ((spec->n_mounts + 1) * sizeof *copies);
  cleanup_free size_t *lens = xzalloc ((spec->n_mounts + 1) * sizeof *lens);
  const char *files[][2] = {
    { "hosts", spec->etc_hosts },
    { "resolv.conf", spec->etc_resolv },
    { "hostname", spec->etc_hostname },
  };
  int rc = -1;
  cleanup_free char *opts = NULL;
  cleanup_close int dfd = -1;
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (spec->mounts[i].kind == MOUNT_COPY)
      {
        if (fs_read_file_at (AT_FDCWD, spec->mounts[i].source, 16 << 20, &copies[i], &lens[i], err)
            < 0)
          {
            nook_error_wrap (err, "copy of '%s' for '%s'", spec->mounts[i].source,
                             spec->mounts[i].target);
            goto out;
          }
        total += lens[i] + 4096;
      }
  opts = xasprintf ("size=%zuk,mode=0755", 256 + total / 1024);
  if (mount ("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
    {
      nook_error_set (err, errno, "mount tmpfs on '%s'", dir);
      goto out;
    }
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    {
      nook_error_set (err, errno, "open '%s'", dir);
      goto out;
    }
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      const char *text = files[i][1] ? files[i][1] : "";
      cleanup_close int fd
          = openat (dfd, files[i][0], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0 || fs_write_all (fd, text, strlen (text)) < 0)
        {
          nook_error_set (err, errno, "write '%s/%s'", dir, files[i][0]);
          goto out;
        }
    }
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const struct nook_mount *m = &spec->mounts[i];
      if (m->kind != MOUNT_COPY)
        continue;
      unsigned uid = 0, gid = 0, mode = 0444;
      if (m->options && sscanf (m->options, "uid=%u,gid=%u,mode=%o", &uid, &gid, &mode) != 3)
        {
          nook_error_set (err, EINVAL, "copy of '%s': bad options '%s'", m->source, m->options);
          goto out;
        }
      char name[32];
      snprintf (name, sizeof name, "copy-%zu", i);
      cleanup_close int fd
          = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 || fs_write_all (fd, copies[i], lens[i]) < 0)
        {
          nook_error_set (err, errno, "copy '%s' into '%s/%s'", m->source, dir, name);
          goto out;
        }
      if (fchown (fd, (uid_t)uid, (gid_t)gid) < 0)
        {
          nook_error_set (err, errno, "copy of '%s' for '%s': owner %u:%u", m->source, m->target,
                          uid, gid);
          goto out;
        }
      if (fchmod (fd, (mode_t)(mode & 07777)) < 0)
        {
          nook_error_set (err, errno, "copy of '%s': mode %o", m->source, mode);
          goto out;
        }
    }
  rc = 0;
out:
  for (size_t i = 0; i < spec->n_mounts; i++)
    free (copies[i]);
  return rc;
}

int
sandbox_mount_plan_apply (const struct mount_plan *plan, int rootfd, nook_error_t *err)
{
  return sandbox_mount_plan_apply_hooked (plan, rootfd, NULL, NULL, err);
}

int
sandbox_mount_plan_apply_hooked (const struct mount_plan *plan, int rootfd,
                                 int (*before_sys) (void *arg, nook_error_t *err), void *arg,
                                 nook_error_t *err)
{
  struct mask_state ms = { .null = -1, .emptydir = -1, .dev = -1 };
  int rc = 0;
  for (size_t i = 0; i < plan->n && rc == 0; i++)
    {
      const char *t = plan->ops[i].target;
      if (before_sys && strncmp (t, "/sys", 4) == 0 && (t[4] == '\0' || t[4] == '/'))
        {
          rc = before_sys (arg, err);
          before_sys = NULL;
          if (rc < 0)
            break;
        }
      /* /dev's own entries are contiguous after its tmpfs: the first operation
       * elsewhere ends them (and the user's mounts come later still) */
      if (ms.dev >= 0 && strncmp (plan->ops[i].target, "/dev/", 5) != 0)
        {
          close (ms.dev);
          ms.dev = -1;
        }
      rc = apply_one (&plan->ops[i], rootfd, &ms, err);
    }
  if (rc == 0 && before_sys)
    rc = before_sys (arg, err); /* (no /sys in the plan: still before it ends) */
  if (ms.null >= 0)
    close (ms.null);
  if (ms.emptydir >= 0)
    close (ms.emptydir);
  if (ms.dev >= 0)
    close (ms.dev);
  return rc;
}
