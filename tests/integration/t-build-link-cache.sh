#!/usr/bin/env bash
# t-build-link-cache.sh: `COPY --link` (issue 17) is cached apart from its parent, as
# BuildKit's: when an earlier step changes, the linked layer is reused (CACHED, the same
# blob) on the new parent, where a plain COPY runs again; the files seen are right; the
# linked layer is made on scratch (a parent directory the stage has with another mode is
# 0755 in it, BuildKit's documented caveat).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx/src/sub"
echo a >"$ctx/src/a"
echo b >"$ctx/src/sub/b"
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
ARG V=1
RUN head -c 16 /dev/urandom | od -An -tx1 >/random; echo "$V" >/v; mkdir -m 0700 /private
COPY --link src /dst/
COPY --link src/a /private/a
COPY src /plain/
DF
nrun build --progress=plain -t lc "$ctx"
check_eq "the first build succeeds" 0 "$RC"
layers() {
  nrun image inspect "$1"
  python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)[0]["RootFS"]["Layers"]))' <<<"$OUT"
}
read -r -a l1 <<<"$(layers lc)"
nrun run --rm lc cat /random
r1=$OUT

nrun build --progress=plain --build-arg V=2 -t lc "$ctx"
check_eq "a build with the RUN's arg changed succeeds" 0 "$RC"
steps=$ERR
check_no_match "the RUN runs again" "#[0-9]+ \[2/5\] RUN [^$NL]*${NL}#[0-9]+ CACHED" "$steps"
check_match "the first COPY --link is CACHED on the new parent" \
  "#[0-9]+ \[3/5\] COPY --link src /dst/${NL}#[0-9]+ CACHED" "$steps"
check_match "the second COPY --link is CACHED too" \
  "#[0-9]+ \[4/5\] COPY --link src/a /private/a${NL}#[0-9]+ CACHED" "$steps"
check_no_match "the plain COPY is not (its parent changed)" \
  "#[0-9]+ \[5/5\] COPY src /plain/${NL}#[0-9]+ CACHED" "$steps"
read -r -a l2 <<<"$(layers lc)"
n=${#l2[@]}
check_eq "the same number of layers" "${#l1[@]}" "$n"
check "the RUN's layer changed" test "${l1[n - 4]}" != "${l2[n - 4]}"
check_eq "the linked layers are the same" "${l1[n - 3]} ${l1[n - 2]}" "${l2[n - 3]} ${l2[n - 2]}"
nrun run --rm lc sh -c 'cat /v /dst/a /dst/sub/b /plain/a /private/a; stat -c %a /private'
check_eq "the files seen on the new parent" "2${NL}a${NL}b${NL}a${NL}a${NL}755" "$OUT"
nrun run --rm lc cat /random
check "the RUN really ran again (a fresh random value)" test "$OUT" != "$r1"

nrun build --progress=plain --explain-cache --build-arg V=3 -t lc3 "$ctx"
check_match "--explain-cache: the linked step hits on its new parent" \
  "#[0-9]+ \[3/5\] COPY --link src /dst/${NL}#[0-9]+ cache hit \(COPY --link" "$ERR"

nrun build --progress=plain --no-cache --build-arg V=2 -t lc2 "$ctx"
check_no_match "--no-cache: the linked steps run" "COPY --link src /dst/${NL}#[0-9]+ CACHED" "$ERR"
done_testing
