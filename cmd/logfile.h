/* cmd/logfile.h: a container's log in Docker's json-file format, written by its
 * supervisor: containers/<id>/<id>-json.log, one JSON object a line,
 * {"log":"text\n","stream":"stdout","time":"2006-01-02T15:04:05.999999999Z"};
 * a line longer than 16 KiB, or left without its newline when the stream ends,
 * is written as it is (no "\n" at the end of "log").  Rotated at max-size into
 * <id>-json.log.1 .. .N-1 (max-file N), as Docker's. */
#ifndef NOOK_CMD_LOGFILE_H
#define NOOK_CMD_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct logw;

/* --log-driver json-file|none and --log-opt max-size=10m, max-file=3 (Docker's
 * spellings; anything else is an error naming it). */
struct log_config
{
  bool none;
  int64_t max_size; /* bytes, 0: unbounded */
  int max_file;     /* >= 1 */
};
int log_config_parse (const char *driver, char *const *opts, struct log_config *out,
                      nook_error_t *err);

/* Open (append) the log of container id in dirfd (its directory). */
struct logw *logw_open (int dirfd, const char *id, const struct log_config *cfg, nook_error_t *err);
/* Data read from the container's stream 1 (stdout) or 2 (stderr). */
void logw_data (struct logw *w, int stream, const char *buf, size_t n);
/* The stream paused or ended: write what is left of its lines as partial entries. */
void logw_flush (struct logw *w);
void logw_close (struct logw *w);

/* The log's file name for a container ("<id>-json.log"; caller frees). */
char *logw_file_name (const char *id);

/* Append s (n bytes) to b as the body of a JSON string: quotes, backslashes and
 * control characters escaped, invalid UTF-8 as U+FFFD (as Docker's encoder). */
struct strbuf;
void log_json_escape (struct strbuf *b, const char *s, size_t n);
/* RFC 3339 with nanoseconds, UTC, Docker's form (trailing zeros of the fraction
 * dropped). */
void log_format_time (int64_t ns, char buf[static 40]);

#endif
