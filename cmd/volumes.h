/* cmd/volumes.h: named and anonymous volumes in the store
 * (volumes/<name>/_data, volumes/<name>/volume.json) and their use by runs. */
#ifndef NOOK_CMD_VOLUMES_H
#define NOOK_CMD_VOLUMES_H

#include <jansson.h>
#include <stdbool.h>

#include "sandbox/spec.h"
#include "util/error.h"

/* Docker's volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool volume_name_valid (const char *name);

/* Create volume NAME (labels may be NULL; anonymous: Docker's
 * com.docker.volume.anonymous label), or find it when it exists (*created
 * false).  *data_path (may be NULL) gets volumes/NAME/_data. */
int volume_ensure (const char *root, const char *name, json_t *labels, bool anonymous,
                   bool *created, char **data_path, nook_error_t *err);

/* Before a run: resolve the volume mounts of spec (a bind whose source is a volume
 * name, or NULL for an anonymous volume: cmd/spec_mounts.c), add anonymous volumes
 * for the image's VOLUME entries no mount covers and the mounts of --volumes-from
 * containers; create what is missing and fill each empty volume from the image's
 * content at its destination (not with the "nocopy" option), inside a user
 * namespace mapped by ids.  *mounts gets Docker's inspect "Mounts" array. */
int volumes_prepare (const char *root, const struct nook_idmapping *ids, const json_t *image_config,
                     char *const *volumes_from, struct nook_spec *spec, json_t **mounts,
                     nook_error_t *err);

/* After `rm -v`: remove the anonymous volumes among a removed container's Mounts
 * that no other container uses.  Failures are reported on stderr. */
void volumes_remove_anonymous (const char *root, const struct nook_idmapping *ids, json_t *mounts);

/* Remove volumes/NAME (renamed aside first; inside the user namespace when files
 * of subordinate ids are in it). */
int volume_remove_dir (const char *root, const char *name, const struct nook_idmapping *ids,
                       nook_error_t *err);

struct ctr_list;
/* The IDs of the containers (any state) whose Mounts use volume NAME, or NULL. */
char **volume_users (const struct ctr_list *l, const char *name);

#endif
