/* imagefmt/ref.c: see ref.h.  The grammar is distribution/reference's:
 *   name      := [domain '/'] path-component ['/' path-component]*
 *   domain    := domain-component ['.' domain-component]* [':' port]   (or [IPv6])
 *   component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * Normalised as Docker does: a first component without '.' or ':' that is not
 * "localhost" is not a domain, docker.io is assumed and "library/" added to
 * one-component names. */
#include "imagefmt/ref.h"
#include "imagefmt/digest.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_TOTAL 255
#define DEFAULT_DOMAIN "docker.io"
#define OFFICIAL_PREFIX "library/"

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum (char c)
{
  return is_lower_alnum (c) || (c >= 'A' && c <= 'Z');
}

/* One path component of length n: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool
path_component_valid (const char *s, size_t n)
{
  size_t i = 0;
  if (n == 0 || !is_lower_alnum (s[0]))
    return false;
  while (i < n)
    {
      while (i < n && is_lower_alnum (s[i]))
        i++;
      if (i == n)
        return true;
      size_t sep = i;
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return false;
      if (i == sep || i == n || !is_lower_alnum (s[i]))
        return false;
    }
  return true;
}

static bool
domain_component_valid (const char *s, size_t n)
{
  if (n == 0 || !is_alnum (s[0]) || !is_alnum (s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_alnum (s[i]) && s[i] != '-')
      return false;
  return true;
}

static bool
domain_valid (const char *s, size_t n)
{
  const char *colon = NULL;
  size_t hostlen = n;
  if (n > 0 && s[0] == '[')
    {
      const char *close = memchr (s, ']', n);
      if (close == NULL || close == s + 1)
        return false;
      for (const char *p = s + 1; p < close; p++)
        if (!(is_alnum (*p) || *p == ':' || *p == '.'))
          return false;
      hostlen = (size_t)(close - s) + 1;
      if (hostlen < n && s[hostlen] != ':')
        return false;
      colon = hostlen < n ? s + hostlen : NULL;
    }
  else
    {
      colon = memchr (s, ':', n);
      hostlen = colon ? (size_t)(colon - s) : n;
      size_t start = 0;
      for (size_t i = 0; i <= hostlen; i++)
        if (i == hostlen || s[i] == '.')
          {
            if (!domain_component_valid (s + start, i - start))
              return false;
            start = i + 1;
          }
    }
  if (colon)
    {
      size_t plen = n - (size_t)(colon - s) - 1;
      if (plen == 0 || plen > 5)
        return false;
      for (size_t i = 0; i < plen; i++)
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
          return false;
    }
  return true;
}

static bool
tag_valid (const char *t)
{
  size_t n = strlen (t);
  if (n == 0 || n > 128 || !(is_alnum (t[0]) || t[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(is_alnum (t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
      return false;
  return true;
}

static bool
path_valid (const char *s)
{
  const char *start = s;
  for (const char *p = s;; p++)
    if (*p == '/' || *p == '\0')
      {
        if (!path_component_valid (start, (size_t)(p - start)))
          return false;
        if (*p == '\0')
          return true;
        start = p + 1;
      }
}

static int
bad (nook_error_t *err, const char *s, const char *why)
{
  return nook_error_set (err, 0, "invalid reference format: '%.300s': %s", s, why);
}

/* Split "name" into domain and path as Docker's ParseNormalizedNamed does. */
static int
split_name (const char *orig, const char *name, struct imagefmt_ref *out, nook_error_t *err)
{
  const char *slash = strchr (name, '/');
  const char *rest = name;
  if (slash
      && (memchr (name, '.', (size_t)(slash - name)) || memchr (name, ':', (size_t)(slash - name))
          || (slash - name == 9 && strncmp (name, "localhost", 9) == 0) || (name[0] == '[')))
    {
      if (!domain_valid (name, (size_t)(slash - name)))
        return bad (err, orig, "invalid registry host");
      out->domain = xstrndup (name, (size_t)(slash - name));
      rest = slash + 1;
    }
  else
    out->domain = xstrdup (DEFAULT_DOMAIN);

  if (strcmp (out->domain, "index.docker.io") == 0)
    {
      free (out->domain);
      out->domain = xstrdup (DEFAULT_DOMAIN);
    }
  for (const char *p = rest; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      return bad (err, orig, "repository name must be lowercase");
  if (!path_valid (rest))
    return bad (err, orig, "invalid repository name");
  if (strcmp (out->domain, DEFAULT_DOMAIN) == 0 && strchr (rest, '/') == NULL)
    out->path = xasprintf (OFFICIAL_PREFIX "%s", rest);
  else
    out->path = xstrdup (rest);
  if (strlen (out->domain) + 1 + strlen (out->path) > NAME_MAX_TOTAL)
    return bad (err, orig, "repository name must not be more than 255 characters");
  return 0;
}

static int
parse (const char *s, struct imagefmt_ref *out, nook_error_t *err)
{
  size_t len = strlen (s);
  if (len == 0)
    return bad (err, s, "empty reference");
  if (len > 1024)
    return bad (err, s, "too long");
  cleanup_free char *copy = xstrdup (s);
  char *at = strchr (copy, '@');
  if (at)
    {
      *at = '\0';
      if (imagefmt_digest_parse (at + 1, NULL, NULL) < 0)
        return bad (err, s, "invalid digest");
      out->digest = xstrdup (at + 1);
    }
  char *lastslash = strrchr (copy, '/');
  char *colon = strrchr (lastslash ? lastslash : copy, ':');
  if (colon)
    {
      *colon = '\0';
      if (!tag_valid (colon + 1))
        return bad (err, s, "invalid tag");
      out->tag = xstrdup (colon + 1);
    }
  if (copy[0] == '\0')
    return bad (err, s, "empty repository name");
  if (split_name (s, copy, out, err) < 0)
    return -1;
  /* A name that reads as an image ID would shadow it (distribution/reference refuses
   * the bare form; nook refuses a tagged one too). */
  cleanup_free char *familiar = imagefmt_ref_short_name (out);
  if (strlen (familiar) == IMAGEFMT_DIGEST_HEX_LEN && imagefmt_digest_hex_valid (familiar))
    {
      if (strcmp (familiar, s) == 0)
        return nook_error_set (err, 0,
                               "invalid repository name (%.300s), cannot specify 64-byte "
                               "hexadecimal strings",
                               s);
      return nook_error_set (err, 0,
                             "invalid reference format: repository name (%s) must not be a "
                             "64-byte hex string",
                             out->path);
    }
  if (out->tag == NULL && out->digest == NULL)
    out->tag = xstrdup ("latest");
  return 0;
}

int
imagefmt_ref_check_tag (const struct imagefmt_ref *r, nook_error_t *err)
{
  if (r->digest)
    return nook_error_set (err, 0, "refusing to create a tag with a digest reference");
  cleanup_free char *familiar = imagefmt_ref_short_name (r);
  if (strcmp (familiar, "sha256") == 0)
    return nook_error_set (err, 0,
                           "refusing to create an ambiguous tag using digest algorithm as name");
  return 0;
}

char *
imagefmt_ref_normalize_tag (const char *s, nook_error_t *err)
{
  struct imagefmt_ref r;
  if (imagefmt_ref_parse (s, &r, err) < 0)
    return NULL;
  char *full = imagefmt_ref_check_tag (&r, err) == 0 ? imagefmt_ref_full (&r) : NULL;
  imagefmt_ref_clear (&r);
  return full;
}

int
imagefmt_ref_parse (const char *s, struct imagefmt_ref *out, nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (s == NULL)
    return nook_error_set (err, 0, "missing image reference");
  if (parse (s, out, err) < 0)
    {
      imagefmt_ref_clear (out);
      return -1;
    }
  return 0;
}

void
imagefmt_ref_clear (struct imagefmt_ref *r)
{
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  memset (r, 0, sizeof *r);
}

char *
imagefmt_ref_name (const struct imagefmt_ref *r)
{
  return xasprintf ("%s/%s", r->domain, r->path);
}

static char *
with_suffix (char *name, const struct imagefmt_ref *r)
{
  struct strbuf b = { 0 };
  strbuf_append (&b, name);
  free (name);
  if (r->tag)
    strbuf_appendf (&b, ":%s", r->tag);
  if (r->digest)
    strbuf_appendf (&b, "@%s", r->digest);
  return strbuf_steal (&b);
}

char *
imagefmt_ref_full (const struct imagefmt_ref *r)
{
  return with_suffix (imagefmt_ref_name (r), r);
}

char *
imagefmt_ref_short_name (const struct imagefmt_ref *r)
{
  if (strcmp (r->domain, DEFAULT_DOMAIN) != 0)
    return imagefmt_ref_name (r);
  if (str_has_prefix (r->path, OFFICIAL_PREFIX)
      && strchr (r->path + strlen (OFFICIAL_PREFIX), '/') == NULL)
    return xstrdup (r->path + strlen (OFFICIAL_PREFIX));
  return xstrdup (r->path);
}

char *
imagefmt_ref_short (const struct imagefmt_ref *r)
{
  return with_suffix (imagefmt_ref_short_name (r), r);
}

char *
imagefmt_ref_normalize (const char *s, nook_error_t *err)
{
  struct imagefmt_ref r;
  if (imagefmt_ref_parse (s, &r, err) < 0)
    return NULL;
  char *full = imagefmt_ref_full (&r);
  imagefmt_ref_clear (&r);
  return full;
}

char *
imagefmt_ref_familiar (const char *full)
{
  struct imagefmt_ref r;
  if (imagefmt_ref_parse (full, &r, NULL) < 0)
    return xstrdup (full);
  char *out = imagefmt_ref_short (&r);
  imagefmt_ref_clear (&r);
  return out;
}
