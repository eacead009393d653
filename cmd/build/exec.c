/* cmd/build/exec.c: the stages a target needs, run in order, instruction by
 * instruction, on build states (see build.h).  Metadata instructions (ENV, LABEL,
 * CMD, ...) change the config and add an empty_layer history entry as BuildKit
 * writes them; RUN, COPY, ADD and WORKDIR are steps: keyed (cache.c), reused on a
 * hit, else run into a fresh upper dir and packed (pack.c). */
#include "cmd/build/build.h"
#include "imagefmt/dockerfile/flags.h"
#include "cmd/registry.h"
#include "imagefmt/dockerfile/shell.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strv_json.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The Dockerfile's name in messages ("Dockerfile", or -f's), set by build_exec. */
static const char *df_label = "Dockerfile";

/* ---- states ---- */

void
build_state_clear (struct build_state *s)
{
  if (s->config)
    json_decref (s->config);
  strv_free (s->layers);
  strv_free (s->diff_ids);
  strv_free (s->dirs);
  memset (s, 0, sizeof *s);
}

void
build_state_copy (struct build_state *dst, const struct build_state *src)
{
  dst->config = json_deep_copy (src->config);
  dst->layers = strv_dup (src->layers);
  dst->diff_ids = strv_dup (src->diff_ids);
  dst->dirs = src->dirs ? strv_dup (src->dirs) : NULL;
}

int
build_state_dirs (struct build *b, struct build_state *s, nook_error_t *err)
{
  if (s->dirs)
    return 0;
  if (s->layers == NULL || s->layers[0] == NULL)
    {
      s->dirs = xzalloc (sizeof (char *));
      return 0;
    }
  return imagefmt_store_unpack_layers (b->store, s->layers, s->diff_ids, &s->dirs, err);
}

char *
build_rfc3339 (int64_t t)
{
  time_t tt = (time_t)t;
  struct tm tm;
  char buf[64];
  if (gmtime_r (&tt, &tm) == NULL || strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return xstrdup ("1970-01-01T00:00:00Z");
  return xstrdup (buf);
}

void
build_state_add_history (struct build *b, struct build_state *s, const char *created_by,
                         bool empty_layer)
{
  json_t *h = json_object_get (s->config, "history");
  if (!json_is_array (h))
    {
      h = json_array ();
      json_object_set_new (s->config, "history", h);
    }
  cleanup_free char *ts = build_rfc3339 (b->epoch);
  json_t *e = json_pack ("{s:s, s:s, s:s}", "created", ts, "created_by", created_by, "comment",
                         "buildkit.dockerfile.v0");
  if (empty_layer)
    json_object_set_new (e, "empty_layer", json_true ());
  json_array_append_new (h, e);
}

static void
state_add_layer (struct build_state *s, const char *blob, const char *diff_id)
{
  strv_push (&s->layers, blob);
  strv_push (&s->diff_ids, diff_id);
  json_t *rootfs = json_object_get (s->config, "rootfs");
  if (!json_is_object (rootfs))
    {
      rootfs = json_pack ("{s:s, s:[]}", "type", "layers", "diff_ids");
      json_object_set_new (s->config, "rootfs", rootfs);
    }
  json_t *d = json_object_get (rootfs, "diff_ids");
  if (!json_is_array (d))
    {
      d = json_array ();
      json_object_set_new (rootfs, "diff_ids", d);
    }
  json_array_append_new (d, json_string (diff_id));
  strv_free (s->dirs);
  s->dirs = NULL;
}

static json_t *
cfg_of (struct build_state *s)
{
  json_t *c = json_object_get (s->config, "config");
  if (!json_is_object (c))
    {
      c = json_object ();
      json_object_set_new (s->config, "config", c);
    }
  return c;
}

/* ---- expansion ---- */

static char **
expand_env (struct build_stage_ctx *sc)
{
  char **env = build_args_env (&sc->args);
  json_t *e = json_object_get (cfg_of (&sc->s), "Env");
  size_t i;
  json_t *v;
  json_array_foreach (e, i, v) if (json_is_string (v)) strv_push (&env, json_string_value (v));
  return env;
}

static int
expand (struct build *b, struct build_stage_ctx *sc, const struct dockerfile_node *n,
        const char *word, char **out, nook_error_t *err)
{
  cleanup_strv char **env = expand_env (sc);
  if (dockerfile_shell_expand_word (word, b->df->escape, env, out, err) < 0)
    return nook_error_wrap (err, "%s:%d", df_label, n->start_line);
  return 0;
}

/* ---- progress ---- */

double
build_elapsed (const struct build *b)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - b->t0.tv_sec) + (double)(t.tv_nsec - b->t0.tv_nsec) / 1e9;
}

static char *
step_name (struct build_stage_ctx *sc)
{
  return xasprintf ("[%s%s%zu/%zu]", sc->label, *sc->label ? " " : "", sc->step, sc->total);
}

int
build_vertex_next (struct build *b)
{
  /* stages running in parallel processes share the counter (parallel.c) */
  if (b->vshared)
    return b->vertex = __atomic_add_fetch (b->vshared, 1, __ATOMIC_SEQ_CST);
  return ++b->vertex;
}

static int
vertex_start (struct build *b, struct build_stage_ctx *sc, const char *what, double *t)
{
  int v = build_vertex_next (b);
  cleanup_free char *name = step_name (sc);
  if (!b->quiet)
    {
      fprintf (b->out, "#%d %s %s\n", v, name, what);
      fflush (b->out);
    }
  *t = build_elapsed (b);
  return v;
}

static void
vertex_end (struct build *b, int v, double t0, bool cached)
{
  if (b->quiet)
    return;
  if (cached)
    fprintf (b->out, "#%d CACHED\n\n", v);
  else
    fprintf (b->out, "#%d DONE %.1fs\n\n", v, build_elapsed (b) - t0);
  fflush (b->out);
}

static void
one_line (const char *s, struct strbuf *out)
{
  for (; *s; s++)
    strbuf_appendc (out, *s == '\n' ? ' ' : *s);
}

/* ---- instructions ---- */

static void
env_set (json_t *cfg, const char *key, const char *value)
{
  json_t *env = json_object_get (cfg, "Env");
  if (!json_is_array (env))
    {
      env = json_array ();
      json_object_set_new (cfg, "Env", env);
    }
  cleanup_free char *kv = xasprintf ("%s=%s", key, value);
  size_t n = strlen (key), i;
  json_t *v;
  json_array_foreach (env, i, v)
  {
    const char *s = json_string_value (v);
    if (s && strncmp (s, key, n) == 0 && s[n] == '=')
      {
        json_array_set_new (env, i, json_string (kv));
        return;
      }
  }
  json_array_append_new (env, json_string (kv));
}

