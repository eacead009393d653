/* imagefmt/dockerfile/parser.c: lines, directives, continuations, flags,
 * per-instruction argument rules and heredoc bodies, following BuildKit's
 * frontend/dockerfile/parser (parser.go, line_parsers.go, split_command.go). */
#include "imagefmt/dockerfile/parser.h"
#include "imagefmt/dockerfile/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct parser
{
  const char *buf;
  size_t len, pos;
  const char *filename;
  int line; /* physical lines read so far */
  char escape;
  bool directives_done, seen[3];
  struct dockerfile *df;
  size_t nodes_cap;
  nook_error_t *err;
};

static int __attribute__ ((format (printf, 3, 4)))
fail (struct parser *p, int line, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return nook_error_set_exit (p->err, 1, 0, "%s:%d: %s", p->filename, line, msg);
}

/* The next physical line, with its '\n'; false at end of input. */
static bool
next_line (struct parser *p, const char **s, size_t *n)
{
  if (p->pos >= p->len)
    return false;
  const char *start = p->buf + p->pos;
  const char *nl = memchr (start, '\n', p->len - p->pos);
  *n = nl ? (size_t)(nl - start) + 1 : p->len - p->pos;
  *s = start;
  p->pos += *n;
  return true;
}

static void
trim_newline (const char *s, size_t *n)
{
  while (*n > 0 && (s[*n - 1] == '\r' || s[*n - 1] == '\n'))
    (*n)--;
}

static const char *
trim_left (const char *s, size_t *n)
{
  size_t w;
  while ((w = dockerfile_space_len (s, *n)) > 0)
    s += w, *n -= w;
  return s;
}

static void
trim_right (const char *s, size_t *n)
{
  for (;;)
    {
      const unsigned char *u = (const unsigned char *)s;
      size_t k = *n, w;
      if (k >= 1 && u[k - 1] < 0x80 && dockerfile_rune_is_space (u[k - 1]))
        *n -= 1;
      else if (k >= 2 && u[k - 2] == 0xc2 && (u[k - 1] == 0x85 || u[k - 1] == 0xa0))
        *n -= 2;
      else if (k >= 3 && dockerfile_rune_is_space (dockerfile_decode_rune (u + k - 3, 3, &w))
               && w == 3)
        *n -= 3;
      else
        return;
    }
}

static bool
is_comment (const char *s, size_t n)
{
  trim_newline (s, &n);
  s = trim_left (s, &n);
  return n > 0 && s[0] == '#';
}

