/* imagefmt/bootstrap_debian.h: a Debian base image made with mmdebstrap, rootless,
 * without a registry (`nook bootstrap debian:SUITE`).
 *
 * The pure half (bootstrap_apt.c): apt's sources in both forms, the Date of a
 * Release file, the suites and the sources a base carries.  The running half
 * (bootstrap_debian.c): Release dates fetched with apt's own apt-helper (so the
 * host's apt proxy applies), mmdebstrap run in unshare mode (with a subordinate
 * range) or fakechroot mode (without; the host's release only), its tarball
 * filtered (the entries under ./dev dropped) into a reproducible one-layer image. */
#ifndef NOOK_IMAGEFMT_BOOTSTRAP_DEBIAN_H
#define NOOK_IMAGEFMT_BOOTSTRAP_DEBIAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imagefmt/store.h"
#include "util/error.h"

/* Where Debian's packages come from when the host names no mirror. */
#define IMAGEFMT_DEBIAN_ARCHIVE "http://deb.debian.org/debian"
#define IMAGEFMT_DEBIAN_SECURITY "http://deb.debian.org/debian-security"

/* ---- pure helpers (bootstrap_apt.c) ---- */

/* One `deb` entry of apt's sources (deb-src and disabled entries are left out). */
struct imagefmt_apt_source
{
  char *uri;   /* as written, without a trailing '/' */
  char *suite; /* "bookworm", "bookworm-security", "stable/updates" */
};

/* Append the deb entries of a sources file: one-line form (sources.list, *.list) or
 * deb822 (*.sources) when `deb822`.  Malformed lines are skipped, as apt would refuse
 * them and we only look for a mirror. */
void imagefmt_apt_sources_parse (const char *text, bool deb822, struct imagefmt_apt_source **v,
                                 size_t *n);
void imagefmt_apt_sources_free (struct imagefmt_apt_source *v, size_t n);

/* The archive and security URIs the host uses for its release `codename`: the first
 * entry for `codename` (else for `codename`-updates) gives the archive, the first for
 * `codename`-security (or `codename`/updates) the security archive.  Missing ones are
 * Debian's defaults above.  Both malloc'd. */
void imagefmt_debian_host_uris (const struct imagefmt_apt_source *v, size_t n, const char *codename,
                                char **archive, char **security);

/* The value of VAR in the output of `apt-config shell VAR OPTION` (VAR='value', single
 * quotes, '\'' for a quote), or NULL when it is not there.  Malloc'd. */
char *imagefmt_apt_shell_value (const char *text, const char *var);

/* The seconds since the epoch of the `Date:` field of a Release or InRelease file
 * ("Sat, 11 Jul 2026 10:16:37 UTC"; RFC 2822, English names whatever the locale). */
int imagefmt_release_date (const char *text, int64_t *out, nook_error_t *err);

/* A suite name nook accepts ("bookworm", "trixie", "sid", "stable"): lower-case
 * letters, digits and '-', starting with a letter, at most 32 bytes. */
bool imagefmt_debian_suite_valid (const char *suite);
/* A Debian package name (policy 5.6.1: [a-z0-9][a-z0-9+.-]+). */
bool imagefmt_debian_package_valid (const char *name);
/* Does the suite have -updates and -security companions (not sid/unstable)? */
bool imagefmt_debian_suite_has_updates (const char *suite);

/* The /etc/apt/sources.list.d/debian.sources of the image, as Docker Hub's debian
 * image has it: deb.debian.org, SUITE and SUITE-updates, SUITE-security, main, with
 * the snapshot.debian.org address of `epoch` as a comment.  Malloc'd. */
char *imagefmt_debian_image_sources (const char *suite, int64_t epoch);

/* VERSION_CODENAME of an os-release text, or NULL.  Malloc'd. */
char *imagefmt_os_release_codename (const char *text);

/* ---- the bootstrap (bootstrap_debian.c) ---- */

enum imagefmt_debian_mode
{
  IMAGEFMT_DEBIAN_UNSHARE,    /* mmdebstrap --mode=unshare: a subordinate range */
  IMAGEFMT_DEBIAN_FAKECHROOT, /* --mode=fakechroot: no range; the host's release only */
};

struct imagefmt_debian_opts
{
  const char *suite;
  char *const *include; /* packages beyond minbase, NULL-terminated; may be NULL */
  const char *mirror;   /* NULL: the host's apt sources (and Debian's defaults) */
  const char *ref;      /* NULL: "debian:SUITE" */
  enum imagefmt_debian_mode mode;
  /* Called with a line of progress for the user ("Release bookworm: ..."). */
  void (*progress) (const char *line);
};

/* The host's release codename (/etc/os-release), or NULL. */
char *imagefmt_debian_host_codename (void);

/* Build the image; *id_out gets its ID, *epoch_out (may be NULL) its
 * SOURCE_DATE_EPOCH.  mmdebstrap's own messages go to our stderr. */
int imagefmt_bootstrap_debian (struct imagefmt_store *s, const struct imagefmt_debian_opts *o,
                               char **id_out, int64_t *epoch_out, nook_error_t *err);

#endif
