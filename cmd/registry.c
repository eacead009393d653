/* cmd/registry.c: `nook pull`, `push`, `login`, `logout` (Docker's flags, output and
 * exit codes), and the pull of `nook run` (cmd_pull_for_run). */
#include "cmd/registry.h"
#include "cmd/cli.h"
#include "cmd/events.h"
#include "cmd/config.h"
#include "cmd/regconf.h"
#include "cmd/store_open.h"
#include "imagefmt/auth.h"
#include "imagefmt/manifest.h"
#include "imagefmt/ref.h"
#include "imagefmt/registry.h"
#include "imagefmt/registry_pull.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/trace.h"
#include "util/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static void
cleanup_storep (struct imagefmt_store **s)
{
  imagefmt_store_close (*s);
}
#define cleanup_store __attribute__ ((cleanup (cleanup_storep)))

/* ---- progress ---- */

struct row
{
  char id[13];
};

struct progress
{
  FILE *out;
  bool tty, quiet;
  struct row *rows;
  size_t n;
};

/* Docker's units.HumanSize: decimal, 3 significant digits. */
static void
human (char *buf, size_t n, double v)
{
  static const char *const u[] = { "B", "kB", "MB", "GB", "TB" };
  size_t i = 0;
  while (v >= 1000 && i + 1 < ARRAY_SIZE (u))
    v /= 1000, i++;
  snprintf (buf, n, "%.3g%s", v, u[i]);
}

static void
on_progress (void *data, const char *id, const char *status, int64_t cur, int64_t total)
{
  struct progress *p = data;
  if (p->quiet || id == NULL)
    return;
  bool bytes = cur >= 0 && total > 0;
  if (!p->tty)
    {
      /* plain lines: steps only, not every chunk */
      if (bytes)
        return;
      fprintf (p->out, "%s: %s\n", id, status);
      fflush (p->out);
      return;
    }
  char line[160];
  if (bytes)
    {
      char a[16], b[16], bar[52];
      int w = (int)(50 * (double)cur / (double)total);
      if (w > 50)
        w = 50;
      memset (bar, ' ', 50);
      memset (bar, '=', (size_t)w);
      if (w < 50)
        bar[w] = '>';
      bar[50] = '\0';
      human (a, sizeof a, (double)cur);
      human (b, sizeof b, (double)total);
      snprintf (line, sizeof line, "%s: %-11s [%s]  %s/%s", id, status, bar, a, b);
    }
  else
    snprintf (line, sizeof line, "%s: %s", id, status);
  size_t i = 0;
  for (; i < p->n; i++)
    if (strcmp (p->rows[i].id, id) == 0)
      break;
  if (i == p->n)
    {
      p->rows = xreallocarray (p->rows, p->n + 1, sizeof *p->rows);
      snprintf (p->rows[p->n].id, sizeof p->rows[p->n].id, "%s", id);
      p->n++;
      fprintf (p->out, "%s\n", line);
    }
  else
    {
      size_t up = p->n - i;
      fprintf (p->out, "\033[%zuA\r\033[2K%s\033[%zuB\r", up, line, up);
    }
  fflush (p->out);
}

/* ---- shared option handling ---- */

static int
parse_bool_flag (const char *verb, const char *flag, const char *val, int *out, nook_error_t *err)
{
  if (val == NULL || strcmp (val, "true") == 0 || strcmp (val, "1") == 0)
    *out = 1;
  else if (strcmp (val, "false") == 0 || strcmp (val, "0") == 0)
    *out = 0;
  else
    return cmd_flag_error (err, verb, "invalid argument \"%s\" for \"%s\" flag: want true or false",
                           val, flag);
  return 0;
}

