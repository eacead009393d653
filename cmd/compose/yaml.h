/* cmd/compose/yaml.h: Compose YAML to jansson values (libyaml), and back.
 *
 * Scalars are typed as Compose's own parser (go-yaml v3) types them: YAML 1.2 core, except
 * that an integer with a leading 0 is octal; yes/no/on/off stay strings. Anchors, aliases
 * and `<<` merge keys are resolved (an alias bomb or a cycle is an error); `!reset` and
 * `!override` become wrapper objects (compose_tag_*) that the merge consumes. Where each
 * value came from is kept in a map "path" -> [line, column] (paths as
 * "services.web.ports[0]"), so later errors can name file:line:col. */
#ifndef NOOK_CMD_COMPOSE_YAML_H
#define NOOK_CMD_COMPOSE_YAML_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* The wrapper of a tagged value: an object with this one key. */
#define COMPOSE_TAG_RESET "\x01!reset"
#define COMPOSE_TAG_OVERRIDE "\x01!override"

/* Parse every document of text (several documents merge later, in order): returns an
 * array of documents (an empty document is null), or NULL with *err naming
 * "NAME:LINE:COL: ...". *positions (when not NULL) receives the path map of the first
 * document. */
json_t *compose_yaml_parse (const char *text, size_t len, const char *name, json_t **positions,
                            nook_error_t *err);

/* The tag wrapped around v, or NULL; *inner receives the wrapped value. */
const char *compose_tag_of (json_t *v, json_t **inner);
/* Remove every wrapper of a tree: !reset removes its key or item, !override unwraps. */
void compose_tags_strip (json_t *v);

/* Type a plain scalar as go-yaml v3 does (null, bool, int with octal leading 0, float,
 * else string). */
json_t *compose_yaml_scalar (const char *s, size_t len);

/* Write v as YAML (block style, keys in the object's order) into a new string. */
char *compose_yaml_emit (json_t *v);

/* "line:col" of a path in a position map (0, 0 when unknown). */
void compose_yaml_position (json_t *positions, const char *path, int *line, int *col);

#endif
