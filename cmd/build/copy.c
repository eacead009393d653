/* cmd/build/copy.c: COPY, ADD and WORKDIR written into a fresh upper dir.
 *
 * The plan is made by nook itself (build_copy_prepare): the context is walked
 * through fds (openat2 RESOLVE_IN_ROOT, never following a link out of it), what
 * .dockerignore excludes is never opened, globs are matched one path component at
 * a time, and every file copied is hashed for the cache key.  Applying it
 * (build_copy_apply) runs in the store's user namespace, where the owners of
 * --chown and of the stage's existing directories can be set: the destination's
 * missing parents are made as the stage has them (mode, owner) or 0755, files keep
 * their mode (or --chmod) and belong to root (or --chown).  --from copies from the
 * union of another stage's or image's layers (whiteouts and opaque directories
 * applied layer by layer).  ADD extracts a local tar archive (any compression)
 * into the destination. */
#include "cmd/build/build.h"
#include "cmd/registry.h"
#include "cmd/spec.h"
#include "imagefmt/digest.h"
#include "imagefmt/http_get.h"
#include "imagefmt/layer.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct copy_item
{
  char *src; /* context-relative ("" = the context root) */
  char *rel; /* under the destination ("" = the destination itself) */
  mode_t mode;
  char *link;
  bool archive; /* ADD: extract into the destination */
  char *data;   /* a here-document's content (src is NULL) */
  int fd;       /* ADD of a URL: the download (src is NULL), else -1 */
};

struct build_copy_plan
{
  struct copy_item *items;
  size_t n;
  bool single_file; /* one file source, destination without '/': a file unless a dir */
  char *dest;       /* absolute */
  bool chown_set;
  uid_t uid;
  gid_t gid;
  bool chmod_set;
  mode_t chmod;
  /* --from */
  struct build_state from;
  bool from_set;
  char **from_srcs;
  bool from_dest_dir;
  int ctxfd;     /* --build-context NAME=DIR of --from=NAME, or -1 (the main context) */
  bool link;     /* COPY --link: applied on scratch */
  bool parents;  /* COPY --parents: each source's path kept under the destination */
  char *one_src; /* the only source matched in the context (RUN --mount=type=bind) */
  /* ADD of a git repository: cloned when the step runs (git.c) */
  char *git_remote, *git_commit, *git_subdir;
  bool git_keep;
  bool excluded_any;  /* .dockerignore or --exclude left something out */
  char **from_pivots; /* --parents with --from: what of each from_srcs is not kept */
};

void
build_copy_plan_free (struct build_copy_plan *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n; i++)
    {
      free (p->items[i].src);
      free (p->items[i].rel);
      free (p->items[i].link);
      free (p->items[i].data);
      if (p->items[i].fd >= 0)
        close (p->items[i].fd);
    }
  free (p->items);
  free (p->dest);
  if (p->ctxfd >= 0)
    close (p->ctxfd);
  build_state_clear (&p->from);
  strv_free (p->from_srcs);
  strv_free (p->from_pivots);
  free (p->one_src);
  free (p->git_remote);
  free (p->git_commit);
  free (p->git_subdir);
  free (p);
}

static struct copy_item *
plan_add (struct build_copy_plan *p)
{
  p->items = xreallocarray (p->items, p->n + 1, sizeof *p->items);
  struct copy_item *it = &p->items[p->n++];
  memset (it, 0, sizeof *it);
  it->fd = -1;
  return it;
}

/* "./a//b/" -> "a/b"; "/" and "." -> "". */
static char *
clean_rel (const char *s)
{
  struct strbuf b = { 0 };
  cleanup_free char *copy = xstrdup (s);
  char *save = NULL;
  strbuf_append (&b, "");
  for (char *c = strtok_r (copy, "/", &save); c; c = strtok_r (NULL, "/", &save))
    {
      if (strcmp (c, ".") == 0)
        continue;
      if (strcmp (c, "..") == 0)
        {
          char *slash = strrchr (b.buf, '/');
          b.len = slash ? (size_t)(slash - b.buf) : 0;
          b.buf[b.len] = '\0';
          continue;
        }
      if (b.len)
        strbuf_appendc (&b, '/');
      strbuf_append (&b, c);
    }
  return strbuf_steal (&b);
}

/* COPY --parents: what of a source is not kept under the destination, the part before a
 * "/./" in it (BuildKit's pivot), cleaned; "" when it has none. */
static char *
parents_pivot (const char *src)
{
  const char *piv = strstr (src, "/./");
  if (piv == NULL || piv == src)
    return xstrdup ("");
  cleanup_free char *head = xstrndup (src, (size_t)(piv - src));
  return clean_rel (head);
}

/* rel (cleaned, under the pivot) without the pivot. */
static const char *
parents_strip (const char *rel, const char *pivot)
{
  size_t l = strlen (pivot);
  if (l == 0 || strncmp (rel, pivot, l) != 0)
    return rel;
  return rel[l] == '/' ? rel + l + 1 : rel + l;
}

static bool
has_meta (const char *s)
{
  return strpbrk (s, "*?[") != NULL;
}

static int
excluded (struct build *b, const char *rel, bool *out, nook_error_t *err)
{
  *out = false;
  if (b->ignore == NULL || *rel == '\0')
    return 0;
  return dockerfile_ignore_matches (b->ignore, rel, out, err);
}

static bool
is_archive (int fd)
{
  unsigned char h[512];
  ssize_t n = pread (fd, h, sizeof h, 0);
  if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
    return true; /* gzip */
  if (n >= 3 && h[0] == 'B' && h[1] == 'Z' && h[2] == 'h')
    return true;
  if (n >= 6
      && memcmp (h,
                 "\xfd"
                 "7zXZ\0",
                 6)
             == 0)
    return true;
  if (n >= 4 && memcmp (h, "\x28\xb5\x2f\xfd", 4) == 0)
    return true;
  return n >= 262 && memcmp (h + 257, "ustar", 5) == 0;
}

struct walk_ctx
{
  struct build *b;
  struct dockerfile_ignore *exclude; /* COPY --exclude, or NULL */
  struct build_copy_plan *p;
  struct strbuf *inputs;
  const char *src_root; /* context-relative dir being copied */
  int64_t epoch;
  bool add;
};

static int hash_item (struct walk_ctx *w, struct copy_item *it, const struct stat *st,
                      nook_error_t *err);

