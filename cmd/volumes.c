/* cmd/volumes.c: the volume store (see volumes.h) and what a run needs of it. */
#include "cmd/events.h"
#include "cmd/volumes.h"
#include "cmd/cli.h"
#include "cmd/ctrs.h"
#include "cmd/records.h"
#include "cmd/store_open.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define ANON_LABEL "com.docker.volume.anonymous"

bool
volume_name_valid (const char *n)
{
  return cmd_name_valid (n, 2, 255);
}

static char *
now_rfc3339 (void)
{
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  char buf[64];
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (buf);
}

int
volume_ensure (const char *root, const char *name, json_t *labels, bool anonymous, bool *created,
               char **data_path, nook_error_t *err)
{
  if (!volume_name_valid (name))
    return nook_error_set (err, 0,
                           "create %s: \"%s\" includes invalid characters for a local volume "
                           "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
                           name, name);
  cleanup_free char *vpath = xasprintf ("%s/volumes", root);
  if (mkdir (vpath, 0700) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "mkdir '%s'", vpath);
  cleanup_close int vdir = open (vpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (vdir < 0)
    return nook_error_set (err, errno, "open '%s'", vpath);
  bool made = false;
  /* volumes/.NAME.tmp-XXX made whole, then renamed in: a volume is there or not */
  struct stat st;
  if (fstatat (vdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        return nook_error_set (err, errno, "stat volume '%s'", name);
      cleanup_free char *tmp = xasprintf (".%s.tmp-%d", name, (int)getpid ());
      cleanup_error nook_error_t e = NULL;
      fs_rm_rf_at (vdir, tmp, &e);
      if (mkdirat (vdir, tmp, 0700) < 0)
        return nook_error_set (err, errno, "mkdir volume '%s'", name);
      cleanup_close int t = openat (vdir, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      json_t *meta = json_object ();
      cleanup_free char *when = now_rfc3339 ();
      json_t *l = labels ? json_deep_copy (labels) : json_object ();
      if (anonymous)
        json_object_set_new (l, ANON_LABEL, json_string (""));
      json_object_set_new (meta, "CreatedAt", json_string (when));
      json_object_set_new (meta, "Labels", l);
      cleanup_free char *text = json_dumps (meta, JSON_COMPACT);
      json_decref (meta);
      if (t < 0 || mkdirat (t, "_data", 0755) < 0
          || fs_write_atomic_at (t, "volume.json", text, strlen (text), 0600, err) < 0
          || renameat2 (vdir, tmp, vdir, name, RENAME_NOREPLACE) < 0)
        {
          int e0 = errno;
          fs_rm_rf_at (vdir, tmp, &e);
          if (e0 != EEXIST && e0 != ENOTEMPTY)
            return *err ? -1 : nook_error_set (err, e0, "create volume '%s'", name);
          /* another run made it first: use that one */
          nook_error_free (err);
        }
      else
        made = true;
    }
  if (created)
    *created = made;
  if (data_path)
    *data_path = xasprintf ("%s/%s/_data", vpath, name);
  return 0;
}

/* ---- filling a new volume from the image ---- */

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

static bool
is_opaque (int dirfd)
{
  char p[32], v[2];
  fs_fd_path (dirfd, p);
  if (getxattr (p, "user.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y')
    return true;
  if (getxattr (p, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y')
    return true;
  struct stat st;
  return fstatat (dirfd, WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Is name hidden in this layer directory (a 0:0 device or a .wh.NAME file)? */
static bool
whiteout_at (int dirfd, const char *name, const struct stat *st)
{
  if (st && S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0))
    return true;
  cleanup_free char *wh = xasprintf (WH_PREFIX "%s", name);
  struct stat s;
  return fstatat (dirfd, wh, &s, AT_SYMLINK_NOFOLLOW) == 0;
}

struct ulayers
{
  int *fd; /* one directory per layer, top first, -1 where absent */
  size_t n;
};

static void
ulayers_close (struct ulayers *u)
{
  for (size_t i = 0; i < u->n; i++)
    if (u->fd[i] >= 0)
      close (u->fd[i]);
  free (u->fd);
}

static int copy_union (const struct ulayers *u, int dst, int depth, nook_error_t *err);

static int
copy_file (int srcdir, const char *name, int dst, const struct stat *st, nook_error_t *err)
{
  cleanup_close int in = openat (srcdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (in < 0)
    return nook_error_set (err, errno, "open '%s'", name);
  cleanup_close int out
      = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return nook_error_set (err, errno, "create '%s'", name);
  char buf[65536];
  ssize_t r;
  while ((r = read (in, buf, sizeof buf)) > 0)
    if (fs_write_all (out, buf, (size_t)r) < 0)
      return nook_error_set (err, errno, "write '%s'", name);
  if (r < 0)
    return nook_error_set (err, errno, "read '%s'", name);
  if (fchown (out, st->st_uid, st->st_gid) < 0 && errno != EINVAL && errno != EPERM)
    return nook_error_set (err, errno, "chown '%s'", name);
  fchmod (out, st->st_mode & 07777);
  return 0;
}

/* One entry found at layer `at` of u (the topmost that has it). */
static int
copy_entry (const struct ulayers *u, size_t at, const char *name, const struct stat *st, int dst,
            int depth, nook_error_t *err)
{
  int src = u->fd[at];
  if (S_ISREG (st->st_mode))
    return copy_file (src, name, dst, st, err);
  if (S_ISLNK (st->st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat (src, name, target, sizeof target - 1);
      if (n < 0)
        return nook_error_set (err, errno, "readlink '%s'", name);
      target[n] = '\0';
      if (symlinkat (target, dst, name) < 0)
        return nook_error_set (err, errno, "symlink '%s'", name);
      fchownat (dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
      return 0;
    }
  if (!S_ISDIR (st->st_mode))
    return 0; /* devices, fifos, sockets: not copied */
  if (mkdirat (dst, name, 0700) < 0)
    return nook_error_set (err, errno, "mkdir '%s'", name);
  cleanup_close int d = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0)
    return nook_error_set (err, errno, "open '%s'", name);
  /* the union of this directory: from layer `at` down to an opaque one, a
   * whiteout or a non-directory */
  struct ulayers sub = { .fd = xzalloc (sizeof (int) * u->n), .n = u->n };
  for (size_t i = 0; i < u->n; i++)
    sub.fd[i] = -1;
  bool stop = false;
  for (size_t i = at; i < u->n && !stop; i++)
    {
      if (u->fd[i] < 0)
        continue;
      struct stat s;
      if (fstatat (u->fd[i], name, &s, AT_SYMLINK_NOFOLLOW) < 0)
        {
          stop = whiteout_at (u->fd[i], name, NULL);
          continue;
        }
      if (!S_ISDIR (s.st_mode))
        break;
      sub.fd[i] = openat (u->fd[i], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      stop = sub.fd[i] >= 0 && is_opaque (sub.fd[i]);
    }
  int r = copy_union (&sub, d, depth + 1, err);
  ulayers_close (&sub);
  if (r < 0)
    return -1;
  if (fchown (d, st->st_uid, st->st_gid) < 0 && errno != EINVAL && errno != EPERM)
    return nook_error_set (err, errno, "chown '%s'", name);
  fchmod (d, st->st_mode & 07777);
  return 0;
}

static int
copy_union (const struct ulayers *u, int dst, int depth, nook_error_t *err)
{
  if (depth > 256)
    return nook_error_set (err, ELOOP, "directories nested too deep");
  cleanup_strv char **seen = NULL;
  for (size_t i = 0; i < u->n; i++)
    {
      if (u->fd[i] < 0)
        continue;
      int dup = fcntl (u->fd[i], F_DUPFD_CLOEXEC, 3);
      cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
      if (d == NULL)
        {
          if (dup >= 0)
            close (dup);
          return nook_error_set (err, errno, "read a layer directory");
        }
      struct dirent *de;
      while ((de = readdir (d)) != NULL)
        {
          const char *n = de->d_name;
          if (strcmp (n, ".") == 0 || strcmp (n, "..") == 0 || strv_contains (seen, n))
            continue;
          strv_push (&seen, n);
          if (str_has_prefix (n, WH_PREFIX))
            {
              /* .wh.NAME hides NAME below: mark NAME seen */
              strv_push (&seen, n + strlen (WH_PREFIX));
              continue;
            }
          struct stat st;
          if (fstatat (u->fd[i], n, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return nook_error_set (err, errno, "stat '%s'", n);
          if (whiteout_at (u->fd[i], n, &st))
            continue;
          if (copy_entry (u, i, n, &st, dst, depth, err) < 0)
            return -1;
        }
    }
  return 0;
}

struct fill_arg
{
  char *const *layers; /* bottom first */
  const char *path;    /* inside the image */
  const char *data;    /* the volume's _data */
};

/* In the user namespace: the image's directory `path` (the union of the layers)
 * copied into the empty volume. */
static int
fill_fn (void *arg, nook_error_t *err)
{
  struct fill_arg *a = arg;
  size_t n = strv_len (a->layers);
  struct ulayers u = { .fd = xzalloc (sizeof (int) * (n + 1)), .n = n };
  bool stop = false;
  for (size_t i = 0; i < n; i++)
    {
      u.fd[i] = -1;
      if (stop)
        continue;
      cleanup_close int layer = open (a->layers[n - 1 - i], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (layer < 0)
        continue;
      /* the path itself, resolved in this layer (not across layers) */
      int fd = fs_open_in_root (layer, a->path, O_RDONLY | O_DIRECTORY, 0);
      if (fd < 0)
        {
          /* a file there, or a whiteout of it, hides the lower layers */
          cleanup_close int any = fs_open_in_root (layer, a->path, O_PATH, 0);
          cleanup_free char *parent = xstrdup (a->path);
          char *slash = strrchr (parent, '/');
          const char *base = slash ? slash + 1 : parent;
          if (slash)
            *slash = '\0';
          cleanup_close int pfd = fs_open_in_root (layer, *parent ? parent : "/", O_PATH, 0);
          stop = any >= 0 || (pfd >= 0 && *base && whiteout_at (pfd, base, NULL));
          continue;
        }
      u.fd[i] = fd;
      stop = is_opaque (fd);
    }
  cleanup_close int dst = open (a->data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int r
      = dst < 0 ? nook_error_set (err, errno, "open '%s'", a->data) : copy_union (&u, dst, 0, err);
  /* the volume's root takes the owner and mode of the image's directory */
  for (size_t i = 0; r == 0 && i < n; i++)
    if (u.fd[i] >= 0)
      {
        struct stat st;
        if (fstat (u.fd[i], &st) == 0)
          {
            if (fchown (dst, st.st_uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM)
              r = nook_error_set (err, errno, "chown '%s'", a->data);
            fchmod (dst, st.st_mode & 07777);
          }
        break;
      }
  ulayers_close (&u);
  return r;
}

static bool
dir_empty (const char *path)
{
  cleanup_close int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int dup = fd >= 0 ? fcntl (fd, F_DUPFD_CLOEXEC, 3) : -1;
  cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  if (d == NULL)
    {
      if (dup >= 0)
        close (dup);
      return false;
    }
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return false;
  return true;
}

/* Fill an empty volume once, under a lock (two runs starting together). */
static int
volume_fill (const char *root, const char *name, const char *data, const struct nook_idmapping *ids,
             char *const *layers, const char *path, nook_error_t *err)
{
  cleanup_free char *vdir = xasprintf ("%s/volumes/%s", root, name);
  cleanup_close int lock = open (vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (lock < 0 || flock (lock, LOCK_EX) < 0)
    return nook_error_set (err, errno, "lock volume '%s'", name);
  if (!dir_empty (data))
    return 0;
  struct fill_arg a = { .layers = layers, .path = path, .data = data };
  if (sandbox_userns_call (ids, fill_fn, &a, err) < 0)
    return nook_error_wrap (err, "fill volume '%s' from the image's '%s'", name, path);
  return 0;
}

/* ---- a run's volumes ---- */

static bool
has_target (const struct nook_spec *spec, const char *target)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (strcmp (spec->mounts[i].target, target) == 0)
      return true;
  return false;
}

static void
add_mount (struct nook_spec *spec, struct nook_mount m)
{
  spec->mounts = xreallocarray (spec->mounts, spec->n_mounts + 1, sizeof *spec->mounts);
  spec->mounts[spec->n_mounts++] = m;
}

/* --volumes-from CONTAINER[:ro|rw]: that container's mounts (binds and volumes). */
static int
add_volumes_from (const char *root, const char *arg, struct nook_spec *spec, nook_error_t *err)
{
  cleanup_free char *key = xstrdup (arg);
  char *colon = strrchr (key, ':');
  int mode = -1; /* keep each mount's own */
  if (colon && (strcmp (colon, ":ro") == 0 || strcmp (colon, ":rw") == 0))
    {
      mode = colon[2] == 'o';
      *colon = '\0';
    }
  else if (colon)
    return nook_error_set (err, 0, "invalid --volumes-from '%s': mode must be ro or rw", arg);
  struct ctr_list l;
  if (ctr_list_load (root, &l, err) < 0)
    return -1;
  size_t at;
  int r = ctr_find (&l, key, &at, err);
  size_t i;
  json_t *m;
  json_array_foreach (r == 0 ? json_object_get (l.v[at].config, "Mounts") : NULL, i, m)
  {
    const char *type = json_string_value (json_object_get (m, "Type"));
    const char *dst = json_string_value (json_object_get (m, "Destination"));
    const char *src = json_string_value (json_object_get (m, "Source"));
    const char *name = json_string_value (json_object_get (m, "Name"));
    if (type == NULL || dst == NULL || has_target (spec, dst) || strcmp (type, "tmpfs") == 0)
      continue;
    bool volume = strcmp (type, "volume") == 0 && name;
    bool ro = mode >= 0 ? mode : !json_is_true (json_object_get (m, "RW"));
    add_mount (spec, (struct nook_mount){ .kind = MOUNT_BIND,
                                          .source = xstrdup (volume ? name
                                                             : src  ? src
                                                                    : ""),
                                          .target = xstrdup (dst),
                                          .readonly = ro,
                                          .options = xstrdup ("nocopy") });
  }
  ctr_list_free (&l);
  return r;
}

static json_t *
mount_json (const struct nook_mount *m, const char *volume)
{
  if (m->kind == MOUNT_TMPFS)
    return json_pack ("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "tmpfs", "Source", "",
                      "Destination", m->target, "Mode", m->options ? m->options : "", "RW",
                      !m->readonly, "Propagation", "");
  if (volume)
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume", "Name", volume,
                      "Source", m->source, "Destination", m->target, "Driver", "local", "Mode",
                      m->readonly ? "ro" : "z", "RW", !m->readonly, "Propagation", "");
  return json_pack ("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source", m->source,
                    "Destination", m->target, "Mode", m->readonly ? "ro" : "", "RW", !m->readonly,
                    "Propagation", "rprivate");
}

int
volumes_prepare (const char *root, const struct nook_idmapping *ids, const json_t *image_config,
                 char *const *volumes_from, struct nook_spec *spec, json_t **mounts,
                 nook_error_t *err)
{
  for (size_t i = 0; volumes_from && volumes_from[i]; i++)
    if (add_volumes_from (root, volumes_from[i], spec, err) < 0)
      return -1;
  /* the image's VOLUME entries no mount covers: anonymous volumes */
  json_t *cfg = image_config ? json_object_get (image_config, "config") : NULL;
  const char *path;
  json_t *v;
  json_object_foreach (json_object_get (cfg, "Volumes"), path, v)
  {
    if (path[0] != '/' || strcmp (path, "/") == 0 || has_target (spec, path))
      continue;
    add_mount (spec, (struct nook_mount){ .kind = MOUNT_BIND, .target = xstrdup (path) });
  }
  *mounts = json_array ();
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      struct nook_mount *m = &spec->mounts[i];
      if (m->kind != MOUNT_BIND || (m->source && m->source[0] == '/'))
        {
          json_array_append_new (*mounts, mount_json (m, NULL));
          continue;
        }
      bool anonymous = m->source == NULL;
      cleanup_free char *name = anonymous ? random_hex_id () : xstrdup (m->source);
      cleanup_free char *data = NULL;
      bool created = false;
      if (volume_ensure (root, name, NULL, anonymous, &created, &data, err) < 0)
        return -1;
      if (created)
        events_record (root, "volume", "create", name, json_pack ("{s:s}", "driver", "local"));
      bool nocopy = m->options && strcmp (m->options, "nocopy") == 0;
      if (!nocopy && spec->layers
          && volume_fill (root, name, data, ids, spec->layers, m->target, err) < 0)
        return -1;
      free (m->source);
      free (m->options);
      m->options = NULL;
      m->source = steal_pointer (&data);
      json_array_append_new (*mounts, mount_json (m, name));
    }
  return 0;
}

/* ---- removal ---- */

int
volume_remove_dir (const char *root, const char *name, const struct nook_idmapping *ids,
                   nook_error_t *err)
{
  cleanup_free char *vdir = xasprintf ("%s/volumes", root);
  cleanup_free char *trash = xasprintf ("%s/.rm-%s-%d", vdir, name, (int)getpid ());
  cleanup_free char *path = xasprintf ("%s/%s", vdir, name);
  /* renamed out of the way first: the name is free at once, whatever is left */
  if (rename (path, trash) < 0)
    return nook_error_set (err, errno, "remove volume '%s'", name);
  /* (gone from here on: rm, prune, a container's anonymous ones) */
  events_record (root, "volume", "destroy", name, json_pack ("{s:s}", "driver", "local"));
  return cmd_store_rm_rf (ids, trash, err);
}

char **
volume_users (const struct ctr_list *l, const char *name)
{
  char **ids = NULL;
  for (size_t i = 0; i < l->n; i++)
    {
      size_t k;
      json_t *m;
      json_array_foreach (json_object_get (l->v[i].config, "Mounts"), k, m)
      {
        const char *n = json_string_value (json_object_get (m, "Name"));
        if (n && strcmp (n, name) == 0)
          {
            strv_push (&ids, l->v[i].id);
            break;
          }
      }
    }
  return ids;
}

void
volumes_remove_anonymous (const char *root, const struct nook_idmapping *ids, json_t *mounts)
{
  size_t i;
  json_t *m;
  bool any = false;
  json_array_foreach (mounts, i, m) any |= json_object_get (m, "Name") != NULL;
  if (!any)
    return; /* (the common case: no volume, no reading of every record) */
  struct ctr_list l;
  cleanup_error nook_error_t e = NULL;
  if (ctr_list_load (root, &l, &e) < 0)
    return;
  json_array_foreach (mounts, i, m)
  {
    const char *name = json_string_value (json_object_get (m, "Name"));
    if (name == NULL || !volume_name_valid (name))
      continue;
    cleanup_free char *meta = xasprintf ("%s/volumes/%s/volume.json", root, name);
    cleanup_free char *text = NULL;
    cleanup_error nook_error_t re = NULL;
    if (fs_read_file_at (AT_FDCWD, meta, 1 << 20, &text, NULL, &re) < 0)
      continue;
    json_t *j = json_loads (text, 0, NULL);
    bool anon = json_object_get (json_object_get (j, "Labels"), ANON_LABEL) != NULL;
    json_decref (j);
    cleanup_strv char **users = anon ? volume_users (&l, name) : NULL;
    if (!anon || users)
      continue;
    if (volume_remove_dir (root, name, ids, &re) < 0)
      fprintf (stderr, "Error: remove volume %s: %s\n", name, re->msg);
  }
  ctr_list_free (&l);
}
