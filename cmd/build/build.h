/* cmd/build/build.h: `nook build`, the Dockerfile executor (internal to cmd/build/).
 *
 * The flow (DESIGN.md): imagefmt/dockerfile parses and resolves the stages a
 * target needs -> exec.c runs each stage's instructions on a build state (an
 * image config and its layers) -> a step that changes files makes a fresh upper
 * dir (run.c: a container on the parent's layers; copy.c: COPY/ADD/WORKDIR
 * written in the store's user namespace) -> pack.c turns the upper dir into a
 * reproducible layer tar and stores it -> cache.c remembers the state after each
 * step under a key of its inputs -> cli.c adds the final image and tags it.
 *
 * Pure parts (unit-tested, tests/unit/test_build.c): cache keys (cache.c), ARG
 * scoping (args.c), how an upper dir entry becomes layer entries (pack.c). */
#ifndef NOOK_CMD_BUILD_BUILD_H
#define NOOK_CMD_BUILD_BUILD_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cmd/commands.h"
#include "imagefmt/dockerfile/ignore.h"
#include "imagefmt/dockerfile/parser.h"
#include "imagefmt/dockerfile/stages.h"
#include "sandbox/spec.h"
#include "sandbox/userns.h"
#include "util/error.h"

/* The epoch used when neither SOURCE_DATE_EPOCH nor a git checkout gives one:
 * 0, 1970-01-01T00:00:00Z (documented in the README). */
#define BUILD_DEFAULT_EPOCH 0

enum build_progress
{
  BUILD_PROGRESS_PLAIN,
  BUILD_PROGRESS_QUIET,
};

struct build_opts
{
  char **tags;
  const char *file; /* -f; "-" = stdin; NULL = CONTEXT/Dockerfile */
  char **build_args;
  const char *target;
  bool no_cache, quiet, pull, explain_cache, verify;
  const char *iidfile;
  char **labels;
  char **add_hosts, **ulimits; /* for RUN, as `nook run`'s */
  char **no_cache_filter;      /* stages built without the cache */
  char **build_contexts;       /* --build-context NAME=DIR|docker-image://REF */
  const char *progress;
  const char *network;
  const char *platform;
  const char *context; /* "-" = a Dockerfile on stdin, no context */
  const char *output;  /* -o: "type=local,dest=DIR", "type=tar,dest=FILE", or "DIR" */
  char **secrets;      /* --secret id=ID[,src=FILE|,env=VAR] */
  bool check;          /* --check: run the build checks only */
  bool help;
};

/* An image being built: its whole config (config, rootfs.diff_ids, history) and
 * layer blobs; dirs are the unpacked layers, made when a step needs them. */
struct build_state
{
  json_t *config;
  char **layers;   /* blob digests, bottom first */
  char **diff_ids; /* the same as config's rootfs.diff_ids */
  char **dirs;     /* NULL until build_state_dirs */
};

/* A --secret, read once at the start (mounts.c) */
struct build_secret
{
  char *id;
  char *value;
  size_t len;
};
struct build
{
  struct nook_ctx *ctx;
  const struct build_opts *o;
  struct imagefmt_store *store;
  struct imagefmt_hold *hold; /* every image held against rmi and prune while building */
  pid_t tty_pid;              /* the compact view's renderer, 0 none */
  struct nook_idmapping ids0;
  struct idmap_plan_input idin;
  struct dockerfile *df;
  struct dockerfile_stages *st;
  struct dockerfile_ignore *ignore; /* may be NULL */
  int ctxfd;                        /* the context directory, -1 with `build -` */
  char *ctxpath;
  char *ctx_tmp; /* `build - < context.tar`: the unpacked context, removed at the end */
  int64_t epoch;
  char *tmpdir; /* <root>/build: upper dirs of running steps */
  int tmpfd;
  int tmplock;                 /* the step's directory, flocked while in use */
  char *empty_dir;             /* a lower dir for a stage on scratch */
  struct build_state *results; /* per stage */
  bool *done;
  char **used_args; /* build args some ARG consumed */
  int vertex;       /* BuildKit's #N */
  int *vshared;     /* the counter shared with parallel stages (parallel.c), or NULL */
  FILE *out;        /* progress (stderr) */
  bool quiet;
  bool warned_single;                 /* the note on RUN under another USER without a range, once */
  bool no_cache_all;                  /* --verify's second build */
  char *df_path;                      /* the Dockerfile's path, NULL from stdin */
  json_t *explain_prev, *explain_now; /* step records: the last build's, this one's */
  struct timespec t0;
  struct build_secret *secrets; /* --secret, read at the start */
  size_t n_secrets;
  char *lint_summary; /* the build checks' warnings, printed at the end (lint.c) */
};

