/* cmd/spec_user.c: Docker user strings resolved against an image's /etc/passwd and /etc/group. */
#include "cmd/spec.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

/* Find the line of `db` (passwd or group format) whose field 0 is `name` or
 * field 2 is `id` (when name is NULL).  Returns the fields (strv) or NULL. */
static char **
db_find (const char *db, const char *name, const char *id)
{
  const char *cursor = db;
  for (char *next; (next = str_next_line (&cursor)) != NULL;)
    {
      cleanup_free char *line = next;
      if (line[0] == '#' || line[0] == '\0')
        continue;
      char **fields = NULL;
      char *cur = line;
      for (;;)
        {
          char *colon = strchr (cur, ':');
          if (colon)
            *colon = '\0';
          strv_push (&fields, cur);
          if (!colon)
            break;
          cur = colon + 1;
        }
      if (strv_len (fields) >= 3
          && ((name && strcmp (fields[0], name) == 0) || (id && strcmp (fields[2], id) == 0)))
        return fields;
      strv_free (fields);
    }
  return NULL;
}

static bool
all_digits (const char *s)
{
  return *s && strspn (s, "0123456789") == strlen (s);
}

static int
parse_id (const char *s, uint32_t *out, const char *what, nook_error_t *err)
{
  uint64_t v;
  if (parse_uint (s, UINT32_MAX - 1, &v, what, err) < 0)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

int
spec_resolve_user (const char *user, const char *passwd, const char *group, uid_t *uid, gid_t *gid,
                   gid_t **groups, size_t *n_groups, char **home, nook_error_t *err)
{
  cleanup_free char *copy = xstrdup (user && *user ? user : "0");
  char *colon = strchr (copy, ':');
  const char *grp = NULL;
  if (colon)
    {
      *colon = '\0';
      grp = colon + 1;
    }
  const char *usr = copy;
  *home = NULL;
  *groups = NULL;
  *n_groups = 0;
  *gid = 0;
  cleanup_strv char **pw
      = all_digits (usr) ? db_find (passwd, NULL, usr) : db_find (passwd, usr, NULL);
  if (all_digits (usr))
    {
      if (parse_id (usr, uid, "user id", err) < 0)
        return -1;
    }
  else if (pw == NULL)
    return nook_error_set (err, 0, "unable to find user %s: no matching entries in passwd file",
                           usr);
  else if (parse_id (pw[2], uid, "user id in /etc/passwd", err) < 0)
    return -1;
  if (pw && strv_len (pw) >= 4 && parse_id (pw[3], gid, "group id in /etc/passwd", err) < 0)
    return -1;
  if (pw && strv_len (pw) >= 6)
    *home = xstrdup (pw[5]);
  if (grp && *grp)
    {
      if (all_digits (grp))
        {
          if (parse_id (grp, gid, "group id", err) < 0)
            return -1;
        }
      else
        {
          cleanup_strv char **gr = db_find (group, grp, NULL);
          if (gr == NULL)
            return nook_error_set (
                err, 0, "unable to find group %s: no matching entries in group file", grp);
          if (parse_id (gr[2], gid, "group id in /etc/group", err) < 0)
            return -1;
        }
      return 0;
    }
  /* Supplementary groups: every group that lists the user by name. */
  if (pw == NULL)
    return 0;
  const char *cursor = group;
  for (char *next; (next = str_next_line (&cursor)) != NULL;)
    {
      cleanup_free char *line = next;
      char *f[4] = { 0 };
      char *cur = line;
      for (int k = 0; k < 4 && cur; k++)
        {
          f[k] = cur;
          char *c = strchr (cur, ':');
          if (c)
            *c = '\0';
          cur = c ? c + 1 : NULL;
        }
      if (f[3] == NULL || !all_digits (f[2]))
        continue;
      char *save = NULL;
      for (char *m = strtok_r (f[3], ",", &save); m; m = strtok_r (NULL, ",", &save))
        if (strcmp (m, pw[0]) == 0)
          {
            uint32_t g;
            if (parse_id (f[2], &g, "group id", err) < 0)
              return -1;
            *groups = xreallocarray (*groups, *n_groups + 1, sizeof **groups);
            (*groups)[(*n_groups)++] = g;
          }
    }
  return 0;
}

int
spec_group_add (char **names, const char *group, gid_t **groups, size_t *n_groups,
                nook_error_t *err)
{
  for (char **n = names; n && *n; n++)
    {
      uint32_t g;
      if (all_digits (*n))
        {
          if (parse_id (*n, &g, "--group-add group id", err) < 0)
            return -1;
        }
      else
        {
          cleanup_strv char **gr = db_find (group, *n, NULL);
          if (gr == NULL)
            return nook_error_set (
                err, 0,
                "--group-add %s: unable to find group %s: no matching entries in group file", *n,
                *n);
          if (parse_id (gr[2], &g, "group id in /etc/group", err) < 0)
            return -1;
        }
      bool have = false;
      for (size_t i = 0; i < *n_groups; i++)
        have = have || (*groups)[i] == g;
      if (!have)
        {
          *groups = xreallocarray (*groups, *n_groups + 1, sizeof **groups);
          (*groups)[(*n_groups)++] = g;
        }
    }
  return 0;
}
