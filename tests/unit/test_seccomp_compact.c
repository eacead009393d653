/* tests/unit/test_seccomp_compact.c: sandbox/seccomp_compact (libseccomp's program for
 * Docker's profile and the compacted one return the same for every architecture, every
 * system call number and the argument values the rules test, checked here without the
 * module's own check; that check finds a changed program; what the compactor does not
 * handle is left alone) and the BPF interpreter both are run with. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/caps.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_compact.h"
#include "util/cleanup.h"
#include "util/util.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

#define RET_ALLOW SECCOMP_RET_ALLOW
#define RET_EPERM (SECCOMP_RET_ERRNO | EPERM)

/* libseccomp's program for a profile (the default when json is NULL). */
static struct sock_filter *
libseccomp_program (const char *json, uint64_t caps, unsigned flags, size_t *n)
{
  size_t len = 0;
  const char *text = json ? json : sandbox_seccomp_default_json (&len);
  if (json)
    len = strlen (json);
  cleanup_error nook_error_t err = NULL;
  scmp_filter_ctx ctx = NULL;
  assert_int_equal (
      sandbox_seccomp_build_json_flags (text, len, "test profile", caps, flags, &ctx, &err), 0);
  int fd = memfd_create ("t", MFD_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (seccomp_export_bpf (ctx, fd), 0);
  sandbox_seccomp_release (&ctx);
  off_t size = lseek (fd, 0, SEEK_END);
  assert_true (size > 0 && size % (off_t)sizeof (struct sock_filter) == 0);
  struct sock_filter *p = xmalloc ((size_t)size);
  assert_int_equal (pread (fd, p, (size_t)size, 0), size);
  close (fd);
  *n = (size_t)size / sizeof *p;
  return p;
}

/* libseccomp's program (*lib, *n instructions) and the compacted one (returned, *m). */
static struct sock_filter *
compacted (const char *json, uint64_t caps, unsigned flags, struct sock_filter **lib, size_t *n,
           size_t *m)
{
  *lib = libseccomp_program (json, caps, flags, n);
  struct sock_filter *p = sandbox_seccomp_compact (*lib, *n, m);
  assert_non_null (p);
  assert_true (*m > 0 && *m < *n);
  assert_true (sandbox_bpf_loadable (*lib, *n) && sandbox_bpf_loadable (p, *m));
  return p;
}

static uint32_t
run_call (const struct sock_filter *p, size_t n, uint32_t arch, uint32_t nr, const uint64_t *args)
{
  struct seccomp_data d = { .nr = (int)nr, .arch = arch };
  if (args)
    memcpy (d.args, args, sizeof d.args);
  return sandbox_bpf_run (p, n, &d);
}

/* A small deterministic generator (the same inputs every run). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t
next_random (void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* a and b agree on: the architectures x86_64, i386 and two others, every number below
 * 1100, x32's (0x40000000 + below 600) and the last ones of the 32-bit range, with the
 * arguments zero and all ones; and for every call whose result depends on its arguments,
 * 3000 argument vectors made of the programs' constants, small numbers and random words. */
static void
assert_agree (const struct sock_filter *a, size_t na, const struct sock_filter *b, size_t nb)
{
  static const uint32_t arches[]
      = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0, UINT32_MAX };
  uint32_t consts[2048];
  size_t n_consts = 0;
  for (size_t i = 0; i < na && n_consts < 2048; i++)
    consts[n_consts++] = a[i].k;
  const uint64_t zero[6] = { 0 };
  const uint64_t ones[6] = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
  for (size_t ai = 0; ai < sizeof arches / sizeof arches[0]; ai++)
    for (uint64_t i = 0; i < 1100 + 600 + 8; i++)
      {
        uint32_t nr = i < 1100 ? (uint32_t)i
                      : i < 1700 ? 0x40000000u + (uint32_t)(i - 1100)
                                 : UINT32_MAX - (uint32_t)(i - 1700);
        uint32_t r0 = run_call (a, na, arches[ai], nr, zero);
        assert_int_equal (r0, run_call (b, nb, arches[ai], nr, zero));
        uint32_t r1 = run_call (a, na, arches[ai], nr, ones);
        assert_int_equal (r1, run_call (b, nb, arches[ai], nr, ones));
        if (r0 == r1 && i % 7 != 0)
          continue;
        for (int v = 0; v < 3000; v++)
          {
            uint64_t args[6];
            for (int j = 0; j < 6; j++)
              {
                uint64_t pick = next_random ();
                uint32_t lo = (pick & 3) == 0   ? (uint32_t)next_random ()
                              : (pick & 3) == 1 ? (uint32_t)(pick >> 8) % 64
                                                : consts[(pick >> 8) % n_consts];
                uint32_t hi = (pick >> 40) % 4 == 0 ? (uint32_t)next_random () : 0;
                args[j] = (uint64_t)hi << 32 | lo;
              }
            assert_int_equal (run_call (a, na, arches[ai], nr, args),
                              run_call (b, nb, arches[ai], nr, args));
          }
      }
}

