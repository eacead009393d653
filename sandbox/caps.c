/* sandbox/caps.c: see caps.h. */
#include "sandbox/caps.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/util.h"

static void
cap_freep (cap_t *c)
{
  if (*c)
    cap_free (*c);
}
#define cleanup_cap __attribute__ ((cleanup (cap_freep)))

static const int default_caps[] = {
  CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
  CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
  CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
  CAP_KILL,    CAP_AUDIT_WRITE,
};

uint64_t
sandbox_caps_default (void)
{
  uint64_t set = 0;
  for (size_t i = 0; i < ARRAY_SIZE (default_caps); i++)
    set |= SANDBOX_CAP_BIT (default_caps[i]);
  return set;
}

int
sandbox_caps_last (void)
{
  /* The kernel's answer does not change: read it once (the parent's reading
   * is inherited by the container's processes). */
  static int cached = -1;
  if (cached >= 0)
    return cached;
  /* libcap found it already when it loaded (PR_CAPBSET_READ probes); the
   * kernel's file is the fallback. */
  char buf[32];
  int last = (int)cap_max_bits () - 1;
  int fd
      = last >= 0 && last < 64 ? -1 : open ("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      ssize_t n = read (fd, buf, sizeof buf - 1);
      close (fd);
      if (n > 0)
        {
          buf[n] = '\0';
          char *end = NULL;
          long v = strtol (buf, &end, 10);
          if (end != buf && v >= 0 && v < 64)
            last = (int)v;
        }
    }
  if (last < 0 || last > 63)
    last = CAP_LAST_CAP;
  cached = last;
  return last;
}

uint64_t
sandbox_caps_all (void)
{
  int last = sandbox_caps_last ();
  return last >= 63 ? UINT64_MAX : SANDBOX_CAP_BIT (last + 1) - 1;
}

int
sandbox_caps_from_name (const char *name, int *cap, nook_error_t *err)
{
  if (name == NULL)
    return nook_error_set (err, 0, "unknown capability '(null)'");
  const char *base = name;
  if (strncasecmp (base, "CAP_", 4) == 0)
    base += 4;
  /* libcap also accepts numbers; a capability name here is letters and '_' only. */
  size_t n = strlen (base);
  if (n == 0 || n > 64)
    return nook_error_set (err, 0, "unknown capability '%s'", name);
  char lower[80] = "cap_";
  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char)base[i];
      if (!isalpha (c) && c != '_')
        return nook_error_set (err, 0, "unknown capability '%s'", name);
      lower[4 + i] = (char)tolower (c);
    }
  lower[4 + n] = '\0';
  cap_value_t v;
  if (cap_from_name (lower, &v) < 0 || v < 0 || v > 63)
    return nook_error_set (err, 0, "unknown capability '%s'", name);
  *cap = (int)v;
  return 0;
}

static bool
is_all (const char *s)
{
  return s != NULL && strcasecmp (s, "ALL") == 0;
}

/* Parse a --cap-add/--cap-drop list into a mask; *has_all tells whether "ALL" was in it. */
static int
parse_list (char *const *list, uint64_t *mask, bool *has_all, nook_error_t *err)
{
  *mask = 0;
  *has_all = false;
  uint64_t known = sandbox_caps_all ();
  for (size_t i = 0; list && list[i]; i++)
    {
      int cap = 0;
      if (is_all (list[i]))
        {
          *has_all = true;
          continue;
        }
      if (sandbox_caps_from_name (list[i], &cap, err) < 0)
        return -1;
      if (!(known & SANDBOX_CAP_BIT (cap)))
        return nook_error_set (err, 0, "capability '%s' is not supported by the running kernel",
                               list[i]);
      *mask |= SANDBOX_CAP_BIT (cap);
    }
  return 0;
}

