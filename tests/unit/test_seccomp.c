/* tests/unit/test_seccomp.c: sandbox/seccomp (the embedded default profile, conditions on
 * capabilities and kernel, the JSON interpreter's errors; loading filters in forked children). */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/caps.h"
#include "sandbox/seccomp.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

#define cleanup_seccomp __attribute__ ((cleanup (sandbox_seccomp_release)))

/* The filter as libseccomp's pseudo filter code, native arch section only. */
static char *
native_pfc (scmp_filter_ctx ctx)
{
  int fd = memfd_create ("pfc", MFD_CLOEXEC);
  char *text = NULL;
  size_t len = 0;
  nook_error_t err = NULL;
  assert_true (fd >= 0);
  assert_int_equal (seccomp_export_pfc (ctx, fd), 0);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  char path[32];
  fs_fd_path (fd, path);
  assert_int_equal (fs_read_file_at (AT_FDCWD, path, 16u << 20, &text, &len, &err), 0);
  close (fd);
  /* Keep the first "# filter for arch" section: the native one. */
  char *first = strstr (text, "# filter for arch");
  assert_non_null (first);
  char *second = strstr (first + 1, "# filter for arch");
  if (second)
    *second = '\0';
  return text;
}

/* The action of the rule for syscall `name` in pfc: "ALLOW", "ERRNO(38)", "conditional",
 * or NULL when the syscall has no rule (the default action applies). */
static const char *
rule_action (const char *pfc, const char *name, char buf[64])
{
  cleanup_free char *needle = xasprintf ("# filter for syscall \"%s\" (", name);
  const char *p = strstr (pfc, needle);
  if (p == NULL)
    return NULL;
  /* "  if ($syscall == N)\n" then "    action X;" or a nested "if". */
  p = strchr (p, '\n');
  p = p ? strchr (p + 1, '\n') : NULL;
  assert_non_null (p);
  while (*p == '\n' || *p == ' ')
    p++;
  if (strncmp (p, "action ", 7) != 0)
    return "conditional";
  p += 7;
  size_t n = strcspn (p, ";\n");
  assert_true (n < 64);
  memcpy (buf, p, n);
  buf[n] = '\0';
  return buf;
}

static char *
default_pfc (uint64_t caps)
{
  cleanup_seccomp scmp_filter_ctx ctx = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_seccomp_build_default (caps, &ctx, &err), 0);
  assert_null (err);
  assert_non_null (ctx);
  return native_pfc (ctx);
}

static void
assert_action (const char *pfc, const char *name, const char *want)
{
  char buf[64];
  const char *got = rule_action (pfc, name, buf);
  if (want == NULL && got == NULL)
    return;
  if (want == NULL || got == NULL || strcmp (want, got) != 0)
    fail_msg ("syscall %s: expected %s, got %s", name, want ? want : "(default action)",
              got ? got : "(default action)");
}

static void
test_default_builds (void **state)
{
  cleanup_seccomp scmp_filter_ctx ctx = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_seccomp_build_default (sandbox_caps_default (), &ctx, &err), 0);
  sandbox_seccomp_release (&ctx);
  assert_null (ctx);
  assert_int_equal (sandbox_seccomp_build_default (sandbox_caps_all (), &ctx, &err), 0);
  sandbox_seccomp_release (&ctx);
  assert_int_equal (sandbox_seccomp_build_default (0, &ctx, &err), 0);
  assert_null (err);
#if defined(__x86_64__)
  /* x86_64 plus its x86 and x32 sub-architectures, as moby's archMap says (x32
   * only where the kernel has it). */
  assert_int_equal (seccomp_arch_exist (ctx, SCMP_ARCH_X86_64), 0);
  assert_int_equal (seccomp_arch_exist (ctx, SCMP_ARCH_X86), 0);
  assert_int_equal (seccomp_arch_exist (ctx, SCMP_ARCH_X32),
                    sandbox_seccomp_x32_usable () ? 0 : -EEXIST);
  assert_int_equal (seccomp_arch_exist (ctx, SCMP_ARCH_AARCH64), -EEXIST);
#endif
}

