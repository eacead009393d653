/* cmd/build/cli.c: `nook build` (also `nook image build`, `nook buildx build`) and
 * `nook builder prune`: flags, the context and its .dockerignore, the Dockerfile,
 * the epoch, then build_exec, and the final image put in the store and tagged. */
#include "cmd/build/build.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/events.h"
#include "cmd/format.h"
#include "cmd/store_open.h"
#include "imagefmt/digest.h"
#include "imagefmt/export.h"
#include "imagefmt/layer.h"
#include "imagefmt/ref.h"
#include "imagefmt/store.h"
#include "imagefmt/store_blob.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fs_read.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage:  nook build [OPTIONS] PATH | -\n\n"
           "Build an image from a Dockerfile\n\n"
           "Options:\n"
           "      --build-arg list      Set build-time variables (NAME=VALUE, or NAME from the\n"
           "                            environment)\n"
           "      --build-context list  Additional build contexts (NAME=DIR, or\n"
           "                            NAME=docker-image://REF) for FROM and COPY --from\n"
           "      --explain-cache       Say why each step hit or missed the cache (against the\n"
           "                            last build of this Dockerfile)\n"
           "  -f, --file string         Name of the Dockerfile (default: PATH/Dockerfile; - for\n"
           "                            stdin)\n"
           "      --add-host list       Add a custom host-to-IP mapping for RUN (host:ip)\n"
           "      --iidfile string      Write the image ID to the file\n"
           "      --label list          Set metadata for an image\n"
           "      --network string      Networking mode for the RUN instructions: default, none,\n"
           "                            host\n"
           "      --no-cache            Do not use cache when building the image\n"
           "      --no-cache-filter list  Do not use the cache for these stages\n"
           "  -o, --output string       Write the image's files instead of storing the image:\n"
           "                            type=local,dest=DIR, type=tar,dest=FILE (- for\n"
           "                            stdout), or DIR\n"
           "      --platform string     Set the target platform (only this machine's)\n"
           "      --progress string     Type of progress output: auto, plain, tty, quiet\n"
           "      --pull                Always attempt to pull a newer version of the image\n"
           "  -q, --quiet               Suppress the build output and print image ID on success\n"
           "      --verify              Build a second time without the cache and name every\n"
           "                            file that differs (exit 1 when one does)\n"
           "      --check               Run the build checks only (BuildKit's), no step\n"
           "      --secret stringArray  Secret to expose to RUN --mount=type=secret\n"
           "                            (id=ID,src=FILE or id=ID,env=VARIABLE)\n"
           "  -t, --tag list            Name and optionally a tag in the \"name:tag\" format\n"
           "      --target string       Set the target build stage to build\n"
           "      --ulimit list         Ulimit options for RUN (NAME=SOFT[:HARD])\n"
           "  -h, --help                Print usage\n\n"
           "Layers are reproducible: file times are clamped to SOURCE_DATE_EPOCH (the environment\n"
           "or --build-arg), else the commit time of the context when it is a git checkout, else\n"
           "0 (1970-01-01T00:00:00Z); the image's `created` is that time too.\n");
}

/* --name VALUE, --name=VALUE, -x VALUE, -xVALUE: 1 with *val, 0 not this flag, -1 error */
static int
opt (int argc, char **argv, int *i, const char *shrt, const char *lng, const char **val,
     nook_error_t *err)
{
  const char *a = argv[*i];
  size_t n = strlen (lng);
  if (strncmp (a, lng, n) == 0 && a[n] == '=')
    {
      *val = a + n + 1;
      return 1;
    }
  bool is = strcmp (a, lng) == 0 || (shrt && strcmp (a, shrt) == 0);
  if (!is && shrt && strncmp (a, shrt, 2) == 0 && a[2] != '\0' && a[1] != '-')
    {
      *val = a + 2;
      return 1;
    }
  if (!is)
    return 0;
  if (*i + 1 >= argc)
    return cmd_flag_error (err, "build", "flag needs an argument: %s", lng);
  *val = argv[++*i];
  return 1;
}

