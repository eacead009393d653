/* cmd/inspect.c: `nook inspect` / `nook container inspect` in Docker's shape, and
 * the fields a run records for it (see inspect.h). */
#include "cmd/inspect.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/ctrs.h"
#include "cmd/labels.h"
#include "cmd/run_net.h"
#include "imagefmt/ref.h"
#include "imagefmt/image_info.h"
#include "imagefmt/store.h"
#include "util/cleanup.h"
#include "util/template.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *
strv_json (char *const *v)
{
  if (v == NULL)
    return json_null ();
  json_t *a = json_array ();
  for (size_t i = 0; v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static json_t *
copy_or_null (const json_t *v)
{
  return v && !json_is_null (v) ? json_deep_copy (v) : json_null ();
}

json_t *
inspect_record_fields (const struct run_opts *o, const struct nook_spec *spec,
                       const json_t *image_config, json_t *mounts, nook_error_t *err)
{
  const json_t *cfg = image_config ? json_object_get (image_config, "config") : NULL;
  json_t *labels = json_object ();
  json_t *il = cfg ? json_object_get (cfg, "Labels") : NULL;
  if (json_is_object (il))
    json_object_update (labels, (json_t *)il);
  if (cmd_labels_parse (o->labels, o->label_files, labels, err) < 0)
    {
      json_decref (labels);
      return NULL;
    }
  /* Docker's Config.Entrypoint and Cmd: what the container runs, split as merged */
  json_t *entry, *cmd;
  if (o->entrypoint_set)
    {
      entry = o->entrypoint && *o->entrypoint ? json_pack ("[s]", o->entrypoint) : json_null ();
      cmd = strv_json (o->cmd);
    }
  else
    {
      entry = copy_or_null (cfg ? json_object_get (cfg, "Entrypoint") : NULL);
      cmd = o->cmd ? strv_json (o->cmd) : copy_or_null (cfg ? json_object_get (cfg, "Cmd") : NULL);
    }
  json_t *tmpfs = json_object ();
  for (size_t i = 0; o->tmpfs && o->tmpfs[i]; i++)
    {
      const char *colon = strchr (o->tmpfs[i], ':');
      cleanup_free char *path
          = colon ? xstrndup (o->tmpfs[i], (size_t)(colon - o->tmpfs[i])) : xstrdup (o->tmpfs[i]);
      json_object_set_new (tmpfs, path, json_string (colon ? colon + 1 : ""));
    }
  const char *user = o->user ? o->user
                     : cfg   ? json_string_value (json_object_get (cfg, "User"))
                             : NULL;
  json_t *config = json_pack (
      "{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:o, s:o, s:s, s:o, s:s, s:o, s:o, s:O}",
      "Hostname", spec->hostname ? spec->hostname : "", "Domainname",
      spec->domainname ? spec->domainname : "", "User", user ? user : "", "AttachStdin",
      o->interactive, "AttachStdout", true, "AttachStderr", true, "Tty", o->tty, "OpenStdin",
      o->interactive, "StdinOnce", o->interactive, "Env", strv_json (spec->env), "Cmd", cmd,
      "Image", o->image ? o->image : "", "Volumes",
      copy_or_null (cfg ? json_object_get (cfg, "Volumes") : NULL), "WorkingDir",
      spec->cwd ? spec->cwd : "", "Entrypoint", entry, "OnBuild", json_null (), "Labels", labels);
  const char *sig = cfg ? json_string_value (json_object_get (cfg, "StopSignal")) : NULL;
  if (sig)
    json_object_set_new (config, "StopSignal", json_string (sig));
  json_t *shell = cfg ? json_object_get (cfg, "Shell") : NULL; /* the image's SHELL */
  if (json_is_array (shell) && json_array_size (shell) > 0)
    json_object_set (config, "Shell", shell);
  json_t *hc = json_pack (
      "{s:o, s:s, s:{s:s, s:i}, s:b, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
      "Binds", strv_json (o->volumes), "NetworkMode", o->network ? o->network : "none",
      "RestartPolicy", "Name", "no", "MaximumRetryCount", 0, "AutoRemove", o->rm, "Privileged",
      o->privileged, "ReadonlyRootfs", o->read_only, "CapAdd", strv_json (o->cap_add), "CapDrop",
      strv_json (o->cap_drop), "SecurityOpt", strv_json (o->security_opts), "Tmpfs", tmpfs,
      "Mounts", strv_json (o->mounts), "VolumesFrom", strv_json (o->volumes_from), "PortBindings",
      json_object (), "Init", json_null (), "Ulimits", strv_json (o->ulimits));
  json_t *args = json_array ();
  for (size_t i = 1; spec->argv && spec->argv[0] && spec->argv[i]; i++)
    json_array_append_new (args, json_string (spec->argv[i]));
  json_t *extra
      = json_pack ("{s:O, s:s, s:o, s:o, s:o, s:O}", "Labels", labels, "Path",
                   spec->argv && spec->argv[0] ? spec->argv[0] : "", "Args", args, "Config", config,
                   "HostConfig", hc, "Mounts", mounts ? mounts : json_array ());
  if (mounts == NULL)
    json_decref (json_object_get (extra, "Mounts")); /* (packed with O: drop our own ref) */
  json_decref (labels);
  return extra;
}

static json_t *
obj_or_empty (json_t *cfg, const char *key, const char *type)
{
  json_t *v = json_object_get (cfg, key);
  if (v && !json_is_null (v))
    return json_deep_copy (v);
  return strcmp (type, "array") == 0 ? json_array () : json_object ();
}

json_t *
inspect_container_json (const struct ctr *c, const char *root)
{
  json_t *cfg = c->config, *st = c->state;
  cleanup_free char *created = ctr_time_rfc3339 (c->created);
  cleanup_free char *started = ctr_time_rfc3339 (c->started);
  cleanup_free char *finished = ctr_time_rfc3339 (c->finished);
  cleanup_free char *name = xasprintf ("/%s", c->name);
  const char *error = json_string_value (json_object_get (st, "Error"));
  bool dead = strcmp (c->status, "dead") == 0;
  json_t *state
      = json_pack ("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}", "Status", c->status,
                   "Running", c->running, "Paused", c->paused, "Restarting", c->restarting,
                   "OOMKilled", false, "Dead", dead, "Pid", (int)c->pid, "ExitCode", c->exit_code,
                   "Error", error ? error : "", "StartedAt", started, "FinishedAt", finished);
  if (c->health)
    json_object_set (state, "Health", c->health);
  /* what the supervisor records beyond these (SupervisorPid, ...) */
  const char *k;
  json_t *v;
  json_object_foreach (st, k,
                       v) if (strcmp (k, "RestartCount") != 0 && json_object_get (state, k) == NULL)
      json_object_set (state, k, v);
  /* records from before Config existed: what they have */
  json_t *config = obj_or_empty (cfg, "Config", "object");
  if (json_object_get (config, "Image") == NULL)
    json_object_set_new (config, "Image", json_string (c->image));
  if (json_object_get (config, "Cmd") == NULL)
    json_object_set (config, "Cmd", json_object_get (cfg, "Cmd"));
  if (json_object_get (config, "Labels") == NULL)
    json_object_set (config, "Labels", ctr_labels (c));
  json_t *hc = obj_or_empty (cfg, "HostConfig", "object");
  const char *driver = json_string_value (json_object_get (cfg, "StorageDriver"));
  cleanup_free char *dir = xasprintf ("%s/containers/%s", root, c->id);
  cleanup_free char *upper = xasprintf ("%s/upper", dir);
  cleanup_free char *work = xasprintf ("%s/work", dir);
  cleanup_free char *merged = xasprintf ("%s/merged", dir);
  json_t *path = json_object_get (cfg, "Path");
  json_t *args = json_object_get (cfg, "Args");
  json_t *cmdv = json_object_get (cfg, "Cmd");
  json_t *pathv = path                       ? json_incref (path)
                  : json_array_get (cmdv, 0) ? json_incref (json_array_get (cmdv, 0))
                                             : json_string ("");
  json_t *out = json_pack (
      "{s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, "
      "s:n, s:o, s:{s:{s:s, s:s, s:s}, s:s}, s:o, s:o, s:{s:s, s:s, s:o, s:o}}",
      "Id", c->id, "Created", created, "Path", pathv, "Args",
      args ? json_deep_copy (args) : json_array (), "State", state, "Image", c->image_id,
      "ResolvConfPath", "", "HostnamePath", "", "HostsPath", "", "LogPath",
      json_string_value (json_object_get (cfg, "LogPath"))
          ? json_string_value (json_object_get (cfg, "LogPath"))
          : "",
      "Name", name, "RestartCount", (int)json_integer_value (json_object_get (st, "RestartCount")),
      "Driver", driver ? driver : "", "Platform", "linux", "MountLabel", "", "ProcessLabel", "",
      "AppArmorProfile", "", "ExecIDs", "HostConfig", hc, "GraphDriver", "Data", "UpperDir", upper,
      "WorkDir", work, "MergedDir", merged, "Name", driver ? driver : "", "Mounts",
      obj_or_empty (cfg, "Mounts", "array"), "Config", config, "NetworkSettings", "Bridge", "",
      "SandboxID", "", "Ports", json_object (), "Networks", json_object ());
  /* its networks and ports (cmd/run_net.h) */
  json_t *net = run_net_inspect (root, c->id, cfg, c->running);
  json_object_update (json_object_get (out, "NetworkSettings"), net);
  json_decref (net);
  return out;
}

/* ---- images: Docker's image object (imagefmt_image_inspect_json) ---- */

static json_t *
image_inspect_json (struct imagefmt_store *s, const char *name, nook_error_t *err)
{
  struct imagefmt_image_info *info = NULL;
  if (imagefmt_image_info_get (s, name, &info, err) < 0)
    return NULL;
  json_t *out = imagefmt_image_inspect_json (info);
  imagefmt_image_info_free (info);
  return out;
}

/* ---- the verb ---- */

static void
inspect_usage (const char *verb, const char *only)
{
  if (only && strcmp (only, "image") == 0)
    {
      printf ("Usage:  nook %s [OPTIONS] IMAGE [IMAGE...]\n\n"
              "Display detailed information on one or more images\n\nOptions:\n"
              "  -f, --format string   Format output using a Go template, or 'json'\n",
              verb);
      return;
    }
  printf ("Usage:  nook %s [OPTIONS] NAME|ID [NAME|ID...]\n\n"
          "Return low-level information on containers%s\n\nOptions:\n"
          "  -f, --format string   Format output using a Go template, or 'json'\n"
          "  -s, --size            Display total file sizes (not computed by nook)\n"
          "%s",
          verb, only == NULL ? " and images" : "",
          only == NULL
              ? "      --type string     Only inspect objects of the given type (container, "
                "image)\n"
              : "");
}

static int
print_results (const char *format, json_t *results, nook_error_t *err)
{
  if (format == NULL || strcmp (format, "json") == 0 || *format == '\0')
    {
      char *s = json_dumps (results, JSON_INDENT (4) | JSON_ENCODE_ANY);
      if (s == NULL)
        return nook_error_set (err, 0, "cannot encode the result as JSON");
      printf ("%s\n", s);
      free (s);
      return 0;
    }
  return cli_format_print (format, results, NULL, err);
}

static int
inspect_main (struct nook_ctx *ctx, int argc, char **argv, const char *verb, const char *only,
              nook_error_t *err)
{
  const char *format = NULL, *type = only;
  int nargs = 0;
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if ((r = cmd_opt_value (argc, argv, &i, "-f", "--format", verb, &v, err)) != 0)
        {
          if (r < 0)
            return -1;
          format = v;
        }
      else if (only == NULL && (r = cmd_opt_value (argc, argv, &i, NULL, "--type", verb, &v, err)))
        {
          if (r < 0)
            return -1;
          if (strcmp (v, "container") != 0 && strcmp (v, "image") != 0)
            return cmd_flag_error (err, verb, "\"%s\" is not a valid value for --type", v);
          type = v;
        }
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          inspect_usage (verb, only);
          return 0;
        }
      else if ((only == NULL || strcmp (only, "image") != 0)
               && (strcmp (argv[i], "-s") == 0 || strcmp (argv[i], "--size") == 0))
        ;
      else if (argv[i][0] == '-' && argv[i][1])
        return cmd_flag_error (err, verb, "unknown flag: %s", argv[i]);
      else
        nargs++;
    }
  if (nargs == 0)
    return cmd_args_error (err, verb, "\"nook %s\" requires at least 1 argument.", verb);
  cleanup_free char *root = ctr_store_root (ctx->root, err);
  if (root == NULL)
    return -1;
  struct ctr_list l;
  if (ctr_list_load (root, &l, err) < 0)
    return -1;
  struct imagefmt_store *store = NULL;
  json_t *results = json_array ();
  int status = 0;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "-f") == 0 || strcmp (a, "--format") == 0 || strcmp (a, "--type") == 0)
        {
          i++;
          continue;
        }
      if (a[0] == '-' && a[1])
        continue;
      cleanup_error nook_error_t e = NULL;
      size_t at;
      json_t *obj = NULL;
      if (type == NULL || strcmp (type, "container") == 0)
        {
          if (ctr_find (&l, a, &at, &e) == 0)
            obj = inspect_container_json (&l.v[at], root);
          else if (e->code != ENOENT || type)
            {
              fprintf (stderr, "Error: %s\n", e->msg);
              status = 1;
              continue;
            }
        }
      if (obj == NULL)
        {
          nook_error_free (&e);
          if (store == NULL && imagefmt_store_open (root, &store, &e) < 0)
            store = NULL;
          obj = store ? image_inspect_json (store, a, &e) : NULL;
          if (obj == NULL)
            {
              if (type == NULL)
                fprintf (stderr, "Error: No such object: %s\n", a);
              else
                fprintf (stderr, "Error: No such image: %s\n", a);
              status = 1;
              continue;
            }
        }
      json_array_append_new (results, obj);
    }
  int r = 0;
  if (json_array_size (results) > 0 || format == NULL || strcmp (format, "json") == 0)
    r = print_results (format, results, err);
  json_decref (results);
  if (store)
    imagefmt_store_close (store);
  ctr_list_free (&l);
  return r < 0 ? -1 : status;
}

int
cmd_inspect (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return inspect_main (ctx, argc, argv, "inspect", NULL, err);
}

int
cmd_container_inspect (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return inspect_main (ctx, argc, argv, "container inspect", "container", err);
}

int
cmd_image_inspect (struct nook_ctx *ctx, int argc, char **argv, nook_error_t *err)
{
  return inspect_main (ctx, argc, argv, "image inspect", "image", err);
}
