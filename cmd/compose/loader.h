/* cmd/compose/loader.h: a Compose project from its files (pure: reads files, runs nothing).
 *
 * compose_load: files (-f, COMPOSE_FILE, or discovery in the working directory and its
 * parents, with compose.override.yaml), the environment (process environment over `.env`
 * or --env-file of the project directory), every file parsed (cmd/compose/yaml.c),
 * interpolated (cmd/compose/interp.c), validated against the schema (schema.c), its
 * `include`s loaded as sub-projects, the files merged (merge.c), `extends` resolved, tags
 * applied, profiles, then the model made canonical (cmd/compose/normalize.c: long syntax,
 * absolute paths, defaults, names) and checked for consistency (undefined services,
 * networks, volumes, secrets, configs; dependency cycles). The result is the model that
 * `nook compose config` prints (a jansson tree) and the orchestrator reads through
 * cmd/compose/model.h. */
#ifndef NOOK_CMD_COMPOSE_LOADER_H
#define NOOK_CMD_COMPOSE_LOADER_H

#include <jansson.h>
#include <stdbool.h>

#include "util/error.h"

struct compose_file
{
  const char *path;    /* file name; "-" is stdin when content is NULL */
  const char *content; /* inline content (tests), or NULL to read path */
};

struct compose_options
{
  struct compose_file *files; /* -f, in order; n_files 0: COMPOSE_FILE or discovery */
  int n_files;
  const char *cwd;          /* the working directory (NULL: getcwd) */
  const char *project_dir;  /* --project-directory */
  const char *project_name; /* -p */
  char **env_files;         /* --env-file (NULL: PROJECT_DIR/.env when it exists) */
  char **profiles;          /* --profile (NULL: COMPOSE_PROFILES) */
  json_t *environ;          /* the process environment (object of strings; borrowed) */
  bool no_interpolate;
  bool no_normalize;     /* no defaults (default network, names, Dockerfile) */
  bool no_resolve_paths; /* keep relative paths relative to the project directory */
  bool no_consistency;
  bool no_validate;
  bool discard_env_files; /* drop env_file once read into environment */
  bool all_profiles;      /* keep services of every profile */
  char **services;        /* services named on the command line: on whatever their profiles */
};

struct compose_project
{
  json_t *model; /* name, services, networks, volumes, secrets, configs, x-... */
  char *name;
  char *working_dir;
  json_t *environment;  /* the variables interpolation used, with COMPOSE_PROJECT_NAME */
  char **config_files;  /* absolute paths of the files loaded */
  char **warnings;      /* lines for stderr, in order */
  json_t *all_profiles; /* every profile named by a service (sorted array) */
};

int compose_load (const struct compose_options *o, struct compose_project *p, nook_error_t *err);
void compose_project_free (struct compose_project *p);

/* Resolve the `extends` of a model's services that name no file (tests of the merge). */
int compose_extends_local (json_t *model, nook_error_t *err);

/* Docker Compose's project-name rules: lowercase letters, digits, '-' and '_', starting
 * with a letter or digit. */
bool compose_project_name_valid (const char *name);
/* The name a directory's basename gives: lowercased, other characters removed. */
char *compose_project_name_normalize (const char *name);

#endif
