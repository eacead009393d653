/* tests/unit/test_lifecycle.c: the pure pieces of the container lifecycle: restart
 * policies (cmd/supervise.c), log options, Docker's json-file encoding and times
 * (cmd/logfile.c), signal names (cmd/lifecycle.c), the spec kept in config.json
 * (cmd/records_spec.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd/cgroup_info.h"
#include "cmd/lifecycle.h"
#include "cmd/logfile.h"
#include "cmd/records.h"
#include "cmd/supervise.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

static void
test_cgroup2_dir (void **state)
{
  (void)state;
  const char *mi = "24 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                   "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  char *d = cgroup2_dir_of ("9:name=systemd:/\n0::/\n", mi);
  assert_string_equal (d, "/sys/fs/cgroup/unified");
  free (d);
  d = cgroup2_dir_of ("0::/user.slice/user-1000.slice/user@1000.service/app.slice\n",
                      "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
  assert_string_equal (d, "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice");
  free (d);
  /* a mount of a subtree (a cgroup namespace's view) */
  d = cgroup2_dir_of ("0::/a/b\n", "30 1 0:26 /a /mnt/cg rw - cgroup2 cgroup2 rw\n");
  assert_string_equal (d, "/mnt/cg/b");
  free (d);
  assert_null (cgroup2_dir_of ("0::/ab\n", "30 1 0:26 /a /mnt/cg rw - cgroup2 cgroup2 rw\n"));
  assert_null (cgroup2_dir_of ("1:pids:/\n", mi));
  assert_null (cgroup2_dir_of ("0::/\n", "24 1 8:1 / / rw - ext4 /dev/sda1 rw\n"));
}

static void
test_restart_policy (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct restart_policy p;
  assert_int_equal (restart_policy_parse (NULL, &p, &err), 0);
  assert_int_equal (p.kind, RESTART_NO);
  assert_int_equal (restart_policy_parse ("on-failure:3", &p, &err), 0);
  assert_int_equal (p.kind, RESTART_ON_FAILURE);
  assert_int_equal (p.max_retries, 3);
  assert_int_equal (restart_policy_parse ("on-failure", &p, &err), 0);
  assert_int_equal (p.max_retries, 0);
  assert_int_equal (restart_policy_parse ("unless-stopped", &p, &err), 0);
  assert_int_equal (p.kind, RESTART_UNLESS_STOPPED);
  assert_string_equal (restart_policy_name (p.kind), "unless-stopped");
  assert_int_equal (restart_policy_parse ("sometimes", &p, &err), -1);
  assert_non_null (strstr (err->msg, "sometimes"));
  nook_error_free (&err);
  assert_int_equal (restart_policy_parse ("always:2", &p, &err), -1);
  nook_error_free (&err);
  assert_int_equal (restart_policy_parse ("on-failure:x", &p, &err), -1);
}

static void
test_log_config (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct log_config c;
  char *opts[] = { (char *)"max-size=10m", (char *)"max-file=3", NULL };
  assert_int_equal (log_config_parse ("json-file", opts, &c, &err), 0);
  assert_int_equal (c.max_size, 10 * 1024 * 1024);
  assert_int_equal (c.max_file, 3);
  assert_false (c.none);
  assert_int_equal (log_config_parse ("none", NULL, &c, &err), 0);
  assert_true (c.none);
  assert_int_equal (log_config_parse ("syslog", NULL, &c, &err), -1);
  nook_error_free (&err);
  char *bad[] = { (char *)"max-size=lots", NULL };
  assert_int_equal (log_config_parse (NULL, bad, &c, &err), -1);
  assert_non_null (strstr (err->msg, "max-size"));
  nook_error_free (&err);
  char *nosize[] = { (char *)"max-file=2", NULL };
  assert_int_equal (log_config_parse (NULL, nosize, &c, &err), -1);
  nook_error_free (&err);
  char *unknown[] = { (char *)"colour=blue", NULL };
  assert_int_equal (log_config_parse (NULL, unknown, &c, &err), -1);
}

static void
test_json_escape (void **state)
{
  struct strbuf b = { 0 };
  const char in[] = "a\"b\\c\n\t\x01\xc3\xa9\xff";
  log_json_escape (&b, in, sizeof in - 1);
  assert_string_equal (b.buf, "a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9\\ufffd");
  strbuf_free (&b);
}

static void
test_time_format (void **state)
{
  char t[40];
  log_format_time ((int64_t)1700000000 * 1000000000 + 123400000, t);
  assert_string_equal (t, "2023-11-14T22:13:20.1234Z");
  log_format_time ((int64_t)1700000000 * 1000000000, t);
  assert_string_equal (t, "2023-11-14T22:13:20Z");
}

