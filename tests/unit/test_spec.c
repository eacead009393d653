/* tests/unit/test_spec.c: cmd/spec (run flags, Docker's merge of image config and
 * flags, users from passwd/group, ulimits, volumes, env files, security options). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "cmd/spec.h"
#include "sandbox/caps.h"
#include "util/cleanup.h"
#include "util/util.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "user:x:1000:1000:user:/home/user:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char group[] = "root:x:0:\nuser:x:1000:\nwheel:x:10:user,other\naudio:x:29:user\n";

/* The image's files; "fifo-passwd" and "fifo-group" (as the data) make one of them
 * unreadable as run.c reports a FIFO. */
static int
read_image_file (void *data, const char *path, char **text, nook_error_t *err)
{
  const char *bad = data;
  if (bad && strcmp (bad + 5, path + 5) == 0)
    return nook_error_set (err, 0, "img: %s: not a regular file (fifo)", path);
  if (strcmp (path, "/etc/passwd") == 0)
    *text = xstrdup (passwd);
  else if (strcmp (path, "/etc/group") == 0)
    *text = xstrdup (group);
  else
    return nook_error_set (err, ENOENT, "%s", path);
  return 0;
}

static const char *
fake_getenv (const char *name)
{
  return strcmp (name, "FROMHOST") == 0 ? "hostvalue" : NULL;
}

static int
fake_env_file (const char *path, char **text, size_t *len, nook_error_t *err)
{
  static const char nul[] = "A=1\nB=2\0C=3\nD=4\n";
  if (strcmp (path, "good.env") == 0)
    *text = xstrdup ("# comment\n\nA=1\r\nFROMHOST\nUNSET_HERE\nB=two words\n");
  else if (strcmp (path, "bad.env") == 0)
    *text = xstrdup ("A=1\n=novalue\n");
  else if (strcmp (path, "ctl.env") == 0)
    *text = xstrdup ("A=1\nBAD\x1b[2J NAME=x\n");
  else if (strcmp (path, "nul.env") == 0)
    {
      *text = xmalloc (sizeof nul);
      memcpy (*text, nul, sizeof nul);
      *len = sizeof nul - 1;
      return 0;
    }
  else
    return nook_error_set (err, ENOENT, "open '%s'", path);
  *len = strlen (*text);
  return 0;
}

static const struct spec_env env = { .read_image_file = read_image_file,
                                     .getenv = fake_getenv,
                                     .read_env_file = fake_env_file };

static int
parse (struct run_opts *o, nook_error_t *err, ...)
{
  char *argv[64];
  int argc = 0;
  argv[argc++] = (char *) "run";
  va_list ap;
  va_start (ap, err);
  for (char *a; (a = va_arg (ap, char *)) != NULL;)
    argv[argc++] = a;
  va_end (ap);
  argv[argc] = NULL;
  return run_opts_parse (argc, argv, o, err);
}

static const char *
env_get (char *const *e, const char *name)
{
  size_t n = strlen (name);
  for (size_t i = 0; e && e[i]; i++)
    if (strncmp (e[i], name, n) == 0 && e[i][n] == '=')
      return e[i] + n + 1;
  return NULL;
}

