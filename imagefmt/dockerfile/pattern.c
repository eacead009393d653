/* imagefmt/dockerfile/pattern.c: the shell patterns of ${v#p}, ${v%p} and
 * ${v/p/r} (BuildKit's frontend/dockerfile/shell/lex.go).
 *
 * The patterns are what lex.go turns into Go regular expressions: `*` is
 * `.*` (or `.*?`), `?` is `.`, neither matches a newline; they are matched here
 * by a small NFA that picks the leftmost, then the longest (or shortest) match,
 * which is what Go's leftmost-first regexp gives for such patterns. */
#include "imagefmt/dockerfile/internal.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/util.h"

/* A string as Go's []rune(s) sees it, with the byte offset of each rune
   (off[n] is the length). */
struct runes
{
  int32_t *r;
  size_t *off;
  size_t n;
};

static void
runes_decode (struct runes *rs, const char *s, size_t len)
{
  rs->r = xreallocarray (NULL, len + 1, sizeof *rs->r);
  rs->off = xreallocarray (NULL, len + 1, sizeof *rs->off);
  rs->n = 0;
  for (size_t i = 0, w; i < len; i += w)
    {
      rs->off[rs->n] = i;
      rs->r[rs->n++] = dockerfile_decode_rune ((const unsigned char *)s + i, len - i, &w);
    }
  rs->off[rs->n] = len;
}

static void
runes_free (struct runes *rs)
{
  free (rs->r);
  free (rs->off);
}

/* ---- Shell patterns (lex.go convertShellPatternToRegex) ---- */

enum pat_kind
{
  PAT_LIT,
  PAT_ANY,  /* `?`: one rune but '\n' */
  PAT_STAR, /* `*`: any run of runes without '\n' */
};

struct pat_item
{
  enum pat_kind kind;
  int32_t r;
};

/* Compile the runes of a pattern; -1 with *err on a bad escape. */
static int
pattern_compile (const int32_t *p, size_t n, struct pat_item **out, size_t *nout, nook_error_t *err)
{
  cleanup_free struct pat_item *items = xreallocarray (NULL, n + 1, sizeof *items);
  size_t m = 0, i = 0;

  if (n > 0 && p[0] == 0xFEFF) /* text/scanner drops a leading BOM */
    i = 1;
  for (; i < n; i++)
    {
      int32_t tok = p[i];
      if (tok == '*')
        items[m++] = (struct pat_item){ PAT_STAR, 0 };
      else if (tok == '?')
        items[m++] = (struct pat_item){ PAT_ANY, 0 };
      else if (tok == '\\')
        {
          /* `\}` and `\/` belong to ${}, the escape is not part of the pattern */
          if (i + 1 < n && (p[i + 1] == '}' || p[i + 1] == '/'))
            continue;
          if (i + 1 >= n || (p[i + 1] != '*' && p[i + 1] != '?' && p[i + 1] != '\\'))
            return nook_error_set (err, EINVAL,
                                   "invalid escape in pattern: only \\*, \\? and "
                                   "\\\\ are allowed");
          items[m++] = (struct pat_item){ PAT_LIT, p[++i] };
        }
      else
        items[m++] = (struct pat_item){ PAT_LIT, tok };
    }
  *out = steal_pointer (&items);
  *nout = m;
  return 0;
}

static void
nfa_add (ssize_t *set, const struct pat_item *items, size_t m, size_t i, ssize_t start)
{
  for (;;)
    {
      if (set[i] >= 0 && set[i] <= start)
        return;
      set[i] = start;
      if (i == m || items[i].kind != PAT_STAR)
        return;
      i++;
    }
}

/* Find the leftmost match at or after `from` (only at `from` if anchored), the
   longest or shortest one for that start.  Returns false if none. */
