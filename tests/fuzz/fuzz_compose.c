/* tests/fuzz/fuzz_compose.c: the Compose loader's pure parts (cmd/compose/): any text parses
 * as YAML or fails cleanly (aliases bounded, cycles refused), each document is validated
 * against the schema, merged with itself, stripped of its tags and written back as YAML;
 * the text is interpolated and read as an env file too. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/compose/interp.h"
#include "cmd/compose/merge.h"
#include "cmd/compose/schema.h"
#include "cmd/compose/yaml.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 16384)
    return 0;
  char *s = malloc (size + 1);
  memcpy (s, data, size);
  s[size] = '\0';
  json_t *positions = NULL;
  cleanup_error nook_error_t err = NULL;
  json_t *docs = compose_yaml_parse (s, strlen (s), "fuzz.yaml", &positions, &err);
  if (docs)
    {
      size_t i;
      json_t *d;
      json_t *sources = json_pack ("[[sO]]", "fuzz.yaml", positions ? positions : json_null ());
      json_array_foreach (docs, i, d)
      {
        cleanup_error nook_error_t e = NULL;
        compose_schema_validate (compose_schema (), d, sources, &e);
        json_t *m = compose_merge (d, d);
        compose_tags_strip (m);
        free (compose_yaml_emit (m));
        json_decref (m);
      }
      json_decref (sources);
      json_decref (docs);
    }
  json_decref (positions);
  json_t *env = json_pack ("{s:s,s:s}", "A", "1", "EMPTY", "");
  cleanup_error nook_error_t e2 = NULL;
  free (compose_interpolate (s, compose_lookup_json, env, NULL, &e2));
  json_t *out = json_object ();
  cleanup_error nook_error_t e3 = NULL;
  compose_dotenv_parse (s, "fuzz.env", env, out, &e3);
  json_decref (out);
  json_decref (env);
  free (s);
  return 0;
}
