/* cmd/compose/view_shape.h: the pure half of the read-only compose verbs (ps, ls,
 * logs): a project's container as Compose's `ps --format json` shows it, `ls`'s
 * combined status, the log prefixes. No I/O: unit-tested (tests/unit/test_compose_view.c). */
#ifndef NOOK_CMD_COMPOSE_VIEW_SHAPE_H
#define NOOK_CMD_COMPOSE_VIEW_SHAPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/ctrs.h"

/* Docker Compose's labels. */
#define CL_PROJECT "com.docker.compose.project"
#define CL_SERVICE "com.docker.compose.service"
#define CL_NUMBER "com.docker.compose.container-number"
#define CL_ONEOFF "com.docker.compose.oneoff"
#define CL_HASH "com.docker.compose.config-hash"
#define CL_FILES "com.docker.compose.project.config_files"
#define CL_WORKDIR "com.docker.compose.project.working_dir"

/* A label of a container ("" when it has none: borrowed). */
const char *compose_label (const struct ctr *c, const char *key);

/* One row of `compose ps` (Compose >= 2.21: every key of its container context, in
 * sorted order: Command, CreatedAt, ExitCode, Health, ID, Image, Labels, LocalVolumes,
 * Mounts, Name, Names, Networks, Ports, Project, Publishers [{URL, TargetPort,
 * PublishedPort, Protocol}], RunningFor, Service, Size, State, Status).  networks: the
 * names of the networks it is on (NULL-terminated, may be NULL); trunc: ID, command and
 * mount names shortened as Compose does without --no-trunc. */
json_t *compose_ps_row (const struct ctr *c, char *const *networks, int64_t now, bool trunc);
/* The field -> column title object of ps's table headers. */
json_t *compose_ps_headers (void);
/* ps's default table. */
#define COMPOSE_PS_TABLE                                                                           \
  "table "                                                                                         \
  "{{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"

/* `compose ls`'s STATUS: the states counted, sorted by name ("exited(1), running(2)"). */
char *compose_combined_status (char *const *states);

/* The name logs and events show: without "PROJECT-" when it is the default name
 * PROJECT-SERVICE-N (a container_name is shown whole). */
char *compose_short_name (const char *project, const char *service, const char *number,
                          const char *name);
/* The prefix of a log line as Compose's: "%-<width>s | " (width: compose_log_width), in
 * colour `color` (0-based index into Compose's rainbow) or plain when color < 0. */
char *compose_log_prefix (const char *name, size_t width, int color);
/* The ANSI SGR code of colour number `color` ("36", "33;1"...). */
const char *compose_log_color (int color);
/* The width for a set of names (the longest + 1). */
size_t compose_log_width (char *const *names);

/* Go's strconv.Quote close enough for commands (JSON's escapes). */
char *compose_go_quote (const char *s);

#endif
