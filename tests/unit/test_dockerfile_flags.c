/* tests/unit/test_dockerfile_flags.c: RUN, COPY and ADD flags (imagefmt/dockerfile/flags.h):
 * BuildKit's defaults, validation and messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "imagefmt/dockerfile/flags.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <string.h>

static struct dockerfile_mount
mount_ok (const char *value, char *const *env)
{
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_mount m = { 0 };
  if (dockerfile_mount_parse (value, env, '\\', 0, &m, &err) < 0)
    fail_msg ("%s: %s", value, err->msg);
  return m;
}

/* The error message for a bad value (fails the test if it parses). */
static char *
mount_err (const char *value)
{
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_mount m = { 0 };
  if (dockerfile_mount_parse (value, NULL, '\\', 0, &m, &err) == 0)
    {
      dockerfile_mount_clear (&m);
      fail_msg ("%s: parsed", value);
    }
  assert_int_equal (err->exit, 1);
  return xstrdup (err->msg);
}

#define EXPECT_MOUNT_ERR(value, want)                                                              \
  do                                                                                               \
    {                                                                                              \
      cleanup_free char *m_ = mount_err (value);                                                   \
      assert_string_equal (m_, want);                                                              \
    }                                                                                              \
  while (0)

static void
test_mount_defaults (void **state)
{
  struct dockerfile_mount m = mount_ok ("target=/src", NULL);
  assert_int_equal (m.type, DOCKERFILE_MOUNT_BIND);
  assert_true (m.readonly); /* bind: read-only unless rw */
  assert_null (m.from);
  assert_null (m.source);
  assert_string_equal (m.target, "/src");
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=cache,target=/root/.cache/", NULL);
  assert_int_equal (m.type, DOCKERFILE_MOUNT_CACHE);
  assert_false (m.readonly);
  assert_string_equal (m.id, "/root/.cache"); /* the cleaned target */
  assert_int_equal (m.sharing, DOCKERFILE_SHARING_SHARED);
  assert_int_equal (m.mode, 0755);
  assert_false (m.has_mode);
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=tmpfs,dst=/t,size=64m", NULL);
  assert_int_equal (m.type, DOCKERFILE_MOUNT_TMPFS);
  assert_false (m.readonly);
  assert_int_equal (m.size, 64u << 20);
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=secret,id=npm", NULL);
  assert_int_equal (m.type, DOCKERFILE_MOUNT_SECRET);
  assert_string_equal (m.id, "npm");
  assert_string_equal (m.target, "/run/secrets/npm");
  assert_int_equal (m.mode, 0400);
  assert_true (m.readonly);
  assert_false (m.required);
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=ssh", NULL);
  assert_int_equal (m.type, DOCKERFILE_MOUNT_SSH);
  assert_string_equal (m.id, "default");
  assert_string_equal (m.target, "/run/buildkit/ssh_agent.0");
  assert_int_equal (m.mode, 0600);
  dockerfile_mount_clear (&m);
}

static void
test_mount_keys (void **state)
{
  struct dockerfile_mount m
      = mount_ok ("type=cache,id=go,target=/go,sharing=locked,mode=0700,uid=1000,gid=100", NULL);
  assert_string_equal (m.id, "go");
  assert_int_equal (m.sharing, DOCKERFILE_SHARING_LOCKED);
  assert_int_equal (m.mode, 0700);
  assert_true (m.has_mode && m.has_uid && m.has_gid);
  assert_int_equal (m.uid, 1000);
  assert_int_equal (m.gid, 100);
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=bind,from=build,source=/out,destination=/in,rw", NULL);
  assert_string_equal (m.from, "build");
  assert_string_equal (m.source, "/out");
  assert_string_equal (m.target, "/in");
  assert_false (m.readonly);
  dockerfile_mount_clear (&m);

  m = mount_ok ("TYPE=Cache,target=/c,ro", NULL); /* keys and types are case-insensitive */
  assert_int_equal (m.type, DOCKERFILE_MOUNT_CACHE);
  assert_true (m.readonly);
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=bind,target=/x,readonly=false", NULL);
  assert_false (m.readonly);
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=secret,src=token.txt,required", NULL);
  assert_string_equal (m.id, "token.txt"); /* source names the secret */
  assert_null (m.source);
  assert_true (m.required);
  assert_string_equal (m.target, "/run/secrets/token.txt");
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=secret,id=npm,env=NPM_TOKEN", NULL);
  assert_string_equal (m.env, "NPM_TOKEN");
  assert_null (m.target); /* an environment variable only */
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=secret,target=/etc/key.pem,required=true", NULL);
  assert_string_equal (m.id, "key.pem"); /* basename of the target */
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=ssh,id=gh,target=/ssh.sock,mode=0660,required=false", NULL);
  assert_string_equal (m.id, "gh");
  assert_int_equal (m.mode, 0660);
  dockerfile_mount_clear (&m);

  /* A quoted CSV field may hold a comma. */
  m = mount_ok ("type=bind,\"source=a,b\",target=/x", NULL);
  assert_string_equal (m.source, "a,b");
  dockerfile_mount_clear (&m);

  m = mount_ok ("type=tmpfs,target=/t,size=1.5k", NULL);
  assert_int_equal (m.size, 1536);
  dockerfile_mount_clear (&m);
}

