/* net/sandbox_self.h: how a network helper confines itself once set up.
 *
 * The helpers run as the user in the host's network namespace (they must reach
 * the outside) and parse what a container sends them, so they give up
 * everything else: no_new_privs; Landlock (when the kernel has it) denies every
 * file access but reading `readable` (or none), and from ABI 6 signals and
 * abstract unix sockets beyond the helper; a seccomp filter refuses exec,
 * mount, namespaces, new processes, ptrace, process memory access, modules,
 * keys, bpf and the like with EPERM (in the spirit of slirp4netns'
 * --enable-seccomp). */
#ifndef NOOK_NET_SANDBOX_SELF_H
#define NOOK_NET_SANDBOX_SELF_H

#include <stdint.h>

#include "util/error.h"

int net_sandbox_self (const char *readable, nook_error_t *err);

/* The same, keeping the capabilities of mask keep_caps (1 << CAP_...) in the
 * user namespace the helper is in (the port forwarder keeps CAP_NET_RAW in the
 * container's, for IP_TRANSPARENT and SO_MARK). */
int net_sandbox_self_keep (const char *readable, uint64_t keep_caps, nook_error_t *err);

#endif
