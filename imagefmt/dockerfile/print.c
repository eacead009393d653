/* imagefmt/dockerfile/print.c: the parse tree in BuildKit's notation (what its
 * parser tests compare: `(keyword ["--flag"] "arg" ...)`, Go strconv.Quote
 * quoting) and as JSON (jansson). */
#include "imagefmt/dockerfile/internal.h"
#include "imagefmt/dockerfile/parser.h"
#include "util/cleanup.h"

#include <jansson.h>
#include <string.h>

void
dockerfile_quote (struct strbuf *out, const char *s, size_t len)
{
  strbuf_appendc (out, '"');
  for (size_t i = 0; i < len;)
    {
      unsigned char c = (unsigned char)s[i];
      uint32_t cp;
      size_t w;
      cp = (uint32_t)dockerfile_decode_rune ((const unsigned char *)s + i, len - i, &w);
      if (cp == 0xfffd && w == 1 && c >= 0x80)
        {
          strbuf_appendf (out, "\\x%02x", c);
          i++;
          continue;
        }
      i += w;
      switch (cp)
        {
        case '"':
          strbuf_append (out, "\\\"");
          continue;
        case '\\':
          strbuf_append (out, "\\\\");
          continue;
        case '\a':
          strbuf_append (out, "\\a");
          continue;
        case '\b':
          strbuf_append (out, "\\b");
          continue;
        case '\f':
          strbuf_append (out, "\\f");
          continue;
        case '\n':
          strbuf_append (out, "\\n");
          continue;
        case '\r':
          strbuf_append (out, "\\r");
          continue;
        case '\t':
          strbuf_append (out, "\\t");
          continue;
        case '\v':
          strbuf_append (out, "\\v");
          continue;
        default:
          break;
        }
      if (dockerfile_rune_is_print (cp))
        strbuf_appendn (out, s + i - w, w);
      else if (cp < 0x20 || cp == 0x7f)
        strbuf_appendf (out, "\\x%02x", (unsigned)cp);
      else if (cp < 0x10000)
        strbuf_appendf (out, "\\u%04x", (unsigned)cp);
      else
        strbuf_appendf (out, "\\U%08x", (unsigned)cp);
    }
  strbuf_appendc (out, '"');
}

void
dockerfile_node_print_buildkit (const struct dockerfile_node *n, struct strbuf *out)
{
  strbuf_appendc (out, '(');
  strbuf_append (out, n->keyword);
  if (n->flags && n->flags[0])
    {
      strbuf_append (out, " [");
      for (size_t i = 0; n->flags[i]; i++)
        {
          if (i > 0)
            strbuf_appendc (out, ' ');
          dockerfile_quote (out, n->flags[i], strlen (n->flags[i]));
        }
      strbuf_appendc (out, ']');
    }
  if (n->next)
    {
      strbuf_appendc (out, ' ');
      dockerfile_node_print_buildkit (n->next, out);
    }
  for (size_t i = 0; i < n->n_args; i++)
    {
      strbuf_appendc (out, ' ');
      dockerfile_quote (out, n->args[i], n->args_len[i]);
    }
  strbuf_appendc (out, ')');
}

void
dockerfile_print_buildkit (const struct dockerfile *df, struct strbuf *out)
{
  for (size_t i = 0; i < df->n_nodes; i++)
    {
      dockerfile_node_print_buildkit (&df->nodes[i], out);
      strbuf_appendc (out, '\n');
    }
}

/* jansson refuses invalid UTF-8: fall back to the bytes as Latin-1. */
static json_t *
json_bytes (const char *s, size_t len)
{
  json_t *j = json_stringn (s, len);
  if (j)
    return j;
  struct strbuf b = { 0 };
  for (size_t i = 0; i < len; i++)
    dockerfile_utf8_append (&b, (unsigned char)s[i]);
  j = json_stringn (b.buf ? b.buf : "", b.len);
  strbuf_free (&b);
  return j;
}

static json_t *
json_strv (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_bytes (v[i], strlen (v[i])));
  return a;
}

static json_t *
node_json (const struct dockerfile_node *n)
{
  json_t *o = json_object ();
  json_t *args = json_array ();
  json_t *hds = json_array ();
  json_object_set_new (o, "keyword", json_bytes (n->keyword, strlen (n->keyword)));
  json_object_set_new (o, "original", json_bytes (n->original, strlen (n->original)));
  json_object_set_new (o, "start_line", json_integer (n->start_line));
  json_object_set_new (o, "end_line", json_integer (n->end_line));
  json_t *flags = json_array ();
  for (size_t i = 0; n->flags && n->flags[i]; i++)
    json_array_append_new (flags, json_bytes (n->flags[i], strlen (n->flags[i])));
  json_object_set_new (o, "flags", flags);
  for (size_t i = 0; i < n->n_args; i++)
    json_array_append_new (args, json_bytes (n->args[i], n->args_len[i]));
  json_object_set_new (o, "args", args);
  json_object_set_new (o, "json", json_boolean (n->json_form));
  for (size_t i = 0; i < n->n_heredocs; i++)
    {
      const struct dockerfile_heredoc *h = &n->heredocs[i];
      json_t *hj = json_object ();
      json_object_set_new (hj, "name", json_bytes (h->name, strlen (h->name)));
      json_object_set_new (hj, "content", json_bytes (h->content, strlen (h->content)));
      json_object_set_new (hj, "expand", json_boolean (h->expand));
      json_object_set_new (hj, "strip_tabs", json_boolean (h->strip_tabs));
      json_object_set_new (hj, "fd", json_integer (h->fd));
      json_array_append_new (hds, hj);
    }
  json_object_set_new (o, "heredocs", hds);
  if (n->next)
    json_object_set_new (o, "next", node_json (n->next));
  return o;
}

char *
dockerfile_print_json (const struct dockerfile *df)
{
  json_t *root = json_object ();
  json_t *nodes = json_array ();
  json_t *dirs = json_object ();
  char esc[2] = { df->escape, '\0' };
  json_object_set_new (root, "escape", json_string (esc));
  if (df->escape_directive)
    json_object_set_new (dirs, "escape", json_string (esc));
  if (df->syntax)
    json_object_set_new (dirs, "syntax", json_bytes (df->syntax, strlen (df->syntax)));
  if (df->check)
    json_object_set_new (dirs, "check", json_bytes (df->check, strlen (df->check)));
  json_object_set_new (root, "directives", dirs);
  json_object_set_new (root, "start_line", json_integer (df->start_line));
  json_object_set_new (root, "end_line", json_integer (df->end_line));
  for (size_t i = 0; i < df->n_nodes; i++)
    json_array_append_new (nodes, node_json (&df->nodes[i]));
  json_object_set_new (root, "instructions", nodes);
  json_object_set_new (root, "warnings", json_strv (df->warnings));
  char *text = json_dumps (root, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  json_decref (root);
  if (text == NULL)
    oom ();
  char *r = xasprintf ("%s\n", text);
  free (text);
  return r;
}