/* CMD, ENTRYPOINT, HEALTHCHECK's and RUN's command: exec form as is, shell form
 * through SHELL. */
static char **
command_argv (struct build_stage_ctx *sc, const struct dockerfile_node *n, size_t from)
{
  char **argv = xzalloc (sizeof (char *));
  if (n->json_form)
    {
      for (size_t i = from; i < n->n_args; i++)
        strv_push (&argv, n->args[i]);
      return argv;
    }
  for (size_t i = 0; sc->shell && sc->shell[i]; i++)
    strv_push (&argv, sc->shell[i]);
  struct strbuf b = { 0 };
  for (size_t i = from; i < n->n_args; i++)
    {
      if (i > from)
        strbuf_appendc (&b, ' ');
      strbuf_append (&b, n->args[i]);
    }
  strv_push_take (&argv, strbuf_steal (&b));
  return argv;
}

/* Docker's history text of a command: `["a" "b"]`, as Go prints a []string with %q. */
static char *
go_list (char *const *v)
{
  struct strbuf b = { 0 };
  strbuf_appendc (&b, '[');
  for (size_t i = 0; v && v[i]; i++)
    {
      if (i)
        strbuf_appendc (&b, ' ');
      dockerfile_quote (&b, v[i], strlen (v[i]));
    }
  strbuf_appendc (&b, ']');
  return strbuf_steal (&b);
}

static int
parse_duration (const char *s, int64_t *ns, nook_error_t *err)
{
  int64_t total = 0;
  const char *p = s;
  if (*p == '\0')
    return nook_error_set (err, 0, "invalid duration '%s'", s);
  while (*p)
    {
      char *end;
      double v = strtod (p, &end);
      if (end == p)
        return nook_error_set (err, 0, "invalid duration '%s'", s);
      p = end;
      double unit;
      if (strncmp (p, "ns", 2) == 0)
        unit = 1, p += 2;
      else if (strncmp (p, "us", 2) == 0)
        unit = 1e3, p += 2;
      else if (strncmp (p, "ms", 2) == 0)
        unit = 1e6, p += 2;
      else if (*p == 's')
        unit = 1e9, p++;
      else if (*p == 'm')
        unit = 60e9, p++;
      else if (*p == 'h')
        unit = 3600e9, p++;
      else
        return nook_error_set (err, 0, "invalid duration '%s': missing unit", s);
      total += (int64_t)(v * unit);
    }
  *ns = total;
  return 0;
}

static const char *
flag_val (const struct dockerfile_node *n, const char *name)
{
  size_t len = strlen (name);
  const char *v = NULL;
  for (size_t i = 0; n->flags && n->flags[i]; i++)
    if (strncmp (n->flags[i], name, len) == 0 && n->flags[i][len] == '=')
      v = n->flags[i] + len + 1;
  return v;
}

static int
check_flags (const struct dockerfile_node *n, const char *const *allowed, nook_error_t *err)
{
  for (size_t i = 0; n->flags && n->flags[i]; i++)
    {
      bool ok = false;
      for (size_t k = 0; allowed[k] && !ok; k++)
        {
          size_t len = strlen (allowed[k]);
          ok = strncmp (n->flags[i], allowed[k], len) == 0
               && (n->flags[i][len] == '=' || n->flags[i][len] == '\0');
        }
      if (!ok)
        return nook_error_set_exit (err, 1, 0, "%s:%d: unknown flag: %s", df_label, n->start_line,
                                    n->flags[i]);
    }
  return 0;
}

static int
do_healthcheck (struct build *b, struct build_stage_ctx *sc, const struct dockerfile_node *n,
                nook_error_t *err)
{
  json_t *cfg = cfg_of (&sc->s);
  if (n->n_args >= 1 && strcasecmp (n->args[0], "NONE") == 0)
    {
      json_object_set_new (cfg, "Healthcheck", json_pack ("{s:[s]}", "Test", "NONE"));
      return 0;
    }
  if (n->n_args < 2 || strcasecmp (n->args[0], "CMD") != 0)
    return nook_error_set_exit (err, 1, 0, "%s:%d: HEALTHCHECK: want CMD or NONE", df_label,
                                n->start_line);
  json_t *test = json_array ();
  if (n->json_form)
    {
      json_array_append_new (test, json_string ("CMD"));
      for (size_t i = 1; i < n->n_args; i++)
        json_array_append_new (test, json_string (n->args[i]));
    }
  else
    {
      struct strbuf s = { 0 };
      for (size_t i = 1; i < n->n_args; i++)
        {
          if (i > 1)
            strbuf_appendc (&s, ' ');
          strbuf_append (&s, n->args[i]);
        }
      json_array_append_new (test, json_string ("CMD-SHELL"));
      json_array_append_new (test, json_string (s.buf ? s.buf : ""));
      strbuf_free (&s);
    }
  json_t *hc = json_pack ("{s:o}", "Test", test);
  static const char *const durs[][2] = { { "--interval", "Interval" },
                                         { "--timeout", "Timeout" },
                                         { "--start-period", "StartPeriod" },
                                         { "--start-interval", "StartInterval" } };
  for (size_t i = 0; i < ARRAY_SIZE (durs); i++)
    {
      const char *v = flag_val (n, durs[i][0]);
      int64_t ns = 0;
      if (v == NULL)
        continue;
      if (parse_duration (v, &ns, err) < 0)
        {
          json_decref (hc);
          return nook_error_wrap (err, "%s:%d: HEALTHCHECK %s", df_label, n->start_line,
                                  durs[i][0]);
        }
      json_object_set_new (hc, durs[i][1], json_integer (ns));
    }
  const char *r = flag_val (n, "--retries");
  if (r)
    {
      int64_t v;
      if (parse_int (r, 0, INT32_MAX, &v, "--retries", err) < 0)
        {
          json_decref (hc);
          return nook_error_wrap (err, "%s:%d", df_label, n->start_line);
        }
      json_object_set_new (hc, "Retries", json_integer (v));
    }
  json_object_set_new (cfg, "Healthcheck", hc);
  (void)b;
  return 0;
}

