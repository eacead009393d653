/* cmd/compose/view.h: the read-only compose verbs over what the store holds with
 * Compose's labels (no project state of its own): ps, ls, logs (view_logs.c), top,
 * port, images. */
#ifndef NOOK_CMD_COMPOSE_VIEW_H
#define NOOK_CMD_COMPOSE_VIEW_H

#include <stdbool.h>

#include "cmd/commands.h"
#include "cmd/compose/loader.h"
#include "cmd/ctrs.h"

/* Whether sub is one of them. */
bool compose_view_verb (const char *sub);
/* Run it: lo carries -p, --project-directory, --profile, --env-file; files the -f. */
int compose_view_main (struct nook_ctx *ctx, const struct compose_options *lo, char **files,
                       int argc, char **argv, nook_error_t *err);

/* `compose config --variables` (variables.c): argv is config's. */
int compose_config_variables (const struct compose_options *lo, char **files, int argc, char **argv,
                              nook_error_t *err);

/* ---- shared with view_logs.c ---- */

struct view
{
  struct nook_ctx *ctx;
  const struct compose_options *lo;
  char **files;
  char *root;               /* the store */
  char *name;               /* the project */
  struct compose_project p; /* when its files were loaded */
  bool loaded;
  struct ctr_list l; /* every container of the store, newest first */
};

/* Which project: as Compose's projectOrName (or_name: ps, logs: the files when -f is
 * given or no -p; when they cannot be loaded, COMPOSE_PROJECT_NAME) or toProjectName
 * (top, port, images: -p, COMPOSE_PROJECT_NAME, then the files). Then the store's
 * containers are loaded. */
int view_open (struct view *v, bool or_name, char **services, nook_error_t *err);
void view_close (struct view *v);
/* The project's containers (indexes into v->l), sorted by name: one-off ones when
 * oneoff, stopped ones when all, of `services` only when not NULL. */
size_t *view_select (struct view *v, bool oneoff, bool all, char **services, size_t *n);
/* Whether services (NULL: none) names svc. */
bool view_strv_has (char **services, const char *svc);

int compose_view_logs (struct view *v, int argc, char **argv, nook_error_t *err);

#endif
