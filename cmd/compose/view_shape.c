/* cmd/compose/view_shape.c: see view_shape.h. */
#include "cmd/compose/view_shape.h"
#include "cmd/format.h"
#include "cmd/labels.h"
#include "cmd/records.h"
#include "net/ports.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *
compose_label (const struct ctr *c, const char *key)
{
  const char *v = json_string_value (json_object_get (ctr_labels (c), key));
  return v ? v : "";
}

char *
compose_go_quote (const char *s)
{
  json_t *j = json_string (s);
  char *q = j ? json_dumps (j, JSON_ENCODE_ANY) : NULL;
  json_decref (j);
  return q ? q : xstrdup ("\"\"");
}

/* Docker's formatter.Ellipsis: at most n code points, the last one "…" when cut. */
static char *
ellipsis (const char *s, size_t n)
{
  size_t cps = 0, i = 0, cut = 0;
  for (; s[i]; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      {
        if (cps == n - 1)
          cut = i;
        cps++;
      }
  if (cps <= n)
    return xstrdup (s);
  return xasprintf ("%.*s…", (int)cut, s);
}

static int
cmp_port (const void *a, const void *b)
{
  const struct net_port *x = a, *y = b;
  return (int)x->container_port - (int)y->container_port;
}

json_t *
compose_ps_row (const struct ctr *c, char *const *networks, int64_t now, bool trunc)
{
  cleanup_free char *id = trunc ? xstrndup (c->id, 12) : xstrdup (c->id);
  cleanup_free char *cmd0 = trunc ? ellipsis (c->command ? c->command : "", 20)
                                  : xstrdup (c->command ? c->command : "");
  cleanup_free char *cmd = compose_go_quote (cmd0);
  time_t t = (time_t)c->created;
  struct tm tm;
  localtime_r (&t, &tm);
  char created[64];
  strftime (created, sizeof created, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  cleanup_free char *since = cmd_human_since (c->created, now);
  cleanup_free char *status = ctr_status_text (c, now);
  cleanup_free char *labels = cmd_labels_text (ctr_labels (c));
  /* mounts: volume names, else sources; LocalVolumes: those of the local driver */
  struct strbuf mb = { 0 };
  size_t i, nlocal = 0;
  json_t *m;
  json_array_foreach (json_object_get (c->config, "Mounts"), i, m)
  {
    const char *n = json_string_value (json_object_get (m, "Name"));
    const char *src = json_string_value (json_object_get (m, "Source"));
    const char *drv = json_string_value (json_object_get (m, "Driver"));
    nlocal += drv && strcmp (drv, "local") == 0;
    cleanup_free char *name = trunc ? ellipsis (n && *n ? n
                                                : src   ? src
                                                        : "",
                                                15)
                                    : xstrdup (n && *n ? n
                                               : src   ? src
                                                       : "");
    strbuf_appendf (&mb, "%s%s", mb.len ? "," : "", name);
  }
  cleanup_free char *mounts = mb.len ? strbuf_steal (&mb) : xstrdup ("");
  struct strbuf nb = { 0 };
  for (char *const *n = networks; n && *n; n++)
    strbuf_appendf (&nb, "%s%s", nb.len ? "," : "", *n);
  cleanup_free char *nets = nb.len ? strbuf_steal (&nb) : xstrdup ("");
  /* published ports of a running container (Docker lists no others), by target port */
  size_t np = 0;
  cleanup_free struct net_port *ports = c->running ? container_ports (c->config, &np) : NULL;
  if (np > 1)
    qsort (ports, np, sizeof *ports, cmp_port);
  cleanup_free char *ports_text = net_ports_format (ports, np);
  json_t *pubs = json_array ();
  for (i = 0; i < np; i++)
    json_array_append_new (pubs, json_pack ("{s:s, s:i, s:i, s:s}", "URL",
                                            *ports[i].host_ip ? ports[i].host_ip : "0.0.0.0",
                                            "TargetPort", (int)ports[i].container_port,
                                            "PublishedPort", (int)ports[i].host_port, "Protocol",
                                            net_port_proto_name (ports[i].proto)));
  bool ended = strcmp (c->status, "exited") == 0 || strcmp (c->status, "dead") == 0;
  const char *health = c->running && c->health_status && strcmp (c->health_status, "none") != 0
                           ? c->health_status
                           : "";
  cleanup_free char *nvol = xasprintf ("%zu", nlocal);
  return json_pack (
      "{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, "
      "s:s, s:s, s:s, s:s, s:s}",
      "Command", cmd, "CreatedAt", created, "ExitCode", ended ? c->exit_code : 0, "Health", health,
      "ID", id, "Image", c->image ? c->image : "", "Labels", labels, "LocalVolumes", nvol, "Mounts",
      mounts, "Name", c->name, "Names", c->name, "Networks", nets, "Ports", ports_text, "Project",
      compose_label (c, CL_PROJECT), "Publishers", pubs, "RunningFor", since, "Service",
      compose_label (c, CL_SERVICE), "Size", "0B", "State", c->status, "Status", status);
}

json_t *
compose_ps_headers (void)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                    "s:s, s:s, s:s}",
                    "ID", "CONTAINER ID", "Name", "NAME", "Names", "NAMES", "Project", "PROJECT",
                    "Service", "SERVICE", "Image", "IMAGE", "Command", "COMMAND", "CreatedAt",
                    "CREATED AT", "RunningFor", "CREATED", "Ports", "PORTS", "State", "STATE",
                    "Status", "STATUS", "Size", "SIZE", "Labels", "LABELS", "Mounts", "MOUNTS",
                    "LocalVolumes", "LOCAL VOLUMES", "Networks", "NETWORKS", "Health", "HEALTH");
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

char *
compose_combined_status (char *const *states)
{
  size_t n = strv_len (states);
  char **v = xzalloc (sizeof *v * (n + 1));
  for (size_t i = 0; i < n; i++)
    v[i] = states[i];
  qsort (v, n, sizeof *v, cmp_str);
  struct strbuf b = { 0 };
  for (size_t i = 0; i < n;)
    {
      size_t j = i;
      while (j < n && strcmp (v[j], v[i]) == 0)
        j++;
      strbuf_appendf (&b, "%s%s(%zu)", b.len ? ", " : "", v[i], j - i);
      i = j;
    }
  free (v);
  return b.len ? strbuf_steal (&b) : xstrdup ("");
}

char *
compose_short_name (const char *project, const char *service, const char *number, const char *name)
{
  cleanup_free char *def = xasprintf ("%s-%s-%s", project, service, number);
  if (strcmp (def, name) == 0)
    return xstrdup (name + strlen (project) + 1);
  return xstrdup (name);
}

size_t
compose_log_width (char *const *names)
{
  size_t w = 0;
  for (char *const *n = names; n && *n; n++)
    if (strlen (*n) > w)
      w = strlen (*n);
  return w + 1;
}

/* Compose's rainbow: cyan, yellow, green, magenta, blue, then the intense ones. */
static const char *const rainbow[]
    = { "36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1" };

const char *
compose_log_color (int color)
{
  return rainbow[color % (int)ARRAY_SIZE (rainbow)];
}

char *
compose_log_prefix (const char *name, size_t width, int color)
{
  if (color < 0)
    return xasprintf ("%-*s | ", (int)width, name);
  return xasprintf ("\033[%sm%-*s | \033[0m", compose_log_color (color), (int)width, name);
}
