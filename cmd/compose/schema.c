/* cmd/compose/schema.c: a JSON-schema validator for the subset the Compose schema uses. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/compose/schema.h"
#include "cmd/compose/yaml.h"
#include "util/cleanup.h"
#include "util/util.h"

/* The schema file, assembled into the binary as it is (no copy to keep in sync by hand). */
__asm__(".section .rodata\n"
        ".global nook_compose_schema_text\n"
        ".type nook_compose_schema_text, @object\n"
        "nook_compose_schema_text:\n"
        ".incbin \"cmd/compose/compose-spec.json\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char nook_compose_schema_text[];

json_t *
compose_schema (void)
{
  static json_t *schema;
  if (schema == NULL)
    schema = json_loads (nook_compose_schema_text, 0, NULL);
  return schema;
}

struct val
{
  json_t *root;
  struct strbuf path; /* "services.web.ports[0]" */
  char *msg;          /* first violation, with its path */
  char *msg_path;
  char *pos_path; /* where to point, when not msg_path */
  bool trial;     /* inside a oneOf alternative: change nothing */
};

static const char *
type_name (json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      return "object";
    case JSON_ARRAY:
      return "array";
    case JSON_STRING:
      return "string";
    case JSON_INTEGER:
      return "integer";
    case JSON_REAL:
      return "number";
    case JSON_TRUE:
    case JSON_FALSE:
      return "boolean";
    default:
      return "null";
    }
}

static bool
type_is (json_t *v, const char *t)
{
  if (strcmp (t, "number") == 0)
    return json_is_number (v);
  if (strcmp (t, "integer") == 0)
    return json_is_integer (v)
           || (json_is_real (v) && json_real_value (v) == (double)(long long)json_real_value (v));
  return strcmp (t, type_name (v)) == 0;
}

static bool
type_ok (json_t *schema, json_t *v)
{
  json_t *t = json_object_get (schema, "type");
  if (t == NULL)
    return true;
  if (json_is_string (t))
    return type_is (v, json_string_value (t));
  size_t i;
  json_t *x;
  json_array_foreach (t, i, x)
  {
    if (type_is (v, json_string_value (x)))
      return true;
  }
  return false;
}

static char *
type_list (json_t *schema)
{
  json_t *t = json_object_get (schema, "type");
  if (json_is_string (t))
    return xstrdup (json_string_value (t));
  struct strbuf b = { 0 };
  size_t i;
  json_t *x;
  json_array_foreach (t, i, x)
  {
    if (i)
      strbuf_append (&b, i + 1 == json_array_size (t) ? " or " : ", ");
    strbuf_append (&b, json_string_value (x));
  }
  return strbuf_steal (&b);
}

