/* sandbox/userns.h: subordinate id ranges, id-map plans, writing the maps,
 * and running a function inside a user namespace of ours. */
#ifndef NOOK_SANDBOX_USERNS_H
#define NOOK_SANDBOX_USERNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/spec.h"
#include "util/error.h"

/* Where root's containers live when root has no /etc/subuid entry. */
#define SANDBOX_ROOT_RANGE_START 3221225472u

struct subid_range
{
  uint32_t start, count;
};

/* Find the first range of `user` (name or decimal uid) in the text of
 * /etc/subuid or /etc/subgid.  Returns 1 found, 0 not found, -1 on a malformed
 * line (err names the line). */
int sandbox_subid_find (const char *text, const char *name, uid_t id, struct subid_range *out,
                        const char *file, nook_error_t *err);

/* Why this user gets the single-id map (NULL when a range is used). */
struct idmap_plan_input
{
  uid_t host_uid;
  gid_t host_gid;
  bool have_uid_range, have_gid_range, have_helpers;
  struct subid_range uid_range, gid_range;
};

/* Plan the mapping: with ranges and newuidmap, container 0 = the user and
 * 1..count = the range; otherwise the single map, container `want_uid`/`want_gid`
 * = the user.  `reason` (may be NULL) gets a static string saying why single. */
void sandbox_idmap_plan (const struct idmap_plan_input *in, uid_t want_uid, gid_t want_gid,
                         struct nook_idmapping *out, const char **reason);

/* Gather the input for the current user from /etc/subuid, /etc/subgid and PATH. */
int sandbox_idmap_probe (struct idmap_plan_input *in, nook_error_t *err);

/* Is `id` mapped inside? */
bool sandbox_idmap_has (const struct nook_idmap *m, size_t n, uint32_t id);

/* The text of a map as /proc/PID/uid_map takes it: "0 1001 1\n1 100000 65536\n". */
char *sandbox_idmap_text (const struct nook_idmap *m, size_t n);

/* Write the maps of process `pid` (newuidmap/newgidmap or /proc/PID/{uid,gid}_map). */
int sandbox_idmap_write (pid_t pid, const struct nook_idmapping *ids, nook_error_t *err);
/* (pid 0: the caller's own maps, which a process may write for the single map only:
 * its own ids, setgroups denied; see sandbox_child_maps_itself) */

/* Fork a child in a new user namespace mapped by `ids`, become root there and
 * run fn(arg); its error comes back through a pipe.  For work on files owned by
 * subordinate ids (layer extraction, removing upper dirs). */
int sandbox_userns_call (const struct nook_idmapping *ids, int (*fn) (void *arg, nook_error_t *err),
                         void *arg, nook_error_t *err);

#endif
