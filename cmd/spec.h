/* cmd/spec.h: the pure merge of an image config with `nook run`'s options
 * into a struct nook_spec (Docker's rules for Entrypoint, Cmd, Env, User,
 * WorkingDir), and the parsers of single flag values it uses.  No I/O except
 * through the callbacks given.  spec.c (the merge), spec_env.c, spec_user.c,
 * spec_mounts.c, spec_security.c. */
#ifndef NOOK_CMD_SPEC_H
#define NOOK_CMD_SPEC_H

#include <jansson.h>
#include <stdbool.h>

#include "cmd/run_flags.h"
#include "sandbox/spec.h"
#include "util/error.h"

/* What the merge needs from the outside world. */
struct spec_env
{
  /* Read a file of the image's root filesystem (e.g. "/etc/passwd") into *text: -1
   * with *err (code ENOENT) when the image has none, or naming the image and the path
   * when it cannot be read (not a regular file, too large). */
  int (*read_image_file) (void *data, const char *path, char **text, nook_error_t *err);
  void *data;
  /* Look a variable up in nook's own environment (for `-e NAME` and env files). */
  const char *(*getenv) (const char *name);
  /* Read an --env-file (its length: NUL bytes are refused, not a silent end). */
  int (*read_env_file) (const char *path, char **text, size_t *len, nook_error_t *err);
  /* Say something the user should know that does not stop the run (may be NULL). */
  void (*warn) (const char *msg);
};

/* Fill spec->argv, env, cwd, uid, gid, groups, hostname, mounts, rlimits,
 * tty/interactive/readonly/network, caps and seccomp choice from the image
 * config (its "config" object may be NULL) and the options. */
int spec_merge (const json_t *image_config, const struct run_opts *o, const struct spec_env *env,
                const char *container_id, struct nook_spec *spec, nook_error_t *err);

/* --network VALUE (NULL: the default) into spec->network and spec->netif. */
int spec_network (const char *value, struct nook_spec *spec, nook_error_t *err);

/* --sysctl NAME=VALUE... into spec->sysctls, checked by Docker's rules (namespaced ones,
 * net.* only with a network namespace of the container's own): spec->network set first. */
int spec_sysctls (char **in, struct nook_spec *spec, nook_error_t *err);

/* Resolve a Docker user string ("name", "uid", "name:group", "uid:gid") with
 * the text of /etc/passwd and /etc/group (either may be NULL).  home gets the
 * passwd home (malloc'd) or NULL. */
int spec_resolve_user (const char *user, const char *passwd, const char *group, uid_t *uid,
                       gid_t *gid, gid_t **groups, size_t *n_groups, char **home,
                       nook_error_t *err);

/* --group-add: each of names (a gid, or a group of the text of /etc/group, which may be
 * NULL) appended to groups (not twice). */
int spec_group_add (char **names, const char *group, gid_t **groups, size_t *n_groups,
                    nook_error_t *err);

/* Parse one --ulimit ("nofile=1024:2048", "core=-1"). */
int spec_parse_ulimit (const char *s, struct nook_rlimit *out, nook_error_t *err);

/* Parse one -v/--volume "HOST:CTR[:OPTS]": HOST absolute (a bind), or a volume
 * name (source = the name, no '/'), or "CTR" alone (an anonymous volume: source
 * NULL); cmd/volumes.c turns volumes into binds of their directories.  OPTS:
 * ro|rw, z|Z, rbind, nocopy (options = "nocopy"). */
int spec_parse_volume (const char *s, struct nook_mount *out, nook_error_t *err);

/* Parse one --mount "type=bind|volume|tmpfs,src=,dst=,readonly,volume-nocopy,
 * tmpfs-size=,tmpfs-mode=,..." into the same forms. */
int spec_parse_mount (const char *s, struct nook_mount *out, nook_error_t *err);

/* Parse one --tmpfs "PATH[:OPTIONS]". */
int spec_parse_tmpfs (const char *s, struct nook_mount *out, nook_error_t *err);

/* Environment lists ("NAME=value" strv): set NAME=value, replacing an earlier
 * value; whether NAME is set; add one -e/env-file entry ("NAME=value", or
 * "NAME" taking nook's own value, skipped when unset), where naming the source
 * in errors. */
void spec_env_set (char ***env, const char *kv);
bool spec_env_has (char *const *env, const char *name);
int spec_env_add (char ***env, const char *s, const struct spec_env *e, const char *where,
                  nook_error_t *err);

/* Parse an env file's text (len bytes) into "NAME=value" strings, appended to *env.
 * A NUL byte or an invalid line is an error naming the file and line, the line's
 * bytes escaped. */
int spec_parse_env_file (const char *text, size_t len, const char *file, const struct spec_env *e,
                         char ***env, nook_error_t *err);

/* --security-opt: seccomp=unconfined|PATH, no-new-privileges[=true|false],
 * label=... and apparmor=... (accepted; nook has neither). */
int spec_security_opts (char *const *opts, bool *unconfined, char **profile, nook_error_t *err);

#endif
