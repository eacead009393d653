/* util/strv_json.c: see strv_json.h. */
#include "util/strv_json.h"
#include "util/util.h"

json_t *
strv_to_json (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

char **
strv_from_json (const json_t *a)
{
  char **v = xzalloc (sizeof *v);
  size_t i;
  const json_t *x;
  json_array_foreach (a, i, x)
  {
    if (json_is_string (x))
      strv_push (&v, json_string_value (x));
  }
  return v;
}
