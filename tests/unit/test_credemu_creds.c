/* tests/unit/test_credemu_creds.c: sandbox/credemu_creds (the kernel's rules
 * for set*id, setgroups and chown, as bookkeeping) and util/owner_record's
 * formats. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/capability.h>

#include "sandbox/credemu_creds.h"
#include "util/owner_record.h"

#define CAP(x) (UINT64_C (1) << (x))
#define DOCKER_CAPS                                                                                \
  (CAP (CAP_CHOWN) | CAP (CAP_DAC_OVERRIDE) | CAP (CAP_FOWNER) | CAP (CAP_SETUID)                  \
   | CAP (CAP_SETGID))
#define NONE ((uid_t)-1)

static void
root (struct credemu_creds *c, uint64_t caps)
{
  gid_t g[] = { 10, 0 };
  credemu_creds_init (c, g, 2, caps);
}

static void
assert_uids (const struct credemu_creds *c, uid_t r, uid_t e, uid_t s, uid_t fs)
{
  assert_int_equal (c->ruid, r);
  assert_int_equal (c->euid, e);
  assert_int_equal (c->suid, s);
  assert_int_equal (c->fsuid, fs);
}

static void
assert_gids (const struct credemu_creds *c, gid_t r, gid_t e, gid_t s, gid_t fs)
{
  assert_int_equal (c->rgid, r);
  assert_int_equal (c->egid, e);
  assert_int_equal (c->sgid, s);
  assert_int_equal (c->fsgid, fs);
}

static void
test_initial_root (void **state)
{
  struct credemu_creds c;
  root (&c, DOCKER_CAPS);
  assert_uids (&c, 0, 0, 0, 0);
  assert_gids (&c, 0, 0, 0, 0);
  assert_int_equal (c.n_groups, 2);
  assert_int_equal (c.groups[0], 0); /* sorted, as the kernel keeps them */
  assert_int_equal (c.groups[1], 10);
  credemu_creds_free (&c);
}

/* setuid by root sets all three; root cannot come back (apt checks this). */
static void
test_setuid_drop_is_final (void **state)
{
  struct credemu_creds c;
  root (&c, DOCKER_CAPS);
  assert_int_equal (credemu_setuid (&c, 1000), 0);
  assert_uids (&c, 1000, 1000, 1000, 1000);
  assert_int_equal (credemu_setuid (&c, 0), -EPERM);
  assert_int_equal (credemu_setresuid (&c, 0, 0, 0), -EPERM);
  assert_int_equal (credemu_setreuid (&c, NONE, 0), -EPERM);
  assert_int_equal (credemu_setgid (&c, 0), 0); /* the gids are still root's (apt sets them first) */
  gid_t g = 0;
  assert_int_equal (credemu_setgroups (&c, &g, 1), -EPERM);
  /* setting the same id again is allowed (glibc repeats setxid in every thread) */
  assert_int_equal (credemu_setuid (&c, 1000), 0);
  assert_uids (&c, 1000, 1000, 1000, 1000);
  credemu_creds_free (&c);
}

/* seteuid (setresuid(-1, e, -1)) keeps root in the saved id: it may come back. */
static void
test_seteuid_and_back (void **state)
{
  struct credemu_creds c;
  root (&c, DOCKER_CAPS);
  assert_int_equal (credemu_setresuid (&c, NONE, 42, NONE), 0);
  assert_uids (&c, 0, 42, 0, 42);
  /* unprivileged now: a setgroups needs euid 0 */
  gid_t g = 42;
  assert_int_equal (credemu_setgroups (&c, &g, 1), -EPERM);
  assert_int_equal (credemu_setresuid (&c, NONE, 0, NONE), 0);
  assert_uids (&c, 0, 0, 0, 0);
  assert_int_equal (credemu_setgroups (&c, &g, 1), 0);
  assert_int_equal (c.n_groups, 1);
  credemu_creds_free (&c);
}

/* POSIX rules of setresuid for an unprivileged process: each new id must be one of
 * the current real, effective or saved ids. */
