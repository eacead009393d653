/* tests/unit/test_dockerfile_lint.c: BuildKit's build checks (imagefmt/dockerfile/lint.h):
 * one case per rule that triggers and one that does not, the check= directive, and the
 * lint over every real-world Dockerfile of tests/data/conformance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "imagefmt/dockerfile/ignore.h"
#include "imagefmt/dockerfile/lint.h"
#include "imagefmt/dockerfile/parser.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Base images whose environment the tests know: "alpine" has PATH only, "node" has
   NODE_VERSION too; any other image is unknown. */
static char **
test_base_env (void *data, const char *image)
{
  char **env = NULL;
  (void)data;
  if (strncmp (image, "alpine", 6) != 0 && strncmp (image, "node", 4) != 0)
    return NULL;
  strv_push (&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (strncmp (image, "node", 4) == 0)
    strv_push (&env, "NODE_VERSION=14");
  return env;
}

/* Lint text; "LINE:Rule LINE:Rule ..." (or "error: msg"). */
static char *
lint_with (const char *text, const struct dockerfile_lint_opts *opts)
{
  cleanup_dockerfile struct dockerfile *df = NULL;
  cleanup_dockerfile_lint_result struct dockerfile_lint_result *res = NULL;
  cleanup_error nook_error_t err = NULL;
  struct strbuf b = { 0 };
  if (dockerfile_parse (text, strlen (text), "Dockerfile", &df, &err) < 0)
    return xasprintf ("parse error: %s", err->msg);
  if (dockerfile_lint (df, opts, &res, &err) < 0)
    return xasprintf ("error: %s", err->msg);
  for (size_t i = 0; i < res->n; i++)
    strbuf_appendf (&b, "%s%d:%s", i ? " " : "", res->warnings[i].line, res->warnings[i].rule);
  return b.buf ? strbuf_steal (&b) : xstrdup ("");
}

static char *
lint (const char *text)
{
  struct dockerfile_lint_opts o = { .all_stages = true, .base_env = test_base_env };
  return lint_with (text, &o);
}

/* The message of the only warning. */
static char *
lint_message (const char *text)
{
  cleanup_dockerfile struct dockerfile *df = NULL;
  cleanup_dockerfile_lint_result struct dockerfile_lint_result *res = NULL;
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_lint_opts o = { .all_stages = true, .base_env = test_base_env };
  if (dockerfile_parse (text, strlen (text), "Dockerfile", &df, &err) < 0
      || dockerfile_lint (df, &o, &res, &err) < 0)
    return xasprintf ("error: %s", err->msg);
  if (res->n != 1)
    return xasprintf ("%zu warnings", res->n);
  return xstrdup (res->warnings[0].message);
}

#define EXPECT(text, want)                                                                         \
  do                                                                                               \
    {                                                                                              \
      cleanup_free char *got_ = lint (text);                                                       \
      assert_string_equal (got_, want);                                                            \
    }                                                                                              \
  while (0)

#define EXPECT_MSG(text, want)                                                                     \
  do                                                                                               \
    {                                                                                              \
      cleanup_free char *got_ = lint_message (text);                                               \
      assert_string_equal (got_, want);                                                            \
    }                                                                                              \
  while (0)

static void
test_lint_clean (void **state)
{
  EXPECT ("FROM alpine AS build\n"
          "WORKDIR /app\n"
          "ENV A=1\n"
          "ARG V=2\n"
          "COPY . .\n"
          "RUN echo $A $V $UNDEFINED_IN_RUN_IS_THE_SHELLS\n"
          "CMD [\"sh\"]\n",
          "");
}

static void
test_lint_json_args (void **state)
{
  EXPECT ("FROM alpine\nCMD echo hi\n", "2:JSONArgsRecommended");
  EXPECT ("FROM alpine\nENTRYPOINT my-program start\n", "2:JSONArgsRecommended");
  EXPECT_MSG ("FROM alpine\nENTRYPOINT x\n",
              "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related "
              "to OS signals");
  EXPECT ("FROM alpine\nCMD [\"echo\", \"hi\"]\n", "");
  /* SHELL makes shell form a conscious choice, also in a stage built on it. */
  EXPECT ("FROM alpine AS a\nSHELL [\"/bin/bash\", \"-c\"]\nCMD echo hi\n"
          "FROM a\nCMD echo again\n",
          "");
}

static void
test_lint_from_as_casing (void **state)
{
  EXPECT ("FROM alpine as build\nCMD [\"x\"]\n", "1:FromAsCasing");
  EXPECT_MSG ("FROM alpine as build\n", "'as' and 'FROM' keywords' casing do not match");
  EXPECT ("from alpine AS build\ncmd [\"x\"]\n", "1:FromAsCasing");
  EXPECT ("FROM alpine AS build\n", "");
  EXPECT ("from alpine as build\n", "");
}

static void
test_lint_stage_name_casing (void **state)
{
  EXPECT ("FROM alpine AS Build\n", "1:StageNameCasing");
  EXPECT_MSG ("FROM alpine AS Build\n", "Stage name 'Build' should be lowercase");
  EXPECT ("FROM alpine AS build\n", "");
}

static void
test_lint_reserved_and_duplicate (void **state)
{
  EXPECT ("FROM alpine AS scratch\n", "1:ReservedStageName");
  EXPECT ("FROM alpine AS context\n", "1:ReservedStageName");
  EXPECT_MSG ("FROM alpine AS context\n",
              "Stage name should not use the same name as reserved stage \"context\"");
  EXPECT ("FROM alpine AS a\nFROM alpine AS b\nFROM alpine AS a\n", "3:DuplicateStageName");
  EXPECT_MSG ("FROM alpine AS a\nFROM alpine AS a\n",
              "Duplicate stage name \"a\", stage names should be unique");
  EXPECT ("FROM alpine AS a\nFROM a AS b\n", "");
}

static void
test_lint_casing (void **state)
{
  EXPECT ("FROM alpine\nRUN a\nrun b\n", "3:ConsistentInstructionCasing");
  EXPECT_MSG ("FROM alpine\nRUN a\nrun b\n",
              "Command 'run' should match the case of the command majority (uppercase)");
  EXPECT_MSG ("from alpine\nrun a\nRun b\n",
              "Command 'Run' should match the case of the command majority (lowercase)");
  EXPECT ("from alpine\nrun a\ncopy . .\n", "");
  /* A tie goes to upper case. */
  EXPECT ("FROM alpine\nrun a\n", "2:ConsistentInstructionCasing");
}

static void
test_lint_maintainer (void **state)
{
  EXPECT ("FROM alpine\nMAINTAINER me <me@example.com>\n", "2:MaintainerDeprecated");
  EXPECT_MSG ("FROM alpine\nMAINTAINER me\n",
              "Maintainer instruction is deprecated in favor of using label");
  EXPECT ("FROM alpine\nLABEL org.opencontainers.image.authors=me\n", "");
}

static void
test_lint_empty_continuation (void **state)
{
  EXPECT ("FROM alpine\nRUN echo a \\\n\n  b\n", "2:NoEmptyContinuation");
  EXPECT_MSG ("FROM alpine\nRUN echo a \\\n\n  b\n", "Empty continuation line");
  EXPECT ("FROM alpine\nRUN echo a \\\n  b\n", "");
  /* A comment line inside a continuation is not empty. */
  EXPECT ("FROM alpine\nRUN echo a \\\n# c\n  b\n", "");
}

static void
test_lint_multiple_instructions (void **state)
{
  /* The warning points at the instruction that is ignored: the first. */
  EXPECT ("FROM alpine\nCMD [\"a\"]\nCMD [\"b\"]\n", "2:MultipleInstructionsDisallowed");
  EXPECT_MSG ("FROM alpine\nENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n",
              "Multiple ENTRYPOINT instructions should not be used in the same stage because "
              "only the last one will be used");
  EXPECT ("FROM alpine\nHEALTHCHECK CMD true\nHEALTHCHECK NONE\n",
          "2:MultipleInstructionsDisallowed");
  /* One per stage is fine, and CMD + ENTRYPOINT is fine. */
  EXPECT ("FROM alpine AS a\nCMD [\"a\"]\nFROM a\nCMD [\"b\"]\nENTRYPOINT [\"c\"]\n", "");
}

static void
test_lint_legacy_key_value (void **state)
{
  EXPECT ("FROM alpine\nENV A 1\n", "2:LegacyKeyValueFormat");
  EXPECT_MSG ("FROM alpine\nLABEL a b\n",
              "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format");
  EXPECT ("FROM alpine\nENV A=1 B=2\nLABEL a=b\n", "");
}

static void
test_lint_workdir_relative (void **state)
{
  EXPECT ("FROM alpine\nWORKDIR app\n", "2:WorkdirRelativePath");
  EXPECT_MSG ("FROM alpine\nWORKDIR app\n",
              "Relative workdir \"app\" can have unexpected results if the base image changes");
  /* Only the first WORKDIR of the build counts, also through a stage's base. */
  EXPECT ("FROM alpine AS a\nWORKDIR /app\nWORKDIR sub\nFROM a\nWORKDIR more\n", "");
  EXPECT ("FROM alpine\nENV D=/srv\nWORKDIR $D\n", "");
}

static void
test_lint_secrets (void **state)
{
  EXPECT ("FROM alpine\nARG GITHUB_TOKEN\n", "2:SecretsUsedInArgOrEnv");
  EXPECT ("FROM alpine\nENV api_key=x\n", "2:SecretsUsedInArgOrEnv");
  EXPECT_MSG ("FROM alpine\nENV DATABASE_PASSWORD=x\n",
              "Do not use ARG or ENV instructions for sensitive data (ENV \"DATABASE_PASSWORD\")");
  EXPECT_MSG ("FROM alpine\nARG AUTH\n",
              "Do not use ARG or ENV instructions for sensitive data (ARG \"AUTH\")");
  /* Whole '_'-separated words only, and public/file/version allow. */
  EXPECT ("FROM alpine\nARG KEYBOARD=us\nENV PUBLIC_KEY=x GPG_KEY_FILE=/k TOKEN_VERSION=2\n", "");
}

static void
test_lint_undefined_var (void **state)
{
  EXPECT ("FROM alpine\nCOPY $SRC /x\n", "2:UndefinedVar");
  EXPECT_MSG ("FROM alpine\nCOPY $SRC /x\n", "Usage of undefined variable '$SRC'");
  EXPECT_MSG ("FROM alpine\nENV PTH=$PAHT\n",
              "Usage of undefined variable '$PAHT' (did you mean $PATH?)");
  /* The base image's environment, ENV, ARG (declared without a value too). */
  EXPECT ("FROM node\nENV V=$NODE_VERSION\nARG X\nARG Y=1\nWORKDIR /$X/$Y/$V\n", "");
  /* A meta ARG is seen in a stage only when declared again there. */
  EXPECT ("ARG VER=1\nFROM alpine\nLABEL v=$VER\n", "3:UndefinedVar");
  EXPECT ("ARG VER=1\nFROM alpine\nARG VER\nLABEL v=$VER\n", "");
  /* A stage on another stage inherits its environment and declared ARGs. */
  EXPECT ("FROM alpine AS a\nENV A=1\nARG B\nFROM a\nUSER $A:$B\n", "");
  /* An unknown base image: not checked. */
  EXPECT ("FROM unknown-image\nCOPY $SRC /x\n", "");
  /* RUN is the shell's business; --mount values are expanded by the build. */
  EXPECT ("FROM alpine\nRUN echo $NOPE\n", "");
  EXPECT ("FROM alpine\nRUN --mount=type=cache,target=$CACHE true\n", "2:UndefinedVar");
  /* ENV expands with the environment before the instruction. */
  EXPECT ("FROM alpine\nENV A=1 B=$A\n", "2:UndefinedVar");
}

static void
test_lint_undefined_arg_in_from (void **state)
{
  /* (with no default, "node:" is no valid name either) */
  EXPECT ("FROM node:$VER\n", "1:InvalidDefaultArgInFrom 1:UndefinedArgInFrom");
  EXPECT ("FROM node:${VER:-14}\n", "1:UndefinedArgInFrom");
  EXPECT_MSG ("ARG VERSION=14\nFROM node:${VERSIN:-14}\n",
              "FROM argument 'VERSIN' is not declared (did you mean VERSION?)");
  EXPECT ("ARG VER=14\nFROM node:$VER\n", "");
  EXPECT ("ARG VER\nFROM node:${VER:-14}\n", "");
  EXPECT ("FROM --platform=$BUILDPLATFORM alpine\n", "");
  EXPECT ("FROM --platform=$BULDPLATFORM alpine\n", "1:UndefinedArgInFrom");
}

static void
test_lint_invalid_default_arg_in_from (void **state)
{
  EXPECT ("ARG BASE\nFROM $BASE\n", "2:InvalidDefaultArgInFrom");
  EXPECT_MSG ("ARG TAG\nFROM alpine:$TAG\n",
              "Default value for ARG alpine:$TAG results in empty or invalid base image name");
  EXPECT ("ARG TAG=3\nFROM alpine:$TAG\n", "");
  EXPECT ("ARG TAG\nFROM alpine:${TAG:-3}\n", "");
}

static void
test_lint_platform (void **state)
{
  EXPECT ("FROM --platform=$TARGETPLATFORM alpine\n", "1:RedundantTargetPlatform");
  EXPECT_MSG ("FROM --platform=${TARGETPLATFORM} alpine\n",
              "Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is "
              "the default behavior");
  EXPECT ("FROM --platform=$BUILDPLATFORM alpine\n", "");
  EXPECT ("FROM --platform=linux/amd64 alpine AS build\n", "1:FromPlatformFlagConstDisallowed");
  EXPECT_MSG ("FROM --platform=linux/arm64 alpine\n",
              "FROM --platform flag should not use constant value \"linux/arm64\"");
  /* A stage named after its platform is deliberate. */
  EXPECT ("FROM --platform=linux/arm64 alpine AS build-arm64\n", "");
  EXPECT ("FROM --platform=linux/amd64 alpine AS linux-build\n", "");
}

static void
test_lint_expose (void **state)
{
  EXPECT ("FROM alpine\nEXPOSE 80/TCP\n", "2:ExposeProtoCasing");
  EXPECT_MSG ("FROM alpine\nEXPOSE 53/UDP\n",
              "Defined protocol '53/UDP' in EXPOSE instruction should be lowercase");
  EXPECT ("FROM alpine\nEXPOSE 3000:3000\n", "2:ExposeInvalidFormat");
  EXPECT_MSG ("FROM alpine\nEXPOSE 127.0.0.1:8080:80\n",
              "EXPOSE instruction should not define an IP address or host-port mapping, found "
              "'127.0.0.1:8080:80'");
  EXPECT ("FROM alpine\nENV P=3000\nEXPOSE 80 443/tcp 53/udp $P 8000-8010\n", "");
}

static void
test_lint_copy_ignored (void **state)
{
  cleanup_error nook_error_t err = NULL;
  struct dockerfile_ignore *ig = NULL;
  const char *ign = "secret.txt\nbuild/\n";
  assert_int_equal (dockerfile_ignore_parse (ign, strlen (ign), &ig, &err), 0);
  struct dockerfile_lint_opts o = { .all_stages = true, .ignore = ig };
  cleanup_free char *a = lint_with ("FROM scratch\nCOPY secret.txt /s\nADD build/x /x\n", &o);
  assert_string_equal (a, "2:CopyIgnoredFile 3:CopyIgnoredFile");
  cleanup_free char *b = lint_with ("FROM scratch\nCOPY . /\nCOPY src /src\n"
                                    "COPY --from=alpine secret.txt /s\n",
                                    &o);
  assert_string_equal (b, "");
  dockerfile_ignore_free (ig);
  /* With an exception BuildKit does not try. */
  ign = "secret.txt\n!keep\n";
  assert_int_equal (dockerfile_ignore_parse (ign, strlen (ign), &ig, &err), 0);
  o.ignore = ig;
  cleanup_free char *c = lint_with ("FROM scratch\nCOPY secret.txt /s\n", &o);
  assert_string_equal (c, "");
  dockerfile_ignore_free (ig);
  /* "." only when everything is excluded. */
  ign = "*\n";
  assert_int_equal (dockerfile_ignore_parse (ign, strlen (ign), &ig, &err), 0);
  o.ignore = ig;
  cleanup_free char *d = lint_with ("FROM scratch\nCOPY . /\n", &o);
  assert_string_equal (d, "2:CopyIgnoredFile");
  dockerfile_ignore_free (ig);
}

static void
test_lint_check_directive (void **state)
{
  EXPECT ("# check=skip=JSONArgsRecommended,MaintainerDeprecated\nFROM alpine\nCMD x\n"
          "MAINTAINER m\nENV A 1\n",
          "5:LegacyKeyValueFormat");
  EXPECT ("# check=skip=all\nFROM alpine\nCMD x\n", "");
  EXPECT ("# check=skip = JSONArgsRecommended ; error=true\nFROM alpine\nCMD x\n", "");
  cleanup_free char *bad = lint ("# check=skip\nFROM alpine\n");
  assert_string_equal (bad, "error: invalid check option \"skip\"");
  cleanup_free char *badkey = lint ("# check=foo=bar\nFROM alpine\n");
  assert_string_equal (badkey, "error: invalid check option \"foo\"");
  cleanup_free char *badbool = lint ("# check=error=maybe\nFROM alpine\n");
  assert_string_equal (badbool,
                       "error: failed to parse check option \"error=maybe\": invalid syntax");

  /* error=true: the result says so, and the build's error message names the rules. */
  const char *text = "# check=error=true\nFROM alpine\nCMD x\nCMD y\n";
  cleanup_dockerfile struct dockerfile *df = NULL;
  cleanup_dockerfile_lint_result struct dockerfile_lint_result *res = NULL;
  cleanup_error nook_error_t err = NULL;
  assert_int_equal (dockerfile_parse (text, strlen (text), "Dockerfile", &df, &err), 0);
  assert_int_equal (dockerfile_lint (df, NULL, &res, &err), 0);
  assert_true (res->error_on_warning);
  assert_int_equal (res->n, 3);
  cleanup_free char *msg = dockerfile_lint_error_message (res);
  assert_string_equal (msg, "lint violation found for rules: JSONArgsRecommended, "
                            "MultipleInstructionsDisallowed");
  assert_string_equal (res->warnings[1].rule, "MultipleInstructionsDisallowed");
  cleanup_free char *shortf = dockerfile_lint_format_short (&res->warnings[1]);
  assert_string_equal (shortf, "MultipleInstructionsDisallowed: Multiple CMD instructions should "
                               "not be used in the same stage because only the last one will be "
                               "used (line 3)");
  cleanup_free char *summary = dockerfile_lint_format_summary (res);
  assert_true (str_has_prefix (summary, "3 warnings found (use --debug to expand):\n - "
                                        "JSONArgsRecommended: "));
  assert_true (str_has_suffix (summary, " (line 4)\n"));
  struct strbuf b = { 0 };
  dockerfile_lint_format ("ci/Dockerfile", &res->warnings[0], &b);
  assert_string_equal (b.buf, "ci/Dockerfile:3: JSONArgsRecommended: JSON arguments recommended "
                              "for CMD to prevent unintended behavior related to OS signals\n");
  strbuf_free (&b);

  /* The build arg BUILDKIT_DOCKERFILE_CHECK replaces the directive. */
  char *args[] = { "BUILDKIT_DOCKERFILE_CHECK=skip=JSONArgsRecommended", NULL };
  struct dockerfile_lint_opts o = { .all_stages = true, .build_args = args };
  cleanup_free char *over = lint_with ("# check=skip=all\nFROM alpine\nCMD x\nMAINTAINER m\n", &o);
  assert_string_equal (over, "4:MaintainerDeprecated");
}

static void
test_lint_target_stages (void **state)
{
  const char *text = "FROM alpine AS unused\nCMD x\n"
                     "FROM alpine AS used\nWORKDIR rel\n"
                     "FROM used\nCMD [\"ok\"]\n";
  /* A build checks only the stages its target needs (parse-level rules: all). */
  struct dockerfile_lint_opts build = { .all_stages = false, .base_env = test_base_env };
  cleanup_free char *a = lint_with (text, &build);
  assert_string_equal (a, "4:WorkdirRelativePath");
  build.target = "unused";
  cleanup_free char *b = lint_with (text, &build);
  assert_string_equal (b, "2:JSONArgsRecommended");
  cleanup_free char *all = lint (text);
  assert_string_equal (all, "2:JSONArgsRecommended 4:WorkdirRelativePath");
}

/* Every real-world Dockerfile: the lint never fails on a file the parser accepts, and
   warnings are well formed.  Prints the rule counts. */
static void
test_lint_real_world (void **state)
{
  const char *dir = "tests/data/conformance/real-world-dockerfiles/cases";
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;
  size_t files = 0, warnings = 0;
  char **rules = NULL;
  size_t counts[64] = { 0 };
  if (d == NULL)
    fail_msg ("missing %s (run from the repository root: make unit)", dir);
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.')
        continue;
      cleanup_free char *path = xasprintf ("%s/%s/Dockerfile", dir, de->d_name);
      cleanup_free char *buf = NULL;
      cleanup_dockerfile struct dockerfile *df = NULL;
      cleanup_dockerfile_lint_result struct dockerfile_lint_result *res = NULL;
      cleanup_error nook_error_t err = NULL;
      size_t len = 0;
      if (fs_read_file_at (AT_FDCWD, path, DOCKERFILE_MAX_SIZE, &buf, &len, &err) < 0)
        fail_msg ("%s: %s", path, err->msg);
      if (dockerfile_parse (buf, len, path, &df, &err) < 0)
        continue; /* the 7 files BuildKit rejects */
      struct dockerfile_lint_opts o = { .all_stages = true, .base_env = test_base_env };
      if (dockerfile_lint (df, &o, &res, &err) < 0)
        {
          /* Only a bad check= directive may fail. */
          assert_non_null (df->check);
          continue;
        }
      files++;
      for (size_t i = 0; i < res->n; i++)
        {
          const struct dockerfile_lint_warning *w = &res->warnings[i];
          assert_non_null (w->message);
          assert_true (w->line >= 1 && w->line <= df->end_line);
          assert_true (i == 0 || res->warnings[i - 1].line <= w->line);
          size_t k = 0;
          while (rules && rules[k] && strcmp (rules[k], w->rule) != 0)
            k++;
          if (rules == NULL || rules[k] == NULL)
            strv_push (&rules, w->rule);
          if (k < 64)
            counts[k]++;
          warnings++;
        }
    }
  assert_true (files >= 170);
  printf ("lint: %zu real-world Dockerfiles, %zu warnings:", files, warnings);
  for (size_t k = 0; rules && rules[k]; k++)
    printf (" %s=%zu", rules[k], counts[k]);
  printf ("\n");
  strv_free (rules);
}

