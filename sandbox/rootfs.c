/* sandbox/rootfs.c: see rootfs.h.  Runs in the container child (inside the
 * user and mount namespaces) except for the pure helpers and the probe. */
#include "sandbox/rootfs.h"
#include "util/owner_record.h"
#include "sandbox/internal.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *const driver_names[] = {
  [STORAGE_NONE] = "none",
  [STORAGE_OVERLAY] = "overlay",
  [STORAGE_FUSE_OVERLAYFS] = "fuse-overlayfs",
  [STORAGE_COPY_UP] = "copy-up",
};

const char *
sandbox_storage_name (enum storage_driver d)
{
  return (unsigned)d < ARRAY_SIZE (driver_names) ? driver_names[d] : "unknown";
}

int
sandbox_storage_parse (const char *name, enum storage_driver *out, nook_error_t *err)
{
  for (size_t i = STORAGE_OVERLAY; i < ARRAY_SIZE (driver_names); i++)
    if (strcmp (name, driver_names[i]) == 0)
      {
        *out = (enum storage_driver)i;
        return 0;
      }
  if (strcmp (name, "vfs") == 0)
    {
      *out = STORAGE_COPY_UP;
      return 0;
    }
  return nook_error_set (err, 0, "invalid storage driver '%s' (overlay, fuse-overlayfs or copy-up)",
                         name);
}

char *
sandbox_overlay_options (const int *lower, size_t n_lower, int upper, int work)
{
  struct strbuf b = { 0 };
  strbuf_append (&b, "lowerdir=");
  for (size_t i = 0; i < n_lower; i++)
    strbuf_appendf (&b, "%s/proc/self/fd/%d", i ? ":" : "", lower[i]);
  strbuf_appendf (&b, ",upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d", upper, work);
  return strbuf_steal (&b);
}

int
sandbox_storage_check_path (enum storage_driver d, const char *path, nook_error_t *err)
{
  /* fuse-overlayfs resolves the directories it is given (even /proc/self/fd/N) to their
   * paths, then splits them on ':' and its options on ','. */
  if (d == STORAGE_FUSE_OVERLAYFS && strpbrk (path, ",:\\") != NULL)
    return nook_error_set (err, 0,
                           "fuse-overlayfs cannot use the store '%s': its path contains ',', ':' "
                           "or '\\' (use --storage-driver overlay or copy-up, or a store path "
                           "without them: --root, NOOK_ROOT)",
                           path);
  return 0;
}

bool
sandbox_storage_fuse_available (char **path)
{
  static const char *const candidates[]
      = { "/usr/bin/fuse-overlayfs", "/usr/local/bin/fuse-overlayfs", "/bin/fuse-overlayfs" };
  const char *found = NULL;
  for (size_t i = 0; i < ARRAY_SIZE (candidates) && !found; i++)
    if (access (candidates[i], X_OK) == 0)
      found = candidates[i];
  if (path)
    *path = found ? xstrdup (found) : NULL;
  if (!found)
    return false;
  int fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return false;
  close (fd);
  return true;
}

char *
sandbox_storage_fuse_problem (void)
{
  cleanup_free char *prog = NULL;
  if (sandbox_storage_fuse_available (&prog))
    return NULL;
  if (prog == NULL)
    return xstrdup ("fuse-overlayfs is not installed");
  struct stat st;
  if (stat ("/dev/fuse", &st) < 0)
    return xasprintf ("/dev/fuse: %s (is the fuse module loaded?)", strerror (errno));
  int fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  int e = fd < 0 ? errno : 0;
  if (fd >= 0)
    close (fd); /* usable now after all */
  gid_t groups[256];
  int n = getgroups (ARRAY_SIZE (groups), groups);
  bool member = st.st_gid == getegid ();
  for (int i = 0; i < n && !member; i++)
    member = groups[i] == st.st_gid;
  return xasprintf ("/dev/fuse (mode %04o, owner uid %u, group %u) cannot be opened for reading "
                    "and writing by uid %u, %sa member of group %u: %s",
                    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
                    (unsigned)getuid (), member ? "" : "not ", (unsigned)st.st_gid,
                    strerror (e ? e : EACCES));
}

