#!/usr/bin/env bash
# t-build-prune-mounts.sh: `builder prune` (issue 17) empties the RUN --mount=type=cache
# directories, cache/build-mounts/, files owned by other ids (subordinate ones for a user
# with a range) included; `system df` counts them; a later build starts with an empty cache.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
ARG N=1
RUN --mount=type=cache,target=/c,id=pm sh -c 'mkdir -p /c/d && echo $N >/c/d/f && chown -R 1000:1000 /c/d && chmod 700 /c/d && ls /c/d >/seen'
DF
nrun build -q -t pm "$ctx"
check_eq "a build with a cache mount succeeds" 0 "$RC"
mounts=$NOOK_ROOT/cache/build-mounts
check_match "the cache mount is kept in the store" "[0-9a-f]{64}" "$(ls "$mounts" 2>&1)"
nrun system df
check_match "system df: the Build Cache counts it" "(^|$NL)Build Cache +[1-9][0-9]* " "$OUT"

nrun builder prune -f --filter until=24h
check_eq "builder prune --filter until=24h succeeds" 0 "$RC"
check_match "a cache mount used now is kept" "[0-9a-f]{64}" "$(ls "$mounts" 2>&1)"

nrun builder prune -af
check_eq "builder prune -af succeeds" 0 "$RC"
check_eq "cache/build-mounts is empty" "" "$(ls -A "$mounts" 2>&1)"
nrun system df
check_match "system df: the Build Cache is empty" "(^|$NL)Build Cache +0 +0 +0B " "$OUT"

cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
RUN --mount=type=cache,target=/c,id=pm sh -c 'ls -A /c >/seen'
DF
nrun build -q -t pm2 "$ctx"
check_eq "a build after the prune succeeds" 0 "$RC"
nrun run --rm pm2 cat /seen
check_eq "and sees an empty cache mount" "" "$OUT"
done_testing