/* ---- states (exec.c) ---- */
void build_state_clear (struct build_state *s);
void build_state_copy (struct build_state *dst, const struct build_state *src);
/* The unpacked layer dirs of s (unpacking missing ones). */
int build_state_dirs (struct build *b, struct build_state *s, nook_error_t *err);
/* Add a layer (blob, diff_id) and a history entry to s. */
void build_state_add_history (struct build *b, struct build_state *s, const char *created_by,
                              bool empty_layer);
/* t (the build's epoch) as the image config's "created": RFC 3339, UTC, seconds. */
char *build_rfc3339 (int64_t t);

/* --build-context NAME: 1 with *dir (a directory, malloc'd) or *image (the reference of
 * docker-image://, malloc'd) set, 0 when no such context was given. */
int build_named_context (const struct build *b, const char *name, char **dir, char **image);

/* Run the stages the target needs; *final gets the target's state. */
int build_exec (struct build *b, struct build_state *final, nook_error_t *err);

/* ---- ARG scoping (args.c, pure) ---- */

/* The ARGs in scope in a stage: "NAME=value", or "NAME" when declared without one. */
struct build_args
{
  char **scope;
};
/* Declare `ARG word` (word: NAME or NAME=default, the default already expanded):
 * its value is the --build-arg one when given (build_args "NAME=v" or bare "NAME"
 * taking getenv), else the default, else the meta ARG of that name (meta_env).
 * used (may be NULL) collects the names a --build-arg was consumed for. */
void build_args_declare (struct build_args *a, const char *name, const char *def,
                         char *const *build_args, char *const *meta_env, char ***used);
/* The value of an ARG in scope, NULL when unset or not declared. */
const char *build_args_value (const struct build_args *a, const char *name);
/* "NAME=value" of the ARGs in scope with a value, in declaration order. */
char **build_args_env (const struct build_args *a);
/* The predefined ARGs (HTTP_PROXY, ...) given with --build-arg: usable by RUN without
 * an ARG line, never recorded in the image. */
bool build_args_predefined (const char *name);
void build_args_clear (struct build_args *a);

/* ---- stages (exec.c, parallel.c) ---- */

/* The next BuildKit vertex number #N. */
int build_vertex_next (struct build *b);
/* Run stage idx (its dependencies done): b->results[idx], b->done[idx]. */
int build_run_stage (struct build *b, size_t idx, nook_error_t *err);
/* Run the stages of order (build order, n of them) in waves: every stage whose needs are
 * done, the independent ones of a wave in parallel processes (one in this process), as
 * BuildKit; a wave's stages in order, one after the other, with --explain-cache. */
int build_run_stages (struct build *b, const size_t *order, size_t n, nook_error_t *err);

/* ---- the compact view on a terminal (progress.c) ---- */