/* ---- the stub layer ---- */

/* Mount points nook itself needs.  When the image lacks one, it comes from a
 * small top layer on the child's tmpfs, so nothing of nook's is ever written
 * to the container's upper dir (its own writes only, as `docker diff` shows). */
static const struct
{
  const char *path;
  bool dir;
} stubs[] = {
  { "proc", true },
  { "dev", true },
  { "sys", true },
  { "etc/hosts", false },
  { "etc/resolv.conf", false },
  { "etc/hostname", false },
};

/* The image's layers (bottom first, opened once) as the stubs are probed, and what
 * is known of the parent directory last asked about in each layer. */
struct probe
{
  const int *layerfds;
  size_t n;
  char *parent;        /* the parent the memo is for */
  signed char *nondir; /* per layer: -1 unknown, 1 the parent is something else than a
                        * directory there, 0 it is not */
  int stubparent;      /* the parent made in the stub directory, -1 */
};

/* Is `parent` something other than a directory in layer i? */
static bool
parent_nondir (struct probe *p, size_t i, const char *parent)
{
  if (p->parent == NULL || strcmp (p->parent, parent) != 0)
    {
      free (p->parent);
      p->parent = xstrdup (parent);
      memset (p->nondir, -1, p->n);
    }
  if (p->nondir[i] < 0)
    {
      cleanup_close int pfd = fs_open_in_root (p->layerfds[i], parent, O_PATH | O_NOFOLLOW, 0);
      struct stat st;
      p->nondir[i] = pfd >= 0 && fstat (pfd, &st) == 0 && !S_ISDIR (st.st_mode);
    }
  return p->nondir[i] == 1;
}

/* 1: the path exists in the image's layers; 0: absent (or whited out);
 * -1: something other than a directory stands where a stub would need one. */
static int
image_has (struct probe *p, const char *path, bool *parent_ok)
{
  *parent_ok = true;
  for (size_t i = p->n; i-- > 0;)
    {
      int root = p->layerfds[i];
      if (root < 0)
        continue;
      cleanup_close int fd = fs_open_in_root (root, path, O_PATH | O_NOFOLLOW, 0);
      struct stat st;
      if (fd >= 0 && fstat (fd, &st) == 0)
        return !(S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0));
      /* a parent in this layer that is no directory hides lower layers */
      const char *slash = strchr (path, '/');
      if (slash)
        {
          cleanup_free char *parent = xstrndup (path, (size_t)(slash - path));
          if (parent_nondir (p, i, parent))
            {
              *parent_ok = false;
              return 0;
            }
        }
    }
  return 0;
}

/* The stub stubs[i] in dfd, unless the image has it.  (dfd is the child's own new
 * directory: what is made in it needs no resolution in a root.) */
