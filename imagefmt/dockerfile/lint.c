/* imagefmt/dockerfile/lint.c: BuildKit's build checks (see lint.h).  Written from
 * BuildKit's rule set and its documentation (docs/reference/build-checks): the
 * rule names, messages and descriptions are BuildKit's, so that a user sees the
 * same text as with `docker build --check`. */
#include "imagefmt/dockerfile/lint.h"

#include "imagefmt/dockerfile/shell.h"
#include "imagefmt/dockerfile/stages.h"
#include "imagefmt/ref.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the rules ---- */

struct rule
{
  const char *name;
  const char *description;
};

#define RULE(id, n, d) static const struct rule id = { n, d }
RULE (R_STAGE_NAME_CASING, "StageNameCasing", "Stage names should be lowercase");
RULE (R_FROM_AS_CASING, "FromAsCasing",
      "The 'as' keyword should match the case of the 'from' keyword");
RULE (R_NO_EMPTY_CONTINUATION, "NoEmptyContinuation",
      "Empty continuation lines will become errors in a future release");
RULE (R_CONSISTENT_CASING, "ConsistentInstructionCasing",
      "All commands within the Dockerfile should use the same casing (either upper or lower)");
RULE (R_DUPLICATE_STAGE_NAME, "DuplicateStageName", "Stage names should be unique");
RULE (R_RESERVED_STAGE_NAME, "ReservedStageName",
      "Reserved words should not be used as stage names");
RULE (R_JSON_ARGS, "JSONArgsRecommended",
      "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to "
      "OS signals");
RULE (R_MAINTAINER, "MaintainerDeprecated",
      "The MAINTAINER instruction is deprecated, use a label instead to define an image author");
RULE (R_UNDEFINED_ARG_IN_FROM, "UndefinedArgInFrom", "FROM command must use declared ARGs");
RULE (R_WORKDIR_RELATIVE, "WorkdirRelativePath",
      "Relative workdir without an absolute workdir declared within the build can have "
      "unexpected results if the base image changes");
RULE (R_UNDEFINED_VAR, "UndefinedVar", "Variables should be defined before their use");
RULE (R_MULTIPLE_INSTRUCTIONS, "MultipleInstructionsDisallowed",
      "Multiple instructions of the same type should not be used in the same stage");
RULE (R_LEGACY_KV, "LegacyKeyValueFormat",
      "Legacy key/value format with whitespace separator should not be used");
RULE (R_SECRETS, "SecretsUsedInArgOrEnv",
      "Sensitive data should not be used in the ARG or ENV commands");
RULE (R_INVALID_DEFAULT_ARG, "InvalidDefaultArgInFrom",
      "Default value for global ARG results in an empty or invalid base image name");
RULE (R_REDUNDANT_TARGET_PLATFORM, "RedundantTargetPlatform",
      "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default "
      "behavior");
RULE (R_PLATFORM_CONST, "FromPlatformFlagConstDisallowed",
      "FROM --platform flag should not use a constant value");
RULE (R_EXPOSE_PROTO_CASING, "ExposeProtoCasing",
      "Protocol in EXPOSE instruction should be lowercase");
RULE (R_EXPOSE_INVALID_FORMAT, "ExposeInvalidFormat",
      "IP address and host-port mapping should not be used in EXPOSE instruction. This will "
      "become an error in a future release");
RULE (R_COPY_IGNORED, "CopyIgnoredFile",
      "Attempting to Copy file that is excluded by .dockerignore");
#undef RULE

/* The default PATH BuildKit gives every Linux stage that has none. */
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The build and target platform arguments every FROM sees (this machine's). */
static const char *const platform_args[] = {
  "BUILDPLATFORM=linux/amd64",
  "BUILDOS=linux",
  "BUILDOSVERSION=",
  "BUILDARCH=amd64",
  "BUILDVARIANT=",
  "TARGETPLATFORM=linux/amd64",
  "TARGETOS=linux",
  "TARGETOSVERSION=",
  "TARGETARCH=amd64",
  "TARGETVARIANT=",
  NULL,
};

struct lint
{
  const struct dockerfile *df;
  const struct dockerfile_lint_opts *o;
  struct dockerfile_lint_result *res;
  size_t cap;
  char **skip;
};

static void __attribute__ ((format (printf, 4, 5)))
warn (struct lint *l, const struct rule *r, const struct dockerfile_node *n, const char *fmt, ...)
{
  va_list ap;
  if (l->res->skip_all || strv_contains (l->skip, r->name))
    return;
  if (l->res->n == l->cap)
    {
      l->cap = l->cap ? 2 * l->cap : 16;
      l->res->warnings = xreallocarray (l->res->warnings, l->cap, sizeof *l->res->warnings);
    }
  struct dockerfile_lint_warning *w = &l->res->warnings[l->res->n++];
  w->rule = r->name;
  w->description = r->description;
  va_start (ap, fmt);
  if (vasprintf (&w->message, fmt, ap) < 0)
    abort ();
  va_end (ap);
  w->line = n ? n->start_line : 0;
  w->end_line = n ? n->end_line : 0;
}

/* ---- small helpers ---- */

static bool
is_lower (const char *s)
{
  for (; *s; s++)
    if (isupper ((unsigned char)*s))
      return false;
  return true;
}

static bool
is_upper (const char *s)
{
  for (; *s; s++)
    if (islower ((unsigned char)*s))
      return false;
  return true;
}

/* The keyword as written ("Run"): the start of the original line. */
static char *
keyword_as_written (const struct dockerfile_node *n)
{
  size_t k = strlen (n->keyword);
  if (n->original && strlen (n->original) >= k && strncasecmp (n->original, n->keyword, k) == 0)
    return xstrndup (n->original, k);
  return xstrdup (n->keyword);
}

static bool
is_known_keyword (const char *k)
{
  static const char *const known[]
      = { "add",        "arg",         "cmd",    "copy",       "entrypoint", "env", "expose",
          "from",       "healthcheck", "label",  "maintainer", "onbuild",    "run", "shell",
          "stopsignal", "user",        "volume", "workdir",    NULL };
  for (size_t i = 0; known[i]; i++)
    if (strcmp (k, known[i]) == 0)
      return true;
  return false;
}

/* Levenshtein distance of two short strings (BuildKit suggests within 2). */
static size_t
distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  if (la > 256 || lb > 256)
    return (size_t)-1;
  size_t prev[257], cur[257];
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++)
    {
      cur[0] = i;
      for (size_t j = 1; j <= lb; j++)
        {
          size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
          if (prev[j] + 1 < c)
            c = prev[j] + 1;
          if (cur[j - 1] + 1 < c)
            c = cur[j - 1] + 1;
          cur[j] = c;
        }
      memcpy (prev, cur, (lb + 1) * sizeof *prev);
    }
  return prev[lb];
}

