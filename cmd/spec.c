/* cmd/spec.c: the pure merge of an image config with `nook run`'s options into a
 * struct nook_spec (Docker's rules for Entrypoint, Cmd, Env, User, WorkingDir).
 * The values of single flags are parsed beside it: spec_env.c, spec_user.c,
 * spec_mounts.c, spec_security.c; the flags themselves in run_flags.c. */
#include "cmd/spec.h"
#include "net/mode.h"
#include "sandbox/caps.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the merge ---- */

static char **
json_strv (const json_t *obj, const char *key)
{
  json_t *a = obj ? json_object_get (obj, key) : NULL;
  if (!json_is_array (a))
    return NULL;
  char **v = NULL;
  size_t i;
  json_t *x;
  json_array_foreach (a, i, x) if (json_is_string (x)) strv_push (&v, json_string_value (x));
  if (v == NULL)
    v = xzalloc (sizeof *v);
  return v;
}

static const char *
json_str (const json_t *obj, const char *key)
{
  json_t *s = obj ? json_object_get (obj, key) : NULL;
  return json_is_string (s) ? json_string_value (s) : NULL;
}

static int
merge_argv (const json_t *cfg, const struct run_opts *o, struct nook_spec *spec, nook_error_t *err)
{
  cleanup_strv char **entry = NULL;
  cleanup_strv char **cmd = NULL;
  if (o->entrypoint_set)
    {
      if (o->entrypoint && *o->entrypoint)
        strv_push (&entry, o->entrypoint);
      cmd = o->cmd ? strv_dup (o->cmd) : NULL; /* --entrypoint resets the image's Cmd */
    }
  else
    {
      entry = json_strv (cfg, "Entrypoint");
      cmd = o->cmd ? strv_dup (o->cmd) : json_strv (cfg, "Cmd");
    }
  char **argv = NULL;
  for (size_t i = 0; entry && entry[i]; i++)
    strv_push (&argv, entry[i]);
  for (size_t i = 0; cmd && cmd[i]; i++)
    strv_push (&argv, cmd[i]);
  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
    {
      strv_free (argv);
      return nook_error_set (err, 0, "no command specified");
    }
  spec->argv = argv;
  return 0;
}

/* The image's /etc/passwd or /etc/group, NULL when it has none.  One that cannot be
 * read (a FIFO, a directory, too large) stops the run when a user was asked for (-u,
 * the image's USER); without one it is treated as missing, with a warning, as Docker
 * runs such images. */
static int
read_user_db (const struct spec_env *e, const char *path, bool user_given, char **text,
              nook_error_t *err)
{
  cleanup_error nook_error_t re = NULL;
  *text = NULL;
  if (e == NULL || e->read_image_file == NULL || e->read_image_file (e->data, path, text, &re) == 0)
    return 0;
  free (steal_pointer (text));
  if (re->code == ENOENT)
    return 0;
  if (user_given)
    {
      if (err && *err == NULL)
        *err = steal_pointer (&re);
      return -1;
    }
  if (e->warn)
    {
      cleanup_free char *why = nook_error_text (re);
      cleanup_free char *msg = xasprintf ("%s; treated as missing", why);
      e->warn (msg);
    }
  return 0;
}

static int
merge_user (const json_t *cfg, const struct run_opts *o, const struct spec_env *e,
            struct nook_spec *spec, char **home, nook_error_t *err)
{
  const char *user = o->user ? o->user : json_str (cfg, "User");
  bool given = (user && *user) || o->group_add;
  cleanup_free char *passwd = NULL;
  cleanup_free char *group = NULL;
  if (read_user_db (e, "/etc/passwd", given, &passwd, err) < 0
      || read_user_db (e, "/etc/group", given, &group, err) < 0)
    return -1;
  if (spec_resolve_user (user, passwd, group, &spec->uid, &spec->gid, &spec->groups,
                         &spec->n_groups, home, err)
      < 0)
    return -1;
  return spec_group_add (o->group_add, group, &spec->groups, &spec->n_groups, err);
}

