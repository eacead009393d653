/* cmd/lifecycle.h: the verbs that act on a container's life (create, start,
 * stop, kill, restart, wait, pause, unpause, attach; run's detached and
 * attached launches), and what they share: finding a container by ID, ID
 * prefix or name, loading it back from its record, talking to its supervisor. */
#ifndef NOOK_CMD_LIFECYCLE_H
#define NOOK_CMD_LIFECYCLE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cmd/commands.h"
#include "cmd/run_flags.h"
#include "cmd/supervise.h"
#include "util/error.h"

/* What run and create record beyond the spec. */
struct run_life
{
  struct restart_policy restart;
  struct log_config log;
  int stop_signal;  /* --stop-signal, the image's STOPSIGNAL, SIGTERM */
  int stop_timeout; /* --stop-timeout, else 10 */
  bool stop_timeout_set;
};

/* Check run's lifecycle flags (--restart with --rm refused, as Docker does). */
int run_life_parse (const struct run_opts *o, const json_t *image_config, int stop_timeout,
                    bool stop_timeout_set, struct run_life *out, nook_error_t *err);
/* config.json keys for the container: Spec (records.h), and Docker's Config and
 * HostConfig (the fields nook knows). */
json_t *run_life_json (const struct run_opts *o, const struct nook_spec *spec,
                       const struct run_life *l);
/* Read them back from a config.json. */
void run_life_from_config (json_t *cfg, struct run_life *out);

/* A signal by name or number: "SIGTERM", "TERM", "term", "15". */
int signal_parse (const char *s, int *sig, nook_error_t *err);
const char *signal_name (int sig);

/* Container ID (malloc'd) for KEY: a full ID, a name, or a unique ID prefix.
 * "No such container: KEY" (ENOENT) or "multiple IDs found..." otherwise. */
char *container_lookup (const char *root, const char *key, nook_error_t *err);
/* The init of a foreground `run --rm` without a name (no supervisor: cmd/exec.c), pinned
 * in *initfd (a pidfd), from its config.json; -1 when it is not running.  With
 * command_started, one still setting up is waited for (exec, stop, kill: they act on its
 * command); without (wait), its init is enough, whatever its command does. */
pid_t container_foreground_init (json_t *cfg, bool command_started, int *initfd);
/* The store root of ctx (malloc'd), or NULL with *err. */
char *lifecycle_root (struct nook_ctx *ctx, nook_error_t *err);

/* Load container id from its record into o (spec complete: layers held, id
 * maps, storage driver, seccomp program) for a new supervisor. */
int lifecycle_load (struct nook_ctx *ctx, const char *id, struct supervise_opts *o,
                    nook_error_t *err);

/* Attach this terminal (or our stdio) to a supervisor's streams: fd is a
 * connection to it.  Returns the container's exit code, or -1 with *err (its
 * start failed: err->exit 125/126/127); *detached when the detach keys were
 * typed (then 0). */
int attach_streams (int fd, bool in, bool tty, const char *detach_keys, bool *detached,
                    nook_error_t *err);

/* run -d and run -it once the container is created: o is handed over. */
int lifecycle_run_detached (struct supervise_opts *o, const char *cidfile, nook_error_t *err);
int lifecycle_run_attached (struct supervise_opts *o, const char *detach_keys, nook_error_t *err);

/* (the verbs, cmd_create ... cmd_exec, are declared in cmd/commands.h) */
/* A process of the container whose init is `init` whose namespaces can be joined
 * (the init is not dumpable): its first child; -1 when there is none. */
pid_t exec_joinable_process (pid_t init);

/* wait --condition (cmd/wait.c): check the values; wait for container id to
 * meet one of them, *code the exit code to print (-1 for a state). */
int lifecycle_wait_check (char *const *conds, nook_error_t *err);
/* A foreground `run --rm` without a name: wait for its end (cmd/wait.c); 0 with *code,
 * 1 when id is no such run, -1 when it ended untold (it ended as we asked). */
int lifecycle_wait_foreground (const char *root, const char *id, int *code);
/* The run's side: tell the waiters of id its exit code (nothing when none waits). */
void lifecycle_tell_waiters (const char *root, const char *id, int code);
int lifecycle_wait (const char *root, const char *id, char *const *conds, int *code,
                    nook_error_t *err);

/* Remove holds/<id> when no live process holds it (its supervisor died). */
void lifecycle_clear_hold (const char *root, const char *id);

/* A supervisor (or a run starting one) holds the container's directory lock. */
bool lifecycle_owned (const char *root, const char *id);

/* `rm -f` of a running container: its supervisor kills it and removes it; 0
 * when it did, 1 when no supervisor listens (then remove it yourself). */
int lifecycle_remove_running (const char *root, const char *id, nook_error_t *err);

#endif
