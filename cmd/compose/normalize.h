/* cmd/compose/normalize.h: a merged Compose model made canonical (pure but for reading
 * env_file and label_file): the long syntax of ports, volumes, depends_on, env_file,
 * networks; environment and labels as mappings (files read in); command, entrypoint and
 * healthcheck.test split as Compose splits them; absolute paths; with `defaults`, the
 * default network, resource names (PROJECT_NAME) and the build's Dockerfile. */
#ifndef NOOK_CMD_COMPOSE_NORMALIZE_H
#define NOOK_CMD_COMPOSE_NORMALIZE_H

#include <jansson.h>
#include <stdbool.h>

#include "util/error.h"

/* Make the relative paths of one raw service (short or long syntax) absolute against dir
 * (`~` is HOME of env, the project's variables). */
void compose_resolve_service_paths (json_t *svc, const char *dir, json_t *env);
/* The same for a whole raw model: services, top-level secrets/configs files. */
void compose_resolve_paths (json_t *model, const char *dir, json_t *env);
/* dir joined with a relative path, "." and ".." removed; `~` is $HOME from env. */
char *compose_path_join (const char *dir, const char *path, json_t *env);

/* Long syntax and files read (env is the project's environment: a bare `FOO` in
 * environment takes its value there). */
int compose_canonical (json_t *model, json_t *env, const char *workdir, bool discard_env_files,
                       nook_error_t *err);
/* Defaults and names. */
void compose_defaults (json_t *model, const char *project);
/* References between services and to top-level resources; dependency cycles. */
int compose_consistency (json_t *model, nook_error_t *err);

/* Split a command line as Compose does (shell-like words: quotes, backslashes, no
 * expansion). NULL with *err on an unterminated quote. */
json_t *compose_split_command (const char *s, nook_error_t *err);

/* One port of the short syntax ("[IP:][HOST:]CONTAINER[/PROTO]", ranges) appended to out
 * in the long syntax. */
int compose_port_parse (const char *s, json_t *out, nook_error_t *err);
/* One volume of the short syntax in the long syntax (new reference). */
json_t *compose_volume_parse (const char *s, nook_error_t *err);

#endif