static int
parse (int argc, char **argv, struct build_opts *o, nook_error_t *err)
{
  const char *v = NULL;
  int r;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (a[0] != '-' || strcmp (a, "-") == 0)
        {
          if (o->context)
            return cmd_args_error (err, "build", "\"nook build\" requires exactly 1 argument.");
          o->context = a;
          continue;
        }
      if (strcmp (a, "--") == 0)
        continue;
#define OPT(s, l)                                                                                  \
  if ((r = opt (argc, argv, &i, s, l, &v, err)) < 0)                                               \
    return -1;                                                                                     \
  else if (r)
      OPT ("-t", "--tag") { strv_push (&o->tags, v); }
      else OPT ("-f", "--file")
      {
        o->file = v;
      }
      else OPT (NULL, "--build-arg")
      {
        strv_push (&o->build_args, v);
      }
      else OPT (NULL, "--target")
      {
        o->target = v;
      }
      else OPT (NULL, "--iidfile")
      {
        o->iidfile = v;
      }
      else OPT (NULL, "--label")
      {
        strv_push (&o->labels, v);
      }
      else OPT (NULL, "--progress")
      {
        o->progress = v;
      }
      else OPT (NULL, "--network")
      {
        o->network = v;
      }
      else OPT (NULL, "--platform")
      {
        o->platform = v;
      }
      else OPT ("-o", "--output")
      {
        o->output = v;
      }
      else OPT (NULL, "--add-host")
      {
        strv_push (&o->add_hosts, v);
      }
      else OPT (NULL, "--build-context")
      {
        const char *eq = strchr (v, '=');
        if (eq == NULL || eq == v || eq[1] == '\0')
          return cmd_flag_error (err, "build",
                                 "invalid argument \"%s\" for \"--build-context\" flag: want "
                                 "NAME=DIR or NAME=docker-image://REF",
                                 v);
        strv_push (&o->build_contexts, v);
      }
      else OPT (NULL, "--ulimit")
      {
        strv_push (&o->ulimits, v);
      }
      else if (strcmp (a, "--check") == 0) o->check = true;
      else OPT (NULL, "--secret")
      {
        strv_push (&o->secrets, v);
      }
      else OPT (NULL, "--no-cache-filter")
      {
        cleanup_free char *copy = xstrdup (v);
        char *save = NULL;
        for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
          strv_push (&o->no_cache_filter, t);
      }
      else OPT (NULL, "--cache-from")
      {
        return nook_error_set (err, ENOTSUP,
                               "--cache-from %s: nook's build cache is the store's (cache/build); "
                               "importing a cache is not supported",
                               v);
      }
      else OPT (NULL, "--cache-to")
      {
        return nook_error_set (err, ENOTSUP,
                               "--cache-to %s: nook's build cache is the store's (cache/build); "
                               "exporting it is not supported",
                               v);
      }
      else if (strcmp (a, "--no-cache") == 0 || strcmp (a, "--no-cache=true") == 0) o->no_cache
          = true;
      else if (strcmp (a, "--explain-cache") == 0) o->explain_cache = true;
      else if (strcmp (a, "--verify") == 0) o->verify = true;
      else if (strcmp (a, "--pull") == 0 || strcmp (a, "--pull=true") == 0) o->pull = true;
      else if (strcmp (a, "-q") == 0 || strcmp (a, "--quiet") == 0) o->quiet = true;
      else if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0) o->help = true;
      else if (strcmp (a, "--rm") == 0 || strcmp (a, "--rm=true") == 0
               || strcmp (a, "--force-rm") == 0
               || strcmp (a, "--load") == 0); /* Docker's defaults, or what nook always does */
      else return cmd_flag_error (err, "build", "unknown flag: %s", a);
#undef OPT
    }
  if (o->help)
    return 0;
  if (o->context == NULL)
    return cmd_args_error (err, "build", "\"nook build\" requires exactly 1 argument.");
  const char *p = o->progress ? o->progress : getenv ("BUILDKIT_PROGRESS");
  if (p && *p)
    {
      if (strcmp (p, "quiet") == 0)
        o->quiet = true;
      else if (strcmp (p, "plain") && strcmp (p, "tty") && strcmp (p, "auto")
               && strcmp (p, "rawjson"))
        return cmd_flag_error (err, "build",
                               "invalid argument \"%s\" for \"--progress\" flag: want auto, "
                               "plain, tty or quiet",
                               p);
    }
  if (o->network && strcmp (o->network, "default") && strcmp (o->network, "none")
      && strcmp (o->network, "host") && strcmp (o->network, "bridge"))
    return cmd_flag_error (err, "build",
                           "invalid argument \"%s\" for \"--network\" flag: want default, none "
                           "or host",
                           o->network);
  if (o->platform)
    {
      cleanup_free char *want = xasprintf ("linux/%s", imagefmt_store_arch ());
      if (strncmp (o->platform, want, strlen (want)) != 0)
        return nook_error_set (err, ENOTSUP,
                               "--platform %s: only this machine's platform (%s) can be built "
                               "here",
                               o->platform, want);
    }
  return 0;
}