static bool
is_ascii_ws (char c)
{
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* `# name = value` at the top of the file (reDirectives). */
static int
directive (struct parser *p, const char *s, size_t n)
{
  static const char *const names[] = { "escape", "syntax", "check" };
#define RE_SPACE(c) ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\f' || (c) == '\r')
  size_t i = 1, name_start, name_end, vs, ve;
  if (p->directives_done)
    return 0;
  if (n == 0 || s[0] != '#')
    goto done;
  while (i < n && RE_SPACE (s[i]))
    i++;
  name_start = i;
  if (i >= n || !((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
    goto done;
  while (i < n && (((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') || (s[i] >= '0' && s[i] <= '9')))
    i++;
  name_end = i;
  while (i < n && RE_SPACE (s[i]))
    i++;
  if (i >= n || s[i] != '=')
    goto done;
  i++;
  vs = i, ve = n;
  if (memchr (s + i, '\n', n - i))
    goto done;
  while (vs < n && RE_SPACE (s[vs]))
    vs++;
  while (ve > vs && RE_SPACE (s[ve - 1]))
    ve--;
  if (vs == ve)
    {
      if (i == n)
        goto done; /* `.+?` needs one character */
      vs = n - 1, ve = n;
    }
  for (size_t k = 0; k < ARRAY_SIZE (names); k++)
    {
      if (name_end - name_start != strlen (names[k])
          || strncasecmp (s + name_start, names[k], name_end - name_start) != 0)
        continue;
      if (p->seen[k])
        return fail (p, p->line + 1, "only one %s parser directive can be used", names[k]);
      p->seen[k] = true;
      cleanup_free char *value = xstrndup (s + vs, ve - vs);
      if (k == 0)
        {
          if (strcmp (value, "`") != 0 && strcmp (value, "\\") != 0)
            return fail (p, p->line + 1, "invalid escape token '%s' does not match ` or \\", value);
          p->escape = value[0];
          p->df->escape = value[0];
          p->df->escape_directive = true;
        }
      else if (k == 1)
        p->df->syntax = steal_pointer (&value);
      else
        p->df->check = steal_pointer (&value);
      return 0;
    }
#undef RE_SPACE
done:
  p->directives_done = true;
  return 0;
}

/* processLine: drop the line end (and leading space), check for a directive,
 * blank out a comment. */
static int
process_line (struct parser *p, const char **s, size_t *n, bool strip_left)
{
  trim_newline (*s, n);
  if (strip_left)
    *s = trim_left (*s, n);
  if (directive (p, *s, *n) < 0)
    return -1;
  if (*n > 0 && (*s)[0] == '#')
    *n = 0;
  return 0;
}

/* Strip a trailing continuation; true if the line ends the instruction. */
static bool
trim_continuation (struct parser *p, const char *s, size_t *n)
{
  size_t k = *n;
  while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t'))
    k--;
  if (k == 0 || s[k - 1] != p->escape)
    return true;
  if (k >= 2 && s[k - 2] == p->escape)
    return true;
  *n = k - 1;
  return false;
}

static void
node_arg (struct dockerfile_node *n, const char *s, size_t len)
{
  char *a = xmalloc (len + 1);
  memcpy (a, s, len);
  a[len] = '\0';
  n->args = xreallocarray (n->args, n->n_args + 2, sizeof *n->args);
  n->args_len = xreallocarray (n->args_len, n->n_args + 1, sizeof *n->args_len);
  n->args[n->n_args] = a;
  n->args_len[n->n_args++] = len;
  n->args[n->n_args] = NULL;
}

static void
node_arg_str (struct dockerfile_node *n, const char *s)
{
  node_arg (n, s, strlen (s));
}

/* extractBuilderFlags: leading `--` words.  Scans bytes: a byte >= 0x80 is
 * re-encoded as the Latin-1 code point, as BuildKit's rune(line[pos]) does. */
static size_t
extract_flags (const char *s, size_t n, char ***flags)
{
  struct strbuf word = { 0 };
  enum
  {
    SPACES,
    WORD,
    QUOTE
  } phase
      = SPACES;
  char quote = 0;
  bool blank_ok = false;
  size_t pos;
  for (pos = 0; pos <= n; pos++)
    {
      unsigned char c = pos < n ? (unsigned char)s[pos] : 0;
      if (phase == SPACES)
        {
          if (pos == n)
            break;
          if (dockerfile_is_space_byte (c))
            continue;
          if (c != '-' || pos + 1 == n || s[pos + 1] != '-')
            goto out;
          phase = WORD;
        }
      if (pos == n)
        {
          if (!(word.len == 2 && memcmp (word.buf, "--", 2) == 0) && (blank_ok || word.len > 0))
            strv_push_take (flags, strbuf_steal (&word));
          pos = n;
          goto out;
        }
      if (phase == WORD)
        {
          if (dockerfile_is_space_byte (c))
            {
              phase = SPACES;
              if (word.len == 2 && memcmp (word.buf, "--", 2) == 0)
                goto out;
              if (blank_ok || word.len > 0)
                strv_push_take (flags, strbuf_steal (&word));
              word.len = 0;
              blank_ok = false;
              continue;
            }
          if (c == '\'' || c == '"')
            {
              quote = (char)c, blank_ok = true, phase = QUOTE;
              continue;
            }
        }
      else if (c == (unsigned char)quote)
        {
          phase = WORD;
          continue;
        }
      if (c == '\\')
        {
          if (pos + 1 == n)
            {
              phase = WORD;
              continue;
            }
          c = (unsigned char)s[++pos];
        }
      dockerfile_utf8_append (&word, c);
    }
out:
  strbuf_free (&word);
  return pos;
}

/* parseWords (ENV, LABEL, ARG): quotes and escapes kept. */
static char **
parse_words (const char *s, size_t n, char esc)
{
  char **words = NULL;
  struct strbuf word = { 0 };
  enum
  {
    SPACES,
    WORD,
    QUOTE
  } phase
      = SPACES;
  uint32_t quote = 0, ch = 0;
  bool blank_ok = false;
  size_t w = 0;
  for (size_t pos = 0; pos <= n; pos += w)
    {
      if (pos != n)
        ch = (uint32_t)dockerfile_decode_rune ((const unsigned char *)s + pos, n - pos, &w);
      if (phase == SPACES)
        {
          if (pos == n)
            break;
          if (dockerfile_rune_is_space (ch))
            continue;
          phase = WORD;
        }
      if (pos == n)
        {
          if (blank_ok || word.len > 0)
            strv_push_take (&words, strbuf_steal (&word));
          break;
        }
      if (phase == WORD)
        {
          if (dockerfile_rune_is_space (ch))
            {
              phase = SPACES;
              if (blank_ok || word.len > 0)
                strv_push_take (&words, strbuf_steal (&word));
              word.len = 0;
              blank_ok = false;
              continue;
            }
          if (ch == '\'' || ch == '"')
            quote = ch, blank_ok = true, phase = QUOTE;
          if (ch == (unsigned char)esc)
            {
              if (pos + w == n)
                continue;
              dockerfile_utf8_append (&word, ch);
              pos += w;
              ch = (uint32_t)dockerfile_decode_rune ((const unsigned char *)s + pos, n - pos, &w);
            }
          dockerfile_utf8_append (&word, ch);
          continue;
        }
      if (ch == quote)
        phase = WORD;
      if (ch == (unsigned char)esc && quote != '\'')
        {
          if (pos + w == n)
            {
              phase = WORD;
              continue;
            }
          pos += w;
          dockerfile_utf8_append (&word, ch);
          ch = (uint32_t)dockerfile_decode_rune ((const unsigned char *)s + pos, n - pos, &w);
        }
      dockerfile_utf8_append (&word, ch);
    }
  strbuf_free (&word);
  return words;
}

/* Split on runs of [\t\v\f\r ], at most max pieces (0 = no limit), Go's regexp Split. */
static void
split_ws (struct dockerfile_node *node, const char *s, size_t n)
{
  size_t start = 0;
  for (size_t i = 0; i < n;)
    {
      if (!is_ascii_ws (s[i]))
        {
          i++;
          continue;
        }
      node_arg (node, s + start, i - start);
      while (i < n && is_ascii_ws (s[i]))
        i++;
      start = i;
    }
  node_arg (node, s + start, n - start);
}

static int
parse_name_val (struct parser *p, struct dockerfile_node *node, const char *s, size_t n,
                const char *key, int line)
{
  cleanup_strv char **words = parse_words (s, n, p->escape);
  if (words == NULL)
    return 0;
  if (strchr (words[0], '=') == NULL)
    {
      size_t i = 0;
      while (i < n && !is_ascii_ws (s[i]))
        i++;
      if (i == n)
        return fail (p, line, "%s must have two arguments", key);
      node_arg (node, s, i);
      while (i < n && is_ascii_ws (s[i]))
        i++;
      node_arg (node, s + i, n - i);
      node_arg_str (node, "");
      return 0;
    }
  for (size_t i = 0; words[i]; i++)
    {
      char *eq = strchr (words[i], '=');
      if (eq == NULL)
        {
          struct strbuf q = { 0 };
          dockerfile_quote (&q, words[i], strlen (words[i]));
          fail (p, line, "Syntax error - can't find = in %s. Must be of the form: name=value",
                q.buf);
          strbuf_free (&q);
          return -1;
        }
      node_arg (node, words[i], (size_t)(eq - words[i]));
      node_arg_str (node, eq + 1);
      node_arg_str (node, "=");
    }
  return 0;
}

/* parseMaybeJSON (list = false) and parseMaybeJSONToList (list = true). */
static int
parse_maybe_json (struct parser *p, struct dockerfile_node *node, const char *s, size_t n,
                  bool list, int line)
{
  cleanup_strv char **v = NULL;
  cleanup_free size_t *lens = NULL;
  size_t count = 0, tn = n;
  if (n == 0 && !list)
    return 0;
  const char *t = trim_left (s, &tn);
  if (tn > 0 && t[0] == '[')
    {
      int r = dockerfile_json_string_array (t, tn, &v, &lens, &count);
      if (r < 0)
        return fail (p, line,
                     "when using JSON array syntax, arrays must be comprised of strings only");
      if (r > 0)
        {
          node->json_form = true;
          for (size_t i = 0; i < count; i++)
            node_arg (node, v[i], lens[i]);
          return 0;
        }
    }
  if (list)
    {
      if (n > 0)
        split_ws (node, s, n);
    }
  else
    node_arg (node, s, n);
  return 0;
}

static struct dockerfile_node *node_from_line (struct parser *p, const char *s, size_t n, int line,
                                               bool nested);

static int
parse_args (struct parser *p, struct dockerfile_node *node, const char *s, size_t n, int line,
            bool nested)
{
  const char *k = node->keyword;
  if (!strcmp (k, "add") || !strcmp (k, "copy") || !strcmp (k, "volume"))
    return parse_maybe_json (p, node, s, n, true, line);
  if (!strcmp (k, "run") || !strcmp (k, "cmd") || !strcmp (k, "entrypoint") || !strcmp (k, "shell"))
    return parse_maybe_json (p, node, s, n, false, line);
  if (!strcmp (k, "from") || !strcmp (k, "expose"))
    {
      if (n > 0)
        split_ws (node, s, n);
      return 0;
    }
  if (!strcmp (k, "maintainer") || !strcmp (k, "user") || !strcmp (k, "workdir")
      || !strcmp (k, "stopsignal"))
    {
      if (n > 0)
        node_arg (node, s, n);
      return 0;
    }
  if (!strcmp (k, "env") || !strcmp (k, "label"))
    return parse_name_val (p, node, s, n, !strcmp (k, "env") ? "ENV" : "LABEL", line);
  if (!strcmp (k, "arg"))
    {
      cleanup_strv char **words = parse_words (s, n, p->escape);
      for (size_t i = 0; words && words[i]; i++)
        node_arg_str (node, words[i]);
      return 0;
    }
  if (!strcmp (k, "healthcheck"))
    {
      size_t sep = 0, next;
      while (sep < n && !dockerfile_is_space_byte ((unsigned char)s[sep]))
        sep++;
      for (next = sep; next < n && dockerfile_is_space_byte ((unsigned char)s[next]); next++)
        ;
      if (sep == 0)
        return 0;
      node_arg (node, s, sep);
      return parse_maybe_json (p, node, s + next, n - next, false, line);
    }
  if (!strcmp (k, "onbuild"))
    {
      if (n == 0)
        return 0;
      if (nested)
        return 0; /* the caller rejects ONBUILD ONBUILD: no recursion */
      node->next = node_from_line (p, s, n, line, true);
      if (node->next == NULL)
        return -1;
      if (!strcmp (node->next->keyword, "onbuild"))
        return fail (p, line, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (!strcmp (node->next->keyword, "from") || !strcmp (node->next->keyword, "maintainer"))
        return fail (p, line, "%s isn't allowed as an ONBUILD trigger",
                     !strcmp (node->next->keyword, "from") ? "FROM" : "MAINTAINER");
      return 0;
    }
  node_arg_str (node, ""); /* unknown instruction: BuildKit's parseIgnore */
  return 0;
}

static void
node_clear (struct dockerfile_node *n)
{
  free (n->keyword);
  free (n->original);
  strv_free (n->flags);
  strv_free (n->args);
  free (n->args_len);
  for (size_t i = 0; i < n->n_heredocs; i++)
    dockerfile_heredoc_clear (&n->heredocs[i]);
  free (n->heredocs);
  if (n->next)
    {
      node_clear (n->next);
      free (n->next);
    }
  memset (n, 0, sizeof *n);
}

/* newNodeFromLine: keyword, flags, then the keyword's argument rule. */
static struct dockerfile_node *
node_from_line (struct parser *p, const char *s, size_t n, int line, bool nested)
{
  struct dockerfile_node *node = xzalloc (sizeof *node);
  const char *t = trim_left (s, &n);
  size_t i = 0;
  trim_right (t, &n);
  while (i < n && !is_ascii_ws (t[i]))
    i++;
  node->keyword = xstrndup (t, i);
  for (char *c = node->keyword; *c; c++)
    if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c + 32);
  node->original = xmalloc (n + 1);
  memcpy (node->original, t, n);
  node->original[n] = '\0';
  node->start_line = node->end_line = line;
  const char *rest = t + n;
  size_t rn = 0;
  if (i < n)
    {
      while (i < n && is_ascii_ws (t[i]))
        i++;
      size_t off = extract_flags (t + i, n - i, &node->flags);
      rest = t + i + off;
      rn = n - i - off;
      rest = trim_left (rest, &rn);
      trim_right (rest, &rn);
    }
  if (node->flags == NULL)
    node->flags = xzalloc (sizeof (char *));
  if (parse_args (p, node, rest, rn, line, nested) < 0)
    {
      node_clear (node);
      free (node);
      return NULL;
    }
  if (node->args == NULL)
    node->args = xzalloc (sizeof (char *));
  return node;
}

static bool
can_contain_heredoc (struct dockerfile_node *n)
{
  if (!strcmp (n->keyword, "onbuild") && n->next)
    n = n->next;
  return !n->json_form
         && (!strcmp (n->keyword, "run") || !strcmp (n->keyword, "copy")
             || !strcmp (n->keyword, "add"));
}

/* Read the bodies of the heredocs the instruction's line started. */
static int
read_heredocs (struct parser *p, struct dockerfile_node *node, const char *line, size_t len,
               int start)
{
  struct dockerfile_node *target = node->next ? node->next : node;
  nook_error_t herr = NULL;
  if (dockerfile_heredocs_from_line (line, len, &target->heredocs, &target->n_heredocs, &herr) < 0)
    {
      fail (p, start, "%s", herr->msg);
      nook_error_free (&herr);
      return -1;
    }
  for (size_t i = 0; i < target->n_heredocs; i++)
    {
      struct dockerfile_heredoc *h = &target->heredocs[i];
      struct strbuf body = { 0 };
      const char *s;
      size_t n;
      bool terminated = false;
      size_t nlen = strlen (h->name);
      while (next_line (p, &s, &n))
        {
          p->line++;
          size_t tn = n;
          const char *t = s;
          trim_newline (s, &tn);
          if (h->strip_tabs)
            while (tn > 0 && *t == '\t')
              t++, tn--;
          if (tn == nlen && memcmp (t, h->name, nlen) == 0)
            {
              terminated = true;
              break;
            }
          if (h->strip_tabs)
            while (n > 0 && *s == '\t')
              s++, n--;
          strbuf_appendn (&body, s, n);
        }
      h->content = strbuf_steal (&body);
      if (!terminated)
        return fail (p, start, "unterminated heredoc");
    }
  return 0;
}

static void
add_node (struct parser *p, struct dockerfile_node *node)
{
  struct dockerfile *df = p->df;
  if (df->n_nodes == p->nodes_cap)
    {
      p->nodes_cap = p->nodes_cap ? p->nodes_cap * 2 : 64;
      df->nodes = xreallocarray (df->nodes, p->nodes_cap, sizeof *df->nodes);
    }
  df->nodes[df->n_nodes++] = *node;
  free (node);
}

/* One instruction starting with the physical line s (already read). */
static int
parse_instruction (struct parser *p, const char *s, size_t n)
{
  struct strbuf line = { 0 };
  struct dockerfile_node *node = NULL;
  bool is_end, empty_cont = false;
  if (process_line (p, &s, &n, true) < 0)
    return -1;
  p->line++;
  int start = p->line;
  is_end = trim_continuation (p, s, &n);
  if (is_end && n == 0)
    return 0;
  strbuf_appendn (&line, s, n);
  while (!is_end && next_line (p, &s, &n))
    {
      const char *raw = s;
      size_t rawn = n;
      if (process_line (p, &s, &n, false) < 0)
        goto err;
      p->line++;
      if (is_comment (raw, rawn))
        continue;
      size_t tn = n;
      trim_left (s, &tn);
      if (tn == 0)
        {
          empty_cont = true;
          continue;
        }
      is_end = trim_continuation (p, s, &n);
      strbuf_appendn (&line, s, n);
    }
  if (line.len > DOCKERFILE_MAX_SIZE)
    {
      fail (p, start, "instruction too long");
      goto err;
    }
  if (empty_cont)
    strv_push_take (&p->df->warnings,
                    xasprintf ("[WARNING]: Empty continuation line found in:\n    %.*s",
                               (int)line.len, line.buf));
  node = node_from_line (p, line.buf, line.len, start, false);
  if (node == NULL)
    goto err;
  if (can_contain_heredoc (node) && read_heredocs (p, node, line.buf, line.len, start) < 0)
    {
      node_clear (node);
      free (node);
      goto err;
    }
  node->end_line = p->line;
  node->empty_continuation = empty_cont;
  if (node->next)
    node->next->end_line = p->line;
  add_node (p, node);
  strbuf_free (&line);
  return 0;
err:
  strbuf_free (&line);
  return -1;
}

int
dockerfile_parse (const char *buf, size_t len, const char *filename, struct dockerfile **out,
                  nook_error_t *err)
{
  cleanup_dockerfile struct dockerfile *df = xzalloc (sizeof *df);
  struct parser p = { .buf = buf,
                      .len = len,
                      .filename = filename ? filename : "Dockerfile",
                      .escape = '\\',
                      .df = df,
                      .err = err };
  const char *s;
  size_t n;
  df->escape = '\\';
  if (len > DOCKERFILE_MAX_SIZE)
    return nook_error_set_exit (err, 1, EFBIG, "%s: larger than %u bytes", p.filename,
                                DOCKERFILE_MAX_SIZE);
  for (int line = 1; next_line (&p, &s, &n); line++)
    if (n > DOCKERFILE_MAX_LINE + 2)
      return fail (&p, line, "dockerfile line greater than max allowed size of %u",
                   DOCKERFILE_MAX_LINE);
  p.pos = 0;
  while (next_line (&p, &s, &n))
    {
      if (p.line == 0 && n >= 3 && memcmp (s, "\xef\xbb\xbf", 3) == 0)
        s += 3, n -= 3;
      if (parse_instruction (&p, s, n) < 0)
        return -1;
    }
  if (df->n_nodes == 0)
    return fail (&p, p.line, "file with no instructions");
  df->start_line = df->nodes[0].start_line;
  df->end_line = df->nodes[df->n_nodes - 1].end_line;
  *out = steal_pointer (&df);
  return 0;
}

int
dockerfile_parse_file (const char *path, struct dockerfile **out, nook_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  if (fs_read_file_at (AT_FDCWD, path, DOCKERFILE_MAX_SIZE, &buf, &len, err) < 0)
    return -1;
  return dockerfile_parse (buf, len, path, out, err);
}

void
dockerfile_free (struct dockerfile *df)
{
  if (df == NULL)
    return;
  for (size_t i = 0; i < df->n_nodes; i++)
    node_clear (&df->nodes[i]);
  free (df->nodes);
  free (df->syntax);
  free (df->check);
  strv_free (df->warnings);
  free (df);
}

void
cleanup_dockerfilep (struct dockerfile **df)
{
  dockerfile_free (*df);
}
