#!/usr/bin/env bash
# t-build-flags.sh: build flags and variables of issue 17 not tested elsewhere: --pull
# takes a newer base from a registry (docker-registry on 127.0.0.1) where a build without
# it keeps the local one; --cache-to is refused clearly; BUILDKIT_PROGRESS picks the output
# form; DOCKER_BUILDKIT=0 is ignored (BuildKit's semantics: an unneeded stage never runs).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"

# ---- DOCKER_BUILDKIT=0, BUILDKIT_PROGRESS ----
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox AS broken
RUN exit 7
FROM busybox
RUN echo built >/b
DF
DOCKER_BUILDKIT=0 nrun build -q -t dk0 "$ctx"
check_eq "DOCKER_BUILDKIT=0: ignored, the unneeded failing stage never runs" 0 "$RC"
BUILDKIT_PROGRESS='tty' nrun build --no-cache -t dk0 "$ctx"
check_match "BUILDKIT_PROGRESS=tty: the compact view" " => \[stage-1 2/2\] RUN echo built >/b +[0-9.]+s" "$ERR"
check_no_match "BUILDKIT_PROGRESS=tty: no plain '#N' lines" "(^|$NL)#[0-9]+ " "$ERR"
BUILDKIT_PROGRESS=plain nrun build --no-cache -t dk0 "$ctx"
check_match "BUILDKIT_PROGRESS=plain: the plain form" "#[0-9]+ \[stage-1 2/2\] RUN echo built" "$ERR"
BUILDKIT_PROGRESS=quiet nrun build -t dk0 "$ctx"
check_eq "BUILDKIT_PROGRESS=quiet: nothing on stderr" "" "$ERR"
BUILDKIT_PROGRESS='tty' nrun build --progress=plain --no-cache -t dk0 "$ctx"
check_match "--progress wins over BUILDKIT_PROGRESS" "#[0-9]+ \[stage-1 2/2\] RUN echo built" "$ERR"

# ---- --cache-to ----
nrun build -q --cache-to type=registry,ref=x "$ctx"
check_eq "--cache-to: refused" 1 "$RC"
check_match "--cache-to: says why" "cache-to" "$ERR"

# ---- --pull ----
for t in docker-registry python3; do
  command -v "$t" >/dev/null 2>&1 || { diag "no $t: --pull not tested"; done_testing; }
done
# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
start_registry plain || done_testing
R=127.0.0.1:$REG_PORT
export REGISTRY_AUTH_FILE=$T_SCRATCH/auth.json
printf 'FROM busybox\nRUN echo %s >/marker\n' one >"$ctx/Dockerfile"
nrun build -q -t m1 "$ctx"
printf 'FROM busybox\nRUN echo %s >/marker\n' two >"$ctx/Dockerfile"
nrun build -q -t m2 "$ctx"
nrun push m1 "$R/lab/base:1"
check_eq "push of the first base" 0 "$RC"
nrun push m2 "$R/lab/base:1"
check_eq "the registry's tag moves to the second base" 0 "$RC"
# the local tag names the first one (whatever push did to local tags)
nrun tag m1 "$R/lab/base:1"
printf 'FROM %s/lab/base:1\nRUN cat /marker >/seen\n' "$R" >"$ctx/Dockerfile"
nrun build -q --no-cache -t usesbase "$ctx"
check_eq "a build on the local tag" 0 "$RC"
nrun run --rm usesbase cat /seen
check_eq "without --pull: the local base" one "$OUT"
nrun build -q --pull -t usesbase "$ctx"
check_eq "--pull succeeds" 0 "$RC"
nrun run --rm usesbase cat /seen
check_eq "--pull: the registry's newer base" two "$OUT"
done_testing