/* key=value triples of ENV and LABEL: (key, value, sep) */
static int
pairs (struct build *b, struct build_stage_ctx *sc, const struct dockerfile_node *n, char ***kv,
       nook_error_t *err)
{
  if (n->n_args % 3 != 0 || n->n_args == 0)
    return nook_error_set_exit (err, 1, 0, "%s:%d: %s requires arguments", df_label, n->start_line,
                                n->keyword);
  for (size_t i = 0; i + 2 < n->n_args + 2 && i < n->n_args; i += 3)
    {
      cleanup_free char *k = NULL;
      cleanup_free char *v = NULL;
      if (expand (b, sc, n, n->args[i], &k, err) < 0
          || expand (b, sc, n, n->args[i + 1], &v, err) < 0)
        return -1;
      strv_push (kv, k);
      strv_push (kv, v);
    }
  return 0;
}

/* The record of a COPY --link layer: that layer alone (none when it was empty), keyed
 * without the parent (BuildKit: a linked copy is made on scratch, so its layer depends on
 * its own inputs only and is reused whatever came before it). */
static void
link_put (struct build *b, const char *lkey, const char *blob, const char *diff)
{
  struct build_state ls
      = { .config = json_pack ("{s:{s:s, s:[]}}", "rootfs", "type", "layers", "diff_ids") };
  ls.layers = xzalloc (sizeof (char *));
  ls.diff_ids = xzalloc (sizeof (char *));
  if (blob)
    state_add_layer (&ls, blob, diff);
  build_cache_put (b, lkey, &ls);
  build_state_clear (&ls);
}

static int
layer_step (struct build *b, struct build_stage_ctx *sc, const struct dockerfile_node *n,
            const char *keytext, char *const *args_in_scope, const char *inputs, bool link,
            const char *created_by,
            int (*fill) (struct build *, struct build_stage_ctx *, void *, const char *, int,
                         nook_error_t *),
            void *data, nook_error_t *err)
{
  cleanup_free char *what = NULL;
  {
    struct strbuf w = { 0 };
    one_line (n->original, &w);
    what = strbuf_steal (&w);
  }
  double t0;
  int v = vertex_start (b, sc, what, &t0);
  cleanup_free char *parent = build_state_digest (&sc->s);
  cleanup_free char *key = build_cache_key (parent, keytext, args_in_scope, inputs, b->epoch);
  struct build_state hit = { 0 };
  json_t *rec = build_explain_record (what, parent, keytext, args_in_scope, inputs, b->epoch);
  json_t *prev = json_array_get (b->explain_prev, json_array_size (b->explain_now));
  json_array_append_new (b->explain_now, rec);
  bool use_cache = !b->o->no_cache && !b->no_cache_all && !sc->no_cache;
  bool hit_ok = use_cache && build_cache_get (b, key, &hit) == 0;
  cleanup_free char *lkey
      = link ? build_cache_key ("link", keytext, args_in_scope, inputs, b->epoch) : NULL;
  struct build_state lhit = { 0 };
  bool link_ok = !hit_ok && lkey && use_cache && build_cache_get (b, lkey, &lhit) == 0;
  if (b->o->explain_cache && !b->quiet)
    {
      cleanup_free char *why = build_explain_why (prev, rec);
      const char *how = hit_ok    ? "hit"
                        : link_ok ? "hit (COPY --link: its layer, on this parent)"
                        : b->o->no_cache || sc->no_cache ? "miss (--no-cache)"
                                                         : "miss";
      fprintf (b->out, "#%d cache %s: %s\n", v, how, why);
    }
  if (hit_ok)
    {
      build_state_clear (&sc->s);
      sc->s = hit;
      vertex_end (b, v, t0, true);
      return 0;
    }
  if (link_ok)
    {
      /* the linked layer is reused on this parent */
      bool one = lhit.layers[0] != NULL;
      if (one && lhit.layers[1] == NULL)
        state_add_layer (&sc->s, lhit.layers[0], lhit.diff_ids[0]);
      build_state_clear (&lhit);
      build_state_add_history (b, &sc->s, created_by, !one);
      build_cache_put (b, key, &sc->s);
      vertex_end (b, v, t0, true);
      return 0;
    }
  cleanup_free char *tmp = NULL;
  if (build_tmp_make (b, &tmp, err) < 0)
    return -1;
  int r = fill (b, sc, data, tmp, v, err);
  if (build_interrupted)
    {
      nook_error_free (err);
      r = nook_error_set_exit (err, 130, EINTR, "interrupted (signal %d): the build stopped at %s",
                               (int)build_interrupted, what);
    }
  cleanup_free char *blob = NULL;
  cleanup_free char *diff = NULL;
  bool empty = false;
  cleanup_free char *up = xasprintf ("%s/upper", tmp);
  if (r == 0)
    r = build_pack_upper (b, up, &blob, &diff, &empty, err);
  build_tmp_remove (b, tmp);
  if (r < 0)
    {
      if (!b->quiet && err && *err)
        fprintf (b->out, "#%d ERROR: %s\n", v, (*err)->msg);
      if (!b->quiet && err && *err)
        {
          cleanup_free char *name = step_name (sc);
          fprintf (b->out, "------\n > %s %s:\n------\n%s:%d\n\n", name, what, df_label,
                   n->start_line);
        }
      return -1;
    }
  if (!empty)
    state_add_layer (&sc->s, blob, diff);
  build_state_add_history (b, &sc->s, created_by, empty);
  build_cache_put (b, key, &sc->s);
  if (lkey)
    link_put (b, lkey, empty ? NULL : blob, diff);
  vertex_end (b, v, t0, false);
  return 0;
}

struct run_fill
{
  char **argv;
  char **env;
  const char *network; /* default, none or host */
  struct dockerfile_run_flags *flags;
  struct build_run_mounts *mounts; /* NULL: none */
};

static int
fill_run (struct build *b, struct build_stage_ctx *sc, void *data, const char *tmp, int v,
          nook_error_t *err)
{
  struct run_fill *f = data;
  int status = 0;
  if (build_run_mounts_make (b, f->flags, f->mounts, tmp, err) < 0)
    return -1;
  if (build_run_container (b, sc, f->argv, f->env, f->network, f->mounts, tmp, v, &status, err) < 0)
    return -1;
  if (status == 0 && f->mounts)
    {
      /* the mount points the sandbox made are no part of the layer */
      cleanup_free char *up = xasprintf ("%s/upper", tmp);
      if (build_run_mounts_unstub (b, sc, f->mounts, up, err) < 0)
        return -1;
    }
  if (status != 0)
    {
      struct strbuf c = { 0 };
      for (size_t i = 0; f->argv[i]; i++)
        {
          if (i)
            strbuf_appendc (&c, ' ');
          strbuf_append (&c, f->argv[i]);
        }
      nook_error_set_exit (err, 1, 0,
                           "failed to solve: process \"%s\" did not complete successfully: exit "
                           "code: %d",
                           c.buf, status);
      strbuf_free (&c);
      return -1;
    }
  return 0;
}

