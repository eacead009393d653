/* cmd/compose/events.h: `nook compose events`, the project's container events (the
 * store's events log, cmd/events.h) as Compose prints them. */
#ifndef NOOK_CMD_COMPOSE_EVENTS_H
#define NOOK_CMD_COMPOSE_EVENTS_H

#include "cmd/compose/model.h"
#include "util/error.h"

/* events [--json] [SERVICE...]: the events to come of project's containers (of those
 * services), until a signal. */
int compose_events (const char *root, const char *project, struct compose_model *m, int argc,
                    char **argv, nook_error_t *err);

#endif
