/* cmd/compose/view.c: `compose ps`, `ls`, `top`, `port`, `images`, and which project
 * and containers they look at (see view.h); `logs` is in view_logs.c. Output as
 * Docker Compose v2 prints it. */
#include "cmd/compose/view.h"
#include "cmd/cli.h"
#include "cmd/compose/compose.h"
#include "cmd/compose/view_shape.h"
#include "cmd/format.h"
#include "cmd/records.h"
#include "cmd/run_net.h"
#include "cmd/top.h"
#include "imagefmt/image_info.h"
#include "imagefmt/ref.h"
#include "imagefmt/store.h"
#include "net/ports.h"
#include "util/cleanup.h"
#include "util/template.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char **environ;

static const char *const verbs[] = { "ps", "ls", "logs", "top", "port", "images" };

bool
compose_view_verb (const char *sub)
{
  for (size_t i = 0; i < ARRAY_SIZE (verbs); i++)
    if (strcmp (sub, verbs[i]) == 0)
      return true;
  return false;
}

bool
view_strv_has (char **services, const char *svc)
{
  for (char **s = services; s && *s; s++)
    if (strcmp (*s, svc) == 0)
      return true;
  return false;
}

/* ---- which project ---- */

static int
load (struct view *v, char **services, nook_error_t *err)
{
  struct compose_options o = *v->lo;
  size_t n = strv_len (v->files);
  cleanup_free struct compose_file *files = xzalloc ((n + 1) * sizeof *files);
  for (size_t i = 0; i < n; i++)
    files[i].path = v->files[i];
  o.files = files;
  o.n_files = (int)n;
  o.environ = compose_environ_json ();
  o.discard_env_files = true;
  o.services = services;
  int r = compose_load (&o, &v->p, err);
  json_decref (o.environ);
  if (r < 0)
    return -1;
  for (char **w = v->p.warnings; w && *w; w++)
    fprintf (stderr, "WARN[0000] %s\n", *w);
  v->loaded = true;
  return 0;
}

static char *
lower (const char *s)
{
  char *l = xstrdup (s);
  for (char *c = l; *c; c++)
    *c = (char)tolower ((unsigned char)*c);
  return l;
}

int
view_open (struct view *v, bool or_name, char **services, nook_error_t *err)
{
  const char *pname = v->lo->project_name;
  const char *env = getenv ("COMPOSE_PROJECT_NAME");
  if (or_name)
    {
      if (v->files || pname == NULL)
        {
          cleanup_error nook_error_t e = NULL;
          if (load (v, services, &e) == 0)
            v->name = xstrdup (v->p.name);
          else if (env && *env)
            v->name = lower (env);
          else
            {
              *err = steal_pointer (&e);
              return -1;
            }
        }
      else
        v->name = lower (pname);
    }
  else if (pname)
    v->name = lower (pname);
  else if (env && *env)
    v->name = lower (env);
  else if (load (v, NULL, err) < 0)
    return -1;
  else
    v->name = xstrdup (v->p.name);
  v->root = ctr_store_root (v->ctx->root, err);
  if (v->root == NULL || ctr_list_load (v->root, &v->l, err) < 0)
    return -1;
  return 0;
}

void
view_close (struct view *v)
{
  if (v->loaded)
    compose_project_free (&v->p);
  ctr_list_free (&v->l);
  free (v->root);
  free (v->name);
}

static const struct ctr_list *sort_list;

static int
cmp_by_name (const void *a, const void *b)
{
  return strcmp (sort_list->v[*(const size_t *)a].name, sort_list->v[*(const size_t *)b].name);
}

size_t *
view_select (struct view *v, bool oneoff, bool all, char **services, size_t *n)
{
  size_t *sel = xzalloc (sizeof *sel * (v->l.n + 1));
  *n = 0;
  for (size_t i = 0; i < v->l.n; i++)
    {
      const struct ctr *c = &v->l.v[i];
      if (strcmp (compose_label (c, CL_PROJECT), v->name) != 0)
        continue;
      if (!oneoff && strcmp (compose_label (c, CL_ONEOFF), "True") == 0)
        continue;
      if (!all && !c->running)
        continue;
      if (services && !view_strv_has (services, compose_label (c, CL_SERVICE)))
        continue;
      sel[(*n)++] = i;
    }
  sort_list = &v->l;
  qsort (sel, *n, sizeof *sel, cmp_by_name);
  return sel;
}

