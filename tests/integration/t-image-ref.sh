#!/usr/bin/env bash
# t-image-ref.sh: a tag can never shadow an image ID.  `sha256` and 64-hex repository
# names are refused as Docker refuses them; references resolve in Docker's order: a full
# ID, then name[:tag], then a unique ID prefix.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
export NOOK_RUN_TIMEOUT=30

id=$("$NOOK" images -q --no-trunc busybox)
hex=${id#sha256:}
if [ ${#hex} != 64 ]; then
  fail "busybox's image ID" "got: '$id'"
  done_testing
fi

# A rootfs that says who it is: /etc/marker.
root=$T_SCRATCH/rootfs
mkdir -p "$root/bin" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
ln -s busybox "$root/bin/cat"
echo imported >"$root/etc/marker"
tar -C "$root" -cf "$T_SCRATCH/x.tar" .

nrun import "$T_SCRATCH/x.tar" "sha256:$hex"
check_fail "import as sha256:<busybox's ID> is refused" test "$RC" = 0
check_match "with Docker's message" 'refusing to create an ambiguous tag using digest algorithm as name' "$ERR"
nrun import "$T_SCRATCH/x.tar" "$hex"
check_fail "import as <64 hex> is refused" test "$RC" = 0
check_match "with Docker's message" "invalid repository name \\($hex\\), cannot specify 64-byte hexadecimal strings" "$ERR"
nrun import "$T_SCRATCH/x.tar" "$hex:v1"
check_fail "import as <64 hex>:v1 is refused" test "$RC" = 0
check_match "the message names the repository" "repository name \\(library/$hex\\) must not be a 64-byte hex string" "$ERR"
nrun images -q
check_eq "nothing was imported by the refused names" "${hex:0:12}" "$OUT"

# The ID still names busybox, in both spellings.
for ref in "sha256:$hex" "$hex"; do
  nrun run --rm "$ref" sh -c 'cat /etc/marker 2>/dev/null || echo busybox'
  check_eq "run ${ref:0:19}... runs busybox" busybox "$OUT"
done

# A 64-hex tag is a tag.
check_status "import as myimg:<64 hex> is accepted" 0 import "$T_SCRATCH/x.tar" "myimg:$hex"
nrun run --rm "myimg:$hex" cat /etc/marker
check_eq "run myimg:<64 hex>" imported "$OUT"

# A name that looks like an ID prefix is a name first (Docker's order), the prefix second.
short=${hex:0:12}
check_status "import as <12 hex of busybox's ID>" 0 import "$T_SCRATCH/x.tar" "$short"
nrun run --rm "$short" cat /etc/marker
check_eq "a name shaped like an ID prefix names its image" imported "$OUT"
nrun run --rm "sha256:${hex:0:12}" sh -c 'cat /etc/marker 2>/dev/null || echo busybox'
check_eq "sha256:<prefix> is an ID prefix" busybox "$OUT"

done_testing