static void
test_default_matches_data_file (void **state)
{
  cleanup_free char *file = NULL;
  cleanup_error nook_error_t err = NULL;
  size_t flen = 0, elen = 0;
  const char *embedded = sandbox_seccomp_default_json (&elen);
  if (fs_read_file_at (AT_FDCWD, "sandbox/seccomp-default.json", 1u << 20, &file, &flen, &err) < 0)
    skip (); /* not run from the source tree */
  /* The generator ends the last line with a newline. */
  assert_true (elen == flen || (elen == flen + 1 && embedded[flen] == '\n'));
  assert_memory_equal (embedded, file, flen);
}

static void
test_default_rules (void **state)
{
  cleanup_free char *pfc = default_pfc (sandbox_caps_default ());
  static const char *const denied[] = { "keyctl",
                                        "add_key",
                                        "request_key",
                                        "bpf",
                                        "userfaultfd",
                                        "kexec_load",
                                        "open_by_handle_at",
                                        "mount",
                                        "umount2",
                                        "setns",
                                        "unshare",
                                        "perf_event_open",
                                        "reboot",
                                        "init_module",
                                        "swapon",
                                        "pivot_root",
                                        "iopl",
                                        "acct",
                                        "syslog",
                                        "lookup_dcookie",
                                        "fsopen",
                                        "move_mount",
                                        "open_tree",
                                        "sethostname" };
  for (size_t i = 0; i < ARRAY_SIZE (denied); i++)
    assert_action (pfc, denied[i], NULL);
  static const char *const allowed[]
      = { "read",           "write",      "getpid",
          "execve",         "openat2",    "chroot",
          "io_uring_setup", "ptrace",     "process_vm_readv",
          "arch_prctl",     "modify_ldt", "landlock_create_ruleset" };
  for (size_t i = 0; i < ARRAY_SIZE (allowed); i++)
    assert_action (pfc, allowed[i], "ALLOW");
  assert_action (pfc, "clone3", "ERRNO(38)");
  assert_action (pfc, "clone", "conditional");
  assert_action (pfc, "socket", "conditional");
  assert_action (pfc, "personality", "conditional");
}

static void
test_default_sys_admin_differs (void **state)
{
  uint64_t with = sandbox_caps_default () | SANDBOX_CAP_BIT (CAP_SYS_ADMIN);
  cleanup_free char *without_pfc = default_pfc (sandbox_caps_default ());
  cleanup_free char *with_pfc = default_pfc (with);
  static const char *const admin[] = { "mount",  "umount2",     "setns", "unshare", "bpf",
                                       "fsopen", "sethostname", "clone", "clone3",  "syslog" };
  assert_string_not_equal (with_pfc, without_pfc);
  for (size_t i = 0; i < ARRAY_SIZE (admin); i++)
    assert_action (with_pfc, admin[i], "ALLOW");
  assert_action (without_pfc, "mount", NULL);
  /* Still denied: they need other capabilities (or none would do). */
  assert_action (with_pfc, "keyctl", NULL);
  assert_action (with_pfc, "open_by_handle_at", NULL);
  assert_action (with_pfc, "reboot", NULL);
}

static void
test_default_all_caps (void **state)
{
  cleanup_free char *pfc = default_pfc (sandbox_caps_all ());
  static const char *const allowed[]
      = { "mount",      "open_by_handle_at", "reboot",  "init_module", "acct", "kcmp",
          "iopl",       "settimeofday",      "vhangup", "mbind",       "bpf",  "perf_event_open",
          "pidfd_getfd" };
  for (size_t i = 0; i < ARRAY_SIZE (allowed); i++)
    assert_action (pfc, allowed[i], "ALLOW");
  static const char *const denied[]
      = { "keyctl", "add_key", "request_key", "userfaultfd", "kexec_load", "swapon", "pivot_root" };
  for (size_t i = 0; i < ARRAY_SIZE (denied); i++)
    assert_action (pfc, denied[i], NULL);
}

static scmp_filter_ctx
build_ok (const char *json, uint64_t caps)
{
  scmp_filter_ctx ctx = NULL;
  nook_error_t err = NULL;
  if (sandbox_seccomp_build_json (json, strlen (json), "test.json", caps, &ctx, &err) < 0)
    fail_msg ("build failed: %s", err->msg);
  assert_non_null (ctx);
  return ctx;
}

