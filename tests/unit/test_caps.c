/* tests/unit/test_caps.c: sandbox/caps (names, Docker's default set, --cap-add/--cap-drop,
 * formatting; sandbox_caps_apply in a forked child inside its own user namespace). */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/caps.h"
#include "util/cleanup.h"
#include "util/util.h"

static void
test_from_name_forms (void **state)
{
  static const char *const forms[]
      = { "NET_ADMIN", "CAP_NET_ADMIN", "net_admin", "cap_net_admin", "Cap_Net_Admin" };
  for (size_t i = 0; i < ARRAY_SIZE (forms); i++)
    {
      cleanup_error nook_error_t err = NULL;
      int cap = -1;
      assert_int_equal (sandbox_caps_from_name (forms[i], &cap, &err), 0);
      assert_null (err);
      assert_int_equal (cap, CAP_NET_ADMIN);
    }
  cleanup_error nook_error_t err = NULL;
  int cap = -1;
  assert_int_equal (sandbox_caps_from_name ("chown", &cap, &err), 0);
  assert_int_equal (cap, CAP_CHOWN);
  assert_int_equal (sandbox_caps_from_name ("CAP_CHECKPOINT_RESTORE", &cap, &err), 0);
  assert_int_equal (cap, CAP_CHECKPOINT_RESTORE);
}

static void
test_from_name_unknown (void **state)
{
  static const char *const bad[]
      = { "FOO", "CAP_FOO", "", "CAP_", "12", "ALL", "net admin", "NET_ADMIN ", "CAP_CAP_CHOWN" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      cleanup_error nook_error_t err = NULL;
      cleanup_free char *want = xasprintf ("unknown capability '%s'", bad[i]);
      int cap = -7;
      assert_int_equal (sandbox_caps_from_name (bad[i], &cap, &err), -1);
      assert_non_null (err);
      assert_int_equal (err->code, 0); /* the message says it all: no errno text */
      assert_string_equal (err->msg, want);
      assert_int_equal (cap, -7);
    }
}

static void
test_default_is_dockers_14 (void **state)
{
  static const int want[] = { CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
                              CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
                              CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
                              CAP_KILL,    CAP_AUDIT_WRITE };
  uint64_t set = 0;
  for (size_t i = 0; i < ARRAY_SIZE (want); i++)
    set |= SANDBOX_CAP_BIT (want[i]);
  assert_int_equal (__builtin_popcountll (set), 14);
  assert_true (sandbox_caps_default () == set);
}

static void
test_all_matches_kernel (void **state)
{
  FILE *f = fopen ("/proc/sys/kernel/cap_last_cap", "re");
  int last = -1;
  assert_non_null (f);
  assert_int_equal (fscanf (f, "%d", &last), 1);
  fclose (f);
  assert_int_equal (sandbox_caps_last (), last);
  assert_int_equal (__builtin_popcountll (sandbox_caps_all ()), last + 1);
  assert_true (sandbox_caps_all () & SANDBOX_CAP_BIT (last));
  assert_true ((sandbox_caps_default () & ~sandbox_caps_all ()) == 0);
}

