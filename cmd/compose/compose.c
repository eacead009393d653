/* cmd/compose/compose.c: `nook compose`: the project flags, `config`, `version`, and the
 * dispatch of the other subcommands (the orchestrator comes next: they answer "not
 * implemented yet"). */
#include <errno.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/compose/compose.h"
#include "cmd/compose/loader.h"
#include "cmd/compose/model.h"
#include "cmd/compose/view.h"
#include "cmd/compose/up.h"
#include "cmd/compose/yaml.h"
#include "imagefmt/digest.h"
#include "util/cleanup.h"
#include "util/util.h"

extern char **environ;

struct gopts
{
  struct compose_options lo;
  char **files;
  bool strict;
};

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage:  nook compose [OPTIONS] COMMAND\n\n"
           "Define and run multi-container applications (the Compose Specification)\n\n"
           "Options:\n"
           "  -f, --file stringArray           Compose configuration files\n"
           "  -p, --project-name string        Project name\n"
           "      --project-directory string   Alternate working directory\n"
           "      --profile stringArray        Specify a profile to enable\n"
           "      --env-file stringArray       Specify an alternate environment file\n"
           "      --strict                     Refuse keys nook cannot honour "
           "(NOOK_COMPOSE_STRICT=1)\n\n"
           "Commands:\n"
           "  config      Parse, resolve and render compose file in canonical format\n"
           "  images      List images used by the created containers\n"
           "  logs        View output from containers\n"
           "  ls          List running compose projects\n"
           "  port        Print the public port for a port binding\n"
           "  ps          List containers\n"
           "  top         Display the running processes\n"
           "  version     Show the Docker Compose version information\n"
           "  up, down, create, start, stop, restart, kill, rm, pause, unpause, run, exec, wait\n"
           "              The project's life\n"
           "  build, pull, push  The services' images\n"
           "  cp          Copy files between a service's container and the host\n"
           "  scale       Scale services\n"
           "  watch       Watch the build context of services (develop.watch) and sync, "
           "restart or rebuild\n"
           "  (events, attach, stats, export, commit, publish, viz, volumes: not "
           "implemented yet)\n");
}

json_t *
compose_environ_json (void)
{
  json_t *o = json_object ();
  for (char **e = environ; e && *e; e++)
    {
      const char *eq = strchr (*e, '=');
      if (eq == NULL)
        continue;
      cleanup_free char *k = xstrndup (*e, (size_t)(eq - *e));
      json_object_set_new (o, k, json_string (eq + 1));
    }
  return o;
}

static void
print_warnings (char **w)
{
  for (; w && *w; w++)
    fprintf (stderr, "WARN[0000] %s\n", *w);
}

/* ulimits above this user's hard limits cannot be set: say so (the run clamps them). */
static void
ulimit_warnings (struct compose_project *p)
{
  static const struct
  {
    const char *name;
    int res;
  } lim[] = { { "nofile", RLIMIT_NOFILE },
              { "nproc", RLIMIT_NPROC },
              { "core", RLIMIT_CORE },
              { "memlock", RLIMIT_MEMLOCK },
              { "stack", RLIMIT_STACK },
              { "fsize", RLIMIT_FSIZE },
              { "cpu", RLIMIT_CPU },
              { "data", RLIMIT_DATA },
              { "as", RLIMIT_AS },
              { "locks", RLIMIT_LOCKS },
              { "sigpending", RLIMIT_SIGPENDING },
              { "msgqueue", RLIMIT_MSGQUEUE },
              { "nice", RLIMIT_NICE },
              { "rtprio", RLIMIT_RTPRIO },
              { "rttime", RLIMIT_RTTIME } };
  const char *name;
  json_t *svc;
  json_object_foreach (json_object_get (p->model, "services"), name, svc)
  {
    const char *k;
    json_t *v;
    json_object_foreach (json_object_get (svc, "ulimits"), k, v)
    {
      for (size_t i = 0; i < ARRAY_SIZE (lim); i++)
        {
          struct rlimit rl;
          if (strcmp (k, lim[i].name) != 0 || getrlimit (lim[i].res, &rl) < 0
              || rl.rlim_max == RLIM_INFINITY)
            continue;
          json_int_t want = json_is_object (v) ? json_integer_value (json_object_get (v, "hard"))
                                               : json_integer_value (v);
          if (json_is_object (v) && want < json_integer_value (json_object_get (v, "soft")))
            want = json_integer_value (json_object_get (v, "soft"));
          if (want > 0 && (rlim_t)want > rl.rlim_max)
            {
              char *w = xasprintf (
                  "services.%s.ulimits.%s: not enforced as written: %" JSON_INTEGER_FORMAT
                  " is above this user's hard limit %llu (clamped to it)",
                  name, k, want, (unsigned long long)rl.rlim_max);
              strv_push_take (&p->warnings, w);
            }
        }
    }
  }
}