static void
test_json_good_profile (void **state)
{
  const char *json
      = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\","
        " \"SCMP_ARCH_X86\"], \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],"
        " \"syscalls\": ["
        " {\"names\": [\"getppid\", \"no_such_syscall_xyz\"], \"action\": "
        "\"SCMP_ACT_ERRNO\", \"errnoRet\": 42, \"comment\": \"x\"},"
        " {\"name\": \"uname\", \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
        " {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"},"
        " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": ["
        "   {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"},"
        "   {\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"}]},"
        " {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_TRACE\", \"args\": ["
        "   {\"index\": 0, \"value\": 255, \"valueTwo\": 2, \"op\": "
        "\"SCMP_CMP_MASKED_EQ\"},"
        "   {\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_GE\"}]}"
        "]}";
  cleanup_seccomp scmp_filter_ctx ctx = build_ok (json, 0);
  cleanup_free char *pfc = native_pfc (ctx);
  assert_action (pfc, "getppid", "ERRNO(42)");
  assert_action (pfc, "uname", "KILL_PROCESS");
  assert_action (pfc, "getpid", NULL); /* the default action: skipped, as runc does */
  assert_action (pfc, "personality", "conditional");
  assert_action (pfc, "socket", "conditional");
  assert_non_null (strstr (pfc, "& 0x000000ff == 2"));
}

static void
test_json_conditions (void **state)
{
  const char *json
      = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1, \"syscalls\": ["
        " {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\","
        "  \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_NET_ADMIN\"]}},"
        " {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
        "  \"includes\": {\"minKernel\": \"99.0\"}},"
        " {\"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\","
        "  \"includes\": {\"minKernel\": \"3.10\"}},"
        " {\"names\": [\"close\"], \"action\": \"SCMP_ACT_ALLOW\","
        "  \"excludes\": {\"minKernel\": \"3.10\"}},"
        " {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\","
        "  \"excludes\": {\"caps\": [\"CAP_KILL\", \"CAP_NO_SUCH\"]}},"
        " {\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ALLOW\","
        "  \"includes\": {\"arches\": [\"amd64\", \"arm64\", \"s390x\", \"ppc64le\","
        "    \"riscv64\", \"arm\", \"386\"]}},"
        " {\"names\": [\"getgid\"], \"action\": \"SCMP_ACT_ALLOW\","
        "  \"excludes\": {\"arches\": [\"amd64\", \"arm64\", \"s390x\", \"ppc64le\","
        "    \"riscv64\", \"arm\", \"386\"]}},"
        " {\"names\": [\"getegid\"], \"action\": \"SCMP_ACT_ALLOW\","
        "  \"includes\": {\"arches\": [\"mips\"]}}"
        "]}";
  uint64_t admin = SANDBOX_CAP_BIT (CAP_SYS_ADMIN);
  uint64_t both = admin | SANDBOX_CAP_BIT (CAP_NET_ADMIN);
  cleanup_seccomp scmp_filter_ctx c1 = build_ok (json, admin);
  cleanup_seccomp scmp_filter_ctx c2 = build_ok (json, both | SANDBOX_CAP_BIT (CAP_KILL));
  cleanup_free char *p1 = native_pfc (c1);
  cleanup_free char *p2 = native_pfc (c2);
  assert_action (p1, "mount", NULL); /* includes.caps: every one is needed */
  assert_action (p2, "mount", "ALLOW");
  assert_action (p1, "read", NULL);
  assert_action (p1, "write", "ALLOW");
  assert_action (p1, "close", NULL);
  assert_action (p1, "getpid", "ALLOW"); /* excludes.caps: any one excludes */
  assert_action (p2, "getpid", NULL);
  assert_action (p1, "getuid", "ALLOW");
  assert_action (p1, "getgid", NULL);
  assert_action (p1, "getegid", NULL);
}

struct bad_case
{
  const char *json;
  const char *want; /* a substring of the message */
};