static void
test_setresuid_unprivileged (void **state)
{
  struct credemu_creds c;
  root (&c, DOCKER_CAPS);
  assert_int_equal (credemu_setresuid (&c, 1, 2, 3), 0);
  assert_uids (&c, 1, 2, 3, 2);
  assert_int_equal (credemu_setresuid (&c, 3, 1, 2), 0); /* a permutation */
  assert_uids (&c, 3, 1, 2, 1);
  assert_int_equal (credemu_setresuid (&c, NONE, 4, NONE), -EPERM);
  assert_uids (&c, 3, 1, 2, 1); /* unchanged after a failure */
  assert_int_equal (credemu_setresuid (&c, 2, 2, 2), 0);
  assert_int_equal (credemu_setresuid (&c, 1, NONE, NONE), -EPERM);
  credemu_creds_free (&c);
}

/* setreuid: the saved id follows the new euid when the real id is set or the
 * euid differs from the old real id. */
static void
test_setreuid_saved (void **state)
{
  struct credemu_creds c;
  root (&c, DOCKER_CAPS);
  assert_int_equal (credemu_setreuid (&c, NONE, 42), 0);
  assert_uids (&c, 0, 42, 42, 42); /* 0 lost from the saved id */
  assert_int_equal (credemu_setreuid (&c, NONE, 0), 0); /* the real id is still 0 */
  assert_uids (&c, 0, 0, 42, 0);                        /* euid == old ruid: saved kept */
  assert_int_equal (credemu_setreuid (&c, 5, 6), 0);
  assert_uids (&c, 5, 6, 6, 6);
  assert_int_equal (credemu_setreuid (&c, 6, 5), 0); /* swap: allowed */
  assert_uids (&c, 6, 5, 5, 5);
  assert_int_equal (credemu_setreuid (&c, 7, NONE), -EPERM);
  credemu_creds_free (&c);
}

/* Without CAP_SETUID even root cannot take another id (--cap-drop SETUID). */
static void
test_no_cap_setuid (void **state)
{
  struct credemu_creds c;
  root (&c, DOCKER_CAPS & ~CAP (CAP_SETUID));
  assert_int_equal (credemu_setuid (&c, 1000), -EPERM);
  assert_int_equal (credemu_setuid (&c, 0), 0);
  assert_int_equal (credemu_setgid (&c, 1000), 0); /* CAP_SETGID is there */
  assert_gids (&c, 1000, 1000, 1000, 1000);
  assert_int_equal (credemu_setuid (&c, (uid_t)-1), -EINVAL);
  credemu_creds_free (&c);
}

static void
test_setfsuid (void **state)
{
  struct credemu_creds c;
  root (&c, DOCKER_CAPS);
  assert_int_equal (credemu_setfsuid (&c, 1000), 0); /* returns the old one */
  assert_int_equal (c.fsuid, 1000);
  assert_int_equal (credemu_setfsuid (&c, NONE), 1000); /* a query */
  assert_int_equal (credemu_setfsgid (&c, 1000), 0);
  /* fsuid 1000: CAP_CHOWN no longer effective */
  assert_false (credemu_chown_ok (&c, 0, 0, 5, NONE));
  assert_int_equal (credemu_setfsuid (&c, 0), 1000);
  assert_true (credemu_chown_ok (&c, 0, 0, 5, NONE));
  /* an unprivileged process cannot take an fsuid outside its ids */
  assert_int_equal (credemu_setresuid (&c, 7, 7, 7), 0);
  assert_int_equal (credemu_setfsuid (&c, 8), 7);
  assert_int_equal (c.fsuid, 7);
  credemu_creds_free (&c);
}

