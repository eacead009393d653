/* imagefmt/auth.c: see auth.h. */
#include "imagefmt/auth.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTH_FILE_MAX (4u << 20)
#define cleanup_jsonv __attribute__ ((cleanup (json_decrefp)))

void
imagefmt_creds_clear (struct imagefmt_creds *c)
{
  if (c->password)
    explicit_bzero (c->password, strlen (c->password));
  free (c->username);
  free (c->password);
  free (c->source);
  memset (c, 0, sizeof *c);
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
imagefmt_base64_encode (const void *data, size_t len)
{
  const unsigned char *p = data;
  char *out = xmalloc ((len + 2) / 3 * 4 + 1), *o = out;
  for (size_t i = 0; i < len; i += 3)
    {
      unsigned v = (unsigned)p[i] << 16;
      if (i + 1 < len)
        v |= (unsigned)p[i + 1] << 8;
      if (i + 2 < len)
        v |= p[i + 2];
      *o++ = b64[(v >> 18) & 63];
      *o++ = b64[(v >> 12) & 63];
      *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
      *o++ = i + 2 < len ? b64[v & 63] : '=';
    }
  *o = '\0';
  return out;
}

static int
b64_value (char c)
{
  const char *p = c ? strchr (b64, c) : NULL;
  return p ? (int)(p - b64) : -1;
}

char *
imagefmt_base64_decode (const char *s, size_t *len)
{
  size_t n = strlen (s);
  if (n % 4 != 0)
    return NULL;
  char *out = xmalloc (n / 4 * 3 + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4)
    {
      int v[4];
      int pad = 0;
      for (int k = 0; k < 4; k++)
        {
          if (s[i + k] == '=' && i + 4 == n && k >= 2)
            {
              v[k] = 0;
              pad++;
              continue;
            }
          if (pad || (v[k] = b64_value (s[i + k])) < 0)
            {
              free (out);
              return NULL;
            }
        }
      unsigned w
          = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
      out[o++] = (char)(w >> 16);
      if (pad < 2)
        out[o++] = (char)(w >> 8);
      if (pad < 1)
        out[o++] = (char)w;
    }
  out[o] = '\0';
  *len = o;
  return out;
}

/* ---- files ---- */

static const char *
home_dir (void)
{
  const char *h = getenv ("HOME");
  if (h && *h == '/')
    return h;
  struct passwd *pw = getpwuid (getuid ());
  return pw && pw->pw_dir && *pw->pw_dir == '/' ? pw->pw_dir : NULL;
}

static char *
xdg_config_file (const char *rel)
{
  const char *x = getenv ("XDG_CONFIG_HOME");
  if (x && *x == '/')
    return xasprintf ("%s/%s", x, rel);
  const char *h = home_dir ();
  return h ? xasprintf ("%s/.config/%s", strcmp (h, "/") == 0 ? "" : h, rel) : NULL;
}

char *
imagefmt_auth_write_path (nook_error_t *err)
{
  const char *e = getenv ("REGISTRY_AUTH_FILE");
  if (e && *e)
    return xstrdup (e);
  char *p = xdg_config_file ("containers/auth.json");
  if (p == NULL)
    nook_error_set (err, 0, "no credentials file: HOME is not set (set REGISTRY_AUTH_FILE)");
  return p;
}

/* The files read, in order (a NULL-terminated vector). */
static char **
read_paths (void)
{
  char **v = xzalloc (sizeof (char *));
  const char *e = getenv ("REGISTRY_AUTH_FILE");
  if (e && *e)
    strv_push (&v, e);
  else
    {
      const char *rt = getenv ("XDG_RUNTIME_DIR");
      if (rt && *rt == '/')
        strv_push_take (&v, xasprintf ("%s/containers/auth.json", rt));
      char *p = xdg_config_file ("containers/auth.json");
      if (p)
        strv_push_take (&v, p);
    }
  const char *dc = getenv ("DOCKER_CONFIG");
  const char *h = home_dir ();
  if (dc && *dc)
    strv_push_take (&v, xasprintf ("%s/config.json", dc));
  else if (h)
    strv_push_take (&v, xasprintf ("%s/.docker/config.json", strcmp (h, "/") == 0 ? "" : h));
  return v;
}

char *
imagefmt_auth_normalize_key (const char *s)
{
  const char *p = s;
  if (strncasecmp (p, "https://", 8) == 0)
    p += 8;
  else if (strncasecmp (p, "http://", 7) == 0)
    p += 7;
  char *k = xstrdup (p);
  size_t n = strlen (k);
  while (n > 0 && k[n - 1] == '/')
    k[--n] = '\0';
  if (str_has_suffix (k, "/v1") || str_has_suffix (k, "/v2"))
    k[n - 3] = '\0';
  if (strcmp (k, "index.docker.io") == 0 || strcmp (k, "registry-1.docker.io") == 0
      || strncmp (k, "index.docker.io/", 16) == 0 || strncmp (k, "registry-1.docker.io/", 21) == 0)
    {
      char *rest = strchr (k, '/');
      char *d = xasprintf ("docker.io%s", rest ? rest : "");
      free (k);
      k = d;
    }
  return k;
}

static int
load_json_file (const char *path, json_t **out, nook_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  *out = NULL;
  nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, path, AUTH_FILE_MAX, &data, &len, &e) < 0)
    {
      if (e->code == ENOENT || e->code == ENOTDIR)
        {
          nook_error_free (&e);
          return 0;
        }
      *err = e;
      return nook_error_wrap (err, "credentials file '%s'", path);
    }
  json_error_t je;
  json_t *j = json_loadb (data, len, 0, &je);
  explicit_bzero (data, len);
  if (j == NULL || !json_is_object (j))
    {
      json_decref (j);
      return nook_error_set (err, EINVAL, "credentials file '%s': %s", path,
                             j ? "not a JSON object" : je.text);
    }
  *out = j;
  return 1;
}

