/* cmd/compose/yaml.c: Compose YAML to jansson values through libyaml's document loader,
 * and jansson values back to YAML through libyaml's emitter. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cmd/compose/yaml.h"
#include "util/cleanup.h"
#include "util/util.h"

/* go-yaml v3 refuses documents whose aliases expand to this many nodes: an alias bomb. */
#define EXPANSION_LIMIT 400000
#define DEPTH_LIMIT 200

struct conv
{
  yaml_document_t *doc;
  const char *name;
  json_t *positions;
  size_t visits;
  int stack[DEPTH_LIMIT];
  char *stack_path[DEPTH_LIMIT];
  int depth;
};

static bool
plain_eq (const char *s, size_t len, const char *const *words)
{
  for (; *words; words++)
    if (strlen (*words) == len && memcmp (s, *words, len) == 0)
      return true;
  return false;
}

/* strtoll with Go's base 0 prefixes (0x, 0o, 0b, leading 0: octal) and a sign. */
static bool
parse_go_int (const char *s, long long *out)
{
  const char *p = s;
  bool neg = false;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (!*p)
    return false;
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
    base = 16, p += 2;
  else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
    base = 8, p += 2;
  else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
    base = 2, p += 2;
  else if (p[0] == '0' && p[1])
    base = 8, p += 1;
  if (!*p)
    return false;
  char digits[72];
  size_t n = 0;
  for (const char *q = p; *q; q++)
    {
      if (*q == '_')
        continue; /* Go's digit separators */
      if (n + 1 >= sizeof digits)
        return false;
      digits[n++] = *q;
    }
  digits[n] = '\0';
  if (n == 0 || digits[0] == '+' || digits[0] == '-')
    return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull (digits, &end, base);
  if (errno != 0 || *end != '\0' || v > (unsigned long long)LLONG_MAX + (neg ? 1 : 0))
    return false;
  *out = neg ? (long long)(0 - v) : (long long)v;
  return true;
}

