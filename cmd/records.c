/* cmd/records.c: see records.h. */
#include "cmd/records.h"
#include "cmd/cli.h"
#include "cmd/events.h"
#include "cmd/freezer.h"
#include "cmd/store_open.h"
#include "imagefmt/store.h"
#include "sandbox/rootfs.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
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
 * and parks it in containers/.pool; the next run renames one into place.
 *
 * A container that wrote nothing leaves only overlayfs' own work/work tree
 * (three directories; removing them waited ~0.3 ms for the disk's discards
 * here): such a directory is parked as it is, as .pool/.d-<id>, and the next
 * run empties it while its own command runs (container_pool_clean). */

#define POOL_MAX 8

static int
count_entry (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  ++*(int *)arg;
  return 0;
}

struct take
{
  int cdir;
  const char *id;
};

static int
take_one (int pool, const char *name, void *arg, nook_error_t *err)
{
  struct take *t = arg;
  /* (a concurrent nook may take the same one first: try the next) */
  return name[0] != '.' && renameat (pool, name, t->cdir, t->id) == 0;
}

static bool
take_pooled (int cdir, const char *id)
{
  cleanup_close int pool = openat (cdir, ".pool", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_error nook_error_t e = NULL;
  struct take t = { .cdir = cdir, .id = id };
  return pool >= 0 && fs_dir_foreach (pool, take_one, &t, &e) == 1;
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
  json_t *j = json_loads (text, JSON_REJECT_DUPLICATES, NULL);
  /* A pooled directory keeps the config.json of its last container until the
   * run that took it rewrites it (after its clone: container_write_config):
   * that one describes no container. */
  const char *rid
      = strcmp (file, "config.json") == 0 ? json_string_value (json_object_get (j, "Id")) : NULL;
  if (rid && strcmp (rid, id) != 0)
    {
      json_decref (j);
      return NULL;
    }
  return j;
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

static int
any_entry (int dirfd, const char *name, void *arg, nook_error_t *err)
{
  return 1;
}

/* Nothing in DIRFD/upper (and no entry it does not know of): only work/
 * holds anything, and only overlayfs' own directories; *dirty: work/ does
 * (not when the writable layer was a tmpfs of the run: both stay empty). */
static bool
only_work_left (int d, bool *dirty)
{
  cleanup_close int upper = openat (d, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_error nook_error_t e = NULL;
  if (upper < 0 || fs_dir_foreach (upper, any_entry, NULL, &e) != 0)
    return false;
  cleanup_close int work = openat (d, "work", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  *dirty = work < 0 || fs_dir_foreach (work, any_entry, NULL, &e) != 0;
  return true;
}

int
container_empty (const char *root, const char *id, bool reserved_name, bool *deferred, bool *dirty,
                 nook_error_t *err)
{
  cleanup_free char *name = reserved_name ? recorded_name (root, id) : NULL;
  if (name)
    container_release_name (root, name, id);
  cleanup_free char *path = xasprintf ("%s/containers/%s", root, id);
  cleanup_close int d = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0)
    return nook_error_set (err, errno, "open '%s'", path);
  *dirty = true;
  *deferred = only_work_left (d, dirty);
  if (*deferred)
    return 0;
  return fs_dir_foreach (d, empty_entry, NULL, err);
}

#define DIRTY_PREFIX ".d-"
#define CLEANING_PREFIX ".c-"

static int
clean_one (int pool, const char *name, void *arg, nook_error_t *err)
{
  int *budget = arg;
  if (!str_has_prefix (name, DIRTY_PREFIX) || strlen (name) > 128)
    return 0;
  /* Claimed by a rename: two runs never clean the same one. */
  char claimed[160];
  snprintf (claimed, sizeof claimed, CLEANING_PREFIX "%s", name + strlen (DIRTY_PREFIX));
  if (renameat (pool, name, pool, claimed) < 0)
    return 0;
  cleanup_error nook_error_t e = NULL;
  cleanup_close int d = openat (pool, claimed, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d >= 0 && fs_dir_foreach (d, empty_entry, NULL, &e) == 0)
    renameat (pool, claimed, pool, name + strlen (DIRTY_PREFIX));
  else if (fs_rm_rf_at (pool, claimed, &e) < 0)
    log_debug ("could not clean the pooled directory %s: %s", claimed, e->msg);
  return --*budget > 0 ? 0 : 1;
}

void
container_pool_clean (const char *root)
{
  cleanup_free char *path = xasprintf ("%s/containers/.pool", root);
  cleanup_close int pool = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int budget = 2; /* (each run leaves at most one) */
  cleanup_error nook_error_t e = NULL;
  if (pool >= 0)
    fs_dir_foreach (pool, clean_one, &budget, &e);
}

int
container_park (const char *root, const char *id, bool dirty, nook_error_t *err)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0)
    return nook_error_set (err, errno, "open '%s'", cpath);
  cleanup_close int pool = openat (cdir, ".pool", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (pool < 0 && errno == ENOENT)
    {
      if (mkdirat (cdir, ".pool", 0700) < 0 && errno != EEXIST)
        return nook_error_set (err, errno, "mkdir '%s/.pool'", cpath);
      pool = openat (cdir, ".pool", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  int n = 0;
  if (pool < 0 || fs_dir_foreach (pool, count_entry, &n, err) < 0)
    return nook_error_set (err, errno, "open '%s/.pool'", cpath);
  if (n >= POOL_MAX)
    return nook_error_set (err, 0, "the pool of container directories is full");
  cleanup_free char *parked = xasprintf ("%s%s", dirty ? DIRTY_PREFIX : "", id);
  if (renameat (cdir, id, pool, parked) < 0)
    return nook_error_set (err, errno, "park container directory '%s'", id);
  return 0;
}

/* config.json's members (a new object) */
static json_t *
config_json (const struct container_record *rec, const char *name)
{
  /* Created in seconds (Docker's tables); CreatedNs orders containers made within one
   * second (ps -n, -l, newest first) */
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  json_t *argv = json_array ();
  for (size_t i = 0; rec->argv && rec->argv[i]; i++)
    json_array_append_new (argv, json_string (rec->argv[i]));
  json_t *cfg
      = json_pack ("{s:s, s:s?, s:s, s:s, s:o, s:s, s:I, s:I, s:I}", "Id", rec->id, "Name", name,
                   "Image", rec->image, "ImageID", rec->image_id, "Cmd", argv, "StorageDriver",
                   rec->driver, "Created", (json_int_t)now.tv_sec, "Pid", (json_int_t)getpid (),
                   "PidStart", (json_int_t)container_proc_start (getpid ()));
  json_object_set_new (cfg, "CreatedNs",
                       json_integer ((json_int_t)now.tv_sec * 1000000000 + now.tv_nsec));
  if (rec->network)
    json_object_set_new (cfg, "NetworkMode", json_string (rec->network));
  if (rec->n_ports)
    {
      json_t *ports = json_array ();
      for (size_t i = 0; i < rec->n_ports; i++)
        {
          const struct net_port *p = &rec->ports[i];
          json_array_append_new (
              ports, json_pack ("{s:s, s:i, s:i, s:s}", "IP", *p->host_ip ? p->host_ip : "0.0.0.0",
                                "PrivatePort", (int)p->container_port, "PublicPort",
                                (int)p->host_port, "Type", net_port_proto_name (p->proto)));
        }
      json_object_set_new (cfg, "Ports", ports);
    }
  if (rec->extra)
    json_object_update_missing (cfg, rec->extra);
  return cfg;
}

/* config.json's text (malloc'd) */
static char *
config_text (const json_t *cfg)
{
  char *text = json_dumps (cfg, JSON_SORT_KEYS | JSON_COMPACT);
  if (text == NULL)
    oom ();
  return text;
}

static int
write_config_at (int d, const char *text, nook_error_t *err)
{
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

static int
write_config (int cdir, const struct container_record *rec, const char *name, nook_error_t *err)
{
  cleanup_close int d = openat (cdir, rec->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0)
    return nook_error_set (err, errno, "open container '%s'", rec->id);
  json_t *cfg = config_json (rec, name);
  cleanup_free char *text = config_text (cfg);
  json_decref (cfg);
  return write_config_at (d, text, err);
}

int
container_write_config (const char *dir, const struct container_record *rec, const char *name,
                        json_t **written, nook_error_t *err)
{
  cleanup_close int d = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0)
    return nook_error_set (err, errno, "open '%s'", dir);
  json_t *cfg = config_json (rec, name);
  cleanup_free char *text = config_text (cfg);
  if (written)
    *written = cfg;
  else
    json_decref (cfg);
  return write_config_at (d, text, err);
}

struct net_port *
container_ports (const json_t *config, size_t *n)
{
  json_t *a = config ? json_object_get (config, "Ports") : NULL;
  *n = 0;
  if (!json_is_array (a) || json_array_size (a) == 0)
    return NULL;
  struct net_port *v = xzalloc (sizeof *v * json_array_size (a));
  size_t i;
  json_t *p;
  json_array_foreach (a, i, p)
  {
    const char *ip = json_string_value (json_object_get (p, "IP"));
    const char *type = json_string_value (json_object_get (p, "Type"));
    struct net_port *q = &v[(*n)++];
    snprintf (q->host_ip, sizeof q->host_ip, "%s", ip && strcmp (ip, "0.0.0.0") != 0 ? ip : "");
    q->proto = type && strcmp (type, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
    q->container_port = (uint16_t)json_integer_value (json_object_get (p, "PrivatePort"));
    q->host_port = (uint16_t)json_integer_value (json_object_get (p, "PublicPort"));
  }
  return v;
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
  if (rec->name && !cmd_name_valid (rec->name, 1, 128))
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
  if (rec->deferred_name && !(rec->name && name == NULL))
    *rec->deferred_name = steal_pointer (&name);
  else if ((rec->name && name == NULL) || write_config (cdir, rec, name, err) < 0)
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

int
container_remove (const char *root, const char *id, const struct nook_idmapping *ids,
                  nook_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/containers/%s", root, id);
  cleanup_free char *name = recorded_name (root, id);
  events_container (root, id, "destroy", NULL); /* (while its record is there to name it) */
  if (name)
    container_release_name (root, name, id);
  /* its freezer cgroup (cmd/freezer.h), left when its supervisor was killed: empty;
   * the one of this user's freezer when the record names none (an attached run killed
   * before it recorded itself) */
  cleanup_free char *cdir_path = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cdir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  json_t *st = cdir >= 0 ? container_read_json (cdir, id, "state.json") : NULL;
  const char *cg = st ? json_string_value (json_object_get (st, "Cgroup")) : NULL;
  cleanup_free char *leaf = xasprintf ("/nook-%s", id);
  struct freezer base = { 0 }, mine = { 0 };
  cleanup_free char *why = NULL;
  if (cg == NULL && freezer_find (&base, &why) == 0)
    {
      freezer_name (&base, id, &mine);
      cg = mine.dir;
      freezer_free (&base);
    }
  if (cg && strlen (cg) > strlen (leaf) && strcmp (cg + strlen (cg) - strlen (leaf), leaf) == 0)
    /* (its processes may still be dying: they die with their supervisor) */
    for (int i = 0; i < 3000 && rmdir (cg) < 0 && errno == EBUSY; i++)
      {
        struct timespec ts = { 0, 1000000 };
        nanosleep (&ts, NULL);
      }
  json_decref (st);
  freezer_free (&mine);
  return cmd_store_rm_rf (ids, path, err);
}

struct image_user
{
  const char *image_id;
  char *found;
  bool running;
};

/* Whether the nook that runs container `id` is alive: its pid has the start time
 * recorded, and the run has not recorded its end. */
static bool
record_running (int cdir, const char *id, const json_t *cfg)
{
  pid_t pid = (pid_t)json_integer_value (json_object_get (cfg, "Pid"));
  unsigned long long start
      = (unsigned long long)json_integer_value (json_object_get (cfg, "PidStart"));
  if (pid <= 0 || start == 0 || container_proc_start (pid) != start)
    return false;
  json_t *st = container_read_json (cdir, id, "state.json");
  json_decref (st);
  return st == NULL;
}

static int
uses_image (int cdir, const char *id, void *arg, nook_error_t *err)
{
  struct image_user *u = arg;
  if (id[0] == '.')
    return 0;
  json_t *cfg = container_read_json (cdir, id, "config.json");
  const char *img = json_string_value (json_object_get (cfg, "ImageID"));
  bool match = img && strcmp (img, u->image_id) == 0;
  bool running = match && record_running (cdir, id, cfg);
  json_decref (cfg);
  if (!match || (u->found && !running))
    return 0;
  free (u->found);
  u->found = xstrdup (id);
  u->running = running;
  return running; /* a running one is the answer; a stopped one, unless one runs */
}

char *
container_using_image (const char *root, const char *image_id, bool *running)
{
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct image_user u = { .image_id = image_id };
  cleanup_error nook_error_t e = NULL;
  if (cdir >= 0)
    fs_dir_foreach (cdir, uses_image, &u, &e);
  if (running)
    *running = u.running;
  return u.found;
}

int
container_rename (const char *root, const char *id, const char *old_name, const char *new_name,
                  nook_error_t *err)
{
  const char *n = new_name[0] == '/' ? new_name + 1 : new_name;
  if (!cmd_name_valid (n, 1, 128))
    return nook_error_set (err, 0,
                           "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                           "allowed",
                           new_name);
  if (old_name && strcmp (old_name, n) == 0)
    return nook_error_set (err, 0, "Renaming a container with the same name as its current name");
  cleanup_free char *cpath = xasprintf ("%s/containers", root);
  cleanup_close int cdir = open (cpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0)
    return nook_error_set (err, errno, "open '%s'", cpath);
  if (reserve_name (cdir, n, id, err) < 0)
    return -1;
  json_t *cfg = container_read_json (cdir, id, "config.json");
  cleanup_close int d = openat (cdir, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_free char *text = NULL;
  if (cfg && d >= 0)
    {
      json_object_set_new (cfg, "Name", json_string (n));
      text = json_dumps (cfg, JSON_SORT_KEYS | JSON_COMPACT);
    }
  json_decref (cfg);
  if (text == NULL || fs_write_atomic_at (d, "config.json", text, strlen (text), 0600, err) < 0)
    {
      container_release_name (root, n, id);
      return *err ? -1 : nook_error_set (err, errno, "rename container %s", id);
    }
  if (old_name && *old_name)
    container_release_name (root, old_name, id);
  return 0;
}