/* Services named must be the project's (when its files were loaded). */
static int
check_services (struct view *v, char **services, nook_error_t *err)
{
  if (!v->loaded)
    return 0;
  json_t *svcs = json_object_get (v->p.model, "services");
  for (char **s = services; s && *s; s++)
    if (json_object_get (svcs, *s) == NULL)
      return nook_error_set (err, 0, "no such service: %s", *s);
  return 0;
}

static char **
project_services (struct view *v)
{
  char **out = NULL;
  const char *k;
  json_t *x;
  json_object_foreach (json_object_get (v->p.model, "services"), k, x) { strv_push (&out, k); }
  return out;
}

/* ---- ps ---- */

static void
ps_usage (void)
{
  printf ("Usage:  nook compose ps [OPTIONS] [SERVICE...]\n\nList containers\n\nOptions:\n"
          "  -a, --all              Show all stopped containers (including those created by the "
          "run command)\n"
          "      --filter string    Filter services by a property (supported filters: status)\n"
          "      --format string    Format output using a custom template:\n"
          "                         'table':            Print output in table format with column "
          "headers (default)\n"
          "                         'table TEMPLATE':   Print output in table format using the "
          "given Go template\n"
          "                         'json':             Print in JSON format\n"
          "                         'TEMPLATE':         Print output using the given Go template\n"
          "      --no-trunc         Don't truncate output\n"
          "      --orphans          Include orphaned services (not declared by project) (default "
          "true)\n"
          "  -q, --quiet            Only display IDs\n"
          "      --services         Display services\n"
          "      --status stringArray   Filter services by status. Values: [paused | restarting | "
          "removing | running | dead | created | exited]\n");
}

static int
ps_status_add (char ***status, const char *s, nook_error_t *err)
{
  static const char *const ok[]
      = { "paused", "restarting", "removing", "running", "dead", "created", "exited" };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    if (strcmp (s, ok[i]) == 0)
      {
        strv_push (status, s);
        return 0;
      }
  return nook_error_set (err, 0,
                         "invalid status \"%s\": want one of paused, restarting, removing, "
                         "running, dead, created, exited",
                         s);
}

/* -abc: single-letter flags together */
static bool
short_flags (const char *a, const char *letters)
{
  return a[0] == '-' && a[1] && a[1] != '-' && strspn (a + 1, letters) == strlen (a + 1);
}