/* BuildKit's suggest.Search (case-sensitive): the closest option within distance 2,
   or NULL (also when val is itself an option). */
static const char *
suggest (const char *val, char *const *options)
{
  const char *match = NULL;
  size_t best = 3;
  for (size_t i = 0; options && options[i]; i++)
    {
      if (strcmp (val, options[i]) == 0)
        return NULL;
      size_t d = distance (val, options[i]);
      if (d < best)
        {
          best = d;
          match = options[i];
        }
    }
  return match;
}

/* env: "NAME=value" list; the value of name or NULL. */
static const char *
env_get (char *const *env, const char *name)
{
  size_t n = strlen (name);
  const char *v = NULL;
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], name, n) == 0 && env[i][n] == '=')
      v = env[i] + n + 1;
  return v;
}

static void
env_set (char ***env, const char *name, const char *value)
{
  size_t n = strlen (name);
  for (size_t i = 0; *env && (*env)[i]; i++)
    if (strncmp ((*env)[i], name, n) == 0 && (*env)[i][n] == '=')
      {
        free ((*env)[i]);
        (*env)[i] = xasprintf ("%s=%s", name, value);
        return;
      }
  strv_push_take (env, xasprintf ("%s=%s", name, value));
}

/* The names in env ("NAME" of each "NAME=value"). */
static char **
env_keys (char *const *env)
{
  char **keys = NULL;
  for (size_t i = 0; env && env[i]; i++)
    {
      const char *eq = strchr (env[i], '=');
      char *k = eq ? xstrndup (env[i], (size_t)(eq - env[i])) : xstrdup (env[i]);
      if (strv_contains (keys, k))
        free (k);
      else
        strv_push_take (&keys, k);
    }
  return keys;
}

/* Expand word; *value (optional) gets the result, *unmatched (optional) the names
   not set.  -1 when the word does not expand (the build would fail there). */
static int
expand (const struct lint *l, const char *word, char *const *env, char **value, char ***unmatched)
{
  struct dockerfile_shell_result r = { 0 };
  cleanup_error nook_error_t err = NULL;
  if (dockerfile_shell_expand (word, l->df->escape, env, NULL, &r, &err) < 0)
    return -1;
  if (value)
    *value = steal_pointer (&r.word);
  if (unmatched)
    *unmatched = steal_pointer (&r.unmatched);
  dockerfile_shell_result_clear (&r);
  return 0;
}

/* The value of "--name=value" among a node's flags, or NULL. */
static const char *
flag_value (const struct dockerfile_node *n, const char *name)
{
  size_t k = strlen (name);
  const char *v = NULL;
  for (size_t i = 0; n->flags && n->flags[i]; i++)
    if (strncmp (n->flags[i], "--", 2) == 0 && strncmp (n->flags[i] + 2, name, k) == 0
        && n->flags[i][2 + k] == '=')
      v = n->flags[i] + 3 + k;
  return v;
}

/* ---- check= ---- */

static char *
trim (const char *s, size_t n)
{
  while (n > 0 && isspace ((unsigned char)*s))
    s++, n--;
  while (n > 0 && isspace ((unsigned char)s[n - 1]))
    n--;
  return xstrndup (s, n);
}

/* Go's strconv.ParseBool. */
static int
parse_bool (const char *s, bool *out)
{
  static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
  static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False", NULL };
  for (size_t i = 0; t[i]; i++)
    if (strcmp (s, t[i]) == 0)
      return *out = true, 0;
  for (size_t i = 0; f[i]; i++)
    if (strcmp (s, f[i]) == 0)
      return *out = false, 0;
  return -1;
}