static void
test_json_bad_inputs (void **state)
{
  static const struct bad_case cases[] = {
    { "{", "invalid JSON" },
    { "[]", "expected a JSON object" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultAction\": \"SCMP_ACT_ALLOW\"}",
      "duplicate" },
    { "{\"syscalls\": []}", "defaultAction: missing or non-string action" },
    { "{\"defaultAction\": \"SCMP_ACT_NOPE\"}", "unknown or unsupported action 'SCMP_ACT_NOPE'" },
    { "{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", "unsupported action 'SCMP_ACT_NOTIFY'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
      "defaultErrnoRet is only valid with SCMP_ACT_ERRNO" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}",
      "defaultErrnoRet: expected an integer from 0 to 4095" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"bogus\": 1}", "top level: unknown field 'bogus'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_VAX\"]}",
      "unknown architecture 'SCMP_ARCH_VAX'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\"], "
      "\"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
      "both 'architectures' and 'archMap'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"archMap\": [{\"arch\": \"x\"}]}",
      "archMap[0]: unknown field 'arch'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_NOPE\"]}",
      "unknown flag 'SECCOMP_FILTER_FLAG_NOPE'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/x.sock\"}",
      "user notification is not supported" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}", "syscalls: expected an array" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"what\": 1}]}",
      "syscalls[0]: unknown field 'what'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}",
      "syscalls[0]: missing or non-string action" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [], "
      "\"action\": \"SCMP_ACT_ERRNO\"}]}",
      "syscalls[0]: no syscall names" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"name\": \"write\", \"action\": \"SCMP_ACT_ERRNO\"}]}",
      "both 'name' and 'names'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\", 3], "
      "\"action\": \"SCMP_ACT_ERRNO\"}]}",
      "syscalls[0]: names[1]: expected a string" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]}",
      "errnoRet is only valid" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 4096}]}",
      "errnoRet: expected an integer from 0 to 4095" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": "
      "\"SCMP_CMP_XX\"}]}]}",
      "syscalls[0].args[0]: unknown op 'SCMP_CMP_XX'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"op\": \"SCMP_CMP_EQ\"}]}]}",
      "syscalls[0].args[0]: index: expected an integer from 0 to 5" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": -1, \"op\": "
      "\"SCMP_CMP_EQ\"}]}]}",
      "syscalls[0].args[0]: value: expected an integer" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_EQ\", "
      "\"valueThree\": 1}]}]}",
      "syscalls[0].args[0]: unknown field 'valueThree'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0}]}]}",
      "syscalls[0].args[0]: missing or non-string op" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"args\": {}}]}",
      "syscalls[0].args: expected an array" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"minKernel\": \"4\"}}]}",
      "syscalls[0].includes: invalid minKernel" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"excludes\": {\"minKernel\": \"4.+8\"}}]}",
      "syscalls[0].excludes: invalid minKernel" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"excludes\": {\"kernel\": \"4.1\"}}]}",
      "syscalls[0].excludes: unknown field 'kernel'" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": \"CAP_SYS_ADMIN\"}}]}",
      "syscalls[0].includes: caps: expected an array of strings" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\"read\"]}",
      "syscalls[0]: expected an object" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      scmp_filter_ctx ctx = (scmp_filter_ctx)1;
      cleanup_error nook_error_t err = NULL;
      int r = sandbox_seccomp_build_json (cases[i].json, strlen (cases[i].json), "bad.json",
                                          sandbox_caps_default (), &ctx, &err);
      if (r != -1 || err == NULL)
        fail_msg ("case %zu accepted: %s", i, cases[i].json);
      assert_null (ctx);
      if (strstr (err->msg, "seccomp profile 'bad.json': ") != err->msg
          || strstr (err->msg, cases[i].want) == NULL)
        fail_msg ("case %zu: message '%s' lacks '%s'", i, err->msg, cases[i].want);
      assert_int_equal (err->code, 0); /* no errno text after the message */
    }
}

static void
test_json_too_large (void **state)
{
  size_t len = SANDBOX_SECCOMP_MAX_PROFILE + 1;
  cleanup_free char *big = xmalloc (len);
  cleanup_error nook_error_t err = NULL;
  scmp_filter_ctx ctx = NULL;
  memset (big, ' ', len);
  assert_int_equal (sandbox_seccomp_build_json (big, len, "big.json", 0, &ctx, &err), -1);
  assert_int_equal (err->code, EFBIG);
  assert_non_null (strstr (err->msg, "big.json"));
}