static int
view_ps (struct view *v, int argc, char **argv, nook_error_t *err)
{
  bool all = false, quiet = false, services_only = false, notrunc = false, orphans = true;
  const char *format = "";
  cleanup_strv char **status = NULL, **services = NULL;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          ps_usage ();
          return 0;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--format", "compose ps", &val, err)) != 0)
        {
          if (r < 0)
            return -1;
          format = val;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--status", "compose ps", &val, err)) != 0)
        {
          if (r < 0 || ps_status_add (&status, val, err) < 0)
            return -1;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--filter", "compose ps", &val, err)) != 0)
        {
          if (r < 0)
            return -1;
          const char *eq = strchr (val, '=');
          if (eq == NULL)
            return nook_error_set (err, 0, "arguments to --filter should be in form KEY=VAL");
          if (strncmp (val, "status=", 7) != 0)
            return nook_error_set (err, 0, "unknown filter %.*s", (int)(eq - val), val);
          if (ps_status_add (&status, eq + 1, err) < 0)
            return -1;
        }
      else if (strcmp (a, "--all") == 0)
        all = true;
      else if (strcmp (a, "--quiet") == 0)
        quiet = true;
      else if (strcmp (a, "--services") == 0)
        services_only = true;
      else if (strcmp (a, "--no-trunc") == 0)
        notrunc = true;
      else if (strcmp (a, "--orphans") == 0 || strcmp (a, "--orphans=true") == 0)
        orphans = true;
      else if (strcmp (a, "--orphans=false") == 0)
        orphans = false;
      else if (short_flags (a, "aq"))
        {
          all |= strchr (a, 'a') != NULL;
          quiet |= strchr (a, 'q') != NULL;
        }
      else if (a[0] == '-')
        return cmd_flag_error (err, "compose ps", "unknown flag: %s", a);
      else
        strv_push (&services, a);
    }
  if (view_open (v, true, services, err) < 0 || check_services (v, services, err) < 0)
    return -1;
  cleanup_strv char **declared = NULL;
  if (services == NULL && !orphans && v->loaded)
    declared = project_services (v);
  size_t n = 0;
  cleanup_free size_t *sel
      = view_select (v, all || status, all || status, services ? services : declared, &n);
  json_t *rows = json_array ();
  cleanup_strv char **svc_names = NULL;
  int64_t now = time (NULL);
  for (size_t k = 0; k < n; k++)
    {
      const struct ctr *c = &v->l.v[sel[k]];
      if (status && !view_strv_has (status, c->status))
        continue;
      if (quiet)
        {
          printf ("%s\n", c->id);
          continue;
        }
      if (services_only)
        {
          if (!view_strv_has (svc_names, compose_label (c, CL_SERVICE)))
            strv_push (&svc_names, compose_label (c, CL_SERVICE));
          continue;
        }
      json_t *net = run_net_inspect (v->root, c->id, c->config, c->running);
      cleanup_strv char **nets = NULL;
      const char *k2;
      json_t *x;
      json_object_foreach (json_object_get (net, "Networks"), k2, x) { strv_push (&nets, k2); }
      json_decref (net);
      json_array_append_new (rows, compose_ps_row (c, nets, now, !notrunc));
    }
  int r = 0;
  if (services_only)
    {
      for (char **s = svc_names; s && *s; s++)
        printf ("%s%s", *s, s[1] ? "\n" : "");
      printf ("\n");
    }
  else if (!quiet)
    {
      json_t *h = compose_ps_headers ();
      const char *f = *format == '\0' || strcmp (format, "table") == 0 ? COMPOSE_PS_TABLE : format;
      r = cli_format_print (f, rows, h, err);
      json_decref (h);
    }
  json_decref (rows);
  return r;
}

/* ---- ls ---- */

static bool
ls_match (json_t *names, const char *project)
{
  size_t i;
  json_t *x;
  if (json_array_size (names) == 0)
    return true;
  json_array_foreach (names, i, x)
  {
    const char *want = json_string_value (x);
    regex_t re;
    if (strcmp (want, project) == 0)
      return true;
    if (regcomp (&re, want, REG_EXTENDED | REG_NOSUB) == 0)
      {
        bool m = regexec (&re, project, 0, NULL, 0) == 0;
        regfree (&re);
        if (m)
          return true;
      }
  }
  return false;
}

static int
cmp_strp (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static int
view_ls (struct view *v, int argc, char **argv, nook_error_t *err)
{
  bool all = false, quiet = false;
  const char *format = "table";
  json_t *names = json_array ();
  int rc = 0;
  for (int i = 1; i < argc && rc == 0; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          printf ("Usage:  nook compose ls [OPTIONS]\n\nList running compose projects\n\nOptions:\n"
                  "  -a, --all             Show all stopped Compose projects\n"
                  "      --filter filter   Filter output based on conditions provided\n"
                  "      --format string   Format the output. Values: [table | json] (default "
                  "\"table\")\n"
                  "  -q, --quiet           Only display project names\n");
          json_decref (names);
          return 0;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--format", "compose ls", &val, err)) != 0)
        {
          if (r < 0)
            rc = -1;
          else
            format = val;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--filter", "compose ls", &val, err)) != 0)
        {
          const char *eq = r > 0 ? strchr (val, '=') : NULL;
          if (r < 0)
            rc = -1;
          else if (eq == NULL)
            rc = nook_error_set (err, 0, "bad format of filter (expected name=value)");
          else if (strncmp (val, "name=", 5) != 0)
            rc = nook_error_set (err, 0, "invalid filter '%.*s'", (int)(eq - val), val);
          else
            json_array_append_new (names, json_string (eq + 1));
        }
      else if (strcmp (a, "--all") == 0)
        all = true;
      else if (strcmp (a, "--quiet") == 0)
        quiet = true;
      else if (short_flags (a, "aq"))
        {
          all |= strchr (a, 'a') != NULL;
          quiet |= strchr (a, 'q') != NULL;
        }
      else if (a[0] == '-')
        rc = cmd_flag_error (err, "compose ls", "unknown flag: %s", a);
      else
        rc = cmd_args_error (err, "compose ls", "\"nook compose ls\" accepts no arguments.");
    }
  if (rc == 0 && strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    rc = nook_error_set (err, 0, "format value \"%s\" could not be parsed: parsing failed", format);
  if (rc == 0)
    {
      v->root = ctr_store_root (v->ctx->root, err);
      if (v->root == NULL || ctr_list_load (v->root, &v->l, err) < 0)
        rc = -1;
    }
  if (rc < 0)
    {
      json_decref (names);
      return -1;
    }
  /* projects: the containers with both labels, running ones unless -a */
  cleanup_strv char **projects = NULL;
  for (size_t i = 0; i < v->l.n; i++)
    {
      const struct ctr *c = &v->l.v[i];
      json_t *labels = ctr_labels (c);
      const char *p = json_string_value (json_object_get (labels, CL_PROJECT));
      if (p == NULL || json_object_get (labels, CL_HASH) == NULL || (!all && !c->running))
        continue;
      if (!view_strv_has (projects, p) && ls_match (names, p))
        strv_push (&projects, p);
    }
  size_t np = strv_len (projects);
  if (np > 1)
    qsort (projects, np, sizeof *projects, cmp_strp);
  json_t *rows = json_array ();
  for (size_t k = 0; k < np; k++)
    {
      cleanup_strv char **states = NULL, **files = NULL;
      bool na = false;
      for (size_t i = 0; i < v->l.n; i++)
        {
          const struct ctr *c = &v->l.v[i];
          json_t *labels = ctr_labels (c);
          if (json_object_get (labels, CL_HASH) == NULL || (!all && !c->running)
              || strcmp (compose_label (c, CL_PROJECT), projects[k]) != 0)
            continue;
          strv_push (&states, c->status);
          const char *f = json_string_value (json_object_get (labels, CL_FILES));
          if (f == NULL)
            {
              if (!na)
                fprintf (stderr,
                         "WARN[0000] no label \"%s\" set on container \"%s\" of compose "
                         "project\n",
                         CL_FILES, c->id);
              na = true;
              continue;
            }
          cleanup_free char *copy = xstrdup (f);
          char *save = NULL;
          for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
            if (!view_strv_has (files, t))
              strv_push (&files, t);
        }
      cleanup_free char *st = compose_combined_status (states);
      cleanup_free char *cf = NULL;
      if (na)
        cf = xstrdup ("N/A");
      else
        {
          struct strbuf b = { 0 };
          for (char **f = files; f && *f; f++)
            strbuf_appendf (&b, "%s%s", b.len ? "," : "", *f);
          cf = b.len ? strbuf_steal (&b) : xstrdup ("");
        }
      json_array_append_new (rows, json_pack ("{s:s, s:s, s:s}", "Name", projects[k], "Status", st,
                                              "ConfigFiles", cf));
    }
  if (quiet)
    for (size_t k = 0; k < np; k++)
      printf ("%s\n", projects[k]);
  else if (strcmp (format, "json") == 0)
    {
      cleanup_free char *s = json_dumps (rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
      printf ("%s\n", s ? s : "[]");
    }
  else
    {
      struct strbuf b = { 0 };
      strbuf_append (&b, "NAME\tSTATUS\tCONFIG FILES\n");
      size_t i;
      json_t *row;
      json_array_foreach (rows, i, row)
      {
        strbuf_appendf (&b, "%s\t%s\t%s\n", json_string_value (json_object_get (row, "Name")),
                        json_string_value (json_object_get (row, "Status")),
                        json_string_value (json_object_get (row, "ConfigFiles")));
      }
      cleanup_free char *raw = strbuf_steal (&b);
      cleanup_free char *t = tmpl_tabwrite_ex (raw, 20, 3);
      fputs (t, stdout);
    }
  json_decref (rows);
  json_decref (names);
  return 0;
}

/* ---- top ---- */

static int
cmd_compose_top (struct view *v, int argc, char **argv, nook_error_t *err)
{
  cleanup_strv char **services = NULL;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("Usage:  nook compose top [SERVICES...]\n\nDisplay the running processes\n");
          return 0;
        }
      if (argv[i][0] == '-')
        return cmd_flag_error (err, "compose top", "unknown flag: %s", argv[i]);
      strv_push (&services, argv[i]);
    }
  if (view_open (v, false, NULL, err) < 0)
    return -1;
  size_t n = 0;
  cleanup_free size_t *sel = view_select (v, true, false, services, &n);
  struct strbuf b = { 0 };
  strbuf_append (&b, "SERVICE\t#\tUID\tPID\tPPID\tC\tSTIME\tTTY\tTIME\tCMD\n");
  size_t head = b.len;
  for (size_t k = 0; k < n; k++)
    {
      const struct ctr *c = &v->l.v[sel[k]];
      struct strbuf rows = { 0 };
      top_rows (c, &rows);
      const char *cur = rows.buf ? rows.buf : "";
      char *line;
      while ((line = str_next_line (&cur)) != NULL)
        {
          const char *num = compose_label (c, CL_NUMBER);
          strbuf_appendf (&b, "%s\t%s\t%s\n", compose_label (c, CL_SERVICE), *num ? num : "-",
                          line);
          free (line);
        }
      strbuf_free (&rows);
    }
  if (b.len > head)
    {
      cleanup_free char *raw = strbuf_steal (&b);
      cleanup_free char *t = tmpl_tabwrite_ex (raw, 4, 2);
      fputs (t, stdout);
    }
  else
    strbuf_free (&b);
  return 0;
}

/* ---- port ---- */

static int
cmp_replica (const void *a, const void *b)
{
  const struct ctr *x = &sort_list->v[*(const size_t *)a], *y = &sort_list->v[*(const size_t *)b];
  bool ox = strcmp (compose_label (x, CL_ONEOFF), "True") == 0;
  bool oy = strcmp (compose_label (y, CL_ONEOFF), "True") == 0;
  if (ox != oy)
    return ox ? 1 : -1;
  return atoi (compose_label (x, CL_NUMBER)) - atoi (compose_label (y, CL_NUMBER));
}

static int
cmd_compose_port (struct view *v, int argc, char **argv, nook_error_t *err)
{
  const char *proto = "tcp", *args[2] = { NULL, NULL };
  int64_t index = 0;
  int nargs = 0;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          printf ("Usage:  nook compose port [OPTIONS] SERVICE PRIVATE_PORT\n\nPrint the public "
                  "port for a port binding\n\nOptions:\n"
                  "      --index int         Index of the container if service has multiple "
                  "replicas\n"
                  "      --protocol string   tcp or udp (default \"tcp\")\n");
          return 0;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--protocol", "compose port", &val, err)) != 0)
        {
          if (r < 0)
            return -1;
          proto = val;
        }
      else if ((r = cmd_opt_value (argc, argv, &i, NULL, "--index", "compose port", &val, err))
               != 0)
        {
          cleanup_error nook_error_t e = NULL;
          if (r < 0)
            return -1;
          if (parse_int (val, 0, INT32_MAX, &index, "--index", &e) < 0)
            return cmd_flag_error (err, "compose port",
                                   "invalid argument \"%s\" for \"--index\" "
                                   "flag: strconv.ParseInt: parsing \"%s\": invalid syntax",
                                   val, val);
        }
      else if (a[0] == '-')
        return cmd_flag_error (err, "compose port", "unknown flag: %s", a);
      else if (nargs < 2)
        args[nargs++] = a;
    }
  if (nargs < 2)
    return cmd_args_error (err, "compose port", "requires at least 2 arg(s), only received %d",
                           nargs);
  uint64_t port;
  cleanup_error nook_error_t pe = NULL;
  if (parse_uint (args[1], 65535, &port, "port", &pe) < 0)
    return nook_error_set (err, 0, "strconv.ParseUint: parsing \"%s\": invalid syntax", args[1]);
  cleanup_free char *lproto = lower (proto);
  if (view_open (v, false, NULL, err) < 0)
    return -1;
  char *svc[] = { (char *)args[0], NULL };
  size_t n = 0;
  cleanup_free size_t *sel = view_select (v, true, false, svc, &n);
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if (index == 0 || atoi (compose_label (&v->l.v[sel[k]], CL_NUMBER)) == index)
      sel[m++] = sel[k];
  if (m == 0)
    return index > 0 ? nook_error_set (err, 0, "service \"%s\" is not running container #%d",
                                       args[0], (int)index)
                     : nook_error_set (err, 0, "service \"%s\" is not running", args[0]);
  sort_list = &v->l;
  qsort (sel, m, sizeof *sel, cmp_replica);
  const struct ctr *c = &v->l.v[sel[0]];
  size_t np = 0;
  cleanup_free struct net_port *ports = container_ports (c->config, &np);
  struct strbuf have = { 0 };
  for (size_t i = 0; i < np; i++)
    {
      const char *pn = net_port_proto_name (ports[i].proto);
      if (ports[i].container_port == port && strcmp (pn, lproto) == 0)
        {
          printf ("%s:%u\n", *ports[i].host_ip ? ports[i].host_ip : "0.0.0.0",
                  (unsigned)ports[i].host_port);
          strbuf_free (&have);
          return 0;
        }
      strbuf_appendf (&have, "%s%u/%s", have.len ? ", " : "", (unsigned)ports[i].container_port,
                      pn);
    }
  cleanup_free char *list = have.len ? strbuf_steal (&have) : xstrdup ("");
  return nook_error_set (err, 0, "no port %u/%s for container %s: %s", (unsigned)port, lproto,
                         c->name, list);
}

/* ---- images ---- */

static int
cmd_compose_images (struct view *v, int argc, char **argv, nook_error_t *err)
{
  bool quiet = false;
  const char *format = "table";
  cleanup_strv char **services = NULL;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *val = NULL;
      int r;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          printf ("Usage:  nook compose images [OPTIONS] [SERVICE...]\n\nList images used by the "
                  "created containers\n\nOptions:\n"
                  "      --format string   Format the output. Values: [table | json] (default "
                  "\"table\")\n"
                  "  -q, --quiet           Only display IDs\n");
          return 0;
        }
      if ((r = cmd_opt_value (argc, argv, &i, NULL, "--format", "compose images", &val, err)) != 0)
        {
          if (r < 0)
            return -1;
          format = val;
        }
      else if (strcmp (a, "-q") == 0 || strcmp (a, "--quiet") == 0)
        quiet = true;
      else if (a[0] == '-')
        return cmd_flag_error (err, "compose images", "unknown flag: %s", a);
      else
        strv_push (&services, a);
    }
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return nook_error_set (err, 0, "format value \"%s\" could not be parsed: parsing failed",
                           format);
  if (view_open (v, false, NULL, err) < 0)
    return -1;
  size_t n = 0;
  cleanup_free size_t *sel = view_select (v, true, true, services, &n);
  struct imagefmt_store *s = NULL;
  if (n > 0 && imagefmt_store_open (v->ctx->root, &s, err) < 0)
    return -1;
  json_t *rows = json_array ();
  cleanup_strv char **ids = NULL;
  struct strbuf b = { 0 };
  strbuf_append (&b, "CONTAINER\tREPOSITORY\tTAG\tPLATFORM\tIMAGE ID\tSIZE\tCREATED\n");
  int64_t now = time (NULL);
  for (size_t k = 0; k < n; k++)
    {
      const struct ctr *c = &v->l.v[sel[k]];
      struct imagefmt_image_info *info = NULL;
      cleanup_error nook_error_t e = NULL;
      /* the image as the container names it; when gone, what the container knows */
      if (imagefmt_image_info_get (s, c->image, &info, &e) < 0)
        {
          nook_error_free (&e);
          if (c->image_id && imagefmt_image_info_get (s, c->image_id, &info, &e) < 0)
            info = NULL;
        }
      struct imagefmt_ref ref = { 0 };
      cleanup_error nook_error_t re = NULL;
      bool named
          = !str_has_prefix (c->image, "sha256:") && imagefmt_ref_parse (c->image, &ref, &re) == 0;
      cleanup_free char *repo = named ? imagefmt_ref_short_name (&ref) : xstrdup ("");
      const char *tag = named && ref.tag ? ref.tag : "";
      const char *id = info ? info->img->id : c->image_id ? c->image_id : "";
      json_t *cfg = info ? info->img->config : NULL;
      const char *os = json_string_value (json_object_get (cfg, "os"));
      const char *arch = json_string_value (json_object_get (cfg, "architecture"));
      const char *variant = json_string_value (json_object_get (cfg, "variant"));
      cleanup_free char *platform
          = os && arch
                ? xasprintf ("%s/%s%s%s", os, arch, variant ? "/" : "", variant ? variant : "")
                : xstrdup ("");
      const char *created = json_string_value (json_object_get (cfg, "created"));
      uint64_t size = info ? info->size : 0;
      const char *hex = str_has_prefix (id, "sha256:") ? id + 7 : id;
      if (!view_strv_has (ids, hex))
        strv_push (&ids, hex);
      json_t *row = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I}", "ID", id, "ContainerName", c->name,
                               "Repository", repo, "Tag", tag, "Platform", platform, "Size",
                               (json_int_t)size);
      if (created)
        json_object_set_new (row, "Created", json_string (created));
      json_array_append_new (rows, row);
      cleanup_free char *hs = cmd_human_size (size);
      int64_t ct = created ? imagefmt_time_parse (created) : 0;
      cleanup_free char *ago = ct > 0 ? cmd_human_since (ct, now) : xstrdup ("N/A");
      strbuf_appendf (&b, "%s\t%s\t%s\t%s\t%.12s\t%s\t%s\n", c->name, *repo ? repo : "<none>",
                      *tag ? tag : "<none>", platform, hex, hs, ago);
      imagefmt_ref_clear (&ref);
      imagefmt_image_info_free (info);
    }
  if (s)
    imagefmt_store_close (s);
  if (quiet)
    for (char **i = ids; i && *i; i++)
      printf ("%s\n", *i);
  else if (strcmp (format, "json") == 0)
    {
      cleanup_free char *j = json_dumps (rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
      printf ("%s\n", j ? j : "[]");
    }
  else
    {
      cleanup_free char *raw = strbuf_steal (&b);
      cleanup_free char *t = tmpl_tabwrite_ex (raw, 20, 3);
      fputs (t, stdout);
    }
  strbuf_free (&b);
  json_decref (rows);
  return 0;
}

int
compose_view_main (struct nook_ctx *ctx, const struct compose_options *lo, char **files, int argc,
                   char **argv, nook_error_t *err)
{
  struct view v = { .ctx = ctx, .lo = lo, .files = files };
  const char *sub = argv[0];
  int rc;
  if (strcmp (sub, "ps") == 0)
    rc = view_ps (&v, argc, argv, err);
  else if (strcmp (sub, "ls") == 0)
    rc = view_ls (&v, argc, argv, err);
  else if (strcmp (sub, "logs") == 0)
    rc = compose_view_logs (&v, argc, argv, err);
  else if (strcmp (sub, "top") == 0)
    rc = cmd_compose_top (&v, argc, argv, err);
  else if (strcmp (sub, "port") == 0)
    rc = cmd_compose_port (&v, argc, argv, err);
  else
    rc = cmd_compose_images (&v, argc, argv, err);
  view_close (&v);
  return rc;
}
