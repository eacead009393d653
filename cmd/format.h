/* cmd/format.h: Docker's ways of showing times in tables. */
#ifndef NOOK_CMD_FORMAT_H
#define NOOK_CMD_FORMAT_H

#include <stdint.h>

/* Docker's units.HumanDuration: "Less than a second", "5 seconds", "About an hour"... */
char *cmd_human_duration (int64_t secs);
/* The same + " ago" for the time since `then`. */
char *cmd_human_since (int64_t then, int64_t now);
/* CREATED of an image or a history entry: cmd_human_since, except for the time 0, the
 * reproducible epoch `nook build` and `bootstrap` use by default (no SOURCE_DATE_EPOCH, no
 * git commit time), shown "reproducible (1970-01-01)" rather than "56 years ago". */
char *cmd_human_created (int64_t then, int64_t now);
/* Docker's units.HumanSizeWithPrecision (size, 3): "1.23MB", decimal units. */
char *cmd_human_size (uint64_t size);

#endif
