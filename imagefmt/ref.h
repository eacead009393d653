/* imagefmt/ref.h: image references (the distribution reference grammar).
 *
 *   busybox                -> docker.io/library/busybox:latest
 *   busybox:1.36           -> docker.io/library/busybox:1.36
 *   localhost:5000/a/b:t   -> localhost:5000/a/b:t
 *   name@sha256:<hex>      -> docker.io/library/name@sha256:<hex>
 * Short form (as `docker images` prints REPOSITORY): docker.io/library/ and docker.io/
 * are dropped. */
#ifndef NOOK_IMAGEFMT_REF_H
#define NOOK_IMAGEFMT_REF_H

#include "util/error.h"

struct imagefmt_ref
{
  char *domain; /* "docker.io", "localhost:5000" */
  char *path;   /* "library/busybox", "a/b" */
  char *tag;    /* "latest" when neither tag nor digest was given; NULL with a digest only */
  char *digest; /* "sha256:..." or NULL */
};

/* Parse and normalise s.  EINVAL with a message naming s when invalid. */
int imagefmt_ref_parse (const char *s, struct imagefmt_ref *out, nook_error_t *err);
void imagefmt_ref_clear (struct imagefmt_ref *r);

/* "domain/path" (the full repository name). */
char *imagefmt_ref_name (const struct imagefmt_ref *r);
/* The full normalised reference: "domain/path[:tag][@digest]". */
char *imagefmt_ref_full (const struct imagefmt_ref *r);
/* Docker's familiar repository name: "busybox", "user/x", "localhost:5000/a/b". */
char *imagefmt_ref_short_name (const struct imagefmt_ref *r);
/* The familiar full form: "busybox:latest", "localhost:5000/a/b:t". */
char *imagefmt_ref_short (const struct imagefmt_ref *r);

/* Normalise a string in one step: full form (caller frees) or NULL with err. */
char *imagefmt_ref_normalize (const char *s, nook_error_t *err);
/* Whether r may be created as a tag, as Docker's reference store decides: not a digest
 * reference, not the repository "sha256" (which `sha256:<ID>` would shadow an image ID
 * with).  A repository made of 64 hex digits is refused by imagefmt_ref_parse already. */
int imagefmt_ref_check_tag (const struct imagefmt_ref *r, nook_error_t *err);
/* imagefmt_ref_normalize, then imagefmt_ref_check_tag: the full form of a new tag. */
char *imagefmt_ref_normalize_tag (const char *s, nook_error_t *err);
/* Familiar form of an already-normalised reference string (caller frees). */
char *imagefmt_ref_familiar (const char *full);

#endif