struct build_tty_step
{
  int vertex;
  char *name;
  char *tail[10]; /* its last output lines */
  size_t n_tail;
  char **subs;  /* its details, NULL none */
  double start; /* build_tty.now when it started */
  char *last;   /* its last output line's text, NULL none */
};
struct build_tty
{
  int width;
  struct build_tty_step *steps; /* the running ones (parallel stages: several) */
  size_t n_steps;
  int seen, done;
  bool status_shown, failed;
  double now; /* the renderer's clock (seconds), set before each call; 0: no times shown */
};
void build_tty_init (struct build_tty *t, int width);
/* One line of BuildKit's plain form in, what the terminal shows appended to out.  Pure. */
void build_tty_feed (struct build_tty *t, const char *line, struct strbuf *out);
/* The clock moved (t->now): the live line redrawn with the running step's elapsed time, as
 * BuildKit's view refreshes on a timer.  Pure. */
void build_tty_tick (struct build_tty *t, struct strbuf *out);
/* The end of the stream: the closing line, after secs. */
void build_tty_end (struct build_tty *t, double secs, struct strbuf *out);
/* --progress=tty, or auto (NULL, "" too) with stderr a terminal. */
bool build_tty_wanted (const char *progress);
/* Fork the renderer (it writes to stderr): the fd to write the plain form to, -1 error. */
int build_tty_start (pid_t *pid);
/* Close out (the stream, NULL: closed), tell the renderer (pid, 0: none) the end and wait
 * for it. */
void build_tty_finish (FILE *out, pid_t pid);

/* ---- the cache (cache.c) ---- */

/* The store's directory SUB ("cache/build"), made (0700) if missing, opened (cache.c). */
int build_store_dir (struct build *b, const char *sub, nook_error_t *err);

/* The key of a step: the parent state's config digest, the instruction after
 * expansion, the build args in its scope, the digest of its inputs (copied files;
 * may be NULL) and the epoch.  "sha256:<hex>", malloc'd.  Pure. */
char *build_cache_key (const char *parent_config_digest, const char *instruction,
                       char *const *args_in_scope, const char *inputs, int64_t epoch);
/* The digest of a state's config as the key uses it.  Pure. */
char *build_state_digest (const struct build_state *s);
/* Load the state a key names (0 hit, 1 miss: no entry or a blob gone). */
int build_cache_get (struct build *b, const char *key, struct build_state *out);
/* Remember the state after a step (errors are only warned about: a cache). */
void build_cache_put (struct build *b, const char *key, const struct build_state *s);
/* Remove the records last used before `before` (-1: every one), and the layer blobs and
 * unpacked layers only they kept (no image, no record left uses them): *n records, *bytes
 * freed.  The layer part waits for the builds running (they hold the images). */
int build_cache_prune (struct imagefmt_store *s, int64_t before, size_t *n, uint64_t *bytes,
                       nook_error_t *err);
/* `builder prune --filter until=X`: X a Go duration before now, Unix seconds or an RFC 3339
 * UTC time; *before the time records last used before it are removed.  Pure. */
int build_prune_filter (const char *filter, int64_t now, int64_t *before, nook_error_t *err);
/* `system df`'s Build Cache: the records, and the bytes of the records and of the layers
 * only they keep. */
int build_cache_usage (struct imagefmt_store *s, size_t *n, uint64_t *bytes, nook_error_t *err);

/* ---- upper dirs to layers (pack.c) ---- */

/* What one entry of an upper dir becomes in the layer (pure). */
enum build_pack_kind
{
  BUILD_PACK_SKIP,     /* not written (sockets, devices that are not whiteouts) */
  BUILD_PACK_ENTRY,    /* written as it is */
  BUILD_PACK_WHITEOUT, /* a 0:0 character device, or a file with the whiteout xattr: .wh.NAME */
};
enum build_pack_kind build_pack_classify (mode_t mode, dev_t rdev, bool whiteout_xattr);
/* The value of an opaque xattr (trusted./user.overlay.opaque) means "opaque". */
bool build_pack_opaque_value (const char *value, size_t len);
/* Whether an xattr of an upper dir may go into a layer (never overlay's or nook's own). */
bool build_pack_xattr_kept (const char *name);
/* Turn a security.capability value (revision 2 or 3) into revision 2 in out[20]; false when
 * it is not one. */