static int
make_stub (int dfd, struct probe *p, size_t i, bool *any, nook_error_t *err)
{
  bool parent_ok;
  if (image_has (p, stubs[i].path, &parent_ok) || !parent_ok)
    return 0;
  const char *slash = strrchr (stubs[i].path, '/');
  if (slash && p->stubparent < 0)
    {
      /* (one parent, etc/, for all the stubs that have one) */
      cleanup_free char *parent = xstrndup (stubs[i].path, (size_t)(slash - stubs[i].path));
      if (mkdirat (dfd, parent, 0755) < 0 && errno != EEXIST)
        return nook_error_set (err, errno, "stub '%s'", parent);
      p->stubparent = openat (dfd, parent, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (p->stubparent < 0)
        return nook_error_set (err, errno, "stub '%s'", parent);
    }
  const char *leaf = slash ? slash + 1 : stubs[i].path;
  int at = slash ? p->stubparent : dfd;
  int r = stubs[i].dir ? mkdirat (at, leaf, 0755) : mknodat (at, leaf, S_IFREG | 0644, 0);
  if (r < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "stub '%s'", stubs[i].path);
  *any = true;
  return 0;
}

/* Fill dir (on the child's tmpfs) with the stubs the image lacks; *any says
 * whether there were some.  Returns an fd of dir, or -1. */
static int
make_stubs (const char *dir, const int *layerfds, size_t n, bool *any, nook_error_t *err)
{
  *any = false;
  if (mkdir (dir, 0755) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "mkdir '%s'", dir);
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return nook_error_set (err, errno, "open '%s'", dir);
  cleanup_free signed char *nondir = xzalloc (n ? n : 1);
  struct probe p = { .layerfds = layerfds, .n = n, .nondir = nondir, .stubparent = -1 };
  int rc = 0;
  for (size_t i = 0; i < ARRAY_SIZE (stubs) && rc == 0; i++)
    rc = make_stub (dfd, &p, i, any, err);
  free (p.parent);
  if (p.stubparent >= 0)
    close (p.stubparent);
  return rc < 0 ? -1 : take_fd (&dfd);
}

/* The directories of an overlay mount, opened O_PATH|O_DIRECTORY: the lower ones (the
 * stub layer if the image needs one, then the image's top layer down to its bottom), then
 * upper, then work.  Named /proc/self/fd/N in the options, they keep the option string
 * short and free of the ',' ':' and '\' that overlay and fuse-overlayfs split on, whatever
 * the store's path. */
struct ovl_dirs
{
  int *fd;
  size_t n;
};

static void
ovl_dirs_close (struct ovl_dirs *d)
{
  for (size_t i = 0; i < d->n; i++)
    close (d->fd[i]);
  free (d->fd);
  d->fd = NULL;
  d->n = 0;
}

static void
ovl_dirs_push (struct ovl_dirs *d, int fd)
{
  d->fd = xreallocarray (d->fd, d->n + 1, sizeof *d->fd);
  d->fd[d->n++] = fd;
}

static int
ovl_dirs_add (struct ovl_dirs *d, const char *path, nook_error_t *err)
{
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", path);
  ovl_dirs_push (d, fd);
  return 0;
}

/* Open the directories and return the options naming them (NULL on failure: *d closed). */
static char *
ovl_dirs_open (const struct nook_spec *spec, const char *upper, const char *work,
               struct ovl_dirs *d, nook_error_t *err)
{
  memset (d, 0, sizeof *d);
  size_t n = strv_len (spec->layers);
  if (n == 0)
    {
      nook_error_set (err, EINVAL, "an image needs at least one layer");
      return NULL;
    }
  /* Each layer opened once, for the stubs and then for the mount. */
  cleanup_free int *layerfds = xreallocarray (NULL, n, sizeof *layerfds);
  for (size_t i = 0; i < n; i++)
    layerfds[i] = open (spec->layers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *stub = xasprintf ("%s/etc/stub", spec->container_dir);
  bool any = false;
  int stubfd = make_stubs (stub, layerfds, n, &any, err);
  if (stubfd < 0)
    goto fail;
  if (any)
    ovl_dirs_push (d, stubfd);
  else
    close (stubfd);
  for (size_t i = n; i-- > 0;)
    {
      if (layerfds[i] < 0 ? ovl_dirs_add (d, spec->layers[i], err) < 0 : false)
        goto fail; /* (says why it cannot be opened) */
      if (layerfds[i] >= 0)
        ovl_dirs_push (d, layerfds[i]);
      layerfds[i] = -1;
    }
  if (ovl_dirs_add (d, upper, err) < 0 || ovl_dirs_add (d, work, err) < 0)
    goto fail;
  return sandbox_overlay_options (d->fd, d->n - 2, d->fd[d->n - 2], d->fd[d->n - 1]);
fail:
  for (size_t i = 0; i < n; i++)
    if (layerfds[i] >= 0)
      close (layerfds[i]);
  ovl_dirs_close (d);
  return NULL;
}

/* ---- overlay ---- */

static int
mount_overlay (const struct nook_spec *spec, const char *upper, const char *work, bool volatile_,
               const char *target, nook_error_t *err)
{
  struct ovl_dirs d;
  cleanup_free char *opts = ovl_dirs_open (spec, upper, work, &d, err);
  if (opts == NULL)
    return -1;
  cleanup_free char *data = xasprintf ("%s,userxattr%s", opts, volatile_ ? ",volatile" : "");
  int r = 0;
  if (strlen (data) >= 4000)
    r = nook_error_set (err, E2BIG, "too many layers for one overlay mount (%zu)",
                        strv_len (spec->layers));
  else if (mount ("overlay", target, "overlay", 0, data) < 0)
    r = nook_error_set (err, errno, "mount overlay on '%s'", target);
  ovl_dirs_close (&d);
  return r;
}

/* ---- fuse-overlayfs ---- */

/* Start fuse-overlayfs with opts (naming d's fds, which it inherits) on target. */
static int
fuse_overlayfs_start (const char *prog, const char *opts, const struct ovl_dirs *d,
                      const char *target, pid_t *daemon, nook_error_t *err)
{
  /* Its chatter ("unknown argument ignored: lazytime") is not the container's
   * output: stderr goes to a memfd, quoted in the error if it fails. */
  cleanup_close int log = memfd_create ("fuse-overlayfs", MFD_CLOEXEC);
  pid_t pid = fork ();
  if (pid < 0)
    return nook_error_set (err, errno, "fork fuse-overlayfs");
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (devnull >= 0)
        {
          dup2 (devnull, 0);
          dup2 (devnull, 1);
        }
      if (log >= 0)
        dup2 (log, 2);
      syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
      /* fuse-overlayfs opens the /proc/self/fd/N of opts itself */
      for (size_t i = 0; i < d->n; i++)
        fcntl (d->fd[i], F_SETFD, 0);
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      execl (prog, "fuse-overlayfs", "-f", "-o", opts, target, (char *)NULL);
      _exit (127);
    }
  /* Mounted when target's filesystem is FUSE; give up after 10 s. */
  for (int i = 0; i < 10000; i++)
    {
      struct statfs sf;
      if (statfs (target, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC)
        {
          *daemon = pid;
          return 0;
        }
      int st;
      if (waitpid (pid, &st, WNOHANG) == pid)
        {
          char said[512] = "";
          ssize_t n = log >= 0 ? pread (log, said, sizeof said - 1, 0) : -1;
          if (n > 0)
            said[n] = '\0';
          said[strcspn (said, "\n")] = '\0';
          return nook_error_set (err, 0, "fuse-overlayfs failed to mount '%s' (exit status %d%s%s)",
                                 target, WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st),
                                 *said ? ": " : "", said);
        }
      usleep (1000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  return nook_error_set (err, ETIMEDOUT, "fuse-overlayfs did not mount '%s'", target);
}

/* fuse-overlayfs runs in the foreground as our child (so its pid is known and
 * it dies with us), with nothing of nook's open but stdio; we wait for the
 * mount to appear.  The caller keeps the daemon out of the container's PID
 * namespace: a --privileged container must not reach a process that holds
 * fds on host directories. */
static int
mount_fuse_overlayfs (const struct nook_spec *spec, const char *upper, const char *work,
                      const char *target, pid_t *daemon, nook_error_t *err)
{
  cleanup_free char *prog = NULL;
  if (!sandbox_storage_fuse_available (&prog))
    {
      cleanup_free char *why = sandbox_storage_fuse_problem ();
      return nook_error_set (err, 0, "fuse-overlayfs is not usable: %s",
                             why ? why : "it cannot be found or started");
    }
  if (sandbox_storage_check_path (STORAGE_FUSE_OVERLAYFS, spec->container_dir, err) < 0)
    return -1;
  struct ovl_dirs d;
  cleanup_free char *opts = ovl_dirs_open (spec, upper, work, &d, err);
  if (opts == NULL)
    return -1;
  int r = fuse_overlayfs_start (prog, opts, &d, target, daemon, err);
  ovl_dirs_close (&d);
  return r;
}

/* ---- copy-up ---- */

static int copy_tree (int src, int dst, nook_error_t *err);

/* The owners a layer recorded (util/owner_record.h) go with the copy. */
static void
copy_owner_records (int in, int out)
{
  static const char *const names[] = { OWNER_OVERRIDE_XATTR, OWNER_RECORD_XATTR };
  char v[64];
  for (size_t i = 0; i < 2; i++)
    {
      ssize_t n = fgetxattr (in, names[i], v, sizeof v);
      if (n > 0)
        (void)fsetxattr (out, names[i], v, (size_t)n, 0);
    }
}

static int
copy_file (int src, int dst, const char *name, const struct stat *st, nook_error_t *err)
{
  cleanup_close int in = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return nook_error_set (err, errno, "open '%s'", name);
  unlinkat (dst, name, 0);
  cleanup_close int out = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                  st->st_mode & 07777);
  if (out < 0)
    return nook_error_set (err, errno, "create '%s'", name);
  off_t left = st->st_size;
  while (left > 0)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, (size_t)left, 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL))
        {
          char buf[65536];
          n = read (in, buf, sizeof buf);
          if (n > 0 && fs_write_all (out, buf, (size_t)n) < 0)
            n = -1;
        }
      if (n < 0)
        return nook_error_set (err, errno, "copy '%s'", name);
      if (n == 0)
        break;
      left -= n;
    }
  if (fchown (out, st->st_uid, st->st_gid) < 0 && errno != EPERM && errno != EINVAL)
    return nook_error_set (err, errno, "chown '%s'", name);
  copy_owner_records (in, out);
  fchmod (out, st->st_mode & 07777);
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  futimens (out, ts);
  return 0;
}