static int fail (struct val *st, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int
fail (struct val *st, const char *fmt, ...)
{
  if (st->msg)
    return -1;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&st->msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  st->msg_path = xstrdup (st->path.buf ? st->path.buf : "");
  return -1;
}

static json_t *
resolve (struct val *st, json_t *schema)
{
  for (int i = 0; i < 16; i++)
    {
      const char *ref = json_string_value (json_object_get (schema, "$ref"));
      if (ref == NULL || strncmp (ref, "#/definitions/", 14) != 0)
        return schema;
      schema = json_object_get (json_object_get (st->root, "definitions"), ref + 14);
      if (schema == NULL)
        return json_object ();
    }
  return schema;
}

static bool
regex_match (const char *re, const char *s)
{
  regex_t r;
  if (regcomp (&r, re, REG_EXTENDED | REG_NOSUB) != 0)
    return false;
  bool ok = regexec (&r, s, 0, NULL, 0) == 0;
  regfree (&r);
  return ok;
}

static int validate (struct val *st, json_t *schema, json_t *v);

static void
path_push (struct val *st, size_t *saved, const char *key, long index)
{
  *saved = st->path.len;
  if (key)
    strbuf_appendf (&st->path, "%s%s", st->path.len ? "." : "", key);
  else
    strbuf_appendf (&st->path, "[%ld]", index);
}

static void
path_pop (struct val *st, size_t saved)
{
  st->path.len = saved;
  if (st->path.buf)
    st->path.buf[saved] = '\0';
}

/* Validate v quietly: true when it matches. */
static bool
matches (struct val *st, json_t *schema, json_t *v)
{
  struct val sub = { .root = st->root, .trial = true };
  strbuf_append (&sub.path, st->path.buf ? st->path.buf : "");
  bool ok = validate (&sub, schema, v) == 0;
  free (sub.msg);
  free (sub.msg_path);
  free (sub.pos_path);
  strbuf_free (&sub.path);
  return ok;
}

/* yes/no/on/off/true/false where the schema wants a boolean: the boolean (a new reference),
 * as Compose reads them; NULL otherwise. */
static json_t *
as_boolean (struct val *st, json_t *schema, json_t *x)
{
  if (st->trial || !json_is_string (x))
    return NULL;
  schema = resolve (st, schema);
  json_t *t = json_object_get (schema, "type");
  bool wants = false;
  size_t i;
  json_t *y;
  if (json_is_string (t))
    wants = strcmp (json_string_value (t), "boolean") == 0;
  json_array_foreach (t, i, y) { wants = wants || strcmp (json_string_value (y), "boolean") == 0; }
  if (!wants)
    return NULL;
  const char *s = json_string_value (x);
  static const char *const yes[] = { "true", "yes", "y", "on" };
  static const char *const no[] = { "false", "no", "n", "off" };
  for (size_t k = 0; k < ARRAY_SIZE (yes); k++)
    {
      if (strcasecmp (s, yes[k]) == 0)
        return json_true ();
      if (strcasecmp (s, no[k]) == 0)
        return json_false ();
    }
  return NULL;
}

static int
validate_object (struct val *st, json_t *schema, json_t *v)
{
  json_t *props = json_object_get (schema, "properties");
  json_t *pprops = json_object_get (schema, "patternProperties");
  json_t *addl = json_object_get (schema, "additionalProperties");
  json_t *req = json_object_get (schema, "required");
  size_t i;
  json_t *x;
  json_array_foreach (req, i, x)
  {
    if (json_object_get (v, json_string_value (x)) == NULL)
      return fail (st, "missing property \"%s\"", json_string_value (x));
  }
  const char *k;
  json_object_foreach (v, k, x)
  {
    bool known = false;
    size_t saved;
    json_t *sub = json_object_get (props, k);
    path_push (st, &saved, k, 0);
    json_t *b = sub ? as_boolean (st, sub, x) : NULL;
    if (b)
      {
        json_object_set_new (v, k, b); /* same key: the iteration goes on */
        x = b;
      }
    if (sub)
      {
        known = true;
        if (validate (st, sub, x) < 0)
          return -1;
      }
    const char *re;
    json_t *ps;
    json_object_foreach (pprops, re, ps)
    {
      if (regex_match (re, k))
        {
          known = true;
          if (validate (st, ps, x) < 0)
            return -1;
        }
    }
    if (!known)
      {
        if (json_is_false (addl))
          {
            path_pop (st, saved);
            /* the position is the key's own: keep its path for the lookup */
            bool first = st->msg == NULL;
            int r = fail (st, "additional property \"%s\" is not allowed", k);
            if (first
                && asprintf (&st->pos_path, "%s%s%s", st->path.buf ? st->path.buf : "",
                             st->path.len ? "." : "", k)
                       < 0)
              abort ();
            return r;
          }
        if (json_is_object (addl) && validate (st, addl, x) < 0)
          return -1;
      }
    path_pop (st, saved);
  }
  return 0;
}

static int
validate (struct val *st, json_t *schema, json_t *v)
{
  json_t *inner;
  const char *tag = compose_tag_of (v, &inner);
  if (tag && tag[0] == 'r')
    return 0;
  if (tag)
    v = inner;
  schema = resolve (st, schema);
  if (!json_is_object (schema))
    return 0;
  json_t *one = json_object_get (schema, "oneOf");
  if (one)
    {
      size_t i, n = 0, typed = 0, typed_i = 0, match_i = 0;
      json_t *alt;
      json_array_foreach (one, i, alt)
      {
        if (matches (st, alt, v))
          n++, match_i = i;
        if (type_ok (resolve (st, alt), v))
          typed++, typed_i = i;
      }
      if (n == 1)
        {
          /* again, for real: the booleans it reads are written back */
          if (!st->trial && validate (st, json_array_get (one, match_i), v) < 0)
            return -1;
          goto rest;
        }
      if (n > 1)
        return fail (st, "matches more than one of the allowed forms");
      if (typed == 1)
        return validate (st, json_array_get (one, typed_i), v);
      struct strbuf b = { 0 };
      json_array_foreach (one, i, alt)
      {
        json_t *r = resolve (st, alt);
        if (json_object_get (r, "type") == NULL)
          continue;
        cleanup_free char *tl = type_list (r);
        strbuf_appendf (&b, "%s%s", b.len ? " or " : "", tl);
      }
      cleanup_free char *types = strbuf_steal (&b);
      return fail (st, "must be a %s, not %s", *types ? types : "value of another form",
                   type_name (v));
    }
rest:
  if (!type_ok (schema, v))
    {
      cleanup_free char *tl = type_list (schema);
      return fail (st, "must be a %s, not %s", tl, type_name (v));
    }
  json_t *en = json_object_get (schema, "enum");
  if (en)
    {
      size_t i;
      json_t *x;
      bool found = false;
      json_array_foreach (en, i, x)
      {
        if (json_equal (x, v))
          found = true;
      }
      if (!found)
        {
          struct strbuf b = { 0 };
          json_array_foreach (en, i, x)
          {
            cleanup_free char *t = json_dumps (x, JSON_ENCODE_ANY);
            strbuf_appendf (&b, "%s%s", i ? ", " : "", t);
          }
          cleanup_free char *list = strbuf_steal (&b);
          return fail (st, "must be one of %s", list);
        }
    }
  if (json_is_number (v))
    {
      double d = json_number_value (v);
      json_t *mn = json_object_get (schema, "minimum"), *mx = json_object_get (schema, "maximum");
      if (mn && d < json_number_value (mn))
        return fail (st, "must be >= %g", json_number_value (mn));
      if (mx && d > json_number_value (mx))
        return fail (st, "must be <= %g", json_number_value (mx));
    }
  if (json_is_string (v))
    {
      const char *pat = json_string_value (json_object_get (schema, "pattern"));
      if (pat && !regex_match (pat, json_string_value (v)))
        return fail (st, "\"%s\" does not match the pattern %s", json_string_value (v), pat);
    }
  if (json_is_object (v))
    return validate_object (st, schema, v);
  if (json_is_array (v))
    {
      json_t *items = json_object_get (schema, "items");
      bool uniq = json_is_true (json_object_get (schema, "uniqueItems"));
      size_t i;
      json_t *x;
      json_array_foreach (v, i, x)
      {
        size_t saved;
        path_push (st, &saved, NULL, (long)i);
        if (items && validate (st, items, x) < 0)
          return -1;
        if (uniq)
          for (size_t j = 0; j < i; j++)
            if (json_equal (json_array_get (v, j), x))
              {
                cleanup_free char *t = json_dumps (x, JSON_ENCODE_ANY | JSON_COMPACT);
                return fail (st, "duplicate item %s (also at [%zu])", t, j);
              }
        path_pop (st, saved);
      }
    }
  return 0;
}

void
compose_sources_locate (json_t *sources, const char *path, const char **name, int *line, int *col)
{
  cleanup_free char *p = xstrdup (path);
  *line = *col = 0;
  *name = json_string_value (json_array_get (json_array_get (sources, 0), 0));
  for (;;)
    {
      for (size_t i = json_array_size (sources); i-- > 0 && !*line;)
        {
          json_t *src = json_array_get (sources, i);
          compose_yaml_position (json_array_get (src, 1), p, line, col);
          if (*line)
            *name = json_string_value (json_array_get (src, 0));
        }
      if (*line || *p == '\0')
        return;
      char *cut = strrchr (p, '.');
      char *br = strrchr (p, '[');
      if (br && (cut == NULL || br > cut))
        cut = br;
      if (cut == NULL)
        *p = '\0';
      else
        *cut = '\0';
    }
}

int
compose_schema_validate (json_t *schema, json_t *doc, json_t *sources, nook_error_t *err)
{
  struct val st = { .root = schema };
  strbuf_append (&st.path, "");
  int r = validate (&st, schema, doc);
  if (r < 0)
    {
      /* the nearest recorded position: the path itself, else its parents */
      const char *name;
      int line, col;
      compose_sources_locate (sources,
                              st.pos_path   ? st.pos_path
                              : st.msg_path ? st.msg_path
                                            : "",
                              &name, &line, &col);
      const char *shown = st.msg_path && *st.msg_path ? st.msg_path : "(root)";
      if (line)
        nook_error_set (err, 0, "%s:%d:%d: %s: %s", name ? name : "compose", line, col, shown,
                        st.msg);
      else
        nook_error_set (err, 0, "%s: %s: %s", name ? name : "compose", shown, st.msg);
    }
  free (st.msg);
  free (st.msg_path);
  free (st.pos_path);
  strbuf_free (&st.path);
  return r;
}