/* Docker's default profile, for the given capabilities and flags. */
static void
check_default (uint64_t caps, unsigned flags)
{
  size_t n = 0, m = 0;
  cleanup_free struct sock_filter *lib = NULL;
  cleanup_free struct sock_filter *small = compacted (NULL, caps, flags, &lib, &n, &m);
  /* (~870 -> ~220 instructions for x86_64 + i386) */
  assert_true (m * 2 < n);
  assert_true (sandbox_bpf_same (lib, n, small, m));
  assert_agree (lib, n, small, m);
}

static void
test_default_profile (void **state)
{
  (void)state;
  check_default (sandbox_caps_default (), 0);
}

static void
test_default_profile_all_caps (void **state)
{
  (void)state;
  check_default (sandbox_caps_all (), 0);
}

static void
test_default_profile_credemu (void **state)
{
  (void)state;
  check_default (sandbox_caps_default (), SANDBOX_SECCOMP_CREDEMU);
}

/* What Docker's profile says, on the compacted program (x86_64 numbers). */
static void
test_default_rules_kept (void **state)
{
  (void)state;
  size_t n = 0, m = 0;
  cleanup_free struct sock_filter *lib = NULL;
  cleanup_free struct sock_filter *p = compacted (NULL, sandbox_caps_default (), 0, &lib, &n, &m);
  const uint32_t x = AUDIT_ARCH_X86_64, i386 = AUDIT_ARCH_I386;
  uint64_t a[6] = { 0 };
  assert_int_equal (run_call (p, m, x, 39 /* getpid */, a), RET_ALLOW);
  assert_int_equal (run_call (p, m, i386, 20 /* getpid */, a), RET_ALLOW);
  assert_int_equal (run_call (p, m, x, 272 /* unshare */, a), RET_EPERM);
  assert_int_equal (run_call (p, m, i386, 310 /* unshare */, a), RET_EPERM);
  assert_int_equal (run_call (p, m, x, 250 /* keyctl */, a), RET_EPERM);
  assert_int_equal (run_call (p, m, x, 435 /* clone3 */, a), SECCOMP_RET_ERRNO | ENOSYS);
  a[0] = AF_NETLINK, a[1] = SOCK_RAW, a[2] = NETLINK_AUDIT;
  assert_int_equal (run_call (p, m, x, 41 /* socket */, a), SECCOMP_RET_ERRNO | EINVAL);
  a[2] = NETLINK_ROUTE;
  assert_int_equal (run_call (p, m, x, 41, a), RET_ALLOW);
  a[0] = AF_VSOCK;
  assert_int_equal (run_call (p, m, x, 41, a), RET_EPERM);
  a[0] = 0xffffffff, a[1] = a[2] = 0;
  assert_int_equal (run_call (p, m, x, 135 /* personality */, a), RET_ALLOW);
  a[0] = 1;
  assert_int_equal (run_call (p, m, x, 135, a), RET_EPERM);
  /* x32 (no x32 on this kernel, or Docker's rules for it): as libseccomp's */
  a[0] = 0;
  assert_int_equal (run_call (p, m, x, 0x40000000u | 39, a), run_call (lib, n, x, 0x40000000u | 39, a));
  /* an architecture the profile does not name: as libseccomp's (its bad-arch action) */
  assert_int_equal (run_call (p, m, AUDIT_ARCH_AARCH64, 39, a),
                    run_call (lib, n, AUDIT_ARCH_AARCH64, 39, a));
}

