/* imagefmt/registry.h: an OCI distribution (Docker registry HTTP API v2) client on
 * libcurl (loaded on first use: imagefmt/curl_dl.h).
 *
 * One `struct imagefmt_registry` talks to one endpoint: a registry ("docker.io" is
 * reached at registry-1.docker.io) or a mirror of one ("http://lab:5000", optionally with
 * a repository prefix: "http://lab:5000/hub" serves docker.io's library/x as hub/library/x).
 *
 * Transport: HTTPS, verified against the system's CAs plus the *.crt files of
 * ~/.config/containers/certs.d/HOST/, /etc/containers/certs.d/HOST/ and
 * /etc/docker/certs.d/HOST/ (with HOST.cert + HOST.key there as a client certificate).
 * A host is "insecure" when it is loopback (localhost, 127.0.0.0/8, ::1), listed in
 * insecure-registries (host[:port] or a CIDR), or --tls-verify=false was given: then
 * HTTPS is tried without verification and plain HTTP when TLS fails, as Docker does.
 * A mirror URL's explicit "http://" means HTTP.  Connecting gives up after
 * connect_timeout_ms (default 5 s), so an unreachable registry fails fast.
 *
 * Authentication: the registry's 401 challenge decides.  Bearer (Docker Hub, most
 * hosted registries): a token is fetched from the realm for the scope the challenge
 * names (with the user's credentials as basic auth when there are some, anonymously
 * otherwise) and cached per scope; Basic: the credentials are sent.  Credentials come
 * from opts->creds, else from opts->cred_helpers in order (imagefmt/auth.h; the auth
 * files when none are given) for the endpoint's auth key.
 *
 * Thread safety: imagefmt_registry_clone() gives a handle for another thread (its own
 * connection, the token cache and endpoint decisions shared). */
#ifndef NOOK_IMAGEFMT_REGISTRY_H
#define NOOK_IMAGEFMT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "imagefmt/auth.h"
#include "util/error.h"

struct imagefmt_registry_opts
{
  int tls_verify;        /* 1 verify, 0 --tls-verify=false, -1 default (by host) */
  char *const *insecure; /* insecure-registries entries, NULL-terminated, may be NULL */
  const struct imagefmt_creds *creds; /* explicit credentials (login), may be NULL */
  char *const
      *cred_helpers;       /* registries.conf's credential-helpers (imagefmt/auth.h), may be NULL */
  long connect_timeout_ms; /* 0: 5000 */
  const char *user_agent;  /* may be NULL */
};

struct imagefmt_registry;

/* The API host of a registry domain: "docker.io" -> "registry-1.docker.io", others
 * unchanged (caller frees). */
char *imagefmt_registry_api_host (const char *domain);
/* Whether host[:port] is loopback (localhost, 127.0.0.0/8, [::1]). */
bool imagefmt_registry_host_is_loopback (const char *host);
/* Whether host[:port] matches an insecure-registries entry (host, host:port, CIDR). */
bool imagefmt_registry_host_is_insecure (const char *host, char *const *insecure);

/* An endpoint: url is "HOST[:PORT]" (scheme decided by the rules above) or
 * "http[s]://HOST[:PORT][/PREFIX]"; auth_key is the key credentials are looked up under
 * (the reference's domain for the registry itself, the mirror's host for a mirror). */
int imagefmt_registry_open (const char *url, const char *auth_key,
                            const struct imagefmt_registry_opts *opts,
                            struct imagefmt_registry **out, nook_error_t *err);
struct imagefmt_registry *imagefmt_registry_clone (struct imagefmt_registry *r);
void imagefmt_registry_close (struct imagefmt_registry *r);
/* "127.0.0.1:5000" or "http://lab:5000/hub" as given, for messages. */
const char *imagefmt_registry_name (const struct imagefmt_registry *r);

/* GET /v2/: reachability, scheme and the authentication scheme.  With creds (login)
 * it also proves them: for a Bearer registry a token is fetched with them.  Errors name
 * the registry and what failed. */
int imagefmt_registry_ping (struct imagefmt_registry *r, nook_error_t *err);

/* GET a manifest by tag or digest (the repository without the endpoint's prefix).
 * *data is NUL-terminated; *content_type and *digest (Docker-Content-Digest, may be
 * NULL when absent) are the caller's.  Not found: code ENOENT, "manifest unknown". */
int imagefmt_registry_get_manifest (struct imagefmt_registry *r, const char *repo,
                                    const char *reference, char **data, size_t *len,
                                    char **content_type, char **digest, nook_error_t *err);

/* GET a blob, its bytes handed to sink(data, n, arg) as they arrive (a sink returning
 * -1 aborts with its own error in *err).  Only the bytes of a 2xx answer reach sink;
 * from an offset > 0 a Range request is made (the registry may ignore it: *from_start
 * tells, when not NULL).  progress (may be NULL) gets the bytes received so far. */
typedef int (*imagefmt_registry_sink) (const void *data, size_t n, void *arg, nook_error_t *err);
int imagefmt_registry_get_blob (struct imagefmt_registry *r, const char *repo, const char *digest,
                                imagefmt_registry_sink sink, void *arg, nook_error_t *err);

/* HEAD a blob: 1 exists (*size set when not NULL), 0 unknown, -1 error. */
int imagefmt_registry_blob_exists (struct imagefmt_registry *r, const char *repo,
                                   const char *digest, int64_t *size, nook_error_t *err);

/* Cross-repository mount (POST ...?mount=DIGEST&from=FROM): 1 mounted, 0 the registry
 * did not (then nothing to clean up), -1 error. */
int imagefmt_registry_mount_blob (struct imagefmt_registry *r, const char *repo, const char *digest,
                                  const char *from, nook_error_t *err);

/* Upload the blob read from fd (size bytes from its current offset; its digest is
 * `digest`) in one PUT.  progress(sent, arg) may be NULL. */
int imagefmt_registry_put_blob (struct imagefmt_registry *r, const char *repo, const char *digest,
                                int fd, int64_t size, void (*progress) (int64_t sent, void *arg),
                                void *arg, nook_error_t *err);

/* PUT a manifest under a tag or digest with its media type. */
int imagefmt_registry_put_manifest (struct imagefmt_registry *r, const char *repo,
                                    const char *reference, const char *data, size_t len,
                                    const char *media_type, nook_error_t *err);

/* ---- for tests ---- */

/* A registry's error body ({"errors":[{"code":..,"message":..}]}) in words: "manifest
 * unknown", "unauthorized: authentication required"; NULL when it has none. */
char *imagefmt_registry_error_text (const char *body, size_t len);

#endif
