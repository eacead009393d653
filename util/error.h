/* util/error.h: errors as values (crun's model, simplified).
 *
 * A fallible function takes `nook_error_t *err`, returns -1 (or NULL) and sets
 * *err exactly once on failure.  Only cmd/nook.c prints an error. */
#ifndef NOOK_UTIL_ERROR_H
#define NOOK_UTIL_ERROR_H

#include <stdbool.h>

struct nook_error
{
  int code;   /* an errno value, or 0 */
  int exit;   /* exit status the CLI should use (0: the verb's default) */
  bool usage; /* a command-line usage error: the CLI prints it as it is */
  char *msg;
};
typedef struct nook_error *nook_error_t;

/* Set *err to a new error; returns -1.  Does nothing if *err is already set. */
int nook_error_set (nook_error_t *err, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Same, also choosing the exit status of the CLI (126, 127, ...). */
int nook_error_set_exit (nook_error_t *err, int exit_code, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
/* Prefix the message of *err with context: "ctx: old msg"; returns -1. */
int nook_error_wrap (nook_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Free *err and set it to NULL. */
void nook_error_free (nook_error_t *err);
/* Format "msg: strerror(code)" into a new string (caller frees). */
char *nook_error_text (const struct nook_error *e);

#endif
