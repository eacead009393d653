/* cmd/records.c: see records.h. */
#include "cmd/records.h"
#include "imagefmt/store.h"
#include "sandbox/rootfs.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int
rm_entry_in (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  return fs_rm_rf_at (dirfd, name, err);
}

static bool
valid_name (const char *n)
{
  size_t len = strlen (n);
  if (len == 0 || len > 128)
    return false;
  for (size_t i = 0; i < len; i++)
    {
      char c = n[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
        return false;
    }
  return true;
}

unsigned long long
container_proc_start (pid_t pid)
{
  char path[40], buf[1024];
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  const char *p = strrchr (buf, ')');
  int field = 2;
  for (; p && *p; p++)
    if (*p == ' ' && ++field == 22)
      return strtoull (p + 1, NULL, 10);
  return 0;
}

/* Names are symlinks containers/.names/NAME -> ID: taken atomically (two
 * runs cannot both get one), found without reading every container. */
static int
reserve_name (int cdir, const char *name, const char *id, nook_error_t *err)
{
  if (mkdirat (cdir, ".names", 0700) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "mkdir containers/.names");
  cleanup_close int nd = openat (cdir, ".names", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (nd < 0)
    return nook_error_set (err, errno, "open containers/.names");
  if (symlinkat (id, nd, name) == 0)
    return 0;
  /* Taken, maybe stale: decide under the lock, so that two runs cannot both
   * replace the same stale name. */
  if (flock (nd, LOCK_EX) < 0)
    return nook_error_set (err, errno, "lock containers/.names");
  if (errno != EEXIST)
    return nook_error_set (err, errno, "reserve the name '%s'", name);
  /* A name whose container is gone (removed by hand) is free again. */
  char target[80];
  ssize_t n = readlinkat (nd, name, target, sizeof target - 1);
  if (n > 0)
    {
      target[n] = '\0';
      struct stat st;
      if (fstatat (cdir, target, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT
          && unlinkat (nd, name, 0) == 0 && symlinkat (id, nd, name) == 0)
        return 0;
      return nook_error_set (err, 0,
                             "Conflict. The container name \"/%s\" is already in use by container "
                             "\"%s\". You have to remove (or rename) that container to be able to "
                             "reuse that name.",
                             name, target);
    }
  return nook_error_set (err, 0, "Conflict. The container name \"/%s\" is already in use", name);
}

void
container_release_name (const char *root, const char *name, const char *id)
{
  cleanup_free char *link = xasprintf ("%s/containers/.names/%s", root, name);
  char target[80];
  ssize_t n = readlink (link, target, sizeof target - 1);
  if (n > 0)
    {
      target[n] = '\0';
      if (strcmp (target, id) == 0)
        unlink (link);
    }
}

/* Docker-style names for containers run without --name: adjective_noun. */
static char *
generated_name (const char *id, int attempt)
{
  static const char *const adjectives[] = {
    "brave", "calm",  "clever", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid",
    "merry", "nifty", "quiet",  "sharp", "swift", "tidy",   "vivid", "witty", "zen",  "bold",
  };
  static const char *const nouns[] = {
    "turing",   "hopper",  "lovelace", "knuth",   "ritchie",  "thompson",  "liskov", "dijkstra",
    "hamilton", "noether", "curie",    "shannon", "torvalds", "kernighan", "wirth",  "backus",
  };
  unsigned h = 0;
  for (const char *c = id; *c; c++)
    h = h * 31 + (unsigned char)*c;
  h += (unsigned)attempt * 2654435761u;
  const char *a = adjectives[h % ARRAY_SIZE (adjectives)];
  const char *n = nouns[(h / ARRAY_SIZE (adjectives)) % ARRAY_SIZE (nouns)];
  return attempt < 4 ? xasprintf ("%s_%s", a, n) : xasprintf ("%s_%s_%.6s", a, n, id);
}

/* ---- a pool of emptied container directories ----
 *
 * On ext4 a mkdir+rmdir pair costs ~160 us here (the allocator looks for
 * recently deleted inodes), and a run needs five directories.  So `--rm`
 * empties its directory (upper/ and work/ emptied, merged/ and etc/ kept)
 * and parks it in containers/.pool; the next run renames one into place. */

#define POOL_MAX 8

static int
count_entry (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  ++*(int *)arg;
  return 0;
}

static bool
take_pooled (int cdir, const char *id)
{
  cleanup_close int pool = openat (cdir, ".pool", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (pool < 0)
    return false;
  int dup = fcntl (pool, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  if (d == NULL)
    {
      if (dup >= 0)
        close (dup);
      return false;
    }
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.' && renameat (pool, de->d_name, cdir, id) == 0)
      return true; /* (a concurrent nook may take the same one first: try the next) */
  return false;
}

static int
empty_entry (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  cleanup_close int fd = -1;
  if (strcmp (name, "config.json") == 0)
    return 0; /* rewritten in place by the next run */
  if (strcmp (name, "upper") == 0 || strcmp (name, "work") == 0 || strcmp (name, "merged") == 0
      || strcmp (name, "etc") == 0)
    {
      fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return nook_error_set (err, errno, "open '%s'", name);
      return fs_dir_foreach (fd, rm_entry_in, NULL, err);
    }
  return fs_rm_rf_at (dirfd, name, err);
}

json_t *
container_read_json (int cdir, const char *id, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", id, file);
  cleanup_free char *text = NULL;
  cleanup_error nook_error_t e = NULL;
  if (fs_read_file_at (cdir, path, 1 << 20, &text, NULL, &e) < 0)
    return NULL;
  return json_loads (text, JSON_REJECT_DUPLICATES, NULL);
}

/* The Name in containers/ID/config.json (malloc'd), or NULL. */
static char *
recorded_name (const char *root, const char *id)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  json_t *cfg = cdir >= 0 ? container_read_json (cdir, id, "config.json") : NULL;
  const char *n = json_string_value (json_object_get (cfg, "Name"));
  char *name = n ? xstrdup (n) : NULL;
  json_decref (cfg);
  return name;
}

int
container_empty (const char *root, const char *id, bool reserved_name, nook_error_t *err)
{
  cleanup_free char *name = reserved_name ? recorded_name (root, id) : NULL;
  if (name)
    container_release_name (root, name, id);
  cleanup_free char *path = xasprintf ("%s/containers/%s", root, id);
  cleanup_close int d = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0)
    return nook_error_set (err, errno, "open '%s'", path);
  return fs_dir_foreach (d, empty_entry, NULL, err);
}

int
container_park (const char *root, const char *id, nook_error_t *err)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0)
    return nook_error_set (err, errno, "open '%s'", cpath);
  if (mkdirat (cdir, ".pool", 0700) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "mkdir '%s/.pool'", cpath);
  cleanup_close int pool = openat (cdir, ".pool", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int n = 0;
  if (pool < 0 || fs_dir_foreach (pool, count_entry, &n, err) < 0)
    return nook_error_set (err, errno, "open '%s/.pool'", cpath);
  if (n >= POOL_MAX)
    return nook_error_set (err, 0, "the pool of container directories is full");
  if (renameat (cdir, id, pool, id) < 0)
    return nook_error_set (err, errno, "park container directory '%s'", id);
  return 0;
}

static int
write_config (int cdir, const struct container_record *rec, const char *name, nook_error_t *err)
{
  cleanup_close int d = openat (cdir, rec->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0)
    return nook_error_set (err, errno, "open container '%s'", rec->id);
  json_t *argv = json_array ();
  for (size_t i = 0; rec->argv && rec->argv[i]; i++)
    json_array_append_new (argv, json_string (rec->argv[i]));
  json_t *cfg
      = json_pack ("{s:s, s:s?, s:s, s:s, s:o, s:s, s:I, s:I, s:I}", "Id", rec->id, "Name", name,
                   "Image", rec->image, "ImageID", rec->image_id, "Cmd", argv, "StorageDriver",
                   rec->driver, "Created", (json_int_t)time (NULL), "Pid", (json_int_t)getpid (),
                   "PidStart", (json_int_t)container_proc_start (getpid ()));
  if (rec->extra)
    json_object_update (cfg, rec->extra);
  cleanup_free char *text = json_dumps (cfg, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref (cfg);
  if (text == NULL)
    oom ();
  /* Written in place (the directory is new or emptied for us alone), over the
   * pooled one's without O_TRUNC: freeing and allocating its block again cost
   * ~0.3 ms on ext4 with discard. */
  cleanup_close int fd
      = openat (d, "config.json", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  size_t len = strlen (text);
  if (fd < 0 || fs_write_all (fd, text, len) < 0 || ftruncate (fd, (off_t)len) < 0)
    return nook_error_set (err, errno, "write config.json");
  return 0;
}

int
container_create (const char *root, const struct container_record *rec, char **dir,
                  nook_error_t *err)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  if (mkdir (cpath, 0700) < 0 && errno != EEXIST)
    return nook_error_set (err, errno, "mkdir '%s'", cpath);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0)
    return nook_error_set (err, errno, "open '%s'", cpath);
  if (rec->name && !valid_name (rec->name))
    return nook_error_set (err, 0,
                           "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                           "allowed",
                           rec->name);
  /* The directory first (a name is stale only when its directory is gone),
   * then the name; on any failure neither is left behind. */
  if (!take_pooled (cdir, rec->id) && mkdirat (cdir, rec->id, 0700) < 0)
    return nook_error_set (err, errno, "mkdir container '%s'", rec->id);
  cleanup_free char *name = NULL;
  if (rec->name)
    {
      if (reserve_name (cdir, rec->name, rec->id, err) == 0)
        name = xstrdup (rec->name);
    }
  else if (rec->ephemeral)
    name = generated_name (rec->id, 0); /* shown by ps; not worth a disk write */
  else
    for (int attempt = 0; name == NULL && attempt < 8; attempt++)
      {
        cleanup_error nook_error_t e = NULL;
        cleanup_free char *try = generated_name (rec->id, attempt);
        if (reserve_name (cdir, try, rec->id, &e) == 0)
          name = steal_pointer (&try);
      }
  if ((rec->name && name == NULL) || write_config (cdir, rec, name, err) < 0)
    {
      cleanup_error nook_error_t e = NULL;
      if (name)
        container_release_name (root, name, rec->id);
      fs_rm_rf_at (cdir, rec->id, &e);
      return -1; /* (never "container <id>": that container was not made) */
    }
  *dir = xasprintf ("%s/%s", cpath, rec->id);
  return 0;
}

int
container_set_exited (const char *dir, int status, const char *msg)
{
  cleanup_close int d = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0)
    return -1;
  json_t *st
      = json_pack ("{s:s, s:i, s:s?, s:I}", "Status", status < 0 ? "failed" : "exited", "ExitCode",
                   status < 0 ? 125 : status, "Error", msg, "FinishedAt", (json_int_t)time (NULL));
  cleanup_free char *text = json_dumps (st, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref (st);
  cleanup_error nook_error_t e = NULL;
  return text ? fs_write_file_at (d, "state.json", text, strlen (text), 0600, &e) : -1;
}

struct rm_arg
{
  const char *path;
};

static int
rm_fn (void *arg, nook_error_t *err)
{
  return fs_rm_rf_at (AT_FDCWD, ((struct rm_arg *)arg)->path, err);
}

int
container_remove (const char *root, const char *id, const struct nook_idmapping *ids,
                  nook_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/containers/%s", root, id);
  cleanup_free char *name = recorded_name (root, id);
  if (name)
    container_release_name (root, name, id);
  /* Most of it is ours: try without a namespace first, it is faster. */
  cleanup_error nook_error_t first = NULL;
  if (fs_rm_rf_at (AT_FDCWD, path, &first) == 0)
    return 0;
  struct rm_arg a = { .path = path };
  return sandbox_userns_call (ids, rm_fn, &a, err);
}

struct image_user
{
  const char *image_id;
  char *found;
};

static int
uses_image (int cdir, const char *id, void *arg, nook_error_t *err)
{
  struct image_user *u = arg;
  if (id[0] == '.')
    return 0;
  json_t *cfg = container_read_json (cdir, id, "config.json");
  const char *img = json_string_value (json_object_get (cfg, "ImageID"));
  bool match = img && strcmp (img, u->image_id) == 0;
  json_decref (cfg);
  if (!match)
    return 0;
  u->found = xstrdup (id);
  return 1;
}

char *
container_using_image (const char *root, const char *image_id)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct image_user u = { .image_id = image_id };
  cleanup_error nook_error_t e = NULL;
  if (cdir >= 0)
    fs_dir_foreach (cdir, uses_image, &u, &e);
  return u.found;
}