static void
test_mount_expansion (void **state)
{
  char *env[] = { "CACHE=/var/cache/apt", "ID=apt", NULL };
  struct dockerfile_mount m = mount_ok ("type=cache,target=$CACHE,id=${ID}-1", env);
  assert_string_equal (m.target, "/var/cache/apt");
  assert_string_equal (m.id, "apt-1");
  dockerfile_mount_clear (&m);
  /* Without an environment nothing is expanded. */
  m = mount_ok ("type=cache,target=$CACHE", NULL);
  assert_string_equal (m.target, "$CACHE");
  dockerfile_mount_clear (&m);
  EXPECT_MOUNT_ERR ("type=bind,from=$STAGE,target=/x",
                    "--mount=type=bind,from=$STAGE,target=/x: 'from' doesn't support variable "
                    "expansion, define alias stage instead");
}

static void
test_mount_errors (void **state)
{
  EXPECT_MOUNT_ERR ("type=volume,target=/x",
                    "--mount=type=volume,target=/x: unsupported mount type \"volume\" (bind, "
                    "cache, tmpfs, secret or ssh)");
  EXPECT_MOUNT_ERR ("type=cache,target=/x,sharing=exclusive",
                    "--mount=type=cache,target=/x,sharing=exclusive: unsupported sharing value "
                    "\"exclusive\" (shared, private or locked)");
  EXPECT_MOUNT_ERR ("type=cache,target=/x,colour=red",
                    "--mount=type=cache,target=/x,colour=red: unexpected key 'colour' in "
                    "'colour=red'");
  EXPECT_MOUNT_ERR ("type=cache,target=/x,bogus",
                    "--mount=type=cache,target=/x,bogus: invalid field 'bogus' must be a "
                    "key=value pair");
  EXPECT_MOUNT_ERR ("type=cache,target=/x,mode=999",
                    "--mount=type=cache,target=/x,mode=999: invalid value 999 for mode");
  EXPECT_MOUNT_ERR ("type=cache,target=/x,uid=-1",
                    "--mount=type=cache,target=/x,uid=-1: invalid value -1 for uid");
  EXPECT_MOUNT_ERR ("type=cache,target=/x,gid=x",
                    "--mount=type=cache,target=/x,gid=x: invalid value x for gid");
  EXPECT_MOUNT_ERR ("type=bind,target=/x,ro=maybe",
                    "--mount=type=bind,target=/x,ro=maybe: invalid value for ro: maybe");
  EXPECT_MOUNT_ERR ("type=bind,target=/x,mode=0755",
                    "--mount=type=bind,target=/x,mode=0755: mode not allowed for \"bind\" type "
                    "mounts");
  EXPECT_MOUNT_ERR ("type=tmpfs,target=/x,uid=1",
                    "--mount=type=tmpfs,target=/x,uid=1: uid not allowed for \"tmpfs\" type "
                    "mounts");
  EXPECT_MOUNT_ERR ("type=cache,target=/x,size=1g",
                    "--mount=type=cache,target=/x,size=1g: unexpected key 'size' for mount type "
                    "'cache'");
  EXPECT_MOUNT_ERR ("type=tmpfs,target=/x,size=lots",
                    "--mount=type=tmpfs,target=/x,size=lots: invalid value for size: lots");
  EXPECT_MOUNT_ERR ("type=bind,target=/x,required",
                    "--mount=type=bind,target=/x,required: unexpected key 'required' for mount "
                    "type 'bind'");
  EXPECT_MOUNT_ERR ("type=bind,target=/x,sharing=locked",
                    "--mount=type=bind,target=/x,sharing=locked: invalid cache sharing set for "
                    "bind mount");
  EXPECT_MOUNT_ERR ("type=secret",
                    "--mount=type=secret: invalid secret mount. one of source, target required");
  EXPECT_MOUNT_ERR ("type=secret,id=a,src=b",
                    "--mount=type=secret,id=a,src=b: both source and id can't be set");
  EXPECT_MOUNT_ERR ("type=secret,id=a,from=x",
                    "--mount=type=secret,id=a,from=x: secret mount should not have a from");
  EXPECT_MOUNT_ERR ("type=secret,id=a,sharing=shared",
                    "--mount=type=secret,id=a,sharing=shared: secret mount should not define "
                    "sharing");
  EXPECT_MOUNT_ERR ("type=ssh,source=/x",
                    "--mount=type=ssh,source=/x: ssh does not support source");
  EXPECT_MOUNT_ERR ("type=cache,target=/x,env=A",
                    "--mount=type=cache,target=/x,env=A: unexpected key 'env' for mount type "
                    "'cache'");
  EXPECT_MOUNT_ERR ("type=bind,\"source=a,target=/x",
                    "--mount=type=bind,\"source=a,target=/x: failed to parse csv mounts: "
                    "extraneous or missing \" in quoted-field");
}