static bool
pattern_search (const struct pat_item *items, size_t m, ssize_t *work, const int32_t *s, size_t n,
                size_t from, bool anchored, bool longest, size_t *ms, size_t *me)
{
  ssize_t *cur = work, *nxt = work + m + 1; /* work holds 2 * (m + 1) */
  ssize_t best_s = -1, best_e = -1;

  for (size_t i = 0; i <= m; i++)
    cur[i] = -1;
  for (size_t p = from;; p++)
    {
      bool alive = false;
      if (best_s < 0 && (!anchored || p == from))
        nfa_add (cur, items, m, 0, (ssize_t)p);
      if (cur[m] >= 0 && (best_s < 0 || cur[m] < best_s || (cur[m] == best_s && longest)))
        {
          best_s = cur[m];
          best_e = (ssize_t)p;
          if (!longest && anchored)
            break;
        }
      if (p == n)
        break;
      for (size_t i = 0; i <= m; i++)
        nxt[i] = -1;
      for (size_t i = 0; i < m; i++)
        {
          ssize_t st = cur[i];
          if (st < 0 || (best_s >= 0 && st > best_s))
            continue;
          switch (items[i].kind)
            {
            case PAT_LIT:
              if (s[p] == items[i].r)
                nfa_add (nxt, items, m, i + 1, st), alive = true;
              break;
            case PAT_ANY:
              if (s[p] != '\n')
                nfa_add (nxt, items, m, i + 1, st), alive = true;
              break;
            case PAT_STAR:
              if (s[p] != '\n')
                nfa_add (nxt, items, m, i, st), alive = true;
              break;
            }
        }
      ssize_t *t = cur;
      cur = nxt;
      nxt = t;
      if (!alive && (anchored || best_s >= 0))
        break;
    }
  if (best_s < 0)
    return false;
  *ms = (size_t)best_s;
  *me = (size_t)best_e;
  return true;
}

/* ---- ${v#p}, ${v%p}, ${v/p/r} ---- */

static int
trim_prefix (const int32_t *pat, size_t npat, const char *value, bool greedy, struct strbuf *out,
             nook_error_t *err)
{
  cleanup_free struct pat_item *items = NULL;
  cleanup_free ssize_t *work = NULL;
  struct runes v;
  size_t m, s, e;

  if (pattern_compile (pat, npat, &items, &m, err) < 0)
    return -1;
  work = xreallocarray (NULL, 2 * (m + 1), sizeof *work);
  runes_decode (&v, value, strlen (value));
  if (pattern_search (items, m, work, v.r, v.n, 0, true, greedy, &s, &e))
    strbuf_append (out, value + v.off[e]);
  else
    strbuf_append (out, value);
  runes_free (&v);
  return 0;
}

/* lex.go reverses pattern and value (as runes) and trims a prefix. */
static int
trim_suffix (const int32_t *pat, size_t npat, const char *value, bool greedy, struct strbuf *out,
             nook_error_t *err)
{
  cleanup_free int32_t *rp = xreallocarray (NULL, npat + 1, sizeof *rp);
  cleanup_free struct pat_item *items = NULL;
  cleanup_free ssize_t *work = NULL;
  struct runes v;
  size_t m, s, e = 0;

  /* reversePattern: keep each `\x` pair in order */
  for (size_t i = 0; i < npat;)
    {
      size_t o = npat - 1 - i;
      if (pat[i] == '\\' && i != npat - 1)
        {
          rp[o - 1] = '\\';
          rp[o] = pat[i + 1];
          i += 2;
        }
      else
        rp[o] = pat[i++];
    }
  if (pattern_compile (rp, npat, &items, &m, err) < 0)
    return -1;
  work = xreallocarray (NULL, 2 * (m + 1), sizeof *work);
  runes_decode (&v, value, strlen (value));
  for (size_t i = 0; i < v.n / 2; i++)
    {
      int32_t t = v.r[i];
      v.r[i] = v.r[v.n - 1 - i];
      v.r[v.n - 1 - i] = t;
    }
  if (!pattern_search (items, m, work, v.r, v.n, 0, true, greedy, &s, &e))
    e = 0;
  /* the value comes back through []rune: invalid bytes are U+FFFD now */
  for (size_t i = v.n; i > e; i--)
    dockerfile_put_rune (out, v.r[i - 1]);
  runes_free (&v);
  return 0;
}

