/* imagefmt/dockerfile/shell.c: Dockerfile word expansion, a line-by-line
 * re-implementation of BuildKit's frontend/dockerfile/shell/lex.go.
 *
 * The input is read as Go's text/scanner reads it: UTF-8 runes, an invalid byte
 * becomes U+FFFD, a BOM at the very start is skipped.  ${v#p}, ${v%p} and
 * ${v/p/r} patterns are matched in pattern.c; the Unicode tables and the UTF-8
 * helpers are in unicode.c. */
#include "imagefmt/dockerfile/shell.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "imagefmt/dockerfile/internal.h"
#include "util/cleanup.h"
#include "util/util.h"

#define RUNE_EOF (-1)
/* Nesting of ${...} inside ${...}: BuildKit has no limit, we stop the stack here. */
#define MAX_DEPTH 64

/* ---- The lexer (lex.go shellWord) ---- */

struct lexer
{
  const char *src;
  size_t len, pos;
  int32_t escape;
  char *const *env;
  size_t nenv;
  const struct dockerfile_shell_opts *opts;
  bool raw_escapes;
  unsigned depth;
  char **matched, **unmatched;
  size_t nmatched, nunmatched;
  nook_error_t *err;
};

/* Names used, in order; duplicates go at the end (names_finish). */
static void
record_name (char ***v, size_t *n, const char *name)
{
  if (*n > 0 && strcmp ((*v)[*n - 1], name) == 0)
    return;
  if ((*n & (*n + 1)) == 0 || *n == 0) /* grow at 0, 1, 3, 7, ... */
    *v = xreallocarray (*v, 2 * (*n + 1), sizeof **v);
  (*v)[(*n)++] = xstrdup (name);
  (*v)[*n] = NULL;
}

static int
cmp_name_index (const void *a, const void *b, void *arg)
{
  char *const *names = arg;
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  int c = strcmp (names[i], names[j]);
  return c != 0 ? c : (i > j) - (i < j);
}

/* Keep the first occurrence of each name, in order of first use. */
static char **
names_finish (char **v, size_t n)
{
  cleanup_free size_t *idx = xreallocarray (NULL, n + 1, sizeof *idx);
  size_t k = 0;
  if (v == NULL)
    return xzalloc (sizeof (char *));
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  qsort_r (idx, n, sizeof *idx, cmp_name_index, v);
  for (size_t i = 1, keep = idx[0]; i < n; i++)
    if (strcmp (v[idx[i]], v[keep]) == 0)
      {
        free (v[idx[i]]);
        v[idx[i]] = NULL;
      }
    else
      keep = idx[i];
  for (size_t i = 0; i < n; i++)
    if (v[i] != NULL)
      v[k++] = v[i];
  v[k] = NULL;
  return v;
}

/* Words split at unquoted whitespace (lex.go wordsStruct). */
struct words
{
  char **v;
  size_t n, cap;
  struct strbuf cur;
};

static void
words_flush (struct words *w)
{
  if (w->cur.len == 0)
    return;
  if (w->n + 2 > w->cap)
    {
      w->cap = w->cap ? 2 * w->cap : 8;
      w->v = xreallocarray (w->v, w->cap, sizeof *w->v);
    }
  w->v[w->n++] = strbuf_steal (&w->cur);
  w->v[w->n] = NULL;
}

static void
words_add_raw_char (struct words *w, int32_t r)
{
  if (w != NULL)
    dockerfile_put_rune (&w->cur, r);
}

static void
words_add_char (struct words *w, int32_t r)
{
  if (w == NULL)
    return;
  if (!dockerfile_rune_is_space (r))
    dockerfile_put_rune (&w->cur, r);
  else if (w->cur.len > 0)
    words_flush (w);
}

static void
words_add_string (struct words *w, const char *s, size_t len)
{
  for (size_t i = 0, n; w != NULL && i < len; i += n)
    words_add_char (w, dockerfile_decode_rune ((const unsigned char *)s + i, len - i, &n));
}

