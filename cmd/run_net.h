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

/* What a run asked of the network: kept (config.json's "NetSpec") so that
 * `start` and restarts rebuild the same network. */
struct run_net_req
{
  char *network; /* --network as given, or NULL (mode.target points into it) */
  char *name;    /* --name, or NULL: the generated one is read from the record */
  char *ip;      /* --ip */
  char **aliases, **add_hosts, **dns, **dns_search, **dns_options;
};

struct run_net
{
  struct net_mode mode;
  struct run_net_req req;
  char *root, *id;
  struct net_port *ports; /* published, host ports resolved */
  struct net_port *asked; /* the same as asked (0: any free port), for a new bind */
  size_t n_ports;
  int *listen_fds; /* one per port, bound in the host's namespace (kept across restarts) */
  struct net_helper stack, forwarder;
  struct netns_join join; /* NET_USER */
  bool joined;            /* NET_USER: this process is a member of the network */
  unsigned runs;          /* NET_USER: runs started (more than one: restarts) */
  int *held;              /* NET_USER: holders of connected networks, held */
  size_t n_held;
  uint32_t gateway;            /* NET_USER: the network's (its name server), host order */
  struct nook_idmapping ids;   /* NET_USER, NET_CONTAINER: the map relative to the parent */
  bool ids_set;                /* ... once translated */
  int peer_userns, peer_netns; /* NET_CONTAINER: the namespaces joined */
  char *peer_resolv;           /* NET_CONTAINER: the peer's resolv.conf */
  bool peer_entered;           /* NET_CONTAINER: this process entered the peer's user namespace */
  bool prepared;               /* run_net_prepare has set the fds above */
  bool cc_chosen;              /* --sysctl sets the namespace's tcp_congestion_control */
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

/* config.json's "NetSpec": the request and the ports bound (for start). */
json_t *run_net_json (const struct run_net *rn);

/* `nook start`: rn rebuilt from config.json's NetSpec, the ports bound again
 * (the same host ports; a port asked as "any" gets another when its old one is
 * taken).  A record without NetSpec (an older nook) starts with lo only, and a
 * warning.  spec is the one container_spec_from_json read. */
int run_net_restore (const json_t *config, const char *root, const char *id, struct nook_spec *spec,
                     struct run_net *rn, nook_error_t *err);

/* Before each sandbox_run, in the process that calls it: a user-defined
 * network is joined (this process becomes the member the network counts: a
 * foreground nook, or a container's supervisor) and the container's hosts
 * file made with its address; container:NAME's namespaces are opened; the
 * spec says which user namespace to make the container's in.  On a restart
 * under the same process, what was joined stays. */
int run_net_enter (struct run_net *rn, struct nook_spec *spec, nook_error_t *err);

/* After each sandbox_run: the helpers end; a user-defined network is left
 * (final) or the container only taken out of it until the next run. */
void run_net_exit (struct run_net *rn, bool final);

/* The three as supervise_opts' hooks (data: the struct run_net). */
int run_net_hook_enter (void *rn, struct nook_spec *spec, nook_error_t *err);
int run_net_hook_start (void *rn, const struct sandbox_netns *ns, nook_error_t *err);
void run_net_hook_exit (void *rn, bool final);
/* The connection to a user network's holder while the container runs (-1:
 * none); readable when the holder has ended: run_net_hook_lost then says so
 * (the container has no network there any more) and forgets the holder, so
 * that a restart joins the network anew (a new holder). */
int run_net_hook_watch (void *rn);
char *run_net_hook_lost (void *rn);

/* sandbox_hooks.network: start the user-mode stack and the port forwarder. */
int run_net_start (struct run_net *rn, const struct sandbox_netns *ns, nook_error_t *err);

/* The container has ended: end the helpers (not waiting for them). */
void run_net_stop (struct run_net *rn);

/* Wrap *err with what a helper said when it ended early (the run failed). */
void run_net_explain (struct run_net *rn, nook_error_t *err);

/* End and reap the helpers, close the sockets. */
void run_net_free (struct run_net *rn);

/* inspect's NetworkSettings keys of a container (Ports, Networks, and for the
 * default network IPAddress/Gateway/IPPrefixLen): from its config.json and the
 * records of the user-defined networks it is on. */
json_t *run_net_inspect (const char *root, const char *id, const json_t *config, bool running);

/* `nook info`'s network lines (label, JSON key, value: malloc'd); returns how many
 * of at most `max` were filled. */
struct run_net_info_line
{
  const char *label, *key;
  char *value;
};
size_t run_net_info (struct run_net_info_line *lines, size_t max);

#endif
