/* imagefmt/dockerfile/ignore.c: .dockerignore parsing and matching.
 *
 * A file is read as ignorefile.ReadAll reads it, each pattern cleaned as Go's
 * filepath.Clean does; ignore_match.c compiles each pattern and matches it. */
#include "imagefmt/dockerfile/ignore.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "imagefmt/dockerfile/internal.h"
#include "util/cleanup.h"
#include "util/util.h"

#define MAX_LINE (64 * 1024) /* bufio.Scanner's token limit */

struct dockerfile_ignore
{
  struct dockerfile_ignore_pat *p;
  size_t n;
  bool exceptions;
};

/* ---- Go's strings and paths ---- */

/* strings.TrimSpace: returns a new string. */
static char *
go_trim_space (const char *s, size_t len)
{
  size_t a = 0, b = len, w;
  while (a < b
         && dockerfile_rune_is_space (
             dockerfile_decode_rune ((const unsigned char *)s + a, b - a, &w)))
    a += w;
  while (b > a)
    {
      size_t k = b - 1, w2;
      while (k > a && ((unsigned char)s[k] & 0xC0) == 0x80 && b - k < 4)
        k--;
      if (!dockerfile_rune_is_space (
              dockerfile_decode_rune ((const unsigned char *)s + k, b - k, &w2))
          || k + w2 != b)
        break;
      b = k;
    }
  return xstrndup (s + a, b - a);
}

/* Go's path/filepath.Clean for '/' paths. */
static char *
go_clean (const char *p)
{
  bool rooted = p[0] == '/';
  size_t len = strlen (p), n = 0, dotdot = 0;
  cleanup_free char *buf = xmalloc (len + 2);
  const char *s = p;

  if (rooted)
    buf[n++] = '/', dotdot = 1;
  while (*s != '\0')
    {
      size_t c = strcspn (s, "/");
      if (c == 0 || (c == 1 && s[0] == '.'))
        ;
      else if (c == 2 && s[0] == '.' && s[1] == '.')
        {
          if (n > dotdot)
            {
              n--;
              while (n > dotdot && buf[n] != '/')
                n--;
            }
          else if (!rooted)
            {
              if (n > 0)
                buf[n++] = '/';
              buf[n++] = '.', buf[n++] = '.';
              dotdot = n;
            }
        }
      else
        {
          if ((rooted && n != 1) || (!rooted && n != 0))
            buf[n++] = '/';
          memcpy (buf + n, s, c);
          n += c;
        }
      s += c;
      while (*s == '/')
        s++;
    }
  if (n == 0)
    return xstrdup (".");
  buf[n] = '\0';
  return steal_pointer (&buf);
}

/* ---- Matching: the last pattern that matches decides ---- */

int
dockerfile_ignore_matches (const struct dockerfile_ignore *ig, const char *relpath, bool *excluded,
                           nook_error_t *err)
{
  cleanup_free char *clean = go_clean (relpath);
  const char *path = clean;
  bool matched = false;

  while (*path == '/')
    path++;
  *excluded = false;
  if (*path == '\0' || strcmp (path, ".") == 0)
    return 0; /* the context itself */
  for (size_t i = 0; i < ig->n; i++)
    {
      const struct dockerfile_ignore_pat *p = &ig->p[i];
      if (p->exception != matched)
        continue;
      if (dockerfile_ignore_pat_match_or_parent (p, path))
        matched = !p->exception;
    }
  *excluded = matched;
  return 0;
}

bool
dockerfile_ignore_may_reinclude_below (const struct dockerfile_ignore *ig, const char *dir)
{
  cleanup_free char *clean = go_clean (dir);
  cleanup_free char *prefix = NULL;
  const char *d = clean;
  size_t plen;

  while (*d == '/')
    d++;
  prefix = xasprintf ("%s/", *d == '\0' || strcmp (d, ".") == 0 ? "" : d);
  plen = strlen (prefix);
  for (size_t i = 0; i < ig->n; i++)
    {
      const struct dockerfile_ignore_pat *p = &ig->p[i];
      if (!p->exception)
        continue;
      if (plen == 1 || dockerfile_ignore_pat_match_or_parent (p, d))
        return true;
      if (dockerfile_ignore_pat_may_match_below (p, prefix, plen))
        return true;
    }
  return false;
}

