/* cmd/build/mounts.c: RUN --mount (imagefmt/dockerfile/flags.h parses them) made into
 * the step container's mounts, and `nook build --secret`.
 *
 * - cache: a directory of the store, cache/build-mounts/<sha256 of the id>, kept across
 *   builds; sharing=shared takes its lock shared, locked exclusive (waits),
 *   private exclusive without waiting, else a fresh empty directory for this step;
 * - bind: the source (the build context, a stage or an image: from=) planned by the COPY
 *   machinery (the digest of what is bound keys the step); read-only (the default), the
 *   source itself is bound, no copy made, when that shows the same files: one file or
 *   directory nothing of .dockerignore excludes, or a path only one of a stage's layers
 *   has; else (exclusions, a path several layers make, rw: writes discarded) it is
 *   copied into the step's directory and that is bound;
 * - tmpfs: a tmpfs (size=);
 * - secret: the value written to a file of mode 0400 in the step's directory, bound
 *   read-only at /run/secrets/<id> (or target), or given as env=NAME; it is in no key,
 *   no history, no layer (the mount point nook's sandbox made for it is removed from
 *   the upper dir before packing, as every mount point that was not in the stage);
 * - ssh: refused.
 * The step's directory (<store>/build/<tmp>) is removed after the step. */
#include "cmd/build/build.h"
#include "imagefmt/digest.h"
#include "imagefmt/dockerfile/flags.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fs_read.h"
#include "util/owner_record.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* ---- --secret (pure) ---- */

int
build_secret_parse (const char *spec, const char *(*get_env) (const char *), char **id, char **src,
                    char **env, nook_error_t *err)
{
  cleanup_free char *copy = xstrdup (spec);
  cleanup_free char *type = NULL;
  *id = *src = *env = NULL;
  char *save = NULL;
  for (char *f = strtok_r (copy, ",", &save); f; f = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (f, '=');
      if (eq == NULL)
        goto bad;
      *eq = '\0';
      const char *v = eq + 1;
      char **slot = strcmp (f, "id") == 0                                 ? id
                    : strcmp (f, "src") == 0 || strcmp (f, "source") == 0 ? src
                    : strcmp (f, "env") == 0                              ? env
                    : strcmp (f, "type") == 0                             ? &type
                                                                          : NULL;
      if (slot == NULL)
        {
          nook_error_set_exit (err, 125, 0,
                               "invalid argument \"%s\" for \"--secret\" flag: unexpected key "
                               "'%s' (want id, src, env, type)",
                               spec, f);
          goto fail;
        }
      if (*v == '\0')
        goto bad;
      free (*slot);
      *slot = xstrdup (v);
    }
  if (type && strcmp (type, "file") && strcmp (type, "env"))
    {
      nook_error_set_exit (err, 125, 0,
                           "invalid argument \"%s\" for \"--secret\" flag: type must be file or "
                           "env",
                           spec);
      goto fail;
    }
  if (*src && *env)
    {
      nook_error_set_exit (err, 125, 0,
                           "invalid argument \"%s\" for \"--secret\" flag: src and env are "
                           "exclusive",
                           spec);
      goto fail;
    }
  if (*id == NULL)
    *id = xstrdup (*src ? *src : *env ? *env : "");
  if (**id == '\0')
    goto bad;
  if (*src == NULL && *env == NULL)
    {
      /* docker buildx: type=env takes the variable of the id's name; without a type,
         the variable when set, else a file of that name */
      if ((type && strcmp (type, "env") == 0) || (type == NULL && get_env && get_env (*id)))
        *env = xstrdup (*id);
      else
        *src = xstrdup (*id);
    }
  else if (type && strcmp (type, "env") == 0 && *src)
    {
      *env = *src;
      *src = NULL;
    }
  return 0;
bad:
  nook_error_set_exit (err, 125, 0,
                       "invalid argument \"%s\" for \"--secret\" flag: want "
                       "id=ID[,src=FILE|,env=VARIABLE]",
                       spec);
fail:
  free (*id);
  free (*src);
  free (*env);
  *id = *src = *env = NULL;
  return -1;
}