/* regexp.Expand of the replacement for ${v//p/r}: our regexp has only group 0. */
static void
expand_template (struct strbuf *out, const char *t, const char *match, size_t mlen)
{
  while (*t != '\0')
    {
      const char *d = strchr (t, '$');
      if (d == NULL)
        break;
      strbuf_appendn (out, t, (size_t)(d - t));
      t = d + 1;
      if (*t == '$')
        {
          strbuf_appendc (out, '$');
          t++;
          continue;
        }
      bool brace = *t == '{';
      const char *nm = t + brace, *q = nm;
      while (*q != '\0')
        {
          size_t w;
          int32_t r = dockerfile_decode_rune ((const unsigned char *)q, strlen (q), &w);
          if (!dockerfile_rune_is_letter (r) && !dockerfile_rune_is_digit (r) && r != '_')
            break;
          q += w;
        }
      if (q == nm || (brace && *q != '}'))
        {
          strbuf_appendc (out, '$'); /* malformed: a literal `$` */
          continue;
        }
      if (q - nm == 1 && *nm == '0')
        strbuf_appendn (out, match, mlen);
      t = q + brace;
    }
  strbuf_append (out, t);
}

static int
replace (const int32_t *pat, size_t npat, const char *value, const char *repl, bool all,
         struct strbuf *out, nook_error_t *err)
{
  cleanup_free struct pat_item *items = NULL;
  cleanup_free ssize_t *work = NULL;
  struct runes v;
  size_t m, s, e;

  if (pattern_compile (pat, npat, &items, &m, err) < 0)
    return -1;
  work = xreallocarray (NULL, 2 * (m + 1), sizeof *work);
  runes_decode (&v, value, strlen (value));
  if (!all)
    {
      if (pattern_search (items, m, work, v.r, v.n, 0, false, true, &s, &e))
        {
          strbuf_appendn (out, value, v.off[s]);
          strbuf_append (out, repl);
          strbuf_append (out, value + v.off[e]);
        }
      else
        strbuf_append (out, value);
      runes_free (&v);
      return 0;
    }
  /* Go's Regexp.ReplaceAllString loop, in rune positions */
  size_t pos = 0, last = 0;
  while (pos <= v.n && pattern_search (items, m, work, v.r, v.n, pos, false, true, &s, &e))
    {
      strbuf_appendn (out, value + v.off[last], v.off[s] - v.off[last]);
      if (e > last || s == 0)
        expand_template (out, repl, value + v.off[s], v.off[e] - v.off[s]);
      last = e;
      pos = pos + 1 > e ? pos + 1 : e;
      if (out->len > DOCKERFILE_SHELL_MAX_OUTPUT)
        {
          runes_free (&v);
          return nook_error_set (err, E2BIG, "substitution result larger than %u bytes",
                                 DOCKERFILE_SHELL_MAX_OUTPUT);
        }
    }
  strbuf_append (out, value + v.off[last]);
  runes_free (&v);
  return 0;
}

/* ---- Entry points for shell.c ---- */

int
dockerfile_shell_pattern_trim (const char *pat, size_t patlen, const char *value, bool suffix,
                               bool greedy, struct strbuf *out, nook_error_t *err)
{
  struct runes pr;
  int r;
  runes_decode (&pr, pat, patlen);
  if (suffix)
    r = trim_suffix (pr.r, pr.n, value, greedy, out, err);
  else
    r = trim_prefix (pr.r, pr.n, value, greedy, out, err);
  runes_free (&pr);
  return r;
}

int
dockerfile_shell_pattern_replace (const char *pat, size_t patlen, const char *value,
                                  const char *repl, bool all, struct strbuf *out, nook_error_t *err)
{
  struct runes pr;
  int r;
  runes_decode (&pr, pat, patlen);
  r = replace (pr.r, pr.n, value, repl, all, out, err);
  runes_free (&pr);
  return r;
}