int
sandbox_caps_adjust (uint64_t *set, char *const *add, char *const *drop, nook_error_t *err)
{
  uint64_t add_mask, drop_mask;
  bool add_all, drop_all;
  if (parse_list (add, &add_mask, &add_all, err) < 0
      || parse_list (drop, &drop_mask, &drop_all, err) < 0)
    return -1;
  /* moby oci/caps TweakCapabilities: ALL in add wins, then ALL in drop. */
  if (add_all)
    *set = sandbox_caps_all () & ~drop_mask;
  else if (drop_all)
    *set = add_mask;
  else
    *set = (*set & ~drop_mask) | add_mask;
  return 0;
}

char *
sandbox_caps_format (uint64_t set)
{
  struct strbuf b = { 0 };
  strbuf_append (&b, "");
  for (int cap = 0; cap < 64; cap++)
    {
      if (!(set & SANDBOX_CAP_BIT (cap)))
        continue;
      char *name = cap_to_name ((cap_value_t)cap);
      if (b.len > 0)
        strbuf_appendc (&b, ',');
      if (name == NULL || isdigit ((unsigned char)name[0]))
        strbuf_appendf (&b, "CAP_%d", cap);
      else
        for (const char *p = name; *p; p++)
          strbuf_appendc (&b, (char)toupper ((unsigned char)*p));
      if (name)
        cap_free (name);
    }
  return strbuf_steal (&b);
}

/* Make effective = permitted, so CAP_SETPCAP (needed to shrink the bounding set) is usable. */
static int
raise_effective (nook_error_t *err)
{
  cleanup_cap cap_t c = cap_get_proc ();
  if (c == NULL)
    return nook_error_set (err, errno, "read process capabilities");
  int last = sandbox_caps_last ();
  for (int cap = 0; cap <= last; cap++)
    {
      cap_flag_value_t v = CAP_CLEAR;
      cap_value_t cv = cap;
      if (cap_get_flag (c, cv, CAP_PERMITTED, &v) == 0 && v == CAP_SET
          && cap_set_flag (c, CAP_EFFECTIVE, 1, &cv, CAP_SET) < 0)
        return nook_error_set (err, errno, "raise effective capability %d", cap);
    }
  if (cap_set_proc (c) < 0)
    return nook_error_set (err, errno, "raise effective capabilities");
  return 0;
}

static int
drop_bounding (uint64_t set, nook_error_t *err)
{
  int last = sandbox_caps_last ();
  for (int cap = 0; cap <= last; cap++)
    {
      if (set & SANDBOX_CAP_BIT (cap))
        continue;
      /* (dropping one that is not there succeeds: no PR_CAPBSET_READ first) */
      if (prctl (PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0 && errno != EINVAL)
        return nook_error_set (err, errno, "drop capability %d from the bounding set", cap);
    }
  return 0;
}

static int
set_final (uint64_t set, bool as_root, nook_error_t *err)
{
  cleanup_cap cap_t c = cap_init (); /* every flag clear: inheritable stays empty */
  if (c == NULL)
    return nook_error_set (err, errno, "allocate capability state");
  if (as_root)
    {
      int last = sandbox_caps_last ();
      for (int cap = 0; cap <= last; cap++)
        {
          cap_value_t cv = cap;
          if ((set & SANDBOX_CAP_BIT (cap))
              && (cap_set_flag (c, CAP_PERMITTED, 1, &cv, CAP_SET) < 0
                  || cap_set_flag (c, CAP_EFFECTIVE, 1, &cv, CAP_SET) < 0))
            return nook_error_set (err, errno, "set capability %d", cap);
        }
    }
  if (cap_set_proc (c) < 0)
    {
      char *want = sandbox_caps_format (as_root ? set : 0);
      nook_error_set (err, errno, "set capabilities to '%s'", want);
      free (want);
      return -1;
    }
  return 0;
}

int
sandbox_caps_apply (uint64_t set, bool as_root, nook_error_t *err)
{
  if (raise_effective (err) < 0 || drop_bounding (set, err) < 0)
    return -1;
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return nook_error_set (err, errno, "clear ambient capabilities");
  return set_final (set, as_root, err);
}
