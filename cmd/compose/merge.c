/* cmd/compose/merge.c: the merge of Compose trees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/compose/merge.h"
#include "cmd/compose/yaml.h"
#include "util/cleanup.h"
#include "util/util.h"

#define MAX_DEPTH 64

enum rule
{
  R_DEFAULT,
  R_OVERRIDE,
  R_SEQUENCE, /* both sides as KEY=VALUE sequences, appended */
  R_EXTRA_HOSTS,
  R_BUILD,
  R_DEPENDS_ON,
  R_LOGGING,
  R_MAPPING_OF_NAMES, /* networks, models: a list of names is a mapping to null */
  R_IPAM_CONFIG,
};

static const struct
{
  const char *pattern;
  enum rule rule;
} rules[] = {
  { "networks.*.ipam.config", R_IPAM_CONFIG },
  { "networks.*.labels", R_SEQUENCE },
  { "volumes.*.labels", R_SEQUENCE },
  { "services.*.annotations", R_SEQUENCE },
  { "services.*.build", R_BUILD },
  { "services.*.build.args", R_SEQUENCE },
  { "services.*.build.additional_contexts", R_SEQUENCE },
  { "services.*.build.extra_hosts", R_EXTRA_HOSTS },
  { "services.*.build.labels", R_SEQUENCE },
  { "services.*.command", R_OVERRIDE },
  { "services.*.depends_on", R_DEPENDS_ON },
  { "services.*.deploy.labels", R_SEQUENCE },
  { "services.*.dns", R_SEQUENCE },
  { "services.*.dns_opt", R_SEQUENCE },
  { "services.*.dns_search", R_SEQUENCE },
  { "services.*.entrypoint", R_OVERRIDE },
  { "services.*.env_file", R_SEQUENCE },
  { "services.*.label_file", R_SEQUENCE },
  { "services.*.environment", R_SEQUENCE },
  { "services.*.extra_hosts", R_EXTRA_HOSTS },
  { "services.*.healthcheck.test", R_OVERRIDE },
  { "services.*.labels", R_SEQUENCE },
  { "services.*.volumes.*.volume.labels", R_SEQUENCE },
  { "services.*.logging", R_LOGGING },
  { "services.*.models", R_MAPPING_OF_NAMES },
  { "services.*.networks", R_MAPPING_OF_NAMES },
  { "services.*.sysctls", R_SEQUENCE },
  { "services.*.tmpfs", R_SEQUENCE },
  { "services.*.ulimits.*", R_OVERRIDE },
};

enum indexer
{
  I_KEY_VALUE,
  I_VOLUME,
  I_MOUNT,        /* configs: the target, or the source */
  I_SECRET_MOUNT, /* secrets: the target, or /run/secrets/SOURCE */
  I_ENV_FILE,
  I_EXPOSE,
  I_PORT,
};

static const struct
{
  const char *pattern;
  enum indexer indexer;
} uniques[] = {
  { "networks.*.labels", I_KEY_VALUE },
  { "networks.*.ipam.options", I_KEY_VALUE },
  { "services.*.annotations", I_KEY_VALUE },
  { "services.*.build.args", I_KEY_VALUE },
  { "services.*.build.additional_contexts", I_KEY_VALUE },
  { "services.*.build.platform", I_KEY_VALUE },
  { "services.*.build.tags", I_KEY_VALUE },
  { "services.*.build.labels", I_KEY_VALUE },
  { "services.*.cap_add", I_KEY_VALUE },
  { "services.*.cap_drop", I_KEY_VALUE },
  { "services.*.devices", I_VOLUME },
  { "services.*.configs", I_MOUNT },
  { "services.*.deploy.labels", I_KEY_VALUE },
  { "services.*.dns", I_KEY_VALUE },
  { "services.*.dns_opt", I_KEY_VALUE },
  { "services.*.dns_search", I_KEY_VALUE },
  { "services.*.environment", I_KEY_VALUE },
  { "services.*.env_file", I_ENV_FILE },
  { "services.*.expose", I_EXPOSE },
  { "services.*.labels", I_KEY_VALUE },
  { "services.*.links", I_KEY_VALUE },
  { "services.*.networks.*.aliases", I_KEY_VALUE },
  { "services.*.networks.*.link_local_ips", I_KEY_VALUE },
  { "services.*.ports", I_PORT },
  { "services.*.profiles", I_KEY_VALUE },
  { "services.*.secrets", I_SECRET_MOUNT },
  { "services.*.sysctls", I_KEY_VALUE },
  { "services.*.tmpfs", I_KEY_VALUE },
  { "services.*.volumes", I_VOLUME },
};

