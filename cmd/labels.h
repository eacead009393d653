/* cmd/labels.h: -l/--label and --label-file values (run, create, volume create)
 * and the filters of list verbs (ps -f, volume ls -f, container prune --filter). */
#ifndef NOOK_CMD_LABELS_H
#define NOOK_CMD_LABELS_H

#include <jansson.h>
#include <stdbool.h>

#include "util/error.h"

/* Add the labels of --label-file files (read first, as Docker: lines KEY=VALUE or
 * KEY, blank lines and lines starting with # skipped), then of -l KEY=VALUE or
 * -l KEY (empty value) to the object `into` (later ones win). */
int cmd_labels_parse (char *const *labels, char *const *label_files, json_t *into,
                      nook_error_t *err);

/* Docker's "k=v,k2=v2" text of a labels object (keys sorted). */
char *cmd_labels_text (json_t *labels);

/* --filter KEY=VALUE: parsed into an object KEY -> [VALUE...]; keys outside
 * `known` (NULL-terminated) are refused as Docker does ("invalid filter 'x'"). */
int cmd_filter_add (json_t *filters, const char *arg, const char *const *known, nook_error_t *err);
/* label=KEY or label=KEY=VALUE (all must match), label!=... (none may). */
bool cmd_filter_labels (json_t *filters, json_t *labels);

#endif
