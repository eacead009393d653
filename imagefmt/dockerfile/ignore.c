/* imagefmt/dockerfile/ignore.c: .dockerignore parsing and matching.
 *
 * patternmatcher turns each pattern into a Go regexp string (`*` is "[^/]*",
 * `?` is "[^/]", `**` an optional group of ".*" and a slash, or ".*" at the end,
 * the characters . + ( ) | { } $ escaped, a backslash and the next character copied,
 * [ and ] copied) or, for plain patterns, into an exact, prefix or suffix test.
 * We build the same regexp string and compile the small subset of Go's syntax
 * it can contain (classes, escapes, `*`, `^`) into an NFA. */
#include "imagefmt/dockerfile/ignore.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/util.h"

#define MAX_LINE (64 * 1024) /* bufio.Scanner's token limit */

enum match_type
{
  MATCH_EXACT,
  MATCH_PREFIX,
  MATCH_SUFFIX,
  MATCH_REGEXP,
};

struct crange
{
  int32_t lo, hi;
};

/* One regexp atom: a set of runes (a literal is a one-rune set). */
struct atom_class
{
  struct crange *r;
  size_t n;
  bool neg;
};

enum item_kind
{
  ITEM_ATOM,  /* class, once or (star) any number of times */
  ITEM_DSTAR, /* the group "(.*" "/)?" */
  ITEM_BOL,   /* ^ */
};

struct item
{
  enum item_kind kind;
  bool star;
  struct atom_class cls;
};

struct pattern
{
  char *text; /* cleaned, without '!' */
  bool exception;
  enum match_type type;
  struct item *items;
  size_t nitems;
};

struct dockerfile_ignore
{
  struct pattern *p;
  size_t n;
  bool exceptions;
};

/* ---- UTF-8 as Go decodes it ---- */

static int32_t
decode_rune (const unsigned char *s, size_t n, size_t *width)
{
  unsigned char c = s[0], lo = 0x80, hi = 0xBF;
  size_t need;
  int32_t r;

  *width = 1;
  if (c < 0x80)
    return c;
  if (c >= 0xC2 && c <= 0xDF)
    need = 1, r = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    need = 2, r = c & 0x0F, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4)
    need = 3, r = c & 0x07, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  else
    return 0xFFFD;
  if (n < need + 1 || s[1] < lo || s[1] > hi)
    return 0xFFFD;
  for (size_t i = 1; i <= need; i++)
    {
      if (i > 1 && (s[i] < 0x80 || s[i] > 0xBF))
        return 0xFFFD;
      r = (r << 6) | (s[i] & 0x3F);
    }
  *width = need + 1;
  return r;
}

static bool
is_go_space (int32_t r)
{
  return (r >= '\t' && r <= '\r') || r == ' ' || r == 0x85 || r == 0xA0 || r == 0x1680
         || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F || r == 0x205F
         || r == 0x3000;
}

