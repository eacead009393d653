/* sandbox/netif.h: network interfaces of a network namespace nook made.
 *
 * Every new network namespace starts with `lo` down, so 127.0.0.1 is unreachable
 * inside; Docker's `--network none` has it up.  The caller must hold CAP_NET_ADMIN
 * over the namespace (root of the user namespace that owns it). */
#ifndef NOOK_SANDBOX_NETIF_H
#define NOOK_SANDBOX_NETIF_H

#include "sandbox/spec.h"
#include "util/error.h"

/* Bring interface `name` of the current network namespace up (SIOCGIFFLAGS and, when it
 * is down, SIOCSIFFLAGS with IFF_UP: one socket and two ioctls).  For `lo` the kernel
 * then gives it 127.0.0.1/8 (and ::1). */
int sandbox_netif_up (const char *name, nook_error_t *err);

/* Create the tap interface `cfg->name` in the current network namespace and
 * configure it: MTU, address/prefix, up, default route via cfg->gateway
 * (ioctls, no netlink).  Returns the tap's fd (O_CLOEXEC; frames without packet
 * information) or -1.  Frames the namespace sends queue on it until a user-mode
 * stack reads them, so the interface is usable at once. */
int sandbox_netif_tap (const struct nook_netif *cfg, nook_error_t *err);

#endif
