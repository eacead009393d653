/* cmd/compose/schema.h: the Compose Specification's JSON schema (draft-07, the subset it
 * uses: type, properties, patternProperties, additionalProperties, required, items,
 * oneOf, enum, minimum, maximum, pattern, uniqueItems, local $ref) over jansson values.
 * The schema is compiled into nook (cmd/compose/compose-spec.json, Apache-2.0). */
#ifndef NOOK_CMD_COMPOSE_SCHEMA_H
#define NOOK_CMD_COMPOSE_SCHEMA_H

#include <jansson.h>

#include "util/error.h"

/* The embedded schema, parsed once (borrowed reference). */
json_t *compose_schema (void);

/* Validate doc against schema (`!reset`/`!override` wrappers are seen through). On the
 * first violation: -1 with *err "NAME:LINE:COL: PATH: what is wrong". sources is an array
 * of [NAME, POSITIONS] (compose_yaml_parse's maps of the files merged into doc, in merge
 * order): the last file that holds the path (or its nearest parent) is named. */
int compose_schema_validate (json_t *schema, json_t *doc, json_t *sources, nook_error_t *err);

/* Where path (or its nearest parent) was written, in sources as above: *name, *line and
 * *col (0 when nowhere). */
void compose_sources_locate (json_t *sources, const char *path, const char **name, int *line,
                             int *col);

#endif
