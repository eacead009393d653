/* util/template.c: see template.h.  A parser into a small tree (lists of text
 * and actions, control nodes holding pipelines), then an evaluator over json_t
 * values where NULL means "no value" (a missing key). */
#include "util/template.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_OUTPUT (64u << 20)

/* ---- the tree ---- */

enum arg_kind
{
  A_DOT,  /* . or .A.B */
  A_VAR,  /* $ or $x, then .A.B */
  A_LIT,  /* string, number, bool, nil */
  A_FUNC, /* a function name */
  A_PIPE, /* ( pipeline ), then .A.B */
};

struct pipe;

struct arg
{
  enum arg_kind kind;
  char *name;   /* A_VAR: "$", "$x"; A_FUNC: the function */
  char **chain; /* field names after it */
  json_t *lit;  /* A_LIT (json null for nil) */
  struct pipe *pipe;
};

struct cmd
{
  struct arg *args;
  size_t n;
};

struct pipe
{
  char *decl[2]; /* $x := ...  or  $i, $e := ... (range) */
  size_t ndecl;
  struct cmd *cmds;
  size_t n;
};

enum node_kind
{
  N_TEXT,
  N_ACTION,
  N_IF,
  N_RANGE,
  N_WITH,
};

struct list;

struct node
{
  enum node_kind kind;
  char *text;
  struct pipe *pipe;
  struct list *body, *els;
};

struct list
{
  struct node *v;
  size_t n;
};

struct tmpl
{
  struct list *root;
};

static void pipe_free (struct pipe *p);
static void list_free (struct list *l);

static void
arg_clear (struct arg *a)
{
  free (a->name);
  strv_free (a->chain);
  json_decref (a->lit);
  pipe_free (a->pipe);
}

static void
pipe_free (struct pipe *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n; i++)
    {
      for (size_t j = 0; j < p->cmds[i].n; j++)
        arg_clear (&p->cmds[i].args[j]);
      free (p->cmds[i].args);
    }
  free (p->cmds);
  free (p->decl[0]);
  free (p->decl[1]);
  free (p);
}

static void
list_free (struct list *l)
{
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->v[i].text);
      pipe_free (l->v[i].pipe);
      list_free (l->v[i].body);
      list_free (l->v[i].els);
    }
  free (l->v);
  free (l);
}

void
tmpl_free (struct tmpl *t)
{
  if (t == NULL)
    return;
  list_free (t->root);
  free (t);
}

/* ---- the parser ---- */

struct parser
{
  const char *s;  /* the whole text */
  const char *p;  /* the cursor */
  bool in_action; /* inside {{ }} */
  bool trim_next; /* the last action ended with -}} */
  int depth;
  nook_error_t *err;
};

static int
line_of (const struct parser *ps)
{
  int line = 1;
  for (const char *c = ps->s; c < ps->p && *c; c++)
    line += *c == '\n';
  return line;
}

