#!/usr/bin/env bash
# t-pull-layers.sh: what a pull leaves in the store: layers unpacked side by side with their
# diff IDs checked in the same pass (a forged one refused, nothing half-unpacked left),
# Docker's uncompressed SIZE and RepoDigests for a pulled image.  Images are pushed to a
# loopback docker-registry by registry_helper.py push-image (Docker schema 2, no annotations).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup plain

USIZE=$(helper push-image "$REG_PORT" lab/plain 1 0)
check "an image is pushed by the helper" test -n "$USIZE"
helper push-image "$REG_PORT" lab/forged 1 1 >/dev/null
check "a forged image is pushed by the helper" test $? -eq 0

# ---- sizes and digests ----
in_store a nrun pull "$R/lab/plain:1"
check_eq "pull exits 0" 0 "$RC"
DIGEST=$(sed -n 's/^Digest: //p' <<<"$OUT")
check_match "pull prints the digest" '^sha256:[0-9a-f]{64}$' "$DIGEST"
in_store a nrun images --format '{{.Size}}' "$R/lab/plain:1"
# Docker's units.HumanSize: 3 significant digits, decimal
WANT=$(python3 -c "
import sys
v, u = float(sys.argv[1]), ['B', 'kB', 'MB', 'GB']
i = 0
while v >= 1000 and i < 3: v /= 1000; i += 1
print('%.3g%s' % (v, u[i]))" "$USIZE")
check_eq "images shows the uncompressed size of a pulled image (as Docker)" "$WANT" "$OUT"
in_store a nrun images --digests --format '{{.Digest}}' "$R/lab/plain:1"
check_eq "images --digests shows the digest the registry gave" "$DIGEST" "$OUT"
in_store a nrun images --digests "$R/lab/plain:1"
check_match "... in the DIGEST column of the table" "lab/plain +1 +$DIGEST" "$OUT"
in_store a nrun inspect --format '{{json .RepoDigests}}' "$R/lab/plain:1"
check_eq "inspect lists RepoDigests" "[\"$R/lab/plain@$DIGEST\"]" "$OUT"
in_store a nrun system df
check_match "system df's Images SIZE is Docker's (uncompressed)" "Images +1 +0 +$WANT " "$OUT"
in_store a nrun tag "$R/lab/plain:1" mylab/copy:2
in_store a nrun inspect --format '{{json .RepoDigests}}' mylab/copy:2
check_eq "a new tag in another repository adds no digest" "[\"$R/lab/plain@$DIGEST\"]" "$OUT"
in_store a nrun images --digests --format '{{.Digest}}' mylab/copy:2
check_eq "... and its row shows none" "<none>" "$OUT"

# ---- the layers ----
in_store a nrun run --rm -v "$(command -v busybox)":/busybox:ro "$R/lab/plain:1" /busybox cat /etc/hello
check_eq "the pulled layer is unpacked whole" 5000 "$(grep -c '^hello$' <<<"$OUT")"
check_eq "no unpack directory is left behind" "" \
  "$(find "$T_SCRATCH/store-a/layers" -maxdepth 1 -name '.tmp-*')"
in_store a nrun system check
check_eq "system check finds no problem after the pull" 0 "$RC"

# ---- a pull killed while it unpacks ----
if has_hooked; then
  hooks=$T_SCRATCH/hooks
  mkdir -p "$hooks"
  mkfifo "$hooks/layer-unpacked.reached" "$hooks/layer-unpacked.go"
  NOOK_ROOT=$T_SCRATCH/store-c NOOK_TEST_HOOK_DIR=$hooks \
    "$NOOK_HOOKED" pull "$R/lab/plain:1" >/dev/null 2>&1 </dev/null &
  ppid=$!
  SERVER_PIDS+=("$ppid")
  timeout 30 cat "$hooks/layer-unpacked.reached" >/dev/null
  check_eq "the pull stops with its layer unpacked, not yet renamed in (test hook)" 0 "$?"
  check_eq "... its unpack directory is there" 1 \
    "$(find "$T_SCRATCH/store-c/layers" -maxdepth 1 -name '.tmp-*' | wc -l)"
  in_store c nrun system check
  check_no_match "system check leaves an unpack that is running alone" "tmp-" "$OUT"
  kill -9 "$ppid" 2>/dev/null
  wait "$ppid" 2>/dev/null
  in_store c nrun system check
  check_match "once its pull is killed, system check names it" "layers/.tmp-[0-9a-f]{64}-[0-9]+-[0-9]+: an interrupted unpack" "$OUT"
  in_store c nrun pull "$R/lab/plain:1"
  check_eq "the pull run again completes" 0 "$RC"
  check_eq "... and sweeps the interrupted unpack" "" \
    "$(find "$T_SCRATCH/store-c/layers" -maxdepth 1 -name '.tmp-*')"
  in_store c nrun system check
  check_eq "... system check finds nothing wrong" 0 "$RC"
  check_no_match "... nor anything left" "tmp-" "$OUT"
fi

in_store b nrun pull "$R/lab/forged:1"
check_eq "pull of a layer whose content is not its diff ID exits 1" 1 "$RC"
check_match "... naming the layer and both digests" \
  "layer sha256:[0-9a-f]{64}: its content has digest sha256:[0-9a-f]{64}, the image config says" \
  "$ERR"
in_store b nrun images -q
check_eq "... and adds no image" "" "$OUT"
check_eq "... and leaves no layer directory" "" \
  "$(find "$T_SCRATCH/store-b/layers" -mindepth 1 -maxdepth 1)"
in_store b nrun system check
check_eq "... and system check finds no problem" 0 "$RC"

done_testing
