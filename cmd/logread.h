/* cmd/logread.h: a container's json-file log (cmd/logfile.h) read entry by entry,
 * rotated files first, for `logs` and for readers that interleave several containers
 * (`compose logs`): --since/--until/--tail applied, and, when following, the reader
 * picks up where it stopped (new lines, a rotation). */
#ifndef NOOK_CMD_LOGREAD_H
#define NOOK_CMD_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct logread;

struct log_entry
{
  int64_t ns; /* its time */
  int stream; /* 1 stdout, 2 stderr */
  char *text; /* the "log" member (a partial line has no "\n"); the caller frees it */
  size_t len;
};

/* The log of container `id` in dirfd (its directory; dup'ed). since/until in ns (0:
 * none), tail: the last N entries only (-1: all). A log not written yet is read
 * from its start once it appears (logread_next retries). */
struct logread *logread_open (int dirfd, const char *id, int64_t since, int64_t until,
                              int64_t tail);
/* The next entry: 1 (e filled), 0 when there is none for now (the end of what is
 * written; call again later to follow). */
int logread_next (struct logread *r, struct log_entry *e);
void logread_close (struct logread *r);

/* The reading options of `logs` and `compose logs` at argv[*i]: -n/--tail N|all (*tail,
 * -1: all), --since T, --until T (ns); flag errors name verb.  1 when taken (*i on its
 * value), 0 when argv[*i] is another option, -1 with *err. */
int logread_opt (int argc, char **argv, int *i, const char *verb, int64_t now, int64_t *tail,
                 int64_t *since, int64_t *until, nook_error_t *err);

/* A time as `logs --since` takes it: RFC 3339, a date, a unix time or a
 * duration before now (ns); -1 if it is none of them. */
int log_parse_time (const char *s, int64_t now, int64_t *out);

#endif