/* Files where BuildKit's answer can be reasoned out from its rules: the same here. */
static char *
lint_case (const char *name, const char *rule)
{
  cleanup_free char *path
      = xasprintf ("tests/data/conformance/real-world-dockerfiles/cases/%s/Dockerfile", name);
  cleanup_free char *buf = NULL;
  cleanup_dockerfile struct dockerfile *df = NULL;
  cleanup_dockerfile_lint_result struct dockerfile_lint_result *res = NULL;
  cleanup_error nook_error_t err = NULL;
  struct strbuf b = { 0 };
  size_t len = 0;
  if (fs_read_file_at (AT_FDCWD, path, DOCKERFILE_MAX_SIZE, &buf, &len, &err) < 0
      || dockerfile_parse (buf, len, path, &df, &err) < 0
      || dockerfile_lint (df, NULL, &res, &err) < 0)
    fail_msg ("%s: %s", path, err->msg);
  for (size_t i = 0; i < res->n; i++)
    if (strcmp (res->warnings[i].rule, rule) == 0)
      strbuf_appendf (&b, "%s%d", b.len ? " " : "", res->warnings[i].line);
  return b.buf ? strbuf_steal (&b) : xstrdup ("");
}

static void
test_lint_real_world_cases (void **state)
{
  /* FROM ${SECONDBASE:-...} and ${BUSYBOX:-...} with no such meta ARG. */
  cleanup_free char *a = lint_case ("160-buildah-builtins", "UndefinedArgInFrom");
  assert_string_equal (a, "9 21");
  /* Constant --platform in stages not named after it. */
  cleanup_free char *b = lint_case ("135-ollama", "FromPlatformFlagConstDisallowed");
  assert_string_equal (b, "156 176");
  /* The same rules skipped by the file's own check= directive. */
  cleanup_free char *c = lint_case ("121-vaultwarden-alpine", "FromPlatformFlagConstDisallowed");
  assert_string_equal (c, "");
  /* Five CMDs in one stage: the first four are ignored. */
  cleanup_free char *d = lint_case ("112-buildah-edgecases", "MultipleInstructionsDisallowed");
  assert_string_equal (d, "29 30 31 32");
  /* Python's official image: ENV GPG_KEY (a known BuildKit warning on it). */
  cleanup_free char *e = lint_case ("002-python-3.13-alpine3.23", "SecretsUsedInArgOrEnv");
  assert_string_equal (e, "19");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_lint_clean),
    cmocka_unit_test (test_lint_json_args),
    cmocka_unit_test (test_lint_from_as_casing),
    cmocka_unit_test (test_lint_stage_name_casing),
    cmocka_unit_test (test_lint_reserved_and_duplicate),
    cmocka_unit_test (test_lint_casing),
    cmocka_unit_test (test_lint_maintainer),
    cmocka_unit_test (test_lint_empty_continuation),
    cmocka_unit_test (test_lint_multiple_instructions),
    cmocka_unit_test (test_lint_legacy_key_value),
    cmocka_unit_test (test_lint_workdir_relative),
    cmocka_unit_test (test_lint_secrets),
    cmocka_unit_test (test_lint_undefined_var),
    cmocka_unit_test (test_lint_undefined_arg_in_from),
    cmocka_unit_test (test_lint_invalid_default_arg_in_from),
    cmocka_unit_test (test_lint_platform),
    cmocka_unit_test (test_lint_expose),
    cmocka_unit_test (test_lint_copy_ignored),
    cmocka_unit_test (test_lint_check_directive),
    cmocka_unit_test (test_lint_target_stages),
    cmocka_unit_test (test_lint_real_world),
    cmocka_unit_test (test_lint_real_world_cases),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