static int
fill_copy (struct build *b, struct build_stage_ctx *sc, void *data, const char *tmp, int v,
           nook_error_t *err)
{
  return build_copy_apply (b, sc, data, tmp, err);
}

static int
fill_workdir (struct build *b, struct build_stage_ctx *sc, void *data, const char *tmp, int v,
              nook_error_t *err)
{
  return build_workdir_apply (b, sc, data, tmp, err);
}

static int
do_run (struct build *b, struct build_stage_ctx *sc, const struct dockerfile_node *n,
        nook_error_t *err)
{
  /* --mount, --network, --security: BuildKit's checks and defaults (flags.h), the
     values expanded with the stage's environment */
  struct dockerfile_run_flags rf = { 0 };
  {
    cleanup_strv char **env = expand_env (sc);
    if (dockerfile_run_flags_parse (n->flags, env, b->df->escape, &rf, err) < 0)
      return nook_error_wrap (err, "%s:%d", df_label, n->start_line);
  }
  if (rf.security == DOCKERFILE_SECURITY_INSECURE)
    {
      dockerfile_run_flags_clear (&rf);
      return nook_error_set_exit (err, 1, 0,
                                  "%s:%d: RUN --security=insecure is not supported: nook grants no "
                                  "security.insecure entitlement",
                                  df_label, n->start_line);
    }
  /* RUN --network=default|none|host, over the build's --network */
  const char *net = rf.network == DOCKERFILE_NETWORK_NONE   ? "none"
                    : rf.network == DOCKERFILE_NETWORK_HOST ? "host"
                    : flag_val (n, "--network")             ? "default"
                                                            : NULL;
  if (net == NULL)
    net = b->o->network ? b->o->network : "default";
  if (strcmp (net, "bridge") == 0)
    net = "default";
  struct run_fill f = { .flags = &rf };
  if (n->n_heredocs && n->json_form)
    {
      dockerfile_run_flags_clear (&rf);
      return nook_error_set_exit (err, 1, 0, "%s:%d: RUN in exec form with a here-document",
                                  df_label, n->start_line);
    }
  {
    cleanup_free char *where = xasprintf ("%s:%d", df_label, n->start_line);
    if (build_run_mounts_plan (b, sc, &rf, where, &f.mounts, err) < 0)
      {
        dockerfile_run_flags_clear (&rf);
        return -1;
      }
  }
  if (n->n_heredocs)
    {
      /* `RUN <<EOF` alone: the body is the script; otherwise the shell reads the
         here-documents itself, as the command line names them */
      const char *a = n->n_args == 1 ? n->args[0] : "";
      while (*a == ' ' || *a == '\t')
        a++;
      bool alone = n->n_heredocs == 1 && strncmp (a, "<<", 2) == 0 && strchr (a, ' ') == NULL;
      struct strbuf script = { 0 };
      if (alone)
        strbuf_append (&script, n->heredocs[0].content);
      else
        {
          for (size_t i = 0; i < n->n_args; i++)
            strbuf_appendf (&script, "%s%s", i ? " " : "", n->args[i]);
          strbuf_appendc (&script, '\n');
          for (size_t i = 0; i < n->n_heredocs; i++)
            strbuf_appendf (&script, "%s%s\n", n->heredocs[i].content, n->heredocs[i].name);
        }
      f.argv = xzalloc (sizeof (char *));
      for (size_t i = 0; sc->shell && sc->shell[i]; i++)
        strv_push (&f.argv, sc->shell[i]);
      strv_push_take (&f.argv, strbuf_steal (&script));
    }
  else
    f.argv = command_argv (sc, n, 0);
  f.env = build_args_env (&sc->args);
  f.network = net;
  /* predefined proxy args given with --build-arg reach RUN without an ARG line */
  for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++)
    {
      const char *a = b->o->build_args[i];
      const char *eq = strchr (a, '=');
      cleanup_free char *name = eq ? xstrndup (a, (size_t)(eq - a)) : xstrdup (a);
      if (build_args_predefined (name) && build_args_value (&sc->args, name) == NULL)
        {
          const char *val = eq ? eq + 1 : getenv (name);
          if (val)
            strv_push_take (&f.env, xasprintf ("%s=%s", name, val));
        }
    }
  struct strbuf cb = { 0 };
  strbuf_append (&cb, "RUN ");
  /* BuildKit: "|N A=1 B=2 " before the command when build args are in scope
     (predefined ones are never recorded) */
  size_t nargs = 0;
  for (size_t i = 0; f.env[i]; i++)
    {
      const char *eq = strchr (f.env[i], '=');
      cleanup_free char *name = xstrndup (f.env[i], (size_t)(eq - f.env[i]));
      nargs += !build_args_predefined (name);
    }
  if (nargs)
    {
      strbuf_appendf (&cb, "|%zu ", nargs);
      for (size_t i = 0; f.env[i]; i++)
        {
          const char *eq = strchr (f.env[i], '=');
          cleanup_free char *name = xstrndup (f.env[i], (size_t)(eq - f.env[i]));
          if (!build_args_predefined (name))
            strbuf_appendf (&cb, "%s ", f.env[i]);
        }
    }
  for (size_t i = 0; f.argv[i]; i++)
    {
      if (i)
        strbuf_appendc (&cb, ' ');
      strbuf_append (&cb, f.argv[i]);
    }
  strbuf_append (&cb, " # buildkit");
  cleanup_free char *created_by = strbuf_steal (&cb);
  cleanup_free char *keytext = NULL;
  {
    json_t *a = strv_to_json (f.argv);
    char *s = json_dumps (a, JSON_COMPACT);
    json_decref (a);
    struct strbuf k = { 0 };
    strbuf_appendf (&k, "RUN %s network=%s", s, net);
    /* the mounts as written (a secret by its id only) */
    const char *const *mk = build_run_mounts_keytext (f.mounts);
    for (size_t i = 0; mk && mk[i]; i++)
      strbuf_appendf (&k, "\n%s", mk[i]);
    keytext = strbuf_steal (&k);
    free (s);
  }
  int r = layer_step (b, sc, n, keytext, f.env, build_run_mounts_inputs (f.mounts), false,
                      created_by, fill_run, &f, err);
  strv_free (f.argv);
  strv_free (f.env);
  build_run_mounts_free (f.mounts);
  dockerfile_run_flags_clear (&rf);
  return r;
}

