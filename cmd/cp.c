/* cmd/cp.c: `nook cp` between a container and the host, both ways, and tar
 * streams with "-" (Docker's semantics and messages).
 *
 * The container's side runs in a child that sees its root (sandbox/access.c:
 * the namespaces of a running container, or its root mounted privately when it
 * is stopped); every path there resolves with RESOLVE_IN_ROOT from that root and
 * leaves are never followed, so no symlink of the container leads out of it.
 * The two sides exchange a tar stream through an unlinked temporary file of the
 * store's filesystem (no pipe to keep flowing while a child is waited for). */
#include "cmd/cli.h"
#include "cmd/events.h"
#include "cmd/commands.h"
#include "cmd/ctrs.h"
#include "cmd/store_open.h"
#include "imagefmt/archive_dl.h"
#include "imagefmt/store.h"
#include "sandbox/access.h"
#include "sandbox/rootfs.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CP_MAX_DEPTH 256

/* ---- writing a tree as tar ---- */

static int
archive_fail (struct archive *a, const char *what, nook_error_t *err)
{
  const char *m = archive_error_string (a);
  return nook_error_set (err, archive_errno (a) > 0 ? archive_errno (a) : EIO, "%s: %s", what,
                         m ? m : "archive error");
}

/* dirfd/name (not followed) written as arcname, directories recursively. */
static int
tar_add (struct archive *a, int dirfd, const char *name, const char *arcname, int depth,
         nook_error_t *err)
{
  if (depth > CP_MAX_DEPTH)
    return nook_error_set (err, ELOOP, "'%s': directories nested too deep", arcname);
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error_set (err, errno, "stat '%s'", arcname);
  cleanup_close int fd = -1;
  if (S_ISREG (st.st_mode))
    {
      fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
        return nook_error_set (err, fd < 0 ? errno : EINVAL, "open '%s'", arcname);
    }
  if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode) && !S_ISLNK (st.st_mode)
      && !S_ISFIFO (st.st_mode))
    return 0; /* devices and sockets are not copied */
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, arcname);
  archive_entry_set_mode (e, st.st_mode);
  archive_entry_set_uid (e, st.st_uid);
  archive_entry_set_gid (e, st.st_gid);
  archive_entry_set_mtime (e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  archive_entry_set_size (e, S_ISREG (st.st_mode) ? st.st_size : 0);
  if (S_ISLNK (st.st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat (dirfd, name, target, sizeof target - 1);
      if (n < 0)
        {
          archive_entry_free (e);
          return nook_error_set (err, errno, "readlink '%s'", arcname);
        }
      target[n] = '\0';
      archive_entry_set_symlink (e, target);
    }
  int r = archive_write_header (a, e);
  archive_entry_free (e);
  if (r < ARCHIVE_WARN)
    return archive_fail (a, arcname, err);
  if (fd >= 0)
    {
      char buf[65536];
      ssize_t n;
      while ((n = read (fd, buf, sizeof buf)) > 0)
        if (archive_write_data (a, buf, (size_t)n) < 0)
          return archive_fail (a, arcname, err);
      if (n < 0)
        return nook_error_set (err, errno, "read '%s'", arcname);
    }
  if (!S_ISDIR (st.st_mode))
    return 0;
  cleanup_close int d = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int dup = d >= 0 ? fcntl (d, F_DUPFD_CLOEXEC, 3) : -1;
  cleanup_dir DIR *dir = dup >= 0 ? fdopendir (dup) : NULL;
  if (dir == NULL)
    {
      if (dup >= 0)
        close (dup);
      return nook_error_set (err, errno, "open directory '%s'", arcname);
    }
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *sub = xasprintf ("%s/%s", arcname, de->d_name);
      if (tar_add (a, d, de->d_name, sub, depth + 1, err) < 0)
        return -1;
    }
  return 0;
}

/* The parent directory of path under rootfd (RESOLVE_IN_ROOT) and its last name
 * ("." for the root itself). */