json_t *
compose_yaml_scalar (const char *s, size_t len)
{
  static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
  static const char *const trues[] = { "true", "True", "TRUE", NULL };
  static const char *const falses[] = { "false", "False", "FALSE", NULL };
  static const char *const infs[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL };
  static const char *const ninfs[] = { "-.inf", "-.Inf", "-.INF", NULL };
  static const char *const nans[] = { ".nan", ".NaN", ".NAN", NULL };
  if (plain_eq (s, len, nulls))
    return json_null ();
  if (plain_eq (s, len, trues))
    return json_true ();
  if (plain_eq (s, len, falses))
    return json_false ();
  if (plain_eq (s, len, infs))
    return json_real (INFINITY);
  if (plain_eq (s, len, ninfs))
    return json_real (-INFINITY);
  if (plain_eq (s, len, nans))
    return json_real (NAN);
  if (len > 0 && len < 64 && memchr (s, '\0', len) == NULL
      && (s[0] == '-' || s[0] == '+' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9')))
    {
      char buf[64];
      memcpy (buf, s, len);
      buf[len] = '\0';
      long long iv;
      if (parse_go_int (buf, &iv))
        return json_integer (iv);
      /* go-yaml's float form: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
      const char *p = buf;
      if (*p == '-' || *p == '+')
        p++;
      bool digits = false;
      while (*p >= '0' && *p <= '9')
        p++, digits = true;
      if (*p == '.')
        {
          p++;
          bool frac = false;
          while (*p >= '0' && *p <= '9')
            p++, frac = true;
          if (!digits && !frac)
            goto string;
          digits = true;
        }
      if (digits && (*p == 'e' || *p == 'E'))
        {
          p++;
          if (*p == '-' || *p == '+')
            p++;
          bool exp = false;
          while (*p >= '0' && *p <= '9')
            p++, exp = true;
          if (!exp)
            goto string;
        }
      if (digits && *p == '\0')
        return json_real (strtod (buf, NULL));
    }
string:
  return json_stringn (s, len);
}

static int
conv_error (struct conv *c, yaml_node_t *n, nook_error_t *err, const char *msg)
{
  return nook_error_set (err, 0, "%s:%zu:%zu: %s", c->name, n->start_mark.line + 1,
                         n->start_mark.column + 1, msg);
}

static void
record (struct conv *c, const char *path, yaml_node_t *n)
{
  if (c->positions == NULL || json_object_get (c->positions, path) != NULL)
    return;
  json_object_set_new (
      c->positions, path,
      json_pack ("[II]", (json_int_t)n->start_mark.line + 1, (json_int_t)n->start_mark.column + 1));
}

static json_t *convert (struct conv *c, int id, const char *path, nook_error_t *err);

static char *
child_path (const char *path, const char *key)
{
  char *p = NULL;
  if (asprintf (&p, "%s%s%s", path, *path ? "." : "", key) < 0)
    abort ();
  return p;
}

static bool
is_merge_key (yaml_node_t *k)
{
  return k->type == YAML_SCALAR_NODE && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
         && k->data.scalar.length == 2 && memcmp (k->data.scalar.value, "<<", 2) == 0;
}

/* Merge the mapping(s) of a `<<` value into obj, keys already there winning. */
static int
merge_key (struct conv *c, json_t *obj, yaml_node_t *vn, int vid, const char *path,
           nook_error_t *err)
{
  int ids[256];
  size_t nids = 0;
  if (vn->type == YAML_MAPPING_NODE)
    ids[nids++] = vid;
  else if (vn->type == YAML_SEQUENCE_NODE)
    {
      for (yaml_node_item_t *it = vn->data.sequence.items.start;
           it < vn->data.sequence.items.top && nids < ARRAY_SIZE (ids); it++)
        {
          yaml_node_t *m = yaml_document_get_node (c->doc, *it);
          if (m == NULL || m->type != YAML_MAPPING_NODE)
            return conv_error (c, vn, err,
                               "map merge requires map or sequence of maps as the value");
          ids[nids++] = *it;
        }
    }
  else
    return conv_error (c, vn, err, "map merge requires map or sequence of maps as the value");
  for (size_t i = 0; i < nids; i++)
    {
      json_t *m = convert (c, ids[i], path, err);
      if (m == NULL)
        return -1;
      const char *k;
      json_t *v;
      json_object_foreach (m, k, v)
      {
        if (json_object_get (obj, k) == NULL)
          json_object_set (obj, k, v);
      }
      json_decref (m);
    }
  return 0;
}

static json_t *
convert_mapping (struct conv *c, yaml_node_t *n, const char *path, nook_error_t *err)
{
  json_t *obj = json_object ();
  json_t *lines = json_object (); /* key -> line, for duplicates */
  yaml_node_pair_t *merge = NULL;
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
    {
      yaml_node_t *k = yaml_document_get_node (c->doc, p->key);
      if (k == NULL)
        continue;
      if (is_merge_key (k))
        {
          merge = p;
          continue;
        }
      if (k->type != YAML_SCALAR_NODE)
        {
          conv_error (c, k, err, "a mapping key must be a scalar");
          goto fail;
        }
      cleanup_free char *key = strndup ((const char *)k->data.scalar.value, k->data.scalar.length);
      json_t *seen = json_object_get (lines, key);
      if (seen)
        {
          nook_error_set (
              err, 0,
              "%s: line %zu: mapping key \"%s\" already defined at line %" JSON_INTEGER_FORMAT,
              c->name, k->start_mark.line + 1, key, json_integer_value (seen));
          goto fail;
        }
      json_object_set_new (lines, key, json_integer ((json_int_t)k->start_mark.line + 1));
      cleanup_free char *cp = child_path (path, key);
      record (c, cp, k); /* errors point at the key */
      json_t *v = convert (c, p->value, cp, err);
      if (v == NULL)
        goto fail;
      json_object_set_new (obj, key, v);
    }
  if (merge)
    {
      yaml_node_t *vn = yaml_document_get_node (c->doc, merge->value);
      if (vn && merge_key (c, obj, vn, merge->value, path, err) < 0)
        goto fail;
    }
  json_decref (lines);
  return obj;
fail:
  json_decref (lines);
  json_decref (obj);
  return NULL;
}

static json_t *
convert (struct conv *c, int id, const char *path, nook_error_t *err)
{
  yaml_node_t *n = yaml_document_get_node (c->doc, id);
  if (n == NULL)
    return json_null ();
  if (++c->visits > EXPANSION_LIMIT)
    {
      nook_error_set (err, 0, "%s: yaml: document contains excessive aliasing", c->name);
      return NULL;
    }
  for (int i = 0; i < c->depth; i++)
    if (c->stack[i] == id)
      {
        nook_error_set (err, 0, "%s: cycle detected: node at path %s references node at path %s",
                        c->name, path, c->stack_path[i]);
        return NULL;
      }
  if (c->depth >= DEPTH_LIMIT)
    {
      conv_error (c, n, err, "nested too deeply");
      return NULL;
    }
  record (c, path, n);
  const char *tag = (const char *)n->tag;
  json_t *v = NULL;
  c->stack[c->depth] = id;
  c->stack_path[c->depth] = (char *)path;
  c->depth++;
  switch (n->type)
    {
    case YAML_SCALAR_NODE:
      {
        const char *s = (const char *)n->data.scalar.value;
        size_t len = n->data.scalar.length;
        if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE
            || (tag && strcmp (tag, YAML_STR_TAG) != 0 && tag[0] == 't'))
          v = json_stringn (s, len);
        else
          v = compose_yaml_scalar (s, len);
        if (v == NULL)
          conv_error (c, n, err, "a scalar is not valid UTF-8");
        break;
      }
    case YAML_SEQUENCE_NODE:
      v = json_array ();
      for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
           it++)
        {
          cleanup_free char *ip = NULL;
          if (asprintf (&ip, "%s[%zu]", path, json_array_size (v)) < 0)
            abort ();
          json_t *item = convert (c, *it, ip, err);
          if (item == NULL)
            {
              json_decref (v);
              v = NULL;
              break;
            }
          json_array_append_new (v, item);
        }
      break;
    case YAML_MAPPING_NODE:
      v = convert_mapping (c, n, path, err);
      break;
    default:
      v = json_null ();
      break;
    }
  c->depth--;
  if (v && tag && (strcmp (tag, "!reset") == 0 || strcmp (tag, "!override") == 0))
    {
      /* A `!reset` of a plain empty scalar is null, not "". */
      json_t *w = json_object ();
      json_object_set_new (w, tag[1] == 'r' ? COMPOSE_TAG_RESET : COMPOSE_TAG_OVERRIDE, v);
      v = w;
    }
  return v;
}

json_t *
compose_yaml_parse (const char *text, size_t len, const char *name, json_t **positions,
                    nook_error_t *err)
{
  yaml_parser_t parser;
  if (!yaml_parser_initialize (&parser))
    {
      nook_error_set (err, ENOMEM, "yaml parser");
      return NULL;
    }
  yaml_parser_set_input_string (&parser, (const unsigned char *)text, len);
  json_t *docs = json_array ();
  if (positions)
    *positions = NULL;
  for (;;)
    {
      yaml_document_t doc;
      if (!yaml_parser_load (&parser, &doc))
        {
          nook_error_set (err, 0, "%s:%zu:%zu: yaml: %s%s%s", name, parser.problem_mark.line + 1,
                          parser.problem_mark.column + 1,
                          parser.problem ? parser.problem : "syntax error",
                          parser.context ? " " : "", parser.context ? parser.context : "");
          json_decref (docs);
          docs = NULL;
          break;
        }
      yaml_node_t *root = yaml_document_get_root_node (&doc);
      if (root == NULL)
        {
          yaml_document_delete (&doc);
          break; /* end of stream */
        }
      struct conv c = { .doc = &doc, .name = name };
      if (positions && *positions == NULL)
        c.positions = *positions = json_object ();
      json_t *v = convert (&c, 1, "", err);
      yaml_document_delete (&doc);
      if (v == NULL)
        {
          json_decref (docs);
          docs = NULL;
          break;
        }
      json_array_append_new (docs, v);
    }
  yaml_parser_delete (&parser);
  if (docs == NULL && positions && *positions)
    {
      json_decref (*positions);
      *positions = NULL;
    }
  return docs;
}

const char *
compose_tag_of (json_t *v, json_t **inner)
{
  if (!json_is_object (v) || json_object_size (v) != 1)
    return NULL;
  json_t *x;
  if ((x = json_object_get (v, COMPOSE_TAG_RESET)))
    {
      if (inner)
        *inner = x;
      return "reset";
    }
  if ((x = json_object_get (v, COMPOSE_TAG_OVERRIDE)))
    {
      if (inner)
        *inner = x;
      return "override";
    }
  return NULL;
}

void
compose_tags_strip (json_t *v)
{
  if (json_is_object (v))
    {
      const char *k;
      json_t *x;
      void *tmp;
      json_object_foreach_safe (v, tmp, k, x)
      {
        json_t *inner;
        const char *t = compose_tag_of (x, &inner);
        if (t && t[0] == 'r')
          json_object_del (v, k);
        else if (t)
          {
            json_object_set (v, k, inner);
            compose_tags_strip (inner);
          }
        else
          compose_tags_strip (x);
      }
    }
  else if (json_is_array (v))
    {
      for (size_t i = 0; i < json_array_size (v);)
        {
          json_t *x = json_array_get (v, i), *inner;
          const char *t = compose_tag_of (x, &inner);
          if (t && t[0] == 'r')
            {
              json_array_remove (v, i);
              continue;
            }
          if (t)
            {
              json_array_set (v, i, inner);
              x = inner;
            }
          compose_tags_strip (x);
          i++;
        }
    }
}

void
compose_yaml_position (json_t *positions, const char *path, int *line, int *col)
{
  json_t *p = json_object_get (positions, path);
  *line = (int)json_integer_value (json_array_get (p, 0));
  *col = (int)json_integer_value (json_array_get (p, 1));
}

/* ---- emitter ---------------------------------------------------------------------------- */

static int
write_cb (void *data, unsigned char *buf, size_t size)
{
  strbuf_appendn (data, (const char *)buf, size);
  return 1;
}

static bool
scalar_needs_quotes (const char *s)
{
  json_t *t = compose_yaml_scalar (s, strlen (s));
  bool q = !json_is_string (t);
  json_decref (t);
  /* yes/no/on/off: a YAML 1.1 reader would take them as booleans. */
  static const char *const b11[] = { "y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no", "No",
                                     "NO", "on", "On",  "ON",  "off", "Off", "OFF", NULL };
  return q || plain_eq (s, strlen (s), b11);
}

static int
emit_scalar (yaml_emitter_t *e, const char *s, bool quote)
{
  yaml_event_t ev;
  yaml_scalar_event_initialize (&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen (s), !quote, 1,
                                quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
  return yaml_emitter_emit (e, &ev);
}

static int
emit_value (yaml_emitter_t *e, json_t *v)
{
  yaml_event_t ev;
  char buf[64];
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      {
        yaml_mapping_start_event_initialize (&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        if (!yaml_emitter_emit (e, &ev))
          return 0;
        const char *k;
        json_t *x;
        json_object_foreach (v, k, x)
        {
          if (!emit_scalar (e, k, scalar_needs_quotes (k)) || !emit_value (e, x))
            return 0;
        }
        yaml_mapping_end_event_initialize (&ev);
        return yaml_emitter_emit (e, &ev);
      }
    case JSON_ARRAY:
      {
        yaml_sequence_start_event_initialize (&ev, NULL, NULL, 1,
                                              json_array_size (v) ? YAML_BLOCK_SEQUENCE_STYLE
                                                                  : YAML_FLOW_SEQUENCE_STYLE);
        if (!yaml_emitter_emit (e, &ev))
          return 0;
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x)
        {
          if (!emit_value (e, x))
            return 0;
        }
        yaml_sequence_end_event_initialize (&ev);
        return yaml_emitter_emit (e, &ev);
      }
    case JSON_STRING:
      return emit_scalar (e, json_string_value (v), scalar_needs_quotes (json_string_value (v)));
    case JSON_INTEGER:
      snprintf (buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
      return emit_scalar (e, buf, false);
    case JSON_REAL:
      snprintf (buf, sizeof buf, "%.17g", json_real_value (v));
      return emit_scalar (e, buf, false);
    case JSON_TRUE:
      return emit_scalar (e, "true", false);
    case JSON_FALSE:
      return emit_scalar (e, "false", false);
    default:
      return emit_scalar (e, "null", false);
    }
}

char *
compose_yaml_emit (json_t *v)
{
  struct strbuf out = { 0 };
  yaml_emitter_t e;
  yaml_event_t ev;
  yaml_emitter_initialize (&e);
  yaml_emitter_set_output (&e, write_cb, &out);
  yaml_emitter_set_unicode (&e, 1);
  yaml_emitter_set_indent (&e, 2);
  yaml_emitter_set_width (&e, -1);
  yaml_stream_start_event_initialize (&ev, YAML_UTF8_ENCODING);
  int ok = yaml_emitter_emit (&e, &ev);
  yaml_document_start_event_initialize (&ev, NULL, NULL, NULL, 1);
  ok = ok && yaml_emitter_emit (&e, &ev);
  ok = ok && emit_value (&e, v);
  yaml_document_end_event_initialize (&ev, 1);
  ok = ok && yaml_emitter_emit (&e, &ev);
  yaml_stream_end_event_initialize (&ev);
  ok = ok && yaml_emitter_emit (&e, &ev);
  yaml_emitter_delete (&e);
  if (!ok)
    {
      strbuf_free (&out);
      return NULL;
    }
  return strbuf_steal (&out);
}