static int
do_copy (struct build *b, struct build_stage_ctx *sc, const struct dockerfile_node *n, bool add,
         nook_error_t *err)
{
  static const char *const allowed_copy[]
      = { "--from", "--chown", "--chmod", "--link", "--parents", "--exclude", NULL };
  static const char *const allowed_add[]
      = { "--chown", "--chmod", "--link", "--checksum", "--keep-git-dir", "--exclude", NULL };
  if (check_flags (n, add ? allowed_add : allowed_copy, err) < 0)
    return -1;
  if (n->n_args < 2)
    return nook_error_set_exit (err, 1, 0, "%s:%d: %s requires at least two arguments", df_label,
                                n->start_line, add ? "ADD" : "COPY");
  struct build_copy c = { .add = add };
  cleanup_free char *from = NULL;
  cleanup_free char *chown = NULL;
  cleanup_free char *chmod = NULL;
  cleanup_free char *dest = NULL;
  cleanup_strv char **srcs = xzalloc (sizeof (char *));
  const char *v;
  if ((v = flag_val (n, "--from")) && expand (b, sc, n, v, &from, err) < 0)
    return -1;
  if ((v = flag_val (n, "--chown")) && expand (b, sc, n, v, &chown, err) < 0)
    return -1;
  if ((v = flag_val (n, "--chmod")) && expand (b, sc, n, v, &chmod, err) < 0)
    return -1;
  cleanup_free char *checksum = NULL;
  cleanup_strv char **excludes = NULL;
  for (size_t i = 0; n->flags && n->flags[i]; i++)
    {
      if (strcmp (n->flags[i], "--parents") == 0 || strcmp (n->flags[i], "--parents=true") == 0)
        c.parents = true;
      else if (strcmp (n->flags[i], "--parents=false") == 0)
        c.parents = false;
      else if (strncmp (n->flags[i], "--parents=", 10) == 0)
        return nook_error_set_exit (err, 1, 0, "%s:%d: --parents takes true or false, not '%s'",
                                    df_label, n->start_line, n->flags[i] + 10);
      if (strcmp (n->flags[i], "--link") == 0 || strcmp (n->flags[i], "--link=true") == 0)
        c.link = true;
      else if (strcmp (n->flags[i], "--link=false") == 0)
        c.link = false;
      else if (strncmp (n->flags[i], "--link=", 7) == 0)
        return nook_error_set_exit (err, 1, 0, "%s:%d: --link takes true or false, not '%s'",
                                    df_label, n->start_line, n->flags[i] + 7);
      if (strcmp (n->flags[i], "--keep-git-dir") == 0
          || strcmp (n->flags[i], "--keep-git-dir=true") == 0)
        c.keep_git_dir = true;
      else if (strcmp (n->flags[i], "--keep-git-dir=false") == 0)
        c.keep_git_dir = false;
      else if (strncmp (n->flags[i], "--keep-git-dir=", 15) == 0)
        return nook_error_set_exit (err, 1, 0,
                                    "%s:%d: --keep-git-dir takes true or false, not '%s'", df_label,
                                    n->start_line, n->flags[i] + 15);
      if (strncmp (n->flags[i], "--exclude=", 10) == 0)
        {
          char *x = NULL;
          if (expand (b, sc, n, n->flags[i] + 10, &x, err) < 0)
            return -1;
          strv_push_take (&excludes, x);
        }
    }
  if ((v = flag_val (n, "--checksum")) && expand (b, sc, n, v, &checksum, err) < 0)
    return -1;
  cleanup_strv char **inl_names = NULL;
  cleanup_strv char **inl_data = NULL;
  for (size_t i = 0; i + 1 < n->n_args; i++)
    {
      const struct dockerfile_heredoc *h = NULL;
      if (strncmp (n->args[i], "<<", 2) == 0)
        for (size_t k = 0; k < n->n_heredocs && h == NULL; k++)
          {
            const char *w = n->args[i] + 2;
            if (*w == '-')
              w++;
            size_t wl = strlen (w);
            if (wl >= 2 && (w[0] == '"' || w[0] == '\'') && w[wl - 1] == w[0])
              w++, wl -= 2;
            if (strlen (n->heredocs[k].name) == wl && strncmp (n->heredocs[k].name, w, wl) == 0)
              h = &n->heredocs[k];
          }
      if (h)
        {
          char *content = NULL;
          if (h->expand)
            {
              cleanup_strv char **env = expand_env (sc);
              struct dockerfile_shell_opts so = { .skip_quotes = true };
              struct dockerfile_shell_result res = { 0 };
              if (dockerfile_shell_expand (h->content, b->df->escape, env, &so, &res, err) < 0)
                return nook_error_wrap (err, "%s:%d", df_label, n->start_line);
              content = xstrdup (res.word ? res.word : "");
              dockerfile_shell_result_clear (&res);
            }
          else
            content = xstrdup (h->content);
          strv_push (&inl_names, h->name);
          strv_push_take (&inl_data, content);
          continue;
        }
      char *s = NULL;
      if (expand (b, sc, n, n->args[i], &s, err) < 0)
        return -1;
      strv_push_take (&srcs, s);
    }
  cleanup_free char *d = NULL;
  if (expand (b, sc, n, n->args[n->n_args - 1], &d, err) < 0)
    return -1;
  size_t dl = strlen (d);
  c.dest_is_dir = (dl > 0 && d[dl - 1] == '/') || n->n_args > 2 || (dl == 1 && d[0] == '.');
  if (d[0] == '/')
    dest = xstrdup (d);
  else
    {
      const char *wd = json_string_value (json_object_get (cfg_of (&sc->s), "WorkingDir"));
      if (wd == NULL || *wd == '\0')
        wd = "/";
      dest = xasprintf ("%s%s%s", wd, wd[strlen (wd) - 1] == '/' ? "" : "/", d);
      if (strcmp (d, ".") == 0 || (dl && d[dl - 1] == '/'))
        c.dest_is_dir = true;
    }
  c.from = from;
  c.chown = chown;
  c.chmod = chmod;
  c.checksum = checksum;
  c.excludes = excludes;
  c.srcs = srcs;
  c.dest = dest;
  c.inline_names = inl_names;
  c.inline_data = inl_data;
  struct build_copy_plan *plan = NULL;
  cleanup_free char *inputs = NULL;
  if (build_copy_prepare (b, sc, &c, &plan, &inputs, err) < 0)
    {
      (*err)->exit = 1;
      return nook_error_wrap (err, "%s:%d", df_label, n->start_line);
    }
  struct strbuf k = { 0 };
  strbuf_append (&k, add ? "ADD" : "COPY");
  for (size_t i = 0; n->flags && n->flags[i]; i++)
    strbuf_appendf (&k, " %s", n->flags[i]);
  for (size_t i = 0; srcs[i]; i++)
    strbuf_appendf (&k, " %s", srcs[i]);
  strbuf_appendf (&k, " %s", dest);
  cleanup_free char *keytext = strbuf_steal (&k);
  cleanup_free char *created_by = NULL;
  {
    struct strbuf cb = { 0 };
    one_line (n->original, &cb);
    strbuf_append (&cb, " # buildkit");
    created_by = strbuf_steal (&cb);
  }
  int r = layer_step (b, sc, n, keytext, NULL, inputs, c.link, created_by, fill_copy, plan, err);
  build_copy_plan_free (plan);
  return r;
}

