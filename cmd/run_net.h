/* cmd/run_net.h: the network of one `nook run`: the --network mode, the ports
 * published (bound before the container exists, so a taken port fails the run
 * with nothing made), the helpers started once the container's namespaces exist
 * (sandbox_hooks.network) and ended with it, /etc/resolv.conf and /etc/hosts. */
#ifndef NOOK_CMD_RUN_NET_H
#define NOOK_CMD_RUN_NET_H

#include <jansson.h>
#include <sys/types.h>

#include "cmd/netns.h"
#include "cmd/run_flags.h"
#include "net/helper.h"
#include "net/mode.h"
#include "net/ports.h"
#include "sandbox/run.h"
#include "sandbox/spec.h"
#include "util/error.h"

struct run_net
{
  struct net_mode mode;
  struct net_port *ports; /* published, host ports resolved */
  size_t n_ports;
  int *listen_fds; /* one per port, bound in the host's namespace */
  struct net_helper stack, forwarder;
  struct netns_join join;      /* NET_USER */
  char *own_hosts;             /* NET_USER: the container's hosts text before the network's lines */
  int peer_userns, peer_netns; /* NET_CONTAINER: the namespaces joined */
  bool prepared;               /* run_net_prepare has set the fds above */
};

/* Everything that can fail on the user's input, before the container is made:
 * the mode, -p/-P/--expose against the image config, the DNS flags; binds the
 * ports; fills spec->etc_hosts and spec->etc_resolv.  spec->hostname and
 * spec->network must be set (spec_merge), and spec->ids planned: on a
 * user-defined network or container:NAME they are rewritten relative to the
 * user namespace the container is made in (cmd/netns.h).  root: the store's;
 * id: the container's. */
int run_net_prepare (const struct run_opts *o, const json_t *image_config, const char *root,
                     const char *id, struct nook_spec *spec, struct run_net *rn, nook_error_t *err);

/* sandbox_hooks.network: start the user-mode stack and the port forwarder. */
int run_net_start (struct run_net *rn, const struct sandbox_netns *ns, nook_error_t *err);

/* The container has ended: end the helpers (not waiting for them). */
void run_net_stop (struct run_net *rn);

/* Wrap *err with what a helper said when it ended early (the run failed). */
void run_net_explain (struct run_net *rn, nook_error_t *err);

/* End and reap the helpers, close the sockets. */
void run_net_free (struct run_net *rn);

/* `nook info`'s network lines (label, JSON key, value: malloc'd); returns how many
 * of at most `max` were filled. */
struct run_net_info_line
{
  const char *label, *key;
  char *value;
};
size_t run_net_info (struct run_net_info_line *lines, size_t max);

#endif