/* The candidate keys for registry/repo, most specific first. */
static char **
candidate_keys (const char *registry, const char *repo)
{
  char **v = xzalloc (sizeof (char *));
  if (repo && *repo)
    {
      cleanup_free char *r = xstrdup (repo);
      for (;;)
        {
          strv_push_take (&v, xasprintf ("%s/%s", registry, r));
          char *slash = strrchr (r, '/');
          if (slash == NULL)
            break;
          *slash = '\0';
        }
    }
  strv_push (&v, registry);
  return v;
}

static int
creds_from_entry (json_t *entry, const char *path, const char *key, struct imagefmt_creds *out,
                  nook_error_t *err)
{
  const char *a = json_string_value (json_object_get (entry, "auth"));
  if (a == NULL || *a == '\0')
    return 0; /* e.g. only an identitytoken: not supported, as if absent */
  size_t len = 0;
  cleanup_free char *dec = imagefmt_base64_decode (a, &len);
  char *colon = dec ? memchr (dec, ':', len) : NULL;
  if (colon == NULL || strlen (dec) != len)
    return nook_error_set (err, EINVAL,
                           "credentials file '%s': the auth of '%s' is not base64 of user:password",
                           path, key);
  *colon = '\0';
  out->username = xstrdup (dec);
  out->password = xstrdup (colon + 1);
  out->source = xstrdup (path);
  explicit_bzero (dec, len);
  return 1;
}

int
imagefmt_auth_lookup_in (const char *path, const char *registry, const char *repo,
                         struct imagefmt_creds *out, nook_error_t *err)
{
  cleanup_jsonv json_t *j = NULL;
  memset (out, 0, sizeof *out);
  int r = load_json_file (path, &j, err);
  if (r <= 0)
    return r;
  cleanup_free char *reg = imagefmt_auth_normalize_key (registry);
  {
    /* Docker's credential helpers: credHelpers[registry], else credsStore */
    const char *helper = NULL, *hk;
    json_t *hv;
    json_object_foreach (json_object_get (j, "credHelpers"), hk, hv)
    {
      cleanup_free char *norm = imagefmt_auth_normalize_key (hk);
      if (strcmp (norm, reg) == 0 && json_is_string (hv))
        helper = json_string_value (hv);
    }
    if (helper == NULL)
      helper = json_string_value (json_object_get (j, "credsStore"));
    if (helper && *helper)
      {
        r = imagefmt_auth_helper_get (
            helper, strcmp (reg, "docker.io") == 0 ? "https://index.docker.io/v1/" : reg, out, err);
        if (r < 0)
          return nook_error_wrap (err, "credentials file '%s'", path);
        if (r > 0)
          return r;
      }
  }
  json_t *auths = json_object_get (j, "auths");
  if (!json_is_object (auths))
    return 0;
  cleanup_strv char **keys = candidate_keys (reg, repo);
  for (size_t k = 0; keys[k]; k++)
    {
      const char *key;
      json_t *entry;
      json_object_foreach (auths, key, entry)
      {
        cleanup_free char *norm = imagefmt_auth_normalize_key (key);
        if (strcmp (norm, keys[k]) != 0)
          continue;
        r = creds_from_entry (entry, path, key, out, err);
        if (r != 0)
          return r;
      }
    }
  return 0;
}

