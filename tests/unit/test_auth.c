/* tests/unit/test_auth.c: credentials files, WWW-Authenticate challenges and token
 * answers (imagefmt/auth.c); the registry client's pure helpers (imagefmt/registry.c);
 * the mirrors configuration (cmd/config.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd/config.h"
#include "imagefmt/auth.h"
#include "imagefmt/registry.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

static char *tmpdir;

static int
setup (void **state)
{
  char t[] = "/tmp/nook-test-auth.XXXXXX";
  if (mkdtemp (t) == NULL)
    return -1;
  tmpdir = xstrdup (t);
  return 0;
}

static int
teardown (void **state)
{
  fs_rm_rf_at (AT_FDCWD, tmpdir, NULL);
  free (tmpdir);
  return 0;
}

static char *
write_tmp (const char *name, const char *text)
{
  char *p = xasprintf ("%s/%s", tmpdir, name);
  FILE *f = fopen (p, "we");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
  return p;
}

static void
test_base64 (void **state)
{
  static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar", "user:pa:ss" };
  static const char *const out[]
      = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy", "dXNlcjpwYTpzcw==" };
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
    {
      cleanup_free char *e = imagefmt_base64_encode (in[i], strlen (in[i]));
      assert_string_equal (e, out[i]);
      size_t n = 0;
      cleanup_free char *d = imagefmt_base64_decode (e, &n);
      assert_non_null (d);
      assert_int_equal (n, strlen (in[i]));
      assert_memory_equal (d, in[i], n);
    }
  size_t n;
  assert_null (imagefmt_base64_decode ("Zm9", &n));
  assert_null (imagefmt_base64_decode ("Zm=v", &n));
  assert_null (imagefmt_base64_decode ("Z!9v", &n));
}

static void
test_challenge (void **state)
{
  struct imagefmt_auth_challenge c;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (
      imagefmt_auth_challenge_parse (
          "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
          "scope=\"repository:library/busybox:pull\"",
          &c, &err),
      0);
  assert_string_equal (c.scheme, "bearer");
  assert_string_equal (c.realm, "https://auth.docker.io/token");
  assert_string_equal (c.service, "registry.docker.io");
  assert_string_equal (c.scope, "repository:library/busybox:pull");
  imagefmt_auth_challenge_clear (&c);
  /* spaces, case, escapes, an error parameter, unquoted values */
  assert_int_equal (
      imagefmt_auth_challenge_parse ("  bearer Realm = \"http://h/t?a=1\" , scope=\"a b\", "
                                     "error=\"insufficient_scope\", service=svc",
                                     &c, &err),
      0);
  assert_string_equal (c.realm, "http://h/t?a=1");
  assert_string_equal (c.scope, "a b");
  assert_string_equal (c.error, "insufficient_scope");
  assert_string_equal (c.service, "svc");
  imagefmt_auth_challenge_clear (&c);
  assert_int_equal (imagefmt_auth_challenge_parse ("Basic realm=\"Registry \\\"x\\\"\"", &c, &err),
                    0);
  assert_string_equal (c.scheme, "basic");
  assert_string_equal (c.realm, "Registry \"x\"");
  imagefmt_auth_challenge_clear (&c);
  static const char *const bad[]
      = { "", "   ", "Bearer service=\"x\"", "Bearer realm=\"unterminated", "=x" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_error nook_error_t e = NULL;
      if (imagefmt_auth_challenge_parse (bad[i], &c, &e) == 0)
        fail_msg ("accepted challenge '%s'", bad[i]);
    }
}

static void
test_token (void **state)
{
  cleanup_error nook_error_t err = NULL;
  char *t = NULL;
  long exp = 0;
  const char *hub = "{\"token\":\"abc\",\"expires_in\":300}";
  assert_int_equal (imagefmt_auth_token_parse (hub, strlen (hub), &t, &exp, &err), 0);
  assert_string_equal (t, "abc");
  assert_int_equal (exp, 300);
  free (t);
  const char *oauth = "{\"access_token\":\"xyz\"}";
  assert_int_equal (imagefmt_auth_token_parse (oauth, strlen (oauth), &t, &exp, &err), 0);
  assert_string_equal (t, "xyz");
  assert_int_equal (exp, 60);
  free (t);
  const char *bad[] = { "{}", "[]", "{\"token\":\"\"}", "{\"token\":\"a\\nb\"}", "nope" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_error nook_error_t e = NULL;
      if (imagefmt_auth_token_parse (bad[i], strlen (bad[i]), &t, &exp, &e) == 0)
        fail_msg ("accepted token answer '%s'", bad[i]);
    }
}

