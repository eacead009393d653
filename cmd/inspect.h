/* cmd/inspect.h: what a container record keeps for `nook inspect` (Docker's
 * Config, HostConfig, Mounts, Labels...), and the inspect objects themselves. */
#ifndef NOOK_CMD_INSPECT_H
#define NOOK_CMD_INSPECT_H

#include <jansson.h>

#include "cmd/run_flags.h"
#include "sandbox/spec.h"
#include "util/error.h"

struct ctr;

/* The members a run adds to its config.json (container_record.extra): Labels
 * (the image's, then --label-file, then -l), Path, Args, Config, HostConfig,
 * Mounts (from cmd/volumes.c; may be NULL).  NULL with *err on a bad label. */
json_t *inspect_record_fields (const struct run_opts *o, const struct nook_spec *spec,
                               const json_t *image_config, json_t *mounts, nook_error_t *err);

/* Docker's inspect object of a container. */
json_t *inspect_container_json (const struct ctr *c, const char *root);

#endif
