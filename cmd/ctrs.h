/* cmd/ctrs.h: the container records of a store as the read-only verbs see them
 * (ps, inspect, cp, top, stats, rename, prune, volumes in use): config.json and
 * state.json read, the state derived (running, paused, exited, created, dead),
 * lookup by name, full ID or unique ID prefix.
 *
 * Tolerant of both record generations: the foreground run's (config.json Pid and
 * PidStart of the nook that runs it; state.json ExitCode/FinishedAt once ended)
 * and the detached one's (state.json Status, Running, Paused, Pid, SupervisorPid,
 * ExitCode, StartedAt, FinishedAt, Error, RestartCount): missing fields are
 * fine. */
#ifndef NOOK_CMD_CTRS_H
#define NOOK_CMD_CTRS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct ctr
{
  char *id, *name, *image, *image_id, *command;
  int64_t created, started, finished; /* seconds since the epoch, 0 unknown */
  int64_t created_ns;                 /* CreatedNs (else created in ns): the order of ps */
  json_t *config;                     /* config.json */
  json_t *state;                      /* state.json, or NULL */
  const char *status;                 /* created, running, paused, restarting, exited, dead */
  bool running, paused, restarting;   /* (running: also while paused or restarting, as Docker) */
  json_t *health;                     /* State.Health (health.json) when it has a healthcheck */
  const char *health_status;          /* starting, healthy, unhealthy; "none" without one */
  int exit_code;
  pid_t nook_pid; /* the foreground nook that runs it (0: none alive) */
  pid_t pid;      /* host pid of the container's PID 1, 0 when unknown or not running */
};

struct ctr_list
{
  struct ctr *v;
  size_t n;
};

/* Every container of the store at root, newest first.  A missing containers/
 * directory is an empty list. */
int ctr_list_load (const char *root, struct ctr_list *l, nook_error_t *err);
void ctr_list_free (struct ctr_list *l);
/* A container by full ID, name, or unique ID prefix: -1 with code ENOENT ("No
 * such container: KEY") or an ambiguous prefix ("multiple IDs found with
 * provided prefix: KEY"). */
int ctr_find (const struct ctr_list *l, const char *key, size_t *at, nook_error_t *err);
/* The store root from ctx->root or the default. */
char *ctr_store_root (const char *ctx_root, nook_error_t *err);

/* Docker's STATUS column: "Up 5 minutes", "Up 2 hours (Paused)", "Up 3 seconds
 * (healthy)", "Restarting (1) 2 seconds ago", "Exited (0) 3 seconds ago", "Created",
 * "Dead". */
char *ctr_status_text (const struct ctr *c, int64_t now);
/* Its labels (config.json Labels; an empty object when none): a borrowed reference. */
json_t *ctr_labels (const struct ctr *c);
/* RFC 3339 with nanoseconds as Docker prints times ("2024-05-01T10:00:00.000000000Z"),
 * or Go's zero time for 0. */
char *ctr_time_rfc3339 (int64_t t);

/* The host pids of every process of a running container (its PID 1 and all
 * descendants), from /proc/PID/stat (world-readable: no ptrace access needed).
 * *n gets the count; NULL when there is none. */
pid_t *ctr_processes (const struct ctr *c, size_t *n);

#endif
