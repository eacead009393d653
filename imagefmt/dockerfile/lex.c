/* imagefmt/dockerfile/lex.c: the small lexers under the Dockerfile parser:
 * the JSON exec-form decoder (Go's encoding/json), and heredoc detection
 * (BuildKit's heredocsFromLine, which word-splits the line with its shell
 * lexer in "raw" mode: quotes and escapes kept, unset variables left as
 * written).  This raw lexer only finds word boundaries; real expansion lives
 * in shell.c.  The UTF-8 and Unicode class helpers are in unicode.c. */
#include "imagefmt/dockerfile/internal.h"
#include "util/cleanup.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON (Go's encoding/json, for `[...]` exec form) ---- */

#define JSON_MAX_DEPTH 10000

static size_t
json_ws (const char *s, size_t len, size_t p)
{
  while (p < len && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r'))
    p++;
  return p;
}

static int
hex4 (const char *s, size_t len, size_t p, uint32_t *v)
{
  *v = 0;
  if (p + 4 > len)
    return -1;
  for (size_t i = 0; i < 4; i++)
    {
      char c = s[p + i];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0)
        return -1;
      *v = (*v << 4) | (uint32_t)d;
    }
  return 0;
}

/* A JSON string at s[*pos] == '"'; decoded into out (may be NULL to only check). */
static int
json_string (const char *s, size_t len, size_t *pos, struct strbuf *out)
{
  size_t p = *pos + 1;
  struct strbuf dummy = { 0 };
  struct strbuf *b = out ? out : &dummy;
  while (p < len)
    {
      unsigned char c = (unsigned char)s[p];
      uint32_t cp, lo;
      if (c == '"')
        {
          *pos = p + 1;
          strbuf_free (&dummy);
          return 0;
        }
      if (c < 0x20)
        break;
      if (c != '\\')
        {
          size_t w;
          cp = (uint32_t)dockerfile_decode_rune ((const unsigned char *)s + p, len - p, &w);
          if (cp == 0xfffd && w == 1)
            dockerfile_utf8_append (b, cp);
          else
            strbuf_appendn (b, s + p, w);
          p += w;
          continue;
        }
      if (p + 1 >= len)
        break;
      char e = s[p + 1];
      p += 2;
      const char *simple = strchr ("\"\\/bfnrt", e);
      if (e != '\0' && simple)
        {
          strbuf_appendc (b, "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]);
          continue;
        }
      if (e != 'u' || hex4 (s, len, p, &cp) < 0)
        break;
      p += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && p + 1 < len && s[p] == '\\' && s[p + 1] == 'u'
          && hex4 (s, len, p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000)
        {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          p += 6;
        }
      else if (cp >= 0xd800 && cp < 0xe000)
        cp = 0xfffd;
      dockerfile_utf8_append (b, cp);
    }
  strbuf_free (&dummy);
  return -1;
}

static int
json_scalar (const char *s, size_t len, size_t *pos)
{
  size_t p = *pos;
  static const char *const lits[] = { "true", "false", "null" };
  for (size_t i = 0; i < ARRAY_SIZE (lits); i++)
    {
      size_t n = strlen (lits[i]);
      if (len - p >= n && memcmp (s + p, lits[i], n) == 0)
        {
          *pos = p + n;
          return 0;
        }
    }
#define DIGIT(q) ((q) < len && s[q] >= '0' && s[q] <= '9')
  if (p < len && s[p] == '-')
    p++;
  if (!DIGIT (p))
    return -1;
  if (s[p] == '0')
    p++;
  else
    while (DIGIT (p))
      p++;
  if (p < len && s[p] == '.')
    {
      if (!DIGIT (p + 1))
        return -1;
      for (p++; DIGIT (p); p++)
        ;
    }
  if (p < len && (s[p] == 'e' || s[p] == 'E'))
    {
      p++;
      if (p < len && (s[p] == '+' || s[p] == '-'))
        p++;
      if (!DIGIT (p))
        return -1;
      while (DIGIT (p))
        p++;
    }
#undef DIGIT
  *pos = p;
  return 0;
}

static int
json_key (const char *s, size_t len, size_t *pos)
{
  size_t p = json_ws (s, len, *pos);
  if (p >= len || s[p] != '"' || json_string (s, len, &p, NULL) < 0)
    return -1;
  p = json_ws (s, len, p);
  if (p >= len || s[p] != ':')
    return -1;
  *pos = p + 1;
  return 0;
}

/* Skip one JSON value nested in the top array (depth0 = its depth), iteratively. */
static int
json_skip_value (const char *s, size_t len, size_t *pos, size_t depth0)
{
  cleanup_free char *stack = NULL;
  size_t depth = 0, cap = 0, p = *pos;
  for (;;)
    {
      p = json_ws (s, len, p);
      if (p >= len)
        return -1;
      if (s[p] == '[' || s[p] == '{')
        {
          if (depth0 + depth + 1 > JSON_MAX_DEPTH)
            return -1;
          if (depth == cap)
            stack = xrealloc (stack, cap = cap ? cap * 2 : 16);
          stack[depth++] = s[p++];
          p = json_ws (s, len, p);
          if (p < len && s[p] == (stack[depth - 1] == '[' ? ']' : '}'))
            {
              p++;
              depth--;
            }
          else if (stack[depth - 1] == '[')
            continue;
          else
            {
              if (json_key (s, len, &p) < 0)
                return -1;
              continue;
            }
        }
      else if (s[p] == '"' ? json_string (s, len, &p, NULL) < 0 : json_scalar (s, len, &p) < 0)
        return -1;
      while (depth > 0)
        {
          p = json_ws (s, len, p);
          if (p >= len)
            return -1;
          char close = stack[depth - 1] == '[' ? ']' : '}';
          if (s[p] == close)
            {
              p++;
              depth--;
              continue;
            }
          if (s[p] != ',')
            return -1;
          p++;
          if (stack[depth - 1] == '{' && json_key (s, len, &p) < 0)
            return -1;
          break;
        }
      if (depth == 0)
        {
          *pos = p;
          return 0;
        }
    }
}

int
dockerfile_json_string_array (const char *s, size_t len, char ***out, size_t **lens, size_t *n)
{
  cleanup_strv char **v = NULL;
  cleanup_free size_t *l = NULL;
  size_t count = 0, p = json_ws (s, len, 0);
  bool non_string = false;
  if (p >= len || s[p] != '[')
    return 0;
  p = json_ws (s, len, p + 1);
  if (p < len && s[p] == ']')
    goto done;
  for (;;)
    {
      p = json_ws (s, len, p);
      if (p >= len)
        return 0;
      if (s[p] == '"')
        {
          struct strbuf b = { 0 };
          if (json_string (s, len, &p, &b) < 0)
            {
              strbuf_free (&b);
              return 0;
            }
          size_t blen = b.len;
          strv_push_take (&v, strbuf_steal (&b));
          l = xreallocarray (l, count + 1, sizeof *l);
          l[count++] = blen;
        }
      else
        {
          if (json_skip_value (s, len, &p, 1) < 0)
            return 0;
          non_string = true;
        }
      p = json_ws (s, len, p);
      if (p >= len)
        return 0;
      if (s[p] == ']')
        break;
      if (s[p] != ',')
        return 0;
      p++;
    }
done:
  if (non_string)
    return -1;
  *out = steal_pointer (&v);
  *lens = steal_pointer (&l);
  *n = count;
  if (*out == NULL)
    *out = xzalloc (sizeof (char *));
  return 1;
}

/* ---- heredoc detection: BuildKit's shell lexer in raw mode, no environment ---- */

#define LEX_EOF (-1)
#define LEX_MAX_NEST 100

struct lexer
{
  const char *s;
  size_t len, pos;
  bool raw_quotes, raw_escapes;
  int nest;
  const char *error;
};

struct words
{
  struct strbuf word;
  bool in_word;
  char **v;
};

static int32_t
lx_peek (struct lexer *lx, size_t *w)
{
  size_t n;
  if (lx->pos >= lx->len)
    return LEX_EOF;
  int32_t cp
      = dockerfile_decode_rune ((const unsigned char *)lx->s + lx->pos, lx->len - lx->pos, &n);
  if (w)
    *w = n;
  return cp;
}

static int32_t
lx_next (struct lexer *lx)
{
  size_t w = 0;
  int32_t c = lx_peek (lx, &w);
  lx->pos += w;
  return c;
}

static void
words_raw_char (struct words *w, int32_t c)
{
  dockerfile_utf8_append (&w->word, (uint32_t)c);
  w->in_word = true;
}

static void
words_char (struct words *w, int32_t c)
{
  if (dockerfile_rune_is_space ((uint32_t)c))
    {
      if (w->in_word && w->word.len > 0)
        {
          strv_push_take (&w->v, strbuf_steal (&w->word));
          w->in_word = false;
        }
    }
  else
    words_raw_char (w, c);
}

static void
words_string (struct words *w, const char *s, size_t len, bool raw)
{
  if (raw)
    {
      strbuf_appendn (&w->word, s, len);
      w->in_word = true;
      return;
    }
  for (size_t i = 0; i < len;)
    {
      size_t n;
      words_char (w, dockerfile_decode_rune ((const unsigned char *)s + i, len - i, &n));
      i += n;
    }
}

static int lx_stop_on (struct lexer *lx, int32_t stop, struct strbuf *result, struct words *w);

static int
lx_fail (struct lexer *lx, const char *msg)
{
  if (lx->error == NULL)
    lx->error = msg;
  return -1;
}

static void
lx_name (struct lexer *lx, struct strbuf *name)
{
  int32_t c = lx_peek (lx, NULL);
  if (c >= '0' && c <= '9')
    {
      while ((c = lx_peek (lx, NULL)) >= '0' && c <= '9')
        dockerfile_utf8_append (name, (uint32_t)lx_next (lx));
      return;
    }
  if (c != LEX_EOF && strchr ("@*#?-$!0", c) && c != 0)
    {
      dockerfile_utf8_append (name, (uint32_t)lx_next (lx));
      return;
    }
  while ((c = lx_peek (lx, NULL)) != LEX_EOF
         && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
             || (c >= 0x80 && !dockerfile_rune_is_space ((uint32_t)c))))
    dockerfile_utf8_append (name, (uint32_t)lx_next (lx));
}