static void
test_build_file (void **state)
{
  char path[] = "/tmp/nook-test-seccomp-XXXXXX";
  const char *json = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                     "[\"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\"}]}";
  cleanup_error nook_error_t err = NULL;
  cleanup_seccomp scmp_filter_ctx ctx = NULL;
  int fd = mkostemp (path, O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (fs_write_all (fd, json, strlen (json)), 0);
  close (fd);
  assert_int_equal (sandbox_seccomp_build_file (path, 0, &ctx, &err), 0);
  cleanup_free char *pfc = native_pfc (ctx);
  assert_action (pfc, "keyctl", "ERRNO(1)");

  /* A bad file: the message names it. */
  fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (fs_write_all (fd, "{\"defaultAction\": 1}", 20), 0);
  close (fd);
  sandbox_seccomp_release (&ctx);
  assert_int_equal (sandbox_seccomp_build_file (path, 0, &ctx, &err), -1);
  assert_non_null (strstr (err->msg, path));
  nook_error_free (&err);

  unlink (path);
  assert_int_equal (sandbox_seccomp_build_file (path, 0, &ctx, &err), -1);
  assert_int_equal (err->code, ENOENT);
  assert_non_null (strstr (err->msg, path));
}

/* --- loading filters in forked children ------------------------------------------ */

/* Run check(ctx) in a child after no_new_privs and sandbox_seccomp_load; its exit
 * status is 0 when every check holds, else the number of the failing check. */
static void
run_in_child (scmp_filter_ctx ctx, int (*check) (void))
{
  int status;
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      nook_error_t err = NULL;
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        _exit (100);
      if (sandbox_seccomp_load (ctx, &err) < 0)
        _exit (101);
      _exit (check ());
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  if (!WIFEXITED (status))
    fail_msg ("child killed by signal %d", WTERMSIG (status));
  if (WEXITSTATUS (status) != 0)
    fail_msg ("check %d failed in the child", WEXITSTATUS (status));
}

static bool
fails_with (long r, int e)
{
  return r == -1 && errno == e;
}

static int
check_default (void)
{
  int devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (syscall (SYS_getpid) <= 0)
    return 1;
  if (devnull < 0 || write (devnull, "x", 1) != 1)
    return 2;
  if (!fails_with (syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM))
    return 3;
  if (!fails_with (unshare (CLONE_NEWUSER), EPERM))
    return 4;
  if (!fails_with (socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), EPERM))
    return 5;
  if (!fails_with (syscall (SYS_clone3, NULL, 0), ENOSYS))
    return 6;
  if (!fails_with (personality (ADDR_NO_RANDOMIZE), EPERM))
    return 7;
  if (personality (0xffffffff) < 0)
    return 8;
  int s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return 9;
  close (s);
  if (!fails_with (syscall (SYS_add_key, "user", "k", "v", 1, KEY_SPEC_PROCESS_KEYRING), EPERM))
    return 10;
  if (!fails_with (syscall (SYS_bpf, 0, NULL, 0), EPERM))
    return 11;
  if (!fails_with (syscall (SYS_userfaultfd, 0), EPERM))
    return 12;
  /* fork() is clone without namespace flags: allowed. */
  pid_t pid = fork ();
  if (pid == 0)
    _exit (0);
  if (pid < 0 || waitpid (pid, NULL, 0) != pid)
    return 13;
  return 0;
}

static void
test_load_default (void **state)
{
  cleanup_seccomp scmp_filter_ctx ctx = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_seccomp_build_default (sandbox_caps_default (), &ctx, &err), 0);
  run_in_child (ctx, check_default);
}

static int
check_all_caps (void)
{
  if (!fails_with (syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM))
    return 1;
  /* clone3 passes the filter; the kernel then rejects the bad arguments. */
  if (!fails_with (syscall (SYS_clone3, NULL, 0), EINVAL))
    return 2;
  if (getpid () <= 0)
    return 3;
  return 0;
}

static void
test_load_default_all_caps (void **state)
{
  cleanup_seccomp scmp_filter_ctx ctx = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_seccomp_build_default (sandbox_caps_all (), &ctx, &err), 0);
  run_in_child (ctx, check_all_caps);
}

static int
check_custom (void)
{
  if (!fails_with (syscall (SYS_getppid), 42)) /* glibc's getppid () never sets errno */
    return 1;
  if (getpid () <= 0)
    return 2;
  return 0;
}

/* nook's change to moby's profile: the audit netlink socket fails with EINVAL (libaudit's
 * "no audit here"), every other socket behaves as in moby's profile. */