static void
test_adjust (void **state)
{
  cleanup_error nook_error_t err = NULL;
  const uint64_t def = sandbox_caps_default (), all = sandbox_caps_all ();
  char *add_admin[] = { "NET_ADMIN", NULL }, *drop_chown[] = { "cap_chown", NULL };
  char *all_l[] = { "ALL", NULL }, *all_lower[] = { "all", NULL }, *chown_l[] = { "CHOWN", NULL };
  char *admin_l[] = { "CAP_NET_ADMIN", NULL };
  uint64_t set = def;

  assert_int_equal (sandbox_caps_adjust (&set, NULL, NULL, &err), 0);
  assert_true (set == def);
  assert_int_equal (sandbox_caps_adjust (&set, add_admin, drop_chown, &err), 0);
  assert_true (set == ((def | SANDBOX_CAP_BIT (CAP_NET_ADMIN)) & ~SANDBOX_CAP_BIT (CAP_CHOWN)));

  /* drop ALL then add X: only X. */
  set = def;
  assert_int_equal (sandbox_caps_adjust (&set, chown_l, all_l, &err), 0);
  assert_true (set == SANDBOX_CAP_BIT (CAP_CHOWN));
  set = def;
  assert_int_equal (sandbox_caps_adjust (&set, NULL, all_lower, &err), 0);
  assert_true (set == 0);

  /* add ALL then drop X: everything but X. */
  set = def;
  assert_int_equal (sandbox_caps_adjust (&set, all_l, admin_l, &err), 0);
  assert_true (set == (all & ~SANDBOX_CAP_BIT (CAP_NET_ADMIN)));
  /* add ALL wins over drop ALL (moby TweakCapabilities). */
  set = 0;
  assert_int_equal (sandbox_caps_adjust (&set, all_lower, all_l, &err), 0);
  assert_true (set == all);
  /* add wins over drop of the same cap. */
  set = def;
  assert_int_equal (sandbox_caps_adjust (&set, chown_l, chown_l, &err), 0);
  assert_true (set == def);
  assert_null (err);
}

static void
test_adjust_unknown (void **state)
{
  cleanup_error nook_error_t err = NULL;
  char *bad[] = { "NET_ADMIN", "NOPE", NULL };
  uint64_t set = sandbox_caps_default ();
  assert_int_equal (sandbox_caps_adjust (&set, NULL, bad, &err), -1);
  assert_string_equal (err->msg, "unknown capability 'NOPE'");
  assert_true (set == sandbox_caps_default ());
  nook_error_free (&err);
  assert_int_equal (sandbox_caps_adjust (&set, bad, NULL, &err), -1);
  assert_true (set == sandbox_caps_default ());
}

static void
test_format (void **state)
{
  cleanup_free char *empty = sandbox_caps_format (0);
  cleanup_free char *two
      = sandbox_caps_format (SANDBOX_CAP_BIT (CAP_KILL) | SANDBOX_CAP_BIT (CAP_CHOWN));
  cleanup_free char *def = sandbox_caps_format (sandbox_caps_default ());
  assert_string_equal (empty, "");
  assert_string_equal (two, "CAP_CHOWN,CAP_KILL");
  assert_string_equal (def, "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,"
                            "CAP_SETGID,CAP_SETUID,CAP_SETPCAP,CAP_NET_BIND_SERVICE,"
                            "CAP_NET_RAW,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP");
}

/* --- sandbox_caps_apply in a child that is root of its own user namespace --- */

static int
write_file (const char *path, const char *s)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write (fd, s, strlen (s));
  close (fd);
  return n == (ssize_t)strlen (s) ? 0 : -1;
}

static int
status_caps (const char *field, uint64_t *out)
{
  char line[256];
  int found = -1;
  size_t flen = strlen (field);
  FILE *f = fopen ("/proc/self/status", "re");
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, field, flen) == 0 && line[flen] == ':')
      {
        *out = strtoull (line + flen + 1, NULL, 16);
        found = 0;
      }
  fclose (f);
  return found;
}

/* The child: a new user namespace whose maps the parent writes, then what the run path
 * does (keep caps across the id change to `target`, apply).  Exit status: 0 ok, 77 no
 * user namespaces, 10+ which check failed. */