/* --tls-verify, --tls-verify=BOOL: 1 when it matched (*tls set), 0 when not, -1 bad. */
static int
tls_flag (const char *verb, const char *a, int *tls, nook_error_t *err)
{
  if (strcmp (a, "--tls-verify") == 0)
    return parse_bool_flag (verb, "--tls-verify", NULL, tls, err) < 0 ? -1 : 1;
  if (strncmp (a, "--tls-verify=", 13) == 0)
    return parse_bool_flag (verb, "--tls-verify", a + 13, tls, err) < 0 ? -1 : 1;
  return 0;
}

static int
load_config (struct nook_config *cfg, nook_error_t *err)
{
  return nook_config_load (cfg, err);
}

/* nook's own mirrors of a domain, for regconf_sources */
static char *const *
own_mirrors (void *data, const char *domain)
{
  return nook_config_mirrors (data, domain, NULL);
}

/* Did the user type no registry ("node", "bitnami/node:1")?  Docker's rule: the first
 * component names a registry when it has a '.' or a ':' or is "localhost". */
static bool
typed_short (const char *ref, char **short_name)
{
  size_t first = strcspn (ref, "/");
  if (ref[first] == '/'
      && (memchr (ref, '.', first) || memchr (ref, ':', first)
          || (first == 9 && strncmp (ref, "localhost", 9) == 0)))
    return false;
  size_t end = strcspn (ref, "@");
  const char *colon = memrchr (ref, ':', end);
  if (colon && !memchr (colon, '/', end - (size_t)(colon - ref)))
    end = (size_t)(colon - ref);
  *short_name = xstrndup (ref, end);
  return true;
}

/* Where registries.conf says to pull ref from (NULL: it says nothing; then nook's own
 * mirrors and the registry).  Insecure places join *insecure. */
static struct regconf_source *
regconf_places (const struct regconf *rc, struct nook_config *cfg, const char *typed,
                const struct imagefmt_ref *ref, char ***insecure, nook_error_t *err)
{
  if (rc->file == NULL || (rc->n_regs == 0 && !rc->have_search && rc->alias_names == NULL))
    return NULL;
  cleanup_free char *short_name = NULL;
  cleanup_free char *blocked = NULL;
  bool is_short = typed_short (typed, &short_name);
  size_t n = regconf_short_ambiguous (rc, is_short, short_name);
  struct regconf one = *rc;
  char *chosen[2] = { NULL, NULL };
  if (n > 0)
    {
      /* podman's short-name-mode "enforcing": ask which registry on a terminal */
      if (!isatty (0) || !isatty (1))
        {
          nook_error_set (err, 0,
                          "pull %s: short-name resolution enforced but cannot prompt without a "
                          "TTY (%s: short-name-mode=\"enforcing\" and %zu "
                          "unqualified-search-registries; give a registry, e.g. %s/%s, or an "
                          "alias)",
                          typed, rc->file, n, rc->search[0], short_name);
          return NULL;
        }
      fprintf (stderr, "? Please select an image:\n");
      for (size_t i = 0; i < n; i++)
        fprintf (stderr, "  %zu) %s/%s%s\n", i + 1, rc->search[i],
                 strcmp (rc->search[i], "docker.io") == 0 && !strchr (short_name, '/') ? "library/"
                                                                                       : "",
                 short_name);
      fprintf (stderr, "Number: ");
      fflush (stderr);
      char line[32];
      long k = fgets (line, sizeof line, stdin) ? strtol (line, NULL, 10) : 0;
      if (k < 1 || (size_t)k > n)
        {
          nook_error_set (err, 0, "pull %s: no registry selected", typed);
          return NULL;
        }
      chosen[0] = rc->search[k - 1];
      one.search = chosen;
      rc = &one;
    }
  struct regconf_source *src = regconf_sources (rc, ref->domain, ref->path, ref->digest != NULL,
                                                is_short, short_name, own_mirrors, cfg, &blocked);
  if (src[0].url == NULL)
    {
      regconf_sources_free (src);
      nook_error_set (err, EACCES, "pull %s: the registry %s", typed,
                      blocked ? blocked : "has no place to pull from");
      return NULL;
    }
  for (size_t i = 0; src[i].url; i++)
    if (src[i].insecure)
      strv_push (insecure, src[i].url);
  return src;
}