volatile sig_atomic_t build_interrupted;

volatile pid_t build_runner;

static void
on_signal (int sig)
{
  build_interrupted = sig;
  /* the step's container hears it as a container of `nook run` would (from a terminal,
     the whole process group gets it anyway) */
  if (build_runner > 0)
    kill (build_runner, sig);
}

int
build_named_context (const struct build *b, const char *name, char **dir, char **image)
{
  size_t n = strlen (name);
  *dir = *image = NULL;
  for (size_t i = strv_len (b->o->build_contexts); i-- > 0;)
    {
      const char *c = b->o->build_contexts[i];
      if (strncasecmp (c, name, n) != 0 || c[n] != '=')
        continue;
      const char *v = c + n + 1;
      if (strncmp (v, "docker-image://", 15) == 0)
        *image = xstrdup (v + 15);
      else
        *dir = xstrdup (v);
      return 1;
    }
  return 0;
}

static void
opts_free (struct build_opts *o)
{
  strv_free (o->tags);
  strv_free (o->build_args);
  strv_free (o->labels);
  strv_free (o->add_hosts);
  strv_free (o->ulimits);
  strv_free (o->secrets);
  strv_free (o->no_cache_filter);
  strv_free (o->build_contexts);
}

/* The commit time of the context's git checkout, or -1. */
static int64_t
git_epoch (const char *dir)
{
  cleanup_free char *dotgit = xasprintf ("%s/.git", dir);
  if (access (dotgit, F_OK) < 0)
    return -1;
  int fds[2];
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return -1;
    }
  if (pid == 0)
    {
      dup2 (fds[1], 1);
      int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
      if (null >= 0)
        dup2 (null, 2);
      execlp ("git", "git", "-C", dir, "log", "-1", "--format=%ct", (char *)NULL);
      _exit (127);
    }
  close (fds[1]);
  char buf[64] = "";
  ssize_t n = read (fds[0], buf, sizeof buf - 1);
  close (fds[0]);
  int st;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (n <= 0 || !WIFEXITED (st) || WEXITSTATUS (st) != 0)
    return -1;
  buf[n] = '\0';
  char *end;
  long long v = strtoll (buf, &end, 10);
  return end == buf || v < 0 ? -1 : (int64_t)v;
}

static int
epoch_of (const struct build_opts *o, const char *ctxdir, int64_t *out, nook_error_t *err)
{
  const char *v = getenv ("SOURCE_DATE_EPOCH");
  for (size_t i = 0; o->build_args && o->build_args[i]; i++)
    if (strncmp (o->build_args[i], "SOURCE_DATE_EPOCH=", 18) == 0)
      v = o->build_args[i] + 18;
  if (v && *v)
    {
      int64_t e;
      if (parse_int (v, 0, INT64_C (253402300799), &e, "SOURCE_DATE_EPOCH", err) < 0)
        return -1;
      *out = e;
      return 0;
    }
  int64_t g = ctxdir ? git_epoch (ctxdir) : -1;
  *out = g >= 0 ? g : BUILD_DEFAULT_EPOCH;
  return 0;
}

static const char *
layer_media_type (struct build *b, const char *digest, int64_t *size, nook_error_t *err)
{
  cleanup_close int fd = imagefmt_store_open_blob (b->store, digest, size, err);
  if (fd < 0)
    return NULL;
  unsigned char h[4] = { 0 };
  ssize_t n = pread (fd, h, sizeof h, 0);
  if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
    return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (n >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd)
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  return "application/vnd.oci.image.layer.v1.tar";
}