/* strings.TrimSpace: returns a new string. */
static char *
go_trim_space (const char *s, size_t len)
{
  size_t a = 0, b = len, w;
  while (a < b && is_go_space (decode_rune ((const unsigned char *)s + a, b - a, &w)))
    a += w;
  while (b > a)
    {
      size_t k = b - 1, w2;
      while (k > a && ((unsigned char)s[k] & 0xC0) == 0x80 && b - k < 4)
        k--;
      if (!is_go_space (decode_rune ((const unsigned char *)s + k, b - k, &w2)) || k + w2 != b)
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

static void
put_rune (struct strbuf *b, int32_t r)
{
  char u[4];
  if (r < 0x80)
    strbuf_appendc (b, (char)r);
  else if (r < 0x800)
    {
      u[0] = (char)(0xC0 | (r >> 6)), u[1] = (char)(0x80 | (r & 0x3F));
      strbuf_appendn (b, u, 2);
    }
  else if (r < 0x10000)
    {
      u[0] = (char)(0xE0 | (r >> 12)), u[1] = (char)(0x80 | ((r >> 6) & 0x3F));
      u[2] = (char)(0x80 | (r & 0x3F));
      strbuf_appendn (b, u, 3);
    }
  else
    {
      u[0] = (char)(0xF0 | (r >> 18)), u[1] = (char)(0x80 | ((r >> 12) & 0x3F));
      u[2] = (char)(0x80 | ((r >> 6) & 0x3F)), u[3] = (char)(0x80 | (r & 0x3F));
      strbuf_appendn (b, u, 4);
    }
}

/* ---- Syntax check: what Go's filepath.Match(p, ".") rejects ---- */

/* getEsc: one class character, possibly escaped. */
static const char *
class_char (const char *c, const char *end)
{
  size_t w;
  if (c >= end || *c == '-' || *c == ']')
    return NULL;
  if (*c == '\\' && ++c >= end)
    return NULL;
  if (decode_rune ((const unsigned char *)c, (size_t)(end - c), &w) == 0xFFFD && w == 1)
    return NULL;
  c += w;
  return c < end ? c : NULL;
}

static const char *
match_syntax_error (const char *p)
{
  const char *end = p + strlen (p);
  for (const char *c = p; c < end;)
    {
      if (*c == '\\')
        {
          if (c + 1 >= end)
            return "trailing '\\'";
          c += 2;
        }
      else if (*c == '[')
        {
          int nrange = 0;
          c++;
          if (c < end && *c == '^')
            c++;
          for (;;)
            {
              if (c < end && *c == ']' && nrange > 0)
                {
                  c++;
                  break;
                }
              if ((c = class_char (c, end)) == NULL)
                return "bad '[' character class";
              if (*c == '-' && (c = class_char (c + 1, end)) == NULL)
                return "bad range in '[' character class";
              nrange++;
            }
        }
      else
        c++;
    }
  return NULL;
}

/* ---- patternmatcher's regexp string ---- */

static bool
should_escape (int32_t r)
{
  return r < 0x80 && r != 0 && strchr (".+()|{}$", r) != NULL;
}

static char *
build_regexp (const char *pat, enum match_type *type)
{
  struct strbuf re = { 0 };
  size_t len = strlen (pat), i = 0, w;
  enum match_type t = MATCH_EXACT;

  strbuf_append (&re, "^");
  if (len >= 3 && memcmp (pat, "\xEF\xBB\xBF", 3) == 0)
    i = 3; /* text/scanner skips a leading BOM */
  for (int k = 0; i < len; k++)
    {
      int32_t ch = decode_rune ((const unsigned char *)pat + i, len - i, &w);
      i += w;
      if (ch == '*' && i < len && pat[i] == '*')
        {
          i++;
          if (i < len && pat[i] == '/')
            i++;
          if (i >= len)
            {
              if (t == MATCH_EXACT)
                t = MATCH_PREFIX;
              else
                strbuf_append (&re, ".*"), t = MATCH_REGEXP;
            }
          else
            strbuf_append (&re, "(.*/)?"), t = MATCH_REGEXP;
          if (k == 0)
            t = MATCH_SUFFIX;
        }
      else if (ch == '*')
        strbuf_append (&re, "[^/]*"), t = MATCH_REGEXP;
      else if (ch == '?')
        strbuf_append (&re, "[^/]"), t = MATCH_REGEXP;
      else if (should_escape (ch))
        strbuf_appendc (&re, '\\'), strbuf_appendc (&re, (char)ch);
      else if (ch == '\\')
        {
          strbuf_appendc (&re, '\\');
          if (i < len)
            {
              put_rune (&re, decode_rune ((const unsigned char *)pat + i, len - i, &w));
              i += w;
              t = MATCH_REGEXP;
            }
        }
      else if (ch == '[' || ch == ']')
        strbuf_appendc (&re, (char)ch), t = MATCH_REGEXP;
      else
        put_rune (&re, ch);
    }
  if (t == MATCH_REGEXP)
    strbuf_append (&re, "$");
  *type = t;
  return strbuf_steal (&re);
}

/* ---- The Go regexp subset those strings use ---- */

static void
cls_add (struct atom_class *c, int32_t lo, int32_t hi)
{
  if ((c->n & (c->n - 1)) == 0) /* grow at 0, 1, 2, 4, 8, ... */
    c->r = xreallocarray (c->r, c->n ? 2 * c->n : 1, sizeof *c->r);
  c->r[c->n++] = (struct crange){ lo, hi };
}

/* Add ranges (sorted, disjoint), or their complement. */
static void
cls_add_set (struct atom_class *c, const struct crange *r, size_t n, bool negate)
{
  int32_t next = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (!negate)
        cls_add (c, r[i].lo, r[i].hi);
      else if (r[i].lo > next)
        cls_add (c, next, r[i].lo - 1);
      next = r[i].hi + 1;
    }
  if (negate)
    cls_add (c, next, 0x10FFFF);
}

static const struct crange R_DIGIT[] = { { '0', '9' } };
static const struct crange R_SPACE[] = { { '\t', '\n' }, { '\f', '\r' }, { ' ', ' ' } };
static const struct crange R_WORD[] = { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } };

