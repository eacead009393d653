/* cmd/cli.h: command-line helpers shared by every verb (below cmd/nook.c and
 * the command files, so that neither includes the other).
 *
 * One voice for all verbs (Docker's wording, podman's form): cmd/nook.c
 * prints an error as "Error: <msg>" and exits 1 (125 for `run`, whose own
 * failures are 125/126/127), except usage errors, printed in Docker's CLI
 * form ("unknown flag: --x" + "See 'nook VERB --help'.").  Flag errors exit
 * 125 for every verb, as Docker's CLI (cli.FlagErrorFunc); a wrong number of
 * arguments exits 1 (125 for `run`). */
#ifndef NOOK_CMD_CLI_H
#define NOOK_CMD_CLI_H

#include "util/error.h"

/* True if argv (after the command name) asks for help: -h or --help. */
int cmd_wants_help (int argc, char **argv);

/* A flag error of VERB ("unknown flag: --x"): the message, then "See 'nook
 * VERB --help'."; exit status 125.  Returns -1. */
int cmd_flag_error (nook_error_t *err, const char *verb, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Wrong arguments of VERB ("\"nook rm\" requires at least 1 argument."), in
 * the same form; exit status 125 for run, 1 for the others.  Returns -1. */
int cmd_args_error (nook_error_t *err, const char *verb, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Turn *err (set by a flag parser) into a usage error exiting 125. */
int cmd_usage_mark (nook_error_t *err);

/* The value of option LNG ("--format") or SHRT ("-f", may be NULL) at
 * argv[*i]: "--format V", "--format=V", "-f V".  Returns 1 with *val set (and
 * *i moved past V), 0 when argv[*i] is another option, -1 (a flag error of
 * VERB) when the value is missing. */
int cmd_opt_value (int argc, char **argv, int *i, const char *shrt, const char *lng,
                   const char *verb, const char **val, nook_error_t *err);

/* --format: until Go templates arrive, "table" (or empty: the default) and
 * "json"; anything else is refused, naming the supported values. */
enum cmd_format
{
  CMD_FORMAT_TABLE,
  CMD_FORMAT_JSON,
};
int cmd_format_parse (const char *value, enum cmd_format *out, nook_error_t *err);

#endif