static int
add_tree (struct walk_ctx *w, const char *src, const char *rel, nook_error_t *err)
{
  cleanup_close int dfd
      = fs_open_in_root (w->b->ctxfd, *src ? src : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
  if (dfd < 0)
    return nook_error_set (err, errno, "open '%s' in the build context", src);
  cleanup_dir DIR *d = fdopendir (dfd);
  if (d == NULL)
    return nook_error_set (err, errno, "read '%s' in the build context", src);
  dfd = -1;
  cleanup_strv char **names = NULL;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      strv_push (&names, de->d_name);
  size_t n = strv_len (names);
  for (size_t i = 0; i + 1 < n; i++)
    for (size_t k = i + 1; k < n; k++)
      if (strcmp (names[i], names[k]) > 0)
        {
          char *t = names[i];
          names[i] = names[k];
          names[k] = t;
        }
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *s = *src ? xasprintf ("%s/%s", src, names[i]) : xstrdup (names[i]);
      cleanup_free char *r = *rel ? xasprintf ("%s/%s", rel, names[i]) : xstrdup (names[i]);
      bool ex = false, ex2 = false;
      if (excluded (w->b, s, &ex, err) < 0
          || (w->exclude
              && (dockerfile_ignore_matches (w->exclude, r, &ex2, err) < 0
                  || (!ex2 && dockerfile_ignore_matches (w->exclude, s, &ex2, err) < 0))))
        return -1;
      struct stat st;
      if (fstatat (dirfd (d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        return nook_error_set (err, errno, "stat '%s' in the build context", s);
      if (ex || ex2)
        w->p->excluded_any = true;
      if (ex2)
        continue; /* --exclude: not copied, nor anything below */
      if (ex && !(S_ISDIR (st.st_mode) && dockerfile_ignore_may_reinclude_below (w->b->ignore, s)))
        continue;
      if (!ex)
        {
          struct copy_item *it = plan_add (w->p);
          it->src = xstrdup (s);
          it->rel = xstrdup (r);
          if (hash_item (w, it, &st, err) < 0)
            return -1;
        }
      size_t before = w->p->n;
      if (S_ISDIR (st.st_mode) && add_tree (w, s, r, err) < 0)
        return -1;
      if (ex && w->p->n > before)
        {
          /* an excluded directory with re-included files below: it is made for them */
          struct copy_item it = { .src = xstrdup (s), .rel = xstrdup (r), .fd = -1 };
          if (hash_item (w, &it, &st, err) < 0)
            return -1;
          plan_add (w->p);
          memmove (&w->p->items[before + 1], &w->p->items[before],
                   (w->p->n - 1 - before) * sizeof *w->p->items);
          w->p->items[before] = it;
        }
    }
  return 0;
}

/* COPY --parents: items for the directories of prel (rel without its pivot), and for rel
 * itself when it is a directory, each once. */
static int
add_parents (struct walk_ctx *w, const char *rel, const char *prel, bool self, nook_error_t *err)
{
  size_t off = strlen (rel) - strlen (prel); /* where prel starts in rel */
  for (const char *c = prel; *c; c++)
    {
      bool last = c[1] == '\0';
      if (*c != '/' && !(last && self))
        continue;
      size_t l = (size_t)(c - prel) + (*c == '/' ? 0 : 1);
      cleanup_free char *r = xstrndup (prel, l);
      bool have = false;
      for (size_t i = 0; i < w->p->n && !have; i++)
        have = w->p->items[i].src && strcmp (w->p->items[i].rel, r) == 0;
      if (have)
        continue;
      cleanup_free char *s = xstrndup (rel, off + l);
      struct stat st;
      cleanup_close int fd = fs_open_in_root (w->b->ctxfd, s, O_PATH | O_NOFOLLOW, 0);
      if (fd < 0 || fstat (fd, &st) < 0)
        return nook_error_set (err, errno, "stat '%s' in the build context", s);
      struct copy_item *it = plan_add (w->p);
      it->src = xstrdup (s);
      it->rel = xstrdup (r);
      if (hash_item (w, it, &st, err) < 0)
        return -1;
    }
  return 0;
}

static int
hash_item (struct walk_ctx *w, struct copy_item *it, const struct stat *st, nook_error_t *err)
{
  it->mode = st->st_mode & (S_IFMT | 07777);
  int64_t mt = st->st_mtime < w->epoch ? st->st_mtime : w->epoch;
  cleanup_free char *sum = NULL;
  if (S_ISLNK (st->st_mode))
    {
      char buf[4097];
      /* the link itself, its directory resolved inside the context */
      const char *slash = strrchr (it->src, '/');
      cleanup_free char *dir
          = slash ? xstrndup (it->src, (size_t)(slash - it->src)) : xstrdup (".");
      cleanup_close int pfd = fs_open_in_root (w->b->ctxfd, dir, O_PATH | O_DIRECTORY, 0);
      ssize_t n = pfd < 0 ? -1 : readlinkat (pfd, slash ? slash + 1 : it->src, buf, sizeof buf - 1);
      if (n < 0)
        return nook_error_set (err, errno, "readlink '%s' in the build context", it->src);
      buf[n] = '\0';
      it->link = xstrdup (buf);
    }
  else if (S_ISREG (st->st_mode))
    {
      cleanup_close int fd = fs_open_in_root (w->b->ctxfd, it->src, O_RDONLY | O_NOFOLLOW, 0);
      if (fd < 0)
        return nook_error_set (err, errno, "open '%s' in the build context", it->src);
      sum = imagefmt_digest_fd (fd, err);
      if (sum == NULL)
        return -1;
    }
  strbuf_appendf (w->inputs, "%s\t%s\t%o\t%lld\t%s\t%s\t%d\n", it->rel, it->src, (unsigned)it->mode,
                  (long long)mt, it->link ? it->link : "", sum ? sum : "", it->archive);
  return 0;
}

/* Match pattern components against the context, one at a time. */
static int
glob_walk (struct walk_ctx *w, const char *dir, char **comps, size_t ci, char ***out,
           nook_error_t *err)
{
  if (comps[ci] == NULL)
    {
      strv_push (out, dir);
      return 0;
    }
  if (!has_meta (comps[ci]))
    {
      cleanup_free char *next = *dir ? xasprintf ("%s/%s", dir, comps[ci]) : xstrdup (comps[ci]);
      struct stat st;
      cleanup_close int nfd = fs_open_in_root (w->b->ctxfd, next, O_PATH | O_NOFOLLOW, 0);
      if (nfd < 0 || fstat (nfd, &st) < 0)
        return 0;
      return glob_walk (w, next, comps, ci + 1, out, err);
    }
  cleanup_close int dfd
      = fs_open_in_root (w->b->ctxfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
  if (dfd < 0)
    return 0;
  cleanup_dir DIR *d = fdopendir (dfd);
  if (d == NULL)
    return 0;
  dfd = -1;
  cleanup_strv char **names = NULL;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..")
        && fnmatch (comps[ci], de->d_name, FNM_PERIOD * 0) == 0)
      strv_push (&names, de->d_name);
  size_t n = strv_len (names);
  for (size_t i = 0; i + 1 < n; i++)
    for (size_t k = i + 1; k < n; k++)
      if (strcmp (names[i], names[k]) > 0)
        {
          char *t = names[i];
          names[i] = names[k];
          names[k] = t;
        }
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *next = *dir ? xasprintf ("%s/%s", dir, names[i]) : xstrdup (names[i]);
      bool ex = false;
      if (excluded (w->b, next, &ex, err) < 0)
        return -1;
      if (ex)
        w->p->excluded_any = true;
      if (ex && comps[ci + 1] == NULL)
        continue;
      if (glob_walk (w, next, comps, ci + 1, out, err) < 0)
        return -1;
    }
  return 0;
}

static const char *
base_name (const char *p)
{
  const char *s = strrchr (p, '/');
  return s ? s + 1 : p;
}

static int
read_state_file (struct build *b, struct build_state *s, const char *path, char **text)
{
  cleanup_error nook_error_t e = NULL;
  size_t len;
  *text = NULL;
  if (build_state_dirs (b, s, &e) < 0 || s->dirs == NULL || s->dirs[0] == NULL)
    return 0;
  if (imagefmt_layers_read_file (s->dirs, path, 4u << 20, text, &len, &e) < 0)
    *text = NULL;
  return 0;
}

static int
resolve_chown (struct build *b, struct build_stage_ctx *sc, const char *spec, uid_t *uid,
               gid_t *gid, nook_error_t *err)
{
  const char *colon = strchr (spec, ':');
  cleanup_free char *user = colon ? xstrndup (spec, (size_t)(colon - spec)) : xstrdup (spec);
  int64_t v;
  cleanup_error nook_error_t e = NULL;
  bool numeric_user = parse_int (user, 0, UINT32_MAX - 1, &v, "uid", &e) == 0;
  nook_error_free (&e);
  bool numeric_group
      = colon == NULL || parse_int (colon + 1, 0, UINT32_MAX - 1, &v, "gid", &e) == 0;
  nook_error_free (&e);
  cleanup_free char *passwd = NULL;
  cleanup_free char *group = NULL;
  if (!numeric_user || !numeric_group)
    {
      read_state_file (b, &sc->s, "/etc/passwd", &passwd);
      read_state_file (b, &sc->s, "/etc/group", &group);
    }
  gid_t *groups = NULL;
  size_t ng = 0;
  cleanup_free char *home = NULL;
  if (spec_resolve_user (spec, passwd, group, uid, gid, &groups, &ng, &home, err) < 0)
    return nook_error_wrap (err, "--chown=%s", spec);
  free (groups);
  /* Docker: a numeric user alone means that uid and the same gid */
  if (colon == NULL && numeric_user)
    *gid = (gid_t)*uid;
  return 0;
}

static int
from_state (struct build *b, const char *from, struct build_state *out, nook_error_t *err)
{
  for (size_t i = 0; i < b->st->n; i++)
    {
      const struct dockerfile_stage *s = &b->st->stages[i];
      char idx[24];
      snprintf (idx, sizeof idx, "%zu", i);
      if ((s->name && strcasecmp (s->name, from) == 0) || strcmp (idx, from) == 0)
        {
          if (!b->done[i])
            return nook_error_set (err, 0, "stage %s has not been built", from);
          build_state_copy (out, &b->results[i]);
          return build_state_dirs (b, out, err);
        }
    }
  struct imagefmt_image *img = NULL;
  if (imagefmt_store_lookup (b->store, from, &img, err) < 0)
    {
      if ((*err)->code != ENOENT)
        return -1;
      nook_error_free (err);
      if (cmd_pull_for_run (b->ctx, b->store, from, NULL, b->out, err) < 0
          || imagefmt_store_lookup (b->store, from, &img, err) < 0)
        return -1;
    }
  out->config = json_deep_copy (img->config);
  out->layers = strv_dup (img->layers);
  out->diff_ids = strv_dup (img->diff_ids);
  int r = imagefmt_store_layer_dirs (b->store, img, &out->dirs, err);
  imagefmt_image_free (img);
  return r;
}

int
build_copy_prepare (struct build *b, struct build_stage_ctx *sc, const struct build_copy *c,
                    struct build_copy_plan **plan, char **inputs, nook_error_t *err)
{
  struct build_copy_plan *p = xzalloc (sizeof *p);
  struct strbuf in = { 0 };
  int saved_ctxfd = b->ctxfd;
  struct dockerfile_ignore *saved_ignore = b->ignore;
  cleanup_free char *named_dir = NULL;
  cleanup_free char *named_image = NULL;
  cleanup_strv char **locals = NULL;
  p->ctxfd = -1;
  int ret = -1;
  struct walk_ctx w = { .b = b, .p = p, .inputs = &in, .epoch = b->epoch, .add = c->add };
  cleanup_strv char **matched = NULL;
  cleanup_strv char **pivots = NULL; /* per matched, for --parents */
  size_t n_inline = 0;
  p->dest = xstrdup (c->dest);
  p->link = c->link;
  p->parents = c->parents;
  if (c->parents)
    strbuf_append (&in, "parents\n");
  if (c->chown && *c->chown)
    {
      if (resolve_chown (b, sc, c->chown, &p->uid, &p->gid, err) < 0)
        goto out;
      p->chown_set = true;
    }
  if (c->chmod && *c->chmod)
    {
      int64_t m;
      char *end = NULL;
      m = strtoll (c->chmod, &end, 8);
      if (end == c->chmod || *end || m < 0 || m > 07777)
        {
          nook_error_set (err, 0, "invalid --chmod=%s: want an octal mode", c->chmod);
          goto out;
        }
      p->chmod = (mode_t)m;
      p->chmod_set = true;
    }
  strbuf_appendf (&in, "dest %s\nchown %d %u %u\nchmod %d %o\n", c->dest, p->chown_set,
                  (unsigned)p->uid, (unsigned)p->gid, p->chmod_set, (unsigned)p->chmod);
  if (c->from && build_named_context (b, c->from, &named_dir, &named_image) && named_dir)
    {
      int nfd = open (named_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (nfd < 0)
        {
          nook_error_set (err, errno, "--build-context %s=%s", c->from, named_dir);
          goto out;
        }
      p->ctxfd = nfd;
      strbuf_appendf (&in, "context %s\n", c->from);
    }
  if (c->from && p->ctxfd < 0)
    {
      if (from_state (b, named_image ? named_image : c->from, &p->from, err) < 0)
        goto out;
      p->from_set = true;
      p->from_dest_dir = c->dest_is_dir;
      cleanup_free char *sd = build_state_digest (&p->from);
      strbuf_appendf (&in, "from %s\n", sd);
      for (size_t i = 0; c->srcs[i]; i++)
        {
          strv_push_take (&p->from_srcs, clean_rel (c->srcs[i]));
          if (c->parents)
            strv_push_take (&p->from_pivots, parents_pivot (c->srcs[i]));
          strbuf_appendf (&in, "src %s\n", c->srcs[i]);
        }
      ret = 0;
      goto out;
    }
  n_inline = strv_len (c->inline_names);
  for (size_t i = 0; i < n_inline; i++)
    {
      struct copy_item *it = plan_add (p);
      it->rel = xstrdup (c->inline_names[i]);
      it->data = xstrdup (c->inline_data[i]);
      it->mode = S_IFREG | 0644;
      cleanup_free char *sum = imagefmt_digest_data (it->data, strlen (it->data));
      strbuf_appendf (&in, "inline\t%s\t%s\n", it->rel, sum);
    }
  for (size_t i = 0; c->srcs[i]; i++)
    {
      const char *u = c->srcs[i];
      bool url = strncmp (u, "http://", 7) == 0 || strncmp (u, "https://", 8) == 0;
      if (c->add && build_git_source (u))
        {
          if (strncmp (u, "git@", 4) == 0 || strncmp (u, "ssh://", 6) == 0)
            {
              nook_error_set (err, ENOTSUP,
                              "ADD %s: git over ssh is not supported (nook forwards no SSH agent; "
                              "use an https:// URL)",
                              u);
              goto out;
            }
          if (strv_len (c->srcs) + strv_len (c->inline_names) != 1)
            {
              nook_error_set (err, EINVAL, "ADD %s: a git repository must be ADD's only source", u);
              goto out;
            }
          cleanup_free char *ref = NULL;
          if (build_git_parse (u, &p->git_remote, &ref, &p->git_subdir, err) < 0
              || build_git_resolve (p->git_remote, ref, &p->git_commit, err) < 0)
            goto out;
          if (c->checksum && *c->checksum
              && strncmp (p->git_commit, c->checksum, strlen (c->checksum)) != 0)
            {
              nook_error_set (err, EIO, "ADD %s: the ref is commit %s, --checksum wants %s", u,
                              p->git_commit, c->checksum);
              goto out;
            }
          p->git_keep = c->keep_git_dir;
          strbuf_appendf (&in, "git\t%s\t%s\t%s\t%d\n", p->git_remote, p->git_commit,
                          p->git_subdir ? p->git_subdir : "", p->git_keep);
          ret = 0;
          goto out;
        }
      if (!c->add || !url)
        {
          strv_push (&locals, u);
          continue;
        }
      /* ADD URL: fetched by nook (each build: its content is the cache's input) */
      const char *path = strchr (strstr (u, "://") + 3, '/');
      cleanup_free char *name = path ? xstrndup (path, strcspn (path, "?#")) : xstrdup ("");
      const char *base = strrchr (name, '/') ? strrchr (name, '/') + 1 : name;
      if (*base == '\0')
        {
          nook_error_set (err, EINVAL, "ADD %s: cannot determine a file name from the URL", u);
          goto out;
        }
      struct copy_item *it = plan_add (p);
      it->rel = xstrdup (base);
      it->mode = S_IFREG | 0600;
      it->fd = openat (b->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
      if (it->fd < 0)
        {
          nook_error_set (err, errno, "a temporary file for %s", u);
          goto out;
        }
      if (imagefmt_http_get (u, it->fd, UINT64_C (1) << 36, NULL, err) < 0
          || lseek (it->fd, 0, SEEK_SET) < 0)
        goto out;
      cleanup_free char *sum = imagefmt_digest_fd (it->fd, err);
      if (sum == NULL)
        goto out;
      if (c->checksum && strcmp (c->checksum, sum) != 0)
        {
          nook_error_set (err, EIO, "ADD %s: the content has digest %s, --checksum wants %s", u,
                          sum, c->checksum);
          goto out;
        }
      strbuf_appendf (&in, "url\t%s\t%s\t%s\n", u, it->rel, sum);
      n_inline++;
    }
  if (n_inline && (locals == NULL || locals[0] == NULL))
    {
      p->single_file = n_inline == 1 && !c->dest_is_dir;
      ret = 0;
      goto out;
    }
  if (p->ctxfd >= 0)
    {
      /* a named context: walked like the main one, without its .dockerignore */
      b->ctxfd = p->ctxfd;
      b->ignore = NULL;
    }
  if (b->ctxfd < 0)
    {
      nook_error_set (err, 0, "%s failed: no build context (the Dockerfile came from stdin)",
                      c->add ? "ADD" : "COPY");
      goto out;
    }
  if (c->excludes && c->excludes[0])
    {
      struct strbuf pat = { 0 };
      for (size_t i = 0; c->excludes[i]; i++)
        {
          strbuf_appendf (&pat, "%s\n", c->excludes[i]);
          strbuf_appendf (&in, "exclude %s\n", c->excludes[i]);
        }
      int r = dockerfile_ignore_parse (pat.buf, pat.len, &w.exclude, err);
      strbuf_free (&pat);
      if (r < 0)
        {
          nook_error_wrap (err, "--exclude");
          goto out;
        }
    }
  for (size_t i = 0; locals && locals[i]; i++)
    {
      cleanup_free char *rel = clean_rel (locals[i]);
      if (has_meta (rel))
        {
          cleanup_strv char **comps = NULL;
          cleanup_free char *copy = xstrdup (rel);
          char *save = NULL;
          for (char *t = strtok_r (copy, "/", &save); t; t = strtok_r (NULL, "/", &save))
            strv_push (&comps, t);
          size_t before = strv_len (matched);
          if (glob_walk (&w, "", comps, 0, &matched, err) < 0)
            goto out;
          for (size_t k = before; k < strv_len (matched); k++)
            strv_push_take (&pivots, parents_pivot (locals[i]));
          continue;
        }
      struct stat st;
      bool ex = false;
      if (excluded (b, rel, &ex, err) < 0)
        goto out;
      cleanup_close int fd
          = ex ? -1 : fs_open_in_root (b->ctxfd, *rel ? rel : ".", O_PATH | O_NOFOLLOW, 0);
      if (fd < 0 || fstat (fd, &st) < 0)
        {
          nook_error_set (err, ENOENT, "failed to compute cache key: \"/%s\": not found", rel);
          goto out;
        }
      strv_push (&matched, rel);
      strv_push_take (&pivots, parents_pivot (locals[i]));
    }
  if (strv_len (matched) == 0 && n_inline == 0)
    {
      nook_error_set (err, ENOENT, "no source files were specified");
      goto out;
    }
  p->single_file = strv_len (matched) + n_inline == 1 && !c->dest_is_dir && !c->parents;
  if (strv_len (matched) == 1 && n_inline == 0)
    p->one_src = xstrdup (matched[0]);
  for (size_t i = 0; matched[i]; i++)
    {
      struct stat st;
      const char *rel = matched[i];
      cleanup_close int mfd = fs_open_in_root (b->ctxfd, *rel ? rel : ".", O_PATH | O_NOFOLLOW, 0);
      if (mfd < 0 || fstat (mfd, &st) < 0)
        {
          nook_error_set (err, errno, "stat '%s' in the build context", rel);
          goto out;
        }
      /* --parents: the source's directories from the pivot on, copied as they are */
      const char *prel = c->parents ? parents_strip (rel, pivots[i]) : NULL;
      if (prel && add_parents (&w, rel, prel, S_ISDIR (st.st_mode), err) < 0)
        goto out;
      if (S_ISDIR (st.st_mode))
        {
          p->single_file = false;
          if (add_tree (&w, rel, prel ? prel : "", err) < 0)
            goto out;
          continue;
        }
      bool exf = false;
      if (w.exclude && dockerfile_ignore_matches (w.exclude, rel, &exf, err) < 0)
        goto out;
      if (exf)
        continue;
      struct copy_item *it = plan_add (p);
      it->src = xstrdup (rel);
      it->rel = xstrdup (prel ? prel : base_name (rel));
      if (c->add && S_ISREG (st.st_mode))
        {
          cleanup_close int fd = fs_open_in_root (b->ctxfd, rel, O_RDONLY | O_NOFOLLOW, 0);
          if (fd >= 0 && is_archive (fd))
            {
              it->archive = true;
              p->single_file = false;
            }
        }
      if (hash_item (&w, it, &st, err) < 0)
        goto out;
    }
  ret = 0;
out:
  if (w.exclude)
    dockerfile_ignore_free (w.exclude);
  b->ctxfd = saved_ctxfd;
  b->ignore = saved_ignore;
  if (ret < 0)
    {
      build_copy_plan_free (p);
      strbuf_free (&in);
      return -1;
    }
  *inputs = imagefmt_digest_data (in.buf ? in.buf : "", in.len);
  strbuf_free (&in);
  *plan = p;
  return 0;
}

/* ---- applying, in the user namespace ---- */

static void override_owner (int dirfd, const char *path, struct stat *st);

/* Paths in a layer or in the step's upper dir are resolved inside that directory
 * (openat2 RESOLVE_IN_ROOT for everything but the last name, which is never followed):
 * a link an image or an earlier entry put there leads nowhere outside it.  This runs
 * as root of the user namespace, with the user's rights on the host. */
static int
parent_in (int root, const char *path, const char **base)
{
  const char *slash = strrchr (path, '/');
  *base = slash ? slash + 1 : path;
  if (slash == NULL)
    return fcntl (root, F_DUPFD_CLOEXEC, 3);
  cleanup_free char *dir = xstrndup (path, (size_t)(slash - path));
  return fs_open_in_root (root, dir, O_PATH | O_DIRECTORY, 0);
}

static int
lstat_in (int root, const char *path, struct stat *st)
{
  const char *base;
  if (strcmp (path, ".") == 0 || *path == '\0')
    return fstat (root, st);
  cleanup_close int d = parent_in (root, path, &base);
  return d < 0 ? -1 : fstatat (d, base, st, AT_SYMLINK_NOFOLLOW);
}

static int
open_in (int root, const char *path, int flags, mode_t mode)
{
  return fs_open_in_root (root, path, flags | O_NOFOLLOW, mode);
}

static int
mkdir_in (int root, const char *path, mode_t mode)
{
  const char *base;
  cleanup_close int d = parent_in (root, path, &base);
  return d < 0 ? -1 : mkdirat (d, base, mode);
}

static int
symlink_in (const char *target, int root, const char *path)
{
  const char *base;
  cleanup_close int d = parent_in (root, path, &base);
  return d < 0 ? -1 : symlinkat (target, d, base);
}

static int
mkfifo_in (int root, const char *path, mode_t mode)
{
  const char *base;
  cleanup_close int d = parent_in (root, path, &base);
  return d < 0 ? -1 : mkfifoat (d, base, mode);
}

static int
chown_in (int root, const char *path, uid_t uid, gid_t gid)
{
  const char *base;
  cleanup_close int d = parent_in (root, path, &base);
  return d < 0 ? -1 : fchownat (d, base, uid, gid, AT_SYMLINK_NOFOLLOW);
}

static int
chmod_in (int root, const char *path, mode_t mode)
{
  /* (never a link: the callers made a file, a directory or a fifo there) */
  cleanup_close int fd = open_in (root, path, O_PATH, 0);
  char p[32];
  if (fd < 0)
    return -1;
  fs_fd_path (fd, p);
  return chmod (p, mode);
}

static int
utimens_in (int root, const char *path, const struct timespec ts[2])
{
  const char *base;
  cleanup_close int d = parent_in (root, path, &base);
  return d < 0 ? -1 : utimensat (d, base, ts, AT_SYMLINK_NOFOLLOW);
}

static ssize_t
readlink_in (int root, const char *path, char *buf, size_t size)
{
  const char *base;
  cleanup_close int d = parent_in (root, path, &base);
  return d < 0 ? -1 : readlinkat (d, base, buf, size);
}

static int
rm_in (int root, const char *path, nook_error_t *err)
{
  const char *base;
  cleanup_close int d = parent_in (root, path, &base);
  if (d < 0)
    return errno == ENOENT ? 0 : nook_error_set (err, errno, "remove '/%s'", path);
  return fs_rm_rf_at (d, base, err);
}

/* Look path (relative, no leading '/') up in the union of dirs (bottom first):
 * 0 found (*st), -1 not there. */
static int
union_stat (char *const *dirs, const char *path, struct stat *st)
{
  size_t n = strv_len (dirs);
  for (size_t i = n; i-- > 0;)
    {
      cleanup_close int lfd = open (dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (lfd < 0)
        continue;
      /* a whiteout or an opaque directory on the way */
      cleanup_free char *copy = xstrdup (path);
      struct strbuf pre = { 0 };
      bool stop = false, gone = false;
      char *save = NULL;
      for (char *c = strtok_r (copy, "/", &save); c && !stop; c = strtok_r (NULL, "/", &save))
        {
          cleanup_free char *wh
              = pre.len ? xasprintf ("%s/.wh.%s", pre.buf, c) : xasprintf (".wh.%s", c);
          if (pre.len)
            strbuf_appendc (&pre, '/');
          strbuf_append (&pre, c);
          struct stat s2;
          if (lstat_in (lfd, wh, &s2) == 0)
            gone = true;
          else if (lstat_in (lfd, pre.buf, &s2) == 0)
            {
              if (S_ISCHR (s2.st_mode) && s2.st_rdev == makedev (0, 0))
                gone = true;
              else if (!S_ISDIR (s2.st_mode))
                stop = save && *save; /* a file in the way of a longer path */
              else
                {
                  cleanup_close int dfd = open_in (lfd, pre.buf, O_RDONLY | O_DIRECTORY, 0);
                  char v[4];
                  ssize_t k;
                  if (dfd >= 0
                      && (((k = fgetxattr (dfd, "user.overlay.opaque", v, sizeof v)) > 0
                           && v[0] == 'y')
                          || ((k = fgetxattr (dfd, "trusted.overlay.opaque", v, sizeof v)) > 0
                              && v[0] == 'y')
                          || faccessat (dfd, ".wh..wh..opq", F_OK, AT_SYMLINK_NOFOLLOW) == 0))
                    stop = true; /* nothing below this layer shows through */
                }
            }
          if (gone)
            break;
        }
      strbuf_free (&pre);
      if (gone)
        return -1;
      if (lstat_in (lfd, path, st) == 0)
        {
          override_owner (lfd, path, st);
          return 0;
        }
      if (stop)
        return -1;
    }
  return -1;
}

struct apply_job
{
  struct build *b;
  struct build_copy_plan *p;
  char *const *dirs;   /* the stage's layers */
  const char *upper;   /* tmpfd-relative */
  const char *workdir; /* WORKDIR: the path to make */
  int upperfd;
};

/* The owner a layer or an upper dir records for a file it could not chown (a user
 * without a subordinate range: the kernel refuses other ids), as imagefmt's
 * extraction writes it and fuse-overlayfs reads it: "UID:GID:0MODE". */
#define OVERRIDE_XATTR "user.containers.override_stat"

static void
override_owner (int dirfd, const char *path, struct stat *st)
{
  if (S_ISLNK (st->st_mode))
    return;
  cleanup_close int fd = open_in (dirfd, path, O_PATH, 0);
  char p[32], buf[64];
  unsigned u, g, m;
  if (fd < 0)
    return;
  fs_fd_path (fd, p);
  ssize_t n = getxattr (p, OVERRIDE_XATTR, buf, sizeof buf - 1);
  if (n <= 0)
    return;
  buf[n] = '\0';
  if (sscanf (buf, "%u:%u:%o", &u, &g, &m) == 3)
    {
      st->st_uid = u;
      st->st_gid = g;
      st->st_mode = (st->st_mode & S_IFMT) | (m & 07777);
    }
}

/* chown, or (a single-id user: EINVAL) the owner recorded beside the file, so that the
 * layer gets it (pack.c reads it back).  perm: the mode to record. */
static void
own (int dirfd, const char *name, uid_t uid, gid_t gid, mode_t perm)
{
  if (chown_in (dirfd, name, uid, gid) == 0 || (errno != EINVAL && errno != EPERM))
    return;
  struct stat st;
  if (lstat_in (dirfd, name, &st) < 0 || S_ISLNK (st.st_mode))
    return;
  cleanup_close int fd = open_in (dirfd, name, O_PATH, 0);
  char p[32], buf[64];
  if (fd < 0)
    return;
  fs_fd_path (fd, p);
  int n = snprintf (buf, sizeof buf, "%u:%u:0%o", (unsigned)uid, (unsigned)gid,
                    (unsigned)(perm & 07777));
  (void)setxattr (p, OVERRIDE_XATTR, buf, (size_t)n, 0);
}

/* Make every directory of path (relative) in the upper dir, as the stage has it or
 * mode 0755 owned by uid:gid. */
static int
ensure_dirs (struct apply_job *j, const char *path, uid_t uid, gid_t gid, nook_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  struct strbuf pre = { 0 };
  char *save = NULL;
  int ret = 0;
  for (char *c = strtok_r (copy, "/", &save); c; c = strtok_r (NULL, "/", &save))
    {
      if (pre.len)
        strbuf_appendc (&pre, '/');
      strbuf_append (&pre, c);
      struct stat st;
      if (lstat_in (j->upperfd, pre.buf, &st) == 0)
        continue;
      struct stat us;
      bool have = union_stat (j->dirs, pre.buf, &us) == 0 && S_ISDIR (us.st_mode);
      if (mkdir_in (j->upperfd, pre.buf, 0755) < 0)
        {
          ret = nook_error_set (err, errno, "mkdir '/%s'", pre.buf);
          break;
        }
      if (have)
        {
          own (j->upperfd, pre.buf, us.st_uid, us.st_gid, us.st_mode);
          chmod_in (j->upperfd, pre.buf, us.st_mode & 07777);
          struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, us.st_mtim };
          utimens_in (j->upperfd, pre.buf, ts);
        }
      else
        own (j->upperfd, pre.buf, uid, gid, 0755);
    }
  strbuf_free (&pre);
  return ret;
}

static int
copy_data (int in, int out, const char *what, nook_error_t *err)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nook_error_set (err, errno, "read '%s'", what);
      if (n == 0)
        return 0;
      if (fs_write_all (out, buf, (size_t)n) < 0)
        return nook_error_set (err, errno, "write '%s'", what);
    }
}

/* Put one entry at dst (relative) in the upper dir: a file's content from srcfd. */
static int
put_entry (struct apply_job *j, const char *dst, const struct stat *st, int srcfd, const char *link,
           uid_t uid, gid_t gid, mode_t perm, nook_error_t *err)
{
  struct stat have;
  bool exists = lstat_in (j->upperfd, dst, &have) == 0;
  if (exists && !(S_ISDIR (have.st_mode) && S_ISDIR (st->st_mode)))
    {
      if (rm_in (j->upperfd, dst, err) < 0)
        return -1;
      exists = false;
    }
  if (S_ISDIR (st->st_mode))
    {
      if (!exists && mkdir_in (j->upperfd, dst, 0700) < 0)
        return nook_error_set (err, errno, "mkdir '/%s'", dst);
    }
  else if (S_ISLNK (st->st_mode))
    {
      if (symlink_in (link, j->upperfd, dst) < 0)
        return nook_error_set (err, errno, "symlink '/%s'", dst);
    }
  else if (S_ISREG (st->st_mode))
    {
      cleanup_close int out = open_in (j->upperfd, dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (out < 0)
        return nook_error_set (err, errno, "create '/%s'", dst);
      if (srcfd >= 0 && copy_data (srcfd, out, dst, err) < 0)
        return -1;
    }
  else if (S_ISFIFO (st->st_mode))
    {
      if (mkfifo_in (j->upperfd, dst, 0600) < 0)
        return nook_error_set (err, errno, "mkfifo '/%s'", dst);
    }
  else
    return 0;
  if (!S_ISLNK (st->st_mode) && chmod_in (j->upperfd, dst, perm) < 0)
    return nook_error_set (err, errno, "chmod '/%s'", dst);
  own (j->upperfd, dst, uid, gid, perm);
  struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, st->st_mtim };
  utimens_in (j->upperfd, dst, ts);
  return 0;
}

static int
extract_archive (struct apply_job *j, const char *src, const char *dst, nook_error_t *err)
{
  cleanup_close int in = fs_open_in_root (j->b->ctxfd, src, O_RDONLY | O_NOFOLLOW, 0);
  if (in < 0)
    return nook_error_set (err, errno, "open '%s' in the build context", src);
  cleanup_close int dfd = open_in (j->upperfd, *dst ? dst : ".", O_RDONLY | O_DIRECTORY, 0);
  if (dfd < 0)
    return nook_error_set (err, errno, "open '/%s'", dst);
  return imagefmt_layer_extract (in, dfd, NULL, err) < 0 ? nook_error_wrap (err, "ADD %s", src) : 0;
}

static int
apply_context (struct apply_job *j, nook_error_t *err)
{
  struct build_copy_plan *p = j->p;
  cleanup_free char *dest = clean_rel (p->dest);
  uid_t uid = p->chown_set ? p->uid : 0;
  gid_t gid = p->chown_set ? p->gid : 0;
  bool to_file = false;
  if (p->single_file && *dest)
    {
      struct stat us;
      to_file = !(union_stat (j->dirs, dest, &us) == 0 && S_ISDIR (us.st_mode));
    }
  if (to_file)
    {
      char *slash = strrchr (dest, '/');
      if (slash)
        {
          cleanup_free char *parent = xstrndup (dest, (size_t)(slash - dest));
          if (ensure_dirs (j, parent, uid, gid, err) < 0)
            return -1;
        }
    }
  else if (ensure_dirs (j, dest, uid, gid, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n; i++)
    {
      struct copy_item *it = &p->items[i];
      cleanup_free char *dst = to_file ? xstrdup (dest)
                               : *dest ? xasprintf ("%s/%s", dest, it->rel)
                                       : xstrdup (it->rel);
      if (it->archive)
        {
          if (extract_archive (j, it->src, dest, err) < 0)
            return -1;
          continue;
        }
      if (it->fd >= 0)
        {
          struct stat st = { .st_mode = S_IFREG | 0600 };
          clock_gettime (CLOCK_REALTIME, &st.st_mtim);
          if (lseek (it->fd, 0, SEEK_SET) < 0
              || put_entry (j, dst, &st, it->fd, NULL, uid, gid, p->chmod_set ? p->chmod : 0600,
                            err)
                     < 0)
            return -1;
          continue;
        }
      if (it->data)
        {
          struct stat st = { .st_mode = S_IFREG | 0644 };
          int mfd = memfd_create ("heredoc", MFD_CLOEXEC);
          if (mfd < 0 || fs_write_all (mfd, it->data, strlen (it->data)) < 0
              || lseek (mfd, 0, SEEK_SET) < 0)
            {
              if (mfd >= 0)
                close (mfd);
              return nook_error_set (err, errno, "here-document '%s'", it->rel);
            }
          clock_gettime (CLOCK_REALTIME, &st.st_mtim);
          int r = put_entry (j, dst, &st, mfd, NULL, uid, gid, p->chmod_set ? p->chmod : 0644, err);
          close (mfd);
          if (r < 0)
            return -1;
          continue;
        }
      cleanup_close int fd = fs_open_in_root (
          j->b->ctxfd, it->src, (S_ISREG (it->mode) ? O_RDONLY : O_PATH) | O_NOFOLLOW, 0);
      struct stat st;
      if (fd < 0 || fstat (fd, &st) < 0)
        return nook_error_set (err, errno, "open '%s' in the build context", it->src);
      mode_t perm = p->chmod_set ? p->chmod : (st.st_mode & 07777);
      if (put_entry (j, dst, &st, S_ISREG (st.st_mode) ? fd : -1, it->link, uid, gid, perm, err)
          < 0)
        return -1;
    }
  return 0;
}

/* Merge layer directory dfd (at path `what`) into dst of the upper dir, as overlay
 * would show it on top of what is there already. */
static int
merge_tree (struct apply_job *j, int lfd, const char *src, const char *dst, nook_error_t *err)
{
  struct build_copy_plan *p = j->p;
  struct stat st;
  if (lstat_in (lfd, *src ? src : ".", &st) < 0)
    return 0;
  if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0))
    return rm_in (j->upperfd, dst, err);
  override_owner (lfd, *src ? src : ".", &st);
  uid_t uid = p->chown_set ? p->uid : st.st_uid;
  gid_t gid = p->chown_set ? p->gid : st.st_gid;
  mode_t perm = p->chmod_set ? p->chmod : (st.st_mode & 07777);
  if (!S_ISDIR (st.st_mode))
    {
      char link[4097] = "";
      cleanup_close int fd = -1;
      if (S_ISLNK (st.st_mode))
        {
          ssize_t n = readlink_in (lfd, src, link, sizeof link - 1);
          if (n < 0)
            return nook_error_set (err, errno, "readlink '%s'", src);
          link[n] = '\0';
        }
      else if (S_ISREG (st.st_mode))
        {
          fd = open_in (lfd, src, O_RDONLY | O_NONBLOCK, 0);
          if (fd < 0)
            return nook_error_set (err, errno, "open '%s'", src);
        }
      return put_entry (j, dst, &st, fd, link, uid, gid, perm, err);
    }
  cleanup_close int sfd = open_in (lfd, *src ? src : ".", O_RDONLY | O_DIRECTORY, 0);
  if (sfd < 0)
    return nook_error_set (err, errno, "open '%s'", src);
  char v[4];
  bool opaque = (fgetxattr (sfd, "user.overlay.opaque", v, sizeof v) > 0 && v[0] == 'y')
                || (fgetxattr (sfd, "trusted.overlay.opaque", v, sizeof v) > 0 && v[0] == 'y')
                || faccessat (sfd, ".wh..wh..opq", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  struct stat have;
  if (opaque && *dst && lstat_in (j->upperfd, dst, &have) == 0 && rm_in (j->upperfd, dst, err) < 0)
    return -1;
  if (*dst && put_entry (j, dst, &st, -1, NULL, uid, gid, perm, err) < 0)
    return -1;
  cleanup_dir DIR *d = fdopendir (sfd);
  if (d == NULL)
    return nook_error_set (err, errno, "read '%s'", src);
  sfd = -1;
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      const char *name = de->d_name;
      if (!strcmp (name, ".") || !strcmp (name, "..") || !strcmp (name, ".wh..wh..opq"))
        continue;
      bool wh = strncmp (name, ".wh.", 4) == 0;
      const char *real = wh ? name + 4 : name;
      cleanup_free char *s2 = *src ? xasprintf ("%s/%s", src, name) : xstrdup (name);
      cleanup_free char *d2 = *dst ? xasprintf ("%s/%s", dst, real) : xstrdup (real);
      if (wh)
        {
          if (rm_in (j->upperfd, d2, err) < 0)
            return -1;
          continue;
        }
      if (merge_tree (j, lfd, s2, d2, err) < 0)
        return -1;
    }
  return 0;
}

static int
apply_from (struct apply_job *j, nook_error_t *err)
{
  struct build_copy_plan *p = j->p;
  cleanup_free char *dest = clean_rel (p->dest);
  uid_t uid = p->chown_set ? p->uid : 0;
  gid_t gid = p->chown_set ? p->gid : 0;
  size_t nsrc = strv_len (p->from_srcs);
  char *const *fdirs = p->from.dirs;
  for (size_t i = 0; i < nsrc; i++)
    {
      const char *src = p->from_srcs[i];
      struct stat st;
      if (union_stat (fdirs, src, &st) < 0 && *src)
        return nook_error_set (err, ENOENT, "failed to compute cache key: \"/%s\": not found", src);
      if (*src == '\0')
        st.st_mode = S_IFDIR;
      cleanup_free char *dst = NULL;
      if (p->parents)
        {
          /* the source's path from the pivot on, its directories as the stage has them */
          const char *prel = parents_strip (src, p->from_pivots[i]);
          size_t off = strlen (src) - strlen (prel);
          if (ensure_dirs (j, dest, uid, gid, err) < 0)
            return -1;
          for (const char *c = prel; *c; c++)
            {
              if (*c != '/')
                continue;
              cleanup_free char *s = xstrndup (src, off + (size_t)(c - prel));
              cleanup_free char *r = xstrndup (prel, (size_t)(c - prel));
              cleanup_free char *d = *dest ? xasprintf ("%s/%s", dest, r) : xstrdup (r);
              struct stat ds;
              if (union_stat (fdirs, s, &ds) < 0 || !S_ISDIR (ds.st_mode))
                return nook_error_set (err, ENOENT, "'/%s': not a directory", s);
              if (put_entry (j, d, &ds, -1, NULL, p->chown_set ? p->uid : ds.st_uid,
                             p->chown_set ? p->gid : ds.st_gid,
                             p->chmod_set ? p->chmod : (ds.st_mode & 07777), err)
                  < 0)
                return -1;
            }
          dst = *dest && *prel ? xasprintf ("%s/%s", dest, prel) : xstrdup (*prel ? prel : dest);
        }
      else if (S_ISDIR (st.st_mode))
        {
          if (ensure_dirs (j, dest, uid, gid, err) < 0)
            return -1;
          dst = xstrdup (dest);
        }
      else
        {
          struct stat us;
          bool into = p->from_dest_dir || nsrc > 1
                      || (union_stat (j->dirs, dest, &us) == 0 && S_ISDIR (us.st_mode));
          if (into)
            {
              if (ensure_dirs (j, dest, uid, gid, err) < 0)
                return -1;
              dst = *dest ? xasprintf ("%s/%s", dest, base_name (src)) : xstrdup (base_name (src));
            }
          else
            {
              char *slash = strrchr (dest, '/');
              cleanup_free char *parent
                  = slash ? xstrndup (dest, (size_t)(slash - dest)) : xstrdup ("");
              if (*parent && ensure_dirs (j, parent, uid, gid, err) < 0)
                return -1;
              dst = xstrdup (dest);
            }
        }
      for (size_t l = 0; fdirs && fdirs[l]; l++)
        {
          cleanup_close int lfd = open (fdirs[l], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (lfd < 0)
            return nook_error_set (err, errno, "open '%s'", fdirs[l]);
          if (merge_tree (j, lfd, src, dst, err) < 0)
            return -1;
        }
    }
  return 0;
}

static int
apply_fn (void *arg, nook_error_t *err)
{
  struct apply_job *j = arg;
  cleanup_free char *up = xasprintf ("%s/upper", j->upper);
  j->upperfd = openat (j->b->tmpfd, up, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (j->upperfd < 0)
    return nook_error_set (err, errno, "open '%s'", up);
  if (j->workdir)
    {
      cleanup_free char *w = clean_rel (j->workdir);
      struct stat us;
      if (*w == '\0' || (union_stat (j->dirs, w, &us) == 0 && S_ISDIR (us.st_mode)))
        return 0;
      return ensure_dirs (j, w, 0, 0, err);
    }
  return j->p->from_set ? apply_from (j, err) : apply_context (j, err);
}

/* ADD of a git repository, a step that runs: the commit checked out in the step's directory
 * (as the user, on the host), then planned as a named context is (its subdirectory's
 * contents; .git left out unless --keep-git-dir). */
static int
git_prepare (struct build *b, struct build_copy_plan *p, const char *upper_name, nook_error_t *err)
{
  cleanup_free char *rel = xasprintf ("%s/git", upper_name);
  cleanup_free char *dir = xasprintf ("%s/%s", b->tmpdir, rel);
  if (build_git_checkout (p->git_remote, p->git_commit, dir, err) < 0)
    return -1;
  p->ctxfd = openat (b->tmpfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (p->ctxfd < 0)
    return nook_error_set (err, errno, "open '%s'", dir);
  cleanup_free char *sub = clean_rel (p->git_subdir ? p->git_subdir : "");
  struct stat st;
  cleanup_close int sfd = fs_open_in_root (p->ctxfd, *sub ? sub : ".", O_PATH | O_NOFOLLOW, 0);
  if (sfd < 0 || fstat (sfd, &st) < 0 || !S_ISDIR (st.st_mode))
    return nook_error_set (err, ENOENT, "ADD %s: no directory '%s' in commit %s", p->git_remote,
                           sub, p->git_commit);
  struct strbuf in = { 0 };
  struct walk_ctx w = { .b = b, .p = p, .inputs = &in, .epoch = b->epoch };
  int saved_ctxfd = b->ctxfd;
  struct dockerfile_ignore *saved_ignore = b->ignore;
  b->ctxfd = p->ctxfd;
  b->ignore = NULL;
  int r = 0;
  if (!p->git_keep && !*sub)
    r = dockerfile_ignore_parse (".git\n", 5, &w.exclude, err);
  if (r == 0)
    r = add_tree (&w, sub, "", err);
  if (w.exclude)
    dockerfile_ignore_free (w.exclude);
  b->ctxfd = saved_ctxfd;
  b->ignore = saved_ignore;
  strbuf_free (&in);
  return r;
}

static int
apply (struct build *b, struct build_stage_ctx *sc, struct build_copy_plan *plan,
       const char *workdir, const char *upper_name, nook_error_t *err)
{
  if (build_state_dirs (b, &sc->s, err) < 0)
    return -1;
  cleanup_free char *up = xasprintf ("%s/upper", upper_name);
  if (mkdirat (b->tmpfd, up, 0755) < 0)
    return nook_error_set (err, errno, "create '%s/%s'", b->tmpdir, up);
  char *none[] = { NULL };
  struct apply_job j = { .b = b,
                         .p = plan,
                         .dirs = sc->s.dirs && !(plan && plan->link) ? sc->s.dirs : none,
                         .upper = upper_name,
                         .workdir = workdir };
  if (plan && plan->git_remote && git_prepare (b, plan, upper_name, err) < 0)
    return -1;
  int saved = b->ctxfd;
  if (plan && plan->ctxfd >= 0)
    b->ctxfd = plan->ctxfd;
  int r = imagefmt_store_call (b->store, apply_fn, &j, err);
  b->ctxfd = saved;
  return r;
}

int
build_copy_apply (struct build *b, struct build_stage_ctx *sc, struct build_copy_plan *plan,
                  const char *upper_name, nook_error_t *err)
{
  return apply (b, sc, plan, NULL, upper_name, err);
}

int
build_workdir_apply (struct build *b, struct build_stage_ctx *sc, const char *path,
                     const char *upper_name, nook_error_t *err)
{
  return apply (b, sc, NULL, path, upper_name, err);
}

/* The host path of what a plan would copy, when binding it shows the same: one source
 * (a file or a directory, no link) that nothing excludes, from the context, or from the one
 * layer of a stage or image that has anything at that path. */
static char *
fd_path (int fd)
{
  char p[32], buf[4096];
  fs_fd_path (fd, p);
  ssize_t n = readlink (p, buf, sizeof buf - 1);
  if (n <= 0 || buf[0] != '/')
    return NULL;
  buf[n] = '\0';
  return xstrdup (buf);
}

char *
build_copy_bind_source (struct build *b, const struct build_copy_plan *p)
{
  if (p->chown_set || p->chmod_set || p->parents || p->link)
    return NULL;
  if (p->from_set)
    {
      if (strv_len (p->from_srcs) != 1 || *p->from_srcs[0] == '\0')
        return NULL;
      const char *src = p->from_srcs[0];
      struct stat st;
      if (union_stat (p->from.dirs, src, &st) < 0
          || !(S_ISDIR (st.st_mode) || S_ISREG (st.st_mode)))
        return NULL;
      /* every other layer has nothing at src (no entry, no whiteout): the union there is
         that one layer's tree */
      const char *base = base_name (src);
      cleanup_free char *dir
          = base == src ? xstrdup ("") : xstrndup (src, (size_t)(base - src - 1));
      cleanup_free char *wh
          = *dir ? xasprintf ("%s/.wh.%s", dir, base) : xasprintf (".wh.%s", base);
      int found = -1;
      for (size_t i = 0; p->from.dirs && p->from.dirs[i]; i++)
        {
          cleanup_close int lfd = open (p->from.dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          struct stat ls;
          if (lfd < 0)
            return NULL;
          bool has = lstat_in (lfd, src, &ls) == 0 || lstat_in (lfd, wh, &ls) == 0;
          if (has && found >= 0)
            return NULL;
          if (has)
            found = (int)i;
        }
      if (found < 0)
        return NULL;
      cleanup_close int lfd = open (p->from.dirs[found], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      cleanup_close int fd = lfd < 0 ? -1 : open_in (lfd, src, O_PATH, 0);
      struct stat fs;
      if (fd < 0 || fstat (fd, &fs) < 0 || (fs.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
        return NULL;
      return fd_path (fd);
    }
  if (p->one_src == NULL || p->excluded_any || p->n == 0)
    return NULL;
  for (size_t i = 0; i < p->n; i++)
    if (p->items[i].data || p->items[i].fd >= 0 || p->items[i].archive)
      return NULL;
  int root = p->ctxfd >= 0 ? p->ctxfd : b->ctxfd;
  if (root < 0)
    return NULL;
  cleanup_close int fd = open_in (root, *p->one_src ? p->one_src : ".", O_PATH, 0);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0 || !(S_ISDIR (st.st_mode) || S_ISREG (st.st_mode)))
    return NULL;
  /* a file is bound as the file itself: the copy would be a file at the target too */
  if (S_ISREG (st.st_mode) && !p->single_file)
    return NULL;
  return fd_path (fd);
}