/* -o: the final filesystem as a tar (type=tar) or files in a directory (type=local). */
static int
write_output (struct build *b, struct build_state *s, nook_error_t *err)
{
  const char *o = b->o->output;
  bool tar = false;
  cleanup_free char *dest = NULL;
  if (strchr (o, '=') == NULL)
    dest = xstrdup (o);
  else
    {
      cleanup_free char *copy = xstrdup (o);
      char *save = NULL;
      for (char *kv = strtok_r (copy, ",", &save); kv; kv = strtok_r (NULL, ",", &save))
        {
          if (strcmp (kv, "type=tar") == 0)
            tar = true;
          else if (strcmp (kv, "type=local") == 0)
            tar = false;
          else if (strncmp (kv, "dest=", 5) == 0)
            {
              free (dest);
              dest = xstrdup (kv + 5);
            }
          else
            return nook_error_set (
                err, EINVAL, "--output %s: want type=local,dest=DIR or type=tar,dest=FILE", o);
        }
    }
  if (dest == NULL || *dest == '\0')
    return nook_error_set (err, EINVAL, "--output %s: dest= is missing", o);
  if (build_state_dirs (b, s, err) < 0)
    return -1;
  char *empty[] = { b->empty_dir, NULL };
  char *const *dirs = s->dirs && s->dirs[0] ? s->dirs : empty;
  cleanup_close int fd = -1;
  if (tar && strcmp (dest, "-") == 0)
    fd = fcntl (1, F_DUPFD_CLOEXEC, 3);
  else if (tar)
    fd = open (dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  else
    fd = openat (b->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "--output: open '%s'", tar ? dest : b->tmpdir);
  if (imagefmt_export_tree (b->store, dirs, NULL, fd, err) < 0)
    return nook_error_wrap (err, "--output");
  if (tar)
    return 0;
  if (fs_mkdir_p (dest, 0755, err) < 0)
    return -1;
  cleanup_close int dfd = open (dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return nook_error_set (err, errno, "--output: open '%s'", dest);
  if (lseek (fd, 0, SEEK_SET) < 0 || imagefmt_layer_extract (fd, dfd, NULL, err) < 0)
    return nook_error_wrap (err, "--output: write '%s'", dest);
  return 0;
}

/* The final image: config and manifest into the store, tagged. */
static int
export_image (struct build *b, struct build_state *s, char **id_out, nook_error_t *err)
{
  json_t *cfg = s->config;
  cleanup_free char *created = build_rfc3339 (b->epoch);
  json_object_set_new (cfg, "created", json_string (created));
  if (!json_is_string (json_object_get (cfg, "architecture")))
    json_object_set_new (cfg, "architecture", json_string (imagefmt_store_arch ()));
  if (!json_is_string (json_object_get (cfg, "os")))
    json_object_set_new (cfg, "os", json_string ("linux"));
  json_t *c = json_object_get (cfg, "config");
  for (size_t i = 0; b->o->labels && b->o->labels[i]; i++)
    {
      json_t *labels = json_object_get (c, "Labels");
      if (!json_is_object (labels))
        {
          labels = json_object ();
          json_object_set_new (c, "Labels", labels);
        }
      const char *eq = strchr (b->o->labels[i], '=');
      cleanup_free char *k = eq ? xstrndup (b->o->labels[i], (size_t)(eq - b->o->labels[i]))
                                : xstrdup (b->o->labels[i]);
      json_object_set_new (labels, k, json_string (eq ? eq + 1 : ""));
    }
  cleanup_free char *ctext = json_dumps (cfg, JSON_SORT_KEYS | JSON_COMPACT);
  cleanup_free char *cdigest = NULL;
  if (ctext == NULL)
    oom ();
  if (b->o->output)
    {
      /* Docker's -o replaces the image store as the build's destination */
      int v = ++b->vertex;
      if (!b->quiet)
        fprintf (b->out, "#%d exporting to client\n", v);
      if (write_output (b, s, err) < 0)
        return -1;
      if (!b->quiet)
        fprintf (b->out, "#%d DONE %.1fs\n", v, 0.0);
      *id_out = imagefmt_digest_data (ctext, strlen (ctext));
      return 0;
    }
  if (imagefmt_store_put_blob (b->store, ctext, strlen (ctext), NULL, &cdigest, err) < 0)
    return -1;
  json_t *layers = json_array ();
  for (size_t i = 0; s->layers && s->layers[i]; i++)
    {
      int64_t size = 0;
      const char *mt = layer_media_type (b, s->layers[i], &size, err);
      if (mt == NULL)
        {
          json_decref (layers);
          return -1;
        }
      json_array_append_new (layers, json_pack ("{s:s, s:s, s:I}", "mediaType", mt, "digest",
                                                s->layers[i], "size", (json_int_t)size));
    }
  json_t *m = json_pack ("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                         MT_MANIFEST, "config", "mediaType", MT_CONFIG, "digest", cdigest, "size",
                         (json_int_t)strlen (ctext), "layers", layers);
  cleanup_free char *mtext = json_dumps (m, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref (m);
  cleanup_free char *md = NULL;
  cleanup_strv char **full = NULL;
  for (size_t i = 0; b->o->tags && b->o->tags[i]; i++)
    {
      char *f = imagefmt_ref_normalize_tag (b->o->tags[i], err);
      if (f == NULL)
        return -1;
      strv_push_take (&full, f);
    }
  int v = ++b->vertex;
  if (!b->quiet)
    fprintf (b->out, "#%d exporting to image\n#%d exporting layers done\n", v, v);
  if (imagefmt_store_add_image (b->store, full ? full[0] : NULL, mtext, strlen (mtext), MT_MANIFEST,
                                NULL, &md, err)
      < 0)
    return -1;
  if (!b->quiet)
    fprintf (b->out, "#%d writing image %s done\n", v, cdigest);
  for (size_t i = 0; full && full[i]; i++)
    {
      if (i > 0 && imagefmt_store_tag (b->store, full[i], md, err) < 0)
        return -1;
      /* Docker's tag event of each -t: the image's ID, the reference (familiar) as name */
      cleanup_free char *fam = imagefmt_ref_familiar (full[i]);
      events_image (b->store, "tag", cdigest, fam ? fam : full[i], cfg, NULL);
      if (!b->quiet)
        fprintf (b->out, "#%d naming to %s done\n", v, full[i]);
    }
  if (!b->quiet)
    fprintf (b->out, "#%d DONE %.1fs\n", v, 0.0);
  *id_out = steal_pointer (&cdigest);
  return 0;
}

static int
read_stdin (char **text, size_t *len, nook_error_t *err)
{
  struct strbuf b = { 0 };
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (0, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          strbuf_free (&b);
          return nook_error_set (err, errno, "read the Dockerfile from stdin");
        }
      if (n == 0)
        break;
      if (b.len + (size_t)n > DOCKERFILE_MAX_SIZE)
        {
          strbuf_free (&b);
          return nook_error_set (err, EFBIG, "the Dockerfile on stdin is too large");
        }
      strbuf_appendn (&b, buf, (size_t)n);
    }
  *len = b.len;
  *text = b.buf ? strbuf_steal (&b) : xstrdup ("");
  return 0;
}

/* `nook build - < context.tar[.gz]`: stdin held a whole context, not a Dockerfile.
 * It is unpacked into a private directory (removed at the end); text is the input
 * when it was not an archive. */
static int
stdin_context (struct build *b, char **text, size_t *len, nook_error_t *err)
{
  const char *tmp = getenv ("TMPDIR");
  cleanup_close int fd = open (tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return nook_error_set (err, errno, "a temporary file for stdin");
  char buf[65536];
  uint64_t total = 0;
  for (;;)
    {
      ssize_t n = read (0, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nook_error_set (err, errno, "read stdin");
      if (n == 0)
        break;
      if (fs_write_all (fd, buf, (size_t)n) < 0)
        return nook_error_set (err, errno, "write a temporary file");
      total += (uint64_t)n;
    }
  unsigned char h[512];
  ssize_t hn = pread (fd, h, sizeof h, 0);
  bool archive = (hn >= 2 && h[0] == 0x1f && h[1] == 0x8b) || (hn >= 3 && memcmp (h, "BZh", 3) == 0)
                 || (hn >= 6
                     && memcmp (h,
                                "\xfd"
                                "7zXZ\0",
                                6)
                            == 0)
                 || (hn >= 4 && memcmp (h, "\x28\xb5\x2f\xfd", 4) == 0)
                 || (hn >= 262 && memcmp (h + 257, "ustar", 5) == 0);
  if (!archive)
    {
      if (total > DOCKERFILE_MAX_SIZE)
        return nook_error_set (err, EFBIG, "the Dockerfile on stdin is too large");
      *text = xzalloc ((size_t)total + 1);
      if (pread (fd, *text, (size_t)total, 0) != (ssize_t)total)
        return nook_error_set (err, errno, "read a temporary file");
      *len = (size_t)total;
      return 0;
    }
  cleanup_free char *tmpl = xasprintf ("%s/nook-build-ctx.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp (tmpl) == NULL)
    return nook_error_set (err, errno, "create a directory for the context");
  b->ctx_tmp = xstrdup (tmpl);
  b->ctxfd = open (tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (b->ctxfd < 0)
    return nook_error_set (err, errno, "open '%s'", tmpl);
  if (lseek (fd, 0, SEEK_SET) < 0 || imagefmt_layer_extract (fd, b->ctxfd, NULL, err) < 0)
    return nook_error_wrap (err, "unpack the context from stdin");
  b->ctxpath = xstrdup (tmpl);
  *text = NULL;
  return 0;
}

static int
load_ignore (struct build *b, const char *dockerfile_path, nook_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  cleanup_error nook_error_t e = NULL;
  if (dockerfile_path)
    {
      cleanup_free char *p = xasprintf ("%s.dockerignore", dockerfile_path);
      if (fs_read_file_at (AT_FDCWD, p, 4u << 20, &text, &len, &e) == 0)
        return dockerfile_ignore_parse (text, len, &b->ignore, err) < 0
                   ? nook_error_wrap (err, "%s", p)
                   : 0;
      nook_error_free (&e);
    }
  if (b->ctxfd < 0)
    return 0;
  if (fs_read_file_at (b->ctxfd, ".dockerignore", 4u << 20, &text, &len, &e) < 0)
    return 0;
  if (dockerfile_ignore_parse (text, len, &b->ignore, err) < 0)
    return nook_error_wrap (err, ".dockerignore");
  return 0;
}

static void
warn_unused (struct build *b)
{
  struct strbuf s = { 0 };
  for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++)
    {
      const char *a = b->o->build_args[i];
      const char *eq = strchr (a, '=');
      cleanup_free char *name = eq ? xstrndup (a, (size_t)(eq - a)) : xstrdup (a);
      bool meta = false;
      for (size_t k = 0; b->st->meta_env && b->st->meta_env[k]; k++)
        meta = meta
               || (strncmp (b->st->meta_env[k], name, strlen (name)) == 0
                   && b->st->meta_env[k][strlen (name)] == '=');
      if (meta || strv_contains (b->used_args, name) || build_args_predefined (name)
          || strcmp (name, "SOURCE_DATE_EPOCH") == 0)
        continue;
      strbuf_appendf (&s, "%s%s", s.len ? " " : "", name);
    }
  if (s.len)
    fprintf (b->out, "[Warning] One or more build-args [%s] were not consumed\n", s.buf);
  strbuf_free (&s);
}

static void
build_free (struct build *b)
{
  if (b->results)
    for (size_t i = 0; b->st && i < b->st->n; i++)
      build_state_clear (&b->results[i]);
  free (b->results);
  free (b->done);
  free (b->lint_summary);
  dockerfile_stages_free (b->st);
  dockerfile_free (b->df);
  if (b->ignore)
    dockerfile_ignore_free (b->ignore);
  if (b->ctxfd >= 0)
    close (b->ctxfd);
  if (b->tmplock >= 0)
    close (b->tmplock);
  if (b->tmpfd >= 0)
    close (b->tmpfd);
  build_explain_save (b);
  if (b->explain_prev)
    json_decref (b->explain_prev);
  if (b->explain_now)
    json_decref (b->explain_now);
  free (b->df_path);
  free (b->ctxpath);
  if (b->ctx_tmp)
    {
      cleanup_error nook_error_t e = NULL;
      if (fs_rm_rf_at (AT_FDCWD, b->ctx_tmp, &e) < 0)
        log_warn ("remove '%s': %s", b->ctx_tmp, e->msg);
      free (b->ctx_tmp);
    }
  free (b->tmpdir);
  free (b->empty_dir);
  strv_free (b->used_args);
  build_tty_finish (b->out, b->tty_pid);
  b->out = NULL;
  imagefmt_hold_release (b->hold);
  if (b->store)
    imagefmt_store_close (b->store);
}

int
cmd_build (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct build_opts o = { 0 };
  if (parse (argc, argv, &o, err) < 0)
    {
      opts_free (&o);
      return -1;
    }
  if (o.help)
    {
      usage (stdout);
      opts_free (&o);
      return 0;
    }
  struct build b
      = { .ctx = ctx, .o = &o, .ctxfd = -1, .tmpfd = -1, .tmplock = -1, .quiet = o.quiet };
  clock_gettime (CLOCK_MONOTONIC, &b.t0);
  const char *progress = o.progress ? o.progress : getenv ("BUILDKIT_PROGRESS");
  int pfd = !o.quiet && build_tty_wanted (progress) ? build_tty_start (&b.tty_pid) : -1;
  if (pfd < 0)
    pfd = fcntl (2, F_DUPFD_CLOEXEC, 3);
  b.out = pfd >= 0 ? fdopen (pfd, "w") : NULL;
  int ret = -1;
  cleanup_free char *text = NULL;
  cleanup_free char *df_path = NULL;
  cleanup_free char *id = NULL;
  struct build_state final = { 0 };
  size_t len = 0;
  bool ctx_stdin = strcmp (o.context, "-") == 0;
  if (b.out == NULL)
    {
      nook_error_set (err, errno, "stderr");
      goto out;
    }
  if (ctx_stdin && o.file && strcmp (o.file, "-") == 0)
    {
      nook_error_set (err, 0,
                      "invalid argument: can't use stdin for both build context and dockerfile");
      goto out;
    }
  if (!ctx_stdin)
    {
      b.ctxfd = open (o.context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (b.ctxfd < 0)
        {
          nook_error_set (err, errno, "unable to prepare context: path \"%s\" not found",
                          o.context);
          goto out;
        }
      b.ctxpath = xstrdup (o.context);
    }
  /* the Dockerfile */
  if (ctx_stdin)
    {
      if (stdin_context (&b, &text, &len, err) < 0)
        goto out;
      if (text == NULL)
        {
          /* a context tar: its Dockerfile (or -f, relative to it) */
          df_path = xasprintf ("%s/%s", b.ctx_tmp, o.file ? o.file : "Dockerfile");
          if (fs_read_file_at (b.ctxfd, o.file ? o.file : "Dockerfile", DOCKERFILE_MAX_SIZE, &text,
                               &len, err)
              < 0)
            {
              nook_error_wrap (err, "failed to read dockerfile");
              goto out;
            }
        }
    }
  else if (o.file && strcmp (o.file, "-") == 0)
    {
      if (read_stdin (&text, &len, err) < 0)
        goto out;
    }
  else
    {
      df_path = o.file ? xstrdup (o.file) : xasprintf ("%s/Dockerfile", o.context);
      if (fs_read_file_at (AT_FDCWD, df_path, DOCKERFILE_MAX_SIZE, &text, &len, err) < 0)
        {
          nook_error_wrap (err, "failed to read dockerfile");
          goto out;
        }
    }
  if (!b.quiet)
    fprintf (b.out,
             "#%d [internal] load build definition from %s\n#%d transferring dockerfile: "
             "%zuB done\n#%d DONE 0.0s\n\n",
             b.vertex + 1, df_path ? df_path : "stdin", b.vertex + 1, len, b.vertex + 1),
        b.vertex++;
  if (dockerfile_parse (text, len, o.file && strcmp (o.file, "-") ? o.file : "Dockerfile", &b.df,
                        err)
      < 0)
    goto out;
  if (b.df->syntax && !b.quiet)
    fprintf (b.out, "# syntax=%s: ignored (nook builds with its own front end)\n", b.df->syntax);
  if (dockerfile_stages_build (b.df, o.build_args, &b.st, err) < 0)
    {
      (*err)->exit = 1;
      goto out;
    }
  {
    size_t ti;
    if (dockerfile_stages_find (b.st, o.target, &ti, err) < 0)
      {
        (*err)->exit = 1;
        goto out;
      }
  }
  if (load_ignore (&b, o.file && strcmp (o.file, "-") && !b.ctx_tmp ? o.file : NULL, err) < 0)
    goto out;
  if (!b.quiet)
    fprintf (b.out, "#%d [internal] load .dockerignore\n#%d DONE 0.0s\n\n", b.vertex + 1,
             b.vertex + 1),
        b.vertex++;
  if (epoch_of (&o, b.ctxpath, &b.epoch, err) < 0)
    goto out;
  if (cmd_store_open (ctx->root, &b.store, &b.ids0, &b.idin, err) < 0)
    goto out;
  /* The base, the intermediate layers (in no image until the end) and the cache's: no
   * rmi, prune or `builder prune` removes them under this build (they wait for it). */
  if (imagefmt_store_hold_images (b.store, &b.hold, err) < 0)
    goto out;
  b.tmpdir = xasprintf ("%s/build", imagefmt_store_root (b.store));
  if (mkdir (b.tmpdir, 0755) < 0 && errno != EEXIST)
    {
      nook_error_set (err, errno, "create '%s'", b.tmpdir);
      goto out;
    }
  b.tmpfd = open (b.tmpdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (b.tmpfd < 0)
    {
      nook_error_set (err, errno, "open '%s'", b.tmpdir);
      goto out;
    }
  build_tmp_sweep (&b);
  b.empty_dir = xasprintf ("%s/empty", b.tmpdir);
  if (mkdir (b.empty_dir, 0755) < 0 && errno != EEXIST)
    {
      nook_error_set (err, errno, "create '%s'", b.empty_dir);
      goto out;
    }
  {
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGHUP, &sa, NULL);
  }
  b.df_path = df_path ? xstrdup (df_path) : NULL;
  {
    int check_status = 0;
    if (build_lint (&b, &check_status, err) < 0)
      goto out;
    if (o.check)
      {
        ret = check_status;
        goto out;
      }
  }
  if (build_secrets_load (&b, err) < 0)
    goto out;
  build_explain_load (&b);
  if (build_exec (&b, &final, err) < 0)
    goto out;
  if (o.verify)
    {
      struct build_state again = { 0 };
      b.no_cache_all = true;
      int r = build_exec (&b, &again, err);
      if (r == 0)
        r = build_verify (&b, &final, &again, err);
      build_state_clear (&again);
      if (r < 0)
        goto out;
    }
  warn_unused (&b);
  if (export_image (&b, &final, &id, err) < 0)
    goto out;
  if (o.iidfile)
    {
      cleanup_error nook_error_t e = NULL;
      if (fs_write_atomic_at (AT_FDCWD, o.iidfile, id, strlen (id), 0644, &e) < 0)
        {
          nook_error_set (err, e->code, "write the image ID file '%s': %s", o.iidfile, e->msg);
          goto out;
        }
    }
  if (b.lint_summary && !b.quiet)
    fprintf (b.out, "\n%s", b.lint_summary); /* as buildx, after the progress */
  if (o.quiet && !(o.output && strstr (o.output, "dest=-")))
    printf ("%s\n", id);
  ret = 0;
out:
  if (ret < 0 && err && *err && (*err)->exit == 0)
    (*err)->exit = 1;
  build_state_clear (&final);
  build_secrets_free (&b);
  build_free (&b);
  opts_free (&o);
  return ret;
}

int
cmd_buildx (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (argc >= 2 && (strcmp (argv[1], "build") == 0 || strcmp (argv[1], "b") == 0))
    return cmd_build (ctx, argc - 1, argv + 1, err);
  if (argc >= 2 && strcmp (argv[1], "prune") == 0)
    return cmd_builder (ctx, argc, argv, err);
  if (argc >= 2 && (strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0))
    {
      printf ("Usage:  nook buildx build [OPTIONS] PATH | -\n        nook buildx prune [-f]\n");
      return 0;
    }
  return cmd_args_error (err, "buildx", "nook buildx: '%s' is not a nook buildx command.",
                         argc >= 2 ? argv[1] : "");
}

int
cmd_builder (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  if (argc < 2 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0
      || (strcmp (argv[1], "prune") == 0 && cmd_wants_help (argc - 1, argv + 1)))
    {
      printf ("Usage:  nook builder prune [OPTIONS]\n\n"
              "Remove build cache: the cache's records, and the intermediate layers (blobs and\n"
              "unpacked layers) that only they kept. Images are never touched.\n\n"
              "Options:\n"
              "  -a, --all             Remove all unused build cache (nook's cache has no\n"
              "                        dangling records apart: the same as without)\n"
              "      --filter filter   Provide filter values (e.g. \"until=24h\": records not\n"
              "                        used for 24 hours)\n"
              "  -f, --force           Do not prompt for confirmation\n");
      return argc < 2 ? 1 : 0;
    }
  if (strcmp (argv[1], "prune") != 0)
    return cmd_args_error (err, "builder", "nook builder: '%s' is not a nook builder command.",
                           argv[1]);
  int64_t before = -1;
  for (int i = 2; i < argc; i++)
    {
      const char *v;
      int r = cmd_opt_value (argc, argv, &i, NULL, "--filter", "builder prune", &v, err);
      if (r < 0)
        return -1;
      if (r > 0)
        {
          int64_t t;
          if (build_prune_filter (v, (int64_t)time (NULL), &t, err) < 0)
            return -1;
          before = before < 0 || t < before ? t : before;
          continue;
        }
      if (strcmp (argv[i], "--keep-storage") == 0 || strncmp (argv[i], "--keep-storage=", 15) == 0
          || strcmp (argv[i], "--max-used-space") == 0 || strcmp (argv[i], "--reserved-space") == 0)
        return nook_error_set_exit (err, 125, EINVAL,
                                    "nook builder prune: %s is not supported (use --filter "
                                    "until=DURATION)",
                                    argv[i]);
      if (strcmp (argv[i], "-f") && strcmp (argv[i], "--force") && strcmp (argv[i], "-a")
          && strcmp (argv[i], "--all") && strcmp (argv[i], "-af") && strcmp (argv[i], "-fa"))
        return cmd_flag_error (err, "builder prune", "unknown flag: %s", argv[i]);
    }
  struct imagefmt_store *s = NULL;
  if (cmd_store_open (ctx->root, &s, NULL, NULL, err) < 0)
    return -1;
  size_t n = 0;
  uint64_t bytes = 0;
  int r = build_cache_prune (s, before, &n, &bytes, err);
  imagefmt_store_close (s);
  if (r < 0)
    return -1;
  cleanup_free char *h = cmd_human_size (bytes);
  printf ("Deleted build cache objects: %zu\nTotal reclaimed space: %s\n", n, h);
  return 0;
}
