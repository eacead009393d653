/* cmd/compose/interp.c: interpolation and env files. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/compose/interp.h"
#include "util/cleanup.h"
#include "util/util.h"

struct sub
{
  const char *s; /* the whole template, for errors */
  const char *p;
  compose_lookup_fn lookup;
  void *data;
  json_t *unset;
};

static bool
name_start (char c)
{
  return c == '_' || isalpha ((unsigned char)c);
}

static bool
name_char (char c)
{
  return c == '_' || isalnum ((unsigned char)c);
}

static int
invalid (struct sub *st, nook_error_t *err)
{
  return nook_error_set (err, 0, "Invalid template: \"%s\"", st->s);
}

/* Expand from st->p into out (when eval) until the end, or, in a word (nested), until an
 * unmatched '}' (left at st->p). */
static int expand (struct sub *st, bool nested, bool eval, struct strbuf *out, nook_error_t *err);

static const char *
lookup (struct sub *st, const char *name, bool eval)
{
  if (!eval)
    return NULL;
  return st->lookup (st->data, name);
}

static int
braced (struct sub *st, bool eval, struct strbuf *out, nook_error_t *err)
{
  /* st->p is just after "${" */
  const char *n = st->p;
  while (name_char (*st->p))
    st->p++;
  if (st->p == n)
    return invalid (st, err);
  cleanup_free char *name = strndup (n, (size_t)(st->p - n));
  bool colon = false;
  char op = 0;
  if (*st->p == '}')
    {
      st->p++;
      const char *v = lookup (st, name, eval);
      if (eval && v == NULL && st->unset)
        json_object_set_new (st->unset, name, json_true ());
      if (eval && v)
        strbuf_append (out, v);
      return 0;
    }
  if (*st->p == ':')
    colon = true, st->p++;
  if (*st->p == '-' || *st->p == '?' || *st->p == '+')
    op = *st->p++;
  else
    return invalid (st, err);
  const char *v = lookup (st, name, eval);
  bool set = v != NULL && (!colon || *v != '\0');
  bool use_word = (op == '-' && !set) || (op == '+' && set) || (op == '?' && !set);
  struct strbuf word = { 0 };
  if (expand (st, true, eval && use_word, &word, err) < 0)
    {
      strbuf_free (&word);
      return -1;
    }
  if (*st->p != '}')
    {
      strbuf_free (&word);
      return invalid (st, err);
    }
  st->p++;
  if (eval)
    {
      if (op == '?' && !set)
        {
          if (word.len)
            nook_error_set (err, 0, "required variable %s is missing a value: %s", name, word.buf);
          else
            nook_error_set (err, 0, "required variable %s is missing a value", name);
          strbuf_free (&word);
          return -1;
        }
      if (use_word)
        strbuf_appendn (out, word.buf ? word.buf : "", word.len);
      else if (op != '+' && v)
        strbuf_append (out, v);
    }
  strbuf_free (&word);
  return 0;
}

static int
expand (struct sub *st, bool nested, bool eval, struct strbuf *out, nook_error_t *err)
{
  int depth = 0;
  while (*st->p)
    {
      char c = *st->p;
      if (c == '$')
        {
          char d = st->p[1];
          if (d == '$')
            {
              if (eval)
                strbuf_appendc (out, '$');
              st->p += 2;
            }
          else if (d == '{')
            {
              st->p += 2;
              if (braced (st, eval, out, err) < 0)
                return -1;
            }
          else if (name_start (d))
            {
              const char *n = ++st->p;
              while (name_char (*st->p))
                st->p++;
              cleanup_free char *name = strndup (n, (size_t)(st->p - n));
              const char *v = lookup (st, name, eval);
              if (eval && v == NULL && st->unset)
                json_object_set_new (st->unset, name, json_true ());
              if (eval && v)
                strbuf_append (out, v);
            }
          else
            {
              if (eval)
                strbuf_appendc (out, '$');
              st->p++;
            }
          continue;
        }
      if (nested && c == '{')
        depth++;
      else if (nested && c == '}')
        {
          if (depth == 0)
            return 0;
          depth--;
        }
      if (eval)
        strbuf_appendc (out, c);
      st->p++;
    }
  return 0;
}

char *
compose_interpolate (const char *s, compose_lookup_fn fn, void *data, json_t *unset,
                     nook_error_t *err)
{
  struct sub st = { .s = s, .p = s, .lookup = fn, .data = data, .unset = unset };
  struct strbuf out = { 0 };
  if (strchr (s, '$') == NULL)
    return xstrdup (s);
  if (expand (&st, false, true, &out, err) < 0)
    {
      strbuf_free (&out);
      return NULL;
    }
  return strbuf_steal (&out);
}

const char *
compose_lookup_json (void *obj, const char *name)
{
  return json_string_value (json_object_get (obj, name));
}

/* ---- env files ------------------------------------------------------------------------ */

struct two_env
{
  json_t *env, *read;
};

static const char *
lookup_two (void *data, const char *name)
{
  struct two_env *t = data;
  const char *v = t->env ? json_string_value (json_object_get (t->env, name)) : NULL;
  return v ? v : json_string_value (json_object_get (t->read, name));
}

static bool
key_char (unsigned char c)
{
  return c == '_' || c == '.' || c == '-' || c == '[' || c == ']' || isalnum (c) || c >= 0x80;
}

/* The value of a double-quoted string: Compose's escapes; `\$` stays a literal `$`
 * (written `$$` for the interpolation that follows). */