static int perr (struct parser *ps, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
perr (struct parser *ps, const char *fmt, ...)
{
  if (*ps->err)
    return -1;
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return nook_error_set (ps->err, 0, "template: :%d: %s", line_of (ps), msg);
}

static void
skip_space (struct parser *ps)
{
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
    ps->p++;
}

/* At the end of an action: "}}" or " -}}" (the blank was skipped). */
static bool
at_close (struct parser *ps)
{
  if (ps->p[0] == '}' && ps->p[1] == '}')
    return true;
  return ps->p[0] == '-' && ps->p[1] == '}' && ps->p[2] == '}' && ps->p > ps->s
         && isspace ((unsigned char)ps->p[-1]);
}

static int
expect_close (struct parser *ps)
{
  skip_space (ps);
  if (!at_close (ps))
    {
      if (*ps->p == '\0')
        return perr (ps, "unclosed action");
      return perr (ps, "unexpected \"%.1s\" in command", ps->p);
    }
  if (*ps->p == '-')
    {
      ps->p += 3;
      ps->trim_next = true;
    }
  else
    ps->p += 2;
  ps->in_action = false;
  return 0;
}

static bool
is_ident_char (char c)
{
  return isalnum ((unsigned char)c) || c == '_';
}

/* A word of identifier characters at the cursor (may be empty). */
static char *
take_ident (struct parser *ps)
{
  const char *b = ps->p;
  while (is_ident_char (*ps->p))
    ps->p++;
  return xstrndup (b, (size_t)(ps->p - b));
}

/* .A.B.C after an operand (the cursor on the first '.'). */
static int
take_chain (struct parser *ps, char ***chain)
{
  while (ps->p[0] == '.' && is_ident_char (ps->p[1]))
    {
      ps->p++;
      char *f = take_ident (ps);
      if (isdigit ((unsigned char)f[0]))
        {
          free (f);
          return perr (ps, "bad field name");
        }
      strv_push_take (chain, f);
    }
  if (ps->p[0] == '.')
    return perr (ps, "unexpected . after term");
  return 0;
}

static int
take_string (struct parser *ps, json_t **out)
{
  struct strbuf b = { 0 };
  char q = *ps->p++;
  for (;;)
    {
      char c = *ps->p;
      if (c == '\0' || (c == '\n' && q == '"'))
        {
          strbuf_free (&b);
          return perr (ps, "unterminated quoted string");
        }
      ps->p++;
      if (c == q)
        break;
      if (c != '\\' || q == '`')
        {
          strbuf_appendc (&b, c);
          continue;
        }
      char e = *ps->p++;
      switch (e)
        {
        case 'n':
          strbuf_appendc (&b, '\n');
          break;
        case 't':
          strbuf_appendc (&b, '\t');
          break;
        case 'r':
          strbuf_appendc (&b, '\r');
          break;
        case '\\':
        case '"':
          strbuf_appendc (&b, e);
          break;
        case 'x':
          if (isxdigit ((unsigned char)ps->p[0]) && isxdigit ((unsigned char)ps->p[1]))
            {
              char hex[3] = { ps->p[0], ps->p[1], 0 };
              strbuf_appendc (&b, (char)strtol (hex, NULL, 16));
              ps->p += 2;
              break;
            }
          /* fall through */
        default:
          strbuf_free (&b);
          return perr (ps, "invalid syntax in quoted string");
        }
    }
  char *s = strbuf_steal (&b);
  *out = json_string (s);
  free (s);
  if (*out == NULL)
    return perr (ps, "invalid UTF-8 in quoted string");
  return 0;
}

static int
take_number (struct parser *ps, json_t **out)
{
  const char *b = ps->p;
  if (*ps->p == '-' || *ps->p == '+')
    ps->p++;
  bool real = false;
  while (isalnum ((unsigned char)*ps->p) || *ps->p == '.'
         || ((*ps->p == '-' || *ps->p == '+') && (ps->p[-1] == 'e' || ps->p[-1] == 'E')))
    {
      if (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')
        real = true;
      ps->p++;
    }
  cleanup_free char *text = xstrndup (b, (size_t)(ps->p - b));
  char *end = NULL;
  errno = 0;
  if (!real)
    {
      long long v = strtoll (text, &end, 0);
      if (errno == 0 && *end == '\0')
        {
          *out = json_integer (v);
          return 0;
        }
    }
  errno = 0;
  double d = strtod (text, &end);
  if (errno != 0 || *end != '\0' || !isfinite (d))
    return perr (ps, "bad number syntax: \"%s\"", text);
  *out = json_real (d);
  return 0;
}

static struct pipe *parse_pipe (struct parser *ps, bool decl_ok, bool in_paren);

static bool known_function (const char *name);

/* One operand; returns 0, 1 when none is here (end of the command), -1 on error. */
static int
parse_operand (struct parser *ps, struct arg *a)
{
  memset (a, 0, sizeof *a);
  char c = *ps->p;
  if (c == '.')
    {
      a->kind = A_DOT;
      if (!is_ident_char (ps->p[1]))
        {
          ps->p++;
          if (ps->p[0] == '.')
            return perr (ps, "unexpected . after term");
          return 0;
        }
      return take_chain (ps, &a->chain);
    }
  if (c == '$')
    {
      ps->p++;
      cleanup_free char *n = take_ident (ps);
      a->kind = A_VAR;
      a->name = xasprintf ("$%s", n);
      return take_chain (ps, &a->chain);
    }
  if (c == '"' || c == '`')
    {
      a->kind = A_LIT;
      return take_string (ps, &a->lit);
    }
  if (isdigit ((unsigned char)c) || ((c == '-' || c == '+') && isdigit ((unsigned char)ps->p[1])))
    {
      a->kind = A_LIT;
      return take_number (ps, &a->lit);
    }
  if (c == '(')
    {
      ps->p++;
      if (++ps->depth > MAX_DEPTH)
        return perr (ps, "nesting too deep");
      a->kind = A_PIPE;
      a->pipe = parse_pipe (ps, false, true);
      ps->depth--;
      if (a->pipe == NULL)
        return -1;
      skip_space (ps);
      if (*ps->p != ')')
        return perr (ps, "unclosed left paren");
      ps->p++;
      return take_chain (ps, &a->chain);
    }
  if (isalpha ((unsigned char)c) || c == '_')
    {
      cleanup_free char *w = take_ident (ps);
      if (strcmp (w, "true") == 0 || strcmp (w, "false") == 0)
        {
          a->kind = A_LIT;
          a->lit = json_boolean (w[0] == 't');
          return 0;
        }
      if (strcmp (w, "nil") == 0)
        {
          a->kind = A_LIT;
          a->lit = json_null ();
          return 0;
        }
      if (!known_function (w))
        return perr (ps, "function \"%s\" not defined", w);
      a->kind = A_FUNC;
      a->name = steal_pointer (&w);
      return 0;
    }
  return 1;
}

static int
parse_cmd (struct parser *ps, struct cmd *cmd, bool in_paren)
{
  memset (cmd, 0, sizeof *cmd);
  for (;;)
    {
      skip_space (ps);
      if (at_close (ps) || *ps->p == '|' || *ps->p == '\0' || (in_paren && *ps->p == ')'))
        break;
      if (cmd->n && !isspace ((unsigned char)ps->p[-1]) && ps->p[-1] != ')')
        return perr (ps, "missing space before \"%.1s\"", ps->p);
      struct arg a;
      int r = parse_operand (ps, &a);
      if (r != 0)
        {
          arg_clear (&a);
          if (r > 0)
            return perr (ps, "unexpected \"%.1s\" in operand", ps->p);
          return -1;
        }
      cmd->args = xreallocarray (cmd->args, cmd->n + 1, sizeof *cmd->args);
      cmd->args[cmd->n++] = a;
    }
  if (cmd->n == 0)
    return perr (ps, "missing value for command");
  return 0;
}

/* $x := or $i, $e := at the cursor (only where declarations are allowed). */
static void
parse_decl (struct parser *ps, struct pipe *p)
{
  const char *save = ps->p;
  for (size_t k = 0; k < 2; k++)
    {
      skip_space (ps);
      if (*ps->p != '$')
        break;
      const char *b = ps->p++;
      while (is_ident_char (*ps->p))
        ps->p++;
      cleanup_free char *name = xstrndup (b, (size_t)(ps->p - b));
      skip_space (ps);
      if (ps->p[0] == ':' && ps->p[1] == '=')
        {
          ps->p += 2;
          p->decl[p->ndecl++] = steal_pointer (&name);
          return;
        }
      if (k == 0 && ps->p[0] == ',')
        {
          ps->p++;
          p->decl[p->ndecl++] = steal_pointer (&name);
          continue;
        }
      break;
    }
  /* not a declaration: back to the start */
  free (p->decl[0]);
  free (p->decl[1]);
  p->decl[0] = p->decl[1] = NULL;
  p->ndecl = 0;
  ps->p = save;
}

static struct pipe *
parse_pipe (struct parser *ps, bool decl_ok, bool in_paren)
{
  struct pipe *p = xzalloc (sizeof *p);
  if (decl_ok)
    parse_decl (ps, p);
  for (;;)
    {
      struct cmd cmd;
      if (parse_cmd (ps, &cmd, in_paren) < 0)
        {
          for (size_t j = 0; j < cmd.n; j++)
            arg_clear (&cmd.args[j]);
          free (cmd.args);
          pipe_free (p);
          return NULL;
        }
      p->cmds = xreallocarray (p->cmds, p->n + 1, sizeof *p->cmds);
      p->cmds[p->n++] = cmd;
      skip_space (ps);
      if (*ps->p != '|')
        break;
      ps->p++;
    }
  for (size_t i = 1; i < p->n; i++)
    if (p->cmds[i].args[0].kind == A_LIT)
      {
        pipe_free (p);
        perr (ps, "non executable command in pipeline stage %zu", i + 1);
        return NULL;
      }
  return p;
}

/* What ended a list: end of text, {{end}}, {{else}} (maybe "else if"). */
enum list_end
{
  END_EOF,
  END_END,
  END_ELSE,
  END_ELSE_IF,
};

static struct list *parse_list (struct parser *ps, enum list_end *end);

static void
list_add (struct list *l, struct node n)
{
  l->v = xreallocarray (l->v, l->n + 1, sizeof *l->v);
  l->v[l->n++] = n;
}

/* After {{if / range / with: pipeline, }}, body, maybe else, {{end}}.  For "else
 * if", the else list holds one N_IF whose own {{end}} closes both. */
static int
parse_control (struct parser *ps, enum node_kind kind, struct node *n)
{
  memset (n, 0, sizeof *n);
  n->kind = kind;
  if (++ps->depth > MAX_DEPTH)
    return perr (ps, "nesting too deep");
  n->pipe = parse_pipe (ps, kind == N_RANGE || kind == N_WITH || kind == N_IF, false);
  if (n->pipe == NULL || expect_close (ps) < 0)
    return -1;
  if (n->pipe->ndecl == 2 && kind != N_RANGE)
    return perr (ps, "too many declarations in %s", kind == N_IF ? "if" : "with");
  enum list_end end;
  n->body = parse_list (ps, &end);
  if (n->body == NULL)
    return -1;
  if (end == END_ELSE_IF && kind != N_RANGE)
    {
      n->els = xzalloc (sizeof *n->els);
      struct node sub;
      int r = parse_control (ps, N_IF, &sub);
      list_add (n->els, sub);
      ps->depth--;
      return r;
    }
  if (end == END_ELSE)
    {
      n->els = parse_list (ps, &end);
      if (n->els == NULL)
        return -1;
    }
  if (end != END_END)
    return perr (ps, "unexpected %s", end == END_EOF ? "EOF" : "{{else}}");
  ps->depth--;
  return 0;
}

static bool
keyword (struct parser *ps, const char *kw)
{
  size_t n = strlen (kw);
  if (strncmp (ps->p, kw, n) != 0 || is_ident_char (ps->p[n]))
    return false;
  ps->p += n;
  return true;
}

/* The action after "{{" (and its trim marker): a node into l, or an end marker. */
static int
parse_action (struct parser *ps, struct list *l, enum list_end *end, bool *ended)
{
  skip_space (ps);
  if (ps->p[0] == '/' && ps->p[1] == '*')
    {
      const char *e = strstr (ps->p + 2, "*/");
      if (e == NULL)
        return perr (ps, "unclosed comment");
      ps->p = e + 2;
      return expect_close (ps);
    }
  struct node n = { 0 };
  if (keyword (ps, "end"))
    {
      *end = END_END;
      *ended = true;
      return expect_close (ps);
    }
  if (keyword (ps, "else"))
    {
      skip_space (ps);
      *ended = true;
      if (keyword (ps, "if"))
        {
          *end = END_ELSE_IF;
          return 0;
        }
      *end = END_ELSE;
      return expect_close (ps);
    }
  int r = 0;
  enum node_kind k = N_ACTION;
  if (keyword (ps, "if"))
    k = N_IF;
  else if (keyword (ps, "range"))
    k = N_RANGE;
  else if (keyword (ps, "with"))
    k = N_WITH;
  else if (keyword (ps, "define") || keyword (ps, "template") || keyword (ps, "block")
           || keyword (ps, "break") || keyword (ps, "continue"))
    return perr (ps, "this action is not supported by nook's templates");
  if (k != N_ACTION)
    r = parse_control (ps, k, &n);
  else
    {
      n.kind = N_ACTION;
      n.pipe = parse_pipe (ps, true, false);
      r = n.pipe == NULL ? -1 : expect_close (ps);
    }
  list_add (l, n);
  return r;
}

static struct list *
parse_list (struct parser *ps, enum list_end *end)
{
  struct list *l = xzalloc (sizeof *l);
  *end = END_EOF;
  while (*ps->p)
    {
      const char *open = strstr (ps->p, "{{");
      const char *stop = open ? open : ps->p + strlen (ps->p);
      const char *b = ps->p;
      if (ps->trim_next)
        while (b < stop && isspace ((unsigned char)*b))
          b++;
      ps->trim_next = false;
      bool trim_before = open && open[2] == '-' && isspace ((unsigned char)open[3]);
      const char *e = stop;
      if (trim_before)
        while (e > b && isspace ((unsigned char)e[-1]))
          e--;
      if (e > b)
        list_add (l, (struct node){ .kind = N_TEXT, .text = xstrndup (b, (size_t)(e - b)) });
      if (open == NULL)
        {
          ps->p = stop;
          break;
        }
      ps->p = open + (trim_before ? 4 : 2);
      ps->in_action = true;
      bool ended = false;
      if (parse_action (ps, l, end, &ended) < 0)
        {
          list_free (l);
          return NULL;
        }
      if (ended)
        return l;
    }
  return l;
}

struct tmpl *
tmpl_parse (const char *text, nook_error_t *err)
{
  struct parser ps = { .s = text, .p = text, .err = err };
  enum list_end end;
  struct list *l = parse_list (&ps, &end);
  if (l == NULL)
    return NULL;
  if (end != END_EOF)
    {
      list_free (l);
      perr (&ps, "unexpected {{%s}}", end == END_END ? "end" : "else");
      return NULL;
    }
  struct tmpl *t = xzalloc (sizeof *t);
  t->root = l;
  return t;
}

/* ---- values ---- */

/* Go's %v of a float64 (strconv 'g' with the shortest digits; an exponent when
 * it is below -4 or at least 21 digits... as fmt does: at least the precision,
 * 6 for the shortest form unless all digits are integral). */
static void
print_real (struct strbuf *b, double v)
{
  if (isnan (v))
    {
      strbuf_append (b, "NaN");
      return;
    }
  if (isinf (v))
    {
      strbuf_append (b, v > 0 ? "+Inf" : "-Inf");
      return;
    }
  char buf[64];
  int prec = 1;
  for (; prec < 17; prec++)
    {
      snprintf (buf, sizeof buf, "%.*e", prec - 1, v);
      if (strtod (buf, NULL) == v)
        break;
    }
  snprintf (buf, sizeof buf, "%.*e", prec - 1, v);
  int exp = atoi (strchr (buf, 'e') + 1);
  int eprec = 6;
  if (eprec > prec && prec >= exp + 1)
    eprec = prec;
  if (exp < -4 || exp >= eprec)
    {
      /* mantissa without trailing zeros, exponent with at least two digits */
      char *e = strchr (buf, 'e');
      *e = '\0';
      strbuf_appendf (b, "%se%c%02d", buf, exp < 0 ? '-' : '+', abs (exp));
      return;
    }
  int decimals = prec - 1 - exp;
  snprintf (buf, sizeof buf, "%.*f", decimals > 0 ? decimals : 0, v);
  strbuf_append (b, buf);
}

static int
cmp_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object in Go's map order (sorted).  Free the array only. */
static const char **
sorted_keys (json_t *o, size_t *n)
{
  *n = json_object_size (o);
  const char **k = xzalloc (sizeof *k * (*n + 1));
  size_t i = 0;
  const char *key;
  json_t *v;
  json_object_foreach (o, key, v) k[i++] = key;
  qsort (k, *n, sizeof *k, cmp_keys);
  return k;
}

static void
print_value (struct strbuf *b, json_t *v, bool header)
{
  if (v == NULL)
    {
      if (!header)
        strbuf_append (b, "<no value>");
      return;
    }
  switch (json_typeof (v))
    {
    case JSON_STRING:
      strbuf_appendn (b, json_string_value (v), json_string_length (v));
      break;
    case JSON_INTEGER:
      strbuf_appendf (b, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
      break;
    case JSON_REAL:
      print_real (b, json_real_value (v));
      break;
    case JSON_TRUE:
      strbuf_append (b, "true");
      break;
    case JSON_FALSE:
      strbuf_append (b, "false");
      break;
    case JSON_NULL:
      strbuf_append (b, "<nil>");
      break;
    case JSON_ARRAY:
      {
        strbuf_appendc (b, '[');
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e)
        {
          if (i)
            strbuf_appendc (b, ' ');
          print_value (b, e, false);
        }
        strbuf_appendc (b, ']');
        break;
      }
    case JSON_OBJECT:
      {
        size_t n;
        const char **k = sorted_keys (v, &n);
        strbuf_append (b, "map[");
        for (size_t i = 0; i < n; i++)
          {
            if (i)
              strbuf_appendc (b, ' ');
            strbuf_appendf (b, "%s:", k[i]);
            print_value (b, json_object_get (v, k[i]), false);
          }
        strbuf_appendc (b, ']');
        free (k);
        break;
      }
    }
}

static char *
value_text (json_t *v)
{
  struct strbuf b = { 0 };
  print_value (&b, v, false);
  return strbuf_steal (&b);
}

static bool
truth (json_t *v)
{
  if (v == NULL)
    return false;
  switch (json_typeof (v))
    {
    case JSON_STRING:
      return json_string_length (v) > 0;
    case JSON_INTEGER:
      return json_integer_value (v) != 0;
    case JSON_REAL:
      return json_real_value (v) != 0;
    case JSON_TRUE:
      return true;
    case JSON_FALSE:
    case JSON_NULL:
      return false;
    case JSON_ARRAY:
      return json_array_size (v) > 0;
    case JSON_OBJECT:
      return json_object_size (v) > 0;
    }
  return false;
}

static const char *
type_name (json_t *v)
{
  if (v == NULL)
    return "<no value>";
  switch (json_typeof (v))
    {
    case JSON_STRING:
      return "string";
    case JSON_INTEGER:
      return "int";
    case JSON_REAL:
      return "float64";
    case JSON_TRUE:
    case JSON_FALSE:
      return "bool";
    case JSON_NULL:
      return "<nil>";
    case JSON_ARRAY:
      return "[]interface {}";
    case JSON_OBJECT:
      return "map[string]interface {}";
    }
  return "?";
}

/* ---- evaluation ---- */

struct var
{
  char *name;
  json_t *value;
};

struct exec
{
  json_t *root;
  bool header;
  struct var *vars;
  size_t nvars;
  struct strbuf *out;
  nook_error_t *err;
  int depth;
};

static int xerr (struct exec *x, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
xerr (struct exec *x, const char *fmt, ...)
{
  if (*x->err)
    return -1;
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return nook_error_set (x->err, 0, "template: executing: %s", msg);
}

static void
var_push (struct exec *x, const char *name, json_t *v)
{
  x->vars = xreallocarray (x->vars, x->nvars + 1, sizeof *x->vars);
  x->vars[x->nvars++] = (struct var){ xstrdup (name), json_incref (v) };
}

static void
vars_pop_to (struct exec *x, size_t n)
{
  while (x->nvars > n)
    {
      x->nvars--;
      free (x->vars[x->nvars].name);
      json_decref (x->vars[x->nvars].value);
    }
}

/* A field of v: missing keys give NULL (no value); only objects have fields. */
static int
field (struct exec *x, json_t *v, const char *name, json_t **out)
{
  if (v == NULL || json_is_null (v))
    {
      *out = NULL; /* Go: <no value> once a key is missing */
      return 0;
    }
  if (!json_is_object (v))
    return xerr (x, "can't evaluate field %s in type %s", name, type_name (v));
  *out = json_incref (json_object_get (v, name));
  return 0;
}

static int
follow_chain (struct exec *x, json_t *v, char **chain, size_t upto, json_t **out)
{
  json_t *cur = json_incref (v);
  for (size_t i = 0; chain && chain[i] && i < upto; i++)
    {
      json_t *next = NULL;
      int r = field (x, cur, chain[i], &next);
      json_decref (cur);
      if (r < 0)
        return -1;
      cur = next;
    }
  *out = cur;
  return 0;
}

static int eval_pipe (struct exec *x, json_t *dot, const struct pipe *p, json_t **out);

/* The value an operand starts from (before its chain). */
static int
arg_base (struct exec *x, json_t *dot, const struct arg *a, json_t **out)
{
  switch (a->kind)
    {
    case A_DOT:
      *out = json_incref (dot);
      return 0;
    case A_VAR:
      for (size_t i = x->nvars; i-- > 0;)
        if (strcmp (x->vars[i].name, a->name) == 0)
          {
            *out = json_incref (x->vars[i].value);
            return 0;
          }
      return xerr (x, "undefined variable: %s", a->name);
    case A_LIT:
      *out = json_incref (a->lit);
      return 0;
    case A_PIPE:
      return eval_pipe (x, dot, a->pipe, out);
    case A_FUNC:
      break;
    }
  return xerr (x, "internal: bad operand");
}

static int eval_arg (struct exec *x, json_t *dot, const struct arg *a, json_t **out);

/* ---- functions ---- */

typedef int (*func_fn) (struct exec *x, json_t **argv, size_t argc, json_t **out);

static const char *
str_arg (json_t *v)
{
  return json_is_string (v) ? json_string_value (v) : NULL;
}

static json_t *
str_take (char *s)
{
  json_t *j = json_stringn_nocheck (s, strlen (s));
  free (s);
  return j;
}

static int
want_args (struct exec *x, const char *fn, size_t argc, size_t want)
{
  if (argc != want)
    return xerr (x, "wrong number of args for %s: want %zu got %zu", fn, want, argc);
  return 0;
}

static int
fn_json (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  if (want_args (x, "json", argc, 1) < 0)
    return -1;
  char *s = argv[0] ? json_dumps (argv[0], JSON_ENCODE_ANY | JSON_COMPACT) : xstrdup ("null");
  if (s == NULL)
    return xerr (x, "error calling json: a value cannot be encoded (invalid UTF-8?)");
  *out = str_take (s);
  return 0;
}

static int
case_map (struct exec *x, const char *fn, json_t **argv, size_t argc, json_t **out, int mode)
{
  if (want_args (x, fn, argc, 1) < 0)
    return -1;
  char *s = value_text (argv[0]);
  bool start = true;
  for (char *c = s; *c; c++)
    {
      if (mode == 0)
        *c = (char)toupper ((unsigned char)*c);
      else if (mode == 1)
        *c = (char)tolower ((unsigned char)*c);
      else
        {
          if (start && isalpha ((unsigned char)*c))
            *c = (char)toupper ((unsigned char)*c);
          start = !isalnum ((unsigned char)*c);
        }
    }
  *out = str_take (s);
  return 0;
}

static int
fn_upper (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  return case_map (x, "upper", argv, argc, out, 0);
}

static int
fn_lower (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  return case_map (x, "lower", argv, argc, out, 1);
}

static int
fn_title (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  return case_map (x, "title", argv, argc, out, 2);
}

static int
fn_join (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  if (want_args (x, "join", argc, 2) < 0)
    return -1;
  if (!json_is_array (argv[0]) || str_arg (argv[1]) == NULL)
    return xerr (x, "error calling join: want a list and a string");
  struct strbuf b = { 0 };
  size_t i;
  json_t *e;
  json_array_foreach (argv[0], i, e)
  {
    if (i)
      strbuf_append (&b, str_arg (argv[1]));
    print_value (&b, e, false);
  }
  *out = str_take (strbuf_steal (&b));
  return 0;
}

static int
fn_split (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  if (want_args (x, "split", argc, 2) < 0)
    return -1;
  const char *s = str_arg (argv[0]), *sep = str_arg (argv[1]);
  if (s == NULL || sep == NULL)
    return xerr (x, "error calling split: want two strings");
  json_t *a = json_array ();
  size_t sl = strlen (sep);
  if (sl == 0)
    for (const char *c = s; *c; c++)
      json_array_append_new (a, json_stringn_nocheck (c, 1));
  else
    for (const char *c = s;;)
      {
        const char *f = strstr (c, sep);
        json_array_append_new (a, json_stringn_nocheck (c, f ? (size_t)(f - c) : strlen (c)));
        if (f == NULL)
          break;
        c = f + sl;
      }
  *out = a;
  return 0;
}

static int
int_arg (struct exec *x, const char *fn, json_t *v, long long *n)
{
  if (!json_is_integer (v))
    return xerr (x, "error calling %s: want an integer, got %s", fn, type_name (v));
  *n = json_integer_value (v);
  return 0;
}

static int
fn_pad (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  long long before = 0, after = 0;
  if (want_args (x, "pad", argc, 3) < 0 || int_arg (x, "pad", argv[1], &before) < 0
      || int_arg (x, "pad", argv[2], &after) < 0)
    return -1;
  if (before < 0 || after < 0 || before > 4096 || after > 4096)
    return xerr (x, "error calling pad: bad width");
  cleanup_free char *s = value_text (argv[0]);
  *out = str_take (xasprintf ("%*s%s%*s", (int)before, "", s, (int)after, ""));
  return 0;
}

static int
fn_truncate (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  long long n = 0;
  if (want_args (x, "truncate", argc, 2) < 0 || int_arg (x, "truncate", argv[1], &n) < 0)
    return -1;
  char *s = value_text (argv[0]);
  if (n >= 0 && (size_t)n < strlen (s))
    s[n] = '\0';
  *out = str_take (s);
  return 0;
}

static void
sprint (struct strbuf *b, json_t **argv, size_t argc, bool ln)
{
  for (size_t i = 0; i < argc; i++)
    {
      /* Sprint: a space between operands when neither is a string; Sprintln: always */
      if (i && (ln || (!json_is_string (argv[i - 1]) && !json_is_string (argv[i]))))
        strbuf_appendc (b, ' ');
      print_value (b, argv[i], false);
    }
  if (ln)
    strbuf_appendc (b, '\n');
}

static int
fn_print (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  struct strbuf b = { 0 };
  sprint (&b, argv, argc, false);
  *out = str_take (strbuf_steal (&b));
  return 0;
}

static int
fn_println (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  struct strbuf b = { 0 };
  sprint (&b, argv, argc, true);
  *out = str_take (strbuf_steal (&b));
  return 0;
}

static void
pad_to (struct strbuf *b, const char *s, int width, bool left, char fill)
{
  int len = (int)strlen (s);
  if (!left)
    for (int i = len; i < width; i++)
      strbuf_appendc (b, fill);
  strbuf_append (b, s);
  if (left)
    for (int i = len; i < width; i++)
      strbuf_appendc (b, ' ');
}

static int
fn_printf (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  if (argc < 1 || str_arg (argv[0]) == NULL)
    return xerr (x, "error calling printf: want a format string");
  struct strbuf b = { 0 };
  size_t next = 1;
  for (const char *f = str_arg (argv[0]); *f; f++)
    {
      if (*f != '%')
        {
          strbuf_appendc (&b, *f);
          continue;
        }
      bool left = false, zero = false;
      for (f++; *f == '-' || *f == '0'; f++)
        left |= *f == '-', zero |= *f == '0';
      int width = 0;
      for (; isdigit ((unsigned char)*f) && width < 4096; f++)
        width = width * 10 + (*f - '0');
      if (*f == '\0')
        {
          strbuf_append (&b, "%!(NOVERB)");
          break;
        }
      if (*f == '%')
        {
          strbuf_appendc (&b, '%');
          continue;
        }
      if (next >= argc)
        {
          strbuf_appendf (&b, "%%!%c(MISSING)", *f);
          continue;
        }
      json_t *v = argv[next++];
      cleanup_free char *s = NULL;
      switch (*f)
        {
        case 's':
        case 'v':
          s = value_text (v);
          break;
        case 'd':
          s = json_is_integer (v) ? xasprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (v))
                                  : xasprintf ("%%!d(%s)", type_name (v));
          break;
        case 'x':
          s = json_is_integer (v) ? xasprintf ("%llx", (long long)json_integer_value (v))
                                  : xasprintf ("%%!x(%s)", type_name (v));
          break;
        case 'q':
          {
            cleanup_free char *t = value_text (v);
            json_t *j = json_string (t);
            s = j ? json_dumps (j, JSON_ENCODE_ANY) : xstrdup ("\"\"");
            json_decref (j);
            break;
          }
        default:
          s = xasprintf ("%%!%c(%s)", *f, type_name (v));
        }
      pad_to (&b, s, width, left, zero && !left ? '0' : ' ');
    }
  for (; next < argc; next++)
    {
      cleanup_free char *s = value_text (argv[next]);
      strbuf_appendf (&b, "%%!(EXTRA %s=%s)", type_name (argv[next]), s);
    }
  *out = str_take (strbuf_steal (&b));
  return 0;
}

static int
fn_len (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  if (want_args (x, "len", argc, 1) < 0)
    return -1;
  json_t *v = argv[0];
  size_t n;
  if (json_is_string (v))
    n = json_string_length (v);
  else if (json_is_array (v))
    n = json_array_size (v);
  else if (json_is_object (v))
    n = json_object_size (v);
  else
    return xerr (x, "error calling len: len of type %s", type_name (v));
  *out = json_integer ((json_int_t)n);
  return 0;
}

static int
fn_index (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  if (argc < 1)
    return want_args (x, "index", argc, 1);
  json_t *cur = json_incref (argv[0]);
  for (size_t i = 1; i < argc; i++)
    {
      json_t *k = argv[i], *next = NULL;
      if (json_is_object (cur) && json_is_string (k))
        next = json_incref (json_object_get (cur, json_string_value (k)));
      else if ((json_is_array (cur) || json_is_string (cur)) && json_is_integer (k))
        {
          json_int_t n = json_integer_value (k);
          size_t size = json_is_array (cur) ? json_array_size (cur) : json_string_length (cur);
          if (n < 0 || (size_t)n >= size)
            {
              json_decref (cur);
              return xerr (x, "error calling index: index out of range: %" JSON_INTEGER_FORMAT, n);
            }
          next = json_is_array (cur) ? json_incref (json_array_get (cur, (size_t)n))
                                     : json_integer ((unsigned char)json_string_value (cur)[n]);
        }
      else if (cur == NULL || json_is_null (cur))
        next = NULL;
      else
        {
          json_decref (cur);
          return xerr (x, "error calling index: can't index item of type %s", type_name (cur));
        }
      json_decref (cur);
      cur = next;
    }
  *out = cur;
  return 0;
}

static int
fn_slice (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  if (argc < 1 || argc > 3)
    return xerr (x, "wrong number of args for slice: want 1 to 3 got %zu", argc);
  json_t *v = argv[0];
  bool str = json_is_string (v);
  if (!str && !json_is_array (v))
    return xerr (x, "error calling slice: can't slice item of type %s", type_name (v));
  long long size = str ? (long long)json_string_length (v) : (long long)json_array_size (v);
  long long lo = 0, hi = size;
  if ((argc > 1 && int_arg (x, "slice", argv[1], &lo) < 0)
      || (argc > 2 && int_arg (x, "slice", argv[2], &hi) < 0))
    return -1;
  if (lo < 0 || hi < lo || hi > size)
    return xerr (x, "error calling slice: index out of range");
  if (str)
    *out = json_stringn_nocheck (json_string_value (v) + lo, (size_t)(hi - lo));
  else
    {
      json_t *a = json_array ();
      for (long long i = lo; i < hi; i++)
        json_array_append (a, json_array_get (v, (size_t)i));
      *out = a;
    }
  return 0;
}

/* -2 when not comparable, else <0, 0, >0. */
static int
compare (json_t *a, json_t *b)
{
  if (a == NULL || b == NULL)
    return a == b ? 0 : -2;
  if (json_is_number (a) && json_is_number (b))
    {
      if (json_is_integer (a) && json_is_integer (b))
        {
          json_int_t x = json_integer_value (a), y = json_integer_value (b);
          return x < y ? -1 : x > y;
        }
      double x = json_number_value (a), y = json_number_value (b);
      return x < y ? -1 : x > y;
    }
  if (json_is_string (a) && json_is_string (b))
    {
      int c = strcmp (json_string_value (a), json_string_value (b));
      return c < 0 ? -1 : c > 0;
    }
  if (json_is_boolean (a) && json_is_boolean (b))
    return json_is_true (a) == json_is_true (b) ? 0 : -3; /* bools: only equal or not */
  if (json_is_null (a) && json_is_null (b))
    return 0;
  return -2;
}

static int
cmp_fn (struct exec *x, const char *fn, json_t **argv, size_t argc, json_t **out)
{
  bool eq = strcmp (fn, "eq") == 0, ne = strcmp (fn, "ne") == 0;
  if (argc < 2 || (!eq && argc != 2))
    return xerr (x, "wrong number of args for %s: want 2 got %zu", fn, argc);
  bool result = false;
  for (size_t i = 1; i < argc && !result; i++)
    {
      int c = compare (argv[0], argv[i]);
      if (c == -2)
        return xerr (x, "error calling %s: incompatible types for comparison", fn);
      if (c == -3 && !eq && !ne)
        return xerr (x, "error calling %s: invalid type for comparison", fn);
      if (eq)
        result = c == 0;
      else if (ne)
        result = c != 0;
      else if (strcmp (fn, "lt") == 0)
        result = c < 0;
      else if (strcmp (fn, "le") == 0)
        result = c <= 0;
      else if (strcmp (fn, "gt") == 0)
        result = c > 0;
      else
        result = c >= 0;
    }
  *out = json_boolean (result);
  return 0;
}

#define CMP_FN(name)                                                                               \
  static int fn_##name (struct exec *x, json_t **argv, size_t argc, json_t **out)                  \
  {                                                                                                \
    return cmp_fn (x, #name, argv, argc, out);                                                     \
  }
CMP_FN (eq)
CMP_FN (ne)
CMP_FN (lt)
CMP_FN (le)
CMP_FN (gt)
CMP_FN (ge)

static int
fn_not (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  if (want_args (x, "not", argc, 1) < 0)
    return -1;
  *out = json_boolean (!truth (argv[0]));
  return 0;
}

/* and/or: Go returns the first falsy (and) / truthy (or) argument, else the last. */
static int
andor (struct exec *x, const char *fn, json_t **argv, size_t argc, json_t **out, bool want)
{
  if (argc < 1)
    return xerr (x, "wrong number of args for %s: want at least 1 got 0", fn);
  for (size_t i = 0; i < argc; i++)
    if (truth (argv[i]) == want || i == argc - 1)
      {
        *out = json_incref (argv[i]);
        return 0;
      }
  return 0;
}

static int
fn_and (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  return andor (x, "and", argv, argc, out, false);
}

static int
fn_or (struct exec *x, json_t **argv, size_t argc, json_t **out)
{
  return andor (x, "or", argv, argc, out, true);
}

static const struct
{
  const char *name;
  func_fn fn;
  bool header_passes; /* Docker's header functions return their argument */
} functions[] = {
  { "json", fn_json, true },        { "upper", fn_upper, true },
  { "lower", fn_lower, true },      { "title", fn_title, true },
  { "join", fn_join, true },        { "split", fn_split, true },
  { "pad", fn_pad, true },          { "truncate", fn_truncate, true },
  { "print", fn_print, false },     { "printf", fn_printf, false },
  { "println", fn_println, false }, { "len", fn_len, false },
  { "index", fn_index, false },     { "slice", fn_slice, false },
  { "eq", fn_eq, false },           { "ne", fn_ne, false },
  { "lt", fn_lt, false },           { "le", fn_le, false },
  { "gt", fn_gt, false },           { "ge", fn_ge, false },
  { "not", fn_not, false },         { "and", fn_and, false },
  { "or", fn_or, false },
};

static bool
known_function (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (functions); i++)
    if (strcmp (functions[i].name, name) == 0)
      return true;
  return false;
}

static void
values_free (json_t **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    json_decref (v[i]);
  free (v);
}

static int
call (struct exec *x, json_t *dot, const struct cmd *c, json_t *final, bool has_final, json_t **out)
{
  const char *name = c->args[0].name;
  size_t argc = c->n - 1 + (has_final ? 1 : 0);
  json_t **argv = xzalloc (sizeof *argv * (argc + 1));
  for (size_t i = 1; i < c->n; i++)
    if (eval_arg (x, dot, &c->args[i], &argv[i - 1]) < 0)
      {
        values_free (argv, argc);
        return -1;
      }
  if (has_final)
    argv[argc - 1] = json_incref (final);
  int r = -1;
  for (size_t i = 0; i < ARRAY_SIZE (functions); i++)
    if (strcmp (functions[i].name, name) == 0)
      {
        if (x->header && functions[i].header_passes)
          {
            *out = argc ? json_incref (argv[0]) : NULL;
            r = 0;
          }
        else
          r = functions[i].fn (x, argv, argc, out);
        break;
      }
  values_free (argv, argc);
  return r;
}

/* {{.Label "k"}}: the value of label k of the receiver (its Labels, an object
 * or Docker's "k=v,k2=v2" text); "" when there is none. */
static int
method_label (struct exec *x, json_t *recv, json_t **argv, size_t argc, json_t **out)
{
  if (argc != 1 || str_arg (argv[0]) == NULL)
    return xerr (x, "wrong number of args for Label: want 1 string");
  const char *k = str_arg (argv[0]);
  json_t *labels = json_is_object (recv) ? json_object_get (recv, "Labels") : NULL;
  if (json_is_object (labels))
    {
      json_t *v = json_object_get (labels, k);
      *out = v ? json_incref (v) : json_string ("");
      return 0;
    }
  const char *s = str_arg (labels);
  size_t kl = strlen (k);
  for (; s && *s;)
    {
      size_t n = strcspn (s, ",");
      if (n > kl && strncmp (s, k, kl) == 0 && s[kl] == '=')
        {
          *out = json_stringn_nocheck (s + kl + 1, n - kl - 1);
          return 0;
        }
      s += n + (s[n] == ',');
    }
  *out = json_string ("");
  return 0;
}

static int
eval_cmd (struct exec *x, json_t *dot, const struct cmd *c, json_t *final, bool has_final,
          json_t **out)
{
  const struct arg *a = &c->args[0];
  if (a->kind == A_FUNC)
    return call (x, dot, c, final, has_final, out);
  if (c->n == 1 && !has_final)
    return eval_arg (x, dot, a, out);
  /* arguments given to a field: a method; nook knows Label */
  size_t nchain = strv_len (a->chain);
  if (nchain == 0 || strcmp (a->chain[nchain - 1], "Label") != 0)
    return xerr (x, "can't give argument to non-function %s",
                 nchain ? a->chain[nchain - 1] : "operand");
  json_t *base = NULL, *recv = NULL;
  if (arg_base (x, dot, a, &base) < 0)
    return -1;
  int r = follow_chain (x, base, a->chain, nchain - 1, &recv);
  json_decref (base);
  if (r < 0)
    return -1;
  size_t argc = c->n - 1 + (has_final ? 1 : 0);
  json_t **argv = xzalloc (sizeof *argv * (argc + 1));
  for (size_t i = 1; i < c->n && r == 0; i++)
    r = eval_arg (x, dot, &c->args[i], &argv[i - 1]);
  if (has_final)
    argv[argc - 1] = json_incref (final);
  if (r == 0)
    {
      if (x->header)
        *out = NULL;
      else
        r = method_label (x, recv, argv, argc, out);
    }
  values_free (argv, argc);
  json_decref (recv);
  return r;
}

static int
eval_arg (struct exec *x, json_t *dot, const struct arg *a, json_t **out)
{
  if (a->kind == A_FUNC)
    {
      struct cmd c = { .args = (struct arg *)a, .n = 1 };
      return call (x, dot, &c, NULL, false, out);
    }
  json_t *base = NULL;
  if (arg_base (x, dot, a, &base) < 0)
    return -1;
  int r = follow_chain (x, base, a->chain, SIZE_MAX, out);
  json_decref (base);
  return r;
}

static int
eval_pipe (struct exec *x, json_t *dot, const struct pipe *p, json_t **out)
{
  if (++x->depth > MAX_DEPTH)
    return xerr (x, "nesting too deep");
  json_t *v = NULL;
  for (size_t i = 0; i < p->n; i++)
    {
      json_t *next = NULL;
      if (eval_cmd (x, dot, &p->cmds[i], v, i > 0, &next) < 0)
        {
          json_decref (v);
          return -1;
        }
      json_decref (v);
      v = next;
    }
  x->depth--;
  *out = v;
  return 0;
}

static int exec_list (struct exec *x, json_t *dot, const struct list *l);

static int
check_size (struct exec *x)
{
  if (x->out->len > MAX_OUTPUT)
    return xerr (x, "output larger than %u MiB", MAX_OUTPUT >> 20);
  return 0;
}

static int
exec_range (struct exec *x, json_t *dot, const struct node *n, json_t *v)
{
  size_t mark = x->nvars;
  size_t count = json_is_array (v)    ? json_array_size (v)
                 : json_is_object (v) ? json_object_size (v)
                                      : 0;
  if (v && !json_is_array (v) && !json_is_object (v) && !json_is_null (v))
    return xerr (x, "range can't iterate over %s", type_name (v));
  if (count == 0)
    return n->els ? exec_list (x, dot, n->els) : 0;
  const char **keys = NULL;
  size_t nk = 0;
  if (json_is_object (v))
    keys = sorted_keys (v, &nk);
  int r = 0;
  for (size_t i = 0; i < count && r == 0; i++)
    {
      json_t *elem = keys ? json_object_get (v, keys[i]) : json_array_get (v, i);
      json_t *key = keys ? json_string (keys[i]) : json_integer ((json_int_t)i);
      if (n->pipe->ndecl == 1)
        var_push (x, n->pipe->decl[0], elem);
      else if (n->pipe->ndecl == 2)
        {
          var_push (x, n->pipe->decl[0], key);
          var_push (x, n->pipe->decl[1], elem);
        }
      json_decref (key);
      r = exec_list (x, elem, n->body);
      if (r == 0)
        r = check_size (x);
      vars_pop_to (x, mark);
    }
  free (keys);
  return r;
}

static int
exec_node (struct exec *x, json_t *dot, const struct node *n)
{
  json_t *v = NULL;
  int r = 0;
  size_t mark = x->nvars;
  switch (n->kind)
    {
    case N_TEXT:
      strbuf_append (x->out, n->text);
      return check_size (x);
    case N_ACTION:
      if (eval_pipe (x, dot, n->pipe, &v) < 0)
        return -1;
      if (n->pipe->ndecl)
        var_push (x, n->pipe->decl[0], v); /* stays for the rest of the list */
      else
        print_value (x->out, v, x->header);
      json_decref (v);
      return check_size (x);
    case N_IF:
    case N_WITH:
      if (eval_pipe (x, dot, n->pipe, &v) < 0)
        return -1;
      if (n->pipe->ndecl)
        var_push (x, n->pipe->decl[0], v);
      if (truth (v))
        r = exec_list (x, n->kind == N_WITH ? v : dot, n->body);
      else if (n->els)
        r = exec_list (x, dot, n->els);
      vars_pop_to (x, mark);
      json_decref (v);
      return r;
    case N_RANGE:
      if (eval_pipe (x, dot, n->pipe, &v) < 0)
        return -1;
      r = exec_range (x, dot, n, v);
      json_decref (v);
      return r;
    }
  return 0;
}

static int
exec_list (struct exec *x, json_t *dot, const struct list *l)
{
  if (++x->depth > MAX_DEPTH)
    return xerr (x, "nesting too deep");
  size_t mark = x->nvars;
  int r = 0;
  for (size_t i = 0; i < l->n && r == 0; i++)
    r = exec_node (x, dot, &l->v[i]);
  vars_pop_to (x, mark);
  x->depth--;
  return r;
}

int
tmpl_exec (const struct tmpl *t, json_t *data, bool header, struct strbuf *out, nook_error_t *err)
{
  struct exec x = { .root = data, .header = header, .out = out, .err = err };
  var_push (&x, "$", data);
  int r = exec_list (&x, data, t->root);
  vars_pop_to (&x, 0);
  free (x.vars);
  return r;
}

/* ---- tables ---- */

/* Display width of a cell: UTF-8 code points (no wide characters here). */
static size_t
cell_width (const char *s, size_t n)
{
  size_t w = 0;
  for (size_t i = 0; i < n; i++)
    w += ((unsigned char)s[i] & 0xC0) != 0x80;
  return w;
}

char *
tmpl_tabwrite (const char *text)
{
  return tmpl_tabwrite_ex (text, 10, 3);
}

char *
tmpl_tabwrite_ex (const char *text, size_t MINWIDTH, size_t PADDING)
{
  /* A cell is terminated by a tab (the last cell of a line is not aligned); each
   * column is as wide as its widest cell plus the padding, at least MINWIDTH. */
  size_t *width = NULL, ncol = 0;
  for (const char *l = text; *l;)
    {
      const char *eol = strchrnul (l, '\n');
      size_t col = 0;
      for (const char *c = l;; col++)
        {
          const char *tab = memchr (c, '\t', (size_t)(eol - c));
          if (tab == NULL)
            break;
          size_t w = cell_width (c, (size_t)(tab - c)) + PADDING;
          if (col >= ncol)
            {
              width = xreallocarray (width, col + 1, sizeof *width);
              width[col] = MINWIDTH;
              ncol = col + 1;
            }
          if (w > width[col])
            width[col] = w;
          c = tab + 1;
        }
      l = *eol ? eol + 1 : eol;
    }
  struct strbuf b = { 0 };
  for (const char *l = text; *l;)
    {
      const char *eol = strchrnul (l, '\n');
      const char *c = l;
      for (size_t col = 0;; col++)
        {
          const char *tab = memchr (c, '\t', (size_t)(eol - c));
          if (tab == NULL)
            break;
          strbuf_appendn (&b, c, (size_t)(tab - c));
          for (size_t w = cell_width (c, (size_t)(tab - c)); w < width[col]; w++)
            strbuf_appendc (&b, ' ');
          c = tab + 1;
        }
      strbuf_appendn (&b, c, (size_t)(eol - c));
      if (*eol)
        strbuf_appendc (&b, '\n');
      l = *eol ? eol + 1 : eol;
    }
  free (width);
  return strbuf_steal (&b);
}

int
tmpl_format_rows (const char *format, json_t *rows, json_t *headers, struct strbuf *out,
                  nook_error_t *err)
{
  size_t i;
  json_t *row;
  if (strcmp (format, "json") == 0)
    {
      json_array_foreach (rows, i, row)
      {
        char *s = json_dumps (row, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s == NULL)
          return nook_error_set (err, 0, "a row cannot be encoded as JSON");
        strbuf_appendf (out, "%s\n", s);
        free (s);
      }
      return 0;
    }
  bool table = str_has_prefix (format, "table ") || str_has_prefix (format, "table\t");
  const char *text = table ? format + 6 : format;
  /* Docker's CLI turns the two characters \t and \n of a --format into a tab and
   * a newline (a shell's single quotes keep them as typed). */
  struct strbuf tb = { 0 };
  for (const char *c = text; *c; c++)
    if (c[0] == '\\' && (c[1] == 't' || c[1] == 'n'))
      strbuf_appendc (&tb, *++c == 't' ? '\t' : '\n');
    else
      strbuf_appendc (&tb, *c);
  cleanup_free char *src = strbuf_steal (&tb);
  struct tmpl *t = tmpl_parse (src, err);
  if (t == NULL)
    return nook_error_wrap (err, "template parsing error");
  struct strbuf b = { 0 };
  int r = 0;
  if (table)
    {
      json_t *h = headers ? headers : json_object ();
      r = tmpl_exec (t, h, true, &b, err);
      strbuf_appendc (&b, '\n');
      if (h != headers)
        json_decref (h);
    }
  json_array_foreach (rows, i, row)
  {
    if (r < 0)
      break;
    r = tmpl_exec (t, row, false, &b, err);
    strbuf_appendc (&b, '\n');
  }
  tmpl_free (t);
  if (r < 0)
    {
      strbuf_free (&b);
      return -1;
    }
  if (table)
    {
      cleanup_free char *raw = strbuf_steal (&b);
      cleanup_free char *aligned = tmpl_tabwrite (raw);
      strbuf_append (out, aligned);
    }
  else
    {
      strbuf_appendn (out, b.buf ? b.buf : "", b.len);
      strbuf_free (&b);
    }
  return 0;
}
