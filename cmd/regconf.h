/* cmd/regconf.h: the containers registries.conf(5) that podman users bring.
 *
 * Read: ~/.config/containers/registries.conf ($XDG_CONFIG_HOME/containers/...) when it
 * exists, else /etc/containers/registries.conf, as the containers tools do (the
 * registries.conf.d drop-ins are not read: Debian's podman ships one that would send
 * `centos` or `fedora` elsewhere than Docker does).  Taken from it, TOML parsed minimally
 * (strings, booleans, arrays of strings, tables, arrays of tables):
 *
 *   unqualified-search-registries = ["docker.io", "quay.io"]     (version 2)
 *   [aliases] "node" = "quay.io/lab/node"
 *   [[registry]] prefix, location, insecure, blocked, mirror-by-digest-only,
 *                [[registry.mirror]] location, insecure
 *   [registries.search|insecure|block] registries = [...]       (version 1)
 *   credential-helpers = ["containers-auth.json", "NAME"]       where credentials come from
 *
 * The name an image gets in the store stays Docker's ("node" is docker.io/library/node,
 * so `run node` finds what `pull node` fetched); registries.conf only says where it is
 * fetched from, as its own mirrors and locations do ("the user-specified reference is the
 * logical image name, always used for naming the image"): a short name (no registry
 * typed) goes to its alias, else to each unqualified-search registry in order (none
 * given: docker.io); each candidate to its [[registry]] (longest prefix): mirrors first
 * (only for digests with mirror-by-digest-only), then its location; a blocked one is
 * refused.  short-name-mode = "enforcing" makes a short name that several search
 * registries could serve a question on a terminal, an error without one (podman's);
 * "permissive" (the default) and "disabled" try them in order. */
#ifndef NOOK_CMD_REGCONF_H
#define NOOK_CMD_REGCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct regconf_place
{
  char *location; /* host[:port][/path] */
  bool insecure;
};

struct regconf_registry
{
  char *prefix; /* host[:port][/namespace...], or *.domain */
  struct regconf_place primary;
  bool blocked, mirror_by_digest_only;
  struct regconf_place *mirrors;
  size_t n_mirrors;
};

struct regconf
{
  char *file; /* the file read, NULL when none */
  char **search;
  bool have_search; /* unqualified-search-registries given (maybe empty) */
  char **alias_names, **alias_values;
  struct regconf_registry *regs;
  size_t n_regs;
  enum regconf_short_mode
  {
    REGCONF_SHORT_UNSET, /* containers/image's default: permissive */
    REGCONF_SHORT_ENFORCING,
    REGCONF_SHORT_PERMISSIVE,
    REGCONF_SHORT_DISABLED,
  } short_mode;
  /* credential-helpers, in order ("containers-auth.json": the auth files of
   * imagefmt/auth.h; else docker-credential-NAME); NULL when not given */
  char **cred_helpers;
};

/* Parse text (the contents of file) into c.  A syntax this reader does not take is an
 * error naming file and line. */
int regconf_parse (const char *text, size_t len, const char *file, struct regconf *c,
                   nook_error_t *err);
/* Load the file above (none: c empty, 0). */
int regconf_load (struct regconf *c, nook_error_t *err);
void regconf_clear (struct regconf *c);

/* One place to try: url for imagefmt_registry_open (host[:port][/prefix], scheme decided
 * there), auth_key (the registry's name for credentials; NULL: the url's host), repo. */
struct regconf_source
{
  char *url, *auth_key, *repo;
  bool insecure;
};

/* Where to fetch the image named domain/path (tag or digest given separately: has_digest),
 * typed_short: the user typed no registry (short is what they typed before the tag, e.g.
 * "node" or "bitnami/node").  extra_mirrors: nook's own config.json mirrors of a domain
 * (tried first for it).  *blocked_out names the registry entry that refused, when every
 * candidate was blocked.  The sources are NULL-terminated by a zeroed entry. */
struct regconf_source *
regconf_sources (const struct regconf *c, const char *domain, const char *path, bool has_digest,
                 bool typed_short, const char *short_name,
                 char *const *(*extra_mirrors) (void *data, const char *domain), void *data,
                 char **blocked_out);
void regconf_sources_free (struct regconf_source *s);

/* short-name-mode "enforcing" and a short name several unqualified-search registries
 * could serve (no alias for it): podman asks on a terminal which one, and fails without
 * one.  Returns how many registries are candidates when so, else 0. */
size_t regconf_short_ambiguous (const struct regconf *c, bool typed_short, const char *short_name);

/* The hosts (host[:port]) the file marks insecure, added to *list: push and login use
 * them too (mirrors and locations are for pulls only, as in containers/image). */
void regconf_insecure_hosts (const struct regconf *c, char ***list);

#endif
