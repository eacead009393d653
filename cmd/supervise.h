/* cmd/supervise.h: a container's supervisor.
 *
 * One small process per container (no daemon): the parent of its init, it owns
 * its output (pipes or the pty master, written to the json-file log), its
 * control socket (containers/<id>/ctl.sock: stop, kill, wait, attach, pause,
 * rm), its restart policy, and it records the container's state
 * (state.json).  A detached container's supervisor is a fork of nook (double
 * fork, new session, none of the caller's fds); a foreground `nook run` is the
 * supervisor of its own container, so other nook processes see it alike.  The
 * init dies with its supervisor (PR_SET_PDEATHSIG), and a supervisor found
 * dead reads as Exited (255) (records.h). */
#ifndef NOOK_CMD_SUPERVISE_H
#define NOOK_CMD_SUPERVISE_H

#include <stdbool.h>

#include "cmd/logfile.h"
#include "sandbox/spec.h"
#include "sandbox/run.h"
#include "util/error.h"

struct health_config;
struct imagefmt_hold;
struct imagefmt_store;

enum restart_kind
{
  RESTART_NO,
  RESTART_ON_FAILURE,
  RESTART_ALWAYS,
  RESTART_UNLESS_STOPPED,
};

struct restart_policy
{
  enum restart_kind kind;
  int max_retries; /* on-failure:N, 0: unlimited */
};

/* "no", "on-failure[:N]", "always", "unless-stopped" (NULL: no). */
int restart_policy_parse (const char *s, struct restart_policy *out, nook_error_t *err);
const char *restart_policy_name (enum restart_kind k);

struct supervise_opts
{
  char *root, *id, *name;
  struct nook_spec *spec;       /* complete: layers, container_dir, ids, seccomp */
  struct nook_idmapping ids0;   /* the uid-0 map, to remove the container's files */
  struct imagefmt_hold *hold;   /* the image, held until the supervisor ends (owned) */
  struct imagefmt_store *store; /* closed by a detached supervisor (owned when detached) */
  struct log_config log;
  struct restart_policy restart;
  int stop_signal, stop_timeout; /* the container's; stop_timeout -1: wait forever */
  bool auto_remove;              /* --rm: the supervisor removes it (detached) */
  bool ephemeral;                /* foreground --rm: the caller empties and removes it, so
                                    nothing is recorded once the command has ended */
  int restart_count;             /* carried on by `start` */
  struct health_config *health;  /* its healthcheck (cmd/health.h), or NULL (owned) */
  int lock_fd;                   /* (internal: the locked container directory, or -1) */
  /* foreground --rm: the command ended, the kernel is still tearing down */
  void (*command_ended) (void *data, int status);
  /* a user-mode network: its helpers started once the namespaces exist (cmd/run_net.c);
   * NULL for none */
  int (*network) (void *data, const struct sandbox_netns *ns, nook_error_t *err);
  /* before and after each run of the container (cmd/run_net.h: the network is
   * joined by the process that runs it, left at the last end); NULL for none */
  int (*network_enter) (void *data, struct nook_spec *spec, nook_error_t *err);
  void (*network_exit) (void *data, bool final);
  /* an fd that turns readable when the container's network is lost (its
   * holder ended), or -1; then network_lost is called (once per loss) and what
   * it returns (malloc'd, or NULL) goes to the container's stderr and log */
  int (*network_watch) (void *data);
  char *(*network_lost) (void *data);
  void *data;
};

/* Run the container with this process as its supervisor, attached to our
 * stdio (a foreground `nook run` without -it): stdout and stderr go to ours and
 * to the log (capture), or straight to ours (no capture: --rm without a name,
 * nothing to log for anyone).  Returns the exit status, or -1 with *err when
 * the container could not start (err->exit 125/126/127). */
int supervise_foreground (struct supervise_opts *o, bool capture, nook_error_t *err);

/* Start a supervisor in the background for the container (run -d, start):
 * returns 0 once its command runs, -1 with the start error.  With
 * wait_attach, it returns as soon as the control socket listens: the
 * supervisor starts the container when the first attach client arrives
 * (run -it, start -a), and that client hears the start error if any. */
int supervise_detached (struct supervise_opts *o, bool wait_attach, nook_error_t *err);

/* ---- the control protocol (clients: cmd/lifecycle.c) ---- */

/* Connect to the supervisor of container id (cdir: the store's containers/
 * directory); -1 with errno when none listens. */
int ctl_connect (int cdir, const char *id);
/* Send a request line; read one reply line (without '\n') into buf; -1 on EOF
 * before a line (the supervisor ended), else the reply's length. timeout_ms -1:
 * none. */
int ctl_request (int fd, const char *req, char *buf, size_t size, int timeout_ms);

/* Frames of an attached stream (Docker's stdcopy header): type, 0, 0, 0, length
 * (big endian), then the payload. */
enum ctl_frame
{
  FRAME_STDIN = 0,
  FRAME_STDOUT = 1,
  FRAME_STDERR = 2,
  FRAME_EXIT = 3,    /* server: the container ended; payload: its exit code */
  FRAME_CLOSE = 4,   /* client: end of stdin */
  FRAME_RESIZE = 5,  /* client: "ROWS COLS" */
  FRAME_STARTED = 6, /* server: the command runs (wait_attach) */
  FRAME_ERROR = 7,   /* server: it could not start; payload "EXIT message" */
};
int ctl_frame_send (int fd, int type, const void *data, size_t len);

void supervise_free_opts (struct supervise_opts *o);

/* The container directory's lock (flock), held by its supervisor for its whole
 * life: the fd, or -1 with EBUSY when a supervisor has it. */
int supervise_lock (const char *dir, nook_error_t *err);

#endif
