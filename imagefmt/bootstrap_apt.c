/* imagefmt/bootstrap_apt.c: the pure half of bootstrap_debian.h: apt's sources,
 * Release dates, suite and package names, the sources a base carries. */
#include "imagefmt/bootstrap_debian.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

static void
push_source (struct imagefmt_apt_source **v, size_t *n, const char *uri, size_t ulen,
             const char *suite, size_t slen)
{
  while (ulen > 0 && uri[ulen - 1] == '/')
    ulen--;
  if (ulen == 0 || slen == 0)
    return;
  for (size_t i = 0; i < ulen; i++)
    if ((unsigned char)uri[i] <= ' ' || uri[i] == 0x7f)
      return;
  *v = xreallocarray (*v, *n + 1, sizeof **v);
  (*v)[*n].uri = xstrndup (uri, ulen);
  (*v)[*n].suite = xstrndup (suite, slen);
  (*n)++;
}

/* The next whitespace-separated word of [*p, end), or NULL. */
static const char *
next_word (const char **p, const char *end, size_t *len)
{
  const char *s = *p;
  while (s < end && is_space (*s))
    s++;
  const char *e = s;
  while (e < end && !is_space (*e))
    e++;
  *p = e;
  *len = (size_t)(e - s);
  return *len ? s : NULL;
}

/* "deb [ opts ] uri suite comp..." */
static void
parse_one_line (const char *line, const char *end, struct imagefmt_apt_source **v, size_t *n)
{
  const char *p = line;
  size_t len;
  const char *type = next_word (&p, end, &len);
  if (type == NULL || len != 3 || strncmp (type, "deb", 3) != 0)
    return;
  while (p < end && is_space (*p))
    p++;
  if (p < end && *p == '[')
    {
      const char *close = memchr (p, ']', (size_t)(end - p));
      if (close == NULL)
        return;
      p = close + 1;
    }
  size_t ulen, slen;
  const char *uri = next_word (&p, end, &ulen);
  const char *suite = next_word (&p, end, &slen);
  if (uri && suite)
    push_source (v, n, uri, ulen, suite, slen);
}

struct stanza
{
  struct strbuf types, uris, suites;
  bool disabled;
};

static void
stanza_flush (struct stanza *st, struct imagefmt_apt_source **v, size_t *n)
{
  bool deb = false;
  const char *p = st->types.buf ? st->types.buf : "";
  const char *end = p + st->types.len;
  size_t len;
  for (const char *w; (w = next_word (&p, end, &len));)
    deb = deb || (len == 3 && strncmp (w, "deb", 3) == 0);
  if (deb && !st->disabled && st->uris.len && st->suites.len)
    {
      const char *up = st->uris.buf, *uend = up + st->uris.len;
      size_t ulen;
      for (const char *u; (u = next_word (&up, uend, &ulen));)
        {
          const char *sp = st->suites.buf, *send = sp + st->suites.len;
          size_t slen;
          for (const char *s; (s = next_word (&sp, send, &slen));)
            push_source (v, n, u, ulen, s, slen);
        }
    }
  strbuf_free (&st->types);
  strbuf_free (&st->uris);
  strbuf_free (&st->suites);
  st->disabled = false;
}

void
imagefmt_apt_sources_parse (const char *text, bool deb822, struct imagefmt_apt_source **v,
                            size_t *n)
{
  struct stanza st = { 0 };
  struct strbuf *cur = NULL; /* the field a continuation line adds to */
  const char *p = text;
  while (*p)
    {
      const char *nl = strchrnul (p, '\n');
      const char *line = p, *end = nl;
      p = *nl ? nl + 1 : nl;
      if (!deb822)
        {
          const char *hash = memchr (line, '#', (size_t)(end - line));
          parse_one_line (line, hash ? hash : end, v, n);
          continue;
        }
      if (*line == '#')
        continue; /* a comment line does not end the field it sits in */
      const char *q = line;
      while (q < end && is_space (*q))
        q++;
      if (q == end)
        {
          stanza_flush (&st, v, n);
          cur = NULL;
          continue;
        }
      if (q != line)
        {
          if (cur)
            {
              strbuf_appendc (cur, ' ');
              strbuf_appendn (cur, q, (size_t)(end - q));
            }
          continue;
        }
      const char *colon = memchr (line, ':', (size_t)(end - line));
      if (colon == NULL)
        {
          cur = NULL;
          continue;
        }
      size_t klen = (size_t)(colon - line);
      const char *val = colon + 1;
      cur = NULL;
      if (klen == 5 && strncasecmp (line, "Types", 5) == 0)
        cur = &st.types;
      else if (klen == 4 && strncasecmp (line, "URIs", 4) == 0)
        cur = &st.uris;
      else if (klen == 6 && strncasecmp (line, "Suites", 6) == 0)
        cur = &st.suites;
      else if (klen == 7 && strncasecmp (line, "Enabled", 7) == 0)
        {
          const char *e = val;
          size_t len;
          const char *w = next_word (&e, end, &len);
          st.disabled = w && len == 2 && strncasecmp (w, "no", 2) == 0;
        }
      if (cur)
        {
          strbuf_appendc (cur, ' ');
          strbuf_appendn (cur, val, (size_t)(end - val));
        }
    }
  if (deb822)
    stanza_flush (&st, v, n);
}

