/* cmd/events.h: the store's events, as Docker's `events` shows them.
 *
 * There is no daemon to hold them: the verbs and the supervisors append one JSON line
 * per event (Docker's message: Type, Action, Actor {ID, Attributes}, scope, time,
 * timeNano, and status/id/from for containers and images) to STORE/events.log with one
 * O_APPEND write.  The log is bounded: past EVENTS_LOG_MAX bytes it is renamed
 * events.log.1 (the one before is dropped), under a lock on the file.  `events` reads
 * events.log.1 then events.log, and follows events.log (inotify on the store, a rename
 * seen by its inode) until --until or a signal. */
#ifndef NOOK_CMD_EVENTS_H
#define NOOK_CMD_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define EVENTS_LOG_MAX (1 << 20)

/* Record an event; attrs (stolen, may be NULL) are its Actor's attributes.  Never fails
 * its caller: an event that cannot be written is logged at debug level. */
void events_record (const char *root, const char *type, const char *action, const char *id,
                    json_t *attrs);

/* A container's event: its attributes are its labels, image and name (from its record,
 * else from the arguments when given), plus extra (stolen, may be NULL: exitCode, signal). */
void events_container (const char *root, const char *id, const char *action, json_t *extra);

/* A container's attributes as events_container gives them (labels, image, name), read
 * once from its record: a new object, {} when there is no record. */
json_t *events_container_attrs (const char *root, const char *id);

/* The same, and (volumes not NULL) the container's volume mounts (Mounts of Type
 * "volume", a new array; NULL when none) from the same read. */
json_t *events_container_attrs_mounts (const char *root, const char *id, json_t **volumes);
/* The same from a container's record already parsed (cfg: its config.json; NULL: none). */
json_t *events_container_attrs_of (const json_t *cfg, json_t **volumes);

/* Docker's `volume mount` (container, destination, driver, propagation, read/write) or
 * `unmount` (container, driver) event of each of volumes (as above; may be NULL). */
void events_volumes (const char *root, const char *id, const json_t *volumes, bool mount);

/* events_volumes of the container's volumes, read from its record. */
void events_container_volumes (const char *root, const char *id, bool mount);

/* events_container with attributes read before (attrs borrowed: a copy is recorded), so
 * that a run's last events read no file (cmd/run.c's direct path, after its command). */
void events_container_with (const char *root, const char *id, const char *action,
                            const json_t *attrs, json_t *extra);

/* An image's event as Docker's LogImageEvent makes it: Actor ID actor, the attributes the
 * image's labels (config.Labels of image_config, or of the image lookup names in store
 * when image_config is NULL; none when neither is found: a deleted image's) and name. */
struct imagefmt_store;
void events_image (struct imagefmt_store *store, const char *action, const char *actor,
                   const char *name, const json_t *image_config, const char *lookup);

/* {k: "v"} (Docker's attributes are strings: exitCode, signal). */
json_t *events_attr_int (const char *k, int v);

/* Docker's --since/--until: a Unix time (seconds[.fraction]), an RFC 3339 date or time, or
 * a Go duration before now ("10m", "1h30m").  Nanoseconds since the epoch. */
int events_time_parse (const char *s, int64_t now_ns, int64_t *out_ns, nook_error_t *err);

/* Each event from since_ns (INT64_MIN: only those to come) to until_ns (INT64_MAX: none,
 * follow until a signal), in order, passed to fn (ev borrowed); fn returns false to stop. */
int events_stream (const char *root, int64_t since_ns, int64_t until_ns,
                   bool (*fn) (json_t *ev, void *data), void *data, nook_error_t *err);

#endif