static int
lx_curly (struct lexer *lx, struct strbuf *out)
{
  cleanup_free char *word = NULL;
  struct strbuf name = { 0 }, inner = { 0 };
  int32_t c = lx_peek (lx, NULL), mod = 0;
  if (c == LEX_EOF)
    return lx_fail (lx, "syntax error: missing '}'");
  if (c == '{' || c == '}' || c == ':')
    return lx_fail (lx, "syntax error: bad substitution");
  lx_name (lx, &name);
  word = strbuf_steal (&name);
  c = lx_next (lx);
  if (c == '}')
    {
      strbuf_appendf (out, "${%s}", word);
      return 0;
    }
  if (c == LEX_EOF || !strchr ("?%#/:", c))
    return lx_fail (lx, "missing ':' in substitution");
  if (c == ':')
    mod = lx_next (lx);
  if (++lx->nest > LEX_MAX_NEST)
    return lx_fail (lx, "substitutions nested too deeply");
  struct words dummy = { 0 };
  int r = lx_stop_on (lx, '}', &inner, &dummy);
  lx->nest--;
  strbuf_free (&dummy.word);
  strv_free (dummy.v);
  if (r < 0)
    {
      strbuf_free (&inner);
      return -1;
    }
  if (c == ':' && mod != '+' && mod != '-' && mod != '?')
    {
      strbuf_free (&inner);
      return lx_fail (lx, "unsupported modifier in substitution");
    }
  strbuf_appendf (out, "${%s%c", word, (char)c);
  if (c == ':' && mod != LEX_EOF)
    dockerfile_utf8_append (out, (uint32_t)mod);
  strbuf_appendn (out, inner.buf ? inner.buf : "", inner.len);
  strbuf_appendc (out, '}');
  strbuf_free (&inner);
  return 0;
}