int
imagefmt_auth_lookup (const char *registry, const char *repo, struct imagefmt_creds *out,
                      nook_error_t *err)
{
  cleanup_strv char **paths = read_paths ();
  for (size_t i = 0; paths[i]; i++)
    {
      int r = imagefmt_auth_lookup_in (paths[i], registry, repo, out, err);
      if (r != 0)
        return r;
    }
  return 0;
}

int
imagefmt_auth_lookup_helpers (char *const *helpers, const char *registry, const char *repo,
                              struct imagefmt_creds *out, nook_error_t *err)
{
  static char *const files_only[] = { (char *)IMAGEFMT_AUTH_FILES_HELPER, NULL };
  nook_error_t first = NULL;
  if (helpers == NULL || helpers[0] == NULL)
    helpers = files_only;
  memset (out, 0, sizeof *out);
  for (size_t i = 0; helpers[i]; i++)
    {
      nook_error_t e = NULL;
      int r;
      if (strcmp (helpers[i], IMAGEFMT_AUTH_FILES_HELPER) == 0)
        r = imagefmt_auth_lookup (registry, repo, out, &e);
      else
        {
          cleanup_free char *reg = imagefmt_auth_normalize_key (registry);
          if ((r = imagefmt_auth_helper_get (helpers[i], reg, out, &e)) < 0)
            nook_error_wrap (&e, "credential-helpers of registries.conf");
        }
      if (r > 0)
        {
          nook_error_free (&first);
          return 1;
        }
      imagefmt_creds_clear (out);
      if (r < 0 && first == NULL)
        first = steal_pointer (&e);
      nook_error_free (&e);
    }
  if (first)
    {
      *err = first;
      return -1;
    }
  return 0;
}