static int
load (struct gopts *g, struct compose_project *p, nook_error_t *err)
{
  size_t n = strv_len (g->files);
  cleanup_free struct compose_file *files = xzalloc ((n + 1) * sizeof *files);
  for (size_t i = 0; i < n; i++)
    files[i].path = g->files[i];
  g->lo.files = files;
  g->lo.n_files = (int)n;
  g->lo.environ = compose_environ_json ();
  g->lo.discard_env_files = true; /* read into environment, as Compose's CLI does */
  int r = compose_load (&g->lo, p, err);
  if (r == 0)
    ulimit_warnings (p);
  json_decref (g->lo.environ);
  g->lo.environ = NULL;
  g->lo.files = NULL;
  print_warnings (p->warnings);
  if (r < 0)
    return -1;
  const char *se = getenv ("NOOK_COMPOSE_STRICT");
  if (g->strict || (se && strcmp (se, "1") == 0))
    for (char **w = p->warnings; w && *w; w++)
      if (strstr (*w, ": not enforced"))
        {
          nook_error_set (err, 0, "%s (--strict)", *w);
          compose_project_free (p);
          return -1;
        }
  return 0;
}

/* Services in dependency order (dependencies first, names in order), as Compose walks them. */
static void
walk_order (json_t *svcs, const char *name, json_t *seen, char ***out, int depth)
{
  if (json_object_get (seen, name) || depth > 256 || !json_object_get (svcs, name))
    return;
  json_object_set_new (seen, name, json_true ());
  json_t *deps = json_object_get (json_object_get (svcs, name), "depends_on");
  const char *d;
  json_t *x;
  json_object_foreach (deps, d, x)
  {
    /* sorted by the loader */
    walk_order (svcs, d, seen, out, depth + 1);
  }
  strv_push (out, name);
}

static char **
service_order (json_t *svcs)
{
  json_t *seen = json_object ();
  char **out = NULL;
  const char *k;
  json_t *v;
  json_object_foreach (svcs, k, v)
  {
    /* sorted by the loader */
    walk_order (svcs, k, seen, &out, 0);
  }
  json_decref (seen);
  return out;
}

static void
print_keys (json_t *obj)
{
  const char *k;
  json_t *v;
  json_object_foreach (obj, k, v) { printf ("%s\n", k); }
}