static int
lx_dollar (struct lexer *lx, struct strbuf *out)
{
  struct strbuf name = { 0 };
  lx_next (lx);
  if (lx_peek (lx, NULL) == '{')
    {
      lx_next (lx);
      return lx_curly (lx, out);
    }
  lx_name (lx, &name);
  strbuf_appendc (out, '$');
  strbuf_appendn (out, name.buf ? name.buf : "", name.len);
  strbuf_free (&name);
  return 0;
}

static int
lx_single (struct lexer *lx, struct strbuf *out)
{
  int32_t c = lx_next (lx);
  if (lx->raw_quotes)
    dockerfile_utf8_append (out, (uint32_t)c);
  for (;;)
    {
      c = lx_next (lx);
      if (c == LEX_EOF)
        return lx_fail (lx, "unexpected end of statement while looking for matching single-quote");
      if (c == '\'' && !lx->raw_quotes)
        return 0;
      dockerfile_utf8_append (out, (uint32_t)c);
      if (c == '\'')
        return 0;
    }
}

static int
lx_double (struct lexer *lx, struct strbuf *out)
{
  int32_t c = lx_next (lx);
  if (lx->raw_quotes)
    dockerfile_utf8_append (out, (uint32_t)c);
  for (;;)
    {
      c = lx_peek (lx, NULL);
      if (c == LEX_EOF)
        return lx_fail (lx, "unexpected end of statement while looking for matching double-quote");
      if (c == '"')
        {
          lx_next (lx);
          if (lx->raw_quotes)
            strbuf_appendc (out, '"');
          return 0;
        }
      if (c == '$')
        {
          if (lx_dollar (lx, out) < 0)
            return -1;
          continue;
        }
      c = lx_next (lx);
      if (c == '\\')
        {
          if (lx->raw_escapes)
            strbuf_appendc (out, '\\');
          int32_t d = lx_peek (lx, NULL);
          if (d == LEX_EOF)
            continue;
          if (d == '"' || d == '$' || d == '\\')
            c = lx_next (lx);
        }
      dockerfile_utf8_append (out, (uint32_t)c);
    }
}

