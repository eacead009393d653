/* imagefmt/auth.h: registry credentials and the registry's authentication challenges.
 *
 * Credentials are read, in order, from $REGISTRY_AUTH_FILE (else
 * $XDG_RUNTIME_DIR/containers/auth.json when that exists, and
 * $XDG_CONFIG_HOME/containers/auth.json, default ~/.config/containers/auth.json), then
 * from Docker's $DOCKER_CONFIG/config.json (default ~/.docker/config.json), which is read
 * but never written.  Both are {"auths": {"KEY": {"auth": base64("user:password")}}};
 * KEY is a registry ("docker.io", "localhost:5000", Docker's
 * "https://index.docker.io/v1/") or a registry with a repository prefix
 * ("quay.io/team"), the most specific matching key winning (containers/image's rules).
 * Credential helpers are run as Docker runs them: a file's `credHelpers` entry for the
 * registry, else its `credsStore`, names NAME; `docker-credential-NAME get` is given the
 * server (`https://index.docker.io/v1/` for docker.io, else host[:port]) and its answer
 * wins over the file's `auths` (none found: the `auths`, then the next file).
 *
 * `nook login` writes $REGISTRY_AUTH_FILE, else $XDG_CONFIG_HOME/containers/auth.json
 * (default ~/.config/containers/auth.json), mode 0600, other keys kept. */
#ifndef NOOK_IMAGEFMT_AUTH_H
#define NOOK_IMAGEFMT_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct imagefmt_creds
{
  char *username;
  char *password;
  char *source; /* the file they came from */
};
void imagefmt_creds_clear (struct imagefmt_creds *c);

/* The file `nook login` writes (caller frees); NULL with err when there is no HOME. */
char *imagefmt_auth_write_path (nook_error_t *err);

/* The registry key a user typed ("https://index.docker.io/v1/", "docker.io",
 * "localhost:5000/", "http://lab:5000") in canonical form ("docker.io",
 * "localhost:5000", "lab:5000").  Caller frees. */
char *imagefmt_auth_normalize_key (const char *s);

/* Credentials for registry (a reference's domain, "docker.io") and repository path
 * ("library/busybox", may be NULL) from the files above: 1 found, 0 none, -1 error (a
 * file that exists but cannot be read or parsed). */
int imagefmt_auth_lookup (const char *registry, const char *repo, struct imagefmt_creds *out,
                          nook_error_t *err);
/* The name in registries.conf's credential-helpers that stands for the files above. */
#define IMAGEFMT_AUTH_FILES_HELPER "containers-auth.json"
/* Credentials as podman (containers/image) looks them up with registries.conf's
 * credential-helpers (NULL or empty: {"containers-auth.json"}): each helper in order, the
 * first that has credentials for registry wins; "containers-auth.json" is
 * imagefmt_auth_lookup (the files above, their credHelpers and credsStore included),
 * another NAME is docker-credential-NAME given registry as it is ("docker.io",
 * "host:port": helpers know registries, not repositories).  A helper that fails (missing,
 * or an error other than "credentials not found") does not stop the search: its error is
 * returned (-1) only when no later helper had credentials. */
int imagefmt_auth_lookup_helpers (char *const *helpers, const char *registry, const char *repo,
                                  struct imagefmt_creds *out, nook_error_t *err);
/* The same in one file (missing file: 0). */
int imagefmt_auth_lookup_in (const char *path, const char *registry, const char *repo,
                             struct imagefmt_creds *out, nook_error_t *err);

/* Run docker-credential-NAME get for server (imagefmt/auth_helper.c): 1 found, 0 not
 * found, -1 error (the helper missing or failing). */
int imagefmt_auth_helper_get (const char *name, const char *server, struct imagefmt_creds *out,
                              nook_error_t *err);

/* Record (replacing) the credentials of key in path, atomically, mode 0600; the
 * directory is created 0700 when missing. */
int imagefmt_auth_store (const char *path, const char *key, const char *username,
                         const char *password, nook_error_t *err);
/* Remove key from path; *found says whether it was there. */
int imagefmt_auth_remove (const char *path, const char *key, bool *found, nook_error_t *err);

/* ---- the registry's side ---- */

/* One challenge of a WWW-Authenticate header (RFC 7235), as registries send them:
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
 *          scope="repository:library/busybox:pull"
 *   Basic realm="Registry Realm" */
struct imagefmt_auth_challenge
{
  char *scheme; /* lower case: "bearer", "basic" */
  char *realm, *service, *scope, *error;
};
/* Parse the first challenge of a header value; EINVAL when it is not one. */
int imagefmt_auth_challenge_parse (const char *value, struct imagefmt_auth_challenge *out,
                                   nook_error_t *err);
void imagefmt_auth_challenge_clear (struct imagefmt_auth_challenge *c);

/* A token endpoint's answer: {"token": T} or {"access_token": T}, optional
 * "expires_in" (seconds, default 60). */
int imagefmt_auth_token_parse (const char *data, size_t len, char **token, long *expires_in,
                               nook_error_t *err);

/* Base64 (RFC 4648, padded). */
char *imagefmt_base64_encode (const void *data, size_t len);
/* NULL when s is not valid base64; *len gets the decoded length.  NUL-terminated. */
char *imagefmt_base64_decode (const char *s, size_t *len);

#endif