int
dockerfile_lint_parse_check (const char *value, char ***skip, bool *skip_all, bool *error,
                             nook_error_t *err)
{
  cleanup_free char *v = trim (value, strlen (value));
  *skip = NULL;
  *skip_all = *error = false;
  if (*v == '\0')
    return 0;
  /* BuildKit: at most three ';'-separated parts, each key=value. */
  const char *p = v;
  for (int part = 0; p != NULL; part++)
    {
      const char *semi = part < 2 ? strchr (p, ';') : NULL;
      size_t len = semi ? (size_t)(semi - p) : strlen (p);
      cleanup_free char *opt = xstrndup (p, len);
      p = semi ? semi + 1 : NULL;
      char *eq = strchr (opt, '=');
      if (eq == NULL)
        {
          strv_free (steal_pointer (skip));
          return nook_error_set_exit (err, 1, EINVAL, "invalid check option \"%s\"", opt);
        }
      cleanup_free char *key = trim (opt, (size_t)(eq - opt));
      cleanup_free char *val = trim (eq + 1, strlen (eq + 1));
      if (strcmp (key, "skip") == 0)
        {
          if (strcmp (val, "all") == 0)
            *skip_all = true;
          else
            for (char *s = val, *comma; s; s = comma ? comma + 1 : NULL)
              {
                comma = strchr (s, ',');
                strv_push_take (skip, trim (s, comma ? (size_t)(comma - s) : strlen (s)));
              }
        }
      else if (strcmp (key, "experimental") == 0)
        ; /* no experimental rule is implemented */
      else if (strcmp (key, "error") == 0)
        {
          if (parse_bool (val, error) < 0)
            {
              strv_free (steal_pointer (skip));
              return nook_error_set_exit (
                  err, 1, EINVAL, "failed to parse check option \"%s\": invalid syntax", opt);
            }
        }
      else
        {
          strv_free (steal_pointer (skip));
          return nook_error_set_exit (err, 1, EINVAL, "invalid check option \"%s\"", key);
        }
    }
  return 0;
}

/* ---- stages as the lint sees them ---- */

struct stage
{
  const struct dockerfile_node *from;
  size_t first, end; /* nodes [first, end): the FROM and its instructions */
  char *name;        /* lower case, or NULL */
  long base_stage;   /* an earlier stage FROM names, or -1 */
  bool dispatch;     /* run the per-stage rules */
  bool done;         /* dispatched (its final state below is valid) */
  bool env_known;    /* UndefinedVar can be checked */
  char **env;        /* the state's environment: base, ENV, ARG values */
  char **declared;   /* ARG names declared so far (suppress UndefinedVar) */
  bool workdir_set;
  bool shell_set;
};

struct walk
{
  struct stage *st;
  size_t n;
  char **meta_defaults; /* meta args from defaults only (InvalidDefaultArgInFrom) */
  char **meta_env;      /* meta args with build args, plus the platform args */
  char **meta_declared; /* every meta ARG name */
};

static void
walk_clear (struct walk *w)
{
  for (size_t i = 0; i < w->n; i++)
    {
      free (w->st[i].name);
      strv_free (w->st[i].env);
      strv_free (w->st[i].declared);
    }
  free (w->st);
  strv_free (w->meta_defaults);
  strv_free (w->meta_env);
  strv_free (w->meta_declared);
}

static const char *
build_arg (char *const *build_args, const char *name, bool *found)
{
  size_t n = strlen (name);
  const char *v = NULL;
  *found = false;
  for (size_t i = 0; build_args && build_args[i]; i++)
    if (strncmp (build_args[i], name, n) == 0 && (build_args[i][n] == '=' || !build_args[i][n]))
      {
        *found = true;
        v = build_args[i][n] == '=' ? build_args[i] + n + 1 : getenv (name);
      }
  return v;
}

/* One "NAME[=default]" argument of an ARG: its name and its default (NULL: none). */
static char *
arg_split (const char *a, const char **def)
{
  const char *eq = strchr (a, '=');
  *def = eq ? eq + 1 : NULL;
  return eq ? xstrndup (a, (size_t)(eq - a)) : xstrdup (a);
}

/* The meta args (ARGs before the first FROM), expanded in order. */
static void
meta_args (struct lint *l, struct walk *w, size_t first_from)
{
  strv_free (w->meta_env);
  w->meta_env = strv_dup ((char *const *)platform_args);
  w->meta_defaults = strv_dup ((char *const *)platform_args);
  /* Build args override the platform args too. */
  for (size_t i = 0; platform_args[i]; i++)
    {
      cleanup_free char *name = xstrndup (platform_args[i], strcspn (platform_args[i], "="));
      bool found;
      const char *v = build_arg (l->o->build_args, name, &found);
      if (found && v)
        env_set (&w->meta_env, name, v);
    }
  for (size_t i = 0; i < first_from; i++)
    {
      const struct dockerfile_node *n = &l->df->nodes[i];
      if (strcmp (n->keyword, "arg") != 0)
        continue;
      for (size_t a = 0; a < n->n_args; a++)
        {
          const char *def;
          cleanup_free char *name = arg_split (n->args[a], &def);
          if (!strv_contains (w->meta_declared, name))
            strv_push (&w->meta_declared, name);
          cleanup_free char *dv = NULL;
          cleanup_free char *bv = NULL;
          if (def && expand (l, def, w->meta_defaults, &dv, NULL) == 0)
            env_set (&w->meta_defaults, name, dv);
          bool found;
          const char *given = build_arg (l->o->build_args, name, &found);
          if (found && given)
            env_set (&w->meta_env, name, given);
          else if (def && expand (l, def, w->meta_env, &bv, NULL) == 0)
            env_set (&w->meta_env, name, bv);
        }
    }
}

/* Split the nodes into stages; name them; link each to the earlier stage its FROM
   names; decide which the per-stage rules run on. */
