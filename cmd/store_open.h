/* cmd/store_open.h: opening the store for the CLI (hooks that run layer
 * extraction and removal in a user namespace) and the store's recorded
 * storage driver. */
#ifndef NOOK_CMD_STORE_OPEN_H
#define NOOK_CMD_STORE_OPEN_H

#include "sandbox/spec.h"
#include "util/error.h"

struct imagefmt_store;

struct idmap_plan_input;

/* Open the store with its hooks set: layer extraction and removal run in a
 * user namespace mapped like the containers' (ids: the uid-0 plan; probe:
 * what /etc/subuid and /etc/subgid said, for planning other users' maps).
 * ids and probe may be NULL. */
int cmd_store_open (const char *root, struct imagefmt_store **out, struct nook_idmapping *ids,
                    struct idmap_plan_input *probe, nook_error_t *err);

/* Remove path, a directory of the store, and all below it: without a namespace first
 * (most of it is ours: faster), else as root of a user namespace mapped by ids (files
 * of the subordinate range). */
int cmd_store_rm_rf (const struct nook_idmapping *ids, const char *path, nook_error_t *err);

/* The store's storage driver: recorded in <root>/storage-driver, probed once. */
int cmd_store_driver (const char *root, const struct nook_idmapping *ids, enum storage_driver *out,
                      nook_error_t *err);
/* What the store has recorded (STORAGE_NONE if nothing yet), and why. */
enum storage_driver cmd_store_recorded_driver (const char *root, char **note);

#endif