static int
cmd_config (struct gopts *g, int argc, char **argv, nook_error_t *err)
{
  const char *format = "yaml", *hash = NULL, *output = NULL;
  bool services = false, volumes = false, profiles = false, images = false, quiet = false,
       networks = false, environment = false;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          printf (
              "Usage:  nook compose config [OPTIONS] [SERVICE...]\n\n"
              "Parse, resolve and render compose file in canonical format\n\n"
              "Options:\n"
              "      --format string       Format the output. Values: [yaml | json] (default "
              "\"yaml\")\n"
              "      --hash string         Print the service config hash, one per line\n"
              "      --images              Print the image names, one per line\n"
              "      --networks            Print the network names, one per line\n"
              "      --no-consistency      Don't check model consistency\n"
              "      --no-interpolate      Don't interpolate environment variables\n"
              "      --no-normalize        Don't normalize compose model\n"
              "      --no-path-resolution  Don't resolve file paths\n"
              "  -o, --output string       Save to file (default to stdout)\n"
              "      --profiles            Print the profile names, one per line\n"
              "  -q, --quiet               Only validate the configuration, don't print anything\n"
              "      --services            Print the service names, one per line\n"
              "      --volumes             Print the volume names, one per line\n"
              "      --environment         Print environment used for interpolation\n"
              "      --variables           Print model variables and default values\n");
          return 0;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--format", "compose config", &val, err)) < 0)
        return -1;
      if (r)
        {
          format = val;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--hash", "compose config", &val, err)) < 0)
        return -1;
      if (r)
        {
          hash = val;
          continue;
        }
      if ((r = cmd_opt_value (argc, argv, &i, "-o", "--output", "compose config", &val, err)) < 0)
        return -1;
      if (r)
        {
          output = val;
          continue;
        }
      if (strcmp (a, "--services") == 0)
        services = true;
      else if (strcmp (a, "--volumes") == 0)
        volumes = true;
      else if (strcmp (a, "--networks") == 0)
        networks = true;
      else if (strcmp (a, "--profiles") == 0)
        profiles = true;
      else if (strcmp (a, "--images") == 0)
        images = true;
      else if (strcmp (a, "--environment") == 0)
        environment = true;
      else if (strcmp (a, "--variables") == 0)
        return compose_config_variables (&g->lo, g->files, argc, argv, err);
      else if (strcmp (a, "-q") == 0 || strcmp (a, "--quiet") == 0)
        quiet = true;
      else if (strcmp (a, "--no-interpolate") == 0)
        g->lo.no_interpolate = true;
      else if (strcmp (a, "--no-normalize") == 0)
        g->lo.no_normalize = true;
      else if (strcmp (a, "--no-path-resolution") == 0)
        g->lo.no_resolve_paths = true;
      else if (strcmp (a, "--no-consistency") == 0)
        g->lo.no_consistency = true;
      else if (strcmp (a, "--resolve-image-digests") == 0
               || strcmp (a, "--lock-image-digests") == 0)
        return nook_error_set (err, 0, "%s: not implemented yet", a);
      else if (a[0] == '-')
        return cmd_flag_error (err, "compose config", "unknown flag: %s", a);
      else
        break; /* services named: all are printed for now, checked below */
    }
  if (strcmp (format, "yaml") != 0 && strcmp (format, "json") != 0)
    return nook_error_set (err, 0, "unsupported format \"%s\": want yaml or json", format);
  g->lo.all_profiles = profiles;
  cleanup_strv char **targets = NULL;
  for (int i = 1; i < argc; i++)
    if (argv[i][0] != '-'
        && (i == 1
            || (strcmp (argv[i - 1], "--format") && strcmp (argv[i - 1], "--hash")
                && strcmp (argv[i - 1], "-o") && strcmp (argv[i - 1], "--output"))))
      strv_push (&targets, argv[i]);
  g->lo.services = targets;
  struct compose_project p;
  if (load (g, &p, err) < 0)
    return -1;
  json_t *m = p.model;
  int rc = 0;
  /* services named after the flags must exist */
  for (char **t = targets; t && *t; t++)
    if (json_object_get (json_object_get (m, "services"), *t) == NULL)
      {
        nook_error_set (err, 0, "no such service: %s", *t);
        rc = -1;
        goto out;
      }
  /* services named: those and what they depend on */
  {
    json_t *keep = json_object ();
    json_t *svcs = json_object_get (m, "services");
    bool named = targets != NULL;
    for (char **t = targets; t && *t; t++)
      json_object_set_new (keep, *t, json_true ());
    for (bool grew = named; grew;)
      {
        grew = false;
        const char *k, *d;
        json_t *v, *x;
        json_object_foreach (keep, k, v)
        {
          json_t *deps = json_object_get (json_object_get (svcs, k), "depends_on");
          json_object_foreach (deps, d, x)
          {
            if (!json_object_get (keep, d) && json_object_get (svcs, d))
              {
                json_object_set_new (keep, d, json_true ());
                grew = true;
              }
          }
        }
      }
    if (named)
      {
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe (svcs, tmp, k, v)
        {
          if (!json_object_get (keep, k))
            json_object_del (svcs, k);
        }
      }
    json_decref (keep);
  }
  if (quiet)
    goto out;
  if (services)
    {
      cleanup_strv char **order = service_order (json_object_get (m, "services"));
      for (char **n = order; n && *n; n++)
        printf ("%s\n", *n);
    }
  else if (volumes)
    print_keys (json_object_get (m, "volumes"));
  else if (networks)
    print_keys (json_object_get (m, "networks"));
  else if (profiles)
    {
      size_t i;
      json_t *x;
      json_array_foreach (p.all_profiles, i, x) { printf ("%s\n", json_string_value (x)); }
    }
  else if (images)
    {
      const char *k;
      json_t *v;
      json_object_foreach (json_object_get (m, "services"), k, v)
      {
        const char *img = json_string_value (json_object_get (v, "image"));
        if (img)
          printf ("%s\n", img);
        else
          printf ("%s-%s\n", p.name, k);
      }
    }
  else if (environment)
    {
      const char *k;
      json_t *v;
      json_object_foreach (p.environment, k, v) { printf ("%s=%s\n", k, json_string_value (v)); }
    }
  else if (hash)
    {
      const char *k;
      json_t *v;
      json_object_foreach (json_object_get (m, "services"), k, v)
      {
        bool want = strcmp (hash, "*") == 0;
        cleanup_free char *list = xstrdup (hash);
        char *save = NULL;
        for (char *t = strtok_r (list, ",", &save); t && !want; t = strtok_r (NULL, ",", &save))
          want = strcmp (t, k) == 0;
        if (!want)
          continue;
        cleanup_free char *h = compose_service_hash (v);
        printf ("%s %s\n", k, h ? h : "");
      }
    }
  else
    {
      cleanup_free char *text
          = strcmp (format, "json") == 0 ? json_dumps (m, JSON_INDENT (2)) : compose_yaml_emit (m);
      if (text == NULL)
        {
          rc = nook_error_set (err, 0, "cannot print the model");
          goto out;
        }
      FILE *f = stdout;
      cleanup_file FILE *of = NULL;
      if (output)
        {
          of = fopen (output, "we");
          if (of == NULL)
            {
              rc = nook_error_set (err, errno, "open %s", output);
              goto out;
            }
          f = of;
        }
      fputs (text, f);
      if (strcmp (format, "json") == 0)
        fputc ('\n', f);
    }
out:
  compose_project_free (&p);
  return rc;
}

