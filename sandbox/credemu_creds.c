/* sandbox/credemu_creds.c: see credemu_creds.h. */
#include "sandbox/credemu_creds.h"
#include "util/util.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>

#define UNCHANGED ((uid_t)-1)

static bool
has_cap (const struct credemu_creds *c, int cap, uid_t as)
{
  return as == 0 && (c->caps & (UINT64_C (1) << cap)) != 0;
}

static int
cmp_gid (const void *a, const void *b)
{
  gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
  return x < y ? -1 : x > y;
}

void
credemu_creds_init (struct credemu_creds *c, const gid_t *groups, size_t n, uint64_t caps)
{
  memset (c, 0, sizeof *c);
  c->caps = caps;
  c->groups = n ? xmalloc (n * sizeof *groups) : NULL;
  if (n)
    memcpy (c->groups, groups, n * sizeof *groups);
  c->n_groups = n;
  if (n > 1) /* qsort's array may not be NULL, even empty (UBSan) */
    qsort (c->groups, n, sizeof *c->groups, cmp_gid);
}

void
credemu_creds_copy (struct credemu_creds *dst, const struct credemu_creds *src)
{
  *dst = *src;
  dst->groups = NULL;
  if (src->n_groups)
    {
      dst->groups = xmalloc (src->n_groups * sizeof *src->groups);
      memcpy (dst->groups, src->groups, src->n_groups * sizeof *src->groups);
    }
}

void
credemu_creds_free (struct credemu_creds *c)
{
  free (c->groups);
  c->groups = NULL;
  c->n_groups = 0;
}

/* ---- uids (kernel/sys.c) ---- */

static bool
uid_is_one_of (uid_t id, uid_t a, uid_t b, uid_t c)
{
  return id == a || id == b || id == c;
}

int
credemu_setuid (struct credemu_creds *c, uid_t uid)
{
  if (uid == UNCHANGED)
    return -EINVAL;
  if (has_cap (c, CAP_SETUID, c->euid))
    c->ruid = c->suid = uid;
  else if (uid != c->ruid && uid != c->suid)
    return -EPERM;
  c->euid = c->fsuid = uid;
  return 0;
}

int
credemu_setreuid (struct credemu_creds *c, uid_t ruid, uid_t euid)
{
  bool priv = has_cap (c, CAP_SETUID, c->euid);
  uid_t old_ruid = c->ruid;
  struct credemu_creds n = *c;
  if (ruid != UNCHANGED)
    {
      if (ruid != c->ruid && ruid != c->euid && !priv)
        return -EPERM;
      n.ruid = ruid;
    }
  if (euid != UNCHANGED)
    {
      if (!uid_is_one_of (euid, c->ruid, c->euid, c->suid) && !priv)
        return -EPERM;
      n.euid = euid;
    }
  if (ruid != UNCHANGED || (euid != UNCHANGED && euid != old_ruid))
    n.suid = n.euid;
  n.fsuid = n.euid;
  *c = n;
  return 0;
}

int
credemu_setresuid (struct credemu_creds *c, uid_t ruid, uid_t euid, uid_t suid)
{
  bool priv = has_cap (c, CAP_SETUID, c->euid);
  uid_t ids[3] = { ruid, euid, suid }, cur[3] = { c->ruid, c->euid, c->suid };
  for (int i = 0; i < 3 && !priv; i++)
    if (ids[i] != UNCHANGED && ids[i] != cur[i]
        && !uid_is_one_of (ids[i], c->ruid, c->euid, c->suid))
      return -EPERM;
  if (ruid != UNCHANGED)
    c->ruid = ruid;
  if (euid != UNCHANGED)
    c->euid = euid;
  if (suid != UNCHANGED)
    c->suid = suid;
  c->fsuid = c->euid;
  return 0;
}

uid_t
credemu_setfsuid (struct credemu_creds *c, uid_t uid)
{
  uid_t old = c->fsuid;
  if (uid == UNCHANGED)
    return old;
  if (uid_is_one_of (uid, c->ruid, c->euid, c->suid) || uid == c->fsuid
      || has_cap (c, CAP_SETUID, c->euid))
    c->fsuid = uid;
  return old;
}