/* \d \D \s \S \w \W; false if `e` is none of them. */
static bool
perl_class (struct atom_class *c, char e)
{
  switch (e)
    {
    case 'd':
    case 'D':
      cls_add_set (c, R_DIGIT, ARRAY_SIZE (R_DIGIT), e == 'D');
      return true;
    case 's':
    case 'S':
      cls_add_set (c, R_SPACE, ARRAY_SIZE (R_SPACE), e == 'S');
      return true;
    case 'w':
    case 'W':
      cls_add_set (c, R_WORD, ARRAY_SIZE (R_WORD), e == 'W');
      return true;
    default:
      return false;
    }
}

static const struct
{
  const char *name;
  struct crange r[4];
  size_t n;
} posix_classes[] = {
  { "alnum", { { '0', '9' }, { 'A', 'Z' }, { 'a', 'z' } }, 3 },
  { "alpha", { { 'A', 'Z' }, { 'a', 'z' } }, 2 },
  { "ascii", { { 0, 0x7F } }, 1 },
  { "blank", { { '\t', '\t' }, { ' ', ' ' } }, 2 },
  { "cntrl", { { 0, 0x1F }, { 0x7F, 0x7F } }, 2 },
  { "digit", { { '0', '9' } }, 1 },
  { "graph", { { '!', '~' } }, 1 },
  { "lower", { { 'a', 'z' } }, 1 },
  { "print", { { ' ', '~' } }, 1 },
  { "punct", { { '!', '/' }, { ':', '@' }, { '[', '`' }, { '{', '~' } }, 4 },
  { "space", { { '\t', '\r' }, { ' ', ' ' } }, 2 },
  { "upper", { { 'A', 'Z' } }, 1 },
  { "word", { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } }, 4 },
  { "xdigit", { { '0', '9' }, { 'A', 'F' }, { 'a', 'f' } }, 3 },
};

/* A single-rune escape after `\` (not a class); -1 with *why if unsupported. */
static int32_t
escape_rune (const char **s, const char *end, const char **why)
{
  size_t w;
  int32_t c;
  if (*s >= end)
    return *why = "trailing backslash", -1;
  c = decode_rune ((const unsigned char *)*s, (size_t)(end - *s), &w);
  *s += w;
  if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
    return c;
  switch (c)
    {
    case 'a':
      return 7;
    case 'f':
      return '\f';
    case 't':
      return '\t';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 'v':
      return '\v';
    default:
      *why = "unsupported escape sequence (Go regexp feature)";
      return -1;
    }
}

static int
parse_class (const char **sp, const char *end, struct atom_class *c, const char **why)
{
  const char *s = *sp;
  bool first = true;
  size_t w;

  if (s < end && *s == '^')
    c->neg = true, s++;
  while (s >= end || *s != ']' || first)
    {
      int32_t lo, hi;
      first = false;
      if (s >= end)
        return *why = "missing closing ]", -1;
      if (end - s > 2 && s[0] == '[' && s[1] == ':')
        {
          const char *close = memmem (s + 2, (size_t)(end - s - 2), ":]", 2);
          if (close != NULL)
            {
              const char *nm = s + 2;
              bool neg = *nm == '^';
              size_t i, len;
              nm += neg;
              len = (size_t)(close - nm);
              for (i = 0; i < ARRAY_SIZE (posix_classes); i++)
                if (strlen (posix_classes[i].name) == len
                    && memcmp (posix_classes[i].name, nm, len) == 0)
                  break;
              if (i == ARRAY_SIZE (posix_classes))
                return *why = "invalid character class name", -1;
              cls_add_set (c, posix_classes[i].r, posix_classes[i].n, neg);
              s = close + 2;
              continue;
            }
        }
      if (*s == '\\' && end - s > 1 && perl_class (c, s[1]))
        {
          s += 2;
          continue;
        }
      if (*s == '\\')
        {
          s++;
          if ((lo = escape_rune (&s, end, why)) < 0)
            return -1;
        }
      else
        lo = decode_rune ((const unsigned char *)s, (size_t)(end - s), &w), s += w;
      hi = lo;
      if (end - s >= 2 && s[0] == '-' && s[1] != ']')
        {
          s++;
          if (*s == '\\')
            {
              s++;
              if ((hi = escape_rune (&s, end, why)) < 0)
                return -1;
            }
          else
            hi = decode_rune ((const unsigned char *)s, (size_t)(end - s), &w), s += w;
          if (hi < lo)
            return *why = "invalid character class range", -1;
        }
      cls_add (c, lo, hi);
    }
  *sp = s + 1;
  return 0;
}