static int
lx_stop_on (struct lexer *lx, int32_t stop, struct strbuf *result, struct words *w)
{
  int32_t c;
  while ((c = lx_peek (lx, NULL)) != LEX_EOF)
    {
      if (stop != LEX_EOF && c == stop)
        {
          lx_next (lx);
          return 0;
        }
      if (c == '\'' || c == '"' || c == '$')
        {
          struct strbuf tmp = { 0 };
          int r = c == '\''  ? lx_single (lx, &tmp)
                  : c == '"' ? lx_double (lx, &tmp)
                             : lx_dollar (lx, &tmp);
          if (r == 0)
            {
              strbuf_appendn (result, tmp.buf ? tmp.buf : "", tmp.len);
              words_string (w, tmp.buf ? tmp.buf : "", tmp.len, c != '$');
            }
          strbuf_free (&tmp);
          if (r < 0)
            return -1;
          continue;
        }
      c = lx_next (lx);
      if (c == '\\')
        {
          if (lx->raw_escapes)
            {
              words_raw_char (w, c);
              strbuf_appendc (result, '\\');
            }
          c = lx_next (lx);
          if (c == LEX_EOF)
            break;
          words_raw_char (w, c);
        }
      else
        words_char (w, c);
      dockerfile_utf8_append (result, (uint32_t)c);
    }
  if (stop != LEX_EOF)
    return lx_fail (lx, "unexpected end of statement while looking for matching }");
  return 0;
}

