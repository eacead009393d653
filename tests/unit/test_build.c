/* tests/unit/test_build.c: the pure parts of `nook build` (cmd/build/): cache keys,
 * ARG scoping, and how an upper dir's entries become layer entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cmd/build/build.h"
#include "util/cleanup.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static void
test_cache_key (void **state)
{
  char *args1[] = { "A=1", "B=2", NULL };
  char *args2[] = { "A=1", "B=3", NULL };
  char *args3[] = { "A=1", NULL };
  char *args4[] = { "A=1B=2", NULL };
  cleanup_free char *k = build_cache_key ("sha256:p", "RUN [\"sh\"]", args1, NULL, 0);
  cleanup_free char *same = build_cache_key ("sha256:p", "RUN [\"sh\"]", args1, NULL, 0);
  assert_string_equal (k, same);
  assert_int_equal (strlen (k), 7 + 64);
  assert_memory_equal (k, "sha256:", 7);
  /* every input changes the key */
  const char *others[] = {
    build_cache_key ("sha256:q", "RUN [\"sh\"]", args1, NULL, 0),
    build_cache_key ("sha256:p", "RUN [\"sh \"]", args1, NULL, 0),
    build_cache_key ("sha256:p", "RUN [\"sh\"]", args2, NULL, 0),
    build_cache_key ("sha256:p", "RUN [\"sh\"]", args3, NULL, 0),
    build_cache_key ("sha256:p", "RUN [\"sh\"]", args4, NULL, 0),
    build_cache_key ("sha256:p", "RUN [\"sh\"]", args1, "sha256:in", 0),
    build_cache_key ("sha256:p", "RUN [\"sh\"]", args1, NULL, 1),
    build_cache_key ("sha256:p", "RUN [\"sh\"]", NULL, NULL, 0),
  };
  for (size_t i = 0; i < ARRAY_SIZE (others); i++)
    {
      assert_string_not_equal (k, others[i]);
      for (size_t j = 0; j < i; j++)
        assert_string_not_equal (others[i], others[j]);
    }
  for (size_t i = 0; i < ARRAY_SIZE (others); i++)
    free ((char *)others[i]);
  /* no framing ambiguity between the instruction and the args */
  char *a5[] = { "x", NULL };
  cleanup_free char *k5 = build_cache_key ("p", "RUN a", a5, NULL, 0);
  cleanup_free char *k6 = build_cache_key ("p", "RUN a\narg 1:x", NULL, NULL, 0);
  assert_string_not_equal (k5, k6);
}

static void
test_state_digest (void **state)
{
  struct build_state a = { .config = json_pack ("{s:{s:[s]}}", "config", "Env", "A=1") };
  struct build_state b = { .config = json_pack ("{s:{s:[s]}}", "config", "Env", "A=2") };
  cleanup_free char *da = build_state_digest (&a);
  cleanup_free char *db = build_state_digest (&b);
  assert_string_not_equal (da, db);
  strv_push (&a.layers, "sha256:l1");
  cleanup_free char *da2 = build_state_digest (&a);
  assert_string_not_equal (da, da2);
  build_state_clear (&a);
  build_state_clear (&b);
}

static void
test_args_scope (void **state)
{
  char *given[] = { "V=cli", "BARE", NULL };
  char *meta[] = { "M=meta", "V=metav", NULL };
  cleanup_strv char **used = NULL;
  struct build_args a = { 0 };
  /* a default */
  build_args_declare (&a, "D", "def", given, meta, &used);
  assert_string_equal (build_args_value (&a, "D"), "def");
  /* --build-arg wins over the default and the meta value */
  build_args_declare (&a, "V", "def", given, meta, &used);
  assert_string_equal (build_args_value (&a, "V"), "cli");
  /* no default: the meta ARG of that name */
  build_args_declare (&a, "M", NULL, given, meta, &used);
  assert_string_equal (build_args_value (&a, "M"), "meta");
  /* declared without a value: in scope, unset */
  build_args_declare (&a, "U", NULL, given, meta, &used);
  assert_null (build_args_value (&a, "U"));
  /* a bare --build-arg takes nook's environment, unset without it */
  unsetenv ("BARE");
  build_args_declare (&a, "BARE", "d", given, meta, &used);
  assert_string_equal (build_args_value (&a, "BARE"), "d");
  setenv ("BARE", "fromenv", 1);
  build_args_declare (&a, "BARE", "d", given, meta, &used);
  assert_string_equal (build_args_value (&a, "BARE"), "fromenv");
  unsetenv ("BARE");
  /* not declared: not in scope even when given */
  struct build_args other = { 0 };
  assert_null (build_args_value (&other, "V"));
  /* env: only those with a value, in declaration order, a redeclared one once */
  cleanup_strv char **env = build_args_env (&a);
  assert_int_equal (strv_len (env), 4);
  assert_string_equal (env[0], "D=def");
  assert_string_equal (env[1], "V=cli");
  assert_string_equal (env[2], "M=meta");
  assert_string_equal (env[3], "BARE=fromenv");
  assert_true (strv_contains (used, "V"));
  assert_true (strv_contains (used, "BARE"));
  assert_false (strv_contains (used, "D"));
  assert_true (build_args_predefined ("HTTP_PROXY"));
  assert_true (build_args_predefined ("no_proxy"));
  assert_false (build_args_predefined ("PATH"));
  build_args_clear (&a);
}