static void
test_signal_parse (void **state)
{
  cleanup_error nook_error_t err = NULL;
  int s = 0;
  assert_int_equal (signal_parse ("SIGTERM", &s, &err), 0);
  assert_int_equal (s, SIGTERM);
  assert_int_equal (signal_parse ("hup", &s, &err), 0);
  assert_int_equal (s, SIGHUP);
  assert_int_equal (signal_parse ("9", &s, &err), 0);
  assert_int_equal (s, 9);
  assert_int_equal (signal_parse ("SIGRTMIN+1", &s, &err), 0);
  assert_int_equal (s, SIGRTMIN + 1);
  assert_string_equal (signal_name (SIGQUIT), "SIGQUIT");
  assert_int_equal (signal_parse ("SIGNOPE", &s, &err), -1);
}

/* The spec kept in config.json comes back as it went in. */
static void
test_spec_round_trip (void **state)
{
  cleanup_error nook_error_t err = NULL;
  char *argv[] = { (char *)"sh", (char *)"-c", (char *)"true", NULL };
  char *env[] = { (char *)"A=1", NULL };
  gid_t groups[] = { 10, 20 };
  struct nook_mount m
      = { .kind = MOUNT_TMPFS, .target = (char *)"/t", .options = (char *)"size=1m" };
  struct nook_rlimit rl = { .resource = 7, .soft = 10, .hard = 20 };
  struct nook_spec s = { .argv = argv,
                         .env = env,
                         .cwd = (char *)"/w",
                         .uid = 5,
                         .gid = 6,
                         .groups = groups,
                         .n_groups = 2,
                         .hostname = (char *)"h",
                         .tty = true,
                         .caps = 0x3ff,
                         .mounts = &m,
                         .n_mounts = 1,
                         .rlimits = &rl,
                         .n_rlimits = 1,
                         .network = NETWORK_HOST };
  json_t *cfg = json_pack ("{s:o}", "Spec", container_spec_json (&s));
  struct nook_spec t;
  assert_int_equal (container_spec_from_json (cfg, &t, &err), 0);
  assert_string_equal (t.argv[2], "true");
  assert_string_equal (t.env[0], "A=1");
  assert_string_equal (t.cwd, "/w");
  assert_int_equal (t.uid, 5);
  assert_int_equal (t.n_groups, 2);
  assert_int_equal (t.groups[1], 20);
  assert_true (t.tty);
  assert_int_equal (t.caps, 0x3ff);
  assert_int_equal (t.network, NETWORK_HOST);
  assert_int_equal (t.mounts[0].kind, MOUNT_TMPFS);
  assert_string_equal (t.mounts[0].options, "size=1m");
  assert_int_equal (t.rlimits[0].hard, 20);
  json_decref (cfg);
  nook_spec_free (&t);
  json_t *old = json_object ();
  assert_int_equal (container_spec_from_json (old, &t, &err), -1);
  json_decref (old);
  nook_spec_free (&t);
}

/* state.json: what a supervisor writes is read back; one whose supervisor is
 * gone reads as exited, 255. */
static void
test_state (void **state)
{
  cleanup_error nook_error_t err = NULL;
  char dir[] = "/tmp/nook-st-XXXXXX";
  assert_non_null (mkdtemp (dir));
  cleanup_free char *sub = xasprintf ("%s/c1", dir);
  assert_int_equal (mkdir (sub, 0700), 0);
  int cdir = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int d = open (sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct container_state w = { .status = "running",
                               .sup_pid = getpid (),
                               .sup_start = container_proc_start (getpid ()),
                               .restart_count = 2 };
  assert_int_equal (container_state_write (d, &w, &err), 0);
  struct container_state r;
  container_state_read (cdir, "c1", &r);
  assert_string_equal (r.status, "running");
  assert_int_equal (r.restart_count, 2);
  container_state_clear (&r);
  w.sup_start += 1; /* another process with our pid: not our supervisor */
  assert_int_equal (container_state_write (d, &w, &err), 0);
  container_state_read (cdir, "c1", &r);
  assert_string_equal (r.status, "exited");
  assert_int_equal (r.exit_code, 255);
  assert_non_null (strstr (r.error, "supervisor"));
  container_state_clear (&r);
  close (d);
  close (cdir);
  fs_rm_rf_at (AT_FDCWD, dir, &err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cgroup2_dir),
    cmocka_unit_test (test_restart_policy), cmocka_unit_test (test_log_config),
    cmocka_unit_test (test_json_escape),    cmocka_unit_test (test_time_format),
    cmocka_unit_test (test_signal_parse),   cmocka_unit_test (test_spec_round_trip),
    cmocka_unit_test (test_state),
  };
  return cmocka_run_group_tests_name ("lifecycle", tests, NULL, NULL);
}
