/* cmd/netrec.h: records of user-defined networks in the store:
 * networks/<name>.json (Docker's inspect shape, plus each endpoint's nook pid
 * and start time), written temp+rename under networks/.lock (flock).  An
 * endpoint whose nook is gone is dropped whenever a record is read. */
#ifndef NOOK_CMD_NETREC_H
#define NOOK_CMD_NETREC_H

#include <jansson.h>
#include <stdbool.h>

#include "net/subnet.h"
#include "util/error.h"

/* The built-in networks, which have no record. */
bool netrec_builtin (const char *name);

/* Lock networks/ (exclusive): the fd to close, or -1. */
int netrec_lock (const char *root, nook_error_t *err);

/* The record of `name` (a name or an ID prefix), dead endpoints dropped.  NULL
 * with *err "network NAME not found". */
json_t *netrec_load (const char *root, const char *name, nook_error_t *err);

/* Write a record (networks/<Name>.json): temp+rename, with fsync when
 * `durable` (a new network; endpoints are dropped when their nook is gone
 * anyway, so their changes skip the fsync: ~5 ms a run here). */
int netrec_save (const char *root, json_t *rec, bool durable, nook_error_t *err);

/* Remove it. */
int netrec_remove (const char *root, const char *name, nook_error_t *err);

/* Every record (an array, by name), dead endpoints dropped. */
json_t *netrec_list (const char *root);

/* Its subnet and gateway. */
int netrec_subnet (const json_t *rec, struct net_subnet *s, uint32_t *gateway);

/* Its IPv6 subnet and gateway (gateway may be NULL): -1 when the network has
 * no IPv6 (EnableIPv6 false). */
int netrec_subnet6 (const json_t *rec, struct net_subnet6 *s, struct in6_addr *gateway);

/* Drop endpoints whose nook is gone; true when some were. */
bool netrec_prune (json_t *rec);

/* Where the network's holder listens: RUNTIME/net-<ID12>.sock (malloc'd). */
char *netrec_socket_path (const json_t *rec, nook_error_t *err);

/* The networks `network connect` added to container id and kept across
 * starts (containers/ID/networks.json: {"NET": {"Aliases": [...],
 * "IPv4Address": "a.b.c.d" or ""}}); an empty object when none (new ref). */
json_t *netrec_connected (const char *root, const char *id);

#endif