static void
test_pack_classify (void **state)
{
  assert_int_equal (build_pack_classify (S_IFCHR | 0, makedev (0, 0), false), BUILD_PACK_WHITEOUT);
  assert_int_equal (build_pack_classify (S_IFCHR | 0644, makedev (1, 3), false), BUILD_PACK_SKIP);
  assert_int_equal (build_pack_classify (S_IFBLK | 0644, makedev (0, 0), false), BUILD_PACK_SKIP);
  assert_int_equal (build_pack_classify (S_IFSOCK | 0644, 0, false), BUILD_PACK_SKIP);
  assert_int_equal (build_pack_classify (S_IFREG | 0644, 0, false), BUILD_PACK_ENTRY);
  assert_int_equal (build_pack_classify (S_IFREG | 0, 0, true), BUILD_PACK_WHITEOUT);
  assert_int_equal (build_pack_classify (S_IFDIR | 0755, 0, true), BUILD_PACK_ENTRY);
  assert_int_equal (build_pack_classify (S_IFLNK | 0777, 0, false), BUILD_PACK_ENTRY);
  assert_int_equal (build_pack_classify (S_IFIFO | 0644, 0, false), BUILD_PACK_ENTRY);
  assert_true (build_pack_opaque_value ("y", 1));
  assert_false (build_pack_opaque_value ("x", 1));
  assert_false (build_pack_opaque_value ("", 0));
  cleanup_free char *w1 = build_pack_whiteout_path ("etc/issue");
  cleanup_free char *w2 = build_pack_whiteout_path ("top");
  assert_string_equal (w1, "etc/.wh.issue");
  assert_string_equal (w2, ".wh.top");
  assert_true (build_pack_xattr_kept ("security.capability"));
  assert_false (build_pack_xattr_kept ("user.overlay.opaque"));
  assert_false (build_pack_xattr_kept ("trusted.overlay.origin"));
  assert_false (build_pack_xattr_kept ("user.containers.override_stat"));
}

static void
test_pack_fcaps (void **state)
{
  /* revision 3 (with a rootid) becomes revision 2, the effective flag kept */
  unsigned char v3[24] = { 0x01, 0x00, 0x00, 0x03,             /* magic: rev 3 | effective */
                           0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0, /* permitted[0]: NET_BIND_SERVICE */
                           0,    0,    0,    0,    0, 0, 0, 0, /* permitted[1], inheritable[1] */
                           0xe8, 0x03, 0x00, 0x00 };           /* rootid 1000 */
  unsigned char out[20];
  assert_true (build_pack_fcaps_v2 (v3, sizeof v3, out));
  assert_int_equal (out[3], 0x02);
  assert_int_equal (out[0], 0x01);
  assert_memory_equal (out + 4, v3 + 4, 16);
  unsigned char v2[20] = { 0x00, 0x00, 0x00, 0x02, 1 };
  assert_true (build_pack_fcaps_v2 (v2, sizeof v2, out));
  assert_memory_equal (out, v2, 20);
  /* revision 1 and bad sizes are refused */
  unsigned char v1[12] = { 0x00, 0x00, 0x00, 0x01 };
  assert_false (build_pack_fcaps_v2 (v1, sizeof v1, out));
  assert_false (build_pack_fcaps_v2 (v3, 20, out));
}

static void
test_explain (void **state)
{
  char *a1[] = { "V=one", "W=w", NULL };
  char *a2[] = { "V=two", "X=x", NULL };
  json_t *prev = build_explain_record ("RUN a", "sha256:p", "RUN a", a1, NULL, 0);
  json_t *same = build_explain_record ("RUN a", "sha256:p", "RUN a", a1, NULL, 0);
  json_t *parent = build_explain_record ("RUN a", "sha256:q", "RUN a", a1, NULL, 0);
  json_t *args = build_explain_record ("RUN a", "sha256:p", "RUN a", a2, NULL, 0);
  json_t *instr = build_explain_record ("RUN b", "sha256:p", "RUN b", a1, NULL, 0);
  json_t *files = build_explain_record ("COPY", "sha256:p", "RUN a", a1, "sha256:i", 0);
  cleanup_free char *w0 = build_explain_why (NULL, same);
  cleanup_free char *w1 = build_explain_why (prev, same);
  cleanup_free char *w2 = build_explain_why (prev, parent);
  cleanup_free char *w3 = build_explain_why (prev, args);
  cleanup_free char *w4 = build_explain_why (prev, instr);
  cleanup_free char *w5 = build_explain_why (prev, files);
  assert_non_null (strstr (w0, "no earlier build"));
  assert_string_equal (w1, "same inputs as the last build");
  assert_string_equal (w2, "the step before it changed");
  assert_string_equal (w3, "build arg V: one -> two; build arg X: (unset) -> x; build arg W is no "
                           "longer set");
  assert_string_equal (w4, "the instruction changed (was: RUN a)");
  assert_string_equal (w5, "the files it copies changed");
  json_decref (prev);
  json_decref (same);
  json_decref (parent);
  json_decref (args);
  json_decref (instr);
  json_decref (files);
}

