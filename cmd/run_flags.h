/* cmd/run_flags.h: `nook run` flags (Docker's names and meanings) parsed into
 * struct run_opts; the values are checked when they are merged (cmd/spec.h). */
#ifndef NOOK_CMD_RUN_FLAGS_H
#define NOOK_CMD_RUN_FLAGS_H

#include <stdbool.h>

#include "util/error.h"

struct run_opts
{
  bool rm, interactive, tty, read_only, privileged, help, detach, publish_all;
  bool entrypoint_set;
  char *entrypoint, *workdir, *user, *hostname, *name, *network, *storage_driver;
  char *stop_timeout; /* --stop-timeout, checked by cmd/run.c */
  char *pull;         /* --pull always|missing|never, checked by cmd/run.c */
  char *platform;     /* --platform os/arch[/variant] for the pull */
  /* the container's life (cmd/lifecycle.c): --restart, --log-driver, --stop-signal,
   * --cidfile, --detach-keys; --log-opt in log_opts */
  char *restart, *log_driver, *stop_signal, *cidfile, *detach_keys;
  char **log_opts;
  char **env, **env_files, **volumes, **tmpfs, **cap_add, **cap_drop, **security_opts, **ulimits;
  char **publish, **expose, **dns, **dns_search, **dns_options, **add_hosts; /* cmd/run_net.c */
  char **labels, **label_files; /* -l/--label K=V, --label-file (cmd/labels.h) */
  char **mounts;                /* --mount type=bind|volume|tmpfs,... (cmd/volumes.c) */
  char **volumes_from;          /* --volumes-from CONTAINER[:ro|rw] */
  char **network_aliases, *ip;  /* --network-alias, --ip (user-defined networks) */
  char **group_add;             /* --group-add GROUP (a name of the image's /etc/group, or a gid) */
  char *domainname;             /* --domainname (the UTS namespace's NIS domain name) */
  char **sysctls;               /* --sysctl NAME=VALUE (cmd/spec.c: namespaced ones only) */
  char *network_twice;          /* a second --network value (refused by cmd/run_net.c) */
  /* healthchecks (cmd/health.c): --health-cmd, -interval, -timeout, -retries, -start-period,
   * -start-interval, --no-healthcheck */
  char *health_cmd, *health_interval, *health_timeout, *health_retries, *health_start_period,
      *health_start_interval;
  bool no_healthcheck;
  bool init, init_set; /* --init[=true|false]: nook's init as PID 1 or the command */
  char *image;
  char **cmd; /* the command after IMAGE, may be NULL */
};

/* Parse `run` arguments (argv[0] is "run").  Errors name the flag. */
int run_opts_parse (int argc, char **argv, struct run_opts *o, nook_error_t *err);
void run_opts_free (struct run_opts *o);

#endif
