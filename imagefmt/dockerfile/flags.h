/* imagefmt/dockerfile/flags.h: the flags of RUN, COPY and ADD as BuildKit reads
 * them (frontend/dockerfile/instructions: bflag.go, commands_runmount.go,
 * commands_runnetwork.go, commands_runsecurity.go, parse.go; dockerfile2llb's
 * defaults for mounts, secrets and SSH sockets).  Pure: no file is read, no id
 * looked up; what is left to the executor says so below.
 *
 * The parser (parser.h) keeps an instruction's flags as written, one string each
 * ("--mount=type=cache,target=/x").  These functions check them against the
 * instruction's flag set (unknown, duplicate, missing value, bad boolean: BuildKit's
 * messages), then parse the values.  Errors name the flag or the key that is wrong
 * and set exit 1 (a bad Dockerfile).
 *
 * Expansion: RUN --mount values and COPY/ADD --chown/--chmod/--checksum are
 * expanded by BuildKit with the stage's environment.  Pass that environment as
 * `env` (NULL-terminated "NAME=value", may be empty but not NULL) to expand; NULL
 * means "already expanded / do not expand". */
#ifndef NOOK_IMAGEFMT_DOCKERFILE_FLAGS_H
#define NOOK_IMAGEFMT_DOCKERFILE_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* ---- RUN ---- */

enum dockerfile_mount_type
{
  DOCKERFILE_MOUNT_BIND, /* the default type */
  DOCKERFILE_MOUNT_CACHE,
  DOCKERFILE_MOUNT_TMPFS,
  DOCKERFILE_MOUNT_SECRET,
  DOCKERFILE_MOUNT_SSH,
};

enum dockerfile_mount_sharing
{
  DOCKERFILE_SHARING_SHARED, /* the default */
  DOCKERFILE_SHARING_PRIVATE,
  DOCKERFILE_SHARING_LOCKED,
};

/* One --mount, with BuildKit's defaults filled in. */
struct dockerfile_mount
{
  enum dockerfile_mount_type type;
  char *from;   /* bind/cache: the stage or image (from=), NULL: the build context for
                   bind, an empty directory for cache */
  char *source; /* source=/src=: a path in `from` (NULL: its root); secret: NULL (the
                   id below names it) */
  char *target; /* target=/dst=/destination=, as written: a relative target (NULL:
                   none given) is relative to the stage's WORKDIR (the executor joins
                   them; BuildKit refuses a target that ends up "/").  Secret: defaults to
                   /run/secrets/<id> unless env= is given; ssh: defaults to
                   /run/buildkit/ssh_agent.<n> (n counts the RUN's ssh mounts) */
  char *id;     /* cache: id= or the cleaned target; secret: source/src=, else id=,
                   else basename(target); ssh: id= or "default"; bind, tmpfs: ignored
                   (as by BuildKit), like from= for tmpfs and ssh */
  char *env;    /* secret: env=NAME (the secret as an environment variable), or NULL */
  enum dockerfile_mount_sharing sharing; /* cache only */
  bool readonly; /* default: false for cache and tmpfs, true for bind, secret, ssh */
  bool required; /* secret, ssh: fail when the secret/socket is not given */
  uint64_t size; /* tmpfs: size= in bytes (0: no limit) */
  bool has_mode, has_uid, has_gid; /* given explicitly (cache, secret, ssh only) */
  uint32_t mode;                   /* given, else cache 0755, secret 0400, ssh 0600, others 0 */
  uint32_t uid, gid;               /* given, else 0 */
};

enum dockerfile_network
{
  DOCKERFILE_NETWORK_DEFAULT,
  DOCKERFILE_NETWORK_NONE,
  DOCKERFILE_NETWORK_HOST,
};

enum dockerfile_security
{
  DOCKERFILE_SECURITY_SANDBOX,
  DOCKERFILE_SECURITY_INSECURE,
};

struct dockerfile_run_flags
{
  struct dockerfile_mount *mounts;
  size_t n_mounts;
  enum dockerfile_network network;   /* --network=default|none|host */
  enum dockerfile_security security; /* --security=sandbox|insecure */
};

/* Parse a RUN's flags (parser.h's node->flags).  env: see the top of this file;
   escape: the Dockerfile's escape character. */
int dockerfile_run_flags_parse (char *const *flags, char *const *env, char escape,
                                struct dockerfile_run_flags *out, nook_error_t *err);
void dockerfile_run_flags_clear (struct dockerfile_run_flags *f);

/* Parse one --mount value ("type=cache,target=/x"); ssh_index numbers the default
   ssh target. */
int dockerfile_mount_parse (const char *value, char *const *env, char escape, size_t ssh_index,
                            struct dockerfile_mount *out, nook_error_t *err);
void dockerfile_mount_clear (struct dockerfile_mount *m);

/* ---- COPY and ADD ---- */

/* --chmod: octal (0..07777) or symbolic as chmod(1) ("+x", "u=rwX,go=rX", "g=u"). */
struct dockerfile_chmod
{
  bool set;
  bool symbolic;
  mode_t mode; /* octal */
  char *text;  /* as given (symbolic: applied per file by dockerfile_chmod_apply) */
};

/* --chown=USER[:GROUP]: names or numbers, resolved by the executor against the
   destination's /etc/passwd and /etc/group (BuildKit: a user alone gives the group
   of the same numeric value when numeric, the user's primary group otherwise). */
struct dockerfile_chown
{
  bool set;
  char *user;  /* never empty when set */
  char *group; /* NULL when not given */
  bool user_is_id, group_is_id;
  uint32_t uid, gid; /* when numeric */
};

struct dockerfile_copy_flags
{
  bool add;   /* ADD (else COPY) */
  char *from; /* COPY --from=STAGE|IMAGE|INDEX as written, or NULL (BuildKit
                 expands it with the meta args only: the executor's part) */
  struct dockerfile_chown chown;
  struct dockerfile_chmod chmod;
  bool link;      /* --link[=true|false] */
  bool parents;   /* COPY --parents */
  char **exclude; /* --exclude=PATTERN, repeatable (NULL-terminated, may be NULL) */
  char *checksum; /* ADD --checksum: for an HTTP source check it with
                     dockerfile_checksum_check; for git, a commit */
  bool keep_git_dir_set, keep_git_dir; /* ADD --keep-git-dir */
  bool unpack_set, unpack;             /* ADD --unpack */
};

/* Parse the flags of a COPY (add = false) or ADD. */
int dockerfile_copy_flags_parse (char *const *flags, bool add, char *const *env, char escape,
                                 struct dockerfile_copy_flags *out, nook_error_t *err);
void dockerfile_copy_flags_clear (struct dockerfile_copy_flags *f);

/* The parts of the flag checks that stand alone. */
int dockerfile_chmod_parse (const char *text, struct dockerfile_chmod *out, nook_error_t *err);
/* The mode a file gets: octal replaces the permission bits; symbolic applies to the
   file's current mode (X: execute only for a directory or an already executable file). */
mode_t dockerfile_chmod_apply (const struct dockerfile_chmod *c, mode_t current, bool is_dir);
int dockerfile_chown_parse (const char *text, struct dockerfile_chown *out, nook_error_t *err);
/* An HTTP source's checksum: sha256:64 hex, sha384:96 or sha512:128 (go-digest). */
int dockerfile_checksum_check (const char *text, nook_error_t *err);

#endif