static int
open_parent (int rootfd, const char *path, char **leaf, nook_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  size_t n = strlen (p);
  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  char *slash = strrchr (p, '/');
  const char *base = slash ? slash + 1 : p;
  if (slash)
    *slash = '\0';
  const char *parent = slash ? (*p ? p : "/") : ".";
  if (*base == '\0' || strcmp (base, "..") == 0)
    base = ".";
  int fd = fs_open_in_root (rootfd, parent, O_PATH | O_DIRECTORY, 0);
  if (fd < 0)
    return nook_error_set (err, errno, "Could not find the file %s", path);
  *leaf = xstrdup (base);
  return fd;
}

/* Write path (resolved in rootfd, its last name not followed) as a tar to outfd. */
static int
tar_create (int rootfd, const char *path, int outfd, nook_error_t *err)
{
  cleanup_free char *leaf = NULL;
  cleanup_close int pfd = open_parent (rootfd, path, &leaf, err);
  if (pfd < 0)
    return -1;
  struct stat st;
  if (fstatat (pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return nook_error_set (err, errno == ENOENT ? ENOENT : errno, "Could not find the file %s",
                           path);
  struct archive *a = archive_write_new ();
  if (a == NULL || archive_write_set_format_pax_restricted (a) != ARCHIVE_OK
      || archive_write_open_fd (a, outfd) != ARCHIVE_OK)
    return archive_fail (a, "tar", err);
  cleanup_free char *arc = xstrdup (strcmp (leaf, ".") == 0 ? "." : leaf);
  int r = tar_add (a, pfd, leaf, arc, 0, err);
  if (r == 0 && archive_write_close (a) != ARCHIVE_OK)
    r = archive_fail (a, "tar", err);
  archive_write_free (a);
  return r;
}

/* ---- extracting a tar ---- */

enum owner_mode
{
  OWNER_SET,  /* every entry owned by uid:gid (the container's root) */
  OWNER_KEEP, /* the entries' own ids (-a), where permitted */
  OWNER_NONE, /* the extracting user's */
};

struct extract
{
  int rootfd;       /* where dest resolves */
  const char *dest; /* path under rootfd */
  bool raw;         /* a tar from stdin: entries as they are, into the directory dest */
  bool contents;    /* SRC ended in "/.": the contents of the first entry */
  enum owner_mode owner;
  uid_t uid;
  gid_t gid;
};

/* An entry's name made relative and checked: no "..", no empty names. */
static char *
clean_name (const char *name)
{
  while (name[0] == '/' || (name[0] == '.' && name[1] == '/'))
    name += name[0] == '/' ? 1 : 2;
  struct strbuf b = { 0 };
  cleanup_free char *copy = xstrdup (name);
  char *save = NULL;
  for (char *c = strtok_r (copy, "/", &save); c; c = strtok_r (NULL, "/", &save))
    {
      if (strcmp (c, ".") == 0)
        continue;
      if (strcmp (c, "..") == 0)
        {
          strbuf_free (&b);
          return NULL;
        }
      strbuf_appendf (&b, "%s%s", b.len ? "/" : "", c);
    }
  return strbuf_steal (&b);
}

static void
set_owner_times (int dirfd, const char *leaf, struct archive_entry *e, const struct extract *x)
{
  if (x->owner == OWNER_SET)
    fchownat (dirfd, leaf, x->uid, x->gid, AT_SYMLINK_NOFOLLOW);
  else if (x->owner == OWNER_KEEP)
    fchownat (dirfd, leaf, (uid_t)archive_entry_uid (e), (gid_t)archive_entry_gid (e),
              AT_SYMLINK_NOFOLLOW);
  struct timespec ts[2]
      = { { 0, UTIME_OMIT }, { archive_entry_mtime (e), archive_entry_mtime_nsec (e) } };
  utimensat (dirfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
}

/* Create one entry at rel under T (parents resolved in T: nothing escapes it). */
static int
extract_entry (struct archive *a, struct archive_entry *e, int T, const char *rel,
               const struct extract *x, nook_error_t *err)
{
  cleanup_free char *leaf = NULL;
  cleanup_close int pfd = open_parent (T, rel, &leaf, err);
  if (pfd < 0)
    return nook_error_wrap (err, "extract '%s'", rel);
  mode_t type = archive_entry_filetype (e), perm = archive_entry_perm (e);
  struct stat st;
  bool exists = fstatat (pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (strcmp (leaf, ".") == 0)
    return 0;
  if (exists && !(S_ISDIR (st.st_mode) && type == AE_IFDIR))
    {
      if (S_ISDIR (st.st_mode))
        return nook_error_set (err, EISDIR, "cannot overwrite directory '%s' with a non-directory",
                               rel);
      if (unlinkat (pfd, leaf, 0) < 0)
        return nook_error_set (err, errno, "replace '%s'", rel);
    }
  const char *hard = archive_entry_hardlink (e);
  if (hard)
    {
      cleanup_free char *hrel = clean_name (hard);
      cleanup_free char *hleaf = NULL;
      cleanup_close int hp = hrel ? open_parent (T, hrel, &hleaf, err) : -1;
      if (hp < 0 || linkat (hp, hleaf, pfd, leaf, 0) < 0)
        return *err ? -1 : nook_error_set (err, errno, "hard link '%s'", rel);
      return 0;
    }
  switch (type)
    {
    case AE_IFDIR:
      if (!exists && mkdirat (pfd, leaf, 0700) < 0)
        return nook_error_set (err, errno, "mkdir '%s'", rel);
      set_owner_times (pfd, leaf, e, x);
      fchmodat (pfd, leaf, perm, 0);
      return 0;
    case AE_IFLNK:
      if (symlinkat (archive_entry_symlink (e), pfd, leaf) < 0)
        return nook_error_set (err, errno, "symlink '%s'", rel);
      set_owner_times (pfd, leaf, e, x);
      return 0;
    case AE_IFIFO:
      if (mknodat (pfd, leaf, S_IFIFO | (perm & 0777), 0) < 0)
        return nook_error_set (err, errno, "mkfifo '%s'", rel);
      set_owner_times (pfd, leaf, e, x);
      return 0;
    case AE_IFREG:
      break;
    default:
      return 0; /* devices are not created */
    }
  cleanup_close int fd
      = openat (pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "create '%s'", rel);
  const void *buf;
  size_t size;
  la_int64_t off;
  int r;
  while ((r = archive_read_data_block (a, &buf, &size, &off)) == ARCHIVE_OK)
    {
      if (lseek (fd, off, SEEK_SET) < 0 || fs_write_all (fd, buf, size) < 0)
        return nook_error_set (err, errno, "write '%s'", rel);
    }
  if (r != ARCHIVE_EOF)
    return archive_fail (a, rel, err);
  off_t total = archive_entry_size (e);
  if (ftruncate (fd, total) < 0)
    return nook_error_set (err, errno, "write '%s'", rel);
  set_owner_times (pfd, leaf, e, x);
  fchmod (fd, perm);
  return 0;
}

/* Where the entries go: T (an fd) and what the first name becomes (NULL: kept;
 * "" : dropped, for SRC/. and raw streams), Docker's rules. */
static int
extract_target (const struct extract *x, bool first_is_dir, char **rename_to, nook_error_t *err)
{
  size_t dl = strlen (x->dest);
  bool trailing = dl > 1 && x->dest[dl - 1] == '/';
  cleanup_close int d = fs_open_in_root (x->rootfd, x->dest, O_PATH, 0);
  struct stat st;
  bool exists = d >= 0 && fstat (d, &st) == 0;
  if (x->raw)
    {
      if (!exists || !S_ISDIR (st.st_mode))
        return nook_error_set (err, 0, "destination \"%s\" must be a directory", x->dest);
      *rename_to = NULL;
      return fs_open_in_root (x->rootfd, x->dest, O_PATH | O_DIRECTORY, 0);
    }
  if (exists && S_ISDIR (st.st_mode))
    {
      *rename_to = x->contents ? xstrdup ("") : NULL;
      return fs_open_in_root (x->rootfd, x->dest, O_PATH | O_DIRECTORY, 0);
    }
  if (exists && first_is_dir)
    return nook_error_set (err, 0, "cannot copy a directory to a file: %s", x->dest);
  if (!exists && trailing && !first_is_dir)
    return nook_error_set (err, 0, "no such directory: %s", x->dest);
  cleanup_free char *leaf = NULL;
  int pfd = open_parent (x->rootfd, x->dest, &leaf, err);
  if (pfd < 0)
    return -1;
  *rename_to = steal_pointer (&leaf);
  return pfd;
}

static int
tar_extract (int tarfd, const struct extract *x, nook_error_t *err)
{
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  archive_read_support_filter_gzip (a);
  if (archive_read_open_fd (a, tarfd, 65536) != ARCHIVE_OK)
    {
      archive_fail (a, "read the tar stream", err);
      archive_read_free (a);
      return -1;
    }
  int r = 0, T = -1;
  cleanup_free char *first = NULL, *rename_to = NULL;
  struct archive_entry *e;
  int h;
  while (r == 0 && (h = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    {
      cleanup_free char *name = clean_name (archive_entry_pathname (e));
      if (name == NULL)
        {
          r = nook_error_set (err, EINVAL, "tar entry '%s' goes out of its directory",
                              archive_entry_pathname (e));
          break;
        }
      if (T < 0)
        {
          first = xstrndup (name, strcspn (name, "/"));
          T = extract_target (x, archive_entry_filetype (e) == AE_IFDIR, &rename_to, err);
          if (T < 0)
            {
              r = -1;
              break;
            }
        }
      cleanup_free char *rel = NULL;
      size_t fl = strlen (first);
      bool under
          = fl == 0 || (strncmp (name, first, fl) == 0 && (name[fl] == '/' || name[fl] == '\0'));
      const char *rest = fl == 0 ? name : name[fl] ? name + fl + 1 : "";
      if (rename_to == NULL || !under)
        rel = xstrdup (*name ? name : ".");
      else if (*rename_to == '\0')
        rel = xstrdup (*rest ? rest : ".");
      else
        rel = *rest ? xasprintf ("%s/%s", rename_to, rest) : xstrdup (rename_to);
      r = extract_entry (a, e, T, rel, x, err);
    }
  if (r == 0 && h != ARCHIVE_EOF)
    r = archive_fail (a, "read the tar stream", err);
  if (T >= 0)
    close (T);
  archive_read_free (a);
  return r;
}

/* ---- the two sides ---- */

struct in_ctr
{
  bool to; /* into the container (else out of it) */
  const char *path;
  int tarfd; /* the exchange file (or stdin/stdout for "-") */
  struct extract x;
};

static int
in_container (int rootfd, void *arg, nook_error_t *err)
{
  struct in_ctr *c = arg;
  if (!c->to)
    return tar_create (rootfd, c->path, c->tarfd, err);
  c->x.rootfd = rootfd;
  return tar_extract (c->tarfd, &c->x, err);
}

/* An unlinked file on the store's filesystem for the stream. */
static int
exchange_file (const char *root, nook_error_t *err)
{
  int fd = open (root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "temporary file in '%s'", root);
  return fd;
}

/* A host path made absolute (the host side resolves from "/"). */
static char *
host_path (const char *p)
{
  if (p[0] == '/')
    return xstrdup (p);
  char cwd[4096];
  if (getcwd (cwd, sizeof cwd) == NULL)
    return xstrdup (p);
  return xasprintf ("%s/%s", cwd, p);
}

static bool
is_container_arg (const char *a)
{
  if (a[0] == '/' || a[0] == '.' || strcmp (a, "-") == 0)
    return false;
  const char *colon = strchr (a, ':');
  return colon && colon != a;
}

static void
cp_usage (void)
{
  printf ("Usage:  nook cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
          "        nook cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\n"
          "Copy files/folders between a container and the local filesystem\n\n"
          "Use '-' as the source to read a tar archive from stdin and extract it to a\n"
          "directory destination in a container. Use '-' as the destination to stream a\n"
          "tar archive of a container source to stdout.\n\nOptions:\n"
          "  -a, --archive       Archive mode (copy all uid/gid information)\n"
          "  -q, --quiet         Suppress progress output\n");
}

/* The spec of a stopped container's root: its layers, directory, driver, ids, etc files. */
static int
stopped_spec (struct imagefmt_store *store, const struct nook_idmapping *ids, const struct ctr *c,
              struct nook_spec *spec, nook_error_t *err)
{
  const char *root = imagefmt_store_root (store);
  struct imagefmt_image *img = NULL;
  if (imagefmt_store_lookup (store, c->image_id, &img, err) < 0)
    return nook_error_wrap (err, "the image of container %.12s", c->id);
  int r = imagefmt_store_layer_dirs (store, img, &spec->layers, err);
  imagefmt_image_free (img);
  if (r < 0)
    return -1;
  const char *driver = json_string_value (json_object_get (c->config, "StorageDriver"));
  if (sandbox_storage_parse (driver ? driver : "overlay", &spec->driver, err) < 0)
    return -1;
  spec->container_dir = xasprintf ("%s/containers/%s", root, c->id);
  spec->ids = *ids;
  json_t *cfg = json_object_get (c->config, "Config");
  const char *host = json_string_value (json_object_get (cfg, "Hostname"));
  cleanup_free char *h = host ? xstrdup (host) : xstrndup (c->id, 12);
  spec->hostname = xstrdup (h);
  spec->etc_hostname = xasprintf ("%s\n", h);
  spec->etc_hosts = xasprintf ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                               "127.0.1.1\t%s\n",
                               h);
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, "/etc/resolv.conf", 1 << 16, &spec->etc_resolv, NULL, &e) < 0)
    spec->etc_resolv = xstrdup ("");
  return 0;
}

int
cmd_cp (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  bool keep = false;
  const char *args[2] = { NULL, NULL };
  int nargs = 0;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          cp_usage ();
          return 0;
        }
      if (strcmp (a, "-a") == 0 || strcmp (a, "--archive") == 0)
        keep = true;
      else if (strcmp (a, "-q") == 0 || strcmp (a, "--quiet") == 0)
        ;
      else if (strcmp (a, "-L") == 0 || strcmp (a, "--follow-link") == 0)
        return nook_error_set (err, 0,
                               "cp -L is not supported: nook never follows the "
                               "source's last symlink");
      else if (a[0] == '-' && a[1])
        return cmd_flag_error (err, "cp", "unknown flag: %s", a);
      else if (nargs < 2)
        args[nargs++] = a;
      else
        nargs++;
    }
  if (nargs != 2)
    return cmd_args_error (err, "cp", "\"nook cp\" requires exactly 2 arguments.");
  bool src_c = is_container_arg (args[0]), dst_c = is_container_arg (args[1]);
  if (src_c && dst_c)
    return nook_error_set (err, 0, "copying between containers is not supported");
  if (!src_c && !dst_c)
    return nook_error_set (err, 0, "must specify at least one container source");
  const char *carg = src_c ? args[0] : args[1];
  const char *local = src_c ? args[1] : args[0];
  cleanup_free char *cname = xstrndup (carg, (size_t)(strchr (carg, ':') - carg));
  const char *cpath = strchr (carg, ':') + 1;
  if (*cpath == '\0')
    cpath = "/";
  if (imagefmt_archive_load (err) < 0) /* before any child enters the container */
    return -1;

  struct imagefmt_store *store = NULL;
  struct nook_idmapping ids;
  if (cmd_store_open (ctx->root, &store, &ids, NULL, err) < 0)
    return -1;
  const char *root = imagefmt_store_root (store);
  struct ctr_list l = { 0 };
  struct nook_spec spec = { 0 };
  cleanup_free pid_t *pids = NULL;
  size_t npids = 0, at = 0;
  int r = ctr_list_load (root, &l, err);
  if (r == 0)
    r = ctr_find (&l, cname, &at, err);
  if (r == 0 && l.v[at].running)
    {
      pids = ctr_processes (&l.v[at], &npids);
      /* nook's init (first) cannot be entered: try it last */
      if (npids > 1)
        {
          pid_t init = pids[0];
          memmove (pids, pids + 1, (npids - 1) * sizeof *pids);
          pids[npids - 1] = init;
        }
      if (npids == 0)
        r = nook_error_set (err, 0, "container %s has no process to enter", l.v[at].id);
    }
  else if (r == 0)
    r = stopped_spec (store, &ids, &l.v[at], &spec, err);

  cleanup_close int xfd = -1;
  if (r == 0 && strcmp (local, "-") != 0)
    r = (xfd = exchange_file (root, err)) < 0 ? -1 : 0;
  struct in_ctr c = { .to = dst_c, .path = cpath };
  if (r == 0 && dst_c)
    {
      /* into the container: the local side first (a tar of the host path, or stdin) */
      if (strcmp (local, "-") == 0)
        c.tarfd = 0;
      else
        {
          /* the host side is the user's own: the path as given, its last name not followed */
          bool contents = str_has_suffix (local, "/.");
          cleanup_free char *lp = contents ? xstrndup (local, strlen (local) - 1) : xstrdup (local);
          cleanup_free char *abs = host_path (lp);
          cleanup_close int hroot = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
          r = tar_create (hroot, abs, xfd, err);
          c.x.contents = contents;
          if (r == 0 && lseek (xfd, 0, SEEK_SET) < 0)
            r = nook_error_set (err, errno, "rewind");
          c.tarfd = xfd;
        }
      c.x.dest = cpath;
      c.x.raw = strcmp (local, "-") == 0;
      c.x.owner = keep ? OWNER_KEEP : OWNER_SET;
      c.x.uid = 0;
      c.x.gid = 0;
      if (r == 0)
        r = sandbox_container_call (pids, npids, &spec, in_container, &c, err);
    }
  else if (r == 0)
    {
      /* out of the container: its side writes the tar, then ours unpacks it */
      c.tarfd = strcmp (local, "-") == 0 ? 1 : xfd;
      fflush (stdout);
      r = sandbox_container_call (pids, npids, &spec, in_container, &c, err);
      if (r == 0 && xfd >= 0)
        {
          struct extract x = { .dest = local,
                               .contents = str_has_suffix (cpath, "/."),
                               .owner = keep ? OWNER_KEEP : OWNER_NONE };
          cleanup_close int hroot = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
          cleanup_free char *abs = host_path (local);
          x.rootfd = hroot;
          x.dest = abs;
          if (lseek (xfd, 0, SEEK_SET) < 0)
            r = nook_error_set (err, errno, "rewind");
          else
            r = tar_extract (xfd, &x, err);
        }
    }
  if (r == 0)
    /* Docker's: extract-to-dir into the container, archive-path out of it */
    events_container (root, l.v[at].id, dst_c ? "extract-to-dir" : "archive-path", NULL);
  nook_spec_free (&spec);
  ctr_list_free (&l);
  imagefmt_store_close (store);
  if (r < 0 && *err && str_has_prefix ((*err)->msg, "Could not find the file "))
    {
      /* Docker's words, without the errno text */
      bool in_ctr = strcmp ((*err)->msg + strlen ("Could not find the file "), cpath) == 0;
      cleanup_free char *what = xstrdup (in_ctr ? cpath : local);
      nook_error_free (err);
      if (in_ctr)
        return nook_error_set (err, 0, "Could not find the file %s in container %s", what, cname);
      return nook_error_set (err, 0, "Could not find the file %s", what);
    }
  return r < 0 ? -1 : 0;
}