static const char *
fake_env (const char *name)
{
  return strcmp (name, "SET") == 0 ? "value" : NULL;
}

static void
test_secret_parse (void **state)
{
  (void)state;
  struct
  {
    const char *spec, *id, *src, *env;
  } ok[] = {
    { "id=npm,src=/tmp/tok", "npm", "/tmp/tok", NULL },
    { "id=npm,source=f", "npm", "f", NULL },
    { "id=npm,env=NPM_TOKEN", "npm", NULL, "NPM_TOKEN" },
    { "src=/tmp/tok", "/tmp/tok", "/tmp/tok", NULL },
    { "id=SET", "SET", NULL, "SET" },         /* a variable of that name is set */
    { "id=unset", "unset", "unset", NULL },   /* else a file */
    { "type=env,id=X", "X", NULL, "X" },      /* type=env: the variable */
    { "type=env,id=x,src=VAR", "x", NULL, "VAR" },
    { "type=file,id=x,src=f", "x", "f", NULL },
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      cleanup_free char *id = NULL;
      cleanup_free char *src = NULL;
      cleanup_free char *env = NULL;
      cleanup_error nook_error_t err = NULL;
      assert_int_equal (build_secret_parse (ok[i].spec, fake_env, &id, &src, &env, &err), 0);
      assert_string_equal (id, ok[i].id);
      if (ok[i].src)
        assert_string_equal (src, ok[i].src);
      else
        assert_null (src);
      if (ok[i].env)
        assert_string_equal (env, ok[i].env);
      else
        assert_null (env);
    }
  const char *bad[] = { "", "id=", "id=x,src=f,env=E", "id=x,bogus=1", "type=ssh,id=x", "novalue",
                        "src=" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char *id = NULL, *src = NULL, *env = NULL;
      cleanup_error nook_error_t err = NULL;
      assert_int_equal (build_secret_parse (bad[i], fake_env, &id, &src, &env, &err), -1);
      assert_non_null (err);
      assert_int_equal (err->exit, 125);
      assert_non_null (strstr (err->msg, "--secret"));
      assert_null (id);
    }
}

static void
test_git_source (void **state)
{
  (void)state;
  /* BuildKit's rules: an http(s) URL is a repository when its path ends in .git */
  assert_true (build_git_source ("https://github.com/moby/buildkit.git"));
  assert_true (build_git_source ("https://h/r.git#v1:sub"));
  assert_true (build_git_source ("http://127.0.0.1:8080/repo.git?x=1"));
  assert_true (build_git_source ("git://h/r"));
  assert_true (build_git_source ("git@github.com:moby/buildkit.git"));
  assert_false (build_git_source ("https://h/file.tar.gz"));
  assert_false (build_git_source ("https://h/r.git/file"));
  assert_false (build_git_source ("src.git"));

  char *remote, *ref, *sub;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (build_git_parse ("https://h/r.git#v1:a/b", &remote, &ref, &sub, &err), 0);
  assert_string_equal (remote, "https://h/r.git");
  assert_string_equal (ref, "v1");
  assert_string_equal (sub, "a/b");
  free (remote), free (ref), free (sub);
  assert_int_equal (build_git_parse ("https://h/r.git#:docs", &remote, &ref, &sub, &err), 0);
  assert_null (ref);
  assert_string_equal (sub, "docs");
  free (remote), free (sub);
  assert_int_equal (build_git_parse ("https://h/r.git", &remote, &ref, &sub, &err), 0);
  assert_null (ref);
  assert_null (sub);
  free (remote);
  const char *bad[] = { "https://h/r.git#--upload-pack=x", "https://h/r.git#a..b",
                        "https://h/r.git#main:../x", "-oProxyCommand=x.git" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      nook_error_free (&err);
      assert_int_equal (build_git_parse (bad[i], &remote, &ref, &sub, &err), -1);
      assert_non_null (strstr (err->msg, "invalid git reference"));
      assert_null (remote);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cache_key),  cmocka_unit_test (test_state_digest),
    cmocka_unit_test (test_args_scope), cmocka_unit_test (test_pack_classify),
    cmocka_unit_test (test_pack_fcaps), cmocka_unit_test (test_explain),
    cmocka_unit_test (test_secret_parse), cmocka_unit_test (test_git_source),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