static int
merge_env (const json_t *cfg, const struct run_opts *o, const struct spec_env *e, const char *home,
           struct nook_spec *spec, nook_error_t *err)
{
  char **env = NULL;
  spec_env_set (&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  cleanup_free char *hn = xasprintf ("HOSTNAME=%s", spec->hostname);
  spec_env_set (&env, hn);
  cleanup_strv char **img = json_strv (cfg, "Env");
  for (size_t i = 0; img && img[i]; i++)
    if (strchr (img[i], '='))
      spec_env_set (&env, img[i]);
  for (size_t i = 0; o->env_files && o->env_files[i]; i++)
    {
      cleanup_free char *text = NULL;
      size_t len = 0;
      if (e == NULL || e->read_env_file == NULL
          || e->read_env_file (o->env_files[i], &text, &len, err) < 0)
        {
          strv_free (env);
          return err && *err ? nook_error_wrap (err, "--env-file")
                             : nook_error_set (err, EINVAL, "--env-file not readable");
        }
      if (spec_parse_env_file (text, len, o->env_files[i], e, &env, err) < 0)
        {
          strv_free (env);
          return -1;
        }
    }
  for (size_t i = 0; o->env && o->env[i]; i++)
    if (spec_env_add (&env, o->env[i], e, "--env", err) < 0)
      {
        strv_free (env);
        return -1;
      }
  if (!spec_env_has (env, "HOME"))
    {
      cleanup_free char *h
          = xasprintf ("HOME=%s", home && *home ? home : (spec->uid == 0 ? "/root" : "/"));
      spec_env_set (&env, h);
    }
  if (o->tty && !spec_env_has (env, "TERM"))
    spec_env_set (&env, "TERM=xterm");
  spec->env = env;
  return 0;
}

static bool
valid_hostname (const char *h)
{
  size_t n = strlen (h);
  if (n == 0 || n > 63)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z')
          || (h[i] >= '0' && h[i] <= '9') || h[i] == '-' || h[i] == '.'))
      return false;
  return h[0] != '-' && h[0] != '.';
}

static int
merge_mounts (const struct run_opts *o, struct nook_spec *spec, nook_error_t *err)
{
  size_t n = strv_len (o->volumes) + strv_len (o->tmpfs) + strv_len (o->mounts);
  spec->mounts = xzalloc (sizeof *spec->mounts * (n ? n : 1));
  for (size_t i = 0; o->volumes && o->volumes[i]; i++)
    if (spec_parse_volume (o->volumes[i], &spec->mounts[spec->n_mounts++], err) < 0)
      {
        spec->n_mounts--;
        return -1;
      }
  for (size_t i = 0; o->mounts && o->mounts[i]; i++)
    if (spec_parse_mount (o->mounts[i], &spec->mounts[spec->n_mounts++], err) < 0)
      {
        spec->n_mounts--;
        return -1;
      }
  for (size_t i = 0; o->tmpfs && o->tmpfs[i]; i++)
    if (spec_parse_tmpfs (o->tmpfs[i], &spec->mounts[spec->n_mounts++], err) < 0)
      {
        spec->n_mounts--;
        return -1;
      }
  size_t nl = strv_len (o->ulimits);
  spec->rlimits = xzalloc (sizeof *spec->rlimits * (nl ? nl : 1));
  for (size_t i = 0; i < nl; i++)
    if (spec_parse_ulimit (o->ulimits[i], &spec->rlimits[spec->n_rlimits++], err) < 0)
      return -1;
  return 0;
}

/* --network: the namespace the sandbox makes and, for a user-mode network, the
 * interface it configures (net/mode.h). */
int
spec_network (const char *value, struct nook_spec *spec, nook_error_t *err)
{
  struct net_mode m;
  if (net_mode_parse (value, &m, err) < 0)
    return -1;
  switch (m.kind)
    {
    case NET_NONE:
      spec->network = NETWORK_NONE;
      return 0;
    case NET_HOST:
      spec->network = NETWORK_HOST;
      return 0;
    case NET_SLIRP4NETNS:
      spec->network = NETWORK_HELPER;
      return 0;
    case NET_USER:
      spec->network = NETWORK_VETH;
      return 0;
    case NET_CONTAINER:
      spec->network = NETWORK_JOIN;
      return 0;
    case NET_LIBSLIRP:
      break;
    }
  spec->network = NETWORK_TAP;
  memset (&spec->netif, 0, sizeof spec->netif);
  snprintf (spec->netif.name, sizeof spec->netif.name, "%s", NET_IFNAME);
  spec->netif.addr = htonl (NET_GUEST_ADDR);
  spec->netif.gateway = htonl (NET_GATEWAY);
  spec->netif.prefix = NET_PREFIX;
  spec->netif.mtu = m.mtu;
  return 0;
}

