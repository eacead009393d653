/* tests/unit/test_credemu.c: sandbox/credemu's program (the default profile with the
 * credential calls notified, stripped again for exec). */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/in_child.h"

#include "sandbox/caps.h"
#include "sandbox/credemu.h"
#include "sandbox/credemu_internal.h"
#include "sandbox/internal.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_bpf.h"
#include "util/cleanup.h"
#include "util/util.h"

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

/* ---- the stacked pair answers as the single program ----
 * A classic BPF evaluator for what libseccomp and sandbox_credemu_notify_bpf
 * emit (loads of seccomp_data words, ALU on A, jumps on K or X, returns). */

/* A load from scratch memory or of the constant, into *v (false: another mode). */
static bool
mem_or_imm (const struct sock_filter *i, const uint32_t *mem, uint32_t *v)
{
  if (BPF_MODE (i->code) == BPF_MEM)
    *v = mem[i->k];
  else if (BPF_MODE (i->code) == BPF_IMM)
    *v = i->k;
  else
    return false;
  return true;
}

static uint32_t
eval (const struct sock_filter *f, size_t n, const struct seccomp_data *d)
{
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
  for (size_t pc = 0; pc < n; pc++)
    {
      const struct sock_filter *i = &f[pc];
      uint32_t src = BPF_SRC (i->code) == BPF_X ? x : i->k;
      switch (BPF_CLASS (i->code))
        {
        case BPF_LD:
          if (BPF_MODE (i->code) == BPF_ABS)
            {
              assert_true (i->k % 4 == 0 && i->k < sizeof *d);
              memcpy (&a, (const char *)d + i->k, 4);
            }
          else if (!mem_or_imm (i, mem, &a))
            fail_msg ("ld mode %#x", i->code);
          break;
        case BPF_LDX:
          if (!mem_or_imm (i, mem, &x))
            fail_msg ("ldx mode %#x", i->code);
          break;
        case BPF_ST:
          mem[i->k] = a;
          break;
        case BPF_STX:
          mem[i->k] = x;
          break;
        case BPF_ALU:
          switch (BPF_OP (i->code))
            {
            case BPF_AND:
              a &= src;
              break;
            case BPF_OR:
              a |= src;
              break;
            case BPF_ADD:
              a += src;
              break;
            case BPF_SUB:
              a -= src;
              break;
            default:
              fail_msg ("alu op %#x", i->code);
            }
          break;
        case BPF_JMP:
          {
            bool t;
            switch (BPF_OP (i->code))
              {
              case BPF_JA:
                pc += i->k;
                continue;
              case BPF_JEQ:
                t = a == src;
                break;
              case BPF_JGT:
                t = a > src;
                break;
              case BPF_JGE:
                t = a >= src;
                break;
              case BPF_JSET:
                t = (a & src) != 0;
                break;
              default:
                fail_msg ("jmp op %#x", i->code);
                t = false;
              }
            pc += t ? i->jt : i->jf;
            break;
          }
        case BPF_RET:
          return BPF_RVAL (i->code) == BPF_A ? a : i->k;
        case BPF_MISC:
          if (BPF_MISCOP (i->code) == BPF_TAX)
            x = a;
          else
            a = x;
          break;
        default:
          fail_msg ("class %#x", i->code);
        }
    }
  fail_msg ("fell off the program");
  return 0;
}

/* The kernel's choice among stacked filters: the lowest action as s32. */
static uint32_t
stacked (uint32_t r1, uint32_t r2)
{
  return (int32_t)(r1 & SECCOMP_RET_ACTION_FULL) <= (int32_t)(r2 & SECCOMP_RET_ACTION_FULL) ? r1
                                                                                            : r2;
}

static uint32_t
action (uint32_t r)
{
  return r & SECCOMP_RET_ACTION_FULL;
}

static void
test_stacked_pair_answers_as_the_program (void **state)
{
  void *emu = NULL;
  size_t elen = 0;
  compile (SANDBOX_SECCOMP_CREDEMU, &emu, &elen);
  struct sock_filter *stripped = sandbox_credemu_bpf_strip (emu, elen);
  struct sock_filter notify[SANDBOX_CREDEMU_NOTIFY_MAX];
  size_t nn = sandbox_credemu_notify_bpf (notify);
  assert_true (nn <= SANDBOX_CREDEMU_NOTIFY_MAX);
  assert_true (sandbox_seccomp_bpf_valid (notify, nn * sizeof *notify));
  size_t ne = elen / sizeof (struct sock_filter);
  const uint32_t arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386 };
  const uint64_t flags[] = { O_RDONLY, O_WRONLY | O_CREAT | O_TRUNC, O_RDWR | O_CREAT | O_EXCL,
                             O_TMPFILE | O_RDWR, 0xffffffff00000000ull };
  int notified = 0, chroots = 0;
  for (size_t ai = 0; ai < ARRAY_SIZE (arches); ai++)
    for (uint32_t base = 0; base <= 0x40000000u; base += 0x40000000u)
      for (uint32_t nr = 0; nr < 600; nr++)
        for (size_t fi = 0; fi < 2 * ARRAY_SIZE (flags); fi++)
          {
            /* the flags in args[1] (open's) or args[2] (openat's), the other
             * argument with O_CREAT the other way */
            struct seccomp_data d = { .nr = (int)(base + nr), .arch = arches[ai] };
            uint64_t fl = flags[fi / 2];
            d.args[1 + fi % 2] = fl;
            d.args[2 - fi % 2] = fl ^ O_CREAT;
            uint32_t one = eval (emu, ne, &d);
            uint32_t two = stacked (eval (stripped, ne, &d), eval (notify, nn, &d));
            bool native = arches[ai] == AUDIT_ARCH_X86_64 && base == 0;
            /* (the init answers other arches' notifications with CONTINUE, and
             * must see their chroot too) */
            bool chroot = arches[ai] == AUDIT_ARCH_I386
                              ? (uint32_t)d.nr == 61
                              : ((uint32_t)d.nr & ~0x40000000u) == SYS_chroot;
            if (!native && !chroot && action (one) == SECCOMP_RET_USER_NOTIF)
              one = SECCOMP_RET_ALLOW;
            if (one != two)
              fail_msg ("arch %#x nr %#x args %#llx %#llx: one program %#x, the pair %#x",
                        arches[ai], (unsigned)d.nr, (unsigned long long)d.args[1],
                        (unsigned long long)d.args[2], one, two);
            notified += native && action (two) == SECCOMP_RET_USER_NOTIF;
            chroots += chroot && action (two) == SECCOMP_RET_USER_NOTIF;
          }
  assert_true (notified > 2 * 29 * (int)ARRAY_SIZE (flags)); /* all 29, and open with O_CREAT */
  /* chroot of x86_64, x32 and i386 (the profile has no x32 half on a kernel
   * without it: then only two) */
  assert_true (chroots >= 2 * 2 * (int)ARRAY_SIZE (flags));
  free (stripped);
  free (emu);
}