static int32_t
lx_peek (struct lexer *lx)
{
  size_t w;
  if (lx->pos >= lx->len)
    return RUNE_EOF;
  return dockerfile_decode_rune ((const unsigned char *)lx->src + lx->pos, lx->len - lx->pos, &w);
}

static int32_t
lx_next (struct lexer *lx)
{
  size_t w;
  int32_t r;
  if (lx->pos >= lx->len)
    return RUNE_EOF;
  r = dockerfile_decode_rune ((const unsigned char *)lx->src + lx->pos, lx->len - lx->pos, &w);
  lx->pos += w;
  return r;
}

static int
lx_fail (struct lexer *lx, const char *fmt, const char *arg)
{
  int n = (int)(lx->len > 200 ? 200 : lx->len);
  nook_error_free (lx->err); /* replace an inner error with the outer one */
  return nook_error_set (lx->err, EINVAL, "%s%s in '%.*s%s'", fmt, arg, n, lx->src,
                         lx->len > 200 ? "..." : "");
}

/* lex.go getEnv: the last "NAME=value" for a name wins; "NAME" alone is set and empty. */
static const char *
lx_getenv (struct lexer *lx, const char *name)
{
  size_t nlen = strlen (name);
  for (size_t i = lx->nenv; i-- > 0;)
    {
      const char *e = lx->env[i];
      if (strncmp (e, name, nlen) == 0 && (e[nlen] == '=' || e[nlen] == '\0'))
        {
          record_name (&lx->matched, &lx->nmatched, name);
          return e[nlen] == '=' ? e + nlen + 1 : e + nlen;
        }
    }
  record_name (&lx->unmatched, &lx->nunmatched, name);
  return NULL;
}

static int process_stop_on (struct lexer *lx, int32_t stop, bool raw, struct strbuf *out,
                            struct words *w);

static int
process_single_quote (struct lexer *lx, struct strbuf *out)
{
  int32_t ch = lx_next (lx);
  if (lx->opts->keep_quotes)
    dockerfile_put_rune (out, ch);
  for (;;)
    {
      ch = lx_next (lx);
      if (ch == RUNE_EOF)
        return lx_fail (lx, "unexpected end of statement while looking for matching single-quote",
                        "");
      if (ch == '\'')
        {
          if (lx->opts->keep_quotes)
            dockerfile_put_rune (out, ch);
          return 0;
        }
      dockerfile_put_rune (out, ch);
    }
}

static int process_dollar (struct lexer *lx, struct strbuf *out);

static int
process_double_quote (struct lexer *lx, struct strbuf *out)
{
  int32_t ch = lx_next (lx);
  if (lx->opts->keep_quotes)
    dockerfile_put_rune (out, ch);
  for (;;)
    {
      int32_t pk = lx_peek (lx);
      if (pk == RUNE_EOF)
        return lx_fail (lx, "unexpected end of statement while looking for matching double-quote",
                        "");
      if (pk == '"')
        {
          ch = lx_next (lx);
          if (lx->opts->keep_quotes)
            dockerfile_put_rune (out, ch);
          return 0;
        }
      if (pk == '$')
        {
          if (process_dollar (lx, out) < 0)
            return -1;
          continue;
        }
      ch = lx_next (lx);
      if (ch == lx->escape)
        {
          if (lx->raw_escapes)
            dockerfile_put_rune (out, ch);
          pk = lx_peek (lx);
          if (pk == RUNE_EOF)
            continue; /* a lone escape at the end: dropped, then the quote is missing */
          if (pk == '"' || pk == '$' || pk == lx->escape)
            ch = lx_next (lx);
        }
      dockerfile_put_rune (out, ch);
    }
}

static bool
is_special_param (int32_t ch)
{
  return ch != 0 && strchr ("@*#?-$!0", ch) != NULL && ch < 0x80;
}