static int
do_workdir (struct build *b, struct build_stage_ctx *sc, const struct dockerfile_node *n,
            nook_error_t *err)
{
  if (n->n_args != 1)
    return nook_error_set_exit (err, 1, 0, "%s:%d: WORKDIR requires exactly one argument", df_label,
                                n->start_line);
  cleanup_free char *w = NULL;
  if (expand (b, sc, n, n->args[0], &w, err) < 0)
    return -1;
  json_t *cfg = cfg_of (&sc->s);
  const char *cur = json_string_value (json_object_get (cfg, "WorkingDir"));
  cleanup_free char *path
      = w[0] == '/' ? xstrdup (w) : xasprintf ("%s/%s", cur && *cur ? cur : "", w);
  /* clean: no "//", no trailing "/" */
  struct strbuf c = { 0 };
  cleanup_free char *copy = xstrdup (path);
  char *save = NULL;
  for (char *t = strtok_r (copy, "/", &save); t; t = strtok_r (NULL, "/", &save))
    {
      if (strcmp (t, ".") == 0)
        continue;
      if (strcmp (t, "..") == 0)
        {
          char *sl = c.buf ? strrchr (c.buf, '/') : NULL;
          if (sl)
            {
              c.len = (size_t)(sl - c.buf);
              c.buf[c.len] = '\0';
            }
          continue;
        }
      strbuf_appendf (&c, "/%s", t);
    }
  cleanup_free char *clean = c.len ? strbuf_steal (&c) : xstrdup ("/");
  strbuf_free (&c);
  json_object_set_new (cfg, "WorkingDir", json_string (clean));
  cleanup_free char *keytext = xasprintf ("WORKDIR %s", clean);
  cleanup_free char *created_by = xasprintf ("WORKDIR %s", clean);
  return layer_step (b, sc, n, keytext, NULL, NULL, false, created_by, fill_workdir, clean, err);
}

static int exec_node (struct build *b, struct build_stage_ctx *sc, const struct dockerfile_node *n,
                      nook_error_t *err);

static int
do_onbuild_triggers (struct build *b, struct build_stage_ctx *sc, nook_error_t *err)
{
  json_t *cfg = cfg_of (&sc->s);
  json_t *ob = json_object_get (cfg, "OnBuild");
  if (!json_is_array (ob) || json_array_size (ob) == 0)
    {
      json_object_del (cfg, "OnBuild");
      return 0;
    }
  json_t *triggers = json_incref (ob);
  json_object_del (cfg, "OnBuild");
  size_t i;
  json_t *t;
  int r = 0;
  json_array_foreach (triggers, i, t)
  {
    const char *text = json_string_value (t);
    if (text == NULL)
      continue;
    cleanup_dockerfile struct dockerfile *df = NULL;
    if (dockerfile_parse (text, strlen (text), "ONBUILD", &df, err) < 0)
      {
        r = -1;
        break;
      }
    for (size_t k = 0; k < df->n_nodes && r == 0; k++)
      r = exec_node (b, sc, &df->nodes[k], err);
    if (r < 0)
      break;
  }
  json_decref (triggers);
  return r;
}

