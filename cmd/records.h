/* cmd/records.h: container records in the store (containers/<id>/): create,
 * read, name, empty and park for the --rm pool, remove. */
#ifndef NOOK_CMD_RECORDS_H
#define NOOK_CMD_RECORDS_H

#include <jansson.h>

#include "net/ports.h"
#include "sandbox/spec.h"
#include "util/error.h"

struct container_record
{
  const char *id, *name, *image, *image_id, *driver;
  char *const *argv;
  bool ephemeral;               /* --rm: a generated name is not reserved (no disk work) */
  const char *network;          /* "bridge", "none"... */
  const struct net_port *ports; /* published */
  size_t n_ports;
  json_t *extra;        /* members added to config.json (Labels, Config, HostConfig, Mounts... for
                           inspect: cmd/inspect.c; Spec for start and exec: cmd/records_spec.c), or NULL */
  char **deferred_name; /* not NULL: config.json is not written; the name (malloc'd, or
                           NULL) goes here, for container_write_config (after the clone) */
};

/* The published ports of a config.json ("Ports", Docker's API shape:
 * IP/PrivatePort/PublicPort/Type); *n gets their number. */
struct net_port *container_ports (const json_t *config, size_t *n);

/* Create containers/<id>/ with config.json; refuses a name in use.  *dir gets
 * the container directory's absolute path. */
int container_create (const char *root, const struct container_record *rec, char **dir,
                      nook_error_t *err);
/* Write config.json of REC (as container_create would have, NAME its deferred_name)
 * in its directory DIR; *written (when not NULL) gets what was written, parsed. */
int container_write_config (const char *dir, const struct container_record *rec, const char *name,
                            json_t **written, nook_error_t *err);
/* containers/ID/FILE (config.json, state.json) parsed, or NULL (a config.json
 * whose Id is not ID too: a pooled directory's, not yet rewritten).  cdir:
 * an fd of the store's containers/ directory. */
json_t *container_read_json (int cdir, const char *id, const char *file);
/* The ID of a container made from image IMAGE_ID, or NULL: a running one (its nook
 * alive; *running set, when not NULL) rather than a stopped one. */
char *container_using_image (const char *root, const char *image_id, bool *running);
/* Free NAME if it still names container ID. */
void container_release_name (const char *root, const char *name, const char *id);
/* The start time of a process (field 22 of /proc/PID/stat), 0 if gone: with
 * the pid it tells whether the nook that runs a container is still alive. */
unsigned long long container_proc_start (pid_t pid);
/* Record the end of a run in state.json (status -1: nook failed, with msg). */
int container_set_exited (const char *dir, int status, const char *msg);
/* After --rm (overlay only): empty containers/<id>/ (upper/ and work/
 * emptied, merged/, etc/ and config.json kept), then, once the container's
 * namespaces are gone, park it in containers/.pool for the next run.  -1
 * when either cannot (then remove the directory).  When the container wrote
 * nothing, only overlayfs' work/ tree is left: *deferred is set, nothing is
 * removed, and it is parked dirty (park's dirty) for container_pool_clean;
 * *dirty is false when not even work/ holds anything (a tmpfs held the
 * writable layer): parked clean. */
int container_empty (const char *root, const char *id, bool reserved_name, bool *deferred,
                     bool *dirty, nook_error_t *err);
int container_park (const char *root, const char *id, bool dirty, nook_error_t *err);
/* Empty at most two directories parked dirty: for a run's idle moments. */
void container_pool_clean (const char *root);
/* Remove containers/<id>/, inside our user namespace (files of subordinate ids). */
int container_remove (const char *root, const char *id, const struct nook_idmapping *ids,
                      nook_error_t *err);

/* Give container ID the name NEW (Docker's rules and Conflict message), freeing OLD. */
int container_rename (const char *root, const char *id, const char *old_name, const char *new_name,
                      nook_error_t *err);

/* ---- spec and state (cmd/records_spec.c) ----
 *
 * config.json "Spec": what nook needs to start the container again or exec into
 * it (argv, env, user, caps, mounts, ...; id maps and layers are recomputed);
 * seccomp.bpf: its compiled seccomp program.  state.json: Docker's State
 * fields, written by the container's supervisor (cmd/supervise.c) only:
 * Status (created, running, paused, restarting, exited), Running, Paused,
 * Restarting, Pid (the init's host pid), InitStart, SupervisorPid,
 * SupervisorStart (start times: field 22 of /proc/PID/stat), ExitCode, Error,
 * StartedAt/FinishedAt (unix seconds; *Ns in nanoseconds; *Time RFC 3339),
 * RestartCount, ManuallyStopped. */
json_t *container_spec_json (const struct nook_spec *spec);
/* Fill *spec from config.json's Spec (no layers, ids, container_dir, seccomp). */
int container_spec_from_json (json_t *config, struct nook_spec *spec, nook_error_t *err);
int container_seccomp_save (int dirfd, const struct nook_spec *spec, nook_error_t *err);
int container_seccomp_load (int dirfd, struct nook_spec *spec, nook_error_t *err);

struct container_state
{
  char status[16];
  bool paused, manually_stopped;
  bool supervisor_lost; /* read: it said running, its supervisor is dead */
  pid_t pid, sup_pid;
  unsigned long long pid_start, sup_start;
  int exit_code, restart_count;
  char *error;
  int64_t started_ns, finished_ns;
  const char *cgroup; /* written only: the container's freezer cgroup (not owned), or NULL */
};
/* Read containers/ID/state.json (none: "created"), the status derived with the
 * supervisor's liveness (a pidfd): running with a dead supervisor reads as
 * exited, 255, with an Error naming the supervisor. */
void container_state_read (int cdir, const char *id, struct container_state *st);
int container_state_write (int dirfd, const struct container_state *st, nook_error_t *err);
void container_state_clear (struct container_state *st);
/* pid alive and started at `start` (pidfd; zombies are dead). */
bool container_process_alive (pid_t pid, unsigned long long start);

#endif