static char *
run_err (char **flags)
{
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_run_flags f = { 0 };
  if (dockerfile_run_flags_parse (flags, NULL, '\\', &f, &err) == 0)
    {
      dockerfile_run_flags_clear (&f);
      fail_msg ("parsed");
    }
  return xstrdup (err->msg);
}

static void
test_run_flags (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_run_flags f = { 0 };
  char *flags[] = { "--mount=type=cache,target=/a", "--network=none",      "--mount=type=ssh",
                    "--mount=type=ssh,id=b",        "--security=insecure", NULL };
  assert_int_equal (dockerfile_run_flags_parse (flags, NULL, '\\', &f, &err), 0);
  assert_int_equal (f.n_mounts, 3);
  assert_int_equal (f.network, DOCKERFILE_NETWORK_NONE);
  assert_int_equal (f.security, DOCKERFILE_SECURITY_INSECURE);
  assert_string_equal (f.mounts[1].target, "/run/buildkit/ssh_agent.0");
  assert_string_equal (f.mounts[2].target, "/run/buildkit/ssh_agent.1");
  dockerfile_run_flags_clear (&f);

  char *none[] = { NULL };
  assert_int_equal (dockerfile_run_flags_parse (none, NULL, '\\', &f, &err), 0);
  assert_int_equal (f.n_mounts, 0);
  assert_int_equal (f.network, DOCKERFILE_NETWORK_DEFAULT);
  assert_int_equal (f.security, DOCKERFILE_SECURITY_SANDBOX);
  dockerfile_run_flags_clear (&f);
  char *host[] = { "--network=host", NULL };
  assert_int_equal (dockerfile_run_flags_parse (host, NULL, '\\', &f, &err), 0);
  assert_int_equal (f.network, DOCKERFILE_NETWORK_HOST);
  dockerfile_run_flags_clear (&f);

  char *bad_net[] = { "--network=bridge", NULL };
  cleanup_free char *e1 = run_err (bad_net);
  assert_string_equal (e1, "invalid network mode \"bridge\" (default, none or host)");
  char *bad_sec[] = { "--security=privileged", NULL };
  cleanup_free char *e2 = run_err (bad_sec);
  assert_string_equal (e2, "security \"privileged\" is not valid (sandbox or insecure)");
  char *unknown[] = { "--mnt=type=cache", NULL };
  cleanup_free char *e3 = run_err (unknown);
  assert_string_equal (e3, "unknown flag: --mnt");
  char *dup[] = { "--network=none", "--network=host", NULL };
  cleanup_free char *e4 = run_err (dup);
  assert_string_equal (e4, "duplicate flag specified: --network");
  char *noval[] = { "--network", NULL };
  cleanup_free char *e5 = run_err (noval);
  assert_string_equal (e5, "missing a value on flag: --network");
  char *badmount[] = { "--mount=type=cache,target=/x", "--mount=type=nope", NULL };
  cleanup_free char *e6 = run_err (badmount);
  assert_string_equal (e6, "--mount=type=nope: unsupported mount type \"nope\" (bind, cache, "
                           "tmpfs, secret or ssh)");
}