/* lex.go processName: a name, a run of digits, or one special parameter. */
static void
process_name (struct lexer *lx, struct strbuf *name)
{
  int32_t ch;
  while ((ch = lx_peek (lx)) != RUNE_EOF)
    {
      if (name->len == 0 && dockerfile_rune_is_digit (ch))
        {
          while ((ch = lx_peek (lx)) != RUNE_EOF && dockerfile_rune_is_digit (ch))
            dockerfile_put_rune (name, lx_next (lx));
          return;
        }
      if (name->len == 0 && is_special_param (ch))
        {
          dockerfile_put_rune (name, lx_next (lx));
          return;
        }
      if (!dockerfile_rune_is_letter (ch) && !dockerfile_rune_is_digit (ch) && ch != '_')
        return;
      dockerfile_put_rune (name, lx_next (lx));
    }
}

/* Read up to `stop` into *out as a nested word (depth-limited). */
static int
process_nested (struct lexer *lx, int32_t stop, bool raw, struct strbuf *out)
{
  int r;
  if (lx->depth >= MAX_DEPTH)
    return lx_fail (lx, "substitutions nested too deeply", "");
  lx->depth++;
  r = process_stop_on (lx, stop, raw, out, NULL);
  lx->depth--;
  return r;
}

static int
apply_modifier (struct lexer *lx, const char *name, int32_t op, bool null_is_unset,
                const char *value, struct strbuf *word, struct strbuf *out)
{
  bool unset = value == NULL || (null_is_unset && *value == '\0');
  switch (op)
    {
    case '-':
      strbuf_append (out, unset ? word->buf : value);
      return 0;
    case '+':
      if (!unset)
        strbuf_append (out, word->buf);
      return 0;
    case '?':
      if (unset)
        {
          int n = (int)(lx->len > 200 ? 200 : lx->len);
          const char *msg = word->len > 0   ? word->buf
                            : value == NULL ? "is not allowed to be unset"
                                            : "is not allowed to be empty";
          nook_error_free (lx->err);
          return nook_error_set (lx->err, EINVAL, "%s: %s in '%.*s'", name, msg, n, lx->src);
        }
      strbuf_append (out, value);
      return 0;
    default:
      {
        /* %, %%, #, ##: the first byte of the expanded word doubles the operator */
        bool greedy = word->len > 0 && word->buf[0] == (char)op;
        const char *p = word->buf + greedy;
        int r = dockerfile_shell_pattern_trim (p, strlen (p), value ? value : "", op == '%', greedy,
                                               out, lx->err);
        if (r < 0)
          return nook_error_wrap (lx->err, "in '%.*s'", (int)(lx->len > 200 ? 200 : lx->len),
                                  lx->src);
        return 0;
      }
    }
}

static int
process_modifier (struct lexer *lx, const char *name, struct strbuf *chs, int32_t ch,
                  bool null_is_unset, struct strbuf *out)
{
  struct strbuf word = { 0 };
  const char *value;
  int r = -1;

  strbuf_append (&word, "");
  if (process_nested (lx, '}', ch == '#' || ch == '%', &word) < 0)
    {
      if (lx_peek (lx) == RUNE_EOF)
        lx_fail (lx, "syntax error: missing '}'", "");
      goto out;
    }
  value = lx_getenv (lx, name);
  if (value == NULL && lx->opts->skip_unset)
    {
      strbuf_appendf (out, "${%s%s%s}", name, chs->buf, word.buf);
      r = 0;
      goto out;
    }
  if (ch != '-' && ch != '+' && ch != '?' && ch != '#' && ch != '%')
    {
      lx_fail (lx, "unsupported modifier in substitution: ", chs->buf);
      goto out;
    }
  r = apply_modifier (lx, name, ch, null_is_unset, value, &word, out);
out:
  strbuf_free (&word);
  return r;
}