static int
find_stages (struct lint *l, struct walk *w)
{
  const struct dockerfile *df = l->df;
  size_t first_from = df->n_nodes;
  for (size_t i = 0; i < df->n_nodes; i++)
    if (strcmp (df->nodes[i].keyword, "from") == 0)
      {
        if (first_from == df->n_nodes)
          first_from = i;
        w->st = xreallocarray (w->st, w->n + 1, sizeof *w->st);
        struct stage *s = &w->st[w->n++];
        memset (s, 0, sizeof *s);
        s->from = &df->nodes[i];
        s->first = i;
        s->base_stage = -1;
        if (s->from->n_args == 3 && strcasecmp (s->from->args[1], "as") == 0)
          {
            s->name = xstrdup (s->from->args[2]);
            for (char *c = s->name; *c; c++)
              *c = (char)tolower ((unsigned char)*c);
          }
      }
  for (size_t k = 0; k < w->n; k++)
    w->st[k].end = k + 1 < w->n ? w->st[k + 1].first : df->n_nodes;
  meta_args (l, w, first_from);
  for (size_t k = 0; k < w->n; k++)
    {
      struct stage *s = &w->st[k];
      cleanup_free char *base = NULL;
      if (s->from->n_args == 0 || expand (l, s->from->args[0], w->meta_env, &base, NULL) < 0)
        continue;
      for (char *c = base; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
      for (size_t j = 0; j < k; j++)
        if (w->st[j].name && strcmp (w->st[j].name, base) == 0)
          s->base_stage = (long)j;
    }
  /* Which stages a build of the target dispatches. */
  bool all = l->o->all_stages;
  cleanup_dockerfile_stages struct dockerfile_stages *graph = NULL;
  cleanup_error nook_error_t gerr = NULL;
  cleanup_free size_t *order = NULL;
  size_t n_order = 0;
  if (!all
      && (dockerfile_stages_build (df, l->o->build_args, &graph, &gerr) < 0
          || dockerfile_stages_for_target (graph, l->o->target, &order, &n_order, &gerr) < 0
          || graph->n != w->n))
    all = true; /* the build will fail on this; check everything */
  for (size_t k = 0; k < w->n; k++)
    w->st[k].dispatch = all;
  for (size_t i = 0; !all && i < n_order; i++)
    w->st[order[i]].dispatch = true;
  return 0;
}

/* containerd's platforms.Parse, enough to tell a constant platform: its OS and
   architecture, or false when it does not parse. */
static bool
parse_platform (const char *s, char **os, char **arch)
{
  static const char *const oses[]
      = { "linux",   "windows", "darwin", "freebsd",   "netbsd", "openbsd", "solaris", "illumos",
          "android", "ios",     "aix",    "dragonfly", "plan9",  "js",      "wasip1",  NULL };
  static const char *const archs[][2]
      = { { "amd64", "amd64" },       { "x86_64", "amd64" },  { "x86-64", "amd64" },
          { "arm64", "arm64" },       { "aarch64", "arm64" }, { "arm", "arm" },
          { "armhf", "arm" },         { "armel", "arm" },     { "386", "386" },
          { "i386", "386" },          { "i686", "386" },      { "ppc64le", "ppc64le" },
          { "ppc64", "ppc64" },       { "s390x", "s390x" },   { "riscv64", "riscv64" },
          { "mips64le", "mips64le" }, { "mips64", "mips64" }, { "loong64", "loong64" },
          { "wasm", "wasm" },         { NULL, NULL } };
  cleanup_strv char **parts = NULL;
  cleanup_free char *low = xstrdup (s);
  for (char *c = low; *c; c++)
    *c = (char)tolower ((unsigned char)*c);
  for (char *save = NULL, *t = strtok_r (low, "/", &save); t; t = strtok_r (NULL, "/", &save))
    strv_push (&parts, t);
  size_t n = strv_len (parts);
  if (n == 0 || n > 3 || strchr (s, ' '))
    return false;
  bool is_os = false;
  for (size_t i = 0; oses[i]; i++)
    if (strcmp (parts[0], oses[i]) == 0)
      is_os = true;
  const char *a = NULL;
  const char *want = is_os ? (n > 1 ? parts[1] : NULL) : parts[0];
  for (size_t i = 0; want && archs[i][0]; i++)
    if (strcmp (want, archs[i][0]) == 0)
      a = archs[i][1];
  if (is_os && n == 1)
    a = "amd64"; /* only the OS: this machine's architecture */
  if (a == NULL || (!is_os && n > 2))
    return false;
  *os = xstrdup (is_os ? parts[0] : "linux");
  *arch = xstrdup (a);
  return true;
}

/* RedundantTargetPlatform and FromPlatformFlagConstDisallowed for FROM --platform. */
static void
check_platform (struct lint *l, const struct walk *w, const struct stage *s)
{
  const char *platform = flag_value (s->from, "platform");
  struct dockerfile_shell_result r = { 0 };
  cleanup_error nook_error_t err = NULL;
  if (platform == NULL
      || dockerfile_shell_expand (platform, l->df->escape, w->meta_env, NULL, &r, &err) < 0)
    return;
  size_t nm = strv_len (r.matched), nu = strv_len (r.unmatched);
  if (nm == 1 && nu == 0 && strcmp (r.matched[0], "TARGETPLATFORM") == 0)
    {
      const char *tp = env_get (w->meta_env, "TARGETPLATFORM");
      if (tp && strcmp (tp, r.word) == 0)
        warn (l, &R_REDUNDANT_TARGET_PLATFORM, s->from,
              "Setting platform to predefined %s in FROM is redundant as this is the default "
              "behavior",
              platform);
    }
  char *os = NULL, *arch = NULL;
  if (nm == 0 && nu == 0 && parse_platform (r.word, &os, &arch))
    {
      const char *name = s->from->n_args == 3 ? s->from->args[2] : "";
      if (strstr (name, os) == NULL && strstr (name, arch) == NULL)
        warn (l, &R_PLATFORM_CONST, s->from,
              "FROM --platform flag should not use constant value \"%s\"", r.word);
    }
  free (os);
  free (arch);
  dockerfile_shell_result_clear (&r);
}

/* ExposeProtoCasing and ExposeInvalidFormat for one EXPOSE word. */
static void
check_expose (struct lint *l, const struct dockerfile_node *n, const char *raw)
{
  size_t colons = 0;
  for (const char *c = raw; *c; c++)
    colons += *c == ':';
  const char *container = strrchr (raw, ':');
  container = container ? container + 1 : raw;
  const char *slash = strchr (container, '/');
  if (slash && !is_lower (slash + 1))
    warn (l, &R_EXPOSE_PROTO_CASING, n,
          "Defined protocol '%s' in EXPOSE instruction should be lowercase", raw);
  if (colons > 0)
    warn (l, &R_EXPOSE_INVALID_FORMAT, n,
          "EXPOSE instruction should not define an IP address or host-port mapping, found '%s'",
          raw);
}

/* ---- the parse-level rules ---- */

static void
check_parse_level (struct lint *l, struct walk *w)
{
  const struct dockerfile *df = l->df;
  for (size_t i = 0; i < df->n_nodes; i++)
    {
      const struct dockerfile_node *n = &df->nodes[i];
      if (n->empty_continuation)
        warn (l, &R_NO_EMPTY_CONTINUATION, n, "Empty continuation line");
      if (strcmp (n->keyword, "maintainer") == 0)
        warn (l, &R_MAINTAINER, n, "Maintainer instruction is deprecated in favor of using label");
      if (strcmp (n->keyword, "from") == 0)
        {
          cleanup_free char *kw = keyword_as_written (n);
          if (n->n_args == 3 && !is_lower (n->args[2]))
            warn (l, &R_STAGE_NAME_CASING, n, "Stage name '%s' should be lowercase", n->args[2]);
          if (n->n_args >= 3)
            {
              bool lower = is_lower (kw), upper = is_upper (kw);
              if ((lower && !is_lower (n->args[1])) || (!lower && upper && !is_upper (n->args[1])))
                warn (l, &R_FROM_AS_CASING, n, "'%s' and '%s' keywords' casing do not match",
                      n->args[1], kw);
            }
        }
    }
  /* Stage names: reserved, duplicate. */
  for (size_t k = 0; k < w->n; k++)
    {
      const char *name = w->st[k].name;
      if (name == NULL)
        continue;
      if (strcmp (name, "context") == 0 || strcmp (name, "scratch") == 0)
        warn (l, &R_RESERVED_STAGE_NAME, w->st[k].from,
              "Stage name should not use the same name as reserved stage \"%s\"", name);
      for (size_t j = 0; j < k; j++)
        if (w->st[j].name && strcmp (w->st[j].name, name) == 0)
          {
            warn (l, &R_DUPLICATE_STAGE_NAME, w->st[k].from,
                  "Duplicate stage name \"%s\", stage names should be unique", name);
            break;
          }
    }
  /* Casing: the majority over the instructions from the first FROM on (ties: upper). */
  size_t first = w->n ? w->st[0].first : df->n_nodes;
  size_t lower = 0, upper = 0;
  for (size_t i = first; i < df->n_nodes; i++)
    {
      if (!is_known_keyword (df->nodes[i].keyword))
        continue;
      cleanup_free char *kw = keyword_as_written (&df->nodes[i]);
      if (is_lower (kw))
        lower++;
      else if (is_upper (kw))
        upper++;
    }
  bool majority_lower = lower > upper;
  for (size_t i = first; i < df->n_nodes; i++)
    {
      if (!is_known_keyword (df->nodes[i].keyword))
        continue;
      cleanup_free char *kw = keyword_as_written (&df->nodes[i]);
      if (majority_lower && !is_lower (kw))
        warn (l, &R_CONSISTENT_CASING, &df->nodes[i],
              "Command '%s' should match the case of the command majority (lowercase)", kw);
      else if (!majority_lower && !is_upper (kw))
        warn (l, &R_CONSISTENT_CASING, &df->nodes[i],
              "Command '%s' should match the case of the command majority (uppercase)", kw);
    }
  /* Base names with the meta args' defaults only must stay valid references. */
  for (size_t k = 0; k < w->n; k++)
    {
      const struct dockerfile_node *n = w->st[k].from;
      cleanup_free char *base = NULL;
      struct imagefmt_ref ref = { 0 };
      cleanup_error nook_error_t rerr = NULL;
      if (n->n_args == 0 || expand (l, n->args[0], w->meta_defaults, &base, NULL) < 0)
        break; /* BuildKit gives up on the whole check */
      if (*base == '\0' || imagefmt_ref_parse (base, &ref, &rerr) < 0)
        warn (l, &R_INVALID_DEFAULT_ARG, n,
              "Default value for ARG %s results in empty or invalid base image name", n->args[0]);
      imagefmt_ref_clear (&ref);
    }
  /* FROM (name and --platform) may only use declared meta args. */
  cleanup_strv char **keys = strv_dup (w->meta_declared);
  cleanup_strv char **envkeys = env_keys (w->meta_env);
  for (size_t i = 0; envkeys && envkeys[i]; i++)
    if (!strv_contains (keys, envkeys[i]))
      strv_push (&keys, envkeys[i]);
  for (size_t k = 0; k < w->n; k++)
    {
      const struct dockerfile_node *n = w->st[k].from;
      check_platform (l, w, &w->st[k]);
      const char *words[2] = { n->n_args ? n->args[0] : NULL, flag_value (n, "platform") };
      for (size_t j = 0; j < 2; j++)
        {
          cleanup_strv char **unmatched = NULL;
          if (words[j] == NULL || expand (l, words[j], w->meta_env, NULL, &unmatched) < 0)
            continue;
          for (size_t u = 0; unmatched && unmatched[u]; u++)
            {
              if (strv_contains (keys, unmatched[u]))
                continue;
              const char *s = suggest (unmatched[u], keys);
              if (s)
                warn (l, &R_UNDEFINED_ARG_IN_FROM, n,
                      "FROM argument '%s' is not declared (did you mean %s?)", unmatched[u], s);
              else
                warn (l, &R_UNDEFINED_ARG_IN_FROM, n, "FROM argument '%s' is not declared",
                      unmatched[u]);
            }
        }
    }
}

/* ---- the per-stage rules ---- */

/* BuildKit's secrets check: a '_'-separated part of the name is a secret word and
   none is an allowed word. */
static bool
looks_secret (const char *key)
{
  static const char *const deny[]
      = { "apikey", "auth",   "credential", "credentials", "key", "password",
          "pword",  "passwd", "secret",     "token",       NULL };
  static const char *const allow[] = { "public", "file", "version", NULL };
  bool denied = false;
  for (const char *p = key; p;)
    {
      const char *us = strchr (p, '_');
      size_t len = us ? (size_t)(us - p) : strlen (p);
      for (size_t i = 0; allow[i]; i++)
        if (strlen (allow[i]) == len && strncasecmp (p, allow[i], len) == 0)
          return false;
      for (size_t i = 0; deny[i]; i++)
        if (strlen (deny[i]) == len && strncasecmp (p, deny[i], len) == 0)
          denied = true;
      p = us ? us + 1 : NULL;
    }
  return denied;
}

/* UndefinedVar for one word in stage s. */
static void
check_word (struct lint *l, struct stage *s, const struct dockerfile_node *n, const char *word,
            char ***reported)
{
  cleanup_strv char **unmatched = NULL;
  if (!s->env_known || word == NULL || expand (l, word, s->env, NULL, &unmatched) < 0)
    return;
  for (size_t u = 0; unmatched && unmatched[u]; u++)
    {
      const char *v = unmatched[u];
      if (strv_contains (s->declared, v) || strv_contains (*reported, v)
          || strcmp (v, "BUILDKIT_SBOM_SCAN_CONTEXT") == 0
          || strcmp (v, "BUILDKIT_SBOM_SCAN_STAGE") == 0)
        continue;
      strv_push (reported, v);
      cleanup_strv char **keys = env_keys (s->env);
      const char *sug = suggest (v, keys);
      if (sug)
        warn (l, &R_UNDEFINED_VAR, n, "Usage of undefined variable '$%s' (did you mean $%s?)", v,
              sug);
      else
        warn (l, &R_UNDEFINED_VAR, n, "Usage of undefined variable '$%s'", v);
    }
}

static bool
is_remote_source (const char *src)
{
  return str_has_prefix (src, "http://") || str_has_prefix (src, "https://")
         || str_has_prefix (src, "git@") || str_has_prefix (src, "git://")
         || (str_has_prefix (src, "github.com/") && strchr (src, '#') == NULL)
         || str_has_suffix (src, ".git");
}

static void
check_copy_ignored (struct lint *l, const struct dockerfile_node *n, const char *src, bool add)
{
  const struct dockerfile_ignore *ig = l->o->ignore;
  size_t np = ig ? dockerfile_ignore_count (ig) : 0;
  bool excluded = false, root_ignored = false;
  cleanup_error nook_error_t err = NULL;
  if (ig == NULL || is_remote_source (src))
    return;
  for (size_t i = 0; i < np; i++)
    {
      bool exception;
      const char *p = dockerfile_ignore_pattern (ig, i, &exception);
      if (exception)
        return; /* BuildKit: exceptions make this too hard to decide statically */
      if (strcmp (p, "*") == 0 || strcmp (p, "**") == 0 || strcmp (p, "**/*") == 0)
        root_ignored = true;
    }
  /* Clean as Go's filepath.Clean would, enough to spot the context root. */
  cleanup_free char *clean = xstrdup (src);
  size_t len = strlen (clean);
  while (len > 1 && clean[len - 1] == '/')
    clean[--len] = '\0';
  while (len > 2 && clean[len - 1] == '.' && clean[len - 2] == '/')
    {
      len -= 2;
      clean[len] = '\0';
    }
  const char *rel = clean;
  if (strcmp (rel, ".") == 0 || strcmp (rel, "/") == 0 || strcmp (rel, "./") == 0)
    {
      if (root_ignored)
        warn (l, &R_COPY_IGNORED, n,
              "Attempting to %s file \"%s\" that is excluded by .dockerignore",
              add ? "Add" : "Copy", rel);
      return;
    }
  while (*rel == '/')
    rel++;
  while (str_has_prefix (rel, "./"))
    rel += 2;
  if (dockerfile_ignore_matches (ig, rel, &excluded, &err) == 0 && excluded)
    warn (l, &R_COPY_IGNORED, n, "Attempting to %s file \"%s\" that is excluded by .dockerignore",
          add ? "Add" : "Copy", clean);
}

static void
dispatch_stage (struct lint *l, struct walk *w, struct stage *s)
{
  const struct dockerfile *df = l->df;
  const struct dockerfile_node *cmd_at = NULL, *entrypoint_at = NULL, *health_at = NULL;
  /* The state it starts from. */
  const char *base = s->from->n_args ? s->from->args[0] : "";
  cleanup_free char *expanded = NULL;
  if (expand (l, base, w->meta_env, &expanded, NULL) < 0)
    expanded = xstrdup (base);
  if (s->base_stage >= 0 && w->st[s->base_stage].done)
    {
      const struct stage *b = &w->st[s->base_stage];
      s->env = strv_dup (b->env);
      s->declared = strv_dup (b->declared);
      s->env_known = b->env_known;
      s->workdir_set = b->workdir_set;
      s->shell_set = b->shell_set;
    }
  else if (strcasecmp (expanded, "scratch") == 0)
    s->env_known = true;
  else if (s->base_stage < 0 && l->o->base_env)
    {
      s->env = l->o->base_env (l->o->base_env_data, expanded);
      s->env_known = s->env != NULL;
    }
  if (env_get (s->env, "PATH") == NULL)
    strv_push (&s->env, DEFAULT_PATH);

  for (size_t i = s->first + 1; i < s->end; i++)
    {
      const struct dockerfile_node *n = &df->nodes[i];
      const char *k = n->keyword;
      cleanup_strv char **reported = NULL;
      cleanup_free char *kw = keyword_as_written (n);
      if (strcmp (k, "env") == 0 || strcmp (k, "label") == 0)
        {
          for (size_t a = 0; a + 1 < n->n_args; a += 3)
            {
              check_word (l, s, n, n->args[a], &reported);
              check_word (l, s, n, n->args[a + 1], &reported);
            }
          for (size_t a = 0; a + 1 < n->n_args; a += 3)
            {
              if (a + 2 < n->n_args && n->args[a + 2][0] == '\0')
                warn (l, &R_LEGACY_KV, n,
                      "\"%s key=value\" should be used instead of legacy \"%s key value\" format",
                      kw, kw);
              if (k[0] != 'e')
                continue;
              cleanup_free char *key = NULL;
              cleanup_free char *val = NULL;
              if (expand (l, n->args[a], s->env, &key, NULL) < 0)
                key = xstrdup (n->args[a]);
              if (looks_secret (key))
                warn (l, &R_SECRETS, n,
                      "Do not use ARG or ENV instructions for sensitive data (ENV \"%s\")", key);
              if (expand (l, n->args[a + 1], s->env, &val, NULL) == 0)
                env_set (&s->env, key, val);
            }
        }
      else if (strcmp (k, "arg") == 0)
        {
          for (size_t a = 0; a < n->n_args; a++)
            {
              const char *def;
              cleanup_free char *name = arg_split (n->args[a], &def);
              if (looks_secret (name))
                warn (l, &R_SECRETS, n,
                      "Do not use ARG or ENV instructions for sensitive data (ARG \"%s\")", name);
              bool found;
              const char *given = build_arg (l->o->build_args, name, &found);
              const char *meta = env_get (w->meta_env, name);
              cleanup_free char *val = NULL;
              if (found && given)
                val = xstrdup (given);
              else if (def)
                {
                  check_word (l, s, n, def, &reported);
                  if (expand (l, def, s->env, &val, NULL) < 0)
                    val = NULL;
                }
              else if (meta && strv_contains (w->meta_declared, name))
                val = xstrdup (meta);
              if (val)
                env_set (&s->env, name, val);
              if (!strv_contains (s->declared, name))
                strv_push (&s->declared, name);
            }
        }
      else if (strcmp (k, "cmd") == 0 || strcmp (k, "entrypoint") == 0
               || strcmp (k, "healthcheck") == 0)
        {
          const struct dockerfile_node **at = k[0] == 'c'   ? &cmd_at
                                              : k[0] == 'e' ? &entrypoint_at
                                                            : &health_at;
          if (*at)
            warn (l, &R_MULTIPLE_INSTRUCTIONS, *at,
                  "Multiple %s instructions should not be used in the same stage because only "
                  "the last one will be used",
                  kw);
          *at = n;
          if (k[0] != 'h' && !n->json_form && !s->shell_set)
            warn (l, &R_JSON_ARGS, n,
                  "JSON arguments recommended for %s to prevent unintended behavior related to OS "
                  "signals",
                  kw);
        }
      else if (strcmp (k, "shell") == 0)
        s->shell_set = true;
      else if (strcmp (k, "workdir") == 0)
        {
          cleanup_free char *path = NULL;
          check_word (l, s, n, n->n_args ? n->args[0] : NULL, &reported);
          if (n->n_args && expand (l, n->args[0], s->env, &path, NULL) < 0)
            path = xstrdup (n->args[0]);
          if (path && !s->workdir_set && path[0] != '/')
            warn (l, &R_WORKDIR_RELATIVE, n,
                  "Relative workdir \"%s\" can have unexpected results if the base image changes",
                  path);
          s->workdir_set = true;
        }
      else if (strcmp (k, "copy") == 0 || strcmp (k, "add") == 0)
        {
          bool add = k[0] == 'a';
          check_word (l, s, n, flag_value (n, "chown"), &reported);
          check_word (l, s, n, flag_value (n, "chmod"), &reported);
          if (add)
            check_word (l, s, n, flag_value (n, "checksum"), &reported);
          for (size_t a = 0; a < n->n_args; a++)
            check_word (l, s, n, n->args[a], &reported);
          bool from_context = add || flag_value (n, "from") == NULL;
          for (size_t a = 0; from_context && a + 1 < n->n_args; a++)
            {
              bool heredoc = false;
              if (n->n_heredocs > 0 && str_has_prefix (n->args[a], "<<"))
                heredoc = true;
              cleanup_free char *src = NULL;
              if (heredoc || expand (l, n->args[a], s->env, &src, NULL) < 0)
                continue;
              check_copy_ignored (l, n, src, add);
            }
        }
      else if (strcmp (k, "run") == 0)
        {
          for (size_t f = 0; n->flags && n->flags[f]; f++)
            if (str_has_prefix (n->flags[f], "--mount="))
              check_word (l, s, n, n->flags[f] + 8, &reported);
        }
      else if (strcmp (k, "expose") == 0)
        {
          for (size_t a = 0; a < n->n_args; a++)
            {
              cleanup_strv char **words = NULL;
              cleanup_error nook_error_t xerr = NULL;
              check_word (l, s, n, n->args[a], &reported);
              if (dockerfile_shell_expand_words (n->args[a], df->escape, s->env, &words, &xerr) < 0)
                continue;
              for (size_t i2 = 0; words && words[i2]; i2++)
                check_expose (l, n, words[i2]);
            }
        }
      else if (strcmp (k, "user") == 0 || strcmp (k, "volume") == 0
               || strcmp (k, "stopsignal") == 0)
        {
          for (size_t a = 0; a < n->n_args; a++)
            check_word (l, s, n, n->args[a], &reported);
        }
    }
  s->done = true;
}

int
dockerfile_lint (const struct dockerfile *df, const struct dockerfile_lint_opts *opts,
                 struct dockerfile_lint_result **out, nook_error_t *err)
{
  static const struct dockerfile_lint_opts none = { .all_stages = true };
  struct dockerfile_lint_result *res = xzalloc (sizeof *res);
  struct lint l = { .df = df, .o = opts ? opts : &none, .res = res };
  struct walk w = { 0 };
  bool found;
  const char *check = build_arg (l.o->build_args, "BUILDKIT_DOCKERFILE_CHECK", &found);
  if (!found || check == NULL)
    check = df->check;
  if (check
      && dockerfile_lint_parse_check (check, &l.skip, &res->skip_all, &res->error_on_warning, err)
             < 0)
    {
      dockerfile_lint_result_free (res);
      return -1;
    }
  find_stages (&l, &w);
  check_parse_level (&l, &w);
  for (size_t k = 0; k < w.n; k++)
    if (w.st[k].dispatch)
      dispatch_stage (&l, &w, &w.st[k]);
  walk_clear (&w);
  strv_free (l.skip);
  /* By line, keeping the order found within a line (insertion sort: stable). */
  for (size_t i = 1; i < res->n; i++)
    for (size_t j = i; j > 0 && res->warnings[j - 1].line > res->warnings[j].line; j--)
      {
        struct dockerfile_lint_warning t = res->warnings[j];
        res->warnings[j] = res->warnings[j - 1];
        res->warnings[j - 1] = t;
      }
  *out = res;
  return 0;
}

void
dockerfile_lint_result_free (struct dockerfile_lint_result *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n; i++)
    free (r->warnings[i].message);
  free (r->warnings);
  free (r);
}