/* nook's insecure registries and registries.conf's (an unreadable file adds none: the
 * pull that needs it says why); *helpers gets registries.conf's credential-helpers (NULL
 * when it names none). */
static char **
insecure_with_regconf (const struct nook_config *cfg, char ***helpers)
{
  char **v = strv_dup (cfg->insecure);
  struct regconf rc;
  cleanup_error nook_error_t e = NULL;
  *helpers = NULL;
  if (regconf_load (&rc, &e) == 0)
    {
      regconf_insecure_hosts (&rc, &v);
      *helpers = steal_pointer (&rc.cred_helpers);
      regconf_clear (&rc);
    }
  return v;
}

/* Registry errors are sentences of their own: no errno text after them. */
static int
plain (nook_error_t *err)
{
  if (err && *err)
    (*err)->code = 0;
  return -1;
}

/* After a failed pull: say how to pull without the internet. */
static void
offline_hint (nook_error_t *err, const char *domain, bool have_mirrors)
{
  if (*err == NULL || ((*err)->code != EHOSTUNREACH && (*err)->code != ETIMEDOUT))
    return;
  cleanup_free char *user = nook_config_user_path ();
  char *m = (*err)->msg;
  if (have_mirrors)
    (*err)->msg = xasprintf ("%s\n(the registry and its mirrors could not be reached)", m);
  else
    (*err)->msg = xasprintf ("%s\n(offline? a mirror of %s goes in %s: %s)", m, domain,
                             user ? user : "~/.config/nook/config.json",
                             strcmp (domain, "docker.io") == 0
                                 ? "{\"registry-mirrors\": [\"http://HOST:PORT\"]}"
                                 : "{\"mirrors\": {\"REGISTRY\": [\"http://HOST:PORT\"]}}");
  free (m);
}

struct pull_args
{
  const char *ref;
  const char *platform;
  int tls; /* -1 default */
  bool quiet;
  FILE *out;
  bool for_run;
};