static int
save_json_file (const char *path, json_t *j, nook_error_t *err)
{
  cleanup_free char *dir = xstrdup (path);
  cleanup_free char *base = xstrdup (path);
  char *d = dirname (dir);
  if (fs_mkdir_p (d, 0700, err) < 0)
    return nook_error_wrap (err, "credentials file '%s'", path);
  cleanup_close int dfd = open (d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return nook_error_set (err, errno, "open '%s'", d);
  char *text = json_dumps (j, JSON_INDENT (1) | JSON_SORT_KEYS);
  if (text == NULL)
    oom ();
  size_t n = strlen (text);
  int r = fs_write_atomic_at (dfd, basename (base), text, n, 0600, err);
  explicit_bzero (text, n);
  free (text);
  return r < 0 ? nook_error_wrap (err, "credentials file '%s'", path) : 0;
}

int
imagefmt_auth_store (const char *path, const char *key, const char *username, const char *password,
                     nook_error_t *err)
{
  cleanup_jsonv json_t *j = NULL;
  if (load_json_file (path, &j, err) < 0)
    return -1;
  if (j == NULL)
    j = json_object ();
  json_t *auths = json_object_get (j, "auths");
  if (!json_is_object (auths))
    {
      auths = json_object ();
      json_object_set_new (j, "auths", auths);
    }
  cleanup_free char *norm = imagefmt_auth_normalize_key (key);
  /* drop other spellings of the same key ("https://index.docker.io/v1/") */
  const char *k;
  json_t *v;
  void *tmp;
  json_object_foreach_safe (auths, tmp, k, v)
  {
    cleanup_free char *nk = imagefmt_auth_normalize_key (k);
    if (strcmp (nk, norm) == 0)
      json_object_del (auths, k);
  }
  cleanup_free char *up = xasprintf ("%s:%s", username, password);
  cleanup_free char *enc = imagefmt_base64_encode (up, strlen (up));
  explicit_bzero (up, strlen (up));
  json_object_set_new (auths, norm, json_pack ("{s:s}", "auth", enc));
  explicit_bzero (enc, strlen (enc));
  return save_json_file (path, j, err);
}

int
imagefmt_auth_remove (const char *path, const char *key, bool *found, nook_error_t *err)
{
  cleanup_jsonv json_t *j = NULL;
  *found = false;
  if (load_json_file (path, &j, err) < 0)
    return -1;
  json_t *auths = json_object_get (j, "auths");
  if (!json_is_object (auths))
    return 0;
  cleanup_free char *norm = imagefmt_auth_normalize_key (key);
  const char *k;
  json_t *v;
  void *tmp;
  json_object_foreach_safe (auths, tmp, k, v)
  {
    cleanup_free char *nk = imagefmt_auth_normalize_key (k);
    if (strcmp (nk, norm) == 0)
      {
        json_object_del (auths, k);
        *found = true;
      }
  }
  return *found ? save_json_file (path, j, err) : 0;
}

/* ---- challenges and tokens ---- */

void
imagefmt_auth_challenge_clear (struct imagefmt_auth_challenge *c)
{
  free (c->scheme);
  free (c->realm);
  free (c->service);
  free (c->scope);
  free (c->error);
  memset (c, 0, sizeof *c);
}

static bool
is_token_char (char c)
{
  return c > ' ' && c < 127 && !strchr ("()<>@,;:\\\"/[]?={}", c);
}

int
imagefmt_auth_challenge_parse (const char *value, struct imagefmt_auth_challenge *out,
                               nook_error_t *err)
{
  memset (out, 0, sizeof *out);
  const char *p = value ? value : "";
  while (*p == ' ' || *p == '\t')
    p++;
  const char *s = p;
  while (is_token_char (*p))
    p++;
  if (p == s)
    return nook_error_set (err, EINVAL, "WWW-Authenticate: no scheme in '%s'", value ? value : "");
  out->scheme = xstrndup (s, (size_t)(p - s));
  for (char *c = out->scheme; *c; c++)
    if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c - 'A' + 'a');
  /* auth-params: name=token or name="quoted", separated by commas */
  for (;;)
    {
      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (*p == '\0')
        break;
      const char *n = p;
      while (is_token_char (*p))
        p++;
      size_t nlen = (size_t)(p - n);
      while (*p == ' ')
        p++;
      if (nlen == 0 || *p != '=')
        {
          /* a second challenge ("Bearer ..., Basic ...") or token68: stop here */
          break;
        }
      p++;
      while (*p == ' ')
        p++;
      struct strbuf v = { 0 };
      if (*p == '"')
        {
          p++;
          while (*p && *p != '"')
            {
              if (*p == '\\' && p[1])
                p++;
              strbuf_appendc (&v, *p++);
            }
          if (*p != '"')
            {
              strbuf_free (&v);
              imagefmt_auth_challenge_clear (out);
              return nook_error_set (err, EINVAL, "WWW-Authenticate: unterminated quote in '%s'",
                                     value);
            }
          p++;
        }
      else
        while (is_token_char (*p) || *p == '/' || *p == ':')
          strbuf_appendc (&v, *p++);
      char **slot = NULL;
      if (nlen == 5 && strncasecmp (n, "realm", 5) == 0)
        slot = &out->realm;
      else if (nlen == 7 && strncasecmp (n, "service", 7) == 0)
        slot = &out->service;
      else if (nlen == 5 && strncasecmp (n, "scope", 5) == 0)
        slot = &out->scope;
      else if (nlen == 5 && strncasecmp (n, "error", 5) == 0)
        slot = &out->error;
      if (slot && *slot == NULL)
        *slot = strbuf_steal (&v);
      else
        strbuf_free (&v);
    }
  if (strcmp (out->scheme, "bearer") == 0 && (out->realm == NULL || *out->realm == '\0'))
    {
      imagefmt_auth_challenge_clear (out);
      return nook_error_set (err, EINVAL, "WWW-Authenticate: Bearer challenge without a realm");
    }
  return 0;
}

int
imagefmt_auth_token_parse (const char *data, size_t len, char **token, long *expires_in,
                           nook_error_t *err)
{
  json_error_t je;
  cleanup_jsonv json_t *j = json_loadb (data, len, 0, &je);
  if (j == NULL || !json_is_object (j))
    return nook_error_set (err, EINVAL, "token response: %s", j ? "not a JSON object" : je.text);
  const char *t = json_string_value (json_object_get (j, "token"));
  if (t == NULL || *t == '\0')
    t = json_string_value (json_object_get (j, "access_token"));
  if (t == NULL || *t == '\0')
    return nook_error_set (err, EINVAL, "token response: no token");
  for (const char *c = t; *c; c++)
    if (*c <= ' ' || *c >= 127)
      return nook_error_set (err, EINVAL, "token response: the token has invalid characters");
  json_t *e = json_object_get (j, "expires_in");
  *expires_in
      = json_is_integer (e) && json_integer_value (e) > 0 ? (long)json_integer_value (e) : 60;
  *token = xstrdup (t);
  return 0;
}
