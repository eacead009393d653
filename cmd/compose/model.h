/* cmd/compose/model.h: a loaded Compose project as C structs, for the orchestrator.
 *
 * compose_model_from_json reads the canonical model of cmd/compose/loader.c (long syntax,
 * absolute paths, defaults filled) into these structs: every attribute nook acts on, typed
 * (durations in nanoseconds, sizes in bytes, ports as numbers). Strings are owned by the
 * model; vectors are NULL-terminated (NULL when empty). An attribute that was not written
 * is NULL, or -1 for numbers, or its `*_set` flag is false. */
#ifndef NOOK_CMD_COMPOSE_MODEL_H
#define NOOK_CMD_COMPOSE_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct compose_build
{
  char *context; /* absolute, or a URL */
  char *dockerfile;
  char *dockerfile_inline;
  char **args; /* KEY=VALUE (KEY alone: from the environment) */
  char *target;
  char **secrets; /* secret names */
  char **cache_from;
  char **tags;
  char **labels; /* KEY=VALUE */
  char *network;
  char **extra_hosts; /* HOST=IP */
  char **platforms;
};

struct compose_port
{
  char *host_ip;   /* NULL: every address */
  char *published; /* "8080", "8000-8002", or NULL: a free port */
  uint16_t target;
  char *protocol; /* tcp | udp */
  char *mode;     /* ingress | host */
  char *name;
  char *app_protocol;
};

enum compose_mount_type
{
  COMPOSE_MOUNT_BIND,
  COMPOSE_MOUNT_VOLUME,
  COMPOSE_MOUNT_TMPFS,
  COMPOSE_MOUNT_OTHER, /* npipe, cluster, image: refused by the orchestrator */
};

struct compose_mount
{
  enum compose_mount_type type;
  char *type_name;
  char *source; /* bind: absolute path; volume: the key in `volumes` (NULL: anonymous) */
  char *target;
  bool read_only;
  bool create_host_path; /* bind */
  char *selinux;         /* bind: "z" | "Z" (accepted) */
  char *propagation;     /* bind */
  bool nocopy;           /* volume */
  char *subpath;         /* volume */
  int64_t tmpfs_size;    /* bytes, -1 unset */
  int64_t tmpfs_mode;    /* -1 unset */
};

enum compose_condition
{
  COMPOSE_SERVICE_STARTED,
  COMPOSE_SERVICE_HEALTHY,
  COMPOSE_SERVICE_COMPLETED_SUCCESSFULLY,
};

struct compose_dependency
{
  char *service;
  enum compose_condition condition;
  bool required;
  bool restart;
};

struct compose_healthcheck
{
  bool set;
  char **test;         /* ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"] */
  int64_t interval_ns; /* -1: the image's or Docker's default */
  int64_t timeout_ns;
  int64_t start_period_ns;
  int64_t start_interval_ns;
  int64_t retries; /* -1 unset */
  bool disable;
};

struct compose_service_network
{
  char *name; /* the key in the top-level `networks` */
  char **aliases;
  char *ipv4_address;
  char *ipv6_address;
  int64_t priority;
};

/* A service's secret or config. uid, gid and mode are to be honoured for `file:` sources
 * too (Docker Compose ignores them there with a warning): deliberately, since the content is
 * copied read-only into a tmpfs at start (a later edit of the file is not seen). */
struct compose_file_ref
{
  char *source;
  char *target; /* NULL: /run/secrets/SOURCE or /SOURCE */
  char *uid;
  char *gid;
  int64_t mode; /* -1 unset */
};

struct compose_ulimit
{
  char *name;
  int64_t soft, hard;
};

struct compose_watch
{
  char *path;
  char *action; /* sync | rebuild | sync+restart | restart | sync+exec */
  char *target;
  char **ignore;
  char **include;    /* only the paths matching one of these (NULL: all) */
  bool initial_sync; /* the path synced once when watch starts */
  /* sync+exec: the command run in the container after each sync (exec: user,
   * working_dir, environment as KEY=VALUE, privileged) */
  char **exec_command, *exec_user, *exec_workdir, **exec_env;
  bool exec_privileged;
};