bool build_pack_fcaps_v2 (const void *value, size_t len, unsigned char out[20]);
/* The whiteout path of "dir/name": "dir/.wh.name" (malloc'd). */
char *build_pack_whiteout_path (const char *path);

/* Pack the upper dir upper (a directory under b->tmpfd) into a layer: stored as a
 * gzip blob, its diff_id computed; *empty true when the upper dir held nothing
 * (no layer then: blob and diff_id NULL). */
int build_pack_upper (struct build *b, const char *upper, char **blob, char **diff_id, bool *empty,
                      nook_error_t *err);
/* A fresh directory under b->tmpdir (name malloc'd) and its removal (in the user
 * namespace: it may hold files of subordinate ids). */
int build_tmp_make (struct build *b, char **name, nook_error_t *err);
void build_tmp_remove (struct build *b, const char *name);
/* Remove what killed builds left in b->tmpdir (directories nobody holds). */
void build_tmp_sweep (struct build *b);
/* Set by SIGINT/SIGTERM/SIGHUP during a build: the running step ends (its
 * container got the signal), and the build stops there, cleaning up. */
extern volatile sig_atomic_t build_interrupted;
extern volatile pid_t build_runner; /* the process running a RUN step's container, or 0 */

/* ---- steps (run.c, copy.c) ---- */

struct build_stage_ctx
{
  struct build_state s;
  struct build_args args;
  char **shell;      /* SHELL, default /bin/sh -c */
  const char *label; /* "stage-0", "build", or "" when single stage */
  size_t step, total;
  bool cmd_set;  /* CMD given in this stage (ENTRYPOINT then keeps it) */
  bool no_cache; /* --no-cache-filter names this stage */
};

struct build_run_mounts;
struct dockerfile_run_flags;
/* RUN: argv is the command after SHELL/exec form; env_args the ARGs in scope; network
 * default, none or host.
 * Fills upper with the container's changes; returns the command's exit status
 * through *status (0 ok). */
int build_run_container (struct build *b, struct build_stage_ctx *sc, char *const *argv,
                         char *const *env_args, const char *network,
                         const struct build_run_mounts *mounts, const char *upper_name, int vertex,
                         int *status, nook_error_t *err);
/* ---- RUN --mount and --secret (mounts.c) ---- */
/* --secret SPEC: id, and src (a file) or env (a variable; get_env tells whether one is
 * set); exit 125 errors.  Pure. */
int build_secret_parse (const char *spec, const char *(*get_env) (const char *), char **id,
                        char **src, char **env, nook_error_t *err);
/* Read every --secret into b->secrets; free them. */
int build_secrets_load (struct build *b, nook_error_t *err);
void build_secrets_free (struct build *b);
/* A RUN's --mount flags checked and planned (binds: their inputs digested); *out NULL
 * when there are none.  where: "Dockerfile:N" for errors. */
int build_run_mounts_plan (struct build *b, struct build_stage_ctx *sc,
                           const struct dockerfile_run_flags *f, const char *where,
                           struct build_run_mounts **out, nook_error_t *err);
/* What keys the step: one text per mount (never a secret's value); the binds' digest. */
const char *const *build_run_mounts_keytext (const struct build_run_mounts *r);
const char *build_run_mounts_inputs (const struct build_run_mounts *r);
/* For a step that runs: locks and directories of cache mounts, binds copied, secrets
 * written under the step's directory tmp. */
int build_run_mounts_make (struct build *b, const struct dockerfile_run_flags *f,
                           struct build_run_mounts *r, const char *tmp, nook_error_t *err);
/* The container's mounts, the secrets' variables and the mount points. */
void build_run_mounts_spec (const struct build_run_mounts *r, struct nook_mount **m, size_t *n,
                            char *const **env, char *const **targets);
/* After the step: the mount points the sandbox made, out of the upper dir. */
int build_run_mounts_unstub (struct build *b, struct build_stage_ctx *sc,
                             const struct build_run_mounts *r, const char *upper,
                             nook_error_t *err);