void
imagefmt_apt_sources_free (struct imagefmt_apt_source *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].uri);
      free (v[i].suite);
    }
  free (v);
}

static const char *
find_uri (const struct imagefmt_apt_source *v, size_t n, const char *codename, const char *suffix)
{
  for (size_t i = 0; i < n; i++)
    if (str_has_prefix (v[i].suite, codename)
        && strcmp (v[i].suite + strlen (codename), suffix) == 0)
      return v[i].uri;
  return NULL;
}

void
imagefmt_debian_host_uris (const struct imagefmt_apt_source *v, size_t n, const char *codename,
                           char **archive, char **security)
{
  const char *a = NULL, *s = NULL;
  if (codename && *codename)
    {
      a = find_uri (v, n, codename, "");
      if (a == NULL)
        a = find_uri (v, n, codename, "-updates");
      s = find_uri (v, n, codename, "-security");
      if (s == NULL)
        s = find_uri (v, n, codename, "/updates");
    }
  *archive = xstrdup (a ? a : IMAGEFMT_DEBIAN_ARCHIVE);
  *security = xstrdup (s ? s : IMAGEFMT_DEBIAN_SECURITY);
}

char *
imagefmt_apt_shell_value (const char *text, const char *var)
{
  size_t len = strlen (var);
  for (const char *p = text; p && *p;)
    {
      const char *nl = strchrnul (p, '\n');
      if (strncmp (p, var, len) == 0 && p[len] == '=')
        {
          struct strbuf b = { 0 };
          bool quoted = false;
          for (const char *c = p + len + 1; c < nl; c++)
            if (*c == '\'')
              quoted = !quoted;
            else if (*c == '\\' && !quoted && c + 1 < nl)
              strbuf_appendc (&b, *++c);
            else
              strbuf_appendc (&b, *c);
          return b.buf ? strbuf_steal (&b) : xstrdup ("");
        }
      p = *nl ? nl + 1 : nl;
    }
  return NULL;
}

/* ---- Release dates ---- */

static bool
take_uint (const char **p, int min_digits, int max_digits, int *out)
{
  int v = 0, d = 0;
  while (**p >= '0' && **p <= '9' && d < max_digits)
    {
      v = v * 10 + (**p - '0');
      (*p)++;
      d++;
    }
  *out = v;
  return d >= min_digits && !(**p >= '0' && **p <= '9');
}

static bool
take_char (const char **p, char c)
{
  if (**p != c)
    return false;
  (*p)++;
  return true;
}

static void
skip_spaces (const char **p)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
}

static bool
parse_rfc2822 (const char *s, int64_t *out)
{
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  struct tm tm = { 0 };
  const char *p = s;
  skip_spaces (&p);
  /* An optional day of the week: "Sat, ". */
  if (p[0] && p[1] && p[2] && p[3] == ',')
    p += 4;
  skip_spaces (&p);
  if (!take_uint (&p, 1, 2, &tm.tm_mday))
    return false;
  skip_spaces (&p);
  const char *m = NULL;
  for (int i = 0; i < 12 && m == NULL; i++)
    if (strncmp (p, months + 3 * i, 3) == 0)
      {
        m = p;
        tm.tm_mon = i;
      }
  if (m == NULL)
    return false;
  p += 3;
  skip_spaces (&p);
  int year;
  if (!take_uint (&p, 4, 4, &year))
    return false;
  tm.tm_year = year - 1900;
  skip_spaces (&p);
  if (!take_uint (&p, 2, 2, &tm.tm_hour) || !take_char (&p, ':')
      || !take_uint (&p, 2, 2, &tm.tm_min) || !take_char (&p, ':')
      || !take_uint (&p, 2, 2, &tm.tm_sec))
    return false;
  skip_spaces (&p);
  long off = 0;
  if (strncmp (p, "UTC", 3) == 0 || strncmp (p, "GMT", 3) == 0)
    p += 3;
  else if (*p == '+' || *p == '-')
    {
      int sign = *p == '-' ? -1 : 1, hhmm;
      p++;
      if (!take_uint (&p, 4, 4, &hhmm))
        return false;
      off = sign * ((hhmm / 100) * 3600L + (hhmm % 100) * 60L);
    }
  else if (*p != '\0' && *p != '\r' && *p != '\n')
    return false;
  if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    return false;
  time_t t = timegm (&tm);
  if (t == (time_t)-1 || t < 0)
    return false;
  *out = (int64_t)t - off;
  return *out >= 0;
}