static void
test_chmod (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_chmod c;
  assert_int_equal (dockerfile_chmod_parse ("755", &c, &err), 0);
  assert_false (c.symbolic);
  assert_int_equal (c.mode, 0755);
  assert_int_equal (dockerfile_chmod_apply (&c, 0100644, false), 0100755);
  free (c.text);
  assert_int_equal (dockerfile_chmod_parse ("04755", &c, &err), 0);
  assert_int_equal (dockerfile_chmod_apply (&c, 0100600, false), 0104755);
  free (c.text);

  assert_int_equal (dockerfile_chmod_parse ("+x", &c, &err), 0);
  assert_true (c.symbolic);
  assert_int_equal (dockerfile_chmod_apply (&c, 0644, false), 0755);
  free (c.text);
  assert_int_equal (dockerfile_chmod_parse ("u=rwX,go=rX", &c, &err), 0);
  assert_int_equal (dockerfile_chmod_apply (&c, 0600, false), 0644); /* a plain file */
  assert_int_equal (dockerfile_chmod_apply (&c, 0700, false), 0755); /* already executable */
  assert_int_equal (dockerfile_chmod_apply (&c, 0700, true), 0755);  /* a directory */
  assert_int_equal (dockerfile_chmod_apply (&c, 0600, true), 0755);
  free (c.text);
  assert_int_equal (dockerfile_chmod_parse ("g=u", &c, &err), 0);
  assert_int_equal (dockerfile_chmod_apply (&c, 0750, false), 0770);
  free (c.text);
  assert_int_equal (dockerfile_chmod_parse ("o-rwx,g+w", &c, &err), 0);
  assert_int_equal (dockerfile_chmod_apply (&c, 0755, false), 0770);
  free (c.text);
  assert_int_equal (dockerfile_chmod_parse ("u+s,+t", &c, &err), 0);
  assert_int_equal (dockerfile_chmod_apply (&c, 0755, false), 05755);
  free (c.text);

  assert_int_equal (dockerfile_chmod_parse ("10000", &c, &err), -1);
  assert_string_equal (err->msg, "invalid chmod parameter: '10000'. it should be octal string and "
                                 "between 0 and 07777");
  nook_error_free (&err);
  assert_int_equal (dockerfile_chmod_parse ("789", &c, &err), -1);
  assert_string_equal (err->msg, "invalid chmod parameter: '789'. it should be octal string and "
                                 "between 0 and 07777");
  nook_error_free (&err);
  assert_int_equal (dockerfile_chmod_parse ("u+q", &c, &err), -1);
  assert_string_equal (err->msg, "invalid chmod parameter: 'u+q': unexpected 'q'");
  nook_error_free (&err);
  assert_int_equal (dockerfile_chmod_parse ("rwx", &c, &err), -1);
  assert_string_equal (err->msg, "invalid chmod parameter: 'rwx': expected an operator (+, - or "
                                 "=) at 'rwx'");
}

static void
test_chown (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_chown c;
  assert_int_equal (dockerfile_chown_parse ("1000:100", &c, &err), 0);
  assert_true (c.user_is_id && c.group_is_id);
  assert_int_equal (c.uid, 1000);
  assert_int_equal (c.gid, 100);
  free (c.user);
  free (c.group);
  assert_int_equal (dockerfile_chown_parse ("node", &c, &err), 0);
  assert_string_equal (c.user, "node");
  assert_null (c.group);
  assert_false (c.user_is_id);
  free (c.user);
  assert_int_equal (dockerfile_chown_parse ("app:staff", &c, &err), 0);
  assert_string_equal (c.group, "staff");
  free (c.user);
  free (c.group);
  assert_int_equal (dockerfile_chown_parse (":staff", &c, &err), -1);
  assert_string_equal (err->msg, "invalid --chown value ':staff': USER[:GROUP] expected");
  nook_error_free (&err);
  assert_int_equal (dockerfile_chown_parse ("a:b:c", &c, &err), -1);
  nook_error_free (&err);
  assert_int_equal (dockerfile_chown_parse ("99999999999", &c, &err), -1);
  assert_string_equal (err->msg, "invalid --chown value '99999999999': uid out of range");
}

static void
test_checksum (void **state)
{
  cleanup_error nook_error_t err = NULL;
  char good[80];
  snprintf (good, sizeof good, "sha256:%064d", 0);
  assert_int_equal (dockerfile_checksum_check (good, &err), 0);
  assert_int_equal (dockerfile_checksum_check ("sha256:abc", &err), -1);
  assert_string_equal (err->msg,
                       "invalid checksum digest length: 'sha256:abc' (64 hex digits expected)");
  nook_error_free (&err);
  assert_int_equal (dockerfile_checksum_check ("md5:abc", &err), -1);
  assert_string_equal (err->msg, "unsupported digest algorithm: 'md5' (sha256, sha384 or sha512)");
  nook_error_free (&err);
  assert_int_equal (dockerfile_checksum_check ("abc", &err), -1);
  nook_error_free (&err);
  good[10] = 'G';
  assert_int_equal (dockerfile_checksum_check (good, &err), -1);
}