/* A user profile with every comparison of arguments (64-bit values, masks), on several
 * architectures: the argument checks are libseccomp's own instructions, copied. */
static void
test_user_profile_comparisons (void **state)
{
  (void)state;
  /* (and most x86_64 calls allowed, every seventh not, so that there is something to
   * make smaller) */
  struct strbuf names = { 0 };
  static const char *const ruled[] = { "read", "write", "close", "exit_group", "openat", "mmap",
                                       "ioctl", "kill", "fcntl", "getpid", "gettid", "getppid" };
  for (int nr = 0; nr < 330; nr++)
    {
      const char *name = seccomp_syscall_resolve_num_arch (SCMP_ARCH_X86_64, nr);
      bool skip = name == NULL || nr % 7 == 3;
      for (size_t i = 0; !skip && i < sizeof ruled / sizeof ruled[0]; i++)
        skip = strcmp (name, ruled[i]) == 0;
      if (!skip)
        strbuf_appendf (&names, ",\"%s\"", name);
      free ((char *)name);
    }
  cleanup_free char *json = xasprintf (
      "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\","
      "\"SCMP_ARCH_X86\"],\"syscalls\":["
      "{\"names\":[\"read\",\"write\",\"close\",\"exit_group\"%s],\"action\":\"SCMP_ACT_ALLOW\"},"
      "{\"names\":[\"openat\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,"
      "\"value\":4294967296,\"op\":\"SCMP_CMP_LT\"}]},"
      "{\"names\":[\"mmap\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":2,"
      "\"value\":4,\"valueTwo\":4,\"op\":\"SCMP_CMP_MASKED_EQ\"},{\"index\":3,\"value\":7,"
      "\"op\":\"SCMP_CMP_GE\"}]},"
      "{\"names\":[\"mmap\"],\"action\":\"SCMP_ACT_ALLOW\"},"
      "{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":1,"
      "\"value\":21505,\"op\":\"SCMP_CMP_NE\"}]},"
      "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
      "\"value\":1,\"op\":\"SCMP_CMP_GT\"},{\"index\":1,\"value\":9,\"op\":\"SCMP_CMP_LE\"}]},"
      "{\"names\":[\"fcntl\"],\"action\":\"SCMP_ACT_TRACE\",\"args\":[{\"index\":1,"
      "\"value\":1030,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"getpid\",\"gettid\",\"getppid\"],\"action\":\"SCMP_ACT_LOG\"}]}",
      names.buf ? names.buf : "");
  strbuf_free (&names);
  size_t n = 0, m = 0;
  cleanup_free struct sock_filter *lib = NULL;
  cleanup_free struct sock_filter *small = compacted (json, sandbox_caps_default (), 0, &lib, &n, &m);
  print_message ("a user profile: %zu -> %zu instructions\n", n, m);
  assert_agree (lib, n, small, m);
}

/* A program with x32's half (x86_64's arch, numbers from 0x40000000), made with
 * libseccomp directly: this kernel may have no x32, and nook's profiles leave the half
 * out then. */