/* --sysctl: Docker's rules (its CLI's list, its daemon's network check): only sysctls of
 * the container's own namespaces, IPC (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)
 * and network (net.*, refused with the host's or another container's network namespace). */
int
spec_sysctls (char **in, struct nook_spec *spec, nook_error_t *err)
{
  static const char *const ipc[]
      = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
          "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced" };
  for (char **s = in; s && *s; s++)
    {
      const char *eq = strchr (*s, '=');
      if (eq == NULL || eq == *s)
        return nook_error_set (err, 0,
                               "invalid argument \"%s\" for \"--sysctl\" flag: want "
                               "NAME=VALUE",
                               *s);
      cleanup_free char *name = xstrndup (*s, (size_t)(eq - *s));
      for (char *c = name; *c; c++)
        if (*c == '/')
          *c = '.';
      if (strstr (name, "..") || name[strlen (name) - 1] == '.' || strchr (eq + 1, '\n'))
        return nook_error_set (err, 0, "sysctl '%s' is not allowed", *s);
      bool ok = strncmp (name, "net.", 4) == 0 || strncmp (name, "fs.mqueue.", 10) == 0;
      for (size_t i = 0; i < ARRAY_SIZE (ipc) && !ok; i++)
        ok = strcmp (name, ipc[i]) == 0;
      if (!ok)
        return nook_error_set (err, 0,
                               "sysctl '%s' is not allowed: only the container's own "
                               "namespaces' (net.*, fs.mqueue.*, kernel.msg*, kernel.sem, "
                               "kernel.shm*) may be set",
                               *s);
      if (strncmp (name, "net.", 4) == 0
          && (spec->network == NETWORK_HOST || spec->network == NETWORK_JOIN))
        return nook_error_set (
            err, 0, "--sysctl \"%s\" is not allowed in %s network namespace", name,
            spec->network == NETWORK_HOST ? "the host's" : "another container's");
      strv_push (&spec->sysctls, *s);
    }
  return 0;
}

int
spec_merge (const json_t *image_config, const struct run_opts *o, const struct spec_env *e,
            const char *container_id, struct nook_spec *spec, nook_error_t *err)
{
  const json_t *cfg = image_config ? json_object_get (image_config, "config") : NULL;
  if (cfg && json_is_null (cfg))
    cfg = NULL;
  cleanup_free char *home = NULL;

  if (o->hostname && !valid_hostname (o->hostname))
    return nook_error_set (err, 0, "invalid hostname '%s'", o->hostname);
  spec->hostname = xstrdup (o->hostname ? o->hostname : container_id);
  if (strlen (spec->hostname) > 12 && !o->hostname)
    spec->hostname[12] = '\0';
  if (o->domainname && *o->domainname && !valid_hostname (o->domainname))
    return nook_error_set (err, 0, "invalid domainname '%s'", o->domainname);
  spec->domainname = o->domainname && *o->domainname ? xstrdup (o->domainname) : NULL;

  const char *wd = o->workdir ? o->workdir : json_str (cfg, "WorkingDir");
  if (wd && *wd && wd[0] != '/')
    return nook_error_set (
        err, 0, "the working directory '%s' is invalid, it needs to be an absolute path", wd);
  spec->cwd = xstrdup (wd && *wd ? wd : "/");

  if (merge_argv (cfg, o, spec, err) < 0 || merge_user (cfg, o, e, spec, &home, err) < 0
      || merge_env (cfg, o, e, home, spec, err) < 0 || merge_mounts (o, spec, err) < 0)
    return -1;

  spec->tty = o->tty;
  spec->ephemeral = o->rm;
  spec->interactive = o->interactive;
  spec->readonly_rootfs = o->read_only;
  if (spec_network (o->network, spec, err) < 0 || spec_sysctls (o->sysctls, spec, err) < 0)
    return -1;

  spec->caps = o->privileged ? sandbox_caps_all () : sandbox_caps_default ();
  if (sandbox_caps_adjust (&spec->caps, o->cap_add, o->cap_drop, err) < 0)
    return -1;
  cleanup_free char *profile = NULL;
  if (spec_security_opts (o->security_opts, &spec->seccomp_unconfined, &profile, err) < 0)
    return -1;
  if (o->privileged)
    spec->seccomp_unconfined = spec->unmasked = true;
  return 0;
}