static void
unescape_double (const char *s, size_t n, struct strbuf *out)
{
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] != '\\' || i + 1 >= n)
        {
          strbuf_appendc (out, s[i]);
          continue;
        }
      char c = s[++i];
      switch (c)
        {
        case 'a':
          strbuf_appendc (out, '\a');
          break;
        case 'b':
          strbuf_appendc (out, '\b');
          break;
        case 'f':
          strbuf_appendc (out, '\f');
          break;
        case 'n':
          strbuf_appendc (out, '\n');
          break;
        case 'r':
          strbuf_appendc (out, '\r');
          break;
        case 't':
          strbuf_appendc (out, '\t');
          break;
        case 'v':
          strbuf_appendc (out, '\v');
          break;
        case '\\':
          strbuf_appendc (out, '\\');
          break;
        case '"':
          strbuf_appendc (out, '"');
          break;
        case '$':
          strbuf_append (out, "$$");
          break;
        case '0':
          {
            unsigned v = 0;
            size_t k = 0;
            while (k < 3 && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7')
              v = v * 8 + (unsigned)(s[++i] - '0'), k++;
            strbuf_appendc (out, (char)v);
            break;
          }
        default:
          strbuf_appendc (out, '\\');
          strbuf_appendc (out, c);
        }
    }
}

int
compose_dotenv_parse (const char *text, const char *name, json_t *env, json_t *out,
                      nook_error_t *err)
{
  const char *p = text;
  struct two_env te = { env, out };
  if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
    p += 3;
  int line = 1;
  while (*p)
    {
      while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        {
          if (*p == '\n')
            line++;
          p++;
        }
      if (*p == '\0')
        break;
      if (*p == '#')
        {
          while (*p && *p != '\n')
            p++;
          continue;
        }
      if (strncmp (p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
        {
          p += 6;
          while (*p == ' ' || *p == '\t')
            p++;
        }
      const char *ks = p;
      while (*p && *p != '=' && *p != ':' && *p != '\n' && *p != '\r')
        {
          if (*p == ' ' || *p == '\t')
            {
              const char *q = p;
              while (*q == ' ' || *q == '\t')
                q++;
              if (*q != '=' && *q != ':' && *q != '\n' && *q != '\r' && *q != '\0' && *q != '#')
                return nook_error_set (err, 0, "%s: line %d: key cannot contain a space", name,
                                       line);
              p = q;
              break;
            }
          if (!key_char ((unsigned char)*p))
            {
              const char *le = strchr (ks, '\n');
              return nook_error_set (
                  err, 0, "%s: line %d: unexpected character \"%c\" in variable name \"%.*s\"",
                  name, line, *p, (int)(le ? le - ks : (long)strlen (ks)), ks);
            }
          p++;
        }
      const char *ke = p;
      while (ke > ks && (ke[-1] == ' ' || ke[-1] == '\t'))
        ke--;
      cleanup_free char *key = strndup (ks, (size_t)(ke - ks));
      if (*p != '=' && *p != ':')
        {
          /* a bare key: inherited from the environment, or left out */
          while (*p && *p != '\n')
            p++;
          const char *v = env ? json_string_value (json_object_get (env, key)) : NULL;
          if (v)
            json_object_set_new (out, key, json_string (v));
          continue;
        }
      p++;
      while (*p == ' ' || *p == '\t')
        p++;
      struct strbuf raw = { 0 };
      bool expand_vars = true;
      if (*p == '"' || *p == '\'')
        {
          char q = *p++;
          const char *vs = p;
          while (*p && *p != q)
            {
              if (*p == '\\' && p[1])
                p++;
              if (*p == '\n')
                line++;
              p++;
            }
          if (*p != q)
            {
              strbuf_free (&raw);
              return nook_error_set (err, 0, "%s: line %d: unterminated quoted value", name, line);
            }
          if (q == '"')
            unescape_double (vs, (size_t)(p - vs), &raw);
          else
            {
              for (const char *c = vs; c < p; c++)
                {
                  if (*c == '\\' && c[1] == '\'')
                    c++;
                  strbuf_appendc (&raw, *c);
                }
              expand_vars = false;
            }
          p++;
          while (*p && *p != '\n')
            p++;
        }
      else
        {
          const char *vs = p;
          while (*p && *p != '\n')
            {
              if (*p == '#' && p > vs && (p[-1] == ' ' || p[-1] == '\t'))
                break;
              p++;
            }
          const char *ve = p;
          while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
            ve--;
          strbuf_appendn (&raw, vs, (size_t)(ve - vs));
          while (*p && *p != '\n')
            p++;
        }
      char *val = strbuf_steal (&raw);
      if (expand_vars)
        {
          char *x = compose_interpolate (val, lookup_two, &te, NULL, err);
          free (val);
          if (x == NULL)
            return nook_error_wrap (err, "%s: line %d", name, line);
          val = x;
        }
      json_object_set_new (out, key, json_string (val));
      free (val);
    }
  return 0;
}

int
compose_dotenv_read (const char *path, json_t *env, json_t *out, nook_error_t *err)
{
  cleanup_file FILE *f = fopen (path, "re");
  if (f == NULL)
    return nook_error_set (err, errno, "open env file %s", path);
  struct strbuf b = { 0 };
  char buf[4096];
  size_t n;
  while ((n = fread (buf, 1, sizeof buf, f)) > 0)
    strbuf_appendn (&b, buf, n);
  if (ferror (f))
    {
      strbuf_free (&b);
      return nook_error_set (err, EIO, "read env file %s", path);
    }
  cleanup_free char *text = strbuf_steal (&b);
  return compose_dotenv_parse (text, path, env, out, err);
}