static void
test_lookup (void **state)
{
  cleanup_free char *p
      = write_tmp ("auth.json", "{\"auths\": {"
                                "\"https://index.docker.io/v1/\": {\"auth\": \"aHViOmh1YnB3\"},"
                                "\"quay.io\": {\"auth\": \"cXVheTpxdWF5cHc=\"},"
                                "\"quay.io/team\": {\"auth\": \"dGVhbTp0ZWFtcHc=\"},"
                                "\"localhost:5000\": {\"auth\": \"bm9jb2xvbg==\"},"
                                "\"http://lab:5000/\": {\"auth\": \"bGFiOmxhYg==\"}}}");
  struct imagefmt_creds c;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (imagefmt_auth_lookup_in (p, "docker.io", "library/busybox", &c, &err), 1);
  assert_string_equal (c.username, "hub");
  assert_string_equal (c.password, "hubpw");
  assert_string_equal (c.source, p);
  imagefmt_creds_clear (&c);
  /* the most specific key wins */
  assert_int_equal (imagefmt_auth_lookup_in (p, "quay.io", "team/app", &c, &err), 1);
  assert_string_equal (c.username, "team");
  imagefmt_creds_clear (&c);
  assert_int_equal (imagefmt_auth_lookup_in (p, "quay.io", "other/app", &c, &err), 1);
  assert_string_equal (c.username, "quay");
  imagefmt_creds_clear (&c);
  assert_int_equal (imagefmt_auth_lookup_in (p, "lab:5000", "x", &c, &err), 1);
  assert_string_equal (c.password, "lab");
  imagefmt_creds_clear (&c);
  assert_int_equal (imagefmt_auth_lookup_in (p, "ghcr.io", "x", &c, &err), 0);
  /* not base64 of user:password: an error naming the file and key */
  assert_int_equal (imagefmt_auth_lookup_in (p, "localhost:5000", NULL, &c, &err), -1);
  assert_non_null (strstr (err->msg, "localhost:5000"));
  nook_error_free (&err);
  cleanup_free char *missing = xasprintf ("%s/none.json", tmpdir);
  assert_int_equal (imagefmt_auth_lookup_in (missing, "docker.io", NULL, &c, &err), 0);
  cleanup_free char *broken = write_tmp ("broken.json", "{\"auths\": ");
  assert_int_equal (imagefmt_auth_lookup_in (broken, "docker.io", NULL, &c, &err), -1);
}

/* registries.conf's credential-helpers: in order, the first with credentials wins; a
 * helper that cannot run is an error only when nothing was found */
static void
test_lookup_helpers (void **state)
{
  cleanup_free char *p = write_tmp ("helpers.json", "{\"auths\": {\"lab:5000\": "
                                                    "{\"auth\": \"bGFiOmxhYg==\"}}}");
  cleanup_free char *dc = xasprintf ("%s/no-docker", tmpdir);
  setenv ("REGISTRY_AUTH_FILE", p, 1);
  setenv ("DOCKER_CONFIG", dc, 1);
  struct imagefmt_creds c;
  cleanup_error nook_error_t err = NULL;
  char *files[] = { (char *)"containers-auth.json", NULL };
  char *absent_then_files[]
      = { (char *)"nook-absent-helper", (char *)"containers-auth.json", NULL };
  char *absent[] = { (char *)"nook-absent-helper", NULL };
  char *none[] = { NULL };
  assert_int_equal (imagefmt_auth_lookup_helpers (NULL, "lab:5000", NULL, &c, &err), 1);
  assert_string_equal (c.username, "lab");
  imagefmt_creds_clear (&c);
  assert_int_equal (imagefmt_auth_lookup_helpers (none, "lab:5000", NULL, &c, &err), 1);
  imagefmt_creds_clear (&c);
  assert_int_equal (imagefmt_auth_lookup_helpers (files, "lab:5000", NULL, &c, &err), 1);
  imagefmt_creds_clear (&c);
  assert_int_equal (imagefmt_auth_lookup_helpers (files, "other:5000", NULL, &c, &err), 0);
  assert_int_equal (imagefmt_auth_lookup_helpers (absent_then_files, "lab:5000", NULL, &c, &err),
                    1);
  assert_string_equal (c.password, "lab");
  imagefmt_creds_clear (&c);
  assert_int_equal (imagefmt_auth_lookup_helpers (absent, "lab:5000", NULL, &c, &err), -1);
  assert_non_null (strstr (err->msg, "docker-credential-nook-absent-helper"));
  nook_error_free (&err);
  unsetenv ("REGISTRY_AUTH_FILE");
  unsetenv ("DOCKER_CONFIG");
}