static int
do_pull (struct nook_ctx *ctx, struct imagefmt_store *s, const struct pull_args *a,
         nook_error_t *err)
{
  struct nook_config cfg;
  struct imagefmt_ref ref;
  struct imagefmt_platform plat = { 0 };
  struct imagefmt_pull_result res = { 0 };
  struct imagefmt_image *img = NULL;
  char **dirs = NULL;
  int ret = -1;
  if (imagefmt_ref_parse (a->ref, &ref, err) < 0)
    return plain (err);
  if (load_config (&cfg, err) < 0)
    {
      imagefmt_ref_clear (&ref);
      return plain (err);
    }
  struct progress prog = { .out = a->out, .tty = isatty (fileno (a->out)), .quiet = a->quiet };
  const char *from = NULL;
  char *const *mirrors = nook_config_mirrors (&cfg, ref.domain, &from);
  struct regconf rc = { 0 };
  struct regconf_source *places = NULL;
  struct imagefmt_pull_source *srcs = NULL;
  cleanup_strv char **helpers = NULL;
  cleanup_strv char **insecure = insecure_with_regconf (&cfg, &helpers);
  struct imagefmt_pull_opts o
      = { .platform = a->platform ? &plat : NULL,
          .reg = { .tls_verify = a->tls, .insecure = insecure, .cred_helpers = helpers },
          .mirrors = mirrors,
          .progress = on_progress,
          .data = &prog };
  {
    /* a registries.conf nook cannot read is podman's business: said, then left out */
    cleanup_error nook_error_t re = NULL;
    if (regconf_load (&rc, &re) < 0)
      log_warn ("%s; the file is ignored", re->msg);
  }
  places = regconf_places (&rc, &cfg, a->ref, &ref, &insecure, err);
  if (places == NULL && *err)
    goto out;
  for (size_t i = 0; places && places[i].url; i++)
    {
      srcs = xreallocarray (srcs, i + 2, sizeof *srcs);
      srcs[i] = (struct imagefmt_pull_source){ .url = places[i].url,
                                               .auth_key = places[i].auth_key,
                                               .repo = places[i].repo };
      srcs[i + 1] = (struct imagefmt_pull_source){ 0 };
    }
  o.sources = srcs;
  o.reg.insecure = insecure;
  if (a->platform && imagefmt_platform_parse (a->platform, &plat, err) < 0)
    goto out;
  if (!a->quiet)
    {
      bool default_tag
          = strchr (a->ref, '@') == NULL
            && (strrchr (a->ref, ':') == NULL || strchr (strrchr (a->ref, ':'), '/') != NULL);
      if (default_tag && !a->for_run)
        fprintf (a->out, "Using default tag: latest\n");
      fprintf (a->out, "%s: Pulling from %s\n", ref.digest ? ref.digest : ref.tag, ref.path);
      fflush (a->out);
    }
  if (imagefmt_pull (s, a->ref, &o, &res, err) < 0)
    {
      offline_hint (err, ref.domain, mirrors != NULL);
      goto out;
    }
  trace_mark ("pulled and verified");
  /* unpack now, as Docker does ("Pull complete" means ready to run) */
  if (imagefmt_store_lookup (s, res.manifest_digest, &img, err) < 0
      && (nook_error_free (err), imagefmt_store_lookup (s, res.id, &img, err) < 0))
    goto out;
  if (imagefmt_store_layer_dirs (s, img, &dirs, err) < 0)
    goto out;
  trace_mark ("layers unpacked");
  if (!a->quiet)
    {
      cleanup_free char *fam = imagefmt_ref_familiar (res.ref);
      fprintf (a->out, "Digest: %s\n", res.digest);
      fprintf (a->out, "Status: %s for %s\n",
               res.up_to_date ? "Image is up to date" : "Downloaded newer image", fam);
    }
  if (!a->for_run)
    fprintf (a->out, "%s\n", res.ref);
  fflush (a->out);
  {
    /* Docker's pull event: the reference pulled (familiar), its repository as name */
    cleanup_free char *fam = imagefmt_ref_short (&ref);
    cleanup_free char *repo = imagefmt_ref_short_name (&ref);
    events_image (s, "pull", fam, repo, img->config, NULL);
  }
  ret = 0;
out:
  free (srcs);
  regconf_sources_free (places);
  regconf_clear (&rc);
  free (prog.rows);
  strv_free (dirs);
  imagefmt_image_free (img);
  imagefmt_pull_result_clear (&res);
  imagefmt_platform_clear (&plat);
  imagefmt_ref_clear (&ref);
  nook_config_clear (&cfg);
  (void)ctx;
  return ret < 0 ? plain (err) : 0;
}

int
cmd_pull_for_run (struct nook_ctx *ctx, struct imagefmt_store *s, const char *ref,
                  const char *platform, FILE *out, nook_error_t *err)
{
  struct pull_args a = { .ref = ref, .platform = platform, .tls = -1, .out = out, .for_run = true };
  return do_pull (ctx, s, &a, err);
}