static void
test_x32_half (void **state)
{
  (void)state;
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
  assert_non_null (ctx);
  assert_int_equal (seccomp_arch_add (ctx, SCMP_ARCH_X86), 0);
  assert_int_equal (seccomp_arch_add (ctx, SCMP_ARCH_X32), 0);
  assert_int_equal (seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), 0);
  for (int nr = 0; nr < 330; nr++)
    {
      char *name = seccomp_syscall_resolve_num_arch (SCMP_ARCH_X86_64, nr);
      int any = name && nr % 5 != 2 && strcmp (name, "socket") != 0
                    ? seccomp_syscall_resolve_name (name)
                    : __NR_SCMP_ERROR;
      if (any != __NR_SCMP_ERROR)
        seccomp_rule_add (ctx, SCMP_ACT_ALLOW, any, 0); /* (not every arch has each) */
      free (name);
    }
  assert_int_equal (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EINVAL), SCMP_SYS (socket), 1,
                                      SCMP_A0 (SCMP_CMP_EQ, AF_NETLINK)),
                    0);
  int fd = memfd_create ("t", MFD_CLOEXEC);
  assert_int_equal (seccomp_export_bpf (ctx, fd), 0);
  seccomp_release (ctx);
  off_t size = lseek (fd, 0, SEEK_END);
  size_t n = (size_t)size / sizeof (struct sock_filter), m = 0;
  cleanup_free struct sock_filter *lib = xmalloc ((size_t)size);
  assert_int_equal (pread (fd, lib, (size_t)size, 0), size);
  close (fd);
  cleanup_free struct sock_filter *small = sandbox_seccomp_compact (lib, n, &m);
  assert_non_null (small);
  print_message ("x86_64, i386 and x32: %zu -> %zu instructions\n", n, m);
  assert_true (sandbox_bpf_loadable (small, m));
  assert_agree (lib, n, small, m);
  /* x32's numbers were there to be checked: some allowed, some not */
  uint64_t a[6] = { 0 };
  assert_int_equal (run_call (small, m, AUDIT_ARCH_X86_64, 0x40000000u | 39, a),
                    run_call (lib, n, AUDIT_ARCH_X86_64, 0x40000000u | 39, a));
}

/* The check finds each RET changed and each range moved by one. */
static void
test_check_finds_changes (void **state)
{
  (void)state;
  size_t n = 0, m = 0;
  cleanup_free struct sock_filter *lib = NULL;
  cleanup_free struct sock_filter *p = compacted (NULL, sandbox_caps_default (), 0, &lib, &n, &m);
  struct sock_filter *q = xmalloc (m * sizeof *q);
  size_t rets = 0, ranges = 0;
  for (size_t i = 0; i < m; i++)
    {
      uint16_t code = p[i].code;
      bool ret = code == (BPF_RET | BPF_K);
      bool range = code == (BPF_JMP | BPF_JGE | BPF_K) && p[i].k > 0 && p[i].k < UINT32_MAX;
      if (!ret && !range)
        continue;
      for (int delta = -1; delta <= 1; delta += 2)
        {
          memcpy (q, p, m * sizeof *q);
          if (ret)
            q[i].k = p[i].k == SECCOMP_RET_ALLOW ? RET_EPERM : SECCOMP_RET_ALLOW;
          else
            q[i].k = p[i].k + (uint32_t)delta;
          if (sandbox_bpf_same (lib, n, q, m))
            fail_msg ("instruction %zu changed (code %#x, k %#x -> %#x) is not found", i,
                      (unsigned)code, p[i].k, q[i].k);
          if (ret)
            break;
        }
      rets += ret;
      ranges += range;
    }
  free (q);
  print_message ("%zu RETs and %zu ranges changed, each found\n", rets, ranges);
  assert_true (rets >= 4 && ranges > 50);
}

/* What the compactor does not handle, it leaves alone (NULL: the caller keeps its
 * program); the check refuses to vouch for what ranges cannot show. */
