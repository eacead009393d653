/* cmd/compose/merge.h: Compose's merge rules over jansson trees (pure).
 *
 * Mappings merge key by key, sequences append, scalars are replaced, with the rules of the
 * specification's merge chapter for the attributes that differ (command, entrypoint and
 * healthcheck.test replaced; environment, labels, sysctls... merged as KEY=VALUE
 * sequences; depends_on, networks merged as mappings; ulimits replaced per limit; logging
 * replaced when the driver changes; ipam.config merged by subnet); then duplicates are
 * removed from the sequences that must be unique (ports, volumes, secrets...), a later
 * entry replacing an earlier one in place. `!reset` and `!override` wrappers of the
 * override are applied. */
#ifndef NOOK_CMD_COMPOSE_MERGE_H
#define NOOK_CMD_COMPOSE_MERGE_H

#include <jansson.h>
#include <stdbool.h>

/* Merge override into a copy of base, at the path given by segs (n segments; the root
 * of a document is n = 0). Returns a new reference. */
json_t *compose_merge_at (json_t *base, json_t *override, const char **segs, int n);
/* Merge two whole documents. */
json_t *compose_merge (json_t *base, json_t *override);
/* Remove duplicates of the unique sequences of a whole document, in place. */
void compose_unicity (json_t *doc);

/* Whether a path (segments) matches a pattern such as "services.*.ports" ('*': any one). */
bool compose_path_match (const char *pattern, const char **segs, int n);

#endif