static int
check_netlink_audit (void)
{
  int types[] = { SOCK_RAW, SOCK_DGRAM, SOCK_RAW | SOCK_NONBLOCK };
  for (size_t i = 0; i < ARRAY_SIZE (types); i++)
    if (!fails_with (socket (AF_NETLINK, types[i] | SOCK_CLOEXEC, NETLINK_AUDIT), EINVAL))
      return 1;
  /* The kernel reads int arguments: bits above 32 must not get around the rule. */
  if (!fails_with (syscall (SYS_socket, (1UL << 32) | AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
                            (1UL << 32) | NETLINK_AUDIT),
                   EINVAL))
    return 2;
  int ok[][3] = {
    { AF_NETLINK, SOCK_RAW, NETLINK_ROUTE },
    { AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE },
    { AF_UNIX, SOCK_STREAM, 0 },
    { AF_INET, SOCK_DGRAM, 0 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    {
      int s = socket (ok[i][0], ok[i][1] | SOCK_CLOEXEC, ok[i][2]);
      if (s < 0 && errno != EAFNOSUPPORT && errno != EPROTONOSUPPORT)
        return 3 + (int)i;
      if (s >= 0)
        close (s);
    }
  if (!fails_with (socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), EPERM))
    return 10;
  return 0;
}

static void
test_load_default_netlink_audit (void **state)
{
  /* Whatever the capabilities (CAP_AUDIT_WRITE is in Docker's default set). */
  uint64_t sets[] = { sandbox_caps_default (), sandbox_caps_default () | SANDBOX_CAP_BIT (21),
                      ~(uint64_t)0 };
  for (size_t i = 0; i < ARRAY_SIZE (sets); i++)
    {
      cleanup_seccomp scmp_filter_ctx ctx = NULL;
      cleanup_error nook_error_t err = NULL;
      assert_int_equal (sandbox_seccomp_build_default (sets[i], &ctx, &err), 0);
      run_in_child (ctx, check_netlink_audit);
    }
}

static void
test_load_custom (void **state)
{
  const char *json = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                     "[\"getppid\", \"no_such_syscall_xyz\"], \"action\": \"SCMP_ACT_ERRNO\", "
                     "\"errnoRet\": 42}]}";
  cleanup_seccomp scmp_filter_ctx ctx = build_ok (json, 0);
  run_in_child (ctx, check_custom);
}

/* x32 system calls (getpid allowed by the profile, kexec_load denied): on a
 * kernel with x32 the profile decides; on one without, both say ENOSYS as the
 * kernel does (the x32 half of the filter is left out), and none kills. */
static bool x32_usable; /* probed before the filter is loaded */

static int
check_x32 (void)
{
#if defined(__x86_64__)
  long x32 = 0x40000000L;
  if (x32_usable)
    {
      if (syscall (x32 | SYS_getpid) <= 0)
        return 1;
      if (!fails_with (syscall (x32 | SYS_kexec_load, 0, 0, NULL, 0), EPERM))
        return 2;
      return 0;
    }
  if (!fails_with (syscall (x32 | SYS_getpid), ENOSYS))
    return 3;
  if (!fails_with (syscall (x32 | SYS_kexec_load, 0, 0, NULL, 0), ENOSYS))
    return 4;
#endif
  if (getpid () <= 0)
    return 5;
  return 0;
}

static void
test_load_default_x32 (void **state)
{
  cleanup_seccomp scmp_filter_ctx ctx = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_seccomp_build_default (sandbox_caps_default (), &ctx, &err), 0);
  x32_usable = sandbox_seccomp_x32_usable ();
  run_in_child (ctx, check_x32);
}

static void
test_load_null (void **state)
{
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (sandbox_seccomp_load (NULL, &err), -1);
  assert_int_equal (err->code, EINVAL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_builds),   cmocka_unit_test (test_default_matches_data_file),
    cmocka_unit_test (test_default_rules),    cmocka_unit_test (test_default_sys_admin_differs),
    cmocka_unit_test (test_default_all_caps), cmocka_unit_test (test_json_good_profile),
    cmocka_unit_test (test_json_conditions),  cmocka_unit_test (test_json_bad_inputs),
    cmocka_unit_test (test_json_too_large),   cmocka_unit_test (test_build_file),
    cmocka_unit_test (test_load_default),     cmocka_unit_test (test_load_default_all_caps),
    cmocka_unit_test (test_load_default_netlink_audit),
    cmocka_unit_test (test_load_custom),      cmocka_unit_test (test_load_null),
    cmocka_unit_test (test_load_default_x32),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