static void
items_free (struct item *items, size_t n)
{
  for (size_t i = 0; items != NULL && i < n; i++)
    free (items[i].cls.r);
  free (items);
}

/* Compile "^...$" (as built above) into items; -1 with *why. */
static int
compile_regexp (const char *re, struct item **out, size_t *nout, const char **why)
{
  size_t len = strlen (re), n = 0;
  const char *s = re + 1, *end = re + len - 1; /* drop our own ^ and $ */
  struct item *items = xzalloc ((len + 1) * sizeof *items);

  while (s < end)
    {
      struct item *it = &items[n];
      size_t w;
      if (*s == '*')
        {
          if (n == 0 || items[n - 1].kind != ITEM_ATOM)
            {
              *why = "missing argument to repetition operator";
              goto fail;
            }
          if (items[n - 1].star)
            {
              *why = "invalid nested repetition operator";
              goto fail;
            }
          items[n - 1].star = true;
          s++;
          continue;
        }
      n++;
      it->kind = ITEM_ATOM;
      if (*s == '^')
        it->kind = ITEM_BOL, s++;
      else if ((size_t)(end - s) >= 6 && memcmp (s, "(.*/)?", 6) == 0)
        it->kind = ITEM_DSTAR, s += 6;
      else if (*s == '.')
        it->cls.neg = true, cls_add (&it->cls, '\n', '\n'), s++;
      else if (*s == '[')
        {
          s++;
          if (parse_class (&s, end, &it->cls, why) < 0)
            goto fail;
        }
      else if (*s == '\\' && end - s > 1 && perl_class (&it->cls, s[1]))
        s += 2;
      else if (*s == '\\')
        {
          int32_t r;
          s++;
          if ((r = escape_rune (&s, end, why)) < 0)
            goto fail;
          cls_add (&it->cls, r, r);
        }
      else if (strchr ("()|?+{", *s) != NULL)
        {
          *why = "unexpected regexp operator";
          goto fail;
        }
      else
        {
          int32_t r = decode_rune ((const unsigned char *)s, (size_t)(end - s), &w);
          s += w;
          cls_add (&it->cls, r, r);
        }
    }
  *out = items;
  *nout = n;
  return 0;
fail:
  items_free (items, n + 1);
  return -1;
}

static bool
cls_has (const struct atom_class *c, int32_t r)
{
  for (size_t i = 0; i < c->n; i++)
    if (r >= c->r[i].lo && r <= c->r[i].hi)
      return !c->neg;
  return c->neg;
}

/* ---- Matching ---- */

static void
nfa_closure (const struct item *items, size_t m, bool *set, size_t pos)
{
  for (size_t i = 0; i < m; i++)
    {
      if (!set[2 * i])
        continue;
      if ((items[i].kind == ITEM_BOL && pos == 0) || (items[i].kind == ITEM_ATOM && items[i].star))
        set[2 * (i + 1)] = true;
      else if (items[i].kind == ITEM_DSTAR)
        set[2 * i + 1] = set[2 * (i + 1)] = true;
    }
}

/* Run the NFA over s; true if it matches all of s.  *alive: some state is
   still active at the end (a longer string could still match).  *parent: it
   matched a prefix of s that ends before a '/' (a parent directory). */