static int
process_replace (struct lexer *lx, const char *name, struct strbuf *out)
{
  struct strbuf pat = { 0 }, rep = { 0 };
  bool all = false;
  const char *value;
  int r = -1;

  strbuf_append (&pat, "");
  strbuf_append (&rep, "");
  if (lx_peek (lx) == '/')
    all = true, lx_next (lx);
  if (process_nested (lx, '/', true, &pat) < 0)
    {
      if (lx_peek (lx) == RUNE_EOF)
        lx_fail (lx, "syntax error: missing '/' in ${}", "");
      goto out;
    }
  if (process_nested (lx, '}', true, &rep) < 0)
    {
      if (lx_peek (lx) == RUNE_EOF)
        lx_fail (lx, "syntax error: missing '}'", "");
      goto out;
    }
  value = lx_getenv (lx, name);
  if (value == NULL && lx->opts->skip_unset)
    {
      strbuf_appendf (out, "${%s/%s/%s}", name, pat.buf ? pat.buf : "", rep.buf ? rep.buf : "");
      r = 0;
      goto out;
    }
  r = dockerfile_shell_pattern_replace (pat.buf ? pat.buf : "", pat.len, value ? value : "",
                                        rep.buf ? rep.buf : "", all, out, lx->err);
  if (r < 0)
    nook_error_wrap (lx->err, "in '%.*s'", (int)(lx->len > 200 ? 200 : lx->len), lx->src);
out:
  strbuf_free (&pat);
  strbuf_free (&rep);
  return r;
}

/* lex.go processDollar: the scanner is on `$`. */
static int
process_dollar (struct lexer *lx, struct strbuf *out)
{
  struct strbuf name = { 0 }, chs = { 0 };
  const char *value;
  int32_t ch;
  int r = 0;

  lx_next (lx);
  if (lx_peek (lx) != '{')
    {
      process_name (lx, &name);
      if (name.len == 0)
        strbuf_appendc (out, '$');
      else if ((value = lx_getenv (lx, name.buf)) != NULL)
        strbuf_append (out, value);
      else if (lx->opts->skip_unset)
        strbuf_appendf (out, "$%s", name.buf);
      strbuf_free (&name);
      return 0;
    }
  lx_next (lx);
  ch = lx_peek (lx);
  if (ch == RUNE_EOF)
    return lx_fail (lx, "syntax error: missing '}'", "");
  if (ch == '{' || ch == '}' || ch == ':')
    return lx_fail (lx, "syntax error: bad substitution", "");
  process_name (lx, &name);
  strbuf_append (&name, ""); /* never NULL below */
  ch = lx_next (lx);
  dockerfile_put_rune (&chs, ch);
  switch (ch)
    {
    case '}':
      value = lx_getenv (lx, name.buf);
      if (value != NULL)
        strbuf_append (out, value);
      else if (lx->opts->skip_unset)
        strbuf_appendf (out, "${%s}", name.buf);
      break;
    case ':':
      ch = lx_next (lx);
      dockerfile_put_rune (&chs, ch);
      r = process_modifier (lx, name.buf, &chs, ch, true, out);
      break;
    case '+':
    case '-':
    case '?':
    case '#':
    case '%':
      r = process_modifier (lx, name.buf, &chs, ch, false, out);
      break;
    case '/':
      r = process_replace (lx, name.buf, out);
      break;
    case RUNE_EOF:
      r = lx_fail (lx, "syntax error: missing '}'", "");
      break;
    default:
      r = lx_fail (lx, "unsupported modifier in substitution: ", chs.buf);
      break;
    }
  strbuf_free (&name);
  strbuf_free (&chs);
  return r;
}

/* lex.go processStopOn: read until `stop` (RUNE_EOF: the end). */
static int
process_stop_on (struct lexer *lx, int32_t stop, bool raw, struct strbuf *out, struct words *w)
{
  bool saved = lx->raw_escapes;
  int32_t ch;
  int r = 0;

  lx->raw_escapes = raw;
  while ((ch = lx_peek (lx)) != RUNE_EOF)
    {
      struct strbuf tmp = { 0 };
      bool quote = !lx->opts->skip_quotes && (ch == '\'' || ch == '"');
      if (stop != RUNE_EOF && ch == stop)
        {
          lx_next (lx);
          goto done;
        }
      if (ch == '$' || quote)
        {
          r = ch == '$'    ? process_dollar (lx, &tmp)
              : ch == '\'' ? process_single_quote (lx, &tmp)
                           : process_double_quote (lx, &tmp);
          if (r == 0)
            strbuf_appendn (out, tmp.buf ? tmp.buf : "", tmp.len);
          if (r == 0 && ch == '$')
            words_add_string (w, tmp.buf, tmp.len);
          else if (r == 0 && w != NULL)
            strbuf_appendn (&w->cur, tmp.buf ? tmp.buf : "", tmp.len);
          strbuf_free (&tmp);
          if (r == 0 && out->len > DOCKERFILE_SHELL_MAX_OUTPUT)
            r = lx_fail (lx, "expansion result too large", "");
          if (r < 0)
            goto done;
          continue;
        }
      ch = lx_next (lx);
      if (ch == lx->escape)
        {
          if (lx->raw_escapes)
            {
              words_add_raw_char (w, ch);
              dockerfile_put_rune (out, ch);
            }
          ch = lx_next (lx);
          if (ch == RUNE_EOF)
            break;
          words_add_raw_char (w, ch);
        }
      else
        words_add_char (w, ch);
      dockerfile_put_rune (out, ch);
    }
  if (stop != RUNE_EOF)
    {
      char s[2] = { (char)stop, '\0' };
      r = lx_fail (lx, "unexpected end of statement while looking for matching ", s);
    }
done:
  lx->raw_escapes = saved;
  return r;
}