/* The kernel itself: a denial of the first filter wins over the notify-only
 * filter's USER_NOTIF; what it allows is notified. */
static void
test_kernel_takes_the_denial (void **state)
{
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct sock_filter deny[] = {
        BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
        BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SYS_getgid, 0, 1),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      };
      struct sock_fprog p = { .len = ARRAY_SIZE (deny), .filter = deny };
      alarm (60); /* a wrong filter fails, it does not hang the suite */
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
          || syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) < 0)
        _exit (10);
      int sv[2];
      if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        _exit (11);
      cleanup_error nook_error_t err = NULL;
      if (sandbox_credemu_load_notify (sv[1], &err) < 0)
        _exit (12);
      /* no notified call may be made from here on but the one answered */
      int listener = fd_recv (sv[0]);
      if (listener < 0)
        _exit (13);
      if (syscall (SYS_getgid) != -1 || errno != EPERM)
        _exit (14); /* the profile's denial, not a notification (it would hang) */
      pid_t answerer = fork ();
      if (answerer == 0)
        {
          struct seccomp_notif req;
          struct seccomp_notif_resp resp;
          memset (&req, 0, sizeof req);
          if (ioctl (listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0 || req.data.nr != SYS_getuid)
            _exit (1);
          memset (&resp, 0, sizeof resp);
          resp.id = req.id;
          resp.val = 4242;
          _exit (ioctl (listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 ? 2 : 0);
        }
      close (listener); /* the answerer's alone: its exit fails what waits (ENOSYS) */
      long uid = syscall (SYS_getuid);
      int st = 0;
      if (answerer < 0 || waitpid (answerer, &st, 0) != answerer || st != 0)
        _exit (15);
      _exit (uid == 4242 ? 0 : 16);
    }
  int st = 0;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st));
  assert_int_equal (WEXITSTATUS (st), 0);
}

/* The listener's wake-up mode: synchronous while calls come from one process at a time,
 * asynchronous from the moment another process's call was waiting, synchronous again
 * after CREDEMU_QUIET_RUN answers without that.  On a real listener (a child's, made for
 * getppid): the kernel must take the flag (Linux 6.6), or the child says so and fails. */
static int
wake_policy_in_child (void)
{
  struct sock_filter f[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { .len = ARRAY_SIZE (f), .filter = f };
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return 10;
  int l = (int)syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                        &prog);
  if (l < 0)
    return 11;
  struct credemu_wake w = { .can = true };
  credemu_wake_set (&w, l, true);
  if (!w.can || !w.sync)
    return 12; /* the kernel refused SECCOMP_IOCTL_NOTIF_SET_FLAGS */
  credemu_wake_adapt (&w, l, 10, false);
  credemu_wake_adapt (&w, l, 10, true); /* the same process's next call: still sync */
  if (!w.sync)
    return 13;
  credemu_wake_adapt (&w, l, 11, true); /* another process's call was waiting */
  if (w.sync || !w.can)
    return 14;
  for (int i = 1; i < CREDEMU_QUIET_RUN; i++)
    credemu_wake_adapt (&w, l, 11, false);
  if (w.sync)
    return 15;
  credemu_wake_adapt (&w, l, 11, false);
  if (!w.sync || !w.can)
    return 16;
  credemu_wake_adapt (&w, l, 12, false); /* another process, but nothing was waiting */
  return w.sync ? 0 : 17;
}

static void
test_wake_mode_follows_the_callers (void **state)
{
  (void)state;
  int rc = in_child (wake_policy_in_child);
  if (rc == 12)
    fail_msg ("the kernel refused synchronous wake-ups (SECCOMP_IOCTL_NOTIF_SET_FLAGS, Linux 6.6)");
  assert_int_equal (rc, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_program_notifies_only_when_asked),
    cmocka_unit_test (test_active_needs_single_and_program),
    cmocka_unit_test (test_stacked_pair_answers_as_the_program),
    cmocka_unit_test (test_kernel_takes_the_denial),
    cmocka_unit_test (test_wake_mode_follows_the_callers),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