static int
cmd_compose_version (int argc, char **argv, nook_error_t *err)
{
  bool short_ = false, json = false;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--short") == 0)
        short_ = true;
      else if (strcmp (argv[i], "--format=json") == 0
               || (strcmp (argv[i], "--format") == 0 && i + 1 < argc
                   && strcmp (argv[++i], "json") == 0))
        json = true;
      else if (strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--format") == 0)
        i++;
      else if (strncmp (argv[i], "--format=", 9) != 0)
        return cmd_flag_error (err, "compose version", "unknown flag: %s", argv[i]);
    }
  if (short_)
    printf ("%s\n", NOOK_COMPOSE_VERSION);
  else if (json)
    printf ("{\"version\":\"v%s\"}\n", NOOK_COMPOSE_VERSION);
  else
    printf ("Docker Compose version v%s (nook)\n", NOOK_COMPOSE_VERSION);
  return 0;
}

static const char *const later[]
    = { "attach",  "build",   "commit", "cp",      "create", "down",  "events", "exec",    "export",
        "images",  "kill",    "logs",   "ls",      "pause",  "port",  "ps",     "publish", "pull",
        "push",    "restart", "rm",     "run",     "scale",  "start", "stats",  "stop",    "top",
        "unpause", "up",      "viz",    "volumes", "wait",   "watch" };

int
cmd_compose (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  struct gopts g = { 0 };
  cleanup_strv char **profiles = NULL, **env_files = NULL;
  const char *progress = NULL, *ansi = NULL;
  int i = 1;
  int rc;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          usage (stdout);
          strv_free (g.files);
          return 0;
        }
      if (strcmp (a, "--strict") == 0)
        {
          g.strict = true;
          continue;
        }
      if (strcmp (a, "--compatibility") == 0 || strcmp (a, "--dry-run") == 0
          || strcmp (a, "--all-resources") == 0)
        continue;
