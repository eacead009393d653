#!/usr/bin/env bash
# t-build-lint.sh: BuildKit's build checks during `nook build`: "#1 WARN: Rule: message
# (line N)" and the summary after the build; `# check=error=true` fails the build
# before any step; `# check=skip=...`; `build --check` runs only the checks.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

c=$T_SCRATCH/lint
mkdir -p "$c"
cat >"$c/Dockerfile" <<'EOF2'
FROM busybox as base
MAINTAINER someone
RUN echo step-ran
CMD echo hi
EOF2
nrun build --progress=plain -t linted "$c"
check_eq "warnings do not fail the build" 0 "$RC"
check_match "each warning in BuildKit's form" \
  "#1 WARN: FromAsCasing: 'as' and 'FROM' keywords' casing do not match \\(line 1\\)" "$ERR"
check_match "MaintainerDeprecated" "#1 WARN: MaintainerDeprecated: .*\\(line 2\\)" "$ERR"
check_match "JSONArgsRecommended" "#1 WARN: JSONArgsRecommended: .*\\(line 4\\)" "$ERR"
check_match "the summary after the build" \
  "naming to docker.io/library/linted:latest done.*3 warnings found.*${NL} - FromAsCasing: .*\\(line 1\\)" "$ERR"
nrun build -q "$c"
check_no_match "-q: no warnings printed" "WARN" "$OUT$ERR"

nrun build --check "$c"
check_eq "--check with warnings: exit 1" 1 "$RC"
check_match "--check names the warnings" "Check complete, 3 warnings have been found!" "$OUT$ERR"
check_no_match "--check runs no step" "step-ran" "$OUT$ERR"

printf 'FROM busybox\nCMD ["true"]\n' >"$c/Dockerfile"
nrun build --check "$c"
check_eq "--check without warnings: exit 0" 0 "$RC"
check_match "says so" "Check complete, no warnings found." "$ERR"

cat >"$c/Dockerfile" <<'EOF2'
# check=error=true
FROM busybox as base
RUN echo step-ran
EOF2
nrun build --progress=plain -t shouldnot "$c"
check_eq "check=error=true with a warning: the build fails" 1 "$RC"
check_match "naming the rule" "lint violation found for rules: FromAsCasing" "$ERR"
check_no_match "before any step" "step-ran" "$ERR"
nrun image inspect shouldnot
check_eq "nothing tagged" 1 "$([ "$RC" != 0 ] && echo 1)"

cat >"$c/Dockerfile" <<'EOF2'
# check=skip=FromAsCasing;error=true
FROM busybox as base
RUN echo step-ran
EOF2
nrun build --progress=plain "$c"
check_eq "check=skip= skips the rule" 0 "$RC"
check_no_match "no warning left" "WARN" "$ERR"

cat >"$c/Dockerfile" <<'EOF2'
# check=bogus=1
FROM busybox
EOF2
nrun build "$c"
check_eq "a bad check= directive: exit 1" 1 "$RC"

done_testing
