/* cmd/top.h: the processes of a running container as `top` lists them (cmd/top.c). */
#ifndef NOOK_CMD_TOP_H
#define NOOK_CMD_TOP_H

#include "cmd/ctrs.h"
#include "util/util.h"

/* One line per process, ps -ef's columns tab-separated (UID PID PPID C STIME TTY TIME
 * CMD), appended to out. */
void top_rows (const struct ctr *c, struct strbuf *out);

#endif