static void
test_copy_flags (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_copy_flags f;
  char *env[] = { "OWNER=1000", "MODE=640", NULL };
  char *copy[] = { "--from=build",   "--chown=$OWNER:$OWNER", "--chmod=$MODE", "--link",
                   "--exclude=*.md", "--exclude=tmp/",        "--parents",     NULL };
  assert_int_equal (dockerfile_copy_flags_parse (copy, false, env, '\\', &f, &err), 0);
  assert_false (f.add);
  assert_string_equal (f.from, "build");
  assert_true (f.chown.set);
  assert_int_equal (f.chown.uid, 1000);
  assert_int_equal (f.chown.gid, 1000);
  assert_true (f.chmod.set);
  assert_int_equal (f.chmod.mode, 0640);
  assert_true (f.link);
  assert_true (f.parents);
  assert_int_equal (strv_len (f.exclude), 2);
  assert_string_equal (f.exclude[1], "tmp/");
  dockerfile_copy_flags_clear (&f);

  char *link_false[] = { "--link=false", NULL };
  assert_int_equal (dockerfile_copy_flags_parse (link_false, false, NULL, '\\', &f, &err), 0);
  assert_false (f.link);
  assert_false (f.chown.set);
  dockerfile_copy_flags_clear (&f);

  /* An empty --chown (an ARG with no value) means no --chown. */
  char *empty_env[] = { NULL };
  char *empty[] = { "--chown=$NOBODY", NULL };
  assert_int_equal (dockerfile_copy_flags_parse (empty, false, empty_env, '\\', &f, &err), 0);
  assert_false (f.chown.set);
  dockerfile_copy_flags_clear (&f);

  char sum[90];
  snprintf (sum, sizeof sum, "--checksum=sha256:%064d", 1);
  char *add[] = { sum, "--keep-git-dir=true", "--unpack=false", "--chown=app", NULL };
  assert_int_equal (dockerfile_copy_flags_parse (add, true, NULL, '\\', &f, &err), 0);
  assert_true (f.add);
  assert_string_equal (f.checksum, sum + 11);
  assert_true (f.keep_git_dir_set && f.keep_git_dir);
  assert_true (f.unpack_set && !f.unpack);
  assert_string_equal (f.chown.user, "app");
  dockerfile_copy_flags_clear (&f);

  /* Flags of the other instruction, bad booleans, bad values. */
  char *from_on_add[] = { "--from=build", NULL };
  assert_int_equal (dockerfile_copy_flags_parse (from_on_add, true, NULL, '\\', &f, &err), -1);
  assert_string_equal (err->msg, "unknown flag: --from");
  nook_error_free (&err);
  char *sum_on_copy[] = { sum, NULL };
  assert_int_equal (dockerfile_copy_flags_parse (sum_on_copy, false, NULL, '\\', &f, &err), -1);
  assert_string_equal (err->msg, "unknown flag: --checksum");
  nook_error_free (&err);
  char *bad_bool[] = { "--link=yes", NULL };
  assert_int_equal (dockerfile_copy_flags_parse (bad_bool, false, NULL, '\\', &f, &err), -1);
  assert_string_equal (err->msg, "expecting boolean value for flag link, not: yes");
  nook_error_free (&err);
  char *bad_chmod[] = { "--chmod=8", NULL };
  assert_int_equal (dockerfile_copy_flags_parse (bad_chmod, false, NULL, '\\', &f, &err), -1);
  assert_string_equal (err->msg, "invalid chmod parameter: '8'. it should be octal string and "
                                 "between 0 and 07777");
  nook_error_free (&err);
  char *dup[] = { "--chown=1", "--chown=2", NULL };
  assert_int_equal (dockerfile_copy_flags_parse (dup, false, NULL, '\\', &f, &err), -1);
  assert_string_equal (err->msg, "duplicate flag specified: --chown");
  nook_error_free (&err);
  char *not_flag[] = { "-x", NULL };
  assert_int_equal (dockerfile_copy_flags_parse (not_flag, false, NULL, '\\', &f, &err), -1);
  assert_string_equal (err->msg, "arg should start with -- : -x");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mount_defaults),  cmocka_unit_test (test_mount_keys),
    cmocka_unit_test (test_mount_expansion), cmocka_unit_test (test_mount_errors),
    cmocka_unit_test (test_run_flags),       cmocka_unit_test (test_chmod),
    cmocka_unit_test (test_chown),           cmocka_unit_test (test_checksum),
    cmocka_unit_test (test_copy_flags),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
