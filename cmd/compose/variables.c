/* cmd/compose/variables.c: `nook compose config --variables`: the variables the model
 * uses, read before interpolation, with their default (`${V:-d}`, `${V-d}`), their
 * alternate value (`${V:+a}`, `${V+a}`) and whether they are required (`${V:?e}`,
 * `${V?e}`), as Compose prints them: a table (NAME REQUIRED DEFAULT VALUE ALTERNATE
 * VALUE), or --format json / yaml. */
#include "cmd/cli.h"
#include "cmd/compose/view.h"
#include "cmd/compose/yaml.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/template.h"
#include "util/util.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static int
cmp_key (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static bool
name_char (char c, bool first)
{
  return c == '_' || isalpha ((unsigned char)c) || (!first && isdigit ((unsigned char)c));
}

/* One variable reference at s[0] == '$' (s[1] != '$'): into vars; returns its length. */
static size_t
one (const char *s, json_t *vars)
{
  size_t n = 1;
  cleanup_free char *name = NULL;
  const char *def = "", *alt = "";
  bool required = false;
  cleanup_free char *rest = NULL;
  if (s[1] == '{')
    {
      int depth = 1;
      size_t e = 2;
      for (; s[e] && depth > 0; e++)
        depth += s[e] == '{' ? 1 : s[e] == '}' ? -1 : 0;
      if (depth > 0 || !name_char (s[2], true))
        return 2;
      size_t k = 2;
      while (name_char (s[k], k == 2))
        k++;
      name = xstrndup (s + 2, k - 2);
      rest = xstrndup (s + k, e - 1 - k);
      if (str_has_prefix (rest, ":?") || rest[0] == '?')
        required = true;
      else if (str_has_prefix (rest, ":-"))
        def = rest + 2;
      else if (rest[0] == '-')
        def = rest + 1;
      else if (str_has_prefix (rest, ":+"))
        alt = rest + 2;
      else if (rest[0] == '+')
        alt = rest + 1;
      n = e;
    }
  else if (name_char (s[1], true))
    {
      size_t k = 1;
      while (name_char (s[k], k == 1))
        k++;
      name = xstrndup (s + 1, k - 1);
      n = k;
    }
  if (name)
    json_object_set_new (vars, name,
                         json_pack ("{s:s, s:s, s:s, s:b}", "Name", name, "DefaultValue", def,
                                    "PresenceValue", alt, "Required", required));
  return n;
}

static void
walk (json_t *v, json_t *vars)
{
  if (json_is_string (v))
    {
      const char *s = json_string_value (v);
      for (size_t i = 0; s[i];)
        if (s[i] == '$' && s[i + 1] == '$')
          i += 2;
        else if (s[i] == '$')
          i += one (s + i, vars);
        else
          i++;
    }
  else if (json_is_object (v))
    {
      const char *k;
      json_t *x;
      json_object_foreach (v, k, x) { walk (x, vars); }
    }
  else if (json_is_array (v))
    {
      size_t i;
      json_t *x;
      json_array_foreach (v, i, x) { walk (x, vars); }
    }
}

/* The model cannot be loaded before interpolation (a short port made of a variable):
 * the files as they are, -f or those of the working directory. */
static int
raw_files (char **files, json_t *vars)
{
  static const char *const names[] = { "compose.yaml",
                                       "compose.yml",
                                       "docker-compose.yaml",
                                       "docker-compose.yml",
                                       "compose.override.yaml",
                                       "compose.override.yml",
                                       "docker-compose.override.yaml",
                                       "docker-compose.override.yml" };
  cleanup_strv char **list = NULL;
  for (char **f = files; f && *f; f++)
    strv_push (&list, *f);
  for (size_t i = 0; files == NULL && i < ARRAY_SIZE (names); i++)
    if (access (names[i], R_OK) == 0)
      strv_push (&list, names[i]);
  if (list == NULL)
    return -1;
  for (char **f = list; *f; f++)
    {
      cleanup_free char *text = NULL;
      size_t len = 0;
      cleanup_error nook_error_t e = NULL;
      if (fs_read_file_at (AT_FDCWD, *f, 64 << 20, &text, &len, &e) < 0)
        return -1;
      json_t *docs = compose_yaml_parse (text, len, *f, NULL, &e);
      if (docs == NULL)
        return -1;
      walk (docs, vars);
      json_decref (docs);
    }
  return 0;
}

int
compose_config_variables (const struct compose_options *lo, char **files, int argc, char **argv,
                          nook_error_t *err)
{
  const char *format = "";
  bool services = false;
  for (int i = 1; i < argc; i++)
    {
      const char *val = NULL;
      int r = cmd_opt_value (argc, argv, &i, NULL, "--format", "compose config", &val, err);
      if (r < 0)
        return -1;
      if (r)
        format = val;
      else if (argv[i][0] != '-')
        services = true;
    }
  if (services)
    fprintf (stderr, "WARN[0000] service filtering is not applied when --variables is set, "
                     "variables from the full model will be rendered\n");
  struct compose_options o = *lo;
  size_t n = strv_len (files);
  cleanup_free struct compose_file *fv = xzalloc ((n + 1) * sizeof *fv);
  for (size_t i = 0; i < n; i++)
    fv[i].path = files[i];
  o.files = fv;
  o.n_files = (int)n;
  o.no_interpolate = o.no_validate = o.no_normalize = o.no_consistency = true;
  o.no_resolve_paths = true;
  o.environ = json_object ();
  for (char **e = environ; e && *e; e++)
    {
      const char *eq = strchr (*e, '=');
      if (eq == NULL)
        continue;
      cleanup_free char *k = xstrndup (*e, (size_t)(eq - *e));
      json_object_set_new (o.environ, k, json_string (eq + 1));
    }
  struct compose_project p;
  cleanup_error nook_error_t le = NULL;
  int r = compose_load (&o, &p, &le);
  json_decref (o.environ);
  json_t *vars = json_object ();
  if (r == 0)
    {
      walk (p.model, vars);
      compose_project_free (&p);
    }
  else if (raw_files (files, vars) < 0)
    {
      /* not even the files as they are */
      json_decref (vars);
      *err = steal_pointer (&le);
      return -1;
    }
  /* Go's order: map keys sorted, struct fields as declared */
  {
    size_t nk = json_object_size (vars), i = 0;
    const char **keys = xzalloc (sizeof *keys * (nk + 1));
    const char *k;
    json_t *v;
    json_object_foreach (vars, k, v) keys[i++] = k;
    qsort (keys, nk, sizeof *keys, cmp_key);
    json_t *sorted = json_object ();
    for (i = 0; i < nk; i++)
      json_object_set (sorted, keys[i], json_object_get (vars, keys[i]));
    free (keys);
    json_decref (vars);
    vars = sorted;
  }
  if (strcmp (format, "json") == 0)
    {
      cleanup_free char *s = json_dumps (vars, JSON_INDENT (4));
      printf ("%s\n", s ? s : "{}");
    }
  else if (strcmp (format, "yaml") == 0)
    {
      /* go-yaml's names of the struct's fields */
      json_t *y = json_object ();
      const char *k;
      json_t *v;
      json_object_foreach (vars, k, v)
      {
        json_object_set_new (y, k,
                             json_pack ("{s:O, s:O, s:O, s:O}", "name", json_object_get (v, "Name"),
                                        "defaultvalue", json_object_get (v, "DefaultValue"),
                                        "presencevalue", json_object_get (v, "PresenceValue"),
                                        "required", json_object_get (v, "Required")));
      }
      cleanup_free char *s = compose_yaml_emit (y);
      fputs (s ? s : "{}\n", stdout);
      json_decref (y);
    }
  else if (*format == '\0' || strcmp (format, "table") == 0)
    {
      struct strbuf b = { 0 };
      strbuf_append (&b, "NAME\tREQUIRED\tDEFAULT VALUE\tALTERNATE VALUE\n");
      size_t nk = json_object_size (vars), i = 0;
      const char **keys = xzalloc (sizeof *keys * (nk + 1));
      const char *k;
      json_t *v;
      json_object_foreach (vars, k, v) keys[i++] = k;
      qsort (keys, nk, sizeof *keys, cmp_key);
      for (i = 0; i < nk; i++)
        {
          json_t *x = json_object_get (vars, keys[i]);
          strbuf_appendf (&b, "%s\t%s\t%s\t%s\n", keys[i],
                          json_is_true (json_object_get (x, "Required")) ? "true" : "false",
                          json_string_value (json_object_get (x, "DefaultValue")),
                          json_string_value (json_object_get (x, "PresenceValue")));
        }
      free (keys);
      cleanup_free char *raw = strbuf_steal (&b);
      cleanup_free char *t = tmpl_tabwrite_ex (raw, 20, 3);
      fputs (t, stdout);
    }
  else
    {
      json_decref (vars);
      return nook_error_set (err, 0, "format value \"%s\" could not be parsed: parsing failed",
                             format);
    }
  json_decref (vars);
  return 0;
}
