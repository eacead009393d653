/* cmd/health.h: healthchecks, as Docker runs them.
 *
 * The config is Docker's Config.Healthcheck ({"Test": ["CMD", ...] |
 * ["CMD-SHELL", "..."] | ["NONE"], "Interval", "Timeout", "StartPeriod",
 * "StartInterval" in nanoseconds, "Retries"}): the image's, with run's
 * --health-* flags over it field by field (--no-healthcheck: Test ["NONE"]).
 * A run records the merged object in config.json's Config.
 *
 * The container's supervisor (cmd/supervise.c) runs the probes on Docker's
 * schedule (the first one an interval after the start; --health-start-interval
 * while in the start period and not yet healthy), each through the exec path
 * (sandbox/exec.c: the container's namespaces, user, capabilities, seccomp),
 * in a child of its own so that its loop never blocks; a probe that outlives
 * its timeout is killed with its process group.  The state (Docker's
 * State.Health: Status starting|healthy|unhealthy, FailingStreak, the last 5
 * results) is written to containers/<id>/health.json at each change; inspect,
 * ps and wait read it there.  When the container ends the state reads
 * "unhealthy", as Docker leaves it. */
#ifndef NOOK_CMD_HEALTH_H
#define NOOK_CMD_HEALTH_H

#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd/run_flags.h"
#include "sandbox/spec.h"
#include "util/error.h"

/* Go's time.ParseDuration, which Docker's --health-* flags use: "1h2m3.5s",
 * "300ms", "0"; units ns, us (µs), ms, s, m, h.  Errors are Go's text
 * (`time: missing unit in duration "5"`). */
int health_duration_parse (const char *s, int64_t *ns, nook_error_t *err);

/* Go's Duration.String ("300ms", "1m30s", "2h0m0s"), as Docker's messages print them. */
void health_duration_format (int64_t ns, char *buf, size_t size);

/* Check run's --health-* flags (syntax, negative values, --no-healthcheck with
 * another): Docker's messages, flag errors (125). */
int health_flags_check (const struct run_opts *o, nook_error_t *err);

/* Config.Healthcheck for a container: the image config's ("config" of an OCI
 * image config) with the flags over it; *out NULL when there is none at all. */
int health_config_merge (const struct run_opts *o, const json_t *image_config, json_t **out,
                         nook_error_t *err);

#define HEALTH_LOG_MAX 5
#define HEALTH_OUTPUT_MAX 4096

struct health_config
{
  char **argv; /* CMD: as given; CMD-SHELL: the image's SHELL (else /bin/sh -c) + TEXT */
  int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns;
  int retries;
};

/* From a Config.Healthcheck object (defaults: 30 s, 30 s, 0, 5 s, 3 retries) and the
 * container's Config.Shell (NULL: /bin/sh -c): NULL when there is none or it is
 * disabled (Test NONE, empty, or a kind other than CMD and CMD-SHELL, as Docker's). */
struct health_config *health_config_load (const json_t *healthcheck, const json_t *shell);
void health_config_free (struct health_config *c);

struct health_result
{
  int64_t start_ns, end_ns; /* CLOCK_REALTIME */
  int exit_code;            /* -1: timed out */
  char *output;
};

struct health_state
{
  char status[16]; /* starting, healthy, unhealthy */
  int failing_streak;
  struct health_result log[HEALTH_LOG_MAX];
  int nlog;
};

/* Docker's rules for one result (moby daemon/health.go): 0 healthy, anything
 * else a failure, which counts only once the start period is over or the
 * container was healthy once; `retries` failures in a row: unhealthy.  The
 * result (its output) is the state's now.  at_start: the probe run as the
 * command starts (podman's first probe; Docker's comes an interval later): its
 * success counts, its failure is logged and counts for nothing, so the failures
 * that count are those of Docker's schedule. */
void health_state_apply (struct health_state *h, const struct health_config *c, int64_t started_ns,
                         struct health_result *r, bool at_start);
void health_state_clear (struct health_state *h);
/* State.Health as Docker shows it. */
json_t *health_state_json (const struct health_state *h);

/* ---- the supervisor's side ---- */

struct health_mon;

/* spec: the container's (argv replaced by the probe's); dirfd: its directory. */
struct health_mon *health_mon_new (const struct health_config *c, const struct nook_spec *spec,
                                   int dirfd);
void health_mon_free (struct health_mon *m);
/* Its status changes recorded as events (health_status: ...) of container id of the
 * store at root (both borrowed: they outlive m). */
void health_mon_events (struct health_mon *m, const char *root, const char *id);
/* The container's init runs (pid): status starting, the first probe scheduled. */
void health_mon_begin (struct health_mon *m, pid_t init, int64_t started_ns);
/* The container ended: the probe in flight killed, status unhealthy (written
 * unless `gone`: the directory is no longer the container's). */
/* The container was paused (a probe in flight cancelled, none started) or unpaused
 * (the next probe an interval later), as Docker's monitor. */
void health_mon_pause (struct health_mon *m, bool paused);
void health_mon_end (struct health_mon *m, bool gone);
/* Write the monitor's state (health.json) now: after the container's end was
 * recorded, so no reader sees a running container turned unhealthy by its end. */
void health_mon_flush (struct health_mon *m);
/* The fds to poll (at most 2) into p; their count. */
int health_mon_pollfds (struct health_mon *m, struct pollfd *p);
/* When the monitor next needs a call (CLOCK_MONOTONIC ms), -1 for never. */
int64_t health_mon_deadline (const struct health_mon *m);
/* After a poll (p: what health_mon_pollfds filled, with revents): reads the
 * probe's output, reaps it, kills it at its timeout, starts the next when due
 * (none while paused). */
void health_mon_handle (struct health_mon *m, const struct pollfd *p, int n, bool paused);

/* The health status recorded for container id (cdir: the containers/
 * directory) into buf: "starting", "healthy", "unhealthy", or "" when none. */
void health_status_read (int cdir, const char *id, char *buf, size_t size);
/* Its State.Health object (new reference), or NULL. */
json_t *health_json_read (int cdir, const char *id);
/* Whether config.json's Config has an enabled healthcheck. */
bool health_configured (const json_t *config_json);

#endif