/* ---- Public API ---- */

int
dockerfile_shell_expand (const char *text, char escape, char *const *env,
                         const struct dockerfile_shell_opts *opts,
                         struct dockerfile_shell_result *res, nook_error_t *err)
{
  static const struct dockerfile_shell_opts defaults = { 0 };
  struct lexer lx = { .src = text,
                      .len = strlen (text),
                      .escape = (unsigned char)escape,
                      .env = env,
                      .nenv = strv_len (env),
                      .opts = opts ? opts : &defaults,
                      .err = err };
  struct words w = { 0 };
  struct strbuf out = { 0 };

  memset (res, 0, sizeof *res);
  if (escape != '\\' && escape != '`')
    return nook_error_set (err, EINVAL, "invalid escape character '%c' (want '\\' or '`')", escape);
  lx.raw_escapes = lx.opts->keep_escapes;
  if (lx.len >= 3 && memcmp (text, "\xEF\xBB\xBF", 3) == 0)
    lx.pos = 3; /* text/scanner skips a leading BOM */
  if (process_stop_on (&lx, RUNE_EOF, lx.raw_escapes, &out, &w) < 0)
    {
      strbuf_free (&out);
      strbuf_free (&w.cur);
      strv_free (w.v);
      strv_free (lx.matched);
      strv_free (lx.unmatched);
      return -1;
    }
  words_flush (&w);
  strbuf_free (&w.cur);
  res->word = strbuf_steal (&out);
  res->words = w.v ? w.v : xzalloc (sizeof (char *));
  res->matched = names_finish (lx.matched, lx.nmatched);
  res->unmatched = names_finish (lx.unmatched, lx.nunmatched);
  return 0;
}

void
dockerfile_shell_result_clear (struct dockerfile_shell_result *res)
{
  free (res->word);
  strv_free (res->words);
  strv_free (res->matched);
  strv_free (res->unmatched);
  memset (res, 0, sizeof *res);
}

int
dockerfile_shell_expand_word (const char *word, char escape, char *const *env, char **out,
                              nook_error_t *err)
{
  struct dockerfile_shell_result res;
  if (dockerfile_shell_expand (word, escape, env, NULL, &res, err) < 0)
    return -1;
  *out = steal_pointer (&res.word);
  dockerfile_shell_result_clear (&res);
  return 0;
}

int
dockerfile_shell_expand_words (const char *text, char escape, char *const *env, char ***out,
                               nook_error_t *err)
{
  struct dockerfile_shell_result res;
  if (dockerfile_shell_expand (text, escape, env, NULL, &res, err) < 0)
    return -1;
  *out = steal_pointer (&res.words);
  dockerfile_shell_result_clear (&res);
  return 0;
}

bool
dockerfile_shell_instruction_expands (const char *keyword)
{
  static const char *const expands[] = { "ADD",   "ARG",        "COPY", "ENV",    "EXPOSE", "FROM",
                                         "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR" };
  for (size_t i = 0; keyword != NULL && i < ARRAY_SIZE (expands); i++)
    if (strcasecmp (keyword, expands[i]) == 0)
      return true;
  return false;
}
