/* imagefmt/dockerfile/ignore_match.c: one .dockerignore pattern, checked,
 * compiled and matched as moby/patternmatcher does it.
 *
 * patternmatcher turns each pattern into a Go regexp string (`*` is "[^/]*",
 * `?` is "[^/]", `**` an optional group of ".*" and a slash, or ".*" at the end,
 * the characters . + ( ) | { } $ escaped, a backslash and the next character copied,
 * [ and ] copied) or, for plain patterns, into an exact, prefix or suffix test.
 * We build the same regexp string and compile the small subset of Go's syntax
 * it can contain (classes, escapes, `*`, `^`) into an NFA. */
#include "imagefmt/dockerfile/internal.h"

#include <stdint.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/util.h"

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

struct dockerfile_ignore_item
{
  enum item_kind kind;
  bool star;
  struct atom_class cls;
};

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
  if (dockerfile_decode_rune ((const unsigned char *)c, (size_t)(end - c), &w) == 0xFFFD && w == 1)
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
build_regexp (const char *pat, enum dockerfile_ignore_match_type *type)
{
  struct strbuf re = { 0 };
  size_t len = strlen (pat), i = 0, w;
  enum dockerfile_ignore_match_type t = IGNORE_MATCH_EXACT;

  strbuf_append (&re, "^");
  if (len >= 3 && memcmp (pat, "\xEF\xBB\xBF", 3) == 0)
    i = 3; /* text/scanner skips a leading BOM */
  for (int k = 0; i < len; k++)
    {
      int32_t ch = dockerfile_decode_rune ((const unsigned char *)pat + i, len - i, &w);
      i += w;
      if (ch == '*' && i < len && pat[i] == '*')
        {
          i++;
          if (i < len && pat[i] == '/')
            i++;
          if (i >= len)
            {
              if (t == IGNORE_MATCH_EXACT)
                t = IGNORE_MATCH_PREFIX;
              else
                strbuf_append (&re, ".*"), t = IGNORE_MATCH_REGEXP;
            }
          else
            strbuf_append (&re, "(.*/)?"), t = IGNORE_MATCH_REGEXP;
          if (k == 0)
            t = IGNORE_MATCH_SUFFIX;
        }
      else if (ch == '*')
        strbuf_append (&re, "[^/]*"), t = IGNORE_MATCH_REGEXP;
      else if (ch == '?')
        strbuf_append (&re, "[^/]"), t = IGNORE_MATCH_REGEXP;
      else if (should_escape (ch))
        strbuf_appendc (&re, '\\'), strbuf_appendc (&re, (char)ch);
      else if (ch == '\\')
        {
          strbuf_appendc (&re, '\\');
          if (i < len)
            {
              dockerfile_put_rune (
                  &re, dockerfile_decode_rune ((const unsigned char *)pat + i, len - i, &w));
              i += w;
              t = IGNORE_MATCH_REGEXP;
            }
        }
      else if (ch == '[' || ch == ']')
        strbuf_appendc (&re, (char)ch), t = IGNORE_MATCH_REGEXP;
      else
        dockerfile_put_rune (&re, ch);
    }
  if (t == IGNORE_MATCH_REGEXP)
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
  c = dockerfile_decode_rune ((const unsigned char *)*s, (size_t)(end - *s), &w);
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
        lo = dockerfile_decode_rune ((const unsigned char *)s, (size_t)(end - s), &w), s += w;
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
            hi = dockerfile_decode_rune ((const unsigned char *)s, (size_t)(end - s), &w), s += w;
          if (hi < lo)
            return *why = "invalid character class range", -1;
        }
      cls_add (c, lo, hi);
    }
  *sp = s + 1;
  return 0;
}

static void
items_free (struct dockerfile_ignore_item *items, size_t n)
{
  for (size_t i = 0; items != NULL && i < n; i++)
    free (items[i].cls.r);
  free (items);
}

/* Compile "^...$" (as built above) into items; -1 with *why. */
static int
compile_regexp (const char *re, struct dockerfile_ignore_item **out, size_t *nout, const char **why)
{
  size_t len = strlen (re), n = 0;
  const char *s = re + 1, *end = re + len - 1; /* drop our own ^ and $ */
  struct dockerfile_ignore_item *items = xzalloc ((len + 1) * sizeof *items);

  while (s < end)
    {
      struct dockerfile_ignore_item *it = &items[n];
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
          int32_t r = dockerfile_decode_rune ((const unsigned char *)s, (size_t)(end - s), &w);
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
nfa_closure (const struct dockerfile_ignore_item *items, size_t m, bool *set, size_t pos)
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
nfa_run (const struct dockerfile_ignore_item *items, size_t m, const char *s, size_t len,
         bool *alive, bool *parent)
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
      int32_t r = dockerfile_decode_rune ((const unsigned char *)s + pos, len - pos, &w);
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
pattern_match (const struct dockerfile_ignore_pat *p, const char *path, size_t len)
{
  size_t plen = strlen (p->text);
  switch (p->type)
    {
    case IGNORE_MATCH_EXACT:
      return len == plen && memcmp (path, p->text, len) == 0;
    case IGNORE_MATCH_PREFIX:
      return len >= plen - 2 && memcmp (path, p->text, plen - 2) == 0;
    case IGNORE_MATCH_SUFFIX:
      {
        const char *suf = p->text + 2;
        size_t sl = plen - 2;
        if (len >= sl && memcmp (path + len - sl, suf, sl) == 0)
          return true;
        return suf[0] == '/' && len == sl - 1 && memcmp (path, suf + 1, len) == 0;
      }
    case IGNORE_MATCH_REGEXP:
      return nfa_run (p->items, p->nitems, path, len, NULL, NULL);
    }
  return false;
}

/* MatchesOrParentMatches for one pattern: the path or one of its parents. */
bool
dockerfile_ignore_pat_match_or_parent (const struct dockerfile_ignore_pat *p, const char *path)
{
  size_t len = strlen (path);
  const char *slash = strrchr (path, '/');
  bool parent = false;
  if (p->type == IGNORE_MATCH_REGEXP) /* one pass checks the path and every parent */
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

/* ---- Entry points for ignore.c ---- */

int
dockerfile_ignore_pat_compile (struct dockerfile_ignore_pat *p, const char **why)
{
  cleanup_free char *re = NULL;

  if ((*why = match_syntax_error (p->text)) != NULL)
    return -1;
  re = build_regexp (p->text, &p->type);
  if (p->type == IGNORE_MATCH_REGEXP && compile_regexp (re, &p->items, &p->nitems, why) < 0)
    return -1;
  return 0;
}

bool
dockerfile_ignore_pat_may_match_below (const struct dockerfile_ignore_pat *p, const char *prefix,
                                       size_t plen)
{
  size_t tl = strlen (p->text);
  bool alive = false;

  switch (p->type)
    {
    case IGNORE_MATCH_EXACT:
      if (tl > plen && memcmp (p->text, prefix, plen) == 0)
        return true;
      break;
    case IGNORE_MATCH_PREFIX:
      if (memcmp (p->text, prefix, (tl - 2 < plen ? tl - 2 : plen)) == 0)
        return true;
      break;
    case IGNORE_MATCH_SUFFIX:
      return true;
    case IGNORE_MATCH_REGEXP:
      nfa_run (p->items, p->nitems, prefix, plen, &alive, NULL);
      if (alive)
        return true;
      break;
    }
  return false;
}

void
dockerfile_ignore_pat_clear (struct dockerfile_ignore_pat *p)
{
  free (p->text);
  items_free (p->items, p->nitems);
}