#define LD(off) BPF_STMT (BPF_LD | BPF_W | BPF_ABS, off)
#define RET(v) BPF_STMT (BPF_RET | BPF_K, v)
static const struct sock_filter jset_nr[]
    = { LD (0), BPF_JUMP (BPF_JMP | BPF_JSET | BPF_K, 1, 1, 0), RET (SECCOMP_RET_ALLOW),
        RET (SECCOMP_RET_KILL_PROCESS) };
static const struct sock_filter and_nr[]
    = { LD (0), BPF_STMT (BPF_ALU | BPF_AND | BPF_K, 0xff), BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
        RET (SECCOMP_RET_ALLOW), RET (SECCOMP_RET_KILL_PROCESS) };
static const struct sock_filter arch_order[]
    = { LD (4), BPF_JUMP (BPF_JMP | BPF_JGT | BPF_K, 7, 0, 1), RET (SECCOMP_RET_ALLOW),
        RET (SECCOMP_RET_KILL_PROCESS) };
static const struct sock_filter imm[] = { BPF_STMT (BPF_LD | BPF_IMM, 1), BPF_STMT (BPF_RET | BPF_A, 0) };
static const struct sock_filter out_of_range[]
    = { LD (0), BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 1, 5, 0), RET (SECCOMP_RET_ALLOW) };
static const struct sock_filter falls_off[] = { LD (16) };
static const struct sock_filter allow[] = { RET (SECCOMP_RET_ALLOW) };

static void
test_left_alone (void **state)
{
  (void)state;
  static const struct
  {
    const struct sock_filter *p;
    size_t n;
    bool same; /* what sandbox_bpf_same says of it and itself */
  } cases[] = {
    { jset_nr, 4, false },      { and_nr, 5, false },   { arch_order, 4, false }, { imm, 2, false },
    { out_of_range, 3, false },  { falls_off, 1, false }, { allow, 1, true }, /* (as small as it gets) */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      size_t m = 0;
      struct sock_filter *out = sandbox_seccomp_compact (cases[i].p, cases[i].n, &m);
      if (out)
        fail_msg ("case %zu was compacted", i);
      if (sandbox_bpf_same (cases[i].p, cases[i].n, cases[i].p, cases[i].n) != cases[i].same)
        fail_msg ("case %zu: the check says %d of it and itself", i, !cases[i].same);
    }
}

/* Programs the check must not call equal (found by a review): a number range checked
 * only when two arguments match, the instruction pointer, a masked argument against
 * ordered comparisons that agree on the constants alone, a program the kernel would
 * refuse (a jump past the end on the way not taken). */
static const struct sock_filter gated[]
    = { LD (16), BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 5), LD (24),
        BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 3), LD (0),
        BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, 100, 0, 1), RET (SECCOMP_RET_KILL_PROCESS),
        RET (SECCOMP_RET_ALLOW) };
static const struct sock_filter arg0_allow[] = { LD (16), RET (SECCOMP_RET_ALLOW) };
static const struct sock_filter ip_check[] = { LD (8), BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 0x1000, 0, 1),
                                               RET (SECCOMP_RET_KILL_PROCESS), RET (SECCOMP_RET_ALLOW) };
static const struct sock_filter ip_allow[] = { LD (8), RET (SECCOMP_RET_ALLOW) };
static const struct sock_filter masked[] = { LD (16), BPF_STMT (BPF_ALU | BPF_AND | BPF_K, 0xf0),
                                             BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 0x30, 0, 1),
                                             RET (SECCOMP_RET_ALLOW), RET (SECCOMP_RET_KILL_PROCESS) };
static const struct sock_filter ordered[]
    = { LD (16), BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, 0x30, 0, 3),
        BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, 0x40, 1, 0), RET (SECCOMP_RET_ALLOW),
        RET (SECCOMP_RET_KILL_PROCESS), RET (SECCOMP_RET_KILL_PROCESS) };
static const struct sock_filter jump_out[]
    = { LD (0), BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, 0, 0, 200), RET (SECCOMP_RET_ALLOW) };
