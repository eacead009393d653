/* cmd/compose/interp.h: Compose's variable interpolation and `.env` files (pure).
 *
 * Interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?err}, ${VAR?err},
 * ${VAR:+alt}, ${VAR+alt}, nested in the words; an unset variable is "" (counted as a
 * warning). Env files: Compose's dotenv format (export, quotes, escapes in double quotes,
 * inline comments, multi-line quoted values, a bare KEY inherited from the environment,
 * ${...} expanded from the environment first, then the keys read so far). */
#ifndef NOOK_CMD_COMPOSE_INTERP_H
#define NOOK_CMD_COMPOSE_INTERP_H

#include <jansson.h>
#include <stdbool.h>

#include "util/error.h"

/* Returns the value of name, or NULL when it is not set. */
typedef const char *(*compose_lookup_fn) (void *data, const char *name);

/* Substitute the variables of s; unset (an object, may be NULL) receives the names of unset
 * variables read without a default.
 * NULL with *err ("Invalid template: ..." or "required variable X is missing a value...")
 * on failure. */
char *compose_interpolate (const char *s, compose_lookup_fn lookup, void *data, json_t *unset,
                           nook_error_t *err);

/* A lookup over a jansson object of strings. */
const char *compose_lookup_json (void *obj, const char *name);

/* Parse env-file text into out (an object of strings; keys read later replace earlier
 * ones). Variables expand from env (may be NULL) first, then out. name is for errors. */
int compose_dotenv_parse (const char *text, const char *name, json_t *env, json_t *out,
                          nook_error_t *err);

/* Read an env file into out as compose_dotenv_parse does. */
int compose_dotenv_read (const char *path, json_t *env, json_t *out, nook_error_t *err);

#endif