struct compose_service
{
  char *name;
  char *image;
  struct compose_build *build; /* NULL without `build` */
  char **command;              /* NULL: the image's; command_set with an empty vector: [] */
  bool command_set;
  char **entrypoint;
  bool entrypoint_set;
  char **environment; /* KEY=VALUE; KEY alone: unset (env_file values merged in) */
  char **env_files;   /* the files read (absolute) */
  struct compose_port *ports;
  size_t n_ports;
  char **expose;
  struct compose_mount *mounts; /* volumes, long syntax */
  size_t n_mounts;
  char **tmpfs;
  char *working_dir;
  char *user;
  char **group_add;
  char *hostname;
  char *domainname;
  char **extra_hosts; /* HOST=IP (IP may be host-gateway) */
  char **dns;
  char **dns_search;
  char **dns_opt;
  char **labels; /* KEY=VALUE */
  bool init;
  bool init_set;
  char *stop_signal;
  int64_t stop_grace_period_ns; /* -1 unset */
  char *restart;                /* no | always | on-failure[:N] | unless-stopped */
  struct compose_healthcheck healthcheck;
  struct compose_dependency *depends_on;
  size_t n_depends_on;
  char **cap_add;
  char **cap_drop;
  char **security_opt;
  bool privileged;
  bool read_only;
  struct compose_ulimit *ulimits;
  size_t n_ulimits;
  char **sysctls;     /* KEY=VALUE */
  char *network_mode; /* none | host | service:NAME | container:NAME | bridge */
  struct compose_service_network *networks;
  size_t n_networks;
  char **links; /* SERVICE or SERVICE:ALIAS */
  char **volumes_from;
  char *container_name;
  int64_t replicas; /* deploy.replicas or scale; -1 unset (1) */
  char **profiles;
  struct compose_file_ref *secrets;
  size_t n_secrets;
  struct compose_file_ref *configs;
  size_t n_configs;
  char *logging_driver;   /* json-file | none | ... */
  char **logging_options; /* KEY=VALUE */
  bool stdin_open;
  bool tty;
  char *pull_policy;
  char *platform;
  struct compose_watch *watch;
  size_t n_watch;
  json_t *raw; /* the service's canonical JSON (borrowed from the model) */
};

struct compose_network
{
  char *key;  /* the name in the file */
  char *name; /* the name of the resource: PROJECT_KEY, `name:`, or external's */
  bool external;
  bool internal;
  char *driver;
  char **subnets; /* ipam.config[].subnet */
  char **labels;  /* KEY=VALUE */
};

struct compose_volume
{
  char *key;
  char *name;
  bool external;
  char *driver;
  char **driver_opts; /* KEY=VALUE */
  char **labels;
};

struct compose_file_def /* a top-level secret or config */
{
  char *key;
  char *name;
  bool external;
  char *file; /* absolute */
  char *content;
  char *environment; /* the variable holding the content */
};

struct compose_model
{
  char *name;
  char *working_dir;
  struct compose_service *services;
  size_t n_services;
  struct compose_network *networks;
  size_t n_networks;
  struct compose_volume *volumes;
  size_t n_volumes;
  struct compose_file_def *secrets;
  size_t n_secrets;
  struct compose_file_def *configs;
  size_t n_configs;
};

/* Read a canonical model (compose_project.model); NULL with *err on a value of a wrong form. */
struct compose_model *compose_model_from_json (json_t *model, nook_error_t *err);
void compose_model_free (struct compose_model *m);
/* The service named name, or NULL. */
struct compose_service *compose_model_service (struct compose_model *m, const char *name);

/* Docker Compose's config hash of a service (its com.docker.compose.config-hash label):
 * sha256 hex of its canonical JSON without build, pull_policy, scale, deploy.replicas,
 * depends_on and profiles (changing those does not recreate a container). New string. */
char *compose_service_hash (json_t *svc);
/* ns as Go prints a Duration ("1m30s", "100ms", "0s"); new string. */
char *compose_duration_format (int64_t ns);

/* Go's durations ("1m30s", "100ms", "2h"), as Compose reads them; -1 on a bad one. */
int64_t compose_duration_parse (const char *s);
/* Docker's sizes ("64m", "1g", "512k", bytes); -1 on a bad one. */
int64_t compose_size_parse (const char *s);

#endif