static void
test_store_remove (void **state)
{
  cleanup_free char *p = xasprintf ("%s/sub/dir/auth.json", tmpdir);
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (imagefmt_auth_store (p, "https://index.docker.io/v1/", "u1", "p:1", &err), 0);
  assert_int_equal (imagefmt_auth_store (p, "localhost:5000", "u2", "p2", &err), 0);
  struct stat st;
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  struct imagefmt_creds c;
  assert_int_equal (imagefmt_auth_lookup_in (p, "docker.io", NULL, &c, &err), 1);
  assert_string_equal (c.password, "p:1");
  imagefmt_creds_clear (&c);
  /* a second login replaces, whatever the spelling of the key */
  assert_int_equal (imagefmt_auth_store (p, "docker.io", "u3", "p3", &err), 0);
  assert_int_equal (imagefmt_auth_lookup_in (p, "docker.io", NULL, &c, &err), 1);
  assert_string_equal (c.username, "u3");
  imagefmt_creds_clear (&c);
  bool found = false;
  assert_int_equal (imagefmt_auth_remove (p, "index.docker.io", &found, &err), 0);
  assert_true (found);
  assert_int_equal (imagefmt_auth_lookup_in (p, "docker.io", NULL, &c, &err), 0);
  assert_int_equal (imagefmt_auth_lookup_in (p, "localhost:5000", NULL, &c, &err), 1);
  imagefmt_creds_clear (&c);
  assert_int_equal (imagefmt_auth_remove (p, "ghcr.io", &found, &err), 0);
  assert_false (found);
}

static void
test_normalize_key (void **state)
{
  static const struct
  {
    const char *in, *out;
  } k[] = { { "https://index.docker.io/v1/", "docker.io" },
            { "index.docker.io", "docker.io" },
            { "registry-1.docker.io", "docker.io" },
            { "docker.io", "docker.io" },
            { "http://lab:5000/", "lab:5000" },
            { "https://quay.io/v2/", "quay.io" },
            { "quay.io/team", "quay.io/team" } };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
    {
      cleanup_free char *n = imagefmt_auth_normalize_key (k[i].in);
      assert_string_equal (n, k[i].out);
    }
}

static void
test_hosts (void **state)
{
  assert_true (imagefmt_registry_host_is_loopback ("127.0.0.1:5000"));
  assert_true (imagefmt_registry_host_is_loopback ("127.3.2.1"));
  assert_true (imagefmt_registry_host_is_loopback ("localhost:5000"));
  assert_true (imagefmt_registry_host_is_loopback ("[::1]:5000"));
  assert_false (imagefmt_registry_host_is_loopback ("10.0.0.1:5000"));
  assert_false (imagefmt_registry_host_is_loopback ("127.0.0.1.evil.com"));
  char *insecure[] = { (char *)"lab:5000", (char *)"10.1.0.0/16", (char *)"http://host2/", NULL };
  assert_true (imagefmt_registry_host_is_insecure ("lab:5000", insecure));
  assert_false (imagefmt_registry_host_is_insecure ("lab2:5000", insecure));
  assert_true (imagefmt_registry_host_is_insecure ("10.1.200.3:5000", insecure));
  assert_false (imagefmt_registry_host_is_insecure ("10.2.0.1:5000", insecure));
  assert_true (imagefmt_registry_host_is_insecure ("host2", insecure));
  cleanup_free char *a = imagefmt_registry_api_host ("docker.io");
  assert_string_equal (a, "registry-1.docker.io");
  cleanup_free char *b = imagefmt_registry_api_host ("quay.io");
  assert_string_equal (b, "quay.io");
}