/* ---- gids: the same rules with CAP_SETGID (still decided by the euid) ---- */

int
credemu_setgid (struct credemu_creds *c, gid_t gid)
{
  if (gid == (gid_t)-1)
    return -EINVAL;
  if (has_cap (c, CAP_SETGID, c->euid))
    c->rgid = c->sgid = gid;
  else if (gid != c->rgid && gid != c->sgid)
    return -EPERM;
  c->egid = c->fsgid = gid;
  return 0;
}

int
credemu_setregid (struct credemu_creds *c, gid_t rgid, gid_t egid)
{
  bool priv = has_cap (c, CAP_SETGID, c->euid);
  gid_t old_rgid = c->rgid;
  struct credemu_creds n = *c;
  if (rgid != (gid_t)-1)
    {
      if (rgid != c->rgid && rgid != c->egid && !priv)
        return -EPERM;
      n.rgid = rgid;
    }
  if (egid != (gid_t)-1)
    {
      if (!uid_is_one_of (egid, c->rgid, c->egid, c->sgid) && !priv)
        return -EPERM;
      n.egid = egid;
    }
  if (rgid != (gid_t)-1 || (egid != (gid_t)-1 && egid != old_rgid))
    n.sgid = n.egid;
  n.fsgid = n.egid;
  *c = n;
  return 0;
}

int
credemu_setresgid (struct credemu_creds *c, gid_t rgid, gid_t egid, gid_t sgid)
{
  bool priv = has_cap (c, CAP_SETGID, c->euid);
  gid_t ids[3] = { rgid, egid, sgid }, cur[3] = { c->rgid, c->egid, c->sgid };
  for (int i = 0; i < 3 && !priv; i++)
    if (ids[i] != (gid_t)-1 && ids[i] != cur[i]
        && !uid_is_one_of (ids[i], c->rgid, c->egid, c->sgid))
      return -EPERM;
  if (rgid != (gid_t)-1)
    c->rgid = rgid;
  if (egid != (gid_t)-1)
    c->egid = egid;
  if (sgid != (gid_t)-1)
    c->sgid = sgid;
  c->fsgid = c->egid;
  return 0;
}

gid_t
credemu_setfsgid (struct credemu_creds *c, gid_t gid)
{
  gid_t old = c->fsgid;
  if (gid == (gid_t)-1)
    return old;
  if (uid_is_one_of (gid, c->rgid, c->egid, c->sgid) || gid == c->fsgid
      || has_cap (c, CAP_SETGID, c->euid))
    c->fsgid = gid;
  return old;
}

int
credemu_setgroups (struct credemu_creds *c, const gid_t *groups, size_t n)
{
  if (n > CREDEMU_NGROUPS_MAX)
    return -EINVAL;
  if (!has_cap (c, CAP_SETGID, c->euid))
    return -EPERM;
  gid_t *g = NULL;
  if (n)
    {
      g = xmalloc (n * sizeof *g);
      memcpy (g, groups, n * sizeof *g);
      qsort (g, n, sizeof *g, cmp_gid);
    }
  free (c->groups);
  c->groups = g;
  c->n_groups = n;
  return 0;
}

bool
credemu_in_group (const struct credemu_creds *c, gid_t gid)
{
  if (gid == c->fsgid)
    return true;
  for (size_t i = 0; i < c->n_groups; i++)
    if (c->groups[i] == gid)
      return true;
  return false;
}

bool
credemu_chown_ok (const struct credemu_creds *c, uid_t cur_uid, gid_t cur_gid, uid_t uid, gid_t gid)
{
  if (has_cap (c, CAP_CHOWN, c->fsuid))
    return true;
  /* fs/attr.c: chown_ok, chgrp_ok */
  if (uid != UNCHANGED && !(c->fsuid == cur_uid && uid == cur_uid))
    return false;
  if (gid != (gid_t)-1 && !(c->fsuid == cur_uid && (credemu_in_group (c, gid) || gid == cur_gid)))
    return false;
  return true;
}