/* ---- the mounts of one RUN ---- */

struct build_run_mounts
{
  struct nook_mount *m;
  size_t n;
  char **env;     /* secrets as variables: NAME=value */
  char **targets; /* the containers' mount points (for the stub removal) */
  int *locks;     /* cache mounts' lock fds */
  size_t n_locks;
  struct build_copy_plan **plans; /* bind: the copies to make, per mount (NULL else) */
  size_t n_plans;
  char **keytext; /* for the cache key: one line per mount, no secret value */
  char *inputs;   /* the digests of what binds mount, or NULL */
};

static char *
clean_target (struct build_stage_ctx *sc, const char *target)
{
  json_t *cfg = json_object_get (sc->s.config, "config");
  const char *wd = json_string_value (json_object_get (cfg, "WorkingDir"));
  cleanup_free char *joined
      = target[0] == '/' ? xstrdup (target) : xasprintf ("%s/%s", wd && *wd ? wd : "/", target);
  /* collapse //, /./ and trailing / (.. is kept for the sandbox to refuse) */
  struct strbuf o = { 0 };
  char *save = NULL;
  for (char *c = strtok_r (joined, "/", &save); c; c = strtok_r (NULL, "/", &save))
    if (strcmp (c, ".") != 0)
      strbuf_appendf (&o, "/%s", c);
  if (o.len == 0)
    strbuf_append (&o, "/");
  return strbuf_steal (&o);
}

static void
add_mount (struct build_run_mounts *r, enum mount_kind kind, char *source, char *target,
           bool readonly, char *options)
{
  r->m = xreallocarray (r->m, r->n + 1, sizeof *r->m);
  r->m[r->n++] = (struct nook_mount){
    .kind = kind, .source = source, .target = target, .readonly = readonly, .options = options
  };
  strv_push_take (&r->targets, target); /* owns it */
}

static const struct build_secret *
find_secret (const struct build *b, const char *id)
{
  for (size_t i = 0; i < b->n_secrets; i++)
    if (strcmp (b->secrets[i].id, id) == 0)
      return &b->secrets[i];
  return NULL;
}

struct chown_job
{
  const char *path;
  uid_t uid;
  gid_t gid;
};

/* In the store's user namespace: the owner uid=/gid= ask for, or (a single-id user: the
 * kernel refuses other ids) recorded beside the directory for the credential emulation. */
static int
chown_fn (void *arg, nook_error_t *err)
{
  struct chown_job *j = arg;
  cleanup_close int fd = open (j->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", j->path);
  if (fchownat (fd, "", j->uid, j->gid, AT_EMPTY_PATH) == 0)
    return 0;
  if ((errno == EINVAL || errno == EPERM) && owner_record_set_fd (fd, j->uid, j->gid) == 0)
    return 0;
  return nook_error_set (err, errno, "chown '%s' to %u:%u", j->path, (unsigned)j->uid,
                         (unsigned)j->gid);
}

static int
cache_dir (struct build *b, const struct dockerfile_mount *dm, char **dir, int *lockfd,
           nook_error_t *err)
{
  const char *root = imagefmt_store_root (b->store);
  cleanup_free char *dg = imagefmt_digest_data (dm->id, strlen (dm->id));
  const char *hex = strchr (dg, ':') ? strchr (dg, ':') + 1 : dg;
  cleanup_free char *base = xasprintf ("%s/cache/build-mounts", root);
  if (fs_mkdir_p (base, 0700, err) < 0)
    return -1;
  cleanup_free char *lock = xasprintf ("%s/%s.lock", base, hex);
  int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "open '%s'", lock);
  int how = dm->sharing == DOCKERFILE_SHARING_SHARED   ? LOCK_SH
            : dm->sharing == DOCKERFILE_SHARING_LOCKED ? LOCK_EX
                                                       : LOCK_EX | LOCK_NB;
  while (flock (fd, how) < 0)
    {
      if (errno == EINTR && !build_interrupted)
        continue;
      int e = errno;
      close (fd);
      if (e == EWOULDBLOCK)
        {
          *dir = NULL; /* private and in use: a fresh one for this step */
          *lockfd = -1;
          return 0;
        }
      return nook_error_set (err, e, "lock '%s'", lock);
    }
  futimens (fd, NULL); /* the lock's mtime: the cache's last use (builder prune --filter) */
  *dir = xasprintf ("%s/%s", base, hex);
  if (mkdir (*dir, (mode_t)(dm->has_mode ? dm->mode & 07777 : 0755)) < 0)
    {
      if (errno != EEXIST)
        {
          nook_error_set (err, errno, "create '%s'", *dir);
          free (*dir);
          *dir = NULL;
          close (fd);
          return -1;
        }
    }
  else
    {
      /* new: mode= exactly (not the umask's), and uid=/gid= */
      struct chown_job cj = { .path = *dir, .uid = dm->uid, .gid = dm->gid };
      if ((dm->has_mode && chmod (*dir, (mode_t)(dm->mode & 07777)) < 0)
          || ((dm->uid || dm->gid) && imagefmt_store_call (b->store, chown_fn, &cj, err) < 0))
        {
          if (!*err)
            nook_error_set (err, errno, "chmod '%s'", *dir);
          rmdir (*dir);
          free (*dir);
          *dir = NULL;
          close (fd);
          return -1;
        }
    }
  *lockfd = fd;
  return 0;
}