void build_run_mounts_free (struct build_run_mounts *r);

struct build_copy
{
  bool add;
  const char *from;  /* --from, or NULL */
  const char *chown; /* expanded */
  const char *chmod;
  const char *checksum; /* ADD --checksum=sha256:HEX of a URL */
  char **excludes;      /* --exclude patterns (expanded) */
  char **srcs;          /* expanded */
  const char *dest;     /* expanded, absolute */
  bool dest_is_dir;     /* ends with '/' or several sources */
  /* here-documents given as sources (`COPY <<EOF /f`): names and contents (expanded),
     in the order of srcs, which hold them as NULL-free "<<NAME" words */
  char **inline_names;
  char **inline_data;
  bool link;         /* --link: written on scratch (parents made 0755, nothing of the stage seen) */
  bool parents;      /* COPY --parents: a source's path (after a "/./" pivot) kept */
  bool keep_git_dir; /* ADD --keep-git-dir of a git repository */
};

/* COPY/ADD: *inputs gets the digest of what is copied (for the cache key); the
 * plan is kept in *plan until build_copy_apply.  */
struct build_copy_plan;
int build_copy_prepare (struct build *b, struct build_stage_ctx *sc, const struct build_copy *c,
                        struct build_copy_plan **plan, char **inputs, nook_error_t *err);
int build_copy_apply (struct build *b, struct build_stage_ctx *sc, struct build_copy_plan *plan,
                      const char *upper_name, nook_error_t *err);
void build_copy_plan_free (struct build_copy_plan *p);
/* RUN --mount=type=bind: the host path to bind read-only instead of applying the plan
 * (malloc'd), NULL when only a copy shows what BuildKit would (exclusions, several layers
 * at the path, a link...). */
char *build_copy_bind_source (struct build *b, const struct build_copy_plan *p);
/* WORKDIR: create path in upper when the state lacks it. */
int build_workdir_apply (struct build *b, struct build_stage_ctx *sc, const char *path,
                         const char *upper_name, nook_error_t *err);

/* ---- ADD of a git repository (git.c) ---- */
/* BuildKit's test: git://, ssh://, git@, or an http(s) URL whose path ends in ".git".  Pure. */
bool build_git_source (const char *src);
/* "REMOTE#REF:SUBDIR" split (ref, subdir NULL when not given); refused: a ref or subdir
 * with "..", an option-like word.  Pure. */
int build_git_parse (const char *src, char **remote, char **ref, char **subdir, nook_error_t *err);
/* The commit ref (NULL: HEAD) names in remote (`git ls-remote`; a commit is itself). */
int build_git_resolve (const char *remote, const char *ref, char **commit, nook_error_t *err);
/* Clone remote into dir (absent) and check commit out. */
int build_git_checkout (const char *remote, const char *commit, const char *dir, nook_error_t *err);

/* ---- --explain-cache (explain.c) ---- */
/* A step's inputs as recorded; why a step hit or missed against the previous record
 * (prev may be NULL).  Pure. */
json_t *build_explain_record (const char *what, const char *parent, const char *instruction,
                              char *const *args, const char *inputs, int64_t epoch);
char *build_explain_why (const json_t *prev, const json_t *now);
/* The previous build's record of this context, Dockerfile and target; this build's. */
void build_explain_load (struct build *b);
void build_explain_save (struct build *b);

/* ---- --verify (verify.c) ---- */
/* Compare two builds of the same Dockerfile: 0 identical, -1 naming what differs. */
int build_verify (struct build *b, const struct build_state *one, const struct build_state *two,
                  nook_error_t *err);

/* ---- build checks (lint.c) ---- */
/* BuildKit's checks: warnings printed in vertex #1, the summary kept for the end;
 * check=error=true fails; with --check only the checks run (*check_status). */
int build_lint (struct build *b, int *check_status, nook_error_t *err);
/* ---- output (cli.c) ---- */
double build_elapsed (const struct build *b);

#endif