static const struct sock_filter nr_allow[] = { LD (0), RET (SECCOMP_RET_ALLOW) };

static void
test_check_refuses (void **state)
{
  (void)state;
  assert_false (sandbox_bpf_same (gated, 8, arg0_allow, 2));
  assert_false (sandbox_bpf_same (ip_check, 4, ip_allow, 2));
  assert_false (sandbox_bpf_same (masked, 5, ordered, 6));
  assert_false (sandbox_bpf_same (jump_out, 3, nr_allow, 2));
  /* (each is the same as itself, but the one the kernel refuses) */
  assert_true (sandbox_bpf_same (gated, 8, gated, 8));
  assert_true (sandbox_bpf_same (masked, 5, masked, 5));
  assert_false (sandbox_bpf_same (jump_out, 3, jump_out, 3));
}

/* A program whose search is too deep for 8-bit jumps: 700 numbers, one after the
 * other, with alternating results (700 ranges).  The layout reaches through JAs and
 * repeated RETs, and the result is what the input says for every number. */
static void
test_far_jumps (void **state)
{
  (void)state;
  /* ld arch; x86_64 or kill; ld nr; 700 x (jeq i -> ret (i odd ? ALLOW : EPERM)); ENOSYS:
   * a chain as libseccomp emits without its binary tree */
  size_t n = 0;
  struct sock_filter *p = xmalloc (1500 * sizeof *p);
  p[n++] = (struct sock_filter)BPF_STMT (BPF_LD | BPF_W | BPF_ABS, 4);
  p[n++] = (struct sock_filter)BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  p[n++] = (struct sock_filter)BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  p[n++] = (struct sock_filter)BPF_STMT (BPF_LD | BPF_W | BPF_ABS, 0);
  for (uint32_t i = 0; i < 700; i++)
    {
      p[n++] = (struct sock_filter)BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, i, 0, 1);
      p[n++] = (struct sock_filter)BPF_STMT (BPF_RET | BPF_K, i % 2 ? SECCOMP_RET_ALLOW : RET_EPERM);
    }
  p[n++] = (struct sock_filter)BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  size_t m = 0;
  cleanup_free struct sock_filter *small = sandbox_seccomp_compact (p, n, &m);
  assert_non_null (small);
  assert_true (m < n);
  size_t ja = 0;
  for (size_t i = 0; i < m; i++)
    ja += small[i].code == (BPF_JMP | BPF_JA);
  assert_true (ja > 0); /* (the root's left half alone is ~350 instructions) */
  for (uint32_t arch = 0; arch < 2; arch++)
    for (uint32_t nr = 0; nr < 2000; nr++)
      {
        uint32_t a = arch ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_I386;
        assert_int_equal (run_call (p, n, a, nr, NULL), run_call (small, m, a, nr, NULL));
      }
  free (p);
}

