#!/usr/bin/env bash
# t-dockerfile-check2.sh: the rest of issue 17's named build checks through `nook dockerfile
# check` and during `build`: duplicate stage names, a relative WORKDIR, an undefined
# variable, an undefined ARG in FROM (FILE:LINE: Rule: message).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<'DF'
FROM scratch AS one
FROM scratch AS one
WORKDIR rel
ENV A=$NOPE
FROM ${UNDECLARED:-scratch} AS two
DF
nrun dockerfile check "$ctx"
check_eq "warnings: exit 1" 1 "$RC"
check_match "duplicate stage names" "Dockerfile:2: DuplicateStageName: " "$OUT"
check_match "a relative WORKDIR" "Dockerfile:3: WorkdirRelativePath: " "$OUT"
check_match "an undefined variable" "Dockerfile:4: UndefinedVar: Usage of undefined variable '\\\$NOPE'" "$OUT"
check_match "an undefined ARG in FROM" "Dockerfile:5: UndefinedArgInFrom: " "$OUT"
done_testing