void
build_run_mounts_free (struct build_run_mounts *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n; i++)
    {
      free (r->m[i].source);
      free (r->m[i].options);
    }
  free (r->m);
  for (size_t i = 0; i < r->n_locks; i++)
    if (r->locks[i] >= 0)
      close (r->locks[i]);
  free (r->locks);
  for (size_t i = 0; i < r->n_plans; i++)
    if (r->plans[i])
      build_copy_plan_free (r->plans[i]);
  free (r->plans);
  strv_free (r->targets); /* owns the targets of m */
  strv_free (r->env);
  strv_free (r->keytext);
  free (r->inputs);
  free (r);
}

/* Parse and check the --mount flags of a RUN; plan the binds (their digests key the
 * step). Nothing is made yet: build_run_mounts_make does it for a step that runs. */
int
build_run_mounts_plan (struct build *b, struct build_stage_ctx *sc,
                       const struct dockerfile_run_flags *f, const char *where,
                       struct build_run_mounts **out, nook_error_t *err)
{
  *out = NULL;
  if (f->n_mounts == 0)
    return 0;
  struct build_run_mounts *r = xzalloc (sizeof *r);
  r->plans = xzalloc ((f->n_mounts + 1) * sizeof *r->plans);
  r->n_plans = f->n_mounts;
  struct strbuf in = { 0 };
  for (size_t i = 0; i < f->n_mounts; i++)
    {
      const struct dockerfile_mount *dm = &f->mounts[i];
      if (dm->type == DOCKERFILE_MOUNT_SSH)
        {
          nook_error_set_exit (err, 1, 0,
                               "%s: RUN --mount=type=ssh is not supported: nook forwards no SSH "
                               "agent (use a secret, --mount=type=secret)",
                               where);
          goto fail;
        }
      if (dm->type == DOCKERFILE_MOUNT_SECRET)
        {
          if (find_secret (b, dm->id) == NULL && dm->required)
            {
              nook_error_set_exit (err, 1, 0,
                                   "%s: secret %s: not found (give it with --secret "
                                   "id=%s,src=FILE)",
                                   where, dm->id, dm->id);
              goto fail;
            }
        }
      if (dm->type == DOCKERFILE_MOUNT_CACHE && dm->from)
        {
          nook_error_set_exit (err, 1, 0, "%s: RUN --mount=type=cache,from=%s is not supported",
                               where, dm->from);
          goto fail;
        }
      char *target = NULL;
      if (dm->target)
        target = clean_target (sc, dm->target);
      else if (dm->type != DOCKERFILE_MOUNT_SECRET || dm->env == NULL)
        {
          nook_error_set_exit (err, 1, 0, "%s: RUN --mount: a target is needed", where);
          goto fail;
        }
      if (target && strcmp (target, "/") == 0)
        {
          free (target);
          nook_error_set_exit (err, 1, 0, "%s: RUN --mount: the target cannot be /", where);
          goto fail;
        }
      static const char *const names[] = { "bind", "cache", "tmpfs", "secret", "ssh" };
      strv_push_take (
          &r->keytext,
          xasprintf ("mount type=%s target=%s id=%s from=%s source=%s ro=%d sharing=%d "
                     "env=%s size=%llu mode=%o uid=%u gid=%u",
                     names[dm->type], target ? target : "",
                     dm->type == DOCKERFILE_MOUNT_CACHE || dm->type == DOCKERFILE_MOUNT_SECRET
                         ? dm->id
                         : "",
                     dm->from ? dm->from : "", dm->source ? dm->source : "", dm->readonly,
                     (int)dm->sharing, dm->env ? dm->env : "", (unsigned long long)dm->size,
                     (unsigned)dm->mode, (unsigned)dm->uid, (unsigned)dm->gid));
      if (dm->type == DOCKERFILE_MOUNT_BIND)
        {
          /* COPY [--from=FROM] SOURCE /m/x: the source as one path, a directory's
             contents or a file */
          cleanup_free char *src = xstrdup (dm->source && *dm->source ? dm->source : ".");
          char *srcs[] = { src, NULL };
          struct build_copy c = { .from = dm->from, .srcs = srcs, .dest = "/m/x" };
          char *inputs = NULL;
          if (build_copy_prepare (b, sc, &c, &r->plans[i], &inputs, err) < 0)
            {
              nook_error_wrap (err, "%s: RUN --mount=type=bind", where);
              free (target);
              goto fail;
            }
          strbuf_appendf (&in, "bind %zu %s\n", i, inputs ? inputs : "");
          free (inputs);
        }
      /* the mount list is filled by _make; the targets are kept in order here */
      strv_push_take (&r->targets, target ? target : xstrdup (""));
    }
  if (in.len)
    r->inputs = imagefmt_digest_data (in.buf, in.len);
  strbuf_free (&in);
  *out = r;
  return 0;
fail:
  strbuf_free (&in);
  build_run_mounts_free (r);
  return -1;
}

