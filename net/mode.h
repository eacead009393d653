/* net/mode.h: what `--network` asks for (pure parsing).
 *
 *   bridge | default | (none given)   Docker's default network: nook's user-mode
 *                                     stack (net/slirp.h) on a tap named eth0
 *   libslirp[:OPTS]                   the same, with options
 *   slirp4netns[:OPTS]                the slirp4netns program (sandboxed by its own
 *                                     --enable-sandbox --enable-seccomp)
 *   none | host
 *   container:NAME                    NAME's network namespace
 *   NAME                              a user-defined network (`nook network create`;
 *                                     whether it exists is the caller's question)
 * OPTS: comma-separated allow_host_loopback=true|false, mtu=N (576-65520). */
#ifndef NOOK_NET_MODE_H
#define NOOK_NET_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

enum net_kind
{
  NET_NONE,
  NET_HOST,
  NET_LIBSLIRP,    /* nook's own helper: the default */
  NET_SLIRP4NETNS, /* the external program */
  NET_USER,        /* a user-defined network: target is its name */
  NET_CONTAINER,   /* container:NAME: target is NAME */
};

struct net_mode
{
  enum net_kind kind;
  bool allow_host_loopback;
  unsigned mtu;       /* 65520 unless given */
  const char *target; /* NET_USER, NET_CONTAINER: points into the parsed value */
};

/* The container side of every user-mode network (network byte order). */
#define NET_IFNAME "eth0"
#define NET_GUEST_ADDR 0x0a000264u /* 10.0.2.100 */
#define NET_GATEWAY 0x0a000202u    /* 10.0.2.2 */
#define NET_DNS 0x0a000203u        /* 10.0.2.3 */
#define NET_PREFIX 24
#define NET_MTU 65520

/* Parse a --network value (NULL: the default).  Errors name the flag and value. */
int net_mode_parse (const char *value, struct net_mode *m, nook_error_t *err);

/* The name `nook ps`/`inspect` would show: "bridge", "slirp4netns", "none"... */
const char *net_mode_name (const struct net_mode *m);

/* Whether the mode is a user-mode network of its own (the default's kind). */
bool net_mode_user (const struct net_mode *m);

#endif