bool
compose_path_match (const char *pattern, const char **segs, int n)
{
  const char *p = pattern;
  for (int i = 0; i < n; i++)
    {
      const char *dot = strchr (p, '.');
      size_t len = dot ? (size_t)(dot - p) : strlen (p);
      if (len == 0)
        return false;
      if (!(len == 1 && p[0] == '*') && (strlen (segs[i]) != len || strncmp (segs[i], p, len) != 0))
        return false;
      if (i == n - 1)
        return dot == NULL;
      if (dot == NULL)
        return false;
      p = dot + 1;
    }
  return n == 0 && *pattern == '\0';
}

static enum rule
rule_of (const char **segs, int n)
{
  for (size_t i = 0; i < ARRAY_SIZE (rules); i++)
    if (compose_path_match (rules[i].pattern, segs, n))
      return rules[i].rule;
  return R_DEFAULT;
}

static char *
scalar_text (json_t *v)
{
  if (v == NULL)
    return NULL;
  switch (json_typeof (v))
    {
    case JSON_STRING:
      return xstrdup (json_string_value (v));
    case JSON_INTEGER:
      {
        char *s = NULL;
        if (asprintf (&s, "%" JSON_INTEGER_FORMAT, json_integer_value (v)) < 0)
          abort ();
        return s;
      }
    case JSON_REAL:
      {
        char *s = NULL;
        if (asprintf (&s, "%g", json_real_value (v)) < 0)
          abort ();
        return s;
      }
    case JSON_TRUE:
      return xstrdup ("true");
    case JSON_FALSE:
      return xstrdup ("false");
    default:
      return NULL;
    }
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* A mapping, sequence or scalar as a sequence (KEY=VALUE, KEY alone for null; a list of
 * values makes one entry each). New reference. */
static json_t *
as_sequence (json_t *v)
{
  if (json_is_array (v))
    return json_deep_copy (v);
  json_t *out = json_array ();
  if (json_is_object (v))
    {
      /* Go's maps come out in key order */
      const char **keys = xzalloc ((json_object_size (v) + 1) * sizeof *keys);
      size_t nk = 0;
      const char *k;
      json_t *x;
      json_object_foreach (v, k, x) { keys[nk++] = k; }
      qsort (keys, nk, sizeof *keys, cmp_str);
      for (size_t ki = 0; ki < nk; ki++)
        {
          k = keys[ki];
          x = json_object_get (v, k);
          if (json_is_array (x))
            {
              size_t i;
              json_t *y;
              json_array_foreach (x, i, y)
              {
                cleanup_free char *t = scalar_text (y);
                cleanup_free char *e = NULL;
                if (asprintf (&e, "%s=%s", k, t ? t : "") < 0)
                  abort ();
                json_array_append_new (out, json_string (e));
              }
              continue;
            }
          cleanup_free char *t = scalar_text (x);
          if (t == NULL)
            json_array_append_new (out, json_string (k));
          else
            {
              cleanup_free char *e = NULL;
              if (asprintf (&e, "%s=%s", k, t) < 0)
                abort ();
              json_array_append_new (out, json_string (e));
            }
        }
      free (keys);
    }
  else if (!json_is_null (v))
    json_array_append (out, v);
  return out;
}

static json_t *
names_as_mapping (json_t *v)
{
  if (!json_is_array (v))
    return json_deep_copy (v);
  json_t *o = json_object ();
  size_t i;
  json_t *x;
  json_array_foreach (v, i, x)
  {
    if (json_is_string (x))
      json_object_set_new (o, json_string_value (x), json_null ());
  }
  return o;
}

static json_t *
depends_on_mapping (json_t *v)
{
  if (!json_is_array (v))
    return json_deep_copy (v);
  json_t *o = json_object ();
  size_t i;
  json_t *x;
  json_array_foreach (v, i, x)
  {
    if (json_is_string (x))
      json_object_set_new (o, json_string_value (x),
                           json_pack ("{s:s,s:b}", "condition", "service_started", "required", 1));
  }
  return o;
}

static json_t *merge_rec (json_t *base, json_t *ov, const char **segs, int n);

static json_t *
merge_mappings (json_t *base, json_t *ov, const char **segs, int n)
{
  json_t *out = json_deep_copy (base);
  const char *k;
  json_t *v;
  json_object_foreach (ov, k, v)
  {
    json_t *inner;
    const char *tag = compose_tag_of (v, &inner);
    if (tag && tag[0] == 'r')
      {
        json_object_del (out, k);
        continue;
      }
    if (tag)
      {
        json_object_set (out, k, v); /* kept wrapped: a later merge may meet it again */
        continue;
      }
    json_t *old = json_object_get (out, k);
    if (old == NULL || n + 1 >= MAX_DEPTH)
      {
        json_object_set_new (out, k, json_deep_copy (v));
        continue;
      }
    segs[n] = k;
    json_object_set_new (out, k, merge_rec (old, v, segs, n + 1));
  }
  return out;
}

static json_t *
append (json_t *a, json_t *b)
{
  json_t *out = json_deep_copy (a);
  size_t i;
  json_t *x;
  json_array_foreach (b, i, x) { json_array_append_new (out, json_deep_copy (x)); }
  return out;
}

static json_t *
merge_rec (json_t *base, json_t *ov, const char **segs, int n)
{
  json_t *inner;
  const char *tag = compose_tag_of (base, &inner);
  if (tag)
    base = inner; /* a base's own wrapper is spent once merged over */
  if (ov == NULL || (json_is_null (ov) && json_is_object (base)))
    return json_deep_copy (base);
  switch (rule_of (segs, n))
    {
    case R_OVERRIDE:
      return json_deep_copy (ov);
    case R_SEQUENCE:
      {
        json_t *a = as_sequence (base), *b;
        if (json_is_object (ov))
          {
            /* KEY: !reset removes KEY from the base */
            json_t *o2 = json_object ();
            const char *k;
            json_t *x;
            json_object_foreach (ov, k, x)
            {
              const char *t = compose_tag_of (x, NULL);
              if (t == NULL || t[0] != 'r')
                {
                  json_object_set (o2, k, x);
                  continue;
                }
              size_t kl = strlen (k);
              for (size_t j = 0; j < json_array_size (a);)
                {
                  const char *e = json_string_value (json_array_get (a, j));
                  if (e && strncmp (e, k, kl) == 0 && (e[kl] == '=' || e[kl] == '\0'))
                    json_array_remove (a, j);
                  else
                    j++;
                }
            }
            b = as_sequence (o2);
            json_decref (o2);
          }
        else
          b = as_sequence (ov);
        json_t *out = append (a, b);
        json_decref (a);
        json_decref (b);
        return out;
      }
    case R_EXTRA_HOSTS:
      {
        json_t *a = as_sequence (base), *b = as_sequence (ov);
        size_t i;
        json_t *x;
        json_array_foreach (b, i, x)
        {
          bool dup = false;
          size_t j;
          json_t *y;
          json_array_foreach (a, j, y)
          {
            if (json_equal (x, y))
              dup = true;
          }
          if (!dup)
            json_array_append (a, x);
        }
        json_decref (b);
        return a;
      }
    case R_BUILD:
      {
        json_t *a
            = json_is_string (base) ? json_pack ("{s:O}", "context", base) : json_incref (base);
        json_t *b = json_is_string (ov) ? json_pack ("{s:O}", "context", ov) : json_incref (ov);
        json_t *out = json_is_object (a) && json_is_object (b) ? merge_mappings (a, b, segs, n)
                                                               : json_deep_copy (b);
        json_decref (a);
        json_decref (b);
        return out;
      }
    case R_DEPENDS_ON:
    case R_MAPPING_OF_NAMES:
      {
        bool dep = rule_of (segs, n) == R_DEPENDS_ON;
        json_t *a = dep ? depends_on_mapping (base) : names_as_mapping (base);
        json_t *b = dep ? depends_on_mapping (ov) : names_as_mapping (ov);
        json_t *out = json_is_object (a) && json_is_object (b) ? merge_mappings (a, b, segs, n)
                                                               : json_deep_copy (b);
        json_decref (a);
        json_decref (b);
        return out;
      }
    case R_LOGGING:
      {
        json_t *d1 = json_object_get (base, "driver"), *d2 = json_object_get (ov, "driver");
        if (d1 && d2 && !json_equal (d1, d2))
          return json_deep_copy (ov);
        break;
      }
    case R_IPAM_CONFIG:
      if (json_is_array (base) && json_is_array (ov))
        {
          json_t *out = json_deep_copy (base);
          size_t i;
          json_t *x;
          json_array_foreach (ov, i, x)
          {
            json_t *sub = json_object_get (x, "subnet");
            size_t j;
            json_t *y;
            bool done = false;
            json_array_foreach (out, j, y)
            {
              if (sub && json_equal (sub, json_object_get (y, "subnet")))
                {
                  json_array_set_new (out, j, merge_mappings (y, x, segs, n));
                  done = true;
                  break;
                }
            }
            if (!done)
              json_array_append_new (out, json_deep_copy (x));
          }
          return out;
        }
      break;
    default:
      break;
    }
  if (json_is_object (base) && json_is_object (ov) && !compose_tag_of (ov, NULL))
    return merge_mappings (base, ov, segs, n);
  if (json_is_array (base) && json_is_array (ov))
    return append (base, ov);
  json_t *in2;
  if (compose_tag_of (ov, &in2))
    return json_deep_copy (in2);
  return json_deep_copy (ov);
}

json_t *
compose_merge_at (json_t *base, json_t *override, const char **segs, int n)
{
  const char *s[MAX_DEPTH];
  for (int i = 0; i < n && i < MAX_DEPTH; i++)
    s[i] = segs[i];
  return merge_rec (base, override, s, n);
}

json_t *
compose_merge (json_t *base, json_t *override)
{
  const char *s[MAX_DEPTH];
  json_t *out = merge_rec (base, override, s, 0);
  compose_unicity (out);
  return out;
}

/* ---- unicity ------------------------------------------------------------------------- */

static char *
index_key (enum indexer ix, json_t *v)
{
  char *s = NULL;
  switch (ix)
    {
    case I_KEY_VALUE:
    case I_EXPOSE:
      {
        char *t = scalar_text (v);
        if (t && ix == I_KEY_VALUE)
          {
            char *eq = strchr (t, '=');
            if (eq)
              *eq = '\0';
          }
        return t;
      }
    case I_ENV_FILE:
      if (json_is_object (v))
        return scalar_text (json_object_get (v, "path"));
      return scalar_text (v);
    case I_VOLUME:
      if (json_is_object (v))
        return scalar_text (json_object_get (v, "target"));
      if (json_is_string (v))
        {
          const char *t = json_string_value (v);
          const char *c = strchr (t, ':');
          if (c == NULL)
            return xstrdup (t);
          const char *e = strchr (c + 1, ':');
          return e ? strndup (c + 1, (size_t)(e - c - 1)) : xstrdup (c + 1);
        }
      return NULL;
    case I_MOUNT:
    case I_SECRET_MOUNT:
      {
        const char *pre = ix == I_SECRET_MOUNT ? "/run/secrets/" : "";
        if (json_is_string (v))
          {
            if (asprintf (&s, "%s%s", pre, json_string_value (v)) < 0)
              abort ();
            return s;
          }
        const char *t = json_string_value (json_object_get (v, "target"));
        if (t && (t[0] == '/' || ix == I_MOUNT))
          return xstrdup (t);
        if (asprintf (&s, "%s%s", pre, t ? t : json_string_value (json_object_get (v, "source")) ?: "") < 0)
          abort ();
        return s;
      }
    case I_PORT:
      if (json_is_object (v))
        {
          cleanup_free char *pub = scalar_text (json_object_get (v, "published"));
          cleanup_free char *tgt = scalar_text (json_object_get (v, "target"));
          const char *ip = json_string_value (json_object_get (v, "host_ip"));
          const char *proto = json_string_value (json_object_get (v, "protocol"));
          if (asprintf (&s, "%s:%s:%s/%s", ip ? ip : "", pub ? pub : "", tgt ? tgt : "",
                        proto ? proto : "tcp")
              < 0)
            abort ();
          return s;
        }
      return scalar_text (v);
    }
  return NULL;
}

static void
dedup (json_t *seq, enum indexer ix)
{
  json_t *seen = json_object (); /* key -> index kept */
  for (size_t i = 0; i < json_array_size (seq);)
    {
      cleanup_free char *k = index_key (ix, json_array_get (seq, i));
      if (k == NULL)
        {
          i++;
          continue;
        }
      json_t *at = json_object_get (seen, k);
      if (at)
        {
          json_array_set (seq, (size_t)json_integer_value (at), json_array_get (seq, i));
          json_array_remove (seq, i);
          continue;
        }
      json_object_set_new (seen, k, json_integer ((json_int_t)i));
      i++;
    }
  json_decref (seen);
}

static void
unicity_rec (json_t *v, const char **segs, int n)
{
  if (n >= MAX_DEPTH - 1)
    return;
  if (json_is_array (v))
    {
      for (size_t i = 0; i < ARRAY_SIZE (uniques); i++)
        if (compose_path_match (uniques[i].pattern, segs, n))
          {
            dedup (v, uniques[i].indexer);
            break;
          }
      return;
    }
  if (!json_is_object (v))
    return;
  const char *k;
  json_t *x;
  json_object_foreach (v, k, x)
  {
    segs[n] = k;
    json_t *inner;
    unicity_rec (compose_tag_of (x, &inner) ? inner : x, segs, n + 1);
  }
}

void
compose_unicity (json_t *doc)
{
  const char *s[MAX_DEPTH];
  unicity_rec (doc, s, 0);
}