#define OPT(S, L)                                                                                  \
  (r = cmd_opt_value (argc, argv, &i, S, L, "compose", &val, err)) < 0 ? (strv_free (g.files), -1) \
                                                                       : r
      if ((r = OPT ("-f", "--file")) < 0)
        return -1;
      if (r)
        {
          strv_push (&g.files, val);
          continue;
        }
      if ((r = OPT ("-p", "--project-name")) < 0)
        return -1;
      if (r)
        {
          g.lo.project_name = val;
          continue;
        }
      if ((r = OPT (NULL, "--project-directory")) < 0)
        return -1;
      if (r)
        {
          g.lo.project_dir = val;
          continue;
        }
      if ((r = OPT (NULL, "--profile")) < 0)
        return -1;
      if (r)
        {
          strv_push (&profiles, val);
          continue;
        }
      if ((r = OPT (NULL, "--env-file")) < 0)
        return -1;
      if (r)
        {
          strv_push (&env_files, val);
          continue;
        }
      if ((r = OPT (NULL, "--ansi")) < 0)
        return -1;
      if (r)
        {
          ansi = val;
          continue;
        }
      if ((r = OPT (NULL, "--progress")) < 0)
        return -1;
      if (r)
        {
          progress = val;
          continue;
        }
      if ((r = OPT (NULL, "--parallel")) < 0)
        return -1;
      if (r)
        continue;
#undef OPT
      strv_free (g.files);
      return cmd_flag_error (err, "compose", "unknown flag: %s", a);
    }
  g.lo.profiles = profiles;
  g.lo.env_files = env_files;
  if (ansi == NULL)
    ansi = getenv ("COMPOSE_ANSI");
  if (progress == NULL)
    progress = getenv ("COMPOSE_PROGRESS");
  if (compose_orch_progress (progress, ansi, err) < 0)
    {
      strv_free (g.files);
      return -1;
    }
  if (i >= argc)
    {
      usage (stdout); /* as `docker compose` alone */
      strv_free (g.files);
      return 0;
    }
  const char *sub = argv[i];
  if (strcmp (sub, "config") == 0 || strcmp (sub, "convert") == 0)
    rc = cmd_config (&g, argc - i, argv + i, err);
  else if (strcmp (sub, "version") == 0)
    rc = cmd_compose_version (argc - i, argv + i, err);
  else if (compose_view_verb (sub))
    rc = compose_view_main (ctx, &g.lo, g.files, argc - i, argv + i, err);
  else if (compose_orch_verb (sub))
    {
      struct compose_project p;
      /* only up and create make what the profiles enable; run and exec name one service
       * (whatever its profiles, as Compose); the others act on what exists (down removes a
       * container of a profile not enabled now, not an orphan) */
      g.lo.all_profiles = strcmp (sub, "up") != 0 && strcmp (sub, "create") != 0;
      cleanup_strv char **named = compose_orch_named (argc - i, argv + i);
      g.lo.services = named;
      rc = load (&g, &p, err);
      /* `-p NAME down` (stop, rm...) without a file: the project is what the store holds */
      static struct compose_file none[] = { { .path = "-", .content = "services: {}\n" } };
      if (rc < 0 && g.lo.project_name && *err && strstr ((*err)->msg, "no configuration file")
          && strcmp (sub, "up") != 0 && strcmp (sub, "create") != 0 && strcmp (sub, "run") != 0
          && strcmp (sub, "exec") != 0)
        {
          nook_error_free (err);
          g.lo.files = none;
          g.lo.n_files = 1;
          g.lo.environ = compose_environ_json ();
          rc = compose_load (&g.lo, &p, err);
          json_decref (g.lo.environ);
          g.lo.environ = NULL;
          g.lo.files = NULL;
        }
      if (rc == 0)
        {
          rc = compose_orch (ctx, &p, argc - i, argv + i, err);
          compose_project_free (&p);
        }
    }
  else
    {
      bool known = false;
      for (size_t k = 0; k < ARRAY_SIZE (later); k++)
        known = known || strcmp (sub, later[k]) == 0;
      rc = known ? nook_error_set (err, 0,
                                   "nook compose %s: not implemented yet in nook (see "
                                   "nook compose --help)",
                                   sub)
                 : nook_error_set (err, 0, "unknown docker command: \"compose %s\"", sub);
    }
  strv_free (g.files);
  return rc;
}