int
imagefmt_release_date (const char *text, int64_t *out, nook_error_t *err)
{
  const char *p = text;
  while (*p)
    {
      const char *nl = strchrnul (p, '\n');
      if (str_has_prefix (p, "Date:"))
        {
          cleanup_free char *v = xstrndup (p + 5, (size_t)(nl - p - 5));
          if (!parse_rfc2822 (v, out))
            return nook_error_set (err, EINVAL, "unreadable Date field in Release: '%.60s'", v);
          return 0;
        }
      if (str_has_prefix (p, "-----BEGIN PGP SIGNATURE"))
        break;
      p = *nl ? nl + 1 : nl;
    }
  return nook_error_set (err, ENOENT, "no Date field in the Release file");
}

/* ---- names ---- */

bool
imagefmt_debian_suite_valid (const char *suite)
{
  size_t len = suite ? strlen (suite) : 0;
  if (len == 0 || len > 32 || !(suite[0] >= 'a' && suite[0] <= 'z'))
    return false;
  for (size_t i = 0; i < len; i++)
    if (!((suite[i] >= 'a' && suite[i] <= 'z') || (suite[i] >= '0' && suite[i] <= '9')
          || suite[i] == '-'))
      return false;
  return suite[len - 1] != '-';
}

bool
imagefmt_debian_package_valid (const char *name)
{
  size_t len = name ? strlen (name) : 0;
  if (len < 2 || len > 128)
    return false;
  for (size_t i = 0; i < len; i++)
    {
      char c = name[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (!(alnum || (i > 0 && (c == '+' || c == '.' || c == '-'))))
        return false;
    }
  return true;
}

bool
imagefmt_debian_suite_has_updates (const char *suite)
{
  return strcmp (suite, "sid") != 0 && strcmp (suite, "unstable") != 0
         && strcmp (suite, "experimental") != 0 && strcmp (suite, "rc-buggy") != 0;
}

char *
imagefmt_debian_image_sources (const char *suite, int64_t epoch)
{
  char stamp[32] = "";
  time_t t = (time_t)epoch;
  struct tm tm;
  if (gmtime_r (&t, &tm))
    strftime (stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  static const char keyring[] = "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
  struct strbuf b = { 0 };
  strbuf_appendf (&b, "Types: deb\n# http://snapshot.debian.org/archive/debian/%s\n", stamp);
  if (imagefmt_debian_suite_has_updates (suite))
    strbuf_appendf (&b, "URIs: " IMAGEFMT_DEBIAN_ARCHIVE "\nSuites: %s %s-updates\n", suite, suite);
  else
    strbuf_appendf (&b, "URIs: " IMAGEFMT_DEBIAN_ARCHIVE "\nSuites: %s\n", suite);
  strbuf_appendf (&b, "Components: main\n%s", keyring);
  if (imagefmt_debian_suite_has_updates (suite))
    strbuf_appendf (&b,
                    "\nTypes: deb\n# http://snapshot.debian.org/archive/debian-security/%s\n"
                    "URIs: " IMAGEFMT_DEBIAN_SECURITY "\nSuites: %s-security\n"
                    "Components: main\n%s",
                    stamp, suite, keyring);
  return strbuf_steal (&b);
}

char *
imagefmt_os_release_codename (const char *text)
{
  const char *p = text;
  while (p && *p)
    {
      const char *nl = strchrnul (p, '\n');
      if (str_has_prefix (p, "VERSION_CODENAME="))
        {
          const char *v = p + strlen ("VERSION_CODENAME=");
          size_t len = (size_t)(nl - v);
          if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0])
            {
              v++;
              len -= 2;
            }
          cleanup_free char *c = xstrndup (v, len);
          return imagefmt_debian_suite_valid (c) ? steal_pointer (&c) : NULL;
        }
      p = *nl ? nl + 1 : nl;
    }
  return NULL;
}