const char *const *
build_run_mounts_keytext (const struct build_run_mounts *r)
{
  return r ? (const char *const *)r->keytext : NULL;
}

const char *
build_run_mounts_inputs (const struct build_run_mounts *r)
{
  return r ? r->inputs : NULL;
}

/* Make the mounts of a step that runs: cache directories locked, binds copied, secrets
 * written under the step's directory tmp (relative to b->tmpdir). */
int
build_run_mounts_make (struct build *b, const struct dockerfile_run_flags *f,
                       struct build_run_mounts *r, const char *tmp, nook_error_t *err)
{
  if (r == NULL)
    return 0;
  char **targets = r->targets;
  r->targets = NULL; /* add_mount pushes them again, with the mount list */
  int ret = -1;
  for (size_t i = 0; i < f->n_mounts; i++)
    {
      const struct dockerfile_mount *dm = &f->mounts[i];
      char *target = *targets[i] ? xstrdup (targets[i]) : NULL;
      cleanup_free char *mdir = xasprintf ("%s/mnt%zu", tmp, i);
      switch (dm->type)
        {
        case DOCKERFILE_MOUNT_CACHE:
          {
            char *dir = NULL;
            int fd = -1;
            if (cache_dir (b, dm, &dir, &fd, err) < 0)
              {
                free (target);
                goto out;
              }
            if (dir == NULL)
              {
                dir = xasprintf ("%s/%s", b->tmpdir, mdir);
                if (mkdirat (b->tmpfd, mdir, 0755) < 0)
                  {
                    nook_error_set (err, errno, "create '%s'", dir);
                    free (dir);
                    free (target);
                    goto out;
                  }
              }
            r->locks = xreallocarray (r->locks, r->n_locks + 1, sizeof *r->locks);
            r->locks[r->n_locks++] = fd;
            add_mount (r, MOUNT_BIND, dir, target, dm->readonly, NULL);
            break;
          }
        case DOCKERFILE_MOUNT_TMPFS:
          add_mount (r, MOUNT_TMPFS, NULL, target, false,
                     dm->size ? xasprintf ("size=%llu", (unsigned long long)dm->size)
                              : xstrdup (""));
          break;
        case DOCKERFILE_MOUNT_BIND:
          {
            /* read-only: the source itself, bound, when that shows what a copy would */
            char *direct = dm->readonly ? build_copy_bind_source (b, r->plans[i]) : NULL;
            if (direct)
              {
                add_mount (r, MOUNT_BIND, direct, target, true, NULL);
                break;
              }
            struct build_stage_ctx empty = { 0 };
            empty.s.config = json_object ();
            if (mkdirat (b->tmpfd, mdir, 0700) < 0)
              {
                nook_error_set (err, errno, "create '%s/%s'", b->tmpdir, mdir);
                build_state_clear (&empty.s);
                free (target);
                goto out;
              }
            int rr = build_copy_apply (b, &empty, r->plans[i], mdir, err);
            build_state_clear (&empty.s);
            if (rr < 0)
              {
                free (target);
                goto out;
              }
            add_mount (r, MOUNT_BIND, xasprintf ("%s/%s/upper/m/x", b->tmpdir, mdir), target,
                       dm->readonly, NULL);
            break;
          }
        case DOCKERFILE_MOUNT_SECRET:
          {
            const struct build_secret *s = find_secret (b, dm->id);
            if (s == NULL)
              {
                free (target); /* not required and not given: no mount (BuildKit) */
                break;
              }
            if (dm->env)
              strv_push_take (&r->env, xasprintf ("%s=%.*s", dm->env, (int)s->len, s->value));
            if (target == NULL)
              break;
            if (mkdirat (b->tmpfd, mdir, 0700) < 0)
              {
                nook_error_set (err, errno, "create '%s/%s'", b->tmpdir, mdir);
                free (target);
                goto out;
              }
            cleanup_free char *file = xasprintf ("%s/secret", mdir);
            mode_t mode = (mode_t)(dm->has_mode ? dm->mode & 0777 : 0400);
            cleanup_close int fd
                = openat (b->tmpfd, file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0 || fs_write_all (fd, s->value, s->len) < 0 || fchmod (fd, mode) < 0)
              {
                nook_error_set (err, errno, "write the secret %s", dm->id);
                free (target);
                goto out;
              }
            add_mount (r, MOUNT_BIND, xasprintf ("%s/%s", b->tmpdir, file), target, true, NULL);
            break;
          }
        case DOCKERFILE_MOUNT_SSH:
          free (target);
          break;
        }
    }
  ret = 0;
out:
  strv_free (targets);
  return ret;
}