/* Split s into words; -1 (with *error) on a lexing error. */
static int
lex_words (const char *s, size_t len, bool raw_quotes, bool raw_escapes, char ***out,
           const char **error)
{
  struct lexer lx = { .s = s, .len = len, .raw_quotes = raw_quotes, .raw_escapes = raw_escapes };
  struct words w = { 0 };
  struct strbuf result = { 0 };
  int r = lx_stop_on (&lx, LEX_EOF, &result, &w);
  strbuf_free (&result);
  if (r < 0)
    {
      strbuf_free (&w.word);
      strv_free (w.v);
      *error = lx.error;
      return -1;
    }
  if (w.word.len > 0)
    strv_push_take (&w.v, strbuf_steal (&w.word));
  strbuf_free (&w.word);
  *out = w.v;
  return 0;
}

static size_t
count_quotes (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\'' || *s == '"';
  return n;
}

void
dockerfile_heredoc_clear (struct dockerfile_heredoc *h)
{
  free (h->name);
  free (h->content);
  memset (h, 0, sizeof *h);
}

/* One word against ^(\d*)<<(-?)([^<]*)$; 1 with *h filled, 0 if not a heredoc. */
static int
heredoc_from_word (const char *word, struct dockerfile_heredoc *h, nook_error_t *err)
{
  cleanup_strv char **cooked = NULL;
  cleanup_strv char **raw = NULL;
  const char *p = word, *error = NULL;
  unsigned long long fd = 0;
  bool have_digits = false;
  for (; *p >= '0' && *p <= '9'; p++, have_digits = true)
    fd = fd > UINT_MAX / 10 ? UINT_MAX : fd * 10 + (unsigned)(*p - '0');
  if (p[0] != '<' || p[1] != '<')
    return 0;
  p += 2;
  bool chomp = *p == '-';
  p += chomp;
  if (strchr (p, '<') || *p == '\0')
    return 0;
  if (lex_words (p, strlen (p), false, false, &cooked, &error) < 0)
    return nook_error_set (err, 0, "failed to process heredoc word \"%s\": %s", p, error);
  if (strv_len (cooked) != 1)
    return 0;
  if (lex_words (p, strlen (p), true, false, &raw, &error) < 0)
    return nook_error_set (err, 0, "failed to process heredoc word \"%s\": %s", p, error);
  if (strv_len (raw) != 1)
    return nook_error_set (err, 0, "internal lexing of heredoc produced inconsistent results: %s",
                           p);
  h->name = xstrdup (cooked[0]);
  h->expand = count_quotes (cooked[0]) == count_quotes (raw[0]);
  h->strip_tabs = chomp;
  h->fd = have_digits ? (unsigned)(fd > UINT_MAX ? UINT_MAX : fd) : 0;
  return 1;
}

int
dockerfile_heredocs_from_line (const char *line, size_t len, struct dockerfile_heredoc **out,
                               size_t *n, nook_error_t *err)
{
  cleanup_strv char **words = NULL;
  const char *error = NULL;
  *out = NULL;
  *n = 0;
  if (memmem (line, len, "<<", 2) == NULL)
    return 0;
  if (lex_words (line, len, true, true, &words, &error) < 0)
    return 0; /* BuildKit ignores this error: no heredocs */
  for (size_t i = 0; words && words[i]; i++)
    {
      struct dockerfile_heredoc h = { 0 };
      int r = heredoc_from_word (words[i], &h, err);
      if (r < 0)
        {
          for (size_t j = 0; j < *n; j++)
            dockerfile_heredoc_clear (&(*out)[j]);
          free (*out);
          *out = NULL;
          *n = 0;
          return -1;
        }
      if (r == 0)
        continue;
      *out = xreallocarray (*out, *n + 1, sizeof **out);
      (*out)[(*n)++] = h;
    }
  return 0;
}
