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

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* A name as Docker takes them (containers, networks, volumes): [a-zA-Z0-9] then
 * [a-zA-Z0-9_.-], min to max characters. */
bool cmd_name_valid (const char *n, size_t min, size_t max);

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

/* --format: "table" (or empty: the default), "json", or a Go template
 * (util/template.h; "table TEMPLATE" too). */
enum cmd_format
{
  CMD_FORMAT_TABLE,
  CMD_FORMAT_JSON,
  CMD_FORMAT_TEMPLATE,
};
enum cmd_format cmd_format_kind (const char *value);

/* Print rows (a JSON array of objects, one per line of a list) to stdout as
 * --format says: "json" (one compact object per row), "table TEMPLATE" (a header
 * line from headers, an object mapping field names to column titles, may be NULL;
 * then the rows, aligned as Docker's tables), or "TEMPLATE" (each row, then a
 * newline).  Errors: "template parsing error: template: :1: ...". */
int cli_format_print (const char *format, json_t *rows, json_t *headers, nook_error_t *err);

#endif
