/* cmd/labels.c: see labels.h. */
#include "cmd/labels.h"
#include "util/cleanup.h"
#include "util/fs_read.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define LABEL_FILE_MAX (16u << 20)

static int
label_set (json_t *into, const char *kv, size_t len, const char *where, nook_error_t *err)
{
  cleanup_free char *s = xstrndup (kv, len);
  char *eq = strchr (s, '=');
  if (eq)
    *eq = '\0';
  if (*s == '\0')
    return nook_error_set (err, 0, "invalid label '%s'%s%s: empty name", kv, where ? " in " : "",
                           where ? where : "");
  json_t *v = json_string (eq ? eq + 1 : "");
  if (v == NULL)
    return nook_error_set (err, 0, "invalid label '%s': not UTF-8", s);
  json_object_set_new (into, s, v);
  return 0;
}

int
cmd_labels_parse (char *const *labels, char *const *label_files, json_t *into, nook_error_t *err)
{
  for (size_t i = 0; label_files && label_files[i]; i++)
    {
      cleanup_free char *text = NULL;
      size_t len = 0;
      if (fs_read_user_file (label_files[i], LABEL_FILE_MAX, &text, &len, err) < 0)
        return nook_error_wrap (err, "--label-file");
      if (memchr (text, '\0', len))
        return nook_error_set (err, 0, "--label-file %s: a NUL byte", label_files[i]);
      const char *cur = text;
      char *line;
      while ((line = str_next_line (&cur)) != NULL)
        {
          cleanup_free char *l = line;
          char *b = l;
          while (*b == ' ' || *b == '\t')
            b++;
          size_t n = strlen (b);
          while (n && (b[n - 1] == '\r' || b[n - 1] == ' ' || b[n - 1] == '\t'))
            n--;
          if (n == 0 || b[0] == '#')
            continue;
          if (label_set (into, b, n, label_files[i], err) < 0)
            return -1;
        }
    }
  for (size_t i = 0; labels && labels[i]; i++)
    if (label_set (into, labels[i], strlen (labels[i]), NULL, err) < 0)
      return -1;
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

char *
cmd_labels_text (json_t *labels)
{
  size_t n = json_object_size (labels), i = 0;
  const char **keys = xzalloc (sizeof *keys * (n + 1));
  const char *k;
  json_t *v;
  json_object_foreach (labels, k, v) keys[i++] = k;
  qsort (keys, n, sizeof *keys, cmp_str);
  struct strbuf b = { 0 };
  for (i = 0; i < n; i++)
    {
      const char *val = json_string_value (json_object_get (labels, keys[i]));
      strbuf_appendf (&b, "%s%s=%s", i ? "," : "", keys[i], val ? val : "");
    }
  free (keys);
  return strbuf_steal (&b);
}

int
cmd_filter_add (json_t *filters, const char *arg, const char *const *known, nook_error_t *err)
{
  const char *eq = strchr (arg, '=');
  if (eq == NULL || eq == arg)
    return nook_error_set (err, 0, "bad format of filter (expected name=value)");
  bool neg = eq[-1] == '!';
  cleanup_free char *key = xstrndup (arg, (size_t)(eq - arg));
  if (neg)
    key[strlen (key) - 1] = '\0';
  bool ok = false;
  for (size_t i = 0; known[i] && !ok; i++)
    ok = strcmp (known[i], key) == 0;
  if (!ok || (neg && strcmp (key, "label") != 0))
    return nook_error_set (err, 0, "invalid filter '%s'", key);
  if (neg)
    {
      free (key);
      key = xstrdup ("label!");
    }
  json_t *list = json_object_get (filters, key);
  if (list == NULL)
    {
      list = json_array ();
      json_object_set_new (filters, key, list);
    }
  json_t *v = json_string (eq + 1);
  if (v == NULL)
    return nook_error_set (err, 0, "invalid filter '%s': not UTF-8", arg);
  json_array_append_new (list, v);
  return 0;
}

/* KEY or KEY=VALUE against labels. */
static bool
label_matches (json_t *labels, const char *want)
{
  const char *eq = strchr (want, '=');
  cleanup_free char *k = eq ? xstrndup (want, (size_t)(eq - want)) : xstrdup (want);
  json_t *v = json_object_get (labels, k);
  if (v == NULL)
    return false;
  return eq == NULL || (json_is_string (v) && strcmp (json_string_value (v), eq + 1) == 0);
}

bool
cmd_filter_labels (json_t *filters, json_t *labels)
{
  size_t i;
  json_t *w;
  json_array_foreach (json_object_get (filters, "label"), i,
                      w) if (!label_matches (labels, json_string_value (w))) return false;
  json_array_foreach (json_object_get (filters, "label!"), i,
                      w) if (label_matches (labels, json_string_value (w))) return false;
  return true;
}
