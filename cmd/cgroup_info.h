/* cmd/cgroup_info.h: is a cgroup v2 delegated to this user (its own cgroup
 * writable, so a container can get a child cgroup and its freezer: cmd/freezer.h)? */
#ifndef NOOK_CMD_CGROUP_INFO_H
#define NOOK_CMD_CGROUP_INFO_H

/* The directory of the cgroup v2 named by /proc/self/cgroup's text (its "0::"
 * line) under the cgroup2 mount of /proc/self/mountinfo's text; NULL when there
 * is no cgroup2 mount or no "0::" line, or the cgroup is not under the mount's
 * root. Caller frees. */
char *cgroup2_dir_of (const char *self_cgroup, const char *mountinfo);

/* This process's cgroup v2 directory when this user may write it and its
 * cgroup.procs (delegated); else NULL and *why says what is missing (both freed
 * by the caller). */
char *cgroup_delegated_dir (char **why);

#endif
