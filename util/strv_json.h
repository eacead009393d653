/* util/strv_json.h: string vectors (util/util.h's strv) as JSON arrays and back. */
#ifndef NOOK_UTIL_STRV_JSON_H
#define NOOK_UTIL_STRV_JSON_H

#include <jansson.h>

/* A new JSON array of v's strings ([] for NULL). */
json_t *strv_to_json (char *const *v);

/* The strings of array a (other values skipped; a not an array: none), as a new vector,
 * never NULL (empty when there are none). */
char **strv_from_json (const json_t *a);

#endif