void
cleanup_dockerfile_lint_resultp (struct dockerfile_lint_result **r)
{
  dockerfile_lint_result_free (*r);
}

void
dockerfile_lint_format (const char *file, const struct dockerfile_lint_warning *w,
                        struct strbuf *out)
{
  if (w->line > 0)
    strbuf_appendf (out, "%s:%d: %s: %s\n", file, w->line, w->rule, w->message);
  else
    strbuf_appendf (out, "%s: %s: %s\n", file, w->rule, w->message);
}

char *
dockerfile_lint_format_short (const struct dockerfile_lint_warning *w)
{
  if (w->line > 0)
    return xasprintf ("%s: %s (line %d)", w->rule, w->message, w->line);
  return xasprintf ("%s: %s", w->rule, w->message);
}

char *
dockerfile_lint_format_summary (const struct dockerfile_lint_result *r)
{
  struct strbuf b = { 0 };
  if (r->n == 0)
    return NULL;
  strbuf_appendf (&b, "%zu warning%s found (use --debug to expand):\n", r->n, r->n == 1 ? "" : "s");
  for (size_t i = 0; i < r->n; i++)
    {
      cleanup_free char *line = dockerfile_lint_format_short (&r->warnings[i]);
      strbuf_appendf (&b, " - %s\n", line);
    }
  return strbuf_steal (&b);
}

char *
dockerfile_lint_error_message (const struct dockerfile_lint_result *r)
{
  struct strbuf b = { 0 };
  char **seen = NULL;
  if (!r->error_on_warning || r->n == 0)
    return NULL;
  strbuf_append (&b, "lint violation found for rules: ");
  for (size_t i = 0; i < r->n; i++)
    if (!strv_contains (seen, r->warnings[i].rule))
      {
        strbuf_appendf (&b, "%s%s", seen ? ", " : "", r->warnings[i].rule);
        strv_push (&seen, r->warnings[i].rule);
      }
  strv_free (seen);
  return strbuf_steal (&b);
}