/* The interpreter: the kernel's results for what seccomp loads, and its refusals. */
static void
test_interpreter (void **state)
{
  (void)state;
  struct seccomp_data d = { .nr = 5, .arch = AUDIT_ARCH_X86_64, .args = { 7 } };
  const struct sock_filter mem[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, args)),
    BPF_STMT (BPF_ST, 3),
    BPF_STMT (BPF_LD | BPF_IMM, 0),
    BPF_STMT (BPF_LDX | BPF_MEM, 3),
    BPF_STMT (BPF_MISC | BPF_TXA, 0),
    BPF_STMT (BPF_ALU | BPF_ADD | BPF_K, 1),
    BPF_STMT (BPF_RET | BPF_A, 0),
  };
  assert_true (sandbox_bpf_loadable (mem, 7));
  assert_int_equal (sandbox_bpf_run (mem, 7, &d), 8);
  const struct sock_filter div0[] = {
    BPF_STMT (BPF_LDX | BPF_IMM, 0),
    BPF_STMT (BPF_ALU | BPF_DIV | BPF_X, 0),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  assert_int_equal (sandbox_bpf_run (div0, 3, &d), 0);
  const struct sock_filter far[] = { BPF_JUMP (BPF_JMP | BPF_JA, 3, 0, 0),
                                     BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
  assert_int_equal (sandbox_bpf_run (far, 2, &d), SECCOMP_RET_KILL_PROCESS);
  assert_false (sandbox_bpf_loadable (far, 2));
  const struct sock_filter off_end[] = { BPF_STMT (BPF_LD | BPF_W | BPF_ABS, 0) };
  assert_int_equal (sandbox_bpf_run (off_end, 1, &d), SECCOMP_RET_KILL_PROCESS);
  assert_false (sandbox_bpf_loadable (off_end, 1));
  const struct sock_filter outside[] = { BPF_STMT (BPF_LD | BPF_W | BPF_ABS, 64),
                                         BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
  assert_int_equal (sandbox_bpf_run (outside, 2, &d), SECCOMP_RET_KILL_PROCESS);
  assert_false (sandbox_bpf_loadable (outside, 2));
  const struct sock_filter cmp[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, 0),
    BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, 5, 0, 2),
    BPF_JUMP (BPF_JMP | BPF_JGT | BPF_K, 5, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, 1),
    BPF_STMT (BPF_RET | BPF_K, 2),
  };
  assert_int_equal (sandbox_bpf_run (cmp, 5, &d), 1);
  /* shifts by X take its low five bits, as the kernel's */
  const struct sock_filter shift[] = {
    BPF_STMT (BPF_LDX | BPF_IMM, 33), BPF_STMT (BPF_LD | BPF_IMM, 1),
    BPF_STMT (BPF_ALU | BPF_LSH | BPF_X, 0), BPF_STMT (BPF_RET | BPF_A, 0),
  };
  assert_int_equal (sandbox_bpf_run (shift, 4, &d), 2);
  /* what seccomp refuses to load */
  const struct sock_filter mod[] = { BPF_STMT (BPF_ALU | BPF_MOD | BPF_K, 3),
                                     BPF_STMT (BPF_RET | BPF_A, 0) };
  assert_false (sandbox_bpf_loadable (mod, 2));
  const struct sock_filter ldx_abs[] = { BPF_STMT (BPF_LDX | BPF_W | BPF_ABS, 0),
                                         BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
  assert_false (sandbox_bpf_loadable (ldx_abs, 2));
  const struct sock_filter unset_mem[] = { BPF_STMT (BPF_LD | BPF_MEM, 2),
                                           BPF_STMT (BPF_RET | BPF_A, 0) };
  assert_false (sandbox_bpf_loadable (unset_mem, 2));
  const struct sock_filter div_k0[] = { BPF_STMT (BPF_ALU | BPF_DIV | BPF_K, 0),
                                        BPF_STMT (BPF_RET | BPF_A, 0) };
  assert_false (sandbox_bpf_loadable (div_k0, 2));
  /* a RET on the way taken, but the last instruction none */
  const struct sock_filter no_last_ret[] = { BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                                             BPF_STMT (BPF_LD | BPF_IMM, 0) };
  assert_false (sandbox_bpf_loadable (no_last_ret, 2));
  d.nr = 6;
  assert_int_equal (sandbox_bpf_run (cmp, 5, &d), 2);
  d.nr = 4;
  assert_int_equal (sandbox_bpf_run (cmp, 5, &d), 2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_profile),
    cmocka_unit_test (test_default_profile_all_caps),
    cmocka_unit_test (test_default_profile_credemu),
    cmocka_unit_test (test_default_rules_kept),
    cmocka_unit_test (test_user_profile_comparisons),
    cmocka_unit_test (test_x32_half),
    cmocka_unit_test (test_check_finds_changes),
    cmocka_unit_test (test_left_alone),
    cmocka_unit_test (test_check_refuses),
    cmocka_unit_test (test_far_jumps),
    cmocka_unit_test (test_interpreter),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
