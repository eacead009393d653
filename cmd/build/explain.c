/* cmd/build/explain.c: --explain-cache.  Every build records the inputs of its steps
 * (parent state, instruction, build args in scope, inputs digest, epoch) in
 * cache/build-explain/<digest of context, Dockerfile and target>; with
 * --explain-cache each step is compared with the same step of the previous build of
 * that Dockerfile and the reason for a hit or a miss is printed (build_explain_why is
 * pure). */
#include "cmd/build/build.h"
#include "imagefmt/digest.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

json_t *
build_explain_record (const char *what, const char *parent, const char *instruction,
                      char *const *args, const char *inputs, int64_t epoch)
{
  json_t *a = json_array ();
  for (size_t i = 0; args && args[i]; i++)
    json_array_append_new (a, json_string (args[i]));
  return json_pack ("{s:s, s:s, s:s, s:o, s:s?, s:I}", "step", what, "parent", parent,
                    "instruction", instruction, "args", a, "inputs", inputs, "epoch",
                    (json_int_t)epoch);
}

static const char *
str (const json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? s : "";
}

/* The value of NAME in an args array ("NAME=value"), NULL when absent. */
static const char *
arg_value (const json_t *args, const char *name, size_t n)
{
  size_t i;
  json_t *v;
  json_array_foreach (args, i, v)
  {
    const char *s = json_string_value (v);
    if (s && strncmp (s, name, n) == 0 && s[n] == '=')
      return s + n + 1;
  }
  return NULL;
}

char *
build_explain_why (const json_t *prev, const json_t *now)
{
  if (prev == NULL)
    return xstrdup ("no earlier build of this Dockerfile recorded this step");
  struct strbuf b = { 0 };
  if (strcmp (str (prev, "instruction"), str (now, "instruction")) != 0)
    strbuf_appendf (&b, "%sthe instruction changed (was: %s)", b.len ? "; " : "",
                    str (prev, "step"));
  const json_t *pa = json_object_get (prev, "args"), *na = json_object_get (now, "args");
  size_t i;
  json_t *v;
  json_array_foreach (na, i, v)
  {
    const char *s = json_string_value (v), *eq = s ? strchr (s, '=') : NULL;
    if (eq == NULL)
      continue;
    const char *old = arg_value (pa, s, (size_t)(eq - s));
    if (old == NULL || strcmp (old, eq + 1) != 0)
      strbuf_appendf (&b, "%sbuild arg %.*s: %s -> %s", b.len ? "; " : "", (int)(eq - s), s,
                      old ? old : "(unset)", eq + 1);
  }
  json_array_foreach (pa, i, v)
  {
    const char *s = json_string_value (v), *eq = s ? strchr (s, '=') : NULL;
    if (eq && arg_value (na, s, (size_t)(eq - s)) == NULL)
      strbuf_appendf (&b, "%sbuild arg %.*s is no longer set", b.len ? "; " : "", (int)(eq - s), s);
  }
  if (strcmp (str (prev, "inputs"), str (now, "inputs")) != 0)
    strbuf_appendf (&b, "%sthe files it copies changed", b.len ? "; " : "");
  if (json_integer_value (json_object_get (prev, "epoch"))
      != json_integer_value (json_object_get (now, "epoch")))
    strbuf_appendf (&b, "%sthe epoch (SOURCE_DATE_EPOCH) changed", b.len ? "; " : "");
  if (b.len == 0 && strcmp (str (prev, "parent"), str (now, "parent")) != 0)
    strbuf_append (&b, "the step before it changed");
  if (b.len == 0)
    strbuf_append (&b, "same inputs as the last build");
  return strbuf_steal (&b);
}

static char *
record_name (struct build *b)
{
  cleanup_free char *id
      = xasprintf ("%s\n%s\n%s", b->ctxpath ? b->ctxpath : "-", b->df_path ? b->df_path : "-",
                   b->o->target ? b->o->target : "");
  char *d = imagefmt_digest_data (id, strlen (id));
  return d;
}

void
build_explain_load (struct build *b)
{
  cleanup_error nook_error_t e = NULL;
  cleanup_close int d = build_store_dir (b, "cache/build-explain", &e);
  cleanup_free char *name = record_name (b);
  cleanup_free char *text = NULL;
  b->explain_now = json_array ();
  if (d < 0 || fs_read_file_at (d, name + 7, 16u << 20, &text, NULL, &e) < 0)
    return;
  json_error_t je;
  json_t *j = json_loads (text, 0, &je);
  if (json_is_array (j))
    b->explain_prev = j;
  else if (j)
    json_decref (j);
}

void
build_explain_save (struct build *b)
{
  if (b->explain_now == NULL || b->store == NULL)
    return;
  cleanup_error nook_error_t e = NULL;
  cleanup_close int d = build_store_dir (b, "cache/build-explain", &e);
  cleanup_free char *name = record_name (b);
  cleanup_free char *text = json_dumps (b->explain_now, JSON_COMPACT);
  if (d < 0 || text == NULL || fs_write_atomic_at (d, name + 7, text, strlen (text), 0600, &e) < 0)
    log_debug ("explain-cache record: %s", e ? e->msg : "out of memory");
}