static int
exec_node (struct build *b, struct build_stage_ctx *sc, const struct dockerfile_node *n,
           nook_error_t *err)
{
  const char *k = n->keyword;
  json_t *cfg = cfg_of (&sc->s);
  cleanup_free char *hist = NULL;
  struct strbuf h = { 0 };
  if (!strcmp (k, "run") || !strcmp (k, "copy") || !strcmp (k, "add") || !strcmp (k, "workdir"))
    {
      sc->step++;
      if (!strcmp (k, "run"))
        return do_run (b, sc, n, err);
      if (!strcmp (k, "workdir"))
        return do_workdir (b, sc, n, err);
      return do_copy (b, sc, n, !strcmp (k, "add"), err);
    }
  if (!strcmp (k, "env") || !strcmp (k, "label"))
    {
      cleanup_strv char **kv = NULL;
      if (pairs (b, sc, n, &kv, err) < 0)
        return -1;
      bool env = !strcmp (k, "env");
      strbuf_append (&h, env ? "ENV" : "LABEL");
      json_t *labels = NULL;
      if (!env)
        {
          labels = json_object_get (cfg, "Labels");
          if (!json_is_object (labels))
            {
              labels = json_object ();
              json_object_set_new (cfg, "Labels", labels);
            }
        }
      for (size_t i = 0; kv && kv[i]; i += 2)
        {
          if (env)
            env_set (cfg, kv[i], kv[i + 1]);
          else
            json_object_set_new (labels, kv[i], json_string (kv[i + 1]));
          strbuf_appendf (&h, " %s=%s", kv[i], kv[i + 1]);
        }
    }
  else if (!strcmp (k, "arg"))
    {
      strbuf_append (&h, "ARG");
      for (size_t i = 0; i < n->n_args; i++)
        {
          const char *w = n->args[i];
          const char *eq = strchr (w, '=');
          cleanup_free char *name = eq ? xstrndup (w, (size_t)(eq - w)) : xstrdup (w);
          cleanup_free char *def = NULL;
          if (eq && expand (b, sc, n, eq + 1, &def, err) < 0)
            return -1;
          build_args_declare (&sc->args, name, def, b->o->build_args, b->st->meta_env,
                              &b->used_args);
          strbuf_appendf (&h, " %s", w);
        }
    }
  else if (!strcmp (k, "expose"))
    {
      json_t *ports = json_object_get (cfg, "ExposedPorts");
      if (!json_is_object (ports))
        {
          ports = json_object ();
          json_object_set_new (cfg, "ExposedPorts", ports);
        }
      strbuf_append (&h, "EXPOSE map[");
      for (size_t i = 0; i < n->n_args; i++)
        {
          cleanup_free char *p = NULL;
          if (expand (b, sc, n, n->args[i], &p, err) < 0)
            return -1;
          cleanup_free char *key = strchr (p, '/') ? xstrdup (p) : xasprintf ("%s/tcp", p);
          for (char *c = key; *c; c++)
            *c = (char)tolower ((unsigned char)*c);
          const char *num = key;
          if (strspn (num, "0123456789-") == 0)
            return nook_error_set_exit (err, 1, 0, "%s:%d: invalid port '%s'", df_label,
                                        n->start_line, p);
          json_object_set_new (ports, key, json_object ());
          strbuf_appendf (&h, "%s%s:{}", i ? " " : "", key);
        }
      strbuf_append (&h, "]");
    }
  else if (!strcmp (k, "volume"))
    {
      json_t *vols = json_object_get (cfg, "Volumes");
      if (!json_is_object (vols))
        {
          vols = json_object ();
          json_object_set_new (cfg, "Volumes", vols);
        }
      strbuf_append (&h, "VOLUME [");
      for (size_t i = 0; i < n->n_args; i++)
        {
          cleanup_free char *p = NULL;
          if (expand (b, sc, n, n->args[i], &p, err) < 0)
            return -1;
          if (*p == '\0')
            return nook_error_set_exit (err, 1, 0,
                                        "%s:%d: VOLUME specified can not be an empty string",
                                        df_label, n->start_line);
          json_object_set_new (vols, p, json_object ());
          strbuf_appendf (&h, "%s%s", i ? " " : "", p);
        }
      strbuf_append (&h, "]");
    }
  else if (!strcmp (k, "user") || !strcmp (k, "stopsignal"))
    {
      if (n->n_args != 1)
        return nook_error_set_exit (err, 1, 0, "%s:%d: %s requires exactly one argument", df_label,
                                    n->start_line, k);
      cleanup_free char *v = NULL;
      if (expand (b, sc, n, n->args[0], &v, err) < 0)
        return -1;
      bool user = !strcmp (k, "user");
      json_object_set_new (cfg, user ? "User" : "StopSignal", json_string (v));
      strbuf_appendf (&h, "%s %s", user ? "USER" : "STOPSIGNAL", v);
    }
  else if (!strcmp (k, "cmd") || !strcmp (k, "entrypoint"))
    {
      bool cmd = !strcmp (k, "cmd");
      cleanup_strv char **argv = command_argv (sc, n, 0);
      if (!n->json_form && n->n_args == 0)
        {
          strv_free (argv);
          argv = xzalloc (sizeof (char *));
        }
      json_object_set_new (cfg, cmd ? "Cmd" : "Entrypoint", strv_to_json (argv));
      if (cmd)
        sc->cmd_set = true;
      else if (!sc->cmd_set)
        json_object_set_new (cfg, "Cmd", json_null ());
      cleanup_free char *l = go_list (argv);
      strbuf_appendf (&h, "%s %s", cmd ? "CMD" : "ENTRYPOINT", l);
    }
  else if (!strcmp (k, "shell"))
    {
      if (!n->json_form || n->n_args == 0)
        return nook_error_set_exit (err, 1, 0,
                                    "%s:%d: SHELL requires the arguments to be in JSON form",
                                    df_label, n->start_line);
      strv_free (sc->shell);
      sc->shell = NULL;
      for (size_t i = 0; i < n->n_args; i++)
        strv_push (&sc->shell, n->args[i]);
      json_object_set_new (cfg, "Shell", strv_to_json (sc->shell));
      cleanup_free char *l = go_list (sc->shell);
      strbuf_appendf (&h, "SHELL %s", l);
    }
  else if (!strcmp (k, "healthcheck"))
    {
      if (do_healthcheck (b, sc, n, err) < 0)
        return -1;
      struct strbuf w = { 0 };
      one_line (n->original, &w);
      hist = strbuf_steal (&w);
    }
  else if (!strcmp (k, "onbuild"))
    {
      const char *t = n->original;
      while (*t && !isspace ((unsigned char)*t))
        t++;
      while (isspace ((unsigned char)*t))
        t++;
      json_t *ob = json_object_get (cfg, "OnBuild");
      if (!json_is_array (ob))
        {
          ob = json_array ();
          json_object_set_new (cfg, "OnBuild", ob);
        }
      json_array_append_new (ob, json_string (t));
      strbuf_appendf (&h, "ONBUILD %s", t);
    }
  else if (!strcmp (k, "maintainer"))
    {
      struct strbuf m = { 0 };
      for (size_t i = 0; i < n->n_args; i++)
        strbuf_appendf (&m, "%s%s", i ? " " : "", n->args[i]);
      json_object_set_new (sc->s.config, "author", json_string (m.buf ? m.buf : ""));
      strbuf_appendf (&h, "MAINTAINER %s", m.buf ? m.buf : "");
      strbuf_free (&m);
    }
  else if (!strcmp (k, "from"))
    return nook_error_set_exit (err, 1, 0, "%s:%d: FROM is not allowed here", df_label,
                                n->start_line);
  else
    {
      char upper[32];
      snprintf (upper, sizeof upper, "%s", n->keyword);
      for (char *c = upper; *c; c++)
        *c = (char)toupper ((unsigned char)*c);
      return nook_error_set_exit (err, 1, 0, "%s:%d: unknown instruction: %s", df_label,
                                  n->start_line, upper);
    }
  if (hist == NULL)
    hist = strbuf_steal (&h);
  else
    strbuf_free (&h);
  build_state_add_history (b, &sc->s, hist, true);
  return 0;
}

/* ---- stages ---- */

