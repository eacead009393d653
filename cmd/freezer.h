/* cmd/freezer.h: a delegated cgroup freezer for pause/unpause.
 *
 * nook looks for a cgroup this user may write and that can freeze: $NOOK_CGROUP
 * (a cgroup v2 directory, or a directory of a v1 freezer hierarchy), else this
 * process's own cgroup v2 when delegated and it has cgroup.freeze, else
 * /sys/fs/cgroup/freezer/nook-$USER (a v1 freezer subtree root chowned to the
 * user: ci/prepare.sh makes one).  NOOK_CGROUP=none: no freezer.  Each container then gets a child
 * cgroup nook-<id> there: its init is cloned into it (v2, spec's cgroup_dir_fd) or joins it first
 * thing (v1, or where clone3 cannot: sandbox/child.c, spec's cgroup_procs_fd),
 * pause freezes it and waits for FROZEN, the supervisor removes it at its end.  Without one, pause
 * is SIGSTOP/SIGCONT (cmd/supervise.c). */
#ifndef NOOK_CMD_FREEZER_H
#define NOOK_CMD_FREEZER_H

#include "util/error.h"

#include <stdbool.h>

struct freezer
{
  int version; /* 1 or 2 */
  char *dir;   /* the base (delegated) cgroup, or a container's cgroup */
};

/* The delegated freezer base this user may use: 0 and *out filled (free with
 * freezer_free), or -1 and *why says why none (caller frees). */
int freezer_find (struct freezer *out, char **why);

/* The container's cgroup, base/nook-<id>, named in *out (not made: it is recorded
 * first, so that a nook killed in between leaves no cgroup nobody knows of). */
void freezer_name (const struct freezer *base, const char *id, struct freezer *out);

/* Create (or reuse) the cgroup *cg names; on failure *cg is freed. */
int freezer_make (struct freezer *cg, nook_error_t *err);

/* The file through which a single-threaded process joins it by writing "0" (v1: tasks,
 * v2: cgroup.procs), opened for writing (O_CLOEXEC), or -1 with *err. */
int freezer_open_procs (const struct freezer *cg, nook_error_t *err);

/* The same for the cgroup directory dir of a freezer of version 1 or 2 (0: found out
 * from the directory). */
int freezer_open_join (const char *dir, int version, nook_error_t *err);

/* v2: the cgroup's directory, for a process cloned into it (clone3's CLONE_INTO_CGROUP:
 * no cgroup.procs write after); -1 for v1, or when it cannot be opened. */
int freezer_open_clone_dir (const struct freezer *cg);

/* Freeze (and wait until FROZEN) or thaw. */
int freezer_set (const struct freezer *cg, bool frozen, nook_error_t *err);

/* Remove the container's cgroup (waits a little for its last processes to go). */
void freezer_remove (struct freezer *cg);

void freezer_free (struct freezer *f);

#endif