static void
test_error_text (void **state)
{
  const char *b = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
                  "\"detail\":{}}]}";
  cleanup_free char *t = imagefmt_registry_error_text (b, strlen (b));
  assert_string_equal (t, "manifest unknown");
  const char *b2 = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication "
                   "required\"},{\"code\":\"DENIED\",\"message\":\"x\\ny\"}]}";
  cleanup_free char *t2 = imagefmt_registry_error_text (b2, strlen (b2));
  assert_string_equal (t2, "unauthorized: authentication required; denied: x y");
  assert_null (imagefmt_registry_error_text ("<html>", 6));
  assert_null (imagefmt_registry_error_text ("{}", 2));
}

static void
test_config_mirrors (void **state)
{
  cleanup_free char *sys = write_tmp (
      "sys.json", "{\"registry-mirrors\": [\"http://sys:5000\"], \"insecure-registries\": "
                  "[\"sys:5000\"], \"mirrors\": {\"quay.io\": [\"http://q:1\"]}}");
  cleanup_free char *user = write_tmp (
      "user.json", "{\"registry-mirrors\": [\"http://10.0.0.5:5000/\", \"https://m.lab/hub\"], "
                   "\"mirrors\": {\"https://index.docker.io\": [\"http://ignored:1\"], "
                   "\"ghcr.io\": [\"http://g:2\"]}}");
  struct nook_config c;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (nook_config_load_files (&c, sys, user, &err), 0);
  const char *from = NULL;
  char *const *m = nook_config_mirrors (&c, "docker.io", &from);
  assert_non_null (m);
  /* "mirrors" names docker.io too (index.docker.io): the user's file, last key read, wins */
  assert_string_equal (from, user);
  m = nook_config_mirrors (&c, "quay.io", &from);
  assert_string_equal (m[0], "http://q:1");
  assert_string_equal (from, sys);
  m = nook_config_mirrors (&c, "ghcr.io", NULL);
  assert_string_equal (m[0], "http://g:2");
  assert_null (nook_config_mirrors (&c, "example.com", NULL));
  assert_string_equal (c.insecure[0], "sys:5000");
  nook_config_clear (&c);

  cleanup_free char *u2
      = write_tmp ("u2.json", "{\"registry-mirrors\": [\"http://10.0.0.5:5000/\"]}");
  assert_int_equal (nook_config_load_files (&c, sys, u2, &err), 0);
  m = nook_config_mirrors (&c, "docker.io", NULL);
  assert_string_equal (m[0], "http://10.0.0.5:5000");
  assert_null (m[1]);
  nook_config_clear (&c);

  static const char *const bad[] = { "{\"registry-mirrors\": \"http://x\"}",
                                     "{\"registry-mirrors\": [\"x:5000\"]}",
                                     "{\"registry-mirrors\": [\"ftp://x\"]}",
                                     "{\"registry-mirrors\": [\"http://\"]}",
                                     "{\"mirrors\": [\"http://x\"]}",
                                     "{\"insecure-registries\": [1]}",
                                     "{\"registry-mirrors\": [\"http://a b\"]}",
                                     "[" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_free char *p = write_tmp ("bad.json", bad[i]);
      cleanup_error nook_error_t e = NULL;
      if (nook_config_load_files (&c, NULL, p, &e) == 0)
        fail_msg ("accepted config %s", bad[i]);
      assert_non_null (strstr (e->msg, p));
    }
  cleanup_free char *none = xasprintf ("%s/absent.json", tmpdir);
  assert_int_equal (nook_config_load_files (&c, none, none, &err), 0);
  assert_null (c.files[0]);
  nook_config_clear (&c);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_base64),         cmocka_unit_test (test_challenge),
    cmocka_unit_test (test_token),          cmocka_unit_test (test_lookup),
    cmocka_unit_test (test_store_remove),   cmocka_unit_test (test_normalize_key),
    cmocka_unit_test (test_hosts),          cmocka_unit_test (test_error_text),
    cmocka_unit_test (test_config_mirrors), cmocka_unit_test (test_lookup_helpers),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