int
cmd_pull (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct pull_args a = { .tls = -1, .out = stdout };
  cleanup_store struct imagefmt_store *s = NULL;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook pull [OPTIONS] NAME[:TAG|@DIGEST]\n\n"
              "Download an image from a registry\n\n"
              "Options:\n"
              "      --platform string   os/arch[/variant] to pull (default: this machine's)\n"
              "  -q, --quiet             Suppress verbose output\n"
              "      --tls-verify        Require HTTPS and verify certificates (default: true,\n"
              "                          except for loopback and insecure-registries)\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
        a.quiet = true;
      else if ((r = tls_flag ("pull", argv[i], &a.tls, err)) != 0)
        {
          if (r < 0)
            return -1;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--platform", "pull", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          a.platform = v;
        }
      else if (strcmp (argv[i], "-a") == 0 || strcmp (argv[i], "--all-tags") == 0)
        return cmd_flag_error (err, "pull", "--all-tags is not supported");
      else if (argv[i][0] == '-' && argv[i][1] != '\0')
        return cmd_flag_error (err, "pull", "unknown flag: %s", argv[i]);
      else if (a.ref)
        return cmd_args_error (err, "pull", "\"nook pull\" requires exactly 1 argument.");
      else
        a.ref = argv[i];
    }
  if (a.ref == NULL)
    return cmd_args_error (err, "pull", "\"nook pull\" requires exactly 1 argument.");
  if (cmd_store_open (ctx->root, &s, NULL, NULL, err) < 0)
    return -1;
  return do_pull (ctx, s, &a, err) < 0 ? -1 : 0;
}

/* ---- push ---- */

int
cmd_push (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  cleanup_store struct imagefmt_store *s = NULL;
  const char *src = NULL, *dst = NULL, *format = NULL;
  int tls = -1;
  bool quiet = false;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook push [OPTIONS] NAME[:TAG] [DESTINATION]\n\n"
              "Upload an image to a registry\n\n"
              "Options:\n"
              "      --format string   Manifest type: oci or v2s2 (default: as stored)\n"
              "  -q, --quiet           Suppress verbose output\n"
              "      --tls-verify      Require HTTPS and verify certificates (default: true,\n"
              "                        except for loopback and insecure-registries)\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
        quiet = true;
      else if ((r = tls_flag ("push", argv[i], &tls, err)) != 0)
        {
          if (r < 0)
            return -1;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, "-f", "--format", "push", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          if (strcmp (v, "oci") == 0)
            format = IMAGEFMT_MT_OCI_MANIFEST;
          else if (strcmp (v, "v2s2") == 0 || strcmp (v, "docker") == 0)
            format = IMAGEFMT_MT_DOCKER_MANIFEST;
          else
            return cmd_flag_error (err, "push",
                                   "invalid argument \"%s\" for \"--format\" flag: want oci or "
                                   "v2s2",
                                   v);
        }
      else if (argv[i][0] == '-' && argv[i][1] != '\0')
        return cmd_flag_error (err, "push", "unknown flag: %s", argv[i]);
      else if (src == NULL)
        src = argv[i];
      else if (dst == NULL)
        dst = argv[i];
      else
        return cmd_args_error (err, "push", "\"nook push\" requires 1 or 2 arguments.");
    }
  if (src == NULL)
    return cmd_args_error (err, "push", "\"nook push\" requires 1 or 2 arguments.");
  struct nook_config cfg;
  if (load_config (&cfg, err) < 0)
    return plain (err);
  struct imagefmt_ref ref;
  if (imagefmt_ref_parse (dst ? dst : src, &ref, err) < 0)
    {
      nook_config_clear (&cfg);
      return plain (err);
    }
  cleanup_free char *name = imagefmt_ref_short_name (&ref);
  cleanup_free char *digest = NULL;
  size_t size = 0;
  struct progress prog = { .out = stdout, .tty = isatty (1), .quiet = quiet };
  cleanup_strv char **helpers = NULL;
  cleanup_strv char **insecure = insecure_with_regconf (&cfg, &helpers);
  struct imagefmt_push_opts o
      = { .reg = { .tls_verify = tls, .insecure = insecure, .cred_helpers = helpers },
          .format = format,
          .progress = on_progress,
          .data = &prog };
  int ret = cmd_store_open (ctx->root, &s, NULL, NULL, err);
  if (ret == 0)
    {
      if (!quiet)
        printf ("The push refers to repository [%s]\n", name);
      fflush (stdout);
      ret = imagefmt_push (s, src, dst, &o, &digest, &size, err);
    }
  if (ret == 0)
    {
      /* Docker's RepoDigests: the pushed tag (the destination when it is one of ours) */
      cleanup_error nook_error_t e = NULL;
      if (imagefmt_store_set_repo_digest (s, dst ? dst : src, digest, &e) < 0)
        log_warn ("could not record the pushed digest: %s", e->msg);
    }
  if (ret == 0)
    {
      /* Docker's push event: the reference pushed (familiar), its repository as name */
      cleanup_free char *fam = imagefmt_ref_short (&ref);
      events_image (s, "push", fam, name, NULL, src);
    }
  if (ret == 0 && !quiet)
    printf ("%s: digest: %s size: %zu\n", ref.tag ? ref.tag : "latest", digest, size);
  imagefmt_ref_clear (&ref);
  nook_config_clear (&cfg);
  free (prog.rows);
  return ret < 0 ? plain (err) : 0;
}

