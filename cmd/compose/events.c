/* cmd/compose/events.c: see events.h. */
#include "cmd/cli.h"
#include "cmd/compose/events.h"
#include "cmd/events.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cev
{
  const char *project;
  char **services; /* NULL: all */
  bool json;
};

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* Compose's text: "2006-01-02 15:04:05.000000 container ACTION ID (k=v, ...)", its JSON:
 * {"action","attributes","id","service","time","type"}; the com.docker.compose.* labels are
 * not among the attributes. */
static bool
print_cev (json_t *ev, void *data)
{
  struct cev *c = data;
  json_t *actor = json_object_get (ev, "Actor");
  json_t *attrs = json_object_get (actor, "Attributes");
  const char *type = json_string_value (json_object_get (ev, "Type"));
  const char *pj = json_string_value (json_object_get (attrs, "com.docker.compose.project"));
  const char *svc = json_string_value (json_object_get (attrs, "com.docker.compose.service"));
  if (!type || strcmp (type, "container") != 0 || !pj || strcmp (pj, c->project) != 0 || !svc)
    return true;
  if (c->services && !strv_contains (c->services, svc))
    return true;
  json_t *shown = json_object ();
  const char *k;
  json_t *v;
  json_object_foreach (attrs, k, v) if (!str_has_prefix (k, "com.docker.compose."))
      json_object_set (shown, k, v);
  int64_t ns = json_integer_value (json_object_get (ev, "timeNano"));
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  localtime_r (&t, &tm);
  char date[32];
  strftime (date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  const char *id = json_string_value (json_object_get (actor, "ID"));
  const char *action = json_string_value (json_object_get (ev, "Action"));
  if (c->json)
    {
      /* Go's time as JSON: RFC 3339 with the nanoseconds' significant digits */
      char zone[16], when[96], frac[16];
      long off = tm.tm_gmtoff;
      if (off == 0)
        snprintf (zone, sizeof zone, "Z");
      else
        snprintf (zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs (off) / 3600 % 100,
                  (labs (off) % 3600) / 60);
      snprintf (frac, sizeof frac, ".%09lld", (long long)(ns % 1000000000));
      size_t fl = strlen (frac);
      while (fl > 1 && frac[fl - 1] == '0')
        frac[--fl] = '\0';
      if (fl == 1)
        frac[0] = '\0';
      strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
      snprintf (when, sizeof when, "%s%s%s", date, frac, zone);
      json_t *o = json_pack ("{s:s, s:O, s:s, s:s, s:s, s:s}", "action", action ? action : "",
                             "attributes", shown, "id", id ? id : "", "service", svc, "time", when,
                             "type", "container");
      cleanup_free char *s = o ? json_dumps (o, JSON_COMPACT) : NULL;
      json_decref (o);
      printf ("%s\n", s ? s : "{}");
    }
  else
    {
      printf ("%s.%06lld container %s %s (", date, (long long)(ns % 1000000000 / 1000),
              action ? action : "", id ? id : "");
      cleanup_strv char **keys = NULL;
      json_object_foreach (shown, k, v) strv_push (&keys, k);
      if (keys)
        qsort (keys, strv_len (keys), sizeof *keys, cmp_str);
      for (size_t i = 0; keys && keys[i]; i++)
        printf ("%s%s=%s", i ? ", " : "", keys[i],
                json_string_value (json_object_get (shown, keys[i])));
      printf (")\n");
    }
  json_decref (shown);
  fflush (stdout);
  return true;
}

int
compose_events (const char *root, const char *project, struct compose_model *m, int argc,
                char **argv, nook_error_t *err)
{
  struct cev c = { .project = project };
  cleanup_strv char **services = NULL;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--json") == 0)
      c.json = true;
    else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
      {
        printf ("Usage:  nook compose events [OPTIONS] [SERVICE...]\n\n"
                "Receive real time events from containers\n\n"
                "Options:\n"
                "      --json   Output events as a stream of json objects\n");
        return 0;
      }
    else if (argv[i][0] == '-')
      return cmd_flag_error (err, "compose events", "unknown flag: %s", argv[i]);
    else if (compose_model_service (m, argv[i]) == NULL)
      return nook_error_set (err, 0, "no such service: %s", argv[i]);
    else
      strv_push (&services, argv[i]);
  c.services = services;
  return events_stream (root, INT64_MIN, INT64_MAX, print_cev, &c, err);
}