/* ---- Parsing (ignorefile.ReadAll, then patternmatcher.New) ---- */

/* One line as ReadAll leaves it: NULL if skipped. */
static char *
read_line (const char *line, size_t len, bool first)
{
  cleanup_free char *t = NULL;
  bool invert;

  if (first && len >= 3 && memcmp (line, "\xEF\xBB\xBF", 3) == 0)
    line += 3, len -= 3;
  if (len > 0 && line[0] == '#')
    return NULL;
  t = go_trim_space (line, len);
  if (*t == '\0')
    return NULL;
  invert = t[0] == '!';
  if (invert)
    {
      char *u = go_trim_space (t + 1, strlen (t + 1));
      free (t);
      t = u;
    }
  if (*t != '\0')
    {
      char *c = go_clean (t);
      free (t);
      t = c;
      if (strlen (t) > 1 && t[0] == '/')
        memmove (t, t + 1, strlen (t));
    }
  return invert ? xasprintf ("!%s", t) : steal_pointer (&t);
}

static int
add_pattern (struct dockerfile_ignore *ig, const char *line_text, size_t lineno, nook_error_t *err)
{
  cleanup_free char *t = go_trim_space (line_text, strlen (line_text));
  cleanup_free char *clean = NULL;
  struct dockerfile_ignore_pat p = { 0 };
  const char *why;

  if (*t == '\0')
    return 0;
  clean = go_clean (t);
  if (clean[0] == '!')
    {
      if (clean[1] == '\0')
        return nook_error_set (err, EINVAL,
                               ".dockerignore line %zu: illegal exclusion pattern "
                               "\"!\"",
                               lineno);
      p.exception = true;
      ig->exceptions = true;
    }
  p.text = xstrdup (clean + p.exception);
  if (dockerfile_ignore_pat_compile (&p, &why) < 0)
    goto bad;
  if (ig->n % 16 == 0)
    ig->p = xreallocarray (ig->p, ig->n + 16, sizeof *ig->p);
  ig->p[ig->n++] = p;
  return 0;
bad:
  nook_error_set (err, EINVAL, ".dockerignore line %zu: bad pattern '%s': %s", lineno, p.text, why);
  free (p.text);
  return -1;
}

int
dockerfile_ignore_parse (const char *buf, size_t len, struct dockerfile_ignore **out,
                         nook_error_t *err)
{
  struct dockerfile_ignore *ig = xzalloc (sizeof *ig);
  size_t lineno = 0;

  for (size_t pos = 0; pos < len;)
    {
      const char *nl = memchr (buf + pos, '\n', len - pos);
      size_t l = nl ? (size_t)(nl - (buf + pos)) : len - pos;
      cleanup_free char *text = NULL;
      cleanup_free char *line = NULL;

      lineno++;
      if (l >= MAX_LINE)
        {
          dockerfile_ignore_free (ig);
          return nook_error_set (err, EINVAL, ".dockerignore line %zu: line too long", lineno);
        }
      line = xstrndup (buf + pos, l);
      l = strlen (line); /* a NUL ends the line early */
      if (l > 0 && line[l - 1] == '\r')
        line[--l] = '\0';
      pos = nl ? (size_t)(nl - buf) + 1 : len;
      text = read_line (line, l, lineno == 1);
      if (text != NULL && add_pattern (ig, text, lineno, err) < 0)
        {
          dockerfile_ignore_free (ig);
          return -1;
        }
    }
  *out = ig;
  return 0;
}

size_t
dockerfile_ignore_count (const struct dockerfile_ignore *ig)
{
  return ig->n;
}

const char *
dockerfile_ignore_pattern (const struct dockerfile_ignore *ig, size_t i, bool *exception)
{
  if (i >= ig->n)
    return NULL;
  if (exception != NULL)
    *exception = ig->p[i].exception;
  return ig->p[i].text;
}

void
dockerfile_ignore_free (struct dockerfile_ignore *ig)
{
  if (ig == NULL)
    return;
  for (size_t i = 0; i < ig->n; i++)
    {
      dockerfile_ignore_pat_clear (&ig->p[i]);
    }
  free (ig->p);
  free (ig);
}