static bool
nfa_run (const struct item *items, size_t m, const char *s, size_t len, bool *alive, bool *parent)
{
  size_t ns = 2 * m + 1;
  cleanup_free bool *cur = xzalloc (ns * sizeof *cur);
  cleanup_free bool *nxt = xzalloc (ns * sizeof *nxt);
  size_t pos = 0, w;
  bool any = true;

  cur[0] = true;
  nfa_closure (items, m, cur, 0);
  while (pos < len && any)
    {
      int32_t r = decode_rune ((const unsigned char *)s + pos, len - pos, &w);
      if (parent != NULL && r == '/' && pos > 0 && cur[2 * m])
        *parent = true;
      memset (nxt, 0, ns * sizeof *nxt);
      for (size_t i = 0; i < m; i++)
        {
          if (cur[2 * i] && items[i].kind == ITEM_ATOM && cls_has (&items[i].cls, r))
            nxt[items[i].star ? 2 * i : 2 * (i + 1)] = true;
          if (cur[2 * i + 1] && r != '\n')
            nxt[2 * i + 1] = true;
          if (cur[2 * i + 1] && r == '/')
            nxt[2 * (i + 1)] = true;
        }
      pos += w;
      nfa_closure (items, m, nxt, pos);
      bool *t = cur;
      cur = nxt;
      nxt = t;
      any = false;
      for (size_t i = 0; i < ns && !any; i++)
        any = cur[i];
    }
  if (alive != NULL)
    *alive = any;
  return pos == len && cur[2 * m];
}

/* patternmatcher Pattern.match */
static bool
pattern_match (const struct pattern *p, const char *path, size_t len)
{
  size_t plen = strlen (p->text);
  switch (p->type)
    {
    case MATCH_EXACT:
      return len == plen && memcmp (path, p->text, len) == 0;
    case MATCH_PREFIX:
      return len >= plen - 2 && memcmp (path, p->text, plen - 2) == 0;
    case MATCH_SUFFIX:
      {
        const char *suf = p->text + 2;
        size_t sl = plen - 2;
        if (len >= sl && memcmp (path + len - sl, suf, sl) == 0)
          return true;
        return suf[0] == '/' && len == sl - 1 && memcmp (path, suf + 1, len) == 0;
      }
    case MATCH_REGEXP:
      return nfa_run (p->items, p->nitems, path, len, NULL, NULL);
    }
  return false;
}

/* MatchesOrParentMatches for one pattern: the path or one of its parents. */
static bool
pattern_match_or_parent (const struct pattern *p, const char *path)
{
  size_t len = strlen (path);
  const char *slash = strrchr (path, '/');
  bool parent = false;
  if (p->type == MATCH_REGEXP) /* one pass checks the path and every parent */
    return nfa_run (p->items, p->nitems, path, len, NULL, &parent) || parent;
  if (pattern_match (p, path, len))
    return true;
  if (slash == NULL || slash == path)
    return false; /* filepath.Dir is "." (or "/") */
  for (const char *c = path; c != NULL && c <= slash; c = strchr (c + 1, '/'))
    if (*c == '/' && c > path && pattern_match (p, path, (size_t)(c - path)))
      return true;
  return false;
}

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
      const struct pattern *p = &ig->p[i];
      if (p->exception != matched)
        continue;
      if (pattern_match_or_parent (p, path))
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
      const struct pattern *p = &ig->p[i];
      size_t tl = strlen (p->text);
      bool alive = false;
      if (!p->exception)
        continue;
      if (plen == 1 || pattern_match_or_parent (p, d))
        return true;
      switch (p->type)
        {
        case MATCH_EXACT:
          if (tl > plen && memcmp (p->text, prefix, plen) == 0)
            return true;
          break;
        case MATCH_PREFIX:
          if (memcmp (p->text, prefix, (tl - 2 < plen ? tl - 2 : plen)) == 0)
            return true;
          break;
        case MATCH_SUFFIX:
          return true;
        case MATCH_REGEXP:
          nfa_run (p->items, p->nitems, prefix, plen, &alive, NULL);
          if (alive)
            return true;
          break;
        }
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
  cleanup_free char *clean = NULL, *re = NULL;
  struct pattern p = { 0 };
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
  if ((why = match_syntax_error (p.text)) != NULL)
    goto bad;
  re = build_regexp (p.text, &p.type);
  if (p.type == MATCH_REGEXP && compile_regexp (re, &p.items, &p.nitems, &why) < 0)
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
      free (ig->p[i].text);
      items_free (ig->p[i].items, ig->p[i].nitems);
    }
  free (ig->p);
  free (ig);
}
