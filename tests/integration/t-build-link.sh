#!/usr/bin/env bash
# t-build-link.sh: `COPY --link` (issue 17) gives the same files as COPY: the same layers
# (diff IDs) for a directory and for a file with --chmod, the files seen inside; the
# history says --link as written.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx/src/sub"
echo a >"$ctx/src/a"
echo b >"$ctx/src/sub/b"
echo s >"$ctx/script"
for link in "" "--link "; do
  printf 'FROM busybox\nCOPY %ssrc /dst/\nCOPY %s--chmod=0750 script /usr/local/bin/\n' \
    "$link" "$link" >"$ctx/Dockerfile"
  tag=plain
  [ -n "$link" ] && tag=linked
  nrun build -q -t "$tag" "$ctx"
  check_eq "COPY ${link}builds" 0 "$RC"
done
layers() {
  nrun image inspect "$1"
  python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)[0]["RootFS"]["Layers"][-2:]))' <<<"$OUT"
}
lp=$(layers plain)
ll=$(layers linked)
check_match "the layers have diff IDs" '^sha256:[0-9a-f]{64} sha256:[0-9a-f]{64}$' "$lp"
check_eq "COPY --link: the same two layers as COPY" "$lp" "$ll"
nrun run --rm linked sh -c 'cat /dst/a /dst/sub/b; stat -c "%a %u:%g" /usr/local/bin/script'
check_eq "the files inside" "a${NL}b${NL}750 0:0" "$OUT"
nrun history --no-trunc linked
check_match "history says COPY --link" "COPY --link src /dst/" "$OUT"
done_testing