static int
apply_child (uint64_t set, bool as_root, uid_t target, int ready_w, int go_r)
{
  uint64_t eff, prm, bnd, inh, amb;
  nook_error_t err = NULL;
  char c = 'x';
  if (unshare (CLONE_NEWUSER) < 0)
    {
      (void)!write (ready_w, &c, 1);
      return 77;
    }
  c = 'u';
  if (write (ready_w, &c, 1) != 1 || read (go_r, &c, 1) != 1 || c != 'g')
    return 10;
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresgid (target, target, target) < 0
      || setresuid (target, target, target) < 0)
    return 12;
  if (sandbox_caps_apply (set, as_root, &err) < 0)
    {
      fprintf (stderr, "apply: %s (%d)\n", err->msg, err->code);
      return 13;
    }
  if (status_caps ("CapEff", &eff) < 0 || status_caps ("CapPrm", &prm) < 0
      || status_caps ("CapBnd", &bnd) < 0 || status_caps ("CapInh", &inh) < 0
      || status_caps ("CapAmb", &amb) < 0)
    return 14;
  uint64_t want = as_root ? set : 0;
  if (bnd != set)
    return 15;
  if (eff != want || prm != want)
    return 16;
  if (inh != 0 || amb != 0)
    return 17;
  return 0;
}

/* A single-id map "0 ID 1", or (only host root may write it) "0 ID 65536" for target != 0. */
static int
write_maps (pid_t pid, uid_t target)
{
  char path[64], map[64];
  snprintf (path, sizeof path, "/proc/%d/setgroups", (int)pid);
  if (write_file (path, "deny") < 0)
    return -1;
  snprintf (path, sizeof path, "/proc/%d/uid_map", (int)pid);
  snprintf (map, sizeof map, "0 %u %u", (unsigned)geteuid (), target == 0 ? 1u : 65536u);
  if (write_file (path, map) < 0)
    return -1;
  snprintf (path, sizeof path, "/proc/%d/gid_map", (int)pid);
  snprintf (map, sizeof map, "0 %u %u", (unsigned)getegid (), target == 0 ? 1u : 65536u);
  return write_file (path, map);
}

static void
run_apply (uint64_t set, bool as_root, uid_t target)
{
  int status, ready[2], go[2];
  char c = 0;
  assert_int_equal (pipe2 (ready, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (go, O_CLOEXEC), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    _exit (apply_child (set, as_root, target, ready[1], go[0]));
  close (ready[1]);
  close (go[0]);
  if (read (ready[0], &c, 1) == 1 && c == 'u')
    {
      c = write_maps (pid, target) == 0 ? 'g' : 'f';
      assert_int_equal (write (go[1], &c, 1), 1);
    }
  close (ready[0]);
  close (go[1]);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  if (WEXITSTATUS (status) == 77)
    skip ();
  assert_int_equal (WEXITSTATUS (status), 0);
}

static void
test_apply_root_default (void **state)
{
  run_apply (sandbox_caps_default (), true, 0);
}

static void
test_apply_root_adjusted (void **state)
{
  uint64_t set = sandbox_caps_default ();
  char *add[] = { "SYS_ADMIN", NULL }, *drop[] = { "CHOWN", "SETPCAP", NULL };
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_caps_adjust (&set, add, drop, &err), 0);
  run_apply (set, true, 0);
  run_apply (0, true, 0);
}

/* as_root = false with the ids unchanged: only the function's own semantics. */
static void
test_apply_non_root (void **state)
{
  run_apply (sandbox_caps_default (), false, 0);
}

/* The real non-root path: setresuid to 1000 inside the namespace (needs a map wider than
 * one id, which only host root may write without newuidmap). */
static void
test_apply_non_root_uid (void **state)
{
  if (geteuid () != 0)
    skip ();
  run_apply (sandbox_caps_default (), false, 1000);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_from_name_forms),
    cmocka_unit_test (test_from_name_unknown),
    cmocka_unit_test (test_default_is_dockers_14),
    cmocka_unit_test (test_all_matches_kernel),
    cmocka_unit_test (test_adjust),
    cmocka_unit_test (test_adjust_unknown),
    cmocka_unit_test (test_format),
    cmocka_unit_test (test_apply_root_default),
    cmocka_unit_test (test_apply_root_adjusted),
    cmocka_unit_test (test_apply_non_root),
    cmocka_unit_test (test_apply_non_root_uid),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