void
build_run_mounts_spec (const struct build_run_mounts *r, struct nook_mount **m, size_t *n,
                       char *const **env, char *const **targets)
{
  *m = r ? r->m : NULL;
  *n = r ? r->n : 0;
  *env = r ? r->env : NULL;
  *targets = r ? r->targets : NULL;
}

/* ---- mount points out of the upper dir ---- */

struct unstub_job
{
  struct build *b;
  const char *upper;    /* tmpfd-relative */
  char *const *lowers;  /* bottom first */
  char *const *targets; /* absolute */
};

static bool
opaque_dir (int fd)
{
  char v[4], p[32];
  fs_fd_path (fd, p);
  return getxattr (p, "user.overlay.opaque", v, sizeof v) > 0
         || getxattr (p, "trusted.overlay.opaque", v, sizeof v) > 0;
}

/* Remove upper/rel when it is what the sandbox made for a mount (an empty directory or
 * file the layers below lack, or the same as theirs): true when removed. */
static bool
unstub_one (struct unstub_job *j, int upperfd, const char *rel)
{
  struct stat st, low;
  if (fstatat (upperfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return false;
  if (S_ISDIR (st.st_mode))
    {
      cleanup_close int fd = openat (upperfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || opaque_dir (fd))
        return false;
    }
  else if (!S_ISREG (st.st_mode) || st.st_size != 0)
    return false;
  size_t n = 0;
  while (j->lowers && j->lowers[n])
    n++;
  for (size_t i = n; i-- > 0;)
    {
      cleanup_free char *p = xasprintf ("%s/%s", j->lowers[i], rel);
      if (lstat (p, &low) < 0)
        continue;
      if ((low.st_mode & (S_IFMT | 07777)) != (st.st_mode & (S_IFMT | 07777))
          || low.st_uid != st.st_uid || low.st_gid != st.st_gid)
        return false;
      break;
    }
  return unlinkat (upperfd, rel, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) == 0;
}

static int
unstub_fn (void *arg, nook_error_t *err)
{
  struct unstub_job *j = arg;
  cleanup_close int upperfd
      = openat (j->b->tmpfd, j->upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (upperfd < 0)
    return errno == ENOENT ? 0 : nook_error_set (err, errno, "open '%s'", j->upper);
  for (size_t i = 0; j->targets && j->targets[i]; i++)
    {
      cleanup_free char *rel = xstrdup (j->targets[i] + strspn (j->targets[i], "/"));
      while (*rel && unstub_one (j, upperfd, rel))
        {
          char *slash = strrchr (rel, '/');
          if (slash == NULL)
            break;
          *slash = '\0';
        }
    }
  return 0;
}

int
build_run_mounts_unstub (struct build *b, struct build_stage_ctx *sc,
                         const struct build_run_mounts *r, const char *upper, nook_error_t *err)
{
  if (r == NULL || r->targets == NULL)
    return 0;
  struct unstub_job j = { .b = b, .upper = upper, .lowers = sc->s.dirs, .targets = r->targets };
  return imagefmt_store_call (b->store, unstub_fn, &j, err);
}

/* ---- --secret values ---- */

static const char *
host_env (const char *name)
{
  return getenv (name);
}

int
build_secrets_load (struct build *b, nook_error_t *err)
{
  for (size_t i = 0; b->o->secrets && b->o->secrets[i]; i++)
    {
      cleanup_free char *id = NULL;
      cleanup_free char *src = NULL;
      cleanup_free char *env = NULL;
      if (build_secret_parse (b->o->secrets[i], host_env, &id, &src, &env, err) < 0)
        return -1;
      char *value = NULL;
      size_t len = 0;
      if (env)
        {
          const char *v = getenv (env);
          if (v == NULL)
            return nook_error_set_exit (err, 125, 0,
                                        "--secret %s: the environment variable %s is not set",
                                        b->o->secrets[i], env);
          value = xstrdup (v);
          len = strlen (v);
        }
      else if (fs_read_user_file (src, 1u << 20, &value, &len, err) < 0)
        {
          nook_error_wrap (err, "--secret %s", b->o->secrets[i]);
          (*err)->exit = 125;
          return -1;
        }
      size_t k = 0;
      while (k < b->n_secrets && strcmp (b->secrets[k].id, id) != 0)
        k++;
      if (k == b->n_secrets)
        {
          b->secrets = xreallocarray (b->secrets, b->n_secrets + 1, sizeof *b->secrets);
          b->secrets[b->n_secrets++] = (struct build_secret){ .id = xstrdup (id) };
        }
      else
        free (b->secrets[k].value);
      b->secrets[k].value = value;
      b->secrets[k].len = len;
    }
  return 0;
}

void
build_secrets_free (struct build *b)
{
  for (size_t i = 0; i < b->n_secrets; i++)
    {
      free (b->secrets[i].id);
      if (b->secrets[i].value)
        explicit_bzero (b->secrets[i].value, b->secrets[i].len);
      free (b->secrets[i].value);
    }
  free (b->secrets);
  b->secrets = NULL;
  b->n_secrets = 0;
}
