/* tests/unit/test_credemu.c: sandbox/credemu's program (the default profile with the
 * credential calls notified, stripped again for exec). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sandbox/caps.h"
#include "sandbox/credemu.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_bpf.h"
#include "util/cleanup.h"

static void
compile (unsigned flags, void **bpf, size_t *len)
{
  cleanup_error nook_error_t err = NULL;
  scmp_filter_ctx ctx = NULL;
  size_t tlen;
  const char *text = sandbox_seccomp_default_json (&tlen);
  assert_int_equal (sandbox_seccomp_build_json_flags (text, tlen, "default",
                                                      sandbox_caps_default (), flags, &ctx, &err),
                    0);
  assert_int_equal (sandbox_seccomp_export (ctx, bpf, len, &err), 0);
  sandbox_seccomp_release (&ctx);
}

static void
test_program_notifies_only_when_asked (void **state)
{
  void *plain = NULL, *emu = NULL;
  size_t plen = 0, elen = 0;
  compile (0, &plain, &plen);
  compile (SANDBOX_SECCOMP_CREDEMU, &emu, &elen);
  assert_false (sandbox_credemu_bpf_notifies (plain, plen));
  assert_true (sandbox_credemu_bpf_notifies (emu, elen));
  assert_true (sandbox_seccomp_bpf_valid (emu, elen));
  void *stripped = sandbox_credemu_bpf_strip (emu, elen);
  assert_false (sandbox_credemu_bpf_notifies (stripped, elen));
  assert_true (sandbox_seccomp_bpf_valid (stripped, elen));
  free (stripped);
  free (plain);
  free (emu);
}

static void
test_active_needs_single_and_program (void **state)
{
  void *emu = NULL;
  size_t elen = 0;
  compile (SANDBOX_SECCOMP_CREDEMU, &emu, &elen);
  struct nook_spec s = { 0 };
  s.seccomp_bpf = emu;
  s.seccomp_bpf_len = elen;
  assert_false (sandbox_credemu_active (&s)); /* a range: the kernel does it */
  s.ids.single = true;
  assert_true (sandbox_credemu_active (&s));
  s.seccomp_unconfined = true;
  assert_false (sandbox_credemu_active (&s));
  free (emu);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_program_notifies_only_when_asked),
    cmocka_unit_test (test_active_needs_single_and_program),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
