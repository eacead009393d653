#!/usr/bin/env bash
# t-dockerfile-check.sh: `nook dockerfile check` (issue 17, Lint): BuildKit's build
# checks, FILE:LINE: Rule: message, exit 0 without warnings and 1 with them (as
# `docker build --check`), the check= directive, .dockerignore, clear errors.
# No container runs: the same for both kinds of user.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
printf 'FROM scratch\nCOPY app /app\nCMD ["/app"]\n' >"$ctx/Dockerfile"
echo x >"$ctx/app"
nrun dockerfile check "$ctx"
check_eq "a clean Dockerfile: exit 0" 0 "$RC"
check_eq "a clean Dockerfile: nothing on stdout" "" "$OUT"
check_match "a clean Dockerfile: the summary says so" "no warnings found" "$ERR"

printf 'FROM scratch as Build\nMAINTAINER me\nCMD /app\n' >"$ctx/Dockerfile.warn"
nrun dockerfile check -f "$ctx/Dockerfile.warn" "$ctx"
check_eq "warnings: exit 1" 1 "$RC"
check_match "FROM as casing, file and line" "Dockerfile.warn:1: FromAsCasing: 'as' and 'FROM' keywords' casing do not match" "$OUT"
check_match "stage name casing" ":1: StageNameCasing: Stage name 'Build' should be lowercase" "$OUT"
check_match "MAINTAINER" ":2: MaintainerDeprecated: " "$OUT"
check_match "JSON args for CMD" ":3: JSONArgsRecommended: JSON arguments recommended for CMD" "$OUT"
check_match "each warning has its rule's description" "    Stage names should be lowercase" "$OUT"
check_match "the summary counts them" "4 warnings have been found" "$ERR"

# A Dockerfile given as PATH, and standard input.
nrun dockerfile check "$ctx/Dockerfile.warn"
check_eq "a Dockerfile as PATH: exit 1" 1 "$RC"
out=$("$NOOK" dockerfile check -f - "$ctx" <"$ctx/Dockerfile.warn" 2>/dev/null)
check_match "-f - reads standard input" "^Dockerfile:1: " "$out"

# check=skip and check=error.
printf '# check=skip=all\nFROM scratch as Build\n' >"$ctx/Dockerfile.skip"
nrun dockerfile check -f "$ctx/Dockerfile.skip" "$ctx"
check_eq "check=skip=all: exit 0" 0 "$RC"
printf '# check=skip=JSONArgsRecommended;error=true\nFROM scratch\nCMD /x\nENV A 1\n' >"$ctx/Dockerfile.err"
nrun dockerfile check -f "$ctx/Dockerfile.err" "$ctx"
check_eq "check=error=true with a warning: exit 1" 1 "$RC"
check_match "the other rules are" ":4: LegacyKeyValueFormat: " "$OUT"
check_fail "the skipped rule is not reported" grep -q JSONArgsRecommended <<<"$OUT"
check_match "error=true names the rules" "lint violation found for rules: LegacyKeyValueFormat" "$ERR"
printf '# check=skip\nFROM scratch\n' >"$ctx/Dockerfile.baddir"
nrun dockerfile check -f "$ctx/Dockerfile.baddir" "$ctx"
check_eq "a bad check= directive fails" 1 "$RC"
check_match "and says why" 'invalid check option "skip"' "$ERR"

# .dockerignore: CopyIgnoredFile; NAME.dockerignore beside the Dockerfile wins.
printf 'FROM scratch\nCOPY secret.txt /s\n' >"$ctx/Dockerfile.ign"
echo secret.txt >"$ctx/.dockerignore"
nrun dockerfile check -f "$ctx/Dockerfile.ign" "$ctx"
check_match "COPY of an ignored file" ':2: CopyIgnoredFile: Attempting to Copy file "secret.txt" that is excluded by .dockerignore' "$OUT"
echo other >"$ctx/Dockerfile.ign.dockerignore"
nrun dockerfile check -f "$ctx/Dockerfile.ign" "$ctx"
check_eq "Dockerfile.ign.dockerignore replaces .dockerignore" 0 "$RC"

# UndefinedVar uses the base image's environment from the local store.
setup_image
printf 'FROM busybox\nENV P=$PATH\nCOPY $SRC /x\n' >"$ctx/Dockerfile.var"
nrun dockerfile check -f "$ctx/Dockerfile.var" "$ctx"
check_match "an undefined variable" ":3: UndefinedVar: Usage of undefined variable '\\\$SRC'" "$OUT"
check_fail "PATH from the image is defined" grep -q "PATH" <<<"$OUT"
printf 'FROM not-in-store-zz9\nCOPY $SRC /x\n' >"$ctx/Dockerfile.unknown"
nrun dockerfile check -f "$ctx/Dockerfile.unknown" "$ctx"
check_eq "a base image not in the store: no UndefinedVar" 0 "$RC"
check_match "and a note says it was not checked" "not-in-store-zz9 is not in the local store" "$ERR"

# Clear errors.
nrun dockerfile check "$T_SCRATCH/no-such-dir"
check_eq "a missing context: exit 1" 1 "$RC"
check_match "names it" 'path ".*no-such-dir" not found' "$ERR"
nrun dockerfile check -f "$ctx/no-such-file" "$ctx"
check_eq "a missing Dockerfile: an error" 1 "$RC"
check_match "names it" "no-such-file" "$ERR"
printf '# only a comment\n' >"$ctx/Dockerfile.bad"
nrun dockerfile check -f "$ctx/Dockerfile.bad" "$ctx"
check_eq "an invalid Dockerfile: exit 1" 1 "$RC"
check_match "says where" "Dockerfile.bad" "$ERR"
nrun dockerfile check "$ctx" "$ctx"
check_match "two PATHs: a usage error" "at most 1 argument" "$ERR"

done_testing