static int
copy_entry (int src, int dst, const char *name, nook_error_t *err)
{
  struct stat st;
  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error_set (err, errno, "stat '%s'", name);
  if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0))
    return fs_rm_rf_at (dst, name, err); /* a whiteout hides the lower entry */
  if (S_ISDIR (st.st_mode))
    {
      struct stat dstst;
      if (fstatat (dst, name, &dstst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR (dstst.st_mode))
        fs_rm_rf_at (dst, name, err);
      char opaque[2];
      cleanup_close int sfd = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sfd < 0)
        return nook_error_set (err, errno, "open '%s'", name);
      if (fgetxattr (sfd, "user.overlay.opaque", opaque, sizeof opaque) == 1 && opaque[0] == 'y')
        fs_rm_rf_at (dst, name, err);
      if (mkdirat (dst, name, st.st_mode & 07777) < 0 && errno != EEXIST)
        return nook_error_set (err, errno, "mkdir '%s'", name);
      cleanup_close int dfd = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (dfd < 0)
        return nook_error_set (err, errno, "open '%s'", name);
      if (copy_tree (sfd, dfd, err) < 0)
        return nook_error_wrap (err, "in '%s'", name);
      /* owners: best effort (a single-id map has only the user's) */
      (void)!fchownat (dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
      copy_owner_records (sfd, dfd);
      fchmod (dfd, st.st_mode & 07777);
      struct timespec ts[2] = { st.st_atim, st.st_mtim };
      futimens (dfd, ts);
      return 0;
    }
  if (fs_rm_rf_at (dst, name, err) < 0)
    return -1;
  if (S_ISREG (st.st_mode))
    return copy_file (src, dst, name, &st, err);
  if (S_ISLNK (st.st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat (src, name, target, sizeof target - 1);
      if (n < 0)
        return nook_error_set (err, errno, "readlink '%s'", name);
      target[n] = '\0';
      if (symlinkat (target, dst, name) < 0)
        return nook_error_set (err, errno, "symlink '%s'", name);
      (void)!fchownat (dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
      return 0;
    }
  if (mknodat (dst, name, st.st_mode, st.st_rdev) < 0)
    {
      log_debug ("copy-up: cannot create special file '%s': %s", name, strerror (errno));
      return 0;
    }
  /* mknod's mode went through the umask; owner, mode and times as the layer has them */
  (void)!fchownat (dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  (void)!fchmodat (dst, name, st.st_mode & 07777, 0);
  struct timespec ts[2] = { st.st_atim, st.st_mtim };
  (void)!utimensat (dst, name, ts, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int
copy_one (int src, const char *name, void *arg, nook_error_t *err)
{
  return copy_entry (src, *(int *)arg, name, err);
}

static int
copy_tree (int src, int dst, nook_error_t *err)
{
  return fs_dir_foreach (src, copy_one, &dst, err);
}

static int
copy_up (const struct nook_spec *spec, const char *target, nook_error_t *err)
{
  cleanup_close int cdir = open (spec->container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0)
    return nook_error_set (err, errno, "open '%s'", spec->container_dir);
  if (faccessat (cdir, "rootfs/.nook-copied", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (fs_rm_rf_at (cdir, "rootfs", err) < 0)
        return -1;
      if (mkdirat (cdir, "rootfs", 0755) < 0)
        return nook_error_set (err, errno, "mkdir rootfs");
      cleanup_close int dst = openat (cdir, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dst < 0)
        return nook_error_set (err, errno, "open rootfs");
      for (size_t i = 0; spec->layers[i]; i++)
        {
          cleanup_close int src = open (spec->layers[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (src < 0)
            return nook_error_set (err, errno, "open layer '%s'", spec->layers[i]);
          if (copy_tree (src, dst, err) < 0)
            return nook_error_wrap (err, "copy-up of layer '%s'", spec->layers[i]);
        }
      int m = openat (dst, ".nook-copied", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (m >= 0)
        close (m);
    }
  cleanup_free char *rootfs = xasprintf ("%s/rootfs", spec->container_dir);
  if (mount (rootfs, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return nook_error_set (err, errno, "bind '%s' on '%s'", rootfs, target);
  return 0;
}

/* spec->upper_tmpfs: the writable layer of a run whose writes die with it on a
 * tmpfs of its own over container_dir/upper (in the child's mount namespace:
 * the host's upper/ stays empty), holding the upper and work directories.  On
 * this store's ext4 each overlay mount creates and frees ~7 inodes in its work
 * directory (its probes, work/work, the volatile marker), and without a
 * journal every creation scans past the recently freed inodes of the group:
 * the largest share of a run's CPU beyond bubblewrap's.  False (nothing
 * mounted) when the tmpfs cannot hold overlay's user xattrs (kernels before
 * 6.6): the disk directories then. */
static bool
upper_on_tmpfs (const char *upper, char **u, char **w)
{
  if (mount ("tmpfs", upper, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
    return false;
  *u = xasprintf ("%s/u", upper);
  *w = xasprintf ("%s/w", upper);
  if (mkdir (*u, 0755) == 0 && mkdir (*w, 0755) == 0
      && setxattr (*w, "user.nook.probe", "", 0, 0) == 0)
    return true;
  umount2 (upper, MNT_DETACH);
  free (steal_pointer (u));
  free (steal_pointer (w));
  return false;
}

int
sandbox_rootfs_mount (const struct nook_spec *spec, const char *target, pid_t *daemon,
                      nook_error_t *err)
{
  *daemon = -1;
  cleanup_free char *upper = xasprintf ("%s/upper", spec->container_dir);
  cleanup_free char *work = xasprintf ("%s/work", spec->container_dir);
  cleanup_free char *tu = NULL, *tw = NULL;
  switch (spec->driver)
    {
    case STORAGE_OVERLAY:
      if (spec->upper_tmpfs && upper_on_tmpfs (upper, &tu, &tw))
        return mount_overlay (spec, tu, tw, false, target, err);
      return mount_overlay (spec, upper, work, spec->ephemeral, target, err);
    case STORAGE_FUSE_OVERLAYFS:
      return mount_fuse_overlayfs (spec, upper, work, target, daemon, err);
    case STORAGE_COPY_UP:
      return copy_up (spec, target, err);
    case STORAGE_NONE:
    default:
      return nook_error_set (err, EINVAL, "no storage driver chosen");
    }
}

/* ---- probe ---- */

struct probe_arg
{
  const char *dir;
};

static int
probe_overlay (void *arg, nook_error_t *err)
{
  struct probe_arg *p = arg;
  if (unshare (CLONE_NEWNS) < 0)
    return nook_error_set (err, errno, "unshare(CLONE_NEWNS)");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return nook_error_set (err, errno, "make mounts private");
  cleanup_close int dir = open (p->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int l = openat (dir, "l", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int u = openat (dir, "u", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int w = openat (dir, "w", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 || l < 0 || u < 0 || w < 0)
    return nook_error_set (err, errno, "open the probe's directories in '%s'", p->dir);
  /* by fd, as the runs mount it: any store path works */
  cleanup_free char *opts = sandbox_overlay_options (&l, 1, u, w);
  cleanup_free char *data = xasprintf ("%s,userxattr", opts);
  cleanup_free char *m = xasprintf ("%s/m", p->dir);
  if (mount ("overlay", m, "overlay", 0, data) < 0)
    return nook_error_set (err, errno, "mount overlay");
  /* A whiteout must work too: delete a lower file through the mount. */
  cleanup_free char *f = xasprintf ("%s/f", m);
  if (unlink (f) < 0)
    return nook_error_set (err, errno, "remove a lower file through overlay");
  return 0;
}

static int
rm_in_ns (void *arg, nook_error_t *err)
{
  return fs_rm_rf_at (AT_FDCWD, ((struct probe_arg *)arg)->dir, err);
}

int
sandbox_storage_probe (const struct nook_idmapping *ids, const char *workdir,
                       enum storage_driver *out, char **why, nook_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/probe-XXXXXX", workdir);
  if (mkdtemp (dir) == NULL)
    return nook_error_set (err, errno, "create '%s'", dir);
  cleanup_free char *note = NULL;
  static const char *const sub[] = { "l", "u", "w", "m" };
  for (size_t i = 0; i < ARRAY_SIZE (sub); i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", dir, sub[i]);
      mkdir (p, 0755);
    }
  cleanup_free char *lf = xasprintf ("%s/l/f", dir);
  int fd = open (lf, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0)
    close (fd);

  struct probe_arg arg = { .dir = dir };
  cleanup_error nook_error_t perr = NULL;
  if (sandbox_userns_call (ids, probe_overlay, &arg, &perr) == 0)
    *out = STORAGE_OVERLAY;
  else
    {
      cleanup_free char *t = nook_error_text (perr);
      note = xasprintf ("native overlay failed (%s)", t);
      cleanup_error nook_error_t ferr = NULL;
      bool path_ok = sandbox_storage_check_path (STORAGE_FUSE_OVERLAYFS, workdir, &ferr) == 0;
      if (path_ok && sandbox_storage_fuse_available (NULL))
        *out = STORAGE_FUSE_OVERLAYFS;
      else
        {
          cleanup_free char *fwhy = path_ok ? sandbox_storage_fuse_problem () : NULL;
          char *n2 = xasprintf ("%s; fuse-overlayfs %s%s", note,
                                path_ok ? "not usable: " : "cannot use a path with ',' or ':'",
                                path_ok ? (fwhy ? fwhy : "?") : "");
          free (note);
          note = n2;
          *out = STORAGE_COPY_UP;
        }
    }
  cleanup_error nook_error_t rerr = NULL;
  if (sandbox_userns_call (ids, rm_in_ns, &arg, &rerr) < 0)
    fs_rm_rf_at (AT_FDCWD, dir, &rerr);
  if (why)
    *why = steal_pointer (&note);
  return 0;
}
