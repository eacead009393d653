/* imagefmt/dockerfile/stages.h: the build stages of a parsed Dockerfile and the
 * stages a target needs (BuildKit's dockerfile2llb stage resolution).
 *
 * Stage names are case-insensitive (kept in lower case).  ARGs before the first
 * FROM are the "meta args": their defaults are expanded in order, --build-arg
 * values override them, and they (plus the BUILD and TARGET platform args) are
 * the only variables FROM and COPY --from see here.  A stage depends on the stage
 * its FROM names, on COPY/ADD --from=<name|index> and RUN --mount=...,from=<name>
 * (a --from naming no stage is an image, not a dependency). */
#ifndef NOOK_IMAGEFMT_DOCKERFILE_STAGES_H
#define NOOK_IMAGEFMT_DOCKERFILE_STAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "imagefmt/dockerfile/parser.h"
#include "util/error.h"

struct dockerfile_stage
{
  size_t index;
  char *name;        /* `AS name` in lower case, or NULL */
  char *base;        /* FROM's image after expansion ("scratch", "alpine:3", a stage name) */
  char *platform;    /* --platform after expansion, or NULL */
  size_t first_node; /* index in dockerfile.nodes of the FROM */
  size_t n_nodes;    /* the FROM and the instructions up to the next FROM */
  long base_stage;   /* the stage FROM names, or -1 for an image */
  size_t *deps;      /* stages this one needs, base first, without duplicates */
  size_t n_deps;
};

struct dockerfile_stages
{
  struct dockerfile_stage *stages;
  size_t n;
  char **meta_env; /* "NAME=value" of the meta args that have a value */
};

/* build_args: "NAME=value" (a bare "NAME" takes the value from the environment).
 * Errors: an instruction other than ARG before the first FROM, a FROM without an
 * image or with a bad `AS`, a bad or duplicate stage name, an expansion error,
 * a stage index out of range, a stage needing itself or a cycle. */
int dockerfile_stages_build (const struct dockerfile *df, char *const *build_args,
                             struct dockerfile_stages **out, nook_error_t *err);
void dockerfile_stages_free (struct dockerfile_stages *st);
void cleanup_dockerfile_stagesp (struct dockerfile_stages **st);
#define cleanup_dockerfile_stages __attribute__ ((cleanup (cleanup_dockerfile_stagesp)))

/* The stage named target (case-insensitive; NULL = the last stage): its index. */
int dockerfile_stages_find (const struct dockerfile_stages *st, const char *target, size_t *index,
                            nook_error_t *err);
/* The stages a build of target needs, in build order (every stage after the
 * stages it needs, lower indexes first), target last.  *order is malloc'd. */
int dockerfile_stages_for_target (const struct dockerfile_stages *st, const char *target,
                                  size_t **order, size_t *n, nook_error_t *err);

#endif
