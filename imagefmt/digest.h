/* imagefmt/digest.h: sha256 digests ("sha256:" + 64 lower-case hex digits). */
#ifndef NOOK_IMAGEFMT_DIGEST_H
#define NOOK_IMAGEFMT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define IMAGEFMT_DIGEST_HEX_LEN 64
#define IMAGEFMT_DIGEST_LEN (7 + IMAGEFMT_DIGEST_HEX_LEN) /* "sha256:" + hex */

/* Validate a digest string; on success *hex (may be NULL) points at the 64 hex
 * digits inside s.  EINVAL with a message naming s otherwise. */
int imagefmt_digest_parse (const char *s, const char **hex, nook_error_t *err);
/* True if s is exactly 64 lower-case hex digits. */
bool imagefmt_digest_hex_valid (const char *s);

/* Incremental hashing. */
struct imagefmt_digester;
struct imagefmt_digester *imagefmt_digester_new (void);
void imagefmt_digester_update (struct imagefmt_digester *d, const void *data, size_t len);
/* Finish: returns a new "sha256:<hex>" string and frees d. */
char *imagefmt_digester_finish (struct imagefmt_digester *d);
void imagefmt_digester_free (struct imagefmt_digester *d);

/* "sha256:<hex>" of a buffer (caller frees). */
char *imagefmt_digest_data (const void *data, size_t len);
/* Digest of everything readable from fd (caller frees); -1/NULL with err on read error. */
char *imagefmt_digest_fd (int fd, nook_error_t *err);

#endif
