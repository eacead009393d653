/* cmd/format.c: see format.h. */
#include "cmd/format.h"
#include "util/util.h"

#include <stdlib.h>

char *
cmd_human_duration (int64_t secs)
{
  if (secs < 1)
    return xstrdup ("Less than a second");
  if (secs == 1)
    return xstrdup ("1 second");
  if (secs < 60)
    return xasprintf ("%lld seconds", (long long)secs);
  int64_t mins = secs / 60;
  if (mins == 1)
    return xstrdup ("About a minute");
  if (mins < 60)
    return xasprintf ("%lld minutes", (long long)mins);
  int64_t hours = (secs + 1800) / 3600;
  if (hours == 1)
    return xstrdup ("About an hour");
  if (hours < 48)
    return xasprintf ("%lld hours", (long long)hours);
  if (hours < 24 * 7 * 2)
    return xasprintf ("%lld days", (long long)(hours / 24));
  if (hours < 24 * 30 * 2)
    return xasprintf ("%lld weeks", (long long)(hours / 24 / 7));
  if (hours < 24 * 365 * 2)
    return xasprintf ("%lld months", (long long)(hours / 24 / 30));
  return xasprintf ("%lld years", (long long)(secs / 3600 / 24 / 365));
}

char *
cmd_human_since (int64_t then, int64_t now)
{
  char *d = cmd_human_duration (now - then);
  char *r = xasprintf ("%s ago", d);
  free (d);
  return r;
}

char *
cmd_human_created (int64_t then, int64_t now)
{
  if (then == 0)
    return xstrdup ("reproducible (1970-01-01)");
  return cmd_human_since (then, now);
}

char *
cmd_human_size (uint64_t size)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
  double v = (double)size;
  size_t i = 0;
  while (v >= 1000.0 && i + 1 < sizeof units / sizeof units[0])
    {
      v /= 1000.0;
      i++;
    }
  return xasprintf ("%.3g%s", v, units[i]);
}
