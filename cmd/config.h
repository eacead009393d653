/* cmd/config.h: nook's configuration file (registry mirrors, insecure registries).
 *
 * Read from /etc/nook/config.json (system-wide), then $XDG_CONFIG_HOME/nook/config.json
 * (default ~/.config/nook/config.json), each key of the user's file replacing the
 * system's ("mirrors" entry by entry).  Docker's daemon.json keys are taken as they are,
 * so a classroom's daemon.json can be copied:
 *
 *   {
 *     "registry-mirrors": ["http://10.0.0.5:5000"],         docker.io's mirrors (Docker's key)
 *     "insecure-registries": ["10.0.0.5:5000", "10.0.0.0/8"], plain HTTP allowed (Docker's key)
 *     "mirrors": {                                           nook's: mirrors of other registries
 *       "quay.io": ["http://10.0.0.5:5001"],
 *       "ghcr.io": ["https://mirror.lab/ghcr"]               a path = a repository prefix there
 *     }
 *   }
 *
 * A mirror is "http[s]://HOST[:PORT][/PREFIX]"; it serves the registry's repositories
 * under the same names (library/node for docker.io's node), below PREFIX when given.
 * Pulls try the mirrors in order, then the registry; pushes go to the registry. */
#ifndef NOOK_CMD_CONFIG_H
#define NOOK_CMD_CONFIG_H

#include <stddef.h>

#include "util/error.h"

struct nook_mirror_set
{
  char *registry; /* "docker.io", "quay.io" */
  char **mirrors; /* NULL-terminated */
  char *from;     /* the file that named them */
};

struct nook_config
{
  struct nook_mirror_set *mirrors;
  size_t n_mirrors;
  char **insecure; /* NULL-terminated, never NULL after load */
  char *insecure_from;
  char **files; /* the files read (that exist) */
};

/* Load the files above; a file that exists but is invalid is an error naming it and
 * the key. */
int nook_config_load (struct nook_config *c, nook_error_t *err);
/* The same from explicit files (NULL entries skipped), later ones over earlier ones. */
int nook_config_load_files (struct nook_config *c, const char *system_file, const char *user_file,
                            nook_error_t *err);
void nook_config_clear (struct nook_config *c);
/* The mirrors of a registry domain (borrowed; NULL when none). */
char *const *nook_config_mirrors (const struct nook_config *c, const char *domain,
                                  const char **from);
/* The user's file path (caller frees; NULL without HOME). */
char *nook_config_user_path (void);

#endif
