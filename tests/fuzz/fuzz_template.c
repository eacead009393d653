/* tests/fuzz/fuzz_template.c: the --format template engine (util/template.c): any
 * template parses or fails cleanly, and executes over a fixed container-like value
 * (or over the JSON after a NUL byte) without crashing, in header mode too; tables
 * are aligned. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/template.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const DATA
    = "{\"Id\":\"abc\",\"Names\":\"web\",\"Labels\":\"a=b,c=d\",\"State\":{\"Status\":\"running\","
      "\"Running\":true,\"Pid\":4},\"Config\":{\"Env\":[\"A=1\"],\"Labels\":{\"k\":\"v\"},\"Cmd\":"
      "null},\"Mounts\":[{\"Source\":\"/s\"}],\"Size\":1.5,\"N\":-3}";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 8192)
    return 0;
  char *s = malloc (size + 1);
  memcpy (s, data, size);
  s[size] = '\0';
  size_t tlen = strlen (s);
  json_t *value = tlen < size ? json_loadb (s + tlen + 1, size - tlen - 1, JSON_DECODE_ANY, NULL)
                              : json_loads (DATA, 0, NULL);
  if (value == NULL)
    value = json_null ();
  cleanup_error nook_error_t err = NULL;
  struct tmpl *t = tmpl_parse (s, &err);
  if (t)
    {
      for (int header = 0; header < 2; header++)
        {
          struct strbuf b = { 0 };
          cleanup_error nook_error_t e = NULL;
          tmpl_exec (t, value, header, &b, &e);
          char *out = strbuf_steal (&b);
          free (tmpl_tabwrite (out));
          free (out);
        }
      tmpl_free (t);
    }
  json_decref (value);
  free (s);
  return 0;
}