static void
test_flags (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct run_opts o;
  assert_int_equal (parse (&o, &err, "--rm", "-it", "-e", "A=1", "--env=B=2", "-eC=3", "-v",
                           "/a:/b:ro", "-u", "1000:1000", "-w/tmp", "--network", "host",
                           "--cap-add=NET_ADMIN", "busybox", "sh", "-c", "echo -x", NULL),
                    0);
  assert_true (o.rm && o.interactive && o.tty);
  assert_int_equal (strv_len (o.env), 3);
  assert_string_equal (o.env[2], "C=3");
  assert_string_equal (o.volumes[0], "/a:/b:ro");
  assert_string_equal (o.user, "1000:1000");
  assert_string_equal (o.workdir, "/tmp");
  assert_string_equal (o.network, "host");
  assert_string_equal (o.image, "busybox");
  assert_int_equal (strv_len (o.cmd), 3);
  assert_string_equal (o.cmd[2], "echo -x"); /* flags after IMAGE belong to the command */
  run_opts_free (&o);

  assert_int_equal (parse (&o, &err, "--bogus", "busybox", NULL), -1);
  assert_non_null (strstr (err->msg, "unknown flag: --bogus"));
  nook_error_free (&err);
  run_opts_free (&o);
  assert_int_equal (parse (&o, &err, "-e", NULL), -1);
  assert_non_null (strstr (err->msg, "needs an argument"));
  nook_error_free (&err);
  run_opts_free (&o);
  assert_int_equal (parse (&o, &err, "--rm", NULL), -1);
  assert_non_null (strstr (err->msg, "requires at least 1 argument"));
  nook_error_free (&err);
  run_opts_free (&o);
  assert_int_equal (parse (&o, &err, "--rm=maybe", "x", NULL), -1);
  nook_error_free (&err);
  run_opts_free (&o);
  assert_int_equal (parse (&o, &err, "--entrypoint", "", "img", NULL), 0);
  assert_true (o.entrypoint_set);
  run_opts_free (&o);
}

static json_t *
image_config (void)
{
  return json_pack ("{s:{s:[s,s], s:[s], s:[s,s], s:s, s:s}}", "config", "Entrypoint", "/bin/ep",
                    "--flag", "Cmd", "default", "Env", "PATH=/img/bin", "IMG=1", "WorkingDir",
                    "/srv", "User", "user");
}

