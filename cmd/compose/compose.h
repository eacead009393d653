/* cmd/compose/compose.h: `nook compose` (also run as `docker-compose` or `nook-compose`). */
#ifndef NOOK_CMD_COMPOSE_COMPOSE_H
#define NOOK_CMD_COMPOSE_COMPOSE_H

#include "cmd/commands.h"

#include <jansson.h>

/* The version Docker Compose scripts recognise (`docker compose version --short`). */
#define NOOK_COMPOSE_VERSION "2.32.4"

int cmd_compose (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err);

/* The process environment as a JSON object (interpolation's variables). */
json_t *compose_environ_json (void);

#endif