static int
base_state (struct build *b, const struct dockerfile_stage *st, struct build_state *out,
            char **shown, nook_error_t *err)
{
  if (st->platform)
    {
      cleanup_free char *want = xasprintf ("linux/%s", imagefmt_store_arch ());
      if (strcmp (st->platform, want) != 0 && strncmp (st->platform, want, strlen (want)) != 0)
        return nook_error_set_exit (err, 1, 0,
                                    "FROM --platform=%s: only this machine's platform (%s) can "
                                    "be built here",
                                    st->platform, want);
    }
  if (st->base_stage >= 0)
    {
      build_state_copy (out, &b->results[st->base_stage]);
      *shown = xstrdup (st->base);
      return 0;
    }
  if (strcasecmp (st->base, "scratch") == 0)
    {
      out->config = json_pack ("{s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}", "architecture",
                               imagefmt_store_arch (), "os", "linux", "config", "rootfs", "type",
                               "layers", "diff_ids", "history");
      out->layers = xzalloc (sizeof (char *));
      out->diff_ids = xzalloc (sizeof (char *));
      *shown = xstrdup ("scratch");
      return 0;
    }
  struct imagefmt_image *img = NULL;
  cleanup_free char *named_dir = NULL;
  cleanup_free char *named_image = NULL;
  const char *base = st->base;
  if (build_named_context (b, st->base, &named_dir, &named_image))
    {
      if (named_dir)
        return nook_error_set_exit (err, 1, 0,
                                    "FROM %s: the build context %s is a directory; FROM takes "
                                    "an image (--build-context %s=docker-image://REF)",
                                    st->base, named_dir, st->base);
      base = named_image;
    }
  if (b->o->pull && cmd_pull_for_run (b->ctx, b->store, base, NULL, b->out, err) < 0)
    return -1;
  if (imagefmt_store_lookup (b->store, base, &img, err) < 0)
    {
      if ((*err)->code != ENOENT)
        return -1;
      nook_error_free (err);
      if (cmd_pull_for_run (b->ctx, b->store, base, NULL, b->out, err) < 0
          || imagefmt_store_lookup (b->store, base, &img, err) < 0)
        return -1;
    }
  out->config = json_deep_copy (img->config);
  out->layers = strv_dup (img->layers);
  out->diff_ids = strv_dup (img->diff_ids);
  *shown = xstrdup (img->ref ? img->ref : img->id);
  imagefmt_image_free (img);
  /* what Docker drops from a base's config */
  json_object_del (out->config, "container");
  json_object_del (out->config, "container_config");
  json_object_del (out->config, "docker_version");
  return 0;
}

static size_t
count_steps (const struct dockerfile *df, const struct dockerfile_stage *st)
{
  size_t n = 1;
  for (size_t i = st->first_node + 1; i < st->first_node + st->n_nodes; i++)
    {
      const char *k = df->nodes[i].keyword;
      n += !strcmp (k, "run") || !strcmp (k, "copy") || !strcmp (k, "add")
           || !strcmp (k, "workdir");
    }
  return n;
}

int
build_run_stage (struct build *b, size_t idx, nook_error_t *err)
{
  const struct dockerfile_stage *st = &b->st->stages[idx];
  struct build_stage_ctx sc = { 0 };
  cleanup_free char *label = b->st->n == 1 ? xstrdup ("")
                             : st->name    ? xstrdup (st->name)
                                           : xasprintf ("stage-%zu", idx);
  sc.label = label;
  for (size_t i = 0; b->o->no_cache_filter && b->o->no_cache_filter[i]; i++)
    {
      char num[24];
      snprintf (num, sizeof num, "%zu", idx);
      if ((st->name && strcasecmp (st->name, b->o->no_cache_filter[i]) == 0)
          || strcmp (num, b->o->no_cache_filter[i]) == 0)
        sc.no_cache = true;
    }
  sc.total = count_steps (b->df, st);
  sc.step = 1;
  strv_push (&sc.shell, "/bin/sh");
  strv_push (&sc.shell, "-c");
  cleanup_free char *shown = NULL;
  double t0;
  const struct dockerfile_node *from = &b->df->nodes[st->first_node];
  json_t *shell = NULL;
  int v = build_vertex_next (b);
  {
    cleanup_free char *name = step_name (&sc);
    if (!b->quiet)
      fprintf (b->out, "#%d %s FROM %s\n", v, name, st->base);
    t0 = build_elapsed (b);
  }
  int r = base_state (b, st, &sc.s, &shown, err);
  if (r < 0)
    {
      nook_error_wrap (err, "%s:%d", df_label, from->start_line);
      if (*err)
        (*err)->exit = 1;
      goto out;
    }
  vertex_end (b, v, t0, false);
  shell = json_object_get (cfg_of (&sc.s), "Shell");
  if (json_is_array (shell) && json_array_size (shell) > 0)
    {
      strv_free (sc.shell);
      sc.shell = NULL;
      size_t i;
      json_t *x;
      json_array_foreach (shell, i, x) if (json_is_string (x))
          strv_push (&sc.shell, json_string_value (x));
    }
  r = do_onbuild_triggers (b, &sc, err);
  for (size_t i = st->first_node + 1; r == 0 && i < st->first_node + st->n_nodes; i++)
    r = exec_node (b, &sc, &b->df->nodes[i], err);
  if (r == 0)
    {
      b->results[idx] = sc.s;
      memset (&sc.s, 0, sizeof sc.s);
      b->done[idx] = true;
    }
out:
  build_state_clear (&sc.s);
  build_args_clear (&sc.args);
  strv_free (sc.shell);
  return r;
}

int
build_exec (struct build *b, struct build_state *final, nook_error_t *err)
{
  cleanup_free size_t *order = NULL;
  size_t n = 0;
  if (b->o->file && strcmp (b->o->file, "-") != 0)
    {
      const char *slash = strrchr (b->o->file, '/');
      df_label = slash ? slash + 1 : b->o->file;
    }
  if (dockerfile_stages_for_target (b->st, b->o->target, &order, &n, err) < 0)
    {
      if (*err)
        (*err)->exit = 1;
      return -1;
    }
  if (b->results)
    for (size_t i = 0; i < b->st->n; i++)
      build_state_clear (&b->results[i]);
  free (b->results);
  free (b->done);
  b->results = xzalloc (sizeof *b->results * b->st->n);
  b->done = xzalloc (sizeof *b->done * b->st->n);
  if (build_run_stages (b, order, n, err) < 0)
    return -1;
  build_state_copy (final, &b->results[order[n - 1]]);
  return 0;
}