/* chown_ok/chgrp_ok: the owner may give its file to a group it is in. */
static void
test_chown_rules (void **state)
{
  struct credemu_creds c;
  root (&c, DOCKER_CAPS);
  assert_true (credemu_chown_ok (&c, 0, 0, 1000, 1000));
  gid_t g[] = { 50 };
  assert_int_equal (credemu_setgroups (&c, g, 1), 0);
  assert_int_equal (credemu_setresgid (&c, 100, 100, 100), 0);
  assert_int_equal (credemu_setresuid (&c, 100, 100, 100), 0);
  assert_true (credemu_chown_ok (&c, 100, 100, NONE, 50));
  assert_true (credemu_chown_ok (&c, 100, 100, 100, 100));
  assert_false (credemu_chown_ok (&c, 100, 100, NONE, 51));
  assert_false (credemu_chown_ok (&c, 100, 100, 101, NONE));
  assert_false (credemu_chown_ok (&c, 0, 0, NONE, 50)); /* not the owner */
  credemu_creds_free (&c);
}

static void
test_setgroups_limits (void **state)
{
  struct credemu_creds c;
  root (&c, DOCKER_CAPS);
  assert_int_equal (credemu_setgroups (&c, NULL, CREDEMU_NGROUPS_MAX + 1), -EINVAL);
  assert_int_equal (credemu_setgroups (&c, NULL, 0), 0);
  assert_int_equal (c.n_groups, 0);
  assert_false (credemu_in_group (&c, 10));
  assert_true (credemu_in_group (&c, 0)); /* the fsgid */
  credemu_creds_free (&c);
}

static void
test_copy_is_independent (void **state)
{
  struct credemu_creds a, b;
  root (&a, DOCKER_CAPS);
  credemu_creds_copy (&b, &a);
  assert_int_equal (credemu_setuid (&b, 9), 0);
  gid_t g = 3;
  assert_int_equal (credemu_setgroups (&a, &g, 1), 0);
  assert_int_equal (a.ruid, 0);
  assert_int_equal (b.n_groups, 2);
  credemu_creds_free (&a);
  credemu_creds_free (&b);
}

static void
test_owner_record_formats (void **state)
{
  uid_t u;
  gid_t g;
  mode_t m;
  assert_true (owner_record_parse ("1000:42", 7, &u, &g));
  assert_int_equal (u, 1000);
  assert_int_equal (g, 42);
  assert_false (owner_record_parse ("1000:", 5, &u, &g));
  assert_false (owner_record_parse (":1", 2, &u, &g));
  assert_false (owner_record_parse ("1:2:3", 5, &u, &g));
  assert_false (owner_record_parse ("-1:2", 4, &u, &g));
  assert_false (owner_record_parse ("4294967295:0", 12, &u, &g)); /* (uid_t)-1 */
  assert_false (owner_record_parse ("99999999999:0", 13, &u, &g));
  assert_true (owner_record_parse_override ("42:0:0755", 9, &u, &g, &m));
  assert_int_equal (u, 42);
  assert_int_equal (m, 0755);
  assert_false (owner_record_parse_override ("42:0:", 5, &u, &g, &m));
  assert_false (owner_record_parse_override ("42:0:9", 6, &u, &g, &m));
  assert_true (owner_record_xattr_private ("user.nook.owner"));
  assert_true (owner_record_xattr_private ("user.containers.override_stat"));
  assert_true (owner_record_xattr_private ("user.overlay.opaque"));
  assert_false (owner_record_xattr_private ("security.capability"));
  assert_false (owner_record_xattr_private ("user.other"));
  struct owner_record r = { .uid = 1, .gid = 2, .mode = 0555, .has_mode = true };
  assert_int_equal (owner_record_mode (&r, 0755), 0555); /* widened by extraction */
  assert_int_equal (owner_record_mode (&r, 0700), 0700); /* chmod'ed since */
  r.has_mode = false;
  assert_int_equal (owner_record_mode (&r, 0755), 0755);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_initial_root),     cmocka_unit_test (test_setuid_drop_is_final),
    cmocka_unit_test (test_seteuid_and_back), cmocka_unit_test (test_setresuid_unprivileged),
    cmocka_unit_test (test_setreuid_saved),   cmocka_unit_test (test_no_cap_setuid),
    cmocka_unit_test (test_setfsuid),         cmocka_unit_test (test_chown_rules),
    cmocka_unit_test (test_setgroups_limits), cmocka_unit_test (test_copy_is_independent),
    cmocka_unit_test (test_owner_record_formats),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
