/* cmd/config.c: see config.h. */
#include "cmd/config.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONFIG_MAX (1u << 20)
#define SYSTEM_CONFIG "/etc/nook/config.json"
#define cleanup_jsonv __attribute__ ((cleanup (json_decrefp)))

char *
nook_config_user_path (void)
{
  const char *x = getenv ("XDG_CONFIG_HOME");
  if (x && *x == '/')
    return xasprintf ("%s/nook/config.json", x);
  const char *h = getenv ("HOME");
  if (h == NULL || *h != '/')
    {
      struct passwd *pw = getpwuid (getuid ());
      h = pw ? pw->pw_dir : NULL;
    }
  if (h == NULL || *h != '/')
    return NULL;
  return xasprintf ("%s/.config/nook/config.json", strcmp (h, "/") == 0 ? "" : h);
}

void
nook_config_clear (struct nook_config *c)
{
  for (size_t i = 0; i < c->n_mirrors; i++)
    {
      free (c->mirrors[i].registry);
      strv_free (c->mirrors[i].mirrors);
      free (c->mirrors[i].from);
    }
  free (c->mirrors);
  strv_free (c->insecure);
  free (c->insecure_from);
  strv_free (c->files);
  memset (c, 0, sizeof *c);
}

/* A mirror URL: http[s]://HOST[:PORT][/PATH], nothing else. */
static bool
mirror_valid (const char *s)
{
  const char *p = s;
  if (strncasecmp (p, "https://", 8) == 0)
    p += 8;
  else if (strncasecmp (p, "http://", 7) == 0)
    p += 7;
  else
    return false;
  if (*p == '\0' || *p == '/')
    return false;
  for (; *p; p++)
    if (*p <= ' ' || *p >= 127 || strchr ("?#@\\\"'", *p))
      return false;
  return true;
}

static int
string_list (json_t *v, const char *file, const char *key, bool mirrors, char ***out,
             nook_error_t *err)
{
  if (!json_is_array (v))
    return nook_error_set (err, EINVAL, "config file '%s': \"%s\" must be a list of strings", file,
                           key);
  char **list = xzalloc (sizeof (char *));
  size_t i;
  json_t *e;
  json_array_foreach (v, i, e)
  {
    const char *s = json_string_value (e);
    if (s == NULL || *s == '\0' || (mirrors && !mirror_valid (s)))
      {
        strv_free (list);
        return nook_error_set (err, EINVAL,
                               mirrors ? "config file '%s': \"%s\"[%zu] is not a mirror URL "
                                         "(http[s]://HOST[:PORT][/PREFIX])"
                                       : "config file '%s': \"%s\"[%zu] is not a non-empty string",
                               file, key, i);
      }
    /* "http://host:5000/" and "http://host:5000" are the same mirror */
    char *copy = xstrdup (s);
    size_t n = strlen (copy);
    while (mirrors && n > 0 && copy[n - 1] == '/')
      copy[--n] = '\0';
    strv_push_take (&list, copy);
  }
  strv_free (*out);
  *out = list;
  return 0;
}

static struct nook_mirror_set *
mirror_slot (struct nook_config *c, const char *registry)
{
  for (size_t i = 0; i < c->n_mirrors; i++)
    if (strcmp (c->mirrors[i].registry, registry) == 0)
      return &c->mirrors[i];
  c->mirrors = xreallocarray (c->mirrors, c->n_mirrors + 1, sizeof *c->mirrors);
  struct nook_mirror_set *m = &c->mirrors[c->n_mirrors++];
  memset (m, 0, sizeof *m);
  m->registry = xstrdup (registry);
  return m;
}

/* "index.docker.io", "https://docker.io" -> "docker.io" */
static char *
registry_key (const char *k)
{
  if (strncasecmp (k, "https://", 8) == 0)
    k += 8;
  else if (strncasecmp (k, "http://", 7) == 0)
    k += 7;
  char *r = xstrdup (k);
  size_t n = strlen (r);
  while (n > 0 && r[n - 1] == '/')
    r[--n] = '\0';
  if (strcmp (r, "index.docker.io") == 0 || strcmp (r, "registry-1.docker.io") == 0)
    {
      free (r);
      r = xstrdup ("docker.io");
    }
  return r;
}

static int
load_one (struct nook_config *c, const char *path, nook_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  nook_error_t e = NULL;
  if (fs_read_file_at (AT_FDCWD, path, CONFIG_MAX, &data, &len, &e) < 0)
    {
      if (e->code == ENOENT || e->code == ENOTDIR)
        {
          nook_error_free (&e);
          return 0;
        }
      *err = e;
      return nook_error_wrap (err, "config file '%s'", path);
    }
  json_error_t je;
  cleanup_jsonv json_t *j = json_loadb (data, len, JSON_REJECT_DUPLICATES, &je);
  if (j == NULL || !json_is_object (j))
    return nook_error_set (err, EINVAL, "config file '%s': %s (line %d)", path,
                           j ? "not a JSON object" : je.text, j ? 0 : je.line);
  strv_push (&c->files, path);
  json_t *v;
  if ((v = json_object_get (j, "registry-mirrors")) != NULL)
    {
      struct nook_mirror_set *m = mirror_slot (c, "docker.io");
      if (string_list (v, path, "registry-mirrors", true, &m->mirrors, err) < 0)
        return -1;
      free (m->from);
      m->from = xstrdup (path);
    }
  if ((v = json_object_get (j, "insecure-registries")) != NULL)
    {
      if (string_list (v, path, "insecure-registries", false, &c->insecure, err) < 0)
        return -1;
      free (c->insecure_from);
      c->insecure_from = xstrdup (path);
    }
  if ((v = json_object_get (j, "mirrors")) != NULL)
    {
      if (!json_is_object (v))
        return nook_error_set (err, EINVAL,
                               "config file '%s': \"mirrors\" must map registries to lists of "
                               "mirror URLs",
                               path);
      const char *k;
      json_t *list;
      json_object_foreach (v, k, list)
      {
        cleanup_free char *key = registry_key (k);
        cleanup_free char *what = xasprintf ("mirrors.%s", k);
        if (*key == '\0')
          return nook_error_set (err, EINVAL, "config file '%s': empty registry in \"mirrors\"",
                                 path);
        struct nook_mirror_set *m = mirror_slot (c, key);
        if (string_list (list, path, what, true, &m->mirrors, err) < 0)
          return -1;
        free (m->from);
        m->from = xstrdup (path);
      }
    }
  return 0;
}

int
nook_config_load_files (struct nook_config *c, const char *system_file, const char *user_file,
                        nook_error_t *err)
{
  memset (c, 0, sizeof *c);
  c->files = xzalloc (sizeof (char *));
  if ((system_file && load_one (c, system_file, err) < 0)
      || (user_file && load_one (c, user_file, err) < 0))
    {
      nook_config_clear (c);
      return -1;
    }
  if (c->insecure == NULL)
    c->insecure = xzalloc (sizeof (char *));
  return 0;
}

int
nook_config_load (struct nook_config *c, nook_error_t *err)
{
  cleanup_free char *user = nook_config_user_path ();
  return nook_config_load_files (c, SYSTEM_CONFIG, user, err);
}

char *const *
nook_config_mirrors (const struct nook_config *c, const char *domain, const char **from)
{
  for (size_t i = 0; i < c->n_mirrors; i++)
    if (strcmp (c->mirrors[i].registry, domain) == 0 && c->mirrors[i].mirrors
        && c->mirrors[i].mirrors[0])
      {
        if (from)
          *from = c->mirrors[i].from;
        return c->mirrors[i].mirrors;
      }
  return NULL;
}