/* ---- login / logout ---- */

static char *
read_line (FILE *in, bool echo)
{
  struct termios old, t;
  bool restore = false;
  int fd = fileno (in);
  if (!echo && isatty (fd) && tcgetattr (fd, &old) == 0)
    {
      t = old;
      t.c_lflag &= ~(tcflag_t)ECHO;
      /* TCSANOW, as Go's term.ReadPassword (Docker's): TCSAFLUSH would throw away a
       * password typed or pasted ahead with the username */
      restore = tcsetattr (fd, TCSANOW, &t) == 0;
    }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline (&line, &cap, in);
  if (restore)
    {
      tcsetattr (fd, TCSANOW, &old);
      fputc ('\n', stderr);
    }
  if (n < 0)
    {
      free (line);
      return NULL;
    }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

/* The key of a registry the user names ("docker.io" when none). */
static char *
login_key (const char *arg)
{
  return imagefmt_auth_normalize_key (arg ? arg : "docker.io");
}

int
cmd_login (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  const char *user = NULL, *pass = NULL, *host = NULL;
  bool pass_stdin = false;
  int tls = -1;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook login [OPTIONS] [SERVER]\n\n"
              "Log in to a registry (default: docker.io)\n\n"
              "Options:\n"
              "  -p, --password string   Password\n"
              "      --password-stdin    Take the password from stdin\n"
              "  -u, --username string   Username\n"
              "      --tls-verify        Require HTTPS and verify certificates\n\n"
              "Credentials are written to $REGISTRY_AUTH_FILE, else "
              "~/.config/containers/auth.json (mode 0600).\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if (strcmp (argv[i], "--password-stdin") == 0)
        pass_stdin = true;
      else if ((r = tls_flag ("login", argv[i], &tls, err)) != 0)
        {
          if (r < 0)
            return -1;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, "-u", "--username", "login", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          user = v;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, "-p", "--password", "login", &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          pass = v;
        }
      else if (argv[i][0] == '-' && argv[i][1] != '\0')
        return cmd_flag_error (err, "login", "unknown flag: %s", argv[i]);
      else if (host)
        return cmd_args_error (err, "login", "\"nook login\" requires at most 1 argument.");
      else
        host = argv[i];
    }
  if (pass && pass_stdin)
    return cmd_flag_error (err, "login", "--password and --password-stdin are mutually exclusive");
  if (pass_stdin && user == NULL)
    return cmd_flag_error (err, "login", "Must provide --username with --password-stdin");
  if (pass)
    fprintf (stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  cleanup_free char *key = login_key (host);
  cleanup_free char *u = NULL;
  cleanup_free char *p = NULL;
  if (user)
    u = xstrdup (user);
  else
    {
      if (!isatty (0))
        return nook_error_set (err, 0, "Cannot perform an interactive login from a non TTY device");
      fprintf (stderr, "Username: ");
      u = read_line (stdin, true);
    }
  if (pass)
    p = xstrdup (pass);
  else if (pass_stdin)
    {
      struct strbuf b = { 0 };
      char buf[4096];
      size_t n;
      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
        strbuf_appendn (&b, buf, n);
      p = strbuf_steal (&b);
      size_t l = strlen (p);
      while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r'))
        p[--l] = '\0';
    }
  else
    {
      if (!isatty (0))
        return nook_error_set (err, 0, "Cannot perform an interactive login from a non TTY device");
      fprintf (stderr, "Password: ");
      p = read_line (stdin, false);
    }
  if (u == NULL || *u == '\0')
    return nook_error_set (err, 0, "Error: Non-null Username Required");
  if (p == NULL || *p == '\0')
    return nook_error_set (err, 0, "Error: Non-null Password Required");
  struct nook_config cfg;
  if (load_config (&cfg, err) < 0)
    return plain (err);
  struct imagefmt_creds creds = { .username = u, .password = p };
  cleanup_strv char **helpers = NULL;
  cleanup_strv char **insecure = insecure_with_regconf (&cfg, &helpers);
  struct imagefmt_registry_opts o = { .tls_verify = tls, .insecure = insecure, .creds = &creds };
  struct imagefmt_registry *r = NULL;
  cleanup_free char *api = imagefmt_registry_api_host (key);
  cleanup_free char *path = NULL;
  int ret = imagefmt_registry_open (api, key, &o, &r, err);
  if (ret == 0 && imagefmt_registry_ping (r, err) < 0)
    {
      nook_error_wrap (err, "login to %s failed", key);
      ret = -1;
    }
  imagefmt_registry_close (r);
  nook_config_clear (&cfg);
  if (ret == 0 && (path = imagefmt_auth_write_path (err)) == NULL)
    ret = -1;
  if (ret == 0 && imagefmt_auth_store (path, key, u, p, err) < 0)
    ret = -1;
  explicit_bzero (p, strlen (p));
  if (ret < 0)
    return plain (err);
  printf ("Login Succeeded\n");
  (void)ctx;
  return 0;
}

int
cmd_logout (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  const char *host = NULL;
  if (cmd_wants_help (argc, argv))
    {
      printf ("Usage:  nook logout [SERVER]\n\n"
              "Log out from a registry (default: docker.io)\n");
      return 0;
    }
  for (int i = 1; i < argc; i++)
    if (argv[i][0] == '-' && argv[i][1] != '\0')
      return cmd_flag_error (err, "logout", "unknown flag: %s", argv[i]);
    else if (host)
      return cmd_args_error (err, "logout", "\"nook logout\" requires at most 1 argument.");
    else
      host = argv[i];
  cleanup_free char *key = login_key (host);
  cleanup_free char *path = imagefmt_auth_write_path (err);
  bool found = false;
  if (path == NULL || imagefmt_auth_remove (path, key, &found, err) < 0)
    return plain (err);
  if (!found)
    {
      struct imagefmt_creds c;
      cleanup_error nook_error_t e = NULL;
      if (imagefmt_auth_lookup (key, NULL, &c, &e) > 0)
        {
          fprintf (stderr, "Not logged in to %s in %s; the credentials in %s are left alone\n", key,
                   path, c.source);
          imagefmt_creds_clear (&c);
        }
      else
        printf ("Not logged in to %s\n", key);
      return 0;
    }
  printf ("Removing login credentials for %s\n", key);
  (void)ctx;
  return 0;
}

/* ---- info ---- */

char **
cmd_registry_info_lines (void)
{
  char **v = xzalloc (sizeof (char *));
  struct nook_config cfg;
  cleanup_error nook_error_t e = NULL;
  if (nook_config_load (&cfg, &e) < 0)
    {
      strv_push_take (&v, xasprintf ("Registry configuration: FAILED: %s", e->msg));
      return v;
    }
  cleanup_free char *user = nook_config_user_path ();
  strv_push_take (&v, xasprintf ("Registry configuration: %s",
                                 cfg.files[0] ? "" : "none (files read: /etc/nook/config.json, "));
  if (cfg.files[0] == NULL)
    {
      free (v[0]);
      v[0] = xasprintf ("Registry configuration: none (looked for /etc/nook/config.json and %s)",
                        user ? user : "~/.config/nook/config.json");
    }
  else
    {
      struct strbuf b = { 0 };
      for (size_t i = 0; cfg.files[i]; i++)
        strbuf_appendf (&b, "%s%s", i ? ", " : "", cfg.files[i]);
      free (v[0]);
      v[0] = xasprintf ("Registry configuration: %s", b.buf);
      strbuf_free (&b);
    }
  strv_push (&v, "Registry Mirrors:");
  bool any = false;
  for (size_t i = 0; i < cfg.n_mirrors; i++)
    for (size_t k = 0; cfg.mirrors[i].mirrors && cfg.mirrors[i].mirrors[k]; k++)
      {
        strv_push_take (&v, xasprintf ("  %s: %s (from %s)", cfg.mirrors[i].registry,
                                       cfg.mirrors[i].mirrors[k], cfg.mirrors[i].from));
        any = true;
      }
  if (!any)
    strv_push (&v, "  none");
  strv_push (&v, "Insecure Registries:");
  strv_push (&v, "  loopback (127.0.0.0/8, ::1, localhost)");
  for (size_t i = 0; cfg.insecure[i]; i++)
    strv_push_take (&v, xasprintf ("  %s (from %s)", cfg.insecure[i], cfg.insecure_from));
  nook_config_clear (&cfg);
  struct regconf rc;
  cleanup_error nook_error_t re = NULL;
  if (regconf_load (&rc, &re) < 0)
    {
      strv_push_take (&v, xasprintf ("registries.conf: FAILED: %s", re->msg));
      return v;
    }
  if (rc.file == NULL)
    strv_push (&v, "registries.conf: none");
  else
    {
      strv_push_take (&v, xasprintf ("registries.conf: %s (where images are fetched from; "
                                     "their names stay Docker's)",
                                     rc.file));
      struct strbuf sb = { 0 };
      for (size_t i = 0; rc.search && rc.search[i]; i++)
        strbuf_appendf (&sb, "%s%s", i ? ", " : "", rc.search[i]);
      if (rc.have_search)
        strv_push_take (
            &v, xasprintf ("  short names searched in: %s", sb.buf && *sb.buf ? sb.buf : "(none)"));
      strbuf_free (&sb);
      for (size_t i = 0; rc.alias_names && rc.alias_names[i]; i++)
        strv_push_take (&v, xasprintf ("  alias %s = %s", rc.alias_names[i], rc.alias_values[i]));
      if (rc.cred_helpers && rc.cred_helpers[0])
        {
          struct strbuf hb = { 0 };
          for (size_t i = 0; rc.cred_helpers[i]; i++)
            strbuf_appendf (&hb, "%s%s", i ? ", " : "", rc.cred_helpers[i]);
          strv_push_take (&v, xasprintf ("  credential helpers, in order: %s", hb.buf));
          strbuf_free (&hb);
        }
      for (size_t i = 0; i < rc.n_regs; i++)
        {
          const struct regconf_registry *r = &rc.regs[i];
          strv_push_take (&v, xasprintf ("  %s%s%s%s%s: %zu mirror%s", r->prefix,
                                         r->primary.location ? " at " : "",
                                         r->primary.location ? r->primary.location : "",
                                         r->blocked ? " (blocked)" : "",
                                         r->primary.insecure ? " (insecure)" : "", r->n_mirrors,
                                         r->n_mirrors == 1 ? "" : "s"));
        }
    }
  regconf_clear (&rc);
  return v;
}