static void
test_merge_docker_rules (void **state)
{
  cleanup_error nook_error_t err = NULL;
  json_t *cfg = image_config ();
  struct run_opts o;
  struct nook_spec s = { 0 };

  /* image defaults */
  assert_int_equal (parse (&o, &err, "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "0123456789abcdef", &s, &err), 0);
  assert_int_equal (strv_len (s.argv), 3);
  assert_string_equal (s.argv[0], "/bin/ep");
  assert_string_equal (s.argv[2], "default");
  assert_string_equal (s.cwd, "/srv");
  assert_int_equal (s.uid, 1000);
  assert_int_equal (s.gid, 1000);
  assert_int_equal (s.n_groups, 2); /* wheel and audio list user */
  assert_string_equal (env_get (s.env, "PATH"), "/img/bin");
  assert_string_equal (env_get (s.env, "HOME"), "/home/user");
  assert_string_equal (env_get (s.env, "HOSTNAME"), "0123456789ab");
  assert_string_equal (s.hostname, "0123456789ab");
  assert_int_equal (s.caps, sandbox_caps_default ());
  assert_false (s.seccomp_unconfined);
  nook_spec_free (&s);
  run_opts_free (&o);

  /* args replace Cmd, keep Entrypoint */
  assert_int_equal (parse (&o, &err, "img", "a", "b", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), 0);
  assert_int_equal (strv_len (s.argv), 4);
  assert_string_equal (s.argv[2], "a");
  nook_spec_free (&s);
  run_opts_free (&o);

  /* --entrypoint resets the image's Cmd */
  assert_int_equal (parse (&o, &err, "--entrypoint", "/bin/echo", "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), 0);
  assert_int_equal (strv_len (s.argv), 1);
  assert_string_equal (s.argv[0], "/bin/echo");
  nook_spec_free (&s);
  run_opts_free (&o);

  /* flags override env, workdir, user; -t sets TERM */
  assert_int_equal (parse (&o, &err, "-t", "-e", "IMG=2", "-e", "FROMHOST", "-e", "NOTSET", "-w",
                           "/x", "-u", "0", "--hostname", "box", "img", NULL),
                    0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), 0);
  assert_string_equal (env_get (s.env, "IMG"), "2");
  assert_string_equal (env_get (s.env, "FROMHOST"), "hostvalue");
  assert_null (env_get (s.env, "NOTSET"));
  assert_string_equal (env_get (s.env, "TERM"), "xterm");
  assert_string_equal (env_get (s.env, "HOME"), "/root");
  assert_string_equal (s.cwd, "/x");
  assert_int_equal (s.uid, 0);
  assert_string_equal (s.hostname, "box");
  nook_spec_free (&s);
  run_opts_free (&o);
  json_decref (cfg);
}

static void
test_merge_errors (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct run_opts o;
  struct nook_spec s = { 0 };
  json_t *empty = json_pack ("{s:{}}", "config");

  assert_int_equal (parse (&o, &err, "img", NULL), 0);
  assert_int_equal (spec_merge (empty, &o, &env, "id", &s, &err), -1);
  assert_non_null (strstr (err->msg, "no command specified"));
  nook_error_free (&err);
  nook_spec_free (&s);
  run_opts_free (&o);

  static const char *const bad[][3] = {
    { "-w", "relative", "absolute path" },
    { "-u", "ghost", "unable to find user ghost" },
    { "-v", "./rel:/x", "invalid characters" },
    { "-v", "/a:/", "must be absolute, not /" },
    { "--ulimit", "nofile=5:2", "soft limit above hard" },
    { "--cap-add", "NOPE", "NOPE" },
    { "--network", "la b", "network la b not found" },
    { "--network", "slirp4netns:mtu=9", "mtu=9" },
    { "--security-opt", "foo=bar", "foo=bar" },
    { "--hostname", "bad_host!", "bad_host!" },
    { "--tmpfs", "/t:size=1m,context=x", "context=x" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      assert_int_equal (parse (&o, &err, bad[i][0], bad[i][1], "img", "true", NULL), 0);
      assert_int_equal (spec_merge (empty, &o, &env, "id", &s, &err), -1);
      if (strstr (err->msg, bad[i][2]) == NULL)
        fail_msg ("%s %s: '%s' lacks '%s'", bad[i][0], bad[i][1], err->msg, bad[i][2]);
      nook_error_free (&err);
      nook_spec_free (&s);
      run_opts_free (&o);
    }
  json_decref (empty);
}

static void
test_env_file (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct run_opts o;
  struct nook_spec s = { 0 };
  json_t *cfg = json_pack ("{s:{s:[s]}}", "config", "Cmd", "sh");
  assert_int_equal (parse (&o, &err, "--env-file", "good.env", "-e", "A=flag", "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), 0);
  assert_string_equal (env_get (s.env, "A"), "flag"); /* -e wins over the file */
  assert_string_equal (env_get (s.env, "B"), "two words");
  assert_string_equal (env_get (s.env, "FROMHOST"), "hostvalue");
  assert_null (env_get (s.env, "UNSET_HERE"));
  nook_spec_free (&s);
  run_opts_free (&o);

  assert_int_equal (parse (&o, &err, "--env-file", "bad.env", "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), -1);
  assert_non_null (strstr (err->msg, "bad.env:2"));
  nook_error_free (&err);
  nook_spec_free (&s);
  run_opts_free (&o);

  assert_int_equal (parse (&o, &err, "--env-file", "missing.env", "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), -1);
  assert_non_null (strstr (err->msg, "missing.env"));
  nook_spec_free (&s);
  run_opts_free (&o);
  json_decref (cfg);
}

static void
test_env_file_nul_and_escapes (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct run_opts o;
  struct nook_spec s = { 0 };
  json_t *cfg = json_pack ("{s:{s:[s]}}", "config", "Cmd", "sh");
  /* A NUL byte is an error naming the line, not a silent end of the file. */
  assert_int_equal (parse (&o, &err, "--env-file", "nul.env", "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), -1);
  assert_non_null (strstr (err->msg, "nul.env:2: a NUL byte"));
  nook_error_free (&err);
  nook_spec_free (&s);
  run_opts_free (&o);
  /* An invalid line is shown escaped: no terminal control sequence reaches stderr. */
  assert_int_equal (parse (&o, &err, "--env-file", "ctl.env", "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), -1);
  assert_non_null (strstr (err->msg, "ctl.env:2"));
  assert_non_null (strstr (err->msg, "BAD\\x1b[2J NAME=x"));
  assert_null (strchr (err->msg, '\x1b'));
  nook_error_free (&err);
  nook_spec_free (&s);
  run_opts_free (&o);
  assert_int_equal (parse (&o, &err, "-e", "A\x07 B=1", "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), -1);
  assert_non_null (strstr (err->msg, "A\\x07 B=1"));
  nook_spec_free (&s);
  run_opts_free (&o);
  json_decref (cfg);
}

static int warnings;
static void
count_warning (const char *msg)
{
  assert_non_null (strstr (msg, "not a regular file (fifo); treated as missing"));
  warnings++;
}

/* An unreadable /etc/passwd or /etc/group: an error when a user is asked for, a
 * missing file with a warning when not. */
static void
test_unreadable_user_db (void **state)
{
  struct spec_env fifo_env = env;
  fifo_env.warn = count_warning;
  json_t *plain = json_pack ("{s:{s:[s]}}", "config", "Cmd", "sh");
  json_t *with_user = json_pack ("{s:{s:[s], s:s}}", "config", "Cmd", "sh", "User", "user");
  const struct
  {
    const char *bad, *user;
    json_t **cfg;
    int ret;
  } cases[] = {
    { "fifo-passwd", NULL, &plain, 0 },  { "fifo-group", NULL, &plain, 0 },
    { "fifo-passwd", "0", &plain, -1 },  { "fifo-passwd", "user", &plain, -1 },
    { "fifo-group", "0:0", &plain, -1 }, { "fifo-passwd", NULL, &with_user, -1 },
    { "fifo-group", NULL, &with_user, -1 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cleanup_error nook_error_t err = NULL;
      struct run_opts o;
      struct nook_spec s = { 0 };
      fifo_env.data = (void *)cases[i].bad;
      warnings = 0;
      if (cases[i].user)
        assert_int_equal (parse (&o, &err, "-u", cases[i].user, "img", NULL), 0);
      else
        assert_int_equal (parse (&o, &err, "img", NULL), 0);
      int r = spec_merge (*cases[i].cfg, &o, &fifo_env, "id", &s, &err);
      if (r != cases[i].ret)
        fail_msg ("case %zu (%s, -u %s): %d", i, cases[i].bad, cases[i].user, r);
      if (r < 0)
        assert_non_null (strstr (err->msg, "img: /etc/"));
      else
        {
          assert_int_equal (warnings, 1);
          assert_int_equal (s.uid, 0);
        }
      nook_spec_free (&s);
      run_opts_free (&o);
    }
  json_decref (plain);
  json_decref (with_user);
}

static void
test_users (void **state)
{
  cleanup_error nook_error_t err = NULL;
  uid_t u;
  gid_t g;
  gid_t *groups = NULL;
  size_t n = 0;
  char *home = NULL;
  assert_int_equal (spec_resolve_user ("1000", passwd, group, &u, &g, &groups, &n, &home, &err), 0);
  assert_int_equal (u, 1000);
  assert_int_equal (g, 1000);
  free (groups);
  free (home);
  assert_int_equal (spec_resolve_user ("4242", passwd, group, &u, &g, &groups, &n, &home, &err), 0);
  assert_int_equal (u, 4242);
  assert_int_equal (g, 0); /* an unknown uid gets gid 0, as Docker */
  free (groups);
  free (home);
  assert_int_equal (spec_resolve_user ("user:wheel", passwd, group, &u, &g, &groups, &n, &home, &err), 0);
  assert_int_equal (g, 10);
  assert_int_equal (n, 0); /* an explicit group replaces the supplementary ones */
  free (groups);
  free (home);
  assert_int_equal (spec_resolve_user ("nobody:5", NULL, NULL, &u, &g, &groups, &n, &home, &err), -1);
  nook_error_free (&err);
  assert_int_equal (spec_resolve_user ("0:nogroup", passwd, group, &u, &g, &groups, &n, &home, &err), -1);
  assert_non_null (strstr (err->msg, "nogroup"));
  nook_error_free (&err);
  assert_int_equal (spec_resolve_user ("99999999999", passwd, group, &u, &g, &groups, &n, &home, &err), -1);
}

static void
test_ulimit_volume_security (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct nook_rlimit r;
  assert_int_equal (spec_parse_ulimit ("nofile=512:1024", &r, &err), 0);
  assert_int_equal (r.resource, RLIMIT_NOFILE);
  assert_int_equal (r.soft, 512);
  assert_int_equal (r.hard, 1024);
  assert_int_equal (spec_parse_ulimit ("core=-1", &r, &err), 0);
  assert_true (r.soft == RLIM_INFINITY && r.hard == RLIM_INFINITY);
  assert_int_equal (spec_parse_ulimit ("bogus=1", &r, &err), -1);
  nook_error_free (&err);
  assert_int_equal (spec_parse_ulimit ("nofile=x", &r, &err), -1);
  nook_error_free (&err);

  struct nook_mount m;
  assert_int_equal (spec_parse_volume ("/h:/c:ro", &m, &err), 0);
  assert_true (m.readonly);
  assert_string_equal (m.source, "/h");
  assert_string_equal (m.target, "/c");
  free (m.source);
  free (m.target);
  assert_int_equal (spec_parse_volume ("/h:/c/../x", &m, &err), -1);
  nook_error_free (&err);
  assert_int_equal (spec_parse_volume ("/h:/c:bogus", &m, &err), -1);
  nook_error_free (&err);
  /* an anonymous volume, a named one, --mount */
  assert_int_equal (spec_parse_volume ("/only", &m, &err), 0);
  assert_null (m.source);
  assert_string_equal (m.target, "/only");
  free (m.target);
  assert_int_equal (spec_parse_volume ("data:/d:ro,nocopy", &m, &err), 0);
  assert_string_equal (m.source, "data");
  assert_true (m.readonly);
  assert_string_equal (m.options, "nocopy");
  free (m.source), free (m.target), free (m.options);
  assert_int_equal (spec_parse_volume ("./rel:/d", &m, &err), -1);
  assert_non_null (strstr (err->msg, "invalid characters"));
  nook_error_free (&err);
  assert_int_equal (spec_parse_mount ("type=volume,src=v1,dst=/v,readonly", &m, &err), 0);
  assert_string_equal (m.source, "v1");
  assert_true (m.readonly);
  free (m.source), free (m.target);
  assert_int_equal (spec_parse_mount ("type=bind,source=/tmp,target=/w,readonly=false", &m, &err),
                    0);
  assert_string_equal (m.source, "/tmp");
  assert_false (m.readonly);
  free (m.source), free (m.target);
  assert_int_equal (spec_parse_mount ("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770", &m, &err),
                    0);
  assert_int_equal (m.kind, MOUNT_TMPFS);
  assert_string_equal (m.options, "size=1m,mode=1770");
  free (m.target), free (m.options);
  static const char *const bad_mounts[] = { "type=bind,src=/nonexistent-x,dst=/w", "type=nfs,dst=/x",
                                            "type=volume,dst=relative", "type=volume,src=v,dst=/x,bogus=1",
                                            "type=tmpfs,src=x,dst=/t", "type=volume,src=v,dst=/x,readonly=maybe" };
  for (size_t i = 0; i < sizeof bad_mounts / sizeof bad_mounts[0]; i++)
    {
      if (spec_parse_mount (bad_mounts[i], &m, &err) == 0)
        fail_msg ("--mount '%s' accepted", bad_mounts[i]);
      assert_non_null (strstr (err->msg, bad_mounts[i]));
      nook_error_free (&err);
    }
  /* Field by field: empty fields and conflicting options are errors naming the value. */
  static const char *const bad_volumes[][2] = {
    { ":/tmp:/x", "host path is empty" },
    { "/tmp::/x", "container path is empty" },
    { "/tmp:/x:", "options are empty" },
    { "/tmp:/x:ro,rw", "conflicting options 'ro' and 'rw'" },
    { "/tmp:/x:rw,ro", "conflicting options 'rw' and 'ro'" },
    { "/tmp:/x:ro,ro", "conflicting options 'ro' and 'ro'" },
    { "/tmp:/x:z,Z", "conflicting options 'z' and 'Z'" },
    { "/tmp:/x:ro,", "empty option in 'ro,'" },
    { "/tmp:/x:,ro", "empty option" },
    { "/tmp:/x:ro:rw", "too many fields" },
    { "/tmp:/x:nosuid", "unknown option 'nosuid'" },
    { "/tmp:/x:ro,bogus", "unknown option 'bogus'" },
    { ":", "host path is empty" },
  };
  for (size_t i = 0; i < sizeof bad_volumes / sizeof bad_volumes[0]; i++)
    {
      if (spec_parse_volume (bad_volumes[i][0], &m, &err) == 0)
        fail_msg ("-v '%s' accepted", bad_volumes[i][0]);
      if (strstr (err->msg, bad_volumes[i][1]) == NULL || strstr (err->msg, bad_volumes[i][0]) == NULL)
        fail_msg ("-v '%s': '%s' lacks '%s' or the value", bad_volumes[i][0], err->msg, bad_volumes[i][1]);
      nook_error_free (&err);
    }
  static const struct
  {
    const char *spec;
    bool ro;
  } good_volumes[] = { { "/h:/c:rw", false }, { "/h:/c:Z,ro", true }, { "/h:/c:rbind,rw,z", false }, { "/h:/c", false } };
  for (size_t i = 0; i < sizeof good_volumes / sizeof good_volumes[0]; i++)
    {
      if (spec_parse_volume (good_volumes[i].spec, &m, &err) < 0)
        fail_msg ("-v '%s' refused: %s", good_volumes[i].spec, err->msg);
      assert_int_equal (m.readonly, good_volumes[i].ro);
      assert_string_equal (m.source, "/h");
      assert_string_equal (m.target, "/c");
      free (m.source);
      free (m.target);
    }

  bool unconfined;
  char *profile = NULL;
  char *opts[] = { (char *) "seccomp=unconfined", (char *) "no-new-privileges", NULL };
  assert_int_equal (spec_security_opts (opts, &unconfined, &profile, &err), 0);
  assert_true (unconfined);
  assert_null (profile);
  char *opts2[] = { (char *) "seccomp=/p.json", NULL };
  assert_int_equal (spec_security_opts (opts2, &unconfined, &profile, &err), 0);
  assert_false (unconfined);
  assert_string_equal (profile, "/p.json");
  free (profile);
}

static void
test_privileged (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct run_opts o;
  struct nook_spec s = { 0 };
  json_t *cfg = json_pack ("{s:{s:[s]}}", "config", "Cmd", "sh");
  assert_int_equal (parse (&o, &err, "--privileged", "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), 0);
  assert_int_equal (s.caps, sandbox_caps_all ());
  assert_true (s.seccomp_unconfined);
  assert_true (s.unmasked);
  nook_spec_free (&s);
  run_opts_free (&o);
  assert_int_equal (parse (&o, &err, "--cap-drop", "ALL", "--cap-add", "CHOWN", "img", NULL), 0);
  assert_int_equal (spec_merge (cfg, &o, &env, "id", &s, &err), 0);
  assert_int_equal (s.caps, SANDBOX_CAP_BIT (0));
  nook_spec_free (&s);
  run_opts_free (&o);
  json_decref (cfg);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_flags),       cmocka_unit_test (test_merge_docker_rules),
    cmocka_unit_test (test_merge_errors), cmocka_unit_test (test_env_file),
    cmocka_unit_test (test_users),       cmocka_unit_test (test_ulimit_volume_security),
    cmocka_unit_test (test_privileged),  cmocka_unit_test (test_env_file_nul_and_escapes),
    cmocka_unit_test (test_unreadable_user_db),
  };
  return cmocka_run_group_tests_name ("spec", tests, NULL, NULL);
}
